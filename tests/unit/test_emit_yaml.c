/* test_emit_yaml.c: `--format yaml`. The output is parsed back with
 * libyaml's parser and checked field by field; the array wrapper is run
 * with bash; when shared/tools/validate-k8s and python3-jsonschema are
 * available, every kind is also checked against the strict schemas. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cmocka.h>
#include <yaml.h>

#include <s2r/s2r.h>
#include "shell/shell.h"
#include "runai/runai.h"
#include "runai/emit_common.h"
#include "emit_fixtures.h"

/* ---- helpers ------------------------------------------------------ */

static void base_workload(s2r_workload *wl, s2r_workload_kind kind)
{
    base_workload_in(wl, kind, "/scratch/lab-a/run");
}

static char *emit_ok(const s2r_workload *wl, s2r_diags *d)
{
    char *out = NULL;
    assert_int_equal(s2r_emit_yaml(&out, wl, NULL, d), 0);
    assert_non_null(out);
    return out;
}

/* Parse @p text; assert it holds exactly one document. */
static void parse_one(yaml_document_t *doc, const char *text)
{
    yaml_parser_t p;
    assert_true(yaml_parser_initialize(&p));
    yaml_parser_set_input_string(&p, (const unsigned char *)text,
                                 strlen(text));
    assert_true(yaml_parser_load(&p, doc));
    assert_non_null(yaml_document_get_root_node(doc));
    yaml_document_t next;
    assert_true(yaml_parser_load(&p, &next));
    assert_null(yaml_document_get_root_node(&next)); /* end of stream */
    yaml_document_delete(&next);
    yaml_parser_delete(&p);
}

/* Follow keys (or "N" indexes in sequences) from the root; NULL when a
 * step is missing. The path ends with NULL. */
static yaml_node_t *vget(yaml_document_t *doc, yaml_node_t *n, va_list ap)
{
    const char *k;
    while (n && (k = va_arg(ap, const char *))) {
        yaml_node_t *found = NULL;
        if (n->type == YAML_MAPPING_NODE) {
            for (yaml_node_pair_t *pr = n->data.mapping.pairs.start;
                 pr < n->data.mapping.pairs.top && !found; pr++) {
                yaml_node_t *key = yaml_document_get_node(doc, pr->key);
                if (key->type == YAML_SCALAR_NODE &&
                    strcmp((const char *)key->data.scalar.value, k) == 0)
                    found = yaml_document_get_node(doc, pr->value);
            }
        } else if (n->type == YAML_SEQUENCE_NODE) {
            long i = atol(k);
            yaml_node_item_t *it = n->data.sequence.items.start + i;
            if (it < n->data.sequence.items.top)
                found = yaml_document_get_node(doc, *it);
        }
        n = found;
    }
    return n;
}

static yaml_node_t *get(yaml_document_t *doc, ...)
{
    va_list ap;
    va_start(ap, doc);
    yaml_node_t *n = vget(doc, yaml_document_get_root_node(doc), ap);
    va_end(ap);
    return n;
}

/* the same from node @p from */
static yaml_node_t *sub(yaml_document_t *doc, yaml_node_t *from, ...)
{
    va_list ap;
    va_start(ap, from);
    yaml_node_t *n = vget(doc, from, ap);
    va_end(ap);
    return n;
}

static const char *sval(yaml_node_t *n)
{
    assert_non_null(n);
    assert_int_equal(n->type, YAML_SCALAR_NODE);
    return (const char *)n->data.scalar.value;
}

