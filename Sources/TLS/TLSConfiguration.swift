#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// What a client asks of one TLS session: how far to trust the server, which roots to trust, the
/// client certificate to present, and the names to send and check.
public struct TLSConfiguration: Sendable, Equatable {
    public enum Verification: Sendable, Equatable {
        /// Encrypt, but accept any certificate (libpq's `require`, go-sql-driver's `skip-verify`).
        case none
        /// The chain must lead to a trusted root; any host name (libpq's `verify-ca`).
        case chain
        /// The chain, and the certificate must name `serverName` (SAN DNS or IP; the subject's
        /// CN only when there is no SAN) — libpq's `verify-full`, Go's default.
        case chainAndHost
    }

    public enum TrustRoots: Sendable, Equatable {
        /// The system's store (Debian: /etc/ssl/certs, from ca-certificates).
        case system
        /// One or more PEM certificates.
        case pem([UInt8])
    }

    public var verification: Verification
    public var trustRoots: TrustRoots
    /// PEM: the client certificate, optionally followed by its intermediates.
    public var clientCertificate: [UInt8]?
    /// PEM: the client's private key (may be the same text as the certificate, as MySQL's
    /// `tls_certificate_key` is). Encrypted keys need `keyPassword`.
    public var clientKey: [UInt8]?
    public var keyPassword: String?
    /// The name checked under `.chainAndHost` and sent as SNI: the host connected to, or an
    /// override (MySQL's `tls_server_name`).
    public var serverName: String
    /// Send SNI (never for an IP literal, which TLS does not allow there).
    public var sendsServerName: Bool
    /// ALPN protocols offered, in order (PostgreSQL's direct negotiation requires "postgresql").
    public var alpnProtocols: [String]

    public init(verification: Verification, trustRoots: TrustRoots = .system, clientCertificate: [UInt8]? = nil,
                clientKey: [UInt8]? = nil, keyPassword: String? = nil, serverName: String,
                sendsServerName: Bool = true, alpnProtocols: [String] = []) {
        self.verification = verification
        self.trustRoots = trustRoots
        self.clientCertificate = clientCertificate
        self.clientKey = clientKey
        self.keyPassword = keyPassword
        self.serverName = serverName
        self.sendsServerName = sendsServerName
        self.alpnProtocols = alpnProtocols
    }

    /// Whether `host` is an IPv4 or IPv6 literal (checked against IP SANs, never sent as SNI).
    public static func isIPAddress(_ host: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }
}
