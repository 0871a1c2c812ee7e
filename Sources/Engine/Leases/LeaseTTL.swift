import Foundation

/// Vault's `framework.CalculateTTL` with the system defaults of a mount that was never tuned:
/// default and maximum lease TTL 768h.
public struct LeaseTTL: Sendable {
    public static let systemDefault = 768 * 3600
    public static let systemMaximum = 768 * 3600

    public var ttl: Int
    public var warning: String?

    /// - Parameters:
    ///   - increment: requested TTL (renew `-increment`), 0 for none.
    ///   - roleTTL: the role's `default_ttl`.
    ///   - roleMaxTTL: the role's `max_ttl`.
    ///   - start: the lease's issue time; the maximum runs from there.
    public static func calculate(increment: Int, roleTTL: Int, roleMaxTTL: Int, start: Date, now: Date) throws -> LeaseTTL {
        var maxTTL = systemMaximum
        if roleMaxTTL > 0 && roleMaxTTL < maxTTL { maxTTL = roleMaxTTL }
        var ttl = increment > 0 ? increment : (roleTTL > 0 ? roleTTL : systemDefault)
        let startSecond = start.timeIntervalSince1970.rounded(.down)
        let maxValid = startSecond + Double(maxTTL)
        let remaining = Int((maxValid - now.timeIntervalSince1970).rounded(.down))
        guard remaining > 0 else { throw EngineError.invalid("past the max TTL, cannot renew") }
        var warning: String?
        if ttl > remaining {
            warning = "TTL of \"\(DurationField.human(ttl))\" exceeded the effective max_ttl of \"\(DurationField.human(remaining))\"; TTL value is capped accordingly"
            ttl = remaining
        }
        return LeaseTTL(ttl: ttl, warning: warning)
    }
}