static size_t nitems(yaml_node_t *n)
{
    assert_non_null(n);
    if (n->type == YAML_SEQUENCE_NODE)
        return (size_t)(n->data.sequence.items.top -
                        n->data.sequence.items.start);
    assert_int_equal(n->type, YAML_MAPPING_NODE);
    return (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
}

/* a string that must not read back as another type: quoted */
static void assert_quoted(yaml_node_t *n, const char *want)
{
    assert_string_equal(sval(n), want);
    assert_int_not_equal(n->data.scalar.style, YAML_PLAIN_SCALAR_STYLE);
}

/* an integer: plain */
static void assert_int_node(yaml_node_t *n, const char *want)
{
    assert_string_equal(sval(n), want);
    assert_int_equal(n->data.scalar.style, YAML_PLAIN_SCALAR_STYLE);
}

/* Every YAML a test produces is kept in one folder and checked in one
 * run of shared/tools/validate-k8s at the end (it loads the CRD schemas,
 * which takes a while). Test-only state, single-threaded. */
static char g_dir[] = "/tmp/s2r-yaml-XXXXXX";
static int g_count;

static int group_setup(void **state)
{
    (void)state;
    return mkdtemp(g_dir) ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    char cmd[64];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", g_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static bool validate_k8s(const char *text)
{
    char path[64];
    snprintf(path, sizeof(path), "%s/%03d.yaml", g_dir, ++g_count);
    FILE *f = fopen(path, "w");
    if (!f)
        return false;
    fputs(text, f);
    return fclose(f) == 0;
}

static const char *validate_tool(char *buf, size_t n)
{
    const char *shared = getenv("S2R_SHARED_DIR");
    const char *src = getenv("S2R_SOURCE_DIR");
    if (shared)
        snprintf(buf, n, "%s/tools/validate-k8s", shared);
    else
        snprintf(buf, n, "%s/../shared/tools/validate-k8s", src ? src : ".");
    if (access(buf, X_OK) != 0 ||
        system("python3 -c 'import jsonschema, yaml' 2>/dev/null") != 0)
        return NULL;
    return buf;
}

/* runs last: the strict Job / PyTorchJob / MPIJob schemas */
static void test_emit_yaml__strict_schemas_accept_every_output(void **state)
{
    (void)state;
    char tool[4096], cmd[4200];
    assert_true(g_count >= 7);
    if (!validate_tool(tool, sizeof(tool)))
        skip();
    snprintf(cmd, sizeof(cmd), "'%s' %s/*.yaml >&2", tool, g_dir);
    assert_int_equal(system(cmd), 0);
}

/* ---- Job ---------------------------------------------------------- */

static void test_emit_yaml__job_fields(void **state)
{
    (void)state;
    s2r_workload wl;
    base_workload(&wl, S2R_WL_STANDARD);
    wl.node_pools = strlist("a100", NULL);
    wl.node_type = strdup("dgx");
    s2r_diags d = {0};
    char *out = emit_ok(&wl, &d);
    assert_int_equal(d.n, 0);
    assert_memory_equal(out, "apiVersion: batch/v1\nkind: Job\n", 30);
    yaml_document_t doc;
    parse_one(&doc, out);
    assert_string_equal(sval(get(&doc, "metadata", "name", NULL)),
                        "train-resnet");
    assert_string_equal(
        sval(get(&doc, "metadata", "labels", "priorityClassName", NULL)),
        "low");
    assert_string_equal(sval(get(&doc, "metadata", "labels",
                                 "kai.scheduler/preemptibility", NULL)),
                        "preemptible");
    assert_int_node(get(&doc, "spec", "backoffLimit", NULL), "0");
    assert_null(get(&doc, "spec", "activeDeadlineSeconds", NULL));
    assert_null(get(&doc, "spec", "completions", NULL));
    assert_string_equal(sval(get(&doc, "spec", "template", "metadata",
                                 "labels", "runai/node-pool", NULL)),
                        "a100");
    yaml_node_t *ps = get(&doc, "spec", "template", "spec", NULL);
    assert_non_null(ps);
    assert_string_equal(sval(get(&doc, "spec", "template", "spec",
                                 "restartPolicy", NULL)),
                        "Never");
    assert_string_equal(sval(get(&doc, "spec", "template", "spec",
                                 "nodeSelector", "run.ai/type", NULL)),
                        "dgx");
    assert_int_equal(
        nitems(get(&doc, "spec", "template", "spec", "containers", NULL)), 1);
#define C(...) get(&doc, "spec", "template", "spec", "containers", "0", \
                   __VA_ARGS__, NULL)
    assert_string_equal(sval(C("name")), "main");
    assert_string_equal(sval(C("image")),
                        "nvcr.io/nvidia/pytorch:24.05-py3");
    /* the pod script runs the command given after it */
    assert_int_equal(nitems(C("command")), 8);
    assert_string_equal(sval(C("command", "0")), "bash");
    assert_string_equal(sval(C("command", "1")), "-c");
    assert_string_equal(sval(C("command", "2")), POD_SCRIPT_TRAIN_RESNET);
    assert_string_equal(sval(C("command", "3")), "s2r-job");
    assert_string_equal(sval(C("command", "4")), "python");
    assert_string_equal(sval(C("command", "5")), "train.py");
    assert_string_equal(sval(C("command", "6")), "--epochs");
    assert_quoted(C("command", "7"), "10");
    assert_null(C("args"));
    assert_string_equal(sval(C("workingDir")), "/scratch/lab-a/run");
    assert_string_equal(sval(C("env", "0", "name")), "OMP_NUM_THREADS");
    assert_quoted(C("env", "0", "value"), "8");
    assert_quoted(C("resources", "requests", "cpu"), "16");
    assert_quoted(C("resources", "requests", "memory"), "32Gi");
    assert_quoted(C("resources", "limits", "memory"), "32Gi");
    assert_quoted(C("resources", "limits", "nvidia.com/gpu"), "2");
    assert_null(C("resources", "limits", "cpu"));
#undef C
    yaml_document_delete(&doc);
    assert_true(validate_k8s(out));
    free(out);
    s2r_diags_clear(&d);
    s2r_workload_free(&wl);
}

static void test_emit_yaml__priority_and_time_limit(void **state)
{
    (void)state;
    s2r_workload wl;
    base_workload(&wl, S2R_WL_STANDARD);
    wl.priority = strdup("very-high");
    wl.preemptibility = strdup("non-preemptible");
    wl.time_limit_s = 86400;
    wl.gpus = 0;
    wl.memory_mib = 0;
    s2r_diags d = {0};
    char *out = emit_ok(&wl, &d);
    assert_false(s2r_diags_has_option(&d, "time")); /* YAML carries it */
    yaml_document_t doc;
    parse_one(&doc, out);
    assert_string_equal(
        sval(get(&doc, "metadata", "labels", "priorityClassName", NULL)),
        "very-high");
    assert_string_equal(sval(get(&doc, "metadata", "labels",
                                 "kai.scheduler/preemptibility", NULL)),
                        "non-preemptible");
    /* on the pod, from its start: the Job's would count the queue too */
    assert_null(get(&doc, "spec", "activeDeadlineSeconds", NULL));
    assert_int_node(get(&doc, "spec", "template", "spec",
                        "activeDeadlineSeconds", NULL), "86400");
    yaml_node_t *res = get(&doc, "spec", "template", "spec", "containers",
                           "0", "resources", NULL);
    assert_int_equal(nitems(res), 1); /* requests only: no limits */
    assert_null(get(&doc, "spec", "template", "metadata", NULL));
    yaml_document_delete(&doc);
    assert_true(validate_k8s(out));
    free(out);
    s2r_diags_clear(&d);
    s2r_workload_free(&wl);
}

/* Run the container command of an array Job for one completion index
 * with `printenv` as the program; return SLURM_ARRAY_TASK_ID. */
static int array_task_id(yaml_document_t *doc, int index)
{
#define C(...) get(doc, "spec", "template", "spec", "containers", "0", \
                   __VA_ARGS__, NULL)
    assert_string_equal(sval(C("command", "0")), "bash");
    assert_string_equal(sval(C("command", "1")), "-c");
    char *body = s2r_shell_quote(sval(C("command", "2")));
    char *arg0 = s2r_shell_quote(sval(C("command", "3")));
#undef C
    size_t n = strlen(body) + strlen(arg0) + 128;
    char *cmd = malloc(n);
    assert_non_null(cmd);
    snprintf(cmd, n,
             "JOB_COMPLETION_INDEX=%d bash -c %s %s sh -c "
             "'echo $SLURM_ARRAY_TASK_ID'",
             index, body, arg0);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    int v = -1;
    assert_int_equal(fscanf(p, "%d", &v), 1);
    assert_int_equal(pclose(p), 0);
    free(cmd);
    free(body);
    free(arg0);
    return v;
}

