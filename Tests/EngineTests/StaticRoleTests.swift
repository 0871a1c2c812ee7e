import DBPlugin
import Engine
import TestSupport
import XCTest

final class StaticRoleTests: XCTestCase {
    private func fixture() throws -> EngineFixture {
        let f = EngineFixture()
        try f.configureConnectionAndRole()
        f.database.addUser("app", password: "initial")
        return f
    }

    func testCreateRotatesAtOnceAndStaticCredsReturnThePassword() throws {
        let f = try fixture()
        try f.write("database/static-roles/app", ["db_name": "db", "username": "app", "rotation_period": "1h"])
        let creds = try XCTUnwrap(f.read("database/static-creds/app")?.data)
        let password = try XCTUnwrap(creds["password"]?.stringValue)
        XCTAssertNotEqual(password, "initial")
        XCTAssertEqual(f.database.password(of: "app"), password)
        XCTAssertEqual(creds["username"], "app")
        XCTAssertEqual(creds["rotation_period"], 3600)
        XCTAssertEqual(creds["ttl"], 3600)
        XCTAssertEqual(try f.read("database/static-creds/app")?.data?["password"], .string(password), "two reads, same password")
        f.clock.advance(600)
        XCTAssertEqual(try f.read("database/static-creds/app")?.data?["ttl"], 3000)
    }

    func testReadNeverShowsThePassword() throws {
        let f = try fixture()
        try f.write("database/static-roles/app", ["db_name": "db", "username": "app", "rotation_period": "90m"])
        let data = try XCTUnwrap(f.read("database/static-roles/app")?.data)
        XCTAssertNil(data["password"])
        XCTAssertEqual(data["rotation_period"], 5400)
        XCTAssertEqual(data["username"], "app")
        XCTAssertNotNil(data["last_vault_rotation"])
    }

    func testUpdateNeverRotatesAndKeepsTheUsername() throws {
        let f = try fixture()
        try f.write("database/static-roles/app", ["db_name": "db", "username": "app", "rotation_period": "90m"])
        let before = f.database.password(of: "app")
        try f.write("database/static-roles/app", ["rotation_period": "2h"])
        XCTAssertEqual(f.database.password(of: "app"), before)
        XCTAssertEqual(try f.read("database/static-roles/app")?.data?["rotation_period"], 7200)
        XCTAssertEqual(engineError { try f.write("database/static-roles/app", ["username": "other"]) }?.message,
                       "cannot update static account username")
    }

    func testRotateRoleSetsANewPasswordThatTheDatabaseHas() throws {
        let f = try fixture()
        try f.write("database/static-roles/app", ["db_name": "db", "username": "app", "rotation_period": "1h"])
        let first = f.database.password(of: "app")
        XCTAssertNil(try f.write("database/rotate-role/app"))
        let second = try f.read("database/static-creds/app")?.data?["password"]?.stringValue
        XCTAssertNotEqual(first, second)
        XCTAssertEqual(f.database.password(of: "app"), second)
        XCTAssertEqual(engineError { try f.write("database/rotate-role/ro") }?.message, "no static role found for role name")
    }

    func testStaticCredsRotateFirstWhenDue() throws {
        let f = try fixture()
        try f.write("database/static-roles/app", ["db_name": "db", "username": "app", "rotation_period": "10s"])
        let first = try f.read("database/static-creds/app")?.data?["password"]
        f.clock.advance(11)
        let second = try f.read("database/static-creds/app")?.data?["password"]
        XCTAssertNotEqual(first, second)
        XCTAssertEqual(second?.stringValue, f.database.password(of: "app"))
    }

