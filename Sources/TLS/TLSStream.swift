import DBPlugin
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if os(Linux)
import COpenSSL
import Glibc
#endif

/// A TLS client session over another `ByteStream` (a socket the client already connected, and on
/// which it may already have negotiated TLS in its protocol's way: PostgreSQL's SSLRequest,
/// MySQL's SSL request packet). It is a `ByteStream` itself, so the wire clients read and write
/// it as they would the socket.
///
/// OpenSSL works on two memory buffers, never on the descriptor: every byte in or out passes
/// through `transport`, so every wait keeps its deadline and stop checks, and nothing reaches
/// OpenSSL that the client did not read for it. Minimum TLS 1.2. Not thread-safe.
public final class TLSStream: ByteStream {
    /// "TLSv1.3", "TLSv1.2".
    public let protocolVersion: String
    /// OpenSSL's name of the cipher suite, e.g. "TLS_AES_256_GCM_SHA384".
    public let cipher: String
    /// The ALPN protocol the server chose, if any.
    public let negotiatedProtocol: String?
    /// RFC 5929 `tls-server-end-point`: the hash of the server's certificate with its signature's
    /// hash (SHA-256 for MD5 and SHA-1), for SCRAM-SHA-256-PLUS. Nil when the certificate's
    /// signature has no single hash (Ed25519), where channel binding is not defined.
    public let serverEndPoint: [UInt8]?

    private let transport: ByteStream
    #if os(Linux)
    private let library: OpenSSLLibrary
    private var session: Session?
    #endif

    public var address: String { transport.address }

    /// Performs the handshake within `deadline`. On failure the transport is closed.
    public static func handshake(over transport: ByteStream, _ configuration: TLSConfiguration,
                                 deadline: Date) throws(TLSError) -> TLSStream {
        #if os(Linux)
        try established(over: transport, deadline: deadline) { () throws(TLSError) in
            let library = try OpenSSLLibrary.shared()
            return (library, try Session(library, configuration, address: transport.address))
        }
        #else
        transport.close()
        throw TLSError.unavailableHere
        #endif
    }

    /// The server's side of the handshake, over a connection a `ListeningSocket` accepted, with
    /// the certificate and key of `server`, within `deadline`. On failure the transport is closed.
    public static func accept(over transport: ByteStream, _ server: TLSServerContext,
                              deadline: Date) throws(TLSError) -> TLSStream {
        #if os(Linux)
        try established(over: transport, deadline: deadline) { () throws(TLSError) in
            (server.library, try Session(server.library, server: server, address: transport.address))
        }
        #else
        transport.close()
        throw TLSError.unavailableHere
        #endif
    }

    #if os(Linux)
    /// Either side's handshake on the session `open` makes; the transport is closed on any failure.
    private static func established(over transport: ByteStream, deadline: Date,
                                    _ open: () throws(TLSError) -> (OpenSSLLibrary, Session)) throws(TLSError) -> TLSStream {
        do throws(TLSError) {
            let (library, session) = try open()
            try session.handshake(over: transport, deadline: deadline)
            return TLSStream(transport: transport, library: library, session: session)
        } catch {
            transport.close()
            throw error
        }
    }
    #endif

    /// Loads OpenSSL and parses the configuration's CA, certificate and key, without connecting:
    /// what a plugin calls when a connection is written, so a bad PEM is reported then.
    public static func check(_ configuration: TLSConfiguration) throws(TLSError) {
        #if os(Linux)
        _ = try Session(try OpenSSLLibrary.shared(), configuration, address: configuration.serverName)
        #else
        throw TLSError.unavailableHere
        #endif
    }

    #if os(Linux)
    private init(transport: ByteStream, library: OpenSSLLibrary, session: Session) {
        self.transport = transport
        self.library = library
        self.session = session
        protocolVersion = session.protocolVersion()
        cipher = session.cipherName()
        negotiatedProtocol = session.selectedALPN()
        serverEndPoint = session.serverEndPoint()
    }
    #endif

    deinit { close() }

    public var isOpen: Bool {
        #if os(Linux)
        return session != nil && transport.isOpen
        #else
        return false
        #endif
    }

