import DBPlugin
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Which mounts are in force, and running work on one of them.
extension Engine {
    /// A mount as the router finds it: where its backend is reachable and, for a database
    /// mount, its table entry (the implicit `database/` included); `sys/` has none.
    struct ResolvedMount: Sendable {
        let mount: Mount
        let entry: MountEntry?
    }

    /// The mounts in force now: the static ones of `environment.mounts` (`sys/`), the table's, and
    /// the implicit `database/` while no table entry takes its place (MountTable.swift).
    func resolvedMounts() throws -> [ResolvedMount] {
        Self.resolve(try mountTable.read(), static: environment.mounts)
    }

    static func resolve(_ table: MountTable, static mounts: [Mount]) -> [ResolvedMount] {
        let name = Self.databaseBackend.name
        let backend = mounts.first { $0.backend.name == name }?.backend ?? Self.databaseBackend
        var resolved: [ResolvedMount] = []
        for mount in mounts {
            guard mount.backend.name == name else {
                resolved.append(ResolvedMount(mount: mount, entry: nil))
                continue
            }
            guard isImplicitMountInForce(table, at: mount.path) else { continue }
            var entry = MountEntry.implicitDatabase
            entry.path = mount.path
            resolved.append(ResolvedMount(mount: mount, entry: entry))
        }
        for entry in table.entries where entry.type == name {
            resolved.append(ResolvedMount(mount: Mount(path: entry.path, backend: backend), entry: entry))
        }
        return resolved
    }

    /// The implicit mount serves the top-level storage until a table entry uses that storage, or
    /// takes a path that overlaps its own.
    static func isImplicitMountInForce(_ table: MountTable, at path: String) -> Bool {
        !table.entries.contains { $0.isTopLevelStorage || pathsOverlap($0.path, path) }
    }

    /// Vault refuses a mount inside another or around it: `a/` and `a/b/` overlap.
    static func pathsOverlap(_ a: String, _ b: String) -> Bool {
        a.hasPrefix(b) || b.hasPrefix(a)
    }

    /// Every mount in force, as the router sees them: for completion and help.
    public func mountsInForce() throws -> [Mount] {
        try resolvedMounts().map(\.mount)
    }

    /// The database mounts in force, in path order.
    func databaseMounts() throws -> [MountEntry] {
        try resolvedMounts().compactMap(\.entry).sorted { $0.path < $1.path }
    }

    /// The storage of a mount: the state folder's top level, or `mounts/UUID/`.
    func storage(of entry: MountEntry) -> StateDirectory {
        entry.isTopLevelStorage ? environment.state : environment.state.scoped(to: [RecordKind.mount.folder, entry.uuid])
    }

    /// An engine serving `entry`'s mount, on its storage, with its TTLs.
    func engine(for entry: MountEntry) -> Engine {
        if entry == scope.entry { return self }
        return Engine(environment: environment, scope: MountScope(entry: entry, storage: storage(of: entry)))
    }

    /// Runs `body` on an engine scoped to the mount, holding the mount's lock shared, after reading
    /// the table again under it: a disable or a move holds the lock exclusively while it revokes,
    /// so `body` never runs on a mount half disabled or half moved, and a disable never misses a
    /// lease that `body` creates. A mount that is gone meanwhile is `gone()`. A mount left with a
    /// pending disable or move by a process that died is finished first (`finishPendingChange`).
    /// `wait: false` returns nil at once when a disable or move is running.
    ///
    /// `locking: false` is for what only reads (a role, a list): it needs no lock, and a read
    /// racing a disable sees the mount before or after.
    func withMount<T>(_ entry: MountEntry, wait: Bool = true, locking: Bool = true, gone: () -> EngineError,
                      _ body: (Engine) throws -> T) throws -> T? {
        // A state folder that does not exist yet has no mount being disabled or moved: no lock
        // (a read must not create the folder).
        var lock: FileLock?
        if locking, try environment.state.rootFolder(create: false) != nil {
            guard let taken = try environment.state.sharedLock(.mount, entry.storageID, wait: wait) else { return nil }
            lock = taken
        }
        // Read again under the lock: the mount may have changed while we waited for it.
        let found = lock == nil ? entry : Self.resolve(try mountTable.read(), static: environment.mounts).compactMap(\.entry)
            .first(where: { $0.path == entry.path && $0.storageID == entry.storageID })
        guard var current = found else { throw gone() }
        if current.pendingChange != nil {
            // Only with the lock released can the exclusive one that finishing takes be had.
            lock?.release()
            try finishPendingChange(of: current)
            throw gone()
        }
        current.pendingChange = nil
        return try withExtendedLifetime(lock) { try body(engine(for: current)) }
    }

    /// `withMount` that always waits, for callers that must run.
    func onMount<T>(_ entry: MountEntry, locking: Bool = true, gone: () -> EngineError, _ body: (Engine) throws -> T) throws -> T {
        guard let result = try withMount(entry, wait: true, locking: locking, gone: gone, body) else { throw gone() }
        return result
    }

    /// The mount whose path is the longest prefix of `leaseID`.
    func mountEntry(ofLease leaseID: String) throws -> MountEntry? {
        try databaseMounts().filter { leaseID.hasPrefix($0.path) }.max { $0.path.count < $1.path.count }
    }

    /// Whether the top-level storage holds anything: a connection, a role, a lease, an intent.
    /// While it does not, the implicit `database/` is latent (not listed, and enabling
    /// `database/` takes it over).
    func topLevelStorageIsInUse() throws -> Bool {
        let top = environment.state
        for kind in [RecordKind.connection, .role, .staticRole, .lease, .intent] {
            if try !RecordStore<Lease>(state: top, kind: kind).list().isEmpty { return true }
        }
        return false
    }
}
