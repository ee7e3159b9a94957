/* convert.c: parse -> rules -> emit in one call. */
#include "convert.h"

#include <stdlib.h>
#include <string.h>

int s2r_convert_buffer(char **out, const char *file, const char *buf,
                       size_t len, s2r_format fmt, const s2r_config *cfg,
                       s2r_diags *diags)
{
    *out = NULL;
    s2r_job job;
    s2r_workload wl;
    int rc = s2r_job_parse(&job, file, buf, len, cfg, diags);
    if (rc == S2R_OK)
        rc = s2r_rules_convert(&wl, &job, cfg, diags);
    else
        memset(&wl, 0, sizeof(wl));
    if (rc == S2R_OK)
        rc = s2r_emit(out, &wl, fmt, cfg, diags);
    s2r_workload_free(&wl);
    s2r_job_free(&job);
    if (rc != S2R_OK) {
        free(*out);
        *out = NULL;
    }
    return rc;
}
