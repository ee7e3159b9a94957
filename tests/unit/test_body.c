/* test_body.c: the main command, environment, working directory, image
 * and distributed kind that body analysis finds (corpus/README.md rules). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <unistd.h>

#include <s2r/s2r.h>

#include "job_fixture.h"

static int setup(void **state)
{
    (void)state;
    fixture_reset();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fixture_free();
    return 0;
}

static void assert_tokens(const char *const *want)
{
    size_t n = 0;
    while (want[n])
        n++;
    assert_int_equal(F.job.command_tokens.n, n);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(F.job.command_tokens.v[i], want[i]);
}

static bool has_warning(const char *needle)
{
    for (size_t i = 0; i < F.d.n; i++)
        if (F.d.v[i].severity == S2R_SEV_WARNING &&
            strstr(F.d.v[i].message, needle))
            return true;
    return false;
}

/* A [[ ]] test before the program is a test, not the program: it stays
 * as written (its ]] not quoted into a word, which bash would refuse). */
static void test_body__a_test_is_not_the_main_command(void **state)
{
    (void)state;
    assert_int_equal(parse("#!/bin/bash\n"
                           "ckpt=$(ls ckpt | head -1); [[ -n $ckpt ]] && "
                           "R=\"--resume $ckpt\"\n"
                           "python train.py $R\n"), 0);
    const char *want[] = {"python", "train.py", "$R", NULL};
    assert_tokens(want);
    assert_int_equal(F.job.main_line, 3);
    assert_non_null(F.job.run_shell);
    assert_non_null(strstr(F.job.run_shell, "[[ -n $ckpt ]] && R="));
}

static void test_body__setup_lines_are_not_the_main_command(void **state)
{
    (void)state;
    assert_int_equal(parse("#!/bin/bash\n#SBATCH -c 4\n"
                           "module purge\nmodule load cuda/12.1\n"
                           "echo start\nmkdir -p out\n"
                           "python train.py --lr 0.1\necho done\n"), 0);
    const char *want[] = {"python", "train.py", "--lr", "0.1", NULL};
    assert_tokens(want);
    assert_int_equal(F.job.main_line, 7);
    assert_true(has_warning("module load cuda/12.1"));
    /* echo lines stay: the body runs as bash -c without the module lines */
    assert_non_null(F.job.run_shell);
    assert_null(strstr(F.job.run_shell, "module"));
    assert_non_null(strstr(F.job.run_shell, "echo start\nmkdir -p out\n"
                                            "python train.py --lr 0.1\n"
                                            "echo done\n"));
}

static void test_body__single_literal_command_is_one_argv(void **state)
{
    (void)state;
    assert_int_equal(parse("#!/bin/bash\n#SBATCH -c 2\nset -e\n"
                           "source ~/venv/bin/activate\n"
                           "python3 s.py --where 'a > 1; b=$(x)' --sep ';'\n"),
                     0);
    assert_null(F.job.run_shell);
    assert_int_equal(F.job.run_argv.n, 6);
    assert_string_equal(F.job.run_argv.v[0], "python3");
    assert_string_equal(F.job.run_argv.v[3], "a > 1; b=$(x)");
    assert_string_equal(F.job.run_argv.v[5], ";");
    assert_true(has_warning("virtual environment"));
}

static void test_body__exports_resolve_slurm_values(void **state)
{
    (void)state;
    assert_int_equal(parse("#!/bin/bash\n#SBATCH -c 16\n"
                           "#SBATCH --export=ALL,STAGE=compact,N=8\n"
                           "export OMP_NUM_THREADS=${SLURM_CPUS_PER_TASK}\n"
                           "export POLARS=$SLURM_CPUS_PER_TASK STAGE=x\n"
                           "export T=${SLURM_NTASKS:-1}\n"
                           "export TMPDIR=/tmp/job-$SLURM_JOB_ID\n"
                           "python run.py\n"), 0);
    assert_string_equal(s2r_envv_get(&F.job.env, "OMP_NUM_THREADS"), "16");
    assert_string_equal(s2r_envv_get(&F.job.env, "POLARS"), "16");
    assert_string_equal(s2r_envv_get(&F.job.env, "STAGE"), "x");
    assert_string_equal(s2r_envv_get(&F.job.env, "N"), "8");
    assert_string_equal(s2r_envv_get(&F.job.env, "T"), "1");
    /* only the running job knows its id: the line stays in the body */
    assert_null(s2r_envv_get(&F.job.env, "TMPDIR"));
    assert_non_null(strstr(F.job.run_shell, "export TMPDIR=/tmp/job-"));
    /* every pod computes SLURM_JOB_ID (core/runai pod script) */
    assert_null(strstr(F.job.run_shell, "SLURM_JOB_ID="));
}

static void test_body__cd_sets_the_working_directory(void **state)
{
    (void)state;
    assert_int_equal(parse("#!/bin/bash\n#SBATCH -D /data/proj\n"
                           "cd runs/a\n./solver -i in.nml\n"), 0);
    assert_string_equal(F.job.workdir, "/data/proj/runs/a");
    const char *want[] = {"./solver", "-i", "in.nml", NULL};
    assert_tokens(want);
}

static void test_body__cd_submit_dir_is_the_default(void **state)
{
    (void)state;
    assert_int_equal(parse("#!/bin/bash\ncd \"$SLURM_SUBMIT_DIR\"\n"
                           "gatk HaplotypeCaller -R ref.fa\n"), 0);
    assert_null(F.job.workdir);
    assert_int_equal(F.job.run_argv.n, 4);
}

static void test_body__singularity_docker_image(void **state)
{
    (void)state;
    assert_int_equal(parse("#!/bin/bash\n#SBATCH --gpus=2\n"
                           "singularity exec --nv --bind /a:/data:ro \\\n"
                           "  docker://nvcr.io/nvidia/pytorch:23.10-py3 \\\n"
                           "  python train.py --data /data\n"), 0);
    assert_string_equal(F.job.image, "nvcr.io/nvidia/pytorch:23.10-py3");
    const char *want[] = {"python", "train.py", "--data", "/data", NULL};
    assert_tokens(want);
    assert_string_equal(F.job.run_argv.v[0], "python");
}

static void test_body__local_sif_uses_default_image(void **state)
{
    (void)state;
    assert_int_equal(parse("#!/bin/bash\nSIF=/p/gatk.sif\n"
                           "apptainer exec --bind ${REF}:/refs \"$SIF\" \\\n"
                           "  gatk --java-options \"-Xmx40g -XX:P=4\" Hc\n"), 0);
    assert_null(F.job.image);
    assert_true(has_warning("holds a local image file"));
    const char *want[] = {"gatk", "--java-options", "-Xmx40g -XX:P=4", "Hc",
                          NULL};
    assert_tokens(want);
}

static void test_body__pyxis_image_in_srun(void **state)
{
    (void)state;
    assert_int_equal(parse("#!/bin/bash\n#SBATCH -n 1\n"
                           "srun --container-image=nvcr.io#nvidia/pytorch:24.01-py3 "
                           "--container-mounts=/a:/a --no-container-mount-home "
                           "python /code/embed.py --fp16\n"), 0);
    assert_string_equal(F.job.image, "nvcr.io/nvidia/pytorch:24.01-py3");
    const char *want[] = {"python", "/code/embed.py", "--fp16", NULL};
    assert_tokens(want);
    assert_int_equal(F.job.distributed, S2R_DIST_NONE);
}

