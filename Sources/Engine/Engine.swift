import Basics
import DBPlugin
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

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

    /// Vault's path sanitizing, for a path as a user or a URL gives it: trim spaces, then every
    /// leading and trailing slash.
    public static func sanitizedPath(_ path: String) -> String {
        var p = Substring(path.trimmingWhitespace())
        while p.hasPrefix("/") { p = p.dropFirst() }
        while p.hasSuffix("/") { p = p.dropLast() }
        return String(p)
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
    /// Vault's `auth` block, for what hands out a token (the server's `auth/token/create`).
    public var auth: [String: JSONValue]?
    /// The type of the mount that answered: `database`, or `system` for `sys/*` (Vault's
    /// `mount_type`); set by the router.
    public var mountType: String = ""

    public init(data: [String: JSONValue]?, warnings: [String] = [], leaseID: String = "",
                leaseDuration: Int = 0, renewable: Bool = false, auth: [String: JSONValue]? = nil, mountType: String = "") {
        self.data = data
        self.warnings = warnings
        self.leaseID = leaseID
        self.leaseDuration = leaseDuration
        self.renewable = renewable
        self.auth = auth
        self.mountType = mountType
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
    /// Where each backend's path declarations are reachable when the mount table says nothing
    /// (`Engine.builtinMounts`); the database backend's mount here is the implicit `database/`
    /// (MountTable.swift), and every mount the table holds serves the same backend.
    public var mounts: [Mount]

    public init(state: StateDirectory, plugins: PluginCatalog, now: @escaping @Sendable () -> Date = { Date() },
                displayName: String = "root", maximumRevokeAttempts: Int = Engine.defaultMaximumRevokeAttempts,
                mounts: [Mount] = Engine.builtinMounts) {
        self.state = state
        self.plugins = plugins
        self.now = now
        self.displayName = displayName
        self.maximumRevokeAttempts = max(1, maximumRevokeAttempts)
        self.mounts = mounts
        // SCRAM logins of this process reuse the salted passwords kept in this state folder.
        DerivedKeys.store = DerivedKeyFile(state: state)
    }
}

/// The database secrets engine at its mounts, plus the `sys/` paths it relies on (leases,
/// password policies, mounts). Every public entry point is one request (`handle`, routed by the
/// mount table and the path declarations); the engine holds no state between requests besides
/// the state directory.
///
/// An `Engine` serves one mount, as a Vault backend instance does: `scope` says which (its path,
/// its storage, its TTLs), and the stores below are that mount's. The engine made by
/// `init(environment:)` serves the implicit `database/` on the state folder's top-level storage
/// and the `sys/` paths; the router hands each request under another mount to an engine scoped
/// to it (`Engine.withMount`).
public final class Engine: @unchecked Sendable {
    public let environment: EngineEnvironment
    let scope: MountScope
    /// The storage of this engine's mount: its records, intents, locks and temp files.
    var state: StateDirectory { scope.storage }

    let connections: RecordStore<DatabaseConfig>
    let roles: RecordStore<DynamicRole>
    let staticRoles: StaticRoleStore
    /// Password policies are `sys/`'s, shared by every mount.
    let passwordPolicies: RecordStore<StoredPasswordPolicy>
    let intents: IntentStore
    let leases: LeaseStore
    let mountTable: MountTableStore
    /// Set on the engine of a pass of due work (`sharingPlugins`): plugin sessions kept open for
    /// the pass's next item on the same connection.
    let sharedPlugins: SharedPlugins?

    public convenience init(environment: EngineEnvironment) {
        self.init(environment: environment, scope: MountScope(entry: .implicitDatabase, storage: environment.state))
    }

    init(environment: EngineEnvironment, scope: MountScope, sharedPlugins: SharedPlugins? = nil) {
        self.environment = environment
        self.scope = scope
        self.sharedPlugins = sharedPlugins
        let state = scope.storage
        connections = RecordStore(state: state, kind: .connection, cache: sharedPlugins?.connections)
        roles = RecordStore(state: state, kind: .role, cache: sharedPlugins?.roles)
        staticRoles = StaticRoleStore(state: state, now: environment.now)
        passwordPolicies = RecordStore(state: environment.state, kind: .passwordPolicy)
        intents = IntentStore(state: state)
        leases = LeaseStore(state: state, mountPath: scope.path)
        mountTable = MountTableStore(state: environment.state)
    }

    var now: Date { environment.now() }
}

/// The mount an `Engine` serves: where its paths are, where its objects live, its lease TTLs.
struct MountScope: Sendable {
    let entry: MountEntry
    let storage: StateDirectory

    /// With its trailing slash: `database/`, `team/pg/`.
    var path: String { entry.path }

    var ttls: LeaseTTL.MountTTLs {
        LeaseTTL.MountTTLs(defaultTTL: entry.defaultLeaseTTL, maximumTTL: entry.maxLeaseTTL)
    }
}
