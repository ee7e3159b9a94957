/* local_llm.c: the local-llm provider: asks a model on a local (or any
 * reachable) server for a proposal, with the prompt the core built.
 *
 *   api = openai  POST {base_url}/v1/chat/completions  (llama.cpp server,
 *                 vLLM, LM Studio, Ollama's /v1, any OpenAI-compatible)
 *                 {"model", "messages", "temperature", "max_tokens",
 *                  "stream": false, "response_format": {"type":
 *                  "json_object"}}
 *                 answer choices[0].message.content, finish_reason,
 *                 usage.{prompt,completion,total}_tokens
 *   api = ollama  POST {base_url}/api/chat
 *                 {"model", "messages", "stream": false, "format": "json",
 *                  "options": {"temperature", "num_predict"}}
 *                 answer message.content, done_reason, prompt_eval_count,
 *                 eval_count
 *
 * convert() answers provider shape 2 (a proposal: image, command|script,
 * env, notes) for the core's guard, or fails so that the pipeline falls
 * back to the rules result with a warning: S2R_ETIMEOUT (no answer in
 * time), S2R_EUPSTREAM (unreachable, any HTTP error: err->http_status),
 * S2R_EINVAL (empty, truncated, not JSON). JSON mode (json_mode = auto)
 * is asked for and, when the server refuses the parameter (HTTP 400/422),
 * dropped for the rest of the instance's life. Token usage goes to the log
 * (info). HTTP, JSON and secrets come from the host table.
 */
#include "local_llm.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct llm_conf {
    const char *base_url;       /* NULL: per api */
    const char *api;            /* "openai" | "ollama" */
    const char *model;
    const char *const *models;  /* per-request choices, NULL-terminated */
    const char *api_key;        /* resolved secret, or NULL */
    const char *json_mode;      /* "auto" | "on" | "off" */
    const char *ca_file;
    const char *proxy;
    int64_t timeout_ms;
    int64_t connect_timeout_ms;
    int64_t max_tokens;
    int64_t max_response;       /* bytes */
    double temperature;
} llm_conf;

static const char *const api_values[] = {"openai", "ollama", NULL};
static const char *const json_mode_values[] = {"auto", "on", "off", NULL};

static const s2r_option llm_options[] = {
    {"base_url", S2R_OPT_STRING, 0, NULL, 0, 0, NULL,
     S2R_OPT_OFFSET(llm_conf, base_url),
     "Server URL without the API path (default http://127.0.0.1:8080 for "
     "api = openai, http://127.0.0.1:11434 for api = ollama); a trailing "
     "/v1 is fine."},
    {"api", S2R_OPT_ENUM, 0, "openai", 0, 0, api_values,
     S2R_OPT_OFFSET(llm_conf, api),
     "openai: POST /v1/chat/completions (llama.cpp, vLLM, LM Studio, "
     "Ollama /v1); ollama: Ollama's native POST /api/chat."},
    {"model", S2R_OPT_STRING, S2R_OPT_F_REQUIRED, NULL, 0, 0, NULL,
     S2R_OPT_OFFSET(llm_conf, model),
     "Model name as the server knows it (any name for a llama.cpp server "
     "with one model); also part of the cache key."},
    {"models", S2R_OPT_LIST, 0, NULL, 0, 0, NULL,
     S2R_OPT_OFFSET(llm_conf, models),
     "Models a client may choose per request (X-S2R-Model, comma-separated); "
     "unset: the request's choice is ignored and model is used."},
    {"api_key", S2R_OPT_STRING, S2R_OPT_F_SECRET, NULL, 0, 0, NULL,
     S2R_OPT_OFFSET(llm_conf, api_key),
     "Bearer token, as env:NAME or file:PATH; most local servers need "
     "none."},
    {"timeout", S2R_OPT_DURATION, 0, "120s", 100, 3600000, NULL,
     S2R_OPT_OFFSET(llm_conf, timeout_ms),
     "Longest wait for the whole answer; then the rules result is used."},
    {"connect_timeout", S2R_OPT_DURATION, 0, "5s", 100, 600000, NULL,
     S2R_OPT_OFFSET(llm_conf, connect_timeout_ms),
     "Longest wait for the connection to the server."},
    {"temperature", S2R_OPT_DOUBLE, 0, "0", 0, 2, NULL,
     S2R_OPT_OFFSET(llm_conf, temperature),
     "Sampling temperature; 0 gives the same answer for the same prompt."},
    {"max_tokens", S2R_OPT_INT, 0, "1024", 64, 65536, NULL,
     S2R_OPT_OFFSET(llm_conf, max_tokens),
     "Longest answer in tokens (max_tokens / num_predict); a longer one is "
     "truncated and not used."},
    {"json_mode", S2R_OPT_ENUM, 0, "auto", 0, 0, json_mode_values,
     S2R_OPT_OFFSET(llm_conf, json_mode),
     "Ask for JSON output (response_format / format); auto drops it when "
     "the server refuses the parameter."},
    {"ca_file", S2R_OPT_STRING, 0, NULL, 0, 0, NULL,
     S2R_OPT_OFFSET(llm_conf, ca_file),
     "PEM file of the CAs for an https:// server (default: system store)."},
    {"proxy", S2R_OPT_STRING, 0, "", 0, 0, NULL,
     S2R_OPT_OFFSET(llm_conf, proxy),
     "Proxy URL; empty (default) for none, as a local server needs."},
    {"max_response", S2R_OPT_SIZE, 0, "4M", 1024, INT64_C(1) << 30, NULL,
     S2R_OPT_OFFSET(llm_conf, max_response),
     "Largest HTTP answer accepted."},
    {"cache", S2R_OPT_STRING, 0, NULL, 0, 0, NULL, S2R_OPT_NO_BIND,
     "SQLite file where the core caches used answers by SHA-256 of "
     "(prompt, model); unset: no cache."},
    {"cache_max_age", S2R_OPT_DURATION, 0, "720h", 0, 0, NULL,
     S2R_OPT_NO_BIND,
     "Age after which a cached answer is asked again; 0: never."},
    S2R_OPTION_END};

