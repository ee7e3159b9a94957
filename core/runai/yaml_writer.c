/* yaml_writer.c: block-style YAML for the emitters (yaml_writer.h).
 *
 * Layout and style choice follow libyaml 0.2.5's emitter with the
 * settings s2r used it with (indent 2, width -1, LN breaks, unicode), so
 * that the text is the same; the cost is a scan and a copy per scalar
 * instead of an allocated, queued and freed event and one call per
 * character. Character classes are YAML 1.1's (§5.1 printable, §5.4
 * line breaks) as libyaml tests them on UTF-8 bytes. */
#include "yaml_writer.h"

#include <stdint.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* ---- characters (P[0..LEN) is valid UTF-8; past LEN reads as end) -- */

static size_t char_width(unsigned char c)
{
    return c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3
                                                                      : 4;
}

/* a line break: CR, LF, NEL (U+0085), LS (U+2028), PS (U+2029) */
static bool is_break(const unsigned char *p, size_t left)
{
    if (!left)
        return false;
    if (p[0] == '\r' || p[0] == '\n')
        return true;
    if (p[0] == 0xC2)
        return left > 1 && p[1] == 0x85;
    return p[0] == 0xE2 && left > 2 && p[1] == 0x80 &&
           (p[2] == 0xA8 || p[2] == 0xA9);
}

/* a blank, a break, or the end */
static bool is_blankz(const unsigned char *p, size_t left)
{
    return !left || p[0] == ' ' || p[0] == '\t' || is_break(p, left);
}

/* printable as libyaml's emitter counts it: LF, ASCII 0x20-0x7E and the
 * two- and three-byte characters from U+00A0 but the surrogates, BOM,
 * U+FFFE and U+FFFF (four-byte characters are escaped) */
static bool is_printable(const unsigned char *p)
{
    unsigned char c = p[0];
    if (c == 0x0A || (c >= 0x20 && c <= 0x7E))
        return true;
    if (c == 0xC2)
        return p[1] >= 0xA0;
    if (c > 0xC2 && c < 0xED)
        return true;
    if (c == 0xED)
        return p[1] < 0xA0;
    if (c == 0xEE)
        return true;
    if (c == 0xEF)
        return !(p[1] == 0xBB && p[2] == 0xBF) &&
               !(p[1] == 0xBF && (p[2] == 0xBE || p[2] == 0xBF));
    return false;
}

/* ---- what a scalar allows ----------------------------------------- */

typedef struct scalar_facts {
    bool multiline;
    bool plain_ok; /* block context: flow plain is never needed */
    bool single_ok;
    bool block_ok;
    bool above_ascii; /* a byte above ASCII (true when not looked at) */
} scalar_facts;

static bool first_indicator(unsigned char c)
{
    switch (c) {
    case '#': case ',': case '[': case ']': case '{': case '}': case '&':
    case '*': case '!': case '|': case '>': case '\'': case '"': case '%':
    case '@': case '`':
        return true;
    default:
        return false;
    }
}

/* ASCII bytes that need no look at their neighbours once past the first
 * character: printable, and neither a blank, a break, ':' nor '#' */
static bool ordinary(unsigned char c)
{
    return c > 0x20 && c < 0x7F && c != ':' && c != '#';
}

/* ASCII text whose only effect on the facts is where its last space
 * falls: printable (0x20-0x7E), and neither ':' nor '#' */
static bool text_byte(unsigned char c)
{
    return c >= 0x20 && c < 0x7F && c != ':' && c != '#';
}

/* The bytes of V (from s2r_load8) that are not text_byte()s (with
 * COLON_HASH) or not printable ASCII (without), as the high bit of each;
 * 0 when there are none. (x - n..) & ~x & 0x80.. marks the bytes of x
 * below n (n <= 0x80); (x + (0x7F - m)..) | x, masked the same, those
 * above m (a carry runs up only out of a marked byte); a byte equal to c
 * is a zero byte of x ^ c... Each marks its first byte exactly, so the
 * lowest mark of all is the first byte that stops the run. */
static uint64_t stops8(uint64_t v, bool colon_hash)
{
    const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
    uint64_t m = ((v - ones * 0x20) & ~v) | ((v + ones * (0x7F - 0x7E)) | v);
    if (colon_hash) {
        uint64_t colon = v ^ (ones * ':'), hash = v ^ (ones * '#');
        m |= ((colon - ones) & ~colon) | ((hash - ones) & ~hash);
    }
    return m & highs;
}

