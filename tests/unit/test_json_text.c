/* test_json_text.c: s2r_json_put_string() writes the bytes json-c writes
 * for the same string (JSON_C_TO_STRING_PLAIN | NOSLASHESCAPE): every
 * byte value alone and at every offset of two 16-byte blocks, and random
 * strings from a fixed seed. s2r_json_writer writes the bytes json-c's
 * pretty printer (PRETTY | SPACED | NOSLASHESCAPE) writes for the same
 * tree: random trees from a fixed seed, and its misuse fails. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <json-c/json.h>

#include "base/base.h"

static void assert_like_json_c(const char *s, size_t len)
{
    json_object *o = json_object_new_string_len(s, (int)len);
    assert_non_null(o);
    size_t want_len = 0;
    const char *want = json_object_to_json_string_length(
        o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
        &want_len);
    s2r_buf b = {0};
    s2r_json_put_string(&b, s, len);
    assert_false(b.oom);
    assert_int_equal(b.len, want_len);
    assert_memory_equal(b.p, want, want_len);
    s2r_buf_free(&b);
    json_object_put(o);
}

static void test_json_text__every_byte_everywhere(void **state)
{
    (void)state;
    for (int c = 1; c < 256; c++)
        for (size_t at = 0; at < 39; at++) {
            char s[40];
            memset(s, 'a', sizeof(s));
            s[at] = (char)c;
            assert_like_json_c(s, at + 1);
            assert_like_json_c(s, sizeof(s));
        }
    assert_like_json_c("", 0);
}

static void test_json_text__random_strings(void **state)
{
    (void)state;
    static const char alphabet[] = "ab/\"\\\n\r\t\b\f\x01\x1f\x7f \xc3\xa9"
                                   "\xe2\x80\xa8{}:,";
    uint64_t rng = 20261205u;
    char s[128];
    for (int i = 0; i < 20000; i++) {
        rng = rng * 6364136223846793005u + 1442695040888963407u;
        size_t len = (size_t)(rng >> 58) + (size_t)(rng >> 62) * 20;
        for (size_t k = 0; k < len; k++) {
            rng = rng * 6364136223846793005u + 1442695040888963407u;
            s[k] = alphabet[(rng >> 33) % (sizeof(alphabet) - 1)];
        }
        assert_like_json_c(s, len);
    }
}

/* escapes that outgrow the room made for the bytes as they are, after
 * text already in the buffer: the string lands after it, whole */
static void test_json_text__escapes_grow_the_buffer(void **state)
{
    (void)state;
    for (size_t len = 0; len < 300; len += 7)
        for (size_t plain = 0; plain < 3; plain++) {
            char s[300];
            for (size_t k = 0; k < len; k++)
                s[k] = k % 3 < plain ? 'x' : (char)(k % 2 ? 0x01 : '\n');
            s2r_buf b = {0};
            s2r_buf_putn(&b, "head:", 5);
            b.cap = b.len + len + 3; /* as if exactly len + 2 were free */
            b.p = realloc(b.p, b.cap);
            assert_non_null(b.p);
            s2r_json_put_string(&b, s, len);
            assert_false(b.oom);
            assert_memory_equal(b.p, "head:", 5);
            json_object *o = json_object_new_string_len(s, (int)len);
            size_t want_len = 0;
            const char *want = json_object_to_json_string_length(
                o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
                &want_len);
            assert_int_equal(b.len, 5 + want_len);
            assert_memory_equal(b.p + 5, want, want_len);
            assert_int_equal(b.p[b.len], '\0');
            json_object_put(o);
            s2r_buf_free(&b);
        }
}

static uint64_t next(uint64_t *rng)
{
    *rng = *rng * 6364136223846793005u + 1442695040888963407u;
    return *rng >> 33;
}

