/* test_body_statements.c: what one statement or command of a body is
 * (core/body/statements.c): a statement's text holds a string wherever it
 * sits (its last bytes too), the set-up commands (environment modules,
 * conda, venvs) are told apart by their names, and a body runs srun when
 * a line outside comments names it (core/body/steps.c). */
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

/* the snippet read a byte at a time: blanks and line continuations as one
 * blank between characters, at most cap - 4 bytes of text, then "..." */
static void slow_snippet(const char *src, size_t start, size_t end,
                         char *out, size_t cap)
{
    size_t o = 0, keep = cap > 4 ? cap - 4 : 0;
    bool space = false, cut = false;
    for (size_t i = start; i < end; i++) {
        char ch = src[i];
        if (ch == '\\' && i + 1 < end && src[i + 1] == '\n') {
            i++;
            space = true;
            continue;
        }
        if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' ||
            ch == '\f' || ch == '\v') {
            space = true;
            continue;
        }
        size_t need = (space && o) ? 2 : 1;
        if (o + need > keep) {
            cut = true;
            break;
        }
        if (space && o)
            out[o++] = ' ';
        space = false;
        out[o++] = ch;
    }
    if (cut && cap >= 4) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
}

/* s2r_body__stmt_snippet() against the byte-at-a-time reading, at every
 * room from none to past the text */
static void test_statements__snippet(void **state)
{
    (void)state;
    const char *texts[] = {
        "python  train.py \\\n   --lr 0.1\t--x\\y a\\",
        "echo a\\ b  'c  d' \\\n\\\n z",
        "x",
        "  lead   and   trail  ",
    };
    for (size_t t = 0; t < sizeof(texts) / sizeof(texts[0]); t++) {
        sh_body b;
        const char *text = texts[t];
        assert_int_equal(sh_lex(&b, text, strlen(text), 1), 0);
        const sh_stmt *st = &b.stmts[0];
        for (size_t cap = 1; cap < 64; cap++) {
            char got[64], want[64];
            s2r_body__stmt_snippet(&b, st, got, cap);
            slow_snippet(text, st->start, st->end, want, cap);
            assert_string_equal(got, want);
        }
        sh_body_free(&b);
    }
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

/* s2r_body__runs_srun() against its reading line by line: a line that is
 * no comment and names srun as a whole word (s2r_body__mentions()) */
static bool runs_srun_by_lines(const char *text)
{
    for (const char *p = text; p && *p;) {
        const char *nl = strchr(p, '\n');
        size_t ll = nl ? (size_t)(nl - p) : strlen(p);
        size_t i = strspn(p, " \t");
        if (i < ll && p[i] != '#') {
            char *line = strndup(p, ll);
            assert_non_null(line);
            bool hit = s2r_body__mentions(line, "srun");
            free(line);
            if (hit)
                return true;
        }
        p = nl ? nl + 1 : NULL;
    }
    return false;
}

static void test_statements__runs_srun(void **state)
{
    (void)state;
    static const char *const texts[] = {
        "srun python a.py\n", "python a.py\n", "# srun x\npython\n",
        "  # srun\n", "echo srunner\n", "echo xsrun\n", "x=srun_x\n",
        "a;srun b\n", "echo $(srun hostname)\n", "srun", "sru", "",
        "echo srunsrun srun\n", "ssrun srun_ s srun\n", "\n\nsrun\n",
        "echo 'srun'\n", "sr\nun\n", "echo srun1 srun\tx\n",
        "  srun\n# srun\n", "echo a\n   \t\nsrun-x\n",
    };
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
        if (s2r_body__runs_srun(texts[i]) != runs_srun_by_lines(texts[i]))
            fail_msg("'%s': %d", texts[i], !runs_srun_by_lines(texts[i]));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_statements__text_has),
        cmocka_unit_test(test_statements__snippet),
        cmocka_unit_test(test_statements__setup_commands),
        cmocka_unit_test(test_statements__runs_srun),
    };
    return cmocka_run_group_tests_name("body_statements", tests, NULL, NULL);
}
