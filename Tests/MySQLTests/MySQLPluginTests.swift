import Foundation
import TestSupport
import XCTest
@testable import MySQLPlugin

/// The plugin against the real MariaDB, witnessed by Debian's `mariadb` client.
final class MySQLPluginTests: XCTestCase {
    private var server: MariaDBTestServer!
    private var plugins: [MySQLPlugin] = []
    private var createdUsers: [String] = []

    override func setUpWithError() throws {
        server = try MariaDBTestServer.fromEnvironment()
    }

    override func tearDownWithError() throws {
        plugins.forEach { $0.close() }
        for user in createdUsers {
            try server.admin("DROP USER IF EXISTS '\(user)'@'%'")
        }
    }

    /// A literal, unique username template, so these tests do not depend on the template language.
    private func uniqueName(_ prefix: String = "t") -> String {
        let name = prefix + "-" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(10).lowercased()
        createdUsers.append(name)
        return name
    }

    private func plugin(_ variant: MySQLPlugin.Variant = .mysql, config: [String: JSONValue]) throws -> MySQLPlugin {
        let plugin = MySQLPlugin(variant: variant)
        plugins.append(plugin)
        _ = try plugin.initialize(InitializeRequest(config: config, verifyConnection: true))
        return plugin
    }

    private func plugin(username name: String) throws -> MySQLPlugin {
        try plugin(config: server.config(extra: ["username_template": .string(name)]))
    }

    private let readOnlyCreation = [
        "CREATE USER '{{name}}'@'%' IDENTIFIED BY '{{password}}';",
        "GRANT SELECT ON dbsecrets_test.* TO '{{name}}'@'%';",
    ]

    private func newUser(_ plugin: MySQLPlugin, statements: [String]? = nil, password: String = "Pw-0123456789abcdef") throws -> String {
        try plugin.newUser(NewUserRequest(usernameConfig: UsernameMetadata(displayName: "token", roleName: "readonly"),
                                          statements: statements ?? readOnlyCreation, password: password,
                                          expiration: Date().addingTimeInterval(3600))).username
    }

    private func exists(_ user: String) throws -> Bool {
        try server.admin("SELECT COUNT(*) FROM mysql.user WHERE User = '\(user)'").trimmingCharacters(in: .whitespacesAndNewlines) != "0"
    }

    // MARK: dynamic credentials

    func testCredentialsLogInWithExactlyTheGrantedPrivileges() throws {
        let name = uniqueName()
        let plugin = try plugin(username: name)
        let password = "Pw-0123456789abcdef"
        XCTAssertEqual(try newUser(plugin, password: password), name)

        let select = try server.client(user: name, password: password, "SELECT name FROM dbsecrets_test.items")
        XCTAssertTrue(select.succeeded, select.error)
        XCTAssertEqual(select.output, "first\n")
        let insert = try server.client(user: name, password: password, "INSERT INTO dbsecrets_test.items VALUES (9, 'x')")
        XCTAssertFalse(insert.succeeded)
        XCTAssertTrue(insert.error.contains("INSERT command denied"), insert.error)

        // And our own client logs in with them too.
        let conn = try MySQLConnection.connect(.init(address: .tcp(host: server.host, port: server.port),
                                                     username: name, password: password))
        XCTAssertEqual(try conn.query("SELECT CURRENT_USER()").rows, [["\(name)@%"]])
        conn.close()
    }

    func testRevocationDropsTheUser() throws {
        let name = uniqueName()
        let plugin = try plugin(username: name)
        _ = try newUser(plugin, password: "Pw-revoke-0123456789")
        _ = try plugin.deleteUser(DeleteUserRequest(username: name, statements: []))
        XCTAssertFalse(try exists(name))
        let login = try server.client(user: name, password: "Pw-revoke-0123456789", "SELECT 1")
        XCTAssertFalse(login.succeeded)
        XCTAssertTrue(login.error.contains("Access denied"), login.error)
    }

    func testRevokingAnAbsentUserSucceeds() throws {
        let plugin = try plugin(username: uniqueName())
        XCTAssertNoThrow(try plugin.deleteUser(DeleteUserRequest(username: "never-created-user", statements: [])))
        XCTAssertNoThrow(try plugin.deleteUser(DeleteUserRequest(
            username: "never-created-user", statements: ["DROP USER '{{name}}'@'localhost'"])))
    }

    func testEmptyCreationStatementsAreRefused() throws {
        let plugin = try plugin(username: uniqueName())
        XCTAssertThrowsError(try newUser(plugin, statements: [])) { error in
            XCTAssertEqual((error as? PluginError)?.message, "empty creation statements")
        }
    }

