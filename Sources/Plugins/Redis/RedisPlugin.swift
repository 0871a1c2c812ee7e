import CryptoPrimitives
@_exported import DBPlugin
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

public enum RedisPluginInfo {
    public static let name = "redis-database-plugin"
    /// OpenBao's plugin for Valkey (Redis' open fork): the same ACL commands, and the server may
    /// also be given as `connection_url` (`valkey://`, `valkeys://`).
    public static let valkeyName = "valkey-database-plugin"
}

extension RedisPlugin {
    public static let registration = PluginRegistration(names: [RedisPluginInfo.name]) { _ in RedisPlugin() }
    public static let valkeyRegistration = PluginRegistration(names: [RedisPluginInfo.valkeyName]) { _ in
        RedisPlugin(acceptsConnectionURL: true)
    }
}

/// Vault's `redis-database-plugin` for a stand-alone Redis 6+ server with ACLs.
///
/// Dynamic users are `ACL SETUSER <name> ON ><password> <rules…>`, revocation is `ACL DELUSER`,
/// static and root rotation are `ACL SETUSER <name> RESETPASS ><password>` on an existing user
/// (its other rules are kept). A rotation that keeps the previous password adds the new one and
/// removes the one kept before it instead (`ACL SETUSER <name> ><new> <<older>`, one command, so
/// all or nothing). The configured user needs the ACL commands (`+@admin`).
public final class RedisPlugin: DatabasePlugin {
    public let type: String
    private let acceptsConnectionURL: Bool

    private var configuration: RedisConfiguration?
    private var connection: RedisConnection?

    /// `acceptsConnectionURL`: the Valkey plugin (OpenBao's `valkey-database-plugin`).
    public init(acceptsConnectionURL: Bool = false) {
        self.acceptsConnectionURL = acceptsConnectionURL
        type = acceptsConnectionURL ? "valkey" : "redis"
    }

    deinit { close() }

    public func initialize(_ request: InitializeRequest) throws -> InitializeResponse {
        close()
        configuration = try RedisConfiguration(request.config, acceptsConnectionURL: acceptsConnectionURL)
        if request.verifyConnection {
            do {
                try verify()
            } catch {
                close()
                configuration = nil
                throw PluginError(error.kind, "error verifying connection: \(error.message)")
            }
        }
        return InitializeResponse(config: request.config)
    }

    /// Logs in and runs `ACL GETUSER` on our own user: harmless, and it proves the ACL rights
    /// every later operation needs. Sent with `AUTH`, in one round trip: it changes nothing.
    private func verify() throws(PluginError) {
        let configuration = try configured()
        let ownUser = ["ACL", "GETUSER", configuration.username]
        try withConnection(doing: nil, loggingInWith: ownUser) { redis, reply throws(RedisError) in
            if let reply { try redis.check(reply, of: ownUser) } else { try redis.command(ownUser) }
        }
        guard configuration.persistence == .aclSave else { return }
        let aclFile = try? withConnection(doing: nil) { redis throws(RedisError) in
            try redis.command(["CONFIG", "GET", "aclfile"])
        }
        if let values = aclFile?.arrayValue, values.count == 2, values[1].text == "" {
            throw PluginError(.invalidConfiguration,
                "persistence_mode ACLSAVE needs Redis started with an aclfile, but Redis at \(endpoint(configuration)) has none")
        }
    }

    public func newUser(_ request: NewUserRequest) throws -> NewUserResponse {
        let configuration = try configured()
        let rules = try RedisACLRules.parse(request.statements)
        let username = try request.username ?? generateUsername(request.usernameConfig)
        try withConnection(doing: "create user \"\(username)\"", secret: request.password) { redis throws(RedisError) in
            // ACL SETUSER on an existing name would silently widen that user: refuse instead.
            if try !redis.command(["ACL", "GETUSER", username]).isNull {
                throw RedisError(.server, "the user already exists in Redis at \(redis.endpoint)")
            }
            try redis.command(["ACL", "SETUSER", username, "ON", ">" + request.password] + rules)
            do throws(RedisError) {
                try persist(redis, configuration)
            } catch {
                // Creation is all or nothing: a user the server would forget at restart is not kept.
                _ = try? redis.command(["ACL", "DELUSER", username])
                throw error
            }
        }
        return NewUserResponse(username: username)
    }

