/* test_config.c: the INI reader and the registry report every problem at
 * once, with file, line, section and key; secrets never leak into logs,
 * errors or check-config output. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "plugin/registry.h"

#define SECRET "s3cr3t-Value-42"

static char plugin_dir[4096];
static char s2r_bin[4096];

static int setup(void **state)
{
    (void)state;
    const char *b = getenv("S2R_BINARY_DIR");
    snprintf(plugin_dir, sizeof(plugin_dir), "%s/test-plugins",
             b ? b : "build");
    snprintf(s2r_bin, sizeof(s2r_bin), "%s/s2r", b ? b : "build");
    setenv("S2R_TEST_TOKEN", SECRET, 1);
    return 0;
}

#define assert_has(hay, needle)                                          \
    do {                                                                 \
        if (!strstr((hay), (needle)))                                    \
            fail_msg("'%s' not found in: %s", (needle), (hay));          \
    } while (0)

static char *write_ini(const char *text)
{
    static char path[64];
    snprintf(path, sizeof(path), "/tmp/s2r-test-config-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static char *all_diags(const s2r_diags *d)
{
    size_t cap = 1, used = 0;
    for (size_t i = 0; i < d->n; i++)
        cap += strlen(d->v[i].message) + 300;
    char *out = calloc(1, cap);
    for (size_t i = 0; i < d->n; i++) {
        char *line = s2r_diag_format(&d->v[i]);
        used += (size_t)snprintf(out + used, cap - used, "%s\n", line);
        free(line);
    }
    return out;
}

static void test_config__legacy_load_still_works(void **state)
{
    (void)state;
    char *p = write_ini("[core]\nprovider = rules\nformat = yaml\n"
                        "[runai]\nproject = team-a\npriority = high\n"
                        "time_limit = timeout\n"
                        "[partitions]\ngpu = a100-pool\ncpu =\n"
                        "[constraints]\nh100 = H100\n"
                        "[provider.x]\nplugin = whatever\nany = thing\n");
    s2r_config cfg;
    s2r_config_defaults(&cfg);
    s2r_diags d = {0};
    assert_int_equal(s2r_config_load(&cfg, p, &d), S2R_OK);
    assert_string_equal(cfg.project, "team-a");
    assert_string_equal(cfg.priority, "high");
    assert_string_equal(cfg.time_limit, "timeout");
    assert_string_equal(cfg.format, "yaml");
    assert_string_equal(cfg.provider, "rules");
    assert_string_equal(s2r_config_map(cfg.partitions, cfg.n_partitions,
                                       "gpu"),
                        "a100-pool");
    assert_string_equal(s2r_config_map(cfg.partitions, cfg.n_partitions,
                                       "cpu"),
                        "");
    assert_string_equal(s2r_config_map(cfg.constraints, cfg.n_constraints,
                                       "h100"),
                        "H100");
    assert_string_equal(cfg.config_file, p);
    assert_int_equal(d.n, 0);
    s2r_config_free(&cfg);
    unlink(p);
}

static void test_config__errors_reported_together(void **state)
{
    (void)state;
    char longline[400];
    memset(longline, 'x', sizeof(longline) - 1);
    longline[sizeof(longline) - 1] = '\0';
    char text[2048];
    snprintf(text, sizeof(text),
             "[core]\n"                            /* 1 */
             "provider = e\n"                      /* 2 */
             "[provider.e]\n"                      /* 3 */
             "plugin = test-echo\n"                /* 4 */
             "count = 99\n"                        /* 5 */
             "colour = blue\n"                     /* 6 */
             "mode = medium\n"                     /* 7 */
             "[provider.e]\n"                      /* 8 */
             "count = 1\n"                         /* 9 */
             "[runai]\n"                           /* 10 */
             "comment = %s\n"                      /* 11 */
             "priority = top\n"                    /* 12 */
             "[provider.f]\n"                      /* 13 */
             "plugin = test-echo\n"                /* 14 */
             "token = env:S2R_TEST_TOKEN\n"        /* 15 */
             "token = env:OTHER\n"                 /* 16 */
             "[auth.g]\n"                          /* 17 */
             "plugin = test-echo\n",               /* 18 */
             longline);
    char *p = write_ini(text);
    s2r_diags d = {0};
    s2r_ini ini = {0};
    s2r_config cfg;
    s2r_config_defaults(&cfg);
    assert_int_equal(s2r_ini_read(&ini, p, &d), S2R_EINVAL);
    assert_int_equal(s2r_config_apply(&cfg, &ini, &d), S2R_EINVAL);
    s2r_registry_options o = S2R_REGISTRY_OPTIONS_INIT;
    o.ini = &ini;
    o.plugin_dir = plugin_dir;
    o.check_only = 1;
    s2r_registry *reg = NULL;
    assert_int_equal(s2r_registry_open(&reg, &o, &d), S2R_EINVAL);
    assert_null(reg);
    char *all = all_diags(&d);
    char want[256];
    snprintf(want, sizeof(want), "%s:11: error: line is 409 characters long;"
             " the limit is", p);
    assert_has(all, want);
    snprintf(want, sizeof(want), "%s:8: error: [provider.e] duplicate "
             "section (first at line 3)", p);
    assert_has(all, want);
    snprintf(want, sizeof(want), "%s:16: error: [provider.f] token: "
             "duplicate key (first at line 15)", p);
    assert_has(all, want);
    snprintf(want, sizeof(want), "%s:12: error: [runai] priority: 'top' is "
             "not one of", p);
    assert_has(all, want);
    snprintf(want, sizeof(want), "%s:5: error: [provider.e] count: 99 is "
             "outside 1..10", p);
    assert_has(all, want);
    snprintf(want, sizeof(want), "%s:6: error: [provider.e] colour: unknown "
             "key for plugin 'test-echo'; valid keys: greeting, count, mode, "
             "token, timeout, max_body, ratio, verbose, tags", p);
    assert_has(all, want);
    snprintf(want, sizeof(want), "%s:7: error: [provider.e] mode: 'medium' "
             "is not one of: fast, slow", p);
    assert_has(all, want);
    snprintf(want, sizeof(want), "%s:3: error: [provider.e] missing required "
             "key 'token'", p);
    assert_has(all, want);
    snprintf(want, sizeof(want), "%s:18: error: [auth.g] plugin: 'test-echo' "
             "is a provider plugin, expected a auth plugin", p);
    assert_has(all, want);
    assert_null(strstr(all, SECRET));
    assert_int_equal(s2r_diags_count(&d, S2R_SEV_ERROR), 9);
    free(all);
    s2r_diags_clear(&d);
    s2r_config_free(&cfg);
    s2r_ini_free(&ini);
    unlink(p);
}

