/* config.h: reading the site configuration s2r.ini (private).
 *
 * Sections:
 *   [core]          provider, format, plugin_dir, log_level
 *   [runai]         project, default_image, priority, preemptibility,
 *                   time_limit
 *   [partitions]    <partition> = <node pool>   (free keys)
 *   [constraints]   <feature> = <node type>     (free keys)
 *   [server], [lambda]  free keys, read with s2r_ini_get() by their owners
 *   [provider.<id>], [ratelimit.<id>], [auth.<id>]
 *                   plugin = <name> plus that plugin's options; validated by
 *                   the registry against the plugin's option table
 *
 * Two layers: s2r_ini_read() reads the file with inih into sections and
 * keys (reporting syntax errors, over-long lines, duplicate sections and
 * keys, all together); s2r_config_apply() validates the core sections and
 * fills s2r_config. s2r_config_load() does both.
 */
#ifndef S2R_CONFIG_H
#define S2R_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include <s2r/s2r.h>

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

#endif
