/* rules.c: the mapping rules, s2r_job -> s2r_workload (what the built-in
 * rules provider answers), per the design README §2 and runai-formats.md
 * §1.6 and §4. */
#include <s2r/s2r.h>

#include "runai.h"
#include "pod.h"
#include "site_rules.h"
#include "base/base.h"
#include "shell/shell.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* What each effective sbatch option becomes. */
typedef enum fate {
    F_CARRIED = 0, /* a resource, limit or setting the workload carries */
    F_MAPPED,      /* mapped to a Run:ai concept, said in a note */
    F_WARN         /* no Run:ai equivalent: a warning naming it */
} fate;

typedef struct option_rule {
    const char *name;
    fate fate;
    s2r_rules__ask ask; /* its slot in an s2r_rules__asked, or NONE */
    const char *why;    /* the warning's explanation */
} option_rule;

/* In strcmp() order of the names: rule_for() halves it. */
static const option_rule rules_table[] = {
    {"account", F_MAPPED, S2R_ASK_ACCOUNT, NULL}, /* the project, [accounts] */
    {"array", F_CARRIED, S2R_ASK_NONE, NULL},
    {"begin", F_WARN, S2R_ASK_NONE,
     "Run:ai starts workloads when they are submitted; submit later instead"},
    {"ccm", F_WARN, S2R_ASK_NONE,
     "Cray's cluster compatibility mode has no Run:ai equivalent"},
    {"chdir", F_CARRIED, S2R_ASK_CHDIR, NULL},
    /* explained where it is mapped */
    {"constraint", F_WARN, S2R_ASK_CONSTRAINT, NULL},
    {"container-image", F_CARRIED, S2R_ASK_NONE, NULL},
    /* binds and the working directory (core/body/containers.c) */
    {"container-mounts", F_CARRIED, S2R_ASK_NONE, NULL},
    {"container-workdir", F_CARRIED, S2R_ASK_NONE, NULL},
    {"cpus-per-gpu", F_CARRIED, S2R_ASK_NONE, NULL},
    {"cpus-per-task", F_CARRIED, S2R_ASK_NONE, NULL},
    {"dependency", F_WARN, S2R_ASK_NONE,
     "Run:ai has no job dependencies; submit this workload after the one it "
     "depends on finishes"},
    {"error", F_MAPPED, S2R_ASK_ERROR, NULL},
    {"exclude", F_WARN, S2R_ASK_NONE,
     "not applied; Run:ai's --exclude-node takes Kubernetes node names, not "
     "SLURM host lists"},
    {"exclusive", F_WARN, S2R_ASK_NONE,
     "Run:ai cannot reserve whole nodes; the pod gets what it requests"},
    {"export", F_CARRIED, S2R_ASK_NONE, NULL},
    /* its sockets count --gpus-per-socket's GPUs (warn_options()) */
    {"extra-node-info", F_WARN, S2R_ASK_EXTRA_NODE_INFO,
     "a Run:ai pod requests cores, not sockets, cores per socket or threads "
     "per core"},
    /* the pods' run-as GID (identity.c) */
    {"gid", F_CARRIED, S2R_ASK_NONE, NULL},
    {"gpus", F_CARRIED, S2R_ASK_GPUS, NULL},
    {"gpus-per-node", F_CARRIED, S2R_ASK_GPUS_PER_NODE, NULL},
    /* x --sockets-per-node: GPUs per node */
    {"gpus-per-socket", F_CARRIED, S2R_ASK_GPUS_PER_SOCKET, NULL},
    {"gpus-per-task", F_CARRIED, S2R_ASK_GPUS_PER_TASK, NULL},
    /* its GPU entries; warn_options() warns of the others */
    {"gres", F_CARRIED, S2R_ASK_GRES, NULL},
    {"hint", F_WARN, S2R_ASK_NONE,
     "CPU placement hints have no Run:ai equivalent"},
    /* Shifter's; other types warned in slurm */
    {"image", F_CARRIED, S2R_ASK_NONE, NULL},
    {"input", F_MAPPED, S2R_ASK_INPUT, NULL}, /* the pod script's stdin */
    {"job-name", F_CARRIED, S2R_ASK_NONE, NULL},
    {"kill-on-invalid-dep", F_WARN, S2R_ASK_NONE,
     "Run:ai has no job dependencies"},
    {"licenses", F_WARN, S2R_ASK_NONE, "Run:ai does not count licenses"},
    {"mail-type", F_WARN, S2R_ASK_NONE,
     "Run:ai sends no mail; follow the workload with 'runai training "
     "describe'"},
    {"mail-user", F_WARN, S2R_ASK_NONE, "Run:ai sends no mail"},
    {"mem", F_CARRIED, S2R_ASK_MEM, NULL},
    {"mem-per-cpu", F_CARRIED, S2R_ASK_MEM_PER_CPU, NULL},
    {"mem-per-gpu", F_CARRIED, S2R_ASK_MEM_PER_GPU, NULL},
    {"mincpus", F_CARRIED, S2R_ASK_NONE, NULL},
    {"nice", F_WARN, S2R_ASK_NONE, "use [runai] priority instead"},
    {"no-requeue", F_CARRIED, S2R_ASK_NONE, NULL}, /* backoffLimit 0 */
    {"nodelist", F_WARN, S2R_ASK_NONE,
     "Run:ai cannot place pods on named nodes"},
    {"nodes", F_CARRIED, S2R_ASK_NODES, NULL},
    {"ntasks", F_CARRIED, S2R_ASK_NONE, NULL},
    /* its tasks and GPUs are counted in the job's (core/slurm) */
    {"ntasks-per-gpu", F_CARRIED, S2R_ASK_NONE, NULL},
    {"ntasks-per-node", F_CARRIED, S2R_ASK_NONE, NULL},
    {"open-mode", F_MAPPED, S2R_ASK_OPEN_MODE, NULL}, /* tee -a */
    {"output", F_MAPPED, S2R_ASK_OUTPUT, NULL}, /* the pod script's tee */
    /* node pools, [partitions] */
    {"partition", F_MAPPED, S2R_ASK_PARTITION, NULL},
    {"priority", F_WARN, S2R_ASK_NONE, "use [runai] priority instead"},
    {"qos", F_MAPPED, S2R_ASK_QOS, NULL}, /* the priority class, [qos] */
    {"requeue", F_WARN, S2R_ASK_NONE,
     "the workload is not retried (backoffLimit 0); preemptible Run:ai "
     "workloads are resumed by the scheduler"},
    {"reservation", F_WARN, S2R_ASK_NONE,
     "Run:ai has no reservations; ask for a node pool"},
    {"signal", F_WARN, S2R_ASK_NONE,
     "Run:ai stops pods with SIGTERM after a grace period; a trap on "
     "another signal never fires"},
    /* carried when it counts --gpus-per-socket's GPUs (warn_options()) */
    {"sockets-per-node", F_WARN, S2R_ASK_SOCKETS_PER_NODE,
     "a Run:ai pod requests cores, not CPU sockets"},
    {"time", F_CARRIED, S2R_ASK_NONE, NULL},
    {"time-min", F_WARN, S2R_ASK_NONE, "Run:ai has no minimum time"},
    {"tmp", F_WARN, S2R_ASK_NONE,
     "node-local scratch needs an emptyDir or PVC mount"},
    /* its cpu and GPU entries; warn_options() warns of the others */
    {"tres-per-task", F_CARRIED, S2R_ASK_TRES_PER_TASK, NULL},
    /* the pods' run-as UID (identity.c) */
    {"uid", F_CARRIED, S2R_ASK_NONE, NULL},
    {"volume", F_WARN, S2R_ASK_NONE,
     "Shifter's mounts need a Run:ai data source (PVC, NFS or host path)"},
};