static void test_body__torchrun_multi_node_is_pytorch(void **state)
{
    (void)state;
    assert_int_equal(parse("#!/bin/bash\n#SBATCH -N 4\n#SBATCH --ntasks-per-node=1\n"
                           "head=$(scontrol show hostnames \"$SLURM_JOB_NODELIST\" | head -n1)\n"
                           "srun torchrun --nnodes=$SLURM_NNODES --nproc_per_node=8 "
                           "--rdzv_backend=c10d --rdzv_endpoint=$head:29400 "
                           "train.py --bs 512\n"), 0);
    assert_int_equal(F.job.distributed, S2R_DIST_PYTORCH);
    const char *want[] = {"train.py", "--bs", "512", NULL};
    assert_tokens(want);
    /* rendezvous comes from the PyTorchJob: options and scontrol dropped */
    assert_int_equal(F.job.run_argv.n, 5);
    assert_string_equal(F.job.run_argv.v[0], "torchrun");
    assert_string_equal(F.job.run_argv.v[1], "--nproc_per_node=8");
    assert_string_equal(F.job.run_argv.v[2], "train.py");
    assert_true(has_warning("scontrol show hostnames"));
}

/* the first host, still read after the rewrite, is the PyTorchJob's
 * master: MASTER_ADDR, not an empty variable */
static void test_body__first_host_becomes_master_addr(void **state)
{
    (void)state;
    assert_int_equal(parse("#!/bin/bash\n#SBATCH -N 2\n#SBATCH --ntasks-per-node=1\n"
                           "head_node=$(scontrol show hostnames \"$SLURM_JOB_NODELIST\" | head -n 1)\n"
                           "export MASTER_ADDR=$head_node\n"
                           "srun torchrun --nnodes=2 --nproc_per_node=4 "
                           "--rdzv_backend=c10d --rdzv_endpoint=$head_node:29400 "
                           "train.py\n"), 0);
    assert_int_equal(F.job.distributed, S2R_DIST_PYTORCH);
    assert_non_null(strstr(F.job.run_shell,
                           "head_node=\"${MASTER_ADDR}\"\n"
                           "export MASTER_ADDR=$head_node\n"));
    assert_false(has_warning("scontrol show hostnames"));
    /* other host lists, and a first host nothing reads, are dropped */
    teardown(NULL);
    setup(NULL);
    assert_int_equal(parse("#!/bin/bash\n#SBATCH -N 2\n#SBATCH --ntasks-per-node=1\n"
                           "hosts=$(scontrol show hostnames | tail -n 1)\n"
                           "head=`scontrol show hostnames $SLURM_NODELIST | head -1`\n"
                           "echo $hosts\n"
                           "srun torchrun --nnodes=2 --nproc_per_node=4 "
                           "--rdzv_endpoint=$head:29400 train.py\n"), 0);
    assert_null(strstr(F.job.run_shell, "MASTER_ADDR"));
    assert_true(has_warning("hosts=$(scontrol"));
    assert_true(has_warning("head=`scontrol"));
}

/* GPU and memory variables sbatch sets from the options given, and the
 * pod's GPU ordinals for a script that counts CUDA_VISIBLE_DEVICES */
static void test_body__gpu_and_memory_variables(void **state)
{
    (void)state;
    assert_int_equal(parse("#!/bin/bash\n#SBATCH -N 2\n#SBATCH --ntasks-per-node=2\n"
                           "#SBATCH --gpus-per-node=a100:4\n#SBATCH --mem-per-gpu=10G\n"
                           "n=$(echo \"$CUDA_VISIBLE_DEVICES\" | tr , '\\n' | wc -l)\n"
                           "echo $SLURM_GPUS_PER_NODE $SLURM_MEM_PER_GPU "
                           "$SLURM_TASKS_PER_NODE $SLURM_JOB_GPUS $SLURM_GPUS\n"
                           "python t.py $n\n"), 0);
    const s2r_envv *e = &F.job.slurm_env;
    assert_string_equal(s2r_envv_get(e, "SLURM_GPUS_PER_NODE"), "a100:4");
    assert_string_equal(s2r_envv_get(e, "SLURM_MEM_PER_GPU"), "10240");
    assert_string_equal(s2r_envv_get(e, "SLURM_TASKS_PER_NODE"), "2(x2)");
    assert_string_equal(s2r_envv_get(e, "SLURM_JOB_GPUS"), "0,1,2,3");
    assert_null(s2r_envv_get(e, "SLURM_GPUS")); /* no --gpus: unset */
    assert_non_null(strstr(F.job.run_shell, "export CUDA_VISIBLE_DEVICES="
                           "\"${CUDA_VISIBLE_DEVICES:-0,1,2,3}\"\n"));
}

/* per sbatch(1) (23.11 and later) the gres/gpu entries of --tres-per-task
 * are --gpus-per-task: SLURM_GPUS_PER_TASK as sbatch exports it */
static void test_body__tres_per_task_gpus_per_task(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"cpu:4,gres/gpu:2", "2"},       {"gres/gpu=3", "3"},
        {"gres:gpu:a100:1", "a100:1"},   {"gres/gpu", "1"},
        {"gres/gpu:a100:1,cpu=2", NULL}, {"cpu=2", NULL}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char script[256];
        snprintf(script, sizeof(script),
                 "#!/bin/bash\n#SBATCH -n 2 --tres-per-task=%s\n"
                 "echo $SLURM_GPUS_PER_TASK\npython t.py\n", cases[i][0]);
        assert_int_equal(parse(script), 0);
        const char *v = s2r_envv_get(&F.job.slurm_env, "SLURM_GPUS_PER_TASK");
        if (cases[i][1])
            assert_string_equal(v, cases[i][1]);
        else
            assert_null(v); /* unset, or known only to the job */
        teardown(NULL);
        setup(NULL);
    }
}

/* bash expands ~ after the = of an assignment: the pod's shell must */
static void test_body__tilde_export_stays_in_the_body(void **state)
{
    (void)state;
    assert_int_equal(parse("#!/bin/bash\nexport HF_HOME=~/hf\n"
                           "export P=/opt/bin:~/bin\npython x.py\n"), 0);
    assert_null(s2r_envv_get(&F.job.env, "HF_HOME"));
    assert_null(s2r_envv_get(&F.job.env, "P"));
    assert_non_null(strstr(F.job.run_shell, "export HF_HOME=~/hf\n"
                                            "export P=/opt/bin:~/bin\n"));
}

/* --export=NAME takes NAME from the submit environment: a warning */
static void test_body__export_name_without_value_warns(void **state)
{
    (void)state;
    assert_int_equal(parse("#!/bin/bash\n#SBATCH --export=ALL,FOO,BAR=1\n"
                           "echo $FOO $BAR\n"), 0);
    assert_true(has_warning("--export names FOO without a value"));
    assert_false(has_warning("names ALL"));
    assert_false(has_warning("names BAR"));
    assert_string_equal(s2r_envv_get(&F.job.env, "BAR"), "1");
}

/* a cd after a command that used the submit directory stays in the
 * body: the pod starts where sbatch starts the script */
static void test_body__late_cd_keeps_the_submit_directory(void **state)
{
    (void)state;
    F.cfg.submit_dir = strdup("/project/sub"); /* config_free frees it */
    assert_int_equal(parse("#!/bin/bash\ncp config.yaml /scratch/run1/\n"
                           "cd /scratch/run1\npython train.py\n"), 0);
    assert_null(F.job.workdir); /* the submit directory */
    assert_non_null(strstr(F.job.run_shell, "cd /scratch/run1\n"));
    teardown(NULL);
    setup(NULL);
    assert_int_equal(parse("#!/bin/bash\necho start > started.txt\n"
                           "cd /scratch/run1\npython train.py\n"), 0);
    assert_null(F.job.workdir); /* the submit directory */
    teardown(NULL);
    setup(NULL);
    /* a leading cd (after echo) is the working directory */
    assert_int_equal(parse("#!/bin/bash\necho start\n"
                           "cd /scratch/run1\npython train.py\n"), 0);
    assert_string_equal(F.job.workdir, "/scratch/run1");
}

