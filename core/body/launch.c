/* launch.c: which command of a body launches the job's parallel work, and
 * what the workload makes of it: the first launch of a framework launcher
 * (torchrun, accelerate launch, deepspeed, mpirun, horovodrun), else the
 * first srun step over the whole allocation, else the first srun step,
 * wherever it is (after set-up programs, behind ${PREFIX}, inside an if
 * block or a function); then the distributed kind (PyTorch, MPI or none)
 * and whether its srun goes, stays for the srun stand-in or becomes
 * mpirun. See analysis.h. */
#include "analysis.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* text that starts a framework launcher (a bash -c string) */
static bool text_launches(const char *t)
{
    static const char *const l[] = {"torchrun", "torch.distributed.run",
                                    "torch.distributed.launch", "deepspeed",
                                    "mpirun", "mpiexec", "horovodrun", NULL};
    for (size_t i = 0; l[i]; i++)
        if (s2r_body__mentions(t, l[i]))
            return true;
    return t && strstr(t, "accelerate launch") != NULL;
}

const char *s2r_body__cluster_daemon(const unwrap *u)
{
    if (u->prog >= u->n || !u->words[u->prog].value)
        return NULL;
    const char *p = s2r_body__base_name(u->words[u->prog].value);
    const sh_word *next = u->prog + 1 < u->n ? &u->words[u->prog + 1] : NULL;
    if (!strcmp(p, "ray") && next &&
        (s2r_body__word_is(next, "start") || s2r_body__word_is(next, "stop")))
        return "Ray";
    if (!strcmp(p, "start-master.sh") || !strcmp(p, "start-worker.sh") ||
        !strcmp(p, "start-slave.sh") || !strcmp(p, "start-all.sh") ||
        (!strcmp(p, "spark-class") && next && next->value &&
         strstr(next->value, "deploy.")))
        return "Spark standalone";
    if (!strcmp(p, "dask-scheduler") || !strcmp(p, "dask-worker") ||
        (!strcmp(p, "dask") && next &&
         (s2r_body__word_is(next, "scheduler") ||
          s2r_body__word_is(next, "worker"))))
        return "Dask";
    return NULL;
}

/* A bash -c string that runs a program (not only set-up and helpers). */
static bool string_runs_program(const char *text)
{
    sh_body b;
    if (!text || sh_lex(&b, text, strlen(text), 1))
        return true;
    bool found = false;
    for (size_t i = 0; i < b.n && !found; i++)
        found = b.stmts[i].compound ||
                s2r_body__main_candidate(&b.stmts[i]) >= 0;
    sh_body_free(&b);
    return found;
}

/* How much unwrapped command @p u looks like the job's launch: 3 a
 * framework launcher, 2 an srun step over the whole allocation, 1 a
 * smaller srun step, 0 none (no launcher; srun of a helper, a SLURM
 * client, a cluster daemon, or a bash -c string of helpers only). */
static int launch_score(ctx *c, const unwrap *u)
{
    const s2r_job *job = c->job;
    if (u->lk != L_NONE || u->opaque_torch || u->mpi ||
        (u->shell_string && text_launches(u->shell_word->value)))
        return 3;
    if (!u->srun || u->prog >= u->n)
        return 0;
    /* the program srun runs (most commands run no srun: only then) */
    const char *p = u->words[u->prog].value
                        ? s2r_body__base_name(u->words[u->prog].value) : "";
    if (s2r_body__cluster_daemon(u) ||
        s2r_body__is_aux(p) || s2r_body__is_slurm_client(p) ||
        (u->shell_string && !string_runs_program(u->shell_word->value)))
        return 0;
    if (s2r_body__step_tasks(job, &u->step) >= s2r_body__total_tasks(job) ||
        s2r_body__step_nodes(job, &u->step) >= job->nodes)
        return 2;
    return 1;
}

bool s2r_body__pick_launch(ctx *c, analysis *a, size_t *stmt, size_t *cmd)
{
    int best = 0;
    const sh_body *b = &a->body;
    for (size_t i = 0; i < b->n; i++) {
        const sh_stmt *st = &b->stmts[i];
        for (size_t k = 0; k < st->ncmds; k++) {
            if (!st->compound && st->pipeline && k > 0)
                break; /* a pipeline's later stages are no launch */
            /* a command run bare scores 0: it is not unwrapped here */
            int s = s2r_body__runs_bare(&st->cmds[k])
                        ? 0 : launch_score(c, s2r_body__unwrapped(c, a, i, k));
            if (s > best) {
                best = s;
                *stmt = i;
                *cmd = k;
            }
        }
    }
    return best > 0;
}