enum { N_RULES = sizeof(rules_table) / sizeof(rules_table[0]) };

/* The rules whose names start with each letter, as [first, end) in
 * rules_table ({0, 0}: none), built once from the sorted table. */
typedef struct letter_rules {
    unsigned char first, end;
} letter_rules;

_Static_assert(N_RULES < 256, "letter_rules holds indexes below 256");

static letter_rules by_letter[26];
static pthread_once_t by_letter_once = PTHREAD_ONCE_INIT;

static void index_by_letter(void)
{
    for (size_t i = 0; i < N_RULES; i++) {
        unsigned char c0 = (unsigned char)rules_table[i].name[0];
        if (c0 < 'a' || c0 > 'z')
            continue; /* s2r_rules__table_in_order() refuses it */
        letter_rules *l = &by_letter[c0 - 'a'];
        if (l->end == 0)
            l->first = (unsigned char)i;
        l->end = (unsigned char)(i + 1);
    }
}

/* Every directive of a script is looked up here: among the rules of its
 * first letter (8 at most), by halving them, the second character
 * compared inline, so only a likely entry costs a strcmp(). */
static const option_rule *rule_for(const char *name)
{
    unsigned char c0 = (unsigned char)name[0];
    if (c0 < 'a' || c0 > 'z')
        return NULL;
    size_t lo = by_letter[c0 - 'a'].first, hi = by_letter[c0 - 'a'].end;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *r = rules_table[mid].name; /* 3 characters or more */
        int c = (unsigned char)name[1] - (unsigned char)r[1];
        if (!c)
            c = strcmp(name + 2, r + 2);
        if (!c)
            return &rules_table[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

bool s2r_rules__table_in_order(void)
{
    for (size_t i = 1; i < N_RULES; i++)
        if (strlen(rules_table[i - 1].name) < 3 ||
            strcmp(rules_table[i - 1].name, rules_table[i].name) >= 0)
            return false;
    if (strlen(rules_table[N_RULES - 1].name) < 3)
        return false;
    /* by_letter: each letter's range holds its names, and all of them */
    pthread_once(&by_letter_once, index_by_letter);
    size_t in_ranges = 0;
    for (size_t c = 0; c < 26; c++) {
        const letter_rules *l = &by_letter[c];
        if (l->first > l->end || l->end > N_RULES)
            return false;
        for (size_t i = l->first; i < l->end; i++)
            if ((size_t)(rules_table[i].name[0] - 'a') != c)
                return false;
        in_ranges += (size_t)(l->end - l->first);
    }
    return in_ranges == N_RULES;
}

static char **strlist_dup(char **l, const s2r_config *cfg, s2r_diags *d,
                          const char *file, int line)
{
    size_t n = 0;
    while (l && l[n])
        n++;
    if (!n)
        return NULL;
    char **out = s2r_zalloc(n + 1, sizeof(*out));
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        const char *pool = cfg ? s2r_config_map(cfg->partitions,
                                                cfg->n_partitions, l[i])
                               : NULL;
        if (pool && !*pool) {
            s2r_diags_add(d, S2R_SEV_NOTE, file, line, NULL,
                          "partition '%s' maps to no node pool in the "
                          "configuration", l[i]);
            continue;
        }
        out[o++] = strdup(pool ? pool : l[i]);
    }
    if (o == 0) {
        free(out);
        return NULL;
    }
    return out;
}

/* The rules of a job's first directives are kept from the one lookup
 * that also finds the directives looked at by name (a job with more
 * looks the others up again). */
enum { RULES_KEPT = 64 };

/* @p a from the job's directives, and in @p rules the rule of each of
 * the first RULES_KEPT (NULL: an option with no entry). */
static void find_asked(s2r_rules__asked *a,
                       const option_rule *rules[RULES_KEPT],
                       const s2r_job *job)
{
    memset(a, 0, sizeof(*a));
    pthread_once(&by_letter_once, index_by_letter);
    for (size_t i = 0; i < job->n_directives; i++) {
        const option_rule *r = rule_for(job->directives[i].name);
        if (i < RULES_KEPT)
            rules[i] = r;
        if (r && r->ask != S2R_ASK_NONE)
            a->dv[r->ask] = &job->directives[i];
    }
}

/* The name a job without --job-name gets, as sbatch gives it: the
 * script's file name without its folder and its last extension, or
 * "sbatch" for standard input; a view of @p file (or of a literal),
 * its length in *@p len. */
static const char *default_name(const char *file, size_t *len)
{
    if (!file || !strcmp(file, "-")) {
        *len = strlen("sbatch");
        return "sbatch";
    }
    const char *b = strrchr(file, '/');
    b = b ? b + 1 : file;
    const char *dot = strrchr(b, '.');
    *len = dot && dot != b ? (size_t)(dot - b) : strlen(b);
    return b;
}

/* True when every entry of a --gres value is a GPU one ("gpu",
 * "gpu:N", "gpu:TYPE[:N]", "gres/gpu...") or the value is "none". */
static bool gres_only_gpus(const char *v)
{
    if (!strcasecmp(v, "none"))
        return true;
    for (const char *p = v; *p;) {
        size_t n = strcspn(p, ",");
        const char *e = p;
        if (n >= 5 && !strncasecmp(e, "gres/", 5))
            e += 5;
        size_t rest = n - (size_t)(e - p);
        if (rest && !(rest >= 3 && !strncmp(e, "gpu", 3) &&
                      (rest == 3 || e[3] == ':')))
            return false;
        p += n + (p[n] == ',');
    }
    return true;
}

/* True when every entry of a --tres-per-task value is "cpu=N"/"cpu:N"
 * (the CPUs per task) or a GPU one ("gres/gpu...", "gres:gpu..."). */
static bool tres_only_cpus_gpus(const char *v)
{
    for (const char *p = v; *p;) {
        size_t n = strcspn(p, ",");
        bool cpu = n > 3 && !strncmp(p, "cpu", 3) &&
                   (p[3] == ':' || p[3] == '=');
        bool gpu = n >= 8 &&
                   (!strncmp(p, "gres/gpu", 8) ||
                    !strncmp(p, "gres:gpu", 8)) &&
                   (n == 8 || p[8] == ':' || p[8] == '=');
        if (n && !cpu && !gpu)
            return false;
        p += n + (p[n] == ',');
    }
    return true;
}

static void warn_options(const s2r_job *job, const s2r_rules__asked *a,
                         const option_rule *const rules[RULES_KEPT],
                         const s2r_config *cfg, s2r_workload *wl,
                         s2r_diags *d)
{
    for (size_t i = 0; i < job->n_directives; i++) {
        const s2r_directive *dv = &job->directives[i];
        const option_rule *r = i < RULES_KEPT ? rules[i] : rule_for(dv->name);
        const char *val = dv->value ? dv->value : "";
        if (dv == a->dv[S2R_ASK_GRES]) {
            /* GPU entries are carried; anything else has no equivalent */
            if (!gres_only_gpus(val))
                s2r_diags_add(d, S2R_SEV_WARNING, job->file, dv->line, "gres",
                              "--gres=%s: only GPU entries have a Run:ai "
                              "equivalent (nvidia.com/gpu)", val);
            continue;
        }
        if (dv == a->dv[S2R_ASK_TRES_PER_TASK]) {
            if (!tres_only_cpus_gpus(val))
                s2r_diags_add(d, S2R_SEV_WARNING, job->file, dv->line,
                              "tres-per-task",
                              "--tres-per-task=%s: only cpu and gres/gpu "
                              "entries have a Run:ai equivalent (CPU cores "
                              "and nvidia.com/gpu)", val);
            continue;
        }
        /* -B's sockets alone (no cores or threads), when they are the
         * later of it and --sockets-per-node, count those GPUs */
        if (dv == a->dv[S2R_ASK_EXTRA_NODE_INFO] && !strchr(val, ':') &&
            a->dv[S2R_ASK_GPUS_PER_SOCKET] && job->gpus_per_node > 0 &&
            (!a->dv[S2R_ASK_SOCKETS_PER_NODE] ||
             a->dv[S2R_ASK_SOCKETS_PER_NODE]->line <= dv->line))
            continue;
        /* --sockets-per-node counts the GPUs of --gpus-per-socket */
        if (dv == a->dv[S2R_ASK_SOCKETS_PER_NODE] &&
            a->dv[S2R_ASK_GPUS_PER_SOCKET] && job->gpus_per_node > 0)
            continue;
        if (r && r->fate == F_CARRIED)
            continue;
        if (r && r->fate == F_MAPPED) {
            if (!strcmp(dv->name, "output") || !strcmp(dv->name, "error"))
                s2r_diags_add(d, S2R_SEV_NOTE, job->file, dv->line, NULL,
                              "--%s=%s: the pod copies its output there and "
                              "to the container log ('runai %s logs %s')",
                              dv->name, val,
                              wl->kind == S2R_WL_WORKSPACE   ? "workspace"
                              : wl->kind == S2R_WL_INFERENCE ? "inference"
                                                             : "training",
                              wl->name);
            else if (!strcmp(dv->name, "account") && cfg &&
                     s2r_config_map(cfg->accounts, cfg->n_accounts, val))
                s2r_diags_add(d, S2R_SEV_NOTE, job->file, dv->line, NULL,
                              "--account=%s: the Run:ai project is %s "
                              "([accounts])", val,
                              wl->project ? wl->project
                                          : "taken from $RUNAI_PROJECT");
            else if (dv == a->dv[S2R_ASK_PARTITION] && wl->node_pools)
                s2r_diags_add(d, S2R_SEV_NOTE, job->file, dv->line, NULL,
                              "--partition=%s: node pools %s%s", val,
                              wl->node_pools[0],
                              wl->node_pools[1] ? " (and more, in order)" : "");
            continue;
        }
        if (dv == a->dv[S2R_ASK_CONSTRAINT]) {
            const char *nt = cfg ? s2r_config_map(cfg->constraints,
                                                  cfg->n_constraints, val)
                                 : NULL;
            if (nt && *nt)
                s2r_diags_add(d, S2R_SEV_WARNING, job->file, dv->line,
                              "constraint",
                              "--constraint=%s is approximated by node type "
                              "'%s' (from the configuration)", val, nt);
            else
                s2r_diags_add(d, S2R_SEV_WARNING, job->file, dv->line,
                              "constraint",
                              "--constraint=%s has no Run:ai equivalent (map "
                              "it to a node type in [constraints])", val);
            continue;
        }
        if (dv->value)
            s2r_diags_add(d, S2R_SEV_WARNING, job->file, dv->line, dv->name,
                          "--%s=%s has no Run:ai equivalent (%s)", dv->name,
                          val, r && r->why ? r->why : "ignored");
        else
            s2r_diags_add(d, S2R_SEV_WARNING, job->file, dv->line, dv->name,
                          "--%s has no Run:ai equivalent (%s)", dv->name,
                          r && r->why ? r->why : "ignored");
    }
}

/* The GPU type of one entry of a GPU option value [p, p+n) into t (empty
 * when it names none); false when it requests no GPU. */
static bool entry_type(const char *p, size_t n, bool gres, char *t,
                       size_t cap)
{
    const char *c = NULL;
    if (gres) {
        if (n >= 5 && (!strncasecmp(p, "gres/", 5) ||
                       !strncasecmp(p, "gres:", 5))) {
            p += 5;
            n -= 5;
        }
        if (n < 3 || strncmp(p, "gpu", 3) ||
            (n > 3 && p[3] != ':' && p[3] != '='))
            return false;
        p += n > 3 ? 4 : 3;
        n -= n > 3 ? 4 : 3;
        /* --tres-per-task's "gres/gpu[:TYPE]=N" */
        for (size_t i = n; i > 0 && !c; i--)
            if (p[i - 1] == '=')
                c = p + i - 1;
    }
    for (size_t i = n; i > 0 && !c; i--)
        if (p[i - 1] == ':')
            c = p + i - 1;
    const char *cnt = c ? c + 1 : p;
    size_t cl = n - (size_t)(cnt - p);
    bool digits = cl > 0 && strspn(cnt, "0123456789") >= cl;
    if (digits && strtoll(cnt, NULL, 10) == 0)
        return false;
    size_t tl = digits ? (c ? (size_t)(c - p) : 0) : n;
    tl = tl < cap ? tl : cap - 1; /* as snprintf cuts it */
    memcpy(t, p, tl);
    t[tl] = '\0';
    return true;
}

/* GPUs of several types on a node (--gres=gpu:a40:1,gpu:h100:2, or
 * --gpus=h100:1 --gpus-per-node=a40:1): SLURM gives each of them; a
 * Run:ai pod requests one count of GPUs of no type. */
static void warn_gpu_types(const s2r_job *job, const s2r_rules__asked *a,
                           s2r_diags *d)
{
    static const s2r_rules__ask opts[] = {
        S2R_ASK_GPUS_PER_NODE,   S2R_ASK_GRES,          S2R_ASK_GPUS,
        S2R_ASK_GPUS_PER_SOCKET, S2R_ASK_GPUS_PER_TASK, S2R_ASK_TRES_PER_TASK};
    /* the options whose entries are GRES ones, "[gres/]gpu[:type][:N]" */
    static const bool gres_form[] = {false, true, false, false, false, true};
    char types[4][64];
    size_t nt = 0;
    const s2r_directive *last = NULL;
    for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
        const s2r_directive *dv = a->dv[opts[i]];
        for (const char *p = dv && dv->value ? dv->value : ""; *p;) {
            size_t n = strcspn(p, ",");
            char t[64];
            if (entry_type(p, n, gres_form[i], t, sizeof(t)) && t[0]) {
                size_t k = 0;
                while (k < nt && k < 4 && strcmp(types[k], t))
                    k++;
                if (k == nt && nt < 4)
                    memcpy(types[nt], t, strlen(t) + 1); /* t fits */
                if (k == nt) {
                    nt++;
                    if (!last || dv->line > last->line)
                        last = dv;
                }
            }
            p += n + (p[n] == ',');
        }
    }
    if (nt < 2)
        return;
    s2r_diags_add(d, S2R_SEV_WARNING, job->file, last->line, last->name,
                  "GPUs of several types per node (%s, %s%s): SLURM "
                  "allocates each type; a Run:ai pod requests %lld GPUs of "
                  "whatever kind its node has (choose the node with a node "
                  "pool or node type)", types[0], types[1],
                  nt > 2 ? ", ..." : "", (long long)job->gpus_per_node);
}

