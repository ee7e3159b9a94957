/* migrate_report.c: report.json and report.md of `s2r migrate`
 * (schema: docs/migrate.md, docs/report.schema.json). Each row is
 * formatted by the worker that converted the script; the rows reach spool
 * files in walk order and are copied into the reports at the end, so the
 * reports stream whatever the number of scripts. */
#include "migrate.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define JSON_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

static json_object *str_or_null(const char *s)
{
    return s ? json_object_new_string(s) : NULL;
}

static json_object *positive_or_null(long v)
{
    return v > 0 ? json_object_new_int64(v) : NULL;
}

static json_object *formats_array(unsigned bits)
{
    json_object *a = json_object_new_array();
    for (int f = 0; a && f < S2R_N_FORMATS; f++)
        if (bits & S2R_FORMAT_BIT(f))
            json_object_array_add(a, json_object_new_string(
                                         s2r_format_name((s2r_format)f)));
    return a;
}

static json_object *entries(const mg_row *r, bool errors)
{
    json_object *a = json_object_new_array();
    for (size_t i = 0; a && i < r->nw; i++) {
        const mg_warning *w = &r->w[i];
        if (w->error != errors)
            continue;
        json_object *o = json_object_new_object();
        json_object_object_add(o, "line", w->line > 0
                               ? json_object_new_int(w->line) : NULL);
        json_object_object_add(o, "category",
                               json_object_new_string(w->category));
        json_object_object_add(o, "option", str_or_null(w->option));
        json_object_object_add(o, "message",
                               json_object_new_string(w->message));
        if (!errors)
            json_object_object_add(o, "formats", formats_array(w->formats));
        json_object_array_add(a, o);
    }
    return a;
}

static json_object *needs(const mg_row *r)
{
    json_object *o = json_object_new_object(), *paths = json_object_new_array();
    json_object *sw = json_object_new_array();
    for (size_t i = 0; i < r->paths.n; i++)
        json_object_array_add(paths, json_object_new_string(r->paths.v[i]));
    for (size_t i = 0; i < r->software.n; i++) {
        const char *tab = strchr(r->software.v[i], '\t');
        json_object *s = json_object_new_object();
        json_object_object_add(s, "kind", json_object_new_string_len(
                               r->software.v[i], (int)(tab - r->software.v[i])));
        json_object_object_add(s, "name", json_object_new_string(tab + 1));
        json_object_array_add(sw, s);
    }
    json_object_object_add(o, "storage", paths);
    json_object_object_add(o, "software", sw);
    json_object_object_add(o, "home", json_object_new_boolean(r->uses_home));
    return o;
}

static json_object *row_json(const mg_row *r)
{
    json_object *o = json_object_new_object(), *out = json_object_new_object();
    bool conv = r->status == MG_CONVERTED || r->status == MG_WARNINGS ||
                r->kind;
    json_object_object_add(o, "path", json_object_new_string(r->path));
    json_object_object_add(o, "status",
                           json_object_new_string(mg_status_name(r->status)));
    json_object_object_add(o, "job_name", str_or_null(r->job_name));
    json_object_object_add(o, "workload", str_or_null(r->workload));
    json_object_object_add(o, "kind", str_or_null(r->kind));
    json_object_object_add(o, "pods", conv ? json_object_new_int64(r->pods)
                                           : NULL);
    json_object_object_add(o, "gpus_per_pod",
                           conv ? json_object_new_int64(r->gpus_per_pod) : NULL);
    json_object_object_add(o, "cpus_per_pod",
                           conv ? json_object_new_int64(r->cpus_per_pod) : NULL);
    json_object_object_add(o, "memory_mib_per_pod",
                           positive_or_null(r->memory_mib));
    json_object_object_add(o, "time_limit_s",
                           positive_or_null(r->time_limit_s));
    json_object_object_add(o, "array_size", positive_or_null(r->array_size));
    json_object_object_add(o, "array_parallelism",
                           positive_or_null(r->array_parallel));
    json_object_object_add(o, "gpus", json_object_new_int64(r->gpus));
    json_object_object_add(o, "pods_total",
                           json_object_new_int64(r->pods_total));
    json_object_object_add(o, "image", str_or_null(r->image));
    json_object_object_add(o, "image_is_default",
                           json_object_new_boolean(conv && r->image_default));
    json_object_object_add(o, "partition", str_or_null(r->partition));
    json_object_object_add(o, "account", str_or_null(r->account));
    json_object_object_add(o, "qos", str_or_null(r->qos));
    json_object_object_add(o, "constraint", str_or_null(r->constraint));
    json_object_object_add(o, "gpu_type", str_or_null(r->gpu_type));
    for (int f = 0; f < S2R_N_FORMATS; f++)
        if (r->outputs[f])
            json_object_object_add(out, s2r_format_name((s2r_format)f),
                                   json_object_new_string(r->outputs[f]));
    json_object_object_add(o, "outputs", out);
    json_object_object_add(o, "warnings", entries(r, false));
    json_object_object_add(o, "errors", entries(r, true));
    json_object_object_add(o, "needs", needs(r));
    return o;
}

