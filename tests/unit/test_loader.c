/* test_loader.c: the loader accepts a good plugin and refuses broken ones,
 * each refusal naming file, symbol and numbers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "plugin/loader.h"
#include "plugin/registry.h"

static char plugin_dir[4096];

static int setup_dir(void **state)
{
    (void)state;
    const char *b = getenv("S2R_BINARY_DIR");
    snprintf(plugin_dir, sizeof(plugin_dir), "%s/test-plugins",
             b ? b : "build");
    return 0;
}

static s2r_loader *new_loader(const char *dir)
{
    s2r_strv dirs = {0};
    s2r_strv_push(&dirs, dir);
    s2r_loader *l = NULL;
    assert_int_equal(s2r_loader_new(&l, &dirs), S2R_OK);
    s2r_strv_clear(&dirs);
    return l;
}

static int open_file(s2r_loader *l, const char *file, s2r_error *err)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/%s", plugin_dir, file);
    return s2r_loader_open(l, path, NULL, err);
}

#define assert_has(hay, needle)                                          \
    do {                                                                 \
        if (!strstr((hay), (needle)))                                    \
            fail_msg("'%s' not found in: %s", (needle), (hay));          \
    } while (0)

static void test_loader__finds_and_checks_good_plugin(void **state)
{
    (void)state;
    s2r_loader *l = new_loader(plugin_dir);
    const s2r_loaded *p = NULL;
    s2r_error err = {0};
    assert_int_equal(s2r_loader_find(l, "test-echo", &p, &err), S2R_OK);
    assert_non_null(p);
    assert_string_equal(p->desc.name, "test-echo");
    assert_string_equal(p->desc.version, "1.2.3");
    assert_int_equal(p->desc.kind, S2R_KIND_PROVIDER);
    assert_ptr_equal(p->desc.ops, &p->ops);
    assert_non_null(p->ops.provider.convert);
    /* a second find returns the same plugin */
    const s2r_loaded *q = NULL;
    assert_int_equal(s2r_loader_find(l, "test-echo", &q, &err), S2R_OK);
    assert_ptr_equal(p, q);
    s2r_loader_free(l);
}

static void test_loader__refuses_wrong_major(void **state)
{
    (void)state;
    s2r_loader *l = new_loader(plugin_dir);
    s2r_error err = {0};
    assert_int_equal(open_file(l, "s2r-test-wrongmajor.so", &err), S2R_EABI);
    assert_has(err.message, "s2r-test-wrongmajor.so");
    assert_has(err.message, "s2r_plugin_entry_v1");
    assert_has(err.message, "plugin ABI 2.0");
    assert_has(err.message, "expected major 1");
    assert_int_equal(s2r_loader_count(l), 0);
    s2r_loader_free(l);
}

static void test_loader__refuses_short_descriptor(void **state)
{
    (void)state;
    s2r_loader *l = new_loader(plugin_dir);
    s2r_error err = {0};
    char want[128];
    snprintf(want, sizeof(want), "descriptor struct_size 16, expected at "
             "least %zu", (size_t)S2R_PLUGIN_SIZE_V1_0);
    assert_int_equal(open_file(l, "s2r-test-short.so", &err), S2R_EABI);
    assert_has(err.message, "s2r-test-short.so");
    assert_has(err.message, "s2r_plugin_entry_v1");
    assert_has(err.message, want);
    s2r_loader_free(l);
}

static void test_loader__refuses_missing_entry_symbol(void **state)
{
    (void)state;
    s2r_loader *l = new_loader(plugin_dir);
    s2r_error err = {0};
    assert_int_equal(open_file(l, "s2r-test-nosym.so", &err), S2R_ENOTFOUND);
    assert_has(err.message, "s2r-test-nosym.so");
    assert_has(err.message, "no symbol s2r_plugin_entry_v1");
    assert_has(err.message, "ABI 1.");
    s2r_loader_free(l);
}

static void test_loader__refuses_broken_option_table(void **state)
{
    (void)state;
    s2r_loader *l = new_loader(plugin_dir);
    s2r_error err = {0};
    assert_int_equal(open_file(l, "s2r-test-badopts.so", &err), S2R_EINVAL);
    assert_has(err.message, "s2r-test-badopts.so");
    assert_has(err.message, "option table of 'test-badopts'");
    assert_has(err.message, "option 1 'level': duplicate name (also option "
                            "0)");
    s2r_loader_free(l);
}

static int copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    if (!in || !out) {
        if (in)
            fclose(in);
        if (out)
            fclose(out);
        return -1;
    }
    char buf[8192];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
        fwrite(buf, 1, n, out);
    fclose(in);
    fclose(out);
    return 0;
}