/* GPU requests Run:ai cannot express exactly (types, MIG slices, an
 * uneven --gpus total) are said, not dropped */
static void warn_gpu_shape(const s2r_job *job, const s2r_rules__asked *a,
                           s2r_diags *d)
{
    static const s2r_rules__ask gpu_opts[] = {
        S2R_ASK_GRES,          S2R_ASK_GPUS,         S2R_ASK_GPUS_PER_NODE,
        S2R_ASK_GPUS_PER_TASK, S2R_ASK_TRES_PER_TASK, S2R_ASK_GPUS_PER_SOCKET};
    const s2r_directive *src = NULL;
    for (size_t i = 0;
         i < sizeof(gpu_opts) / sizeof(gpu_opts[0]) && job->gpu_type; i++) {
        const s2r_directive *dv = a->dv[gpu_opts[i]];
        if (dv && dv->value && strstr(dv->value, job->gpu_type)) {
            src = dv;
            break;
        }
    }
    if (job->gpu_type && src) {
        const char *t = job->gpu_type;
        bool numeric = strspn(t, "0123456789.") == strlen(t);
        if (numeric)
            s2r_diags_add(d, S2R_SEV_WARNING, job->file, src->line, src->name,
                          "--%s=%s: to SLURM '%s' is a GPU type, not a "
                          "fraction (slurmctld refuses it); whole GPUs are "
                          "requested; Run:ai shares a GPU with "
                          "--gpu-portion-request", src->name, src->value, t);
        else if (strchr(t, '.') || strstr(t, "mig"))
            s2r_diags_add(d, S2R_SEV_WARNING, job->file, src->line, src->name,
                          "--%s=%s: MIG slice '%s' is requested as %lld whole "
                          "GPU(s); Run:ai shares GPUs with "
                          "--gpu-memory-request or --gpu-portion-request",
                          src->name, src->value, t,
                          (long long)job->gpus_per_node);
        else
            s2r_diags_add(d, S2R_SEV_WARNING, job->file, src->line, src->name,
                          "--%s=%s: Run:ai requests GPUs by count; the type "
                          "'%s' is not part of the request (choose it with a "
                          "node pool, [partitions], or a node type, "
                          "[constraints])", src->name, src->value, t);
    }
    warn_gpu_types(job, a, d);
    const s2r_directive *g = a->dv[S2R_ASK_GPUS];
    if (g && g->value && !strchr(g->value, ',') && job->nodes > 1) {
        const char *c = strrchr(g->value, ':');
        long long total = strtoll(c ? c + 1 : g->value, NULL, 10);
        if (total > 0 && total % job->nodes != 0)
            s2r_diags_add(d, S2R_SEV_WARNING, job->file, g->line, "gpus",
                          "--gpus=%s over %lld nodes: Run:ai requests GPUs per "
                          "pod, so each of the %lld pods gets %lld (%lld in "
                          "all)", g->value, (long long)job->nodes,
                          (long long)job->nodes, (long long)job->gpus_per_node,
                          (long long)(job->gpus_per_node * job->nodes));
    }
}

