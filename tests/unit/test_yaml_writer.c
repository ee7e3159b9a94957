/* test_yaml_writer.c: the YAML writer against libyaml's emitter. Both
 * get the same events (libyaml with the settings the emitters used it
 * with: indent 2, width -1, LN breaks, unicode) and must write the same
 * bytes: for fixed documents, for a list of hard strings in every style
 * and place, and for random strings and documents from a fixed seed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <yaml.h>

#include "runai/yaml_writer.h"

/* ---- a document as a list of events ------------------------------- */

enum { EV_MAP, EV_MAP_END, EV_SEQ, EV_SEQ_END, EV_SCALAR };

typedef struct event {
    int type;
    char *text;
    s2r_yaml_style style;
} event;

typedef struct doc {
    event ev[4096];
    size_t n;
} doc;

static void ev(doc *d, int type)
{
    assert_true(d->n < sizeof(d->ev) / sizeof(d->ev[0]));
    d->ev[d->n++] = (event){type, NULL, S2R_YAML_PLAIN};
}

static void sc(doc *d, const char *text, s2r_yaml_style style)
{
    assert_true(d->n < sizeof(d->ev) / sizeof(d->ev[0]));
    d->ev[d->n++] = (event){EV_SCALAR, strdup(text), style};
}

static void doc_free(doc *d)
{
    for (size_t i = 0; i < d->n; i++)
        free(d->ev[i].text);
    d->n = 0;
}

static int put_handler(void *data, unsigned char *buffer, size_t size)
{
    s2r_buf_putn(data, (const char *)buffer, size);
    return 1;
}

static yaml_scalar_style_t libyaml_style(s2r_yaml_style s)
{
    switch (s) {
    case S2R_YAML_PLAIN:
    case S2R_YAML_WORD:
        return YAML_PLAIN_SCALAR_STYLE;
    case S2R_YAML_SINGLE_QUOTED:
        return YAML_SINGLE_QUOTED_SCALAR_STYLE;
    case S2R_YAML_LITERAL:
        return YAML_LITERAL_SCALAR_STYLE;
    default:
        return YAML_DOUBLE_QUOTED_SCALAR_STYLE;
    }
}

static void lib_emit(yaml_emitter_t *em, yaml_event_t *e)
{
    assert_true(yaml_emitter_emit(em, e));
}

/* the reference: libyaml's text for D */
static char *by_libyaml(const doc *d)
{
    s2r_buf b = {0};
    yaml_emitter_t em;
    yaml_event_t e;
    assert_true(yaml_emitter_initialize(&em));
    yaml_emitter_set_output(&em, put_handler, &b);
    yaml_emitter_set_unicode(&em, 1);
    yaml_emitter_set_indent(&em, 2);
    yaml_emitter_set_width(&em, -1);
    yaml_emitter_set_break(&em, YAML_LN_BREAK);
    yaml_stream_start_event_initialize(&e, YAML_UTF8_ENCODING);
    lib_emit(&em, &e);
    yaml_document_start_event_initialize(&e, NULL, NULL, NULL, 1);
    lib_emit(&em, &e);
    for (size_t i = 0; i < d->n; i++) {
        const event *x = &d->ev[i];
        switch (x->type) {
        case EV_MAP:
            yaml_mapping_start_event_initialize(&e, NULL, NULL, 1,
                                                YAML_BLOCK_MAPPING_STYLE);
            break;
        case EV_MAP_END:
            yaml_mapping_end_event_initialize(&e);
            break;
        case EV_SEQ:
            yaml_sequence_start_event_initialize(&e, NULL, NULL, 1,
                                                 YAML_BLOCK_SEQUENCE_STYLE);
            break;
        case EV_SEQ_END:
            yaml_sequence_end_event_initialize(&e);
            break;
        default:
            assert_true(yaml_scalar_event_initialize(
                &e, NULL, NULL, (yaml_char_t *)x->text,
                (int)strlen(x->text), 1, 1, libyaml_style(x->style)));
        }
        lib_emit(&em, &e);
    }
    yaml_document_end_event_initialize(&e, 1);
    lib_emit(&em, &e);
    yaml_stream_end_event_initialize(&e);
    lib_emit(&em, &e);
    assert_true(yaml_emitter_flush(&em));
    yaml_emitter_delete(&em);
    return s2r_buf_finish(&b);
}

