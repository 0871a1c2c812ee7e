import DBPlugin
import Foundation

/// The connection parameters, read as upstream's `mapstructure.WeakDecode` does: unknown keys
/// are ignored, and the deprecated `username`/`password` stand in for an empty
/// `access_key_id`/`secret_access_key` ("strictly equivalent").
struct ElastiCacheConfiguration: Sendable {
    /// Stored and returned, never used: upstream only decodes it (the API is regional, not per cluster).
    var url: String?
    var accessKeyID: String
    var secretAccessKey: String
    var region: String?
    /// Ours, not upstream's: where to send API calls instead of `https://elasticache.<region>.amazonaws.com/`.
    var endpoint: String?
    /// Ours: how long a rotation waits after ModifyUser for DescribeUsers to show the user
    /// `active` again, when the new password works (0: do not wait, as upstream).
    var userActiveTimeout: TimeInterval

    static let defaultUserActiveTimeout: TimeInterval = 5 * 60
    static let maximumUserActiveTimeout: TimeInterval = 60 * 60

    init(_ raw: [String: JSONValue]) throws {
        let config = ConnectionConfig(raw)
        url = config.string("url")
        accessKeyID = Self.nonEmpty(config.string("access_key_id")) ?? config.string("username") ?? ""
        secretAccessKey = Self.nonEmpty(config.string("secret_access_key")) ?? config.string("password") ?? ""
        region = Self.nonEmpty(config.string("region"))
        endpoint = Self.nonEmpty(config.string("endpoint"))
        userActiveTimeout = try config.duration("user_active_timeout", default: Self.defaultUserActiveTimeout, allowZero: true)
        guard userActiveTimeout <= Self.maximumUserActiveTimeout else {
            throw PluginError(.invalidConfiguration, "invalid value for user_active_timeout: at most 60m")
        }
    }

    private static func nonEmpty(_ s: String?) -> String? {
        guard let s, !s.isEmpty else { return nil }
        return s
    }

    /// What the engine should show the user on config write: today only the deprecated fields.
    static func warnings(for raw: [String: JSONValue]) -> [String] {
        let config = ConnectionConfig(raw)
        var warnings: [String] = []
        for (old, new) in [("username", "access_key_id"), ("password", "secret_access_key")] {
            guard let value = config.string(old), !value.isEmpty else { continue }
            if let current = config.string(new), !current.isEmpty {
                warnings.append("\(old) is deprecated and ignored because \(new) is set")
            } else {
                warnings.append("\(old) is deprecated, use \(new) instead (it is strictly equivalent)")
            }
        }
        return warnings
    }
}