/* ------------------------------------------------------------------ */
/* the distributed kind                                                 */
/* ------------------------------------------------------------------ */

static bool is_python_prog(const unwrap *u)
{
    if (u->prog >= u->n || !u->words[u->prog].value)
        return false;
    const char *v = s2r_body__base_name(u->words[u->prog].value);
    size_t l = strlen(v);
    return !strncmp(v, "python", 6) || (l > 3 && !strcmp(v + l - 3, ".py"));
}

static bool is_shell_prog(const unwrap *u)
{
    if (u->shell_string)
        return true;
    if (u->prog >= u->n || !u->words[u->prog].value)
        return false;
    const char *v = s2r_body__base_name(u->words[u->prog].value);
    size_t l = strlen(v);
    return !strcmp(v, "bash") || !strcmp(v, "sh") ||
           (l > 3 && !strcmp(v + l - 3, ".sh"));
}

bool s2r_body__srun_runs_mpi(ctx *c, const unwrap *u, const unwrap *inner,
                             bool side)
{
    const s2r_job *job = c->job;
    const unwrap *p = inner ? inner : u;
    const char *prog = u->prog < u->n && u->words[u->prog].value
                           ? s2r_body__base_name(u->words[u->prog].value)
                           : "";
    if (s2r_body__cluster_daemon(u) || s2r_body__is_aux(prog) ||
        s2r_body__is_slurm_client(prog))
        return false;
    if ((is_python_prog(p) || is_shell_prog(u)) && job->gpus_per_node > 0)
        return false; /* Lightning, NeMo, submitit, a train.sh ...: they
                         read SLURM_PROCID and friends */
    return !is_shell_prog(u) || (job->nodes > 1 && !side);
}

/* srun commands in @p a, in statements and inside compound ones */
static size_t count_sruns(ctx *c, analysis *a)
{
    size_t n = 0;
    for (size_t i = 0; i < a->body.n; i++)
        for (size_t k = 0; k < a->body.stmts[i].ncmds; k++)
            n += s2r_body__unwrapped(c, a, i, k)->srun;
    return n;
}

/* srun of a program (no launcher behind it): how many tasks where */
static void decide_srun(ctx *c, analysis *a, const unwrap *u,
                        const unwrap *srun)
{
    s2r_job *job = c->job;
    int64_t tasks = s2r_body__step_tasks(job, &srun->step);
    int64_t nodes = s2r_body__step_nodes(job, &srun->step);
    const unwrap *inner = u->shell_string && a->inner &&
                                  a->inner->main != (size_t)-1
                              ? a->inner->u : NULL;
    if (s2r_body__cluster_daemon(u)) {
        a->mode = MM_STANDIN;
    } else if (tasks <= 1 && nodes <= 1) {
        /* one task: srun goes unless it does more than start it, or other
         * steps share the pod with it */
        const srun_step *s = &srun->step;
        bool more = s->runtime || s->refused[0] || s->gpus_per_task >= 0 ||
                    s->gpus_per_node >= 0 || s->gpus >= 0 ||
                    count_sruns(c, a) > 1;
        a->mode = more ? MM_STANDIN : MM_STRIP;
    } else if (!s2r_body__srun_runs_mpi(c, srun, srun != u ? u : inner,
                                        false)) {
        a->mode = MM_STANDIN;
        if (job->nodes > 1 && job->gpus_per_node > 0)
            job->distributed = S2R_DIST_PYTORCH;
    } else {
        a->mode = MM_MPIRUN;
        a->mpi_np = tasks;
        job->distributed = S2R_DIST_MPI;
        job->uses_mpirun = true;
        if (srun->step.runtime_opts[0])
            s2r_body__warn(c, job->main_line, NULL, "srun %s: mpirun starts "
                           "the MPI program's ranks and does not apply %s",
                           srun->step.runtime_opts,
                           strchr(srun->step.runtime_opts, ',') ? "them"
                                                                : "it");
    }
}

