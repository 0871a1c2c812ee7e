import Foundation
import TestSupport
import XCTest

/// Quotes in display names and passwords through the real binary against the real servers: the
/// database gets exactly the user name and password it should, or the command refuses before
/// any statement. Vault substitutes raw text, so a `"` in a display name ran SQL as the root user.
final class SecurityEscapingTests: XCTestCase {
    var tool: FaultBinary!

    override func setUpWithError() throws { tool = try FaultBinary("dbsecrets-escaping") }
    override func tearDown() { tool?.remove() }

    /// A password policy whose passwords hold every quote and escape character SQL has.
    static let quotingPolicy = #"""
        length = 24
        rule "charset" { charset = "'\"\\`;$-#*/" min-chars = 6 }
        rule "charset" { charset = "abcdefgh" min-chars = 2 }
        """#

    private func write(_ args: [String], stdin: String? = nil, file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try tool.run(args, stdin: stdin)
        XCTAssertEqual(r.status, 0, "\(args.prefix(2)): \(r.stderr)", file: file, line: line)
    }

    private func creds(_ role: String) throws -> (username: String, password: String) {
        let r = try tool.run("read", "-format=json", "database/creds/\(role)")
        XCTAssertEqual(r.status, 0, r.stderr)
        let data = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])?["data"] as? [String: Any])
        return (try XCTUnwrap(data["username"] as? String), try XCTUnwrap(data["password"] as? String))
    }

    func testPostgreSQLGetsExactlyTheNameAndPasswordWithQuotesInBoth() throws {
        let server = try PostgresTestServer.fromEnvironment()
        let marker = UUID().uuidString.prefix(6).lowercased()
        // An injection attempt as a display name: it must become part of a name, nothing more.
        tool.extraEnvironment["DBSECRETS_DISPLAY_NAME"] = #"x" SUPERUSER --'\"#
        try write(["write", "sys/policies/password/quotes", "policy=\(Self.quotingPolicy)"])
        try write(["write", "database/config/pg", "plugin_name=postgresql-database-plugin", "connection_url=\(server.templatedURL)",
                   "username=\(server.user)", "password=-", "allowed_roles=*", "password_policy=quotes",
                   #"username_template={{ printf "esc_\#(marker)_%s" .DisplayName }}"#], stdin: server.password)
        try write(["write", "database/roles/ro", "db_name=pg", "default_ttl=1h",
                   #"creation_statements=CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}'; COMMENT ON ROLE "{{name}}" IS 'made for {{name}}'"#])
        let (username, password) = try creds("ro")
        XCTAssertEqual(username, #"esc_\#(marker)_x" SUPERUSER --'\"#)
        XCTAssertTrue(password.contains("'") || password.contains("\"") || password.contains("\\"), password)
        let login = try server.psql(user: username, password: password, "SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user")
        XCTAssertEqual(login.status, 0, login.output)
        XCTAssertEqual(login.output, username + "|f", "logged in as exactly that name, and no superuser")
        let comment = try server.psql(user: server.user, password: server.password,
                                      "SELECT shobj_description(oid, 'pg_authid') FROM pg_roles WHERE rolname = '\(username.replacingOccurrences(of: "'", with: "''"))'")
        XCTAssertEqual(comment.output, "made for " + username)
        XCTAssertEqual(try tool.run("lease", "revoke", "-prefix", "database/creds/ro").status, 0)
        XCTAssertNotEqual(try server.psql(user: username, password: password, "SELECT 1").status, 0, "revoked")

        // A placeholder outside quotes cannot be written safely: refused before any statement.
        try write(["write", "database/roles/bare", "db_name=pg", #"creation_statements=CREATE ROLE {{name}} LOGIN PASSWORD '{{password}}'"#])
        let r = try tool.run("read", "database/creds/bare")
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.contains("is outside quotes in the statement"), r.stderr)
        XCTAssertEqual(try server.psql(user: server.user, password: server.password,
                                       "SELECT count(*) FROM pg_roles WHERE rolname LIKE 'esc_\(marker)%'").output, "0", "no role made")
    }

    /// Passwords made of one letter, so a test can look for any piece of them in the output.
    static let knownPolicy = #"length = 20\#nrule "charset" { charset = "Z" }"#

    func testAFailingStatementWithThePasswordNeverEchoesItOrTheServersExcerpt() throws {
        let server = try PostgresTestServer.fromEnvironment()
        try write(["write", "sys/policies/password/known", "policy=\(Self.knownPolicy)"])
        try write(["write", "database/config/pg", "plugin_name=postgresql-database-plugin", "connection_url=\(server.templatedURL)",
                   "username=\(server.user)", "password=-", "allowed_roles=*", "password_policy=known"], stdin: server.password)
        try write(["write", "database/roles/broken", "db_name=pg",
                   #"creation_statements=CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' NONSENSE"#])
        let r = try tool.run("read", "database/creds/broken")
        XCTAssertEqual(r.status, 2)
        XCTAssertEqual(r.lines.count, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("ERROR: syntax error (SQLSTATE 42601); the statement held the password, so the server's message is not shown"), r.stderr)
        XCTAssertFalse(r.stderr.contains("NONSENSE"), "the server's excerpt of the statement: \(r.stderr)")
        XCTAssertFalse(r.stderr.contains("ZZZ"), "a piece of the password: \(r.stderr)")
    }

    func testMariaDBGetsExactlyTheNameAndPasswordWithQuotesInBoth() throws {
        let server = try MariaDBTestServer.fromEnvironment()
        let marker = UUID().uuidString.prefix(4).lowercased()
        tool.extraEnvironment["DBSECRETS_DISPLAY_NAME"] = #"o'n"e\`"#
        try write(["write", "sys/policies/password/quotes", "policy=\(Self.quotingPolicy)"])
        try write(["write", "database/config/my", "plugin_name=mysql-database-plugin", "connection_url=\(server.connectionURL)",
                   "username=\(server.adminUser)", "password=-", "allowed_roles=*", "password_policy=quotes",
                   #"username_template={{ printf "e\#(marker)_%s" .DisplayName }}"#], stdin: server.adminPassword)
        try write(["write", "database/roles/ro", "db_name=my", "default_ttl=1h",
                   #"creation_statements=CREATE USER '{{name}}'@'%' IDENTIFIED BY '{{password}}'; GRANT USAGE ON *.* TO "{{name}}"@'%'"#])
        let (username, password) = try creds("ro")
        XCTAssertEqual(username, #"e\#(marker)_o'n"e\`"#)
        let login = try server.client(user: username, password: password, "SELECT CURRENT_USER()")
        XCTAssertTrue(login.succeeded, login.error)
        XCTAssertEqual(login.output.trimmingCharacters(in: .whitespacesAndNewlines), #"e\#(marker)_o'n"e\\`@%"#, "mariadb --batch escapes the backslash")
        XCTAssertEqual(try tool.run("lease", "revoke", "-prefix", "database/creds/ro").status, 0)
        XCTAssertFalse(try server.client(user: username, password: password, "SELECT 1").succeeded, "revoked")

        try write(["write", "sys/policies/password/known", "policy=\(Self.knownPolicy)"])
        try write(["write", "database/config/my", "password_policy=known"])
        try write(["write", "database/roles/broken", "db_name=my", #"creation_statements=CREATE USER '{{name}}'@'%' IDENTIFIED BY '{{password}}' NONSENSE"#])
        let r = try tool.run("read", "database/creds/broken")
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.contains("Error 1064 (42000): the statement held the password, so the server's message is not shown"), r.stderr)
        XCTAssertFalse(r.stderr.contains("NONSENSE"), r.stderr)
        XCTAssertFalse(r.stderr.contains("ZZZ"), "a piece of the password: \(r.stderr)")
    }

    func testRedisRefusesAUserNameWithASpaceBeforeAnyCommand() throws {
        let server = try RedisTestServer.fromEnvironment()
        tool.extraEnvironment["DBSECRETS_DISPLAY_NAME"] = "two words"
        try write(["write", "database/config/redis", "plugin_name=redis-database-plugin", "host=\(server.host)", "port=\(server.port)",
                   "username=\(server.adminUsername)", "password=-", "allowed_roles=*"], stdin: server.adminPassword)
        try write(["write", "database/roles/ro", "db_name=redis", "default_ttl=1h"])
        let before = try server.redisCLI(username: server.adminUsername, password: server.adminPassword, ["ACL", "USERS"])
        let r = try tool.run("read", "database/creds/ro")
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.contains("holds a space, which Redis ACL user names cannot"), r.stderr)
        XCTAssertEqual(try server.redisCLI(username: server.adminUsername, password: server.adminPassword, ["ACL", "USERS"]), before)
        XCTAssertEqual(try tool.leases().count, 0)
    }
}
