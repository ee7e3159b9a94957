/**
 * @file options.c
 * @brief The sbatch option table and getopt_long("+") over the directive
 *        argv; each option's setter is in setters.c, the cross-option
 *        checks and derived facts in checks.c.
 *
 * Option names, short letters and argument kinds follow sbatch(1) (Slurm
 * 24.x-26.x) and the SPANK options of pyxis (--container-*) and Shifter
 * (--image, --volume, --ccm), which sites with those plugins add to
 * sbatch; rules follow getopt_long(3) and
 * src/common/slurm_opt.c. No Slurm code is copied.
 */
#include "slurm.h"
#include "parse_state.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_ S2R_SLURM_ARG_NONE
#define R_ S2R_SLURM_ARG_REQUIRED
#define O_ S2R_SLURM_ARG_OPTIONAL

/* The name --tasks-per-node is another spelling of: one array for both
 * entries, as a directive's name is compared by pointer (setters.c). */
static const char k_ntasks_per_node[] = "ntasks-per-node";

/* Sorted by strcmp(name): s2r_slurm__find_long() bisects it. */
static const s2r_slurm_option k_options[] = {
    {"account", 'A', R_, S2R_SLURM_K_ACCOUNT, NULL, NULL},
    {"acctg-freq", 0, R_, S2R_SLURM_K_STRING, NULL, NULL},
    {"array", 'a', R_, S2R_SLURM_K_ARRAY, NULL, NULL},
    {"batch", 0, R_, S2R_SLURM_K_STRING, NULL, NULL},
    {"bb", 0, R_, S2R_SLURM_K_STRING, NULL, NULL},
    {"bbf", 0, R_, S2R_SLURM_K_STRING, NULL, NULL},
    {"begin", 'b', R_, S2R_SLURM_K_STRING, NULL, NULL},
    {"ccm", 0, N_, S2R_SLURM_K_STRING, "shifter", NULL},
    {"chdir", 'D', R_, S2R_SLURM_K_CHDIR, NULL, NULL},
    {"cluster-constraint", 0, R_, S2R_SLURM_K_STRING, NULL, NULL},
    {"clusters", 'M', R_, S2R_SLURM_K_STRING, NULL, NULL},
    {"comment", 0, R_, S2R_SLURM_K_STRING, NULL, NULL},
    {"constraint", 'C', R_, S2R_SLURM_K_STRING, NULL, NULL},
    {"container", 0, R_, S2R_SLURM_K_STRING, NULL, NULL},
    {"container-entrypoint", 0, N_, S2R_SLURM_K_STRING, "pyxis", NULL},
    {"container-entrypoint-log", 0, N_, S2R_SLURM_K_STRING, "pyxis", NULL},
    {"container-env", 0, R_, S2R_SLURM_K_STRING, "pyxis", NULL},
    {"container-id", 0, R_, S2R_SLURM_K_STRING, NULL, NULL},
    {"container-image", 0, R_, S2R_SLURM_K_CONTAINER_IMAGE, "pyxis", NULL},
    {"container-mount-home", 0, N_, S2R_SLURM_K_STRING, "pyxis", NULL},
    {"container-mounts", 0, R_, S2R_SLURM_K_STRING, "pyxis", NULL},
    {"container-name", 0, R_, S2R_SLURM_K_STRING, "pyxis", NULL},
    {"container-readonly", 0, N_, S2R_SLURM_K_STRING, "pyxis", NULL},
    {"container-remap-root", 0, N_, S2R_SLURM_K_STRING, "pyxis", NULL},
    {"container-save", 0, R_, S2R_SLURM_K_STRING, "pyxis", NULL},
    {"container-workdir", 0, R_, S2R_SLURM_K_STRING, "pyxis", NULL},
    {"container-writable", 0, N_, S2R_SLURM_K_STRING, "pyxis", NULL},
    {"contiguous", 0, N_, S2R_SLURM_K_STRING, NULL, NULL},
    {"core-spec", 'S', R_, S2R_SLURM_K_STRING, NULL, NULL},
    {"cores-per-socket", 0, R_, S2R_SLURM_K_STRING, NULL, NULL},
    {"cpu-freq", 0, R_, S2R_SLURM_K_STRING, NULL, NULL},
    {"cpus-per-gpu", 0, R_, S2R_SLURM_K_CPUS_PER_GPU, NULL, NULL},
    {"cpus-per-task", 'c', R_, S2R_SLURM_K_CPUS_PER_TASK, NULL, NULL},
    {"deadline", 0, R_, S2R_SLURM_K_STRING, NULL, NULL},
    {"delay-boot", 0, R_, S2R_SLURM_K_STRING, NULL, NULL},
    {"dependency", 'd', R_, S2R_SLURM_K_STRING, NULL, NULL},
    {"distribution", 'm', R_, S2R_SLURM_K_STRING, NULL, NULL},
    {"error", 'e', R_, S2R_SLURM_K_STRING, NULL, NULL},
    {"exclude", 'x', R_, S2R_SLURM_K_STRING, NULL, NULL},
    {"exclusive", 0, O_, S2R_SLURM_K_EXCLUSIVE, NULL, NULL},
    {"export", 0, R_, S2R_SLURM_K_EXPORT, NULL, NULL},
    {"export-file", 0, R_, S2R_SLURM_K_STRING, NULL, NULL},
    {"extra", 0, R_, S2R_SLURM_K_STRING, NULL, NULL},
    {"extra-node-info", 'B', R_, S2R_SLURM_K_EXTRA_NODE_INFO, NULL, NULL},
    {"get-user-env", 0, O_, S2R_SLURM_K_STRING, NULL, NULL},
    {"gid", 0, R_, S2R_SLURM_K_STRING, NULL, NULL},
    {"gpu-bind", 0, R_, S2R_SLURM_K_STRING, NULL, NULL},
    {"gpu-freq", 0, R_, S2R_SLURM_K_STRING, NULL, NULL},
    {"gpus", 'G', R_, S2R_SLURM_K_GPUS, NULL, NULL},
    {"gpus-per-node", 0, R_, S2R_SLURM_K_GPUS_PER_NODE, NULL, NULL},
    {"gpus-per-socket", 0, R_, S2R_SLURM_K_GPUS_PER_SOCKET, NULL, NULL},
    {"gpus-per-task", 0, R_, S2R_SLURM_K_GPUS_PER_TASK, NULL, NULL},
    {"gres", 0, R_, S2R_SLURM_K_GRES, NULL, NULL},
    {"gres-flags", 0, R_, S2R_SLURM_K_STRING, NULL, NULL},
    {"help", 'h', N_, S2R_SLURM_K_IGNORED, NULL, NULL},
    {"hint", 0, R_, S2R_SLURM_K_STRING, NULL, NULL},
    {"hold", 'H', N_, S2R_SLURM_K_STRING, NULL, NULL},
    {"ignore-pbs", 0, N_, S2R_SLURM_K_STRING, NULL, NULL},
    {"image", 0, R_, S2R_SLURM_K_SHIFTER_IMAGE, "shifter", NULL},
    {"input", 'i', R_, S2R_SLURM_K_STRING, NULL, NULL},
    {"job-name", 'J', R_, S2R_SLURM_K_JOB_NAME, NULL, NULL},
    {"kill-on-invalid-dep", 0, R_, S2R_SLURM_K_STRING, NULL, NULL},
    {"licenses", 'L', R_, S2R_SLURM_K_STRING, NULL, NULL},
    {"mail-type", 0, R_, S2R_SLURM_K_STRING, NULL, NULL},
    {"mail-user", 0, R_, S2R_SLURM_K_STRING, NULL, NULL},
    {"mcs-label", 0, R_, S2R_SLURM_K_STRING, NULL, NULL},
    {"mem", 0, R_, S2R_SLURM_K_MEM, NULL, NULL},
    {"mem-bind", 0, R_, S2R_SLURM_K_STRING, NULL, NULL},
    {"mem-per-cpu", 0, R_, S2R_SLURM_K_MEM_PER_CPU, NULL, NULL},
    {"mem-per-gpu", 0, R_, S2R_SLURM_K_MEM_PER_GPU, NULL, NULL},
    {"mincpus", 0, R_, S2R_SLURM_K_MINCPUS, NULL, NULL},
    {"network", 0, R_, S2R_SLURM_K_STRING, NULL, NULL},
    {"nice", 0, O_, S2R_SLURM_K_NICE, NULL, NULL},
    {"no-container-entrypoint", 0, N_, S2R_SLURM_K_STRING, "pyxis", NULL},
    {"no-container-mount-home", 0, N_, S2R_SLURM_K_STRING, "pyxis", NULL},
    {"no-container-remap-root", 0, N_, S2R_SLURM_K_STRING, "pyxis", NULL},
    {"no-kill", 'k', O_, S2R_SLURM_K_STRING, NULL, NULL},
    {"no-requeue", 0, N_, S2R_SLURM_K_STRING, NULL, NULL},
    {"nodefile", 'F', R_, S2R_SLURM_K_STRING, NULL, NULL},
    {"nodelist", 'w', R_, S2R_SLURM_K_STRING, NULL, NULL},
    {"nodes", 'N', R_, S2R_SLURM_K_NODES, NULL, NULL},
    {"ntasks", 'n', R_, S2R_SLURM_K_NTASKS, NULL, NULL},
    {"ntasks-per-core", 0, R_, S2R_SLURM_K_POSINT, NULL, NULL},
    {"ntasks-per-gpu", 0, R_, S2R_SLURM_K_NTASKS_PER_GPU, NULL, NULL},
    {k_ntasks_per_node, 0, R_, S2R_SLURM_K_NTASKS_PER_NODE, NULL, NULL},
    {"ntasks-per-socket", 0, R_, S2R_SLURM_K_POSINT, NULL, NULL},
    {"ntasks-per-tres", 0, R_, S2R_SLURM_K_POSINT, NULL, NULL},
    {"oom-kill-step", 0, O_, S2R_SLURM_K_STRING, NULL, NULL},
    {"open-mode", 0, R_, S2R_SLURM_K_OPEN_MODE, NULL, NULL},
    {"output", 'o', R_, S2R_SLURM_K_STRING, NULL, NULL},
    {"overcommit", 'O', N_, S2R_SLURM_K_STRING, NULL, NULL},
    {"oversubscribe", 's', N_, S2R_SLURM_K_OVERSUBSCRIBE, NULL, NULL},
    {"parsable", 0, N_, S2R_SLURM_K_STRING, NULL, NULL},
    {"partition", 'p', R_, S2R_SLURM_K_PARTITION, NULL, NULL},
    {"prefer", 0, R_, S2R_SLURM_K_STRING, NULL, NULL},
    {"priority", 0, R_, S2R_SLURM_K_STRING, NULL, NULL},
    {"profile", 0, R_, S2R_SLURM_K_STRING, NULL, NULL},
    {"propagate", 0, O_, S2R_SLURM_K_STRING, NULL, NULL},
    {"qos", 'q', R_, S2R_SLURM_K_STRING, NULL, NULL},
    {"quiet", 'Q', N_, S2R_SLURM_K_IGNORED, NULL, NULL},
    {"reboot", 0, N_, S2R_SLURM_K_STRING, NULL, NULL},
    {"requeue", 0, O_, S2R_SLURM_K_STRING, NULL, NULL},
    {"reservation", 0, R_, S2R_SLURM_K_STRING, NULL, NULL},
    {"resv-ports", 0, O_, S2R_SLURM_K_STRING, NULL, NULL},
    {"segment", 0, R_, S2R_SLURM_K_STRING, NULL, NULL},
    {"signal", 0, R_, S2R_SLURM_K_STRING, NULL, NULL},
    {"sockets-per-node", 0, R_, S2R_SLURM_K_SOCKETS_PER_NODE, NULL, NULL},
    {"spread-job", 0, N_, S2R_SLURM_K_STRING, NULL, NULL},
    {"stepmgr", 0, N_, S2R_SLURM_K_STRING, NULL, NULL},
    {"switches", 0, R_, S2R_SLURM_K_STRING, NULL, NULL},
    /* the older spelling of --ntasks-per-node, still in sbatch */
    {"tasks-per-node", 0, R_, S2R_SLURM_K_NTASKS_PER_NODE, NULL,
     k_ntasks_per_node},
    {"test-only", 0, N_, S2R_SLURM_K_STRING, NULL, NULL},
    {"thread-spec", 0, R_, S2R_SLURM_K_STRING, NULL, NULL},
    {"threads-per-core", 0, R_, S2R_SLURM_K_STRING, NULL, NULL},
    {"time", 't', R_, S2R_SLURM_K_TIME, NULL, NULL},
    {"time-min", 0, R_, S2R_SLURM_K_TIME_MIN, NULL, NULL},
    {"tmp", 0, R_, S2R_SLURM_K_TMP, NULL, NULL},
    {"tres-bind", 0, R_, S2R_SLURM_K_STRING, NULL, NULL},
    {"tres-per-task", 0, R_, S2R_SLURM_K_TRES_PER_TASK, NULL, NULL},
    {"uid", 0, R_, S2R_SLURM_K_STRING, NULL, NULL},
    {"usage", 0, N_, S2R_SLURM_K_IGNORED, NULL, NULL},
    {"use-min-nodes", 0, N_, S2R_SLURM_K_STRING, NULL, NULL},
    {"verbose", 'v', N_, S2R_SLURM_K_IGNORED, NULL, NULL},
    {"version", 'V', N_, S2R_SLURM_K_IGNORED, NULL, NULL},
    {"volume", 0, R_, S2R_SLURM_K_STRING, "shifter", NULL},
    {"wait", 'W', N_, S2R_SLURM_K_STRING, NULL, NULL},
    {"wait-all-nodes", 0, R_, S2R_SLURM_K_STRING, NULL, NULL},
    {"wckey", 0, R_, S2R_SLURM_K_STRING, NULL, NULL},
    {"wrap", 0, R_, S2R_SLURM_K_IGNORED, NULL, NULL},
};

