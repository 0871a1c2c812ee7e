import Basics
import DBPlugin
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `sys/leases/*`: lookup, renew, revoke (one, by prefix, forced), and list. Vault's lease
/// manager lives in its core; here it is the engine's, since there is no server.
extension Engine {
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

    static let leaseTidyPath = PathDeclaration(
        [.literal("leases/tidy")],
        synopsis: "Runs a tidy pass: revokes expired leases, rotates due static roles, settles interrupted changes.",
        description: """
        The same pass as dbsecrets tidy, run before the request returns (Vault starts it in the \
        background). The warnings say what it did and what failed.
        """,
        operations: [.write: { engine, _ in try engine.tidyFromRequest() }])

    static let leaseCountPath = PathDeclaration(
        [.literal("leases/count")],
        synopsis: "Count of leases associated with this namespace.",
        description: "With type=irrevocable: how many leases the engine gave up revoking, in all and by mount accessor.",
        fields: [
            FieldDeclaration("type", .string, "Type of leases to get counts for (currently only supporting irrevocable).",
                             suggestions: .choices(["irrevocable"])),
            FieldDeclaration("include_child_namespaces", .bool, default: false, "Accepted for compatibility; there are no namespaces."),
        ],
        operations: [.read: { engine, request in try engine.countIrrevocableLeases(type: request.fields.string("type")) }])

    static let leasesPath = PathDeclaration(
        [.literal("leases")],
        synopsis: "List leases associated with this namespace.",
        description: """
        With type=irrevocable: the leases the engine gave up revoking (lease_id, mount_id, error, \
        expire_time), by expiry, at most limit of them (10000 by default; none for all).
        """,
        fields: [
            FieldDeclaration("type", .string, "Type of leases to retrieve (currently only supporting irrevocable).",
                             suggestions: .choices(["irrevocable"])),
            FieldDeclaration("include_child_namespaces", .bool, default: false, "Accepted for compatibility; there are no namespaces."),
            FieldDeclaration("limit", .string, default: "",
                             "The maximum number of entries to return, or none for all; 10000 when not set."),
        ],
        operations: [.read: { engine, request in
            try engine.listIrrevocableLeases(type: request.fields.string("type"), limit: request.fields.string("limit") ?? "")
        }])

    /// Vault lists one level: the next path segment, folders with a trailing slash.
    func listLeaseFolder(_ rest: String) throws -> EngineResponse? {
        let prefix = rest.isEmpty ? "" : (rest.hasSuffix("/") ? rest : rest + "/")
        let ids = try listLeaseIDs(prefix: prefix)
        let keys = Set(ids.map { id -> String in
            let tail = id.dropFirst(prefix.count)
            if let slash = tail.firstIndex(of: "/") { return String(tail[...slash]) }
            return String(tail)
        })
        return .list(keys.sorted())
    }

    /// The lease `id` on the engine of its mount, under the mount's lock; `missing` when no
    /// mount holds it.
    private func onLeaseMount<T>(_ id: String, locking: Bool = true, missing: EngineError, _ body: (Engine) throws -> T) throws -> T {
        guard let mount = try mountEntry(ofLease: id) else { throw missing }
        return try onMount(mount, locking: locking, gone: { missing }, body)
    }

    public func lookupLease(_ rawID: String) throws -> EngineResponse? {
        let id = rawID.trimmingWhitespace()
        guard !id.isEmpty else { throw EngineError.invalid("missing lease id") }
        return try onLeaseMount(id, locking: false, missing: .invalid("invalid lease")) { engine in
            guard let lease = try engine.leases.read(id: id) else { throw EngineError.invalid("invalid lease") }
            let current = engine.now
            return EngineResponse(data: [
                "id": .string(lease.id),
                "issue_time": .string(Timestamp.format(lease.issueTime)),
                "expire_time": .string(Timestamp.format(lease.expireTime)),
                "last_renewal": lease.lastRenewal.map { .string(Timestamp.format($0)) } ?? .null,
                "renewable": .bool(!lease.irrevocable && lease.expireTime > current),
                "ttl": .int(max(0, Int(lease.expireTime.timeIntervalSince(current).rounded(.down)))),
            ])
        }
    }

