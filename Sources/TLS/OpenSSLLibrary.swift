#if os(Linux)
import COpenSSL
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc

/// The system's OpenSSL 3 (`libssl.so.3`, `libcrypto.so.3`), loaded with dlopen the first time a
/// connection asks for TLS (or a plugin for RSA). Linking it instead would make every command load
/// and relocate both libraries at start-up (+0.75 ms and +1.8 MiB resident, measured on a C program
/// that does nothing), which most commands — plain connections, reads of the state folder — never use.
///
/// Every function is typed by `COpenSSL`'s `dbs_fn_*`, taken from the installed headers' prototypes.
/// Loaded once per process; the table is immutable afterwards, so it is safe to share.
public final class OpenSSLLibrary: @unchecked Sendable {
    private let ssl: UnsafeMutableRawPointer
    private let crypto: UnsafeMutableRawPointer

    /// The process-wide library, or why it could not be loaded (said once, the same each time).
    public static func shared() throws(TLSError) -> OpenSSLLibrary {
        switch loaded {
        case .success(let library): return library
        case .failure(let error): throw error
        }
    }

    private static let loaded: Result<OpenSSLLibrary, TLSError> = {
        do throws(TLSError) {
            return .success(try OpenSSLLibrary())
        } catch {
            return .failure(error)
        }
    }()

    private init() throws(TLSError) {
        // libcrypto first: libssl needs it, and RTLD_GLOBAL is not wanted (no symbol leaks into
        // the process's namespace), so each is opened under its soname and kept.
        guard let crypto = dlopen("libcrypto.so.3", RTLD_NOW | RTLD_LOCAL),
              let ssl = dlopen("libssl.so.3", RTLD_NOW | RTLD_LOCAL) else {
            let reason = dlerror().map { String(cString: $0) } ?? "not found"
            throw TLSError(.unavailable, "TLS needs OpenSSL 3 (libssl3): \(reason)")
        }
        self.ssl = ssl
        self.crypto = crypto
        try bindAll()
    }

    /// A symbol of libcrypto, for code outside this module (e.g. RSA-OAEP for MySQL), typed by the
    /// caller with a `dbs_fn_*` type; nil when this libcrypto lacks it.
    public func cryptoFunction<T>(_ name: String, as type: T.Type) -> T? {
        dlsym(crypto, name).map { unsafeBitCast($0, to: type) }
    }

    private func function<T>(_ handle: UnsafeMutableRawPointer, _ name: String, _ type: T.Type) throws(TLSError) -> T {
        guard let symbol = dlsym(handle, name) else {
            throw TLSError(.unavailable, "TLS needs OpenSSL 3: the loaded library has no \(name)")
        }
        return unsafeBitCast(symbol, to: type)
    }

