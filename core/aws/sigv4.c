/* sigv4.c: AWS Signature Version 4 on OpenSSL, AWS credentials from the
 * environment and the shared files, and the host table's aws_sigv4_sign
 * slot. See sigv4.h for the algorithm and the rules. */
#include "aws.h"
#include <s2r/s2r.h>
#include "plugin/host.h"

#include <curl/curl.h>
#include <ini.h>
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

int s2r_sigv4_compute(const s2r_sigv4_request *req,
                      const s2r_sigv4_options *opt, s2r_sigv4_result *out,
                      s2r_error *err)
{
    if (out)
        memset(out, 0, sizeof(*out));
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

    /* time */
    time_t t = (time_t)opt->now_unix_s;
    struct tm tm;
    if (!gmtime_r(&t, &tm) ||
        strftime(out->amz_date, sizeof(out->amz_date), "%Y%m%dT%H%M%SZ",
                 &tm) != 16)
        return s2r_error_set(err, S2R_EINVAL, "SigV4: signing time out of range");
    char date8[9];
    memcpy(date8, out->amz_date, 8);
    date8[8] = '\0';

    /* payload */
    uint8_t digest[32];
    static const uint8_t empty = 0;
    SHA256(req->body ? req->body : (const void *)&empty,
           req->body ? req->body_len : 0, digest);
    hex_lower(digest, 32, out->payload_hash);

    int rc = S2R_ENOMEM;
    hlist hl = {0};
    qlist ql = {0};
    char *curi = NULL, *cquery = NULL, *chdrs = NULL, *scope = NULL;
    uint8_t key[32];
    int have_key = 0;

    size_t scope_len = 8 + strlen(opt->region) + strlen(opt->service) + 16;
    scope = malloc(scope_len + 1);
    if (!scope)
        goto fail;
    snprintf(scope, scope_len + 1, "%s/%s/%s/aws4_request", date8,
             opt->region, opt->service);
    size_t cred_len = strlen(opt->access_key_id) + 1 + scope_len;
    out->credential = malloc(cred_len + 1);
    if (!out->credential)
        goto fail;
    snprintf(out->credential, cred_len + 1, "%s/%s", opt->access_key_id,
             scope);

    /* headers to sign */
    for (size_t i = 0; i < req->n_headers; i++) {
        int r = hlist_push(&hl, req->headers[i].name,
                           req->headers[i].value);
        if (r < 0) {
            rc = s2r_error_set(err, S2R_EINVAL,
                         "SigV4: header name '%.64s' is not an HTTP token",
                         req->headers[i].name);
            goto fail;
        }
        if (r == 0)
            goto fail;
    }
    int with_token = opt->session_token && *opt->session_token &&
                     !opt->omit_session_token;
    if (!opt->presign) {
        if (hlist_push(&hl, "x-amz-date", out->amz_date) != 1)
            goto fail;
        if (with_token &&
            hlist_push(&hl, "x-amz-security-token", opt->session_token) != 1)
            goto fail;
        if (opt->sign_content_sha256 &&
            hlist_push(&hl, "x-amz-content-sha256", out->payload_hash) != 1)
            goto fail;
    }
    if (!hlist_render(&hl, &chdrs, &out->signed_headers))
        goto fail;

    /* query */
    if (req->query && !qlist_parse(&ql, req->query))
        goto fail;
    if (opt->presign) {
        char expires[24];
        snprintf(expires, sizeof(expires), "%lld",
                 (long long)opt->expires_s);
        if (!qlist_push_raw(&ql, "X-Amz-Algorithm", S2R_SIGV4_ALGORITHM) ||
            !qlist_push_raw(&ql, "X-Amz-Credential", out->credential) ||
            !qlist_push_raw(&ql, "X-Amz-Date", out->amz_date) ||
            !qlist_push_raw(&ql, "X-Amz-Expires", expires) ||
            !qlist_push_raw(&ql, "X-Amz-SignedHeaders", out->signed_headers))
            goto fail;
        if (with_token &&
            !qlist_push_raw(&ql, "X-Amz-Security-Token", opt->session_token))
            goto fail;
    }
    cquery = qlist_join(&ql);
    curi = canonical_uri(req->path, opt->normalize_path);
    if (!cquery || !curi)
        goto fail;

    /* canonical request, string to sign, signature */
    sbuf b;
    if (!sb_open(&b))
        goto fail;
    fprintf(b.f, "%s\n%s\n%s\n%s\n%s\n%s", req->method, curi, cquery, chdrs,
            out->signed_headers, out->payload_hash);
    out->canonical_request = sb_take(&b);
    if (!out->canonical_request)
        goto fail;
    SHA256((const uint8_t *)out->canonical_request,
           strlen(out->canonical_request), digest);
    char crhash[65];
    hex_lower(digest, 32, crhash);
    if (!sb_open(&b))
        goto fail;
    fprintf(b.f, "%s\n%s\n%s\n%s", S2R_SIGV4_ALGORITHM, out->amz_date, scope,
            crhash);
    out->string_to_sign = sb_take(&b);
    if (!out->string_to_sign)
        goto fail;
    if (!signing_key(opt, date8, key))
        goto crypto;
    have_key = 1;
    uint8_t sig[32];
    if (!hmac256(key, 32, out->string_to_sign, strlen(out->string_to_sign),
                 sig))
        goto crypto;
    hex_lower(sig, 32, out->signature);

    if (!sb_open(&b))
        goto fail;
    if (opt->presign) {
        fprintf(b.f, "%s%sX-Amz-Signature=%s", cquery, *cquery ? "&" : "",
                out->signature);
        out->query = sb_take(&b);
        if (!out->query)
            goto fail;
    } else {
        fprintf(b.f, "%s Credential=%s, SignedHeaders=%s, Signature=%s",
                S2R_SIGV4_ALGORITHM, out->credential, out->signed_headers,
                out->signature);
        out->authorization = sb_take(&b);
        if (!out->authorization)
            goto fail;
    }
    rc = S2R_OK;
    goto done;

crypto:
    rc = s2r_error_set(err, S2R_ERROR, "SigV4: OpenSSL HMAC-SHA256 failed");
    goto done;
fail:
    if (rc == S2R_ENOMEM)
        s2r_error_set(err, S2R_ENOMEM, "SigV4: out of memory");
done:
    if (have_key)
        OPENSSL_cleanse(key, sizeof(key));
    if (rc != S2R_OK)
        s2r_sigv4_result_free(out);
    hlist_free(&hl);
    qlist_free(&ql);
    free(curi);
    free(cquery);
    free(chdrs);
    free(scope);
    return rc;
}

