import Foundation
import TestSupport
import XCTest
@testable import MySQLPlugin

/// MySQL 8's logins, which MariaDB cannot show, against Tests/servers/mysql8-double: first PyMySQL
/// (an independent client) proves the double by every path, wrong passwords included; then our
/// client takes the same paths. The events the double logs say which path each login took.
final class MySQL8DoubleTests: XCTestCase {
    private var tls: TLSTestMaterial!
    private let password = "Double-Passw0rd-\(UUID().uuidString.prefix(6))"

    override func setUpWithError() throws {
        tls = try TLSTestMaterial.fromEnvironment()
    }

    private func double(_ accounts: [MySQL8Double.Account], defaultPlugin: String = "caching_sha2_password") throws -> MySQL8Double {
        let double = try MySQL8Double(accounts, defaultPlugin: defaultPlugin)
        addTeardownBlock { double.stop() }
        return double
    }

    private func assertOutcomes(_ outcomes: [MySQL8Double.Outcome], _ expected: [Bool],
                                file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(outcomes.map(\.ok), expected, outcomes.map(\.error).joined(separator: "; "), file: file, line: line)
        for outcome in outcomes where !outcome.ok {
            XCTAssertTrue(outcome.error.contains("1045"), outcome.error, file: file, line: line)
        }
    }

    // MARK: the double, proved with PyMySQL

    func testPyMySQLProvesCachingSHA2sFastAndFullPathsAndTheCache() throws {
        let double = try double([.init(user: "app", plugin: "caching_sha2_password", password: password),
                                 .init(user: "nat", plugin: "mysql_native_password", password: password)])
        let flush = "FLUSH PRIVILEGES"
        assertOutcomes(try double.pyMySQL([
            .init(user: "app", password: password),                         // not cached: full, RSA with the key request
            .init(user: "app", password: password, sql: [flush]),           // cached: fast
            .init(user: "app", password: "wrong-\(password)"),              // a wrong scramble: full, refused
            .init(user: "app", password: password, server_public_key: double.publicKeyFile),  // full, RSA, pinned key
            .init(user: "app", password: password, ca: tls.caFile, sql: [flush]),            // fast over TLS
            .init(user: "app", password: password, ca: tls.caFile),                          // flushed: full over TLS
            .init(user: "app", password: "wrong", ca: tls.caFile, sql: []),                  // cached, wrong: refused
            .init(user: "nat", password: password),                         // the auth switch to mysql_native_password
            .init(user: "nat", password: "wrong"),
        ]), [true, true, false, true, true, true, false, true, false])
        XCTAssertEqual(double.newEvents(), [
            "app key-request", "app caching_sha2_password full-rsa ok",
            "app caching_sha2_password fast ok",
            "app key-request", "app caching_sha2_password full-rsa denied",
            "app caching_sha2_password full-rsa ok",  // the pinned key: no request
            "app caching_sha2_password fast ok",
            "app caching_sha2_password full-tls ok",
            "app caching_sha2_password full-tls denied",
            "nat mysql_native_password native ok", "nat mysql_native_password native denied",
        ])
        XCTAssertFalse(double.received(password), "PyMySQL never sent the password in clear text either")
    }

    func testPyMySQLProvesThatAPasswordChangeAndARestartEmptyTheCache() throws {
        let double = try double([.init(user: "root", plugin: "caching_sha2_password", password: password)])
        let newPassword = "New-\(password)"
        assertOutcomes(try double.pyMySQL([
            .init(user: "root", password: password, sql: ["CREATE USER 'u1'@'%' IDENTIFIED BY 'pw-u1'",
                                                          "SELECT COUNT(*) FROM mysql.user WHERE User = 'u1'"]),
            .init(user: "root", password: password, sql: ["ALTER USER 'root'@'%' IDENTIFIED BY '\(newPassword)'"]),
            .init(user: "root", password: password),
            .init(user: "root", password: newPassword, sql: ["SELECT CURRENT_USER()"]),
            .init(user: "root", password: newPassword),
        ]), [true, true, false, true, true])
        XCTAssertEqual(double.newEvents(), [
            "root key-request", "root caching_sha2_password full-rsa ok",
            "root caching_sha2_password fast ok",
            "root key-request", "root caching_sha2_password full-rsa denied",
            "root key-request", "root caching_sha2_password full-rsa ok",  // changed: evicted, so full
            "root caching_sha2_password fast ok",
        ])
        try double.restart()
        let after = try double.pyMySQL([.init(user: "root", password: newPassword, sql: ["SELECT Host FROM mysql.user WHERE User = 'u1'"])])
        assertOutcomes(after, [true])
        XCTAssertEqual(after.first?.rows, [[["%"]]], "the accounts survive the restart")
        XCTAssertEqual(double.newEvents(), ["root key-request", "root caching_sha2_password full-rsa ok"], "the cache does not")
    }

