/* test_sigv4.c: the SigV4 signer against every case of the AWS SigV4 test
 * suite (../shared/vectors/sigv4: canonical request, string to sign,
 * signature and Authorization, in header and in query signing), the host
 * table slot, and the credential chain (environment, shared credentials
 * file, config file, profiles).
 *
 * Vectors: $S2R_SIGV4_VECTORS, else $S2R_SHARED_DIR/vectors/sigv4, else
 * $S2R_SOURCE_DIR/../shared/vectors/sigv4. A missing folder fails the
 * test (the vectors are the point of it). */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "plugin/host.h"
#include "aws/aws.h"

/* ------------------------------------------------------------------ */
/* reading a vector                                                    */
/* ------------------------------------------------------------------ */

static char vectors_dir[2048];

static const char *find_vectors(void)
{
    const char *v = getenv("S2R_SIGV4_VECTORS");
    if (v && *v) {
        snprintf(vectors_dir, sizeof(vectors_dir), "%s", v);
        return vectors_dir;
    }
    v = getenv("S2R_SHARED_DIR");
    if (v && *v) {
        snprintf(vectors_dir, sizeof(vectors_dir), "%s/vectors/sigv4", v);
        return vectors_dir;
    }
    v = getenv("S2R_SOURCE_DIR");
    snprintf(vectors_dir, sizeof(vectors_dir),
             "%s/../shared/vectors/sigv4", v && *v ? v : ".");
    return vectors_dir;
}

