import Basics
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// The folder that holds all of dbsecrets' state: one pretty-printed JSON file per object, in one
/// folder per kind, so an operation touches a few small files whatever the number of objects.
///
///     config/NAME.json            connections
///     roles/NAME.json             dynamic roles
///     static-roles/NAME.json      static roles
///     password-policies/NAME.json
///     leases/ROLE.ID.json         one per lease (ID = the lease id's last segment)
///     lease-expiry/MINUTE/ROLE.ID empty markers: the due-work index, by expiry minute
///     intents/KIND-NAME.json      records written before a change to a database
///     locks/KIND-NAME.lock        flock files, one per object (leases share 256: `lockFile`)
///     tmp/FOLDER~FILE~PID~RANDOM  temp files of writes in progress (see AtomicFile)
///     sys/mounts.json             the mount table (MountTable.swift)
///     sys/derived-keys.json       SCRAM salted passwords, a cache (DerivedKeyFile.swift)
///     mounts/UUID/…               the same layout for each mount enabled at another path
///
/// The folder is a trust boundary (see StateFolderTrust): it is opened once per process, from `/`,
/// checked, and every file inside is reached through its descriptor without following links.
/// A mount's storage is a `StateDirectory` too (`scoped(to:)`): the same record kinds, locks and
/// temp files, in a folder reached from the state folder's descriptor, never by path.
public struct StateDirectory: Sendable {
    /// The state folder's absolute path, standardized. Kept as text: FoundationEssentials' `URL`
    /// costs a tenth of a short command's start-up at its first `path`.
    public let rootPath: String
    /// The same, for messages and callers that build paths.
    public var root: URL { URL(fileURLWithPath: rootPath, isDirectory: true) }
    /// Skips the ownership check of the folders above the state folder (never of the state folder).
    public let allowInsecureParents: Bool
    /// The secrets read from or written to this folder by this process, for redaction.
    public let secrets: SecretRegistry
    private let handles = OpenFolders()
    /// For a folder inside the state folder: the state folder, and the names that lead there.
    private let container: Container?

    private final class Container: Sendable {
        let state: StateDirectory
        let path: [String]
        init(state: StateDirectory, path: [String]) {
            self.state = state
            self.path = path
        }
    }

    public init(root: URL, allowInsecureParents: Bool = false, secrets: SecretRegistry = SecretRegistry()) {
        self.init(path: root.path, allowInsecureParents: allowInsecureParents, secrets: secrets)
    }

    public init(path: String, allowInsecureParents: Bool = false, secrets: SecretRegistry = SecretRegistry()) {
        rootPath = Self.isStandard(path) ? path : URL(fileURLWithPath: path).standardizedFileURL.path
        self.allowInsecureParents = allowInsecureParents
        self.secrets = secrets
        self.container = nil
    }

