/* analyse.c: find and rewrite the main computation of a batch script
 * body (see body.h): which statements are set-up, SLURM commands, job
 * environment or working directory, and which one is the main command;
 * then the driver s2r_body__analyse(). The steps live in the files listed
 * in analysis.h. */
#include "body.h"
#include "analysis.h"
#include "launchers.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ------------------------------------------------------------------ */
/* the analysis                                                         */
/* ------------------------------------------------------------------ */

static void analysis_free(analysis *a)
{
    if (!a)
        return;
    s2r_body__free_unwraps(a);
    sh_body_free(&a->body);
    free(a->kind); /* with setup and setup_at, one block */
    if (a->inner) {
        analysis_free(a->inner);
        free(a->inner);
    }
    free(a->main_text);
    for (size_t i = 0; i < a->nedits; i++)
        free(a->edits[i].repl);
    free(a->edits);
    s2r_body__ow_free(&a->ow);
    free(a->cut_src);
    free(a->open_delim);
}

static int analyse_text(ctx *c, analysis *a, const char *src, size_t len,
                        int first_line, bool top);

/* facts command_tokens from the unwrapped command */
static void set_tokens(ctx *c, const analysis *a)
{
    const unwrap *u = a->u;
    size_t from = u->lk != L_NONE ? u->script : u->prog;
    if (u->mpi && u->lk == L_NONE)
        from = u->mpi_prog > u->prog ? u->mpi_prog : u->prog;
    for (size_t i = from; i < u->n; i++)
        if (s2r_strv_push(&c->job->command_tokens,
                          u->words[i].value ? u->words[i].value : ""))
            c->oom = true;
}

/* True when only && (and blanks) stand between commands @p a and @p b. */
static bool joined_by_and(const sh_body *b, const sh_cmd *a, const sh_cmd *n)
{
    size_t p = a->end;
    while (p < n->start && (b->src[p] == ' ' || b->src[p] == '\t'))
        p++;
    if (p + 2 > n->start || b->src[p] != '&' || b->src[p + 1] != '&')
        return false;
    for (p += 2; p < n->start; p++)
        if (!strchr(" \t\n\\", b->src[p]))
            return false;
    return true;
}

/* Statement @p i holds the main command (its command @p mk): set-up
 * commands in front of it (`module load x && python train.py`) are
 * dropped with a warning. */
static void take_main(ctx *c, analysis *a, size_t i, int mk, bool top)
{
    const sh_body *b = &a->body;
    const sh_stmt *st = &b->stmts[i];
    a->main = i;
    a->main_cmd = (size_t)mk;
    if (mk > 0 && top && !st->compound) {
        bool setup_only = true;
        for (int k = 0; k < mk; k++)
            if (s2r_body__setup_at(a, i, (size_t)k) == SU_NONE ||
                !joined_by_and(b, &st->cmds[k], &st->cmds[k + 1]))
                setup_only = false; /* `module load x || python t.py` */
        if (setup_only) {
            char snip[160];
            size_t n = st->cmds[mk].start - st->start;
            snprintf(snip, sizeof(snip), "%.*s",
                     (int)(n < 150 ? n : 150), b->src + st->start);
            a->drop_prefix = true;
            s2r_body__warn(c, st->line, NULL,
                 "dropped '%s': environment modules, conda and venv "
                 "set-up must be part of the image", snip);
        }
    }
    a->kind[i] = ST_MAIN;
}

/* Whether the text of @p b holds "scontrol show hostname" anywhere: its
 * 'w', a rare byte in scripts, is found with memchr (s2r_find_rare). */
static bool body_has_hostnames(const sh_body *b)
{
    static const char k[] = "scontrol show hostname";
    return s2r_find_rare(b->src, b->len, k, sizeof(k) - 1, 12 /* w */) !=
           NULL;
}

/* Rendezvous discovery (scontrol show hostnames) and SLURM client
 * commands: true when statement @p i is one. @p hostnames: the body
 * holds "scontrol show hostname" somewhere (body_has_hostnames). */
static bool is_slurm_command(const sh_body *b, const sh_stmt *st,
                             const sh_word *w, bool hostnames)
{
    return (hostnames &&
            s2r_body__stmt_text_has(b, st, "scontrol show hostname")) ||
           (w && w->value &&
            s2r_body__is_slurm_client(s2r_body__base_name(w->value)));
}

/* A statement before the main command made of environment modules,
 * conda or venv set-up only is dropped with a warning: true when it was. */
