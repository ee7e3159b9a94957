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
 *      remote output) -> fallback; then the structure: the command or
 *      script, lexed (shell_lex.h), may run only programs the script runs
 *      (or harmless helpers), under literal names, and set no loader
 *      variable (PATH, PYTHONPATH, LD_*...) the script does not set so
 *      -> fallback
 *   4. merge, part by part: image (OCI reference; never replaces the
 *      script's own image), command (must keep the main computation, its
 *      launcher and the launcher's process counts, and read no SLURM
 *      variable a pod lacks), env (never changes a value the script sets,
 *      never sets a loader variable), notes -> notes
 * Secrets: the registry redacts the provider's secret option values from
 * the answer before it gets here (s2r_registry_convert).
 */
#include "model.h"
#include "runai/runai.h"
#include "shell/shell.h"

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
            json_object *want = json_object_new_string(s2r_workload_kind_name(wl->kind));
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

/* ------------------------------------------------------------------ */
/* Structural check: what the proposed body runs                       */
/* ------------------------------------------------------------------ */

/* Names that decide which program runs or what it loads: a model may set
 * them (in "env" or in its script) only to the value the script itself
 * gives them. */
static int env_name_loads(const char *n)
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

/* One word of a command: from the lexer, or an argv element (literal). */
typedef struct wtok {
    const char *v;
    int lit;    /* no expansion: v is the argv string */
    int assign; /* a leading NAME=value of a lexed command */
    const sh_word *w; /* lexed word (substitutions), or NULL */
} wtok;

/* A walk over what a body runs. In collect mode it records the programs,
 * assignments and launcher options of the script's own body; in check
 * mode it refuses the first thing the script does not do. */
typedef struct swalk {
    int check;          /* 0: collect into the sets, 1: check against */
    s2r_strv *progs;    /* programs the script runs (names as written) */
    s2r_strv *assigns;  /* NAME=value the script assigns */
    s2r_strv *par;      /* launcher\x1fkey\x1fvalue, of this body */
    const s2r_envv *env;/* the rules workload's env (script values) */
    const char *cmd_src;/* source of the current lexed command, or NULL */
    size_t cmd_len;
    char why[256];      /* check mode: the refusal, "" when none */
    int depth;
    int oom;
} swalk;

static int sv_has(const s2r_strv *sv, const char *s)
{
    for (size_t i = 0; i < sv->n; i++)
        if (!strcmp(sv->v[i], s))
            return 1;
    return 0;
}

static void sv_add(swalk *w, s2r_strv *sv, const char *s)
{
    if (!sv_has(sv, s) && s2r_strv_push(sv, s))
        w->oom = 1;
}

static void refuse(swalk *w, const char *fmt, const char *a)
{
    if (w->why[0])
        return;
    char shown[96];
    excerpt(shown, sizeof(shown), a ? a : "");
    snprintf(w->why, sizeof(w->why), fmt, shown);
}

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* Does the script run program @p name? A bare name also matches a path
 * the script runs (python for /opt/conda/bin/python); a path must match
 * exactly. */
static int prog_known(const swalk *w, const char *name)
{
    static const char *const mpi[] = {"mpirun", "mpiexec", "orterun",
                                      "mpiexec.hydra", NULL};
    if (sv_has(w->progs, name))
        return 1;
    /* one MPI launcher for another */
    for (size_t i = 0; mpi[i]; i++)
        if (!strcmp(name, mpi[i]))
            for (size_t k = 0; mpi[k]; k++)
                if (sv_has(w->progs, mpi[k]))
                    return 1;
    if (strchr(name, '/'))
        return 0;
    for (size_t i = 0; i < w->progs->n; i++)
        if (!strcmp(base_name(w->progs->v[i]), name))
            return 1;
    return 0;
}

/* NAME=value (an assignment word, an export argument, an env argument). */
static void see_assignment(swalk *w, const char *a)
{
    const char *eq = strchr(a, '=');
    if (!eq || eq == a)
        return;
    size_t nl = (size_t)(eq - a);
    if (a[nl - 1] == '+')
        nl--;
    char name[130];
    if (nl >= sizeof(name))
        return;
    memcpy(name, a, nl);
    name[nl] = '\0';
    if (!w->check) {
        sv_add(w, w->assigns, a);
        return;
    }
    if (!env_name_loads(name) || sv_has(w->assigns, a))
        return;
    const char *cur = s2r_envv_get(w->env, name);
    if (cur && eq[-1] != '+' && !strcmp(cur, eq + 1))
        return;
    refuse(w, "sets %s, which decides which program runs or what it loads "
              "(the script does not set it so)", name);
}

static void walk_text(swalk *w, const char *text, size_t len);

