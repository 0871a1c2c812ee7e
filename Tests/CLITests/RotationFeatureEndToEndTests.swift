import Engine
import Foundation
import TestSupport
import XCTest

/// What dbsecrets adds to Vault's community edition, proved with the built binary against the real
/// PostgreSQL, MariaDB and Redis, each credential by logging in with the database's own client:
/// imported accounts, manual-only and self-managed static roles, automated root rotation, rotation
/// hooks, and two-password rotation. (`exec` is in ExecCommandTests, ElastiCache's two passwords in
/// ElastiCacheTwoPasswordTests, MySQL 8's in MySQL8LifecycleTests.)
final class RotationFeatureEndToEndTests: XCTestCase {
    /// The password stored for static role `role`, read from the state folder (so static-creds
    /// cannot rotate it first).
    func storedPassword(_ run: CrashRun, _ role: String) -> String? {
        run.stateObject("static-roles/\(role).json")?["password"] as? String
    }

    func storedRootPassword(_ run: CrashRun) -> String? {
        (run.stateObject("config/c.json")?["connection_details"] as? [String: Any])?["password"] as? String
    }

    func succeeds(_ result: FaultBinary.Run, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(result.status, 0, "\(what): \(result.stderr)", file: file, line: line)
    }

    /// Makes static role `role` due now, as the clock would.
    func makeDue(_ run: CrashRun, _ role: String) throws {
        try run.rewrite("static-roles/\(role).json") { $0["next_vault_rotation"] = Timestamp.format(Date().addingTimeInterval(-1)) }
    }

    /// A program that appends its environment's rotation variables to `log`, and exits `status`.
    func hookScript(_ run: CrashRun, log: URL, status: Int) throws -> String {
        let script = run.tool.folder.url.appendingPathComponent("hook-\(status)")
        try "#!/bin/sh\necho \"$DBSECRETS_ROTATED_KIND $DBSECRETS_ROTATED_PATH $#\" >> \(log.path)\nexit \(status)\n"
            .write(to: script, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script.path)
        return script.path
    }

    // MARK: Adopting an existing account

    func assertAnImportedAccountKeepsItsPasswordUntilItsFirstRotation(_ database: CrashDatabase) throws {
        defer { try? database.dropRootUser() }
        let run = try CrashRun(database)
        defer { run.remove() }
        try run.makeStaticUser()
        let old = run.staticInitialPassword
        succeeds(try run.tool.run(["write", "database/static-roles/st", "db_name=c", "username=\(run.staticUser)",
                                   "rotation_period=1h", "skip_import_rotation=true", "password=-"], stdin: old), "import")
        XCTAssertEqual(try run.tool.run("read", "-field=password", "database/static-creds/st").stdout, old)
        XCTAssertTrue(try database.canLogIn(run.staticUser, old), "\(database.plugin): the account was not touched")
        XCTAssertEqual(try run.tool.run("tidy").stdout, "", "not due yet")
        XCTAssertTrue(try database.canLogIn(run.staticUser, old))

        try makeDue(run, "st")
        let tidy = try run.tool.run("tidy")
        XCTAssertTrue(tidy.stdout.hasPrefix("static role rotated: st"), tidy.stdout + tidy.stderr)
        let new = try XCTUnwrap(storedPassword(run, "st"))
        XCTAssertNotEqual(new, old)
        XCTAssertTrue(try database.canLogIn(run.staticUser, new), "\(database.plugin): the new password logs in")
        XCTAssertFalse(try database.canLogIn(run.staticUser, old), "\(database.plugin): the old one no longer does")

        let wrong = try run.tool.run(["write", "database/static-roles/other", "db_name=c", "username=\(run.staticUser)",
                                      "rotation_period=1h", "skip_import_rotation=true", "password=-"], stdin: "not-the-password")
        XCTAssertEqual(wrong.status, 2)
        XCTAssertEqual(wrong.stderr, "Error writing data to database/static-roles/other: the password given does not log in as \(run.staticUser)\n")
        XCTAssertTrue(try database.canLogIn(run.staticUser, new), "a refused import changes nothing")
    }

