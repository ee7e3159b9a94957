/* guard.c: check a provider's answer against the parsed job (see llm.h).
 *
 * Order of the checks, so that an answer is either used under the rules'
 * constraints or not used at all:
 *   1. shape: a JSON object; {"output"} (remote s2r), {"workload"} (a
 *      complete workload) or a proposal {image, command|script, env,
 *      notes}; wrong types -> malformed -> fallback
 *   2. fixed facts: any resource, node, array or time value the answer
 *      states is compared with the rules workload; a difference is a
 *      warning naming both values and changes nothing
 *   3. empty -> fallback; unsafe text (command, script, env values,
 *      remote output) -> fallback
 *   4. merge, part by part: image (OCI reference; never replaces the
 *      script's own image), command (must keep the main computation and
 *      its launcher, and read no SLURM variable a pod lacks), env (never
 *      changes a value the script sets), notes -> notes
 */
#include "llm.h"
#include "model_json.h"

#include <pthread.h>
#include <regex.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Dangerous patterns                                                  */
/* ------------------------------------------------------------------ */

typedef struct danger {
    const char *re; /* POSIX ERE, matched case-insensitively */
    const char *what;
} danger;

/* A word boundary in front of a command name. */
#define B "(^|[^[:alnum:]_.-])"
/* Interpreters a download must not be piped or fed into. */
#define INTERP "((ba|da|z|k|c|tc|fi|a)?sh|python[0-9.]*|perl|ruby|node|php|source)"

static const danger dangers[] = {
    {B "rm[[:space:]]+(-[^[:space:]]*[[:space:]]+)*[\"']?"
       "(/|/\\*|/[^/[:space:];&|\"']+/?\\*?|~|~/|~/\\*|\\$HOME/?\\*?|"
       "\\$\\{HOME\\}/?\\*?|\\.\\./?\\*?)[\"']?([[:space:];&|)]|$)",
     "deletes /, a top-level directory or the home directory"},
    {"--no-preserve-root", "deletes / (--no-preserve-root)"},
    {B "(curl|wget|fetch)([[:space:]][^|;&]*)?\\|[[:space:]]*(sudo[[:space:]]+)?"
       "(env[[:space:]]+)?([[:alnum:]_/.-]*/)?" INTERP "([[:space:];&|)]|$)",
     "pipes a download into an interpreter"},
    {"(\\$\\(|`|<\\(|>\\()[[:space:]]*(curl|wget|fetch)([[:space:]]|$)",
     "runs a download through command or process substitution"},
    {B "(curl|wget)[^\n]*(&&|;|\n)[[:space:]]*(sudo[[:space:]]+)?"
       "((ba|da|z)?sh|source|\\.|chmod[[:space:]]+[^[:space:]]*x)[[:space:]]",
     "downloads a file and runs it"},
    {"base64[[:space:]]+(-d|--decode|-D)[^;&]*\\|[[:space:]]*(sudo[[:space:]]+)?"
     INTERP "([[:space:];&|)]|$)",
     "decodes hidden code into an interpreter"},
    {B "(eval|exec)[[:space:]]+.*base64", "evaluates decoded code"},
    {"(exec|eval)[[:space:]]*\\([^)]*(urlopen|urllib|requests\\.get|"
     "http\\.client)",
     "evaluates code fetched over the network"},
    {"/dev/(tcp|udp)/", "opens a raw network socket from the shell"},
    {B "(nc|ncat|netcat)[[:space:]][^;&|]*-[[:alnum:]]*[ec]([[:space:]]|$)",
     "starts a reverse shell (nc -e)"},
    {B "socat[[:space:]][^;&|]*exec:", "starts a reverse shell (socat exec)"},
    {B "(mkfs(\\.[[:alnum:]]+)?|wipefs)([[:space:]]|$)", "formats a disk"},
    {B "dd[[:space:]][^;&|]*of=/dev/", "writes to a raw device"},
    {">[[:space:]]*/dev/(sd|hd|nvme|xvd|vd|mapper|disk)", "writes to a raw device"},
    {B "shred[[:space:]][^;&|]*/dev/", "wipes a device"},
    {":[[:space:]]*\\([[:space:]]*\\)[[:space:]]*\\{[^}]*:[[:space:]]*\\|"
     "[[:space:]]*:",
     "is a fork bomb"},
    {B "(chmod|chown|chgrp)[[:space:]]+(-[^[:space:]]*[[:space:]]+)*"
       "-[[:alpha:]]*R[^;&|]*[[:space:]][\"']?/[\"']?([[:space:];&|)]|$)",
     "changes permissions of / recursively"},
    {"(^|[;&|(`[:space:]])(sudo|su|doas)([[:space:]]|$)",
     "raises privileges (sudo/su)"},
    {"authorized_keys", "writes SSH authorized_keys"},
    {"/etc/(passwd|shadow|sudoers)", "touches /etc/passwd, shadow or sudoers"},
    {B "crontab([[:space:]]|$)", "installs a crontab"},
    {B "history[[:space:]]+-c|HISTFILE=/dev/null", "hides its traces"},
};
#undef B
#undef INTERP

