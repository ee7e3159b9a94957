/* emit_yaml.c: one Kubernetes document for `runai workload submit --file`
 * (runai-formats.md §2): batch/v1 Job, kubeflow.org/v1 PyTorchJob or
 * kubeflow.org/v2beta1 MPIJob. Written with yaml_writer.c (libyaml's
 * layout, without its per-event cost); every string that YAML could read
 * as another type is quoted. */
#include "emit_common.h"
#include "pod.h"
#include "yaml_writer.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* where the events go (a YAML writer, or the REST body's JSON tree)
 * plus a sticky error of the manifest's own (a pod argv that could not
 * be built, a volume with no name), and the pod argv of the last command
 * written (owned), which a PyTorchJob's master and workers share */
typedef struct ye {
    const s2r_emit__events *ev;
    void *ctx;
    bool failed;
    const s2r_strv *pod_cmd; /* the command of pod, or NULL */
    s2r_pod_args pod;
} ye;

static void map_start(ye *y)
{
    y->ev->mapping_start(y->ctx);
}

static void map_end(ye *y)
{
    y->ev->mapping_end(y->ctx);
}

static void seq_start(ye *y)
{
    y->ev->sequence_start(y->ctx);
}

static void seq_end(ye *y)
{
    y->ev->sequence_end(y->ctx);
}

/* the @p len bytes of @p s, NUL-terminated there */
static void scalar(ye *y, const char *s, size_t len, s2r_yaml_style style)
{
    y->ev->scalar(y->ctx, s, len, style);
}

/* True when a plain scalar reads back as this same string under both
 * YAML 1.1 and 1.2 resolvers: it starts with a letter or '/', so it
 * cannot be a number, timestamp, .inf/.nan, ~, '<<' or '='; and it is
 * none of the 1.1 booleans or null. The writer itself still switches to a
 * quoted style when the text needs it (": ", " #", line breaks ...). */
static bool plain_safe(const char *s, size_t len)
{
    static const char *const words[] = {"y", "n", "yes", "no", "true",
                                         "false", "on", "off", "null"};
    unsigned char c = (unsigned char)s[0];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '/'))
        return false;
    if (len > 5) /* longer than "false" */
        return true;
    switch (c | 0x20) { /* the first letters of the words, any case */
    case 'y': case 'n': case 't': case 'f': case 'o':
        break;
    default:
        return true;
    }
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
        if (strcasecmp(s, words[i]) == 0)
            return false;
    return true;
}

/* a string value: a literal block for several lines (a bash -c body),
 * plain when that is unambiguous, else double-quoted. The writer falls back
 * to double quotes when a block or plain scalar cannot hold the text. */
static void str(ye *y, const char *s)
{
    size_t len = strlen(s);
    s2r_yaml_style style = S2R_YAML_DOUBLE_QUOTED;
    if (memchr(s, '\n', len))
        style = S2R_YAML_LITERAL;
    else if (plain_safe(s, len))
        style = S2R_YAML_PLAIN;
    scalar(y, s, len, style);
}

/* an integer value (plain, so it reads back as an int; digits and a
 * sign are a word) */
static void int64(ye *y, int64_t v)
{
    char num[S2R_I64_TEXT];
    scalar(y, num, s2r_i64_text(num, v), S2R_YAML_WORD);
}

/* an integer as a string ("4"), as Kubernetes quantities are written */
static void int64_str(ye *y, int64_t v)
{
    char num[S2R_I64_TEXT];
    scalar(y, num, s2r_i64_text(num, v), S2R_YAML_DOUBLE_QUOTED);
}

/* a fixed key or value that the code knows is plain-safe ASCII: a word
 * the writer need not look at (test_emit_yaml.c checks every one) */
static void lit(ye *y, const char *s)
{
    scalar(y, s, strlen(s), S2R_YAML_WORD); /* a literal's, once inlined */
}

static void kv_str(ye *y, const char *k, const char *v)
{
    lit(y, k);
    str(y, v);
}

/* a fixed key with a fixed string value that reads back as itself
 * plain (what str() would write plain) */
