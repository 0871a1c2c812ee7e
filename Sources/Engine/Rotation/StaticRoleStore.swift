#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// Static roles, one file each, plus an index of when each next needs work, so that a pass of
/// due work decodes only the roles that are due: `static-role-due/MINUTE-STAMP.NAME` is an empty
/// marker named after the minute of the role's next due work (`Engine.nextDueWork`;
/// `999999999999` for a role that is never due) and the modification time of the role file it
/// was computed from (`STAMP`, seconds and nanoseconds). One flat folder, listed once a pass.
///
/// The index is a hint that heals itself, never the truth: every candidate is read again under
/// its role's lock before anything is done to it, and a pass compares every role file's
/// modification time (one `fstatat` each, no read) with its marker. So a role whose marker is
/// missing or names another version of the file (state written before the index existed, a
/// crash between a role write and its marker, a file edited by hand) is a candidate, read once
/// and re-indexed. That is why markers need no fsync and no ordering against the role file.
///
/// Comparing every file costs a listing and an `fstatat` per role, so a pass skips it while
/// `static-roles/` is provably unchanged by anything but dbsecrets since the last comparison that
/// found the index whole: `static-role-due/.unchanged-STAMP` records the folder's inode,
/// modification and change times (nanoseconds) as they were then. Every create, rename or
/// removal of an entry (every state write is a temp file renamed in) moves both times, and the
/// change time cannot be set back. A dbsecrets write of a role carries the record forward
/// (renames it to the folder's new times) under one lock (`indexLock`), and only if the record
/// matched the folder just before its own rename: so a change by anything else, or a write
/// killed between its rename and its marker, leaves a record that no longer matches, and the
/// next pass compares every file again. What this cannot notice: a role file changed in place
/// (written without a rename: the folder's times stay), and a change by another program in the
/// instant between a dbsecrets write's two looks at the folder. The record's own modification
/// time is when the last full comparison ran, and a pass compares every file again once that is
/// `fullCheckInterval` old, which catches both within ten minutes.
struct StaticRoleStore: Sendable {
    let records: RecordStore<StaticRole>
    let state: StateDirectory
    /// For a role whose next rotation is computed from "now" (one never rotated yet).
    let now: @Sendable () -> Date

    init(state: StateDirectory, now: @escaping @Sendable () -> Date) {
        self.state = state
        self.now = now
        self.records = RecordStore(state: state, kind: .staticRole)
    }

    func url(_ name: String) -> URL { records.url(name) }
    func read(_ name: String) throws -> StaticRole? { try records.read(name) }
    func list() throws -> [String] { try records.list() }

    /// The caller holds the role's lock.
    func write(_ name: String, _ role: StaticRole) throws {
        let previous = try? marker(name)
        try carryingUnchangedRecord {
            try records.write(name, role)
            let current = try? marker(name, role)
            if let current { try? folder(create: true)?.createEmptyFile(current, durably: false) }
            if let previous, previous != current { removeMarker(previous) }
        }
    }

    /// The caller holds the role's lock.
    func delete(_ name: String) throws {
        let previous = try? marker(name)
        try carryingUnchangedRecord {
            try records.delete(name)
            if let previous { removeMarker(previous) }
        }
    }

    /// How long a pass may go without comparing every role file with its marker.
    static let fullCheckInterval: TimeInterval = 600

    /// Runs `change` (a write or removal of a role file and its markers) under `indexLock`, and
    /// moves `.unchanged-STAMP` to the folder's new stamp if it matched the folder before.
    private func carryingUnchangedRecord(_ change: () throws -> Void) throws {
        guard let index = try folder(create: false), let roles = try state.openFolder(.staticRole, create: false) else {
            return try change()
        }
        let lock = try state.lock(.staticRoleDue, Self.indexLock)
        try withExtendedLifetime(lock) {
            let before = Self.unchangedRecord(roles)
            try change()
            if let before, let after = Self.unchangedRecord(roles), after != before {
                // ENOENT: there was no record of this stamp, so nothing to carry.
                renameat(index.fd, before, index.fd, after)
            }
        }
    }

    /// Serializes the carrying of `.unchanged-STAMP` by writers with its making by a pass.
    private static let indexLock = "unchanged"

    /// `.unchanged-INODE-MTIME-CTIME` of the folder as it is now.
    private static func unchangedRecord(_ folder: StateFolder) -> String? {
        var status = stat()
        guard fstat(folder.fd, &status) == 0 else { return nil }
        return unchangedPrefix + "\(status.st_ino)-\(stamp(status))-\(status.st_ctim.tv_sec).\(status.st_ctim.tv_nsec)"
    }

    private static let unchangedPrefix = ".unchanged-"