    // libssl
    private(set) var TLS_client_method: dbs_fn_TLS_client_method!
    private(set) var TLS_server_method: dbs_fn_TLS_server_method!
    private(set) var SSL_CTX_new: dbs_fn_SSL_CTX_new!
    private(set) var SSL_CTX_free: dbs_fn_SSL_CTX_free!
    private(set) var SSL_CTX_ctrl: dbs_fn_SSL_CTX_ctrl!
    private(set) var SSL_CTX_set_verify: dbs_fn_SSL_CTX_set_verify!
    private(set) var SSL_CTX_get_cert_store: dbs_fn_SSL_CTX_get_cert_store!
    private(set) var SSL_CTX_set_default_verify_paths: dbs_fn_SSL_CTX_set_default_verify_paths!
    private(set) var SSL_CTX_use_certificate: dbs_fn_SSL_CTX_use_certificate!
    private(set) var SSL_CTX_use_PrivateKey: dbs_fn_SSL_CTX_use_PrivateKey!
    private(set) var SSL_CTX_check_private_key: dbs_fn_SSL_CTX_check_private_key!
    private(set) var SSL_CTX_set_alpn_protos: dbs_fn_SSL_CTX_set_alpn_protos!
    private(set) var SSL_new: dbs_fn_SSL_new!
    private(set) var SSL_free: dbs_fn_SSL_free!
    private(set) var SSL_set_bio: dbs_fn_SSL_set_bio!
    private(set) var SSL_set_connect_state: dbs_fn_SSL_set_connect_state!
    private(set) var SSL_set_accept_state: dbs_fn_SSL_set_accept_state!
    private(set) var SSL_do_handshake: dbs_fn_SSL_do_handshake!
    private(set) var SSL_read: dbs_fn_SSL_read!
    private(set) var SSL_write: dbs_fn_SSL_write!
    private(set) var SSL_get_error: dbs_fn_SSL_get_error!
    private(set) var SSL_shutdown: dbs_fn_SSL_shutdown!
    private(set) var SSL_ctrl: dbs_fn_SSL_ctrl!
    private(set) var SSL_get_verify_result: dbs_fn_SSL_get_verify_result!
    private(set) var SSL_get1_peer_certificate: dbs_fn_SSL_get1_peer_certificate!
    private(set) var SSL_get_version: dbs_fn_SSL_get_version!
    private(set) var SSL_get_current_cipher: dbs_fn_SSL_get_current_cipher!
    private(set) var SSL_CIPHER_get_name: dbs_fn_SSL_CIPHER_get_name!
    private(set) var SSL_get0_alpn_selected: dbs_fn_SSL_get0_alpn_selected!
    // libcrypto
    private(set) var BIO_s_mem: dbs_fn_BIO_s_mem!
    private(set) var BIO_new: dbs_fn_BIO_new!
    private(set) var BIO_free: dbs_fn_BIO_free!
    private(set) var BIO_read: dbs_fn_BIO_read!
    private(set) var BIO_write: dbs_fn_BIO_write!
    private(set) var BIO_ctrl_pending: dbs_fn_BIO_ctrl_pending!
    private(set) var BIO_new_mem_buf: dbs_fn_BIO_new_mem_buf!
    private(set) var PEM_read_bio_X509: dbs_fn_PEM_read_bio_X509!
    private(set) var PEM_read_bio_PrivateKey: dbs_fn_PEM_read_bio_PrivateKey!
    private(set) var X509_free: dbs_fn_X509_free!
    private(set) var EVP_PKEY_free: dbs_fn_EVP_PKEY_free!
    private(set) var X509_STORE_add_cert: dbs_fn_X509_STORE_add_cert!
    private(set) var X509_verify_cert_error_string: dbs_fn_X509_verify_cert_error_string!
    private(set) var X509_get_ext_d2i: dbs_fn_X509_get_ext_d2i!
    private(set) var X509_get_subject_name: dbs_fn_X509_get_subject_name!
    private(set) var X509_NAME_get_text_by_NID: dbs_fn_X509_NAME_get_text_by_NID!
    private(set) var X509_get_signature_info: dbs_fn_X509_get_signature_info!
    private(set) var X509_digest: dbs_fn_X509_digest!
    private(set) var X509_check_host: dbs_fn_X509_check_host!
    private(set) var X509_check_ip_asc: dbs_fn_X509_check_ip_asc!
    private(set) var GENERAL_NAMES_free: dbs_fn_GENERAL_NAMES_free!
    private(set) var OPENSSL_sk_num: dbs_fn_OPENSSL_sk_num!
    private(set) var OPENSSL_sk_value: dbs_fn_OPENSSL_sk_value!
    private(set) var ASN1_STRING_get0_data: dbs_fn_ASN1_STRING_get0_data!
    private(set) var ASN1_STRING_length: dbs_fn_ASN1_STRING_length!
    private(set) var OBJ_nid2sn: dbs_fn_OBJ_nid2sn!
    private(set) var EVP_get_digestbyname: dbs_fn_EVP_get_digestbyname!
    private(set) var ERR_get_error: dbs_fn_ERR_get_error!
    private(set) var ERR_clear_error: dbs_fn_ERR_clear_error!
    private(set) var ERR_reason_error_string: dbs_fn_ERR_reason_error_string!

