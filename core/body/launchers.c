/* launchers.c: the option grammars of the programs a batch script puts in
 * front of its computation, one table per program, read by the body
 * analysis and by the model guard (core/llm) alike (body.h). From the
 * manuals: srun(1) (Slurm 22.05-24.11, pyxis' --container-* options),
 * mpirun(1) (Open MPI 4/5, MPICH Hydra, Intel MPI), horovodrun --help
 * (Horovod 0.28), torchrun (torch/distributed/run.py), accelerate launch
 * --help (Accelerate 0.3x/1.x), deepspeed (deepspeed/launcher/runner.py),
 * singularity/apptainer exec --help, podman-hpc run --help, enroot(1),
 * conda run --help, env(1), timeout(1), nice(1), stdbuf(1), taskset(1). */
#include "body.h"
#include "launchers.h"

#include "base/base.h"

#include <string.h>

/* Each table is sorted as strcmp orders the names (s2r_sorted_findn). */
#define V(n) {n, 1, NULL, S2R_LR_NONE}
#define V2(n) {n, 2, NULL, S2R_LR_NONE}
#define F(n) {n, 0, NULL, S2R_LR_NONE}
#define K(n, k) {n, 1, k, S2R_LR_NONE}
#define R(n, role) {n, 1, NULL, role}
#define KR(n, k, role) {n, 1, k, role}
#define END {NULL, 0, NULL, S2R_LR_NONE}

/* srun(1): every option that takes a value; -K, --exclusive and the
 * other options with an optional value take it only after '='. The key
 * is the long name, for the step's size. */
static const s2r_launch_opt srun_opts[] = {
    V("--account"), V("--acctg-freq"), V("--bb"), V("--bbf"), F("--bcast"),
    V("--begin"), K("--chdir", "chdir"), V("--cluster-constraint"),
    V("--clusters"), V("--comment"), V("--constraint"), V("--container"),
    K("--container-env", "container-env"), V("--container-id"),
    K("--container-image", "container-image"), F("--container-mount-home"),
    K("--container-mounts", "container-mounts"),
    K("--container-name", "container-name"), F("--container-readonly"),
    F("--container-remap-root"), K("--container-save", "container-save"),
    K("--container-workdir", "container-workdir"), F("--container-writable"),
    V("--core-spec"), V("--cores-per-socket"), V("--cpu-bind"),
    V("--cpu-freq"), V("--cpus-per-gpu"),
    K("--cpus-per-task", "cpus-per-task"), V("--deadline"), V("--delay-boot"),
    V("--dependency"), F("--disable-status"), V("--distribution"),
    K("--epilog", "epilog"), K("--error", "error"), F("--exact"),
    K("--exclude", "exclude"), F("--exclusive"), K("--export", "export"),
    V("--extra"), V("--extra-node-info"), V("--gid"), V("--gpu-bind"),
    V("--gpu-freq"), K("--gpus", "gpus"),
    K("--gpus-per-node", "gpus-per-node"), V("--gpus-per-socket"),
    K("--gpus-per-task", "gpus-per-task"), K("--gres", "gres"),
    V("--gres-flags"), K("--het-group", "het-group"), V("--hint"),
    K("--input", "input"), V("--job-name"), K("--jobid", "jobid"),
    F("--kill-on-bad-exit"), F("--label"), V("--licenses"), V("--mail-type"),
    V("--mail-user"), V("--mcs-label"), V("--mem"), V("--mem-bind"),
    V("--mem-per-cpu"), V("--mem-per-gpu"), V("--mincpus"), V("--mpi"),
    F("--multi-prog"), V("--network"), F("--no-allocate"),
    F("--no-container-mount-home"), F("--no-kill"),
    K("--nodefile", "nodefile"), K("--nodelist", "nodelist"),
    K("--nodes", "nodes"), K("--ntasks", "ntasks"), V("--ntasks-per-core"),
    V("--ntasks-per-gpu"), K("--ntasks-per-node", "ntasks-per-node"),
    V("--ntasks-per-socket"), V("--ntasks-per-tres"),
    K("--open-mode", "open-mode"), K("--output", "output"), F("--overcommit"),
    F("--overlap"), F("--oversubscribe"), V("--partition"), V("--power"),
    V("--prefer"), F("--preserve-env"), V("--priority"), V("--profile"),
    K("--prolog", "prolog"), F("--pty"), V("--qos"), F("--quiet"),
    K("--relative", "relative"), V("--reservation"), V("--segment"),
    V("--signal"), V("--slurmd-debug"), V("--sockets-per-node"),
    V("--switches"), K("--task-epilog", "task-epilog"),
    K("--task-prolog", "task-prolog"), V("--thread-spec"), V("--threads"),
    V("--threads-per-core"), V("--time"), V("--time-min"), V("--tmp"),
    V("--tres-bind"), V("--tres-per-task"), V("--uid"), F("--unbuffered"),
    F("--verbose"), K("--wait", "wait"), V("--wckey"), V("-A"), V("-B"),
    V("-C"), K("-D", "chdir"), F("-E"), K("-F", "nodefile"), K("-G", "gpus"),
    V("-J"), F("-K"), V("-L"), V("-M"), K("-N", "nodes"), F("-O"), F("-Q"),
    V("-S"), V("-T"), K("-W", "wait"), F("-X"), F("-Z"), V("-b"),
    K("-c", "cpus-per-task"), V("-d"), K("-e", "error"), K("-i", "input"),
    F("-k"), F("-l"), V("-m"), K("-n", "ntasks"), K("-o", "output"), V("-p"),
    V("-q"), K("-r", "relative"), F("-s"), V("-t"), F("-u"), F("-v"),
    K("-w", "nodelist"), K("-x", "exclude"), END};

