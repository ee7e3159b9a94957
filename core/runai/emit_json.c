/* emit_json.c: the body of POST /api/v1/workloads/trainings (standard),
 * /api/v1/workloads/distributed (PyTorch) or /api/v1/workloads/workspaces
 * (servers), per runai-formats.md §3; an array or an MPIJob goes as its
 * manifest through POST /api/v2/workloads,
 * built with json-c. */
#include "emit_common.h"
#include "pod.h"

#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

/* json-c builder with a sticky out-of-memory flag */
typedef struct jb {
    bool oom;
} jb;

static json_object *obj(jb *j)
{
    json_object *o = json_object_new_object();
    if (!o)
        j->oom = true;
    return o;
}

static json_object *arr(jb *j)
{
    json_object *o = json_object_new_array();
    if (!o)
        j->oom = true;
    return o;
}

/* add @p v (owned) to @p o under @p k; drops v when o is NULL */
static void add(jb *j, json_object *o, const char *k, json_object *v)
{
    if (!v) {
        j->oom = true;
        return;
    }
    if (!o || json_object_object_add(o, k, v) != 0) {
        j->oom = true;
        json_object_put(v);
    }
}

static void push(jb *j, json_object *a, json_object *v)
{
    if (!v) {
        j->oom = true;
        return;
    }
    if (!a || json_object_array_add(a, v) != 0) {
        j->oom = true;
        json_object_put(v);
    }
}

static void add_str(jb *j, json_object *o, const char *k, const char *v)
{
    add(j, o, k, json_object_new_string(v));
}

static void add_int(jb *j, json_object *o, const char *k, int64_t v)
{
    add(j, o, k, json_object_new_int64(v));
}

static void add_bool(jb *j, json_object *o, const char *k, bool v)
{
    add(j, o, k, json_object_new_boolean(v));
}

static void command_words(jb *j, json_object *spec, const s2r_strv *cmd,
                          int64_t timeout_s, bool args_only);

/* "command": first word, "args": the other words, each shell-quoted,
 * joined by spaces: Run:ai shell-splits both strings. The pod script
 * (pod.h) wraps @p cmd. */
static void command_args(jb *j, json_object *spec, const s2r_workload *wl,
                         const s2r_strv *cmd, int64_t timeout_s,
                         bool args_only)
{
    s2r_strv pod = {0};
    if (s2r_pod_argv(&pod, wl, cmd)) {
        j->oom = true;
        return;
    }
    command_words(j, spec, &pod, timeout_s, args_only);
    s2r_strv_clear(&pod);
}

static void command_words(jb *j, json_object *spec, const s2r_strv *cmd,
                          int64_t timeout_s, bool args_only)
{
    s2r_emit__argv argv;
    s2r_emit__argv_init(&argv, cmd, timeout_s);
    size_t n = s2r_emit__argv_count(&argv);
    if (n == 0)
        return;
    s2r_buf b = {0};
    if (args_only) {
        /* arguments for the image's own entrypoint */
        for (size_t i = 0; i < n; i++) {
            if (i)
                s2r_buf_putn(&b, " ", 1);
            s2r_shell_put_quoted(&b, s2r_emit__argv_get(&argv, i));
        }
        char *a = s2r_buf_finish(&b);
        if (!a) {
            j->oom = true;
            return;
        }
        add_str(j, spec, "args", a);
        free(a);
        return;
    }
    s2r_shell_put_quoted(&b, s2r_emit__argv_get(&argv, 0));
    char *s = s2r_buf_finish(&b);
    if (!s) {
        j->oom = true;
        return;
    }
    add_str(j, spec, "command", s);
    free(s);
    if (n == 1)
        return;
    for (size_t i = 1; i < n; i++) {
        if (i > 1)
            s2r_buf_putn(&b, " ", 1);
        s2r_shell_put_quoted(&b, s2r_emit__argv_get(&argv, i));
    }
    s = s2r_buf_finish(&b);
    if (!s) {
        j->oom = true;
        return;
    }
    add_str(j, spec, "args", s);
    free(s);
}

