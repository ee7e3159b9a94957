/* test_body_statements.c: what one statement or command of a body is
 * (core/body/statements.c): a statement's text holds a string wherever it
 * sits (its last bytes too), and the set-up commands (environment
 * modules, conda, venvs) are told apart by their names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "body/analysis.h"

/* the first statement of @p text: does its text hold @p needle? Checked
 * against a plain search of the statement's bytes. */
static bool text_has(const char *text, const char *needle)
{
    sh_body b;
    assert_int_equal(sh_lex(&b, text, strlen(text), 1), 0);
    assert_true(b.n >= 1);
    const sh_stmt *st = &b.stmts[0];
    bool got = s2r_body__stmt_text_has(&b, st, needle);
    size_t n = strlen(needle);
    bool want = false;
    for (size_t i = st->start; i + n <= st->end && !want; i++)
        want = !memcmp(text + i, needle, n);
    sh_body_free(&b);
    assert_int_equal(got, want);
    return got;
}

static void test_statements__text_has(void **state)
{
    (void)state;
    assert_true(text_has("scontrol show hostnames $SLURM_NODELIST",
                         "scontrol show hostname"));
    assert_true(text_has("x=$(scontrol show hostname)",
                         "scontrol show hostname"));
    assert_false(text_has("scontrol show hostnam", "scontrol show hostname"));
    assert_false(text_has("scontrol show host; echo scontrol show hostname",
                          "scontrol show hostname"));
    assert_true(text_has("srun python a.py", "srun"));
    assert_true(text_has("echo ssrun", "srun"));
    assert_true(text_has("echo x; srun y", "x"));
    assert_false(text_has("echo x; srun y", "srun"));
    assert_true(text_has("ssh -L 8888:localhost:8888 host", "-L"));
    assert_true(text_has("a", "a"));
    assert_false(text_has("a", "ab"));
    assert_true(text_has("abc", ""));
}

static setup_kind setup_of(const char *text)
{
    sh_body b;
    assert_int_equal(sh_lex(&b, text, strlen(text), 1), 0);
    setup_kind k = s2r_body__setup_of(&b.stmts[0].cmds[0]);
    sh_body_free(&b);
    return k;
}

static void test_statements__setup_commands(void **state)
{
    (void)state;
    assert_int_equal(setup_of("module load cuda"), SU_MODULE);
    assert_int_equal(setup_of("ml cuda"), SU_MODULE);
    assert_int_equal(setup_of("X=1 module purge"), SU_MODULE);
    assert_int_equal(setup_of("spack load gcc"), SU_MODULE);
    assert_int_equal(setup_of("spack env activate x"), SU_MODULE);
    assert_int_equal(setup_of("spack install gcc"), SU_NONE);
    assert_int_equal(setup_of("conda activate env"), SU_CONDA);
    assert_int_equal(setup_of("mamba activate env"), SU_CONDA);
    assert_int_equal(setup_of("micromamba activate env"), SU_CONDA);
    assert_int_equal(setup_of("conda run -n env python"), SU_NONE);
    assert_int_equal(setup_of("source ~/miniconda3/etc/profile.d/conda.sh"),
                     SU_CONDA);
    assert_int_equal(setup_of(". activate env"), SU_CONDA);
    assert_int_equal(setup_of("source venv/bin/activate"), SU_VENV);
    assert_int_equal(setup_of(". /etc/profile.d/modules.sh"), SU_MODULE);
    assert_int_equal(setup_of("source env.sh"), SU_NONE);
    assert_int_equal(setup_of("eval \"$(conda shell.bash hook)\""),
                     SU_CONDA);
    assert_int_equal(setup_of("eval x"), SU_NONE);
    assert_int_equal(setup_of(".. x"), SU_NONE);
    assert_int_equal(setup_of("modules load x"), SU_NONE);
    assert_int_equal(setup_of("mls x"), SU_NONE);
    assert_int_equal(setup_of("sources venv/bin/activate"), SU_NONE);
    assert_int_equal(setup_of("/usr/bin/module load x"), SU_NONE);
    assert_int_equal(setup_of("python a.py"), SU_NONE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_statements__text_has),
        cmocka_unit_test(test_statements__setup_commands),
    };
    return cmocka_run_group_tests_name("body_statements", tests, NULL, NULL);
}
