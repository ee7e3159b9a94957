/* json_text.c: JSON strings written straight into an s2r_buf (base.h),
 * for answers and log lines on the server's hot path, where a json-c
 * tree per request cost more than the text itself. */
#include "base.h"

#include <stdint.h>
#include <string.h>

/* the two-character escape of C, or 0 (RFC 8259 §7) */
static char short_escape(unsigned char c)
{
    switch (c) {
    case '"':
        return '"';
    case '\\':
        return '\\';
    case '\b':
        return 'b';
    case '\f':
        return 'f';
    case '\n':
        return 'n';
    case '\r':
        return 'r';
    case '\t':
        return 't';
    default:
        return 0;
    }
}

/* True when none of the 8 bytes of V needs an escape: no byte below
 * 0x20, no '"', no '\\' (the bit tricks of "Bit Twiddling Hacks":
 * (x - 0x01..) & ~x & 0x80.. is not 0 exactly when a byte of x is 0,
 * and with 0x20.. when one is below 0x20). */
static bool plain8(uint64_t v)
{
    const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
    uint64_t q = v ^ (ones * '"'), bs = v ^ (ones * '\\');
    return !(((v - ones * 0x20) & ~v & highs) | ((q - ones) & ~q & highs) |
             ((bs - ones) & ~bs & highs));
}

/* 1 for the bytes a JSON string escapes: below 0x20, '"' and '\\' */
static const unsigned char k_escaped[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    ['"'] = 1, ['\\'] = 1};

void s2r_json_put_string(s2r_buf *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    s2r_buf_putn(b, "\"", 1);
    size_t run = 0; /* start of the bytes copied as they are */
    for (size_t i = 0; i < len;) {
        /* 8 bytes at a time while none is escaped, then the next 8 (the
         * escaped one among them) one by one */
        uint64_t v;
        while (i + 8 <= len && (memcpy(&v, s + i, 8), plain8(v)))
            i += 8;
        size_t stop = len - i > 8 ? i + 8 : len;
        for (; i < stop; i++) {
            unsigned char c = (unsigned char)s[i];
            if (!k_escaped[c])
                continue;
            s2r_buf_putn(b, s + run, i - run);
            char e = short_escape(c);
            if (e) {
                char esc[2] = {'\\', e};
                s2r_buf_putn(b, esc, 2);
            } else {
                char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4],
                               hex[c & 0xF]};
                s2r_buf_putn(b, esc, 6);
            }
            run = i + 1;
        }
    }
    s2r_buf_putn(b, s + run, len - run);
    s2r_buf_putn(b, "\"", 1);
}

/* ---- a whole document, laid out as json-c's pretty printer does ---- */

static void put_indent(s2r_json_writer *w, size_t level)
{
    static const char spaces[] = "                                ";
    size_t n = level * 2;
    while (n) {
        size_t k = n < sizeof(spaces) - 1 ? n : sizeof(spaces) - 1;
        s2r_buf_putn(w->out, spaces, k);
        n -= k;
    }
}

/* ",\n" or "\n", then the indent of a child of the open collection */
static void put_child_start(s2r_json_writer *w)
{
    size_t top = w->depth - 1;
    s2r_buf_putn(w->out, &",\n"[!w->had[top]], 1 + w->had[top]);
    w->had[top] = true;
    put_indent(w, w->depth);
}

/* what goes before a value: in an array, its line; in an object, nothing
 * (the key wrote it); at the root, one value only */
static bool before_value(s2r_json_writer *w)
{
    if (!w->depth) {
        if (w->root_done)
            w->failed = true;
        w->root_done = true;
        return !w->failed;
    }
    if (!w->object[w->depth - 1])
        put_child_start(w);
    return true;
}

void s2r_json_begin(s2r_json_writer *w, bool object)
{
    if (!before_value(w) || w->depth == S2R_JSON_MAX_DEPTH) {
        w->failed = true;
        return;
    }
    s2r_buf_putn(w->out, object ? "{" : "[", 1);
    w->object[w->depth] = object;
    w->had[w->depth++] = false;
}

void s2r_json_end(s2r_json_writer *w)
{
    if (!w->depth) {
        w->failed = true;
        return;
    }
    size_t top = --w->depth;
    s2r_buf_putn(w->out, "\n", 1); /* even when empty, as json-c */
    put_indent(w, w->depth);
    s2r_buf_putn(w->out, w->object[top] ? "}" : "]", 1);
}

void s2r_json_key(s2r_json_writer *w, const char *k, size_t len)
{
    if (!w->depth || !w->object[w->depth - 1]) {
        w->failed = true;
        return;
    }
    put_child_start(w);
    s2r_json_put_string(w->out, k, len);
    s2r_buf_putn(w->out, ": ", 2);
}

void s2r_json_string(s2r_json_writer *w, const char *s, size_t len)
{
    if (before_value(w))
        s2r_json_put_string(w->out, s, len);
}

void s2r_json_int(s2r_json_writer *w, int64_t v)
{
    char n[S2R_I64_TEXT];
    size_t k = s2r_i64_text(n, v);
    if (before_value(w))
        s2r_buf_putn(w->out, n, k);
}

void s2r_json_bool(s2r_json_writer *w, bool v)
{
    if (before_value(w))
        s2r_buf_putn(w->out, v ? "true" : "false", v ? 4 : 5);
}