/* module and conda set-up the pod keeps (a fallback list, a block, after
 * the main command) gets a warning per line, and `module` a stand-in that
 * succeeds, so `|| exit 1` does not stop the pod */
static void test_body__setup_left_in_the_body(void **state)
{
    (void)state;
    assert_int_equal(parse("#!/bin/bash\nset -e\n"
                           "module load cuda/12 || { echo no; exit 1; }\n"
                           "if true; then ml gcc; fi\n"
                           "conda activate env || exit 1\n"
                           "echo module load x\n"
                           "python train.py\n"), 0);
    assert_non_null(strstr(F.job.run_shell, "module() {"));
    assert_non_null(strstr(F.job.run_shell,
                           "module load cuda/12 || { echo no; exit 1; }\n"));
    assert_true(has_warning("'module load cuda/12 || { echo no; exit 1; }' "
                            "stays in the pod's script"));
    assert_true(has_warning("'ml gcc; fi' stays"));
    assert_true(has_warning("'conda activate env || exit 1' stays"));
    assert_false(has_warning("'module load x' stays"));
    /* no { among the command's tokens */
    const char *want[] = {"python", "train.py", NULL};
    assert_tokens(want);
}

/* the set-up scan reads the body's bytes only: a body that ends in the
 * first letters of a set-up command, with no NUL after it */
static void test_body__setup_scan_stays_in_the_body(void **state)
{
    (void)state;
    static const char text[] = "#!/bin/bash\npython t.py\nmodule load x\ns";
    size_t n = sizeof(text) - 1;
    char *buf = malloc(n);
    assert_non_null(buf);
    memcpy(buf, text, n);
    assert_int_equal(s2r_job_parse(&F.job, "job.sh", buf, n, &F.cfg, &F.d), 0);
    assert_true(has_warning("'module load x' stays"));
    free(buf);
}

static void test_body__torchrun_standalone_single_node(void **state)
{
    (void)state;
    assert_int_equal(parse("#!/bin/bash\n#SBATCH --gres=gpu:4\n"
                           "torchrun --standalone --nproc_per_node=4 pre.py -c x\n"), 0);
    assert_int_equal(F.job.distributed, S2R_DIST_NONE);
    const char *want[] = {"pre.py", "-c", "x", NULL};
    assert_tokens(want);
    assert_string_equal(F.job.run_argv.v[1], "--standalone");
}

static void test_body__mpirun_gives_mpi_with_task_count(void **state)
{
    (void)state;
    assert_int_equal(parse("#!/bin/bash\n#SBATCH -N 4\n#SBATCH --ntasks-per-node=32\n"
                           "mpirun -np \"$SLURM_NTASKS\" --bind-to core ./dns -i a.nml\n"),
                     0);
    assert_int_equal(F.job.distributed, S2R_DIST_MPI);
    const char *want[] = {"./dns", "-i", "a.nml", NULL};
    assert_tokens(want);
    const char *argv[] = {"mpirun", "-np", "128", "--bind-to", "core", "./dns",
                          "-i", "a.nml"};
    assert_int_equal(F.job.run_argv.n, 8);
    for (size_t i = 0; i < 8; i++)
        assert_string_equal(F.job.run_argv.v[i], argv[i]);
}

static void test_body__srun_of_many_tasks_is_mpi(void **state)
{
    (void)state;
    assert_int_equal(parse("#!/bin/bash\n#SBATCH -n 96\n"
                           "srun --mpi=pmix lmp -in in.equil\n"), 0);
    assert_int_equal(F.job.distributed, S2R_DIST_MPI);
    assert_string_equal(F.job.run_argv.v[0], "mpirun");
    assert_string_equal(F.job.run_argv.v[2], "96");
    /* each rank gets srun's SLURM_PROCID and SLURM_LOCALID */
    assert_string_equal(F.job.run_argv.v[3], "bash");
    assert_non_null(strstr(F.job.run_argv.v[5],
                           "SLURM_PROCID=\"${OMPI_COMM_WORLD_RANK:-"));
    assert_string_equal(F.job.run_argv.v[6], "s2r-task");
    assert_string_equal(F.job.run_argv.v[7], "lmp");
}

static void test_body__srun_bash_c_string_is_unwrapped(void **state)
{
    (void)state;
    assert_int_equal(parse("#!/bin/bash\n#SBATCH -N 2\n#SBATCH --ntasks-per-node=1\n"
                           "srun bash -c 'accelerate launch --num_machines $SLURM_NNODES "
                           "--machine_rank $SLURM_NODEID --main_process_ip $MASTER_ADDR "
                           "--multi_gpu sft.py --lr 2e-5'\n"), 0);
    assert_int_equal(F.job.distributed, S2R_DIST_PYTORCH);
    const char *want[] = {"sft.py", "--lr", "2e-5", NULL};
    assert_tokens(want);
    assert_non_null(strstr(F.job.run_shell,
                           "accelerate launch --num_machines 2 --machine_rank "
                           "\"$RANK\" --main_process_ip \"$MASTER_ADDR\" "
                           "--multi_gpu sft.py --lr 2e-5"));
}

static void test_body__deepspeed_multi_node_becomes_torchrun(void **state)
{
    (void)state;
    assert_int_equal(parse("#!/bin/bash\n#SBATCH -N 2\n#SBATCH --gres=gpu:8\n"
                           "deepspeed --hostfile hf --master_port 29600 moe.py "
                           "--deepspeed\n"), 0);
    assert_int_equal(F.job.distributed, S2R_DIST_PYTORCH);
    assert_string_equal(F.job.run_argv.v[0], "torchrun");
    assert_string_equal(F.job.run_argv.v[1], "--nproc_per_node=8");
    assert_string_equal(F.job.run_argv.v[2], "moe.py");
}

static void test_body__heredoc_is_kept_verbatim(void **state)
{
    (void)state;
    const char *s = "#!/bin/bash\npython3 - <<'EOF'\n# not a comment to drop\n"
                    "print(\"$HOME\")\n\nmodule load x\nEOF\necho after\n";
    assert_int_equal(parse(s), 0);
    const char *want[] = {"python3", "-", NULL};
    assert_tokens(want);
    assert_non_null(strstr(F.job.run_shell,
                           "python3 - <<'EOF'\n# not a comment to drop\n"
                           "print(\"$HOME\")\n\nmodule load x\nEOF\n"));
}

static void test_body__pipeline_first_stage_and_kept_whole(void **state)
{
    (void)state;
    assert_int_equal(parse("#!/bin/bash\nbwa mem -t 4 -R \"@RG\\tID:${s}\" ref.fa \\\n"
                           "  | samtools sort -o out.bam -\n"), 0);
    const char *want[] = {"bwa", "mem", "-t", "4", "-R", "@RG\\tID:${s}",
                          "ref.fa", NULL};
    assert_tokens(want);
    assert_non_null(strstr(F.job.run_shell, "| samtools sort -o out.bam -"));
    assert_non_null(strstr(F.job.run_shell, "\"@RG\\tID:${s}\""));
}

static void test_body__background_main_keeps_ampersand(void **state)
{
    (void)state;
    assert_int_equal(parse("#!/bin/bash\ntrap 'kill $child' USR1\n"
                           "python ppo.py --resume auto &\nchild=$!\nwait \"$child\"\n"), 0);
    const char *want[] = {"python", "ppo.py", "--resume", "auto", NULL};
    assert_tokens(want);
    assert_non_null(strstr(F.job.run_shell,
                           "python ppo.py --resume auto &\nchild=$!\n"));
}

/* a notebook server: the random tunnel port becomes a fixed one in place,
 * it listens on every interface, and the tunnel instructions go */
