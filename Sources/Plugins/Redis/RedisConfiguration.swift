import DBPlugin
import Foundation
import UsernameTemplate

/// What the plugin does after each change so that users survive a Redis restart. Vault's plugin
/// never persists (users live in server memory only); this is opt-in.
public enum RedisPersistenceMode: String, Sendable, Equatable {
    case none
    /// `ACL SAVE`: rewrite the server's `aclfile`.
    case aclSave = "ACLSAVE"
    /// `CONFIG REWRITE`: for servers that keep their users in `redis.conf`.
    case rewrite = "REWRITE"

    /// The Redis command that persists the ACL, if any.
    var command: [String]? {
        switch self {
        case .none: return nil
        case .aclSave: return ["ACL", "SAVE"]
        case .rewrite: return ["CONFIG", "REWRITE"]
        }
    }
}

/// The connection parameters of `redis-database-plugin`, checked in the Go plugin's order and
/// with its messages for the required ones.
struct RedisConfiguration: Sendable {
    var host: String
    var port: Int
    var username: String
    var password: String
    var persistence: RedisPersistenceMode
    /// nil: Vault's own username scheme for Redis (`RedisUsername.generate`).
    var usernameTemplate: UsernameTemplate?
    /// Bounds connecting and logging in.
    var connectTimeout: TimeInterval
    /// Bounds each command's reply.
    var commandTimeout: TimeInterval

    static let defaultConnectTimeout: TimeInterval = 5
    static let defaultCommandTimeout: TimeInterval = 10

    init(_ raw: [String: JSONValue]) throws(PluginError) {
        let config = ConnectionConfig(raw)
        do {
            host = config.string("host", default: "")
            guard !host.isEmpty else { throw PluginError(.invalidConfiguration, "host cannot be empty") }
            port = try config.int("port", default: 0)
            guard port != 0 else { throw PluginError(.invalidConfiguration, "port cannot be empty") }
            guard (1...65535).contains(port) else {
                throw PluginError(.invalidConfiguration, "port must be between 1 and 65535, not \(port)")
            }
            username = config.string("username", default: "")
            guard !username.isEmpty else { throw PluginError(.invalidConfiguration, "username cannot be empty") }
            password = config.string("password", default: "")
            guard !password.isEmpty else { throw PluginError(.invalidConfiguration, "password cannot be empty") }

            // Read so that a malformed value is reported even though TLS itself is refused.
            _ = try config.bool("insecure_tls", default: false)
            if try config.bool("tls", default: false) {
                throw PluginError(.unsupported,
                    "TLS is not supported yet: set tls=false and reach Redis over a trusted network or a local TLS tunnel")
            }

            let mode = config.string("persistence_mode", default: "").trimmingCharacters(in: .whitespaces)
            switch mode.uppercased() {
            case "", "NONE": persistence = .none
            case "ACLSAVE": persistence = .aclSave
            case "REWRITE": persistence = .rewrite
            default:
                throw PluginError(.invalidConfiguration,
                    "persistence_mode can only be 'none', 'ACLSAVE' or 'REWRITE', not '\(mode)'")
            }

            if let source = config.string("username_template"), !source.isEmpty {
                do {
                    usernameTemplate = try UsernameTemplate.forConnection(source, default: source).template
                } catch let error as UsernameTemplate.Error {
                    throw PluginError(.invalidConfiguration, error.message)
                }
            } else {
                usernameTemplate = nil
            }

            connectTimeout = try config.duration("connect_timeout", default: Self.defaultConnectTimeout)
            commandTimeout = Self.defaultCommandTimeout
        } catch let error as PluginError {
            throw error
        } catch {
            throw PluginError(.invalidConfiguration, "\(error)")
        }
    }
}
