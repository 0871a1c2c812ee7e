import DBPlugin
import Engine
import TestSupport
import XCTest
#if canImport(Glibc)
import Glibc
#endif

final class DueWorkTests: XCTestCase {
    func testExpiredLeasesAreRevokedAndOthersLeftAlone() throws {
        let f = EngineFixture()
        try f.configureConnectionAndRole(role: ["default_ttl": "1m", "max_ttl": "1h"])
        let short = try XCTUnwrap(f.read("database/creds/ro"))
        try f.write("database/roles/ro", ["default_ttl": "1h"])
        let long = try XCTUnwrap(f.read("database/creds/ro"))
        f.clock.advance(61)
        let items = try f.engine.runDueWork()
        XCTAssertEqual(items, [DueWorkItem(.leaseRevoked, short.leaseID, "user \(short.data!["username"]!.stringValue!)")])
        XCTAssertEqual(try f.engine.listLeases(prefix: "").map(\.id), [long.leaseID])
        XCTAssertEqual(try f.engine.runDueWork(), [], "nothing twice")
    }

    func testRevocationFailureIsRetriedWithBackoff() throws {
        let f = EngineFixture()
        try f.configureConnectionAndRole(role: ["default_ttl": "1m"])
        let creds = try XCTUnwrap(f.read("database/creds/ro"))
        f.clock.advance(61)
        f.database.failures["deleteUser"] = 1
        XCTAssertEqual(try f.engine.runDueWork().map(\.action), [.leaseRevokeFailed])
        XCTAssertEqual(try f.engine.runDueWork(), [], "not before the backoff")
        f.clock.advance(31)
        XCTAssertEqual(try f.engine.runDueWork().map(\.subject), [creds.leaseID])
        XCTAssertEqual(try f.engine.listLeases(prefix: ""), [])
    }

    func testDueStaticRolesRotateOncePerDueTime() throws {
        let f = EngineFixture()
        try f.configureConnectionAndRole()
        f.database.addUser("app", password: "initial")
        try f.write("database/static-roles/app", ["db_name": "db", "username": "app", "rotation_period": "30s"])
        XCTAssertEqual(try f.engine.runDueWork(), [])
        f.clock.advance(31)
        XCTAssertEqual(try f.engine.runDueWork().map(\.action), [.roleRotated])
        XCTAssertEqual(try f.engine.runDueWork(), [])
        XCTAssertEqual(try f.read("database/static-creds/app")?.data?["password"]?.stringValue, f.database.password(of: "app"))
    }

    func testInterruptedRootRotationIsRolledForwardWhenTheDatabaseChanged() throws {
        let f = EngineFixture()
        try f.configureConnectionAndRole()
        // Simulate a crash after the database changed but before the config was stored.
        let intents = f.stateURL.appendingPathComponent("intents")
        try FileManager.default.createDirectory(at: intents, withIntermediateDirectories: true)
        try Data("""
        {"connection":"db","username":"admin","old_password":"root-secret","new_password":"new-secret-1234","created_at":"2027-01-15T07:00:00Z","format_version":1}
        """.utf8).write(to: intents.appendingPathComponent("root-db.json"))
        f.database.addUser("admin", password: "new-secret-1234")
        let items = try f.engine.runDueWork()
        XCTAssertEqual(items.map(\.action), [.rootRotationCompleted])
        XCTAssertEqual(f.database.password(of: "admin"), "new-secret-1234", "the database is not changed again")
        XCTAssertNotNil(try f.read("database/creds/ro"), "the engine works again: the new password is stored")
        XCTAssertFalse(FileManager.default.fileExists(atPath: intents.appendingPathComponent("root-db.json").path))
    }

    func testRootRotationChangesTheStoredPasswordAndLeavesNoIntent() throws {
        let f = EngineFixture()
        try f.configureConnectionAndRole()
        XCTAssertNil(try f.write("database/rotate-root/db"))
        let newPassword = try XCTUnwrap(f.database.password(of: "admin"))
        XCTAssertNotEqual(newPassword, "root-secret")
        XCTAssertNotNil(try f.read("database/creds/ro"), "the stored config has the new password")
        XCTAssertNil(try f.read("database/config/db")?.data?["connection_details"]?.objectValue?["password"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: f.stateURL.appendingPathComponent("intents").path), [])
    }