/* mpirun(1) of Open MPI, MPICH Hydra and Intel MPI: one or two dashes
 * alike; -np/-c/-n set the process count, host lists are placement. */
static const s2r_launch_opt mpirun_opts[] = {
    R("-H", S2R_LR_PLACEMENT), KR("-N", "npernode", S2R_LR_PLACEMENT),
    F("-allow-run-as-root"), V("-am"), V("-bind-to"), V("-bootstrap"),
    KR("-c", "np", S2R_LR_PLACEMENT), V("-configfile"), V("-cpus-per-proc"),
    V("-cpus-per-rank"), F("-display-map"), V2("-env"),
    R("-f", S2R_LR_PLACEMENT), V2("-genv"), V("-genvlist"), V2("-gmca"),
    R("-host", S2R_LR_PLACEMENT), R("-hostfile", S2R_LR_PLACEMENT),
    R("-hosts", S2R_LR_PLACEMENT), V("-iface"), V("-launch-agent"),
    V("-launcher"), R("-machinefile", S2R_LR_PLACEMENT), V("-map-by"),
    V2("-mca"), KR("-n", "np", S2R_LR_PLACEMENT),
    KR("-np", "np", S2R_LR_PLACEMENT),
    KR("-npernode", "npernode", S2R_LR_PLACEMENT), V("-output"),
    V("-output-filename"), F("-oversubscribe"),
    KR("-perhost", "npernode", S2R_LR_PLACEMENT), V("-personality"),
    V2("-pmixmca"), KR("-ppn", "npernode", S2R_LR_PLACEMENT), V("-prefix"),
    V2("-prtemca"), V("-rank-by"), R("-rankfile", S2R_LR_PLACEMENT),
    F("-report-bindings"), V("-report-bindings-file"),
    R("-rf", S2R_LR_PLACEMENT), V("-rr"), V("-runtime-options"),
    V("-stream-buffering"), F("-tag-output"), V("-timeout"), V("-tune"),
    F("-v"), V("-wd"), V("-wdir"), V("-with-ft"), V("-x"), END};