static void test_emit_yaml__array_is_indexed_job(void **state)
{
    (void)state;
    s2r_workload wl;
    base_workload(&wl, S2R_WL_STANDARD);
    static const int32_t ix[] = {1, 3, 5, 7, 9};
    wl.completions = 5;
    wl.parallelism = 2;
    wl.n_array_indices = 5;
    wl.array_indices = malloc(sizeof(ix));
    memcpy(wl.array_indices, ix, sizeof(ix));
    char *out = emit_ok(&wl, NULL);
    yaml_document_t doc;
    parse_one(&doc, out);
    assert_string_equal(sval(get(&doc, "spec", "completionMode", NULL)),
                        "Indexed");
    assert_int_node(get(&doc, "spec", "completions", NULL), "5");
    assert_int_node(get(&doc, "spec", "parallelism", NULL), "2");
    /* a failed task stops only its own index, as in SLURM */
    assert_int_node(get(&doc, "spec", "backoffLimitPerIndex", NULL), "0");
    assert_null(get(&doc, "spec", "backoffLimit", NULL));
    /* the workload's own argv follows the wrapper unchanged */
    yaml_node_t *cmd = get(&doc, "spec", "template", "spec", "containers",
                           "0", "command", NULL);
    assert_int_equal(nitems(cmd), 8);
    assert_string_equal(sval(get(&doc, "spec", "template", "spec",
                                 "containers", "0", "command", "4", NULL)),
                        "python");
    for (int i = 0; i < 5; i++)
        assert_int_equal(array_task_id(&doc, i), ix[i]);
    yaml_document_delete(&doc);
    assert_true(validate_k8s(out));
    free(out);

    /* a contiguous range maps by offset */
    static const int32_t range[] = {4, 5, 6};
    wl.completions = 3;
    wl.parallelism = 0;
    wl.n_array_indices = 3;
    memcpy(wl.array_indices, range, sizeof(range));
    out = emit_ok(&wl, NULL);
    parse_one(&doc, out);
    assert_int_node(get(&doc, "spec", "parallelism", NULL), "3");
    assert_non_null(strstr(out, "$((JOB_COMPLETION_INDEX + 4))"));
    for (int i = 0; i < 3; i++)
        assert_int_equal(array_task_id(&doc, i), range[i]);
    yaml_document_delete(&doc);
    free(out);
    s2r_workload_free(&wl);
}

