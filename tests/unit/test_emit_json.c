/* test_emit_json.c: `--format json`, the REST v1 bodies. The output is
 * parsed back with json-c and checked field by field; command + args are
 * shell-split with bash and must give back the workload's argv. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include <s2r/s2r.h>
#include "runai/runai.h"
#include "emit_fixtures.h"

/* ---- helpers ------------------------------------------------------ */

static void base_workload(s2r_workload *wl, s2r_workload_kind kind)
{
    base_workload_in(wl, kind, "/scratch/lab-a/run");
}

static json_object *emit_parse(const s2r_workload *wl, const s2r_config *cfg,
                               s2r_diags *d, char **text)
{
    char *out = NULL;
    assert_int_equal(s2r_emit_json(&out, wl, cfg, d), 0);
    assert_non_null(out);
    json_tokener *tok = json_tokener_new();
    json_object *o = json_tokener_parse_ex(tok, out, (int)strlen(out));
    assert_int_equal(json_tokener_get_error(tok), json_tokener_success);
    /* one value, then only the final newline */
    size_t len = strlen(out);
    assert_true(len > 2 && out[len - 2] == '}' && out[len - 1] == '\n');
    assert_true(json_tokener_get_parse_end(tok) >= len - 1);
    json_tokener_free(tok);
    assert_non_null(o);
    if (text)
        *text = out;
    else
        free(out);
    return o;
}

/* Follow keys (or "N" array indexes); NULL when missing. Ends with NULL. */
static json_object *jget(json_object *o, ...)
{
    va_list ap;
    va_start(ap, o);
    const char *k;
    while (o && (k = va_arg(ap, const char *))) {
        json_object *next = NULL;
        if (json_object_is_type(o, json_type_object))
            json_object_object_get_ex(o, k, &next);
        else if (json_object_is_type(o, json_type_array) &&
                 (size_t)atol(k) < json_object_array_length(o))
            next = json_object_array_get_idx(o, (size_t)atol(k));
        o = next;
    }
    va_end(ap);
    return o;
}

static void assert_jstr(json_object *o, const char *want)
{
    assert_non_null(o);
    assert_true(json_object_is_type(o, json_type_string));
    assert_string_equal(json_object_get_string(o), want);
}

static void assert_jint(json_object *o, int64_t want)
{
    assert_non_null(o);
    assert_true(json_object_is_type(o, json_type_int));
    assert_int_equal(json_object_get_int64(o), want);
}

/* bash's split of "COMMAND ARGS" (what Run:ai does with the two strings)
 * equals @p want */
static void assert_split(json_object *spec, const char *const *want)
{
    const char *c = json_object_get_string(jget(spec, "command", NULL));
    json_object *a = jget(spec, "args", NULL);
    const char *args = a ? json_object_get_string(a) : "";
    size_t n = strlen(c) + strlen(args) + 64;
    char *cmd = malloc(n);
    assert_non_null(cmd);
    snprintf(cmd, n, "printf '%%s\\0' %s %s", c, args);
    char path[] = "/tmp/s2r-json-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs(cmd, f);
    fclose(f);
    free(cmd);
    char run[64];
    snprintf(run, sizeof(run), "bash %s", path);
    FILE *p = popen(run, "r");
    assert_non_null(p);
    char buf[8192];
    size_t len = fread(buf, 1, sizeof(buf), p);
    assert_int_equal(pclose(p), 0);
    unlink(path);
    size_t off = 0;
    for (size_t i = 0; want[i]; i++) {
        assert_true(off < len);
        assert_string_equal(buf + off, want[i]);
        off += strlen(want[i]) + 1;
    }
    assert_int_equal(off, len);
}

/* ---- trainings ---------------------------------------------------- */