#define N_DANGERS (sizeof(dangers) / sizeof(dangers[0]))

static regex_t danger_re[N_DANGERS];
static regex_t oci_re;
static int regex_ok;
static pthread_once_t regex_once = PTHREAD_ONCE_INIT;

/* OCI reference (distribution/reference grammar, POSIX ERE) */
#define DOMAIN_COMP "[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?"
#define PATH_COMP "[a-z0-9]+(([._]|__|-+)[a-z0-9]+)*"
static const char oci_pattern[] =
    "^(" DOMAIN_COMP "(\\." DOMAIN_COMP ")*(:[0-9]+)?/)?"
    PATH_COMP "(/" PATH_COMP ")*"
    "(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?"
    "(@[A-Za-z][A-Za-z0-9]*([-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$";
#undef DOMAIN_COMP
#undef PATH_COMP

static void compile_all(void)
{
    int ok = 1;
    for (size_t i = 0; i < N_DANGERS; i++)
        if (regcomp(&danger_re[i], dangers[i].re,
                    REG_EXTENDED | REG_ICASE | REG_NOSUB) != 0)
            ok = 0;
    if (regcomp(&oci_re, oci_pattern, REG_EXTENDED | REG_NOSUB) != 0)
        ok = 0;
    regex_ok = ok;
}

static int regexes(void)
{
    pthread_once(&regex_once, compile_all);
    return regex_ok;
}

static int has_control(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if ((*p < 0x20 && *p != '\n' && *p != '\t' && *p != '\r') ||
            *p == 0x7f)
            return 1;
    return 0;
}

const char *s2r_guard_unsafe(const char *text, const char *allowed)
{
    if (!text)
        return NULL;
    if (!regexes())
        return "cannot be checked (internal pattern error)";
    if (has_control(text))
        return "contains control characters";
    for (size_t i = 0; i < N_DANGERS; i++) {
        if (regexec(&danger_re[i], text, 0, NULL, 0) != 0)
            continue;
        if (allowed && regexec(&danger_re[i], allowed, 0, NULL, 0) == 0)
            continue; /* the script itself does this: the user's choice */
        return dangers[i].what;
    }
    return NULL;
}

int s2r_guard_image_ok(const char *ref)
{
    if (!ref || !*ref || strlen(ref) > 255 || !regexes())
        return 0;
    return regexec(&oci_re, ref, 0, NULL, 0) == 0;
}

/* ------------------------------------------------------------------ */
/* Diagnostics                                                         */
/* ------------------------------------------------------------------ */

typedef struct gctx {
    s2r_workload *wl;
    const s2r_job *job;
    const char *id;
    s2r_diags *d;
    int rc; /* S2R_ENOMEM once an allocation failed */
} gctx;