/* Command substitutions ($(...) and `...`) inside a word's raw text. */
static void walk_substitutions(swalk *w, const sh_word *word)
{
    for (size_t s = 0; word && s < word->nsegs; s++) {
        if (word->segs[s].type == SH_SEG_LIT)
            continue;
        const char *t = word->segs[s].text;
        for (size_t i = 0; t[i]; i++) {
            if (t[i] == '\\' && t[i + 1]) {
                i++;
                continue;
            }
            if (t[i] == '`') {
                size_t j = i + 1;
                while (t[j] && t[j] != '`')
                    j += t[j] == '\\' && t[j + 1] ? 2 : 1;
                walk_text(w, t + i + 1, j - i - 1);
                i = t[j] ? j : j - 1;
            } else if (t[i] == '$' && t[i + 1] == '(' && t[i + 2] != '(') {
                size_t j = i + 2;
                int depth = 1;
                char q = 0;
                for (; t[j]; j++) {
                    if (q) {
                        if (t[j] == q)
                            q = 0;
                        else if (q == '"' && t[j] == '\\' && t[j + 1])
                            j++;
                    } else if (t[j] == '\'' || t[j] == '"') {
                        q = t[j];
                    } else if (t[j] == '\\' && t[j + 1]) {
                        j++;
                    } else if (t[j] == '(') {
                        depth++;
                    } else if (t[j] == ')' && --depth == 0) {
                        break;
                    }
                }
                walk_text(w, t + i + 2, j - i - 2);
                i = t[j] ? j : j - 1;
            }
        }
    }
}

/* ---- launchers: options that set how many processes run ---- */

typedef struct optspec {
    const char *name;
    int nvals;       /* words it takes when not written --name=value */
    const char *key; /* parallelism key it sets, or NULL */
} optspec;

typedef struct launcher {
    const char *family;
    const optspec *opts;
    int unknown_takes_value; /* options not in opts: 1 word of value? */
} launcher;

static const optspec torchrun_opts[] = {
    {"--nproc_per_node", 1, "nproc_per_node"},
    {"--nproc-per-node", 1, "nproc_per_node"},
    {"--nnodes", 1, "nnodes"},
    {"--standalone", 0, NULL}, {"--no-python", 0, NULL},
    {"--no_python", 0, NULL}, {"-m", 0, NULL}, {"--module", 0, NULL},
    {"--run-path", 0, NULL}, {"--run_path", 0, NULL},
    {"--use-env", 0, NULL}, {"--use_env", 0, NULL}, {NULL, 0, NULL}};
static const optspec accelerate_opts[] = {
    {"--num_processes", 1, "num_processes"},
    {"--num-processes", 1, "num_processes"},
    {"--num_machines", 1, "num_machines"},
    {"--num-machines", 1, "num_machines"},
    {"--multi_gpu", 0, NULL}, {"--multi-gpu", 0, NULL}, {"--cpu", 0, NULL},
    {"--use_cpu", 0, NULL}, {"--tpu", 0, NULL}, {"--use_deepspeed", 0, NULL},
    {"--use_fsdp", 0, NULL}, {"--use_megatron_lm", 0, NULL},
    {"--use_xpu", 0, NULL}, {"-m", 0, NULL}, {"--module", 0, NULL},
    {"--no_python", 0, NULL}, {"--debug", 0, NULL}, {"-q", 0, NULL},
    {"--quiet", 0, NULL}, {"--same_network", 0, NULL},
    {"--fp16", 0, NULL}, {"--dynamo_use_fullgraph", 0, NULL},
    {NULL, 0, NULL}};
static const optspec deepspeed_opts[] = {
    {"--num_gpus", 1, "num_gpus"}, {"--num-gpus", 1, "num_gpus"},
    {"--num_nodes", 1, "num_nodes"}, {"--num-nodes", 1, "num_nodes"},
    {"--no_python", 0, NULL}, {"--no-python", 0, NULL},
    {"--module", 0, NULL}, {"--no_local_rank", 0, NULL},
    {"--enable_each_rank_log", 1, NULL}, {"--autotuning", 1, NULL},
    {"--force_multi", 0, NULL}, {"--save_pid", 0, NULL},
    {"--bind_cores_to_rank", 0, NULL}, {"--no_ssh_check", 0, NULL},
    {"--no_ssh", 0, NULL}, {NULL, 0, NULL}};
