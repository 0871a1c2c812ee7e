import DBPlugin
import Foundation
@testable import PostgresPlugin
import TestSupport
import XCTest

/// Every sslmode and TLS field against the real PostgreSQL 15, which runs with ssl=on, a
/// `hostssl … cert` rule for dbsecrets_cert_user and a `hostnossl … reject` for dbsecrets_tls_user.
/// The server certificate names IP 127.0.0.1 only; "localhost" is the wrong host name.
final class PostgresTLSTests: XCTestCase {
    private var server: PostgresTestServer!
    private var tls: TLSTestMaterial!

    override func setUpWithError() throws {
        server = try PostgresTestServer.fromEnvironment()
        tls = try TLSTestMaterial.fromEnvironment()
    }

    private func url(_ query: String, host: String? = nil, user: String? = nil, password: String? = nil) -> String {
        let escaped = PostgresConnectionURL.pathEscape(password ?? server.password)
        return "postgresql://\(user ?? server.user):\(escaped)@\(host ?? server.host):\(server.port)/\(server.database)?\(query)"
    }

    private func connect(_ query: String, host: String? = nil, user: String? = nil, password: String? = nil,
                         inline: PostgresTransportSecurity.InlineFields = .init(), scramOnly: Bool = false) throws -> PostgresConnection {
        let parsed = try PostgresConnectionURL(parsing: url(query, host: host, user: user, password: password))
        return try PostgresConnection.connect(try parsed.configuration(inlineTLS: inline, passwordAuthenticationSCRAM: scramOnly))
    }

    /// What pg_stat_ssl says about this session: whether it is encrypted.
    private func isEncrypted(_ connection: PostgresConnection) throws -> Bool {
        try connection.simpleQuery("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").rows == [["t"]]
    }

