/* foreign.c: what a body asks of SLURM itself, and work that is no Run:ai
 * workload: SLURM client commands (sbatch, scontrol, scancel, squeue ...)
 * at the top level, in functions and in trap handlers; host lists from
 * `scontrol show hostnames`; Ray, Spark or Dask clusters started across
 * the job's nodes;
 * workflow managers that submit their own SLURM jobs (Nextflow,
 * Snakemake, Cromwell). Each gets a warning that names it, its line and
 * what to use instead. See analysis.h. */
#include "analysis.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* SLURM client commands                                                */
/* ------------------------------------------------------------------ */

/* what to do instead of SLURM command @p name (@p sub: its first
 * argument) */
static const char *instead(const char *name, const char *sub)
{
    if (!strcmp(name, "sbatch"))
        return "a Run:ai pod cannot submit SLURM jobs; submit the next "
               "workload yourself once this one ends (runai workload "
               "submit), and for a job that resubmits itself rely on "
               "Run:ai's retry (backoffLimit) and checkpoints";
    if (!strcmp(name, "scancel") ||
        (!strcmp(name, "scontrol") && sub &&
         (!strcmp(sub, "requeue") || !strcmp(sub, "requeuehold") ||
          !strcmp(sub, "update") || !strcmp(sub, "hold") ||
          !strcmp(sub, "release"))))
        return "a Run:ai pod has no SLURM controller; Run:ai retries a "
               "failed workload per its backoffLimit and resumes preempted "
               "ones (runai training suspend/resume)";
    return "SLURM's queue and accounting commands do not exist in a Run:ai "
           "pod (see runai workload describe and runai training logs)";
}

/* the SLURM client a command runs and its first argument */
static const char *client_of(const sh_cmd *cm, const char **sub)
{
    const sh_word *w = s2r_body__cmd_word(cm);
    *sub = NULL;
    if (!w || !w->value ||
        !s2r_body__is_slurm_client(s2r_body__base_name(w->value)))
        return NULL;
    size_t k = (size_t)(w - cm->words);
    if (k + 1 < cm->nwords)
        *sub = cm->words[k + 1].value;
    return s2r_body__base_name(w->value);
}

void s2r_body__slurm_command(ctx *c, analysis *a, size_t i)
{
    const sh_body *b = &a->body;
    const sh_stmt *st = &b->stmts[i];
    if (s2r_body__stmt_text_has(b, st, "scontrol show hostname")) {
        a->kind[i] = ST_HOSTLIST;
        return;
    }
    const char *sub;
    const char *name = client_of(&st->cmds[0], &sub);
    char snip[160];
    s2r_body__stmt_snippet(b, st, snip, sizeof(snip));
    a->kind[i] = ST_DROP;
    s2r_body__warn(c, st->line, NULL, "dropped '%s': %s", snip,
                   instead(name ? name : "", sub));
}

/* False when @p v cannot name any SLURM client below: each is an 's' and
 * then one of "bcqai" (sbatch scontrol squeue sacct sinfo). */
static bool may_name_client(const char *v)
{
    for (const char *p = v; (p = strchr(p, 's')); p++)
        if (p[1] == 'b' || p[1] == 'c' || p[1] == 'q' || p[1] == 'a' ||
            p[1] == 'i')
            return true;
    return false;
}

/* True when a command named @p p runs its arguments as shell text
 * (trap, eval, bash, sh) or as a program with its own (srun). */
static bool runs_strings(const char *p)
{
    /* sorted as strcmp orders them */
    static const char *const names[] = {"bash", "eval", "sh", "srun",
                                        "trap"};
    return s2r_sorted_has(names, S2R_COUNTOF(names), p);
}

/* a SLURM client run inside a compound statement (a function, a loop, an
 * if block) or named in a string (trap handlers, eval, bash -c) */