static const optspec mpirun_opts[] = {
    {"-np", 1, "np"}, {"--np", 1, "np"}, {"-n", 1, "np"}, {"--n", 1, "np"},
    {"-c", 1, "np"},
    {"-N", 1, "npernode"}, {"-npernode", 1, "npernode"},
    {"--npernode", 1, "npernode"}, {"-ppn", 1, "npernode"},
    {"--ppn", 1, "npernode"}, {"-perhost", 1, "npernode"},
    {"-H", 1, NULL}, {"-host", 1, NULL}, {"--host", 1, NULL},
    {"-hosts", 1, NULL}, {"-hostfile", 1, NULL}, {"--hostfile", 1, NULL},
    {"-machinefile", 1, NULL}, {"--machinefile", 1, NULL}, {"-f", 1, NULL},
    {"-wdir", 1, NULL}, {"--wdir", 1, NULL}, {"-wd", 1, NULL},
    {"-x", 1, NULL}, {"-genv", 2, NULL}, {"-env", 2, NULL},
    {"--mca", 2, NULL}, {"-mca", 2, NULL}, {"-gmca", 2, NULL},
    {"--gmca", 2, NULL}, {"--map-by", 1, NULL}, {"-map-by", 1, NULL},
    {"--bind-to", 1, NULL}, {"-bind-to", 1, NULL}, {"--rank-by", 1, NULL},
    {"-rank-by", 1, NULL}, {"--prefix", 1, NULL}, {"-prefix", 1, NULL},
    {"--output-filename", 1, NULL}, {"-output-filename", 1, NULL},
    {"--cpus-per-proc", 1, NULL}, {"-cpus-per-proc", 1, NULL},
    {"--cpus-per-rank", 1, NULL}, {"-cpus-per-rank", 1, NULL},
    {"-launcher", 1, NULL}, {"-bootstrap", 1, NULL}, {"-iface", 1, NULL},
    {"-genvlist", 1, NULL}, {"--tag-output", 0, NULL}, {NULL, 0, NULL}};
static const optspec srun_opts[] = {
    {"-n", 1, "ntasks"}, {"--ntasks", 1, "ntasks"}, {"-N", 1, "nodes"},
    {"--nodes", 1, "nodes"}, {"-c", 1, NULL}, {"-p", 1, NULL},
    {"-t", 1, NULL}, {"-J", 1, NULL}, {"-o", 1, NULL}, {"-e", 1, NULL},
    {"-i", 1, NULL}, {"-G", 1, NULL}, {"-w", 1, NULL}, {"-x", 1, NULL},
    {"-A", 1, NULL}, {"-q", 1, NULL}, {"-m", 1, NULL}, {"-d", 1, NULL},
    {"-D", 1, NULL}, {"-C", 1, NULL}, {"-L", 1, NULL}, {"-M", 1, NULL},
    {"-r", 1, NULL}, {"-T", 1, NULL}, {"-W", 1, NULL}, {"-B", 1, NULL},
    {"-S", 1, NULL}, {"--cpus-per-task", 1, NULL}, {"--gpus", 1, NULL},
    {"--gres", 1, NULL}, {"--partition", 1, NULL}, {"--time", 1, NULL},
    {"--job-name", 1, NULL}, {"--output", 1, NULL}, {"--error", 1, NULL},
    {"--mpi", 1, NULL}, {"--ntasks-per-node", 1, NULL},
    {"--gpus-per-task", 1, NULL}, {"--mem", 1, NULL},
    {"--container-image", 1, NULL}, {"--container-mounts", 1, NULL},
    {"--cpu-bind", 1, NULL}, {"--distribution", 1, NULL},
    {"--export", 1, NULL}, {NULL, 0, NULL}};
static const optspec env_opts[] = {
    {"-u", 1, NULL}, {"--unset", 1, NULL}, {"-C", 1, NULL},
    {"--chdir", 1, NULL}, {"-S", 1, NULL}, {"--split-string", 1, NULL},
    {NULL, 0, NULL}};
static const optspec timeout_opts[] = {
    {"-s", 1, NULL}, {"--signal", 1, NULL}, {"-k", 1, NULL},
    {"--kill-after", 1, NULL}, {NULL, 0, NULL}};
static const optspec nice_opts[] = {
    {"-n", 1, NULL}, {"--adjustment", 1, NULL}, {NULL, 0, NULL}};
static const optspec stdbuf_opts[] = {
    {"-i", 1, NULL}, {"-o", 1, NULL}, {"-e", 1, NULL}, {NULL, 0, NULL}};
static const optspec taskset_opts[] = {
    {"-c", 1, NULL}, {"--cpu-list", 1, NULL}, {NULL, 0, NULL}};
static const optspec container_opts[] = {
    {"-B", 1, NULL}, {"--bind", 1, NULL}, {"-H", 1, NULL},
    {"--home", 1, NULL}, {"-W", 1, NULL}, {"--workdir", 1, NULL},
    {"--pwd", 1, NULL}, {"-o", 1, NULL}, {"--overlay", 1, NULL},
    {"--env", 1, NULL}, {"--env-file", 1, NULL}, {"-S", 1, NULL},
    {"--scratch", 1, NULL}, {"--security", 1, NULL}, {NULL, 0, NULL}};
static const optspec no_opts[] = {{NULL, 0, NULL}};

static const launcher L_TORCHRUN = {"torchrun", torchrun_opts, 1};
static const launcher L_ACCELERATE = {"accelerate", accelerate_opts, 1};
static const launcher L_DEEPSPEED = {"deepspeed", deepspeed_opts, 1};
static const launcher L_MPIRUN = {"mpirun", mpirun_opts, 0};
static const launcher L_SRUN = {"srun", srun_opts, 0};

static const optspec *opt_find(const optspec *o, const char *w, size_t nl)
{
    for (; o->name; o++)
        if (strlen(o->name) == nl && !strncmp(o->name, w, nl))
            return o;
    return NULL;
}