static void test_loader__refuses_duplicate_name(void **state)
{
    (void)state;
    char tmp[] = "/tmp/s2r-test-loader-XXXXXX";
    assert_non_null(mkdtemp(tmp));
    char src[4200], dup[4200], other[4200];
    snprintf(src, sizeof(src), "%s/s2r-test-echo.so", plugin_dir);
    snprintf(dup, sizeof(dup), "%s/s2r-test-echo.so", tmp);
    snprintf(other, sizeof(other), "%s/s2r-other.so", tmp);
    assert_int_equal(copy_file(src, dup), 0);
    assert_int_equal(copy_file(src, other), 0);

    s2r_strv dirs = {0};
    s2r_strv_push(&dirs, plugin_dir);
    s2r_strv_push(&dirs, tmp);
    s2r_loader *l = NULL;
    assert_int_equal(s2r_loader_new(&l, &dirs), S2R_OK);
    s2r_error err = {0};
    assert_int_equal(s2r_loader_open(l, src, NULL, &err), S2R_OK);
    assert_int_equal(s2r_loader_open(l, dup, NULL, &err), S2R_EINVAL);
    assert_has(err.message, dup);
    assert_has(err.message, "s2r_plugin_entry_v1");
    assert_has(err.message, "duplicate plugin name 'test-echo', already "
                            "loaded from");
    assert_has(err.message, src);
    /* the name must match the file name */
    memset(&err, 0, sizeof(err));
    assert_int_equal(s2r_loader_open(l, other, NULL, &err), S2R_EINVAL);
    assert_has(err.message, "descriptor name 'test-echo', expected 'other'");

    /* scanning reports the same refusals and keeps the first */
    s2r_loader_free(l);
    assert_int_equal(s2r_loader_new(&l, &dirs), S2R_OK);
    s2r_diags d = {0};
    assert_int_equal(s2r_loader_scan(l, &d), S2R_OK);
    const s2r_loaded *p = NULL;
    assert_int_equal(s2r_loader_find(l, "test-echo", &p, &err), S2R_OK);
    assert_string_equal(p->path, src);
    int dup_seen = 0, major_seen = 0;
    for (size_t i = 0; i < d.n; i++) {
        dup_seen += strstr(d.v[i].message, "duplicate plugin name") != NULL;
        major_seen += strstr(d.v[i].message, "plugin ABI 2.0") != NULL;
    }
    assert_int_equal(dup_seen, 1);
    assert_int_equal(major_seen, 1);
    s2r_diags_clear(&d);
    s2r_loader_free(l);
    s2r_strv_clear(&dirs);
    unlink(dup);
    unlink(other);
    rmdir(tmp);
}

static void test_loader__not_found_lists_directories(void **state)
{
    (void)state;
    s2r_loader *l = new_loader(plugin_dir);
    const s2r_loaded *p = NULL;
    s2r_error err = {0};
    assert_int_equal(s2r_loader_find(l, "nothere", &p, &err), S2R_ENOTFOUND);
    assert_has(err.message, "s2r-nothere.so");
    assert_has(err.message, plugin_dir);
    s2r_loader_free(l);
}

static void test_loader__search_path_order(void **state)
{
    (void)state;
    setenv("S2R_PLUGIN_PATH", "/env/a:/env/b", 1);
    s2r_strv dirs = {0};
    assert_int_equal(s2r_loader_search_path(&dirs, "/cli", "/core"), S2R_OK);
    assert_true(dirs.n >= 4);
    assert_string_equal(dirs.v[0], "/cli");
    assert_string_equal(dirs.v[1], "/core");
    assert_string_equal(dirs.v[2], "/env/a");
    assert_string_equal(dirs.v[3], "/env/b");
    s2r_strv_clear(&dirs);
    unsetenv("S2R_PLUGIN_PATH");
}

/* a built-in provider goes through the same checks and ops */
static int bi_convert(void *i, const s2r_provider_request *r,
                      json_object **a, s2r_error *e)
{
    (void)e;
    *a = json_object_new_object();
    json_object_object_add(*a, "output", json_object_new_string(
                                             i ? "instance" : "none"));
    json_object_object_add(*a, "file", json_object_new_string(r->file));
    return S2R_OK;
}
static int bi_create(void **o, const s2r_host *h, const s2r_instance_ctx *c,
                     const void *cfg, s2r_error *e)
{
    (void)h; (void)cfg; (void)e;
    *o = (void *)c;
    return S2R_OK;
}
static void bi_destroy(void *i) { (void)i; }
static const s2r_provider_ops bi_ops = {sizeof(s2r_provider_ops), 0,
                                        bi_convert};
static const s2r_plugin bi_plugin = {
    S2R_PLUGIN_HEADER, .kind = S2R_KIND_PROVIDER, .name = "rules",
    .version = "0", .description = "test built-in", .create = bi_create,
    .destroy = bi_destroy, .ops = &bi_ops};

