/* storage.c: the [storage] section of s2r.ini, parsed and checked into
 * s2r_config.volumes (see config.h).
 *
 *   [storage]
 *   PATH = pvc:CLAIM[,ro]             an existing PersistentVolumeClaim
 *   PATH = nfs:SERVER:EXPORT[,ro]     an NFS export
 *   PATH = hostpath:HOSTPATH[,ro]     a folder of every node
 *   PATH = datasource:[TYPE:]NAME     a data source registered in Run:ai
 *
 * PATH is an absolute path as the scripts see it on the SLURM cluster; the
 * pod mounts the storage at the same path. The kinds follow the storage
 * flags of the Run:ai 2.25 CLI reference (`--existing-pvc claimname=,
 * path=`, `--nfs path=,server=,mountpath=`, `--host-path path=,mount=`,
 * `--datasource type=,name=`). A data source is mounted where Run:ai
 * registered it, so PATH must be that path. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* the types of `--datasource type=` (Run:ai CLI reference) */
static const char *const ds_types[] = {"pvc", "nfs", "hostPath", "s3", "git",
                                       "configMap", "secretVolume", NULL};

/* A Kubernetes object name (DNS-1123 subdomain): what a claim name is. */
static bool claim_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 253)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
              c == '.'))
            return false;
    }
    return s[0] != '-' && s[0] != '.' && s[n - 1] != '-' && s[n - 1] != '.';
}

typedef struct entry {
    const char *file;
    const s2r_ini_entry *e;
    s2r_diags *d;
} entry;

/* An error naming file, line and "[storage] KEY". @return S2R_EINVAL or
 * S2R_ENOMEM. */
static int bad(const entry *en, const char *why)
{
    return s2r_diags_add(en->d, S2R_SEV_ERROR, en->file, en->e->line,
                         en->e->key,
                         "[storage] %s = %s: %s", en->e->key, en->e->value,
                         why)
               ? S2R_ENOMEM
               : S2R_EINVAL;
}

/* ",ro" / ",rw" after the storage, cut off @p spec in place. */
static int options(const entry *en, char *spec, bool *ro)
{
    char *comma = strchr(spec, ',');
    *ro = false;
    if (!comma)
        return S2R_OK;
    *comma = '\0';
    for (char *o = comma + 1; o;) {
        char *next = strchr(o, ',');
        if (next)
            *next++ = '\0';
        if (!strcmp(o, "ro"))
            *ro = true;
        else if (strcmp(o, "rw"))
            return bad(en, "unknown option after ',' (ro or rw)");
        o = next;
    }
    return S2R_OK;
}

/* nfs:SERVER:EXPORT */
static int parse_nfs(const entry *en, const char *rest, s2r_volume *v)
{
    const char *colon = strchr(rest, ':');
    if (!colon || colon == rest || colon[1] != '/')
        return bad(en, "write nfs:SERVER:EXPORT, the export an absolute "
                       "path (nfs:nfs.example.org:/export/home)");
    v->server = strndup(rest, (size_t)(colon - rest));
    v->source = s2r_path_fold(colon + 1);
    return v->server && v->source ? S2R_OK : S2R_ENOMEM;
}

/* datasource:[TYPE:]NAME */
static int parse_datasource(const entry *en, const char *rest, s2r_volume *v)
{
    const char *colon = strchr(rest, ':');
    const char *name = colon ? colon + 1 : rest;
    if (colon) {
        size_t k = 0;
        while (ds_types[k] && (strlen(ds_types[k]) != (size_t)(colon - rest) ||
                               strncmp(ds_types[k], rest, (size_t)(colon - rest))))
            k++;
        if (!ds_types[k])
            return bad(en, "the data source type is one of pvc, nfs, "
                           "hostPath, s3, git, configMap, secretVolume");
        if (!(v->server = strdup(ds_types[k])))
            return S2R_ENOMEM;
    }
    if (!*name)
        return bad(en, "write datasource:TYPE:NAME, NAME as registered in "
                       "Run:ai");
    v->source = strdup(name);
    return v->source ? S2R_OK : S2R_ENOMEM;
}

