import Basics
import DBPlugin
import Engine
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `lease lookup|renew|revoke|list`.
enum LeaseCommands {
    static let group = Command(
        path: ["lease"], synopsis: "Interact with leases",
        usage: "dbsecrets lease <subcommand> [options] [args]",
        description: "This command groups subcommands for interacting with leases. Users can look up, renew, revoke and list leases.",
        examples: [("Renew a lease:", "dbsecrets lease renew database/creds/ro/2f6a614c4aa27b1924b9ad94"),
                   ("Revoke a lease:", "dbsecrets lease revoke database/creds/ro/2f6a614c4aa27b1924b9ad94")],
        positional: .subcommands,
        run: { _ in throw CommandFailure.usage("") })

    static let lookup = Command(
        path: ["lease", "lookup"], synopsis: "Lookup the lease of a secret",
        usage: "dbsecrets lease lookup ID",
        description: "Shows the issue time, expiry time and remaining TTL of a lease.",
        examples: [("Look up a lease:", "dbsecrets lease lookup database/creds/ro/2f6a614c4aa27b1924b9ad94")],
        flags: CommonFlags.output(field: false), positional: .leaseID,
        run: { inv in
            try oneID(inv)
            let id = inv.positionals[0].trimmingWhitespace()
            let body: [String: JSONValue] = ["lease_id": .string(id)]
            let response = try inv.send(VaultAPIRequest(method: "PUT", path: "sys/leases/lookup", body: .object(body)),
                                        EngineRequest(.write, "sys/leases/lookup", data: body),
                                        errorPrefix: "error looking up lease id \(inv.positionals[0]): ")
            if let response { inv.printer.printSecret(response) }
            return 0
        })

    static let increment = FlagSpec(
        name: "increment", kind: .duration, group: "Command Options",
        usage: "Request a specific increment in seconds. The engine may cap it at the role's max_ttl. Uses duration format strings like \"30s\" or \"1h\".")

    static let failIfNotFulfilled = FlagSpec(
        name: "fail-if-not-fulfilled", kind: .bool, group: "Command Options",
        usage: "Exit with an error (status 2) when the lease was renewed for less than -increment, e.g. because max_ttl capped it, so that a script can stop or get new credentials.")

    static let renew = Command(
        path: ["lease", "renew"], synopsis: "Renews the lease of a secret",
        usage: "dbsecrets lease renew [options] ID",
        description: "Renews a lease: the TTL is recomputed from the role's current default_ttl (or -increment), capped at the lease's issue time plus max_ttl, and the user's expiry moves in the database.",
        examples: [("Renew for one more hour:", "dbsecrets lease renew -increment=1h database/creds/ro/2f6a614c4aa27b1924b9ad94"),
                   ("Get new credentials when the lease cannot last one more hour:",
                    "dbsecrets lease renew -increment=1h -fail-if-not-fulfilled \"$LEASE\" || dbsecrets read database/creds/ro")],
        flags: CommonFlags.output(field: false) + [increment, failIfNotFulfilled], positional: .leaseID,
        run: { inv in
            if inv.positionals.isEmpty { throw CommandFailure.usage("Missing ID!") }
            if inv.positionals.count > 1 { throw CommandFailure.usage("Too many arguments (expected 1-2, got \(inv.positionals.count))") }
            let seconds = try inv.arguments.string("increment").map { text -> Int in
                do {
                    return try DurationField.seconds(.string(text), field: "increment")
                } catch {
                    throw CommandFailure.usage("invalid value \"\(text)\" for flag -increment: \(error)")
                }
            } ?? 0
            let id = inv.positionals[0].trimmingWhitespace()
            let body: [String: JSONValue] = ["increment": .int(seconds), "lease_id": .string(id)]
            let response = try inv.send(VaultAPIRequest(method: "PUT", path: "sys/leases/renew", body: .object(body)),
                                        EngineRequest(.write, "sys/leases/renew", data: body),
                                        errorPrefix: "Error renewing \(inv.positionals[0]): ")
            if inv.arguments.bool("fail-if-not-fulfilled"), let response, seconds > 0, response.leaseDuration < seconds {
                throw CommandFailure.engine("Error renewing \(inv.positionals[0]): ", .failed(
                    "the lease was renewed for \(DurationField.human(response.leaseDuration)), less than the requested increment of \(DurationField.human(seconds))"
                        + (response.warnings.first.map { " (\($0))" } ?? "")))
            }
            if let response { inv.printer.printSecret(response) }
            return 0
        })

