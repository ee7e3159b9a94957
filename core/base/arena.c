/* arena.c: allocation by the block for data that lives and dies together
 * (see base.h), such as every word of one lexed body. */
#include "base.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

struct s2r_arena_block {
    s2r_arena_block *prev;
    size_t size; /* bytes after the header */
};

/* the header rounded up so that the bytes after it are aligned */
#define HEADER                                                              \
    ((sizeof(s2r_arena_block) + _Alignof(max_align_t) - 1) &               \
     ~(_Alignof(max_align_t) - 1))

enum { FIRST_BLOCK = 4096 - 64, MAX_BLOCK = 1 << 16 };

/* Each thread keeps one first block that an arena let go of, for the
 * next arena it starts: a conversion lexes a body (and each bash -c
 * string in it) into an arena, and a 4 KiB malloc and free each time
 * took the allocator's slow path. Freed when the thread ends. */
static pthread_once_t spare_once = PTHREAD_ONCE_INIT;
static pthread_key_t spare_key;
static int spare_ok;

static void spare_init(void)
{
    spare_ok = pthread_key_create(&spare_key, free) == 0;
}

/* The thread's spare first block, taken (NULL when it has none). */
static s2r_arena_block *spare_take(void)
{
    pthread_once(&spare_once, spare_init);
    if (!spare_ok)
        return NULL;
    s2r_arena_block *b = pthread_getspecific(spare_key);
    if (b)
        pthread_setspecific(spare_key, NULL);
    return b;
}

/* Keep first block @p b as the thread's spare; false when it has one. */
static bool spare_keep(s2r_arena_block *b)
{
    if (!spare_ok || pthread_getspecific(spare_key))
        return false;
    return pthread_setspecific(spare_key, b) == 0;
}

static size_t round_up(size_t n)
{
    size_t a = _Alignof(max_align_t);
    return n > SIZE_MAX - a ? 0 : (n + a - 1) & ~(a - 1);
}

void *s2r_arena__alloc_block(s2r_arena *a, size_t n)
{
    size_t need = round_up(n ? n : 1);
    if (!need)
        return NULL;
    if (need > a->left) {
        size_t size = a->head    ? a->head->size * 2
                      : a->first ? a->first
                                 : FIRST_BLOCK;
        if (size > MAX_BLOCK)
            size = MAX_BLOCK;
        if (size < need)
            size = need;
        if (size > SIZE_MAX - HEADER)
            return NULL;
        s2r_arena_block *b = size == FIRST_BLOCK ? spare_take() : NULL;
        if (!b && !(b = malloc(HEADER + size)))
            return NULL;
        b->prev = a->head;
        b->size = size;
        a->head = b;
        a->next = (char *)b + HEADER;
        a->left = size;
    }
    void *p = a->next;
    a->next += need;
    a->left -= need;
    return p;
}

bool s2r_arena_owns(const s2r_arena *a, const void *p)
{
    uintptr_t at = (uintptr_t)p;
    for (const s2r_arena_block *b = a->head; b; b = b->prev) {
        uintptr_t from = (uintptr_t)b + HEADER;
        if (at >= from && at - from < b->size)
            return true;
    }
    return false;
}

void s2r_arena_free(s2r_arena *a)
{
    while (a->head) {
        s2r_arena_block *prev = a->head->prev;
        if (a->head->size != FIRST_BLOCK || !spare_keep(a->head))
            free(a->head);
        a->head = prev;
    }
    a->next = NULL;
    a->left = 0;
}

void *s2r_arena_grow_array(void *v, size_t n, size_t *cap, size_t size,
                           size_t first)
{
    size_t slots = (sizeof(s2r_arena) + size - 1) / size;
    size_t ncap = *cap ? *cap * 2 : 8;
    if (ncap < *cap || ncap > SIZE_MAX / size - slots)
        return NULL;
    s2r_arena a = v ? *s2r_arena_after(v, *cap, size)
                    : (s2r_arena){.first = first};
    void *nv = s2r_arena_alloc(&a, (ncap + slots) * size);
    if (!nv)
        return NULL; /* a failed allocation leaves the arena as it was */
    if (n)
        memcpy(nv, v, n * size);
    *s2r_arena_after(nv, ncap, size) = a;
    *cap = ncap;
    return nv;
}

void s2r_arena_free_array(void *v, size_t cap, size_t size)
{
    if (!v)
        return;
    s2r_arena a = *s2r_arena_after(v, cap, size);
    s2r_arena_free(&a);
}
