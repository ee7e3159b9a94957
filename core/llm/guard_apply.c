/* guard_apply.c: check a provider's answer against the parsed job (see
 * model.h); the parts live in the files guard.h lists.
 *
 * Order of the checks, so that an answer is either used under the rules'
 * constraints or not used at all:
 *   1. shape: a JSON object; {"output"} (remote s2r), {"workload"} (a
 *      complete workload) or a proposal {image, command|script, env,
 *      notes}; wrong types, or text that is not UTF-8 (YAML and JSON
 *      could not carry it) -> malformed -> fallback
 *   2. fixed facts: any resource, node, array or time value the answer
 *      states is compared with the rules workload; a difference is a
 *      warning naming both values and changes nothing
 *   3. empty -> fallback; unsafe text (command, script, env values,
 *      remote output) -> fallback; then the structure: the command or
 *      script, lexed (core/shell, see guard.c), may run only programs the
 *      script runs (or harmless helpers), under literal names, and set no
 *      loader variable (PATH, PYTHONPATH, LD_*...) the script does not set
 *      so -> fallback
 *   4. merge, part by part: image (OCI reference; never replaces the
 *      script's own image), command (must keep the main computation, its
 *      launcher and the launcher's process counts, and read no SLURM
 *      variable a pod lacks), env (never changes a value the script sets,
 *      never sets a loader variable), notes -> notes
 * Secrets: the registry redacts the provider's secret option values from
 * the answer before it gets here (s2r_registry_convert).
 */
#include "guard.h"
#include "runai/runai.h"
#include "shell/shell.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Diagnostics                                                         */
/* ------------------------------------------------------------------ */

void s2r_guard__say(gctx *g, s2r_severity sev, const char *fmt, ...)
{
    va_list ap;
    char *msg = NULL;
    va_start(ap, fmt);
    int n = vasprintf(&msg, fmt, ap);
    va_end(ap);
    if (n < 0) {
        g->rc = S2R_ENOMEM;
        return;
    }
    if (s2r_diags_add(g->d, sev, g->job->file, 0, NULL, "%s: %s", g->id,
                      msg) != S2R_OK)
        g->rc = S2R_ENOMEM;
    free(msg);
}

void s2r_guard__excerpt(char *out, size_t cap, const char *s)
{
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p && o + 4 < cap;
         p++)
        out[o++] = (*p < 0x20 || *p == 0x7f) ? ' ' : (char)*p;
    if (s[o] && o + 4 >= cap) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
}

/* ------------------------------------------------------------------ */
/* Text helpers                                                        */
/* ------------------------------------------------------------------ */

/* argv joined by spaces (the form check-corpus and people read). */
char *s2r_guard__join(const s2r_strv *sv)
{
    size_t n = 1;
    for (size_t i = 0; i < sv->n; i++)
        n += strlen(sv->v[i]) + 1;
    char *s = malloc(n);
    if (!s)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < sv->n; i++) {
        size_t l = strlen(sv->v[i]);
        if (i)
            s[o++] = ' ';
        memcpy(s + o, sv->v[i], l);
        o += l;
    }
    s[o] = '\0';
    return s;
}

/* What the script itself runs, as the rules understood it: the rules
 * command, the MPI launcher command, the bash body and the env values. */
static char *rules_text(const s2r_workload *wl, const s2r_job *job)
{
    char *a = s2r_guard__join(&wl->command);
    char *b = s2r_guard__join(&wl->launcher_command);
    char *out = NULL;
    size_t envlen = 1;
    for (size_t i = 0; i < wl->env.n; i++)
        envlen += strlen(wl->env.v[i].value) + 1;
    char *env = malloc(envlen);
    if (env) {
        size_t o = 0;
        for (size_t i = 0; i < wl->env.n; i++) {
            size_t l = strlen(wl->env.v[i].value);
            memcpy(env + o, wl->env.v[i].value, l);
            o += l;
            env[o++] = '\n';
        }
        env[o] = '\0';
    }
    if (a && b && env &&
        asprintf(&out, "%s\n%s\n%s\n%s", a, b,
                 job->run_shell ? job->run_shell : "", env) < 0)
        out = NULL;
    free(a);
    free(b);
    free(env);
    return out;
}

