import Foundation
import TestSupport
import XCTest

/// `agent` stops within a second or two of SIGTERM even while a database hangs in the middle of a
/// statement (it used to wait out the 30 s query timeout), and the item it was doing stays due.
final class AgentStopTests: XCTestCase {
    func testSIGTERMEndsTheAgentWhileADatabaseHangsAndTheLeaseStaysDue() throws {
        let tool = try FaultBinary("dbsecrets-agent-stop")
        defer { tool.remove() }
        let server = try PostgresTestServer.fromEnvironment()
        let hung = try HostileServer("postgres", "hang-queries")
        defer { hung.stop() }

        // A lease made against the real server, then the connection pointed at one that hangs.
        let url = "postgresql://{{username}}:{{password}}@\(server.host):\(server.port)/\(server.database)?sslmode=disable"
        XCTAssertEqual(try tool.run("write", "database/config/pg", "plugin_name=postgresql-database-plugin", "connection_url=\(url)",
                                    "username=\(server.user)", "password=-", "allowed_roles=*", stdin: server.password).status, 0)
        XCTAssertEqual(try tool.run("write", "database/roles/r", "db_name=pg", "default_ttl=2s", "max_ttl=1h",
                                    "creation_statements=CREATE ROLE \"{{name}}\" LOGIN PASSWORD '{{password}}';").status, 0)
        let creds = try tool.run("read", "-format=json", "database/creds/r")
        XCTAssertEqual(creds.status, 0, creds.stderr)
        let username = try XCTUnwrap(((try JSONSerialization.jsonObject(with: Data(creds.stdout.utf8)) as? [String: Any])?["data"]
                                      as? [String: Any])?["username"] as? String)
        defer { _ = try? server.psql(user: server.user, password: server.password, "DROP ROLE IF EXISTS \"\(username)\"") }
        let hungURL = "postgresql://{{username}}:{{password}}@127.0.0.1:\(hung.port)/db?sslmode=disable"
        XCTAssertEqual(try tool.run("write", "database/config/pg", "connection_url=\(hungURL)", "verify_connection=false").status, 0)
        sleep(3)

        let agent = Process()
        agent.executableURL = PackageRoot.binary
        agent.arguments = ["agent", "-interval=1s"]
        agent.environment = ["DBSECRETS_STATE_DIR": tool.state.path, "PATH": "/usr/bin:/bin", "HOME": tool.folder.path]
        agent.standardInput = FileHandle.nullDevice
        agent.standardOutput = FileHandle.nullDevice
        agent.standardError = FileHandle.nullDevice
        try agent.run()
        defer { if agent.isRunning { kill(agent.processIdentifier, SIGKILL) } }
        // Wait until the revocation is stuck on the hung server (its first query has arrived).
        let stuckBy = Date().addingTimeInterval(15)
        while !hung.received("pg_roles") && Date() < stuckBy { usleep(50_000) }
        XCTAssertTrue(hung.received("pg_roles"), "the agent reached the hung database")
        usleep(300_000)

        let signalled = Date()
        kill(agent.processIdentifier, SIGTERM)
        while agent.isRunning && Date().timeIntervalSince(signalled) < 10 { usleep(20_000) }
        let took = Date().timeIntervalSince(signalled)
        XCTAssertFalse(agent.isRunning)
        XCTAssertLessThan(took, 2, "the agent took \(took)s to stop")
        agent.waitUntilExit()
        XCTAssertEqual(agent.terminationStatus, 0)

        // The lease is still there, to be revoked by a later pass.
        let leases = try tool.leases()
        XCTAssertEqual(leases.count, 1)
        XCTAssertEqual(leases.first?["username"] as? String, username)
    }
}