struct capture {
    char buf[8192];
    size_t used;
};

static void capture_log(void *payload, int32_t level, const char *line)
{
    (void)level;
    struct capture *c = payload;
    c->used += (size_t)snprintf(c->buf + c->used, sizeof(c->buf) - c->used,
                                "%s\n", line);
}

static void test_config__secret_never_leaks(void **state)
{
    (void)state;
    /* in logs and errors of a created instance */
    char *p = write_ini("[core]\nprovider = e\n"
                        "[provider.e]\nplugin = test-echo\n"
                        "token = env:S2R_TEST_TOKEN\ngreeting = hi\n");
    s2r_registry_options o = S2R_REGISTRY_OPTIONS_INIT;
    o.config_path = p;
    o.plugin_dir = plugin_dir;
    struct capture cap = {0};
    o.log_fn = capture_log;
    o.log_payload = &cap;
    s2r_registry *reg = NULL;
    s2r_diags d = {0};
    assert_int_equal(s2r_registry_open(&reg, &o, &d), S2R_OK);
    assert_has(cap.buf, "provider.e: warning: created with token <redacted>");
    assert_null(strstr(cap.buf, SECRET));
    /* round trip through the provider ops with the bound options */
    s2r_provider_request req = {sizeof(req), 0, "job.sh", "#!/bin/sh\n", 10,
                                NULL, NULL, NULL, "cli", NULL, NULL};
    json_object *ans = NULL;
    s2r_error err = {0};
    assert_int_equal(s2r_registry_convert(reg, NULL, &req, &ans, &err),
                     S2R_OK);
    assert_string_equal(
        json_object_get_string(json_object_object_get(ans, "output")),
        "hi x3 fast 2000ms 51200 0.5 0 a,b");
    json_object_put(ans);
    req.script_len = 0;
    assert_int_equal(s2r_registry_convert(reg, NULL, &req, &ans, &err),
                     S2R_EUPSTREAM);
    assert_has(err.message, "empty script, token <redacted>");
    s2r_registry_close(reg);
    s2r_diags_clear(&d);
    unlink(p);

    /* in a failed create() */
    p = write_ini("[provider.e]\nplugin = test-echo\n"
                  "token = env:S2R_TEST_TOKEN\ngreeting = fail\n");
    o.config_path = p;
    cap.used = 0;
    cap.buf[0] = '\0';
    assert_int_equal(s2r_registry_open(&reg, &o, &d), S2R_EINVAL);
    char *all = all_diags(&d);
    assert_has(all, "[provider.e] test-echo: create failed: refusing token "
                    "<redacted>");
    assert_null(strstr(all, SECRET));
    assert_null(strstr(cap.buf, SECRET));
    free(all);
    s2r_diags_clear(&d);
    unlink(p);
}

