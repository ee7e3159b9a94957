/* test_vectors.c: s2r_strv and s2r_envv (core/base/vectors.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <s2r/s2r.h>
#include "base/base.h"

/* set adds in first-seen order, a second set replaces in place, a value
 * may be the entry's own (read back with get) */
static void test_vectors__envv_set_replaces_in_place(void **state)
{
    (void)state;
    s2r_envv ev = {0};
    char name[16];
    for (int i = 0; i < 20; i++) {
        snprintf(name, sizeof(name), "V%d", i);
        assert_int_equal(s2r_envv_set(&ev, name, name), 0);
    }
    assert_int_equal(s2r_envv_set(&ev, "V3", ""), 0);
    assert_int_equal(s2r_envv_set(&ev, "V4", "a longer value than before"),
                     0);
    assert_int_equal(s2r_envv_set(&ev, "V5", s2r_envv_get(&ev, "V5")), 0);
    assert_int_equal(ev.n, 20);
    assert_string_equal(ev.v[3].name, "V3");
    assert_string_equal(ev.v[3].value, "");
    assert_string_equal(s2r_envv_get(&ev, "V4"), "a longer value than before");
    assert_string_equal(s2r_envv_get(&ev, "V5"), "V5");
    assert_string_equal(ev.v[19].value, "V19");
    assert_null(s2r_envv_get(&ev, "V20"));
    s2r_envv_clear(&ev);
    assert_int_equal(ev.n, 0);
    assert_null(ev.v);
}

/* append adds at the end as set does for a new name, across growth */
static void test_vectors__envv_append_is_set_of_a_new_name(void **state)
{
    (void)state;
    s2r_envv a = {0}, b = {0};
    char name[16];
    for (int i = 0; i < 20; i++) {
        snprintf(name, sizeof(name), "V%d", i);
        assert_int_equal(s2r_envv_append(&a, name, name + 1), 0);
        assert_int_equal(s2r_envv_set(&b, name, name + 1), 0);
    }
    assert_int_equal(a.n, b.n);
    for (size_t i = 0; i < a.n; i++) {
        assert_string_equal(a.v[i].name, b.v[i].name);
        assert_string_equal(a.v[i].value, b.v[i].value);
    }
    assert_int_equal(s2r_envv_set(&a, "V7", "x"), 0);
    assert_int_equal(a.n, 20);
    assert_string_equal(s2r_envv_get(&a, "V7"), "x");
    s2r_envv_clear(&a);
    s2r_envv_clear(&b);
}

static void test_vectors__strv_push_copies(void **state)
{
    (void)state;
    s2r_strv sv = {0};
    char word[8] = "w";
    for (int i = 0; i < 9; i++)
        assert_int_equal(s2r_strv_push(&sv, word), 0);
    word[0] = 'x';
    assert_int_equal(sv.n, 9);
    assert_string_equal(sv.v[8], "w");
    assert_null(sv.v[9]);
    s2r_strv_clear(&sv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors__envv_set_replaces_in_place),
        cmocka_unit_test(test_vectors__envv_append_is_set_of_a_new_name),
        cmocka_unit_test(test_vectors__strv_push_copies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
