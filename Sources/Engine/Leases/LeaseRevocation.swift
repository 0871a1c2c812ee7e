import Basics
import DBPlugin
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// Revoking leases: one (`sys/leases/revoke`), by prefix (`revoke-prefix`), forced
/// (`revoke-force`), and as due work. A lease's lock is held across the database call: it is the
/// claim that makes two passes never revoke one lease twice, and it never blocks other leases.
///
/// No intent is needed: the user is dropped first and the lease removed after, so a crash in
/// between leaves a lease whose user is gone, and revoking it again succeeds (dropping a user
/// that does not exist is a success, as in Vault).
extension Engine {
    /// Vault's `maxRevokeAttempts`: the default of `EngineEnvironment.maximumRevokeAttempts`.
    public static let defaultMaximumRevokeAttempts = 6

    /// The longest wait between two revocation attempts, however many failed: the backoff
    /// doubles up to here, so a retry time stays within what a state file can say.
    static let maximumRevokeBackoff: TimeInterval = 24 * 3600

    public func revokeLease(_ rawID: String) throws {
        let id = rawID.trimmingWhitespace()
        guard let file = Lease.fileName(forID: id) else { throw EngineError.invalid("invalid lease ID") }
        // Revoking a lease that is already gone (or whose mount is) is success, as in Vault.
        guard let mount = try mountEntry(ofLease: id) else { return }
        _ = try withMount(mount, gone: { EngineError.invalid("invalid lease ID") }) { engine in
            try engine.withLock(.lease, file) {
                guard let lease = try engine.leases.read(id: id) else { return }
                try engine.revokeLocked(lease, force: false)
            }
        }
    }

    /// Every lease under `prefix`, in every mount it reaches, one at a time under its lock. A
    /// lease file that cannot be read is a failure listed with the others (its user is unknown),
    /// and `force` removes it.
    public func revokeLeases(prefix: String, force: Bool) throws {
        let selection = try LeasePrefix(prefix)
        let mounts = try databaseMounts().filter { selection.reaches(mountPath: $0.path) }
        guard !mounts.isEmpty else {
            let paths = try databaseMounts().map(\.path)
            let under = paths.isEmpty ? "no secrets engine is enabled" : "leases live under \(paths.joined(separator: ", "))"
            throw EngineError.invalid("unsupported path: the prefix \"\(Engine.printable(selection.text))\" is not under a mount; \(under), such as \(paths.first ?? "database/")creds/ROLE")
        }
        var failures: [String] = [], total = 0
        for mount in mounts {
            do {
                total += try withMount(mount, gone: { EngineError.invalid("the secrets engine at \(mount.path) is gone") }) { engine in
                    try engine.revokeLeasesHere(selection, force: force)
                } ?? 0
            } catch let error as RevocationFailures {
                failures += error.failures
                total += error.total
            }
        }
        if !failures.isEmpty {
            throw EngineError.failed("failed to revoke \(failures.count) of \(total) leases: \(failures.joined(separator: "; "))")
        }
    }

    /// What `revokeLeasesHere` could not revoke, of how many it tried.
    struct RevocationFailures: Error {
        var failures: [String]
        var total: Int
    }

    /// The leases of this engine's mount that `selection` selects; returns how many there were.
    /// One login per connection for them all.
    @discardableResult
    func revokeLeasesHere(_ selection: LeasePrefix, force: Bool) throws -> Int {
        try sharingPlugins { try $0.revokeEachLease(selection, force: force) }
    }

    private func revokeEachLease(_ selection: LeasePrefix, force: Bool) throws -> Int {
        let ids = try leases.ids(prefix: selection.listingPrefix).filter(selection.selects)
        var failures: [String] = []
        for id in ids {
            guard let file = Lease.fileName(forID: id) else { continue }
            do {
                try withLock(.lease, file) {
                    let lease: Lease?
                    do {
                        lease = try leases.read(id: id)
                    } catch where force {
                        try leases.deleteUnreadable(file: file)
                        return
                    }
                    guard let lease else { return }
                    try revokeLocked(lease, force: force)
                }
            } catch let error as EngineError {
                failures.append("\(id): \(error.message)")
            }
        }
        if !failures.isEmpty { throw RevocationFailures(failures: failures, total: ids.count) }
        return ids.count
    }

    /// Deletes the user, then the lease. A failure keeps the lease with its attempt count, last
    /// error and an exponential-backoff retry time; `force` drops the record regardless.
    ///
    /// Only attempts at or after the scheduled retry count towards giving up: revoking by hand
    /// again and again against a database that is down reports the error each time without
    /// running the counter (or the retry time) away.
    ///
    /// `batched`: the lease is removed with `LeaseStore.deleteKeepingMarker`, and the caller
    /// makes the removal durable and removes the marker (`revokeExpiredLeases`).
    func revokeLocked(_ lease: Lease, force: Bool, batched: Bool = false) throws {
        do {
            try deleteDatabaseUser(of: lease)
        } catch let error as EngineError {
            if force {
                try leases.delete(lease)
                return
            }
            let current = now
            if let scheduled = lease.nextRevokeAttempt, current < scheduled { throw error }
            var failed = lease
            // Saturating: the count comes from a state file that may have been edited by hand.
            failed.revokeAttempts = failed.revokeAttempts.addingReportingOverflow(1).overflow ? Int.max : failed.revokeAttempts + 1
            failed.lastError = error.message
            if failed.revokeAttempts >= environment.maximumRevokeAttempts {
                failed.irrevocable = true
                failed.nextRevokeAttempt = nil
            } else {
                // Vault's backoff: 2^attempt × 10 s, jittered ±50% so that many failures spread out.
                let base = min(pow(2.0, Double(min(failed.revokeAttempts, 32))) * 10, Self.maximumRevokeBackoff)
                failed.nextRevokeAttempt = current.addingTimeInterval(base * Double.random(in: 0.5...1.5))
            }
            try leases.write(failed, previous: lease)
            throw error
        }
        if batched {
            try leases.deleteKeepingMarker(lease)
        } else {
            try leases.delete(lease)
        }
    }

    /// Uses the role's current `db_name` and revocation statements if the role still exists,
    /// else what the lease embedded when it was issued.
    func deleteDatabaseUser(of lease: Lease) throws {
        let role = try roles.read(lease.role)
        let dbName = role?.dbName ?? lease.dbName
        let statements = role.map(\.revocationStatements) ?? lease.revocationStatements ?? []
        try withPlugin(connection: dbName, shared: true) { session in
            do {
                _ = try session.plugin.deleteUser(DeleteUserRequest(username: lease.username, statements: statements))
            } catch {
                throw session.failure(error)
            }
        }
    }
}
