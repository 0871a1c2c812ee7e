import DBPlugin
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A request body's JSON, bounded so that no body can exhaust the stack of the thread serving it.
enum RequestJSON {
    static let maximumDepth = 512

    struct Invalid: Error, CustomStringConvertible {
        var description: String
    }

    static func parse(_ bytes: [UInt8]) throws -> JSONValue {
        var depth = 0, inString = false, escaped = false
        for byte in bytes {
            if inString {
                if escaped { escaped = false } else if byte == 0x5c { escaped = true } else if byte == 0x22 { inString = false }
                continue
            }
            switch byte {
            case 0x22: inString = true
            case 0x5b, 0x7b:
                depth += 1
                if depth > maximumDepth { throw Invalid(description: "exceeded max depth") }
            case 0x5d, 0x7d: depth -= 1
            default: break
            }
        }
        do {
            return try JSONDecoder().decode(JSONValue.self, from: Data(bytes))
        } catch {
            throw Invalid(description: "invalid JSON")
        }
    }

    /// What Go's `json.Unmarshal` calls a value it cannot put in a map.
    static func kind(of value: JSONValue) -> String {
        switch value {
        case .array: return "array"
        case .string: return "string"
        case .int, .double: return "number"
        case .bool: return "bool"
        case .object: return "object"
        case .null: return "null"
        }
    }
}
