import Foundation
import TestSupport
import XCTest

/// Mounts through the built binary against the real PostgreSQL: `secrets enable -path=…`, every
/// engine path under the mount, lease ids that carry it, mount TTLs, disable (which revokes every
/// lease first, and refuses, deleting nothing, when one cannot be revoked), move, and a disable
/// killed at each of its steps and finished by the next command. Users are proved by logging in
/// with psql, revocations by failing to.
final class MountEndToEndTests: XCTestCase {
    var pg: PostgresBinaryHarness!

    override func setUpWithError() throws { pg = try PostgresBinaryHarness() }
    override func tearDown() { pg?.remove() }

    var server: PostgresTestServer { pg.server }
    var folder: TemporaryFolder { pg.folder }
    var admin: String { pg.admin }

    @discardableResult
    func dbsecrets(_ args: [String], stdin: String? = nil, extra: [String: String] = [:]) throws -> ProcessResult {
        try pg.run(args, stdin: stdin, extra: extra)
    }

    func ok(_ args: String..., stdin: String? = nil, file: StaticString = #filePath, line: UInt = #line) throws -> ProcessResult {
        let result = try dbsecrets(args, stdin: stdin)
        XCTAssertEqual(result.status, 0, "\(args): \(result.stderr)", file: file, line: line)
        return result
    }

    func canLogIn(_ user: String, _ password: String) throws -> Bool { try pg.canLogIn(user, password) }

    func configure(_ mount: String) throws {
        let configured = try pg.configure(mount)
        XCTAssertEqual(configured.status, 0, configured.stderr)
        try ok("write", "\(mount)/roles/ro", "db_name=pg", "default_ttl=1h", "max_ttl=2h", pg.createStatement)
    }

    struct Creds { var user: String; var password: String; var lease: String; var duration: Int; var warnings: [String] }

    func creds(_ path: String) throws -> Creds {
        let result = try ok("read", "-format=json", path)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let data = json["data"] as? [String: Any]
        return Creds(user: data?["username"] as? String ?? "", password: data?["password"] as? String ?? "",
                     lease: json["lease_id"] as? String ?? "", duration: json["lease_duration"] as? Int ?? -1,
                     warnings: json["warnings"] as? [String] ?? [])
    }

    func testEveryPathWorksUnderAMountAndLeaseIdsCarryIt() throws {
        XCTAssertEqual(try ok("secrets", "enable", "-path=postgres", "database").stdout,
                       "Success! Enabled the database secrets engine at: postgres/\n")
        let again = try dbsecrets(["secrets", "enable", "-path=postgres", "database"])
        XCTAssertEqual(again.status, 2)
        XCTAssertEqual(again.stderr, "Error enabling: path is already in use at postgres/\n")
        try configure("postgres")
        XCTAssertEqual(try ok("list", "postgres/roles").stdout, "Keys\n----\nro\n")
        XCTAssertNotEqual(try dbsecrets(["read", "database/roles/ro"]).status, 0, "database/ has objects of its own")
        XCTAssertNil(try? ok("read", "postgres/config/pg").stdout.range(of: pg.adminPassword), "the password is never read back")

        let c = try creds("postgres/creds/ro")
        XCTAssertTrue(c.lease.hasPrefix("postgres/creds/ro/"), c.lease)
        XCTAssertEqual(c.duration, 3600)
        XCTAssertTrue(try canLogIn(c.user, c.password))
        XCTAssertTrue(try ok("lease", "lookup", c.lease).stdout.contains("id              \(c.lease)"))
        XCTAssertTrue(try ok("lease", "renew", "-increment=30m", c.lease).stdout.contains("lease_duration     30m"))
        XCTAssertEqual(try ok("list", "sys/leases/lookup/postgres/creds/ro").stdout, "Keys\n----\n\(c.lease.split(separator: "/").last!)\n")
        XCTAssertEqual(try ok("list", "sys/leases/lookup/").stdout, "Keys\n----\npostgres/\n")
        XCTAssertTrue(try ok("lease", "list").stdout.contains(c.lease))
        // mount_type: the engine's for its paths, system for sys/*.
        XCTAssertTrue(try ok("read", "-format=json", "postgres/roles/ro").stdout.contains("\"mount_type\": \"database\""))
        XCTAssertTrue(try ok("lease", "lookup", "-format=json", c.lease).stdout.contains("\"mount_type\": \"system\""))
        XCTAssertEqual(try ok("lease", "revoke", c.lease).stdout, "Success! Revoked lease: \(c.lease)\n")
        XCTAssertFalse(try canLogIn(c.user, c.password))

        // A rotation and a static role under the mount, and reload of its connections.
        let app = "mnt_app_\(UUID().uuidString.prefix(6).lowercased())"
        XCTAssertEqual(try server.psql(user: server.user, password: server.password,
                                       "CREATE ROLE \(app) WITH LOGIN PASSWORD 'initial'").status, 0)
        defer { _ = try? server.psql(user: server.user, password: server.password, "DROP ROLE IF EXISTS \(app)") }
        try ok("write", "postgres/static-roles/app", "db_name=pg", "username=\(app)", "rotation_period=1h")
        let password = try ok("read", "-field=password", "postgres/static-creds/app").stdout
        XCTAssertTrue(try canLogIn(app, password))
        let reload = try ok("write", "-format=json", "-f", "postgres/reload/postgresql-database-plugin")
        XCTAssertTrue(reload.stdout.contains("\"connections\": [\n      \"pg\"\n    ],\n    \"count\": 1"), reload.stdout)
    }

