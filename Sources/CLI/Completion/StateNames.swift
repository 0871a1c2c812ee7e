import DBPlugin
import Engine
import Foundation

/// The names completion offers, read through the engine as `list` reads them, so completion
/// sees exactly what the commands would. Errors (a corrupt file, an unreadable folder) offer
/// nothing rather than printing into the user's command line.
struct StateNames {
    let engine: Engine
    let mounts: [Mount]

    init(environment: [String: String], stateDirFlag: String?, mounts: [Mount]) {
        self.mounts = mounts
        let state = StateDirectory.resolve(flag: stateDirFlag.map { FileCandidates.expandTilde($0, environment: environment) },
                                           environment: environment)
        let terminal = Terminal(environment: environment, stdoutIsTerminal: false, out: { _ in }, err: { _ in }, stdin: { Data() })
        // Listing names never reaches a database: no plugin is needed.
        engine = Engine(environment: BuiltinPlugins.environment(state: state, terminal: terminal, plugins: PluginCatalog(),
                                                                mounts: mounts))
    }

    /// The names `list` shows at the path that lists objects of `kind`.
    func names(_ kind: ObjectKind) -> [String] {
        guard let path = DeclaredPath.listPath(of: kind, in: mounts),
              let response = try? engine.handle(EngineRequest(.list, path)),
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
