/* emit_fixtures.h: the workloads the emitter tests start from (included by
 * tests/unit/test_emit_*.c after <cmocka.h> and "s2r.h"). */
#ifndef S2R_TEST_EMIT_FIXTURES_H
#define S2R_TEST_EMIT_FIXTURES_H

#include <stdlib.h>
#include <string.h>

/* a NULL-terminated list of up to two strings (node pools) */
static inline char **strlist(const char *a, const char *b)
{
    char **l = calloc(3, sizeof(*l));
    assert_non_null(l);
    l[0] = a ? strdup(a) : NULL;
    l[1] = b ? strdup(b) : NULL;
    return l;
}

static inline void push_all(s2r_strv *sv, const char *const *w)
{
    for (; *w; w++)
        assert_int_equal(s2r_strv_push(sv, *w), 0);
}

/* 2 GPUs, 16 cores, 32 GiB, `python train.py --epochs 10` in @p workdir */
static inline void base_workload_in(s2r_workload *wl, s2r_workload_kind kind,
                                    const char *workdir)
{
    memset(wl, 0, sizeof(*wl));
    wl->kind = kind;
    wl->name = strdup("train-resnet");
    wl->image = strdup("nvcr.io/nvidia/pytorch:24.05-py3");
    wl->pods = 1;
    wl->gpus = 2;
    wl->cpus = 16;
    wl->memory_mib = 32768;
    wl->workdir = strdup(workdir);
    assert_int_equal(s2r_envv_set(&wl->env, "OMP_NUM_THREADS", "8"), 0);
    const char *cmd[] = {"python", "train.py", "--epochs", "10", NULL};
    push_all(&wl->command, cmd);
}

/* One volume of each kind (s2r_volume), as [storage] in site-example.ini
 * maps them, plus a data source. */
static inline void add_volume(s2r_workload *wl, s2r_volume_kind k,
                              const char *path, const char *source,
                              const char *server, bool ro)
{
    s2r_volume *nv = realloc(wl->volumes, (wl->n_volumes + 1) * sizeof(*nv));
    assert_non_null(nv);
    wl->volumes = nv;
    nv[wl->n_volumes++] = (s2r_volume){k, strdup(path), strdup(source),
                                       server ? strdup(server) : NULL, ro, 0};
}

static inline void add_volumes(s2r_workload *wl)
{
    add_volume(wl, S2R_VOL_PVC, "/project", "project", NULL, false);
    add_volume(wl, S2R_VOL_NFS, "/home", "/export/home", "nfs.example.org",
               false);
    add_volume(wl, S2R_VOL_HOSTPATH, "/datasets", "/mnt/datasets", NULL,
               true);
    add_volume(wl, S2R_VOL_DATASOURCE, "/models", "weights", "pvc", false);
}

/* The pod script (core/runai pod_script.c) that runs one command, given
 * after it as "s2r-job ARGV...", in a workload named train-resnet with no
 * output files and no SLURM_SUBMIT_DIR of its own. */
#define POD_SCRIPT_TRAIN_RESNET                                              \
    "s2r_id=$(printf %s \"${RUNAI_JOB_UUID:-${RUNAI_JOB_NAME:-train-resnet}}" \
    "\" | cksum)\n"                                                           \
    "export SLURM_JOB_ID=\"${s2r_id%% *}\"\n"                                 \
    "export SLURM_JOBID=\"$SLURM_JOB_ID\"\n"                                  \
    "export SLURM_NODEID=0 SLURM_PROCID=0\n"                                  \
    "export SLURM_SUBMIT_DIR=\"${SLURM_SUBMIT_DIR:-$PWD}\"\n"                 \
    "exec \"$@\"\n"

#endif