/* Name (DNS-1123 label of the job name), source, project and kind; a
 * server's port. @return S2R_OK or S2R_ENOMEM. */
static int set_identity(s2r_workload *wl, const s2r_job *job,
                        const s2r_config *cfg)
{
    size_t len;
    const char *base = job->job_name ? job->job_name
                                     : default_name(job->file, &len);
    if (job->job_name)
        len = strlen(base);
    if (!(wl->name = s2r_dns_label_n(base, len)))
        return S2R_ENOMEM;
    if (job->file && !(wl->source = strdup(job->file)))
        return S2R_ENOMEM;
    if (cfg && cfg->project)
        wl->project = strdup(cfg->project);

    wl->kind = job->distributed == S2R_DIST_PYTORCH && job->nodes > 1
                   ? S2R_WL_PYTORCH
               : job->distributed == S2R_DIST_MPI && job->nodes > 1
                   ? S2R_WL_MPI
               : job->server && !job->array
                   ? (job->serving ? S2R_WL_INFERENCE : S2R_WL_WORKSPACE)
                   : S2R_WL_STANDARD;
    if (job->server && !job->array) {
        wl->port = job->server_port;
        if (!(wl->server = strdup(job->server)))
            return S2R_ENOMEM;
    }
    return S2R_OK;
}