static void par_add(swalk *w, const char *family, const char *key,
                    const char *value)
{
    char *e = NULL;
    if (asprintf(&e, "%s\x1f%s\x1f%s", family, key, value) < 0) {
        w->oom = 1;
        return;
    }
    sv_add(w, w->par, e);
    free(e);
}

/* Skip the options of a launcher or wrapper from word @p i; records the
 * parallelism keys of @p fam (may be NULL). Returns the index of the
 * first operand (the program or script), n when none. A word that is not
 * literal stops nothing: its text is compared like a literal. */
static size_t skip_options(swalk *w, const wtok *t, size_t i, size_t n,
                           const optspec *opts, int unknown_takes_value,
                           const char *fam)
{
    while (i < n) {
        const char *a = t[i].v;
        if (!strcmp(a, "--"))
            return i + 1;
        if (a[0] != '-' || !a[1])
            return i;
        const char *eq = strchr(a, '=');
        size_t nl = eq ? (size_t)(eq - a) : strlen(a);
        const optspec *o = opt_find(opts, a, nl);
        const char *val = eq ? eq + 1 : NULL;
        int nvals = o ? o->nvals : unknown_takes_value;
        if (!o && a[1] != '-' && nl > 2 && !eq) {
            /* -n8, -np8: a short option with its value attached */
            for (size_t k = nl - 1; k >= 2 && !o; k--) {
                const optspec *p = opt_find(opts, a, k);
                if (p && p->nvals == 1 && p->key) {
                    o = p;
                    val = a + k;
                    nvals = 1;
                }
            }
        }
        if (val) {
            if (o && o->key && fam)
                par_add(w, fam, o->key, val);
            i++;
            continue;
        }
        if (o && o->key && fam && i + 1 < n && nvals)
            par_add(w, fam, o->key, t[i + 1].v);
        i += 1 + (size_t)nvals;
    }
    return n;
}

/* ---- the allow-list: harmless helpers a model may add ---- */

static int all_args_in(const wtok *t, size_t i, size_t n,
                       const char *const *ok, int prefix_ok)
{
    for (; i < n; i++) {
        int hit = 0;
        for (size_t k = 0; ok[k] && !hit; k++)
            hit = !strcmp(t[i].v, ok[k]) ||
                  (prefix_ok && ok[k][strlen(ok[k]) - 1] == '=' &&
                   !strncmp(t[i].v, ok[k], strlen(ok[k])));
        if (!hit)
            return 0;
    }
    return 1;
}

/* Does the command text @p s redirect output into a file (not /dev/null,
 * /dev/stdout, /dev/stderr or another descriptor)? */
static int writes_file(const char *s, size_t n)
{
    char q = 0;
    for (size_t i = 0; i < n; i++) {
        if (q) {
            if (s[i] == q)
                q = 0;
            else if (q == '"' && s[i] == '\\')
                i++;
            continue;
        }
        if (s[i] == '\'' || s[i] == '"') {
            q = s[i];
            continue;
        }
        if (s[i] == '\\') {
            i++;
            continue;
        }
        if (s[i] != '>')
            continue;
        size_t j = i + 1;
        if (j < n && (s[j] == '>' || s[j] == '|'))
            j++;
        if (j < n && s[j] == '&')
            continue; /* >&2 */
        while (j < n && (s[j] == ' ' || s[j] == '\t'))
            j++;
        size_t e = j;
        while (e < n && !strchr(" \t\n;|&)", s[e]))
            e++;
        static const char *const ok[] = {"/dev/null", "/dev/stdout",
                                         "/dev/stderr", NULL};
        int fine = 0;
        for (size_t k = 0; ok[k] && !fine; k++)
            fine = e - j == strlen(ok[k]) && !strncmp(s + j, ok[k], e - j);
        if (!fine)
            return 1;
        i = e;
    }
    return 0;
}