/* horovodrun --help: -np is the process count, the host options are the
 * placement an MPIJob's hostfile replaces. */
static const s2r_launch_opt horovodrun_opts[] = {
    F("--autotune"), V("--autotune-log-file"),
    V2("--blacklist-cooldown-range"), V("--cache-capacity"),
    F("--check-build"), V("--config-file"), V("--cycle-time-ms"),
    F("--disable-cache"), F("--elastic-timeout"), V("--fusion-threshold-mb"),
    F("--gloo"), V("--gloo-timeout-seconds"), F("--hierarchical-allgather"),
    F("--hierarchical-allreduce"),
    R("--host-discovery-script", S2R_LR_PLACEMENT),
    R("--hostfile", S2R_LR_PLACEMENT), R("--hosts", S2R_LR_PLACEMENT),
    F("--jsrun"), V("--log-level"), V("--max-np"), V("--min-np"), F("--mpi"),
    V("--mpi-args"), V("--network-interface"), V("--network-interfaces"),
    V("--nics"), KR("--num-proc", "np", S2R_LR_PLACEMENT),
    V("--output-filename"), V("--reset-limit"), R("--slots", S2R_LR_PLACEMENT),
    R("--slots-per-host", S2R_LR_PLACEMENT), V("--ssh-identity-file"),
    V("--ssh-port"), V("--start-timeout"), V("--timeline-filename"),
    F("--verbose"), R("-H", S2R_LR_PLACEMENT), V("-cb"),
    R("-hostfile", S2R_LR_PLACEMENT), V("-i"),
    KR("-np", "np", S2R_LR_PLACEMENT), V("-p"), END};

/* torchrun and python -m torch.distributed.run|launch: the rendezvous
 * options are what a PyTorchJob sets through PET_* (per the Kubeflow
 * training operator's envvar.go). */
static const s2r_launch_opt torchrun_opts[] = {
    V("--event-log-handler"), R("--local-addr", S2R_LR_RENDEZVOUS),
    V("--local-ranks-filter"), R("--local_addr", S2R_LR_RENDEZVOUS),
    V("--local_ranks_filter"), V("--log-dir"), V("--log_dir"),
    V("--logs-specs"), V("--logs_specs"),
    R("--master-addr", S2R_LR_RENDEZVOUS),
    R("--master-port", S2R_LR_RENDEZVOUS),
    R("--master_addr", S2R_LR_RENDEZVOUS),
    R("--master_port", S2R_LR_RENDEZVOUS), V("--max-restarts"),
    V("--max_restarts"), F("--module"), V("--monitor-interval"),
    V("--monitor_interval"), KR("--nnodes", "nnodes", S2R_LR_RENDEZVOUS),
    F("--no-python"), F("--no_python"), R("--node-rank", S2R_LR_RENDEZVOUS),
    R("--node_rank", S2R_LR_RENDEZVOUS),
    K("--nproc-per-node", "nproc_per_node"),
    K("--nproc_per_node", "nproc_per_node"), V("--numa-binding"),
    R("--rdzv-backend", S2R_LR_RENDEZVOUS),
    R("--rdzv-conf", S2R_LR_RENDEZVOUS),
    R("--rdzv-endpoint", S2R_LR_RENDEZVOUS), R("--rdzv-id", S2R_LR_RENDEZVOUS),
    R("--rdzv_backend", S2R_LR_RENDEZVOUS),
    R("--rdzv_conf", S2R_LR_RENDEZVOUS),
    R("--rdzv_endpoint", S2R_LR_RENDEZVOUS), R("--rdzv_id", S2R_LR_RENDEZVOUS),
    V("--redirects"), V("--role"), F("--run-path"), F("--run_path"),
    V("--signals-to-handle"), F("--standalone"), V("--start-method"),
    V("--start_method"), V("--tee"), F("--use-env"), F("--use_env"), F("-m"),
    V("-r"), V("-t"), END};