    static let revokePrefix = FlagSpec(name: "prefix", kind: .bool, group: "Command Options",
                                       usage: "Treat the ID as a prefix instead of an exact lease ID. This can revoke multiple leases simultaneously.")
    static let revokeForce = FlagSpec(name: "force", aliases: ["f"], kind: .bool, group: "Command Options",
                                      usage: "Delete the lease records even if the database refuses to drop the users. Requires -prefix. Use with care: the engine and the database go out of sync.")
    static let revokeSync = FlagSpec(name: "sync", kind: .bool, group: "Command Options",
                                     usage: "Accepted for compatibility with Vault; revocation always completes before the command returns.")

    static let revoke = Command(
        path: ["lease", "revoke"], synopsis: "Revokes leases and secrets",
        usage: "dbsecrets lease revoke [options] ID",
        description: "Revokes a lease: the database user is dropped, then the lease is forgotten. A lease that fails to revoke is kept with its error and retried by 'dbsecrets tidy'.",
        examples: [("Revoke every lease of a role:", "dbsecrets lease revoke -prefix database/creds/ro")],
        flags: [revokeForce, revokePrefix, revokeSync] + CommonFlags.request, positional: .leaseID,
        run: { inv in
            try inv.expectArguments(1)
            let id = inv.positionals[0].trimmingWhitespace()
            let force = inv.arguments.bool("force"), prefix = inv.arguments.bool("prefix")
            if force && !prefix { throw CommandFailure.usage("Specifying -force requires also specifying -prefix") }
            // Vault's API: revoke/ID, revoke-prefix/ID with {"sync": …}, revoke-force/ID without a body.
            let route = force ? "sys/leases/revoke-force" : prefix ? "sys/leases/revoke-prefix" : "sys/leases/revoke"
            // An empty id reaches the path's own refusal (an empty prefix never revokes everything).
            let path = id.isEmpty ? route : route + "/" + id
            let body: VaultAPIRequest.Body? = force ? nil : .object(["sync": .bool(inv.arguments.bool("sync"))])
            let prefixText = force ? "Error force revoking leases with prefix \(id): "
                : prefix ? "Error revoking leases with prefix \(id): " : "Error revoking lease \(id): "
            _ = try inv.send(VaultAPIRequest(method: "PUT", path: path, body: body),
                             EngineRequest(.write, path), errorPrefix: prefixText)
            if force {
                inv.terminal.err("Warning! Force-removing leases can cause the engine to become out of sync with\nthe database!\n")
                inv.terminal.out("Success! Force revoked any leases with prefix: \(id)\n")
            } else if prefix {
                inv.terminal.out("Success! Revoked any leases with prefix: \(id)\n")
            } else {
                inv.terminal.out("Success! Revoked lease: \(id)\n")
            }
            return 0
        })

