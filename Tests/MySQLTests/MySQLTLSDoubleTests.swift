import Foundation
import TestSupport
import XCTest
@testable import MySQLPlugin

/// caching_sha2_password's full authentication and mysql_clear_password send the password
/// itself: over TLS they work, without TLS dbsecrets sends nothing. MariaDB has neither exchange,
/// so a MySQL 8 double (Tests/servers/mysql8-tls-double) plays them, proved first with PyMySQL.
final class MySQLTLSDoubleTests: XCTestCase {
    private var tls: TLSTestMaterial!
    private let user = "app"
    private let password = "Double-Passw0rd-\(UUID().uuidString.prefix(6))"

    override func setUpWithError() throws {
        tls = try TLSTestMaterial.fromEnvironment()
    }

    private func double(_ mode: String) throws -> HostileServer {
        let env = ProcessInfo.processInfo.environment
        let server = try HostileServer(script: "mysql8-tls-double", before: [mode],
                                       after: [env["DBSECRETS_TEST_TLS_SERVER_CERT"] ?? "", env["DBSECRETS_TEST_TLS_SERVER_KEY"] ?? "",
                                               user, password])
        addTeardownBlock { server.stop() }
        return server
    }

    /// PyMySQL, an independent client, logs in to the double over TLS.
    private func assertPyMySQLLogsIn(_ server: HostileServer, file: StaticString = #filePath, line: UInt = #line) throws {
        let script = "import pymysql, sys; pymysql.connect(host='127.0.0.1', port=\(server.port), user='\(user)', "
            + "password=sys.stdin.read(), ssl={'ca': '\(tls.caFile)'}, connect_timeout=5).close(); print('ok')"
        let result = try ProcessRunner.run("/usr/bin/env", ["python3", "-c", script], stdin: password, timeout: 20)
        XCTAssertEqual(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "ok", result.stderr, file: file, line: line)
    }

    private func configuration(_ server: HostileServer, tls useTLS: Bool) -> MySQLConnection.Configuration {
        MySQLConnection.Configuration(
            address: .tcp(host: "127.0.0.1", port: server.port), username: user, password: password, connectTimeout: 5,
            security: useTLS ? .init(required: true, tls: .init(verification: .chainAndHost, trustRoots: .pem(Array(tls.ca.utf8)),
                                                                 serverName: "127.0.0.1")) : nil)
    }

    func testFullAuthenticationSendsThePasswordOverTLSOnly() throws {
        let server = try double("full-auth")
        try assertPyMySQLLogsIn(server)
        let connection = try MySQLConnection.connect(configuration(server, tls: true))
        XCTAssertEqual(connection.authPluginName, "caching_sha2_password")
        XCTAssertNotNil(connection.tlsVersion)
        connection.close()
        XCTAssertThrowsError(try MySQLConnection.connect(configuration(server, tls: false))) { error in
            XCTAssertTrue("\(error)".contains("caching_sha2_password full authentication"), "\(error)")
        }
        XCTAssertFalse(server.received(password), "the password never crossed in clear text")
    }

    func testClearPasswordIsSentOverTLSOnly() throws {
        let server = try double("clear-password")
        try assertPyMySQLLogsIn(server)
        let connection = try MySQLConnection.connect(configuration(server, tls: true))
        XCTAssertEqual(connection.authPluginName, "mysql_clear_password")
        connection.close()
        XCTAssertThrowsError(try MySQLConnection.connect(configuration(server, tls: false))) { error in
            XCTAssertTrue("\(error)".contains("mysql_clear_password"), "\(error)")
        }
        XCTAssertFalse(server.received(password))
    }
}
