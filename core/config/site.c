/* site.c: the site configuration s2r_config: defaults, the core
 * sections' option tables ([core], [runai], [site]) and the maps
 * ([partitions], [constraints], [storage], [accounts], [qos], [modules]),
 * filled from an INI (see config.h); [storage] is parsed in storage.c. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S2R_DEFAULT_IMAGE "nvcr.io/nvidia/pytorch:24.05-py3"

void s2r_config_defaults(s2r_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->default_image = strdup(S2R_DEFAULT_IMAGE);
    cfg->time_limit = strdup("warn");
    cfg->uid = -1;
    cfg->gid = -1;
}

static void free_map(s2r_map_entry *m, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(m[i].key);
        free(m[i].value);
    }
    free(m);
}

void s2r_config_free(s2r_config *cfg)
{
    if (!cfg)
        return;
    free(cfg->project);
    free(cfg->default_image);
    free(cfg->priority);
    free(cfg->preemptibility);
    free(cfg->time_limit);
    free(cfg->format);
    free(cfg->provider);
    free(cfg->config_file);
    free_map(cfg->partitions, cfg->n_partitions);
    free_map(cfg->constraints, cfg->n_constraints);
    free_map(cfg->storage, cfg->n_storage);
    free_map(cfg->accounts, cfg->n_accounts);
    free_map(cfg->qos, cfg->n_qos);
    free_map(cfg->modules, cfg->n_modules);
    free(cfg->home);
    free(cfg->submit_dir);
    s2r_volumes_free(cfg->volumes, cfg->n_volumes);
    free(cfg->run_as);
    free(cfg->user);
    free(cfg->groups);
    memset(cfg, 0, sizeof(*cfg));
}

const char *s2r_config_map(const s2r_map_entry *m, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(m[i].key, key) == 0)
            return m[i].value;
    return NULL;
}

static const char *const priorities[] = {"very-low", "low", "medium-low",
    "medium", "medium-high", "high", "very-high", NULL};
static const char *const preemptibilities[] = {"preemptible",
    "non-preemptible", NULL};
static const char *const time_policies[] = {"warn", "timeout", NULL};
static const char *const formats[] = {"cli", "yaml", "json", NULL};
static const char *const log_levels[] = {"error", "warn", "info", "debug",
    NULL};

static const s2r_option core_options[] = {
    {"provider", S2R_OPT_STRING, 0, NULL, 0, 0, NULL, S2R_OPT_NO_BIND,
     "Provider instance converting scripts: the id of a [provider.<id>] "
     "section, or rules (built in, the default)."},
    {"format", S2R_OPT_ENUM, 0, "cli", 0, 0, formats, S2R_OPT_NO_BIND,
     "Default output format."},
    {"plugin_dir", S2R_OPT_STRING, 0, NULL, 0, 0, NULL, S2R_OPT_NO_BIND,
     "Directory searched for s2r-<name>.so after --plugin-dir (':' "
     "separates several)."},
    {"log_level", S2R_OPT_ENUM, 0, "warn", 0, 0, log_levels, S2R_OPT_NO_BIND,
     "Most verbose log level printed."},
    S2R_OPTION_END};

/* empty values mean "unset" in [runai], so they are checked separately */
static const s2r_option runai_options[] = {
    {"project", S2R_OPT_STRING, 0, NULL, 0, 0, NULL, S2R_OPT_NO_BIND,
     "Fixed Run:ai project; empty: $RUNAI_PROJECT at submit time."},
    {"default_image", S2R_OPT_STRING, 0, S2R_DEFAULT_IMAGE, 0, 0, NULL,
     S2R_OPT_NO_BIND, "Image used when the script names no container."},
    {"priority", S2R_OPT_ENUM, 0, NULL, 0, 0, priorities, S2R_OPT_NO_BIND,
     "Run:ai priority class of every workload."},
    {"preemptibility", S2R_OPT_ENUM, 0, NULL, 0, 0, preemptibilities,
     S2R_OPT_NO_BIND, "Preemptibility of every workload."},
    {"time_limit", S2R_OPT_ENUM, 0, "warn", 0, 0, time_policies,
     S2R_OPT_NO_BIND,
     "What --time becomes where Run:ai has no field: warn, or wrap the "
     "command in timeout."},
    S2R_OPTION_END};

