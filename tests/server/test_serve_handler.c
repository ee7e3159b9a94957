/* test_serve_handler.c: the request handler with the real auth-hmac and
 * ratelimit-sqlite plugins, without a network: every route and status,
 * the JSON answers (the same text as a local conversion), ?format=,
 * ?dry_run=1, the size limit, refused scripts, the rate limit with
 * Retry-After, the [server] settings, and the log lines (one JSON object
 * per request, never the secret, the signature or the script).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <json-c/json.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "config/config.h"
#include "server/handler.h"
#include "plugin/host.h"
#include "plugin/registry.h"

#define SECRET "handler-secret-5f2a9c"
#define MARKER "UNIQUE_SCRIPT_MARKER_9931"

extern const s2r_plugin s2r_rules_plugin __attribute__((weak));

static const char script[] =
    "#!/bin/bash\n"
    "#SBATCH --job-name=train\n"
    "#SBATCH --gres=gpu:2\n"
    "#SBATCH --cpus-per-task=8\n"
    "#SBATCH --mem=32G\n"
    "#SBATCH --mail-type=END\n"
    "python train.py --tag " MARKER "\n";

/* ------------------------------------------------------------------ */
/* fixture: registry + handler, log lines captured                     */
/* ------------------------------------------------------------------ */

typedef struct logbuf {
    pthread_mutex_t lock;
    char *text;
    size_t len;
    int lines;
} logbuf;

static void capture(void *payload, const char *line, size_t len)
{
    logbuf *b = payload;
    pthread_mutex_lock(&b->lock);
    char *n = realloc(b->text, b->len + len + 2);
    if (n) {
        b->text = n;
        memcpy(b->text + b->len, line, len);
        b->len += len;
        b->text[b->len++] = '\n';
        b->text[b->len] = '\0';
        b->lines++;
    }
    pthread_mutex_unlock(&b->lock);
}

typedef struct fx {
    char dir[64];
    s2r_ini ini;
    s2r_config cfg;
    s2r_registry *reg;
    s2r_binding *bind;
    s2r_handler *h;
    s2r_diags diags;
    logbuf log;
} fx;

/* A fixture whose [ratelimit.daily] section has @p extra_rl lines. */
static fx *fx_new_rl(const char *extra_server, int limit,
                     const char *extra_rl);

static fx *fx_new(const char *extra_server, int limit)
{
    return fx_new_rl(extra_server, limit, "");
}

static fx *fx_new_rl(const char *extra_server, int limit,
                     const char *extra_rl)
{
    fx *f = calloc(1, sizeof(*f));
    pthread_mutex_init(&f->log.lock, NULL);
    snprintf(f->dir, sizeof(f->dir), "/tmp/serve-handler-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    char text[1024];
    snprintf(text, sizeof(text),
             "[runai]\ndefault_image = nvcr.io/nvidia/pytorch:24.05-py3\n"
             "[server]\n%s"
             "[auth.hmac]\nplugin = auth-hmac\nsecret = env:S2R_TEST_SECRET\n"
             "[ratelimit.daily]\nplugin = ratelimit-sqlite\n"
             "path = %s/rl.db\nlimit = %d\n%s",
             extra_server ? extra_server : "", f->dir, limit, extra_rl);
    s2r_config_defaults(&f->cfg);
    assert_int_equal(s2r_ini_read_string(&f->ini, "server.ini", text,
                                         &f->diags),
                     S2R_OK);
    assert_int_equal(s2r_config_apply(&f->cfg, &f->ini, &f->diags), S2R_OK);
    const s2r_plugin *builtins[2] = {
        &s2r_rules_plugin ? &s2r_rules_plugin : NULL, NULL};
    s2r_registry_options ro = S2R_REGISTRY_OPTIONS_INIT;
    ro.ini = &f->ini;
    ro.builtins = builtins;
    int rc = s2r_registry_open(&f->reg, &ro, &f->diags);
    for (size_t i = 0; rc != S2R_OK && i < f->diags.n; i++)
        fprintf(stderr, "%s\n", f->diags.v[i].message);
    assert_int_equal(rc, S2R_OK);
    s2r_handler_options ho = {.section = "server",
                              .cfg = &f->cfg,
                              .reg = f->reg,
                              .log_fn = capture,
                              .log_payload = &f->log};
    assert_int_equal(s2r_handler_settings_read(&ho.settings, &f->bind,
                                               &f->ini, "server", NULL,
                                               &f->diags),
                     S2R_OK);
    assert_int_equal(s2r_handler_new(&f->h, &ho, &f->diags), S2R_OK);
    return f;
}

static void fx_free(fx *f)
{
    s2r_handler_free(f->h);
    s2r_registry_close(f->reg);
    s2r_binding_free(f->bind);
    s2r_config_free(&f->cfg);
    s2r_ini_free(&f->ini);
    s2r_diags_clear(&f->diags);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f->log.text);
    pthread_mutex_destroy(&f->log.lock);
    free(f);
}

