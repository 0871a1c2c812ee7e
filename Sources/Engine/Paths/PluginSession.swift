import DBPlugin
import Foundation

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
    func withPlugin<T>(connection name: String, _ body: (PluginSession) throws -> T) throws -> T {
        try withPlugin(config: try settledConnection(name), body)
    }

    /// As `withPlugin(connection:)` for a configuration in hand (the caller holds what it needs).
    /// Failures to open are `EngineError`s: no statement ran. `verify: false` skips the login,
    /// for a caller that logs in its own way.
    func withPlugin<T>(config: DatabaseConfig, verify: Bool = true, _ body: (PluginSession) throws -> T) throws -> T {
        guard let plugin = environment.plugins.makePlugin(named: config.pluginName) else {
            throw EngineError.failed("error creating database object: plugin not found in the catalog: \(config.pluginName)")
        }
        defer { plugin.close() }
        var sanitizer = SecretSanitizer()
        sanitizer.add(connection: config.connectionDetails)
        do {
            _ = try plugin.initialize(InitializeRequest(config: config.connectionDetails, verifyConnection: verify))
        } catch {
            throw EngineError.failed(sanitizer.clean(error))
        }
        return try body(PluginSession(config: config, plugin: plugin, sanitizer: sanitizer))
    }
}
