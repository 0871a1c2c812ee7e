/// Go's `fmt.Sprintf`, `Sprint` and `Sprintln` for the values templates produce, including the
/// `%!s(MISSING)`, `%!d(string=x)` and `%!(EXTRA …)` markers that Vault's default templates rely on.
enum GoFormatter {
    private struct Spec {
        var minus = false, plus = false, sharp = false, space = false, zero = false
        var width: Int?
        var precision: Int?
    }

    /// Go refuses widths and precisions beyond a million rather than allocate them.
    private static let largestWidth = 1_000_000

    static func sprintf(_ formatText: String, _ args: [TemplateValue]) -> String {
        let scalars = Array(formatText.unicodeScalars)
        var out = ""
        var next = 0
        var i = 0
        while i < scalars.count {
            let scalar = scalars[i]
            i += 1
            guard scalar == "%" else {
                out.unicodeScalars.append(scalar)
                continue
            }
            var spec = Spec()
            flags: while i < scalars.count {
                switch scalars[i] {
                case "#": spec.sharp = true
                case "0": spec.zero = !spec.minus
                case "+": spec.plus = true
                case "-": spec.minus = true; spec.zero = false
                case " ": spec.space = true
                default: break flags
                }
                i += 1
            }
            if i < scalars.count, scalars[i] == "*" {
                i += 1
                if next < args.count, case .int(let width) = args[next], abs(width) <= largestWidth {
                    spec.width = abs(width)
                    if width < 0 { spec.minus = true; spec.zero = false }
                } else {
                    out += "%!(BADWIDTH)"
                }
                next += 1
            } else if let (width, end) = number(scalars, from: i) {
                guard width <= largestWidth else { out += "%!(NOVERB)"; return out }
                spec.width = width
                i = end
            }
            if i < scalars.count, scalars[i] == "." {
                i += 1
                if i < scalars.count, scalars[i] == "*" {
                    i += 1
                    if next < args.count, case .int(let precision) = args[next], precision >= 0, precision <= largestWidth {
                        spec.precision = precision
                    } else {
                        out += "%!(BADPREC)"
                    }
                    next += 1
                } else if let (precision, end) = number(scalars, from: i) {
                    guard precision <= largestWidth else { out += "%!(NOVERB)"; return out }
                    spec.precision = precision
                    i = end
                } else {
                    spec.precision = 0
                }
            }
            guard i < scalars.count else {
                out += "%!(NOVERB)"
                break
            }
            let verb = scalars[i]
            i += 1
            if verb == "%" {
                out += "%"
                continue
            }
            guard next < args.count else {
                out += "%!\(verb)(MISSING)"
                continue
            }
            out += format(args[next], verb: verb, spec: spec)
            next += 1
        }
        if next < args.count {
            out += "%!(EXTRA " + args[next...].map { "\($0.goTypeName)=\(plain($0))" }.joined(separator: ", ") + ")"
        }
        return out
    }

    /// `fmt.Sprint`: spaces only between operands when neither is a string.
    static func sprint(_ args: [TemplateValue]) -> String {
        var out = ""
        for (index, arg) in args.enumerated() {
            if index > 0, !isString(arg), !isString(args[index - 1]) { out += " " }
            out += plain(arg)
        }
        return out
    }

    static func sprintln(_ args: [TemplateValue]) -> String {
        args.map(plain).joined(separator: " ") + "\n"
    }

    /// `%v` with no flags.
    static func plain(_ value: TemplateValue) -> String {
        switch value {
        case .null: return "<nil>"
        default: return value.printed
        }
    }

    private static func isString(_ value: TemplateValue) -> Bool {
        if case .string = value { return true }
        return false
    }

    private static func number(_ scalars: [Unicode.Scalar], from start: Int) -> (Int, Int)? {
        var end = start
        var value = 0
        while end < scalars.count, let digit = Int(String(scalars[end])), scalars[end].isASCII {
            value = min(value * 10 + digit, Int(Int32.max))
            end += 1
        }
        return end > start ? (value, end) : nil
    }

