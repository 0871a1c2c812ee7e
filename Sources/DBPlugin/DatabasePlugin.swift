#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The contract every database plugin implements, modelled on Vault's dbplugin v5.
///
/// Each method takes a request struct and returns a response struct so fields can be added
/// without breaking plugins. Calls are synchronous: the engine runs one command per process
/// and every network call in a plugin is bounded by its own timeouts.
///
/// Contracts the engine relies on:
/// - `initialize` validates the configuration and, when `verifyConnection` is true, connects
///   and authenticates. It returns the configuration the engine stores as `connection_details`.
/// - `generateUsername` renders the connection's username template and checks the result against
///   what the database allows; the engine calls it first and records the name in its intent
///   before `newUser` creates the user, so a crash in between can never leave a user nobody knows.
/// - `newUser` creates the user in one transaction where the database has them: on failure no
///   half-made user remains. It uses `username` when given (the engine always gives it).
/// - `updateUser` of a user that does not exist fails, and does not create it. An update that
///   changes nothing (neither a password nor an expiration) is refused with
///   `UpdateUserRequest.noChanges`, as Vault's plugin client refuses it; plugins check it first
///   with `requireChanges()`. An expiration change a database cannot express succeeds unchanged.
/// - A failed change says what it left behind (`PluginError.outcome`).
/// - `deleteUser` succeeds when the user is already gone.
/// - A plugin that cannot do an operation at all (ElastiCache creating users) says so with
///   `PluginError.Kind.unsupported`, before any call to the database.
/// - A request that uses a feature the plugin does not have (`supports` answers false) is refused
///   with `PluginError.Kind.unsupported` before any call to the database (`requireSupport`).
/// - `close` may be called any number of times.
/// - Error texts never contain a password: the engine sanitizes them again as a second line
///   of defence, but plugins must not rely on it.
public protocol DatabasePlugin: AnyObject {
    /// A short name of the client, for diagnostics only (e.g. "pgx", "mysql", "redis").
    var type: String { get }
    func initialize(_ request: InitializeRequest) throws -> InitializeResponse
    func generateUsername(_ metadata: UsernameMetadata) throws -> String
    func newUser(_ request: NewUserRequest) throws -> NewUserResponse
    func updateUser(_ request: UpdateUserRequest) throws -> UpdateUserResponse
    func deleteUser(_ request: DeleteUserRequest) throws -> DeleteUserResponse
    /// Whether `password` is the one the database holds for `username` now: true when a login
    /// with it succeeds, false when the database refuses that password, nil when this plugin
    /// cannot tell (no way to log in as the user, or a refusal for another reason). Recovery asks
    /// this to learn which of the passwords an interrupted rotation may have set is the real one.
    func checkPassword(username: String, password: String) throws -> Bool?
    /// Whether the plugin (and, where it depends on it, the database: MySQL 8.0.14 against MariaDB)
    /// can do `feature`. The engine asks before it stores a role that needs it, so that a role is
    /// refused when written rather than at its first rotation. May connect; throws when it cannot tell.
    func supports(_ feature: PluginFeature) throws -> Bool
    /// Releases connections. Must be safe to call more than once.
    func close()
}

extension DatabasePlugin {
    public func checkPassword(username: String, password: String) throws -> Bool? { nil }
    public func supports(_ feature: PluginFeature) throws -> Bool { false }
}

/// What a plugin may do beyond the core of the contract.
public enum PluginFeature: String, Sendable, CaseIterable {
    /// `UpdateUserRequest.selfManagedPassword`: the plugin logs in as the account with its current
    /// password and changes it with a statement any account may run on itself; the connection's
    /// root credential is not used (and need not exist).
    case selfManagedPassword = "self-managed password"
    /// `PasswordChange.retainedPassword` and `UpdateUserRequest.discardPreviousPassword`: the
    /// database keeps two passwords per account, so the old one stays valid while applications
    /// move to the new one.
    case twoPasswords = "two passwords"
}

public struct InitializeRequest: Sendable {
    /// The connection parameters as written by the user (`connection_url`, `username`, …).
    public var config: [String: JSONValue]
    public var verifyConnection: Bool
    public init(config: [String: JSONValue], verifyConnection: Bool) {
        self.config = config
        self.verifyConnection = verifyConnection
    }
}

public struct InitializeResponse: Sendable {
    /// What the engine stores as `connection_details`.
    public var config: [String: JSONValue]
    /// Shown to the user after a connection write (e.g. a deprecated parameter was used).
    public var warnings: [String]
    public init(config: [String: JSONValue], warnings: [String] = []) {
        self.config = config
        self.warnings = warnings
    }
}

public struct UsernameMetadata: Sendable, Equatable {
    public var displayName: String
    public var roleName: String
    public init(displayName: String, roleName: String) {
        self.displayName = displayName
        self.roleName = roleName
    }
}