/* ------------------------------------------------------------------ */
/* requests                                                            */
/* ------------------------------------------------------------------ */

typedef struct kv {
    const char *name[8];
    const char *value[8];
    int n;
} kv;

static const char *kv_get(void *payload, const char *name)
{
    kv *k = payload;
    for (int i = 0; i < k->n; i++)
        if (strcasecmp(k->name[i], name) == 0)
            return k->value[i];
    return NULL;
}

static void kv_add(kv *k, const char *name, const char *value)
{
    k->name[k->n] = name;
    k->value[k->n] = value;
    k->n++;
}

typedef struct call {
    kv headers, params;
    char ts[48], sig[65];
    s2r_handler_response resp;
    json_object *json;
} call;

static void sign(call *c, const char *body, size_t len, int64_t ts_delta)
{
    static int seq;
    snprintf(c->ts, sizeof(c->ts), "%lld.%06d",
             (long long)(time(NULL) + ts_delta), ++seq);
    size_t tl = strlen(c->ts);
    char *msg = malloc(tl + 1 + len);
    memcpy(msg, c->ts, tl);
    msg[tl] = ':';
    memcpy(msg + tl + 1, body, len);
    uint8_t mac[32];
    s2r_host_table()->hmac_sha256(SECRET, strlen(SECRET), msg, tl + 1 + len,
                                  mac);
    free(msg);
    s2r_host_table()->hex_encode(mac, 32, c->sig);
    kv_add(&c->headers, "X-S2R-Timestamp", c->ts);
    kv_add(&c->headers, "X-S2R-Signature", c->sig);
}

static int run(fx *f, call *c, const char *method, const char *path,
               const char *body, size_t len, int truncated)
{
    s2r_handler_request r = {.method = method,
                             .path = path,
                             .param = kv_get,
                             .param_payload = &c->params,
                             .header = kv_get,
                             .header_payload = &c->headers,
                             .body = (const uint8_t *)body,
                             .body_len = len,
                             .body_truncated = truncated,
                             .client_ip = "198.51.100.4"};
    assert_int_equal(s2r_handler_handle(f->h, &r, &c->resp), S2R_OK);
    assert_non_null(c->resp.body);
    c->json = json_tokener_parse(c->resp.body);
    assert_non_null(c->json);
    return c->resp.status;
}

static void done(call *c)
{
    json_object_put(c->json);
    s2r_handler_response_free(&c->resp);
    memset(c, 0, sizeof(*c));
}

static const char *jstr(call *c, const char *key)
{
    json_object *v;
    if (!json_object_object_get_ex(c->json, key, &v))
        return NULL;
    return json_object_get_string(v);
}

static const char *header(const call *c, const char *name)
{
    for (uint32_t i = 0; i < c->resp.n_headers; i++)
        if (strcasecmp(c->resp.headers[i].name, name) == 0)
            return c->resp.headers[i].value;
    return NULL;
}

/* A signed POST / of @p body; returns the status. */
static int post(fx *f, call *c, const char *body, const char *format)
{
    memset(c, 0, sizeof(*c));
    sign(c, body, strlen(body), 0);
    kv_add(&c->headers, "X-S2R-Filename", "train.sbatch");
    if (format)
        kv_add(&c->params, "format", format);
    return run(f, c, "POST", "/", body, strlen(body), 0);
}

#define assert_has(hay, needle)                                          \
    do {                                                                 \
        if (!strstr((hay), (needle)))                                    \
            fail_msg("'%s' not found in: %s", (needle), (hay));          \
    } while (0)