static void say(gctx *g, s2r_severity sev, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void say(gctx *g, s2r_severity sev, const char *fmt, ...)
{
    va_list ap;
    char *msg = NULL;
    va_start(ap, fmt);
    int n = vasprintf(&msg, fmt, ap);
    va_end(ap);
    if (n < 0) {
        g->rc = S2R_ENOMEM;
        return;
    }
    if (s2r_diags_add(g->d, sev, g->job->file, 0, NULL, "%s: %s", g->id,
                      msg) != S2R_OK)
        g->rc = S2R_ENOMEM;
    free(msg);
}

/* A short, printable excerpt of @p s for messages (static per call site:
 * callers copy it into a local buffer). */
static void excerpt(char *out, size_t cap, const char *s)
{
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p && o + 4 < cap;
         p++)
        out[o++] = (*p < 0x20 || *p == 0x7f) ? ' ' : (char)*p;
    if (s[o] && o + 4 >= cap) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
}

static const char *kind_name(s2r_workload_kind k)
{
    return k == S2R_WL_PYTORCH ? "pytorch" : k == S2R_WL_MPI ? "mpi"
                                                              : "standard";
}

/* ------------------------------------------------------------------ */
/* Text helpers                                                        */
/* ------------------------------------------------------------------ */

/* argv joined by spaces (the form check-corpus and people read). */
static char *join(const s2r_strv *sv)
{
    size_t n = 1;
    for (size_t i = 0; i < sv->n; i++)
        n += strlen(sv->v[i]) + 1;
    char *s = malloc(n);
    if (!s)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < sv->n; i++) {
        size_t l = strlen(sv->v[i]);
        if (i)
            s[o++] = ' ';
        memcpy(s + o, sv->v[i], l);
        o += l;
    }
    s[o] = '\0';
    return s;
}

/* What the script itself runs, as the rules understood it: the rules
 * command, the MPI launcher command, the bash body and the env values. */
static char *rules_text(const s2r_workload *wl, const s2r_job *job)
{
    char *a = join(&wl->command), *b = join(&wl->launcher_command);
    char *out = NULL;
    size_t envlen = 1;
    for (size_t i = 0; i < wl->env.n; i++)
        envlen += strlen(wl->env.v[i].value) + 1;
    char *env = malloc(envlen);
    if (env) {
        size_t o = 0;
        for (size_t i = 0; i < wl->env.n; i++) {
            size_t l = strlen(wl->env.v[i].value);
            memcpy(env + o, wl->env.v[i].value, l);
            o += l;
            env[o++] = '\n';
        }
        env[o] = '\0';
    }
    if (a && b && env &&
        asprintf(&out, "%s\n%s\n%s\n%s", a, b,
                 job->run_shell ? job->run_shell : "", env) < 0)
        out = NULL;
    free(a);
    free(b);
    free(env);
    return out;
}

/* check-corpus's test: every token, or its shell-quoted form, in order. */
static int tokens_in_order(const s2r_strv *tokens, const char *text)
{
    const char *pos = text;
    for (size_t i = 0; i < tokens->n; i++) {
        const char *t = tokens->v[i];
        const char *hit = strstr(pos, t);
        if (hit) {
            pos = hit + strlen(t);
            continue;
        }
        char *q = s2r_shell_quote(t);
        if (!q)
            return 0;
        hit = strstr(pos, q);
        size_t ql = strlen(q);
        free(q);
        if (!hit)
            return 0;
        pos = hit + ql;
    }
    return 1;
}

/* Launchers the rules kept on purpose: a command without them would run
 * one process where SLURM ran many. */
static const char *const launchers[] = {
    "mpirun", "mpiexec", "torchrun", "torch.distributed.run",
    "accelerate", "deepspeed", NULL};

/* The first $SLURM_* name @p text reads that the pod will not have, into
 * @p out; 0 when none. */
