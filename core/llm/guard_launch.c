/* guard_launch.c: option tables of the launchers and wrappers the guard
 * reads in a proposed command (torchrun(1), accelerate launch --help,
 * deepspeed --help, mpirun(1), srun(1), env(1), timeout(1), nice(1),
 * stdbuf(1), taskset(1), singularity exec): which options take values and
 * which set how many processes run. These are the guard's own tables; the
 * converter reads the same programs with core/body/launchers.c. See
 * guard.h. */
#include "guard.h"

#include <string.h>

static const s2r_guard__optspec torchrun_opts[] = {
    {"--nproc_per_node", 1, "nproc_per_node"},
    {"--nproc-per-node", 1, "nproc_per_node"},
    {"--nnodes", 1, "nnodes"},
    {"--standalone", 0, NULL}, {"--no-python", 0, NULL},
    {"--no_python", 0, NULL}, {"-m", 0, NULL}, {"--module", 0, NULL},
    {"--run-path", 0, NULL}, {"--run_path", 0, NULL},
    {"--use-env", 0, NULL}, {"--use_env", 0, NULL}, {NULL, 0, NULL}};
static const s2r_guard__optspec accelerate_opts[] = {
    {"--num_processes", 1, "num_processes"},
    {"--num-processes", 1, "num_processes"},
    {"--num_machines", 1, "num_machines"},
    {"--num-machines", 1, "num_machines"},
    {"--multi_gpu", 0, NULL}, {"--multi-gpu", 0, NULL}, {"--cpu", 0, NULL},
    {"--use_cpu", 0, NULL}, {"--tpu", 0, NULL}, {"--use_deepspeed", 0, NULL},
    {"--use_fsdp", 0, NULL}, {"--use_megatron_lm", 0, NULL},
    {"--use_xpu", 0, NULL}, {"-m", 0, NULL}, {"--module", 0, NULL},
    {"--no_python", 0, NULL}, {"--debug", 0, NULL}, {"-q", 0, NULL},
    {"--quiet", 0, NULL}, {"--same_network", 0, NULL},
    {"--fp16", 0, NULL}, {"--dynamo_use_fullgraph", 0, NULL},
    {NULL, 0, NULL}};
static const s2r_guard__optspec deepspeed_opts[] = {
    {"--num_gpus", 1, "num_gpus"}, {"--num-gpus", 1, "num_gpus"},
    {"--num_nodes", 1, "num_nodes"}, {"--num-nodes", 1, "num_nodes"},
    {"--no_python", 0, NULL}, {"--no-python", 0, NULL},
    {"--module", 0, NULL}, {"--no_local_rank", 0, NULL},
    {"--enable_each_rank_log", 1, NULL}, {"--autotuning", 1, NULL},
    {"--force_multi", 0, NULL}, {"--save_pid", 0, NULL},
    {"--bind_cores_to_rank", 0, NULL}, {"--no_ssh_check", 0, NULL},
    {"--no_ssh", 0, NULL}, {NULL, 0, NULL}};
static const s2r_guard__optspec mpirun_opts[] = {
    {"-np", 1, "np"}, {"--np", 1, "np"}, {"-n", 1, "np"}, {"--n", 1, "np"},
    {"-c", 1, "np"},
    {"-N", 1, "npernode"}, {"-npernode", 1, "npernode"},
    {"--npernode", 1, "npernode"}, {"-ppn", 1, "npernode"},
    {"--ppn", 1, "npernode"}, {"-perhost", 1, "npernode"},
    {"-H", 1, NULL}, {"-host", 1, NULL}, {"--host", 1, NULL},
    {"-hosts", 1, NULL}, {"-hostfile", 1, NULL}, {"--hostfile", 1, NULL},
    {"-machinefile", 1, NULL}, {"--machinefile", 1, NULL}, {"-f", 1, NULL},
    {"-wdir", 1, NULL}, {"--wdir", 1, NULL}, {"-wd", 1, NULL},
    {"-x", 1, NULL}, {"-genv", 2, NULL}, {"-env", 2, NULL},
    {"--mca", 2, NULL}, {"-mca", 2, NULL}, {"-gmca", 2, NULL},
    {"--gmca", 2, NULL}, {"--map-by", 1, NULL}, {"-map-by", 1, NULL},
    {"--bind-to", 1, NULL}, {"-bind-to", 1, NULL}, {"--rank-by", 1, NULL},
    {"-rank-by", 1, NULL}, {"--prefix", 1, NULL}, {"-prefix", 1, NULL},
    {"--output-filename", 1, NULL}, {"-output-filename", 1, NULL},
    {"--cpus-per-proc", 1, NULL}, {"-cpus-per-proc", 1, NULL},
    {"--cpus-per-rank", 1, NULL}, {"-cpus-per-rank", 1, NULL},
    {"-launcher", 1, NULL}, {"-bootstrap", 1, NULL}, {"-iface", 1, NULL},
    {"-genvlist", 1, NULL}, {"--tag-output", 0, NULL}, {NULL, 0, NULL}};
