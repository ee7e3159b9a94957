/* quote.c: quoting words for a POSIX shell, and the argv that runs a
 * bash script. */
#include "shell.h"
#include "safe_char.h"

#include <stdlib.h>
#include <string.h>

void s2r_shell_put_quoted(s2r_buf *b, const char *s)
{
    if (!s)
        s = "";
    /* the safe prefix, which the NUL ends; a word that is all of it goes
     * bare, its length known */
    const unsigned char *p = (const unsigned char *)s;
    while (sh_safe_ascii(*p))
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
