import DBPlugin
import Engine

/// Values as Vault's table and `-field` print them: Go's `%v` of the decoded JSON.
enum GoValueText {
    static func render(_ value: JSONValue) -> String {
        switch value {
        case .null: return "<nil>"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double: return value.textValue ?? ""
        case .string(let s): return s
        case .array(let items): return "[" + items.map(render).joined(separator: " ") + "]"
        case .object(let o): return "map[" + o.keys.sorted().map { "\($0):\(render(o[$0]!))" }.joined(separator: " ") + "]"
        }
    }

    /// Vault humanizes integer values of these keys in tables (`3600` → `1h`).
    static func isDurationKey(_ key: String) -> Bool {
        ["period", "ttl", "duration", "lease_max", "ttl_max"].contains(key)
            || key.hasSuffix("_period") || key.hasSuffix("_ttl") || key.hasSuffix("_duration")
    }

    static func tableCell(key: String, _ value: JSONValue) -> String {
        if isDurationKey(key), case .int(let seconds) = value { return DurationField.human(seconds) }
        return render(value)
    }
}