    func testRootRotationRefusedByTheDatabaseLeavesNothingToSettle() throws {
        let f = EngineFixture()
        try f.configureConnectionAndRole()
        f.database.failures["updateUser"] = 1
        XCTAssertEqual(engineError { try f.write("database/rotate-root/db") }?.message, "failed to update user: forced error")
        XCTAssertEqual(try f.engine.runDueWork(), [])
        XCTAssertEqual(f.database.password(of: "admin"), "root-secret")
    }

    func testRootRotationWhoseAnswerWasLostIsSettledAtOnce() throws {
        let f = EngineFixture()
        try f.configureConnectionAndRole()
        f.database.failuresAfterChange["updateUser"] = 1
        XCTAssertNotNil(engineError { try f.write("database/rotate-root/db") })
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: f.stateURL.appendingPathComponent("intents").path), [],
                       "the database was asked which password it has")
        XCTAssertNotNil(try f.read("database/creds/ro"), "and the one it has is stored")
        XCTAssertNotEqual(f.database.password(of: "admin"), "root-secret")
    }
}

/// A pass of due work logs in once per connection: revocations and rotations take turns on one
/// verified session, and a failure closes it so the next item starts on a fresh one.
final class DueWorkConnectionReuseTests: XCTestCase {
    private func logins(_ f: EngineFixture) -> Int {
        f.database.calls.filter { $0.hasPrefix("initialize verify=true") }.count
    }

    func testOnePassRevokesEveryDueLeaseAndRotatesDueRolesOnOneLogin() throws {
        let f = EngineFixture()
        try f.configureConnectionAndRole(role: ["default_ttl": "1m", "max_ttl": "1h"])
        for _ in 0..<5 { _ = try f.read("database/creds/ro") }
        f.database.addUser("app", password: "initial")
        try f.write("database/static-roles/app", ["db_name": "db", "username": "app", "rotation_period": "30s"])
        f.clock.advance(61)
        let before = logins(f)
        let items = try f.engine.runDueWork()
        XCTAssertEqual(items.map(\.action), Array(repeating: .leaseRevoked, count: 5) + [.roleRotated])
        XCTAssertEqual(logins(f) - before, 1)
        XCTAssertEqual(try f.engine.listLeases(prefix: ""), [])
    }

    func testAFailedRevocationDoesNotPoisonTheOthers() throws {
        let f = EngineFixture()
        try f.configureConnectionAndRole(role: ["default_ttl": "1m", "max_ttl": "1h"])
        for _ in 0..<3 { _ = try f.read("database/creds/ro") }
        f.clock.advance(61)
        f.database.failures["deleteUser"] = 1
        let before = logins(f)
        let items = try f.engine.runDueWork()
        XCTAssertEqual(items.map(\.action), [.leaseRevokeFailed, .leaseRevoked, .leaseRevoked])
        XCTAssertEqual(logins(f) - before, 2, "the failed session is dropped and a fresh one opened for the next lease")
    }

    func testRevokingByPrefixLogsInOnce() throws {
        let f = EngineFixture()
        try f.configureConnectionAndRole()
        for _ in 0..<4 { _ = try f.read("database/creds/ro") }
        let before = logins(f)
        try f.engine.revokeLeases(prefix: "database/creds/ro", force: false)
        XCTAssertEqual(logins(f) - before, 1)
        XCTAssertEqual(try f.engine.listLeases(prefix: ""), [])
    }
}

final class LeaseIndexTests: XCTestCase {
    private func markers(_ f: EngineFixture) -> [String] {
        let root = f.stateURL.appendingPathComponent("lease-expiry")
        let buckets = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        return buckets.flatMap { (try? FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent($0).path)) ?? [] }
    }

    func testEveryLiveLeaseHasOneMarkerAndRevokedOrIrrevocableOnesNone() throws {
        let f = EngineFixture()
        try f.configureConnectionAndRole()
        let a = try XCTUnwrap(f.read("database/creds/ro"))
        let b = try XCTUnwrap(f.read("database/creds/ro"))
        XCTAssertEqual(markers(f).count, 2)
        _ = try f.engine.renewLease(a.leaseID, increment: 7000)
        XCTAssertEqual(markers(f).count, 2, "a renewal moves the marker")
        try f.engine.revokeLease(b.leaseID)
        XCTAssertEqual(markers(f).count, 1)
        f.database.failures["deleteUser"] = 100
        for _ in 0..<Engine.defaultMaximumRevokeAttempts {
            f.clock.advance(2 * 86400)  // past any backoff
            _ = engineError { try f.engine.revokeLease(a.leaseID) }
        }
        XCTAssertEqual(markers(f), [], "given up: no pass reads it again")
        XCTAssertEqual(try f.engine.listLeases(prefix: "").map(\.irrevocable), [true])
    }
}

