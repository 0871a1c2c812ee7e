import Basics
import Foundation
import TestSupport
import XCTest
@testable import RedisPlugin

/// The plugin against a real redis-server with ACLs, checked from the outside with `redis-cli`
/// and our own client: credentials log in and have exactly the rights they were granted.
final class RedisPluginTests: XCTestCase {
    private var server: RedisTestServer!
    private var admin: RedisConnection!
    private var usersToDelete: [String] = []

    override func setUpWithError() throws {
        server = try RedisTestServer.fromEnvironment()
        admin = try RedisConnection.connect(host: server.host, port: server.port,
                                            username: server.adminUsername, password: server.adminPassword)
    }

    override func tearDown() {
        for user in usersToDelete { _ = try? admin?.command(["ACL", "DELUSER", user]) }
        admin?.close()
    }

    // MARK: - Helpers

    private func plugin(_ extra: [String: JSONValue] = [:], verify: Bool = true) throws -> RedisPlugin {
        let plugin = RedisPlugin()
        _ = try plugin.initialize(InitializeRequest(config: server.config(extra), verifyConnection: verify))
        addTeardownBlock { plugin.close() }
        return plugin
    }

    private func unique(_ prefix: String) -> String {
        let name = "\(prefix)-\(SecureRandom.base62(8))"
        usersToDelete.append(name)
        return name
    }

    private func newUser(_ plugin: RedisPlugin, statements: [String] = [], password: String = "Dyn-Passw0rd-1") throws -> String {
        let response = try plugin.newUser(NewUserRequest(
            usernameConfig: UsernameMetadata(displayName: "token", roleName: "my-role"), statements: statements,
            password: password, expiration: Date().addingTimeInterval(3600)))
        usersToDelete.append(response.username)
        return response.username
    }

    private func cli(_ user: String, _ password: String, _ arguments: String...) throws -> String {
        try server.redisCLI(username: user, password: password, arguments)
    }

    /// redis-cli prints the refused AUTH, then the NOAUTH answer to the command it still sends.
    private func assertLoginRefused(_ user: String, _ password: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let output = try cli(user, password, "GET", "x")
        XCTAssertTrue(output.hasPrefix("AUTH failed: WRONGPASS invalid username-password pair or user is disabled."),
                      output, file: file, line: line)
    }

    private func pluginError(_ body: () throws -> Void) -> PluginError? {
        do {
            try body()
            return nil
        } catch {
            return error as? PluginError
        }
    }

    private func userCount() throws -> Int {
        try admin.command(["ACL", "LIST"]).arrayValue?.count ?? -1
    }

    /// `ACL GETUSER` as a dictionary of field name to value.
    private func aclUser(_ name: String) throws -> [String: RESPValue] {
        let fields = try XCTUnwrap(admin.command(["ACL", "GETUSER", name]).arrayValue)
        var result: [String: RESPValue] = [:]
        for pair in stride(from: 0, to: fields.count - 1, by: 2) {
            result[fields[pair].text ?? ""] = fields[pair + 1]
        }
        return result
    }

    // MARK: - Connection

    /// Verification logs in and runs ACL GETUSER on its own user: the server's client list shows
    /// the plugin's connection with that as its last command.
    func testVerifyConnectionLogsInAndChecksACLRights() throws {
        let name = unique("verifier")
        try admin.command(["ACL", "SETUSER", name, "on", ">Verify-pw-11", "+@admin"])
        _ = try plugin(["username": .string(name), "password": "Verify-pw-11"])
        let clients = try XCTUnwrap(admin.command(["CLIENT", "LIST"]).text)
        let line = clients.split(separator: "\n").first { $0.contains(" user=\(name) ") }
        XCTAssertTrue(line?.contains(" cmd=acl|getuser ") == true, clients)
    }

    func testWrongPasswordIsAClearErrorWithoutThePassword() throws {
        let secret = "not-the-Passw0rd-9431"
        let error = pluginError { _ = try self.plugin(["password": .string(secret)]) }
        XCTAssertEqual(error?.kind, .connection)
        XCTAssertEqual(error?.message, "error verifying connection: Redis at 127.0.0.1:\(server.port) refused the login of user \"\(server.adminUsername)\": WRONGPASS invalid username-password pair or user is disabled.")
        XCTAssertFalse(error?.message.contains(secret) ?? true)
    }

