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

#include <stdlib.h>
#include <string.h>

/* n: the name as a string literal (its length is taken from it) */
#define V(n) {n, sizeof(n) - 1, 1, NULL, S2R_LR_NONE}
#define V2(n) {n, sizeof(n) - 1, 2, NULL, S2R_LR_NONE}
#define F(n) {n, sizeof(n) - 1, 0, NULL, S2R_LR_NONE}
#define K(n, k) {n, sizeof(n) - 1, 1, k, S2R_LR_NONE}
#define R(n, role) {n, sizeof(n) - 1, 1, NULL, role}
#define KR(n, k, role) {n, sizeof(n) - 1, 1, k, role}
#define END {NULL, 0, 0, NULL, S2R_LR_NONE}

/* srun(1): every option that takes a value; -K, --exclusive and the
 * other options with an optional value take it only after '='. The key
 * is the long name, for the step's size. */
static const s2r_launch_opt srun_opts[] = {
    K("-n", "ntasks"), K("--ntasks", "ntasks"), K("-N", "nodes"),
    K("--nodes", "nodes"), K("--ntasks-per-node", "ntasks-per-node"),
    K("-c", "cpus-per-task"), K("--cpus-per-task", "cpus-per-task"),
    K("-G", "gpus"), K("--gpus", "gpus"), K("--gpus-per-task", "gpus-per-task"),
    K("--gpus-per-node", "gpus-per-node"), K("--gres", "gres"),
    K("-r", "relative"), K("--relative", "relative"),
    K("-o", "output"), K("--output", "output"), K("-e", "error"),
    K("--error", "error"), K("-i", "input"), K("--input", "input"),
    K("-D", "chdir"), K("--chdir", "chdir"), K("--export", "export"),
    K("--open-mode", "open-mode"), K("-W", "wait"), K("--wait", "wait"),
    K("--container-image", "container-image"),
    K("--container-mounts", "container-mounts"),
    K("--container-workdir", "container-workdir"),
    K("--container-env", "container-env"),
    K("--container-name", "container-name"),
    K("--container-save", "container-save"),
    K("--het-group", "het-group"), K("--jobid", "jobid"),
    K("--prolog", "prolog"), K("--epilog", "epilog"),
    K("--task-prolog", "task-prolog"), K("--task-epilog", "task-epilog"),
    K("-w", "nodelist"), K("--nodelist", "nodelist"), K("-x", "exclude"),
    K("--exclude", "exclude"), K("-F", "nodefile"), K("--nodefile", "nodefile"),
    V("-A"), V("--account"), V("--acctg-freq"), V("--bb"), V("--bbf"),
    V("-b"), V("--begin"), V("--cluster-constraint"), V("-M"),
    V("--clusters"), V("--comment"), V("-C"), V("--constraint"),
    V("--container"), V("--container-id"), V("-S"), V("--core-spec"),
    V("--cores-per-socket"), V("--cpu-bind"), V("--cpu-freq"),
    V("--cpus-per-gpu"), V("--deadline"), V("--delay-boot"), V("-d"),
    V("--dependency"), V("-m"), V("--distribution"), V("--extra"),
    V("-B"), V("--extra-node-info"), V("--gid"), V("--gpu-bind"),
    V("--gpu-freq"), V("--gpus-per-socket"), V("--gres-flags"), V("--hint"),
    V("-J"), V("--job-name"), V("-L"), V("--licenses"), V("--mail-type"),
    V("--mail-user"), V("--mcs-label"), V("--mem"), V("--mem-bind"),
    V("--mem-per-cpu"), V("--mem-per-gpu"), V("--mincpus"), V("--mpi"),
    V("--network"), V("--ntasks-per-core"), V("--ntasks-per-gpu"),
    V("--ntasks-per-socket"), V("--ntasks-per-tres"), V("-p"),
    V("--partition"), V("--power"), V("--prefer"), V("--priority"),
    V("--profile"), V("-q"), V("--qos"), V("--reservation"),
    V("--segment"), V("--signal"), V("--slurmd-debug"),
    V("--sockets-per-node"), V("--switches"), V("-T"), V("--threads"),
    V("--thread-spec"), V("--threads-per-core"), V("-t"), V("--time"),
    V("--time-min"), V("--tmp"), V("--tres-bind"), V("--tres-per-task"),
    V("--uid"), V("--wckey"), F("-l"), F("--label"), F("-K"),
    F("--kill-on-bad-exit"), F("--exclusive"), F("--exact"), F("--overlap"),
    F("--multi-prog"), F("--pty"), F("-u"), F("--unbuffered"), F("-v"),
    F("--verbose"), F("-Q"), F("--quiet"), F("-X"), F("--disable-status"),
    F("-O"), F("--overcommit"), F("-s"), F("--oversubscribe"), F("-E"),
    F("--preserve-env"), F("-k"), F("--no-kill"), F("-Z"),
    F("--no-allocate"), F("--bcast"), F("--container-remap-root"),
    F("--container-mount-home"), F("--no-container-mount-home"),
    F("--container-writable"), F("--container-readonly"), END};

