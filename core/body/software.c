/* software.c: the software a body loads (see analysis.h): the
 * environment modules, conda environments and virtual environments of
 * its set-up statements, recorded in the job (s2r_job.modules,
 * conda_envs, venvs), and whether a conda or venv set-up can stay in the
 * pod because it lies on storage the site maps ([storage]). */
#include "analysis.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *word(const sh_cmd *c, size_t i)
{
    return i < c->nwords && c->words[i].value ? c->words[i].value : NULL;
}

/* The software lists of the job (s2r_job.modules, conda_envs, venvs),
 * each with a set of its strings (borrowed from the list), so that each
 * name is looked up once, not compared with every earlier one. */
typedef struct lists {
    s2r_strv *sv[3];
    s2r_strset seen[3];
} lists;

enum { L_MODULES, L_CONDA, L_VENVS };

/* Append @p v to list @p which of @p l unless it is there already. */
static void push_once(ctx *c, lists *l, int which, const char *v)
{
    s2r_strv *sv = l->sv[which];
    size_t n = strlen(v);
    if (s2r_strset_find(&l->seen[which], v, n) != S2R_STRSET_NONE)
        return;
    if (s2r_strv_push(sv, v) ||
        s2r_strset_add(&l->seen[which], sv->v[sv->n - 1], n))
        c->oom = true;
}

/* `module load A B/1`, `ml A`, `spack load A`: the names loaded. */
static void module_names(ctx *c, lists *l, const sh_cmd *cm, size_t i,
                         bool ml)
{
    static const char *const loads[] = {"load", "add", "try-load",
                                        "try-add", "load-any", NULL};
    static const char *const other[] = {"purge", "unload", "rm", "del",
        "list", "avail", "av", "spider", "use", "unuse", "save", "restore",
        "reset", "show", "help", "swap", "sw", "switch", "env", NULL};
    const char *sub = word(cm, i);
    bool load = sub && s2r_body__list_has(loads, sub);
    if (!sub || (!load && (!ml || s2r_body__list_has(other, sub))))
        return;
    for (size_t k = load ? i + 1 : i; k < cm->nwords; k++) {
        const char *n = word(cm, k);
        if (n && *n && *n != '-')
            push_once(c, l, L_MODULES, n);
    }
}

/* The environment `conda activate ENV` / `source activate ENV` names. */
static const char *conda_env(const sh_cmd *cm, size_t from)
{
    for (size_t k = from; k < cm->nwords; k++)
        if (word(cm, k) && word(cm, k)[0] != '-')
            return word(cm, k);
    return "base";
}

static void record_software(ctx *c, lists *l, const sh_cmd *cm)
{
    size_t i = sh_cmd_first_arg(cm);
    const char *v = word(cm, i), *a = word(cm, i + 1);
    if (!v)
        return;
    if (!strcmp(v, "module") || (!strcmp(v, "spack") && a &&
                                 !strcmp(a, "load")))
        return module_names(c, l, cm, i + 1, false);
    if (!strcmp(v, "ml"))
        return module_names(c, l, cm, i + 1, true);
    bool conda = !strcmp(v, "conda") || !strcmp(v, "mamba") ||
                 !strcmp(v, "micromamba");
    bool src = !strcmp(v, "source") || !strcmp(v, ".");
    if ((conda || src) && a && !strcmp(a, "activate"))
        return push_once(c, l, L_CONDA, conda_env(cm, i + 2));
    size_t al = a ? strlen(a) : 0;
    if (src && al >= 12 && !strcmp(a + al - 12, "bin/activate") &&
        !strstr(a, "conda") && !strstr(a, "mamba")) {
        char *dir = al > 13 ? strndup(a, al - 13) : strdup(".");
        if (!dir)
            c->oom = true;
        else
            push_once(c, l, L_VENVS, dir);
        free(dir);
    }
}

/* The lists of @p c's job into @p l, each with the set of what it holds
 * already. */
