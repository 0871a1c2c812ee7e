import Foundation
import TestSupport
import UsernameTemplate
import XCTest
@testable import MySQLPlugin

/// Default usernames per variant and the length limits, with real users created on MariaDB.
final class MySQLUsernameTests: XCTestCase {
    private var server: MariaDBTestServer!
    private var createdUsers: [String] = []

    override func setUpWithError() throws {
        server = try MariaDBTestServer.fromEnvironment()
    }

    override func tearDownWithError() throws {
        for user in createdUsers { try server.admin("DROP USER IF EXISTS '\(user)'@'%'") }
    }

    private let creation = ["CREATE USER '{{name}}'@'%' IDENTIFIED BY '{{password}}'; GRANT SELECT ON dbsecrets_test.* TO '{{name}}'@'%';"]

    private func createUser(_ variant: MySQLPlugin.Variant, displayName: String, roleName: String,
                            extra: [String: JSONValue] = [:], statements: [String]? = nil) throws -> String {
        let plugin = MySQLPlugin(variant: variant)
        defer { plugin.close() }
        _ = try plugin.initialize(InitializeRequest(config: server.config(extra: extra), verifyConnection: true))
        let username = try plugin.newUser(NewUserRequest(
            usernameConfig: UsernameMetadata(displayName: displayName, roleName: roleName),
            statements: statements ?? creation, password: "Pw-user-0123456789ab", expiration: Date().addingTimeInterval(60))).username
        createdUsers.append(username)
        return username
    }

    private func assertLogsIn(_ username: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let result = try server.client(user: username, password: "Pw-user-0123456789ab", "SELECT CURRENT_USER()")
        XCTAssertTrue(result.succeeded, result.error, file: file, line: line)
        XCTAssertEqual(result.output, "\(username)@%\n", file: file, line: line)
    }

    func testMySQLDefaultIsVaultsThirtyTwoCharacterShape() throws {
        let username = try createUser(.mysql, displayName: "root", roleName: "my-role")
        XCTAssertEqual(username.count, 32)
        XCTAssertNotNil(username.range(of: "^v-root-my-role-[A-Za-z0-9]{17}$", options: .regularExpression), username)
        try assertLogsIn(username)

        let short = try createUser(.mysql, displayName: "tok", roleName: "r")
        XCTAssertNotNil(short.range(of: "^v-tok-r-[A-Za-z0-9]{20}-[0-9]{3}$", options: .regularExpression), short)
    }

    func testAuroraRDSAndLegacyDefaultsAreSixteenCharacters() throws {
        for variant in [MySQLPlugin.Variant.aurora, .rds, .legacy] {
            let username = try createUser(variant, displayName: "root", roleName: "readonly")
            XCTAssertEqual(username.count, 16, "\(variant)")
            XCTAssertNotNil(username.range(of: "^v-read-[A-Za-z0-9]{9}$", options: .regularExpression), username)
            try assertLogsIn(username)
        }
        let shortRole = try createUser(.legacy, displayName: "root", roleName: "ro")
        XCTAssertNotNil(shortRole.range(of: "^v-ro-[A-Za-z0-9]{11}$", options: .regularExpression), shortRole)
    }

    func testTooLongUsernameFailsBeforeAnyStatementRuns() throws {
        let marker = "marker_\(UUID().uuidString.prefix(8).lowercased())"
        XCTAssertThrowsError(try createUser(.legacy, displayName: "root", roleName: "a-rather-long-role-name",
                                            extra: ["username_template": "{{ .RoleName }}"],
                                            statements: ["CREATE TABLE dbsecrets_test.\(marker) (i INT)"])) { error in
            XCTAssertEqual((error as? PluginError)?.message, "the username template renders \"a-rather-long-role-name\", "
                + "23 characters long, but mysql-legacy-database-plugin allows at most 16")
        }
        XCTAssertEqual(try server.admin("SHOW TABLES FROM dbsecrets_test LIKE '\(marker)'"), "")
    }

    func testTemplateRenderingTooLongEvenWithoutMetadataIsRefusedAtInitialize() throws {
        let plugin = MySQLPlugin(variant: .rds)
        XCTAssertThrowsError(try plugin.initialize(InitializeRequest(
            config: server.config(extra: ["username_template": "{{ printf \"v-%s\" (random 20) }}"]), verifyConnection: false))) { error in
            XCTAssertTrue("\(error)".hasPrefix("invalid username template: it renders \"v-"), "\(error)")
            XCTAssertTrue("\(error)".hasSuffix("22 characters long, but mysql-rds-database-plugin allows at most 16"), "\(error)")
        }
    }

    func testInvalidTemplateIsRefusedAtInitialize() throws {
        let plugin = MySQLPlugin(variant: .mysql)
        XCTAssertThrowsError(try plugin.initialize(InitializeRequest(
            config: server.config(extra: ["username_template": "{{ .Nope"]), verifyConnection: false))) { error in
            XCTAssertEqual((error as? PluginError)?.kind, .invalidConfiguration)
        }
    }
}
