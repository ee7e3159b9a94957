/* pod_env.c: the SLURM variables each pod computes when it starts (see
 * pod.h), for what only the running job knows. The values the directives
 * fix (SLURM_JOB_NAME, SLURM_NNODES, SLURM_ARRAY_TASK_COUNT ...) are
 * plain container variables (core/body slurm stand-ins).
 *
 * SLURM_JOB_ID is a number common to all pods of the workload: the cksum
 * of $RUNAI_JOB_UUID (Run:ai sets it in its workloads), else of the
 * workload name. An array task adds its completion index, so the first
 * task's id is SLURM_ARRAY_JOB_ID, as Slurm numbers array tasks. */
#include "pod.h"

#include <stdio.h>
#include <string.h>

static bool indexed(const s2r_workload *wl)
{
    return wl->kind == S2R_WL_STANDARD &&
           (wl->completions > 0 || wl->n_array_indices > 0);
}

/* SLURM_ARRAY_TASK_ID from the Indexed Job's JOB_COMPLETION_INDEX: the
 * index itself, an offset, or a table for a stepped or listed --array. */
static void array_task_id(s2r_buf *b, const s2r_workload *wl)
{
    int64_t n = wl->completions > 0 ? wl->completions
                                    : (int64_t)wl->n_array_indices;
    const int32_t *ix = wl->array_indices;
    bool table = ix && (int64_t)wl->n_array_indices >= n && n > 0;
    bool contiguous = true;
    for (int64_t i = 1; table && i < n && contiguous; i++)
        contiguous = ix[i] == ix[0] + i;
    int64_t lo = table ? ix[0] : 0;
    if (contiguous && lo == 0) {
        s2r_buf_puts(b, "export SLURM_ARRAY_TASK_ID="
                        "\"$JOB_COMPLETION_INDEX\"\n");
    } else if (contiguous) {
        s2r_buf_puts(b, "export SLURM_ARRAY_TASK_ID="
                        "$((JOB_COMPLETION_INDEX + ");
        s2r_buf_put_i64(b, lo);
        s2r_buf_puts(b, "))\n");
    } else {
        s2r_buf_puts(b, "s2r_ids=(");
        for (int64_t i = 0; i < n; i++) {
            if (i)
                s2r_buf_putn(b, " ", 1);
            s2r_buf_put_i64(b, (int)ix[i]);
        }
        s2r_buf_puts(b, ")\nexport SLURM_ARRAY_TASK_ID="
                        "\"${s2r_ids[JOB_COMPLETION_INDEX]}\"\n");
    }
}

/* A name for the shell inside double quotes (a workload name is a
 * DNS-1123 label, but a workload read back from JSON may hold anything). */
static void put_dq(s2r_buf *b, const char *s)
{
    if (!s)
        return;
    /* runs copied whole, a backslash before each \ " $ ` */
    const char *run = s;
    for (; *s; s++)
        if (*s == '\\' || *s == '"' || *s == '$' || *s == '`') {
            s2r_buf_putn(b, run, (size_t)(s - run));
            s2r_buf_putn(b, "\\", 1);
            run = s;
        }
    s2r_buf_putn(b, run, (size_t)(s - run));
}

/* s2r_id: the workload's one number, the cksum of its UUID (or name) */
static void put_id(s2r_buf *b, const s2r_workload *wl)
{
    s2r_buf_puts(b, "s2r_id=$(printf %s \"${RUNAI_JOB_UUID:-"
                    "${RUNAI_JOB_NAME:-");
    put_dq(b, wl->name);
    s2r_buf_puts(b, "}}\" | cksum)\n");
}

void s2r_pod__job_id(s2r_buf *b, const s2r_workload *wl)
{
    put_id(b, wl);
    s2r_buf_puts(b, "export SLURM_JOB_ID=\"${s2r_id%% *}\"\n"
                    "export SLURM_JOBID=\"$SLURM_JOB_ID\"\n");
}

void s2r_pod__slurm_env(s2r_buf *b, const s2r_workload *wl)
{
    put_id(b, wl);
    if (indexed(wl)) {
        array_task_id(b, wl);
        s2r_buf_puts(b, "export SLURM_ARRAY_JOB_ID=\"${s2r_id%% *}\"\n"
                        "export SLURM_JOB_ID=$((SLURM_ARRAY_JOB_ID + "
                        "JOB_COMPLETION_INDEX))\n");
    } else {
        s2r_buf_puts(b, "export SLURM_JOB_ID=\"${s2r_id%% *}\"\n");
    }
    s2r_buf_puts(b, "export SLURM_JOBID=\"$SLURM_JOB_ID\"\n");
    if (wl->kind == S2R_WL_PYTORCH)
        /* per pod: the PyTorchJob's node rank (master 0) */
        s2r_buf_puts(b, "export SLURM_NODEID=\"${PET_NODE_RANK:-${RANK:-0}}\""
                        " SLURM_PROCID=\"${RANK:-0}\"\n");
    else
        /* the batch script runs on the first node, as task 0 */
        s2r_buf_puts(b, "export SLURM_NODEID=0 SLURM_PROCID=0\n");
    if (!s2r_envv_get(&wl->env, "SLURM_SUBMIT_DIR"))
        s2r_buf_puts(b, "export SLURM_SUBMIT_DIR=\"${SLURM_SUBMIT_DIR:-"
                        "$PWD}\"\n");
}
