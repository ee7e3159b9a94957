/* vectors.c: string and environment vectors, NULL-terminated string
 * lists (see <s2r/s2r.h> and base.h). */
#include "base.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int s2r_grow(void **v, size_t n, size_t size)
{
    size_t cap;
    if (n == 0)
        cap = 4;
    else if (n >= 4 && (n & (n - 1)) == 0)
        cap = n * 2;
    else if (*v)
        return S2R_OK; /* room left: the capacity is the next power of 2 */
    else
        cap = n < 4 ? 4 : n * 2; /* not grown here before: be generous */
    if (size && cap > SIZE_MAX / size)
        return S2R_ENOMEM;
    void *nv = realloc(*v, cap * size);
    if (!nv)
        return S2R_ENOMEM;
    *v = nv;
    return S2R_OK;
}

/* ---- the strings of a vector ---------------------------------------- */

/* A vector's strings are copies in an arena of its own (blocks that never
 * move, so that a string stays where it is until the vector is cleared,
 * whatever is added after it). The arena is kept in the slots after the
 * vector's last (from v[cap]). A conversion fills a dozen vectors with a
 * few short strings each: a malloc per string, and a free per string at
 * the end, were a tenth of the conversion's time. The first block is
 * small enough for the allocator's per-thread cache. */
enum { FIRST_TEXT = 192 };

/* @p a (@p an bytes) and its NUL, then @p b (@p bn bytes, when not NULL)
 * and its NUL, copied into @p arena; NULL when out of memory. */
static char *arena_copy(s2r_arena *arena, const char *a, size_t an,
                        const char *b, size_t bn)
{
    if (an > SIZE_MAX / 4 || bn > SIZE_MAX / 4)
        return NULL;
    char *at = s2r_arena_alloc(arena, an + 1 + (b ? bn + 1 : 0));
    if (!at)
        return NULL;
    memcpy(at, a, an);
    at[an] = '\0';
    if (b) {
        memcpy(at + an + 1, b, bn);
        at[an + 1 + bn] = '\0';
    }
    return at;
}

/* ---- string vectors ---------------------------------------------------- */

/* the slots of v after the last that hold the arena */
enum { STRV_ARENA = (sizeof(s2r_arena) + sizeof(char *) - 1) / sizeof(char *) };

static s2r_arena *strv_arena(s2r_strv *sv)
{
    return (s2r_arena *)(void *)&sv->v[sv->cap];
}

/* Room for one more string and the NULL after it. */
static int strv_room(s2r_strv *sv)
{
    if (sv->v && sv->n + 1 < sv->cap)
        return S2R_OK;
    size_t cap = sv->cap ? sv->cap * 2 : 8;
    if (cap > SIZE_MAX / sizeof(char *) - STRV_ARENA)
        return S2R_ENOMEM;
    s2r_arena arena = sv->v ? *strv_arena(sv)
                            : (s2r_arena){.first = FIRST_TEXT};
    char **v = realloc(sv->v, (cap + STRV_ARENA) * sizeof(*v));
    if (!v)
        return S2R_ENOMEM;
    sv->v = v;
    sv->cap = cap;
    sv->v[sv->n] = NULL; /* v[n] NULL even when the copy fails after */
    *strv_arena(sv) = arena;
    return S2R_OK;
}

static int strv_add(s2r_strv *sv, const char *s, size_t len)
{
    if (strv_room(sv))
        return S2R_ENOMEM;
    char *c = arena_copy(strv_arena(sv), s, len, NULL, 0);
    if (!c)
        return S2R_ENOMEM;
    sv->v[sv->n++] = c;
    sv->v[sv->n] = NULL;
    return S2R_OK;
}

int s2r_strv_take(s2r_strv *sv, char *s)
{
    int rc = strv_add(sv, s, strlen(s));
    free(s);
    return rc;
}

int s2r_strv_push(s2r_strv *sv, const char *s)
{
    return strv_add(sv, s, strlen(s));
}

void s2r_strv_clear(s2r_strv *sv)
{
    if (sv->v) {
        s2r_arena_free(strv_arena(sv));
        free(sv->v);
    }
    memset(sv, 0, sizeof(*sv));
}

