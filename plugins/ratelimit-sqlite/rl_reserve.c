/* rl_reserve.c: see rl_reserve.h. */
#include "rl_reserve.h"

#include <stdlib.h>
#include <string.h>

/* Open addressing, linear probing, backward-shift deletion. */
typedef struct slot {
    char key[RL_KEY_MAX + 1]; /* "": empty */
    rl_held h;
} slot;

struct rl_reserve {
    slot *v;
    size_t cap; /* power of two */
    size_t used;
    size_t cursor; /* where rl_reserve_pop_stale() goes on looking */
};

#define MIN_CAP ((size_t)16)

static size_t hash_of(const char *key)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
        h ^= *p;
        h *= 1099511628211ULL;
    }
    return (size_t)(h ^ (h >> 31));
}

rl_reserve *rl_reserve_new(void)
{
    rl_reserve *m = calloc(1, sizeof(*m));
    if (!m)
        return NULL;
    m->cap = MIN_CAP;
    if (!(m->v = calloc(m->cap, sizeof(slot)))) {
        free(m);
        return NULL;
    }
    return m;
}

void rl_reserve_free(rl_reserve *m)
{
    if (!m)
        return;
    free(m->v);
    free(m);
}

static size_t find(const rl_reserve *m, const char *key)
{
    size_t i = hash_of(key) & (m->cap - 1);
    while (m->v[i].key[0] && strcmp(m->v[i].key, key) != 0)
        i = (i + 1) & (m->cap - 1);
    return i;
}

static int grow(rl_reserve *m)
{
    slot *old = m->v;
    size_t ocap = m->cap;
    slot *nv = calloc(ocap * 2, sizeof(slot));
    if (!nv)
        return -1;
    m->v = nv;
    m->cap = ocap * 2;
    for (size_t i = 0; i < ocap; i++)
        if (old[i].key[0])
            m->v[find(m, old[i].key)] = old[i];
    free(old);
    return 0;
}

static void remove_at(rl_reserve *m, size_t i)
{
    size_t mask = m->cap - 1;
    m->v[i].key[0] = '\0';
    for (size_t j = (i + 1) & mask; m->v[j].key[0]; j = (j + 1) & mask) {
        size_t home = hash_of(m->v[j].key) & mask;
        int between = i <= j ? (home > i && home <= j)
                             : (home > i || home <= j);
        if (!between) {
            m->v[i] = m->v[j];
            m->v[j].key[0] = '\0';
            i = j;
        }
    }
    m->used--;
}

int rl_reserve_take(rl_reserve *m, const char *key, int64_t day,
                    int64_t now_ms, rl_held *out)
{
    if (!m->used || strlen(key) > RL_KEY_MAX)
        return 0;
    slot *s = &m->v[find(m, key)];
    if (!s->key[0] || s->h.day != day || s->h.unused <= 0)
        return 0;
    s->h.unused--;
    s->h.last_ms = now_ms;
    *out = s->h;
    return 1;
}

int rl_reserve_put(rl_reserve *m, const char *key, const rl_held *held)
{
    if (strlen(key) > RL_KEY_MAX)
        return -1;
    if ((m->used + 1) * 4 > m->cap * 3 && grow(m) != 0)
        return -1;
    size_t i = find(m, key);
    if (!m->v[i].key[0]) {
        strcpy(m->v[i].key, key);
        m->used++;
    }
    m->v[i].h = *held;
    return 0;
}

int rl_reserve_pop_stale(rl_reserve *m, int64_t today, int64_t idle_before_ms,
                         int all, char *key_out, rl_held *out)
{
    for (size_t n = 0; m->used && n < m->cap; n++) {
        size_t i = m->cursor;
        m->cursor = (m->cursor + 1) & (m->cap - 1);
        slot *s = &m->v[i];
        if (!s->key[0])
            continue;
        if (all || s->h.day != today || s->h.last_ms < idle_before_ms ||
            s->h.unused <= 0) {
            strcpy(key_out, s->key);
            *out = s->h;
            remove_at(m, i);
            return 1;
        }
    }
    return 0;
}

size_t rl_reserve_count(const rl_reserve *m)
{
    return m->used;
}