static void test_body__jupyter_gets_fixed_port_and_address(void **state)
{
    (void)state;
    assert_int_equal(parse("#!/bin/bash\n"
                           "port=$(shuf -i 20000-30000 -n 1)\n"
                           "node=$(hostname -s)\n"
                           "echo \"ssh -N -L ${port}:${node}:${port} login\"\n"
                           "jupyter lab --no-browser --ip=\"$node\" "
                           "--port=\"$port\"\n"), 0);
    assert_string_equal(F.job.server, "jupyter lab");
    assert_false(F.job.serving);
    assert_int_equal(F.job.server_port, 8888);
    assert_non_null(strstr(F.job.run_shell, "port=8888\n"));
    assert_null(strstr(F.job.run_shell, "shuf"));
    assert_null(strstr(F.job.run_shell, "ssh -N"));
    assert_non_null(strstr(F.job.run_shell,
                           "jupyter lab --no-browser --ip=0.0.0.0 "
                           "\"--port=$port\""));
}

/* a flag that makes the server listen everywhere, given already, is
 * not given twice */
static void test_body__server_listen_flag_once(void **state)
{
    (void)state;
    assert_int_equal(parse("#!/bin/bash\n#SBATCH -G1\ntensorboard --logdir "
                           "runs --bind_all &\npython t.py\n"), 0);
    assert_non_null(strstr(F.job.run_shell, "--logdir runs --bind_all &"));
    assert_null(strstr(F.job.run_shell, "--bind_all --bind_all"));
    teardown(NULL);
    setup(NULL);
    assert_int_equal(parse("#!/bin/bash\n#SBATCH -G1\ntensorboard --logdir "
                           "runs &\npython t.py\n"), 0);
    assert_non_null(strstr(F.job.run_shell, "--logdir runs --bind_all &"));
}

static void test_body__server_defaults_and_literal_ports(void **state)
{
    (void)state;
    /* no address given: Jupyter would bind loopback only */
    assert_int_equal(parse("#!/bin/bash\njupyter notebook --port 9999\n"), 0);
    assert_int_equal(F.job.server_port, 9999);
    assert_int_equal(F.job.run_argv.n, 5);
    assert_string_equal(F.job.run_argv.v[4], "--ip=0.0.0.0");
    teardown(NULL);
    setup(NULL);
    assert_int_equal(parse("#!/bin/bash\nvllm serve meta/llama --port 8001\n"),
                     0);
    assert_string_equal(F.job.server, "vllm");
    assert_true(F.job.serving);
    assert_int_equal(F.job.server_port, 8001);
    teardown(NULL);
    setup(NULL);
    assert_int_equal(parse("#!/bin/bash\ncode-server --bind-addr "
                           "127.0.0.1:9000 .\n"), 0);
    assert_int_equal(F.job.server_port, 9000);
    assert_string_equal(F.job.run_argv.v[2], "0.0.0.0:9000");
    teardown(NULL);
    setup(NULL);
    /* not a server */
    assert_int_equal(parse("#!/bin/bash\npython train.py --port 1\n"), 0);
    assert_null(F.job.server);
}

static void test_body__quoted_expansion_renders_as_token(void **state)
{
    (void)state;
    assert_int_equal(parse("#!/bin/bash\nport=1\npython app.py --ip=\"$node\" "
                           "--port=\"$port\"\n"), 0);
    const char *want[] = {"python", "app.py", "--ip=$node", "--port=$port", NULL};
    assert_tokens(want);
    assert_non_null(strstr(F.job.run_shell,
                           "python app.py \"--ip=$node\" \"--port=$port\""));
}

static void test_body__slurm_constants_become_env(void **state)
{
    (void)state;
    assert_int_equal(parse("#!/bin/bash\n#SBATCH -c 8\n#SBATCH -J myjob\n"
                           "run --threads ${SLURM_CPUS_PER_TASK} --name "
                           "$SLURM_JOB_NAME --rank $SLURM_PROCID\n"), 0);
    assert_string_equal(s2r_envv_get(&F.job.slurm_env, "SLURM_CPUS_PER_TASK"), "8");
    assert_string_equal(s2r_envv_get(&F.job.slurm_env, "SLURM_JOB_NAME"), "myjob");
    /* the rank: every pod exports it (core/runai pod script) */
    assert_null(strstr(F.job.run_shell, "export SLURM_PROCID="));
}

/* the per-task stand-ins are read as whole names: a longer name that
 * holds one (MY_SLURM_LOCALID, SLURM_TMPDIR_X), or SLURM_NODELIST inside
 * SLURM_JOB_NODELIST, is not a mention of it */
static void test_body__slurm_names_are_read_as_whole_words(void **state)
{
    (void)state;
    assert_int_equal(parse("#!/bin/bash\n#SBATCH -N 2\n#SBATCH -p gpu\n"
                           "echo $MY_SLURM_LOCALID ${SLURM_TMPDIR_X} "
                           "$SLURM_NPROCSX $SLURM_JOB_PARTITION,"
                           "$SLURM_RESTART_COUNT\n"
                           "run $SLURM_JOB_NUM_NODES\n"), 0);
    assert_null(strstr(F.job.run_shell, "export SLURM_LOCALID="));
    assert_null(strstr(F.job.run_shell, "export SLURM_TMPDIR="));
    assert_non_null(strstr(F.job.run_shell, "export SLURM_RESTART_COUNT=0"));
    assert_null(s2r_envv_get(&F.job.slurm_env, "SLURM_NPROCS"));
    assert_string_equal(s2r_envv_get(&F.job.slurm_env, "SLURM_JOB_PARTITION"),
                        "gpu");
    assert_string_equal(s2r_envv_get(&F.job.slurm_env, "SLURM_JOB_NUM_NODES"),
                        "2");
    assert_false(has_warning("reads SLURM_JOB_NODELIST"));
    teardown(NULL);
    setup(NULL);
    assert_int_equal(parse("#!/bin/bash\nX=$SLURM_LOCALID\n"
                           "run --hosts \"$SLURM_JOB_NODELIST\"\n"), 0);
    assert_non_null(strstr(F.job.run_shell, "export SLURM_LOCALID="));
    assert_true(has_warning("reads SLURM_JOB_NODELIST"));
}

/* sbatch(1) OUTPUT ENVIRONMENT VARIABLES the pod knows (its host name,
 * its start, the --qos and --reservation given) are set; those only
 * SLURM knows are warned, never left unset in silence */