/* check-corpus's test: every token, or its shell-quoted form, in order. */
static int tokens_in_order(const s2r_strv *tokens, const char *text)
{
    const char *pos = text;
    for (size_t i = 0; i < tokens->n; i++) {
        const char *t = tokens->v[i];
        const char *hit = strstr(pos, t);
        if (hit) {
            pos = hit + strlen(t);
            continue;
        }
        char *q = s2r_shell_quote(t);
        if (!q)
            return 0;
        hit = strstr(pos, q);
        size_t ql = strlen(q);
        free(q);
        if (!hit)
            return 0;
        pos = hit + ql;
    }
    return 1;
}

/* Launchers the rules kept on purpose: a command without them would run
 * one process where SLURM ran many. */
static const char *const launchers[] = {
    "mpirun", "mpiexec", "torchrun", "torch.distributed.run",
    "accelerate", "deepspeed", NULL};

/* The first $SLURM_* name @p text reads that the pod will not have, into
 * @p out; 0 when none. */
static int missing_slurm_var(const char *text, const s2r_workload *wl,
                             const char *rules, char *out, size_t cap)
{
    for (const char *p = strstr(text, "SLURM_"); p;
         p = strstr(p + 1, "SLURM_")) {
        if (p > text && (p[-1] == '_' || (p[-1] >= 'A' && p[-1] <= 'Z') ||
                         (p[-1] >= 'a' && p[-1] <= 'z') ||
                         (p[-1] >= '0' && p[-1] <= '9')))
            continue;
        size_t n = 6;
        while ((p[n] >= 'A' && p[n] <= 'Z') || (p[n] >= '0' && p[n] <= '9') ||
               p[n] == '_')
            n++;
        if (n >= cap)
            n = cap - 1;
        memcpy(out, p, n);
        out[n] = '\0';
        if (s2r_envv_get(&wl->env, out))
            continue;
        if (!strcmp(out, "SLURM_ARRAY_TASK_ID") && wl->completions > 0)
            continue;
        /* a name the script's own command reads is the rules' business */
        int in_rules = 0;
        for (const char *r = strstr(rules, out); r; r = strstr(r + 1, out)) {
            char c = r[n];
            if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_')) {
                in_rules = 1;
                break;
            }
        }
        if (!in_rules)
            return 1;
    }
    return 0;
}

/* Unsafe anywhere: command, script, env values, image. Returns the
 * reason; *@p where names the part, *@p what its text. First the
 * patterns (s2r_guard_unsafe), then the structure: the command or script
 * must run only programs the script runs (or harmless helpers), under
 * names that are not computed, and set no loader variable (@p buf holds
 * that reason; @p par receives the launcher options it states). */
static const char *proposal_unsafe(const proposal *p, const char *cmd_text,
                                   const char *rules, script_facts *f,
                                   const s2r_workload *wl, s2r_strv *par,
                                   char *buf, size_t cap, int *rc,
                                   const char **where, const char **what)
{
    const char *why;
    if (cmd_text && (why = s2r_guard_unsafe(cmd_text, rules))) {
        *where = p->command.n ? "command" : "script";
        *what = cmd_text;
        return why;
    }
    for (size_t i = 0; i < p->env.n; i++)
        if ((why = s2r_guard_unsafe(p->env.v[i].value, rules))) {
            *where = p->env.v[i].name;
            *what = p->env.v[i].value;
            return why;
        }
    if (p->image && s2r_guard__has_control(p->image)) {
        *where = "image";
        *what = p->image;
        return "contains control characters";
    }
    if (cmd_text &&
        s2r_guard__proposal_structure(p, wl, f, par, buf, cap) != S2R_OK) {
        *rc = S2R_ENOMEM;
        return NULL;
    }
    if (cmd_text && buf[0]) {
        *where = p->command.n ? "command" : "script";
        *what = cmd_text;
        return buf;
    }
    return NULL;
}

