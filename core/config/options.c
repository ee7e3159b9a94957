/* options.c: option tables: validate, bind, help (see config.h). */
#include "config.h"
#include "base/base.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *s2r_option_type_name(uint32_t type)
{
    switch (type) {
    case S2R_OPT_STRING: return "string";
    case S2R_OPT_INT: return "int";
    case S2R_OPT_BOOL: return "bool";
    case S2R_OPT_DOUBLE: return "double";
    case S2R_OPT_SIZE: return "size";
    case S2R_OPT_DURATION: return "duration";
    case S2R_OPT_ENUM: return "enum";
    case S2R_OPT_LIST: return "list";
    default: return "?";
    }
}

const s2r_option *s2r_options_find(const s2r_option *opts, const char *name)
{
    for (size_t i = 0; opts && opts[i].name; i++)
        if (strcmp(opts[i].name, name) == 0)
            return &opts[i];
    return NULL;
}

static int bounded(const s2r_option *o)
{
    return !(o->min == 0 && o->max == 0);
}

static int fail(char *msg, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *msg, size_t cap, const char *fmt, ...)
{
    if (msg && cap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, cap, fmt, ap);
        va_end(ap);
    }
    return S2R_EINVAL;
}

/* "12", "-3": whole text, no overflow */
static int parse_i64(const char *t, int64_t *out, const char **end_out)
{
    errno = 0;
    char *end = NULL;
    long long v = strtoll(t, &end, 10);
    if (end == t || errno == ERANGE)
        return -1;
    *out = (int64_t)v;
    *end_out = end;
    return 0;
}

static int mul_ok(int64_t v, int64_t m, int64_t *out)
{
    if (v > INT64_MAX / m || v < INT64_MIN / m)
        return -1;
    *out = v * m;
    return 0;
}

/* ENUM: one of o->enum_values; out->s is the table's own string. */
static int parse_enum(const s2r_option *o, const char *text,
                      const char *shown, s2r_optval *out, char *msg,
                      size_t cap)
{
    for (size_t i = 0; o->enum_values && o->enum_values[i]; i++)
        if (strcmp(text, o->enum_values[i]) == 0) {
            out->s = o->enum_values[i];
            return S2R_OK;
        }
    char list[256] = "";
    size_t used = 0;
    for (size_t i = 0; o->enum_values && o->enum_values[i]; i++) {
        int n = snprintf(list + used, sizeof(list) - used, "%s%s",
                         i ? ", " : "", o->enum_values[i]);
        if (n < 0 || (size_t)n >= sizeof(list) - used)
            break;
        used += (size_t)n;
    }
    return fail(msg, cap, "'%s' is not one of: %s", shown, list);
}

/* BOOL: true/false, yes/no, on/off (any case), 1/0. */
static int parse_bool(const char *text, const char *shown, s2r_optval *out,
                      char *msg, size_t cap)
{
    if (!strcasecmp(text, "true") || !strcasecmp(text, "yes") ||
        !strcasecmp(text, "on") || !strcmp(text, "1"))
        out->i = 1;
    else if (!strcasecmp(text, "false") || !strcasecmp(text, "no") ||
             !strcasecmp(text, "off") || !strcmp(text, "0"))
        out->i = 0;
    else
        return fail(msg, cap, "'%s' is not a boolean (true/false, "
                    "yes/no, on/off, 1/0)", shown);
    return S2R_OK;
}

/* DOUBLE: a finite number (strtod), within the bounds. */
static int parse_double(const s2r_option *o, const char *text,
                        const char *shown, s2r_optval *out, char *msg,
                        size_t cap)
{
    errno = 0;
    char *e = NULL;
    double d = strtod(text, &e);
    if (e == text || *e || errno == ERANGE || !isfinite(d))
        return fail(msg, cap, "'%s' is not a number", shown);
    if (bounded(o) && (d < (double)o->min || d > (double)o->max))
        return fail(msg, cap, "%s is outside %lld..%lld", shown,
                    (long long)o->min, (long long)o->max);
    out->d = d;
    return S2R_OK;
}

