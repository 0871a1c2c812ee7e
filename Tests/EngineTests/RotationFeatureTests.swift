import DBPlugin
import Engine
import TestSupport
import XCTest

/// What dbsecrets adds to Vault's community edition, on the fake database with a hand-moved clock:
/// adopting an account without rotating it, manual-only and self-managed static roles, rotation
/// with two valid passwords, and automated rotation of the root credential. The real-server
/// proofs are in the CLI tests (RotationFeatureEndToEndTests and the crash tests).
final class RotationFeatureTests: XCTestCase {
    private func fixture() throws -> EngineFixture {
        let f = EngineFixture()
        try f.configureConnectionAndRole()
        f.database.addUser("app", password: "initial-password")
        return f
    }

    private func staticCreds(_ f: EngineFixture, _ role: String = "app") throws -> [String: JSONValue] {
        try XCTUnwrap(f.read("database/static-creds/\(role)")?.data)
    }

    private func updates(_ f: EngineFixture) -> [String] { f.database.calls.filter { $0.hasPrefix("updateUser") } }

    // MARK: Importing an account

    func testAnImportedAccountKeepsItsPasswordUntilItsFirstDueRotation() throws {
        let f = try fixture()
        XCTAssertNil(try f.write("database/static-roles/app", ["db_name": "db", "username": "app", "rotation_period": "1h",
                                                                "skip_import_rotation": true, "password": "initial-password"]))
        XCTAssertEqual(updates(f), [], "nothing changed in the database")
        XCTAssertTrue(f.database.calls.contains("checkPassword app"), "the password was checked by logging in")
        let creds = try staticCreds(f)
        XCTAssertEqual(creds["password"], "initial-password")
        XCTAssertEqual(creds["ttl"], 3600)
        XCTAssertNil(creds["last_vault_rotation"], "never rotated by the engine")
        XCTAssertEqual(try f.read("database/static-roles/app")?.data?["skip_import_rotation"], true)
        f.clock.advance(3599)
        XCTAssertEqual(try f.engine.runDueWork(), [])
        XCTAssertEqual(f.database.password(of: "app"), "initial-password")
        f.clock.advance(2)
        XCTAssertEqual(try f.engine.runDueWork().map(\.action), [.roleRotated])
        XCTAssertNotEqual(f.database.password(of: "app"), "initial-password")
        XCTAssertEqual(try staticCreds(f)["password"]?.stringValue, f.database.password(of: "app"))
    }

    func testAnImportIsRefusedWithAPasswordThatDoesNotLogIn() throws {
        let f = try fixture()
        XCTAssertEqual(engineError { try f.write("database/static-roles/app", ["db_name": "db", "username": "app", "rotation_period": "1h",
                                                                               "skip_import_rotation": true, "password": "wrong"]) },
                       EngineError.invalid("the password given does not log in as app"))
        XCTAssertEqual(try f.list("database/static-roles"), [])
        XCTAssertEqual(engineError { try f.write("database/static-roles/app", ["db_name": "db", "username": "app", "rotation_period": "1h",
                                                                               "skip_import_rotation": true]) }?.message,
                       "skip_import_rotation needs the account's current password: give it as password=- (stdin) or password=@FILE")
        XCTAssertEqual(engineError { try f.write("database/static-roles/app", ["db_name": "db", "username": "app", "rotation_period": "1h",
                                                                               "password": "initial-password"]) }?.kind,
                       .invalidRequest, "a password alone would be silently replaced by the first rotation")
        XCTAssertEqual(f.database.password(of: "app"), "initial-password")
    }

    func testTheConnectionsImportDefaultAppliesUnlessTheRoleSaysOtherwise() throws {
        let f = try fixture()
        try f.write("database/config/db", ["skip_static_role_import_rotation": true])
        XCTAssertEqual(try f.read("database/config/db")?.data?["skip_static_role_import_rotation"], true)
        try f.write("database/static-roles/app", ["db_name": "db", "username": "app", "rotation_period": "1h", "password": "initial-password"])
        XCTAssertEqual(f.database.password(of: "app"), "initial-password")
        f.database.addUser("other", password: "other-password")
        try f.write("database/static-roles/other", ["db_name": "db", "username": "other", "rotation_period": "1h",
                                                    "skip_import_rotation": false])
        XCTAssertNotEqual(f.database.password(of: "other"), "other-password", "the role's own false rotates at once")
        XCTAssertEqual(engineError { try f.write("database/static-roles/app", ["skip_import_rotation": true]) }?.kind, .invalidRequest,
                       "only when the role is created")
    }

