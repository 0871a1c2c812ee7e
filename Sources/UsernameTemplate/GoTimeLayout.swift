import Basics
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An instant with the local zone's offset and abbreviation, which is what Go's `time.Now()` carries.
struct GoTime: Sendable, Equatable {
    var seconds: Int64
    var nanoseconds: Int
    var utcOffsetSeconds: Int
    var zoneAbbreviation: String

    static func now() -> GoTime {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        var seconds = time_t(spec.tv_sec)
        var parts = tm()
        localtime_r(&seconds, &parts)
        let zone = parts.tm_zone.map { String(cString: $0) } ?? ""
        return GoTime(seconds: Int64(spec.tv_sec), nanoseconds: Int(spec.tv_nsec),
                      utcOffsetSeconds: Int(parts.tm_gmtoff), zoneAbbreviation: zone)
    }

    var unixMilliseconds: Int64 { seconds * 1000 + Int64(nanoseconds / 1_000_000) }

    /// Civil date and time in the instant's own zone.
    fileprivate var civil: (year: Int, month: Int, day: Int, yearDay: Int, weekday: Int, hour: Int, minute: Int, second: Int) {
        let (days, secondOfDay) = CivilDate.split(seconds: seconds + Int64(utcOffsetSeconds))
        let (year, month, day) = CivilDate.date(days: days)
        let yearDay = CivilDate.dayOfYear(year: year, month: month, day: day)
        let weekday = CivilDate.weekday(days: days)
        return (Int(year), Int(month), Int(day), Int(yearDay), Int(weekday),
                Int(secondOfDay / 3600), Int(secondOfDay / 60 % 60), Int(secondOfDay % 60))
    }
}

/// Go's `time.Time.Format` reference-time layouts: `2006-01-02 15:04:05.000 -0700 MST` and friends.
enum GoTimeLayout {
    private enum Chunk {
        case literal(String)
        case longMonth, month, numMonth, zeroMonth
        case longWeekDay, weekDay
        case day, underDay, zeroDay, underYearDay, zeroYearDay
        case hour, hour12, zeroHour12
        case minute, zeroMinute, second, zeroSecond
        case longYear, year
        case pm(upper: Bool)
        case zoneName
        case numericZone(z: Bool, colons: Bool, hoursOnly: Bool, withSeconds: Bool)
        case fraction(digits: Int, trimZeros: Bool, separator: Character)
    }