typedef struct llm {
    const s2r_host *host;
    const s2r_instance_ctx *ctx;
    const llm_conf *conf;
    int ollama;
    char *url;               /* full endpoint URL */
    atomic_int json_refused; /* the server rejected JSON mode once */
} llm;

static const char system_text[] =
    "You help s2r convert SLURM batch scripts to Run:ai workloads. Reply "
    "with exactly one JSON object, as the user message describes.";

/* ------------------------------------------------------------------ */
/* create / destroy                                                    */
/* ------------------------------------------------------------------ */

static int llm_create(void **out, const s2r_host *host,
                      const s2r_instance_ctx *ctx, const void *config,
                      s2r_error *err)
{
    const llm_conf *c = config;
    int ollama = c->api && strcmp(c->api, "ollama") == 0;
    const char *base = c->base_url && *c->base_url
                           ? c->base_url
                           : ollama ? "http://127.0.0.1:11434"
                                    : "http://127.0.0.1:8080";
    if (strncmp(base, "http://", 7) != 0 && strncmp(base, "https://", 8) != 0)
        return host->error_set(ctx, err, S2R_EINVAL,
                               "base_url: an http:// or https:// URL is "
                               "needed");
    for (const char *p = base; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f || *p == '#' || *p == '?')
            return host->error_set(ctx, err, S2R_EINVAL,
                                   "base_url: no spaces, control "
                                   "characters, query or fragment");
    if (!c->model || !*c->model)
        return host->error_set(ctx, err, S2R_EINVAL, "model: a name is "
                                                     "needed");
    size_t bl = strlen(base);
    while (bl > 0 && base[bl - 1] == '/')
        bl--;
    const char *path;
    if (ollama)
        path = "/api/chat";
    else if (bl >= 3 && memcmp(base + bl - 3, "/v1", 3) == 0)
        path = "/chat/completions";
    else
        path = "/v1/chat/completions";
    llm *l = host->alloc(sizeof(*l));
    char *url = host->alloc(bl + strlen(path) + 1);
    if (!l || !url) {
        host->free(l);
        host->free(url);
        return host->error_set(ctx, err, S2R_ENOMEM, "out of memory");
    }
    memcpy(url, base, bl);
    strcpy(url + bl, path);
    memset(l, 0, sizeof(*l));
    l->host = host;
    l->ctx = ctx;
    l->conf = c;
    l->ollama = ollama;
    l->url = url;
    atomic_init(&l->json_refused, 0);
    *out = l;
    return S2R_OK;
}