/* A Markdown table cell: '|' escaped, line breaks as spaces. */
static char *md_cell(const char *s)
{
    if (!s)
        return strdup("");
    char *out = malloc(strlen(s) * 2 + 1), *o = out;
    for (; out && *s; s++) {
        if (*s == '|' || *s == '\\' || *s == '`' || *s == '<')
            *o++ = '\\';
        *o++ = *s == '\n' || *s == '\r' ? ' ' : *s;
    }
    if (out)
        *o = '\0';
    return out;
}

static char *md_row(const mg_row *r)
{
    char *path = md_cell(r->path), *image = md_cell(r->image);
    char *part = md_cell(r->partition), *out = NULL;
    size_t nwarn = 0;
    for (size_t i = 0; i < r->nw; i++)
        nwarn += !r->w[i].error;
    char mem[32] = "", time_s[32] = "", arr[32] = "";
    if (r->memory_mib > 0)
        snprintf(mem, sizeof(mem), "%ld MiB", r->memory_mib);
    if (r->time_limit_s > 0)
        snprintf(time_s, sizeof(time_s), "%ld s", r->time_limit_s);
    if (r->array_size > 0)
        snprintf(arr, sizeof(arr), "%ld", r->array_size);
    if (path && image && part &&
        asprintf(&out, "| %s | %s | %s | %ld | %ld | %ld | %s | %s | %s | %s "
                 "| %s | %zu |\n", path, mg_status_name(r->status),
                 r->kind ? r->kind : "", r->pods, r->gpus, r->cpus_per_pod,
                 mem, time_s, arr, part, image, nwarn) < 0)
        out = NULL;
    free(path);
    free(image);
    free(part);
    return out;
}

static char *md_problem(const mg_row *r)
{
    for (size_t i = 0; i < r->nw; i++) {
        if (!r->w[i].error)
            continue;
        char *msg = md_cell(r->w[i].message), *out = NULL;
        char line[32] = "";
        if (r->w[i].line > 0)
            snprintf(line, sizeof(line), ":%d", r->w[i].line);
        if (msg && asprintf(&out, "- `%s%s` %s: %s\n", r->path, line,
                            mg_status_name(r->status), msg) < 0)
            out = NULL;
        free(msg);
        return out;
    }
    return NULL;
}

int mg_row_format(const mg_run *run, mg_result *res)
{
    (void)run;
    json_object *o = row_json(&res->row);
    const char *text = o ? json_object_to_json_string_ext(o, JSON_FLAGS) : NULL;
    res->json = text ? strdup(text) : NULL;
    json_object_put(o);
    res->md = md_row(&res->row);
    res->html = mg_html_row(&res->row);
    if (res->row.status >= MG_REFUSED)
        res->md_problem = md_problem(&res->row);
    return res->json && res->md && res->html ? S2R_OK : S2R_ENOMEM;
}

int mg_skip_format(mg_result *res, const char *path, const char *reason,
                   const char *message)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "path", json_object_new_string(path));
    json_object_object_add(o, "reason", json_object_new_string(reason));
    json_object_object_add(o, "message", json_object_new_string(message));
    const char *text = json_object_to_json_string_ext(o, JSON_FLAGS);
    res->skip_json = text ? strdup(text) : NULL;
    json_object_put(o);
    char *p = md_cell(path), *m = md_cell(message);
    if (p && m && asprintf(&res->skip_md, "- `%s` %s: %s\n", p, reason, m) < 0)
        res->skip_md = NULL;
    free(p);
    free(m);
    res->skip_html = mg_html_skip(path, reason, message);
    return res->skip_json && res->skip_md && res->skip_html ? S2R_OK
                                                            : S2R_ENOMEM;
}

