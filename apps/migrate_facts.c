/* migrate_facts.c: what one script needs from the site, for the report
 * and suggested-site.ini: the category of each warning, the absolute paths
 * it uses that no [storage] entry covers, ~/$HOME use, and the software
 * it loads (the parsed job's modules, conda environments and venvs) that
 * the pod will not have. */
#include "strv_has.h"
#include "migrate.h"

#include <stdlib.h>
#include <string.h>

/* ---- warning categories ------------------------------------------------ */

static const struct {
    const char *needle;
    const char *category;
} by_message[] = {
    {"environment modules", "software"},
    {"conda environment", "software"},
    {"virtual environment", "software"},
    {"container image", "image"},
    {"host lists", "slurm-command"},
    {"SLURM commands", "slurm-command"},
    {"SLURM_JOB_NODELIST", "slurm-command"},
    {"mounts and host variables", "storage"},
    {"storage the pod mounts", "storage"},
    {"[storage]", "storage"},
    {"data source", "storage"},
    {"image's user", "storage"},
    {"kept '", "software"},
    {"resolve to two images", "image"},
    {"locates its own file", "workdir"},
    {"submit directory", "workdir"},
    {"#SBATCH after the first command", "directive"},
    {"#SLURM to #SBATCH", "directive"},
    {"heterogeneous job", "directive"},
    {"launcher", "launcher"},
    {"srun dropped", "launcher"},
    {"rendezvous", "launcher"},
    {"working directory", "workdir"},
    {"YAML takes one node pool", "format"},
    {"a manifest for 'runai workload submit'", "format"},
    {"script body is", "size"},
    {"#! line", "shell"},
    {"is not set in the script", "environment"},
    {"by its name a secret", "environment"},
    {NULL, NULL}};

const char *mg_category(const s2r_diag *d)
{
    static const char *const gpu[] = {"gres", "gpus", "gpus-per-node",
                                      "gpus-per-task", NULL};
    static const char *const resources[] = {"mem", "nodes", "array",
                                            "mem-per-cpu", "mem-per-gpu",
                                            NULL};
    const char *o = d->option;
    if (o && !strcmp(o, "time"))
        return "time-limit";
    for (size_t i = 0; o && gpu[i]; i++)
        if (!strcmp(o, gpu[i]))
            return "gpu";
    for (size_t i = 0; o && resources[i]; i++)
        if (!strcmp(o, resources[i]))
            return "resources";
    if (o && (!strcmp(o, "constraint") || !strcmp(o, "partition")))
        return "scheduling";
    if (o)
        return "option";
    for (size_t i = 0; by_message[i].needle; i++)
        if (strstr(d->message, by_message[i].needle))
            return by_message[i].category;
    return "other";
}

/* ---- absolute paths ---------------------------------------------------- */

/* Folders every image has: not site storage. */
static bool system_path(const char *p)
{
    static const char *const sys[] = {"/bin", "/boot", "/dev", "/etc",
        "/lib", "/lib32", "/lib64", "/libx32", "/proc", "/run", "/sbin",
        "/sys", "/tmp", "/usr", "/var", NULL};
    for (size_t i = 0; sys[i]; i++) {
        size_t n = strlen(sys[i]);
        if (!strncmp(p, sys[i], n) && (p[n] == '/' || !p[n]))
            return true;
    }
    return !p[1];
}

static bool under(const char *path, const char *prefix)
{
    size_t n = strlen(prefix);
    while (n > 1 && prefix[n - 1] == '/')
        n--;
    if (n == 1 && prefix[0] == '/')
        return true;
    return !strncmp(path, prefix, n) && (path[n] == '/' || !path[n]);
}

static bool mapped(const char *path, const s2r_config *cfg)
{
    for (size_t i = 0; cfg && i < cfg->n_storage; i++)
        if (under(path, cfg->storage[i].key))
            return true;
    return false;
}

static int add_path(mg_row *r, const char *p, size_t n, const s2r_config *cfg)
{
    while (n > 1 && (p[n - 1] == '/' || p[n - 1] == '.'))
        n--;
    char *path = strndup(p, n);
    if (!path)
        return S2R_ENOMEM;
    int rc = S2R_OK;
    if (n > 1 && path[1] != '/' && !system_path(path) &&
        !mapped(path, cfg) && !s2r_strv_has(&r->paths, path))
        rc = s2r_strv_push(&r->paths, path);
    free(path);
    return rc;
}

static bool path_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || strchr("_.+@%-/", c);
}

/* Absolute paths in one body line: a '/' where a word, a value (=) or a
 * quoted string starts. */
static int scan_line(mg_row *r, const char *p, const char *e,
                     const s2r_config *cfg)
{
    for (const char *q = p; q < e; q++) {
        if (*q != '/' || (q > p && !strchr(" \t\"'=(,;|&<>`", q[-1])))
            continue;
        const char *s = q;
        while (q < e && path_char(*q))
            q++;
        if (add_path(r, s, (size_t)(q - s), cfg))
            return S2R_ENOMEM;
        if (q > s)
            q--;
    }
    return S2R_OK;
}