    func testAPasswordWrittenOnAnUpdateIsStoredWithoutRotating() throws {
        let f = try fixture()
        try f.write("database/static-roles/app", ["db_name": "db", "username": "app", "rotation_period": "1h"])
        f.database.addUser("app", password: "changed-behind-our-back")
        try f.write("database/static-roles/app", ["password": "changed-behind-our-back"])
        XCTAssertEqual(try staticCreds(f)["password"], "changed-behind-our-back")
        XCTAssertEqual(f.database.password(of: "app"), "changed-behind-our-back")
    }

    // MARK: Manual-only roles

    func testAManualOnlyRoleRotatesOnlyOnRequest() throws {
        let f = try fixture()
        try f.write("database/static-roles/app", ["db_name": "db", "username": "app", "disable_automated_rotation": true])
        let first = try XCTUnwrap(f.database.password(of: "app"))
        XCTAssertNotEqual(first, "initial-password", "created as any role: rotated at once")
        let creds = try staticCreds(f)
        XCTAssertNil(creds["ttl"], "no countdown")
        XCTAssertEqual(try f.read("database/static-roles/app")?.data?["disable_automated_rotation"], true)
        f.clock.advance(400 * 86400)
        XCTAssertEqual(try f.engine.runDueWork(), [])
        XCTAssertEqual(try staticCreds(f)["password"]?.stringValue, first)
        XCTAssertNil(try f.write("database/rotate-role/app"))
        XCTAssertNotEqual(f.database.password(of: "app"), first)
        XCTAssertEqual(try staticCreds(f)["password"]?.stringValue, f.database.password(of: "app"))
    }

    func testAFailedManualRotationIsNotRetriedInTheBackground() throws {
        let f = try fixture()
        try f.write("database/static-roles/app", ["db_name": "db", "username": "app", "disable_automated_rotation": true])
        f.database.failures["updateUser"] = 1
        XCTAssertNotNil(engineError { try f.write("database/rotate-role/app") })
        f.clock.advance(60)
        XCTAssertEqual(try f.engine.runDueWork(), [])
    }

    func testAutomatedRotationComesBackOnlyWithAPeriodOrASchedule() throws {
        let f = try fixture()
        try f.write("database/static-roles/app", ["db_name": "db", "username": "app", "disable_automated_rotation": true])
        XCTAssertEqual(engineError { try f.write("database/static-roles/app", ["disable_automated_rotation": false]) }?.message,
                       "one of rotation_schedule or rotation_period must be provided to rotate a static account automatically")
        try f.write("database/static-roles/app", ["disable_automated_rotation": false, "rotation_period": "1m"])
        f.clock.advance(61)
        XCTAssertEqual(try f.engine.runDueWork().map(\.action), [.roleRotated])
    }

    // MARK: Self-managed roles

    func testASelfManagedRoleRotatesWithoutTheRootCredential() throws {
        let f = try fixture()
        try f.write("database/static-roles/app", ["db_name": "db", "username": "app", "rotation_period": "1h",
                                                  "self_managed_password": "initial-password"])
        XCTAssertEqual(updates(f), ["updateUser app self"])
        let first = try XCTUnwrap(f.database.password(of: "app"))
        XCTAssertNotEqual(first, "initial-password")
        // The root user's password no longer logs in: a self-managed rotation does not need it.
        f.database.addUser("admin", password: "someone-else-changed-it")
        XCTAssertNil(try f.write("database/rotate-role/app"))
        XCTAssertNotEqual(f.database.password(of: "app"), first)
        XCTAssertEqual(try staticCreds(f)["password"]?.stringValue, f.database.password(of: "app"))
        XCTAssertEqual(try f.read("database/static-roles/app")?.data?["self_managed"], true)
    }

    func testASelfManagedRoleIsRefusedWhereThePluginCannotDoIt() throws {
        let f = try fixture()
        f.database.features = []
        XCTAssertEqual(engineError { try f.write("database/static-roles/app", ["db_name": "db", "username": "app", "rotation_period": "1h",
                                                                               "self_managed_password": "initial-password"]) }?.kind,
                       .invalidRequest)
        XCTAssertEqual(engineError { try f.write("database/static-roles/app", ["db_name": "db", "username": "app", "rotation_period": "1h",
                                                                               "self_managed_password": "wrong"]) }?.kind,
                       .invalidRequest)
        XCTAssertEqual(f.database.password(of: "app"), "initial-password")
    }

