import Foundation
import TestSupport
import XCTest

/// `dbsecrets export`: a state with mounts, a password policy, connections, roles and static
/// roles is exported as a script; the script, run with `vault` replaced by `dbsecrets` against a
/// fresh state, makes a state that exports the same and reads the same.
final class ExportRoundTripTests: XCTestCase {
    var harness: PostgresBinaryHarness!
    let staticUsers = ["export_static_\(UUID().uuidString.prefix(6).lowercased())", "export_static_\(UUID().uuidString.prefix(6).lowercased())"]
    let policy = "length = 20\nrule \"charset\" {\n  charset = \"abcdefghijklmnopqrstuvwxyz0123456789\"\n}\n"

    override func setUpWithError() throws {
        harness = try PostgresBinaryHarness()
        for user in staticUsers {
            try harness.superuser("CREATE ROLE \(user) LOGIN PASSWORD 'initial'")
        }
    }

    override func tearDown() {
        for mount in ["database/", "pg2/"] { _ = try? harness.run(["lease", "revoke", "-prefix", mount]) }
        for user in staticUsers { _ = try? harness.superuser("DROP ROLE IF EXISTS \(user)") }
        harness?.remove()
    }

    /// The original: database/ and pg2/ (with a description and TTLs), one policy, and on each
    /// mount a connection, a role and a static role; one live lease.
    func makeOriginal() throws {
        let policyFile = harness.folder.url.appendingPathComponent("policy.hcl")
        try policy.write(to: policyFile, atomically: true, encoding: .utf8)
        for args in [["secrets", "enable", "-path=pg2", "-description=second engine", "-default-lease-ttl=1h", "-max-lease-ttl=2h", "database"],
                     ["write", "sys/policies/password/export-policy", "policy=@\(policyFile.path)"]] {
            let r = try harness.run(args)
            XCTAssertEqual(r.status, 0, "\(args): \(r.stderr)")
        }
        for (index, mount) in ["database", "pg2"].enumerated() {
            XCTAssertEqual(try harness.configure(mount, allowedRoles: "ro,app").status, 0)
            for args in [["write", "\(mount)/config/pg", "password_policy=export-policy"],
                         ["write", "\(mount)/roles/ro", "db_name=pg", "default_ttl=10m", "max_ttl=30m", harness.createStatement,
                          "revocation_statements=DROP ROLE IF EXISTS \"{{name}}\";"],
                         ["write", "\(mount)/static-roles/app", "db_name=pg", "username=\(staticUsers[index])", "rotation_period=24h"]] {
                let r = try harness.run(args)
                XCTAssertEqual(r.status, 0, "\(args): \(r.stderr)")
            }
        }
        XCTAssertEqual(try harness.run(["read", "-field=lease_id", "database/creds/ro"]).status, 0)
    }