static int group_setup(void **state)
{
    (void)state;
    setenv("S2R_TEST_SECRET", SECRET, 1);
    return 0;
}

/* ------------------------------------------------------------------ */
/* tests                                                               */
/* ------------------------------------------------------------------ */

static void test_handler__converts_like_the_cli(void **state)
{
    (void)state;
    fx *f = fx_new(NULL, 100);
    static const char *const formats[] = {"cli", "yaml", "json"};
    for (int i = 0; i < 3; i++) {
        call c;
        assert_int_equal(post(f, &c, script, formats[i]), 200);
        assert_string_equal(jstr(&c, "format"), formats[i]);
        char *local = NULL;
        s2r_diags d = {0};
        assert_int_equal(s2r_convert_buffer(&local, "train.sbatch", script,
                                            strlen(script),
                                            (s2r_format)i, &f->cfg, &d),
                         S2R_OK);
        assert_string_equal(jstr(&c, "runai_config"), local);
        /* the warnings the CLI prints, as text */
        json_object *w;
        assert_true(json_object_object_get_ex(c.json, "warnings", &w));
        assert_true(json_object_is_type(w, json_type_array));
        assert_int_equal(json_object_array_length(w),
                         s2r_diags_count(&d, S2R_SEV_WARNING));
        int mail = 0;
        for (size_t k = 0; k < json_object_array_length(w); k++)
            mail |= strstr(json_object_get_string(
                               json_object_array_get_idx(w, k)),
                           "train.sbatch:6: warning: --mail-type") != NULL;
        assert_true(mail);
        assert_string_equal(c.resp.content_type, "application/json");
        assert_non_null(header(&c, "X-Request-Id"));
        assert_string_equal(header(&c, "X-RateLimit-Limit"), "100");
        free(local);
        s2r_diags_clear(&d);
        done(&c);
    }
    /* without X-S2R-Filename the default name is that of stdin */
    call c;
    memset(&c, 0, sizeof(c));
    sign(&c, script, strlen(script), 0);
    assert_int_equal(run(f, &c, "POST", "/", script, strlen(script), 0), 200);
    done(&c);
    /* an unknown format */
    assert_int_equal(post(f, &c, script, "toml"), 400);
    assert_has(jstr(&c, "error"), "unknown format");
    done(&c);
    fx_free(f);
}

/* ,"KEY":[lines] as the CLI prints the diagnostics of @p sev, each line
 * made whole by s2r_diag_format() and then escaped */
static void put_lines(s2r_buf *b, const char *key, const s2r_diags *d,
                      s2r_severity sev)
{
    s2r_buf_printf(b, ",\"%s\":[", key);
    int n = 0;
    for (size_t i = 0; i < d->n; i++) {
        if (d->v[i].severity != sev)
            continue;
        char *line = s2r_diag_format(&d->v[i]);
        if (n++)
            s2r_buf_puts(b, ",");
        s2r_json_put_string(b, line, strlen(line));
        free(line);
    }
    s2r_buf_puts(b, "]");
}

/* A POST / of @p body named @p file, in cli. */
static int post_named(fx *f, call *c, const char *body, const char *file)
{
    memset(c, 0, sizeof(*c));
    sign(c, body, strlen(body), 0);
    kv_add(&c->headers, "X-S2R-Filename", file);
    return run(f, c, "POST", "/", body, strlen(body), 0);
}

/* The answers' warnings and errors are the CLI's lines byte for byte:
 * quotes and backslashes in the file name and the messages, lines with
 * and without a line number, errors and warnings. */
