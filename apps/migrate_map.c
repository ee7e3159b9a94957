/* migrate_map.c: string-keyed tallies (FNV-1a, open addressing). */
#include "migrate.h"

#include <stdlib.h>
#include <string.h>

static size_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return (size_t)h;
}

static int grow_slots(mg_map *m)
{
    size_t n = m->nslots ? m->nslots * 2 : 64;
    size_t *slots = calloc(n, sizeof(*slots));
    if (!slots)
        return -1;
    for (size_t i = 0; i < m->n; i++) {
        size_t k = hash(m->v[i].key) & (n - 1);
        while (slots[k])
            k = (k + 1) & (n - 1);
        slots[k] = i + 1;
    }
    free(m->slots);
    m->slots = slots;
    m->nslots = n;
    return 0;
}

/* The slot of @p key, or the empty slot where it would go. */
static size_t probe(const mg_map *m, const char *key)
{
    size_t k = hash(key) & (m->nslots - 1);
    while (m->slots[k] && strcmp(m->v[m->slots[k] - 1].key, key))
        k = (k + 1) & (m->nslots - 1);
    return k;
}

mg_count *mg_map_get(mg_map *m, const char *key)
{
    if ((m->n + 1) * 2 > m->nslots && grow_slots(m))
        return NULL;
    size_t k = probe(m, key);
    if (m->slots[k])
        return &m->v[m->slots[k] - 1];
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 16;
        mg_count *v = realloc(m->v, cap * sizeof(*v));
        if (!v)
            return NULL;
        m->v = v;
        m->cap = cap;
    }
    mg_count *c = &m->v[m->n];
    memset(c, 0, sizeof(*c));
    if (!(c->key = strdup(key)))
        return NULL;
    m->slots[k] = ++m->n;
    return c;
}

mg_count *mg_map_find(const mg_map *m, const char *key)
{
    if (!m->nslots)
        return NULL;
    size_t k = probe(m, key);
    return m->slots[k] ? &m->v[m->slots[k] - 1] : NULL;
}

void mg_map_free(mg_map *m)
{
    for (size_t i = 0; i < m->n; i++) {
        free(m->v[i].key);
        if (m->v[i].sub) {
            mg_map_free(m->v[i].sub);
            free(m->v[i].sub);
        }
    }
    free(m->v);
    free(m->slots);
    memset(m, 0, sizeof(*m));
}

static int by_scripts(const void *a, const void *b)
{
    const mg_count *x = *(mg_count *const *)a, *y = *(mg_count *const *)b;
    if (x->scripts != y->scripts)
        return x->scripts < y->scripts ? 1 : -1;
    return strcmp(x->key, y->key);
}

mg_count **mg_map_sorted(const mg_map *m)
{
    if (!m->n)
        return NULL;
    mg_count **out = malloc(m->n * sizeof(*out));
    if (!out)
        return NULL;
    for (size_t i = 0; i < m->n; i++)
        out[i] = &m->v[i];
    qsort(out, m->n, sizeof(*out), by_scripts);
    return out;
}
