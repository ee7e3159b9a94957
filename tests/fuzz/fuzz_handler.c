/* fuzz_handler.c: the in-process handlers of the server and Lambda
 * harnesses (see fuzz_handler.h). */
#include "fuzz_handler.h"
#include "fuzz_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "config/config.h"
#include "plugin/registry.h"

#ifndef S2R_FUZZ_PLUGIN_DIR
#error "S2R_FUZZ_PLUGIN_DIR: the build's plugin folder"
#endif

typedef struct server_fx {
    char dir[64];
    s2r_ini ini;
    s2r_config cfg;
    s2r_registry *reg;
    s2r_handler *open, *full;
} server_fx;

static server_fx fx;

/* Every request log line is one JSON object. */
static void log_sink(void *payload, const char *line, size_t len)
{
    (void)payload;
    if (strlen(line) != len)
        fuzz_fail("a request log line holds a NUL byte");
    fuzz_check_json("a request log line", line, len);
}

static void plugin_log_sink(void *payload, int32_t level, const char *line)
{
    (void)payload;
    (void)level;
    (void)line;
}

static void cleanup(void)
{
    s2r_handler_free(fx.open);
    s2r_handler_free(fx.full);
    s2r_registry_close(fx.reg);
    s2r_config_free(&fx.cfg);
    s2r_ini_free(&fx.ini);
    if (fx.dir[0]) {
        char path[128];
        static const char *const files[] = {"rl.db", "rl.db-wal",
                                            "rl.db-shm"};
        for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
            snprintf(path, sizeof(path), "%s/%s", fx.dir, files[i]);
            unlink(path);
        }
        rmdir(fx.dir);
    }
    memset(&fx, 0, sizeof(fx));
}

static void fail_with(const s2r_diags *d, const char *what)
{
    for (size_t i = 0; i < d->n; i++)
        fprintf(stderr, "  %s\n", d->v[i].message);
    fuzz_fail("%s", what);
}

static s2r_handler *make_handler(const char *auth, const char *rl,
                                 s2r_diags *d)
{
    s2r_handler_options ho = {.section = "server",
                              .cfg = &fx.cfg,
                              .reg = fx.reg,
                              .log_fn = log_sink};
    s2r_handler_settings_defaults(&ho.settings);
    ho.settings.auth = auth;
    ho.settings.ratelimit = rl;
    s2r_handler *h = NULL;
    if (s2r_handler_new(&h, &ho, d) != S2R_OK)
        fail_with(d, "s2r_handler_new");
    return h;
}

static void setup(void)
{
    if (fx.reg)
        return;
    setenv("S2R_FUZZ_SECRET", FUZZ_HMAC_SECRET, 1);
    snprintf(fx.dir, sizeof(fx.dir), "/tmp/s2r-fuzz-handler-XXXXXX");
    if (!mkdtemp(fx.dir))
        fuzz_fail("mkdtemp %s", fx.dir);
    char text[2048];
    snprintf(text, sizeof(text),
             "%s"
             "[server]\n"
             "[auth.hmac]\nplugin = auth-hmac\n"
             "secret = env:S2R_FUZZ_SECRET\nreplay_check = false\n"
             "[ratelimit.daily]\nplugin = ratelimit-sqlite\n"
             "path = %s/rl.db\nlimit = 1000000000000\n"
             "synchronous = off\n",
             FUZZ_SITE_INI, fx.dir);
    s2r_diags d = {0};
    s2r_config_defaults(&fx.cfg);
    if (s2r_ini_read_string(&fx.ini, "fuzz-server.ini", text, &d) != S2R_OK ||
        s2r_config_apply(&fx.cfg, &fx.ini, &d) != S2R_OK)
        fail_with(&d, "the harness's server configuration");
    s2r_registry_options ro = S2R_REGISTRY_OPTIONS_INIT;
    ro.ini = &fx.ini;
    ro.plugin_dir = getenv("S2R_FUZZ_PLUGIN_DIR") ? getenv("S2R_FUZZ_PLUGIN_DIR")
                                                  : S2R_FUZZ_PLUGIN_DIR;
    ro.log_fn = plugin_log_sink;
    if (s2r_registry_open(&fx.reg, &ro, &d) != S2R_OK)
        fail_with(&d, "s2r_registry_open (are the plugins built?)");
    fx.open = make_handler("none", "none", &d);
    fx.full = make_handler("hmac", "daily", &d);
    s2r_diags_clear(&d);
    atexit(cleanup);
}

s2r_handler *fuzz_handler_open(void)
{
    setup();
    return fx.open;
}

s2r_handler *fuzz_handler_full(void)
{
    setup();
    return fx.full;
}

void fuzz_check_response(const s2r_handler_response *r)
{
    if (r->status < 200 || r->status > 599)
        fuzz_fail("status %d", r->status);
    if (!r->body)
        fuzz_fail("status %d without a body", r->status);
    if (strlen(r->body) != r->body_len)
        fuzz_fail("the body is %zu bytes, body_len says %zu",
                  strlen(r->body), r->body_len);
    json_object *o = json_tokener_parse(r->body);
    if (!o || !json_object_is_type(o, json_type_object))
        fuzz_fail("the answer is not a JSON object: %s", r->body);
    json_object_put(o);
    if (r->n_headers > S2R_HANDLER_MAX_HEADERS)
        fuzz_fail("%u headers", r->n_headers);
    for (uint32_t i = 0; i < r->n_headers; i++)
        if (!memchr(r->headers[i].name, 0, sizeof(r->headers[i].name)) ||
            !memchr(r->headers[i].value, 0, sizeof(r->headers[i].value)))
            fuzz_fail("header %u is not NUL-terminated", i);
}
