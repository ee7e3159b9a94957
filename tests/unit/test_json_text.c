/* test_json_text.c: s2r_json_put_string() writes the bytes json-c writes
 * for the same string (JSON_C_TO_STRING_PLAIN | NOSLASHESCAPE): every
 * byte value alone and at every offset of a 8-byte block, and random
 * strings from a fixed seed. */
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
        for (size_t at = 0; at < 19; at++) {
            char s[20];
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_text__every_byte_everywhere),
        cmocka_unit_test(test_json_text__random_strings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