static bool drop_setup(ctx *c, analysis *a, size_t i)
{
    const sh_body *b = &a->body;
    const sh_stmt *st = &b->stmts[i];
    bool all_setup = true;
    setup_kind sk = SU_NONE;
    for (size_t k = 0; k < st->ncmds; k++) {
        setup_kind s = s2r_body__setup_at(a, i, k);
        if (s == SU_NONE)
            all_setup = false;
        else if (sk == SU_NONE)
            sk = s;
    }
    /* `module load X || { ...; }`: the fallback is the next statement;
     * kept whole, with the module stand-in (s2r_body__setup_in_body) */
    if (sk == SU_NONE || !all_setup || a->main != (size_t)-1 ||
        s2r_body__stmt_continues(b, st))
        return false;
    char snip[160];
    s2r_body__stmt_snippet(b, st, snip, sizeof(snip));
    if (s2r_body__setup_kept(c, a, i, sk, snip))
        return false; /* on mounted storage: kept, as a command */
    a->kind[i] = ST_DROP;
    s2r_body__warn(c, st->line, NULL,
         sk == SU_MODULE
             ? "dropped '%s': Run:ai pods have no environment modules; "
               "the image must provide this software"
         : sk == SU_CONDA
             ? "dropped '%s': the conda environment must be part of the "
               "image (or a mounted volume)"
             : "dropped '%s': the virtual environment must be part of "
               "the image (or a mounted volume)",
         snip);
    return true;
}

/* Statement @p i leaves the body: it is now @p what (a note says so). */
static void lifted(ctx *c, analysis *a, size_t i, const char *what)
{
    char snip[160];
    s2r_body__stmt_snippet(&a->body, &a->body.stmts[i], snip, sizeof(snip));
    /* the value of a variable whose name says it is a secret is not
     * repeated in a message (export HF_TOKEN=<redacted>) */
    const sh_stmt *st = &a->body.stmts[i];
    for (size_t k = 0; st->ncmds && k < st->cmds[0].nwords; k++) {
        const char *v = st->cmds[0].words[k].value;
        const char *eq = v ? strchr(v, '=') : NULL;
        char name[128];
        if (!eq || eq == v || eq[1] == '\0' || (size_t)(eq - v) >= sizeof(name))
            continue;
        memcpy(name, v, (size_t)(eq - v));
        name[eq - v] = '\0';
        if (s2r_secret_name(name)) {
            char red[sizeof(snip)];
            const char *const secret[] = {eq + 1};
            s2r_redact(red, sizeof(red), snip, secret, 1);
            memcpy(snip, red, sizeof(snip));
        }
    }
    a->kind[i] = ST_LIFTED;
    s2r_body__note(c, a->body.stmts[i].line, "'%s' becomes %s", snip, what);
}

/* The name after APPTAINERENV_ or SINGULARITYENV_ in the @p len bytes
 * of assignment word @p v ("APPTAINERENV_RUN=..."), with its length;
 * NULL for another. */
static const char *container_env_name(const char *v, size_t len, size_t *n)
{
    const char *eq = memchr(v, '=', len);
    size_t pre = !eq ? 0
                 : eq - v > 13 && !memcmp(v, "APPTAINERENV_", 13) ? 13
                 : eq - v > 15 && !memcmp(v, "SINGULARITYENV_", 15) ? 15 : 0;
    if (!pre || eq - v <= (ptrdiff_t)pre)
        return NULL;
    *n = (size_t)(eq - v) - pre;
    return v + pre;
}

/* An export kept in the body (its value known only at run time) of
 * APPTAINERENV_NAME or SINGULARITYENV_NAME, which the container runtime
 * passes on as NAME: the pod, which has no runtime, exports NAME too,
 * right after (export expands all its words before it sets any). */
static void container_env_exports(ctx *c, analysis *a, const sh_cmd *cm,
                                  size_t k)
{
    /* the last word again, then the exports: an edit replaces bytes */
    const sh_word *last = &cm->words[cm->nwords - 1];
    s2r_buf add = {0};
    s2r_buf_putn(&add, a->body.src + last->start, last->end - last->start);
    size_t plain = add.len;
    for (size_t q = k; q < cm->nwords; q++) {
        size_t n;
        const char *src = a->body.src + cm->words[q].start;
        const char *bare = container_env_name(
            src, cm->words[q].end - cm->words[q].start, &n);
        if (!bare || !sh_word_is_assignment(&cm->words[q]))
            continue;
        s2r_buf_puts(&add, add.len > plain ? " " : "; export ");
        s2r_buf_printf(&add, "%.*s=\"$%.*s\"", (int)n, bare,
                       (int)(bare - src) + (int)n, src);
    }
    if (add.oom)
        c->oom = true;
    else if (add.len > plain)
        s2r_body__add_edit(c, a, last->start, last->end, add.p);
    free(add.p);
}

/* `export K=V ...` before the main command whose values the job fixes:
 * the variables become job environment and the statement goes. */
