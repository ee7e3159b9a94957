/* conversion.h: one batch script through the converter, in one or more
 * formats: the code path `s2r SCRIPT` and `s2r migrate` share.
 *
 * With the built-in rules provider (no [provider.*] named, no --prompt, no
 * S2R_API_ENDPOINT) everything runs in this process: parse as sbatch does
 * (s2r_job_parse), convert once (s2r_rules_convert), render each format
 * (s2r_emit). Otherwise each format goes through the provider glue of
 * libs2r-runtime.so (s2r_cmd_convert_with_provider, apps/cmd_provider.c),
 * which loads the plugins the configuration names.
 */
#ifndef S2R_APPS_CONVERSION_H
#define S2R_APPS_CONVERSION_H

#include <stdbool.h>
#include <stddef.h>

#include <s2r/s2r.h>

#define S2R_N_FORMATS 3 /* S2R_FMT_CLI, S2R_FMT_YAML, S2R_FMT_JSON */
#define S2R_FORMAT_BIT(f) (1u << (unsigned)(f))

/** s2r_cmd_convert_with_provider(): one format through the provider the
 *  configuration names. Returns S2R_OK, S2R_EINVAL (refused), S2R_ENOMEM
 *  or a provider status (S2R_EAUTH, S2R_ELIMITED, S2R_ETOOBIG). */
typedef int (*s2r_provider_glue)(const char *file, const char *buf,
                                 size_t len, const char *format,
                                 const char *config_path,
                                 const char *plugin_dir,
                                 const char *submit_dir, bool prompt_only,
                                 char **out, s2r_diags *diags);

typedef struct s2r_conversion_request {
    const char *file;        /**< script name for messages and the job name */
    const char *script;      /**< script bytes (need not end in NUL) */
    size_t len;              /**< bytes, at most 4 MiB (slurmctld's
                                  max_script_size) */
    unsigned formats;        /**< S2R_FORMAT_BIT() of each wanted format */
    const s2r_config *cfg;   /**< site configuration, loaded; borrowed */
    bool keep_workload;      /**< keep the parsed job and the rules workload
                                  in the result (reports) */
    s2r_provider_glue provider; /**< NULL: rules in process */
    const char *config_path; /**< for the provider glue, or NULL */
    const char *plugin_dir;  /**< for the provider glue, or NULL */
    bool prompt_only;        /**< provider glue: print the model prompt */
} s2r_conversion_request;

typedef struct s2r_conversion {
    int rc;                  /**< S2R_OK when every format rendered */
    char *output[S2R_N_FORMATS]; /**< malloc'd text per wanted format */
    s2r_diags diags;         /**< errors, warnings and notes, in the order a
                                  single conversion prints them; a message
                                  every format gave is there once */
    unsigned *diag_formats;  /**< per diagnostic: S2R_FORMAT_BIT()s of the
                                  formats whose conversion gave it */
    bool have_workload;      /**< job and workload below are filled */
    s2r_job job;             /**< keep_workload: what sbatch made of it */
    s2r_workload workload;   /**< keep_workload: the rules workload */
} s2r_conversion;

/**
 * Convert @p req->script in every format of @p req->formats into @p res
 * (zeroed here; free with s2r_conversion_free() in all cases).
 * @return res->rc: S2R_OK; S2R_EINVAL (the script is refused, errors in
 * res->diags, no output); S2R_ENOMEM; a provider status.
 */
int s2r_conversion_run(s2r_conversion *res,
                       const s2r_conversion_request *req);
void s2r_conversion_free(s2r_conversion *res);

/** "cli" | "yaml" | "json". */
const char *s2r_format_name(s2r_format f);

#endif
