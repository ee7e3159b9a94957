/* guard.c: what a command or body runs, for the guard (see model.h and
 * guard.h): the programs, assignments and launcher process counts of the
 * script itself (collect mode) and of a model's proposal (check mode),
 * lexed with core/shell (sh_lex). The guard as a whole is in guard_apply.c.
 */
#include "guard.h"
#include "body/body.h"
#include "shell/shell.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One word of a command: from the lexer, or an argv element (literal). */
typedef struct wtok {
    const char *v;
    int lit;    /* no expansion: v is the argv string */
    int assign; /* a leading NAME=value of a lexed command */
    const sh_word *w; /* lexed word (substitutions), or NULL */
} wtok;

/* A walk over what a body runs. In collect mode it records the programs,
 * assignments and launcher options of the script's own body; in check
 * mode it refuses the first thing the script does not do. */
typedef struct swalk {
    int check;          /* 0: collect into the sets, 1: check against */
    s2r_strv *progs;    /* programs the script runs (names as written) */
    s2r_strv *assigns;  /* NAME=value the script assigns */
    s2r_strv *par;      /* launcher\x1fkey\x1fvalue, of this body */
    const s2r_envv *env;/* the rules workload's env (script values) */
    const char *cmd_src;/* source of the current lexed command, or NULL */
    size_t cmd_len;
    char why[256];      /* check mode: the refusal, "" when none */
    int depth;
    int oom;
} swalk;

int s2r_guard__sv_has(const s2r_strv *sv, const char *s)
{
    for (size_t i = 0; i < sv->n; i++)
        if (!strcmp(sv->v[i], s))
            return 1;
    return 0;
}

static void sv_add(swalk *w, s2r_strv *sv, const char *s)
{
    if (!s2r_guard__sv_has(sv, s) && s2r_strv_push(sv, s))
        w->oom = 1;
}

static void refuse(swalk *w, const char *fmt, const char *a)
{
    if (w->why[0])
        return;
    char shown[96];
    s2r_guard__excerpt(shown, sizeof(shown), a ? a : "");
    snprintf(w->why, sizeof(w->why), fmt, shown);
}

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* Does the script run program @p name? A bare name also matches a path
 * the script runs (python for /opt/conda/bin/python); a path must match
 * exactly. */
static int prog_known(const swalk *w, const char *name)
{
    static const char *const mpi[] = {"mpirun", "mpiexec", "orterun",
                                      "mpiexec.hydra", NULL};
    if (s2r_guard__sv_has(w->progs, name))
        return 1;
    /* one MPI launcher for another */
    for (size_t i = 0; mpi[i]; i++)
        if (!strcmp(name, mpi[i]))
            for (size_t k = 0; mpi[k]; k++)
                if (s2r_guard__sv_has(w->progs, mpi[k]))
                    return 1;
    if (strchr(name, '/'))
        return 0;
    for (size_t i = 0; i < w->progs->n; i++)
        if (!strcmp(base_name(w->progs->v[i]), name))
            return 1;
    return 0;
}

/* NAME=value (an assignment word, an export argument, an env argument). */
static void see_assignment(swalk *w, const char *a)
{
    const char *eq = strchr(a, '=');
    if (!eq || eq == a)
        return;
    size_t nl = (size_t)(eq - a);
    if (a[nl - 1] == '+')
        nl--;
    char name[130];
    if (nl >= sizeof(name))
        return;
    memcpy(name, a, nl);
    name[nl] = '\0';
    if (!w->check) {
        sv_add(w, w->assigns, a);
        return;
    }
    if (!s2r_guard__env_name_loads(name) || s2r_guard__sv_has(w->assigns, a))
        return;
    const char *cur = s2r_envv_get(w->env, name);
    if (cur && eq[-1] != '+' && !strcmp(cur, eq + 1))
        return;
    refuse(w, "sets %s, which decides which program runs or what it loads "
              "(the script does not set it so)", name);
}

static void walk_text(swalk *w, const char *text, size_t len);

