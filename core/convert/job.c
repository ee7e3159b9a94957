/* job.c: s2r_job_parse(): directives (core/slurm), the body (core/body),
 * then the likely mistakes only both show (mistakes.c); s2r_job_free(). */
#include "convert.h"
#include "mistakes.h"

#include "base/base.h"
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
    if (!rc)
        rc = s2r_convert__warn_mistakes(job, buf, len, body_off, diags);
    if (rc) {
        job->valid = false;
        return rc;
    }
    return S2R_OK;
}

void s2r_job_free(s2r_job *job)
{
    if (!job)
        return;
    free(job->file);
    free(job->job_name);
    free(job->gpu_type);
    if (job->array) {
        free(job->array->indices);
        free(job->array);
    }
    free(job->chdir);
    s2r_strlist_free(job->partitions);
    free(job->account);
    s2r_envv_clear(&job->export_env);
    free(job->export_mode);
    free(job->container_image);
    for (size_t i = 0; i < job->n_directives; i++) {
        free(job->directives[i].value);
    }
    free(job->directives);
    free(job->image);
    free(job->workdir);
    s2r_envv_clear(&job->env);
    s2r_strv_clear(&job->command_tokens);
    s2r_strv_clear(&job->run_argv);
    free(job->run_shell);
    s2r_strv_clear(&job->launcher_argv);
    s2r_envv_clear(&job->slurm_env);
    free(job->shebang_shell);
    free(job->server);
    free(job->submit_dir);
    for (size_t i = 0; i < job->n_paths; i++)
        free(job->paths[i].path);
    free(job->paths);
    s2r_strv_clear(&job->relative_files);
    s2r_strv_clear(&job->modules);
    s2r_strv_clear(&job->conda_envs);
    s2r_strv_clear(&job->venvs);
    free(job->worker_setup);
    for (size_t i = 0; i < job->n_binds; i++) {
        free(job->binds[i].source);
        free(job->binds[i].target);
    }
    free(job->binds);
    memset(job, 0, sizeof(*job));
}
