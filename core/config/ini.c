/* config.c: the site configuration s2r.ini, read with inih.
 *
 * inih calls our line reader, so every physical line passes through here
 * first: that is where over-long lines, malformed lines and section headers
 * (duplicates, empty sections) are seen with their line numbers. */
#include <s2r/s2r.h>
#include "config.h"
#include "options.h"

#include <ctype.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S2R_DEFAULT_IMAGE "nvcr.io/nvidia/pytorch:24.05-py3"
/* inih truncates section and key names to 50 bytes (MAX_SECTION/MAX_NAME) */
#define S2R_INI_NAME_MAX 49
#define S2R_INI_FILE_MAX (1024 * 1024)

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
    free_map(cfg->storage, cfg->n_storage);
    free_map(cfg->accounts, cfg->n_accounts);
    free_map(cfg->qos, cfg->n_qos);
    free_map(cfg->modules, cfg->n_modules);
    free(cfg->home);
    free(cfg->submit_dir);
    memset(cfg, 0, sizeof(*cfg));
}

const char *s2r_config_map(const s2r_map_entry *m, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(m[i].key, key) == 0)
            return m[i].value;
    return NULL;
}

/* ------------------------------------------------------------------ */
/* s2r_ini                                                             */
/* ------------------------------------------------------------------ */

void s2r_ini_free(s2r_ini *ini)
{
    if (!ini)
        return;
    for (size_t i = 0; i < ini->n; i++) {
        s2r_ini_section *s = &ini->v[i];
        for (size_t k = 0; k < s->n; k++) {
            free(s->v[k].key);
            free(s->v[k].value);
        }
        free(s->v);
        free(s->name);
    }
    free(ini->v);
    free(ini->path);
    memset(ini, 0, sizeof(*ini));
}

const s2r_ini_section *s2r_ini_section_find(const s2r_ini *ini,
                                            const char *name)
{
    for (size_t i = 0; ini && i < ini->n; i++)
        if (strcmp(ini->v[i].name, name) == 0)
            return &ini->v[i];
    return NULL;
}

const s2r_ini_entry *s2r_ini_entry_find(const s2r_ini_section *sec,
                                        const char *key)
{
    for (size_t i = 0; sec && i < sec->n; i++)
        if (strcmp(sec->v[i].key, key) == 0)
            return &sec->v[i];
    return NULL;
}

const char *s2r_ini_get(const s2r_ini *ini, const char *section,
                        const char *key)
{
    const s2r_ini_entry *e =
        s2r_ini_entry_find(s2r_ini_section_find(ini, section), key);
    return e ? e->value : NULL;
}

struct reader {
    const char *text; /* whole file, NUL-terminated */
    size_t pos;
    int line;         /* physical line just returned */
    int indented;     /* that line began with white space */
    int skipped;      /* that line was replaced (too long / malformed) */
    int in_dup;       /* inside a duplicate section: keys ignored */
    int oom;
    s2r_ini *ini;
    s2r_diags *diags;
    const char *file;
    s2r_ini_section *cur; /* section of the last header, NULL before any */
    int last_entry_line;  /* for continuation lines */
};

