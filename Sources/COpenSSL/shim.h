#ifndef DBSECRETS_COPENSSL_SHIM_H
#define DBSECRETS_COPENSSL_SHIM_H

#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

/* One pointer type per function that Sources/TLS looks up with dlsym; __typeof__ takes it from the
   header's own prototype and emits no reference to the symbol, so nothing is linked. */
#define DBS_FN(name) typedef __typeof__(&name) dbs_fn_##name;

/* libssl */
DBS_FN(TLS_client_method)
DBS_FN(TLS_server_method)
DBS_FN(SSL_CTX_new)
DBS_FN(SSL_CTX_free)
DBS_FN(SSL_CTX_ctrl)
DBS_FN(SSL_CTX_set_verify)
DBS_FN(SSL_CTX_get_cert_store)
DBS_FN(SSL_CTX_set_default_verify_paths)
DBS_FN(SSL_CTX_use_certificate)
DBS_FN(SSL_CTX_use_PrivateKey)
DBS_FN(SSL_CTX_check_private_key)
DBS_FN(SSL_CTX_set_alpn_protos)
DBS_FN(SSL_new)
DBS_FN(SSL_free)
DBS_FN(SSL_set_bio)
DBS_FN(SSL_set_connect_state)
DBS_FN(SSL_set_accept_state)
DBS_FN(SSL_do_handshake)
DBS_FN(SSL_read)
DBS_FN(SSL_write)
DBS_FN(SSL_get_error)
DBS_FN(SSL_shutdown)
DBS_FN(SSL_ctrl)
DBS_FN(SSL_get_verify_result)
DBS_FN(SSL_get1_peer_certificate)
DBS_FN(SSL_get_version)
DBS_FN(SSL_get_current_cipher)
DBS_FN(SSL_CIPHER_get_name)
DBS_FN(SSL_get0_alpn_selected)

/* libcrypto */
DBS_FN(BIO_s_mem)
DBS_FN(BIO_new)
DBS_FN(BIO_free)
DBS_FN(BIO_read)
DBS_FN(BIO_write)
DBS_FN(BIO_ctrl_pending)
DBS_FN(BIO_new_mem_buf)
DBS_FN(PEM_read_bio_X509)
DBS_FN(PEM_read_bio_PrivateKey)
DBS_FN(PEM_read_bio_PUBKEY)
DBS_FN(X509_free)
DBS_FN(EVP_PKEY_free)
DBS_FN(X509_STORE_add_cert)
DBS_FN(X509_verify_cert_error_string)
DBS_FN(X509_get_ext_d2i)
DBS_FN(X509_get_subject_name)
DBS_FN(X509_NAME_get_text_by_NID)
DBS_FN(X509_get_signature_info)
DBS_FN(X509_digest)
DBS_FN(X509_check_host)
DBS_FN(X509_check_ip_asc)
DBS_FN(GENERAL_NAMES_free)
DBS_FN(OPENSSL_sk_num)
DBS_FN(OPENSSL_sk_value)
DBS_FN(ASN1_STRING_get0_data)
DBS_FN(ASN1_STRING_length)
DBS_FN(OBJ_nid2sn)
DBS_FN(EVP_get_digestbyname)
DBS_FN(ERR_get_error)
DBS_FN(ERR_clear_error)
DBS_FN(ERR_reason_error_string)
/* For RSA-OAEP (MySQL's caching_sha2_password / sha256_password key exchange without TLS). */
DBS_FN(EVP_PKEY_CTX_new)
DBS_FN(EVP_PKEY_CTX_free)
DBS_FN(EVP_PKEY_encrypt_init)
DBS_FN(EVP_PKEY_CTX_set_rsa_padding)
DBS_FN(EVP_PKEY_CTX_set_rsa_oaep_md)
DBS_FN(EVP_PKEY_CTX_set_rsa_mgf1_md)
DBS_FN(EVP_PKEY_encrypt)
DBS_FN(EVP_sha1)
DBS_FN(EVP_PKEY_eq)
DBS_FN(EVP_PKEY_get_base_id)

#undef DBS_FN
#endif
