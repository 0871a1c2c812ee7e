import Engine
import Foundation
import TestSupport
import XCTest

/// hvac, the Python client, unchanged from PyPI, against `dbsecrets server` with real databases:
/// connections, roles, credentials, static roles, leases and password policies, at `database/`
/// and at a mount of its own; the credentials it gets log in, the ones it revoked do not; then
/// the CLI renews and revokes on the same state what hvac made through the server.
final class HvacClientTests: XCTestCase {
    /// database/ (the implicit mount) and a mount hvac enables itself.
    static let mounts = ["database", "hvac-db"]

    func testHvacDrivesTheServerAndItsCredentialsLogIn() throws {
        // python3 as scripts/install-deps finds it (and pip installs for it): from PATH.
        guard (try? ProcessRunner.run("/usr/bin/env", ["python3", "-c", "import hvac"]))?.status == 0 else {
            throw TestRequirement.missing("hvac is not installed: pip install hvac (scripts/install-deps does)")
        }
        let postgres = try PostgresTestServer.fromEnvironment()
        let mariadb = try MariaDBTestServer.fromEnvironment()
        let redis = try RedisTestServer.fromEnvironment()
        let mounts = Self.mounts
        let staticUsers = mounts.indices.map { "hvac_static_\($0)" }
        // One PostgreSQL root per mount: hvac rotates each mount's root password.
        let pgRoots = mounts.indices.map { "hvac_root_\($0)" }
        _ = try postgres.psql(user: postgres.user, password: postgres.password,
                              pgRoots.map { "DROP ROLE IF EXISTS \($0); CREATE ROLE \($0) LOGIN SUPERUSER PASSWORD 'hvac-root-pw'; " }.joined()
                              + staticUsers.map { "DROP ROLE IF EXISTS \($0); CREATE ROLE \($0) LOGIN PASSWORD 'initial';" }.joined())
        try mariadb.admin("DROP USER IF EXISTS 'hvac_root'@'%'; CREATE USER 'hvac_root'@'%' IDENTIFIED BY 'hvac-root-pw'; "
                          + "GRANT ALL PRIVILEGES ON *.* TO 'hvac_root'@'%' WITH GRANT OPTION;")
        _ = try redis.redisCLI(username: redis.adminUsername, password: redis.adminPassword,
                               ["ACL", "SETUSER", "hvac_root", "on", "resetpass", ">hvac-root-pw", "~*", "&*", "+@all"])
        let server = try ServerProcess("dbsecrets-hvac")
        defer {
            for mount in Self.mounts { _ = try? server.cli(["lease", "revoke", "-prefix", mount + "/"]) }
            _ = try? postgres.psql(user: postgres.user, password: postgres.password,
                                   (staticUsers + pgRoots).map { "DROP ROLE IF EXISTS \($0);" }.joined())
            _ = try? mariadb.admin("DROP USER IF EXISTS 'hvac_root'@'%'")
            _ = try? redis.redisCLI(username: redis.adminUsername, password: redis.adminPassword, ["ACL", "DELUSER", "hvac_root"])
        }

        var environment = ProcessInfo.processInfo.environment
        environment.merge([
            "VAULT_ADDR": server.address, "VAULT_TOKEN": server.token, "HVAC_MOUNTS": mounts.joined(separator: ","),
            "HVAC_PG_URL": "postgresql://{{username}}:{{password}}@\(postgres.host):\(postgres.port)/\(postgres.database)?sslmode=disable",
            "HVAC_PG_ROOTS": pgRoots.map { "\($0):hvac-root-pw" }.joined(separator: ","), "HVAC_STATIC_USERS": staticUsers.joined(separator: ","),
            "HVAC_MARIADB_URL": mariadb.connectionURL, "HVAC_MARIADB_ROOT": "hvac_root:hvac-root-pw",
            "HVAC_REDIS_HOST": redis.host, "HVAC_REDIS_PORT": String(redis.port), "HVAC_REDIS_ROOT": "hvac_root:hvac-root-pw",
        ]) { _, new in new }
        let script = PackageRoot.url.appendingPathComponent("Tests/ServerTests/hvac_client.py").path
        let run = try ProcessRunner.run("/usr/bin/env", ["python3", script], environment: environment, timeout: 120)
        XCTAssertEqual(run.status, 0, "hvac: \(run.stderr)\n\(server.log)")
        let results = try XCTUnwrap((try? JSONSerialization.jsonObject(with: Data(run.stdout.utf8))) as? [String: [String: [String: String]]],
                                    run.stdout)
        XCTAssertEqual(Set(results.keys), Set(mounts))

        func pgLogsIn(_ user: String?, _ password: String?) throws -> Bool {
            try postgres.psql(user: try XCTUnwrap(user), password: try XCTUnwrap(password), "SELECT 1").output == "1"
        }
        for mount in mounts {
            let got = try XCTUnwrap(results[mount])
            XCTAssertTrue(try pgLogsIn(got["pg_kept"]?["username"], got["pg_kept"]?["password"]), mount)
            XCTAssertFalse(try pgLogsIn(got["pg_revoked"]?["username"], got["pg_revoked"]?["password"]), "\(mount): revoked by hvac")
            XCTAssertFalse(try pgLogsIn(got["pg_prefix_revoked"]?["username"], got["pg_prefix_revoked"]?["password"]), mount)
            XCTAssertTrue(try pgLogsIn(got["pg_static"]?["username"], got["pg_static"]?["after"]), "\(mount): the rotated static password")
            XCTAssertFalse(try pgLogsIn(got["pg_static"]?["username"], got["pg_static"]?["before"]), mount)
            let maria = try XCTUnwrap(got["maria"])
            XCTAssertTrue(try mariadb.client(user: maria["username"]!, password: maria["password"]!, "SELECT 1").succeeded, mount)
            let red = try XCTUnwrap(got["redis"])
            XCTAssertEqual(try redis.redisCLI(username: red["username"]!, password: red["password"]!, ["PING"]), "PONG", mount)

            // The CLI, on the state the server serves, renews and revokes what hvac got.
            let renewed = try server.cli(["lease", "renew", "-format=json", "-increment=20m", maria["lease_id"]!])
            XCTAssertEqual(renewed.status, 0, renewed.stderr)
            XCTAssertTrue(renewed.stdout.contains("\"lease_duration\": 1200"), renewed.stdout)
            XCTAssertEqual(try server.cli(["lease", "revoke", maria["lease_id"]!]).status, 0)
            XCTAssertEqual(try server.cli(["lease", "revoke", red["lease_id"]!]).status, 0)
            XCTAssertFalse(try mariadb.client(user: maria["username"]!, password: maria["password"]!, "SELECT 1").succeeded)
            XCTAssertTrue(try redis.redisCLI(username: red["username"]!, password: red["password"]!, ["PING"]).contains("WRONGPASS"))
        }
        XCTAssertTrue(server.log.contains("GET /v1/auth/token/lookup-self 200"), server.log)
        XCTAssertFalse(server.log.contains(server.token))
        XCTAssertEqual(server.stop(), 0)
    }
}
