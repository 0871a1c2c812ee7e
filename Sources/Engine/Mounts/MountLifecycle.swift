import Basics
import DBPlugin
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

// MARK: - Enabling, tuning, disabling and moving mounts
//
// Enable and tune change the table only. Disable and move also revoke every lease of the mount
// first, as Vault does, and must survive a crash half-way:
//
//   1. take the mount's lock exclusively (requests hold it shared: they finish first, and later
//      ones wait, then find the mount changed);
//   2. write the change into the mount's table entry (`pending_change`): from here on requests
//      on the mount are refused, and whoever finds the entry with its lock free finishes it;
//   3. settle the mount's interrupted creds (their users are dropped, or kept as leases), then
//      revoke every lease through the usual revocation path;
//   4. disable: remove the mount's storage, then its entry; move: change the entry's path.
//
// A failed revocation in step 3 undoes step 2 (the mount serves again, nothing is deleted) and
// the error lists every lease that failed. A crash anywhere leaves the entry with its pending
// change and a free lock: the next request on the mount, `secrets disable` or `secrets move` of
// it, `secrets list`, or `tidy` finishes the change from step 3 (`finishPendingChange`). A crash
// in step 4 leaves part of the storage; since every lease was revoked before it, finishing only
// removes the rest.
extension Engine {
    /// Paths that are not the engine's to mount, unmount or move (Vault's `protectedMounts`).
    static let protectedMountPaths = ["audit/", "auth/", "sys/", "cubbyhole/", "identity/"]

    static let systemMountDescription = "system endpoints used for control, policy and debugging"

    // MARK: Enable

    /// `sys/mounts/PATH` write, Vault's `handleMount` for the database engine.
    func enableMount(_ rawPath: String, _ fields: FieldData) throws -> EngineResponse? {
        let path = try Self.mountPath(rawPath)
        let type = fields.string("type") ?? ""
        guard !type.isEmpty else { throw EngineError.invalid("backend type must be specified as a string") }
        guard type == Self.databaseBackend.name || type == "plugin" && fields.string("plugin_name") == Self.databaseBackend.name else {
            throw EngineError.invalid("plugin not found in the catalog: \(type == "plugin" ? fields.string("plugin_name") ?? "" : type) (dbsecrets serves the database secrets engine only)")
        }
        let config = try Self.mountConfig(fields.json("config"))
        if let version = config.pluginVersion ?? fields.string("plugin_version"), !version.isEmpty {
            throw EngineError.invalid("plugin version \(version) of database not found: the database engine is built into dbsecrets")
        }
        let options = fields.pairs("options") ?? [:]
        if options["version"].map({ !$0.isEmpty }) == true {
            throw EngineError.invalid("secrets engine \"database\" does not allow setting a version")
        }
        let defaultTTL = config.defaultLeaseTTL ?? 0, maxTTL = config.maxLeaseTTL ?? 0
        if maxTTL != 0 && defaultTTL > maxTTL {
            throw EngineError.invalid("given default lease TTL greater than given max lease TTL")
        }
        if defaultTTL > LeaseTTL.systemMaximum && maxTTL == 0 {
            throw EngineError.invalid("given default lease TTL greater than system max lease TTL of \(LeaseTTL.systemMaximum)")
        }
        for protected in Self.protectedMountPaths where path.hasPrefix(protected) {
            throw EngineError.invalid("cannot mount \"\(path)\"")
        }
        let topLevelInUse = try topLevelStorageIsInUse()
        try mountTable.update { table in
            var entry = MountEntry.new(path: path, type: Self.databaseBackend.name)
            for resolved in Self.resolve(table, static: environment.mounts) where Self.pathsOverlap(resolved.mount.path, path) {
                // The implicit database/ gives way while it holds nothing; enabling its own path
                // takes its storage over (MountTable.swift).
                if resolved.entry?.isTopLevelStorage == true && table.entry(at: resolved.mount.path) == nil && !topLevelInUse {
                    if resolved.mount.path == path { entry = MountEntry.implicitDatabase }
                    continue
                }
                throw EngineError.invalid("path is already in use at \(resolved.mount.path)")
            }
            entry.path = path
            entry.description = fields.string("description") ?? ""
            entry.defaultLeaseTTL = defaultTTL
            entry.maxLeaseTTL = maxTTL
            entry.forceNoCache = config.forceNoCache
            entry.local = fields.bool("local")
            entry.sealWrap = fields.bool("seal_wrap")
            entry.externalEntropyAccess = fields.bool("external_entropy_access")
            entry.options = options.isEmpty ? nil : options
            entry.createdAt = now
            table.entries.append(entry)
        }
        return nil
    }

