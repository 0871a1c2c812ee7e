import Basics
import DBPlugin
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A go-sql-driver data source name, the form Vault's `connection_url` takes:
/// `[user[:password]@][tcp(host:port)|unix(/path)]/[dbname][?param=value&…]`.
public struct MySQLDSN: Sendable, Equatable {
    public var username: String
    public var password: String
    public var address: MySQLAddress
    public var database: String
    public var connectTimeout: Double = 10
    public var readTimeout: Double = 30
    public var writeTimeout: Double = 30
    /// go-sql-driver's `tls=`: `true`, `false` (the default), `skip-verify`, `preferred`, or the
    /// name of a registered configuration (`custom`, which only Vault's TLS fields register).
    public var tls: TLSMode = .disabled
    /// `allowPublicKeyRetrieval=true` (the name MySQL's own clients use; go-sql-driver has no such
    /// parameter and always fetches): without TLS and without `server_public_key`, the server's RSA
    /// key may be fetched over the clear connection for caching_sha2_password and sha256_password.
    /// Off by default, since a man in the middle could hand over its own key.
    public var allowPublicKeyRetrieval = false
    /// Parameters neither go-sql-driver nor this client knows are session variables set after
    /// login, as go-sql-driver does (`SET name=value`). Parameters of the client itself never are.
    public var sessionVariables: [(String, String)] = []

    public static func == (a: MySQLDSN, b: MySQLDSN) -> Bool {
        a.username == b.username && a.password == b.password && a.address == b.address && a.database == b.database
            && a.connectTimeout == b.connectTimeout && a.readTimeout == b.readTimeout
            && a.writeTimeout == b.writeTimeout && a.tls == b.tls && a.allowPublicKeyRetrieval == b.allowPublicKeyRetrieval
            && a.sessionVariables.elementsEqual(b.sessionVariables, by: ==)
    }

    public enum TLSMode: Sendable, Equatable {
        case disabled
        /// `true`: TLS, the chain checked against the system store and the host name.
        case verified
        case skipVerify
        /// TLS if the server offers it, unverified; clear text otherwise.
        case preferred
        /// A registered name: only valid when Vault's `tls_ca`/`tls_certificate_key` define it.
        case named(String)
    }

    /// go-sql-driver's parameters that change nothing for this client (it always reads text, speaks
    /// utf8mb4 and never compresses). Like every parameter of the driver, they are never sent as
    /// session variables.
    private static let acceptedParameters: Set<String> = [
        "charset", "collation", "parseTime", "loc", "allowNativePasswords", "allowOldPasswords",
        "allowCleartextPasswords", "allowAllFiles", "clientFoundRows", "columnsWithAlias", "interpolateParams",
        "maxAllowedPacket", "multiStatements", "rejectReadOnly", "checkConnLiveness", "allowFallbackToPlaintext",
        "strict", "timeTruncate", "connectionAttributes", "compress",
    ]

    /// Parses the DSN. Error texts never repeat the DSN, which may hold a password.
    public init(parsing dsn: String) throws {
        guard let slash = dsn.lastIndex(of: "/") else {
            throw PluginError(.invalidConfiguration,
                              "unable to parse connection_url: invalid DSN: missing the slash separating the database name")
        }
        let left = dsn[..<slash]
        let right = dsn[dsn.index(after: slash)...]

        var username = ""
        var password = ""
        var location = Substring(left)
        if let at = left.lastIndex(of: "@") {
            let userinfo = left[..<at]
            if let colon = userinfo.firstIndex(of: ":") {
                username = String(userinfo[..<colon])
                password = String(userinfo[userinfo.index(after: colon)...])
            } else {
                username = String(userinfo)
            }
            location = left[left.index(after: at)...]
        }

        var network = String(location)
        var addressText = ""
        if let open = location.firstIndex(of: "(") {
            guard location.last == ")" else {
                throw PluginError(.invalidConfiguration,
                                  "unable to parse connection_url: invalid DSN: network address not terminated (missing closing brace)")
            }
            network = String(location[..<open])
            addressText = String(location[location.index(after: open)..<location.index(before: location.endIndex)])
        }
        if network.isEmpty { network = "tcp" }
        switch network {
        case "tcp", "tcp4", "tcp6":
            address = try Self.tcpAddress(addressText.isEmpty ? "127.0.0.1:3306" : addressText)
        case "unix":
            address = .unix(path: addressText.isEmpty ? "/tmp/mysql.sock" : addressText)
        default:
            throw PluginError(.invalidConfiguration, "unable to parse connection_url: unknown network \"\(network)\" "
                + "(use tcp(host:port) or unix(/path/to/socket))")
        }

        self.username = username
        self.password = password
        if let question = right.firstIndex(of: "?") {
            database = String(right[..<question])
            try applyParameters(String(right[right.index(after: question)...]))
        } else {
            database = String(right)
        }
    }

