import DBPlugin
import Foundation
import TestSupport
import XCTest
@testable import MySQLPlugin

/// TLS against the real MariaDB that accepts TLS only (start-mariadb-tls: require_secure_transport=ON,
/// a REQUIRE X509 user) and the plain one (start-mariadb, no TLS at all). The server certificate
/// names IP 127.0.0.1 only.
final class MySQLTLSTests: XCTestCase {
    private var server: TLSTestServer!
    private var tls: TLSTestMaterial!

    override func setUpWithError() throws {
        server = try TLSTestServer.fromEnvironment("DBSECRETS_TEST_MARIADB_TLS")
        tls = try TLSTestMaterial.fromEnvironment()
    }

    private func plugin(query: String = "", host: String = "127.0.0.1", port: Int? = nil, user: String? = nil,
                        password: String? = nil, _ extra: [String: JSONValue] = [:]) throws -> MySQLPlugin {
        var config: [String: JSONValue] = [
            "connection_url": .string("{{username}}:{{password}}@tcp(\(host):\(port ?? server.port))/\(query.isEmpty ? "" : "?" + query)"),
            "username": .string(user ?? server.user), "password": .string(password ?? server.password),
        ]
        config.merge(extra) { _, new in new }
        let plugin = MySQLPlugin()
        _ = try plugin.initialize(InitializeRequest(config: config, verifyConnection: true))
        addTeardownBlock { plugin.close() }
        return plugin
    }