    func testASelfManagedRoleWhosePasswordIsLostWaitsForTheOperator() throws {
        let f = try fixture()
        try f.write("database/static-roles/app", ["db_name": "db", "username": "app", "rotation_period": "1h",
                                                  "self_managed_password": "initial-password"])
        // The change reached the database, its answer was lost and could not be learnt at once;
        // then someone changed the password again by hand.
        f.database.failuresAfterChange["updateUser"] = 1
        f.database.failures["checkPassword"] = 1
        XCTAssertNotNil(engineError { try f.write("database/rotate-role/app") })
        f.database.addUser("app", password: "set-by-hand")
        let items = try f.engine.runDueWork()
        XCTAssertEqual(items.map(\.action), [.intentUnsettled])
        XCTAssertTrue(items[0].detail.contains("self_managed_password"), items[0].detail)
        XCTAssertNotNil(engineError { try f.read("database/static-creds/app") }, "never a password the database refuses")
        try f.write("database/static-roles/app", ["self_managed_password": "set-by-hand"])
        XCTAssertEqual(try staticCreds(f)["password"], "set-by-hand")
        XCTAssertEqual(try f.engine.runDueWork(), [])
        XCTAssertNil(try f.write("database/rotate-role/app"))
        XCTAssertEqual(try staticCreds(f)["password"]?.stringValue, f.database.password(of: "app"))
    }

    // MARK: Two passwords

    func testARetainedPasswordStaysValidUntilTheNextRotation() throws {
        let f = try fixture()
        try f.write("database/static-roles/app", ["db_name": "db", "username": "app", "rotation_period": "1h",
                                                  "retain_previous_password": true])
        XCTAssertNil(f.database.users["app"]?.previousPassword, "the account's first password is not known: it is replaced")
        XCTAssertNil(try f.write("database/rotate-role/app"))
        let first = try XCTUnwrap(f.database.password(of: "app"))
        XCTAssertNotNil(f.database.users["app"]?.previousPassword)
        XCTAssertNil(try f.write("database/rotate-role/app"))
        let second = try XCTUnwrap(f.database.password(of: "app"))
        XCTAssertEqual(f.database.users["app"]?.previousPassword, first, "the one before is kept, the older one dropped")
        XCTAssertEqual(try staticCreds(f)["password"]?.stringValue, second)
        XCTAssertEqual(try f.read("database/static-roles/app")?.data?["previous_password_valid_until"], "next rotation")
    }

    func testAnAdoptedAccountKeepsItsOldPasswordThroughItsFirstRotationUntilTheGraceEnds() throws {
        let f = try fixture()
        try f.write("database/static-roles/app", ["db_name": "db", "username": "app", "rotation_period": "1h",
                                                  "skip_import_rotation": true, "password": "initial-password",
                                                  "retain_previous_password": true, "previous_password_grace": "10m"])
        f.clock.advance(3601)
        XCTAssertEqual(try f.engine.runDueWork().map(\.action), [.roleRotated])
        XCTAssertEqual(f.database.users["app"]?.previousPassword, "initial-password", "applications still on it keep working")
        f.clock.advance(599)
        XCTAssertEqual(try f.engine.runDueWork(), [])
        f.clock.advance(2)
        XCTAssertEqual(try f.engine.runDueWork().map(\.action), [.previousPasswordDiscarded])
        XCTAssertNil(f.database.users["app"]?.previousPassword)
        XCTAssertNil(try f.read("database/static-roles/app")?.data?["previous_password_valid_until"])
        XCTAssertEqual(try f.engine.runDueWork(), [], "once")
        f.clock.advance(3000)
        XCTAssertEqual(try f.engine.runDueWork().map(\.action), [.roleRotated], "the rotation stays on its own plan")
    }

    func testTwoPasswordsAreRefusedWhereTheDatabaseKeepsOne() throws {
        let f = try fixture()
        f.database.features = [.selfManagedPassword]
        XCTAssertEqual(engineError { try f.write("database/static-roles/app", ["db_name": "db", "username": "app", "rotation_period": "1h",
                                                                               "retain_previous_password": true]) }?.message,
                       "retain_previous_password needs a database that keeps two passwords per account (Redis, ElastiCache, MySQL 8.0.14 or later); the database of connection db (fake-database-plugin) keeps one")
        XCTAssertEqual(engineError { try f.write("database/static-roles/app", ["db_name": "db", "username": "app", "rotation_period": "1h",
                                                                               "previous_password_grace": "1h"]) }?.message,
                       "previous_password_grace applies only with retain_previous_password=true")
        XCTAssertEqual(f.database.password(of: "app"), "initial-password")
    }

