/* migrate_html.c: report.html of `s2r migrate`: one self-contained page
 * (inline CSS and script, no network: a Content-Security-Policy forbids
 * every fetch), totals, a chart of the GPUs and pods the tree asks for by
 * partition or by account (inline SVG), and the table of scripts, sorted
 * by a click on a column header. */
#include "migrate.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

char *mg_html_escape(const char *s)
{
    mg_buf b = {0};
    mg_buf_html(&b, s);
    return mg_buf_take(&b);
}

/* The warnings and errors of a row, as a <details> list. */
static void warnings_cell(mg_buf *b, const mg_row *r)
{
    size_t count = 0;
    for (size_t i = 0; i < r->nw; i++)
        count += !r->w[i].error;
    mg_buf_printf(b, "<td data-v=\"%zu\">", count);
    if (!r->nw) {
        mg_buf_puts(b, "0</td>");
        return;
    }
    mg_buf_printf(b, "<details><summary>%zu</summary><ul>", count);
    for (size_t i = 0; i < r->nw; i++) {
        const mg_warning *w = &r->w[i];
        mg_buf_puts(b, w->error ? "<li class=\"error\">" : "<li>");
        if (w->line > 0)
            mg_buf_printf(b, "line %d ", w->line);
        mg_buf_printf(b, "[%s] ", w->category);
        mg_buf_html(b, w->message);
        mg_buf_puts(b, "</li>");
    }
    mg_buf_puts(b, "</ul></details></td>");
}

/* A number cell: data-v sorts; empty when @p shown is false. */
static void num_cell(mg_buf *b, long v, const char *unit, bool shown)
{
    if (!shown)
        mg_buf_puts(b, "<td data-v=\"0\"></td>");
    else
        mg_buf_printf(b, "<td data-v=\"%ld\">%ld%s</td>", v, v, unit);
}

static void text_cell(mg_buf *b, const char *s)
{
    mg_buf_puts(b, "<td>");
    mg_buf_html(b, s);
    mg_buf_puts(b, "</td>");
}

char *mg_html_row(const mg_row *r)
{
    mg_buf b = {0};
    bool conv = r->kind != NULL;
    const char *status = mg_status_name(r->status);
    mg_buf_printf(&b, "<tr class=\"%s\">", status);
    text_cell(&b, r->path);
    text_cell(&b, status);
    text_cell(&b, r->kind);
    num_cell(&b, r->pods, "", conv);
    num_cell(&b, r->gpus, "", conv);
    num_cell(&b, r->cpus_per_pod, "", conv);
    num_cell(&b, r->memory_mib, " MiB", r->memory_mib > 0);
    num_cell(&b, r->time_limit_s, " s", r->time_limit_s > 0);
    num_cell(&b, r->array_size, "", r->array_size > 0);
    text_cell(&b, r->partition);
    text_cell(&b, r->account);
    text_cell(&b, r->image);
    warnings_cell(&b, r);
    mg_buf_puts(&b, "</tr>\n");
    return mg_buf_take(&b);
}

char *mg_html_skip(const char *path, const char *reason, const char *message)
{
    mg_buf b = {0};
    mg_buf_puts(&b, "<li><code>");
    mg_buf_html(&b, path);
    mg_buf_printf(&b, "</code> %s: ", reason);
    mg_buf_html(&b, message);
    mg_buf_puts(&b, "</li>\n");
    return mg_buf_take(&b);
}

static const char style[] =
    "body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}"
    "h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.5em}"
    "table{border-collapse:collapse}td,th{border:1px solid #ccc;"
    "padding:.25em .5em;vertical-align:top}"
    "#scripts th{cursor:pointer;background:#f2f2f2;user-select:none}"
    "#scripts th[aria-sort=ascending]::after{content:' \\25B2'}"
    "#scripts th[aria-sort=descending]::after{content:' \\25BC'}"
    "tr.refused td,tr.failed td{background:#fde8e8}"
    "tr.converted-with-warnings td:nth-child(2){color:#8a5a00}"
    "li.error{color:#a00}details ul{margin:.3em 0;padding-left:1.2em}"
    ".totals td:last-child{text-align:right}svg text{font-size:12px}"
    "button{margin-left:.3em}button[aria-pressed=true]{font-weight:bold}";