/* Bytes per unit of a SIZE suffix ("", b, k/kb/kib, m.., g.., t.., any
 * case); 0 when the suffix is unknown. */
static int64_t size_unit(const char *end)
{
    if (!*end || !strcasecmp(end, "b"))
        return 1;
    if (!strcasecmp(end, "k") || !strcasecmp(end, "kb") ||
        !strcasecmp(end, "kib"))
        return (int64_t)1 << 10;
    if (!strcasecmp(end, "m") || !strcasecmp(end, "mb") ||
        !strcasecmp(end, "mib"))
        return (int64_t)1 << 20;
    if (!strcasecmp(end, "g") || !strcasecmp(end, "gb") ||
        !strcasecmp(end, "gib"))
        return (int64_t)1 << 30;
    if (!strcasecmp(end, "t") || !strcasecmp(end, "tb") ||
        !strcasecmp(end, "tib"))
        return (int64_t)1 << 40;
    return 0;
}

/* Milliseconds per unit of a DURATION suffix ("", ms, s, m/min, h, d);
 * 0 when the suffix is unknown. */
static int64_t duration_unit(const char *end)
{
    if (!*end || !strcmp(end, "ms"))
        return 1;
    if (!strcmp(end, "s"))
        return 1000;
    if (!strcmp(end, "m") || !strcmp(end, "min"))
        return 60000;
    if (!strcmp(end, "h"))
        return 3600000;
    if (!strcmp(end, "d"))
        return 86400000;
    return 0;
}

/* INT, SIZE (bytes) and DURATION (ms): a whole number, with the type's
 * unit suffix, within the bounds. */
static int parse_integer(const s2r_option *o, const char *text,
                         const char *shown, s2r_optval *out, char *msg,
                         size_t cap)
{
    const char *end = NULL;
    int64_t v = 0, m = 1;
    if (o->type == S2R_OPT_INT) {
        if (parse_i64(text, &v, &end) || *end)
            return fail(msg, cap, "'%s' is not an integer", shown);
    } else {
        bool size = o->type == S2R_OPT_SIZE;
        if (parse_i64(text, &v, &end) ||
            !(m = size ? size_unit(end) : duration_unit(end)))
            return fail(msg, cap,
                        size ? "'%s' is not a size (512, 10K, 4M, 1G)"
                             : "'%s' is not a duration (1500ms, 2s, 5m, 1h)",
                        shown);
        if (mul_ok(v, m, &v))
            return fail(msg, cap, "'%s' is too large", shown);
    }
    if (bounded(o) && (v < o->min || v > o->max))
        return fail(msg, cap, "%s is outside %lld..%lld%s", shown,
                    (long long)o->min, (long long)o->max,
                    o->type == S2R_OPT_SIZE       ? " bytes"
                    : o->type == S2R_OPT_DURATION ? " ms"
                                                  : "");
    out->i = v;
    return S2R_OK;
}

int s2r_option_parse(const s2r_option *o, const char *text, s2r_optval *out,
                     char *msg, size_t cap)
{
    memset(out, 0, sizeof(*out));
    const int secret = (o->flags & S2R_OPT_F_SECRET) != 0;
    const char *shown = secret ? S2R_REDACTED : text;
    switch (o->type) {
    case S2R_OPT_STRING:
    case S2R_OPT_LIST:
        out->s = text;
        return S2R_OK;
    case S2R_OPT_ENUM:
        return parse_enum(o, text, shown, out, msg, cap);
    case S2R_OPT_BOOL:
        return parse_bool(text, shown, out, msg, cap);
    case S2R_OPT_DOUBLE:
        return parse_double(o, text, shown, out, msg, cap);
    case S2R_OPT_INT:
    case S2R_OPT_SIZE:
    case S2R_OPT_DURATION:
        return parse_integer(o, text, shown, out, msg, cap);
    default:
        return fail(msg, cap, "unknown option type %u", o->type);
    }
}

