/* emit_json.c: the body of POST /api/v1/workloads/trainings (standard),
 * /api/v1/workloads/distributed (PyTorch) or /api/v1/workloads/workspaces
 * (servers), per runai-formats.md §3; an array or an MPIJob goes as its
 * manifest through POST /api/v2/workloads,
 * written as text (s2r_json_writer: the layout json-c's pretty printer
 * gives a tree). */
#include "emit_common.h"
#include "pod.h"

#include <stdlib.h>
#include <string.h>


typedef s2r_json_writer jw;

static void key(jw *w, const char *k)
{
    s2r_json_key(w, k, strlen(k));
}

static void add_str(jw *w, const char *k, const char *v)
{
    key(w, k);
    if (!v)
        w->failed = true;
    else
        s2r_json_string(w, v, strlen(v));
}

static void add_int(jw *w, const char *k, int64_t v)
{
    key(w, k);
    s2r_json_int(w, v);
}

static void add_bool(jw *w, const char *k, bool v)
{
    key(w, k);
    s2r_json_bool(w, v);
}

/* "K": { or "K": [ */
static void open_under(jw *w, const char *k, bool object)
{
    key(w, k);
    s2r_json_begin(w, object);
}

static void command_words(jw *w, const char *const *v, size_t n,
                          int64_t timeout_s, bool args_only);

/* "command": first word, "args": the other words, each shell-quoted,
 * joined by spaces: Run:ai shell-splits both strings. The pod script
 * (pod.h) wraps @p cmd. */
static void command_args(jw *w, const s2r_workload *wl, const s2r_strv *cmd,
                         int64_t timeout_s, bool args_only)
{
    s2r_pod_args pod;
    if (s2r_pod_args_make(&pod, wl, cmd)) {
        w->failed = true;
        return;
    }
    command_words(w, pod.v, pod.n, timeout_s, args_only);
    s2r_pod_args_free(&pod);
}

/* one string value under @p k from @p b (finished here) */
static void add_buf(jw *w, const char *k, s2r_buf *b)
{
    key(w, k);
    if (b->oom)
        w->failed = true;
    else
        s2r_json_string(w, b->p ? b->p : "", b->len);
    b->len = 0;
}

static void command_words(jw *w, const char *const *v, size_t n_words,
                          int64_t timeout_s, bool args_only)
{
    s2r_emit__argv argv;
    s2r_emit__argv_init(&argv, v, n_words, timeout_s);
    size_t n = s2r_emit__argv_count(&argv);
    if (n == 0)
        return;
    /* room for the words and their quotes made once (a pod script is
     * 1-2 KB): the words' bytes and an eighth more */
    size_t need = 0;
    for (size_t i = 0; i < n; i++)
        need += strlen(s2r_emit__argv_get(&argv, i)) + 3;
    s2r_buf b = {0};
    s2r_buf_reserve(&b, need + need / 8);
    size_t from = 0;
    if (!args_only) {
        s2r_shell_put_quoted(&b, s2r_emit__argv_get(&argv, 0));
        add_buf(w, "command", &b);
        from = 1;
    }
    /* args_only: arguments for the image's own entrypoint */
    for (size_t i = from; i < n; i++) {
        if (i > from)
            s2r_buf_putn(&b, " ", 1);
        s2r_shell_put_quoted(&b, s2r_emit__argv_get(&argv, i));
    }
    if (from < n)
        add_buf(w, "args", &b);
    s2r_buf_free(&b);
}

static void env_vars(jw *w, const s2r_workload *wl)
{
    if (wl->env.n == 0)
        return;
    open_under(w, "environmentVariables", false);
    for (size_t i = 0; i < wl->env.n; i++) {
        s2r_json_begin(w, true);
        add_str(w, "name", wl->env.v[i].name);
        add_str(w, "value", wl->env.v[i].value ? wl->env.v[i].value : "");
        s2r_json_end(w);
    }
    s2r_json_end(w);
}

static void compute(jw *w, int64_t gpus, int64_t cpus, int64_t mib,
                    bool mem_limit, bool large_shm)
{
    if (gpus <= 0 && cpus <= 0 && mib <= 0 && !large_shm)
        return;
    open_under(w, "compute", true);
    if (large_shm)
        add_bool(w, "largeShmRequest", true);
    if (gpus > 0)
        add_int(w, "gpuDevicesRequest", gpus);
    if (cpus > 0)
        add_int(w, "cpuCoreRequest", cpus);
    if (mib > 0) {
        char q[S2R_EMIT__QTY_MAX];
        s2r_emit__quantity(q, mib);
        add_str(w, "cpuMemoryRequest", q);
        if (mem_limit)
            add_str(w, "cpuMemoryLimit", q);
    }
    s2r_json_end(w);
}

