import Basics
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// Leases, one file each, plus an index of when each needs attention, so that finding due work
/// never reads every lease: `lease-expiry/MINUTE/ROLE.ID` holds an empty marker in the bucket of the
/// minute the lease expires (or its next revocation attempt is due). A pass lists the bucket
/// names, opens only the buckets already past, and reads only the leases they name.
///
/// Invariant: a lease that exists has a marker in the bucket of its next due time (an
/// irrevocable lease has no next due time, and no marker). It holds because
/// - every change to a lease happens under the lease's lock, and adds the new marker before the
///   lease file and removes the old one after it: a crash leaves an extra marker, never none;
/// - a marker is removed only under the lease's lock, after re-reading the lease (`claim`), never
///   on the strength of an unlocked listing, which may see a marker a moment before its lease.
struct LeaseStore: Sendable {
    let records: RecordStore<Lease>
    let state: StateDirectory
    /// The path of the mount whose storage this is (`database/`): the start of every lease id here.
    let mountPath: String

    init(state: StateDirectory, mountPath: String) {
        self.state = state
        self.mountPath = mountPath
        self.records = RecordStore(state: state, kind: .lease)
    }

    func read(id: String) throws -> Lease? {
        guard id.hasPrefix(mountPath), let file = Lease.fileName(forID: id),
              let lease = try read(file: file), lease.id == id else { return nil }
        return lease
    }

    func read(file: String) throws -> Lease? {
        guard let lease = try records.read(file), Lease.fileName(forID: lease.id) == file else { return nil }
        return lease
    }

    /// Stores a new or changed lease and moves its marker to the bucket of `dueAt(lease)`. The
    /// caller holds the lease's lock.
    func write(_ lease: Lease, previous: Lease? = nil) throws {
        guard let file = Lease.fileName(forID: lease.id) else {
            throw EngineError.failed("invalid lease id \(lease.id)")
        }
        if !lease.irrevocable { try addMarker(file, at: Self.dueAt(lease)) }
        try records.write(file, lease)
        if let previous, lease.irrevocable || Self.bucket(Self.dueAt(previous)) != Self.bucket(Self.dueAt(lease)) {
            try removeMarker(file, bucket: Self.bucket(Self.dueAt(previous)))
        }
    }

    /// The caller holds the lease's lock.
    func delete(_ lease: Lease) throws {
        guard let file = Lease.fileName(forID: lease.id) else { return }
        try records.delete(file)
        try removeMarker(file, bucket: Self.bucket(Self.dueAt(lease)))
    }

    /// `delete` for a pass that revokes many leases (`Engine.revokeExpiredLeases`): the removal
    /// is not made durable here, and the marker stays. The caller makes the removals of many
    /// leases durable with one `syncDeletions`, and only then removes their markers (`claim`
    /// under each lease's lock, as for any marker whose lease is gone). So a lease whose removal
    /// a power loss undoes still has its marker: the next pass revokes it again, which finds
    /// its user gone and succeeds.
    func deleteKeepingMarker(_ lease: Lease) throws {
        guard let file = Lease.fileName(forID: lease.id) else { return }
        try records.delete(file, batched: true)
    }

    /// Makes the removals of `deleteKeepingMarker` survive a crash: one fsync of `leases/`.
    func syncDeletions() throws {
        try stepBoundary("sync removed leases")
        try state.openFolder(.lease, create: false)?.sync()
    }

    /// Removes a lease file that cannot be read (for `revoke -force`); its marker, wherever it is,
    /// is found without its lease by the next pass and removed then.
    func deleteUnreadable(file: String) throws {
        try records.delete(file)
    }

    /// Every lease whose id starts with `prefix`, in file-name order, as `lease list` shows it
    /// (a file that cannot be read is listed as such, with why). The names are held packed
    /// and bounded (`StateFolder.forEachSortedName`), each id is made when its turn comes, every
    /// file is read into one buffer, and a plain file is read by `LeaseFileScan` without building
    /// a `Lease`: memory does not grow with the number of leases.
    func forEachSummary(prefix: String, now: Date, mountAccessor: String, _ body: (LeaseSummary) throws -> Void) throws {
        guard let folder = try state.openFolder(.lease, create: false) else { return }
        var buffer: [UInt8] = []
        try folder.forEachSortedName(endingIn: ".json") { entry in
            guard let id = listedID(of: entry.name), id.hasPrefix(prefix) else { return }
            let summary: LeaseSummary?
            do {
                guard let count = try folder.read(entry.name + ".json", listedType: entry.type, into: &buffer) else { return }
                summary = try buffer.withUnsafeBufferPointer { all throws -> LeaseSummary? in
                    let bytes = UnsafeBufferPointer(rebasing: all[..<count])
                    switch LeaseFileScan.summary(bytes, listedID: id, now: now, mountAccessor: mountAccessor) {
                    case .lease(let summary): return summary
                    case .otherLease: return nil
                    case .notQuick:
                        let lease = try RecordStore<Lease>.decode(Data(bytes), file: { records.url(entry.name) })
                        return lease.id == id ? LeaseSummary(lease, now: now, mountAccessor: mountAccessor) : nil
                    }
                }
            } catch let error as EngineError {
                summary = LeaseSummary(unreadable: id, error)
            }
            if let summary { try body(summary) }
        }
    }