static void lift_export(ctx *c, analysis *a, size_t i, const sh_cmd *cm,
                        const sh_word *w)
{
    s2r_job *job = c->job;
    size_t k = (size_t)(w - cm->words) + 1;
    bool all = k < cm->nwords;
    /* the first assignment resolved: the same again below, where nothing
     * has been set yet when it is read */
    char *first_name = NULL, *first_val = NULL;
    for (size_t q = k; q < cm->nwords; q++) {
        if (!sh_word_is_assignment(&cm->words[q])) {
            all = false;
            break;
        }
        char *name = NULL;
        char *val = s2r_body__resolve_assignment(job, &job->env,
                                                 &cm->words[q], &name);
        if (!val) {
            all = false;
            break;
        }
        if (q == k) {
            first_name = name;
            first_val = val;
        } else {
            free(name);
            free(val);
        }
    }
    if (!all) {
        free(first_name);
        free(first_val);
        container_env_exports(c, a, cm, k);
        return;
    }
    for (size_t q = k; q < cm->nwords; q++) {
        char *name = NULL, *val = NULL;
        if (q == k) {
            name = first_name;
            val = first_val;
        } else {
            val = s2r_body__resolve_assignment(job, &job->env, &cm->words[q],
                                               &name);
        }
        if (val && name && s2r_envv_set(&job->env, name, val))
            c->oom = true;
        /* the container runtime passes these on without the
         * prefix; a pod has no such runtime */
        const char *bare = !name ? NULL
            : !strncmp(name, "APPTAINERENV_", 13) ? name + 13
            : !strncmp(name, "SINGULARITYENV_", 15) ? name + 15
                                                   : NULL;
        if (val && bare && *bare &&
            s2r_envv_set(&job->env, bare, val))
            c->oom = true;
        free(name);
        free(val);
    }
    lifted(c, a, i, "the workload's environment");
}

/* `cd DIR` before the main command: an absolute (or, under an absolute
 * --chdir or earlier cd, relative) directory the job fixes becomes the
 * working directory and the statement goes, unless something before it
 * depended on the directory (*@p cwd_sensitive): then it stays in the
 * body and the pod starts where sbatch starts the script. */
static void lift_cd(ctx *c, analysis *a, size_t i, const sh_cmd *cm,
                    const sh_word *w, bool *cwd_sensitive)
{
    s2r_job *job = c->job;
    size_t k = (size_t)(w - cm->words) + 1;
    if (k + 1 != cm->nwords || *cwd_sensitive) {
        /* kept: what ran before it ran in the submit directory, where
         * the pod starts */
        *cwd_sensitive = true;
        return;
    }
    const sh_word *dw = &cm->words[k];
    const char *dv = dw->value ? dw->value : "";
    if (!strcmp(dv, "$SLURM_SUBMIT_DIR") ||
        !strcmp(dv, "${SLURM_SUBMIT_DIR}")) {
        /* where sbatch starts anyway */
        lifted(c, a, i, "the working directory");
        return;
    }
    s2r_buf r = {0};
    bool ok = true;
    if (!dw->literal) {
        for (size_t g = 0; g < dw->nsegs && ok; g++) {
            if (dw->segs[g].type == SH_SEG_LIT)
                s2r_buf_puts(&r, dw->segs[g].text);
            else
                ok = s2r_body__resolve_raw(job, &job->env, dw->segs[g].text,
                                           dw->segs[g].type == SH_SEG_DQ,
                                           &r);
        }
    } else {
        s2r_buf_puts(&r, dv);
    }
    const char *base = job->workdir ? job->workdir : job->chdir;
    if (ok && r.p && r.p[0] == '/') {
        free(job->workdir);
        job->workdir = strdup(r.p);
        lifted(c, a, i, "the working directory");
    } else if (ok && r.p && r.p[0] && r.p[0] != '~' && r.p[0] != '-' &&
               base && base[0] == '/') {
        char *j = NULL;
        if (asprintf(&j, "%s%s%s", base,
                     base[strlen(base) - 1] == '/' ? "" : "/", r.p) < 0)
            c->oom = true;
        free(job->workdir);
        job->workdir = j;
        lifted(c, a, i, "the working directory");
    } else {
        *cwd_sensitive = true;
    }
    free(r.p);
}

/* Commands that do not depend on the working directory. */
static bool cwd_neutral(const char *v)
{
    /* sorted as strcmp orders them */
    static const char *const neutral[] = {
        "date", "echo", "export", "hostname", "nvidia-smi", "printf", "set",
        "sleep", "trap", "ulimit", "umask"};
    return s2r_sorted_has(neutral, S2R_COUNTOF(neutral), v);
}

/* The main statement and command: the launch (launch.c), else the first
 * candidate that is no srun (of a cluster daemon such as ray start, or of
 * helpers only: with no launch, every srun is one); (size_t)-1 when none. */
static void find_main(ctx *c, analysis *a, size_t *mi, int *mk)
{
    size_t cmd = 0;
    *mi = (size_t)-1;
    *mk = -1;
    if (s2r_body__pick_launch(c, a, mi, &cmd)) {
        *mk = (int)cmd;
        return;
    }
    for (size_t i = 0; i < a->body.n; i++) {
        int k = s2r_body__main_candidate(&a->body.stmts[i]);
        if (k < 0)
            continue;
        if (!s2r_body__unwrapped(c, a, i, (size_t)k)->srun) {
            *mi = i;
            *mk = k;
            return;
        }
    }
}

/* What each top-level statement is: the main command, a SLURM command
 * or set-up to drop, an export or cd to lift, or kept. */