/// The due-time index of static roles: a pass reads the roles it names and those whose file it
/// does not describe, and nothing else.
final class StaticRoleIndexTests: XCTestCase {
    /// The markers (not the `.unchanged-STAMP` record of the roles folder).
    private func markers(_ f: EngineFixture) -> [String] {
        indexEntries(f).filter { !$0.hasPrefix(".") }
    }

    private func indexEntries(_ f: EngineFixture) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: f.stateURL.appendingPathComponent("static-role-due").path)) ?? []).sorted()
    }

    private func roleFile(_ f: EngineFixture, _ name: String) -> String {
        f.stateURL.appendingPathComponent("static-roles/\(name).json").path
    }

    /// The role file of `name` as JSON, its next rotation moved into the past.
    private func dueCopy(_ f: EngineFixture, of name: String) throws -> Data {
        let url = URL(fileURLWithPath: roleFile(f, name))
        var object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        object["next_vault_rotation"] = Timestamp.format(f.clock.now.addingTimeInterval(-1))
        return try JSONSerialization.data(withJSONObject: object)
    }

    /// Sets a file's modification time `seconds` into the past.
    private func backdate(_ path: String, by seconds: Int) {
        let old = timespec(tv_sec: time(nil) - seconds, tv_nsec: 0)
        var times = [old, old]
        XCTAssertEqual(utimensat(AT_FDCWD, path, &times, AT_SYMLINK_NOFOLLOW), 0, path)
    }

    /// A static role `app` not due, and one pass over it, which found the index whole.
    private func afterAWholePass() throws -> EngineFixture {
        let f = EngineFixture()
        try f.configureConnectionAndRole()
        try makeRole(f, "app")
        XCTAssertEqual(try f.engine.runDueWork(), [])
        return f
    }

    private func makeRole(_ f: EngineFixture, _ name: String, period: String = "1h") throws {
        f.database.addUser(name, password: "initial")
        try f.write("database/static-roles/\(name)", ["db_name": "db", "username": .string(name), "rotation_period": .string(period)])
    }

    func testEveryStaticRoleHasOneMarkerThatMovesWithItsDueTime() throws {
        let f = EngineFixture()
        try f.configureConnectionAndRole()
        try makeRole(f, "app", period: "30s")
        let first = markers(f)
        XCTAssertEqual(first.count, 1)
        XCTAssertTrue(first[0].hasSuffix(".app"), "\(first)")
        f.clock.advance(31)
        XCTAssertEqual(try f.engine.runDueWork().map(\.action), [.roleRotated])
        XCTAssertEqual(markers(f).count, 1)
        XCTAssertNotEqual(markers(f), first, "the rotation moved it")
        try f.delete("database/static-roles/app")
        XCTAssertEqual(markers(f), [])
    }

    func testAPassDoesNotReadARoleThatIsNotDue() throws {
        let f = EngineFixture()
        try f.configureConnectionAndRole()
        try makeRole(f, "app")
        // Broken behind the index's back, its modification time put back: only a read would notice.
        var before = stat()
        XCTAssertEqual(stat(roleFile(f, "app"), &before), 0)
        try Data("{".utf8).write(to: URL(fileURLWithPath: roleFile(f, "app")))
        var times = [before.st_atim, before.st_mtim]
        XCTAssertEqual(utimensat(AT_FDCWD, roleFile(f, "app"), &times, 0), 0)
        XCTAssertEqual(try f.engine.runDueWork(), [])
        f.clock.advance(3601)
        XCTAssertEqual(try f.engine.runDueWork().map(\.action), [.unreadableFile], "read once due")
    }

    func testStateWrittenBeforeTheIndexIsRotatedAndIndexed() throws {
        let f = EngineFixture()
        try f.configureConnectionAndRole()
        try makeRole(f, "app", period: "30s")
        try makeRole(f, "later")
        for marker in markers(f) {
            try FileManager.default.removeItem(at: f.stateURL.appendingPathComponent("static-role-due/\(marker)"))
        }
        f.clock.advance(31)
        XCTAssertEqual(try f.engine.runDueWork().map(\.subject), ["app"])
        XCTAssertEqual(markers(f).count, 2)
        XCTAssertEqual(try f.engine.runDueWork(), [])
    }

    func testARoleFileEditedByHandIsReadAgain() throws {
        let f = EngineFixture()
        try f.configureConnectionAndRole()
        try makeRole(f, "app")
        let url = URL(fileURLWithPath: roleFile(f, "app"))
        var object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        object["next_vault_rotation"] = Timestamp.format(f.clock.now.addingTimeInterval(-1))
        try JSONSerialization.data(withJSONObject: object).write(to: url)
        XCTAssertEqual(try f.engine.runDueWork().map(\.action), [.roleRotated])
    }

    /// After a pass that found the index whole, the next passes look at the markers alone while
    /// the roles folder keeps its times (dbsecrets' own writes carry the record along). A file
    /// renamed in by anything else changes the folder: the next pass compares every file again.
    func testARoleFileRenamedInBehindTheIndexsBackIsFoundByTheNextPass() throws {
        let f = try afterAWholePass()
        XCTAssertEqual(indexEntries(f).filter { $0.hasPrefix(".unchanged-") }.count, 1, "\(indexEntries(f))")
        try makeRole(f, "b")
        XCTAssertEqual(indexEntries(f).filter { $0.hasPrefix(".unchanged-") }.count, 1, "carried by the write: \(indexEntries(f))")
        let staged = f.stateURL.appendingPathComponent("tmp/restored")
        try dueCopy(f, of: "app").write(to: staged)
        XCTAssertEqual(rename(staged.path, roleFile(f, "other")), 0)
        XCTAssertEqual(try f.engine.runDueWork().map(\.subject), ["other"])
        XCTAssertEqual(markers(f).count, 3)
    }

    /// What the folder's times cannot show: a role file rewritten in place. It is found once the
    /// last full comparison is `fullCheckInterval` old (here: the record's time put back).
    func testARoleFileEditedInPlaceIsFoundByTheFullCheckEveryTenMinutes() throws {
        let f = try afterAWholePass()
        let due = try dueCopy(f, of: "app")
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: roleFile(f, "app")))
        try handle.truncate(atOffset: 0)
        try handle.write(contentsOf: due)
        try handle.close()
        XCTAssertEqual(try f.engine.runDueWork(), [], "not seen while the folder is unchanged")
        let record = try XCTUnwrap(indexEntries(f).first { $0.hasPrefix(".unchanged-") })
        backdate(f.stateURL.appendingPathComponent("static-role-due/\(record)").path, by: 601)
        XCTAssertEqual(try f.engine.runDueWork().map(\.action), [.roleRotated])
    }

    /// The sweep for temp files of versions before tmp/ skips static-roles/ while the record
    /// holds; a leftover put there changes the folder, so it is still found and removed.
    func testALeftoverOfAnOlderVersionIsRemovedAfterTheRecordWasMade() throws {
        let f = try afterAWholePass()
        let leftover = f.stateURL.appendingPathComponent("static-roles/.app.json.tmp-1-2").path
        XCTAssertTrue(FileManager.default.createFile(atPath: leftover, contents: Data("{}".utf8)))
        backdate(leftover, by: 120)
        XCTAssertEqual(try f.engine.runDueWork(), [])
        XCTAssertFalse(FileManager.default.fileExists(atPath: leftover))
    }

    func testAMarkerWithoutItsRoleIsRemoved() throws {
        let f = EngineFixture()
        try f.configureConnectionAndRole()
        try makeRole(f, "app")
        let stray = f.stateURL.appendingPathComponent("static-role-due/999999999999-1.2.gone").path
        XCTAssertTrue(FileManager.default.createFile(atPath: stray, contents: nil))
        XCTAssertEqual(try f.engine.runDueWork(), [])
        XCTAssertFalse(FileManager.default.fileExists(atPath: stray))
        XCTAssertEqual(markers(f).count, 1)
    }
}

