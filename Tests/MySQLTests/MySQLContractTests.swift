import Foundation
import MySQLPlugin
import TestSupport
import XCTest

/// The plugin contract every plugin keeps, against the real MariaDB, witnessed by `mariadb`.
final class MySQLContractTests: XCTestCase {
    func testThePluginContract() throws {
        let server = try MariaDBTestServer.fromEnvironment()
        PluginContract.verify(PluginContract.Subject(
            makePlugin: {
                let plugin = MySQLPlugin(variant: .mysql)
                _ = try plugin.initialize(InitializeRequest(config: server.config(), verifyConnection: true))
                return plugin
            },
            creationStatements: ["CREATE USER '{{name}}'@'%' IDENTIFIED BY '{{password}}';"],
            createUser: { password in
                let name = "contract-" + UUID().uuidString.prefix(8).lowercased()
                try server.admin("CREATE USER '\(name)'@'%' IDENTIFIED BY '\(password)'")
                return name
            },
            canLogIn: { try server.client(user: $0, password: $1, "SELECT 1").succeeded },
            dropUser: { _ = try? server.client(user: server.adminUser, password: server.adminPassword, "DROP USER IF EXISTS '\($0)'@'%'") }))
    }
}