/* Slurm limits each array task: the pod template carries the limit, the
 * Job none */
static void test_emit_yaml__array_time_limit_is_per_task(void **state)
{
    (void)state;
    s2r_workload wl;
    base_workload(&wl, S2R_WL_STANDARD);
    wl.completions = 10;
    wl.parallelism = 2;
    wl.time_limit_s = 600;
    s2r_diags d = {0};
    char *out = emit_ok(&wl, &d);
    yaml_document_t doc;
    parse_one(&doc, out);
    assert_int_node(get(&doc, "spec", "template", "spec",
                        "activeDeadlineSeconds", NULL), "600");
    assert_null(get(&doc, "spec", "activeDeadlineSeconds", NULL));
    assert_false(s2r_diags_has_option(&d, "time"));
    yaml_document_delete(&doc);
    free(out);
    s2r_diags_clear(&d);
    s2r_workload_free(&wl);
}

/* ---- PyTorchJob --------------------------------------------------- */

static void test_emit_yaml__pytorchjob_master_and_workers(void **state)
{
    (void)state;
    s2r_workload wl;
    base_workload(&wl, S2R_WL_PYTORCH);
    wl.pods = 4;
    wl.workers = 3;
    wl.time_limit_s = 3600;
    wl.node_type = strdup("h100");
    char *out = emit_ok(&wl, NULL);
    yaml_document_t doc;
    parse_one(&doc, out);
    assert_string_equal(sval(get(&doc, "apiVersion", NULL)),
                        "kubeflow.org/v1");
    assert_string_equal(sval(get(&doc, "kind", NULL)), "PyTorchJob");
    assert_int_node(get(&doc, "spec", "runPolicy", "backoffLimit", NULL),
                    "0");
    assert_string_equal(
        sval(get(&doc, "spec", "runPolicy", "cleanPodPolicy", NULL)), "None");
    assert_int_node(
        get(&doc, "spec", "runPolicy", "activeDeadlineSeconds", NULL),
        "3600");
    const char *roles[] = {"Master", "Worker"};
    const char *replicas[] = {"1", "3"};
    for (int r = 0; r < 2; r++) {
        assert_int_node(get(&doc, "spec", "pytorchReplicaSpecs", roles[r],
                            "replicas", NULL),
                        replicas[r]);
        assert_string_equal(sval(get(&doc, "spec", "pytorchReplicaSpecs",
                                     roles[r], "restartPolicy", NULL)),
                            "Never");
#define C(...) get(&doc, "spec", "pytorchReplicaSpecs", roles[r], "template", \
                   "spec", "containers", "0", __VA_ARGS__, NULL)
        assert_string_equal(sval(C("name")), "pytorch");
        assert_string_equal(sval(C("command", "5")), "train.py");
        assert_quoted(C("resources", "limits", "nvidia.com/gpu"), "2");
        assert_string_equal(sval(C("env", "0", "name")), "OMP_NUM_THREADS");
#undef C
        assert_string_equal(
            sval(get(&doc, "spec", "pytorchReplicaSpecs", roles[r],
                     "template", "spec", "nodeSelector", "run.ai/type",
                     NULL)),
            "h100");
    }
    yaml_document_delete(&doc);
    assert_true(validate_k8s(out));
    free(out);

    wl.workers = 0; /* one node: the master alone */
    out = emit_ok(&wl, NULL);
    parse_one(&doc, out);
    assert_int_equal(nitems(get(&doc, "spec", "pytorchReplicaSpecs", NULL)),
                     1);
    assert_null(get(&doc, "spec", "pytorchReplicaSpecs", "Worker", NULL));
    yaml_document_delete(&doc);
    assert_true(validate_k8s(out));
    free(out);
    s2r_workload_free(&wl);
}

