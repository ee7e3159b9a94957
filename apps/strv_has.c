/* strv_has.c: membership in a string vector, for the subcommands. */
#include "strv_has.h"

#include <string.h>

bool s2r_strv_has(const s2r_strv *sv, const char *s)
{
    for (size_t i = 0; sv && i < sv->n; i++)
        if (!strcmp(sv->v[i], s))
            return true;
    return false;
}
