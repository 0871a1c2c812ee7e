import DBPlugin
import Engine
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

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

    /// The mounts in force in the state directory (those the mount table adds included), else
    /// the built-in ones.
    var mountsInForce: [Mount] {
        (try? engine.mountsInForce()) ?? mounts
    }

    /// The names `list` shows at the path that lists objects of `kind`: under `mount` when it
    /// has such a path (a role of postgres/), else under the first mount that does (policies
    /// are sys/'s).
    func names(_ kind: ObjectKind, in mount: Mount? = nil) -> [String] {
        if kind == .pluginName { return BuiltinPlugins.catalog.names }
        guard let path = DeclaredPath.listPath(of: kind, in: (mount.map { [$0] } ?? []) + mounts),
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
