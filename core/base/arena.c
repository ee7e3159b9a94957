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
 * It also keeps up to BIGS larger blocks, BIG_TOTAL bytes in all, for
 * the next larger blocks that fit in one with at most half of it unused:
 * the blocks of a long body's words and of the lexer's growing arrays,
 * freed at the top of the heap at the end of every conversion, had glibc
 * give the memory back to the system (brk) and fault it in again each
 * time, which cost more than the conversion. They are freed when the
 * thread ends. A build with
 * AddressSanitizer keeps none, so that it sees every read of a freed
 * arena's bytes. */
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

enum { SPARES = 24, BIGS = 8, BIG_TOTAL = 8 << 20 };

typedef struct spares {
    s2r_arena_block *b[SPARES];
    size_t n;
    s2r_arena_block *big[BIGS]; /* blocks larger than FIRST_BLOCK */
    size_t nbig, big_bytes;
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
    while (s->nbig)
        free(s->big[--s->nbig]);
    s->big_bytes = 0;
    s->armed = false;
}

static void spare_init(void)
{
    spare_ok = pthread_key_create(&spare_key, spares_drop) == 0;
}

/* A spare block of @p size bytes (a larger one above FIRST_BLOCK: its
 * own size is in it), taken; NULL when the thread has none. */
static s2r_arena_block *spare_take(size_t size)
{
    spares *s = &tl_spares;
    if (size > FIRST_BLOCK) { /* the least that fits */
        size_t best = s->nbig;
        for (size_t i = 0; i < s->nbig; i++)
            if (s->big[i]->size >= size && s->big[i]->size / 2 <= size &&
                (best == s->nbig || s->big[i]->size < s->big[best]->size))
                best = i;
        if (best == s->nbig)
            return NULL;
        s2r_arena_block *b = s->big[best];
        s->big[best] = s->big[--s->nbig];
        s->big_bytes -= b->size;
        return b;
    }
    for (size_t i = s->n; i-- > 0;) {
        if (s->b[i]->size == size) {
            s2r_arena_block *b = s->b[i];
            s->b[i] = s->b[--s->n];
            return b;
        }
    }
    return NULL;
}

/* Whether the thread's spares are freed when it ends (set up at the
 * first block kept). */
static bool spares_armed(spares *s)
{
    if (!s->armed) {
        pthread_once(&spare_once, spare_init);
        if (!spare_ok || pthread_setspecific(spare_key, s) != 0)
            return false;
        s->armed = true;
    }
    return true;
}

/* Keep block @p b as a spare; false when the thread has enough (or
 * keeps none). */
static bool spare_keep(s2r_arena_block *b)
{
    spares *s = &tl_spares;
    bool big = b->size > FIRST_BLOCK;
    if (!KEEP_SPARES || (!big && s->n == SPARES) ||
        (big && (s->nbig == BIGS || b->size > BIG_TOTAL - s->big_bytes)) ||
        !spares_armed(s))
        return false;
    if (big) {
        s->big[s->nbig++] = b;
        s->big_bytes += b->size;
        return true;
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
        s2r_arena_block *b = spare_take(size);
        if (!b) {
            if (!(b = malloc(HEADER + size)))
                return NULL;
            b->size = size;
        }
        b->prev = a->head;
        a->head = b;
        a->next = (char *)b + HEADER;
        a->left = b->size;
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
    /* the arena takes whole slots after the last element: fewer bytes
     * than size + sizeof(s2r_arena) */
    if (size > SIZE_MAX - sizeof(s2r_arena))
        return NULL;
    size_t slots = (sizeof(s2r_arena) + size - 1) / size;
    s2r_arena a = v ? *s2r_arena_after(v, *cap, size)
                    : (s2r_arena){.first = first};
    void *nv = s2r_arena_grow(&a, v, n, cap, size, slots * size);
    if (nv)
        *s2r_arena_after(nv, *cap, size) = a;
    return nv;
}

void s2r_arena_free_array(void *v, size_t cap, size_t size)
{
    if (!v)
        return;
    s2r_arena a = *s2r_arena_after(v, cap, size);
    s2r_arena_free(&a);
}