/* ---- MPIJob ------------------------------------------------------- */

static void test_emit_yaml__mpijob_launcher_and_workers(void **state)
{
    (void)state;
    s2r_workload wl;
    base_workload(&wl, S2R_WL_MPI);
    wl.pods = 4;
    wl.workers = 4;
    wl.slots_per_worker = 32;
    wl.gpus = 0;
    const char *l[] = {"mpirun", "--bind-to", "none", "./bin/solver", NULL};
    push_all(&wl.launcher_command, l);
    char *out = emit_ok(&wl, NULL);
    yaml_document_t doc;
    parse_one(&doc, out);
    assert_string_equal(sval(get(&doc, "apiVersion", NULL)),
                        "kubeflow.org/v2beta1");
    assert_string_equal(sval(get(&doc, "kind", NULL)), "MPIJob");
    assert_int_node(get(&doc, "spec", "slotsPerWorker", NULL), "32");
    assert_string_equal(
        sval(get(&doc, "spec", "runPolicy", "cleanPodPolicy", NULL)),
        "Running");
    assert_string_equal(sval(get(&doc, "spec", "sshAuthMountPath", NULL)),
                        "/root/.ssh");
#define L(...) get(&doc, "spec", "mpiReplicaSpecs", "Launcher", "template", \
                   "spec", "containers", "0", __VA_ARGS__, NULL)
#define W(...) get(&doc, "spec", "mpiReplicaSpecs", "Worker", "template", \
                   "spec", "containers", "0", __VA_ARGS__, NULL)
    assert_int_node(
        get(&doc, "spec", "mpiReplicaSpecs", "Launcher", "replicas", NULL),
        "1");
    assert_string_equal(sval(L("name")), "launcher");
    assert_int_equal(nitems(L("command")), 8);
    assert_string_equal(sval(L("command", "0")), "bash");
    assert_string_equal(sval(L("command", "4")), "mpirun");
    assert_string_equal(sval(L("command", "7")), "./bin/solver");
    assert_quoted(L("resources", "requests", "cpu"), "1");
    assert_quoted(L("resources", "requests", "memory"), "2Gi");
    assert_string_equal(sval(L("image")), "nvcr.io/nvidia/pytorch:24.05-py3");
    assert_string_equal(sval(L("workingDir")), "/scratch/lab-a/run");
    assert_quoted(L("env", "0", "value"), "8");
    assert_int_node(
        get(&doc, "spec", "mpiReplicaSpecs", "Worker", "replicas", NULL),
        "4");
    assert_string_equal(sval(W("name")), "worker");
    assert_null(W("command"));
    assert_quoted(W("resources", "requests", "cpu"), "16");
    assert_quoted(W("resources", "limits", "memory"), "32Gi");
    assert_null(W("resources", "limits", "nvidia.com/gpu"));
    assert_quoted(W("env", "0", "value"), "8");
#undef L
#undef W
    yaml_document_delete(&doc);
    assert_true(validate_k8s(out));
    free(out);
    s2r_workload_free(&wl);
}

/* ---- storage, /dev/shm, identity: on every pod ---------------------- */

/* The volumes and mounts of the pod spec at @p spec ... (NULL-ended
 * path to it): the [storage] entries, /dev/shm, the securityContext. */
