/* unwrap.c: the wrappers and launchers in front of the main program
 * (srun, mpirun/mpiexec, horovodrun, conda run, container runtimes
 * (containers.c), time/exec/nohup/command, a computed prefix word such as
 * ${CMD_PREFIX}, bash -c '...', torchrun, accelerate launch, deepspeed),
 * read with the launchers' own option grammars (launchers.c). See
 * analysis.h. */
#include "analysis.h"
#include "launchers.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void s2r_body__unwrap_free(unwrap *u)
{
    /* most commands have no container: nothing of this to free */
    if (!u->image && !u->local_image_name && !u->c_workdir &&
        !u->c_env.v && !u->binds)
        return;
    free(u->image);
    free(u->local_image_name);
    free(u->c_workdir);
    s2r_envv_clear(&u->c_env);
    for (size_t i = 0; i < u->n_binds; i++) {
        free(u->binds[i].source);
        free(u->binds[i].target);
    }
    free(u->binds);
}

void s2r_body__note_dropped(unwrap *u, const char *opt)
{
    size_t l = strlen(u->dropped);
    if (strstr(u->dropped, opt))
        return;
    snprintf(u->dropped + l, sizeof(u->dropped) - l, "%s%s", l ? ", " : "",
             opt);
}

/* What a command name (a word's last path component) is to the unwrap. */
typedef enum wrapper {
    W_NONE = 0,
    W_KEYWORD,     /* time, exec, nohup, command (as the whole word) */
    W_SRUN,
    W_MPIRUN,      /* mpirun, mpiexec, mpiexec.hydra, orterun, prterun */
    W_HOROVODRUN,
    W_LAUNCHER,    /* torchrun, deepspeed, accelerate */
    W_CONDA,       /* conda, mamba, micromamba */
    W_CONTAINER,   /* singularity, apptainer, podman-hpc, podman, docker,
                      enroot */
    W_SHELL        /* bash, sh */
} wrapper;

/* What name @p b is: only the names that start with its first byte are
 * compared, and only those whose second byte is b's in full. */
static wrapper wrapper_of(const char *b)
{
#define NAME(name, kind)                                                     \
    if (b[1] == (name)[1] && !strcmp(b, name))                               \
        return kind
    switch (b[0]) {
    case 'a':
        NAME("accelerate", W_LAUNCHER);
        NAME("apptainer", W_CONTAINER);
        break;
    case 'b':
        NAME("bash", W_SHELL);
        break;
    case 'c':
        NAME("command", W_KEYWORD);
        NAME("conda", W_CONDA);
        break;
    case 'd':
        NAME("deepspeed", W_LAUNCHER);
        NAME("docker", W_CONTAINER);
        break;
    case 'e':
        NAME("enroot", W_CONTAINER);
        NAME("exec", W_KEYWORD);
        break;
    case 'h':
        NAME("horovodrun", W_HOROVODRUN);
        break;
    case 'm':
        NAME("mamba", W_CONDA);
        NAME("micromamba", W_CONDA);
        NAME("mpiexec", W_MPIRUN);
        NAME("mpiexec.hydra", W_MPIRUN);
        NAME("mpirun", W_MPIRUN);
        break;
    case 'n':
        NAME("nohup", W_KEYWORD);
        break;
    case 'o':
        NAME("orterun", W_MPIRUN);
        break;
    case 'p':
        NAME("podman", W_CONTAINER);
        NAME("podman-hpc", W_CONTAINER);
        NAME("prterun", W_MPIRUN);
        break;
    case 's':
        NAME("singularity", W_CONTAINER);
        NAME("sh", W_SHELL);
        NAME("srun", W_SRUN);
        break;
    case 't':
        NAME("time", W_KEYWORD);
        NAME("torchrun", W_LAUNCHER);
        break;
    default:
        break;
    }
#undef NAME
    return W_NONE;
}

/* what word @p w names: its last path component's kind, and that
 * component in *@p base */
static wrapper kind_of_word(const sh_word *w, const char **base)
{
    const char *v = w->value ? w->value : "";
    *base = s2r_body__base_name(v);
    wrapper k = wrapper_of(*base);
    /* the keywords count as the whole word only (not /usr/bin/time) */
    return k == W_KEYWORD && *base != v ? W_NONE : k;
}

/* what word @p i of @p u names (kind_of_word()) */
static wrapper word_wrapper(const unwrap *u, size_t i, const char **base)
{
    return kind_of_word(&u->words[i], base);
}

/* srun at word @p i: its options (the step, pyxis --container-*,
 * --export K=V); the index of the first word after them. */
static size_t unwrap_srun(unwrap *u, size_t i)
{
    u->srun = true;
    u->srun_at = i;
    s2r_body__srun_parse(u, i + 1);
    return u->step.end;
}

