import CLI
import DBPlugin
import Foundation
import TestSupport
import XCTest

/// Each shipped plugin driven through the command line against its real server, proving
/// credentials by logging in with the server's own client.
final class PluginEndToEndTests: XCTestCase {
    private func runner() -> CLIRunner {
        let cli = CLIRunner()
        cli.useBuiltinPlugins = true
        return cli
    }

    private func json(_ text: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
    }

    func testRedisDynamicUsersExpireUnderTidyAndStaticRolesRotate() throws {
        let server = try RedisTestServer.fromEnvironment()
        let cli = runner()
        var r = cli.run(["write", "database/config/redis", "plugin_name=redis-database-plugin", "host=\(server.host)",
                         "port=\(server.port)", "username=\(server.adminUsername)", "password=-", "allowed_roles=*"],
                        stdin: server.adminPassword)
        XCTAssertEqual(r.code, 0, r.stderr)
        r = cli.run("write", "database/roles/reader", "db_name=redis", "default_ttl=1s", "creation_statements=[\"~*\", \"+@read\"]")
        XCTAssertEqual(r.code, 0, r.stderr)
        r = cli.run("read", "-format=json", "database/creds/reader")
        XCTAssertEqual(r.code, 0, r.stderr)
        let data = json(r.stdout)["data"] as? [String: String] ?? [:]
        let user = data["username"] ?? "", password = data["password"] ?? ""
        XCTAssertEqual(try server.redisCLI(username: user, password: password, ["GET", "k"]), "")
        XCTAssertTrue(try server.redisCLI(username: user, password: password, ["SET", "k", "v"]).contains("NOPERM"))
        Thread.sleep(forTimeInterval: 1.2)
        r = cli.run("tidy")
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertTrue(r.stdout.hasPrefix("lease revoked: database/creds/reader/"), r.stdout)
        XCTAssertTrue(try server.redisCLI(username: user, password: password, ["PING"]).contains("WRONGPASS"))

        let staticUser = "static-\(UUID().uuidString.prefix(6))"
        _ = try server.redisCLI(username: server.adminUsername, password: server.adminPassword,
                                ["ACL", "SETUSER", staticUser, "on", ">initial-pass", "~*", "+@read", "+ping"])
        r = cli.run("write", "database/static-roles/app", "db_name=redis", "username=\(staticUser)", "rotation_period=1h")
        XCTAssertEqual(r.code, 0, r.stderr)
        let first = cli.run("read", "-field=password", "database/static-creds/app").stdout
        XCTAssertEqual(try server.redisCLI(username: staticUser, password: first, ["PING"]), "PONG")
        XCTAssertEqual(cli.run("rotate-role", "app").code, 0)
        let second = cli.run("read", "-field=password", "database/static-creds/app").stdout
        XCTAssertEqual(try server.redisCLI(username: staticUser, password: second, ["PING"]), "PONG")
        XCTAssertTrue(try server.redisCLI(username: staticUser, password: first, ["PING"]).contains("WRONGPASS"))
    }

    func testMariaDBCredsLogInWithTheGrantedPrivilegesAndRevokeDropsThem() throws {
        let server = try MariaDBTestServer.fromEnvironment()
        let cli = runner()
        var r = cli.run(["write", "database/config/mysql", "plugin_name=mysql-database-plugin",
                         "connection_url=\(server.connectionURL)", "username=\(server.adminUser)", "password=-",
                         "allowed_roles=*"], stdin: server.adminPassword)
        XCTAssertEqual(r.code, 0, r.stderr)
        r = cli.run("write", "database/roles/ro", "db_name=mysql", "default_ttl=1h",
                    "creation_statements=CREATE USER '{{name}}'@'%' IDENTIFIED BY '{{password}}'; GRANT SELECT ON *.* TO '{{name}}'@'%';")
        XCTAssertEqual(r.code, 0, r.stderr)
        r = cli.run("read", "-format=json", "database/creds/ro")
        XCTAssertEqual(r.code, 0, r.stderr)
        let envelope = json(r.stdout)
        let data = envelope["data"] as? [String: String] ?? [:]
        let user = data["username"] ?? "", password = data["password"] ?? ""
        XCTAssertLessThanOrEqual(user.count, 32)
        XCTAssertTrue(try server.client(user: user, password: password, "SELECT 1").succeeded)
        XCTAssertFalse(try server.client(user: user, password: password, "CREATE DATABASE nope_\(UInt16.random(in: 0...9999))").succeeded)
        r = cli.run("lease", "revoke", envelope["lease_id"] as? String ?? "")
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertFalse(try server.client(user: user, password: password, "SELECT 1").succeeded)
    }

    func testElastiCacheStaticRoleRotatesThroughTheSignedAPI() throws {
        let server = try ElastiCacheTestServer.fromEnvironment()
        let cli = runner()
        let userID = ElastiCacheTestServer.uniqueUserID()
        try server.createUser(userID, password: "initial-password-123456")
        // The deprecated names of the key pair work, with a warning.
        var r = cli.run(["write", "database/config/ec", "plugin_name=redis-elasticache-database-plugin",
                         "url=primary.example.cache.amazonaws.com:6379", "endpoint=\(server.endpoint)", "region=\(server.region)",
                         "username=\(server.accessKeyID)", "password=-", "allowed_roles=*"], stdin: server.secretAccessKey)
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("username is deprecated"), r.stderr)
        let read = cli.run("read", "database/config/ec").stdout
        XCTAssertFalse(read.contains(server.secretAccessKey), "the secret key is never read back")
        r = cli.run("write", "database/static-roles/ec-user", "db_name=ec", "username=\(userID)", "rotation_period=1h")
        XCTAssertEqual(r.code, 0, r.stderr)
        let first = cli.run("read", "-field=password", "database/static-creds/ec-user").stdout
        XCTAssertTrue(try server.redisLogin(userID, first))
        XCTAssertEqual(cli.run("rotate-role", "ec-user").code, 0)
        let second = cli.run("read", "-field=password", "database/static-creds/ec-user").stdout
        XCTAssertTrue(try server.redisLogin(userID, second))
        XCTAssertFalse(try server.redisLogin(userID, first))
        // Dynamic roles and root rotation are refused, as upstream.
        cli.run("write", "database/roles/dyn", "db_name=ec")
        r = cli.run("read", "database/creds/dyn")
        XCTAssertEqual(r.code, 2)
        XCTAssertEqual(r.stderr, "Error reading database/creds/dyn: user creation not supported\n")
        r = cli.run("write", "-f", "database/rotate-root/ec")
        XCTAssertEqual(r.code, 2)
        XCTAssertTrue(r.stderr.contains("not supported"), r.stderr)
    }
}
