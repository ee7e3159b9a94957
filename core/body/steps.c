/* steps.c: srun commands as job steps: their options (the step's tasks,
 * nodes, CPUs and GPUs, per srun(1)), where a body runs srun at all, and
 * the warnings about steps the srun stand-in (core/runai/srun_standin.sh)
 * cannot run as SLURM would. See analysis.h. */
#include "analysis.h"
#include "launchers.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Counts past this are read as this: no step has more tasks, nodes or
 * GPUs, and the products of counts stay far inside int64_t. */
#define COUNT_MAX ((int64_t)1 << 24)

/* the whole number @p v starts with (its leading digits), at most
 * COUNT_MAX; -1 when it starts with none */
static int64_t leading_number(const char *v)
{
    if (!v || !isdigit((unsigned char)*v))
        return -1;
    int64_t n = 0;
    for (; isdigit((unsigned char)*v); v++)
        n = n >= COUNT_MAX ? COUNT_MAX : n * 10 + (*v - '0');
    return n > COUNT_MAX ? COUNT_MAX : n;
}

/* a whole number (at most COUNT_MAX), or -1 */
static int64_t number(const char *v)
{
    if (!v || !*v || strspn(v, "0123456789") != strlen(v))
        return -1;
    return leading_number(v);
}

/* the GPU count of a --gres/--gpus value ("gpu:2", "gpu:a100:2", "a100:4",
 * "8"); only gpu entries count for --gres (@p gres); -1 when none */
static int64_t gpu_count(const char *v, bool gres)
{
    int64_t n = -1;
    char *dup = strdup(v ? v : ""), *save = NULL;
    for (char *e = dup ? strtok_r(dup, ",", &save) : NULL; e;
         e = strtok_r(NULL, ",", &save)) {
        bool is_gpu = !strncmp(e, "gpu", 3) && (e[3] == '\0' || e[3] == ':');
        if (gres && !is_gpu)
            continue;
        const char *c = strrchr(e, ':');
        int64_t k = number(c ? c + 1 : e);
        if (k < 0)
            k = is_gpu ? 1 : 0;
        n = (n < 0 ? 0 : n) + k;
    }
    free(dup);
    return n;
}

static void add_to(char *list, size_t cap, const char *what)
{
    size_t l = strlen(list);
    if (!strstr(list, what))
        snprintf(list + l, cap - l, "%s%s", l ? ", " : "", what);
}

static void add_refused(srun_step *s, const char *what)
{
    add_to(s->refused, sizeof(s->refused), what);
}

/* an option with an effect in the pod, named as written */
static void add_runtime(srun_step *s, const char *name)
{
    s->runtime = true;
    if (strcmp(name, "--export"))
        add_to(s->runtime_opts, sizeof(s->runtime_opts), name);
}

/* one option of srun (its key, per launchers.c, and value) */
static void step_option(srun_step *s, const s2r_launch_matched *m,
                        const char *word)
{
    const char *k = m->opt ? m->opt->key : NULL;
    const char *v = m->value;
    const char *n = m->opt ? m->opt->name : word;
    if (!k) {
        if (!strcmp(n, "--pty"))
            add_refused(s, "--pty");
        else if (!strcmp(n, "-l") || !strcmp(n, "--label") ||
                 !strcmp(n, "-K") || !strcmp(n, "--kill-on-bad-exit") ||
                 !strcmp(n, "--multi-prog"))
            add_runtime(s, n);
        return;
    }
    if (!strcmp(k, "ntasks"))
        s->ntasks = number(v) > 0 ? number(v) : 0;
    else if (!strcmp(k, "nodes"))
        /* a range (2-4) starts with its minimum */
        s->nodes = leading_number(v) > 0 ? leading_number(v) : 0;
    else if (!strcmp(k, "ntasks-per-node"))
        s->ntasks_per_node = number(v) > 0 ? number(v) : 0;
    else if (!strcmp(k, "cpus-per-task"))
        s->cpus_per_task = number(v) > 0 ? number(v) : 0;
    else if (!strcmp(k, "gpus-per-task"))
        s->gpus_per_task = gpu_count(v, false);
    else if (!strcmp(k, "gpus-per-node"))
        s->gpus_per_node = gpu_count(v, false);
    else if (!strcmp(k, "gres"))
        s->gpus_per_node = gpu_count(v, true);
    else if (!strcmp(k, "gpus"))
        s->gpus = gpu_count(v, false);
    else if (!strcmp(k, "container-image"))
        s->image = v;
    else if (!strcmp(k, "export") && v && strstr(v, "NONE"))
        add_refused(s, "--export=NONE");
    else if (!strcmp(k, "het-group") || !strcmp(k, "jobid") ||
             !strcmp(k, "prolog") || !strcmp(k, "epilog") ||
             !strcmp(k, "task-prolog") || !strcmp(k, "task-epilog")) {
        char o[32];
        snprintf(o, sizeof(o), "--%s", k);
        add_refused(s, o);
    } else if (!strcmp(k, "output") || !strcmp(k, "error") ||
               !strcmp(k, "input") || !strcmp(k, "chdir") ||
               !strcmp(k, "open-mode") ||
               (!strcmp(k, "export") && v && strchr(v, '=')))
        add_runtime(s, n);
}

