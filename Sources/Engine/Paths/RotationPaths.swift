import DBPlugin
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `database/rotate-root/:name` and `database/rotate-role/:name`.
extension Engine {
    static let rotateRootPath = PathDeclaration(
        [.literal("rotate-root"), connectionName],
        synopsis: "Request to rotate the root credentials for a certain database connection.",
        description: """
        Changes the password of the connection's own user (username in the connection) in the \
        database, with root_rotation_statements or the plugin's default, and stores the new one. \
        Afterwards only the engine knows it.
        """,
        operations: [.write: { engine, request in try engine.rotateRoot(request.name) }])

    static let rotateRolePath = PathDeclaration(
        [.literal("rotate-role"), .name(field: "name", of: .staticRole, description: "Name of the static role.")],
        synopsis: "Request to rotate the credentials for a static user account.",
        description: "Rotates the static role's password now, and plans the next rotation from now.",
        operations: [.write: { engine, request in try engine.rotateRole(request.name) }])

    func rotateRole(_ name: String) throws -> EngineResponse? {
        try withLock(.staticRole, name) {
            // An interrupted rotation is settled first where it can be; if it cannot, this
            // rotation carries its passwords along and settles it by succeeding.
            _ = try? settleIntent(.staticRotation, name, mode: .afterFailure)
            let stored = try staticRoles.read(name)
            guard let role = try stored ?? intents.read(StaticRotationIntent.self, name)?.creation else {
                throw EngineError.invalid("no static role found for role name")
            }
            do {
                try rotateStaticAccount(name, role, isCreate: stored == nil)
            } catch let error as EngineError where error.kind == .operationFailed {
                if role.isManualOnly {
                    // Rotated only on request: nothing retries in the background.
                    throw EngineError.failed("unable to finish rotating credentials; it is safe to retry: \(error.message)")
                }
                throw EngineError.failed("unable to finish rotating credentials; retries will continue in the background but it is also safe to retry manually: \(error.message)")
            }
            return nil
        }
    }

    /// Rotates the engine's own database credential under the one rule: the intent (old and new
    /// password) is written before the database changes and removed after the new password is
    /// stored.
    func rotateRoot(_ name: String) throws -> EngineResponse? {
        try withLock(.connection, name) { _ = try rotateRootLocked(name) }
        return nil
    }

    /// `rotate-root` and the automated rotation of `tidy` and `agent`, the caller holding the
    /// connection's lock; returns the stored connection. A failure is recorded on the connection
    /// when its rotation is automated, with a retry 10 s out (at its next planned time when the
    /// plugin refused the rotation as such, which retrying cannot change).
    @discardableResult
    func rotateRootLocked(_ name: String) throws -> DatabaseConfig {
        do {
            return try rotateRootOnce(name)
        } catch let error as EngineError {
            if var failed = try? connections.read(name), !failed.rootPlan.disabled {
                failed.rootLastError = error.message
                failed.rootRetryAt = error.kind == .operationFailed ? now.addingTimeInterval(10) : nil
                if error.kind != .operationFailed { failed.nextRootRotation = failed.rootPlan.next(after: now) }
                try? connections.write(name, failed)
            }
            throw error
        }
    }

    private func rotateRootOnce(_ name: String) throws -> DatabaseConfig {
        let earlier = try intents.read(RootRotationIntent.self, name)
        if earlier != nil { try settleIntent(.rootRotation, name, mode: .recovery) }
        guard var config = try connections.read(name) else { throw Self.missingConnection(name) }
        guard let username = config.connectionDetails["username"]?.textValue, !username.isEmpty else {
            throw EngineError.failed("unable to rotate root credentials: no username in configuration")
        }
        guard let oldPassword = config.connectionDetails["password"]?.textValue, !oldPassword.isEmpty else {
            throw EngineError.failed("unable to rotate root credentials: no password in configuration")
        }
        let newPassword = try generatePassword(rolePolicy: nil, config: config)
        try withPlugin(config: config, shared: true) { session in
            var sanitizer = session.sanitizer
            sanitizer.add(newPassword)
            try changeDatabase(
                recording: RootRotationIntent(connection: name, username: username, oldPassword: oldPassword,
                                              newPassword: newPassword, createdAt: now),
                replacing: nil,
                change: {
                    _ = try session.plugin.updateUser(UpdateUserRequest(
                        username: username,
                        password: PasswordChange(newPassword: newPassword, statements: config.rootRotationStatements),
                        isRootRotation: true))
                },
                store: {
                    config = Self.rootRotated(config, to: newPassword, at: now)
                    try connections.write(name, config)
                },
                describe: { error in
                    if (error as? PluginError)?.kind == .unsupported { return EngineError.invalid(sanitizer.clean(error)) }
                    return EngineError.failed("failed to update user: \(sanitizer.clean(error))")
                })
        }
        return config
    }

    /// The connection once the database holds `password` for its root user since `time`.
    static func rootRotated(_ config: DatabaseConfig, to password: String, at time: Date) -> DatabaseConfig {
        var rotated = config
        rotated.connectionDetails["password"] = .string(password)
        rotated.lastRootRotation = time
        rotated.nextRootRotation = config.rootPlan.next(after: time)
        rotated.rootRetryAt = nil
        rotated.rootLastError = nil
        return rotated
    }

    /// When the connection's root password is next due for automated rotation; nil when never.
    /// The one function `tidy` and `agent` (and `read database/config/NAME`) ask.
    func rootRotationDue(of config: DatabaseConfig) -> Date? {
        let plan = config.rootPlan
        if plan.disabled { return nil }
        return config.rootRetryAt ?? config.nextRootRotation ?? plan.next(after: config.lastRootRotation ?? now)
    }
}