static int missing_slurm_var(const char *text, const s2r_workload *wl,
                             const char *rules, char *out, size_t cap)
{
    for (const char *p = strstr(text, "SLURM_"); p;
         p = strstr(p + 1, "SLURM_")) {
        if (p > text && (p[-1] == '_' || (p[-1] >= 'A' && p[-1] <= 'Z') ||
                         (p[-1] >= 'a' && p[-1] <= 'z') ||
                         (p[-1] >= '0' && p[-1] <= '9')))
            continue;
        size_t n = 6;
        while ((p[n] >= 'A' && p[n] <= 'Z') || (p[n] >= '0' && p[n] <= '9') ||
               p[n] == '_')
            n++;
        if (n >= cap)
            n = cap - 1;
        memcpy(out, p, n);
        out[n] = '\0';
        if (s2r_envv_get(&wl->env, out))
            continue;
        if (!strcmp(out, "SLURM_ARRAY_TASK_ID") && wl->completions > 0)
            continue;
        /* a name the script's own command reads is the rules' business */
        int in_rules = 0;
        for (const char *r = strstr(rules, out); r; r = strstr(r + 1, out)) {
            char c = r[n];
            if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_')) {
                in_rules = 1;
                break;
            }
        }
        if (!in_rules)
            return 1;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Fixed facts                                                         */
/* ------------------------------------------------------------------ */

/* The model's value @p v of @p key against the rules value @p want
 * (@p want_text when it is not a number, e.g. "none"). */
static void check_int(gctx *g, const char *prefix, const char *key,
                      json_object *v, int64_t want, const char *want_text)
{
    char wbuf[32];
    if (!want_text) {
        snprintf(wbuf, sizeof(wbuf), "%lld", (long long)want);
        want_text = wbuf;
    }
    int same;
    if (!v || json_object_is_type(v, json_type_null))
        same = want == 0;
    else if (json_object_is_type(v, json_type_int))
        same = json_object_get_int64(v) == want;
    else if (json_object_is_type(v, json_type_double))
        same = json_object_get_double(v) == (double)want;
    else if (json_object_is_type(v, json_type_string))
        same = strcmp(json_object_get_string(v), want_text) == 0;
    else
        same = 0;
    if (same)
        return;
    char got[96];
    excerpt(got, sizeof(got),
            v ? json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN)
              : "null");
    say(g, S2R_SEV_WARNING,
        "the model's %s%s = %s differs from the directives (%s): %s is kept",
        prefix, key, got, want_text, want_text);
}

static json_object *array_json(const s2r_job *job)
{
    if (!job->array)
        return NULL;
    json_object *a = json_object_new_object();
    json_object *ix = json_object_new_array();
    for (size_t i = 0; a && ix && i < job->array->count; i++)
        json_object_array_add(ix, json_object_new_int(job->array->indices[i]));
    json_object_object_add(a, "indices", ix);
    json_object_object_add(a, "max_parallel",
                           job->array->max_parallel > 0
                               ? json_object_new_int(job->array->max_parallel)
                               : NULL);
    return a;
}

/* The rules' SLURM index of each completion as JSON. */
static json_object *indices_json(const s2r_workload *wl)
{
    json_object *a = json_object_new_array();
    for (size_t i = 0; a && i < wl->n_array_indices; i++)
        json_object_array_add(a, json_object_new_int(wl->array_indices[i]));
    return a;
}

static void check_json(gctx *g, const char *prefix, const char *key,
                       json_object *v, json_object *want)
{
    if (json_object_equal(v, want))
        return;
    char got[96], w[96];
    excerpt(got, sizeof(got),
            v ? json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN)
              : "null");
    excerpt(w, sizeof(w),
            want ? json_object_to_json_string_ext(want, JSON_C_TO_STRING_PLAIN)
                 : "null");
    say(g, S2R_SEV_WARNING,
        "the model's %s%s = %s differs from the directives (%s): the "
        "directives' value is kept", prefix, key, got, w);
}

/* Resource-like keys an answer states (a proposal need not, a workload
 * must): each is compared with the rules workload. Keys the answer does
 * not state are not compared. */
