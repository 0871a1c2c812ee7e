import Foundation
import TestSupport
import XCTest

/// A Redis of the test's own stopped mid-session and started again with the same ACL file: the
/// users dbsecrets created survive through `persistence_mode=ACLSAVE`, a revocation that failed
/// while Redis was down is kept, and `tidy` finishes it once Redis is back.
final class FaultRedisStoppedTests: XCTestCase {
    var servers: TemporaryFolder!
    var tool: FaultBinary!
    var values: [String: String] = [:]
    var port: Int { Int(values["DBSECRETS_TEST_REDIS_PORT"] ?? "") ?? 0 }
    var home: String { servers.url.appendingPathComponent("redis").path }

    override func setUpWithError() throws {
        try TestRequirement.program("/usr/bin/redis-server", from: "redis-server")
        tool = try FaultBinary("dbsecrets-fault-redis")
        servers = TemporaryFolder("dbsecrets-fault-redis-server")
        let log = servers.url.appendingPathComponent("start.log")
        guard try runLeavingServers(PackageRoot.url.path + "/Tests/servers/start-redis", [servers.path], log: log) == 0 else {
            throw FaultSetupError("start-redis failed: \((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
        }
        values = try serverEnvironment(servers.url.appendingPathComponent("redis.env"))
    }

    override func tearDown() {
        if let servers {
            _ = try? ProcessRunner.run(PackageRoot.url.path + "/Tests/servers/stop-all", [servers.path])
            servers.remove()
        }
        tool?.remove()
    }

    var serverPID: pid_t {
        get throws { try XCTUnwrap(pid_t(String(contentsOfFile: home + "/redis-server.pid", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines))) }
    }

    func redisCLI(_ arguments: [String]) throws -> String {
        try ProcessRunner.run("/usr/bin/redis-cli", ["-h", "127.0.0.1", "-p", String(port), "--user", values["DBSECRETS_TEST_REDIS_USERNAME"] ?? "",
                                                     "--pass", values["DBSECRETS_TEST_REDIS_PASSWORD"] ?? "", "--no-auth-warning"] + arguments).stdout
    }

    func testARedisStoppedMidRunKeepsTheLeaseAndTidyRevokesItOnceBack() throws {
        let address = "127.0.0.1:\(port)"
        let adminPassword = try XCTUnwrap(values["DBSECRETS_TEST_REDIS_PASSWORD"])
        var r = try tool.run(["write", "database/config/rd", "plugin_name=redis-database-plugin", "host=127.0.0.1", "port=\(port)",
                              "username=\(values["DBSECRETS_TEST_REDIS_USERNAME"] ?? "")", "password=-", "connect_timeout=2s",
                              "persistence_mode=ACLSAVE", "allowed_roles=*"], stdin: adminPassword)
        XCTAssertEqual(r.status, 0, r.stderr)
        r = try tool.run("write", "database/roles/cache", "db_name=rd", "default_ttl=1h", #"creation_statements=["~app:*", "+get"]"#)
        XCTAssertEqual(r.status, 0, r.stderr)
        r = try tool.run("read", "-format=json", "database/creds/cache")
        XCTAssertEqual(r.status, 0, r.stderr)
        let issued = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let leaseID = try XCTUnwrap(issued["lease_id"] as? String)
        let data = try XCTUnwrap(issued["data"] as? [String: Any])
        let user = try XCTUnwrap(data["username"] as? String), userPassword = try XCTUnwrap(data["password"] as? String)
        XCTAssertTrue(try redisCLI(["ACL", "USERS"]).contains(user))

        let pid = try serverPID
        XCTAssertEqual(kill(pid, SIGTERM), 0)
        for _ in 0..<100 where kill(pid, 0) == 0 { usleep(50_000) }
        XCTAssertNotEqual(kill(pid, 0), 0, "redis stopped")

        let secrets = [adminPassword, userPassword]
        r = try tool.run("read", "database/creds/cache")
        assertCleanDatabaseFailure(r, prefix: "Error reading database/creds/cache: ", address: address, secrets: secrets, within: 3)
        XCTAssertEqual(try tool.leases().map { $0["id"] as? String }, [leaseID], "no second lease")
        r = try tool.run("lease", "revoke", leaseID)
        assertCleanDatabaseFailure(r, prefix: "Error revoking lease \(leaseID): ", address: address, secrets: secrets, within: 3)
        let kept = try XCTUnwrap(try tool.leases().first)
        XCTAssertEqual(kept["revoke_attempts"] as? Int, 1)
        XCTAssertTrue((kept["last_error"] as? String ?? "").contains(address), "\(kept)")

        // The same server again: same port, same ACL file (which ACL SAVE kept the user in).
        let restarted = try runLeavingServers("/usr/bin/redis-server", [
            "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", home,
            "--aclfile", home + "/users.acl", "--daemonize", "yes", "--pidfile", home + "/redis-server.pid",
            "--logfile", home + "/redis-server.log",
        ], log: servers.url.appendingPathComponent("start.log"))
        XCTAssertEqual(restarted, 0)
        var users = ""
        for _ in 0..<50 {
            users = (try? redisCLI(["ACL", "USERS"])) ?? ""
            if users.contains("vault-admin") { break }
            usleep(100_000)
        }
        try "\(try serverPID)\n".appendLine(to: servers.url.appendingPathComponent("redis.pid"))
        XCTAssertTrue(users.contains(user), "the user survived the restart: \(users)")

        try tool.makeLeaseRetryDueNow(leaseID)
        r = try tool.run("tidy")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "lease revoked: \(leaseID) (user \(user))\n")
        XCTAssertEqual(try tool.leases().count, 0)
        XCTAssertFalse(try redisCLI(["ACL", "USERS"]).contains(user))
        XCTAssertFalse(try String(contentsOfFile: home + "/users.acl", encoding: .utf8).contains(user), "and the ACL file forgot it")
    }
}

private extension String {
    func appendLine(to file: URL) throws {
        let handle = try FileHandle(forWritingTo: file)
        defer { try? handle.close() }
        handle.seekToEndOfFile()
        handle.write(Data(utf8))
    }
}
