/* strv_has.h: membership in a string vector (s2r_strv of s2r.h). */
#ifndef S2R_APPS_STRV_HAS_H
#define S2R_APPS_STRV_HAS_H

#include <stdbool.h>

#include <s2r/s2r.h>

/** True when @p s is one of @p sv's strings (byte for byte); @p sv may be
 *  NULL. Linear: for the short lists of one script or one partition. */
bool s2r_strv_has(const s2r_strv *sv, const char *s);

#endif