    /// The roles a pass must look at, each with the markers it had when listed (for
    /// `repairIndex`): those with a marker at or before `now`'s minute, those whose file has no
    /// marker for its current version, and markers whose role file is gone.
    ///
    /// While `.unchanged-STAMP` matches the folder (and is younger than `fullCheckInterval`),
    /// only the markers are looked at: the candidates are the roles with a marker at or before
    /// `now`'s minute. Otherwise every role file is compared with its marker, and when all of
    /// them match (nothing to repair), the record is made anew for the folder as it was before
    /// the comparison.
    func candidates(at now: Date) throws -> [(name: String, markers: [String])] {
        let index = try folder(create: false)
        let nowMinute = LeaseStore.bucket(now)
        let roles = try state.openFolder(.staticRole, create: false)
        let before = roles.flatMap(Self.unchangedRecord)
        if let index, let before, (try? index.entryType(before)) == S_IFREG, !index.isOlder(before, than: Self.fullCheckInterval) {
            // Only the markers already due are kept. Another marker of a due role (a crash left
            // it) is left for when it is due itself, or for the next full comparison.
            let (records, markers) = try Self.listIndex(index, dueBy: nowMinute)
            if records == [before] { return markers.sortedNames.map { (name: $0, markers: markers.entries(of: $0)) } }
        }
        var (records, markers) = try index.map { try Self.listIndex($0, dueBy: nil) } ?? ([], MarkersByRole())
        // A marker of `now`'s minute or earlier sorts before this ("-" < ".").
        let dueBefore = nowMinute + "."
        var due: [(name: String, markers: [String])] = []
        // A leftover of a version before tmp/ existed (`.NAME.json.tmp-…`, see
        // `removeLeftoverTemporaries`) also keeps the record from being made: while it holds,
        // the folder holds none, and the sweep for them can skip it (`isUnchanged`).
        let names = try roles?.names() ?? []
        var whole = !names.contains { $0.hasPrefix(".") && $0.contains(".tmp-") }
        let roleNames = names.compactMap { $0.hasSuffix(".json") && !$0.hasPrefix(".") ? String($0.dropLast(5)) : nil }.sorted()
        for name in roleNames {
            let entries = markers.remove(name)
            let stamp = try roles?.entryStatus(name + ".json").map(Self.stamp) ?? ""
            let indexed = entries.contains { Self.marks($0, version: stamp, of: name) }
            if !indexed { whole = false }
            if entries.contains(where: { $0 < dueBefore }) || !indexed {
                due.append((name: name, markers: entries))
            }
        }
        if !markers.isEmpty { whole = false }
        for name in markers.sortedNames {
            due.append((name: name, markers: markers.remove(name)))
        }
        if whole, let index, let roles, let before { try? recordUnchanged(before, in: index, roles: roles, replacing: records) }
        return due
    }

    /// The index's `.unchanged-` records and its markers (only those at or before `dueBy`'s
    /// minute, when given), from one streamed listing: a string is made for each marker kept,
    /// none for the others, and none is held twice.
    private static func listIndex(_ index: StateFolder, dueBy minute: String?) throws -> (records: [String], markers: MarkersByRole) {
        var records: [String] = []
        var markers = MarkersByRole()
        let recordBytes = Array(unchangedPrefix.utf8), dueBytes = minute.map { Array($0.utf8) }
        try index.forEachEntry { entry, _ in
            if entry.starts(with: recordBytes) { return records.append(String(decoding: entry, as: UTF8.self)) }
            if let dueBytes, entry.count <= dueBytes.count || isAfter(entry.prefix(dueBytes.count), dueBytes) { return }
            let text = String(decoding: entry, as: UTF8.self)
            guard let (_, _, name) = parse(text) else { return }
            markers.add(text, of: name)
        }
        return (records, markers)
    }

    /// Markers by role name: a role has one, unless a crash left another, so the first of each
    /// is held alone (a dictionary of arrays cost an array per role: 10,000 of them).
    private struct MarkersByRole {
        private var first: [String: String] = [:]
        private var more: [String: [String]] = [:]

        mutating func add(_ entry: String, of name: String) {
            if first[name] == nil { first[name] = entry } else { more[name, default: []].append(entry) }
        }

        func entries(of name: String) -> [String] {
            first[name].map { [$0] + (more[name] ?? []) } ?? []
        }

        mutating func remove(_ name: String) -> [String] {
            guard let entry = first.removeValue(forKey: name) else { return [] }
            return more.isEmpty ? [entry] : [entry] + (more.removeValue(forKey: name) ?? [])
        }

        var isEmpty: Bool { first.isEmpty }
        var sortedNames: [String] { first.keys.sorted() }
    }

