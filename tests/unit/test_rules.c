/* test_rules.c: s2r_job -> s2r_workload (design README §2). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <s2r/s2r.h>
#include "runai/runai.h"
#include "runai/site_rules.h"

static s2r_job J;
static s2r_workload W;
static s2r_diags D;
static s2r_config C;

static int setup(void **state)
{
    (void)state;
    memset(&J, 0, sizeof(J));
    memset(&W, 0, sizeof(W));
    memset(&D, 0, sizeof(D));
    s2r_config_defaults(&C);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    s2r_job_free(&J);
    s2r_workload_free(&W);
    s2r_diags_clear(&D);
    s2r_config_free(&C);
    return 0;
}

static int convert(const char *file, const char *script)
{
    int rc = s2r_job_parse(&J, file, script, strlen(script), &C, &D);
    if (rc)
        return rc;
    return s2r_rules_convert(&W, &J, &C, &D);
}

static void test_rules__single_node_standard(void **state)
{
    (void)state;
    assert_int_equal(convert("job.sh", "#!/bin/bash\n#SBATCH -J Train_V2\n"
                             "#SBATCH --gres=gpu:a100:2\n#SBATCH -c 8\n"
                             "#SBATCH --mem=32G\n#SBATCH -t 1-00:00:00\n"
                             "python t.py\n"), 0);
    assert_int_equal(W.kind, S2R_WL_STANDARD);
    assert_string_equal(W.name, "train-v2");
    assert_int_equal(W.pods, 1);
    assert_int_equal(W.gpus, 2);
    assert_int_equal(W.cpus, 8);
    assert_int_equal(W.memory_mib, 32768);
    assert_int_equal(W.time_limit_s, 86400);
    assert_int_equal(W.backoff_limit, 0);
    assert_string_equal(W.image, "nvcr.io/nvidia/pytorch:24.05-py3");
    assert_int_equal(W.command.n, 2);
    assert_string_equal(W.command.v[0], "python");
}

static void test_rules__pytorch_master_counts_as_a_node(void **state)
{
    (void)state;
    assert_int_equal(convert("j.sh", "#!/bin/bash\n#SBATCH -N 3\n"
                             "#SBATCH --ntasks-per-node=1\n#SBATCH --gpus-per-node=4\n"
                             "srun torchrun --nnodes=3 --nproc_per_node=4 t.py\n"), 0);
    assert_int_equal(W.kind, S2R_WL_PYTORCH);
    assert_int_equal(W.pods, 3);
    assert_int_equal(W.workers, 2);
    assert_int_equal(W.gpus, 4);
}

static void test_rules__mpi_workers_and_slots(void **state)
{
    (void)state;
    assert_int_equal(convert("j.sh", "#!/bin/bash\n#SBATCH -N 2\n#SBATCH -n 8\n"
                             "#SBATCH -c 8\n#SBATCH -G 8\nsrun ./lbm\n"), 0);
    assert_int_equal(W.kind, S2R_WL_MPI);
    assert_int_equal(W.workers, 2);
    assert_int_equal(W.slots_per_worker, 4);
    assert_int_equal(W.gpus, 4);
    assert_int_equal(W.cpus, 32);
    assert_int_equal(W.command.n, 0);
    assert_int_equal(W.launcher_command.n, 8); /* + bash -c RANKS s2r-task */
    assert_string_equal(W.launcher_command.v[2], "8");
    assert_string_equal(W.launcher_command.v[7], "./lbm");
}

/* several nodes, no launch and no srun: the script ran on the first node
 * alone, so the pod has one node's resources */
static void test_rules__nodes_without_srun_are_one_node(void **state)
{
    (void)state;
    assert_int_equal(convert("j.sh", "#!/bin/bash\n#SBATCH -N 4\n"
                             "#SBATCH --gpus-per-node=8\n#SBATCH -c 32\n"
                             "#SBATCH --mem=500G\npython train.py\n"), 0);
    assert_int_equal(W.kind, S2R_WL_STANDARD);
    assert_int_equal(W.pods, 1);
    assert_int_equal(W.gpus, 8);
    assert_int_equal(W.cpus, 32);
    assert_int_equal(W.memory_mib, 500 * 1024);
}

