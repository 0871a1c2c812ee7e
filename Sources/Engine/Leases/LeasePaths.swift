import DBPlugin
import Foundation

/// `sys/leases/*`: lookup, renew, revoke (one, by prefix, forced), and list. Vault's lease
/// manager lives in its core; here it is the engine's, since there is no server.
extension Engine {
    /// Vault's `maxRevokeAttempts`: the default of `EngineEnvironment.maximumRevokeAttempts`.
    public static let defaultMaximumRevokeAttempts = 6

    static let leaseLookupPath = PathDeclaration(
        [.literal("leases/lookup"), .rest(field: "prefix", placeholder: "PREFIX", optional: true,
                                           description: "With list: the lease id prefix whose next segment to list.")],
        synopsis: "View or list lease metadata.",
        description: """
        A write with lease_id=ID shows the lease's issue and expiry times and its remaining ttl. A \
        list shows the next segment of the lease ids under PREFIX, folders with a trailing slash.
        """,
        fields: [FieldDeclaration("lease_id", .string, "The lease id to look up.")],
        operations: [
            .write: { engine, request in try engine.lookupLease(request.fields.string("lease_id") ?? "") },
            .list: { engine, request in try engine.listLeaseFolder(request.captures["prefix"] ?? "") },
        ])

    static let leaseRenewPath = PathDeclaration(
        [.literal("leases/renew"), leaseIDSegment],
        synopsis: "Renew a lease of a secret.",
        description: """
        Renews the lease: its ttl is recomputed from the role's current default_ttl (or increment), \
        capped at its issue time plus the role's max_ttl, and the user's expiry moves in the database.
        """,
        fields: [
            FieldDeclaration("lease_id", .string, "The lease id to renew; the id in the path when not given."),
            FieldDeclaration("increment", .duration, "The ttl to ask for instead of the role's default_ttl."),
        ],
        operations: [
            .write: { engine, request in
                try engine.renewLease(request.fields.string("lease_id") ?? request.captures["url_lease_id"] ?? "",
                                      increment: request.fields.int("increment") ?? 0)
            },
        ])

    static let leaseRevokePath = PathDeclaration(
        [.literal("leases/revoke"), leaseIDSegment],
        synopsis: "Revoke a lease of a secret.",
        description: "Drops the lease's database user, then the lease. Revoking a lease that is already gone succeeds.",
        fields: [FieldDeclaration("lease_id", .string, "The lease id to revoke; the id in the path when not given.")],
        operations: [
            .write: { engine, request in
                try engine.revokeLease(request.fields.string("lease_id") ?? request.captures["url_lease_id"] ?? "")
                return nil
            },
        ])

    static let leaseRevokePrefixPath = PathDeclaration(
        [.literal("leases/revoke-prefix"), leasePrefixSegment],
        synopsis: "Revoke all secrets generated in a given prefix.",
        description: "Revokes every lease whose id starts with PREFIX; those whose database refuses stay, with their error.",
        operations: [
            .write: { engine, request in
                try engine.revokeLeases(prefix: request.captures["prefix"] ?? "", force: false)
                return nil
            },
        ])

    static let leaseRevokeForcePath = PathDeclaration(
        [.literal("leases/revoke-force"), leasePrefixSegment],
        synopsis: "Revoke all secrets generated in a given prefix, ignoring errors.",
        description: """
        Forgets every lease whose id starts with PREFIX, even when the database refuses to drop its \
        user: the engine and the database may then disagree.
        """,
        operations: [
            .write: { engine, request in
                try engine.revokeLeases(prefix: request.captures["prefix"] ?? "", force: true)
                return nil
            },
        ])

    static let leaseIDSegment = PathSegment.rest(field: "url_lease_id", placeholder: "ID", optional: true,
                                                 description: "The lease id, when it is not given as lease_id.")
    static let leasePrefixSegment = PathSegment.rest(field: "prefix", placeholder: "PREFIX", optional: true,
                                                     description: "The prefix of the lease ids, e.g. database/creds/ro.")