static void kv_word(ye *y, const char *k, const char *v)
{
    lit(y, k);
    lit(y, v);
}

static void kv_int(ye *y, const char *k, int64_t v)
{
    lit(y, k);
    int64(y, v);
}

/* a boolean value (plain true/false, so it reads back as a bool) */
static void kv_bool(ye *y, const char *k, bool v)
{
    lit(y, k);
    lit(y, v ? "true" : "false");
}

/* ---- the pieces of a workload ------------------------------------ */

static void metadata(ye *y, const s2r_workload *wl)
{
    lit(y, "metadata");
    map_start(y);
    kv_str(y, "name", wl->name);
    lit(y, "labels");
    map_start(y);
    kv_str(y, "priorityClassName", s2r_emit__priority(wl));
    kv_str(y, "kai.scheduler/preemptibility", s2r_emit__preemptibility(wl));
    map_end(y);
    map_end(y);
}

static void run_policy(ye *y, const s2r_workload *wl, const char *clean)
{
    lit(y, "runPolicy");
    map_start(y);
    kv_int(y, "backoffLimit", wl->backoff_limit > 0 ? wl->backoff_limit : 0);
    kv_word(y, "cleanPodPolicy", clean);
    if (wl->time_limit_s > 0)
        kv_int(y, "activeDeadlineSeconds", wl->time_limit_s);
    map_end(y);
}

/* command: the argv the pod script wraps around @p cmd (pod.h); args
 * when the words are arguments for the image's own entrypoint. The argv
 * is made once for pods that run the same @p cmd (y->pod). */
static void command(ye *y, const s2r_workload *wl, const s2r_strv *cmd)
{
    if (cmd->n == 0)
        return;
    if (y->pod_cmd != cmd) {
        s2r_pod_args_free(&y->pod);
        y->pod_cmd = NULL;
        if (s2r_pod_args_make(&y->pod, wl, cmd)) {
            y->failed = true;
            return;
        }
        y->pod_cmd = cmd;
    }
    lit(y, wl->command_is_args && wl->kind != S2R_WL_MPI ? "args"
                                                         : "command");
    seq_start(y);
    for (size_t i = 0; i < y->pod.n; i++)
        str(y, y->pod.v[i]);
    seq_end(y);
}

/* an MPIJob worker's own command (s2r_mpi_worker_command(): the ranks'
 * set-up, then sshd), as it is: the pod script's SLURM environment and
 * log copies belong to the launcher, which runs the batch script */
static void worker_command(ye *y, const s2r_strv *cmd)
{
    if (cmd->n == 0)
        return;
    lit(y, "command");
    seq_start(y);
    for (size_t i = 0; i < cmd->n; i++)
        str(y, cmd->v[i]);
    seq_end(y);
}

static void env(ye *y, const s2r_workload *wl)
{
    if (wl->env.n == 0)
        return;
    lit(y, "env");
    seq_start(y);
    for (size_t i = 0; i < wl->env.n; i++) {
        map_start(y);
        kv_str(y, "name", wl->env.v[i].name);
        kv_str(y, "value", wl->env.v[i].value ? wl->env.v[i].value : "");
        map_end(y);
    }
    seq_end(y);
}

static void resources(ye *y, int64_t cpus, int64_t mib, int64_t gpus,
                      bool mem_limit)
{
    char q[S2R_EMIT__QTY_MAX];
    if (mib > 0)
        s2r_emit__quantity(q, mib);
    if (cpus <= 0 && mib <= 0 && gpus <= 0)
        return;
    lit(y, "resources");
    map_start(y);
    if (cpus > 0 || mib > 0) {
        lit(y, "requests");
        map_start(y);
        if (cpus > 0) {
            lit(y, "cpu");
            int64_str(y, cpus);
        }
        if (mib > 0)
            kv_str(y, "memory", q);
        map_end(y);
    }
    if ((mib > 0 && mem_limit) || gpus > 0) {
        lit(y, "limits");
        map_start(y);
        if (mib > 0 && mem_limit)
            kv_str(y, "memory", q);
        if (gpus > 0) {
            lit(y, "nvidia.com/gpu");
            int64_str(y, gpus);
        }
        map_end(y);
    }
    map_end(y);
}

