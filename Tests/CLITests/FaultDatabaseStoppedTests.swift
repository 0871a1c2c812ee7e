import Engine
import Foundation
import TestSupport
import XCTest

/// A PostgreSQL of the test's own (never the shared one) stopped in the middle of a session and
/// started again on the same data directory: while it is down, `creds`, `rotate-role` and
/// `lease revoke` fail quickly and cleanly and change nothing they cannot finish; once it is
/// back, `tidy` finishes the revocation and the rotation.
final class FaultDatabaseStoppedTests: XCTestCase {
    var servers: TemporaryFolder!
    var tool: FaultBinary!
    var port = 0
    var superuserPassword = ""
    let admin = "fault_admin"
    let adminPassword = "fault-admin-\(UUID().uuidString.prefix(8))"
    let appUser = "fault_app"
    let appPassword = "fault-app-initial-pw"

    static let postgresBin = "/usr/lib/postgresql/15/bin"

    override func setUpWithError() throws {
        try TestRequirement.program(Self.postgresBin + "/pg_ctl", from: "postgresql-15")
        try TestRequirement.program("/usr/bin/psql", from: "postgresql-client-15")
        tool = try FaultBinary("dbsecrets-fault-stop")
        servers = TemporaryFolder("dbsecrets-fault-pg")
        let status = try runLogged(PackageRoot.url.path + "/Tests/servers/start-postgres", [servers.path])
        guard status == 0 else { throw FaultSetupError("start-postgres failed: \(log)") }
        let env = try String(contentsOf: servers.url.appendingPathComponent("postgres.env"), encoding: .utf8)
        let values = Dictionary(env.split(separator: "\n").compactMap { line -> (String, String)? in
            guard let eq = line.firstIndex(of: "=") else { return nil }
            return (String(line[..<eq]), String(line[line.index(after: eq)...]))
        }, uniquingKeysWith: { _, last in last })
        port = try XCTUnwrap(values["DBSECRETS_TEST_POSTGRES_PORT"].flatMap(Int.init))
        superuserPassword = try XCTUnwrap(values["DBSECRETS_TEST_POSTGRES_PASSWORD"])
        try psql("CREATE ROLE \(admin) WITH LOGIN SUPERUSER PASSWORD '\(adminPassword)'")
        try psql("CREATE ROLE \(appUser) WITH LOGIN PASSWORD '\(appPassword)'")
    }

    var logURL: URL { servers.url.appendingPathComponent("fault-test.log") }
    var log: String { (try? String(contentsOf: logURL, encoding: .utf8)) ?? "" }

    func runLogged(_ executable: String, _ arguments: [String]) throws -> Int32 {
        try runLeavingServers(executable, arguments, log: logURL)
    }

    override func tearDown() {
        if let servers {
            _ = try? ProcessRunner.run(PackageRoot.url.path + "/Tests/servers/stop-all", [servers.path])
            servers.remove()
        }
        tool?.remove()
    }

