#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// When a password is rotated on its own: every `period` seconds, or at each slot of a cron
/// `schedule` (UTC) within `window` seconds of it; or never, when automated rotation is disabled.
/// Static roles and connections (their root credential) share it, as Vault's rotation fields are
/// the same on both.
struct RotationPlan: Equatable {
    var period: Int
    var schedule: String
    var window: Int
    var disabled: Bool

    /// The rotation after one at `date`; nil when the plan never rotates.
    func next(after date: Date) -> Date? {
        if disabled { return nil }
        if !schedule.isEmpty, let cron = try? CronSchedule(schedule) { return cron.next(after: date) }
        guard period > 0 else { return nil }
        // Clamped: writes validate the period, but a state file edited by hand may hold anything,
        // and a date centuries out traps where it is formatted or turned into a TTL.
        return date.addingTimeInterval(TimeInterval(min(period, DurationField.maximumSeconds)))
    }

    /// Vault's `IsInsideRotationWindow`: a schedule slot planned for `planned` whose window passed
    /// waits for the next slot (the engine was not running).
    func isInsideWindow(planned: Date?, at time: Date) -> Bool {
        guard !schedule.isEmpty, window > 0, let planned else { return true }
        return time < planned.addingTimeInterval(TimeInterval(window))
    }

    /// Vault's checks of the rotation fields of one write (`rotation_period`, `rotation_schedule`,
    /// `rotation_window`) applied to `self`: the fields given replace those stored. `requireOne`:
    /// a create that must say when it rotates. Errors are Vault's texts for static roles.
    mutating func apply(period givenPeriod: Int?, schedule givenSchedule: String?, window givenWindow: Int?,
                        requireOne: Bool) throws {
        let schedule = givenSchedule ?? ""
        if !schedule.isEmpty && givenPeriod != nil {
            throw EngineError.invalid("mutually exclusive fields rotation_period and rotation_schedule were both specified; only one of them can be provided")
        }
        if requireOne && schedule.isEmpty && givenPeriod == nil {
            throw EngineError.invalid("one of rotation_schedule or rotation_period must be provided to create a static account")
        }
        if let period = givenPeriod {
            guard period >= 5 else { throw EngineError.invalid("rotation_period must be 5 seconds or more") }
            if givenWindow != nil { throw EngineError.invalid("rotation_window is invalid with use of rotation_period") }
            self.period = period
            self.schedule = ""
            self.window = 0
        } else if !schedule.isEmpty {
            do {
                _ = try CronSchedule(schedule).checkFires()
            } catch {
                throw EngineError.invalid("could not parse rotation_schedule: \(error)")
            }
            if let window = givenWindow { self.window = try Self.checkedWindow(window) }
            self.schedule = schedule
            self.period = 0
        } else if let window = givenWindow {
            guard !self.schedule.isEmpty else {
                throw EngineError.invalid("rotation_window is invalid with use of rotation_period")
            }
            self.window = try Self.checkedWindow(window)
        }
    }

    private static func checkedWindow(_ window: Int) throws -> Int {
        guard window >= 3600 else {
            throw EngineError.invalid("rotation_window is invalid: rotation_window must be 3600 seconds or more")
        }
        return window
    }
}