bool s2r_rules_one_pod_for_nodes(const s2r_job *job)
{
    return job->nodes > 1 && job->distributed != S2R_DIST_PYTORCH &&
           job->distributed != S2R_DIST_MPI;
}

/* Pods, workers and the resources of each pod (GPUs, cores, MiB). */
static void set_resources(s2r_workload *wl, const s2r_job *job,
                          const s2r_rules__asked *a, s2r_diags *d)
{
    const char *file = job->file;
    const s2r_directive *m0;
    if (job->array && wl->kind != S2R_WL_STANDARD) {
        s2r_diags_add(d, S2R_SEV_WARNING, file, 0, "array",
                      "--array with a %s launch: Run:ai runs arrays only as "
                      "standard training; this workload is the task with "
                      "index %d (SLURM_ARRAY_TASK_ID=%d), and each other "
                      "task is a workload you submit yourself with that "
                      "variable changed",
                      wl->kind == S2R_WL_MPI ? "MPI" : "PyTorch",
                      (int)(job->array->count ? job->array->indices[0] : 0),
                      (int)(job->array->count ? job->array->indices[0] : 0));
    }
    int64_t nodes = job->nodes;
    if (nodes == 0) {
        const s2r_directive *n = a->dv[S2R_ASK_NODES];
        s2r_diags_add(d, S2R_SEV_WARNING, file, n ? n->line : 0, "nodes",
                      "--nodes=%s sets no minimum node count: the batch script "
                      "runs on a node of the allocation, and the workload has "
                      "one pod", n && n->value ? n->value : "0");
        nodes = 1;
    }
    wl->pods = nodes;
    /* one pod holds all the nodes: what srun steps run on them runs there */
    int64_t per_pod = 1;
    if (s2r_rules_one_pod_for_nodes(job) && !job->srun_standin) {
        /* per sbatch(1), the batch script runs on the first node of the
         * allocation: without srun nothing runs on the others */
        s2r_diags_add(d, S2R_SEV_WARNING, file, job->main_line, "nodes",
                      "--nodes=%lld, but the script runs no srun step and "
                      "launches nothing that Run:ai can spread over several "
                      "pods: under SLURM it ran on the first node alone, so "
                      "the workload is one pod with one node's CPUs, memory "
                      "and GPUs (the other %lld nodes idled)",
                      (long long)job->nodes, (long long)(job->nodes - 1));
        wl->pods = 1;
    } else if (s2r_rules_one_pod_for_nodes(job)) {
        per_pod = job->nodes; /* as the srun stand-in counts them */
        s2r_diags_add(d, S2R_SEV_WARNING, file, job->main_line, "nodes",
                      "--nodes=%lld, but the script launches nothing that "
                      "Run:ai can spread over several pods (torchrun, "
                      "accelerate, deepspeed, mpirun, horovodrun, srun of an "
                      "MPI or SLURM-aware program): the workload is one pod "
                      "with the CPUs, memory and GPUs of all %lld nodes, "
                      "where srun steps run all their tasks; it needs a node "
                      "that large", (long long)job->nodes,
                      (long long)job->nodes);
        wl->pods = 1;
    }
    if (job->distributed == S2R_DIST_MPI && job->nodes == 1)
        s2r_diags_add(d, S2R_SEV_NOTE, file, job->main_line, NULL,
                      "one node: the MPI ranks start with mpirun inside one "
                      "pod (standard training), which needs no MPIJob and no "
                      "ssh between pods");
    wl->workers = wl->kind == S2R_WL_PYTORCH ? nodes - 1
                  : wl->kind == S2R_WL_MPI    ? job->nodes
                                              : 0;
    wl->slots_per_worker = job->tasks_per_node > 0 ? job->tasks_per_node : 1;
    wl->gpus = job->gpus_per_node * per_pod;
    wl->cpus = (job->cpus_per_node > 0 ? job->cpus_per_node : 1) * per_pod;
    if (job->mem_per_node_mib > 0) {
        wl->memory_mib = job->mem_per_node_mib * per_pod;
    } else if (job->mem_per_node_mib == S2R_MEM_ALL) {
        const s2r_directive *m = a->dv[S2R_ASK_MEM];
        if (!m)
            m = a->dv[S2R_ASK_MEM_PER_CPU];
        s2r_diags_add(d, S2R_SEV_WARNING, file, m ? m->line : 0,
                      m ? m->name : "mem",
                      "--%s=0 (all of each node's memory) has no Run:ai "
                      "equivalent: no memory request is set",
                      m ? m->name : "mem");
    } else if ((m0 = a->dv[S2R_ASK_MEM_PER_GPU]) && m0->value &&
               strspn(m0->value, "0") == strcspn(m0->value, "kKmMgGtTbB")) {
        /* slurmctld keeps no memory per GPU for 0: the site's default
         * (DefMemPerGPU, else DefMemPerNode) applies, not the node's all */
        s2r_diags_add(d, S2R_SEV_WARNING, file, m0->line, "mem-per-gpu",
                      "--mem-per-gpu=%s asks no memory per GPU: SLURM gives "
                      "the job the partition's default memory, not all of "
                      "the node's (that is --mem=0); no memory request is "
                      "set", m0->value);
    }
}

