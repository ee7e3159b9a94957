/* bedrock.c: the bedrock provider: asks a model on Amazon Bedrock to
 * improve the rules conversion.
 *
 * convert() sends the prompt the core built (s2r_provider_request.prompt;
 * without one, the script and the rules workload for review) to
 *   - InvokeModel (POST /model/{id}/invoke) with the Anthropic Messages
 *     body, anthropic_version "bedrock-2023-05-31", for Anthropic models;
 *   - Converse (POST /model/{id}/converse) for every other model;
 * (option `api` forces one), signed with SigV4 through the host table,
 * and answers shape 2 of s2r_provider_ops: the JSON object found in the
 * model's text ({"image", "command" | "script", "env", "notes"}).
 *
 * Model: option `model` (a model id, an inference-profile id or an ARN);
 * a request may pick another one by alias (X-S2R-Model) from the
 * whitelist `models = alias=id, ...`; anything else is refused.
 * Retries: ThrottlingException / HTTP 429 and HTTP 503 only, `retries`
 * times, exponential backoff from `retry_backoff` with jitter, never past
 * the request's deadline. Every other error is answered at once with a
 * clear message (bedrock_errors.c).
 * Credentials: options access_key_id + secret_access_key (+ session_token)
 * as env:NAME / file:PATH references, else the core's chain (environment
 * AWS_ACCESS_KEY_ID..., then ~/.aws/credentials with AWS_PROFILE).
 */
#include "bedrock.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static const char *const api_values[] = {"auto", "invoke", "converse", NULL};

#define DEFAULT_SYSTEM                                                       \
    "You convert SLURM batch scripts into NVIDIA Run:ai workloads. Answer " \
    "with exactly one JSON object and nothing else."

