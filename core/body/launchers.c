/* launchers.c: option grammars of launchers and wrappers, from their
 * manuals: srun(1) (Slurm 23-26), mpirun(1) (Open MPI 4/5, MPICH Hydra,
 * Intel MPI), singularity/apptainer exec --help, torchrun
 * (torch/distributed/run.py), accelerate launch --help, deepspeed
 * (deepspeed/launcher/runner.py). */
#include "launchers.h"

#include <string.h>

static const char *const srun_long[] = {
    "account", "acctg-freq", "bb", "bbf", "begin", "bcast", "cpu-bind",
    "cpus-per-task", "cpus-per-gpu", "chdir", "clusters", "comment",
    "constraint", "container", "container-id", "core-spec", "cores-per-socket",
    "cpu-freq", "dependency", "distribution", "error", "export", "extra",
    "extra-node-info", "gres", "gres-flags", "gpus", "gpus-per-node",
    "gpus-per-task", "gpus-per-socket", "gpu-bind", "gpu-freq", "het-group",
    "hint", "input", "job-name", "jobid", "licenses", "mail-type",
    "mail-user", "mcs-label", "mem", "mem-per-cpu", "mem-per-gpu", "mem-bind",
    "mincpus", "mpi", "network", "nodefile", "nodelist", "nodes", "ntasks",
    "ntasks-per-node", "ntasks-per-core", "ntasks-per-socket",
    "ntasks-per-gpu", "output", "open-mode", "partition", "prolog", "epilog",
    "power", "priority", "profile", "qos", "relative", "reservation",
    "signal", "slurmd-debug", "sockets-per-node", "switches", "task-epilog",
    "task-prolog", "tmp", "time", "time-min", "threads-per-core", "uid",
    "gid", "wckey", "exclude", "tres-per-task", "tres-bind", "container-image",
    "container-mounts", "container-workdir", "container-name",
    "container-env", "container-save", "cpus-per-gpu", "segment", NULL};
static const s2r_launch_grammar srun_g = {
    "srun", srun_long, NULL, "AbBcCdDeGiJLmnNopqrStTwWx", false, false};

static const char *const mpirun_long[] = {
    "np", "n", "c", "N", "npernode", "H", "host", "hostfile", "machinefile",
    "f", "ppn", "map-by", "bind-to", "rank-by", "x", "wdir", "wd",
    "output-filename", "prefix", "launch-agent", "cpus-per-proc",
    "cpus-per-rank", "rf", "rankfile", "am", "tune", "genvlist", "iface",
    "bootstrap", "hosts", "perhost", "rr", "configfile", "timeout",
    "report-bindings-file", "personality", "runtime-options", "with-ft",
    "output", "stream-buffering", "pmixmca", "prtemca", NULL};
static const char *const mpirun_two[] = {"mca", "gmca", "genv", "env",
                                         "pmixmca", "prtemca", NULL};
static const s2r_launch_grammar mpirun_g = {
    "mpirun", mpirun_long, mpirun_two, NULL, true, false};

static const char *const sing_long[] = {
    "bind", "mount", "home", "workdir", "pwd", "overlay", "env", "env-file",
    "scratch", "security", "network", "network-args", "apply-cgroups", "dns",
    "hostname", "fusemount", "app", "drop-caps", "add-caps", "cpus",
    "memory", "memory-swap", "cpu-shares", "cpuset-cpus", "blkio-weight",
    "pids-limit", "oom-kill-disable", "config", "sif-fuse", "passphrase",
    "pem-path", "docker-login", "authfile", "cwd", NULL};
static const s2r_launch_grammar sing_g = {
    "singularity", sing_long, NULL, "BHWoS", false, false};

static const char *const torch_long[] = {
    "nnodes", "nproc_per_node", "nproc-per-node", "node_rank", "node-rank",
    "master_addr", "master-addr", "master_port", "master-port",
    "rdzv_backend", "rdzv-backend", "rdzv_endpoint", "rdzv-endpoint",
    "rdzv_id", "rdzv-id", "rdzv_conf", "rdzv-conf", "max_restarts",
    "max-restarts", "monitor_interval", "monitor-interval", "start_method",
    "start-method", "role", "log_dir", "log-dir", "redirects", "tee",
    "local_addr", "local-addr", "logs_specs", "logs-specs",
    "local_ranks_filter", "local-ranks-filter", "event-log-handler",
    "numa-binding", "signals-to-handle", NULL};
static const s2r_launch_grammar torch_g = {
    "torchrun", torch_long, NULL, "rt", false, false};

static const char *const acc_long[] = {
    "config_file", "config-file", "num_processes", "num-processes",
    "num_machines", "num-machines", "machine_rank", "machine-rank",
    "main_process_ip", "main-process-ip", "main_process_port",
    "main-process-port", "mixed_precision", "mixed-precision", "gpu_ids",
    "gpu-ids", "dynamo_backend", "dynamo_mode", "num_cpu_threads_per_process",
    "deepspeed_config_file", "zero_stage", "offload_optimizer_device",
    "offload_param_device", "gradient_accumulation_steps",
    "gradient_clipping", "deepspeed_hostfile", "deepspeed_multinode_launcher",
    "deepspeed_exclusion_filter", "deepspeed_inclusion_filter",
    "fsdp_sharding_strategy", "fsdp_offload_params", "fsdp_auto_wrap_policy",
    "fsdp_transformer_layer_cls_to_wrap", "fsdp_backward_prefetch",
    "fsdp_state_dict_type", "fsdp_min_num_params", "fsdp_version",
    "rdzv_backend", "rdzv_conf", "max_restarts", "monitor_interval",
    "main_training_function", "tpu_name", "tpu_zone", "log_dir", "role",
    "redirects", "tee", NULL};
