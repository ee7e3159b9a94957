/* diags.c: diagnostics and errors (see <s2r/s2r.h> and base.h). */
#include "base.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A message of this many bytes or fewer is formatted once, on the stack. */
enum { SHORT_MESSAGE = 512 };

/* A list is an arena of its own, kept in the slot after its last (from
 * v[cap]): its array is carved from it (s2r_arena_grow_array()), and so
 * is each diagnostic's text, the message, file and option in one piece.
 * A malloc per diagnostic, and a free per diagnostic at the end, were a
 * twentieth of a conversion's time; the first block holds the array's
 * first 8 entries and the text of about as many diagnostics. */
enum { FIRST_BLOCK = 1008 };

/* The bytes of @p s and its NUL at @p at; the byte after them. */
static char *put_str(char *at, const char *s, size_t n)
{
    memcpy(at, s, n);
    at[n] = '\0';
    return at + n + 1;
}

/* The text a message's format writes, as vsnprintf writes it, for the
 * conversions messages use: %s, %.*s, %c, %d, %u, %ld, %lu, %lld, %llu,
 * %zu and %%. Any other (a flag, a width, a precision of its own, a NULL
 * string) is left to vsnprintf, from a copy of the arguments, into the
 * same room. */

/* The bytes of the text so far: up to CAP - 1 kept in OUT, LEN counted. */
typedef struct msg_text {
    char *out;
    size_t cap, len;
} msg_text;

static void msg_put(msg_text *t, const char *s, size_t n)
{
    if (t->len < t->cap - 1) {
        size_t room = t->cap - 1 - t->len;
        memcpy(t->out + t->len, s, n < room ? n : room);
    }
    t->len += n;
}

static void msg_unsigned(msg_text *t, unsigned long long u, bool minus)
{
    char d[24];
    size_t k = sizeof(d);
    do
        d[--k] = (char)('0' + u % 10);
    while (u /= 10);
    if (minus)
        d[--k] = '-';
    msg_put(t, d + k, sizeof(d) - k);
}

static void msg_signed(msg_text *t, long long v)
{
    msg_unsigned(t, v < 0 ? 0 - (unsigned long long)v
                          : (unsigned long long)v, v < 0);
}

/* The conversion at F (after its '%'): its length in the format, with
 * its length modifier (0 none, 'l', 'L' for ll, 'z') in *MOD and whether
 * it takes a precision argument (".*") in *PREC; 0 when it is none of
 * the plain ones. */
static size_t plain_conversion(const char *f, int *mod, bool *prec)
{
    size_t k = 0;
    *prec = f[0] == '.' && f[1] == '*';
    k += *prec ? 2 : 0;
    *mod = 0;
    if (f[k] == 'l' && f[k + 1] == 'l')
        *mod = 'L', k += 2;
    else if (f[k] == 'l' || f[k] == 'z')
        *mod = f[k++];
    char c = f[k];
    if (c == 's' || c == 'c' || c == '%')
        return *mod || (*prec && c != 's') ? 0 : k + 1;
    if (c == 'd' || c == 'u')
        return *prec || (*mod == 'z' && c == 'd') ? 0 : k + 1;
    return 0;
}

/* The format's text into OUT (CAP > 0 bytes, NUL-ended, cut as vsnprintf
 * cuts): its whole length, or -1 when vsnprintf must write it (then AP
 * may have been read from, and OUT written to). The format is read once:
 * a conversion that is not a plain one stops it where it stands. */
static int plain_format(char *out, size_t cap, const char *fmt, va_list ap)
{
    int mod;
    bool prec;
    msg_text t = {out, cap, 0};
    for (const char *f = fmt;;) {
        const char *pc = strchr(f, '%');
        msg_put(&t, f, pc ? (size_t)(pc - f) : strlen(f));
        if (!pc)
            break;
        size_t k = plain_conversion(pc + 1, &mod, &prec);
        if (!k)
            return -1;
        char c = pc[k];
        f = pc + 1 + k;
        if (c == '%') {
            msg_put(&t, "%", 1);
        } else if (c == 's') {
            int p = prec ? va_arg(ap, int) : -1;
            const char *s = va_arg(ap, const char *);
            if (!s)
                return -1;
            msg_put(&t, s, p < 0 ? strlen(s) : strnlen(s, (size_t)p));
        } else if (c == 'c') {
            char ch = (char)va_arg(ap, int);
            msg_put(&t, &ch, 1);
        } else if (c == 'd') {
            msg_signed(&t, mod == 'L'   ? va_arg(ap, long long)
                           : mod == 'l' ? va_arg(ap, long)
                                        : va_arg(ap, int));
        } else {
            msg_unsigned(&t, mod == 'L'   ? va_arg(ap, unsigned long long)
                             : mod == 'l' ? va_arg(ap, unsigned long)
                             : mod == 'z' ? va_arg(ap, size_t)
                                          : va_arg(ap, unsigned), false);
        }
    }
    if (t.len > INT_MAX)
        return -1;
    out[t.len < cap ? t.len : cap - 1] = '\0';
    return (int)t.len;
}

int s2r_diags_vadd(s2r_diags *d, s2r_severity sev, const char *file,
                   int line, const char *option, size_t max_len,
                   const char *fmt, va_list ap)
{
    if (!d)
        return S2R_OK;
    if (d->n == d->cap) {
        s2r_diag *v = s2r_arena_grow_array(d->v, d->n, &d->cap, sizeof(*v),
                                           FIRST_BLOCK);
        if (!v)
            return S2R_ENOMEM;
        d->v = v;
    }
    char small[SHORT_MESSAGE];
    va_list again, plain;
    va_copy(again, ap);
    va_copy(plain, ap);
    int got = plain_format(small, sizeof(small), fmt, plain);
    va_end(plain);
    if (got < 0)
        got = vsnprintf(small, sizeof(small), fmt, ap);
    if (got < 0) {
        va_end(again);
        return S2R_ENOMEM;
    }
    size_t n = (size_t)got;
    if (max_len && n > max_len)
        n = max_len; /* as vsnprintf into max_len + 1 bytes */
    /* one piece: the message, then the file and the option it names */
    size_t fl = file ? strlen(file) + 1 : 0, ol = option ? strlen(option) + 1 : 0;
    char *msg = s2r_arena_alloc(s2r_arena_after(d->v, d->cap, sizeof(*d->v)),
                                n + 1 + fl + ol);
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
    if (!d)
        return;
    /* the array, and the text of each diagnostic with it */
    s2r_arena_free_array(d->v, d->cap, sizeof(*d->v));
    memset(d, 0, sizeof(*d));
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