/* mpirun(1) of Open MPI, MPICH Hydra and Intel MPI: one or two dashes
 * alike; -np/-c/-n set the process count, host lists are placement. */
static const s2r_launch_opt mpirun_opts[] = {
    KR("-np", "np", S2R_LR_PLACEMENT), KR("-n", "np", S2R_LR_PLACEMENT),
    KR("-c", "np", S2R_LR_PLACEMENT),
    KR("-N", "npernode", S2R_LR_PLACEMENT),
    KR("-npernode", "npernode", S2R_LR_PLACEMENT),
    KR("-ppn", "npernode", S2R_LR_PLACEMENT),
    KR("-perhost", "npernode", S2R_LR_PLACEMENT),
    R("-H", S2R_LR_PLACEMENT), R("-host", S2R_LR_PLACEMENT),
    R("-hosts", S2R_LR_PLACEMENT), R("-hostfile", S2R_LR_PLACEMENT),
    R("-machinefile", S2R_LR_PLACEMENT), R("-f", S2R_LR_PLACEMENT),
    R("-rf", S2R_LR_PLACEMENT), R("-rankfile", S2R_LR_PLACEMENT),
    V("-map-by"), V("-bind-to"), V("-rank-by"), V("-x"), V("-wdir"),
    V("-wd"), V("-output-filename"), V("-prefix"), V("-launch-agent"),
    V("-cpus-per-proc"), V("-cpus-per-rank"), V("-am"), V("-tune"),
    V("-genvlist"), V("-iface"), V("-bootstrap"), V("-launcher"), V("-rr"),
    V("-configfile"), V("-timeout"), V("-report-bindings-file"),
    V("-personality"), V("-runtime-options"), V("-with-ft"), V("-output"),
    V("-stream-buffering"), V2("-mca"),
    V2("-gmca"), V2("-genv"),
    V2("-env"), V2("-pmixmca"),
    V2("-prtemca"), F("-tag-output"),
    F("-allow-run-as-root"), F("-oversubscribe"), F("-display-map"),
    F("-report-bindings"), F("-v"), END};

/* horovodrun --help: -np is the process count, the host options are the
 * placement an MPIJob's hostfile replaces. */