static void check_fixed_keys(gctx *g, json_object *o, const char *prefix)
{
    const s2r_workload *wl = g->wl;
    const s2r_job *job = g->job;
    const char *mem_text = NULL;
    if (job->mem_per_node_mib == S2R_MEM_ALL)
        mem_text = "all";
    else if (!wl->memory_mib)
        mem_text = "none";
    json_object_object_foreach(o, key, v) {
        if (!strcmp(key, "gpus") || !strcmp(key, "gpus_per_node") ||
            !strcmp(key, "gpu") || !strcmp(key, "gpu_count"))
            check_int(g, prefix, key, v, wl->gpus, NULL);
        else if (!strcmp(key, "cpus") || !strcmp(key, "cpus_per_node") ||
                 !strcmp(key, "cpu"))
            check_int(g, prefix, key, v, wl->cpus, NULL);
        else if (!strcmp(key, "memory_mib") ||
                 !strcmp(key, "mem_per_node_mib"))
            check_int(g, prefix, key, v, wl->memory_mib, mem_text);
        else if (!strcmp(key, "nodes") || !strcmp(key, "num_nodes"))
            check_int(g, prefix, key, v, job->nodes, NULL);
        else if (!strcmp(key, "pods"))
            check_int(g, prefix, key, v, wl->pods, NULL);
        else if (!strcmp(key, "workers"))
            check_int(g, prefix, key, v, wl->workers, NULL);
        else if (!strcmp(key, "tasks_per_node") ||
                 !strcmp(key, "slots_per_worker"))
            check_int(g, prefix, key, v, wl->slots_per_worker, NULL);
        else if (!strcmp(key, "time_limit_s"))
            check_int(g, prefix, key, v, wl->time_limit_s,
                      wl->time_limit_s ? NULL : "none");
        else if (!strcmp(key, "completions"))
            check_int(g, prefix, key, v, wl->completions,
                      wl->completions ? NULL : "none");
        else if (!strcmp(key, "parallelism"))
            check_int(g, prefix, key, v, wl->parallelism,
                      wl->parallelism ? NULL : "none");
        else if (!strcmp(key, "kind")) {
            json_object *want = json_object_new_string(kind_name(wl->kind));
            check_json(g, prefix, key, v, want);
            json_object_put(want);
        } else if (!strcmp(key, "array")) {
            json_object *want = array_json(job);
            check_json(g, prefix, key, v, want);
            json_object_put(want);
        } else if (!strcmp(key, "array_indices")) {
            json_object *want = indices_json(wl);
            /* an empty list and no list are the same */
            if (!(wl->n_array_indices == 0 &&
                  (!v || (json_object_is_type(v, json_type_array) &&
                          json_object_array_length(v) == 0))))
                check_json(g, prefix, key, v, want);
            json_object_put(want);
        } else if (!strcmp(key, "resources") &&
                   json_object_is_type(v, json_type_object)) {
            check_fixed_keys(g, v, "resources.");
        }
    }
}

/* ------------------------------------------------------------------ */
/* The proposal                                                        */
/* ------------------------------------------------------------------ */

typedef struct proposal {
    const char *image;   /* NULL: none */
    s2r_strv command;    /* argv; empty: none */
    const char *script;  /* bash body, NULL: none */
    s2r_envv env;        /* NAME=value */
    s2r_strv notes;
    s2r_strv warnings;   /* {"workload"} answers only */
    int has_env;
} proposal;

static void proposal_free(proposal *p)
{
    s2r_strv_clear(&p->command);
    s2r_envv_clear(&p->env);
    s2r_strv_clear(&p->notes);
    s2r_strv_clear(&p->warnings);
}

/* Read a string list (array of strings, or one string). 0 ok, -1 wrong
 * type, S2R_ENOMEM. Non-string items are skipped when @p lenient. */
static int read_strings(json_object *v, s2r_strv *out, int lenient)
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
static int proposal_read(proposal *p, json_object *o, const char **why)
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
                     ? read_strings(v, &p->command, 0)
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
        rc = read_strings(v, &p->notes, 1);
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
static int env_name_refused(const char *n)
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

static int env_name_ok(const char *n)
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
static char *proposal_text(const proposal *p)
{
    if (p->command.n)
        return join(&p->command);
    return p->script ? strdup(p->script) : NULL;
}

/* Unsafe anywhere: command, script, env values, image. Returns the
 * reason; *@p where names the part, *@p what its text. */
static const char *proposal_unsafe(const proposal *p, const char *cmd_text,
                                   const char *rules, const char **where,
                                   const char **what)
{
    const char *why;
    if (cmd_text && (why = s2r_guard_unsafe(cmd_text, rules))) {
        *where = p->command.n ? "command" : "script";
        *what = cmd_text;
        return why;
    }
    for (size_t i = 0; i < p->env.n; i++)
        if ((why = s2r_guard_unsafe(p->env.v[i].value, rules))) {
            *where = p->env.v[i].name;
            *what = p->env.v[i].value;
            return why;
        }
    if (p->image && has_control(p->image)) {
        *where = "image";
        *what = p->image;
        return "contains control characters";
    }
    return NULL;
}

