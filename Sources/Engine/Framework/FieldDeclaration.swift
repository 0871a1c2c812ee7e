import Basics
import DBPlugin

/// One field of a path, as Vault's `framework.FieldSchema`: its type decides how a request's
/// value is parsed and which error a wrong one gets; the rest is documentation and completion.
public struct FieldDeclaration: Sendable {
    public let name: String
    public let type: FieldType
    /// What a create applies when the field is absent, as `path-help` and the man page tell it;
    /// nil when there is none worth stating.
    public let defaultValue: JSONValue?
    public let description: String
    /// Never returned by a read, never shown in an error.
    public let isSecret: Bool
    /// What completion offers after `name=`.
    public let suggestions: FieldSuggestions

    public init(_ name: String, _ type: FieldType, default defaultValue: JSONValue? = nil, _ description: String,
                secret: Bool = false, suggestions: FieldSuggestions = .none) {
        self.name = name
        self.type = type
        self.defaultValue = defaultValue
        self.description = description
        self.isSecret = secret
        self.suggestions = type == .bool && suggestions == .none ? .choices(["true", "false"]) : suggestions
    }
}

extension FieldDeclaration {
    /// The description with what the declaration adds to it, as `path-help` and the man page print
    /// it: the default, and that the value is secret.
    public var helpText: String {
        var text = description.trimmingWhitespaceAndNewlines()
        if let value = defaultValue { text += " Default: \(Self.text(of: value))." }
        if isSecret { text += " Never returned by a read." }
        return text
    }

    private static func text(of value: JSONValue) -> String {
        switch value {
        case .string(let s): return s.isEmpty ? "\"\"" : s
        case .array(let items): return "[" + items.compactMap(\.textValue).joined(separator: ", ") + "]"
        default: return value.textValue ?? "\(value)"
        }
    }
}

/// Values completion offers for a field.
public enum FieldSuggestions: Sendable, Equatable {
    case none
    /// Names of objects of a kind found in the state directory.
    case objects(ObjectKind)
    /// The `plugin_name`s of the plugin catalog.
    case pluginNames
    case choices([String])
}

/// Vault's field types (`sdk/framework/field_type.go`), with its parsing rules and error texts.
public enum FieldType: Sendable, Equatable {
    /// `TypeString`: text, or a number or bool written as text.
    case string
    /// `TypeInt`: a number or a numeric string.
    case int
    /// `TypeBool`, weakly parsed: `"false"`, `0`, `"t"`.
    case bool
    /// `TypeDurationSecond`: seconds, `Nd`, or a Go duration; whole seconds.
    case duration
    /// `TypeStringSlice`: a string is a one-element list.
    case list
    /// `TypeCommaStringSlice`: a string is split on commas.
    case commaList
    /// `TypeKVPairs`: a map of strings, or a list of `k=v`.
    case keyPairs
    /// Handed on as written, parsed by someone else (a plugin's connection parameter).
    case json

    /// The name `path-help` prints, Vault's `FieldType.String()`.
    public var vaultName: String {
        switch self {
        case .string: return "string"
        case .int: return "int"
        case .bool: return "bool"
        case .duration: return "duration (sec)"
        case .list, .commaList: return "slice"
        case .keyPairs: return "keypair"
        case .json: return "json"
        }
    }

    /// A request's value as this type, or the `EngineError` Vault's framework answers for it.
    func parse(_ value: JSONValue, field: String) throws -> ParsedField {
        switch self {
        case .string: return .string(try FieldValue.string(value, field: field))
        case .int: return .int(try FieldValue.int(value, field: field))
        case .bool: return .bool(try FieldValue.bool(value, field: field))
        case .duration: return .int(try DurationField.seconds(value, field: field))
        case .list: return .strings(try FieldValue.stringSlice(value, field: field))
        case .commaList: return .strings(try FieldValue.commaStringSlice(value, field: field))
        case .keyPairs: return .pairs(try FieldValue.keyValuePairs(value, field: field))
        case .json: return .json(value)
        }
    }
}

/// A field's value once parsed by its type.
enum ParsedField: Sendable, Equatable {
    case string(String)
    case int(Int)
    case bool(Bool)
    case strings([String])
    case pairs([String: String])
    case json(JSONValue)
}

/// A request's data checked against a declaration, Vault's `framework.FieldData`: every declared
/// field present was parsed by its type before the handler ran (`Validate`), so the handler reads
/// typed values; a getter answers nil when the request did not give the field.
public struct FieldData: Sendable {
    private let parsed: [String: ParsedField]
    /// The request's keys the declaration does not know, sorted.
    public let unknownKeys: [String]
    /// Those keys with their values, for a path that takes arbitrary input.
    public let others: [String: JSONValue]

    init(_ data: [String: JSONValue], declaration: PathDeclaration) throws {
        var parsed: [String: ParsedField] = [:]
        var others: [String: JSONValue] = [:]
        let captured = Set(declaration.pattern.compactMap(\.capturedField).map(\.name))
        for (key, value) in data {
            guard let field = declaration.dataFields.first(where: { $0.name == key }) else {
                // A captured name comes from the path; the same key in the body is dropped.
                if !captured.contains(key) { others[key] = value }
                continue
            }
            parsed[key] = try field.type.parse(value, field: key)
        }
        self.parsed = parsed
        self.others = others
        unknownKeys = declaration.takesArbitraryInput ? [] : others.keys.sorted()
    }

    public func isGiven(_ name: String) -> Bool { parsed[name] != nil }

    public func string(_ name: String) -> String? {
        if case .string(let value)? = parsed[name] { return value }
        return nil
    }

    /// An int field's value, or a duration's seconds.
    public func int(_ name: String) -> Int? {
        if case .int(let value)? = parsed[name] { return value }
        return nil
    }

    public func bool(_ name: String) -> Bool? {
        if case .bool(let value)? = parsed[name] { return value }
        return nil
    }

    public func strings(_ name: String) -> [String]? {
        if case .strings(let value)? = parsed[name] { return value }
        return nil
    }

    public func pairs(_ name: String) -> [String: String]? {
        if case .pairs(let value)? = parsed[name] { return value }
        return nil
    }

    /// A `json` field's value as the request wrote it.
    public func json(_ name: String) -> JSONValue? {
        if case .json(let value)? = parsed[name] { return value }
        return nil
    }

    /// Every `json` field given, as written (a connection's plugin parameters that are declared).
    var jsonFields: [String: JSONValue] {
        parsed.compactMapValues { if case .json(let value) = $0 { return value } else { return nil } }
    }
}
