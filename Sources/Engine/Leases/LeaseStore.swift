import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Leases, one file each, plus an index of when each needs attention, so that finding due work
/// never reads every lease: `lease-expiry/MINUTE/ROLE.ID` holds an empty marker in the bucket of the
/// minute the lease expires (or its next revocation attempt is due). A pass lists the bucket
/// names, opens only the buckets already past, and reads only the leases they name.
///
/// Markers are written before the lease and removed after it, so a crash can leave a marker
/// without a lease (swept by the next pass) but never a lease that no pass would find.
struct LeaseStore: Sendable {
    let records: RecordStore<Lease>
    let state: StateDirectory

    init(state: StateDirectory) {
        self.state = state
        self.records = RecordStore(state: state, kind: .lease)
    }

    func read(id: String) throws -> Lease? {
        guard let file = Lease.fileName(forID: id) else { return nil }
        guard let lease = try records.read(file), lease.id == id else { return nil }
        return lease
    }

    /// Stores a new or changed lease and moves its marker to the bucket of `dueAt(lease)`. An
    /// irrevocable lease has no marker: no pass will try it again, `lease list` still shows it.
    func write(_ lease: Lease, previous: Lease? = nil) throws {
        guard let file = Lease.fileName(forID: lease.id) else {
            throw EngineError.failed("invalid lease id \(lease.id)")
        }
        if !lease.irrevocable { try addMarker(file, at: Self.dueAt(lease)) }
        try records.write(file, lease)
        if let previous, lease.irrevocable || Self.bucket(Self.dueAt(previous)) != Self.bucket(Self.dueAt(lease)) {
            removeMarker(file, at: Self.dueAt(previous))
        }
    }

    func delete(_ lease: Lease) throws {
        guard let file = Lease.fileName(forID: lease.id) else { return }
        try records.delete(file)
        removeMarker(file, at: Self.dueAt(lease))
    }

    /// Lease ids starting with `prefix`, from file names alone.
    func ids(prefix: String) throws -> [String] {
        try records.list().compactMap(Lease.id(forFileName:)).filter { $0.hasPrefix(prefix) }
    }

    /// The leases whose ids start with `prefix`; only those files are read.
    func all(prefix: String = "") throws -> [Lease] {
        try ids(prefix: prefix).compactMap { try read(id: $0) }
    }

    /// Leases whose expiry or retry time is at or before `now`, found through the index.
    func due(at now: Date) throws -> [Lease] {
        guard let root = try state.openFolder(.leaseExpiry, create: false) else { return [] }
        let nowBucket = Self.bucket(now)
        var due: [Lease] = []
        for bucket in try root.names().sorted() where !bucket.hasPrefix(".") && bucket <= nowBucket {
            guard let folder = try root.folder(bucket, create: false) else { continue }
            let markers = try folder.names()
            for file in markers.sorted() where !file.hasPrefix(".") {
                guard let lease = try records.read(file) else {
                    // A marker whose lease is gone: a crash between the two writes, or a revoke.
                    try? folder.remove(file, durably: false)
                    continue
                }
                if Self.bucket(Self.dueAt(lease)) != bucket {
                    try? folder.remove(file, durably: false)
                    continue
                }
                if !lease.irrevocable && Self.dueAt(lease) <= now { due.append(lease) }
            }
            if markers.isEmpty { root.removeFolderIfEmpty(bucket) }
        }
        return due
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
        guard let root = try state.openFolder(.leaseExpiry, create: true),
              let folder = try root.folder(Self.bucket(date), create: true) else {
            throw StateError.io("cannot create \(state.folder(.leaseExpiry).path)/\(Self.bucket(date))", ENOENT)
        }
        try folder.createEmptyFile(file)
    }

    private func removeMarker(_ file: String, at date: Date) {
        try? state.openFolder(.leaseExpiry, create: false)?.folder(Self.bucket(date), create: false)?.remove(file, durably: false)
    }
}
