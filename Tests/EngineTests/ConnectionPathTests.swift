import DBPlugin
import Engine
import TestSupport
import XCTest

final class ConnectionPathTests: XCTestCase {
    func testReadReturnsWhatWasWrittenWithoutSecrets() throws {
        let f = EngineFixture()
        try f.write("database/config/db", [
            "plugin_name": "fake-database-plugin", "connection_url": "fake://{{username}}:{{password}}@db",
            "username": "admin", "password": "root-secret", "allowed_roles": "a, b*", "someotherdata": "testing",
        ])
        let data = try XCTUnwrap(f.read("database/config/db")?.data)
        XCTAssertEqual(data["plugin_name"], "fake-database-plugin")
        XCTAssertEqual(data["plugin_version"], "")
        XCTAssertEqual(data["allowed_roles"], ["a", "b*"])
        XCTAssertEqual(data["root_credentials_rotate_statements"], [])
        XCTAssertEqual(data["password_policy"], "")
        XCTAssertEqual(data["verify_connection"], true)
        XCTAssertEqual(data["connection_details"], [
            "connection_url": "fake://{{username}}:{{password}}@db", "username": "admin", "someotherdata": "testing",
        ])
    }

    func testUpdateMergesConnectionDetailsAndKeepsOtherFields() throws {
        let f = EngineFixture()
        try f.configureConnectionAndRole()
        try f.write("database/config/db", ["max_open_connections": "2"])
        let data = try XCTUnwrap(f.read("database/config/db")?.data)
        XCTAssertEqual(data["plugin_name"], "fake-database-plugin")
        XCTAssertEqual(data["allowed_roles"], ["*"])
        XCTAssertEqual(data["connection_details"]?.objectValue?["max_open_connections"], "2")
        XCTAssertEqual(data["connection_details"]?.objectValue?["username"], "admin")
    }

    func testLiteralPasswordInURLWarnsAndIsRedactedOnRead() throws {
        let f = EngineFixture()
        let response = try f.write("database/config/db", [
            "plugin_name": "fake-database-plugin", "connection_url": "fake://admin:root-secret@db/x",
            "username": "admin", "password": "root-secret",
        ])
        XCTAssertEqual(response?.warnings, ["Password found in connection_url, use a templated url to enable root rotation and prevent read access to password information."])
        let details = try XCTUnwrap(f.read("database/config/db")?.data?["connection_details"]?.objectValue)
        XCTAssertEqual(details["connection_url"], "fake://admin:xxxxx@db/x")
        XCTAssertNil(details["password"])
    }

    func testErrorsInOrder() {
        let f = EngineFixture()
        XCTAssertEqual(engineError { try f.write("database/config/db", ["connection_url": "x"]) }?.message, "empty plugin name")
        XCTAssertEqual(engineError { try f.write("database/config/db", ["plugin_name": "nope"]) }?.message,
                       "error creating database object: plugin not found in the catalog: nope")
        XCTAssertEqual(engineError { try f.write("database/config/db", ["plugin_name": "fake-database-plugin", "plugin_version": "x.y"]) }?.message,
                       "version \"x.y\" is not a valid semantic version")
        XCTAssertEqual(engineError { try f.write("database/config/db", ["plugin_name": "fake-database-plugin"]) }?.message,
                       "error creating database object: connection_url cannot be empty")
        XCTAssertEqual(try f.list("database/config"), [], "a refused write stores nothing")
    }

    func testVerificationFailureNeverShowsThePassword() throws {
        let f = EngineFixture()
        let error = engineError {
            try f.write("database/config/db", ["plugin_name": "fake-database-plugin", "connection_url": "u",
                                                "username": "admin", "password": "wrong-password"])
        }
        XCTAssertEqual(error?.kind, .invalidRequest)
        XCTAssertEqual(error?.message, "error creating database object: password authentication failed for user \"admin\" with password [password]")
        // With verification off, nothing connects and the config is stored.
        try f.write("database/config/db", ["plugin_name": "fake-database-plugin", "connection_url": "u",
                                            "username": "admin", "password": "wrong-password", "verify_connection": "false"])
        XCTAssertEqual(try f.list("database/config"), ["db"])
        XCTAssertEqual(try f.read("database/config/db")?.data?["verify_connection"], false)
    }

    func testDeleteAndListAndReset() throws {
        let f = EngineFixture()
        try f.configureConnectionAndRole()
        XCTAssertEqual(try f.list("database/config"), ["db"])
        XCTAssertNil(try f.write("database/reset/db"))
        XCTAssertEqual(engineError { try f.write("database/reset/nope") }?.message, "failed to find entry for connection with name: \"nope\"")
        try f.delete("database/config/db")
        try f.delete("database/config/db")
        XCTAssertNil(try f.read("database/config/db"))
        XCTAssertNil(try f.engine.handle(EngineRequest(.list, "database/config")))
    }

    func testNamesThatCouldEscapeTheStateDirectoryAreRejectedBeforeAnyFileIsTouched() throws {
        let f = EngineFixture()
        for name in ["..", ".", "a/b", "-a", "a-", "a\u{0}b", "é", "a b", "'a'", String(repeating: "a", count: 300), ""] {
            let error = engineError { try f.write("database/roles/\(name)", ["db_name": "db"]) }
            XCTAssertNotNil(error, "accepted \(name.debugDescription)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: f.stateURL.path), "nothing written")
        for name in ["a", "a.b", "a-b_c", "A9", "_"] {
            XCTAssertNil(engineError { try f.write("database/roles/\(name)", ["db_name": "db"]) }, name)
        }
    }
}

final class ConnectionWriteConcurrencyTests: XCTestCase {
    /// Verification is a network call made without the connection's lock; a write that lands
    /// meanwhile is not lost: the slower write is rebuilt on top of it.
    func testAWriteDuringVerificationIsKept() throws {
        let f = EngineFixture()
        try f.configureConnectionAndRole()
        f.database.duringNextInitialize = {
            let other = Engine(environment: EngineEnvironment(state: StateDirectory(root: f.stateURL),
                                                              plugins: f.database.catalog()))
            _ = try? other.handle(EngineRequest(.write, "database/config/db", data: ["allowed_roles": "ro,other"]))
        }
        try f.write("database/config/db", ["password_policy": "strong"])
        let data = try XCTUnwrap(f.read("database/config/db")?.data)
        XCTAssertEqual(data["allowed_roles"], ["ro", "other"])
        XCTAssertEqual(data["password_policy"], "strong")
    }
}
