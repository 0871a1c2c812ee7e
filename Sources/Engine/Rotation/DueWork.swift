import DBPlugin
import Foundation

/// One pass over the work that must happen on time, for `dbsecrets tidy` and `agent`: expired
/// leases, due static rotations, interrupted root rotations, and interrupted creds.
///
/// Every item is claimed with a non-blocking lock and re-read under it, so two passes at once
/// (two agents, or an agent and a CLI call) never revoke a lease twice or rotate a role twice
/// for one due time: the loser skips the item.
public struct DueWorkItem: Sendable, Equatable {
    public enum Action: String, Sendable {
        case leaseRevoked = "lease revoked"
        case leaseRevokeFailed = "lease revocation failed"
        case leaseIrrevocable = "lease irrevocable"
        case roleRotated = "static role rotated"
        case roleRotationFailed = "static role rotation failed"
        case roleWindowMissed = "static role rotation window missed"
        case rootRotationCompleted = "root rotation completed"
        case rootRotationRolledBack = "root rotation rolled back"
        case rootRotationStuck = "root rotation recovery failed"
        case orphanedUser = "possibly orphaned database user"
    }

    public var action: Action
    public var subject: String
    public var detail: String

    public init(_ action: Action, _ subject: String, _ detail: String = "") {
        self.action = action
        self.subject = subject
        self.detail = detail
    }
}

extension Engine {
    /// An interrupted root rotation or creds call is only touched once its intent is this old,
    /// so a rotation still in flight in another process is left alone.
    public static let intentRecoveryAge: TimeInterval = 60

    public func runDueWork(shouldStop: () -> Bool = { false }) throws -> [DueWorkItem] {
        var done: [DueWorkItem] = []
        try state.removeLeftoverTemporaries()
        try recoverIntents(into: &done, shouldStop: shouldStop)
        if shouldStop() { return done }
        try revokeExpiredLeases(into: &done, shouldStop: shouldStop)
        if shouldStop() { return done }
        try rotateDueStaticRoles(into: &done, shouldStop: shouldStop)
        return done
    }

    func revokeExpiredLeases(into done: inout [DueWorkItem], shouldStop: () -> Bool) throws {
        for candidate in try leases.due(at: now) {
            if shouldStop() { return }
            guard let file = Lease.fileName(forID: candidate.id), let lock = try state.tryLock(.lease, file) else { continue }
            defer { withExtendedLifetime(lock) {} }
            guard let lease = try leases.read(id: candidate.id), !lease.irrevocable, LeaseStore.dueAt(lease) <= now else { continue }
            do {
                try revokeLocked(lease, force: false)
                done.append(DueWorkItem(.leaseRevoked, lease.id, "user \(lease.username)"))
            } catch let error as EngineError {
                let after = try leases.read(id: lease.id)
                if after?.irrevocable == true {
                    done.append(DueWorkItem(.leaseIrrevocable, lease.id, "gave up after \(environment.maximumRevokeAttempts) attempts: \(error.message)"))
                } else {
                    let retry = after?.nextRevokeAttempt.map { " (retry at \(Timestamp.format($0)))" } ?? ""
                    done.append(DueWorkItem(.leaseRevokeFailed, lease.id, error.message + retry))
                }
            }
        }
    }

    func rotateDueStaticRoles(into done: inout [DueWorkItem], shouldStop: () -> Bool) throws {
        for name in try staticRoles.list() {
            if shouldStop() { return }
            guard let peek = try staticRoles.read(name), dueTime(of: peek) <= now else { continue }
            guard let lock = try state.tryLock(.staticRole, name) else { continue }
            defer { withExtendedLifetime(lock) {} }
            guard var role = try staticRoles.read(name), dueTime(of: role) <= now else { continue }
            if role.retryAt == nil && !isInsideRotationWindow(role, at: now) {
                // Vault skips to the next slot when the window passed (the engine was not running).
                role.nextVaultRotation = nextRotation(of: role, after: now)
                try staticRoles.write(name, role)
                done.append(DueWorkItem(.roleWindowMissed, name, "next rotation \(Timestamp.format(role.nextVaultRotation!))"))
                continue
            }
            do {
                let rotated = try rotateStaticAccount(name, role, isCreate: false)
                done.append(DueWorkItem(.roleRotated, name, "next rotation \(Timestamp.format(rotated.nextVaultRotation ?? now))"))
            } catch let error as EngineError {
                done.append(DueWorkItem(.roleRotationFailed, name, error.message + " (retry in 10s)"))
            }
        }
    }

