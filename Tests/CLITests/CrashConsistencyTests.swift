import Engine
import Foundation
import TestSupport
import XCTest

/// The one intent-and-recovery rule, tested as a crash would test it. Every operation that
/// changes a database is killed (SIGKILL, through `DBSECRETS_TEST_CRASH_AT=N`) at each of its step
/// boundaries in turn, against the real PostgreSQL, MariaDB and Redis. After the next command that
/// touches the object, and again after `tidy`:
///   - every user dbsecrets created in the database has a lease, or is gone;
///   - every lease has a marker in the expiry index for its next due time;
///   - the password `static-creds` returns logs in, and so does the root password in the state;
///   - after `tidy`, no intent is left.
final class CrashConsistencyTests: XCTestCase {
    /// One operation to kill, what makes the state ready for it, and the next command to run.
    struct Scenario: Sendable {
        var name: String
        var prepare: @Sendable (CrashRun) throws -> Void = { _ in }
        var operation: @Sendable (CrashRun) -> (arguments: [String], stdin: String?)
        /// The next command that touches the object; it must succeed.
        var next: @Sendable (CrashRun) -> [String]
        /// A long-running command (the agent): not killed within this many seconds, it is stopped.
        var runsUntilStopped: TimeInterval? = nil
    }

    static let creds = Scenario(
        name: "creds",
        operation: { (["read", "database/creds/\($0.role)"], nil) },
        next: { ["read", "database/creds/\($0.role)"] })

    static let renew = Scenario(
        name: "lease renew",
        prepare: { try $0.makeLease() },
        operation: { (["lease", "renew", "-increment=2h", $0.leaseID], nil) },
        next: { ["lease", "renew", $0.leaseID] })

    static let revoke = Scenario(
        name: "lease revoke",
        prepare: { try $0.makeLease() },
        operation: { (["lease", "revoke", $0.leaseID], nil) },
        next: { ["lease", "revoke", $0.leaseID] })

    static let staticCreate = Scenario(
        name: "static role create",
        prepare: { try $0.makeStaticUser() },
        operation: { (["write", "database/static-roles/st", "db_name=c", "username=\($0.staticUser)", "rotation_period=1h"], nil) },
        next: { _ in ["read", "database/static-creds/st"] })

    static let staticUpdate = Scenario(
        name: "static role update",
        prepare: { try $0.makeStaticRole() },
        operation: { _ in (["write", "database/static-roles/st", "rotation_period=2h"], nil) },
        next: { _ in ["read", "database/static-creds/st"] })

    static let rotateRole = Scenario(
        name: "rotate-role",
        prepare: { try $0.makeStaticRole() },
        operation: { _ in (["write", "-f", "database/rotate-role/st"], nil) },
        next: { _ in ["read", "database/static-creds/st"] })

    static let rotateRoot = Scenario(
        name: "rotate-root",
        operation: { _ in (["write", "-f", "database/rotate-root/c"], nil) },
        next: { ["read", "database/creds/\($0.role)"] })

    static let configWrite = Scenario(
        name: "config write",
        operation: { ($0.connectionArguments, $0.database.rootPassword) },
        next: { ["read", "database/creds/\($0.role)"] })

    static let tidy = Scenario(
        name: "tidy",
        prepare: { try $0.makeDueWork() },
        operation: { _ in (["tidy"], nil) },
        next: { _ in ["tidy"] })

    /// A pass revoking several leases, whose removals share one fsync (`revokeExpiredLeases`):
    /// killed between a removal and that fsync, or between the fsync and the markers' removal.
    static let tidyOfSeveralLeases = Scenario(
        name: "tidy of three due leases",
        prepare: { run in for _ in 0..<3 { try run.makeLease(); try run.makeLeaseDue() } },
        operation: { _ in (["tidy"], nil) },
        next: { _ in ["tidy"] })

    static let agent = Scenario(
        name: "agent",
        prepare: { try $0.makeDueWork() },
        operation: { _ in (["agent", "-interval=1s"], nil) },
        next: { _ in ["tidy"] },
        runsUntilStopped: 2.5)

