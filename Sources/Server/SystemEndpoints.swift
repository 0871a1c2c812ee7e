import DBPlugin
import Engine
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What the server says about itself where clients look before anything else: `sys/health` and
/// `sys/seal-status`, answered without a token by Vault's HTTP layer (not by a backend), as here.
/// Always initialized, unsealed and active: there is no seal and no cluster.
public struct ServerIdentity: Sendable {
    /// The Vault API version answered in `version`, with our own after `+` (semver build
    /// metadata, so a client comparing versions reads 1.19.0, and none mistakes it for `+ent`).
    public let version: String
    public let clusterName = "dbsecrets"
    /// A new one at each start.
    public let clusterID = ResponseBody.newRequestID()
    public let started = Date()

    public init(dbsecretsVersion: String) {
        version = "1.19.0+dbsecrets.\(dbsecretsVersion)"
    }

    func health(_ method: String, now: Date = Date()) -> HTTPResponse {
        guard method == "GET" || method == "HEAD" else { return .json(405, VaultAPI.errorBody([])) }
        return .json(200, GoJSON.compact(pairs: [
            ("initialized", true), ("sealed", false), ("standby", false), ("performance_standby", false),
            ("replication_performance_mode", "disabled"), ("replication_dr_mode", "disabled"),
            ("server_time_utc", .int(Int(now.timeIntervalSince1970))), ("version", .string(version)),
            ("enterprise", false), ("cluster_name", .string(clusterName)), ("cluster_id", .string(clusterID)),
        ]) + "\n")
    }

    func sealStatus(_ method: String) -> HTTPResponse {
        guard method == "GET" else { return .json(405, VaultAPI.errorBody([])) }
        return .json(200, GoJSON.compact(pairs: [
            ("type", "shamir"), ("initialized", true), ("sealed", false), ("t", 1), ("n", 1), ("progress", 0),
            ("nonce", ""), ("version", .string(version)), ("build_date", .string(Timestamp.format(started))),
            ("migration", false), ("cluster_name", .string(clusterName)), ("cluster_id", .string(clusterID)),
            ("recovery_seal", false), ("storage_type", "file"),
        ]) + "\n")
    }
}
