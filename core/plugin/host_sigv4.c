/* host_sigv4.c: the host table's aws_sigv4_sign slot: a plugin's HTTP
 * request signed with AWS SigV4 (core/aws), the URL split by libcurl's
 * parser, credentials from the parameters or the AWS default chain. */
#include "host.h"
#include "aws/aws.h"

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* headers never signed: hop-by-hop or rewritten on the way, or ours */
static int skip_header(const char *name)
{
    static const char *const skip[] = {
        "authorization", "user-agent", "expect", "x-amzn-trace-id",
        "content-length", "transfer-encoding", "connection",
        "x-amz-date", "x-amz-security-token", "x-amz-content-sha256", NULL};
    for (size_t i = 0; skip[i]; i++)
        if (strcasecmp(name, skip[i]) == 0)
            return 1;
    return 0;
}

static int put_header(s2r_header_out *h, uint32_t max, uint32_t *n,
                      const char *name, const char *value)
{
    if (*n >= max || strlen(name) >= S2R_HEADER_NAME_MAX ||
        strlen(value) >= S2R_HEADER_VALUE_MAX)
        return 0;
    snprintf(h[*n].name, sizeof(h[*n].name), "%s", name);
    snprintf(h[*n].value, sizeof(h[*n].value), "%s", value);
    (*n)++;
    return 1;
}

/* Split @p url with libcurl's URL parser (what the transfer will use):
 * Host header value (default port dropped), path as sent, query. */
static int split_url(const char *url, char **host_out, char **path_out,
                     char **query_out, s2r_error *err)
{
    *host_out = *path_out = *query_out = NULL;
    CURLU *u = curl_url();
    if (!u)
        return s2r_error_set(err, S2R_ENOMEM, "out of memory");
    char *scheme = NULL, *host = NULL, *port = NULL;
    int rc = S2R_OK;
    CURLUcode uc = curl_url_set(u, CURLUPART_URL, url, 0);
    if (uc != CURLUE_OK) {
        rc = s2r_error_set(err, S2R_EINVAL, "SigV4: cannot parse the URL: %s",
                     curl_url_strerror(uc));
        goto out;
    }
    if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
        rc = s2r_error_set(err, S2R_EINVAL, "SigV4: the URL has no host");
        goto out;
    }
    if (curl_url_get(u, CURLUPART_PORT, &port, 0) != CURLUE_OK)
        port = NULL; /* none given */
    if (port && ((strcasecmp(scheme, "http") == 0 && strcmp(port, "80") == 0) ||
                 (strcasecmp(scheme, "https") == 0 &&
                  strcmp(port, "443") == 0))) {
        curl_free(port);
        port = NULL;
    }
    size_t hl = strlen(host) + (port ? strlen(port) + 1 : 0) + 1;
    *host_out = malloc(hl);
    char *path = NULL, *query = NULL;
    if (curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK)
        path = NULL;
    if (curl_url_get(u, CURLUPART_QUERY, &query, 0) != CURLUE_OK)
        query = NULL;
    *path_out = strdup(path ? path : "/");
    *query_out = query ? strdup(query) : NULL;
    curl_free(path);
    curl_free(query);
    if (!*host_out || !*path_out || (query && !*query_out)) {
        free(*host_out);
        free(*path_out);
        free(*query_out);
        *host_out = *path_out = *query_out = NULL;
        rc = s2r_error_set(err, S2R_ENOMEM, "out of memory");
        goto out;
    }
    snprintf(*host_out, hl, "%s%s%s", host, port ? ":" : "",
             port ? port : "");
out:
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
    return rc;
}

/* The headers to sign: the request's, less those skip_header() names,
 * plus Host when the request has none. @p hv has n_headers + 1 slots;
 * returns how many were filled. */
static size_t headers_to_sign(const s2r_http_request *req, const char *host,
                              s2r_header *hv)
{
    size_t nh = 0;
    int have_host = 0;
    for (uint32_t i = 0; i < req->n_headers && req->headers; i++) {
        const s2r_header *h = &req->headers[i];
        if (!h->name || skip_header(h->name))
            continue;
        if (strcasecmp(h->name, "host") == 0)
            have_host = 1;
        hv[nh].name = h->name;
        hv[nh].value = h->value ? h->value : "";
        nh++;
    }
    if (!have_host) {
        hv[nh].name = "host";
        hv[nh].value = host;
        nh++;
    }
    return nh;
}