    private func assertRefused(query: String = "", host: String = "127.0.0.1", port: Int? = nil, _ extra: [String: JSONValue] = [:],
                               contains expected: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try plugin(query: query, host: host, port: port, extra), file: file, line: line) { error in
            XCTAssertTrue("\(error)".contains(expected), "\(error)", file: file, line: line)
            XCTAssertFalse("\(error)".contains(server.password), file: file, line: line)
        }
    }

    /// Logs in with the TLS the fields resolve to and asks the server for the session's cipher.
    private func cipher(_ extra: [String: JSONValue], query: String = "") throws -> String {
        let dsn = try MySQLDSN(parsing: "\(server.user):\(server.password)@tcp(127.0.0.1:\(server.port))/\(query.isEmpty ? "" : "?" + query)")
        let security = try MySQLTransportSecurity.resolve(dsn, ConnectionConfig(extra))
        let connection = try MySQLConnection.connect(.init(address: dsn.address, username: dsn.username,
                                                           password: dsn.password, security: security))
        defer { connection.close() }
        XCTAssertNotNil(connection.tlsVersion)
        return try connection.query("SHOW STATUS LIKE 'Ssl_cipher'").rows.first?[1] ?? ""
    }

    func testTheCustomConfigurationOfVaultsFieldsVerifiesAndEncrypts() throws {
        XCTAssertFalse(try cipher(["tls_ca": .string(tls.ca)]).isEmpty)
        XCTAssertFalse(try cipher([:], query: "tls=skip-verify").isEmpty)
    }

    func testTLSTrueUsesTheSystemStoreAndRefusesATestCA() {
        assertRefused(query: "tls=true", contains: "certificate signed by unknown authority")
    }

    func testSkipVerifyAndPreferredEncryptWithoutChecking() throws {
        _ = try plugin(query: "tls=skip-verify", host: "localhost")
        _ = try plugin(query: "tls=preferred", host: "localhost")
    }

    func testTheWrongCAAndTheWrongHostAreRefused() {
        assertRefused(["tls_ca": .string(tls.otherCA)], contains: "certificate signed by unknown authority")
        assertRefused(host: "localhost", ["tls_ca": .string(tls.ca)], contains: "certificate is valid for 127.0.0.1, not localhost")
        assertRefused(["tls_ca": .string(tls.ca), "tls_server_name": "db.internal"],
                      contains: "certificate is valid for 127.0.0.1, not db.internal")
    }

    func testServerNameAndSkipVerifyApplyOnlyWithTheCustomConfiguration() throws {
        _ = try plugin(host: "localhost", ["tls_ca": .string(tls.ca), "tls_skip_verify": true])
        _ = try plugin(["tls_ca": .string(tls.otherCA), "tls_skip_verify": true])
        // Alone they change nothing: no TLS, which this server refuses.
        XCTAssertThrowsError(try plugin(["tls_server_name": "127.0.0.1", "tls_skip_verify": true]))
    }

    func testAClientCertificateLogsInTheX509User() throws {
        let plugin = try plugin(user: "dbsecrets_x509", password: "", ["tls_ca": .string(tls.ca),
                                                                     "tls_certificate_key": .string(tls.combined)])
        _ = plugin
        XCTAssertThrowsError(try self.plugin(user: "dbsecrets_x509", password: "", ["tls_ca": .string(tls.ca)]))
    }

    func testAServerWithoutTLSIsRefusedAndNeverUsedInClearText() throws {
        let plain = try MariaDBTestServer.fromEnvironment()
        for extra: [String: JSONValue] in [["tls_ca": .string(tls.ca)]] {
            XCTAssertThrowsError(try plugin(port: plain.port, user: plain.adminUser, password: plain.adminPassword, extra)) { error in
                XCTAssertTrue("\(error)".contains("does not offer TLS"), "\(error)")
            }
        }
        for query in ["tls=true", "tls=skip-verify"] {
            XCTAssertThrowsError(try plugin(query: query, port: plain.port, user: plain.adminUser, password: plain.adminPassword)) { error in
                XCTAssertTrue("\(error)".contains("does not offer TLS"), "\(error)")
            }
        }
        // preferred falls back to clear text, as go-sql-driver does.
        _ = try plugin(query: "tls=preferred", port: plain.port, user: plain.adminUser, password: plain.adminPassword)
    }

    func testAnUnknownTLSConfigurationNameIsAConfigurationError() {
        assertRefused(query: "tls=custom", contains: "unknown config name: custom")
    }

    func testCredsRotationAndRevocationOverTLS() throws {
        let plugin = try plugin(["tls_ca": .string(tls.ca)])
        let created = try plugin.newUser(NewUserRequest(
            usernameConfig: UsernameMetadata(displayName: "tls", roleName: "app"),
            statements: ["CREATE USER '{{name}}'@'%' IDENTIFIED BY '{{password}}'; GRANT SELECT ON *.* TO '{{name}}'@'%';"],
            password: "First-Passw0rd-TLS", expiration: Date().addingTimeInterval(600)))
        XCTAssertTrue(try mariadbOverTLS(created.username, "First-Passw0rd-TLS"))
        _ = try plugin.updateUser(UpdateUserRequest(username: created.username,
                                                    password: PasswordChange(newPassword: "Second-Passw0rd-TLS", statements: [])))
        XCTAssertFalse(try mariadbOverTLS(created.username, "First-Passw0rd-TLS"))
        XCTAssertTrue(try mariadbOverTLS(created.username, "Second-Passw0rd-TLS"))
        _ = try plugin.deleteUser(DeleteUserRequest(username: created.username, statements: []))
        XCTAssertFalse(try mariadbOverTLS(created.username, "Second-Passw0rd-TLS"))
    }

    /// Debian's mariadb client over TLS, verifying the server: the independent witness.
    private func mariadbOverTLS(_ user: String, _ password: String) throws -> Bool {
        var environment = ProcessInfo.processInfo.environment
        environment["MYSQL_PWD"] = password
        let result = try ProcessRunner.run("/usr/bin/mariadb", [
            "--no-defaults", "--connect-timeout=5", "-h\(server.host)", "-P\(server.port)", "-u\(user)",
            "--ssl-ca=\(tls.caFile)", "--ssl-verify-server-cert", "-N", "-e", "SHOW STATUS LIKE 'Ssl_cipher'",
        ], environment: environment, timeout: 20)
        return result.status == 0 && result.stdout.contains("Ssl_cipher")
    }
}