    private func assertRefused(_ query: String, host: String? = nil, inline: PostgresTransportSecurity.InlineFields = .init(),
                               contains expected: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try connect(query, host: host, inline: inline), file: file, line: line) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains(expected), message, file: file, line: line)
            XCTAssertFalse(message.contains(server.password), file: file, line: line)
        }
    }

    func testTheDefaultPreferEncryptsWhenTheServerCan() throws {
        let connection = try connect("")
        defer { connection.close() }
        XCTAssertTrue(try isEncrypted(connection))
        XCTAssertNotNil(connection.tls?.protocolVersion)
    }

    func testDisableStaysInClearText() throws {
        let connection = try connect("sslmode=disable")
        defer { connection.close() }
        XCTAssertFalse(try isEncrypted(connection))
        XCTAssertNil(connection.tls)
    }

    func testRequireEncryptsWithoutVerifying() throws {
        let connection = try connect("sslmode=require", host: "localhost")
        defer { connection.close() }
        XCTAssertTrue(try isEncrypted(connection))
    }

    func testVerifyFullAcceptsTheRightCAAndHost() throws {
        let connection = try connect("sslmode=verify-full&sslrootcert=\(tls.caFile)")
        defer { connection.close() }
        XCTAssertTrue(try isEncrypted(connection))
    }

    func testVerifyFullRefusesTheWrongHostName() {
        assertRefused("sslmode=verify-full&sslrootcert=\(tls.caFile)", host: "localhost",
                      contains: "certificate is valid for 127.0.0.1, not localhost")
    }

    func testVerifyCAIgnoresTheHostNameButNotTheChain() throws {
        let connection = try connect("sslmode=verify-ca&sslrootcert=\(tls.caFile)", host: "localhost")
        connection.close()
        assertRefused("sslmode=verify-ca&sslrootcert=\(tls.otherCAFile)", contains: "certificate signed by unknown authority")
    }

    func testVerifyFullWithTheSystemStoreRefusesATestCA() {
        assertRefused("sslmode=verify-full&sslrootcert=system", contains: "certificate signed by unknown authority")
        assertRefused("sslmode=verify-full", contains: "certificate signed by unknown authority")
    }

    func testRequireWithARootCertificateVerifiesTheChainAsLibpqDoes() {
        assertRefused("sslmode=require&sslrootcert=\(tls.otherCAFile)", contains: "certificate signed by unknown authority")
    }

    func testInlineCAForcesTLSEvenWithSSLModeDisable() throws {
        let connection = try connect("sslmode=disable", inline: .init(ca: tls.ca))
        defer { connection.close() }
        XCTAssertTrue(try isEncrypted(connection))
        assertRefused("sslmode=disable", inline: .init(ca: tls.otherCA), contains: "certificate signed by unknown authority")
    }

    func testInlineClientCertificateLogsInUnderTheCertRule() throws {
        let connection = try connect("sslmode=verify-full", user: TLSTestMaterial.certificateUser, password: "unused",
                                     inline: .init(ca: tls.ca, certificate: tls.clientCertificate, privateKey: tls.clientKey))
        defer { connection.close() }
        XCTAssertEqual(try connection.simpleQuery("SELECT current_user").rows, [[TLSTestMaterial.certificateUser]])
    }

    func testClientCertificateFilesAndAnEncryptedKey() throws {
        let base = "sslmode=verify-full&sslrootcert=\(tls.caFile)&sslcert=\(tls.clientCertificateFile)"
        let plain = try connect(base + "&sslkey=\(tls.clientKeyFile)", user: TLSTestMaterial.certificateUser)
        plain.close()
        let encrypted = try connect(base + "&sslkey=\(tls.encryptedClientKeyFile)&sslpassword=\(tls.clientKeyPassword)",
                                    user: TLSTestMaterial.certificateUser)
        encrypted.close()
        XCTAssertThrowsError(try connect(base + "&sslkey=\(tls.encryptedClientKeyFile)&sslpassword=not-the-key-password-7",
                                         user: TLSTestMaterial.certificateUser)) { error in
            XCTAssertTrue("\(error)".contains("the private key is encrypted"), "\(error)")
            XCTAssertFalse("\(error)".contains("not-the-key-password-7"), "\(error)")
        }
    }

    func testOnlyHalfAClientCertificateOrAMismatchedPairIsAConfigurationError() {
        XCTAssertThrowsError(try connect("", inline: .init(certificate: tls.clientCertificate))) { error in
            XCTAssertTrue("\(error)".contains(#"both "sslcert" and "sslkey" are required"#), "\(error)")
        }
        let otherKey = (try? String(contentsOfFile: tls.otherCAFile.replacingOccurrences(of: ".pem", with: ".key"), encoding: .utf8)) ?? ""
        assertRefused("", inline: .init(certificate: tls.clientCertificate, privateKey: otherKey), contains: "does not match")
    }

    func testChannelBindingRequireUsesSCRAMPlus() throws {
        let connection = try connect("sslmode=require&channel_binding=require")
        defer { connection.close() }
        XCTAssertTrue(connection.usedChannelBinding)
        XCTAssertTrue(try isEncrypted(connection))
        let preferred = try connect("sslmode=require")
        XCTAssertTrue(preferred.usedChannelBinding, "channel_binding=prefer binds when it can")
        preferred.close()
        let disabled = try connect("sslmode=require&channel_binding=disable")
        XCTAssertFalse(disabled.usedChannelBinding)
        disabled.close()
        assertRefused("sslmode=disable&channel_binding=require", contains: "the connection has no TLS")
    }

    func testAllowRetriesWithTLSWhenTheServerRefusesClearText() throws {
        let admin = try connect("sslmode=disable")
        defer { admin.close() }
        try admin.simpleQuery("DROP ROLE IF EXISTS dbsecrets_tls_user; CREATE ROLE dbsecrets_tls_user LOGIN PASSWORD 'tls-pw-1'")
        defer { _ = try? admin.simpleQuery("DROP ROLE dbsecrets_tls_user") }
        let connection = try connect("sslmode=allow", user: "dbsecrets_tls_user", password: "tls-pw-1")
        defer { connection.close() }
        XCTAssertTrue(try isEncrypted(connection))
        XCTAssertThrowsError(try connect("sslmode=disable", user: "dbsecrets_tls_user", password: "tls-pw-1"))
    }

    func testClearTextAndMD5PasswordsGoOnlyOverTLSUnlessRequireAuthNamesThem() throws {
        let admin = try connect("sslmode=disable")
        defer { admin.close() }
        try admin.simpleQuery("DROP ROLE IF EXISTS dbsecrets_md5_user; DROP ROLE IF EXISTS dbsecrets_cleartext_user")
        try admin.simpleQuery("SET password_encryption = 'md5'; CREATE ROLE dbsecrets_md5_user LOGIN PASSWORD 'md5-pw'")
        try admin.simpleQuery("RESET password_encryption; CREATE ROLE dbsecrets_cleartext_user LOGIN PASSWORD 'clear-pw'")
        defer { _ = try? admin.simpleQuery("DROP ROLE dbsecrets_md5_user; DROP ROLE dbsecrets_cleartext_user") }
        for (user, password, method) in [("dbsecrets_md5_user", "md5-pw", "md5"), ("dbsecrets_cleartext_user", "clear-pw", "password")] {
            try connect("sslmode=require", user: user, password: password).close()
            XCTAssertThrowsError(try connect("sslmode=disable", user: user, password: password)) { error in
                XCTAssertTrue("\(error)".contains("over a connection without TLS; refused"), "\(error)")
            }
            try connect("sslmode=disable&require_auth=\(method)", user: user, password: password).close()
            // allow: the clear-text attempt is refused here, so the retry goes over TLS.
            let allowed = try connect("sslmode=allow", user: user, password: password)
            XCTAssertTrue(try isEncrypted(allowed))
            allowed.close()
            // SCRAM-only settings refuse them even over TLS.
            XCTAssertThrowsError(try connect("sslmode=require", user: user, password: password, scramOnly: true))
            XCTAssertThrowsError(try connect("sslmode=require&require_auth=scram-sha-256", user: user, password: password))
        }
    }

    func testDirectNegotiationNeedsAStrongSSLMode() {
        XCTAssertThrowsError(try connect("sslnegotiation=direct")) { error in
            XCTAssertTrue("\(error)".contains(#"weak sslmode "prefer" may not be used with sslnegotiation=direct"#), "\(error)")
        }
    }

    func testAPostgreSQL15ServerDoesNotSpeakDirectTLSAndIsRefused() {
        // PostgreSQL 15 reads the ClientHello as a startup packet and hangs up.
        XCTAssertThrowsError(try connect("sslmode=require&sslnegotiation=direct"))
    }

    func testDirectNegotiationSpeaksTLSAtOnceWithALPN() throws {
        let env = ProcessInfo.processInfo.environment
        let cert = env["DBSECRETS_TEST_TLS_SERVER_CERT"] ?? "", key = env["DBSECRETS_TEST_TLS_SERVER_KEY"] ?? ""
        let front = try HostileServer(script: "tls-front", before: ["alpn"], after: [cert, key, String(server.port)])
        defer { front.stop() }
        let parsed = try PostgresConnectionURL(parsing: "postgresql://\(server.user):\(PostgresConnectionURL.pathEscape(server.password))@127.0.0.1:\(front.port)/\(server.database)?sslmode=verify-full&sslnegotiation=direct&sslrootcert=\(tls.caFile)")
        let connection = try PostgresConnection.connect(try parsed.configuration())
        XCTAssertEqual(connection.tls?.negotiatedProtocol, "postgresql")
        XCTAssertEqual(try connection.simpleQuery("SELECT 1").rows, [["1"]])
        connection.close()
        XCTAssertEqual(String(decoding: front.received, as: UTF8.self), "postgresql\n")

        let withoutALPN = try HostileServer(script: "tls-front", before: ["no-alpn"], after: [cert, key, String(server.port)])
        defer { withoutALPN.stop() }
        let refused = try PostgresConnectionURL(parsing: "postgresql://u:p@127.0.0.1:\(withoutALPN.port)/db?sslmode=require&sslnegotiation=direct")
        XCTAssertThrowsError(try PostgresConnection.connect(try refused.configuration())) { error in
            XCTAssertTrue("\(error)".contains(#"did not select ALPN "postgresql""#), "\(error)")
        }
    }

    func testAnUnusableInlineCAOrKeyIsRefusedWhenTheConnectionIsWritten() {
        let plugin = PostgresPlugin()
        defer { plugin.close() }
        let base: [String: JSONValue] = ["connection_url": .string(url("sslmode=verify-full")), "username": "u", "password": "test-password-1"]
        XCTAssertThrowsError(try plugin.initialize(InitializeRequest(config: base.merging(["tls_ca": "not a certificate"]) { $1 },
                                                                     verifyConnection: false))) { error in
            XCTAssertEqual((error as? PluginError)?.kind, .invalidConfiguration)
            XCTAssertTrue("\(error)".contains("unable to add CA to cert pool"), "\(error)")
        }
        XCTAssertThrowsError(try plugin.initialize(InitializeRequest(
            config: base.merging(["tls_certificate": .string(tls.clientCertificate), "private_key": "-----BEGIN PRIVATE KEY-----\nAAAA\n"]) { $1 },
            verifyConnection: false))) { error in
            XCTAssertTrue("\(error)".contains("unable to load cert"), "\(error)")
            XCTAssertFalse("\(error)".contains("AAAA"), "\(error)")
        }
    }
}
