import Basics
import TLS
#if os(Linux)
import COpenSSL

/// A MySQL server's RSA public key (its `public_key.pem`: a PEM "PUBLIC KEY", SubjectPublicKeyInfo)
/// and what caching_sha2_password and sha256_password do with it without TLS: RSA-OAEP with SHA-1
/// and MGF1-SHA-1 of (password + NUL) XOR the nonce, repeated, as the server decrypts it.
///
/// Kept as PEM and parsed at each use, so a configuration holding it stays a plain value. The
/// parsing and encryption are libcrypto's, loaded at first use by `OpenSSLLibrary` (never at
/// start-up: commands that never meet such a server do not pay for it).
struct MySQLRSAPublicKey: Sendable, Equatable {
    let pem: [UInt8]

    /// Parses `pem`: an RSA key, or `MySQLError(kind)` saying why not (`.configuration` for the
    /// `server_public_key` field, `.protocolViolation` for a key a server sent).
    init(pem: [UInt8], kind: MySQLError.Kind, source: String) throws(MySQLError) {
        self.pem = pem
        try withKey(kind: kind, source: source) { _, _ in }
    }

    /// A key checked already (`server_public_key` when the connection was written), parsed only
    /// when a login needs it: the fast path of a pinned connection never loads libcrypto.
    init(checkedPEM pem: [UInt8]) {
        self.pem = pem
    }

    /// Whether the key a server sent is `pinned`, however their PEM is laid out.
    func sameKey(as pinned: MySQLRSAPublicKey) throws(MySQLError) -> Bool {
        try withKey(kind: .protocolViolation, source: "the RSA key the server sent") { (library, mine) throws(MySQLError) -> Bool in
            try pinned.withKey(kind: .configuration, source: "server_public_key") { _, theirs in
                library.EVP_PKEY_eq(mine, theirs) == 1
            }
        }
    }

    /// The password as the server expects it encrypted. The plain text never leaves this call.
    func encryptPassword(_ password: String, nonce: [UInt8]) throws(MySQLError) -> [UInt8] {
        guard !nonce.isEmpty else { throw MySQLError(.protocolViolation, "the server sent an empty nonce") }
        var plain = Array(password.utf8) + [0]
        defer { for i in plain.indices { plain[i] = 0 } }
        for i in plain.indices { plain[i] ^= nonce[i % nonce.count] }
        return try withKey(kind: .protocolViolation, source: "the key") { (library, key) throws(MySQLError) -> [UInt8] in
            try library.encryptOAEP(key, plain)
        }
    }

    private func withKey<T>(kind: MySQLError.Kind, source: String,
                            _ body: (Functions, OpaquePointer) throws(MySQLError) -> T) throws(MySQLError) -> T {
        let library = try Functions.shared()
        let bio = pem.withUnsafeBytes { library.BIO_new_mem_buf($0.baseAddress, Int32($0.count)) }
        guard let bio else { throw MySQLError(.configuration, "out of memory reading an RSA key") }
        defer { _ = library.BIO_free(bio) }
        guard let key = library.PEM_read_bio_PUBKEY(bio, nil, nil, nil) else {
            let reason = library.openSSL.takeErrorReason() ?? "no PEM data"
            throw MySQLError(kind, "\(source) is not a PEM public key (-----BEGIN PUBLIC KEY-----, as in the server's "
                + "public_key.pem): \(reason)")
        }
        defer { library.EVP_PKEY_free(key) }
        guard library.EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA else {
            throw MySQLError(kind, "\(source) is not an RSA public key")
        }
        return try body(library, key)
    }

    /// The libcrypto functions this file uses, looked up once in the library TLS loads.
    struct Functions: @unchecked Sendable {
        let openSSL: OpenSSLLibrary
        let BIO_new_mem_buf: dbs_fn_BIO_new_mem_buf
        let BIO_free: dbs_fn_BIO_free
        let PEM_read_bio_PUBKEY: dbs_fn_PEM_read_bio_PUBKEY
        let EVP_PKEY_free: dbs_fn_EVP_PKEY_free
        let EVP_PKEY_get_base_id: dbs_fn_EVP_PKEY_get_base_id
        let EVP_PKEY_eq: dbs_fn_EVP_PKEY_eq
        let EVP_PKEY_CTX_new: dbs_fn_EVP_PKEY_CTX_new
        let EVP_PKEY_CTX_free: dbs_fn_EVP_PKEY_CTX_free
        let EVP_PKEY_encrypt_init: dbs_fn_EVP_PKEY_encrypt_init
        let EVP_PKEY_CTX_set_rsa_padding: dbs_fn_EVP_PKEY_CTX_set_rsa_padding
        let EVP_PKEY_CTX_set_rsa_oaep_md: dbs_fn_EVP_PKEY_CTX_set_rsa_oaep_md
        let EVP_PKEY_CTX_set_rsa_mgf1_md: dbs_fn_EVP_PKEY_CTX_set_rsa_mgf1_md
        let EVP_PKEY_encrypt: dbs_fn_EVP_PKEY_encrypt
        let EVP_sha1: dbs_fn_EVP_sha1

        static func shared() throws(MySQLError) -> Functions {
            switch loaded {
            case .success(let functions): return functions
            case .failure(let error): throw error
            }
        }

