/* credentials.c: AWS credentials from the environment and the shared
 * files (~/.aws/credentials, ~/.aws/config), read with inih, per the AWS
 * SDKs' default chain. See aws.h. */
#include "aws.h"

#include <ini.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void wipe_free(char *s)
{
    if (s) {
        OPENSSL_cleanse(s, strlen(s));
        free(s);
    }
}

void s2r_aws_credentials_free(s2r_aws_credentials *c)
{
    if (!c)
        return;
    wipe_free(c->access_key_id);
    wipe_free(c->secret_access_key);
    wipe_free(c->session_token);
    memset(c, 0, sizeof(*c));
}

static const char *nonempty_env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

struct ini_find {
    const char *section;
    s2r_aws_credentials *out;
    int seen;   /* the section exists */
    int oom;
};

static int dup_into(char **dst, const char *v)
{
    wipe_free(*dst);
    *dst = strdup(v);
    return *dst != NULL;
}

static int on_ini(void *user, const char *section, const char *name,
                  const char *value)
{
    struct ini_find *f = user;
    if (strcmp(section, f->section) != 0)
        return 1;
    f->seen = 1;
    if (!name)
        return 1; /* section header (INI_CALL_HANDLER_ON_NEW_SECTION) */
    char **dst = NULL;
    if (strcasecmp(name, "aws_access_key_id") == 0)
        dst = &f->out->access_key_id;
    else if (strcasecmp(name, "aws_secret_access_key") == 0)
        dst = &f->out->secret_access_key;
    else if (strcasecmp(name, "aws_session_token") == 0 ||
             (strcasecmp(name, "aws_security_token") == 0 &&
              !f->out->session_token))
        dst = &f->out->session_token;
    if (dst && *value && !dup_into(dst, value))
        f->oom = 1;
    return 1;
}

/* Read @p section of @p path. 1 found (both keys), 0 not there, -1 error
 * (err set). */
static int creds_from_file(const char *path, const char *section,
                           const char *label, s2r_aws_credentials *out,
                           s2r_error *err)
{
    FILE *fp = fopen(path, "r");
    if (!fp)
        return 0;
    s2r_aws_credentials c = {0};
    struct ini_find f = {section, &c, 0, 0};
    int r = ini_parse_file(fp, on_ini, &f);
    fclose(fp);
    if (f.oom) {
        s2r_aws_credentials_free(&c);
        s2r_error_set(err, S2R_ENOMEM, "out of memory reading %s", path);
        return -1;
    }
    if (r != 0 && !c.access_key_id) {
        s2r_aws_credentials_free(&c);
        s2r_error_set(err, S2R_EINVAL, "%s: line %d: not an INI line", path, r);
        return -1;
    }
    if (!c.access_key_id && !c.secret_access_key) {
        s2r_aws_credentials_free(&c);
        return 0;
    }
    if (!c.access_key_id || !c.secret_access_key) {
        s2r_aws_credentials_free(&c);
        s2r_error_set(err, S2R_EINVAL,
                "%s: profile [%s] has %s but not %s", path, label,
                c.access_key_id ? "aws_access_key_id"
                                : "aws_secret_access_key",
                c.access_key_id ? "aws_secret_access_key"
                                : "aws_access_key_id");
        return -1;
    }
    *out = c;
    snprintf(out->source, sizeof(out->source), "%s [%s]", path, label);
    return 1;
}

int s2r_aws_credentials_load(s2r_aws_credentials *out, const char *profile,
                             s2r_error *err)
{
    if (!out)
        return s2r_error_set(err, S2R_EINVAL, "no output for AWS credentials");
    memset(out, 0, sizeof(*out));
    int explicit_profile = profile && *profile;
    if (!explicit_profile) {
        const char *ak = nonempty_env("AWS_ACCESS_KEY_ID");
        const char *sk = nonempty_env("AWS_SECRET_ACCESS_KEY");
        const char *tok = nonempty_env("AWS_SESSION_TOKEN");
        if (!tok)
            tok = nonempty_env("AWS_SECURITY_TOKEN");
        if (ak && sk) {
            out->access_key_id = strdup(ak);
            out->secret_access_key = strdup(sk);
            out->session_token = tok ? strdup(tok) : NULL;
            if (!out->access_key_id || !out->secret_access_key ||
                (tok && !out->session_token)) {
                s2r_aws_credentials_free(out);
                return s2r_error_set(err, S2R_ENOMEM, "out of memory");
            }
            snprintf(out->source, sizeof(out->source), "environment");
            return S2R_OK;
        }
        if (ak || sk)
            return s2r_error_set(err, S2R_EINVAL,
                           "%s is set but %s is not",
                           ak ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
                           ak ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
        profile = nonempty_env("AWS_PROFILE");
        if (!profile)
            profile = nonempty_env("AWS_DEFAULT_PROFILE");
        if (!profile)
            profile = "default";
    }
    const char *home = nonempty_env("HOME");
    char cred_path[1024], conf_path[1024];
    const char *p = nonempty_env("AWS_SHARED_CREDENTIALS_FILE");
    if (p)
        snprintf(cred_path, sizeof(cred_path), "%s", p);
    else
        snprintf(cred_path, sizeof(cred_path), "%s/.aws/credentials",
                 home ? home : "");
    p = nonempty_env("AWS_CONFIG_FILE");
    if (p)
        snprintf(conf_path, sizeof(conf_path), "%s", p);
    else
        snprintf(conf_path, sizeof(conf_path), "%s/.aws/config",
                 home ? home : "");

    int r = creds_from_file(cred_path, profile, profile, out, err);
    if (r != 0)
        return r > 0 ? S2R_OK : err ? err->code : S2R_EINVAL;
    char section[256];
    if (strcmp(profile, "default") == 0)
        snprintf(section, sizeof(section), "default");
    else
        snprintf(section, sizeof(section), "profile %s", profile);
    r = creds_from_file(conf_path, section, profile, out, err);
    if (r != 0)
        return r > 0 ? S2R_OK : err ? err->code : S2R_EINVAL;
    return s2r_error_set(err, S2R_ENOTFOUND,
                   "no AWS credentials: set AWS_ACCESS_KEY_ID and "
                   "AWS_SECRET_ACCESS_KEY, or add profile [%s] to %s "
                   "(AWS_SHARED_CREDENTIALS_FILE, AWS_PROFILE)",
                   profile, cred_path);
}