static const char script[] =
    "(function(){\n"
    "var t=document.getElementById('scripts');\n"
    "var ths=t.tHead.rows[0].cells;\n"
    "function key(td,num){var v=td.getAttribute('data-v');\n"
    " if(v===null)v=td.textContent;return num?parseFloat(v)||0:v.toLowerCase();}\n"
    "function sortBy(i){var th=ths[i],num=th.getAttribute('data-type')==='number';\n"
    " var asc=th.getAttribute('aria-sort')!=='ascending';\n"
    " var rows=Array.prototype.slice.call(t.tBodies[0].rows);\n"
    " rows.sort(function(a,b){var x=key(a.cells[i],num),y=key(b.cells[i],num);\n"
    "  var c=num?x-y:(x<y?-1:x>y?1:0);return asc?c:-c;});\n"
    " var f=document.createDocumentFragment();\n"
    " rows.forEach(function(r){f.appendChild(r);});t.tBodies[0].appendChild(f);\n"
    " for(var k=0;k<ths.length;k++)ths[k].removeAttribute('aria-sort');\n"
    " th.setAttribute('aria-sort',asc?'ascending':'descending');}\n"
    "for(var i=0;i<ths.length;i++)ths[i].addEventListener('click',"
    "sortBy.bind(null,i));\n"
    "var bs=document.querySelectorAll('button[data-chart]');\n"
    "for(var j=0;j<bs.length;j++)bs[j].addEventListener('click',function(){\n"
    " for(var k=0;k<bs.length;k++){var on=bs[k]===this;\n"
    "  bs[k].setAttribute('aria-pressed',on?'true':'false');\n"
    "  document.getElementById('chart-'+bs[k].getAttribute('data-chart'))"
    ".style.display=on?'':'none';}});\n"
    "})();\n";

/* Bars of GPUs and pods per key, at most 40 keys (most GPUs first). */
static void chart(FILE *f, const mg_map *m, const char *id, bool shown)
{
    mg_count **v = mg_map_sorted(m);
    size_t n = m->n < 40 ? m->n : 40;
    long max = 1;
    for (size_t i = 0; i < n; i++) {
        max = v[i]->gpus > max ? v[i]->gpus : max;
        max = v[i]->pods > max ? v[i]->pods : max;
    }
    const int label = 220, width = 480, row = 34;
    fprintf(f, "<svg id=\"chart-%s\" xmlns=\"http://www.w3.org/2000/svg\" "
            "width=\"%d\" height=\"%zu\" role=\"img\" aria-label=\"GPUs and "
            "pods by %s\"%s>\n", id, label + width + 80, n * row + 30, id,
            shown ? "" : " style=\"display:none\"");
    fprintf(f, "<rect x=\"%d\" y=\"4\" width=\"10\" height=\"10\" "
            "fill=\"#4e79a7\"/><text x=\"%d\" y=\"13\">GPUs</text><rect "
            "x=\"%d\" y=\"4\" width=\"10\" height=\"10\" fill=\"#f28e2b\"/>"
            "<text x=\"%d\" y=\"13\">pods</text>\n", label, label + 14,
            label + 70, label + 84);
    for (size_t i = 0; i < n; i++) {
        char *k = mg_html_escape(v[i]->key);
        int y = 22 + (int)(i * row);
        int gw = (int)(v[i]->gpus * width / max);
        int pw = (int)(v[i]->pods * width / max);
        fprintf(f, "<g class=\"bar\"><text x=\"%d\" y=\"%d\" "
                "text-anchor=\"end\">%s</text><rect x=\"%d\" y=\"%d\" "
                "width=\"%d\" height=\"13\" fill=\"#4e79a7\"/><text x=\"%d\" "
                "y=\"%d\">%ld</text><rect x=\"%d\" y=\"%d\" width=\"%d\" "
                "height=\"13\" fill=\"#f28e2b\"/><text x=\"%d\" y=\"%d\">%ld"
                "</text></g>\n", label - 6, y + 18, k ? k : "", label, y,
                gw, label + gw + 4, y + 11, v[i]->gpus, label, y + 15, pw,
                label + pw + 4, y + 26, v[i]->pods);
        free(k);
    }
    fputs("</svg>\n", f);
    free(v);
}

