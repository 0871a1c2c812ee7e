import TestSupport
import XCTest
@testable import MySQLPlugin

final class MySQLDSNTests: XCTestCase {
    func testVaultStyleDSN() throws {
        let dsn = try MySQLDSN(parsing: "vault:p@ss:w/rd@tcp(db.example:3307)/app?timeout=2s&readTimeout=500ms")
        XCTAssertEqual(dsn.username, "vault")
        XCTAssertEqual(dsn.password, "p@ss:w/rd")
        XCTAssertEqual(dsn.address, .tcp(host: "db.example", port: 3307))
        XCTAssertEqual(dsn.database, "app")
        XCTAssertEqual(dsn.connectTimeout, 2)
        XCTAssertEqual(dsn.readTimeout, 0.5)
    }

    func testDefaultsAndUnixSockets() throws {
        let bare = try MySQLDSN(parsing: "root@/")
        XCTAssertEqual(bare.address, .tcp(host: "127.0.0.1", port: 3306))
        XCTAssertEqual(bare.password, "")
        XCTAssertEqual(try MySQLDSN(parsing: "u:p@unix(/run/mysqld/mysqld.sock)/").address,
                       .unix(path: "/run/mysqld/mysqld.sock"))
        XCTAssertEqual(try MySQLDSN(parsing: "u:p@tcp([::1]:3306)/").address, .tcp(host: "::1", port: 3306))
    }

    func testUnknownParametersBecomeSessionVariables() throws {
        let dsn = try MySQLDSN(parsing: "u:p@tcp(h:1)/?charset=utf8mb4&sql_mode=%27ANSI%27")
        XCTAssertEqual(dsn.sessionVariables.map { "\($0.0)=\($0.1)" }, ["sql_mode='ANSI'"])
    }

    /// Regression: every parameter the DSN did not know became `SET name=value`, so
    /// `allowPublicKeyRetrieval=true` reached MySQL 8 as a variable it answers with error 1193.
    func testClientParametersAreNeverSessionVariables() throws {
        let dsn = try MySQLDSN(parsing: "u:p@tcp(h:1)/?allowPublicKeyRetrieval=true&compress=false&collation=utf8mb4_bin&time_zone=%27%2B00:00%27")
        XCTAssertTrue(dsn.allowPublicKeyRetrieval)
        XCTAssertEqual(dsn.sessionVariables.map { "\($0.0)=\($0.1)" }, ["time_zone='+00:00'"])
        XCTAssertFalse(try MySQLDSN(parsing: "u:p@tcp(h:1)/").allowPublicKeyRetrieval, "refused unless asked for")
        XCTAssertFalse(try MySQLDSN(parsing: "u:p@tcp(h:1)/?allowPublicKeyRetrieval=false").allowPublicKeyRetrieval)
    }

    func testAnInvalidRetrievalFlagAndGoSQLDriversKeyNamesAreRefused() {
        XCTAssertThrowsError(try MySQLDSN(parsing: "u:p@tcp(h:1)/?allowPublicKeyRetrieval=yes")) { error in
            XCTAssertEqual("\(error)", #"unable to parse connection_url: invalid bool value for allowPublicKeyRetrieval: "yes""#)
        }
        XCTAssertThrowsError(try MySQLDSN(parsing: "u:p@tcp(h:1)/?serverPubKey=mykey")) { error in
            XCTAssertEqual("\(error)", "unable to parse connection_url: invalid value / unknown server pub key name: mykey "
                + "(the server's RSA public key is given as PEM in the server_public_key field)")
        }
    }

    func testMalformedDSNsSayWhyWithoutRepeatingThem() {
        for (dsn, expected) in [
            ("u:hunter2@tcp(h:1)", "missing the slash"),
            ("u:hunter2@tcp(h:1/", "missing closing brace"),
            ("u:hunter2@tcp(h:abc)/", "invalid port"),
            ("u:hunter2@udp(h:1)/", "unknown network"),
            ("u:hunter2@tcp(h:1)/?timeout=soon", "invalid duration for timeout"),
        ] {
            XCTAssertThrowsError(try MySQLDSN(parsing: dsn), dsn) { error in
                let message = "\(error)"
                XCTAssertTrue(message.contains(expected), message)
                XCTAssertFalse(message.contains("hunter2"), message)
                XCTAssertEqual((error as? PluginError)?.kind, .invalidConfiguration)
            }
        }
    }

    func testTLSModesAreGoSQLDriversValues() throws {
        let modes: [(String, MySQLDSN.TLSMode)] = [("true", .verified), ("1", .verified), ("skip-verify", .skipVerify),
                                                   ("preferred", .preferred), ("false", .disabled), ("custom", .named("custom"))]
        for (value, mode) in modes {
            XCTAssertEqual(try MySQLDSN(parsing: "u:p@tcp(h:1)/?tls=\(value)").tls, mode, value)
        }
        XCTAssertEqual(try MySQLDSN(parsing: "u:p@tcp(h:1)/").tls, .disabled)
    }
}
