import Basics
import DBPlugin
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `database/creds/:name` (dynamic credentials with a lease) and `database/static-creds/:name`.
extension Engine {
    static let credsPath = PathDeclaration(
        [.literal("creds"), .name(field: "name", of: .role, description: "Name of the role.")],
        synopsis: "Request database credentials for a certain role.",
        description: """
        Creates a database user with the role's creation statements and returns its username and \
        password with a lease of the role's default_ttl. Renew the lease with sys/leases/renew; when it \
        ends, the user is dropped.
        """,
        readChangesState: true,
        operations: [.read: { engine, request in try engine.createCredentials(request.name) }])

    static let staticCredsPath = PathDeclaration(
        [.literal("static-creds"), .name(field: "name", of: .staticRole, description: "Name of the static role.")],
        synopsis: "Request database credentials for a certain static role. These credentials are rotated periodically.",
        description: """
        Returns the static role's username and current password, the time of the last rotation and the \
        seconds until the next (ttl). A password whose rotation is due is rotated first.
        """,
        readChangesState: true,
        operations: [.read: { engine, request in try engine.readStaticCredentials(request.name) }])

    /// A new database user and its lease, under the one rule: the intent names the user before it
    /// exists, the lease is stored after, and a failure of either step drops the user again.
    func createCredentials(_ roleName: String) throws -> EngineResponse? {
        guard let role = try roles.read(roleName) else { throw EngineError.invalid("unknown role: \(roleName)") }
        let config = try settledConnection(role.dbName)
        guard Glob.isAllowed(role: roleName, by: config.allowedRoles) else {
            throw EngineError.failed("\"\(roleName)\" is not an allowed role")
        }
        guard role.credentialType == .password else {
            throw EngineError.invalid("unsupported credential_type: \"\(role.credentialType.rawValue)\"")
        }
        settleAbandonedCreds(ofRole: roleName)
        let issued = now
        let ttl = try LeaseTTL.calculate(increment: 0, roleTTL: role.defaultTTL, roleMaxTTL: role.maxTTL, mount: scope.ttls,
                                         start: issued, now: issued)
        let password = try generatePassword(rolePolicy: Self.rolePasswordPolicy(role.credentialConfig), config: config)
        let leaseID = "\(scope.path)creds/\(roleName)/\(SecureRandom.base62(24))"
        let leaseFile = Lease.fileName(forID: leaseID)!

        return try withLock(.lease, leaseFile) {
            try withPlugin(config: config) { session in
                var sanitizer = session.sanitizer
                sanitizer.add(password)
                let username: String
                do {
                    username = try session.plugin.generateUsername(
                        UsernameMetadata(displayName: environment.displayName, roleName: roleName))
                } catch {
                    throw EngineError.failed(sanitizer.clean(error))
                }
                let revocationStatements = role.revocationStatements.isEmpty ? nil : role.revocationStatements
                let lease = Lease(id: leaseID, role: roleName, dbName: role.dbName, username: username,
                                  revocationStatements: revocationStatements,
                                  issueTime: issued, expireTime: issued.addingTimeInterval(TimeInterval(ttl.ttl)))
                try changeDatabase(
                    recording: CredsIntent(leaseID: leaseID, role: roleName, dbName: role.dbName, username: username,
                                           revocationStatements: revocationStatements, createdAt: issued),
                    replacing: nil,
                    change: {
                        _ = try session.plugin.newUser(NewUserRequest(
                            usernameConfig: UsernameMetadata(displayName: environment.displayName, roleName: roleName),
                            username: username,
                            statements: role.creationStatements,
                            rollbackStatements: role.rollbackStatements,
                            password: password,
                            expiration: issued.addingTimeInterval(TimeInterval(ttl.ttl + 5))))
                    },
                    store: { try leases.write(lease) },
                    describe: { EngineError.failed(sanitizer.clean($0)) })
                return EngineResponse(data: ["username": .string(username), "password": .string(password)],
                                      warnings: ttl.warning.map { [$0] } ?? [],
                                      leaseID: leaseID, leaseDuration: ttl.ttl, renewable: true)
            }
        }
    }

    func readStaticCredentials(_ roleName: String) throws -> EngineResponse? {
        var role = try staticRoles.read(roleName)
        let unsettled = intents.exists(.staticRotation, roleName)
        guard role != nil || unsettled else { throw EngineError.invalid("unknown role: \(roleName)") }
        // Never hand out a password the database may refuse (an interrupted rotation) or one past
        // its rotation time: settle and rotate first, under the role's lock, re-reading the role
        // once the lock is ours in case another process just did. A failure here is an error,
        // not the stale password.
        if unsettled || isRotationDue(role!, at: now) {
            role = try withLock(.staticRole, roleName) {
                var current = try settledStaticRole(roleName)
                if isRotationDue(current, at: now) {
                    if current.plan.isInsideWindow(planned: current.nextVaultRotation, at: now) {
                        current = try rotateStaticAccount(roleName, current, isCreate: false)
                    } else {
                        current.nextVaultRotation = current.plan.next(after: now)
                        try staticRoles.write(roleName, current)
                    }
                }
                return current
            }
        }
        return try staticCredentials(roleName, role!)
    }

    /// The static role after settling an interrupted rotation on it (the caller holds its lock):
    /// until settled, its stored password may be one the database refuses, so it is never handed
    /// out; a rotation that cannot be settled now is an error.
    func settledStaticRole(_ name: String) throws -> StaticRole {
        try settleIntent(.staticRotation, name, mode: .recovery)
        guard let role = try staticRoles.read(name) else { throw EngineError.invalid("unknown role: \(name)") }
        return role
    }

    private func staticCredentials(_ roleName: String, _ role: StaticRole) throws -> EngineResponse? {
        guard let config = try connections.read(role.dbName) else { throw Self.missingConnection(role.dbName) }
        guard Glob.isAllowed(role: roleName, by: config.allowedRoles) else {
            throw EngineError.failed("\"\(roleName)\" is not an allowed role")
        }
        let current = now
        var data: [String: JSONValue] = [
            "username": .string(role.username),
            "password": .string(role.password),
        ]
        if let last = role.lastVaultRotation { data["last_vault_rotation"] = .string(Timestamp.format(last)) }
        Self.addRotationFields(role, to: &data)
        // Vault's ttl: a period role's planned rotation, a schedule's next slot from now. A role
        // rotated only on request has no countdown.
        let next = role.rotationSchedule.isEmpty ? plannedRotation(of: role) : role.plan.next(after: current)
        if let next { data["ttl"] = .int(max(0, Int(next.timeIntervalSince(current).rounded()))) }
        return EngineResponse(data: data)
    }
}
