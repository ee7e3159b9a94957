/* pipeline.c: see llm.h. */
#include "llm.h"
#include "model.h"
#include "convert/convert.h"
#include "runai/runai.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *format_name(s2r_format f)
{
    return f == S2R_FMT_YAML ? "yaml" : f == S2R_FMT_JSON ? "json" : "cli";
}

static int http_status_of(int rc)
{
    switch (rc) {
    case S2R_OK: return 200;
    case S2R_EINVAL: return 400;
    case S2R_EAUTH: return 401;
    case S2R_ETOOBIG: return 413;
    case S2R_ELIMITED: return 429;
    case S2R_ETIMEOUT: return 504;
    case S2R_EUPSTREAM: return 502;
    default: return 500;
    }
}

void s2r_pipeline_result_free(s2r_pipeline_result *res)
{
    free(res->output);
    s2r_diags_clear(&res->diags);
    memset(res, 0, sizeof(*res));
}

/* One run: the parsed job, its rules workload and what a provider gets. */
typedef struct run {
    const s2r_provider_ref *prov;
    const s2r_pipeline_request *req;
    s2r_pipeline_result *res;
    s2r_job job;
    s2r_workload wl;
    json_object *job_json, *rules_json, *answer;
    char *prompt;
    char cache_key[S2R_LLM_CACHE_KEY_LEN];
    bool cache_hit;
} run;

/* The facts and rules result as JSON and the prompt built from them.
 * @return S2R_OK or S2R_ENOMEM. */
static int build_prompt(run *r)
{
    r->job_json = s2r_job_to_json(&r->job);
    r->rules_json = s2r_workload_to_json(&r->wl);
    r->prompt = s2r_prompt_build(&r->job, r->job_json, r->rules_json,
                                 r->req->script, r->req->len);
    return r->job_json && r->rules_json && r->prompt ? S2R_OK : S2R_ENOMEM;
}

/* The answer cache (cache.h): a hit is keyed by SHA-256 of (prompt,
 * model) and skips the provider; the guard still runs on it. */
static void cache_lookup(run *r)
{
    const s2r_provider_ref *prov = r->prov;
    if (!prov->cache)
        return;
    const char *model = r->req->model ? r->req->model : prov->cache_model;
    s2r_llm_cache_key(r->prompt, model, r->cache_key);
    r->cache_hit =
        s2r_llm_cache_get(prov->cache, r->cache_key, &r->answer) == S2R_OK;
    if (r->cache_hit)
        s2r_diags_add(&r->res->diags, S2R_SEV_NOTE, r->req->file, 0, NULL,
                      "provider '%s': answer %.12s... from the cache "
                      "(no model call)", prov->id ? prov->id : "?",
                      r->cache_key);
}

/* Ask the provider (unless the cache answered). A refusal the user must
 * act on (S2R_EAUTH, S2R_ELIMITED, S2R_ETOOBIG) is an error; any other
 * failure a warning, and the rules result stands (*fell_back).
 * @return S2R_OK, one of those refusals, or S2R_ENOMEM. */
static int ask_provider(run *r, bool *fell_back)
{
    const s2r_provider_ref *prov = r->prov;
    const s2r_pipeline_request *req = r->req;
    s2r_pipeline_result *res = r->res;
    s2r_provider_request preq = {
        .struct_size = sizeof(preq),
        .timeout_ms = req->timeout_ms,
        .file = req->file,
        .script = req->script,
        .script_len = req->len,
        .job = r->job_json,
        .rules = r->rules_json,
        .prompt = r->prompt,
        .format = format_name(req->format),
        .model = req->model,
        .client_ip = req->client_ip};
    s2r_error err = {0};
    *fell_back = false;
    cache_lookup(r);
    int prc = r->cache_hit ? S2R_OK
                           : prov->ops->convert(prov->instance, &preq,
                                                &r->answer, &err);
    if (prc == S2R_EAUTH || prc == S2R_ELIMITED || prc == S2R_ETOOBIG) {
        res->err = err;
        if (!res->err.code)
            res->err.code = prc;
        s2r_diags_add(&res->diags, S2R_SEV_ERROR, req->file, 0, NULL,
                      "provider '%s': %s", prov->id ? prov->id : "?",
                      err.message[0] ? err.message : "refused");
        return prc;
    }
    if (prc == S2R_ENOMEM)
        return prc;
    if (prc != S2R_OK) {
        res->err = err;
        s2r_diags_add(&res->diags, S2R_SEV_WARNING, req->file, 0, NULL,
                      "provider '%s' failed (%s): the rules conversion is "
                      "used", prov->id ? prov->id : "?",
                      err.message[0] ? err.message : "no answer");
        *fell_back = true;
    }
    return S2R_OK;
}

