/* model_json.c: see runai.h. json-c does all the JSON. */
#include "runai.h"

#include "base/base.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_object *jstr(const char *s)
{
    return s ? json_object_new_string(s) : NULL;
}

static json_object *jstrv(const s2r_strv *sv)
{
    json_object *a = json_object_new_array();
    for (size_t i = 0; a && i < sv->n; i++)
        json_object_array_add(a, json_object_new_string(sv->v[i]));
    return a;
}

static json_object *jenv(const s2r_envv *ev)
{
    json_object *o = json_object_new_object();
    for (size_t i = 0; o && i < ev->n; i++)
        json_object_object_add(o, ev->v[i].name,
                               json_object_new_string(ev->v[i].value));
    return o;
}

static json_object *jlist(char **l)
{
    if (!l)
        return NULL;
    json_object *a = json_object_new_array();
    for (size_t i = 0; a && l[i]; i++)
        json_object_array_add(a, json_object_new_string(l[i]));
    return a;
}

json_object *s2r_job_to_json(const s2r_job *job)
{
    json_object *o = json_object_new_object();
    if (!o)
        return NULL;
    json_object_object_add(o, "id", jstr(job->file));
    json_object_object_add(o, "valid", json_object_new_boolean(job->valid));
    json_object_object_add(o, "job_name", jstr(job->job_name));
    json_object_object_add(o, "nodes", json_object_new_int64(job->nodes));
    json_object_object_add(o, "nodes_max", json_object_new_int64(job->nodes_max));
    json_object_object_add(o, "ntasks", json_object_new_int64(job->ntasks));
    json_object_object_add(o, "ntasks_per_node",
                           json_object_new_int64(job->ntasks_per_node));
    json_object_object_add(o, "cpus_per_task",
                           json_object_new_int64(job->cpus_per_task));
    json_object_object_add(o, "cpus_per_gpu",
                           json_object_new_int64(job->cpus_per_gpu));
    json_object_object_add(o, "tasks_per_node",
                           json_object_new_int64(job->tasks_per_node));
    json_object_object_add(o, "gpus_per_node",
                           json_object_new_int64(job->gpus_per_node));
    json_object_object_add(o, "gpu_type", jstr(job->gpu_type));
    json_object_object_add(o, "cpus_per_node",
                           json_object_new_int64(job->cpus_per_node));
    json_object_object_add(o, "mem_per_node_mib",
        job->mem_per_node_mib == S2R_MEM_ALL ? json_object_new_string("all")
        : job->mem_per_node_mib > 0 ? json_object_new_int64(job->mem_per_node_mib)
                                    : NULL);
    json_object_object_add(o, "time_limit_s",
        job->time_limit_s > 0 ? json_object_new_int64(job->time_limit_s) : NULL);
    if (job->array) {
        json_object *a = json_object_new_object();
        json_object *ix = json_object_new_array();
        for (size_t i = 0; i < job->array->count; i++)
            json_object_array_add(ix, json_object_new_int(job->array->indices[i]));
        json_object_object_add(a, "indices", ix);
        json_object_object_add(a, "max_parallel",
            job->array->max_parallel > 0
                ? json_object_new_int(job->array->max_parallel) : NULL);
        json_object_object_add(o, "array", a);
    } else {
        json_object_object_add(o, "array", NULL);
    }
    json_object_object_add(o, "partitions", jlist(job->partitions));
    json_object_object_add(o, "account", jstr(job->account));
    json_object_object_add(o, "image", jstr(job->image));
    json_object_object_add(o, "workdir", jstr(job->workdir));
    json_object_object_add(o, "env", jenv(&job->env));
    json_object_object_add(o, "command_tokens", jstrv(&job->command_tokens));
    json_object_object_add(o, "distributed",
        job->distributed == S2R_DIST_PYTORCH ? json_object_new_string("pytorch")
        : job->distributed == S2R_DIST_MPI   ? json_object_new_string("mpi")
                                             : NULL);
    json_object *dirs = json_object_new_array();
    for (size_t i = 0; i < job->n_directives; i++) {
        json_object *d = json_object_new_object();
        json_object_object_add(d, "name", jstr(job->directives[i].name));
        json_object_object_add(d, "value", jstr(job->directives[i].value));
        json_object_object_add(d, "line",
                               json_object_new_int(job->directives[i].line));
        json_object_array_add(dirs, d);
    }
    json_object_object_add(o, "directives", dirs);
    json_object_object_add(o, "submit_dir", jstr(job->submit_dir));
    json_object *paths = json_object_new_array();
    for (size_t i = 0; paths && i < job->n_paths; i++) {
        json_object *p = json_object_new_object();
        json_object_object_add(p, "path", jstr(job->paths[i].path));
        json_object_object_add(p, "line", json_object_new_int(job->paths[i].line));
        json_object_object_add(p, "written",
                               json_object_new_boolean(job->paths[i].written));
        json_object_array_add(paths, p);
    }
    json_object_object_add(o, "paths", paths);
    json_object_object_add(o, "modules", jstrv(&job->modules));
    json_object_object_add(o, "conda_envs", jstrv(&job->conda_envs));
    json_object_object_add(o, "venvs", jstrv(&job->venvs));
    return o;
}

