/* quote.c: quoting words for a POSIX shell, and the argv that runs a
 * bash script. */
#include "shell.h"

#include <stdlib.h>
#include <string.h>

/* Characters that never need quoting in any word position of bash. */
static bool safe_char(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
        (c >= '0' && c <= '9'))
        return true;
    switch (c) {
    case '_': case '@': case '%': case '+': case '=': case ':':
    case ',': case '.': case '/': case '-':
        return true;
    default:
        return false;
    }
}

void s2r_shell_put_quoted(s2r_buf *b, const char *s)
{
    if (!s)
        s = "";
    const unsigned char *p = (const unsigned char *)s;
    bool safe = *p != '\0';
    for (; *p && safe; p++)
        safe = safe_char(*p);
    if (safe) {
        s2r_buf_puts(b, s);
        return;
    }
    /* '...' keeps every byte literally; a ' is written as '\'' */
    s2r_buf_putn(b, "'", 1);
    const char *run = s;
    for (const char *q = s; *q; q++) {
        if (*q == '\'') {
            s2r_buf_putn(b, run, (size_t)(q - run));
            s2r_buf_putn(b, "'\\''", 4);
            run = q + 1;
        }
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