static s2r_ini_section *add_section(struct reader *r, const char *name,
                                    int line)
{
    s2r_ini *ini = r->ini;
    if (ini->n == ini->cap) {
        size_t cap = ini->cap ? ini->cap * 2 : 8;
        s2r_ini_section *n = realloc(ini->v, cap * sizeof(*n));
        if (!n)
            return NULL;
        ini->v = n;
        ini->cap = cap;
    }
    s2r_ini_section *s = &ini->v[ini->n];
    memset(s, 0, sizeof(*s));
    s->name = strdup(name);
    if (!s->name)
        return NULL;
    s->line = line;
    ini->n++;
    return s;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

/* Look at one physical line before inih does. */
static void inspect(struct reader *r, char *line)
{
    char *t = trim(line);
    if (!*t || *t == ';' || *t == '#')
        return;
    if (*t == '[') {
        char *end = strchr(t, ']');
        if (!end) {
            s2r_diags_add(r->diags, S2R_SEV_ERROR, r->file, r->line, NULL,
                          "section header without ']'");
            r->skipped = 1;
            r->cur = NULL;
            r->in_dup = 1;
            return;
        }
        *end = '\0';
        const char *name = t + 1;
        if (strlen(name) > S2R_INI_NAME_MAX) {
            s2r_diags_add(r->diags, S2R_SEV_ERROR, r->file, r->line, NULL,
                          "section name longer than %d characters",
                          S2R_INI_NAME_MAX);
            r->skipped = 1;
            r->cur = NULL;
            r->in_dup = 1;
            return;
        }
        const s2r_ini_section *prev = s2r_ini_section_find(r->ini, name);
        if (prev) {
            s2r_diags_add(r->diags, S2R_SEV_ERROR, r->file, r->line, NULL,
                          "[%s] duplicate section (first at line %d); its "
                          "keys are ignored", name, (int)prev->line);
            r->in_dup = 1;
            r->cur = NULL;
            return;
        }
        r->in_dup = 0;
        r->cur = add_section(r, name, r->line);
        if (!r->cur)
            r->oom = 1;
        return;
    }
    if (r->indented && r->last_entry_line)
        return; /* continuation of the previous value */
    if (!strpbrk(t, "=:")) {
        s2r_diags_add(r->diags, S2R_SEV_ERROR, r->file, r->line, NULL,
                      "line is neither [section], key = value nor a comment");
        r->skipped = 1;
        return;
    }
    if (t[0] == '=' || t[0] == ':') {
        s2r_diags_add(r->diags, S2R_SEV_ERROR, r->file, r->line, NULL,
                      "key = value line without a key");
        r->skipped = 1;
    }
}

/* fgets-style reader handed to inih: one physical line per call */
static char *read_line(char *str, int num, void *stream)
{
    struct reader *r = stream;
    if (!r->text[r->pos])
        return NULL;
    const char *start = r->text + r->pos;
    const char *nl = strchr(start, '\n');
    size_t len = nl ? (size_t)(nl - start) : strlen(start);
    r->pos += len + (nl ? 1 : 0);
    r->line++;
    r->skipped = 0;
    size_t content = len;
    if (content && start[content - 1] == '\r')
        content--;
    /* inih needs room for "\r\n\0": lines up to num-3 characters */
    if (num < 4 || content > (size_t)num - 3) {
        s2r_diags_add(r->diags, S2R_SEV_ERROR, r->file, r->line, NULL,
                      "line is %zu characters long; the limit is %d",
                      content, num - 3);
        r->skipped = 1;
        r->indented = 0;
        r->last_entry_line = 0;
        snprintf(str, (size_t)num, ";\n");
        return str;
    }
    char *copy = strndup(start, content);
    if (!copy) {
        r->oom = 1;
        return NULL;
    }
    r->indented = content && (start[0] == ' ' || start[0] == '\t');
    inspect(r, copy);
    free(copy);
    if (r->skipped) {
        r->last_entry_line = 0;
        snprintf(str, (size_t)num, ";\n");
    } else {
        memcpy(str, start, content);
        str[content] = '\n';
        str[content + 1] = '\0';
    }
    return str;
}

static int on_entry(void *user, const char *section, const char *name,
                    const char *value)
{
    struct reader *r = user;
    if (r->oom)
        return 0;
    if (r->in_dup)
        return 1;
    if (!r->cur) {
        if (!*section) {
            s2r_diags_add(r->diags, S2R_SEV_ERROR, r->file, r->line, name,
                          "%s: key before any [section]", name);
            return 1;
        }
        return 1;
    }
    s2r_ini_section *s = r->cur;
    if (strlen(name) > S2R_INI_NAME_MAX) {
        s2r_diags_add(r->diags, S2R_SEV_ERROR, r->file, r->line, NULL,
                      "[%s] key name longer than %d characters", s->name,
                      S2R_INI_NAME_MAX);
        return 1;
    }
    for (size_t i = 0; i < s->n; i++) {
        if (strcmp(s->v[i].key, name) != 0)
            continue;
        if (r->indented && r->last_entry_line == s->v[i].line) {
            /* continuation line: append */
            size_t a = strlen(s->v[i].value), b = strlen(value);
            char *nv = realloc(s->v[i].value, a + b + 2);
            if (!nv) {
                r->oom = 1;
                return 0;
            }
            nv[a] = '\n';
            memcpy(nv + a + 1, value, b + 1);
            s->v[i].value = nv;
            return 1;
        }
        s2r_diags_add(r->diags, S2R_SEV_ERROR, r->file, r->line, name,
                      "[%s] %s: duplicate key (first at line %d)", s->name,
                      name, (int)s->v[i].line);
        return 1;
    }
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 8;
        s2r_ini_entry *n = realloc(s->v, cap * sizeof(*n));
        if (!n) {
            r->oom = 1;
            return 0;
        }
        s->v = n;
        s->cap = cap;
    }
    s2r_ini_entry *e = &s->v[s->n];
    e->key = strdup(name);
    e->value = strdup(value);
    e->line = r->line;
    if (!e->key || !e->value) {
        free(e->key);
        free(e->value);
        r->oom = 1;
        return 0;
    }
    s->n++;
    r->last_entry_line = r->line;
    return 1;
}