/* an array of a distributed launch: one workload, the first task's index */
static void test_rules__array_of_a_distributed_launch(void **state)
{
    (void)state;
    assert_int_equal(convert("j.sh", "#!/bin/bash\n#SBATCH --array=2-5\n"
                             "#SBATCH -N 2\n#SBATCH --gpus-per-node=4\n"
                             "srun torchrun --nnodes=2 --nproc_per_node=4 "
                             "t.py --seed $SLURM_ARRAY_TASK_ID\n"), 0);
    assert_int_equal(W.kind, S2R_WL_PYTORCH);
    assert_string_equal(s2r_envv_get(&W.env, "SLURM_ARRAY_TASK_ID"), "2");
}

static void test_rules__array_runs_and_parallelism(void **state)
{
    (void)state;
    assert_int_equal(convert("j.sh", "#!/bin/bash\n#SBATCH -a 1,3,5-7%2\n"
                             "./x $SLURM_ARRAY_TASK_ID\n"), 0);
    assert_int_equal(W.completions, 5);
    assert_int_equal(W.parallelism, 2);
    assert_int_equal(W.n_array_indices, 5);
    assert_int_equal(W.array_indices[4], 7);
}

static void test_rules__every_unmapped_option_is_named(void **state)
{
    (void)state;
    const char *opts[] = {"mail-type", "mail-user", "dependency", "exclusive",
                          "signal", "requeue", "qos", "reservation",
                          "licenses", "begin", "nodelist", "exclude",
                          "constraint", "hint", NULL};
    assert_int_equal(convert("j.sh", "#!/bin/bash\n"
                             "#SBATCH --mail-type=END --mail-user=a@b\n"
                             "#SBATCH --dependency=afterok:1 --exclusive\n"
                             "#SBATCH --signal=B:USR1@60 --requeue --qos=high\n"
                             "#SBATCH --reservation=r --licenses=m:1 --begin=now+1h\n"
                             "#SBATCH -w n1 -x n2 -C ib --hint=nomultithread\n"
                             "./x\n"), 0);
    for (size_t i = 0; opts[i]; i++)
        assert_true(s2r_diags_has_option(&D, opts[i]));
    assert_false(s2r_diags_has_option(&D, "partition"));
}

static void test_rules__partition_and_constraint_maps(void **state)
{
    (void)state;
    C.partitions = calloc(2, sizeof(*C.partitions));
    C.partitions[0].key = strdup("gpu");
    C.partitions[0].value = strdup("pool-a");
    C.partitions[1].key = strdup("debug");
    C.partitions[1].value = strdup("");
    C.n_partitions = 2;
    C.constraints = calloc(1, sizeof(*C.constraints));
    C.constraints[0].key = strdup("a100");
    C.constraints[0].value = strdup("dgx-a100");
    C.n_constraints = 1;
    assert_int_equal(convert("j.sh", "#!/bin/bash\n#SBATCH -p debug,gpu,cpu\n"
                             "#SBATCH -C a100\n./x\n"), 0);
    assert_string_equal(W.node_pools[0], "pool-a");
    assert_string_equal(W.node_pools[1], "cpu");
    assert_null(W.node_pools[2]);
    assert_string_equal(W.node_type, "dgx-a100");
    assert_true(s2r_diags_has_option(&D, "constraint"));
}

static void test_rules__name_from_file_when_no_job_name(void **state)
{
    (void)state;
    assert_int_equal(convert("/x/2024_Run.sbatch", "#!/bin/bash\n./x\n"), 0);
    assert_string_equal(W.name, "job-2024-run");
}

static void test_rules__dns_label_limits(void **state)
{
    (void)state;
    char *l = s2r_dns_label("TinyFormer_XL.SFT.cosineLR_warmup2000.bs512."
                            "seq4096.lab-a.run-2024-11-03");
    assert_true(strlen(l) <= 63);
    assert_string_equal(l, "tinyformer-xl-sft-cosinelr-warmup2000-bs512-"
                           "seq4096-lab-a-run-2");
    free(l);
    l = s2r_dns_label("$(rm -rf /); 'x'");
    assert_string_equal(l, "rm-rf-x");
    free(l);
    l = s2r_dns_label("---");
    assert_string_equal(l, "job");
    free(l);
}

