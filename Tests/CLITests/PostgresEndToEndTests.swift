import Foundation
import TestSupport
import XCTest

/// The built `dbsecrets` binary against the real PostgreSQL the test script starts: every
/// credential is proved by logging in with psql, every revocation by failing to.
final class PostgresEndToEndTests: XCTestCase {
    var server: PostgresTestServer!
    var folder: TemporaryFolder!
    var admin = ""
    let adminPassword = "e2e-admin-\(UUID().uuidString.prefix(8))"

    override func setUpWithError() throws {
        server = try PostgresTestServer.fromEnvironment()
        try TestRequirement.builtBinary()
        folder = TemporaryFolder("dbsecrets-e2e")
        admin = "e2e_admin_\(UUID().uuidString.prefix(8).lowercased())"
        XCTAssertEqual(try server.psql(user: server.user, password: server.password,
                                       "CREATE ROLE \(admin) WITH LOGIN SUPERUSER PASSWORD '\(adminPassword)'").status, 0)
        let configured = try dbsecrets(["write", "database/config/pg", "plugin_name=postgresql-database-plugin",
                                        "connection_url=\(server.templatedURL)", "username=\(admin)", "password=-",
                                        "allowed_roles=*"], stdin: adminPassword)
        XCTAssertEqual(configured.status, 0, configured.stderr)
    }

    override func tearDown() { folder?.remove() }

    var environment: [String: String] {
        ["DBSECRETS_STATE_DIR": folder.url.appendingPathComponent("state").path, "PATH": "/usr/bin:/bin"]
    }

    @discardableResult
    func dbsecrets(_ args: [String], stdin: String? = nil) throws -> ProcessResult {
        try ProcessRunner.run(PackageRoot.binary.path, args, environment: environment, stdin: stdin)
    }

    func canLogIn(_ user: String, _ password: String) throws -> Bool {
        try server.psql(user: user, password: password, "SELECT 1").status == 0
    }

