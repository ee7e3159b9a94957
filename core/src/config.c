/* config.c: site configuration from s2r.ini ([runai], [partitions],
 * [constraints]) read with inih. */
#include "s2r.h"
#include "config.h"

#include <ini.h>
#include <stdlib.h>
#include <string.h>

#define S2R_DEFAULT_IMAGE "nvcr.io/nvidia/pytorch:24.05-py3"

void s2r_config_defaults(s2r_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->default_image = strdup(S2R_DEFAULT_IMAGE);
    cfg->time_limit = strdup("warn");
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
    memset(cfg, 0, sizeof(*cfg));
}

const char *s2r_config_map(const s2r_map_entry *m, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(m[i].key, key) == 0)
            return m[i].value;
    return NULL;
}

static int map_put(s2r_map_entry **m, size_t *n, const char *k, const char *v)
{
    s2r_map_entry *nm = realloc(*m, (*n + 1) * sizeof(**m));
    if (!nm)
        return 0;
    *m = nm;
    nm[*n].key = strdup(k);
    nm[*n].value = strdup(v);
    (*n)++;
    return 1;
}

struct load_ctx {
    s2r_config *cfg;
    s2r_diags *diags;
    const char *path;
};

static int set_str(char **slot, const char *v)
{
    free(*slot);
    *slot = *v ? strdup(v) : NULL;
    return 1;
}

static int one_of(const char *v, const char *const *allowed)
{
    for (size_t i = 0; allowed[i]; i++)
        if (strcmp(v, allowed[i]) == 0)
            return 1;
    return 0;
}

static const char *const priorities[] = {"very-low", "low", "medium-low",
    "medium", "medium-high", "high", "very-high", NULL};
static const char *const preemptibilities[] = {"preemptible",
    "non-preemptible", NULL};
static const char *const time_policies[] = {"warn", "timeout", NULL};
static const char *const formats[] = {"cli", "yaml", "json", NULL};

static int on_kv(void *user, const char *section, const char *name,
                 const char *value, int lineno)
{
    struct load_ctx *lc = user;
    s2r_config *cfg = lc->cfg;
    if (strcmp(section, "partitions") == 0)
        return map_put(&cfg->partitions, &cfg->n_partitions, name, value);
    if (strcmp(section, "constraints") == 0)
        return map_put(&cfg->constraints, &cfg->n_constraints, name, value);
    if (strcmp(section, "runai") == 0) {
        if (strcmp(name, "project") == 0)
            return set_str(&cfg->project, value);
        if (strcmp(name, "default_image") == 0)
            return set_str(&cfg->default_image, value);
        if (strcmp(name, "priority") == 0 || strcmp(name, "preemptibility") == 0 ||
            strcmp(name, "time_limit") == 0) {
            const char *const *allowed = name[0] == 'p' && name[1] == 'r' &&
                    name[2] == 'i' ? priorities
                : name[0] == 'p' ? preemptibilities : time_policies;
            if (*value && !one_of(value, allowed)) {
                s2r_diags_add(lc->diags, S2R_SEV_ERROR, lc->path, lineno, NULL,
                              "[runai] %s: '%s' is not one of the accepted values",
                              name, value);
                return 1;
            }
            char **slot = strcmp(name, "priority") == 0 ? &cfg->priority
                : strcmp(name, "preemptibility") == 0 ? &cfg->preemptibility
                : &cfg->time_limit;
            return set_str(slot, value);
        }
    } else if (strcmp(section, "core") == 0) {
        if (strcmp(name, "provider") == 0)
            return set_str(&cfg->provider, value);
        if (strcmp(name, "format") == 0) {
            if (!one_of(value, formats)) {
                s2r_diags_add(lc->diags, S2R_SEV_ERROR, lc->path, lineno, NULL,
                              "[core] format: '%s' is not cli, yaml or json",
                              value);
                return 1;
            }
            return set_str(&cfg->format, value);
        }
        return 1; /* other [core] keys belong to the plugin framework */
    } else {
        return 1; /* plugin sections are validated by the plugin framework */
    }
    s2r_diags_add(lc->diags, S2R_SEV_ERROR, lc->path, lineno, NULL,
                  "[%s] unknown key '%s'", section, name);
    return 1;
}

int s2r_config_load(s2r_config *cfg, const char *path, s2r_diags *diags)
{
    struct load_ctx lc = {cfg, diags, path};
    size_t errors_before = s2r_diags_count(diags, S2R_SEV_ERROR);
    int rc = ini_parse(path, on_kv, &lc);
    if (rc == -1) {
        s2r_diags_add(diags, S2R_SEV_ERROR, path, 0, NULL,
                      "cannot open configuration file");
        return S2R_ENOTFOUND;
    }
    if (rc == -2)
        return S2R_ENOMEM;
    if (rc > 0)
        s2r_diags_add(diags, S2R_SEV_ERROR, path, rc, NULL,
                      "syntax error in configuration file");
    set_str(&cfg->config_file, path);
    return s2r_diags_count(diags, S2R_SEV_ERROR) > errors_before ? S2R_EINVAL
                                                                 : S2R_OK;
}