        private static let loaded: Result<Functions, MySQLError> = {
            do throws(MySQLError) {
                return .success(try Functions())
            } catch {
                return .failure(error)
            }
        }()

        private init() throws(MySQLError) {
            let library: OpenSSLLibrary
            do throws(TLSError) {
                library = try OpenSSLLibrary.shared()
            } catch {
                throw MySQLError(.unsupported, "the RSA key exchange " + error.message.replacingEvery("TLS ", with: ""))
            }
            openSSL = library
            func find<T>(_ name: String, _ type: T.Type) throws(MySQLError) -> T {
                guard let function = library.cryptoFunction(name, as: type) else {
                    throw MySQLError(.unsupported, "the RSA key exchange needs OpenSSL 3: the loaded libcrypto has no \(name)")
                }
                return function
            }
            BIO_new_mem_buf = try find("BIO_new_mem_buf", dbs_fn_BIO_new_mem_buf.self)
            BIO_free = try find("BIO_free", dbs_fn_BIO_free.self)
            PEM_read_bio_PUBKEY = try find("PEM_read_bio_PUBKEY", dbs_fn_PEM_read_bio_PUBKEY.self)
            EVP_PKEY_free = try find("EVP_PKEY_free", dbs_fn_EVP_PKEY_free.self)
            EVP_PKEY_get_base_id = try find("EVP_PKEY_get_base_id", dbs_fn_EVP_PKEY_get_base_id.self)
            EVP_PKEY_eq = try find("EVP_PKEY_eq", dbs_fn_EVP_PKEY_eq.self)
            EVP_PKEY_CTX_new = try find("EVP_PKEY_CTX_new", dbs_fn_EVP_PKEY_CTX_new.self)
            EVP_PKEY_CTX_free = try find("EVP_PKEY_CTX_free", dbs_fn_EVP_PKEY_CTX_free.self)
            EVP_PKEY_encrypt_init = try find("EVP_PKEY_encrypt_init", dbs_fn_EVP_PKEY_encrypt_init.self)
            EVP_PKEY_CTX_set_rsa_padding = try find("EVP_PKEY_CTX_set_rsa_padding", dbs_fn_EVP_PKEY_CTX_set_rsa_padding.self)
            EVP_PKEY_CTX_set_rsa_oaep_md = try find("EVP_PKEY_CTX_set_rsa_oaep_md", dbs_fn_EVP_PKEY_CTX_set_rsa_oaep_md.self)
            EVP_PKEY_CTX_set_rsa_mgf1_md = try find("EVP_PKEY_CTX_set_rsa_mgf1_md", dbs_fn_EVP_PKEY_CTX_set_rsa_mgf1_md.self)
            EVP_PKEY_encrypt = try find("EVP_PKEY_encrypt", dbs_fn_EVP_PKEY_encrypt.self)
            EVP_sha1 = try find("EVP_sha1", dbs_fn_EVP_sha1.self)
        }

        /// RSA-OAEP, SHA-1 for the label hash and for MGF1, as MySQL's server decrypts.
        func encryptOAEP(_ key: OpaquePointer, _ plain: [UInt8]) throws(MySQLError) -> [UInt8] {
            guard let context = EVP_PKEY_CTX_new(key, nil) else {
                throw MySQLError(.protocolViolation, "could not use the server's RSA key: \(openSSL.takeErrorReason() ?? "unknown error")")
            }
            defer { EVP_PKEY_CTX_free(context) }
            guard EVP_PKEY_encrypt_init(context) > 0,
                  EVP_PKEY_CTX_set_rsa_padding(context, RSA_PKCS1_OAEP_PADDING) > 0,
                  EVP_PKEY_CTX_set_rsa_oaep_md(context, EVP_sha1()) > 0,
                  EVP_PKEY_CTX_set_rsa_mgf1_md(context, EVP_sha1()) > 0 else {
                throw MySQLError(.protocolViolation, "could not use the server's RSA key: \(openSSL.takeErrorReason() ?? "unknown error")")
            }
            var length = 0
            var out: [UInt8] = []
            let status: Int32 = plain.withUnsafeBufferPointer { input in
                guard EVP_PKEY_encrypt(context, nil, &length, input.baseAddress, input.count) > 0 else { return 0 }
                out = [UInt8](repeating: 0, count: length)
                return out.withUnsafeMutableBufferPointer { EVP_PKEY_encrypt(context, $0.baseAddress, &length, input.baseAddress, input.count) }
            }
            guard status > 0 else {
                // "data too large for key size": the password does not fit one block of this key.
                throw MySQLError(.unsupported, "could not encrypt the password with the server's RSA key: "
                    + (openSSL.takeErrorReason() ?? "unknown error"))
            }
            return Array(out.prefix(length))
        }
    }
}
#else
struct MySQLRSAPublicKey: Sendable, Equatable {
    let pem: [UInt8]

    init(pem: [UInt8], kind: MySQLError.Kind, source: String) throws(MySQLError) {
        throw MySQLError(.unsupported, "the RSA key exchange needs OpenSSL 3, which this build does not use")
    }

    init(checkedPEM pem: [UInt8]) {
        self.pem = pem
    }

    func sameKey(as pinned: MySQLRSAPublicKey) throws(MySQLError) -> Bool { false }

    func encryptPassword(_ password: String, nonce: [UInt8]) throws(MySQLError) -> [UInt8] { [] }
}
#endif