static void classify(ctx *c, analysis *a, bool top)
{
    sh_body *b = &a->body;
    bool cwd_sensitive_seen = false;
    bool hostnames = body_has_hostnames(b);
    size_t mi;
    int mk;
    find_main(c, a, &mi, &mk);
    for (size_t i = 0; i < b->n; i++) {
        sh_stmt *st = &b->stmts[i];
        if (i == mi) {
            take_main(c, a, i, mk, top);
            continue;
        }
        if (st->compound || st->ncmds == 0)
            continue;
        const sh_cmd *cm = &st->cmds[0];
        const sh_word *w = s2r_body__cmd_word(cm);
        if (is_slurm_command(b, st, w, hostnames)) {
            if (top)
                s2r_body__slurm_command(c, a, i);
            continue;
        }
        bool before = mi == (size_t)-1 || i < mi;
        if (!top || !before || drop_setup(c, a, i) ||
            s2r_body__image_setup(c, a, i))
            continue;
        if (!w || !w->value)
            continue; /* plain assignments: kept */
        bool lone = st->ncmds == 1;
        if (lone && !cm->has_redir && !strcmp(w->value, "export"))
            lift_export(c, a, i, cm, w);
        else if (lone && !st->background && !strcmp(w->value, "cd"))
            lift_cd(c, a, i, cm, w, &cwd_sensitive_seen);
        else if (cm->has_redir || st->ncmds > 1 ||
                 !cwd_neutral(s2r_body__base_name(w->value)))
            cwd_sensitive_seen = true; /* echo > FILE writes here too */
    }
}

/* True when a statement besides the main one stays in the pod's script
 * (not dropped, lifted or a `set` that means nothing alone). */
static bool other_lines(const analysis *a)
{
    for (size_t i = 0; i < a->body.n; i++)
        if (i != a->main && a->kind[i] != ST_DROP &&
            a->kind[i] != ST_LIFTED && !s2r_body__is_set(&a->body.stmts[i]))
            return true;
    const sh_stmt *ms = &a->body.stmts[a->main];
    return ms->ncmds - (a->drop_prefix ? a->main_cmd : 0) > 1;
}

/* What the wrappers of the main command say about the job: its image,
 * container working directory and variables, with warnings for what has
 * no Run:ai equivalent. */
static void apply_unwrap(ctx *c, analysis *a, const sh_stmt *ms,
                         bool top)
{
    s2r_job *job = c->job;
    const unwrap *u = a->u;
    if (top)
        job->main_line = ms->compound ? ms->cmds[a->main_cmd].line : ms->line;
    if (u->image && !job->image)
        job->image = strdup(u->image);
    else if (u->image) {
        free(job->image);
        job->image = strdup(u->image);
    }
    /* the container's working directory is its command's: the pods'
     * when that command is all they run, else `env -C DIR` in front of
     * it (rewrite.c), as a $DIR the shell expands must be */
    bool others = top && (u->c_workdir || u->c_env.n) && other_lines(a);
    a->pwd_inline = false;
    if (u->c_workdir && top) {
        bool expands = strpbrk(u->c_workdir, "$`") != NULL;
        if (u->c_workdir[0] == '/' && !expands && !others) {
            free(job->workdir);
            job->workdir = strdup(u->c_workdir);
        } else if (u->c_workdir[0] == '/' || expands) {
            a->pwd_inline = true;
            s2r_body__note(c, ms->line, "container working directory '%s': "
                           "the command runs there (env -C), the other lines "
                           "in the pod's working directory", u->c_workdir);
        } else {
            s2r_body__warn(c, ms->line, NULL, "container working directory "
                           "'%s' is not absolute: not used", u->c_workdir);
        }
    }
    /* the container's --env is for its command alone: in the pods'
     * environment only when that command is all the pod runs and the
     * values are literal, else in front of the command */
    a->env_inline = others;
    for (size_t k = 0; top && !a->env_inline && k < u->c_env.n; k++)
        a->env_inline = strpbrk(u->c_env.v[k].value, "$`") != NULL;
    for (size_t k = 0; top && !a->env_inline && k < u->c_env.n; k++)
        if (s2r_envv_set(&job->env, u->c_env.v[k].name, u->c_env.v[k].value))
            c->oom = true;
    if (u->conda_run && top)
        s2r_body__warn(c, ms->line, NULL,
             "'conda run' dropped: the conda environment must be part of the "
             "image (or a mounted volume)");
    if (u->dropped[0] && top)
        s2r_body__warn(c, ms->line, NULL,
             "%s: container options with no Run:ai equivalent; not carried",
             u->dropped);
    if (top)
        s2r_body__apply_binds(c, u);
    const char *local = u->local_image_name ? u->local_image_name : "";
    if (u->local_image && top && strchr(local, '$'))
        s2r_body__warn(c, ms->line, NULL,
             "the container image '%s' is a variable that holds a local "
             "image file, is set more than once or is set at run time: no "
             "OCI reference s2r can read, so the configured default image "
             "is used (set [runai] default_image, or name the image)",
             local);
    else if (u->local_image && top)
        s2r_body__warn(c, ms->line, NULL,
             "'%s' is a local container image with no OCI equivalent: the "
             "configured default image is used (set [runai] default_image)",
             local);
}

