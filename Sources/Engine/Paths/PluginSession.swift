import DBPlugin
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A connection's plugin, initialized and verified, with the sanitizer that knows its secrets.
/// Every operation that talks to a database goes through `withPlugin`: one place opens, verifies,
/// scrubs errors, maps their kinds, and closes.
struct PluginSession {
    let config: DatabaseConfig
    let plugin: DatabasePlugin
    var sanitizer: SecretSanitizer

    /// A plugin failure as the engine reports it: the user's configuration mistake stays a 400,
    /// everything else is a failed operation (500); the text passes the sanitizer.
    func failure(_ error: Error, _ prefix: String = "") -> EngineError {
        if let error = error as? EngineError { return EngineError(error.kind, prefix + sanitizer.clean(error.message)) }
        let kind: EngineError.Kind = (error as? PluginError)?.kind == .unsupported ? .invalidRequest : .operationFailed
        return EngineError(kind, prefix + sanitizer.clean(error))
    }
}

extension Engine {
    static func missingConnection(_ name: String) -> EngineError {
        .failed("failed to find entry for connection with name: \"\(name)\"")
    }

    /// The stored connection `name`, after settling a root rotation that was interrupted on it
    /// (its stored password may not be the one the database has until then).
    func settledConnection(_ name: String) throws -> DatabaseConfig {
        if intents.exists(.rootRotation, name) {
            try withLock(.connection, name) {
                try settleIntent(.rootRotation, name, mode: .recovery)
            }
        }
        guard let config = try connections.read(name) else { throw Self.missingConnection(name) }
        return config
    }

    /// Runs `body` with the plugin of connection `name`, opened and verified, closing it after.
    /// `shared`: see `withPlugin(config:)`.
    func withPlugin<T>(connection name: String, shared: Bool = false, _ body: (PluginSession) throws -> T) throws -> T {
        try withPlugin(config: try settledConnection(name), shared: shared, body)
    }

    /// As `withPlugin(connection:)` for a configuration in hand (the caller holds what it needs).
    /// Failures to open are `EngineError`s: no statement ran. `verify: false` skips the login,
    /// for a caller that logs in its own way.
    ///
    /// `shared: true` says the caller only runs operations on the session (it does not probe
    /// whether the configuration's password logs in): inside `sharingPlugins`, a verified session
    /// opened for an earlier item with the same connection details serves it, and it is kept for
    /// the next one if `body` succeeds. A session whose `body` throws is closed, so a failure on
    /// one item never leaves a broken connection to the next.
    func withPlugin<T>(config: DatabaseConfig, verify: Bool = true, shared: Bool = false,
                       _ body: (PluginSession) throws -> T) throws -> T {
        let pool = shared && verify ? sharedPlugins : nil
        let session = try pool?.take(openedFrom: config) ?? openPlugin(config, verify: verify)
        let result: T
        do {
            result = try body(session)
        } catch {
            session.plugin.close()
            throw error
        }
        if let pool { pool.keep(session) } else { session.plugin.close() }
        return result
    }

    private func openPlugin(_ config: DatabaseConfig, verify: Bool) throws -> PluginSession {
        guard let plugin = environment.plugins.makePlugin(named: config.pluginName) else {
            throw EngineError.failed("error creating database object: plugin not found in the catalog: \(config.pluginName)")
        }
        var sanitizer = SecretSanitizer()
        sanitizer.add(connection: config.connectionDetails)
        do {
            _ = try plugin.initialize(InitializeRequest(config: config.connectionDetails, verifyConnection: verify))
        } catch {
            plugin.close()
            throw EngineError.failed(sanitizer.clean(error))
        }
        return PluginSession(config: config, plugin: plugin, sanitizer: sanitizer)
    }

    /// Runs `body` on an engine for this mount whose shared plugin sessions (`withPlugin(shared:)`)
    /// live until `body` returns: a pass of due work, or a revocation of many leases, logs in once
    /// per connection rather than once per item. Nested calls share the outer sessions.
    func sharingPlugins<T>(_ body: (Engine) throws -> T) rethrows -> T {
        if sharedPlugins != nil { return try body(self) }
        let pool = SharedPlugins()
        defer { pool.closeAll() }
        return try body(Engine(environment: environment, scope: scope, sharedPlugins: pool))
    }
}

/// The idle sessions of one `sharingPlugins` call. A session is taken out while in use, so a
/// nested `withPlugin` (settling an intent after a failed change) opens its own rather than
/// running statements on a connection in the middle of something else. The call's lock files
/// and the connections and roles it read are kept for it too (`LockFiles`, `RecordCache`).
final class SharedPlugins {
    private var idle: [PluginSession] = []
    let lockFiles = LockFiles()
    let connections = RecordCache<DatabaseConfig>()
    let roles = RecordCache<DynamicRole>()

    func take(openedFrom config: DatabaseConfig) -> PluginSession? {
        guard let index = idle.firstIndex(where: {
            $0.config.pluginName == config.pluginName && $0.config.connectionDetails == config.connectionDetails
        }) else { return nil }
        return idle.remove(at: index)
    }

    func keep(_ session: PluginSession) {
        idle.append(session)
    }

    func closeAll() {
        idle.forEach { $0.plugin.close() }
        idle = []
    }
}
