/* logs_rules.c: which files the pods write and read as sbatch's -o, -e
 * and -i (see site_rules.h); logs.c renders them for the pod script. */
#include "site_rules.h"
#include "pod.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *s2r_rules__directive_value(const s2r_job *job, const char *name)
{
    for (size_t i = 0; i < job->n_directives; i++) /* first char inline */
        if (job->directives[i].name[0] == name[0] &&
            !strcmp(job->directives[i].name, name))
            return job->directives[i].value;
    return NULL;
}

bool s2r_rules__body_names(const s2r_job *job, const char *name)
{
    return job->run_shell && strstr(job->run_shell, name);
}

static int set(char **slot, const char *v)
{
    free(*slot);
    *slot = v ? strdup(v) : NULL;
    return v && !*slot ? S2R_ENOMEM : S2R_OK;
}

/* The folder the job starts in on SLURM: --chdir (relative to the submit
 * directory) or the submit directory; malloc'd, or NULL when unknown. */
static char *start_dir(const s2r_job *job)
{
    if (job->chdir)
        return s2r_path_resolve(job->submit_dir, job->chdir);
    return job->submit_dir ? strdup(job->submit_dir) : NULL;
}

/* A relative -o/-e/-i pattern is relative to the folder the job starts
 * in (sbatch(1) "filename pattern"), not to a later `cd` that became the
 * pod's working directory: then it is set under that folder (with no
 * pattern character in it, so the text stays a pattern of the same
 * meaning). @return S2R_OK or S2R_ENOMEM. */
static int anchor(char **pattern, const char *start, const char *workdir)
{
    if (!*pattern || (*pattern)[0] == '/' || !start || !workdir ||
        !strcmp(start, workdir) || strpbrk(start, "%\\"))
        return S2R_OK;
    char *a = NULL;
    if (asprintf(&a, "%s%s%s", start, strcmp(start, "/") ? "/" : "",
                 *pattern) < 0)
        return S2R_ENOMEM;
    free(*pattern);
    *pattern = a;
    return S2R_OK;
}

int s2r_rules__logs(s2r_workload *wl, const s2r_job *job,
                    const s2r_rules__asked *a, const s2r_config *cfg,
                    s2r_diags *d)
{
    const char *out = s2r_rules__asked_value(a, S2R_ASK_OUTPUT);
    const char *err = s2r_rules__asked_value(a, S2R_ASK_ERROR);
    const char *in = s2r_rules__asked_value(a, S2R_ASK_INPUT);
    const char *mode = s2r_rules__asked_value(a, S2R_ASK_OPEN_MODE);
    /* per sbatch(1) --output: stdout (and stderr, without -e) goes to
     * slurm-%j.out, or slurm-%A_%a.out for an array */
    if (!out && !(cfg && cfg->no_slurm_log))
        out = job->array ? "slurm-%A_%a.out" : "slurm-%j.out";
    if (set(&wl->stdout_file, out) || set(&wl->stderr_file, err) ||
        set(&wl->stdin_file, in))
        return S2R_ENOMEM;
    char *start = start_dir(job);
    int rc = anchor(&wl->stdout_file, start, wl->workdir);
    if (!rc)
        rc = anchor(&wl->stderr_file, start, wl->workdir);
    if (!rc)
        rc = anchor(&wl->stdin_file, start, wl->workdir);
    free(start);
    if (rc)
        return rc;
    wl->log_append = mode && !strcmp(mode, "append");
    const s2r_strv *cmd = wl->kind == S2R_WL_MPI && wl->launcher_command.n
                              ? &wl->launcher_command : &wl->command;
    if (s2r_pod_wraps(wl, cmd))
        return S2R_OK;
    s2r_rules__ask k = s2r_rules__asked_value(a, S2R_ASK_OUTPUT)
                           ? S2R_ASK_OUTPUT
                       : err ? S2R_ASK_ERROR
                       : in  ? S2R_ASK_INPUT
                             : S2R_ASK_NONE;
    if (k == S2R_ASK_NONE)
        return S2R_OK;
    const char *opt = a->dv[k]->name; /* "output", "error" or "input" */
    return s2r_diags_add(d, S2R_SEV_WARNING, job->file, a->dv[k]->line, opt,
                         "--%s: the pod runs the image's own entrypoint, so "
                         "nothing can copy its output to the file or read "
                         "its input; the container log keeps the output",
                         opt);
}
