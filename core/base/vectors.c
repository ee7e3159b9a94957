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

/* A vector is an arena of its own (blocks that never move): its strings
 * are copies carved from it, and so is its array, which grows into a new
 * array twice as long, the old one left where it was
 * (s2r_arena_grow_array()). A string thus stays where it is until the
 * vector is cleared, whatever is added after it. The arena is kept in
 * the slots after the vector's last (from v[cap]). A conversion fills a
 * dozen vectors with a few short strings each: a malloc per string, and
 * a free per string at the end, were a tenth of its time, and an array
 * and a text block apart still two of each; now such a vector is one
 * block. The first block holds the array's first 8 slots and the text of
 * most vectors; the thread keeps it when the vector is cleared, for the
 * next one (arena.c). */
enum { FIRST_BLOCK = 480 };

/* ---- string vectors ---------------------------------------------------- */

static s2r_arena *strv_arena(s2r_strv *sv)
{
    return s2r_arena_after(sv->v, sv->cap, sizeof(char *));
}

static int strv_add(s2r_strv *sv, const char *s, size_t len)
{
    if (!sv->v || sv->n + 1 >= sv->cap) {
        char **v = s2r_arena_grow_array(sv->v, sv->n, &sv->cap,
                                        sizeof(char *), FIRST_BLOCK);
        if (!v)
            return S2R_ENOMEM;
        sv->v = v;
        sv->v[sv->n] = NULL; /* v[n] NULL even when the copy fails */
    }
    char *c = s2r_arena_strndup(strv_arena(sv), s, len);
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
    /* the array, and the strings with it */
    s2r_arena_free_array(sv->v, sv->cap, sizeof(char *));
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
    return s2r_arena_after(ev->v, ev->cap, sizeof(s2r_env));
}

/* An entry's text is a byte that says where it lies, then NAME, NUL,
 * VALUE, NUL: in the vector's arena (IN_ARENA), or a block of its own
 * (OWN_BLOCK, a replaced value), which starts at that byte. */
enum { IN_ARENA = 0, OWN_BLOCK = 1 };

/* Whether entry @p e's text is a block of its own, not the arena's. */
static bool env_own_block(const s2r_env *e)
{
    return e->name[-1] == OWN_BLOCK;
}

/* The bytes of an entry's text; 0 when they do not fit a size_t. */
static size_t text_size(size_t nl, size_t vl)
{
    if (nl > SIZE_MAX / 4 || vl > SIZE_MAX / 4)
        return 0;
    return 1 + nl + 1 + vl + 1;
}

/* The length of entry @p e's name: its value starts after the name's
 * NUL (env_entry() writes them so). */
static size_t env_name_len(const s2r_env *e)
{
    return (size_t)(e->value - e->name) - 1;
}

/* ---- the index of the names ---- */

/* A vector of more than ENV_FEW entries keeps an index of its names, so
 * that setting n distinct names costs n look-ups, not n^2/2 comparisons:
 * an open-addressed table of entry numbers + 1 (0: a free slot), its size
 * a power of 2, at most half full; malloc'd, freed by s2r_envv_clear().
 * Its address is the name of the vector's last slot, v[cap - 1], which
 * is then never an entry. A vector of ENV_FEW entries or fewer has none
 * and is looked up entry by entry. */
enum { ENV_FEW = 16 };

typedef struct env_index {
    size_t cap;
    size_t slot[]; /* cap of them */
} env_index;

/* The index of @p ev, which has more than ENV_FEW entries. */
static env_index *env_index_of(const s2r_envv *ev)
{
    return (env_index *)(void *)ev->v[ev->cap - 1].name;
}

/* The slot of @p ix for the name of @p nl bytes at @p name: the one of
 * its entry in @p ev, or the free one where it goes. */
static size_t *index_slot(env_index *ix, const s2r_envv *ev,
                          const char *name, size_t nl)
{
    size_t m = ix->cap - 1;
    for (size_t i = s2r_hash_bytes(name, nl) & m;; i = (i + 1) & m) {
        size_t k = ix->slot[i];
        if (!k || (env_name_len(&ev->v[k - 1]) == nl &&
                   memcmp(ev->v[k - 1].name, name, nl) == 0))
            return &ix->slot[i];
    }
}

/* Entry @p i of @p ev into @p ix, unless an earlier entry has its name
 * (s2r_envv_append() of a name it holds: as the look-up without an
 * index, the first one is found). */
static void index_add(env_index *ix, const s2r_envv *ev, size_t i)
{
    size_t *s = index_slot(ix, ev, ev->v[i].name, env_name_len(&ev->v[i]));
    if (!*s)
        *s = i + 1;
}

/* A new index of the first @p n entries of @p ev in place of @p old (NULL:
 * none), room for as many again. @return S2R_OK or S2R_ENOMEM (@p old is
 * then kept). */
static int index_build(s2r_envv *ev, size_t n, env_index *old)
{
    size_t cap = 64;
    while (cap < 4 * n && cap <= SIZE_MAX / 2)
        cap *= 2;
    env_index *ix = cap <= (SIZE_MAX - sizeof(*ix)) / sizeof(size_t)
                        ? s2r_zalloc(1, sizeof(*ix) + cap * sizeof(size_t))
                        : NULL;
    if (!ix)
        return S2R_ENOMEM;
    ix->cap = cap;
    for (size_t i = 0; i < n; i++)
        index_add(ix, ev, i);
    free(old);
    ev->v[ev->cap - 1].name = (char *)(void *)ix;
    return S2R_OK;
}