static void test_body__slurm_run_facts(void **state)
{
    (void)state;
    assert_int_equal(parse("#!/bin/bash\n#SBATCH -t 10\n#SBATCH --qos=high\n"
                           "#SBATCH --reservation=r1\n"
                           "echo $SLURMD_NODENAME $SLURM_JOB_END_TIME "
                           "$SLURM_JOB_QOS $SLURM_JOB_RESERVATION\n"
                           "run\n"), 0);
    assert_non_null(strstr(F.job.run_shell, "export SLURMD_NODENAME="));
    assert_non_null(strstr(F.job.run_shell, "printf -v SLURM_JOB_START_TIME"));
    assert_non_null(strstr(F.job.run_shell, "export SLURM_JOB_END_TIME="
                                            "$((SLURM_JOB_START_TIME + 600))"));
    assert_string_equal(s2r_envv_get(&F.job.slurm_env, "SLURM_JOB_QOS"), "high");
    assert_string_equal(s2r_envv_get(&F.job.slurm_env, "SLURM_JOB_RESERVATION"),
                        "r1");
    assert_false(has_warning("SLURMD_NODENAME"));
    assert_false(has_warning("reads SLURM_JOB"));
    teardown(NULL);
    setup(NULL);
    /* no --time, --qos or --reservation; MY_SLURMD_NODENAME is no mention */
    assert_int_equal(parse("#!/bin/bash\necho $SLURM_JOB_END_TIME "
                           "$SLURM_JOB_QOS $SLURM_JOB_RESERVATION "
                           "$SLURM_CLUSTER_NAME $SLURM_SUBMIT_HOST "
                           "$MY_SLURMD_NODENAME\nrun\n"), 0);
    assert_null(strstr(F.job.run_shell, "SLURM_JOB_END_TIME=$(("));
    assert_null(strstr(F.job.run_shell, "export SLURMD_NODENAME="));
    assert_null(s2r_envv_get(&F.job.slurm_env, "SLURM_JOB_RESERVATION"));
    assert_true(has_warning("reads SLURM_JOB_END_TIME"));
    assert_true(has_warning("reads SLURM_JOB_QOS"));
    assert_true(has_warning("reads SLURM_CLUSTER_NAME"));
    assert_true(has_warning("reads SLURM_SUBMIT_HOST"));
    assert_false(has_warning("SLURM_JOB_RESERVATION"));
    teardown(NULL);
    setup(NULL);
    /* the default partition and account only SLURM knows */
    assert_int_equal(parse("#!/bin/bash\necho $SLURM_JOB_PARTITION "
                           "$SLURM_JOB_ACCOUNT\nrun\n"), 0);
    assert_true(has_warning("reads SLURM_JOB_PARTITION"));
    assert_true(has_warning("reads SLURM_JOB_ACCOUNT"));
    teardown(NULL);
    setup(NULL);
    /* an unlimited time: slurmctld's end time is a year after the start
     * (job_end_time_reset()) */
    assert_int_equal(parse("#!/bin/bash\n#SBATCH -t UNLIMITED\n"
                           "echo $SLURM_JOB_END_TIME\nrun\n"), 0);
    assert_non_null(strstr(F.job.run_shell, "+ 31536000))"));
    assert_false(has_warning("reads SLURM_JOB_END_TIME"));
    teardown(NULL);
    setup(NULL);
    /* tasks the directives do not spread evenly: slurmctld's choice */
    assert_int_equal(parse("#!/bin/bash\n#SBATCH -N 2 -n 5\n"
                           "echo $SLURM_TASKS_PER_NODE\nrun\n"), 0);
    assert_null(s2r_envv_get(&F.job.slurm_env, "SLURM_TASKS_PER_NODE"));
    assert_true(has_warning("reads SLURM_TASKS_PER_NODE"));
    teardown(NULL);
    setup(NULL);
    /* of several partitions, slurmctld picks the one the job starts in */
    assert_int_equal(parse("#!/bin/bash\n#SBATCH -p gpu,cpu\n"
                           "echo $SLURM_JOB_PARTITION\nrun\n"), 0);
    assert_null(s2r_envv_get(&F.job.slurm_env, "SLURM_JOB_PARTITION"));
    assert_true(has_warning("the one of --partition's partitions"));
}

/* The pod runs one image with no container runtime in it: apptainer,
 * singularity and srun's container on lines besides the main command are
 * removed as on the main command (their --env in front of the line), and
 * an image in a variable assigned once is that image */
static void test_body__side_containers_run_in_the_pod(void **state)
{
    (void)state;
    assert_int_equal(parse("#!/bin/bash\n"
                           "IMG=docker://nvcr.io/nvidia/pytorch:24.01-py3\n"
                           "apptainer exec --nv $IMG python prep.py\n"
                           "apptainer exec --nv --env A=1 \"$IMG\" python train.py\n"
                           "srun singularity exec ${IMG} python eval.py\n"), 0);
    assert_string_equal(F.job.image, "nvcr.io/nvidia/pytorch:24.01-py3");
    assert_null(strstr(F.job.run_shell, "apptainer"));
    assert_null(strstr(F.job.run_shell, "singularity"));
    assert_non_null(strstr(F.job.run_shell, "A=1 python train.py"));
    assert_non_null(strstr(F.job.run_shell, "python eval.py"));
    assert_false(has_warning("local container image"));
    assert_false(has_warning("no OCI reference"));
    teardown(NULL);
    setup(NULL);
    /* another image on a side line runs in the pod's: warned; a runscript
     * stays as written, warned; a variable assigned twice is not read */
    assert_int_equal(parse("#!/bin/bash\n"
                           "IMG=docker://a/b:1\nIMG=docker://a/c:2\n"
                           "apptainer exec docker://x/y:1 python prep.py\n"
                           "apptainer exec $IMG python train.py\n"
                           "apptainer exec docker://z/w:2 python eval.py\n"
                           "singularity run docker://alpine:3\n"), 0);
    assert_true(has_warning("a workload has one image"));
    assert_true(has_warning("in the image '$IMG', a variable"));
    assert_true(has_warning("runscript"));
    assert_non_null(strstr(F.job.run_shell, "singularity run"));
    teardown(NULL);
    setup(NULL);
    /* an exported image variable is read as the plain one */
    assert_int_equal(parse("#!/bin/bash\nexport IMG=docker://p/y:3\n"
                           "singularity exec $IMG python t.py\n"), 0);
    assert_string_equal(F.job.image, "p/y:3");
}

/* srun's output in $( ) on the pods of a PyTorchJob holds each pod's
 * own tasks only: said; in one pod it is all of it: not said */
static void test_body__captured_srun_on_several_pods(void **state)
{
    (void)state;
    assert_int_equal(parse("#!/bin/bash\n#SBATCH -N 2 --ntasks-per-node=1 "
                           "--gpus-per-node=1\n"
                           "HEAD=$(srun -N1 -n1 hostname)\n"
                           "srun python t.py\n"), 0);
    assert_true(has_warning("srun's output taken with $( )"));
    teardown(NULL);
    setup(NULL);
    assert_int_equal(parse("#!/bin/bash\n#SBATCH -n 2\n"
                           "HOSTS=$(srun hostname)\nmy_srun_x=`date`\n"
                           "srun python t.py\n"), 0);
    assert_false(has_warning("srun's output taken"));
}

/* singularity --home DIR: the container's HOME is DIR, mounted there */
static void test_body__singularity_home(void **state)
{
    (void)state;
    assert_int_equal(parse("#!/bin/bash\nsingularity exec -H /p/home:/h "
                           "docker://a/b:1 python t.py\n"), 0);
    assert_string_equal(s2r_envv_get(&F.job.env, "HOME"), "/h");
    assert_int_equal(F.job.n_binds, 1);
    assert_string_equal(F.job.binds[0].source, "/p/home");
    assert_string_equal(F.job.binds[0].target, "/h");
}

/* pyxis' #SBATCH --container-mounts are binds as on srun, and an
 * absolute --container-workdir the working directory, read through the
 * binds: the pod has the bind's source at its own path */
static void test_body__pyxis_directives_mount_and_workdir(void **state)
{
    (void)state;
    assert_int_equal(parse("#!/bin/bash\n"
                           "#SBATCH --container-image=nvcr.io#nvidia/x:1\n"
                           "#SBATCH --container-mounts=/p/lab:/workspace,"
                           "/s/me:/data:ro\n"
                           "#SBATCH --container-workdir=/workspace/run\n"
                           "python t.py\n"), 0);
    assert_int_equal(F.job.n_binds, 2);
    assert_string_equal(F.job.binds[0].source, "/p/lab");
    assert_string_equal(F.job.binds[0].target, "/workspace");
    assert_true(F.job.binds[1].read_only);
    assert_string_equal(F.job.workdir, "/p/lab/run");
    teardown(NULL);
    setup(NULL);
    assert_int_equal(parse("#!/bin/bash\n#SBATCH --container-workdir=rel\n"
                           "python t.py\n"), 0);
    assert_true(has_warning("'rel' is not absolute"));
}

