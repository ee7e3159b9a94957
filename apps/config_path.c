/* config_path.c: see config_path.h. */
#include "config_path.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *s2r_config_user_file(void)
{
    char *out = NULL;
    const char *xdg = getenv("XDG_CONFIG_HOME");
    /* per the XDG Base Directory Specification, a relative value is
     * invalid and ignored */
    if (xdg && xdg[0] == '/') {
        if (asprintf(&out, "%s/s2r/s2r.ini", xdg) < 0)
            return NULL;
        return out;
    }
    const char *home = getenv("HOME");
    if (!home || !*home) {
        struct passwd *pw = getpwuid(getuid());
        home = pw ? pw->pw_dir : NULL;
    }
    if (!home || !*home) {
        errno = ENOENT;
        return NULL;
    }
    if (asprintf(&out, "%s/.config/s2r/s2r.ini", home) < 0)
        return NULL;
    return out;
}

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 || errno == EACCES;
}

static int choose(s2r_config_choice *out, const char *path,
                  s2r_config_origin origin)
{
    out->origin = origin;
    if (!path)
        return 0;
    out->path = strdup(path);
    return out->path ? 0 : ENOMEM;
}

int s2r_config_path_find(s2r_config_choice *out, const char *option,
                         bool no_config)
{
    memset(out, 0, sizeof(*out));
    if (option)
        return choose(out, option, S2R_CONFIG_OPTION);
    const char *env = getenv("S2R_CONFIG");
    if (no_config || (env && !*env))
        return choose(out, NULL, S2R_CONFIG_DISABLED);
    if (env)
        return choose(out, env, S2R_CONFIG_ENV);
    if (exists("s2r.ini"))
        return choose(out, "s2r.ini", S2R_CONFIG_CWD);
    char *user = s2r_config_user_file();
    if (!user && errno == ENOMEM)
        return ENOMEM;
    if (user && exists(user)) {
        out->origin = S2R_CONFIG_USER;
        out->path = user;
        return 0;
    }
    free(user);
    if (exists(S2R_CONFIG_SYSTEM_FILE))
        return choose(out, S2R_CONFIG_SYSTEM_FILE, S2R_CONFIG_SYSTEM);
    return choose(out, NULL, S2R_CONFIG_NONE);
}

void s2r_config_choice_free(s2r_config_choice *c)
{
    if (!c)
        return;
    free(c->path);
    memset(c, 0, sizeof(*c));
}

bool s2r_config_origin_explicit(s2r_config_origin o)
{
    return o == S2R_CONFIG_OPTION || o == S2R_CONFIG_ENV ||
           o == S2R_CONFIG_DISABLED;
}

const char *s2r_config_origin_text(s2r_config_origin o)
{
    switch (o) {
    case S2R_CONFIG_OPTION: return "--config";
    case S2R_CONFIG_ENV: return "$S2R_CONFIG";
    case S2R_CONFIG_CWD: return "./s2r.ini";
    case S2R_CONFIG_USER: return "$XDG_CONFIG_HOME/s2r/s2r.ini";
    case S2R_CONFIG_SYSTEM: return S2R_CONFIG_SYSTEM_FILE;
    case S2R_CONFIG_DISABLED: return "built-in defaults (lookup turned off)";
    default: return "built-in defaults";
    }
}