    public func write(_ bytes: [UInt8], deadline: Date) throws(SocketError) {
        #if os(Linux)
        guard let session else { throw SocketError(.closed, .write, address: address) }
        try session.write(bytes, over: transport, deadline: deadline)
        #else
        throw SocketError(.closed, .write, address: address)
        #endif
    }

    public func readSome(maxCount: Int, deadline: Date) throws(SocketError) -> [UInt8] {
        #if os(Linux)
        guard let session else { throw SocketError(.closed, .read, address: address) }
        return try session.read(maxCount: maxCount, over: transport, deadline: deadline)
        #else
        throw SocketError(.closed, .read, address: address)
        #endif
    }

    /// Sends close_notify (best effort, briefly) and closes the transport. Safe to call twice.
    public func close() {
        #if os(Linux)
        if let session {
            session.shutdown(over: transport)
            self.session = nil
        }
        #endif
        transport.close()
    }
}

#if os(Linux)
/// One SSL object with its context and memory buffers.
final class Session {
    let lib: OpenSSLLibrary
    let configuration: TLSConfiguration
    let address: String
    private let context: OpaquePointer
    /// The server's shared context, kept alive by the session; nil when the context is the
    /// session's own (a client's), freed with it.
    private let sharedContext: TLSServerContext?
    private let ssl: OpaquePointer
    /// Owned by `ssl` (SSL_set_bio): bytes from the peer go in `incoming`, OpenSSL's output
    /// collects in `outgoing` until `flush` sends it.
    private let incoming: OpaquePointer
    private let outgoing: OpaquePointer

    /// A client session, on a context of its own made from `configuration`.
    convenience init(_ lib: OpenSSLLibrary, _ configuration: TLSConfiguration, address: String) throws(TLSError) {
        lib.ERR_clear_error()
        guard let context = lib.SSL_CTX_new(lib.TLS_client_method()) else {
            throw TLSError(.unavailable, "could not set up TLS: \(lib.takeErrorReason() ?? "SSL_CTX_new failed")")
        }
        // SSL_new copies the context's settings (verification, certificate, key): they come first.
        do throws(TLSError) {
            try Self.configure(context, lib, configuration)
        } catch {
            lib.SSL_CTX_free(context)
            throw error
        }
        try self.init(lib, configuration, address: address, context: context, shared: nil)
        configureClientSession()
    }

    /// A server session on the server's context (its certificate and key), for one client.
    convenience init(_ lib: OpenSSLLibrary, server: TLSServerContext, address: String) throws(TLSError) {
        try self.init(lib, TLSConfiguration(verification: .none, serverName: ""), address: address,
                      context: server.context, shared: server)
        lib.SSL_set_accept_state(ssl)
    }

    /// Takes `context` over unless it is `shared`'s: on failure too, it is freed.
    private init(_ lib: OpenSSLLibrary, _ configuration: TLSConfiguration, address: String,
                 context: OpaquePointer, shared: TLSServerContext?) throws(TLSError) {
        self.lib = lib
        self.configuration = configuration
        self.address = address
        self.context = context
        self.sharedContext = shared
        guard let ssl = lib.SSL_new(context) else {
            if shared == nil { lib.SSL_CTX_free(context) }
            throw TLSError(.unavailable, "could not set up TLS: \(lib.takeErrorReason() ?? "SSL_new failed")")
        }
        self.ssl = ssl
        let incoming = lib.BIO_new(lib.BIO_s_mem()), outgoing = lib.BIO_new(lib.BIO_s_mem())
        guard let incoming, let outgoing else {
            if let incoming { _ = lib.BIO_free(incoming) }
            if let outgoing { _ = lib.BIO_free(outgoing) }
            lib.SSL_free(ssl)
            if shared == nil { lib.SSL_CTX_free(context) }
            throw TLSError(.unavailable, "could not set up TLS: out of memory")
        }
        self.incoming = incoming
        self.outgoing = outgoing
        lib.SSL_set_bio(ssl, incoming, outgoing)
    }

    deinit {
        lib.SSL_free(ssl)
        if sharedContext == nil { lib.SSL_CTX_free(context) }
    }