/* size and alignment of the C type bound for an option type */
static size_t bound_size(uint32_t type, size_t *align)
{
    switch (type) {
    case S2R_OPT_INT:
    case S2R_OPT_SIZE:
    case S2R_OPT_DURATION:
        *align = alignof(int64_t);
        return sizeof(int64_t);
    case S2R_OPT_BOOL:
        *align = alignof(int32_t);
        return sizeof(int32_t);
    case S2R_OPT_DOUBLE:
        *align = alignof(double);
        return sizeof(double);
    default:
        *align = alignof(const char *);
        return sizeof(const char *);
    }
}

static int valid_key(const char *k)
{
    if (!k[0] || !islower((unsigned char)k[0]))
        return 0;
    for (const char *p = k; *p; p++)
        if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) &&
            *p != '_')
            return 0;
    return 1;
}

int s2r_options_check_table(const s2r_option *opts, uint32_t config_size,
                            char *msg, size_t cap)
{
    if (!opts)
        return S2R_OK;
    const uint32_t known_flags =
        S2R_OPT_F_REQUIRED | S2R_OPT_F_SECRET | S2R_OPT_F_DEPRECATED;
    for (size_t i = 0; i < 1024; i++) {
        const s2r_option *o = &opts[i];
        if (!o->name)
            return S2R_OK;
        const char *nm = o->name;
        if (!valid_key(nm))
            return fail(msg, cap, "option %zu: name '%s' is not "
                        "lower_snake_case", i, nm);
        if (!strcmp(nm, "plugin"))
            return fail(msg, cap, "option %zu: name 'plugin' is reserved", i);
        for (size_t j = 0; j < i; j++)
            if (!strcmp(opts[j].name, nm))
                return fail(msg, cap, "option %zu '%s': duplicate name "
                            "(also option %zu)", i, nm, j);
        if (o->type < S2R_OPT_STRING || o->type > S2R_OPT_LIST)
            return fail(msg, cap, "option %zu '%s': type %u, expected 1..8",
                        i, nm, o->type);
        if (o->flags & ~known_flags)
            return fail(msg, cap, "option %zu '%s': unknown flags 0x%x", i,
                        nm, o->flags & ~known_flags);
        if (!o->description || !o->description[0])
            return fail(msg, cap, "option %zu '%s': no description", i, nm);
        if (o->type == S2R_OPT_ENUM &&
            (!o->enum_values || !o->enum_values[0]))
            return fail(msg, cap, "option %zu '%s': enum without "
                        "enum_values", i, nm);
        if ((o->flags & S2R_OPT_F_SECRET) && o->type != S2R_OPT_STRING)
            return fail(msg, cap, "option %zu '%s': secret option of type "
                        "%s, expected string", i, nm,
                        s2r_option_type_name(o->type));
        if ((o->flags & (S2R_OPT_F_SECRET | S2R_OPT_F_REQUIRED)) &&
            o->default_value)
            return fail(msg, cap, "option %zu '%s': a %s option has a "
                        "default", i, nm,
                        o->flags & S2R_OPT_F_SECRET ? "secret" : "required");
        if (o->min > o->max)
            return fail(msg, cap, "option %zu '%s': min %lld > max %lld", i,
                        nm, (long long)o->min, (long long)o->max);
        if (o->offset != S2R_OPT_NO_BIND) {
            size_t align = 1;
            size_t sz = bound_size(o->type, &align);
            if ((uint64_t)o->offset + sz > config_size)
                return fail(msg, cap, "option %zu '%s': offset %u + %zu "
                            "bytes past config_size %u", i, nm, o->offset, sz,
                            config_size);
            if (o->offset % align)
                return fail(msg, cap, "option %zu '%s': offset %u not "
                            "aligned to %zu", i, nm, o->offset, align);
        }
        if (o->default_value) {
            s2r_optval v;
            char why[200];
            if (s2r_option_parse(o, o->default_value, &v, why, sizeof(why)))
                return fail(msg, cap, "option %zu '%s': default: %s", i, nm,
                            why);
        }
    }
    return fail(msg, cap, "option table has no S2R_OPTION_END within 1024 "
                "entries");
}

