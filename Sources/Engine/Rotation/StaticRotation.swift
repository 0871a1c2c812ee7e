import DBPlugin
import Foundation

/// Vault's `setStaticAccount`: generate a password, record the intent, change it in the
/// database, store it. Used by static role create, `rotate-role`, `static-creds` when due, and
/// the scheduler. The caller holds the role's lock; it is the one lock held across a network call.
extension Engine {
    static func staticIntentName(_ role: String) -> String { "static-" + role }

    /// Rotates and stores the role; returns the stored role. On failure the role (if it already
    /// exists) records the error and a retry time 10 s out, and the error is thrown.
    @discardableResult
    func rotateStaticAccount(_ name: String, _ role: StaticRole, isCreate: Bool) throws -> StaticRole {
        guard let config = try connections.read(role.dbName) else {
            throw EngineError.failed("failed to find entry for connection with name: \"\(role.dbName)\"")
        }
        guard Glob.isAllowed(role: name, by: config.allowedRoles) else {
            throw EngineError.failed("\"\(name)\" is not an allowed role")
        }
        guard role.credentialType == .password else {
            throw EngineError.invalid("unsupported credential_type: \"\(role.credentialType.rawValue)\"")
        }
        // A fresh password on every attempt, also after a failure: never retry one forever.
        let password = try generatePassword(rolePolicy: Self.rolePasswordPolicy(role.credentialConfig), config: config)
        let intentName = Self.staticIntentName(name)
        try staticIntents.write(intentName, StaticRotationIntent(role: name, username: role.username,
                                                                  newPassword: password, createdAt: now))
        var updated = role
        do {
            let (_, plugin, baseSanitizer) = try open(config)
            defer { plugin.close() }
            var sanitizer = baseSanitizer
            sanitizer.add(password)
            sanitizer.add(role.password)
            do {
                _ = try plugin.updateUser(UpdateUserRequest(
                    username: role.username,
                    password: PasswordChange(newPassword: password, statements: role.rotationStatements)))
            } catch {
                throw EngineError.failed("error setting credentials: \(sanitizer.clean(error))")
            }
        } catch let error as EngineError {
            if isCreate {
                try? staticIntents.delete(intentName)
            } else {
                // Saturating: the count comes from a state file that may have been edited by hand.
                updated.failedAttempts = updated.failedAttempts.addingReportingOverflow(1).overflow ? Int.max : updated.failedAttempts + 1
                updated.lastError = error.message
                updated.retryAt = now.addingTimeInterval(10)
                try staticRoles.write(name, updated)
            }
            throw error
        }
        let rotatedAt = now
        updated.password = password
        updated.lastVaultRotation = rotatedAt
        updated.nextVaultRotation = nextRotation(of: updated, after: rotatedAt)
        updated.retryAt = nil
        updated.lastError = nil
        updated.failedAttempts = 0
        try staticRoles.write(name, updated)
        try staticIntents.delete(intentName)
        return updated
    }

    /// Period roles: last rotation + period. Schedule roles: the schedule's next slot.
    func nextRotation(of role: StaticRole, after date: Date) -> Date {
        if !role.rotationSchedule.isEmpty, let schedule = try? CronSchedule(role.rotationSchedule) {
            return schedule.next(after: date)
        }
        // Clamped: writes validate the period, but a state file edited by hand may hold anything,
        // and a date centuries out traps where it is formatted or turned into a TTL.
        return date.addingTimeInterval(TimeInterval(min(max(role.rotationPeriod, 0), DurationField.maximumSeconds)))
    }

    /// When the role's password stops being valid to hand out.
    func plannedRotation(of role: StaticRole) -> Date {
        role.nextVaultRotation ?? nextRotation(of: role, after: role.lastVaultRotation ?? now)
    }

    /// When the scheduler should try next: a pending retry (10 s after a failure), else the plan.
    func dueTime(of role: StaticRole) -> Date {
        role.retryAt ?? plannedRotation(of: role)
    }

    /// Vault's `IsInsideRotationWindow`: a schedule role whose window passed waits for the next slot.
    func isInsideRotationWindow(_ role: StaticRole, at time: Date) -> Bool {
        guard !role.rotationSchedule.isEmpty, role.rotationWindow > 0, let planned = role.nextVaultRotation else { return true }
        return time < planned.addingTimeInterval(TimeInterval(role.rotationWindow))
    }
}