typedef enum role { ROLE_MAIN, ROLE_MPI_LAUNCHER, ROLE_MPI_WORKER } role;

/* an MPI worker is ready when its sshd listens (port 22), so that the
 * launcher (launcherCreationPolicy WaitForWorkersReady) starts mpirun
 * only then */
static void sshd_ready(ye *y)
{
    lit(y, "readinessProbe");
    map_start(y);
    lit(y, "tcpSocket");
    map_start(y);
    kv_int(y, "port", 22);
    map_end(y);
    kv_int(y, "periodSeconds", 2);
    map_end(y);
}

/* template: {metadata: {labels: node pool}, spec: {...one container}} */
/* ports: [{containerPort: N}] for a server */
static void ports(ye *y, const s2r_workload *wl)
{
    if (wl->port <= 0)
        return;
    lit(y, "ports");
    seq_start(y);
    map_start(y);
    kv_int(y, "containerPort", wl->port);
    map_end(y);
    seq_end(y);
}

/* A Job's limit is per pod, as Slurm limits each job and array task from
 * its start: the pod template's activeDeadlineSeconds counts from the
 * pod's start, where the Job's counts from the Job's and so takes in the
 * time it waits in the queue. */
static bool per_task_deadline(const s2r_workload *wl)
{
    return wl->kind == S2R_WL_STANDARD && wl->time_limit_s > 0;
}

/* ---- storage, /dev/shm and identity on every pod ----------------- */

/* The name of volume @p i: a DNS-1123 label made from its mount path,
 * made unique among the workload's volumes (malloc'd). */
static char *volume_name(const s2r_workload *wl, size_t i)
{
    char *base = s2r_dns_label(wl->volumes[i].path);
    if (!base)
        return NULL;
    if (strlen(base) > 50)
        base[50] = '\0';
    for (size_t k = 0; k < i; k++) {
        char *other = s2r_dns_label(wl->volumes[k].path);
        bool same = other && !strncmp(other, base, 50);
        free(other);
        if (same || !strcmp(base, "dshm")) {
            char *n = NULL;
            if (asprintf(&n, "%s-%zu", base, i) < 0)
                n = NULL;
            free(base);
            return n;
        }
    }
    return base;
}

static bool yaml_volume(const s2r_volume *v)
{
    return v->kind != S2R_VOL_DATASOURCE;
}

/* securityContext: the script owner's UID, GID and groups */
static void security_context(ye *y, const s2r_workload *wl)
{
    if (!wl->run_as_user)
        return;
    lit(y, "securityContext");
    map_start(y);
    kv_int(y, "runAsUser", wl->run_as_uid);
    if (wl->run_as_gid >= 0)
        kv_int(y, "runAsGroup", wl->run_as_gid);
    const char *g = wl->supplemental_groups;
    if (g && *g) {
        lit(y, "supplementalGroups");
        seq_start(y);
        for (const char *p = g; *p;) {
            int64(y, strtoll(p, NULL, 10));
            p += strcspn(p, ",");
            p += *p == ',';
        }
        seq_end(y);
    }
    map_end(y);
}

/* volumes: the [storage] entries and a Memory emptyDir for /dev/shm
 * (sizeLimit the pod's memory, @p mib, when known) */
