#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Proleptic Gregorian calendar arithmetic on day numbers (days since 1970-01-01), after Howard
/// Hinnant's `days_from_civil`/`civil_from_days`. Formatting times by hand with it avoids
/// Foundation's ICU-backed formatters, whose set-up costs a short command more than its work.
public enum CivilDate {
    public static func days(year y: Int64, month m: Int64, day d: Int64) -> Int64 {
        let year = m <= 2 ? y - 1 : y
        let era = (year >= 0 ? year : year - 399) / 400
        let yoe = year - era * 400
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    public static func date(days z0: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    public static func isLeapYear(_ year: Int64) -> Bool {
        year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
    }

    public static func daysInMonth(year: Int64, month: Int64) -> Int64 {
        [31, isLeapYear(year) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][Int(month) - 1]
    }

    /// 1 for January 1st.
    public static func dayOfYear(year: Int64, month: Int64, day: Int64) -> Int64 {
        let daysBeforeMonth: [Int64] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334]
        return daysBeforeMonth[Int(month) - 1] + day + (isLeapYear(year) && month > 2 ? 1 : 0)
    }

    /// 0 for Sunday, as Go's `time.Weekday`; 1970-01-01 was a Thursday.
    public static func weekday(days: Int64) -> Int64 {
        ((days % 7) + 11) % 7
    }

    /// `(days since 1970-01-01, seconds into that day)` of a count of seconds, rounding down.
    public static func split(seconds: Int64) -> (days: Int64, secondOfDay: Int64) {
        let q = seconds / 86_400, r = seconds % 86_400
        return r < 0 ? (q - 1, r + 86_400) : (q, r)
    }

    /// The local zone's offset from UTC at an instant, in seconds east: the C library's reading of
    /// TZ and /etc/localtime.
    public static func localUTCOffset(unixSeconds: Int64) -> Int {
        var seconds = time_t(unixSeconds)
        var parts = tm()
        guard localtime_r(&seconds, &parts) != nil else { return 0 }
        return Int(parts.tm_gmtoff)
    }

    /// Zero-padded decimal, `pad(7, 2)` → "07".
    public static func pad(_ value: Int64, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}
