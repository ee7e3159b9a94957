/* strset.c: a set of byte strings, numbered in the order they were added
 * (see base.h).
 *
 * Shape: up to S2R_STRSET_FEW keys in the set's own array (few), each
 * key's number its index there, looked up one by one; from the next key
 * on, every key in an open-addressed table of s2r_strset_slot, its size
 * a power of 2 (32 at first, then twice the last), at most half full, so
 * that a probe ends at a free slot within a few steps; a slot is free
 * when its key is NULL. Each slot keeps the key's address, length, hash
 * and number: the set borrows the bytes, copies none, and a look-up
 * compares bytes only when the hashes match.
 *
 * Ownership: the table is malloc'd here and freed by s2r_strset_clear();
 * the keys stay the caller's. Errors: only out of memory, on growing the
 * table (S2R_ENOMEM; the set is then as it was). */
#include "base.h"

#include <stdint.h>
#include <stdlib.h>

struct s2r_strset_slot {
    const char *key; /* NULL: a free slot */
    size_t len;
    size_t hash;
    size_t num;
};

/* the slot of the key (@p k, @p len, hash @p h) in the table of @p cap
 * slots at @p t: its own, or the free one where it goes */
static struct s2r_strset_slot *strset_slot(struct s2r_strset_slot *t,
                                           size_t cap, const char *k,
                                           size_t len, size_t h)
{
    size_t m = cap - 1;
    for (size_t i = h & m;; i = (i + 1) & m)
        if (!t[i].key || (t[i].hash == h && t[i].len == len &&
                          !memcmp(t[i].key, k, len)))
            return &t[i];
}

size_t s2r_strset_find(const s2r_strset *s, const char *key, size_t len)
{
    if (!s->slot) {
        for (size_t i = 0; i < s->n; i++)
            if (s->few[i].len == len && !memcmp(s->few[i].key, key, len))
                return i;
        return S2R_STRSET_NONE;
    }
    const struct s2r_strset_slot *e =
        strset_slot(s->slot, s->cap, key, len, s2r_hash_bytes(key, len));
    return e->key ? e->num : S2R_STRSET_NONE;
}

/* The table grown to twice its slots (to 32 from the few keys), every
 * key in it. @return false when out of memory (the set is as it was). */
static bool strset_grow(s2r_strset *s)
{
    size_t cap = s->cap ? s->cap * 2 : 32;
    struct s2r_strset_slot *t = cap > s->cap ? s2r_zalloc(cap, sizeof(*t))
                                             : NULL;
    if (!t)
        return false;
    if (!s->slot)
        for (size_t i = 0; i < s->n; i++) {
            size_t h = s2r_hash_bytes(s->few[i].key, s->few[i].len);
            *strset_slot(t, cap, s->few[i].key, s->few[i].len, h) =
                (struct s2r_strset_slot){s->few[i].key, s->few[i].len, h, i};
        }
    for (size_t i = 0; i < s->cap; i++)
        if (s->slot[i].key)
            *strset_slot(t, cap, s->slot[i].key, s->slot[i].len,
                         s->slot[i].hash) = s->slot[i];
    free(s->slot);
    s->slot = t;
    s->cap = cap;
    return true;
}

int s2r_strset_add(s2r_strset *s, const char *key, size_t len)
{
    if (!s->slot && s->n < S2R_STRSET_FEW) {
        s->few[s->n].key = key;
        s->few[s->n++].len = len;
        return S2R_OK;
    }
    if ((s->n + 1) * 2 > s->cap && !strset_grow(s))
        return S2R_ENOMEM;
    size_t h = s2r_hash_bytes(key, len);
    *strset_slot(s->slot, s->cap, key, len, h) =
        (struct s2r_strset_slot){key, len, h, s->n++};
    return S2R_OK;
}

void s2r_strset_clear(s2r_strset *s)
{
    free(s->slot);
    s->slot = NULL;
    s->n = s->cap = 0;
}
