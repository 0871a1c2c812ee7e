import DBPlugin
import Foundation

/// A recording stand-in for a database, for engine tests only (never shipped): it keeps users and
/// passwords in memory, records every call, and fails on demand. Each plugin instance the engine
/// makes shares one `FakeDatabase`, as real plugin instances share one real database.
public final class FakeDatabase: @unchecked Sendable {
    public struct User: Equatable, Sendable {
        public var password: String
        public var expiration: Date?
        /// A second valid password, as Redis, ElastiCache and MySQL 8 keep one.
        public var previousPassword: String? = nil
    }

    let lock = NSLock()
    private var _users: [String: User] = [:]
    private var _calls: [String] = []
    public var rootUsername = "admin"
    /// Fail the next N calls of a kind ("initialize", "newUser", "updateUser", "deleteUser").
    public var failures: [String: Int] = [:]
    public var failureMessage = "forced error"
    /// What a forced failure of a change reports (`.unknown`: as if the connection was lost).
    public var failureOutcome: PluginError.Outcome = .unchanged
    /// Apply the change, then fail the next N calls of a kind anyway (a lost answer).
    public var failuresAfterChange: [String: Int] = [:]
    /// Runs once, inside the next `initialize` (e.g. to change state while a write is verifying).
    public var duringNextInitialize: (() -> Void)?
    /// What the fake database can do beyond the core contract.
    public var features: Set<PluginFeature> = [.selfManagedPassword, .twoPasswords]

    public init(rootPassword: String = "root-secret") {
        _users[rootUsername] = User(password: rootPassword)
    }

    public var users: [String: User] { lock.withLock { _users } }
    public var calls: [String] { lock.withLock { _calls } }

    public func addUser(_ name: String, password: String) {
        lock.withLock { _users[name] = User(password: password) }
    }

    public func password(of name: String) -> String? { users[name]?.password }

    /// Whether `name` logs in with `password`: its current one, or the previous one it keeps.
    public func canLogIn(_ name: String, _ password: String) -> Bool {
        guard let user = users[name] else { return false }
        return user.password == password || user.previousPassword == password
    }

    func record(_ call: String) throws {
        try lock.withLock {
            _calls.append(call)
            let kind = String(call.prefix { $0 != " " })
            if let n = failures[kind], n > 0 {
                failures[kind] = n - 1
                throw PluginError(.database, failureMessage, outcome: failureOutcome)
            }
        }
    }

    /// After a change was applied: fails it anyway when `failuresAfterChange` asks to.
    func answer(_ kind: String) throws {
        try lock.withLock {
            if let n = failuresAfterChange[kind], n > 0 {
                failuresAfterChange[kind] = n - 1
                throw PluginError(.connection, "connection lost after the change", outcome: .unknown)
            }
        }
    }

    func mutate(_ body: (inout [String: User]) throws -> Void) rethrows {
        try lock.withLock { try body(&_users) }
    }

    /// A catalog with this database behind `plugin_name=fake-database-plugin`.
    public func catalog() -> PluginCatalog {
        PluginCatalog([PluginRegistration(names: ["fake-database-plugin"]) { _ in FakeDatabasePlugin(database: self) }])
    }
}

/// The plugin side of `FakeDatabase`: authenticates with `username`/`password` from the config.
public final class FakeDatabasePlugin: DatabasePlugin {
    public let type = "fake"
    let database: FakeDatabase
    var login: (String, String)?

    init(database: FakeDatabase) { self.database = database }

    public func initialize(_ request: InitializeRequest) throws -> InitializeResponse {
        try database.record("initialize verify=\(request.verifyConnection)")
        if let hook = database.duringNextInitialize {
            database.duringNextInitialize = nil
            hook()
        }
        let config = ConnectionConfig(request.config)
        if config.string("connection_url")?.isEmpty ?? true {
            throw PluginError(.invalidConfiguration, "connection_url cannot be empty")
        }
        if request.verifyConnection {
            let user = config.string("username") ?? ""
            let password = config.string("password") ?? ""
            guard database.password(of: user) == password else {
                throw PluginError(.connection, "password authentication failed for user \"\(user)\" with password \(password)")
            }
            login = (user, password)
        }
        return InitializeResponse(config: request.config)
    }

    public func generateUsername(_ metadata: UsernameMetadata) throws -> String {
        "v-\(metadata.displayName)-\(metadata.roleName)-\(UUID().uuidString.prefix(8))"
    }

    public func newUser(_ request: NewUserRequest) throws -> NewUserResponse {
        try database.record("newUser \(request.usernameConfig.roleName)")
        let name = try request.username ?? generateUsername(request.usernameConfig)
        database.mutate { $0[name] = FakeDatabase.User(password: request.password, expiration: request.expiration) }
        try database.answer("newUser")
        return NewUserResponse(username: name)
    }

    public func checkPassword(username: String, password: String) throws -> Bool? {
        try database.record("checkPassword \(username)")
        return database.canLogIn(username, password)
    }

    public func supports(_ feature: PluginFeature) throws -> Bool {
        database.lock.withLock { database.features.contains(feature) }
    }

    public func updateUser(_ request: UpdateUserRequest) throws -> UpdateUserResponse {
        try database.record("updateUser \(request.username)\(request.isRootRotation ? " root" : "")\(request.selfManagedPassword != nil ? " self" : "")")
        try request.requireChanges()
        try request.requireSupport(by: self)
        try database.mutate { users in
            guard var user = users[request.username] else {
                throw PluginError(.database, "user does not appear to exist: \(request.username)")
            }
            if let current = request.selfManagedPassword, current != user.password, current != user.previousPassword {
                throw PluginError(.connection, "password authentication failed for user \"\(request.username)\"", outcome: .unchanged)
            }
            if request.discardPreviousPassword != nil { user.previousPassword = nil }
            if let change = request.password {
                user.previousPassword = change.retainedPassword != nil ? user.password : nil
                user.password = change.newPassword
            }
            if let change = request.expiration { user.expiration = change.newExpiration }
            users[request.username] = user
        }
        try database.answer("updateUser")
        return UpdateUserResponse()
    }

    public func deleteUser(_ request: DeleteUserRequest) throws -> DeleteUserResponse {
        try database.record("deleteUser \(request.username)")
        database.mutate { $0.removeValue(forKey: request.username) }
        return DeleteUserResponse()
    }

    public func close() {}
}