static void env_vars(jb *j, json_object *spec, const s2r_workload *wl)
{
    if (wl->env.n == 0)
        return;
    json_object *a = arr(j);
    for (size_t i = 0; i < wl->env.n; i++) {
        json_object *e = obj(j);
        add_str(j, e, "name", wl->env.v[i].name);
        add_str(j, e, "value", wl->env.v[i].value ? wl->env.v[i].value : "");
        push(j, a, e);
    }
    add(j, spec, "environmentVariables", a);
}

static void compute(jb *j, json_object *spec, int64_t gpus, int64_t cpus,
                    int64_t mib, bool mem_limit, bool large_shm)
{
    if (gpus <= 0 && cpus <= 0 && mib <= 0 && !large_shm)
        return;
    json_object *c = obj(j);
    if (large_shm)
        add_bool(j, c, "largeShmRequest", true);
    if (gpus > 0)
        add_int(j, c, "gpuDevicesRequest", gpus);
    if (cpus > 0)
        add_int(j, c, "cpuCoreRequest", cpus);
    if (mib > 0) {
        char q[S2R_EMIT__QTY_MAX];
        s2r_emit__quantity(q, mib);
        add_str(j, c, "cpuMemoryRequest", q);
        if (mem_limit)
            add_str(j, c, "cpuMemoryLimit", q);
    }
    add(j, spec, "compute", c);
}

static void placement(jb *j, json_object *spec, const s2r_workload *wl)
{
    size_t pools = s2r_emit__n_pools(wl);
    if (pools > 0) {
        json_object *a = arr(j);
        for (size_t i = 0; i < pools; i++)
            push(j, a, json_object_new_string(wl->node_pools[i]));
        add(j, spec, "nodePools", a);
    }
    if (wl->node_type && *wl->node_type)
        add_str(j, spec, "nodeType", wl->node_type);
}

/* spec.storage: {pvc[{claimName, existingPvc, path, readOnly}],
 * nfs[{server, path, mountPath, readOnly}], hostPath[{path, mountPath,
 * readOnly}]} per the Run:ai REST API */
static void storage(jb *j, json_object *spec, const s2r_workload *wl)
{
    json_object *pvc = NULL, *nfs = NULL, *host = NULL;
    for (size_t i = 0; i < wl->n_volumes; i++) {
        const s2r_volume *v = &wl->volumes[i];
        json_object **list = v->kind == S2R_VOL_PVC   ? &pvc
                             : v->kind == S2R_VOL_NFS ? &nfs
                             : v->kind == S2R_VOL_HOSTPATH ? &host : NULL;
        if (!list)
            continue;
        if (!*list)
            *list = arr(j);
        json_object *e = obj(j);
        if (v->kind == S2R_VOL_PVC) {
            add_str(j, e, "claimName", v->source);
            add_bool(j, e, "existingPvc", true);
            add_str(j, e, "path", v->path);
        } else {
            if (v->kind == S2R_VOL_NFS)
                add_str(j, e, "server", v->server);
            add_str(j, e, "path", v->source);
            add_str(j, e, "mountPath", v->path);
        }
        add_bool(j, e, "readOnly", v->read_only);
        push(j, *list, e);
    }
    if (!pvc && !nfs && !host)
        return;
    json_object *st = obj(j);
    if (pvc)
        add(j, st, "pvc", pvc);
    if (nfs)
        add(j, st, "nfs", nfs);
    if (host)
        add(j, st, "hostPath", host);
    add(j, spec, "storage", st);
}

/* spec.security: the script owner's UID, GID and groups */
static void security(jb *j, json_object *spec, const s2r_workload *wl)
{
    if (!wl->run_as_user)
        return;
    json_object *s = obj(j);
    add_str(j, s, "uidGidSource", "custom");
    add_int(j, s, "runAsUid", wl->run_as_uid);
    if (wl->run_as_gid >= 0)
        add_int(j, s, "runAsGid", wl->run_as_gid);
    if (wl->supplemental_groups && *wl->supplemental_groups)
        add_str(j, s, "supplementalGroups", wl->supplemental_groups);
    add(j, spec, "security", s);
}