    func testFailedCreationLeavesNoHalfMadeUserAndHidesThePassword() throws {
        let name = uniqueName()
        let plugin = try plugin(username: name)
        let password = "Pw-halfmade-0123456"
        XCTAssertThrowsError(try newUser(plugin, statements: [
            "CREATE USER '{{name}}'@'%' IDENTIFIED BY '{{password}}'",
            "GRANT SELECT ON dbsecrets_test.* TO '{{name}}'@'%' IDENTIFIED BY '{{password}}' NONSENSE",
        ], password: password)) { error in
            let error = error as? PluginError
            XCTAssertEqual(error?.kind, .database)
            XCTAssertEqual(error?.message, "Error 1064 (42000): the statement held the password, so the server's message is not shown",
                           "the server's message quotes the statement around the password")
            XCTAssertFalse(error?.message.contains(password) == true, String(describing: error))
        }
        XCTAssertFalse(try exists(name), "the CREATE USER committed by MySQL's implicit commit must be undone")
    }

    func testAPreexistingUserIsNotDroppedWhenCreationFails() throws {
        let name = uniqueName()
        try server.admin("CREATE USER '\(name)'@'%' IDENTIFIED BY 'Pw-existing-012345'")
        let plugin = try plugin(username: name)
        XCTAssertThrowsError(try newUser(plugin))  // CREATE USER fails: the user exists
        XCTAssertTrue(try exists(name))
        XCTAssertTrue(try server.client(user: name, password: "Pw-existing-012345", "SELECT 1").succeeded)
    }

    // MARK: rotation

    func testStaticRotationNewPasswordWorksOldFails() throws {
        let name = uniqueName("static")
        try server.admin("CREATE USER '\(name)'@'%' IDENTIFIED BY 'Pw-old-0123456789ab'")
        let plugin = try plugin(username: uniqueName())
        _ = try plugin.updateUser(UpdateUserRequest(
            username: name, password: PasswordChange(newPassword: "Pw-new-0123456789ab", statements: [])))
        XCTAssertTrue(try server.client(user: name, password: "Pw-new-0123456789ab", "SELECT 1").succeeded)
        XCTAssertFalse(try server.client(user: name, password: "Pw-old-0123456789ab", "SELECT 1").succeeded)
    }

    func testRotatingANonexistentUserIsAClearError() throws {
        let plugin = try plugin(username: uniqueName())
        XCTAssertThrowsError(try plugin.updateUser(UpdateUserRequest(
            username: "nobody-here", password: PasswordChange(newPassword: "Pw-x-0123456789abcd", statements: [])))) { error in
            XCTAssertEqual((error as? PluginError)?.message, "failed to change password: user \"nobody-here\" does not exist")
        }
    }

    func testRootRotationOnASecondAdmin() throws {
        let root = uniqueName("root")
        try server.admin("""
            CREATE USER '\(root)'@'%' IDENTIFIED BY 'Pw-root-old-0123456';
            GRANT ALL PRIVILEGES ON *.* TO '\(root)'@'%' WITH GRANT OPTION;
            """)
        let plugin = try plugin(config: server.config(username: root, password: "Pw-root-old-0123456",
                                                      extra: ["username_template": .string(uniqueName())]))
        _ = try plugin.updateUser(UpdateUserRequest(
            username: root, password: PasswordChange(newPassword: "Pw-root-new-0123456", statements: []),
            isRootRotation: true))
        XCTAssertTrue(try server.client(user: root, password: "Pw-root-new-0123456", "SELECT 1").succeeded)
        XCTAssertFalse(try server.client(user: root, password: "Pw-root-old-0123456", "SELECT 1").succeeded)

        // The same instance reconnects with the new root password after its connection is gone.
        plugin.close()
        XCTAssertNoThrow(try newUser(plugin))
        // A fresh instance configured with the old password no longer gets in.
        XCTAssertThrowsError(try self.plugin(config: server.config(username: root, password: "Pw-root-old-0123456",
                                                                   extra: ["username_template": "x"]))) { error in
            XCTAssertEqual((error as? PluginError)?.kind, .connection)
            XCTAssertTrue("\(error)".hasPrefix("error verifying connection: Error 1045 (28000)"), "\(error)")
            XCTAssertFalse("\(error)".contains("Pw-root-old-0123456"))
        }
    }

    func testExpirationChangeIsANoOpUnlessRenewStatementsAreGiven() throws {
        let name = uniqueName()
        let plugin = try plugin(username: name)
        _ = try newUser(plugin)
        let later = Date().addingTimeInterval(7200)
        XCTAssertNoThrow(try plugin.updateUser(UpdateUserRequest(
            username: name, expiration: ExpirationChange(newExpiration: later, statements: []))))
        _ = try plugin.updateUser(UpdateUserRequest(username: name, expiration: ExpirationChange(
            newExpiration: later, statements: ["GRANT INSERT ON dbsecrets_test.* TO '{{name}}'@'%'"])))
        XCTAssertTrue(try server.admin("SHOW GRANTS FOR '\(name)'@'%'").contains("SELECT, INSERT"))
    }

    // MARK: initialize

    func testVerifyConnectionReportsTheServerErrorWithoutThePassword() throws {
        XCTAssertThrowsError(try plugin(config: server.config(password: "Wrong-pw-0123456789",
                                                             extra: ["username_template": "x"]))) { error in
            XCTAssertEqual((error as? PluginError)?.kind, .connection)
            XCTAssertTrue("\(error)".hasPrefix("error verifying connection: Error 1045 (28000): Access denied"), "\(error)")
            XCTAssertFalse("\(error)".contains("Wrong-pw-0123456789"))
        }
    }

