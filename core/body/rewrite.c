/* rewrite.c: the main command's words as the pod runs them. Launcher
 * options the Run:ai workload supplies are removed: torchrun's rendezvous
 * (a PyTorchJob sets PET_*, per the Kubeflow training operator),
 * accelerate's machine options, deepspeed's ssh fan-out, mpirun's process
 * placement (an MPIJob provides the hostfile). See analysis.h. */
#include "analysis.h"
#include "launchers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the output word list ---- */

void s2r_body__ow_push(owords *o, const sh_word *w, const char *txt, bool raw)
{
    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 16;
        oword *nv = realloc(o->v, cap * sizeof(*nv));
        if (!nv) {
            o->oom = true;
            return;
        }
        o->v = nv;
        o->cap = cap;
    }
    o->v[o->n].w = w;
    o->v[o->n].txt = txt ? strdup(txt) : NULL;
    o->v[o->n].raw = raw;
    if (txt && !o->v[o->n].txt)
        o->oom = true;
    o->n++;
}

/* source words [from, to) as they are */
static void ow_push_range(owords *o, const sh_word *w, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++)
        s2r_body__ow_push(o, &w[i], NULL, false);
}

void s2r_body__ow_free(owords *o)
{
    for (size_t i = 0; i < o->n; i++)
        if (o->v[i].txt) /* most words are source words, with no text */
            free(o->v[i].txt);
    free(o->v);
    memset(o, 0, sizeof(*o));
}

bool s2r_body__ow_literal(const oword *w)
{
    return w->w ? w->w->literal : !w->raw;
}

const char *s2r_body__ow_value(const oword *w)
{
    return w->w ? w->w->value : w->txt;
}

/* The length of @p v when it is a non-empty run of characters that never
 * need quoting (letters, digits, "_@%+=:,./-"), which sh_word_render()
 * writes as they are; 0 otherwise. */
static size_t plain_len(const char *v)
{
    /* 1 for each such byte, of ASCII only as sh_word_render() reads them
     * whatever the locale; 0 for the NUL and all others */
#define R6(c) [c] = 1, [c + 1] = 1, [c + 2] = 1, [c + 3] = 1, [c + 4] = 1, \
              [c + 5] = 1
#define R10(c) R6(c), [c + 6] = 1, [c + 7] = 1, [c + 8] = 1, [c + 9] = 1
#define R26(c) R10(c), R10(c + 10), R6(c + 20)
    static const unsigned char k[256] = {
        R10('0'), R26('a'), R26('A'),
        ['_'] = 1, ['@'] = 1, ['%'] = 1, ['+'] = 1, ['='] = 1, [':'] = 1,
        [','] = 1, ['.'] = 1, ['/'] = 1, ['-'] = 1};
#undef R26
#undef R10
#undef R6
    size_t n = 0;
    while (k[(unsigned char)v[n]])
        n++;
    return v[n] ? 0 : n;
}

/* Source word @p w as sh_word_render() writes it: a plain literal (most
 * words) is copied as it is, without rendering it into a string first. */
static void put_word(s2r_buf *t, const sh_word *w)
{
    size_t n = w->literal && w->value ? plain_len(w->value) : 0;
    if (n) {
        s2r_buf_putn(t, w->value, n);
        return;
    }
    char *r = sh_word_render(w);
    if (!r) {
        t->oom = true;
        return;
    }
    s2r_buf_puts(t, r);
    free(r);
}

void s2r_body__ow_render(s2r_buf *t, const owords *o)
{
    for (size_t i = 0; i < o->n && !t->oom; i++) {
        if (i)
            s2r_buf_putn(t, " ", 1);
        const oword *w = &o->v[i];
        if (w->w)
            put_word(t, w->w);
        else if (w->raw)
            s2r_buf_puts(t, w->txt);
        else
            s2r_shell_put_quoted(t, w->txt);
    }
}

int64_t s2r_body__total_tasks(const s2r_job *j)
{
    if (j->ntasks > 0)
        return j->ntasks;
    return j->tasks_per_node * j->nodes;
}

/* ---- one rewrite per launcher ---- */

/* What a launcher's option becomes on more than one node: 1 when it was
 * dropped or replaced in @p o, 0 to keep it as written. */
typedef int (*option_rewrite)(ctx *c, owords *o, const char *opt,
                              s2r_launch_role role);

/* The launcher's words, each option group of grammar @p g kept or given
 * to @p fn (on more than one node), then the script and its arguments. */