#if defined(__SSE2__)
/* The bytes of the 16 at P that stops8() marks, as bits 0-15 (0: none):
 * below 0x20 or above 0x7E is below 0x20 as a signed byte, or 0x7F */
static inline unsigned stops16(const unsigned char *p, bool colon_hash)
{
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
    __m128i m = _mm_or_si128(_mm_cmplt_epi8(v, _mm_set1_epi8(0x20)),
                             _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7F)));
    if (colon_hash)
        m = _mm_or_si128(m, _mm_or_si128(
                                _mm_cmpeq_epi8(v, _mm_set1_epi8(':')),
                                _mm_cmpeq_epi8(v, _mm_set1_epi8('#'))));
    return (unsigned)_mm_movemask_epi8(m);
}
#endif

/* Where the text_byte()s (with COLON_HASH; else the printable ASCII
 * bytes) from P[I) end (I < LEN): 16 bytes at a time (SSE2, every
 * x86-64) while 16 are left, then 8 at a time up to the first byte that
 * stops them, the last 8 of P read again with those before I taken as
 * text; one at a time in a scalar shorter than 8 bytes */
static size_t text_end(const unsigned char *p, size_t i, size_t len,
                       bool colon_hash)
{
    if (len < 8) {
        while (i < len && p[i] >= 0x20 && p[i] < 0x7F &&
               (!colon_hash || text_byte(p[i])))
            i++;
        return i;
    }
#if defined(__SSE2__)
    for (; len - i >= 16; i += 16) {
        unsigned m = stops16(p + i, colon_hash);
        if (m)
            return i + (size_t)__builtin_ctz(m);
    }
    if (i == len)
        return len;
#endif
    for (;;) {
        size_t at = i + 8 <= len ? i : len - 8;
        uint64_t v = s2r_load8((const char *)p + at);
        if (at < i) {
            uint64_t before = (UINT64_C(1) << (8 * (i - at))) - 1;
            v = (v & ~before) | (UINT64_C(0x6161616161616161) & before);
        }
        uint64_t m = stops8(v, colon_hash);
        if (m)
            return at + s2r_first_marked(m);
        if (at + 8 == len)
            return len;
        i = at + 8;
    }
}

static scalar_facts analyse(const unsigned char *s, size_t len)
{
    scalar_facts f = {false, true, true, false, false};
    if (!len)
        return f; /* plain in a block, quoted as a key; never a block */
    /* a letter or '/' (no indicator, blank or break) and then text_byte()s
     * only, the last no space: what the loop below finds for it, every
     * style open to it */
    unsigned char c0 = (unsigned char)(s[0] | 0x20);
    if (((c0 >= 'a' && c0 <= 'z') || s[0] == '/') && s[len - 1] != ' ' &&
        (len == 1 || text_end(s, 1, len, true) == len)) {
        f.block_ok = true;
        return f;
    }
    bool indicators = (len >= 3 && ((s[0] == '-' && s[1] == '-' &&
                                     s[2] == '-') ||
                                    (s[0] == '.' && s[1] == '.' &&
                                     s[2] == '.')));
    bool breaks = false, special = false, lead_space = false,
         lead_break = false, trail_space = false, trail_break = false,
         break_space = false, space_break = false;
    bool prev_space = false, prev_break = false, preceded_ws = true;
    for (size_t i = 0; i < len;) {
        if (i > 0 && !prev_break) { /* text up to the byte that stops it */
            size_t j = text_end(s, i, len, true);
            if (j > i) {
                i = j;
                prev_space = preceded_ws = s[i - 1] == ' ';
                trail_space |= i == len && prev_space;
                continue;
            }
        }
        unsigned char c = s[i];
        if (i > 0 && ordinary(c)) { /* after a break: text goes on */
            i++;
            prev_space = prev_break = preceded_ws = false;
            continue;
        }
        if (i > 0 && c == ' ') { /* what the general case finds, sooner */
            trail_space |= i + 1 == len;
            break_space |= prev_break;
            prev_space = preceded_ws = true;
            prev_break = false;
            i++;
            continue;
        }
        if (i > 0 && c == '\n') { /* idem */
            breaks = true;
            trail_break |= i + 1 == len;
            space_break |= prev_space;
            prev_break = preceded_ws = true;
            prev_space = false;
            i++;
            continue;
        }
        size_t w = char_width(c);
        f.above_ascii |= c >= 0x80;
        bool followed_ws = is_blankz(s + i + w, len - i - w);
        if (i == 0) {
            if (first_indicator(c) ||
                ((c == '?' || c == ':' || c == '-') && followed_ws))
                indicators = true;
        } else if ((c == ':' && followed_ws) || (c == '#' && preceded_ws)) {
            indicators = true;
        }
        if (!is_printable(s + i))
            special = true;
        bool brk = is_break(s + i, len - i);
        if (brk)
            breaks = true;
        if (c == ' ') {
            lead_space |= i == 0;
            trail_space |= i + w == len;
            break_space |= prev_break;
            prev_space = true, prev_break = false;
        } else if (brk) {
            lead_break |= i == 0;
            trail_break |= i + w == len;
            space_break |= prev_space;
            prev_space = false, prev_break = true;
        } else {
            prev_space = prev_break = false;
        }
        preceded_ws = c == ' ' || c == '\t' || brk;
        i += w;
    }
    f.multiline = breaks;
    f.block_ok = true;
    if (lead_space || lead_break || trail_space || trail_break)
        f.plain_ok = false;
    if (trail_space)
        f.block_ok = false;
    if (break_space)
        f.plain_ok = f.single_ok = false;
    if (space_break || special)
        f.plain_ok = f.single_ok = f.block_ok = false;
    if (breaks || indicators)
        f.plain_ok = false;
    return f;
}