/* a container's --env is its command's alone: with other lines in the
 * pod, or a value the shell expands, it goes in front of the command
 * (expanding), not into every line's environment; a lone command with
 * literal values keeps them in the pods' environment */
static void test_body__container_env_scope(void **state)
{
    (void)state;
    assert_int_equal(parse("#!/bin/bash\nD=/d$SLURM_JOB_ID\n"
                           "apptainer exec --env DATA=$D,M=x docker://a/b:1 "
                           "python t.py\npython u.py\n"), 0);
    assert_null(s2r_envv_get(&F.job.env, "DATA"));
    assert_null(s2r_envv_get(&F.job.env, "M"));
    assert_non_null(strstr(F.job.run_shell,
                           "DATA=\"$D\" M=x python t.py"));
    teardown(NULL);
    setup(NULL);
    assert_int_equal(parse("#!/bin/bash\napptainer exec --env M=x "
                           "docker://a/b:1 python t.py\n"), 0);
    assert_string_equal(s2r_envv_get(&F.job.env, "M"), "x");
    teardown(NULL);
    setup(NULL);
    /* --pwd likewise: the pods' working directory only for a lone
     * command, else env -C in front of the command */
    assert_int_equal(parse("#!/bin/bash\nD=/s/ds\nmkdir -p out\n"
                           "apptainer exec --pwd $D docker://a/b:1 "
                           "python t.py\ncp x out/\n"), 0);
    assert_non_null(strstr(F.job.run_shell, "env -C \"$D\" python t.py"));
    assert_true(!F.job.workdir || strcmp(F.job.workdir, "/s/ds"));
    teardown(NULL);
    setup(NULL);
    assert_int_equal(parse("#!/bin/bash\napptainer exec --pwd /s/ds "
                           "docker://a/b:1 python t.py\n"), 0);
    assert_string_equal(F.job.workdir, "/s/ds");
}

/* apptainer or singularity left in a loop, a block or a function: the
 * pod's script defines a stand-in for them, and their one image is the
 * pod's; a word that only holds the name is no runtime */
static void test_body__container_standin(void **state)
{
    (void)state;
    assert_int_equal(parse("#!/bin/bash\nfor f in a b; do\n"
                           "  apptainer exec --env X=$f docker://a/b:1 "
                           "python run.py $f\ndone\n"), 0);
    assert_string_equal(F.job.image, "a/b:1");
    assert_non_null(strstr(F.job.run_shell, "apptainer() { s2r_container"));
    assert_non_null(strstr(F.job.run_shell, "s2r_container_valued='"));
    assert_true(has_warning("'apptainer' stays in the pod's script"));
    assert_false(has_warning("names no container image"));
    teardown(NULL);
    setup(NULL);
    assert_int_equal(parse("#!/bin/bash\nnextflow run x -profile "
                           "singularity,slurm\n"), 0);
    assert_true(!F.job.run_shell ||
                !strstr(F.job.run_shell, "s2r_container"));
    assert_false(has_warning("stays in the pod's script"));
}

/* APPTAINERENV_NAME exported with a run-time value: the pod, with no
 * runtime to pass it on, exports NAME after it */
static void test_body__container_env_prefix_at_run_time(void **state)
{
    (void)state;
    assert_int_equal(parse("#!/bin/bash\nexport APPTAINERENV_RUN=$X "
                           "SINGULARITYENV_T=$(date +%s)\n"
                           "apptainer exec docker://a/b:1 python t.py\n"), 0);
    assert_non_null(strstr(F.job.run_shell,
                           "SINGULARITYENV_T=$(date +%s); export "
                           "RUN=\"$APPTAINERENV_RUN\" "
                           "T=\"$SINGULARITYENV_T\"\n"));
}

/* an export kept for its run-time value as the last bytes of a text with
 * no NUL after it: its words are read within their bytes (a fuzz
 * finding: fuzz_script/export-container-env-at-end) */
static void test_body__export_at_the_end_of_the_text(void **state)
{
    (void)state;
    static const char text[] = "#!/bin/bash\nexport APPTAINERENV_A=$X B=$Y";
    assert_int_equal(parse_exact(text, sizeof(text) - 1), 0);
    assert_non_null(strstr(F.job.run_shell, "; export A=\"$APPTAINERENV_A\""));
}

static bool has_note(const char *needle)
{
    for (size_t i = 0; i < F.d.n; i++)
        if (F.d.v[i].severity == S2R_SEV_NOTE &&
            strstr(F.d.v[i].message, needle))
            return true;
    return false;
}

/* Per sbatch(1) the script is copied and executed: the pod writes the
 * whole text ("$1" of the launcher) to a file and runs the #! line on it,
 * never `python3 -c` (no __file__) */
static void test_body__python_shebang_runs_the_program(void **state)
{
    (void)state;
    assert_int_equal(parse("#!/usr/bin/env python3\n#SBATCH -c 2\n"
                           "print('hi')\n"), 0);
    assert_int_equal(F.job.run_argv.n, 5);
    assert_string_equal(F.job.run_argv.v[0], "bash");
    assert_string_equal(F.job.run_argv.v[1], "-c");
    assert_non_null(strstr(F.job.run_argv.v[2],
                           "\nexec /usr/bin/env python3 \"$s2r_script\" "
                           "\"$@\"\n"));
    assert_non_null(strstr(F.job.run_argv.v[2], "printf %s \"$1\" >"));
    assert_string_equal(F.job.run_argv.v[3], "s2r-job");
    assert_string_equal(F.job.run_argv.v[4], "#!/usr/bin/env python3\n"
                                             "#SBATCH -c 2\nprint('hi')\n");
    const char *want[] = {"python3", NULL};
    assert_tokens(want);
    assert_true(has_note("runs its #! line on that file "
                         "('/usr/bin/env python3 FILE')"));
}

/* perl -c and node -c only check the syntax: the #! line's interpreter
 * and its one optional argument run the file, as execve(2) runs them */
static void test_body__interpreter_runs_its_file(void **state)
{
    (void)state;
    assert_int_equal(parse("#!/usr/bin/perl  -w -T \t\n#SBATCH -c 1\n"
                           "print \"it's $0\\n\";\n"), 0);
    assert_int_equal(F.job.run_argv.n, 5);
    const char *l = F.job.run_argv.v[2];
    assert_non_null(strstr(l, "s2r_interp=/usr/bin/perl\n"
                              "[ -x \"$s2r_interp\" ] || s2r_interp=perl\n"
                              "exec \"$s2r_interp\" '-w -T' "
                              "\"$s2r_script\" \"$@\"\n"));
    assert_null(strstr(l, " -c "));
    assert_string_equal(F.job.run_argv.v[4], "#!/usr/bin/perl  -w -T \t\n"
                        "#SBATCH -c 1\nprint \"it's $0\\n\";\n");
    assert_true(has_note("('/usr/bin/perl -w -T FILE')"));
    assert_true(has_warning("in the pod $0 is a copy of it under $TMPDIR"));
    for (size_t i = 0; i < F.d.n; i++)
        assert_null(strstr(F.d.v[i].message, "-c SCRIPT"));
}