    /// Vault lists one level: the next path segment, folders with a trailing slash.
    func listLeaseFolder(_ rest: String) throws -> EngineResponse? {
        let prefix = rest.isEmpty ? "" : rest + "/"
        let ids = try leases.ids(prefix: prefix)
        let keys = Set(ids.map { id -> String in
            let tail = id.dropFirst(prefix.count)
            if let slash = tail.firstIndex(of: "/") { return String(tail[...slash]) }
            return String(tail)
        })
        return .list(keys.sorted())
    }

    public func lookupLease(_ rawID: String) throws -> EngineResponse? {
        let id = rawID.trimmingCharacters(in: .whitespaces)
        guard !id.isEmpty else { throw EngineError.invalid("missing lease id") }
        guard let lease = try leases.read(id: id) else { throw EngineError.invalid("invalid lease") }
        let current = now
        return EngineResponse(data: [
            "id": .string(lease.id),
            "issue_time": .string(Timestamp.format(lease.issueTime)),
            "expire_time": .string(Timestamp.format(lease.expireTime)),
            "last_renewal": lease.lastRenewal.map { .string(Timestamp.format($0)) } ?? .null,
            "renewable": .bool(!lease.irrevocable && lease.expireTime > current),
            "ttl": .int(max(0, Int(lease.expireTime.timeIntervalSince(current).rounded(.down)))),
        ])
    }

    /// Recomputes the TTL from the role's current TTLs, capped at issue time + max TTL, and moves
    /// the user's expiry in the database (the role's renew statements).
    public func renewLease(_ rawID: String, increment: Int) throws -> EngineResponse? {
        let id = rawID.trimmingCharacters(in: .whitespaces)
        guard let file = Lease.fileName(forID: id) else { throw EngineError.invalid("lease not found") }
        let lock = try state.lock(.lease, file)
        defer { withExtendedLifetime(lock) {} }
        guard let lease = try leases.read(id: id) else { throw EngineError.invalid("lease not found") }
        let current = now
        if lease.irrevocable {
            throw EngineError.invalid("lease is expired and has failed previous revocation attempts")
        }
        guard lease.expireTime > current else { throw EngineError.invalid("lease expired") }
        guard let role = try roles.read(lease.role) else {
            throw EngineError.failed("error during renew: could not find role with name \"\(lease.role)\"")
        }
        let ttl = try LeaseTTL.calculate(increment: increment, roleTTL: role.defaultTTL, roleMaxTTL: role.maxTTL,
                                         start: lease.issueTime, now: current)
        let (_, plugin, sanitizer) = try openConnection(role.dbName)
        defer { plugin.close() }
        do {
            _ = try plugin.updateUser(UpdateUserRequest(
                username: lease.username,
                expiration: ExpirationChange(newExpiration: current.addingTimeInterval(TimeInterval(ttl.ttl + 5)),
                                             statements: role.renewStatements)))
        } catch {
            throw EngineError.failed(sanitizer.clean(error))
        }
        var renewed = lease
        renewed.expireTime = current.addingTimeInterval(TimeInterval(ttl.ttl))
        renewed.lastRenewal = current
        try leases.write(renewed, previous: lease)
        return EngineResponse(data: nil, warnings: ttl.warning.map { [$0] } ?? [],
                              leaseID: id, leaseDuration: ttl.ttl, renewable: true)
    }

    public func revokeLease(_ rawID: String) throws {
        let id = rawID.trimmingCharacters(in: .whitespaces)
        guard let file = Lease.fileName(forID: id) else { throw EngineError.invalid("invalid lease ID") }
        let lock = try state.lock(.lease, file)
        defer { withExtendedLifetime(lock) {} }
        // Revoking a lease that is already gone is success, as in Vault.
        guard let lease = try leases.read(id: id) else { return }
        try revokeLocked(lease, force: false)
    }