static const char *const run_as_values[] = {"user", "image", NULL};

static const s2r_option site_options[] = {
    {"home", S2R_OPT_STRING, 0, NULL, 0, 0, NULL, S2R_OPT_NO_BIND,
     "Where users' home folders are on the SLURM cluster (%u = the user "
     "name): what ~ and $HOME mean in a script."},
    {"run_as", S2R_OPT_ENUM, 0, NULL, 0, 0, run_as_values, S2R_OPT_NO_BIND,
     "Who the pods run as: user (the script owner's UID, GID and groups, "
     "as SLURM runs jobs) or image (the image's user). Default: user when "
     "[storage] maps a shared file system, else image."},
    {"user", S2R_OPT_STRING, 0, NULL, 0, 0, NULL, S2R_OPT_NO_BIND,
     "The script owner's user name (%u, HOME). Default: the local user; "
     "s2r serve and s2r lambda never use their own."},
    {"uid", S2R_OPT_INT, 0, NULL, 0, 2147483647, NULL, S2R_OPT_NO_BIND,
     "The script owner's UID. Default: the local user's; s2r serve and s2r "
     "lambda never use their own."},
    {"gid", S2R_OPT_INT, 0, NULL, 0, 2147483647, NULL, S2R_OPT_NO_BIND,
     "The script owner's primary GID. Default: the local user's."},
    {"groups", S2R_OPT_STRING, 0, NULL, 0, 0, NULL, S2R_OPT_NO_BIND,
     "The script owner's supplementary group ids, comma-separated "
     "(1000,1001). Default: the local user's."},
    {"slurm_log", S2R_OPT_BOOL, 0, "true", 0, 0, NULL, S2R_OPT_NO_BIND,
     "Without -o and -e, write slurm-%j.out (slurm-%A_%a.out for an "
     "array) in the working directory, as sbatch does; false: the "
     "container log only."},
    S2R_OPTION_END};

const s2r_option *s2r_config_core_options(const char *section)
{
    if (strcmp(section, "site") == 0)
        return site_options;
    if (strcmp(section, "core") == 0)
        return core_options;
    if (strcmp(section, "runai") == 0)
        return runai_options;
    return NULL;
}

static int set_str(char **slot, const char *v)
{
    char *n = NULL;
    if (v && *v && !(n = strdup(v)))
        return S2R_ENOMEM;
    free(*slot);
    *slot = n;
    return S2R_OK;
}

static int map_put(s2r_map_entry **m, size_t *n, const char *k, const char *v)
{
    if (s2r_grow((void **)m, *n, sizeof(**m)))
        return S2R_ENOMEM;
    s2r_map_entry *nm = *m;
    nm[*n].key = strdup(k);
    nm[*n].value = strdup(v);
    if (!nm[*n].key || !nm[*n].value) {
        free(nm[*n].key);
        free(nm[*n].value);
        return S2R_ENOMEM;
    }
    (*n)++;
    return S2R_OK;
}

/* validate a section against a table; empty values stand for "unset" */
static int check_section(const s2r_ini_section *sec, const s2r_option *opts,
                         const char *file, s2r_diags *diags)
{
    s2r_ini_section copy = *sec;
    s2r_ini_entry *kept = calloc(sec->n ? sec->n : 1, sizeof(*kept));
    if (!kept)
        return S2R_ENOMEM;
    copy.n = 0;
    for (size_t i = 0; i < sec->n; i++)
        if (sec->v[i].value[0])
            kept[copy.n++] = sec->v[i];
    copy.v = kept;
    int rc = s2r_options_apply(opts, 0, &copy, file, NULL, NULL, diags, NULL);
    free(kept);
    return rc;
}

/* The map a free-key section fills: [storage], [accounts], [qos],
 * [modules], [partitions], [constraints]; false for other sections. */
