/* serving.c: a main command that is a long-running server (servers.h):
 * Jupyter, code-server, TensorBoard, vLLM ... The job records the server
 * and the port it listens on; the command is made to listen on every
 * interface of the pod, where Run:ai routes (a workspace's
 * --external-url, an inference workload's --serving-port). See
 * analysis.h. */
#include "analysis.h"
#include "servers.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* a rewritten word of the main command now reads @p txt (literal) */
static void ow_override(ctx *c, owords *o, const sh_word *src,
                        const char *txt)
{
    for (size_t i = 0; i < o->n; i++) {
        if (o->v[i].w != src)
            continue;
        free(o->v[i].txt);
        o->v[i].txt = strdup(txt);
        o->v[i].w = NULL;
        o->v[i].raw = false;
        if (!o->v[i].txt)
            c->oom = true;
    }
}

/* 1..65535 written in digits, else 0 */
static int port_number(const char *v)
{
    if (!v || !*v || strspn(v, "0123456789") != strlen(v) || strlen(v) > 5)
        return 0;
    long p = strtol(v, NULL, 10);
    return p > 0 && p < 65536 ? (int)p : 0;
}

/* NAME when @p v is exactly "$NAME" or "${NAME}" */
static bool var_ref(const char *v, char *out, size_t cap)
{
    if (v[0] != '$')
        return false;
    bool brace = v[1] == '{';
    const char *p = v + 1 + brace;
    size_t n = 0;
    while (sh_name_byte(p[n]))
        n++;
    if (n == 0 || n >= cap || isdigit((unsigned char)p[0]))
        return false;
    if (brace ? strcmp(p + n, "}") : p[n] != '\0')
        return false;
    memcpy(out, p, n);
    out[n] = '\0';
    return true;
}

/* the word of the last plain or exported assignment to @p name among the
 * statements before @p before */
static const sh_word *find_assignment(const analysis *a, size_t before,
                                      const char *name)
{
    size_t nl = strlen(name);
    for (size_t i = before; i-- > 0;) {
        const sh_stmt *st = &a->body.stmts[i];
        if (st->compound || st->ncmds != 1 || a->kind[i] != ST_KEEP)
            continue;
        const sh_cmd *cm = &st->cmds[0];
        size_t k =
            cm->nwords && s2r_body__word_is(&cm->words[0], "export") ? 1 : 0;
        for (; k < cm->nwords && sh_word_is_assignment(&cm->words[k]); k++) {
            const char *t = cm->words[k].segs[0].text;
            if (!strncmp(t, name, nl) && t[nl] == '=')
                return &cm->words[k];
        }
    }
    return NULL;
}

/* the value of option word @p w: after '=' when attached */
static const char *opt_val(const sh_word *w, bool attached)
{
    const char *v = w->value ? w->value : "";
    const char *eq = attached ? strchr(v, '=') : NULL;
    return eq ? eq + 1 : v;
}

/* the option word (with its name) now carries @p val */
static void set_opt(ctx *c, analysis *x, const sh_word *w, bool attached,
                    const char *val)
{
    char buf[256];
    if (attached)
        snprintf(buf, sizeof(buf), "%.*s=%s",
                 (int)strcspn(w->value, "="), w->value, val);
    else
        snprintf(buf, sizeof(buf), "%s", val);
    ow_override(c, &x->ow, w, buf);
}

/* the port the server reads from variable @p name: a literal assignment
 * is kept; a computed one (a random port for an ssh tunnel) becomes
 * NAME=PORT in place */
static int fix_port_var(ctx *c, analysis *x, const sh_word *opt,
                        bool attached, const char *name, int port)
{
    const sh_word *as = find_assignment(x, x->main, name);
    char buf[96];
    if (!as) {
        snprintf(buf, sizeof(buf), "%d", port);
        set_opt(c, x, opt, attached, buf);
        s2r_body__note(c, opt->line,
             "the server's port comes from $%s, which the "
             "script does not set: it listens on %d, which the workload "
             "exposes", name, port);
        return port;
    }
    const char *v = strchr(as->value ? as->value : "", '=');
    int lit = as->literal && v ? port_number(v + 1) : 0;
    if (lit)
        return lit;
    snprintf(buf, sizeof(buf), "%s=%d", name, port);
    s2r_body__add_edit(c, x, as->start, as->end, buf);
    s2r_body__note(c, as->line,
         "'%s' picks a port for an ssh tunnel; in the pod it "
         "is %s, which the workload exposes", as->value ? as->value : name,
         buf);
    return port;
}