static void nested_clients(ctx *c, const analysis *a, size_t i)
{
    const sh_stmt *st = &a->body.stmts[i];
    static const char *const names[] = {"sbatch", "scontrol", "scancel",
                                        "squeue", "sacct", "sinfo", NULL};
    for (size_t k = 0; k < st->ncmds; k++) {
        const sh_cmd *cm = &st->cmds[k];
        const char *sub, *name = st->compound ? client_of(cm, &sub) : NULL;
        const sh_word *cw = s2r_body__cmd_word(cm);
        const char *p = cw && cw->value ? s2r_body__base_name(cw->value) : "";
        bool strings = runs_strings(p);
        for (size_t j = 0; !name && strings && j < cm->nwords; j++) {
            if (!cm->words[j].value || !may_name_client(cm->words[j].value))
                continue;
            for (size_t q = 0; names[q] && !name; q++)
                if (s2r_body__mentions(cm->words[j].value, names[q]) &&
                    !s2r_body__word_is(&cm->words[j], names[q])) {
                    name = names[q];
                    sub = strstr(cm->words[j].value, "scontrol requeue")
                              ? "requeue" : NULL;
                }
        }
        if (!name)
            continue;
        s2r_body__warn(c, cm->line, NULL,
             "line %d runs %s%s%s when it is reached, and it fails there: %s",
             cm->line, name, sub ? " " : "", sub ? sub : "",
             instead(name, sub));
        return;
    }
}

/* ------------------------------------------------------------------ */
/* host lists                                                           */
/* ------------------------------------------------------------------ */

/* `scontrol show hostnames ...` in statement @p st becomes `hostname`:
 * an edit from "scontrol" to the end of that command */
static void hostname_edit(ctx *c, analysis *a, const sh_stmt *st)
{
    static const char k[] = "scontrol show hostname";
    const size_t n = sizeof(k) - 1, rare = 12; /* k[rare] is the 'w' */
    const char *src = a->body.src, *q;
    size_t p = st->start;
    while (p < st->end &&
           (q = s2r_find_rare(src + p, st->end - p, k, n, rare))) {
        size_t at = (size_t)(q - src), e = at + n;
        while (e < st->end && !strchr("|)`;&\n", src[e]))
            e++;
        s2r_body__add_edit(c, a, at, e, "hostname ");
        p = e + 1;
    }
}

/* [@p p, @p e) without the blanks at either end */
static void trim_blanks(const char **p, const char **e)
{
    while (*p < *e && (**p == ' ' || **p == '\t'))
        (*p)++;
    while (*e > *p && ((*e)[-1] == ' ' || (*e)[-1] == '\t'))
        (*e)--;
}

/* True when [@p p, @p e) is `scontrol show hostname[s] ARGS | head -n 1`
 * (or head -n1, -1, --lines=1): the first host of the allocation, per
 * scontrol(1) "show hostnames" and head(1). */
static bool first_host_cmd(const char *p, const char *e)
{
    static const char sc[] = "scontrol show hostname";
    static const char *const one[] = {"-n 1", "-n1", "-1", "--lines=1",
                                      "--lines 1", NULL};
    trim_blanks(&p, &e);
    size_t n = sizeof(sc) - 1;
    if ((size_t)(e - p) < n || memcmp(p, sc, n))
        return false;
    const char *bar = p + n;
    while (bar < e && !strchr("|;&\n`()", *bar))
        bar++;
    if (bar == e || *bar != '|')
        return false;
    const char *q = bar + 1;
    trim_blanks(&q, &e);
    if (e - q < 5 || memcmp(q, "head", 4) || (q[4] != ' ' && q[4] != '\t'))
        return false;
    q += 4;
    trim_blanks(&q, &e);
    for (size_t k = 0; one[k]; k++)
        if (strlen(one[k]) == (size_t)(e - q) && !memcmp(q, one[k], (size_t)(e - q)))
            return true;
    return false;
}

/* The word of statement @p st that sets a variable to the allocation's
 * first host, `[export] NAME=$(scontrol show hostnames ... | head -n 1)`
 * (in double quotes or not, or with backquotes), or NULL. */
static const sh_word *first_host_word(const analysis *a, const sh_stmt *st)
{
    if (st->compound || st->background || st->ncmds != 1 ||
        st->cmds[0].has_redir)
        return NULL;
    const sh_cmd *cm = &st->cmds[0];
    const sh_word *w;
    if (cm->nwords == 1 && cm->first_arg == 1)
        w = &cm->words[0];
    else if (cm->nwords == 2 && cm->first_arg == 0 &&
             s2r_body__word_is(&cm->words[0], "export") &&
             sh_word_is_assignment(&cm->words[1]))
        w = &cm->words[1];
    else
        return NULL;
    const char *src = a->body.src, *e = src + w->end;
    const char *p = memchr(src + w->start, '=', w->end - w->start) + 1;
    if (e - p >= 2 && p[0] == '"' && e[-1] == '"')
        p++, e--;
    if (e - p >= 3 && p[0] == '$' && p[1] == '(' && e[-1] == ')')
        p += 2, e--;
    else if (e - p >= 2 && p[0] == '`' && e[-1] == '`')
        p++, e--;
    else
        return NULL;
    return first_host_cmd(p, e) ? w : NULL;
}

