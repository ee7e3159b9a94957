/* test_llm_cache.c: the SQLite answer cache (core/llm/cache.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "llm/llm.h"

static char dir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/s2r-llm-cache-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void path_of(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", dir, name);
}

static void test_cache__key(void **state)
{
    (void)state;
    char a[S2R_LLM_CACHE_KEY_LEN], b[S2R_LLM_CACHE_KEY_LEN],
        c[S2R_LLM_CACHE_KEY_LEN], d[S2R_LLM_CACHE_KEY_LEN];
    s2r_llm_cache_key("prompt", "m1", a);
    s2r_llm_cache_key("prompt", "m1", b);
    s2r_llm_cache_key("prompt", "m2", c);
    s2r_llm_cache_key("prompt2", "m1", d);
    assert_int_equal(strlen(a), 64);
    assert_string_equal(a, b);
    assert_string_not_equal(a, c);
    assert_string_not_equal(a, d);
    /* the separator keeps ("ab","c") and ("a","bc") apart */
    s2r_llm_cache_key("c", "ab", c);
    s2r_llm_cache_key("bc", "a", d);
    assert_string_not_equal(c, d);
    /* NULL model is the empty model */
    s2r_llm_cache_key("p", NULL, c);
    s2r_llm_cache_key("p", "", d);
    assert_string_equal(c, d);
    for (const char *p = a; *p; p++)
        assert_true((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'));
}

static void test_cache__put_get(void **state)
{
    (void)state;
    char path[400];
    path_of(path, sizeof(path), "a.sqlite");
    s2r_llm_cache *c = NULL;
    s2r_error err = {0};
    assert_int_equal(s2r_llm_cache_open(&c, path, 0, &err), S2R_OK);
    char key[S2R_LLM_CACHE_KEY_LEN];
    s2r_llm_cache_key("the prompt", "qwen", key);
    json_object *got = NULL;
    assert_int_equal(s2r_llm_cache_get(c, key, &got), S2R_ENOTFOUND);
    assert_null(got);
    json_object *a = json_tokener_parse(
        "{\"image\":\"nvcr.io/nvidia/pytorch:24.05-py3\",\"notes\":[\"x/y\"]}");
    assert_int_equal(s2r_llm_cache_put(c, key, "qwen", a), S2R_OK);
    assert_int_equal(s2r_llm_cache_get(c, key, &got), S2R_OK);
    assert_true(json_object_equal(a, got));
    json_object_put(got);
    /* replace */
    json_object *b = json_tokener_parse("{\"notes\":[\"second\"]}");
    assert_int_equal(s2r_llm_cache_put(c, key, "qwen", b), S2R_OK);
    assert_int_equal(s2r_llm_cache_get(c, key, &got), S2R_OK);
    assert_true(json_object_equal(b, got));
    json_object_put(got);
    assert_int_equal(s2r_llm_cache_count(c), 1);
    s2r_llm_cache_close(c);
    /* persists across opens (another process would see it too) */
    assert_int_equal(s2r_llm_cache_open(&c, path, 0, &err), S2R_OK);
    assert_int_equal(s2r_llm_cache_get(c, key, &got), S2R_OK);
    json_object_put(got);
    s2r_llm_cache_close(c);
    /* hits are counted */
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT hits, model FROM answers",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 2);
    assert_string_equal((const char *)sqlite3_column_text(st, 1), "qwen");
    sqlite3_finalize(st);
    sqlite3_close(db);
    json_object_put(a);
    json_object_put(b);
    s2r_llm_cache_close(NULL);
}

static void test_cache__expiry_and_damage(void **state)
{
    (void)state;
    char path[400];
    path_of(path, sizeof(path), "b.sqlite");
    s2r_llm_cache *c = NULL;
    s2r_error err = {0};
    /* max age one hour: a row made "two hours ago" is a miss */
    assert_int_equal(s2r_llm_cache_open(&c, path, 3600 * 1000, &err), S2R_OK);
    json_object *a = json_tokener_parse("{\"notes\":[\"n\"]}");
    assert_int_equal(s2r_llm_cache_put(c, "k1", "m", a), S2R_OK);
    assert_int_equal(s2r_llm_cache_put(c, "k2", "m", a), S2R_OK);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "UPDATE answers SET created_ms = created_ms"
                                  " - 7200000 WHERE key = 'k1';"
                                  "UPDATE answers SET answer = '{broken' "
                                  "WHERE key = 'k2';",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    json_object *got = NULL;
    assert_int_equal(s2r_llm_cache_get(c, "k1", &got), S2R_ENOTFOUND);
    assert_int_equal(s2r_llm_cache_get(c, "k2", &got), S2R_ENOTFOUND);
    assert_null(got);
    s2r_llm_cache_close(c);
    json_object_put(a);
}

static void test_cache__open_failure(void **state)
{
    (void)state;
    s2r_llm_cache *c = (s2r_llm_cache *)1;
    s2r_error err = {0};
    assert_int_equal(s2r_llm_cache_open(&c, "/nonexistent-dir/x/y.sqlite", 0,
                                        &err),
                     S2R_ERROR);
    assert_null(c);
    assert_non_null(strstr(err.message, "/nonexistent-dir/x/y.sqlite"));
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int provider_calls;

/* A provider that counts its calls and proposes a note (an answer the
 * guard applies, so the pipeline stores it). */
static int counting_convert(void *instance, const s2r_provider_request *req,
                            json_object **answer_out, s2r_error *err)
{
    (void)instance;
    (void)req;
    (void)err;
    provider_calls++;
    *answer_out = json_tokener_parse("{\"notes\": [\"from the model\"]}");
    return *answer_out ? S2R_OK : S2R_ENOMEM;
}

static void test_cache__from_ini_and_pipeline(void **state)
{
    (void)state;
    char ini_path[400], db[400], text[1200];
    path_of(ini_path, sizeof(ini_path), "s2r.ini");
    path_of(db, sizeof(db), "c.sqlite");
    snprintf(text, sizeof(text),
             "[core]\nprovider = llm\n"
             "[provider.llm]\nplugin = local-llm\nmodel = qwen2.5\n"
             "cache = %s\ncache_max_age = 2h\n"
             "[provider.nocache]\nplugin = local-llm\nmodel = m\n"
             "[provider.bad]\nplugin = local-llm\nmodel = m\n"
             "cache = /nonexistent-dir/q.sqlite\ncache_max_age = soon\n",
             db);
    write_file(ini_path, text);
    s2r_ini ini = {0};
    s2r_diags d = {0};
    assert_int_equal(s2r_ini_read(&ini, ini_path, &d), S2R_OK);
    s2r_llm_cache *c = NULL;
    const char *model = NULL;
    assert_int_equal(s2r_llm_cache_from_ini(&c, &model, &ini, "llm", &d),
                     S2R_OK);
    assert_non_null(c);
    assert_string_equal(model, "qwen2.5");
    s2r_llm_cache_close(c);
    assert_int_equal(s2r_llm_cache_from_ini(&c, &model, &ini, "nocache", &d),
                     S2R_OK);
    assert_null(c);
    assert_string_equal(model, "m");
    assert_int_equal(s2r_llm_cache_from_ini(&c, &model, &ini, "absent", &d),
                     S2R_OK);
    assert_null(c);
    assert_null(model);
    assert_int_equal(d.n, 0);
    /* a cache that cannot be opened is a warning, not an error */
    assert_int_equal(s2r_llm_cache_from_ini(&c, &model, &ini, "bad", &d),
                     S2R_OK);
    assert_null(c);
    assert_int_equal(s2r_diags_count(&d, S2R_SEV_WARNING), 2);
    assert_int_equal(s2r_diags_count(&d, S2R_SEV_ERROR), 0);
    s2r_diags_clear(&d);
    s2r_ini_free(&ini);

    /* the pipeline answers from the cache its caller opened: the second
     * conversion of the same script asks no model */
    assert_int_equal(s2r_ini_read(&ini, ini_path, &d), S2R_OK);
    assert_int_equal(s2r_llm_cache_from_ini(&c, &model, &ini, "llm", &d),
                     S2R_OK);
    assert_non_null(c);
    s2r_provider_ops ops = {.struct_size = sizeof(ops),
                            .convert = counting_convert};
    s2r_provider_ref pref = {.id = "llm", .ops = &ops, .cache = c,
                             .cache_model = model};
    static const char script[] = "#!/bin/bash\n#SBATCH --job-name=cached\n"
                                 "python train.py\n";
    s2r_pipeline_request preq = {.file = "job.sbatch", .script = script,
                                  .len = strlen(script),
                                  .format = S2R_FMT_YAML};
    s2r_config cfg;
    s2r_config_defaults(&cfg);
    provider_calls = 0;
    for (int i = 0; i < 2; i++) {
        s2r_pipeline_result res;
        assert_int_equal(s2r_pipeline_run(&cfg, &pref, &preq, &res), S2R_OK);
        assert_non_null(res.output);
        s2r_pipeline_result_free(&res);
    }
    assert_int_equal(provider_calls, 1);
    assert_int_equal(s2r_llm_cache_count(c), 1);
    s2r_config_free(&cfg);
    s2r_llm_cache_close(c);
    s2r_diags_clear(&d);
    s2r_ini_free(&ini);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cache__key),
        cmocka_unit_test(test_cache__put_get),
        cmocka_unit_test(test_cache__expiry_and_damage),
        cmocka_unit_test(test_cache__open_failure),
        cmocka_unit_test(test_cache__from_ini_and_pipeline),
    };
    return cmocka_run_group_tests_name("llm_cache", tests, setup, teardown);
}
