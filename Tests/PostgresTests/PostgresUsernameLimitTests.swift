import DBPlugin
@testable import PostgresPlugin
import XCTest

/// PostgreSQL silently truncates identifiers past 63 bytes, so a template that could produce one
/// is refused when the connection is written, not when creds are asked for.
final class PostgresUsernameLimitTests: XCTestCase {
    private func initialize(_ template: String) throws {
        _ = try PostgresPlugin().initialize(InitializeRequest(config: [
            "connection_url": "postgresql://{{username}}:{{password}}@127.0.0.1:1/db?sslmode=disable",
            "username": "u", "password": "p", "username_template": .string(template),
        ], verifyConnection: false))
    }

    func testATemplateProducingMoreThan63BytesIsRefusedAtConfigTime() {
        XCTAssertThrowsError(try initialize(String(repeating: "x", count: 64))) { error in
            XCTAssertEqual(error as? PluginError, PluginError(.invalidConfiguration,
                           "username template produced a name of 64 bytes; PostgreSQL allows at most 63"))
        }
        XCTAssertNoThrow(try initialize(String(repeating: "x", count: 63)))
        XCTAssertNoThrow(try initialize("{{ printf \"%s-%s\" (random 70) .RoleName | truncate 63 }}"))
    }
}
