import DBPlugin
import Engine
import TestSupport
import XCTest

final class CredsAndLeaseTests: XCTestCase {
    func testCredsCreateAUserAndALease() throws {
        let f = EngineFixture()
        try f.configureConnectionAndRole()
        let response = try XCTUnwrap(f.read("database/creds/ro"))
        let username = try XCTUnwrap(response.data?["username"]?.stringValue)
        let password = try XCTUnwrap(response.data?["password"]?.stringValue)
        XCTAssertEqual(f.database.password(of: username), password)
        XCTAssertNotNil(password.range(of: "^[A-Za-z0-9-]{20}$", options: .regularExpression))
        XCTAssertEqual(response.leaseDuration, 3600)
        XCTAssertTrue(response.renewable)
        XCTAssertNotNil(response.leaseID.range(of: "^database/creds/ro/[A-Za-z0-9]{24}$", options: .regularExpression), response.leaseID)
        XCTAssertEqual(f.database.users[username]?.expiration, f.clock.now.addingTimeInterval(3605), "expiry is ttl + 5 s")
        XCTAssertTrue(f.database.calls.contains("newUser ro"))
    }

    func testTTLDefaultsAndCap() throws {
        let f = EngineFixture()
        try f.configureConnectionAndRole(role: ["default_ttl": "0", "max_ttl": "0"])
        XCTAssertEqual(try f.read("database/creds/ro")?.leaseDuration, 2_764_800, "the system default, 768h")
        try f.write("database/roles/ro", ["default_ttl": "2h", "max_ttl": "1h"])
        let capped = try XCTUnwrap(f.read("database/creds/ro"))
        XCTAssertEqual(capped.leaseDuration, 3600)
        XCTAssertEqual(capped.warnings, ["TTL of \"2h\" exceeded the effective max_ttl of \"1h\"; TTL value is capped accordingly"])
    }

    func testCredsErrorsInVaultsOrder() throws {
        let f = EngineFixture()
        XCTAssertEqual(engineError { try f.read("database/creds/nope") }?.message, "unknown role: nope")
        try f.write("database/roles/orphan", ["db_name": "missing"])
        XCTAssertEqual(engineError { try f.read("database/creds/orphan") }?.message, "failed to find entry for connection with name: \"missing\"")
        try f.write("database/config/db", ["plugin_name": "fake-database-plugin", "connection_url": "u",
                                            "username": "admin", "password": "root-secret"])
        try f.write("database/roles/denied", ["db_name": "db"])
        XCTAssertEqual(engineError { try f.read("database/creds/denied") }?.message, "\"denied\" is not an allowed role")
        try f.write("database/config/db", ["allowed_roles": "allow, allowed"])
        try f.write("database/roles/allowed", ["db_name": "db"])
        XCTAssertNotNil(try f.read("database/creds/allowed"))
        XCTAssertEqual(engineError { try f.read("database/creds/denied") }?.message, "\"denied\" is not an allowed role")
        try f.write("database/roles/key", ["db_name": "db", "credential_type": "rsa_private_key"])
        try f.write("database/config/db", ["allowed_roles": "*"])
        XCTAssertEqual(engineError { try f.read("database/creds/key") }?.message, "unsupported credential_type: \"rsa_private_key\"")
        try f.write("database/roles/pp", ["db_name": "db", "credential_config": ["password_policy": "nope"]])
        XCTAssertEqual(engineError { try f.read("database/creds/pp") }?.message, "failed to generate password: no password policy found")
    }

