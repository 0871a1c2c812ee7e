import Basics
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Where and how to connect, read from a `connection_url` in URL form
/// (`postgresql://user:pass@host:5432/db?sslmode=disable`, also `postgres://`) or key=value form
/// (`host=h port=5432 user=u password=p dbname=db`), as pgx reads them.
///
/// Parse errors never repeat the input: it holds the host and, usually, the password.
public struct PostgresConnectionURL: Sendable, Equatable {
    public var host = "localhost"
    public var port = 5432
    public var user = ""
    public var password = ""
    public var database = ""
    /// libpq's `sslmode`: disable, allow, prefer (the default), require, verify-ca, verify-full.
    public var sslMode = "prefer"
    /// A CA file, or `system` for the system's trust store.
    public var sslRootCert: String?
    /// Client certificate and key files, and the password of an encrypted key.
    public var sslCert: String?
    public var sslKey: String?
    public var sslPassword: String?
    /// Send the host name as SNI (libpq's `sslsni`, default on; never for an IP literal).
    public var sslSNI = true
    /// `postgres` (SSLRequest first, the default) or `direct` (TLS at once, PostgreSQL 17).
    public var sslNegotiation = "postgres"
    /// libpq's `require_auth`: the authentication methods the server may ask for.
    public var requireAuth: String?
    /// libpq's `channel_binding`: disable, prefer (the default), require.
    public var channelBinding = "prefer"
    public var connectTimeout: TimeInterval = 5
    /// Unrecognized parameters, sent to the server at startup as pgx does (e.g. `search_path`).
    public var runtimeParameters: [String: String] = [:]

    public static let defaultConnectTimeout: TimeInterval = 5

    /// Vault's `{{username}}`/`{{password}}` substitution, path-escaped like Go's url.PathEscape
    /// unless escaping is disabled.
    public static func substitute(_ template: String, username: String, password: String,
                                  disableEscaping: Bool) -> String {
        let user = disableEscaping ? username : pathEscape(username)
        let pass = disableEscaping ? password : pathEscape(password)
        return template.replacingEvery("{{username}}", with: user)
            .replacingEvery("{{password}}", with: pass)
    }