static void placement(jw *w, const s2r_workload *wl)
{
    size_t pools = s2r_emit__n_pools(wl);
    if (pools > 0) {
        open_under(w, "nodePools", false);
        for (size_t i = 0; i < pools; i++)
            s2r_json_string(w, wl->node_pools[i], strlen(wl->node_pools[i]));
        s2r_json_end(w);
    }
    if (wl->node_type && *wl->node_type)
        add_str(w, "nodeType", wl->node_type);
}

/* the volumes of one kind under @p k, when there are any */
static void storage_list(jw *w, const s2r_workload *wl, s2r_volume_kind kind,
                         const char *k)
{
    bool open = false;
    for (size_t i = 0; i < wl->n_volumes; i++) {
        const s2r_volume *v = &wl->volumes[i];
        if (v->kind != kind)
            continue;
        if (!open)
            open_under(w, k, false);
        open = true;
        s2r_json_begin(w, true);
        if (kind == S2R_VOL_PVC) {
            add_str(w, "claimName", v->source);
            add_bool(w, "existingPvc", true);
            add_str(w, "path", v->path);
        } else {
            if (kind == S2R_VOL_NFS)
                add_str(w, "server", v->server);
            add_str(w, "path", v->source);
            add_str(w, "mountPath", v->path);
        }
        add_bool(w, "readOnly", v->read_only);
        s2r_json_end(w);
    }
    if (open)
        s2r_json_end(w);
}

/* spec.storage: {pvc[{claimName, existingPvc, path, readOnly}],
 * nfs[{server, path, mountPath, readOnly}], hostPath[{path, mountPath,
 * readOnly}]} per the Run:ai REST API */
static void storage(jw *w, const s2r_workload *wl)
{
    bool any = false;
    for (size_t i = 0; i < wl->n_volumes; i++)
        any |= wl->volumes[i].kind == S2R_VOL_PVC ||
               wl->volumes[i].kind == S2R_VOL_NFS ||
               wl->volumes[i].kind == S2R_VOL_HOSTPATH;
    if (!any)
        return;
    open_under(w, "storage", true);
    storage_list(w, wl, S2R_VOL_PVC, "pvc");
    storage_list(w, wl, S2R_VOL_NFS, "nfs");
    storage_list(w, wl, S2R_VOL_HOSTPATH, "hostPath");
    s2r_json_end(w);
}

/* spec.security: the script owner's UID, GID and groups */
static void security(jw *w, const s2r_workload *wl)
{
    if (!wl->run_as_user)
        return;
    open_under(w, "security", true);
    add_str(w, "uidGidSource", "custom");
    add_int(w, "runAsUid", wl->run_as_uid);
    if (wl->run_as_gid >= 0)
        add_int(w, "runAsGid", wl->run_as_gid);
    if (wl->supplemental_groups && *wl->supplemental_groups)
        add_str(w, "supplementalGroups", wl->supplemental_groups);
    s2r_json_end(w);
}

static bool is_server(const s2r_workload *wl)
{
    return wl->kind == S2R_WL_WORKSPACE || wl->kind == S2R_WL_INFERENCE;
}

static void common_tail(jw *w, const s2r_workload *wl)
{
    if (wl->priority && *wl->priority)
        add_str(w, "priorityClass", wl->priority);
    if (wl->preemptibility && *wl->preemptibility)
        add_str(w, "preemptibility", wl->preemptibility);
    if (!is_server(wl))
        add_int(w, "backoffLimit",
                wl->backoff_limit > 0 ? wl->backoff_limit : 0);
}

/* a server's port, as WorkspaceCreationRequest spec.exposedUrls */
static void exposed_urls(jw *w, const s2r_workload *wl)
{
    if (!is_server(wl) || wl->port <= 0)
        return;
    open_under(w, "exposedUrls", false);
    s2r_json_begin(w, true);
    add_int(w, "container", wl->port);
    s2r_json_end(w);
    s2r_json_end(w);
}

static const char *project_id(const s2r_workload *wl)
{
    return wl->project && *wl->project ? wl->project : S2R_EMIT__PROJECT_ID;
}