    public func revokeLeases(prefix: String, force: Bool) throws {
        let matching = try leases.all(prefix: prefix)
        var failures: [String] = []
        for candidate in matching {
            guard let file = Lease.fileName(forID: candidate.id) else { continue }
            let lock = try state.lock(.lease, file)
            defer { withExtendedLifetime(lock) {} }
            guard let lease = try leases.read(id: candidate.id) else { continue }
            do {
                try revokeLocked(lease, force: force)
            } catch let error as EngineError {
                failures.append("\(lease.id): \(error.message)")
            }
        }
        if !failures.isEmpty {
            throw EngineError.failed("failed to revoke \(failures.count) of \(matching.count) leases: \(failures.joined(separator: "; "))")
        }
    }

    /// Deletes the user, then the lease. A failure keeps the lease with its attempt count, last
    /// error and an exponential-backoff retry time; `force` drops the record regardless.
    func revokeLocked(_ lease: Lease, force: Bool) throws {
        do {
            try deleteDatabaseUser(of: lease)
        } catch let error as EngineError {
            if force {
                try leases.delete(lease)
                return
            }
            var failed = lease
            // Saturating: the count comes from a state file that may have been edited by hand.
            failed.revokeAttempts = failed.revokeAttempts.addingReportingOverflow(1).overflow ? Int.max : failed.revokeAttempts + 1
            failed.lastError = error.message
            if failed.revokeAttempts >= environment.maximumRevokeAttempts {
                failed.irrevocable = true
                failed.nextRevokeAttempt = nil
            } else {
                // Vault's backoff: 2^attempt × 10 s, jittered ±50% so that many failures spread out.
                let base = pow(2.0, Double(failed.revokeAttempts)) * 10
                failed.nextRevokeAttempt = now.addingTimeInterval(base * Double.random(in: 0.5...1.5))
            }
            try leases.write(failed, previous: lease)
            throw error
        }
        try leases.delete(lease)
    }

    /// Uses the role's current `db_name` and revocation statements if the role still exists,
    /// else what the lease embedded when it was issued.
    func deleteDatabaseUser(of lease: Lease) throws {
        let role = try roles.read(lease.role)
        let dbName = role?.dbName ?? lease.dbName
        let statements = role.map(\.revocationStatements) ?? lease.revocationStatements ?? []
        let (_, plugin, sanitizer) = try openConnection(dbName)
        defer { plugin.close() }
        do {
            _ = try plugin.deleteUser(DeleteUserRequest(username: lease.username, statements: statements))
        } catch {
            throw EngineError.failed(sanitizer.clean(error))
        }
    }

    /// Lease ids starting with `prefix`, without reading the leases (for completion).
    public func listLeaseIDs(prefix: String) throws -> [String] {
        try leases.ids(prefix: prefix)
    }

    /// Every lease, for `lease list` (which Vault lacks): ids, users, times and revocation state.
    public func listLeases(prefix: String) throws -> [LeaseSummary] {
        var all: [LeaseSummary] = []
        try forEachLease(prefix: prefix) { all.append($0) }
        return all.sorted { $0.issueTime < $1.issueTime }
    }

    /// Every lease in id order, one at a time, so a listing of 100,000 leases never holds them all.
    public func forEachLease(prefix: String, _ body: (LeaseSummary) throws -> Void) throws {
        for id in try leases.ids(prefix: prefix) {
            guard let lease = try leases.read(id: id) else { continue }
            try body(LeaseSummary(id: lease.id, role: lease.role, username: lease.username, issueTime: lease.issueTime,
                                  expireTime: lease.expireTime, revokeAttempts: lease.revokeAttempts,
                                  lastError: lease.lastError, irrevocable: lease.irrevocable))
        }
    }
}

public struct LeaseSummary: Sendable, Equatable {
    public var id: String
    public var role: String
    public var username: String
    public var issueTime: Date
    public var expireTime: Date
    public var revokeAttempts: Int
    public var lastError: String?
    public var irrevocable: Bool
}