static void apply_image(gctx *g, const char *image)
{
    s2r_workload *wl = g->wl;
    if (!image)
        return;
    if (!strncmp(image, "docker://", 9))
        image += 9;
    char shown[200];
    excerpt(shown, sizeof(shown), image);
    if (!s2r_guard_image_ok(image)) {
        say(g, S2R_SEV_WARNING,
            "the model's image '%s' is not an OCI image reference: '%s' is "
            "kept", shown, wl->image);
        return;
    }
    if (!strcmp(image, wl->image))
        return;
    if (g->job->image) {
        say(g, S2R_SEV_WARNING,
            "the model's image '%s' differs from the script's own image "
            "'%s': '%s' is kept", shown, g->job->image, g->job->image);
        return;
    }
    char *dup = strdup(image);
    if (!dup) {
        g->rc = S2R_ENOMEM;
        return;
    }
    say(g, S2R_SEV_NOTE,
        "image '%s' chosen by the model (the script names none; the "
        "default was '%s')", shown, wl->image);
    free(wl->image);
    wl->image = dup;
}

static void apply_command(gctx *g, const proposal *p, const char *text,
                          const char *rules)
{
    s2r_workload *wl = g->wl;
    const s2r_job *job = g->job;
    if (!text)
        return;
    s2r_strv *cmd = wl->kind == S2R_WL_MPI ? &wl->launcher_command
                                           : &wl->command;
    s2r_strv next = {0};
    if (p->command.n) {
        for (size_t i = 0; i < p->command.n; i++)
            if (s2r_strv_push(&next, p->command.v[i]))
                goto nomem;
    } else if (s2r_strv_push(&next, "bash") || s2r_strv_push(&next, "-c") ||
               s2r_strv_push(&next, p->script)) {
        goto nomem;
    }
    /* unchanged? */
    int same = next.n == cmd->n;
    for (size_t i = 0; same && i < next.n; i++)
        same = strcmp(next.v[i], cmd->v[i]) == 0;
    if (same) {
        s2r_strv_clear(&next);
        return;
    }
    char shown[160], main_cmd[160];
    excerpt(shown, sizeof(shown), text);
    char *cur = join(cmd);
    if (!cur)
        goto nomem;
    char rules_shown[160];
    excerpt(rules_shown, sizeof(rules_shown), cur);
    free(cur);
    if (job->command_tokens.n &&
        !tokens_in_order(&job->command_tokens, text)) {
        char *m = join(&job->command_tokens);
        if (!m)
            goto nomem;
        excerpt(main_cmd, sizeof(main_cmd), m);
        free(m);
        say(g, S2R_SEV_WARNING,
            "the model's command '%s' does not run the script's main "
            "computation '%s' as written: the rules command '%s' is kept",
            shown, main_cmd, rules_shown);
        goto keep;
    }
    for (size_t i = 0; launchers[i]; i++) {
        if (strstr(rules, launchers[i]) && !strstr(text, launchers[i])) {
            say(g, S2R_SEV_WARNING,
                "the model's command '%s' drops the launcher %s that the "
                "rules command '%s' keeps: the rules command is kept", shown,
                launchers[i], rules_shown);
            goto keep;
        }
    }
    char var[64];
    if (missing_slurm_var(text, wl, rules, var, sizeof(var))) {
        say(g, S2R_SEV_WARNING,
            "the model's command '%s' reads $%s, which a Run:ai pod does "
            "not have: the rules command '%s' is kept", shown, var,
            rules_shown);
        goto keep;
    }
    s2r_strv_clear(cmd);
    *cmd = next;
    say(g, S2R_SEV_NOTE, "command written by the model: '%s' (rules: '%s')",
        shown, rules_shown);
    return;
keep:
    s2r_strv_clear(&next);
    return;
nomem:
    s2r_strv_clear(&next);
    g->rc = S2R_ENOMEM;
}

