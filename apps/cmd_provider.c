/* cmd_provider.c: `s2r [--config FILE] SCRIPT` through the plugin
 * registry: the configured provider ([core] provider, default rules), or
 * with no --config and S2R_API_ENDPOINT in the environment, the remote
 * provider, as the original s2r client did:
 *
 *     S2R_API_ENDPOINT   URL of the s2r server
 *     S2R_SHARED_SECRET  shared secret of the HMAC signature (unsigned
 *                        requests without it)
 *
 * The client needs only provider instances: [auth.*] and [ratelimit.*]
 * sections of a site INI shared with the server are not opened here (their
 * secrets and databases belong to the server). When a remote server
 * answered, its warnings replace the local ones, so the user sees what the
 * server's conversion said.
 *
 * s2r_cmd_convert_with_provider() is about 150 lines on purpose: the
 * configuration, the registry, the answer cache and the pipeline of one
 * conversion in order, with one clean-up at its end.
 */
#include <s2r/s2r.h>
#include "commands.h"
#include "config/config.h"
#include "llm/llm.h"
#include "plugin/registry.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* The provider called through the registry; keeps a finished answer (a
 * remote server's {"output", "warnings"}) to tell afterwards whether the
 * pipeline printed it. */
typedef struct client_wrap {
    s2r_registry *reg;
    const char *id;
    json_object *finished; /* one reference, or NULL */
} client_wrap;

static int client_convert(void *instance, const s2r_provider_request *req,
                          json_object **answer_out, s2r_error *err)
{
    client_wrap *w = instance;
    int rc = s2r_registry_convert(w->reg, w->id, req, answer_out, err);
    json_object *o;
    if (rc == S2R_OK && *answer_out &&
        json_object_is_type(*answer_out, json_type_object) &&
        json_object_object_get_ex(*answer_out, "output", &o) &&
        json_object_is_type(o, json_type_string)) {
        json_object_put(w->finished);
        w->finished = json_object_get(*answer_out);
    }
    return rc;
}

/* 1 when @p output is the finished answer's text. */
static int printed_finished(const client_wrap *w, const char *output)
{
    json_object *o;
    return w->finished && output &&
           json_object_object_get_ex(w->finished, "output", &o) &&
           strcmp(json_object_get_string(o), output) == 0;
}

/* The INI the environment implies (S2R_API_ENDPOINT, S2R_SHARED_SECRET).
 * Returns S2R_OK, S2R_EINVAL (reported) or S2R_ENOMEM. */
static int env_ini(s2r_ini *ini, s2r_diags *diags)
{
    const char *ep = getenv("S2R_API_ENDPOINT");
    for (const char *p = ep; *p; p++) {
        if ((unsigned char)*p <= ' ' || *p == 0x7f) {
            s2r_diags_add(diags, S2R_SEV_ERROR, "S2R_API_ENDPOINT", 0, NULL,
                          "spaces and control characters are not allowed "
                          "in the URL");
            return S2R_EINVAL;
        }
    }
    const char *secret = getenv("S2R_SHARED_SECRET");
    char *text = NULL;
    if (asprintf(&text,
                 "[core]\nprovider = remote\n"
                 "[provider.remote]\nplugin = remote\nendpoint = %s\n%s",
                 ep,
                 secret && *secret ? "secret = env:S2R_SHARED_SECRET\n"
                                   : "") < 0)
        return S2R_ENOMEM;
    int rc = s2r_ini_read_string(ini, "environment", text, diags);
    free(text);
    return rc;
}

/* A shallow copy of @p ini without the server-side sections ([auth.*],
 * [ratelimit.*]); free only its array. */
static int client_sections(s2r_ini *dst, const s2r_ini *src)
{
    memset(dst, 0, sizeof(*dst));
    dst->path = src->path;
    dst->v = calloc(src->n ? src->n : 1, sizeof(*dst->v));
    if (!dst->v)
        return S2R_ENOMEM;
    for (size_t i = 0; i < src->n; i++) {
        uint32_t kind = 0;
        if (s2r_config_section_kind(src->v[i].name, &kind, NULL) ==
                S2R_SECTION_PLUGIN &&
            (kind == S2R_KIND_AUTH || kind == S2R_KIND_RATELIMIT))
            continue;
        dst->v[dst->n++] = src->v[i];
    }
    dst->cap = dst->n;
    return S2R_OK;
}

