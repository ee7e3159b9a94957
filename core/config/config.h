/* config.h: core/config, layer 2: s2r.ini and option tables.
 * Owns: the INI reader, section kinds, option tables, the site config.
 * Uses: core/base and include/s2r; inih.
 *
 * Sections of s2r.ini:
 *   [core]          provider, format, plugin_dir, log_level
 *   [runai]         project, default_image, priority, preemptibility,
 *                   time_limit
 *   [site]          home, run_as, user, uid, gid, groups, slurm_log
 *   [partitions]    <partition> = <node pool>   (free keys)
 *   [constraints]   <feature> = <node type>     (free keys)
 *   [storage]       <path> = pvc:CLAIM | nfs:SERVER:EXPORT |
 *                   hostpath:PATH | datasource:[TYPE:]NAME, [,ro]
 *                   (storage.c)
 *   [accounts]      <--account> = <Run:ai project>   (free keys)
 *   [qos]           <--qos> = <Run:ai priority class> (checked)
 *   [modules]       <module>[/<version>] = <image>    (free keys)
 *   [server], [lambda]  free keys, read with s2r_ini_get() by their owners
 *   [provider.<id>], [ratelimit.<id>], [auth.<id>]
 *                   plugin = <name> plus that plugin's options; validated by
 *                   the registry against the plugin's option table
 *
 * Two layers: s2r_ini_read() reads the file with inih into sections and
 * keys (reporting syntax errors, over-long lines, duplicate sections and
 * keys, all together; ini.c); s2r_config_apply() validates the core
 * sections and fills s2r_config (site.c). s2r_config_load() does both.
 * Option tables (options.c) validate a section and bind its values for a
 * plugin or a core section; sections.c says what a section name is.
 */
#ifndef S2R_CONFIG_H
#define S2R_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <s2r/plugin.h>
#include <s2r/s2r.h>

#include "base/base.h"

/* ------------------------------------------------------------------ */
/* INI reader (ini.c)                                                  */
/* ------------------------------------------------------------------ */

typedef struct s2r_ini_entry {
    char *key;
    char *value; /**< may hold a secret: print only through the option
                      table's redaction (s2r_options_display_value) */
    int32_t line;
} s2r_ini_entry;

typedef struct s2r_ini_section {
    char *name;   /**< as written between the brackets ("provider.x") */
    int32_t line; /**< line of the [header] */
    s2r_ini_entry *v;
    size_t n, cap;
} s2r_ini_section;

typedef struct s2r_ini {
    char *path;   /**< file name for messages */
    s2r_ini_section *v;
    size_t n, cap;
} s2r_ini;

/**
 * Read @p path into @p out (zeroed by the caller; free with s2r_ini_free()
 * in all cases). Every problem goes to @p diags (file, line, section, key)
 * and reading continues, so all problems come at once: lines longer than
 * inih's limit, malformed lines, duplicate sections, duplicate keys.
 * Continuation lines (indented) append to the previous value with '\n'.
 * @return S2R_OK; S2R_ENOTFOUND (cannot open); S2R_EINVAL (problems
 *         reported); S2R_ENOMEM.
 */
int s2r_ini_read(s2r_ini *out, const char *path, s2r_diags *diags);
/** Same, from a NUL-terminated string; @p name is used in messages. */
int s2r_ini_read_string(s2r_ini *out, const char *name, const char *text,
                        s2r_diags *diags);
void s2r_ini_free(s2r_ini *ini);
/** The section named @p name, or NULL. */
const s2r_ini_section *s2r_ini_section_find(const s2r_ini *ini,
                                            const char *name);
/** The entry @p key of @p sec, or NULL. */
const s2r_ini_entry *s2r_ini_entry_find(const s2r_ini_section *sec,
                                        const char *key);
/** Value of [@p section] @p key, or NULL. */
const char *s2r_ini_get(const s2r_ini *ini, const char *section,
                        const char *key);

/* ------------------------------------------------------------------ */
/* Section kinds (sections.c)                                          */
/* ------------------------------------------------------------------ */

/** Plugin section kinds. */
#define S2R_SECTION_CORE 0
#define S2R_SECTION_PLUGIN 1  /**< [provider.x] [ratelimit.x] [auth.x] */
#define S2R_SECTION_UNKNOWN -1
/**
 * Classify a section name. For plugin sections *@p kind_out receives
 * S2R_KIND_* and *@p id_out points at the id inside @p name (either may be
 * NULL). A plugin section with an empty id is S2R_SECTION_UNKNOWN.
 */
int s2r_config_section_kind(const char *name, uint32_t *kind_out,
                            const char **id_out);
/** "provider" | "ratelimit" | "auth" | "?" */
const char *s2r_kind_name(uint32_t kind);

/* ------------------------------------------------------------------ */
/* Site configuration (site.c; s2r_config is in <s2r/s2r.h>)           */
/* ------------------------------------------------------------------ */

/**
 * Validate the core sections of @p ini ([core], [runai], [partitions],
 * [constraints], [server], [lambda]; unknown section names) and fill
 * @p cfg (holding defaults already). Plugin sections are left to the
 * registry. @return S2R_OK, S2R_EINVAL (reported), S2R_ENOMEM.
 */
int s2r_config_apply(s2r_config *cfg, const s2r_ini *ini, s2r_diags *diags);

/**
 * Read s2r.ini at @p path into @p cfg (which holds defaults already):
 * [runai] project, default_image, priority, preemptibility, time_limit;
 * [partitions] partition = node pool; [constraints] feature = node type;
 * [core] provider, format. Problems go to @p diags with file and line.
 * @return 0, S2R_ENOTFOUND (cannot open), S2R_EINVAL (bad values), S2R_ENOMEM.
 */