    /// Adopting an account: nothing changes in the database, and the role is stored or not.
    static let staticImport = Scenario(
        name: "static role import",
        prepare: { try $0.makeStaticUser() },
        operation: { (["write", "database/static-roles/st", "db_name=c", "username=\($0.staticUser)", "rotation_period=1h",
                       "skip_import_rotation=true", "password=-"], $0.staticInitialPassword) },
        next: { _ in ["read", "database/static-creds/st"] })

    /// A self-managed rotation: the account logs in with its password and changes it itself.
    static let selfManagedRotation = Scenario(
        name: "self-managed rotate-role",
        prepare: { run in
            try run.makeStaticUser()
            try run.expectSuccess(run.tool.run(["write", "database/static-roles/st", "db_name=c", "username=\(run.staticUser)",
                                                "rotation_period=1h", "self_managed_password=-"], stdin: run.staticInitialPassword))
        },
        operation: { _ in (["write", "-f", "database/rotate-role/st"], nil) },
        next: { _ in ["read", "database/static-creds/st"] })

    /// A rotation that keeps the previous password valid (two passwords at once).
    static let twoPasswordRotation = Scenario(
        name: "two-password rotate-role",
        prepare: { try $0.makeTwoPasswordRole(grace: nil) },
        operation: { _ in (["write", "-f", "database/rotate-role/st"], nil) },
        next: { _ in ["read", "database/static-creds/st"] })

    /// The end of a retained password's grace period, as tidy finds it due.
    static let previousPasswordDiscard = Scenario(
        name: "previous password discard",
        prepare: { run in
            try run.makeTwoPasswordRole(grace: "1h")
            try run.rewrite("static-roles/st.json") { $0["previous_password_expiry"] = Timestamp.format(Date().addingTimeInterval(-1)) }
        },
        operation: { _ in (["tidy"], nil) },
        next: { _ in ["read", "database/static-creds/st"] })

    /// The root credential on its own rotation_period, as tidy finds it due.
    static let automatedRootRotation = Scenario(
        name: "automated root rotation",
        prepare: { run in
            try run.expectSuccess(run.tool.run("write", "database/config/c", "rotation_period=1h"))
            try run.rewrite("config/c.json") { $0["next_root_rotation"] = Timestamp.format(Date().addingTimeInterval(-1)) }
        },
        operation: { _ in (["tidy"], nil) },
        next: { ["read", "database/creds/\($0.role)"] })

    static let everyOperation = [creds, renew, revoke, staticCreate, staticUpdate, rotateRole, rotateRoot, configWrite, tidy, tidyOfSeveralLeases, agent,
                                 staticImport, selfManagedRotation, automatedRootRotation]
    /// What changes a database, where each plugin has its own way of changing it. Renewal,
    /// configuration writes and the agent's loop do not depend on the plugin: PostgreSQL covers them.
    static let databaseChanges = [creds, revoke, staticCreate, rotateRole, rotateRoot, tidy]

    func testPostgresSurvivesAKillAtEveryStep() throws {
        try killAtEveryStep(CrashPostgres.init, Self.everyOperation)
    }

    func testMariaDBSurvivesAKillAtEveryStep() throws {
        try killAtEveryStep(CrashMariaDB.init, Self.databaseChanges + [Self.selfManagedRotation])
    }

    func testRedisSurvivesAKillAtEveryStep() throws {
        try killAtEveryStep(CrashRedis.init, Self.databaseChanges + [Self.twoPasswordRotation, Self.previousPasswordDiscard])
    }

    /// The same boundaries failing instead (`DBSECRETS_TEST_FAIL_AT`): a full disk at the intent,
    /// at the lease or role write, at the intent's removal; a refused statement between two.
    /// The command fails cleanly, and leaves no user without a lease and no password lost.
    func testPostgresSurvivesAFailureAtEveryStep() throws {
        try killAtEveryStep(CrashPostgres.init, [Self.creds, Self.staticCreate, Self.rotateRole, Self.rotateRoot], failing: true)
    }

    func testMariaDBSurvivesAFailureAtEveryStep() throws {
        try killAtEveryStep(CrashMariaDB.init, [Self.creds, Self.staticCreate, Self.rotateRole, Self.rotateRoot, Self.selfManagedRotation],
                            failing: true)
    }

