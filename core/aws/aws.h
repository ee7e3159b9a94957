/* aws.h: core/aws, layer 2: AWS request signing, no network.
 * Owns: the SigV4 algorithm (sigv4.c), the AWS credential chain.
 * Uses: core/base and include/s2r; OpenSSL, inih.
 *
 * The signer behind the host table slot s2r_host.aws_sigv4_sign (that slot,
 * s2r_sigv4_sign(), lives with the host table in core/plugin), used by the
 * bedrock and ratelimit-dynamodb plugins. Crypto is OpenSSL (SHA-256,
 * HMAC-SHA256); credentials.c reads the shared files with inih; nothing
 * here talks to the network.
 *
 * The algorithm, as AWS documents it ("Create a signed AWS API request")
 * and as the AWS SigV4 test suite checks it:
 *
 *   CanonicalRequest = Method \n CanonicalURI \n CanonicalQuery \n
 *                      CanonicalHeaders \n SignedHeaders \n HexPayloadHash
 *   StringToSign     = "AWS4-HMAC-SHA256" \n AmzDate \n Scope \n
 *                      Hex(SHA256(CanonicalRequest))
 *   Scope            = YYYYMMDD/region/service/aws4_request
 *   SigningKey       = HMAC(HMAC(HMAC(HMAC("AWS4"+secret, YYYYMMDD),
 *                      region), service), "aws4_request")
 *   Signature        = Hex(HMAC(SigningKey, StringToSign))
 *
 * Canonical URI: the path as sent on the wire (already percent-encoded),
 * with dot segments and repeated slashes removed (every service but S3),
 * then percent-encoded once more: every byte but A-Z a-z 0-9 - . _ ~ and
 * '/' becomes %XX. A model id "a:b" is sent as "a%3Ab" and signed as
 * "a%253Ab" (the "double encoding" botocore and the AWS SDKs do).
 * Canonical query: every name=value pair percent-decoded, re-encoded with
 * the same unreserved set ('/' encoded too), sorted by name then value.
 * Canonical headers: lower-case names, values trimmed with inner runs of
 * white space (folded lines included) made one space, repeated names
 * joined with ',' in order, sorted by name.
 *
 * Credentials (s2r_aws_credentials_load): the environment
 * (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN: what
 * Lambda provides), then the shared credentials file
 * (AWS_SHARED_CREDENTIALS_FILE, default ~/.aws/credentials) and the config
 * file (AWS_CONFIG_FILE, default ~/.aws/config) for profile AWS_PROFILE
 * (default "default"), as the AWS CLI reads them.
 *
 * The host table slot s2r_host.aws_sigv4_sign is s2r_sigv4_sign()
 * (declared in host.h, defined here): it splits req->url with libcurl's
 * URL parser (what the transfer will send: dot segments removed, the
 * default port left out of Host), signs Host plus every request header
 * but Authorization, User-Agent, Expect, X-Amzn-Trace-Id, Content-Length,
 * Transfer-Encoding, Connection and the X-Amz-* headers it adds itself,
 * and returns X-Amz-Date, X-Amz-Content-Sha256, X-Amz-Security-Token (with
 * a session token) and Authorization. Paths are normalized for every
 * service but "s3". With params->access_key_id NULL or "" the credentials
 * come from s2r_aws_credentials_load(NULL), read again on every call (so
 * rotated files and variables are picked up).
 *
 * Secrets: the secret access key and session token never appear in an
 * error message or in a result; buffers derived from the secret are
 * wiped with OPENSSL_cleanse().
 *
 * Thread-safety: every function is reentrant (no global state).
 */
#ifndef S2R_AWS_H
#define S2R_AWS_H

#include <stddef.h>
#include <stdint.h>

#include <s2r/plugin.h>

#include "base/base.h"

/** The one algorithm name of SigV4. */
#define S2R_SIGV4_ALGORITHM "AWS4-HMAC-SHA256"

/** A request to sign, split the way it goes on the wire. Borrowed. */
typedef struct s2r_sigv4_request {
    const char *method;         /**< "GET", "POST" ... (upper case) */
    const char *path;           /**< request-target path as sent, already
                                     percent-encoded; NULL or "" = "/" */
    const char *query;          /**< raw query without '?'; NULL = none */
    const s2r_header *headers;  /**< every header to sign, Host included;
                                     names in any case, may repeat */
    size_t n_headers;
    const void *body;           /**< payload, may be NULL */
    size_t body_len;            /**< bytes in body */
} s2r_sigv4_request;