    public func updateUser(_ request: UpdateUserRequest) throws -> UpdateUserResponse {
        try request.requireChanges()
        try request.requireSupport(by: self)
        var configuration = try configured()
        if let discard = request.discardPreviousPassword {
            try discardPassword(discard.previousPassword, of: request.username, configuration)
        }
        // Redis has no expiry for users: Vault's plugin ignores expiration changes.
        guard let change = request.password else { return UpdateUserResponse() }
        let username = request.isRootRotation && request.username.isEmpty ? configuration.username : request.username
        let isOwnUser = username == configuration.username
        try withConnection(doing: "change the password of user \"\(username)\"", secret: change.newPassword,
                           otherSecrets: [change.retainedPassword, change.discardedPassword].compactMap { $0 }) { redis throws(RedisError) in
            // RESETPASS on a missing user would create it with no rights: check first.
            let user = try redis.command(["ACL", "GETUSER", username])
            if user.isNull {
                throw RedisError(.server, "the user does not exist in Redis at \(redis.endpoint)")
            }
            if change.retainedPassword != nil {
                // Removing a password the user does not have fails the whole command: only one it has.
                let older = change.discardedPassword.flatMap { Self.has(user, password: $0) ? ["<" + $0] : nil } ?? []
                try redis.command(["ACL", "SETUSER", username, ">" + change.newPassword] + older)
                try persist(redis, configuration)
                return
            }
            try redis.command(["ACL", "SETUSER", username, "RESETPASS", ">" + change.newPassword])
            do throws(RedisError) {
                try persist(redis, configuration)
            } catch {
                // Our own login must keep matching the stored configuration, or nothing could
                // reconnect to put it right; other users are retried by the engine.
                if isOwnUser {
                    _ = try? redis.command(["ACL", "SETUSER", username, "RESETPASS", ">" + configuration.password])
                }
                throw error
            }
        }
        if isOwnUser {
            // The open connection stays logged in; new ones must use the new password.
            configuration.password = change.newPassword
            self.configuration = configuration
        }
        return UpdateUserResponse()
    }

    /// Two passwords per user (Redis keeps any number; the engine keeps at most two).
    public func supports(_ feature: PluginFeature) throws -> Bool {
        feature == .twoPasswords
    }

    /// `ACL SETUSER <name> <<password>`, when the user still has that password.
    private func discardPassword(_ password: String, of username: String, _ configuration: RedisConfiguration) throws {
        try withConnection(doing: "discard a password of user \"\(username)\"", secret: password) { redis throws(RedisError) in
            let user = try redis.command(["ACL", "GETUSER", username])
            if user.isNull {
                throw RedisError(.server, "the user does not exist in Redis at \(redis.endpoint)")
            }
            guard Self.has(user, password: password) else { return }
            try redis.command(["ACL", "SETUSER", username, "<" + password])
            try persist(redis, configuration)
        }
    }

    /// Whether an `ACL GETUSER` reply lists `password` (Redis shows each as its SHA-256 in hex).
    static func has(_ user: RESPValue, password: String) -> Bool {
        guard let fields = user.arrayValue, let index = fields.firstIndex(where: { $0.text == "passwords" }),
              index + 1 < fields.count, let hashes = fields[index + 1].arrayValue else { return false }
        let hash = SHA256.hash(Array(password.utf8)).hexString
        return hashes.contains { $0.text == hash }
    }

    public func deleteUser(_ request: DeleteUserRequest) throws -> DeleteUserResponse {
        let configuration = try configured()
        try withConnection(doing: "delete user \"\(request.username)\"") { redis throws(RedisError) in
            // `:0` means the user was already gone, which is success.
            try redis.command(["ACL", "DELUSER", request.username])
            try persist(redis, configuration)
        }
        return DeleteUserResponse()
    }