/* 1 when t[i] (the program) with its arguments is a harmless helper. */
static int harmless(swalk *w, const wtok *t, size_t i, size_t n)
{
    if (w->cmd_src && writes_file(w->cmd_src, w->cmd_len))
        return 0; /* echo ... > train.py is not harmless */
    static const char *const any_args[] = {
        "echo", "printf", "cd", "pwd", "set", "true", "false", ":",
        "test", "[", "[[", "wait", "sleep", "unset", "shift", "nproc", "uname",
        "whoami", NULL};
    static const char *const assigners[] = {
        "export", "declare", "typeset", "local", "readonly", NULL};
    const char *p = t[i].v;
    for (size_t k = 0; any_args[k]; k++)
        if (!strcmp(p, any_args[k]))
            return 1;
    for (size_t k = 0; assigners[k]; k++)
        if (!strcmp(p, assigners[k])) {
            for (size_t j = i + 1; j < n; j++)
                if (t[j].v[0] != '-')
                    see_assignment(w, t[j].v);
            return 1;
        }
    if (!strcmp(p, "mkdir")) {
        static const char *const ok[] = {"-p", "-v", "-pv", "-vp",
                                         "--parents", "--verbose", NULL};
        for (size_t j = i + 1; j < n; j++)
            if (t[j].v[0] == '-' && !all_args_in(t, j, j + 1, ok, 0))
                return 0;
        return 1;
    }
    if (!strcmp(p, "nvidia-smi")) {
        static const char *const ok[] = {"-L", "--list-gpus", "-q",
                                         "--query", "--query-gpu=",
                                         "--format=", "topo", "-m", NULL};
        return all_args_in(t, i + 1, n, ok, 1);
    }
    if (!strcmp(p, "hostname")) {
        static const char *const ok[] = {"-f", "-s", "-i", "-I", NULL};
        return all_args_in(t, i + 1, n, ok, 0);
    }
    if (!strcmp(p, "date")) {
        for (size_t j = i + 1; j < n; j++)
            if (t[j].v[0] != '+' && strcmp(t[j].v, "-u") &&
                strcmp(t[j].v, "-R") && strncmp(t[j].v, "-I", 2) &&
                strncmp(t[j].v, "--iso-8601", 10))
                return 0;
        return 1;
    }
    return 0;
}

/* ---- one command ---- */

static const char *const shells[] = {"bash", "sh", "dash", "zsh", "ksh",
                                     NULL};

static int in_strs(const char *s, const char *const *l)
{
    for (size_t i = 0; l[i]; i++)
        if (!strcmp(s, l[i]))
            return 1;
    return 0;
}

/* A shell run on a string (bash -c '...'): the string is a body. */
static int shell_dash_c(swalk *w, const wtok *t, size_t i, size_t n)
{
    size_t j = i + 1;
    int dash_c = 0;
    for (; j < n && t[j].v[0] == '-' && strcmp(t[j].v, "--"); j++) {
        if (t[j].v[1] != '-' && strchr(t[j].v, 'c'))
            dash_c = 1;
        if (!strcmp(t[j].v, "-o") || !strcmp(t[j].v, "+o"))
            j++;
    }
    if (!dash_c)
        return 0;
    if (j >= n)
        return 1;
    if (t[j].lit)
        walk_text(w, t[j].v, strlen(t[j].v));
    else if (!w->check)
        sv_add(w, w->progs, t[j].v);
    else if (!prog_known(w, t[j].v))
        refuse(w, "runs a computed body (%s)", t[j].v);
    return 1;
}