static void test_handler__diagnostic_lines_byte_for_byte(void **state)
{
    (void)state;
    fx *f = fx_new(NULL, 100);
    static const char file[] = "q\"uote \xc3\xa9.sbatch";
    static const char warned[] = "#!/bin/bash\n#SBATCH --gres=gpu:2\n"
                                 "#SBATCH --mail-type=END\n"
                                 "#SBATCH --time=01:00:00\n"
                                 "module load \"cuda\\12\"\n"
                                 "python train.py\n";
    static const char refused[] = "#!/bin/bash\n#SBATCH --nodes=a\"b\\\\c\n"
                                  "#SBATCH --mail-type=END\n";
    call c;
    char *local = NULL;
    s2r_diags d = {0};
    assert_int_equal(post_named(f, &c, warned, file), 200);
    assert_int_equal(s2r_convert_buffer(&local, file, warned, strlen(warned),
                                        S2R_FMT_CLI, &f->cfg, &d),
                     S2R_OK);
    assert_true(s2r_diags_count(&d, S2R_SEV_WARNING) >= 4);
    s2r_buf want = {0};
    s2r_buf_puts(&want, "{\"runai_config\":");
    s2r_json_put_string(&want, local, strlen(local));
    put_lines(&want, "warnings", &d, S2R_SEV_WARNING);
    s2r_buf_puts(&want, ",\"format\":\"cli\"}");
    assert_string_equal(c.resp.body, want.p);
    assert_has(c.resp.body, "dropped 'module load \\\"cuda\\\\12\\\"'");
    free(local);
    s2r_diags_clear(&d);
    s2r_buf_free(&want);
    done(&c);

    assert_int_equal(post_named(f, &c, refused, file), 400);
    local = NULL;
    assert_int_equal(s2r_convert_buffer(&local, file, refused,
                                        strlen(refused), S2R_FMT_CLI,
                                        &f->cfg, &d),
                     S2R_EINVAL);
    assert_int_equal(s2r_diags_count(&d, S2R_SEV_ERROR), 1);
    char *first = NULL;
    for (size_t i = 0; i < d.n && !first; i++)
        if (d.v[i].severity == S2R_SEV_ERROR)
            first = s2r_diag_format(&d.v[i]);
    s2r_buf_puts(&want, "{\"error\":");
    s2r_json_put_string(&want, first, strlen(first));
    put_lines(&want, "errors", &d, S2R_SEV_ERROR);
    put_lines(&want, "warnings", &d, S2R_SEV_WARNING);
    s2r_buf_puts(&want, "}");
    assert_string_equal(c.resp.body, want.p);
    free(first);
    free(local);
    s2r_diags_clear(&d);
    s2r_buf_free(&want);
    done(&c);
    fx_free(f);
}

static void test_handler__dry_run_answers_the_prompt(void **state)
{
    (void)state;
    fx *f = fx_new(NULL, 100);
    call c;
    memset(&c, 0, sizeof(c));
    sign(&c, script, strlen(script), 0);
    kv_add(&c.params, "dry_run", "1");
    assert_int_equal(run(f, &c, "POST", "/", script, strlen(script), 0), 200);
    assert_non_null(jstr(&c, "prompt"));
    assert_null(jstr(&c, "runai_config"));
    assert_true(strlen(jstr(&c, "prompt")) > 100);
    done(&c);
    fx_free(f);
}

