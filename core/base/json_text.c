/* json_text.c: JSON strings written straight into an s2r_buf (base.h),
 * for answers and log lines on the server's hot path, where a json-c
 * tree per request cost more than the text itself. */
#include "base.h"

#include <stdint.h>
#include <string.h>

/* The bytes of V (from s2r_load8) a JSON string escapes: below 0x20,
 * '"' and '\\', as the high bit of each; 0 when there are none. With the bit
 * tricks of "Bit Twiddling Hacks", (x - n..) & ~x & 0x80.. marks the
 * bytes of x below n (n <= 0x80): the first one exactly, the ones after
 * it maybe wrongly (a borrow runs up). Flipping bit 1 of every byte keeps
 * 0x00-0x1F among themselves and makes '"' (0x22) 0x20, so one test below
 * 0x21 finds both; a byte equal to '\\' is a zero byte (below 1) of
 * v ^ '\\'... Neither flip touches bit 7, so ~x is ~v in both. */
static uint64_t escapes8(uint64_t v)
{
    const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
    uint64_t low = (v ^ (ones * 0x02)) - ones * 0x21;
    uint64_t bs = (v ^ (ones * '\\')) - ones;
    return (low | bs) & ~v & highs;
}

/* What a JSON string writes for each byte (RFC 8259 §7): 0 for the byte
 * itself, the letter of its two-character escape, or 'u' for \u00xx */
static const char k_escape[256] = {
    'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'b', 't', 'n', 'u', 'f', 'r',
    'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u',
    'u', 'u', 'u', 'u', ['"'] = '"', ['\\'] = '\\'};

/* The escape of C (k_escape[C] is E, not 0) at O; the byte after it. */
static char *put_escape(char *o, unsigned char c, char e)
{
    static const char hex[] = "0123456789abcdef";
    o[0] = '\\';
    o[1] = e;
    if (e != 'u')
        return o + 2;
    o[2] = '0';
    o[3] = '0';
    o[4] = hex[c >> 4];
    o[5] = hex[c & 0xF];
    return o + 6;
}

void s2r_json_put_string(s2r_buf *b, const char *s, size_t len)
{
    /* room for the quotes and every byte as it is, made once; an escape
     * makes more only when the bytes left would not fit after it */
    if (len > SIZE_MAX - 8 || !s2r_buf_reserve(b, len + 2))
        return;
    char *o = b->p + b->len, *limit = b->p + b->cap;
    const char *p = s, *end = s + len;
    *o++ = '"';
    for (;;) {
        /* 16 bytes at a time (SSE2, every x86-64), then 8, copied whole
         * (the room holds the bytes left) up to the first escaped one:
         * the bytes after it are copied again after its escape */
        size_t k = 0;
        bool hit = false;
#if defined(__SSE2__)
        while (end - p >= 16) {
            /* the bytes below 0x20, '"' and '\\' */
            unsigned m16 = s2r_class16(p, '"', '\\', '\\', 0x20);
            memcpy(o, p, 16);
            if (m16) {
                k = (size_t)__builtin_ctz(m16);
                hit = true;
                break;
            }
            o += 16;
            p += 16;
        }
#endif
        if (!hit) {
            uint64_t m = 0;
            while (end - p >= 8) {
                m = escapes8(s2r_load8(p));
                memcpy(o, p, 8);
                if (m)
                    break;
                o += 8;
                p += 8;
            }
            if (m) {
                k = s2r_first_marked(m);
            } else { /* fewer than 8 left: one by one up to an escape */
                while (p + k < end && !k_escape[(unsigned char)p[k]]) {
                    o[k] = p[k];
                    k++;
                }
                if (p + k == end) {
                    o += k;
                    break;
                }
            }
        }
        o += k;
        p += k;
        unsigned char c = (unsigned char)*p++;
        /* this escape, the bytes after it, the quote and the NUL */
        if (limit - o < (end - p) + 8) {
            b->len = (size_t)(o - b->p);
            if (!s2r_buf_reserve(b, (size_t)(end - p) + 7))
                return;
            o = b->p + b->len;
            limit = b->p + b->cap;
        }
        o = put_escape(o, c, k_escape[c]);
    }
    *o++ = '"';
    *o = '\0';
    b->len = (size_t)(o - b->p);
}

/* ---- a whole document, laid out as json-c's pretty printer does ---- */

/* ",\n" and the spaces of the deepest indent: a child's line start is
 * the tail of it from the comma or from the break, in one append */
static const char k_line[] =
    ",\n                                                "
    "                                                ";
_Static_assert(sizeof(k_line) - 1 >= 2 + 2 * S2R_JSON_MAX_DEPTH,
               "k_line holds the deepest indent");

/* the start of the child line of a collection at @p depth (1 ..
 * S2R_JSON_MAX_DEPTH): "\n" and its indent, after a ',' when @p had
 * (the collection has a child already); its length in *@p n */
static const char *child_line(size_t depth, bool had, size_t *n)
{
    *n = (size_t)had + 1 + 2 * depth;
    return k_line + !had;
}

/* ",\n" or "\n", then the indent of a child of the open collection */
static void put_child_start(s2r_json_writer *w)
{
    size_t top = w->depth - 1, n;
    const char *line = child_line(w->depth, w->had[top], &n);
    w->had[top] = true;
    s2r_buf_putn(w->out, line, n);
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
    /* a break even when empty, as json-c; the indent; the bracket */
    s2r_buf_putn(w->out, k_line + 1, 1 + 2 * w->depth);
    s2r_buf_putn(w->out, w->object[top] ? "}" : "]", 1);
}

/* Keys this long or shorter are looked at byte by byte for escapes. */
enum { SHORT_KEY = 64 };

/* A key of the open object (not the root) of at most SHORT_KEY bytes that
 * needs no escape, written with its line start, its quotes and ": " in
 * one append: what put_child_start(), s2r_json_put_string() and the ": "
 * write. False, with nothing done, for a longer key or one to escape. */
static bool key_in_one(s2r_json_writer *w, const char *k, size_t len)
{
    if (len > SHORT_KEY)
        return false;
    char esc = 0;
    for (size_t i = 0; i < len; i++)
        esc |= k_escape[(unsigned char)k[i]];
    if (esc)
        return false;
    size_t top = w->depth - 1, n;
    const char *line = child_line(w->depth, w->had[top], &n);
    w->had[top] = true;
    s2r_buf *b = w->out;
    if (b->len + n + len + 4 >= b->cap && !s2r_buf_reserve(b, n + len + 4))
        return true; /* the buffer failed: every append is dropped */
    char *o = b->p + b->len;
    memcpy(o, line, n);
    o += n;
    *o++ = '"';
    memcpy(o, k, len);
    o += len;
    memcpy(o, "\": ", 4); /* and the NUL */
    b->len = (size_t)(o + 3 - b->p);
    return true;
}

void s2r_json_key(s2r_json_writer *w, const char *k, size_t len)
{
    if (!w->depth || !w->object[w->depth - 1]) {
        w->failed = true;
        return;
    }
    if (!key_in_one(w, k, len)) {
        put_child_start(w);
        s2r_json_put_string(w->out, k, len);
        s2r_buf_putn(w->out, ": ", 2);
    }
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
