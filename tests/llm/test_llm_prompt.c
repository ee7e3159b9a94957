/* test_llm_prompt.c: the prompt builder (core/llm/prompt.c): content,
 * determinism, size against the original s2r's template, long inputs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <dirent.h>

#include "llm/model.h"
#include "runai/runai.h"

/* The original s2r's prompt template alone (dirkpetersen/slurm2runai). */
#define ORIGINAL_TEMPLATE_CHARS 11379
/* The bound: at most 40 % of it for a typical script. */
#define PROMPT_BUDGET (ORIGINAL_TEMPLATE_CHARS * 40 / 100)

static char *build(const char *file, const char *script, size_t len,
                   s2r_job *job_keep)
{
    s2r_job job;
    s2r_workload wl;
    s2r_diags d = {0};
    memset(&wl, 0, sizeof(wl));
    assert_int_equal(s2r_job_parse(&job, file, script, len, NULL, &d), S2R_OK);
    assert_int_equal(s2r_rules_convert(&wl, &job, NULL, &d), S2R_OK);
    json_object *jj = s2r_job_to_json(&job), *rj = s2r_workload_to_json(&wl);
    char *p = s2r_prompt_build(&job, jj, rj, script, len);
    assert_non_null(p);
    json_object_put(jj);
    json_object_put(rj);
    s2r_workload_free(&wl);
    if (job_keep)
        *job_keep = job;
    else
        s2r_job_free(&job);
    s2r_diags_clear(&d);
    return p;
}

/* The JSON after "<label>: " on its own line, parsed. */
static json_object *json_line(const char *prompt, const char *label)
{
    const char *p = strstr(prompt, label);
    assert_non_null(p);
    p = strstr(p, ": {");
    assert_non_null(p);
    p += 2;
    const char *nl = strchr(p, '\n');
    assert_non_null(nl);
    char *s = strndup(p, (size_t)(nl - p));
    json_object *o = json_tokener_parse(s);
    free(s);
    assert_non_null(o);
    return o;
}

static const char simple[] =
    "#!/bin/bash\n"
    "#SBATCH --job-name=resnet\n"
    "#SBATCH --gres=gpu:a100:2\n"
    "#SBATCH --cpus-per-task=8\n"
    "#SBATCH --mem=32G\n"
    "#SBATCH --time=04:00:00\n"
    "python train.py --data /data/x\n";

static void test_prompt__content(void **state)
{
    (void)state;
    char *p = build("dir/job.sbatch", simple, strlen(simple), NULL);
    /* the script, verbatim, under its base name */
    assert_non_null(strstr(p, "Script job.sbatch:\n"));
    assert_non_null(strstr(p, simple));
    /* the facts line is JSON with the directives' resources */
    json_object *f = json_line(p, "Facts from the directives");
    json_object *v;
    assert_true(json_object_object_get_ex(f, "gpus_per_node", &v));
    assert_int_equal(json_object_get_int(v), 2);
    assert_true(json_object_object_get_ex(f, "gpu_type", &v));
    assert_string_equal(json_object_get_string(v), "a100");
    assert_true(json_object_object_get_ex(f, "mem_per_node_mib", &v));
    assert_int_equal(json_object_get_int(v), 32768);
    assert_true(json_object_object_get_ex(f, "time_limit_s", &v));
    assert_int_equal(json_object_get_int(v), 14400);
    json_object_put(f);
    /* the rules line: kind, image and where it comes from, command */
    json_object *r = json_line(p, "Rules result");
    assert_true(json_object_object_get_ex(r, "image_from", &v));
    assert_string_equal(json_object_get_string(v), "default");
    assert_true(json_object_object_get_ex(r, "command", &v));
    assert_string_equal(json_object_get_string(json_object_array_get_idx(v, 0)),
                        "python");
    assert_true(json_object_object_get_ex(r, "command_tokens", &v));
    json_object_put(r);
    /* the answer schema */
    assert_non_null(strstr(p, "{\"image\":\"registry/repo:tag\",\"command\":"));
    assert_non_null(strstr(p, "\"script\":\"bash body\""));
    assert_non_null(strstr(p, "Never state resources"));
    /* no slash escaping from json-c */
    assert_null(strstr(p, "\\/"));
    free(p);
}

static void test_prompt__deterministic(void **state)
{
    (void)state;
    char *a = build("job.sh", simple, strlen(simple), NULL);
    char *b = build("job.sh", simple, strlen(simple), NULL);
    assert_string_equal(a, b);
    free(a);
    free(b);
}

static void test_prompt__large_array_is_summarised(void **state)
{
    (void)state;
    static const char s[] = "#!/bin/bash\n#SBATCH --array=0-1000%50\n"
                            "python x.py $SLURM_ARRAY_TASK_ID\n";
    char *p = build("a.sh", s, strlen(s), NULL);
    assert_true(strlen(p) < PROMPT_BUDGET);
    json_object *f = json_line(p, "Facts from the directives");
    json_object *a, *v;
    assert_true(json_object_object_get_ex(f, "array", &a));
    assert_true(json_object_object_get_ex(a, "count", &v));
    assert_int_equal(json_object_get_int(v), 1001);
    assert_true(json_object_object_get_ex(a, "last", &v));
    assert_int_equal(json_object_get_int(v), 1000);
    assert_true(json_object_object_get_ex(a, "max_parallel", &v));
    assert_int_equal(json_object_get_int(v), 50);
    json_object_put(f);
    free(p);
}