/* mpirun/mpiexec or horovodrun at word @p i */
static size_t unwrap_mpi(unwrap *u, size_t i, const s2r_launch_grammar *g)
{
    u->mpi = true;
    u->horovod = g->kind == S2R_LK_HOROVODRUN;
    u->mpi_at = i;
    u->mpi_opts = i + 1;
    u->mpi_prog = s2r_launch__skip_options(g, u->words, u->n, i + 1);
    return u->mpi_prog;
}

/* A word computed at run time in front of a launcher (`${CMD_PREFIX}
 * srun ...`, `$LAUNCH torchrun ...`): true when word @p i of the @p n
 * words @p w is one, the next word a launcher. */
static bool prefix_word(const sh_word *w, size_t n, size_t i)
{
    if (w[i].literal || i + 1 >= n || !w[i + 1].value)
        return false;
    const char *argv[8];
    size_t k = 0;
    for (; k < 8 && i + 1 + k < n; k++)
        argv[k] = w[i + 1 + k].value ? w[i + 1 + k].value : "";
    size_t at;
    return s2r_launch_identify(argv, k, &at) != NULL;
}

static bool computed_prefix(const unwrap *u, size_t i)
{
    return prefix_word(u->words, u->n, i);
}

/* The wrapper at word @p i, of kind @p k (time/exec/nohup/command, a
 * computed prefix, srun, mpirun, horovodrun, conda run, a container
 * runtime): the index after it and its options, or @p i when word @p i is
 * no wrapper. */
static size_t skip_wrapper(unwrap *u, size_t i, wrapper k)
{
    if (k == W_KEYWORD || computed_prefix(u, i)) {
        if (u->kw_to == i)
            u->kw_to = i + 1;
        return i + 1;
    }
    switch (k) {
    case W_SRUN:
        return unwrap_srun(u, i);
    case W_MPIRUN:
        return unwrap_mpi(u, i, &s2r_launch_mpirun);
    case W_HOROVODRUN:
        return unwrap_mpi(u, i, &s2r_launch_horovodrun);
    case W_CONDA:
        if (i + 1 < u->n && s2r_body__word_is(&u->words[i + 1], "run")) {
            /* the environment must be part of the image */
            u->conda_run = true;
            return s2r_launch__skip_options(&s2r_launch_conda_run, u->words,
                                            u->n, i + 2);
        }
        return i;
    case W_CONTAINER: {
        size_t next = s2r_body__unwrap_container(u, i);
        if (next != i && !u->container) {
            u->container = true;
            u->container_at = i;
        }
        return next;
    }
    default:
        return i;
    }
}

/* bash -c / sh -c at word @p i: a literal string is analysed as a body
 * (true); a computed one that runs a torch launcher is opaque. */
static bool shell_string(unwrap *u, size_t i, wrapper w)
{
    if (w != W_SHELL || i + 2 >= u->n ||
        !s2r_body__word_is(&u->words[i + 1], "-c"))
        return false;
    if (u->words[i + 2].literal) {
        u->shell_string = true;
        u->shell_word = &u->words[i + 2];
        u->prog = i;
        return true;
    }
    if (u->words[i + 2].value) {
        const char *t = u->words[i + 2].value;
        if (strstr(t, "torchrun") || strstr(t, "accelerate launch") ||
            strstr(t, "torch.distributed.run") || strstr(t, "deepspeed "))
            u->opaque_torch = true;
    }
    return false;
}

/* The launcher at word @p i (named @p b, of kind @p w), if any: torchrun
 * (also python -m torch.distributed.run|launch), accelerate launch,
 * deepspeed. */
static void find_launcher(unwrap *u, size_t i, const char *b, wrapper w)
{
    if (w != W_LAUNCHER && (b[0] != 'p' || strncmp(b, "python", 6)))
        return; /* no name s2r_launch_identify() knows */
    const char *argv[16];
    size_t k = 0;
    for (; k < 16 && i + k < u->n; k++)
        argv[k] = u->words[i + k].value ? u->words[i + k].value : "";
    size_t at = 1;
    const s2r_launch_grammar *g = s2r_launch_identify(argv, k, &at);
    if (!g)
        return;
    switch (g->kind) {
    case S2R_LK_TORCHRUN:
        u->lk = L_TORCHRUN;
        break;
    case S2R_LK_ACCELERATE:
        u->lk = L_ACCELERATE;
        break;
    case S2R_LK_DEEPSPEED:
        u->lk = L_DEEPSPEED;
        break;
    default:
        return;
    }
    u->launch_at = i;
    u->launch_opts = i + at;
    u->script = s2r_launch__skip_options(g, u->words, u->n, u->launch_opts);
}