static const s2r_launch_opt horovodrun_opts[] = {
    KR("-np", "np", S2R_LR_PLACEMENT), KR("--num-proc", "np", S2R_LR_PLACEMENT),
    R("-H", S2R_LR_PLACEMENT), R("--hosts", S2R_LR_PLACEMENT),
    R("-hostfile", S2R_LR_PLACEMENT), R("--hostfile", S2R_LR_PLACEMENT),
    R("--host-discovery-script", S2R_LR_PLACEMENT),
    R("--slots-per-host", S2R_LR_PLACEMENT), R("--slots", S2R_LR_PLACEMENT),
    V("-cb"), V("-p"), V("--ssh-port"), V("-i"), V("--ssh-identity-file"),
    V("--network-interface"), V("--network-interfaces"), V("--nics"),
    V("--output-filename"), V("--start-timeout"), V("--config-file"),
    V("--mpi-args"), V("--gloo-timeout-seconds"), V("--log-level"),
    V("--fusion-threshold-mb"), V("--cycle-time-ms"), V("--cache-capacity"),
    V("--timeline-filename"), V("--min-np"), V("--max-np"),
    V("--reset-limit"), V("--autotune-log-file"),
    V2("--blacklist-cooldown-range"),
    F("--mpi"), F("--gloo"), F("--jsrun"), F("--verbose"),
    F("--disable-cache"), F("--check-build"), F("--hierarchical-allreduce"),
    F("--hierarchical-allgather"), F("--autotune"), F("--elastic-timeout"),
    END};

/* torchrun and python -m torch.distributed.run|launch: the rendezvous
 * options are what a PyTorchJob sets through PET_* (per the Kubeflow
 * training operator's envvar.go). */
static const s2r_launch_opt torchrun_opts[] = {
    KR("--nnodes", "nnodes", S2R_LR_RENDEZVOUS),
    K("--nproc_per_node", "nproc_per_node"),
    K("--nproc-per-node", "nproc_per_node"),
    R("--node_rank", S2R_LR_RENDEZVOUS), R("--node-rank", S2R_LR_RENDEZVOUS),
    R("--master_addr", S2R_LR_RENDEZVOUS),
    R("--master-addr", S2R_LR_RENDEZVOUS),
    R("--master_port", S2R_LR_RENDEZVOUS),
    R("--master-port", S2R_LR_RENDEZVOUS),
    R("--rdzv_backend", S2R_LR_RENDEZVOUS),
    R("--rdzv-backend", S2R_LR_RENDEZVOUS),
    R("--rdzv_endpoint", S2R_LR_RENDEZVOUS),
    R("--rdzv-endpoint", S2R_LR_RENDEZVOUS),
    R("--rdzv_id", S2R_LR_RENDEZVOUS), R("--rdzv-id", S2R_LR_RENDEZVOUS),
    R("--rdzv_conf", S2R_LR_RENDEZVOUS), R("--rdzv-conf", S2R_LR_RENDEZVOUS),
    R("--local_addr", S2R_LR_RENDEZVOUS), R("--local-addr", S2R_LR_RENDEZVOUS),
    V("--max_restarts"), V("--max-restarts"), V("--monitor_interval"),
    V("--monitor-interval"), V("--start_method"), V("--start-method"),
    V("--role"), V("--log_dir"), V("--log-dir"), V("-r"), V("--redirects"),
    V("-t"), V("--tee"), V("--logs_specs"), V("--logs-specs"),
    V("--local_ranks_filter"), V("--local-ranks-filter"),
    V("--event-log-handler"), V("--numa-binding"), V("--signals-to-handle"),
    F("--standalone"), F("--no-python"), F("--no_python"), F("-m"),
    F("--module"), F("--run-path"), F("--run_path"), F("--use-env"),
    F("--use_env"), END};

/* accelerate launch --help: the machine options are what a PyTorchJob
 * provides (RANK, MASTER_ADDR, MASTER_PORT, the node count). */