    /// Reads that must match between two states, as JSON data with what differs by nature (a
    /// static role's rotation times) left out.
    func comparableReads(_ run: ([String]) throws -> ProcessResult) throws -> [String: NSDictionary] {
        var reads: [String: NSDictionary] = [:]
        for path in ["sys/policies/password/export-policy", "database/config/pg", "pg2/config/pg", "database/roles/ro", "pg2/roles/ro",
                     "database/static-roles/app", "pg2/static-roles/app", "sys/mounts/pg2/tune"] {
            let r = try run(["read", "-format=json", path])
            XCTAssertEqual(r.status, 0, "\(path): \(r.stderr)")
            let body = try XCTUnwrap((try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8))) as? [String: Any], r.stdout)
            var data = try XCTUnwrap(body["data"] as? [String: Any], path)
            for varying in ["last_vault_rotation", "ttl", "next_vault_rotation"] { data[varying] = nil }
            reads[path] = data as NSDictionary
        }
        return reads
    }

    func testAnExportedScriptRecreatesTheStateThroughDbsecrets() throws {
        try makeOriginal()
        let exported = try harness.run(["export", "-with-secrets"])
        XCTAssertEqual(exported.status, 0, exported.stderr)
        XCTAssertTrue(exported.stderr.contains("The export holds root passwords"), exported.stderr)
        XCTAssertTrue(exported.stdout.contains("vault secrets enable -path=pg2 -description='second engine' -default-lease-ttl=3600s -max-lease-ttl=7200s database"),
                      exported.stdout)
        XCTAssertTrue(exported.stdout.contains("Leases: 1 live here, not exported"), exported.stdout)
        let script = harness.folder.url.appendingPathComponent("export.sh")
        try exported.stdout.write(to: script, atomically: true, encoding: .utf8)

        let target = TemporaryFolder("dbsecrets-export-target")
        defer { target.remove() }
        let targetEnvironment = ["DBSECRETS_STATE_DIR": target.url.appendingPathComponent("state").path, "PATH": "/usr/bin:/bin",
                                 "VAULT": PackageRoot.binary.path]
        let replayed = try ProcessRunner.run("/bin/sh", [script.path], environment: targetEnvironment, timeout: 60)
        XCTAssertEqual(replayed.status, 0, replayed.stdout + replayed.stderr)

        func onTarget(_ args: [String]) throws -> ProcessResult {
            try ProcessRunner.run(PackageRoot.binary.path, args, environment: targetEnvironment)
        }
        XCTAssertEqual(try comparableReads(onTarget), try comparableReads { try harness.run($0) })
        let again = try onTarget(["export", "-with-secrets"])
        XCTAssertEqual(again.stdout.withoutLeaseNote, exported.stdout.withoutLeaseNote, "the new state exports what the old one did")
        // The recreated engine works: its connection logs in, its role makes users.
        let creds = try onTarget(["read", "-format=json", "pg2/creds/ro"])
        XCTAssertEqual(creds.status, 0, creds.stderr)
        XCTAssertEqual(try onTarget(["lease", "revoke", "-prefix", "pg2/"]).status, 0)
    }

    func testWithoutSecretsEachConnectionReadsItsPasswordFromStdin() throws {
        try makeOriginal()
        let exported = try harness.run(["export"])
        XCTAssertEqual(exported.status, 0, exported.stderr)
        XCTAssertFalse(exported.stdout.contains(harness.adminPassword), "no root password without -with-secrets")
        XCTAssertEqual(exported.stdout.components(separatedBy: "password=-").count - 1, 2, exported.stdout)
        XCTAssertTrue(exported.stdout.contains("# The password of connection pg is not in this export: this write reads it from stdin."))

        // One connection's write, given its password on stdin, recreates it.
        let lines = exported.stdout.components(separatedBy: "\n")
        let write = try XCTUnwrap(lines.first { $0.hasPrefix("vault write pg2/config/pg ") })
        let target = TemporaryFolder("dbsecrets-export-stdin")
        defer { target.remove() }
        let environment = ["DBSECRETS_STATE_DIR": target.url.appendingPathComponent("state").path, "PATH": "/usr/bin:/bin",
                           "VAULT": PackageRoot.binary.path]
        let policyWrite = try XCTUnwrap(exported.stdout.range(of: "vault write sys/policies/password/export-policy - <<'EOF'\n"))
        let policyEnd = try XCTUnwrap(exported.stdout.range(of: "\nEOF\n", range: policyWrite.upperBound..<exported.stdout.endIndex))
        let prelude = "set -eu\nvault() { \"$VAULT\" \"$@\"; }\n" + "vault secrets enable -path=pg2 database\n"
            + String(exported.stdout[policyWrite.lowerBound..<policyEnd.upperBound])
        let replayed = try ProcessRunner.run("/bin/sh", ["-c", prelude + write], environment: environment, stdin: harness.adminPassword, timeout: 30)
        XCTAssertEqual(replayed.status, 0, replayed.stdout + replayed.stderr)
        let read = try ProcessRunner.run(PackageRoot.binary.path, ["write", "-f", "pg2/reset/pg"], environment: environment)
        XCTAssertEqual(read.status, 0, "the password from stdin logs in: \(read.stderr)")
    }

    /// A self-managed static role's write needs the account's current password, which the state
    /// does not give out: the export names it instead of writing one that would fail.
    func testASelfManagedStaticRoleIsNamedAsNotExported() throws {
        XCTAssertEqual(try harness.run(["write", "database/config/rootless", "plugin_name=postgresql-database-plugin",
                                        "connection_url=\(harness.server.templatedURL)", "self_managed=true", "allowed_roles=*"]).status, 0)
        let made = try harness.run(["write", "database/static-roles/sm", "db_name=rootless", "username=\(staticUsers[0])",
                                    "rotation_period=1h", "password=-"], stdin: "initial")
        XCTAssertEqual(made.status, 0, made.stderr)
        let exported = try harness.run(["export"])
        XCTAssertEqual(exported.status, 0, exported.stderr)
        XCTAssertTrue(exported.stdout.contains("# Not exported: database/static-roles/sm is self-managed"), exported.stdout)
        XCTAssertFalse(exported.stdout.contains("vault write database/static-roles/sm"), exported.stdout)
        XCTAssertTrue(exported.stdout.contains("\"self_managed\":\"true\""), "the connection is exported")
        let json = try harness.run(["export", "-format=json"])
        XCTAssertTrue(json.stdout.contains("\"not_exported\": [\n    \"database/static-roles/sm\"\n  ]"), json.stdout)
    }

    func testJSONListsTheWritesInAnOrderEachCanBeMadeIn() throws {
        try makeOriginal()
        let exported = try harness.run(["export", "-format=json"])
        XCTAssertEqual(exported.status, 0, exported.stderr)
        let body = try XCTUnwrap((try? JSONSerialization.jsonObject(with: Data(exported.stdout.utf8))) as? [String: Any])
        let writes = try XCTUnwrap(body["writes"] as? [[String: Any]])
        // Mounts first, then policies, then on each mount its connections before the roles on them.
        XCTAssertEqual(writes.map { $0["kind"] as? String ?? "" },
                       ["mount", "mount", "passwordPolicy", "connection", "role", "staticRole", "connection", "role", "staticRole"])
        XCTAssertEqual(writes.map { $0["path"] as? String ?? "" },
                       ["sys/mounts/database", "sys/mounts/pg2", "sys/policies/password/export-policy", "database/config/pg", "database/roles/ro",
                        "database/static-roles/app", "pg2/config/pg", "pg2/roles/ro", "pg2/static-roles/app"])
        XCTAssertEqual(body["live_leases"] as? Int, 1)
        XCTAssertFalse(exported.stdout.contains(harness.adminPassword))
    }

}

private extension String {
    /// The script without its comment on leases (the new state has none).
    var withoutLeaseNote: String {
        components(separatedBy: "\n").filter { !$0.hasPrefix("# Leases:") && !$0.hasPrefix("# keep 'dbsecrets agent'") }.joined(separator: "\n")
    }
}
