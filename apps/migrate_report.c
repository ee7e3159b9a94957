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

static json_object *formats_array(unsigned bits)
{
    json_object *a = json_object_new_array();
    for (int f = 0; a && f < S2R_N_FORMATS; f++)
        if (bits & S2R_FORMAT_BIT(f))
            json_object_array_add(a, json_object_new_string(
                                         s2r_format_name((s2r_format)f)));
    return a;
}

/* "key": value pairs of a row (the schema's order). */
static void key(mg_buf *b, const char *k)
{
    mg_buf_printf(b, ",\"%s\":", k);
}

static void num(mg_buf *b, const char *k, long v, bool present)
{
    key(b, k);
    if (present)
        mg_buf_printf(b, "%ld", v);
    else
        mg_buf_puts(b, "null");
}

static void str(mg_buf *b, const char *k, const char *v)
{
    key(b, k);
    mg_buf_json(b, v);
}

static void entries(mg_buf *b, const mg_row *r, bool errors)
{
    mg_buf_puts(b, "[");
    bool first = true;
    for (size_t i = 0; i < r->nw; i++) {
        const mg_warning *w = &r->w[i];
        if (w->error != errors)
            continue;
        mg_buf_puts(b, first ? "{\"line\":" : ",{\"line\":");
        first = false;
        if (w->line > 0)
            mg_buf_printf(b, "%d", w->line);
        else
            mg_buf_puts(b, "null");
        str(b, "category", w->category);
        str(b, "option", w->option);
        str(b, "message", w->message);
        if (!errors) {
            key(b, "formats");
            mg_buf_puts(b, "[");
            for (int f = 0, n = 0; f < S2R_N_FORMATS; f++)
                if (w->formats & S2R_FORMAT_BIT(f))
                    mg_buf_printf(b, "%s\"%s\"", n++ ? "," : "",
                                  s2r_format_name((s2r_format)f));
            mg_buf_puts(b, "]");
        }
        mg_buf_puts(b, "}");
    }
    mg_buf_puts(b, "]");
}

static void needs(mg_buf *b, const mg_row *r)
{
    mg_buf_puts(b, "{\"storage\":[");
    for (size_t i = 0; i < r->paths.n; i++) {
        if (i)
            mg_buf_puts(b, ",");
        mg_buf_json(b, r->paths.v[i]);
    }
    mg_buf_puts(b, "],\"software\":[");
    for (size_t i = 0; i < r->software.n; i++) {
        const char *v = r->software.v[i], *tab = strchr(v, '\t');
        mg_buf_printf(b, "%s{\"kind\":\"%.*s\",\"name\":", i ? "," : "",
                      (int)(tab - v), v);
        mg_buf_json(b, tab + 1);
        mg_buf_puts(b, "}");
    }
    mg_buf_printf(b, "],\"home\":%s}", r->uses_home ? "true" : "false");
}

static char *row_json(const mg_row *r)
{
    mg_buf b = {0};
    bool conv = r->kind != NULL;
    mg_buf_puts(&b, "    {\"path\":");
    mg_buf_json(&b, r->path);
    str(&b, "status", mg_status_name(r->status));
    str(&b, "job_name", r->job_name);
    str(&b, "workload", r->workload);
    str(&b, "kind", r->kind);
    num(&b, "pods", r->pods, conv);
    num(&b, "gpus_per_pod", r->gpus_per_pod, conv);
    num(&b, "cpus_per_pod", r->cpus_per_pod, conv);
    num(&b, "memory_mib_per_pod", r->memory_mib, r->memory_mib > 0);
    num(&b, "time_limit_s", r->time_limit_s, r->time_limit_s > 0);
    num(&b, "array_size", r->array_size, r->array_size > 0);
    num(&b, "array_parallelism", r->array_parallel, r->array_parallel > 0);
    num(&b, "gpus", r->gpus, true);
    num(&b, "pods_total", r->pods_total, true);
    str(&b, "image", r->image);
    key(&b, "image_is_default");
    mg_buf_puts(&b, conv && r->image_default ? "true" : "false");
    str(&b, "partition", r->partition);
    str(&b, "account", r->account);
    str(&b, "qos", r->qos);
    str(&b, "constraint", r->constraint);
    str(&b, "gpu_type", r->gpu_type);
    key(&b, "outputs");
    mg_buf_puts(&b, "{");
    for (int f = 0, n = 0; f < S2R_N_FORMATS; f++) {
        if (!r->outputs[f])
            continue;
        mg_buf_printf(&b, "%s\"%s\":", n++ ? "," : "",
                      s2r_format_name((s2r_format)f));
        mg_buf_json(&b, r->outputs[f]);
    }
    mg_buf_puts(&b, "}");
    key(&b, "warnings");
    entries(&b, r, false);
    key(&b, "errors");
    entries(&b, r, true);
    key(&b, "needs");
    needs(&b, r);
    mg_buf_puts(&b, "}");
    return mg_buf_take(&b);
}

