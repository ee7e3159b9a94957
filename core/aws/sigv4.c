/* sigv4.c: AWS Signature Version 4 on OpenSSL. See aws.h for the
 * algorithm and the rules. */
#include "aws.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ------------------------------------------------------------------ */
/* small helpers                                                       */
/* ------------------------------------------------------------------ */


static void hex_lower(const uint8_t *p, size_t n, char *out)
{
    static const char hx[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hx[p[i] >> 4];
        out[2 * i + 1] = hx[p[i] & 15];
    }
    out[2 * n] = '\0';
}

static int hmac256(const void *key, size_t key_len, const void *msg,
                   size_t msg_len, uint8_t out[32])
{
    unsigned int olen = 32;
    static const uint8_t empty = 0;
    return HMAC(EVP_sha256(), key, (int)key_len, msg ? msg : &empty,
                msg_len, out, &olen) != NULL;
}

static int is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
           c == '~';
}

char *s2r_sigv4_uri_encode(const char *s, size_t len, int keep_slash)
{
    static const char hx[] = "0123456789ABCDEF";
    char *out = malloc(len * 3 + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (is_unreserved(c) || (keep_slash && c == '/')) {
            out[o++] = (char)c;
        } else {
            out[o++] = '%';
            out[o++] = hx[c >> 4];
            out[o++] = hx[c & 15];
        }
    }
    out[o] = '\0';
    return out;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decode @p len bytes (a '%' not followed by two hex digits stays
 * as it is). *@p out_len receives the length. */
static char *uri_decode(const char *s, size_t len, size_t *out_len)
{
    char *out = malloc(len + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        int hi, lo;
        if (s[i] == '%' && i + 2 < len && (hi = hexval(s[i + 1])) >= 0 &&
            (lo = hexval(s[i + 2])) >= 0) {
            out[o++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
    *out_len = o;
    return out;
}

/* A growable string on open_memstream(). */
typedef struct sbuf {
    FILE *f;
    char *p;
    size_t n;
} sbuf;

static int sb_open(sbuf *b)
{
    b->p = NULL;
    b->n = 0;
    b->f = open_memstream(&b->p, &b->n);
    return b->f != NULL;
}

/* Close and hand over the text (NULL on a write failure). */
static char *sb_take(sbuf *b)
{
    if (!b->f)
        return NULL;
    int bad = ferror(b->f);
    if (fclose(b->f) != 0)
        bad = 1;
    b->f = NULL;
    if (bad) {
        free(b->p);
        b->p = NULL;
    }
    char *p = b->p;
    b->p = NULL;
    return p;
}

static void sb_discard(sbuf *b)
{
    free(sb_take(b));
}

/* ------------------------------------------------------------------ */
/* canonical URI                                                       */
/* ------------------------------------------------------------------ */

/* RFC 3986 5.2.4 dot-segment removal plus the AWS rule that empty
 * segments (repeated slashes) go: "//a/./b/../c//" -> "/a/c/". */
static char *normalize_path(const char *path)
{
    size_t len = strlen(path);
    char *out = malloc(len + 2);
    size_t *starts = malloc((len + 1) * sizeof(size_t));
    if (!out || !starts) {
        free(out);
        free(starts);
        return NULL;
    }
    size_t o = 0, nseg = 0;
    const char *p = path;
    while (*p) {
        const char *q = strchr(p, '/');
        size_t sl = q ? (size_t)(q - p) : strlen(p);
        if (sl == 0 || (sl == 1 && p[0] == '.')) {
            /* empty or "." : dropped */
        } else if (sl == 2 && p[0] == '.' && p[1] == '.') {
            if (nseg) {
                nseg--;
                o = starts[nseg];
            }
        } else {
            starts[nseg++] = o;
            out[o++] = '/';
            memcpy(out + o, p, sl);
            o += sl;
        }
        p += sl;
        if (*p == '/')
            p++;
    }
    if (len > 0 && path[len - 1] == '/' && nseg > 0)
        out[o++] = '/';
    if (o == 0)
        out[o++] = '/';
    out[o] = '\0';
    free(starts);
    return out;
}

static char *canonical_uri(const char *path, int normalize)
{
    if (!path || !*path)
        path = "/";
    if (!normalize)
        return s2r_sigv4_uri_encode(path, strlen(path), 1);
    char *n = normalize_path(path);
    if (!n)
        return NULL;
    char *e = s2r_sigv4_uri_encode(n, strlen(n), 1);
    free(n);
    return e;
}

/* ------------------------------------------------------------------ */
/* canonical query                                                     */
/* ------------------------------------------------------------------ */

typedef struct qparam {
    char *name;  /* encoded */
    char *value; /* encoded */
} qparam;

typedef struct qlist {
    qparam *v;
    size_t n, cap;
} qlist;

static void qlist_free(qlist *q)
{
    for (size_t i = 0; i < q->n; i++) {
        free(q->v[i].name);
        free(q->v[i].value);
    }
    free(q->v);
    q->v = NULL;
    q->n = q->cap = 0;
}

/* Append an already-encoded pair (takes ownership). */
static int qlist_push(qlist *q, char *name, char *value)
{
    if (!name || !value) {
        free(name);
        free(value);
        return 0;
    }
    if (q->n == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 16;
        qparam *nv = realloc(q->v, cap * sizeof(*nv));
        if (!nv) {
            free(name);
            free(value);
            return 0;
        }
        q->v = nv;
        q->cap = cap;
    }
    q->v[q->n].name = name;
    q->v[q->n].value = value;
    q->n++;
    return 1;
}

/* Encode raw (decoded) bytes and append. */
static int qlist_push_raw(qlist *q, const char *name, const char *value)
{
    return qlist_push(q, s2r_sigv4_uri_encode(name, strlen(name), 0),
                      s2r_sigv4_uri_encode(value, strlen(value), 0));
}

/* Split a raw query into decoded-then-re-encoded pairs. */
static int qlist_parse(qlist *q, const char *query)
{
    const char *p = query;
    while (p && *p) {
        const char *amp = strchr(p, '&');
        size_t pl = amp ? (size_t)(amp - p) : strlen(p);
        if (pl > 0) {
            const char *eq = memchr(p, '=', pl);
            size_t nl = eq ? (size_t)(eq - p) : pl;
            const char *v = eq ? eq + 1 : p + pl;
            size_t vl = eq ? pl - nl - 1 : 0;
            size_t dnl, dvl;
            char *dn = uri_decode(p, nl, &dnl);
            char *dv = uri_decode(v, vl, &dvl);
            char *en = dn ? s2r_sigv4_uri_encode(dn, dnl, 0) : NULL;
            char *ev = dv ? s2r_sigv4_uri_encode(dv, dvl, 0) : NULL;
            free(dn);
            free(dv);
            if (!qlist_push(q, en, ev))
                return 0;
        }
        p += pl;
        if (*p == '&')
            p++;
    }
    return 1;
}

static int qparam_cmp(const void *a, const void *b)
{
    const qparam *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->value, y->value);
}

static char *qlist_join(qlist *q)
{
    if (q->n > 1) /* qsort() takes no NULL, even for no elements */
        qsort(q->v, q->n, sizeof(*q->v), qparam_cmp);
    sbuf b;
    if (!sb_open(&b))
        return NULL;
    for (size_t i = 0; i < q->n; i++)
        fprintf(b.f, "%s%s=%s", i ? "&" : "", q->v[i].name, q->v[i].value);
    return sb_take(&b);
}

/* ------------------------------------------------------------------ */
/* canonical headers                                                   */
/* ------------------------------------------------------------------ */

typedef struct chdr {
    char *name;  /* lower case */
    char *value; /* trimmed, inner white space runs folded to one space */
    size_t order;
} chdr;

typedef struct hlist {
    chdr *v;
    size_t n, cap;
} hlist;

static void hlist_free(hlist *h)
{
    for (size_t i = 0; i < h->n; i++) {
        free(h->v[i].name);
        free(h->v[i].value);
    }
    free(h->v);
    h->v = NULL;
    h->n = h->cap = 0;
}

static int is_tchar(unsigned char c)
{
    return (c > 32 && c < 127) && !strchr("\"(),/:;<=>?@[\\]{}", c);
}

static int is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* 1 ok, 0 ENOMEM, -1 bad name */
static int hlist_push(hlist *h, const char *name, const char *value)
{
    size_t nl = strlen(name);
    if (nl == 0)
        return -1;
    for (size_t i = 0; i < nl; i++)
        if (!is_tchar((unsigned char)name[i]))
            return -1;
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 16;
        chdr *nv = realloc(h->v, cap * sizeof(*nv));
        if (!nv)
            return 0;
        h->v = nv;
        h->cap = cap;
    }
    char *n = malloc(nl + 1);
    size_t vlen = value ? strlen(value) : 0;
    char *v = malloc(vlen + 1);
    if (!n || !v) {
        free(n);
        free(v);
        return 0;
    }
    for (size_t i = 0; i <= nl; i++)
        n[i] = (char)((name[i] >= 'A' && name[i] <= 'Z') ? name[i] + 32
                                                         : name[i]);
    size_t o = 0;
    int pending_space = 0;
    for (size_t i = 0; i < vlen; i++) {
        if (is_ws(value[i])) {
            pending_space = o > 0;
            continue;
        }
        if (pending_space)
            v[o++] = ' ';
        pending_space = 0;
        v[o++] = value[i];
    }
    v[o] = '\0';
    h->v[h->n].name = n;
    h->v[h->n].value = v;
    h->v[h->n].order = h->n;
    h->n++;
    return 1;
}

static int chdr_cmp(const void *a, const void *b)
{
    const chdr *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    if (c)
        return c;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* Sort, then write "name:v1,v2\n"... into @p canon and "a;b" into
 * @p signed_out. */
static int hlist_render(hlist *h, char **canon, char **signed_out)
{
    if (h->n > 1) /* qsort() takes no NULL, even for no elements */
        qsort(h->v, h->n, sizeof(*h->v), chdr_cmp);
    sbuf c, s;
    if (!sb_open(&c))
        return 0;
    if (!sb_open(&s)) {
        sb_discard(&c);
        return 0;
    }
    for (size_t i = 0; i < h->n; i++) {
        int first = i == 0 || strcmp(h->v[i - 1].name, h->v[i].name) != 0;
        int last = i + 1 == h->n || strcmp(h->v[i + 1].name, h->v[i].name);
        if (first) {
            fprintf(c.f, "%s:%s", h->v[i].name, h->v[i].value);
            fprintf(s.f, "%s%s", i ? ";" : "", h->v[i].name);
        } else {
            fprintf(c.f, ",%s", h->v[i].value);
        }
        if (last)
            fputc('\n', c.f);
    }
    *canon = sb_take(&c);
    *signed_out = sb_take(&s);
    if (!*canon || !*signed_out) {
        free(*canon);
        free(*signed_out);
        *canon = *signed_out = NULL;
        return 0;
    }
    return 1;
}

/* ------------------------------------------------------------------ */
/* the signature                                                       */
/* ------------------------------------------------------------------ */

void s2r_sigv4_result_free(s2r_sigv4_result *r)
{
    if (!r)
        return;
    free(r->canonical_request);
    free(r->string_to_sign);
    free(r->credential);
    free(r->signed_headers);
    free(r->authorization);
    free(r->query);
    memset(r, 0, sizeof(*r));
}

/* SigningKey from the secret, date, region, service. */
static int signing_key(const s2r_sigv4_options *opt, const char *date8,
                       uint8_t key[32])
{
    size_t sl = strlen(opt->secret_access_key);
    char *k = malloc(sl + 5);
    if (!k)
        return 0;
    memcpy(k, "AWS4", 4);
    memcpy(k + 4, opt->secret_access_key, sl + 1);
    uint8_t a[32], b[32];
    int ok = hmac256(k, sl + 4, date8, 8, a) &&
             hmac256(a, 32, opt->region, strlen(opt->region), b) &&
             hmac256(b, 32, opt->service, strlen(opt->service), a) &&
             hmac256(a, 32, "aws4_request", 12, key);
    OPENSSL_cleanse(k, sl + 4);
    OPENSSL_cleanse(a, sizeof(a));
    OPENSSL_cleanse(b, sizeof(b));
    free(k);
    return ok;
}

/* The request and options are complete and well-formed (per the SigV4
 * signing rules: region, service and key id become scope fields). */
static int check_request(const s2r_sigv4_request *req,
                         const s2r_sigv4_options *opt,
                         const s2r_sigv4_result *out, s2r_error *err)
{
    if (!req || !opt || !out || !req->method || !*req->method)
        return s2r_error_set(err, S2R_EINVAL, "SigV4: no request or method");
    if (!opt->region || !*opt->region || !opt->service || !*opt->service)
        return s2r_error_set(err, S2R_EINVAL, "SigV4: region and service are "
                                        "required");
    if (!opt->access_key_id || !*opt->access_key_id ||
        !opt->secret_access_key || !*opt->secret_access_key)
        return s2r_error_set(err, S2R_EINVAL,
                       "SigV4: access key id and secret access key are "
                       "required");
    if (strpbrk(opt->region, "/\n") || strpbrk(opt->service, "/\n") ||
        strpbrk(opt->access_key_id, "/\n, "))
        return s2r_error_set(err, S2R_EINVAL,
                       "SigV4: region, service and key id may not hold "
                       "'/', ',', spaces or newlines");
    if (opt->now_unix_s < 0 || opt->now_unix_s > 253402300799LL)
        return s2r_error_set(err, S2R_EINVAL, "SigV4: signing time out of range");
    if (opt->presign && (opt->expires_s < 1 || opt->expires_s > 604800))
        return s2r_error_set(err, S2R_EINVAL,
                       "SigV4: X-Amz-Expires must be 1..604800 seconds");
    return S2R_OK;
}

/* What one signing builds on the way (freed by work_free()). */
typedef struct sigv4_work {
    hlist hl;
    qlist ql;
    char *curi, *cquery, *chdrs, *scope;
    char date8[9];
    uint8_t key[32];
    int have_key;
    int with_token; /* the session token is signed */
} sigv4_work;

static void work_free(sigv4_work *w)
{
    if (w->have_key)
        OPENSSL_cleanse(w->key, sizeof(w->key));
    hlist_free(&w->hl);
    qlist_free(&w->ql);
    free(w->curi);
    free(w->cquery);
    free(w->chdrs);
    free(w->scope);
}

/* X-Amz-Date, the date of the scope and the payload hash. */
static int stamp(sigv4_work *w, const s2r_sigv4_request *req,
                 const s2r_sigv4_options *opt, s2r_sigv4_result *out,
                 s2r_error *err)
{
    time_t t = (time_t)opt->now_unix_s;
    struct tm tm;
    if (!gmtime_r(&t, &tm) ||
        strftime(out->amz_date, sizeof(out->amz_date), "%Y%m%dT%H%M%SZ",
                 &tm) != 16)
        return s2r_error_set(err, S2R_EINVAL, "SigV4: signing time out of range");
    memcpy(w->date8, out->amz_date, 8);
    w->date8[8] = '\0';
    uint8_t digest[32];
    static const uint8_t empty = 0;
    SHA256(req->body ? req->body : (const void *)&empty,
           req->body ? req->body_len : 0, digest);
    hex_lower(digest, 32, out->payload_hash);
    return S2R_OK;
}

/* The credential scope DATE/REGION/SERVICE/aws4_request and the
 * Credential value KEYID/scope; 0 on out of memory. */
static int scope_and_credential(sigv4_work *w, const s2r_sigv4_options *opt,
                                s2r_sigv4_result *out)
{
    size_t scope_len = 8 + strlen(opt->region) + strlen(opt->service) + 16;
    w->scope = malloc(scope_len + 1);
    if (!w->scope)
        return 0;
    snprintf(w->scope, scope_len + 1, "%s/%s/%s/aws4_request", w->date8,
             opt->region, opt->service);
    size_t cred_len = strlen(opt->access_key_id) + 1 + scope_len;
    out->credential = malloc(cred_len + 1);
    if (!out->credential)
        return 0;
    snprintf(out->credential, cred_len + 1, "%s/%s", opt->access_key_id,
             w->scope);
    return 1;
}

/* The headers to sign (the caller's, then x-amz-date, the token and the
 * payload hash unless presigning), rendered canonically. @return S2R_OK,
 * S2R_EINVAL (a header name is no HTTP token; err set), S2R_ENOMEM. */
static int signed_headers(sigv4_work *w, const s2r_sigv4_request *req,
                          const s2r_sigv4_options *opt,
                          s2r_sigv4_result *out, s2r_error *err)
{
    for (size_t i = 0; i < req->n_headers; i++) {
        int r = hlist_push(&w->hl, req->headers[i].name,
                           req->headers[i].value);
        if (r < 0)
            return s2r_error_set(err, S2R_EINVAL,
                         "SigV4: header name '%.64s' is not an HTTP token",
                         req->headers[i].name);
        if (r == 0)
            return S2R_ENOMEM;
    }
    if (!opt->presign) {
        if (hlist_push(&w->hl, "x-amz-date", out->amz_date) != 1)
            return S2R_ENOMEM;
        if (w->with_token &&
            hlist_push(&w->hl, "x-amz-security-token", opt->session_token) != 1)
            return S2R_ENOMEM;
        if (opt->sign_content_sha256 &&
            hlist_push(&w->hl, "x-amz-content-sha256", out->payload_hash) != 1)
            return S2R_ENOMEM;
    }
    if (!hlist_render(&w->hl, &w->chdrs, &out->signed_headers))
        return S2R_ENOMEM;
    return S2R_OK;
}

/* The canonical query (the caller's, plus the X-Amz-* parameters when
 * presigning) and the canonical URI; 0 on out of memory. */
static int canonical_query(sigv4_work *w, const s2r_sigv4_request *req,
                           const s2r_sigv4_options *opt,
                           s2r_sigv4_result *out)
{
    if (req->query && !qlist_parse(&w->ql, req->query))
        return 0;
    if (opt->presign) {
        char expires[24];
        snprintf(expires, sizeof(expires), "%lld",
                 (long long)opt->expires_s);
        if (!qlist_push_raw(&w->ql, "X-Amz-Algorithm", S2R_SIGV4_ALGORITHM) ||
            !qlist_push_raw(&w->ql, "X-Amz-Credential", out->credential) ||
            !qlist_push_raw(&w->ql, "X-Amz-Date", out->amz_date) ||
            !qlist_push_raw(&w->ql, "X-Amz-Expires", expires) ||
            !qlist_push_raw(&w->ql, "X-Amz-SignedHeaders",
                            out->signed_headers))
            return 0;
        if (w->with_token &&
            !qlist_push_raw(&w->ql, "X-Amz-Security-Token",
                            opt->session_token))
            return 0;
    }
    w->cquery = qlist_join(&w->ql);
    w->curi = canonical_uri(req->path, opt->normalize_path);
    return w->cquery && w->curi;
}

/* Canonical request, string to sign and signature. @return S2R_OK,
 * S2R_ENOMEM, S2R_ERROR (OpenSSL failed; err set). */
static int sign(sigv4_work *w, const s2r_sigv4_request *req,
                const s2r_sigv4_options *opt, s2r_sigv4_result *out,
                s2r_error *err)
{
    sbuf b;
    if (!sb_open(&b))
        return S2R_ENOMEM;
    fprintf(b.f, "%s\n%s\n%s\n%s\n%s\n%s", req->method, w->curi, w->cquery,
            w->chdrs, out->signed_headers, out->payload_hash);
    out->canonical_request = sb_take(&b);
    if (!out->canonical_request)
        return S2R_ENOMEM;
    uint8_t digest[32];
    SHA256((const uint8_t *)out->canonical_request,
           strlen(out->canonical_request), digest);
    char crhash[65];
    hex_lower(digest, 32, crhash);
    if (!sb_open(&b))
        return S2R_ENOMEM;
    fprintf(b.f, "%s\n%s\n%s\n%s", S2R_SIGV4_ALGORITHM, out->amz_date,
            w->scope, crhash);
    out->string_to_sign = sb_take(&b);
    if (!out->string_to_sign)
        return S2R_ENOMEM;
    uint8_t sig[32];
    if (!signing_key(opt, w->date8, w->key))
        goto crypto;
    w->have_key = 1;
    if (!hmac256(w->key, 32, out->string_to_sign, strlen(out->string_to_sign),
                 sig))
        goto crypto;
    hex_lower(sig, 32, out->signature);
    return S2R_OK;
crypto:
    return s2r_error_set(err, S2R_ERROR, "SigV4: OpenSSL HMAC-SHA256 failed");
}

/* The Authorization value, or the presigned query; 0 on out of memory. */
static int finish(const sigv4_work *w, const s2r_sigv4_options *opt,
                  s2r_sigv4_result *out)
{
    sbuf b;
    if (!sb_open(&b))
        return 0;
    if (opt->presign) {
        fprintf(b.f, "%s%sX-Amz-Signature=%s", w->cquery,
                *w->cquery ? "&" : "", out->signature);
        out->query = sb_take(&b);
        return out->query != NULL;
    }
    fprintf(b.f, "%s Credential=%s, SignedHeaders=%s, Signature=%s",
            S2R_SIGV4_ALGORITHM, out->credential, out->signed_headers,
            out->signature);
    out->authorization = sb_take(&b);
    return out->authorization != NULL;
}

int s2r_sigv4_compute(const s2r_sigv4_request *req,
                      const s2r_sigv4_options *opt, s2r_sigv4_result *out,
                      s2r_error *err)
{
    if (out)
        memset(out, 0, sizeof(*out));
    int rc = check_request(req, opt, out, err);
    if (rc != S2R_OK)
        return rc;
    sigv4_work w = {0};
    w.with_token = opt->session_token && *opt->session_token &&
                   !opt->omit_session_token;
    rc = stamp(&w, req, opt, out, err);
    if (rc != S2R_OK)
        return rc;
    rc = S2R_ENOMEM;
    if (!scope_and_credential(&w, opt, out))
        goto fail;
    if ((rc = signed_headers(&w, req, opt, out, err)) != S2R_OK)
        goto fail;
    rc = S2R_ENOMEM;
    if (!canonical_query(&w, req, opt, out))
        goto fail;
    if ((rc = sign(&w, req, opt, out, err)) != S2R_OK)
        goto fail;
    rc = finish(&w, opt, out) ? S2R_OK : S2R_ENOMEM;
fail:
    if (rc == S2R_ENOMEM)
        s2r_error_set(err, S2R_ENOMEM, "SigV4: out of memory");
    if (rc != S2R_OK)
        s2r_sigv4_result_free(out);
    work_free(&w);
    return rc;
}