/* The entry of @p ev named by the @p nl bytes at @p name, or NULL: one
 * probe of the index, or, in a vector of a few entries, the lengths
 * compared first, so that most entries cost no call. */
static s2r_env *env_find(const s2r_envv *ev, const char *name, size_t nl)
{
    if (ev->n > ENV_FEW) {
        size_t k = *index_slot(env_index_of(ev), ev, name, nl);
        return k ? &ev->v[k - 1] : NULL;
    }
    for (size_t i = 0; i < ev->n; i++) {
        s2r_env *e = &ev->v[i];
        if (env_name_len(e) == nl && memcmp(e->name, name, nl) == 0)
            return e;
    }
    return NULL;
}

/* The text of NAME (@p nl bytes) and VALUE into entry @p e: in @p ev's
 * arena, or, for a replaced value (@p own), a block of its own that
 * frees the entry's last one. A replaced value left behind in the arena
 * would grow with the square of `export A=${A}x` lines. @p name and
 * @p value may be the entry's old text: it is copied before that is
 * freed. */
static int env_entry(s2r_envv *ev, s2r_env *e, const char *name, size_t nl,
                     const char *value, bool own)
{
    size_t vl = strlen(value);
    size_t need = text_size(nl, vl);
    char *b = !need ? NULL
              : own ? malloc(need)
                    : s2r_arena_alloc(envv_arena(ev), need);
    if (!b)
        return S2R_ENOMEM;
    b[0] = own ? OWN_BLOCK : IN_ARENA;
    memcpy(b + 1, name, nl);
    b[1 + nl] = '\0';
    memcpy(b + 1 + nl + 1, value, vl);
    b[1 + nl + 1 + vl] = '\0';
    if (own && env_own_block(e))
        free(e->name - 1);
    e->name = b + 1;
    e->value = b + 1 + nl + 1;
    return S2R_OK;
}

/* env_append() to a vector of ENV_FEW entries or more, which keeps an
 * index once the entry is added, and v[cap - 1] free for it (not inlined:
 * env_append() stays as small as before for the few entries of most
 * vectors). */
__attribute__((noinline)) static int
env_append_indexed(s2r_envv *ev, const char *name, size_t nl,
                   const char *value)
{
    env_index *ix = ev->n > ENV_FEW ? env_index_of(ev) : NULL;
    if (ev->n + 1 >= ev->cap) {
        s2r_env *v = s2r_arena_grow_array(ev->v, ev->n, &ev->cap,
                                          sizeof(s2r_env), FIRST_BLOCK);
        if (!v)
            return S2R_ENOMEM;
        ev->v = v;
        if (ix)
            ev->v[ev->cap - 1].name = (char *)(void *)ix;
    }
    if (env_entry(ev, &ev->v[ev->n], name, nl, value, false))
        return S2R_ENOMEM;
    if (!ix || 2 * (ev->n + 1) > ix->cap) {
        if (index_build(ev, ev->n + 1, ix))
            return S2R_ENOMEM;
    } else {
        index_add(ix, ev, ev->n);
    }
    ev->n++;
    return S2R_OK;
}

/* s2r_envv_append() of a name of @p nl bytes. */
static int env_append(s2r_envv *ev, const char *name, size_t nl,
                      const char *value)
{
    if (ev->n >= ENV_FEW)
        return env_append_indexed(ev, name, nl, value);
    if (!ev->v || ev->n == ev->cap) {
        s2r_env *v = s2r_arena_grow_array(ev->v, ev->n, &ev->cap,
                                          sizeof(s2r_env), FIRST_BLOCK);
        if (!v)
            return S2R_ENOMEM;
        ev->v = v;
    }
    if (env_entry(ev, &ev->v[ev->n], name, nl, value, false))
        return S2R_ENOMEM;
    ev->n++;
    return S2R_OK;
}

int s2r_envv_set(s2r_envv *ev, const char *name, const char *value)
{
    size_t nl = strlen(name);
    s2r_env *e = env_find(ev, name, nl);
    return e ? env_entry(ev, e, name, nl, value, true)
             : env_append(ev, name, nl, value);
}

int s2r_envv_append(s2r_envv *ev, const char *name, const char *value)
{
    return env_append(ev, name, strlen(name), value);
}

const char *s2r_envv_get(const s2r_envv *ev, const char *name)
{
    const s2r_env *e = ev->n ? env_find(ev, name, strlen(name)) : NULL;
    return e ? e->value : NULL;
}

void s2r_envv_clear(s2r_envv *ev)
{
    if (ev->v) {
        if (ev->n > ENV_FEW)
            free(env_index_of(ev));
        for (size_t i = 0; i < ev->n; i++)
            if (env_own_block(&ev->v[i]))
                free(ev->v[i].name - 1); /* its value is in the same block */
        /* the array, and the rest of the text with it */
        s2r_arena_free_array(ev->v, ev->cap, sizeof(s2r_env));
    }
    memset(ev, 0, sizeof(*ev));
}

void s2r_strlist_free(char **l)
{
    for (size_t i = 0; l && l[i]; i++)
        free(l[i]);
    free(l);
}