#define N_OPTIONS (sizeof(k_options) / sizeof(k_options[0]))

const s2r_slurm_option *s2r_slurm__options(size_t *n_out)
{
    *n_out = N_OPTIONS;
    return k_options;
}

/* The table's index, made once per process (index_make): the entry of
 * each short letter, and every name in an open-addressed hash table of
 * NAME_SLOTS slots (linear probing); both hold an entry's index + 1, 0
 * for none. A directive's option is mostly named in full: found there,
 * with one hash of the name and one comparison. */
enum { NAME_SLOTS = 512 };
_Static_assert(N_OPTIONS <= NAME_SLOTS / 2 && N_OPTIONS < UINT8_MAX,
               "the index keeps an entry in a byte, slots half empty");
static pthread_once_t k_index_once = PTHREAD_ONCE_INIT;
static uint8_t k_by_short[128];
static uint8_t k_by_name[NAME_SLOTS];
static size_t k_name_len[N_OPTIONS];

/* A hash of the @p len (> 0) bytes at @p s from its length, first,
 * middle and last byte, which tell the table's names apart (about 1.1
 * probes a name). */
static size_t name_hash(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    return len * 31 + u[0] + u[len - 1] * 13u + u[len / 2] * 5u;
}

static void index_make(void)
{
    for (size_t i = 0; i < N_OPTIONS; i++) {
        const s2r_slurm_option *o = &k_options[i];
        if (o->short_name > 0 && !k_by_short[(unsigned char)o->short_name])
            k_by_short[(unsigned char)o->short_name] = (uint8_t)(i + 1);
        k_name_len[i] = strlen(o->name);
        size_t s = name_hash(o->name, k_name_len[i]) % NAME_SLOTS;
        while (k_by_name[s])
            s = (s + 1) % NAME_SLOTS;
        k_by_name[s] = (uint8_t)(i + 1);
    }
}

