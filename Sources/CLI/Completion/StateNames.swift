import DBPlugin
import Engine
import Foundation

/// The names completion offers, read through the engine as `list` reads them, so completion
/// sees exactly what the commands would. Errors (a corrupt file, an unreadable folder) offer
/// nothing rather than printing into the user's command line.
struct StateNames {
    let engine: Engine

    init(environment: [String: String], stateDirFlag: String?) {
        let state = StateDirectory.resolve(flag: stateDirFlag.map { FileCandidates.expandTilde($0, environment: environment) },
                                           environment: environment)
        let terminal = Terminal(environment: environment, stdoutIsTerminal: false, out: { _ in }, err: { _ in }, stdin: { Data() })
        // Listing names never reaches a database: no plugin is needed.
        engine = Engine(environment: BuiltinPlugins.environment(state: state, terminal: terminal, plugins: PluginCatalog()))
    }

    func names(_ kind: Command.NameKind) -> [String] {
        let path: String
        switch kind {
        case .connection: path = "database/config"
        case .role: path = "database/roles"
        case .staticRole: path = "database/static-roles"
        case .passwordPolicy: path = "sys/policies/password"
        }
        guard let response = try? engine.handle(EngineRequest(.list, path)),
              case .array(let keys)? = response.data?["keys"] else { return [] }
        return keys.compactMap { key in
            if case .string(let name) = key { return name }
            return nil
        }
    }

    func leaseIDs(prefix: String) -> [String] {
        (try? engine.listLeaseIDs(prefix: prefix)) ?? []
    }
}
