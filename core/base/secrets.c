/* secrets.c: resolving secret references and redacting secret values. */
#include "base.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void s2r_secure_zero(void *p, size_t n)
{
    volatile unsigned char *v = p;
    while (n--)
        *v++ = 0;
}

int s2r_secret_is_ref(const char *value)
{
    return value && (strncmp(value, "env:", 4) == 0 ||
                     strncmp(value, "file:", 5) == 0);
}

static int set_err(s2r_error *err, int code, const char *fmt, const char *a,
                   const char *b)
{
    if (err) {
        err->code = code;
        err->http_status = 0;
        snprintf(err->message, sizeof(err->message), fmt, a, b);
    }
    return code;
}

static int read_first_line(const char *path, char **out, s2r_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return set_err(err, S2R_ENOTFOUND,
                       "secret reference file:%s: cannot open (%s)", path,
                       strerror(errno));
    char *buf = malloc(S2R_SECRET_MAX + 2);
    if (!buf) {
        fclose(f);
        return set_err(err, S2R_ENOMEM, "secret reference file:%s: %s", path,
                       "out of memory");
    }
    size_t n = fread(buf, 1, S2R_SECRET_MAX + 1, f);
    int read_error = ferror(f);
    fclose(f);
    if (read_error) {
        free(buf);
        return set_err(err, S2R_ENOTFOUND,
                       "secret reference file:%s: %s", path, "read error");
    }
    buf[n] = '\0';
    size_t len = strcspn(buf, "\r\n");
    if (len > S2R_SECRET_MAX) {
        s2r_secure_zero(buf, n);
        free(buf);
        return set_err(err, S2R_ETOOBIG,
                       "secret reference file:%s: %s", path,
                       "first line longer than 64 KiB");
    }
    buf[len] = '\0';
    if (len == 0) {
        free(buf);
        return set_err(err, S2R_EINVAL, "secret reference file:%s: %s", path,
                       "the first line is empty");
    }
    s2r_secure_zero(buf + len, n - len);
    *out = buf;
    return S2R_OK;
}

int s2r_secret_resolve(const char *ref, char **out, s2r_error *err)
{
    *out = NULL;
    if (!ref || !s2r_secret_is_ref(ref))
        return set_err(err, S2R_EINVAL, "%s%s",
                       "not a secret reference (expected env:NAME or ",
                       "file:PATH)");
    if (strncmp(ref, "env:", 4) == 0) {
        const char *name = ref + 4;
        if (!*name)
            return set_err(err, S2R_EINVAL, "%s%s",
                           "secret reference env: names no variable", "");
        const char *v = getenv(name);
        if (!v)
            return set_err(err, S2R_ENOTFOUND,
                           "secret reference env:%s: variable not set%s", name,
                           "");
        if (!*v)
            return set_err(err, S2R_EINVAL,
                           "secret reference env:%s: variable is empty%s",
                           name, "");
        if (strlen(v) > S2R_SECRET_MAX)
            return set_err(err, S2R_ETOOBIG,
                           "secret reference env:%s: value longer than %s",
                           name, "64 KiB");
        *out = strdup(v);
        return *out ? S2R_OK
                    : set_err(err, S2R_ENOMEM, "%s%s", "out of memory", "");
    }
    const char *path = ref + 5;
    if (!*path)
        return set_err(err, S2R_EINVAL, "%s%s",
                       "secret reference file: names no file", "");
    return read_first_line(path, out, err);
}

void s2r_secret_free(char *secret)
{
    if (secret) {
        s2r_secure_zero(secret, strlen(secret));
        free(secret);
    }
}

void s2r_redact(char *out, size_t cap, const char *in,
                const char *const *secrets, size_t n)
{
    if (!cap)
        return;
    size_t o = 0;
    const size_t rl = strlen(S2R_REDACTED);
    while (*in && o + 1 < cap) {
        size_t match = 0;
        for (size_t i = 0; i < n; i++) {
            size_t sl = secrets[i] ? strlen(secrets[i]) : 0;
            if (sl && strncmp(in, secrets[i], sl) == 0 && sl > match)
                match = sl;
        }
        if (match) {
            for (size_t k = 0; k < rl && o + 1 < cap; k++)
                out[o++] = S2R_REDACTED[k];
            in += match;
        } else {
            out[o++] = *in++;
        }
    }
    out[o] = '\0';
}

/* The '_'-separated parts of a name that make it a secret's, in any case
 * (HF_TOKEN, DB_PASSWORD, AWS_SECRET_ACCESS_KEY), and the parts before a
 * KEY part that do (WANDB_API_KEY, SSH_PRIVATE_KEY). */
static const char *const secret_parts[] = {"TOKEN", "SECRET", "PASSWORD",
                                           "PASSWD", "APIKEY"};
static const char *const key_owners[] = {"API", "ACCESS", "PRIVATE", "AUTH"};

static bool part_is(const char *p, size_t n, const char *const *words,
                    size_t nwords)
{
    for (size_t i = 0; i < nwords; i++)
        if (strlen(words[i]) == n && !strncasecmp(p, words[i], n))
            return true;
    return false;
}

bool s2r_secret_name(const char *name)
{
    /* whole parts only: HF_TOKEN, not TOKENIZERS_PARALLELISM or
     * NUM_TOKENS */
    const char *prev = NULL;
    size_t prev_n = 0;
    for (const char *p = name; *p;) {
        size_t n = strcspn(p, "_");
        if (part_is(p, n, secret_parts, 5) ||
            (n == 3 && !strncasecmp(p, "KEY", 3) && prev &&
             part_is(prev, prev_n, key_owners, 4)))
            return true;
        prev = p;
        prev_n = n;
        p += n + (p[n] == '_');
    }
    return false;
}