/* The one fact a literal value needs, block_ok, for less than
 * analyse(): the text is not empty, holds printable characters only,
 * does not end in a space, and no space comes right before a break */
static bool literal_ok(const unsigned char *s, size_t len,
                       bool *above_ascii)
{
    if (!len || s[len - 1] == ' ')
        return false;
    size_t i = 0;
    while (i < len && (i = text_end(s, i, len, false)) < len) {
        unsigned char c = s[i];
        *above_ascii |= c >= 0x80;
        if (c != '\n' && (c < 0x80 || !is_printable(s + i)))
            return false;
        if (i > 0 && s[i - 1] == ' ' && is_break(s + i, len - i))
            return false;
        i += char_width(c);
    }
    return true;
}

static s2r_yaml_style choose(s2r_yaml_style asked, const scalar_facts *f,
                             size_t len, bool simple_key)
{
    s2r_yaml_style style = asked;
    if (simple_key && f->multiline)
        style = S2R_YAML_DOUBLE_QUOTED;
    if (style == S2R_YAML_PLAIN && (!f->plain_ok || (!len && simple_key)))
        style = S2R_YAML_SINGLE_QUOTED;
    if (style == S2R_YAML_SINGLE_QUOTED && !f->single_ok)
        style = S2R_YAML_DOUBLE_QUOTED;
    if (style == S2R_YAML_LITERAL && (!f->block_ok || simple_key))
        style = S2R_YAML_DOUBLE_QUOTED;
    return style;
}

/* ---- output -------------------------------------------------------- */

/* The column counts characters where it is read: after a break, an
 * indent or an indicator. Inside a scalar it only grows (by bytes), and
 * a scalar always leaves the line unfinished or ends with a break. */

static void put(s2r_yaml_writer *w, const char *s, size_t n, size_t chars)
{
    s2r_buf_putn(w->out, s, n);
    w->column += chars;
}

static void put_break(s2r_yaml_writer *w)
{
    s2r_buf_putn(w->out, "\n", 1);
    w->column = 0;
}

/* a break character of the text: LF as the writer's break, the others
 * copied */
static void put_text_break(s2r_yaml_writer *w, const char *p, size_t n)
{
    if (*p == '\n')
        put_break(w);
    else
        put(w, p, n, 0), w->column = 0;
}

/* a break and the spaces of an indent up to 32, in one append */
static const char k_line[] = "\n                                ";

/* the first @p n (< 34) bytes of @p from, a tail of k_line: all of it
 * copied (a copy of a fixed size, made inline) when the buffer has room
 * for it, the text ending after the bytes asked for */
static void put_of_line(s2r_yaml_writer *w, const char *from, size_t n)
{
    s2r_buf *b = w->out;
    if (b->len + sizeof(k_line) < b->cap) {
        memcpy(b->p + b->len, from, sizeof(k_line) - 1);
        b->len += n;
        b->p[b->len] = '\0';
    } else {
        s2r_buf_putn(b, from, n);
    }
}