static const s2r_option bedrock_options[] = {
    {"region", S2R_OPT_STRING, 0, NULL, 0, 0, NULL,
     S2R_OPT_OFFSET(bedrock_conf, region),
     "AWS Region of Bedrock, e.g. us-east-1 (default: AWS_REGION, then "
     "AWS_DEFAULT_REGION)."},
    {"model", S2R_OPT_STRING, 0, NULL, 0, 0, NULL,
     S2R_OPT_OFFSET(bedrock_conf, model),
     "Default model: a model id, an inference-profile id or an ARN "
     "(default: the first entry of models)."},
    {"models", S2R_OPT_LIST, 0, NULL, 0, 0, NULL,
     S2R_OPT_OFFSET(bedrock_conf, models),
     "Models a request may pick with X-S2R-Model, as alias=model-id, "
     "comma-separated."},
    {"endpoint", S2R_OPT_STRING, 0, NULL, 0, 0, NULL,
     S2R_OPT_OFFSET(bedrock_conf, endpoint),
     "Bedrock runtime URL (default: "
     "https://bedrock-runtime.<region>.amazonaws.com)."},
    {"api", S2R_OPT_ENUM, 0, "auto", 0, 0, api_values,
     S2R_OPT_OFFSET(bedrock_conf, api),
     "auto: InvokeModel for Anthropic models, Converse for others; or force "
     "invoke or converse."},
    {"max_tokens", S2R_OPT_INT, 0, "4096", 1, 200000, NULL,
     S2R_OPT_OFFSET(bedrock_conf, max_tokens),
     "Largest answer of the model, in tokens."},
    {"temperature", S2R_OPT_DOUBLE, 0, "0", 0, 1, NULL,
     S2R_OPT_OFFSET(bedrock_conf, temperature),
     "Sampling temperature (0 = most deterministic)."},
    {"system_prompt", S2R_OPT_STRING, 0, NULL, 0, 0, NULL,
     S2R_OPT_OFFSET(bedrock_conf, system_prompt),
     "System prompt sent with every request (default: a one-line "
     "instruction to answer with one JSON object)."},
    {"timeout", S2R_OPT_DURATION, 0, "60s", 100, 900000, NULL,
     S2R_OPT_OFFSET(bedrock_conf, timeout_ms),
     "Longest wait for one model answer."},
    {"connect_timeout", S2R_OPT_DURATION, 0, "5s", 100, 60000, NULL,
     S2R_OPT_OFFSET(bedrock_conf, connect_timeout_ms),
     "Longest wait for the connection to Bedrock."},
    {"retries", S2R_OPT_INT, 0, "3", 0, 10, NULL,
     S2R_OPT_OFFSET(bedrock_conf, retries),
     "Retries after ThrottlingException / HTTP 429 and HTTP 503 (no other "
     "error is retried)."},
    {"retry_backoff", S2R_OPT_DURATION, 0, "500ms", 1, 60000, NULL,
     S2R_OPT_OFFSET(bedrock_conf, retry_backoff_ms),
     "First retry delay; doubles on each retry, with jitter."},
    {"access_key_id", S2R_OPT_STRING, S2R_OPT_F_SECRET, NULL, 0, 0, NULL,
     S2R_OPT_OFFSET(bedrock_conf, access_key_id),
     "AWS access key id as env:NAME or file:PATH (default: the environment, "
     "then ~/.aws/credentials with AWS_PROFILE)."},
    {"secret_access_key", S2R_OPT_STRING, S2R_OPT_F_SECRET, NULL, 0, 0, NULL,
     S2R_OPT_OFFSET(bedrock_conf, secret_access_key),
     "AWS secret access key as env:NAME or file:PATH (with access_key_id)."},
    {"session_token", S2R_OPT_STRING, S2R_OPT_F_SECRET, NULL, 0, 0, NULL,
     S2R_OPT_OFFSET(bedrock_conf, session_token),
     "AWS session token of temporary credentials, as env:NAME or file:PATH."},
    {"ca_file", S2R_OPT_STRING, 0, NULL, 0, 0, NULL,
     S2R_OPT_OFFSET(bedrock_conf, ca_file),
     "PEM CA bundle for TLS (default: the system store)."},
    {"proxy", S2R_OPT_STRING, 0, NULL, 0, 0, NULL,
     S2R_OPT_OFFSET(bedrock_conf, proxy),
     "Proxy URL; empty for none; unset follows https_proxy and friends."},
    {"max_response", S2R_OPT_SIZE, 0, "4M", 1024, INT64_C(1) << 30, NULL,
     S2R_OPT_OFFSET(bedrock_conf, max_response),
     "Largest Bedrock answer accepted."},
    {"cache", S2R_OPT_STRING, 0, NULL, 0, 0, NULL, S2R_OPT_NO_BIND,
     "SQLite file where the core caches used answers by SHA-256 of "
     "(prompt, model); unset: no cache."},
    {"cache_max_age", S2R_OPT_DURATION, 0, "720h", 0, 0, NULL,
     S2R_OPT_NO_BIND,
     "Age after which a cached answer is asked again; 0: never."},
    S2R_OPTION_END};

/* ------------------------------------------------------------------ */
/* create / destroy                                                    */
/* ------------------------------------------------------------------ */

static void bedrock_destroy(void *instance)
{
    bedrock *b = instance;
    if (!b)
        return;
    const s2r_host *h = b->host;
    for (size_t i = 0; i < b->n_aliases; i++) {
        h->free(b->aliases[i].alias);
        h->free(b->aliases[i].model);
    }
    h->free(b->aliases);
    h->free(b->region);
    h->free(b->endpoint);
    h->free(b->default_model);
    h->free(b);
}

static int valid_region(const char *r)
{
    if (!r || !*r || strlen(r) > 32)
        return 0;
    for (; *r; r++)
        if (!((*r >= 'a' && *r <= 'z') || (*r >= '0' && *r <= '9') ||
              *r == '-'))
            return 0;
    return 1;
}