static void test_rules__mem_zero_warns(void **state)
{
    (void)state;
    assert_int_equal(convert("j.sh", "#!/bin/bash\n#SBATCH --mem=0\n./x\n"), 0);
    assert_int_equal(W.memory_mib, 0);
    assert_true(s2r_diags_has_option(&D, "mem"));
}

static void test_rules__zero_memory_per_cpu_and_gpu(void **state)
{
    (void)state;
    assert_int_equal(convert("j.sh", "#!/bin/bash\n#SBATCH --mem-per-cpu=0\n"
                                     "./x\n"), 0);
    assert_int_equal(W.memory_mib, 0);
    assert_true(s2r_diags_has_option(&D, "mem-per-cpu"));
    teardown(state);
    setup(state);
    /* not all memory (slurmctld keeps no memory per GPU): said as such */
    assert_int_equal(convert("j.sh", "#!/bin/bash\n#SBATCH --gres=gpu:1 "
                                     "--mem-per-gpu=0\n./x\n"), 0);
    assert_int_equal(W.memory_mib, 0);
    bool said = false;
    for (size_t i = 0; i < D.n; i++)
        said = said || (D.v[i].option &&
                        !strcmp(D.v[i].option, "mem-per-gpu") &&
                        strstr(D.v[i].message, "default memory"));
    assert_true(said);
}

static void test_rules__zero_node_minimum_is_one_pod(void **state)
{
    (void)state;
    assert_int_equal(convert("j.sh", "#!/bin/bash\n#SBATCH --nodes=0-2\n"
                                     "./x\n"), 0);
    assert_int_equal(W.pods, 1);
    assert_true(s2r_diags_has_option(&D, "nodes"));
}

static void test_rules__gres_warning_only_for_other_gres(void **state)
{
    (void)state;
    assert_int_equal(convert("j.sh", "#!/bin/bash\n#SBATCH --gres=gpu,gpu\n"
                                     "./x\n"), 0);
    assert_int_equal(W.gpus, 1);
    assert_false(s2r_diags_has_option(&D, "gres"));
    teardown(state);
    setup(state);
    assert_int_equal(convert("j.sh", "#!/bin/bash\n#SBATCH --gres=gpu:a40:1,"
                                     "gpu:h100:2\n./x\n"), 0);
    assert_int_equal(W.gpus, 3);
    bool said = false;
    for (size_t i = 0; i < D.n; i++)
        said = said || strstr(D.v[i].message, "types per node (a40, h100)");
    assert_true(said);
}

/* GPUs per task from --tres-per-task and per socket from
 * --gpus-per-socket x --sockets-per-node reach the pod, with no warning
 * that they are ignored; only what is not carried is named */
static void test_rules__gpus_per_socket_and_tres_per_task(void **state)
{
    (void)state;
    assert_int_equal(convert("j.sh", "#!/bin/bash\n#SBATCH -n 2\n"
                                     "#SBATCH --tres-per-task=cpu:4,gres/gpu:2\n"
                                     "./x\n"), 0);
    assert_int_equal(W.gpus, 4);
    assert_false(s2r_diags_has_option(&D, "tres-per-task"));
    teardown(state);
    setup(state);
    assert_int_equal(convert("j.sh", "#!/bin/bash\n#SBATCH -N 1\n"
                                     "#SBATCH --sockets-per-node=2\n"
                                     "#SBATCH --gpus-per-socket=2\n./x\n"), 0);
    assert_int_equal(W.gpus, 4);
    assert_false(s2r_diags_has_option(&D, "sockets-per-node"));
    assert_false(s2r_diags_has_option(&D, "gpus-per-socket"));
    teardown(state);
    setup(state);
    /* a license per task, and --sockets-per-node without GPUs: named */
    assert_int_equal(convert("j.sh", "#!/bin/bash\n#SBATCH -n 2\n"
                                     "#SBATCH --tres-per-task=gres/gpu:1,"
                                     "license/matlab=1\n"
                                     "#SBATCH --sockets-per-node=2\n./x\n"),
                     0);
    assert_int_equal(W.gpus, 2);
    assert_true(s2r_diags_has_option(&D, "tres-per-task"));
    assert_true(s2r_diags_has_option(&D, "sockets-per-node"));
}

