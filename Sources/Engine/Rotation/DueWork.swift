import DBPlugin
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One pass over the work that must happen on time, for `dbsecrets tidy` and `agent`: expired
/// leases, due static rotations and ends of retained passwords' grace, due root rotations, and
/// interrupted changes of every kind.
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
        case previousPasswordDiscarded = "previous password discarded"
        case previousPasswordDiscardFailed = "previous password discard failed"
        case rootRotated = "root credential rotated"
        case rootRotationFailed = "root credential rotation failed"
        case rootWindowMissed = "root credential rotation window missed"
        case rotationHookFailed = "rotation hook failed"
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
                 .orphanedUser, .unreadableFile, .previousPasswordDiscardFailed, .rootRotationFailed, .rotationHookFailed,
                 .mountChangeFailed:
                return true
            default:
                return false
            }
        }
    }

    public var action: Action
    public var subject: String
    public var detail: String
    /// Set when the item changed the password applications must use (what rotation hooks run for).
    public var rotated: RotatedCredential?

    public init(_ action: Action, _ subject: String, _ detail: String = "", rotated: RotatedCredential? = nil) {
        self.action = action
        self.subject = subject
        self.detail = detail
        self.rotated = rotated
    }
}

/// A password that changed: a static role's, or a connection's root password.
public struct RotatedCredential: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case staticRole = "static-role"
        case root
    }

    public var kind: Kind
    /// The object's path with its mount: `database/static-roles/NAME` or `postgres/config/NAME`.
    public var path: String

    public init(kind: Kind, path: String) {
        self.kind = kind
        self.path = path
    }

}

extension Engine {
    /// One pass. An item that fails, or a file that cannot be read, is reported and the pass goes
    /// on: one bad item never stops the others. Each item is reported as soon as it is done, with
    /// no lock held on the item, so what `report` does (print, run a rotation hook) never holds up
    /// the object.
    ///
    /// Every mount is visited in turn, holding its lock shared; a mount being disabled or moved
    /// right now is skipped (the next pass sees what is left of it), and one whose disable or
    /// move was interrupted is finished first.
    public func runDueWork(shouldStop: () -> Bool = { false }, report: (DueWorkItem) -> Void) throws {
        try environment.state.removeLeftoverTemporaries()
        var mountChanges: [DueWorkItem] = []
        try finishPendingMountChanges(into: &mountChanges)
        mountChanges.forEach(report)
        for mount in try databaseMounts() {
            if shouldStop() { return }
            // A mount gone since the listing (disabled meanwhile) has nothing left to do.
            let gone = EngineError.invalid("the secrets engine at \(mount.path) is gone")
            do {
                // One login per connection for the whole pass of the mount, not one per item.
                _ = try withMount(mount, wait: false, gone: { gone }) { engine in
                    try engine.sharingPlugins { try $0.runDueWorkOfMount(report: report, shouldStop: shouldStop) }
                }
            } catch let error as EngineError where error == gone {
                continue
            }
        }
    }

    /// One pass, its items collected.
    public func runDueWork(shouldStop: () -> Bool = { false }) throws -> [DueWorkItem] {
        var done: [DueWorkItem] = []
        try runDueWork(shouldStop: shouldStop) { done.append($0) }
        return done
    }

    private func runDueWorkOfMount(report: (DueWorkItem) -> Void, shouldStop: () -> Bool) throws {
        if !state.isStateFolder { try state.removeLeftoverTemporaries() }
        try settleAbandonedIntents(report: report, shouldStop: shouldStop)
        if shouldStop() { return }
        try revokeExpiredLeases(report: report, shouldStop: shouldStop)
        if shouldStop() { return }
        try rotateDueStaticRoles(report: report, shouldStop: shouldStop)
        if shouldStop() { return }
        try rotateDueRootCredentials(report: report, shouldStop: shouldStop)
    }