static int valid_model(const char *m)
{
    if (!m || !*m || strlen(m) > 2048)
        return 0;
    for (; *m; m++)
        if ((unsigned char)*m <= ' ' || (unsigned char)*m >= 0x7f)
            return 0;
    return 1;
}

static int valid_alias(const char *a, size_t n)
{
    if (n == 0 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((a[i] >= 'a' && a[i] <= 'z') || (a[i] >= 'A' && a[i] <= 'Z') ||
              (a[i] >= '0' && a[i] <= '9') || strchr("._-", a[i])))
            return 0;
    return 1;
}

static char *dup_n(const s2r_host *h, const char *s, size_t n)
{
    char *p = h->alloc(n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

static int bedrock_create(void **out, const s2r_host *host,
                          const s2r_instance_ctx *ctx, const void *config,
                          s2r_error *err)
{
    const bedrock_conf *c = config;
    if (!S2R_HOST_HAS(host, aws_sigv4_sign))
        return host->error_set(ctx, err, S2R_EUNSUPPORTED,
                               "this s2r has no AWS SigV4 signer");
    const char *region = c->region;
    if (!region || !*region)
        region = getenv("AWS_REGION");
    if (!region || !*region)
        region = getenv("AWS_DEFAULT_REGION");
    if (!region || !*region)
        return host->error_set(ctx, err, S2R_EINVAL,
                               "region: set it, or AWS_REGION");
    if (!valid_region(region))
        return host->error_set(ctx, err, S2R_EINVAL,
                               "region: '%.40s' is not an AWS Region name",
                               region);
    if ((c->access_key_id && *c->access_key_id) !=
        (c->secret_access_key && *c->secret_access_key))
        return host->error_set(ctx, err, S2R_EINVAL,
                               "access_key_id and secret_access_key go "
                               "together");
    if (c->endpoint && *c->endpoint &&
        strncmp(c->endpoint, "https://", 8) != 0 &&
        strncmp(c->endpoint, "http://", 7) != 0)
        return host->error_set(ctx, err, S2R_EINVAL,
                               "endpoint: an http:// or https:// URL is "
                               "needed");

    bedrock *b = host->alloc(sizeof(*b));
    if (!b)
        return host->error_set(ctx, err, S2R_ENOMEM, "out of memory");
    memset(b, 0, sizeof(*b));
    b->host = host;
    b->ctx = ctx;
    b->conf = c;
    b->region = host->str_dup(region);
    if (c->endpoint && *c->endpoint) {
        size_t n = strlen(c->endpoint);
        while (n > 0 && c->endpoint[n - 1] == '/')
            n--;
        b->endpoint = dup_n(host, c->endpoint, n);
    } else {
        size_t n = strlen(region) + 48;
        b->endpoint = host->alloc(n);
        if (b->endpoint)
            snprintf(b->endpoint, n,
                     "https://bedrock-runtime.%s.amazonaws.com%s", region,
                     strncmp(region, "cn-", 3) == 0 ? ".cn" : "");
    }
    if (!b->region || !b->endpoint)
        goto oom;

    size_t n = 0;
    while (c->models && c->models[n])
        n++;
    if (n) {
        b->aliases = host->alloc(n * sizeof(*b->aliases));
        if (!b->aliases)
            goto oom;
        memset(b->aliases, 0, n * sizeof(*b->aliases));
    }
    for (size_t i = 0; i < n; i++) {
        const char *e = c->models[i];
        const char *eq = strchr(e, '=');
        if (!eq || !valid_alias(e, (size_t)(eq - e)) || !valid_model(eq + 1)) {
            int rc = host->error_set(ctx, err, S2R_EINVAL,
                                     "models: '%.80s' is not alias=model-id "
                                     "(alias of letters, digits, . _ -)",
                                     e);
            bedrock_destroy(b);
            return rc;
        }
        for (size_t j = 0; j < b->n_aliases; j++) {
            if (strlen(b->aliases[j].alias) == (size_t)(eq - e) &&
                strncmp(b->aliases[j].alias, e, (size_t)(eq - e)) == 0) {
                int rc = host->error_set(ctx, err, S2R_EINVAL,
                                         "models: alias '%.*s' appears "
                                         "twice",
                                         (int)(eq - e), e);
                bedrock_destroy(b);
                return rc;
            }
        }
        b->aliases[i].alias = dup_n(host, e, (size_t)(eq - e));
        b->aliases[i].model = host->str_dup(eq + 1);
        b->n_aliases = i + 1;
        if (!b->aliases[i].alias || !b->aliases[i].model)
            goto oom;
    }
    const char *def = c->model && *c->model ? c->model
                      : n                    ? b->aliases[0].model
                                             : NULL;
    if (!def) {
        bedrock_destroy(b);
        return host->error_set(ctx, err, S2R_EINVAL,
                               "model: set a Bedrock model id or "
                               "inference-profile id (or models)");
    }
    if (!valid_model(def)) {
        bedrock_destroy(b);
        return host->error_set(ctx, err, S2R_EINVAL,
                               "model: '%.80s' holds spaces or control "
                               "characters",
                               def);
    }
    b->default_model = host->str_dup(def);
    if (!b->default_model)
        goto oom;
    *out = b;
    return S2R_OK;
oom:
    bedrock_destroy(b);
    return host->error_set(ctx, err, S2R_ENOMEM, "out of memory");
}

/* ------------------------------------------------------------------ */
/* request                                                             */
/* ------------------------------------------------------------------ */

/* The model id for @p wanted (alias, or an id of the whitelist), or NULL. */
static const char *pick_model(const bedrock *b, const char *wanted)
{
    if (!wanted || !*wanted)
        return b->default_model;
    for (size_t i = 0; i < b->n_aliases; i++)
        if (strcmp(b->aliases[i].alias, wanted) == 0)
            return b->aliases[i].model;
    for (size_t i = 0; i < b->n_aliases; i++)
        if (strcmp(b->aliases[i].model, wanted) == 0)
            return b->aliases[i].model;
    if (strcmp(b->default_model, wanted) == 0)
        return b->default_model;
    return NULL;
}

static int is_anthropic(const char *model)
{
    return strstr(model, "anthropic.") != NULL;
}

/* Percent-encode a path segment: everything but A-Z a-z 0-9 - . _ ~ */
static char *encode_segment(const s2r_host *h, const char *s)
{
    static const char hx[] = "0123456789ABCDEF";
    size_t n = strlen(s);
    char *out = h->alloc(3 * n + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
            (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
            c == '~') {
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

/* The text sent to the model: the core's prompt, or (before the core had
 * one) the script and the rules workload for review. */
static char *user_text(const bedrock *b, const s2r_provider_request *req)
{
    const s2r_host *h = b->host;
    if (req->prompt && *req->prompt)
        return h->str_dup(req->prompt);
    char *rules = req->rules ? h->json_to_string(req->rules) : NULL;
    const char *head =
        "Review this Run:ai workload converted from a SLURM batch script. "
        "Answer with one JSON object {\"image\": string, \"command\": [argv] "
        "or \"script\": string, \"env\": {}, \"notes\": []}.\nWorkload:\n";
    size_t n = strlen(head) + (rules ? strlen(rules) : 2) + 16 +
               req->script_len;
    char *t = h->alloc(n);
    if (t)
        snprintf(t, n, "%s%s\nScript:\n%.*s", head, rules ? rules : "{}",
                 (int)req->script_len, req->script ? req->script : "");
    h->free(rules);
    return t;
}

static json_object *text_block(const char *text, int anthropic)
{
    json_object *blk = json_object_new_object();
    if (anthropic)
        json_object_object_add(blk, "type", json_object_new_string("text"));
    json_object_object_add(blk, "text", json_object_new_string(text));
    return blk;
}

/* The request body of InvokeModel (Anthropic Messages) or Converse. */
static char *request_body(const bedrock *b, int api, const char *text)
{
    const bedrock_conf *c = b->conf;
    const char *system = c->system_prompt && *c->system_prompt
                             ? c->system_prompt
                             : DEFAULT_SYSTEM;
    int anthropic = api == BEDROCK_API_INVOKE;
    json_object *o = json_object_new_object();
    json_object *content = json_object_new_array();
    json_object_array_add(content, text_block(text, anthropic));
    json_object *msg = json_object_new_object();
    json_object_object_add(msg, "role", json_object_new_string("user"));
    json_object_object_add(msg, "content", content);
    json_object *messages = json_object_new_array();
    json_object_array_add(messages, msg);
    if (anthropic) {
        json_object_object_add(o, "anthropic_version",
                               json_object_new_string("bedrock-2023-05-31"));
        json_object_object_add(o, "max_tokens",
                               json_object_new_int64(c->max_tokens));
        json_object_object_add(o, "temperature",
                               json_object_new_double(c->temperature));
        json_object_object_add(o, "system", json_object_new_string(system));
        json_object_object_add(o, "messages", messages);
    } else {
        json_object *sys = json_object_new_array();
        json_object_array_add(sys, text_block(system, 0));
        json_object *ic = json_object_new_object();
        json_object_object_add(ic, "maxTokens",
                               json_object_new_int64(c->max_tokens));
        json_object_object_add(ic, "temperature",
                               json_object_new_double(c->temperature));
        json_object_object_add(o, "messages", messages);
        json_object_object_add(o, "system", sys);
        json_object_object_add(o, "inferenceConfig", ic);
    }
    char *s = b->host->json_to_string(o);
    json_object_put(o);
    return s;
}

/* ------------------------------------------------------------------ */
/* answer                                                              */
/* ------------------------------------------------------------------ */

/* Concatenate the text blocks of @p content (an array). */
static char *join_text(const s2r_host *h, json_object *content, int anthropic)
{
    if (!content || !json_object_is_type(content, json_type_array))
        return NULL;
    size_t total = 0, n = json_object_array_length(content);
    for (size_t i = 0; i < n; i++) {
        json_object *blk = json_object_array_get_idx(content, i), *t, *ty;
        if (anthropic && json_object_object_get_ex(blk, "type", &ty) &&
            strcmp(json_object_get_string(ty), "text") != 0)
            continue;
        if (json_object_object_get_ex(blk, "text", &t) &&
            json_object_is_type(t, json_type_string))
            total += (size_t)json_object_get_string_len(t);
    }
    char *out = h->alloc(total + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        json_object *blk = json_object_array_get_idx(content, i), *t, *ty;
        if (anthropic && json_object_object_get_ex(blk, "type", &ty) &&
            strcmp(json_object_get_string(ty), "text") != 0)
            continue;
        if (json_object_object_get_ex(blk, "text", &t) &&
            json_object_is_type(t, json_type_string)) {
            size_t l = (size_t)json_object_get_string_len(t);
            memcpy(out + o, json_object_get_string(t), l);
            o += l;
        }
    }
    out[o] = '\0';
    return out;
}

/* The model's text from a 200 answer, and its stop reason. */
static char *answer_text(const bedrock *b, int api, json_object *ans,
                         const char **stop)
{
    json_object *v, *m;
    *stop = NULL;
    if (api == BEDROCK_API_INVOKE) {
        if (json_object_object_get_ex(ans, "stop_reason", &v))
            *stop = json_object_get_string(v);
        return json_object_object_get_ex(ans, "content", &v)
                   ? join_text(b->host, v, 1)
                   : NULL;
    }
    if (json_object_object_get_ex(ans, "stopReason", &v))
        *stop = json_object_get_string(v);
    if (json_object_object_get_ex(ans, "output", &v) &&
        json_object_object_get_ex(v, "message", &m) &&
        json_object_object_get_ex(m, "content", &v))
        return join_text(b->host, v, 0);
    return NULL;
}

/* The JSON object in a model's text: the whole text, else a ```json
 * fenced block, else from the first '{' to the last '}'. */
static json_object *object_in_text(const bedrock *b, const char *text)
{
    const s2r_host *h = b->host;
    s2r_error ignore;
    json_object *o = NULL;
    size_t len = strlen(text);
    if (h->json_parse(text, len, &o, &ignore) == S2R_OK &&
        json_object_is_type(o, json_type_object))
        return o;
    json_object_put(o);
    o = NULL;
    const char *fence = strstr(text, "```");
    if (fence) {
        const char *start = strchr(fence + 3, '\n');
        const char *end = start ? strstr(start + 1, "```") : NULL;
        if (start && end &&
            h->json_parse(start + 1, (size_t)(end - start - 1), &o,
                          &ignore) == S2R_OK &&
            json_object_is_type(o, json_type_object))
            return o;
        json_object_put(o);
        o = NULL;
    }
    const char *first = strchr(text, '{');
    const char *last = strrchr(text, '}');
    if (first && last && last > first &&
        h->json_parse(first, (size_t)(last - first + 1), &o, &ignore) ==
            S2R_OK &&
        json_object_is_type(o, json_type_object))
        return o;
    json_object_put(o);
    return NULL;
}

static void excerpt(const char *s, char *buf, size_t cap)
{
    size_t n = 0;
    for (; s && *s && n + 1 < cap && n < 80; s++)
        buf[n++] = (unsigned char)*s >= 0x20 && (unsigned char)*s < 0x7f
                       ? *s
                       : ' ';
    buf[n] = '\0';
}

static int parse_answer(const bedrock *b, int api, const char *model,
                        const s2r_http_response *resp,
                        json_object **answer_out, s2r_error *err)
{
    const s2r_host *h = b->host;
    json_object *ans = NULL;
    s2r_error perr = {0};
    if (h->json_parse(resp->body, resp->body_len, &ans, &perr) != S2R_OK ||
        !json_object_is_type(ans, json_type_object)) {
        json_object_put(ans);
        return h->error_set(b->ctx, err, S2R_EINVAL,
                            "Bedrock answered 200 with no JSON object: %s",
                            perr.message);
    }
    const char *stop = NULL;
    char *text = answer_text(b, api, ans, &stop);
    if (!text) {
        int rc = h->error_set(b->ctx, err, S2R_EINVAL,
                              "the answer of %s has no text content", model);
        json_object_put(ans);
        return rc;
    }
    json_object *obj = object_in_text(b, text);
    int rc = S2R_OK;
    if (!obj) {
        char ex[96];
        excerpt(text, ex, sizeof(ex));
        int truncated = stop && (strcmp(stop, "max_tokens") == 0);
        rc = h->error_set(b->ctx, err, S2R_EINVAL,
                          "model %s answered no JSON object%s: \"%s\"", model,
                          truncated ? " (cut at max_tokens)" : "", ex);
    } else {
        static const char *const keys[] = {"image", "command", "script",
                                           "env", "notes", "workload", NULL};
        int any = 0;
        for (size_t i = 0; keys[i]; i++)
            any |= json_object_object_get_ex(obj, keys[i], NULL);
        if (!any) {
            json_object_put(obj);
            rc = h->error_set(b->ctx, err, S2R_EINVAL,
                              "model %s answered a JSON object with none of "
                              "image, command, script, env, notes",
                              model);
        } else {
            *answer_out = obj;
        }
    }
    h->free(text);
    json_object_put(ans);
    return rc;
}

/* ------------------------------------------------------------------ */
/* convert                                                             */
/* ------------------------------------------------------------------ */

static void sleep_ms(int64_t ms)
{
    if (ms <= 0)
        return;
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

/* Delay before retry @p n (1-based): backoff * 2^(n-1), capped at 20 s,
 * between half and all of it (jitter). */
static int64_t backoff_ms(const bedrock *b, int n)
{
    int64_t d = b->conf->retry_backoff_ms;
    for (int i = 1; i < n && d < 20000; i++)
        d *= 2;
    if (d > 20000)
        d = 20000;
    uint32_t r = 0;
    s2r_error ignore;
    b->host->random_bytes(&r, sizeof(r), &ignore);
    return d / 2 + (int64_t)(r % (uint32_t)(d / 2 + 1));
}

#define MAX_SIGV4_HEADERS 6

static int bedrock_convert(void *instance, const s2r_provider_request *req,
                           json_object **answer_out, s2r_error *err)
{
    bedrock *b = instance;
    const s2r_host *h = b->host;
    const bedrock_conf *c = b->conf;
    const char *model = pick_model(b, req->model);
    if (!model) {
        char list[160] = "";
        size_t o = 0;
        for (size_t i = 0; i < b->n_aliases && o + 2 < sizeof(list); i++)
            o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s",
                                  i ? ", " : "", b->aliases[i].alias);
        if (o >= sizeof(list))
            snprintf(list + sizeof(list) - 4, 4, "...");
        return h->error_set(b->ctx, err, S2R_EUNSUPPORTED,
                            "model '%.64s' is not allowed here; choose one "
                            "of: %s",
                            req->model,
                            b->n_aliases ? list : "(no models option)");
    }
    int api = strcmp(c->api ? c->api : "auto", "invoke") == 0 ? BEDROCK_API_INVOKE
              : strcmp(c->api ? c->api : "auto", "converse") == 0
                  ? BEDROCK_API_CONVERSE
              : is_anthropic(model) ? BEDROCK_API_INVOKE
                                    : BEDROCK_API_CONVERSE;

    char *seg = encode_segment(h, model);
    char *text = user_text(b, req);
    char *body = text ? request_body(b, api, text) : NULL;
    size_t ul = strlen(b->endpoint) + (seg ? strlen(seg) : 0) + 24;
    char *url = h->alloc(ul);
    if (!seg || !text || !body || !url) {
        h->free(seg);
        h->free(text);
        h->free(body);
        h->free(url);
        return h->error_set(b->ctx, err, S2R_ENOMEM, "out of memory");
    }
    snprintf(url, ul, "%s/model/%s/%s", b->endpoint, seg,
             api == BEDROCK_API_INVOKE ? "invoke" : "converse");
    h->free(seg);
    h->free(text);

    int64_t start = h->monotonic_ms();
    int64_t deadline = req->timeout_ms ? start + req->timeout_ms : INT64_MAX;
    int attempts = 0, rc = S2R_EUPSTREAM;
    for (;;) {
        int64_t left = deadline == INT64_MAX ? c->timeout_ms
                                             : deadline - h->monotonic_ms();
        if (left <= 0) {
            rc = h->error_set(b->ctx, err, S2R_ETIMEOUT,
                              "no answer from Bedrock model %s in time", model);
            break;
        }
        int64_t tmo = left < c->timeout_ms ? left : c->timeout_ms;
        s2r_header base[2] = {{"Content-Type", "application/json"},
                              {"Accept", "application/json"}};
        s2r_http_request hr = {
            .struct_size = sizeof(hr),
            .n_headers = 2,
            .method = "POST",
            .url = url,
            .headers = base,
            .body = body,
            .body_len = strlen(body),
            .timeout_ms = (uint32_t)tmo,
            .connect_timeout_ms = (uint32_t)c->connect_timeout_ms,
            .ca_file = c->ca_file,
            .proxy = c->proxy,
            .max_response_bytes = (uint64_t)c->max_response,
        };
        s2r_sigv4_params sp = {
            .struct_size = sizeof(sp),
            .region = b->region,
            .service = "bedrock",
            .access_key_id = c->access_key_id && *c->access_key_id
                                 ? c->access_key_id
                                 : NULL,
            .secret_access_key = c->secret_access_key,
            .session_token = c->session_token && *c->session_token
                                 ? c->session_token
                                 : NULL,
        };
        s2r_header_out sig[MAX_SIGV4_HEADERS];
        uint32_t nsig = 0;
        rc = h->aws_sigv4_sign(b->ctx, &sp, &hr, sig, MAX_SIGV4_HEADERS, &nsig,
                               err);
        if (rc != S2R_OK)
            break; /* no credentials: the message says where we looked */
        s2r_header all[2 + MAX_SIGV4_HEADERS];
        all[0] = base[0];
        all[1] = base[1];
        for (uint32_t i = 0; i < nsig; i++)
            all[2 + i] = (s2r_header){sig[i].name, sig[i].value};
        hr.headers = all;
        hr.n_headers = 2 + nsig;
        s2r_http_response resp;
        s2r_error herr = {0};
        attempts++;
        S2R_LOG_D(h, b->ctx, "%s attempt %d: POST %s",
                  api == BEDROCK_API_INVOKE ? "InvokeModel" : "Converse",
                  attempts, url);
        int hrc = h->http_request(b->ctx, &hr, &resp, &herr);
        h->secure_zero(sig, sizeof(sig));
        if (hrc != S2R_OK) {
            if (hrc == S2R_ETIMEOUT)
                rc = h->error_set(b->ctx, err, S2R_ETIMEOUT,
                                  "no answer from Bedrock model %s within "
                                  "%lld ms",
                                  model, (long long)tmo);
            else if (hrc == S2R_ENOMEM)
                rc = h->error_set(b->ctx, err, S2R_ENOMEM, "out of memory");
            else
                rc = h->error_set(b->ctx, err, S2R_EUPSTREAM,
                                  "cannot reach Bedrock at %s: %s",
                                  b->endpoint, herr.message);
            break;
        }
        if (resp.status == 200) {
            rc = parse_answer(b, api, model, &resp, answer_out, err);
            h->http_response_free(&resp);
            break;
        }
        if (bedrock_retryable(b, &resp) && attempts <= c->retries) {
            int64_t d = backoff_ms(b, attempts);
            if (deadline == INT64_MAX || h->monotonic_ms() + d < deadline) {
                char type[80];
                bedrock_error_type(b, &resp, type, sizeof(type));
                S2R_LOG_W(h, b->ctx,
                          "Bedrock HTTP %d %s on %s; retry %d of %lld in "
                          "%lld ms",
                          resp.status, type, model, attempts,
                          (long long)c->retries, (long long)d);
                h->http_response_free(&resp);
                sleep_ms(d);
                continue;
            }
        }
        rc = bedrock_error(b, &resp, model, api, attempts, err);
        h->http_response_free(&resp);
        break;
    }
    h->free(url);
    h->free(body);
    return rc;
}

static const s2r_provider_ops bedrock_ops = {
    .struct_size = sizeof(s2r_provider_ops),
    .convert = bedrock_convert,
};

static const s2r_plugin bedrock_plugin = {
    S2R_PLUGIN_HEADER,
    .kind = S2R_KIND_PROVIDER,
    .flags = S2R_PLUGIN_F_THREADSAFE,
    .name = "bedrock",
    .version = "1.0.0",
    .description = "Converts with a model on Amazon Bedrock (InvokeModel "
                   "for Anthropic models, Converse for others), SigV4-signed.",
    .options = bedrock_options,
    .config_size = sizeof(bedrock_conf),
    .create = bedrock_create,
    .destroy = bedrock_destroy,
    .ops = &bedrock_ops,
};

S2R_PLUGIN_DECLARE(bedrock_plugin)