    func testMountTTLsBoundRoleTTLsAndLeaseDurationsAreExact() throws {
        try ok("secrets", "enable", "-path=short", "-default-lease-ttl=10m", "-max-lease-ttl=30m", "database")
        try configure("short")
        // The role asks for 1h; the mount allows 30m.
        let capped = try creds("short/creds/ro")
        XCTAssertEqual(capped.duration, 1800)
        XCTAssertEqual(capped.warnings, [#"TTL of "1h" exceeded the effective max_ttl of "30m"; TTL value is capped accordingly"#])
        // A role without TTLs takes the mount's default.
        try ok("write", "short/roles/bare", "db_name=pg",
               "creation_statements=CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';")
        XCTAssertEqual(try creds("short/creds/bare").duration, 600)
        try ok("secrets", "tune", "-default-lease-ttl=5m", "short/")
        XCTAssertTrue(try ok("read", "sys/mounts/short/tune").stdout.contains("default_lease_ttl    5m"))
        XCTAssertEqual(try creds("short/creds/bare").duration, 300)

        // Without mount TTLs: the role's TTL exactly (not 59m59s), and the system's 768h without one.
        try configure("database")
        try ok("write", "database/roles/exact", "db_name=pg", "default_ttl=1h", "max_ttl=1h",
               "creation_statements=CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}';")
        let exact = try creds("database/creds/exact")
        XCTAssertEqual(exact.duration, 3600)
        XCTAssertEqual(exact.warnings, [])
        try ok("write", "database/roles/none", "db_name=pg", "creation_statements=CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}';")
        XCTAssertEqual(try creds("database/creds/none").duration, 2_764_800)
        try ok("lease", "revoke", "-prefix", "database/creds/")
        try ok("lease", "revoke", "-prefix", "short/")
    }

    func testDisableRevokesEveryLeaseFirstAndRefusesDeletingNothingWhenOneFails() throws {
        try ok("secrets", "enable", "-path=team/pg", "database")
        try configure("team/pg")
        let a = try creds("team/pg/creds/ro"), b = try creds("team/pg/creds/ro")

        // The database refuses: nothing is deleted, and the failures are listed.
        XCTAssertEqual(try server.psql(user: server.user, password: server.password, "ALTER ROLE \(admin) NOLOGIN").status, 0)
        let refused = try dbsecrets(["secrets", "disable", "team/pg"])
        XCTAssertEqual(refused.status, 2)
        XCTAssertTrue(refused.stderr.hasPrefix("Error disabling secrets engine at team/pg/: failed to revoke 2 of 2 leases: team/pg/creds/ro/"), refused.stderr)
        XCTAssertTrue(refused.stderr.hasSuffix("; the secrets engine is still enabled, nothing was deleted\n"), refused.stderr)
        XCTAssertTrue(try canLogIn(a.user, a.password))
        XCTAssertEqual(try ok("list", "team/pg/roles").stdout, "Keys\n----\nro\n", "still served")

        XCTAssertEqual(try server.psql(user: server.user, password: server.password, "ALTER ROLE \(admin) LOGIN").status, 0)
        XCTAssertEqual(try ok("secrets", "disable", "team/pg").stdout, "Success! Disabled the secrets engine (if it existed) at: team/pg/\n")
        XCTAssertFalse(try canLogIn(a.user, a.password))
        XCTAssertFalse(try canLogIn(b.user, b.password))
        let gone = try dbsecrets(["read", "team/pg/roles/ro"])
        XCTAssertEqual(gone.status, 2)
        XCTAssertEqual(gone.stderr, "Error reading team/pg/roles/ro: no handler for route \"team/pg/roles/ro\". route entry not found.\n")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.url.appendingPathComponent("state/mounts").path), [],
                       "the mount's storage is gone")
        XCTAssertEqual(try ok("secrets", "disable", "team/pg").status, 0, "disabling what is not there succeeds")
    }

