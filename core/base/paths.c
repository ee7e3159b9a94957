/* paths.c: path text (folding, "lies under") and the s2r_volume list
 * shared by the site configuration and the workload (see base.h). */
#include "base.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *s2r_path_fold(const char *path)
{
    size_t n = strlen(path);
    char *out = malloc(n + 2);
    if (!out)
        return NULL;
    size_t o = 0;
    for (const char *r = path; *r;) {
        while (*r == '/')
            r++;
        const char *e = strchr(r, '/');
        size_t l = e ? (size_t)(e - r) : strlen(r);
        if (l == 0)
            break;
        if (l == 2 && r[0] == '.' && r[1] == '.') {
            while (o > 0 && out[--o] != '/')
                ;
        } else if (!(l == 1 && r[0] == '.')) {
            out[o++] = '/';
            memcpy(out + o, r, l);
            o += l;
        }
        r += l;
    }
    if (o == 0)
        out[o++] = '/';
    out[o] = '\0';
    return out;
}

char *s2r_path_resolve(const char *dir, const char *path)
{
    if (path[0] == '/')
        return s2r_path_fold(path);
    if (!dir)
        return NULL;
    char *joined = NULL, *out = NULL;
    if (asprintf(&joined, "%s/%s", dir, path) >= 0)
        out = s2r_path_fold(joined);
    free(joined);
    return out;
}

size_t s2r_path_prefix_len(const char *prefix)
{
    size_t n = strlen(prefix);
    while (n > 1 && prefix[n - 1] == '/')
        n--;
    return n;
}

bool s2r_path_under(const char *path, const char *prefix)
{
    size_t n = s2r_path_prefix_len(prefix);
    if (n == 1 && prefix[0] == '/')
        return path[0] == '/';
    return !strncmp(path, prefix, n) && (path[n] == '/' || !path[n]);
}

const s2r_volume *s2r_volume_for(const s2r_volume *v, size_t n,
                                 const char *path)
{
    const s2r_volume *best = NULL;
    for (size_t i = 0; i < n; i++)
        if (v[i].path && s2r_path_under(path, v[i].path) &&
            (!best || strlen(v[i].path) > strlen(best->path)))
            best = &v[i];
    return best;
}

static int dup_or_null(char **dst, const char *src)
{
    *dst = NULL;
    if (src && !(*dst = strdup(src)))
        return S2R_ENOMEM;
    return S2R_OK;
}

int s2r_volume_copy(s2r_volume *dst, const s2r_volume *src)
{
    memset(dst, 0, sizeof(*dst));
    dst->kind = src->kind;
    dst->read_only = src->read_only;
    dst->line = src->line;
    if (dup_or_null(&dst->path, src->path) ||
        dup_or_null(&dst->source, src->source) ||
        dup_or_null(&dst->server, src->server)) {
        s2r_volume_clear(dst);
        return S2R_ENOMEM;
    }
    return S2R_OK;
}

void s2r_volume_clear(s2r_volume *v)
{
    free(v->path);
    free(v->source);
    free(v->server);
    memset(v, 0, sizeof(*v));
}

void s2r_volumes_free(s2r_volume *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        s2r_volume_clear(&v[i]);
    free(v);
}

int s2r_volumes_push(s2r_volume **arr, size_t *n, const s2r_volume *v)
{
    s2r_volume copy;
    if (s2r_volume_copy(&copy, v))
        return S2R_ENOMEM;
    s2r_volume *na = realloc(*arr, (*n + 1) * sizeof(*na));
    if (!na) {
        s2r_volume_clear(&copy);
        return S2R_ENOMEM;
    }
    *arr = na;
    na[(*n)++] = copy;
    return S2R_OK;
}
