import DBPlugin
import Engine
import TestSupport
import XCTest

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

    func testInterruptedRootRotationIsRolledBackWhenTheDatabaseChanged() throws {
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
        XCTAssertEqual(items.map(\.action), [.rootRotationRolledBack])
        XCTAssertEqual(f.database.password(of: "admin"), "root-secret", "the old password is set back, matching storage")
        XCTAssertNotNil(try f.read("database/creds/ro"), "the engine works again")
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

    func testFailedRootRotationKeepsTheIntentForTidy() throws {
        let f = EngineFixture()
        try f.configureConnectionAndRole()
        f.database.failures["updateUser"] = 1
        XCTAssertEqual(engineError { try f.write("database/rotate-root/db") }?.message, "failed to update user: forced error")
        f.clock.advance(61)
        XCTAssertEqual(try f.engine.runDueWork().map(\.action), [.rootRotationRolledBack], "the stored password still works")
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
        for _ in 0..<Engine.defaultMaximumRevokeAttempts { _ = engineError { try f.engine.revokeLease(a.leaseID) } }
        XCTAssertEqual(markers(f), [], "given up: no pass reads it again")
        XCTAssertEqual(try f.engine.listLeases(prefix: "").map(\.irrevocable), [true])
    }
}