char **s2r_strv_list(const s2r_strv *sv)
{
    char **l = calloc(sv->n + 1, sizeof(*l));
    for (size_t i = 0; l && i < sv->n; i++) {
        if (!(l[i] = strdup(sv->v[i]))) {
            s2r_strlist_free(l);
            return NULL;
        }
    }
    return l;
}

/* ---- environment vectors ----------------------------------------------- */

/* the entries of v after the last that hold the arena */
enum { ENVV_ARENA = (sizeof(s2r_arena) + sizeof(s2r_env) - 1) / sizeof(s2r_env) };

static s2r_arena *envv_arena(s2r_envv *ev)
{
    return (s2r_arena *)(void *)&ev->v[ev->cap];
}

/* NAME, NUL, VALUE, NUL in @p ev's arena: name points at it, value into
 * it */
static int env_entry(s2r_envv *ev, s2r_env *e, const char *name,
                     const char *value)
{
    size_t nl = strlen(name);
    char *b = arena_copy(envv_arena(ev), name, nl, value, strlen(value));
    if (!b)
        return S2R_ENOMEM;
    e->name = b;
    e->value = b + nl + 1;
    return S2R_OK;
}

/* Whether entry @p e's text is a block of its own (a replaced value),
 * not the arena's. */
static bool env_own_block(s2r_envv *ev, const s2r_env *e)
{
    return !s2r_arena_owns(envv_arena(ev), e->name);
}

int s2r_envv_set(s2r_envv *ev, const char *name, const char *value)
{
    for (size_t i = 0; i < ev->n; i++) {
        s2r_env *e = &ev->v[i];
        if (strcmp(e->name, name) == 0) {
            /* a replaced value gets a block of its own, freed when it is
             * replaced in turn: text left behind in the arena would grow
             * with the square of `export A=${A}x` lines. @p value may be
             * the old text: it is copied before that is freed. */
            size_t nl = strlen(name), vl = strlen(value);
            if (vl > SIZE_MAX / 2 - nl)
                return S2R_ENOMEM;
            char *b = malloc(nl + vl + 2);
            if (!b)
                return S2R_ENOMEM;
            memcpy(b, name, nl + 1);
            memcpy(b + nl + 1, value, vl + 1);
            if (env_own_block(ev, e))
                free(e->name);
            e->name = b;
            e->value = b + nl + 1;
            return S2R_OK;
        }
    }
    return s2r_envv_append(ev, name, value);
}

int s2r_envv_append(s2r_envv *ev, const char *name, const char *value)
{
    if (!ev->v || ev->n == ev->cap) {
        size_t cap = ev->cap ? ev->cap * 2 : 8;
        if (cap > SIZE_MAX / sizeof(s2r_env) - ENVV_ARENA)
            return S2R_ENOMEM;
        s2r_arena arena = ev->v ? *envv_arena(ev)
                                : (s2r_arena){.first = FIRST_TEXT};
        s2r_env *v = realloc(ev->v, (cap + ENVV_ARENA) * sizeof(*v));
        if (!v)
            return S2R_ENOMEM;
        ev->v = v;
        ev->cap = cap;
        *envv_arena(ev) = arena;
    }
    if (env_entry(ev, &ev->v[ev->n], name, value))
        return S2R_ENOMEM;
    ev->n++;
    return S2R_OK;
}

const char *s2r_envv_get(const s2r_envv *ev, const char *name)
{
    for (size_t i = 0; i < ev->n; i++)
        if (strcmp(ev->v[i].name, name) == 0)
            return ev->v[i].value;
    return NULL;
}

void s2r_envv_clear(s2r_envv *ev)
{
    if (ev->v) {
        for (size_t i = 0; i < ev->n; i++)
            if (env_own_block(ev, &ev->v[i]))
                free(ev->v[i].name); /* its value is in the same block */
        s2r_arena_free(envv_arena(ev));
        free(ev->v);
    }
    memset(ev, 0, sizeof(*ev));
}

void s2r_strlist_free(char **l)
{
    for (size_t i = 0; l && l[i]; i++)
        free(l[i]);
    free(l);
}