static void apply_image(gctx *g, const char *image)
{
    s2r_workload *wl = g->wl;
    if (!image)
        return;
    if (!strncmp(image, "docker://", 9))
        image += 9;
    char shown[200];
    s2r_guard__excerpt(shown, sizeof(shown), image);
    if (!s2r_guard_image_ok(image)) {
        s2r_guard__say(g, S2R_SEV_WARNING,
            "the model's image '%s' is not an OCI image reference: '%s' is "
            "kept", shown, wl->image);
        return;
    }
    if (!strcmp(image, wl->image))
        return;
    if (g->job->image) {
        s2r_guard__say(g, S2R_SEV_WARNING,
            "the model's image '%s' differs from the script's own image "
            "'%s': '%s' is kept", shown, g->job->image, g->job->image);
        return;
    }
    char *dup = strdup(image);
    if (!dup) {
        g->rc = S2R_ENOMEM;
        return;
    }
    s2r_guard__say(g, S2R_SEV_NOTE,
        "image '%s' chosen by the model (the script names none; the "
        "default was '%s')", shown, wl->image);
    free(wl->image);
    wl->image = dup;
}

/* The argv the proposal asks for: its command, or bash -c SCRIPT.
 * @return S2R_OK or S2R_ENOMEM. */
static int proposed_argv(const proposal *p, s2r_strv *next)
{
    if (p->command.n) {
        for (size_t i = 0; i < p->command.n; i++)
            if (s2r_strv_push(next, p->command.v[i]))
                return S2R_ENOMEM;
        return S2R_OK;
    }
    if (s2r_strv_push(next, "bash") || s2r_strv_push(next, "-c") ||
        s2r_strv_push(next, p->script))
        return S2R_ENOMEM;
    return S2R_OK;
}

/* Why the rules command stays: the proposal does not run the main
 * computation as written, drops a launcher the rules keep, reads a SLURM
 * variable a pod lacks, or changes a launcher's process count (a warning
 * says which). @return 1 (kept, warned), 0 (the proposal may replace
 * it), S2R_ENOMEM. */
static int rules_command_kept(gctx *g, const char *text, const char *rules,
                              const script_facts *f,
                              const s2r_strv *model_par, const char *shown,
                              const char *rules_shown)
{
    const s2r_job *job = g->job;
    if (job->command_tokens.n &&
        !tokens_in_order(&job->command_tokens, text)) {
        char main_cmd[160];
        char *m = s2r_guard__join(&job->command_tokens);
        if (!m)
            return S2R_ENOMEM;
        s2r_guard__excerpt(main_cmd, sizeof(main_cmd), m);
        free(m);
        s2r_guard__say(g, S2R_SEV_WARNING,
            "the model's command '%s' does not run the script's main "
            "computation '%s' as written: the rules command '%s' is kept",
            shown, main_cmd, rules_shown);
        return 1;
    }
    for (size_t i = 0; launchers[i]; i++) {
        if (strstr(rules, launchers[i]) && !strstr(text, launchers[i])) {
            s2r_guard__say(g, S2R_SEV_WARNING,
                "the model's command '%s' drops the launcher %s that the "
                "rules command '%s' keeps: the rules command is kept", shown,
                launchers[i], rules_shown);
            return 1;
        }
    }
    char var[64];
    if (missing_slurm_var(text, g->wl, rules, var, sizeof(var))) {
        s2r_guard__say(g, S2R_SEV_WARNING,
            "the model's command '%s' reads $%s, which a Run:ai pod does "
            "not have: the rules command '%s' is kept", shown, var,
            rules_shown);
        return 1;
    }
    char changed[200];
    if (s2r_guard__parallelism_changed(model_par, &f->par, changed,
                                       sizeof(changed))) {
        s2r_guard__say(g, S2R_SEV_WARNING,
            "the model's command '%s' changes how many processes the "
            "launcher starts (%s): the rules command '%s' is kept", shown,
            changed, rules_shown);
        return 1;
    }
    return 0;
}

static void apply_command(gctx *g, const proposal *p, const char *text,
                          const char *rules, const script_facts *f,
                          const s2r_strv *model_par)
{
    s2r_workload *wl = g->wl;
    if (!text)
        return;
    s2r_strv *cmd = wl->kind == S2R_WL_MPI ? &wl->launcher_command
                                           : &wl->command;
    s2r_strv next = {0};
    if (proposed_argv(p, &next) != S2R_OK)
        goto nomem;
    /* unchanged? */
    int same = next.n == cmd->n;
    for (size_t i = 0; same && i < next.n; i++)
        same = strcmp(next.v[i], cmd->v[i]) == 0;
    if (same) {
        s2r_strv_clear(&next);
        return;
    }
    char shown[160], rules_shown[160];
    s2r_guard__excerpt(shown, sizeof(shown), text);
    char *cur = s2r_guard__join(cmd);
    if (!cur)
        goto nomem;
    s2r_guard__excerpt(rules_shown, sizeof(rules_shown), cur);
    free(cur);
    int kept = rules_command_kept(g, text, rules, f, model_par, shown,
                                  rules_shown);
    if (kept == S2R_ENOMEM)
        goto nomem;
    if (kept) {
        s2r_strv_clear(&next);
        return;
    }
    s2r_strv_clear(cmd);
    *cmd = next;
    s2r_guard__say(g, S2R_SEV_NOTE,
                   "command written by the model: '%s' (rules: '%s')", shown,
                   rules_shown);
    return;
nomem:
    s2r_strv_clear(&next);
    g->rc = S2R_ENOMEM;
}