/* The main command: unwrapped, applied to the job, and for
 * `srun bash -c '...'` the string analysed as a body of its own. */
static int analyse_main(ctx *c, analysis *a, bool top)
{
    const sh_stmt *ms = &a->body.stmts[a->main];
    a->u = s2r_body__unwrapped(c, a, a->main, a->main_cmd);
    apply_unwrap(c, a, ms, top);
    if (a->u->shell_string) {
        /* srun bash -c '...': the command is inside the string */
        const sh_word *sw = a->u->shell_word;
        a->inner = calloc(1, sizeof(*a->inner));
        if (!a->inner)
            return S2R_ENOMEM;
        int rc = analyse_text(c, a->inner, sw->value, strlen(sw->value),
                              sw->line, false);
        if (rc)
            return rc;
        if (a->inner->main == (size_t)-1)
            set_tokens(c, a);
        return S2R_OK;
    }
    set_tokens(c, a);
    return c->oom ? S2R_ENOMEM : S2R_OK;
}

/* a->kind (every statement ST_KEEP) and the set-up of every command
 * (a->setup, a->setup_at), in one block from a->kind; false when out of
 * memory */
static bool alloc_tables(analysis *a)
{
    const sh_body *b = &a->body;
    size_t n = b->n ? b->n : 1, ncmds = 0;
    for (size_t i = 0; i < b->n; i++)
        ncmds += b->stmts[i].ncmds;
    /* kind[n], setup_at[n] (aligned as a size_t), setup[ncmds]; every
     * count is below the body's length */
    size_t at_off = (n * sizeof(st_kind) + sizeof(size_t) - 1) /
                    sizeof(size_t) * sizeof(size_t);
    size_t set_off = at_off + n * sizeof(size_t);
    char *block = s2r_zalloc(1, set_off + (ncmds ? ncmds : 1) *
                                              sizeof(setup_kind));
    if (!block)
        return false;
    a->kind = (st_kind *)(void *)block;
    a->setup_at = (size_t *)(void *)(block + at_off);
    a->setup = (setup_kind *)(void *)(block + set_off);
    for (size_t i = 0, at = 0; i < b->n; i++) {
        a->setup_at[i] = at;
        for (size_t k = 0; k < b->stmts[i].ncmds; k++)
            a->setup[at++] = s2r_body__setup_of(&b->stmts[i].cmds[k]);
    }
    return true;
}

setup_kind s2r_body__setup_at(const analysis *a, size_t i, size_t k)
{
    return a->setup[a->setup_at[i] + k];
}

/* The body lexed again from @p t, in place of the text it was lexed
 * from; the body borrows t's text (a->cut_src) until the analysis is
 * freed. Returns false on out of memory (t's text is then freed). */
static bool relex(analysis *a, s2r_buf *t, int first_line)
{
    if (t->oom) {
        free(t->p);
        return false;
    }
    sh_body_free(&a->body);
    a->cut_src = t->p;
    return sh_lex(&a->body, t->p, t->len, first_line) == 0;
}

/* A quote or expansion left open runs to the end of the script, and bash
 * stops there with a syntax error after running the command lines before
 * it (it parses a line at a time). The body analysed, and so the pod's,
 * is those lines and that error: the open quote would otherwise swallow
 * the lines s2r puts after the body. Returns false on out of memory. */
static bool cut_at_open(analysis *a, int first_line)
{
    const sh_body *b = &a->body;
    size_t k = b->n ? b->n - 1 : 0;
    while (k > 0 && b->stmts[k - 1].end_line >= b->stmts[k].line)
        k--; /* a command before it on its line is not run either */
    size_t at = b->n ? b->stmts[k].start : 0;
    s2r_buf t = {0};
    s2r_buf_putn(&t, b->src, at);
    s2r_buf_printf(&t, "echo 'line %d: unexpected end of file: a quote or "
                   "expansion opened on this line is never closed' >&2\n"
                   "exit 2\n", b->open_line);
    int open_line = b->open_line;
    if (!relex(a, &t, first_line))
        return false;
    a->body.open_line = open_line;
    return true;
}

/* A here-document whose delimiter line never comes runs to the end of
 * the script: bash warns and goes on with it as its text. The body
 * analysed, and so the pod's, is the script with the delimiter lines
 * after it, the same text ended: without them the here-document would
 * swallow the lines s2r puts after the body. Returns false on out of
 * memory. */
static bool end_heredocs(analysis *a, int first_line)
{
    const sh_body *b = &a->body;
    s2r_buf t = {0};
    s2r_buf_putn(&t, b->src, b->len);
    if (b->len && b->src[b->len - 1] != '\n')
        s2r_buf_putn(&t, "\n", 1);
    s2r_buf_puts(&t, b->heredoc_close);
    int line = b->heredoc_line;
    /* its first line, read before relex() frees the body it is in */
    const char *close = b->heredoc_close;
    a->open_delim = strndup(close, strcspn(close, "\n"));
    if (!a->open_delim) {
        free(t.p);
        return false;
    }
    if (!relex(a, &t, first_line))
        return false;
    a->body.heredoc_line = line;
    return true;
}

