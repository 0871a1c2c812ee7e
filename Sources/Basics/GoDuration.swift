/// Go's `time.ParseDuration`: a sequence of decimal numbers, each with a unit (`ns`, `us`, `µs`,
/// `μs`, `ms`, `s`, `m`, `h`), optionally signed: `90s`, `1h30m`, `1.5h`, `-5m`, `+2s`. `0` needs
/// no unit. What overflows Go's int64 nanoseconds is refused, as Go refuses it.
public enum GoDuration {
    /// Go's own error text, e.g. `time: missing unit in duration "10"`.
    public struct SyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
        public var description: String
    }

    /// The duration in seconds, fractions kept.
    public static func seconds(_ text: String) throws(SyntaxError) -> Double {
        var chars = Substring(text)
        var sign = 1.0
        if let first = chars.first, first == "-" || first == "+" {
            sign = first == "-" ? -1 : 1
            chars = chars.dropFirst()
        }
        if chars == "0" { return 0 }
        guard !chars.isEmpty else { throw invalid(text) }
        var total = 0.0
        while !chars.isEmpty {
            let number = chars.prefix(while: isNumberPart)
            guard !number.isEmpty, let value = Double(number) else { throw invalid(text) }
            chars = chars.dropFirst(number.count)
            let unit = chars.prefix { !isNumberPart($0) }
            guard !unit.isEmpty else { throw SyntaxError(description: "time: missing unit in duration \"\(text)\"") }
            guard let scale = units[String(unit)] else {
                throw SyntaxError(description: "time: unknown unit \"\(unit)\" in duration \"\(text)\"")
            }
            chars = chars.dropFirst(unit.count)
            total += value * scale
        }
        guard total <= Double(Int64.max) / 1e9 else { throw invalid(text) }
        return sign * total
    }

    private static let units: [String: Double] = ["ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3,
                                                  "s": 1, "m": 60, "h": 3600]

    private static func isNumberPart(_ c: Character) -> Bool { c.isASCII && (c.isNumber || c == ".") }

    private static func invalid(_ text: String) -> SyntaxError {
        SyntaxError(description: "time: invalid duration \"\(text)\"")
    }
}