    func testMoveRevokesTheLeasesAndKeepsTheConfiguration() throws {
        try configure("database")
        let c = try creds("database/creds/ro")
        let move = try ok("secrets", "move", "database", "pg-prod")
        let lines = move.stdout.split(separator: "\n")
        XCTAssertEqual(lines.count, 2)
        XCTAssertTrue(lines[0].hasPrefix("Started moving secrets engine database/ to pg-prod/, with migration ID "), move.stdout)
        XCTAssertTrue(lines[1].hasPrefix("Success! Finished moving secrets engine database/ to pg-prod/, with migration ID "), move.stdout)
        XCTAssertFalse(try canLogIn(c.user, c.password), "the old mount's leases are revoked first")
        XCTAssertEqual(try ok("list", "pg-prod/roles").stdout, "Keys\n----\nro\n")
        let moved = try creds("pg-prod/creds/ro")
        XCTAssertTrue(moved.lease.hasPrefix("pg-prod/creds/ro/"))
        XCTAssertTrue(try canLogIn(moved.user, moved.password))
        let id = String(lines[1].split(separator: " ").last!)
        XCTAssertTrue(try ok("read", "sys/remount/status/\(id)").stdout.contains("status:success"), "migration_info")
        // database/ is the implicit mount again only once nothing uses the top-level storage.
        XCTAssertNotEqual(try dbsecrets(["read", "database/roles/ro"]).status, 0)
        try ok("lease", "revoke", "-prefix", "pg-prod/")
        XCTAssertFalse(try canLogIn(moved.user, moved.password))
    }

    /// A disable killed at each of its step boundaries leaves a state that the next command
    /// finishes: afterwards the mount is either fully there with its leases, or gone with every
    /// user it created dropped.
    func testADisableKilledAtEveryStepIsFinishedByTheNextCommand() throws {
        try ok("secrets", "enable", "-path=crash", "database")
        try configure("crash")
        let trace = try dbsecrets(["secrets", "disable", "crash"], extra: ["DBSECRETS_TEST_TRACE_STEPS": "1", "DBSECRETS_TEST_FAIL_AT": "100000"])
        XCTAssertEqual(trace.status, 0, trace.stderr)
        let steps = trace.stderr.split(separator: "\n").filter { $0.hasPrefix("dbsecrets-step ") }.count
        XCTAssertGreaterThan(steps, 0)
        var created: [Creds] = []
        let deadline = Date().addingTimeInterval(60)
        for step in 1...max(1, steps) where Date() < deadline {
            try ok("secrets", "enable", "-path=crash", "database")
            try configure("crash")
            let c = try creds("crash/creds/ro")
            created.append(c)
            let killed = try dbsecrets(["secrets", "disable", "crash"], extra: ["DBSECRETS_TEST_CRASH_AT": String(step)])
            XCTAssertNotEqual(killed.status, 0, "step \(step) was reached")
            // The next command that touches the mount finishes the disable (or finds it not started).
            let next = try dbsecrets(["list", "crash/roles"])
            if next.status == 0 {
                XCTAssertTrue(try canLogIn(c.user, c.password), "step \(step): the mount is there, so is its lease's user")
                XCTAssertTrue(try ok("lease", "list").stdout.contains(c.lease), "step \(step)")
                try ok("secrets", "disable", "crash")
            } else {
                XCTAssertTrue(next.stderr.contains("no handler for route"), "step \(step): \(next.stderr)")
            }
            XCTAssertFalse(try canLogIn(c.user, c.password), "step \(step): the user is dropped once the mount is gone")
            XCTAssertFalse(try ok("secrets", "list").stdout.contains("crash/"), "step \(step)")
        }
        XCTAssertEqual(created.count, steps, "every step was tried within the time bound")
    }

    func testTidyFinishesAnInterruptedDisable() throws {
        try ok("secrets", "enable", "-path=tidied", "database")
        try configure("tidied")
        let c = try creds("tidied/creds/ro")
        let trace = try dbsecrets(["secrets", "disable", "tidied"], extra: ["DBSECRETS_TEST_TRACE_STEPS": "1", "DBSECRETS_TEST_FAIL_AT": "100000"])
        let pendingStep = trace.stderr.split(separator: "\n").firstIndex { $0.contains("replace mounts.json") }.map { $0 + 2 }
        XCTAssertNotNil(pendingStep, trace.stderr)
        // Redo it, killed just after the pending disable is written.
        try ok("secrets", "enable", "-path=tidied", "database")
        try configure("tidied")
        let d = try creds("tidied/creds/ro")
        _ = try dbsecrets(["secrets", "disable", "tidied"], extra: ["DBSECRETS_TEST_CRASH_AT": String(pendingStep ?? 1)])
        XCTAssertTrue(try ok("secrets", "list", "-format=json").stdout.contains("\"tidied/\""), "the interrupted disable is pending")
        let tidy = try ok("tidy")
        XCTAssertTrue(tidy.stdout.contains("secrets engine disabled: tidied/ (an interrupted secrets disable was finished)"), tidy.stdout)
        XCTAssertFalse(try canLogIn(d.user, d.password))
        XCTAssertFalse(try canLogIn(c.user, c.password))
        XCTAssertFalse(try ok("secrets", "list").stdout.contains("tidied/"))
    }
}