int s2r_config_load(s2r_config *cfg, const char *path, s2r_diags *diags);

/** Option tables of the core sections (for check-config and help). NULL
 *  for free-key sections and unknown names. */
const s2r_option *s2r_config_core_options(const char *section);

/**
 * Parse the entries of [storage] @p sec into cfg->volumes (storage.c):
 * each key an absolute path, each value pvc:CLAIM, nfs:SERVER:EXPORT,
 * hostpath:PATH or datasource:[TYPE:]NAME with an optional ",ro", per the
 * storage flags of the Run:ai 2.25 CLI. Every entry that does not parse
 * is an error in @p diags naming @p file, its line and key; the others
 * are kept. @return S2R_OK or S2R_ENOMEM.
 */
int s2r_config__storage(s2r_config *cfg, const s2r_ini_section *sec,
                        const char *file, s2r_diags *diags);

/**
 * What the s2r program and s2r_convert_json() know that a server must not
 * assume (local.c): the current directory as cfg->submit_dir when it is
 * NULL (sbatch's SLURM_SUBMIT_DIR), and the local user's name, UID, GID
 * and supplementary groups where [site] user, uid, gid and groups left
 * them unset. `s2r serve` and `s2r lambda` never call it: their pods run
 * as the site file or the request says, never as the server's user.
 * @return S2R_OK or S2R_ENOMEM (a directory that cannot be read leaves
 *         submit_dir NULL).
 */
int s2r_config_local_defaults(s2r_config *cfg);

/**
 * The identity of the user @p uid owns a script as, from the user
 * database (getpwuid_r(3), getgrouplist(3)), into @p cfg: uid, gid (the
 * entry's primary group, else @p gid, the file's), user (its name, else
 * NULL) and groups (its other groups as "1000,1001", else NULL). user and
 * groups are malloc'd and the caller's to free; what @p cfg held there
 * is not freed (a shallow copy's). For `s2r migrate` run by root, which
 * converts other users' scripts: each runs as its owner, as a SLURM job
 * runs as the user who submitted it.
 * @return S2R_OK or S2R_ENOMEM.
 */
int s2r_config_owner(s2r_config *cfg, int64_t uid, int64_t gid);

/** A list of supplementary groups as `[site] groups` and the `groups`
 *  request parameter take it: decimal group ids of at most 10 digits
 *  separated by ',' ("1000,1001"), as the Run:ai CLI's
 *  `--supplemental-groups` reads them; "" is the empty list.
 *  @return true when @p v is such a list. */
bool s2r_config_groups_ok(const char *v);

/* ------------------------------------------------------------------ */
/* Option tables: well-formedness, validation of an INI section,       */
/* binding into a plugin's config struct, help (options.c)             */
/* ------------------------------------------------------------------ */

/** Values bound for one instance; owns every string the config points to. */
typedef struct s2r_binding {
    void *config;          /**< config_size zeroed bytes, or NULL */
    char **owned;          /**< strings and arrays to free */
    size_t n_owned, cap_owned;
    const char **secrets;  /**< resolved secret values (in owned) */
    size_t n_secrets;
} s2r_binding;

/** A parsed value. */
typedef struct s2r_optval {
    int64_t i;     /**< INT, BOOL, SIZE (bytes), DURATION (ms) */
    double d;      /**< DOUBLE */
    const char *s; /**< STRING (the text), ENUM (the enum_values entry) */
} s2r_optval;

/** Name of an option type ("string", "int", ...), "?" when unknown. */
const char *s2r_option_type_name(uint32_t type);
/** Option @p name of table @p opts, or NULL. */
const s2r_option *s2r_options_find(const s2r_option *opts, const char *name);

/**
 * Parse @p text as a value of option @p o (type, bounds, enum values).
 * Lists are checked only (s2r_options_apply splits them). On failure
 * writes a reason to @p msg (never the value of a SECRET option).
 * @return S2R_OK or S2R_EINVAL.
 */
int s2r_option_parse(const s2r_option *o, const char *text, s2r_optval *out,
                     char *msg, size_t cap);

/**
 * Check a plugin's option table: names (non-empty, lower_snake_case,
 * unique, not "plugin"), types, flags, ENUM values, bounds, defaults that
 * parse, offsets inside @p config_size and aligned for the bound type,
 * descriptions. On failure @p msg names the option index and name.
 * @return S2R_OK or S2R_EINVAL.
 */
int s2r_options_check_table(const s2r_option *opts, uint32_t config_size,
                            char *msg, size_t cap);

/**
 * Validate INI section @p sec against @p opts and, when @p out is not NULL
 * and nothing was wrong, bind the values (defaults for absent keys,
 * secrets resolved) into a new binding. Every problem becomes an error in
 * @p diags with @p file, line, "[section] key:" and, for an unknown key,
 * the list of valid keys. @p owner names the plugin in messages. Keys in
 * @p reserved (NULL-terminated, may be NULL) are skipped.
 * @return S2R_OK; S2R_EINVAL (reported); S2R_ENOMEM.
 */
int s2r_options_apply(const s2r_option *opts, uint32_t config_size,
                      const s2r_ini_section *sec, const char *file,
                      const char *owner, const char *const *reserved,
                      s2r_diags *diags, s2r_binding **out);
void s2r_binding_free(s2r_binding *b);

/** The text to show for @p value of option @p o: the value itself, the
 *  reference of a SECRET (env:NAME, file:PATH) or S2R_REDACTED. */
const char *s2r_options_display_value(const s2r_option *o, const char *value);

/** Print the option table as help text (secret defaults never shown). */
void s2r_options_help(FILE *f, const s2r_option *opts);

#endif