static void write_indent(s2r_yaml_writer *w)
{
    size_t indent = w->indent > 0 ? (size_t)w->indent : 0;
    if (!w->indention || w->column > indent ||
        (w->column == indent && !w->whitespace)) {
        if (indent < sizeof(k_line) - 1) {
            put_of_line(w, k_line, 1 + indent);
            w->column = indent;
        } else {
            put_break(w);
        }
    }
    while (w->column < indent) {
        size_t n = indent - w->column;
        n = n < sizeof(k_line) - 2 ? n : sizeof(k_line) - 2;
        put_of_line(w, k_line + 1, n); /* spaces */
        w->column += n;
    }
    w->whitespace = w->indention = true;
}

/* an indicator of one character (the stream's end "..." is the only
 * longer one: its first dot, then the two others) */
static void write_indicator(s2r_yaml_writer *w, char ind, bool need_ws,
                            bool is_ws, bool is_indention)
{
    if (need_ws && !w->whitespace)
        put(w, " ", 1, 1);
    put(w, &ind, 1, 1);
    w->whitespace = is_ws;
    w->indention = w->indention && is_indention;
}

static void write_plain(s2r_yaml_writer *w, const char *s, size_t len)
{
    if (!w->whitespace && len)
        put(w, " ", 1, 1);
    put(w, s, len, len); /* no breaks: they are never plain */
    w->whitespace = w->indention = false;
}

static void write_single(s2r_yaml_writer *w, const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    bool breaks = false;
    write_indicator(w, '\'', true, false, false);
    for (size_t i = 0; i < len;) {
        size_t n = char_width(u[i]);
        if (is_break(u + i, len - i)) {
            if (!breaks && u[i] == '\n')
                put_break(w);
            put_text_break(w, s + i, n);
            w->indention = breaks = true;
        } else {
            if (breaks)
                write_indent(w);
            if (u[i] == '\'')
                put(w, "'", 1, 1);
            put(w, s + i, n, 1);
            if (u[i] != ' ')
                w->indention = false;
            breaks = false;
        }
        i += n;
    }
    if (breaks)
        write_indent(w);
    write_indicator(w, '\'', false, false, false);
    w->whitespace = w->indention = false;
}

static unsigned decode(const unsigned char *p, size_t n)
{
    unsigned v = n == 1 ? p[0] : n == 2 ? p[0] & 0x1Fu
                             : n == 3   ? p[0] & 0x0Fu
                                        : p[0] & 0x07u;
    for (size_t k = 1; k < n; k++)
        v = (v << 6) | (p[k] & 0x3Fu);
    return v;
}

static void write_escape(s2r_yaml_writer *w, unsigned v)
{
    static const struct {
        unsigned v;
        char c;
    } named[] = {{0x00, '0'}, {0x07, 'a'}, {0x08, 'b'},  {0x09, 't'},
                 {0x0A, 'n'}, {0x0B, 'v'}, {0x0C, 'f'},  {0x0D, 'r'},
                 {0x1B, 'e'}, {0x22, '"'}, {0x5C, '\\'}, {0x85, 'N'},
                 {0xA0, '_'}, {0x2028, 'L'}, {0x2029, 'P'}};
    char e[10] = {'\\'};
    for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++)
        if (named[i].v == v) {
            e[1] = named[i].c;
            put(w, e, 2, 2);
            return;
        }
    size_t digits = v <= 0xFF ? 2 : v <= 0xFFFF ? 4 : 8;
    e[1] = digits == 2 ? 'x' : digits == 4 ? 'u' : 'U';
    for (size_t k = 0; k < digits; k++)
        e[2 + k] = "0123456789ABCDEF"[(v >> (4 * (digits - 1 - k))) & 0xF];
    put(w, e, 2 + digits, 2 + digits);
}

static bool needs_escape(const unsigned char *p, size_t left)
{
    /* the BOM is not printable */
    return !is_printable(p) || is_break(p, left) || p[0] == '"' ||
           p[0] == '\\';
}

static void write_double(s2r_yaml_writer *w, const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    write_indicator(w, '"', true, false, false);
    size_t run = 0; /* start of the bytes copied as they are */
    for (size_t i = 0; i < len;) {
        if (u[i] >= 0x20 && u[i] < 0x7F && u[i] != '"' && u[i] != '\\') {
            i++;
            continue;
        }
        size_t n = char_width(u[i]);
        if (needs_escape(u + i, len - i)) {
            put(w, s + run, i - run, i - run);
            write_escape(w, decode(u + i, n));
            run = i + n;
        }
        i += n;
    }
    put(w, s + run, len - run, len - run);
    write_indicator(w, '"', false, false, false);
    w->whitespace = w->indention = false;
}