    func testRedisSurvivesAFailureAtEveryStepOfATwoPasswordRotation() throws {
        try killAtEveryStep(CrashRedis.init, [Self.twoPasswordRotation], failing: true)
    }

    /// Kills at instants no step boundary chooses: `creds`, `rotate-role` and `rotate-root`
    /// stopped after a random delay, a complement to the step-by-step kills above.
    func testPostgresSurvivesKillsAtRandomInstants() throws {
        let findings = Findings()
        try inParallel([Self.creds, Self.rotateRole, Self.rotateRoot], findings) { scenario in
            let database = try CrashPostgres()
            defer { try? database.dropRootUser() }
            for _ in 0..<4 {
                let run = try CrashRun(database)
                defer { run.remove() }
                try scenario.prepare(run)
                let (arguments, stdin) = scenario.operation(run)
                let delay = Double.random(in: 0.002...0.06)
                let killed = try run.tool.runKilled(after: delay, arguments, stdin: stdin)
                try Self.checkAfterNextCommand(run, scenario, findings, context: "\(scenario.name) killed at \(Int(delay * 1000)) ms (killed: \(killed))")
            }
        }
        findings.report()
    }

    /// A real full disk: the state folder is a small tmpfs, filled up but for 0 to 5 pages, so
    /// each write of `creds`, `rotate-role` and static-role creation in turn is the one that
    /// meets ENOSPC. No user is left without a lease, no password is lost.
    func testPostgresOnAFullDisk() throws {
        try fillTheDisk(try CrashPostgres(), [Self.creds, Self.staticCreate, Self.rotateRole])
    }

    func testMariaDBOnAFullDisk() throws {
        try fillTheDisk(try CrashMariaDB(), [Self.creds, Self.staticCreate, Self.rotateRole])
    }

    func fillTheDisk(_ database: CrashDatabase, _ scenarios: [Scenario]) throws {
        defer { try? database.dropRootUser() }
        let findings = Findings()
        defer { findings.report() }
        for scenario in scenarios {
            var sawFailure = false
            for freePages in 0...5 {
                let run = try CrashRun(database, stateOnTmpfs: true)
                defer { run.remove() }
                try scenario.prepare(run)
                let (arguments, stdin) = scenario.operation(run)
                try run.fillStateDisk(leavingPages: freePages)
                let result = try run.tool.run(arguments, stdin: stdin)
                try run.emptyStateDisk()
                let context = "\(database.plugin): \(scenario.name) with \(freePages) pages free"
                findings.check([0, 2].contains(result.status), "\(context): \(result.stderr)")
                if result.status == 2 {
                    sawFailure = true
                    findings.check(result.stderr.contains("No space left on device"), "\(context): \(result.stderr)")
                }
                try Self.checkAfterNextCommand(run, scenario, findings, context: context)
            }
            findings.check(sawFailure, "\(scenario.name) met a full disk")
        }
    }

    // MARK: - The harness

    /// Each scenario on a database of its own (its own root user), three at a time: the runs are
    /// processes waiting on servers, and independent of each other.
    func killAtEveryStep(_ makeDatabase: @escaping @Sendable () throws -> CrashDatabase, _ scenarios: [Scenario],
                         failing: Bool = false) throws {
        let variable = failing ? "DBSECRETS_TEST_FAIL_AT" : "DBSECRETS_TEST_CRASH_AT"
        let findings = Findings()
        try inParallel(scenarios, findings) { scenario in
            let database = try makeDatabase()
            defer { try? database.dropRootUser() }
            var step = 1
            while true {
                let run = try CrashRun(database)
                defer { run.remove() }
                try scenario.prepare(run)
                let (arguments, stdin) = scenario.operation(run)
                run.tool.extraEnvironment[variable] = String(step)
                let result = try run.tool.run(arguments, stdin: stdin, stopAfter: scenario.runsUntilStopped)
                run.tool.extraEnvironment[variable] = nil
                let context = "\(database.plugin): \(scenario.name) \(failing ? "failing" : "killed") at step \(step)"
                let stopped: Bool
                if failing {
                    stopped = result.stderr.contains("failure injected")
                    findings.check(result.status == (stopped ? 2 : 0), "\(context): a clean failure: \(result.stderr)")
                    findings.check(result.lines.count == (stopped ? 1 : 0), "\(context): one line: \(result.stderr)")
                } else {
                    stopped = result.status == 9
                    findings.check(stopped || scenario.runsUntilStopped != nil || result.status == 0,
                                   "\(scenario.name) ran to the end: \(result.stderr)")
                }
                try Self.checkAfterNextCommand(run, scenario, findings, context: context)
                if !stopped { break }
                step += 1
                if step > 60 {
                    findings.check(false, "\(scenario.name): more than 60 steps?")
                    break
                }
            }
            findings.check(step > 1, "\(database.plugin): \(scenario.name) has step boundaries")
        }
        findings.report()
    }

