/* test_shell_lex.c: sh_lex() (core/shell/lex.c): words of plain bytes
 * (scanned in one pass) against words with quotes, escapes, expansions,
 * globs, ~ or NAME=( (scanned piece by piece), line numbers kept as the
 * lexer passes newlines, reserved words, NAME= words, bodies larger than
 * the lexer's first room, nesting deeper than the C stack would hold,
 * quotes and here-documents left open,
 * and sh_word_render() of the words. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <s2r/s2r.h>
#include "shell/shell.h"

static sh_body lex(const char *src)
{
    sh_body b;
    assert_int_equal(sh_lex(&b, src, strlen(src), 1), 0);
    return b;
}

/* the word @p k of command @p c of statement @p s */
static const sh_word *word(const sh_body *b, size_t s, size_t c, size_t k)
{
    assert_true(s < b->n);
    assert_true(c < b->stmts[s].ncmds);
    assert_true(k < b->stmts[s].cmds[c].nwords);
    return &b->stmts[s].cmds[c].words[k];
}

static void expect_seg(const sh_word *w, size_t k, sh_seg_type t,
                       const char *text)
{
    assert_true(k < w->nsegs);
    assert_int_equal(w->segs[k].type, t);
    assert_string_equal(w->segs[k].text, text);
}

static void expect_render(const sh_word *w, const char *want)
{
    char *r = sh_word_render(w);
    assert_non_null(r);
    assert_string_equal(r, want);
    free(r);
}

static void test_shell_lex__plain_words_are_one_literal_segment(void **state)
{
    (void)state;
    sh_body b = lex("python train.py --lr=0.1 a,b:c@d%e+f/g\n");
    assert_int_equal(b.n, 1);
    assert_int_equal(b.stmts[0].ncmds, 1);
    assert_int_equal(b.stmts[0].cmds[0].nwords, 4);
    const char *want[] = {"python", "train.py", "--lr=0.1",
                          "a,b:c@d%e+f/g"};
    size_t at = 0;
    for (size_t k = 0; k < 4; k++) {
        const sh_word *w = word(&b, 0, 0, k);
        assert_string_equal(w->value, want[k]);
        assert_true(w->literal);
        assert_int_equal(w->nsegs, 1);
        expect_seg(w, 0, SH_SEG_LIT, want[k]);
        assert_int_equal(w->start, at);
        assert_int_equal(w->end, at + strlen(want[k]));
        assert_int_equal(w->line, 1);
        expect_render(w, want[k]);
        at = w->end + 1;
    }
    sh_body_free(&b);
}

/* A word that ends the text is read up to the length given, not to a
 * NUL. */
static void test_shell_lex__a_word_ends_with_the_text(void **state)
{
    (void)state;
    const char src[] = "echo abcXYZ";
    sh_body b;
    assert_int_equal(sh_lex(&b, src, 8, 1), 0);
    const sh_word *w = word(&b, 0, 0, 1);
    assert_string_equal(w->value, "abc");
    assert_int_equal(w->end, 8);
    assert_int_equal(b.stmts[0].end, 8);
    sh_body_free(&b);
}

static void test_shell_lex__words_in_pieces(void **state)
{
    (void)state;
    sh_body b = lex("~/x x* a=(b c) a'b c'd \"$x\"y $HOME/x a\\ b "
                    "n=$'\\t' --ip=\"$node\" 'it'\\''s'\n");
    const sh_word *w = word(&b, 0, 0, 0); /* ~/x */
    assert_false(w->literal);
    assert_int_equal(w->nsegs, 1);
    expect_seg(w, 0, SH_SEG_UNQ, "~/x");
    w = word(&b, 0, 0, 1); /* x*: a literal prefix, then the glob raw */
    assert_string_equal(w->value, "x*");
    assert_int_equal(w->nsegs, 2);
    expect_seg(w, 0, SH_SEG_LIT, "x");
    expect_seg(w, 1, SH_SEG_UNQ, "*");
    w = word(&b, 0, 0, 2); /* an array assignment is one word */
    assert_string_equal(w->value, "a=(b c)");
    assert_int_equal(w->nsegs, 2);
    expect_seg(w, 0, SH_SEG_LIT, "a=");
    expect_seg(w, 1, SH_SEG_UNQ, "(b c)");
    w = word(&b, 0, 0, 3); /* quoted pieces merge into one literal */
    assert_string_equal(w->value, "ab cd");
    assert_true(w->literal);
    assert_int_equal(w->nsegs, 1);
    expect_seg(w, 0, SH_SEG_LIT, "ab cd");
    expect_render(w, "'ab cd'");
    w = word(&b, 0, 0, 4);
    assert_string_equal(w->value, "$xy");
    assert_int_equal(w->nsegs, 2);
    expect_seg(w, 0, SH_SEG_DQ, "$x");
    expect_seg(w, 1, SH_SEG_LIT, "y");
    expect_render(w, "\"$xy\"");
    w = word(&b, 0, 0, 5);
    assert_false(w->literal);
    expect_seg(w, 0, SH_SEG_UNQ, "$HOME/x");
    expect_render(w, "$HOME/x");
    w = word(&b, 0, 0, 6); /* an escaped blank */
    assert_string_equal(w->value, "a b");
    assert_true(w->literal);
    expect_seg(w, 0, SH_SEG_LIT, "a b");
    w = word(&b, 0, 0, 7);
    assert_string_equal(w->value, "n=$'\\t'");
    expect_seg(w, 0, SH_SEG_LIT, "n=");
    expect_seg(w, 1, SH_SEG_UNQ, "$'\\t'");
    w = word(&b, 0, 0, 8);
    expect_render(w, "\"--ip=$node\"");
    w = word(&b, 0, 0, 9);
    assert_string_equal(w->value, "it's");
    expect_render(w, "\"it's\"");
    sh_body_free(&b);
}