int s2r_ini_read_string(s2r_ini *out, const char *name, const char *text,
                        s2r_diags *diags)
{
    const size_t errors_before = s2r_diags_count(diags, S2R_SEV_ERROR);
    if (!out->path && !(out->path = strdup(name)))
        return S2R_ENOMEM;
    struct reader r = {0};
    r.text = text;
    r.ini = out;
    r.diags = diags;
    r.file = name;
    int rc = ini_parse_stream(read_line, &r, on_entry, &r);
    if (r.oom || rc == -2)
        return S2R_ENOMEM;
    if (rc > 0 && s2r_diags_count(diags, S2R_SEV_ERROR) == errors_before)
        s2r_diags_add(diags, S2R_SEV_ERROR, name, rc, NULL,
                      "syntax error in configuration file");
    return s2r_diags_count(diags, S2R_SEV_ERROR) > errors_before ? S2R_EINVAL
                                                                 : S2R_OK;
}

int s2r_ini_read(s2r_ini *out, const char *path, s2r_diags *diags)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        s2r_diags_add(diags, S2R_SEV_ERROR, path, 0, NULL,
                      "cannot open configuration file");
        return S2R_ENOTFOUND;
    }
    char *buf = malloc(S2R_INI_FILE_MAX + 1);
    if (!buf) {
        fclose(f);
        return S2R_ENOMEM;
    }
    size_t n = fread(buf, 1, S2R_INI_FILE_MAX + 1, f);
    fclose(f);
    if (n > S2R_INI_FILE_MAX) {
        free(buf);
        s2r_diags_add(diags, S2R_SEV_ERROR, path, 0, NULL,
                      "configuration file larger than 1 MiB");
        return S2R_EINVAL;
    }
    buf[n] = '\0';
    if (memchr(buf, '\0', n)) {
        free(buf);
        s2r_diags_add(diags, S2R_SEV_ERROR, path, 0, NULL,
                      "configuration file contains NUL bytes");
        return S2R_EINVAL;
    }
    int rc = s2r_ini_read_string(out, path, buf, diags);
    free(buf);
    return rc;
}

/* ------------------------------------------------------------------ */
/* core sections                                                       */
/* ------------------------------------------------------------------ */

const char *s2r_kind_name(uint32_t kind)
{
    switch (kind) {
    case S2R_KIND_PROVIDER: return "provider";
    case S2R_KIND_RATELIMIT: return "ratelimit";
    case S2R_KIND_AUTH: return "auth";
    default: return "?";
    }
}