    private static func tcpAddress(_ text: String) throws -> MySQLAddress {
        var host = text
        var port = 3306
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            host = String(text[text.index(after: text.startIndex)..<close])
            let after = text[text.index(after: close)...]
            if after.hasPrefix(":") {
                guard let p = Int(after.dropFirst()), (1...65535).contains(p) else { throw badPort() }
                port = p
            }
        } else if let colon = text.lastIndex(of: ":") {
            host = String(text[..<colon])
            guard let p = Int(text[text.index(after: colon)...]), (1...65535).contains(p) else { throw badPort() }
            port = p
        }
        if host.isEmpty { host = "127.0.0.1" }
        return .tcp(host: host, port: port)
    }

    private static func badPort() -> PluginError {
        PluginError(.invalidConfiguration, "unable to parse connection_url: invalid port in the network address")
    }

    private mutating func applyParameters(_ query: String) throws {
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = String(parts[0])
            let value = parts.count > 1 ? (PercentEncoding.decoded(parts[1]) ?? String(parts[1])) : ""
            switch key {
            // Zero means "no timeout" to go-sql-driver; here it keeps the bounded default.
            case "timeout": connectTimeout = try Self.duration(value, key) ?? connectTimeout
            case "readTimeout": readTimeout = try Self.duration(value, key) ?? readTimeout
            case "writeTimeout": writeTimeout = try Self.duration(value, key) ?? writeTimeout
            case "tls":
                switch value {
                case "false", "0", "f", "F", "FALSE", "False", "": tls = .disabled
                case "true", "1", "t", "T", "TRUE", "True": tls = .verified
                case "skip-verify": tls = .skipVerify
                case "preferred": tls = .preferred
                default: tls = .named(value)
                }
            case "allowPublicKeyRetrieval":
                guard let allowed = Self.bool(value) else {
                    throw PluginError(.invalidConfiguration,
                                      "unable to parse connection_url: invalid bool value for allowPublicKeyRetrieval: \"\(value)\"")
                }
                allowPublicKeyRetrieval = allowed
            case "serverPubKey":
                // go-sql-driver's name of a key registered in Go code, which Vault never registers.
                throw PluginError(.invalidConfiguration, "unable to parse connection_url: invalid value / unknown server pub key "
                    + "name: \(value) (the server's RSA public key is given as PEM in the server_public_key field)")
            default:
                if Self.acceptedParameters.contains(key) { continue }
                guard key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }), !key.isEmpty else {
                    throw PluginError(.invalidConfiguration,
                                      "unable to parse connection_url: invalid parameter name \"\(key)\"")
                }
                sessionVariables.append((key, value))
            }
        }
    }

    /// go-sql-driver's `readBool`.
    private static func bool(_ text: String) -> Bool? {
        switch text {
        case "1", "true", "TRUE", "True": return true
        case "0", "false", "FALSE", "False": return false
        default: return nil
        }
    }

    /// A Go duration (`5s`, `500ms`, `1m30s`); nil for zero.
    private static func duration(_ text: String, _ key: String) throws -> Double? {
        guard let seconds = try? GoDuration.seconds(text), seconds >= 0 else {
            throw PluginError(.invalidConfiguration, "unable to parse connection_url: invalid duration for \(key): \"\(text)\"")
        }
        return seconds > 0 ? seconds : nil
    }
}