/* accelerate launch --help: the machine options are what a PyTorchJob
 * provides (RANK, MASTER_ADDR, MASTER_PORT, the node count). */
static const s2r_launch_opt accelerate_opts[] = {
    V("--config-file"), V("--config_file"), F("--cpu"), F("--debug"),
    V("--deepspeed_config_file"), V("--deepspeed_exclusion_filter"),
    V("--deepspeed_hostfile"), V("--deepspeed_inclusion_filter"),
    V("--deepspeed_multinode_launcher"), V("--dynamo_backend"),
    V("--dynamo_mode"), F("--dynamo_use_fullgraph"), F("--fp16"),
    V("--fsdp_auto_wrap_policy"), V("--fsdp_backward_prefetch"),
    V("--fsdp_min_num_params"), V("--fsdp_offload_params"),
    V("--fsdp_sharding_strategy"), V("--fsdp_state_dict_type"),
    V("--fsdp_transformer_layer_cls_to_wrap"), V("--fsdp_version"),
    V("--gpu-ids"), V("--gpu_ids"), V("--gradient_accumulation_steps"),
    V("--gradient_clipping"), V("--log_dir"),
    R("--machine-rank", S2R_LR_MACHINE_RANK),
    R("--machine_rank", S2R_LR_MACHINE_RANK),
    R("--main-process-ip", S2R_LR_MAIN_IP),
    R("--main-process-port", S2R_LR_MAIN_PORT),
    R("--main_process_ip", S2R_LR_MAIN_IP),
    R("--main_process_port", S2R_LR_MAIN_PORT), V("--main_training_function"),
    V("--max_restarts"), V("--mixed-precision"), V("--mixed_precision"),
    F("--module"), V("--monitor_interval"), F("--multi-gpu"), F("--multi_gpu"),
    F("--no_python"),
    KR("--num-machines", "num_machines", S2R_LR_NUM_MACHINES),
    K("--num-processes", "num_processes"), V("--num_cpu_threads_per_process"),
    KR("--num_machines", "num_machines", S2R_LR_NUM_MACHINES),
    K("--num_processes", "num_processes"), V("--offload_optimizer_device"),
    V("--offload_param_device"), F("--quiet"), V("--rdzv_backend"),
    V("--rdzv_conf"), V("--redirects"), V("--role"), F("--same_network"),
    V("--tee"), F("--tpu"), V("--tpu_name"), V("--tpu_zone"), F("--use_cpu"),
    F("--use_deepspeed"), F("--use_fsdp"), F("--use_megatron_lm"),
    F("--use_xpu"), V("--zero_stage"), F("-m"), F("-q"), END};

/* deepspeed (deepspeed/launcher/runner.py): the hostfile and pdsh/ssh
 * fan-out options. */
static const s2r_launch_opt deepspeed_opts[] = {
    V("--autotuning"), V("--bind_core_list"), F("--bind_cores_to_rank"),
    V("--comment"), F("--elastic_training"), V("--enable_each_rank_log"),
    V("--exclude"), F("--force_multi"), V("--hostfile"), V("--include"),
    V("--launcher"), V("--launcher_args"), V("--master_addr"),
    V("--master_port"), V("--max_elastic_nodes"), V("--min_elastic_nodes"),
    F("--module"), F("--no-python"), F("--no_local_rank"), F("--no_python"),
    F("--no_ssh"), F("--no_ssh_check"), V("--node_rank"),
    K("--num-gpus", "num_gpus"), K("--num-nodes", "num_nodes"),
    V("--num_accelerators"), K("--num_gpus", "num_gpus"),
    K("--num_nodes", "num_nodes"), F("--save_pid"), V("--ssh_port"),
    V("--venv_script"), V("-H"), V("-e"), V("-i"), END};

