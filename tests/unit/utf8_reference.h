/* utf8_reference.h: a plain UTF-8 decoder for tests, one sequence at a
 * time, each byte checked against RFC 3629's table of well-formed
 * sequences: the reference the fast checks are compared with. */
#ifndef S2R_TESTS_UTF8_REFERENCE_H
#define S2R_TESTS_UTF8_REFERENCE_H

#include <stddef.h>
#include <stdint.h>

/* The offset of the first byte of @p s (@p len bytes) that does not
 * start a well-formed sequence, or @p len when all of it is UTF-8. */
static inline size_t utf8_reference_invalid_at(const uint8_t *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        uint8_t c = s[i];
        size_t n;
        uint8_t lo = 0x80, hi = 0xBF;
        if (c < 0x80)
            n = 1;
        else if (c >= 0xC2 && c <= 0xDF)
            n = 2;
        else if (c == 0xE0)
            n = 3, lo = 0xA0;
        else if (c == 0xED)
            n = 3, hi = 0x9F;
        else if (c >= 0xE1 && c <= 0xEF)
            n = 3;
        else if (c == 0xF0)
            n = 4, lo = 0x90;
        else if (c == 0xF4)
            n = 4, hi = 0x8F;
        else if (c >= 0xF1 && c <= 0xF3)
            n = 4;
        else
            return i;
        if (len - i < n)
            return i;
        for (size_t k = 1; k < n; k++) {
            uint8_t b = s[i + k];
            if (k == 1 ? (b < lo || b > hi) : (b & 0xC0) != 0x80)
                return i;
        }
        i += n;
    }
    return len;
}

/* Random text for the fast checks, mostly ASCII as scripts are: long
 * runs of 'x' before a rare byte from a set that starts, continues or
 * breaks sequences. Writes up to 181 bytes into @p s (no
 * NUL) and returns their count; @p rng is the generator's state. */
static inline size_t utf8_reference_random_text(uint64_t *rng, uint8_t *s)
{
    static const uint8_t alphabet[] = {'a', 'b', ' ', '\n', 0x7F, 0x80,
                                       0xBF, 0xC2, 0xC3, 0xA9, 0xE0, 0xA0,
                                       0xED, 0x9F, 0xF0, 0x90, 0xF4, 0x8F,
                                       0xFF};
    *rng = *rng * 6364136223846793005u + 1442695040888963407u;
    size_t len = (size_t)(*rng >> 57) + (size_t)(*rng >> 62) * 18;
    unsigned rare = (unsigned)(*rng >> 40) % 64 + 1;
    for (size_t k = 0; k < len; k++) {
        *rng = *rng * 6364136223846793005u + 1442695040888963407u;
        unsigned r = (unsigned)(*rng >> 33);
        s[k] = r % rare ? 'x' : alphabet[(r >> 8) % sizeof(alphabet)];
    }
    return len;
}

#endif