static void test_emit_json__training_body(void **state)
{
    (void)state;
    s2r_workload wl;
    base_workload(&wl, S2R_WL_STANDARD);
    wl.node_pools = strlist("a100", "default");
    wl.node_type = strdup("dgx");
    wl.priority = strdup("high");
    wl.preemptibility = strdup("non-preemptible");
    s2r_diags d = {0};
    char *text = NULL;
    json_object *o = emit_parse(&wl, NULL, &d, &text);
    /* pretty-printed, slashes not escaped */
    assert_memory_equal(text, "{\n  \"name\": \"train-resnet\",\n", 28);
    assert_non_null(strstr(text, "\"nvcr.io/nvidia/pytorch:24.05-py3\""));
    free(text);
    assert_jstr(jget(o, "name", NULL), "train-resnet");
    assert_jstr(jget(o, "projectId", NULL), "<PROJECT-ID>");
    assert_jstr(jget(o, "clusterId", NULL), "<CLUSTER-UUID>");
    assert_null(jget(o, "masterSpecSameAsWorker", NULL));
    json_object *s = jget(o, "spec", NULL);
    assert_jstr(jget(s, "image", NULL), "nvcr.io/nvidia/pytorch:24.05-py3");
    const char *argv[] = {"bash", "-c", POD_SCRIPT_TRAIN_RESNET, "s2r-job",
                          "python", "train.py", "--epochs", "10", NULL};
    assert_split(s, argv);
    assert_jstr(jget(s, "workingDir", NULL), "/scratch/lab-a/run");
    assert_jstr(jget(s, "environmentVariables", "0", "name", NULL),
                "OMP_NUM_THREADS");
    assert_jstr(jget(s, "environmentVariables", "0", "value", NULL), "8");
    assert_jint(jget(s, "compute", "gpuDevicesRequest", NULL), 2);
    assert_jint(jget(s, "compute", "cpuCoreRequest", NULL), 16);
    assert_jstr(jget(s, "compute", "cpuMemoryRequest", NULL), "32Gi");
    assert_jstr(jget(s, "compute", "cpuMemoryLimit", NULL), "32Gi");
    assert_int_equal(json_object_array_length(jget(s, "nodePools", NULL)), 2);
    assert_jstr(jget(s, "nodePools", "1", NULL), "default");
    assert_jstr(jget(s, "nodeType", NULL), "dgx");
    assert_jstr(jget(s, "priorityClass", NULL), "high");
    assert_jstr(jget(s, "preemptibility", NULL), "non-preemptible");
    assert_jint(jget(s, "backoffLimit", NULL), 0);
    assert_null(jget(s, "parallelism", NULL));
    assert_null(jget(s, "distributedFramework", NULL));
    /* a note names the placeholders and the endpoint */
    assert_int_equal(s2r_diags_count(&d, S2R_SEV_NOTE), 1);
    assert_non_null(strstr(d.v[0].message, "/api/v1/workloads/trainings"));
    assert_non_null(strstr(d.v[0].message, "<PROJECT-ID>"));
    assert_int_equal(s2r_diags_count(&d, S2R_SEV_WARNING), 0);
    json_object_put(o);
    s2r_diags_clear(&d);
    s2r_workload_free(&wl);
}

static void test_emit_json__project_and_unset_fields(void **state)
{
    (void)state;
    s2r_workload wl;
    base_workload(&wl, S2R_WL_STANDARD);
    wl.project = strdup("team-a");
    wl.gpus = 0;
    wl.memory_mib = 1536;
    free(wl.workdir);
    wl.workdir = NULL;
    s2r_envv_clear(&wl.env);
    s2r_diags d = {0};
    json_object *o = emit_parse(&wl, NULL, &d, NULL);
    assert_jstr(jget(o, "projectId", NULL), "team-a");
    assert_non_null(strstr(d.v[0].message, "team-a"));
    json_object *s = jget(o, "spec", NULL);
    assert_null(jget(s, "compute", "gpuDevicesRequest", NULL));
    assert_jstr(jget(s, "compute", "cpuMemoryRequest", NULL), "1536Mi");
    assert_null(jget(s, "workingDir", NULL));
    assert_null(jget(s, "environmentVariables", NULL));
    assert_null(jget(s, "nodePools", NULL));
    assert_null(jget(s, "priorityClass", NULL));
    assert_null(jget(s, "preemptibility", NULL));
    json_object_put(o);
    s2r_diags_clear(&d);
    s2r_workload_free(&wl);
}

