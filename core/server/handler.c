/* handler.c: the s2r HTTP request handler (see handler.h).
 *
 * About 800 lines in one file: the routes share the request state and its
 * helpers. convert() (POST /, about 190 lines) is one function on purpose:
 * the route's contract read top to bottom (format, model, dry_run, the
 * pipeline, the answer and every error status), each branch filling the
 * same response. */
#include "handler.h"
#include "handler_log.h"
#include "handler_text.h"
#include "request_site.h"
#include "llm/llm.h"

#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------ */
/* settings                                                            */
/* ------------------------------------------------------------------ */

static const s2r_option handler_options[] = {
    {"auth", S2R_OPT_STRING, 0, NULL, 0, 0, NULL,
     S2R_OPT_OFFSET(s2r_handler_settings, auth),
     "The [auth.<id>] instance that verifies requests, or none; default: "
     "the only [auth.*] section."},
    {"ratelimit", S2R_OPT_STRING, 0, NULL, 0, 0, NULL,
     S2R_OPT_OFFSET(s2r_handler_settings, ratelimit),
     "The [ratelimit.<id>] instance that admits requests, or none; "
     "default: the only [ratelimit.*] section, else none."},
    {"provider", S2R_OPT_STRING, 0, NULL, 0, 0, NULL,
     S2R_OPT_OFFSET(s2r_handler_settings, provider),
     "The provider that converts; default: [core] provider, else rules."},
    {"max_body", S2R_OPT_SIZE, 0, "50K", 1, INT64_C(64) << 20, NULL,
     S2R_OPT_OFFSET(s2r_handler_settings, max_body),
     "Largest script accepted; a longer body is answered 413."},
    {"request_timeout", S2R_OPT_DURATION, 0, "60s", 100, 3600000, NULL,
     S2R_OPT_OFFSET(s2r_handler_settings, request_timeout_ms),
     "Time a provider may take for one request."},
    {"log_requests", S2R_OPT_BOOL, 0, "true", 0, 0, NULL,
     S2R_OPT_OFFSET(s2r_handler_settings, log_requests),
     "Write one JSON log line per request to standard error."},
    S2R_OPTION_END};

const s2r_option *s2r_handler_option_table(void)
{
    return handler_options;
}

void s2r_handler_settings_defaults(s2r_handler_settings *s)
{
    memset(s, 0, sizeof(*s));
    s->max_body = S2R_HANDLER_MAX_BODY_DEFAULT;
    s->request_timeout_ms = S2R_HANDLER_TIMEOUT_DEFAULT_MS;
    s->log_requests = 1;
}

int s2r_handler_settings_read(s2r_handler_settings *out,
                              s2r_binding **binding_out, const s2r_ini *ini,
                              const char *section,
                              const char *const *transport_keys,
                              s2r_diags *diags)
{
    *binding_out = NULL;
    s2r_handler_settings_defaults(out);
    const s2r_ini_section *sec =
        ini ? s2r_ini_section_find(ini, section) : NULL;
    char owner[64];
    snprintf(owner, sizeof(owner), "[%s]", section);
    s2r_binding *b = NULL;
    int rc = s2r_options_apply(handler_options, sizeof(s2r_handler_settings),
                               sec, ini ? ini->path : NULL, owner,
                               transport_keys, diags, &b);
    if (rc != S2R_OK)
        return rc;
    memcpy(out, b->config, sizeof(*out));
    *binding_out = b;
    return S2R_OK;
}

/* ------------------------------------------------------------------ */
/* the handler                                                         */
/* ------------------------------------------------------------------ */

typedef struct prov_wrap {
    s2r_registry *reg;
    const char *id;
} prov_wrap;

struct s2r_handler {
    const char *section; /* "server" or "lambda", for messages */
    const s2r_config *cfg;
    s2r_registry *reg;
    s2r_handler_settings s;
    char *auth_id;     /* NULL: no authentication */
    char *rl_id;       /* NULL: no rate limit */
    char *prov_id;
    int32_t prov_is_rules;
    s2r_llm_cache *cache;    /* the provider's answer cache, or NULL */
    const char *cache_model; /* its model (INI-owned), or NULL */
    s2r_format default_format;
    prov_wrap wrap;
    s2r_provider_ops wrap_ops;
    s2r_handler_log_fn log_fn;
    void *log_payload;
    char id_prefix[17];           /* random hex, see make_request_id() */
    unsigned long long id_counter; /* atomic */
};