static const s2r_launch_opt accelerate_opts[] = {
    K("--num_processes", "num_processes"), K("--num-processes", "num_processes"),
    KR("--num_machines", "num_machines", S2R_LR_NUM_MACHINES),
    KR("--num-machines", "num_machines", S2R_LR_NUM_MACHINES),
    R("--machine_rank", S2R_LR_MACHINE_RANK),
    R("--machine-rank", S2R_LR_MACHINE_RANK),
    R("--main_process_ip", S2R_LR_MAIN_IP),
    R("--main-process-ip", S2R_LR_MAIN_IP),
    R("--main_process_port", S2R_LR_MAIN_PORT),
    R("--main-process-port", S2R_LR_MAIN_PORT),
    V("--config_file"), V("--config-file"), V("--mixed_precision"),
    V("--mixed-precision"), V("--gpu_ids"), V("--gpu-ids"),
    V("--dynamo_backend"), V("--dynamo_mode"),
    V("--num_cpu_threads_per_process"), V("--deepspeed_config_file"),
    V("--zero_stage"), V("--offload_optimizer_device"),
    V("--offload_param_device"), V("--gradient_accumulation_steps"),
    V("--gradient_clipping"), V("--deepspeed_hostfile"),
    V("--deepspeed_multinode_launcher"), V("--deepspeed_exclusion_filter"),
    V("--deepspeed_inclusion_filter"), V("--fsdp_sharding_strategy"),
    V("--fsdp_offload_params"), V("--fsdp_auto_wrap_policy"),
    V("--fsdp_transformer_layer_cls_to_wrap"), V("--fsdp_backward_prefetch"),
    V("--fsdp_state_dict_type"), V("--fsdp_min_num_params"),
    V("--fsdp_version"), V("--rdzv_backend"), V("--rdzv_conf"),
    V("--max_restarts"), V("--monitor_interval"),
    V("--main_training_function"), V("--tpu_name"), V("--tpu_zone"),
    V("--log_dir"), V("--role"), V("--redirects"), V("--tee"),
    F("--multi_gpu"), F("--multi-gpu"), F("--cpu"), F("--use_cpu"),
    F("--tpu"), F("--use_deepspeed"), F("--use_fsdp"),
    F("--use_megatron_lm"), F("--use_xpu"), F("-m"), F("--module"),
    F("--no_python"), F("--debug"), F("-q"), F("--quiet"),
    F("--same_network"), F("--fp16"), F("--dynamo_use_fullgraph"), END};

/* deepspeed (deepspeed/launcher/runner.py): the hostfile and pdsh/ssh
 * fan-out options. */
static const s2r_launch_opt deepspeed_opts[] = {
    K("--num_gpus", "num_gpus"), K("--num-gpus", "num_gpus"),
    K("--num_nodes", "num_nodes"), K("--num-nodes", "num_nodes"),
    V("-H"), V("--hostfile"), V("-i"), V("--include"), V("-e"),
    V("--exclude"), V("--num_accelerators"), V("--master_port"),
    V("--master_addr"), V("--launcher"), V("--launcher_args"),
    V("--node_rank"), V("--min_elastic_nodes"), V("--max_elastic_nodes"),
    V("--ssh_port"), V("--bind_core_list"), V("--autotuning"), V("--comment"),
    V("--venv_script"), V("--enable_each_rank_log"), F("--no_python"),
    F("--no-python"), F("--module"), F("--no_local_rank"),
    F("--force_multi"), F("--save_pid"), F("--bind_cores_to_rank"),
    F("--no_ssh_check"), F("--no_ssh"), F("--elastic_training"), END};

/* singularity/apptainer exec|run|shell --help */
static const s2r_launch_opt singularity_opts[] = {
    K("-B", "bind"), K("--bind", "bind"), K("--mount", "bind"),
    K("--env", "env"), K("--env-file", "env-file"), K("--pwd", "pwd"),
    K("-o", "overlay"), K("--overlay", "overlay"), V("-H"), V("--home"),
    V("-W"), V("--workdir"), V("-S"), V("--scratch"), V("--security"),
    V("--network"), V("--network-args"), V("--apply-cgroups"), V("--dns"),
    V("--hostname"), V("--fusemount"), V("--app"), V("--drop-caps"),
    V("--add-caps"), V("--cpus"), V("--memory"), V("--memory-swap"),
    V("--cpu-shares"), V("--cpuset-cpus"), V("--blkio-weight"),
    V("--pids-limit"), V("--config"), V("--pem-path"), V("--authfile"),
    V("--cwd"), F("--nv"), F("--nvccli"), F("--rocm"), F("-c"),
    F("--contain"), F("-C"), F("--containall"), F("-e"), F("--cleanenv"),
    F("--writable"), F("--writable-tmpfs"), F("--fakeroot"), F("--no-home"),
    F("-u"), F("--userns"), F("--compat"), END};