    static let list = Command(
        path: ["lease", "list"], synopsis: "Lists leases with their users and expiry",
        usage: "dbsecrets lease list [options] [PREFIX]",
        description: "Lists every lease (or those whose id starts with PREFIX): id, role, username, issue and expiry times, and revocation failures. Leases the engine gave up revoking are marked irrevocable.",
        examples: [("Leases of one role:", "dbsecrets lease list database/creds/ro/")],
        flags: [CommonFlags.format, CommonFlags.stateDir], positional: .leaseID,
        run: { inv in
            if inv.positionals.count > 1 { throw CommandFailure.usage("Too many arguments (expected 0-1, got \(inv.positionals.count))") }
            let prefix = inv.positionals.first ?? ""
            let engine = inv.makeEngine()
            do {
                switch inv.format {
                case .json:
                    // Streamed: memory stays flat however many leases there are. Written in chunks
                    // of about 64 KiB, not one write per lease.
                    var count = 0
                    var chunk: [UInt8] = []
                    chunk.reserveCapacity(65536 + 4096)
                    try engine.forEachLease(prefix: prefix) { lease in
                        chunk += (count == 0 ? "[\n  " : ",\n  ").utf8
                        LeaseListJSON.append(lease, to: &chunk)
                        count += 1
                        if chunk.count >= 65536 {
                            inv.terminal.out(String(decoding: chunk, as: UTF8.self))
                            chunk.removeAll(keepingCapacity: true)
                        }
                    }
                    if !chunk.isEmpty { inv.terminal.out(String(decoding: chunk, as: UTF8.self)) }
                    inv.terminal.out(count == 0 ? "[]\n" : "\n]\n")
                    return 0
                case .yaml:
                    var count = 0
                    var chunk = ""
                    try engine.forEachLease(prefix: prefix) { lease in
                        chunk += YAMLText.encode(.array([jsonItem(lease)]))
                        count += 1
                        if chunk.utf8.count >= 65536 {
                            inv.terminal.out(chunk)
                            chunk = ""
                        }
                    }
                    if !chunk.isEmpty { inv.terminal.out(chunk) }
                    if count == 0 { inv.terminal.out("[]\n") }
                    return 0
                case .table, .raw:
                    break
                }
                let leases = try engine.listLeases(prefix: prefix)
                if leases.isEmpty {
                    inv.terminal.err("No leases found\n")
                    return 0
                }
                let rows = leases.map { lease -> [String] in
                    if lease.unreadable { return [lease.id, lease.role, "", "", "", "unreadable: \(lease.lastError ?? "")"] }
                    let status = lease.irrevocable ? "irrevocable" : lease.revokeAttempts > 0 ? "revoke failed x\(lease.revokeAttempts)"
                        : lease.expired ? "expired" : "active"
                    return [lease.id, lease.role, lease.username, Timestamp.format(lease.issueTime),
                            Timestamp.format(lease.expireTime), status]
                }
                inv.terminal.out(Columns.format([["ID", "Role", "Username", "Issued", "Expires", "State"]] + rows))
            } catch let error as EngineError {
                throw CommandFailure.engine("Error listing leases: ", error)
            }
            return 0
        })

    /// One lease as `GoJSON` writes `jsonItem(lease)` as an element of the listing's array
    /// (`MarshalIndent`, keys sorted), written straight into bytes: no dictionary, no sort.
    enum LeaseListJSON {
        static func append(_ lease: LeaseSummary, to out: inout [UInt8]) {
            if lease.unreadable {
                field("{\n    \"id\": ", lease.id, &out)
                field(",\n    \"last_error\": ", lease.lastError ?? "", &out)
                field(",\n    \"role\": ", lease.role, &out)
                out += ",\n    \"unreadable\": true\n  }".utf8
                return
            }
            out += "{\n    \"expire_time\": \"".utf8
            Timestamp.append(lease.expireTime, to: &out)
            out += "\",\n    \"expired\": ".utf8
            out += (lease.expired ? "true" : "false").utf8
            field(",\n    \"id\": ", lease.id, &out)
            out += ",\n    \"irrevocable\": ".utf8
            out += (lease.irrevocable ? "true" : "false").utf8
            out += ",\n    \"issue_time\": \"".utf8
            Timestamp.append(lease.issueTime, to: &out)
            out += "\",\n    \"last_error\": ".utf8
            if let error = lease.lastError { GoJSON.appendQuoted(error, to: &out) } else { out += "null".utf8 }
            out += ",\n    \"revoke_attempts\": ".utf8
            out += String(lease.revokeAttempts).utf8
            field(",\n    \"role\": ", lease.role, &out)
            field(",\n    \"username\": ", lease.username, &out)
            out += "\n  }".utf8
        }

        private static func field(_ key: StaticString, _ value: String, _ out: inout [UInt8]) {
            out += UnsafeBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount)
            GoJSON.appendQuoted(value, to: &out)
        }
    }

    static func jsonItem(_ lease: LeaseSummary) -> JSONValue {
        if lease.unreadable {
            return ["id": .string(lease.id), "role": .string(lease.role), "unreadable": true,
                    "last_error": .string(lease.lastError ?? "")]
        }
        return [
            "id": .string(lease.id), "role": .string(lease.role), "username": .string(lease.username),
            "issue_time": .string(Timestamp.format(lease.issueTime)),
            "expire_time": .string(Timestamp.format(lease.expireTime)),
            "revoke_attempts": .int(lease.revokeAttempts), "irrevocable": .bool(lease.irrevocable),
            "expired": .bool(lease.expired),
            "last_error": lease.lastError.map { .string($0) } ?? .null,
        ]
    }

    static let all = [group, lookup, renew, revoke, list]

    private static func oneID(_ inv: Invocation) throws {
        if inv.positionals.isEmpty { throw CommandFailure.usage("Missing ID!") }
        if inv.positionals.count > 1 { throw CommandFailure.usage("Too many arguments (expected 1, got \(inv.positionals.count))") }
    }
}