/* singularity/apptainer exec|run|shell --help */
static const s2r_launch_opt singularity_opts[] = {
    V("--add-caps"), V("--app"), V("--apply-cgroups"), V("--authfile"),
    K("--bind", "bind"), V("--blkio-weight"), F("--cleanenv"), F("--compat"),
    V("--config"), F("--contain"), F("--containall"), V("--cpu-shares"),
    V("--cpus"), V("--cpuset-cpus"), V("--cwd"), V("--dns"), V("--drop-caps"),
    K("--env", "env"), K("--env-file", "env-file"), F("--fakeroot"),
    V("--fusemount"), K("--home", "home"), V("--hostname"), V("--memory"),
    V("--memory-swap"), K("--mount", "bind"), V("--network"),
    V("--network-args"), F("--no-home"), F("--nv"), F("--nvccli"),
    K("--overlay", "overlay"), V("--pem-path"), V("--pids-limit"),
    K("--pwd", "pwd"), F("--rocm"), V("--scratch"), V("--security"),
    F("--userns"), V("--workdir"), F("--writable"), F("--writable-tmpfs"),
    K("-B", "bind"), F("-C"), K("-H", "home"), V("-S"), V("-W"), F("-c"),
    F("-e"), K("-o", "overlay"), F("-u"), END};

/* podman-hpc run / podman run / docker run --help */
static const s2r_launch_opt podman_opts[] = {
    V("--add-host"), V("--annotation"), V("--cap-add"), V("--cap-drop"),
    V("--cgroupns"), V("--cpus"), F("--cuda-mpi"), F("--cvmfs"), F("--detach"),
    V("--device"), V("--dns"), K("--entrypoint", "entrypoint"),
    K("--env", "env"), K("--env-file", "env-file"), F("--gpu"), V("--gpus"),
    V("--group-add"), V("--hostname"), F("--init"), F("--interactive"),
    V("--ipc"), V("--label"), V("--log-driver"), V("--memory"),
    K("--mount", "mount"), F("--mpi"), V("--name"), F("--nccl"), V("--net"),
    V("--network"), F("--openmpi-pmi2"), F("--openmpi-pmix"), V("--pid"),
    V("--platform"), F("--privileged"), V("--publish"), V("--pull"),
    F("--read-only"), V("--restart"), F("--rm"), V("--security-opt"),
    V("--shm-size"), F("--squash"), V("--tmpfs"), F("--tty"), V("--ulimit"),
    V("--user"), V("--userns"), V("--uts"), K("--volume", "volume"),
    K("--workdir", "workdir"), F("-d"), K("-e", "env"), V("-h"), F("-i"),
    F("-it"), V("-l"), V("-m"), V("-p"), F("-t"), F("-ti"), V("-u"),
    K("-v", "volume"), K("-w", "workdir"), END};

/* enroot start (enroot(1)) */
static const s2r_launch_opt enroot_start_opts[] = {
    V("--conf"), K("--env", "env"), K("--mount", "mount"), F("--root"),
    F("--rw"), V("-c"), K("-e", "env"), K("-m", "mount"), F("-r"), F("-w"),
    END};

/* conda run --help */
static const s2r_launch_opt conda_run_opts[] = {
    V("--cwd"), V("--env"), F("--live-stream"), V("--name"),
    F("--no-capture-output"), V("--prefix"), F("--verbose"), V("-n"), V("-p"),
    F("-v"), END};

/* coreutils wrappers: env(1), timeout(1), nice(1), stdbuf(1),
 * taskset(1) */
static const s2r_launch_opt env_opts[] = {
    V("--chdir"), F("--debug"), F("--ignore-environment"), F("--null"),
    V("--split-string"), V("--unset"), F("-0"), V("-C"), V("-S"), F("-i"),
    V("-u"), F("-v"), END};
