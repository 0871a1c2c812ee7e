import COpenSSL
import DBPlugin
import Foundation

/// Why TLS could not be set up or used: OpenSSL's reason, never bytes that were transferred.
struct TLSFailure: Error, Sendable, CustomStringConvertible {
    var reason: String
    var description: String { reason }
}

/// A TLS client session over a `BlockingSocket`, with OpenSSL working on memory buffers: OpenSSL
/// encrypts and decrypts, the socket moves the bytes under its deadlines, so no wait is unbounded.
///
/// The server is verified against the system's trust store, or only against `caFile` when one is
/// given (AWS_CA_BUNDLE replaces the default bundle, as in the AWS SDKs), and its certificate must
/// name the host (DNS name, or IP address for an IP literal). TLS 1.2 at least.
final class TLSClientStream {
    private let socket: BlockingSocket
    private let ssl: OpaquePointer
    /// What OpenSSL read from the network (we fill it) and what it wants sent (we drain it).
    private let incoming: OpaquePointer
    private let outgoing: OpaquePointer

    init(socket: BlockingSocket, host: String, caFile: String?, deadline: Date) throws {
        let context = try Self.context(caFile: caFile)
        guard let ssl = SSL_new(context), let incoming = BIO_new(BIO_s_mem()), let outgoing = BIO_new(BIO_s_mem()) else {
            throw TLSFailure(reason: "could not set up TLS: \(Self.openSSLError())")
        }
        SSL_set_bio(ssl, incoming, outgoing)
        self.socket = socket
        self.ssl = ssl
        self.incoming = incoming
        self.outgoing = outgoing

        if Self.isIPAddress(host) {
            guard X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host) == 1 else {
                throw TLSFailure(reason: "could not set up TLS: \(Self.openSSLError())")
            }
        } else {
            // SNI is for names only (RFC 6066), and the certificate must carry this name.
            guard dbsecrets_SSL_set_tlsext_host_name(ssl, host) == 1, SSL_set1_host(ssl, host) == 1 else {
                throw TLSFailure(reason: "could not set up TLS: \(Self.openSSLError())")
            }
        }
        SSL_set_connect_state(ssl)
        try handshake(deadline: deadline)
    }

    deinit {
        SSL_free(ssl) // frees both buffers with it
    }

    private func handshake(deadline: Date) throws {
        while true {
            ERR_clear_error()
            let rc = SSL_do_handshake(ssl)
            let error = SSL_get_error(ssl, rc)
            try flush(deadline: deadline)
            if rc == 1 { return }
            switch error {
            case SSL_ERROR_WANT_READ:
                do {
                    try receive(deadline: deadline)
                } catch let e as SocketError where e.kind == .closed {
                    throw TLSFailure(reason: "TLS handshake failed: the server closed the connection")
                }
            case SSL_ERROR_WANT_WRITE:
                continue
            default:
                let verify = SSL_get_verify_result(ssl)
                if verify != X509_V_OK {
                    let why = String(cString: X509_verify_cert_error_string(verify))
                    throw TLSFailure(reason: "TLS handshake failed: certificate verify failed (\(why))")
                }
                throw TLSFailure(reason: "TLS handshake failed: \(Self.openSSLError())")
            }
        }
    }

    func write(_ bytes: [UInt8], deadline: Date) throws {
        var offset = 0
        while offset < bytes.count {
            ERR_clear_error()
            let n = bytes[offset...].withUnsafeBytes { SSL_write(ssl, $0.baseAddress, Int32(clamping: $0.count)) }
            let error = SSL_get_error(ssl, n)
            try flush(deadline: deadline)
            if n > 0 {
                offset += Int(n)
                continue
            }
            switch error {
            case SSL_ERROR_WANT_READ: try receive(deadline: deadline)
            case SSL_ERROR_WANT_WRITE: continue
            default: throw TLSFailure(reason: "TLS write failed: \(Self.openSSLError())")
            }
        }
    }

    /// The next decrypted bytes; empty when the server ended the session (close_notify, or a
    /// plain TCP close, which HTTP servers commonly do after `Connection: close`).
    func readSome(deadline: Date) throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            ERR_clear_error()
            let n = buffer.withUnsafeMutableBytes { SSL_read(ssl, $0.baseAddress, Int32($0.count)) }
            if n > 0 { return Array(buffer[0..<Int(n)]) }
            let error = SSL_get_error(ssl, n)
            // TLS 1.3 may have to answer (a key update) while reading.
            try flush(deadline: deadline)
            switch error {
            case SSL_ERROR_WANT_READ:
                do {
                    try receive(deadline: deadline)
                } catch let e as SocketError where e.kind == .closed && e.byPeer {
                    return []
                }
            case SSL_ERROR_WANT_WRITE:
                continue
            case SSL_ERROR_ZERO_RETURN:
                return []
            default:
                throw TLSFailure(reason: "TLS read failed: \(Self.openSSLError())")
            }
        }
    }

    private func receive(deadline: Date) throws {
        let bytes = try socket.readSome(deadline: deadline)
        _ = bytes.withUnsafeBytes { BIO_write(incoming, $0.baseAddress, Int32($0.count)) }
    }

    private func flush(deadline: Date) throws {
        while dbsecrets_BIO_pending(outgoing) > 0 {
            var chunk = [UInt8](repeating: 0, count: Int(dbsecrets_BIO_pending(outgoing)))
            let n = chunk.withUnsafeMutableBytes { BIO_read(outgoing, $0.baseAddress, Int32($0.count)) }
            guard n > 0 else { return }
            try socket.write(Array(chunk[0..<Int(n)]), deadline: deadline)
        }
    }

    // MARK: Contexts

    /// One context per trust source, kept for the life of the process: loading the system bundle
    /// parses a hundred certificates, which every request would otherwise repeat.
    private nonisolated(unsafe) static var contexts: [String: OpaquePointer] = [:]
    private static let contextsLock = NSLock()

    private static func context(caFile: String?) throws -> OpaquePointer {
        contextsLock.lock()
        defer { contextsLock.unlock() }
        let key = caFile ?? ""
        if let existing = contexts[key] { return existing }
        guard let context = SSL_CTX_new(TLS_client_method()) else {
            throw TLSFailure(reason: "could not set up TLS: \(openSSLError())")
        }
        SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
        _ = dbsecrets_SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION)
        let loaded = caFile.map { SSL_CTX_load_verify_locations(context, $0, nil) } ?? SSL_CTX_set_default_verify_paths(context)
        guard loaded == 1 else {
            let why = openSSLError()
            SSL_CTX_free(context)
            throw TLSFailure(reason: caFile.map { "could not load the CA bundle \($0): \(why)" }
                ?? "could not load the system's trusted certificates: \(why)")
        }
        contexts[key] = context
        return context
    }

    private static func isIPAddress(_ host: String) -> Bool {
        var v4 = in_addr(), v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }

    /// OpenSSL's reason for the last failure ("wrong version number", "no certificate or crl found").
    private static func openSSLError() -> String {
        let code = ERR_get_error()
        ERR_clear_error()
        guard code != 0, let reason = ERR_reason_error_string(code) else { return "unknown error" }
        return String(cString: reason)
    }
}