/* Copy one diagnostic. */
static void copy_diag(s2r_diags *to, const s2r_diag *d)
{
    if (d->option)
        s2r_diags_add(to, d->severity, d->file, d->line, d->option, "%s",
                      d->message);
    else
        s2r_diags_add(to, d->severity, d->file, d->line, NULL, "%s",
                      d->message);
}

/* A server warning "file:line: warning: message" (as s2r_diag_format
 * writes them) back into a diagnostic; anything else as is. The server
 * names the script by the base name this client sent (X-S2R-Filename):
 * @p file, the path given here, names it instead, as a local run does. */
static void add_server_warning(s2r_diags *to, const char *text,
                               const char *file)
{
    const char *base = file ? strrchr(file, '/') : NULL;
    base = base ? base + 1 : file;
    static const struct {
        const char *tag;
        s2r_severity sev;
    } tags[] = {{": warning: ", S2R_SEV_WARNING},
                {": note: ", S2R_SEV_NOTE},
                {": error: ", S2R_SEV_ERROR}};
    for (size_t t = 0; t < sizeof(tags) / sizeof(tags[0]); t++) {
        const char *at = strstr(text, tags[t].tag);
        if (!at || at == text)
            continue;
        char where[512];
        size_t wl = (size_t)(at - text);
        if (wl >= sizeof(where))
            break;
        memcpy(where, text, wl);
        where[wl] = '\0';
        int line = 0;
        char *colon = strrchr(where, ':');
        if (colon && colon[1] && strspn(colon + 1, "0123456789") ==
                                     strlen(colon + 1)) {
            line = atoi(colon + 1);
            *colon = '\0';
        }
        s2r_severity sev = tags[t].sev == S2R_SEV_ERROR ? S2R_SEV_WARNING
                                                        : tags[t].sev;
        bool sent = base && *base && strcmp(where, base) == 0;
        s2r_diags_add(to, sev, sent ? file : where, line, NULL, "%s",
                      at + strlen(tags[t].tag));
        return;
    }
    s2r_diags_add(to, S2R_SEV_WARNING, NULL, 0, NULL, "%s", text);
}