static const s2r_launch_opt timeout_opts[] = {
    F("--foreground"), V("--kill-after"), F("--preserve-status"),
    V("--signal"), F("--verbose"), V("-k"), V("-s"), F("-v"), END};
static const s2r_launch_opt nice_opts[] = {
    V("--adjustment"), V("-n"), END};
static const s2r_launch_opt stdbuf_opts[] = {
    V("--error"), V("--input"), V("--output"), V("-e"), V("-i"), V("-o"), END};
static const s2r_launch_opt taskset_opts[] = {
    F("--all-tasks"), V("--cpu-list"), F("--pid"), F("-a"), V("-c"), F("-p"),
    END};
static const s2r_launch_opt no_opts[] = {END};

#undef V
#undef F
#undef K
#undef R
#undef KR
#undef END

/* the names of a table, its END not counted */
#define NOPTS(t) (S2R_COUNTOF(t) - 1)
const s2r_launch_grammar s2r_launch_srun = {
    "srun", S2R_LK_SRUN, srun_opts, NOPTS(srun_opts), false, 0, false};
const s2r_launch_grammar s2r_launch_mpirun = {
    "mpirun", S2R_LK_MPIRUN, mpirun_opts, NOPTS(mpirun_opts), true, 0, false};
const s2r_launch_grammar s2r_launch_horovodrun = {
    "horovodrun", S2R_LK_HOROVODRUN, horovodrun_opts,
    NOPTS(horovodrun_opts), true, 0, false};
const s2r_launch_grammar s2r_launch_torchrun = {
    "torchrun", S2R_LK_TORCHRUN, torchrun_opts,
    NOPTS(torchrun_opts), false, 1, true};
const s2r_launch_grammar s2r_launch_accelerate = {
    "accelerate", S2R_LK_ACCELERATE, accelerate_opts,
    NOPTS(accelerate_opts), false, 1, true};
const s2r_launch_grammar s2r_launch_deepspeed = {
    "deepspeed", S2R_LK_DEEPSPEED, deepspeed_opts,
    NOPTS(deepspeed_opts), false, 1, true};
const s2r_launch_grammar s2r_launch_singularity = {
    "singularity", S2R_LK_WRAPPER, singularity_opts,
    NOPTS(singularity_opts), false, 0, false};
const s2r_launch_grammar s2r_launch_podman = {
    "podman-hpc", S2R_LK_WRAPPER, podman_opts,
    NOPTS(podman_opts), false, 0, false};
const s2r_launch_grammar s2r_launch_enroot_start = {
    "enroot", S2R_LK_WRAPPER, enroot_start_opts,
    NOPTS(enroot_start_opts), false, 0, false};
const s2r_launch_grammar s2r_launch_conda_run = {
    "conda run", S2R_LK_WRAPPER, conda_run_opts,
    NOPTS(conda_run_opts), false, 0, false};
const s2r_launch_grammar s2r_launch_env = {
    "env", S2R_LK_WRAPPER, env_opts, NOPTS(env_opts), false, 0, false};
const s2r_launch_grammar s2r_launch_timeout = {
    "timeout", S2R_LK_WRAPPER, timeout_opts,
    NOPTS(timeout_opts), false, 0, false};
const s2r_launch_grammar s2r_launch_nice = {
    "nice", S2R_LK_WRAPPER, nice_opts, NOPTS(nice_opts), false, 0, false};
const s2r_launch_grammar s2r_launch_stdbuf = {
    "stdbuf", S2R_LK_WRAPPER, stdbuf_opts,
    NOPTS(stdbuf_opts), false, 0, false};
const s2r_launch_grammar s2r_launch_taskset = {
    "taskset", S2R_LK_WRAPPER, taskset_opts,
    NOPTS(taskset_opts), false, 0, false};
const s2r_launch_grammar s2r_launch_none = {
    "", S2R_LK_WRAPPER, no_opts, NOPTS(no_opts), false, 0, false};

#undef NOPTS

/* ---- matching ---- */

