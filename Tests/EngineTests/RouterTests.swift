import DBPlugin
import Engine
import TestSupport
import XCTest

/// How a request finds its declaration, and what the declaration does before the handler runs.
final class RouterTests: XCTestCase {
    func testUnknownPathsOperationsAndNames() throws {
        let f = EngineFixture()
        XCTAssertEqual(engineError { try f.read("database/nothing/x") },
                       EngineError(.unsupportedPath, "no handler for route \"database/nothing/x\". route entry not found."))
        XCTAssertEqual(engineError { try f.read("elsewhere/roles/x") }?.kind, .unsupportedPath)
        XCTAssertEqual(engineError { try f.read("database/roles/x/y") }?.kind, .unsupportedPath)
        XCTAssertEqual(engineError { try f.read("database/rotate-role/x") }, EngineError(.unsupportedOperation, "unsupported operation"))
        XCTAssertEqual(engineError { try f.write("database/roles/bad!name", ["db_name": "db"]) }?.message,
                       "invalid name \"bad!name\": names must start and end with a letter, digit or underscore and contain only those, '-' and '.'")
    }

    /// LIST of `roles/x` is Vault's LIST of the folder `roles/x/`: nothing there. Where the parent
    /// is no folder, a list is an unsupported operation.
    func testListingANameFindsNothing() throws {
        let f = EngineFixture()
        for path in ["database/roles/x", "database/config/x", "database/static-roles/x", "sys/policies/password/x"] {
            XCTAssertNil(try f.engine.handle(EngineRequest(.list, path)), path)
        }
        XCTAssertEqual(engineError { try f.list("database/creds/x") }, EngineError(.unsupportedOperation, "unsupported operation"))
    }

    /// Every declared field given is parsed before the handler looks at anything, as Vault's
    /// framework validates a request: a wrong type wins over what the handler would refuse.
    func testFieldsAreParsedBeforeTheHandlerRuns() {
        let f = EngineFixture()
        XCTAssertEqual(engineError { try f.write("database/roles/r", ["default_ttl": "1x"]) }?.message,
                       "Field validation failed: error converting input 1x for field \"default_ttl\": time: unknown unit \"x\" in duration \"1x\"")
        XCTAssertEqual(engineError { try f.write("database/roles/r", [:]) }?.message, "database name is required")
        XCTAssertEqual(engineError { try f.write("sys/leases/renew", ["lease_id": ["a", "b"]]) }?.message,
                       "Field validation failed: field \"lease_id\" must be a string")
    }

    func testUnknownFieldsAreWarnedAboutExceptWhereThePathTakesAnything() throws {
        let f = EngineFixture()
        try f.configureConnectionAndRole()
        XCTAssertEqual(try f.write("database/roles/ro", ["max_tll": "1h", "name": "ignored"]),
                       EngineResponse(data: nil, warnings: ["Endpoint ignored these unrecognized parameters: [max_tll]"],
                                      mountType: "database"))
        XCTAssertEqual(try f.read("database/roles/ro")?.data?["max_ttl"], 7200, "nothing else changed")
        XCTAssertNil(try f.write("database/config/db", ["some_plugin_parameter": "kept"]))
        XCTAssertEqual(try f.read("database/config/db")?.data?["connection_details"]?.objectValue?["some_plugin_parameter"], "kept")
    }

    func testHelpOfAPathAndOfAMount() throws {
        let f = EngineFixture()
        let help = try f.engine.help("database/static-roles/app")
        XCTAssertTrue(help.hasPrefix("Request:        static-roles/app\nMatching Route: ^static-roles/(?P<name>\\w(([\\w-.]+)?\\w)?)$\n"), help)
        XCTAssertTrue(help.contains("\n    rotation_period (duration (sec))\n\n        How often the password is rotated"), help)
        XCTAssertTrue(try f.engine.help("sys").contains("    ^leases/revoke-force(/(?P<prefix>.*))?$\n"))
        XCTAssertEqual(engineError { try f.engine.help("database/nope") }?.kind, .unsupportedPath)
    }
}