/* the start of the character before P[END) */
static size_t char_before(const unsigned char *p, size_t end)
{
    do
        end--;
    while (end > 0 && (p[end] & 0xC0) == 0x80);
    return end;
}

/* where the line at P[FROM..LEN) ends: its break or LEN. A literal
 * holds no CR or NEL (not printable), so its breaks are LF, LS and PS,
 * and the two last start with 0xE2: looked for only in text ABOVE_ASCII */
static size_t line_end(const unsigned char *p, size_t from, size_t len,
                       bool above_ascii)
{
    const unsigned char *nl = memchr(p + from, '\n', len - from);
    size_t end = nl ? (size_t)(nl - p) : len;
    if (!above_ascii)
        return end;
    const unsigned char *e2 = memchr(p + from, 0xE2, end - from);
    while (e2 && !is_break(e2, len - (size_t)(e2 - p))) {
        size_t at = (size_t)(e2 - p) + 1;
        e2 = memchr(p + at, 0xE2, end - at);
    }
    return e2 ? (size_t)(e2 - p) : end;
}

/* s2r_buf_reserve(), its call made only when the room is not there */
static bool room(s2r_buf *b, size_t more)
{
    return b->len + more < b->cap || s2r_buf_reserve(b, more);
}

/* Bytes to make room for before put_indent_at() writes @p indent
 * spaces. */
static size_t room_for_indent(size_t indent)
{
    return indent < sizeof(k_line) - 2 ? sizeof(k_line) - 2 : indent;
}

/* @p indent spaces at @p o, where room_for_indent() bytes are free: up
 * to 32, the spaces of k_line copied whole (a copy of a fixed size, made
 * inline), the text written after the indent covering the ones past it */
static void put_indent_at(char *o, size_t indent)
{
    if (indent < sizeof(k_line) - 2)
        memcpy(o, k_line + 1, sizeof(k_line) - 2);
    else
        memset(o, ' ', indent);
}

/* A literal line's indent and its @p n bytes at @p s in one append.
 * false when out of memory. */
static bool put_line(s2r_yaml_writer *w, const char *s, size_t n)
{
    size_t indent = w->indent > 0 ? (size_t)w->indent : 0;
    s2r_buf *b = w->out;
    if (!room(b, room_for_indent(indent) + n))
        return false;
    char *o = b->p + b->len;
    put_indent_at(o, indent);
    memcpy(o + indent, s, n);
    b->len += indent + n;
    b->p[b->len] = '\0';
    w->column = indent + n;
    w->whitespace = true; /* as write_indent() leaves it */
    w->indention = false;
    return true;
}

/* The lines of a literal of ASCII text, whose breaks are LF alone, as
 * the loop of write_literal() writes them after the header: a line that
 * is not empty gets the indent and its text in one append. With
 * @p checked, for text literal_ok() has not looked at, each line is
 * looked at as it goes: false, part written, at the first byte that is
 * neither printable ASCII nor LF, or at a space before a break (a text
 * that ends in a space the caller leaves out). */
static bool write_ascii_lines(s2r_yaml_writer *w, const char *s, size_t len,
                              bool checked)
{
    for (size_t i = 0; i < len;) {
        if (s[i] == '\n') {
            put_break(w);
            w->indention = true;
            i++;
            continue;
        }
        size_t j;
        if (checked) {
            j = text_end((const unsigned char *)s, i, len, false);
            if (j < len && (s[j] != '\n' || j == i || s[j - 1] == ' '))
                return false;
        } else {
            const char *nl = memchr(s + i, '\n', len - i);
            j = nl ? (size_t)(nl - s) : len;
        }
        if (!put_line(w, s + i, j - i))
            return true; /* out of memory: the text is dropped */
        i = j;
    }
    return true;
}

/* A literal of @p len bytes, with the header its ends ask for. With
 * @p unchecked, text that literal_ok() has not looked at (not empty, its
 * last byte no space), taken as ASCII and checked line by line as it is
 * written: false, part written, when it holds a byte that is neither
 * printable ASCII nor LF, or a space before a break (the caller then
 * undoes it). */