/* Command substitutions ($(...) and `...`) inside a word's raw text. */
static void walk_substitutions(swalk *w, const sh_word *word)
{
    for (size_t s = 0; word && s < word->nsegs; s++) {
        if (word->segs[s].type == SH_SEG_LIT)
            continue;
        const char *t = word->segs[s].text;
        for (size_t i = 0; t[i]; i++) {
            if (t[i] == '\\' && t[i + 1]) {
                i++;
                continue;
            }
            if (t[i] == '`') {
                size_t j = i + 1;
                while (t[j] && t[j] != '`')
                    j += t[j] == '\\' && t[j + 1] ? 2 : 1;
                walk_text(w, t + i + 1, j - i - 1);
                i = t[j] ? j : j - 1;
            } else if (t[i] == '$' && t[i + 1] == '(' && t[i + 2] != '(') {
                size_t j = i + 2;
                int depth = 1;
                char q = 0;
                for (; t[j]; j++) {
                    if (q) {
                        if (t[j] == q)
                            q = 0;
                        else if (q == '"' && t[j] == '\\' && t[j + 1])
                            j++;
                    } else if (t[j] == '\'' || t[j] == '"') {
                        q = t[j];
                    } else if (t[j] == '\\' && t[j + 1]) {
                        j++;
                    } else if (t[j] == '(') {
                        depth++;
                    } else if (t[j] == ')' && --depth == 0) {
                        break;
                    }
                }
                walk_text(w, t + i + 2, j - i - 2);
                i = t[j] ? j : j - 1;
            }
        }
    }
}



static void par_add(swalk *w, const char *family, const char *key,
                    const char *value)
{
    char *e = NULL;
    if (asprintf(&e, "%s\x1f%s\x1f%s", family, key, value) < 0) {
        w->oom = 1;
        return;
    }
    sv_add(w, w->par, e);
    free(e);
}

/* Skip the options of a launcher or wrapper (grammar @p g, body.h) from
 * word @p i; records the size keys of the launcher family @p fam (may be
 * NULL). Returns the index of the first operand (the program or script),
 * n when none. A word that is not literal stops nothing: its text is
 * compared like a literal. */
static size_t skip_options(swalk *w, const wtok *t, size_t i, size_t n,
                           const s2r_launch_grammar *g, const char *fam)
{
    while (i < n) {
        s2r_launch_matched m;
        size_t span = s2r_launch_match(g, t[i].v, i + 1 < n ? t[i + 1].v
                                                            : NULL, &m);
        if (span == 0)
            return i;
        const char *key = s2r_launch_key(m.opt);
        if (key && fam && m.value)
            par_add(w, fam, key, m.value);
        i = i + span < n ? i + span : n;
        if (m.end)
            return i;
    }
    return n;
}

/* ---- the allow-list: harmless helpers a model may add ---- */

static int all_args_in(const wtok *t, size_t i, size_t n,
                       const char *const *ok, int prefix_ok)
{
    for (; i < n; i++) {
        int hit = 0;
        for (size_t k = 0; ok[k] && !hit; k++)
            hit = !strcmp(t[i].v, ok[k]) ||
                  (prefix_ok && ok[k][strlen(ok[k]) - 1] == '=' &&
                   !strncmp(t[i].v, ok[k], strlen(ok[k])));
        if (!hit)
            return 0;
    }
    return 1;
}

/* Does the command text @p s redirect output into a file (not /dev/null,
 * /dev/stdout, /dev/stderr or another descriptor)? */