static void lists_init(ctx *c, lists *l)
{
    l->sv[L_MODULES] = &c->job->modules;
    l->sv[L_CONDA] = &c->job->conda_envs;
    l->sv[L_VENVS] = &c->job->venvs;
    for (int w = 0; w < 3; w++) {
        s2r_strset_init(&l->seen[w]);
        for (size_t i = 0; i < l->sv[w]->n; i++) {
            const char *s = l->sv[w]->v[i];
            size_t n = strlen(s);
            if (s2r_strset_find(&l->seen[w], s, n) == S2R_STRSET_NONE &&
                s2r_strset_add(&l->seen[w], s, n))
                c->oom = true;
        }
    }
}

void s2r_body__software(ctx *c, const analysis *a)
{
    const sh_body *b = &a->body;
    lists l;
    lists_init(c, &l);
    for (size_t i = 0; i < b->n; i++)
        for (size_t k = 0; !b->stmts[i].compound && k < b->stmts[i].ncmds;
             k++)
            if (s2r_body__setup_at(a, i, k) != SU_NONE)
                record_software(c, &l, &b->stmts[i].cmds[k]);
    for (int w = 0; w < 3; w++)
        if (l.seen[w].slot)
            s2r_strset_clear(&l.seen[w]);
}

/* ---- set-up that stays: on mapped storage --------------------------- */

/* @p w as an absolute path: ~ and $HOME through [site] home, a relative
 * path under the working directory; NULL when it depends on run time. */
static char *resolve_word(ctx *c, const char *w)
{
    const s2r_job *job = c->job;
    const char *base = NULL, *rest = w;
    char *home = NULL, *out = NULL;
    if (w[0] == '~' && (w[1] == '/' || !w[1])) {
        base = home = s2r_body__home(c->cfg);
        rest = w + 1;
    } else if (!strncmp(w, "$HOME", 5) || !strncmp(w, "${HOME}", 7)) {
        base = home = s2r_body__home(c->cfg);
        rest = w + (w[1] == '{' ? 7 : 5);
    } else if (w[0] != '/' && !strchr(w, '$')) {
        base = job->workdir ? job->workdir : job->submit_dir;
        if (base && base[0] == '/' && asprintf(&out, "%s/%s", base, w) < 0)
            out = NULL;
        return out;
    }
    if (strchr(rest, '$') || (base == NULL && w[0] != '/')) {
        free(home);
        return NULL;
    }
    if (asprintf(&out, "%s%s", base ? base : "", rest) < 0)
        out = NULL;
    free(home);
    return out;
}

/* The [storage] entry that covers the path @p w names, or NULL. */
static const s2r_volume *on_storage(ctx *c, const char *w)
{
    if (!c->cfg || !w)
        return NULL;
    char *p = resolve_word(c, w);
    char *f = p ? s2r_path_fold(p) : NULL;
    const s2r_volume *v = f ? s2r_volume_for(c->cfg->volumes,
                                             c->cfg->n_volumes, f)
                            : NULL;
    free(p);
    free(f);
    return v && v->kind != S2R_VOL_DATASOURCE ? v : NULL;
}

/* The installation a kept conda.sh or bin/activate of conda belongs to
 * (the text before /etc/profile.d/ or /bin/activate), remembered in
 * c->conda_root: `conda activate NAME` then finds NAME there. */
static void remember_conda_root(ctx *c, const char *a)
{
    char *r = resolve_word(c, a);
    char *cut = r ? strstr(r, "/etc/profile.d/") : NULL;
    if (!cut && r)
        cut = strstr(r, "/bin/activate");
    if (!r || !cut) {
        c->oom = c->oom || !r;
        free(r);
        return;
    }
    *cut = '\0';
    free(c->conda_root);
    c->conda_root = r;
}

/* The installation of the conda (or mamba) an `eval "$(PATH shell.bash
 * hook)"` runs, when PATH is absolute: PATH before /bin/ or /condabin/,
 * remembered in c->conda_root as remember_conda_root() does; false when
 * the hook names a bare `conda` (or another program). */
static bool hook_conda_root(ctx *c, const char *a)
{
    const char *p = strchr(a, '/');
    if (!p || (p > a && p[-1] != '(' && p[-1] != ' ' && p[-1] != '"'))
        return false;
    size_t n = strcspn(p, " \"')");
    static const char *const tails[] = {"/bin/conda", "/condabin/conda",
                                        "/bin/mamba", "/bin/micromamba"};
    for (size_t t = 0; t < S2R_COUNTOF(tails); t++) {
        size_t tl = strlen(tails[t]);
        if (n > tl && !memcmp(p + n - tl, tails[t], tl)) {
            char *r = strndup(p, n - tl);
            if (!r) {
                c->oom = true;
                return false;
            }
            free(c->conda_root);
            c->conda_root = r;
            return true;
        }
    }
    return false;
}