    /// Runs `body` for each scenario on its own thread, three at a time; what it throws is a finding.
    /// Threads of their own, not Dispatch's pool: Foundation learns that a child process exited on
    /// that pool, and workers blocked waiting for children would starve it.
    func inParallel(_ scenarios: [Scenario], _ findings: Findings, _ body: @escaping @Sendable (Scenario) throws -> Void) throws {
        runOnThreads(scenarios.map { scenario in
            { @Sendable in
                do {
                    try body(scenario)
                } catch {
                    findings.check(false, "\(scenario.name): \(error)")
                }
            }
        }, atOnce: 3)
    }

    static func checkAfterNextCommand(_ run: CrashRun, _ scenario: Scenario, _ findings: Findings, context: String) throws {
        let next = try run.tool.run(scenario.next(run))
        if ["static role create", "static role import"].contains(scenario.name) && next.status != 0 {
            // Killed before anything was recorded: no role, and the account is untouched.
            findings.check(next.stderr.contains("unknown role"), "\(context): \(next.stderr)")
            findings.check(try run.database.canLogIn(run.staticUser, run.staticInitialPassword), "\(context): nothing lost")
        } else {
            findings.check(next.status == 0, "\(context): the next command works: \(next.stderr)")
        }
        try assertInvariants(run, findings, context + ", after the next command")
        let tidy = try run.tool.run("tidy")
        findings.check(tidy.status == 0, "\(context): tidy has nothing left that fails: \(tidy.stdout) \(tidy.stderr)")
        try assertInvariants(run, findings, context + ", after tidy")
        findings.check(run.intentFiles() == [], "\(context): every intent settled: \(run.intentFiles())")
    }

    static func assertInvariants(_ run: CrashRun, _ findings: Findings, _ context: String) throws {
        let leases = try run.leaseFiles()
        let leaseUsers = Set(leases.compactMap { $0.value["username"] as? String })
        for user in try run.database.usersCreated(forRole: run.role) {
            findings.check(leaseUsers.contains(user), "\(context): user \(user) has no lease")
        }
        for (file, lease) in leases where lease["irrevocable"] as? Bool != true {
            let due = (lease["next_revoke_attempt"] as? String ?? lease["expire_time"] as? String).flatMap(Timestamp.parse)
            let bucket = String(format: "%012d", Int(((due?.timeIntervalSince1970 ?? 0) / 60).rounded(.down)))
            findings.check(FileManager.default.fileExists(atPath: run.tool.state.appendingPathComponent("lease-expiry/\(bucket)/\(file)").path),
                           "\(context): lease \(file) has no marker in \(bucket): \(run.tool.stateFiles())")
        }
        let intents = run.intentFiles()
        if let config = run.stateObject("config/c.json"), !intents.contains("intents/root-c.json") {
            let password = (config["connection_details"] as? [String: Any])?["password"] as? String ?? ""
            findings.check(try run.database.canLogIn(run.database.rootUser, password), "\(context): the stored root password logs in")
        }
        // The stored static password is checked through what matters: static-creds hands out one
        // that logs in (settling an interrupted rotation first if there is one).
        if run.stateObject("static-roles/st.json") != nil {
            let password = try run.tool.run("read", "-field=password", "database/static-creds/st")
            findings.check(password.status == 0, "\(context): \(password.stderr)")
            findings.check(try run.database.canLogIn(run.staticUser, password.stdout), "\(context): static-creds logs in")
        }
    }
}