    func recoverIntents(into done: inout [DueWorkItem], shouldStop: () -> Bool) throws {
        let cutoff = now.addingTimeInterval(-Self.intentRecoveryAge)
        // All intents share one folder; their names say their kind.
        for name in try rootIntents.list() {
            if shouldStop() { return }
            if name.hasPrefix("root-") {
                try recoverRootRotation(connection: String(name.dropFirst(5)), cutoff: cutoff, into: &done)
            } else if name.hasPrefix("static-") {
                try recoverStaticRotation(role: String(name.dropFirst(7)), cutoff: cutoff)
            } else if name.hasPrefix("creds-"), let intent = try credsIntents.read(name), intent.createdAt < cutoff {
                done.append(DueWorkItem(.orphanedUser, intent.leaseID,
                                        "creds for role \(intent.role) on \(intent.dbName) were interrupted at \(Timestamp.format(intent.createdAt)); a user may exist in the database without a lease"))
                try credsIntents.delete(name)
            }
        }
    }

    /// Vault's WAL rollback for `rotate-root`: if the stored password is already the new one,
    /// the rotation finished; if the stored (old) one still logs in, the database never changed;
    /// otherwise log in with the new one and set the old one back.
    func recoverRootRotation(connection: String, cutoff: Date, into done: inout [DueWorkItem]) throws {
        let intentName = Self.rootIntentName(connection)
        guard let lock = try state.tryLock(.connection, connection) else { return }
        defer { withExtendedLifetime(lock) {} }
        guard let intent = try rootIntents.read(intentName), intent.createdAt < cutoff else { return }
        guard let config = try connections.read(connection) else {
            try rootIntents.delete(intentName)
            return
        }
        if config.connectionDetails["password"]?.textValue == intent.newPassword {
            try rootIntents.delete(intentName)
            done.append(DueWorkItem(.rootRotationCompleted, connection, "the new password was already stored"))
            return
        }
        if let (_, plugin, _) = try? open(config) {
            plugin.close()
            try rootIntents.delete(intentName)
            done.append(DueWorkItem(.rootRotationRolledBack, connection, "the database still accepts the stored password"))
            return
        }
        var withNew = config
        withNew.connectionDetails["password"] = .string(intent.newPassword)
        var sanitizer = SecretSanitizer()
        sanitizer.add(intent.newPassword)
        sanitizer.add(intent.oldPassword)
        do {
            let (_, plugin, _) = try open(withNew)
            defer { plugin.close() }
            _ = try plugin.updateUser(UpdateUserRequest(
                username: intent.username,
                password: PasswordChange(newPassword: intent.oldPassword, statements: config.rootRotationStatements),
                isRootRotation: true))
            try rootIntents.delete(intentName)
            done.append(DueWorkItem(.rootRotationRolledBack, connection, "the old password was set back in the database"))
        } catch {
            done.append(DueWorkItem(.rootRotationStuck, connection, sanitizer.clean(error)))
        }
    }

    /// A static rotation that died mid-way: the database may hold the intent's password while
    /// the role holds the old one. Make the role due now; the next rotation sets a fresh password
    /// through the root connection, which works whichever password the user had.
    func recoverStaticRotation(role name: String, cutoff: Date) throws {
        let intentName = Self.staticIntentName(name)
        guard let lock = try state.tryLock(.staticRole, name) else { return }
        defer { withExtendedLifetime(lock) {} }
        guard let intent = try staticIntents.read(intentName), intent.createdAt < cutoff else { return }
        if var role = try staticRoles.read(name), role.password != intent.newPassword {
            role.retryAt = now
            try staticRoles.write(name, role)
        }
        try staticIntents.delete(intentName)
    }
}
