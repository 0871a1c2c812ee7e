import ElastiCachePlugin
import Foundation
import TestSupport
import XCTest

/// The plugin contract every plugin keeps, against the local ElastiCache endpoint (every request's
/// signature checked by botocore) and the redis-server behind it, witnessed by `redis-cli`. The
/// plugin has static roles only: creating and deleting users are refused as unsupported.
final class ElastiCacheContractTests: XCTestCase {
    func testThePluginContract() throws {
        let server = try ElastiCacheTestServer.fromEnvironment()
        try server.resetFailures()
        PluginContract.verify(server.contractSubject {
            let plugin = ElastiCachePlugin(environment: ["HOME": "/nonexistent"])
            _ = try plugin.initialize(InitializeRequest(config: server.config(), verifyConnection: true))
            return plugin
        })
    }
}
