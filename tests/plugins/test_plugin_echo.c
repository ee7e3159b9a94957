/* test_plugin_echo.c: a provider exercising every option type; it logs
 * and reports its secret on purpose so tests can prove redaction. */
#include <s2r/plugin.h>

#include <stdio.h>
#include <string.h>

struct echo_conf {
    const char *greeting;
    int64_t count;
    const char *mode;
    const char *token;
    int64_t timeout_ms;
    int64_t max_body;
    double ratio;
    int32_t verbose;
    const char *const *tags;
};

struct echo {
    const s2r_host *host;
    const s2r_instance_ctx *ctx;
    const struct echo_conf *conf;
};

static const char *const modes[] = {"fast", "slow", NULL};

static const s2r_option echo_options[] = {
    {"greeting", S2R_OPT_STRING, 0, "hello", 0, 0, NULL,
     S2R_OPT_OFFSET(struct echo_conf, greeting), "Word to answer with."},
    {"count", S2R_OPT_INT, 0, "3", 1, 10, NULL,
     S2R_OPT_OFFSET(struct echo_conf, count), "Times to repeat it."},
    {"mode", S2R_OPT_ENUM, 0, "fast", 0, 0, modes,
     S2R_OPT_OFFSET(struct echo_conf, mode), "Speed."},
    {"token", S2R_OPT_STRING, S2R_OPT_F_REQUIRED | S2R_OPT_F_SECRET, NULL, 0,
     0, NULL, S2R_OPT_OFFSET(struct echo_conf, token), "API token."},
    {"timeout", S2R_OPT_DURATION, 0, "2s", 0, 0, NULL,
     S2R_OPT_OFFSET(struct echo_conf, timeout_ms), "Request timeout."},
    {"max_body", S2R_OPT_SIZE, 0, "50K", 0, 0, NULL,
     S2R_OPT_OFFSET(struct echo_conf, max_body), "Largest body."},
    {"ratio", S2R_OPT_DOUBLE, 0, "0.5", 0, 1, NULL,
     S2R_OPT_OFFSET(struct echo_conf, ratio), "A fraction."},
    {"verbose", S2R_OPT_BOOL, 0, "no", 0, 0, NULL,
     S2R_OPT_OFFSET(struct echo_conf, verbose), "Log more."},
    {"tags", S2R_OPT_LIST, 0, "a, b", 0, 0, NULL,
     S2R_OPT_OFFSET(struct echo_conf, tags), "Labels."},
    S2R_OPTION_END};

static int echo_create(void **out, const s2r_host *host,
                       const s2r_instance_ctx *ctx, const void *config,
                       s2r_error *err)
{
    const struct echo_conf *c = config;
    struct echo *e = host->alloc(sizeof(*e));
    if (!e)
        return host->error_set(ctx, err, S2R_ENOMEM, "out of memory");
    e->host = host;
    e->ctx = ctx;
    e->conf = c;
    /* deliberately careless: the host must redact the secret */
    S2R_LOG_W(host, ctx, "created with token %s", c->token);
    if (strcmp(c->greeting, "fail") == 0) {
        host->free(e);
        return host->error_set(ctx, err, S2R_EINVAL,
                               "refusing token %s", c->token);
    }
    *out = e;
    return S2R_OK;
}

static void echo_destroy(void *instance)
{
    struct echo *e = instance;
    if (e)
        e->host->free(e);
}

static int echo_convert(void *instance, const s2r_provider_request *req,
                        json_object **answer_out, s2r_error *err)
{
    struct echo *e = instance;
    if (req->script_len == 0)
        return e->host->error_set(e->ctx, err, S2R_EUPSTREAM,
                                  "empty script, token %s", e->conf->token);
    char text[256];
    snprintf(text, sizeof(text), "%s x%lld %s %lldms %lld %g %d %s,%s",
             e->conf->greeting, (long long)e->conf->count, e->conf->mode,
             (long long)e->conf->timeout_ms, (long long)e->conf->max_body,
             e->conf->ratio, (int)e->conf->verbose,
             e->conf->tags[0] ? e->conf->tags[0] : "",
             e->conf->tags[0] && e->conf->tags[1] ? e->conf->tags[1] : "");
    json_object *a = json_object_new_object();
    json_object_object_add(a, "output", json_object_new_string(text));
    json_object_object_add(a, "format", json_object_new_string("cli"));
    *answer_out = a;
    return S2R_OK;
}

static const s2r_provider_ops echo_ops = {
    .struct_size = sizeof(s2r_provider_ops),
    .convert = echo_convert,
};

static const s2r_plugin echo_plugin = {
    S2R_PLUGIN_HEADER,
    .kind = S2R_KIND_PROVIDER,
    .name = "test-echo",
    .version = "1.2.3",
    .description = "Test provider answering with its options.",
    .options = echo_options,
    .config_size = sizeof(struct echo_conf),
    .create = echo_create,
    .destroy = echo_destroy,
    .ops = &echo_ops,
};

S2R_PLUGIN_DECLARE(echo_plugin)