static void apply_env(gctx *g, const proposal *p, const script_facts *f)
{
    s2r_workload *wl = g->wl;
    for (size_t i = 0; i < p->env.n; i++) {
        const char *n = p->env.v[i].name, *v = p->env.v[i].value;
        char sn[80], sv[120], cv[120];
        s2r_guard__excerpt(sn, sizeof(sn), n);
        s2r_guard__excerpt(sv, sizeof(sv), v);
        if (!s2r_guard__env_name_ok(n)) {
            s2r_guard__say(g, S2R_SEV_WARNING,
                "the model's variable '%s' is not a valid environment "
                "variable name: not set", sn);
            continue;
        }
        const char *cur = s2r_envv_get(&wl->env, n);
        if (cur) {
            if (strcmp(cur, v) != 0) {
                s2r_guard__excerpt(cv, sizeof(cv), cur);
                s2r_guard__say(g, S2R_SEV_WARNING,
                    "the model sets %s='%s' but the script gives '%s': '%s' "
                    "is kept", n, sv, cv, cv);
            }
            continue;
        }
        if (s2r_guard__env_name_loads(n)) {
            char a[300];
            snprintf(a, sizeof(a), "%s=%s", n, v);
            if (!s2r_guard__sv_has(&f->assigns, a)) {
                s2r_guard__say(g, S2R_SEV_WARNING,
                    "the model sets %s='%s', which decides which program "
                    "runs or what it loads, and the script does not set it "
                    "so: not set", n, sv);
                continue;
            }
        }
        if (s2r_guard__env_name_refused(n)) {
            s2r_guard__say(g, S2R_SEV_WARNING,
                "the model sets %s, which only the directives or the site "
                "may set: not set", n);
            continue;
        }
        if (s2r_envv_set(&wl->env, n, v)) {
            g->rc = S2R_ENOMEM;
            return;
        }
        s2r_guard__say(g, S2R_SEV_NOTE, "%s='%s' added by the model", n, sv);
    }
}

static void add_texts(gctx *g, const s2r_strv *sv, s2r_severity sev)
{
    size_t n = sv->n < 20 ? sv->n : 20;
    for (size_t i = 0; i < n; i++) {
        char t[400];
        s2r_guard__excerpt(t, sizeof(t), sv->v[i]);
        if (t[0])
            s2r_guard__say(g, sev, "%s", t);
    }
}

static void fallback(gctx *g, s2r_guard_outcome *outcome, const char *fmt,
                     const char *a, const char *b)
{
    char msg[512];
    snprintf(msg, sizeof(msg), fmt, a ? a : "", b ? b : "");
    s2r_guard__say(g, S2R_SEV_WARNING, "%s: the rules conversion is used",
                   msg);
    *outcome = S2R_GUARD_FALLBACK;
}

static int strv_utf8(const s2r_strv *sv)
{
    for (size_t i = 0; i < sv->n; i++)
        if (!s2r_emit_utf8_valid(sv->v[i]))
            return 0;
    return 1;
}

/* The part of @p p that is not UTF-8, or NULL. YAML and JSON carry
 * nothing else (s2r_emit_utf8_valid), so such an answer could only make a
 * valid script fail in those formats: it is malformed, whatever the
 * format asked for. */
static const char *proposal_not_utf8(const proposal *p)
{
    if (p->image && !s2r_emit_utf8_valid(p->image))
        return "image";
    if (!strv_utf8(&p->command))
        return "command";
    if (p->script && !s2r_emit_utf8_valid(p->script))
        return "script";
    for (size_t i = 0; i < p->env.n; i++)
        if (!s2r_emit_utf8_valid(p->env.v[i].name) ||
            !s2r_emit_utf8_valid(p->env.v[i].value))
            return "env";
    if (!strv_utf8(&p->notes))
        return "notes";
    if (!strv_utf8(&p->warnings))
        return "warnings";
    return NULL;
}

