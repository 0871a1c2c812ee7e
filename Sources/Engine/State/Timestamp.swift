import Basics
import DBPlugin
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// RFC 3339 in UTC with milliseconds, `2026-11-23T16:04:20.123Z`: the times of state files and
/// of printed leases.
///
/// Written out by hand rather than with ISO8601DateFormatter: on Linux each formatter builds an
/// ICU calendar (about 0.4 ms), and `lease list` formats and parses several times per lease,
/// which made listing 100,000 leases take minutes. A cached formatter is not Sendable; this is.
public enum Timestamp {
    /// The last instant the format can write and `parse` read back (four-digit years).
    static let latest = Date(timeIntervalSince1970: 253_402_300_799.999)

    /// A later date is written as `latest`: every time written is one that reads back.
    public static func format(_ date: Date) -> String {
        var text: [UInt8] = []
        text.reserveCapacity(24)
        append(date, to: &text)
        return String(decoding: text, as: UTF8.self)
    }

    /// `format(date)`'s bytes, appended to `out` (a listing writes two times per lease).
    public static func append(_ date: Date, to out: inout [UInt8]) {
        let exact = min(date.timeIntervalSince1970, latest.timeIntervalSince1970) * 1000
        var millis = Int64(exact.rounded())
        // Rounded to the nearest millisecond like Foundation, except that a time in the last half
        // millisecond of a minute stays in its minute: the expiry index files a lease under the
        // minute of its time, and the time read back must name the same minute.
        if millis % 60_000 == 0 && Double(millis) > exact { millis -= 1 }
        let (days, millisOfDay) = floorDivide(millis, 86_400_000)
        let (year, month, day) = CivilDate.date(days: days)
        let seconds = millisOfDay / 1000
        pad(year, 4, &out)
        out.append(UInt8(ascii: "-"))
        pad(month, 2, &out)
        out.append(UInt8(ascii: "-"))
        pad(day, 2, &out)
        out.append(UInt8(ascii: "T"))
        pad(seconds / 3600, 2, &out)
        out.append(UInt8(ascii: ":"))
        pad(seconds / 60 % 60, 2, &out)
        out.append(UInt8(ascii: ":"))
        pad(seconds % 60, 2, &out)
        out.append(UInt8(ascii: "."))
        pad(millisOfDay % 1000, 3, &out)
        out.append(UInt8(ascii: "Z"))
    }

    /// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`; nil for anything else.
    public static func parse(_ text: String) -> Date? {
        var text = text
        return text.withUTF8 { parse(utf8: $0) }
    }

    /// `parse` of the time's UTF-8 bytes, straight from the file they were read from.
    static func parse(utf8 b: UnsafeBufferPointer<UInt8>) -> Date? {
        func digits(_ at: Int, _ count: Int) -> Int64? {
            guard at + count <= b.count else { return nil }
            var value: Int64 = 0
            for c in b[at..<at + count] {
                guard c >= 0x30 && c <= 0x39 else { return nil }
                value = value * 10 + Int64(c - 0x30)
            }
            return value
        }
        func byte(_ at: Int) -> UInt8? { at < b.count ? b[at] : nil }
        guard let year = digits(0, 4), byte(4) == UInt8(ascii: "-"), let month = digits(5, 2),
              byte(7) == UInt8(ascii: "-"), let day = digits(8, 2), byte(10) == UInt8(ascii: "T") || byte(10) == UInt8(ascii: "t"),
              let hour = digits(11, 2), byte(13) == UInt8(ascii: ":"), let minute = digits(14, 2),
              byte(16) == UInt8(ascii: ":"), let second = digits(17, 2) else { return nil }
        guard (1...12).contains(month), day >= 1, day <= CivilDate.daysInMonth(year: year, month: month),
              hour <= 23, minute <= 59, second <= 60 else { return nil }
        var at = 19
        var millis: Int64 = 0
        var belowMillis = 0.0
        if byte(at) == UInt8(ascii: ".") {
            at += 1
            let start = at
            var scale = 0.1
            while let c = byte(at), c >= 0x30 && c <= 0x39 {
                let digit = Int64(c - 0x30)
                switch at - start {
                case 0: millis += digit * 100
                case 1: millis += digit * 10
                case 2: millis += digit
                default:
                    belowMillis += Double(digit) * scale
                    scale /= 10
                }
                at += 1
            }
            guard at > start else { return nil }
        }
        var offset: Int64 = 0
        switch byte(at) {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            at += 1
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            guard let oh = digits(at + 1, 2), byte(at + 3) == UInt8(ascii: ":"), let om = digits(at + 4, 2),
                  oh <= 23, om <= 59 else { return nil }
            offset = (oh * 60 + om) * 60 * (byte(at) == UInt8(ascii: "-") ? -1 : 1)
            at += 6
        default:
            return nil
        }
        guard at == b.count else { return nil }
        let days = CivilDate.days(year: year, month: month, day: day)
        let totalMillis = (days * 86_400 + hour * 3600 + minute * 60 + second - offset) * 1000 + millis
        return Date(timeIntervalSince1970: (Double(totalMillis) + belowMillis) / 1000)
    }

    /// `CivilDate.pad`'s bytes.
    private static func pad(_ value: Int64, _ width: Int, _ out: inout [UInt8]) {
        guard value >= 0 else { out += Array(CivilDate.pad(value, width).utf8); return }
        var digits = 1, rest = value / 10
        while rest > 0 { digits += 1; rest /= 10 }
        for _ in digits..<max(width, digits) { out.append(UInt8(ascii: "0")) }
        var divisor: Int64 = 1
        for _ in 1..<digits { divisor *= 10 }
        rest = value
        while divisor > 0 {
            out.append(UInt8(ascii: "0") + UInt8(rest / divisor))
            rest %= divisor
            divisor /= 10
        }
    }

    private static func floorDivide(_ a: Int64, _ b: Int64) -> (Int64, Int64) {
        let q = a / b, r = a % b
        return r < 0 ? (q - 1, r + b) : (q, r)
    }
}