int s2r_config_section_kind(const char *name, uint32_t *kind_out,
                            const char **id_out)
{
    static const char *const core[] = {"core", "runai", "site", "partitions",
        "constraints", "storage", "accounts", "qos", "modules", "server",
        "lambda", NULL};
    for (size_t i = 0; core[i]; i++)
        if (strcmp(name, core[i]) == 0)
            return S2R_SECTION_CORE;
    for (uint32_t k = S2R_KIND_PROVIDER; k <= S2R_KIND_AUTH; k++) {
        const char *kn = s2r_kind_name(k);
        size_t l = strlen(kn);
        if (strncmp(name, kn, l) == 0 && name[l] == '.' && name[l + 1]) {
            if (kind_out)
                *kind_out = k;
            if (id_out)
                *id_out = name + l + 1;
            return S2R_SECTION_PLUGIN;
        }
    }
    return S2R_SECTION_UNKNOWN;
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

static const s2r_option site_options[] = {
    {"home", S2R_OPT_STRING, 0, NULL, 0, 0, NULL, S2R_OPT_NO_BIND,
     "Where users' home folders are on the SLURM cluster (%u = the user "
     "name): what ~ and $HOME mean in a script."},
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
    s2r_map_entry *nm = realloc(*m, (*n + 1) * sizeof(**m));
    if (!nm)
        return S2R_ENOMEM;
    *m = nm;
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
        if (kind != S2R_SECTION_CORE)
            continue;
        const s2r_option *opts = s2r_config_core_options(sec->name);
        if (opts && check_section(sec, opts, file, diags) == S2R_ENOMEM)
            return S2R_ENOMEM;
        int is_part = strcmp(sec->name, "partitions") == 0;
        int is_cons = strcmp(sec->name, "constraints") == 0;
        s2r_map_entry **map = NULL;
        size_t *nmap = NULL;
        if (!strcmp(sec->name, "storage"))
            map = &cfg->storage, nmap = &cfg->n_storage;
        else if (!strcmp(sec->name, "accounts"))
            map = &cfg->accounts, nmap = &cfg->n_accounts;
        else if (!strcmp(sec->name, "qos"))
            map = &cfg->qos, nmap = &cfg->n_qos;
        else if (!strcmp(sec->name, "modules"))
            map = &cfg->modules, nmap = &cfg->n_modules;
        int is_runai = strcmp(sec->name, "runai") == 0;
        int is_core = strcmp(sec->name, "core") == 0;
        for (size_t k = 0; k < sec->n; k++) {
            const char *key = sec->v[k].key, *val = sec->v[k].value;
            int rc = S2R_OK;
            if (map)
                rc = map_put(map, nmap, key, val);
            else if (!strcmp(sec->name, "site") && !strcmp(key, "home"))
                rc = set_str(&cfg->home, val);
            else if (is_part)
                rc = map_put(&cfg->partitions, &cfg->n_partitions, key, val);
            else if (is_cons)
                rc = map_put(&cfg->constraints, &cfg->n_constraints, key, val);
            else if (is_runai || is_core) {
                const s2r_option *o = s2r_options_find(opts, key);
                s2r_optval v;
                if (!o || (*val && s2r_option_parse(o, val, &v, NULL, 0)))
                    continue; /* reported by check_section */
                if (is_runai && !strcmp(key, "project"))
                    rc = set_str(&cfg->project, val);
                else if (is_runai && !strcmp(key, "default_image"))
                    rc = set_str(&cfg->default_image, val);
                else if (is_runai && !strcmp(key, "priority"))
                    rc = set_str(&cfg->priority, val);
                else if (is_runai && !strcmp(key, "preemptibility"))
                    rc = set_str(&cfg->preemptibility, val);
                else if (is_runai && !strcmp(key, "time_limit"))
                    rc = set_str(&cfg->time_limit, *val ? val : "warn");
                else if (is_core && !strcmp(key, "provider"))
                    rc = set_str(&cfg->provider, val);
                else if (is_core && !strcmp(key, "format"))
                    rc = set_str(&cfg->format, val);
            }
            if (rc)
                return rc;
        }
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
