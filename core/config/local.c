/* local.c: the submit directory and the identity of the local user, for
 * the conversions a user runs on their own account (see config.h). */
#include "config.h"

#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The @p n groups of @p g other than @p gid as "1000,1001" (malloc'd),
 * or NULL when there are none; frees @p g. */
static char *groups_text(gid_t *g, int n, gid_t gid, bool *oom)
{
    s2r_buf b = {0};
    for (int i = 0; i < n; i++)
        if (g[i] != gid)
            s2r_buf_printf(&b, b.len ? ",%u" : "%u", (unsigned)g[i]);
    free(g);
    if (b.oom)
        *oom = true;
    return b.len ? s2r_buf_finish(&b) : (s2r_buf_free(&b), NULL);
}

/* The supplementary groups of this process other than @p gid, as
 * "1000,1001" (malloc'd), or NULL when there are none. */
static char *local_groups(gid_t gid, bool *oom)
{
    int n = getgroups(0, NULL);
    if (n <= 0)
        return NULL;
    gid_t *g = calloc((size_t)n, sizeof(*g));
    if (!g) {
        *oom = true;
        return NULL;
    }
    n = getgroups(n, g);
    return groups_text(g, n, gid, oom);
}

static char *user_groups(const char *name, gid_t gid, bool *oom);

int s2r_config_local_defaults(s2r_config *cfg)
{
    bool oom = false;
    if (!cfg->submit_dir) {
        char *cwd = getcwd(NULL, 0);
        if (cwd) {
            cfg->submit_dir = s2r_path_fold(cwd);
            oom = !cfg->submit_dir;
            free(cwd);
        }
    }
    if (cfg->uid < 0 && cfg->user) {
        /* [site] user without uid: that user's IDs where this machine
         * knows the name, else none (never the local user's under
         * another name) */
        struct passwd pw, *res = NULL;
        char buf[4096];
        if (getpwnam_r(cfg->user, &pw, buf, sizeof(buf), &res) == 0 && res) {
            cfg->uid = (int64_t)res->pw_uid;
            if (cfg->gid < 0)
                cfg->gid = (int64_t)res->pw_gid;
            if (!cfg->groups)
                cfg->groups = user_groups(res->pw_name, res->pw_gid, &oom);
        }
        return oom ? S2R_ENOMEM : S2R_OK;
    }
    if (cfg->uid < 0)
        cfg->uid = (int64_t)getuid();
    if (cfg->gid < 0)
        cfg->gid = (int64_t)getgid();
    if (!cfg->groups)
        cfg->groups = local_groups((gid_t)cfg->gid, &oom);
    if (!cfg->user) {
        struct passwd pw, *res = NULL;
        char buf[4096];
        if (getpwuid_r((uid_t)cfg->uid, &pw, buf, sizeof(buf), &res) == 0 &&
            res && res->pw_name && !(cfg->user = strdup(res->pw_name)))
            oom = true;
    }
    return oom ? S2R_ENOMEM : S2R_OK;
}

/* The groups of user @p name other than @p gid, as "1000,1001"
 * (malloc'd), or NULL when there are none. */
static char *user_groups(const char *name, gid_t gid, bool *oom)
{
    int n = 64;
    gid_t *g = NULL;
    for (int tries = 0; tries < 4; tries++) {
        gid_t *more = realloc(g, (size_t)n * sizeof(*g));
        if (!more) {
            free(g);
            *oom = true;
            return NULL;
        }
        g = more;
        int want = n;
        if (getgrouplist(name, gid, g, &want) >= 0) {
            n = want;
            break;
        }
        n = want > n ? want : n * 2;
        if (tries == 3)
            n = 0;
    }
    return groups_text(g, n, gid, oom);
}

int s2r_config_owner(s2r_config *cfg, int64_t uid, int64_t gid)
{
    bool oom = false;
    struct passwd pw, *res = NULL;
    char buf[4096];
    cfg->uid = uid;
    cfg->gid = gid;
    cfg->user = NULL;
    cfg->groups = NULL;
    if (getpwuid_r((uid_t)uid, &pw, buf, sizeof(buf), &res) != 0 || !res)
        return S2R_OK;
    cfg->gid = (int64_t)res->pw_gid;
    if (res->pw_name && !(cfg->user = strdup(res->pw_name)))
        oom = true;
    if (res->pw_name)
        cfg->groups = user_groups(res->pw_name, res->pw_gid, &oom);
    return oom ? S2R_ENOMEM : S2R_OK;
}