int s2r_cmd_convert_with_provider(const char *file, const char *buf,
                                  size_t len, const char *format,
                                  const char *config_path,
                                  const char *plugin_dir,
                                  const char *submit_dir, bool prompt_only,
                                  char **out, s2r_diags *diags)
{
    *out = NULL;
    s2r_ini ini, view;
    memset(&ini, 0, sizeof(ini));
    memset(&view, 0, sizeof(view));
    s2r_config cfg;
    s2r_config_defaults(&cfg);
    if (submit_dir && !(cfg.submit_dir = strdup(submit_dir)))
        return S2R_ENOMEM;
    s2r_registry *reg = NULL;
    s2r_llm_cache *cache = NULL;
    int rc;
    int have_ini = 0;
    const char *ep = getenv("S2R_API_ENDPOINT");

    if (config_path) {
        rc = s2r_ini_read(&ini, config_path, diags);
        if (rc == S2R_ENOTFOUND)
            s2r_diags_add(diags, S2R_SEV_ERROR, config_path, 0, NULL,
                          "cannot open the configuration");
        if (rc == S2R_OK)
            rc = s2r_config_apply(&cfg, &ini, diags);
        have_ini = 1;
    } else if (ep && *ep) {
        rc = env_ini(&ini, diags);
        have_ini = 1;
    } else {
        rc = S2R_OK; /* built-in rules only (e.g. --prompt) */
    }
    if (rc == S2R_OK)
        rc = s2r_config_local_defaults(&cfg); /* the local user submits */
    if (rc != S2R_OK)
        goto done;
    int f = s2r_format_from_name(format ? format : "cli");
    if (f < 0) {
        s2r_diags_add(diags, S2R_SEV_ERROR, NULL, 0, NULL,
                      "unknown format '%s' (cli, yaml or json)", format);
        rc = S2R_EINVAL;
        goto done;
    }

    if (prompt_only) {
        /* the prompt is the core's, the same for every model provider:
         * no plugin is created, so no secret is needed */
        s2r_pipeline_request preq = {.file = file, .script = buf, .len = len,
                                      .format = (s2r_format)f,
                                      .prompt_only = true};
        s2r_pipeline_result res;
        rc = s2r_pipeline_run(&cfg, NULL, &preq, &res);
        for (size_t i = 0; i < res.diags.n; i++)
            copy_diag(diags, &res.diags.v[i]);
        if (rc == S2R_OK) {
            *out = res.output;
            res.output = NULL;
        }
        s2r_pipeline_result_free(&res);
        goto done;
    }
    s2r_registry_options ro = S2R_REGISTRY_OPTIONS_INIT;
    ro.plugin_dir = plugin_dir;
    if (have_ini) {
        if ((rc = client_sections(&view, &ini)) != S2R_OK)
            goto done;
        ro.ini = &view;
    }
    rc = s2r_registry_open(&reg, &ro, diags);
    if (rc != S2R_OK)
        goto done;
    const char *pid = s2r_registry_default_provider(reg);
    const s2r_plugin *desc = NULL;
    if (!pid)
        pid = "rules";
    void *pinst = NULL;
    rc = s2r_registry_provider(reg, pid, &desc, &pinst);
    int is_rules = strcmp(pid, "rules") == 0 ||
                   (rc == S2R_OK && strcmp(desc->name, "rules") == 0);
    if (rc != S2R_OK && !is_rules) {
        s2r_diags_add(diags, S2R_SEV_ERROR,
                      config_path ? config_path : "environment", 0, NULL,
                      "provider %s: no [provider.%s] section", pid, pid);
        rc = S2R_EINVAL;
        goto done;
    }

    client_wrap wrap = {.reg = reg, .id = pid, .finished = NULL};
    s2r_provider_ops wrap_ops = {.struct_size = sizeof(wrap_ops),
                                 .convert = client_convert};
    /* the answer cache of [provider.<pid>], from the INI read above */
    const char *cache_model = NULL;
    rc = s2r_llm_cache_from_ini(&cache, &cache_model,
                                have_ini ? &ini : NULL, pid, diags);
    if (rc != S2R_OK)
        goto done;
    /* the built-in rules provider runs through its ops like any other */
    s2r_provider_ref pref = {.id = pid,
                             .ops = is_rules && desc ? desc->ops : &wrap_ops,
                             .instance = is_rules ? pinst : &wrap,
                             .cache = cache,
                             .cache_model = cache_model};
    s2r_pipeline_request preq = {.file = file,
                                  .script = buf,
                                  .len = len,
                                  .format = (s2r_format)f,
                                  .model = NULL,
                                  .prompt_only = prompt_only,
                                  .client_ip = NULL,
                                  .timeout_ms = 0};
    s2r_pipeline_result res;
    rc = s2r_pipeline_run(&cfg, &pref, &preq, &res);
    int remote_out = rc == S2R_OK && printed_finished(&wrap, res.output);
    /* refused by the server (401, 413, 429): only the reason matters */
    int refused = rc == S2R_EAUTH || rc == S2R_ELIMITED || rc == S2R_ETOOBIG;
    for (size_t i = 0; i < res.diags.n; i++) {
        /* a remote server answered: its warnings (below) replace the
         * local ones, which came from the local parse and rules */
        if ((!remote_out && !refused) ||
            res.diags.v[i].severity == S2R_SEV_ERROR)
            copy_diag(diags, &res.diags.v[i]);
    }
    json_object *w;
    if (remote_out &&
        json_object_object_get_ex(wrap.finished, "warnings", &w) &&
        json_object_is_type(w, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(w); i++) {
            json_object *s = json_object_array_get_idx(w, i);
            if (json_object_is_type(s, json_type_string))
                add_server_warning(diags, json_object_get_string(s), file);
        }
    }
    json_object_put(wrap.finished);
    if (rc == S2R_OK) {
        *out = res.output;
        res.output = NULL;
    }
    s2r_pipeline_result_free(&res);
done:
    s2r_llm_cache_close(cache);
    s2r_registry_close(reg);
    free(view.v);
    s2r_config_free(&cfg);
    s2r_ini_free(&ini);
    return rc;
}
