import Foundation
import TestSupport
import XCTest

/// A state folder written before mounts existed (`StateFixtures/format-1`, no mount table) keeps
/// working through the command line at `database/`: read, renewed and revoked leases whose file
/// names carry no mount, listed by `secrets list`, and refusing a second `secrets enable database`
/// as Vault refuses a second enable.
final class OldStateTests: XCTestCase {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("EngineTests/StateFixtures/format-1")

    func runner() throws -> CLIRunner {
        let cli = CLIRunner()
        try FileManager.default.copyItem(at: Self.fixture, to: cli.stateURL)
        try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: cli.stateURL.path)
        for user in ["v-root-ro-CF1E6F57", "v-root-ro-5229F306", "app", "sched"] { cli.database.addUser(user, password: "p") }
        cli.database.addUser("admin", password: "root-secret")
        return cli
    }

    func testTodaysStateKeepsWorkingAtDatabase() throws {
        let cli = try runner()
        XCTAssertEqual(cli.run("list", "database/roles").stdout, "Keys\n----\nro\n")
        XCTAssertTrue(cli.run("read", "database/config/db").stdout.contains("plugin_name                           fake-database-plugin"))
        let renewed = "database/creds/ro/6apBfOQeArfb9wKER4NNgLCr"
        XCTAssertTrue(cli.run("lease", "lookup", renewed).stdout.contains("id              \(renewed)"))
        XCTAssertEqual(cli.run("list", "sys/leases/lookup/database/creds/ro").stdout,
                       "Keys\n----\n6apBfOQeArfb9wKER4NNgLCr\nsAeg8Etgr3Rpt8aYTPFJjw2i\n")
        let renew = cli.run("lease", "renew", "-increment=1h", renewed)
        XCTAssertEqual(renew.code, 0, renew.stderr)
        XCTAssertTrue(renew.stdout.contains("lease_id           \(renewed)"), renew.stdout)

        // The implicit database/ holds objects: listed, and a second enable is refused.
        XCTAssertTrue(cli.run("secrets", "list").stdout.contains("database/    database    database_00000000    n/a"))
        let enable = cli.run("secrets", "enable", "database")
        XCTAssertEqual(enable.code, 2)
        XCTAssertEqual(enable.stderr, "Error enabling: path is already in use at database/\n")
        XCTAssertEqual(cli.run("secrets", "enable", "-path=postgres", "database").code, 0, "other paths are free")
        XCTAssertEqual(cli.run("list", "database/roles").stdout, "Keys\n----\nro\n", "database/ still serves the old objects")

        // Revoked through the usual path, the lease files named without a mount go.
        let revoke = cli.run("lease", "revoke", renewed)
        XCTAssertEqual(revoke.code, 0, revoke.stderr)
        XCTAssertNil(cli.database.users["v-root-ro-CF1E6F57"], "the user was dropped")
        XCTAssertFalse(FileManager.default.fileExists(atPath: cli.stateURL.appendingPathComponent("leases/ro.6apBfOQeArfb9wKER4NNgLCr.json").path))
        XCTAssertEqual(cli.run("lease", "revoke", "-prefix", "database/creds/ro").code, 0)
        XCTAssertEqual(cli.run("list", "sys/leases/lookup/database/creds/ro").code, 2, "no leases left")
        XCTAssertEqual(try String(contentsOf: cli.stateURL.appendingPathComponent("sys/mounts.json"), encoding: .utf8)
            .components(separatedBy: "\"path\"").count - 1, 1, "only postgres/ was written into the table")
    }

    func testABootstrapScriptRunsOnAFreshStateWithOrWithoutItsGuard() throws {
        let cli = CLIRunner()
        // `secrets list | jq 'has("database/")'`: false on a fresh state, so the script enables it.
        XCTAssertFalse(cli.run("secrets", "list", "-format=json").stdout.contains("\"database/\""))
        XCTAssertEqual(cli.run("secrets", "enable", "database").stdout, "Success! Enabled the database secrets engine at: database/\n")
        XCTAssertTrue(cli.run("secrets", "list", "-format=json").stdout.contains("\"database/\""))
        cli.configure()
        XCTAssertEqual(cli.run("read", "database/creds/ro").code, 0)
        // The storage did not move: the objects are the state folder's top-level ones.
        XCTAssertTrue(FileManager.default.fileExists(atPath: cli.stateURL.appendingPathComponent("roles/ro.json").path))

        // A script without enable, on a fresh state, runs as it always did.
        let plain = CLIRunner()
        plain.configure()
        XCTAssertEqual(plain.run("read", "database/creds/ro").code, 0)
        XCTAssertTrue(plain.run("secrets", "list").stdout.contains("database/"), "listed once it holds something")
        XCTAssertFalse(FileManager.default.fileExists(atPath: plain.stateURL.appendingPathComponent("sys").path), "no table was written")
    }
}