static void walk_cmd(swalk *w, const wtok *t, size_t n)
{
    size_t i = 0;
    if (++w->depth > 16) {
        if (w->check)
            refuse(w, "nests commands too deeply (%s)", n ? t[0].v : "");
        w->depth--;
        return;
    }
    for (size_t k = 0; k < n; k++)
        walk_substitutions(w, t[k].w);
    while (i < n && t[i].assign)
        see_assignment(w, t[i++].v);
    while (i < n && !w->why[0] && !w->oom) {
        const char *p = t[i].v;
        /* `[` and `[[` are unterminated brackets, kept as they are */
        if (!t[i].lit && strcmp(p, "[") != 0 && strcmp(p, "[[") != 0) {
            if (!w->check)
                sv_add(w, w->progs, p);
            else if (!prog_known(w, p))
                refuse(w, "runs a command whose name is computed (%s)", p);
            break;
        }
        const char *b = base_name(p);
        /* transparent wrappers: what they run is checked instead */
        if (!strcmp(b, "exec") || !strcmp(b, "command") ||
            !strcmp(b, "builtin") || !strcmp(b, "nohup") ||
            !strcmp(b, "time") || !strcmp(b, "setsid")) {
            i = skip_options(w, t, i + 1, n, no_opts, 0, NULL);
            continue;
        }
        if (!strcmp(b, "env")) {
            i = skip_options(w, t, i + 1, n, env_opts, 0, NULL);
            while (i < n && strchr(t[i].v, '=') && t[i].v[0] != '=' &&
                   t[i].v[0] != '/') {
                see_assignment(w, t[i].v);
                i++;
            }
            continue;
        }
        if (!strcmp(b, "timeout")) {
            i = skip_options(w, t, i + 1, n, timeout_opts, 0, NULL) + 1;
            continue;
        }
        if (!strcmp(b, "nice") || !strcmp(b, "stdbuf")) {
            i = skip_options(w, t, i + 1, n,
                             b[0] == 'n' ? nice_opts : stdbuf_opts, 0, NULL);
            continue;
        }
        if (in_strs(b, shells) && shell_dash_c(w, t, i, n))
            break;
        if (!strcmp(b, "eval")) {
            for (size_t j = i + 1; j < n; j++)
                if (t[j].lit)
                    walk_text(w, t[j].v, strlen(t[j].v));
                else if (w->check && !prog_known(w, t[j].v))
                    refuse(w, "evaluates computed text (%s)", t[j].v);
                else if (!w->check)
                    sv_add(w, w->progs, t[j].v);
            break;
        }
        /* the program itself */
        if (!w->check)
            sv_add(w, w->progs, p);
        else if (!prog_known(w, p) && !harmless(w, t, i, n))
            refuse(w, "runs %s, which the script does not run", p);
        if (w->why[0])
            break;
        /* launchers and wrappers that run a further program */
        const launcher *L = NULL;
        size_t from = i + 1;
        if (!strcmp(b, "torchrun"))
            L = &L_TORCHRUN;
        else if (!strcmp(b, "deepspeed"))
            L = &L_DEEPSPEED;
        else if (!strcmp(b, "mpirun") || !strcmp(b, "mpiexec") ||
                 !strcmp(b, "mpiexec.hydra") || !strcmp(b, "orterun"))
            L = &L_MPIRUN;
        else if (!strcmp(b, "srun"))
            L = &L_SRUN;
        else if (!strcmp(b, "accelerate") && i + 1 < n &&
                 !strcmp(t[i + 1].v, "launch")) {
            L = &L_ACCELERATE;
            from = i + 2;
        } else if (!strncmp(b, "python", 6)) {
            /* python [-u ...] -m torch.distributed.run|launch */
            size_t j = i + 1;
            while (j < n && t[j].v[0] == '-' && strcmp(t[j].v, "-m"))
                j++;
            if (j + 1 < n && !strcmp(t[j].v, "-m") &&
                (!strcmp(t[j + 1].v, "torch.distributed.run") ||
                 !strcmp(t[j + 1].v, "torch.distributed.launch"))) {
                L = &L_TORCHRUN;
                from = j + 2;
            }
        }
        if (L) {
            int no_python = 0;
            par_add(w, L->family, "", ""); /* it runs this launcher */
            size_t j = skip_options(w, t, from, n, L->opts,
                                    L->unknown_takes_value, L->family);
            for (size_t k = from; k < j && k < n; k++)
                if (!strcmp(t[k].v, "--no-python") ||
                    !strcmp(t[k].v, "--no_python"))
                    no_python = 1;
            if (L == &L_MPIRUN || L == &L_SRUN || no_python) {
                i = j; /* the program it starts */
                continue;
            }
            /* a Python script: the script runs python */
            if (!w->check) {
                sv_add(w, w->progs, "python");
                sv_add(w, w->progs, "python3");
            }
            break;
        }
        if (!strcmp(b, "taskset") || !strcmp(b, "numactl") ||
            !strcmp(b, "chrt") || !strcmp(b, "ionice")) {
            size_t j = skip_options(w, t, i + 1, n,
                                    b[0] == 't' ? taskset_opts : no_opts, 0,
                                    NULL);
            int has_c = 0;
            for (size_t k = i + 1; k < j; k++)
                if (!strcmp(t[k].v, "-c") || !strncmp(t[k].v, "--cpu", 5))
                    has_c = 1;
            if ((b[0] == 't' && !has_c) || b[0] == 'c')
                j++; /* the mask or the priority */
            i = j;
            continue;
        }
        if (!strcmp(b, "singularity") || !strcmp(b, "apptainer")) {
            if (i + 1 < n && !strcmp(t[i + 1].v, "exec")) {
                i = skip_options(w, t, i + 2, n, container_opts, 0, NULL) + 1;
                continue;
            }
            break;
        }
        break;
    }
    w->depth--;
}

/* The previous word in @p src before byte @p at (for loop headers). */
static size_t prev_word(const char *src, size_t at, char *out, size_t cap)
{
    size_t e = at;
    while (e > 0 && (src[e - 1] == ' ' || src[e - 1] == '\t' ||
                     src[e - 1] == '\n' || src[e - 1] == ';'))
        e--;
    size_t s = e;
    while (s > 0 && src[s - 1] != ' ' && src[s - 1] != '\t' &&
           src[s - 1] != '\n' && src[s - 1] != ';')
        s--;
    size_t l = e - s < cap - 1 ? e - s : cap - 1;
    memcpy(out, src + s, l);
    out[l] = '\0';
    return s;
}

/* Words of a compound statement that are not a command: the list of
 * for/select NAME in ..., the subject of case, its patterns, [[ ... ]]. */
static int not_a_command(const sh_body *b, const sh_stmt *st,
                         const sh_cmd *c)
{
    char w1[32], w2[32], w3[32];
    size_t s = prev_word(b->src, c->start, w1, sizeof(w1));
    if (!strcmp(w1, "[[") || !strcmp(w1, "case") || !strcmp(w1, "for") ||
        !strcmp(w1, "select"))
        return 1;
    if (!strcmp(w1, "in")) {
        s = prev_word(b->src, s, w2, sizeof(w2));
        prev_word(b->src, s, w3, sizeof(w3));
        if (!strcmp(w3, "for") || !strcmp(w3, "select"))
            return 1;
    }
    if (c->nwords && st->compound) {
        size_t e = c->end;
        while (e < b->len && (b->src[e] == ' ' || b->src[e] == '\t'))
            e++;
        const char *p = b->src + st->start;
        while (*p == ' ' || *p == '\t')
            p++;
        if (e < b->len && b->src[e] == ')' && !strncmp(p, "case", 4) &&
            (p[4] == ' ' || p[4] == '\t'))
            return 1;
    }
    return 0;
}