static int analyse_text(ctx *c, analysis *a, const char *src, size_t len,
                        int first_line, bool top)
{
    a->main = (size_t)-1;
    a->u = &s2r_body__no_unwrap;
    if (sh_lex(&a->body, src, len, first_line))
        return S2R_ENOMEM;
    if (top && a->body.open_line && !cut_at_open(a, first_line))
        return S2R_ENOMEM;
    if (top && !a->body.open_line && a->body.heredoc_close &&
        !end_heredocs(a, first_line))
        return S2R_ENOMEM;
    if (!alloc_tables(a))
        return S2R_ENOMEM;
    classify(c, a, top);
    if (a->main == (size_t)-1)
        return c->oom ? S2R_ENOMEM : S2R_OK;
    return analyse_main(c, a, top);
}

const unwrap *s2r_body__main_unwrap(const analysis *a)
{
    const unwrap *u = a->u;
    while (a->inner && a->inner->main != (size_t)-1) {
        a = a->inner;
        u = a->u;
    }
    return u;
}

static void build_ow(ctx *c, analysis *a, bool top)
{
    if (a->main == (size_t)-1)
        return;
    if (a->inner && a->mode != MM_STANDIN) {
        if (a->mode == MM_MPIRUN) {
            a->inner->mode = MM_MPIRUN;
            a->inner->mpi_np = a->mpi_np;
        }
        build_ow(c, a->inner, false);
        return;
    }
    s2r_body__rewrite_main(c, a, top);
}

/* ------------------------------------------------------------------ */
/* the driver                                                           */
/* ------------------------------------------------------------------ */

/* The flags `set` takes as well as bash(1) does on its command line
 * ("Invocation": the single-letter options of the set builtin). */
static const char set_flags[] = "abefhkmnptuvxBCEHPT";

/* The #! line's option @p word makes a login shell (@p how: "" for -l
 * or --login alone, "-l in " within other flags). */
static void warn_login(ctx *c, const char *how, const char *word)
{
    s2r_body__warn(c, 1, NULL,
         "#! line: %s%s makes a login shell, which reads /etc/profile and "
         "~/.bash_profile; the pod's bash is not one: set up in the script "
         "what those files set", how, word);
}

/* The option word of a shell's #! line (#!/bin/bash -eu), per execve(2)
 * the one argument the kernel passes before the script: its `set` flags
 * into c->shell_flags, which the pod's script sets first (set_run());
 * a login shell (-l, --login) or another option has no `set` form: a
 * warning names it. */
static void shebang_options(ctx *c, const char *word)
{
    if (!word || word[0] != '-' || !word[1])
        return;
    if (!strcmp(word, "--login") || !strcmp(word, "-l")) {
        warn_login(c, "", word);
        return;
    }
    /* a shell run with -c reads no start-up file anyway */
    if (!strcmp(word, "--norc") || !strcmp(word, "--noprofile"))
        return;
    size_t n = 0;
    bool other = word[1] == '-';
    for (const char *p = word + 1; *p && !other; p++) {
        if (*p == 'n') /* read, never run: kept as is, the pod runs */
            other = true;
        else if (strchr(set_flags, *p) && n + 1 < sizeof(c->shell_flags))
            c->shell_flags[n++] = *p;
        else if (*p != 'l')
            other = true;
    }
    c->shell_flags[other ? 0 : n] = '\0';
    if (other)
        s2r_body__warn(c, 1, NULL,
             "#! line: the shell option %s is not carried: the pod's bash "
             "runs without it", word);
    else if (strchr(word, 'l'))
        warn_login(c, "-l in ", word);
}

static void shebang(ctx *c, s2r_job *job, const char *buf, size_t len)
{
    const char *nl = memchr(buf, '\n', len);
    size_t ll = nl ? (size_t)(nl - buf) : len;
    char line[256];
    size_t n = ll - 2 < sizeof(line) - 1 ? ll - 2 : sizeof(line) - 1;
    if (ll < 2) {
        job->shebang_shell = strdup("bash");
        return;
    }
    memcpy(line, buf + 2, n);
    line[n] = '\0';
    char *save = NULL;
    char *tok = strtok_r(line, " \t", &save);
    /* #!/usr/bin/env bash: env passes the shell no option word */
    bool via_env = tok && !strcmp(s2r_body__base_name(tok), "env");
    if (via_env) {
        tok = strtok_r(NULL, " \t", &save);
        while (tok && tok[0] == '-')
            tok = strtok_r(NULL, " \t", &save);
    }
    job->shebang_shell = strdup(tok ? s2r_body__base_name(tok) : "bash");
    if (tok && !via_env && job->shebang_shell &&
        s2r_body__is_shell_name(job->shebang_shell))
        shebang_options(c, strtok_r(NULL, " \t\r", &save));
}