    /// psql over TCP as `user` (the superuser by default), the independent witness of the database.
    @discardableResult
    func psql(_ sql: String, user: String = "postgres", password: String? = nil) throws -> (status: Int32, output: String) {
        let result = try ProcessRunner.run("/usr/bin/psql", ["-h", "127.0.0.1", "-p", String(port), "-U", user, "-d", "postgres",
                                                             "-w", "-Atqc", sql],
                                           environment: ["PGPASSWORD": password ?? superuserPassword, "PGCONNECT_TIMEOUT": "5",
                                                         "PATH": "/usr/bin:/bin"])
        return (result.status, result.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    func canLogIn(_ user: String, _ password: String) throws -> Bool { try psql("SELECT 1", user: user, password: password).status == 0 }

    var postmasterPID: pid_t {
        get throws {
            let text = try String(contentsOf: servers.url.appendingPathComponent("postgres/data/postmaster.pid"), encoding: .utf8)
            return try XCTUnwrap(text.split(separator: "\n").first.flatMap { pid_t($0) })
        }
    }

    /// A fast shutdown by pid (SIGINT to the postmaster), waiting until it is gone.
    func stopServer() throws {
        let pid = try postmasterPID
        XCTAssertEqual(kill(pid, SIGINT), 0)
        for _ in 0..<100 where kill(pid, 0) == 0 { usleep(50_000) }
        XCTAssertNotEqual(kill(pid, 0), 0, "postgres stopped")
    }

    /// The same data directory, port and options as `start-postgres`, started again.
    func restartServer() throws {
        let base = servers.url.appendingPathComponent("postgres").path
        let options = "-c listen_addresses=127.0.0.1 -p \(port) -k \(base)/socket -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        var command = [Self.postgresBin + "/pg_ctl", "-D", base + "/data", "-l", base + "/server.log", "-w", "-t", "30", "start", "-o", options]
        if getuid() == 0 { command = ["/usr/sbin/runuser", "-u", "postgres", "--"] + command }
        XCTAssertEqual(try runLogged(command[0], Array(command.dropFirst())), 0, log)
        // stop-all finds the new postmaster too.
        let pidFile = servers.url.appendingPathComponent("postgres.pid")
        let handle = try FileHandle(forWritingTo: pidFile)
        handle.seekToEndOfFile()
        handle.write(Data("\(try postmasterPID)\n".utf8))
        try handle.close()
    }

    /// What the clock would do: make both retries due now instead of waiting out their back-off.
    func makeRetriesDueNow(leaseID: String) throws {
        try tool.makeLeaseRetryDueNow(leaseID)
        var role = try tool.stateObject("static-roles/st.json")
        role["retry_at"] = Timestamp.format(Date().addingTimeInterval(-60))
        try JSONSerialization.data(withJSONObject: role).write(to: tool.state.appendingPathComponent("static-roles/st.json"))
    }

    func testADatabaseStoppedMidRunFailsCleanlyAndTidyFinishesTheWorkOnceItIsBack() throws {
        let address = "127.0.0.1:\(port)"
        var r = try tool.run(["write", "database/config/pg", "plugin_name=postgresql-database-plugin",
                              "connection_url=postgresql://{{username}}:{{password}}@\(address)/postgres?sslmode=disable&connect_timeout=2",
                              "username=\(admin)", "password=-", "allowed_roles=*"], stdin: adminPassword)
        XCTAssertEqual(r.status, 0, r.stderr)
        r = try tool.run("write", "database/roles/dyn", "db_name=pg", "default_ttl=1h",
                         #"creation_statements=CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}'"#)
        XCTAssertEqual(r.status, 0, r.stderr)
        r = try tool.run("write", "database/static-roles/st", "db_name=pg", "username=\(appUser)", "rotation_period=1h")
        XCTAssertEqual(r.status, 0, r.stderr)
        let staticPassword = try XCTUnwrap(try tool.stateObject("static-roles/st.json")["password"] as? String)
        r = try tool.run("read", "-format=json", "database/creds/dyn")
        XCTAssertEqual(r.status, 0, r.stderr)
        let issued = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let leaseID = try XCTUnwrap(issued["lease_id"] as? String)
        let data = try XCTUnwrap(issued["data"] as? [String: Any])
        let user = try XCTUnwrap(data["username"] as? String), userPassword = try XCTUnwrap(data["password"] as? String)
        XCTAssertTrue(try canLogIn(user, userPassword))
        let secrets = [adminPassword, staticPassword, userPassword, superuserPassword]

        try stopServer()

        // No new user, no lease, no intent.
        r = try tool.run("read", "database/creds/dyn")
        assertCleanDatabaseFailure(r, prefix: "Error reading database/creds/dyn: ", address: address, secrets: secrets, within: 3)
        XCTAssertEqual(try tool.leases().map { $0["id"] as? String }, [leaseID])
        XCTAssertFalse(tool.stateFiles().contains { $0.hasPrefix("intents/creds-") }, "\(tool.stateFiles())")

        // The static role keeps its password and records the failure.
        r = try tool.run("write", "-f", "database/rotate-role/st")
        assertCleanDatabaseFailure(r, prefix: "Error writing data to database/rotate-role/st: ", address: address, secrets: secrets, within: 3)
        let role = try tool.stateObject("static-roles/st.json")
        XCTAssertEqual(role["password"] as? String, staticPassword)
        XCTAssertTrue((role["last_error"] as? String ?? "").contains(address), "\(role)")
        XCTAssertEqual(role["failed_attempts"] as? Int, 1)

        // The lease stays, with the error, for tidy to retry.
        r = try tool.run("lease", "revoke", leaseID)
        assertCleanDatabaseFailure(r, prefix: "Error revoking lease \(leaseID): ", address: address, secrets: secrets, within: 3)
        let lease = try XCTUnwrap(try tool.leases().first)
        XCTAssertEqual(lease["revoke_attempts"] as? Int, 1)
        XCTAssertTrue((lease["last_error"] as? String ?? "").contains(address), "\(lease)")
        XCTAssertFalse(tool.stateFiles().contains { $0.contains(".tmp-") }, "no temp file left: \(tool.stateFiles())")

        // A pass while it is still down fails the same way and keeps everything for the next.
        try makeRetriesDueNow(leaseID: leaseID)
        r = try tool.run("tidy")
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertTrue(r.stderr.contains("lease revocation failed: \(leaseID)"), r.stderr)
        XCTAssertTrue(r.stderr.contains("static role rotation failed: st"), r.stderr)
        for secret in secrets { XCTAssertFalse((r.stdout + r.stderr).contains(secret)) }
        XCTAssertEqual(try tool.leases().count, 1)

        try restartServer()
        XCTAssertTrue(try canLogIn(appUser, staticPassword), "the database still has the old static password")
        try makeRetriesDueNow(leaseID: leaseID)
        r = try tool.run("tidy")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("lease revoked: \(leaseID) (user \(user))"), r.stdout)
        XCTAssertTrue(r.stdout.contains("static role rotated: st"), r.stdout)
        XCTAssertEqual(try tool.leases().count, 0)
        XCTAssertFalse(try canLogIn(user, userPassword))
        XCTAssertEqual(try psql("SELECT count(*) FROM pg_roles WHERE rolname = '\(user)'").output, "0")
        let rotated = try tool.stateObject("static-roles/st.json")
        let newPassword = try XCTUnwrap(rotated["password"] as? String)
        XCTAssertNotEqual(newPassword, staticPassword)
        XCTAssertNil(rotated["last_error"] as? String)
        XCTAssertTrue(try canLogIn(appUser, newPassword))
        XCTAssertFalse(try canLogIn(appUser, staticPassword))
        XCTAssertEqual(tool.stateFiles().filter { $0.hasPrefix("intents/") }, [], "every intent settled")
    }
}