static char *by_writer(const doc *d)
{
    s2r_buf b = {0};
    s2r_yaml_writer w;
    s2r_yaml_writer_init(&w, &b);
    for (size_t i = 0; i < d->n; i++) {
        const event *x = &d->ev[i];
        switch (x->type) {
        case EV_MAP:
            s2r_yaml_mapping_start(&w);
            break;
        case EV_MAP_END:
            s2r_yaml_mapping_end(&w);
            break;
        case EV_SEQ:
            s2r_yaml_sequence_start(&w);
            break;
        case EV_SEQ_END:
            s2r_yaml_sequence_end(&w);
            break;
        default:
            s2r_yaml_scalar_str(&w, x->text, x->style);
        }
    }
    assert_int_equal(s2r_yaml_writer_end(&w), S2R_OK);
    return s2r_buf_finish(&b);
}

static void assert_same(const doc *d)
{
    char *want = by_libyaml(d), *got = by_writer(d);
    if (strcmp(want, got) != 0)
        fail_msg("libyaml:\n%s\nwriter:\n%s", want, got);
    free(want);
    free(got);
}

/* ---- hard strings in every style and place ------------------------ */

static const char *const hard[] = {
    "", "a", "plain words", "0", "-1", "yes", "true", "null", "~", "- x",
    "-x", "--- x", "---", "...", "? q", "?q", ": c", ":c", "a: b", "a:b",
    "a:", "a #b", "a#b", "#c", ",x", "x,y", "[1]", "{a: 1}", "*ref", "&a",
    "!tag", "|", ">", "'q'", "\"dq\"", "%x", "@x", "`x", "x\ty", "\tx",
    "back\\slash", " lead", "trail ", "  ", "multi\nline", "multi\nline\n",
    "multi\nline\n\n", "\n", "\n\n", "\nlead break", "x\n y", "x \ny",
    "x\n\ny", "a\rb", "a\r\nb", "caf\xc3\xa9", "nb\xc2\xa0sp",
    "nel\xc2\x85x", "c1\xc2\x80x", "ls\xe2\x80\xa8x", "ps\xe2\x80\xa9x",
    "bom\xef\xbb\xbfx", "\xef\xbb\xbf", "fffe\xef\xbf\xbex",
    "feff-near\xef\xbb\xbe", "smile\xf0\x9f\x98\x80", "pua\xee\x80\x80",
    "d7ff\xed\x9f\xbf", "tab\tend\n", "line1\nline2 ", "x\x01y", "x\x7fy",
    "x\x1by", "\xe2\x80\xa8", "a\xe2\x80\xa8\xe2\x80\xa8", " \n", "k\n ",
    "if [ -f x ]; then\n  echo \"y\" # c\nfi",
    "0123456789012345678901234567890123456789012345678901234567890123456789"
    "0123456789012345678901234567890123456789012345678901234567890123456789",
    NULL};

static const s2r_yaml_style styles[] = {S2R_YAML_PLAIN,
                                        S2R_YAML_SINGLE_QUOTED,
                                        S2R_YAML_DOUBLE_QUOTED,
                                        S2R_YAML_LITERAL};

static void test_yaml_writer__hard_strings_everywhere(void **state)
{
    (void)state;
    for (size_t i = 0; hard[i]; i++)
        for (size_t s = 0; s < 4; s++) {
            doc d = {.n = 0};
            /* as a key, a value, in a sequence in a mapping, in a
             * sequence in a sequence, in a mapping in a sequence */
            ev(&d, EV_MAP);
            sc(&d, hard[i], styles[s]);
            sc(&d, hard[i], styles[s]);
            sc(&d, "k", S2R_YAML_PLAIN);
            ev(&d, EV_SEQ);
            sc(&d, hard[i], styles[s]);
            ev(&d, EV_SEQ);
            sc(&d, hard[i], styles[s]);
            sc(&d, hard[i], styles[s]);
            ev(&d, EV_SEQ_END);
            ev(&d, EV_MAP);
            sc(&d, "in", S2R_YAML_PLAIN);
            sc(&d, hard[i], styles[s]);
            ev(&d, EV_MAP_END);
            ev(&d, EV_SEQ_END);
            sc(&d, "last", S2R_YAML_PLAIN);
            sc(&d, hard[i], styles[s]);
            ev(&d, EV_MAP_END);
            assert_same(&d);
            doc_free(&d);
            /* alone at the root */
            sc(&d, hard[i], styles[s]);
            assert_same(&d);
            doc_free(&d);
        }
}

