/* api_json.c: s2r_convert_json(), one rules conversion described as one
 * JSON document for language bindings (see s2r.h), and s2r_free().
 *
 * The stages are the s2r program's: the configuration (s2r_ini_read() and
 * s2r_config_apply()), the script (s2r_job_parse()), the Run:ai mapping
 * (s2r_rules_convert()) and the output (s2r_emit()). Each diagnostic
 * remembers the stage that raised it, which, with the option it names and
 * the script line it points at, gives its category (category_of()).
 */
#include "convert.h"

#include "config/config.h"
#include "runai/runai.h"

#include <json-c/json.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void s2r_free(void *p)
{
    free(p);
}

typedef enum stage {
    STAGE_USAGE,
    STAGE_CONFIG,
    STAGE_SCRIPT,
    STAGE_RULES,
    STAGE_OUTPUT
} stage;

#define MAX_SEGMENTS 8

/* One call's state. Diagnostics from index segments[k].start on (up to
 * the next segment) were raised in segments[k].stage. */
typedef struct run {
    const s2r_convert_request *req;
    s2r_ini ini;
    s2r_config cfg;
    s2r_diags diags;
    struct {
        size_t start;
        stage stage;
    } segments[MAX_SEGMENTS];
    size_t n_segments;
    const char *format;   /* resolved name, or NULL while unknown */
    s2r_job job;
    bool job_parsed;      /* s2r_job_parse() ran (job.directives) */
    bool job_valid;
    s2r_workload wl;
    bool have_workload;
    char *output;
} run;

static void enter(run *r, stage s)
{
    if (r->n_segments < MAX_SEGMENTS) {
        r->segments[r->n_segments].start = r->diags.n;
        r->segments[r->n_segments].stage = s;
        r->n_segments++;
    }
}

static stage stage_of(const run *r, size_t i)
{
    stage s = STAGE_USAGE;
    for (size_t k = 0; k < r->n_segments && r->segments[k].start <= i; k++)
        s = r->segments[k].stage;
    return s;
}

/* ---- categories (documented with s2r_convert_json() in s2r.h) ---- */

/* The first byte of 1-based line @p line of the script, or NULL. */
static const char *script_line(const run *r, int line)
{
    const char *p = r->req->script;
    const char *end = p ? p + r->req->script_len : NULL;
    for (int l = 1; p && p < end; l++) {
        if (l == line)
            return p;
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            break;
        p = nl + 1;
    }
    return NULL;
}

/* The effective #SBATCH option read from line @p line, or NULL. */
static const char *directive_on(const run *r, int line)
{
    if (!r->job_parsed || line <= 0)
        return NULL;
    for (size_t i = 0; i < r->job.n_directives; i++)
        if (r->job.directives[i].line == line)
            return r->job.directives[i].name;
    return NULL;
}

static const char *option_category(const char *option)
{
    if (!strcmp(option, "time") || !strcmp(option, "time-min"))
        return "time";
    if (!strcmp(option, "array"))
        return "array";
    if (!strcmp(option, "container-image"))
        return "image";
    return "option";
}

static const char *category_of(const run *r, size_t i)
{
    const s2r_diag *d = &r->diags.v[i];
    stage s = stage_of(r, i);
    if (s == STAGE_USAGE)
        return "usage";
    if (s == STAGE_CONFIG)
        return "config";
    const char *option = d->option ? d->option : directive_on(r, d->line);
    if (option)
        return option_category(option);
    if (s == STAGE_OUTPUT)
        return "format";
    const char *text = d->line > 1 ? script_line(r, d->line) : NULL;
    /* no script (NULL, 0 bytes): no end pointer either */
    const char *end = text ? r->req->script + r->req->script_len : NULL;
    while (text && text < end && (*text == ' ' || *text == '\t'))
        text++;
    if (text && text < end && *text == '#')
        return "directive";
    if (d->severity == S2R_SEV_ERROR)
        return "script";
    if (strstr(d->message, "container image"))
        return "image";
    if (strstr(d->message, "data source") || strstr(d->message, "storage"))
        return "storage";
    return "body";
}

/* ---- the stages ---- */

/* The configuration's provider must be the rules provider: "rules", or
 * the id of a [provider.<id>] section with plugin = rules. */