    func testVerifyWithoutACLRightsSaysWhatIsMissing() throws {
        let name = unique("no-acl")
        try admin.command(["ACL", "SETUSER", name, "on", ">plain-pw", "~*", "+@read"])
        let error = pluginError { _ = try self.plugin(["username": .string(name), "password": "plain-pw"]) }
        XCTAssertEqual(error?.kind, .database)
        XCTAssertEqual(error?.message, "error verifying connection: user \"\(name)\" is not allowed to run ACL GETUSER on Redis at 127.0.0.1:\(server.port): NOPERM this user has no permissions to run the 'acl|getuser' command")
    }

    /// Without verification nothing connects: a closed port is accepted, and only the first real
    /// call finds out.
    func testVerifyConnectionFalseDoesNotConnect() throws {
        let port = String(try SilentListener.unusedPort())
        let plugin = try plugin(["port": .string(port)], verify: false)
        let error = pluginError { _ = try plugin.deleteUser(DeleteUserRequest(username: "anyone", statements: [])) }
        XCTAssertEqual(error?.kind, .connection)
        XCTAssertEqual(error?.message, "failed to delete user \"anyone\": could not connect to Redis at 127.0.0.1:\(port): Connection refused")
    }

    func testUnreachablePortFailsQuicklyNamingHostAndPort() throws {
        let port = String(try SilentListener.unusedPort())
        let start = Date()
        let error = pluginError { _ = try self.plugin(["port": .string(port)]) }
        XCTAssertEqual(error?.kind, .connection)
        XCTAssertEqual(error?.message, "error verifying connection: could not connect to Redis at 127.0.0.1:\(port): Connection refused")
        XCTAssertLessThan(Date().timeIntervalSince(start), 1)
    }

    func testHungListenerTimesOutWithinConnectTimeout() throws {
        let listener = try SilentListener()
        let start = Date()
        let error = pluginError { _ = try self.plugin(["port": .int(listener.port), "connect_timeout": "500ms"]) }
        XCTAssertEqual(error?.kind, .connection)
        XCTAssertEqual(error?.message, "error verifying connection: timed out after 0.5s waiting for a reply from Redis at 127.0.0.1:\(listener.port)")
        XCTAssertLessThan(Date().timeIntervalSince(start), 2)
    }

    // MARK: - Dynamic users

