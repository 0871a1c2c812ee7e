import Foundation
import TestSupport
import XCTest
@testable import MySQLPlugin

/// Configuration errors caught by `initialize` before anything connects.
final class MySQLConfigurationTests: XCTestCase {
    private func initialize(_ config: [String: JSONValue], variant: MySQLPlugin.Variant = .mysql) throws {
        _ = try MySQLPlugin(variant: variant).initialize(InitializeRequest(config: config, verifyConnection: false))
    }

    private func assertError(_ config: [String: JSONValue], variant: MySQLPlugin.Variant = .mysql,
                             _ expected: PluginError, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try initialize(config, variant: variant), file: file, line: line) { error in
            XCTAssertEqual(error as? PluginError, expected, file: file, line: line)
        }
    }

    func testVaultsConnectionErrors() {
        assertError(["username_template": "x"], PluginError(.invalidConfiguration, "connection_url cannot be empty"))
        assertError(["username_template": "x", "connection_url": ""],
                    PluginError(.invalidConfiguration, "connection_url cannot be empty"))
        assertError(["username_template": "x", "connection_url": "{{username}}:{{password}}@tcp(h:1)/",
                     "username": "{{password}}", "password": "p"],
                    PluginError(.invalidConfiguration, "username and/or password cannot contain the template variables"))
        assertError(["username_template": "x", "connection_url": "{{username}}:{{password}}@tcp(h:1)/",
                     "username": "u", "password": "a{{username}}"],
                    PluginError(.invalidConfiguration, "username and/or password cannot contain the template variables"))
    }

    func testAnUnregisteredTLSNameAndABadStatementTimeoutAreRefused() {
        assertError(["username_template": "x", "connection_url": "u:p@tcp(h:1)/?tls=mine"],
                    PluginError(.invalidConfiguration, "unable to parse connection_url: invalid value / unknown config name: mine "
                        + "(a custom TLS configuration comes from tls_ca and tls_certificate_key)"))
        assertError(["username_template": "x", "connection_url": "u:p@tcp(h:1)/", "statement_timeout": "never"],
                    PluginError(.invalidConfiguration, #"invalid value for statement_timeout: expected a positive duration such as "10s" or "500ms""#))
    }

    func testPasswordIsTemplatedUnescapedAndNeverInErrors() {
        // The password contains characters URL escaping would change, and one that breaks the DSN.
        XCTAssertNoThrow(try initialize(["username_template": "x", "connection_url": "{{username}}:{{password}}@tcp(h:1)/",
                                         "username": "u", "password": "p@ss/w:rd%"]))
        XCTAssertThrowsError(try initialize(["username_template": "x", "connection_url": "{{username}}:{{password}}@tcp(h:abc)/",
                                             "username": "u", "password": "Hunter2-secret"])) { error in
            XCTAssertFalse("\(error)".contains("Hunter2-secret"))
        }
    }

    func testLiteralTemplateLongerThanTheVariantAllowsIsRefusedAtInitialize() throws {
        let base: [String: JSONValue] = ["connection_url": "u:p@tcp(h:1)/", "username_template": "seventeen-chars-x"]
        XCTAssertNoThrow(try initialize(base, variant: .mysql))
        for variant in [MySQLPlugin.Variant.aurora, .rds, .legacy] {
            assertError(base, variant: variant, PluginError(.invalidConfiguration,
                "invalid username template: it renders \"seventeen-chars-x\", 17 characters long, but \(variant.pluginName) allows at most 16"))
        }
        var long = base
        long["username_template"] = .string(String(repeating: "u", count: 33))
        XCTAssertThrowsError(try initialize(long, variant: .mysql)) { error in
            XCTAssertTrue("\(error)".contains("33 characters long, but mysql-database-plugin allows at most 32"), "\(error)")
        }
    }

    func testPoolSettingsAreValidated() {
        assertError(["username_template": "x", "connection_url": "u:p@tcp(h:1)/", "max_open_connections": "many"],
                    PluginError(.invalidConfiguration, "invalid value for max_open_connections: expected an integer"))
        XCTAssertThrowsError(try initialize(["username_template": "x", "connection_url": "u:p@tcp(h:1)/",
                                             "max_connection_lifetime": "forever"])) { error in
            XCTAssertTrue("\(error)".hasPrefix("invalid max_connection_lifetime"), "\(error)")
        }
        XCTAssertNoThrow(try initialize(["username_template": "x", "connection_url": "u:p@tcp(h:1)/",
                                         "max_connection_lifetime": "30s", "max_open_connections": 2]))
    }

    func testAllFourPluginNamesAreRegistered() {
        XCTAssertEqual(MySQLPlugin(variant: .rds).type, "mysql")
        let catalog = PluginCatalog([MySQLPlugin.registration])
        XCTAssertEqual(catalog.names, ["mysql-aurora-database-plugin", "mysql-database-plugin",
                                       "mysql-legacy-database-plugin", "mysql-rds-database-plugin"])
        for variant in MySQLPlugin.Variant.allCases {
            XCTAssertEqual((catalog.makePlugin(named: variant.pluginName) as? MySQLPlugin)?.variant, variant)
        }
    }
}