bool s2r_body__is_shell_name(const char *s)
{
    return !strcmp(s, "bash") || !strcmp(s, "sh") || !strcmp(s, "dash") ||
           !strcmp(s, "ksh") || !strcmp(s, "zsh");
}

/* --export NAME entries without a value: per sbatch(1) --export, NAME's
 * value comes from the environment sbatch ran in, which the pod has not;
 * a warning each */
static void warn_submit_env(ctx *c)
{
    const s2r_job *job = c->job;
    const s2r_directive *d = NULL;
    for (size_t i = 0; i < job->n_directives; i++)
        if (!strcmp(job->directives[i].name, "export"))
            d = &job->directives[i];
    if (!d || !d->value)
        return;
    const char *p = d->value;
    for (bool first = true;; first = false) {
        size_t n = strcspn(p, ",");
        /* ALL, NONE or NIL first, as core/slurm values.c reads them */
        bool mode = first && ((n == 3 && (!strncasecmp(p, "ALL", 3) ||
                                          !strncasecmp(p, "NIL", 3))) ||
                              (n == 4 && !strncasecmp(p, "NONE", 4)));
        if (n && !mode && !memchr(p, '=', n))
            s2r_body__warn(c, d->line, "export", "--export names %.*s "
                 "without a value: sbatch takes it from the environment "
                 "it ran in, which the pod does not have; give it "
                 "(--export=%.*s=VALUE) or set it in the script",
                 (int)n, p, (int)n, p);
        if (!p[n])
            break;
        p += n + 1;
    }
}

/* What the directives give the body analysis: --export K=V entries first
 * (script exports override them), --chdir as the working directory when
 * absolute, --container-image unless it is a local file. */
static int start_from_directives(ctx *c)
{
    s2r_job *job = c->job;
    warn_submit_env(c);
    for (size_t i = 0; i < job->export_env.n; i++)
        if (s2r_envv_set(&job->env, job->export_env.v[i].name,
                         job->export_env.v[i].value))
            return S2R_ENOMEM;
    const char *sd = c->cfg ? c->cfg->submit_dir : NULL;
    if (sd && sd[0] == '/' && !(job->submit_dir = s2r_path_fold(sd)))
        return S2R_ENOMEM;
    if (job->chdir && (job->chdir[0] == '/' || job->submit_dir)) {
        /* per sbatch(1) --chdir: relative to the submit directory */
        job->workdir = s2r_path_resolve(job->submit_dir, job->chdir);
        if (!job->workdir)
            return S2R_ENOMEM;
    } else if (job->chdir) {
        int cl = 0;
        for (size_t k = 0; k < job->n_directives; k++)
            if (!strcmp(job->directives[k].name, "chdir"))
                cl = job->directives[k].line;
        s2r_body__warn(c, cl, "chdir", "--chdir=%s is relative to the "
                       "submit directory, which is not known here: no "
                       "working directory is set (pass --submit-dir or give "
                       "an absolute path)", job->chdir);
    }
    if (job->container_image &&
        s2r_body__is_local_image(job->container_image)) {
        s2r_body__warn(c, 0, "container-image", "--container-image=%s is a "
                       "local image file with no OCI equivalent: the "
                       "configured default image is used (set [runai] "
                       "default_image)", job->container_image);
    } else if (job->container_image) {
        job->image = strdup(job->container_image);
    }
    s2r_body__directive_containers(c);
    return c->oom ? S2R_ENOMEM : S2R_OK;
}

/* What the container runs, from the rendered body @p tidied and the
 * prelude @p pre: nothing (the image's entrypoint), one argv, or a bash
 * body. */
static void set_run(ctx *c, const analysis *a, const char *tidied,
                    const s2r_buf *pre)
{
    s2r_job *job = c->job;
    if (tidied[0] == '\0' && pre->len == 0 && a->main == (size_t)-1) {
        /* no command at all: bash runs the script and exits 0 */
        if (s2r_strv_push(&job->run_argv, "true"))
            c->oom = true;
    } else if (tidied[0] == '\0' && pre->len == 0) {
        /* e.g. `apptainer run docker://img`: the image's own command */
        s2r_body__note(c, job->main_line, "the script runs the image's "
                       "default command (its entrypoint)");
    } else if (s2r_body__reduces_to_argv(a) && pre->len == 0 &&
               !job->srun_standin && !strpbrk(c->shell_flags, "vx")) {
        for (size_t i = 0; i < a->ow.n; i++)
            if (s2r_strv_push(&job->run_argv, s2r_body__ow_value(&a->ow.v[i])))
                c->oom = true;
        for (size_t i = 0; i < a->body.n; i++)
            if (a->kind[i] == ST_KEEP && s2r_body__is_set(&a->body.stmts[i]))
                s2r_body__note(c, a->body.stmts[i].line, "'set' options "
                               "change nothing for the one command the pod "
                               "runs: left out");
        job->run_args_only = a->u->run_args;
    } else {
        if (a->u->run_args)
            s2r_body__warn(c, job->main_line, NULL,
                 "'singularity run' inside a longer script: the image's "
                 "runscript is not known here, so its arguments run as a "
                 "command; name the program explicitly");
        s2r_buf all = {0};
        if (pre->p)
            s2r_buf_puts(&all, pre->p);
        if (c->shell_flags[0]) { /* the #! line's, after s2r's prelude */
            s2r_buf_puts(&all, "set -");
            s2r_buf_puts(&all, c->shell_flags);
            s2r_buf_puts(&all, "\n");
        }
        s2r_buf_puts(&all, tidied);
        job->run_shell = all.p ? all.p : strdup("");
        if (all.oom)
            c->oom = true;
    }
}