/* The guard applies the answer to the rules workload; an applied answer
 * that did not come from the cache is stored in it; a remote server's
 * finished text becomes the output (*remote). @return S2R_OK or
 * S2R_ENOMEM. */
static int apply_answer(run *r, bool *remote)
{
    const s2r_provider_ref *prov = r->prov;
    char *remote_out = NULL;
    s2r_guard_outcome outcome = S2R_GUARD_FALLBACK;
    int rc = s2r_guard_apply_ex(&r->wl, &r->job, r->answer, prov->id,
                                &remote_out, &outcome, &r->res->diags);
    if (rc != S2R_OK)
        return rc;
    if (prov->cache && !r->cache_hit && outcome == S2R_GUARD_APPLIED) {
        const char *model = r->req->model ? r->req->model
                                          : prov->cache_model;
        s2r_llm_cache_put(prov->cache, r->cache_key, model, r->answer);
    }
    if (remote_out) {
        r->res->output = remote_out;
        *remote = true;
    }
    return S2R_OK;
}

/* A provider plugin's turn: the prompt (the answer itself for
 * prompt_only), the provider or the cache, the guard. *@p done when the
 * output is already set (prompt, remote answer). */
static int through_provider(run *r, bool *done)
{
    int rc = build_prompt(r);
    if (rc != S2R_OK)
        return rc;
    if (r->req->prompt_only) {
        r->res->output = r->prompt;
        r->prompt = NULL;
        *done = true;
        return S2R_OK;
    }
    bool fell_back = false;
    rc = ask_provider(r, &fell_back);
    if (rc != S2R_OK || fell_back)
        return rc;
    return apply_answer(r, done);
}

int s2r_pipeline_run(const s2r_config *cfg, const s2r_provider_ref *prov,
                     const s2r_pipeline_request *req, s2r_pipeline_result *res)
{
    memset(res, 0, sizeof(*res));
    run r = {.prov = prov, .req = req, .res = res};
    bool done = false;
    int rc = s2r_job_parse(&r.job, req->file, req->script, req->len, cfg,
                           &res->diags);
    if (rc == S2R_OK)
        rc = s2r_rules_convert(&r.wl, &r.job, cfg, &res->diags);
    if (rc == S2R_OK && prov && prov->ops) {
        rc = through_provider(&r, &done);
    } else if (rc == S2R_OK && req->prompt_only) {
        /* the prompt is the core's, the same for every model provider */
        rc = build_prompt(&r);
        if (rc == S2R_OK) {
            res->output = r.prompt;
            r.prompt = NULL;
        }
        done = true;
    }
    if (rc == S2R_OK && !done)
        rc = s2r_emit(&res->output, &r.wl, req->format, cfg, &res->diags);
    if (rc != S2R_OK) {
        free(res->output);
        res->output = NULL;
    }
    res->http_status = http_status_of(rc);
    if (res->err.http_status && rc != S2R_OK && rc != S2R_EINVAL)
        res->http_status = res->err.http_status;
    json_object_put(r.answer);
    json_object_put(r.job_json);
    json_object_put(r.rules_json);
    free(r.prompt);
    s2r_workload_free(&r.wl);
    s2r_job_free(&r.job);
    return rc;
}