    /// A fresh login as `username`: `WRONGPASS` is Redis's answer to a wrong password (and to an
    /// unknown or disabled user, which an interrupted rotation cannot have caused).
    public func checkPassword(username: String, password: String) throws -> Bool? {
        let configuration = try configured()
        do {
            try RedisConnection.connect(host: configuration.host, port: configuration.port, username: username,
                                        password: password, connectTimeout: configuration.connectTimeout,
                                        readTimeout: configuration.commandTimeout, tls: configuration.tls).close()
            return true
        } catch {
            if error.code == "WRONGPASS" { return false }
            if error.kind == .connection || error.kind == .timeout {
                throw PluginError(.connection, error.message.redacting([password, configuration.password]))
            }
            return nil
        }
    }

    public func close() {
        connection?.close()
        connection = nil
    }

    // MARK: - Helpers

    private func configured() throws(PluginError) -> RedisConfiguration {
        guard let configuration else { throw PluginError(.connection, "connection has not been initialized") }
        return configuration
    }

    /// The new user's name, checked before any command is sent.
    public func generateUsername(_ metadata: UsernameMetadata) throws -> String {
        let configuration = try configured()
        let username: String
        if let template = configuration.usernameTemplate {
            do {
                username = try template.render(displayName: metadata.displayName, roleName: metadata.roleName)
            } catch {
                throw PluginError(.invalidConfiguration, "failed to generate username: \(error)")
            }
        } else {
            username = RedisUsername.generate(metadata)
        }
        try RedisUsername.check(username)
        return username
    }

    private func persist(_ redis: RedisConnection, _ configuration: RedisConfiguration) throws(RedisError) {
        guard let command = configuration.persistence.command else { return }
        do {
            try redis.command(command)
        } catch {
            throw RedisError(error.kind, "the change is live but persistence_mode \(configuration.persistence.rawValue) failed: \(error.message)",
                             code: error.code, afterChange: true)
        }
    }

    private func endpoint(_ configuration: RedisConfiguration) -> String {
        configuration.host.contains(":") ? "[\(configuration.host)]:\(configuration.port)" : "\(configuration.host):\(configuration.port)"
    }

    /// Runs `body` on the open connection, logging in first if there is none, and turns client
    /// errors into plugin errors that say what we were doing (`action`, e.g. "delete user \"x\"")
    /// and never contain a password.
    @discardableResult
    private func withConnection<T>(doing action: String?, secret: String = "", otherSecrets: [String] = [],
                                   _ body: (RedisConnection) throws(RedisError) -> T) throws(PluginError) -> T {
        try withConnection(doing: action, secret: secret, otherSecrets: otherSecrets, loggingInWith: nil) { redis, _ throws(RedisError) in
            try body(redis)
        }
    }

    /// As above; when it logs in, `first` (a command that changes nothing) goes in the same write
    /// as `AUTH`, and `body` gets its reply (nil when the connection was already open).
    private func withConnection<T>(doing action: String?, secret: String = "", otherSecrets: [String] = [],
                                   loggingInWith first: [String]?,
                                   _ body: (RedisConnection, RESPValue?) throws(RedisError) -> T) throws(PluginError) -> T {
        let configuration = try configured()
        do {
            var reply: RESPValue?
            if connection == nil || connection?.isOpen == false {
                (connection, reply) = try RedisConnection.connect(
                    host: configuration.host, port: configuration.port,
                    username: configuration.username, password: configuration.password,
                    connectTimeout: configuration.connectTimeout, readTimeout: configuration.commandTimeout,
                    tls: configuration.tls, then: first)
            }
            return try body(connection!, reply)
        } catch {
            if !(connection?.isOpen ?? false) { connection = nil }
            let kind: PluginError.Kind
            switch error.kind {
            case .connection, .timeout, .authentication, .protocolViolation: kind = .connection
            case .permission, .server: kind = .database
            case .configuration: kind = .invalidConfiguration
            }
            let message = (action.map { "failed to \($0): " } ?? "") + error.message
            throw PluginError(kind, message.redacting([secret, configuration.password] + otherSecrets),
                              outcome: error.afterChange ? .unknown : nil)
        }
    }
}
