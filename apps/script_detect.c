/* script_detect.c: see script_detect.h. */
#include "script_detect.h"

#include <string.h>

static bool blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

bool s2r_script_has_directives(const char *head, size_t n)
{
    const char *p = head, *end = head + n;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *e = nl ? nl : end;
        size_t len = (size_t)(e - p);
        if ((len >= 7 && !memcmp(p, "#SBATCH", 7)) ||
            (len >= 6 && !memcmp(p, "#SLURM", 6)))
            return true;
        const char *q = p;
        while (q < e && blank(*q))
            q++;
        if (q < e && *q != '#')
            return false; /* the first command: sbatch stops reading */
        p = nl ? nl + 1 : end;
    }
    return false;
}

bool s2r_bytes_look_binary(const char *head, size_t n)
{
    return memchr(head, '\0', n) != NULL;
}
