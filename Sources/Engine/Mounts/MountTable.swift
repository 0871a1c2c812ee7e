import Basics
import DBPlugin
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Where the database secrets engine is mounted, Vault's mount table: one record,
/// `sys/mounts.json`, read by every request and changed under the table's lock.
///
/// Each mount keeps its objects (connections, roles, leases, intents, locks) in a storage folder
/// of its own, `mounts/UUID/`, laid out like the state folder, so that a move changes one line
/// of the table and a disable removes one folder. The exception is the storage that the state
/// folder itself holds (`config/`, `roles/`, … at its top), written by versions before mounts
/// existed: it belongs to the mount at `database/`, as it always did.
///
/// **The implicit `database/` mount.** A state folder without a table (every folder written
/// before mounts existed, and a fresh one) serves the engine at `database/` from the top-level
/// storage, so today's scripts run without `secrets enable`. That mount is implicit until an
/// explicit enable, tune, move or disable writes it into the table:
///
/// - while its storage is empty, it is latent: `secrets list` does not show it, and
///   `secrets enable database` (or `-path=database`) succeeds and makes it explicit, keeping the
///   storage, so a bootstrap script's first line works on a fresh state and its guard
///   (`secrets list | jq 'has("database/")'`) agrees with what enable does;
/// - once it holds anything, it is listed like any mount, and enabling `database/` again fails
///   with Vault's `path is already in use at database/`, as a second enable does in Vault;
/// - it stops existing as soon as a table entry uses the top-level storage (it was enabled,
///   tuned or moved elsewhere) or a table entry's path overlaps `database/`; disabling it empties
///   the storage, after which it is latent again.
struct MountTable: Codable, Equatable {
    var entries: [MountEntry] = []
    /// The last moves, for `sys/remount/status/ID`; the oldest go first.
    var migrations: [MountMigration]?

    enum CodingKeys: String, CodingKey {
        case entries, migrations
    }

    static let maximumMigrations = 20

    func entry(at path: String) -> MountEntry? {
        entries.first { $0.path == path }
    }
}

/// One mount: Vault's `MountEntry`, the fields `sys/mounts` shows.
struct MountEntry: Codable, Equatable, Sendable {
    var path: String
    var type: String
    var description: String
    var accessor: String
    var uuid: String
    /// Seconds; 0 means the system's (768h).
    var defaultLeaseTTL: Int
    var maxLeaseTTL: Int
    var forceNoCache: Bool?
    var local: Bool?
    var sealWrap: Bool?
    var externalEntropyAccess: Bool?
    var options: [String: String]?
    /// True for the mount whose objects are the state folder's own top-level folders.
    var usesTopLevelStorage: Bool?
    /// Set while a disable or a move is under way; see `MountLifecycle`.
    var pendingChange: PendingMountChange?
    var createdAt: Date?

    enum CodingKeys: String, CodingKey {
        case path, type, description, accessor, uuid, local, options
        case defaultLeaseTTL = "default_lease_ttl"
        case maxLeaseTTL = "max_lease_ttl"
        case forceNoCache = "force_no_cache"
        case sealWrap = "seal_wrap"
        case externalEntropyAccess = "external_entropy_access"
        case usesTopLevelStorage = "uses_top_level_storage"
        case pendingChange = "pending_change"
        case createdAt = "created_at"
    }

    var isTopLevelStorage: Bool { usesTopLevelStorage == true }

    /// The name of the mount's storage, for its lock: its UUID, or `top` for the top-level storage.
    var storageID: String { isTopLevelStorage ? MountEntry.topLevelStorageID : uuid }

    static let topLevelStorageID = "top"
    /// The path of the implicit mount.
    static let implicitPath = "database/"

    /// The implicit `database/` mount, as the table would hold it: fixed identifiers, so that
    /// `secrets list` shows the same accessor every time, and the same ones once it is written.
    static let implicitDatabase = MountEntry(
        path: implicitPath, type: "database", description: "", accessor: "database_00000000",
        uuid: "00000000-0000-0000-0000-000000000000", defaultLeaseTTL: 0, maxLeaseTTL: 0,
        usesTopLevelStorage: true)

    static func new(path: String, type: String) -> MountEntry {
        let uuid = UUID().uuidString.lowercased()
        return MountEntry(path: path, type: type, description: "",
                          accessor: "\(type)_" + SecureRandom.bytes(4).map { cFormat("%02x", $0) }.joined(), uuid: uuid,
                          defaultLeaseTTL: 0, maxLeaseTTL: 0, createdAt: Date())
    }
}

/// A disable or a move that was started: written before the first lease is revoked, so that an
/// interrupted one is found and finished (`MountLifecycle`).
struct PendingMountChange: Codable, Equatable, Sendable {
    enum Kind: String, Codable, Sendable {
        case disable, move
    }

    var kind: Kind
    /// For a move: the new path.
    var destination: String?
    var migrationID: String?
    var startedAt: Date

    enum CodingKeys: String, CodingKey {
        case kind, destination
        case migrationID = "migration_id"
        case startedAt = "started_at"
    }
}

/// A finished (or failed) move, as `sys/remount/status/ID` reports it.
struct MountMigration: Codable, Equatable, Sendable {
    var id: String
    var source: String
    var target: String
    var status: String
    var time: Date
}

/// The table on disk: read without a lock (the file is replaced atomically), changed under the
/// table's lock.
struct MountTableStore: Sendable {
    let state: StateDirectory
    private var records: RecordStore<MountTable> { RecordStore(state: state, kind: .system) }
    static let fileName = "mounts"

    func read() throws -> MountTable {
        try records.read(Self.fileName) ?? MountTable()
    }

    /// Read-modify-write of the table under its lock; `change` may throw to change nothing.
    @discardableResult
    func update<T>(_ change: (inout MountTable) throws -> T) throws -> T {
        let lock = try state.lock(.system, Self.fileName)
        return try withExtendedLifetime(lock) {
            var table = try read()
            let before = table
            let result = try change(&table)
            if table != before { try records.write(Self.fileName, table) }
            return result
        }
    }
}