    private static func format(_ value: TemplateValue, verb: Unicode.Scalar, spec: Spec) -> String {
        switch value {
        case .string(let string):
            switch verb {
            case "v", "s":
                var text = string
                if let precision = spec.precision { text = String(string.unicodeScalars.prefix(precision).map(Character.init)) }
                return pad(text, spec)
            case "q":
                return pad(GoStringLiteral.quote(string, asciiOnly: spec.plus), spec)
            case "x", "X":
                let bytes = spec.precision.map { Array(string.utf8.prefix($0)) } ?? Array(string.utf8)
                let hex = bytes.map { hexByte($0, uppercase: verb == "X") }
                let joined = spec.space ? hex.map { (spec.sharp ? (verb == "X" ? "0X" : "0x") : "") + $0 }.joined(separator: " ")
                    : (spec.sharp && !bytes.isEmpty ? (verb == "X" ? "0X" : "0x") : "") + hex.joined()
                return pad(joined, spec)
            default:
                return badVerb(verb, value)
            }
        case .int(let integer):
            switch verb {
            case "v", "d": return formatInteger(integer, radix: 10, spec: spec)
            case "b": return formatInteger(integer, radix: 2, spec: spec)
            case "o", "O": return formatInteger(integer, radix: 8, spec: spec, prefix: verb == "O" ? "0o" : (spec.sharp ? "0" : ""))
            case "x": return formatInteger(integer, radix: 16, spec: spec, prefix: spec.sharp ? "0x" : "")
            case "X": return formatInteger(integer, radix: 16, spec: spec, prefix: spec.sharp ? "0X" : "", uppercase: true)
            case "c":
                let scalar = Unicode.Scalar(UInt32(clamping: max(0, integer))) ?? "\u{FFFD}"
                return pad(String(Character(scalar)), spec)
            case "q":
                let scalar = Unicode.Scalar(UInt32(clamping: max(0, integer))) ?? "\u{FFFD}"
                switch scalar {
                case "'": return pad("'\\''", spec)
                case "\"": return pad("'\"'", spec)
                default: return pad("'" + GoStringLiteral.quote(String(Character(scalar)), asciiOnly: spec.plus).dropFirst().dropLast() + "'", spec)
                }
            case "U":
                let hex = String(integer, radix: 16, uppercase: true)
                return pad("U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex, spec)
            default:
                return badVerb(verb, value)
            }
        case .bool(let flag):
            return verb == "t" || verb == "v" ? pad(flag ? "true" : "false", spec) : badVerb(verb, value)
        case .metadata(let displayName, let roleName):
            if verb == "v" && spec.sharp {
                return "dbplugin.UsernameMetadata{DisplayName:\(GoStringLiteral.quote(displayName)), RoleName:\(GoStringLiteral.quote(roleName))}"
            }
            let fields = [displayName, roleName].map { format(.string($0), verb: verb, spec: spec) }
            if verb == "v" && spec.plus {
                return "{DisplayName:\(fields[0]) RoleName:\(fields[1])}"
            }
            return "{" + fields.joined(separator: " ") + "}"
        case .null:
            return verb == "v" ? pad("<nil>", spec) : "%!\(verb)(<nil>)"
        }
    }

    private static func formatInteger(_ value: Int, radix: Int, spec: Spec, prefix: String = "", uppercase: Bool = false) -> String {
        var digits = String(value.magnitude, radix: radix, uppercase: uppercase)
        if let precision = spec.precision {
            if precision == 0 && value == 0 { digits = "" }
            digits = String(repeating: "0", count: max(0, precision - digits.count)) + digits
        }
        let sign = value < 0 ? "-" : (spec.plus ? "+" : (spec.space ? " " : ""))
        let head = sign + prefix
        if spec.zero, spec.precision == nil, let width = spec.width, !spec.minus {
            digits = String(repeating: "0", count: max(0, width - head.count - digits.count)) + digits
        }
        return pad(head + digits, spec)
    }

    private static func pad(_ text: String, _ spec: Spec) -> String {
        guard let width = spec.width else { return text }
        let count = text.unicodeScalars.count
        guard count < width else { return text }
        let filler = String(repeating: spec.zero && !spec.minus ? "0" : " ", count: width - count)
        return spec.minus ? text + filler : filler + text
    }

    private static func badVerb(_ verb: Unicode.Scalar, _ value: TemplateValue) -> String {
        "%!\(verb)(\(value.goTypeName)=\(plain(value)))"
    }

    private static func hexByte(_ byte: UInt8, uppercase: Bool) -> String {
        let text = String(byte, radix: 16, uppercase: uppercase)
        return byte < 16 ? "0" + text : text
    }
}