    func testFailedCreationLeavesNoLease() throws {
        let f = EngineFixture()
        try f.configureConnectionAndRole()
        f.database.failures["newUser"] = 1
        XCTAssertEqual(engineError { try f.read("database/creds/ro") }?.message, "forced error")
        XCTAssertEqual(try f.engine.listLeases(prefix: ""), [])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: f.stateURL.appendingPathComponent("intents").path), [])
    }

    func testRenewMovesTheExpiryAndCapsAtMaxTTL() throws {
        let f = EngineFixture()
        try f.configureConnectionAndRole()
        let creds = try XCTUnwrap(f.read("database/creds/ro"))
        let username = try XCTUnwrap(creds.data?["username"]?.stringValue)
        f.clock.advance(1800)
        let renewed = try XCTUnwrap(f.engine.renewLease(creds.leaseID, increment: 0))
        XCTAssertEqual(renewed.leaseDuration, 3600)
        XCTAssertEqual(f.database.users[username]?.expiration, f.clock.now.addingTimeInterval(3605))
        f.clock.advance(3000)
        let capped = try XCTUnwrap(f.engine.renewLease(creds.leaseID, increment: 0))
        XCTAssertEqual(capped.leaseDuration, 2400, "issue + 2h max − now")
        XCTAssertEqual(capped.warnings.count, 1)
        let lookup = try XCTUnwrap(f.engine.lookupLease(creds.leaseID)?.data)
        XCTAssertEqual(lookup["ttl"], 2400)
        XCTAssertEqual(lookup["renewable"], true)
        f.clock.advance(2401)
        XCTAssertEqual(engineError { try f.engine.renewLease(creds.leaseID, increment: 0) }?.message, "lease expired")
        XCTAssertEqual(engineError { try f.engine.renewLease("database/creds/ro/nope", increment: 0) }?.message, "lease not found")
    }

    func testRevokeDropsTheUserThenTheLeaseAndFallsBackToEmbeddedData() throws {
        let f = EngineFixture()
        try f.configureConnectionAndRole(role: ["revocation_statements": "DROP"])
        let creds = try XCTUnwrap(f.read("database/creds/ro"))
        let username = try XCTUnwrap(creds.data?["username"]?.stringValue)
        try f.delete("database/roles/ro")
        try f.engine.revokeLease(creds.leaseID)
        XCTAssertNil(f.database.users[username])
        XCTAssertEqual(engineError { try f.engine.lookupLease(creds.leaseID) }?.message, "invalid lease", "gone")
    }

    /// Regression: manual revokes ignored the backoff, so repeating one against a database that is
    /// down ran the attempt counter (and the retry time, into a five-digit year) away.
    func testRevokingByHandWithinTheBackoffDoesNotCountAsAnAttempt() throws {
        let f = EngineFixture()
        try f.configureConnectionAndRole()
        let creds = try XCTUnwrap(f.read("database/creds/ro"))
        f.database.failures["deleteUser"] = 100
        for _ in 0..<50 {
            XCTAssertEqual(engineError { try f.engine.revokeLease(creds.leaseID) }?.message, "forced error")
        }
        let lease = try XCTUnwrap(f.engine.listLeases(prefix: "").first)
        XCTAssertEqual(lease.revokeAttempts, 1, "the error is reported each time; the schedule stands")
        XCTAssertFalse(lease.irrevocable)
        for _ in 0..<40 {
            f.clock.advance(3 * 86400)
            _ = engineError { try f.engine.revokeLease(creds.leaseID) }
        }
        XCTAssertNotNil(try f.engine.lookupLease(creds.leaseID), "still readable: every time stays in range")
    }

    func testFailedRevocationKeepsTheLeaseWithBackoffThenGivesUp() throws {
        let f = EngineFixture()
        try f.configureConnectionAndRole()
        let creds = try XCTUnwrap(f.read("database/creds/ro"))
        f.database.failures["deleteUser"] = 100
        XCTAssertEqual(engineError { try f.engine.revokeLease(creds.leaseID) }?.message, "forced error")
        var lease = try XCTUnwrap(f.engine.listLeases(prefix: "").first)
        XCTAssertEqual(lease.revokeAttempts, 1)
        XCTAssertEqual(lease.lastError, "forced error")
        for _ in 2...Engine.defaultMaximumRevokeAttempts {
            f.clock.advance(2 * 86400)  // past any backoff
            _ = engineError { try f.engine.revokeLease(creds.leaseID) }
        }
        lease = try XCTUnwrap(f.engine.listLeases(prefix: "").first)
        XCTAssertTrue(lease.irrevocable, "kept and shown, never silently forgotten")
        XCTAssertEqual(engineError { try f.engine.renewLease(creds.leaseID, increment: 0) }?.message,
                       "lease is expired and has failed previous revocation attempts")
        try f.engine.revokeLeases(prefix: "database/creds/ro/", force: true)
        XCTAssertEqual(try f.engine.listLeases(prefix: ""), [])
    }

    func testRevokeByPrefix() throws {
        let f = EngineFixture()
        try f.configureConnectionAndRole()
        for _ in 0..<3 { _ = try f.read("database/creds/ro") }
        XCTAssertEqual(try f.engine.listLeases(prefix: "database/creds/ro/").count, 3)
        try f.engine.revokeLeases(prefix: "database/creds/ro", force: false)
        XCTAssertEqual(try f.engine.listLeases(prefix: ""), [])
        XCTAssertEqual(f.database.users.keys.sorted(), ["admin"])
    }
}