    /// The id of the lease file `file` if `Lease.fileName(forID:)` of that id gives `file` back
    /// (checked on the name itself, which is cheaper).
    func listedID(of file: String) -> String? {
        guard let dot = file.utf8.lastIndex(of: UInt8(ascii: ".")), ObjectName.isValid(file[..<dot]),
              ObjectName.isValid(file[file.index(after: dot)...]) else { return nil }
        return Lease.id(forFileName: file, mountPath: mountPath)
    }

    /// Lease ids starting with `prefix`, from file names alone (the packed listing: no string
    /// per file until its id is made).
    func ids(prefix: String) throws -> [String] {
        guard let folder = try state.openFolder(.lease, create: false) else { return [] }
        return try folder.sortedNames(endingIn: ".json").compactMap { Lease.id(forFileName: $0, mountPath: mountPath) }
            .filter { $0.hasPrefix(prefix) }
    }

    /// Markers in buckets up to `now`'s: the leases that may be due. Only a hint; each is checked
    /// under its lease's lock by `claim`. A bucket that cannot be listed (something planted in
    /// the index) is one of the `problems`, and the other buckets are still listed.
    func dueMarkers(at now: Date) throws -> (markers: [(bucket: String, file: String)], problems: [EngineError]) {
        guard let root = try state.openFolder(.leaseExpiry, create: false) else { return ([], []) }
        let nowBucket = Self.bucket(now)
        var due: [(bucket: String, file: String)] = []
        var problems: [EngineError] = []
        for bucket in try root.names().sorted() where !bucket.hasPrefix(".") && bucket <= nowBucket {
            do {
                guard let folder = try root.folder(bucket, create: false) else { continue }
                let markers = try folder.names()
                // An empty past bucket goes; a writer adding to it meanwhile makes it again (`addMarker`).
                if markers.isEmpty && bucket < nowBucket { root.removeFolderIfEmpty(bucket) }
                due += markers.sorted().filter { !$0.hasPrefix(".") }.map { (bucket: bucket, file: $0) }
            } catch let error as EngineError {
                problems.append(error)
            }
        }
        return (due, problems)
    }

    /// The lease a marker names, if it is due; the caller holds the lease's lock. A marker whose
    /// lease is gone, or has moved to another bucket, is removed here, and only here.
    func claim(file: String, bucket: String, at now: Date) throws -> Lease? {
        guard let lease = try read(file: file) else {
            try removeMarker(file, bucket: bucket)
            return nil
        }
        if lease.irrevocable || Self.bucket(Self.dueAt(lease)) != bucket {
            try removeMarker(file, bucket: bucket)
            return nil
        }
        return Self.dueAt(lease) <= now ? lease : nil
    }

    static func dueAt(_ lease: Lease) -> Date {
        lease.nextRevokeAttempt ?? lease.expireTime
    }

    static func bucket(_ date: Date) -> String {
        let minute = Int((date.timeIntervalSince1970 / 60).rounded(.down))
        // Zero-padded so that string order is time order.
        let text = String(max(minute, 0))
        return String(repeating: "0", count: max(0, 12 - text.count)) + text
    }

    private func addMarker(_ file: String, at date: Date) throws {
        try stepBoundary("add expiry marker")
        let bucket = Self.bucket(date)
        // A pass may remove an empty past bucket between our opening and creating: open it again.
        for _ in 0..<3 {
            guard let root = try state.openFolder(.leaseExpiry, create: true),
                  let folder = try root.folder(bucket, create: true) else { break }
            do {
                try folder.createEmptyFile(file)
                return
            } catch where folder.isGone {
                continue
            }
        }
        throw StateError.io("cannot create \(state.folder(.leaseExpiry).path)/\(bucket)/\(file)", ENOENT)
    }

    private func removeMarker(_ file: String, bucket: String) throws {
        try stepBoundary("remove expiry marker")
        try? recentBucket.folder(bucket) { try state.openFolder(.leaseExpiry, create: false)?.folder(bucket, create: false) }?
            .remove(file, durably: false)
    }

    /// The bucket folder a marker was last removed from, kept open: a pass removes the markers
    /// of one bucket after another. Removing through the descriptor of a bucket that another pass
    /// removed meanwhile (it was empty) finds nothing to remove, which is right.
    private let recentBucket = RecentFolder()
}

/// One sub-folder kept open by name, for a caller that uses the same one many times in a row.
final class RecentFolder: @unchecked Sendable {
    private let lock = Lock()
    private var recent: (name: String, folder: StateFolder)?

    /// The folder `name`, opened by `open` unless it is the one opened last time.
    func folder(_ name: String, open: () throws -> StateFolder?) throws -> StateFolder? {
        if let recent = lock.withLock({ recent }), recent.name == name { return recent.folder }
        guard let folder = try open() else { return nil }
        lock.withLock { recent = (name, folder) }
        return folder
    }
}