/* @p name without its leading dashes */
static const char *undashed(const char *name)
{
    while (*name == '-')
        name++;
    return name;
}

static bool ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

/* The table entry spelled like the first @p nl bytes of @p w. */
static const s2r_launch_opt *find(const s2r_launch_grammar *g, const char *w,
                                  size_t nl)
{
    size_t k;
    if (!g->single_dash_long) {
        k = s2r_sorted_findn(g->opts, g->nopts, sizeof(*g->opts), w, nl);
        return k < g->nopts ? &g->opts[k] : NULL;
    }
    /* -np and --np alike: the bytes of w after its dashes looked up
     * with one dash, then with two (horovodrun lists -hostfile and
     * --hostfile, which read alike); bytes that do not fit in key are
     * more than every name has */
    char key[64];
    const char *b = undashed(w);
    size_t bl = nl - (size_t)(b - w);
    if (bl > sizeof(key) - 2)
        return NULL;
    key[0] = key[1] = '-';
    memcpy(key + 2, b, bl);
    k = s2r_sorted_findn(g->opts, g->nopts, sizeof(*g->opts), key + 1,
                         bl + 1);
    if (k == g->nopts)
        k = s2r_sorted_findn(g->opts, g->nopts, sizeof(*g->opts), key,
                             bl + 2);
    return k < g->nopts ? &g->opts[k] : NULL;
}

/* An unknown --option: how many value words it takes. */
static size_t unknown_span(const s2r_launch_grammar *g, const char *next)
{
    if (!g->guess_unknown)
        return 1 + g->unknown_nvals;
    if (!next || next[0] == '-' || ends_with(next, ".py"))
        return 1;
    return 2;
}

size_t s2r_launch_match(const s2r_launch_grammar *g, const char *w,
                        const char *next, s2r_launch_matched *m)
{
    memset(m, 0, sizeof(*m));
    if (!w || w[0] != '-' || w[1] == '\0')
        return 0;
    if (!strcmp(w, "--")) {
        m->end = true;
        return 1;
    }
    bool dbl = w[1] == '-';
    const char *eq = (dbl || g->single_dash_long) ? strchr(w, '=') : NULL;
    size_t nl = eq ? (size_t)(eq - w) : strlen(w);
    const s2r_launch_opt *o = find(g, w, nl);
    if (o) {
        m->opt = o;
        if (eq) {
            m->value = eq + 1;
            return 1;
        }
        m->value = o->nvals && next ? next : NULL;
        return 1 + o->nvals;
    }
    if (!dbl && nl > 2) {
        /* -n4, -np8, -o%t.out: a short option with its value attached */
        for (size_t k = nl - 1; k >= 2; k--) {
            const s2r_launch_opt *p = find(g, w, k);
            if (p && p->nvals == 1 && undashed(p->name)[0] != '\0' &&
                (!g->single_dash_long || p->key)) {
                m->opt = p;
                m->value = w + k;
                return 1;
            }
        }
    }
    m->unknown = true;
    if (eq)
        return 1;
    if (dbl || g->single_dash_long)
        return unknown_span(g, next);
    return 1;
}

/* The options of @p g from word @p i on, the words read through @p at
 * (NULL past the end): the index of the first word after them. One loop
 * for argv strings and lexed words alike. */
static size_t skip_options(const s2r_launch_grammar *g,
                           const char *(*at)(const void *, size_t, size_t),
                           const void *words, size_t n, size_t i)
{
    while (i < n) {
        s2r_launch_matched m;
        size_t span = s2r_launch_match(g, at(words, n, i),
                                       at(words, n, i + 1), &m);
        if (span == 0)
            return i;
        i = i + span < n ? i + span : n;
        if (m.end)
            return i;
    }
    return n;
}

static const char *argv_at(const void *argv, size_t n, size_t i)
{
    return i < n ? ((const char *const *)argv)[i] : NULL;
}