    /// An absolute path without empty, `.` or `..` components, which `standardizedFileURL` would
    /// keep as it is.
    static func isStandard(_ path: String) -> Bool {
        guard path.hasPrefix("/") else { return false }
        return path.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).dropFirst().allSatisfy { part in
            !part.isEmpty && !part.elementsEqual(".".utf8) && !part.elementsEqual("..".utf8)
        }
    }

    private init(inside state: StateDirectory, path: [String]) {
        rootPath = path.reduce(state.rootPath) { $0 + "/" + $1 }
        allowInsecureParents = state.allowInsecureParents
        secrets = state.secrets
        container = Container(state: state, path: path)
    }

    /// The folder `path` (single names, e.g. `mounts`, a UUID) inside this one, laid out and
    /// guarded like the state folder itself.
    func scoped(to path: [String]) -> StateDirectory {
        StateDirectory(inside: self, path: path)
    }

    /// Whether this is the state folder itself rather than a folder inside it.
    var isStateFolder: Bool { container == nil }

    /// `-state-dir`, else `DBSECRETS_STATE_DIR`, else `$XDG_STATE_HOME/dbsecrets`, else
    /// `~/.local/state/dbsecrets`.
    public static func resolve(flag: String?, environment: [String: String],
                               secrets: SecretRegistry = SecretRegistry()) -> StateDirectory {
        let relax = ["1", "true", "yes"].contains(environment[StateFolderTrust.allowInsecureParentsVariable]?.lowercased() ?? "")
        let path: String
        if let flag, !flag.isEmpty {
            path = flag
        } else if let dir = environment["DBSECRETS_STATE_DIR"], !dir.isEmpty {
            path = dir
        } else if let xdg = environment["XDG_STATE_HOME"], !xdg.isEmpty {
            path = xdg + "/dbsecrets"
        } else {
            let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? passwordDatabaseHome()
            path = home + "/.local/state/dbsecrets"
        }
        return StateDirectory(path: path, allowInsecureParents: relax, secrets: secrets)
    }

    /// Where a kind's files are, for messages.
    public func folder(_ kind: RecordKind) -> URL {
        root.appendingPathComponent(kind.folder, isDirectory: true)
    }

    /// The state folder itself, checked; nil when it does not exist yet and `create` is false.
    func rootFolder(create: Bool) throws -> StateFolder? {
        if let container {
            if let cached = handles.withLock({ $0.root }) { return cached }
            guard var folder = try container.state.rootFolder(create: create) else { return nil }
            for name in container.path {
                guard let next = try folder.folder(name, create: create) else { return nil }
                folder = next
            }
            handles.withLock { $0.root = folder }
            return folder
        }
        return try handles.withLock { open in
            if let root = open.root { return root }
            guard let root = try StateFolderTrust.open(rootPath, create: create,
                                                       allowInsecureParents: allowInsecureParents) else { return nil }
            open.root = root
            return root
        }
    }

    /// A kind's folder, opened once per process; nil when absent and `create` is false. Modes are
    /// set explicitly, whatever the umask.
    func openFolder(_ kind: RecordKind, create: Bool) throws -> StateFolder? {
        if let cached = handles.withLock({ $0.kinds[kind] }) { return cached }
        guard let root = try rootFolder(create: create), let folder = try root.folder(kind.folder, create: create) else { return nil }
        handles.withLock { $0.kinds[kind] = folder }
        return folder
    }

    /// `tmp/`, where writes stage their temp files.
    func temporaries() throws -> StateFolder {
        if let cached = handles.withLock({ $0.temporaries }) { return cached }
        guard let root = try rootFolder(create: true),
              let folder = try root.folder(Self.temporariesFolder, create: true) else {
            throw StateError.io("cannot open \(rootPath)/\(Self.temporariesFolder)", ENOENT)
        }
        handles.withLock { $0.temporaries = folder }
        return folder
    }

    static let temporariesFolder = "tmp"

    /// The per-object lock for a read-modify-write of `name` of `kind`. `files`: lock files kept
    /// open by the pass taking it.
    func lock(_ kind: RecordKind, _ name: String, files: LockFiles? = nil) throws -> FileLock {
        try lock(kind, name, wait: true, files: files)!
    }

    func tryLock(_ kind: RecordKind, _ name: String, files: LockFiles? = nil) throws -> FileLock? {
        try lock(kind, name, wait: false, files: files)
    }

    private func lock(_ kind: RecordKind, _ name: String, wait: Bool, files: LockFiles?) throws -> FileLock? {
        let folder = try lockFolder(for: kind), file = Self.lockFile(kind, name)
        if let files { return try files.lock(file, in: folder, wait: wait) }
        return try FileLock(in: folder, file, wait: wait)
    }

    /// A lock others may hold at the same time, but not with one who holds it exclusively (a
    /// mount's, held by every request on the mount and exclusively by `secrets disable`).
    func sharedLock(_ kind: RecordKind, _ name: String, wait: Bool) throws -> FileLock? {
        try FileLock(in: try lockFolder(for: kind), Self.lockFile(kind, name), wait: wait, shared: true)
    }

    /// `locks/`; for a lease's lock, with every lease slot in it: they are made all at once the
    /// first time one is missing (checked once per process), since creating a file is what a
    /// lock costs (~0.2-1 ms on ext4, a journal entry) and an existing one costs nothing more.
    private func lockFolder(for kind: RecordKind) throws -> StateFolder {
        let folder = try openFolder(.lock, create: true)!
        if kind == .lease && !handles.withLock({ $0.leaseSlotsChecked }) {
            if try folder.entryType(Self.leaseSlotFile(Self.leaseLockSlots - 1)) == nil {
                for slot in 0..<Self.leaseLockSlots { try folder.createEmptyFile(Self.leaseSlotFile(slot), durably: false) }
            }
            handles.withLock { $0.leaseSlotsChecked = true }
        }
        return folder
    }

    /// `locks/KIND-NAME.lock`, one per object, except for leases: they come and go by the
    /// thousand, and a file each filled `locks/` for ever and cost a file creation (a journal
    /// entry) per lease. Leases share `leaseLockSlots` files instead, `lease-slot-NNN.lock`,
    /// chosen by a hash of the lease's file name that every process computes the same (FNV-1a;
    /// Swift's `Hasher` is seeded per process). Two leases on one slot exclude each other, which
    /// is only more exclusion: no code holds two lease locks at once, so a shared slot cannot
    /// deadlock, and a free slot still proves that no writer of any of its leases is running.
    /// A pass that finds a slot taken leaves the lease to the next pass, as when a lease is
    /// being renewed. The lock files of the older scheme (`leases-ROLE.ID.lock`) are no longer
    /// opened by anyone and are left where they are: empty files, harmless.
    static func lockFile(_ kind: RecordKind, _ name: String) -> String {
        guard kind == .lease else { return "\(kind.folder)-\(name).lock" }
        var hash: UInt32 = 2_166_136_261
        for byte in name.utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        return leaseSlotFile(hash % leaseLockSlots)
    }

    private static func leaseSlotFile(_ slot: UInt32) -> String {
        let number = String(slot)
        return "lease-slot-" + String(repeating: "0", count: 3 - number.count) + number + ".lock"
    }

    static let leaseLockSlots: UInt32 = 256

    /// The sub-folder `name` of this folder and all it holds, removed (a disabled mount's
    /// storage); links inside are removed, never followed. The descriptors this process keeps
    /// on sub-folders are dropped, so that a later write makes the folder anew.
    func removeTree(_ name: String) throws {
        guard let root = try rootFolder(create: false) else { return }
        try root.removeTree(name)
        handles.withLock { open in
            open.kinds = [:]
            open.temporaries = nil
            open.leaseSlotsChecked = false
        }
    }

    /// Temp files a minute old or more, from writers that were killed: they may hold passwords.
    func removeLeftoverTemporaries() throws {
        guard try rootFolder(create: false) != nil else { return }
        // Leases hold no secret, and listing 100,000 of them on every pass is not free.
        // Nor static-roles/ while its `.unchanged-STAMP` holds: the comparison that made it found
        // no such leftover there, and none was created there since.
        let unchanged = StaticRoleStore.isUnchanged(in: self)
        let legacy = try RecordKind.allCases.filter { ![.lease, .staticRoleDue, .roleName, .mount].contains($0) && !(unchanged && $0 == .staticRole) }
            .compactMap { try openFolder($0, create: false) }
        try temporaries().removeLeftovers(olderThan: StateFolder.leftoverAge, legacyFolders: legacy)
    }
}