void s2r_body__srun_parse(unwrap *u, size_t i)
{
    const sh_word *w = u->words;
    size_t n = u->n;
    srun_step *s = &u->step;
    memset(s, 0, sizeof(*s));
    s->gpus_per_task = s->gpus_per_node = s->gpus = -1;
    while (i < n) {
        const char *v = w[i].value ? w[i].value : "";
        const char *next = i + 1 < n && w[i + 1].value ? w[i + 1].value
                                                       : NULL;
        s2r_launch_matched m;
        size_t span = s2r_launch_match(&s2r_launch_srun, v, next, &m);
        if (span == 0)
            break;
        step_option(s, &m, v);
        s2r_body__container_option(u, &s2r_launch_srun, &m, w[i].line);
        i = i + span < n ? i + span : n;
        if (m.end)
            break;
    }
    s->end = i;
    /* heterogeneous steps: `srun A : B` (a literal ":" word, tested
     * without a call per word) */
    for (size_t k = i; k + 1 < n; k++)
        if (w[k].literal && w[k].value && w[k].value[0] == ':' &&
            w[k].value[1] == '\0' && w[k + 1].value &&
            w[k + 1].value[0] == '-')
            add_refused(s, "heterogeneous steps (':')");
}

int64_t s2r_body__step_nodes(const s2r_job *job, const srun_step *s)
{
    if (s->nodes > 0)
        return s->nodes;
    if (s->ntasks > 0 && s->ntasks_per_node <= 0) {
        int64_t tpn = job->tasks_per_node > 0 ? job->tasks_per_node : 1;
        int64_t m = (s->ntasks + tpn - 1) / tpn;
        return m < job->nodes ? m : job->nodes;
    }
    return job->nodes;
}

int64_t s2r_body__step_tasks(const s2r_job *job, const srun_step *s)
{
    int64_t m = s2r_body__step_nodes(job, s);
    if (s->ntasks > 0)
        return s->ntasks;
    if (s->ntasks_per_node > 0)
        return s->ntasks_per_node * m;
    if (s->nodes <= 0 && job->ntasks > 0)
        return job->ntasks;
    return (job->tasks_per_node > 0 ? job->tasks_per_node : 1) * m;
}

/* ------------------------------------------------------------------ */
/* where the body runs srun                                             */
/* ------------------------------------------------------------------ */

/* One strstr pass over the text for "srun" as a whole word (as
 * s2r_body__mentions() finds it; a newline is no name byte, so a line's
 * ends count as blanks), each one found then read against its own line:
 * the line's first byte that is no blank must not start a comment. A
 * comment line is skipped whole, so no line is read back twice. */
bool s2r_body__runs_srun(const char *text)
{
    for (const char *q = text; q && (q = strstr(q, "srun"));) {
        if (sh_name_byte(q[4]) || (q > text && sh_name_byte(q[-1]))) {
            q += 4; /* an "srun" inside a longer name: look after it */
            continue;
        }
        const char *line = q;
        while (line > text && line[-1] != '\n')
            line--;
        if (line[strspn(line, " \t")] != '#')
            return true;
        q = strchr(q, '\n');
    }
    return false;
}

/* ------------------------------------------------------------------ */
/* steps the srun stand-in runs                                         */
/* ------------------------------------------------------------------ */

/* GPUs step @p s asks for on one node, -1 when it names none */
static int64_t step_gpus(const s2r_job *job, const srun_step *s)
{
    int64_t m = s2r_body__step_nodes(job, s);
    if (s->gpus_per_task >= 0) {
        int64_t t = s2r_body__step_tasks(job, s);
        return s->gpus_per_task * ((t + m - 1) / (m > 0 ? m : 1));
    }
    if (s->gpus_per_node >= 0)
        return s->gpus_per_node;
    if (s->gpus >= 0)
        return (s->gpus + m - 1) / (m > 0 ? m : 1);
    return -1;
}

/* the step names an image other than the pod's */
static bool other_image(const s2r_job *job, const srun_step *s)
{
    if (!s->image || !job->image)
        return false;
    char *ref = s2r_body__enroot_ref(s->image);
    bool other = ref && strcmp(ref, job->image);
    free(ref);
    return other;
}

/* a PyTorchJob of several pods: each pod runs the whole batch script */
static bool every_pod_runs_script(const s2r_job *job)
{
    return job->distributed == S2R_DIST_PYTORCH && job->nodes > 1;
}