static const s2r_guard__optspec srun_opts[] = {
    {"-n", 1, "ntasks"}, {"--ntasks", 1, "ntasks"}, {"-N", 1, "nodes"},
    {"--nodes", 1, "nodes"}, {"-c", 1, NULL}, {"-p", 1, NULL},
    {"-t", 1, NULL}, {"-J", 1, NULL}, {"-o", 1, NULL}, {"-e", 1, NULL},
    {"-i", 1, NULL}, {"-G", 1, NULL}, {"-w", 1, NULL}, {"-x", 1, NULL},
    {"-A", 1, NULL}, {"-q", 1, NULL}, {"-m", 1, NULL}, {"-d", 1, NULL},
    {"-D", 1, NULL}, {"-C", 1, NULL}, {"-L", 1, NULL}, {"-M", 1, NULL},
    {"-r", 1, NULL}, {"-T", 1, NULL}, {"-W", 1, NULL}, {"-B", 1, NULL},
    {"-S", 1, NULL}, {"--cpus-per-task", 1, NULL}, {"--gpus", 1, NULL},
    {"--gres", 1, NULL}, {"--partition", 1, NULL}, {"--time", 1, NULL},
    {"--job-name", 1, NULL}, {"--output", 1, NULL}, {"--error", 1, NULL},
    {"--mpi", 1, NULL}, {"--ntasks-per-node", 1, NULL},
    {"--gpus-per-task", 1, NULL}, {"--mem", 1, NULL},
    {"--container-image", 1, NULL}, {"--container-mounts", 1, NULL},
    {"--cpu-bind", 1, NULL}, {"--distribution", 1, NULL},
    {"--export", 1, NULL}, {NULL, 0, NULL}};
const s2r_guard__optspec s2r_guard__env_opts[] = {
    {"-u", 1, NULL}, {"--unset", 1, NULL}, {"-C", 1, NULL},
    {"--chdir", 1, NULL}, {"-S", 1, NULL}, {"--split-string", 1, NULL},
    {NULL, 0, NULL}};
const s2r_guard__optspec s2r_guard__timeout_opts[] = {
    {"-s", 1, NULL}, {"--signal", 1, NULL}, {"-k", 1, NULL},
    {"--kill-after", 1, NULL}, {NULL, 0, NULL}};
const s2r_guard__optspec s2r_guard__nice_opts[] = {
    {"-n", 1, NULL}, {"--adjustment", 1, NULL}, {NULL, 0, NULL}};
const s2r_guard__optspec s2r_guard__stdbuf_opts[] = {
    {"-i", 1, NULL}, {"-o", 1, NULL}, {"-e", 1, NULL}, {NULL, 0, NULL}};
const s2r_guard__optspec s2r_guard__taskset_opts[] = {
    {"-c", 1, NULL}, {"--cpu-list", 1, NULL}, {NULL, 0, NULL}};
const s2r_guard__optspec s2r_guard__container_opts[] = {
    {"-B", 1, NULL}, {"--bind", 1, NULL}, {"-H", 1, NULL},
    {"--home", 1, NULL}, {"-W", 1, NULL}, {"--workdir", 1, NULL},
    {"--pwd", 1, NULL}, {"-o", 1, NULL}, {"--overlay", 1, NULL},
    {"--env", 1, NULL}, {"--env-file", 1, NULL}, {"-S", 1, NULL},
    {"--scratch", 1, NULL}, {"--security", 1, NULL}, {NULL, 0, NULL}};
const s2r_guard__optspec s2r_guard__no_opts[] = {{NULL, 0, NULL}};

const s2r_guard__launcher s2r_guard__torchrun = {"torchrun", torchrun_opts,
                                                1};
const s2r_guard__launcher s2r_guard__accelerate = {"accelerate",
                                                  accelerate_opts, 1};
const s2r_guard__launcher s2r_guard__deepspeed = {"deepspeed",
                                                 deepspeed_opts, 1};
const s2r_guard__launcher s2r_guard__mpirun = {"mpirun", mpirun_opts, 0};
const s2r_guard__launcher s2r_guard__srun = {"srun", srun_opts, 0};

const s2r_guard__optspec *s2r_guard__opt_find(const s2r_guard__optspec *o,
                                              const char *w, size_t nl)
{
    for (; o->name; o++)
        if (strlen(o->name) == nl && !strncmp(o->name, w, nl))
            return o;
    return NULL;
}
