import CLI
import DBPlugin
@testable import PluginProcess
import TestSupport
import XCTest

/// A plugin in its own process answers exactly as it would in ours.
final class ExternalPluginTests: XCTestCase {
    private func roundTrip(_ request: PluginWireProtocol.Request, _ plugin: DatabasePlugin) throws -> PluginWireProtocol.Response {
        let line = try PluginWireProtocol.encodeLine(request)
        let (response, _) = PluginServer.answer(line.dropLast(), plugin)
        let back = try PluginWireProtocol.encodeLine(response)
        return try JSONDecoder().decode(PluginWireProtocol.Response.self, from: back.dropLast())
    }

    func testEveryCallCrossesTheWireWithItsFieldsAndErrors() throws {
        let database = FakeDatabase()
        let plugin = try XCTUnwrap(database.catalog().makePlugin(named: "fake-database-plugin"))
        var initialize = PluginWireProtocol.Request(op: "initialize")
        initialize.config = ["connection_url": "u", "username": "admin", "password": "root-secret"]
        initialize.verifyConnection = true
        XCTAssertEqual(try roundTrip(initialize, plugin).config?["username"], "admin")

        var newUser = PluginWireProtocol.Request(op: "new_user")
        newUser.roleName = "ro"
        newUser.displayName = "root"
        newUser.password = "pw-123456"
        newUser.expiration = 1_800_000_000
        let username = try XCTUnwrap(roundTrip(newUser, plugin).username)
        XCTAssertEqual(database.users[username]?.expiration, Date(timeIntervalSince1970: 1_800_000_000))

        var update = PluginWireProtocol.Request(op: "update_user")
        update.username = "ghost"
        update.newPassword = "x"
        let failure = try roundTrip(update, plugin)
        XCTAssertFalse(failure.ok)
        XCTAssertEqual(failure.error, PluginError(.database, "user does not appear to exist: ghost"))

        var delete = PluginWireProtocol.Request(op: "delete_user")
        delete.username = username
        XCTAssertTrue(try roundTrip(delete, plugin).ok)
        XCTAssertNil(database.users[username])
    }

    /// The ElastiCache plugin as dbsecrets runs it, in its own process, keeps the plugin contract.
    func testTheElastiCachePluginProcessKeepsThePluginContract() throws {
        let server = try ElastiCacheTestServer.fromEnvironment()
        try server.resetFailures()
        XCTAssertTrue(BuiltinPlugins.catalog.makePlugin(named: "redis-elasticache-database-plugin") is ExternalPlugin)
        PluginContract.verify(server.contractSubject {
            let plugin = try XCTUnwrap(BuiltinPlugins.catalog.makePlugin(named: "redis-elasticache-database-plugin"))
            _ = try plugin.initialize(InitializeRequest(config: server.config(), verifyConnection: true))
            return plugin
        })
    }

    func testAMissingExecutableIsAClearError() {
        let plugin = ExternalPlugin(executableName: "dbsecrets-no-such-plugin", type: "none")
        XCTAssertThrowsError(try plugin.initialize(InitializeRequest(config: [:], verifyConnection: false))) { error in
            let pluginError = error as? PluginError
            XCTAssertEqual(pluginError?.kind, .connection)
            XCTAssertTrue(pluginError?.message.hasPrefix("the plugin executable dbsecrets-no-such-plugin was not found (looked in ") == true,
                          pluginError?.message ?? "")
        }
    }
}