static void test_body__env_interpreter_and_odd_paths(void **state)
{
    (void)state;
    assert_int_equal(parse("#!/usr/bin/env node\nconsole.log(1)\n"), 0);
    assert_non_null(strstr(F.job.run_argv.v[2],
                           "exec /usr/bin/env node \"$s2r_script\""));
    assert_null(strstr(F.job.run_argv.v[2], "s2r_interp"));
    teardown(state);
    setup(state);
    /* a path with a quote is one shell word */
    assert_int_equal(parse("#!/opt/it's R/Rscript\ncat(1)\n"), 0);
    assert_non_null(strstr(F.job.run_argv.v[2],
                           "s2r_interp='/opt/it'\\''s'\n"));
    assert_non_null(strstr(F.job.run_argv.v[2],
                           "exec \"$s2r_interp\" R/Rscript "
                           "\"$s2r_script\""));
    teardown(state);
    setup(state);
    /* env -S splits its one argument itself */
    assert_int_equal(parse("#!/usr/bin/env -S perl -w\nprint 1;\n"), 0);
    assert_non_null(strstr(F.job.run_argv.v[2],
                           "exec /usr/bin/env '-S perl -w' "
                           "\"$s2r_script\""));
    const char *want[] = {"perl", NULL};
    assert_tokens(want);
}

static void test_body__no_main_command_keeps_the_body(void **state)
{
    (void)state;
    assert_int_equal(parse("#!/bin/bash\nfor i in 1 2; do\n  ./step $i\ndone\n"), 0);
    assert_int_equal(F.job.command_tokens.n, 0);
    assert_non_null(strstr(F.job.run_shell, "for i in 1 2; do\n  ./step $i\ndone"));
    assert_true(has_warning("no main command"));
}

/* A script of directives, or of lines the pod drops or lifts only, runs
 * nothing: the pod runs `true` (not the image's entrypoint), no warning */
static void test_body__no_command_runs_true(void **state)
{
    (void)state;
    static const char *const scripts[] = {
        "#!/bin/bash\n#SBATCH -N 1\n",
        "#!/bin/bash\n#SBATCH -N 1\nmodule load gcc\nexport A=1\n"};
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(parse(scripts[i]), 0);
        assert_int_equal(F.job.run_argv.n, 1);
        assert_string_equal(F.job.run_argv.v[0], "true");
        assert_false(has_warning("no main command"));
        teardown(NULL);
        setup(NULL);
    }
}

static void test_body__setup_and_chain_is_dropped(void **state)
{
    (void)state;
    assert_int_equal(parse("#!/bin/bash\nmodule load cuda && python t.py --x 1\n"), 0);
    assert_int_equal(F.job.run_argv.n, 4);
    assert_string_equal(F.job.run_argv.v[0], "python");
    assert_true(has_warning("module load cuda &&"));
}

static void test_body__cd_and_chain_is_kept(void **state)
{
    (void)state;
    assert_int_equal(parse("#!/bin/bash\ncd run && ./solve -n 2\n"), 0);
    const char *want[] = {"./solve", "-n", "2", NULL};
    assert_tokens(want);
    assert_non_null(strstr(F.job.run_shell, "cd run && ./solve -n 2"));
}

static void test_body__image_default_command(void **state)
{
    (void)state;
    assert_int_equal(parse("#!/bin/bash\napptainer run --nv docker://ghcr.io/o/a:1\n"), 0);
    assert_string_equal(F.job.image, "ghcr.io/o/a:1");
    assert_int_equal(F.job.run_argv.n, 0);
    assert_null(F.job.run_shell);
}

static void test_body__array_assignment_kept(void **state)
{
    (void)state;
    assert_int_equal(parse("#!/bin/bash\nx=(a \"b c\")\narr+=(d)\n"
                           "python t.py \"${x[@]}\"\n"), 0);
    assert_non_null(strstr(F.job.run_shell, "x=(a \"b c\")\narr+=(d)\n"));
    const char *want[] = {"python", "t.py", "${x[@]}", NULL};
    assert_tokens(want);
}

static void test_body__srun_steps_run_through_the_standin(void **state)
{
    (void)state;
    assert_int_equal(parse("#!/bin/bash\n#SBATCH -n 2\n"
                           "srun -n1 --exact python w.py --shard 0 &\n"
                           "srun -n1 --exact python w.py --shard 1 &\n"
                           "for i in 1 2; do srun -n 1 ./post $i; done\nwait\n"), 0);
    assert_true(F.job.srun_standin);
    assert_non_null(strstr(F.job.run_shell,
                           "srun -n1 --exact python w.py --shard 0 &\n"));
    assert_non_null(strstr(F.job.run_shell,
                           "srun -n1 --exact python w.py --shard 1 &"));
    assert_non_null(strstr(F.job.run_shell, "do srun -n 1 ./post $i; done"));
    assert_false(has_warning("srun dropped"));
    assert_int_equal(F.job.distributed, S2R_DIST_NONE);
}

static void test_body__container_options(void **state)
{
    (void)state;
    assert_int_equal(parse("#!/bin/bash\n"
                           "srun --container-image=nvcr.io#nvidia/nemo:24.07 "
                           "--container-workdir=/workspace/nemo "
                           "--container-mounts=/a:/a --export=ALL,OMP_NUM_THREADS=4 "
                           "python t.py\n"), 0);
    assert_string_equal(F.job.image, "nvcr.io/nvidia/nemo:24.07");
    assert_string_equal(F.job.workdir, "/workspace/nemo");
    assert_string_equal(s2r_envv_get(&F.job.env, "OMP_NUM_THREADS"), "4");
    assert_true(has_warning("container bind /a -> /a"));
    assert_int_equal(F.job.n_binds, 1);
}

static void test_body__singularity_run_args_for_entrypoint(void **state)
{
    (void)state;
    assert_int_equal(parse("#!/bin/bash\nsingularity run --env A=1 --pwd /opt "
                           "-B /d:/d docker://ghcr.io/l/t:1 --input in.csv\n"), 0);
    assert_string_equal(F.job.image, "ghcr.io/l/t:1");
    assert_true(F.job.run_args_only);
    assert_int_equal(F.job.run_argv.n, 2);
    assert_string_equal(F.job.run_argv.v[0], "--input");
    assert_string_equal(F.job.workdir, "/opt");
    assert_string_equal(s2r_envv_get(&F.job.env, "A"), "1");
    assert_true(has_warning("container bind /d -> /d"));
    assert_int_equal(F.job.n_binds, 1);
    assert_string_equal(F.job.binds[0].target, "/d");
}

static void test_body__local_pyxis_image(void **state)
{
    (void)state;
    assert_int_equal(parse("#!/bin/bash\nsrun --container-image=/l/pt.sqsh "
                           "python x.py\n"), 0);
    assert_null(F.job.image);
    assert_true(has_warning("/l/pt.sqsh"));
}

static void test_body__literal_np_is_kept(void **state)
{
    (void)state;
    assert_int_equal(parse("#!/bin/bash\n#SBATCH -N 2\n#SBATCH --ntasks-per-node=4\n"
                           "mpirun -np 4 --bind-to core ./cfd\n"), 0);
    assert_string_equal(F.job.run_argv.v[2], "4");
}

static void test_body__exec_and_prefix_need_a_shell(void **state)
{
    (void)state;
    assert_int_equal(parse("#!/bin/bash\nexec python run.py\n"), 0);
    assert_int_equal(F.job.run_argv.n, 0);
    assert_non_null(strstr(F.job.run_shell, "exec python run.py"));
    const char *want[] = {"python", "run.py", NULL};
    assert_tokens(want);
}

static void test_body__apptainerenv_prefix(void **state)
{
    (void)state;
    assert_int_equal(parse("#!/bin/bash\nexport APPTAINERENV_WANDB_MODE=offline\n"
                           "python t.py\n"), 0);
    assert_string_equal(s2r_envv_get(&F.job.env, "WANDB_MODE"), "offline");
}

