import DBPlugin
import Foundation

/// `sys/leases/*`: lookup, renew, revoke (one, by prefix, forced), and list. Vault's lease
/// manager lives in its core; here it is the engine's, since there is no server.
extension Engine {
    func handleLeasePath(_ parts: [String], _ op: EngineRequest.Operation, _ data: [String: JSONValue]) throws -> EngineResponse? {
        let rest = parts.dropFirst().joined(separator: "/")
        switch (parts[0], op) {
        case ("lookup", .write):
            return try lookupLease(data["lease_id"]?.textValue ?? "")
        case ("lookup", .list):
            let prefix = rest.isEmpty ? "" : rest + "/"
            let ids = try leases.ids(prefix: prefix)
            // Vault lists one level: the next path segment, folders with a trailing slash.
            let keys = Set(ids.map { id -> String in
                let tail = id.dropFirst(prefix.count)
                if let slash = tail.firstIndex(of: "/") { return String(tail[...slash]) }
                return String(tail)
            })
            return .list(keys.sorted())
        case ("renew", .write):
            let id = data["lease_id"]?.textValue ?? rest
            let increment = try data["increment"].map { try DurationField.seconds($0, field: "increment") } ?? 0
            return try renewLease(id, increment: increment)
        case ("revoke", .write):
            try revokeLease(data["lease_id"]?.textValue ?? rest)
            return nil
        case ("revoke-prefix", .write):
            try revokeLeases(prefix: rest, force: false)
            return nil
        case ("revoke-force", .write):
            try revokeLeases(prefix: rest, force: true)
            return nil
        default:
            throw EngineError.invalid("unsupported operation")
        }
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
        return try withLock(.lease, file) { try renewLocked(id, increment: increment) }
    }

    private func renewLocked(_ id: String, increment: Int) throws -> EngineResponse? {
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
        // No intent: a renewal that dies after the database moved the user's expiry leaves the
        // lease's own (earlier) expiry in force, and the user is revoked then.
        try withPlugin(connection: role.dbName) { session in
            do {
                _ = try session.plugin.updateUser(UpdateUserRequest(
                    username: lease.username,
                    expiration: ExpirationChange(newExpiration: current.addingTimeInterval(TimeInterval(ttl.ttl + 5)),
                                                 statements: role.renewStatements)))
            } catch {
                throw session.failure(error)
            }
        }
        var renewed = lease
        renewed.expireTime = current.addingTimeInterval(TimeInterval(ttl.ttl))
        renewed.lastRenewal = current
        try leases.write(renewed, previous: lease)
        return EngineResponse(data: nil, warnings: ttl.warning.map { [$0] } ?? [],
                              leaseID: id, leaseDuration: ttl.ttl, renewable: true)
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
    /// A lease file that cannot be read is listed as such, with why, instead of ending the listing.
    public func forEachLease(prefix: String, _ body: (LeaseSummary) throws -> Void) throws {
        for id in try leases.ids(prefix: prefix) {
            let lease: Lease?
            do {
                lease = try leases.read(id: id)
            } catch let error as EngineError {
                let role = id.split(separator: "/").dropFirst(2).first.map(String.init) ?? ""
                try body(LeaseSummary(id: id, role: role, username: "", issueTime: Date(timeIntervalSince1970: 0),
                                      expireTime: Date(timeIntervalSince1970: 0), revokeAttempts: 0,
                                      lastError: error.message, irrevocable: false, unreadable: true))
                continue
            }
            guard let lease else { continue }
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
    /// The lease file could not be read (`lastError` says why); only `id` and `role` are known.
    public var unreadable = false
}
