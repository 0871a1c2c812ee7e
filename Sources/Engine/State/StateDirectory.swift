import Foundation
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
///     locks/KIND-NAME.lock        flock files, one per object
public struct StateDirectory: Sendable {
    public let root: URL

    public init(root: URL) {
        self.root = root.standardizedFileURL
    }

    /// `-state-dir`, else `DBSECRETS_STATE_DIR`, else `$XDG_STATE_HOME/dbsecrets`, else
    /// `~/.local/state/dbsecrets`.
    public static func resolve(flag: String?, environment: [String: String]) -> StateDirectory {
        if let flag, !flag.isEmpty { return StateDirectory(root: URL(fileURLWithPath: flag)) }
        if let dir = environment["DBSECRETS_STATE_DIR"], !dir.isEmpty { return StateDirectory(root: URL(fileURLWithPath: dir)) }
        if let xdg = environment["XDG_STATE_HOME"], !xdg.isEmpty {
            return StateDirectory(root: URL(fileURLWithPath: xdg).appendingPathComponent("dbsecrets"))
        }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return StateDirectory(root: URL(fileURLWithPath: home).appendingPathComponent(".local/state/dbsecrets"))
    }

    public func folder(_ kind: RecordKind) -> URL {
        root.appendingPathComponent(kind.folder, isDirectory: true)
    }

    /// Creates the root (0700) and a kind's folder on first write. Modes are set explicitly,
    /// whatever the umask.
    func prepareFolder(_ kind: RecordKind) throws -> URL {
        try makePrivateFolder(root)
        let folder = folder(kind)
        try makePrivateFolder(folder)
        return folder
    }

    func makePrivateFolder(_ url: URL) throws {
        if mkdir(url.path, 0o700) == 0 {
            chmod(url.path, 0o700)
            AtomicFile.syncFolder(url.deletingLastPathComponent().path)
            return
        }
        if errno == ENOENT {
            // Parents of the state directory itself are created like `mkdir -p`, with the umask.
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try makePrivateFolder(url)
            return
        }
        guard errno == EEXIST else { throw StateError.io("cannot create \(url.path)", errno) }
    }

    /// The per-object lock for a read-modify-write of `name` of `kind`.
    func lock(_ kind: RecordKind, _ name: String) throws -> FileLock {
        let folder = try prepareFolder(.lock)
        return try FileLock(path: folder.appendingPathComponent("\(kind.folder)-\(name).lock").path)
    }

    func tryLock(_ kind: RecordKind, _ name: String) throws -> FileLock? {
        let folder = try prepareFolder(.lock)
        return try FileLock(tryPath: folder.appendingPathComponent("\(kind.folder)-\(name).lock").path)
    }
}

public enum RecordKind: String, Sendable, CaseIterable {
    case connection
    case role
    case staticRole
    case passwordPolicy
    case lease
    case leaseExpiry
    case intent
    case lock
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
        case .intent: return "intents"
        case .lock: return "locks"
        case .roleName: return "role-name"
        }
    }
}