static int writes_file(const char *s, size_t n)
{
    char q = 0;
    for (size_t i = 0; i < n; i++) {
        if (q) {
            if (s[i] == q)
                q = 0;
            else if (q == '"' && s[i] == '\\')
                i++;
            continue;
        }
        if (s[i] == '\'' || s[i] == '"') {
            q = s[i];
            continue;
        }
        if (s[i] == '\\') {
            i++;
            continue;
        }
        if (s[i] != '>')
            continue;
        size_t j = i + 1;
        if (j < n && (s[j] == '>' || s[j] == '|'))
            j++;
        if (j < n && s[j] == '&')
            continue; /* >&2 */
        while (j < n && (s[j] == ' ' || s[j] == '\t'))
            j++;
        size_t e = j;
        while (e < n && !strchr(" \t\n;|&)", s[e]))
            e++;
        static const char *const ok[] = {"/dev/null", "/dev/stdout",
                                         "/dev/stderr", NULL};
        int fine = 0;
        for (size_t k = 0; ok[k] && !fine; k++)
            fine = e - j == strlen(ok[k]) && !strncmp(s + j, ok[k], e - j);
        if (!fine)
            return 1;
        i = e;
    }
    return 0;
}

/* 1 when t[i] (the program) with its arguments is a harmless helper. */
static int harmless(swalk *w, const wtok *t, size_t i, size_t n)
{
    if (w->cmd_src && writes_file(w->cmd_src, w->cmd_len))
        return 0; /* echo ... > train.py is not harmless */
    static const char *const any_args[] = {
        "echo", "printf", "cd", "pwd", "set", "true", "false", ":",
        "test", "[", "[[", "wait", "sleep", "unset", "shift", "nproc", "uname",
        "whoami", NULL};
    static const char *const assigners[] = {
        "export", "declare", "typeset", "local", "readonly", NULL};
    const char *p = t[i].v;
    for (size_t k = 0; any_args[k]; k++)
        if (!strcmp(p, any_args[k]))
            return 1;
    for (size_t k = 0; assigners[k]; k++)
        if (!strcmp(p, assigners[k])) {
            for (size_t j = i + 1; j < n; j++)
                if (t[j].v[0] != '-')
                    see_assignment(w, t[j].v);
            return 1;
        }
    if (!strcmp(p, "mkdir")) {
        static const char *const ok[] = {"-p", "-v", "-pv", "-vp",
                                         "--parents", "--verbose", NULL};
        for (size_t j = i + 1; j < n; j++)
            if (t[j].v[0] == '-' && !all_args_in(t, j, j + 1, ok, 0))
                return 0;
        return 1;
    }
    if (!strcmp(p, "nvidia-smi")) {
        static const char *const ok[] = {"-L", "--list-gpus", "-q",
                                         "--query", "--query-gpu=",
                                         "--format=", "topo", "-m", NULL};
        return all_args_in(t, i + 1, n, ok, 1);
    }
    if (!strcmp(p, "hostname")) {
        static const char *const ok[] = {"-f", "-s", "-i", "-I", NULL};
        return all_args_in(t, i + 1, n, ok, 0);
    }
    if (!strcmp(p, "date")) {
        for (size_t j = i + 1; j < n; j++)
            if (t[j].v[0] != '+' && strcmp(t[j].v, "-u") &&
                strcmp(t[j].v, "-R") && strncmp(t[j].v, "-I", 2) &&
                strncmp(t[j].v, "--iso-8601", 10))
                return 0;
        return 1;
    }
    return 0;
}

/* ---- one command ---- */

static const char *const shells[] = {"bash", "sh", "dash", "zsh", "ksh",
                                     NULL};

static int in_strs(const char *s, const char *const *l)
{
    for (size_t i = 0; l[i]; i++)
        if (!strcmp(s, l[i]))
            return 1;
    return 0;
}

/* A shell run on a string (bash -c '...'): the string is a body. */
static int shell_dash_c(swalk *w, const wtok *t, size_t i, size_t n)
{
    size_t j = i + 1;
    int dash_c = 0;
    for (; j < n && t[j].v[0] == '-' && strcmp(t[j].v, "--"); j++) {
        if (t[j].v[1] != '-' && strchr(t[j].v, 'c'))
            dash_c = 1;
        if (!strcmp(t[j].v, "-o") || !strcmp(t[j].v, "+o"))
            j++;
    }
    if (!dash_c)
        return 0;
    if (j >= n)
        return 1;
    if (t[j].lit)
        walk_text(w, t[j].v, strlen(t[j].v));
    else if (!w->check)
        sv_add(w, w->progs, t[j].v);
    else if (!prog_known(w, t[j].v))
        refuse(w, "runs a computed body (%s)", t[j].v);
    return 1;
}