static const s2r_launch_grammar acc_g = {
    "accelerate", acc_long, NULL, "", false, true};

static const char *const ds_long[] = {
    "hostfile", "include", "exclude", "num_nodes", "num_gpus",
    "num_accelerators", "master_port", "master_addr", "launcher",
    "launcher_args", "node_rank", "min_elastic_nodes", "max_elastic_nodes",
    "ssh_port", "bind_core_list", "autotuning", "comment", "venv_script",
    NULL};
static const s2r_launch_grammar ds_g = {
    "deepspeed", ds_long, NULL, "Hie", false, false};

static const char *const conda_long[] = {"name", "prefix", "cwd", "env",
                                         NULL};
static const s2r_launch_grammar conda_g = {
    "conda run", conda_long, NULL, "np", false, false};

const s2r_launch_grammar *const s2r_launch_srun = &srun_g;
const s2r_launch_grammar *const s2r_launch_conda_run = &conda_g;
const s2r_launch_grammar *const s2r_launch_mpirun = &mpirun_g;
const s2r_launch_grammar *const s2r_launch_singularity = &sing_g;
const s2r_launch_grammar *const s2r_launch_torchrun = &torch_g;
const s2r_launch_grammar *const s2r_launch_accelerate = &acc_g;
const s2r_launch_grammar *const s2r_launch_deepspeed = &ds_g;

static bool in(const char *const *l, const char *s, size_t n)
{
    for (size_t i = 0; l && l[i]; i++)
        if (strlen(l[i]) == n && memcmp(l[i], s, n) == 0)
            return true;
    return false;
}

static bool ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

size_t s2r_launch__skip_option(const s2r_launch_grammar *g, const sh_word *w,
                               size_t n, size_t i)
{
    if (i >= n || !w[i].value)
        return i;
    const char *v = w[i].value;
    if (v[0] != '-' || v[1] == '\0')
        return i;
    if (!strcmp(v, "--"))
        return i + 1;
    bool dbl = v[1] == '-';
    if (dbl || g->single_dash_long) {
        const char *name = v + (dbl ? 2 : 1);
        const char *eq = strchr(name, '=');
        size_t nl = eq ? (size_t)(eq - name) : strlen(name);
        if (eq)
            return i + 1;
        if (in(g->long_two, name, nl))
            return i + 3 <= n ? i + 3 : n;
        if (in(g->long_val, name, nl))
            return i + 2 <= n ? i + 2 : n;
        if (dbl && g->guess_unknown && i + 1 < n && w[i + 1].value &&
            w[i + 1].value[0] != '-' && !ends_with(w[i + 1].value, ".py"))
            return i + 2;
        if (dbl || g->single_dash_long)
            return i + 1;
    }
    /* short option(s): -n 4, -n4, -lv */
    if (g->short_val && strchr(g->short_val, v[1])) {
        if (v[2] != '\0')
            return i + 1;
        return i + 2 <= n ? i + 2 : n;
    }
    return i + 1;
}

size_t s2r_launch__skip_options(const s2r_launch_grammar *g, const sh_word *w,
                                size_t n, size_t i)
{
    for (;;) {
        size_t nx = s2r_launch__skip_option(g, w, n, i);
        if (nx == i)
            return i;
        bool end = i < n && w[i].value && !strcmp(w[i].value, "--");
        i = nx;
        if (end)
            return i;
    }
}

static bool opt_is(const char *opt, const char *const *names)
{
    const char *s = opt;
    while (*s == '-')
        s++;
    size_t nl = strcspn(s, "=");
    return in(names, s, nl);
}

bool s2r_launch__torchrun_is_rendezvous(const char *opt)
{
    static const char *const r[] = {
        "nnodes", "node_rank", "node-rank", "master_addr", "master-addr",
        "master_port", "master-port", "rdzv_backend", "rdzv-backend",
        "rdzv_endpoint", "rdzv-endpoint", "rdzv_id", "rdzv-id", "rdzv_conf",
        "rdzv-conf", "local_addr", "local-addr", NULL};
    return opt[0] == '-' && opt_is(opt, r);
}

const char *s2r_launch__accelerate_rewrite(const char *opt)
{
    static const char *const nodes[] = {"num_machines", "num-machines", NULL};
    static const char *const rank[] = {"machine_rank", "machine-rank", NULL};
    static const char *const ip[] = {"main_process_ip", "main-process-ip", NULL};
    static const char *const port[] = {"main_process_port",
                                       "main-process-port", NULL};
    if (opt[0] != '-')
        return NULL;
    if (opt_is(opt, nodes))
        return "NODES";
    if (opt_is(opt, rank))
        return "\"$RANK\"";
    if (opt_is(opt, ip))
        return "\"$MASTER_ADDR\"";
    if (opt_is(opt, port))
        return "\"$MASTER_PORT\"";
    return NULL;
}

bool s2r_launch__mpirun_is_placement(const char *opt)
{
    static const char *const p[] = {
        "np", "n", "c", "N", "npernode", "H", "host", "hostfile",
        "machinefile", "f", "ppn", "hosts", "perhost", "rf", "rankfile", NULL};
    return opt[0] == '-' && opt_is(opt, p);
}