static const char *const kind_names[] = {
    [S2R_WL_STANDARD] = "standard", [S2R_WL_PYTORCH] = "pytorch",
    [S2R_WL_MPI] = "mpi", [S2R_WL_WORKSPACE] = "workspace",
    [S2R_WL_INFERENCE] = "inference"};

static const char *const volume_kinds[] = {
    [S2R_VOL_PVC] = "pvc", [S2R_VOL_NFS] = "nfs",
    [S2R_VOL_HOSTPATH] = "hostpath", [S2R_VOL_DATASOURCE] = "datasource"};

/* volumes, /dev/shm, identity and the -o/-e/-i files */
static void pod_to_json(json_object *o, const s2r_workload *wl)
{
    json_object *vols = json_object_new_array();
    for (size_t i = 0; vols && i < wl->n_volumes; i++) {
        const s2r_volume *v = &wl->volumes[i];
        json_object *e = json_object_new_object();
        json_object_object_add(e, "kind", json_object_new_string(
            volume_kinds[v->kind <= S2R_VOL_DATASOURCE ? v->kind : 0]));
        json_object_object_add(e, "path", jstr(v->path));
        json_object_object_add(e, "source", jstr(v->source));
        json_object_object_add(e, "server", jstr(v->server));
        json_object_object_add(e, "read_only",
                               json_object_new_boolean(v->read_only));
        json_object_array_add(vols, e);
    }
    json_object_object_add(o, "volumes", vols);
    json_object_object_add(o, "large_shm",
                           json_object_new_boolean(wl->large_shm));
    json_object_object_add(o, "run_as_user",
                           json_object_new_boolean(wl->run_as_user));
    if (wl->run_as_user) {
        json_object_object_add(o, "run_as_uid",
                               json_object_new_int64(wl->run_as_uid));
        json_object_object_add(o, "run_as_gid",
                               json_object_new_int64(wl->run_as_gid));
    }
    json_object_object_add(o, "supplemental_groups",
                           jstr(wl->supplemental_groups));
    json_object_object_add(o, "stdout_file", jstr(wl->stdout_file));
    json_object_object_add(o, "stderr_file", jstr(wl->stderr_file));
    json_object_object_add(o, "stdin_file", jstr(wl->stdin_file));
    json_object_object_add(o, "log_append",
                           json_object_new_boolean(wl->log_append));
    json_object_object_add(o, "user", jstr(wl->user));
}

const char *s2r_workload_kind_name(s2r_workload_kind k)
{
    return (size_t)k < sizeof(kind_names) / sizeof(kind_names[0])
               ? kind_names[k] : "standard";
}

