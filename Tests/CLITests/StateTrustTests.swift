import Foundation
import TestSupport
import XCTest

/// The state folder as a trust boundary, through the real binary as a hostile local user would
/// try it: folders others control are refused before any secret is read, links planted inside
/// are never followed, FIFOs never block, and killed writers' temp files do not outlive the next
/// write or `tidy`.
final class StateTrustTests: XCTestCase {
    var tool: FaultBinary!
    var state: String { tool.state.path }
    /// Files outside the state folder that no command may create, read, change or delete.
    var outside: URL!
    static let rootSecret = "root-pw-Kx81Zq"
    static let nobody: uid_t = 65534

    override func setUpWithError() throws {
        tool = try FaultBinary("dbsecrets-trust")
        outside = tool.folder.url.appendingPathComponent("outside")
        try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
        try Data("outside file\n".utf8).write(to: outside.appendingPathComponent("victim"))
        try FileManager.default.createDirectory(at: outside.appendingPathComponent("root-only"), withIntermediateDirectories: true)
        try Data("keep me".utf8).write(to: outside.appendingPathComponent("root-only/precious"))
    }

    override func tearDown() {
        // Folders given to other users or made unreadable would otherwise stay behind.
        if let tool { _ = try? ProcessRunner.run("/bin/chmod", ["-R", "u+rwx", tool.folder.path]) }
        tool?.remove()
    }

    /// A connection whose root password is in the state, and a role, without any database.
    private func storeSecrets() throws {
        let port = try freePort()
        var r = try tool.run(["write", "database/config/pg", "plugin_name=postgresql-database-plugin",
                              "connection_url=postgresql://{{username}}:{{password}}@127.0.0.1:\(port)/x?sslmode=disable",
                              "username=vault", "password=-", "verify_connection=false", "allowed_roles=*"], stdin: Self.rootSecret)
        XCTAssertEqual(r.status, 0, r.stderr)
        r = try tool.run("write", "database/roles/ro", "db_name=pg", "creation_statements=SELECT 1")
        XCTAssertEqual(r.status, 0, r.stderr)
    }

    private func requireRoot() throws {
        guard geteuid() == 0 else { throw XCTSkip("giving a folder to another user needs root; this test runs as uid \(geteuid())") }
    }

    private func chown(_ path: String, _ uid: uid_t) {
        XCTAssertEqual(Glibc.chown(path, uid, gid_t(uid)), 0, "chown \(path)")
    }

    private func chmod(_ path: String, _ mode: mode_t) {
        XCTAssertEqual(Glibc.chmod(path, mode), 0, "chmod \(path)")
    }

    /// Every command that reads a secret, refused with `message`, printing no secret.
    private func assertRefused(containing expected: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        for args in [["read", "database/config/pg"], ["read", "database/creds/ro"], ["write", "-f", "database/rotate-root/pg"],
                     ["tidy"], ["lease", "list"]] {
            let r = try tool.run(args)
            XCTAssertEqual(r.status, 2, "\(args) was not refused: \(r.stdout)\(r.stderr)", file: file, line: line)
            XCTAssertEqual(r.lines.count, 1, "one line: \(r.stderr)", file: file, line: line)
            for text in expected { XCTAssertTrue(r.stderr.contains(text), "\(args): \(r.stderr) lacks \(text)", file: file, line: line) }
            XCTAssertFalse((r.stdout + r.stderr).contains(Self.rootSecret), file: file, line: line)
            XCTAssertEqual(r.stdout, "", file: file, line: line)
        }
    }

    // MARK: Who controls the folder

