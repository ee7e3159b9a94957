/* test_api_json.c: s2r_convert_json(), the one-call conversion of
 * libs2r.so: the document's shape, the error codes and the categories. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <s2r/s2r.h>

#include "config/config.h"

static const char *SCRIPT =
    "#!/bin/bash\n"
    "#SBATCH --job-name=train\n"
    "#SBATCH --gres=gpu:a100:2\n"
    "#SBATCH --mem=16G\n"
    "#SBATCH --time=1:30:00\n"
    "#SBATCH --mail-type=END\n"
    "module load cuda/12.1\n"
    "#SBATCH --nodes=2\n"
    "python train.py --epochs 3\n";

static json_object *DOC;

static int teardown(void **state)
{
    (void)state;
    json_object_put(DOC);
    DOC = NULL;
    return 0;
}

/* Convert @p script; DOC holds the parsed document. */
static int run(const char *script, const char *format, const char *config,
               const char *submit_dir)
{
    s2r_convert_request req = {.struct_size = sizeof(req),
                               .file = "job.sh",
                               .script = script,
                               .script_len = script ? strlen(script) : 0,
                               .format = format,
                               .config_path = config,
                               .submit_dir = submit_dir};
    char *text = NULL;
    int rc = s2r_convert_json(&text, &req);
    assert_non_null(text);
    json_object_put(DOC);
    DOC = json_tokener_parse(text);
    assert_non_null(DOC);
    s2r_free(text);
    return rc;
}

static json_object *get(json_object *o, const char *key)
{
    json_object *v = NULL;
    assert_true(json_object_object_get_ex(o, key, &v));
    return v;
}

static const char *str(json_object *o, const char *key)
{
    return json_object_get_string(get(o, key));
}

/* The first diagnostic whose message holds @p needle. */
static json_object *diag(const char *needle)
{
    json_object *a = get(DOC, "diagnostics");
    for (size_t i = 0; i < json_object_array_length(a); i++) {
        json_object *d = json_object_array_get_idx(a, i);
        if (strstr(str(d, "message"), needle))
            return d;
    }
    fail_msg("no diagnostic holds '%s'", needle);
    return NULL;
}