/* X-Amz-Date, X-Amz-Content-Sha256, X-Amz-Security-Token (with a token)
 * and Authorization into @p out; S2R_ETOOBIG (slots wiped) when
 * @p max slots are not enough. */
static int put_signature(const s2r_sigv4_result *res, const char *tok,
                         s2r_header_out *out, uint32_t max, uint32_t *n_out,
                         s2r_error *err)
{
    uint32_t n = 0;
    if (!put_header(out, max, &n, "X-Amz-Date", res->amz_date) ||
        !put_header(out, max, &n, "X-Amz-Content-Sha256",
                    res->payload_hash) ||
        (tok && *tok &&
         !put_header(out, max, &n, "X-Amz-Security-Token", tok)) ||
        !put_header(out, max, &n, "Authorization", res->authorization)) {
        if (out && max)
            OPENSSL_cleanse(out, sizeof(*out) * max);
        return s2r_error_set(err, S2R_ETOOBIG,
                     "aws_sigv4_sign: %u header slots are not enough "
                     "(need %d)", max, tok && *tok ? 4 : 3);
    }
    *n_out = n;
    return S2R_OK;
}

int s2r_sigv4_sign(const s2r_instance_ctx *ctx, const s2r_sigv4_params *params,
                   const s2r_http_request *req, s2r_header_out *headers_out,
                   uint32_t max_headers, uint32_t *n_out, s2r_error *err)
{
    (void)ctx;
    if (n_out)
        *n_out = 0;
    if (!params || !req || !n_out || (!headers_out && max_headers) ||
        params->struct_size < offsetof(s2r_sigv4_params, now_unix_s) +
                                  sizeof(params->now_unix_s) ||
        req->struct_size < offsetof(s2r_http_request, body_len) +
                               sizeof(req->body_len) || !req->url)
        return s2r_error_set(err, S2R_EINVAL,
                       "aws_sigv4_sign: missing parameters, request or URL");
    s2r_aws_credentials creds = {0};
    const char *ak = params->access_key_id, *sk = params->secret_access_key;
    const char *tok = params->session_token;
    if (!ak || !*ak) {
        /* no key given: the default chain (environment, shared files) */
        int rc = s2r_aws_credentials_load(&creds, NULL, err);
        if (rc != S2R_OK)
            return rc;
        ak = creds.access_key_id;
        sk = creds.secret_access_key;
        tok = creds.session_token;
    }
    char *host = NULL, *path = NULL, *query = NULL;
    s2r_header *hv = NULL;
    s2r_sigv4_result res = {0};
    int rc = split_url(req->url, &host, &path, &query, err);
    if (rc != S2R_OK)
        goto out;
    hv = calloc((size_t)req->n_headers + 1, sizeof(*hv));
    if (!hv) {
        rc = s2r_error_set(err, S2R_ENOMEM, "out of memory");
        goto out;
    }
    const char *method = req->method ? req->method
                                     : (req->body ? "POST" : "GET");
    s2r_sigv4_request sr = {method, path, query, hv,
                            headers_to_sign(req, host, hv), req->body,
                            req->body ? req->body_len : 0};
    s2r_sigv4_options so = {0};
    so.region = params->region;
    so.service = params->service;
    so.access_key_id = ak;
    so.secret_access_key = sk;
    so.session_token = tok;
    so.now_unix_s = params->now_unix_s ? params->now_unix_s
                                       : (int64_t)time(NULL);
    so.normalize_path = strcmp(params->service ? params->service : "",
                               "s3") != 0;
    so.sign_content_sha256 = 1;
    rc = s2r_sigv4_compute(&sr, &so, &res, err);
    if (rc == S2R_OK)
        rc = put_signature(&res, tok, headers_out, max_headers, n_out, err);
out:
    s2r_sigv4_result_free(&res);
    free(hv);
    free(host);
    free(path);
    free(query);
    s2r_aws_credentials_free(&creds);
    return rc;
}
