/* Unit tests for the likely mistakes sbatch accepts (core/convert/
 * mistakes.c, core/slurm/checks.c): each warning is true, and names the
 * option and line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <s2r/s2r.h>

static s2r_job J;
static s2r_diags D;

static int teardown(void **state)
{
    (void)state;
    s2r_job_free(&J);
    s2r_diags_clear(&D);
    memset(&D, 0, sizeof(D));
    return 0;
}

static void parse(const char *script)
{
    teardown(NULL);
    assert_int_equal(s2r_job_parse(&J, "t.sbatch", script, strlen(script),
                                   NULL, &D), 0);
}

/* The warning naming @p opt (NULL: none) whose message has @p text, or
 * NULL. */
static const s2r_diag *warning(const char *opt, const char *text)
{
    for (size_t i = 0; i < D.n; i++) {
        const s2r_diag *g = &D.v[i];
        if (g->severity != S2R_SEV_WARNING || !strstr(g->message, text))
            continue;
        if (opt ? g->option && !strcmp(g->option, opt) : !g->option)
            return g;
    }
    return NULL;
}

static void test_convert_mistakes__time_in_minutes(void **state)
{
    (void)state;
    parse("#!/bin/bash\n#SBATCH -N 1\n#SBATCH --time=02:00\npython x.py\n");
    const s2r_diag *g = warning("time", "is 2 minutes");
    assert_non_null(g);
    assert_int_equal(g->line, 3);
    assert_non_null(strstr(g->message, "write --time=2:00:00"));
    parse("#!/bin/bash\n#SBATCH -t 1:30\npython x.py\n");
    assert_non_null(warning("time", "1 minute 30 seconds"));
    /* the last --time is the one read */
    parse("#!/bin/bash\n#SBATCH -t 2:00\n#SBATCH -t 2:00:00\npython x\n");
    assert_null(warning("time", "minutes"));
    parse("#!/bin/bash\n#SBATCH -t 120\npython x.py\n");
    assert_null(warning("time", "minutes"));
    /* past 24 the minutes are meant */
    parse("#!/bin/bash\n#SBATCH -t 30:00\npython x.py\n");
    assert_null(warning("time", "minutes"));
}

static void test_convert_mistakes__array_index_without_array(void **state)
{
    (void)state;
    parse("#!/bin/bash\n##SBATCH --array=1-10\n#SBATCH -N 1\n\n"
          "python train.py --seed ${SLURM_ARRAY_TASK_ID}\n");
    const s2r_diag *g = warning("array", "SLURM_ARRAY_TASK_ID");
    assert_non_null(g);
    assert_int_equal(g->line, 5);
    assert_non_null(strstr(g->message, "line 2 holds an --array in a "
                                       "comment"));
    parse("#!/bin/bash\n# SBATCH -a 1-4\npython x.py $SLURM_ARRAY_TASK_ID\n");
    assert_non_null(warning("array", "line 2 holds an --array"));
    parse("#!/bin/bash\nset -e\n#SBATCH --arr=1-4\n"
          "python x.py $SLURM_ARRAY_TASK_ID\n");
    assert_non_null(warning("array", "line 3 comes after the first "
                                     "command"));
    /* no directive anywhere: the plain warning */
    parse("#!/bin/bash\n# a comment\necho $SLURM_ARRAY_TASK_ID\n");
    g = warning("array", "no --array");
    assert_non_null(g);
    assert_null(strstr(g->message, "line 2"));
    /* an array: nothing to say; nor about a longer variable name */
    parse("#!/bin/bash\n#SBATCH --array=1-3\necho $SLURM_ARRAY_TASK_ID\n");
    assert_null(warning("array", "SLURM_ARRAY_TASK_ID"));
    parse("#!/bin/bash\necho $SLURM_ARRAY_TASK_IDS\n");
    assert_null(warning("array", "SLURM_ARRAY_TASK_ID"));
}

static void test_convert_mistakes__digest_without_at(void **state)
{
    (void)state;
    parse("#!/bin/bash\n#SBATCH --container-image=\"nvcr.io#nvidia/"
          "pytorch:sha256:0123abcd\"\npython x.py\n");
    const s2r_diag *g = warning("container-image", "not a valid OCI");
    assert_non_null(g);
    assert_int_equal(g->line, 2);
    assert_non_null(strstr(g->message, "nvcr.io/nvidia/pytorch@sha256:"));
    parse("#!/bin/bash\n#SBATCH --image=docker:ubuntu:sha256:0123abcd\n"
          "python x.py\n");
    assert_non_null(warning("image", "not a valid OCI"));
    parse("#!/bin/bash\nmodule load x\n"
          "apptainer exec docker://ubuntu:sha512:0123abcd python x.py\n");
    g = warning(NULL, "not a valid OCI");
    assert_non_null(g);
    assert_int_equal(g->line, 3);
    parse("#!/bin/bash\n#SBATCH --container-image=nvcr.io/nvidia/"
          "pytorch@sha256:0123abcd\npython x.py\n");
    assert_null(warning("container-image", "not a valid OCI"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_convert_mistakes__time_in_minutes,
                                  teardown),
        cmocka_unit_test_teardown(
            test_convert_mistakes__array_index_without_array, teardown),
        cmocka_unit_test_teardown(test_convert_mistakes__digest_without_at,
                                  teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