static void test_yaml_writer__empty_collections_are_flow(void **state)
{
    (void)state;
    doc d = {.n = 0};
    ev(&d, EV_MAP);
    sc(&d, "m", S2R_YAML_PLAIN);
    ev(&d, EV_MAP);
    ev(&d, EV_MAP_END);
    sc(&d, "s", S2R_YAML_PLAIN);
    ev(&d, EV_SEQ);
    ev(&d, EV_SEQ_END);
    sc(&d, "l", S2R_YAML_PLAIN);
    ev(&d, EV_SEQ);
    ev(&d, EV_MAP);
    ev(&d, EV_MAP_END);
    ev(&d, EV_SEQ);
    ev(&d, EV_SEQ_END);
    ev(&d, EV_SEQ);
    ev(&d, EV_SEQ);
    sc(&d, "deep", S2R_YAML_PLAIN);
    ev(&d, EV_SEQ_END);
    ev(&d, EV_SEQ_END);
    ev(&d, EV_SEQ_END);
    ev(&d, EV_MAP_END);
    assert_same(&d);
    doc_free(&d);
    ev(&d, EV_MAP);
    ev(&d, EV_MAP_END);
    assert_same(&d);
    doc_free(&d);
}

/* ---- indents past the writer's 32 spaces at hand -------------------- */

static void test_yaml_writer__deep_indents(void **state)
{
    (void)state;
    doc d = {.n = 0};
    for (int i = 0; i < 24; i++) {
        ev(&d, EV_MAP);
        sc(&d, "k", S2R_YAML_PLAIN);
        sc(&d, "v", S2R_YAML_PLAIN);
        sc(&d, "text", S2R_YAML_PLAIN);
        sc(&d, "two\nlines", S2R_YAML_LITERAL);
        sc(&d, "in", S2R_YAML_WORD);
    }
    ev(&d, EV_SEQ);
    sc(&d, "last", S2R_YAML_PLAIN);
    ev(&d, EV_SEQ_END);
    for (int i = 0; i < 24; i++)
        ev(&d, EV_MAP_END);
    assert_same(&d);
    doc_free(&d);
}

/* ---- a special character at every offset of text ------------------ */

/* The scan takes text 8 bytes at a time up to the first byte that stops
 * it and reads the last 8 bytes again: a character that matters at each
 * offset of runs of every length around 8 and 16, the text plain words
 * or words and spaces, in every style as a key and as a value. */
static void test_yaml_writer__specials_at_every_offset(void **state)
{
    (void)state;
    static const char *const specials[] = {
        ":", ": ", "#", " #", " ", "  ", "\n", " \n", "\n ", "\t", "\r",
        "\x01", "\x7f", "\xc3\xa9", "\xc2\x85", "\xe2\x80\xa8",
        "\xef\xbb\xbf", "\xf0\x9f\x98\x80", "-", "'", "\"", NULL};
    static const char *const texts[] = {"abcdefghijklmnopqrstuvwxyz",
                                        "ab cd ef gh ij kl mn op qr st"};
    char t[64];
    for (size_t x = 0; x < 2; x++)
        for (size_t len = 1; len <= 20; len++)
            for (size_t k = 0; specials[k]; k++)
                for (size_t at = 0; at <= len; at++) {
                    size_t sl = strlen(specials[k]);
                    memcpy(t, texts[x], at);
                    memcpy(t + at, specials[k], sl);
                    memcpy(t + at + sl, texts[x] + at, len - at);
                    t[len + sl] = '\0';
                    for (size_t s = 0; s < 4; s++) {
                        doc d = {.n = 0};
                        ev(&d, EV_MAP);
                        sc(&d, t, styles[s]);
                        sc(&d, t, styles[s]);
                        ev(&d, EV_MAP_END);
                        assert_same(&d);
                        doc_free(&d);
                    }
                }
}

/* ---- random documents ---------------------------------------------- */

static uint64_t rng = 0x5eed2026u;

static uint32_t rnd(uint32_t n)
{
    rng = rng * 6364136223846793005u + 1442695040888963407u;
    return (uint32_t)(rng >> 33) % n;
}