static void test_shell_lex__lines(void **state)
{
    (void)state;
    const char *src = "a\n"
                      "b \\\n"
                      " c\n"
                      "# comment\n"
                      "d 'x\n"
                      "y' e\n"
                      "cat <<EOF\n"
                      "body\n"
                      "EOF\n"
                      "f $(g\n"
                      "h) i ; j\n";
    sh_body b;
    assert_int_equal(sh_lex(&b, src, strlen(src), 10), 0);
    assert_int_equal(b.n, 6);
    assert_int_equal(b.stmts[0].line, 10);
    assert_int_equal(b.stmts[0].end_line, 10);
    assert_int_equal(word(&b, 1, 0, 0)->line, 11);
    assert_int_equal(word(&b, 1, 0, 1)->line, 12); /* after \newline */
    assert_int_equal(b.stmts[1].line, 11);
    assert_int_equal(b.stmts[1].end_line, 12);
    assert_int_equal(word(&b, 2, 0, 1)->line, 14);
    assert_string_equal(word(&b, 2, 0, 1)->value, "x\ny");
    assert_int_equal(word(&b, 2, 0, 2)->line, 15);
    assert_int_equal(b.stmts[2].end_line, 15);
    assert_int_equal(b.stmts[3].line, 16); /* cat <<EOF */
    assert_true(b.stmts[3].cmds[0].has_heredoc);
    assert_int_equal(b.stmts[3].end_line, 18);
    assert_int_equal(word(&b, 4, 0, 0)->line, 19);
    assert_int_equal(word(&b, 4, 0, 2)->line, 20); /* after $(g\nh) */
    assert_int_equal(b.stmts[4].end_line, 20);
    assert_int_equal(b.stmts[5].line, 20); /* j */
    sh_body_free(&b);
}

/* Reserved words in command position open, go on with or close a
 * compound statement (kept whole); elsewhere they are words. */
static void test_shell_lex__reserved_words(void **state)
{
    (void)state;
    sh_body b = lex("if true; then x; elif y; then z; else w; fi\n"
                    "case x in a) y;; esac\n"
                    "until a; do b; done\n"
                    "for i in a b; do c; done\n"
                    "! x\n"
                    "echo if then done function\n"
                    "done2 x\n"
                    "function\n");
    assert_int_equal(b.n, 8);
    assert_true(b.stmts[0].compound);
    assert_int_equal(b.stmts[0].ncmds, 5);
    assert_string_equal(word(&b, 0, 4, 0)->value, "w");
    assert_true(b.stmts[1].compound);
    assert_int_equal(b.stmts[1].ncmds, 2);
    assert_int_equal(b.stmts[1].cmds[0].nwords, 3); /* x in a */
    assert_true(b.stmts[2].compound);
    assert_true(b.stmts[3].compound);
    assert_int_equal(b.stmts[3].cmds[0].nwords, 4); /* i in a b */
    assert_false(b.stmts[4].compound);
    assert_int_equal(b.stmts[4].cmds[0].nwords, 1); /* ! is no word */
    assert_false(b.stmts[5].compound);
    assert_int_equal(b.stmts[5].cmds[0].nwords, 5);
    assert_false(b.stmts[6].compound);
    assert_string_equal(word(&b, 6, 0, 0)->value, "done2");
    assert_true(b.stmts[7].compound); /* function */
    assert_int_equal(b.stmts[7].ncmds, 0);
    sh_body_free(&b);
}