/* Where a walk over one command goes after the word at i. */
enum { W_NONE = 0, W_NEXT, W_DONE };

/* A wrapper in front of a program (exec, command, nohup, time, setsid,
 * env, timeout, nice, stdbuf), a shell on a string, eval: W_NEXT with
 * *next at what it runs, W_DONE when the rest was walked, W_NONE when
 * t[i] is no wrapper. */
static int wrapper(swalk *w, const wtok *t, size_t i, size_t n,
                   const char *b, size_t *next)
{
    /* transparent wrappers: what they run is checked instead */
    if (!strcmp(b, "exec") || !strcmp(b, "command") ||
        !strcmp(b, "builtin") || !strcmp(b, "nohup") ||
        !strcmp(b, "time") || !strcmp(b, "setsid")) {
        *next = skip_options(w, t, i + 1, n, &s2r_launch_none, NULL);
        return W_NEXT;
    }
    if (!strcmp(b, "env")) {
        i = skip_options(w, t, i + 1, n, &s2r_launch_env, NULL);
        while (i < n && strchr(t[i].v, '=') && t[i].v[0] != '=' &&
               t[i].v[0] != '/') {
            see_assignment(w, t[i].v);
            i++;
        }
        *next = i;
        return W_NEXT;
    }
    if (!strcmp(b, "timeout")) {
        *next = skip_options(w, t, i + 1, n, &s2r_launch_timeout, NULL) + 1;
        return W_NEXT;
    }
    if (!strcmp(b, "nice") || !strcmp(b, "stdbuf")) {
        *next = skip_options(w, t, i + 1, n,
                             b[0] == 'n' ? &s2r_launch_nice
                                         : &s2r_launch_stdbuf,
                             NULL);
        return W_NEXT;
    }
    if (in_strs(b, shells) && shell_dash_c(w, t, i, n))
        return W_DONE;
    if (!strcmp(b, "eval")) {
        for (size_t j = i + 1; j < n; j++)
            if (t[j].lit)
                walk_text(w, t[j].v, strlen(t[j].v));
            else if (w->check && !prog_known(w, t[j].v))
                refuse(w, "evaluates computed text (%s)", t[j].v);
            else if (!w->check)
                sv_add(w, w->progs, t[j].v);
        return W_DONE;
    }
    return W_NONE;
}

/* The launcher t[i] starts (s2r_launch_identify(), body.h), or NULL;
 * *from: its first option word. */
static const s2r_launch_grammar *launcher_of(const wtok *t, size_t i,
                                             size_t n, size_t *from)
{
    const char *argv[16];
    size_t k = 0;
    for (; k < sizeof(argv) / sizeof(argv[0]) && i + k < n; k++)
        argv[k] = t[i + k].v;
    size_t at = 1;
    const s2r_launch_grammar *g = s2r_launch_identify(argv, k, &at);
    *from = i + at;
    return g;
}

/* A launcher's options (recording its process counts): mpirun, srun and
 * --no-python launchers go on to the program they start (W_NEXT); the
 * others run a Python script, so the script runs python (W_DONE). */
static int launcher(swalk *w, const wtok *t, size_t n,
                    const s2r_launch_grammar *L, size_t from, size_t *next)
{
    int no_python = 0;
    par_add(w, L->family, "", ""); /* it runs this launcher */
    size_t j = skip_options(w, t, from, n, L, L->family);
    for (size_t k = from; k < j && k < n; k++)
        if (!strcmp(t[k].v, "--no-python") || !strcmp(t[k].v, "--no_python"))
            no_python = 1;
    if (L->kind == S2R_LK_MPIRUN || L->kind == S2R_LK_SRUN ||
        L->kind == S2R_LK_HOROVODRUN || no_python) {
        *next = j; /* the program it starts */
        return W_NEXT;
    }
    if (!w->check) {
        sv_add(w, w->progs, "python");
        sv_add(w, w->progs, "python3");
    }
    return W_DONE;
}