/* an array: WorkloadV2CreateRequest {metadata, manifest} carrying the
 * Indexed Job, so each task gets its own SLURM_ARRAY_TASK_ID */
static void test_emit_json__array_is_a_v2_indexed_job(void **state)
{
    (void)state;
    s2r_workload wl;
    base_workload(&wl, S2R_WL_STANDARD);
    wl.completions = 10;
    wl.parallelism = 4;
    wl.time_limit_s = 120;
    s2r_diags d = {0};
    json_object *o = emit_parse(&wl, NULL, &d, NULL);
    assert_jstr(jget(o, "metadata", "name", NULL), "train-resnet");
    assert_jstr(jget(o, "manifest", "kind", NULL), "Job");
    assert_jstr(jget(o, "manifest", "spec", "completionMode", NULL), "Indexed");
    assert_jint(jget(o, "manifest", "spec", "parallelism", NULL), 4);
    assert_jint(jget(o, "manifest", "spec", "completions", NULL), 10);
    assert_jint(jget(o, "manifest", "spec", "template", "spec",
                     "activeDeadlineSeconds", NULL), 120);
    assert_null(jget(o, "spec", NULL));
    assert_false(s2r_diags_has_option(&d, "array"));
    assert_false(s2r_diags_has_option(&d, "time"));
    json_object_put(o);
    s2r_diags_clear(&d);
    s2r_workload_free(&wl);
}

static void test_emit_json__args_split_back_to_argv(void **state)
{
    (void)state;
    static const char nasty[] =
        "it's $(touch pwned) `x`; \"q\" back\\slash\n"
        "line2 \xc3\xbcnic\xc3\xb6" "de * ?";
    s2r_workload wl;
    base_workload(&wl, S2R_WL_STANDARD);
    s2r_strv_clear(&wl.command);
    const char *cmd[] = {"my prog", "-c", nasty, "", "--x=1", NULL};
    push_all(&wl.command, cmd);
    json_object *o = emit_parse(&wl, NULL, NULL, NULL);
    assert_jstr(jget(o, "spec", "command", NULL), "bash");
    const char *want[] = {"bash", "-c", POD_SCRIPT_TRAIN_RESNET, "s2r-job",
                          "my prog", "-c", nasty, "", "--x=1", NULL};
    assert_split(jget(o, "spec", NULL), want);
    json_object_put(o);
    s2r_workload_free(&wl);
}

static void test_emit_json__time_limit(void **state)
{
    (void)state;
    s2r_workload wl;
    base_workload(&wl, S2R_WL_STANDARD);
    wl.time_limit_s = 5400;
    s2r_diags d = {0};
    json_object *o = emit_parse(&wl, NULL, &d, NULL);
    assert_true(s2r_diags_has_option(&d, "time"));
    assert_jstr(jget(o, "spec", "command", NULL), "bash");
    json_object_put(o);
    s2r_diags_clear(&d);

    s2r_config cfg = {0};
    cfg.time_limit = "timeout";
    o = emit_parse(&wl, &cfg, &d, NULL);
    assert_false(s2r_diags_has_option(&d, "time"));
    const char *want[] = {"timeout", "5400", "bash", "-c",
                          POD_SCRIPT_TRAIN_RESNET, "s2r-job", "python",
                          "train.py", "--epochs", "10", NULL};
    assert_split(jget(o, "spec", NULL), want);
    json_object_put(o);
    s2r_diags_clear(&d);
    s2r_workload_free(&wl);
}

