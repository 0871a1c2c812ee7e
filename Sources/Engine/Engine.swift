import DBPlugin
import Foundation

/// One request to the engine, as `vault` would send it: an operation on a path with a body.
public struct EngineRequest: Sendable {
    public enum Operation: String, Sendable {
        case read, list, write, delete
    }

    public var operation: Operation
    /// Sanitized path without leading/trailing slashes, e.g. `database/roles/readonly`.
    public var path: String
    public var data: [String: JSONValue]

    public init(_ operation: Operation, _ path: String, data: [String: JSONValue] = [:]) {
        self.operation = operation
        self.path = path
        self.data = data
    }
}

/// What the engine answers: Vault's secret envelope without the HTTP. A handler that has
/// nothing to say returns nil (Vault's 204, or "no value" for reads).
public struct EngineResponse: Sendable, Equatable {
    public var data: [String: JSONValue]?
    public var warnings: [String] = []
    public var leaseID: String = ""
    public var leaseDuration: Int = 0
    public var renewable: Bool = false

    public init(data: [String: JSONValue]?, warnings: [String] = [], leaseID: String = "",
                leaseDuration: Int = 0, renewable: Bool = false) {
        self.data = data
        self.warnings = warnings
        self.leaseID = leaseID
        self.leaseDuration = leaseDuration
        self.renewable = renewable
    }

    static func list(_ keys: [String]) -> EngineResponse? {
        keys.isEmpty ? nil : EngineResponse(data: ["keys": .array(keys.map { .string($0) })])
    }
}

/// What the engine needs from the world, injectable so tests can pin time and plugins.
public struct EngineEnvironment: Sendable {
    public var state: StateDirectory
    public var plugins: PluginCatalog
    public var now: @Sendable () -> Date
    /// Vault's token display name, used by username templates (`root` for a root token).
    public var displayName: String
    /// Failed revocations of one lease before it is marked irrevocable (kept, listed, not retried).
    public var maximumRevokeAttempts: Int

    public init(state: StateDirectory, plugins: PluginCatalog, now: @escaping @Sendable () -> Date = { Date() },
                displayName: String = "root", maximumRevokeAttempts: Int = Engine.defaultMaximumRevokeAttempts) {
        self.state = state
        self.plugins = plugins
        self.now = now
        self.displayName = displayName
        self.maximumRevokeAttempts = max(1, maximumRevokeAttempts)
    }
}

/// The database secrets engine mounted at `database/`, plus the `sys/` paths it relies on
/// (leases, password policies). Every public entry point is one request; the engine holds no
/// state between requests besides the state directory.
public final class Engine: @unchecked Sendable {
    public let environment: EngineEnvironment
    var state: StateDirectory { environment.state }

    let connections: RecordStore<DatabaseConfig>
    let roles: RecordStore<DynamicRole>
    let staticRoles: RecordStore<StaticRole>
    let passwordPolicies: RecordStore<StoredPasswordPolicy>
    let intents: IntentStore
    let leases: LeaseStore

    public init(environment: EngineEnvironment) {
        self.environment = environment
        let state = environment.state
        connections = RecordStore(state: state, kind: .connection)
        roles = RecordStore(state: state, kind: .role)
        staticRoles = RecordStore(state: state, kind: .staticRole)
        passwordPolicies = RecordStore(state: state, kind: .passwordPolicy)
        intents = IntentStore(state: state)
        leases = LeaseStore(state: state)
    }

    var now: Date { environment.now() }

    public func handle(_ request: EngineRequest) throws -> EngineResponse? {
        let parts = request.path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        let op = request.operation
        let data = request.data
        switch (parts.first, parts.count) {
        case ("database", 2):
            switch (parts[1], op) {
            case ("config", .list): return try listConnections()
            case ("roles", .list): return try listRoles()
            case ("static-roles", .list): return try listStaticRoles()
            default: break
            }
        case ("database", 3):
            let name = parts[2]
            switch (parts[1], op) {
            case ("config", .list), ("roles", .list), ("static-roles", .list):
                return nil
            case ("config", .write): return try writeConnection(try validName(name), data)
            case ("config", .read): return try readConnection(try validName(name))
            case ("config", .delete): return try deleteConnection(try validName(name))
            case ("reset", .write): return try resetConnection(try validName(name))
            case ("rotate-root", .write): return try rotateRoot(try validName(name))
            case ("roles", .write): return try writeRole(try validName(name), data)
            case ("roles", .read): return try readRole(try validName(name))
            case ("roles", .delete): return try deleteRole(try validName(name))
            case ("static-roles", .write): return try writeStaticRole(try validName(name), data)
            case ("static-roles", .read): return try readStaticRole(try validName(name))
            case ("static-roles", .delete): return try deleteStaticRole(try validName(name))
            case ("creds", .read): return try createCredentials(try validName(name))
            case ("static-creds", .read): return try readStaticCredentials(try validName(name))
            case ("rotate-role", .write): return try rotateRole(try validName(name))
            case ("config", _), ("roles", _), ("static-roles", _), ("creds", _), ("static-creds", _),
                 ("rotate-role", _), ("reset", _), ("rotate-root", _):
                throw EngineError.invalid("unsupported operation")
            default: break
            }
        case ("sys", _) where parts.count >= 3 && parts[1] == "leases":
            return try handleLeasePath(Array(parts.dropFirst(2)), op, data)
        case ("sys", _) where parts.count >= 3 && parts[1] == "policies" && parts[2] == "password":
            return try handlePasswordPolicyPath(Array(parts.dropFirst(3)), op, data)
        default: break
        }
        throw EngineError(.unsupportedPath, "no handler for route \"\(request.path)\". route entry not found.")
    }

    /// Names go through Vault's regex before any file is touched, which also keeps every name
    /// inside the state directory.
    func validName(_ name: String) throws -> String {
        guard name.utf8.count <= ObjectName.maximumLength else {
            throw EngineError.invalid("invalid name \"\(Self.printable(name))\": names are at most \(ObjectName.maximumLength) bytes long, this one has \(name.utf8.count)")
        }
        guard ObjectName.isValid(name) else {
            throw EngineError.invalid("invalid name \"\(Self.printable(name))\": names must start and end with a letter, digit or underscore and contain only those, '-' and '.'")
        }
        return name
    }

    /// A name echoed in an error, with control characters made visible.
    static func printable(_ s: String) -> String {
        let clipped = s.count > 80 ? String(s.prefix(80)) + "…" : s
        return clipped.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7f ? "\\u{\(String($0.value, radix: 16))}" : String($0) }.joined()
    }
}