/* { and } are reserved words though their byte starts a brace expansion,
 * and a compound command after && or || makes its statement compound */
static void test_shell_lex__groups(void **state)
{
    (void)state;
    sh_body b = lex("{ x; y; }\n"
                    "a || { echo no; exit 1; }\n"
                    "b && if c; then d; fi\n"
                    "echo { } {a,b}\n");
    assert_int_equal(b.n, 4);
    assert_true(b.stmts[0].compound);
    assert_string_equal(word(&b, 0, 0, 0)->value, "x");
    assert_true(b.stmts[1].compound);
    assert_string_equal(word(&b, 1, 1, 0)->value, "echo");
    assert_true(b.stmts[2].compound);
    assert_false(b.stmts[3].compound);
    assert_int_equal(b.stmts[3].cmds[0].nwords, 4);
    sh_body_free(&b);
}

static void test_shell_lex__assignments(void **state)
{
    (void)state;
    sh_body b = lex("A=1 _b+=2 C9=x cmd D=3\n"
                    "1A=x 'E'=y F+x=1 =z -G=1 x\n");
    const sh_cmd *c = &b.stmts[0].cmds[0];
    assert_int_equal(sh_cmd_first_arg(c), 3);
    assert_true(sh_word_is_assignment(&c->words[4])); /* D=3, an arg */
    c = &b.stmts[1].cmds[0];
    assert_int_equal(sh_cmd_first_arg(c), 0);
    assert_true(sh_word_is_assignment(&c->words[1])); /* quotes pass */
    assert_false(sh_word_is_assignment(&c->words[2]));
    assert_false(sh_word_is_assignment(&c->words[3]));
    assert_false(sh_word_is_assignment(&c->words[4]));
    sh_body_free(&b);
    /* the lexer's count agrees with the words': assignments only, or
     * up to the first other word of each command of a statement */
    b = lex("A=1 B+=2\nx=1 | y Z=2 && W=1 w\n");
    c = &b.stmts[0].cmds[0];
    assert_int_equal(sh_cmd_first_arg(c), 2);
    for (size_t k = 0; k < 3; k++) {
        c = &b.stmts[1].cmds[k];
        size_t i = 0;
        while (i < c->nwords && sh_word_is_assignment(&c->words[i]))
            i++;
        assert_int_equal(sh_cmd_first_arg(c), i);
    }
    assert_int_equal(sh_cmd_first_arg(&b.stmts[1].cmds[0]), 1);
    assert_int_equal(sh_cmd_first_arg(&b.stmts[1].cmds[1]), 0);
    assert_int_equal(sh_cmd_first_arg(&b.stmts[1].cmds[2]), 1);
    sh_body_free(&b);
}

/* More words, commands and statements than the lexer's first room. */
static void test_shell_lex__large_bodies(void **state)
{
    (void)state;
    s2r_buf src = {0};
    for (int k = 0; k < 100; k++)
        s2r_buf_printf(&src, "w%d \"$x%d\" ", k, k);
    s2r_buf_puts(&src, "\n");
    for (int k = 0; k < 40; k++)
        s2r_buf_printf(&src, "a%d | b%d && ", k, k);
    s2r_buf_puts(&src, "z\n");
    for (int k = 0; k < 50; k++)
        s2r_buf_printf(&src, "echo %d\n", k);
    assert_false(src.oom);
    sh_body b;
    assert_int_equal(sh_lex(&b, src.p, src.len, 1), 0);
    assert_int_equal(b.n, 52);
    assert_int_equal(b.stmts[0].cmds[0].nwords, 200);
    for (size_t k = 0; k < 200; k += 2) {
        char want[16];
        snprintf(want, sizeof(want), "w%zu", k / 2);
        assert_string_equal(word(&b, 0, 0, k)->value, want);
        snprintf(want, sizeof(want), "$x%zu", k / 2);
        assert_string_equal(word(&b, 0, 0, k + 1)->value, want);
    }
    assert_int_equal(b.stmts[1].ncmds, 81);
    assert_true(b.stmts[1].pipeline);
    assert_string_equal(word(&b, 1, 80, 0)->value, "z");
    for (size_t k = 0; k < 50; k++) {
        char want[16];
        snprintf(want, sizeof(want), "%zu", k);
        assert_string_equal(word(&b, 2 + k, 0, 1)->value, want);
        assert_int_equal(b.stmts[2 + k].line, (int)(3 + k));
    }
    sh_body_free(&b);
    s2r_buf_free(&src);
}