static void volumes(ye *y, const s2r_workload *wl, int64_t mib)
{
    bool any = wl->large_shm;
    for (size_t i = 0; i < wl->n_volumes; i++)
        any = any || yaml_volume(&wl->volumes[i]);
    if (!any)
        return;
    lit(y, "volumes");
    seq_start(y);
    for (size_t i = 0; i < wl->n_volumes; i++) {
        const s2r_volume *v = &wl->volumes[i];
        char *name = yaml_volume(v) ? volume_name(wl, i) : NULL;
        if (!name) {
            y->failed = y->failed || yaml_volume(v);
            continue;
        }
        map_start(y);
        kv_str(y, "name", name);
        free(name);
        lit(y, v->kind == S2R_VOL_PVC   ? "persistentVolumeClaim"
               : v->kind == S2R_VOL_NFS ? "nfs"
                                        : "hostPath");
        map_start(y);
        if (v->kind == S2R_VOL_PVC) {
            kv_str(y, "claimName", v->source);
        } else {
            if (v->kind == S2R_VOL_NFS)
                kv_str(y, "server", v->server);
            kv_str(y, "path", v->source);
        }
        if (v->read_only && v->kind != S2R_VOL_HOSTPATH)
            kv_bool(y, "readOnly", true);
        map_end(y);
        map_end(y);
    }
    if (wl->large_shm) {
        map_start(y);
        kv_word(y, "name", "dshm");
        lit(y, "emptyDir");
        map_start(y);
        kv_word(y, "medium", "Memory");
        if (mib > 0) {
            char q[S2R_EMIT__QTY_MAX];
            s2r_emit__quantity(q, mib);
            kv_str(y, "sizeLimit", q);
        }
        map_end(y);
        map_end(y);
    }
    seq_end(y);
}

/* volumeMounts of the container, as volumes() names them */
static void volume_mounts(ye *y, const s2r_workload *wl)
{
    bool any = wl->large_shm;
    for (size_t i = 0; i < wl->n_volumes; i++)
        any = any || yaml_volume(&wl->volumes[i]);
    if (!any)
        return;
    lit(y, "volumeMounts");
    seq_start(y);
    for (size_t i = 0; i < wl->n_volumes; i++) {
        const s2r_volume *v = &wl->volumes[i];
        char *name = yaml_volume(v) ? volume_name(wl, i) : NULL;
        if (!name)
            continue;
        map_start(y);
        kv_str(y, "name", name);
        kv_str(y, "mountPath", v->path);
        if (v->read_only)
            kv_bool(y, "readOnly", true);
        map_end(y);
        free(name);
    }
    if (wl->large_shm) {
        map_start(y);
        kv_word(y, "name", "dshm");
        kv_word(y, "mountPath", "/dev/shm");
        map_end(y);
    }
    seq_end(y);
}

static void pod_template(ye *y, const s2r_workload *wl, const char *cname,
                         role r, bool restart_never)
{
    lit(y, "template");
    map_start(y);
    if (s2r_emit__n_pools(wl) > 0) {
        lit(y, "metadata");
        map_start(y);
        lit(y, "labels");
        map_start(y);
        kv_str(y, "runai/node-pool", wl->node_pools[0]);
        map_end(y);
        map_end(y);
    }
    lit(y, "spec");
    map_start(y);
    if (restart_never)
        kv_word(y, "restartPolicy", "Never");
    if (r == ROLE_MAIN && per_task_deadline(wl))
        kv_int(y, "activeDeadlineSeconds", wl->time_limit_s);
    if (wl->node_type && *wl->node_type) {
        lit(y, "nodeSelector");
        map_start(y);
        kv_str(y, "run.ai/type", wl->node_type);
        map_end(y);
    }
    security_context(y, wl);
    lit(y, "containers");
    seq_start(y);
    map_start(y);
    kv_word(y, "name", cname);
    kv_str(y, "image", wl->image);
    if (r == ROLE_MPI_LAUNCHER)
        command(y, wl, s2r_emit__main_command(wl));
    else if (r == ROLE_MAIN)
        command(y, wl, &wl->command);
    else
        worker_command(y, &wl->worker_command);
    if (wl->workdir && *wl->workdir)
        kv_str(y, "workingDir", wl->workdir);
    env(y, wl);
    if (r == ROLE_MAIN)
        ports(y, wl);
    if (r == ROLE_MPI_WORKER && wl->worker_command.n)
        sshd_ready(y);
    if (r == ROLE_MPI_LAUNCHER)
        resources(y, S2R_EMIT__LAUNCHER_CPU, S2R_EMIT__LAUNCHER_MEM_MIB, 0,
                  false);
    else
        resources(y, wl->cpus, wl->memory_mib, wl->gpus, true);
    volume_mounts(y, wl);
    map_end(y);
    seq_end(y);
    volumes(y, wl, r == ROLE_MPI_LAUNCHER ? S2R_EMIT__LAUNCHER_MEM_MIB
                                          : wl->memory_mib);
    map_end(y); /* spec */
    map_end(y); /* template */
}