static void llm_destroy(void *instance)
{
    llm *l = instance;
    if (!l)
        return;
    l->host->free(l->url);
    l->host->free(l);
}

/* ------------------------------------------------------------------ */
/* request and answer                                                  */
/* ------------------------------------------------------------------ */

static json_object *message(const char *role, const char *content)
{
    json_object *m = json_object_new_object();
    json_object_object_add(m, "role", json_object_new_string(role));
    json_object_object_add(m, "content", json_object_new_string(content));
    return m;
}

static char *request_body(const llm *l, const char *model, const char *prompt,
                          int json_mode)
{
    const llm_conf *c = l->conf;
    json_object *b = json_object_new_object();
    json_object *msgs = json_object_new_array();
    if (!b || !msgs) {
        json_object_put(b);
        json_object_put(msgs);
        return NULL;
    }
    json_object_object_add(b, "model", json_object_new_string(model));
    json_object_array_add(msgs, message("system", system_text));
    json_object_array_add(msgs, message("user", prompt));
    json_object_object_add(b, "messages", msgs);
    json_object_object_add(b, "stream", json_object_new_boolean(0));
    if (l->ollama) {
        json_object *opt = json_object_new_object();
        json_object_object_add(opt, "temperature",
                               json_object_new_double(c->temperature));
        json_object_object_add(opt, "num_predict",
                               json_object_new_int64(c->max_tokens));
        json_object_object_add(b, "options", opt);
        if (json_mode)
            json_object_object_add(b, "format",
                                   json_object_new_string("json"));
    } else {
        json_object_object_add(b, "temperature",
                               json_object_new_double(c->temperature));
        json_object_object_add(b, "max_tokens",
                               json_object_new_int64(c->max_tokens));
        if (json_mode) {
            json_object *rf = json_object_new_object();
            json_object_object_add(rf, "type",
                                   json_object_new_string("json_object"));
            json_object_object_add(b, "response_format", rf);
        }
    }
    char *text = l->host->json_to_string(b);
    json_object_put(b);
    return text;
}

static json_object *get_path(json_object *o, const char *k1, const char *k2)
{
    json_object *v = NULL;
    if (!o || !json_object_object_get_ex(o, k1, &v))
        return NULL;
    if (!k2)
        return v;
    json_object *w = NULL;
    return v && json_object_object_get_ex(v, k2, &w) ? w : NULL;
}

/* The server's own error text from an error body, or the body's start. */
static void error_text(const s2r_http_response *r, const s2r_host *h,
                       char *out, size_t cap)
{
    json_object *o = NULL;
    s2r_error perr = {0};
    const char *msg = NULL;
    if (r->body_len && h->json_parse(r->body, r->body_len, &o, &perr) ==
                           S2R_OK) {
        json_object *e = get_path(o, "error", NULL);
        if (e && json_object_is_type(e, json_type_string))
            msg = json_object_get_string(e);
        else if ((e = get_path(o, "error", "message")) &&
                 json_object_is_type(e, json_type_string))
            msg = json_object_get_string(e);
    }
    snprintf(out, cap, "%.160s", msg ? msg : r->body_len ? r->body : "");
    for (char *p = out; *p; p++)
        if ((unsigned char)*p < 0x20)
            *p = ' ';
    json_object_put(o);
}

static int64_t int_at(json_object *o, const char *k1, const char *k2)
{
    json_object *v = get_path(o, k1, k2);
    return v && json_object_is_type(v, json_type_int)
               ? json_object_get_int64(v)
               : -1;
}