    func creds(_ role: String) throws -> (user: String, password: String, lease: String) {
        let result = try dbsecrets(["read", "-format=json", "database/creds/\(role)"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let json = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        let data = json?["data"] as? [String: Any]
        return (data?["username"] as? String ?? "", data?["password"] as? String ?? "", json?["lease_id"] as? String ?? "")
    }

    func writeRole(_ name: String, ttl: String) throws {
        let r = try dbsecrets(["write", "database/roles/\(name)", "db_name=pg", "default_ttl=\(ttl)", "max_ttl=1h",
                               "creation_statements=CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';"])
        XCTAssertEqual(r.status, 0, r.stderr)
    }

    func testExpiredLeasesAreGoneAfterTidy() throws {
        try writeRole("short", ttl: "2s")
        let c = try creds("short")
        XCTAssertTrue(try canLogIn(c.user, c.password))
        var tidy = try dbsecrets(["tidy"])
        XCTAssertEqual(tidy.stdout, "", "nothing due yet")
        Thread.sleep(forTimeInterval: 2.5)
        tidy = try dbsecrets(["tidy"])
        XCTAssertEqual(tidy.status, 0, tidy.stderr)
        XCTAssertEqual(tidy.stdout, "lease revoked: \(c.lease) (user \(c.user))\n")
        XCTAssertFalse(try canLogIn(c.user, c.password))
        XCTAssertEqual(try server.psql(user: server.user, password: server.password,
                                       "SELECT count(*) FROM pg_roles WHERE rolname = '\(c.user)'").output, "0")
    }

    func testTwoTidiesAtOnceRevokeEachLeaseOnce() throws {
        try writeRole("many", ttl: "1s")
        let leases = try (0..<4).map { _ in try creds("many").lease }
        Thread.sleep(forTimeInterval: 1.5)
        let script = "\"$0\" tidy -format=json > \"$1/a\" & \"$0\" tidy -format=json > \"$1/b\"; wait"
        let run = try ProcessRunner.run("/bin/sh", ["-c", script, PackageRoot.binary.path, folder.path], environment: environment)
        XCTAssertEqual(run.stderr, "")
        let lines = try ["a", "b"].flatMap { try String(contentsOf: folder.url.appendingPathComponent($0), encoding: .utf8).split(separator: "\n") }
        XCTAssertEqual(lines.count, leases.count, lines.joined(separator: "\n"))
        for lease in leases {
            XCTAssertEqual(lines.filter { $0.contains(lease) && $0.contains("lease revoked") }.count, 1, lease)
        }
    }

    func testTwoAgentsInParallelRevokeEachExpiringLeaseOnce() throws {
        try writeRole("agents", ttl: "1s")
        let leases = try (0..<4).map { _ in try creds("agents") }
        func startAgent(_ output: URL) throws -> Process {
            let agent = Process()
            agent.executableURL = PackageRoot.binary
            agent.arguments = ["agent", "-interval=1s", "-format=json"]
            agent.environment = environment
            FileManager.default.createFile(atPath: output.path, contents: nil)
            agent.standardOutput = try FileHandle(forWritingTo: output)
            agent.standardError = FileHandle.nullDevice
            try agent.run()
            return agent
        }
        let outputs = [folder.url.appendingPathComponent("agent-a"), folder.url.appendingPathComponent("agent-b")]
        let agents = try outputs.map(startAgent)
        Thread.sleep(forTimeInterval: 4)
        for agent in agents { kill(agent.processIdentifier, SIGTERM) }
        for agent in agents {
            agent.waitUntilExit()
            XCTAssertEqual(agent.terminationStatus, 0)
        }
        let lines = try outputs.flatMap { try String(contentsOf: $0, encoding: .utf8).split(separator: "\n") }
        for lease in leases {
            XCTAssertEqual(lines.filter { $0.contains(lease.lease) && $0.contains("lease revoked") }.count, 1, lease.lease)
            XCTAssertFalse(try canLogIn(lease.user, lease.password))
        }
        XCTAssertEqual(lines.filter { $0.contains("failed") }, [])
    }

    func testStaticRoleRotatesOnTimeUnderAgent() throws {
        let user = "e2e_app_\(UUID().uuidString.prefix(6).lowercased())"
        try server.psql(user: server.user, password: server.password, "CREATE ROLE \(user) WITH LOGIN PASSWORD 'initial-pw'")
        var r = try dbsecrets(["write", "database/static-roles/app", "db_name=pg", "username=\(user)", "rotation_period=5s"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let first = try dbsecrets(["read", "-field=password", "database/static-creds/app"]).stdout
        XCTAssertTrue(try canLogIn(user, first))
        XCTAssertFalse(try canLogIn(user, "initial-pw"))

        let agent = Process()
        agent.executableURL = PackageRoot.binary
        agent.arguments = ["agent", "-interval=1s"]
        agent.environment = environment
        let out = Pipe()
        agent.standardOutput = out
        agent.standardError = FileHandle.nullDevice
        try agent.run()
        Thread.sleep(forTimeInterval: 6.5)
        kill(agent.processIdentifier, SIGTERM)
        agent.waitUntilExit()
        XCTAssertEqual(agent.terminationStatus, 0, "SIGTERM stops the agent cleanly")
        let printed = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertTrue(printed.contains("static role rotated: app"), printed)

        // Read the stored password straight from state, so static-creds cannot rotate it first.
        r = try dbsecrets(["read", "-format=json", "database/static-roles/app"])
        let second = try JSONSerialization.jsonObject(
            with: Data(contentsOf: folder.url.appendingPathComponent("state/static-roles/app.json"))) as? [String: Any]
        let current = second?["password"] as? String ?? ""
        XCTAssertNotEqual(current, first)
        XCTAssertTrue(try canLogIn(user, current))
        XCTAssertFalse(try canLogIn(user, first))
    }

    /// Regression: after a killed rotate-root, every command on the connection failed for 60 s
    /// (and without a tidy, forever), although the free lock proved the rotator was gone.
    func testAnInterruptedRootRotationIsSettledByTheNextCommand() throws {
        try writeRole("ro", ttl: "1h")
        // The process died after the database took the new password, before the config stored it.
        let newPassword = "half-rotated-\(UUID().uuidString.prefix(8))"
        let intents = folder.url.appendingPathComponent("state/intents")
        try FileManager.default.createDirectory(at: intents, withIntermediateDirectories: true)
        let created = Date().addingTimeInterval(-120)
        let iso = ISO8601DateFormatter().string(from: created)
        try Data("""
        {"connection": "pg", "username": "\(admin)", "old_password": "\(adminPassword)", "new_password": "\(newPassword)", "created_at": "\(iso)", "format_version": 1}
        """.utf8).write(to: intents.appendingPathComponent("root-pg.json"))
        try server.psql(user: server.user, password: server.password, "ALTER ROLE \(admin) WITH PASSWORD '\(newPassword)'")
        let c = try creds("ro")
        XCTAssertTrue(try canLogIn(c.user, c.password), "the next command settles it and works")
        let stored = try JSONSerialization.jsonObject(
            with: Data(contentsOf: folder.url.appendingPathComponent("state/config/pg.json"))) as? [String: Any]
        let details = stored?["connection_details"] as? [String: Any]
        XCTAssertEqual(details?["password"] as? String, newPassword, "rolled forward: the database's password is stored")
        let tidy = try dbsecrets(["tidy"])
        XCTAssertEqual(tidy.status, 0, tidy.stderr)
        XCTAssertEqual(tidy.stdout, "", "nothing left to settle")
        XCTAssertFalse(FileManager.default.fileExists(atPath: intents.appendingPathComponent("root-pg.json").path))
    }

    func testRootRotationLocksOutTheOldPasswordAndKeepsWorking() throws {
        try writeRole("ro", ttl: "1h")
        XCTAssertEqual(try dbsecrets(["write", "-f", "database/rotate-root/pg"]).status, 0)
        XCTAssertFalse(try canLogIn(admin, adminPassword))
        let c = try creds("ro")
        XCTAssertTrue(try canLogIn(c.user, c.password))
        let read = try dbsecrets(["read", "database/config/pg"]).stdout
        XCTAssertFalse(read.contains("password:"), read)
    }

    func testAnUnreachableDatabaseFailsFastAndClearly() throws {
        let port = try ProcessRunner.run("\(PackageRoot.url.path)/Tests/servers/free-port", []).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        var r = try dbsecrets(["write", "database/config/down", "plugin_name=postgresql-database-plugin",
                               "connection_url=postgresql://{{username}}:{{password}}@127.0.0.1:\(port)/x?sslmode=disable&connect_timeout=2",
                               "username=u", "password=-", "allowed_roles=*", "verify_connection=false"], stdin: "sekrit-pw-123")
        XCTAssertEqual(r.status, 0, r.stderr)
        r = try dbsecrets(["write", "database/roles/down", "db_name=down", "creation_statements=CREATE ROLE \"{{name}}\""])
        let start = Date()
        r = try dbsecrets(["read", "database/creds/down"])
        XCTAssertLessThan(Date().timeIntervalSince(start), 5)
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.hasPrefix("Error reading database/creds/down: "), r.stderr)
        XCTAssertTrue(r.stderr.contains("127.0.0.1:\(port)"), r.stderr)
        XCTAssertFalse(r.stderr.contains("sekrit-pw-123"))
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, "one line")
        XCTAssertEqual(try dbsecrets(["lease", "list", "-format=json"]).stdout, "[]\n", "nothing half-written")
    }
}