    func testPostgresAdoptsAnAccountWithoutBreakingIt() throws {
        try assertAnImportedAccountKeepsItsPasswordUntilItsFirstRotation(try CrashPostgres())
    }

    func testMariaDBAdoptsAnAccountWithoutBreakingIt() throws {
        try assertAnImportedAccountKeepsItsPasswordUntilItsFirstRotation(try CrashMariaDB())
    }

    func testRedisAdoptsAnAccountWithoutBreakingIt() throws {
        try assertAnImportedAccountKeepsItsPasswordUntilItsFirstRotation(try CrashRedis())
    }

    // MARK: Under an agent: imports, manual-only roles, the root credential, hooks

    func testAnAgentRotatesDueImportsAndTheRootOnTimeLeavesManualRolesAloneAndRunsTheHookOncePerRotation() throws {
        let database = try CrashPostgres()
        defer { try? database.dropRootUser() }
        let run = try CrashRun(database)
        defer { run.remove() }
        let manualUser = crashTestName("crman")
        try database.createStaticUser(manualUser, password: "manual-initial")
        defer { try? database.dropUsers(role: run.role, staticUser: manualUser) }
        try run.makeStaticUser()
        let imported = run.staticInitialPassword
        succeeds(try run.tool.run(["write", "database/static-roles/st", "db_name=c", "username=\(run.staticUser)",
                                   "rotation_period=5s", "skip_import_rotation=true", "password=-"], stdin: imported), "import")
        succeeds(try run.tool.run("write", "database/static-roles/man", "db_name=c", "username=\(manualUser)",
                                  "disable_automated_rotation=true"), "manual-only role")
        let manual = try XCTUnwrap(storedPassword(run, "man"))
        XCTAssertFalse(try run.tool.run("read", "database/static-creds/man").stdout.contains("ttl"), "no countdown")
        succeeds(try run.tool.run("write", "database/config/c", "rotation_period=5s"), "automated root rotation")
        XCTAssertTrue(try run.tool.run("read", "database/config/c").stdout.contains("next_root_rotation"))

        let log = run.tool.folder.url.appendingPathComponent("hook.log")
        let hook = try hookScript(run, log: log, status: 0)
        let output = run.tool.folder.path + "/agent.out"
        let agent = try run.tool.start(["agent", "-interval=1s", "-on-rotate=\(hook) a b"], log: output)
        defer { if agent.isRunning { kill(agent.processIdentifier, SIGKILL) } }
        Thread.sleep(forTimeInterval: 7)
        let signalled = Date()
        kill(agent.processIdentifier, SIGTERM)
        agent.waitUntilExit()
        XCTAssertLessThan(Date().timeIntervalSince(signalled), 2, "the agent stops at once")
        XCTAssertEqual(agent.terminationStatus, 0)
        let printed = try String(contentsOfFile: output, encoding: .utf8)

        // The imported account rotated at its first due time, the manual one never did.
        let rotatedStatic = printed.components(separatedBy: "static role rotated: st").count - 1
        XCTAssertGreaterThanOrEqual(rotatedStatic, 1, printed)
        XCTAssertFalse(printed.contains("static role rotated: man"), printed)
        XCTAssertFalse(try database.canLogIn(run.staticUser, imported))
        XCTAssertTrue(try database.canLogIn(run.staticUser, storedPassword(run, "st") ?? ""))
        XCTAssertEqual(storedPassword(run, "man"), manual)
        XCTAssertTrue(try database.canLogIn(manualUser, manual))

        // The root credential rotated; the old one fails and the engine keeps working.
        let rotatedRoot = printed.components(separatedBy: "root credential rotated: c").count - 1
        XCTAssertGreaterThanOrEqual(rotatedRoot, 1, printed)
        XCTAssertFalse(try database.canLogIn(database.rootUser, database.rootPassword))
        XCTAssertTrue(try database.canLogIn(database.rootUser, storedRootPassword(run) ?? ""))
        let creds = try run.tool.run("read", "-format=json", "database/creds/\(run.role)")
        succeeds(creds, "creds after the root rotated")

        // The hook ran once per rotation, with what rotated and no password.
        let calls = try String(contentsOf: log, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(calls.filter { $0 == "static-role database/static-roles/st 2" }.count, rotatedStatic, "\(calls)")
        XCTAssertEqual(calls.filter { $0 == "root database/config/c 2" }.count, rotatedRoot, "\(calls)")
        XCTAssertEqual(calls.count, rotatedStatic + rotatedRoot, "\(calls)")

        // The manual-only role rotates on request.
        succeeds(try run.tool.run("write", "-f", "database/rotate-role/man"), "rotate-role")
        XCTAssertFalse(try database.canLogIn(manualUser, manual))
        XCTAssertTrue(try database.canLogIn(manualUser, storedPassword(run, "man") ?? ""))
    }

    func testAFailingHookIsReportedAndTheRotationStands() throws {
        let database = try CrashPostgres()
        defer { try? database.dropRootUser() }
        let run = try CrashRun(database)
        defer { run.remove() }
        try run.makeStaticRole()
        try makeDue(run, "st")
        let log = run.tool.folder.url.appendingPathComponent("hook.log")
        let tidy = try run.tool.run("tidy", "-on-rotate=\(try hookScript(run, log: log, status: 3))")
        XCTAssertEqual(tidy.status, 2, tidy.stderr)
        XCTAssertTrue(tidy.stdout.hasPrefix("static role rotated: st"), tidy.stdout)
        XCTAssertTrue(tidy.stderr.contains("rotation hook failed: database/static-roles/st ("), tidy.stderr)
        XCTAssertTrue(tidy.stderr.contains("exited with status 3; the rotation stands"), tidy.stderr)
        XCTAssertEqual(try String(contentsOf: log, encoding: .utf8), "static-role database/static-roles/st 0\n")
        let password = try run.tool.run("read", "-field=password", "database/static-creds/st").stdout
        XCTAssertEqual(password, storedPassword(run, "st"))
        XCTAssertTrue(try database.canLogIn(run.staticUser, password))
        XCTAssertEqual(try run.tool.run("tidy", "-on-rotate=\(try hookScript(run, log: log, status: 3))").status, 0,
                       "nothing rotated, no hook")
    }

    func testAnAgentStopsPromptlyWhileAHookRuns() throws {
        let database = try CrashPostgres()
        defer { try? database.dropRootUser() }
        let run = try CrashRun(database)
        defer { run.remove() }
        try run.makeStaticRole()
        try makeDue(run, "st")
        let started = run.tool.folder.url.appendingPathComponent("hook-started")
        let script = run.tool.folder.url.appendingPathComponent("slow-hook")
        try "#!/bin/sh\ntouch \(started.path)\nexec sleep 30\n".write(to: script, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script.path)
        let agent = try run.tool.start(["agent", "-interval=1s", "-on-rotate=\(script.path)"], log: run.tool.folder.path + "/agent.out")
        defer { if agent.isRunning { kill(agent.processIdentifier, SIGKILL) } }
        let deadline = Date().addingTimeInterval(15)
        while !FileManager.default.fileExists(atPath: started.path) && Date() < deadline { usleep(20_000) }
        XCTAssertTrue(FileManager.default.fileExists(atPath: started.path), "the hook ran")
        let signalled = Date()
        kill(agent.processIdentifier, SIGTERM)
        agent.waitUntilExit()
        XCTAssertLessThan(Date().timeIntervalSince(signalled), 2.5, "a running hook does not hold up a stop")
        let printed = try String(contentsOfFile: run.tool.folder.path + "/agent.out", encoding: .utf8)
        XCTAssertTrue(printed.contains("rotation hook failed: database/static-roles/st (") && printed.contains("slow-hook was stopped: dbsecrets is stopping; the rotation stands"), printed)
        XCTAssertTrue(try database.canLogIn(run.staticUser, storedPassword(run, "st") ?? ""), "the rotation stands")
    }

    // MARK: Self-managed roles

    func assertASelfManagedRoleRotatesWithTheRootUserGone(_ database: CrashDatabase) throws {
        defer { try? database.dropRootUser() }
        let run = try CrashRun(database)
        defer { run.remove() }
        try run.makeStaticUser()
        succeeds(try run.tool.run(["write", "database/static-roles/st", "db_name=c", "username=\(run.staticUser)",
                                   "rotation_period=1h", "self_managed_password=-"], stdin: run.staticInitialPassword), "self-managed role")
        let first = try XCTUnwrap(storedPassword(run, "st"))
        XCTAssertTrue(try database.canLogIn(run.staticUser, first))
        XCTAssertFalse(try database.canLogIn(run.staticUser, run.staticInitialPassword))

        try database.dropRootUser()
        succeeds(try run.tool.run("write", "-f", "database/rotate-role/st"), "\(database.plugin): rotate-role without root")
        let second = try XCTUnwrap(storedPassword(run, "st"))
        XCTAssertNotEqual(second, first)
        XCTAssertTrue(try database.canLogIn(run.staticUser, second), database.plugin)
        XCTAssertFalse(try database.canLogIn(run.staticUser, first), database.plugin)
        XCTAssertEqual(try run.tool.run("read", "-field=password", "database/static-creds/st").stdout, second)
        XCTAssertEqual(try run.tool.run("read", "database/creds/\(run.role)").status, 2, "a dynamic role needs the root user")
    }

    func testPostgresSelfManagedRoleRotatesWithTheRootUserGone() throws {
        try assertASelfManagedRoleRotatesWithTheRootUserGone(try CrashPostgres())
    }

    func testMariaDBSelfManagedRoleRotatesWithTheRootUserGone() throws {
        try assertASelfManagedRoleRotatesWithTheRootUserGone(try CrashMariaDB())
    }

    /// Vault Enterprise's rootless connection: no username or password at all.
    func testASelfManagedConnectionHasNoRootCredentialAndServesOnlySelfManagedRoles() throws {
        let server = try PostgresTestServer.fromEnvironment()
        let tool = try FaultBinary("dbsecrets-self-managed")
        defer { tool.remove() }
        let user = crashTestName("crsm"), initial = "sm-initial-" + UUID().uuidString
        XCTAssertEqual(try server.psql(user: server.user, password: server.password, "CREATE ROLE \(user) LOGIN PASSWORD '\(initial)'").status, 0)
        defer { _ = try? server.psql(user: server.user, password: server.password, "DROP ROLE IF EXISTS \(user)") }
        succeeds(try tool.run("write", "database/config/rootless", "plugin_name=postgresql-database-plugin",
                              "connection_url=\(server.templatedURL)", "self_managed=true", "allowed_roles=*"), "rootless connection")
        let refused = try tool.run("write", "database/static-roles/plain", "db_name=rootless", "username=\(user)", "rotation_period=1h")
        XCTAssertEqual(refused.status, 2)
        XCTAssertTrue(refused.stderr.contains("is self-managed (it has no root credential)"), refused.stderr)
        succeeds(try tool.run(["write", "database/static-roles/sm", "db_name=rootless", "username=\(user)", "rotation_period=1h",
                               "password=-"], stdin: initial), "a role with its password")
        let password = try tool.run("read", "-field=password", "database/static-creds/sm").stdout
        XCTAssertEqual(try server.psql(user: user, password: password, "SELECT 1").status, 0)
        XCTAssertNotEqual(try server.psql(user: user, password: initial, "SELECT 1").status, 0)
        let root = try tool.run("write", "-f", "database/rotate-root/rootless")
        XCTAssertEqual(root.stderr, "Error writing data to database/rotate-root/rootless: unable to rotate root credentials: no username in configuration\n")
    }

    // MARK: Two passwords

    func testRedisKeepsThePreviousPasswordUntilTheNextRotationOrTheGracePeriodsEnd() throws {
        let database = try CrashRedis()
        defer { try? database.dropRootUser() }
        let run = try CrashRun(database)
        defer { run.remove() }
        try run.makeStaticUser()
        let old = run.staticInitialPassword
        succeeds(try run.tool.run(["write", "database/static-roles/st", "db_name=c", "username=\(run.staticUser)", "rotation_period=1h",
                                   "skip_import_rotation=true", "password=-", "retain_previous_password=true"], stdin: old), "import")
        succeeds(try run.tool.run("write", "-f", "database/rotate-role/st"), "first rotation")
        let first = try XCTUnwrap(storedPassword(run, "st"))
        XCTAssertTrue(try database.canLogIn(run.staticUser, first), "the new password logs in")
        XCTAssertTrue(try database.canLogIn(run.staticUser, old), "and so does the previous one, right after the rotation")

        succeeds(try run.tool.run("write", "-f", "database/rotate-role/st"), "second rotation")
        let second = try XCTUnwrap(storedPassword(run, "st"))
        XCTAssertTrue(try database.canLogIn(run.staticUser, second))
        XCTAssertTrue(try database.canLogIn(run.staticUser, first))
        XCTAssertFalse(try database.canLogIn(run.staticUser, old), "the one before the previous stops at the next rotation")

        succeeds(try run.tool.run("write", "database/static-roles/st", "previous_password_grace=2s"), "a grace period")
        succeeds(try run.tool.run("write", "-f", "database/rotate-role/st"), "third rotation")
        let third = try XCTUnwrap(storedPassword(run, "st"))
        XCTAssertTrue(try database.canLogIn(run.staticUser, second), "valid during the grace period")
        XCTAssertEqual(try run.tool.run("tidy").stdout, "")
        Thread.sleep(forTimeInterval: 2.2)
        let tidy = try run.tool.run("tidy")
        XCTAssertEqual(tidy.stdout, "previous password discarded: st (only the current password of \(run.staticUser) logs in now)\n", tidy.stderr)
        XCTAssertTrue(try database.canLogIn(run.staticUser, third))
        XCTAssertFalse(try database.canLogIn(run.staticUser, second), "the grace period is over")
        XCTAssertEqual(try run.tool.run("tidy").stdout, "", "once")
    }

    func assertTwoPasswordsAreRefused(_ database: CrashDatabase, _ name: String) throws {
        defer { try? database.dropRootUser() }
        let run = try CrashRun(database)
        defer { run.remove() }
        try run.makeStaticUser()
        let refused = try run.tool.run("write", "database/static-roles/st", "db_name=c", "username=\(run.staticUser)",
                                       "rotation_period=1h", "retain_previous_password=true")
        XCTAssertEqual(refused.status, 2)
        XCTAssertEqual(refused.stderr, "Error writing data to database/static-roles/st: retain_previous_password needs a database that keeps two passwords per account (Redis, ElastiCache, MySQL 8.0.14 or later); the database of connection c (\(database.plugin)) keeps one\n", name)
        XCTAssertTrue(try database.canLogIn(run.staticUser, run.staticInitialPassword), "\(name): nothing changed")
        XCTAssertNil(run.stateObject("static-roles/st.json"))
    }

    func testPostgresAndMariaDBRefuseTwoPasswords() throws {
        try assertTwoPasswordsAreRefused(try CrashPostgres(), "PostgreSQL")
        try assertTwoPasswordsAreRefused(try CrashMariaDB(), "MariaDB")
    }
}