static char *run(const char *cmd)
{
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    static char out[16384];
    size_t n = fread(out, 1, sizeof(out) - 1, f);
    out[n] = '\0';
    pclose(f);
    return out;
}

static void test_config__check_config_output_redacts(void **state)
{
    (void)state;
    if (access(s2r_bin, X_OK) != 0)
        skip();
    /* a literal secret in the file: accepted with a warning, never shown */
    char *p = write_ini("[provider.e]\nplugin = test-echo\n"
                        "token = " SECRET "\n"
                        "[provider.f]\nplugin = test-echo\n"
                        "token = env:S2R_TEST_TOKEN\n"
                        "[partitions]\nsecret_pool = " SECRET "\n");
    char cmd[9000];
    snprintf(cmd, sizeof(cmd), "%s check-config --config %s --plugin-dir %s "
             "2>&1; echo rc=$?", s2r_bin, p, plugin_dir);
    char *out = run(cmd);
    assert_has(out, "OK");
    assert_has(out, "rc=0");
    assert_has(out, "token = <redacted>");
    assert_has(out, "token = env:S2R_TEST_TOKEN");
    /* a free-form section: secret-looking keys are redacted too */
    assert_has(out, "secret_pool = <redacted>");
    assert_has(out, "secret written in the file");
    assert_null(strstr(out, SECRET));
    unlink(p);

    /* and with errors */
    p = write_ini("[provider.e]\nplugin = test-echo\ntoken = " SECRET "\n"
                  "count = " SECRET "\n");
    snprintf(cmd, sizeof(cmd), "%s check-config --config %s --plugin-dir %s "
             "2>&1; echo rc=$?", s2r_bin, p, plugin_dir);
    out = run(cmd);
    assert_has(out, "rc=1");
    assert_has(out, "count:");
    unlink(p);

    /* help shows the options */
    snprintf(cmd, sizeof(cmd), "%s help test-echo --plugin-dir %s 2>&1",
             s2r_bin, plugin_dir);
    out = run(cmd);
    assert_has(out, "test-echo 1.2.3 (provider plugin, ABI 1.1)");
    assert_has(out, "[provider.<id>]");
    assert_has(out, "token");
    assert_has(out, "Times to repeat it.");

    /* plugins lists the good ones and names the refused ones */
    snprintf(cmd, sizeof(cmd), "%s plugins --plugin-dir %s 2>&1", s2r_bin,
             plugin_dir);
    out = run(cmd);
    assert_has(out, "test-echo");
    assert_has(out, "test-auth");
    assert_has(out, "plugin ABI 2.0");
}

/* [site] user without uid: never the local user's IDs under that name;
 * a name this machine does not know leaves the UID unknown */
static void test_config__site_user_is_not_the_local_uid(void **state)
{
    (void)state;
    s2r_config cfg;
    s2r_config_defaults(&cfg);
    cfg.user = strdup("s2r-no-such-user-here");
    cfg.submit_dir = strdup("/tmp");
    assert_int_equal(s2r_config_local_defaults(&cfg), S2R_OK);
    assert_int_equal(cfg.uid, -1);
    assert_string_equal(cfg.user, "s2r-no-such-user-here");
    s2r_config_free(&cfg);
    s2r_config_defaults(&cfg);
    cfg.submit_dir = strdup("/tmp");
    assert_int_equal(s2r_config_local_defaults(&cfg), S2R_OK);
    assert_int_equal(cfg.uid, (int64_t)getuid());
    s2r_config_free(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config__legacy_load_still_works),
        cmocka_unit_test(test_config__errors_reported_together),
        cmocka_unit_test(test_config__secret_never_leaks),
        cmocka_unit_test(test_config__check_config_output_redacts),
        cmocka_unit_test(test_config__site_user_is_not_the_local_uid),
    };
    return cmocka_run_group_tests_name("config", tests, setup, NULL);
}