void s2r_body__decide(ctx *c, analysis *a)
{
    s2r_job *job = c->job;
    if (a->main == (size_t)-1)
        return;
    const unwrap *u = s2r_body__main_unwrap(a);
    const unwrap *srun = a->u->srun ? a->u : u->srun ? u : NULL;
    bool per_node = u->lk != L_NONE || u->opaque_torch;
    int64_t tasks = s2r_body__total_tasks(job);
    if (per_node) {
        a->mode = srun ? MM_STRIP : MM_PLAIN;
        job->distributed = job->nodes > 1 ? S2R_DIST_PYTORCH : S2R_DIST_NONE;
        /* torchrun and accelerate start processes on their own node
         * only: without srun, SLURM runs them once, on the first node */
        if (!srun && job->nodes > 1 &&
            (u->lk == L_TORCHRUN || u->lk == L_ACCELERATE))
            s2r_body__warn(c, job->main_line, NULL,
                 "line %d: the launcher is not started by srun, so under "
                 "SLURM it runs on the first of the %lld nodes only; the "
                 "PyTorchJob starts it on each of its %lld pods, with "
                 "%lld times the processes: start it with srun to mean "
                 "that, or ask for one node", job->main_line,
                 (long long)job->nodes, (long long)job->nodes,
                 (long long)job->nodes);
        if (u->opaque_torch && job->nodes > 1)
            s2r_body__warn(c, job->main_line, NULL,
                 "the torch launcher sits in a bash -c string built at run "
                 "time: it is kept as written; make its rendezvous use "
                 "$MASTER_ADDR, $MASTER_PORT and $RANK, which the PyTorchJob "
                 "sets");
    } else if (u->mpi) {
        a->mode = srun ? MM_STRIP : MM_PLAIN;
        job->uses_mpirun = true;
        if (srun && srun->step.ntasks > 0)
            tasks = srun->step.ntasks;
        if (job->nodes > 1 || tasks > 1)
            job->distributed = S2R_DIST_MPI;
    } else if (srun) {
        decide_srun(c, a, u, srun);
    }
}

/* ------------------------------------------------------------------ */
/* the same launch elsewhere                                            */
/* ------------------------------------------------------------------ */

/* Command @p k of statement @p i launches like the main command (the
 * same framework launcher, or mpirun): it gets the same rewrite, as an
 * edit. */
static void rewrite_like_main(ctx *c, analysis *a, size_t i, size_t k)
{
    const sh_cmd *cm = &a->body.stmts[i].cmds[k];
    const unwrap *m = s2r_body__main_unwrap(a);
    analysis t = {0};
    t.u = s2r_body__unwrapped(c, a, i, k);
    bool same = !t.u->shell_string && t.u->prog < t.u->n &&
                ((m->lk != L_NONE && t.u->lk == m->lk) ||
                 (m->mpi && t.u->mpi && m->horovod == t.u->horovod));
    if (same) {
        t.mode = t.u->srun ? MM_STRIP : MM_PLAIN;
        s2r_body__rewrite_main(c, &t, false);
        s2r_buf text = {0};
        s2r_body__ow_render(&text, &t.ow);
        if (text.oom || t.ow.oom)
            c->oom = true;
        else if (text.p)
            s2r_body__add_edit(c, a, cm->words[0].start,
                               cm->words[cm->nwords - 1].end, text.p);
        s2r_buf_free(&text);
        s2r_body__note(c, cm->line, "line %d launches like line %d and is "
                       "rewritten the same way", cm->line, c->job->main_line);
    }
    s2r_body__ow_free(&t.ow);
}

void s2r_body__other_launches(ctx *c, analysis *a)
{
    if (a->main == (size_t)-1 || a->inner ||
        c->job->distributed == S2R_DIST_NONE)
        return;
    for (size_t i = 0; i < a->body.n; i++) {
        const sh_stmt *st = &a->body.stmts[i];
        if (a->kind[i] != ST_KEEP && a->kind[i] != ST_MAIN)
            continue;
        for (size_t k = 0; k < st->ncmds; k++)
            if (!(i == a->main && k == a->main_cmd) && st->cmds[k].nwords &&
                !(a->kind[i] == ST_MAIN && !st->compound))
                rewrite_like_main(c, a, i, k);
    }
}
