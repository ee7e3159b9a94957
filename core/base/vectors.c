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

int s2r_strv_take(s2r_strv *sv, char *s)
{
    if (sv->n + 1 >= sv->cap) {
        size_t cap = sv->cap ? sv->cap * 2 : 8;
        char **v = realloc(sv->v, cap * sizeof(*v));
        if (!v) {
            free(s);
            return S2R_ENOMEM;
        }
        sv->v = v;
        sv->cap = cap;
    }
    sv->v[sv->n++] = s;
    sv->v[sv->n] = NULL;
    return S2R_OK;
}

int s2r_strv_push(s2r_strv *sv, const char *s)
{
    char *c = strdup(s);
    return c ? s2r_strv_take(sv, c) : S2R_ENOMEM;
}

void s2r_strv_clear(s2r_strv *sv)
{
    for (size_t i = 0; i < sv->n; i++)
        free(sv->v[i]);
    free(sv->v);
    memset(sv, 0, sizeof(*sv));
}

/* NAME, NUL, VALUE, NUL in one block: name points at it, value into it */
static int env_entry(s2r_env *e, const char *name, const char *value)
{
    size_t nl = strlen(name) + 1, vl = strlen(value) + 1;
    char *b = malloc(nl + vl);
    if (!b)
        return S2R_ENOMEM;
    memcpy(b, name, nl);
    memcpy(b + nl, value, vl);
    e->name = b;
    e->value = b + nl;
    return S2R_OK;
}

int s2r_envv_set(s2r_envv *ev, const char *name, const char *value)
{
    for (size_t i = 0; i < ev->n; i++) {
        if (strcmp(ev->v[i].name, name) == 0) {
            char *old = ev->v[i].name;
            if (env_entry(&ev->v[i], old, value))
                return S2R_ENOMEM;
            free(old);
            return S2R_OK;
        }
    }
    return s2r_envv_append(ev, name, value);
}

int s2r_envv_append(s2r_envv *ev, const char *name, const char *value)
{
    if (ev->n == ev->cap) {
        size_t cap = ev->cap ? ev->cap * 2 : 8;
        s2r_env *v = realloc(ev->v, cap * sizeof(*v));
        if (!v)
            return S2R_ENOMEM;
        ev->v = v;
        ev->cap = cap;
    }
    if (env_entry(&ev->v[ev->n], name, value))
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
    for (size_t i = 0; i < ev->n; i++)
        free(ev->v[i].name); /* the value is in the same block */
    free(ev->v);
    memset(ev, 0, sizeof(*ev));
}

void s2r_strlist_free(char **l)
{
    for (size_t i = 0; l && l[i]; i++)
        free(l[i]);
    free(l);
}