static bool is_server(const s2r_workload *wl)
{
    return wl->kind == S2R_WL_WORKSPACE || wl->kind == S2R_WL_INFERENCE;
}

static void common_tail(jb *j, json_object *spec, const s2r_workload *wl)
{
    if (wl->priority && *wl->priority)
        add_str(j, spec, "priorityClass", wl->priority);
    if (wl->preemptibility && *wl->preemptibility)
        add_str(j, spec, "preemptibility", wl->preemptibility);
    if (!is_server(wl))
        add_int(j, spec, "backoffLimit",
                wl->backoff_limit > 0 ? wl->backoff_limit : 0);
}

/* a server's port, as WorkspaceCreationRequest spec.exposedUrls */
static void exposed_urls(jb *j, json_object *spec, const s2r_workload *wl)
{
    if (!is_server(wl) || wl->port <= 0)
        return;
    json_object *a = arr(j), *u = obj(j);
    add_int(j, u, "container", wl->port);
    push(j, a, u);
    add(j, spec, "exposedUrls", a);
}

static json_object *body(jb *j, const s2r_workload *wl, int64_t timeout_s)
{
    json_object *root = obj(j), *spec = obj(j);
    add_str(j, root, "name", wl->name);
    add_str(j, root, "projectId",
            wl->project && *wl->project ? wl->project : S2R_EMIT__PROJECT_ID);
    add_str(j, root, "clusterId", S2R_EMIT__CLUSTER_ID);

    if (wl->kind == S2R_WL_PYTORCH) {
        add_bool(j, root, "masterSpecSameAsWorker", true);
        add_str(j, spec, "distributedFramework", "PyTorch");
        add_int(j, spec, "numWorkers", wl->workers);
    }

    add_str(j, spec, "image", wl->image);
    command_args(j, spec, wl, &wl->command, timeout_s, wl->command_is_args);
    if (wl->workdir && *wl->workdir)
        add_str(j, spec, "workingDir", wl->workdir);
    env_vars(j, spec, wl);
    compute(j, spec, wl->gpus, wl->cpus, wl->memory_mib, true,
            wl->large_shm);
    storage(j, spec, wl);
    security(j, spec, wl);
    placement(j, spec, wl);
    common_tail(j, spec, wl);
    exposed_urls(j, spec, wl);
    if (wl->kind == S2R_WL_STANDARD && s2r_emit__completions(wl) > 0) {
        add_int(j, spec, "parallelism", s2r_emit__parallelism(wl));
        add_int(j, spec, "completions", s2r_emit__completions(wl));
    } else if (wl->kind == S2R_WL_PYTORCH) {
        add_str(j, spec, "cleanPodPolicy", "None");
    }
    add(j, root, "spec", spec);
    return root;
}

/* ---- a manifest through POST /api/v2/workloads ---- */

/* plain digits (an optional '-'): a number, as YAML reads them */
static bool plain_int(const char *v, s2r_yaml_style style)
{
    size_t l = strlen(v);
    if (style != S2R_YAML_PLAIN || l == 0 || l > 18)
        return false;
    size_t i = v[0] == '-' ? 1 : 0;
    return i < l && strspn(v + i, "0123456789") == l - i;
}

/* The manifest's events as a json-c tree: each collection is added to
 * its parent when it starts, under the key in hand. */
typedef struct jtree {
    jb *j;
    json_object *root;
    json_object *open[S2R_YAML_MAX_DEPTH];
    size_t depth;
    bool key_next[S2R_YAML_MAX_DEPTH];
    s2r_buf key; /* the key in hand */
} jtree;

static void place(jtree *t, json_object *v)
{
    if (!t->depth) { /* the root: one only */
        if (t->root) {
            t->j->oom = true;
            json_object_put(v);
        } else {
            t->root = v;
        }
        return;
    }
    json_object *top = t->open[t->depth - 1];
    if (json_object_is_type(top, json_type_array)) {
        push(t->j, top, v);
        return;
    }
    t->key_next[t->depth - 1] = true;
    add(t->j, top, t->key.p ? t->key.p : "", v);
}

