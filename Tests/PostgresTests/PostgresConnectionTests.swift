import Foundation
@testable import PostgresPlugin
import TestSupport
import XCTest

/// The wire client against a real PostgreSQL 15 (Tests/servers/start-postgres).
final class PostgresConnectionTests: XCTestCase {
    private var server: PostgresTestServer!

    override func setUpWithError() throws {
        server = try PostgresTestServer.fromEnvironment()
    }

    private func configuration(user: String? = nil, password: String? = nil,
                               host: String? = nil) -> PostgresConnection.Configuration {
        PostgresConnection.Configuration(host: host ?? server.host, port: server.port, user: user ?? server.user,
                                         password: password ?? server.password, database: server.database)
    }

    func testLogsInWithSCRAMAndRunsAQuery() throws {
        let connection = try PostgresConnection.connect(configuration())
        defer { connection.close() }
        let result = try connection.simpleQuery("SELECT current_user, 1 + 1 AS two, NULL::text AS nothing")
        XCTAssertEqual(result.columns, ["current_user", "two", "nothing"])
        XCTAssertEqual(result.rows.first?[0], server.user)
        XCTAssertEqual(result.rows.first?[1], "2")
        XCTAssertEqual(result.rows.first?[2], .some(nil))
        XCTAssertEqual(connection.serverParameters["server_version"]?.hasPrefix("15"), true)
    }

    func testReportsTransactionStatus() throws {
        let connection = try PostgresConnection.connect(configuration())
        defer { connection.close() }
        XCTAssertEqual(connection.transactionStatus, .idle)
        try connection.simpleQuery("BEGIN")
        XCTAssertEqual(connection.transactionStatus, .inTransaction)
        XCTAssertThrowsError(try connection.simpleQuery("SELECT 1/0"))
        XCTAssertEqual(connection.transactionStatus, .failedTransaction)
        try connection.simpleQuery("ROLLBACK")
        XCTAssertEqual(connection.transactionStatus, .idle)
    }