/* ------------------------------------------------------------------ */
/* credentials                                                         */
/* ------------------------------------------------------------------ */

static void wipe_free(char *s)
{
    if (s) {
        OPENSSL_cleanse(s, strlen(s));
        free(s);
    }
}

void s2r_aws_credentials_free(s2r_aws_credentials *c)
{
    if (!c)
        return;
    wipe_free(c->access_key_id);
    wipe_free(c->secret_access_key);
    wipe_free(c->session_token);
    memset(c, 0, sizeof(*c));
}

static const char *nonempty_env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

struct ini_find {
    const char *section;
    s2r_aws_credentials *out;
    int seen;   /* the section exists */
    int oom;
};

static int dup_into(char **dst, const char *v)
{
    wipe_free(*dst);
    *dst = strdup(v);
    return *dst != NULL;
}

static int on_ini(void *user, const char *section, const char *name,
                  const char *value)
{
    struct ini_find *f = user;
    if (strcmp(section, f->section) != 0)
        return 1;
    f->seen = 1;
    if (!name)
        return 1; /* section header (INI_CALL_HANDLER_ON_NEW_SECTION) */
    char **dst = NULL;
    if (strcasecmp(name, "aws_access_key_id") == 0)
        dst = &f->out->access_key_id;
    else if (strcasecmp(name, "aws_secret_access_key") == 0)
        dst = &f->out->secret_access_key;
    else if (strcasecmp(name, "aws_session_token") == 0 ||
             (strcasecmp(name, "aws_security_token") == 0 &&
              !f->out->session_token))
        dst = &f->out->session_token;
    if (dst && *value && !dup_into(dst, value))
        f->oom = 1;
    return 1;
}

/* Read @p section of @p path. 1 found (both keys), 0 not there, -1 error
 * (err set). */
static int creds_from_file(const char *path, const char *section,
                           const char *label, s2r_aws_credentials *out,
                           s2r_error *err)
{
    FILE *fp = fopen(path, "r");
    if (!fp)
        return 0;
    s2r_aws_credentials c = {0};
    struct ini_find f = {section, &c, 0, 0};
    int r = ini_parse_file(fp, on_ini, &f);
    fclose(fp);
    if (f.oom) {
        s2r_aws_credentials_free(&c);
        s2r_error_set(err, S2R_ENOMEM, "out of memory reading %s", path);
        return -1;
    }
    if (r != 0 && !c.access_key_id) {
        s2r_aws_credentials_free(&c);
        s2r_error_set(err, S2R_EINVAL, "%s: line %d: not an INI line", path, r);
        return -1;
    }
    if (!c.access_key_id && !c.secret_access_key) {
        s2r_aws_credentials_free(&c);
        return 0;
    }
    if (!c.access_key_id || !c.secret_access_key) {
        s2r_aws_credentials_free(&c);
        s2r_error_set(err, S2R_EINVAL,
                "%s: profile [%s] has %s but not %s", path, label,
                c.access_key_id ? "aws_access_key_id"
                                : "aws_secret_access_key",
                c.access_key_id ? "aws_secret_access_key"
                                : "aws_access_key_id");
        return -1;
    }
    *out = c;
    snprintf(out->source, sizeof(out->source), "%s [%s]", path, label);
    return 1;
}

