import DBPlugin

/// Why a TLS session could not be set up. The message is a plain reason that names the server
/// and, for certificate problems, what was wrong ("certificate signed by unknown authority",
/// "certificate is valid for db.internal, not 127.0.0.1"); never key material or a password.
public struct TLSError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// A CA, certificate or key given in the configuration is unusable (bad PEM, mismatch).
        case configuration
        /// This build or machine has no TLS (not Linux, or libssl3 missing).
        case unavailable
        /// The server's certificate failed verification.
        case verification
        /// The handshake failed for another reason (not TLS, no common protocol, alert, …).
        case handshake
        /// The connection under TLS failed, timed out or was stopped during the handshake.
        case transport
    }

    public var kind: Kind
    public var message: String
    /// For `.transport`: the socket failure, so clients can word timeouts their own way.
    public var socketError: SocketError?

    public init(_ kind: Kind, _ message: String, socketError: SocketError? = nil) {
        self.kind = kind
        self.message = message
        self.socketError = socketError
    }

    public var description: String { message }

    /// What every TLS entry point says in a build without the system's OpenSSL.
    static let unavailableHere = TLSError(.unavailable, "TLS is only available in the Linux build of dbsecrets (it uses the system's OpenSSL 3)")
}