    func testPyMySQLProvesSHA256PasswordAndTheAuthSwitchFromANativeGreeting() throws {
        let double = try double([.init(user: "old", plugin: "sha256_password", password: password),
                                 .init(user: "app", plugin: "caching_sha2_password", password: password),
                                 .init(user: "ldap", plugin: "mysql_clear_password", password: password)],
                                defaultPlugin: "mysql_native_password")
        assertOutcomes(try double.pyMySQL([
            .init(user: "old", password: password),
            .init(user: "old", password: password, ca: tls.caFile),
            .init(user: "old", password: "wrong"),
            .init(user: "old", password: "wrong", ca: tls.caFile),
            .init(user: "app", password: password),
            .init(user: "ldap", password: password, ca: tls.caFile),
        ]), [true, true, false, false, true, true])
        XCTAssertEqual(double.newEvents(), [
            "old key-request", "old sha256_password rsa ok", "old sha256_password tls ok",
            "old key-request", "old sha256_password rsa denied", "old sha256_password tls denied",
            "app key-request", "app caching_sha2_password full-rsa ok",
            "ldap mysql_clear_password clear ok",
        ])
    }

    /// MySQL 8.0.14's dual passwords and an account changing its own password, as the MySQL 8.4
    /// reference manual states them ("Password Management": RETAIN CURRENT PASSWORD, DISCARD OLD
    /// PASSWORD; ALTER USER USER() … REPLACE): the double's model of them, proved with PyMySQL.
    func testPyMySQLProvesDualPasswordsAndAnAccountChangingItsOwnPassword() throws {
        let double = try double([.init(user: "root", plugin: "caching_sha2_password", password: password),
                                 .init(user: "app", plugin: "caching_sha2_password", password: "app-one")])
        let outcomes = try double.pyMySQL([
            .init(user: "root", password: password, sql: ["ALTER USER 'app'@'%' IDENTIFIED BY 'app-two' RETAIN CURRENT PASSWORD"]),
            .init(user: "app", password: "app-one"),                        // the secondary logs in
            .init(user: "app", password: "app-two"),                        // and the primary
            .init(user: "root", password: password, sql: ["ALTER USER 'app'@'%' IDENTIFIED BY 'app-three' RETAIN CURRENT PASSWORD"]),
            .init(user: "app", password: "app-one"),                        // replaced as the secondary
            .init(user: "app", password: "app-two"),
            .init(user: "root", password: password, sql: ["ALTER USER 'app'@'%' IDENTIFIED BY 'app-four'"]),
            .init(user: "app", password: "app-two"),                        // a plain change keeps the secondary
            .init(user: "root", password: password, sql: ["ALTER USER 'app'@'%' DISCARD OLD PASSWORD"]),
            .init(user: "app", password: "app-two"),                        // discarded
            .init(user: "app", password: "app-four", sql: ["ALTER USER USER() IDENTIFIED BY 'app-five' REPLACE 'wrong'"]),
            .init(user: "app", password: "app-four", sql: ["ALTER USER USER() IDENTIFIED BY 'app-five' REPLACE 'app-four'"]),
            .init(user: "app", password: "app-five", sql: ["SELECT CURRENT_USER()"]),
            .init(user: "app", password: "app-four"),
        ])
        XCTAssertEqual(outcomes.map(\.ok), [true, true, true, true, false, true, true, true, true, false, false, true, true, false],
                       outcomes.map(\.error).joined(separator: "; "))
        XCTAssertTrue(outcomes[10].error.contains("3891"), outcomes[10].error)
        XCTAssertEqual(outcomes[12].rows, [[["app@%"]]])
    }

