/* options.h: plugin option tables: well-formedness, validation of an INI
 * section, binding into the plugin's config struct, help (private). */
#ifndef S2R_OPTIONS_H
#define S2R_OPTIONS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <s2r/plugin.h>
#include "config.h"

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