/* the warnings about one srun step at @p line */
static void check_step(ctx *c, const unwrap *u, int line, bool launcher_pod)
{
    const s2r_job *job = c->job;
    const srun_step *s = &u->step;
    int64_t pod_gpus = launcher_pod ? 0 : job->gpus_per_node;
    int64_t g = step_gpus(job, s);
    if (s->refused[0])
        s2r_body__warn(c, line, NULL, "line %d: srun %s has no equivalent in "
                       "a Run:ai pod: the srun stand-in refuses the step, which "
                       "fails there", line, s->refused);
    else if (g > pod_gpus)
        s2r_body__warn(c, line, NULL, "line %d: the srun step asks for %lld "
                       "GPU(s) on a node, and the pod that runs it has %lld: "
                       "the srun stand-in refuses it", line, (long long)g,
                       (long long)pod_gpus);
    if (other_image(job, s)) {
        char *ref = s2r_body__enroot_ref(s->image);
        s2r_body__warn(c, line, NULL, "line %d: the srun step names image "
                       "%s, but the pod runs %s: the srun stand-in refuses "
                       "the step", line, ref ? ref : s->image, job->image);
        free(ref);
    }
    if (launcher_pod && !s->refused[0] && g <= 0)
        s2r_body__warn(c, line, NULL, "line %d: this srun step runs on the "
                       "MPIJob's launcher pod (1 CPU, no GPU), not on the "
                       "workers, where the ranks run: what it writes to a "
                       "pod's own folders (/tmp, a local disk) is not there "
                       "for them; write it to shared storage", line);
    int64_t m = s2r_body__step_nodes(job, s);
    if (every_pod_runs_script(job) && m > 0 && m < job->nodes)
        s2r_body__warn(c, line, NULL, "line %d: the srun step runs on %lld "
                       "of the PyTorchJob's %lld pods; the other pods do not "
                       "wait for it and go on with the next line at once (a "
                       "PyTorchJob's pods are not kept in step as one batch "
                       "script is)", line, (long long)m,
                       (long long)job->nodes);
}

/* srun OPTIONS of a side step of an MPI program becomes `mpirun -np N`
 * (one pod, or an MPIJob's launcher, whose mpirun reaches the workers):
 * true when it did */
static bool side_mpirun(ctx *c, analysis *a, const sh_cmd *cm,
                        const unwrap *u)
{
    const s2r_job *job = c->job;
    if (job->distributed == S2R_DIST_PYTORCH && job->nodes > 1)
        return false;
    int64_t tasks = s2r_body__step_tasks(job, &u->step);
    if (tasks <= 1 || u->step.refused[0] || u->step.runtime ||
        other_image(job, &u->step) ||
        !s2r_body__srun_runs_mpi(c, u, NULL, true))
        return false;
    /* each rank gets its task's SLURM_PROCID and SLURM_LOCALID, as in
     * the main command */
    char *ranks = s2r_shell_quote(s2r_body__rank_vars), *repl = NULL;
    if (!ranks || asprintf(&repl, "mpirun -np %lld bash -c %s s2r-task ",
                           (long long)tasks, ranks) < 0) {
        free(ranks);
        c->oom = true;
        return false;
    }
    size_t end = u->step.end < u->n ? u->words[u->step.end].start
                                    : cm->end;
    s2r_body__add_edit(c, a, u->words[u->srun_at].start, end, repl);
    free(repl);
    free(ranks);
    s2r_body__note(c, cm->line, "line %d: this srun step of an MPI program "
                   "becomes 'mpirun -np %lld'", cm->line, (long long)tasks);
    c->job->uses_mpirun = true;
    return true;
}

/* the srun steps of statement @p i (its main command only when the
 * stand-in runs it): warnings, MPI steps made mpirun */
static void stmt_steps(ctx *c, analysis *a, size_t i)
{
    const sh_stmt *st = &a->body.stmts[i];
    bool launcher_pod = c->job->distributed == S2R_DIST_MPI &&
                        c->job->nodes > 1;
    for (size_t k = 0; k < st->ncmds; k++) {
        bool main = i == a->main && k == a->main_cmd;
        if ((main && a->mode != MM_STANDIN) ||
            s2r_body__runs_bare(&st->cmds[k]))
            continue; /* a command run bare runs no srun */
        const unwrap *u = s2r_body__unwrapped(c, a, i, k);
        if (u->srun && (main || !side_mpirun(c, a, &st->cmds[k], u)))
            check_step(c, u, st->cmds[k].line, launcher_pod);
    }
}

/* True when the @p n bytes at @p t run srun inside $( ) or backquotes:
 * "$(srun", "$( srun", "`srun" with srun a whole word. */