static char *slurp(const char *dir, const char *name, size_t *len_out)
{
    char path[3072];
    snprintf(path, sizeof(path), "%.2600s/%.255s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *p = malloc(cap);
    size_t r;
    while (p && (r = fread(p + n, 1, cap - n - 1, f)) > 0) {
        n += r;
        if (n + 1 == cap) {
            char *np = realloc(p, cap *= 2);
            if (!np) {
                free(p);
                p = NULL;
            }
            p = np;
        }
    }
    fclose(f);
    if (p)
        p[n] = '\0';
    if (len_out)
        *len_out = n;
    return p;
}

typedef struct vreq {
    char *method, *path, *query;
    s2r_header h[32];
    size_t nh;
    char *body;
    size_t body_len;
    char *text; /* owns the strings above */
} vreq;

/* Parse request.txt: "METHOD TARGET HTTP/1.1", header lines (a line
 * starting with white space continues the previous value), blank line,
 * body. The target may hold spaces (get-space-*). */
static int parse_request(vreq *r, char *text)
{
    memset(r, 0, sizeof(*r));
    r->text = text;
    char *eol = strchr(text, '\n');
    if (!eol)
        return 0;
    *eol = '\0';
    char *sp1 = strchr(text, ' ');
    char *sp2 = strrchr(text, ' ');
    if (!sp1 || sp1 == sp2)
        return 0;
    *sp1 = '\0';
    *sp2 = '\0';
    r->method = text;
    r->path = sp1 + 1;
    char *q = strchr(r->path, '?');
    if (q) {
        *q = '\0';
        r->query = q + 1;
    }
    char *line = eol + 1;
    while (*line) {
        char *next = strchr(line, '\n');
        if (next)
            *next = '\0';
        if (*line == '\0') {
            if (next) {
                r->body = next + 1;
                r->body_len = strlen(r->body);
            }
            break;
        }
        if ((*line == ' ' || *line == '\t') && r->nh > 0) {
            /* folded line: keep it as part of the previous value; the
             * value sits before it in the same buffer, so re-join */
            char *prev = (char *)r->h[r->nh - 1].value;
            size_t pl = strlen(prev);
            prev[pl] = '\n'; /* the NUL we wrote at the previous eol */
            (void)pl;
        } else {
            char *colon = strchr(line, ':');
            if (!colon || r->nh == 32)
                return 0;
            *colon = '\0';
            r->h[r->nh].name = line;
            r->h[r->nh].value = colon + 1;
            r->nh++;
        }
        if (!next)
            break;
        line = next + 1;
    }
    return 1;
}

typedef struct vctx {
    json_object *root;
    const char *ak, *sk, *token, *region, *service;
    int64_t now;
    int normalize, sign_body, omit_token;
    int64_t expires;
} vctx;

static int64_t parse_iso(const char *s)
{
    struct tm tm = {0};
    if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2dZ", &tm.tm_year, &tm.tm_mon,
                     &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (int64_t)timegm(&tm);
}

static const char *jstr(json_object *o, const char *k)
{
    json_object *v;
    return json_object_object_get_ex(o, k, &v) ? json_object_get_string(v)
                                               : NULL;
}

static int jbool(json_object *o, const char *k)
{
    json_object *v;
    return json_object_object_get_ex(o, k, &v) && json_object_get_boolean(v);
}

static int load_context(vctx *c, const char *dir)
{
    memset(c, 0, sizeof(*c));
    char *text = slurp(dir, "context.json", NULL);
    if (!text)
        return 0;
    c->root = json_tokener_parse(text);
    free(text);
    if (!c->root)
        return 0;
    json_object *cred;
    if (!json_object_object_get_ex(c->root, "credentials", &cred))
        return 0;
    c->ak = jstr(cred, "access_key_id");
    c->sk = jstr(cred, "secret_access_key");
    c->token = jstr(cred, "token");
    c->region = jstr(c->root, "region");
    c->service = jstr(c->root, "service");
    c->now = parse_iso(jstr(c->root, "timestamp"));
    c->normalize = jbool(c->root, "normalize");
    c->sign_body = jbool(c->root, "sign_body");
    c->omit_token = jbool(c->root, "omit_session_token");
    json_object *e;
    c->expires = json_object_object_get_ex(c->root, "expiration_in_seconds",
                                           &e)
                     ? json_object_get_int64(e)
                     : 3600;
    return c->ak && c->sk && c->region && c->service && c->now > 0;
}

/* ------------------------------------------------------------------ */
/* one vector, one mode                                                */
/* ------------------------------------------------------------------ */

typedef struct vcase {
    char dir[2600];
    char name[300];
    int presign;
} vcase;

static void expect_file(const char *dir, const char *file, const char *got)
{
    char *want = slurp(dir, file, NULL);
    if (!want)
        fail_msg("%s/%s: missing", dir, file);
    if (strcmp(want, got) != 0)
        fail_msg("%s/%s differs\n--- want\n%s\n--- got\n%s", dir, file, want,
                 got);
    free(want);
}

static void test_sigv4__vector(void **state)
{
    const vcase *vc = *state;
    char *text = slurp(vc->dir, "request.txt", NULL);
    assert_non_null(text);
    vreq r;
    assert_true(parse_request(&r, text));
    vctx c;
    assert_true(load_context(&c, vc->dir));

    s2r_sigv4_request sr = {r.method, r.path, r.query, r.h, r.nh, r.body,
                            r.body_len};
    s2r_sigv4_options so = {0};
    so.region = c.region;
    so.service = c.service;
    so.access_key_id = c.ak;
    so.secret_access_key = c.sk;
    so.session_token = c.token;
    so.now_unix_s = c.now;
    so.normalize_path = c.normalize;
    so.omit_session_token = c.omit_token;
    so.presign = vc->presign;
    so.expires_s = c.expires;
    so.sign_content_sha256 = c.sign_body && !vc->presign;
    s2r_sigv4_result res;
    s2r_error err = {0};
    int rc = s2r_sigv4_compute(&sr, &so, &res, &err);
    if (rc != S2R_OK)
        fail_msg("%s: %s", vc->name, err.message);

    const char *mode = vc->presign ? "query" : "header";
    char f[64];
    snprintf(f, sizeof(f), "%s-canonical-request.txt", mode);
    expect_file(vc->dir, f, res.canonical_request);
    snprintf(f, sizeof(f), "%s-string-to-sign.txt", mode);
    expect_file(vc->dir, f, res.string_to_sign);
    snprintf(f, sizeof(f), "%s-signature.txt", mode);
    expect_file(vc->dir, f, res.signature);

    /* the signed request carries exactly our Authorization (header) or
     * X-Amz-Signature (query) */
    snprintf(f, sizeof(f), "%s-signed-request.txt", mode);
    char *signed_req = slurp(vc->dir, f, NULL);
    assert_non_null(signed_req);
    if (vc->presign) {
        char want[128];
        snprintf(want, sizeof(want), "X-Amz-Signature=%s", res.signature);
        assert_non_null(strstr(signed_req, want));
        assert_non_null(res.query);
        assert_null(res.authorization);
        assert_non_null(strstr(res.query, want));
    } else {
        char *want = NULL;
        assert_true(asprintf(&want, "Authorization:%s\n",
                             res.authorization) > 0);
        if (!strstr(signed_req, want))
            fail_msg("%s: Authorization differs: got %s", vc->name,
                     res.authorization);
        free(want);
        assert_null(res.query);
    }
    free(signed_req);
    s2r_sigv4_result_free(&res);
    json_object_put(c.root);
    free(text);
}

/* ------------------------------------------------------------------ */
/* encoding and normalization details                                  */
/* ------------------------------------------------------------------ */

static s2r_sigv4_options fixed_opts(void)
{
    s2r_sigv4_options o = {0};
    o.region = "us-east-1";
    o.service = "bedrock";
    o.access_key_id = "AKIDEXAMPLE";
    o.secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    o.now_unix_s = 1440938160; /* 2015-08-30T12:36:00Z */
    o.normalize_path = 1;
    return o;
}

static char *canonical_line(const char *path, const char *query, int line)
{
    s2r_header h[] = {{"Host", "bedrock-runtime.us-east-1.amazonaws.com"}};
    s2r_sigv4_request r = {"POST", path, query, h, 1, "{}", 2};
    s2r_sigv4_options o = fixed_opts();
    s2r_sigv4_result res;
    s2r_error err = {0};
    assert_int_equal(s2r_sigv4_compute(&r, &o, &res, &err), S2R_OK);
    char *p = res.canonical_request;
    for (int i = 0; i < line; i++)
        p = strchr(p, '\n') + 1;
    char *e = strchr(p, '\n');
    char *out = strndup(p, (size_t)(e - p));
    s2r_sigv4_result_free(&res);
    return out;
}

static void test_sigv4__model_id_colon_is_double_encoded(void **state)
{
    (void)state;
    char *uri = canonical_line(
        "/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/invoke", NULL, 1);
    assert_string_equal(
        uri, "/model/anthropic.claude-3-5-sonnet-20240620-v1%253A0/invoke");
    free(uri);
    /* an inference-profile ARN: every ':' and '/' of the id */
    uri = canonical_line("/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123%3A"
                         "inference-profile%2Fus.anthropic.x/converse",
                         NULL, 1);
    assert_string_equal(uri, "/model/arn%253Aaws%253Abedrock%253Aus-east-1"
                             "%253A123%253Ainference-profile%252Fus."
                             "anthropic.x/converse");
    free(uri);
}

static void test_sigv4__query_is_sorted_and_strictly_encoded(void **state)
{
    (void)state;
    char *q = canonical_line("/", "b=2&a=3&a=1&c&sp=a%20b&plus=a+b&sl=a/b",
                             2);
    assert_string_equal(q, "a=1&a=3&b=2&c=&plus=a%2Bb&sl=a%2Fb&sp=a%20b");
    free(q);
    /* no parameters (and no list to sort: qsort() takes no NULL, which
     * -fsanitize=undefined reports) */
    q = canonical_line("/", "", 2);
    assert_string_equal(q, "");
    free(q);
    q = canonical_line("/", NULL, 2);
    assert_string_equal(q, "");
    free(q);
}

static void test_sigv4__uri_encode(void **state)
{
    (void)state;
    char *e = s2r_sigv4_uri_encode("a b/c:d~e\xe1\x88\xb4", 12, 1);
    assert_string_equal(e, "a%20b/c%3Ad~e%E1%88%B4");
    free(e);
    e = s2r_sigv4_uri_encode("a/b", 3, 0);
    assert_string_equal(e, "a%2Fb");
    free(e);
}

static void test_sigv4__refuses_bad_input(void **state)
{
    (void)state;
    s2r_header h[] = {{"Bad Name", "x"}};
    s2r_sigv4_request r = {"GET", "/", NULL, h, 1, NULL, 0};
    s2r_sigv4_options o = fixed_opts();
    s2r_sigv4_result res;
    s2r_error err = {0};
    assert_int_equal(s2r_sigv4_compute(&r, &o, &res, &err), S2R_EINVAL);
    assert_non_null(strstr(err.message, "Bad Name"));
    r.n_headers = 0;
    o.secret_access_key = NULL;
    assert_int_equal(s2r_sigv4_compute(&r, &o, &res, &err), S2R_EINVAL);
    o = fixed_opts();
    o.region = "";
    assert_int_equal(s2r_sigv4_compute(&r, &o, &res, &err), S2R_EINVAL);
    o = fixed_opts();
    o.presign = 1;
    o.expires_s = 0;
    assert_int_equal(s2r_sigv4_compute(&r, &o, &res, &err), S2R_EINVAL);
    o = fixed_opts();
    o.now_unix_s = -1;
    assert_int_equal(s2r_sigv4_compute(&r, &o, &res, &err), S2R_EINVAL);
    /* no secret in any message */
    assert_null(strstr(err.message, "wJalr"));
}

/* ------------------------------------------------------------------ */
/* the host table slot                                                 */
/* ------------------------------------------------------------------ */

static const char *find_out(const s2r_header_out *h, uint32_t n,
                            const char *name)
{
    for (uint32_t i = 0; i < n; i++)
        if (strcasecmp(h[i].name, name) == 0)
            return h[i].value;
    return NULL;
}

static void test_sigv4__host_slot_signs_url_headers_and_body(void **state)
{
    (void)state;
    const s2r_host *host = s2r_host_table();
    assert_non_null(host->aws_sigv4_sign);
    s2r_sigv4_params p = {sizeof(p), 0, "us-west-2", "bedrock", "AKIDEXAMPLE",
                          "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "TOKEN",
                          1440938160};
    s2r_header rh[] = {{"Content-Type", "application/json"},
                       {"Accept", "application/json"},
                       {"User-Agent", "s2r"}};
    const char *body = "{\"messages\":[]}";
    s2r_http_request req = {0};
    req.struct_size = sizeof(req);
    req.method = "POST";
    req.url = "https://bedrock-runtime.us-west-2.amazonaws.com:443/model/"
              "anthropic.claude-3-haiku-20240307-v1%3A0/invoke";
    req.headers = rh;
    req.n_headers = 3;
    req.body = body;
    req.body_len = strlen(body);
    s2r_header_out out[6];
    uint32_t n = 0;
    s2r_error err = {0};
    int rc = host->aws_sigv4_sign(NULL, &p, &req, out, 6, &n, &err);
    if (rc != S2R_OK)
        fail_msg("%s", err.message);
    assert_int_equal(n, 4);
    assert_string_equal(find_out(out, n, "X-Amz-Date"), "20150830T123600Z");
    assert_string_equal(find_out(out, n, "X-Amz-Security-Token"), "TOKEN");
    const char *auth = find_out(out, n, "Authorization");
    assert_non_null(auth);
    assert_non_null(strstr(auth, "Credential=AKIDEXAMPLE/20150830/us-west-2/"
                                 "bedrock/aws4_request, "));
    /* user-agent is not signed; the default port is not in Host */
    assert_non_null(strstr(auth, "SignedHeaders=accept;content-type;host;"
                                 "x-amz-content-sha256;x-amz-date;"
                                 "x-amz-security-token, "));

    /* the same signature as the signer given the wire form directly */
    s2r_header sh[] = {{"Content-Type", "application/json"},
                       {"Accept", "application/json"},
                       {"Host", "bedrock-runtime.us-west-2.amazonaws.com"}};
    s2r_sigv4_request sr = {
        "POST", "/model/anthropic.claude-3-haiku-20240307-v1%3A0/invoke",
        NULL, sh, 3, body, strlen(body)};
    s2r_sigv4_options so = fixed_opts();
    so.region = "us-west-2";
    so.session_token = "TOKEN";
    so.sign_content_sha256 = 1;
    s2r_sigv4_result res;
    assert_int_equal(s2r_sigv4_compute(&sr, &so, &res, &err), S2R_OK);
    assert_string_equal(auth, res.authorization);
    assert_string_equal(find_out(out, n, "X-Amz-Content-Sha256"),
                        res.payload_hash);
    s2r_sigv4_result_free(&res);

    /* a non-default port stays in Host */
    req.url = "http://127.0.0.1:8123/";
    req.n_headers = 0;
    rc = host->aws_sigv4_sign(NULL, &p, &req, out, 6, &n, &err);
    assert_int_equal(rc, S2R_OK);
    s2r_header sh2[] = {{"host", "127.0.0.1:8123"}};
    s2r_sigv4_request sr2 = {"POST", "/", NULL, sh2, 1, body, strlen(body)};
    assert_int_equal(s2r_sigv4_compute(&sr2, &so, &res, &err), S2R_OK);
    assert_string_equal(find_out(out, n, "Authorization"), res.authorization);
    s2r_sigv4_result_free(&res);

    /* too few slots */
    rc = host->aws_sigv4_sign(NULL, &p, &req, out, 3, &n, &err);
    assert_int_equal(rc, S2R_ETOOBIG);
    assert_int_equal(n, 0);
}

static void test_sigv4__host_slot_uses_environment_credentials(void **state)
{
    (void)state;
    setenv("AWS_ACCESS_KEY_ID", "AKIAENVEXAMPLE", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "envsecret", 1);
    unsetenv("AWS_SESSION_TOKEN");
    unsetenv("AWS_SECURITY_TOKEN");
    s2r_sigv4_params p = {sizeof(p), 0, "eu-west-1", "dynamodb", NULL, NULL,
                          NULL, 0};
    s2r_http_request req = {0};
    req.struct_size = sizeof(req);
    req.url = "http://127.0.0.1:8000/";
    req.body = "{}";
    req.body_len = 2;
    s2r_header_out out[4];
    uint32_t n = 0;
    s2r_error err = {0};
    assert_int_equal(
        s2r_host_table()->aws_sigv4_sign(NULL, &p, &req, out, 4, &n, &err),
        S2R_OK);
    assert_int_equal(n, 3); /* no token */
    assert_non_null(strstr(find_out(out, n, "Authorization"),
                           "Credential=AKIAENVEXAMPLE/"));
    /* the date is today's */
    char today[9];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(today, sizeof(today), "%Y%m%d", &tm);
    assert_memory_equal(find_out(out, n, "X-Amz-Date"), today, 8);
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");
}

/* ------------------------------------------------------------------ */
/* credentials                                                         */
/* ------------------------------------------------------------------ */

static char tmpdir[256];

static void write_file(const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int cred_setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/s2r-sigv4-XXXXXX");
    if (!mkdtemp(tmpdir))
        return -1;
    char p[512];
    snprintf(p, sizeof(p), "%s/.aws", tmpdir);
    mkdir(p, 0700);
    setenv("HOME", tmpdir, 1);
    static const char *const vars[] = {
        "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
        "AWS_SECURITY_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
        "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE", NULL};
    for (size_t i = 0; vars[i]; i++)
        unsetenv(vars[i]);
    return 0;
}

static int cred_teardown(void **state)
{
    (void)state;
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_sigv4__credentials_from_environment_first(void **state)
{
    (void)state;
    write_file(".aws/credentials",
               "[default]\naws_access_key_id = AKIAFILE\n"
               "aws_secret_access_key = filesecret\n");
    setenv("AWS_ACCESS_KEY_ID", "AKIAENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "envsecret", 1);
    setenv("AWS_SESSION_TOKEN", "envtoken", 1);
    s2r_aws_credentials c;
    s2r_error err = {0};
    assert_int_equal(s2r_aws_credentials_load(&c, NULL, &err), S2R_OK);
    assert_string_equal(c.access_key_id, "AKIAENV");
    assert_string_equal(c.secret_access_key, "envsecret");
    assert_string_equal(c.session_token, "envtoken");
    assert_string_equal(c.source, "environment");
    s2r_aws_credentials_free(&c);
    assert_null(c.access_key_id);
    /* an explicit profile skips the environment */
    assert_int_equal(s2r_aws_credentials_load(&c, "default", &err), S2R_OK);
    assert_string_equal(c.access_key_id, "AKIAFILE");
    assert_null(c.session_token);
    s2r_aws_credentials_free(&c);
    /* half an environment pair is an error naming the missing variable */
    unsetenv("AWS_SECRET_ACCESS_KEY");
    assert_int_equal(s2r_aws_credentials_load(&c, NULL, &err), S2R_EINVAL);
    assert_non_null(strstr(err.message, "AWS_SECRET_ACCESS_KEY"));
}

static void test_sigv4__credentials_from_shared_file_and_profile(void **state)
{
    (void)state;
    write_file(".aws/credentials",
               "# comment\n[default]\naws_access_key_id = AKIADEF\n"
               "aws_secret_access_key = defsecret\n\n"
               "[ci]\naws_access_key_id=AKIACI\n"
               "aws_secret_access_key=cisecret\n"
               "aws_session_token=citoken\n");
    s2r_aws_credentials c;
    s2r_error err = {0};
    assert_int_equal(s2r_aws_credentials_load(&c, NULL, &err), S2R_OK);
    assert_string_equal(c.access_key_id, "AKIADEF");
    assert_non_null(strstr(c.source, ".aws/credentials [default]"));
    s2r_aws_credentials_free(&c);
    setenv("AWS_PROFILE", "ci", 1);
    assert_int_equal(s2r_aws_credentials_load(&c, NULL, &err), S2R_OK);
    assert_string_equal(c.access_key_id, "AKIACI");
    assert_string_equal(c.secret_access_key, "cisecret");
    assert_string_equal(c.session_token, "citoken");
    s2r_aws_credentials_free(&c);
    /* AWS_SHARED_CREDENTIALS_FILE moves the file */
    write_file("other", "[ci]\naws_access_key_id=AKIAOTHER\n"
                        "aws_secret_access_key=o\n");
    char p[512];
    snprintf(p, sizeof(p), "%s/other", tmpdir);
    setenv("AWS_SHARED_CREDENTIALS_FILE", p, 1);
    assert_int_equal(s2r_aws_credentials_load(&c, NULL, &err), S2R_OK);
    assert_string_equal(c.access_key_id, "AKIAOTHER");
    s2r_aws_credentials_free(&c);
    unsetenv("AWS_SHARED_CREDENTIALS_FILE");
    unsetenv("AWS_PROFILE");
}

static void test_sigv4__credentials_from_config_file(void **state)
{
    (void)state;
    write_file(".aws/config", "[default]\nregion = us-east-1\n"
                              "[profile dev]\naws_access_key_id = AKIADEV\n"
                              "aws_secret_access_key = devsecret\n");
    s2r_aws_credentials c;
    s2r_error err = {0};
    assert_int_equal(s2r_aws_credentials_load(&c, "dev", &err), S2R_OK);
    assert_string_equal(c.access_key_id, "AKIADEV");
    assert_non_null(strstr(c.source, ".aws/config [dev]"));
    s2r_aws_credentials_free(&c);
}

static void test_sigv4__credentials_missing_or_half(void **state)
{
    (void)state;
    s2r_aws_credentials c;
    s2r_error err = {0};
    assert_int_equal(s2r_aws_credentials_load(&c, "nope", &err),
                     S2R_ENOTFOUND);
    assert_non_null(strstr(err.message, "AWS_ACCESS_KEY_ID"));
    assert_non_null(strstr(err.message, "[nope]"));
    write_file(".aws/credentials",
               "[half]\naws_access_key_id = AKIAHALF\n");
    assert_int_equal(s2r_aws_credentials_load(&c, "half", &err), S2R_EINVAL);
    assert_non_null(strstr(err.message, "aws_secret_access_key"));
    /* the host slot reports the same, without crashing */
    setenv("AWS_PROFILE", "nope", 1);
    s2r_sigv4_params p = {sizeof(p), 0, "us-east-1", "bedrock", NULL, NULL,
                          NULL, 0};
    s2r_http_request req = {0};
    req.struct_size = sizeof(req);
    req.url = "http://127.0.0.1:1/";
    s2r_header_out out[4];
    uint32_t n = 7;
    assert_int_equal(
        s2r_host_table()->aws_sigv4_sign(NULL, &p, &req, out, 4, &n, &err),
        S2R_ENOTFOUND);
    assert_int_equal(n, 0);
    unsetenv("AWS_PROFILE");
}

/* ------------------------------------------------------------------ */

static int name_cmp(const void *a, const void *b)
{
    return strcmp(((const vcase *)a)->name, ((const vcase *)b)->name);
}

int main(void)
{
    const char *dir = find_vectors();
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "test_sigv4: no SigV4 vectors at %s (set "
                        "S2R_SIGV4_VECTORS or S2R_SHARED_DIR)\n", dir);
        return 1;
    }
    vcase *cases = NULL;
    size_t nc = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char probe[2400];
        snprintf(probe, sizeof(probe), "%.2047s/%.255s/request.txt", dir,
                 e->d_name);
        if (access(probe, R_OK) != 0)
            continue;
        for (int presign = 0; presign < 2; presign++) {
            if (nc == cap) {
                cap = cap ? cap * 2 : 64;
                cases = realloc(cases, cap * sizeof(*cases));
                if (!cases)
                    return 1;
            }
            vcase *vc = &cases[nc++];
            snprintf(vc->dir, sizeof(vc->dir), "%.2047s/%.255s", dir,
                     e->d_name);
            snprintf(vc->name, sizeof(vc->name), "%.255s (%s)", e->d_name,
                     presign ? "query" : "header");
            vc->presign = presign;
        }
    }
    closedir(d);
    if (nc == 0) {
        fprintf(stderr, "test_sigv4: %s holds no vectors\n", dir);
        return 1;
    }
    qsort(cases, nc, sizeof(*cases), name_cmp);

    static const struct CMUnitTest fixed[] = {
        cmocka_unit_test(test_sigv4__model_id_colon_is_double_encoded),
        cmocka_unit_test(test_sigv4__query_is_sorted_and_strictly_encoded),
        cmocka_unit_test(test_sigv4__uri_encode),
        cmocka_unit_test(test_sigv4__refuses_bad_input),
        cmocka_unit_test(test_sigv4__host_slot_signs_url_headers_and_body),
        cmocka_unit_test(test_sigv4__host_slot_uses_environment_credentials),
        cmocka_unit_test_setup_teardown(
            test_sigv4__credentials_from_environment_first, cred_setup,
            cred_teardown),
        cmocka_unit_test_setup_teardown(
            test_sigv4__credentials_from_shared_file_and_profile, cred_setup,
            cred_teardown),
        cmocka_unit_test_setup_teardown(
            test_sigv4__credentials_from_config_file, cred_setup,
            cred_teardown),
        cmocka_unit_test_setup_teardown(test_sigv4__credentials_missing_or_half,
                                        cred_setup, cred_teardown),
    };
    size_t nfixed = sizeof(fixed) / sizeof(fixed[0]);
    struct CMUnitTest *tests = calloc(nc + nfixed, sizeof(*tests));
    if (!tests)
        return 1;
    for (size_t i = 0; i < nc; i++) {
        tests[i].name = cases[i].name;
        tests[i].test_func = test_sigv4__vector;
        tests[i].initial_state = &cases[i];
    }
    memcpy(tests + nc, fixed, sizeof(fixed));
    int failed = _cmocka_run_group_tests("sigv4", tests, nc + nfixed, NULL,
                                         NULL);
    free(tests);
    free(cases);
    return failed;
}