static int has_any(json_object *o, const char *const *keys)
{
    json_object *v;
    for (size_t i = 0; keys[i]; i++)
        if (json_object_object_get_ex(o, keys[i], &v))
            return 1;
    return 0;
}

/* The finished answer of a remote s2r server. */
static int take_output(gctx *g, json_object *answer, json_object *out,
                       char **output_out, s2r_guard_outcome *outcome)
{
    const char *text = json_object_get_string(out);
    char *rules = rules_text(g->wl, g->job);
    if (!rules)
        return S2R_ENOMEM;
    const char *why = s2r_guard_unsafe(text, rules);
    free(rules);
    if (why) {
        fallback(g, outcome, "the remote answer is unsafe (it %s)", why,
                 NULL);
        return g->rc;
    }
    *output_out = strdup(text);
    if (!*output_out)
        return S2R_ENOMEM;
    json_object *w;
    if (json_object_object_get_ex(answer, "warnings", &w) && w) {
        s2r_strv ws = {0};
        if (s2r_guard__read_strings(w, &ws, 1) == S2R_ENOMEM)
            g->rc = S2R_ENOMEM;
        for (size_t i = 0; i < ws.n; i++)
            s2r_diags_add(g->d, S2R_SEV_WARNING, NULL, 0, NULL, "%s",
                          ws.v[i]);
        s2r_strv_clear(&ws);
    }
    *outcome = S2R_GUARD_OUTPUT;
    return g->rc;
}

/* A {"workload": ...} answer read into the proposal shape (image,
 * command or launcher command, env, warnings, notes); its fixed facts are
 * compared. @return 0 (read), 1 (malformed: fallback said), S2R_ENOMEM.
 * *@p model is to be freed by the caller when *@p have_model. */
static int read_workload(gctx *g, json_object *answer, json_object *v,
                         proposal *p, s2r_workload *model, int *have_model,
                         s2r_guard_outcome *outcome)
{
    char buf[128];
    int rc = s2r_workload_from_json(model, v, buf, sizeof(buf));
    if (rc == S2R_ENOMEM)
        return rc;
    if (rc != S2R_OK) {
        fallback(g, outcome, "the answer's workload is malformed (%s)", buf,
                 NULL);
        return 1;
    }
    *have_model = 1;
    p->image = model->image;
    const s2r_strv *c = model->kind == S2R_WL_MPI && model->launcher_command.n
                            ? &model->launcher_command
                            : &model->command;
    for (size_t i = 0; i < c->n; i++)
        if (s2r_strv_push(&p->command, c->v[i]))
            return S2R_ENOMEM;
    for (size_t i = 0; i < model->env.n; i++)
        if (s2r_envv_set(&p->env, model->env.v[i].name,
                         model->env.v[i].value))
            return S2R_ENOMEM;
    p->has_env = model->env.n > 0;
    json_object *w;
    if (json_object_object_get_ex(answer, "warnings", &w) &&
        s2r_guard__read_strings(w, &p->warnings, 1) == S2R_ENOMEM)
        return S2R_ENOMEM;
    if (json_object_object_get_ex(answer, "notes", &w) &&
        s2r_guard__read_strings(w, &p->notes, 1) == S2R_ENOMEM)
        return S2R_ENOMEM;
    s2r_guard__check_fixed_keys(g, v, "workload.");
    return 0;
}

/* A proposal answer {image, command|script, env, notes}: read, fixed
 * facts compared, refused when empty. @return 0 (read), 1 (malformed or
 * empty: fallback said), S2R_ENOMEM. */
static int read_proposal(gctx *g, json_object *answer, proposal *p,
                         s2r_guard_outcome *outcome)
{
    const char *why = NULL;
    int rc = s2r_guard__proposal_read(p, answer, &why);
    if (rc == S2R_ENOMEM)
        return rc;
    if (rc) {
        fallback(g, outcome, "the answer is malformed (%s)", why, NULL);
        return 1;
    }
    s2r_guard__check_fixed_keys(g, answer, "");
    static const char *const useful[] = {"image", "command", "script",
                                         "env", "notes", NULL};
    if (!has_any(answer, useful) ||
        (!p->image && !p->command.n && !p->script && !p->env.n &&
         !p->notes.n)) {
        fallback(g, outcome, "the answer is empty", NULL, NULL);
        return 1;
    }
    return 0;
}

