import Foundation
import TestSupport
import XCTest

/// The real binary against hostile servers on loopback (Tests/servers/hostile-server): servers that
/// ask for the password in a form an impostor could use, skip or forge SCRAM's proof, refuse TLS
/// under `require`, or flood, bloat and drip. Each run ends within its deadline with a clear
/// one-line error, in bounded memory, and no secret reaches the server.
final class HostileServerTests: XCTestCase {
    private var tool: FaultBinary!
    private let rootPassword = "Root-Secret-\(UUID().uuidString.prefix(8))"
    /// The debug binary runs in ~30 MiB; the floods this guards against reached gigabytes.
    private let memoryLimitKiB = 96 * 1024

    override func setUpWithError() throws {
        tool = try FaultBinary("dbsecrets-hostile")
    }

    override func tearDown() { tool?.remove() }

    struct Measured {
        var run: FaultBinary.Run
        var peakKiB: Int
    }

    /// Runs the binary under GNU time for its peak resident set.
    private func measured(_ args: [String], stdin: String? = nil) throws -> Measured {
        let memory = tool.folder.url.appendingPathComponent("peak-\(UUID().uuidString)")
        let started = Date()
        let result = try ProcessRunner.run("/usr/bin/time", ["-f", "%M", "-o", memory.path, PackageRoot.binary.path] + args,
                                           environment: ["DBSECRETS_STATE_DIR": tool.state.path, "PATH": "/usr/bin:/bin",
                                                         "HOME": tool.folder.path], stdin: stdin, timeout: 30)
        let peak = (try? String(contentsOf: memory, encoding: .utf8))?.split(separator: "\n").last.flatMap { Int($0) } ?? 0
        return Measured(run: .init(status: result.status, stdout: result.stdout, stderr: result.stderr,
                                   seconds: Date().timeIntervalSince(started)), peakKiB: peak)
    }

    private func assertBounded(_ m: Measured, within seconds: TimeInterval, says expected: String,
                               file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(m.run.status, 2, m.run.stderr, file: file, line: line)
        XCTAssertEqual(m.run.lines.count, 1, "one line: \(m.run.stderr)", file: file, line: line)
        XCTAssertTrue(m.run.stderr.contains(expected), m.run.stderr, file: file, line: line)
        XCTAssertFalse(m.run.stderr.contains(rootPassword), file: file, line: line)
        XCTAssertLessThan(m.run.seconds, seconds, "took \(m.run.seconds)s: \(m.run.stderr)", file: file, line: line)
        XCTAssertGreaterThan(m.peakKiB, 0, file: file, line: line)
        XCTAssertLessThan(m.peakKiB, memoryLimitKiB, "peak \(m.peakKiB) KiB", file: file, line: line)
    }

    // MARK: PostgreSQL

    private func writePostgres(_ server: HostileServer, query: String = "connect_timeout=2", _ extra: [String] = []) throws -> Measured {
        try measured(["write", "database/config/h", "plugin_name=postgresql-database-plugin",
                      "connection_url=postgresql://{{username}}:{{password}}@127.0.0.1:\(server.port)/db?\(query)",
                      "username=vault", "password=-", "allowed_roles=*"] + extra, stdin: rootPassword)
    }

    private func postgres(_ scenario: String) throws -> HostileServer {
        let server = try HostileServer("postgres", scenario)
        addTeardownBlock { server.stop() }
        return server
    }

    func testAClearTextPasswordRequestWithoutTLSIsRefusedUnderTheDefaultAndSCRAMOnly() throws {
        let server = try postgres("cleartext")
        assertBounded(try writePostgres(server), within: 4, says: "the password in clear text over a connection without TLS; refused")
        assertBounded(try writePostgres(server, ["password_authentication=scram-sha-256"]), within: 4,
                      says: "allows scram-sha-256")
        XCTAssertFalse(server.received(rootPassword))
    }

    func testAnMD5RequestWithoutTLSIsRefusedUnderTheDefaultAndSCRAMOnly() throws {
        let server = try postgres("md5")
        assertBounded(try writePostgres(server), within: 4, says: "an MD5 password hash over a connection without TLS; refused")
        assertBounded(try writePostgres(server, query: "connect_timeout=2&require_auth=scram-sha-256"), within: 4,
                      says: "allows scram-sha-256")
        XCTAssertFalse(server.received("md5"), "no MD5 response was sent")
        XCTAssertFalse(server.received(rootPassword))
    }

    func testALoginWithoutAuthenticationIsRefusedUnderSCRAMOnly() throws {
        let server = try postgres("trust")
        assertBounded(try writePostgres(server, ["password_authentication=scram-sha-256"]), within: 4,
                      says: "accepted the login without authentication; refused")
    }

