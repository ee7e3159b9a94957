/* Robustness of the body analysis (core/body, core/shell): long lines in
 * messages, long bodies, and a quote or here-document left open. Run under AddressSanitizer too (a build with
 * -fsanitize=address,undefined): a one-byte overrun of a message buffer
 * or a quadratic regrowth shows there. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <s2r/s2r.h>
#include "base/base.h"

/* The script built in @p b parsed into @p job, its diagnostics in @p d. */
static void parse(const s2r_buf *b, s2r_job *job, s2r_diags *d)
{
    assert_false(b->oom);
    memset(d, 0, sizeof(*d));
    assert_int_equal(s2r_job_parse(job, "t.sbatch", b->p, b->len, NULL, d),
                     0);
}

/* The last diagnostic of @p d whose message holds @p text, or NULL. */
static const s2r_diag *diag_saying(const s2r_diags *d, const char *text)
{
    const s2r_diag *g = NULL;
    for (size_t i = 0; i < d->n; i++)
        if (strstr(d->v[i].message, text))
            g = &d->v[i];
    return g;
}

/* @p head, @p each @p n times, then @p tail, into @p b (empty). */
static void script_of(s2r_buf *b, const char *head, const char *each,
                      size_t n, const char *tail)
{
    s2r_buf_puts(b, head);
    for (size_t i = 0; i < n; i++)
        s2r_buf_puts(b, each);
    s2r_buf_puts(b, tail);
}

/* A dropped `module load` line of @p words one-letter words: the warning
 * quotes it shortened, never past its buffer. */
static void dropped_line(size_t words)
{
    s2r_buf b = {0};
    script_of(&b, "#!/bin/bash\nmodule load", " a", words,
              "\npython train.py\n");
    s2r_job job;
    s2r_diags d;
    parse(&b, &job, &d);
    const s2r_diag *g = diag_saying(&d, "dropped 'module load");
    assert_non_null(g);
    assert_int_equal(g->line, 2);
    const char *q = strchr(g->message, '\'');
    const char *e = strchr(q + 1, '\'');
    assert_non_null(e);
    size_t quoted = (size_t)(e - q - 1);
    assert_true(quoted < 160);
    if (11 + 2 * words > 156) /* shortened: 156 bytes of text, "..." */
        assert_memory_equal(e - 3, "...", 3);
    else
        assert_int_equal(quoted, 11 + 2 * words);
    s2r_job_free(&job);
    s2r_diags_clear(&d);
    free(b.p);
}

static void test_body_robust__long_dropped_line(void **state)
{
    (void)state;
    /* every length around the end of the 160-byte snippet buffer (a
     * blank and a letter are written together), and far past it */
    for (size_t w = 60; w < 90; w++)
        dropped_line(w);
    dropped_line(5000);
}

static void test_body_robust__eight_thousand_lines(void **state)
{
    (void)state;
    enum { N = 4000 };
    s2r_buf b = {0};
    s2r_buf_puts(&b, "#!/bin/bash\n#SBATCH -n 2\n");
    for (int i = 0; i < N; i++) {
        char l[64];
        snprintf(l, sizeof(l), "export V%d=%d\n", i, i);
        s2r_buf_puts(&b, l);
    }
    for (int i = 0; i < N; i++) {
        char l[64];
        snprintf(l, sizeof(l), "echo step %d >> log.txt\n", i);
        s2r_buf_puts(&b, l);
    }
    s2r_buf_puts(&b, "srun python train.py --epochs \"$V3999\"\n");
    s2r_job job;
    s2r_diags d;
    parse(&b, &job, &d);
    /* every export lifted, in order, with its value */
    assert_int_equal(job.env.n, N);
    assert_string_equal(job.env.v[0].name, "V0");
    assert_string_equal(s2r_envv_get(&job.env, "V3999"), "3999");
    /* the main command is the last line; every echo is kept */
    assert_int_equal(job.main_line, 2 + 2 * N + 1);
    assert_string_equal(job.command_tokens.v[1], "train.py");
    assert_non_null(job.run_shell);
    assert_non_null(strstr(job.run_shell, "echo step 0 >> log.txt"));
    assert_non_null(strstr(job.run_shell, "echo step 3999 >> log.txt"));
    s2r_job_free(&job);
    s2r_diags_clear(&d);
    free(b.p);
}