/* The storage after KIND: into @p v. */
static int parse_kind(const entry *en, const char *spec, s2r_volume *v)
{
    const char *colon = strchr(spec, ':');
    size_t kl = colon ? (size_t)(colon - spec) : strlen(spec);
    const char *rest = colon ? colon + 1 : "";
    if (kl == 3 && !strncmp(spec, "pvc", 3)) {
        v->kind = S2R_VOL_PVC;
        if (!claim_name_ok(rest))
            return bad(en, "write pvc:CLAIM, CLAIM the name of an existing "
                           "PersistentVolumeClaim (lowercase letters, digits, "
                           "'-' and '.')");
        v->source = strdup(rest);
        return v->source ? S2R_OK : S2R_ENOMEM;
    }
    if (kl == 3 && !strncmp(spec, "nfs", 3)) {
        v->kind = S2R_VOL_NFS;
        return parse_nfs(en, rest, v);
    }
    if (kl == 8 && !strncmp(spec, "hostpath", 8)) {
        v->kind = S2R_VOL_HOSTPATH;
        if (rest[0] != '/')
            return bad(en, "write hostpath:PATH, PATH an absolute folder of "
                           "the nodes");
        v->source = s2r_path_fold(rest);
        return v->source ? S2R_OK : S2R_ENOMEM;
    }
    if (kl == 10 && !strncmp(spec, "datasource", 10)) {
        v->kind = S2R_VOL_DATASOURCE;
        return parse_datasource(en, rest, v);
    }
    return bad(en, "the storage is pvc:CLAIM, nfs:SERVER:EXPORT, "
                   "hostpath:PATH or datasource:TYPE:NAME, each with an "
                   "optional ,ro");
}

/* One entry into @p v (zeroed; cleared on failure). */
static int parse_entry(const entry *en, s2r_volume *v)
{
    const char *key = en->e->key;
    if (key[0] != '/' || strstr(key, "/../") ||
        (strlen(key) >= 3 && !strcmp(key + strlen(key) - 3, "/..")))
        return bad(en, "the key is an absolute path as the scripts see it "
                       "on the SLURM cluster (/project), without '..'");
    char *spec = strdup(en->e->value);
    if (!spec)
        return S2R_ENOMEM;
    int rc = *spec ? options(en, spec, &v->read_only)
                   : bad(en, "no storage given (pvc:CLAIM, "
                             "nfs:SERVER:EXPORT, hostpath:PATH or "
                             "datasource:TYPE:NAME)");
    if (rc == S2R_OK)
        rc = parse_kind(en, spec, v);
    free(spec);
    if (rc == S2R_OK && v->kind == S2R_VOL_DATASOURCE && v->read_only)
        rc = bad(en, "a data source is mounted as Run:ai registered it: "
                     "',ro' cannot change that");
    if (rc == S2R_OK && !(v->path = s2r_path_fold(key)))
        rc = S2R_ENOMEM;
    v->line = en->e->line;
    if (rc != S2R_OK)
        s2r_volume_clear(v);
    return rc;
}

int s2r_config__storage(s2r_config *cfg, const s2r_ini_section *sec,
                        const char *file, s2r_diags *diags)
{
    for (size_t i = 0; i < sec->n; i++) {
        entry en = {file, &sec->v[i], diags};
        s2r_volume v = {0};
        int rc = parse_entry(&en, &v);
        if (rc == S2R_ENOMEM)
            return rc;
        if (rc != S2R_OK)
            continue;
        for (size_t k = 0; k < cfg->n_volumes; k++)
            if (!strcmp(cfg->volumes[k].path, v.path)) {
                char why[96];
                snprintf(why, sizeof(why), "the same path as the entry of "
                         "line %d", cfg->volumes[k].line);
                rc = bad(&en, why);
                break;
            }
        if (rc != S2R_OK) {
            s2r_volume_clear(&v);
            if (rc == S2R_ENOMEM)
                return rc;
            continue;
        }
        s2r_volume *nv = realloc(cfg->volumes,
                                 (cfg->n_volumes + 1) * sizeof(*nv));
        if (!nv) {
            s2r_volume_clear(&v);
            return S2R_ENOMEM;
        }
        cfg->volumes = nv;
        nv[cfg->n_volumes++] = v;
    }
    return S2R_OK;
}
