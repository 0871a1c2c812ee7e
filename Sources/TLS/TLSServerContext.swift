import DBPlugin
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if os(Linux)
import COpenSSL
#endif

/// What a TLS server presents to every client: its certificate chain and private key, loaded and
/// checked once (a bad file fails the start, not the first client), on one OpenSSL context that
/// every connection's session shares. TLS 1.2 or later; no client certificate is asked for.
public final class TLSServerContext: @unchecked Sendable {
    #if os(Linux)
    let library: OpenSSLLibrary
    /// Immutable once loaded: OpenSSL allows SSL_new on it from several threads.
    let context: OpaquePointer
    #endif

    /// `certificatePEM` holds the server's certificate, then any intermediates; `keyPEM` its key.
    public init(certificatePEM: [UInt8], keyPEM: [UInt8], keyPassword: String? = nil) throws(TLSError) {
        #if os(Linux)
        let library = try OpenSSLLibrary.shared()
        library.ERR_clear_error()
        guard let context = library.SSL_CTX_new(library.TLS_server_method()) else {
            throw TLSError(.unavailable, "could not set up TLS: \(library.takeErrorReason() ?? "SSL_CTX_new failed")")
        }
        _ = library.SSL_CTX_ctrl(context, SSL_CTRL_SET_MIN_PROTO_VERSION, Int(TLS1_2_VERSION), nil)
        library.SSL_CTX_set_verify(context, SSL_VERIFY_NONE, nil)
        do throws(TLSError) {
            try Session.useCertificate(context, library, certificatePEM, keyPEM, password: keyPassword, whose: "server")
        } catch {
            library.SSL_CTX_free(context)
            throw error
        }
        self.library = library
        self.context = context
        #else
        throw TLSError.unavailableHere
        #endif
    }

    deinit {
        #if os(Linux)
        library.SSL_CTX_free(context)
        #endif
    }
}