/* --ntasks-per-gpu's tasks and GPUs reach the pod (core/slurm counts
 * them), with no warning that it is ignored */
static void test_rules__ntasks_per_gpu_is_carried(void **state)
{
    (void)state;
    assert_int_equal(convert("j.sh", "#!/bin/bash\n#SBATCH --gpus=2\n"
                                     "#SBATCH --ntasks-per-gpu=2\n./x\n"),
                     0);
    assert_int_equal(W.gpus, 2);
    assert_false(s2r_diags_has_option(&D, "ntasks-per-gpu"));
    teardown(state);
    setup(state);
    /* GPUs from the tasks: -n 4 at 2 per GPU */
    assert_int_equal(convert("j.sh", "#!/bin/bash\n#SBATCH -n 4\n"
                                     "#SBATCH --ntasks-per-gpu=2\n./x\n"),
                     0);
    assert_int_equal(W.gpus, 2);
    assert_false(s2r_diags_has_option(&D, "ntasks-per-gpu"));
}

static void test_rules__invalid_job_is_refused(void **state)
{
    (void)state;
    assert_int_equal(convert("j.sh", "#!/bin/bash\n#SBATCH --time=abc\n./x\n"),
                     S2R_EINVAL);
    assert_int_equal(s2r_diags_count(&D, S2R_SEV_ERROR), 1);
    assert_string_equal(D.v[0].option, "time");
    assert_int_equal(D.v[0].line, 2);
}

/* The option table is halved by name: it must stay in strcmp() order;
 * a directive of every kind the rules look at by name is still found. */
static void test_rules__table_in_order(void **state)
{
    (void)state;
    assert_true(s2r_rules__table_in_order());
    assert_int_equal(convert("j.sh", "#!/bin/bash\n#SBATCH --qos=gold\n"
                             "#SBATCH -o /x/o.txt\n#SBATCH --mail-user=a\n"
                             "#SBATCH --account=acme\n./x\n"), 0);
    bool qos = false, account = false, mail = false;
    for (size_t i = 0; i < D.n; i++) {
        if (D.v[i].option && !strcmp(D.v[i].option, "qos"))
            qos = D.v[i].line == 2;
        if (D.v[i].option && !strcmp(D.v[i].option, "mail-user"))
            mail = D.v[i].line == 4;
        if (D.v[i].option && !strcmp(D.v[i].option, "account"))
            account = D.v[i].line == 5;
    }
    assert_true(qos && mail && account);
}

/* a variable whose name says it is a secret, carried in clear: a warning
 * that names it and never shows its value; TOKENIZERS_PARALLELISM and a
 * path are not secrets */
static size_t secret_warnings(const char *value_seen)
{
    size_t n = 0;
    for (size_t i = 0; i < D.n; i++) {
        if (strstr(D.v[i].message, "by its name a secret"))
            n++;
        assert_null(strstr(D.v[i].message, value_seen));
    }
    return n;
}

static void test_rules__secrets_in_the_environment_are_warned(void **state)
{
    (void)state;
    assert_int_equal(convert("job.sh", "#!/bin/bash\n"
                             "#SBATCH --export=ALL,HF_TOKEN=hf_s3cr3t\n"
                             "export WANDB_API_KEY=hf_s3cr3t\n"
                             "export TOKENIZERS_PARALLELISM=false\n"
                             "export GOOGLE_APPLICATION_CREDENTIALS=/k.json\n"
                             "python t.py\n"), 0);
    assert_int_equal(secret_warnings("hf_s3cr3t"), 2);
}

/* per sbatch(1) --uid/--gid the job runs as that user and group: the
 * pods' run-as IDs, whatever [site] run_as; a name is not applied */
