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
        case interruptedRotationSettled = "interrupted static rotation settled"
        case interruptedCredsFinished = "interrupted creds finished"
        case interruptedCredsDropped = "interrupted creds: user dropped"
        case interruptedCredsKept = "interrupted creds: user kept as an expired lease"
        case intentUnsettled = "interrupted change not settled"
        case orphanedUser = "possibly orphaned database user"
        case unreadableFile = "unreadable state file"
        case mountDisabled = "secrets engine disabled"
        case mountMoved = "secrets engine moved"
        case mountChangeFailed = "secrets engine change not finished"

        /// Whether the item is something that went wrong (and stays due, or needs an operator).
        public var isFailure: Bool {
            switch self {
            case .leaseRevokeFailed, .leaseIrrevocable, .roleRotationFailed, .intentUnsettled, .interruptedCredsKept,
                 .orphanedUser, .unreadableFile, .mountChangeFailed:
                return true
            default:
                return false
            }
        }
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
    /// One pass. An item that fails, or a file that cannot be read, is reported and the pass goes
    /// on: one bad item never stops the others.
    ///
    /// Every mount is visited in turn, holding its lock shared; a mount being disabled or moved
    /// right now is skipped (the next pass sees what is left of it), and one whose disable or
    /// move was interrupted is finished first.
    public func runDueWork(shouldStop: () -> Bool = { false }) throws -> [DueWorkItem] {
        var done: [DueWorkItem] = []
        try environment.state.removeLeftoverTemporaries()
        try finishPendingMountChanges(into: &done)
        for mount in try databaseMounts() {
            if shouldStop() { return done }
            // A mount gone since the listing (disabled meanwhile) has nothing left to do.
            let gone = EngineError.invalid("the secrets engine at \(mount.path) is gone")
            do {
                _ = try withMount(mount, wait: false, gone: { gone }) { engine in
                    try engine.runDueWorkOfMount(into: &done, shouldStop: shouldStop)
                }
            } catch let error as EngineError where error == gone {
                continue
            }
        }
        return done
    }

    private func runDueWorkOfMount(into done: inout [DueWorkItem], shouldStop: () -> Bool) throws {
        if !state.isStateFolder { try state.removeLeftoverTemporaries() }
        try settleAbandonedIntents(into: &done, shouldStop: shouldStop)
        if shouldStop() { return }
        try revokeExpiredLeases(into: &done, shouldStop: shouldStop)
        if shouldStop() { return }
        try rotateDueStaticRoles(into: &done, shouldStop: shouldStop)
    }

    /// How a tidy line names a static role: by its name at `database/` (as before mounts), by its
    /// path elsewhere.
    func subject(ofStaticRole name: String) -> String {
        scope.path == MountEntry.implicitPath ? name : scope.path + "static-roles/" + name
    }

    func revokeExpiredLeases(into done: inout [DueWorkItem], shouldStop: () -> Bool) throws {
        let (markers, problems) = try leases.dueMarkers(at: now)
        for problem in problems {
            done.append(DueWorkItem(.unreadableFile, state.folder(.leaseExpiry).path, problem.message))
        }
        for (bucket, file) in markers {
            if shouldStop() { return }
            do {
                let item = try withLockIfFree(.lease, file) { () -> DueWorkItem? in
                    guard let lease = try leases.claim(file: file, bucket: bucket, at: now) else { return nil }
                    do {
                        try revokeLocked(lease, force: false)
                        return DueWorkItem(.leaseRevoked, lease.id, "user \(lease.username)")
                    } catch let error as EngineError {
                        let after = try leases.read(id: lease.id)
                        if after?.irrevocable == true {
                            return DueWorkItem(.leaseIrrevocable, lease.id, "gave up after \(environment.maximumRevokeAttempts) attempts: \(error.message)")
                        }
                        let retry = after?.nextRevokeAttempt.map { " (retry at \(Timestamp.format($0)))" } ?? ""
                        return DueWorkItem(.leaseRevokeFailed, lease.id, error.message + retry)
                    }
                }
                if let item = item ?? nil { done.append(item) }
            } catch let error as EngineError {
                done.append(DueWorkItem(.unreadableFile, leases.records.url(file).path, error.message))
            }
        }
    }

    func rotateDueStaticRoles(into done: inout [DueWorkItem], shouldStop: () -> Bool) throws {
        for name in try staticRoles.list() {
            if shouldStop() { return }
            do {
                guard let peek = try staticRoles.read(name), dueTime(of: peek) <= now else { continue }
                let item = try withLockIfFree(.staticRole, name) { () -> DueWorkItem? in
                    guard var role = try staticRoles.read(name), dueTime(of: role) <= now else { return nil }
                    if role.retryAt == nil && !isInsideRotationWindow(role, at: now) {
                        // Vault skips to the next slot when the window passed (the engine was not running).
                        role.nextVaultRotation = nextRotation(of: role, after: now)
                        try staticRoles.write(name, role)
                        return DueWorkItem(.roleWindowMissed, subject(ofStaticRole: name), "next rotation \(Timestamp.format(role.nextVaultRotation!))")
                    }
                    do {
                        let rotated = try rotateStaticAccount(name, role, isCreate: false)
                        return DueWorkItem(.roleRotated, subject(ofStaticRole: name), "next rotation \(Timestamp.format(rotated.nextVaultRotation ?? now))")
                    } catch let error as EngineError {
                        return DueWorkItem(.roleRotationFailed, subject(ofStaticRole: name), error.message + " (retry in 10s)")
                    }
                }
                if let item = item ?? nil { done.append(item) }
            } catch let error as EngineError {
                done.append(DueWorkItem(.unreadableFile, staticRoles.url(name).path, error.message))
            }
        }
    }
}
