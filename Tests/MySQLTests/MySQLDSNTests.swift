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
