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

/* Each thread keeps up to SPARES blocks of at most FIRST_BLOCK bytes
 * that arenas let go of, for the next blocks of that size it needs: a
 * conversion lexes a body (and each bash -c string in it) into an arena
 * and fills a dozen vectors and a diagnostics list, each an arena of its
 * own, and a malloc and a free of each block, most of them at the end of
 * every conversion, took the allocator's slow path more often than not.
 * They are freed when the thread ends. A build with AddressSanitizer
 * keeps none, so that it sees every read of a freed arena's bytes. */
#if defined(__SANITIZE_ADDRESS__)
#define KEEP_SPARES 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define KEEP_SPARES 0
#endif
#endif
#ifndef KEEP_SPARES
#define KEEP_SPARES 1
#endif

enum { SPARES = 24 };

typedef struct spares {
    s2r_arena_block *b[SPARES];
    size_t n;
    bool armed; /* set as the thread's key value: freed when it ends */
} spares;

static _Thread_local spares tl_spares;
static pthread_once_t spare_once = PTHREAD_ONCE_INIT;
static pthread_key_t spare_key;
static int spare_ok;

/* The key's destructor: free the ending thread's spares. */
static void spares_drop(void *p)
{
    spares *s = p;
    while (s->n)
        free(s->b[--s->n]);
    s->armed = false;
}

static void spare_init(void)
{
    spare_ok = pthread_key_create(&spare_key, spares_drop) == 0;
}

/* A spare block of @p size bytes, taken (NULL when the thread has none). */
static s2r_arena_block *spare_take(size_t size)
{
    spares *s = &tl_spares;
    for (size_t i = s->n; i-- > 0;) {
        if (s->b[i]->size == size) {
            s2r_arena_block *b = s->b[i];
            s->b[i] = s->b[--s->n];
            return b;
        }
    }
    return NULL;
}

/* Keep block @p b as a spare; false when it is too large or the thread
 * has enough (or keeps none). */
static bool spare_keep(s2r_arena_block *b)
{
    spares *s = &tl_spares;
    if (!KEEP_SPARES || b->size > FIRST_BLOCK || s->n == SPARES)
        return false;
    if (!s->armed) {
        pthread_once(&spare_once, spare_init);
        if (!spare_ok || pthread_setspecific(spare_key, s) != 0)
            return false;
        s->armed = true;
    }
    s->b[s->n++] = b;
    return true;
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
        s2r_arena_block *b = size <= FIRST_BLOCK ? spare_take(size) : NULL;
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

void s2r_arena_free(s2r_arena *a)
{
    while (a->head) {
        s2r_arena_block *prev = a->head->prev;
        if (!spare_keep(a->head))
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