    private static let longMonths = ["January", "February", "March", "April", "May", "June", "July",
                                     "August", "September", "October", "November", "December"]
    private static let longDays = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]

    static func format(_ time: GoTime, layout: String) -> String {
        let c = time.civil
        var out = ""
        for chunk in chunks(of: layout) {
            switch chunk {
            case .literal(let text): out += text
            case .longMonth: out += longMonths[c.month - 1]
            case .month: out += String(longMonths[c.month - 1].prefix(3))
            case .numMonth: out += String(c.month)
            case .zeroMonth: out += pad(c.month, 2)
            case .longWeekDay: out += longDays[c.weekday]
            case .weekDay: out += String(longDays[c.weekday].prefix(3))
            case .day: out += String(c.day)
            case .underDay: out += c.day < 10 ? " \(c.day)" : String(c.day)
            case .zeroDay: out += pad(c.day, 2)
            case .underYearDay: out += String(repeating: " ", count: 3 - String(c.yearDay).count) + String(c.yearDay)
            case .zeroYearDay: out += pad(c.yearDay, 3)
            case .hour: out += pad(c.hour, 2)
            case .hour12: out += String(c.hour % 12 == 0 ? 12 : c.hour % 12)
            case .zeroHour12: out += pad(c.hour % 12 == 0 ? 12 : c.hour % 12, 2)
            case .minute: out += String(c.minute)
            case .zeroMinute: out += pad(c.minute, 2)
            case .second: out += String(c.second)
            case .zeroSecond: out += pad(c.second, 2)
            case .longYear: out += c.year < 0 ? "-" + pad(-c.year, 4) : pad(c.year, 4)
            case .year: out += pad(((c.year % 100) + 100) % 100, 2)
            case .pm(let upper): out += c.hour >= 12 ? (upper ? "PM" : "pm") : (upper ? "AM" : "am")
            case .zoneName:
                if !time.zoneAbbreviation.isEmpty {
                    out += time.zoneAbbreviation
                } else {
                    // Go falls back to -0700 style, minutes only when needed.
                    let minutes = time.utcOffsetSeconds / 60
                    out += (minutes < 0 ? "-" : "+") + pad(abs(minutes) / 60, 2)
                    if abs(minutes) % 60 != 0 { out += pad(abs(minutes) % 60, 2) }
                }
            case .numericZone(let z, let colons, let hoursOnly, let withSeconds):
                out += formatZone(time.utcOffsetSeconds, z: z, colons: colons, hoursOnly: hoursOnly, withSeconds: withSeconds)
            case .fraction(let digits, let trimZeros, let separator):
                var text = pad(time.nanoseconds, 9).prefix(digits)
                if trimZeros {
                    while text.last == "0" { text = text.dropLast() }
                    if text.isEmpty { break }
                }
                out += String(separator) + text
            }
        }
        return out
    }

    private static func formatZone(_ offset: Int, z: Bool, colons: Bool, hoursOnly: Bool, withSeconds: Bool) -> String {
        if z && offset == 0 { return "Z" }
        let sign = offset < 0 ? "-" : "+"
        let total = abs(offset)
        var text = sign + pad(total / 3600, 2)
        if !hoursOnly {
            text += (colons ? ":" : "") + pad(total / 60 % 60, 2)
        }
        if withSeconds {
            text += (colons ? ":" : "") + pad(total % 60, 2)
        }
        return text
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    /// Splits a layout the way Go's `nextStdChunk` does.
    private static func chunks(of layout: String) -> [Chunk] {
        let s = Array(layout.utf8)
        var result: [Chunk] = []
        var literalStart = 0
        var i = 0
        func has(_ text: String, at offset: Int) -> Bool {
            let needle = Array(text.utf8)
            return offset + needle.count <= s.count && Array(s[offset..<(offset + needle.count)]) == needle
        }
        func startsWithLowercase(_ offset: Int) -> Bool {
            offset < s.count && s[offset] >= UInt8(ascii: "a") && s[offset] <= UInt8(ascii: "z")
        }
        func isDigit(_ offset: Int) -> Bool {
            offset < s.count && s[offset] >= UInt8(ascii: "0") && s[offset] <= UInt8(ascii: "9")
        }
        while i < s.count {
            var chunk: Chunk?
            var length = 0
            switch s[i] {
            case UInt8(ascii: "J"):
                if has("January", at: i) { (chunk, length) = (.longMonth, 7) }
                else if has("Jan", at: i), !startsWithLowercase(i + 3) { (chunk, length) = (.month, 3) }
            case UInt8(ascii: "M"):
                if has("Monday", at: i) { (chunk, length) = (.longWeekDay, 6) }
                else if has("Mon", at: i), !startsWithLowercase(i + 3) { (chunk, length) = (.weekDay, 3) }
                else if has("MST", at: i) { (chunk, length) = (.zoneName, 3) }
            case UInt8(ascii: "0"):
                if i + 1 < s.count, s[i + 1] >= UInt8(ascii: "1"), s[i + 1] <= UInt8(ascii: "6") {
                    let kinds: [Chunk] = [.zeroMonth, .zeroDay, .zeroHour12, .zeroMinute, .zeroSecond, .year]
                    (chunk, length) = (kinds[Int(s[i + 1] - UInt8(ascii: "1"))], 2)
                } else if has("002", at: i) {
                    (chunk, length) = (.zeroYearDay, 3)
                }
            case UInt8(ascii: "1"):
                if has("15", at: i) { (chunk, length) = (.hour, 2) } else { (chunk, length) = (.numMonth, 1) }
            case UInt8(ascii: "2"):
                if has("2006", at: i) { (chunk, length) = (.longYear, 4) } else { (chunk, length) = (.day, 1) }
            case UInt8(ascii: "_"):
                if has("_2", at: i) {
                    if has("_2006", at: i) {
                        // A literal underscore followed by the long year.
                        i += 1
                        (chunk, length) = (.longYear, 4)
                    } else {
                        (chunk, length) = (.underDay, 2)
                    }
                } else if has("__2", at: i) {
                    (chunk, length) = (.underYearDay, 3)
                }
            case UInt8(ascii: "3"): (chunk, length) = (.hour12, 1)
            case UInt8(ascii: "4"): (chunk, length) = (.minute, 1)
            case UInt8(ascii: "5"): (chunk, length) = (.second, 1)
            case UInt8(ascii: "P"):
                if has("PM", at: i) { (chunk, length) = (.pm(upper: true), 2) }
            case UInt8(ascii: "p"):
                if has("pm", at: i) { (chunk, length) = (.pm(upper: false), 2) }
            case UInt8(ascii: "-"), UInt8(ascii: "Z"):
                let z = s[i] == UInt8(ascii: "Z")
                let prefix = z ? "Z" : "-"
                if has(prefix + "070000", at: i) {
                    (chunk, length) = (.numericZone(z: z, colons: false, hoursOnly: false, withSeconds: true), 7)
                } else if has(prefix + "07:00:00", at: i) {
                    (chunk, length) = (.numericZone(z: z, colons: true, hoursOnly: false, withSeconds: true), 9)
                } else if has(prefix + "0700", at: i) {
                    (chunk, length) = (.numericZone(z: z, colons: false, hoursOnly: false, withSeconds: false), 5)
                } else if has(prefix + "07:00", at: i) {
                    (chunk, length) = (.numericZone(z: z, colons: true, hoursOnly: false, withSeconds: false), 6)
                } else if has(prefix + "07", at: i) {
                    (chunk, length) = (.numericZone(z: z, colons: false, hoursOnly: true, withSeconds: false), 3)
                }
            case UInt8(ascii: "."), UInt8(ascii: ","):
                if i + 1 < s.count, s[i + 1] == UInt8(ascii: "0") || s[i + 1] == UInt8(ascii: "9") {
                    let digit = s[i + 1]
                    var j = i + 1
                    while j < s.count, s[j] == digit { j += 1 }
                    if !isDigit(j) {
                        let separator = Character(Unicode.Scalar(s[i]))
                        (chunk, length) = (.fraction(digits: min(j - i - 1, 9), trimZeros: digit == UInt8(ascii: "9"),
                                                     separator: separator), j - i)
                    }
                }
            default:
                break
            }
            if let chunk {
                if literalStart < i {
                    result.append(.literal(String(decoding: s[literalStart..<i], as: UTF8.self)))
                }
                result.append(chunk)
                i += length
                literalStart = i
            } else {
                i += 1
            }
        }
        if literalStart < s.count {
            result.append(.literal(String(decoding: s[literalStart...], as: UTF8.self)))
        }
        return result
    }
}