    func testDefaultRulesGiveAReadOnlyUser() throws {
        try admin.command(["SET", "redis-plugin-test-key", "hello"])
        let username = try newUser(plugin(), password: "Read-Only-pw-1")
        XCTAssertNotNil(username.range(of: #"^V_TOKEN_MY-ROLE_[A-Z0-9]{20}_[0-9]{10}$"#, options: .regularExpression), username)

        XCTAssertEqual(try cli(username, "Read-Only-pw-1", "GET", "redis-plugin-test-key"), "hello")
        XCTAssertEqual(try cli(username, "Read-Only-pw-1", "SET", "redis-plugin-test-key", "1"),
                       "NOPERM this user has no permissions to run the 'set' command")
        let redis = try RedisConnection.connect(host: server.host, port: server.port, username: username, password: "Read-Only-pw-1")
        defer { redis.close() }
        XCTAssertThrowsError(try redis.command(["SET", "k", "v"])) { XCTAssertEqual(($0 as! RedisError).code, "NOPERM") }
        XCTAssertEqual(try aclUser(username)["keys"]?.text, "~*")
        XCTAssertEqual(try aclUser(username)["commands"]?.text, "-@all +@read")
    }

    func testEveryRuleOfEveryStatementIsApplied() throws {
        let username = try newUser(plugin(), statements: [#"["~app:*", "+get"]"#, #"["+set", "+del"]"#], password: "Scoped-pw-2")
        XCTAssertEqual(try cli(username, "Scoped-pw-2", "SET", "app:1", "x"), "OK")
        XCTAssertEqual(try cli(username, "Scoped-pw-2", "GET", "app:1"), "x")
        XCTAssertEqual(try cli(username, "Scoped-pw-2", "DEL", "app:1"), "1")
        XCTAssertEqual(try cli(username, "Scoped-pw-2", "GET", "other"),
                       "NOPERM this user has no permissions to access one of the keys used as arguments")
        XCTAssertEqual(try cli(username, "Scoped-pw-2", "EXISTS", "app:1"),
                       "NOPERM this user has no permissions to run the 'exists' command")
        XCTAssertEqual(try aclUser(username)["keys"]?.text, "~app:*")
        // Redis lists single commands in no fixed order.
        XCTAssertEqual(Set(try aclUser(username)["commands"]?.text?.split(separator: " ") ?? []), ["-@all", "+get", "+set", "+del"])
    }

    func testABadRuleCreatesNothing() throws {
        let before = try userCount()
        let error = pluginError { _ = try self.newUser(self.plugin(), statements: [#"["~*", "foo"]"#], password: "Bad-rule-pw-3") }
        XCTAssertEqual(error?.kind, .database)
        XCTAssertTrue(error?.message.hasSuffix("rejected ACL SETUSER: ERR Error in ACL SETUSER modifier 'foo': Syntax error") ?? false,
                      String(describing: error))
        XCTAssertFalse(error?.message.contains("Bad-rule-pw-3") ?? true)
        XCTAssertEqual(try userCount(), before)
    }

    func testAStatementThatIsNotJSONIsRejectedBeforeAnythingIsSent() throws {
        let before = try userCount()
        let error = pluginError { _ = try self.newUser(self.plugin(), statements: ["+@read"]) }
        XCTAssertEqual(error?.kind, .invalidConfiguration)
        XCTAssertEqual(try userCount(), before)
    }

    func testUsernameTemplateIsUsedAndAnExistingUserIsNotTakenOver() throws {
        let name = unique("templated")
        let plugin = try plugin(["username_template": .string(name)])
        XCTAssertEqual(try newUser(plugin, password: "Templ-pw-4"), name)
        XCTAssertEqual(try cli(name, "Templ-pw-4", "ACL", "WHOAMI"),
                       "NOPERM this user has no permissions to run the 'acl|whoami' command")

        let error = pluginError { _ = try self.newUser(plugin, statements: [#"["+@all"]"#], password: "Other-pw-5") }
        XCTAssertEqual(error?.message, "failed to create user \"\(name)\": the user already exists in Redis at 127.0.0.1:\(server.port)")
        XCTAssertEqual(try aclUser(name)["commands"]?.text, "-@all +@read")
        try assertLoginRefused(name, "Other-pw-5")
    }

    // MARK: - Revocation

    func testRevokedUserCannotLogInAndRevokingAgainSucceeds() throws {
        let plugin = try plugin()
        let username = try newUser(plugin, password: "Revoke-pw-6")
        let live = try RedisConnection.connect(host: server.host, port: server.port, username: username, password: "Revoke-pw-6")
        defer { live.close() }

        _ = try plugin.deleteUser(DeleteUserRequest(username: username, statements: []))
        try assertLoginRefused(username, "Revoke-pw-6")
        XCTAssertEqual(try admin.command(["ACL", "GETUSER", username]), .null)
        // Redis drops the revoked user's open connections too.
        XCTAssertThrowsError(try live.command(["GET", "x"]))

        _ = try plugin.deleteUser(DeleteUserRequest(username: username, statements: []))
    }

    func testRevokingAUserThatNeverExistedSucceedsAndCreatesNothing() throws {
        let name = "V_NEVER_CREATED_\(Int(Date().timeIntervalSince1970))"
        let before = try userCount()
        XCTAssertNoThrow(try plugin().deleteUser(DeleteUserRequest(username: name, statements: [])))
        XCTAssertEqual(try userCount(), before)
        XCTAssertEqual(try admin.command(["ACL", "GETUSER", name]), .null)
    }

    // MARK: - Static and root rotation

    func testStaticRotationReplacesThePasswordAndKeepsTheRules() throws {
        let name = unique("static")
        try admin.command(["ACL", "SETUSER", name, "on", ">Old-pw-7", ">Second-old-pw", "~cache:*", "+get", "+set"])
        let rulesBefore = try aclUser(name)

        _ = try plugin().updateUser(UpdateUserRequest(username: name, password: PasswordChange(newPassword: "New-pw-8", statements: [])))

        XCTAssertEqual(try cli(name, "New-pw-8", "SET", "cache:a", "1"), "OK")
        XCTAssertEqual(try cli(name, "New-pw-8", "DEL", "cache:a"), "NOPERM this user has no permissions to run the 'del' command")
        for old in ["Old-pw-7", "Second-old-pw"] {
            try assertLoginRefused(name, old)
        }
        let rulesAfter = try aclUser(name)
        XCTAssertEqual(rulesAfter["keys"], rulesBefore["keys"])
        XCTAssertEqual(rulesAfter["commands"], rulesBefore["commands"])
        XCTAssertEqual(rulesAfter["flags"], rulesBefore["flags"])
        XCTAssertEqual(rulesAfter["passwords"]?.arrayValue?.count, 1)
    }

    func testRotatingAMissingUserFailsAndDoesNotCreateIt() throws {
        let name = unique("missing")
        let error = pluginError {
            _ = try self.plugin().updateUser(UpdateUserRequest(username: name, password: PasswordChange(newPassword: "Never-pw-9", statements: [])))
        }
        XCTAssertEqual(error?.kind, .database)
        XCTAssertEqual(error?.message, "failed to change the password of user \"\(name)\": the user does not exist in Redis at 127.0.0.1:\(server.port)")
        XCTAssertEqual(try admin.command(["ACL", "GETUSER", name]), .null)
    }

    /// The configured user rotates its own password with only the ACL rights Vault's README asks for.
    func testRootRotationChangesTheConfiguredUsersPassword() throws {
        let root = unique("root")
        try admin.command(["ACL", "SETUSER", root, "on", ">Root-old-pw", "+@admin"])
        let plugin = try plugin(["username": .string(root), "password": "Root-old-pw"])

        _ = try plugin.updateUser(UpdateUserRequest(username: root, password: PasswordChange(newPassword: "Root-new-pw", statements: []),
                                                    isRootRotation: true))

        try assertLoginRefused(root, "Root-old-pw")
        XCTAssertEqual(try cli(root, "Root-new-pw", "ACL", "LOG", "RESET"), "OK")
        XCTAssertEqual(try aclUser(root)["commands"]?.text, "-@all +@admin")

        // The same instance reconnects with the new password; a fresh one needs it too.
        plugin.close()
        let username = try newUser(plugin)
        _ = try plugin.deleteUser(DeleteUserRequest(username: username, statements: []))
        _ = try self.plugin(["username": .string(root), "password": "Root-new-pw"])
        XCTAssertEqual(pluginError { _ = try self.plugin(["username": .string(root), "password": "Root-old-pw"]) }?.kind, .connection)
    }

    // MARK: - Persistence

    func testACLSaveWritesEveryChangeToTheACLFile() throws {
        guard !server.aclFile.isEmpty else { throw TestRequirement.missing("DBSECRETS_TEST_REDIS_ACLFILE is not set") }
        let plugin = try plugin(["persistence_mode": "ACLSAVE"])
        let aclFile = { (try? String(contentsOfFile: self.server.aclFile, encoding: .utf8)) ?? "" }

        let username = try newUser(plugin, statements: [#"["~p:*", "+get"]"#])
        let line = try XCTUnwrap(aclFile().split(separator: "\n").first { $0.hasPrefix("user \(username) ") })
        XCTAssertTrue(line.hasSuffix("~p:* resetchannels -@all +get"), String(line))

        let before = aclFile()
        _ = try plugin.updateUser(UpdateUserRequest(username: username, password: PasswordChange(newPassword: "Saved-pw-10", statements: [])))
        XCTAssertNotEqual(aclFile(), before)

        _ = try plugin.deleteUser(DeleteUserRequest(username: username, statements: []))
        XCTAssertFalse(aclFile().contains(username))
    }

    func testWithoutPersistenceTheACLFileIsUntouched() throws {
        guard !server.aclFile.isEmpty else { throw TestRequirement.missing("DBSECRETS_TEST_REDIS_ACLFILE is not set") }
        let plugin = try plugin()
        let username = try newUser(plugin)
        let contents = try String(contentsOfFile: server.aclFile, encoding: .utf8)
        XCTAssertFalse(contents.contains(username))
    }

    func testRewriteWithoutAConfigFileFailsAndCreatesNothing() throws {
        let plugin = try plugin(["persistence_mode": "REWRITE"])
        let before = try userCount()
        let error = pluginError { _ = try self.newUser(plugin) }
        XCTAssertEqual(error?.kind, .database)
        XCTAssertTrue(error?.message.contains("the change is live but persistence_mode REWRITE failed: Redis at 127.0.0.1:\(server.port) rejected CONFIG REWRITE: ERR") ?? false,
                      String(describing: error))
        XCTAssertEqual(try userCount(), before)
    }
}