/* ---- distributed -------------------------------------------------- */

static void test_emit_json__pytorch_body(void **state)
{
    (void)state;
    s2r_workload wl;
    base_workload(&wl, S2R_WL_PYTORCH);
    wl.pods = 3;
    wl.workers = 2;
    s2r_diags d = {0};
    json_object *o = emit_parse(&wl, NULL, &d, NULL);
    assert_true(json_object_get_boolean(jget(o, "masterSpecSameAsWorker",
                                             NULL)));
    assert_null(jget(o, "masterSpec", NULL));
    json_object *s = jget(o, "spec", NULL);
    assert_jstr(jget(s, "distributedFramework", NULL), "PyTorch");
    assert_jint(jget(s, "numWorkers", NULL), 2);
    assert_jstr(jget(s, "command", NULL), "bash");
    /* each pod takes its rank from the PyTorchJob */
    assert_non_null(strstr(json_object_get_string(jget(s, "args", NULL)),
                           "SLURM_NODEID=\"${PET_NODE_RANK:-${RANK:-0}}\""));
    assert_jint(jget(s, "compute", "gpuDevicesRequest", NULL), 2);
    assert_jstr(jget(s, "cleanPodPolicy", NULL), "None");
    assert_null(jget(s, "completions", NULL));
    assert_non_null(strstr(d.v[0].message, "/api/v1/workloads/distributed"));
    json_object_put(o);
    s2r_diags_clear(&d);
    s2r_workload_free(&wl);
}

/* an MPIJob goes as its manifest (POST /api/v2/workloads): the launcher
 * runs the script, the workers run sshd */
static void test_emit_json__mpi_is_a_v2_mpijob(void **state)
{
    (void)state;
    s2r_workload wl;
    base_workload(&wl, S2R_WL_MPI);
    wl.pods = 4;
    wl.workers = 4;
    wl.slots_per_worker = 32;
    wl.time_limit_s = 60;
    const char *l[] = {"mpirun", "--bind-to", "none", "./bin/solver", NULL};
    push_all(&wl.launcher_command, l);
    s2r_diags d = {0};
    json_object *o = emit_parse(&wl, NULL, &d, NULL);
    assert_null(jget(o, "spec", NULL));
    assert_jstr(jget(o, "metadata", "projectId", NULL), "<PROJECT-ID>");
    json_object *m = jget(o, "manifest", NULL);
    assert_jstr(jget(m, "kind", NULL), "MPIJob");
    assert_jint(jget(m, "spec", "slotsPerWorker", NULL), 32);
    assert_jint(jget(m, "spec", "runPolicy", "activeDeadlineSeconds", NULL),
                60);
    json_object *rs = jget(m, "spec", "mpiReplicaSpecs", NULL);
    json_object *lc = jget(rs, "Launcher", "template", "spec", "containers",
                           "0", NULL);
    json_object *cmd = jget(lc, "command", NULL);
    size_t n = json_object_array_length(cmd);
    assert_true(n >= 8);
    assert_jstr(jget(cmd, "3", NULL), "s2r-job");
    assert_jstr(jget(cmd, "4", NULL), "mpirun");
    assert_jstr(json_object_array_get_idx(cmd, n - 1), "./bin/solver");
    assert_jint(jget(rs, "Worker", "replicas", NULL), 4);
    assert_null(jget(rs, "Worker", "template", "spec", "containers", "0",
                     "command", NULL)); /* workers run sshd */
    assert_non_null(strstr(d.v[0].message, "/api/v2/workloads"));
    assert_non_null(strstr(d.v[0].message, "MPIJob"));
    assert_false(s2r_diags_has_option(&d, "time"));
    json_object_put(o);
    s2r_diags_clear(&d);
    s2r_workload_free(&wl);
}

/* storage, /dev/shm and the user: spec.storage, compute.largeShmRequest,
 * spec.security (Run:ai REST API) */
