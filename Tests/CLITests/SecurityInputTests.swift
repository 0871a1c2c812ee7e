import Foundation
import TestSupport
import XCTest

/// Input that reaches too far, through the real binary against the real PostgreSQL: the longest
/// name `write` accepts works for every later command, and an empty or foreign prefix revokes
/// nothing.
final class SecurityInputTests: XCTestCase {
    var tool: FaultBinary!

    override func setUpWithError() throws { tool = try FaultBinary("dbsecrets-input") }
    override func tearDown() { tool?.remove() }

    /// A connection as a root user of its own (CREATEROLE), since the test rotates it: never the
    /// shared server's superuser, whose password every other test needs.
    private func configure(_ server: PostgresTestServer, connection: String = "pg") throws {
        let admin = "input_admin_\(UUID().uuidString.prefix(8).lowercased())"
        XCTAssertEqual(try server.psql(user: server.user, password: server.password,
                                       "CREATE ROLE \(admin) WITH LOGIN CREATEROLE PASSWORD 'admin-initial'").status, 0)
        let r = try tool.run(["write", "database/config/\(connection)", "plugin_name=postgresql-database-plugin",
                              "connection_url=\(server.templatedURL)", "username=\(admin)", "password=-", "allowed_roles=*"],
                             stdin: "admin-initial")
        XCTAssertEqual(r.status, 0, r.stderr)
    }

    private func role(_ name: String, connection: String = "pg") throws {
        let r = try tool.run("write", "database/roles/\(name)", "db_name=\(connection)", "default_ttl=1h",
                             #"creation_statements=CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}'"#)
        XCTAssertEqual(r.status, 0, r.stderr)
    }

    private func leaseID(_ role: String) throws -> String {
        let r = try tool.run("read", "-field=lease_id", "database/creds/\(role)")
        XCTAssertEqual(r.status, 0, r.stderr)
        return r.stdout
    }

    func testTheLongestAcceptedNameWorksForEveryLaterCommand() throws {
        let server = try PostgresTestServer.fromEnvironment()
        let longest = "L" + String(repeating: "o", count: 178) + "g"
        XCTAssertEqual(longest.utf8.count, 180)
        try configure(server, connection: longest)
        try role(longest, connection: longest)
        let id = try leaseID(longest)
        for args in [["lease", "lookup", id], ["lease", "renew", "-increment=30m", id], ["lease", "list"], ["tidy"], ["lease", "revoke", id]] {
            let r = try tool.run(args)
            XCTAssertEqual(r.status, 0, "\(args): \(r.stderr)")
        }
        XCTAssertEqual(try tool.leases().count, 0, "revoked")
        _ = try leaseID(longest)
        var r = try tool.run("lease", "revoke", "-prefix", "database/creds/\(longest)")
        XCTAssertEqual(r.status, 0, r.stderr)

        let user = "long_static_\(UUID().uuidString.prefix(8).lowercased())"
        XCTAssertEqual(try server.psql(user: server.user, password: server.password, "CREATE ROLE \(user) LOGIN PASSWORD 'x'").status, 0)
        for args in [["write", "database/static-roles/S\(longest.dropFirst())", "db_name=\(longest)", "username=\(user)", "rotation_period=1h"],
                     ["write", "-f", "database/rotate-role/S\(longest.dropFirst())"], ["write", "-f", "database/rotate-root/\(longest)"],
                     ["write", "sys/policies/password/\(longest)", "policy=length = 20\nrule \"charset\" { charset = \"abc123\" }"], ["read", "sys/policies/password/\(longest)/generate"],
                     ["delete", "database/roles/\(longest)"], ["delete", "database/config/\(longest)"]] {
            r = try tool.run(args)
            XCTAssertEqual(r.status, 0, "\(args.prefix(2)): \(r.stderr)")
        }

        // One byte more is refused up front, saying the limit.
        let tooLong = longest + "x"
        for args in [["write", "database/roles/\(tooLong)", "db_name=x"], ["write", "database/config/\(tooLong)", "plugin_name=x"],
                     ["read", "database/creds/\(tooLong)"]] {
            r = try tool.run(args)
            XCTAssertEqual(r.status, 2)
            XCTAssertTrue(r.stderr.contains("names are at most 180 bytes long, this one has 181"), r.stderr)
        }
    }

    func testAnEmptyOrForeignPrefixRevokesNothing() throws {
        let server = try PostgresTestServer.fromEnvironment()
        try configure(server)
        try role("ro")
        try role("ro2")
        let ro = try leaseID("ro"), ro2 = try leaseID("ro2")
        for flags in [["-prefix"], ["-force", "-prefix"]] {
            for prefix in ["", " ", "/", "data", "sys/leases", "databases/creds"] {
                let r = try tool.run(["lease", "revoke"] + flags + [prefix])
                XCTAssertEqual(r.status, 2, "\(flags) \(prefix.debugDescription): \(r.stdout)")
                XCTAssertEqual(r.lines.count, 1, r.stderr)
                XCTAssertTrue(r.stderr.contains("unsupported path"), r.stderr)
                XCTAssertEqual(r.stdout, "")
            }
        }
        var r = try tool.run("write", "-f", "sys/leases/revoke-prefix/")
        XCTAssertEqual(r.status, 2, r.stdout)
        XCTAssertTrue(r.stderr.contains("a prefix is required"), r.stderr)
        XCTAssertEqual(Set(try tool.leases().compactMap { $0["id"] as? String }), [ro, ro2], "nothing revoked")

        // A prefix is a path: the leases of ro are not those of ro2.
        r = try tool.run("lease", "revoke", "-prefix", "database/creds/ro")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try tool.leases().compactMap { $0["id"] as? String }, [ro2])
        r = try tool.run("lease", "revoke", "-prefix", "database/creds/ro2/")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try tool.leases().count, 0)
    }
}