static char *md_row(const mg_row *r)
{
    mg_buf b = {0};
    size_t nwarn = 0;
    for (size_t i = 0; i < r->nw; i++)
        nwarn += !r->w[i].error;
    mg_buf_puts(&b, "| ");
    mg_buf_md(&b, r->path);
    mg_buf_printf(&b, " | %s | %s | ", mg_status_name(r->status),
                  r->kind ? r->kind : "");
    if (r->kind)
        mg_buf_printf(&b, "%ld | %ld | %ld | ", r->pods, r->gpus,
                      r->cpus_per_pod);
    else
        mg_buf_puts(&b, " |  |  | ");
    if (r->memory_mib > 0)
        mg_buf_printf(&b, "%ld MiB", r->memory_mib);
    mg_buf_puts(&b, " | ");
    if (r->time_limit_s > 0)
        mg_buf_printf(&b, "%ld s", r->time_limit_s);
    mg_buf_puts(&b, " | ");
    if (r->array_size > 0)
        mg_buf_printf(&b, "%ld", r->array_size);
    mg_buf_puts(&b, " | ");
    mg_buf_md(&b, r->partition);
    mg_buf_puts(&b, " | ");
    mg_buf_md(&b, r->image);
    mg_buf_printf(&b, " | %zu |\n", nwarn);
    return mg_buf_take(&b);
}

static char *md_problem(const mg_row *r)
{
    for (size_t i = 0; i < r->nw; i++) {
        if (!r->w[i].error)
            continue;
        mg_buf b = {0};
        mg_buf_puts(&b, "- `");
        mg_buf_md(&b, r->path);
        if (r->w[i].line > 0)
            mg_buf_printf(&b, ":%d", r->w[i].line);
        mg_buf_printf(&b, "` %s: ", mg_status_name(r->status));
        mg_buf_md(&b, r->w[i].message);
        mg_buf_puts(&b, "\n");
        return mg_buf_take(&b);
    }
    return NULL;
}

int mg_row_format(const mg_run *run, mg_result *res)
{
    (void)run;
    res->json = row_json(&res->row);
    res->md = md_row(&res->row);
    res->html = mg_html_row(&res->row);
    if (res->row.status >= MG_REFUSED)
        res->md_problem = md_problem(&res->row);
    return res->json && res->md && res->html ? S2R_OK : S2R_ENOMEM;
}

int mg_skip_format(mg_result *res, const char *path, const char *reason,
                   const char *message)
{
    mg_buf b = {0};
    mg_buf_puts(&b, "    {\"path\":");
    mg_buf_json(&b, path);
    str(&b, "reason", reason);
    str(&b, "message", message);
    mg_buf_puts(&b, "}");
    res->skip_json = mg_buf_take(&b);
    mg_buf_puts(&b, "- `");
    mg_buf_md(&b, path);
    mg_buf_printf(&b, "` %s: ", reason);
    mg_buf_md(&b, message);
    mg_buf_puts(&b, "\n");
    res->skip_md = mg_buf_take(&b);
    res->skip_html = mg_html_skip(path, reason, message);
    return res->skip_json && res->skip_md && res->skip_html ? S2R_OK
                                                            : S2R_ENOMEM;
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

static char *md_cell(const char *s)
{
    mg_buf b = {0};
    mg_buf_md(&b, s);
    return mg_buf_take(&b);
}

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