/// Regression: one lease or intent file that did not decode made `tidy`, `agent`, `lease list`
/// and `lease revoke -prefix` fail, so nothing else was revoked or rotated, and the bad file could
/// not even be forced away.
final class UnreadableStateFileTests: XCTestCase {
    func testTidyDoesEverythingElseAndReportsEachBadFile() throws {
        let f = EngineFixture()
        try f.configureConnectionAndRole(role: ["default_ttl": "1m", "max_ttl": "1h"])
        let good = try XCTUnwrap(f.read("database/creds/ro"))
        f.database.addUser("app", password: "initial")
        try f.write("database/static-roles/app", ["db_name": "db", "username": "app", "rotation_period": "30s"])
        let state = f.stateURL
        // A lease from a newer dbsecrets, due in the same minute as the good one.
        let goodFile = try XCTUnwrap(FileManager.default.contentsOfDirectory(atPath: state.appendingPathComponent("leases").path).first)
        let bucket = try XCTUnwrap(FileManager.default.contentsOfDirectory(atPath: state.appendingPathComponent("lease-expiry").path).first)
        try Data(#"{"format_version": 99}"#.utf8).write(to: state.appendingPathComponent("leases/ro.Newer.json"))
        FileManager.default.createFile(atPath: state.appendingPathComponent("lease-expiry/\(bucket)/ro.Newer").path, contents: nil)
        try Data("{".utf8).write(to: state.appendingPathComponent("intents/static-gone.json"))
        try Data("{".utf8).write(to: state.appendingPathComponent("static-roles/broken.json"))
        f.clock.advance(61)

        let items = try f.engine.runDueWork()
        XCTAssertTrue(items.contains(DueWorkItem(.leaseRevoked, good.leaseID, "user \(good.data!["username"]!.stringValue!)")), "\(items)")
        XCTAssertTrue(items.contains { $0.action == .roleRotated && $0.subject == "app" }, "\(items)")
        let problems = items.filter(\.action.isFailure)
        XCTAssertEqual(problems.count, 3, "each bad file once: \(problems)")
        for name in ["leases/ro.Newer.json", "intents/static-gone.json", "static-roles/broken.json"] {
            XCTAssertTrue(problems.contains { $0.subject.hasSuffix(name) && !$0.detail.isEmpty }, "\(name) named with why: \(problems)")
        }
        XCTAssertNotEqual(goodFile, "ro.Newer.json")
    }

    func testAnUnreadableLeaseIsListedAndCanBeForcedAway() throws {
        let f = EngineFixture()
        try f.configureConnectionAndRole()
        let good = try XCTUnwrap(f.read("database/creds/ro"))
        try Data("{".utf8).write(to: f.stateURL.appendingPathComponent("leases/ro.Broken.json"))
        let listed = try f.engine.listLeases(prefix: "")
        XCTAssertEqual(Set(listed.map(\.id)), [good.leaseID, "database/creds/ro/Broken"])
        XCTAssertEqual(listed.first { $0.unreadable }?.id, "database/creds/ro/Broken")
        XCTAssertNotNil(engineError { try f.engine.revokeLeases(prefix: "database/creds/ro/", force: false) },
                        "its user is unknown: a plain revoke reports it")
        XCTAssertEqual(try f.engine.listLeases(prefix: "").map(\.id), ["database/creds/ro/Broken"], "and revokes the rest")
        try f.engine.revokeLeases(prefix: "database/creds/ro/", force: true)
        XCTAssertEqual(try f.engine.listLeases(prefix: ""), [])
    }
}

/// The recovery rule at the next command, without a crash harness: intents as a dead process
/// leaves them, and what the next command makes of them.
final class SettlingAtTheNextCommandTests: XCTestCase {
    private func writeIntent(_ f: EngineFixture, _ name: String, _ json: String) throws {
        let intents = f.stateURL.appendingPathComponent("intents")
        try FileManager.default.createDirectory(at: intents, withIntermediateDirectories: true)
        try Data(json.utf8).write(to: intents.appendingPathComponent(name))
    }

