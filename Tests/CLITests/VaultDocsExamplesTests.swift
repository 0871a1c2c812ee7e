import Foundation
import TestSupport
import XCTest

/// Vault's documentation, run: `Tests/vault-docs/database-docs.sh` executes the CLI examples of
/// Vault's database pages (enable, configure, roles, creds, static roles, rotations, lease commands,
/// password policies) against the real PostgreSQL, MariaDB and Redis, with only the command name
/// and the servers' addresses and credentials changed, and checks each example's exit code and
/// output shape; then the same examples on a mount at postgres/.
final class VaultDocsExamplesTests: XCTestCase {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("vault-docs/database-docs.sh")

    func testTheDatabasePagesExamplesAtDatabaseAndAtAPostgresMount() throws {
        let postgres = try PostgresTestServer.fromEnvironment()
        _ = try MariaDBTestServer.fromEnvironment()
        try TestRequirement.builtBinary()
        let env = ProcessInfo.processInfo.environment
        guard let redisHost = env["DBSECRETS_TEST_REDIS_TLS_HOST"], let redisPort = env["DBSECRETS_TEST_REDIS_TLS_PORT"],
              let redisUser = env["DBSECRETS_TEST_REDIS_TLS_USERNAME"], let redisPassword = env["DBSECRETS_TEST_REDIS_TLS_PASSWORD"],
              let caFile = env["DBSECRETS_TEST_TLS_CA"] else {
            throw TestRequirement.missing("DBSECRETS_TEST_REDIS_TLS_* not set: run scripts/test or Tests/servers/start-redis-tls")
        }
        try TestRequirement.reachable("Redis (TLS)", host: redisHost, port: Int(redisPort) ?? 0)

        let redisCLI = ["-h", redisHost, "-p", redisPort, "--tls", "--cacert", caFile, "--user", redisUser, "--pass", redisPassword,
                        "--no-auth-warning"]
        let created = try ProcessRunner.run("/usr/bin/redis-cli", redisCLI + ["ACL", "SETUSER", "my-existing-redis-user", "on", ">initial", "~*", "+@read"],
                                            timeout: ProcessRunner.clientTimeout)
        XCTAssertEqual(created.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "OK", created.stderr)
        defer { _ = try? ProcessRunner.run("/usr/bin/redis-cli", redisCLI + ["ACL", "DELUSER", "my-existing-redis-user"], timeout: ProcessRunner.clientTimeout) }

        for mount in ["database", "postgres"] {
            // The accounts the examples name: an admin for the engine (rotate-root changes its
            // password, so one per run), the existing users of the static roles.
            let admin = "docs_admin_\(UUID().uuidString.prefix(8).lowercased())", adminPassword = "docs-\(UUID().uuidString)"
            XCTAssertEqual(try postgres.psql(user: postgres.user, password: postgres.password,
                                             "CREATE ROLE \(admin) WITH LOGIN CREATEROLE PASSWORD '\(adminPassword)'").status, 0)
            XCTAssertEqual(try postgres.psql(user: postgres.user, password: postgres.password, """
                DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'my-existing-user') THEN \
                CREATE ROLE "my-existing-user" WITH LOGIN PASSWORD 'initial'; END IF; END $$; \
                GRANT "my-existing-user" TO \(admin) WITH ADMIN OPTION;
                """).status, 0)
            defer { _ = try? postgres.psql(user: postgres.user, password: postgres.password, "DROP ROLE IF EXISTS \(admin)") }
            let folder = TemporaryFolder("dbsecrets-docs")
            defer { folder.remove() }
            var environment = env
            environment["DBSECRETS"] = PackageRoot.binary.path
            environment["DBSECRETS_STATE_DIR"] = folder.url.appendingPathComponent("state").path
            environment["MOUNT"] = mount
            environment["PG_ADMIN"] = admin
            environment["PG_ADMIN_PASSWORD"] = adminPassword
            environment["CACERT"] = try String(contentsOfFile: caFile, encoding: .utf8)
            let run = try ProcessRunner.run("/bin/bash", [Self.script.path], environment: environment, timeout: 120)
            XCTAssertEqual(run.status, 0, "MOUNT=\(mount):\n\(run.stdout)\(run.stderr)")
            XCTAssertTrue(run.stdout.contains("examples behaved as Vault's documentation shows"), run.stdout)
            XCTAssertFalse(run.stdout.contains("FAIL "), "MOUNT=\(mount):\n\(run.stdout)")
        }
    }
}
