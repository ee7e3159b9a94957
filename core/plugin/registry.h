/* registry.h: core/plugin, layer 6: the plugin host.
 * Owns: host table (host.h), loader (loader.h), registry, rules provider.
 * Uses: core/convert, runai, aws, config, base, include/s2r; curl, OpenSSL.
 *
 * Plugin instances configured by s2r.ini.
 *
 * How the rest of s2r uses it (the pipeline, the server):
 *
 *     s2r_registry_options o = S2R_REGISTRY_OPTIONS_INIT;
 *     o.config_path = cfg_path;          // may be NULL: built-ins only
 *     o.plugin_dir = cli_plugin_dir;     // --plugin-dir, may be NULL
 *     s2r_registry *reg;
 *     if (s2r_registry_open(&reg, &o, &diags) != S2R_OK) ... print diags
 *     json_object *answer = NULL; s2r_error err = {0};
 *     rc = s2r_registry_convert(reg, NULL, &req, &answer, &err);
 *     ...
 *     s2r_registry_close(reg);
 *
 * Built-in plugins (the `rules` provider) are ordinary descriptors, checked
 * like a loaded .so and called through the same s2r_provider_ops. A
 * built-in provider with no `[provider.<its name>]` section gets an
 * implicit instance with id = its name and default options, so `rules`
 * always exists. s2r_registry_provider(reg, NULL, ...) picks [core]
 * provider, else "rules".
 *
 * Threads: open/close on the main thread. The call wrappers
 * (s2r_registry_convert/_ratelimit_check/_auth_verify/_auth_sign) are
 * thread-safe: they serialize calls per instance unless the plugin sets
 * S2R_PLUGIN_F_THREADSAFE. Callers that use the raw desc/instance from
 * s2r_registry_find() take that duty themselves.
 */
#ifndef S2R_REGISTRY_H
#define S2R_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include <s2r/s2r.h>
#include "config/config.h"
#include "host.h"
#include "loader.h"

typedef struct s2r_registry s2r_registry;

typedef struct s2r_registry_options {
    const char *config_path; /**< s2r.ini, or NULL (built-ins only) */
    const s2r_ini *ini;      /**< already-read INI used instead of
                                  config_path (borrowed), or NULL */
    const char *plugin_dir;  /**< --plugin-dir (':'-separated), or NULL */
    const s2r_plugin *const *builtins; /**< further built-ins (tests),
                                            NULL-terminated, or NULL; the
                                            rules provider is always added */
    int32_t check_only;      /**< 1: validate everything, create nothing */
    int32_t log_level;       /**< S2R_LOG_*; -1: [core] log_level (warn) */
    s2r_log_fn log_fn;       /**< plugin log lines; NULL: stderr */
    void *log_payload;
} s2r_registry_options;

#define S2R_REGISTRY_OPTIONS_INIT \
    {NULL, NULL, NULL, NULL, 0, -1, NULL, NULL}

/**
 * Read the INI, load the plugins its [provider.*] [ratelimit.*] [auth.*]
 * sections name, validate every section against its plugin's option table
 * (all problems reported together in @p diags, each with file, line,
 * section and key), then (unless check_only) call load() once per plugin
 * and create() per section: auth, then ratelimit, then provider.
 * Core sections ([runai] ...) are checked by s2r_config_apply(), not here.
 * @return S2R_OK (*@p out set); S2R_EINVAL (reported; *@p out NULL);
 *         S2R_ENOTFOUND (no config file); S2R_ENOMEM.
 */
int s2r_registry_open(s2r_registry **out, const s2r_registry_options *opts,
                      s2r_diags *diags);

/** The same in three steps: new, add built-ins, load. */
int s2r_registry_new(s2r_registry **out, const s2r_registry_options *opts);
/** Register a built-in descriptor before s2r_registry_load(); a refusal
 *  goes to @p diags. @return S2R_OK, S2R_EINVAL, S2R_EABI, S2R_ENOMEM. */
int s2r_registry_add_builtin(s2r_registry *reg, const s2r_plugin *desc,
                             s2r_diags *diags);
int s2r_registry_load(s2r_registry *reg, s2r_diags *diags);

/** destroy() every instance (reverse order), unload() every plugin. */
void s2r_registry_close(s2r_registry *reg);

/**
 * The instance [<kind>.<id>]: its checked descriptor copy and the
 * plugin's instance pointer (either out may be NULL).
 * @return S2R_OK or S2R_ENOTFOUND.
 */
int s2r_registry_find(s2r_registry *reg, uint32_t kind, const char *id,
                      const s2r_plugin **desc_out, void **instance_out);

/** Provider @p id, or with @p id NULL the configured one ([core]
 *  provider, default "rules"). */
int s2r_registry_provider(s2r_registry *reg, const char *id,
                          const s2r_plugin **desc_out, void **instance_out);
/** Id of the default provider ("rules" when [core] provider is unset). */
const char *s2r_registry_default_provider(const s2r_registry *reg);

/** Number of instances and the i-th one (kind, id, descriptor). */
size_t s2r_registry_count(const s2r_registry *reg);
int s2r_registry_at(const s2r_registry *reg, size_t i, uint32_t *kind_out,
                    const char **id_out, const s2r_plugin **desc_out);
/** The instance's context (log prefix, redaction) for core-side logging
 *  about it; NULL when not found. */
const s2r_instance_ctx *s2r_registry_ctx(s2r_registry *reg, uint32_t kind,
                                         const char *id);
/** The loader (plugin list, search path). */
s2r_loader *s2r_registry_loader(s2r_registry *reg);
/** The INI in use (NULL without a config). */
const s2r_ini *s2r_registry_ini(const s2r_registry *reg);

/* ---- calls through the ops, serialized per instance when needed ---- */

/** provider convert() of provider @p id (NULL: default provider).
 *  Every string of the answer (notes, warnings, a remote output, command,
 *  env) and err->message come back with the instance's SECRET option
 *  values replaced by S2R_REDACTED ("<redacted>"), so nothing a provider
 *  returns can print its own key. */
int s2r_registry_convert(s2r_registry *reg, const char *id,
                         const s2r_provider_request *req,
                         json_object **answer_out, s2r_error *err);
int s2r_registry_ratelimit_check(s2r_registry *reg, const char *id,
                                 const char *client_key, int64_t now_unix_s,
                                 s2r_ratelimit_result *out, s2r_error *err);
/** S2R_EUNSUPPORTED when the plugin has no verify (or sign). */
int s2r_registry_auth_verify(s2r_registry *reg, const char *id,
                             const s2r_auth_request *req,
                             s2r_auth_result *out, s2r_error *err);
/** auth forget() of [auth.@p id] for @p req, which verify() accepted and
 *  the server refused with a retryable answer (see s2r_auth_ops). A
 *  no-op when the plugin has no forget (its ops struct is of ABI 1.0, or
 *  the member is NULL) or the instance is unknown. */
void s2r_registry_auth_forget(s2r_registry *reg, const char *id,
                              const s2r_auth_request *req);
int s2r_registry_auth_sign(s2r_registry *reg, const char *id,
                           const s2r_auth_sign_request *req,
                           s2r_header_out *headers_out, uint32_t max_headers,
                           uint32_t *n_out, s2r_error *err);

/** The built-in rules provider (rules_provider.c). */
extern const s2r_plugin s2r_rules_plugin;

#endif
