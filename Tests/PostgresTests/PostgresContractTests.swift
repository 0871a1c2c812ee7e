import Foundation
import PostgresPlugin
import TestSupport
import XCTest

/// The plugin contract every plugin keeps, against the real PostgreSQL, witnessed by `psql`.
final class PostgresContractTests: XCTestCase {
    func testThePluginContract() throws {
        let server = try PostgresTestServer.fromEnvironment()
        let config: [String: JSONValue] = ["connection_url": .string(server.templatedURL),
                                           "username": .string(server.user), "password": .string(server.password)]
        func admin(_ sql: String) throws {
            let result = try server.psql(user: server.user, password: server.password, sql)
            guard result.status == 0 else { throw PluginError(.database, "psql: \(result.output)") }
        }
        PluginContract.verify(PluginContract.Subject(
            makePlugin: {
                let plugin = PostgresPlugin()
                _ = try plugin.initialize(InitializeRequest(config: config, verifyConnection: true))
                return plugin
            },
            creationStatements: [#"CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';"#],
            createUser: { password in
                let name = "contract-" + UUID().uuidString.prefix(8).lowercased()
                try admin("CREATE ROLE \"\(name)\" WITH LOGIN PASSWORD '\(password)'")
                return name
            },
            canLogIn: { try server.psql(user: $0, password: $1, "SELECT 1").status == 0 },
            dropUser: { try? admin("DROP ROLE IF EXISTS \"\($0)\"") }))
    }
}
