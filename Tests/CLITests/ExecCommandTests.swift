import Foundation
import TestSupport
import XCTest

/// `dbsecrets exec` with the built binary against the real PostgreSQL and Redis: the command logs
/// in with credentials it finds only in its environment, the lease outlives the role's default
/// TTL while the command runs, the user is gone once it exits, its exit status and signals pass
/// through, and a killed dbsecrets leaves a lease that expires as any other.
final class ExecCommandTests: XCTestCase {
    var database: CrashPostgres!
    var run: CrashRun!

    override func setUpWithError() throws {
        database = try CrashPostgres()
        run = try CrashRun(database)
        // Leases of 2 s: a command that runs 4 s needs them renewed.
        XCTAssertEqual(try run.tool.run("write", "database/roles/\(run.role)", "default_ttl=2s", "max_ttl=1h").status, 0)
    }

    override func tearDown() {
        run?.remove()
        try? database?.dropRootUser()
    }

    var psql: String {
        "PGPASSWORD=\"$DB_PASSWORD\" psql -h \(database.server.host) -p \(database.server.port) -d \(database.server.database) -w -Atqc 'SELECT current_user' -U \"$DB_USERNAME\""
    }

    func testTheCommandLogsInWithItsCredentialsTheLeaseIsRenewedAndRevokedAndItsStatusReturned() throws {
        let script = """
            echo "lease=$DB_LEASE_ID"
            for pid in $$ $PPID; do tr '\\0' '\\n' < /proc/$pid/cmdline | grep -qF -- "$DB_PASSWORD" && echo "password in the command line of $pid"; done
            sleep 4
            \(PackageRoot.binary.path) tidy >/dev/null
            \(psql) || exit 99
            exit 7
            """
        let result = try run.tool.run(["exec", "-role=\(run.role)", "--", "/bin/sh", "-c", script])
        XCTAssertEqual(result.status, 7, "the command's status: \(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        // Neither the command's command line nor dbsecrets' carries the password: it lives only in
        // the environment, which no other user can read.
        XCTAssertEqual(lines.count, 2, result.stdout + result.stderr)
        let leaseID = String(lines.first?.dropFirst("lease=".count) ?? "")
        XCTAssertTrue(leaseID.hasPrefix("database/creds/\(run.role)/"), result.stdout)
        let user = lines.last ?? ""
        // Two seconds past the default TTL, and after a tidy that revokes every expired lease.
        XCTAssertTrue(user.hasPrefix("v-root-\(run.role)-"), "psql logged in: the lease was renewed: \(result.stdout) \(result.stderr)")
        XCTAssertEqual(try database.usersCreated(forRole: run.role), [], "revoked when the command exited: the user is gone")
        XCTAssertEqual(try run.tool.leases().count, 0)
        XCTAssertEqual(result.stderr, "")
    }

    func testSignalsReachTheCommandAndItsStatusIsReturned() throws {
        let output = run.tool.folder.path + "/exec.out"
        let exec = try run.tool.start(["exec", "-role=\(run.role)", "--", "/bin/sh", "-c",
                                       "trap 'echo got-term; exit 42' TERM; echo started; while :; do sleep 0.1; done"], log: output)
        defer { if exec.isRunning { kill(exec.processIdentifier, SIGKILL) } }
        try waitFor(output, toContain: "started")
        kill(exec.processIdentifier, SIGTERM)
        exec.waitUntilExit()
        XCTAssertEqual(exec.terminationStatus, 42)
        XCTAssertTrue(try String(contentsOfFile: output, encoding: .utf8).contains("got-term"))
        XCTAssertEqual(try database.usersCreated(forRole: run.role), [])
    }

    func testAKilledExecLeavesALeaseThatExpiresNormally() throws {
        let output = run.tool.folder.path + "/exec.out"
        let exec = try run.tool.start(["exec", "-role=\(run.role)", "--", "/bin/sh", "-c", "echo started; exec sleep 3"], log: output)
        try waitFor(output, toContain: "started")
        kill(exec.processIdentifier, SIGKILL)
        exec.waitUntilExit()
        let leases = try run.tool.leases()
        XCTAssertEqual(leases.count, 1, "the lease stays")
        XCTAssertEqual(try database.usersCreated(forRole: run.role).count, 1)
        Thread.sleep(forTimeInterval: 2.5)
        let tidy = try run.tool.run("tidy")
        XCTAssertTrue(tidy.stdout.hasPrefix("lease revoked: \(leases.first?["id"] as? String ?? "?")"), tidy.stdout + tidy.stderr)
        XCTAssertEqual(try database.usersCreated(forRole: run.role), [])
    }

    func testACommandThatCannotStartGivesItsLeaseBack() throws {
        let result = try run.tool.run(["exec", "-role=\(run.role)", "--", "/nonexistent/program"])
        XCTAssertEqual(result.status, 127)
        XCTAssertEqual(result.stderr, "Error running /nonexistent/program: /nonexistent/program: command not found\n")
        XCTAssertEqual(try run.tool.leases().count, 0)
        XCTAssertEqual(try database.usersCreated(forRole: run.role), [])
        XCTAssertEqual(try run.tool.run(["exec", "--", "true"]).status, 1, "a role is needed")
        XCTAssertEqual(try run.tool.run(["exec", "-role=\(run.role)"]).status, 1, "a command is needed")
    }

    func testAStaticRolesPasswordIsGivenAsItIs() throws {
        try run.makeStaticRole()
        let password = try run.tool.run("read", "-field=password", "database/static-creds/st").stdout
        let result = try run.tool.run(["exec", "-static-role=st", "-env-prefix=APP_", "--", "/bin/sh", "-c",
                                       "test \"$APP_PASSWORD\" = '\(password)' && test -z \"$APP_LEASE_ID\" && echo \"$APP_USERNAME\""])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stdout, run.staticUser + "\n")
        XCTAssertEqual(try run.tool.run("read", "-field=password", "database/static-creds/st").stdout, password, "nothing rotated")
    }

    func testRedisCLIRunsWithTheInjectedCredentials() throws {
        let redis = try CrashRedis()
        defer { try? redis.dropRootUser() }
        let redisRun = try CrashRun(redis)
        defer { redisRun.remove() }
        let result = try redisRun.tool.run(["exec", "-role=\(redisRun.role)", "--", "/bin/sh", "-c",
                                            "REDISCLI_AUTH=\"$DB_PASSWORD\" redis-cli --no-auth-warning -h \(redis.server.host) -p \(redis.server.port) --user \"$DB_USERNAME\" EXISTS dbsecrets-exec-test"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stdout, "0\n", "a command of the role's +@read ran as the dynamic user")
        XCTAssertEqual(try redis.usersCreated(forRole: redisRun.role), [], "the user is gone")
    }

    private func waitFor(_ file: String, toContain text: String) throws {
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline {
            if (try? String(contentsOfFile: file, encoding: .utf8))?.contains(text) == true { return }
            usleep(20_000)
        }
        XCTFail("\(file) never showed \(text): \((try? String(contentsOfFile: file, encoding: .utf8)) ?? "")")
    }
}