    func testAnInterruptedTwoPasswordRotationIsSettledWithBothPasswords() throws {
        let f = try fixture()
        try f.write("database/static-roles/app", ["db_name": "db", "username": "app", "rotation_period": "1h",
                                                  "retain_previous_password": true])
        let first = try XCTUnwrap(f.database.password(of: "app"))
        f.database.failuresAfterChange["updateUser"] = 1
        XCTAssertNotNil(engineError { try f.write("database/rotate-role/app") })
        let second = try XCTUnwrap(f.database.password(of: "app"))
        XCTAssertNotEqual(second, first)
        // Both log in: the newer one is the one stored, the older kept as the retained one.
        XCTAssertEqual(try staticCreds(f)["password"]?.stringValue, second)
        XCTAssertNil(try f.write("database/rotate-role/app"))
        XCTAssertEqual(f.database.users["app"]?.previousPassword, second, "the first was the retained one and is gone now")
    }

    // MARK: Automated root rotation

    func testTheRootCredentialRotatesOnItsPeriodThroughTheRootRotationPath() throws {
        let f = try fixture()
        try f.write("database/config/db", ["rotation_period": "1h"])
        let config = try XCTUnwrap(f.read("database/config/db")?.data)
        XCTAssertEqual(config["rotation_period"], 3600)
        XCTAssertEqual(config["next_root_rotation"]?.stringValue, Timestamp.format(f.clock.now.addingTimeInterval(3600)))
        f.clock.advance(3599)
        XCTAssertEqual(try f.engine.runDueWork(), [])
        f.clock.advance(2)
        let items = try f.engine.runDueWork()
        XCTAssertEqual(items.map(\.action), [.rootRotated])
        XCTAssertEqual(items.first?.rotated, RotatedCredential(kind: .root, path: "database/config/db"))
        XCTAssertNotEqual(f.database.password(of: "admin"), "root-secret")
        XCTAssertNotNil(try f.read("database/creds/ro"), "the engine logs in with the new password")
        XCTAssertEqual(try f.read("database/config/db")?.data?["next_root_rotation"]?.stringValue,
                       Timestamp.format(f.clock.now.addingTimeInterval(3600)))
        XCTAssertEqual(try f.engine.runDueWork(), [])
    }

    func testAutomatedRootRotationCanBeDisabledAndRefusesVaultsContradictions() throws {
        let f = try fixture()
        try f.write("database/config/db", ["rotation_period": "1h", "disable_automated_rotation": true])
        XCTAssertNil(try f.read("database/config/db")?.data?["next_root_rotation"])
        f.clock.advance(7200)
        XCTAssertEqual(try f.engine.runDueWork(), [])
        XCTAssertEqual(f.database.password(of: "admin"), "root-secret")
        XCTAssertEqual(engineError { try f.write("database/config/db", ["rotation_period": "1h", "rotation_window": "2h"]) }?.message,
                       "rotation_window does not apply to period")
        XCTAssertEqual(engineError { try f.write("database/config/db", ["rotation_window": "2h"]) }?.message,
                       "cannot use rotation_window without rotation_schedule")
        try f.write("database/config/db", ["rotation_schedule": "0 3 * * *", "rotation_window": "2h", "disable_automated_rotation": false])
        let config = try XCTUnwrap(f.read("database/config/db")?.data)
        XCTAssertEqual(config["rotation_period"], 0)
        XCTAssertEqual(config["rotation_window"], 7200)
        try f.write("database/config/db", ["rotation_schedule": ""])
        XCTAssertNil(try f.read("database/config/db")?.data?["next_root_rotation"], "turned off")
    }

    func testAFailedAutomatedRootRotationIsReportedAndRetried() throws {
        let f = try fixture()
        try f.write("database/config/db", ["rotation_period": "1m"])
        f.clock.advance(61)
        f.database.failures["updateUser"] = 1
        XCTAssertEqual(try f.engine.runDueWork().map(\.action), [.rootRotationFailed])
        XCTAssertEqual(try f.read("database/config/db")?.data?["last_root_rotation_error"], "failed to update user: forced error")
        XCTAssertEqual(try f.engine.runDueWork(), [], "not before the retry")
        f.clock.advance(11)
        XCTAssertEqual(try f.engine.runDueWork().map(\.action), [.rootRotated])
        XCTAssertNil(try f.read("database/config/db")?.data?["last_root_rotation_error"])
    }
}