    private static func configure(_ context: OpaquePointer, _ lib: OpenSSLLibrary,
                                  _ configuration: TLSConfiguration) throws(TLSError) {
        _ = lib.SSL_CTX_ctrl(context, SSL_CTRL_SET_MIN_PROTO_VERSION, Int(TLS1_2_VERSION), nil)
        if configuration.verification != .none {
            lib.SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
            switch configuration.trustRoots {
            case .system:
                guard lib.SSL_CTX_set_default_verify_paths(context) == 1 else {
                    throw TLSError(.configuration, "could not load the system's trusted certificates: \(lib.takeErrorReason() ?? "unknown error")")
                }
            case .pem(let pem):
                let roots = try PEMReader(lib).certificates(pem)
                defer { roots.forEach { lib.X509_free($0) } }
                guard !roots.isEmpty else {
                    throw TLSError(.configuration, "unable to add CA to cert pool: the CA holds no PEM certificate")
                }
                let store = lib.SSL_CTX_get_cert_store(context)
                for root in roots { _ = lib.X509_STORE_add_cert(store, root) }
                lib.ERR_clear_error() // a root listed twice is "cert already in hash table": harmless
            }
        } else {
            lib.SSL_CTX_set_verify(context, SSL_VERIFY_NONE, nil)
        }
        switch (configuration.clientCertificate, configuration.clientKey) {
        case (nil, nil):
            break
        case (nil, _), (_, nil):
            throw TLSError(.configuration, "a client certificate needs both the certificate and its private key")
        case (let certificatePEM?, let keyPEM?):
            try useCertificate(context, lib, certificatePEM, keyPEM, password: configuration.keyPassword, whose: "client")
        }
        if !configuration.alpnProtocols.isEmpty {
            let wire = configuration.alpnProtocols.flatMap { [UInt8($0.utf8.count)] + Array($0.utf8) }
            guard lib.SSL_CTX_set_alpn_protos(context, wire, UInt32(wire.count)) == 0 else {
                throw TLSError(.configuration, "could not offer ALPN \(configuration.alpnProtocols)")
            }
        }
    }

