/* test_launchers.c: the launcher option grammars (core/body/launchers.c):
 * the tables are well formed, and option words are read per each
 * program's manual (srun(1), mpirun(1) with one or two dashes alike). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "body/body.h"

static const s2r_launch_grammar *const grammars[] = {
    &s2r_launch_srun,         &s2r_launch_mpirun,     &s2r_launch_horovodrun,
    &s2r_launch_torchrun,     &s2r_launch_accelerate, &s2r_launch_deepspeed,
    &s2r_launch_singularity,  &s2r_launch_podman,
    &s2r_launch_enroot_start, &s2r_launch_conda_run,  &s2r_launch_env,
    &s2r_launch_timeout,      &s2r_launch_nice,       &s2r_launch_stdbuf,
    &s2r_launch_taskset,      &s2r_launch_none};

/* every table is sorted as strcmp orders the names, without a name twice,
 * and holds nopts names; every name starts with a dash (one or two where
 * the grammar reads both alike, and then shorter than 62 bytes) */
static void test_launchers__tables(void **state)
{
    (void)state;
    for (size_t g = 0; g < sizeof(grammars) / sizeof(grammars[0]); g++) {
        size_t n = 0;
        for (const s2r_launch_opt *o = grammars[g]->opts; o->name; o++) {
            n++;
            if (o != grammars[g]->opts)
                assert_true(strcmp(o[-1].name, o->name) < 0);
            assert_int_equal(o->name[0], '-');
            if (grammars[g]->single_dash_long) {
                assert_true(o->name[1] != '-' || o->name[2] != '-');
                assert_true(strlen(o->name) < 62);
            }
        }
        assert_int_equal(n, grammars[g]->nopts);
    }
}

static size_t match(const s2r_launch_grammar *g, const char *w,
                    const char *next, s2r_launch_matched *m)
{
    return s2r_launch_match(g, w, next, m);
}

static void test_launchers__srun(void **state)
{
    (void)state;
    s2r_launch_matched m;
    assert_int_equal(match(&s2r_launch_srun, "--ntasks=4", "x", &m), 1);
    assert_string_equal(m.opt->name, "--ntasks");
    assert_string_equal(m.value, "4");
    assert_int_equal(match(&s2r_launch_srun, "--ntasks", "4", &m), 2);
    assert_string_equal(m.value, "4");
    assert_int_equal(match(&s2r_launch_srun, "-n4", NULL, &m), 1);
    assert_string_equal(m.opt->name, "-n");
    assert_string_equal(m.value, "4");
    assert_int_equal(match(&s2r_launch_srun, "-n", "8", &m), 2);
    assert_string_equal(s2r_launch_key(m.opt), "ntasks");
    /* a prefix of a name is not the name */
    assert_int_equal(match(&s2r_launch_srun, "--ntask", "4", &m), 1);
    assert_true(m.unknown);
    assert_int_equal(match(&s2r_launch_srun, "--", "a", &m), 1);
    assert_true(m.end);
    assert_int_equal(match(&s2r_launch_srun, "python", NULL, &m), 0);
}

static void test_launchers__mpirun_dashes_alike(void **state)
{
    (void)state;
    s2r_launch_matched m;
    assert_int_equal(match(&s2r_launch_mpirun, "-np", "8", &m), 2);
    const s2r_launch_opt *np = m.opt;
    assert_string_equal(np->name, "-np");
    assert_int_equal(match(&s2r_launch_mpirun, "--np", "8", &m), 2);
    assert_ptr_equal(m.opt, np);
    assert_int_equal(match(&s2r_launch_mpirun, "--np=8", NULL, &m), 1);
    assert_ptr_equal(m.opt, np);
    assert_string_equal(m.value, "8");
    /* two values */
    assert_int_equal(match(&s2r_launch_mpirun, "--mca", "btl", &m), 3);
    assert_string_equal(m.opt->name, "-mca");
    assert_int_equal(match(&s2r_launch_mpirun, "-x", "PATH", &m), 2);
    assert_int_equal(match(&s2r_launch_mpirun, "-n4", NULL, &m), 1);
    assert_string_equal(m.opt->name, "-n");
    assert_string_equal(m.value, "4");
    /* three dashes, a name only one of them spells */
    assert_int_equal(match(&s2r_launch_mpirun, "---np", "8", &m), 2);
    assert_ptr_equal(m.opt, np);
    assert_int_equal(match(&s2r_launch_horovodrun, "-num-proc", "8", &m), 2);
    assert_string_equal(m.opt->name, "--num-proc");
    assert_int_equal(match(&s2r_launch_horovodrun, "--hostfile", "h", &m), 2);
    assert_string_equal(m.opt->name, "-hostfile");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_launchers__tables),
        cmocka_unit_test(test_launchers__srun),
        cmocka_unit_test(test_launchers__mpirun_dashes_alike),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
