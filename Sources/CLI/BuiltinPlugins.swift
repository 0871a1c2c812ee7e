import DBPlugin
import Engine
import Foundation
import PostgresPlugin
import RedisPlugin

/// The plugins compiled into dbsecrets, by `plugin_name`.
enum BuiltinPlugins {
    static let catalog: PluginCatalog = {
        var catalog = PluginCatalog()
        catalog.register(PostgresPluginInfo.name) { PostgresPlugin() }
        catalog.register(RedisPluginInfo.name) { RedisPlugin() }
        return catalog
    }()

    static func environment(state: StateDirectory, terminal: Terminal) -> EngineEnvironment {
        EngineEnvironment(
            state: state, plugins: catalog,
            displayName: terminal.environment["DBSECRETS_DISPLAY_NAME"].flatMap { $0.isEmpty ? nil : $0 } ?? "root")
    }
}