/* A host-list line of a PyTorchJob goes (statement @p line, @p snip). */
static void warn_pytorch_hostlist(ctx *c, int line, const char *snip)
{
    s2r_body__warn(c, line, NULL, "dropped '%s': host lists come from "
                   "SLURM; the PyTorchJob sets MASTER_ADDR, MASTER_PORT, "
                   "WORLD_SIZE and RANK in every pod", snip);
}

/* True when shell text @p s reads $@p name or ${@p name...}. */
static bool reads_var(const char *s, const char *name, size_t n)
{
    for (const char *p = s; (p = strchr(p, '$')); p++) {
        const char *v = p + 1 + (p[1] == '{');
        if (!strncmp(v, name, n) && !isalnum((unsigned char)v[n]) &&
            v[n] != '_')
            return true;
    }
    return false;
}

/* The PyTorchJob's pods: a line that sets a variable to the first host
 * (the rendezvous host under SLURM) sets it to $MASTER_ADDR, which the
 * training operator sets to the master's address in every pod (localhost
 * in the master itself), when the rest of the body, as the pod runs it,
 * still reads the variable; else it is dropped as other host lists. */
void s2r_body__settle_first_hosts(ctx *c, analysis *a)
{
    if (c->job->distributed != S2R_DIST_PYTORCH || c->job->nodes < 2)
        return;
    char *text = NULL;
    for (size_t i = 0; i < a->body.n; i++) {
        const sh_stmt *st = &a->body.stmts[i];
        const sh_word *w;
        if (a->kind[i] != ST_DROP || !(w = first_host_word(a, st)))
            continue;
        const char *src = a->body.src;
        const char *eq = memchr(src + w->start, '=', w->end - w->start);
        const char *name = src + w->start;
        size_t n = (size_t)(eq - name);
        char snip[160];
        s2r_body__stmt_snippet(&a->body, st, snip, sizeof(snip));
        if (!text) {
            s2r_buf t = {0};
            s2r_body__render(c, a, &t, true);
            if (t.oom) {
                free(t.p);
                c->oom = true;
                return;
            }
            text = t.p ? t.p : strdup("");
        }
        if (!text || (n == 11 && !memcmp(name, "MASTER_ADDR", 11)) ||
            !reads_var(text, name, n)) {
            c->oom |= !text;
            warn_pytorch_hostlist(c, st->line, snip);
            continue;
        }
        a->kind[i] = ST_KEEP;
        s2r_body__add_edit(c, a, (size_t)(eq + 1 - src), w->end,
                           "\"${MASTER_ADDR}\"");
        s2r_body__note(c, st->line, "'%s' sets %.*s to \"${MASTER_ADDR}\": "
                       "the PyTorchJob's master, the first host, as every "
                       "pod reaches it (localhost in the master)", snip,
                       (int)n, name);
    }
    free(text);
}

/* host-list statements: one pod names itself; several drop the line (a
 * line that sets the first host waits for s2r_body__settle_first_hosts) */
static void settle_hostlists(ctx *c, analysis *a)
{
    const s2r_job *job = c->job;
    bool pods = job->nodes > 1 && job->distributed != S2R_DIST_NONE;
    for (size_t i = 0; i < a->body.n; i++) {
        if (a->kind[i] != ST_HOSTLIST)
            continue;
        const sh_stmt *st = &a->body.stmts[i];
        char snip[160];
        s2r_body__stmt_snippet(&a->body, st, snip, sizeof(snip));
        if (!pods) {
            a->kind[i] = ST_KEEP;
            hostname_edit(c, a, st);
            s2r_body__note(c, st->line, "'scontrol show hostnames' becomes "
                           "'hostname': the job runs in one pod");
        } else if (job->distributed == S2R_DIST_PYTORCH) {
            a->kind[i] = ST_DROP;
            if (!first_host_word(a, st))
                warn_pytorch_hostlist(c, st->line, snip);
        } else {
            a->kind[i] = ST_DROP;
            s2r_body__warn(c, st->line, NULL, "dropped '%s': host lists come "
                 "from SLURM; the MPIJob's launcher reaches the workers "
                 "through its hostfile (/etc/mpi/hostfile), and nothing sets "
                 "what this line assigned", snip);
        }
    }
}

