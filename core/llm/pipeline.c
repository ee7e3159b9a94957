/* pipeline.c: see pipeline.h. */
#include "llm.h"
#include "model.h"
#include "cache.h"
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

int s2r_pipeline_run(const s2r_config *cfg, const s2r_provider_ref *prov,
                     const s2r_pipeline_request *req, s2r_pipeline_result *res)
{
    memset(res, 0, sizeof(*res));
    s2r_job job;
    s2r_workload wl;
    memset(&wl, 0, sizeof(wl));
    json_object *job_json = NULL, *rules_json = NULL, *answer = NULL;
    char *prompt = NULL;
    int rc = s2r_job_parse(&job, req->file, req->script, req->len, cfg,
                           &res->diags);
    if (rc == S2R_OK)
        rc = s2r_rules_convert(&wl, &job, cfg, &res->diags);
    if (rc != S2R_OK)
        goto out;

    bool remote_remains = false;
    if (prov && prov->ops) {
        job_json = s2r_job_to_json(&job);
        rules_json = s2r_workload_to_json(&wl);
        prompt = s2r_prompt_build(&job, job_json, rules_json, req->script,
                                  req->len);
        if (!job_json || !rules_json || !prompt) {
            rc = S2R_ENOMEM;
            goto out;
        }
        if (req->prompt_only) {
            res->output = prompt;
            prompt = NULL;
            goto out;
        }
        s2r_provider_request preq = {
            .struct_size = sizeof(preq),
            .timeout_ms = req->timeout_ms,
            .file = req->file,
            .script = req->script,
            .script_len = req->len,
            .job = job_json,
            .rules = rules_json,
            .prompt = prompt,
            .format = format_name(req->format),
            .model = req->model,
            .client_ip = req->client_ip};
        s2r_error err = {0};
        /* llm: answer cache (llm_cache.h):
         * [provider.<id>] cache = PATH keys used answers by SHA-256 of
         * (prompt, model); a hit skips the provider, the guard still runs
         * on it, and only answers the guard applied are stored. */
        s2r_llm_cache *cache = NULL;
        const char *cache_model = NULL;
        char cache_key[S2R_LLM_CACHE_KEY_LEN];
        bool cache_hit = false;
        s2r_llm_cache_shared(cfg ? cfg->config_file : NULL, prov->id, &cache,
                             &cache_model);
        if (cache) {
            if (req->model)
                cache_model = req->model;
            s2r_llm_cache_key(prompt, cache_model, cache_key);
            cache_hit = s2r_llm_cache_get(cache, cache_key, &answer) == S2R_OK;
            if (cache_hit)
                s2r_diags_add(&res->diags, S2R_SEV_NOTE, req->file, 0, NULL,
                              "provider '%s': answer %.12s... from the cache "
                              "(no model call)", prov->id ? prov->id : "?",
                              cache_key);
        }
        int prc = cache_hit ? S2R_OK
                            : prov->ops->convert(prov->instance, &preq,
                                                 &answer, &err);
        if (prc == S2R_EAUTH || prc == S2R_ELIMITED || prc == S2R_ETOOBIG) {
            res->err = err;
            if (!res->err.code)
                res->err.code = prc;
            s2r_diags_add(&res->diags, S2R_SEV_ERROR, req->file, 0, NULL,
                          "provider '%s': %s", prov->id ? prov->id : "?",
                          err.message[0] ? err.message : "refused");
            rc = prc;
            goto out;
        }
        if (prc == S2R_ENOMEM) {
            rc = prc;
            goto out;
        }
        if (prc != S2R_OK) {
            res->err = err;
            s2r_diags_add(&res->diags, S2R_SEV_WARNING, req->file, 0, NULL,
                          "provider '%s' failed (%s): the rules conversion is "
                          "used", prov->id ? prov->id : "?",
                          err.message[0] ? err.message : "no answer");
        } else {
            char *remote_out = NULL;
            s2r_guard_outcome outcome = S2R_GUARD_FALLBACK;
            rc = s2r_guard_apply_ex(&wl, &job, answer, prov->id, &remote_out,
                                    &outcome, &res->diags);
            if (rc != S2R_OK)
                goto out;
            if (cache && !cache_hit && outcome == S2R_GUARD_APPLIED)
                s2r_llm_cache_put(cache, cache_key, cache_model, answer);
            if (remote_out) {
                res->output = remote_out;
                remote_remains = true;
            }
        }
    } else if (req->prompt_only) {
        job_json = s2r_job_to_json(&job);
        rules_json = s2r_workload_to_json(&wl);
        res->output = s2r_prompt_build(&job, job_json, rules_json,
                                       req->script, req->len);
        rc = res->output ? S2R_OK : S2R_ENOMEM;
        goto out;
    }
    if (!remote_remains)
        rc = s2r_emit(&res->output, &wl, req->format, cfg, &res->diags);
out:
    if (rc != S2R_OK) {
        free(res->output);
        res->output = NULL;
    }
    res->http_status = http_status_of(rc);
    if (res->err.http_status && rc != S2R_OK && rc != S2R_EINVAL)
        res->http_status = res->err.http_status;
    json_object_put(answer);
    json_object_put(job_json);
    json_object_put(rules_json);
    free(prompt);
    s2r_workload_free(&wl);
    s2r_job_free(&job);
    return rc;
}
