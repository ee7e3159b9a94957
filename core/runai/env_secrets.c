/* env_secrets.c: the job's variables whose name says they hold a secret (an
 * API key, a token, a password) and whose value the workload would carry
 * in clear: per the Run:ai CLI, --environment-variable NAME=VALUE (and the
 * manifest's env, the REST environmentVariables) is part of the workload
 * that anyone who can read it sees, where --env-secret / secretKeyRef
 * keeps the value in a Kubernetes secret. A warning each; the value is
 * never printed. */
#include "site_rules.h"
#include "base/base.h"

#include <string.h>

/* A value that is a path or a reference names where a secret is, or
 * another variable, not the secret itself. */
static bool secret_value(const char *v)
{
    return v && v[0] && v[0] != '/' && v[0] != '~' && v[0] != '.' &&
           v[0] != '$';
}

void s2r_rules__warn_secrets(const s2r_job *job, s2r_diags *d)
{
    for (size_t i = 0; i < job->env.n; i++) {
        const s2r_env *e = &job->env.v[i];
        if (!s2r_secret_name(e->name) || !secret_value(e->value))
            continue;
        s2r_diags_add(d, S2R_SEV_WARNING, job->file, 0, NULL,
                      "%s, by its name a secret, is written with its value "
                      "into the workload's environment, which anyone who "
                      "can read the workload sees; keep it in a Kubernetes "
                      "secret instead (runai --env-secret, or the env's "
                      "valueFrom.secretKeyRef)", e->name);
    }
}