    /// Regression: after a killed rotate-role, static-creds handed out the old password, which
    /// the database refused, until a tidy ran 60 s later.
    func testStaticCredsSettlesAnInterruptedRotationBeforeAnswering() throws {
        let f = EngineFixture()
        try f.configureConnectionAndRole()
        f.database.addUser("app", password: "initial")
        try f.write("database/static-roles/app", ["db_name": "db", "username": "app", "rotation_period": "1h"])
        // Died after the database took the new password, before the role stored it.
        try writeIntent(f, "static-app.json", """
        {"role":"app","username":"app","new_password":"half-rotated-1","created_at":"2027-01-15T07:59:00Z","format_version":1}
        """)
        f.database.addUser("app", password: "half-rotated-1")
        XCTAssertEqual(try f.read("database/static-creds/app")?.data?["password"]?.stringValue, "half-rotated-1")
        XCTAssertEqual(try f.engine.runDueWork(), [], "nothing left for tidy")
    }

    /// Regression: a static-role creation killed after the database changed lost the only copy of
    /// the new password: no role was stored, and tidy deleted the intent.
    func testAnInterruptedStaticRoleCreationKeepsItsPassword() throws {
        let f = EngineFixture()
        try f.configureConnectionAndRole()
        f.database.addUser("app", password: "half-created-1")
        try writeIntent(f, "static-app.json", """
        {"role":"app","username":"app","new_password":"half-created-1","created_at":"2027-01-15T07:59:00Z",
         "creation":{"db_name":"db","username":"app","rotation_statements":[],"rotation_period":3600,"rotation_schedule":"",
                     "rotation_window":0,"credential_type":"password","credential_config":{},"password":"","failed_attempts":0},
         "format_version":1}
        """)
        XCTAssertEqual(try f.read("database/static-creds/app")?.data?["password"]?.stringValue, "half-created-1")
        XCTAssertEqual(try f.list("database/static-roles"), ["app"], "the role is stored")
    }