/* run @p body with `python` printing its arguments one per line */
static char *run_args(const char *body)
{
    char path[] = "/tmp/s2r-args-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *fn = "python() { for a in \"$@\"; do printf '[%s]\\n' \"$a\"; done; }\n";
    assert_int_equal(write(fd, fn, strlen(fn)), (ssize_t)strlen(fn));
    assert_int_equal(write(fd, body, strlen(body)), (ssize_t)strlen(body));
    close(fd);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "bash %s", path);
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    static char out[4096];
    size_t n = fread(out, 1, sizeof(out) - 1, f);
    out[n] = '\0';
    pclose(f);
    unlink(path);
    return out;
}

static void test_body__quoted_arguments_verbatim_in_the_body(void **state)
{
    (void)state;
    /* the echo keeps the body a bash script; every argument must reach the
     * program as the same bytes and stand verbatim in the text */
    assert_int_equal(parse("#!/bin/bash\necho start\n"
                           "python e.py --prompt \"Say \\\"hi\\\" to \\$USER's cat; "
                           "don't run \\`ls\\`\" --tag \"a'b\" --sys 'x \"y\" $Z'\n"), 0);
    const char *want[] = {"python", "e.py", "--prompt",
                          "Say \"hi\" to $USER's cat; don't run `ls`",
                          "--tag", "a'b", "--sys", "x \"y\" $Z", NULL};
    assert_tokens(want);
    for (size_t i = 0; want[i]; i++)
        assert_non_null(strstr(F.job.run_shell, want[i]));
    assert_string_equal(run_args(F.job.run_shell),
                        "start\n[e.py]\n[--prompt]\n"
                        "[Say \"hi\" to $USER's cat; don't run `ls`]\n"
                        "[--tag]\n[a'b]\n[--sys]\n[x \"y\" $Z]\n");
}

static void test_body__escaped_quotes_in_double_quotes(void **state)
{
    (void)state;
    assert_int_equal(parse("#!/bin/bash\nx=5\n"
                           "python r.py --msg \"He said \\\"$x\\\" ok\"\n"), 0);
    const char *want[] = {"python", "r.py", "--msg", "He said \"$x\" ok", NULL};
    assert_tokens(want);
    assert_non_null(strstr(F.job.run_shell, want[3]));
    assert_string_equal(run_args(F.job.run_shell),
                        "[r.py]\n[--msg]\n[He said \"5\" ok]\n");
}

static void test_body__conda_run_is_a_wrapper(void **state)
{
    (void)state;
    assert_int_equal(parse("#!/bin/bash\nconda run -n env --no-capture-output "
                           "python t.py --lr 0.1\n"), 0);
    const char *want[] = {"python", "t.py", "--lr", "0.1", NULL};
    assert_tokens(want);
    assert_string_equal(F.job.run_argv.v[0], "python");
    assert_true(has_warning("'conda run' dropped"));
}

/* per execve(2) the kernel passes the #! line's option word to the shell:
 * its `set` flags start the pod's script, after s2r's prelude; a login
 * shell or another option is warned; #!/usr/bin/env passes none */
static void test_body__shebang_options_are_set(void **state)
{
    (void)state;
    assert_int_equal(parse("#!/bin/bash -eu\n#SBATCH -c 1\n"
                           "false\necho should not run\n"), 0);
    assert_non_null(F.job.run_shell);
    const char *set = strstr(F.job.run_shell, "set -eu\n");
    assert_non_null(set);
    assert_true(set < strstr(F.job.run_shell, "false"));
    assert_false(has_warning("#! line"));
}

static void test_body__shebang_trace_keeps_the_shell(void **state)
{
    (void)state;
    assert_int_equal(parse("#!/bin/bash -x\npython train.py\n"), 0);
    assert_non_null(F.job.run_shell);
    assert_non_null(strstr(F.job.run_shell, "set -x\n"));
    assert_int_equal(F.job.run_argv.n, 0);
}

static void test_body__shebang_login_is_warned(void **state)
{
    (void)state;
    assert_int_equal(parse("#!/bin/bash -l\nfalse\npython train.py\n"), 0);
    assert_true(has_warning("login shell"));
    assert_null(strstr(F.job.run_shell, "set -"));
}

static void test_body__shebang_env_passes_no_option(void **state)
{
    (void)state;
    assert_int_equal(parse("#!/usr/bin/env bash\nfalse\n"
                           "python train.py\n"), 0);
    assert_false(has_warning("#! line"));
    assert_null(strstr(F.job.run_shell, "set -"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        T(test_body__a_test_is_not_the_main_command),
        T(test_body__shebang_options_are_set),
        T(test_body__shebang_trace_keeps_the_shell),
        T(test_body__shebang_login_is_warned),
        T(test_body__shebang_env_passes_no_option),
        T(test_body__setup_lines_are_not_the_main_command),
        T(test_body__slurm_names_are_read_as_whole_words),
        T(test_body__slurm_run_facts),
        T(test_body__single_literal_command_is_one_argv),
        T(test_body__exports_resolve_slurm_values),
        T(test_body__cd_sets_the_working_directory),
        T(test_body__cd_submit_dir_is_the_default),
        T(test_body__singularity_docker_image),
        T(test_body__local_sif_uses_default_image),
        T(test_body__pyxis_image_in_srun),
        T(test_body__torchrun_multi_node_is_pytorch),
        T(test_body__first_host_becomes_master_addr),
        T(test_body__gpu_and_memory_variables),
        T(test_body__tres_per_task_gpus_per_task),
        T(test_body__tilde_export_stays_in_the_body),
        T(test_body__export_name_without_value_warns),
        T(test_body__late_cd_keeps_the_submit_directory),
        T(test_body__setup_left_in_the_body),
        T(test_body__setup_scan_stays_in_the_body),
        T(test_body__torchrun_standalone_single_node),
        T(test_body__mpirun_gives_mpi_with_task_count),
        T(test_body__srun_of_many_tasks_is_mpi),
        T(test_body__srun_bash_c_string_is_unwrapped),
        T(test_body__deepspeed_multi_node_becomes_torchrun),
        T(test_body__heredoc_is_kept_verbatim),
        T(test_body__pipeline_first_stage_and_kept_whole),
        T(test_body__background_main_keeps_ampersand),
        T(test_body__quoted_expansion_renders_as_token),
        T(test_body__jupyter_gets_fixed_port_and_address),
        T(test_body__server_listen_flag_once),
        T(test_body__server_defaults_and_literal_ports),
        T(test_body__slurm_constants_become_env),
        T(test_body__python_shebang_runs_the_program),
        T(test_body__interpreter_runs_its_file),
        T(test_body__env_interpreter_and_odd_paths),
        T(test_body__no_main_command_keeps_the_body),
        T(test_body__no_command_runs_true),
        T(test_body__singularity_home),
        T(test_body__export_at_the_end_of_the_text),
        T(test_body__container_env_prefix_at_run_time),
        T(test_body__container_standin),
        T(test_body__container_env_scope),
        T(test_body__pyxis_directives_mount_and_workdir),
        T(test_body__captured_srun_on_several_pods),
        T(test_body__setup_and_chain_is_dropped),
        T(test_body__cd_and_chain_is_kept),
        T(test_body__image_default_command),
        T(test_body__array_assignment_kept),
        T(test_body__srun_steps_run_through_the_standin),
        T(test_body__container_options),
        T(test_body__singularity_run_args_for_entrypoint),
        T(test_body__local_pyxis_image),
        T(test_body__literal_np_is_kept),
        T(test_body__exec_and_prefix_need_a_shell),
        T(test_body__apptainerenv_prefix),
        T(test_body__side_containers_run_in_the_pod),
        T(test_body__quoted_arguments_verbatim_in_the_body),
        T(test_body__escaped_quotes_in_double_quotes),
        T(test_body__conda_run_is_a_wrapper),
#undef T
    };
    return cmocka_run_group_tests_name("body", tests, NULL, NULL);
}
