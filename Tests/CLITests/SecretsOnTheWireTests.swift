import Foundation
import TestSupport
import XCTest

/// The real binary against each real server through a recording TCP relay: with TLS on, no root
/// password and no password dbsecrets generates (creds, rotate-role, rotate-root) crosses the
/// network readably; with TLS off the same check finds them, so it can fail. Every operation is
/// exercised over TLS on the way: creds, renew, revoke, rotate-role, rotate-root.
final class SecretsOnTheWireTests: XCTestCase {
    private var tool: FaultBinary!
    private var tls: TLSTestMaterial!
    private let suffix = UUID().uuidString.prefix(6).lowercased()

    override func setUpWithError() throws {
        tool = try FaultBinary("dbsecrets-wire")
        tls = try TLSTestMaterial.fromEnvironment()
    }

    override func tearDown() { tool?.remove() }

    private func ok(_ args: String..., stdin: String? = nil, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        try ok(args, stdin: stdin, file: file, line: line)
    }

    private func ok(_ args: [String], stdin: String? = nil, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let run = try tool.run(args, stdin: stdin)
        XCTAssertEqual(run.status, 0, "\(args.prefix(2)): \(run.stderr)", file: file, line: line)
        return run.stdout
    }

    /// The secrets of one pass: the root password as configured and after rotate-root, the dynamic
    /// password, and the static role's password before and after rotate-role.
    private func exercise(connection: [String], rootPassword: String, creation: String, staticUser: String,
                          file: StaticString = #filePath, line: UInt = #line) throws -> [String] {
        _ = try ok(["write", "database/config/db"] + connection + ["username=relay_admin_\(suffix)", "password=-", "allowed_roles=*"],
                   stdin: rootPassword, file: file, line: line)
        _ = try ok("write", "database/roles/dyn", "db_name=db", "default_ttl=1h", "creation_statements=\(creation)", file: file, line: line)
        let creds = try JSONSerialization.jsonObject(with: Data(try ok("read", "-format=json", "database/creds/dyn").utf8)) as? [String: Any]
        let lease = try XCTUnwrap(creds?["lease_id"] as? String, file: file, line: line)
        let password = try XCTUnwrap((creds?["data"] as? [String: Any])?["password"] as? String, file: file, line: line)
        _ = try ok("lease", "renew", lease, file: file, line: line)
        _ = try ok("write", "database/static-roles/st", "db_name=db", "username=\(staticUser)", "rotation_period=24h", file: file, line: line)
        let staticBefore = try ok("read", "-field=password", "database/static-creds/st", file: file, line: line)
        _ = try ok("write", "-f", "database/rotate-role/st", file: file, line: line)
        let staticAfter = try ok("read", "-field=password", "database/static-creds/st", file: file, line: line)
        XCTAssertNotEqual(staticBefore, staticAfter, file: file, line: line)
        _ = try ok("write", "-f", "database/rotate-root/db", file: file, line: line)
        let stored = try tool.stateObject("config/db.json")
        let newRoot = try XCTUnwrap(((stored["connection_details"] as? [String: Any])?["password"] as? String), file: file, line: line)
        XCTAssertNotEqual(newRoot, rootPassword, file: file, line: line)
        _ = try ok("lease", "revoke", lease, file: file, line: line)
        return [rootPassword, password, staticBefore, staticAfter, newRoot]
    }

    private func assertNoneCrossed(_ secrets: [String], _ relay: RecordingRelay, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertGreaterThan(relay.recorded.count, 1000, "the traffic went through the relay", file: file, line: line)
        for (index, secret) in secrets.enumerated() {
            XCTAssertFalse(relay.contains(secret), "secret #\(index) crossed the wire readably", file: file, line: line)
        }
    }

    // MARK: PostgreSQL

    private func postgresAdmin(_ server: PostgresTestServer, _ sql: String) throws {
        let result = try server.psql(user: server.user, password: server.password, sql)
        XCTAssertEqual(result.status, 0, result.output)
    }

    private func postgresPass(_ server: PostgresTestServer, query: String) throws -> ([String], RecordingRelay) {
        let root = "Relay-Root-\(suffix)-pw", staticUser = "relay_static_\(suffix)"
        try postgresAdmin(server, "CREATE ROLE relay_admin_\(suffix) LOGIN SUPERUSER PASSWORD '\(root)'; "
                              + "CREATE ROLE \(staticUser) LOGIN PASSWORD 'Static-Initial-\(suffix)'")
        addTeardownBlock { try? self.postgresAdmin(server, "DROP ROLE IF EXISTS relay_admin_\(self.suffix); DROP ROLE IF EXISTS \(staticUser)") }
        let relay = try RecordingRelay(to: server.port)
        addTeardownBlock { relay.stop() }
        let url = "connection_url=postgresql://{{username}}:{{password}}@127.0.0.1:\(relay.port)/\(server.database)?\(query)"
        let secrets = try exercise(connection: ["plugin_name=postgresql-database-plugin", url], rootPassword: root,
                                   creation: "CREATE ROLE \"{{name}}\" LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';",
                                   staticUser: staticUser)
        return (secrets + ["Static-Initial-\(suffix)"], relay)
    }

    func testPostgreSQLOverTLSShowsNoSecret() throws {
        let (secrets, relay) = try postgresPass(try PostgresTestServer.fromEnvironment(),
                                                query: "sslmode=verify-full&sslrootcert=\(tls.caFile)")
        assertNoneCrossed(secrets, relay)
    }

