/* identity.c: who the pods run as (see site_rules.h). SLURM runs a job
 * as the user who submitted it, with their UID, GID and supplementary
 * groups, so their files on shared storage are theirs; a pod runs as the
 * image's user unless told otherwise (Run:ai CLI --run-as-uid,
 * --run-as-gid, --supplemental-groups; YAML securityContext; REST
 * spec.security with uidGidSource custom).
 *
 * [site] run_as = user | image; default user when [storage] maps a
 * shared file system (a PVC, NFS export or host path), since its files
 * belong to users, else image. The UID, GID and groups come from [site]
 * uid, gid, groups, else from the local user (the s2r program; see
 * s2r_config_local_defaults() in core/config); `s2r serve` and `s2r
 * lambda` never use their own. */
#include "site_rules.h"
#include "base/base.h"

#include <stdlib.h>
#include <string.h>

/* A numeric UID or GID of --uid / --gid: true and *id set. Names need
 * the cluster's user database, which a conversion does not read. */
static bool numeric_id(const char *v, int64_t *id)
{
    if (!v || !*v || strspn(v, "0123456789") != strlen(v) || strlen(v) > 10)
        return false;
    *id = strtoll(v, NULL, 10);
    return *id <= 0xfffffffeLL; /* 4294967295 is nobody's -1 */
}

/* The job's --uid and --gid (per sbatch(1): root submits the job to run
 * as that user and group) as numbers, -1 where not given; a name is a
 * warning, and is not applied. */
static void job_ids(const s2r_job *job, int64_t *uid, int64_t *gid,
                    s2r_diags *d)
{
    static const char *const opt[2] = {"uid", "gid"};
    int64_t *out[2] = {uid, gid};
    for (int i = 0; i < 2; i++) {
        *out[i] = -1;
        const char *v = s2r_rules__directive_value(job, opt[i]);
        if (v && !numeric_id(v, out[i])) {
            *out[i] = -1;
            s2r_diags_add(d, S2R_SEV_WARNING, job->file, 0, opt[i],
                          "--%s=%s: a pod runs as a numeric %s, and a name "
                          "needs the cluster's user database: not applied; "
                          "give the number (--%s=NUMBER)", opt[i], v,
                          i ? "GID" : "UID", opt[i]);
        }
    }
}

/* True when the job runs as the site's (or local) user: @p job_uid, the
 * --uid number, is not given (-1) or is [site] uid. */
static bool same_user(const s2r_config *cfg, int64_t job_uid)
{
    return job_uid < 0 || (cfg && cfg->uid == job_uid);
}

bool s2r_rules__site_user_runs(const s2r_job *job, const s2r_config *cfg)
{
    int64_t uid;
    const char *v = s2r_rules__directive_value(job, "uid");
    return same_user(cfg, v && numeric_id(v, &uid) ? uid : -1);
}

/* True when the job's output or error file name holds %u. */
static bool names_user_in_files(const s2r_job *job)
{
    static const char *const opt[] = {"output", "error", "input"};
    for (size_t i = 0; i < 3; i++) {
        const char *v = s2r_rules__directive_value(job, opt[i]);
        if (v && strstr(v, "%u"))
            return true;
    }
    return false;
}

/* The pods run as a UID whose user name the site file does not give:
 * what the script takes from the name is warned. */
static int warn_nameless(const s2r_workload *wl, const s2r_job *job,
                         s2r_diags *d)
{
    bool files = names_user_in_files(job);
    if (wl->user || (!job->uses_home && !files))
        return S2R_OK;
    return s2r_diags_add(d, S2R_SEV_WARNING, job->file, 0, NULL,
                         "the pods run as UID %lld, and s2r knows no user "
                         "name for it ([site] user names [site] uid's user; "
                         "another --uid has none): %s%s%s have no value in "
                         "the pod unless its image knows that UID",
                         (long long)wl->run_as_uid,
                         job->uses_home ? "~ and $HOME" : "",
                         job->uses_home && files ? ", and " : "",
                         files ? "%u in file names" : "");
}

static bool maps_shared_storage(const s2r_config *cfg)
{
    for (size_t i = 0; cfg && i < cfg->n_volumes; i++)
        if (cfg->volumes[i].kind != S2R_VOL_DATASOURCE)
            return true;
    return false;
}

/* @p name = @p value in the pods' environment when the body reads it
 * and the job does not set it; a NULL value sets nothing. */
