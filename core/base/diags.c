/* diags.c: diagnostics and errors (see <s2r/s2r.h> and base.h). */
#include "base.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A message of this many bytes or fewer is formatted once, on the stack. */
enum { SHORT_MESSAGE = 512 };

/* The bytes of @p s and its NUL at @p at; the byte after them. */
static char *put_str(char *at, const char *s, size_t n)
{
    memcpy(at, s, n);
    at[n] = '\0';
    return at + n + 1;
}

int s2r_diags_vadd(s2r_diags *d, s2r_severity sev, const char *file,
                   int line, const char *option, size_t max_len,
                   const char *fmt, va_list ap)
{
    if (!d)
        return S2R_OK;
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 8;
        s2r_diag *v = realloc(d->v, cap * sizeof(*v));
        if (!v)
            return S2R_ENOMEM;
        d->v = v;
        d->cap = cap;
    }
    char small[SHORT_MESSAGE];
    va_list again;
    va_copy(again, ap);
    int got = vsnprintf(small, sizeof(small), fmt, ap);
    if (got < 0) {
        va_end(again);
        return S2R_ENOMEM;
    }
    size_t n = (size_t)got;
    if (max_len && n > max_len)
        n = max_len; /* as vsnprintf into max_len + 1 bytes */
    /* one block: the message, then the file and the option it names */
    size_t fl = file ? strlen(file) + 1 : 0, ol = option ? strlen(option) + 1 : 0;
    char *msg = malloc(n + 1 + fl + ol);
    if (!msg) {
        va_end(again);
        return S2R_ENOMEM;
    }
    if (n < sizeof(small)) {
        memcpy(msg, small, n);
        msg[n] = '\0';
    } else {
        vsnprintf(msg, n + 1, fmt, again);
    }
    va_end(again);
    char *at = msg + n + 1;
    s2r_diag *dg = &d->v[d->n++];
    dg->severity = sev;
    dg->line = line;
    dg->message = msg;
    dg->file = file ? at : NULL;
    if (file)
        at = put_str(at, file, fl - 1);
    dg->option = option ? at : NULL;
    if (option)
        put_str(at, option, ol - 1);
    return S2R_OK;
}

int s2r_diags_add(s2r_diags *d, s2r_severity sev, const char *file, int line,
                  const char *option, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = s2r_diags_vadd(d, sev, file, line, option, 0, fmt, ap);
    va_end(ap);
    return rc;
}

size_t s2r_diags_count(const s2r_diags *d, s2r_severity sev)
{
    size_t n = 0;
    for (size_t i = 0; d && i < d->n; i++)
        n += d->v[i].severity == sev;
    return n;
}

bool s2r_diags_has_option(const s2r_diags *d, const char *option)
{
    for (size_t i = 0; d && i < d->n; i++)
        if (d->v[i].severity >= S2R_SEV_WARNING && d->v[i].option &&
            strcmp(d->v[i].option, option) == 0)
            return true;
    return false;
}

void s2r_diag_put(s2r_buf *b, const s2r_diag *dg)
{
    static const char *const names[] = {"note", "warning", "error"};
    s2r_buf_puts(b, dg->file ? dg->file : "s2r");
    if (dg->line > 0) {
        s2r_buf_putn(b, ":", 1);
        s2r_buf_put_i64(b, dg->line);
    }
    s2r_buf_putn(b, ": ", 2);
    s2r_buf_puts(b, names[dg->severity]);
    s2r_buf_putn(b, ": ", 2);
    s2r_buf_puts(b, dg->message);
}

char *s2r_diag_format(const s2r_diag *dg)
{
    s2r_buf b = {0};
    s2r_diag_put(&b, dg);
    return s2r_buf_finish(&b);
}

void s2r_diags_clear(s2r_diags *d)
{
    for (size_t i = 0; d && i < d->n; i++)
        free(d->v[i].message); /* the file and option with it */
    if (d) {
        free(d->v);
        memset(d, 0, sizeof(*d));
    }
}

int s2r_error_set(s2r_error *err, int code, const char *fmt, ...)
{
    if (!err)
        return code;
    err->code = code;
    err->http_status = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
    return code;
}