/* After the program t[i] itself: a launcher, a CPU or scheduling wrapper
 * (taskset, numactl, chrt, ionice) or singularity/apptainer exec goes on
 * to the program it starts (W_NEXT); anything else ends the command. */
static int runs_further(swalk *w, const wtok *t, size_t i, size_t n,
                        const char *b, size_t *next)
{
    size_t from;
    const s2r_launch_grammar *L = launcher_of(t, i, n, &from);
    if (L)
        return launcher(w, t, n, L, from, next);
    if (!strcmp(b, "taskset") || !strcmp(b, "numactl") ||
        !strcmp(b, "chrt") || !strcmp(b, "ionice")) {
        size_t j = skip_options(w, t, i + 1, n,
                                b[0] == 't' ? &s2r_launch_taskset
                                            : &s2r_launch_none,
                                NULL);
        int has_c = 0;
        for (size_t k = i + 1; k < j; k++)
            if (!strcmp(t[k].v, "-c") || !strncmp(t[k].v, "--cpu", 5))
                has_c = 1;
        if ((b[0] == 't' && !has_c) || b[0] == 'c')
            j++; /* the mask or the priority */
        *next = j;
        return W_NEXT;
    }
    if ((!strcmp(b, "singularity") || !strcmp(b, "apptainer")) &&
        i + 1 < n && !strcmp(t[i + 1].v, "exec")) {
        *next = skip_options(w, t, i + 2, n, &s2r_launch_singularity,
                             NULL) + 1;
        return W_NEXT;
    }
    return W_DONE;
}

static void walk_cmd(swalk *w, const wtok *t, size_t n)
{
    size_t i = 0;
    if (++w->depth > 16) {
        if (w->check)
            refuse(w, "nests commands too deeply (%s)", n ? t[0].v : "");
        w->depth--;
        return;
    }
    for (size_t k = 0; k < n; k++)
        walk_substitutions(w, t[k].w);
    while (i < n && t[i].assign)
        see_assignment(w, t[i++].v);
    while (i < n && !w->why[0] && !w->oom) {
        const char *p = t[i].v;
        /* `[` and `[[` are unterminated brackets, kept as they are */
        if (!t[i].lit && strcmp(p, "[") != 0 && strcmp(p, "[[") != 0) {
            if (!w->check)
                sv_add(w, w->progs, p);
            else if (!prog_known(w, p))
                refuse(w, "runs a command whose name is computed (%s)", p);
            break;
        }
        const char *b = base_name(p);
        size_t next = i;
        int step = wrapper(w, t, i, n, b, &next);
        if (step == W_NONE) {
            /* the program itself */
            if (!w->check)
                sv_add(w, w->progs, p);
            else if (!prog_known(w, p) && !harmless(w, t, i, n))
                refuse(w, "runs %s, which the script does not run", p);
            if (w->why[0])
                break;
            step = runs_further(w, t, i, n, b, &next);
        }
        if (step != W_NEXT)
            break;
        i = next;
    }
    w->depth--;
}

/* The previous word in @p src before byte @p at (for loop headers). */
static size_t prev_word(const char *src, size_t at, char *out, size_t cap)
{
    size_t e = at;
    while (e > 0 && (src[e - 1] == ' ' || src[e - 1] == '\t' ||
                     src[e - 1] == '\n' || src[e - 1] == ';'))
        e--;
    size_t s = e;
    while (s > 0 && src[s - 1] != ' ' && src[s - 1] != '\t' &&
           src[s - 1] != '\n' && src[s - 1] != ';')
        s--;
    size_t l = e - s < cap - 1 ? e - s : cap - 1;
    memcpy(out, src + s, l);
    out[l] = '\0';
    return s;
}

