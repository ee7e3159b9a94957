/* test_body_words.c: the rewritten command's words written for a shell
 * (s2r_body__ow_render, core/body/rewrite.c): source words exactly as
 * sh_word_render() writes them (plain literals copied as they are),
 * synthetic words as s2r_shell_quote() quotes them, raw ones as given. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "body/analysis.h"

/* every word of @p line, rendered one by one, against ow_render */
static void same_as_render(const char *line)
{
    sh_body b;
    assert_int_equal(sh_lex(&b, line, strlen(line), 1), 0);
    assert_int_equal(b.n, 1);
    const sh_cmd *cm = &b.stmts[0].cmds[0];
    owords o = {0};
    s2r_buf want = {0};
    for (size_t i = 0; i < cm->nwords; i++) {
        s2r_body__ow_push(&o, &cm->words[i], NULL, false);
        char *r = sh_word_render(&cm->words[i]);
        assert_non_null(r);
        if (i)
            s2r_buf_puts(&want, " ");
        s2r_buf_puts(&want, r);
        free(r);
    }
    s2r_buf got = {0};
    s2r_body__ow_render(&got, &o);
    assert_false(got.oom || o.oom || want.oom);
    assert_string_equal(got.p ? got.p : "", want.p ? want.p : "");
    s2r_buf_free(&got);
    s2r_buf_free(&want);
    s2r_body__ow_free(&o);
    sh_body_free(&b);
}

static void test_words__source_words_as_rendered(void **state)
{
    (void)state;
    static const char *const lines[] = {
        "python train.py --lr=0.1 --data /d/x,y:z@host%j +a -b_c",
        "echo '' \"\" 'a b' \"it's\" 'say \"hi\"' a\\ b",
        "run ~ ~/x *.py a?b [ab] {a,b} x=~/y",
        "run $HOME ${X:-/a} \"$Y\" \"--ip=$node\" pre\"$z\"post '$lit'",
        "run caf\xc3\xa9 tab\tword 'new\nline' \\$ \\\\",
        "run a#b -- --- = , . / : @ % +",
    };
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
        same_as_render(lines[i]);
}

static void test_words__synthetic_words_quoted(void **state)
{
    (void)state;
    static const char *const words[] = {"plain", "", "a b", "it's",
                                        "$X", "--np=4", "caf\xc3\xa9"};
    owords o = {0};
    s2r_buf want = {0};
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        s2r_body__ow_push(&o, NULL, words[i], false);
        char *q = s2r_shell_quote(words[i]);
        assert_non_null(q);
        if (i)
            s2r_buf_puts(&want, " ");
        s2r_buf_puts(&want, q);
        free(q);
    }
    s2r_body__ow_push(&o, NULL, "\"$RAW\" x", true);
    s2r_buf_puts(&want, " \"$RAW\" x");
    s2r_buf got = {0};
    s2r_body__ow_render(&got, &o);
    assert_string_equal(got.p, want.p);
    s2r_buf_free(&got);
    s2r_buf_free(&want);
    s2r_body__ow_free(&o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_words__source_words_as_rendered),
        cmocka_unit_test(test_words__synthetic_words_quoted),
    };
    return cmocka_run_group_tests_name("body_words", tests, NULL, NULL);
}
