import Basics
/// What the client agrees to when a server asks it to authenticate: every "the server asked for
/// X" is decided here, once.
///
/// - `require_auth` (libpq 16): the methods the server may use, e.g. `scram-sha-256` or
///   `password,md5`, or all but some (`!password,!md5`); `none` admits servers that ask nothing.
///   Unset, every method is allowed.
/// - `password_authentication=scram-sha-256` (Vault's field) also allows SCRAM-SHA-256 only.
/// - The password in clear text (`password`) or as MD5 (`md5`) never goes over a connection
///   without TLS unless `require_auth` names that method: a server that someone else started on
///   the port would otherwise receive the root password (or a hash good for an offline attack).
/// - SCRAM is complete only when the server's final message arrived and its signature checked:
///   an AuthenticationOk before that is refused (a server that does not know the password).
/// - `channel_binding`: `prefer` (default) uses SCRAM-SHA-256-PLUS with `tls-server-end-point`
///   when the session has TLS and the server offers it; `require` refuses anything else;
///   `disable` never binds.
public struct PostgresAuthenticationPolicy: Sendable, Equatable {
    public enum Method: String, Sendable, CaseIterable {
        case password
        case md5
        case scramSHA256 = "scram-sha-256"
        case gss, sspi
        case none
    }

    public enum ChannelBinding: String, Sendable {
        case disable, prefer, require
    }

    /// Methods the server may use.
    public private(set) var allowed: Set<Method>
    /// Methods `require_auth` names outright: consent to password and MD5 without TLS.
    public private(set) var named: Set<Method>
    public var channelBinding: ChannelBinding
    /// Where the limits come from, for messages.
    private var source: String

    public static let permissive = try! PostgresAuthenticationPolicy(requireAuth: nil, scramOnly: false, channelBinding: "prefer")

    public init(requireAuth: String?, scramOnly: Bool, channelBinding: String) throws {
        allowed = Set(Method.allCases)
        named = []
        source = ""
        if let requireAuth {
            let entries = requireAuth.split(separator: ",").map { $0.trimmingWhitespace() }
            let negated = entries.filter { $0.hasPrefix("!") }
            guard !entries.isEmpty, negated.isEmpty || negated.count == entries.count else {
                throw PostgresClientError.configuration("invalid require_auth: negative and positive methods cannot be mixed")
            }
            var methods: Set<Method> = []
            for entry in entries {
                guard let method = Method(rawValue: String(entry.drop { $0 == "!" })) else {
                    throw PostgresClientError.configuration(
                        "invalid require_auth method \"\(entry)\": expected password, md5, scram-sha-256, gss, sspi or none")
                }
                methods.insert(method)
            }
            if negated.isEmpty {
                allowed = methods
                named = methods
            } else {
                allowed.subtract(methods)
            }
            source = "require_auth=\(requireAuth)"
        }
        if scramOnly {
            allowed.formIntersection([.scramSHA256])
            source = source.isEmpty ? "password_authentication=scram-sha-256" : source + " and password_authentication=scram-sha-256"
        }
        guard allowed.contains(.scramSHA256) || channelBinding != "require" else {
            throw PostgresClientError.configuration("channel_binding=require needs SCRAM-SHA-256, which require_auth excludes")
        }
        guard let binding = ChannelBinding(rawValue: channelBinding) else {
            throw PostgresClientError.configuration("invalid channel_binding: expected disable, prefer or require")
        }
        self.channelBinding = binding
    }

    /// Throws unless the password may be sent as `method` (`.password` or `.md5`) now.
    func checkPasswordRequest(_ method: Method, encrypted: Bool, server: String) throws {
        let what = method == .password ? "the password in clear text" : "an MD5 password hash"
        guard allowed.contains(method) else {
            throw PostgresClientError.authentication(
                "server at \(server) asked for \(what); refused: \(source) allows \(allowedList)")
        }
        if channelBinding == .require {
            throw PostgresClientError.authentication(
                "server at \(server) asked for \(what); refused: channel_binding=require needs SCRAM-SHA-256-PLUS")
        }
        guard encrypted || named.contains(method) else {
            throw PostgresClientError.authentication(
                "server at \(server) asked for \(what) over a connection without TLS; refused (use TLS, e.g. "
                    + "sslmode=require, or allow it with require_auth=\(method.rawValue))")
        }
    }

    /// The SASL mechanism to answer with, given what the server offers and whether the session has
    /// TLS whose certificate hash is known.
    func chooseSASL(offered: [String], tlsEndPoint: [UInt8]?, encrypted: Bool, server: String) throws -> SCRAMAuthenticator.Binding {
        guard allowed.contains(.scramSHA256) else {
            throw PostgresClientError.authentication(
                "server at \(server) asked for SASL (SCRAM-SHA-256); refused: \(source) allows \(allowedList)")
        }
        let plusOffered = offered.contains(SCRAMAuthenticator.mechanismPlus)
        if channelBinding != .disable, encrypted, plusOffered, let tlsEndPoint {
            return .serverEndPoint(tlsEndPoint)
        }
        if channelBinding == .require {
            let why = !encrypted ? "the connection has no TLS"
                : plusOffered ? "the server certificate's hash is not defined for channel binding"
                : "the server does not offer SCRAM-SHA-256-PLUS"
            throw PostgresClientError.authentication("channel binding is required (channel_binding=require), but \(why) (server at \(server))")
        }
        guard offered.contains(SCRAMAuthenticator.mechanism) else {
            throw PostgresClientError.authentication(
                "server at \(server) offers SASL mechanisms \(offered.joined(separator: ", ")), "
                    + "none of which is supported (SCRAM-SHA-256 and SCRAM-SHA-256-PLUS are)")
        }
        // "y": this client could bind but thinks the server cannot, so a server that stripped
        // SCRAM-SHA-256-PLUS from the list is caught by the real server.
        return channelBinding != .disable && encrypted ? .supportedButNotUsed : .notSupported
    }

    /// Called at AuthenticationOk: the exchange the server went through must be one we accept.
    func checkCompleted(method: Method?, scramVerified: Bool, channelBound: Bool, server: String) throws {
        switch method {
        case nil:
            guard allowed.contains(.none) else {
                throw PostgresClientError.authentication(
                    "server at \(server) accepted the login without authentication; refused: \(source) allows \(allowedList)")
            }
            if channelBinding == .require {
                throw PostgresClientError.authentication(
                    "server at \(server) accepted the login without authentication; refused: channel_binding=require")
            }
        case .scramSHA256?:
            guard scramVerified else {
                throw PostgresClientError.authentication(
                    "server at \(server) ended SCRAM-SHA-256 without its final message, so it did not prove it knows the password; refused")
            }
            if channelBinding == .require && !channelBound {
                throw PostgresClientError.authentication("channel binding is required, but the server did not use it (server at \(server))")
            }
        default:
            break
        }
    }

    private var allowedList: String {
        Method.allCases.filter(allowed.contains).map(\.rawValue).joined(separator: ", ")
    }
}
