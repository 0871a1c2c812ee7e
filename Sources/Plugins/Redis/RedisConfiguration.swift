import Basics
import DBPlugin
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import TLS
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

/// OpenBao's `connection_url` of the Valkey plugin: `valkey://[user[:password]@]host[:port]`, or
/// `valkeys://` for TLS (`redis://`, `rediss://` too). `{{username}}` and `{{password}}` stand for
/// the stored `username` and `password`, so that the password stays out of the URL and
/// rotate-root can change it; literal credentials in the URL exclude those fields, and the URL
/// excludes `host`, `port` and `tls` (OpenBao: "cannot specify both connection_url and
/// individual connection parameters").
struct ServerURL {
    var host: String
    var port: Int
    var username: String?
    var password: String?
    var isTLS: Bool

    init(_ text: String, config: ConnectionConfig) throws {
        let conflict = PluginError(.invalidConfiguration, "cannot specify both connection_url and individual connection parameters")
        for key in ["host", "port"] where !(config.string(key) ?? "").isEmpty { throw conflict }
        if try config.bool("tls", default: false) { throw conflict }
        let schemes = ["valkey": false, "valkeys": true, "redis": false, "rediss": true]
        guard let colon = text.firstRange(of: "://"), let tls = schemes[text[..<colon.lowerBound].lowercased()] else {
            throw PluginError(.invalidConfiguration, "error parsing connection_url: it must start with valkey:// or valkeys://")
        }
        isTLS = tls
        var rest = Substring(text[colon.upperBound...])
        if let end = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) { rest = rest[..<end] }
        let storedUsername = config.string("username") ?? "", storedPassword = config.string("password") ?? ""
        if let at = rest.lastIndex(of: "@") {
            let userinfo = rest[..<at]
            rest = rest[rest.index(after: at)...]
            let parts = userinfo.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            func value(_ raw: String, template: String, stored: String) throws -> String? {
                if raw == template { return stored.isEmpty ? nil : stored }
                guard let decoded = PercentEncoding.decoded(raw) else {
                    throw PluginError(.invalidConfiguration, "error parsing connection_url: invalid escape in the user information")
                }
                return decoded.isEmpty ? nil : decoded
            }
            username = try value(parts[0], template: "{{username}}", stored: storedUsername)
            password = parts.count > 1 ? try value(parts[1], template: "{{password}}", stored: storedPassword) : nil
            let literal = (parts[0] != "{{username}}" && !parts[0].isEmpty) || (parts.count > 1 && parts[1] != "{{password}}" && !parts[1].isEmpty)
            if literal && (!storedUsername.isEmpty || !storedPassword.isEmpty) { throw conflict }
        }
        if username == nil, !storedUsername.isEmpty { username = storedUsername }
        if password == nil, !storedPassword.isEmpty { password = storedPassword }
        // host, [v6]:port, host:port
        var portText = ""
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else {
                throw PluginError(.invalidConfiguration, "error parsing connection_url: missing ']' in host")
            }
            host = String(rest[rest.index(after: rest.startIndex)..<close])
            let after = rest[rest.index(after: close)...]
            if after.hasPrefix(":") { portText = String(after.dropFirst()) }
        } else if let colon = rest.lastIndex(of: ":") {
            host = String(rest[..<colon])
            portText = String(rest[rest.index(after: colon)...])
        } else {
            host = String(rest)
        }
        if portText.isEmpty {
            port = 6379
        } else {
            guard let number = Int(portText) else {
                throw PluginError(.invalidConfiguration, "error parsing connection_url: invalid port \"\(portText)\"")
            }
            port = number
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
    /// Bounds connecting, TLS and logging in.
    var connectTimeout: TimeInterval
    /// Bounds each command's round trip (`statement_timeout`).
    var commandTimeout: TimeInterval
    /// Nil without `tls=true`.
    var tls: TLSConfiguration?

    static let defaultConnectTimeout: TimeInterval = 5
    static let defaultCommandTimeout: TimeInterval = ConnectionConfig.defaultStatementTimeout

    /// - Parameter acceptsConnectionURL: OpenBao's `valkey-database-plugin` also takes the server
    ///   as `connection_url` (`valkey://user:pass@host:port`, `valkeys://` for TLS).
    init(_ raw: [String: JSONValue], acceptsConnectionURL: Bool = false) throws(PluginError) {
        let config = ConnectionConfig(raw)
        do {
            let url = acceptsConnectionURL ? config.string("connection_url", default: "") : ""
            let fromURL = url.isEmpty ? nil : try ServerURL(url, config: config)
            host = fromURL?.host ?? config.string("host", default: "")
            guard !host.isEmpty else { throw PluginError(.invalidConfiguration, "host cannot be empty") }
            port = try fromURL?.port ?? config.int("port", default: 0)
            guard port != 0 else { throw PluginError(.invalidConfiguration, "port cannot be empty") }
            guard (1...65535).contains(port) else {
                throw PluginError(.invalidConfiguration, "port must be between 1 and 65535, not \(port)")
            }
            username = fromURL?.username ?? config.string("username", default: "")
            guard !username.isEmpty else { throw PluginError(.invalidConfiguration, "username cannot be empty") }
            password = fromURL?.password ?? config.string("password", default: "")
            guard !password.isEmpty else { throw PluginError(.invalidConfiguration, "password cannot be empty") }

            tls = try Self.tls(config, host: host, forced: fromURL?.isTLS == true)

            let mode = config.string("persistence_mode", default: "").trimmingWhitespace()
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
            commandTimeout = try config.statementTimeout()
        } catch let error as PluginError {
            throw error
        } catch {
            throw PluginError(.invalidConfiguration, "\(error)")
        }
    }

    /// Vault's `tls`, `insecure_tls` and `ca_cert`, and client certificates (`tls_certificate`,
    /// `private_key`: mutual TLS, which Vault's plugin lacks). The server's certificate is checked
    /// against `ca_cert`, or the system's store when it is empty (Vault refuses an empty `ca_cert`),
    /// and must name `host`; `insecure_tls=true` checks nothing. The TLS fields without `tls=true`
    /// are an error rather than ignored.
    private static func tls(_ config: ConnectionConfig, host: String, forced: Bool = false) throws -> TLSConfiguration? {
        let insecure = try config.bool("insecure_tls", default: false)
        let field = { (key: String) in config.string(key).flatMap { $0.isEmpty ? nil : $0 } }
        let (ca, certificate, key) = (field("ca_cert"), field("tls_certificate"), field("private_key"))
        guard try forced || config.bool("tls", default: false) else {
            if let key = [ca.map { _ in "ca_cert" }, certificate.map { _ in "tls_certificate" },
                          key.map { _ in "private_key" }].compactMap({ $0 }).first {
                throw PluginError(.invalidConfiguration, "\(key) is set but tls is not: set tls=true to connect over TLS")
            }
            return nil
        }
        guard (certificate == nil) == (key == nil) else {
            throw PluginError(.invalidConfiguration, "tls_certificate and private_key must be given together")
        }
        let tls = TLSConfiguration(verification: insecure ? .none : .chainAndHost,
                                   trustRoots: ca.map { .pem(Array($0.utf8)) } ?? .system,
                                   clientCertificate: certificate.map { Array($0.utf8) }, clientKey: key.map { Array($0.utf8) },
                                   serverName: host)
        do throws(TLSError) {
            try TLSStream.check(tls)
        } catch {
            throw PluginError(error.kind == .unavailable ? .unsupported : .invalidConfiguration, error.message)
        }
        return tls
    }
}