static int set_command(s2r_strv *cmd, const s2r_job *job);

/* s2r_envv_get() among the first @p n variables of @p ev. */
static const char *env_value_in(const s2r_envv *ev, size_t n,
                                const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(ev->v[i].name, name) == 0)
            return ev->v[i].value;
    return NULL;
}

/* Image, working directory, environment and command of the container.
 * @return S2R_OK or S2R_ENOMEM. */
static int set_container(s2r_workload *wl, const s2r_job *job,
                         const s2r_config *cfg, s2r_diags *d)
{
    bool oom = false;
    char *from_modules = job->image ? NULL
                         : s2r_rules__module_image(job, cfg, d, &oom);
    if (oom)
        return S2R_ENOMEM;
    if (job->image) {
        wl->image = strdup(job->image);
    } else if (from_modules) {
        wl->image = from_modules;
        s2r_diags_add(d, S2R_SEV_NOTE, job->file, job->main_line, NULL,
                      "the image is '%s', which [modules] names for the "
                      "modules the script loads", from_modules);
    } else {
        const char *img = cfg && cfg->default_image
                              ? cfg->default_image
                              : "nvcr.io/nvidia/pytorch:24.05-py3";
        wl->image = strdup(img);
        s2r_diags_add(d, S2R_SEV_WARNING, job->file, job->main_line, NULL,
                      "the script names no container image: using '%s' "
                      "([runai] default_image); it must provide the "
                      "software the script loads", img);
    }
    /* the pod starts where sbatch starts the job: --chdir (or a lifted
     * cd), else the submit directory */
    const char *wd = job->workdir ? job->workdir : job->submit_dir;
    if (wd && !(wl->workdir = strdup(wd)))
        return S2R_ENOMEM;
    /* the job's variables (distinct names) into the empty list, then the
     * stand-ins it does not set (distinct names too: only the job's own
     * are looked at) */
    for (size_t i = 0; i < job->env.n; i++)
        if (s2r_envv_append(&wl->env, job->env.v[i].name,
                            job->env.v[i].value))
            return S2R_ENOMEM;
    s2r_rules__warn_secrets(job, d);
    size_t own = wl->env.n;
    for (size_t i = 0; i < job->slurm_env.n; i++)
        if (!env_value_in(&wl->env, own, job->slurm_env.v[i].name) &&
            s2r_envv_append(&wl->env, job->slurm_env.v[i].name,
                            job->slurm_env.v[i].value))
            return S2R_ENOMEM;

    /* slurmstepd gives a job a TMPDIR (at least /tmp); a pod has none */
    if (s2r_rules__body_names(job, "TMPDIR") &&
        !s2r_envv_get(&wl->env, "TMPDIR") &&
        s2r_envv_set(&wl->env, "TMPDIR", "/tmp"))
        return S2R_ENOMEM;
    if ((job->distributed == S2R_DIST_MPI || job->uses_mpirun) &&
        (s2r_envv_set(&wl->env, "OMPI_ALLOW_RUN_AS_ROOT", "1") ||
         s2r_envv_set(&wl->env, "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")))
        return S2R_ENOMEM;
    if (wl->kind == S2R_WL_MPI &&
        s2r_mpi_worker_command(wl, job, &wl->worker_command) != S2R_OK)
        return S2R_ENOMEM;
    wl->command_is_args = job->run_args_only && !job->srun_standin;
    wl->array_index_used = job->array && job->uses_array_index;
    s2r_strv *cmd = wl->kind == S2R_WL_MPI ? &wl->launcher_command
                                           : &wl->command;
    return set_command(cmd, job);
}

