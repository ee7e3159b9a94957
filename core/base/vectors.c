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

/* A vector's strings are copies in blocks of its own that never move, so
 * that a string stays where it is until the vector is cleared, whatever
 * is added after it. The newest block is kept in the slot after the
 * vector's last (sv->v[cap], ev->v[cap].name), each block points to the
 * one before it. A conversion fills a dozen vectors with a few short
 * strings each: a malloc per string, and a free per string at the end,
 * was a fifth of the conversion's time. */
typedef struct str_block {
    struct str_block *prev;
    size_t used, size; /* bytes of text below */
    char text[];
} str_block;

/* The first block's text, and the most a block holds before a longer
 * string gets one of its own: small enough for the allocator's
 * per-thread cache (blocks up to about 1 KiB). */
enum { FIRST_TEXT = 200, MAX_TEXT = 1000 };

/* Room for @p need bytes in the newest block of *@p head, adding a block
 * when it has not; NULL when out of memory. */
static char *block_room(str_block **head, size_t need)
{
    str_block *b = *head;
    if (b && b->size - b->used >= need) {
        char *at = b->text + b->used;
        b->used += need;
        return at;
    }
    size_t size = b ? b->size * 2 : FIRST_TEXT;
    if (size > MAX_TEXT)
        size = MAX_TEXT;
    if (size < need)
        size = need;
    if (size > SIZE_MAX - sizeof(str_block))
        return NULL;
    str_block *nb = malloc(sizeof(str_block) + size);
    if (!nb)
        return NULL;
    nb->prev = b;
    nb->used = need;
    nb->size = size;
    *head = nb;
    return nb->text;
}

/* @p a (@p an bytes) and its NUL, then @p b (@p bn bytes, when not NULL)
 * and its NUL, copied into the blocks of *@p head; NULL when out of
 * memory. */
static char *block_copy(str_block **head, const char *a, size_t an,
                        const char *b, size_t bn)
{
    size_t need = an + 1 + (b ? bn + 1 : 0);
    if (an > SIZE_MAX / 4 || bn > SIZE_MAX / 4)
        return NULL;
    char *at = block_room(head, need);
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

static void blocks_free(str_block *b)
{
    while (b) {
        str_block *prev = b->prev;
        free(b);
        b = prev;
    }
}

/* ---- string vectors ---------------------------------------------------- */

/* The newest block of @p sv, in the slot after its last (v[cap]). */
static str_block **strv_blocks(s2r_strv *sv)
{
    return (str_block **)(void *)&sv->v[sv->cap];
}

/* Room for one more string and the NULL after it. */
static int strv_room(s2r_strv *sv)
{
    if (sv->v && sv->n + 1 < sv->cap)
        return S2R_OK;
    size_t cap = sv->cap ? sv->cap * 2 : 8;
    if (cap > SIZE_MAX / sizeof(char *) - 1)
        return S2R_ENOMEM;
    str_block *blocks = sv->v ? *strv_blocks(sv) : NULL;
    char **v = realloc(sv->v, (cap + 1) * sizeof(*v));
    if (!v)
        return S2R_ENOMEM;
    sv->v = v;
    sv->cap = cap;
    *strv_blocks(sv) = blocks;
    return S2R_OK;
}

static int strv_add(s2r_strv *sv, const char *s, size_t len)
{
    if (strv_room(sv))
        return S2R_ENOMEM;
    char *c = block_copy(strv_blocks(sv), s, len, NULL, 0);
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
        blocks_free(*strv_blocks(sv));
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

/* The newest block of @p ev, in the slot after its last (v[cap].name). */
static str_block **envv_blocks(s2r_envv *ev)
{
    return (str_block **)(void *)&ev->v[ev->cap].name;
}

/* NAME, NUL, VALUE, NUL in @p ev's blocks: name points at it, value
 * into it */
static int env_entry(s2r_envv *ev, s2r_env *e, const char *name,
                     const char *value)
{
    size_t nl = strlen(name);
    char *b = block_copy(envv_blocks(ev), name, nl, value, strlen(value));
    if (!b)
        return S2R_ENOMEM;
    e->name = b;
    e->value = b + nl + 1;
    return S2R_OK;
}

int s2r_envv_set(s2r_envv *ev, const char *name, const char *value)
{
    for (size_t i = 0; i < ev->n; i++) {
        if (strcmp(ev->v[i].name, name) == 0) {
            /* the old text stays in its block until the vector is
             * cleared: @p value may be read from it */
            char *old = ev->v[i].name;
            return env_entry(ev, &ev->v[i], old, value);
        }
    }
    return s2r_envv_append(ev, name, value);
}

int s2r_envv_append(s2r_envv *ev, const char *name, const char *value)
{
    if (!ev->v || ev->n == ev->cap) {
        size_t cap = ev->cap ? ev->cap * 2 : 8;
        if (cap > SIZE_MAX / sizeof(s2r_env) - 1)
            return S2R_ENOMEM;
        str_block *blocks = ev->v ? *envv_blocks(ev) : NULL;
        s2r_env *v = realloc(ev->v, (cap + 1) * sizeof(*v));
        if (!v)
            return S2R_ENOMEM;
        ev->v = v;
        ev->cap = cap;
        *envv_blocks(ev) = blocks;
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
        blocks_free(*envv_blocks(ev));
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
