/* names.c: a name looked up by halves in a table sorted as strcmp orders
 * its names (see base.h), such as the options of a launcher. */
#include "base.h"

size_t s2r_sorted_findn(const void *table, size_t n, size_t stride,
                        const char *name, size_t len)
{
    /* The bytes the name shares with the names at either bound of the
     * search: every name between the bounds shares the fewer of them
     * with it too (the table is sorted), so each comparison starts
     * there, past the dashes of options and the words names share. */
    size_t lo = 0, hi = n, same_lo = 0, same_hi = 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *e = s2r_sorted_name(table, mid, stride);
        size_t i = same_lo < same_hi ? same_lo : same_hi;
        while (i < len && e[i] && name[i] == e[i])
            i++;
        unsigned char c = i < len ? (unsigned char)name[i] : 0;
        int d = (int)c - (int)(unsigned char)e[i];
        if (d == 0)
            return mid;
        if (d < 0) {
            hi = mid;
            same_hi = i;
        } else {
            lo = mid + 1;
            same_lo = i;
        }
    }
    return n;
}
