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

/* The arena of a vector of @p cap elements of @p size bytes at @p v. */
static s2r_arena *arena_after(void *v, size_t cap, size_t size)
{
    return (s2r_arena *)(void *)((char *)v + cap * size);
}

/* The vector @p v of *@p cap elements of @p size bytes grown to twice as
 * many (8 at first), with room after them for its arena, which moves
 * along (a new one when @p v is NULL); NULL when out of memory (@p v is
 * as it was). */
static void *grow_with_arena(void *v, size_t *cap, size_t size)
{
    size_t slots = (sizeof(s2r_arena) + size - 1) / size;
    size_t ncap = *cap ? *cap * 2 : 8;
    if (ncap > SIZE_MAX / size - slots)
        return NULL;
    s2r_arena arena = v ? *arena_after(v, *cap, size)
                        : (s2r_arena){.first = FIRST_TEXT};
    void *nv = realloc(v, (ncap + slots) * size);
    if (!nv)
        return NULL;
    *cap = ncap;
    *arena_after(nv, ncap, size) = arena;
    return nv;
}

/* The bytes NAME + 1 + VALUE + 1 (@p value NULL: NAME + 1) take; 0 when
 * they do not fit a size_t. */
static size_t text_size(size_t nl, const char *value, size_t vl)
{
    if (nl > SIZE_MAX / 4 || vl > SIZE_MAX / 4)
        return 0;
    return nl + 1 + (value ? vl + 1 : 0);
}

/* NAME, NUL, then VALUE and NUL (when @p value is not NULL) at @p at. */
static char *put_text(char *at, const char *name, size_t nl,
                      const char *value, size_t vl)
{
    memcpy(at, name, nl);
    at[nl] = '\0';
    if (value) {
        memcpy(at + nl + 1, value, vl);
        at[nl + 1 + vl] = '\0';
    }
    return at;
}

/* put_text() into @p arena; NULL when out of memory. */
static char *arena_copy(s2r_arena *arena, const char *name, size_t nl,
                        const char *value, size_t vl)
{
    size_t need = text_size(nl, value, vl);
    char *at = need ? s2r_arena_alloc(arena, need) : NULL;
    return at ? put_text(at, name, nl, value, vl) : NULL;
}

/* ---- string vectors ---------------------------------------------------- */

static s2r_arena *strv_arena(s2r_strv *sv)
{
    return arena_after(sv->v, sv->cap, sizeof(char *));
}

static int strv_add(s2r_strv *sv, const char *s, size_t len)
{
    if (!sv->v || sv->n + 1 >= sv->cap) {
        char **v = grow_with_arena(sv->v, &sv->cap, sizeof(char *));
        if (!v)
            return S2R_ENOMEM;
        sv->v = v;
        sv->v[sv->n] = NULL; /* v[n] NULL even when the copy fails */
    }
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

static s2r_arena *envv_arena(s2r_envv *ev)
{
    return arena_after(ev->v, ev->cap, sizeof(s2r_env));
}

/* Whether entry @p e's text is a block of its own (a replaced value),
 * not the arena's. */
static bool env_own_block(s2r_envv *ev, const s2r_env *e)
{
    return !s2r_arena_owns(envv_arena(ev), e->name);
}

/* NAME, NUL, VALUE, NUL into entry @p e: in @p ev's arena, or, for a
 * replaced value (@p own), a block of its own that frees the entry's
 * last one. A replaced value left behind in the arena would grow with
 * the square of `export A=${A}x` lines. @p name and @p value may be the
 * entry's old text: it is copied before that is freed. */
static int env_entry(s2r_envv *ev, s2r_env *e, const char *name,
                     const char *value, bool own)
{
    size_t nl = strlen(name), vl = strlen(value);
    char *b;
    if (!own) {
        b = arena_copy(envv_arena(ev), name, nl, value, vl);
    } else {
        size_t need = text_size(nl, value, vl);
        b = need ? malloc(need) : NULL;
        if (b) {
            put_text(b, name, nl, value, vl);
            if (env_own_block(ev, e))
                free(e->name);
        }
    }
    if (!b)
        return S2R_ENOMEM;
    e->name = b;
    e->value = b + nl + 1;
    return S2R_OK;
}

int s2r_envv_set(s2r_envv *ev, const char *name, const char *value)
{
    for (size_t i = 0; i < ev->n; i++)
        if (strcmp(ev->v[i].name, name) == 0)
            return env_entry(ev, &ev->v[i], name, value, true);
    return s2r_envv_append(ev, name, value);
}

int s2r_envv_append(s2r_envv *ev, const char *name, const char *value)
{
    if (!ev->v || ev->n == ev->cap) {
        s2r_env *v = grow_with_arena(ev->v, &ev->cap, sizeof(s2r_env));
        if (!v)
            return S2R_ENOMEM;
        ev->v = v;
    }
    if (env_entry(ev, &ev->v[ev->n], name, value, false))
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
