/* diags.c: diagnostics and errors (see <s2r/s2r.h> and base.h). */
#include "base.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *xstrdup(const char *s)
{
    return s ? strdup(s) : NULL;
}

int s2r_diags_add(s2r_diags *d, s2r_severity sev, const char *file, int line,
                  const char *option, const char *fmt, ...)
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
    va_list ap;
    va_start(ap, fmt);
    char *msg = NULL;
    int rc = vasprintf(&msg, fmt, ap);
    va_end(ap);
    if (rc < 0)
        return S2R_ENOMEM;
    s2r_diag *dg = &d->v[d->n++];
    dg->severity = sev;
    dg->file = xstrdup(file);
    dg->line = line;
    dg->option = xstrdup(option);
    dg->message = msg;
    return S2R_OK;
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

char *s2r_diag_format(const s2r_diag *dg)
{
    static const char *const names[] = {"note", "warning", "error"};
    char *out = NULL;
    const char *file = dg->file ? dg->file : "s2r";
    int rc;
    if (dg->line > 0)
        rc = asprintf(&out, "%s:%d: %s: %s", file, dg->line,
                      names[dg->severity], dg->message);
    else
        rc = asprintf(&out, "%s: %s: %s", file, names[dg->severity],
                      dg->message);
    return rc < 0 ? NULL : out;
}

void s2r_diags_clear(s2r_diags *d)
{
    for (size_t i = 0; d && i < d->n; i++) {
        free(d->v[i].file);
        free(d->v[i].option);
        free(d->v[i].message);
    }
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
