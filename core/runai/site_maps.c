/* site_maps.c: the Run:ai project of an --account ([accounts]), the
 * priority class of a --qos ([qos]) and the image of the environment
 * modules a script loads ([modules]); see site_rules.h. */
#include "site_rules.h"

#include <stdlib.h>
#include <string.h>

static const char *map(const s2r_map_entry *m, size_t n, const char *key)
{
    return key ? s2r_config_map(m, n, key) : NULL;
}

int s2r_rules__accounts(s2r_workload *wl, const s2r_job *job,
                        const s2r_rules__asked *a, const s2r_config *cfg,
                        s2r_diags *d)
{
    const char *acct = s2r_rules__asked_value(a, S2R_ASK_ACCOUNT);
    const char *proj = cfg ? map(cfg->accounts, cfg->n_accounts, acct) : NULL;
    if (proj && *proj) {
        free(wl->project);
        if (!(wl->project = strdup(proj)))
            return S2R_ENOMEM;
    } else if (acct && !proj &&
               s2r_diags_add(d, S2R_SEV_WARNING, job->file,
                             s2r_rules__asked_line(a, S2R_ASK_ACCOUNT),
                             "account", "--account=%s maps to no Run:ai "
                             "project, so the workload goes to %s: add to "
                             "[accounts]: %s = PROJECT", acct,
                             wl->project ? wl->project : "$RUNAI_PROJECT",
                             acct)) {
        return S2R_ENOMEM;
    }
    const char *qos = s2r_rules__asked_value(a, S2R_ASK_QOS);
    const char *prio = cfg ? map(cfg->qos, cfg->n_qos, qos) : NULL;
    if (prio && *prio) {
        free(wl->priority);
        return (wl->priority = strdup(prio)) ? S2R_OK : S2R_ENOMEM;
    }
    if (qos && !prio &&
        s2r_diags_add(d, S2R_SEV_WARNING, job->file,
                      s2r_rules__asked_line(a, S2R_ASK_QOS), "qos",
                      "--qos=%s maps to no Run:ai priority class: add to "
                      "[qos]: %s = PRIORITY (very-low, low, medium-low, "
                      "medium, medium-high, high or very-high)", qos, qos))
        return S2R_ENOMEM;
    return S2R_OK;
}

/* The image of one module: [modules] NAME/VERSION, else NAME. */
static const char *module_image(const s2r_config *cfg, const char *module)
{
    const char *img = s2r_config_map(cfg->modules, cfg->n_modules, module);
    const char *slash = strchr(module, '/');
    if (!img && slash) {
        /* NAME (its first 255 bytes) */
        char name[256];
        size_t n = (size_t)(slash - module);
        n = n < sizeof(name) - 1 ? n : sizeof(name) - 1;
        memcpy(name, module, n);
        name[n] = '\0';
        img = s2r_config_map(cfg->modules, cfg->n_modules, name);
    }
    return img && *img ? img : NULL;
}

char *s2r_rules__module_image(const s2r_job *job, const s2r_config *cfg,
                              s2r_diags *d, bool *oom)
{
    const char *image = NULL, *first = NULL;
    for (size_t i = 0; cfg && i < job->modules.n; i++) {
        const char *img = module_image(cfg, job->modules.v[i]);
        if (!img)
            continue;
        if (image && strcmp(image, img)) {
            if (s2r_diags_add(d, S2R_SEV_WARNING, job->file, job->main_line,
                              NULL, "the modules %s and %s resolve to two "
                              "images in [modules] (%s and %s): the pod has "
                              "one, so neither is used; name the image that "
                              "has both with a [modules] entry or a "
                              "container", first, job->modules.v[i], image,
                              img))
                *oom = true;
            return NULL;
        }
        image = img;
        first = first ? first : job->modules.v[i];
    }
    char *out = image ? strdup(image) : NULL;
    if (image && !out)
        *oom = true;
    return out;
}