/* ---- binding ---- */

static int own(s2r_binding *b, char *p)
{
    if (!p)
        return S2R_ENOMEM;
    if (b->n_owned == b->cap_owned) {
        size_t cap = b->cap_owned ? b->cap_owned * 2 : 16;
        char **n = realloc(b->owned, cap * sizeof(*n));
        if (!n) {
            free(p);
            return S2R_ENOMEM;
        }
        b->owned = n;
        b->cap_owned = cap;
    }
    b->owned[b->n_owned++] = p;
    return S2R_OK;
}

void s2r_binding_free(s2r_binding *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->n_secrets; i++)
        s2r_secure_zero((char *)b->secrets[i], strlen(b->secrets[i]));
    for (size_t i = 0; i < b->n_owned; i++)
        free(b->owned[i]);
    free(b->owned);
    free(b->secrets);
    free(b->config);
    free(b);
}

static int split_list(s2r_binding *b, const char *text, const char ***out)
{
    size_t n = 1;
    for (const char *p = text; *p; p++)
        n += *p == ',';
    const char **arr = calloc(n + 1, sizeof(*arr));
    if (!arr || own(b, (char *)arr))
        return S2R_ENOMEM;
    size_t k = 0;
    const char *p = text;
    while (1) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        while (len && isspace((unsigned char)*p)) {
            p++;
            len--;
        }
        while (len && isspace((unsigned char)p[len - 1]))
            len--;
        if (len) {
            char *s = strndup(p, len);
            if (own(b, s))
                return S2R_ENOMEM;
            arr[k++] = s;
        }
        if (!e)
            break;
        p = e + 1;
    }
    *out = arr;
    return S2R_OK;
}

static int bind_one(s2r_binding *b, const s2r_option *o, const char *text,
                    const s2r_optval *v)
{
    if (o->offset == S2R_OPT_NO_BIND || !b->config)
        return S2R_OK;
    char *slot = (char *)b->config + o->offset;
    switch (o->type) {
    case S2R_OPT_INT:
    case S2R_OPT_SIZE:
    case S2R_OPT_DURATION:
        memcpy(slot, &v->i, sizeof(int64_t));
        return S2R_OK;
    case S2R_OPT_BOOL: {
        int32_t x = (int32_t)v->i;
        memcpy(slot, &x, sizeof(x));
        return S2R_OK;
    }
    case S2R_OPT_DOUBLE:
        memcpy(slot, &v->d, sizeof(double));
        return S2R_OK;
    case S2R_OPT_ENUM: {
        const char *s = v->s; /* points into the plugin's enum_values */
        memcpy(slot, &s, sizeof(s));
        return S2R_OK;
    }
    case S2R_OPT_LIST: {
        const char **arr = NULL;
        if (split_list(b, text, &arr))
            return S2R_ENOMEM;
        memcpy(slot, &arr, sizeof(arr));
        return S2R_OK;
    }
    default: { /* STRING: already a binding-owned copy */
        const char *s = text;
        memcpy(slot, &s, sizeof(s));
        return S2R_OK;
    }
    }
}

static void valid_keys(const s2r_option *opts, char *buf, size_t cap)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; opts && opts[i].name; i++) {
        int n = snprintf(buf + used, cap - used, "%s%s", i ? ", " : "",
                         opts[i].name);
        if (n < 0 || (size_t)n >= cap - used)
            return;
        used += (size_t)n;
    }
    if (!used)
        snprintf(buf, cap, "(none but 'plugin')");
}

static int reserved_key(const char *const *reserved, const char *k)
{
    for (size_t i = 0; reserved && reserved[i]; i++)
        if (!strcmp(reserved[i], k))
            return 1;
    return 0;
}

/* A new binding owning config_size zeroed bytes. */
static int binding_new(uint32_t config_size, s2r_binding **out)
{
    s2r_binding *b = calloc(1, sizeof(*b));
    if (!b)
        return S2R_ENOMEM;
    if (config_size && !(b->config = calloc(1, config_size))) {
        free(b);
        return S2R_ENOMEM;
    }
    *out = b;
    return S2R_OK;
}