/// One state folder against one database: a connection `c` whose root is the database's test
/// root user, a dynamic role of a name unique to the run, and (when asked) a static account.
final class CrashRun: @unchecked Sendable {
    let database: CrashDatabase
    let tool: FaultBinary
    let role = crashTestName()
    let staticUser = crashTestName("crst")
    let staticInitialPassword = "initial-" + UUID().uuidString
    var leaseID = ""

    /// `stateOnTmpfs`: the state folder is a 1 MiB tmpfs of its own (root only), to fill up.
    init(_ database: CrashDatabase, stateOnTmpfs: Bool = false) throws {
        self.database = database
        tool = try FaultBinary("dbsecrets-crash")
        if stateOnTmpfs {
            try FileManager.default.createDirectory(at: tool.state, withIntermediateDirectories: true)
            let mount = try ProcessRunner.run("/bin/mount", ["-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", tool.state.path])
            guard mount.status == 0 else {
                tool.remove()
                throw XCTSkip("cannot mount a tmpfs to fill (needs root): \(mount.stderr)")
            }
            mounted = true
        }
        try database.resetRootPassword()
        try expectSuccess(tool.run(connectionArguments, stdin: database.rootPassword))
        try expectSuccess(tool.run(["write", "database/roles/\(role)", "default_ttl=1h", "max_ttl=24h"] + database.roleData(connection: "c")))
    }

    var connectionArguments: [String] { ["write", "database/config/c"] + database.connectionData(allowedRoles: "*") }

    private var mounted = false

    func remove() {
        try? database.dropUsers(role: role, staticUser: staticUser)
        if mounted { _ = try? ProcessRunner.run("/bin/umount", [tool.state.path]) }
        tool.remove()
    }

    private var filler: URL { tool.state.appendingPathComponent("filler") }

    /// Fills the state's tmpfs, then frees `pages` pages of 4 KiB.
    func fillStateDisk(leavingPages pages: Int) throws {
        FileManager.default.createFile(atPath: filler.path, contents: nil)
        let handle = try FileHandle(forWritingTo: filler)
        let chunk = Data(count: 4096)
        var written: UInt64 = 0
        while (try? handle.write(contentsOf: chunk)) != nil { written += 4096 }
        try handle.truncate(atOffset: written >= UInt64(pages * 4096) ? written - UInt64(pages * 4096) : 0)
        try handle.close()
    }

    func emptyStateDisk() throws {
        try FileManager.default.removeItem(at: filler)
    }

    func makeLease() throws {
        let result = try tool.run("read", "-field=lease_id", "database/creds/\(role)")
        try expectSuccess(result)
        leaseID = result.stdout
    }

    func makeStaticUser() throws {
        try database.createStaticUser(staticUser, password: staticInitialPassword)
    }

    func makeStaticRole() throws {
        try makeStaticUser()
        try expectSuccess(tool.run("write", "database/static-roles/st", "db_name=c", "username=\(staticUser)", "rotation_period=1h"))
    }

    /// A static role on a Redis account whose rotations keep the previous password: adopted with
    /// its password, then rotated once, so that two passwords are valid.
    func makeTwoPasswordRole(grace: String?) throws {
        try makeStaticUser()
        try expectSuccess(tool.run(["write", "database/static-roles/st", "db_name=c", "username=\(staticUser)", "rotation_period=1h",
                                    "skip_import_rotation=true", "password=-", "retain_previous_password=true"]
                                   + (grace.map { ["previous_password_grace=\($0)"] } ?? []), stdin: staticInitialPassword))
        try expectSuccess(tool.run("write", "-f", "database/rotate-role/st"))
    }

    /// Changes a state file as the clock or an operator would (e.g. a due time moved to the past),
    /// through a rename, as an editor saves: a static role file rewritten in place after a pass
    /// found the index whole is seen only by the full comparison every 10 minutes
    /// (`StaticRoleIndexTests`), and a due time moved by hand should be seen by the next pass.
    func rewrite(_ relativePath: String, _ change: (inout [String: Any]) -> Void) throws {
        var object = try tool.stateObject(relativePath)
        change(&object)
        try JSONSerialization.data(withJSONObject: object).write(to: tool.state.appendingPathComponent(relativePath), options: .atomic)
    }

