import DBPlugin
import Foundation

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
        let lock = try state.lock(.staticRole, name)
        defer { withExtendedLifetime(lock) {} }
        guard let role = try staticRoles.read(name) else {
            throw EngineError.invalid("no static role found for role name")
        }
        do {
            try rotateStaticAccount(name, role, isCreate: false)
        } catch let error as EngineError where error.kind == .operationFailed {
            throw EngineError.failed("unable to finish rotating credentials; retries will continue in the background but it is also safe to retry manually: \(error.message)")
        }
        return nil
    }

    /// Rotates the engine's own database credential. The intent record (old and new password)
    /// is written before the database changes and removed after the new password is stored, so
    /// `tidy` can roll an interrupted rotation forward or back.
    func rotateRoot(_ name: String) throws -> EngineResponse? {
        let lock = try state.lock(.connection, name)
        defer { withExtendedLifetime(lock) {} }
        guard var config = try connections.read(name) else {
            throw EngineError.failed("failed to find entry for connection with name: \"\(name)\"")
        }
        guard let username = config.connectionDetails["username"]?.textValue, !username.isEmpty else {
            throw EngineError.failed("unable to rotate root credentials: no username in configuration")
        }
        guard let oldPassword = config.connectionDetails["password"]?.textValue, !oldPassword.isEmpty else {
            throw EngineError.failed("unable to rotate root credentials: no password in configuration")
        }
        let newPassword = try generatePassword(rolePolicy: nil, config: config)
        let (_, plugin, baseSanitizer) = try open(config)
        defer { plugin.close() }
        var sanitizer = baseSanitizer
        sanitizer.add(newPassword)

        let intentName = Self.rootIntentName(name)
        try rootIntents.write(intentName, RootRotationIntent(connection: name, username: username, oldPassword: oldPassword,
                                                             newPassword: newPassword, createdAt: now))
        do {
            _ = try plugin.updateUser(UpdateUserRequest(
                username: username,
                password: PasswordChange(newPassword: newPassword, statements: config.rootRotationStatements),
                isRootRotation: true))
        } catch let error as PluginError where error.kind == .unsupported {
            try rootIntents.delete(intentName)
            throw EngineError.invalid(sanitizer.clean(error))
        } catch {
            // Nothing changed that we know of; the intent stays for `tidy` to settle, as Vault's WAL.
            throw EngineError.failed("failed to update user: \(sanitizer.clean(error))")
        }
        config.connectionDetails["password"] = .string(newPassword)
        try connections.write(name, config)
        try rootIntents.delete(intentName)
        return nil
    }

    static func rootIntentName(_ connection: String) -> String { "root-" + connection }
}