static bool captures_srun(const char *t, size_t n)
{
    for (size_t i = 0; i + 5 <= n; i++) {
        if (memcmp(t + i, "srun", 4) || (i + 4 < n && sh_name_byte(t[i + 4])))
            continue;
        size_t j = i;
        while (j > 0 && (t[j - 1] == ' ' || t[j - 1] == '\t'))
            j--;
        if (j > 0 && (t[j - 1] == '`' || (t[j - 1] == '(' && j > 1 &&
                                           t[j - 2] == '$')))
            return true;
    }
    return false;
}

/* Every pod of a PyTorchJob runs the script and its own node's tasks of
 * a step: output of srun taken with $( ) holds only those tasks' lines
 * (none on a pod without a task of the step), where SLURM gives the batch
 * script, on the first node, every task's. */
static void warn_captured_steps(ctx *c, const analysis *a)
{
    if (!every_pod_runs_script(c->job))
        return;
    for (size_t i = 0; i < a->body.n; i++) {
        const sh_stmt *st = &a->body.stmts[i];
        if ((a->kind[i] != ST_KEEP && a->kind[i] != ST_MAIN) ||
            !captures_srun(a->body.src + st->start, st->end - st->start))
            continue;
        s2r_body__warn(c, st->line, NULL, "srun's output taken with $( ): "
                       "each of the PyTorchJob's %lld pods gets only the "
                       "output of its own tasks of the step, and a pod with "
                       "none of them gets nothing, where SLURM gives the "
                       "batch script every task's output on the first node",
                       (long long)c->job->nodes);
    }
}

void s2r_body__plan_steps(ctx *c, analysis *a)
{
    for (size_t i = 0; i < a->body.n; i++)
        if (a->kind[i] == ST_KEEP || a->kind[i] == ST_MAIN)
            stmt_steps(c, a, i);
    warn_captured_steps(c, a);
}

/* Commands that do the same on every pod, or only shape the shell: not
 * named when the script runs once per pod. */
static bool same_on_every_pod(const sh_cmd *cm)
{
    static const char *const cmds[] = {
        "echo", "printf", "set", "export", "cd", "pwd", "wait", "sleep",
        "true", "false", ":", "source", ".", "mkdir", "date", "hostname",
        "nvidia-smi", "env", "printenv", "ulimit", "trap", "exit", "return",
        "declare", "local", "unset", "shift", "test", "[", "[[", "module",
        "ml", "conda", "umask", "srun", "scontrol", "id", "whoami", "uname",
        "nproc", "free", "df", "ls", "cat", "which", "type", "command", NULL};
    const sh_word *w = s2r_body__cmd_word(cm);
    return !w || !w->literal || !w->value ||
           s2r_body__list_has(cmds, w->value);
}

void s2r_body__warn_every_pod(ctx *c, const analysis *a)
{
    if (!every_pod_runs_script(c->job))
        return;
    char list[400] = "";
    int first = 0, n = 0;
    for (size_t i = 0; i < a->body.n; i++) {
        const sh_stmt *st = &a->body.stmts[i];
        bool runs = false;
        for (size_t k = 0; !st->compound && k < st->ncmds && !runs; k++)
            runs = !same_on_every_pod(&st->cmds[k]);
        if (i == a->main || a->kind[i] != ST_KEEP || !runs)
            continue;
        if (n++ < 3) {
            char snip[80];
            s2r_body__stmt_snippet(&a->body, st, snip, sizeof(snip));
            size_t l = strlen(list);
            snprintf(list + l, sizeof(list) - l, "%sline %d '%s'",
                     l ? ", " : "", st->line, snip);
            first = first ? first : st->line;
        }
    }
    if (n)
        s2r_body__warn(c, first, NULL, "each of the PyTorchJob's %lld pods "
                       "runs the batch script, so what it runs outside the "
                       "launch runs %lld times, where SLURM runs it once on "
                       "the first node: %s%s; run it only on the first pod "
                       "with `if [ \"${PET_NODE_RANK:-0}\" = 0 ]; then ...; "
                       "fi`", (long long)c->job->nodes,
                       (long long)c->job->nodes, list,
                       n > 3 ? " and more" : "");
}

void s2r_body__note_standin(ctx *c, const analysis *a)
{
    if (!c->job->srun_standin)
        return;
    if (c->job->distributed == S2R_DIST_PYTORCH && a->mode == MM_STANDIN)
        s2r_body__note(c, c->job->main_line, "every PyTorchJob pod runs its "
                       "node's tasks of the srun step at line %d through the "
                       "srun stand-in, each with SLURM_PROCID, SLURM_LOCALID, "
                       "SLURM_NODEID, RANK, LOCAL_RANK and WORLD_SIZE",
                       c->job->main_line);
    else
        s2r_body__note(c, c->job->main_line, "the pod's command carries the "
                       "srun stand-in: srun starts its tasks in the pod (see "
                       "'srun in the pod' in README.md)");
}