/* True when no statement of @p a stays in the pod's script: each was
 * dropped (SLURM commands, set-up) or lifted (export, cd). */
static bool runs_nothing(const analysis *a)
{
    for (size_t i = 0; i < a->body.n; i++)
        if (a->kind[i] != ST_DROP && a->kind[i] != ST_LIFTED)
            return false;
    return true;
}

/* Render the analysed body, add the SLURM prelude and decide what the
 * container runs. */
static int finish(ctx *c, analysis *a, int body_line)
{
    s2r_job *job = c->job;
    if (a->body.open_line)
        s2r_body__warn(c, a->body.open_line, NULL,
             "a quote or expansion opened on this line is never closed: "
             "bash runs the command lines before it, then stops with a "
             "syntax error (exit 2); the pod does the same");
    if (a->open_delim)
        s2r_body__warn(c, a->body.heredoc_line, NULL,
             "the here-document opened on this line never meets its end, a "
             "line of '%s' alone: bash reads it to the end of the script, "
             "warns and goes on, and the pod's here-document holds the "
             "same text", a->open_delim);
    if (a->main == (size_t)-1 && runs_nothing(a))
        s2r_body__note(c, body_line, "the script runs no command: the pod "
                       "runs `true`, and exits 0 as the batch script does");
    else if (a->main == (size_t)-1)
        s2r_body__warn(c, body_line, NULL,
             "no main command found: the whole body runs as a bash script");
    s2r_buf body = {0};
    s2r_body__render(c, a, &body, true);
    char *tidied = s2r_body__tidy(body.p ? body.p : "");
    free(body.p);
    if (!tidied || body.oom) {
        free(tidied);
        return S2R_ENOMEM;
    }
    job->srun_standin = s2r_body__runs_srun(tidied);
    s2r_body__note_standin(c, a);
    s2r_body__warn_every_pod(c, a);
    s2r_body__worker_setup(c, a);
    s2r_buf pre = {0};
    s2r_body__add_prelude(c, &pre, tidied);
    s2r_body__setup_in_body(c, a, &pre);
    s2r_body__container_standin(c, a, &pre, tidied);
    job->uses_array_index = s2r_body__mentions(tidied, "SLURM_ARRAY_TASK_ID");
    set_run(c, a, tidied, &pre);
    free(pre.p);
    free(tidied);
    return c->oom ? S2R_ENOMEM : S2R_OK;
}

int s2r_body__analyse(s2r_job *job, const char *buf, size_t len,
                      size_t body_off, int body_line, const s2r_config *cfg,
                      s2r_diags *d)
{
    ctx c = {.job = job, .cfg = cfg, .d = d, .file = job->file};
    shebang(&c, job, buf, len);
    if (!job->shebang_shell)
        return S2R_ENOMEM;
    if (start_from_directives(&c) != S2R_OK)
        return S2R_ENOMEM;
    if (!s2r_body__is_shell_name(job->shebang_shell)) {
        s2r_body__find_paths(&c, buf + body_off, len - body_off, body_line);
        return c.oom ? S2R_ENOMEM : s2r_body__run_interpreted(&c, buf, len);
    }

    analysis a = {0};
    int rc = analyse_text(&c, &a, buf + body_off, len - body_off, body_line,
                          true);
    if (rc == S2R_OK) {
        s2r_body__software(&c, &a);
        s2r_body__relative_files(&c, &a.body);
        s2r_body__find_paths(&c, buf + body_off, len - body_off, body_line);
        s2r_body__submit_env(&c, buf, len, body_off, body_line);
    }
    if (rc == S2R_OK) {
        s2r_body__decide(&c, &a);
        s2r_body__foreign(&c, &a);
        s2r_body__plan_steps(&c, &a);
        s2r_body__side_containers(&c, &a);
        build_ow(&c, &a, true);
        s2r_body__other_launches(&c, &a);
        if (job->distributed == S2R_DIST_NONE && !job->array)
            s2r_body__setup_server(&c, &a);
        s2r_body__settle_first_hosts(&c, &a);
        if (a.ow.oom || c.oom)
            rc = S2R_ENOMEM;
    }
    if (rc == S2R_OK)
        rc = finish(&c, &a, body_line);
    analysis_free(&a);
    free(c.conda_root);
    s2r_envv_clear(&c.pulled);
    return rc;
}