    func testSurfacesSeveritySQLStateAndMessage() throws {
        let connection = try PostgresConnection.connect(configuration())
        defer { connection.close() }
        XCTAssertThrowsError(try connection.simpleQuery("ALTER ROLE \"nobody-here\" VALID UNTIL 'infinity'")) { error in
            let error = error as? PostgresClientError
            XCTAssertEqual(error?.kind, .server)
            XCTAssertEqual(error?.serverError?.sqlState, "42704")
            XCTAssertEqual(error?.serverError?.severity, "ERROR")
            XCTAssertEqual(error?.message, #"ERROR: role "nobody-here" does not exist (SQLSTATE 42704)"#)
        }
        // The connection is still usable after a statement error.
        XCTAssertEqual(try connection.simpleQuery("SELECT 'still here'").rows, [["still here"]])
    }

    func testCollectsNotices() throws {
        let connection = try PostgresConnection.connect(configuration())
        defer { connection.close() }
        try connection.simpleQuery("DROP ROLE IF EXISTS \"never-existed\"")
        XCTAssertEqual(connection.notices.last?.sqlState, "00000")
        XCTAssertEqual(connection.notices.last?.severity, "NOTICE")
    }

    func testAWrongPasswordIsRefusedWithSQLState28P01AndIsNotEchoed() {
        XCTAssertThrowsError(try PostgresConnection.connect(configuration(password: "wrong-password-xyz"))) { error in
            let error = error as? PostgresClientError
            XCTAssertEqual(error?.kind, .authentication)
            XCTAssertEqual(error?.serverError?.sqlState, "28P01")
            XCTAssertFalse(error?.message.contains("wrong-password-xyz") ?? true)
            XCTAssertTrue(error?.message.contains("\(server.host):\(server.port)") ?? false, error?.message ?? "")
        }
    }

    func testLogsInWithMD5AndCleartextPasswords() throws {
        let admin = try PostgresConnection.connect(configuration())
        defer { admin.close() }
        // pg_hba.conf of the test server sends these two users to md5 and password authentication.
        try admin.simpleQuery("DROP ROLE IF EXISTS dbsecrets_md5_user; DROP ROLE IF EXISTS dbsecrets_cleartext_user")
        try admin.simpleQuery("SET password_encryption = 'md5'; CREATE ROLE dbsecrets_md5_user LOGIN PASSWORD 'md5-pw'")
        try admin.simpleQuery("RESET password_encryption; CREATE ROLE dbsecrets_cleartext_user LOGIN PASSWORD 'clear-pw'")
        defer { _ = try? admin.simpleQuery("DROP ROLE dbsecrets_md5_user; DROP ROLE dbsecrets_cleartext_user") }

        for (user, password) in [("dbsecrets_md5_user", "md5-pw"), ("dbsecrets_cleartext_user", "clear-pw")] {
            let connection = try PostgresConnection.connect(configuration(user: user, password: password))
            XCTAssertEqual(try connection.simpleQuery("SELECT current_user").rows, [[user]])
            connection.close()
            XCTAssertThrowsError(try PostgresConnection.connect(configuration(user: user, password: "nope")))
        }
    }

    func testConnectsThroughTheUnixSocket() throws {
        guard !server.socketDirectory.isEmpty else { throw TestRequirement.missing("DBSECRETS_TEST_POSTGRES_SOCKET_DIR is not set") }
        let connection = try PostgresConnection.connect(configuration(host: server.socketDirectory))
        defer { connection.close() }
        XCTAssertEqual(try connection.simpleQuery("SELECT 1").rows, [["1"]])
    }

    func testAClosedPortFailsFastNamingHostAndPort() throws {
        let port = try SilentListener.unusedPort()
        let started = Date()
        var settings = configuration()
        settings.port = port
        settings.password = "secret-password-abc"
        XCTAssertThrowsError(try PostgresConnection.connect(settings)) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("127.0.0.1:\(port)"), message)
            XCTAssertFalse(message.contains("secret-password-abc"), message)
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 2)
    }

    func testAServerThatNeverAnswersTimesOut() throws {
        let listener = try SilentListener()
        defer { listener.close() }
        var settings = configuration()
        settings.port = listener.port
        settings.connectTimeout = 0.5
        let started = Date()
        XCTAssertThrowsError(try PostgresConnection.connect(settings)) { error in
            let message = "\(error)"
            XCTAssertEqual((error as? PostgresClientError)?.kind, .timeout)
            XCTAssertTrue(message.contains("127.0.0.1:\(listener.port)"), message)
            XCTAssertTrue(message.contains("timed out"), message)
        }
        let elapsed = Date().timeIntervalSince(started)
        XCTAssertGreaterThanOrEqual(elapsed, 0.45)
        XCTAssertLessThan(elapsed, 2)
    }

    /// A host that never answers a connect, made on loopback (tests send nothing off this
    /// machine): a listener whose accept queue is full drops further SYNs, so connect hangs.
    func testAHostThatNeverAnswersAConnectFailsWithinTheConnectTimeout() throws {
        let listener = try SilentListener(backlog: 0)
        var fillers: [BlockingSocket] = []
        defer { fillers.forEach { $0.close() } }
        // Fill the accept queue until a connect no longer completes.
        for _ in 0..<8 {
            guard let socket = try? BlockingSocket.connect(host: "127.0.0.1", port: listener.port, timeout: 0.2) else { break }
            fillers.append(socket)
        }
        var settings = configuration(host: "127.0.0.1")
        settings.port = listener.port
        settings.connectTimeout = 0.5
        let started = Date()
        XCTAssertThrowsError(try PostgresConnection.connect(settings)) { error in
            XCTAssertTrue("\(error)".contains("127.0.0.1:\(listener.port)"), "\(error)")
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 2)
    }
}