static void body(jw *w, const s2r_workload *wl, int64_t timeout_s)
{
    s2r_json_begin(w, true);
    add_str(w, "name", wl->name);
    add_str(w, "projectId", project_id(wl));
    add_str(w, "clusterId", S2R_EMIT__CLUSTER_ID);
    if (wl->kind == S2R_WL_PYTORCH)
        add_bool(w, "masterSpecSameAsWorker", true);
    open_under(w, "spec", true);
    if (wl->kind == S2R_WL_PYTORCH) {
        add_str(w, "distributedFramework", "PyTorch");
        add_int(w, "numWorkers", wl->workers);
    }
    add_str(w, "image", wl->image);
    command_args(w, wl, &wl->command, timeout_s, wl->command_is_args);
    if (wl->workdir && *wl->workdir)
        add_str(w, "workingDir", wl->workdir);
    env_vars(w, wl);
    compute(w, wl->gpus, wl->cpus, wl->memory_mib, true, wl->large_shm);
    storage(w, wl);
    security(w, wl);
    placement(w, wl);
    common_tail(w, wl);
    exposed_urls(w, wl);
    if (wl->kind == S2R_WL_STANDARD && s2r_emit__completions(wl) > 0) {
        add_int(w, "parallelism", s2r_emit__parallelism(wl));
        add_int(w, "completions", s2r_emit__completions(wl));
    } else if (wl->kind == S2R_WL_PYTORCH) {
        add_str(w, "cleanPodPolicy", "None");
    }
    s2r_json_end(w);
    s2r_json_end(w);
}

/* ---- a manifest through POST /api/v2/workloads ---- */

/* plain digits (an optional '-'), the @p l bytes of @p v: a number, as
 * YAML reads them */
static bool plain_int(const char *v, size_t l, s2r_yaml_style style)
{
    if ((style != S2R_YAML_PLAIN && style != S2R_YAML_WORD) || l == 0 ||
        l > 18)
        return false;
    size_t i = v[0] == '-' ? 1 : 0;
    if (i == l)
        return false;
    for (; i < l; i++)
        if (v[i] < '0' || v[i] > '9')
            return false;
    return true;
}

/* The manifest's events written as JSON: a scalar is a key where a
 * mapping waits for one, otherwise a value. */
typedef struct jevents {
    jw *w;
    size_t base;  /* the writer's depth the manifest starts at */
    bool placed;  /* its root is written */
    bool key_next[S2R_JSON_MAX_DEPTH];
} jevents;

/* before a value: the mapping it lands in waits for a key again; the
 * manifest has one root */
static void value_placed(jevents *t)
{
    jw *w = t->w;
    if (w->depth == t->base) {
        w->failed |= t->placed;
        t->placed = true;
    } else if (w->object[w->depth - 1]) {
        t->key_next[w->depth - 1] = true;
    }
}

static void open_node(jevents *t, bool object)
{
    value_placed(t);
    s2r_json_begin(t->w, object);
    if (!t->w->failed)
        t->key_next[t->w->depth - 1] = true;
}

static void j_mapping_start(void *ctx)
{
    open_node(ctx, true);
}

static void j_sequence_start(void *ctx)
{
    open_node(ctx, false);
}

static void close_node(void *ctx)
{
    jevents *t = ctx;
    if (t->w->depth <= t->base)
        t->w->failed = true;
    else
        s2r_json_end(t->w);
}

static void j_scalar(void *ctx, const char *s, size_t len,
                     s2r_yaml_style style)
{
    jevents *t = ctx;
    jw *w = t->w;
    size_t top = w->depth - 1;
    if (w->depth > t->base && w->object[top] && t->key_next[top]) {
        s2r_json_key(w, s, len);
        t->key_next[top] = false;
        return;
    }
    value_placed(t);
    if (plain_int(s, len, style))
        s2r_json_int(w, strtoll(s, NULL, 10));
    else
        s2r_json_string(w, s, len);
}

static const s2r_emit__events json_events = {
    j_mapping_start, close_node, j_sequence_start, close_node, j_scalar};

/* WorkloadV2CreateRequest: {metadata: {name, projectId}, manifest}; the
 * manifest's own rc (S2R_ERROR: it cannot be written) */
static int v2_body(jw *w, const s2r_workload *wl)
{
    s2r_json_begin(w, true);
    open_under(w, "metadata", true);
    add_str(w, "name", wl->name);
    add_str(w, "projectId", project_id(wl));
    s2r_json_end(w);
    key(w, "manifest");
    jevents t = {.w = w, .base = w->depth};
    int rc = s2r_emit__manifest(&json_events, &t, wl);
    if (w->depth != t.base || !t.placed)
        w->failed = true;
    s2r_json_end(w);
    return rc;
}

static bool is_array(const s2r_workload *wl)
{
    return wl->kind == S2R_WL_STANDARD && s2r_emit__completions(wl) > 0;
}