    /// A mount path as Vault keeps it: no leading slash, one trailing slash, clean segments.
    static func mountPath(_ raw: String) throws -> String {
        var text = Substring(raw.trimmingWhitespace())
        while text.hasPrefix("/") { text = text.dropFirst() }
        let path = text.hasSuffix("/") ? String(text) : String(text) + "/"
        guard path != "/" else { throw EngineError.invalid("the mount path must not be empty") }
        let segments = path.dropLast().split(separator: "/", omittingEmptySubsequences: false)
        if segments.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) {
            let cleaned = segments.filter { !$0.isEmpty && $0 != "." && $0 != ".." }.joined(separator: "/") + "/"
            throw EngineError.invalid("path '\(printable(path))' does not match cleaned path '\(printable(cleaned))'")
        }
        if path.unicodeScalars.contains(where: { $0.properties.generalCategory == .control || $0.properties.generalCategory == .format }) {
            throw EngineError.invalid("path cannot contain non-printable characters")
        }
        guard path.utf8.count <= 256 else { throw EngineError.invalid("the mount path is longer than 256 bytes") }
        return path
    }

    /// The `config` object of an enable, Vault's `APIMountConfig`.
    struct MountConfigInput {
        var defaultLeaseTTL: Int?
        var maxLeaseTTL: Int?
        var forceNoCache: Bool?
        var pluginVersion: String?
    }

    static func mountConfig(_ value: JSONValue?) throws -> MountConfigInput {
        var config = MountConfigInput()
        guard let value, value != .null else { return config }
        guard case .object(let object) = value else { throw EngineError.invalid("unable to convert given mount config information") }
        config.defaultLeaseTTL = try mountTTL(object["default_lease_ttl"], what: "default")
        config.maxLeaseTTL = try mountTTL(object["max_lease_ttl"], what: "max")
        if let force = object["force_no_cache"] {
            guard let flag = force.boolValue else { throw EngineError.invalid("unable to convert given mount config information") }
            config.forceNoCache = flag
        }
        config.pluginVersion = object["plugin_version"]?.textValue
        return config
    }

    /// A mount TTL as written: "" (unchanged), "system" (0, the system's), or a duration.
    static func mountTTL(_ value: JSONValue?, what: String) throws -> Int? {
        guard let value, value != .null else { return nil }
        let text = value.textValue ?? ""
        if text.isEmpty { return nil }
        if text == "system" { return 0 }
        do {
            return try DurationField.seconds(value, field: "\(what)_lease_ttl")
        } catch {
            throw EngineError.invalid("unable to parse \(what) TTL of \(text): \(error)")
        }
    }

    // MARK: Read and tune

    /// `sys/mounts`: every mount, keyed by its path, as Vault's `mountInfo` has it.
    func readMountTable() throws -> EngineResponse? {
        let topLevelInUse = try topLevelStorageIsInUse()
        let table = try mountTable.read()
        var data: [String: JSONValue] = ["sys/": Self.systemMountInfo]
        for entry in try databaseMounts() {
            if entry.isTopLevelStorage && table.entry(at: entry.path) == nil && !topLevelInUse { continue }
            data[entry.path] = Self.mountInfo(entry)
        }
        return EngineResponse(data: data)
    }

    static func mountInfo(_ entry: MountEntry) -> JSONValue {
        var info: [String: JSONValue] = [
            "type": .string(entry.type), "description": .string(entry.description), "accessor": .string(entry.accessor),
            "local": .bool(entry.local ?? false), "seal_wrap": .bool(entry.sealWrap ?? false),
            "external_entropy_access": .bool(entry.externalEntropyAccess ?? false),
            "options": entry.options.map { .object($0.mapValues { .string($0) }) } ?? .null,
            "uuid": .string(entry.uuid), "plugin_version": "", "running_plugin_version": "", "running_sha256": "",
            "config": .object(["default_lease_ttl": .int(entry.defaultLeaseTTL), "max_lease_ttl": .int(entry.maxLeaseTTL),
                               "force_no_cache": .bool(entry.forceNoCache ?? false)]),
        ]
        if let pending = entry.pendingChange {
            info["pending_change"] = .string(pending.kind == .disable ? "disable" : "move to \(pending.destination ?? "")")
        }
        return .object(info)
    }

    static let systemMountInfo: JSONValue = [
        "type": "system", "description": .string(systemMountDescription), "accessor": "system_00000000",
        "local": false, "seal_wrap": true, "external_entropy_access": false, "options": nil,
        "uuid": "00000000-0000-0000-0000-000000000001", "plugin_version": "", "running_plugin_version": "",
        "running_sha256": "", "config": ["default_lease_ttl": 0, "max_lease_ttl": 0, "force_no_cache": false],
    ]

    /// `sys/mounts/PATH` read.
    func readMount(_ rawPath: String) throws -> EngineResponse? {
        let path = try Self.mountPath(rawPath)
        if path == "sys/" { return EngineResponse(data: Self.systemMountInfo.objectValue) }
        guard let entry = try databaseMounts().first(where: { $0.path == path }) else {
            throw EngineError.invalid("No secret engine mount at \(path)")
        }
        return EngineResponse(data: Self.mountInfo(entry).objectValue)
    }

    /// `sys/mounts/PATH/tune` read: the TTLs in force (the system's where the mount has none).
    func readMountTune(_ rawPath: String) throws -> EngineResponse? {
        let path = try Self.mountPath(rawPath)
        if path == "sys/" {
            return EngineResponse(data: ["description": .string(Self.systemMountDescription), "default_lease_ttl": .int(LeaseTTL.systemDefault),
                                         "max_lease_ttl": .int(LeaseTTL.systemMaximum), "force_no_cache": false])
        }
        guard let entry = try databaseMounts().first(where: { path.hasPrefix($0.path) }) else {
            throw EngineError.invalid("cannot fetch mount entry for path \"\(path)\"")
        }
        let ttls = LeaseTTL.MountTTLs(defaultTTL: entry.defaultLeaseTTL, maximumTTL: entry.maxLeaseTTL)
        var data: [String: JSONValue] = [
            "description": .string(entry.description), "default_lease_ttl": .int(ttls.defaultTTL),
            "max_lease_ttl": .int(ttls.maximumTTL), "force_no_cache": .bool(entry.forceNoCache ?? false),
        ]
        if let options = entry.options, !options.isEmpty { data["options"] = .object(options.mapValues { .string($0) }) }
        return EngineResponse(data: data)
    }

    /// `sys/mounts/PATH/tune` write: TTLs, description, options. Tuning the implicit `database/`
    /// writes it into the table.
    func tuneMount(_ rawPath: String, _ fields: FieldData) throws -> EngineResponse? {
        let path = try Self.mountPath(rawPath)
        if path.hasPrefix("sys/") {
            let field = ["default_lease_ttl", "max_lease_ttl", "description", "options"].first(where: fields.isGiven) ?? "default_lease_ttl"
            throw EngineError.invalid("cannot tune parameter \(field) of \(path)")
        }
        let newDefault = try Self.mountTTL(fields.string("default_lease_ttl").map { .string($0) }, what: "default")
        let newMax = try Self.mountTTL(fields.string("max_lease_ttl").map { .string($0) }, what: "max")
        if let version = fields.string("plugin_version"), !version.isEmpty {
            throw EngineError.invalid("plugin version \(version) of database not found: the database engine is built into dbsecrets")
        }
        try mountTable.update { table in
            guard var entry = Self.resolve(table, static: environment.mounts).compactMap(\.entry).first(where: { $0.path == path }) else {
                throw EngineError.invalid("tune of path \"\(path)\" failed: no mount entry found")
            }
            let defaultTTL = newDefault ?? entry.defaultLeaseTTL, maxTTL = newMax ?? entry.maxLeaseTTL
            if defaultTTL != 0 && maxTTL != 0 && maxTTL < defaultTTL {
                throw EngineError.invalid("backend max lease TTL of \(maxTTL) would be less than backend default lease TTL of \(defaultTTL)")
            }
            entry.defaultLeaseTTL = defaultTTL
            entry.maxLeaseTTL = maxTTL
            if let description = fields.string("description") { entry.description = description }
            if let options = fields.pairs("options") {
                if options["version"].map({ !$0.isEmpty }) == true {
                    throw EngineError.invalid("secrets engine \"database\" does not allow setting a version")
                }
                entry.options = (entry.options ?? [:]).merging(options) { _, new in new }
            }
            Self.store(entry, in: &table)
        }
        return nil
    }

    /// Puts `entry` in the table in place of its earlier self (same storage), or adds it.
    static func store(_ entry: MountEntry, in table: inout MountTable) {
        if let index = table.entries.firstIndex(where: { $0.storageID == entry.storageID }) {
            table.entries[index] = entry
        } else {
            table.entries.append(entry)
        }
    }

    // MARK: Disable and move

    /// `sys/mounts/PATH` delete. A path that is not mounted succeeds, as in Vault.
    func disableMount(_ rawPath: String) throws -> EngineResponse? {
        let path = try Self.mountPath(rawPath)
        for protected in Self.protectedMountPaths where path.hasPrefix(protected) {
            throw EngineError.invalid("cannot unmount \"\(path)\"")
        }
        guard let entry = try databaseMounts().first(where: { $0.path == path }) else { return nil }
        try change(entry, to: PendingMountChange(kind: .disable, startedAt: now))
        return nil
    }

    /// `sys/remount`: the mount's configuration moves to `to`; its leases are revoked first.
    func moveMount(from rawFrom: String, to rawTo: String) throws -> EngineResponse? {
        guard !rawFrom.isEmpty, !rawTo.isEmpty else {
            throw EngineError.invalid("both 'from' and 'to' path must be specified as a string")
        }
        for (name, raw) in [("from", rawFrom), ("to", rawTo)] where raw.hasPrefix(" ") || raw.hasSuffix(" ") {
            throw EngineError.invalid("'\(name)' path cannot contain trailing whitespace")
        }
        let from = try Self.mountPath(rawFrom)
        let to: String
        do {
            to = try Self.mountPath(rawTo)
        } catch let error as EngineError {
            throw EngineError.invalid("invalid destination mount: \(error.message)")
        }
        for protected in Self.protectedMountPaths {
            if from.hasPrefix(protected) { throw EngineError.invalid("cannot remount \"\(from)\"") }
            if to.hasPrefix(protected) { throw EngineError.invalid("cannot remount to destination \"\(to)\"") }
        }
        guard let entry = try databaseMounts().first(where: { $0.path == from }) else {
            throw EngineError.invalid("no matching mount at \"\(from)\"")
        }
        let id = UUID().uuidString.lowercased()
        try change(entry, to: PendingMountChange(kind: .move, destination: to, migrationID: id, startedAt: now))
        return EngineResponse(data: ["migration_id": .string(id)])
    }

    /// `sys/remount/status/ID`.
    func moveStatus(_ id: String) throws -> EngineResponse? {
        guard let migration = try mountTable.read().migrations?.last(where: { $0.id == id }) else { return nil }
        return EngineResponse(data: [
            "migration_id": .string(id),
            "migration_info": ["source_mount": .string(migration.source), "target_mount": .string(migration.target),
                               "status": .string(migration.status)],
        ])
    }

    /// Steps 1 and 2, then the rest (`complete`).
    private func change(_ entry: MountEntry, to pending: PendingMountChange) throws {
        let lock = try environment.state.lock(.mount, entry.storageID)
        try withExtendedLifetime(lock) {
            let marked = try mountTable.update { table -> MountEntry in
                guard var current = Self.resolve(table, static: environment.mounts).compactMap(\.entry)
                    .first(where: { $0.path == entry.path && $0.storageID == entry.storageID }) else {
                    throw EngineError.invalid("no matching mount at \"\(entry.path)\"")
                }
                if let destination = pending.destination {
                    try Self.checkDestination(destination, of: current, in: table, static: environment.mounts)
                }
                current.pendingChange = pending
                Self.store(current, in: &table)
                return current
            }
            try complete(marked)
        }
    }

    /// A move's destination must not overlap another mount (the implicit database/ gives way
    /// while it holds nothing).
    private static func checkDestination(_ destination: String, of entry: MountEntry, in table: MountTable, static mounts: [Mount]) throws {
        for resolved in resolve(table, static: mounts) where resolved.entry?.storageID != entry.storageID {
            if pathsOverlap(resolved.mount.path, destination) {
                throw EngineError.invalid("path already in use at \"\(resolved.mount.path)\"")
            }
        }
    }

    /// Steps 3 and 4; the caller holds the mount's lock exclusively and the entry is marked.
    private func complete(_ entry: MountEntry) throws {
        guard let pending = entry.pendingChange else { return }
        var serving = entry
        serving.pendingChange = nil
        do {
            try engine(for: serving).revokeEveryLease()
        } catch let error as EngineError {
            try mountTable.update { table in
                Self.store(serving, in: &table)
                if pending.kind == .move { Self.record(pending, of: entry, status: "failure", in: &table) }
            }
            let what = pending.kind == .disable ? "the secrets engine is still enabled" : "the secrets engine was not moved"
            throw EngineError(error.kind, "\(error.message); \(what), nothing was deleted")
        }
        switch pending.kind {
        case .disable:
            try stepBoundary("mount leases revoked")
            try removeStorage(of: entry)
            try stepBoundary("mount storage removed")
            try mountTable.update { table in table.entries.removeAll { $0.storageID == entry.storageID } }
        case .move:
            try mountTable.update { table in
                var moved = serving
                moved.path = pending.destination ?? entry.path
                do {
                    try Self.checkDestination(moved.path, of: entry, in: table, static: environment.mounts)
                } catch {
                    Self.store(serving, in: &table)
                    Self.record(pending, of: entry, status: "failure", in: &table)
                    throw error
                }
                Self.store(moved, in: &table)
                Self.record(pending, of: entry, status: "success", in: &table)
            }
        }
    }

    private static func record(_ pending: PendingMountChange, of entry: MountEntry, status: String, in table: inout MountTable) {
        guard let id = pending.migrationID else { return }
        var migrations = table.migrations ?? []
        migrations.append(MountMigration(id: id, source: entry.path, target: pending.destination ?? "", status: status, time: Date()))
        table.migrations = Array(migrations.suffix(MountTable.maximumMigrations))
    }

    /// The disabled mount's objects. Its locks stay: another process may be waiting on one.
    private func removeStorage(of entry: MountEntry) throws {
        if entry.isTopLevelStorage {
            for kind in [RecordKind.connection, .role, .staticRole, .staticRoleDue, .lease, .leaseExpiry, .intent] {
                try environment.state.removeTree(kind.folder)
            }
        } else {
            try environment.state.scoped(to: [RecordKind.mount.folder]).removeTree(entry.uuid)
        }
    }

    /// Every lease of this engine's mount revoked, after its interrupted creds are settled (so no
    /// user the engine created is left without a lease); throws with every failure listed.
    func revokeEveryLease() throws {
        for (kind, object) in try intents.list() where kind == .creds {
            try withLock(.lease, object) { _ = try? settleIntent(.creds, object, mode: .recovery) }
        }
        do {
            try revokeLeasesHere(LeasePrefix(mountPath: scope.path), force: false)
        } catch let error as RevocationFailures {
            throw EngineError.failed("failed to revoke \(error.failures.count) of \(error.total) leases: \(error.failures.joined(separator: "; "))")
        }
    }

    /// A disable or move that a dead process left, finished now; nil when another process is
    /// still at it or it was already done. Throws when it cannot finish (it is undone then).
    @discardableResult
    func finishPendingChange(of entry: MountEntry, failIfBusy: Bool = true) throws -> DueWorkItem? {
        guard let lock = try environment.state.tryLock(.mount, entry.storageID) else {
            guard failIfBusy else { return nil }
            let doing = entry.pendingChange?.kind == .move ? "moved" : "disabled"
            throw EngineError.failed("the secrets engine at \(entry.path) is being \(doing) by another command; try again when it is done")
        }
        return try withExtendedLifetime(lock) {
            guard let current = try mountTable.read().entries.first(where: { $0.storageID == entry.storageID }),
                  let pending = current.pendingChange else { return nil }
            try complete(current)
            return pending.kind == .disable
                ? DueWorkItem(.mountDisabled, current.path, "an interrupted secrets disable was finished")
                : DueWorkItem(.mountMoved, current.path, "an interrupted secrets move to \(pending.destination ?? "") was finished")
        }
    }

    /// Every pending disable or move whose process is gone, finished; for `tidy`.
    func finishPendingMountChanges(into done: inout [DueWorkItem]) throws {
        for entry in try mountTable.read().entries where entry.pendingChange != nil {
            do {
                if let item = try finishPendingChange(of: entry, failIfBusy: false) { done.append(item) }
            } catch let error as EngineError {
                done.append(DueWorkItem(.mountChangeFailed, entry.path, error.message))
            }
        }
    }
}