json_object *s2r_workload_to_json(const s2r_workload *wl)
{
    json_object *o = json_object_new_object();
    if (!o)
        return NULL;
    json_object_object_add(o, "kind", json_object_new_string(s2r_workload_kind_name(wl->kind)));
    json_object_object_add(o, "name", jstr(wl->name));
    json_object_object_add(o, "source", jstr(wl->source));
    json_object_object_add(o, "project", jstr(wl->project));
    json_object_object_add(o, "pods", json_object_new_int64(wl->pods));
    json_object_object_add(o, "workers", json_object_new_int64(wl->workers));
    json_object_object_add(o, "slots_per_worker",
                           json_object_new_int64(wl->slots_per_worker));
    json_object_object_add(o, "gpus", json_object_new_int64(wl->gpus));
    json_object_object_add(o, "cpus", json_object_new_int64(wl->cpus));
    json_object_object_add(o, "memory_mib", json_object_new_int64(wl->memory_mib));
    json_object_object_add(o, "image", jstr(wl->image));
    json_object_object_add(o, "workdir", jstr(wl->workdir));
    json_object_object_add(o, "env", jenv(&wl->env));
    json_object_object_add(o, "command", jstrv(&wl->command));
    json_object_object_add(o, "command_is_args",
                           json_object_new_boolean(wl->command_is_args));
    json_object_object_add(o, "array_index_used",
                           json_object_new_boolean(wl->array_index_used));
    json_object_object_add(o, "launcher_command", jstrv(&wl->launcher_command));
    if (wl->worker_command.n)
        json_object_object_add(o, "worker_command",
                               jstrv(&wl->worker_command));
    json_object_object_add(o, "node_pools", jlist(wl->node_pools));
    json_object_object_add(o, "node_type", jstr(wl->node_type));
    json_object_object_add(o, "priority", jstr(wl->priority));
    json_object_object_add(o, "preemptibility", jstr(wl->preemptibility));
    json_object_object_add(o, "backoff_limit",
                           json_object_new_int64(wl->backoff_limit));
    json_object_object_add(o, "completions", json_object_new_int64(wl->completions));
    json_object_object_add(o, "parallelism", json_object_new_int64(wl->parallelism));
    json_object *ix = json_object_new_array();
    for (size_t i = 0; i < wl->n_array_indices; i++)
        json_object_array_add(ix, json_object_new_int(wl->array_indices[i]));
    json_object_object_add(o, "array_indices", ix);
    json_object_object_add(o, "time_limit_s", json_object_new_int64(wl->time_limit_s));
    if (wl->port > 0)
        json_object_object_add(o, "port", json_object_new_int(wl->port));
    if (wl->server)
        json_object_object_add(o, "server", jstr(wl->server));
    pod_to_json(o, wl);
    return o;
}

/* ---- reading ---- */

typedef struct rd {
    char *why;
    size_t why_len;
    int rc;
} rd;

static void bad(rd *r, const char *key, const char *want)
{
    if (r->rc == S2R_OK)
        snprintf(r->why, r->why_len, "\"%s\" must be %s", key, want);
    r->rc = S2R_EINVAL;
}

static void get_int(rd *r, json_object *o, const char *key, int64_t *out)
{
    json_object *v;
    if (!json_object_object_get_ex(o, key, &v) || !v)
        return;
    if (!json_object_is_type(v, json_type_int))
        return bad(r, key, "an integer");
    *out = json_object_get_int64(v);
}

static void get_bool(rd *r, json_object *o, const char *key, bool *out)
{
    json_object *v;
    if (!json_object_object_get_ex(o, key, &v) || !v)
        return;
    if (!json_object_is_type(v, json_type_boolean))
        return bad(r, key, "true or false");
    *out = json_object_get_boolean(v);
}

static void get_str(rd *r, json_object *o, const char *key, char **out)
{
    json_object *v;
    if (!json_object_object_get_ex(o, key, &v) || !v)
        return;
    if (!json_object_is_type(v, json_type_string))
        return bad(r, key, "a string");
    free(*out);
    *out = strdup(json_object_get_string(v));
    if (!*out)
        r->rc = S2R_ENOMEM;
}