    func testAStateFolderOthersCanWriteIsRefusedBeforeAnySecretIsRead() throws {
        try storeSecrets()
        for mode: mode_t in [0o777, 0o770, 0o702, 0o720] {
            chmod(state, mode)
            try assertRefused(containing: ["the state folder \(state) is writable by", "run chmod 700 \(state)"])
        }
        chmod(state, 0o700)
        XCTAssertEqual(try tool.run("read", "database/config/pg").status, 0, "usable again once fixed")
        // A sub-folder opened up since is refused as well: someone could swap the roles in it.
        chmod(state + "/roles", 0o777)
        let r = try tool.run("read", "database/creds/ro")
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.contains("\(state)/roles is writable by group and others: run chmod 700 \(state)/roles"), r.stderr)
    }

    func testAStateFolderOwnedBySomeoneElseIsRefused() throws {
        try requireRoot()
        try storeSecrets()
        chown(state, Self.nobody)
        try assertRefused(containing: ["the state folder \(state) belongs to nobody (uid 65534), not to you (root)",
                                       "run chown root \(state)"])
    }

    func testParentsOthersControlAreRefusedUnlessSticky() throws {
        try requireRoot()
        try storeSecrets()
        let parent = tool.folder.path
        chmod(parent, 0o777)
        try assertRefused(containing: ["\(parent), above the state folder \(state), is writable by group and others",
                                       "run chmod go-w \(parent)", "DBSECRETS_ALLOW_INSECURE_PARENTS=1"])
        // World-writable with the sticky bit, owned by root, is what /tmp is: fine.
        chmod(parent, 0o1777)
        XCTAssertEqual(try tool.run("read", "database/config/pg").status, 0)
        // Sticky but owned by someone else, who may still rename what is in it.
        chown(parent, Self.nobody)
        try assertRefused(containing: ["\(parent), above the state folder \(state), belongs to nobody (uid 65534)"])
        chmod(parent, 0o755)
        try assertRefused(containing: ["belongs to nobody (uid 65534), who could replace the state folder"])

        // The variable relaxes the parents' check, never the state folder's own.
        tool.extraEnvironment["DBSECRETS_ALLOW_INSECURE_PARENTS"] = "1"
        XCTAssertEqual(try tool.run("read", "database/config/pg").status, 0)
        chmod(state, 0o777)
        try assertRefused(containing: ["run chmod 700 \(state)"])
    }

    func testAStateFolderReachedThroughALinkIsCheckedWhereItLeads() throws {
        try requireRoot()
        try storeSecrets()
        let link = tool.folder.url.appendingPathComponent("via-link").path
        XCTAssertEqual(symlink(state, link), 0)
        tool.extraEnvironment["DBSECRETS_STATE_DIR"] = link
        XCTAssertEqual(try tool.run("read", "database/config/pg").status, 0, "a link to a private folder is fine")
        chmod(state, 0o777)
        let r = try tool.run("read", "database/config/pg")
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.contains("is writable by group and others"), r.stderr)
        chmod(state, 0o700)
        // A link that someone else owns, in a folder others may write, could be pointed anywhere.
        chmod(tool.folder.path, 0o1777)
        XCTAssertEqual(lchown(link, Self.nobody, gid_t(Self.nobody)), 0)
        let refused = try tool.run("read", "database/config/pg")
        XCTAssertEqual(refused.status, 2)
        XCTAssertTrue(refused.stderr.contains("\(link), on the way to the state folder \(link), is a symbolic link owned by nobody (uid 65534)"), refused.stderr)
    }

    func testFoldersDbsecretsCreatesAreAllPrivateParentsIncluded() throws {
        let deep = tool.folder.url.appendingPathComponent("a/b/c/state").path
        tool.extraEnvironment["DBSECRETS_STATE_DIR"] = deep
        let r = try tool.run(["write", "database/roles/r", "db_name=x"], umask: "000")
        XCTAssertEqual(r.status, 0, r.stderr)
        for folder in ["a", "a/b", "a/b/c", "a/b/c/state", "a/b/c/state/roles", "a/b/c/state/locks", "a/b/c/state/tmp"] {
            XCTAssertEqual(try mode(tool.folder.path + "/" + folder), 0o700, folder)
        }
    }

    // MARK: As an unprivileged user

    /// Runs the binary as `nobody` with `state` as its state folder.
    private func runAsNobody(_ args: [String], state: String, stdin: String? = nil) throws -> ProcessResult {
        try ProcessRunner.run("/usr/bin/setpriv", ["--reuid=\(Self.nobody)", "--regid=\(Self.nobody)", "--clear-groups", "--",
                                                  PackageRoot.binary.path] + args,
                              environment: ["DBSECRETS_STATE_DIR": state, "PATH": "/usr/bin:/bin", "HOME": "/nonexistent"],
                              stdin: stdin, timeout: 30)
    }

    private func requireUnprivilegedRuns() throws {
        try requireRoot()
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") else { throw XCTSkip("setpriv is not installed") }
        let probe = try ProcessRunner.run("/usr/bin/setpriv", ["--reuid=\(Self.nobody)", "--regid=\(Self.nobody)", "--clear-groups", "--",
                                                               PackageRoot.binary.path, "-version"])
        guard probe.status == 0 else { throw XCTSkip("nobody cannot run \(PackageRoot.binary.path): \(probe.stderr)") }
    }

    func testAnUnprivilegedUserGetsPrivateFoldersAndRefusesOthers() throws {
        try requireUnprivilegedRuns()
        let home = tool.folder.url.appendingPathComponent("nobody-home").path
        XCTAssertEqual(mkdir(home, 0o755), 0)
        chown(home, Self.nobody)
        let own = home + "/x/y/state"
        var r = try runAsNobody(["write", "database/roles/r", "db_name=x"], state: own)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try runAsNobody(["read", "-field=db_name", "database/roles/r"], state: own).stdout, "x")
        for folder in ["x", "x/y", "x/y/state", "x/y/state/roles"] {
            XCTAssertEqual(try mode(home + "/" + folder), 0o700, folder)
            XCTAssertEqual(try owner(home + "/" + folder), Self.nobody, folder)
        }

        // A parent that belongs to a third user, and a state folder root gave away writable.
        let foreign = tool.folder.url.appendingPathComponent("foreign").path
        XCTAssertEqual(mkdir(foreign, 0o755), 0)
        chown(foreign, 1234)
        r = try runAsNobody(["read", "database/roles/r"], state: foreign + "/state")
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.contains("\(foreign), above the state folder \(foreign)/state, belongs to uid 1234"), r.stderr)
        let shared = home + "/shared-state"
        XCTAssertEqual(mkdir(shared, 0o777), 0)
        chmod(shared, 0o777)
        chown(shared, Self.nobody)
        r = try runAsNobody(["read", "database/roles/r"], state: shared)
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.contains("the state folder \(shared) is writable by group and others: run chmod 700 \(shared)"), r.stderr)
        // Root's own state is no business of nobody's: refused by the kernel, said plainly.
        try storeSecrets()
        r = try runAsNobody(["read", "database/config/pg"], state: state)
        XCTAssertEqual(r.status, 2)
        XCTAssertFalse(r.stderr.contains(Self.rootSecret))
        XCTAssertTrue(r.stderr.contains("Permission denied"), r.stderr)
    }

    // MARK: Links and FIFOs planted inside

    /// What the outside folder holds, to prove no command touched it.
    private func outsideSnapshot() -> [String: Data] { SecurityNameTests.snapshot(outside) }

    private func assertLinkRefused(_ args: [String], naming path: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try tool.run(args)
        XCTAssertNotEqual(r.status, 0, "\(args) followed a link: \(r.stdout)", file: file, line: line)
        XCTAssertTrue(r.stderr.contains("\(path) is a symbolic link") || r.stdout.contains("\(path) is a symbolic link"),
                      "\(args): \(r.stderr)", file: file, line: line)
        XCTAssertTrue(r.stderr.contains("dbsecrets never follows links inside the state folder") || r.stdout.contains("never follows links"),
                      r.stderr, file: file, line: line)
        XCTAssertFalse((r.stdout + r.stderr).contains(Self.rootSecret), file: file, line: line)
        XCTAssertFalse((r.stdout + r.stderr).contains("outside file"), "the link's target was read", file: file, line: line)
    }

    /// `lease list` goes on past a lease it cannot read and shows why, rather than stopping
    /// (one bad file never stops a listing); it never reads through the link or waits on the FIFO.
    private func assertListedAsUnreadable(_ path: String, _ reason: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try tool.run("lease", "list")
        XCTAssertEqual(r.status, 0, r.stderr, file: file, line: line)
        XCTAssertTrue(r.stdout.contains("unreadable: ") && r.stdout.contains("\(path) \(reason)"), r.stdout, file: file, line: line)
        XCTAssertLessThan(r.seconds, 5, "lease list waited", file: file, line: line)
        XCTAssertFalse((r.stdout + r.stderr).contains(Self.rootSecret), file: file, line: line)
        XCTAssertFalse((r.stdout + r.stderr).contains("outside file"), "the link's target was read", file: file, line: line)
        // The same through the JSON writer, which reads the files its own way.
        let json = try tool.run("lease", "list", "-format=json")
        XCTAssertEqual(json.status, 0, json.stderr, file: file, line: line)
        let items = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]], json.stdout, file: file, line: line)
        let item = items.first { ($0["last_error"] as? String)?.contains("\(path) \(reason)") == true }
        XCTAssertEqual(item?["unreadable"] as? Bool, true, json.stdout, file: file, line: line)
        XCTAssertLessThan(json.seconds, 5, "lease list -format=json waited", file: file, line: line)
        XCTAssertFalse((json.stdout + json.stderr).contains("outside file"), "the link's target was read", file: file, line: line)
    }

    /// A lease file that someone else owns, or that others may write, may hold their revocation
    /// statements: it is not read, by a listing or by any command, and the listing goes on.
    func testALeaseFileOthersControlIsNotRead() throws {
        try requireRoot()
        try storeSecrets()
        let leases = state + "/leases"
        try FileManager.default.createDirectory(atPath: leases, withIntermediateDirectories: true)
        let text = #"{"db_name":"pg","expire_time":"2999-01-01T00:00:00.000Z","format_version":1,"id":"database/creds/ro/ID","#
            + #""irrevocable":false,"issue_time":"2026-01-01T00:00:00.000Z","revoke_attempts":0,"role":"ro","username":"planted-user","#
            + #""revocation_statements":["ALTER ROLE attacker SUPERUSER"]}"#
        for (suffix, owner, mode) in [("Foreign", Self.nobody, mode_t(0o600)), ("Writable", 0, mode_t(0o666)), ("Group", 0, mode_t(0o620))] {
            let path = leases + "/ro.\(suffix).json"
            try Data(text.replacingOccurrences(of: "/ID", with: "/" + suffix).utf8).write(to: URL(fileURLWithPath: path))
            chown(path, owner)
            chmod(path, mode)
        }
        try assertListedAsUnreadable(leases + "/ro.Foreign.json", "belongs to nobody (uid 65534), not to you (root)")
        try assertListedAsUnreadable(leases + "/ro.Writable.json", "is writable by group and others")
        try assertListedAsUnreadable(leases + "/ro.Group.json", "is writable by its group")
        let listed = try tool.run("lease", "list", "-format=json")
        XCTAssertFalse(listed.stdout.contains("planted-user"), listed.stdout)
        let lookup = try tool.run("lease", "lookup", "database/creds/ro/Foreign")
        XCTAssertEqual(lookup.status, 2)
        XCTAssertTrue(lookup.stderr.contains("state file \(leases)/ro.Foreign.json belongs to nobody (uid 65534)"), lookup.stderr)
        let revoke = try tool.run("lease", "revoke", "database/creds/ro/Writable")
        XCTAssertEqual(revoke.status, 2, "never revoked with the planted statements: \(revoke.stdout)")
        XCTAssertTrue(revoke.stderr.contains("state file \(leases)/ro.Writable.json is writable by group and others: check it and run chmod 600"),
                      revoke.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: leases + "/ro.Foreign.json"), "left for its owner to see")
    }

    /// An empty or absent leases folder lists nothing, in every format, and is not an error.
    func testAnEmptyLeasesFolderListsNothing() throws {
        try storeSecrets()
        for created in [false, true] {
            if created { try FileManager.default.createDirectory(atPath: state + "/leases", withIntermediateDirectories: true) }
            var r = try tool.run("lease", "list", "-format=json")
            XCTAssertEqual([r.status], [0], r.stderr)
            XCTAssertEqual(r.stdout, "[]\n")
            r = try tool.run("lease", "list", "-format=yaml")
            XCTAssertEqual(r.stdout, "[]\n")
            r = try tool.run("lease", "list")
            XCTAssertEqual([r.status], [0], r.stderr)
            XCTAssertEqual(r.stdout, "")
            XCTAssertEqual(r.stderr, "No leases found\n")
            r = try tool.run("list", "sys/leases/lookup/database/creds/ro")
            XCTAssertEqual(r.status, 2, "Vault's answer to an empty list: \(r.stdout)")
        }
    }

    func testPlantedLinksAreRefusedAndNothingOutsideIsTouched() throws {
        try storeSecrets()
        let issued = try tool.run("write", "database/roles/other", "db_name=pg")
        XCTAssertEqual(issued.status, 0, issued.stderr)
        let before = outsideSnapshot()
        let fm = FileManager.default

        // A role, a config and a lease that point at files elsewhere are not read.
        try Data(#"{"format_version":1,"db_name":"pg","creation_statements":["ALTER ROLE attacker SUPERUSER"]}"#.utf8)
            .write(to: outside.appendingPathComponent("evil-role.json"))
        let planted = outsideSnapshot()
        XCTAssertEqual(symlink(outside.path + "/evil-role.json", state + "/roles/evil.json"), 0)
        try assertLinkRefused(["read", "database/creds/evil"], naming: state + "/roles/evil.json")
        try assertLinkRefused(["read", "database/roles/evil"], naming: state + "/roles/evil.json")
        try assertLinkRefused(["write", "database/roles/evil", "db_name=pg"], naming: state + "/roles/evil.json")
        XCTAssertEqual(symlink(outside.path + "/evil-role.json", state + "/config/evil.json"), 0)
        try assertLinkRefused(["read", "database/config/evil"], naming: state + "/config/evil.json")
        try fm.createDirectory(atPath: state + "/leases", withIntermediateDirectories: true)
        XCTAssertEqual(symlink(outside.path + "/victim", state + "/leases/ro.AbCdEfGhIjKlMnOpQrStUvWx.json"), 0)
        try assertLinkRefused(["lease", "lookup", "database/creds/ro/AbCdEfGhIjKlMnOpQrStUvWx"],
                              naming: state + "/leases/ro.AbCdEfGhIjKlMnOpQrStUvWx.json")
        try assertListedAsUnreadable(state + "/leases/ro.AbCdEfGhIjKlMnOpQrStUvWx.json", "is a symbolic link")
        try fm.removeItem(atPath: state + "/leases/ro.AbCdEfGhIjKlMnOpQrStUvWx.json")

        // A lock pointing at a missing file does not create it; at an existing file, does not open it.
        XCTAssertEqual(symlink(outside.path + "/created-by-lock", state + "/locks/role-name-r1.lock"), 0)
        try assertLinkRefused(["write", "database/roles/r1", "db_name=pg"], naming: state + "/locks/role-name-r1.lock")
        XCTAssertEqual(symlink(outside.path + "/victim", state + "/locks/role-name-r2.lock"), 0)
        try assertLinkRefused(["write", "database/roles/r2", "db_name=pg"], naming: state + "/locks/role-name-r2.lock")
        XCTAssertFalse(fm.fileExists(atPath: state + "/roles/r1.json"), "refused before anything was written")

        // A minute of the expiry index pointing at a folder of someone else's files.
        try fm.createDirectory(atPath: state + "/lease-expiry", withIntermediateDirectories: true)
        XCTAssertEqual(symlink(outside.path + "/root-only", state + "/lease-expiry/000000000001"), 0)
        try assertLinkRefused(["tidy"], naming: state + "/lease-expiry/000000000001")
        try fm.removeItem(atPath: state + "/lease-expiry/000000000001")

        // A temp file of the next write, planted as a link: removed as a leftover, never written through.
        let deadPID = try pidOfAFinishedProcess()
        XCTAssertEqual(symlink(outside.path + "/victim", state + "/tmp/roles~other.json~\(deadPID)~1a2b3c"), 0)
        var r = try tool.run("write", "database/roles/other", "db_name=pg2")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try tool.run("read", "-field=db_name", "database/roles/other").stdout, "pg2")
        XCTAssertFalse(fm.fileExists(atPath: state + "/tmp/roles~other.json~\(deadPID)~1a2b3c"))

        // locks/ itself pointing elsewhere: nothing is created there.
        try fm.moveItem(atPath: state + "/locks", toPath: tool.folder.path + "/old-locks")
        XCTAssertEqual(symlink(outside.path, state + "/locks"), 0)
        try assertLinkRefused(["write", "database/roles/r3", "db_name=pg"], naming: state + "/locks")
        try assertLinkRefused(["write", "-f", "database/rotate-root/pg"], naming: state + "/locks")
        r = try tool.run("read", "database/roles/other")
        XCTAssertEqual(r.status, 0, "reads need no lock: \(r.stderr)")

        XCTAssertEqual(outsideSnapshot(), planted, "nothing outside the state folder was created, changed or deleted")
        XCTAssertEqual(Set(planted.keys).subtracting(before.keys), ["evil-role.json"])
    }

    func testAFIFOAsAStateFileIsRefusedAtOnce() throws {
        try storeSecrets()
        let fifos = [state + "/roles/fifo.json", state + "/locks/role-name-fifo2.lock", state + "/config/fifo.json"]
        try FileManager.default.createDirectory(atPath: state + "/leases", withIntermediateDirectories: true)
        for path in fifos + [state + "/leases/ro.AbCdEfGhIjKlMnOpQrStUvWx.json"] { XCTAssertEqual(mkfifo(path, 0o600), 0, path) }
        let cases: [([String], String)] = [
            (["read", "database/roles/fifo"], fifos[0]),
            (["write", "database/roles/fifo2", "db_name=x"], fifos[1]),
            (["read", "database/config/fifo"], fifos[2]),
        ]
        for (args, path) in cases {
            let r = try tool.run(args)
            XCTAssertNotEqual(r.status, 0, "\(args)")
            XCTAssertTrue(r.stderr.contains("\(path) is a FIFO, not a regular file"), "\(args): \(r.stderr)")
            XCTAssertLessThan(r.seconds, 5, "\(args) waited on the FIFO")
            XCTAssertFalse((r.stdout + r.stderr).contains(Self.rootSecret))
        }
        try assertListedAsUnreadable(state + "/leases/ro.AbCdEfGhIjKlMnOpQrStUvWx.json", "is a FIFO, not a regular file")
    }

    // MARK: Temp files of killed writers

    private func pidOfAFinishedProcess() throws -> pid_t {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/true")
        try process.run()
        process.waitUntilExit()
        return process.processIdentifier
    }

    private func makeOld(_ path: String) {
        var times = [timespec(tv_sec: time(nil) - 600, tv_nsec: 0), timespec(tv_sec: time(nil) - 600, tv_nsec: 0)]
        XCTAssertEqual(utimensat(AT_FDCWD, path, &times, AT_SYMLINK_NOFOLLOW), 0, path)
    }

    func testKilledWritersLeftoversGoWithTheNextWriteTidyAndDelete() throws {
        try storeSecrets()
        let fm = FileManager.default
        let dead = try pidOfAFinishedProcess()
        let secretBody = Data("{\"password\": \"\(Self.rootSecret)\"}".utf8)
        // As a killed writer leaves them: one for the config (the next write of it removes it), one
        // for a static role nobody writes again (tidy removes it once a minute old), one still
        // being written by a live process (left alone), and one from before tmp/ existed.
        let ofConfig = state + "/tmp/config~pg.json~\(dead)~aa11"
        let ofStatic = state + "/tmp/static-roles~st.json~\(getpid())~bb22"
        let inFlight = state + "/tmp/roles~ro.json~\(getpid())~cc33"
        let legacy = state + "/config/.pg.json.tmp-\(dead)-123456"
        for path in [ofConfig, ofStatic, inFlight, legacy] { XCTAssertTrue(fm.createFile(atPath: path, contents: secretBody), path) }
        makeOld(ofStatic)
        makeOld(legacy)

        var r = try tool.run("write", "database/config/pg", "allowed_roles=ro")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertFalse(fm.fileExists(atPath: ofConfig), "the next write of the same object removes its leftovers")
        XCTAssertTrue(fm.fileExists(atPath: ofStatic))
        r = try tool.run("tidy")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertFalse(fm.fileExists(atPath: ofStatic), "tidy removes temp files a minute old")
        XCTAssertFalse(fm.fileExists(atPath: legacy), "and those of older versions")
        XCTAssertTrue(fm.fileExists(atPath: inFlight), "a write in progress is left alone")

        // Deleting an object removes what killed writers left of it.
        let ofRole = state + "/tmp/roles~ro.json~\(dead)~dd44"
        let legacyRole = state + "/roles/.ro.json.tmp-\(dead)-99"
        for path in [ofRole, legacyRole] { XCTAssertTrue(fm.createFile(atPath: path, contents: secretBody), path) }
        r = try tool.run("delete", "database/roles/ro")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertFalse(fm.fileExists(atPath: ofRole))
        XCTAssertFalse(fm.fileExists(atPath: legacyRole))
    }

    func testAWriteKilledMidWayLeavesNothingAfterTheNextWrite() throws {
        XCTAssertEqual(try tool.run("write", "database/roles/r", "db_name=first").status, 0)
        let body = "creation_statements=" + String(repeating: "x", count: 100_000)
        for _ in 0..<15 {
            let process = Process()
            process.executableURL = PackageRoot.binary
            process.arguments = ["write", "database/roles/r", "db_name=killed", body]
            process.environment = ["DBSECRETS_STATE_DIR": state]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            usleep(UInt32.random(in: 2000...30000))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        XCTAssertEqual(try tool.run("write", "database/roles/r", "db_name=last").status, 0)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: state + "/tmp"), [], "no temp file outlives the next write")
    }

    private func mode(_ path: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }

    private func owner(_ path: String) throws -> uid_t {
        uid_t((try FileManager.default.attributesOfItem(atPath: path)[.ownerAccountID] as? NSNumber)?.intValue ?? -1)
    }
}