/* The storage of conda environment @p env named by its path (/..., ~...,
 * $VAR...), or NULL: an environment named by its name lives in the
 * installation (c->conda_root). */
static const s2r_volume *env_storage(ctx *c, const char *env)
{
    return env[0] == '/' || env[0] == '~' || env[0] == '$'
               ? on_storage(c, env)
               : NULL;
}

/* The storage of the environment a later `conda activate ENV` (ENV a
 * path) of @p a activates, after statement @p i: a shell hook of the
 * image's conda stays for it, or the kept activation fails in the pod
 * ("Run 'conda init' before 'conda activate'"). NULL when none is. */
static const s2r_volume *later_activation(ctx *c, const analysis *a,
                                          size_t i)
{
    const sh_body *b = &a->body;
    for (size_t j = i + 1; j < b->n; j++)
        for (size_t k = 0; !b->stmts[j].compound && k < b->stmts[j].ncmds;
             k++) {
            const sh_cmd *cm = &b->stmts[j].cmds[k];
            size_t w = sh_cmd_first_arg(cm);
            const char *arg = word(cm, w + 1);
            if (s2r_body__setup_at(a, j, k) != SU_CONDA || !arg ||
                strcmp(arg, "activate"))
                continue;
            const s2r_volume *s = env_storage(c, conda_env(cm, w + 2));
            if (s)
                return s;
        }
    return NULL;
}

/* One conda or venv set-up command (statement @p at of @p an): the
 * storage it lives on, or NULL when it cannot run in the pod. */
static const s2r_volume *setup_storage(ctx *c, const analysis *an, size_t at,
                                       const sh_cmd *cm, setup_kind sk)
{
    size_t i = sh_cmd_first_arg(cm);
    const char *v = word(cm, i), *a = word(cm, i + 1);
    if (!v)
        return NULL;
    if (!strcmp(v, "eval") && a && sk == SU_CONDA && !c->conda_root) {
        /* eval "$(/ROOT/bin/conda shell.bash hook)": the installation's
         * storage; eval "$(conda shell.bash hook)": the image's conda,
         * needed by a kept activation after it */
        if (hook_conda_root(c, a)) {
            const s2r_volume *s = on_storage(c, c->conda_root);
            if (s)
                return s;
            free(c->conda_root); /* the image's: no installation found */
            c->conda_root = NULL;
        }
        return later_activation(c, an, at);
    }
    bool src = !strcmp(v, "source") || !strcmp(v, ".");
    if (src && a && strcmp(a, "activate")) {
        /* conda.sh of an installation, or DIR/bin/activate */
        const s2r_volume *s = on_storage(c, a);
        if (s && sk == SU_CONDA)
            remember_conda_root(c, a);
        return s;
    }
    /* conda activate ENV, source activate ENV, conda shell hooks */
    const char *env = a && !strcmp(a, "activate") ? conda_env(cm, i + 2)
                                                  : NULL;
    if (env && (env[0] == '/' || env[0] == '~' || env[0] == '$'))
        return on_storage(c, env); /* by its path: env_storage() */
    return c->conda_root ? on_storage(c, c->conda_root) : NULL;
}