static void replica(ye *y, const s2r_workload *wl, const char *group,
                    int64_t replicas, const char *cname, role r)
{
    lit(y, group);
    map_start(y);
    kv_int(y, "replicas", replicas);
    kv_word(y, "restartPolicy", "Never");
    pod_template(y, wl, cname, r, false);
    map_end(y);
}

static void job(ye *y, const s2r_workload *wl)
{
    kv_word(y, "apiVersion", "batch/v1");
    kv_word(y, "kind", "Job");
    metadata(y, wl);
    lit(y, "spec");
    map_start(y);
    /* array tasks fail alone, as SLURM's do: retries counted per index
     * (Kubernetes Job backoffLimitPerIndex, restartPolicy Never), where a
     * job-wide backoffLimit stops every index at the first failure */
    kv_int(y, s2r_emit__completions(wl) > 0 ? "backoffLimitPerIndex"
                                             : "backoffLimit",
           wl->backoff_limit > 0 ? wl->backoff_limit : 0);
    if (wl->time_limit_s > 0 && !per_task_deadline(wl))
        kv_int(y, "activeDeadlineSeconds", wl->time_limit_s);
    if (s2r_emit__completions(wl) > 0) {
        kv_word(y, "completionMode", "Indexed");
        kv_int(y, "completions", s2r_emit__completions(wl));
        kv_int(y, "parallelism", s2r_emit__parallelism(wl));
    }
    pod_template(y, wl, "main", ROLE_MAIN, true);
    map_end(y);
}

static void pytorch_job(ye *y, const s2r_workload *wl)
{
    kv_word(y, "apiVersion", "kubeflow.org/v1");
    kv_word(y, "kind", "PyTorchJob");
    metadata(y, wl);
    lit(y, "spec");
    map_start(y);
    run_policy(y, wl, "None");
    lit(y, "pytorchReplicaSpecs");
    map_start(y);
    replica(y, wl, "Master", 1, "pytorch", ROLE_MAIN);
    if (wl->workers > 0)
        replica(y, wl, "Worker", wl->workers, "pytorch", ROLE_MAIN);
    map_end(y);
    map_end(y);
}

static void mpi_job(ye *y, const s2r_workload *wl)
{
    kv_word(y, "apiVersion", "kubeflow.org/v2beta1");
    kv_word(y, "kind", "MPIJob");
    metadata(y, wl);
    lit(y, "spec");
    map_start(y);
    if (wl->slots_per_worker > 0)
        kv_int(y, "slotsPerWorker", wl->slots_per_worker);
    run_policy(y, wl, "Running");
    kv_word(y, "sshAuthMountPath", "/root/.ssh");
    kv_word(y, "launcherCreationPolicy", "WaitForWorkersReady");
    lit(y, "mpiReplicaSpecs");
    map_start(y);
    replica(y, wl, "Launcher", 1, "launcher", ROLE_MPI_LAUNCHER);
    replica(y, wl, "Worker", wl->workers, "worker", ROLE_MPI_WORKER);
    map_end(y);
    map_end(y);
}

int s2r_emit__manifest(const s2r_emit__events *ev, void *ctx,
                       const s2r_workload *wl)
{
    ye y = {.ev = ev, .ctx = ctx, .failed = false, .pod_cmd = NULL};
    map_start(&y);
    switch (wl->kind) {
    case S2R_WL_PYTORCH:
        pytorch_job(&y, wl);
        break;
    case S2R_WL_MPI:
        mpi_job(&y, wl);
        break;
    case S2R_WL_STANDARD:
    default:
        job(&y, wl);
        break;
    }
    map_end(&y);
    s2r_pod_args_free(&y.pod);
    return y.failed ? S2R_ERROR : S2R_OK;
}

