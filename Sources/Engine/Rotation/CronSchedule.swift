#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A standard 5-field cron schedule (minute hour day-of-month month day-of-week), evaluated in UTC,
/// as Vault parses `rotation_schedule` (robfig/cron v3 with Minute|Hour|Dom|Month|Dow: no seconds
/// field, no `@` descriptors). Supports `*`, lists, ranges, steps, and month/day names.
public struct CronSchedule: Sendable, Equatable {
    let minutes: Set<Int>
    let hours: Set<Int>
    let daysOfMonth: Set<Int>
    let months: Set<Int>
    let daysOfWeek: Set<Int>
    let domIsStar: Bool
    let dowIsStar: Bool

    public struct ParseError: Error, CustomStringConvertible {
        public var description: String
    }

    public init(_ spec: String) throws {
        let fields = spec.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard fields.count == 5 else {
            throw ParseError(description: "expected exactly 5 fields, found \(fields.count): [\(fields.joined(separator: " "))]")
        }
        minutes = try Self.field(fields[0], 0, 59, names: [:])
        hours = try Self.field(fields[1], 0, 23, names: [:])
        daysOfMonth = try Self.field(fields[2], 1, 31, names: [:])
        months = try Self.field(fields[3], 1, 12, names: ["jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
                                                        "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12])
        var dow = try Self.field(fields[4], 0, 7, names: ["sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6])
        if dow.contains(7) { dow.remove(7); dow.insert(0) }
        daysOfWeek = dow
        domIsStar = fields[2].hasPrefix("*") || fields[2].hasPrefix("?")
        dowIsStar = fields[4].hasPrefix("*") || fields[4].hasPrefix("?")
    }

    private static func field(_ text: String, _ low: Int, _ high: Int, names: [String: Int]) throws -> Set<Int> {
        var out = Set<Int>()
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            var rangePart = Substring(part)
            var step = 1
            if let slash = part.firstIndex(of: "/") {
                rangePart = part[..<slash]
                guard let s = Int(part[part.index(after: slash)...]), s > 0 else {
                    throw ParseError(description: "failed to parse int from \(part[part.index(after: slash)...]): invalid step")
                }
                step = s
            }
            var start: Int, end: Int
            if rangePart == "*" || rangePart == "?" {
                start = low; end = high
            } else if let dash = rangePart.firstIndex(of: "-") {
                start = try value(rangePart[..<dash], names)
                end = try value(rangePart[rangePart.index(after: dash)...], names)
            } else {
                start = try value(rangePart, names)
                end = part.contains("/") ? high : start
            }
            guard start >= low, end <= high, start <= end else {
                throw ParseError(description: "end of range (\(end)) above maximum (\(high)): \(part)")
            }
            out.formUnion(stride(from: start, through: end, by: step))
        }
        return out
    }

    private static func value(_ text: Substring, _ names: [String: Int]) throws -> Int {
        if let named = names[text.lowercased()] { return named }
        guard let v = Int(text) else { throw ParseError(description: "failed to parse int from \(text): invalid syntax") }
        return v
    }

    private static let utc: Calendar = {
        var c = Calendar(identifier: .gregorian)
        // Not TimeZone(identifier: "UTC"): without ICU, FoundationEssentials knows no zone by name.
        c.timeZone = .gmt
        return c
    }()

    /// The first minute strictly after `date` that the schedule matches.
    public func next(after date: Date) -> Date {
        let cal = Self.utc
        var t = cal.date(bySetting: .second, value: 0, of: date.addingTimeInterval(60)) ?? date
        t = Date(timeIntervalSince1970: (t.timeIntervalSince1970 / 60).rounded(.down) * 60)
        // Five years bounds the search, as robfig/cron does; `0 0 30 2 *` never fires.
        let limit = date.addingTimeInterval(5 * 366 * 86400)
        while t < limit {
            let c = cal.dateComponents([.minute, .hour, .day, .month, .weekday], from: t)
            if !months.contains(c.month!) {
                t = cal.date(from: DateComponents(year: cal.component(.year, from: t), month: c.month! + 1, day: 1)) ?? limit
                continue
            }
            if !dayMatches(day: c.day!, weekday: c.weekday! - 1) {
                t = cal.startOfDay(for: t).addingTimeInterval(86400)
                continue
            }
            if !hours.contains(c.hour!) {
                t = Date(timeIntervalSince1970: (t.timeIntervalSince1970 / 3600).rounded(.down) * 3600 + 3600)
                continue
            }
            if !minutes.contains(c.minute!) {
                t = t.addingTimeInterval(60)
                continue
            }
            return t
        }
        return limit
    }

    /// The schedule itself, or an error when it never fires: only a day of the month that no
    /// month it names has (`0 0 30 2 *`, `0 0 31 4 *`) can do that. Checked when a role is
    /// written, so that a role is never planned five years out by a schedule that cannot happen.
    @discardableResult
    public func checkFires() throws -> CronSchedule {
        // A restricted day of the week always matches some day (either field may match when both are set).
        guard !domIsStar, dowIsStar else { return self }
        let longest = [1: 31, 2: 29, 3: 31, 4: 30, 5: 31, 6: 30, 7: 31, 8: 31, 9: 30, 10: 31, 11: 30, 12: 31]
        if months.contains(where: { month in daysOfMonth.contains { $0 <= longest[month]! } }) { return self }
        throw ParseError(description: "the schedule never fires: no month in it has day \(daysOfMonth.sorted().map(String.init).joined(separator: ","))")
    }

    /// Cron's rule: when both day fields are restricted, either may match.
    private func dayMatches(day: Int, weekday: Int) -> Bool {
        if domIsStar || dowIsStar {
            return daysOfMonth.contains(day) && daysOfWeek.contains(weekday)
        }
        return daysOfMonth.contains(day) || daysOfWeek.contains(weekday)
    }
}