static void open_node(jtree *t, json_object *c)
{
    if (!c || t->depth == S2R_YAML_MAX_DEPTH) {
        t->j->oom = true;
        json_object_put(c);
        return;
    }
    json_object_get(c); /* held while open; the parent owns the other */
    place(t, c);
    t->open[t->depth] = c;
    t->key_next[t->depth++] = true;
}

static void close_node(void *ctx)
{
    jtree *t = ctx;
    if (!t->depth) {
        t->j->oom = true;
        return;
    }
    json_object_put(t->open[--t->depth]);
}

static void j_mapping_start(void *ctx)
{
    jtree *t = ctx;
    open_node(t, obj(t->j));
}

static void j_sequence_start(void *ctx)
{
    jtree *t = ctx;
    open_node(t, arr(t->j));
}

static void j_scalar(void *ctx, const char *s, s2r_yaml_style style)
{
    jtree *t = ctx;
    if (t->depth && t->key_next[t->depth - 1] &&
        json_object_is_type(t->open[t->depth - 1], json_type_object)) {
        t->key.len = 0;
        s2r_buf_puts(&t->key, s);
        t->key_next[t->depth - 1] = false;
        t->j->oom |= t->key.oom;
        return;
    }
    place(t, plain_int(s, style)
                 ? json_object_new_int64(strtoll(s, NULL, 10))
                 : json_object_new_string(s));
}

static const s2r_emit__events json_events = {
    j_mapping_start, close_node, j_sequence_start, close_node, j_scalar};

/* the manifest of @p wl as JSON, NULL when it could not be built
 * (j->oom, or *rc = S2R_ERROR) */
static json_object *manifest_json(jb *j, const s2r_workload *wl, int *rc)
{
    jtree t = {.j = j};
    *rc = s2r_emit__manifest(&json_events, &t, wl);
    while (t.depth)
        close_node(&t);
    s2r_buf_free(&t.key);
    if (*rc || j->oom) {
        json_object_put(t.root);
        return NULL;
    }
    return t.root;
}

/* WorkloadV2CreateRequest: {metadata: {name, projectId}, manifest} */
static json_object *v2_body(jb *j, const s2r_workload *wl,
                            json_object *manifest)
{
    json_object *root = obj(j), *meta = obj(j);
    add_str(j, meta, "name", wl->name);
    add_str(j, meta, "projectId",
            wl->project && *wl->project ? wl->project : S2R_EMIT__PROJECT_ID);
    add(j, root, "metadata", meta);
    add(j, root, "manifest", manifest);
    return root;
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

    jb j = {0};
    json_object *root;
    if (v2(wl)) {
        json_object *manifest = manifest_json(&j, wl, &rc);
        if (rc) {
            rc = s2r_diags_add(diags, S2R_SEV_ERROR, wl->source, 0, NULL,
                               "cannot write the workload's manifest");
            return rc ? rc : S2R_ERROR;
        }
        if (!manifest)
            return S2R_ENOMEM;
        if ((rc = s2r_emit__manifest_diags(wl, diags))) {
            json_object_put(manifest);
            return rc;
        }
        root = v2_body(&j, wl, manifest);
    } else {
        root = body(&j, wl, s2r_emit__timeout_wrap(wl, cfg));
    }
    if (j.oom) {
        json_object_put(root);
        return S2R_ENOMEM;
    }
    size_t len = 0;
    const char *text = json_object_to_json_string_length(
        root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                  JSON_C_TO_STRING_NOSLASHESCAPE, &len);
    char *copy = text ? malloc(len + 2) : NULL;
    if (copy) {
        memcpy(copy, text, len);
        copy[len] = '\n';
        copy[len + 1] = '\0';
    }
    json_object_put(root);
    if (!copy)
        return S2R_ENOMEM;
    if ((rc = json_diags(wl, cfg, diags))) {
        free(copy);
        return rc;
    }
    *out = copy;
    return S2R_OK;
}