/* ------------------------------------------------------------------ */
/* Ray and workflow managers                                            */
/* ------------------------------------------------------------------ */

/* A word of @p cm from @p from on holds @p needle. @p rare: the index of
 * a byte of the needle that few words hold, looked for first
 * (s2r_find_rare). */
static bool cmd_has(const sh_cmd *cm, size_t from, const char *needle,
                    size_t rare)
{
    size_t n = strlen(needle);
    for (size_t j = from; j < cm->nwords; j++) {
        const char *v = cm->words[j].value;
        if (v && s2r_find_rare(v, SIZE_MAX, needle, n, rare))
            return true;
    }
    return false;
}

/* The workflow managers by their command's name, sorted as strcmp
 * orders the names. */
typedef enum workflow { WF_CROMWELL, WF_NEXTFLOW, WF_SNAKEMAKE } workflow;
static const char *const workflows[] = {"cromwell", "nextflow",
                                        "snakemake"};

/* a workflow manager that submits SLURM jobs itself: its name, or NULL */
static const char *submits_jobs(const sh_cmd *cm)
{
    const sh_word *w = s2r_body__cmd_word(cm);
    if (!w || !w->value)
        return NULL;
    const char *p = s2r_body__base_name(w->value);
    size_t k = (size_t)(w - cm->words) + 1;
    size_t wf = s2r_sorted_find(workflows, S2R_COUNTOF(workflows),
                                sizeof(workflows[0]), p);
    /* the rare bytes: the u of slurm, the b of sbatch, the w of cromwell */
    if (wf == WF_NEXTFLOW &&
        (cmd_has(cm, k, "slurm", 2) || cmd_has(cm, k, "SLURM", 2)))
        return "Nextflow (its slurm executor)";
    if (wf == WF_SNAKEMAKE &&
        (cmd_has(cm, k, "--slurm", 4) || cmd_has(cm, k, "slurm", 2) ||
         cmd_has(cm, k, "sbatch", 1)))
        return "Snakemake (its slurm executor or --cluster sbatch)";
    if ((wf == WF_CROMWELL || cmd_has(cm, k - 1, "cromwell", 4)) &&
        (cmd_has(cm, k, "slurm", 2) || cmd_has(cm, k, "SLURM", 2)))
        return "Cromwell (its SLURM backend)";
    return NULL;
}

static void daemons_and_workflows(ctx *c, analysis *a)
{
    s2r_job *job = c->job;
    bool warned = false;
    for (size_t i = 0; i < a->body.n; i++) {
        const sh_stmt *st = &a->body.stmts[i];
        if (a->kind[i] == ST_DROP || a->kind[i] == ST_LIFTED)
            continue;
        for (size_t k = 0; k < st->ncmds; k++) {
            const sh_cmd *cm = &st->cmds[k];
            const char *wf = submits_jobs(cm);
            if (wf)
                s2r_body__warn(c, cm->line, NULL, "line %d runs %s, which "
                     "submits its own SLURM jobs: a Run:ai pod has no "
                     "sbatch; run the workflow with its Kubernetes executor "
                     "(Nextflow -profile k8s / process.executor = 'k8s', "
                     "Snakemake --executor kubernetes, Cromwell's TES or "
                     "Kubernetes backend) instead of converting it",
                     cm->line, wf);
            if (warned || job->nodes <= 1)
                continue; /* the daemons matter across nodes only */
            const unwrap *u = s2r_body__unwrapped(c, a, i, k);
            const char *d = u->srun ? s2r_body__cluster_daemon(u) : NULL;
            if (d) {
                warned = true;
                job->distributed = S2R_DIST_NONE;
                s2r_body__warn(c, cm->line, "nodes", "line %d starts a %s "
                     "cluster across the job's %lld nodes (srun of its "
                     "daemons): Run:ai runs such clusters with their own "
                     "operators (RayCluster/RayJob for Ray, the Spark or Dask "
                     "operator), which s2r does not write; this workload runs "
                     "the script in one pod, where every daemon starts", cm->line,
                     d, (long long)job->nodes);
            }
        }
    }
}

void s2r_body__foreign(ctx *c, analysis *a)
{
    daemons_and_workflows(c, a);
    settle_hostlists(c, a);
    for (size_t i = 0; i < a->body.n; i++)
        if (a->kind[i] == ST_KEEP || a->kind[i] == ST_MAIN)
            nested_clients(c, a, i);
}