/* An error for every key of @p sec that no option of @p opts names. */
static void report_unknown_keys(const s2r_option *opts,
                                const s2r_ini_section *sec, const char *file,
                                const char *owner,
                                const char *const *reserved,
                                s2r_diags *diags)
{
    const char *sname = sec ? sec->name : "?";
    for (size_t i = 0; sec && i < sec->n; i++) {
        const s2r_ini_entry *e = &sec->v[i];
        if (reserved_key(reserved, e->key))
            continue;
        if (!s2r_options_find(opts, e->key)) {
            char keys[600];
            valid_keys(opts, keys, sizeof(keys));
            s2r_diags_add(diags, S2R_SEV_ERROR, file, e->line, e->key,
                          "[%s] %s: unknown key for %s; valid keys: %s",
                          sname, e->key, owner ? owner : "this section",
                          keys);
        }
    }
}

/* Release a value of option @p o (a secret is wiped first). */
static void value_free(const s2r_option *o, char *value)
{
    if (o->flags & S2R_OPT_F_SECRET)
        s2r_secret_free(value);
    else
        free(value);
}

/* The value option @p o gets from @p text: a SECRET reference resolved
 * (a secret written in the file is kept, with a warning), anything else
 * copied. @return S2R_OK (*value_out malloc'd), S2R_EINVAL (reported),
 * S2R_ENOMEM. */
static int option_value(const s2r_option *o, const char *text,
                        const char *sname, const char *file, int line,
                        s2r_diags *diags, char **value_out)
{
    char *value = NULL;
    *value_out = NULL;
    if ((o->flags & S2R_OPT_F_SECRET) && s2r_secret_is_ref(text)) {
        s2r_error err = {0};
        int src = s2r_secret_resolve(text, &value, &err);
        if (src == S2R_ENOMEM)
            return S2R_ENOMEM;
        if (src != S2R_OK) {
            s2r_diags_add(diags, S2R_SEV_ERROR, file, line, o->name,
                          "[%s] %s: %s", sname, o->name, err.message);
            return S2R_EINVAL;
        }
    } else {
        if (o->flags & S2R_OPT_F_SECRET)
            s2r_diags_add(diags, S2R_SEV_WARNING, file, line, o->name,
                          "[%s] %s: secret written in the file; prefer "
                          "env:NAME or file:PATH", sname, o->name);
        value = strdup(text);
    }
    if (!value)
        return S2R_ENOMEM;
    *value_out = value;
    return S2R_OK;
}

/* Keep @p value in @p b (owned; a SECRET also in the redaction list) and
 * bind it into the config struct. @return S2R_OK or S2R_ENOMEM. */
static int binding_keep(s2r_binding *b, const s2r_option *o, char *value,
                        const s2r_optval *v)
{
    if (own(b, value))
        return S2R_ENOMEM;
    if (o->flags & S2R_OPT_F_SECRET) {
        const char **ns = realloc(b->secrets,
                                  (b->n_secrets + 1) * sizeof(*ns));
        if (!ns)
            return S2R_ENOMEM;
        b->secrets = ns;
        b->secrets[b->n_secrets++] = value;
    }
    return bind_one(b, o, value, v) ? S2R_ENOMEM : S2R_OK;
}

/* Validate option @p o of the table against @p sec (its key, else its
 * default) and bind it into @p b (may be NULL: validate only). Problems
 * go to @p diags. @return S2R_OK or S2R_ENOMEM. */