static void test_handler__refusals(void **state)
{
    (void)state;
    fx *f = fx_new("max_body = 1K\n", 100);
    call c;
    /* unsigned */
    memset(&c, 0, sizeof(c));
    assert_int_equal(run(f, &c, "POST", "/", script, strlen(script), 0), 401);
    assert_has(jstr(&c, "error"), "missing X-S2R-Timestamp");
    done(&c);
    /* forged */
    memset(&c, 0, sizeof(c));
    sign(&c, "another body", 12, 0);
    assert_int_equal(run(f, &c, "POST", "/", script, strlen(script), 0), 401);
    assert_has(jstr(&c, "error"), "bad signature");
    done(&c);
    /* expired */
    memset(&c, 0, sizeof(c));
    sign(&c, script, strlen(script), -301);
    assert_int_equal(run(f, &c, "POST", "/", script, strlen(script), 0), 401);
    assert_has(jstr(&c, "error"), "expired");
    done(&c);
    /* replayed */
    call a;
    assert_int_equal(post(f, &a, script, NULL), 200);
    memset(&c, 0, sizeof(c));
    kv_add(&c.headers, "X-S2R-Timestamp", a.ts);
    kv_add(&c.headers, "X-S2R-Signature", a.sig);
    assert_int_equal(run(f, &c, "POST", "/", script, strlen(script), 0), 401);
    assert_has(jstr(&c, "error"), "replayed");
    done(&c);
    done(&a);
    /* 1 KiB + 1 byte, signed: 413; exactly 1 KiB passes the size check */
    char big[1025 + 1];
    memset(big, '#', sizeof(big) - 1);
    big[0] = 'e';
    big[1] = 'c';
    big[2] = 'h';
    big[3] = 'o';
    big[4] = '\n';
    big[1025] = '\0';
    memset(&c, 0, sizeof(c));
    sign(&c, big, 1025, 0);
    assert_int_equal(run(f, &c, "POST", "/", big, 1025, 0), 413);
    assert_has(jstr(&c, "error"), "Payload too large (max 1024 bytes)");
    done(&c);
    memset(&c, 0, sizeof(c));
    sign(&c, big, 1024, 0);
    assert_int_not_equal(run(f, &c, "POST", "/", big, 1024, 0), 413);
    done(&c);
    /* cut by the transport: 413 before authentication */
    memset(&c, 0, sizeof(c));
    assert_int_equal(run(f, &c, "POST", "/", "", 0, 1), 413);
    done(&c);
    /* a script sbatch would refuse */
    const char *bad = "#!/bin/bash\n#SBATCH --nodes=abc\nhostname\n";
    assert_int_equal(post(f, &c, bad, NULL), 400);
    assert_has(jstr(&c, "error"), "train.sbatch:2: error:");
    json_object *errs;
    assert_true(json_object_object_get_ex(c.json, "errors", &errs));
    assert_true(json_object_array_length(errs) >= 1);
    done(&c);
    /* binary garbage is a refused script, not a crash */
    char junk[512];
    for (size_t i = 0; i < sizeof(junk); i++)
        junk[i] = (char)(i * 37 + 11);
    memset(&c, 0, sizeof(c));
    sign(&c, junk, sizeof(junk), 0);
    int st = run(f, &c, "POST", "/", junk, sizeof(junk), 0);
    assert_true(st == 200 || st == 400);
    done(&c);
    /* routes */
    memset(&c, 0, sizeof(c));
    assert_int_equal(run(f, &c, "GET", "/healthz", NULL, 0, 0), 200);
    assert_string_equal(jstr(&c, "status"), "ok");
    done(&c);
    memset(&c, 0, sizeof(c));
    assert_int_equal(run(f, &c, "GET", "/", NULL, 0, 0), 405);
    assert_string_equal(header(&c, "Allow"), "POST");
    done(&c);
    memset(&c, 0, sizeof(c));
    assert_int_equal(run(f, &c, "POST", "/admin", NULL, 0, 0), 404);
    done(&c);
    fx_free(f);
}

static void test_handler__rate_limit(void **state)
{
    (void)state;
    fx *f = fx_new(NULL, 3);
    call c;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(post(f, &c, script, NULL), 200);
        char want[8];
        snprintf(want, sizeof(want), "%d", 2 - i);
        assert_string_equal(header(&c, "X-RateLimit-Remaining"), want);
        done(&c);
    }
    assert_int_equal(post(f, &c, script, NULL), 429);
    assert_string_equal(jstr(&c, "error"),
                        "Rate limit exceeded: 3 requests per day");
    const char *ra = header(&c, "Retry-After");
    assert_non_null(ra);
    long secs = atol(ra);
    time_t now = time(NULL);
    assert_true(secs >= 1 && secs <= 86400);
    /* the next UTC midnight, from the server's clock: a second may have
     * begun, on either side of a rounding, between its reading and ours */
    long off = (long)((now + secs) % 86400);
    assert_true(off <= 1 || off == 86399);
    done(&c);
    /* an unauthenticated request is refused before it counts */
    memset(&c, 0, sizeof(c));
    assert_int_equal(run(f, &c, "POST", "/", script, strlen(script), 0), 401);
    done(&c);
    fx_free(f);
}

/* The rate-limit database held by another writer (another process,
 * here a connection of the test): the limiter's transaction waits for
 * busy_timeout and fails. */
static sqlite3 *lock_db(const fx *f)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/rl.db", f->dir);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL),
                     SQLITE_OK);
    return db;
}

