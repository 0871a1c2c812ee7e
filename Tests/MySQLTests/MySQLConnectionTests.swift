import Foundation
import TestSupport
import XCTest
@testable import MySQLPlugin

/// Our wire client against the real MariaDB, and against sockets that never answer.
final class MySQLConnectionTests: XCTestCase {
    private func adminConfiguration(_ server: MariaDBTestServer, password: String? = nil,
                                    database: String? = nil) -> MySQLConnection.Configuration {
        MySQLConnection.Configuration(address: .tcp(host: server.host, port: server.port), username: server.adminUser,
                                      password: password ?? server.adminPassword, database: database,
                                      connectTimeout: 2, readTimeout: 5, writeTimeout: 5)
    }

    func testLogsInWithNativePasswordAndReadsTextColumns() throws {
        let server = try MariaDBTestServer.fromEnvironment()
        let conn = try MySQLConnection.connect(adminConfiguration(server))
        defer { conn.close() }
        XCTAssertEqual(conn.authPluginName, "mysql_native_password")
        XCTAssertTrue(conn.serverVersion.contains("MariaDB"), conn.serverVersion)
        let rows = try conn.query("SELECT 1 AS one, NULL AS nothing, 'text' AS word")
        XCTAssertEqual(rows.columns, ["one", "nothing", "word"])
        XCTAssertEqual(rows.rows, [["1", nil, "text"]])
        XCTAssertEqual(try conn.query("SELECT name FROM dbsecrets_test.items WHERE id = 1").rows, [["first"]])
    }

    func testDatabaseFromTheDSNIsSelected() throws {
        let server = try MariaDBTestServer.fromEnvironment()
        let conn = try MySQLConnection.connect(adminConfiguration(server, database: "dbsecrets_test"))
        defer { conn.close() }
        XCTAssertEqual(try conn.query("SELECT DATABASE()").rows, [["dbsecrets_test"]])
    }

    func testWrongPasswordIsAccessDeniedAndNeverEchoed() throws {
        let server = try MariaDBTestServer.fromEnvironment()
        XCTAssertThrowsError(try MySQLConnection.connect(adminConfiguration(server, password: "not-the-Password-42"))) { error in
            let error = error as? MySQLError
            XCTAssertEqual(error?.code, 1045)
            XCTAssertEqual(error?.sqlState, "28000")
            XCTAssertTrue(error?.description.hasPrefix("Error 1045 (28000): Access denied for user 'vaultadmin'") == true,
                          String(describing: error))
            XCTAssertFalse(error?.description.contains("not-the-Password-42") == true)
        }
    }

    func testServerErrorsCarryCodeAndSQLStateAndTheConnectionSurvives() throws {
        let server = try MariaDBTestServer.fromEnvironment()
        let conn = try MySQLConnection.connect(adminConfiguration(server))
        defer { conn.close() }
        XCTAssertThrowsError(try conn.execute("SELECT * FROM dbsecrets_test.no_such_table")) { error in
            let error = error as? MySQLError
            XCTAssertEqual(error?.kind, .server)
            XCTAssertEqual(error?.code, 1146)
            XCTAssertEqual(error?.sqlState, "42S02")
            XCTAssertEqual(error?.description, "Error 1146 (42S02): Table 'dbsecrets_test.no_such_table' doesn't exist")
        }
        XCTAssertThrowsError(try conn.execute("SELEC 1")) { error in
            XCTAssertEqual((error as? MySQLError)?.code, 1064)
            XCTAssertEqual((error as? MySQLError)?.sqlState, "42000")
        }
        XCTAssertEqual(try conn.query("SELECT 2").rows, [["2"]])
        if case .ok(let ok) = try conn.execute("DO 1") { XCTAssertEqual(ok.affectedRows, 0) } else { XCTFail("expected OK") }
    }

    func testUnixSocketLogin() throws {
        let server = try MariaDBTestServer.fromEnvironment()
        guard let path = ProcessInfo.processInfo.environment["DBSECRETS_TEST_MARIADB_SOCKET"] else {
            throw TestRequirement.missing("DBSECRETS_TEST_MARIADB_SOCKET is not set")
        }
        var configuration = adminConfiguration(server)
        configuration.address = .unix(path: path)
        let conn = try MySQLConnection.connect(configuration)
        defer { conn.close() }
        XCTAssertEqual(try conn.query("SELECT 3").rows, [["3"]])
    }

    func testRefusedPortFailsFastNamingHostAndPort() throws {
        let port = try SilentListener.unusedPort()
        let start = Date()
        XCTAssertThrowsError(try MySQLConnection.connect(.init(address: .tcp(host: "127.0.0.1", port: port),
                                                               username: "u", password: "pw-Secret-1",
                                                               connectTimeout: 2))) { error in
            XCTAssertEqual((error as? MySQLError)?.kind, .connection)
            XCTAssertTrue("\(error)".contains("127.0.0.1:\(port)"), "\(error)")
            XCTAssertFalse("\(error)".contains("pw-Secret-1"))
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 2)
    }

    func testHungServerTimesOutWithinTheReadTimeout() throws {
        // Accepts TCP connections (the kernel completes them) but never sends a handshake.
        let listener = try SilentListener()
        defer { listener.close() }
        let start = Date()
        XCTAssertThrowsError(try MySQLConnection.connect(.init(address: .tcp(host: "127.0.0.1", port: listener.port),
                                                               username: "u", password: "pw-Secret-1",
                                                               connectTimeout: 1, readTimeout: 0.5))) { error in
            XCTAssertEqual("\(error)", "timed out after 0.5s (readTimeout) waiting for 127.0.0.1:\(listener.port) to answer")
        }
        let elapsed = Date().timeIntervalSince(start)
        XCTAssertGreaterThanOrEqual(elapsed, 0.45)
        XCTAssertLessThan(elapsed, 2)
    }

    func testSlowQueryTimesOutWithinTheReadTimeout() throws {
        let server = try MariaDBTestServer.fromEnvironment()
        var configuration = adminConfiguration(server)
        configuration.readTimeout = 0.5
        let conn = try MySQLConnection.connect(configuration)
        defer { conn.close() }
        let start = Date()
        XCTAssertThrowsError(try conn.execute("SELECT SLEEP(3)")) { error in
            XCTAssertEqual("\(error)", "timed out after 0.5s (readTimeout) waiting for \(server.host):\(server.port) to answer")
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 2)
    }

    func testUnreachableAddressFailsWithinTheConnectTimeout() throws {
        // TEST-NET-1 is never routed: either the SYN goes unanswered (timeout) or the network says unreachable.
        let start = Date()
        XCTAssertThrowsError(try MySQLConnection.connect(.init(address: .tcp(host: "192.0.2.1", port: 3306),
                                                               username: "u", password: "p", connectTimeout: 0.5))) { error in
            XCTAssertTrue("\(error)".contains("192.0.2.1:3306"), "\(error)")
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 2)
    }
}