/* Words of a compound statement that are not a command: the list of
 * for/select NAME in ..., the subject of case, its patterns, [[ ... ]]. */
static int not_a_command(const sh_body *b, const sh_stmt *st,
                         const sh_cmd *c)
{
    char w1[32], w2[32], w3[32];
    size_t s = prev_word(b->src, c->start, w1, sizeof(w1));
    if (!strcmp(w1, "[[") || !strcmp(w1, "case") || !strcmp(w1, "for") ||
        !strcmp(w1, "select"))
        return 1;
    if (!strcmp(w1, "in")) {
        s = prev_word(b->src, s, w2, sizeof(w2));
        prev_word(b->src, s, w3, sizeof(w3));
        if (!strcmp(w3, "for") || !strcmp(w3, "select"))
            return 1;
    }
    if (c->nwords && st->compound) {
        size_t e = c->end;
        while (e < b->len && (b->src[e] == ' ' || b->src[e] == '\t'))
            e++;
        const char *p = b->src + st->start;
        while (*p == ' ' || *p == '\t')
            p++;
        if (e < b->len && b->src[e] == ')' && !strncmp(p, "case", 4) &&
            (p[4] == ' ' || p[4] == '\t'))
            return 1;
    }
    return 0;
}

static void walk_text(swalk *w, const char *text, size_t len)
{
    if (w->depth > 16) {
        if (w->check)
            refuse(w, "nests commands too deeply (%s)", "");
        return;
    }
    sh_body b;
    if (sh_lex(&b, text, len, 1) != 0) {
        w->oom = 1;
        return;
    }
    w->depth++;
    const char *outer_src = w->cmd_src;
    size_t outer_len = w->cmd_len;
    for (size_t s = 0; s < b.n && !w->why[0] && !w->oom; s++) {
        const sh_stmt *st = &b.stmts[s];
        for (size_t c = 0; c < st->ncmds && !w->why[0] && !w->oom; c++) {
            const sh_cmd *cmd = &st->cmds[c];
            if (!cmd->nwords)
                continue;
            wtok *t = calloc(cmd->nwords, sizeof(*t));
            if (!t) {
                w->oom = 1;
                break;
            }
            size_t first = sh_cmd_first_arg(cmd);
            for (size_t k = 0; k < cmd->nwords; k++) {
                t[k].v = cmd->words[k].value ? cmd->words[k].value : "";
                t[k].lit = cmd->words[k].literal;
                t[k].assign = k < first;
                t[k].w = &cmd->words[k];
            }
            w->cmd_src = cmd->has_redir ? b.src + cmd->start : NULL;
            w->cmd_len = cmd->end - cmd->start;
            if (not_a_command(&b, st, cmd)) {
                for (size_t k = 0; k < cmd->nwords; k++)
                    walk_substitutions(w, t[k].w);
            } else {
                walk_cmd(w, t, cmd->nwords);
            }
            w->cmd_src = outer_src;
            w->cmd_len = outer_len;
            free(t);
        }
    }
    w->depth--;
    sh_body_free(&b);
}

/* An argv (executed without a shell): every element is literal. */
static void walk_argv(swalk *w, const s2r_strv *sv)
{
    if (!sv->n)
        return;
    wtok *t = calloc(sv->n, sizeof(*t));
    if (!t) {
        w->oom = 1;
        return;
    }
    for (size_t k = 0; k < sv->n; k++) {
        t[k].v = sv->v[k];
        t[k].lit = 1;
    }
    walk_cmd(w, t, sv->n);
    free(t);
}

/* What the script runs: programs, assignments and launcher options of
 * the rules command, the MPI launcher command and the body the rules
 * kept. */
void s2r_guard__script_facts_free(script_facts *f)
{
    s2r_strv_clear(&f->progs);
    s2r_strv_clear(&f->assigns);
    s2r_strv_clear(&f->par);
}