bool s2r_body__setup_kept(ctx *c, const analysis *a, size_t i,
                          setup_kind sk, const char *snip)
{
    const sh_stmt *st = &a->body.stmts[i];
    if (sk == SU_MODULE || st->compound || !c->cfg || !c->cfg->n_volumes)
        return false;
    const s2r_volume *vol = NULL;
    for (size_t k = 0; k < st->ncmds; k++) {
        setup_kind one = s2r_body__setup_at(a, i, k);
        const s2r_volume *s = one == SU_NONE ? NULL
                              : setup_storage(c, a, i, &st->cmds[k], one);
        if (!s)
            return false;
        vol = s;
    }
    if (!vol)
        return false;
    const char *verb;
    if (sk == SU_VENV)
        s2r_body__warn(c, st->line, NULL,
             "kept '%s': the virtual environment is on mounted storage "
             "(%s); its base interpreter, the python it was made with, must "
             "be in the image at the same path", snip, vol->path);
    else if (!c->conda_root && st->ncmds == 1 &&
             (verb = word(&st->cmds[0], sh_cmd_first_arg(&st->cmds[0]))) &&
             !strcmp(verb, "eval"))
        s2r_body__warn(c, st->line, NULL,
             "kept '%s': a later `conda activate` of an environment on "
             "mounted storage (%s) needs this hook; the `conda` command "
             "must be in the image", snip, vol->path);
    else if (c->conda_root)
        s2r_body__note(c, st->line,
             "kept '%s': the conda installation is on mounted storage (%s) "
             "and carries its own interpreter", snip, vol->path);
    else
        s2r_body__warn(c, st->line, NULL,
             "kept '%s': the environment is on mounted storage (%s) and "
             "carries its own interpreter, but the `conda` command must be "
             "in the image (or source etc/profile.d/conda.sh of an "
             "installation on mounted storage first)", snip, vol->path);
    return true;
}

/* ---- set-up that stays in the body ---------------------------------- */

/* True when statement @p i of @p a was settled as set-up by itself
 * (dropped, or kept on storage with a warning): in the body, before the
 * main command, not compound, every command set-up, and not joined to the
 * next statement by && or ||. */
static bool settled_setup(const analysis *a, size_t i, bool top)
{
    const sh_body *b = &a->body;
    const sh_stmt *st = &b->stmts[i];
    if (!top || (a->main != (size_t)-1 && i > a->main) || st->compound ||
        s2r_body__stmt_continues(b, st))
        return false;
    for (size_t k = 0; k < st->ncmds; k++)
        if (s2r_body__setup_at(a, i, k) == SU_NONE)
            return false;
    return st->ncmds > 0;
}

/* The set-up left in the statements of @p a: a warning per line; true
 * when one is `module` or `ml`. */
static bool setup_left(ctx *c, const analysis *a, bool top)
{
    const sh_body *b = &a->body;
    bool module = false;
    int last = 0;
    for (size_t i = 0; i < b->n; i++) {
        const sh_stmt *st = &b->stmts[i];
        if ((a->kind[i] != ST_KEEP && a->kind[i] != ST_MAIN) ||
            settled_setup(a, i, top))
            continue;
        /* the set-up in front of the main command is dropped */
        size_t k0 = a->kind[i] == ST_MAIN && a->drop_prefix ? a->main_cmd : 0;
        for (size_t k = k0; k < st->ncmds; k++) {
            const sh_cmd *cm = &st->cmds[k];
            setup_kind sk = s2r_body__setup_at(a, i, k);
            if (sk == SU_NONE || cm->line == last)
                continue;
            last = cm->line;
            const char *p = b->src + cm->start, *e = b->src + st->end;
            const char *le = memchr(p, '\n', (size_t)(e - p));
            int n = (int)((le ? le : e) - p);
            module |= sk == SU_MODULE;
            s2r_body__warn(c, cm->line, NULL, sk == SU_MODULE
                 ? "'%.*s' stays in the pod's script: Run:ai pods have no "
                   "environment modules, so there `module` is a stand-in "
                   "that does nothing and succeeds; the image must provide "
                   "this software"
                 : "'%.*s' stays in the pod's script: the environment it "
                   "activates (and conda itself, for conda activate) must "
                   "be in the image or on mounted storage, or the line "
                   "fails in the pod",
                 n > 100 ? 100 : n, p);
        }
    }
    return module;
}

void s2r_body__setup_in_body(ctx *c, const analysis *a, s2r_buf *pre)
{
    bool module = setup_left(c, a, true);
    /* srun bash -c '...' whose commands run in place */
    if (a->inner && a->inner->main != (size_t)-1 && a->mode != MM_STANDIN)
        module |= setup_left(c, a->inner, false);
    if (module)
        s2r_buf_puts(pre, "module() { echo \"s2r: module $* skipped: the "
                          "image provides the software\" >&2; }\n"
                          "ml() { module \"$@\"; }\n");
}
