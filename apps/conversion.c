/* conversion.c: see conversion.h. */
#include "conversion.h"

#include <stdlib.h>
#include <string.h>

const char *s2r_format_name(s2r_format f)
{
    return f == S2R_FMT_YAML ? "yaml" : f == S2R_FMT_JSON ? "json" : "cli";
}

static bool same_diag(const s2r_diag *a, const s2r_diag *b)
{
    return a->severity == b->severity && a->line == b->line &&
           !strcmp(a->message, b->message) &&
           !!a->option == !!b->option &&
           (!a->option || !strcmp(a->option, b->option));
}

/* Add the diagnostics of one format's run: one already given by another
 * format counts for this one too; the rest are appended in order. */
static int merge_diags(s2r_conversion *res, const s2r_diags *from,
                       unsigned bits)
{
    size_t known = res->diags.n;
    for (size_t i = 0; i < from->n; i++) {
        const s2r_diag *d = &from->v[i];
        size_t k = 0;
        while (k < known && ((res->diag_formats[k] & bits) == bits ||
                             !same_diag(&res->diags.v[k], d)))
            k++;
        if (k < known) {
            res->diag_formats[k] |= bits;
            continue;
        }
        int rc = d->option
                     ? s2r_diags_add(&res->diags, d->severity, d->file,
                                     d->line, d->option, "%s", d->message)
                     : s2r_diags_add(&res->diags, d->severity, d->file,
                                     d->line, NULL, "%s", d->message);
        unsigned *nf = realloc(res->diag_formats,
                               res->diags.cap * sizeof(*nf));
        if (rc || !nf) {
            if (nf)
                res->diag_formats = nf;
            return S2R_ENOMEM;
        }
        res->diag_formats = nf;
        res->diag_formats[res->diags.n - 1] = bits;
    }
    return S2R_OK;
}

/* parse and convert once, render every format: the rules provider */
static int run_rules(s2r_conversion *res, const s2r_conversion_request *req)
{
    s2r_diags common = {0};
    int rc = s2r_job_parse(&res->job, req->file, req->script, req->len,
                           req->cfg, &common);
    if (rc == S2R_OK)
        rc = s2r_rules_convert(&res->workload, &res->job, req->cfg, &common);
    int mrc = merge_diags(res, &common, req->formats);
    s2r_diags_clear(&common);
    if (rc == S2R_OK && mrc != S2R_OK)
        rc = mrc;
    res->have_workload = rc == S2R_OK;
    for (int f = 0; rc == S2R_OK && f < S2R_N_FORMATS; f++) {
        if (!(req->formats & S2R_FORMAT_BIT(f)))
            continue;
        s2r_diags emitted = {0};
        rc = s2r_emit(&res->output[f], &res->workload, (s2r_format)f,
                      req->cfg, &emitted);
        mrc = merge_diags(res, &emitted, S2R_FORMAT_BIT(f));
        s2r_diags_clear(&emitted);
        if (rc == S2R_OK && mrc != S2R_OK)
            rc = mrc;
    }
    return rc;
}

/* each format through the provider glue; the job and the rules workload,
 * for a report, from a local parse whose messages the glue repeats */
static int run_provider(s2r_conversion *res,
                        const s2r_conversion_request *req)
{
    int rc = S2R_OK;
    for (int f = 0; f < S2R_N_FORMATS; f++) {
        if (!(req->formats & S2R_FORMAT_BIT(f)))
            continue;
        s2r_diags d = {0};
        rc = req->provider(req->file, req->script, req->len,
                           s2r_format_name((s2r_format)f), req->config_path,
                           req->plugin_dir,
                           req->cfg ? req->cfg->submit_dir : NULL,
                           req->prompt_only, &res->output[f], &d);
        int mrc = merge_diags(res, &d, S2R_FORMAT_BIT(f));
        s2r_diags_clear(&d);
        if (rc == S2R_OK && mrc != S2R_OK)
            rc = mrc;
        if (rc != S2R_OK)
            return rc;
    }
    if (req->keep_workload) {
        s2r_diags local = {0};
        int lrc = s2r_job_parse(&res->job, req->file, req->script, req->len,
                                req->cfg, &local);
        if (lrc == S2R_OK)
            lrc = s2r_rules_convert(&res->workload, &res->job, req->cfg,
                                    &local);
        res->have_workload = lrc == S2R_OK;
        s2r_diags_clear(&local);
    }
    return rc;
}

int s2r_conversion_run(s2r_conversion *res,
                       const s2r_conversion_request *req)
{
    memset(res, 0, sizeof(*res));
    int rc = req->provider ? run_provider(res, req) : run_rules(res, req);
    if (rc != S2R_OK) {
        for (int f = 0; f < S2R_N_FORMATS; f++) {
            free(res->output[f]);
            res->output[f] = NULL;
        }
    }
    if (!req->keep_workload) {
        s2r_workload_free(&res->workload);
        s2r_job_free(&res->job);
        memset(&res->job, 0, sizeof(res->job));
        res->have_workload = false;
    }
    res->rc = rc;
    return rc;
}

void s2r_conversion_free(s2r_conversion *res)
{
    if (!res)
        return;
    for (int f = 0; f < S2R_N_FORMATS; f++)
        free(res->output[f]);
    s2r_diags_clear(&res->diags);
    free(res->diag_formats);
    s2r_workload_free(&res->workload);
    s2r_job_free(&res->job);
    memset(res, 0, sizeof(*res));
}