static void walk_text(swalk *w, const char *text, size_t len)
{
    if (w->depth > 16) {
        if (w->check)
            refuse(w, "nests commands too deeply (%s)", "");
        return;
    }
    sh_body b;
    if (sh_lex(&b, text, len, 1) != 0) {
        w->oom = 1;
        return;
    }
    w->depth++;
    const char *outer_src = w->cmd_src;
    size_t outer_len = w->cmd_len;
    for (size_t s = 0; s < b.n && !w->why[0] && !w->oom; s++) {
        const sh_stmt *st = &b.stmts[s];
        for (size_t c = 0; c < st->ncmds && !w->why[0] && !w->oom; c++) {
            const sh_cmd *cmd = &st->cmds[c];
            if (!cmd->nwords)
                continue;
            wtok *t = calloc(cmd->nwords, sizeof(*t));
            if (!t) {
                w->oom = 1;
                break;
            }
            size_t first = sh_cmd_first_arg(cmd);
            for (size_t k = 0; k < cmd->nwords; k++) {
                t[k].v = cmd->words[k].value ? cmd->words[k].value : "";
                t[k].lit = cmd->words[k].literal;
                t[k].assign = k < first;
                t[k].w = &cmd->words[k];
            }
            w->cmd_src = cmd->has_redir ? b.src + cmd->start : NULL;
            w->cmd_len = cmd->end - cmd->start;
            if (not_a_command(&b, st, cmd)) {
                for (size_t k = 0; k < cmd->nwords; k++)
                    walk_substitutions(w, t[k].w);
            } else {
                walk_cmd(w, t, cmd->nwords);
            }
            w->cmd_src = outer_src;
            w->cmd_len = outer_len;
            free(t);
        }
    }
    w->depth--;
    sh_body_free(&b);
}

/* An argv (executed without a shell): every element is literal. */
static void walk_argv(swalk *w, const s2r_strv *sv)
{
    if (!sv->n)
        return;
    wtok *t = calloc(sv->n, sizeof(*t));
    if (!t) {
        w->oom = 1;
        return;
    }
    for (size_t k = 0; k < sv->n; k++) {
        t[k].v = sv->v[k];
        t[k].lit = 1;
    }
    walk_cmd(w, t, sv->n);
    free(t);
}

/* What the script runs: programs, assignments and launcher options of
 * the rules command, the MPI launcher command and the body the rules
 * kept. */
typedef struct script_facts {
    s2r_strv progs, assigns, par;
} script_facts;

static void script_facts_free(script_facts *f)
{
    s2r_strv_clear(&f->progs);
    s2r_strv_clear(&f->assigns);
    s2r_strv_clear(&f->par);
}

static int script_facts_read(script_facts *f, const s2r_workload *wl,
                             const s2r_job *job)
{
    memset(f, 0, sizeof(*f));
    swalk w = {0, &f->progs, &f->assigns, &f->par, &wl->env, NULL, 0, "", 0, 0};
    walk_argv(&w, &wl->command);
    walk_argv(&w, &wl->launcher_command);
    /* the body and argv the script gave, before any rules rewrite: they
     * only add programs (launcher options come from the rules command) */
    s2r_strv more_par = {0};
    w.par = &more_par;
    walk_argv(&w, &job->run_argv);
    walk_argv(&w, &job->launcher_argv);
    if (job->run_shell)
        walk_text(&w, job->run_shell, strlen(job->run_shell));
    s2r_strv_clear(&more_par);
    return w.oom ? S2R_ENOMEM : S2R_OK;
}

/* Check mode over the proposal: the refusal in @p why ("" when none);
 * launcher options the proposal states into @p par. */
static int proposal_structure(const proposal *p, const s2r_workload *wl,
                              script_facts *f, s2r_strv *par, char *why,
                              size_t cap)
{
    swalk w = {1, &f->progs, &f->assigns, par, &wl->env, NULL, 0, "", 0, 0};
    if (p->command.n)
        walk_argv(&w, &p->command);
    else if (p->script)
        walk_text(&w, p->script, strlen(p->script));
    snprintf(why, cap, "%s", w.why);
    return w.oom ? S2R_ENOMEM : S2R_OK;
}

/* A launcher option the proposal changes: "torchrun --nproc_per_node 8
 * (rules: 2)" into @p out; 0 when none. */
