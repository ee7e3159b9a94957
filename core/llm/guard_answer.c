/* guard_answer.c: a provider's answer read into a proposal (shape 2 of
 * s2r_provider_ops in plugin.h: image, command or script, env, notes), and
 * the environment names a model may not set. See guard.h. */
#include "guard.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* The proposal                                                        */
/* ------------------------------------------------------------------ */

void s2r_guard__proposal_free(proposal *p)
{
    s2r_strv_clear(&p->command);
    s2r_envv_clear(&p->env);
    s2r_strv_clear(&p->notes);
    s2r_strv_clear(&p->warnings);
}

/* Read a string list (array of strings, or one string). 0 ok, -1 wrong
 * type, S2R_ENOMEM. Non-string items are skipped when @p lenient. */
int s2r_guard__read_strings(json_object *v, s2r_strv *out, int lenient)
{
    if (!v || json_object_is_type(v, json_type_null))
        return 0;
    if (json_object_is_type(v, json_type_string))
        return s2r_strv_push(out, json_object_get_string(v)) ? S2R_ENOMEM : 0;
    if (!json_object_is_type(v, json_type_array))
        return -1;
    for (size_t i = 0; i < json_object_array_length(v); i++) {
        json_object *e = json_object_array_get_idx(v, i);
        if (!json_object_is_type(e, json_type_string)) {
            if (lenient)
                continue;
            return -1;
        }
        if (s2r_strv_push(out, json_object_get_string(e)))
            return S2R_ENOMEM;
    }
    return 0;
}

/* Parse a proposal object; *why names what is malformed. */
int s2r_guard__proposal_read(proposal *p, json_object *o, const char **why)
{
    json_object *v;
    int rc;
    if (json_object_object_get_ex(o, "image", &v) && v) {
        if (!json_object_is_type(v, json_type_string)) {
            *why = "\"image\" must be a string";
            return -1;
        }
        if (json_object_get_string_len(v) > 0)
            p->image = json_object_get_string(v);
    }
    if (json_object_object_get_ex(o, "command", &v) && v) {
        if (json_object_is_type(v, json_type_string)) {
            /* a command line as one string: run it as a bash body */
            if (json_object_get_string_len(v) > 0)
                p->script = json_object_get_string(v);
        } else {
            rc = json_object_is_type(v, json_type_array)
                     ? s2r_guard__read_strings(v, &p->command, 0)
                     : -1;
            if (rc == S2R_ENOMEM)
                return rc;
            if (rc || (p->command.n && !p->command.v[0][0])) {
                *why = "\"command\" must be an array of strings (argv)";
                return -1;
            }
        }
    }
    if (json_object_object_get_ex(o, "script", &v) && v) {
        if (!json_object_is_type(v, json_type_string)) {
            *why = "\"script\" must be a string";
            return -1;
        }
        if (json_object_get_string_len(v) > 0 && !p->command.n)
            p->script = json_object_get_string(v);
    }
    if (json_object_object_get_ex(o, "env", &v) && v &&
        !json_object_is_type(v, json_type_null)) {
        if (!json_object_is_type(v, json_type_object)) {
            *why = "\"env\" must be an object of strings";
            return -1;
        }
        p->has_env = 1;
        json_object_object_foreach(v, k, val) {
            const char *s;
            char num[64];
            if (json_object_is_type(val, json_type_string)) {
                s = json_object_get_string(val);
            } else if (json_object_is_type(val, json_type_int) ||
                       json_object_is_type(val, json_type_double) ||
                       json_object_is_type(val, json_type_boolean)) {
                snprintf(num, sizeof(num), "%s",
                         json_object_to_json_string_ext(
                             val, JSON_C_TO_STRING_PLAIN));
                s = num;
            } else {
                *why = "\"env\" must be an object of strings";
                return -1;
            }
            if (s2r_envv_set(&p->env, k, s))
                return S2R_ENOMEM;
        }
    }
    if (json_object_object_get_ex(o, "notes", &v)) {
        rc = s2r_guard__read_strings(v, &p->notes, 1);
        if (rc == S2R_ENOMEM)
            return rc;
        if (rc) {
            *why = "\"notes\" must be an array of strings";
            return -1;
        }
    }
    return 0;
}

/* Names a model may not set: they change how every program in the pod
 * starts, or they are the directives' business. */
int s2r_guard__env_name_refused(const char *n)
{
    static const char *const exact[] = {
        "BASH_ENV", "ENV", "PROMPT_COMMAND", "SHELLOPTS", "BASHOPTS", "PS4",
        "IFS", "PERL5OPT", "PERL5LIB", "PYTHONSTARTUP", "PYTHONINSPECT",
        "NODE_OPTIONS", "GLIBC_TUNABLES", "HOSTALIASES", "GCONV_PATH",
        "CUDA_VISIBLE_DEVICES", "NVIDIA_VISIBLE_DEVICES", NULL};
    for (size_t i = 0; exact[i]; i++)
        if (!strcmp(n, exact[i]))
            return 1;
    return !strncmp(n, "LD_", 3) || !strncmp(n, "SLURM_", 6) ||
           !strncmp(n, "BASH_FUNC_", 10);
}

int s2r_guard__env_name_ok(const char *n)
{
    if (!n[0] || strlen(n) > 128 || (n[0] >= '0' && n[0] <= '9'))
        return 0;
    for (const char *c = n; *c; c++)
        if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
              (*c >= '0' && *c <= '9') || *c == '_'))
            return 0;
    return 1;
}

/* The text of the proposed command (argv joined, or the body). */
char *s2r_guard__proposal_text(const proposal *p)
{
    if (p->command.n)
        return s2r_guard__join(&p->command);
    return p->script ? strdup(p->script) : NULL;
}


/* Names that decide which program runs or what it loads: a model may set
 * them (in "env" or in its script) only to the value the script itself
 * gives them. */
int s2r_guard__env_name_loads(const char *n)
{
    static const char *const exact[] = {
        "PATH", "PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONINSPECT",
        "PYTHONUSERBASE", "PYTHONPLATLIBDIR", "PYTHONWARNINGS",
        "PYTHONBREAKPOINT", "PYTHONEXECUTABLE", "PERL5LIB", "PERLLIB",
        "PERL5OPT", "RUBYLIB", "RUBYOPT", "GEM_PATH", "GEM_HOME",
        "NODE_OPTIONS", "NODE_PATH", "LUA_PATH", "LUA_CPATH", "R_LIBS",
        "R_LIBS_USER", "R_LIBS_SITE", "R_PROFILE", "R_PROFILE_USER",
        "R_ENVIRON", "R_ENVIRON_USER", "CLASSPATH", "JAVA_TOOL_OPTIONS",
        "_JAVA_OPTIONS", "JDK_JAVA_OPTIONS", "BASH_ENV", "ENV", "IFS",
        "CDPATH", "HOME", "PROMPT_COMMAND", "SHELLOPTS", "BASHOPTS", "PS4",
        "GLOBIGNORE", "GCONV_PATH", "GLIBC_TUNABLES", "HOSTALIASES",
        "OPENSSL_CONF", "OPENSSL_ENGINES", "PIP_INDEX_URL",
        "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS", "CONDA_PREFIX",
        "VIRTUAL_ENV", NULL};
    for (size_t i = 0; exact[i]; i++)
        if (!strcmp(n, exact[i]))
            return 1;
    return !strncmp(n, "LD_", 3) || !strncmp(n, "DYLD_", 5) ||
           !strncmp(n, "BASH_FUNC_", 10);
}
