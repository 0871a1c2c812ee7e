import Basics
import DBPlugin

/// Vault's `TypeDurationSecond`: an integer (seconds), a numeric string (seconds), `Nd` (days), or a
/// Go duration (`90s`, `1h30m`, `1.5h`). Results are whole seconds.
public enum DurationField {
    /// The longest duration Go's `time.Duration` holds (2562047h47m16s): Vault turns every TTL and
    /// period into one, so anything longer would overflow there and is refused here.
    public static let maximumSeconds = Int(Int64.max / 1_000_000_000)

    public static func seconds(_ value: JSONValue, field: String) throws -> Int {
        let seconds = try parse(value, field: field)
        guard seconds <= maximumSeconds else {
            throw EngineError.invalid("Field validation failed: error converting input \(value.textValue ?? "value") for field \"\(field)\": duration is longer than the maximum of \(human(maximumSeconds))")
        }
        return seconds
    }

    private static func parse(_ value: JSONValue, field: String) throws -> Int {
        let input: String
        switch value {
        case .int(let i):
            guard i >= 0 else { throw negative(String(i), field) }
            return i
        case .double(let d):
            guard d >= 0 else { throw negative(value.textValue ?? "", field) }
            // Int(d) traps beyond Int's range; such a number is over the maximum anyway.
            return d < Double(maximumSeconds + 1) ? Int(d) : Int.max
        case .string(let s):
            input = s.trimmingWhitespace()
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
            let (seconds, overflow) = days.multipliedReportingOverflow(by: 86400)
            return overflow ? Int.max : seconds
        }
        do {
            // Truncated to whole seconds, as Vault's `parseutil.ParseDurationSecond`.
            return Int(try GoDuration.seconds(input))
        } catch {
            throw EngineError.invalid("Field validation failed: error converting input \(input) for field \"\(field)\": \(error.description)")
        }
    }

    private static func negative(_ input: String, _ field: String) -> EngineError {
        .invalid("Field validation failed: error converting input \(input) for field \"\(field)\": cannot provide negative value '\(input)'")
    }

    /// Vault's table rendering of a duration: Go's `Duration.String()` of whole seconds, with
    /// zero minutes and seconds dropped (`3600` → `1h`, `3660` → `1h1m`, `90` → `1m30s`).
    public static func human(_ seconds: Int) -> String {
        if seconds == 0 { return "0s" }
        let sign = seconds < 0 ? "-" : ""
        let s = Int(clamping: seconds.magnitude)  // abs(Int.min) traps
        let h = s / 3600, m = (s % 3600) / 60, sec = s % 60
        var out = sign
        if h > 0 { out += "\(h)h" }
        if m > 0 { out += "\(m)m" }
        if sec > 0 || out == sign { out += "\(sec)s" }
        return out
    }
}

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
