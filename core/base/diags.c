/* util.c: diagnostics, string and environment vectors, lifetime of the
 * core structs. */
#include <s2r/s2r.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *xstrdup(const char *s)
{
    return s ? strdup(s) : NULL;
}

int s2r_diags_add(s2r_diags *d, s2r_severity sev, const char *file, int line,
                  const char *option, const char *fmt, ...)
{
    if (!d)
        return S2R_OK;
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 8;
        s2r_diag *v = realloc(d->v, cap * sizeof(*v));
        if (!v)
            return S2R_ENOMEM;
        d->v = v;
        d->cap = cap;
    }
    va_list ap;
    va_start(ap, fmt);
    char *msg = NULL;
    int rc = vasprintf(&msg, fmt, ap);
    va_end(ap);
    if (rc < 0)
        return S2R_ENOMEM;
    s2r_diag *dg = &d->v[d->n++];
    dg->severity = sev;
    dg->file = xstrdup(file);
    dg->line = line;
    dg->option = xstrdup(option);
    dg->message = msg;
    return S2R_OK;
}

size_t s2r_diags_count(const s2r_diags *d, s2r_severity sev)
{
    size_t n = 0;
    for (size_t i = 0; d && i < d->n; i++)
        n += d->v[i].severity == sev;
    return n;
}

bool s2r_diags_has_option(const s2r_diags *d, const char *option)
{
    for (size_t i = 0; d && i < d->n; i++)
        if (d->v[i].severity >= S2R_SEV_WARNING && d->v[i].option &&
            strcmp(d->v[i].option, option) == 0)
            return true;
    return false;
}

char *s2r_diag_format(const s2r_diag *dg)
{
    static const char *const names[] = {"note", "warning", "error"};
    char *out = NULL;
    const char *file = dg->file ? dg->file : "s2r";
    int rc;
    if (dg->line > 0)
        rc = asprintf(&out, "%s:%d: %s: %s", file, dg->line,
                      names[dg->severity], dg->message);
    else
        rc = asprintf(&out, "%s: %s: %s", file, names[dg->severity],
                      dg->message);
    return rc < 0 ? NULL : out;
}

void s2r_diags_clear(s2r_diags *d)
{
    for (size_t i = 0; d && i < d->n; i++) {
        free(d->v[i].file);
        free(d->v[i].option);
        free(d->v[i].message);
    }
    if (d) {
        free(d->v);
        memset(d, 0, sizeof(*d));
    }
}

int s2r_error_set(s2r_error *err, int code, const char *fmt, ...)
{
    if (!err)
        return code;
    err->code = code;
    err->http_status = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
    return code;
}

int s2r_strv_push(s2r_strv *sv, const char *s)
{
    if (sv->n + 1 >= sv->cap) {
        size_t cap = sv->cap ? sv->cap * 2 : 8;
        char **v = realloc(sv->v, cap * sizeof(*v));
        if (!v)
            return S2R_ENOMEM;
        sv->v = v;
        sv->cap = cap;
    }
    char *c = strdup(s);
    if (!c)
        return S2R_ENOMEM;
    sv->v[sv->n++] = c;
    sv->v[sv->n] = NULL;
    return S2R_OK;
}

void s2r_strv_clear(s2r_strv *sv)
{
    for (size_t i = 0; i < sv->n; i++)
        free(sv->v[i]);
    free(sv->v);
    memset(sv, 0, sizeof(*sv));
}