static void test_emit_json__storage_shm_and_security(void **state)
{
    (void)state;
    s2r_workload wl;
    base_workload(&wl, S2R_WL_STANDARD);
    add_volumes(&wl);
    wl.large_shm = true;
    wl.run_as_user = true;
    wl.run_as_uid = 1000;
    wl.run_as_gid = 100;
    wl.supplemental_groups = strdup("2000,2001");
    s2r_diags d = {0};
    json_object *o = emit_parse(&wl, NULL, &d, NULL);
    json_object *s = jget(o, "spec", NULL);
    assert_true(json_object_get_boolean(jget(s, "compute", "largeShmRequest",
                                             NULL)));
    json_object *st = jget(s, "storage", NULL);
    assert_jstr(jget(st, "pvc", "0", "claimName", NULL), "project");
    assert_true(json_object_get_boolean(jget(st, "pvc", "0", "existingPvc",
                                             NULL)));
    assert_jstr(jget(st, "pvc", "0", "path", NULL), "/project");
    assert_false(json_object_get_boolean(jget(st, "pvc", "0", "readOnly",
                                              NULL)));
    assert_jstr(jget(st, "nfs", "0", "server", NULL), "nfs.example.org");
    assert_jstr(jget(st, "nfs", "0", "path", NULL), "/export/home");
    assert_jstr(jget(st, "nfs", "0", "mountPath", NULL), "/home");
    assert_jstr(jget(st, "hostPath", "0", "path", NULL), "/mnt/datasets");
    assert_jstr(jget(st, "hostPath", "0", "mountPath", NULL), "/datasets");
    assert_true(json_object_get_boolean(jget(st, "hostPath", "0", "readOnly",
                                             NULL)));
    assert_null(jget(st, "dataVolume", NULL));
    assert_jstr(jget(s, "security", "uidGidSource", NULL), "custom");
    assert_jint(jget(s, "security", "runAsUid", NULL), 1000);
    assert_jint(jget(s, "security", "runAsGid", NULL), 100);
    assert_jstr(jget(s, "security", "supplementalGroups", NULL), "2000,2001");
    /* the data source cannot go in the body: said */
    assert_int_equal(s2r_diags_count(&d, S2R_SEV_WARNING), 1);
    assert_non_null(strstr(d.v[0].message, "weights"));
    json_object_put(o);
    s2r_diags_clear(&d);
    s2r_workload_free(&wl);
}

static void test_emit_json__invalid_utf8_is_an_error(void **state)
{
    (void)state;
    s2r_workload wl;
    base_workload(&wl, S2R_WL_STANDARD);
    s2r_strv_clear(&wl.command);
    const char *cmd[] = {"echo", "\xff", NULL};
    push_all(&wl.command, cmd);
    s2r_diags d = {0};
    char *out = (char *)1;
    assert_int_equal(s2r_emit_json(&out, &wl, NULL, &d), S2R_EINVAL);
    assert_null(out);
    assert_int_equal(s2r_diags_count(&d, S2R_SEV_ERROR), 1);
    s2r_diags_clear(&d);
    s2r_workload_free(&wl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_emit_json__training_body),
        cmocka_unit_test(test_emit_json__project_and_unset_fields),
        cmocka_unit_test(test_emit_json__array_is_a_v2_indexed_job),
        cmocka_unit_test(test_emit_json__args_split_back_to_argv),
        cmocka_unit_test(test_emit_json__time_limit),
        cmocka_unit_test(test_emit_json__pytorch_body),
        cmocka_unit_test(test_emit_json__mpi_is_a_v2_mpijob),
        cmocka_unit_test(test_emit_json__storage_shm_and_security),
        cmocka_unit_test(test_emit_json__invalid_utf8_is_an_error),
    };
    return cmocka_run_group_tests_name("emit_json", tests, NULL, NULL);
}