/* a random string of up to 12 characters, some to escape */
static size_t random_text(uint64_t *rng, char *s)
{
    static const char alphabet[] = "ab z/\"\\\n\t\x01\x7f\xc3\xa9:{[";
    size_t len = next(rng) % 13;
    for (size_t k = 0; k < len; k++)
        s[k] = alphabet[next(rng) % (sizeof(alphabet) - 1)];
    s[len] = '\0';
    return len;
}

/* A random value, built as a json-c tree and written with @p w at once;
 * collections up to depth 5, keys distinct. */
static json_object *random_value(uint64_t *rng, s2r_json_writer *w,
                                 int depth)
{
    char s[16];
    switch (next(rng) % (depth < 5 ? 6 : 3)) {
    case 0: {
        size_t len = random_text(rng, s);
        s2r_json_string(w, s, len);
        return json_object_new_string_len(s, (int)len);
    }
    case 1: {
        static const int64_t edge[] = {0, -1, 1, INT64_MIN, INT64_MAX, 42};
        int64_t v = next(rng) % 2 ? (int64_t)(next(rng) << 31 ^ next(rng)) -
                                        (int64_t)(1u << 30)
                                  : edge[next(rng) % 6];
        s2r_json_int(w, v);
        return json_object_new_int64(v);
    }
    case 2: {
        bool b = next(rng) % 2;
        s2r_json_bool(w, b);
        return json_object_new_boolean(b);
    }
    default: {
        bool object = next(rng) % 2;
        json_object *c =
            object ? json_object_new_object() : json_object_new_array();
        s2r_json_begin(w, object);
        size_t n = next(rng) % 5;
        for (size_t i = 0; i < n; i++) {
            if (object) {
                char k[24];
                int kl = snprintf(k, sizeof(k), "%zu", i);
                kl += (int)random_text(rng, k + kl);
                s2r_json_key(w, k, (size_t)kl);
                json_object_object_add(c, k, random_value(rng, w, depth + 1));
            } else {
                json_object_array_add(c, random_value(rng, w, depth + 1));
            }
        }
        s2r_json_end(w);
        return c;
    }
    }
}

static void test_json_text__writer_random_trees(void **state)
{
    (void)state;
    uint64_t rng = 20261205u;
    for (int i = 0; i < 20000; i++) {
        s2r_buf b = {0};
        s2r_json_writer w = {.out = &b};
        json_object *o = random_value(&rng, &w, 0);
        size_t want_len = 0;
        const char *want = json_object_to_json_string_length(
            o,
            JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                JSON_C_TO_STRING_NOSLASHESCAPE,
            &want_len);
        assert_false(w.failed);
        assert_int_equal(w.depth, 0);
        assert_false(b.oom);
        assert_int_equal(b.len, want_len);
        assert_memory_equal(b.p ? b.p : "", want, want_len);
        s2r_buf_free(&b);
        json_object_put(o);
    }
}

static void test_json_text__writer_misuse(void **state)
{
    (void)state;
    s2r_buf b = {0};
    s2r_json_writer w = {.out = &b};
    s2r_json_key(&w, "k", 1); /* a key with no object open */
    assert_true(w.failed);
    w = (s2r_json_writer){.out = &b};
    s2r_json_begin(&w, false);
    s2r_json_key(&w, "k", 1); /* a key in an array */
    assert_true(w.failed);
    w = (s2r_json_writer){.out = &b};
    s2r_json_end(&w); /* nothing open */
    assert_true(w.failed);
    w = (s2r_json_writer){.out = &b};
    s2r_json_bool(&w, true);
    s2r_json_bool(&w, false); /* a second root */
    assert_true(w.failed);
    w = (s2r_json_writer){.out = &b};
    for (int i = 0; i <= S2R_JSON_MAX_DEPTH; i++)
        s2r_json_begin(&w, false);
    assert_true(w.failed);
    s2r_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_text__every_byte_everywhere),
        cmocka_unit_test(test_json_text__random_strings),
        cmocka_unit_test(test_json_text__escapes_grow_the_buffer),
        cmocka_unit_test(test_json_text__writer_random_trees),
        cmocka_unit_test(test_json_text__writer_misuse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
