import DBPlugin
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Vault's `setStaticAccount`: generate a password, record the intent, change it in the
/// database, store it. Used by static role create, `rotate-role`, `static-creds` when due, the
/// scheduler and recovery. The caller holds the role's lock; it is held across the network call.
///
/// Two variants go through the same rule: a self-managed role logs in as the account with its
/// current password and changes its own password (no root credential is used), and a role that
/// retains its previous password asks the database to keep the current one valid beside the new
/// one, dropping the one the previous rotation kept.
extension Engine {
    /// Rotates and stores the role; returns the stored role. On failure the role (if it already
    /// exists) records the error and, unless it rotates only on request, a retry time 10 s out,
    /// and the error is thrown.
    @discardableResult
    func rotateStaticAccount(_ name: String, _ role: StaticRole, isCreate: Bool) throws -> StaticRole {
        let config = try settledConnection(role.dbName)
        guard Glob.isAllowed(role: name, by: config.allowedRoles) else {
            throw EngineError.failed("\"\(name)\" is not an allowed role")
        }
        guard role.credentialType == .password else {
            throw EngineError.invalid("unsupported credential_type: \"\(role.credentialType.rawValue)\"")
        }
        if config.isSelfManaged && !role.isSelfManaged {
            throw Self.selfManagedConnectionNeedsPassword(role.dbName)
        }
        // An earlier attempt whose outcome is unknown: its passwords stay candidates until this
        // one is stored.
        let earlier = try intents.read(StaticRotationIntent.self, name)
        if role.isSelfManaged && earlier != nil {
            // The account's current password is the one the interrupted rotation may have changed:
            // without it, a self-managed account cannot log in to change its password.
            throw EngineError.failed("the last rotation of self-managed static role \(name) is not settled, so its current password is not known")
        }
        // A fresh password on every attempt, also after a failure: never retry one forever.
        let password = try generatePassword(rolePolicy: Self.rolePasswordPolicy(role.credentialConfig), config: config)
        let earlierPasswords = Array((earlier?.passwords ?? []).prefix(StaticRotationIntent.maximumEarlierPasswords))
        // Two passwords only from a known state: after an interrupted attempt, which password is
        // current is not known, and the new one replaces them all.
        let retained = role.retainsPreviousPassword && earlier == nil && !role.password.isEmpty ? role.password : nil
        let intent = StaticRotationIntent(role: name, username: role.username, newPassword: password, createdAt: now,
                                          earlierPasswords: earlierPasswords.isEmpty ? nil : earlierPasswords,
                                          creation: isCreate ? role : nil, retainedPassword: retained)
        var rotated = role
        do {
            try withPlugin(config: config, verify: !role.isSelfManaged, shared: true) { session in
                var sanitizer = session.sanitizer
                ([password, role.password, role.previousPassword ?? ""] + earlierPasswords).forEach { sanitizer.add($0) }
                try changeDatabase(
                    recording: intent, replacing: earlier,
                    change: {
                        _ = try session.plugin.updateUser(UpdateUserRequest(
                            username: role.username,
                            password: PasswordChange(newPassword: password, statements: role.rotationStatements,
                                                     retainedPassword: retained, discardedPassword: role.previousPassword),
                            selfManagedPassword: role.isSelfManaged ? role.password : nil))
                    },
                    store: {
                        rotated = Self.rotated(role, to: password, at: now, retaining: retained)
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
                // A role rotated only on request is retried only on request.
                failed.retryAt = failed.isManualOnly ? nil : now.addingTimeInterval(10)
                try? staticRoles.write(name, failed)
            }
            throw error
        }
        return rotated
    }

    /// The role once the database holds `password` since `time`; `retained` is the password kept
    /// valid beside it, if any.
    static func rotated(_ role: StaticRole, to password: String, at time: Date, retaining retained: String?) -> StaticRole {
        var rotated = role
        rotated.password = password
        rotated.previousPassword = retained
        let grace = role.previousPasswordGrace ?? 0
        rotated.previousPasswordExpiry = retained != nil && grace > 0 ? time.addingTimeInterval(TimeInterval(grace)) : nil
        rotated.lastVaultRotation = time
        rotated.nextVaultRotation = role.plan.next(after: time)
        rotated.retryAt = nil
        rotated.lastError = nil
        rotated.failedAttempts = 0
        return rotated
    }

    /// Ends the validity of the password the last rotation retained (its grace period is over):
    /// afterwards only the current one logs in. No intent: the change touches no password the
    /// engine hands out, and done twice it is done once (the plugins treat a password already gone
    /// as success), so a crash before the role is stored only makes the next pass do it again.
    func discardPreviousPassword(_ name: String, _ role: StaticRole) throws -> StaticRole {
        guard let previous = role.previousPassword else { return role }
        var updated = role
        do {
            let config = try settledConnection(role.dbName)
            try withPlugin(config: config, shared: true) { session in
                var sanitizer = session.sanitizer
                [role.password, previous].forEach { sanitizer.add($0) }
                do {
                    _ = try session.plugin.updateUser(UpdateUserRequest(
                        username: role.username,
                        discardPreviousPassword: PreviousPasswordDiscard(currentPassword: role.password, previousPassword: previous)))
                } catch {
                    throw EngineError.failed("cannot discard the previous password of \(role.username): \(sanitizer.clean(error))")
                }
            }
        } catch let error as EngineError {
            updated.previousPasswordExpiry = now.addingTimeInterval(10)
            try? staticRoles.write(name, updated)
            throw error
        }
        updated.previousPassword = nil
        updated.previousPasswordExpiry = nil
        try staticRoles.write(name, updated)
        return updated
    }

    static func selfManagedConnectionNeedsPassword(_ connection: String) -> EngineError {
        .invalid("connection \"\(connection)\" is self-managed (it has no root credential): only self-managed static roles can use it; give the account's current password as self_managed_password")
    }

    // MARK: When work on a static role is due

    /// What comes due on a static role: its rotation, or the end of its retained previous
    /// password's grace period.
    enum StaticRoleWork: Equatable {
        case rotation
        case previousPasswordExpiry
    }

    /// The next work due on `role` and when, nil when nothing ever is (a manual-only role with no
    /// retained password). The one function every scheduler asks: `tidy`, `agent`, `static-creds`,
    /// and the due-time index of static roles.
    func nextDueWork(of role: StaticRole) -> (time: Date, work: StaticRoleWork)? {
        Self.nextDueWork(of: role, now: now)
    }

    static func nextDueWork(of role: StaticRole, now: Date) -> (time: Date, work: StaticRoleWork)? {
        let rotation = role.isManualOnly ? nil : (role.retryAt ?? plannedRotation(of: role, now: now))
        let expiry = role.previousPassword == nil ? nil : role.previousPasswordExpiry
        switch (rotation, expiry) {
        case let (rotation?, expiry?) where expiry < rotation: return (expiry, .previousPasswordExpiry)
        case let (rotation?, _): return (rotation, .rotation)
        case let (nil, expiry?): return (expiry, .previousPasswordExpiry)
        case (nil, nil): return nil
        }
    }

    /// When the role's password stops being valid to hand out; nil for a role rotated only on request.
    func plannedRotation(of role: StaticRole) -> Date? {
        Self.plannedRotation(of: role, now: now)
    }

    static func plannedRotation(of role: StaticRole, now: Date) -> Date? {
        if role.isManualOnly { return nil }
        return role.nextVaultRotation ?? role.plan.next(after: role.lastVaultRotation ?? now)
    }

    func isRotationDue(_ role: StaticRole, at time: Date) -> Bool {
        plannedRotation(of: role).map { $0 <= time } ?? false
    }
}