/* podman-hpc run / podman run / docker run --help */
static const s2r_launch_opt podman_opts[] = {
    K("-v", "volume"), K("--volume", "volume"), K("--mount", "mount"),
    K("-e", "env"), K("--env", "env"), K("--env-file", "env-file"),
    K("-w", "workdir"), K("--workdir", "workdir"),
    K("--entrypoint", "entrypoint"), V("--name"), V("-u"), V("--user"),
    V("--network"), V("--net"), V("--ipc"), V("--shm-size"), V("--gpus"),
    V("--device"), V("-l"), V("--label"), V("--cpus"), V("-m"),
    V("--memory"), V("-h"), V("--hostname"), V("--security-opt"),
    V("--cap-add"), V("--cap-drop"), V("--userns"), V("--group-add"),
    V("--ulimit"), V("--tmpfs"), V("--pid"), V("--platform"), V("--pull"),
    V("--restart"), V("--add-host"), V("--dns"), V("-p"), V("--publish"),
    V("--log-driver"), V("--cgroupns"), V("--uts"), V("--annotation"),
    F("--rm"), F("-i"), F("--interactive"), F("-t"), F("--tty"), F("-it"),
    F("-ti"), F("-d"), F("--detach"), F("--gpu"), F("--mpi"), F("--nccl"),
    F("--cuda-mpi"), F("--openmpi-pmi2"), F("--openmpi-pmix"),
    F("--privileged"), F("--init"), F("--read-only"), F("--cvmfs"),
    F("--squash"), END};

/* enroot start (enroot(1)) */
static const s2r_launch_opt enroot_start_opts[] = {
    K("-m", "mount"), K("--mount", "mount"), K("-e", "env"),
    K("--env", "env"), V("-c"), V("--conf"), F("-r"), F("--root"), F("-w"),
    F("--rw"), END};

/* conda run --help */
static const s2r_launch_opt conda_run_opts[] = {
    V("-n"), V("--name"), V("-p"), V("--prefix"), V("--cwd"), V("--env"),
    F("--live-stream"), F("--no-capture-output"), F("-v"), F("--verbose"),
    END};

/* coreutils wrappers: env(1), timeout(1), nice(1), stdbuf(1),
 * taskset(1) */
static const s2r_launch_opt env_opts[] = {
    V("-u"), V("--unset"), V("-C"), V("--chdir"), V("-S"),
    V("--split-string"), F("-i"), F("--ignore-environment"), F("-0"),
    F("--null"), F("-v"), F("--debug"), END};
static const s2r_launch_opt timeout_opts[] = {
    V("-s"), V("--signal"), V("-k"), V("--kill-after"),
    F("--preserve-status"), F("--foreground"), F("-v"), F("--verbose"), END};
static const s2r_launch_opt nice_opts[] = {V("-n"), V("--adjustment"), END};
static const s2r_launch_opt stdbuf_opts[] = {
    V("-i"), V("--input"), V("-o"), V("--output"), V("-e"), V("--error"),
    END};
static const s2r_launch_opt taskset_opts[] = {V("-c"), V("--cpu-list"),
                                              F("-a"), F("--all-tasks"),
                                              F("-p"), F("--pid"), END};
static const s2r_launch_opt no_opts[] = {END};

#undef V
#undef F
#undef K
#undef R
#undef KR
#undef END

const s2r_launch_grammar s2r_launch_srun = {
    "srun", S2R_LK_SRUN, srun_opts, false, 0, false};
const s2r_launch_grammar s2r_launch_mpirun = {
    "mpirun", S2R_LK_MPIRUN, mpirun_opts, true, 0, false};
const s2r_launch_grammar s2r_launch_horovodrun = {
    "horovodrun", S2R_LK_HOROVODRUN, horovodrun_opts, true, 0, false};