    /// Recomputes the TTL from the role's current TTLs and the mount's, capped at issue time +
    /// max TTL, and moves the user's expiry in the database (the role's renew statements).
    public func renewLease(_ rawID: String, increment: Int) throws -> EngineResponse? {
        let id = rawID.trimmingWhitespace()
        guard let file = Lease.fileName(forID: id) else { throw EngineError.invalid("lease not found") }
        return try onLeaseMount(id, missing: .invalid("lease not found")) { engine in
            try engine.withLock(.lease, file) { try engine.renewLocked(id, increment: increment) }
        }
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
        let ttl = try LeaseTTL.calculate(increment: increment, roleTTL: role.defaultTTL, roleMaxTTL: role.maxTTL, mount: scope.ttls,
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

    /// Lease ids starting with `prefix`, in every mount, without reading the leases (for
    /// completion and listing).
    public func listLeaseIDs(prefix: String) throws -> [String] {
        var ids: [String] = []
        for mount in try databaseMounts() where mount.path.hasPrefix(prefix) || prefix.hasPrefix(mount.path) {
            ids += try engine(for: mount).leases.ids(prefix: prefix)
        }
        return ids.sorted()
    }

    /// Every lease, for `lease list` (which Vault lacks): ids, users, times and revocation state.
    public func listLeases(prefix: String) throws -> [LeaseSummary] {
        var all: [LeaseSummary] = []
        try forEachLease(prefix: prefix) { all.append($0) }
        return all.sorted { $0.issueTime < $1.issueTime }
    }

    /// Every lease in id order, mount by mount, one at a time, so a listing of 100,000 leases
    /// never holds them all. A lease file that cannot be read is listed as such, with why,
    /// instead of ending the listing.
    public func forEachLease(prefix: String, _ body: (LeaseSummary) throws -> Void) throws {
        for mount in try databaseMounts() where mount.path.hasPrefix(prefix) || prefix.hasPrefix(mount.path) {
            try engine(for: mount).leases.forEachSummary(prefix: prefix, now: now, mountAccessor: mount.accessor, body)
        }
    }

    // MARK: Irrevocable leases and tidy (Vault 1.x's sys/leases, sys/leases/count, sys/leases/tidy)

    static let maximumIrrevocableLeasesToReturn = 10000

    private func irrevocableLeases() throws -> [LeaseSummary] {
        var found: [LeaseSummary] = []
        try forEachLease(prefix: "") { if $0.irrevocable { found.append($0) } }
        return found.sorted { ($0.expireTime, $0.id) < ($1.expireTime, $1.id) }
    }

    func countIrrevocableLeases(type: String?) throws -> EngineResponse? {
        guard type?.lowercased() == "irrevocable" else { return nil }
        let leases = try irrevocableLeases()
        let counts = Dictionary(grouping: leases, by: \.mountAccessor).mapValues { JSONValue.int($0.count) }
        return EngineResponse(data: ["lease_count": .int(leases.count), "counts": .object(counts)])
    }

    func listIrrevocableLeases(type: String?, limit: String) throws -> EngineResponse? {
        guard type?.lowercased() == "irrevocable" else { return nil }
        var maximum = Self.maximumIrrevocableLeasesToReturn
        if limit.lowercased() == "none" {
            maximum = Int.max
        } else if !limit.isEmpty {
            guard let number = Int(limit) else { throw EngineError.invalid("invalid 'limit' provided: strconv.Atoi: parsing \"\(Self.printable(limit))\": invalid syntax") }
            guard number >= 1 else { throw EngineError.invalid("limit must be 'none' or a positive integer") }
            maximum = number
        }
        let all = try irrevocableLeases()
        let leases: [JSONValue] = all.prefix(maximum).map { lease in
            ["lease_id": .string(lease.id), "mount_id": .string(lease.mountAccessor), "error": .string(lease.lastError ?? ""),
             "expire_time": .string(Timestamp.format(lease.expireTime))]
        }
        var response = EngineResponse(data: ["leases": .array(leases), "lease_count": .int(leases.count)])
        if all.count > maximum {
            response.warnings = ["Command halted because many irrevocable leases were found. To emit the entire list, re-run the command with limit=none."]
        }
        return response
    }

    /// `sys/leases/tidy`: a tidy pass now, its outcome in the warnings.
    func tidyFromRequest() throws -> EngineResponse? {
        let items = try runDueWork()
        let failed = items.filter(\.action.isFailure)
        var warnings = ["Tidy operation successfully completed: \(items.count - failed.count) items done, \(failed.count) failed."]
        warnings += failed.map { "\($0.action.rawValue): \($0.subject)" + ($0.detail.isEmpty ? "" : " (\($0.detail))") }
        return EngineResponse(data: nil, warnings: warnings)
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
    /// Past its expiry (and not revoked yet: tidy has not run, or revocation failed).
    public var expired = false
    /// The accessor of the lease's mount (Vault's `mount_id`).
    public var mountAccessor = ""
}

extension LeaseSummary {
    init(_ lease: Lease, now: Date, mountAccessor: String) {
        self.init(id: lease.id, role: lease.role, username: lease.username, issueTime: lease.issueTime,
                  expireTime: lease.expireTime, revokeAttempts: lease.revokeAttempts, lastError: lease.lastError,
                  irrevocable: lease.irrevocable, expired: lease.expireTime <= now, mountAccessor: mountAccessor)
    }

    /// A lease file that cannot be read: its id (from its name) and why.
    init(unreadable id: String, _ error: EngineError) {
        self.init(id: id, role: Lease.role(inID: id), username: "", issueTime: Date(timeIntervalSince1970: 0),
                  expireTime: Date(timeIntervalSince1970: 0), revokeAttempts: 0, lastError: error.message,
                  irrevocable: false, unreadable: true)
    }
}
