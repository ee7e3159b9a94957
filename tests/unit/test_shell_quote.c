/* test_shell_quote.c: s2r_shell_quote() against exact text and against
 * bash itself (the quoted word must reach a program byte for byte). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <s2r/s2r.h>
#include "shell/shell.h"

static void expect_quote(const char *in, const char *want)
{
    char *q = s2r_shell_quote(in);
    assert_non_null(q);
    assert_string_equal(q, want);
    free(q);
}

static void test_shell_quote__safe_words_stay_bare(void **state)
{
    (void)state;
    expect_quote("python", "python");
    expect_quote("train.py", "train.py");
    expect_quote("--lr=1e-3", "--lr=1e-3");
    expect_quote("a_b@c%d+e=f:g,h.i/j-k", "a_b@c%d+e=f:g,h.i/j-k");
    expect_quote("nvcr.io/nvidia/pytorch:24.05-py3",
                 "nvcr.io/nvidia/pytorch:24.05-py3");
}

static void test_shell_quote__empty_and_null_are_two_quotes(void **state)
{
    (void)state;
    expect_quote("", "''");
    expect_quote(NULL, "''");
}

static void test_shell_quote__specials_are_single_quoted(void **state)
{
    (void)state;
    expect_quote("a b", "'a b'");
    expect_quote("$(rm -rf /)", "'$(rm -rf /)'");
    expect_quote("`id`", "'`id`'");
    expect_quote("a;b", "'a;b'");
    expect_quote("x\\y", "'x\\y'");
    expect_quote("line1\nline2", "'line1\nline2'");
    expect_quote("*", "'*'");
    expect_quote("~", "'~'");
    expect_quote("{a,b}", "'{a,b}'");
    expect_quote("!x", "'!x'");
    expect_quote("h\xc3\xa9llo", "'h\xc3\xa9llo'");
}

static void test_shell_quote__single_quote_is_closed_escaped_reopened(
    void **state)
{
    (void)state;
    expect_quote("it's", "'it'\\''s'");
    expect_quote("'", "''\\'''");
    expect_quote("''", "''\\'''\\'''");
}

/* Run `printf '%s\0' QUOTED...` with bash; return its stdout. */
static char *bash_printf(const char *const *words, size_t n, size_t *len)
{
    char dir[] = "/tmp/s2r-shq-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof(path), "%s/t.sh", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("printf '%s\\0'", f);
    for (size_t i = 0; i < n; i++) {
        char *q = s2r_shell_quote(words[i]);
        assert_non_null(q);
        fprintf(f, " %s", q);
        free(q);
    }
    fputs("\n", f);
    fclose(f);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "bash %s", path);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t cap = 1 << 16, got = 0;
    char *out = malloc(cap);
    assert_non_null(out);
    size_t r;
    while ((r = fread(out + got, 1, cap - got, p)) > 0) {
        got += r;
        assert_true(got < cap);
    }
    assert_int_equal(pclose(p), 0);
    unlink(path);
    rmdir(dir);
    *len = got;
    return out;
}

static void test_shell_quote__bash_reads_back_every_byte(void **state)
{
    (void)state;
    char all[256];
    for (int i = 1; i < 256; i++)
        all[i - 1] = (char)i;
    all[255] = '\0';
    const char *words[] = {
        all,
        "",
        "it's a \"test\"",
        "$(touch /tmp/s2r-pwned) `touch /tmp/s2r-pwned`; rm -rf x",
        "back\\slash\\\\ and \\n",
        "multi\nline\n",
        "\xe2\x9c\x93 \xc3\xbcnic\xc3\xb6" "de \xf0\x9f\x9a\x80",
        "*?[a-z]{1,2}~!#&|<>()",
        "'",
        "--command",
        "a=b",
    };
    size_t n = sizeof(words) / sizeof(words[0]);
    size_t len;
    char *out = bash_printf(words, n, &len);
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        size_t wl = strlen(words[i]);
        assert_true(off + wl < len + 1);
        assert_memory_equal(out + off, words[i], wl);
        assert_int_equal(out[off + wl], '\0');
        off += wl + 1;
    }
    assert_int_equal(off, len);
    assert_int_not_equal(access("/tmp/s2r-pwned", F_OK), 0);
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shell_quote__safe_words_stay_bare),
        cmocka_unit_test(test_shell_quote__empty_and_null_are_two_quotes),
        cmocka_unit_test(test_shell_quote__specials_are_single_quoted),
        cmocka_unit_test(
            test_shell_quote__single_quote_is_closed_escaped_reopened),
        cmocka_unit_test(test_shell_quote__bash_reads_back_every_byte),
    };
    return cmocka_run_group_tests_name("shell_quote", tests, NULL, NULL);
}