static int apply_option(const s2r_option *o, const s2r_ini_section *sec,
                        const char *file, s2r_binding *b, s2r_diags *diags)
{
    const char *sname = sec ? sec->name : "?";
    const s2r_ini_entry *e = sec ? s2r_ini_entry_find(sec, o->name) : NULL;
    const char *text = e ? e->value : o->default_value;
    int line = e ? e->line : (sec ? sec->line : 0);
    if (e && (o->flags & S2R_OPT_F_DEPRECATED))
        s2r_diags_add(diags, S2R_SEV_WARNING, file, line, o->name,
                      "[%s] %s: deprecated: %s", sname, o->name,
                      o->description);
    if (!text) {
        if (o->flags & S2R_OPT_F_REQUIRED)
            s2r_diags_add(diags, S2R_SEV_ERROR, file, line, o->name,
                          "[%s] missing required key '%s' (%s)", sname,
                          o->name, o->description);
        return S2R_OK;
    }
    char *value = NULL;
    int rc = option_value(o, text, sname, file, line, diags, &value);
    if (rc != S2R_OK)
        return rc == S2R_ENOMEM ? rc : S2R_OK;
    s2r_optval v;
    char why[300];
    if (s2r_option_parse(o, value, &v, why, sizeof(why)) != S2R_OK) {
        s2r_diags_add(diags, S2R_SEV_ERROR, file, line, o->name,
                      "[%s] %s: %s%s", sname, o->name, why,
                      e ? "" : " (the plugin's default)");
        value_free(o, value);
        return S2R_OK;
    }
    if (!b) {
        value_free(o, value);
        return S2R_OK;
    }
    return binding_keep(b, o, value, &v);
}

int s2r_options_apply(const s2r_option *opts, uint32_t config_size,
                      const s2r_ini_section *sec, const char *file,
                      const char *owner, const char *const *reserved,
                      s2r_diags *diags, s2r_binding **out)
{
    const size_t errors_before = s2r_diags_count(diags, S2R_SEV_ERROR);
    s2r_binding *b = NULL;
    if (out) {
        *out = NULL;
        if (binding_new(config_size, &b) != S2R_OK)
            return S2R_ENOMEM;
    }
    report_unknown_keys(opts, sec, file, owner, reserved, diags);
    int rc = S2R_OK;
    for (size_t i = 0; opts && opts[i].name && rc == S2R_OK; i++)
        rc = apply_option(&opts[i], sec, file, b, diags);
    if (rc == S2R_OK && s2r_diags_count(diags, S2R_SEV_ERROR) > errors_before)
        rc = S2R_EINVAL;
    if (rc == S2R_OK && out)
        *out = b;
    else
        s2r_binding_free(b);
    return rc;
}

const char *s2r_options_display_value(const s2r_option *o, const char *value)
{
    if (o && (o->flags & S2R_OPT_F_SECRET) && !s2r_secret_is_ref(value))
        return S2R_REDACTED;
    return value;
}

void s2r_options_help(FILE *f, const s2r_option *opts)
{
    if (!opts || !opts[0].name) {
        fprintf(f, "  (no options)\n");
        return;
    }
    for (size_t i = 0; opts[i].name; i++) {
        const s2r_option *o = &opts[i];
        fprintf(f, "  %-22s %-8s", o->name, s2r_option_type_name(o->type));
        if (o->flags & S2R_OPT_F_REQUIRED)
            fprintf(f, " required");
        if (o->flags & S2R_OPT_F_SECRET)
            fprintf(f, " secret (env:NAME or file:PATH)");
        if (o->flags & S2R_OPT_F_DEPRECATED)
            fprintf(f, " deprecated");
        if (o->default_value)
            fprintf(f, " default: %s",
                    s2r_options_display_value(o, o->default_value));
        if (bounded(o))
            fprintf(f, " range: %lld..%lld%s", (long long)o->min,
                    (long long)o->max,
                    o->type == S2R_OPT_SIZE       ? " bytes"
                    : o->type == S2R_OPT_DURATION ? " ms"
                                                  : "");
        if (o->type == S2R_OPT_ENUM && o->enum_values) {
            fprintf(f, " values:");
            for (size_t k = 0; o->enum_values[k]; k++)
                fprintf(f, "%s%s", k ? "|" : " ", o->enum_values[k]);
        }
        fprintf(f, "\n      %s\n", o->description ? o->description : "");
    }
}