static void assert_pod_storage(yaml_document_t *doc, yaml_node_t *spec,
                               const char *shm_limit)
{
    (void)doc;
#define P(...) sub(doc, spec, __VA_ARGS__, NULL)
    assert_int_node(P("securityContext", "runAsUser"), "1000");
    assert_int_node(P("securityContext", "runAsGroup"), "100");
    assert_int_node(P("securityContext", "supplementalGroups", "1"), "2001");
    /* three [storage] volumes (a data source has no manifest form) */
    assert_int_equal(nitems(P("volumes")), 4);
    assert_string_equal(sval(P("volumes", "0", "name")), "project");
    assert_string_equal(sval(P("volumes", "0", "persistentVolumeClaim",
                               "claimName")), "project");
    assert_string_equal(sval(P("volumes", "1", "nfs", "server")),
                        "nfs.example.org");
    assert_string_equal(sval(P("volumes", "1", "nfs", "path")),
                        "/export/home");
    assert_string_equal(sval(P("volumes", "2", "hostPath", "path")),
                        "/mnt/datasets");
    assert_string_equal(sval(P("volumes", "3", "name")), "dshm");
    assert_string_equal(sval(P("volumes", "3", "emptyDir", "medium")),
                        "Memory");
    assert_quoted(P("volumes", "3", "emptyDir", "sizeLimit"), shm_limit);
#define M(...) P("containers", "0", "volumeMounts", __VA_ARGS__)
    assert_int_equal(nitems(M(NULL)), 4);
    assert_string_equal(sval(M("0", "mountPath")), "/project");
    assert_string_equal(sval(M("1", "mountPath")), "/home");
    assert_string_equal(sval(M("2", "mountPath")), "/datasets");
    assert_string_equal(sval(M("2", "readOnly")), "true");
    assert_string_equal(sval(M("3", "mountPath")), "/dev/shm");
    assert_string_equal(sval(M("3", "name")), "dshm");
#undef M
#undef P
}

static void test_emit_yaml__storage_shm_identity_on_every_pod(void **state)
{
    (void)state;
    for (int k = S2R_WL_STANDARD; k <= S2R_WL_MPI; k++) {
        s2r_workload wl;
        base_workload(&wl, (s2r_workload_kind)k);
        add_volumes(&wl);
        wl.large_shm = true;
        wl.run_as_user = true;
        wl.run_as_uid = 1000;
        wl.run_as_gid = 100;
        wl.supplemental_groups = strdup("2000,2001");
        wl.workers = 2;
        if (k == S2R_WL_MPI) {
            const char *l[] = {"mpirun", "app", NULL};
            push_all(&wl.launcher_command, l);
        }
        s2r_diags d = {0};
        char *out = emit_ok(&wl, &d);
        /* the data source is said, not dropped */
        assert_int_equal(s2r_diags_count(&d, S2R_SEV_WARNING), 1);
        assert_non_null(strstr(d.v[0].message, "weights"));
        yaml_document_t doc;
        parse_one(&doc, out);
        static const char *const groups[][2] = {
            {"Master", "Worker"}, {"Launcher", "Worker"}};
        if (k == S2R_WL_STANDARD) {
            assert_pod_storage(&doc, get(&doc, "spec", "template", "spec",
                                         NULL), "32Gi");
        } else {
            const char *key = k == S2R_WL_PYTORCH ? "pytorchReplicaSpecs"
                                                  : "mpiReplicaSpecs";
            for (int g = 0; g < 2; g++) {
                const char *role = groups[k - S2R_WL_PYTORCH][g];
                bool launcher = !strcmp(role, "Launcher");
                assert_pod_storage(&doc,
                                   get(&doc, "spec", key, role, "template",
                                       "spec", NULL),
                                   launcher ? "2Gi" : "32Gi");
            }
        }
        yaml_document_delete(&doc);
        assert_true(validate_k8s(out));
        free(out);
        s2r_diags_clear(&d);
        s2r_workload_free(&wl);
    }
}

/* ---- quoting ------------------------------------------------------ */