static void test_rules__uid_and_gid_are_the_pods_ids(void **state)
{
    (void)state;
    assert_int_equal(convert("job.sh", "#!/bin/bash\n#SBATCH --uid=1234\n"
                             "#SBATCH --gid=100\npython t.py\n"), 0);
    assert_true(W.run_as_user);
    assert_int_equal(W.run_as_uid, 1234);
    assert_int_equal(W.run_as_gid, 100);
    for (size_t i = 0; i < D.n; i++)
        assert_null(strstr(D.v[i].message, "ignored"));
}

static void test_rules__uid_name_is_not_applied(void **state)
{
    (void)state;
    assert_int_equal(convert("job.sh", "#!/bin/bash\n#SBATCH --uid=alice\n"
                             "python t.py\n"), 0);
    assert_false(W.run_as_user && W.run_as_uid != C.uid);
    bool warned = false;
    for (size_t i = 0; i < D.n; i++)
        warned |= strstr(D.v[i].message, "--uid=alice: a pod runs as a "
                                         "numeric UID") != NULL;
    assert_true(warned);
}

/* sbatch(1) OUTPUT ENVIRONMENT VARIABLES: SLURM_JOB_UID and
 * SLURM_JOB_GID of the job's owner, given to a body that reads them;
 * USER and SLURM_JOB_USER only when the name is that user's */
static void test_rules__job_owner_variables(void **state)
{
    (void)state;
    C.user = strdup("alice");
    C.uid = 1000;
    C.gid = 100;
    assert_int_equal(convert("job.sh", "#!/bin/bash\n#SBATCH -c 1\n"
                             "echo $SLURM_JOB_USER $SLURM_JOB_UID "
                             "$SLURM_JOB_GID\npython t.py\n"), 0);
    assert_string_equal(s2r_envv_get(&W.env, "SLURM_JOB_USER"), "alice");
    assert_string_equal(s2r_envv_get(&W.env, "SLURM_JOB_UID"), "1000");
    assert_string_equal(s2r_envv_get(&W.env, "SLURM_JOB_GID"), "100");
}

static void test_rules__job_owner_of_uid(void **state)
{
    (void)state;
    C.user = strdup("alice");
    C.uid = 1000;
    C.gid = 100;
    assert_int_equal(convert("job.sh", "#!/bin/bash\n#SBATCH --uid=1234\n"
                             "echo $USER $SLURM_JOB_USER $SLURM_JOB_UID\n"
                             "python t.py\n"), 0);
    assert_null(s2r_envv_get(&W.env, "USER"));
    assert_null(s2r_envv_get(&W.env, "SLURM_JOB_USER"));
    assert_string_equal(s2r_envv_get(&W.env, "SLURM_JOB_UID"), "1234");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        T(test_rules__secrets_in_the_environment_are_warned),
        T(test_rules__uid_and_gid_are_the_pods_ids),
        T(test_rules__uid_name_is_not_applied),
        T(test_rules__job_owner_variables),
        T(test_rules__job_owner_of_uid),
        T(test_rules__single_node_standard),
        T(test_rules__pytorch_master_counts_as_a_node),
        T(test_rules__mpi_workers_and_slots),
        T(test_rules__nodes_without_srun_are_one_node),
        T(test_rules__array_of_a_distributed_launch),
        T(test_rules__array_runs_and_parallelism),
        T(test_rules__every_unmapped_option_is_named),
        T(test_rules__partition_and_constraint_maps),
        T(test_rules__name_from_file_when_no_job_name),
        T(test_rules__dns_label_limits),
        T(test_rules__mem_zero_warns),
        T(test_rules__gpus_per_socket_and_tres_per_task),
        T(test_rules__ntasks_per_gpu_is_carried),
        T(test_rules__zero_memory_per_cpu_and_gpu),
        T(test_rules__zero_node_minimum_is_one_pod),
        T(test_rules__gres_warning_only_for_other_gres),
        T(test_rules__invalid_job_is_refused),
        T(test_rules__table_in_order),
#undef T
    };
    return cmocka_run_group_tests_name("rules", tests, NULL, NULL);
}
