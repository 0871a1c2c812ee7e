import Foundation
import TestSupport
import XCTest

/// Behaviours where dbsecrets differed from Vault when Vault's documentation examples were run
/// against it, each pinned through the built binary against the real PostgreSQL (one regression
/// test per difference).
final class FidelityEndToEndTests: XCTestCase {
    var pg: PostgresBinaryHarness!

    override func setUpWithError() throws { pg = try PostgresBinaryHarness() }
    override func tearDown() { pg?.remove() }

    var server: PostgresTestServer { pg.server }
    var folder: TemporaryFolder { pg.folder }
    var admin: String { pg.admin }
    var adminPassword: String { pg.adminPassword }
    var environment: [String: String] { pg.environment }
    var create: String { pg.createStatement }

    @discardableResult
    func dbsecrets(_ args: String..., stdin: String? = nil, extra: [String: String] = [:]) throws -> ProcessResult {
        try pg.run(args, stdin: stdin, extra: extra)
    }

    func configure(allowedRoles: String = "*") throws {
        let r = try pg.configure(allowedRoles: allowedRoles)
        XCTAssertEqual(r.status, 0, r.stderr)
    }

    func canLogIn(_ user: String, _ password: String) throws -> Bool { try pg.canLogIn(user, password) }

    func json(_ result: ProcessResult) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], result.stdout + result.stderr)
    }

    func testAllowedRolesGlobsMatchWithALeadingStar() throws {
        try configure(allowedRoles: "*-ro")
        for role in ["app-ro", "app-rw"] { XCTAssertEqual(try dbsecrets("write", "database/roles/\(role)", "db_name=pg", create).status, 0) }
        XCTAssertEqual(try dbsecrets("read", "database/creds/app-ro").status, 0)
        let refused = try dbsecrets("read", "database/creds/app-rw")
        XCTAssertEqual(refused.stderr, "Error reading database/creds/app-rw: \"app-rw\" is not an allowed role\n")
        try dbsecrets("lease", "revoke", "-prefix", "database/creds/")
    }

    func testTheLastOfDuplicateJSONKeysWins() throws {
        try configure()
        let r = try dbsecrets("write", "database/roles/dup", "-", stdin: #"{"db_name": "nope", "default_ttl": "5m", "db_name": "pg", "default_ttl": "7m"}"#)
        XCTAssertEqual(r.status, 0, r.stderr)
        let role = try json(try dbsecrets("read", "-format=json", "database/roles/dup"))["data"] as? [String: Any]
        XCTAssertEqual(role?["db_name"] as? String, "pg")
        XCTAssertEqual(role?["default_ttl"] as? Int, 420)
    }

    func testInvalidUTF8FromAFileOrStdinIsAnError() throws {
        try configure()
        let file = folder.url.appendingPathComponent("statements.sql")
        try Data([0x43, 0x52, 0xff, 0xfe, 0x0a]).write(to: file)
        let fromFile = try dbsecrets("write", "database/roles/bad", "db_name=pg", "creation_statements=@\(file.path)")
        XCTAssertEqual(fromFile.status, 1)
        XCTAssertEqual(fromFile.stderr, "Failed to parse K=V data: invalid key/value pair \"creation_statements=@\(file.path)\": the contents of \(file.path) are not valid UTF-8\n")
        let fromStdin = try ProcessRunner.run("/bin/sh", ["-c", "printf 'a\\377b' | \"$0\" write database/config/pg password=-", PackageRoot.binary.path],
                                              environment: environment)
        XCTAssertEqual(fromStdin.status, 1)
        XCTAssertTrue(fromStdin.stderr.hasSuffix("the contents of stdin are not valid UTF-8\n"), fromStdin.stderr)
        XCTAssertEqual(try dbsecrets("read", "database/roles/bad").status, 2, "nothing was written")
    }

    func testVerifyConnectionFalseNeedsNoDatabaseAndAURLWithoutUsernameIsAcceptedWithAWarning() throws {
        let unverified = try dbsecrets("write", "database/config/later", "plugin_name=postgresql-database-plugin",
                                       "connection_url=\(server.templatedURL)", "verify_connection=false", "allowed_roles=*")
        XCTAssertEqual(unverified.status, 0, unverified.stderr)
        XCTAssertTrue(unverified.stderr.contains("connection_url has {{username}} but no username is set"), unverified.stderr)
        XCTAssertEqual(try dbsecrets("write", "database/roles/later", "db_name=later", create).status, 0)
        let unusable = try dbsecrets("read", "database/creds/later")
        XCTAssertEqual(unusable.status, 2)
        XCTAssertTrue(unusable.stderr.contains("connection_url has no user name"), "unusable until a username is written: \(unusable.stderr)")
        // A later write merges the username in, and the connection works.
        let merged = try dbsecrets("write", "database/config/later", "username=\(admin)", "password=-", stdin: adminPassword)
        XCTAssertEqual(merged.status, 0, merged.stderr)
        let creds = try json(try dbsecrets("read", "-format=json", "database/creds/later"))
        let data = creds["data"] as? [String: Any]
        XCTAssertTrue(try canLogIn(data?["username"] as? String ?? "", data?["password"] as? String ?? ""))
        try dbsecrets("lease", "revoke", "-prefix", "database/creds/later")
        // No database is reached without verification: an address nobody listens on is accepted.
        XCTAssertEqual(try dbsecrets("write", "database/config/nowhere", "plugin_name=postgresql-database-plugin",
                                     "connection_url=postgresql://{{username}}:{{password}}@127.0.0.1:1/db", "username=a", "password=b",
                                     "verify_connection=false").status, 0)
    }

    func testACronScheduleThatNeverFiresIsRefused() throws {
        try configure()
        XCTAssertEqual(try server.psql(user: server.user, password: server.password,
                                       "CREATE ROLE fid_sched LOGIN PASSWORD 'x'; GRANT fid_sched TO \(admin) WITH ADMIN OPTION").status, 0)
        defer { _ = try? server.psql(user: server.user, password: server.password, "DROP ROLE IF EXISTS fid_sched") }
        for schedule in ["0 0 30 2 *", "0 0 31 4 *"] {
            let r = try dbsecrets("write", "database/static-roles/sched", "db_name=pg", "username=fid_sched", "rotation_schedule=\(schedule)")
            XCTAssertEqual(r.status, 2)
            XCTAssertTrue(r.stderr.contains("could not parse rotation_schedule: the schedule never fires"), r.stderr)
        }
        XCTAssertEqual(try dbsecrets("write", "database/static-roles/sched", "db_name=pg", "username=fid_sched",
                                     "rotation_schedule=0 0 29 2 *").status, 0, "a leap day fires")
    }

    func testAStaticRoleOnTheConnectionsOwnUserIsRefused() throws {
        try configure()
        let r = try dbsecrets("write", "database/static-roles/self", "db_name=pg", "username=\(admin)", "rotation_period=1h")
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.contains("is the user of connection \"pg\" itself"), r.stderr)
        XCTAssertEqual(try dbsecrets("read", "database/creds/none").status, 2)
        XCTAssertEqual(try dbsecrets("write", "-f", "database/reset/pg").status, 0, "the engine can still log in")
    }

    func testAuthenticationParametersNoPluginSupportsAreRefused() throws {
        for (parameter, shown) in [("auth_type=gcp_iam", "auth_type=gcp_iam"), ("use_private_ip=true", "use_private_ip=true")] {
            let r = try dbsecrets("write", "database/config/pg", "plugin_name=postgresql-database-plugin", "connection_url=\(server.templatedURL)",
                                  "username=\(admin)", "password=-", parameter, stdin: adminPassword)
            XCTAssertEqual(r.status, 2, parameter)
            XCTAssertTrue(r.stderr.contains("unsupported connection parameter \(shown): "), r.stderr)
        }
        // self_managed is supported (a connection without a root user), but never beside one.
        let rooted = try dbsecrets("write", "database/config/pg", "plugin_name=postgresql-database-plugin", "connection_url=\(server.templatedURL)",
                                   "username=\(admin)", "password=-", "self_managed=true", stdin: adminPassword)
        XCTAssertEqual(rooted.status, 2)
        XCTAssertTrue(rooted.stderr.contains("self_managed is mutually exclusive with username and password"), rooted.stderr)
        XCTAssertEqual(try dbsecrets("read", "database/config/pg").status, 2, "nothing was stored")
        try configure()
        XCTAssertEqual(try dbsecrets("write", "database/config/pg", "use_private_ip=false").status, 0, "the usual value is fine")
    }

    func testBlocksAreKeptWholeInRevocationAndRenewalStatements() throws {
        try configure()
        let revoke = "DO $$ BEGIN EXECUTE format('REVOKE ALL ON SCHEMA public FROM %I', '{{name}}'); EXECUTE format('DROP ROLE %I', '{{name}}'); END $$;"
        let renew = "DO $$ BEGIN EXECUTE format('ALTER ROLE %I VALID UNTIL %L', '{{name}}', '{{expiration}}'); END $$;"
        XCTAssertEqual(try dbsecrets("write", "database/roles/blocks", "db_name=pg", create, "revocation_statements=\(revoke)",
                                     "renew_statements=\(renew)", "default_ttl=1h", "max_ttl=2h").status, 0)
        let creds = try json(try dbsecrets("read", "-format=json", "database/creds/blocks"))
        let data = creds["data"] as? [String: Any], lease = creds["lease_id"] as? String ?? ""
        let user = data?["username"] as? String ?? "", password = data?["password"] as? String ?? ""
        XCTAssertTrue(try canLogIn(user, password))
        let renewed = try dbsecrets("lease", "renew", lease)
        XCTAssertEqual(renewed.status, 0, renewed.stderr)
        let revoked = try dbsecrets("lease", "revoke", lease)
        XCTAssertEqual(revoked.status, 0, revoked.stderr)
        XCTAssertEqual(try server.psql(user: server.user, password: server.password,
                                       "SELECT count(*) FROM pg_roles WHERE rolname = '\(user)'").output, "0")
    }

    func testRenewFailsIfNotFulfilledAndExpiredLeasesAreListedAsExpired() throws {
        try configure()
        XCTAssertEqual(try dbsecrets("write", "database/roles/short", "db_name=pg", create, "default_ttl=1s", "max_ttl=1h").status, 0)
        let lease = try json(try dbsecrets("read", "-format=json", "database/creds/short"))["lease_id"] as? String ?? ""
        let capped = try dbsecrets("lease", "renew", "-increment=2h", "-fail-if-not-fulfilled", lease)
        XCTAssertEqual(capped.status, 2)
        XCTAssertTrue(capped.stderr.hasPrefix("Error renewing \(lease): the lease was renewed for "), capped.stderr)
        XCTAssertTrue(capped.stderr.contains(", less than the requested increment of 2h"), capped.stderr)
        let fulfilled = try dbsecrets("lease", "renew", "-increment=2s", "-fail-if-not-fulfilled", lease)
        XCTAssertEqual(fulfilled.status, 0, fulfilled.stderr)
        Thread.sleep(forTimeInterval: 2.2)
        XCTAssertTrue(try dbsecrets("lease", "list").stdout.contains("expired"), "past its expiry, before tidy revokes it")
        try dbsecrets("tidy")
    }

    func testAnAgentTakesAFractionalInterval() throws {
        try configure()
        XCTAssertEqual(try dbsecrets("write", "database/roles/brief", "db_name=pg", create, "default_ttl=1s").status, 0)
        let creds = try json(try dbsecrets("read", "-format=json", "database/creds/brief"))
        let data = creds["data"] as? [String: Any]
        let user = data?["username"] as? String ?? "", password = data?["password"] as? String ?? ""
        XCTAssertEqual(try dbsecrets("agent", "-interval=1.5x").status, 1, "not a duration")
        // With 500ms between passes, the agent revokes the lease within a second of its expiry.
        let script = "\"$0\" agent -interval=500ms > \"$1/agent.out\" 2>&1 & pid=$!; sleep 2.2; kill -TERM $pid; wait $pid; echo $?"
        let run = try ProcessRunner.run("/bin/sh", ["-c", script, PackageRoot.binary.path, folder.path], environment: environment)
        XCTAssertEqual(run.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "0")
        let printed = try String(contentsOf: folder.url.appendingPathComponent("agent.out"), encoding: .utf8)
        XCTAssertTrue(printed.contains("lease revoked: database/creds/brief/"), printed)
        XCTAssertFalse(try canLogIn(user, password))
    }

    func testIrrevocableLeasesAreCountedAndListedAndTidyRunsFromItsPath() throws {
        try configure()
        XCTAssertEqual(try dbsecrets("write", "database/roles/stuck", "db_name=pg", create, "default_ttl=1s").status, 0)
        let lease = try json(try dbsecrets("read", "-format=json", "database/creds/stuck"))["lease_id"] as? String ?? ""
        XCTAssertEqual(try server.psql(user: server.user, password: server.password, "ALTER ROLE \(admin) NOLOGIN").status, 0)
        Thread.sleep(forTimeInterval: 1.2)
        let tidy = try dbsecrets("write", "-f", "sys/leases/tidy", extra: ["DBSECRETS_MAX_REVOKE_ATTEMPTS": "1"])
        XCTAssertEqual(tidy.status, 0, tidy.stderr)
        XCTAssertTrue(tidy.stderr.contains("Tidy operation successfully completed: 0 items done, 1 failed."), tidy.stderr)
        XCTAssertTrue(tidy.stderr.contains("lease irrevocable: \(lease)"), tidy.stderr)
        let count = try json(try dbsecrets("read", "-format=json", "sys/leases/count", "type=irrevocable"))
        XCTAssertEqual((count["data"] as? [String: Any])?["lease_count"] as? Int, 1)
        XCTAssertEqual((count["data"] as? [String: Any])?["counts"] as? [String: Int], ["database_00000000": 1])
        XCTAssertEqual(count["mount_type"] as? String, "system")
        let listed = try json(try dbsecrets("read", "-format=json", "sys/leases", "type=irrevocable"))
        let leases = (listed["data"] as? [String: Any])?["leases"] as? [[String: Any]]
        XCTAssertEqual(leases?.first?["lease_id"] as? String, lease)
        XCTAssertEqual(leases?.first?["mount_id"] as? String, "database_00000000")
        XCTAssertEqual(try dbsecrets("read", "sys/leases/count").status, 2, "without type=irrevocable there is nothing")
        XCTAssertEqual(try server.psql(user: server.user, password: server.password, "ALTER ROLE \(admin) LOGIN").status, 0)
        XCTAssertEqual(try dbsecrets("lease", "revoke", "-prefix", "database/creds/stuck").status, 0, "revoked by hand once it can be")
        XCTAssertEqual((try json(try dbsecrets("read", "-format=json", "sys/leases/count", "type=irrevocable"))["data"] as? [String: Any])?["lease_count"] as? Int, 0)
    }
}
