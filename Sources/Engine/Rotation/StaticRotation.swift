import DBPlugin
import Foundation

/// Vault's `setStaticAccount`: generate a password, record the intent, change it in the
/// database, store it. Used by static role create, `rotate-role`, `static-creds` when due, the
/// scheduler and recovery. The caller holds the role's lock; it is held across the network call.
extension Engine {
    /// Rotates and stores the role; returns the stored role. On failure the role (if it already
    /// exists) records the error and a retry time 10 s out, and the error is thrown.
    @discardableResult
    func rotateStaticAccount(_ name: String, _ role: StaticRole, isCreate: Bool) throws -> StaticRole {
        let config = try settledConnection(role.dbName)
        guard Glob.isAllowed(role: name, by: config.allowedRoles) else {
            throw EngineError.failed("\"\(name)\" is not an allowed role")
        }
        guard role.credentialType == .password else {
            throw EngineError.invalid("unsupported credential_type: \"\(role.credentialType.rawValue)\"")
        }
        // A fresh password on every attempt, also after a failure: never retry one forever.
        let password = try generatePassword(rolePolicy: Self.rolePasswordPolicy(role.credentialConfig), config: config)
        // An earlier attempt whose outcome is unknown: its passwords stay candidates until this
        // one is stored.
        let earlier = try intents.read(StaticRotationIntent.self, name)
        let earlierPasswords = Array((earlier?.passwords ?? []).prefix(StaticRotationIntent.maximumEarlierPasswords))
        let intent = StaticRotationIntent(role: name, username: role.username, newPassword: password, createdAt: now,
                                          earlierPasswords: earlierPasswords.isEmpty ? nil : earlierPasswords,
                                          creation: isCreate ? role : nil)
        var rotated = role
        do {
            try withPlugin(config: config) { session in
                var sanitizer = session.sanitizer
                ([password, role.password] + earlierPasswords).forEach { sanitizer.add($0) }
                try changeDatabase(
                    recording: intent, replacing: earlier,
                    change: {
                        _ = try session.plugin.updateUser(UpdateUserRequest(
                            username: role.username,
                            password: PasswordChange(newPassword: password, statements: role.rotationStatements)))
                    },
                    store: {
                        let rotatedAt = now
                        rotated.password = password
                        rotated.lastVaultRotation = rotatedAt
                        rotated.nextVaultRotation = nextRotation(of: rotated, after: rotatedAt)
                        rotated.retryAt = nil
                        rotated.lastError = nil
                        rotated.failedAttempts = 0
                        try staticRoles.write(name, rotated)
                    },
                    describe: { EngineError.failed("error setting credentials: \(sanitizer.clean($0))") })
            }
        } catch let error as EngineError {
            // The role as it is now (settling may have stored another password meanwhile).
            if !isCreate, var failed = try? staticRoles.read(name) {
                // Saturating: the count comes from a state file that may have been edited by hand.
                failed.failedAttempts = failed.failedAttempts.addingReportingOverflow(1).overflow ? Int.max : failed.failedAttempts + 1
                failed.lastError = error.message
                failed.retryAt = now.addingTimeInterval(10)
                try? staticRoles.write(name, failed)
            }
            throw error
        }
        return rotated
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