/* One POST; S2R_OK with @p resp filled (any status). */
static int post(llm *l, const char *body, uint32_t timeout_ms,
                s2r_http_response *resp, s2r_error *err)
{
    const llm_conf *c = l->conf;
    s2r_header hdr[3];
    uint32_t nh = 0;
    char *auth = NULL;
    size_t auth_len = 0;
    hdr[nh++] = (s2r_header){"Content-Type", "application/json"};
    hdr[nh++] = (s2r_header){"Accept", "application/json"};
    if (c->api_key && *c->api_key) {
        auth_len = strlen(c->api_key) + sizeof("Bearer ");
        auth = l->host->alloc(auth_len);
        if (!auth)
            return l->host->error_set(l->ctx, err, S2R_ENOMEM,
                                      "out of memory");
        snprintf(auth, auth_len, "Bearer %s", c->api_key);
        hdr[nh++] = (s2r_header){"Authorization", auth};
    }
    s2r_http_request req = {
        .struct_size = sizeof(req),
        .n_headers = nh,
        .method = "POST",
        .url = l->url,
        .headers = hdr,
        .body = body,
        .body_len = strlen(body),
        .timeout_ms = timeout_ms,
        .connect_timeout_ms = (uint32_t)c->connect_timeout_ms,
        .ca_file = c->ca_file,
        .proxy = c->proxy,
        .max_response_bytes = (uint64_t)c->max_response};
    int rc = l->host->http_request(l->ctx, &req, resp, err);
    if (auth) {
        l->host->secure_zero(auth, auth_len);
        l->host->free(auth);
    }
    return rc;
}

