import DBPlugin

/// Vault's `TypeDurationSecond`: an integer (seconds), a numeric string (seconds), `Nd` (days), or a
/// Go duration (`90s`, `1h30m`, `1.5h`). Results are whole seconds.
public enum DurationField {
    public static func seconds(_ value: JSONValue, field: String) throws -> Int {
        let input: String
        switch value {
        case .int(let i):
            guard i >= 0 else { throw negative(String(i), field) }
            return i
        case .double(let d):
            guard d >= 0 else { throw negative(value.textValue ?? "", field) }
            return Int(d)
        case .string(let s):
            input = s.trimmingCharacters(in: .whitespaces)
        case .null:
            return 0
        default:
            throw EngineError.invalid("Field validation failed: error converting input \(value.textValue ?? "value") for field \"\(field)\"")
        }
        if input.isEmpty { return 0 }
        if let i = Int(input) {
            guard i >= 0 else { throw negative(input, field) }
            return i
        }
        if input.hasPrefix("-") { throw negative(input, field) }
        if input.hasSuffix("d"), let days = Int(input.dropLast()) {
            return days * 86400
        }
        do {
            return try parseGoDuration(input)
        } catch let message as DurationSyntaxError {
            throw EngineError.invalid("Field validation failed: error converting input \(input) for field \"\(field)\": \(message.text)")
        }
    }

    private static func negative(_ input: String, _ field: String) -> EngineError {
        .invalid("Field validation failed: error converting input \(input) for field \"\(field)\": cannot provide negative value '\(input)'")
    }

    struct DurationSyntaxError: Error { var text: String }

    /// Go's `time.ParseDuration`, truncated to whole seconds.
    static func parseGoDuration(_ s: String) throws -> Int {
        let units: [String: Double] = ["ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3,
                                       "s": 1, "m": 60, "h": 3600]
        var chars = Substring(s)
        var total = 0.0
        guard !chars.isEmpty else { throw DurationSyntaxError(text: "time: invalid duration \"\(s)\"") }
        if chars == "0" { return 0 }
        while !chars.isEmpty {
            let number = chars.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
            guard !number.isEmpty, let value = Double(number) else {
                throw DurationSyntaxError(text: "time: invalid duration \"\(s)\"")
            }
            chars = chars.dropFirst(number.count)
            let unit = chars.prefix { !($0.isASCII && ($0.isNumber || $0 == ".")) }
            guard !unit.isEmpty else { throw DurationSyntaxError(text: "time: missing unit in duration \"\(s)\"") }
            guard let scale = units[String(unit)] else {
                throw DurationSyntaxError(text: "time: unknown unit \"\(unit)\" in duration \"\(s)\"")
            }
            chars = chars.dropFirst(unit.count)
            total += value * scale
        }
        return Int(total)
    }

    /// Vault's table rendering of a duration: Go's `Duration.String()` of whole seconds, with
    /// zero minutes and seconds dropped (`3600` → `1h`, `3660` → `1h1m`, `90` → `1m30s`).
    public static func human(_ seconds: Int) -> String {
        if seconds == 0 { return "0s" }
        let sign = seconds < 0 ? "-" : ""
        let s = abs(seconds)
        let h = s / 3600, m = (s % 3600) / 60, sec = s % 60
        var out = sign
        if h > 0 { out += "\(h)h" }
        if m > 0 { out += "\(m)m" }
        if sec > 0 || out == sign { out += "\(sec)s" }
        return out
    }
}

import Foundation