    /// The per-connection settings of a client: the name to send. (The name is checked after the
    /// handshake, `checkServerName`, where the certificate is still at hand to say which names it has.)
    private func configureClientSession() {
        let name = configuration.serverName
        let isIP = TLSConfiguration.isIPAddress(name)
        if configuration.sendsServerName && !isIP && !name.isEmpty {
            _ = name.withCString { lib.SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, Int(TLSEXT_NAMETYPE_host_name), UnsafeMutableRawPointer(mutating: $0)) }
        }
        lib.SSL_set_connect_state(ssl)
    }

    /// The certificate (with the intermediates after it) and its key that this side presents.
    static func useCertificate(_ context: OpaquePointer, _ lib: OpenSSLLibrary, _ certificatePEM: [UInt8], _ keyPEM: [UInt8],
                               password: String?, whose: String) throws(TLSError) {
        let reader = PEMReader(lib)
        let chain = try reader.certificates(certificatePEM)
        defer { chain.forEach { lib.X509_free($0) } }
        guard let leaf = chain.first else {
            throw TLSError(.configuration, "unable to load cert: the \(whose) certificate holds no PEM certificate")
        }
        guard lib.SSL_CTX_use_certificate(context, leaf) == 1 else {
            throw TLSError(.configuration, "unable to load cert: \(lib.takeErrorReason() ?? "the certificate was refused")")
        }
        for intermediate in chain.dropFirst() {
            _ = lib.SSL_CTX_ctrl(context, SSL_CTRL_CHAIN_CERT, 1, UnsafeMutableRawPointer(intermediate))
        }
        let key = try reader.privateKey(keyPEM, password: password)
        defer { lib.EVP_PKEY_free(key) }
        guard lib.SSL_CTX_use_PrivateKey(context, key) == 1, lib.SSL_CTX_check_private_key(context) == 1 else {
            lib.ERR_clear_error()
            throw TLSError(.configuration, "unable to load cert: the private key does not match the certificate")
        }
    }

    // MARK: handshake

    func handshake(over transport: ByteStream, deadline: Date) throws(TLSError) {
        while true {
            let result = lib.SSL_do_handshake(ssl)
            let status = result == 1 ? SSL_ERROR_NONE : lib.SSL_get_error(ssl, result)
            guard [SSL_ERROR_NONE, SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE].contains(status) else {
                // An alert OpenSSL queued (e.g. "unknown CA") still goes out, best effort.
                try? flush(to: transport, deadline: deadline)
                throw handshakeFailure()
            }
            do throws(SocketError) {
                try flush(to: transport, deadline: deadline)
                if status == SSL_ERROR_NONE { break }
                if status == SSL_ERROR_WANT_READ { try feed(from: transport, deadline: deadline) }
            } catch {
                throw TLSError(.transport, "TLS handshake with \(address) failed: \(error)", socketError: error)
            }
        }
        if configuration.verification == .chainAndHost { try checkServerName() }
    }

    /// The certificate (whose chain OpenSSL verified) must name the server: SAN DNS (wildcards as
    /// RFC 6125) or IP, the subject CN only when there is no SAN. Nothing was sent over the session yet.
    private func checkServerName() throws(TLSError) {
        let name = configuration.serverName
        guard let certificate = lib.SSL_get1_peer_certificate(ssl) else {
            throw TLSError(.verification, "TLS handshake with \(address) failed: the server sent no certificate")
        }
        defer { lib.X509_free(certificate) }
        let matches = TLSConfiguration.isIPAddress(name)
            ? lib.X509_check_ip_asc(certificate, name, 0) == 1
            : lib.X509_check_host(certificate, name, name.utf8.count, 0, nil) == 1
        lib.ERR_clear_error()
        guard matches else {
            throw TLSError(.verification, "TLS handshake with \(address) failed: \(verificationReason(X509_V_ERR_HOSTNAME_MISMATCH))")
        }
    }

    private func handshakeFailure() -> TLSError {
        let verify = Int32(truncatingIfNeeded: lib.SSL_get_verify_result(ssl))
        let reason = lib.takeErrorReason()
        if verify != X509_V_OK, configuration.verification != .none {
            return TLSError(.verification, "TLS handshake with \(address) failed: \(verificationReason(verify))")
        }
        return TLSError(.handshake, "TLS handshake with \(address) failed: \(Self.explain(reason))")
    }

    /// OpenSSL's reason, with what it usually means when that is not obvious.
    private static func explain(_ reason: String?) -> String {
        guard let reason else { return "the server ended the handshake" }
        switch reason {
        case "wrong version number", "packet length too long", "record layer failure":
            return "the server did not answer in TLS (\(reason))"
        case "unsupported protocol":
            return "the server offers no TLS version this client accepts (TLS 1.2 or later): \(reason)"
        default:
            return reason
        }
    }

    /// Go's wording for the verification failures users meet most, OpenSSL's for the rest.
    private func verificationReason(_ code: Int32) -> String {
        switch code {
        case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY,
             X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN, X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT,
             X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
            return "certificate signed by unknown authority"
        case X509_V_ERR_CERT_HAS_EXPIRED, X509_V_ERR_CERT_NOT_YET_VALID:
            return "certificate has expired or is not yet valid"
        case X509_V_ERR_HOSTNAME_MISMATCH, X509_V_ERR_IP_ADDRESS_MISMATCH:
            let names = peerCertificateNames()
            let valid = names.isEmpty ? "certificate is not valid" : "certificate is valid for \(names.joined(separator: ", "))"
            return "\(valid), not \(configuration.serverName)"
        default:
            return "certificate verify failed: " + (lib.X509_verify_cert_error_string(Int(code)).map { String(cString: $0) } ?? "error \(code)")
        }
    }

    /// The DNS and IP names of the server's certificate, or its CN when it has no SAN.
    private func peerCertificateNames() -> [String] {
        guard let certificate = lib.SSL_get1_peer_certificate(ssl) else { return [] }
        defer { lib.X509_free(certificate) }
        var names: [String] = []
        if let raw = lib.X509_get_ext_d2i(certificate, NID_subject_alt_name, nil, nil) {
            let stack = OpaquePointer(raw)
            for index in 0..<max(0, lib.OPENSSL_sk_num(stack)) {
                guard let entry = lib.OPENSSL_sk_value(stack, index)?.assumingMemoryBound(to: GENERAL_NAME.self) else { continue }
                switch entry.pointee.type {
                case GEN_DNS:
                    names.append(String(decoding: asn1Bytes(entry.pointee.d.dNSName), as: UTF8.self))
                case GEN_IPADD:
                    let bytes = asn1Bytes(entry.pointee.d.iPAddress)
                    var text = [CChar](repeating: 0, count: 64)
                    let family = bytes.count == 4 ? AF_INET : AF_INET6
                    if bytes.count == 4 || bytes.count == 16, inet_ntop(family, bytes, &text, 64) != nil {
                        names.append(cText(text))
                    }
                default:
                    continue
                }
            }
            lib.GENERAL_NAMES_free(stack)
        }
        if names.isEmpty, let subject = lib.X509_get_subject_name(certificate) {
            var text = [CChar](repeating: 0, count: 256)
            if lib.X509_NAME_get_text_by_NID(subject, NID_commonName, &text, 256) > 0 { names.append(cText(text)) }
        }
        return names
    }

    private func asn1Bytes(_ string: UnsafeMutablePointer<ASN1_STRING>?) -> [UInt8] {
        guard let string, let data = lib.ASN1_STRING_get0_data(string) else { return [] }
        return Array(UnsafeBufferPointer(start: data, count: Int(max(0, lib.ASN1_STRING_length(string)))))
    }

    // MARK: after the handshake

    func protocolVersion() -> String { lib.SSL_get_version(ssl).map { String(cString: $0) } ?? "TLS" }

    func cipherName() -> String {
        lib.SSL_get_current_cipher(ssl).flatMap { lib.SSL_CIPHER_get_name($0) }.map { String(cString: $0) } ?? ""
    }

    func selectedALPN() -> String? {
        var data: UnsafePointer<UInt8>?
        var length: UInt32 = 0
        lib.SSL_get0_alpn_selected(ssl, &data, &length)
        guard let data, length > 0 else { return nil }
        return String(decoding: UnsafeBufferPointer(start: data, count: Int(length)), as: UTF8.self)
    }

    func serverEndPoint() -> [UInt8]? {
        guard let certificate = lib.SSL_get1_peer_certificate(ssl) else { return nil }
        defer { lib.X509_free(certificate) }
        var digestNID: Int32 = 0
        guard lib.X509_get_signature_info(certificate, &digestNID, nil, nil, nil) == 1, digestNID != NID_undef else {
            lib.ERR_clear_error()
            return nil
        }
        // RFC 5929 section 4.1: MD5 and SHA-1 are replaced by SHA-256.
        if digestNID == NID_md5 || digestNID == NID_sha1 { digestNID = NID_sha256 }
        guard let name = lib.OBJ_nid2sn(digestNID), let digest = lib.EVP_get_digestbyname(name) else { return nil }
        var hash = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        guard lib.X509_digest(certificate, digest, &hash, &length) == 1 else {
            lib.ERR_clear_error()
            return nil
        }
        return Array(hash[0..<Int(length)])
    }

    func read(maxCount: Int, over transport: ByteStream, deadline: Date) throws(SocketError) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: max(1, min(maxCount, 1 << 20)))
        while true {
            if StopRequest.isRequested { throw SocketError(.stopped, .read, address: address) }
            if deadline.timeIntervalSinceNow <= 0 { throw SocketError(.timeout, .read, address: address) }
            let count = lib.SSL_read(ssl, &buffer, Int32(buffer.count))
            if count > 0 { return Array(buffer[0..<Int(count)]) }
            switch lib.SSL_get_error(ssl, count) {
            case SSL_ERROR_WANT_READ:
                try flush(to: transport, deadline: deadline) // answers to post-handshake messages
                try feed(from: transport, deadline: deadline)
            case SSL_ERROR_WANT_WRITE:
                try flush(to: transport, deadline: deadline)
            case SSL_ERROR_ZERO_RETURN:
                throw SocketError(.closed, .read, address: address, byPeer: true)
            default:
                throw SocketError(.io, .read, address: address, reason: "TLS: \(lib.takeErrorReason() ?? "the session failed")")
            }
        }
    }

    func write(_ bytes: [UInt8], over transport: ByteStream, deadline: Date) throws(SocketError) {
        var offset = 0
        while offset < bytes.count {
            let chunk = min(bytes.count - offset, 16 * 1024)
            let count = bytes.withUnsafeBytes { lib.SSL_write(ssl, $0.baseAddress! + offset, Int32(chunk)) }
            if count > 0 {
                offset += Int(count)
                try flush(to: transport, deadline: deadline)
                continue
            }
            switch lib.SSL_get_error(ssl, count) {
            case SSL_ERROR_WANT_READ:
                try flush(to: transport, deadline: deadline)
                try feed(from: transport, deadline: deadline)
            case SSL_ERROR_WANT_WRITE:
                try flush(to: transport, deadline: deadline)
            default:
                throw SocketError(.io, .write, address: address, reason: "TLS: \(lib.takeErrorReason() ?? "the session failed")")
            }
        }
    }

    func shutdown(over transport: ByteStream) {
        guard transport.isOpen else { return }
        _ = lib.SSL_shutdown(ssl)
        try? flush(to: transport, deadline: Date().addingTimeInterval(0.5))
        lib.ERR_clear_error()
    }

    /// Sends whatever OpenSSL has written to the outgoing buffer.
    private func flush(to transport: ByteStream, deadline: Date) throws(SocketError) {
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while lib.BIO_ctrl_pending(outgoing) > 0 {
            let count = lib.BIO_read(outgoing, &chunk, Int32(chunk.count))
            guard count > 0 else { break }
            try transport.write(Array(chunk[0..<Int(count)]), deadline: deadline)
        }
    }

    /// Reads what the server sent next into the incoming buffer.
    private func feed(from transport: ByteStream, deadline: Date) throws(SocketError) {
        let bytes = try transport.readSome(deadline: deadline)
        _ = lib.BIO_write(incoming, bytes, Int32(bytes.count))
    }
}