static char *write_file(const char *text)
{
    static char path[64];
    snprintf(path, sizeof(path), "/tmp/s2r-test-api-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static void test_api_json__converts_and_describes(void **state)
{
    (void)state;
    assert_int_equal(run(SCRIPT, "yaml", NULL, "/home/user1"), S2R_OK);
    assert_string_equal(str(DOC, "format"), "yaml");
    char *expected = NULL;
    s2r_config cfg;
    s2r_config_defaults(&cfg);
    cfg.submit_dir = strdup("/home/user1");
    /* the local user submits, as s2r_convert_json() says */
    assert_int_equal(s2r_config_local_defaults(&cfg), S2R_OK);
    s2r_diags d = {0};
    assert_int_equal(s2r_convert_buffer(&expected, "job.sh", SCRIPT,
                                        strlen(SCRIPT), S2R_FMT_YAML, &cfg,
                                        &d),
                     S2R_OK);
    assert_string_equal(str(DOC, "output"), expected);
    free(expected);
    s2r_diags_clear(&d);
    s2r_config_free(&cfg);

    json_object *job = get(DOC, "job");
    assert_int_equal(json_object_get_int(get(job, "gpus_per_node")), 2);
    assert_int_equal(json_object_get_int(get(job, "mem_per_node_mib")),
                     16384);
    assert_int_equal(json_object_get_int(get(job, "time_limit_s")), 5400);
    assert_string_equal(str(get(DOC, "workload"), "kind"), "standard");

    json_object *mail = diag("--mail-type=END");
    assert_string_equal(str(mail, "severity"), "warning");
    assert_string_equal(str(mail, "option"), "mail-type");
    assert_string_equal(str(mail, "category"), "option");
    assert_int_equal(json_object_get_int(get(mail, "line")), 6);
    assert_string_equal(str(mail, "text"),
                        "job.sh:6: warning: --mail-type=END has no Run:ai "
                        "equivalent (Run:ai sends no mail; follow the "
                        "workload with 'runai training describe')");
    assert_string_equal(str(diag("#SBATCH after the first command"),
                            "category"), "directive");
    assert_string_equal(str(diag("module load cuda"), "category"), "body");
    assert_string_equal(str(diag("names no container image"), "category"),
                        "image");
    assert_string_equal(str(diag("--gres=gpu:a100:2"), "category"),
                        "option");
}

static void test_api_json__refused_script(void **state)
{
    (void)state;
    assert_int_equal(run("#!/bin/bash\n#SBATCH --time=abc\ntrue\n", NULL,
                         NULL, NULL),
                     S2R_EINVAL);
    assert_null(get(DOC, "output"));
    assert_null(get(DOC, "job"));
    assert_null(get(DOC, "workload"));
    json_object *e = diag("Invalid --time specification");
    assert_string_equal(str(e, "severity"), "error");
    assert_string_equal(str(e, "file"), "job.sh");
    assert_int_equal(json_object_get_int(get(e, "line")), 2);
    assert_string_equal(str(e, "option"), "time");
    assert_string_equal(str(e, "category"), "time");

    assert_int_equal(run("#!/bin/bash\r\ntrue\r\n", "cli", NULL, NULL),
                     S2R_EINVAL);
    assert_string_equal(str(diag("DOS line breaks"), "category"), "script");
}

static void test_api_json__request_errors(void **state)
{
    (void)state;
    assert_int_equal(run(SCRIPT, "toml", NULL, NULL), S2R_EINVAL);
    assert_string_equal(str(diag("unknown format 'toml'"), "category"),
                        "usage");
    assert_int_equal(run(SCRIPT, NULL, NULL, "relative/dir"), S2R_EINVAL);
    assert_string_equal(str(diag("absolute path"), "category"), "usage");
    assert_int_equal(run(NULL, NULL, NULL, NULL), S2R_EINVAL);
    assert_string_equal(str(diag("Batch script is empty"), "category"),
                        "script");

    size_t big = S2R_MAX_SCRIPT_BYTES + 1;
    char *huge = malloc(big + 1);
    assert_non_null(huge);
    memset(huge, 'x', big);
    memcpy(huge, "#!/bin/sh\n", 10);
    huge[big] = '\0';
    assert_int_equal(run(huge, NULL, NULL, NULL), S2R_ETOOBIG);
    free(huge);
    assert_string_equal(str(diag("larger than 4 MiB"), "category"),
                        "script");

    s2r_convert_request old = {.struct_size = sizeof(size_t)};
    char *text = NULL;
    assert_int_equal(s2r_convert_json(&text, &old), S2R_EINVAL);
    assert_non_null(strstr(text, "struct_size"));
    s2r_free(text);
    assert_int_equal(s2r_convert_json(NULL, &old), S2R_EINVAL);
}

static void test_api_json__configuration(void **state)
{
    (void)state;
    assert_int_equal(run(SCRIPT, NULL, NULL, NULL), S2R_OK);
    assert_string_equal(str(DOC, "format"), "cli");

    char *p = write_file("[core]\nformat = json\n[runai]\nproject = team-a\n");
    assert_int_equal(run(SCRIPT, NULL, p, NULL), S2R_OK);
    assert_string_equal(str(DOC, "format"), "json");
    assert_string_equal(str(get(DOC, "workload"), "project"), "team-a");
    unlink(p);

    assert_int_equal(run(SCRIPT, NULL, "/nonexistent/s2r.ini", NULL),
                     S2R_ENOTFOUND);
    json_object *e = diag("cannot open the configuration");
    assert_string_equal(str(e, "file"), "/nonexistent/s2r.ini");
    assert_string_equal(str(e, "category"), "config");

    p = write_file("[runai]\npriority = urgent\n");
    assert_int_equal(run(SCRIPT, NULL, p, NULL), S2R_EINVAL);
    assert_string_equal(str(diag("priority"), "category"), "config");
    unlink(p);
}

static void test_api_json__rules_provider_only(void **state)
{
    (void)state;
    char *p = write_file("[core]\nformat = yaml\nprovider = llm\n"
                         "[provider.llm]\nplugin = bedrock\n");
    assert_int_equal(run(SCRIPT, NULL, p, NULL), S2R_EUNSUPPORTED);
    json_object *e = diag("built-in rules provider only");
    assert_string_equal(str(e, "file"), p);
    assert_int_equal(json_object_get_int(get(e, "line")), 3);
    assert_string_equal(str(e, "option"), "provider");
    assert_string_equal(str(e, "category"), "config");
    assert_null(get(DOC, "output"));
    unlink(p);

    p = write_file("[core]\nprovider = local\n[provider.local]\n"
                   "plugin = rules\n");
    assert_int_equal(run(SCRIPT, "cli", p, NULL), S2R_OK);
    unlink(p);
}

int main(void)
{
#define T(f) cmocka_unit_test_teardown(f, teardown)
    const struct CMUnitTest tests[] = {
        T(test_api_json__converts_and_describes),
        T(test_api_json__refused_script),
        T(test_api_json__request_errors),
        T(test_api_json__configuration),
        T(test_api_json__rules_provider_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
