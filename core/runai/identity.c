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

#include <stdlib.h>
#include <string.h>

static bool maps_shared_storage(const s2r_config *cfg)
{
    for (size_t i = 0; cfg && i < cfg->n_volumes; i++)
        if (cfg->volumes[i].kind != S2R_VOL_DATASOURCE)
            return true;
    return false;
}

int s2r_rules__identity(s2r_workload *wl, const s2r_job *job,
                        const s2r_config *cfg, s2r_diags *d)
{
    if (cfg && cfg->user && !(wl->user = strdup(cfg->user)))
        return S2R_ENOMEM;
    /* sbatch passes the submitting shell's environment, USER with it; a
     * pod has none: given to the scripts that read it */
    if (cfg && cfg->user && s2r_rules__body_names(job, "USER") &&
        !s2r_envv_get(&wl->env, "USER") &&
        s2r_envv_set(&wl->env, "USER", cfg->user))
        return S2R_ENOMEM;
    bool user = cfg && cfg->run_as ? !strcmp(cfg->run_as, "user")
                                   : maps_shared_storage(cfg);
    if (!user)
        return S2R_OK;
    if (!cfg || cfg->uid < 0)
        return s2r_diags_add(d, S2R_SEV_WARNING, job->file, 0, NULL,
                             "the pods run as the image's user: the script "
                             "owner's UID is not known (set [site] uid, gid "
                             "and groups, or [site] run_as = image)");
    wl->run_as_user = true;
    wl->run_as_uid = cfg->uid;
    wl->run_as_gid = cfg->gid >= 0 ? cfg->gid : -1;
    if (cfg->groups && *cfg->groups &&
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
