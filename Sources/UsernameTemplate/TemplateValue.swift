/// The values a username template computes with: Go's string, int and bool, plus the data struct itself.
enum TemplateValue: Equatable, Sendable {
    case string(String)
    case int(Int)
    case bool(Bool)
    /// `.`: Vault's `dbplugin.UsernameMetadata`.
    case metadata(displayName: String, roleName: String)
    case null

    /// The Go type name used in error messages and `%!verb(type=value)` output.
    var goTypeName: String {
        switch self {
        case .string: return "string"
        case .int: return "int"
        case .bool: return "bool"
        case .metadata: return "dbplugin.UsernameMetadata"
        case .null: return "<nil>"
        }
    }

    /// How a template action prints the value (`fmt.Fprint`).
    var printed: String {
        switch self {
        case .string(let value): return value
        case .int(let value): return String(value)
        case .bool(let value): return value ? "true" : "false"
        case .metadata(let displayName, let roleName): return "{\(displayName) \(roleName)}"
        case .null: return "<no value>"
        }
    }
}
