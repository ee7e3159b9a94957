/* checks.c: the cross-option checks of sbatch (src/common/slurm_opt.c
 * _validate_*()), what --tres-per-task asks of a task, and the --array
 * it checks once, on its last value. The
 * GPU checks are in gres.c, the task layout's in layout.c. See
 * parse_state.h. */
#include "slurm.h"
#include "parse_state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int max_line(int a, int b)
{
    return a > b ? a : b;
}

/* -a/--array: sbatch keeps the value and checks only the last one. */
static void check_array(s2r_slurm__state *st)
{
    s2r_job *job = st->job;
    if (!st->array.set)
        return;
    s2r_array a;
    int rc = s2r_slurm__parse_array(st->array.value, &a);
    if (rc == S2R_ENOMEM) {
        st->rc = S2R_ENOMEM;
        return;
    }
    if (rc != 0) {
        s2r_slurm__perr(st, st->array.line, "array", st->array.value,
             "Invalid job array specification '%s': expected N, N-M or "
             "N-M:S (0 <= N <= M < %d, S >= 1), comma-separated, with "
             "an optional %%K throttle",
             st->array.value, S2R_SLURM_MAX_ARRAY_SIZE);
        return;
    }
    s2r_array *pa = malloc(sizeof(*pa));
    if (!pa) {
        free(a.indices);
        st->rc = S2R_ENOMEM;
        return;
    }
    *pa = a;
    job->array = pa;
}

/* --time=02:00 is two minutes (M:SS), which a script rarely means: say
 * so, and how to write hours. Past 24 (--time=30:00) the minutes are
 * meant: nobody writes a day and more as H:MM. @return 0 or
 * S2R_ENOMEM. */
static int check_time_minutes(s2r_slurm__state *st)
{
    const char *v = st->time_value;
    if (!st->time_set || !v)
        return 0;
    size_t a = strspn(v, "0123456789");
    if (a < 1 || a > 2 || v[a] != ':' || strspn(v + a + 1, "0123456789") != 2 ||
        v[a + 3] != '\0')
        return 0;
    int m = atoi(v), sec = atoi(v + a + 1);
    if (m > 24)
        return 0;
    char is[64], meant[64];
    if (sec)
        snprintf(is, sizeof(is), "%d minute%s %d second%s", m,
                 m == 1 ? "" : "s", sec, sec == 1 ? "" : "s");
    else
        snprintf(is, sizeof(is), "%d minute%s", m, m == 1 ? "" : "s");
    if (sec)
        snprintf(meant, sizeof(meant), "%d hour%s %d minute%s", m,
                 m == 1 ? "" : "s", sec, sec == 1 ? "" : "s");
    else
        snprintf(meant, sizeof(meant), "%d hour%s", m, m == 1 ? "" : "s");
    if (s2r_diags_add(st->d, S2R_SEV_WARNING, st->file, st->time_line, "time",
                      "--time=%s is %s (sbatch reads M:SS as minutes and "
                      "seconds); if you meant %s, write --time=%d:%02d:00",
                      v, is, meant, m, sec) != 0)
        return S2R_ENOMEM;
    return 0;
}

/* Whether the GPU entries of --tres-per-task ask again what an entry of
 * --gpus-per-task asks, as sbatch finds it (_get_gpu_cnt_and_str() and
 * _set_tres_per_task_from_sibling_opt_internal()): "gres/gpu" for an
 * entry without a type, "gres/gpu:TYPE" for one with, in the value
 * (any case). The string found in @p str. */
static bool gpus_given_twice(const s2r_slurm__state *st, char str[96])
{
    const char *gc = st->gpt.value;
    s2r_slurm_tres g;
    while (s2r_slurm__next_tres(&gc, false, &g) == 1) {
        const char *tc = st->tpt.value;
        s2r_slurm_task_tres t;
        while (s2r_slurm__next_task_tres(&tc, &t) == 1) {
            if (t.kind != S2R_SLURM_TPT_GPU)
                continue;
            if (!g.type) {
                snprintf(str, 96, "gres/gpu");
                return true;
            }
            if (t.type && t.type_len >= g.type_len &&
                !strncasecmp(t.type, g.type, g.type_len)) {
                snprintf(str, 96, "gres/gpu:%.*s",
                         g.type_len < 80 ? (int)g.type_len : 80, g.type);
                return true;
            }
        }
        if (!g.type)
            break; /* sbatch reads no entry after one without a type */
    }
    return false;
}

/* --tres-per-task (_validate_tres_per_task()): per sbatch(1) its cpu
 * entry is -c/--cpus-per-task and its gres/gpu entries are
 * --gpus-per-task (gres.c reads them); an entry no task can ask for is
 * refused, and so is either request given twice. */