static void apply_env(gctx *g, const proposal *p)
{
    s2r_workload *wl = g->wl;
    for (size_t i = 0; i < p->env.n; i++) {
        const char *n = p->env.v[i].name, *v = p->env.v[i].value;
        char sn[80], sv[120], cv[120];
        excerpt(sn, sizeof(sn), n);
        excerpt(sv, sizeof(sv), v);
        if (!env_name_ok(n)) {
            say(g, S2R_SEV_WARNING,
                "the model's variable '%s' is not a valid environment "
                "variable name: not set", sn);
            continue;
        }
        const char *cur = s2r_envv_get(&wl->env, n);
        if (cur) {
            if (strcmp(cur, v) != 0) {
                excerpt(cv, sizeof(cv), cur);
                say(g, S2R_SEV_WARNING,
                    "the model sets %s='%s' but the script gives '%s': '%s' "
                    "is kept", n, sv, cv, cv);
            }
            continue;
        }
        if (env_name_refused(n)) {
            say(g, S2R_SEV_WARNING,
                "the model sets %s, which only the directives or the site "
                "may set: not set", n);
            continue;
        }
        if (s2r_envv_set(&wl->env, n, v)) {
            g->rc = S2R_ENOMEM;
            return;
        }
        say(g, S2R_SEV_NOTE, "%s='%s' added by the model", n, sv);
    }
}

static void add_texts(gctx *g, const s2r_strv *sv, s2r_severity sev)
{
    size_t n = sv->n < 20 ? sv->n : 20;
    for (size_t i = 0; i < n; i++) {
        char t[400];
        excerpt(t, sizeof(t), sv->v[i]);
        if (t[0])
            say(g, sev, "%s", t);
    }
}

static void fallback(gctx *g, s2r_guard_outcome *outcome, const char *fmt,
                     const char *a, const char *b)
{
    char msg[512];
    snprintf(msg, sizeof(msg), fmt, a ? a : "", b ? b : "");
    say(g, S2R_SEV_WARNING, "%s: the rules conversion is used", msg);
    *outcome = S2R_GUARD_FALLBACK;
}

static int has_any(json_object *o, const char *const *keys)
{
    json_object *v;
    for (size_t i = 0; keys[i]; i++)
        if (json_object_object_get_ex(o, keys[i], &v))
            return 1;
    return 0;
}

/* The finished answer of a remote s2r server. */
static int take_output(gctx *g, json_object *answer, json_object *out,
                       char **output_out, s2r_guard_outcome *outcome)
{
    const char *text = json_object_get_string(out);
    char *rules = rules_text(g->wl, g->job);
    if (!rules)
        return S2R_ENOMEM;
    const char *why = s2r_guard_unsafe(text, rules);
    free(rules);
    if (why) {
        fallback(g, outcome, "the remote answer is unsafe (it %s)", why,
                 NULL);
        return g->rc;
    }
    *output_out = strdup(text);
    if (!*output_out)
        return S2R_ENOMEM;
    json_object *w;
    if (json_object_object_get_ex(answer, "warnings", &w) && w) {
        s2r_strv ws = {0};
        if (read_strings(w, &ws, 1) == S2R_ENOMEM)
            g->rc = S2R_ENOMEM;
        for (size_t i = 0; i < ws.n; i++)
            s2r_diags_add(g->d, S2R_SEV_WARNING, NULL, 0, NULL, "%s",
                          ws.v[i]);
        s2r_strv_clear(&ws);
    }
    *outcome = S2R_GUARD_OUTPUT;
    return g->rc;
}

