import DBPlugin
import Engine
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// YAML as Vault prints it (JSON re-emitted by go-yaml v2): keys sorted at every level,
/// two-space indent, sequences as `- x`, strings quoted only when they would read as
/// something else.
enum YAMLText {
    static func encode(_ value: JSONValue) -> String {
        var lines: [String] = []
        emit(value, indent: "", into: &lines, inSequence: false)
        return lines.joined(separator: "\n") + "\n"
    }

    private static func emit(_ value: JSONValue, indent: String, into lines: inout [String], inSequence: Bool) {
        switch value {
        case .object(let o) where !o.isEmpty:
            for key in o.keys.sorted() {
                let child = o[key]!
                let k = scalar(.string(key))
                if isBlock(child) {
                    lines.append(indent + k + ":")
                    let childIndent = child.arrayValue != nil ? indent : indent + "  "
                    emit(child, indent: childIndent, into: &lines, inSequence: false)
                } else {
                    lines.append(indent + k + ": " + scalar(child))
                }
            }
        case .array(let items) where !items.isEmpty:
            for item in items {
                if isBlock(item) {
                    var nested: [String] = []
                    emit(item, indent: indent + "  ", into: &nested, inSequence: true)
                    if var first = nested.first {
                        first = indent + "- " + first.dropFirst(indent.count + 2)
                        lines.append(first)
                        lines.append(contentsOf: nested.dropFirst())
                    }
                } else {
                    lines.append(indent + "- " + scalar(item))
                }
            }
        default:
            lines.append(indent + scalar(value))
        }
    }

    private static func isBlock(_ value: JSONValue) -> Bool {
        switch value {
        case .object(let o): return !o.isEmpty
        case .array(let a): return !a.isEmpty
        default: return false
        }
    }

    static func scalar(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int, .double: return value.textValue ?? ""
        case .object: return "{}"
        case .array: return "[]"
        case .string(let s): return needsQuotes(s) ? GoJSON.quote(s) : s
        }
    }

    private static let reserved: Set<String> = ["", "~", "null", "Null", "NULL", "true", "True", "TRUE", "false", "False",
                                                "FALSE", "yes", "Yes", "YES", "no", "No", "NO", "on", "On", "ON",
                                                "off", "Off", "OFF", "y", "Y", "n", "N"]

    private static func needsQuotes(_ s: String) -> Bool {
        if reserved.contains(s) { return true }
        if Double(s) != nil || Int(s) != nil { return true }
        if s.hasPrefix(" ") || s.hasSuffix(" ") { return true }
        if let first = s.first, "-?:,[]{}#&*!|>'\"%@`".contains(first) {
            // A leading dash followed by a letter is a plain scalar in YAML, except "- ".
            if first == "-" && s.count > 1 && !s.hasPrefix("- ") && !s.hasPrefix("--- ") { return false }
            return true
        }
        if s.contains(": ") || s.contains(" #") || s.hasSuffix(":") { return true }
        return s.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7f }
    }
}