    /// Go's url.PathEscape: everything but unreserved characters and `$&+:=@` becomes %XX.
    public static func pathEscape(_ s: String) -> String {
        var out = ""
        for byte in s.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            case _ where "-_.~$&+:=@".utf8.contains(byte):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                out += cFormat("%%%02X", byte)
            }
        }
        return out
    }

    public init() {}

    public init(parsing text: String) throws {
        let trimmed = text.trimmingWhitespaceAndNewlines()
        let lower = trimmed.lowercased()
        if lower.hasPrefix("postgresql://") || lower.hasPrefix("postgres://") {
            try parseURL(trimmed)
        } else if trimmed.contains("=") {
            try parseKeyValues(trimmed)
        } else {
            throw Self.unparsable("expected postgresql://… or key=value pairs")
        }
        try validate()
    }

    /// What the client needs to connect: TLS (with the plugin's inline PEM fields, which force it),
    /// the authentication policy, and the statement timeout the plugin uses.
    public func configuration(inlineTLS: PostgresTransportSecurity.InlineFields = .init(),
                              passwordAuthenticationSCRAM: Bool = false,
                              statementTimeout: TimeInterval = PostgresConnection.defaultStatementTimeout) throws -> PostgresConnection.Configuration {
        PostgresConnection.Configuration(
            host: host, port: port, user: user, password: password, database: database,
            connectTimeout: connectTimeout, queryTimeout: statementTimeout,
            runtimeParameters: runtimeParameters.sorted { $0.key < $1.key }.map { ($0.key, $0.value) },
            security: try PostgresTransportSecurity(self, inline: inlineTLS),
            authentication: try PostgresAuthenticationPolicy(requireAuth: requireAuth,
                                                             scramOnly: passwordAuthenticationSCRAM,
                                                             channelBinding: channelBinding))
    }

    // MARK: URL form

    private mutating func parseURL(_ text: String) throws {
        var rest = Substring(text[text.firstRange(of: "://")!.upperBound...])
        if let hash = rest.firstIndex(of: "#") { rest = rest[..<hash] }
        var query: Substring = ""
        if let mark = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: mark)...]
            rest = rest[..<mark]
        }
        var authority = rest
        var path: Substring = ""
        if let slash = rest.firstIndex(of: "/") {
            authority = rest[..<slash]
            path = rest[rest.index(after: slash)...]
        }
        var hostPort = authority
        // Like Go's url.Parse: the user information ends at the last "@", the user name at the first ":".
        if let at = authority.lastIndex(of: "@") {
            let userInfo = authority[..<at]
            hostPort = authority[authority.index(after: at)...]
            let allowed = Set("-._:~!$&'()*+,;=%@".utf8)
            guard userInfo.utf8.allSatisfy({ Self.isAlphanumeric($0) || allowed.contains($0) }) else {
                throw Self.unparsable("invalid character in user information")
            }
            if let colon = userInfo.firstIndex(of: ":") {
                user = try Self.percentDecode(userInfo[..<colon], what: "user name")
                password = try Self.percentDecode(userInfo[userInfo.index(after: colon)...], what: "password")
            } else {
                user = try Self.percentDecode(userInfo, what: "user name")
            }
        }
        try parseHostPort(hostPort)
        if !path.isEmpty { database = try Self.percentDecode(path, what: "database name") }
        for pair in query.split(separator: "&") where !pair.isEmpty {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = try Self.percentDecode(parts[0], what: "query", plusIsSpace: true)
            let value = parts.count > 1 ? try Self.percentDecode(parts[1], what: "query", plusIsSpace: true) : ""
            try set(key, value)
        }
    }

    private mutating func parseHostPort(_ text: Substring) throws {
        guard !text.contains(",") else {
            throw PostgresClientError.configuration("connection_url lists several hosts; only one is supported")
        }
        var hostPart = text
        var portPart: Substring?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw Self.unparsable("missing ']' in host") }
            hostPart = text[text.index(after: text.startIndex)..<close]
            let after = text[text.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw Self.unparsable("invalid port") }
                portPart = after.dropFirst()
            }
        } else if let colon = text.lastIndex(of: ":") {
            hostPart = text[..<colon]
            portPart = text[text.index(after: colon)...]
        }
        let hostAllowed = Set("-._~!$&'()*+;=%".utf8)
        guard hostPart.utf8.allSatisfy({ Self.isAlphanumeric($0) || hostAllowed.contains($0)
                                         || (text.hasPrefix("[") && $0 == UInt8(ascii: ":")) }) else {
            throw Self.unparsable("invalid character in host")
        }
        if !hostPart.isEmpty { host = try Self.percentDecode(hostPart, what: "host") }
        if let portPart, !portPart.isEmpty { try setPort(String(portPart)) }
    }

    // MARK: key=value form

    private mutating func parseKeyValues(_ text: String) throws {
        let chars = Array(text)
        var i = 0
        func skipSpaces() { while i < chars.count, chars[i].isWhitespace { i += 1 } }
        while true {
            skipSpaces()
            if i >= chars.count { break }
            var key = ""
            while i < chars.count, chars[i] != "=", !chars[i].isWhitespace { key.append(chars[i]); i += 1 }
            skipSpaces()
            guard i < chars.count, chars[i] == "=", !key.isEmpty else {
                throw Self.unparsable("expected key=value pairs")
            }
            i += 1
            skipSpaces()
            var value = ""
            if i < chars.count, chars[i] == "'" {
                i += 1
                var closed = false
                while i < chars.count {
                    if chars[i] == "\\", i + 1 < chars.count { value.append(chars[i + 1]); i += 2; continue }
                    if chars[i] == "'" { closed = true; i += 1; break }
                    value.append(chars[i]); i += 1
                }
                guard closed else { throw Self.unparsable("unterminated quoted value") }
            } else {
                while i < chars.count, !chars[i].isWhitespace {
                    if chars[i] == "\\", i + 1 < chars.count { value.append(chars[i + 1]); i += 2; continue }
                    value.append(chars[i]); i += 1
                }
            }
            try set(key, value)
        }
    }

    // MARK: parameters

    private mutating func set(_ key: String, _ value: String) throws {
        switch key {
        case "host":
            guard !value.contains(",") else {
                throw PostgresClientError.configuration("connection_url lists several hosts; only one is supported")
            }
            host = value
        case "port": try setPort(value)
        case "user": user = value
        case "password": password = value
        case "dbname", "database": database = value
        case "sslmode": sslMode = value
        case "sslrootcert": sslRootCert = value.isEmpty ? nil : value
        case "sslcert": sslCert = value.isEmpty ? nil : value
        case "sslkey": sslKey = value.isEmpty ? nil : value
        case "sslpassword": sslPassword = value.isEmpty ? nil : value
        case "sslsni":
            guard value == "0" || value == "1" else {
                throw PostgresClientError.configuration("invalid sslsni: expected 0 or 1")
            }
            sslSNI = value == "1"
        case "sslnegotiation": sslNegotiation = value
        case "require_auth": requireAuth = value.isEmpty ? nil : value
        case "channel_binding": channelBinding = value
        case "connect_timeout":
            let seconds = value.hasSuffix("s") ? String(value.dropLast()) : value
            guard let timeout = TimeInterval(seconds), timeout.isFinite else {
                throw PostgresClientError.configuration("invalid connect_timeout: expected a number of seconds")
            }
            // libpq reads 0 as "wait forever"; a command-line tool must never hang, so 0 means the default.
            connectTimeout = timeout > 0 ? timeout : Self.defaultConnectTimeout
        case "sslcrl", "sslcrldir", "target_session_attrs", "passfile", "service", "statement_cache_capacity",
             "default_query_exec_mode":
            break // Client-side options of libpq and pgx that do not apply to a single connection.
        default:
            runtimeParameters[key] = value
        }
    }

    private mutating func setPort(_ text: String) throws {
        guard let value = Int(text), (1...65535).contains(value) else {
            throw Self.unparsable("invalid port")
        }
        port = value
    }

    private func validate() throws {
        guard ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"].contains(sslMode) else {
            throw PostgresClientError.configuration(
                "invalid sslmode: expected disable, allow, prefer, require, verify-ca or verify-full")
        }
        guard ["postgres", "direct"].contains(sslNegotiation) else {
            throw PostgresClientError.configuration("invalid sslnegotiation: expected postgres or direct")
        }
        guard ["disable", "prefer", "require"].contains(channelBinding) else {
            throw PostgresClientError.configuration("invalid channel_binding: expected disable, prefer or require")
        }
        guard !user.isEmpty else {
            throw PostgresClientError.configuration("connection_url has no user name")
        }
    }

    private static func unparsable(_ reason: String) -> PostgresClientError {
        .configuration("unable to parse connection url: \(reason)")
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    private static func percentDecode(_ text: Substring, what: String, plusIsSpace: Bool = false) throws -> String {
        var bytes: [UInt8] = []
        var utf8 = Array(text.utf8)[...]
        while let byte = utf8.popFirst() {
            if byte == UInt8(ascii: "%") {
                guard utf8.count >= 2, let value = UInt8(String(decoding: utf8.prefix(2), as: UTF8.self), radix: 16) else {
                    throw unparsable("invalid escape in \(what)")
                }
                bytes.append(value)
                utf8 = utf8.dropFirst(2)
            } else if plusIsSpace && byte == UInt8(ascii: "+") {
                bytes.append(UInt8(ascii: " "))
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