int s2r_emit__manifest_diags(const s2r_workload *wl, s2r_diags *diags)
{
    int rc = S2R_OK;
    size_t pools = s2r_emit__n_pools(wl);
    if (pools > 1)
        rc = s2r_diags_add(diags, S2R_SEV_WARNING, wl->source, 0, "partition",
                           "YAML takes one node pool (runai/node-pool: %s); "
                           "the other %zu are dropped, --format cli keeps "
                           "them all",
                           wl->node_pools[0], pools - 1);
    if (!rc && (wl->kind == S2R_WL_WORKSPACE ||
                wl->kind == S2R_WL_INFERENCE))
        rc = s2r_diags_add(diags, S2R_SEV_WARNING, wl->source, 0, NULL,
                           "%s is a server, but a manifest for 'runai "
                           "workload submit' cannot make a Run:ai %s: this "
                           "batch/v1 Job declares port %d and nothing "
                           "exposes it outside the cluster; --format cli "
                           "submits a %s with the port exposed",
                           wl->server ? wl->server : "the command",
                           wl->kind == S2R_WL_WORKSPACE ? "workspace"
                                                        : "inference workload",
                           wl->port,
                           wl->kind == S2R_WL_WORKSPACE ? "workspace"
                                                        : "inference workload");
    for (size_t i = 0; !rc && i < wl->n_volumes; i++)
        if (wl->volumes[i].kind == S2R_VOL_DATASOURCE)
            rc = s2r_diags_add(diags, S2R_SEV_WARNING, wl->source, 0, NULL,
                               "[storage] %s is the Run:ai data source %s, "
                               "which a manifest cannot name: it is not "
                               "mounted; --format cli mounts it",
                               wl->volumes[i].path, wl->volumes[i].source);
    if (!rc && wl->kind == S2R_WL_STANDARD &&
        s2r_emit__completions(wl) > 0 && wl->command.n == 0)
        rc = s2r_diags_add(diags, S2R_SEV_WARNING, wl->source, 0, "array",
                           "the workload has no command, so the array "
                           "pods cannot export SLURM_ARRAY_TASK_ID");
    return rc;
}

static void w_mapping_start(void *w)
{
    s2r_yaml_mapping_start(w);
}

static void w_mapping_end(void *w)
{
    s2r_yaml_mapping_end(w);
}

static void w_sequence_start(void *w)
{
    s2r_yaml_sequence_start(w);
}

static void w_sequence_end(void *w)
{
    s2r_yaml_sequence_end(w);
}

static void w_scalar(void *w, const char *s, size_t len,
                     s2r_yaml_style style)
{
    s2r_yaml_scalar(w, s, len, style);
}

static const s2r_emit__events yaml_events = {
    w_mapping_start, w_mapping_end, w_sequence_start, w_sequence_end,
    w_scalar};

int s2r_emit_yaml(char **out, const s2r_workload *wl, const s2r_config *cfg,
                  s2r_diags *diags)
{
    (void)cfg; /* YAML carries --time itself: activeDeadlineSeconds */
    if (!out)
        return S2R_EINVAL;
    *out = NULL;
    int rc = s2r_emit__check(wl, true, diags);
    if (rc)
        return rc;

    s2r_buf b = {0};
    s2r_buf_reserve(&b, 8192); /* a manifest is 2-6 KB */
    s2r_yaml_writer w;
    s2r_yaml_writer_init(&w, &b);
    bool failed = s2r_emit__manifest(&yaml_events, &w, wl) != S2R_OK;
    int end = s2r_yaml_writer_end(&w);
    if (failed || end) {
        bool oom = b.oom;
        s2r_buf_free(&b);
        if (oom)
            return S2R_ENOMEM;
        rc = s2r_diags_add(diags, S2R_SEV_ERROR, wl->source, 0, NULL,
                           "cannot write the workload as YAML");
        return rc ? rc : S2R_ERROR;
    }
    if ((rc = s2r_emit__manifest_diags(wl, diags))) {
        s2r_buf_free(&b);
        return rc;
    }
    *out = s2r_buf_finish(&b);
    return *out ? S2R_OK : S2R_ENOMEM;
}
