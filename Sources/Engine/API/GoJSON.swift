import Basics
import DBPlugin
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// JSON as Go's `encoding/json` writes it: `MarshalIndent(v, "", "  ")` for what `vault` prints,
/// `Marshal` (compact) for Vault's raw HTTP bodies and one-line logs. Object keys sorted, `<`,
/// `>`, `&` escaped as `\u003c`…, non-ASCII raw. Ordered pairs keep an envelope's key order.
public enum GoJSON {
    public static func encode(_ value: JSONValue, indent: String = "") -> String {
        write(value, indent: indent)
    }

    public static func encode(pairs: [(String, JSONValue)], indent: String = "") -> String {
        write(pairs: pairs, indent: indent)
    }

    /// A value whose objects keep the order of a Go struct's fields, at every level.
    public indirect enum Ordered {
        case value(JSONValue)
        case object([(String, Ordered)])
    }

    public static func encode(_ value: Ordered, indent: String = "") -> String {
        switch value {
        case .value(let leaf): return write(leaf, indent: indent)
        case .object(let pairs):
            if pairs.isEmpty { return "{}" }
            let inner = indent + "  "
            return "{\n" + pairs.map { inner + quote($0.0) + ": " + encode($0.1, indent: inner) }.joined(separator: ",\n")
                + "\n" + indent + "}"
        }
    }

    public static func compact(_ value: JSONValue) -> String {
        write(value, indent: nil)
    }

    public static func compact(pairs: [(String, JSONValue)]) -> String {
        write(pairs: pairs, indent: nil)
    }

    /// `indent` nil is Go's compact form; otherwise the indentation of the current level.
    private static func write(_ value: JSONValue, indent: String?) -> String {
        var out = ""
        write(value, indent: indent, into: &out)
        return out
    }

    private static func write(pairs: [(String, JSONValue)], indent: String?) -> String {
        var out = ""
        write(pairs: pairs, indent: indent, into: &out)
        return out
    }

    /// As `encode`, appended to `out`: one buffer for a whole document, no string per value.
    public static func write(_ value: JSONValue, indent: String?, into out: inout String) {
        switch value {
        case .object(let o):
            write(pairs: o.keys.sorted().map { ($0, o[$0]!) }, indent: indent, into: &out)
        case .array(let items):
            if items.isEmpty { out += "[]"; return }
            guard let indent else {
                out += "["
                for (i, item) in items.enumerated() {
                    if i > 0 { out += "," }
                    write(item, indent: nil, into: &out)
                }
                out += "]"
                return
            }
            let inner = indent + "  "
            out += "[\n"
            for (i, item) in items.enumerated() {
                if i > 0 { out += ",\n" }
                out += inner
                write(item, indent: inner, into: &out)
            }
            out += "\n" + indent + "]"
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .double(let d):
            if d == d.rounded() && abs(d) < 1e21 { out += cFormat("%.0f", d) } else { out += String(d) }
        case .string(let s): out += quote(s)
        }
    }

    private static func write(pairs: [(String, JSONValue)], indent: String?, into out: inout String) {
        if pairs.isEmpty { out += "{}"; return }
        guard let indent else {
            out += "{"
            for (i, pair) in pairs.enumerated() {
                if i > 0 { out += "," }
                out += quote(pair.0) + ":"
                write(pair.1, indent: nil, into: &out)
            }
            out += "}"
            return
        }
        let inner = indent + "  "
        out += "{\n"
        for (i, pair) in pairs.enumerated() {
            if i > 0 { out += ",\n" }
            out += inner + quote(pair.0) + ": "
            write(pair.1, indent: inner, into: &out)
        }
        out += "\n" + indent + "}"
    }

    /// `quote(s)`'s bytes, appended to `out`.
    public static func appendQuoted(_ s: String, to out: inout [UInt8]) {
        var s = s
        let plain = s.withUTF8 { bytes in
            guard bytes.allSatisfy(isPlain) else { return false }
            out.append(UInt8(ascii: "\""))
            out.append(contentsOf: bytes)
            out.append(UInt8(ascii: "\""))
            return true
        }
        if !plain { out += quote(s).utf8 }
    }

    /// A byte that stands for itself inside a quoted string.
    private static func isPlain(_ byte: UInt8) -> Bool {
        byte >= 0x20 && byte < 0x80 && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\")
            && byte != UInt8(ascii: "<") && byte != UInt8(ascii: ">") && byte != UInt8(ascii: "&")
    }

    public static func quote(_ s: String) -> String {
        // Most strings (ids, names, times) need no escape: one pass over the bytes, one copy.
        if s.utf8.allSatisfy(isPlain) {
            return "\"" + s + "\""
        }
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "<": out += "\\u003c"
            case ">": out += "\\u003e"
            case "&": out += "\\u0026"
            case "\u{2028}": out += "\\u2028"
            case "\u{2029}": out += "\\u2029"
            default:
                if scalar.value < 0x20 {
                    out += cFormat("\\u%04x", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