/** How to sign. Borrowed; zero-initialize, then set what you need. */
typedef struct s2r_sigv4_options {
    const char *region;            /**< "us-east-1" (required) */
    const char *service;           /**< "bedrock", "dynamodb" (required) */
    const char *access_key_id;     /**< AKIA... / ASIA... (required) */
    const char *secret_access_key; /**< required, never copied into output */
    const char *session_token;     /**< temporary credentials, or NULL */
    int64_t now_unix_s;            /**< signing time, seconds since epoch */
    int32_t normalize_path;        /**< 1: remove dot segments and repeated
                                        '/' (every service but S3) */
    int32_t sign_content_sha256;   /**< 1: add and sign x-amz-content-sha256
                                        (header signing only) */
    int32_t omit_session_token;    /**< 1: the token is added after signing
                                        and not covered (IoT-style) */
    int32_t presign;               /**< 1: sign in the query string
                                        (X-Amz-Signature) instead of the
                                        Authorization header */
    int64_t expires_s;             /**< presign: X-Amz-Expires, seconds
                                        (1..604800) */
} s2r_sigv4_options;

/** What s2r_sigv4_compute() produced. Strings are malloc'd; free with
 *  s2r_sigv4_result_free(). No member holds the secret key. */
typedef struct s2r_sigv4_result {
    char amz_date[17];        /**< X-Amz-Date, "20150830T123600Z" */
    char payload_hash[65];    /**< hex SHA-256 of the body */
    char signature[65];       /**< hex signature */
    char *canonical_request;  /**< as hashed into the string to sign */
    char *string_to_sign;
    char *credential;         /**< "AKID/20150830/us-east-1/svc/aws4_request" */
    char *signed_headers;     /**< "host;x-amz-date" */
    char *authorization;      /**< header signing: the Authorization value;
                                   presign: NULL */
    char *query;              /**< presign: the query to send, canonical
                                   order, X-Amz-Signature last; header
                                   signing: NULL */
} s2r_sigv4_result;

/**
 * Sign @p req. Header signing (the default) adds x-amz-date (and
 * x-amz-security-token unless omit_session_token, and x-amz-content-sha256
 * when asked) to the signed headers; the caller sends them together with
 * `Authorization: <out->authorization>`, the X-Amz-Date value
 * out->amz_date and the token. Presigning puts the auth parameters in
 * out->query instead.
 * @param out zeroed by the function; filled on S2R_OK, empty on failure
 * @return S2R_OK; S2R_EINVAL (missing method, region, service or keys, a
 *         header name that is not a token, a time outside 1970..9999,
 *         expires_s out of range); S2R_ENOMEM.
 */
int s2r_sigv4_compute(const s2r_sigv4_request *req,
                      const s2r_sigv4_options *opt, s2r_sigv4_result *out,
                      s2r_error *err);

/** Release the strings of @p r (NULL-safe) and zero it. */
void s2r_sigv4_result_free(s2r_sigv4_result *r);

/**
 * Percent-encode @p len bytes of @p s the SigV4 way: A-Z a-z 0-9 - . _ ~
 * stay, '/' stays when @p keep_slash, every other byte becomes %XX
 * (upper-case hex). @return malloc'd text or NULL (ENOMEM).
 */
char *s2r_sigv4_uri_encode(const char *s, size_t len, int keep_slash);

/** AWS credentials; strings malloc'd, wiped by s2r_aws_credentials_free. */
typedef struct s2r_aws_credentials {
    char *access_key_id;
    char *secret_access_key;
    char *session_token;  /**< NULL for long-term keys */
    char source[192];     /**< where they came from, for messages:
                               "environment" or "<file> [profile]" */
} s2r_aws_credentials;

/**
 * Find credentials the way the AWS CLI does (minus SSO, process and
 * instance metadata providers):
 *   1. with @p profile NULL or "": AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY
 *      (+ AWS_SESSION_TOKEN, or the legacy AWS_SECURITY_TOKEN);
 *   2. the shared credentials file: $AWS_SHARED_CREDENTIALS_FILE, else
 *      $HOME/.aws/credentials, section [<profile>];
 *   3. the config file: $AWS_CONFIG_FILE, else $HOME/.aws/config, section
 *      [profile <profile>] ([default] for "default");
 * where <profile> is @p profile, else $AWS_PROFILE, else
 * $AWS_DEFAULT_PROFILE, else "default". Keys aws_access_key_id,
 * aws_secret_access_key, aws_session_token (or aws_security_token).
 * @param out zeroed by the function
 * @return S2R_OK; S2R_ENOTFOUND (nothing found: the message says where
 *         s2r looked and which variables to set); S2R_EINVAL (a profile
 *         with only one of the two keys, an unreadable file); S2R_ENOMEM.
 */
int s2r_aws_credentials_load(s2r_aws_credentials *out, const char *profile,
                             s2r_error *err);

/** Wipe and free the strings of @p c (NULL-safe). */
void s2r_aws_credentials_free(s2r_aws_credentials *c);

#endif