static void test_loader__builtin_through_registry(void **state)
{
    (void)state;
    const s2r_plugin *b[] = {&bi_plugin, NULL};
    s2r_registry_options o = S2R_REGISTRY_OPTIONS_INIT;
    o.builtins = b;
    o.plugin_dir = plugin_dir;
    s2r_registry *reg = NULL;
    s2r_diags d = {0};
    assert_int_equal(s2r_registry_open(&reg, &o, &d), S2R_OK);
    assert_string_equal(s2r_registry_default_provider(reg), "rules");
    const s2r_plugin *desc = NULL;
    void *inst = NULL;
    assert_int_equal(s2r_registry_provider(reg, NULL, &desc, &inst), S2R_OK);
    assert_string_equal(desc->name, "rules");
    assert_non_null(inst);
    s2r_provider_request req = {sizeof(req), 0, "job.sh", "x", 1, NULL, NULL,
                                NULL, "cli", NULL, NULL};
    json_object *ans = NULL;
    s2r_error err = {0};
    assert_int_equal(s2r_registry_convert(reg, NULL, &req, &ans, &err),
                     S2R_OK);
    assert_string_equal(
        json_object_get_string(json_object_object_get(ans, "file")),
        "job.sh");
    json_object_put(ans);
    s2r_registry_close(reg);
    s2r_diags_clear(&d);

    /* a .so may not take a built-in's name */
    char tmp[] = "/tmp/s2r-test-rules-XXXXXX";
    assert_non_null(mkdtemp(tmp));
    s2r_loader *l = new_loader(tmp);
    assert_int_equal(s2r_loader_add_builtin(l, &bi_plugin, &err), S2R_OK);
    assert_int_equal(s2r_loader_add_builtin(l, &bi_plugin, &err), S2R_EINVAL);
    assert_has(err.message, "duplicate plugin name 'rules'");
    s2r_loader_free(l);
    rmdir(tmp);
}

static const char *lookup_hdr(void *payload, const char *name)
{
    s2r_header_out *h = payload;
    for (int i = 0; i < 2; i++)
        if (strcasecmp(h[i].name, name) == 0)
            return h[i].value;
    return NULL;
}

static void test_loader__auth_round_trip(void **state)
{
    (void)state;
    char ini[] = "/tmp/s2r-test-auth-XXXXXX";
    int fd = mkstemp(ini);
    assert_true(fd >= 0);
    const char *text = "[auth.hmac]\nplugin = test-auth\n"
                       "secret = env:S2R_TEST_AUTH_SECRET\n";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    setenv("S2R_TEST_AUTH_SECRET", "hunter2-very-secret", 1);
    s2r_registry_options o = S2R_REGISTRY_OPTIONS_INIT;
    o.config_path = ini;
    o.plugin_dir = plugin_dir;
    s2r_registry *reg = NULL;
    s2r_diags d = {0};
    assert_int_equal(s2r_registry_open(&reg, &o, &d), S2R_OK);
    const char *body = "#!/bin/bash\nsrun hostname\n";
    s2r_auth_sign_request sr = {sizeof(sr), 0, "POST", "/",
                                (const uint8_t *)body, strlen(body), 1000};
    s2r_header_out h[4];
    uint32_t n = 0;
    s2r_error err = {0};
    assert_int_equal(s2r_registry_auth_sign(reg, "hmac", &sr, h, 4, &n, &err),
                     S2R_OK);
    assert_int_equal(n, 2);
    assert_string_equal(h[0].value, "1000");
    assert_int_equal(strlen(h[1].value), 64);
    s2r_auth_request vr = {0};
    vr.struct_size = sizeof(vr);
    vr.method = "POST";
    vr.path = "/";
    vr.query = "";
    vr.body = (const uint8_t *)body;
    vr.body_len = strlen(body);
    vr.now_unix_s = 1010;
    vr.header = lookup_hdr; /* over the signed headers */
    vr.header_payload = h;
    s2r_auth_result res = {0};
    assert_int_equal(s2r_registry_auth_verify(reg, "hmac", &vr, &res, &err),
                     S2R_OK);
    assert_string_equal(res.principal, "shared");
    /* tampered body: refused, and the message never holds the secret */
    vr.body_len--;
    assert_int_equal(s2r_registry_auth_verify(reg, "hmac", &vr, &res, &err),
                     S2R_EAUTH);
    assert_has(err.message, "bad signature");
    assert_null(strstr(err.message, "hunter2"));
    s2r_registry_close(reg);
    s2r_diags_clear(&d);
    unlink(ini);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loader__finds_and_checks_good_plugin),
        cmocka_unit_test(test_loader__refuses_wrong_major),
        cmocka_unit_test(test_loader__refuses_short_descriptor),
        cmocka_unit_test(test_loader__refuses_missing_entry_symbol),
        cmocka_unit_test(test_loader__refuses_broken_option_table),
        cmocka_unit_test(test_loader__refuses_duplicate_name),
        cmocka_unit_test(test_loader__not_found_lists_directories),
        cmocka_unit_test(test_loader__search_path_order),
        cmocka_unit_test(test_loader__builtin_through_registry),
        cmocka_unit_test(test_loader__auth_round_trip),
    };
    return cmocka_run_group_tests_name("loader", tests, setup_dir, NULL);
}
