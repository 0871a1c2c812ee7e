import Basics

/// Go's integer literal syntax: decimal, `0x`, `0o`, `0b`, legacy leading-zero octal, `_` separators,
/// an optional sign. Floats and imaginary numbers are recognised only to reject them clearly.
enum GoIntegerLiteral {
    static func parse(_ text: String) -> Int? {
        var body = Substring(text)
        var negative = false
        if let sign = body.first, sign == "+" || sign == "-" {
            negative = sign == "-"
            body = body.dropFirst()
        }
        var radix = 10
        let lower = body.lowercased()
        if lower.hasPrefix("0x") {
            radix = 16
            body = body.dropFirst(2)
        } else if lower.hasPrefix("0o") {
            radix = 8
            body = body.dropFirst(2)
        } else if lower.hasPrefix("0b") {
            radix = 2
            body = body.dropFirst(2)
        } else if body.count > 1, body.first == "0" {
            radix = 8
            body = body.dropFirst()
        }
        // Underscores may only sit between digits (or right after a base prefix).
        if body.hasSuffix("_") || body.contains("__") { return nil }
        if radix == 10, body.hasPrefix("_") { return nil }
        let digits = body.filter { $0 != "_" }
        guard !digits.isEmpty, let magnitude = UInt64(digits, radix: radix) else { return nil }
        if negative {
            return magnitude <= UInt64(Int.max) + 1 ? Int(truncatingIfNeeded: 0 &- magnitude) : nil
        }
        return magnitude <= UInt64(Int.max) ? Int(magnitude) : nil
    }

    static func looksLikeFloat(_ text: String) -> Bool {
        let lower = text.lowercased()
        if lower.hasSuffix("i") { return true }
        if lower.contains("0x") { return lower.contains("p") || lower.contains(".") }
        return lower.contains(".") || lower.contains("e")
    }
}

/// Go's `strconv.Unquote` escapes for the body of a `"…"` string or `'…'` character constant.
enum GoStringLiteral {
    static func unescape(_ body: [UInt8], quote: UInt8) -> String? {
        var output: [UInt8] = []
        output.reserveCapacity(body.count)
        var index = 0
        func hexValue(_ count: Int) -> UInt32? {
            guard index + count <= body.count else { return nil }
            let text = String(decoding: body[index..<(index + count)], as: UTF8.self)
            index += count
            return UInt32(text, radix: 16)
        }
        while index < body.count {
            let byte = body[index]
            index += 1
            if byte == quote { return nil }
            guard byte == UInt8(ascii: "\\") else {
                output.append(byte)
                continue
            }
            guard index < body.count else { return nil }
            let escape = body[index]
            index += 1
            switch escape {
            case UInt8(ascii: "a"): output.append(0x07)
            case UInt8(ascii: "b"): output.append(0x08)
            case UInt8(ascii: "f"): output.append(0x0C)
            case UInt8(ascii: "n"): output.append(0x0A)
            case UInt8(ascii: "r"): output.append(0x0D)
            case UInt8(ascii: "t"): output.append(0x09)
            case UInt8(ascii: "v"): output.append(0x0B)
            case UInt8(ascii: "\\"): output.append(escape)
            case quote: output.append(escape)
            case UInt8(ascii: "x"):
                guard let value = hexValue(2) else { return nil }
                output.append(UInt8(value))
            case UInt8(ascii: "u"), UInt8(ascii: "U"):
                guard let value = hexValue(escape == UInt8(ascii: "u") ? 4 : 8),
                      let scalar = Unicode.Scalar(value) else { return nil }
                output.append(contentsOf: Array(String(Character(scalar)).utf8))
            case UInt8(ascii: "0")...UInt8(ascii: "7"):
                guard index + 2 <= body.count else { return nil }
                let digits = [escape, body[index], body[index + 1]]
                index += 2
                guard let value = UInt32(String(decoding: digits, as: UTF8.self), radix: 8), value <= 255 else {
                    return nil
                }
                output.append(UInt8(value))
            default:
                return nil
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// Go's `strconv.Quote`: printable characters stay, the rest become escapes.
    static func quote(_ string: String, asciiOnly: Bool = false) -> String {
        var result = "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\u{07}": result += "\\a"
            case "\u{08}": result += "\\b"
            case "\u{0C}": result += "\\f"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case "\u{0B}": result += "\\v"
            default:
                let printable = scalar == " " || scalar.properties.isGoPrintable
                if printable && (!asciiOnly || scalar.isASCII) {
                    result.unicodeScalars.append(scalar)
                } else if scalar.value < 0x80 {
                    result += "\\x" + hex(scalar.value, width: 2)
                } else if scalar.value <= 0xFFFF {
                    result += "\\u" + hex(scalar.value, width: 4)
                } else {
                    result += "\\U" + hex(scalar.value, width: 8)
                }
            }
        }
        return result + "\""
    }

    private static func hex(_ value: UInt32, width: Int) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