/* A manifest through POST /api/v2/workloads: an array (an Indexed Job,
 * so that each task gets its own SLURM_ARRAY_TASK_ID) or an MPIJob (its
 * launcher runs the script, its workers sshd: the v1 distributed body
 * does not say which pods run `command`). */
static bool v2(const s2r_workload *wl)
{
    return is_array(wl) || wl->kind == S2R_WL_MPI;
}

static int json_diags(const s2r_workload *wl, const s2r_config *cfg,
                      s2r_diags *diags)
{
    int rc;
    for (size_t i = 0; !v2(wl) && i < wl->n_volumes; i++)
        if (wl->volumes[i].kind == S2R_VOL_DATASOURCE &&
            (rc = s2r_diags_add(diags, S2R_SEV_WARNING, wl->source, 0, NULL,
                                "[storage] %s is the Run:ai data source %s, "
                                "which the REST body names by its id: it is "
                                "not mounted; --format cli mounts it",
                                wl->volumes[i].path, wl->volumes[i].source)))
            return rc;
    if (v2(wl))
        return s2r_diags_add(diags, S2R_SEV_NOTE, wl->source, 0, NULL,
                             "POST the body to /api/v2/workloads (%s) after "
                             "replacing projectId \"%s\" with the project's "
                             "id (GET /api/v1/org-unit/projects)",
                             is_array(wl)
                                 ? "an Indexed Job, so that each array task "
                                   "gets its own SLURM_ARRAY_TASK_ID"
                                 : "an MPIJob: its launcher runs the script, "
                                   "its workers sshd",
                             wl->project && *wl->project ? wl->project
                                                        : S2R_EMIT__PROJECT_ID);
    if (wl->kind == S2R_WL_INFERENCE &&
        (rc = s2r_diags_add(diags, S2R_SEV_NOTE, wl->source, 0, NULL,
                            "the body is a workspace with the server's port "
                            "exposed: the Run:ai references s2r follows "
                            "document no inference REST body; --format cli "
                            "submits an inference workload")))
        return rc;
    const char *endpoint = wl->kind == S2R_WL_STANDARD ? "trainings"
                           : is_server(wl)              ? "workspaces"
                                                        : "distributed";
    if (wl->project && *wl->project)
        rc = s2r_diags_add(diags, S2R_SEV_NOTE, wl->source, 0, NULL,
                           "POST the body to /api/v1/workloads/%s after "
                           "replacing clusterId \"%s\" (GET /api/v1/clusters);"
                           " projectId holds the project \"%s\", which must "
                           "be its id from GET /api/v1/org-unit/projects",
                           endpoint, S2R_EMIT__CLUSTER_ID, wl->project);
    else
        rc = s2r_diags_add(diags, S2R_SEV_NOTE, wl->source, 0, NULL,
                           "POST the body to /api/v1/workloads/%s after "
                           "replacing the placeholders projectId \"%s\" "
                           "(GET /api/v1/org-unit/projects) and clusterId "
                           "\"%s\" (GET /api/v1/clusters)",
                           endpoint, S2R_EMIT__PROJECT_ID,
                           S2R_EMIT__CLUSTER_ID);
    if (rc)
        return rc;
    return s2r_emit__time_diag(wl, cfg, "Run:ai REST API", diags);
}

int s2r_emit_json(char **out, const s2r_workload *wl, const s2r_config *cfg,
                  s2r_diags *diags)
{
    if (!out)
        return S2R_EINVAL;
    *out = NULL;
    int rc = s2r_emit__check(wl, true, diags);
    if (rc)
        return rc;

    s2r_buf text = {0};
    s2r_buf_reserve(&text, 8192); /* a request body is 2-6 KB */
    jw w = {.out = &text};
    if (v2(wl)) {
        if (v2_body(&w, wl)) {
            s2r_buf_free(&text);
            rc = s2r_diags_add(diags, S2R_SEV_ERROR, wl->source, 0, NULL,
                               "cannot write the workload's manifest");
            return rc ? rc : S2R_ERROR;
        }
        if (!w.failed && (rc = s2r_emit__manifest_diags(wl, diags))) {
            s2r_buf_free(&text);
            return rc;
        }
    } else {
        body(&w, wl, s2r_emit__timeout_wrap(wl, cfg));
    }
    s2r_buf_putn(&text, "\n", 1);
    if (w.failed)
        s2r_buf_fail(&text);
    char *copy = s2r_buf_finish(&text);
    if (!copy)
        return S2R_ENOMEM;
    if ((rc = json_diags(wl, cfg, diags))) {
        free(copy);
        return rc;
    }
    *out = copy;
    return S2R_OK;
}