    /// How a tidy line names a static role: by its name at `database/` (as before mounts), by its
    /// path elsewhere.
    func subject(ofStaticRole name: String) -> String {
        scope.path == MountEntry.implicitPath ? name : scope.path + "static-roles/" + name
    }

    /// How a tidy line names a connection: by its name at `database/`, by its path elsewhere.
    func subject(ofConnection name: String) -> String {
        scope.path == MountEntry.implicitPath ? name : scope.path + "config/" + name
    }

    func rotatedCredential(staticRole name: String) -> RotatedCredential { RotatedCredential(kind: .staticRole, path: scope.path + "static-roles/" + name) }
    func rotatedCredential(root connection: String) -> RotatedCredential { RotatedCredential(kind: .root, path: scope.path + "config/" + connection) }

    /// How many revoked leases share one fsync of `leases/` (`revokeExpiredLeases`).
    static let revocationsPerSync = 128

    /// Each due lease revoked under its lock. The removals of up to `revocationsPerSync` leases
    /// are made durable by one fsync of `leases/` (instead of one each), and only after it are
    /// their markers removed and the batch's items reported: a lease whose removal a power loss
    /// undoes keeps its marker and is revoked again by the next pass, which finds its user
    /// gone (a success), and nothing is reported as revoked before its removal is durable.
    func revokeExpiredLeases(report: (DueWorkItem) -> Void, shouldStop: () -> Bool) throws {
        let (markers, problems) = try leases.dueMarkers(at: now)
        for problem in problems {
            report(DueWorkItem(.unreadableFile, state.folder(.leaseExpiry).path, problem.message))
        }
        // The batch: every item in order, with the marker of each lease removed in it.
        var pending: [(item: DueWorkItem, removed: (bucket: String, file: String)?)] = []
        func finishBatch() throws {
            if pending.contains(where: { $0.removed != nil }) {
                try leases.syncDeletions()
            }
            for (item, removed) in pending {
                if let (bucket, file) = removed {
                    // The marker of a lease that is gone, removed as `claim` removes any; a slot
                    // taken meanwhile leaves it to the next pass.
                    _ = try? withLockIfFree(.lease, file) { try leases.claim(file: file, bucket: bucket, at: now) }
                }
                report(item)
            }
            pending.removeAll()
        }
        do {
            for (bucket, file) in markers {
                if shouldStop() { break }
                do {
                    let done = try withLockIfFree(.lease, file) { () -> (DueWorkItem, removed: Bool)? in
                        guard let lease = try leases.claim(file: file, bucket: bucket, at: now) else { return nil }
                        do {
                            try revokeLocked(lease, force: false, batched: true)
                            return (DueWorkItem(.leaseRevoked, lease.id, "user \(lease.username)"), true)
                        } catch let error as EngineError {
                            let after = try leases.read(id: lease.id)
                            if after?.irrevocable == true {
                                return (DueWorkItem(.leaseIrrevocable, lease.id, "gave up after \(environment.maximumRevokeAttempts) attempts: \(error.message)"), false)
                            }
                            let retry = after?.nextRevokeAttempt.map { " (retry at \(Timestamp.format($0)))" } ?? ""
                            return (DueWorkItem(.leaseRevokeFailed, lease.id, error.message + retry), false)
                        }
                    }
                    if let (item, removed) = done ?? nil {
                        pending.append((item, removed ? (bucket, file) : nil))
                    }
                } catch let error as EngineError {
                    pending.append((DueWorkItem(.unreadableFile, leases.records.url(file).path, error.message), nil))
                }
                if pending.count >= Self.revocationsPerSync { try finishBatch() }
            }
        } catch {
            try? finishBatch()
            throw error
        }
        try finishBatch()
    }