static int server_port(ctx *c, analysis *x, const s2r_server_def *def,
                       size_t from)
{
    const unwrap *u = x->u;
    bool att = false;
    size_t pi = s2r_server_find_opt(u->words, u->n, from, def->port_opts,
                                    &att);
    if (pi >= u->n)
        return def->default_port;
    const sh_word *w = &u->words[pi];
    const char *v = opt_val(w, att);
    int lit = w->literal ? port_number(v) : 0;
    char name[64];
    if (lit)
        return lit;
    if (var_ref(v, name, sizeof(name)))
        return fix_port_var(c, x, w, att, name, def->default_port);
    char buf[16];
    snprintf(buf, sizeof(buf), "%d", def->default_port);
    set_opt(c, x, w, att, buf);
    s2r_body__note(c, w->line,
         "the server's port '%s' is computed at run time: it "
         "listens on %d, which the workload exposes", v, def->default_port);
    return def->default_port;
}

static bool listens_everywhere(const char *v)
{
    return !strcmp(v, "0.0.0.0") || !strcmp(v, "::") || !strcmp(v, "*") ||
           !strcmp(v, "[::]");
}

/* the server listens on every interface of the pod, where Run:ai routes */
static int server_host(ctx *c, analysis *x, const s2r_server_def *def,
                       size_t from, int port)
{
    const unwrap *u = x->u;
    bool att = false;
    size_t hi = s2r_server_find_opt(u->words, u->n, from, def->host_opts,
                                    &att);
    char buf[64];
    if (hi < u->n) {
        const sh_word *w = &u->words[hi];
        const char *v = opt_val(w, att);
        if (def->host_port) {
            const char *colon = strrchr(v, ':');
            int p = w->literal && colon ? port_number(colon + 1) : 0;
            if (p && (size_t)(colon - v) == 7 && !strncmp(v, "0.0.0.0", 7))
                return p;
            port = p ? p : port;
            snprintf(buf, sizeof(buf), "0.0.0.0:%d", port);
        } else if (w->literal && listens_everywhere(v)) {
            return port;
        } else {
            snprintf(buf, sizeof(buf), "0.0.0.0");
        }
        set_opt(c, x, w, att, buf);
        s2r_body__note(c, w->line,
             "%s listens on %s in the pod (was '%s'), so that "
             "Run:ai can route to it", def->name, buf, v);
        return port;
    }
    bool given = false; /* tensorboard --bind_all as written */
    for (size_t i = from; def->listen_all && i < u->n && !given; i++)
        given = u->words[i].value && !strcmp(u->words[i].value,
                                             def->listen_all);
    if (def->listen_all && !given) {
        s2r_body__ow_push(&x->ow, NULL, def->listen_all, false);
        s2r_body__note(c, x->body.stmts[x->main].line,
             "%s gets %s: by default it "
             "listens on the loopback interface only, where Run:ai cannot "
             "route", def->name, def->listen_all);
    }
    return port;
}

/* printed ssh-tunnel instructions (echo, printf, cat <<EOF) */
static void drop_tunnel_text(ctx *c, analysis *a, int port)
{
    for (size_t i = 0; i < a->body.n; i++) {
        const sh_stmt *st = &a->body.stmts[i];
        if (a->kind[i] != ST_KEEP || st->compound || st->ncmds != 1)
            continue;
        const sh_word *w = s2r_body__cmd_word(&st->cmds[0]);
        const char *v = w && w->value ? s2r_body__base_name(w->value) : "";
        if (strcmp(v, "echo") && strcmp(v, "printf") && strcmp(v, "cat"))
            continue;
        if (!s2r_body__stmt_text_has(&a->body, st, "ssh ") ||
            !(s2r_body__stmt_text_has(&a->body, st, "-L") ||
              s2r_body__stmt_text_has(&a->body, st, "tunnel")))
            continue;
        char snip[160];
        s2r_body__stmt_snippet(&a->body, st, snip, sizeof(snip));
        a->kind[i] = ST_DROP;
        s2r_body__note(c, st->line,
             "dropped '%s': ssh-tunnel instructions do not "
             "apply; Run:ai exposes port %d of the workload", snip, port);
    }
}

void s2r_body__setup_server(ctx *c, analysis *a)
{
    analysis *x = a;
    while (x->inner && x->inner->main != (size_t)-1)
        x = x->inner;
    if (x->main == (size_t)-1 || x->u->lk != L_NONE || x->u->mpi)
        return;
    size_t from = 0;
    const s2r_server_def *def = s2r_server_match(x->u->words, x->u->n,
                                                 x->u->prog, &from);
    if (!def)
        return;
    s2r_job *job = c->job;
    free(job->server);
    if (!(job->server = strdup(def->name))) {
        c->oom = true;
        return;
    }
    job->serving = def->serving;
    int port = server_port(c, x, def, from);
    job->server_port = server_host(c, x, def, from, port);
    drop_tunnel_text(c, a, job->server_port);
}