/* The pod's command: the body's argv, or `bash -c` with the srun stand-in
 * (s2r_srun_standin()) in front of the body. @return S2R_OK, S2R_ENOMEM. */
static int set_command(s2r_strv *cmd, const s2r_job *job)
{
    char *standin = NULL;
    if (s2r_srun_standin(job, &standin) != S2R_OK)
        return S2R_ENOMEM;
    if (job->run_argv.n && !standin) {
        for (size_t i = 0; i < job->run_argv.n; i++)
            if (s2r_strv_push(cmd, job->run_argv.v[i]))
                return S2R_ENOMEM;
    } else if (job->run_shell && !standin) {
        /* the body as it is: no text to assemble */
        if (s2r_strv_push(cmd, "bash") || s2r_strv_push(cmd, "-c") ||
            s2r_strv_push(cmd, job->run_shell))
            return S2R_ENOMEM;
    } else if (job->run_shell || standin) {
        s2r_buf b = {0};
        if (standin)
            s2r_buf_puts(&b, standin);
        free(standin);
        if (job->run_shell)
            s2r_buf_puts(&b, job->run_shell);
        for (size_t i = 0; !job->run_shell && i < job->run_argv.n; i++) {
            s2r_buf_puts(&b, i ? " " : "exec ");
            s2r_shell_put_quoted(&b, job->run_argv.v[i]);
        }
        return s2r_shell_bash_c(cmd, &b);
    }
    return S2R_OK;
}

/* Node pools (--partition through [partitions]), node type (--constraint
 * through [constraints]), priority and preemptibility of the site. */
static void set_placement(s2r_workload *wl, const s2r_job *job,
                          const s2r_rules__asked *a, const s2r_config *cfg,
                          s2r_diags *d)
{
    const s2r_directive *part = a->dv[S2R_ASK_PARTITION];
    wl->node_pools = strlist_dup(job->partitions, cfg, d, job->file,
                                 part ? part->line : 0);
    const s2r_directive *cons = a->dv[S2R_ASK_CONSTRAINT];
    if (cons && cons->value && cfg) {
        const char *nt = s2r_config_map(cfg->constraints, cfg->n_constraints,
                                        cons->value);
        if (nt && *nt)
            wl->node_type = strdup(nt);
    }
    if (cfg && cfg->priority)
        wl->priority = strdup(cfg->priority);
    if (cfg && cfg->preemptibility)
        wl->preemptibility = strdup(cfg->preemptibility);
    wl->backoff_limit = 0;
}

/* An array of a standard workload: completions, parallelism (the %N
 * throttle) and the SLURM index of each completion. @return S2R_OK or
 * S2R_ENOMEM. */