static void check_tres_per_task(s2r_slurm__state *st)
{
    if (!st->tpt.set)
        return;
    const char *v = st->tpt.value, *cur = v;
    s2r_slurm_task_tres t;
    int64_t cpus = 0;
    int rc;
    while ((rc = s2r_slurm__next_task_tres(&cur, &t)) == 1) {
        if (t.kind == S2R_SLURM_TPT_CPU && !cpus)
            cpus = t.count; /* the first, as sbatch reads it */
        if (t.kind == S2R_SLURM_TPT_GPU && t.count > 0)
            st->tpt_gpus = true;
    }
    if (rc == S2R_ETOOBIG) {
        s2r_slurm__perr(st, st->tpt.line, "tres-per-task", NULL,
                        "Invalid --tres-per-task specification '%s': a count "
                        "above %d (no node holds it; slurmctld refuses the "
                        "job)", v, S2R_SLURM_MAX_COUNT);
        return;
    }
    if (rc != 0) {
        s2r_slurm__perr(st, st->tpt.line, "tres-per-task", v,
                        "Invalid TRES for --tres-per-task: '%.*s' (a task "
                        "asks for cpu=N, gres/NAME[:TYPE]=N or "
                        "license/NAME=N; GPUs are gres/gpu:N or "
                        "gres/gpu:TYPE:N)",
                        t.entry_len < 200 ? (int)t.entry_len : 200, t.entry);
        return;
    }
    char str[96];
    if (st->gpt.set && gpus_given_twice(st, str)) {
        s2r_slurm__perr(st, max_line(st->gpt.line, st->tpt.line),
                        "tres-per-task", NULL,
                        "You can not have --tres-per-task=%s= and "
                        "--gpus-per-task please use one or the other", str);
        return;
    }
    if (!cpus)
        return;
    if (st->cpt_set) {
        s2r_slurm__perr(st, max_line(st->cpt_line, st->tpt.line),
                        "tres-per-task", NULL,
                        "You can not have --tres-per-task=cpu= and "
                        "--cpus-per-task please use one or the other");
        return;
    }
    st->job->cpus_per_task = cpus;
    st->cpt_set = true;
    st->cpt_line = st->tpt.line;
}

void s2r_slurm__cross_checks(s2r_slurm__state *st)
{
    if (check_time_minutes(st) != 0) {
        st->rc = S2R_ENOMEM;
        return;
    }
    /* _validate_memory_options() */
    if (st->mem_set + st->mpc_set + st->mpg_set > 1) {
        int l = max_line(st->mem_line, max_line(st->mpc_line, st->mpg_line));
        const char *o = (l == st->mpg_line && st->mpg_set) ? "mem-per-gpu"
                        : (l == st->mpc_line && st->mpc_set) ? "mem-per-cpu"
                                                              : "mem";
        s2r_slurm__perr(st, l, o, NULL,
                        "--mem, --mem-per-cpu, and --mem-per-gpu are mutually "
                        "exclusive");
    }
    check_tres_per_task(st);
    /* _validate_cpus_per_tres() */
    if (st->cpg_set && st->cpt_set)
        s2r_slurm__perr(
            st, max_line(st->cpg_line, st->cpt_line), "cpus-per-gpu", NULL,
            "--cpus-per-task, --tres-per-task=cpu:#, and --cpus-per-gpu "
            "are mutually exclusive");
    /* _validate_share_options() */
    if (st->exclusive_set && st->oversub_set)
        s2r_slurm__perr(
            st, max_line(st->exclusive_line, st->oversub_line), "exclusive",
            NULL,
            "--exclusive and --oversubscribe options are mutually "
            "exclusive");
    /* _validate_ntasks_per_gpu() */
    if (st->ntasks_per_gpu_set && st->gpt.set)
        s2r_slurm__perr(
            st, max_line(st->ntpg_line, st->gpt.line), "ntasks-per-gpu", NULL,
            "--gpus-per-task and --ntasks-per-gpu are mutually exclusive");
    if (st->ntasks_per_gpu_set && st->tpt.set)
        s2r_slurm__perr(
            st, max_line(st->ntpg_line, st->tpt.line), "ntasks-per-gpu", NULL,
            "--tres-per-task and --ntasks-per-gpu are mutually exclusive");
    if (st->ntasks_per_gpu_set && st->gps.set)
        s2r_slurm__perr(
            st, max_line(st->ntpg_line, st->gps.line), "ntasks-per-gpu", NULL,
            "--gpus-per-socket is mutually exclusive with --ntasks-per-gpu");
    if (st->ntasks_per_gpu_set && st->ntpn_set)
        s2r_slurm__perr(
            st, max_line(st->ntpg_line, st->ntpn_line), "ntasks-per-gpu", NULL,
            "--ntasks-per-node is mutually exclusive with --ntasks-per-gpu");
    check_array(st);
}