static void test_emit_yaml__ambiguous_strings_are_quoted(void **state)
{
    (void)state;
    static const char *const vals[] = {
        "0", "yes", "No", "ON", "y", "1e3", ":", "null", "~", "", "true",
        "- x", "#c", "a: b", "0x1F", "1:20", "2024-01-01", ".inf", "@x",
        "multi\nline", "  lead", "trail  ", "\xc3\xbcn\xc3\xaf", "*ref",
        "&anchor", "!tag", "{a: 1}", "[1]", "%x", "'q'", "\"dq\"", "-1",
        "+1", "3.0", "<<", "=", "|", ">", "?", "NaN", "x\ty", "back\\slash",
        NULL};
    s2r_workload wl;
    base_workload(&wl, S2R_WL_STANDARD);
    s2r_envv_clear(&wl.env);
    char name[16];
    for (size_t i = 0; vals[i]; i++) {
        snprintf(name, sizeof(name), "V%zu", i);
        assert_int_equal(s2r_envv_set(&wl.env, name, vals[i]), 0);
    }
    s2r_strv_clear(&wl.command);
    push_all(&wl.command, vals);
    char *out = emit_ok(&wl, NULL);
    yaml_document_t doc;
    parse_one(&doc, out);
    for (size_t i = 0; vals[i]; i++) {
        char ix[16], cx[16];
        snprintf(ix, sizeof(ix), "%zu", i);
        snprintf(cx, sizeof(cx), "%zu", i + 4); /* after the pod script */
        yaml_node_t *v = get(&doc, "spec", "template", "spec", "containers",
                             "0", "env", ix, "value", NULL);
        yaml_node_t *c = get(&doc, "spec", "template", "spec", "containers",
                             "0", "command", cx, NULL);
        assert_string_equal(sval(v), vals[i]);
        assert_string_equal(sval(c), vals[i]);
        /* these read back as the same string even when plain; all the
         * others could be read as another type or need quotes anyway */
        static const char *const plain_ok[] = {"NaN", "x\ty", "back\\slash",
                                               "a: b"};
        bool may_be_plain = false;
        for (size_t k = 0; k < sizeof(plain_ok) / sizeof(plain_ok[0]); k++)
            may_be_plain |= strcmp(vals[i], plain_ok[k]) == 0;
        if (!may_be_plain) {
            assert_int_not_equal(v->data.scalar.style,
                                 YAML_PLAIN_SCALAR_STYLE);
            assert_int_not_equal(c->data.scalar.style,
                                 YAML_PLAIN_SCALAR_STYLE);
        }
    }
    yaml_document_delete(&doc);
    assert_true(validate_k8s(out)); /* env values must still be strings */
    free(out);
    s2r_workload_free(&wl);
}

static void test_emit_yaml__multiline_body_is_a_literal_block(void **state)
{
    (void)state;
    s2r_workload wl;
    base_workload(&wl, S2R_WL_STANDARD);
    s2r_strv_clear(&wl.command);
    const char *cmd[] = {"bash", "-c",
                         "module load cuda\ncd /data\npython train.py", NULL};
    push_all(&wl.command, cmd);
    char *out = emit_ok(&wl, NULL);
    assert_non_null(strstr(out, "        - |\n"
                                "          s2r_id="));
    assert_non_null(strstr(out, "\n          module load cuda\n"
                                "          cd /data\n"
                                "          python train.py\n"));
    free(out);
    s2r_workload_free(&wl);
}

/* ---- words: the scalars the writer takes as plain unseen ---------- */

static void no_op(void *ctx)
{
    (void)ctx;
}

/* a word must be one in the writer's eyes, and, unless it is an integer
 * or a boolean, read back as the string it is (as str() would ask) */
