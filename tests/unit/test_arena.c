/* test_arena.c: s2r_arena hands out aligned, distinct, writable memory
 * of any size, copies strings whole, and frees everything at once (the
 * ASan run of the suite sees a leak or an overrun here). */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "base/base.h"

static void test_arena__aligned_and_distinct(void **state)
{
    (void)state;
    s2r_arena a = {0};
    unsigned char *prev = NULL;
    size_t prev_n = 0;
    /* sizes from 0 to past the largest block, each filled whole */
    for (size_t n = 0; n < 200000; n = n * 3 + 1) {
        unsigned char *p = s2r_arena_alloc(&a, n);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % _Alignof(max_align_t), 0);
        memset(p, 0xA5, n);
        if (prev) /* the last one is untouched */
            for (size_t k = 0; k < prev_n; k++)
                assert_int_equal(prev[k], 0x5A);
        memset(p, 0x5A, n);
        prev = p;
        prev_n = n;
    }
    s2r_arena_free(&a);
    assert_null(a.head);
    assert_non_null(s2r_arena_alloc(&a, 1)); /* reusable */
    s2r_arena_free(&a);
}

static void test_arena__many_small(void **state)
{
    (void)state;
    s2r_arena a = {0};
    char *words[5000];
    for (size_t i = 0; i < 5000; i++) {
        char w[16];
        int n = snprintf(w, sizeof(w), "w%zu", i);
        words[i] = s2r_arena_strndup(&a, w, (size_t)n);
        assert_non_null(words[i]);
    }
    for (size_t i = 0; i < 5000; i++) {
        char w[16];
        snprintf(w, sizeof(w), "w%zu", i);
        assert_string_equal(words[i], w);
    }
    char *part = s2r_arena_strndup(&a, "abcdef", 3);
    assert_string_equal(part, "abc");
    assert_string_equal(s2r_arena_strndup(&a, "", 0), "");
    assert_null(s2r_arena_alloc(&a, SIZE_MAX)); /* no room: NULL */
    s2r_arena_free(&a);
}

/* Arenas one after another, and two at once, on several threads: each
 * thread reuses the first block an arena let go of (freed when the
 * thread ends), and no arena sees another's bytes. */
/* an arena with a small first block: the same memory, in blocks from
 * that size up, and the size kept for its next use */
static void test_arena__small_first_block(void **state)
{
    (void)state;
    s2r_arena a = {.first = 192};
    char *s[100];
    for (int i = 0; i < 100; i++) {
        char w[16];
        snprintf(w, sizeof(w), "w%d", i);
        s[i] = s2r_arena_strndup(&a, w, strlen(w));
        assert_non_null(s[i]);
    }
    for (int i = 0; i < 100; i++) {
        char w[16];
        snprintf(w, sizeof(w), "w%d", i);
        assert_string_equal(s[i], w);
    }
    assert_non_null(s2r_arena_alloc(&a, 5000)); /* past any block so far */
    s2r_arena_free(&a);
    assert_null(a.head);
    assert_int_equal(a.first, 192);
}

static void *arena_rounds(void *arg)
{
    unsigned char tag = (unsigned char)(uintptr_t)arg;
    for (int round = 0; round < 300; round++) {
        s2r_arena a = {0}, b = {0};
        unsigned char *pa[40], *pb[40];
        for (size_t i = 0; i < 40; i++) {
            size_t n = (i * 37 + (size_t)round) % 700 + 1;
            pa[i] = s2r_arena_alloc(&a, n);
            pb[i] = s2r_arena_alloc(&b, n);
            if (!pa[i] || !pb[i])
                return (void *)1;
            memset(pa[i], tag, n);
            memset(pb[i], (unsigned char)~tag, n);
        }
        for (size_t i = 0; i < 40; i++)
            if (pa[i][0] != tag || pb[i][0] != (unsigned char)~tag)
                return (void *)1;
        s2r_arena_free(&b);
        s2r_arena_free(&a);
    }
    return NULL;
}

static void test_arena__threads_reuse(void **state)
{
    (void)state;
    assert_null(arena_rounds((void *)(uintptr_t)7));
    pthread_t t[4];
    for (uintptr_t i = 0; i < 4; i++)
        assert_int_equal(
            pthread_create(&t[i], NULL, arena_rounds, (void *)(i + 1)), 0);
    for (int i = 0; i < 4; i++) {
        void *rc = (void *)1;
        pthread_join(t[i], &rc);
        assert_null(rc);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_arena__aligned_and_distinct),
        cmocka_unit_test(test_arena__many_small),
        cmocka_unit_test(test_arena__small_first_block),
        cmocka_unit_test(test_arena__threads_reuse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
