/* secrets.h: secret references (env:NAME, file:PATH) and redaction
 * (private). */
#ifndef S2R_SECRETS_H
#define S2R_SECRETS_H

#include <stddef.h>

#include <s2r/plugin.h>

/** Text shown instead of a secret value. */
#define S2R_REDACTED "<redacted>"
/** Largest secret read from a file (bytes). */
#define S2R_SECRET_MAX (64 * 1024)

/** 1 when @p value is a reference (starts with "env:" or "file:"). */
int s2r_secret_is_ref(const char *value);

/**
 * Resolve @p ref: `env:NAME` is the variable's value, `file:PATH` the
 * file's first line without its line end. *@p out receives a malloc'd copy
 * (wipe with s2r_secret_free()). @p err never holds the value.
 * @return S2R_OK; S2R_EINVAL (not a reference, empty name, empty value);
 *         S2R_ENOTFOUND (unset variable, unreadable file); S2R_ETOOBIG;
 *         S2R_ENOMEM.
 */
int s2r_secret_resolve(const char *ref, char **out, s2r_error *err);

/** Zero and free a secret from s2r_secret_resolve(); NULL is fine. */
void s2r_secret_free(char *secret);

/** Overwrite @p n bytes with zeros in a way the compiler keeps. */
void s2r_secure_zero(void *p, size_t n);

/**
 * Copy @p in into @p out (@p cap bytes, NUL-terminated, truncated) with
 * every occurrence of each non-empty string of @p secrets (@p n of them)
 * replaced by S2R_REDACTED.
 */
void s2r_redact(char *out, size_t cap, const char *in,
                const char *const *secrets, size_t n);

#endif
