#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import TLS

/// Whether and how a PostgreSQL connection uses TLS, read from libpq's parameters and Vault's
/// inline PEM fields, as libpq and pgx read them:
///
/// | sslmode | TLS | verification |
/// |---|---|---|
/// | disable | never | — |
/// | allow | only if the server refuses a plain login | none |
/// | prefer (default) | asked first; plain only when the server answers "N" | none |
/// | require | always | none; the chain when `sslrootcert` is given (libpq's rule) |
/// | verify-ca | always | the chain |
/// | verify-full | always | the chain and the host name |
///
/// Vault's `tls_ca`, `tls_certificate` and `private_key` force TLS whatever `sslmode` says; a
/// `tls_ca` also means the chain is verified against it (as `sslrootcert` does under `require`).
/// Unix-domain sockets never use TLS, as in libpq.
public struct PostgresTransportSecurity: Sendable, Equatable {
    public enum Mode: Sendable, Equatable {
        case disable, allow, prefer, require
    }

    /// Vault 1.18's PEM fields of the connection (not part of the URL).
    public struct InlineFields: Sendable, Equatable {
        public var ca: String?
        public var certificate: String?
        public var privateKey: String?
        public init(ca: String? = nil, certificate: String? = nil, privateKey: String? = nil) {
            self.ca = ca.flatMap { $0.isEmpty ? nil : $0 }
            self.certificate = certificate.flatMap { $0.isEmpty ? nil : $0 }
            self.privateKey = privateKey.flatMap { $0.isEmpty ? nil : $0 }
        }
        var isEmpty: Bool { ca == nil && certificate == nil && privateKey == nil }
    }

    public var mode: Mode
    /// `sslnegotiation=direct`: the TLS handshake at once, with ALPN "postgresql" (PostgreSQL 17).
    public var direct: Bool
    /// What the TLS session verifies and presents; its server name is the host.
    public var tls: TLSConfiguration

    /// No TLS at all (`sslmode=disable`).
    public static func disabled(host: String) -> Self {
        Self(mode: .disable, direct: false, tls: TLSConfiguration(verification: .none, serverName: host))
    }

    /// `sslmode=prefer` without verification: libpq's default.
    public static func preferred(host: String) -> Self {
        Self(mode: .prefer, direct: false, tls: TLSConfiguration(verification: .none, serverName: host))
    }

    init(mode: Mode, direct: Bool, tls: TLSConfiguration) {
        self.mode = mode
        self.direct = direct
        self.tls = tls
    }

    init(_ url: PostgresConnectionURL, inline: InlineFields) throws {
        var verification: TLSConfiguration.Verification
        switch url.sslMode {
        case "disable": (mode, verification) = (.disable, .none)
        case "allow": (mode, verification) = (.allow, .none)
        case "prefer": (mode, verification) = (.prefer, .none)
        case "require": (mode, verification) = (.require, url.sslRootCert == nil ? .none : .chain)
        case "verify-ca": (mode, verification) = (.require, .chain)
        default: (mode, verification) = (.require, .chainAndHost)
        }
        if !inline.isEmpty {
            mode = .require
            if inline.ca != nil && verification == .none { verification = .chain }
        }

        var roots = TLSConfiguration.TrustRoots.system
        if let ca = inline.ca {
            roots = .pem(Array(ca.utf8))
        } else if let file = url.sslRootCert, file != "system" {
            roots = .pem(try Self.read(file, "sslrootcert"))
        }

        var certificate: [UInt8]?
        var key: [UInt8]?
        if inline.certificate != nil || inline.privateKey != nil {
            guard let pem = inline.certificate, let keyPEM = inline.privateKey else {
                throw PostgresClientError.configuration(#"both "sslcert" and "sslkey" are required (tls_certificate and private_key)"#)
            }
            certificate = Array(pem.utf8)
            key = Array(keyPEM.utf8)
        } else if url.sslCert != nil || url.sslKey != nil {
            guard let certFile = url.sslCert, let keyFile = url.sslKey else {
                throw PostgresClientError.configuration(#"both "sslcert" and "sslkey" are required"#)
            }
            certificate = try Self.read(certFile, "sslcert")
            key = try Self.read(keyFile, "sslkey")
        }

        direct = url.sslNegotiation == "direct"
        if direct && mode != .require {
            throw PostgresClientError.configuration(
                #"weak sslmode "\#(url.sslMode)" may not be used with sslnegotiation=direct (use "require", "verify-ca", or "verify-full")"#)
        }
        if url.host.hasPrefix("/") && !inline.isEmpty {
            throw PostgresClientError.configuration(
                "tls_ca, tls_certificate and private_key need a TCP connection: PostgreSQL never uses TLS over a Unix-domain socket")
        }
        tls = TLSConfiguration(verification: verification, trustRoots: roots, clientCertificate: certificate,
                               clientKey: key, keyPassword: url.sslPassword, serverName: url.host,
                               sendsServerName: url.sslSNI, alpnProtocols: direct ? ["postgresql"] : [])
    }

    /// Whether the client may carry on in clear text after the server said it has no TLS.
    var fallsBackToPlain: Bool { mode == .prefer }

    private static func read(_ path: String, _ parameter: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PostgresClientError.configuration("could not read \(parameter) file \"\(path)\"")
        }
        return Array(data)
    }
}