static void totals(FILE *f, const mg_run *run)
{
    const mg_totals *t = &run->totals;
    const struct {
        const char *what;
        long n;
    } rows[] = {{"batch scripts", t->scripts},
                {"converted", t->by_status[MG_CONVERTED]},
                {"converted with warnings", t->by_status[MG_WARNINGS]},
                {"refused", t->by_status[MG_REFUSED]},
                {"failed", t->by_status[MG_FAILED]},
                {"files skipped", t->skipped},
                {"other files", t->not_scripts},
                {"warnings", t->warnings},
                {"GPUs asked for", t->gpus},
                {"pods", t->pods}};
    fputs("<h2>Totals</h2>\n<table class=\"totals\" id=\"totals\">\n", f);
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        fprintf(f, "<tr><td>%s</td><td>%ld</td></tr>\n", rows[i].what,
                rows[i].n);
    fputs("</table>\n", f);
}

static int write_html(mg_run *run, FILE *f)
{
    char *cfg = mg_html_escape(run->choice.path ? run->choice.path : "none");
    char *outdir = mg_html_escape(run->outdir);
    fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta "
            "charset=\"utf-8\">\n<meta http-equiv=\"Content-Security-Policy\""
            " content=\"default-src 'none'; style-src 'unsafe-inline'; "
            "script-src 'unsafe-inline'\">\n<title>s2r migrate report</title>"
            "\n<style>%s</style></head><body>\n<h1>s2r migrate report</h1>\n"
            "<p>s2r %s, site file: <code>%s</code>. Outputs in <code>%s</code>."
            "</p>\n", style, S2R_VERSION, cfg ? cfg : "", outdir ? outdir : "");
    free(cfg);
    free(outdir);
    totals(f, run);
    fputs("<h2>GPUs and pods by <button data-chart=\"partition\" "
          "aria-pressed=\"true\">partition</button><button "
          "data-chart=\"account\" aria-pressed=\"false\">account</button>"
          "</h2>\n", f);
    chart(f, &run->site.chart_partition, "partition", true);
    chart(f, &run->site.chart_account, "account", false);
    fputs("<h2>Scripts</h2>\n<table id=\"scripts\"><thead><tr>"
          "<th data-type=\"text\">script</th><th data-type=\"text\">status"
          "</th><th data-type=\"text\">kind</th><th data-type=\"number\">"
          "pods</th><th data-type=\"number\">GPUs</th><th "
          "data-type=\"number\">CPUs per pod</th><th data-type=\"number\">"
          "memory per pod</th><th data-type=\"number\">time</th><th "
          "data-type=\"number\">array</th><th data-type=\"text\">partition"
          "</th><th data-type=\"text\">account</th><th data-type=\"text\">"
          "image</th><th data-type=\"number\">warnings</th></tr></thead>"
          "\n<tbody>\n", f);
    int rc = mg_spool_copy(run->spool_html, f);
    fputs("</tbody></table>\n<h2>Skipped files</h2>\n<ul id=\"skipped\">\n",
          f);
    if (!rc)
        rc = mg_spool_copy(run->spool_skip_html, f);
    fprintf(f, "</ul>\n<script>\n%s</script>\n</body></html>\n", script);
    return rc;
}

int mg_html_write(mg_run *run, char **err)
{
    FILE *f = mg_report_open(run, "report.html", err);
    if (!f)
        return 1;
    int rc = write_html(run, f);
    if (fclose(f) != 0 && !rc)
        rc = errno;
    if (rc && asprintf(err, "report.html: %s", strerror(rc)) < 0)
        *err = NULL;
    return rc ? 1 : 0;
}