/// The descriptors a process keeps open on its state folder, shared by every copy of one
/// `StateDirectory`.
private final class OpenFolders: @unchecked Sendable {
    struct Open {
        var root: StateFolder?
        var kinds: [RecordKind: StateFolder] = [:]
        var temporaries: StateFolder?
        /// Whether `locks/` was seen to hold every lease slot (`lockFolder(for:)`).
        var leaseSlotsChecked = false
    }

    private let lock = Lock()
    private var open = Open()

    func withLock<T>(_ body: (inout Open) throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(&open)
    }
}

public enum RecordKind: String, Sendable, CaseIterable {
    case connection
    case role
    case staticRole
    case passwordPolicy
    case lease
    case leaseExpiry
    /// The due-time index of static roles (`StaticRoleStore`).
    case staticRoleDue
    case intent
    case lock
    /// The mount table (`sys/mounts.json`), and the lock of the table.
    case system
    /// The storage folders of mounts (`mounts/UUID/`), and each mount's lock.
    case mount
    /// Not a folder of records: names the lock shared by both role kinds, so a dynamic and a
    /// static role can never be created under one name at once.
    case roleName

    var folder: String {
        switch self {
        case .connection: return "config"
        case .role: return "roles"
        case .staticRole: return "static-roles"
        case .passwordPolicy: return "password-policies"
        case .lease: return "leases"
        case .leaseExpiry: return "lease-expiry"
        case .staticRoleDue: return "static-role-due"
        case .intent: return "intents"
        case .lock: return "locks"
        case .system: return "sys"
        case .mount: return "mounts"
        case .roleName: return "role-name"
        }
    }
}