static bool uses_home(const char *p, const char *e)
{
    for (const char *q = p; q < e; q++) {
        if (*q == '~' && (q == p || strchr(" \t\"'=:", q[-1])) &&
            (q + 1 == e || q[1] == '/' || q[1] == ' ' || q[1] == '"'))
            return true;
        if (*q == '$' && ((size_t)(e - q) >= 5 && !strncmp(q, "$HOME", 5)))
            return true;
        if (*q == '$' && ((size_t)(e - q) >= 7 && !strncmp(q, "${HOME}", 7)))
            return true;
    }
    return false;
}

/* [site] home "/home/%u" -> "/home": the folder all homes are in. */
static char *home_root(const char *home)
{
    const char *u = strstr(home, "%u");
    size_t n = u ? (size_t)(u - home) : strlen(home);
    while (n > 1 && home[n - 1] != '/' && u)
        n--;
    while (n > 1 && home[n - 1] == '/')
        n--;
    return strndup(home, n);
}

static bool comment_or_module(const char *p, const char *e)
{
    while (p < e && (*p == ' ' || *p == '\t'))
        p++;
    return p == e || *p == '#' ||
           ((size_t)(e - p) > 7 && !strncmp(p, "module ", 7)) ||
           ((size_t)(e - p) > 3 && !strncmp(p, "ml ", 3));
}

static int body_paths(mg_row *r, const char *buf, size_t len,
                      const s2r_config *cfg, bool *home)
{
    const char *p = buf, *end = buf + len;
    bool body = false;
    for (; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *e = nl ? nl : end;
        if (!body && !comment_or_module(p, e))
            body = true;
        if (body && !comment_or_module(p, e)) {
            if (scan_line(r, p, e, cfg))
                return S2R_ENOMEM;
            *home = *home || uses_home(p, e);
        }
        p = nl ? nl + 1 : end;
    }
    return S2R_OK;
}

/* ---- software ---------------------------------------------------------- */

static int add_software(mg_row *r, const char *kind, const char *name)
{
    char *key = NULL;
    if (!name || !*name || asprintf(&key, "%s\t%s", kind, name) < 0)
        return key || !name || !*name ? S2R_OK : S2R_ENOMEM;
    int rc = s2r_strv_has(&r->software, key) ? S2R_OK
                                          : s2r_strv_push(&r->software, key);
    free(key);
    return rc;
}

/* A module [modules] maps to an image (NAME/VERSION, else NAME). */
static bool module_mapped(const char *m, const s2r_config *cfg)
{
    if (!cfg)
        return false;
    const char *img = s2r_config_map(cfg->modules, cfg->n_modules, m);
    const char *slash = strchr(m, '/');
    if (!img && slash) {
        char *name = strndup(m, (size_t)(slash - m));
        img = name ? s2r_config_map(cfg->modules, cfg->n_modules, name) : NULL;
        free(name);
    }
    return img && *img;
}

/* A dropped set-up of this kind was reported (its warning names it). */
static bool dropped(const mg_row *r, const char *what)
{
    for (size_t i = 0; i < r->nw; i++)
        if (!r->w[i].error && strstr(r->w[i].message, "dropped") &&
            strstr(r->w[i].message, what))
            return true;
    return false;
}

/* The software the job loads (s2r_job.modules, conda_envs, venvs) that
 * the pod does not have: modules [modules] maps to no image, conda
 * environments and venvs whose set-up was dropped. */
static int software(mg_row *r, const s2r_job *job, const s2r_config *cfg)
{
    int rc = S2R_OK;
    for (size_t i = 0; rc == S2R_OK && i < job->modules.n; i++)
        if (!module_mapped(job->modules.v[i], cfg))
            rc = add_software(r, "module", job->modules.v[i]);
    bool conda = dropped(r, "conda");
    for (size_t i = 0; conda && rc == S2R_OK && i < job->conda_envs.n; i++)
        rc = add_software(r, "conda", job->conda_envs.v[i]);
    bool venv = dropped(r, "virtual environment") || dropped(r, "venv");
    for (size_t i = 0; venv && rc == S2R_OK && i < job->venvs.n; i++)
        rc = add_software(r, "venv", job->venvs.v[i]);
    return rc;
}

int mg_facts(mg_row *r, const char *buf, size_t len, const s2r_config *cfg,
             const s2r_conversion *conv)
{
    static const char *const path_opts[] = {"chdir", "output", "error",
                                            "input", NULL};
    const s2r_job *job = &conv->job;
    for (size_t i = 0; conv->have_workload && i < job->n_directives; i++) {
        const s2r_directive *d = &job->directives[i];
        for (size_t k = 0; path_opts[k]; k++)
            if (!strcmp(d->name, path_opts[k]) && d->value &&
                d->value[0] == '/' &&
                scan_line(r, d->value, d->value + strlen(d->value), cfg))
                return S2R_ENOMEM;
    }
    bool home = false;
    if (body_paths(r, buf, len, cfg, &home))
        return S2R_ENOMEM;
    if (home && cfg && cfg->home) {
        char *root = home_root(cfg->home);
        int rc = root ? add_path(r, root, strlen(root), cfg) : S2R_ENOMEM;
        free(root);
        if (rc)
            return rc;
    } else if (home) {
        r->uses_home = true;
    }
    return software(r, job, cfg);
}