/* Expansions and quotes nested far deeper than any script (here 200,000
 * levels of "$( and ${, closed or not) are read to their end like any
 * other word: the nesting is a stack in memory, not the C stack. */
static void test_shell_lex__deep_nesting(void **state)
{
    (void)state;
    enum { DEEP = 200000 };
    s2r_buf src = {0};
    s2r_buf_puts(&src, "echo a");
    for (int k = 0; k < DEEP; k++)
        s2r_buf_puts(&src, k % 2 ? "\"$(" : "${");
    s2r_buf_puts(&src, "x");
    for (int k = DEEP - 1; k >= 0; k--)
        s2r_buf_puts(&src, k % 2 ? ")\"" : "}");
    s2r_buf_puts(&src, " b\necho ");
    for (int k = 0; k < DEEP; k++)
        s2r_buf_puts(&src, "$(");
    s2r_buf_puts(&src, "\nnot a command\n");
    assert_false(src.oom);
    sh_body b;
    assert_int_equal(sh_lex(&b, src.p, src.len, 1), 0);
    assert_int_equal(b.n, 2);
    assert_int_equal(b.stmts[0].cmds[0].nwords, 3);
    assert_string_equal(word(&b, 0, 0, 2)->value, "b");
    /* unclosed: the rest of the text is the word, as for a quote */
    assert_int_equal(b.stmts[1].cmds[0].nwords, 2);
    assert_int_equal(b.stmts[1].line, 2);
    sh_body_free(&b);
    s2r_buf_free(&src);
}

/* open_line: the line of the word in which a quote or expansion runs to
 * the end of the text; 0 when every one closes. */
static void test_shell_lex__open_line(void **state)
{
    (void)state;
    static const struct {
        const char *src;
        int line;
    } cases[] = {
        {"echo \"a\" 'b' $(c) ${d} `e` f=(g)\n", 0},
        {"echo \\\" \\' \\`\n", 0},
        {"echo 'it'\\''s'\n", 0},
        {"echo 'it\\'s'\n", 1}, /* no escape in '...': the last ' opens */
        {"a\necho \"x\ny\n", 2},
        {"a\nb\necho 'x\n", 3},
        {"echo $(date\n", 1},
        {"echo ${x\n", 1},
        {"echo `date\n", 1},
        {"echo \"$(date)\n", 1},
        {"echo \"$(echo \")\")\"\n", 0},
        {"echo $'x\n", 1},
        {"x=(a b\n", 1},
        {"cat <<EOF\nit's\nEOF\n", 0},
        {"# it's\n", 0},
    };
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        sh_body b = lex(cases[k].src);
        if (b.open_line != cases[k].line)
            fail_msg("case %zu: open_line %d, want %d", k, b.open_line,
                     cases[k].line);
        sh_body_free(&b);
    }
}

/* A here-document the text ends in: its line, and the delimiter lines
 * that would end it and those after it on its line. */
static void test_shell_lex__heredoc_left_open(void **state)
{
    (void)state;
    sh_body b = lex("a\ncat <<EOF; cat <<'END'\nx\nEOF \n");
    assert_int_equal(b.heredoc_line, 2);
    assert_string_equal(b.heredoc_close, "EOF\nEND\n");
    assert_int_equal(b.open_line, 0);
    sh_body_free(&b);
    b = lex("cat <<EOF; cat <<-END\nx\nEOF\n\tEND\necho\n");
    assert_int_equal(b.heredoc_line, 0);
    assert_null(b.heredoc_close);
    sh_body_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shell_lex__plain_words_are_one_literal_segment),
        cmocka_unit_test(test_shell_lex__a_word_ends_with_the_text),
        cmocka_unit_test(test_shell_lex__words_in_pieces),
        cmocka_unit_test(test_shell_lex__lines),
        cmocka_unit_test(test_shell_lex__reserved_words),
        cmocka_unit_test(test_shell_lex__groups),
        cmocka_unit_test(test_shell_lex__assignments),
        cmocka_unit_test(test_shell_lex__large_bodies),
        cmocka_unit_test(test_shell_lex__deep_nesting),
        cmocka_unit_test(test_shell_lex__open_line),
        cmocka_unit_test(test_shell_lex__heredoc_left_open),
    };
    return cmocka_run_group_tests_name("shell_lex", tests, NULL, NULL);
}
