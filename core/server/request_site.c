/* request_site.c: the submit directory and the script owner's identity a
 * request brings to `s2r serve` and `s2r lambda` (see request_site.h).
 * The remote provider (plugins/remote) sends them as the query
 * parameters submit_dir, user, uid, gid and groups, so a client's
 * conversion through a server gives what it gives locally. */
#include "request_site.h"

#include "base/base.h"
#include "config/config.h"

#include <stdlib.h>
#include <string.h>

static const char *get(s2r_header_lookup_fn param, void *payload,
                       const char *name)
{
    const char *v = param ? param(payload, name) : NULL;
    return v && *v ? v : NULL;
}

/* A decimal id in [0, 2^31). */
static bool id_of(const char *v, int64_t *out)
{
    size_t n = strspn(v, "0123456789");
    if (n == 0 || n > 10 || v[n])
        return false;
    *out = strtoll(v, NULL, 10);
    return *out <= 2147483647;
}

/* A user name: printable ASCII, no '/' or blank, at most 64 bytes. */
static bool user_ok(const char *v)
{
    size_t n = strlen(v);
    for (size_t i = 0; i < n; i++)
        if (v[i] <= ' ' || v[i] > '~' || v[i] == '/')
            return false;
    return n > 0 && n <= 64;
}

static int identity(s2r_request_site *rs, s2r_header_lookup_fn param,
                    void *payload, const char **bad)
{
    const char *user = get(param, payload, "user");
    const char *uid = get(param, payload, "uid");
    const char *gid = get(param, payload, "gid");
    const char *groups = get(param, payload, "groups");
    if (user && !rs->cfg.user) {
        if (!user_ok(user))
            return *bad = "user", S2R_EINVAL;
        if (!(rs->cfg.user = rs->user = strdup(user)))
            return S2R_ENOMEM;
    }
    if (uid && rs->cfg.uid < 0 && !id_of(uid, &rs->cfg.uid))
        return *bad = "uid", S2R_EINVAL;
    if (gid && rs->cfg.gid < 0 && !id_of(gid, &rs->cfg.gid))
        return *bad = "gid", S2R_EINVAL;
    if (groups && !rs->cfg.groups) {
        if (!s2r_config_groups_ok(groups))
            return *bad = "groups", S2R_EINVAL;
        if (!(rs->cfg.groups = rs->groups = strdup(groups)))
            return S2R_ENOMEM;
    }
    return S2R_OK;
}

int s2r_request_site_fill(s2r_request_site *rs, const s2r_config *base,
                          s2r_header_lookup_fn param, void *payload,
                          const char **bad)
{
    memset(rs, 0, sizeof(*rs));
    rs->cfg = *base;
    *bad = NULL;
    const char *sd = get(param, payload, "submit_dir");
    if (sd && !rs->cfg.submit_dir) {
        if (sd[0] != '/')
            return *bad = "submit_dir", S2R_EINVAL;
        if (!(rs->cfg.submit_dir = rs->submit_dir = s2r_path_fold(sd)))
            return S2R_ENOMEM;
    }
    return identity(rs, param, payload, bad);
}

void s2r_request_site_free(s2r_request_site *rs)
{
    free(rs->submit_dir);
    free(rs->user);
    free(rs->groups);
    memset(rs, 0, sizeof(*rs));
}
