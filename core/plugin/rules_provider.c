/* rules_provider.c: the built-in "rules" provider plugin: the rules
 * conversion (core/convert, core/runai) behind the same s2r_provider_ops
 * as any loaded provider. See registry.h. */
#include <s2r/plugin.h>
#include <s2r/s2r.h>

#include "registry.h"
#include "convert/convert.h"
#include "runai/runai.h"

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

static int rules_create(void **instance_out, const s2r_host *host,
                        const s2r_instance_ctx *ctx, const void *config,
                        s2r_error *err)
{
    (void)host;
    (void)ctx;
    (void)config;
    (void)err;
    *instance_out = NULL;
    return S2R_OK;
}

static void rules_destroy(void *instance)
{
    (void)instance;
}

/* Answers {"workload": {...}}: the workload the core converted with the
 * site configuration (req->rules), or, without one, a conversion of the
 * script on the built-in defaults. Stateless and thread-safe. */
static int rules_provider_convert(void *instance,
                                  const s2r_provider_request *req,
                                  json_object **answer_out, s2r_error *err)
{
    (void)instance;
    if (req->rules) {
        /* the core already converted with the site configuration */
        json_object *a = json_object_new_object();
        if (!a)
            return S2R_ENOMEM;
        json_object_object_add(a, "workload", json_object_get(req->rules));
        *answer_out = a;
        return S2R_OK;
    }
    s2r_config cfg;
    s2r_config_defaults(&cfg);
    s2r_diags d = {0};
    s2r_job job;
    s2r_workload wl;
    memset(&wl, 0, sizeof(wl));
    int rc = s2r_job_parse(&job, req->file, req->script, req->script_len,
                           &cfg, &d);
    if (rc == S2R_OK)
        rc = s2r_rules_convert(&wl, &job, &cfg, &d);
    if (rc == S2R_OK) {
        json_object *a = json_object_new_object();
        json_object *w = s2r_workload_to_json(&wl);
        json_object *warnings = json_object_new_array();
        if (!a || !w || !warnings) {
            json_object_put(a);
            json_object_put(w);
            json_object_put(warnings);
            rc = S2R_ENOMEM;
        } else {
            for (size_t i = 0; i < d.n; i++)
                if (d.v[i].severity == S2R_SEV_WARNING)
                    json_object_array_add(warnings,
                        json_object_new_string(d.v[i].message));
            json_object_object_add(a, "workload", w);
            json_object_object_add(a, "warnings", warnings);
            *answer_out = a;
        }
    } else if (err) {
        err->code = rc;
        snprintf(err->message, sizeof(err->message), "%s",
                 d.n ? d.v[0].message : "the script cannot be converted");
    }
    s2r_workload_free(&wl);
    s2r_job_free(&job);
    s2r_diags_clear(&d);
    s2r_config_free(&cfg);
    return rc;
}

static const s2r_provider_ops rules_ops = {
    .struct_size = sizeof(s2r_provider_ops),
    .convert = rules_provider_convert};

const s2r_plugin s2r_rules_plugin = {
    S2R_PLUGIN_HEADER,
    .kind = S2R_KIND_PROVIDER,
    .flags = S2R_PLUGIN_F_THREADSAFE,
    .name = "rules",
    .version = S2R_VERSION,
    .description = "Built-in deterministic conversion (sbatch semantics, "
                   "Run:ai mapping); no network, no model.",
    .options = NULL,
    .config_size = 0,
    .create = rules_create,
    .destroy = rules_destroy,
    .ops = &rules_ops};