    private func bindAll() throws(TLSError) {
        TLS_client_method = try function(ssl, "TLS_client_method", dbs_fn_TLS_client_method.self)
        TLS_server_method = try function(ssl, "TLS_server_method", dbs_fn_TLS_server_method.self)
        SSL_CTX_new = try function(ssl, "SSL_CTX_new", dbs_fn_SSL_CTX_new.self)
        SSL_CTX_free = try function(ssl, "SSL_CTX_free", dbs_fn_SSL_CTX_free.self)
        SSL_CTX_ctrl = try function(ssl, "SSL_CTX_ctrl", dbs_fn_SSL_CTX_ctrl.self)
        SSL_CTX_set_verify = try function(ssl, "SSL_CTX_set_verify", dbs_fn_SSL_CTX_set_verify.self)
        SSL_CTX_get_cert_store = try function(ssl, "SSL_CTX_get_cert_store", dbs_fn_SSL_CTX_get_cert_store.self)
        SSL_CTX_set_default_verify_paths = try function(ssl, "SSL_CTX_set_default_verify_paths",
                                                        dbs_fn_SSL_CTX_set_default_verify_paths.self)
        SSL_CTX_use_certificate = try function(ssl, "SSL_CTX_use_certificate", dbs_fn_SSL_CTX_use_certificate.self)
        SSL_CTX_use_PrivateKey = try function(ssl, "SSL_CTX_use_PrivateKey", dbs_fn_SSL_CTX_use_PrivateKey.self)
        SSL_CTX_check_private_key = try function(ssl, "SSL_CTX_check_private_key", dbs_fn_SSL_CTX_check_private_key.self)
        SSL_CTX_set_alpn_protos = try function(ssl, "SSL_CTX_set_alpn_protos", dbs_fn_SSL_CTX_set_alpn_protos.self)
        SSL_new = try function(ssl, "SSL_new", dbs_fn_SSL_new.self)
        SSL_free = try function(ssl, "SSL_free", dbs_fn_SSL_free.self)
        SSL_set_bio = try function(ssl, "SSL_set_bio", dbs_fn_SSL_set_bio.self)
        SSL_set_connect_state = try function(ssl, "SSL_set_connect_state", dbs_fn_SSL_set_connect_state.self)
        SSL_set_accept_state = try function(ssl, "SSL_set_accept_state", dbs_fn_SSL_set_accept_state.self)
        SSL_do_handshake = try function(ssl, "SSL_do_handshake", dbs_fn_SSL_do_handshake.self)
        SSL_read = try function(ssl, "SSL_read", dbs_fn_SSL_read.self)
        SSL_write = try function(ssl, "SSL_write", dbs_fn_SSL_write.self)
        SSL_get_error = try function(ssl, "SSL_get_error", dbs_fn_SSL_get_error.self)
        SSL_shutdown = try function(ssl, "SSL_shutdown", dbs_fn_SSL_shutdown.self)
        SSL_ctrl = try function(ssl, "SSL_ctrl", dbs_fn_SSL_ctrl.self)
        SSL_get_verify_result = try function(ssl, "SSL_get_verify_result", dbs_fn_SSL_get_verify_result.self)
        SSL_get1_peer_certificate = try function(ssl, "SSL_get1_peer_certificate", dbs_fn_SSL_get1_peer_certificate.self)
        SSL_get_version = try function(ssl, "SSL_get_version", dbs_fn_SSL_get_version.self)
        SSL_get_current_cipher = try function(ssl, "SSL_get_current_cipher", dbs_fn_SSL_get_current_cipher.self)
        SSL_CIPHER_get_name = try function(ssl, "SSL_CIPHER_get_name", dbs_fn_SSL_CIPHER_get_name.self)
        SSL_get0_alpn_selected = try function(ssl, "SSL_get0_alpn_selected", dbs_fn_SSL_get0_alpn_selected.self)

        BIO_s_mem = try function(crypto, "BIO_s_mem", dbs_fn_BIO_s_mem.self)
        BIO_new = try function(crypto, "BIO_new", dbs_fn_BIO_new.self)
        BIO_free = try function(crypto, "BIO_free", dbs_fn_BIO_free.self)
        BIO_read = try function(crypto, "BIO_read", dbs_fn_BIO_read.self)
        BIO_write = try function(crypto, "BIO_write", dbs_fn_BIO_write.self)
        BIO_ctrl_pending = try function(crypto, "BIO_ctrl_pending", dbs_fn_BIO_ctrl_pending.self)
        BIO_new_mem_buf = try function(crypto, "BIO_new_mem_buf", dbs_fn_BIO_new_mem_buf.self)
        PEM_read_bio_X509 = try function(crypto, "PEM_read_bio_X509", dbs_fn_PEM_read_bio_X509.self)
        PEM_read_bio_PrivateKey = try function(crypto, "PEM_read_bio_PrivateKey", dbs_fn_PEM_read_bio_PrivateKey.self)
        X509_free = try function(crypto, "X509_free", dbs_fn_X509_free.self)
        EVP_PKEY_free = try function(crypto, "EVP_PKEY_free", dbs_fn_EVP_PKEY_free.self)
        X509_STORE_add_cert = try function(crypto, "X509_STORE_add_cert", dbs_fn_X509_STORE_add_cert.self)
        X509_verify_cert_error_string = try function(crypto, "X509_verify_cert_error_string",
                                                     dbs_fn_X509_verify_cert_error_string.self)
        X509_get_ext_d2i = try function(crypto, "X509_get_ext_d2i", dbs_fn_X509_get_ext_d2i.self)
        X509_get_subject_name = try function(crypto, "X509_get_subject_name", dbs_fn_X509_get_subject_name.self)
        X509_NAME_get_text_by_NID = try function(crypto, "X509_NAME_get_text_by_NID", dbs_fn_X509_NAME_get_text_by_NID.self)
        X509_get_signature_info = try function(crypto, "X509_get_signature_info", dbs_fn_X509_get_signature_info.self)
        X509_digest = try function(crypto, "X509_digest", dbs_fn_X509_digest.self)
        X509_check_host = try function(crypto, "X509_check_host", dbs_fn_X509_check_host.self)
        X509_check_ip_asc = try function(crypto, "X509_check_ip_asc", dbs_fn_X509_check_ip_asc.self)
        GENERAL_NAMES_free = try function(crypto, "GENERAL_NAMES_free", dbs_fn_GENERAL_NAMES_free.self)
        OPENSSL_sk_num = try function(crypto, "OPENSSL_sk_num", dbs_fn_OPENSSL_sk_num.self)
        OPENSSL_sk_value = try function(crypto, "OPENSSL_sk_value", dbs_fn_OPENSSL_sk_value.self)
        ASN1_STRING_get0_data = try function(crypto, "ASN1_STRING_get0_data", dbs_fn_ASN1_STRING_get0_data.self)
        ASN1_STRING_length = try function(crypto, "ASN1_STRING_length", dbs_fn_ASN1_STRING_length.self)
        OBJ_nid2sn = try function(crypto, "OBJ_nid2sn", dbs_fn_OBJ_nid2sn.self)
        EVP_get_digestbyname = try function(crypto, "EVP_get_digestbyname", dbs_fn_EVP_get_digestbyname.self)
        ERR_get_error = try function(crypto, "ERR_get_error", dbs_fn_ERR_get_error.self)
        ERR_clear_error = try function(crypto, "ERR_clear_error", dbs_fn_ERR_clear_error.self)
        ERR_reason_error_string = try function(crypto, "ERR_reason_error_string", dbs_fn_ERR_reason_error_string.self)
    }

    /// The reason of the oldest queued OpenSSL error (e.g. "wrong version number"), and the queue
    /// cleared so the next call starts clean. OpenSSL's texts name no key material.
    public func takeErrorReason() -> String? {
        var reason: String?
        while case let code = ERR_get_error(), code != 0 {
            if reason == nil { reason = ERR_reason_error_string(code).map { String(cString: $0) } }
        }
        return reason
    }
}
#endif