/// Certificates and keys out of PEM text, through a read-only memory buffer.
struct PEMReader {
    let lib: OpenSSLLibrary

    init(_ lib: OpenSSLLibrary) { self.lib = lib }

    /// Every certificate in `pem`, in order (other blocks, such as a key, are skipped).
    func certificates(_ pem: [UInt8]) throws(TLSError) -> [OpaquePointer] {
        var found: [OpaquePointer] = []
        pem.withUnsafeBytes { raw in
            guard let bio = lib.BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else { return }
            defer { _ = lib.BIO_free(bio) }
            while let certificate = lib.PEM_read_bio_X509(bio, nil, refusePassword, nil) { found.append(certificate) }
        }
        lib.ERR_clear_error() // the end of the text reads as "no start line"
        return found
    }

    func privateKey(_ pem: [UInt8], password: String?) throws(TLSError) -> OpaquePointer {
        let key: OpaquePointer? = pem.withUnsafeBytes { raw in
            guard let bio = lib.BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else { return nil }
            defer { _ = lib.BIO_free(bio) }
            guard let password else { return lib.PEM_read_bio_PrivateKey(bio, nil, refusePassword, nil) }
            return password.withCString {
                lib.PEM_read_bio_PrivateKey(bio, nil, givePassword, UnsafeMutableRawPointer(mutating: $0))
            }
        }
        lib.ERR_clear_error()
        guard let key else {
            let encrypted = String(decoding: pem, as: UTF8.self).contains("ENCRYPTED")
            throw TLSError(.configuration, encrypted
                ? "unable to load cert: the private key is encrypted, and no password was given or it is wrong"
                : "unable to load cert: no PEM private key found")
        }
        return key
    }
}

/// OpenSSL's default would prompt on the terminal for an encrypted key's password; never do that.
private func refusePassword(_ buffer: UnsafeMutablePointer<CChar>?, _ size: Int32, _ writing: Int32,
                            _ userData: UnsafeMutableRawPointer?) -> Int32 { 0 }

/// Copies the NUL-terminated password passed as user data.
private func givePassword(_ buffer: UnsafeMutablePointer<CChar>?, _ size: Int32, _ writing: Int32,
                          _ userData: UnsafeMutableRawPointer?) -> Int32 {
    guard let buffer, let userData else { return 0 }
    let password = userData.assumingMemoryBound(to: CChar.self)
    let length = min(Int(strlen(password)), Int(size))
    buffer.update(from: password, count: length)
    return Int32(length)
}

/// A NUL-terminated C buffer as text.
private func cText(_ buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
#endif
