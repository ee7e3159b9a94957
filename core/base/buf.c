/* buf.c: the growable text buffer (see base.h). */
#include "base.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool s2r_buf_reserve(s2r_buf *b, size_t more)
{
    if (b->oom)
        return false;
    if (b->len + more + 1 <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + more + 1) {
        if (cap > SIZE_MAX / 2) {
            s2r_buf_fail(b);
            return false;
        }
        cap *= 2;
    }
    /* the first block from malloc itself (realloc of NULL calls it) */
    char *p = b->p ? realloc(b->p, cap) : malloc(cap);
    if (!p) {
        s2r_buf_fail(b);
        return false;
    }
    b->p = p;
    b->cap = cap;
    return true;
}

void s2r_buf__putn_grow(s2r_buf *b, const char *s, size_t n)
{
    if (!s2r_buf_reserve(b, n))
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

size_t s2r_i64_text(char out[S2R_I64_TEXT], int64_t v)
{
    /* the magnitude as unsigned, so that INT64_MIN has one */
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    char rev[S2R_I64_TEXT];
    size_t n = 0, k = 0;
    do {
        rev[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        out[k++] = '-';
    while (n)
        out[k++] = rev[--n];
    out[k] = '\0';
    return k;
}

void s2r_buf_printf(s2r_buf *b, const char *fmt, ...)
{
    /* formatted once, in place, when the room at the end holds it (at
     * least 128 bytes are made there first); else again once there is */
    if (!s2r_buf_reserve(b, 128))
        return;
    size_t room = b->cap - b->len;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->p + b->len, room, fmt, ap);
    va_end(ap);
    if (n < 0) {
        s2r_buf_fail(b);
        return;
    }
    if ((size_t)n >= room) {
        if (!s2r_buf_reserve(b, (size_t)n))
            return;
        va_start(ap, fmt);
        vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    b->len += (size_t)n;
}

char *s2r_buf_finish(s2r_buf *b)
{
    if (!b->oom && !b->p)
        s2r_buf_reserve(b, 0);
    if (b->oom) {
        s2r_buf_free(b);
        return NULL;
    }
    b->p[b->len] = '\0';
    char *p = b->p;
    memset(b, 0, sizeof(*b));
    return p;
}

void s2r_buf_free(s2r_buf *b)
{
    free(b->p);
    memset(b, 0, sizeof(*b));
}