size_t s2r_launch_skip_options(const s2r_launch_grammar *g,
                               const char *const *argv, size_t n, size_t i)
{
    return skip_options(g, argv_at, argv, n, i);
}

const char *s2r_launch_key(const s2r_launch_opt *o)
{
    return o ? o->key : NULL;
}

/* ---- which launcher ---- */

static const char *base(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

static bool is_python(const char *v)
{
    const char *b = base(v);
    return !strncmp(b, "python", 6) &&
           (b[6] == '\0' || (b[6] >= '0' && b[6] <= '9'));
}

/* The launchers a command's own name identifies, sorted as strcmp orders
 * the names (s2r_sorted_find): every command of a body is looked up, and
 * few are launchers. */
typedef struct launcher_name {
    const char *name;
    const s2r_launch_grammar *grammar;
} launcher_name;
static const launcher_name launcher_names[] = {
    {"deepspeed", &s2r_launch_deepspeed},
    {"horovodrun", &s2r_launch_horovodrun},
    {"mpiexec", &s2r_launch_mpirun},
    {"mpiexec.hydra", &s2r_launch_mpirun},
    {"mpirun", &s2r_launch_mpirun},
    {"orterun", &s2r_launch_mpirun},
    {"prterun", &s2r_launch_mpirun},
    {"srun", &s2r_launch_srun},
    {"torchrun", &s2r_launch_torchrun},
};

const s2r_launch_grammar *s2r_launch_identify(const char *const *argv,
                                              size_t n, size_t *opts_at)
{
    *opts_at = 1;
    if (n == 0 || !argv[0])
        return NULL;
    const char *b = base(argv[0]);
    size_t named = s2r_sorted_find(launcher_names,
                                   S2R_COUNTOF(launcher_names),
                                   sizeof(launcher_names[0]), b);
    if (named < S2R_COUNTOF(launcher_names))
        return launcher_names[named].grammar;
    if (!strcmp(b, "accelerate") && n > 1 && argv[1] &&
        !strcmp(argv[1], "launch")) {
        *opts_at = 2;
        return &s2r_launch_accelerate;
    }
    if (is_python(argv[0])) {
        /* python [-u -O ...] -m torch.distributed.run|launch */
        size_t j = 1;
        while (j < n && argv[j] && argv[j][0] == '-' && strcmp(argv[j], "-m"))
            j++;
        if (j + 1 < n && !strcmp(argv[j], "-m") && argv[j + 1] &&
            (!strcmp(argv[j + 1], "torch.distributed.run") ||
             !strcmp(argv[j + 1], "torch.distributed.launch"))) {
            *opts_at = j + 2;
            return &s2r_launch_torchrun;
        }
    }
    return NULL;
}

/* ---- over lexed words (launchers.h) ---- */

static const char *wv(const sh_word *w, size_t n, size_t i)
{
    return i < n && w[i].value ? w[i].value : NULL;
}

size_t s2r_launch__skip_option(const s2r_launch_grammar *g, const sh_word *w,
                               size_t n, size_t i)
{
    s2r_launch_matched m;
    size_t span = s2r_launch_match(g, wv(w, n, i), wv(w, n, i + 1), &m);
    return i + span < n ? i + span : (span ? n : i);
}

static const char *word_at(const void *w, size_t n, size_t i)
{
    return wv(w, n, i);
}

size_t s2r_launch__skip_options(const s2r_launch_grammar *g, const sh_word *w,
                                size_t n, size_t i)
{
    return skip_options(g, word_at, w, n, i);
}

s2r_launch_role s2r_launch__role(const s2r_launch_grammar *g,
                                 const sh_word *w, size_t n, size_t i)
{
    s2r_launch_matched m;
    if (!s2r_launch_match(g, wv(w, n, i), wv(w, n, i + 1), &m) || !m.opt)
        return S2R_LR_NONE;
    return m.opt->role;
}