static void check_word(void *ctx, const char *s, size_t len,
                       s2r_yaml_style style)
{
    assert_int_equal(len, strlen(s)); /* every scalar's length is its own */
    if (style != S2R_YAML_WORD)
        return;
    ++*(size_t *)ctx;
    assert_true(s2r_yaml_is_word(s, strlen(s)));
    size_t i = s[0] == '-';
    if ((s[i] && strspn(s + i, "0123456789") == strlen(s + i)) ||
        !strcmp(s, "true") || !strcmp(s, "false"))
        return;
    static const char *const other[] = {"y", "n", "yes", "no", "true",
                                         "false", "on", "off", "null"};
    bool letter = (s[0] >= 'a' && s[0] <= 'z') ||
                  (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '/';
    if (!letter)
        fail_msg("word '%s' does not start with a letter or '/'", s);
    for (size_t k = 0; k < sizeof(other) / sizeof(other[0]); k++)
        if (!strcasecmp(s, other[k]))
            fail_msg("word '%s' reads as another type", s);
}

static void test_emit_yaml__every_word_is_plain(void **state)
{
    (void)state;
    static const s2r_emit__events words = {no_op, no_op, no_op, no_op,
                                           check_word};
    for (int k = S2R_WL_STANDARD; k <= S2R_WL_INFERENCE; k++)
        for (int variant = 0; variant < 2; variant++) {
            s2r_workload wl;
            base_workload(&wl, (s2r_workload_kind)k);
            wl.workers = 2;
            wl.slots_per_worker = 4;
            wl.time_limit_s = 3600;
            wl.port = 8888;
            wl.command_is_args = variant;
            const char *l[] = {"mpirun", "app", NULL};
            push_all(&wl.launcher_command, l);
            const char *wc[] = {"/usr/sbin/sshd", "-D", NULL};
            push_all(&wl.worker_command, wc);
            if (variant) {
                add_volumes(&wl);
                wl.large_shm = true;
                wl.run_as_user = true;
                wl.run_as_uid = 1000;
                wl.run_as_gid = 100;
                wl.supplemental_groups = strdup("2000,-1");
                wl.node_pools = strlist("a", "b");
                wl.node_type = strdup("dgx");
                wl.completions = 4;
                wl.parallelism = 2;
                wl.backoff_limit = 3;
            }
            size_t n = 0;
            assert_int_equal(s2r_emit__manifest(&words, &n, &wl), S2R_OK);
            assert_true(n > 20);
            s2r_workload_free(&wl);
        }
    /* integers at their extremes */
    assert_true(s2r_yaml_is_word("-9223372036854775808", 20));
    assert_true(s2r_yaml_is_word("9223372036854775807", 19));
    assert_true(s2r_yaml_is_word("0", 1));
    /* and what is no word */
    assert_false(s2r_yaml_is_word("", 0));
    assert_false(s2r_yaml_is_word("a: b", 4));
    assert_false(s2r_yaml_is_word("- x", 3));
    assert_false(s2r_yaml_is_word("x\ny", 3));
}

/* ---- diagnostics -------------------------------------------------- */

static void test_emit_yaml__extra_node_pools_warn(void **state)
{
    (void)state;
    s2r_workload wl;
    base_workload(&wl, S2R_WL_STANDARD);
    wl.node_pools = strlist("a", "b");
    s2r_diags d = {0};
    char *out = emit_ok(&wl, &d);
    assert_true(s2r_diags_has_option(&d, "partition"));
    assert_non_null(strstr(out, "runai/node-pool: a\n"));
    free(out);
    s2r_diags_clear(&d);
    s2r_workload_free(&wl);
}

static void test_emit_yaml__invalid_utf8_is_an_error(void **state)
{
    (void)state;
    s2r_workload wl;
    base_workload(&wl, S2R_WL_STANDARD);
    assert_int_equal(s2r_envv_set(&wl.env, "X", "caf\xe9"), 0);
    s2r_diags d = {0};
    char *out = (char *)1;
    assert_int_equal(s2r_emit_yaml(&out, &wl, NULL, &d), S2R_EINVAL);
    assert_null(out);
    assert_int_equal(s2r_diags_count(&d, S2R_SEV_ERROR), 1);
    s2r_diags_clear(&d);
    s2r_workload_free(&wl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_emit_yaml__job_fields),
        cmocka_unit_test(test_emit_yaml__priority_and_time_limit),
        cmocka_unit_test(test_emit_yaml__array_is_indexed_job),
        cmocka_unit_test(test_emit_yaml__array_time_limit_is_per_task),
        cmocka_unit_test(test_emit_yaml__pytorchjob_master_and_workers),
        cmocka_unit_test(test_emit_yaml__mpijob_launcher_and_workers),
        cmocka_unit_test(test_emit_yaml__storage_shm_identity_on_every_pod),
        cmocka_unit_test(test_emit_yaml__ambiguous_strings_are_quoted),
        cmocka_unit_test(test_emit_yaml__multiline_body_is_a_literal_block),
        cmocka_unit_test(test_emit_yaml__every_word_is_plain),
        cmocka_unit_test(test_emit_yaml__extra_node_pools_warn),
        cmocka_unit_test(test_emit_yaml__invalid_utf8_is_an_error),
        cmocka_unit_test(test_emit_yaml__strict_schemas_accept_every_output),
    };
    return cmocka_run_group_tests_name("emit_yaml", tests, group_setup,
                                       group_teardown);
}