int s2r_guard__script_facts_read(script_facts *f, const s2r_workload *wl,
                                 const s2r_job *job)
{
    memset(f, 0, sizeof(*f));
    swalk w = {0, &f->progs, &f->assigns, &f->par, &wl->env, NULL, 0, "", 0, 0};
    walk_argv(&w, &wl->command);
    walk_argv(&w, &wl->launcher_command);
    /* the body and argv the script gave, before any rules rewrite: they
     * only add programs (launcher options come from the rules command) */
    s2r_strv more_par = {0};
    w.par = &more_par;
    walk_argv(&w, &job->run_argv);
    walk_argv(&w, &job->launcher_argv);
    if (job->run_shell)
        walk_text(&w, job->run_shell, strlen(job->run_shell));
    s2r_strv_clear(&more_par);
    return w.oom ? S2R_ENOMEM : S2R_OK;
}

/* Check mode over the proposal: the refusal in @p why ("" when none);
 * launcher options the proposal states into @p par. */
int s2r_guard__proposal_structure(const proposal *p, const s2r_workload *wl,
                                  script_facts *f, s2r_strv *par, char *why,
                                  size_t cap)
{
    swalk w = {1, &f->progs, &f->assigns, par, &wl->env, NULL, 0, "", 0, 0};
    if (p->command.n)
        walk_argv(&w, &p->command);
    else if (p->script)
        walk_text(&w, p->script, strlen(p->script));
    snprintf(why, cap, "%s", w.why);
    return w.oom ? S2R_ENOMEM : S2R_OK;
}

/* A launcher option the proposal changes: "torchrun --nproc_per_node 8
 * (rules: 2)" into @p out; 0 when none. */
int s2r_guard__parallelism_changed(const s2r_strv *model,
                                   const s2r_strv *rules, char *out,
                                   size_t cap)
{
    static const struct {
        const char *family, *key, *shown;
        int may_drop;
    } keys[] = {
        {"torchrun", "nproc_per_node", "--nproc_per_node", 0},
        {"torchrun", "nnodes", "--nnodes", 0},
        {"accelerate", "num_processes", "--num_processes", 0},
        {"accelerate", "num_machines", "--num_machines", 0},
        {"deepspeed", "num_gpus", "--num_gpus", 1},
        {"deepspeed", "num_nodes", "--num_nodes", 1},
        {"mpirun", "np", "-np", 1},
        {"mpirun", "npernode", "-N/--npernode", 1},
        {"srun", "ntasks", "-n", 0},
        {"srun", "nodes", "-N", 0},
    };
    for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
        char pre[64];
        int pl = snprintf(pre, sizeof(pre), "%s\x1f%s\x1f", keys[k].family,
                          keys[k].key);
        char famp[32];
        int fl = snprintf(famp, sizeof(famp), "%s\x1f", keys[k].family);
        const char *rv = NULL;
        int model_runs = 0;
        for (size_t i = 0; i < rules->n; i++)
            if (!strncmp(rules->v[i], pre, (size_t)pl)) {
                rv = rules->v[i] + pl;
                break;
            }
        int stated = 0;
        for (size_t i = 0; i < model->n; i++) {
            if (!strncmp(model->v[i], famp, (size_t)fl))
                model_runs = 1;
            if (strncmp(model->v[i], pre, (size_t)pl))
                continue;
            stated = 1;
            const char *mv = model->v[i] + pl;
            if (!s2r_guard__sv_has(rules, model->v[i])) {
                char a[48], b[48];
                s2r_guard__excerpt(a, sizeof(a), mv);
                s2r_guard__excerpt(b, sizeof(b), rv ? rv : "");
                snprintf(out, cap, "%s %s %s (rules: %s)", keys[k].family,
                         keys[k].shown, a, rv ? b : "not given");
                return 1;
            }
        }
        if (rv && model_runs && !stated && !keys[k].may_drop) {
            char b[48];
            s2r_guard__excerpt(b, sizeof(b), rv);
            snprintf(out, cap, "%s without %s (rules: %s)", keys[k].family,
                     keys[k].shown, b);
            return 1;
        }
    }
    return 0;
}
