/* quote.c: quoting words for a POSIX shell, and the argv that runs a
 * bash script. */
#include "shell.h"

#include <stdlib.h>
#include <string.h>

/* Characters that never need quoting in any word position of bash:
 * letters, digits and _@%+=:,./- */
static bool safe_char(unsigned char c)
{
    static const bool k[256] = {
        ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1,
        ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1,
        ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1,
        ['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1,
        ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1,
        ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
        ['y'] = 1, ['z'] = 1,
        ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1,
        ['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1,
        ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1,
        ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
        ['Y'] = 1, ['Z'] = 1,
        ['_'] = 1, ['@'] = 1, ['%'] = 1, ['+'] = 1, ['='] = 1, [':'] = 1,
        [','] = 1, ['.'] = 1, ['/'] = 1, ['-'] = 1};
    return k[c];
}

void s2r_shell_put_quoted(s2r_buf *b, const char *s)
{
    if (!s)
        s = "";
    /* the safe prefix, which the NUL ends; a word that is all of it goes
     * bare, its length known */
    const unsigned char *p = (const unsigned char *)s;
    while (safe_char(*p))
        p++;
    if (*p == '\0' && p != (const unsigned char *)s) {
        s2r_buf_putn(b, s, (size_t)(p - (const unsigned char *)s));
        return;
    }
    /* '...' keeps every byte literally; a ' is written as '\'' */
    s2r_buf_putn(b, "'", 1);
    const char *run = s;
    for (const char *q; (q = strchr(run, '\'')) != NULL; run = q + 1) {
        s2r_buf_putn(b, run, (size_t)(q - run));
        s2r_buf_putn(b, "'\\''", 4);
    }
    s2r_buf_puts(b, run);
    s2r_buf_putn(b, "'", 1);
}

char *s2r_shell_quote(const char *s)
{
    s2r_buf b = {0};
    s2r_shell_put_quoted(&b, s);
    return s2r_buf_finish(&b);
}

int s2r_shell_bash_c(s2r_strv *argv, s2r_buf *script)
{
    char *text = s2r_buf_finish(script);
    int rc = !text || s2r_strv_push(argv, "bash") ||
             s2r_strv_push(argv, "-c") || s2r_strv_push(argv, text)
                 ? S2R_ENOMEM
                 : S2R_OK;
    free(text);
    return rc;
}