    // MARK: our client through it

    private func configuration(_ double: MySQL8Double, user: String, password: String? = nil, tls useTLS: Bool = false,
                               key: String? = nil, retrieval: Bool = false) -> MySQLConnection.Configuration {
        MySQLConnection.Configuration(
            address: .tcp(host: "127.0.0.1", port: double.port), username: user, password: password ?? self.password,
            connectTimeout: 5,
            security: useTLS ? .init(required: true, tls: .init(verification: .chainAndHost, trustRoots: .pem(Array(tls.ca.utf8)),
                                                                 serverName: "127.0.0.1")) : nil,
            serverPublicKey: key.map { Array($0.utf8) }, allowPublicKeyRetrieval: retrieval)
    }

    private func login(_ configuration: MySQLConnection.Configuration) throws -> String {
        let connection = try MySQLConnection.connect(configuration)
        defer { connection.close() }
        return try connection.query("SELECT CURRENT_USER()").rows.first?.first.flatMap { $0 } ?? ""
    }

    func testOurClientTakesCachingSHA2sPathsAsPyMySQLDid() throws {
        let double = try double([.init(user: "app", plugin: "caching_sha2_password", password: password)])
        XCTAssertEqual(try login(configuration(double, user: "app", retrieval: true)), "app@%")
        XCTAssertEqual(try login(configuration(double, user: "app")), "app@%", "cached: the fast path needs nothing")
        XCTAssertEqual(try login(configuration(double, user: "app", key: "not parsed")), "app@%",
                       "the fast path never parses the pinned key, nor loads libcrypto for it")
        XCTAssertThrowsError(try login(configuration(double, user: "app", password: "wrong", retrieval: true))) { error in
            XCTAssertEqual((error as? MySQLError)?.code, 1045)
        }
        try double.restart()
        XCTAssertEqual(try login(configuration(double, user: "app", key: double.publicKey)), "app@%")
        try double.restart()
        XCTAssertEqual(try login(configuration(double, user: "app", tls: true)), "app@%")
        XCTAssertEqual(double.newEvents(), [
            "app key-request", "app caching_sha2_password full-rsa ok",
            "app caching_sha2_password fast ok", "app caching_sha2_password fast ok",
            "app key-request", "app caching_sha2_password full-rsa denied",
            "app key-request", "app caching_sha2_password full-rsa ok",  // the pinned key, compared with the server's
            "app caching_sha2_password full-tls ok",
        ])
        XCTAssertFalse(double.received(password))
    }

    func testOurClientTakesSHA256PasswordAndTheAuthSwitchAsPyMySQLDid() throws {
        let double = try double([.init(user: "old", plugin: "sha256_password", password: password),
                                 .init(user: "app", plugin: "caching_sha2_password", password: password),
                                 .init(user: "nat", plugin: "mysql_native_password", password: password)],
                                defaultPlugin: "mysql_native_password")
        XCTAssertEqual(try login(configuration(double, user: "old", key: double.publicKey)), "old@%")
        XCTAssertEqual(try login(configuration(double, user: "old", tls: true)), "old@%")
        XCTAssertThrowsError(try login(configuration(double, user: "old", password: "wrong", retrieval: true)))
        XCTAssertEqual(try login(configuration(double, user: "app", retrieval: true)), "app@%")
        XCTAssertEqual(try login(configuration(double, user: "nat")), "nat@%")
        XCTAssertEqual(double.newEvents(), [
            "old key-request", "old sha256_password rsa ok", "old sha256_password tls ok",
            "old key-request", "old sha256_password rsa denied",
            "app key-request", "app caching_sha2_password full-rsa ok",
            "nat mysql_native_password native ok",
        ])
        XCTAssertFalse(double.received(password))
    }

    func testWithoutTLSOrAKeyTheFullPathIsRefusedAndNothingIsSent() throws {
        let double = try double([.init(user: "app", plugin: "caching_sha2_password", password: password),
                                 .init(user: "old", plugin: "sha256_password", password: password)])
        for user in ["app", "old"] {
            XCTAssertThrowsError(try login(configuration(double, user: user))) { error in
                XCTAssertEqual((error as? MySQLError)?.kind, .unsupported)
                XCTAssertTrue("\(error)".contains(user == "app" ? "caching_sha2_password full authentication" : "sha256_password"), "\(error)")
                XCTAssertTrue("\(error)".contains("allowPublicKeyRetrieval=true"), "\(error)")
            }
        }
        XCTAssertEqual(double.newEvents(), [], "no key asked for, no password sent: the double saw no answer")
        XCTAssertFalse(double.received(password))
    }