static bool section_map(s2r_config *cfg, const char *section,
                        s2r_map_entry ***map, size_t **nmap)
{
    if (!strcmp(section, "storage"))
        *map = &cfg->storage, *nmap = &cfg->n_storage;
    else if (!strcmp(section, "accounts"))
        *map = &cfg->accounts, *nmap = &cfg->n_accounts;
    else if (!strcmp(section, "qos"))
        *map = &cfg->qos, *nmap = &cfg->n_qos;
    else if (!strcmp(section, "modules"))
        *map = &cfg->modules, *nmap = &cfg->n_modules;
    else if (!strcmp(section, "partitions"))
        *map = &cfg->partitions, *nmap = &cfg->n_partitions;
    else if (!strcmp(section, "constraints"))
        *map = &cfg->constraints, *nmap = &cfg->n_constraints;
    else
        return false;
    return true;
}

/* One key of [runai] or [core] whose value parsed (check_section reports
 * the others) into @p cfg. @return S2R_OK or S2R_ENOMEM. */
static int set_core_key(s2r_config *cfg, bool is_runai, const char *key,
                        const char *val)
{
    if (is_runai && !strcmp(key, "project"))
        return set_str(&cfg->project, val);
    if (is_runai && !strcmp(key, "default_image"))
        return set_str(&cfg->default_image, val);
    if (is_runai && !strcmp(key, "priority"))
        return set_str(&cfg->priority, val);
    if (is_runai && !strcmp(key, "preemptibility"))
        return set_str(&cfg->preemptibility, val);
    if (is_runai && !strcmp(key, "time_limit"))
        return set_str(&cfg->time_limit, *val ? val : "warn");
    if (!is_runai && !strcmp(key, "provider"))
        return set_str(&cfg->provider, val);
    if (!is_runai && !strcmp(key, "format"))
        return set_str(&cfg->format, val);
    return S2R_OK;
}

/* True when @p v is no Run:ai priority class. */
static bool not_a_priority(const char *v)
{
    for (size_t p = 0; priorities[p]; p++)
        if (!strcmp(v, priorities[p]))
            return false;
    return true;
}

/* A comma-separated list of group ids ("1000,1001"). */
bool s2r_config_groups_ok(const char *v)
{
    if (!*v)
        return true;
    for (const char *p = v;; p++) {
        size_t n = strspn(p, "0123456789");
        if (n == 0 || n > 10)
            return false;
        p += n;
        if (!*p)
            return true;
        if (*p != ',')
            return false;
    }
}

/* One key of [site] whose value parsed (check_section reports the
 * others). @return S2R_OK or S2R_ENOMEM. */
static int set_site_key(s2r_config *cfg, const char *key, const char *val)
{
    s2r_optval v = {0};
    const s2r_option *o = s2r_options_find(site_options, key);
    if (!o || (*val && s2r_option_parse(o, val, &v, NULL, 0)))
        return S2R_OK;
    if (!strcmp(key, "home"))
        return set_str(&cfg->home, val);
    if (!strcmp(key, "run_as"))
        return set_str(&cfg->run_as, val);
    if (!strcmp(key, "user"))
        return set_str(&cfg->user, val);
    if (!strcmp(key, "uid"))
        cfg->uid = *val ? v.i : -1;
    else if (!strcmp(key, "gid"))
        cfg->gid = *val ? v.i : -1;
    else if (!strcmp(key, "groups") && s2r_config_groups_ok(val))
        return set_str(&cfg->groups, val);
    else if (!strcmp(key, "slurm_log"))
        cfg->no_slurm_log = *val && !v.i;
    return S2R_OK;
}

/* [site] groups and [qos] values that do not parse: errors with file and
 * line. @return S2R_OK or S2R_ENOMEM. */
static int check_values(const s2r_ini_section *sec, const char *file,
                        s2r_diags *diags)
{
    bool qos = !strcmp(sec->name, "qos");
    bool site = !strcmp(sec->name, "site");
    for (size_t k = 0; (qos || site) && k < sec->n; k++) {
        const s2r_ini_entry *e = &sec->v[k];
        if (qos && *e->value && not_a_priority(e->value) &&
            s2r_diags_add(diags, S2R_SEV_ERROR, file, e->line, e->key,
                          "[qos] %s = %s: the value is a Run:ai priority "
                          "class: very-low, low, medium-low, medium, "
                          "medium-high, high or very-high",
                          e->key, e->value))
            return S2R_ENOMEM;
        if (site && !strcmp(e->key, "groups") && !s2r_config_groups_ok(e->value) &&
            s2r_diags_add(diags, S2R_SEV_ERROR, file, e->line, e->key,
                          "[site] groups = %s: write the group ids "
                          "comma-separated (1000,1001)", e->value))
            return S2R_ENOMEM;
    }
    return S2R_OK;
}

