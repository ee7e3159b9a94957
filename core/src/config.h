/* config.h: reading the site configuration (private). */
#ifndef S2R_CONFIG_H
#define S2R_CONFIG_H
#include "s2r.h"

/**
 * Read s2r.ini at @p path into @p cfg (which holds defaults already):
 * [runai] project, default_image, priority, preemptibility, time_limit;
 * [partitions] partition = node pool; [constraints] feature = node type;
 * [core] provider, format. Problems go to @p diags with file and line.
 * @return 0, S2R_ENOTFOUND (cannot open), S2R_EINVAL (bad values), S2R_ENOMEM.
 */
int s2r_config_load(s2r_config *cfg, const char *path, s2r_diags *diags);

#endif