    func testUnreachableServerNamesHostAndPortWithinTheTimeout() throws {
        let port = try SilentListener.unusedPort()
        XCTAssertThrowsError(try plugin(config: [
            "connection_url": .string("{{username}}:{{password}}@tcp(127.0.0.1:\(port))/?timeout=1s"),
            "username": "vault", "password": "Pw-unreach-0123456", "username_template": "x",
        ])) { error in
            XCTAssertTrue("\(error)".hasPrefix("error verifying connection: could not connect to 127.0.0.1:\(port)"), "\(error)")
        }
        // Without verification nothing connects.
        let lazy = MySQLPlugin()
        XCTAssertNoThrow(try lazy.initialize(InitializeRequest(config: [
            "connection_url": .string("{{username}}:{{password}}@tcp(127.0.0.1:\(port))/"),
            "username": "vault", "password": "p", "username_template": "x",
        ], verifyConnection: false)))
    }

    func testHungServerTimesOutThroughTheDSNReadTimeout() throws {
        let listener = try SilentListener()
        defer { listener.close() }
        let start = Date()
        XCTAssertThrowsError(try plugin(config: [
            "connection_url": .string("{{username}}:{{password}}@tcp(127.0.0.1:\(listener.port))/?timeout=1s&readTimeout=500ms"),
            "username": "vault", "password": "p", "username_template": "x",
        ])) { error in
            XCTAssertEqual("\(error)", "error verifying connection: timed out after 0.5s (readTimeout) waiting for 127.0.0.1:\(listener.port) to answer")
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 2)
    }

    func testDatabaseAndSessionVariablesFromTheConnectionURLApply() throws {
        let name = uniqueName()
        var config = server.config(extra: ["username_template": .string(name)])
        config["connection_url"] = .string("{{username}}:{{password}}@tcp(\(server.host):\(server.port))/dbsecrets_test"
            + "?charset=utf8mb4&sql_mode=%27ANSI_QUOTES%27")
        let plugin = try plugin(config: config)
        // Unqualified "items" resolves in the DSN's database; double quotes are identifiers under ANSI_QUOTES.
        _ = try newUser(plugin, statements: [#"CREATE USER '{{name}}'@'%' IDENTIFIED BY '{{password}}'; GRANT SELECT ON "items" TO '{{name}}'@'%'"#])
        XCTAssertTrue(try server.admin("SHOW GRANTS FOR '\(name)'@'%'").contains("ON `dbsecrets_test`.`items`"))
    }

    /// Regression: client parameters of the DSN reached the server as `SET name=value`, which
    /// MariaDB refuses as MySQL 8 does (error 1193). A pinned key changes nothing for a native login.
    func testClientParametersAndAServerKeyLeaveAMariaDBLoginAsItWas() throws {
        var config = server.config(extra: ["username_template": "x", "server_public_key": .string(try RSATestKey.shared().publicPEM)])
        config["connection_url"] = .string(server.connectionURL + "?allowPublicKeyRetrieval=true&compress=false")
        XCTAssertNoThrow(try plugin(config: config))
        config["connection_url"] = .string(server.connectionURL + "?no_such_variable=1")
        XCTAssertThrowsError(try plugin(config: config)) { error in
            XCTAssertTrue("\(error)".contains("connection_url parameter no_such_variable is not one of the driver's"), "\(error)")
            XCTAssertTrue("\(error)".contains("Error 1193"), "\(error)")
        }
    }

    /// MariaDB's own ed25519 plugin, which the server offers: refused by name, with what to use instead.
    func testAnEd25519AccountIsRefusedNamingThePlugin() throws {
        let name = uniqueName("ed")
        if try server.admin("SELECT COUNT(*) FROM information_schema.PLUGINS WHERE PLUGIN_NAME = 'ed25519'")
            .trimmingCharacters(in: .whitespacesAndNewlines) == "0" {
            try server.admin("INSTALL SONAME 'auth_ed25519'")
        }
        try server.admin("CREATE USER '\(name)'@'%' IDENTIFIED VIA ed25519 USING PASSWORD('Pw-ed-0123456789')")
        XCTAssertTrue(try server.client(user: name, password: "Pw-ed-0123456789", "SELECT 1").succeeded, "the mariadb client logs in")
        XCTAssertThrowsError(try MySQLConnection.connect(.init(address: .tcp(host: server.host, port: server.port),
                                                               username: name, password: "Pw-ed-0123456789"))) { error in
            XCTAssertEqual((error as? MySQLError)?.kind, .unsupported)
            XCTAssertTrue("\(error)".hasPrefix("the server asked for the authentication plugin client_ed25519, which dbsecrets "
                + "does not support"), "\(error)")
        }
    }

    func testInitializeReturnsTheConfigurationUnchanged() throws {
        let config = server.config(extra: ["username_template": "x", "max_open_connections": "2"])
        let response = try MySQLPlugin().initialize(InitializeRequest(config: config, verifyConnection: true))
        XCTAssertEqual(response.config, config)
    }
}