int s2r_envv_set(s2r_envv *ev, const char *name, const char *value)
{
    for (size_t i = 0; i < ev->n; i++) {
        if (strcmp(ev->v[i].name, name) == 0) {
            char *c = strdup(value);
            if (!c)
                return S2R_ENOMEM;
            free(ev->v[i].value);
            ev->v[i].value = c;
            return S2R_OK;
        }
    }
    if (ev->n == ev->cap) {
        size_t cap = ev->cap ? ev->cap * 2 : 8;
        s2r_env *v = realloc(ev->v, cap * sizeof(*v));
        if (!v)
            return S2R_ENOMEM;
        ev->v = v;
        ev->cap = cap;
    }
    ev->v[ev->n].name = strdup(name);
    ev->v[ev->n].value = strdup(value);
    if (!ev->v[ev->n].name || !ev->v[ev->n].value) {
        free(ev->v[ev->n].name);
        free(ev->v[ev->n].value);
        return S2R_ENOMEM;
    }
    ev->n++;
    return S2R_OK;
}

const char *s2r_envv_get(const s2r_envv *ev, const char *name)
{
    for (size_t i = 0; i < ev->n; i++)
        if (strcmp(ev->v[i].name, name) == 0)
            return ev->v[i].value;
    return NULL;
}

void s2r_envv_clear(s2r_envv *ev)
{
    for (size_t i = 0; i < ev->n; i++) {
        free(ev->v[i].name);
        free(ev->v[i].value);
    }
    free(ev->v);
    memset(ev, 0, sizeof(*ev));
}

static void free_strlist(char **l)
{
    for (size_t i = 0; l && l[i]; i++)
        free(l[i]);
    free(l);
}

void s2r_job_free(s2r_job *job)
{
    if (!job)
        return;
    free(job->file);
    free(job->job_name);
    free(job->gpu_type);
    if (job->array) {
        free(job->array->indices);
        free(job->array);
    }
    free(job->chdir);
    free_strlist(job->partitions);
    free(job->account);
    s2r_envv_clear(&job->export_env);
    free(job->export_mode);
    free(job->container_image);
    for (size_t i = 0; i < job->n_directives; i++) {
        free(job->directives[i].name);
        free(job->directives[i].value);
    }
    free(job->directives);
    free(job->image);
    free(job->workdir);
    s2r_envv_clear(&job->env);
    s2r_strv_clear(&job->command_tokens);
    s2r_strv_clear(&job->run_argv);
    free(job->run_shell);
    s2r_strv_clear(&job->launcher_argv);
    s2r_envv_clear(&job->slurm_env);
    free(job->shebang_shell);
    free(job->server);
    memset(job, 0, sizeof(*job));
}

void s2r_workload_free(s2r_workload *wl)
{
    if (!wl)
        return;
    free(wl->name);
    free(wl->source);
    free(wl->project);
    free(wl->image);
    free(wl->workdir);
    s2r_envv_clear(&wl->env);
    s2r_strv_clear(&wl->command);
    s2r_strv_clear(&wl->launcher_command);
    free_strlist(wl->node_pools);
    free(wl->node_type);
    free(wl->priority);
    free(wl->preemptibility);
    free(wl->array_indices);
    free(wl->server);
    memset(wl, 0, sizeof(*wl));
}

char *s2r_dns_label(const char *name)
{
    size_t n = strlen(name);
    char *out = malloc(n + 8);
    if (!out)
        return NULL;
    size_t o = 0;
    bool dash = false;
    for (size_t i = 0; i < n && o < 63; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c - 'A' + 'a');
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
            if (dash && o > 0)
                out[o++] = '-';
            dash = false;
            if (o < 63)
                out[o++] = (char)c;
        } else {
            dash = true;
        }
    }
    while (o > 0 && out[o - 1] == '-')
        o--;
    out[o] = '\0';
    if (o == 0 || !(out[0] >= 'a' && out[0] <= 'z')) {
        /* a label must start with a letter */
        char *p = malloc(o + 8);
        if (!p) {
            free(out);
            return NULL;
        }
        snprintf(p, o + 8, "job%s%s", o ? "-" : "", out);
        free(out);
        out = p;
        o = strlen(out);
        if (o > 63) {
            out[63] = '\0';
            o = 63;
        }
        while (o > 0 && out[o - 1] == '-')
            out[--o] = '\0';
    }
    return out;
}