static const char *const pieces[] = {
    "a", "b", "z", "0", "7", " ", " ", "\t", "\n", "\n", "\r", ":", "#",
    "-", "?", ",", "[", "]", "{", "}", "'", "\"", "\\", "|", ">", "!", "&",
    "*", "%", "@", "`", ".", "/", "=", "~", "\xc3\xa9", "\xc2\xa0",
    "\xc2\x85", "\xc2\x80", "\xe2\x80\xa8", "\xe2\x80\xa9", "\xef\xbb\xbf",
    "\xef\xbf\xbe", "\xf0\x9f\x98\x80", "\xee\x80\x80", "\xed\x9f\xbf",
    "\x01", "\x1b", "\x7f", "---", "...", "- ", ": ", " #"};

static void random_text(char *out, size_t room)
{
    size_t n = rnd(12), len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        const char *p = pieces[rnd(sizeof(pieces) / sizeof(pieces[0]))];
        size_t l = strlen(p);
        if (len + l + 1 > room)
            break;
        memcpy(out + len, p, l + 1);
        len += l;
    }
}

static void random_scalar(doc *d)
{
    char text[128];
    random_text(text, sizeof(text));
    s2r_yaml_style style = styles[rnd(4)];
    /* every other plain word as a word, the writer's shortcut */
    if (style == S2R_YAML_PLAIN && d->n % 2 &&
        s2r_yaml_is_word(text, strlen(text)))
        style = S2R_YAML_WORD;
    sc(d, text, style);
}

static void random_node(doc *d, int depth)
{
    uint32_t k = depth > 4 ? 0 : rnd(4);
    if (k <= 1) {
        random_scalar(d);
        return;
    }
    size_t n = rnd(4);
    if (k == 2) {
        ev(d, EV_MAP);
        for (size_t i = 0; i < n; i++) {
            random_scalar(d); /* keys are scalars */
            random_node(d, depth + 1);
        }
        ev(d, EV_MAP_END);
    } else {
        ev(d, EV_SEQ);
        for (size_t i = 0; i < n; i++)
            random_node(d, depth + 1);
        ev(d, EV_SEQ_END);
    }
}

static void test_yaml_writer__random_documents(void **state)
{
    (void)state;
    static doc d;
    for (int i = 0; i < 20000; i++) {
        d.n = 0;
        random_node(&d, 0);
        assert_same(&d);
        doc_free(&d);
    }
}

/* ---- misuse ---------------------------------------------------------- */

static void test_yaml_writer__unbalanced_events_fail(void **state)
{
    (void)state;
    s2r_buf b = {0};
    s2r_yaml_writer w;
    s2r_yaml_writer_init(&w, &b);
    s2r_yaml_mapping_start(&w);
    s2r_yaml_scalar_str(&w, "k", S2R_YAML_PLAIN);
    assert_int_equal(s2r_yaml_writer_end(&w), S2R_EINVAL);
    s2r_buf_free(&b);

    s2r_yaml_writer_init(&w, &b);
    s2r_yaml_mapping_start(&w);
    s2r_yaml_sequence_start(&w); /* a collection as a key */
    s2r_yaml_sequence_end(&w);
    s2r_yaml_scalar_str(&w, "v", S2R_YAML_PLAIN);
    s2r_yaml_mapping_end(&w);
    assert_int_equal(s2r_yaml_writer_end(&w), S2R_EINVAL);
    s2r_buf_free(&b);

    s2r_yaml_writer_init(&w, &b);
    s2r_yaml_sequence_start(&w);
    s2r_yaml_mapping_end(&w);
    assert_int_equal(s2r_yaml_writer_end(&w), S2R_EINVAL);
    s2r_buf_free(&b);

    s2r_yaml_writer_init(&w, &b);
    for (int i = 0; i <= S2R_YAML_MAX_DEPTH; i++) {
        s2r_yaml_sequence_start(&w);
        s2r_yaml_scalar_str(&w, "x", S2R_YAML_PLAIN);
    }
    assert_int_equal(s2r_yaml_writer_end(&w), S2R_EINVAL);
    s2r_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_yaml_writer__hard_strings_everywhere),
        cmocka_unit_test(test_yaml_writer__empty_collections_are_flow),
        cmocka_unit_test(test_yaml_writer__specials_at_every_offset),
        cmocka_unit_test(test_yaml_writer__deep_indents),
        cmocka_unit_test(test_yaml_writer__random_documents),
        cmocka_unit_test(test_yaml_writer__unbalanced_events_fail),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