/* The provider through the registry, which serializes calls per instance
 * for plugins that are not thread-safe. */
static int wrapped_convert(void *instance, const s2r_provider_request *req,
                           json_object **answer_out, s2r_error *err)
{
    prov_wrap *w = instance;
    return s2r_registry_convert(w->reg, w->id, req, answer_out, err);
}

/* The only instance of @p kind, or NULL (none, or several: *n_out). */
static const char *only_instance(s2r_registry *reg, uint32_t kind,
                                 size_t *n_out)
{
    const char *found = NULL;
    size_t n = 0;
    for (size_t i = 0; i < s2r_registry_count(reg); i++) {
        uint32_t k;
        const char *id;
        if (s2r_registry_at(reg, i, &k, &id, NULL) == S2R_OK && k == kind) {
            found = id;
            n++;
        }
    }
    *n_out = n;
    return n == 1 ? found : NULL;
}

static int pick(s2r_handler *h, uint32_t kind, const char *want,
                const char *key, int required, char **out, s2r_diags *diags)
{
    const char *section = h->section;
    *out = NULL;
    if (want && strcmp(want, "none") == 0)
        return S2R_OK;
    const char *id = want;
    if (!id) {
        size_t n = 0;
        id = only_instance(h->reg, kind, &n);
        if (!id && n > 1) {
            s2r_diags_add(diags, S2R_SEV_ERROR, NULL, 0, key,
                          "several [%s.*] sections: say which one with "
                          "'%s = <id>' in [%s]",
                          s2r_kind_name(kind), key, section);
            return S2R_EINVAL;
        }
        if (!id) {
            if (!required)
                return S2R_OK;
            s2r_diags_add(diags, S2R_SEV_ERROR, NULL, 0, key,
                          "no [%s.*] section: requests would not be "
                          "authenticated; add one (plugin = auth-hmac) or "
                          "say '%s = none' in [%s]", s2r_kind_name(kind),
                          key, section);
            return S2R_EINVAL;
        }
    }
    const s2r_plugin *desc = NULL;
    if (s2r_registry_find(h->reg, kind, id, &desc, NULL) != S2R_OK) {
        s2r_diags_add(diags, S2R_SEV_ERROR, NULL, 0, key,
                      "%s = %s: no [%s.%s] section", key, id,
                      s2r_kind_name(kind), id);
        return S2R_EINVAL;
    }
    if (kind == S2R_KIND_AUTH &&
        !((const s2r_auth_ops *)desc->ops)->verify) {
        s2r_diags_add(diags, S2R_SEV_ERROR, NULL, 0, key,
                      "[auth.%s]: plugin %s cannot verify requests", id,
                      desc->name);
        return S2R_EINVAL;
    }
    *out = strdup(id);
    return *out ? S2R_OK : S2R_ENOMEM;
}