public struct NewUserRequest: Sendable {
    public var usernameConfig: UsernameMetadata
    /// The name to create, from `generateUsername`; nil lets the plugin generate one.
    public var username: String?
    /// Creation statements; empty means the plugin's default, where it has one.
    public var statements: [String]
    public var rollbackStatements: [String]
    public var password: String
    public var expiration: Date
    public init(usernameConfig: UsernameMetadata, username: String? = nil, statements: [String],
                rollbackStatements: [String] = [], password: String, expiration: Date) {
        self.usernameConfig = usernameConfig
        self.username = username
        self.statements = statements
        self.rollbackStatements = rollbackStatements
        self.password = password
        self.expiration = expiration
    }
}

public struct NewUserResponse: Sendable {
    public var username: String
    public init(username: String) { self.username = username }
}

public struct PasswordChange: Sendable {
    public var newPassword: String
    /// Rotation statements; empty means the plugin's default.
    public var statements: [String]
    /// Two-password rotation (`PluginFeature.twoPasswords`): the account's current password, which
    /// stays valid beside the new one. nil: the new password replaces every password the account has.
    public var retainedPassword: String?
    /// With `retainedPassword`: the password the previous rotation retained, which stops working in
    /// the same change (nil when there is none), so the account never holds more than two.
    public var discardedPassword: String?
    public init(newPassword: String, statements: [String], retainedPassword: String? = nil, discardedPassword: String? = nil) {
        self.newPassword = newPassword
        self.statements = statements
        self.retainedPassword = retainedPassword
        self.discardedPassword = discardedPassword
    }
}

/// Ends the validity of a password kept by a two-password rotation (`PluginFeature.twoPasswords`):
/// afterwards only `currentPassword` logs in. Idempotent: the previous password may be gone already.
public struct PreviousPasswordDiscard: Sendable {
    /// The password that stays (ElastiCache sets the user's whole list).
    public var currentPassword: String
    /// The password that stops working (Redis removes it by value).
    public var previousPassword: String
    public init(currentPassword: String, previousPassword: String) {
        self.currentPassword = currentPassword
        self.previousPassword = previousPassword
    }
}

public struct ExpirationChange: Sendable {
    public var newExpiration: Date
    /// Renew statements; empty means the plugin's default.
    public var statements: [String]
    public init(newExpiration: Date, statements: [String]) {
        self.newExpiration = newExpiration
        self.statements = statements
    }
}

public struct UpdateUserRequest: Sendable {
    public var username: String
    public var password: PasswordChange?
    public var expiration: ExpirationChange?
    /// True when the engine rotates its own root credential (`rotate-root`). Plugins whose root
    /// credential is not a database password (ElastiCache's IAM keys) refuse it.
    public var isRootRotation: Bool
    /// A self-managed static role (`PluginFeature.selfManagedPassword`): the account's current
    /// password. The plugin logs in as `username` with it and changes its own password; the
    /// connection's root credential is never used.
    public var selfManagedPassword: String?
    public var discardPreviousPassword: PreviousPasswordDiscard?
    public init(username: String, password: PasswordChange? = nil, expiration: ExpirationChange? = nil,
                isRootRotation: Bool = false, selfManagedPassword: String? = nil,
                discardPreviousPassword: PreviousPasswordDiscard? = nil) {
        self.username = username
        self.password = password
        self.expiration = expiration
        self.isRootRotation = isRootRotation
        self.selfManagedPassword = selfManagedPassword
        self.discardPreviousPassword = discardPreviousPassword
    }

    /// The features the request uses.
    public var features: [PluginFeature] {
        var used: [PluginFeature] = []
        if selfManagedPassword != nil { used.append(.selfManagedPassword) }
        if password?.retainedPassword != nil || discardPreviousPassword != nil { used.append(.twoPasswords) }
        return used
    }
}

extension UpdateUserRequest {
    /// Vault's text for an update with nothing in it (its PostgreSQL plugin's; the gRPC client says
    /// "missing changes").
    public static let noChanges = PluginError(.invalidConfiguration, "no changes requested")

    /// Throws `noChanges` unless the request changes a password or an expiration, or discards a
    /// previous password.
    public func requireChanges() throws {
        guard password != nil || expiration != nil || discardPreviousPassword != nil else { throw Self.noChanges }
        if selfManagedPassword != nil && password == nil {
            throw PluginError(.invalidConfiguration, "a self-managed update must change the password")
        }
    }

    /// Refuses, before anything reaches the database, a request that uses a feature `plugin` does
    /// not have: what the contract requires of every plugin, in one place.
    public func requireSupport(by plugin: DatabasePlugin) throws {
        for feature in features where try !plugin.supports(feature) {
            throw PluginError(.unsupported, "\(feature.rawValue) rotation is not supported by this database (plugin \(plugin.type))")
        }
    }
}

public struct UpdateUserResponse: Sendable {
    public init() {}
}

public struct DeleteUserRequest: Sendable {
    public var username: String
    /// Revocation statements; empty means the plugin's default.
    public var statements: [String]
    public init(username: String, statements: [String]) {
        self.username = username
        self.statements = statements
    }
}

public struct DeleteUserResponse: Sendable {
    public init() {}
}