static int llm_convert(void *instance, const s2r_provider_request *req,
                       json_object **answer_out, s2r_error *err)
{
    llm *l = instance;
    const s2r_host *h = l->host;
    const llm_conf *c = l->conf;
    if (!req->prompt)
        return h->error_set(l->ctx, err, S2R_EINVAL,
                            "the core built no prompt");
    /* the request's model: only one the section offers */
    const char *model = c->model;
    if (req->model && *req->model && c->models) {
        size_t i = 0;
        while (c->models[i] && strcmp(c->models[i], req->model) != 0)
            i++;
        if (!c->models[i])
            return h->error_set(l->ctx, err, S2R_EUNSUPPORTED,
                                "model '%s' is not offered (models = ...)",
                                req->model);
        model = c->models[i];
    }
    uint32_t timeout = (uint32_t)c->timeout_ms;
    if (req->timeout_ms && req->timeout_ms < timeout)
        timeout = req->timeout_ms;
    int want_json = strcmp(c->json_mode, "off") != 0 &&
                    !(strcmp(c->json_mode, "auto") == 0 &&
                      atomic_load(&l->json_refused));
    int64_t t0 = h->monotonic_ms();
    s2r_http_response resp;
    int rc;
    for (int attempt = 0;; attempt++) {
        char *body = request_body(l, model, req->prompt, want_json);
        if (!body)
            return h->error_set(l->ctx, err, S2R_ENOMEM, "out of memory");
        memset(&resp, 0, sizeof(resp));
        int64_t spent = h->monotonic_ms() - t0;
        uint32_t left = spent >= (int64_t)timeout ? 1
                                                  : timeout - (uint32_t)spent;
        rc = post(l, body, left, &resp, err);
        h->free(body);
        if (rc == S2R_ETIMEOUT)
            return h->error_set(l->ctx, err, S2R_ETIMEOUT,
                                "no answer from %s within %u ms", l->url,
                                timeout);
        if (rc != S2R_OK) {
            if (rc == S2R_ENOMEM)
                return rc;
            /* unreachable, TLS, too big: all upstream failures here */
            char msg[S2R_ERROR_MSG_MAX];
            snprintf(msg, sizeof(msg), "%s", err->message);
            return h->error_set(l->ctx, err, S2R_EUPSTREAM, "%s", msg);
        }
        if (want_json && attempt == 0 && strcmp(c->json_mode, "auto") == 0 &&
            (resp.status == 400 || resp.status == 422)) {
            char et[200];
            error_text(&resp, h, et, sizeof(et));
            S2R_LOG_I(h, l->ctx,
                      "%s refused JSON mode (HTTP %d: %s): asking without it",
                      l->url, resp.status, et);
            atomic_store(&l->json_refused, 1);
            h->http_response_free(&resp);
            want_json = 0;
            continue;
        }
        break;
    }
    int64_t took = h->monotonic_ms() - t0;
    if (resp.status < 200 || resp.status > 299) {
        char et[200];
        error_text(&resp, h, et, sizeof(et));
        int status = resp.status;
        h->http_response_free(&resp);
        h->error_set(l->ctx, err, S2R_EUPSTREAM, "%s answered HTTP %d%s%s",
                     l->url, status, et[0] ? ": " : "", et);
        err->http_status = status;
        return S2R_EUPSTREAM;
    }
    json_object *doc = NULL;
    s2r_error perr = {0};
    rc = h->json_parse(resp.body, resp.body_len, &doc, &perr);
    h->http_response_free(&resp);
    if (rc != S2R_OK || !json_object_is_type(doc, json_type_object)) {
        json_object_put(doc);
        return h->error_set(l->ctx, err, S2R_EINVAL,
                            "%s answered something that is not a chat "
                            "completion (%s)", l->url,
                            rc != S2R_OK ? perr.message : "not an object");
    }
    json_object *content, *finish, *served;
    int64_t in_tok, out_tok;
    if (l->ollama) {
        content = get_path(doc, "message", "content");
        finish = get_path(doc, "done_reason", NULL);
        in_tok = int_at(doc, "prompt_eval_count", NULL);
        out_tok = int_at(doc, "eval_count", NULL);
    } else {
        json_object *ch = get_path(doc, "choices", NULL);
        json_object *c0 = ch && json_object_is_type(ch, json_type_array) &&
                                  json_object_array_length(ch) > 0
                              ? json_object_array_get_idx(ch, 0)
                              : NULL;
        content = get_path(c0, "message", "content");
        finish = get_path(c0, "finish_reason", NULL);
        in_tok = int_at(doc, "usage", "prompt_tokens");
        out_tok = int_at(doc, "usage", "completion_tokens");
    }
    served = get_path(doc, "model", NULL);
    S2R_LOG_I(h, l->ctx,
              "model %s answered in %lld ms: %lld prompt + %lld completion "
              "tokens%s",
              served && json_object_is_type(served, json_type_string)
                  ? json_object_get_string(served)
                  : model,
              (long long)took, (long long)in_tok, (long long)out_tok,
              in_tok < 0 ? " (the server reports no usage)" : "");
    if (finish && json_object_is_type(finish, json_type_string) &&
        strcmp(json_object_get_string(finish), "length") == 0) {
        json_object_put(doc);
        return h->error_set(l->ctx, err, S2R_EINVAL,
                            "the model's answer was cut at max_tokens = "
                            "%lld (truncated)", (long long)c->max_tokens);
    }
    if (!content || !json_object_is_type(content, json_type_string)) {
        json_object_put(doc);
        return h->error_set(l->ctx, err, S2R_EINVAL,
                            "the model's answer is empty (no message "
                            "content)");
    }
    if (h->log_enabled(l->ctx, S2R_LOG_DEBUG))
        S2R_LOG_D(h, l->ctx, "answer: %.2000s",
                  json_object_get_string(content));
    json_object *answer = NULL;
    char why[128];
    rc = llm_answer_extract(json_object_get_string(content),
                            (size_t)json_object_get_string_len(content),
                            &answer, why, sizeof(why));
    json_object_put(doc);
    if (rc != S2R_OK)
        return rc == S2R_ENOMEM
                   ? h->error_set(l->ctx, err, rc, "out of memory")
                   : h->error_set(l->ctx, err, S2R_EINVAL, "%s", why);
    json_object *v;
    if (json_object_object_get_ex(answer, "output", &v)) {
        /* shape 3 is for s2r servers: a model must not hand over a
         * rendered script that would bypass the guard */
        json_object_put(answer);
        return h->error_set(l->ctx, err, S2R_EINVAL,
                            "the model answered a rendered \"output\", not "
                            "a proposal");
    }
    *answer_out = answer;
    return S2R_OK;
}

static const s2r_provider_ops llm_ops = {
    .struct_size = sizeof(s2r_provider_ops),
    .convert = llm_convert};

static const s2r_plugin llm_plugin = {
    S2R_PLUGIN_HEADER,
    .kind = S2R_KIND_PROVIDER,
    .flags = S2R_PLUGIN_F_THREADSAFE,
    .name = "local-llm",
    .version = "1.0.0",
    .description = "A local model (llama.cpp, vLLM, LM Studio, Ollama) "
                   "proposes image, command and notes; the core's guard "
                   "keeps the directives' resources.",
    .options = llm_options,
    .config_size = sizeof(llm_conf),
    .create = llm_create,
    .destroy = llm_destroy,
    .ops = &llm_ops};

S2R_PLUGIN_DECLARE(llm_plugin)
