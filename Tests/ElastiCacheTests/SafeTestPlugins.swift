@testable import ElastiCachePlugin
import Foundation

extension AWSMetadataAddresses {
    /// Port 1 on loopback, where nothing listens: a test that forgot to point the metadata
    /// variables at a double fails at once instead of reaching (or waiting for) AWS's addresses.
    static let closedLoopback = AWSMetadataAddresses(containerBase: "http://127.0.0.1:1",
                                                     instanceMetadataIPv4: "http://127.0.0.1:1/",
                                                     instanceMetadataIPv6: "http://[::1]:1/")
}

extension ElastiCachePlugin {
    /// The plugin as tests build it: an injected environment, and never AWS's link-local addresses.
    static func forTests(_ environment: [String: String], retryPolicy: AWSRetryPolicy = .standard,
                         addresses: AWSMetadataAddresses = .closedLoopback) -> ElastiCachePlugin {
        ElastiCachePlugin(environment: environment, retryPolicy: retryPolicy, addresses: addresses)
    }
}
