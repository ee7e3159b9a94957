/* test_srun_standin.c: the srun stand-in a pod's command carries
 * (s2r_srun_standin(), core/runai/srun_standin.sh): none without srun
 * steps, the job's sizes in front, valid bash without comments, small,
 * and reading srun's options as the converter's srun grammar does (every
 * option that takes a value there takes one in the stand-in). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <s2r/s2r.h>

#include "body/body.h"
#include "runai/runai.h"

static char *standin_of(const char *script, s2r_job *job)
{
    s2r_config cfg;
    s2r_config_defaults(&cfg);
    s2r_diags d = {0};
    assert_int_equal(s2r_job_parse(job, "job.sh", script, strlen(script),
                                   &cfg, &d), 0);
    char *text = NULL;
    assert_int_equal(s2r_srun_standin(job, &text), 0);
    s2r_diags_clear(&d);
    s2r_config_free(&cfg);
    return text;
}

static void test_srun_standin__none_without_srun(void **state)
{
    (void)state;
    s2r_job job;
    char *t = standin_of("#!/bin/bash\n#SBATCH -n 4\npython x.py\n", &job);
    assert_null(t);
    assert_false(job.srun_standin);
    s2r_job_free(&job);
}

static void test_srun_standin__sizes_and_bash(void **state)
{
    (void)state;
    s2r_job job;
    char *t = standin_of("#!/bin/bash\n#SBATCH -N 2 --ntasks-per-node=4 "
                         "--gres=gpu:4 -c 6\nsrun python train.py\n", &job);
    assert_non_null(t);
    /* slurmctld counts -N 2 --ntasks-per-node=4 as 8 tasks */
    assert_non_null(strstr(t, "s2r_nnodes=2 s2r_node_cpus=24 "
                              "s2r_node_gpus=4 s2r_job_ntasks=8 "
                              "s2r_job_tpn=4 s2r_job_cpt=6 s2r_rank_vars=1"));
    /* comments and indentation are left out of the command */
    assert_null(strstr(t, "\n#SBATCH"));
    assert_null(strstr(t, "\n# "));
    assert_null(strstr(t, "\n    "));
    assert_true(strlen(t) < 16 * 1024);
    char path[] = "/tmp/s2r-standin-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, t, strlen(t)), (ssize_t)strlen(t));
    close(fd);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "bash -n %s", path);
    assert_int_equal(system(cmd), 0);
    unlink(path);
    free(t);
    s2r_job_free(&job);
}

/* the long name the stand-in gives short option @p c ("n" -> ntasks) */
static bool maps_short(const char *t, char c, const char *name)
{
    char pat[64];
    snprintf(pat, sizeof(pat), "%c) echo %s ;;", c, name);
    return strstr(t, pat) != NULL;
}

/* a step that names no GPUs takes the job's GPUs per task: those of
 * --gpus-per-task, or of --tres-per-task's gres/gpu entries (sbatch 23.11
 * and later make them --gpus-per-task) */
static void test_srun_standin__job_gpus_per_task(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"--gpus-per-task=a100:2", "s2r_job_gpt=2 "},
        {"--tres-per-task=cpu:4,gres/gpu:2", "s2r_job_gpt=2 "},
        {"--tres-per-task=gres:gpu:a100=3", "s2r_job_gpt=3 "},
        {"--tres-per-task=gres/gpu:a100", "s2r_job_gpt=1 "}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char script[256];
        snprintf(script, sizeof(script),
                 "#!/bin/bash\n#SBATCH -n 2 %s\nsrun python t.py\n",
                 cases[i][0]);
        s2r_job job;
        char *t = standin_of(script, &job);
        assert_non_null(t);
        if (!strstr(t, cases[i][1]))
            print_error("%s: no %s\n", cases[i][0], cases[i][1]);
        assert_non_null(strstr(t, cases[i][1]));
        free(t);
        s2r_job_free(&job);
    }
}

/* step counts past int64_t are read as a large count, not overflowed
 * (a fuzz finding: fuzz_request/srun-ntasks-past-int64) */
static void test_srun_standin__huge_step_counts(void **state)
{
    (void)state;
    s2r_job job;
    char *t = standin_of("#!/bin/bash\n#SBATCH -n 5\n"
                         "srun -n 28888888888888888888888888 --label bash\n"
                         "srun -N 99999999999999999999-3 hostname\n", &job);
    assert_non_null(t);
    free(t);
    s2r_job_free(&job);
}

static void test_srun_standin__same_srun_grammar(void **state)
{
    (void)state;
    s2r_job job;
    char *t = standin_of("#!/bin/bash\n#SBATCH -n 2\nsrun -n 2 ./a.sh\n",
                         &job);
    assert_non_null(t);
    const char *list = strstr(t, "s2r_valued='");
    assert_non_null(list);
    const char *end = strchr(list + 12, '\'');
    assert_non_null(end);
    char *valued = strndup(list + 11, (size_t)(end - list - 10));
    for (char *p = valued; *p; p++)
        if (*p == '\n')
            *p = ' ';
    const s2r_launch_opt *longs = s2r_launch_srun.opts;
    for (const s2r_launch_opt *o = longs; o->name; o++) {
        if (o->nvals == 0 || o->name[1] == '-')
            continue;
        /* a short option with a value: the stand-in maps it to a long
         * option that takes one too */
        bool found = false;
        for (const s2r_launch_opt *l = longs; l->name && !found; l++) {
            char pat[64];
            snprintf(pat, sizeof(pat), " %s ", l->name + 2);
            found = l->name[1] == '-' && l->nvals == 1 &&
                    maps_short(t, o->name[1], l->name + 2) &&
                    strstr(valued, pat);
        }
        if (!found)
            fail_msg("srun %s takes a value; the stand-in reads it as a "
                     "flag", o->name);
    }
    for (const s2r_launch_opt *o = longs; o->name; o++) {
        if (o->nvals == 0 || o->name[1] != '-')
            continue;
        char pat[64];
        snprintf(pat, sizeof(pat), " %s ", o->name + 2);
        if (!strstr(valued, pat))
            fail_msg("srun %s takes a value; the stand-in reads it as a "
                     "flag", o->name);
    }
    free(valued);
    free(t);
    s2r_job_free(&job);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_srun_standin__none_without_srun),
        cmocka_unit_test(test_srun_standin__sizes_and_bash),
        cmocka_unit_test(test_srun_standin__job_gpus_per_task),
        cmocka_unit_test(test_srun_standin__huge_step_counts),
        cmocka_unit_test(test_srun_standin__same_srun_grammar),
    };
    return cmocka_run_group_tests_name("srun_standin", tests, NULL, NULL);
}
