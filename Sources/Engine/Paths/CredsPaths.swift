import Basics
import DBPlugin
import Foundation

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
        operations: [.read: { engine, request in try engine.createCredentials(request.name) }])

    static let staticCredsPath = PathDeclaration(
        [.literal("static-creds"), .name(field: "name", of: .staticRole, description: "Name of the static role.")],
        synopsis: "Request database credentials for a certain static role. These credentials are rotated periodically.",
        description: """
        Returns the static role's username and current password, the time of the last rotation and the \
        seconds until the next (ttl). A password whose rotation is due is rotated first.
        """,
        operations: [.read: { engine, request in try engine.readStaticCredentials(request.name) }])

    func createCredentials(_ roleName: String) throws -> EngineResponse? {
        guard let role = try roles.read(roleName) else { throw EngineError.invalid("unknown role: \(roleName)") }
        guard let config = try connections.read(role.dbName) else {
            throw EngineError.failed("failed to find entry for connection with name: \"\(role.dbName)\"")
        }
        guard Glob.isAllowed(role: roleName, by: config.allowedRoles) else {
            throw EngineError.failed("\"\(roleName)\" is not an allowed role")
        }
        guard role.credentialType == .password else {
            throw EngineError.invalid("unsupported credential_type: \"\(role.credentialType.rawValue)\"")
        }
        let issued = now
        let ttl = try LeaseTTL.calculate(increment: 0, roleTTL: role.defaultTTL, roleMaxTTL: role.maxTTL,
                                         start: issued, now: issued)
        let password = try generatePassword(rolePolicy: Self.rolePasswordPolicy(role.credentialConfig), config: config)
        let leaseID = "database/creds/\(roleName)/\(SecureRandom.base62(24))"

        let (_, plugin, baseSanitizer) = try open(config)
        defer { plugin.close() }
        var sanitizer = baseSanitizer
        sanitizer.add(password)

        // Recorded before the user exists, removed once the lease is stored: a crash in between
        // is reported by `tidy` instead of leaving a user nobody knows about.
        let intentName = "creds-" + Lease.fileName(forID: leaseID)!
        try credsIntents.write(intentName, CredsIntent(leaseID: leaseID, role: roleName, dbName: role.dbName, createdAt: issued))
        let username: String
        do {
            username = try plugin.newUser(NewUserRequest(
                usernameConfig: UsernameMetadata(displayName: environment.displayName, roleName: roleName),
                statements: role.creationStatements,
                rollbackStatements: role.rollbackStatements,
                password: password,
                expiration: issued.addingTimeInterval(TimeInterval(ttl.ttl + 5)))).username
        } catch {
            try? credsIntents.delete(intentName)
            throw EngineError.failed(sanitizer.clean(error))
        }
        let lease = Lease(id: leaseID, role: roleName, dbName: role.dbName, username: username,
                          revocationStatements: role.revocationStatements.isEmpty ? nil : role.revocationStatements,
                          issueTime: issued, expireTime: issued.addingTimeInterval(TimeInterval(ttl.ttl)))
        try leases.write(lease)
        try credsIntents.delete(intentName)
        return EngineResponse(data: ["username": .string(username), "password": .string(password)],
                              warnings: ttl.warning.map { [$0] } ?? [],
                              leaseID: leaseID, leaseDuration: ttl.ttl, renewable: true)
    }

    func readStaticCredentials(_ roleName: String) throws -> EngineResponse? {
        guard var role = try staticRoles.read(roleName) else { throw EngineError.invalid("unknown role: \(roleName)") }
        guard let config = try connections.read(role.dbName) else {
            throw EngineError.failed("failed to find entry for connection with name: \"\(role.dbName)\"")
        }
        guard Glob.isAllowed(role: roleName, by: config.allowedRoles) else {
            throw EngineError.failed("\"\(roleName)\" is not an allowed role")
        }
        // Never hand out a password past its rotation time: rotate first, under the role's lock,
        // re-reading the role once the lock is ours in case another process just rotated it. A
        // rotation that fails here is an error, not the stale password.
        if plannedRotation(of: role) <= now {
            let lock = try state.lock(.staticRole, roleName)
            defer { withExtendedLifetime(lock) {} }
            guard let current = try staticRoles.read(roleName) else { throw EngineError.invalid("unknown role: \(roleName)") }
            role = current
            if plannedRotation(of: role) <= now {
                if isInsideRotationWindow(role, at: now) {
                    role = try rotateStaticAccount(roleName, role, isCreate: false)
                } else {
                    role.nextVaultRotation = nextRotation(of: role, after: now)
                    try staticRoles.write(roleName, role)
                }
            }
        }
        let current = now
        var data: [String: JSONValue] = [
            "username": .string(role.username),
            "password": .string(role.password),
        ]
        if let last = role.lastVaultRotation { data["last_vault_rotation"] = .string(Timestamp.format(last)) }
        Self.addRotationFields(role, to: &data)
        let next: Date = role.rotationSchedule.isEmpty
            ? nextRotation(of: role, after: role.lastVaultRotation ?? current)
            : nextRotation(of: role, after: current)
        data["ttl"] = .int(max(0, Int(next.timeIntervalSince(current).rounded())))
        return EngineResponse(data: data)
    }
}
