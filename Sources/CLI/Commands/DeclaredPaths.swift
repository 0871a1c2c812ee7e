import Engine

/// The engine's path declarations under their mounts, as the man page and shell completion show
/// them. Nothing here is declared: it is read off `Mount` and `PathDeclaration`.
struct DeclaredPath {
    let mount: Mount
    let declaration: PathDeclaration

    static func all(_ mounts: [Mount]) -> [DeclaredPath] {
        mounts.flatMap { mount in mount.backend.paths.map { DeclaredPath(mount: mount, declaration: $0) } }
    }

    /// `database/roles/NAME`, `sys/leases/renew[/ID]`.
    var documented: String { mount.path + declaration.documentedPattern }

    /// The path up to the first captured segment: `database/roles` for `roles/NAME` and for the
    /// list of roles alike.
    var stem: String {
        mount.path + declaration.pattern.prefix { if case .literal = $0 { return true } else { return false } }
            .map { if case .literal(let text) = $0 { return text } else { return "" } }.joined()
    }

    /// What a user types before a name or id here, or before the names a list shows: `database/roles/`.
    var prefix: String { stem + "/" }

    var capturesSomething: Bool { declaration.pattern.contains { if case .literal = $0 { return false } else { return true } } }

    /// What completes after `prefix`: names of a kind, or lease ids a segment at a time.
    enum Names { case objects(ObjectKind), leaseIDs, none }

    var names: Names {
        for segment in declaration.pattern {
            switch segment {
            case .name(_, let kind, _): return .objects(kind)
            case .rest: return .leaseIDs
            case .literal: continue
            }
        }
        return .none
    }

    /// Whether a verb reaches this path with a name or id after `prefix` (list: the folder itself).
    func takes(_ operation: EngineRequest.Operation) -> Bool {
        guard declaration.operations.contains(operation) else { return false }
        return operation == .list || capturesSomething
    }

    /// The path whose list shows the objects of `kind`: `database/roles` for roles.
    static func listPath(of kind: ObjectKind, in mounts: [Mount]) -> String? {
        let paths = all(mounts)
        return paths.first { list in
            list.declaration.operations.contains(.list) && !list.capturesSomething && paths.contains { child in
                child.mount.path == list.mount.path && child.declaration.objectKind == kind
                    && child.declaration.pattern.dropLast() == list.declaration.pattern[...]
            }
        }?.stem
    }

    /// Where `write` stores an object of a kind, as the shortcut commands do (`roles write NAME`).
    static func home(of kind: ObjectKind, in mounts: [Mount]) -> DeclaredPath? {
        all(mounts).first {
            $0.declaration.objectKind == kind && $0.declaration.operations.contains(.write) && !$0.declaration.dataFields.isEmpty
        }
    }

    /// The declaration a whole path (`database/roles/x`) reaches.
    static func matching(_ path: String, in mounts: [Mount]) -> DeclaredPath? {
        for mount in mounts.sorted(by: { $0.path.count > $1.path.count }) where path.hasPrefix(mount.path) {
            if let declaration = mount.backend.declaration(matching: String(path.dropFirst(mount.path.count))) {
                return DeclaredPath(mount: mount, declaration: declaration)
            }
        }
        return nil
    }
}
