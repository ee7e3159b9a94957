/* migrate_buf.c: a growing text buffer for the report rows, with the
 * escapes of JSON (RFC 8259; bytes that are not UTF-8 become U+FFFD, so
 * report.json stays valid whatever the file names hold), HTML and Markdown
 * table cells. */
#include "migrate.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static bool grow(mg_buf *b, size_t more)
{
    if (b->oom)
        return false;
    if (b->n + more + 1 <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->n + more + 1)
        cap *= 2;
    char *s = realloc(b->s, cap);
    if (!s) {
        b->oom = true;
        return false;
    }
    b->s = s;
    b->cap = cap;
    return true;
}

void mg_buf_put(mg_buf *b, const char *s, size_t n)
{
    if (!grow(b, n))
        return;
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = '\0';
}

void mg_buf_puts(mg_buf *b, const char *s)
{
    mg_buf_put(b, s, strlen(s));
}

void mg_buf_printf(mg_buf *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof(small)) {
        mg_buf_put(b, small, (size_t)n);
        return;
    }
    if (!grow(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->s + b->n, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->n += (size_t)n;
}

/* Length of the UTF-8 sequence at @p s (1-4), 0 when it is not one. */
static size_t utf8_len(const unsigned char *s)
{
    if (s[0] < 0x80)
        return 1;
    size_t n = s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : s[0] >= 0xe0 ? 3
               : s[0] >= 0xc2 && s[0] <= 0xdf ? 2 : 0;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    return n;
}

void mg_buf_json(mg_buf *b, const char *s)
{
    if (!s) {
        mg_buf_puts(b, "null");
        return;
    }
    mg_buf_put(b, "\"", 1);
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        size_t run = 0;
        while (p[run] >= 0x20 && p[run] < 0x80 && p[run] != '"' &&
               p[run] != '\\')
            run++;
        mg_buf_put(b, (const char *)p, run);
        p += run;
        if (!*p)
            break;
        if (*p == '"' || *p == '\\') {
            char esc[2] = {'\\', (char)*p++};
            mg_buf_put(b, esc, 2);
        } else if (*p < 0x20) {
            mg_buf_printf(b, "\\u%04x", *p++);
        } else {
            size_t n = utf8_len(p);
            if (n)
                mg_buf_put(b, (const char *)p, n);
            else
                mg_buf_puts(b, "\\ufffd");
            p += n ? n : 1;
        }
    }
    mg_buf_put(b, "\"", 1);
}

void mg_buf_html(mg_buf *b, const char *s)
{
    for (const char *p = s ? s : ""; *p;) {
        size_t run = strcspn(p, "&<>\"'");
        mg_buf_put(b, p, run);
        p += run;
        if (!*p)
            break;
        mg_buf_puts(b, *p == '&' ? "&amp;" : *p == '<' ? "&lt;"
                       : *p == '>' ? "&gt;" : *p == '"' ? "&quot;" : "&#39;");
        p++;
    }
}

void mg_buf_md(mg_buf *b, const char *s)
{
    for (const char *p = s ? s : ""; *p; p++) {
        if (*p == '|' || *p == '\\' || *p == '`' || *p == '<')
            mg_buf_put(b, "\\", 1);
        mg_buf_put(b, *p == '\n' || *p == '\r' ? " " : p, 1);
    }
}

char *mg_buf_take(mg_buf *b)
{
    char *s = b->oom ? NULL : b->s ? b->s : strdup("");
    if (b->oom)
        free(b->s);
    memset(b, 0, sizeof(*b));
    return s;
}