int s2r_guard_apply_ex(s2r_workload *wl, const s2r_job *job,
                       json_object *answer, const char *provider_id,
                       char **output_out, s2r_guard_outcome *outcome,
                       s2r_diags *d)
{
    s2r_guard_outcome dummy;
    if (!outcome)
        outcome = &dummy;
    *outcome = S2R_GUARD_FALLBACK;
    *output_out = NULL;
    gctx g = {wl, job, provider_id ? provider_id : "provider", d, S2R_OK};
    if (!answer || !json_object_is_type(answer, json_type_object)) {
        fallback(&g, outcome, "the answer is not a JSON object", NULL, NULL);
        return g.rc;
    }
    json_object *v;
    if (json_object_object_get_ex(answer, "output", &v) && v) {
        if (!json_object_is_type(v, json_type_string)) {
            fallback(&g, outcome,
                     "the answer is malformed (\"output\" must be a string)",
                     NULL, NULL);
            return g.rc;
        }
        return take_output(&g, answer, v, output_out, outcome);
    }

    proposal p = {0};
    const char *why = NULL;
    int rc;
    s2r_workload model;
    int have_model = 0;
    if (json_object_object_get_ex(answer, "workload", &v) && v) {
        char buf[128];
        rc = s2r_workload_from_json(&model, v, buf, sizeof(buf));
        if (rc == S2R_ENOMEM)
            return rc;
        if (rc != S2R_OK) {
            fallback(&g, outcome, "the answer's workload is malformed (%s)",
                     buf, NULL);
            return g.rc;
        }
        have_model = 1;
        p.image = model.image;
        const s2r_strv *c = model.kind == S2R_WL_MPI && model.launcher_command.n
                                ? &model.launcher_command
                                : &model.command;
        for (size_t i = 0; i < c->n; i++)
            if (s2r_strv_push(&p.command, c->v[i]))
                g.rc = S2R_ENOMEM;
        for (size_t i = 0; i < model.env.n; i++)
            if (s2r_envv_set(&p.env, model.env.v[i].name,
                             model.env.v[i].value))
                g.rc = S2R_ENOMEM;
        p.has_env = model.env.n > 0;
        json_object *w;
        if (json_object_object_get_ex(answer, "warnings", &w) &&
            read_strings(w, &p.warnings, 1) == S2R_ENOMEM)
            g.rc = S2R_ENOMEM;
        if (json_object_object_get_ex(answer, "notes", &w) &&
            read_strings(w, &p.notes, 1) == S2R_ENOMEM)
            g.rc = S2R_ENOMEM;
        if (g.rc != S2R_OK)
            goto out;
        check_fixed_keys(&g, v, "workload.");
    } else {
        rc = proposal_read(&p, answer, &why);
        if (rc == S2R_ENOMEM) {
            g.rc = rc;
            goto out;
        }
        if (rc) {
            fallback(&g, outcome, "the answer is malformed (%s)", why, NULL);
            goto out;
        }
        check_fixed_keys(&g, answer, "");
        static const char *const useful[] = {"image", "command", "script",
                                             "env", "notes", NULL};
        if (!has_any(answer, useful) ||
            (!p.image && !p.command.n && !p.script && !p.env.n &&
             !p.notes.n)) {
            fallback(&g, outcome, "the answer is empty", NULL, NULL);
            goto out;
        }
    }

    char *rules = rules_text(wl, job);
    char *text = proposal_text(&p);
    if (!rules || (!text && (p.command.n || p.script))) {
        free(rules);
        free(text);
        g.rc = S2R_ENOMEM;
        goto out;
    }
    const char *where = NULL, *what = NULL;
    const char *bad = proposal_unsafe(&p, text, rules, &where, &what);
    if (bad) {
        char shown[160], reason[256];
        excerpt(shown, sizeof(shown), what);
        snprintf(reason, sizeof(reason), "its %s %s", where, bad);
        fallback(&g, outcome, "the answer is unsafe (%s: '%s')", reason,
                 shown);
    } else {
        apply_image(&g, p.image);
        apply_command(&g, &p, text, rules);
        apply_env(&g, &p);
        add_texts(&g, &p.warnings, S2R_SEV_WARNING);
        add_texts(&g, &p.notes, S2R_SEV_NOTE);
        *outcome = S2R_GUARD_APPLIED;
    }
    free(rules);
    free(text);
out:
    proposal_free(&p);
    if (have_model)
        s2r_workload_free(&model);
    return g.rc;
}

int s2r_guard_apply(s2r_workload *wl, const s2r_job *job, json_object *answer,
                    const char *provider_id, char **output_out,
                    s2r_diags *d)
{
    return s2r_guard_apply_ex(wl, job, answer, provider_id, output_out, NULL,
                              d);
}