    func testPostgreSQLWithoutTLSShowsTheGeneratedPasswords() throws {
        let (secrets, relay) = try postgresPass(try PostgresTestServer.fromEnvironment(), query: "sslmode=disable")
        XCTAssertTrue(relay.contains(secrets[1]), "the CREATE ROLE statement carries the dynamic password in clear")
        XCTAssertTrue(relay.contains(secrets[3]), "ALTER ROLE carries the rotated password in clear")
    }

    // MARK: MySQL

    private func mysqlPass(port: Int, adminUser: String, adminPassword: String, tlsClientArgs: [String],
                           extra: [String]) throws -> ([String], RecordingRelay) {
        let root = "Relay-Root-\(suffix)-pw", staticUser = "relay_static_\(suffix)"
        func admin(_ sql: String) throws {
            var environment = ProcessInfo.processInfo.environment
            environment["MYSQL_PWD"] = adminPassword
            let result = try ProcessRunner.run("/usr/bin/mariadb", ["--no-defaults", "-h127.0.0.1", "-P\(port)", "-u\(adminUser)"]
                                                + tlsClientArgs + ["-e", sql], environment: environment, timeout: 20)
            XCTAssertEqual(result.status, 0, result.stderr)
        }
        try admin("CREATE USER 'relay_admin_\(suffix)'@'%' IDENTIFIED BY '\(root)'; "
                  + "GRANT ALL PRIVILEGES ON *.* TO 'relay_admin_\(suffix)'@'%' WITH GRANT OPTION; "
                  + "CREATE USER '\(staticUser)'@'%' IDENTIFIED BY 'Static-Initial-\(suffix)';")
        addTeardownBlock { try? admin("DROP USER IF EXISTS 'relay_admin_\(self.suffix)'@'%'; DROP USER IF EXISTS '\(staticUser)'@'%';") }
        let relay = try RecordingRelay(to: port)
        addTeardownBlock { relay.stop() }
        let secrets = try exercise(
            connection: ["plugin_name=mysql-database-plugin", "connection_url={{username}}:{{password}}@tcp(127.0.0.1:\(relay.port))/"] + extra,
            rootPassword: root, creation: "CREATE USER '{{name}}'@'%' IDENTIFIED BY '{{password}}';", staticUser: staticUser)
        return (secrets, relay)
    }

    func testMySQLOverTLSShowsNoSecret() throws {
        let server = try TLSTestServer.fromEnvironment("DBSECRETS_TEST_MARIADB_TLS")
        let (secrets, relay) = try mysqlPass(port: server.port, adminUser: server.user, adminPassword: server.password,
                                             tlsClientArgs: ["--ssl-ca=\(tls.caFile)"], extra: ["tls_ca=@\(tls.caFile)"])
        assertNoneCrossed(secrets, relay)
    }

    func testMySQLWithoutTLSShowsTheGeneratedPasswords() throws {
        let server = try MariaDBTestServer.fromEnvironment()
        let (secrets, relay) = try mysqlPass(port: server.port, adminUser: server.adminUser, adminPassword: server.adminPassword,
                                             tlsClientArgs: [], extra: [])
        XCTAssertTrue(relay.contains(secrets[1]))
        XCTAssertTrue(relay.contains(secrets[3]))
    }

    // MARK: Redis

    private func redisPass(port: Int, adminPassword: String, tlsClientArgs: [String], extra: [String]) throws -> ([String], RecordingRelay) {
        let root = "Relay-Root-\(suffix)-pw", staticUser = "relay_static_\(suffix)"
        func admin(_ arguments: [String]) throws {
            let result = try ProcessRunner.run("/usr/bin/redis-cli", ["-h", "127.0.0.1", "-p", String(port)] + tlsClientArgs
                                                + ["--user", "vault-admin", "--pass", adminPassword, "--no-auth-warning"] + arguments,
                                               timeout: 20)
            XCTAssertEqual(result.status, 0, result.stderr)
        }
        try admin(["ACL", "SETUSER", "relay_admin_\(suffix)", "on", ">\(root)", "~*", "&*", "+@all"])
        try admin(["ACL", "SETUSER", staticUser, "on", ">Static-Initial-\(suffix)", "~*", "+@read"])
        addTeardownBlock { try? admin(["ACL", "DELUSER", "relay_admin_\(self.suffix)", staticUser]) }
        let relay = try RecordingRelay(to: port)
        addTeardownBlock { relay.stop() }
        let secrets = try exercise(connection: ["plugin_name=redis-database-plugin", "host=127.0.0.1", "port=\(relay.port)"] + extra,
                                   rootPassword: root, creation: #"["~*", "+@read"]"#, staticUser: staticUser)
        return (secrets, relay)
    }

    func testRedisOverTLSShowsNoSecret() throws {
        let server = try TLSTestServer.fromEnvironment("DBSECRETS_TEST_REDIS_TLS", user: "USERNAME", password: "PASSWORD")
        let (secrets, relay) = try redisPass(port: server.port, adminPassword: server.password,
                                             tlsClientArgs: ["--tls", "--cacert", tls.caFile], extra: ["tls=true", "ca_cert=@\(tls.caFile)"])
        assertNoneCrossed(secrets, relay)
    }

    func testRedisWithoutTLSShowsTheGeneratedPasswords() throws {
        let server = try RedisTestServer.fromEnvironment()
        let (secrets, relay) = try redisPass(port: server.port, adminPassword: server.adminPassword, tlsClientArgs: [], extra: [])
        XCTAssertTrue(relay.contains(secrets[1]))
        XCTAssertTrue(relay.contains(secrets[3]))
    }
}
