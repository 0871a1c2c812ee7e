// The system's OpenSSL 3 (Debian's libssl-dev), and functions for the macros Swift cannot call.
#ifndef DBSECRETS_COPENSSL_SHIM_H
#define DBSECRETS_COPENSSL_SHIM_H

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

static inline int dbsecrets_SSL_CTX_set_min_proto_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_min_proto_version(ctx, version);
}

static inline int dbsecrets_SSL_set_tlsext_host_name(SSL *ssl, const char *name) {
    return (int)SSL_set_tlsext_host_name(ssl, name);
}

static inline int dbsecrets_BIO_pending(BIO *bio) {
    return BIO_pending(bio);
}

#endif
