/* sections.c: what an s2r.ini section is: a core section, or a plugin
 * instance [provider.<id>] [ratelimit.<id>] [auth.<id>] whose prefix is
 * the plugin kind's name (see config.h). */
#include "config.h"

#include <string.h>

const char *s2r_kind_name(uint32_t kind)
{
    switch (kind) {
    case S2R_KIND_PROVIDER: return "provider";
    case S2R_KIND_RATELIMIT: return "ratelimit";
    case S2R_KIND_AUTH: return "auth";
    default: return "?";
    }
}

int s2r_config_section_kind(const char *name, uint32_t *kind_out,
                            const char **id_out)
{
    static const char *const core[] = {"core", "runai", "site", "partitions",
        "constraints", "storage", "accounts", "qos", "modules", "server",
        "lambda", NULL};
    for (size_t i = 0; core[i]; i++)
        if (strcmp(name, core[i]) == 0)
            return S2R_SECTION_CORE;
    for (uint32_t k = S2R_KIND_PROVIDER; k <= S2R_KIND_AUTH; k++) {
        const char *kn = s2r_kind_name(k);
        size_t l = strlen(kn);
        if (strncmp(name, kn, l) == 0 && name[l] == '.' && name[l + 1]) {
            if (kind_out)
                *kind_out = k;
            if (id_out)
                *id_out = name + l + 1;
            return S2R_SECTION_PLUGIN;
        }
    }
    return S2R_SECTION_UNKNOWN;
}