char *mg_json_str(const char *s)
{
    json_object *o = json_object_new_string(s ? s : "");
    const char *t = o ? json_object_to_json_string_ext(o, JSON_FLAGS) : NULL;
    char *out = t ? strdup(t) : NULL;
    json_object_put(o);
    return out;
}

int mg_spool_copy(FILE *spool, FILE *to)
{
    if (fflush(spool) != 0 || fseek(spool, 0, SEEK_SET) != 0)
        return errno;
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), spool)) > 0)
        if (fwrite(buf, 1, n, to) != n)
            return errno ? errno : EIO;
    return ferror(spool) ? EIO : 0;
}

/* ---- report.json ------------------------------------------------------- */

static json_object *totals_json(const mg_totals *t)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "files", json_object_new_int64(t->files));
    json_object_object_add(o, "scripts", json_object_new_int64(t->scripts));
    for (int s = 0; s < 4; s++)
        json_object_object_add(o, mg_status_name((mg_status)s),
                               json_object_new_int64(t->by_status[s]));
    json_object_object_add(o, "not_scripts",
                           json_object_new_int64(t->not_scripts));
    json_object_object_add(o, "skipped", json_object_new_int64(t->skipped));
    json_object_object_add(o, "warnings", json_object_new_int64(t->warnings));
    json_object_object_add(o, "gpus", json_object_new_int64(t->gpus));
    json_object_object_add(o, "pods", json_object_new_int64(t->pods));
    return o;
}

static json_object *chart_json(const mg_map *m, const char *key_name)
{
    json_object *a = json_object_new_array();
    mg_count **v = mg_map_sorted(m);
    for (size_t i = 0; v && i < m->n; i++) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, key_name, json_object_new_string(v[i]->key));
        json_object_object_add(o, "scripts",
                               json_object_new_int64(v[i]->scripts));
        json_object_object_add(o, "gpus", json_object_new_int64(v[i]->gpus));
        json_object_object_add(o, "pods", json_object_new_int64(v[i]->pods));
        json_object_array_add(a, o);
    }
    free(v);
    return a;
}

static json_object *header_json(const mg_run *run)
{
    json_object *o = json_object_new_object(), *cfg = json_object_new_object();
    char when[32];
    time_t now = time(NULL);
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    json_object_object_add(o, "report", json_object_new_string("s2r migrate"));
    json_object_object_add(o, "report_version", json_object_new_int(1));
    json_object_object_add(o, "s2r_version",
                           json_object_new_string(S2R_VERSION));
    json_object_object_add(o, "generated", json_object_new_string(when));
    json_object_object_add(cfg, "file", str_or_null(run->choice.path));
    json_object_object_add(cfg, "origin", json_object_new_string(
                               s2r_config_origin_text(run->choice.origin)));
    json_object_object_add(o, "config", cfg);
    json_object *roots = json_object_new_array();
    for (int i = 0; i < run->nroots; i++)
        json_object_array_add(roots, json_object_new_string(run->roots[i]));
    json_object_object_add(o, "roots", roots);
    json_object_object_add(o, "output_dir",
                           json_object_new_string(run->outdir));
    json_object_object_add(o, "formats", formats_array(run->formats));
    json_object_object_add(o, "submit_dir", str_or_null(run->submit_dir));
    json_object_object_add(o, "totals", totals_json(&run->totals));
    json_object_object_add(o, "by_partition",
                           chart_json(&run->site.chart_partition, "partition"));
    json_object_object_add(o, "by_account",
                           chart_json(&run->site.chart_account, "account"));
    json_object *cats = json_object_new_object();
    mg_count **v = mg_map_sorted(&run->site.categories);
    for (size_t i = 0; v && i < run->site.categories.n; i++)
        json_object_object_add(cats, v[i]->key,
                               json_object_new_int64(v[i]->scripts));
    free(v);
    json_object_object_add(o, "warning_categories", cats);
    return o;
}

