/* job.c: s2r_job_parse(): directives (slurm_*.c) then the body (body.c). */
#include <s2r/s2r.h>
#include "body/body.h"
#include "slurm/slurm.h"

#include <stdlib.h>
#include <string.h>

int s2r_job_parse(s2r_job *job, const char *file, const char *buf, size_t len,
                  const s2r_config *cfg, s2r_diags *diags)
{
    memset(job, 0, sizeof(*job));
    job->file = strdup(file ? file : "-");
    if (!job->file)
        return S2R_ENOMEM;
    size_t body_off = 0;
    int body_line = 1;
    int rc = s2r_slurm__parse_directives(job, job->file, buf, len, diags,
                                         &body_off, &body_line);
    if (rc)
        return rc;
    rc = s2r_body__analyse(job, buf, len, body_off, body_line, cfg, diags);
    if (rc) {
        job->valid = false;
        return rc;
    }
    return S2R_OK;
}