static int give_if_read(s2r_workload *wl, const s2r_job *job,
                        const char *name, const char *value)
{
    if (!value || !s2r_rules__body_names(job, name) ||
        s2r_envv_get(&wl->env, name))
        return S2R_OK;
    return s2r_envv_set(&wl->env, name, value);
}

/* The job owner's name and IDs the body reads, as a SLURM job has them:
 * USER from the submitting shell's environment (sbatch passes it), and
 * SLURM_JOB_USER, SLURM_JOB_UID, SLURM_JOB_GID (sbatch(1) OUTPUT
 * ENVIRONMENT VARIABLES): --uid/--gid's, else the site's or local
 * user's, whose name and group are theirs only when it is that user. */
static int give_owner(s2r_workload *wl, const s2r_job *job,
                      const s2r_config *cfg, int64_t job_uid, int64_t job_gid)
{
    bool same = same_user(cfg, job_uid);
    const char *name = same && cfg ? cfg->user : NULL;
    int64_t uid = job_uid >= 0 ? job_uid : cfg ? cfg->uid : -1;
    int64_t gid = job_gid >= 0 ? job_gid : same && cfg ? cfg->gid : -1;
    char u[S2R_I64_TEXT], g[S2R_I64_TEXT];
    if (uid >= 0)
        s2r_i64_text(u, uid);
    if (gid >= 0)
        s2r_i64_text(g, gid);
    return give_if_read(wl, job, "USER", name) ||
           give_if_read(wl, job, "SLURM_JOB_USER", name) ||
           give_if_read(wl, job, "SLURM_JOB_UID", uid >= 0 ? u : NULL) ||
           give_if_read(wl, job, "SLURM_JOB_GID", gid >= 0 ? g : NULL)
               ? S2R_ENOMEM
               : S2R_OK;
}

int s2r_rules__identity(s2r_workload *wl, const s2r_job *job,
                        const s2r_config *cfg, s2r_diags *d)
{
    int64_t job_uid, job_gid;
    job_ids(job, &job_uid, &job_gid, d);
    /* %u names the job's user: the site's only when it is that user */
    bool same = same_user(cfg, job_uid);
    if (cfg && cfg->user && same && !(wl->user = strdup(cfg->user)))
        return S2R_ENOMEM;
    if (give_owner(wl, job, cfg, job_uid, job_gid))
        return S2R_ENOMEM;
    bool user = cfg && cfg->run_as ? !strcmp(cfg->run_as, "user")
                                   : maps_shared_storage(cfg);
    if (!user && job_uid < 0) {
        if (job_gid >= 0)
            s2r_diags_add(d, S2R_SEV_WARNING, job->file, 0, "gid",
                          "--gid=%lld: the pods run as the image's user "
                          "([site] run_as), whose group it keeps: not "
                          "applied", (long long)job_gid);
        return S2R_OK;
    }
    if (job_uid < 0 && (!cfg || cfg->uid < 0))
        return s2r_diags_add(d, S2R_SEV_WARNING, job->file, 0, NULL,
                             "the pods run as the image's user: the script "
                             "owner's UID is not known (set [site] uid, gid "
                             "and groups, or [site] run_as = image)");
    /* --uid names the user; the site's or local user's group and groups
     * are theirs only when it is the same user */
    wl->run_as_user = true;
    wl->run_as_uid = job_uid >= 0 ? job_uid : cfg->uid;
    wl->run_as_gid = job_gid >= 0            ? job_gid
                     : same && cfg->gid >= 0 ? cfg->gid
                                             : -1;
    if (wl->run_as_gid < 0 && job_uid >= 0)
        s2r_diags_add(d, S2R_SEV_WARNING, job->file, 0, "uid",
                      "--uid=%lld without --gid: s2r reads no user database "
                      "for that user's group, so the pods run with the "
                      "image's group; give --gid", (long long)job_uid);
    if (warn_nameless(wl, job, d))
        return S2R_ENOMEM;
    if (same && cfg->groups && *cfg->groups &&
        !(wl->supplemental_groups = strdup(cfg->groups)))
        return S2R_ENOMEM;
    if (wl->kind == S2R_WL_MPI && wl->run_as_uid != 0)
        return s2r_diags_add(d, S2R_SEV_WARNING, job->file, job->main_line,
                             NULL, "the MPIJob's workers run sshd for "
                             "mpirun, which needs root, but the pods run as "
                             "UID %lld ([site] run_as = user): the workers "
                             "never get ready and the launcher never starts; "
                             "set [site] run_as = image for this script, or "
                             "use an image whose sshd runs as that user",
                             (long long)wl->run_as_uid);
    return S2R_OK;
}