static int write_json(mg_run *run, FILE *f)
{
    json_object *h = header_json(run);
    const char *text = json_object_to_json_string_ext(
        h, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
    size_t n = strlen(text);
    /* the header object without its closing brace, then the rows */
    while (n && text[n - 1] != '}')
        n--;
    fwrite(text, 1, n ? n - 1 : 0, f);
    json_object_put(h);
    fputs(",\n  \"scripts\": [\n", f);
    int rc = mg_spool_copy(run->spool_json, f);
    fputs("\n  ],\n  \"skipped\": [\n", f);
    if (!rc)
        rc = mg_spool_copy(run->spool_skip_json, f);
    fputs("\n  ]\n}\n", f);
    return rc;
}

/* ---- report.md --------------------------------------------------------- */

static void md_chart(FILE *f, const mg_map *m, const char *what)
{
    mg_count **v = mg_map_sorted(m);
    if (!v)
        return;
    fprintf(f, "\n## By %s\n\n| %s | scripts | GPUs | pods |\n"
               "| --- | ---: | ---: | ---: |\n", what, what);
    for (size_t i = 0; i < m->n; i++) {
        char *k = md_cell(v[i]->key);
        fprintf(f, "| %s | %ld | %ld | %ld |\n", k ? k : "", v[i]->scripts,
                v[i]->gpus, v[i]->pods);
        free(k);
    }
    free(v);
}

static int write_md(mg_run *run, FILE *f)
{
    const mg_totals *t = &run->totals;
    fprintf(f, "# s2r migrate report\n\ns2r %s, site file: %s (%s). "
            "Outputs in `%s`.\n\n## Totals\n\n| what | count |\n"
            "| --- | ---: |\n", S2R_VERSION,
            run->choice.path ? run->choice.path : "none",
            run->choice.path ? s2r_config_origin_text(run->choice.origin)
                             : "the built-in defaults", run->outdir);
    fprintf(f, "| batch scripts | %ld |\n| converted | %ld |\n"
            "| converted with warnings | %ld |\n| refused | %ld |\n"
            "| failed | %ld |\n| files skipped | %ld |\n"
            "| other files | %ld |\n| warnings | %ld |\n"
            "| GPUs asked for | %ld |\n| pods | %ld |\n", t->scripts,
            t->by_status[MG_CONVERTED], t->by_status[MG_WARNINGS],
            t->by_status[MG_REFUSED], t->by_status[MG_FAILED], t->skipped,
            t->not_scripts, t->warnings, t->gpus, t->pods);
    md_chart(f, &run->site.chart_partition, "partition");
    md_chart(f, &run->site.chart_account, "account");
    mg_count **v = mg_map_sorted(&run->site.categories);
    if (v) {
        fputs("\n## Warnings by category\n\n| category | warnings |\n"
              "| --- | ---: |\n", f);
        for (size_t i = 0; i < run->site.categories.n; i++)
            fprintf(f, "| %s | %ld |\n", v[i]->key, v[i]->scripts);
        free(v);
    }
    fputs("\n## Refused and failed\n\n", f);
    int rc = mg_spool_copy(run->spool_problem_md, f);
    fputs("\n## Scripts\n\n| script | status | kind | pods | GPUs | CPUs "
          "per pod | memory per pod | time | array | partition | image | "
          "warnings |\n| --- | --- | --- | ---: | ---: | ---: | ---: | ---: "
          "| ---: | --- | --- | ---: |\n", f);
    if (!rc)
        rc = mg_spool_copy(run->spool_md, f);
    fputs("\n## Skipped files\n\n", f);
    if (!rc)
        rc = mg_spool_copy(run->spool_skip_md, f);
    return rc;
}

static int write_one(mg_run *run, const char *name,
                     int (*fn)(mg_run *, FILE *), char **err)
{
    FILE *f = mg_report_open(run, name, err);
    if (!f)
        return 1;
    int rc = fn(run, f);
    if (fclose(f) != 0 && !rc)
        rc = errno;
    if (rc && asprintf(err, "%s: %s", name, strerror(rc)) < 0)
        *err = NULL;
    return rc ? 1 : 0;
}

int mg_report_write(mg_run *run, char **err)
{
    if (write_one(run, "report.json", write_json, err) ||
        write_one(run, "report.md", write_md, err))
        return 1;
    return 0;
}
