import DBPlugin
import Engine
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import MySQLPlugin
import PluginProcess
import PostgresPlugin
import RedisPlugin

/// The plugins compiled into dbsecrets, by `plugin_name`.
public enum BuiltinPlugins {
    public static let catalog = PluginCatalog([
        PostgresPlugin.registration,
        MySQLPlugin.registration,
        RedisPlugin.registration,
        RedisPlugin.valkeyRegistration,
        // Out of process: its HTTPS stack loads only when an ElastiCache connection is used.
        ExternalPlugin.registration(names: ["redis-elasticache-database-plugin"],
                                    executableName: "dbsecrets-elasticache-plugin", type: "redisElastiCache"),
    ])

    static func environment(state: StateDirectory, terminal: Terminal, plugins: PluginCatalog, mounts: [Mount]) -> EngineEnvironment {
        EngineEnvironment(
            state: state, plugins: plugins,
            displayName: terminal.environment["DBSECRETS_DISPLAY_NAME"].flatMap { $0.isEmpty ? nil : $0 } ?? "root",
            maximumRevokeAttempts: terminal.environment["DBSECRETS_MAX_REVOKE_ATTEMPTS"].flatMap { Int($0) }
                ?? Engine.defaultMaximumRevokeAttempts,
            mounts: mounts)
    }
}
