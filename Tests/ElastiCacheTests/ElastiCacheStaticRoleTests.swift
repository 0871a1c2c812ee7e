@testable import ElastiCachePlugin
import DBPlugin
import Foundation
import XCTest

/// What the plugin refuses, and the password rules it checks before any API call. No server.
final class ElastiCacheStaticRoleTests: XCTestCase {
    func uninitialized() -> ElastiCachePlugin {
        ElastiCachePlugin.forTests(["HOME": "/nonexistent"])
    }

    func testCatalogInitializerUsesTheProcessEnvironment() {
        let plugin: DatabasePlugin = ElastiCachePlugin()
        XCTAssertEqual(plugin.type, "redisElastiCache")
        plugin.close()
        plugin.close()
    }

    func testUserCreationAndDeletionAreNotSupported() {
        let plugin = uninitialized()
        XCTAssertThrowsError(try plugin.newUser(NewUserRequest(
            usernameConfig: UsernameMetadata(displayName: "token", roleName: "role"), statements: [],
            password: "abcdefghijklmnopqrstuvwxyz1", expiration: Date()))) {
            XCTAssertEqual($0 as? PluginError, PluginError(.unsupported, "user creation not supported"))
        }
        XCTAssertThrowsError(try plugin.deleteUser(DeleteUserRequest(username: "vault-test", statements: []))) {
            XCTAssertEqual($0 as? PluginError, PluginError(.unsupported, "user deletion not supported"))
        }
    }

    func testRootRotationIsRefused() {
        XCTAssertThrowsError(try uninitialized().updateUser(UpdateUserRequest(
            username: "AKIDEXAMPLE", password: PasswordChange(newPassword: "abcdefghijklmnopqrstuvwxyz1", statements: []),
            isRootRotation: true))) {
            XCTAssertEqual($0 as? PluginError, PluginError(.unsupported, "root credential rotation not supported"))
        }
    }

    func testExpirationChangesAreANoOp() throws {
        _ = try uninitialized().updateUser(UpdateUserRequest(
            username: "vault-test", expiration: ExpirationChange(newExpiration: Date(), statements: [])))
    }

    func testPasswordRulesAreCheckedBeforeAnyCall() {
        let rules = "ElastiCache passwords must be 16 to 128 printable ASCII characters without space, '\"', '/' "
            + "or '@'; use a password_policy that produces such passwords"
        let cases = [
            ("too short", "the password is 9 characters long"),
            (String(repeating: "a", count: 15), "the password is 15 characters long"),
            (String(repeating: "a", count: 129), "the password is 129 characters long"),
            ("abcdefghijklmnop@", "the password contains '@'"),
            ("abcdefghijklmnop\"", "the password contains '\"'"),
            ("abcdefghijklmnop/", "the password contains '/'"),
            ("abcdefgh ijklmnop", "the password contains a space"),
            ("abcdefgh\tijklmnop", "the password contains a character that is not printable ASCII"),
            ("abcdefghijklmnopé", "the password contains a character that is not printable ASCII"),
        ]
        for (password, problem) in cases {
            // Uninitialized: had validation passed, the error would be about the connection.
            XCTAssertThrowsError(try uninitialized().updateUser(UpdateUserRequest(
                username: "vault-test", password: PasswordChange(newPassword: password, statements: [])))) {
                XCTAssertEqual($0 as? PluginError, PluginError(.invalidConfiguration, "\(problem): \(rules)"), password)
            }
        }
    }

    func testPasswordsAtTheLimitsPassTheRules() {
        for password in [String(repeating: "a", count: 16), String(repeating: "Z", count: 128),
                         "!#$%&'()*+,-.0123456789:;<=>?[\\]^_`{|}~"] {
            XCTAssertNil(ElastiCachePasswordRules.problem(with: password), password)
            XCTAssertThrowsError(try uninitialized().updateUser(UpdateUserRequest(
                username: "vault-test", password: PasswordChange(newPassword: password, statements: [])))) {
                XCTAssertEqual($0 as? PluginError, PluginError(.connection, "connection has not been initialized"))
            }
        }
    }

    func testVaultsDefaultPasswordsSatisfyTheRules() {
        // engine.md §5.3: no policy gives ^[a-zA-Z0-9-]{20}$.
        XCTAssertNil(ElastiCachePasswordRules.problem(with: "A1b2-C3d4-E5f6-G7h8-"))
    }
}
