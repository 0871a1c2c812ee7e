import Foundation
@testable import PostgresPlugin
import TestSupport
import UsernameTemplate
import XCTest

/// The plugin with Vault's semantics against a real PostgreSQL 15 (Tests/servers/start-postgres).
final class PostgresPluginTests: XCTestCase {
    private var server: PostgresTestServer!
    private var admin: PostgresConnection!
    private var plugins: [PostgresPlugin] = []

    /// One superuser session for the whole class: each SCRAM login costs a PBKDF2 run.
    nonisolated(unsafe) private static var sharedAdmin: PostgresConnection?

    override func setUpWithError() throws {
        server = try PostgresTestServer.fromEnvironment()
        if Self.sharedAdmin?.isOpen != true {
            Self.sharedAdmin = try PostgresConnection.connect(.init(
                host: server.host, port: server.port, user: server.user, password: server.password,
                database: server.database))
        }
        admin = Self.sharedAdmin
    }

    override func tearDown() {
        plugins.forEach { $0.close() }
    }

    override class func tearDown() {
        sharedAdmin?.close()
        sharedAdmin = nil
    }

    static let creation = [#"CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';"#]

    // MARK: helpers

    private func rootConfig(_ extra: [String: JSONValue] = [:]) -> [String: JSONValue] {
        var config: [String: JSONValue] = ["connection_url": .string(server.templatedURL),
                                           "username": .string(server.user), "password": .string(server.password)]
        config.merge(extra) { _, new in new }
        return config
    }

    private func makePlugin(_ extra: [String: JSONValue] = [:], verify: Bool = true) throws -> PostgresPlugin {
        let plugin = PostgresPlugin()
        plugins.append(plugin)
        _ = try plugin.initialize(InitializeRequest(config: rootConfig(extra), verifyConnection: verify))
        return plugin
    }

    /// A name no other test uses; a username_template without actions renders as itself.
    private func uniqueName(_ prefix: String = "dbs") -> String {
        let name = "\(prefix)-\(UUID().uuidString.prefix(8).lowercased())"
        addTeardownBlock { [admin] in _ = try? admin?.simpleQuery("DROP ROLE IF EXISTS \"\(name)\"") }
        return name
    }

    private func roleExists(_ name: String) throws -> Bool {
        try admin.simpleQuery("SELECT count(*) FROM pg_roles WHERE rolname = '\(name)'").rows == [["1"]]
    }

    private func validUntil(_ name: String) throws -> Int? {
        let rows = try admin.simpleQuery(
            "SELECT extract(epoch FROM rolvaliduntil)::bigint FROM pg_roles WHERE rolname = '\(name)'").rows
        return rows.first?.first.flatMap { $0.flatMap { Int($0) } }
    }

    private func newUser(_ plugin: PostgresPlugin, password: String = "A1a-" + UUID().uuidString,
                         statements: [String] = creation, expiresIn: TimeInterval = 3600) throws -> (String, String) {
        let response = try plugin.newUser(NewUserRequest(
            usernameConfig: UsernameMetadata(displayName: "token", roleName: "readonly"), statements: statements,
            password: password, expiration: Date().addingTimeInterval(expiresIn)))
        return (response.username, password)
    }

    private func canLogIn(_ user: String, _ password: String) throws -> Bool {
        try server.psql(user: user, password: password, "SELECT 1").status == 0
    }

    private func assertPluginError(_ expression: @autoclosure () throws -> some Any, kind: PluginError.Kind? = nil,
                                   contains expected: String, file: StaticString = #filePath, line: UInt = #line,
                                   _ check: (String) -> Void = { _ in }) {
        XCTAssertThrowsError(try expression(), file: file, line: line) { error in
            guard let error = error as? PluginError else { return XCTFail("not a PluginError: \(error)", file: file, line: line) }
            XCTAssertTrue(error.message.contains(expected), error.message, file: file, line: line)
            if let kind { XCTAssertEqual(error.kind, kind, error.message, file: file, line: line) }
            check(error.message)
        }
    }

    // MARK: initialize

    func testInitializeReturnsTheConfigUnchanged() throws {
        let config = rootConfig(["max_open_connections": "3", "someotherdata": "testing"])
        let response = try PostgresPlugin().initialize(InitializeRequest(config: config, verifyConnection: true))
        XCTAssertEqual(response.config, config)
        XCTAssertEqual(PostgresPluginInfo.name, "postgresql-database-plugin")
    }

    func testInitializeRejectsWhatVaultRejects() {
        assertPluginError(try makePlugin(["connection_url": ""]), kind: .invalidConfiguration,
                          contains: "connection_url cannot be empty")
        assertPluginError(try makePlugin(["username": "{{username}}"]), kind: .invalidConfiguration,
                          contains: "username and/or password cannot contain the template variables")
        assertPluginError(try makePlugin(["password": "x{{password}}"]),
                          contains: "username and/or password cannot contain the template variables")
        assertPluginError(try makePlugin(["password_authentication": "md5"]),
                          contains: "'md5' is not a valid password authentication type")
        assertPluginError(try makePlugin(["connection_url": "postgres://{{username}}:{{password}}@h/db?sslmode=on"]),
                          contains: "invalid sslmode")
    }

    func testAnUnparsableURLEchoesNeitherHostNorPassword() {
        assertPluginError(try makePlugin(["connection_url": "postgresql://:pw-secret-1@[localhost"], verify: false),
                          kind: .invalidConfiguration, contains: "unable to parse connection url") { message in
            XCTAssertFalse(message.contains("localhost"))
            XCTAssertFalse(message.contains("pw-secret-1"))
        }
    }

    func testVerifyingAWrongPasswordFailsWithoutShowingIt() {
        assertPluginError(try makePlugin(["password": "not-the-password-42"]), kind: .connection,
                          contains: "error verifying connection: ") { message in
            XCTAssertTrue(message.contains("SQLSTATE 28P01"), message)
            XCTAssertFalse(message.contains("not-the-password-42"), message)
        }
        XCTAssertNoThrow(try makePlugin(["password": "not-the-password-42"], verify: false))
    }

    func testAnUnreachablePortFailsFastNamingHostAndPortButNotThePassword() throws {
        let port = try SilentListener.unusedPort()
        let started = Date()
        assertPluginError(try makePlugin(["connection_url": .string("postgresql://{{username}}:{{password}}@127.0.0.1:\(port)/db")]),
                          kind: .connection, contains: "127.0.0.1:\(port)") { message in
            XCTAssertFalse(message.contains(self.server.password), message)
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 2)
    }

    func testAHungServerTimesOutAfterConnectTimeout() throws {
        let listener = try SilentListener()
        defer { listener.close() }
        let started = Date()
        assertPluginError(try makePlugin(["connection_url": .string(
            "postgresql://{{username}}:{{password}}@127.0.0.1:\(listener.port)/db?connect_timeout=1")]),
                          kind: .connection, contains: "timed out after 1s waiting for 127.0.0.1:\(listener.port)")
        XCTAssertLessThan(Date().timeIntervalSince(started), 2.5)
    }

    func testTheKeyValueFormConnects() throws {
        let url = "host=\(server.host) port=\(server.port) user={{username}} password={{password}} dbname=\(server.database) sslmode=disable"
        let plugin = try makePlugin(["connection_url": .string(url), "username_template": .string(uniqueName())])
        let (user, password) = try newUser(plugin)
        XCTAssertTrue(try canLogIn(user, password))
    }

    // MARK: newUser

    func testCreatedCredentialsLogInWithPsqlAndWithOurClient() throws {
        let name = uniqueName()
        let plugin = try makePlugin(["username_template": .string(name)])
        let (user, password) = try newUser(plugin, expiresIn: 3600)
        XCTAssertEqual(user, name)
        XCTAssertTrue(try canLogIn(user, password))
        let connection = try PostgresConnection.connect(.init(host: server.host, port: server.port, user: user,
                                                              password: password, database: server.database))
        XCTAssertEqual(try connection.simpleQuery("SELECT current_user").rows, [[user]])
        connection.close()
        let expected = Int(Date().addingTimeInterval(3600).timeIntervalSince1970)
        XCTAssertEqual(Double(try XCTUnwrap(try validUntil(user))), Double(expected), accuracy: 5)
    }

    func testTheDefaultUsernameTemplateIsVaults() throws {
        let plugin = try makePlugin()
        let response = try plugin.newUser(NewUserRequest(
            usernameConfig: UsernameMetadata(displayName: "displayname", roleName: "longrolename"),
            statements: Self.creation, password: "A1a-password", expiration: Date().addingTimeInterval(60)))
        addTeardownBlock { [admin] in _ = try? admin?.simpleQuery("DROP ROLE IF EXISTS \"\(response.username)\"") }
        XCTAssertNotNil(response.username.range(of: #"^v-displayn-longrole-[a-zA-Z0-9]{20}-[0-9]{10}$"#,
                                                options: .regularExpression), response.username)
    }

    func testEmptyCreationStatementsAreRefused() throws {
        let plugin = try makePlugin()
        assertPluginError(try newUser(plugin, statements: []), contains: "empty creation statements")
    }

    func testAFailingCreationStatementLeavesNoUserAndShowsTheSQLState() throws {
        let name = uniqueName()
        let plugin = try makePlugin(["username_template": .string(name)])
        let statements = Self.creation + [#"GRANT SELECT ON no_such_table TO "{{name}}";"#]
        assertPluginError(try newUser(plugin, password: "Secret-Pass-1", statements: statements), kind: .database,
                          contains: "failed to execute query: ERROR: relation \"no_such_table\" does not exist (SQLSTATE 42P01)")
        XCTAssertFalse(try roleExists(name))
        // The session is still usable after the rollback, and the name is free again.
        let (user, password) = try newUser(plugin)
        XCTAssertEqual(user, name)
        XCTAssertTrue(try canLogIn(user, password))
    }

    func testAStatementErrorQuotingThePasswordDoesNotShowIt() throws {
        let plugin = try makePlugin(["username_template": .string(uniqueName())])
        assertPluginError(try newUser(plugin, password: "Hidden-Pass-9", statements: ["CREATE ROLE x PASSWORD '{{password}}' BOGUS"]),
                          contains: "ERROR: syntax error (SQLSTATE 42601); the statement held the password") { message in
            XCTAssertFalse(message.contains("Hidden-Pass-9"), message)
            XCTAssertFalse(message.contains("BOGUS"), "the server's excerpt: \(message)")
        }
        // Outside quotes it cannot be written safely at all: refused before it reaches the server.
        assertPluginError(try newUser(plugin, password: "Hidden-Pass-9", statements: ["CREATE ROLE x PASSWORD {{password}}"]),
                          contains: "cannot put the password into the statement: it is outside quotes") { message in
            XCTAssertFalse(message.contains("Hidden-Pass-9"), message)
        }
    }

    func testABlockWithENDRunsWithoutSplitting() throws {
        let name = uniqueName()
        let plugin = try makePlugin(["username_template": .string(name)])
        let block = """
            DO $$
            BEGIN
              CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}';
              ALTER ROLE "{{name}}" CONNECTION LIMIT 3;
            END
            $$;
            """
        let (user, password) = try newUser(plugin, statements: [block])
        XCTAssertTrue(try canLogIn(user, password))
        XCTAssertEqual(try admin.simpleQuery("SELECT rolconnlimit FROM pg_roles WHERE rolname = '\(user)'").rows, [["3"]])
    }

    func testSCRAMPasswordAuthenticationSendsOnlyAVerifier() throws {
        let plugin = try makePlugin(["username_template": .string(uniqueName()), "password_authentication": "scram-sha-256"])
        let (user, password) = try newUser(plugin)
        let stored = try admin.simpleQuery("SELECT rolpassword FROM pg_authid WHERE rolname = '\(user)'").rows.first?.first
        XCTAssertEqual(stored??.hasPrefix("SCRAM-SHA-256$4096:"), true)
        XCTAssertTrue(try canLogIn(user, password))
    }

    // MARK: updateUser

    func testRenewMovesValidUntil() throws {
        let plugin = try makePlugin(["username_template": .string(uniqueName())])
        let (user, _) = try newUser(plugin, expiresIn: 60)
        let later = Date().addingTimeInterval(7200)
        _ = try plugin.updateUser(UpdateUserRequest(username: user,
                                                    expiration: ExpirationChange(newExpiration: later, statements: [])))
        XCTAssertEqual(Double(try XCTUnwrap(try validUntil(user))), later.timeIntervalSince1970, accuracy: 2)
    }

    func testRotatingAStaticUserChangesItsPassword() throws {
        let name = uniqueName("static")
        try admin.simpleQuery("CREATE ROLE \"\(name)\" LOGIN PASSWORD 'old-password'")
        let plugin = try makePlugin()
        _ = try plugin.updateUser(UpdateUserRequest(username: name,
                                                    password: PasswordChange(newPassword: "New-Password-1", statements: [])))
        XCTAssertTrue(try canLogIn(name, "New-Password-1"))
        XCTAssertFalse(try canLogIn(name, "old-password"))
    }

    func testRotatingAMissingUserSaysItDoesNotExist() throws {
        let plugin = try makePlugin()
        assertPluginError(try plugin.updateUser(UpdateUserRequest(
            username: "no-such-user", password: PasswordChange(newPassword: "Pass-1", statements: []))),
                          contains: "user does not appear to exist")
    }

    func testRootRotationChangesTheConfiguredUsersPassword() throws {
        let root = uniqueName("root")
        try admin.simpleQuery("CREATE ROLE \"\(root)\" SUPERUSER LOGIN PASSWORD 'root-old-pw'")
        let plugin = try makePlugin(["username": .string(root), "password": "root-old-pw"])
        _ = try plugin.updateUser(UpdateUserRequest(
            username: root, password: PasswordChange(newPassword: "Root-New-Pw-2", statements: []), isRootRotation: true))
        XCTAssertTrue(try canLogIn(root, "Root-New-Pw-2"))
        XCTAssertFalse(try canLogIn(root, "root-old-pw"))
        // What the engine does next: re-initialize with the stored new password.
        XCTAssertNoThrow(try makePlugin(["username": .string(root), "password": "Root-New-Pw-2"]))
    }

    // MARK: deleteUser

    func testDefaultRevocationDropsAUserHoldingGrants() throws {
        let plugin = try makePlugin(["username_template": .string(uniqueName())])
        try admin.simpleQuery("""
            CREATE SCHEMA IF NOT EXISTS dbs_app; CREATE TABLE IF NOT EXISTS dbs_app.items (id serial, name text);
            CREATE TABLE IF NOT EXISTS public.dbs_notes (id int);
            CREATE OR REPLACE FUNCTION dbs_app.answer() RETURNS int LANGUAGE sql AS 'SELECT 42';
            """)
        // The server is shared: a superuser's table left in public would make the default
        // revocation of every later test's non-superuser admin fail (it may not revoke on it).
        defer { _ = try? admin.simpleQuery("DROP TABLE IF EXISTS public.dbs_notes; DROP SCHEMA IF EXISTS dbs_app CASCADE") }
        let statements = Self.creation + [
            #"GRANT USAGE ON SCHEMA dbs_app TO "{{name}}";"#,
            #"GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA dbs_app TO "{{name}}";"#,
            #"GRANT USAGE ON ALL SEQUENCES IN SCHEMA dbs_app TO "{{name}}";"#,
            #"GRANT EXECUTE ON FUNCTION dbs_app.answer() TO "{{name}}";"#,
            #"GRANT SELECT ON public.dbs_notes TO "{{name}}";"#,
            #"GRANT CREATE ON DATABASE postgres TO "{{name}}";"#,
        ]
        let (user, password) = try newUser(plugin, statements: statements)
        XCTAssertTrue(try canLogIn(user, password))
        _ = try plugin.deleteUser(DeleteUserRequest(username: user, statements: []))
        XCTAssertFalse(try roleExists(user))
        XCTAssertFalse(try canLogIn(user, password))
    }

    /// Like Vault's default, revocation neither reassigns nor drops what the user owns: PostgreSQL
    /// refuses to drop the role, and the lease stays to be retried once a DBA has looked.
    func testDefaultRevocationOfAUserOwningATableFailsWithSQLState2BP01() throws {
        let plugin = try makePlugin(["username_template": .string(uniqueName())])
        let (user, _) = try newUser(plugin)
        let table = "dbs_owned_\(UUID().uuidString.prefix(8).lowercased())"
        try admin.simpleQuery("CREATE TABLE public.\(table) (id int); ALTER TABLE public.\(table) OWNER TO \"\(user)\"")
        defer { _ = try? admin.simpleQuery("DROP TABLE public.\(table)") }
        assertPluginError(try plugin.deleteUser(DeleteUserRequest(username: user, statements: [])), kind: .database,
                          contains: "SQLSTATE 2BP01")
        XCTAssertTrue(try roleExists(user))
    }

    func testCustomRevocationStatementsRunInATransaction() throws {
        let plugin = try makePlugin(["username_template": .string(uniqueName())])
        let (user, password) = try newUser(plugin)
        _ = try plugin.deleteUser(DeleteUserRequest(username: user, statements: [
            #"REVOKE ALL ON SCHEMA public FROM "{{name}}"; DROP ROLE "{{name}}";"#]))
        XCTAssertFalse(try roleExists(user))
        XCTAssertFalse(try canLogIn(user, password))
    }

    /// The revocation statements go to the server in one write with BEGIN and COMMIT. When one
    /// fails, PostgreSQL refuses the statements after it and answers the COMMIT with ROLLBACK:
    /// what ran before the failure is undone, what comes after never runs, and the connection
    /// is ready for the next lease.
    func testAFailingRevocationStatementInTheOneWriteTransactionAppliesNothing() throws {
        let plugin = try makePlugin(["username_template": .string(uniqueName())])
        let (user, password) = try newUser(plugin)
        let marker = "dbs_pipeline_\(UUID().uuidString.prefix(8).lowercased())"
        defer { _ = try? admin.simpleQuery("DROP TABLE IF EXISTS public.\(marker)") }
        assertPluginError(try plugin.deleteUser(DeleteUserRequest(username: user, statements: [
            #"ALTER ROLE "{{name}}" NOLOGIN;"#,
            "CREATE TABLE public.\(marker) (id int);",
            "SELECT 1/0;",
            #"DROP ROLE "{{name}}";"#,
        ])), kind: .database, contains: "division by zero")
        XCTAssertTrue(try roleExists(user), "the DROP after the failure never ran")
        XCTAssertTrue(try canLogIn(user, password), "the ALTER before it was rolled back")
        XCTAssertEqual(try admin.simpleQuery("SELECT to_regclass('public.\(marker)') IS NULL").rows, [["t"]])
        _ = try plugin.deleteUser(DeleteUserRequest(username: user, statements: [#"DROP ROLE "{{name}}";"#]))
        XCTAssertFalse(try roleExists(user), "the same session revokes the next time")
    }

    /// The existence check travels in the same write (a cast to regrole, inside the block): for a
    /// user that is gone, none of the statements runs and the revocation succeeds, whatever the
    /// name looks like (digits alone are an OID to regrole, unless quoted; a quote is doubled).
    func testRevokingAUserThatIsGoneRunsNoneOfTheStatements() throws {
        let plugin = try makePlugin(["username_template": .string(uniqueName())])
        let marker = "dbs_absent_\(UUID().uuidString.prefix(8).lowercased())"
        defer { _ = try? admin.simpleQuery("DROP TABLE IF EXISTS public.\(marker)") }
        for name in [uniqueName(), "10", "dbs-\"quoted", "-", "public"] {
            XCTAssertNoThrow(try plugin.deleteUser(DeleteUserRequest(username: name, statements: [
                "CREATE TABLE public.\(marker) (id int);", #"DROP ROLE "{{name}}";"#])), name)
            XCTAssertEqual(try admin.simpleQuery("SELECT to_regclass('public.\(marker)') IS NULL").rows, [["t"]], name)
        }
    }

    /// Statements that end or open a transaction block themselves run one at a time, as before:
    /// in one write, a ROLLBACK among them would end the aborted block after a failure and let the
    /// statements after it run.
    func testRevocationStatementsWithTransactionControlStopAtTheFirstFailure() throws {
        XCTAssertTrue(PostgresStatements.canPipeline([#"REVOKE ALL ON SCHEMA public FROM "x""#, #"DROP ROLE "x""#]))
        for control in ["COMMIT", "rollback", " End", "ABORT", "SAVEPOINT s", "RELEASE s", "BEGIN", "START TRANSACTION",
                        "PREPARE TRANSACTION 'x'", "-- a comment\nDROP ROLE x", "/* c */ DROP ROLE x"] {
            XCTAssertFalse(PostgresStatements.canPipeline([#"DROP ROLE "x""#, control]), control)
        }
        let plugin = try makePlugin(["username_template": .string(uniqueName())])
        let (user, _) = try newUser(plugin)
        assertPluginError(try plugin.deleteUser(DeleteUserRequest(username: user, statements: [
            "SELECT 1/0;", "ROLLBACK;", #"DROP ROLE "{{name}}";"#,
        ])), kind: .database, contains: "division by zero")
        XCTAssertTrue(try roleExists(user))
    }

    func testDeletingAUserDroppedOutOfBandSucceeds() throws {
        let plugin = try makePlugin(["username_template": .string(uniqueName())])
        let (user, _) = try newUser(plugin)
        try admin.simpleQuery("DROP ROLE \"\(user)\"")
        XCTAssertNoThrow(try plugin.deleteUser(DeleteUserRequest(username: user, statements: [])))
        XCTAssertNoThrow(try plugin.deleteUser(DeleteUserRequest(username: user, statements: [#"DROP ROLE "{{name}}";"#])))
    }
}