static void test_prompt__long_body_and_script(void **state)
{
    (void)state;
    /* a body long enough that the rules' bash -c is summarised, and a
     * script above S2R_PROMPT_SCRIPT_MAX that is cut with a marker */
    size_t n = S2R_PROMPT_SCRIPT_MAX + 4096;
    char *s = malloc(n + 1);
    strcpy(s, "#!/bin/bash\n#SBATCH --cpus-per-task=2\nset -e\n");
    size_t o = strlen(s);
    while (o + 40 < n)
        o += (size_t)sprintf(s + o, "echo step %06zu && python s.py\n", o);
    s[o] = '\0';
    char *p = build("big.sh", s, o, NULL);
    assert_non_null(strstr(p, "<the script body without #SBATCH lines"));
    assert_non_null(strstr(p, "[... cut: the script is longer]"));
    assert_true(strlen(p) < S2R_PROMPT_SCRIPT_MAX + 4096);
    free(p);
    free(s);
}

/* Every corpus case within budget; the sizes for docs/llm.md. */
static void test_prompt__corpus_sizes(void **state)
{
    (void)state;
    const char *dir = getenv("S2R_CORPUS_DIR");
    DIR *dh = dir ? opendir(dir) : NULL;
    if (!dh)
        skip();
    char *names[128];
    size_t nn = 0;
    struct dirent *e;
    while ((e = readdir(dh)) != NULL && nn < 128) {
        size_t l = strlen(e->d_name);
        if (l > 7 && !strcmp(e->d_name + l - 7, ".sbatch"))
            names[nn++] = strdup(e->d_name);
    }
    closedir(dh);
    for (size_t i = 1; i < nn; i++)
        for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
            char *t = names[j];
            names[j] = names[j - 1];
            names[j - 1] = t;
        }
    size_t total = 0, count = 0, max = 0;
    printf("%-34s %7s %7s %6s\n", "case", "script", "prompt", "%tmpl");
    for (size_t i = 0; i < nn; i++) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        FILE *fp = fopen(path, "rb");
        assert_non_null(fp);
        static char buf[1 << 16];
        size_t len = fread(buf, 1, sizeof(buf), fp);
        fclose(fp);
        s2r_job job;
        s2r_diags d = {0};
        if (s2r_job_parse(&job, names[i], buf, len, NULL, &d) != S2R_OK) {
            s2r_job_free(&job);
            s2r_diags_clear(&d);
            free(names[i]);
            continue; /* refused scripts reach no model */
        }
        s2r_job_free(&job);
        s2r_diags_clear(&d);
        char *p = build(names[i], buf, len, NULL);
        size_t pl = strlen(p);
        printf("%-34.34s %7zu %7zu %5.1f%%\n", names[i], len, pl,
               100.0 * (double)pl / ORIGINAL_TEMPLATE_CHARS);
        if (pl > PROMPT_BUDGET)
            fail_msg("%s: prompt of %zu chars is above %d", names[i], pl,
                     PROMPT_BUDGET);
        total += pl;
        max = pl > max ? pl : max;
        count++;
        free(p);
        free(names[i]);
    }
    printf("%zu prompts: mean %zu, max %zu chars (budget %d = 40%% of %d)\n",
           count, count ? total / count : 0, max, PROMPT_BUDGET,
           ORIGINAL_TEMPLATE_CHARS);
    assert_true(count >= 25);
}

static void test_prompt__from_json_only(void **state)
{
    (void)state;
    /* a caller with the JSON only (no s2r_job) gets the same shape */
    s2r_job job;
    char *p1 = build("job.sh", simple, strlen(simple), &job);
    s2r_workload wl;
    s2r_diags d = {0};
    assert_int_equal(s2r_rules_convert(&wl, &job, NULL, &d), S2R_OK);
    json_object *jj = s2r_job_to_json(&job), *rj = s2r_workload_to_json(&wl);
    char *p2 = s2r_prompt_build(NULL, jj, rj, simple, strlen(simple));
    assert_non_null(p2);
    assert_non_null(strstr(p2, "Script script:\n"));
    assert_non_null(strstr(p2, "\"image_from\":\"default\""));
    free(p1);
    free(p2);
    json_object_put(jj);
    json_object_put(rj);
    s2r_workload_free(&wl);
    s2r_job_free(&job);
    s2r_diags_clear(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prompt__content),
        cmocka_unit_test(test_prompt__deterministic),
        cmocka_unit_test(test_prompt__large_array_is_summarised),
        cmocka_unit_test(test_prompt__long_body_and_script),
        cmocka_unit_test(test_prompt__corpus_sizes),
        cmocka_unit_test(test_prompt__from_json_only),
    };
    return cmocka_run_group_tests_name("llm_prompt", tests, NULL, NULL);
}