/* The entry named exactly the @p len bytes at @p name, or NULL. */
static const s2r_slurm_option *find_exact(const char *name, size_t len)
{
    pthread_once(&k_index_once, index_make);
    for (size_t s = name_hash(name, len) % NAME_SLOTS; k_by_name[s];
         s = (s + 1) % NAME_SLOTS) {
        size_t i = k_by_name[s] - 1u;
        if (k_name_len[i] == len && memcmp(k_options[i].name, name, len) == 0)
            return &k_options[i];
    }
    return NULL;
}

/* strcmp of the first @p len bytes of @p name against a NUL-terminated
 * table name, treating @p name as a NUL-terminated string of length len. */
static int cmp_name(const char *name, size_t len, const char *tab)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char a = (unsigned char)name[i], b = (unsigned char)tab[i];
        if (a != b)
            return a < b ? -1 : 1;
        if (!b) /* both end here: name is longer only with bytes after */
            return i + 1 < len;
    }
    return tab[len] ? -1 : 0;
}

const s2r_slurm_option *s2r_slurm__find_long(const char *name, size_t len,
                                             int *status_out)
{
    const s2r_slurm_option *exact = len ? find_exact(name, len) : NULL;
    if (exact) {
        *status_out = S2R_SLURM_FOUND;
        return exact;
    }
    /* the entry named name, else the first entry > name (no name is
     * empty: an empty name is never equal) */
    size_t lo = 0, hi = N_OPTIONS;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = cmp_name(name, len, k_options[mid].name);
        if (c == 0) {
            *status_out = S2R_SLURM_FOUND;
            return &k_options[mid];
        }
        if (c > 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (len == 0) {
        *status_out = S2R_SLURM_UNKNOWN;
        return NULL;
    }
    /* entries with this prefix follow contiguously */
    size_t n = 0;
    while (lo + n < N_OPTIONS &&
           strncmp(k_options[lo + n].name, name, len) == 0 &&
           strlen(k_options[lo + n].name) >= len)
        n++;
    if (n == 1) {
        *status_out = S2R_SLURM_FOUND;
        return &k_options[lo];
    }
    *status_out = n ? S2R_SLURM_AMBIGUOUS : S2R_SLURM_UNKNOWN;
    return NULL;
}

const s2r_slurm_option *s2r_slurm__find_short(char c)
{
    if (c <= 0) /* the letters are ASCII */
        return NULL;
    pthread_once(&k_index_once, index_make);
    size_t i = k_by_short[(unsigned char)c];
    return i ? &k_options[i - 1] : NULL;
}

/* ------------------------------------------------------------------ */
/* Refusals                                                            */
/* ------------------------------------------------------------------ */

/* " (contains a non-breaking space ...)" when @p s has U+00A0 in UTF-8. */
static const char *nbsp_hint(const char *s)
{
    if (s && strstr(s, "\xc2\xa0"))
        return " (it contains a non-breaking space U+00A0, which sbatch "
               "does not treat as whitespace; use a plain space)";
    return "";
}

void s2r_slurm__perr(s2r_slurm__state *st, int line, const char *option,
                     const char *hint_of, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (s2r_diags_add(st->d, S2R_SEV_ERROR, st->file, line, option, "%s%s",
                      msg, nbsp_hint(hint_of)) != 0)
        st->rc = S2R_ENOMEM;
    else if (st->rc == 0)
        st->rc = S2R_EINVAL;
}

/* ------------------------------------------------------------------ */
/* getopt_long("+")                                                    */
/* ------------------------------------------------------------------ */

static void ambiguous(s2r_slurm__state *st, int line, const char *arg,
                      const char *name, size_t len)
{
    char poss[400];
    size_t o = 0;
    poss[0] = '\0';
    for (size_t i = 0; i < N_OPTIONS && o + 1 < sizeof(poss); i++) {
        if (strncmp(k_options[i].name, name, len) == 0) {
            int w = snprintf(poss + o, sizeof(poss) - o, " '--%s'",
                             k_options[i].name);
            if (w < 0)
                break;
            o += (size_t)w;
        }
    }
    s2r_slurm__perr(st, line, NULL, NULL,
                    "option '%s' is ambiguous; possibilities:%s", arg, poss);
}

/* The option pass over the directive tokens. */
typedef struct argv_scan {
    s2r_slurm__state *st;
    char *const *argv;
    const int *lines;
    size_t argc;
    size_t i;                     /* next token */
    const s2r_slurm_option *prev; /* the last option applied ... */
    int prev_line;                /* ... and its line */
    bool stop;                    /* a refusal ended the pass */
} argv_scan;

/* "--name", "--name=value" or "--name value" at argv[i], a unique prefix
 * of a name being enough (getopt_long). @return 0 or S2R_ENOMEM. */
static int long_option(argv_scan *a)
{
    s2r_slurm__state *st = a->st;
    const char *arg = a->argv[a->i];
    int line = a->lines[a->i];
    const char *nm = arg + 2;
    const char *eq = strchr(nm, '=');
    size_t len = eq ? (size_t)(eq - nm) : strlen(nm);
    int status;
    const s2r_slurm_option *o = s2r_slurm__find_long(nm, len, &status);
    a->i++;
    if (!o) {
        if (status == S2R_SLURM_AMBIGUOUS)
            ambiguous(st, line, arg, nm, len);
        else
            s2r_slurm__perr(st, line, NULL, arg, "unrecognized option '%s'",
                            arg);
        a->stop = true;
        return 0;
    }
    const char *val = NULL;
    if (o->has_arg == S2R_SLURM_ARG_NONE) {
        if (eq) {
            s2r_slurm__perr(st, line, o->name, NULL,
                            "option '--%s' doesn't allow an argument",
                            o->name);
            a->stop = true;
            return 0;
        }
    } else if (eq) {
        val = eq + 1;
    } else if (o->has_arg == S2R_SLURM_ARG_REQUIRED) {
        if (a->i >= a->argc) {
            s2r_slurm__perr(st, line, o->name, NULL,
                            "option '--%s' requires an argument", o->name);
            a->stop = true;
            return 0;
        }
        val = a->argv[a->i++];
    }
    if (s2r_slurm__apply(st, o, val, line) != 0)
        return S2R_ENOMEM;
    a->prev = o;
    a->prev_line = line;
    return 0;
}

/* A cluster of short options at argv[i]: -Hv, -N2, -J name. @return 0
 * or S2R_ENOMEM. */
static int short_options(argv_scan *a)
{
    s2r_slurm__state *st = a->st;
    const char *arg = a->argv[a->i];
    int line = a->lines[a->i];
    const char *p = arg + 1;
    a->i++;
    while (*p) {
        const s2r_slurm_option *o = s2r_slurm__find_short(*p);
        if (!o) {
            s2r_slurm__perr(st, line, NULL, arg, "invalid option -- '%c'",
                            *p);
            a->stop = true;
            return 0;
        }
        p++;
        const char *val = NULL;
        if (o->has_arg != S2R_SLURM_ARG_NONE) {
            if (*p) {
                val = p;
            } else if (o->has_arg == S2R_SLURM_ARG_REQUIRED) {
                if (a->i >= a->argc) {
                    s2r_slurm__perr(st, line, o->name, NULL,
                                    "option requires an argument -- '%c'",
                                    o->short_name);
                    a->stop = true;
                    return 0;
                }
                val = a->argv[a->i++];
            }
        }
        if (s2r_slurm__apply(st, o, val, line) != 0)
            return S2R_ENOMEM;
        a->prev = o;
        a->prev_line = line;
        if (val == p)
            break;
    }
    return 0;
}

/* A token left after the options: "Invalid directive found in batch
 * script", with a hint when it sits on the line of the last option. */
static void leftover(argv_scan *a)
{
    size_t i = a->i;
    const char *tok = a->argv[i];
    const s2r_slurm_option *prev = a->prev;
    char hint[200];
    const char *opt = NULL;
    hint[0] = '\0';
    if (prev && a->prev_line == a->lines[i]) {
        opt = prev->name;
        if (prev->has_arg == S2R_SLURM_ARG_OPTIONAL)
            snprintf(hint, sizeof(hint),
                     " (--%s takes a value only as --%s=VALUE)",
                     prev->name, prev->name);
        else if (prev->has_arg == S2R_SLURM_ARG_REQUIRED)
            snprintf(hint, sizeof(hint),
                     " (a value containing spaces must be quoted, and "
                     "a trailing comment must start with '#')");
    }
    /* a non-breaking space may sit in the stray token or just before */
    const char *nb = tok;
    if (!strstr(tok, "\xc2\xa0") && i > 0 &&
        strstr(a->argv[i - 1], "\xc2\xa0"))
        nb = a->argv[i - 1];
    s2r_slurm__perr(a->st, a->lines[i], opt, nb,
                    "Invalid directive found in batch script: %s%s", tok,
                    hint);
}

/* The option pass over the tokens, the cross-option checks and the
 * derived facts into st->job (s2r_slurm__parse_argv()). */
static int option_pass(s2r_slurm__state *st, char *const *argv,
                       const int *lines, size_t argc)
{
    argv_scan a = {.st = st, .argv = argv, .lines = lines, .argc = argc};
    while (a.i < argc && !a.stop) {
        const char *arg = argv[a.i];
        if (arg[0] != '-' || arg[1] == '\0')
            break; /* first non-option: "+" stops here */
        if (strcmp(arg, "--") == 0) {
            a.i++;
            break;
        }
        if ((arg[1] == '-' ? long_option(&a) : short_options(&a)) != 0)
            return S2R_ENOMEM;
    }
    if (st->rc == S2R_ENOMEM)
        return S2R_ENOMEM;
    if (!a.stop && a.i < argc)
        leftover(&a);
    if (st->rc == 0)
        s2r_slurm__cross_checks(st);
    if (st->rc == S2R_ENOMEM)
        return S2R_ENOMEM;
    if (s2r_slurm__derive(st) != 0)
        return S2R_ENOMEM;
    return st->rc;
}

_Static_assert(N_OPTIONS <= S2R_SLURM__MAX_DIRECTIVES,
               "a job has at most one effective directive per option name");

int s2r_slurm__parse_argv(s2r_job *job, const char *file, char *const *argv,
                          const int *lines, size_t argc, s2r_diags *d)
{
    const char *values[S2R_SLURM__MAX_DIRECTIVES];
    s2r_slurm__state st;
    memset(&st, 0, sizeof(st));
    st.job = job;
    st.file = file;
    st.d = d;
    st.argc = argc;
    st.directives_cap = 0; /* a zero-initialised job: the first record
                              makes room */
    st.values = values;

    int rc = option_pass(&st, argv, lines, argc);
    if (s2r_slurm__keep_values(&st) != 0)
        rc = S2R_ENOMEM;
    return rc;
}