int s2r_aws_credentials_load(s2r_aws_credentials *out, const char *profile,
                             s2r_error *err)
{
    if (!out)
        return s2r_error_set(err, S2R_EINVAL, "no output for AWS credentials");
    memset(out, 0, sizeof(*out));
    int explicit_profile = profile && *profile;
    if (!explicit_profile) {
        const char *ak = nonempty_env("AWS_ACCESS_KEY_ID");
        const char *sk = nonempty_env("AWS_SECRET_ACCESS_KEY");
        const char *tok = nonempty_env("AWS_SESSION_TOKEN");
        if (!tok)
            tok = nonempty_env("AWS_SECURITY_TOKEN");
        if (ak && sk) {
            out->access_key_id = strdup(ak);
            out->secret_access_key = strdup(sk);
            out->session_token = tok ? strdup(tok) : NULL;
            if (!out->access_key_id || !out->secret_access_key ||
                (tok && !out->session_token)) {
                s2r_aws_credentials_free(out);
                return s2r_error_set(err, S2R_ENOMEM, "out of memory");
            }
            snprintf(out->source, sizeof(out->source), "environment");
            return S2R_OK;
        }
        if (ak || sk)
            return s2r_error_set(err, S2R_EINVAL,
                           "%s is set but %s is not",
                           ak ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
                           ak ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
        profile = nonempty_env("AWS_PROFILE");
        if (!profile)
            profile = nonempty_env("AWS_DEFAULT_PROFILE");
        if (!profile)
            profile = "default";
    }
    const char *home = nonempty_env("HOME");
    char cred_path[1024], conf_path[1024];
    const char *p = nonempty_env("AWS_SHARED_CREDENTIALS_FILE");
    if (p)
        snprintf(cred_path, sizeof(cred_path), "%s", p);
    else
        snprintf(cred_path, sizeof(cred_path), "%s/.aws/credentials",
                 home ? home : "");
    p = nonempty_env("AWS_CONFIG_FILE");
    if (p)
        snprintf(conf_path, sizeof(conf_path), "%s", p);
    else
        snprintf(conf_path, sizeof(conf_path), "%s/.aws/config",
                 home ? home : "");

    int r = creds_from_file(cred_path, profile, profile, out, err);
    if (r != 0)
        return r > 0 ? S2R_OK : err ? err->code : S2R_EINVAL;
    char section[256];
    if (strcmp(profile, "default") == 0)
        snprintf(section, sizeof(section), "default");
    else
        snprintf(section, sizeof(section), "profile %s", profile);
    r = creds_from_file(conf_path, section, profile, out, err);
    if (r != 0)
        return r > 0 ? S2R_OK : err ? err->code : S2R_EINVAL;
    return s2r_error_set(err, S2R_ENOTFOUND,
                   "no AWS credentials: set AWS_ACCESS_KEY_ID and "
                   "AWS_SECRET_ACCESS_KEY, or add profile [%s] to %s "
                   "(AWS_SHARED_CREDENTIALS_FILE, AWS_PROFILE)",
                   profile, cred_path);
}

/* ------------------------------------------------------------------ */
/* the host table slot                                                 */
/* ------------------------------------------------------------------ */

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
    const char *method = req->method ? req->method
                                     : (req->body ? "POST" : "GET");
    s2r_sigv4_request sr = {method, path, query, hv, nh, req->body,
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
    if (rc != S2R_OK)
        goto out;
    uint32_t n = 0;
    if (!put_header(headers_out, max_headers, &n, "X-Amz-Date",
                    res.amz_date) ||
        !put_header(headers_out, max_headers, &n, "X-Amz-Content-Sha256",
                    res.payload_hash) ||
        (tok && *tok &&
         !put_header(headers_out, max_headers, &n, "X-Amz-Security-Token",
                     tok)) ||
        !put_header(headers_out, max_headers, &n, "Authorization",
                    res.authorization)) {
        if (headers_out && max_headers)
            OPENSSL_cleanse(headers_out, sizeof(*headers_out) * max_headers);
        rc = s2r_error_set(err, S2R_ETOOBIG,
                     "aws_sigv4_sign: %u header slots are not enough "
                     "(need %d)", max_headers, tok && *tok ? 4 : 3);
        goto out;
    }
    *n_out = n;
out:
    s2r_sigv4_result_free(&res);
    free(hv);
    free(host);
    free(path);
    free(query);
    s2r_aws_credentials_free(&creds);
    return rc;
}