static int parallelism_changed(const s2r_strv *model, const s2r_strv *rules,
                               char *out, size_t cap)
{
    static const struct {
        const char *family, *key, *shown;
        int may_drop;
    } keys[] = {
        {"torchrun", "nproc_per_node", "--nproc_per_node", 0},
        {"torchrun", "nnodes", "--nnodes", 0},
        {"accelerate", "num_processes", "--num_processes", 0},
        {"accelerate", "num_machines", "--num_machines", 0},
        {"deepspeed", "num_gpus", "--num_gpus", 1},
        {"deepspeed", "num_nodes", "--num_nodes", 1},
        {"mpirun", "np", "-np", 1},
        {"mpirun", "npernode", "-N/--npernode", 1},
        {"srun", "ntasks", "-n", 0},
        {"srun", "nodes", "-N", 0},
    };
    for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
        char pre[64];
        int pl = snprintf(pre, sizeof(pre), "%s\x1f%s\x1f", keys[k].family,
                          keys[k].key);
        char famp[32];
        int fl = snprintf(famp, sizeof(famp), "%s\x1f", keys[k].family);
        const char *rv = NULL;
        int model_runs = 0;
        for (size_t i = 0; i < rules->n; i++)
            if (!strncmp(rules->v[i], pre, (size_t)pl)) {
                rv = rules->v[i] + pl;
                break;
            }
        int stated = 0;
        for (size_t i = 0; i < model->n; i++) {
            if (!strncmp(model->v[i], famp, (size_t)fl))
                model_runs = 1;
            if (strncmp(model->v[i], pre, (size_t)pl))
                continue;
            stated = 1;
            const char *mv = model->v[i] + pl;
            if (!sv_has(rules, model->v[i])) {
                char a[48], b[48];
                excerpt(a, sizeof(a), mv);
                excerpt(b, sizeof(b), rv ? rv : "");
                snprintf(out, cap, "%s %s %s (rules: %s)", keys[k].family,
                         keys[k].shown, a, rv ? b : "not given");
                return 1;
            }
        }
        if (rv && model_runs && !stated && !keys[k].may_drop) {
            char b[48];
            excerpt(b, sizeof(b), rv);
            snprintf(out, cap, "%s without %s (rules: %s)", keys[k].family,
                     keys[k].shown, b);
            return 1;
        }
    }
    return 0;
}

/* Unsafe anywhere: command, script, env values, image. Returns the
 * reason; *@p where names the part, *@p what its text. First the
 * patterns (s2r_guard_unsafe), then the structure: the command or script
 * must run only programs the script runs (or harmless helpers), under
 * names that are not computed, and set no loader variable (@p buf holds
 * that reason; @p par receives the launcher options it states). */
static const char *proposal_unsafe(const proposal *p, const char *cmd_text,
                                   const char *rules, script_facts *f,
                                   const s2r_workload *wl, s2r_strv *par,
                                   char *buf, size_t cap, int *rc,
                                   const char **where, const char **what)
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
    if (cmd_text && proposal_structure(p, wl, f, par, buf, cap) != S2R_OK) {
        *rc = S2R_ENOMEM;
        return NULL;
    }
    if (cmd_text && buf[0]) {
        *where = p->command.n ? "command" : "script";
        *what = cmd_text;
        return buf;
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
                          const char *rules, const script_facts *f,
                          const s2r_strv *model_par)
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
    char changed[200];
    if (parallelism_changed(model_par, &f->par, changed, sizeof(changed))) {
        say(g, S2R_SEV_WARNING,
            "the model's command '%s' changes how many processes the "
            "launcher starts (%s): the rules command '%s' is kept", shown,
            changed, rules_shown);
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

static void apply_env(gctx *g, const proposal *p, const script_facts *f)
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
        if (env_name_loads(n)) {
            char a[300];
            snprintf(a, sizeof(a), "%s=%s", n, v);
            if (!sv_has(&f->assigns, a)) {
                say(g, S2R_SEV_WARNING,
                    "the model sets %s='%s', which decides which program "
                    "runs or what it loads, and the script does not set it "
                    "so: not set", n, sv);
                continue;
            }
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
    script_facts facts;
    s2r_strv model_par = {0};
    char structure[256] = "";
    rc = script_facts_read(&facts, wl, job);
    const char *bad = rc != S2R_OK ? NULL
                                   : proposal_unsafe(&p, text, rules, &facts,
                                                     wl, &model_par, structure,
                                                     sizeof(structure), &rc,
                                                     &where, &what);
    if (rc != S2R_OK) {
        g.rc = rc;
    } else if (bad) {
        char shown[160], reason[256];
        excerpt(shown, sizeof(shown), what);
        snprintf(reason, sizeof(reason), "its %s %s", where, bad);
        fallback(&g, outcome, "the answer is unsafe (%s: '%s')", reason,
                 shown);
    } else {
        apply_image(&g, p.image);
        apply_command(&g, &p, text, rules, &facts, &model_par);
        apply_env(&g, &p, &facts);
        add_texts(&g, &p.warnings, S2R_SEV_WARNING);
        add_texts(&g, &p.notes, S2R_SEV_NOTE);
        *outcome = S2R_GUARD_APPLIED;
    }
    script_facts_free(&facts);
    s2r_strv_clear(&model_par);
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
