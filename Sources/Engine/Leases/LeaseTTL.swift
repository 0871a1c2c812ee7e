#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Vault's `framework.CalculateTTL`: a lease's TTL is the increment asked for, else the role's
/// `default_ttl`, else the mount's `default_lease_ttl`, else the system's (768h); it ends no later
/// than the issue time plus the smallest of the role's `max_ttl`, the mount's `max_lease_ttl` (or
/// the system's 768h when the mount has none). Times are whole seconds, `now` and the issue time
/// alike, so a role with `default_ttl=1h max_ttl=1h` gets exactly 1h.
public struct LeaseTTL: Sendable, Equatable {
    public static let systemDefault = 768 * 3600
    public static let systemMaximum = 768 * 3600

    public var ttl: Int
    public var warning: String?

    /// A mount's TTLs as a lease sees them: its own where set, else the system's.
    public struct MountTTLs: Sendable, Equatable {
        public var defaultTTL: Int
        public var maximumTTL: Int

        public init(defaultTTL: Int = 0, maximumTTL: Int = 0) {
            self.defaultTTL = defaultTTL > 0 ? defaultTTL : LeaseTTL.systemDefault
            self.maximumTTL = maximumTTL > 0 ? maximumTTL : LeaseTTL.systemMaximum
        }

        public static let system = MountTTLs()
    }

    /// - Parameters:
    ///   - increment: requested TTL (renew `-increment`), 0 for none.
    ///   - roleTTL: the role's `default_ttl`.
    ///   - roleMaxTTL: the role's `max_ttl`.
    ///   - mount: the TTLs of the mount the role is under.
    ///   - start: the lease's issue time; the maximum runs from there.
    public static func calculate(increment: Int, roleTTL: Int, roleMaxTTL: Int, mount: MountTTLs = .system,
                                 start: Date, now: Date) throws -> LeaseTTL {
        var maxTTL = mount.maximumTTL
        if roleMaxTTL > 0 && roleMaxTTL < maxTTL { maxTTL = roleMaxTTL }
        var ttl = increment > 0 ? increment : (roleTTL > 0 ? roleTTL : mount.defaultTTL)
        let startSecond = start.timeIntervalSince1970.rounded(.down)
        let nowSecond = now.timeIntervalSince1970.rounded(.down)
        let remaining = Int(startSecond + Double(maxTTL) - nowSecond)
        guard remaining > 0 else { throw EngineError.invalid("past the max TTL, cannot renew") }
        var warning: String?
        if ttl > remaining {
            warning = "TTL of \"\(DurationField.human(ttl))\" exceeded the effective max_ttl of \"\(DurationField.human(remaining))\"; TTL value is capped accordingly"
            ttl = remaining
        }
        return LeaseTTL(ttl: ttl, warning: warning)
    }
}