static void rewrite_launcher(ctx *c, analysis *a,
                             const s2r_launch_grammar *g, bool multi_node,
                             option_rewrite fn)
{
    const unwrap *u = a->u;
    owords *o = &a->ow;
    const sh_word *w = u->words;
    ow_push_range(o, w, u->launch_at, u->launch_opts);
    for (size_t i = u->launch_opts; i < u->script;) {
        size_t nx = s2r_launch__skip_option(g, w, u->n, i);
        if (nx == i)
            nx = i + 1;
        const char *opt = w[i].value ? w[i].value : "";
        s2r_launch_role role = s2r_launch__role(g, w, u->n, i);
        if (!multi_node || !fn(c, o, opt, role))
            ow_push_range(o, w, i, nx);
        i = nx;
    }
    ow_push_range(o, w, u->script, u->n);
}

/* torchrun: the rendezvous options go (the PyTorchJob supplies PET_*). */
static int torchrun_option(ctx *c, owords *o, const char *opt,
                           s2r_launch_role role)
{
    (void)c;
    (void)o;
    (void)opt;
    return role == S2R_LR_RENDEZVOUS;
}

/* accelerate launch: the machine options read the PyTorchJob's
 * environment ("$RANK" ...) or the node count. */
static int accelerate_option(ctx *c, owords *o, const char *opt,
                             s2r_launch_role role)
{
    const char *repl = role == S2R_LR_MACHINE_RANK ? "\"$RANK\""
                       : role == S2R_LR_MAIN_IP    ? "\"$MASTER_ADDR\""
                       : role == S2R_LR_MAIN_PORT  ? "\"$MASTER_PORT\""
                                                   : NULL;
    if (!repl && role != S2R_LR_NUM_MACHINES)
        return 0;
    char *name = strndup(opt, strcspn(opt, "="));
    if (!name) {
        o->oom = true;
        return 1;
    }
    s2r_body__ow_push(o, NULL, name, false);
    if (!repl) {
        char nb[S2R_I64_TEXT];
        s2r_i64_text(nb, c->job->nodes);
        s2r_body__ow_push(o, NULL, nb, false);
    } else {
        s2r_body__ow_push(o, NULL, repl, true);
    }
    free(name);
    return 1;
}

/* deepspeed on more than one node: pdsh/ssh fan-out has no place in a
 * pod: one torchrun per pod. */
static void rewrite_deepspeed(ctx *c, analysis *a, bool top)
{
    s2r_job *job = c->job;
    const unwrap *u = a->u;
    const sh_word *w = u->words;
    char np[48];
    snprintf(np, sizeof(np), "--nproc_per_node=%lld",
             (long long)(job->gpus_per_node > 0 ? job->gpus_per_node : 1));
    s2r_body__ow_push(&a->ow, NULL, "torchrun", false);
    s2r_body__ow_push(&a->ow, NULL, np, false);
    ow_push_range(&a->ow, w, u->script, u->n);
    if (top)
        s2r_body__warn(c, w[u->launch_at].line, NULL,
             "deepspeed's multi-node launcher (hostfile, pdsh/ssh) has no "
             "place in a pod: each PyTorchJob pod runs torchrun "
             "--nproc_per_node=%lld; deepspeed.init_distributed() reads "
             "its environment", (long long)job->gpus_per_node);
}

const char s2r_body__rank_vars[] =
    "export SLURM_PROCID=\"${OMPI_COMM_WORLD_RANK:-${PMI_RANK:-"
    "${PMIX_RANK:-0}}}\" SLURM_LOCALID=\"${OMPI_COMM_WORLD_LOCAL_RANK:-"
    "${MPI_LOCALRANKID:-0}}\"; exec \"$@\"";

/* An MPI job: mpirun -np N (N: the srun step's tasks, a literal count
 * the user gave mpirun, else the job's tasks), its options less
 * placement, the program. horovodrun over several pods reads the MPIJob's
 * hostfile. */