static int check_provider(run *r)
{
    const char *id = r->cfg.provider;
    if (!id || !*id || !strcmp(id, "rules"))
        return S2R_OK;
    char section[256];
    snprintf(section, sizeof(section), "provider.%s", id);
    const char *plugin = s2r_ini_get(&r->ini, section, "plugin");
    if (plugin && !strcmp(plugin, "rules"))
        return S2R_OK;
    const s2r_ini_entry *e =
        s2r_ini_entry_find(s2r_ini_section_find(&r->ini, "core"), "provider");
    if (s2r_diags_add(&r->diags, S2R_SEV_ERROR, r->req->config_path,
                      e ? e->line : 0, "provider",
                      "[core] provider = %s: libs2r converts with the "
                      "built-in rules provider only (no network, no model); "
                      "the s2r program runs the other providers", id))
        return S2R_ENOMEM;
    return S2R_EUNSUPPORTED;
}

static int load_config(run *r)
{
    const char *path = r->req->config_path;
    if (!path)
        return S2R_OK;
    int rc = s2r_ini_read(&r->ini, path, &r->diags);
    if (rc == S2R_ENOTFOUND &&
        s2r_diags_add(&r->diags, S2R_SEV_ERROR, path, 0, NULL,
                      "cannot open the configuration"))
        return S2R_ENOMEM;
    if (rc == S2R_OK)
        rc = s2r_config_apply(&r->cfg, &r->ini, &r->diags);
    return rc == S2R_OK ? check_provider(r) : rc;
}

/* No file name: the request may be too short to hold one. */
static int usage_error(run *r, const char *what)
{
    return s2r_diags_add(&r->diags, S2R_SEV_ERROR, NULL, 0, NULL,
                         "%s", what)
               ? S2R_ENOMEM
               : S2R_EINVAL;
}

/* The request's own fields, before anything is read. */
static int check_request(run *r)
{
    const s2r_convert_request *q = r->req;
    if (q->struct_size < sizeof(s2r_convert_request))
        return usage_error(r, "s2r_convert_request.struct_size is smaller "
                              "than this library's request");
    if (!q->script && q->script_len)
        return usage_error(r, "no script bytes given");
    if (q->submit_dir && q->submit_dir[0] != '/')
        return usage_error(r, "the submit directory must be an absolute "
                              "path (SLURM_SUBMIT_DIR)");
    return S2R_OK;
}

/* The output format: the request's, else [core] format, else cli. */
static int resolve_format(run *r, s2r_format *fmt)
{
    const char *name = r->req->format ? r->req->format
                       : r->cfg.format ? r->cfg.format
                                       : "cli";
    int f = s2r_format_from_name(name);
    if (f < 0) {
        enter(r, STAGE_USAGE);
        return s2r_diags_add(&r->diags, S2R_SEV_ERROR, NULL, 0, NULL,
                             "unknown format '%s' (cli, yaml or json)", name)
                   ? S2R_ENOMEM
                   : S2R_EINVAL;
    }
    r->format = name;
    *fmt = (s2r_format)f;
    return S2R_OK;
}

/* parse -> rules -> emit, as s2r_convert_buffer() does, keeping the job
 * and the workload for the document. */
static int convert_script(run *r, s2r_format fmt)
{
    const s2r_convert_request *q = r->req;
    const char *file = q->file ? q->file : "-";
    enter(r, STAGE_SCRIPT);
    if (q->script_len > S2R_MAX_SCRIPT_BYTES)
        return s2r_diags_add(&r->diags, S2R_SEV_ERROR, file, 0, NULL,
                             "larger than 4 MiB, slurmctld's default "
                             "max_script_size")
                   ? S2R_ENOMEM
                   : S2R_ETOOBIG;
    int rc = s2r_job_parse(&r->job, file, q->script ? q->script : "",
                           q->script_len, &r->cfg, &r->diags);
    r->job_parsed = true;
    if (rc != S2R_OK)
        return rc;
    r->job_valid = true;
    enter(r, STAGE_RULES);
    rc = s2r_rules_convert(&r->wl, &r->job, &r->cfg, &r->diags);
    if (rc != S2R_OK)
        return rc;
    r->have_workload = true;
    enter(r, STAGE_OUTPUT);
    return s2r_emit(&r->output, &r->wl, fmt, &r->cfg, &r->diags);
}

/* ---- the document ---- */