int s2r_handler_new(s2r_handler **out, const s2r_handler_options *opts,
                    s2r_diags *diags)
{
    *out = NULL;
    s2r_handler *h = calloc(1, sizeof(*h));
    if (!h)
        return S2R_ENOMEM;
    h->section = opts->section ? opts->section : "server";
    h->cfg = opts->cfg;
    h->reg = opts->reg;
    h->s = opts->settings;
    if (h->s.max_body <= 0)
        h->s.max_body = S2R_HANDLER_MAX_BODY_DEFAULT;
    if (h->s.request_timeout_ms <= 0)
        h->s.request_timeout_ms = S2R_HANDLER_TIMEOUT_DEFAULT_MS;
    h->log_fn = opts->log_fn;
    h->log_payload = opts->log_payload;
    h->default_format = S2R_FMT_CLI;
    if (h->cfg && h->cfg->format && s2r_format_from_name(h->cfg->format) >= 0)
        h->default_format = (s2r_format)s2r_format_from_name(h->cfg->format);
    int rc = pick(h, S2R_KIND_AUTH, h->s.auth, "auth", 1, &h->auth_id, diags);
    if (rc == S2R_OK)
        rc = pick(h, S2R_KIND_RATELIMIT, h->s.ratelimit, "ratelimit", 0,
                  &h->rl_id, diags);
    if (rc == S2R_OK) {
        const char *pid = h->s.provider ? h->s.provider
                                        : s2r_registry_default_provider(h->reg);
        const s2r_plugin *desc = NULL;
        if (!pid)
            pid = "rules";
        if (s2r_registry_provider(h->reg, pid, &desc, NULL) == S2R_OK &&
            strcmp(desc->name, "rules") != 0) {
            h->prov_is_rules = 0;
        } else if (strcmp(pid, "rules") == 0) {
            h->prov_is_rules = 1; /* the pipeline's own rules */
        } else {
            s2r_diags_add(diags, S2R_SEV_ERROR, NULL, 0, "provider",
                          "provider %s: no [provider.%s] section", pid, pid);
            rc = S2R_EINVAL;
        }
        if (rc == S2R_OK && !(h->prov_id = strdup(pid)))
            rc = S2R_ENOMEM;
        if (rc == S2R_OK && !h->prov_is_rules)
            rc = s2r_llm_cache_from_ini(&h->cache, &h->cache_model,
                                        s2r_registry_ini(h->reg), pid, diags);
    }
    if (rc != S2R_OK) {
        s2r_handler_free(h);
        return rc;
    }
    uint8_t rnd[8];
    s2r_error rerr;
    if (s2r_host_table()->random_bytes(rnd, sizeof(rnd), &rerr) != S2R_OK) {
        uint64_t t = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
        memcpy(rnd, &t, sizeof(rnd));
    }
    s2r_host_table()->hex_encode(rnd, sizeof(rnd), h->id_prefix);
    h->wrap.reg = h->reg;
    h->wrap.id = h->prov_id;
    h->wrap_ops.struct_size = sizeof(h->wrap_ops);
    h->wrap_ops.convert = wrapped_convert;
    *out = h;
    return S2R_OK;
}

void s2r_handler_free(s2r_handler *h)
{
    if (!h)
        return;
    free(h->auth_id);
    free(h->rl_id);
    free(h->prov_id);
    s2r_llm_cache_close(h->cache);
    free(h);
}

const char *s2r_handler_auth_id(const s2r_handler *h)
{
    return h->auth_id ? h->auth_id : "none";
}

const char *s2r_handler_ratelimit_id(const s2r_handler *h)
{
    return h->rl_id ? h->rl_id : "none";
}

const char *s2r_handler_provider_id(const s2r_handler *h)
{
    return h->prov_id;
}

size_t s2r_handler_max_body(const s2r_handler *h)
{
    return (size_t)h->s.max_body;
}

/* ------------------------------------------------------------------ */
/* answers                                                             */
/* ------------------------------------------------------------------ */

/* Per-request state for the log line. */
typedef struct req_state {
    const char *error;   /* refusal reason for the log (no script text) */
    char error_buf[S2R_ERROR_MSG_MAX + 160];
    const char *format;  /* format name when converted */
} req_state;

/* @p src into @p dst of @p cap bytes, cut to fit and NUL-ended (as
 * snprintf's "%s") */