static void unlock_db(sqlite3 *db)
{
    assert_int_equal(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
}

/* Send the signed request of @p c again, as a client retries it. */
static int resend(fx *f, call *c)
{
    json_object_put(c->json);
    s2r_handler_response_free(&c->resp);
    c->json = NULL;
    return run(f, c, "POST", "/", script, strlen(script), 0);
}

/* A request the rate limiter refuses with a retryable answer (503 when
 * its store is locked, 429 over the limit) has not spent its signature:
 * the same signed request, retried as Retry-After asks, is not refused
 * as a replay; once served it is. */
static void test_handler__refused_by_the_limiter_keeps_the_signature(
    void **state)
{
    (void)state;
    fx *f = fx_new_rl(NULL, 100, "busy_timeout = 50ms\nreserve = 1\n");
    call c;
    memset(&c, 0, sizeof(c));
    sign(&c, script, strlen(script), 0);
    sqlite3 *db = lock_db(f);
    for (int i = 0; i < 2; i++) {
        int st = i ? resend(f, &c)
                   : run(f, &c, "POST", "/", script, strlen(script), 0);
        assert_int_equal(st, 503);
        assert_string_equal(jstr(&c, "error"),
                            "Rate limiter unavailable, retry later");
        assert_string_equal(header(&c, "Retry-After"), "1");
    }
    unlock_db(db);
    assert_int_equal(resend(f, &c), 200);
    assert_int_equal(resend(f, &c), 401);
    assert_has(jstr(&c, "error"), "replayed");
    done(&c);
    fx_free(f);

    /* over the limit: 429, and 429 again for the same request */
    f = fx_new(NULL, 1);
    assert_int_equal(post(f, &c, script, NULL), 200);
    done(&c);
    sign(&c, script, strlen(script), 0);
    assert_int_equal(run(f, &c, "POST", "/", script, strlen(script), 0), 429);
    assert_int_equal(resend(f, &c), 429);
    assert_string_equal(jstr(&c, "error"),
                        "Rate limit exceeded: 1 requests per day");
    done(&c);
    fx_free(f);
}

typedef struct copy_run {
    fx *f;
    call c;
    int status;
    pthread_barrier_t *go;
} copy_run;

static void *run_copy(void *arg)
{
    copy_run *r = arg;
    pthread_barrier_wait(r->go);
    r->status = run(r->f, &r->c, "POST", "/", script, strlen(script), 0);
    return NULL;
}

/* Copies of one signed request sent at once: at most one is served,
 * whether the limiter admits them or refuses them for a while (a copy
 * refused as a replay while another one held the signature is not let
 * through later by that one's retry). */
static void test_handler__copies_at_once_serve_one(void **state)
{
    (void)state;
    fx *f = fx_new_rl(NULL, 100, "busy_timeout = 50ms\nreserve = 1\n");
    enum { N = 8 };
    for (int locked = 0; locked < 2; locked++) {
        call proto;
        memset(&proto, 0, sizeof(proto));
        sign(&proto, script, strlen(script), 0);
        sqlite3 *db = locked ? lock_db(f) : NULL;
        pthread_barrier_t go;
        pthread_barrier_init(&go, NULL, N);
        copy_run r[N];
        pthread_t t[N];
        for (int i = 0; i < N; i++) {
            r[i].f = f;
            r[i].c = proto; /* the same headers, copied */
            r[i].c.headers.value[0] = r[i].c.ts;
            r[i].c.headers.value[1] = r[i].c.sig;
            r[i].go = &go;
            assert_int_equal(pthread_create(&t[i], NULL, run_copy, &r[i]),
                             0);
        }
        int served = 0, replayed = 0, unavailable = 0;
        for (int i = 0; i < N; i++) {
            pthread_join(t[i], NULL);
            served += r[i].status == 200;
            replayed += r[i].status == 401;
            unavailable += r[i].status == 503;
            done(&r[i].c);
        }
        pthread_barrier_destroy(&go);
        assert_int_equal(served + replayed + unavailable, N);
        if (!locked) {
            assert_int_equal(served, 1);
            continue;
        }
        assert_int_equal(served, 0);
        assert_true(unavailable >= 1);
        unlock_db(db);
        /* the retries after the store is back: one is served */
        int later = 0;
        for (int i = 0; i < N; i++) {
            call c = proto;
            c.headers.value[0] = c.ts;
            c.headers.value[1] = c.sig;
            later += run(f, &c, "POST", "/", script, strlen(script), 0) ==
                     200;
            done(&c);
        }
        assert_int_equal(later, 1);
    }
    fx_free(f);
}

static void test_handler__log_lines(void **state)
{
    (void)state;
    fx *f = fx_new(NULL, 100);
    call c;
    int n = 0;
    assert_int_equal(post(f, &c, script, NULL), 200);
    char sig[65];
    memcpy(sig, c.sig, sizeof(sig));
    done(&c);
    n++;
    memset(&c, 0, sizeof(c));
    sign(&c, "x", 1, 0);
    assert_int_equal(run(f, &c, "POST", "/", script, strlen(script), 0), 401);
    done(&c);
    n++;
    assert_int_equal(post(f, &c, "#SBATCH --nodes=" MARKER "\n", NULL), 400);
    done(&c);
    n++;
    assert_int_equal(f->log.lines, n);
    /* nothing secret or private in the log */
    assert_null(strstr(f->log.text, SECRET));
    assert_null(strstr(f->log.text, sig));
    assert_null(strstr(f->log.text, MARKER));
    assert_null(strstr(f->log.text, "#SBATCH"));
    /* each line is one JSON object with the request fields */
    char *save = NULL, *copy = strdup(f->log.text);
    int seen = 0;
    for (char *line = strtok_r(copy, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        json_object *o = json_tokener_parse(line);
        assert_non_null(o);
        static const char *const keys[] = {"time", "level", "event", "id",
                                           "client_ip", "method", "path",
                                           "status", "duration_ms"};
        for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
            json_object *v;
            if (!json_object_object_get_ex(o, keys[k], &v))
                fail_msg("log line without %s: %s", keys[k], line);
        }
        json_object *ip;
        json_object_object_get_ex(o, "client_ip", &ip);
        assert_string_equal(json_object_get_string(ip), "198.51.100.4");
        json_object_put(o);
        seen++;
    }
    free(copy);
    assert_int_equal(seen, n);
    assert_has(f->log.text, "\"status\":401");
    assert_has(f->log.text, "\"error\":\"script refused (1 errors)\"");
    fx_free(f);
}

/* The log line written to stderr by @p emit (stderr goes to a file
 * meanwhile), without its time: malloc'd. */
static char *stderr_line(void (*emit)(void))
{
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    FILE *tmp = tmpfile();
    assert_non_null(tmp);
    dup2(fileno(tmp), STDERR_FILENO);
    emit();
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    char text[1024];
    rewind(tmp);
    size_t n = fread(text, 1, sizeof(text) - 1, tmp);
    fclose(tmp);
    text[n] = '\0';
    /* {"time":"2026-11-29T09:22:35.184Z", then the rest */
    const char *rest = strstr(text, "Z\",");
    assert_non_null(rest);
    return strdup(rest + 3);
}

static void emit_fields(void)
{
    s2r_handler_log_field f[] = {
        S2R_LOG_TEXT("address", "127.0.0.1:8080"),
        S2R_LOG_NUMBER("threads", 4),
        {NULL, "left out", 0},
        S2R_LOG_NUMBER("refused", UINT64_C(18446744073709551)),
        S2R_LOG_NUMBER("below", -3),
        S2R_LOG_TEXT("quoted", "a \"b\"")};
    s2r_handler_log_fields("warn", "listening", "ready", f, 6);
}

static void emit_pairs(void)
{
    const char *f[] = {"signal", "SIGTERM", "none", NULL, "n", "4"};
    s2r_handler_log_event("info", "stopping", NULL, f, 3);
}

/* Events write numbers as JSON numbers and strings as strings, in the
 * request lines' writer. */
static void test_handler__event_fields(void **state)
{
    (void)state;
    char *line = stderr_line(emit_fields);
    assert_string_equal(line,
                        "\"level\":\"warn\",\"event\":\"listening\","
                        "\"message\":\"ready\",\"address\":\"127.0.0.1:8080\","
                        "\"threads\":4,\"refused\":18446744073709551,"
                        "\"below\":-3,\"quoted\":\"a \\\"b\\\"\"}\n");
    free(line);
    line = stderr_line(emit_pairs);
    assert_string_equal(line, "\"level\":\"info\",\"event\":\"stopping\","
                              "\"signal\":\"SIGTERM\",\"n\":\"4\"}\n");
    free(line);
}

static void test_handler__settings(void **state)
{
    (void)state;
    s2r_ini ini;
    memset(&ini, 0, sizeof(ini));
    s2r_diags d = {0};
    assert_int_equal(s2r_ini_read_string(&ini, "s.ini",
                                         "[server]\nmax_body = 2K\n"
                                         "request_timeout = 5s\n"
                                         "log_requests = false\n"
                                         "listen = 127.0.0.1:1\n",
                                         &d),
                     S2R_OK);
    s2r_handler_settings s;
    s2r_binding *b = NULL;
    const char *const transport[] = {"listen", NULL};
    assert_int_equal(s2r_handler_settings_read(&s, &b, &ini, "server",
                                               transport, &d),
                     S2R_OK);
    assert_int_equal(s.max_body, 2048);
    assert_int_equal(s.request_timeout_ms, 5000);
    assert_int_equal(s.log_requests, 0);
    assert_null(s.auth);
    s2r_binding_free(b);
    /* defaults without a section */
    assert_int_equal(s2r_handler_settings_read(&s, &b, &ini, "lambda", NULL,
                                               &d),
                     S2R_OK);
    assert_int_equal(s.max_body, 50 * 1024);
    assert_int_equal(s.request_timeout_ms, 60000);
    assert_int_equal(s.log_requests, 1);
    s2r_binding_free(b);
    /* a key nobody owns */
    assert_int_not_equal(s2r_handler_settings_read(&s, &b, &ini, "server",
                                                   NULL, &d),
                         S2R_OK);
    int listed = 0;
    for (size_t i = 0; i < d.n; i++)
        listed |= strstr(d.v[i].message, "listen") != NULL;
    assert_true(listed);
    s2r_ini_free(&ini);
    s2r_diags_clear(&d);
}

static void test_handler__needs_auth_or_none(void **state)
{
    (void)state;
    s2r_ini ini;
    memset(&ini, 0, sizeof(ini));
    s2r_diags d = {0};
    s2r_config cfg;
    s2r_config_defaults(&cfg);
    assert_int_equal(s2r_ini_read_string(&ini, "s.ini", "[server]\n", &d),
                     S2R_OK);
    const s2r_plugin *builtins[2] = {
        &s2r_rules_plugin ? &s2r_rules_plugin : NULL, NULL};
    s2r_registry_options ro = S2R_REGISTRY_OPTIONS_INIT;
    ro.ini = &ini;
    ro.builtins = builtins;
    s2r_registry *reg = NULL;
    assert_int_equal(s2r_registry_open(&reg, &ro, &d), S2R_OK);
    s2r_handler_options ho = {.section = "server", .cfg = &cfg, .reg = reg};
    s2r_handler_settings_defaults(&ho.settings);
    s2r_handler *h = NULL;
    /* no [auth.*]: refused unless auth = none is said */
    assert_int_equal(s2r_handler_new(&h, &ho, &d), S2R_EINVAL);
    assert_has(d.v[d.n - 1].message, "auth = none");
    ho.settings.auth = "none";
    assert_int_equal(s2r_handler_new(&h, &ho, &d), S2R_OK);
    assert_string_equal(s2r_handler_auth_id(h), "none");
    assert_string_equal(s2r_handler_ratelimit_id(h), "none");
    assert_string_equal(s2r_handler_provider_id(h), "rules");
    s2r_handler_free(h);
    /* a section that does not exist */
    ho.settings.auth = "nope";
    assert_int_equal(s2r_handler_new(&h, &ho, &d), S2R_EINVAL);
    assert_has(d.v[d.n - 1].message, "[auth.nope]");
    s2r_registry_close(reg);
    s2r_config_free(&cfg);
    s2r_ini_free(&ini);
    s2r_diags_clear(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_handler__converts_like_the_cli),
        cmocka_unit_test(test_handler__diagnostic_lines_byte_for_byte),
        cmocka_unit_test(test_handler__dry_run_answers_the_prompt),
        cmocka_unit_test(test_handler__refusals),
        cmocka_unit_test(test_handler__rate_limit),
        cmocka_unit_test(test_handler__refused_by_the_limiter_keeps_the_signature),
        cmocka_unit_test(test_handler__copies_at_once_serve_one),
        cmocka_unit_test(test_handler__log_lines),
        cmocka_unit_test(test_handler__event_fields),
        cmocka_unit_test(test_handler__settings),
        cmocka_unit_test(test_handler__needs_auth_or_none),
    };
    return cmocka_run_group_tests_name("serve_handler", tests, group_setup,
                                       NULL);
}