static bool write_literal(s2r_yaml_writer *w, const char *s, size_t len,
                          bool above_ascii, bool unchecked)
{
    const unsigned char *u = (const unsigned char *)s;
    write_indicator(w, '|', true, false, false);
    if (u[0] == ' ' || is_break(u, len))
        write_indicator(w, '2', false, false, false); /* the indent */
    w->open_ended = 0;
    char chomp = '-'; /* len > 0: block_ok needs text */
    size_t last = char_before(u, len);
    if (is_break(u + last, len - last)) {
        chomp = 0;
        if (last == 0 || is_break(u + char_before(u, last),
                                  len - char_before(u, last))) {
            chomp = '+';
            w->open_ended = 2;
        }
    }
    if (chomp)
        write_indicator(w, chomp, false, false, false);
    put_break(w);
    w->indention = w->whitespace = true;
    if (unchecked || !above_ascii)
        return write_ascii_lines(w, s, len, unchecked);
    bool breaks = true;
    for (size_t i = 0; i < len;) {
        size_t n = char_width(u[i]);
        if (is_break(u + i, len - i)) {
            put_text_break(w, s + i, n);
            w->indention = breaks = true;
            i += n;
            continue;
        }
        if (breaks)
            write_indent(w);
        size_t j = line_end(u, i + n, len, above_ascii); /* in one copy */
        put(w, s + i, j - i, j - i);
        w->indention = breaks = false;
        i = j;
    }
    return true;
}

/* ---- nodes ---------------------------------------------------------- */

static void fail(s2r_yaml_writer *w)
{
    w->failed = true;
}

/* What comes before a node in the open collection: "- " in a sequence,
 * the indent (and "? " for a complex key) before a key, ":" before a
 * value. A scalar key's facts decide whether it is simple. */
static void before_node(s2r_yaml_writer *w, const scalar_facts *key,
                        size_t key_len)
{
    if (!w->depth) {
        if (w->root_done)
            fail(w);
        w->root_done = true;
        w->in_mapping = w->in_simple_key = false;
        return;
    }
    s2r_yaml_frame *f = &w->stack[w->depth - 1];
    w->in_mapping = f->mapping;
    w->in_simple_key = false;
    if (!f->mapping) {
        write_indent(w);
        write_indicator(w, '-', true, false, true);
        return;
    }
    if (f->key_next) {
        if (!key) { /* a collection as a key: never written */
            fail(w);
            return;
        }
        write_indent(w);
        f->simple = !key->multiline && key_len <= 128;
        if (f->simple)
            w->in_simple_key = true;
        else
            write_indicator(w, '?', true, false, true);
        return;
    }
    if (f->simple) {
        write_indicator(w, ':', false, false, false);
    } else {
        write_indent(w);
        write_indicator(w, ':', true, false, true);
    }
}

/* a node is whole: the mapping in hand expects the other half next */
static void after_node(s2r_yaml_writer *w)
{
    if (w->depth) {
        s2r_yaml_frame *f = &w->stack[w->depth - 1];
        if (f->mapping)
            f->key_next = !f->key_next;
    }
}

/* lay out a collection that has a first node: it is a block one */
static void open_pending(s2r_yaml_writer *w)
{
    int kind = w->pending;
    w->pending = 0;
    if (w->depth == S2R_YAML_MAX_DEPTH) {
        fail(w);
        return;
    }
    s2r_yaml_frame *f = &w->stack[w->depth++];
    f->mapping = kind == 'm';
    f->key_next = true;
    f->simple = false;
    f->indent = w->indent;
    bool indentless = !f->mapping && w->in_mapping && !w->indention;
    if (w->indent < 0)
        w->indent = 0;
    else if (!indentless)
        w->indent += 2;
}

void s2r_yaml_writer_init(s2r_yaml_writer *w, s2r_buf *out)
{
    memset(w, 0, sizeof(*w));
    w->out = out;
    w->indent = -1;
    w->whitespace = w->indention = true;
}

/* The @p n bytes just put after the buffer's text were a simple key's
 * value (its ':' and the scalar): count them, end the text and leave
 * the state the ':' indicator and a scalar leave. */
static void value_written(s2r_yaml_writer *w, s2r_yaml_frame *f, size_t n)
{
    s2r_buf *b = w->out;
    b->len += n;
    b->p[b->len] = '\0';
    w->column += n;
    w->in_mapping = true;
    w->in_simple_key = false;
    f->key_next = true;
    w->whitespace = w->indention = false;
}

/* A scalar written plain (a word, S2R_YAML_WORD, or text whose facts
 * allow plain: no break), of 1-128 bytes, as a key of the open block
 * mapping or as the value of a simple key, in one append:
 * "\n", the indent and the word for a key (what write_indent and
 * write_plain write; right after the "- " of a sequence item, the
 * spaces up to the indent and the word), ": " and the word for a value
 * (the ':' indicator, then write_plain's blank). The state is left
 * as before_node(), choose() and write_plain() leave it. False, with
 * nothing done, in any other place or when the buffer needs to grow:
 * the general path then writes it. */
