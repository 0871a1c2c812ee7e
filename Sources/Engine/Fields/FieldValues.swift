import Basics
import DBPlugin
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Vault's field types as the framework parses them from a request body (`sdk/framework/field_data.go`).
public enum FieldValue {
    /// `TypeStringSlice`: a single string is a one-element list (no comma splitting); every element
    /// trimmed; `""` is `[]`.
    public static func stringSlice(_ value: JSONValue, field: String) throws -> [String] {
        switch value {
        case .null: return []
        case .string(let s):
            let t = s.trimmingWhitespaceAndNewlines()
            return t.isEmpty ? [] : [t]
        case .array(let items):
            return try items.map { item in
                guard let text = item.textValue else { throw typeError(field, "a list of strings") }
                return text.trimmingWhitespaceAndNewlines()
            }
        default:
            guard let text = value.textValue else { throw typeError(field, "a list of strings") }
            return [text]
        }
    }

    /// `TypeCommaStringSlice`: a string is split on commas and each part trimmed.
    public static func commaStringSlice(_ value: JSONValue, field: String) throws -> [String] {
        switch value {
        case .null: return []
        case .string(let s):
            if s.isEmpty { return [] }
            return s.split(separator: ",", omittingEmptySubsequences: false)
                .map { $0.trimmingWhitespace() }
        case .array(let items):
            return try items.flatMap { try commaStringSlice($0, field: field) }
        default:
            guard let text = value.textValue else { throw typeError(field, "a comma-separated list") }
            return [text]
        }
    }

    public static func string(_ value: JSONValue, field: String) throws -> String {
        if value == .null { return "" }
        guard let text = value.textValue else { throw typeError(field, "a string") }
        return text
    }

    /// `TypeInt`, weakly typed: a whole number, one written as text, or a bool.
    public static func int(_ value: JSONValue, field: String) throws -> Int {
        if let i = value.intValue { return i }
        throw EngineError.invalid("Field validation failed: error converting input \(value.textValue ?? "value") for field \"\(field)\": expected an integer")
    }

    public static func bool(_ value: JSONValue, field: String) throws -> Bool {
        guard let b = value.boolValue else {
            throw EngineError.invalid("Field validation failed: error converting input \(value.textValue ?? "value") for field \"\(field)\": expected a boolean")
        }
        return b
    }

    /// `TypeKVPairs`: an object of strings, or a list of `k=v`.
    public static func keyValuePairs(_ value: JSONValue, field: String) throws -> [String: String] {
        switch value {
        case .null: return [:]
        case .object(let o):
            var out: [String: String] = [:]
            for (k, v) in o {
                guard let text = v.textValue else { throw typeError(field, "a map of strings") }
                out[k] = text
            }
            return out
        case .array(let items):
            var out: [String: String] = [:]
            for item in items {
                let text = item.textValue ?? ""
                guard let eq = text.firstIndex(of: "=") else {
                    throw EngineError.invalid("invalid key pair \"\(text)\"")
                }
                out[String(text[..<eq])] = String(text[text.index(after: eq)...])
            }
            return out
        case .string(let s):
            if s.isEmpty { return [:] }
            if let parsed = try? JSONParser.parse(s), case .object = parsed {
                return try keyValuePairs(parsed, field: field)
            }
            return try keyValuePairs(.array(s.split(separator: ",").map { .string(String($0)) }), field: field)
        default:
            throw typeError(field, "a map of strings")
        }
    }

    private static func typeError(_ field: String, _ expected: String) -> EngineError {
        .invalid("Field validation failed: field \"\(field)\" must be \(expected)")
    }
}