    func testValidationMessages() throws {
        let f = try fixture()
        let cases: [([String: JSONValue], String)] = [
            (["username": "app", "rotation_period": "1h"], "database name is a required field"),
            (["db_name": "db", "rotation_period": "1h"], "username is a required field to create a static account"),
            (["db_name": "db", "username": "app"], "one of rotation_schedule or rotation_period must be provided to create a static account"),
            (["db_name": "db", "username": "app", "rotation_period": "1h", "rotation_schedule": "* * * * *"],
             "mutually exclusive fields rotation_period and rotation_schedule were both specified; only one of them can be provided"),
            (["db_name": "db", "username": "app", "rotation_period": "4"], "rotation_period must be 5 seconds or more"),
            (["db_name": "db", "username": "app", "rotation_period": "1h", "rotation_window": "1h"],
             "rotation_window is invalid with use of rotation_period"),
            (["db_name": "db", "username": "app", "rotation_schedule": "*/10 * * * * *"],
             "could not parse rotation_schedule: expected exactly 5 fields, found 6: [*/10 * * * * *]"),
            (["db_name": "db", "username": "app", "rotation_schedule": "* * * * *", "rotation_window": "59s"],
             "rotation_window is invalid: rotation_window must be 3600 seconds or more"),
            (["db_name": "nope", "username": "app", "rotation_period": "1h"], "failed to find entry for connection with name: \"nope\""),
            (["db_name": "db", "username": "ghost", "rotation_period": "1h"], "error setting credentials: user does not appear to exist: ghost"),
        ]
        for (data, message) in cases {
            XCTAssertEqual(engineError { try f.write("database/static-roles/s", data) }?.message, message)
        }
        XCTAssertEqual(try f.list("database/static-roles"), [], "a failed create stores nothing")
    }

    func testScheduleRoles() throws {
        let f = try fixture()
        try f.write("database/static-roles/app", ["db_name": "db", "username": "app", "rotation_schedule": "0 0 * * SAT",
                                                  "rotation_window": "1h"])
        let data = try XCTUnwrap(f.read("database/static-roles/app")?.data)
        XCTAssertEqual(data["rotation_schedule"], "0 0 * * SAT")
        XCTAssertEqual(data["rotation_window"], 3600)
        XCTAssertNil(data["rotation_period"])
    }

    func testDisallowedRoleAndDeleteLeavesTheUser() throws {
        let f = try fixture()
        try f.write("database/config/db", ["allowed_roles": "other"])
        XCTAssertEqual(engineError { try f.write("database/static-roles/app", ["db_name": "db", "username": "app", "rotation_period": "1h"]) }?.message,
                       "\"app\" is not an allowed role")
        try f.write("database/config/db", ["allowed_roles": "*"])
        try f.write("database/static-roles/app", ["db_name": "db", "username": "app", "rotation_period": "1h"])
        try f.delete("database/static-roles/app")
        XCTAssertNotNil(f.database.users["app"], "deleting a static role never drops the user")
    }

    func testFailedRotationRetriesWithAFreshPassword() throws {
        let f = try fixture()
        try f.write("database/static-roles/app", ["db_name": "db", "username": "app", "rotation_period": "1h"])
        let stored = try f.read("database/static-creds/app")?.data?["password"]
        f.database.failures["updateUser"] = 1
        let error = engineError { try f.write("database/rotate-role/app") }
        XCTAssertEqual(error?.message, "unable to finish rotating credentials; retries will continue in the background but it is also safe to retry manually: error setting credentials: forced error")
        XCTAssertEqual(try f.read("database/static-creds/app")?.data?["password"], stored, "the old password is still the stored one")
        f.clock.advance(10)
        let items = try f.engine.runDueWork()
        XCTAssertEqual(items.map(\.action), [.roleRotated])
        let now = try f.read("database/static-creds/app")?.data?["password"]
        XCTAssertNotEqual(now, stored)
        XCTAssertEqual(now?.stringValue, f.database.password(of: "app"))
    }
}

final class StaticCredsPastRotationTests: XCTestCase {
    func testAFailedRotationAtReadTimeIsAnErrorNeverTheStalePassword() throws {
        let f = EngineFixture()
        try f.configureConnectionAndRole()
        f.database.addUser("app", password: "initial")
        try f.write("database/static-roles/app", ["db_name": "db", "username": "app", "rotation_period": "10s"])
        f.clock.advance(11)
        f.database.failures["updateUser"] = 2
        XCTAssertEqual(engineError { try f.read("database/static-creds/app") }?.message, "error setting credentials: forced error")
        XCTAssertEqual(engineError { try f.read("database/static-creds/app") }?.message, "error setting credentials: forced error",
                       "still past its rotation time while the retry is pending")
        let fresh = try XCTUnwrap(f.read("database/static-creds/app")?.data?["password"]?.stringValue)
        XCTAssertEqual(fresh, f.database.password(of: "app"))
    }
}