    func rotateDueStaticRoles(report: (DueWorkItem) -> Void, shouldStop: () -> Bool) throws {
        // Only the roles the due-time index names (StaticRoleStore), each read under its lock.
        for (name, markers) in try staticRoles.candidates(at: now) {
            if shouldStop() { return }
            do {
                let item = try withLockIfFree(.staticRole, name) { () -> DueWorkItem? in
                    let current = try staticRoles.read(name)
                    try staticRoles.repairIndex(name, current, markers: markers)
                    guard var role = current, let due = nextDueWork(of: role), due.time <= now else { return nil }
                    if due.work == .previousPasswordExpiry {
                        // Left for the next pass while a rotation on the role is unsettled: which
                        // password is current is not known until then.
                        if intents.exists(.staticRotation, name) { return nil }
                        do {
                            _ = try discardPreviousPassword(name, role)
                            return DueWorkItem(.previousPasswordDiscarded, subject(ofStaticRole: name), "only the current password of \(role.username) logs in now")
                        } catch let error as EngineError {
                            return DueWorkItem(.previousPasswordDiscardFailed, subject(ofStaticRole: name), error.message + " (retry in 10s)")
                        }
                    }
                    if role.retryAt == nil && !role.plan.isInsideWindow(planned: role.nextVaultRotation, at: now) {
                        // Vault skips to the next slot when the window passed (the engine was not running).
                        role.nextVaultRotation = role.plan.next(after: now)
                        try staticRoles.write(name, role)
                        return DueWorkItem(.roleWindowMissed, subject(ofStaticRole: name), "next rotation \(Self.describeNext(role.nextVaultRotation))")
                    }
                    do {
                        let rotated = try rotateStaticAccount(name, role, isCreate: false)
                        return DueWorkItem(.roleRotated, subject(ofStaticRole: name), "next rotation \(Self.describeNext(rotated.nextVaultRotation))",
                                           rotated: rotatedCredential(staticRole: name))
                    } catch let error as EngineError {
                        return DueWorkItem(.roleRotationFailed, subject(ofStaticRole: name), error.message + " (retry in 10s)")
                    }
                }
                if let item = item ?? nil { report(item) }
            } catch let error as EngineError {
                report(DueWorkItem(.unreadableFile, staticRoles.url(name).path, error.message))
            }
        }
    }

    /// Connections whose root credential is due on their `rotation_period` or `rotation_schedule`,
    /// rotated through the same path as `rotate-root`.
    func rotateDueRootCredentials(report: (DueWorkItem) -> Void, shouldStop: () -> Bool) throws {
        for name in try connections.list() {
            if shouldStop() { return }
            do {
                guard let peek = try connections.read(name), let due = rootRotationDue(of: peek), due <= now else { continue }
                let item = try withLockIfFree(.connection, name) { () -> DueWorkItem? in
                    guard var config = try connections.read(name), let due = rootRotationDue(of: config), due <= now else { return nil }
                    if config.rootRetryAt == nil && !config.rootPlan.isInsideWindow(planned: config.nextRootRotation, at: now) {
                        config.nextRootRotation = config.rootPlan.next(after: now)
                        try connections.write(name, config)
                        return DueWorkItem(.rootWindowMissed, subject(ofConnection: name), "next rotation \(Self.describeNext(config.nextRootRotation))")
                    }
                    do {
                        let rotated = try rotateRootLocked(name)
                        return DueWorkItem(.rootRotated, subject(ofConnection: name), "next rotation \(Self.describeNext(rotated.nextRootRotation))",
                                           rotated: rotatedCredential(root: name))
                    } catch let error as EngineError {
                        let failed: DatabaseConfig? = try? connections.read(name)
                        let retry = failed?.rootRetryAt
                        return DueWorkItem(.rootRotationFailed, subject(ofConnection: name),
                                           error.message + (retry.map { " (retry at \(Timestamp.format($0)))" } ?? ""))
                    }
                }
                if let item = item ?? nil { report(item) }
            } catch let error as EngineError {
                report(DueWorkItem(.unreadableFile, connections.url(name).path, error.message))
            }
        }
    }

    static func describeNext(_ time: Date?) -> String {
        time.map(Timestamp.format) ?? "on request"
    }
}
