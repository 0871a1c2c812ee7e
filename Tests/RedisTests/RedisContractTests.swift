import Foundation
import RedisPlugin
import TestSupport
import XCTest

/// The plugin contract every plugin keeps, against the real redis-server, witnessed by `redis-cli`.
final class RedisContractTests: XCTestCase {
    func testThePluginContract() throws {
        let server = try RedisTestServer.fromEnvironment()
        PluginContract.verify(Self.subject(server) {
            let plugin = RedisPlugin()
            _ = try plugin.initialize(InitializeRequest(config: server.config(), verifyConnection: true))
            return plugin
        })
    }

    /// The contract's subject on a Redis-protocol server (Redis or Valkey), witnessed by redis-cli
    /// as the server's admin.
    static func subject(_ server: RedisTestServer, makePlugin: @escaping () throws -> RedisPlugin) -> PluginContract.Subject {
        func admin(_ arguments: [String]) throws -> String {
            try server.redisCLI(username: server.adminUsername, password: server.adminPassword, arguments)
        }
        return PluginContract.Subject(
            makePlugin: makePlugin,
            creationStatements: [#"["~*", "+@read", "+ping"]"#],
            createUser: { password in
                let name = "contract-" + UUID().uuidString.prefix(8).lowercased()
                _ = try admin(["ACL", "SETUSER", name, "on", ">" + password, "~*", "+@read", "+ping"])
                return name
            },
            canLogIn: { try server.redisCLI(username: $0, password: $1, ["PING"]) == "PONG" },
            dropUser: { _ = try? admin(["ACL", "DELUSER", $0]) })
    }
}