    /// A lease past its expiry and a static role past its rotation time, as the clock would make them.
    func makeDueWork() throws {
        try makeLease()
        try makeStaticRole()
        try makeLeaseDue()
        let past = Timestamp.format(Date().addingTimeInterval(-120))
        var role = try tool.stateObject("static-roles/st.json")
        role["next_vault_rotation"] = past
        try JSONSerialization.data(withJSONObject: role).write(to: tool.state.appendingPathComponent("static-roles/st.json"))
    }

    /// The lease `leaseID` past its expiry, its marker moved to the bucket of that time.
    func makeLeaseDue() throws {
        let past = Timestamp.format(Date().addingTimeInterval(-120))
        let file = leaseID.split(separator: "/").suffix(2).joined(separator: ".")
        var lease = try tool.stateObject("leases/\(file).json")
        let oldBucket = bucket(of: lease["expire_time"] as? String ?? "")
        lease["expire_time"] = past
        try JSONSerialization.data(withJSONObject: lease).write(to: tool.state.appendingPathComponent("leases/\(file).json"))
        let pastBucket = tool.state.appendingPathComponent("lease-expiry/\(bucket(of: past))")
        try FileManager.default.createDirectory(at: pastBucket, withIntermediateDirectories: true)
        try FileManager.default.moveItem(at: tool.state.appendingPathComponent("lease-expiry/\(oldBucket)/\(file)"),
                                         to: pastBucket.appendingPathComponent(file))
    }

    private func bucket(of time: String) -> String {
        String(format: "%012d", Int(((Timestamp.parse(time)?.timeIntervalSince1970 ?? 0) / 60).rounded(.down)))
    }

    /// Intent files (not the temp files of killed writes: the trust-boundary tests cover those).
    func intentFiles() -> [String] {
        tool.stateFiles().filter { $0.hasPrefix("intents/") && !$0.hasPrefix("intents/.") }
    }

    /// A state file as a JSON object, nil when there is none.
    func stateObject(_ relativePath: String) -> [String: Any]? {
        guard let data = try? Data(contentsOf: tool.state.appendingPathComponent(relativePath)) else { return nil }
        return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
    }

    /// Every lease file, by file name.
    func leaseFiles() throws -> [String: [String: Any]] {
        let folder = tool.state.appendingPathComponent("leases")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        var leases: [String: [String: Any]] = [:]
        // A lease revoked between the listing and the read is gone: skipped, not a failure.
        for name in names where name.hasSuffix(".json") && !name.hasPrefix(".") {
            if let lease = stateObject("leases/\(name)") { leases[String(name.dropLast(5))] = lease }
        }
        return leases
    }

    func expectSuccess(_ result: FaultBinary.Run, file: StaticString = #filePath, line: UInt = #line) throws {
        if result.status != 0 { throw FaultSetupError("setup failed: \(result.stderr)") }
    }
}

/// What the crash harness found, from any of its threads; reported to XCTest on the test's own.
final class Findings: @unchecked Sendable {
    private let lock = NSLock()
    private var failures: [String] = []

    func check(_ condition: @autoclosure () throws -> Bool, _ message: @autoclosure () -> String) {
        let holds = (try? condition()) ?? false
        if !holds { lock.withLock { failures.append(message()) } }
    }

    func report(file: StaticString = #filePath, line: UInt = #line) {
        for failure in lock.withLock({ failures }) { XCTFail(failure, file: file, line: line) }
    }
}

/// Runs each piece of work on a thread of its own, `atOnce` at a time, and waits for all.
func runOnThreads(_ work: [@Sendable () -> Void], atOnce: Int) {
    let slots = DispatchSemaphore(value: atOnce)
    let finished = DispatchGroup()
    for piece in work {
        slots.wait()
        finished.enter()
        Thread {
            piece()
            slots.signal()
            finished.leave()
        }.start()
    }
    finished.wait()
}