    func testAPinnedKeyThatIsNotTheServersIsRefusedBeforeThePasswordIsSent() throws {
        let double = try double([.init(user: "app", plugin: "caching_sha2_password", password: password)])
        XCTAssertThrowsError(try login(configuration(double, user: "app", key: try RSATestKey.other().publicPEM))) { error in
            XCTAssertEqual((error as? MySQLError)?.kind, .configuration)
            XCTAssertTrue("\(error)".contains("is not the one in server_public_key, so the password was not sent"), "\(error)")
        }
        XCTAssertEqual(double.newEvents(), ["app key-request"], "the server's key was read, nothing was answered")
    }

    /// Recovery asks `checkPassword` which password an account has, right after a change that
    /// emptied the cache for it: the answer comes through full authentication, and without a way
    /// to take that path it is "cannot tell", never "wrong".
    func testCheckPasswordAnswersForAnAccountTheServerHasNotCached() throws {
        let double = try double([.init(user: "vault", plugin: "caching_sha2_password", password: password),
                                 .init(user: "app", plugin: "caching_sha2_password", password: "App-0123456789")])
        func plugin(_ fields: [String: JSONValue], query: String = "") throws -> MySQLPlugin {
            let plugin = MySQLPlugin()
            var config: [String: JSONValue] = [
                "connection_url": .string("{{username}}:{{password}}@tcp(127.0.0.1:\(double.port))/\(query)"),
                "username": "vault", "password": .string(password), "username_template": "x",
            ]
            config.merge(fields) { _, new in new }
            _ = try plugin.initialize(InitializeRequest(config: config, verifyConnection: false))
            addTeardownBlock { plugin.close() }
            return plugin
        }
        let pinned = try plugin(["server_public_key": .string(double.publicKey)])
        _ = try pinned.updateUser(UpdateUserRequest(username: "app", password: PasswordChange(newPassword: "App-new-0123456789", statements: [])))
        _ = double.newEvents()
        XCTAssertEqual(try pinned.checkPassword(username: "app", password: "App-0123456789"), false)
        XCTAssertEqual(try pinned.checkPassword(username: "app", password: "App-new-0123456789"), true)
        XCTAssertEqual(double.newEvents(), ["app key-request", "app caching_sha2_password full-rsa denied",
                                            "app key-request", "app caching_sha2_password full-rsa ok"])
        XCTAssertEqual(try plugin(["tls_ca": .string(tls.ca)]).checkPassword(username: "vault", password: password), true)

        try double.restart()
        XCTAssertNil(try plugin([:]).checkPassword(username: "app", password: "App-new-0123456789"),
                     "without TLS or a key the full path cannot be taken: cannot tell")
        XCTAssertThrowsError(try plugin(["server_public_key": .string(try RSATestKey.other().publicPEM)])
            .checkPassword(username: "app", password: "App-new-0123456789"), "a key that does not match tells nothing") { error in
            XCTAssertEqual((error as? PluginError)?.kind, .invalidConfiguration)
        }
        XCTAssertEqual(try plugin([:], query: "?allowPublicKeyRetrieval=true").checkPassword(username: "app", password: "App-new-0123456789"), true)
    }

    func testClearPasswordIsSentOverTLSOnly() throws {
        let double = try double([.init(user: "ldap", plugin: "mysql_clear_password", password: password)],
                                defaultPlugin: "mysql_native_password")
        let connection = try MySQLConnection.connect(configuration(double, user: "ldap", tls: true))
        XCTAssertEqual(connection.authPluginName, "mysql_clear_password")
        connection.close()
        XCTAssertThrowsError(try MySQLConnection.connect(configuration(double, user: "ldap", retrieval: true))) { error in
            XCTAssertTrue("\(error)".contains("mysql_clear_password"), "\(error)")
        }
        XCTAssertFalse(double.received(password))
    }
}