static bool plain_in_mapping(s2r_yaml_writer *w, const char *s, size_t len)
{
    s2r_yaml_frame *f = &w->stack[w->depth - 1];
    s2r_buf *b = w->out;
    if (!f->mapping || !len || len > 128)
        return false;
    size_t indent = w->indent > 0 ? (size_t)w->indent : 0;
    if (f->key_next) {
        /* write_indent(): a break and the indent, or (right after "- ")
         * the spaces up to the indent */
        bool line_done = !w->indention || w->column > indent ||
                         (w->column == indent && !w->whitespace);
        size_t pre = line_done ? 1 + indent : indent - w->column;
        if (indent >= sizeof(k_line) - 1 ||
            b->len + sizeof(k_line) + len >= b->cap)
            return false;
        char *o = b->p + b->len;
        /* the break and the indent, or the spaces alone: a tail of
         * k_line, copied whole (a copy of a fixed size, made inline) */
        memcpy(o, k_line + !line_done, sizeof(k_line) - 1);
        memcpy(o + pre, s, len);
        b->len += pre + len;
        b->p[b->len] = '\0';
        w->column = indent + len;
        w->in_simple_key = f->simple = true;
        f->key_next = false;
    } else {
        if (!f->simple || b->len + 2 + len >= b->cap)
            return false;
        char *o = b->p + b->len;
        o[0] = ':';
        o[1] = ' ';
        memcpy(o + 2, s, len);
        value_written(w, f, 2 + len);
        return true;
    }
    w->in_mapping = true;
    w->whitespace = w->indention = false;
    return true;
}

/* A double-quoted value of a simple key whose @p len bytes need no
 * escape (printable ASCII, no '"' and no backslash), in one append:
 * ": \"", the text and '"', what the ':' indicator and write_double()
 * write, with the state they and after_node() leave. False, with nothing
 * done, for any other node or text, or when the buffer must grow. */
static bool quoted_value(s2r_yaml_writer *w, const char *s, size_t len)
{
    s2r_yaml_frame *f = &w->stack[w->depth - 1];
    s2r_buf *b = w->out;
    if (!f->mapping || f->key_next || !f->simple ||
        b->len + 4 + len >= b->cap)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c > 0x7E || c == '"' || c == '\\')
            return false;
    }
    char *o = b->p + b->len;
    memcpy(o, ": \"", 3);
    memcpy(o + 3, s, len);
    o[3 + len] = '"';
    value_written(w, f, 4 + len);
    return true;
}

/* A literal whose text literal_ok() has not looked at, written and
 * looked at in one pass; true when it was all printable ASCII with no
 * space before a break. Else the writer is put back as it was (the text
 * and the state after the node's indicators) and *@p f gets the facts
 * literal_ok() finds, for the caller to write it again: false. */
static bool literal_unchecked(s2r_yaml_writer *w, const char *s, size_t len,
                              scalar_facts *f)
{
    size_t at = w->out->len, column = w->column;
    bool whitespace = w->whitespace, indention = w->indention;
    int open_ended = w->open_ended;
    if (write_literal(w, s, len, false, true))
        return true;
    if (!w->out->oom) {
        w->out->len = at;
        w->out->p[at] = '\0';
    }
    w->column = column;
    w->whitespace = whitespace;
    w->indention = indention;
    w->open_ended = open_ended;
    f->above_ascii = false;
    f->block_ok = literal_ok((const unsigned char *)s, len, &f->above_ascii);
    return false;
}

