/* workload.c: the s2r_workload model: its lifetime and its name (a
 * DNS-1123 label, per Kubernetes object names). */
#include <s2r/s2r.h>

#include "runai.h"
#include "base/base.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void s2r_workload_free(s2r_workload *wl)
{
    if (!wl)
        return;
    free(wl->name);
    free(wl->source);
    free(wl->project);
    free(wl->image);
    free(wl->workdir);
    s2r_envv_clear(&wl->env);
    s2r_strv_clear(&wl->command);
    s2r_strv_clear(&wl->launcher_command);
    s2r_strv_clear(&wl->worker_command);
    s2r_strlist_free(wl->node_pools);
    free(wl->node_type);
    free(wl->priority);
    free(wl->preemptibility);
    free(wl->array_indices);
    free(wl->server);
    s2r_volumes_free(wl->volumes, wl->n_volumes);
    free(wl->supplemental_groups);
    free(wl->stdout_file);
    free(wl->stderr_file);
    free(wl->stdin_file);
    free(wl->user);
    memset(wl, 0, sizeof(*wl));
}

char *s2r_dns_label(const char *name)
{
    return s2r_dns_label_n(name, strlen(name));
}

char *s2r_dns_label_n(const char *name, size_t n)
{
    /* room for the label (63 characters at most) and its NUL */
    char *out = malloc((n < 63 ? n : 63) + 8);
    if (!out)
        return NULL;
    size_t o = 0;
    bool dash = false;
    for (size_t i = 0; i < n && o < 63; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c - 'A' + 'a');
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
            if (dash && o > 0)
                out[o++] = '-';
            dash = false;
            if (o < 63)
                out[o++] = (char)c;
        } else {
            dash = true;
        }
    }
    while (o > 0 && out[o - 1] == '-')
        o--;
    out[o] = '\0';
    if (o == 0 || !(out[0] >= 'a' && out[0] <= 'z')) {
        /* a label must start with a letter */
        char *p = malloc(o + 8);
        if (!p) {
            free(out);
            return NULL;
        }
        snprintf(p, o + 8, "job%s%s", o ? "-" : "", out);
        free(out);
        out = p;
        o = strlen(out);
        if (o > 63) {
            out[63] = '\0';
            o = 63;
        }
        while (o > 0 && out[o - 1] == '-')
            out[--o] = '\0';
    }
    return out;
}
