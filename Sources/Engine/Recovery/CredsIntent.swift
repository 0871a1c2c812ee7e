import DBPlugin
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Written before a dynamic user is created, removed once its lease is stored. It names the user,
/// so a `creds` that died in between can be undone: the user is dropped, or handed to the lease
/// machinery as an expired lease when it cannot be dropped yet.
struct CredsIntent: Intent {
    static let kind = IntentKind.creds

    var leaseID: String
    var role: String
    var dbName: String
    /// nil only in intents written before usernames were generated ahead of the user.
    var username: String?
    /// What revocation will run if the role is gone by then (nil: the plugin's default).
    var revocationStatements: [String]?
    var createdAt: Date

    var object: String { Lease.fileName(forID: leaseID) ?? leaseID }

    enum CodingKeys: String, CodingKey {
        case role, username
        case leaseID = "lease_id"
        case dbName = "db_name"
        case revocationStatements = "revocation_statements"
        case createdAt = "created_at"
    }
}

extension Engine {
    /// Creds stopped between recording the user and storing its lease. If the lease is stored,
    /// the operation finished; otherwise the user (which may exist) is revoked as an expired
    /// lease would be: dropped now, or kept as a lease that records the failure and is retried
    /// with the usual backoff (and listed, and forcible), so no user is ever left unknown.
    func settle(_ intent: CredsIntent, mode: SettleMode) throws -> DueWorkItem {
        if try leases.read(id: intent.leaseID) != nil {
            try intents.delete(.creds, intent.object)
            return DueWorkItem(.interruptedCredsFinished, intent.leaseID, "the lease was already stored")
        }
        guard let username = intent.username else {
            try intents.delete(.creds, intent.object)
            return DueWorkItem(.orphanedUser, intent.leaseID,
                               "creds for role \(intent.role) on \(intent.dbName) were interrupted at \(Timestamp.format(intent.createdAt)) by an older dbsecrets that did not record the username; a user may exist in the database without a lease")
        }
        let lease = Lease(id: intent.leaseID, role: intent.role, dbName: intent.dbName, username: username,
                          revocationStatements: intent.revocationStatements, issueTime: intent.createdAt, expireTime: now)
        do {
            try revokeLocked(lease, force: false)
        } catch let error as EngineError {
            // revokeLocked stored the lease with the failure and its retry time: the user is known.
            if try leases.read(id: intent.leaseID) == nil { throw error }
            try intents.delete(.creds, intent.object)
            return DueWorkItem(.interruptedCredsKept, intent.leaseID,
                               "user \(username) was created without a lease and could not be dropped yet: \(error.message); it is kept as an expired lease and retried")
        }
        try intents.delete(.creds, intent.object)
        return DueWorkItem(.interruptedCredsDropped, intent.leaseID, "user \(username) was created without a lease and has been dropped")
    }

    /// Creds of `role` that died mid-way, settled when their lock is free: the next `creds` of a
    /// role is a command that touches them. Failures stay for `tidy` to report.
    func settleAbandonedCreds(ofRole role: String) {
        guard let pending = try? intents.list() else { return }
        let leasePrefix = "\(scope.path)creds/\(role)/"
        for (kind, object) in pending where kind == .creds && Lease.id(forFileName: object, mountPath: scope.path)?.hasPrefix(leasePrefix) == true {
            _ = try? withLockIfFree(.lease, object) { try settleIntent(.creds, object, mode: .recovery) }
        }
    }
}