static void get_strv(rd *r, json_object *o, const char *key, s2r_strv *out)
{
    json_object *v;
    if (!json_object_object_get_ex(o, key, &v) || !v)
        return;
    if (!json_object_is_type(v, json_type_array))
        return bad(r, key, "an array of strings");
    s2r_strv_clear(out);
    for (size_t i = 0; i < json_object_array_length(v); i++) {
        json_object *e = json_object_array_get_idx(v, i);
        if (!json_object_is_type(e, json_type_string))
            return bad(r, key, "an array of strings");
        if (s2r_strv_push(out, json_object_get_string(e)))
            r->rc = S2R_ENOMEM;
    }
}

static void get_env(rd *r, json_object *o, const char *key, s2r_envv *out)
{
    json_object *v;
    if (!json_object_object_get_ex(o, key, &v) || !v)
        return;
    if (!json_object_is_type(v, json_type_object))
        return bad(r, key, "an object of strings");
    s2r_envv_clear(out);
    json_object_object_foreach(v, k, val) {
        if (!json_object_is_type(val, json_type_string))
            return bad(r, key, "an object of strings");
        if (s2r_envv_set(out, k, json_object_get_string(val)))
            r->rc = S2R_ENOMEM;
    }
}

/* One volume of "volumes" into @p v (zeroed). */
static void get_volume(rd *r, json_object *e, s2r_volume *v)
{
    char *kind = NULL;
    if (!json_object_is_type(e, json_type_object))
        return bad(r, "volumes", "an array of objects");
    get_str(r, e, "kind", &kind);
    size_t k = 0;
    while (kind && k < sizeof(volume_kinds) / sizeof(volume_kinds[0]) &&
           strcmp(kind, volume_kinds[k]))
        k++;
    if (!kind || k == sizeof(volume_kinds) / sizeof(volume_kinds[0]))
        bad(r, "volumes", "objects of kind pvc, nfs, hostpath or datasource");
    v->kind = (s2r_volume_kind)k;
    free(kind);
    get_str(r, e, "path", &v->path);
    get_str(r, e, "source", &v->source);
    get_str(r, e, "server", &v->server);
    get_bool(r, e, "read_only", &v->read_only);
    if (r->rc == S2R_OK && (!v->path || v->path[0] != '/' || !v->source))
        bad(r, "volumes", "objects with an absolute \"path\" and a \"source\"");
}

static void pod_from_json(rd *r, json_object *o, s2r_workload *wl)
{
    json_object *vols;
    if (json_object_object_get_ex(o, "volumes", &vols) && vols) {
        if (!json_object_is_type(vols, json_type_array))
            return bad(r, "volumes", "an array of objects");
        size_t n = json_object_array_length(vols);
        wl->volumes = n ? calloc(n, sizeof(*wl->volumes)) : NULL;
        if (n && !wl->volumes)
            r->rc = S2R_ENOMEM;
        for (size_t i = 0; wl->volumes && i < n && r->rc == S2R_OK; i++) {
            wl->n_volumes = i + 1;
            get_volume(r, json_object_array_get_idx(vols, i), &wl->volumes[i]);
        }
    }
    get_bool(r, o, "large_shm", &wl->large_shm);
    get_bool(r, o, "run_as_user", &wl->run_as_user);
    wl->run_as_gid = -1;
    get_int(r, o, "run_as_uid", &wl->run_as_uid);
    get_int(r, o, "run_as_gid", &wl->run_as_gid);
    get_str(r, o, "supplemental_groups", &wl->supplemental_groups);
    get_str(r, o, "stdout_file", &wl->stdout_file);
    get_str(r, o, "stderr_file", &wl->stderr_file);
    get_str(r, o, "stdin_file", &wl->stdin_file);
    get_bool(r, o, "log_append", &wl->log_append);
    get_str(r, o, "user", &wl->user);
}

