/* host_hmac.c: the host table's hmac_sha256 (see host.h). OpenSSL's
 * one-shot HMAC() fetches the algorithm, builds a context and hashes the
 * key's pads on every call: about half of its cost for a request body of
 * a few KB. Here the algorithm is fetched once per process and each
 * thread keeps a context for the key it last used, so a server verifying
 * every request with one secret hashes the pads once per thread; a MAC
 * with that key restarts from them (EVP_MAC_init(3) with no key: "the
 * key set previously is reused"). */
#include "host.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* A thread's context and a copy of its key (wiped when let go). */
typedef struct hmac_state {
    EVP_MAC_CTX *ctx;
    unsigned char *key;
    size_t key_len;
} hmac_state;

static pthread_once_t hmac_once = PTHREAD_ONCE_INIT;
static pthread_key_t hmac_tls;
static EVP_MAC *hmac_alg; /* NULL: every call uses EVP_Q_mac */
static int hmac_tls_ok;

static void state_free(void *p)
{
    hmac_state *st = p;
    if (!st)
        return;
    EVP_MAC_CTX_free(st->ctx);
    OPENSSL_clear_free(st->key, st->key_len);
    free(st);
}

static void hmac_init_once(void)
{
    hmac_alg = EVP_MAC_fetch(NULL, "HMAC", NULL);
    hmac_tls_ok = pthread_key_create(&hmac_tls, state_free) == 0;
}

/* A context keyed with @p key: the thread's, rekeyed when the key
 * differs. NULL when OpenSSL fails (the caller uses the one-shot form). */
static EVP_MAC_CTX *keyed_ctx(const void *key, size_t key_len)
{
    hmac_state *st = pthread_getspecific(hmac_tls);
    if (!st) {
        if (!(st = calloc(1, sizeof(*st))) ||
            pthread_setspecific(hmac_tls, st) != 0) {
            free(st);
            return NULL;
        }
    }
    if (st->key && st->key_len == key_len &&
        CRYPTO_memcmp(st->key, key, key_len) == 0)
        return EVP_MAC_init(st->ctx, NULL, 0, NULL) ? st->ctx : NULL;
    OPENSSL_clear_free(st->key, st->key_len);
    st->key = NULL;
    st->key_len = 0;
    if (!st->ctx && !(st->ctx = EVP_MAC_CTX_new(hmac_alg)))
        return NULL;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0),
        OSSL_PARAM_construct_end()};
    if (!EVP_MAC_init(st->ctx, key, key_len, params) ||
        !(st->key = OPENSSL_malloc(key_len ? key_len : 1)))
        return NULL;
    memcpy(st->key, key, key_len);
    st->key_len = key_len;
    return st->ctx;
}

void s2r_host__hmac_sha256(const void *key, size_t key_len, const void *data,
                           size_t len, uint8_t out[32])
{
    static const uint8_t empty = 0;
    key = key ? key : &empty;
    data = data ? data : &empty;
    pthread_once(&hmac_once, hmac_init_once);
    EVP_MAC_CTX *ctx = hmac_alg && hmac_tls_ok ? keyed_ctx(key, key_len)
                                               : NULL;
    size_t olen = 0;
    if (ctx && EVP_MAC_update(ctx, data, len) &&
        EVP_MAC_final(ctx, out, &olen, 32) && olen == 32)
        return;
    if (!EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, key_len, data,
                   len, out, 32, &olen) || olen != 32)
        memset(out, 0, 32);
}