/* Check a core section against its table and fill @p cfg from it.
 * @return S2R_OK or S2R_ENOMEM (problems are in @p diags). */
static int apply_core_section(s2r_config *cfg, const s2r_ini_section *sec,
                              const char *file, s2r_diags *diags)
{
    const s2r_option *opts = s2r_config_core_options(sec->name);
    if (opts && check_section(sec, opts, file, diags) == S2R_ENOMEM)
        return S2R_ENOMEM;
    if (check_values(sec, file, diags) == S2R_ENOMEM)
        return S2R_ENOMEM;
    if (!strcmp(sec->name, "storage") &&
        s2r_config__storage(cfg, sec, file, diags) == S2R_ENOMEM)
        return S2R_ENOMEM;
    s2r_map_entry **map = NULL;
    size_t *nmap = NULL;
    bool is_map = section_map(cfg, sec->name, &map, &nmap);
    bool is_site = strcmp(sec->name, "site") == 0;
    bool is_qos = strcmp(sec->name, "qos") == 0;
    bool is_runai = strcmp(sec->name, "runai") == 0;
    bool is_core = strcmp(sec->name, "core") == 0;
    for (size_t k = 0; k < sec->n; k++) {
        const char *key = sec->v[k].key, *val = sec->v[k].value;
        int rc = S2R_OK;
        if (is_qos && *val && not_a_priority(val))
            continue; /* reported by check_values */
        if (is_map) {
            rc = map_put(map, nmap, key, val);
        } else if (is_site) {
            rc = set_site_key(cfg, key, val);
        } else if (is_runai || is_core) {
            const s2r_option *o = s2r_options_find(opts, key);
            s2r_optval v;
            if (!o || (*val && s2r_option_parse(o, val, &v, NULL, 0)))
                continue; /* reported by check_section */
            rc = set_core_key(cfg, is_runai, key, val);
        }
        if (rc)
            return rc;
    }
    return S2R_OK;
}

int s2r_config_apply(s2r_config *cfg, const s2r_ini *ini, s2r_diags *diags)
{
    const size_t errors_before = s2r_diags_count(diags, S2R_SEV_ERROR);
    const char *file = ini->path;
    /* where the configuration came from (the answer cache keys on it) */
    if (file && !cfg->config_file && set_str(&cfg->config_file, file))
        return S2R_ENOMEM;
    for (size_t i = 0; i < ini->n; i++) {
        const s2r_ini_section *sec = &ini->v[i];
        int kind = s2r_config_section_kind(sec->name, NULL, NULL);
        if (kind == S2R_SECTION_UNKNOWN) {
            s2r_diags_add(diags, S2R_SEV_ERROR, file, sec->line, NULL,
                          "[%s] unknown section; valid sections: core, "
                          "runai, site, partitions, constraints, storage, "
                          "accounts, qos, modules, server, lambda, "
                          "provider.<id>, ratelimit.<id>, auth.<id>",
                          sec->name);
            continue;
        }
        if (kind == S2R_SECTION_CORE &&
            apply_core_section(cfg, sec, file, diags) == S2R_ENOMEM)
            return S2R_ENOMEM;
    }
    return s2r_diags_count(diags, S2R_SEV_ERROR) > errors_before ? S2R_EINVAL
                                                                 : S2R_OK;
}

int s2r_config_load(s2r_config *cfg, const char *path, s2r_diags *diags)
{
    s2r_ini ini = {0};
    int rc = s2r_ini_read(&ini, path, diags);
    if (rc == S2R_ENOTFOUND || rc == S2R_ENOMEM) {
        s2r_ini_free(&ini);
        return rc;
    }
    int arc = s2r_config_apply(cfg, &ini, diags);
    s2r_ini_free(&ini);
    if (arc == S2R_ENOMEM)
        return arc;
    if (set_str(&cfg->config_file, path))
        return S2R_ENOMEM;
    return rc != S2R_OK ? rc : arc;
}