    /// Whether `.unchanged-STAMP` holds for `static-roles/` as it is now (two `fstat`s, no listing).
    static func isUnchanged(in state: StateDirectory) -> Bool {
        guard let roles = try? state.openFolder(.staticRole, create: false), let record = unchangedRecord(roles),
              let index = try? state.openFolder(.staticRoleDue, create: false),
              (try? index.entryType(record)) == S_IFREG else { return false }
        return !index.isOlder(record, than: fullCheckInterval)
    }

    /// `.unchanged-STAMP` made anew (its modification time: now), if the folder still has the
    /// stamp it had before the comparison; the older records go.
    private func recordUnchanged(_ record: String, in index: StateFolder, roles: StateFolder, replacing old: [String]) throws {
        let lock = try state.lock(.staticRoleDue, Self.indexLock)
        try withExtendedLifetime(lock) {
            guard Self.unchangedRecord(roles) == record else { return }
            for entry in old { try index.remove(entry, durably: false) }
            try index.createEmptyFile(record, durably: false)
        }
    }

    /// Makes the index say what the role file says now; the caller holds the role's lock, has
    /// just read the role (nil: it is gone) and passes the markers the pass listed for it.
    func repairIndex(_ name: String, _ role: StaticRole?, markers: [String]) throws {
        let wanted = try role.flatMap { try marker(name, $0) }
        if let wanted, !markers.contains(wanted) { try folder(create: true)?.createEmptyFile(wanted, durably: false) }
        for stale in markers where stale != wanted { removeMarker(stale) }
    }

    /// The marker of the role file as it is now, nil when there is none.
    private func marker(_ name: String) throws -> String? {
        guard let role = try records.read(name) else { return nil }
        return try marker(name, role)
    }

    /// The marker of `role`, just read from or written to its file.
    private func marker(_ name: String, _ role: StaticRole) throws -> String? {
        guard let status = try state.openFolder(.staticRole, create: false)?.entryStatus(name + ".json") else { return nil }
        let minute = Engine.nextDueWork(of: role, now: now()).map { LeaseStore.bucket($0.time) } ?? Self.never
        return minute + "-" + Self.stamp(status) + "." + name
    }

    private static let never = String(repeating: "9", count: 12)

    private static func stamp(_ status: stat) -> String {
        "\(status.st_mtim.tv_sec).\(status.st_mtim.tv_nsec)"
    }

    /// Whether `entry`, parsed as a marker of `name` when it was listed (`MINUTE-STAMP.NAME`), is
    /// for the role file's version `stamp`. On the bytes: a full comparison does this per role.
    private static func marks(_ entry: String, version stamp: String, of name: String) -> Bool {
        let matched = entry.utf8.withContiguousStorageIfAvailable { e -> Bool in
            stamp.utf8.withContiguousStorageIfAvailable { s -> Bool in
                e.count == 12 + 1 + s.count + 1 + name.utf8.count && memcmp(e.baseAddress! + 13, s.baseAddress!, s.count) == 0
            } ?? false
        }
        return matched ?? false
    }

    /// Whether the twelve digits `minute` come after `now`'s (byte order is time order); anything
    /// but digits is not a marker, and counts as after.
    private static func isAfter(_ minute: UnsafeRawBufferPointer.SubSequence, _ now: [UInt8]) -> Bool {
        guard minute.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return true }
        return !minute.elementsEqual(now) && !minute.lexicographicallyPrecedes(now)
    }

    /// The minute, stamp and role name of a marker, nil for anything else. On the bytes: a pass
    /// parses one marker per static role.
    private static func parse(_ entry: String) -> (minute: Substring, stamp: Substring, name: String)? {
        let bytes = entry.utf8
        var index = bytes.startIndex
        for _ in 0..<12 {
            guard index < bytes.endIndex, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) else { return nil }
            index = bytes.index(after: index)
        }
        guard index < bytes.endIndex, bytes[index] == UInt8(ascii: "-") else { return nil }
        // The stamp is SECONDS.NANOSECONDS: the name starts after its second dot.
        let stampStart = bytes.index(after: index)
        guard let firstDot = bytes[stampStart...].firstIndex(of: UInt8(ascii: ".")),
              let secondDot = bytes[bytes.index(after: firstDot)...].firstIndex(of: UInt8(ascii: ".")),
              bytes.index(after: secondDot) < bytes.endIndex else { return nil }
        return (entry[..<index], entry[stampStart..<secondDot], String(entry[bytes.index(after: secondDot)...]))
    }

    private func folder(create: Bool) throws -> StateFolder? {
        try state.openFolder(.staticRoleDue, create: create)
    }

    private func removeMarker(_ marker: String) {
        try? folder(create: false)?.remove(marker, durably: false)
    }
}
