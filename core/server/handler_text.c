/* handler_text.c: see handler_text.h. */
#include "handler_text.h"

#include <string.h>

/* Length of the UTF-8 sequence at @p s (at most @p n bytes there), or 0
 * when it is ill-formed. RFC 3629 section 4, the table of well-formed
 * byte sequences. */
static size_t sequence_at(const uint8_t *s, size_t n)
{
    uint8_t c = s[0];
    if (c < 0x80)
        return 1;
    size_t len;
    uint8_t lo = 0x80, hi = 0xBF; /* range of the second byte */
    if (c >= 0xC2 && c <= 0xDF)
        len = 2;
    else if (c >= 0xE0 && c <= 0xEF)
        len = 3, lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
    else if (c >= 0xF0 && c <= 0xF4)
        len = 4, lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
    else
        return 0;
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    return len;
}

size_t s2r_utf8_invalid_at(const uint8_t *buf, size_t len)
{
    size_t i = 0;
    const uint64_t highs = 0x8080808080808080ULL;
    while (i < len) {
        /* ASCII runs, 32 bytes at a time (one test of four words), then
         * eight */
        while (len - i >= 32) {
            uint64_t w[4];
            memcpy(w, buf + i, sizeof(w));
            if ((w[0] | w[1] | w[2] | w[3]) & highs)
                break;
            i += 32;
        }
        while (len - i >= 8) {
            uint64_t w;
            memcpy(&w, buf + i, sizeof(w));
            if (w & highs)
                break;
            i += 8;
        }
        if (i >= len)
            break;
        size_t n = sequence_at(buf + i, len - i);
        if (!n)
            return i;
        i += n;
    }
    return len;
}

void s2r_text_position(const uint8_t *buf, size_t at, size_t *line,
                       size_t *col)
{
    size_t l = 1, start = 0;
    for (size_t i = 0; i < at; i++)
        if (buf[i] == '\n') {
            l++;
            start = i + 1;
        }
    *line = l;
    *col = at - start + 1;
}

void s2r_text_printable(char *dst, size_t cap, const char *src, size_t max)
{
    size_t k = 0;
    for (size_t i = 0; src && src[i] && i < max && k + 1 < cap; i++) {
        unsigned char c = (unsigned char)src[i];
        dst[k++] = c >= 0x20 && c <= 0x7E ? (char)c : '?';
    }
    dst[k] = '\0';
}
