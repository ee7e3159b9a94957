/* srun_standin.c: the srun stand-in a pod's command carries when its body
 * runs srun steps (runai.h): srun_standin.sh, embedded at build time
 * (cmake/S2REmbedText.cmake), with the job's node, CPU, GPU and task
 * counts in front, written by the command itself to a new folder under
 * $TMPDIR that goes first on PATH. Comments and indentation of the bash
 * source are left out of the command, which Linux limits to 128 KiB per
 * argument (MAX_ARG_STRLEN). */
#include "runai.h"
#include "site_rules.h"

#include "base/base.h"
#include "shell/shell.h"
#include "srun_standin_sh.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* the here-document delimiter; no line of srun_standin.sh reads so */
#define DELIM "S2R_SRUN_STANDIN"

/* srun_standin.sh without comment lines, blank lines and indentation:
 * the same text for every job, so it is made once, on first use
 * (pthread_once: the library converts from several server threads at
 * once), into room the size of the whole source. */
static char stripped[sizeof(srun_standin_sh)];
static size_t stripped_len;
static pthread_once_t stripped_once = PTHREAD_ONCE_INIT;

static void strip_standin(void)
{
    const char *p = srun_standin_sh;
    size_t o = 0;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t ll = nl ? (size_t)(nl - p) : strlen(p);
        size_t i = 0;
        while (i < ll && (p[i] == ' ' || p[i] == '\t'))
            i++;
        if (i < ll && p[i] != '#') {
            memcpy(stripped + o, p + i, ll - i);
            o += ll - i;
            stripped[o++] = '\n';
        }
        p += ll + (nl ? 1 : 0);
    }
    stripped_len = o;
}

static void put_stripped(s2r_buf *b)
{
    pthread_once(&stripped_once, strip_standin);
    s2r_buf_putn(b, stripped, stripped_len);
}

/* The GPUs of the gres/gpu entries of a --tres-per-task value (checked
 * by the parser: "gres/gpu", "gres/gpu:N", "gres/gpu=N",
 * "gres/gpu:TYPE[:N]", "gres/gpu:TYPE=N", "gres:" for "gres/"), summed:
 * sbatch (23.11 and later) makes them --gpus-per-task. */
static long long tres_gpus_per_task(const char *v)
{
    long long sum = 0;
    for (const char *p = v; *p;) {
        size_t n = strcspn(p, ",");
        if (n >= 8 &&
            (!strncmp(p, "gres/gpu", 8) || !strncmp(p, "gres:gpu", 8)) &&
            (n == 8 || p[8] == ':' || p[8] == '=')) {
            const char *c = p + n;
            while (c > p + 8 && c[-1] != ':' && c[-1] != '=')
                c--;
            size_t cl = (size_t)(p + n - c);
            bool count = cl && cl <= 6 && strspn(c, "0123456789") >= cl;
            sum += count ? strtoll(c, NULL, 10) : 1; /* a type alone: 1 */
        }
        p += n + (p[n] == ',');
    }
    return sum;
}

/* The job's --gpus-per-task ("2", "a100:2"), or the GPUs per task of its
 * --tres-per-task, or 0: sbatch exports it (SLURM_GPUS_PER_TASK) and
 * srun(1) takes it for a step that names no GPUs of its own. */
static long long job_gpus_per_task(const s2r_job *job)
{
    const char *v = s2r_rules__directive_value(job, "gpus-per-task");
    if (!v) {
        const char *t = s2r_rules__directive_value(job, "tres-per-task");
        return t ? tres_gpus_per_task(t) : 0;
    }
    const char *c = strrchr(v, ':');
    c = c ? c + 1 : v;
    if (!*c || strspn(c, "0123456789") != strlen(c) || strlen(c) > 6)
        return 0;
    return strtoll(c, NULL, 10);
}

/* The sizes srun_standin.sh reads (its header comment lists them). */
static void put_settings(s2r_buf *b, const s2r_job *job)
{
    bool pytorch = job->distributed == S2R_DIST_PYTORCH && job->nodes > 1;
    bool mpi_pods = job->distributed == S2R_DIST_MPI && job->nodes > 1;
    /* one pod for several nodes: it is all of them (rules.c) */
    int64_t per_pod = s2r_rules_one_pod_for_nodes(job) ? job->nodes : 1;
    s2r_buf_printf(b,
                   "s2r_nnodes=%lld s2r_node_cpus=%lld s2r_node_gpus=%lld "
                   "s2r_job_ntasks=%lld s2r_job_tpn=%lld s2r_job_cpt=%lld "
                   "s2r_rank_vars=%d s2r_job_gpt=%lld s2r_vnodes=%lld "
                   "s2r_vtpn=%lld s2r_image=",
                   (long long)(pytorch ? job->nodes : 1),
                   (long long)((job->cpus_per_node > 0 ? job->cpus_per_node
                                                       : 1) * per_pod),
                   (long long)(mpi_pods ? 0 : job->gpus_per_node * per_pod),
                   (long long)job->ntasks,
                   (long long)((job->tasks_per_node > 0 ? job->tasks_per_node
                                                        : 1) * per_pod),
                   (long long)job->cpus_per_task, pytorch ? 1 : 0,
                   job_gpus_per_task(job), (long long)per_pod,
                   (long long)(job->tasks_per_node > 0 ? job->tasks_per_node
                                                       : 1));
    s2r_shell_put_quoted(b, job->image ? job->image : "");
    s2r_buf_putn(b, "\n", 1);
}

int s2r_srun_standin(const s2r_job *job, char **out)
{
    *out = NULL;
    if (!job->srun_standin)
        return S2R_OK;
    s2r_buf b = {0};
    s2r_buf_puts(&b,
        "s2r_srun_dir=$(mktemp -d \"${TMPDIR:-/tmp}/s2r-srun.XXXXXX\") || "
        "{ echo 's2r: no folder for the srun stand-in under "
        "${TMPDIR:-/tmp}' >&2; exit 1; }\n"
        "mkdir \"$s2r_srun_dir/state\"\n"
        "cat >\"$s2r_srun_dir/srun\" <<'" DELIM "'\n"
        "#!/usr/bin/env bash\n");
    put_settings(&b, job);
    put_stripped(&b);
    s2r_buf_puts(&b, DELIM "\n"
        "chmod +x \"$s2r_srun_dir/srun\"\n"
        "export PATH=\"$s2r_srun_dir:$PATH\" "
        "S2R_SRUN_STATE=\"$s2r_srun_dir/state\"\n");
    if (b.oom) {
        s2r_buf_free(&b);
        return S2R_ENOMEM;
    }
    *out = s2r_buf_finish(&b);
    return *out ? S2R_OK : S2R_ENOMEM;
}