static void rewrite_mpi(ctx *c, analysis *a)
{
    const unwrap *u = a->u;
    owords *o = &a->ow;
    const sh_word *w = u->words;
    const s2r_launch_grammar *g = u->horovod ? &s2r_launch_horovodrun
                                             : &s2r_launch_mpirun;
    char nb[S2R_I64_TEXT];
    int64_t np = a->mode == MM_MPIRUN ? a->mpi_np
                                      : s2r_body__total_tasks(c->job);
    /* a literal rank count the user gave to mpirun is kept */
    for (size_t i = u->mpi ? u->mpi_opts : u->n; i + 1 < u->mpi_prog; i++) {
        const char *opt = w[i].value ? w[i].value : "";
        if ((!strcmp(opt, "-np") || !strcmp(opt, "-n") ||
             !strcmp(opt, "--np") || !strcmp(opt, "-c") ||
             !strcmp(opt, "--num-proc")) &&
            w[i + 1].literal && w[i + 1].value &&
            strspn(w[i + 1].value, "0123456789") == strlen(w[i + 1].value) &&
            w[i + 1].value[0])
            np = strtoll(w[i + 1].value, NULL, 10);
    }
    s2r_i64_text(nb, np);
    s2r_body__ow_push(o, NULL, u->horovod ? "horovodrun" : "mpirun", false);
    s2r_body__ow_push(o, NULL, "-np", false);
    s2r_body__ow_push(o, NULL, nb, false);
    if (u->horovod && c->job->nodes > 1) {
        s2r_body__ow_push(o, NULL, "--hostfile", false);
        s2r_body__ow_push(o, NULL, "/etc/mpi/hostfile", false);
    }
    if (u->mpi) {
        for (size_t i = u->mpi_opts; i < u->mpi_prog;) {
            size_t nx = s2r_launch__skip_option(g, w, u->n, i);
            if (nx == i)
                nx = i + 1;
            if (s2r_launch__role(g, w, u->n, i) != S2R_LR_PLACEMENT)
                ow_push_range(o, w, i, nx);
            i = nx;
        }
    }
    if (a->mode == MM_MPIRUN && !u->horovod) {
        /* srun gave each task its SLURM_PROCID and SLURM_LOCALID, which
         * a program that is not MPI reads to take its share; mpirun's
         * ranks get them from the MPI's own (Open MPI, MPICH and Intel
         * MPI, PMIx), and an MPI program runs as before (exec keeps its
         * environment and descriptors) */
        s2r_body__ow_push(o, NULL, "bash", false);
        s2r_body__ow_push(o, NULL, "-c", false);
        s2r_body__ow_push(o, NULL, s2r_body__rank_vars, false);
        s2r_body__ow_push(o, NULL, "s2r-task", false);
    }
    ow_push_range(o, w, u->prog, u->n);
}

/* srun kept for the srun stand-in: srun and its options, then the program
 * (a container runtime between them is the pod's image now) */
static void keep_srun(analysis *a)
{
    const unwrap *u = a->u;
    ow_push_range(&a->ow, u->words, u->srun_at, u->step.end);
    ow_push_range(&a->ow, u->words, u->prog,
                  u->n);
}

void s2r_body__rewrite_main(ctx *c, analysis *a, bool top)
{
    s2r_job *job = c->job;
    const unwrap *u = a->u;
    owords *o = &a->ow;
    const sh_word *w = u->words;
    ow_push_range(o, w, 0, u->prefix_end);
    for (size_t k = 0; a->env_inline && k < u->c_env.n; k++) {
        /* the container's --env, for this command alone */
        s2r_buf e = {0};
        s2r_body__put_assignment(&e, u->c_env.v[k].name, u->c_env.v[k].value);
        if (e.oom)
            o->oom = true;
        else
            s2r_body__ow_push(o, NULL, e.p, true);
        free(e.p);
    }
    /* time / exec / nohup stay in front of the program */
    if (job->distributed != S2R_DIST_MPI || a->mode == MM_STANDIN)
        ow_push_range(o, w, u->kw_from, u->kw_to);
    if (a->pwd_inline) {
        /* the container's working directory, for this command alone */
        s2r_buf d = {0};
        s2r_body__put_value(&d, u->c_workdir);
        if (d.oom) {
            o->oom = true;
        } else {
            s2r_body__ow_push(o, NULL, "env", false);
            s2r_body__ow_push(o, NULL, "-C", false);
            s2r_body__ow_push(o, NULL, d.p, true);
        }
        free(d.p);
    }

    bool multi_node = job->nodes > 1;
    if (a->mode == MM_STANDIN) {
        keep_srun(a);
    } else if (a->mode == MM_MPIRUN) {
        rewrite_mpi(c, a);
    } else if (u->lk == L_TORCHRUN) {
        rewrite_launcher(c, a, &s2r_launch_torchrun, multi_node,
                         torchrun_option);
        if (multi_node && top)
            s2r_body__note(c, w[u->launch_at].line,
                 "torchrun rendezvous options replaced: the PyTorchJob sets "
                 "PET_NNODES, PET_NODE_RANK, PET_MASTER_ADDR and "
                 "PET_MASTER_PORT");
    } else if (u->lk == L_ACCELERATE) {
        rewrite_launcher(c, a, &s2r_launch_accelerate, multi_node,
                         accelerate_option);
    } else if (u->lk == L_DEEPSPEED && multi_node) {
        rewrite_deepspeed(c, a, top);
    } else if (u->lk != L_NONE) {
        ow_push_range(o, w, u->launch_at, u->n);
    } else if (job->distributed == S2R_DIST_MPI) {
        rewrite_mpi(c, a);
    } else if (u->mpi) {
        /* mpirun in a one-task allocation: keep it as written */
        ow_push_range(o, w, u->mpi_at, u->n);
    } else {
        ow_push_range(o, w, u->prog, u->n);
    }
}
