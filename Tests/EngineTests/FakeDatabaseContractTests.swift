import Foundation
import TestSupport
import XCTest

/// The engine's tests stand on `FakeDatabase`; it keeps the same contract as the real plugins, so
/// what the engine learns from it holds for them.
final class FakeDatabaseContractTests: XCTestCase {
    func testThePluginContract() {
        let database = FakeDatabase()
        PluginContract.verify(PluginContract.Subject(
            makePlugin: {
                let plugin = try XCTUnwrap(database.catalog().makePlugin(named: "fake-database-plugin"))
                _ = try plugin.initialize(InitializeRequest(
                    config: ["connection_url": "fake://db", "username": "admin", "password": "root-secret"], verifyConnection: true))
                return plugin
            },
            creationStatements: ["CREATE"],
            createUser: { password in
                let name = "contract-" + UUID().uuidString.prefix(8).lowercased()
                database.addUser(name, password: password)
                return name
            },
            canLogIn: { database.canLogIn($0, $1) },
            dropUser: { _ in }))
    }
}