static json_object *jstr(const char *s)
{
    return s ? json_object_new_string(s) : NULL;
}

static json_object *diag_json(const run *r, size_t i)
{
    static const char *const severity[] = {"note", "warning", "error"};
    const s2r_diag *d = &r->diags.v[i];
    json_object *o = json_object_new_object();
    char *text = s2r_diag_format(d);
    if (!o || !text) {
        json_object_put(o);
        free(text);
        return NULL;
    }
    json_object_object_add(o, "severity",
                           json_object_new_string(severity[d->severity]));
    json_object_object_add(o, "file", jstr(d->file));
    json_object_object_add(o, "line", json_object_new_int(d->line));
    json_object_object_add(o, "option", jstr(d->option));
    json_object_object_add(o, "category",
                           json_object_new_string(category_of(r, i)));
    json_object_object_add(o, "message", jstr(d->message));
    json_object_object_add(o, "text", json_object_new_string(text));
    free(text);
    return o;
}

static json_object *document(const run *r, int rc)
{
    json_object *doc = json_object_new_object();
    json_object *diags = json_object_new_array();
    if (!doc || !diags) {
        json_object_put(doc);
        json_object_put(diags);
        return NULL;
    }
    json_object_object_add(doc, "format", jstr(r->format));
    json_object_object_add(doc, "output",
                           rc == S2R_OK ? jstr(r->output) : NULL);
    json_object_object_add(doc, "diagnostics", diags);
    for (size_t i = 0; i < r->diags.n; i++) {
        json_object *d = diag_json(r, i);
        if (!d || json_object_array_add(diags, d)) {
            json_object_put(d);
            json_object_put(doc);
            return NULL;
        }
    }
    json_object *job = r->job_valid ? s2r_job_to_json(&r->job) : NULL;
    json_object *wl = r->have_workload ? s2r_workload_to_json(&r->wl) : NULL;
    json_object_object_add(doc, "job", job);
    json_object_object_add(doc, "workload", wl);
    if ((r->job_valid && !job) || (r->have_workload && !wl)) {
        json_object_put(doc);
        return NULL;
    }
    return doc;
}

static int convert(char **json_out, const s2r_convert_request *req)
{
    run r;
    memset(&r, 0, sizeof(r));
    r.req = req;
    s2r_config_defaults(&r.cfg);
    s2r_format fmt = S2R_FMT_CLI;
    enter(&r, STAGE_USAGE);
    int rc = check_request(&r);
    if (rc == S2R_OK) {
        enter(&r, STAGE_CONFIG);
        rc = load_config(&r);
    }
    if (rc == S2R_OK && req->submit_dir &&
        !(r.cfg.submit_dir = strdup(req->submit_dir)))
        rc = S2R_ENOMEM;
    /* as the s2r program: the current directory and the caller's identity */
    if (rc == S2R_OK)
        rc = s2r_config_local_defaults(&r.cfg);
    if (rc == S2R_OK)
        rc = resolve_format(&r, &fmt);
    if (rc == S2R_OK)
        rc = convert_script(&r, fmt);
    json_object *doc = rc == S2R_ENOMEM ? NULL : document(&r, rc);
    const char *text = doc ? json_object_to_json_string_ext(
                                 doc, JSON_C_TO_STRING_PLAIN |
                                          JSON_C_TO_STRING_NOSLASHESCAPE)
                           : NULL;
    *json_out = text ? strdup(text) : NULL;
    if (!*json_out)
        rc = S2R_ENOMEM;
    json_object_put(doc);
    free(r.output);
    s2r_workload_free(&r.wl); /* both are zeroed when never filled */
    s2r_job_free(&r.job);
    s2r_diags_clear(&r.diags);
    s2r_config_free(&r.cfg);
    s2r_ini_free(&r.ini);
    return rc;
}

int s2r_convert_json(char **json_out, const s2r_convert_request *req)
{
    if (!json_out)
        return S2R_EINVAL;
    *json_out = NULL;
    if (!req)
        return S2R_EINVAL;
    /* this thread converts in the "C" locale, whatever the process uses
     * (strtod, isalpha...), as the s2r program does */
    locale_t c = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    if (!c)
        return S2R_ENOMEM;
    locale_t previous = uselocale(c);
    int rc = convert(json_out, req);
    uselocale(previous);
    freelocale(c);
    return rc;
}