static void copy_text(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static void add_header(s2r_handler_response *r, const char *name,
                       const char *value)
{
    if (r->n_headers >= S2R_HANDLER_MAX_HEADERS)
        return;
    s2r_handler_header *hd = &r->headers[r->n_headers++];
    copy_text(hd->name, sizeof(hd->name), name);
    copy_text(hd->value, sizeof(hd->value), value);
}

static void add_header_int(s2r_handler_response *r, const char *name,
                           int64_t value)
{
    char t[S2R_I64_TEXT];
    s2r_i64_text(t, value);
    add_header(r, name, t);
}

/* The answer's body: @p body, @p len bytes of malloc'd UTF-8 JSON (NULL:
 * out of memory), which the answer takes over. Returns S2R_OK or
 * S2R_ENOMEM. */
static int take_body(s2r_handler_response *r, int status, char *body,
                     size_t len)
{
    r->status = status;
    free(r->body);
    r->body = NULL;
    r->body_len = 0;
    if (!body)
        return S2R_ENOMEM;
    if (s2r_utf8_invalid_at((const uint8_t *)body, len) < len) {
        /* never an answer that is not UTF-8 (RFC 8259 section 8.1): the
         * script was checked, so the bytes came from elsewhere (the
         * configuration, a model's answer) */
        static const char bad[] =
            "{\"error\":\"Internal error: the answer is not valid UTF-8\"}";
        free(body);
        body = strdup(bad);
        len = sizeof(bad) - 1;
        r->status = 500;
        if (!body)
            return S2R_ENOMEM;
    }
    r->body = body;
    r->body_len = len;
    return S2R_OK;
}

/* The answer's body: a copy of @p len bytes of @p s (take_body). */
static int set_body(s2r_handler_response *r, int status, const char *s,
                    size_t len)
{
    char *body = s ? malloc(len + 1) : NULL;
    if (body) {
        memcpy(body, s, len);
        body[len] = '\0';
    }
    return take_body(r, status, body, len);
}

/* Serialize @p o (consumed) as the answer. Returns S2R_OK or
 * S2R_ENOMEM. */
static int set_json(s2r_handler_response *r, int status, json_object *o)
{
    if (!o)
        return set_body(r, status, NULL, 0);
    size_t len = 0;
    const char *s = json_object_to_json_string_length(
        o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
    int rc = set_body(r, status, s, len);
    json_object_put(o);
    return rc;
}

/* {"error": message}; the log gets @p log_reason (NULL: the message). */
static int set_error(s2r_handler_response *r, req_state *st, int status,
                     const char *log_reason, const char *fmt, ...)
    S2R_PRINTF(5, 6);
static int set_error(s2r_handler_response *r, req_state *st, int status,
                     const char *log_reason, const char *fmt, ...)
{
    char msg[S2R_ERROR_MSG_MAX + 128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    copy_text(st->error_buf, sizeof(st->error_buf),
              log_reason ? log_reason : msg);
    st->error = st->error_buf;
    json_object *o = json_object_new_object();
    if (o)
        json_object_object_add(o, "error", json_object_new_string(msg));
    return set_json(r, status, o);
}

/* The line the CLI prints for @p dg ("file:line: warning: msg", as
 * s2r_diag_put() writes it) as a JSON string, written straight into @p b
 * in three pieces: a JSON string escapes each byte on its own, so the
 * escaped pieces put together are the escaped line. The file is written
 * as a string whose closing quote is dropped, the middle is plain ASCII,
 * and the message is a string whose opening quote lands on the last
 * space of ": warning: ", which is put back. */
static void put_diag_line(s2r_buf *b, const s2r_diag *dg)
{
    static const char *const tails[] = {": note:", ": warning:",
                                        ": error:"};
    const char *file = dg->file ? dg->file : "s2r";
    s2r_json_put_string(b, file, strlen(file));
    if (b->oom)
        return;
    b->len--; /* the closing quote */
    if (dg->line > 0) {
        s2r_buf_putn(b, ":", 1);
        s2r_buf_put_i64(b, dg->line);
    }
    s2r_buf_puts(b, tails[dg->severity]);
    size_t space = b->len;
    s2r_json_put_string(b, dg->message, strlen(dg->message));
    if (!b->oom)
        b->p[space] = ' ';
}

/* ,"KEY":["file:line: warning: msg",...]: the diagnostics of severity
 * @p sev (the answer has a member before them) */
static void put_diag_lines(s2r_buf *b, const char *key, const s2r_diags *d,
                           s2r_severity sev)
{
    s2r_buf_putn(b, ",", 1);
    s2r_json_put_string(b, key, strlen(key));
    s2r_buf_putn(b, ":[", 2);
    bool first = true;
    for (size_t i = 0; i < d->n; i++) {
        if (d->v[i].severity != sev)
            continue;
        if (!first)
            s2r_buf_putn(b, ",", 1);
        first = false;
        put_diag_line(b, &d->v[i]);
    }
    s2r_buf_putn(b, "]", 1);
}

/* The answer built in @p b as the body (@p b is handed over). */
static int set_text(s2r_handler_response *r, int status, s2r_buf *b)
{
    size_t len = b->len;
    return take_body(r, status, s2r_buf_finish(b), len);
}

/* 200: {KEY: the output, "warnings": ["file:line: warning: msg", ...],
 * "format": NAME}, written as text (json-c's plain layout): on the hot
 * path a json-c tree cost more than the conversion's output itself. */
static int answer_converted(s2r_handler_response *r, const req_state *st,
                            const char *key, const char *output,
                            const s2r_diags *d)
{
    size_t out_len = strlen(output);
    s2r_buf b = {0};
    /* the output, a few escapes, the warnings: one allocation */
    s2r_buf_reserve(&b, out_len + out_len / 8 + 2048);
    s2r_buf_putn(&b, "{", 1);
    s2r_json_put_string(&b, key, strlen(key));
    s2r_buf_putn(&b, ":", 1);
    s2r_json_put_string(&b, output, out_len);
    put_diag_lines(&b, "warnings", d, S2R_SEV_WARNING);
    s2r_buf_puts(&b, ",\"format\":");
    s2r_json_put_string(&b, st->format, strlen(st->format));
    s2r_buf_putn(&b, "}", 1);
    return set_text(r, 200, &b);
}

/* X-S2R-Filename, when it is a plain base name; else "-". */
static const char *file_name_of(const char *v)
{
    if (!v || !*v || strlen(v) > 255 || strcmp(v, ".") == 0 ||
        strcmp(v, "..") == 0)
        return "-";
    for (const char *p = v; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c < 0x20 || c == 0x7f || c == '/' || c == '\\')
            return "-";
    }
    size_t n = strlen(v);
    return s2r_utf8_invalid_at((const uint8_t *)v, n) < n ? "-" : v;
}

static int truthy(const char *v)
{
    return v && (strcmp(v, "1") == 0 || strcasecmp(v, "true") == 0 ||
                 strcasecmp(v, "yes") == 0 || strcasecmp(v, "on") == 0);
}

/* The wall clock in milliseconds since the epoch: the auth window is
 * measured in milliseconds, as client timestamps are. */
static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Request ids: a random 64-bit prefix per handler (process start) and a
 * counter, "3f9c0a7e1b2d4c55-42": unique across restarts and processes,
 * and cheap (no random bytes per request). */
static void make_request_id(s2r_handler *h, char *buf, size_t cap)
{
    unsigned long long n =
        __atomic_add_fetch(&h->id_counter, 1, __ATOMIC_RELAXED);
    char t[S2R_I64_TEXT];
    size_t k = strlen(h->id_prefix), m = s2r_i64_text(t, (int64_t)n);
    if (k + 1 + m < cap) { /* a 16-digit prefix, '-', at most 20 digits */
        memcpy(buf, h->id_prefix, k);
        buf[k] = '-';
        memcpy(buf + k + 1, t, m + 1);
    } else {
        copy_text(buf, cap, h->id_prefix);
    }
}

/* 400 for a script sbatch would refuse: the first error, every error
 * and the warnings, as the CLI prints them; the log says how many. */
static int answer_refused(s2r_handler_response *r, req_state *st,
                          const s2r_diags *diags)
{
    char first[S2R_ERROR_MSG_MAX] = "the script was refused";
    for (size_t i = 0; i < diags->n; i++) {
        if (diags->v[i].severity == S2R_SEV_ERROR) {
            char *line = s2r_diag_format(&diags->v[i]);
            if (line) {
                copy_text(first, sizeof(first), line);
                free(line);
            }
            break;
        }
    }
    snprintf(st->error_buf, sizeof(st->error_buf),
             "script refused (%zu errors)",
             s2r_diags_count(diags, S2R_SEV_ERROR));
    st->error = st->error_buf;
    s2r_buf b = {0};
    s2r_buf_puts(&b, "{\"error\":");
    s2r_json_put_string(&b, first, strlen(first));
    put_diag_lines(&b, "errors", diags, S2R_SEV_ERROR);
    put_diag_lines(&b, "warnings", diags, S2R_SEV_WARNING);
    s2r_buf_putn(&b, "}", 1);
    return set_text(r, 400, &b);
}

/* 400 for a script that is not UTF-8, in every format: where the first
 * bad byte is (see handler_text.h). */
static int answer_not_utf8(s2r_handler_response *r, req_state *st,
                           const char *file, const uint8_t *body,
                           size_t at)
{
    size_t line, col;
    s2r_text_position(body, at, &line, &col);
    s2r_diags d = {0};
    s2r_diags_add(&d, S2R_SEV_ERROR, file, (int)line, NULL,
                  "byte 0x%02X (column %zu) is not UTF-8: the server reads "
                  "scripts as UTF-8, in every format; convert the file "
                  "(e.g. iconv -f latin1 -t utf-8)",
                  body[at], col);
    int rc = answer_refused(r, st, &d);
    s2r_diags_clear(&d);
    return rc;
}

/* The rate limiter refused request @p ar after authentication accepted
 * it, with an answer that asks for a retry (429, 503): the signature is
 * not spent, so that the retry of the same signed request can pass (see
 * s2r_auth_ops.forget). */
static void retry_later(s2r_handler *h, const s2r_auth_request *ar)
{
    if (h->auth_id)
        s2r_registry_auth_forget(h->reg, h->auth_id, ar);
}

/* POST /: auth, size, rate limit, pipeline. */
static int convert(s2r_handler *h, const s2r_handler_request *req,
                   s2r_handler_response *r, req_state *st)
{
    if (req->body_truncated)
        return set_error(r, st, 413, NULL,
                         "Payload too large (max %lld bytes)",
                         (long long)h->s.max_body);
    int64_t now_ms = wall_ms();
    int64_t now = now_ms / 1000;
    s2r_error err = {0};
    char principal[S2R_PRINCIPAL_MAX] = "";
    s2r_auth_request ar = {
        .struct_size = sizeof(ar),
        .method = req->method,
        .path = req->path,
        .query = req->query ? req->query : "",
        .header = req->header,
        .header_payload = req->header_payload,
        .body = req->body,
        .body_len = req->body_len,
        .client_ip = req->client_ip,
        .now_unix_s = now,
        .now_ms = now_ms};

    /* authentication */
    if (h->auth_id) {
        s2r_auth_result res = {.struct_size = sizeof(res)};
        int rc = s2r_registry_auth_verify(h->reg, h->auth_id, &ar, &res,
                                          &err);
        if (rc == S2R_EAUTH)
            return set_error(r, st, 401, NULL, "Unauthorized: %s",
                             err.message[0] ? err.message
                                            : "invalid signature");
        if (rc == S2R_EUPSTREAM) {
            add_header(r, "Retry-After", "1");
            return set_error(r, st, 503, err.message,
                             "Authentication unavailable, retry later");
        }
        if (rc != S2R_OK)
            return set_error(r, st, 500, err.message, "Internal error");
        res.principal[sizeof(res.principal) - 1] = '\0';
        memcpy(principal, res.principal, sizeof(principal));
    }

    /* size */
    if (req->body_len > (size_t)h->s.max_body)
        return set_error(r, st, 413, NULL,
                         "Payload too large (max %lld bytes)",
                         (long long)h->s.max_body);

    /* rate limit */
    if (h->rl_id) {
        const char *key = principal[0] ? principal
                          : req->client_ip ? req->client_ip
                                           : "unknown";
        s2r_ratelimit_result rr = {.struct_size = sizeof(rr)};
        int rc = s2r_registry_ratelimit_check(h->reg, h->rl_id, key, now,
                                              &rr, &err);
        if (rc != S2R_OK) {
            retry_later(h, &ar);
            add_header(r, "Retry-After", "1");
            return set_error(r, st, 503, err.message,
                             "Rate limiter unavailable, retry later");
        }
        add_header_int(r, "X-RateLimit-Limit", rr.limit);
        add_header_int(r, "X-RateLimit-Remaining", rr.remaining);
        if (!rr.allowed) {
            retry_later(h, &ar);
            add_header_int(r, "Retry-After",
                           rr.retry_after_s > 0 ? rr.retry_after_s : 1);
            return set_error(r, st, 429, NULL,
                             "Rate limit exceeded: %lld requests per day",
                             (long long)rr.limit);
        }
    }

    /* what to do */
    const char *fmt_name = req->param ? req->param(req->param_payload,
                                                   "format")
                                      : NULL;
    s2r_format fmt = h->default_format;
    if (fmt_name && *fmt_name) {
        int f = s2r_format_from_name(fmt_name);
        if (f < 0) {
            char shown[24];
            s2r_text_printable(shown, sizeof(shown), fmt_name, 20);
            return set_error(r, st, 400, NULL,
                             "unknown format '%s' (cli, yaml or json)",
                             shown);
        }
        fmt = (s2r_format)f;
    }
    static const char *const fmt_names[] = {"cli", "yaml", "json"};
    st->format = fmt_names[fmt];
    int dry = req->param &&
              truthy(req->param(req->param_payload, "dry_run"));
    const char *model = req->header ? req->header(req->header_payload,
                                                  "X-S2R-Model")
                                    : NULL;
    const char *file = file_name_of(
        req->header ? req->header(req->header_payload, "X-S2R-Filename")
                    : NULL);

    size_t bad_at = req->body ? s2r_utf8_invalid_at(req->body, req->body_len)
                              : req->body_len;
    if (bad_at < req->body_len)
        return answer_not_utf8(r, st, file, req->body, bad_at);

    /* the pipeline gets a NUL-terminated copy of the script */
    char *script = malloc(req->body_len + 1);
    if (!script)
        return set_error(r, st, 500, "out of memory", "Internal error");
    if (req->body_len)
        memcpy(script, req->body, req->body_len);
    script[req->body_len] = '\0';
    s2r_provider_ref pref = {
        .id = h->prov_id,
        .ops = h->prov_is_rules ? NULL : &h->wrap_ops,
        .instance = &h->wrap,
        .cache = h->cache,
        .cache_model = h->cache_model};
    s2r_pipeline_request preq = {
        .file = file,
        .script = script,
        .len = req->body_len,
        .format = fmt,
        .model = model && *model ? model : NULL,
        .prompt_only = dry != 0,
        .client_ip = req->client_ip,
        .timeout_ms = (uint32_t)h->s.request_timeout_ms};
    s2r_pipeline_result res;
    memset(&res, 0, sizeof(res));
    s2r_request_site site; /* the submit dir and owner the request gives */
    const char *bad = NULL;
    int rc = s2r_request_site_fill(&site, h->cfg, req->param,
                                   req->param_payload, &bad);
    if (rc == S2R_OK)
        rc = s2r_pipeline_run(&site.cfg, &pref, &preq, &res);
    s2r_request_site_free(&site);
    free(script);
    if (bad)
        return set_error(r, st, 400, NULL, "bad query parameter %s", bad);
    int out_rc;
    if (rc == S2R_OK && res.output) {
        out_rc = answer_converted(r, st, dry ? "prompt" : "runai_config",
                                  res.output, &res.diags);
    } else if (rc == S2R_EINVAL) {
        out_rc = answer_refused(r, st, &res.diags);
    } else {
        const char *m = res.err.message[0] ? res.err.message
                                            : "conversion failed";
        switch (rc) {
        case S2R_ELIMITED:
            out_rc = set_error(r, st, 429, m, "Provider rate limited: %s", m);
            break;
        case S2R_ETOOBIG:
            out_rc = set_error(r, st, 413, m, "Provider refused the size: %s",
                               m);
            break;
        case S2R_EAUTH:
            out_rc = set_error(r, st, 502, m,
                               "Provider refused authentication: %s", m);
            break;
        case S2R_ETIMEOUT:
            out_rc = set_error(r, st, 504, m, "Provider timed out: %s", m);
            break;
        case S2R_EUPSTREAM:
            out_rc = set_error(r, st, 502, m, "Provider failed: %s", m);
            break;
        default:
            out_rc = set_error(r, st, 500, m, "Internal error");
            break;
        }
    }
    s2r_pipeline_result_free(&res);
    return out_rc;
}

/* The request log line of @p a, answered with id @p id. */
static void write_request_line(s2r_handler *h, const char *id,
                               const s2r_handler_answered *a)
{
    const char *level = a->status >= 500 ? "error"
                        : a->status >= 400 ? "warn"
                                           : "info";
    s2r_buf line = {0};
    s2r_handler__log_head(&line, level, "request");
    s2r_handler__log_str(&line, "id", id);
    s2r_handler__log_str(&line, "client_ip",
                         a->client_ip ? a->client_ip : "");
    /* method and path are client-chosen text: printable ASCII, at most
     * 16 and 128 bytes of them */
    char method[17], path[129];
    s2r_text_printable(method, sizeof(method), a->method, 16);
    s2r_text_printable(path, sizeof(path), a->path, 128);
    s2r_handler__log_str(&line, "method", method);
    s2r_handler__log_str(&line, "path", path);
    s2r_handler__log_int(&line, "status", a->status);
    s2r_handler__log_ms(&line, "duration_ms", a->duration_us);
    s2r_handler__log_int(&line, "bytes_in", (int64_t)a->bytes_in);
    s2r_handler__log_int(&line, "bytes_out", (int64_t)a->bytes_out);
    if (a->format && a->status == 200)
        s2r_handler__log_str(&line, "format", a->format);
    if (a->error)
        s2r_handler__log_str(&line, "error", a->error);
    s2r_handler__log_emit(&line, h->log_fn, h->log_payload);
}

static void log_request(s2r_handler *h, const s2r_handler_request *req,
                        const s2r_handler_response *r, const req_state *st,
                        int64_t t0)
{
    if (!h->s.log_requests)
        return;
    s2r_handler_answered a = {.method = req->method,
                              .path = req->path,
                              .client_ip = req->client_ip,
                              .status = r->status,
                              .duration_us = mono_us() - t0,
                              .bytes_in = req->body_len,
                              .bytes_out = r->body_len,
                              .format = st->format,
                              .error = st->error};
    write_request_line(h, r->request_id, &a);
}

void s2r_handler_request_id(s2r_handler *h, char *buf, size_t cap)
{
    make_request_id(h, buf, cap);
}

void s2r_handler_log_answered(s2r_handler *h, const char *request_id,
                              const s2r_handler_answered *a)
{
    if (h->s.log_requests)
        write_request_line(h, request_id, a);
}

int s2r_handler_handle(s2r_handler *h, const s2r_handler_request *req,
                       s2r_handler_response *r)
{
    int64_t t0 = mono_us();
    memset(r, 0, sizeof(*r));
    r->content_type = "application/json";
    req_state st;
    memset(&st, 0, sizeof(st));
    if (req->request_id && *req->request_id)
        copy_text(r->request_id, sizeof(r->request_id), req->request_id);
    else
        make_request_id(h, r->request_id, sizeof(r->request_id));
    add_header(r, "X-Request-Id", r->request_id);

    const char *method = req->method ? req->method : "";
    const char *path = req->path && *req->path ? req->path : "/";
    int rc;
    if (strcmp(path, "/healthz") == 0) {
        if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0) {
            json_object *o = json_object_new_object();
            if (o)
                json_object_object_add(o, "status",
                                       json_object_new_string("ok"));
            rc = set_json(r, 200, o);
        } else {
            add_header(r, "Allow", "GET, HEAD");
            rc = set_error(r, &st, 405, NULL, "Method not allowed");
        }
    } else if (strcmp(path, "/") == 0) {
        if (strcmp(method, "POST") == 0) {
            rc = convert(h, req, r, &st);
        } else {
            add_header(r, "Allow", "POST");
            rc = set_error(r, &st, 405, NULL, "Method not allowed");
        }
    } else {
        rc = set_error(r, &st, 404, NULL, "Not found");
    }
    if (rc != S2R_OK) {
        r->status = 500;
        st.error = "out of memory";
    }
    log_request(h, req, r, &st, t0);
    return rc;
}

void s2r_handler_response_free(s2r_handler_response *resp)
{
    if (!resp)
        return;
    free(resp->body);
    resp->body = NULL;
    resp->body_len = 0;
}

int s2r_handler_stack_open(s2r_handler_stack *out, s2r_config *cfg,
                           const s2r_ini *ini, const char *section,
                           const char *const *transport_keys,
                           const char *plugin_dir, s2r_diags *diags)
{
    memset(out, 0, sizeof(*out));
    int rc = s2r_config_apply(cfg, ini, diags);
    s2r_handler_settings hs;
    if (rc == S2R_OK)
        rc = s2r_handler_settings_read(&hs, &out->binding, ini, section,
                                       transport_keys, diags);
    if (rc == S2R_OK) {
        s2r_registry_options ro = S2R_REGISTRY_OPTIONS_INIT;
        ro.ini = ini;
        ro.plugin_dir = plugin_dir;
        ro.log_fn = s2r_handler_plugin_log;
        rc = s2r_registry_open(&out->reg, &ro, diags);
    }
    if (rc == S2R_OK) {
        s2r_handler_options ho = {
            .section = section, .cfg = cfg, .reg = out->reg, .settings = hs};
        rc = s2r_handler_new(&out->handler, &ho, diags);
    }
    if (rc != S2R_OK)
        s2r_handler_stack_close(out);
    return rc;
}

void s2r_handler_stack_close(s2r_handler_stack *st)
{
    s2r_handler_free(st->handler);
    s2r_registry_close(st->reg);
    s2r_binding_free(st->binding);
    memset(st, 0, sizeof(*st));
}
