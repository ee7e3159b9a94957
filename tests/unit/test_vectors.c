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

/* a string stays where it was pushed while hundreds more are pushed
 * after it, short and long (past a block's text), and a push of the
 * vector's own string copies it */
static void test_vectors__strv_strings_stay_put(void **state)
{
    (void)state;
    s2r_strv sv = {0};
    enum { N = 600 };
    const char *at[N];
    char word[32], *longer = malloc(5000);
    assert_non_null(longer);
    memset(longer, 'L', 4999);
    longer[4999] = '\0';
    for (int i = 0; i < N; i++) {
        if (i % 97 == 5) {
            assert_int_equal(s2r_strv_push(&sv, longer), 0);
        } else if (i % 11 == 3) {
            assert_int_equal(s2r_strv_push(&sv, sv.v[i / 2]), 0);
        } else {
            snprintf(word, sizeof(word), "word-%d", i);
            assert_int_equal(s2r_strv_push(&sv, word), 0);
        }
        at[i] = sv.v[i];
    }
    assert_int_equal(sv.n, N);
    assert_null(sv.v[N]);
    for (int i = 0; i < N; i++) {
        assert_ptr_equal(sv.v[i], at[i]);
        if (i % 97 == 5) {
            assert_string_equal(sv.v[i], longer);
        } else if (i % 11 == 3) {
            assert_string_equal(sv.v[i], sv.v[i / 2]);
        } else {
            snprintf(word, sizeof(word), "word-%d", i);
            assert_string_equal(sv.v[i], word);
        }
    }
    free(longer);
    s2r_strv_clear(&sv);
    assert_null(sv.v);
    assert_int_equal(sv.n + sv.cap, 0);
}

/* take keeps a copy (the caller's string is freed); list copies out a
 * NULL-terminated list of malloc'd strings that outlives the vector */
static void test_vectors__strv_take_and_list(void **state)
{
    (void)state;
    s2r_strv sv = {0};
    assert_int_equal(s2r_strv_take(&sv, strdup("taken")), 0);
    assert_int_equal(s2r_strv_push(&sv, ""), 0);
    char **l = s2r_strv_list(&sv);
    s2r_strv_clear(&sv);
    assert_non_null(l);
    assert_string_equal(l[0], "taken");
    assert_string_equal(l[1], "");
    assert_null(l[2]);
    s2r_strlist_free(l);
    l = s2r_strv_list(&sv); /* an empty vector: an empty list */
    assert_non_null(l);
    assert_null(l[0]);
    s2r_strlist_free(l);
}

/* a name or value held across growth stays where it was, and other
 * entries' text stays put when one is replaced */
static void test_vectors__envv_text_stays_put(void **state)
{
    (void)state;
    s2r_envv ev = {0};
    assert_int_equal(s2r_envv_set(&ev, "FIRST", "one"), 0);
    const char *name = ev.v[0].name, *value = ev.v[0].value;
    char n[16];
    for (int i = 0; i < 300; i++) {
        snprintf(n, sizeof(n), "N%d", i);
        assert_int_equal(s2r_envv_set(&ev, n, value), 0);
    }
    const char *n7 = s2r_envv_get(&ev, "N7");
    assert_int_equal(s2r_envv_set(&ev, "FIRST", "two"), 0);
    assert_int_equal(s2r_envv_set(&ev, "FIRST", "three"), 0);
    assert_string_equal(name, "FIRST");
    assert_string_equal(n7, "one");
    assert_ptr_equal(s2r_envv_get(&ev, "N7"), n7);
    assert_string_equal(s2r_envv_get(&ev, "FIRST"), "three");
    assert_string_equal(s2r_envv_get(&ev, "N299"), "one");
    assert_int_equal(ev.n, 301);
    s2r_envv_clear(&ev);
}

/* a value replaced by a longer one built from itself, over and over
 * (`export A=${A}x`): each step reads the old value, the last is right,
 * and the replaced text is freed as it goes (ASan sees a leak or a read
 * of freed text) */
static void test_vectors__envv_replace_from_itself(void **state)
{
    (void)state;
    s2r_envv ev = {0};
    assert_int_equal(s2r_envv_set(&ev, "B", "b"), 0);
    assert_int_equal(s2r_envv_set(&ev, "A", ""), 0);
    char *grown = NULL;
    for (int i = 0; i < 2000; i++) {
        const char *old = s2r_envv_get(&ev, "A");
        size_t l = strlen(old);
        grown = realloc(grown, l + 2);
        assert_non_null(grown);
        memcpy(grown, old, l);
        grown[l] = 'x';
        grown[l + 1] = '\0';
        assert_int_equal(s2r_envv_set(&ev, "A", grown), 0);
        /* and once with the old value itself, as it is */
        assert_int_equal(s2r_envv_set(&ev, "A", s2r_envv_get(&ev, "A")), 0);
    }
    assert_int_equal(strlen(s2r_envv_get(&ev, "A")), 2000);
    assert_string_equal(s2r_envv_get(&ev, "B"), "b");
    assert_int_equal(s2r_envv_set(&ev, ev.v[1].name, "last"), 0);
    assert_string_equal(s2r_envv_get(&ev, "A"), "last");
    free(grown);
    s2r_envv_clear(&ev);
}

/* thousands of names (a vector that keeps an index of them): set keeps
 * the first-seen order, replaces in place, and get finds each; a name
 * appended again is found as its first entry */
static void test_vectors__envv_many_names(void **state)
{
    (void)state;
    enum { N = 5000 };
    s2r_envv ev = {0};
    char name[16], value[16];
    for (int i = 0; i < N; i++) {
        snprintf(name, sizeof(name), "V%d", i);
        assert_int_equal(s2r_envv_set(&ev, name, name + 1), 0);
        if (i % 3 == 0) { /* an earlier name again */
            snprintf(name, sizeof(name), "V%d", i / 2);
            snprintf(value, sizeof(value), "again%d", i);
            assert_int_equal(s2r_envv_set(&ev, name, value), 0);
        }
    }
    assert_int_equal(ev.n, N);
    for (int i = 0; i < N; i++) {
        snprintf(name, sizeof(name), "V%d", i);
        assert_string_equal(ev.v[i].name, name);
        assert_ptr_equal(s2r_envv_get(&ev, name), ev.v[i].value);
    }
    assert_string_equal(s2r_envv_get(&ev, "V1"), "again3");
    assert_string_equal(s2r_envv_get(&ev, "V4999"), "4999");
    assert_null(s2r_envv_get(&ev, "V5000"));
    assert_int_equal(s2r_envv_append(&ev, "V10", "later"), 0);
    assert_int_equal(ev.n, N + 1);
    assert_string_equal(ev.v[N].value, "later");
    assert_ptr_equal(s2r_envv_get(&ev, "V10"), ev.v[10].value);
    s2r_envv_clear(&ev);
    assert_int_equal(ev.n, 0);
    assert_null(ev.v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors__envv_set_replaces_in_place),
        cmocka_unit_test(test_vectors__envv_append_is_set_of_a_new_name),
        cmocka_unit_test(test_vectors__strv_push_copies),
        cmocka_unit_test(test_vectors__strv_strings_stay_put),
        cmocka_unit_test(test_vectors__strv_take_and_list),
        cmocka_unit_test(test_vectors__envv_text_stays_put),
        cmocka_unit_test(test_vectors__envv_replace_from_itself),
        cmocka_unit_test(test_vectors__envv_many_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