    func testAnInterruptedCreationWhoseDatabaseCannotBeReachedStoresTheRoleUnconfirmed() throws {
        let f = EngineFixture()
        try f.configureConnectionAndRole()
        f.database.addUser("app", password: "half-created-2")
        try writeIntent(f, "static-app.json", """
        {"role":"app","username":"app","new_password":"half-created-2","created_at":"2027-01-15T07:59:00Z",
         "creation":{"db_name":"db","username":"app","rotation_statements":[],"rotation_period":3600,"rotation_schedule":"",
                     "rotation_window":0,"credential_type":"password","credential_config":{},"password":"","failed_attempts":0},
         "format_version":1}
        """)
        f.database.failures["initialize"] = 10
        XCTAssertNotNil(engineError { try f.read("database/static-creds/app") }, "no password that is not confirmed")
        XCTAssertEqual(try f.list("database/static-roles"), ["app"], "stored with the only password that may work")
        f.database.failures = [:]
        XCTAssertEqual(try f.read("database/static-creds/app")?.data?["password"]?.stringValue, "half-created-2")
        XCTAssertEqual(try f.engine.runDueWork(), [])
    }

    /// Regression: after a killed rotate-root and an operator's new password, tidy "rolled back"
    /// to the intent's old password, overwriting the operator's.
    func testRootRecoveryNeverOverwritesAPasswordWrittenSince() throws {
        let f = EngineFixture()
        try f.configureConnectionAndRole()
        try writeIntent(f, "root-db.json", """
        {"connection":"db","username":"admin","old_password":"root-secret","new_password":"never-reached-db","created_at":"2027-01-15T07:00:00Z","format_version":1}
        """)
        f.database.addUser("admin", password: "operator-chosen")
        try f.write("database/config/db", ["password": "operator-chosen"])
        XCTAssertEqual(try f.engine.runDueWork(), [], "the write settled it, keeping the password it wrote")
        XCTAssertNotNil(try f.read("database/creds/ro"), "the operator's password is the one stored")
        XCTAssertEqual(f.database.password(of: "admin"), "operator-chosen")
    }

    /// Regression: creds killed between creating the user and storing its lease left a live
    /// user; tidy only said "possibly orphaned", without the username, and dropped nothing.
    func testAnInterruptedCredsIsDroppedByTheNextCredsOfTheRole() throws {
        let f = EngineFixture()
        try f.configureConnectionAndRole()
        f.database.addUser("v-root-ro-orphan", password: "x")
        try writeIntent(f, "creds-ro.Orphan1.json", """
        {"lease_id":"database/creds/ro/Orphan1","role":"ro","db_name":"db","username":"v-root-ro-orphan","created_at":"2027-01-15T07:00:00Z","format_version":1}
        """)
        XCTAssertNotNil(try f.read("database/creds/ro"))
        XCTAssertNil(f.database.users["v-root-ro-orphan"], "dropped")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: f.stateURL.appendingPathComponent("intents").path), [])
    }

    func testACredsWhoseLeaseCannotBeStoredDropsItsUser() throws {
        let f = EngineFixture()
        try f.configureConnectionAndRole()
        f.database.failuresAfterChange["newUser"] = 1
        XCTAssertNotNil(engineError { try f.read("database/creds/ro") })
        XCTAssertEqual(f.database.users.keys.filter { $0.hasPrefix("v-") }, [], "no user without a lease")
        XCTAssertEqual(try f.engine.listLeases(prefix: ""), [])
    }
}