static int set_array(s2r_workload *wl, const s2r_job *job)
{
    if (job->array && wl->kind != S2R_WL_STANDARD && job->array->count) {
        /* one distributed workload: the first task, its index a variable
         * the user changes to submit the others (see set_resources) */
        char first[S2R_I64_TEXT];
        s2r_i64_text(first, job->array->indices[0]);
        return s2r_envv_set(&wl->env, "SLURM_ARRAY_TASK_ID", first)
                   ? S2R_ENOMEM : S2R_OK;
    }
    if (!job->array || wl->kind != S2R_WL_STANDARD)
        return S2R_OK;
    const s2r_array *a = job->array;
    wl->completions = (int64_t)a->count;
    wl->parallelism = a->max_parallel > 0 &&
                              (size_t)a->max_parallel < a->count
                          ? a->max_parallel
                          : (int64_t)a->count;
    wl->array_indices = malloc(a->count * sizeof(int32_t));
    if (!wl->array_indices)
        return S2R_ENOMEM;
    memcpy(wl->array_indices, a->indices, a->count * sizeof(int32_t));
    wl->n_array_indices = a->count;
    return S2R_OK;
}

/* Jupyter behind a Run:ai external URL: the Run:ai CLI reference's own
 * Jupyter example passes --NotebookApp.base_url='/${RUNAI_PROJECT}/
 * ${RUNAI_JOB_NAME}' for clusters that route workspace URLs by path.
 * s2r does not add it (with routing by host name it would break the
 * URL): a note says when to. */
static void note_base_url(const s2r_workload *wl, const s2r_job *job,
                          s2r_diags *d)
{
    if (wl->kind != S2R_WL_WORKSPACE || !wl->server ||
        !strstr(wl->server, "jupyter"))
        return;
    for (size_t i = 0; i < job->command_tokens.n; i++)
        if (strstr(job->command_tokens.v[i], "base_url"))
            return;
    s2r_diags_add(d, S2R_SEV_NOTE, job->file, job->main_line, NULL,
                  "if the cluster routes workspace URLs by path, give "
                  "jupyter --ServerApp.base_url=\"/${RUNAI_PROJECT}/"
                  "${RUNAI_JOB_NAME}\" (as the Run:ai CLI reference's "
                  "Jupyter example does); s2r leaves it out, as routing by "
                  "host name needs none");
}

/* Linux passes one argument of at most MAX_ARG_STRLEN (32 pages, 128 KiB
 * with its NUL; per execve(2)) to a program: a longer `bash -c` body
 * cannot start, so it is refused; one close to it gets a warning. */
#define ARG_MAX_BYTES (128u * 1024u - 1u)
#define ARG_WARN_BYTES (96u * 1024u)

/* The longest argument of the pod's argv: exact when it may pass
 * ARG_WARN_BYTES, else a bound below that (building the script only to
 * measure it is the cost of a small body). */
static size_t pod_arg_length(const s2r_workload *wl, const s2r_strv *cmd)
{
    size_t n = s2r_pod_longest_arg_bound(wl, cmd);
    return n > ARG_WARN_BYTES ? s2r_pod_longest_arg(wl, cmd) : n;
}

static int check_size(const s2r_workload *wl, const s2r_job *job,
                      s2r_diags *d)
{
    size_t n = pod_arg_length(wl, &wl->command);
    size_t l = pod_arg_length(wl, &wl->launcher_command);
    n = l > n ? l : n;
    for (size_t i = 0; i < wl->worker_command.n; i++) {
        size_t w = strlen(wl->worker_command.v[i]);
        n = w > n ? w : n;
    }
    if (n > ARG_MAX_BYTES) {
        int rc = s2r_diags_add(d, S2R_SEV_ERROR, job->file, job->main_line,
                      NULL, "the pod's command is %zu KiB%s, but Linux "
                      "passes one argument of at most 128 KiB (execve(2) "
                      "MAX_ARG_STRLEN), so the pod could not start it: keep "
                      "the long part of the body (here-documents, inline "
                      "data) in a file on a data source and run that file",
                      (n + 1023) / 1024, job->srun_standin
                          ? " with the srun stand-in" : "");
        return rc ? rc : S2R_EINVAL;
    }
    if (n > ARG_WARN_BYTES)
        return s2r_diags_add(d, S2R_SEV_WARNING, job->file, job->main_line,
                      NULL, "the pod's command is %zu KiB: Linux passes one "
                      "argument of at most 128 KiB (execve(2) "
                      "MAX_ARG_STRLEN); a longer body would not start, so "
                      "keep large parts in a file on a data source",
                      (n + 1023) / 1024);
    return S2R_OK;
}

int s2r_rules_convert(s2r_workload *wl, const s2r_job *job,
                      const s2r_config *cfg, s2r_diags *d)
{
    memset(wl, 0, sizeof(*wl));
    if (!job->valid)
        return S2R_EINVAL;
    if (set_identity(wl, job, cfg) != S2R_OK)
        return S2R_ENOMEM;
    s2r_rules__asked a;
    const option_rule *rules[RULES_KEPT];
    find_asked(&a, rules, job);
    set_resources(wl, job, &a, d);
    if (set_container(wl, job, cfg, d) != S2R_OK)
        return S2R_ENOMEM;
    set_placement(wl, job, &a, cfg, d);
    if (set_array(wl, job) != S2R_OK)
        return S2R_ENOMEM;
    wl->time_limit_s = job->time_limit_s > 0 ? job->time_limit_s : 0;
    if (s2r_rules__accounts(wl, job, &a, cfg, d) ||
        s2r_rules__logs(wl, job, &a, cfg, d) ||
        s2r_rules__storage(wl, job, &a, cfg, d) ||
        s2r_rules__identity(wl, job, cfg, d))
        return S2R_ENOMEM;

    warn_options(job, &a, rules, cfg, wl, d);
    note_base_url(wl, job, d);
    warn_gpu_shape(job, &a, d);
    if (!wl->name || !wl->image)
        return S2R_ENOMEM;
    return check_size(wl, job, d);
}