void s2r_yaml_scalar(s2r_yaml_writer *w, const char *s, size_t len,
                     s2r_yaml_style style)
{
    if (w->failed)
        return;
    if (w->pending)
        open_pending(w);
    /* the facts decide a key's layout and a style other than double
     * quotes: a double-quoted value is written without them, a literal
     * one needs one of them, a word's are known */
    scalar_facts f = {false, true, true, true, true};
    bool unchecked = false; /* a literal's text, not looked at yet */
    const s2r_yaml_frame *top = w->depth ? &w->stack[w->depth - 1] : NULL;
    const unsigned char *u = (const unsigned char *)s;
    if (style == S2R_YAML_WORD) {
        style = S2R_YAML_PLAIN;
    } else if (top && top->mapping && top->key_next) {
        f = analyse(u, len);
    } else if (style == S2R_YAML_LITERAL) {
        /* ASCII text is looked at as it is written (write_literal()) */
        unchecked = len && u[len - 1] != ' ';
        f.above_ascii = false;
        if (!unchecked)
            f.block_ok = literal_ok(u, len, &f.above_ascii);
    } else if (style != S2R_YAML_DOUBLE_QUOTED) {
        f = analyse(u, len);
    } else if (w->depth && !w->failed && quoted_value(w, s, len)) {
        return;
    }
    if (style == S2R_YAML_PLAIN && f.plain_ok && w->depth && !w->failed &&
        plain_in_mapping(w, s, len))
        return;
    before_node(w, &f, len);
    if (w->failed)
        return;
    style = choose(style, &f, len, w->in_simple_key);
    int saved = w->indent;
    w->indent = w->indent < 0 ? 2 : w->indent + 2;
    if (style == S2R_YAML_LITERAL && unchecked) {
        if (literal_unchecked(w, s, len, &f)) {
            w->indent = saved;
            after_node(w);
            return;
        }
        /* not all ASCII, or no block can hold it */
        style = choose(S2R_YAML_LITERAL, &f, len, w->in_simple_key);
    }
    switch (style) {
    case S2R_YAML_PLAIN:
        write_plain(w, s, len);
        break;
    case S2R_YAML_SINGLE_QUOTED:
        write_single(w, s, len);
        break;
    case S2R_YAML_LITERAL:
        write_literal(w, s, len, f.above_ascii, false);
        break;
    case S2R_YAML_DOUBLE_QUOTED:
    default:
        write_double(w, s, len);
        break;
    }
    w->indent = saved;
    after_node(w);
}

bool s2r_yaml_is_word(const char *s, size_t len)
{
    scalar_facts f = analyse((const unsigned char *)s, len);
    return len > 0 && len <= 128 && !f.multiline && f.plain_ok;
}

void s2r_yaml_scalar_str(s2r_yaml_writer *w, const char *s,
                         s2r_yaml_style style)
{
    s2r_yaml_scalar(w, s, strlen(s), style);
}

static void collection_start(s2r_yaml_writer *w, int kind)
{
    if (w->failed)
        return;
    if (w->pending)
        open_pending(w);
    s2r_yaml_frame *f = w->depth ? &w->stack[w->depth - 1] : NULL;
    s2r_buf *b = w->out;
    if (f && !w->failed && f->mapping && !f->key_next && f->simple &&
        b->len + 1 < b->cap) {
        /* the value of a simple key: before_node()'s ':' indicator */
        b->p[b->len++] = ':';
        b->p[b->len] = '\0';
        w->column++;
        w->whitespace = w->indention = false;
        w->in_mapping = true;
        w->in_simple_key = false;
    } else {
        before_node(w, NULL, 0);
    }
    w->pending = kind;
}

static void collection_end(s2r_yaml_writer *w, bool mapping)
{
    if (w->failed)
        return;
    if (w->pending) { /* empty: flow style */
        if ((w->pending == 'm') != mapping) {
            fail(w);
            return;
        }
        w->pending = 0;
        write_indicator(w, mapping ? '{' : '[', true, true, false);
        write_indicator(w, mapping ? '}' : ']', false, false, false);
        after_node(w);
        return;
    }
    s2r_yaml_frame *f = w->depth ? &w->stack[w->depth - 1] : NULL;
    if (!f || f->mapping != mapping || (mapping && !f->key_next)) {
        fail(w);
        return;
    }
    w->indent = f->indent;
    w->depth--;
    after_node(w);
}

void s2r_yaml_mapping_start(s2r_yaml_writer *w)
{
    collection_start(w, 'm');
}

void s2r_yaml_mapping_end(s2r_yaml_writer *w)
{
    collection_end(w, true);
}

void s2r_yaml_sequence_start(s2r_yaml_writer *w)
{
    collection_start(w, 's');
}

void s2r_yaml_sequence_end(s2r_yaml_writer *w)
{
    collection_end(w, false);
}

int s2r_yaml_writer_end(s2r_yaml_writer *w)
{
    if (w->failed || w->pending || w->depth || !w->root_done)
        return S2R_EINVAL;
    write_indent(w); /* document end */
    if (w->open_ended == 2) { /* stream end */
        write_indicator(w, '.', true, false, false);
        put(w, "..", 2, 2);
        write_indent(w);
    }
    return w->out->oom ? S2R_ENOMEM : S2R_OK;
}