void s2r_body__unwrap(const sh_cmd *cmd, unwrap *u, const s2r_envv *pulled)
{
    memset(u, 0, sizeof(*u));
    u->words = cmd->words;
    u->n = cmd->nwords;
    u->pulled = pulled;
    size_t i = sh_cmd_first_arg(cmd);
    u->prefix_end = i;
    u->kw_from = u->kw_to = i;
    /* word i's kind and last path component: the loop leaves them for the
     * word it stops at, when that is no wrapper */
    const char *b = NULL;
    wrapper w = W_NONE;
    while (i < u->n) {
        w = word_wrapper(u, i, &b);
        size_t next = skip_wrapper(u, i, w);
        if (next == i)
            break;
        i = next;
        if (u->run_args)
            break; /* singularity run: the image's runscript, its args */
    }
    if (!u->run_args && i < u->n) {
        /* the loop stopped at word i: b and w are its own */
        if (shell_string(u, i, w))
            return;
        find_launcher(u, i, b, w);
    }
    u->prog = i;
}

bool s2r_body__runs_bare(const sh_cmd *cmd)
{
    size_t i = sh_cmd_first_arg(cmd);
    if (i >= cmd->nwords)
        return true;
    /* s2r_body__unwrap() stops at word i (no wrapper, no computed prefix)
     * and finds neither bash -c (a shell) nor a launcher (a launcher's or
     * python's name) there */
    const char *b;
    return kind_of_word(&cmd->words[i], &b) == W_NONE &&
           !prefix_word(cmd->words, cmd->nwords, i) &&
           (b[0] != 'p' || strncmp(b, "python", 6));
}

/* ------------------------------------------------------------------ */
/* each command of an analysis unwrapped once                           */
/* ------------------------------------------------------------------ */

const unwrap s2r_body__no_unwrap;

/* the memo's arrays, sized for the commands of @p a's body, in one block
 * (a->unwraps at its start owns it): a pointer to each command's unwrap
 * (NULL until it is first read), the index of each statement's first
 * command, then which unwraps are read (all false). Each unwrap is a
 * block of its own, allocated when first read: most commands never are,
 * and one block for all of them took the allocator's slow path. */
static bool memo_alloc(analysis *a)
{
    const sh_body *b = &a->body;
    size_t n = 0;
    for (size_t i = 0; i < b->n; i++)
        n += b->stmts[i].ncmds;
    size_t stmts = b->n ? b->n : 1, cmds = n ? n : 1;
    if (cmds > SIZE_MAX / 4 / (sizeof(unwrap *) + 1) ||
        stmts > SIZE_MAX / 4 / sizeof(size_t))
        return false;
    char *block = s2r_zalloc(1, cmds * sizeof(unwrap *) +
                                       stmts * sizeof(size_t) + cmds);
    if (!block)
        return false;
    a->unwraps = (unwrap **)block;
    a->cmd_at = (size_t *)(block + cmds * sizeof(unwrap *));
    a->unwrapped = (bool *)(block + cmds * sizeof(unwrap *) +
                            stmts * sizeof(size_t));
    a->n_unwraps = cmds;
    n = 0;
    for (size_t i = 0; i < b->n; i++) {
        a->cmd_at[i] = n;
        n += b->stmts[i].ncmds;
    }
    return true;
}

const unwrap *s2r_body__unwrapped(ctx *c, analysis *a, size_t stmt,
                                  size_t cmd)
{
    if (!a->unwraps && !memo_alloc(a)) {
        c->oom = true;
        return &s2r_body__no_unwrap;
    }
    size_t at = a->cmd_at[stmt] + cmd;
    if (!a->unwraps[at] && !(a->unwraps[at] = malloc(sizeof(unwrap)))) {
        c->oom = true;
        return &s2r_body__no_unwrap;
    }
    unwrap *u = a->unwraps[at];
    if (!a->unwrapped[at]) {
        s2r_body__unwrap(&a->body.stmts[stmt].cmds[cmd], u, &c->pulled);
        a->unwrapped[at] = true;
    }
    return u;
}

void s2r_body__forget_unwraps(analysis *a)
{
    if (!a->unwraps)
        return;
    for (size_t i = 0; i < a->n_unwraps; i++)
        if (a->unwrapped[i]) {
            s2r_body__unwrap_free(a->unwraps[i]);
            a->unwrapped[i] = false;
        }
}

void s2r_body__free_unwraps(analysis *a)
{
    s2r_body__forget_unwraps(a);
    for (size_t i = 0; a->unwraps && i < a->n_unwraps; i++)
        free(a->unwraps[i]);
    free(a->unwraps); /* the block of all three */
    a->unwraps = NULL;
    a->unwrapped = NULL;
    a->cmd_at = NULL;
    a->n_unwraps = 0;
}