    func testASkippedSCRAMFinalMessageGetsNoCredentials() throws {
        let server = try postgres("skip-scram-final")
        XCTAssertEqual(try writePostgres(server, ["verify_connection=false"]).run.status, 0)
        XCTAssertEqual(try tool.run("write", "database/roles/r", "db_name=h",
                                    "creation_statements=CREATE ROLE \"{{name}}\" LOGIN PASSWORD '{{password}}';").status, 0)
        let creds = try measured(["read", "database/creds/r"])
        assertBounded(creds, within: 4, says: "ended SCRAM-SHA-256 without its final message")
        XCTAssertFalse(server.received("CREATE ROLE"), "no statement, so no new password, reached the impostor")
        XCTAssertFalse(server.received(rootPassword))
        XCTAssertEqual(try tool.leases().count, 0)
    }

    func testAForgedServerSignatureIsRefused() throws {
        let server = try postgres("forged-signature")
        assertBounded(try writePostgres(server), within: 4, says: "server signature does not match")
    }

    func testARefusedSSLRequestUnderRequireNeverFallsBackToClearText() throws {
        let server = try postgres("refuse-ssl")
        assertBounded(try writePostgres(server, query: "connect_timeout=2&sslmode=require"), within: 4, says: "refused TLS")
        let received = server.received
        XCTAssertEqual(received.count, 8, "only the SSLRequest was sent")
    }

    func testBytesAfterTheSSLAnswerAreRefused() throws {
        let server = try postgres("ssl-then-data")
        assertBounded(try writePostgres(server, query: "connect_timeout=2&sslmode=require"), within: 4,
                      says: "sent unencrypted data after its answer to the SSLRequest")
    }

    func testANoticeFloodEndsAtTheConnectTimeoutInBoundedMemory() throws {
        assertBounded(try writePostgres(try postgres("notice-flood"), query: "connect_timeout=1"), within: 2.5, says: "timed out after 1s")
    }

    func testAHugeDeclaredLengthIsRefusedAtOnce() throws {
        assertBounded(try writePostgres(try postgres("huge-length")), within: 2, says: "more than the 4 MiB this client accepts")
    }

    func testAnEndlessFastStreamEndsAtTheConnectTimeout() throws {
        assertBounded(try writePostgres(try postgres("endless"), query: "connect_timeout=1"), within: 2.5, says: "timed out after 1s")
    }

    func testAOneByteDripEndsAtTheConnectTimeout() throws {
        assertBounded(try writePostgres(try postgres("drip"), query: "connect_timeout=1"), within: 2.5, says: "timed out after 1s")
    }

    // MARK: MySQL

    private func writeMySQL(_ scenario: String) throws -> (HostileServer, Measured) {
        let server = try HostileServer("mysql", scenario)
        addTeardownBlock { server.stop() }
        let m = try measured(["write", "database/config/m", "plugin_name=mysql-database-plugin",
                              "connection_url={{username}}:{{password}}@tcp(127.0.0.1:\(server.port))/?timeout=1s",
                              "username=vault", "password=-", "allowed_roles=*"], stdin: rootPassword)
        return (server, m)
    }

    func testMySQLEndlessMaximumSizePacketsAreRefused() throws {
        assertBounded(try writeMySQL("endless-packets").1, within: 3, says: "more than 4 MiB")
    }

    func testAMySQLGreetingDrippedAByteASecondEndsAtTheTimeout() throws {
        assertBounded(try writeMySQL("drip").1, within: 2.5, says: "timed out after 1s (timeout)")
    }

    func testMySQLClearPasswordAndFullAuthenticationWithoutTLSSendNoPassword() throws {
        for scenario in ["clear-password", "full-auth"] {
            let (server, m) = try writeMySQL(scenario)
            assertBounded(m, within: 4, says: "TLS")
            XCTAssertFalse(server.received(rootPassword), scenario)
        }
    }

    // MARK: Redis

    private func writeRedis(_ scenario: String) throws -> Measured {
        let server = try HostileServer("redis", scenario)
        addTeardownBlock { server.stop() }
        return try measured(["write", "database/config/r", "plugin_name=redis-database-plugin", "host=127.0.0.1",
                             "port=\(server.port)", "username=vault", "password=-", "connect_timeout=1s",
                             "statement_timeout=1s", "allowed_roles=*"], stdin: rootPassword)
    }

    func testARedisBulkStringOfHalfAGigabyteIsRefusedAtOnce() throws {
        assertBounded(try writeRedis("huge-bulk"), within: 2, says: "exceeds the 4194304 byte limit")
    }

    func testAnEndlessRedisLineIsRefused() throws {
        assertBounded(try writeRedis("endless-line"), within: 3, says: "line longer than")
    }

    func testARedisDripEndsAtTheTimeout() throws {
        assertBounded(try writeRedis("drip"), within: 2.5, says: "timed out after 1s")
    }

    func testALargeRedisArrayTrickledOneElementPerWriteIsParsedOnce() throws {
        let m = try writeRedis("trickle-array")
        XCTAssertLessThan(m.run.seconds, 3, m.run.stderr)
        XCTAssertLessThan(m.peakKiB, memoryLimitKiB)
    }
}