/* A variable grown from itself on each of 6,000 lines (export
 * A=${A}xxxxxxxxxx): its value is resolved each time, and the replaced
 * values are not kept, so the memory held is that of the last one, not
 * the sum of all (200 MB when they were kept). mallinfo2() counts what is
 * in use (0 where a sanitizer replaces the allocator). */
static void test_body_robust__value_grown_from_itself(void **state)
{
    (void)state;
    enum { N = 6000 };
    s2r_buf b = {0};
    script_of(&b, "#!/bin/bash\n#SBATCH --gres=gpu:1\nexport A=x\n",
              "export A=${A}xxxxxxxxxx\n", N, "python train.py\n");
    s2r_job job;
    s2r_diags d;
    size_t before = mallinfo2().uordblks;
    parse(&b, &job, &d);
    size_t held = mallinfo2().uordblks - before;
    const char *a = s2r_envv_get(&job.env, "A");
    assert_non_null(a);
    assert_int_equal(strlen(a), 1 + 10 * N);
    assert_true(held < ((size_t)16 << 20));
    s2r_job_free(&job);
    s2r_diags_clear(&d);
    free(b.p);
}

/* s2r_grow(): room for one more element, geometric growth. */
static void test_body_robust__grow(void **state)
{
    (void)state;
    int *v = NULL;
    for (size_t n = 0; n < 100000; n++) {
        assert_int_equal(s2r_grow((void **)&v, n, sizeof(*v)), 0);
        v[n] = (int)n;
    }
    for (size_t n = 0; n < 100000; n++)
        assert_int_equal(v[n], (int)n);
    free(v);
    void *p = NULL;
    assert_int_equal(s2r_grow(&p, (size_t)1 << 62, 8), S2R_ENOMEM);
    assert_null(p);
}

/* @p script parsed: the body the pod runs, which must hold @p runs and
 * not @p not_run (NULL: anything), and a warning saying @p says at
 * @p line. */
static void expect_body(const char *script, const char *says, int line,
                        const char *runs, const char *not_run)
{
    s2r_buf b = {0};
    s2r_buf_puts(&b, script);
    s2r_job job;
    s2r_diags d;
    parse(&b, &job, &d);
    const s2r_diag *g = diag_saying(&d, says);
    assert_non_null(g);
    assert_int_equal(g->line, line);
    assert_int_equal(g->severity, S2R_SEV_WARNING);
    assert_non_null(job.run_shell);
    assert_non_null(strstr(job.run_shell, runs));
    if (not_run)
        assert_null(strstr(job.run_shell, not_run));
    s2r_job_free(&job);
    s2r_diags_clear(&d);
    free(b.p);
}

/* A quote left open runs to the end of the script: bash runs the command
 * lines before it and stops with a syntax error (exit 2), so the body the
 * pod runs is those lines and that error, with a warning at the line the
 * quote opens; the lines after it (swallowed by the quote), and a command
 * before it on its line, are not run. */
static void test_body_robust__quote_left_open(void **state)
{
    (void)state;
    const char *script = "#!/bin/bash\necho start\necho a; python t.py "
                         "--name \"x\necho done\nsrun python train.py\n";
    expect_body(script, "never closed", 3, "echo start\n", "echo a");
    expect_body(script, "never closed", 3, "exit 2\n", "train.py");
}

/* A here-document whose delimiter line never comes (here "EOF " with a
 * space) runs to the end of the script, where bash warns and goes on:
 * the pod's body is the same text with the delimiter line after it, so
 * that it ends there and not in the lines s2r adds. */
static void test_body_robust__heredoc_left_open(void **state)
{
    (void)state;
    expect_body("#!/bin/bash\necho before\ncat > c.yaml <<EOF\n"
                "lr: 1\nEOF \npython train.py",
                "never meets its end, a line of 'EOF' alone", 3,
                "EOF \npython train.py\nEOF\n", NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_body_robust__long_dropped_line),
        cmocka_unit_test(test_body_robust__eight_thousand_lines),
        cmocka_unit_test(test_body_robust__value_grown_from_itself),
        cmocka_unit_test(test_body_robust__grow),
        cmocka_unit_test(test_body_robust__quote_left_open),
        cmocka_unit_test(test_body_robust__heredoc_left_open),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