/* Safety first (patterns, then what the proposal runs), then the merge
 * part by part: image, command, env, warnings and notes. */
static void check_and_merge(gctx *g, const proposal *p,
                            s2r_guard_outcome *outcome)
{
    s2r_workload *wl = g->wl;
    char *rules = rules_text(wl, g->job);
    char *text = s2r_guard__proposal_text(p);
    if (!rules || (!text && (p->command.n || p->script))) {
        free(rules);
        free(text);
        g->rc = S2R_ENOMEM;
        return;
    }
    const char *where = NULL, *what = NULL;
    script_facts facts;
    s2r_strv model_par = {0};
    char structure[256] = "";
    int rc = s2r_guard__script_facts_read(&facts, wl, g->job);
    const char *bad = rc != S2R_OK ? NULL
                                   : proposal_unsafe(p, text, rules, &facts,
                                                     wl, &model_par, structure,
                                                     sizeof(structure), &rc,
                                                     &where, &what);
    if (rc != S2R_OK) {
        g->rc = rc;
    } else if (bad) {
        char shown[160], reason[256];
        s2r_guard__excerpt(shown, sizeof(shown), what);
        snprintf(reason, sizeof(reason), "its %s %s", where, bad);
        fallback(g, outcome, "the answer is unsafe (%s: '%s')", reason,
                 shown);
    } else {
        apply_image(g, p->image);
        apply_command(g, p, text, rules, &facts, &model_par);
        apply_env(g, p, &facts);
        add_texts(g, &p->warnings, S2R_SEV_WARNING);
        add_texts(g, &p->notes, S2R_SEV_NOTE);
        *outcome = S2R_GUARD_APPLIED;
    }
    s2r_guard__script_facts_free(&facts);
    s2r_strv_clear(&model_par);
    free(rules);
    free(text);
}

int s2r_guard_apply_ex(s2r_workload *wl, const s2r_job *job,
                       json_object *answer, const char *provider_id,
                       char **output_out, s2r_guard_outcome *outcome,
                       s2r_diags *d)
{
    s2r_guard_outcome dummy;
    if (!outcome)
        outcome = &dummy;
    *outcome = S2R_GUARD_FALLBACK;
    *output_out = NULL;
    gctx g = {wl, job, provider_id ? provider_id : "provider", d, S2R_OK};
    if (!answer || !json_object_is_type(answer, json_type_object)) {
        fallback(&g, outcome, "the answer is not a JSON object", NULL, NULL);
        return g.rc;
    }
    json_object *v;
    if (json_object_object_get_ex(answer, "output", &v) && v) {
        if (!json_object_is_type(v, json_type_string)) {
            fallback(&g, outcome,
                     "the answer is malformed (\"output\" must be a string)",
                     NULL, NULL);
            return g.rc;
        }
        return take_output(&g, answer, v, output_out, outcome);
    }

    proposal p = {0};
    s2r_workload model;
    int have_model = 0;
    int rc = json_object_object_get_ex(answer, "workload", &v) && v
                 ? read_workload(&g, answer, v, &p, &model, &have_model,
                                 outcome)
                 : read_proposal(&g, answer, &p, outcome);
    const char *not_utf8 = rc == 0 ? proposal_not_utf8(&p) : NULL;
    if (rc == S2R_ENOMEM)
        g.rc = rc;
    else if (not_utf8)
        fallback(&g, outcome, "the answer is malformed (its %s is not "
                 "valid UTF-8)", not_utf8, NULL);
    else if (rc == 0)
        check_and_merge(&g, &p, outcome);
    s2r_guard__proposal_free(&p);
    if (have_model)
        s2r_workload_free(&model);
    return g.rc;
}

int s2r_guard_apply(s2r_workload *wl, const s2r_job *job, json_object *answer,
                    const char *provider_id, char **output_out,
                    s2r_diags *d)
{
    return s2r_guard_apply_ex(wl, job, answer, provider_id, output_out, NULL,
                              d);
}