int s2r_workload_from_json(s2r_workload *wl, json_object *o, char *why,
                           size_t why_len)
{
    memset(wl, 0, sizeof(*wl));
    rd r = {why, why_len, S2R_OK};
    if (!o || !json_object_is_type(o, json_type_object)) {
        snprintf(why, why_len, "a workload must be a JSON object");
        return S2R_EINVAL;
    }
    char *kind = NULL;
    get_str(&r, o, "kind", &kind);
    if (kind) {
        size_t k = 0;
        while (k < sizeof(kind_names) / sizeof(kind_names[0]) &&
               strcmp(kind, kind_names[k]))
            k++;
        if (k < sizeof(kind_names) / sizeof(kind_names[0]))
            wl->kind = (s2r_workload_kind)k;
        else
            bad(&r, "kind", "standard, pytorch, mpi, workspace or inference");
        free(kind);
    }
    get_str(&r, o, "name", &wl->name);
    get_str(&r, o, "source", &wl->source);
    get_str(&r, o, "project", &wl->project);
    get_int(&r, o, "pods", &wl->pods);
    get_int(&r, o, "workers", &wl->workers);
    get_int(&r, o, "slots_per_worker", &wl->slots_per_worker);
    get_int(&r, o, "gpus", &wl->gpus);
    get_int(&r, o, "cpus", &wl->cpus);
    get_int(&r, o, "memory_mib", &wl->memory_mib);
    get_str(&r, o, "image", &wl->image);
    get_str(&r, o, "workdir", &wl->workdir);
    get_env(&r, o, "env", &wl->env);
    get_strv(&r, o, "command", &wl->command);
    get_strv(&r, o, "launcher_command", &wl->launcher_command);
    get_strv(&r, o, "worker_command", &wl->worker_command);
    get_bool(&r, o, "command_is_args", &wl->command_is_args);
    get_bool(&r, o, "array_index_used", &wl->array_index_used);
    s2r_strv pools = {0};
    get_strv(&r, o, "node_pools", &pools);
    if (pools.n && !(wl->node_pools = s2r_strv_list(&pools)))
        r.rc = S2R_ENOMEM;
    s2r_strv_clear(&pools);
    get_str(&r, o, "node_type", &wl->node_type);
    get_str(&r, o, "priority", &wl->priority);
    get_str(&r, o, "preemptibility", &wl->preemptibility);
    get_int(&r, o, "backoff_limit", &wl->backoff_limit);
    get_int(&r, o, "completions", &wl->completions);
    get_int(&r, o, "parallelism", &wl->parallelism);
    json_object *ix;
    if (json_object_object_get_ex(o, "array_indices", &ix) && ix &&
        json_object_is_type(ix, json_type_array) && json_object_array_length(ix)) {
        size_t n = json_object_array_length(ix);
        wl->array_indices = calloc(n, sizeof(int32_t));
        if (!wl->array_indices)
            r.rc = S2R_ENOMEM;
        for (size_t i = 0; wl->array_indices && i < n; i++)
            wl->array_indices[i] = json_object_get_int(json_object_array_get_idx(ix, i));
        wl->n_array_indices = wl->array_indices ? n : 0;
    }
    get_int(&r, o, "time_limit_s", &wl->time_limit_s);
    int64_t port = 0;
    get_int(&r, o, "port", &port);
    wl->port = port > 0 && port < 65536 ? (int)port : 0;
    get_str(&r, o, "server", &wl->server);
    pod_from_json(&r, o, wl);
    if (r.rc == S2R_OK && (!wl->name || !wl->image)) {
        snprintf(why, why_len, "a workload needs \"name\" and \"image\"");
        r.rc = S2R_EINVAL;
    }
    if (r.rc != S2R_OK)
        s2r_workload_free(wl);
    return r.rc;
}

int s2r_workload_copy(s2r_workload *dst, const s2r_workload *src)
{
    json_object *o = s2r_workload_to_json(src);
    if (!o)
        return S2R_ENOMEM;
    char why[128];
    int rc = s2r_workload_from_json(dst, o, why, sizeof(why));
    json_object_put(o);
    return rc == S2R_EINVAL ? S2R_ERROR : rc;
}