const s2r_launch_grammar s2r_launch_torchrun = {
    "torchrun", S2R_LK_TORCHRUN, torchrun_opts, false, 1, true};
const s2r_launch_grammar s2r_launch_accelerate = {
    "accelerate", S2R_LK_ACCELERATE, accelerate_opts, false, 1, true};
const s2r_launch_grammar s2r_launch_deepspeed = {
    "deepspeed", S2R_LK_DEEPSPEED, deepspeed_opts, false, 1, true};
const s2r_launch_grammar s2r_launch_singularity = {
    "singularity", S2R_LK_WRAPPER, singularity_opts, false, 0, false};
const s2r_launch_grammar s2r_launch_podman = {
    "podman-hpc", S2R_LK_WRAPPER, podman_opts, false, 0, false};
const s2r_launch_grammar s2r_launch_enroot_start = {
    "enroot", S2R_LK_WRAPPER, enroot_start_opts, false, 0, false};
const s2r_launch_grammar s2r_launch_conda_run = {
    "conda run", S2R_LK_WRAPPER, conda_run_opts, false, 0, false};
const s2r_launch_grammar s2r_launch_env = {
    "env", S2R_LK_WRAPPER, env_opts, false, 0, false};
const s2r_launch_grammar s2r_launch_timeout = {
    "timeout", S2R_LK_WRAPPER, timeout_opts, false, 0, false};
const s2r_launch_grammar s2r_launch_nice = {
    "nice", S2R_LK_WRAPPER, nice_opts, false, 0, false};
const s2r_launch_grammar s2r_launch_stdbuf = {
    "stdbuf", S2R_LK_WRAPPER, stdbuf_opts, false, 0, false};
const s2r_launch_grammar s2r_launch_taskset = {
    "taskset", S2R_LK_WRAPPER, taskset_opts, false, 0, false};
const s2r_launch_grammar s2r_launch_none = {
    "", S2R_LK_WRAPPER, no_opts, false, 0, false};

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

/* Whether the @p n bytes of table name @p name (exactly n long) are those
 * of @p w (which holds no NUL in them). The bytes are compared from the
 * last one, which most often tells two names of one length apart (their
 * first ones are the dashes they share). */
static bool same_name(const char *name, const char *w, size_t n)
{
    for (size_t i = n; i-- > 0;)
        if (name[i] != w[i])
            return false;
    return true;
}

/* The table entry spelled like the first @p nl bytes of @p w. */
static const s2r_launch_opt *find(const s2r_launch_grammar *g, const char *w,
                                  size_t nl)
{
    if (!g->single_dash_long) {
        for (const s2r_launch_opt *o = g->opts; o->name; o++)
            if (o->len == nl && same_name(o->name, w, nl))
                return o;
        return NULL;
    }
    /* -np and --np alike: the names compared without their dashes (one
     * or two of them in the table) */
    const char *b = undashed(w);
    size_t bl = nl - (size_t)(b - w);
    for (const s2r_launch_opt *o = g->opts; o->name; o++) {
        if (o->len != bl + 1 && o->len != bl + 2)
            continue;
        const char *u = undashed(o->name);
        if (o->len - (size_t)(u - o->name) == bl && same_name(u, b, bl))
            return o;
    }
    return NULL;
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

/* The launchers a command's own name identifies, sorted (strcmp) for
 * bsearch(): every command of a body is looked up, and few are launchers. */
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

static int launcher_name_cmp(const void *key, const void *elem)
{
    return strcmp(key, ((const launcher_name *)elem)->name);
}

const s2r_launch_grammar *s2r_launch_identify(const char *const *argv,
                                              size_t n, size_t *opts_at)
{
    *opts_at = 1;
    if (n == 0 || !argv[0])
        return NULL;
    const char *b = base(argv[0]);
    const launcher_name *named =
        bsearch(b, launcher_names,
                sizeof(launcher_names) / sizeof(launcher_names[0]),
                sizeof(launcher_names[0]), launcher_name_cmp);
    if (named)
        return named->grammar;
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
