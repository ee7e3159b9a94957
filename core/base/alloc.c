/* alloc.c: zeroed allocation for the hot path (see base.h). */
#include "base.h"

#include <stdint.h>
#include <stdlib.h>

void *s2r_zalloc(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    size_t bytes = n * size;
    void *p = malloc(bytes ? bytes : 1);
    if (p)
        memset(p, 0, bytes);
    return p;
}
