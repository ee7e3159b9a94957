# srun_standin.sh: srun(1) inside a Run:ai pod. The pod's command writes
# this program to a temporary folder first on PATH (srun_standin.c), so
# every `srun` of the body runs it: in functions, loops, `exec srun`,
# `timeout 60 srun`, scripts the body calls. It starts a job step's tasks
# in this pod the way srun starts them on a SLURM node; with several pods
# (a PyTorchJob) each pod runs the tasks of its own node.
#
# s2r writes these settings in front of this text:
#   s2r_nnodes      pods that run the script (SLURM nodes: 1, or the
#                   PyTorchJob's pods; PET_NODE_RANK numbers them)
#   s2r_node_cpus   CPUs (cores) of one node
#   s2r_node_gpus   GPUs of one node
#   s2r_job_ntasks  the job's tasks as slurmctld keeps them (SLURM_NTASKS), 0 when not set
#   s2r_job_tpn     tasks per node of the job
#   s2r_job_cpt     --cpus-per-task of the job, 0 when not given
#   s2r_rank_vars   1: tasks also get RANK, WORLD_SIZE, LOCAL_RANK and
#                   LOCAL_WORLD_SIZE (frameworks of a PyTorchJob)
#   s2r_job_gpt     --gpus-per-task of the job, 0 when not given: a step
#                   that names no GPUs takes it, as srun(1) takes
#                   SLURM_GPUS_PER_TASK
#   s2r_image       the pod's image (a step's --container-image must name
#                   it)
#   s2r_vnodes      SLURM nodes this one pod stands for (1: itself); with
#                   more, a step's tasks are spread over them as srun
#                   spreads them over nodes: SLURM_NODEID, SLURM_LOCALID,
#                   SLURM_STEP_NUM_NODES and each node's share of the
#                   pod's GPUs are those of the task's node
#   s2r_vtpn        tasks per node of the job, on one of those nodes
#
# Supported: -n/--ntasks, -N/--nodes, --ntasks-per-node, -c, -r,
# --gpus-per-task, --gpus, --gpus-per-node, --gres=gpu[:type]:N,
# --exclusive, --exact, --overlap, -l/--label, -o/-e/-i with the %
# patterns of srun(1), --open-mode, -K/--kill-on-bad-exit, --multi-prog,
# -D/--chdir, --export=[ALL,]K=V,..., --container-workdir. Options that
# only place or account (--mpi, --cpu-bind, --mem, -t, -J, -p ...) are
# read and have no effect. Refused, with an error: --pty, --het-group and
# `:` het steps, --jobid, --prolog/--epilog/--task-prolog/--task-epilog,
# --export=NONE, a --container-image other than the pod's.
#
# Each task gets SLURM_PROCID, SLURM_LOCALID, SLURM_NODEID, SLURM_NTASKS,
# SLURM_NPROCS, SLURM_STEP_ID, SLURM_STEPID, SLURM_STEP_NUM_TASKS,
# SLURM_STEP_NUM_NODES, SLURM_CPUS_PER_TASK (-c) and, for a GPU request,
# its GPUs in CUDA_VISIBLE_DEVICES: the pod's GPUs are 0..N-1, N from
# NVIDIA_VISIBLE_DEVICES when it lists devices (not all, void, none or
# empty), else s2r_node_gpus. Concurrent steps (`srun ... &`) share the
# GPUs and CPUs as srun hands them out: a step waits until its CPUs and
# GPUs are free; an srun inside a task uses that task's. Standard input
# reaches the tasks as srun forwards it (one task: as is; several: a
# copy each; -i N: task N). The step exits, as srun(1) RETURN VALUE says,
# with the highest status of its tasks (128 + the signal for a task a
# signal ended, as wait gives it), so `set -e` stops the script as under
# SLURM; with -K, the first failing task's (the others are stopped).

s2r_me='srun (s2r stand-in)'
s2r_die() {
    printf '%s: error: %s\n' "$s2r_me" "$*" >&2
    exit 1
}

# ---- the options --------------------------------------------------------

# long options that take a value (srun(1)); the others are flags or take
# a value only after '='
s2r_valued=' account acctg-freq bb bbf begin chdir cluster-constraint
 clusters comment constraint container container-env container-id
 container-image container-mounts container-name container-save
 container-workdir core-spec cores-per-socket cpu-bind cpu-freq
 cpus-per-gpu cpus-per-task deadline delay-boot dependency distribution
 epilog error exclude export extra extra-node-info gid gpu-bind gpu-freq
 gpus gpus-per-node gpus-per-socket gpus-per-task gres gres-flags
 het-group hint input job-name jobid licenses mail-type mail-user
 mcs-label mem mem-bind mem-per-cpu mem-per-gpu mincpus mpi network
 nodefile nodelist nodes ntasks ntasks-per-core ntasks-per-gpu
 ntasks-per-node ntasks-per-socket ntasks-per-tres open-mode output
 partition power prefer priority profile prolog qos relative reservation
 segment signal slurmd-debug sockets-per-node switches task-epilog
 task-prolog thread-spec threads threads-per-core time time-min tmp
 tres-bind tres-per-task uid wait wckey '
s2r_valued=" ${s2r_valued//$'\n'/ } "

# the long name of a short option
s2r_long_of() {
    case $1 in
    A) echo account ;; b) echo begin ;; B) echo extra-node-info ;;
    c) echo cpus-per-task ;; C) echo constraint ;; d) echo dependency ;;
    D) echo chdir ;; e) echo error ;; F) echo nodefile ;; G) echo gpus ;;
    i) echo input ;; J) echo job-name ;; L) echo licenses ;;
    m) echo distribution ;; M) echo clusters ;; n) echo ntasks ;;
    N) echo nodes ;; o) echo output ;; p) echo partition ;; q) echo qos ;;
    r) echo relative ;; S) echo core-spec ;; t) echo time ;;
    T) echo threads ;; w) echo nodelist ;; W) echo wait ;; x) echo exclude ;;
    l) echo label ;; K) echo kill-on-bad-exit ;; v) echo verbose ;;
    Q) echo quiet ;; u) echo unbuffered ;; X) echo disable-status ;;
    O) echo overcommit ;; s) echo oversubscribe ;; E) echo preserve-env ;;
    k) echo no-kill ;; Z) echo no-allocate ;; I) echo immediate ;;
    h) echo help ;; V) echo version ;; *) return 1 ;;
    esac
}

s2r_int() {
    case $2 in
    '' | *[!0-9]*) s2r_die "--$1=$2: a whole number is needed" ;;
    esac
}

# N of --gres/--gpus values: gpu:2, gpu:a100:2, gpu, a100:2, 2
s2r_gpu_count() {
    local e n=0 found=0
    local IFS=,
    for e in $1; do
        case $e in
        gpu) n=$((n + 1)) found=1 ;;
        gpu:*:* | gpu:*) found=1 e=${e##*:}
            case $e in '' | *[!0-9]*) n=$((n + 1)) ;; *) n=$((n + e)) ;; esac ;;
        *:*) [ "$2" = any ] && found=1 && n=$((n + ${e##*:})) ;;
        *) [ "$2" = any ] && found=1 && n=$((n + e)) ;;
        esac
    done
    [ "$found" = 1 ] && echo "$n"
}

s2r_ntasks= s2r_nodes= s2r_tpn= s2r_cpt= s2r_rel=0 s2r_gpt= s2r_gpn=
s2r_gtot= s2r_excl=0 s2r_overlap=0 s2r_label=0 s2r_kill=0 s2r_multi=0
s2r_out= s2r_err= s2r_in= s2r_mode=truncate s2r_dir= s2r_cwd=

# one option: its long name and value
s2r_option() {
    local n=$1 v=$2
    case $n in
    ntasks) s2r_int "$n" "$v"; s2r_ntasks=$v ;;
    nodes) v=${v%%-*}; s2r_int "$n" "$v"; s2r_nodes=$v ;;
    ntasks-per-node) s2r_int "$n" "$v"; s2r_tpn=$v ;;
    cpus-per-task) s2r_int "$n" "$v"; s2r_cpt=$v ;;
    relative) s2r_int "$n" "$v"; s2r_rel=$v ;;
    gpus-per-task) s2r_gpt=$(s2r_gpu_count "$v" any) ;;
    gpus-per-node) s2r_gpn=$(s2r_gpu_count "$v" any) ;;
    gpus) s2r_gtot=$(s2r_gpu_count "$v" any) ;;
    gres) s2r_gpn=$(s2r_gpu_count "$v" gpu) ;;
    exclusive | exact) s2r_excl=1 ;;
    overlap) s2r_overlap=1 ;;
    label) s2r_label=1 ;;
    kill-on-bad-exit) s2r_kill=1; [ "$v" = 0 ] && s2r_kill=0 ;;
    multi-prog) s2r_multi=1 ;;
    output) s2r_out=$v ;;
    error) s2r_err=$v ;;
    input) s2r_in=$v ;;
    open-mode) s2r_mode=$v ;;
    chdir) s2r_dir=$v ;;
    container-workdir) s2r_cwd=$v ;;
    export) s2r_export "$v" ;;
    container-image) s2r_same_image "$v" ;;
    pty | het-group | jobid | prolog | epilog | task-prolog | task-epilog)
        s2r_die "--$n has no equivalent in a Run:ai pod" ;;
    help | version) s2r_die "--$n: this is s2r's stand-in for srun" ;;
    esac
}

# --export: ALL and K=V entries; bare names keep their value
s2r_export() {
    local e
    local IFS=,
    for e in $1; do
        case $e in
        NONE) s2r_die "--export=NONE: the stand-in runs tasks in the pod's environment" ;;
        *=*) export "${e%%=*}=${e#*=}" ;;
        esac
    done
}

# a step's --container-image must be the pod's (pyxis writes REG#PATH)
s2r_same_image() {
    local want=${1#docker://}
    want=${want/\#//}
    [ -z "${s2r_image:-}" ] || [ "$want" = "$s2r_image" ] ||
        s2r_die "--container-image=$1: this pod runs $s2r_image; a step cannot switch images"
}

s2r_parse() {
    local a n v c
    while [ $# -gt 0 ]; do
        a=$1
        case $a in
        --) shift; s2r_nargs=$#; return 0 ;;
        --*=*) n=${a%%=*} n=${n#--} v=${a#*=}; shift ;;
        --?*) n=${a#--} v=
            if [[ $s2r_valued == *" $n "* ]]; then
                [ $# -ge 2 ] || s2r_die "option '--$n' requires an argument"
                v=$2; shift
            fi
            shift ;;
        -?*) c=${a:1:1} v=${a:2}
            n=$(s2r_long_of "$c") || s2r_die "invalid option -- '$c'"
            shift
            if [[ $s2r_valued == *" $n "* ]]; then
                if [ -z "$v" ]; then
                    [ $# -ge 1 ] || s2r_die "option requires an argument -- '$c'"
                    v=$1; shift
                fi
            elif [ -n "$v" ] && [ "$c" != K ]; then
                set -- "-$v" "$@"
                v=
            fi ;;
        *) s2r_nargs=$#; return 0 ;;
        esac
        s2r_option "$n" "$v"
    done
    s2r_nargs=0
}

# ---- the step's size on this node -----------------------------------------

# s2r_sM nodes and s2r_T tasks of the step, on $1 nodes of the job from
# -r $2 on with $3 tasks per node (srun(1) -N, -n, --ntasks-per-node); $4
# 1: a step on more nodes than there are is an error
s2r_step_size() {
    local avail=$(($1 - $2))
    [ "$avail" -ge 1 ] || s2r_die "-r $2: the job has $1 node(s)"
    if [ -n "$s2r_nodes" ]; then
        s2r_sM=$s2r_nodes
    elif [ -n "$s2r_tpn" ] || [ -z "$s2r_ntasks" ]; then
        s2r_sM=$avail
    else
        s2r_sM=$(((s2r_ntasks + $3 - 1) / $3))
    fi
    [ "$s2r_sM" -gt "$avail" ] && [ "$4" = 1 ] &&
        s2r_die "the step asks for $s2r_sM node(s), the job has $avail$( [ "$2" -gt 0 ] && echo " from -r $2 on")"
    if [ -n "$s2r_ntasks" ]; then
        s2r_T=$s2r_ntasks
    elif [ -n "$s2r_tpn" ]; then
        s2r_T=$((s2r_tpn * s2r_sM))
    elif [ -z "$s2r_nodes" ] && [ "$s2r_job_ntasks" -gt 0 ]; then
        s2r_T=$s2r_job_ntasks
    else
        s2r_T=$(($3 * s2r_sM))
    fi
    [ "$s2r_T" -ge 1 ] || s2r_die "the step has no task"
    [ "$s2r_T" -lt "$s2r_sM" ] && s2r_sM=$s2r_T
    return 0
}

# s2r_M nodes and s2r_T tasks of the step; s2r_k this pod's node in the
# step (-1: none); s2r_tl tasks here, the first of them s2r_t0
s2r_geometry() {
    local r=0 base extra
    s2r_vrel=$s2r_rel s2r_vM=1 s2r_virtual=0
    [ "$s2r_nnodes" -le 1 ] && s2r_rel=0 # one pod: every step runs in it
    [ "$s2r_nnodes" -gt 1 ] && r=${PET_NODE_RANK:-${RANK:-0}}
    s2r_step_size "$s2r_nnodes" "$s2r_rel" "$s2r_job_tpn" \
        "$([ "$s2r_nnodes" -gt 1 ] && echo 1)"
    s2r_M=$s2r_sM
    s2r_k=$((r - s2r_rel))
    if [ "$s2r_nnodes" -le 1 ]; then
        # one pod: all the step's tasks run in it
        [ "${s2r_vnodes:-1}" -gt 1 ] && s2r_vgeometry
        s2r_k=0 s2r_M=1 s2r_t0=0 s2r_tl=$s2r_T
        return 0
    fi
    if [ "$s2r_k" -lt 0 ] || [ "$s2r_k" -ge "$s2r_M" ]; then
        s2r_k=-1 s2r_tl=0 s2r_t0=0
        return 0
    fi
    if [ -n "$s2r_tpn" ]; then
        s2r_t0=$((s2r_k * s2r_tpn))
        s2r_tl=$((s2r_T - s2r_t0))
        [ "$s2r_tl" -gt "$s2r_tpn" ] && s2r_tl=$s2r_tpn
        [ "$s2r_tl" -lt 0 ] && s2r_tl=0
    else
        base=$((s2r_T / s2r_M)) extra=$((s2r_T % s2r_M))
        s2r_tl=$((base + (s2r_k < extra ? 1 : 0)))
        s2r_t0=$((s2r_k * base + (s2r_k < extra ? s2r_k : extra)))
    fi
}

# one pod for s2r_vnodes nodes: s2r_vM nodes and s2r_T tasks of the step,
# counted on those nodes as srun(1) counts them on real ones
s2r_vgeometry() {
    s2r_virtual=1
    s2r_step_size "$s2r_vnodes" "$s2r_vrel" "$s2r_vtpn" 1
    s2r_vM=$s2r_sM
}

# task $1's node among s2r_vM (s2r_vk), the first task there (s2r_vfirst)
# and its task count (s2r_vcount): --ntasks-per-node fills each node,
# else the tasks are spread in blocks, the first nodes taking one more
s2r_vnode_of() {
    local t=$1 base extra big
    if [ -n "$s2r_tpn" ]; then
        s2r_vk=$((t / s2r_tpn)) s2r_vfirst=$((t / s2r_tpn * s2r_tpn))
        s2r_vcount=$((s2r_T - s2r_vfirst))
        [ "$s2r_vcount" -gt "$s2r_tpn" ] && s2r_vcount=$s2r_tpn
        return 0
    fi
    base=$((s2r_T / s2r_vM)) extra=$((s2r_T % s2r_vM))
    big=$((extra * (base + 1)))
    if [ "$t" -lt "$big" ]; then
        s2r_vk=$((t / (base + 1))) s2r_vcount=$((base + 1))
        s2r_vfirst=$((s2r_vk * (base + 1)))
    else
        s2r_vk=$((extra + (t - big) / base)) s2r_vcount=$base
        s2r_vfirst=$((big + (s2r_vk - extra) * base))
    fi
}

# ---- CPUs and GPUs shared by concurrent steps -----------------------------

s2r_state=${S2R_SRUN_STATE:-}
if [ -z "$s2r_state" ]; then
    s2r_state=$(mktemp -d "${TMPDIR:-/tmp}/s2r-srun.XXXXXX") || exit 1
fi

s2r_lock() {
    until mkdir "$s2r_state/lock" 2>/dev/null; do sleep 0.05; done
}
s2r_unlock() { rmdir "$s2r_state/lock" 2>/dev/null; }

# the pod's GPU count: NVIDIA_VISIBLE_DEVICES when it lists devices
s2r_pod_gpus() {
    local l=${NVIDIA_VISIBLE_DEVICES:-}
    case $l in
    '' | all | void | none) echo "$s2r_node_gpus" ;;
    *) local IFS=, n=0 d
        for d in $l; do n=$((n + 1)); done
        echo "$n" ;;
    esac
}

# the next step id (SLURM_STEP_ID), counted in the state folder
s2r_next_step() {
    local id=0
    s2r_lock
    [ -f "$s2r_state/steps" ] && id=$(cat "$s2r_state/steps")
    echo $((id + 1)) >"$s2r_state/steps"
    s2r_unlock
    s2r_step=$id
}

# take s2r_ncpu CPUs and s2r_ngpu GPUs, waiting until they are free; the
# GPUs taken in s2r_gpus (0,1,...)
s2r_take() {
    local used free g got
    while :; do
        s2r_lock
        used=0 got=()
        [ -f "$s2r_state/cpus" ] && used=$(cat "$s2r_state/cpus")
        free=$((s2r_node_cpus - used))
        for ((g = 0; g < s2r_gtotal && ${#got[@]} < s2r_ngpu; g++)); do
            [ -e "$s2r_state/gpu.$g" ] || got+=("$g")
        done
        if [ "$s2r_ncpu" -le "$free" ] && [ "${#got[@]}" -ge "$s2r_ngpu" ]; then
            echo $((used + s2r_ncpu)) >"$s2r_state/cpus"
            for g in "${got[@]}"; do echo $$ >"$s2r_state/gpu.$g"; done
            s2r_unlock
            s2r_gpus=$(IFS=,; echo "${got[*]}")
            return 0
        fi
        s2r_unlock
        sleep 0.1
    done
}

s2r_give_back() {
    local used=0 g
    s2r_lock
    [ -f "$s2r_state/cpus" ] && used=$(cat "$s2r_state/cpus")
    echo $((used - s2r_ncpu)) >"$s2r_state/cpus"
    local IFS=,
    for g in $s2r_gpus; do rm -f "$s2r_state/gpu.$g"; done
    s2r_unlock
}

# ---- the tasks --------------------------------------------------------------

# the file name srun(1)'s pattern $1 gives task $2: %t %n %N %j %J %s %u
# %x %A %a %%, with an optional zero-padding width (%4t)
s2r_pattern() {
    local p=$1 out= c w v
    while [ -n "$p" ]; do
        c=${p:0:1} p=${p:1}
        if [ "$c" != % ]; then
            out+=$c
            continue
        fi
        w=
        while [[ ${p:0:1} == [0-9] ]]; do w+=${p:0:1} p=${p:1}; done
        c=${p:0:1} p=${p:1}
        case $c in
        %) out+=%; continue ;;
        t) v=$2 ;;
        n) v=$((s2r_rel + s2r_k)) ;;
        N) v=$(hostname 2>/dev/null || echo localhost) ;;
        j) v=${SLURM_JOB_ID:-0} ;;
        J) v=${SLURM_JOB_ID:-0}.$s2r_step ;;
        s) v=$s2r_step ;;
        u) v=${USER:-$(id -un 2>/dev/null)} ;;
        x) v=${SLURM_JOB_NAME:-} ;;
        A) v=${SLURM_ARRAY_JOB_ID:-${SLURM_JOB_ID:-0}} ;;
        a) v=${SLURM_ARRAY_TASK_ID:-4294967294} ;;
        *) out+=%$w$c; continue ;;
        esac
        [ -n "$w" ] && [[ $v =~ ^[0-9]+$ ]] && printf -v v "%0${w}d" "$v"
        out+=$v
    done
    printf '%s' "$out"
}

# where task $2 writes with the --output/--error value $1: all, none, a
# task number, or a pattern ("" when it keeps the step's stream)
s2r_target() {
    case $1 in
    '' | all) ;;
    none) printf /dev/null ;;
    *[!0-9]*) s2r_pattern "$1" "$2" ;;
    *) [ "$1" = "$2" ] || printf /dev/null ;;
    esac
}

s2r_labeled() {
    local line
    while IFS= read -r line || [ -n "$line" ]; do
        printf '%*d: %s\n' "$s2r_lw" "$1" "$line"
    done
}

# the --multi-prog line of task $2 in file $1 into s2r_cmdline: ranks
# (N, N-M, lists, *) then the command, %t the task, %o its offset
s2r_multi_line() {
    local ranks rest r lo hi off
    while read -r ranks rest || [ -n "$ranks" ]; do
        case $ranks in '' | '#'*) continue ;; esac
        off=-1
        if [ "$ranks" = '*' ]; then
            off=$2
        else
            local IFS=,
            for r in $ranks; do
                lo=${r%-*} hi=${r#*-}
                if [ "$2" -ge "$lo" ] && [ "$2" -le "$hi" ]; then
                    off=$(($2 - lo))
                    break
                fi
            done
            unset IFS
        fi
        if [ "$off" -ge 0 ]; then
            rest=${rest//%t/$2}
            s2r_cmdline=${rest//%o/$off}
            return 0
        fi
    done <"$1"
    s2r_die "--multi-prog $1 has no line for task $2"
}

# one task (in a subshell): global id $1, local id $2, then the program
s2r_task() {
    local t=$1 l=$2 g out err
    shift 2
    export SLURM_PROCID=$t SLURM_LOCALID=$l SLURM_NODEID=$((s2r_rel + s2r_k))
    export SLURM_NTASKS=$s2r_T SLURM_NPROCS=$s2r_T SLURM_STEP_ID=$s2r_step
    export SLURM_STEPID=$s2r_step SLURM_STEP_NUM_TASKS=$s2r_T S2R_SRUN_TASK=1
    export SLURM_STEP_NUM_NODES=$s2r_M
    if [ "$s2r_virtual" = 1 ]; then
        # this pod stands for several nodes: the task's node's values
        s2r_vnode_of "$t"
        export SLURM_NODEID=$((s2r_vrel + s2r_vk))
        export SLURM_LOCALID=$((t - s2r_vfirst)) SLURM_STEP_NUM_NODES=$s2r_vM
    fi
    [ "$s2r_cptset" = 1 ] && export SLURM_CPUS_PER_TASK=$s2r_cptv
    if [ -n "$s2r_gpt" ]; then
        g=$(echo "$s2r_gpus" | cut -d, -f$((l * s2r_gpt + 1))-$(((l + 1) * s2r_gpt)))
        export CUDA_VISIBLE_DEVICES=$g
    elif [ -n "$s2r_gpn$s2r_gtot" ] && [ "$s2r_virtual" = 1 ]; then
        # the task's node's share of the step's GPUs
        local per=${s2r_gpn:-$(((s2r_gtot + s2r_vM - 1) / s2r_vM))}
        g=$(echo "$s2r_gpus" | cut -d, -f$((s2r_vk * per + 1))-$(((s2r_vk + 1) * per)))
        export CUDA_VISIBLE_DEVICES=$g
    elif [ -n "$s2r_gpn$s2r_gtot" ]; then
        export CUDA_VISIBLE_DEVICES=$s2r_gpus
    elif [ "$s2r_virtual" = 1 ] && [ "$s2r_gtotal" -ge "$s2r_vnodes" ] &&
        [ -z "$s2r_inner" ]; then
        # a step that names no GPUs has its node's GPUs (srun(1) --gres)
        local per=$((s2r_gtotal / s2r_vnodes)) d
        g=
        for ((d = (s2r_vrel + s2r_vk) * per; d < (s2r_vrel + s2r_vk + 1) * per; d++)); do
            g=${g:+$g,}$d
        done
        export CUDA_VISIBLE_DEVICES=$g
    fi
    if [ "${s2r_rank_vars:-0}" = 1 ]; then
        export RANK=$t WORLD_SIZE=$s2r_T LOCAL_RANK=$l LOCAL_WORLD_SIZE=$s2r_tl
    fi
    if [ "$s2r_nnodes" -le 1 ]; then
        export MASTER_ADDR=${MASTER_ADDR:-127.0.0.1} MASTER_PORT=${MASTER_PORT:-29500}
    fi
    [ -n "$s2r_cwd" ] && { cd "$s2r_cwd" || exit 1; }
    [ -n "$s2r_dir" ] && { cd "$s2r_dir" || exit 1; }
    case $s2r_in in
    '' | all) ;;
    none) exec </dev/null ;;
    *[!0-9]*) exec <"$(s2r_pattern "$s2r_in" "$t")" || exit 1 ;;
    *) [ "$s2r_in" = "$t" ] || exec </dev/null ;;
    esac
    out=$(s2r_target "$s2r_out" "$t")
    err=$(s2r_target "$s2r_err" "$t")
    [ -n "$out" ] && { exec >>"$out" || exit 1; }
    if [ -n "$err" ]; then
        exec 2>>"$err" || exit 1
    elif [ -n "$out" ]; then
        exec 2>&1
    fi
    if [ "$s2r_label" = 1 ]; then
        exec > >(s2r_labeled "$t") 2>&1
        echo $! >"$s2r_stepdir/label.$t"
    fi
    if [ "$s2r_multi" = 1 ]; then
        s2r_multi_line "$1" "$t"
        eval "exec $s2r_cmdline"
    fi
    exec "$@"
}

# empty the output files of the step's tasks (--open-mode=truncate)
s2r_truncate() {
    local t f
    [ "$s2r_mode" = append ] && return 0
    for ((t = s2r_t0; t < s2r_t0 + s2r_tl; t++)); do
        for f in "$(s2r_target "$s2r_out" "$t")" "$(s2r_target "$s2r_err" "$t")"; do
            [ -n "$f" ] && [ "$f" != /dev/null ] && : >"$f"
        done
    done
}

# ---- the step ---------------------------------------------------------------

s2r_parse "$@"
shift $(($# - s2r_nargs))
[ $# -ge 1 ] || s2r_die "no program to run"
s2r_prev=
for s2r_a in "$@"; do
    [ "$s2r_prev" = : ] && [[ $s2r_a == -* ]] &&
        s2r_die "heterogeneous steps (':') have no equivalent in a Run:ai pod"
    s2r_prev=$s2r_a
done
[ "$s2r_multi" = 1 ] && [ ! -r "$1" ] && s2r_die "--multi-prog: cannot read $1"

s2r_geometry
s2r_next_step
[ "$s2r_k" -ge 0 ] || exit 0 # no task of the step runs on this node

# srun inside a task of another step uses that task's CPUs and GPUs
s2r_inner=${S2R_SRUN_TASK:-}
if [ -n "$s2r_inner" ]; then
    s2r_overlap=1 s2r_gpt= s2r_gpn= s2r_gtot=
fi
s2r_cptset=0 s2r_cptv=${s2r_cpt:-$s2r_job_cpt}
[ -n "$s2r_cpt" ] || [ "$s2r_job_cpt" -gt 0 ] && s2r_cptset=1
[ "$s2r_cptv" -gt 0 ] || s2r_cptv=1
s2r_gtotal=$(s2r_pod_gpus)
# a step that names no GPUs takes the job's --gpus-per-task
[ -z "$s2r_gpt$s2r_gpn$s2r_gtot" ] && [ -z "${S2R_SRUN_TASK:-}" ] &&
    [ "${s2r_job_gpt:-0}" -gt 0 ] && s2r_gpt=$s2r_job_gpt
if [ -n "$s2r_gpt" ]; then
    s2r_ngpu=$((s2r_gpt * s2r_tl))
elif [ -n "$s2r_gpn" ]; then
    s2r_ngpu=$((s2r_gpn * s2r_vM)) # this pod's nodes of the step
elif [ -n "$s2r_gtot" ] && [ "$s2r_virtual" = 1 ]; then
    s2r_ngpu=$s2r_gtot # all of the step's nodes are this pod
elif [ -n "$s2r_gtot" ]; then
    s2r_ngpu=$(((s2r_gtot + s2r_M - 1) / s2r_M))
else
    s2r_ngpu=0
fi
[ "$s2r_ngpu" -le "$s2r_gtotal" ] ||
    s2r_die "the step asks for $s2r_ngpu GPU(s) on this node; the pod has $s2r_gtotal"
if [ "$s2r_overlap" = 1 ]; then
    s2r_ncpu=0
elif [ "$s2r_excl" = 1 ]; then
    s2r_ncpu=$((s2r_tl * s2r_cptv))
else
    s2r_ncpu=$s2r_node_cpus
fi
[ "$s2r_ncpu" -le "$s2r_node_cpus" ] ||
    s2r_die "the step asks for $s2r_ncpu CPU(s) on this node; the pod has $s2r_node_cpus"

s2r_take
s2r_stepdir=$s2r_state/step.$s2r_step.$$
mkdir -p "$s2r_stepdir"
trap 's2r_give_back' EXIT
s2r_pids=()
trap 'kill -TERM "${s2r_pids[@]}" 2>/dev/null' TERM INT
s2r_lw=$((s2r_T - 1))
s2r_lw=${#s2r_lw}
s2r_truncate
# srun passes its standard input on to the tasks (srun(1) --input: all of
# them by default): one task reads it; several each read a copy, taken to
# its end first. The explicit redirection keeps bash from giving the
# background tasks /dev/null.
s2r_stdin=/dev/stdin
if [ "$s2r_tl" -gt 1 ] && { [ -z "$s2r_in" ] || [ "$s2r_in" = all ]; }; then
    s2r_stdin=$s2r_stepdir/stdin
    cat >"$s2r_stdin"
fi
for ((s2r_l = 0; s2r_l < s2r_tl; s2r_l++)); do
    if [ "$s2r_stdin" = /dev/stdin ]; then
        (s2r_task $((s2r_t0 + s2r_l)) "$s2r_l" "$@") <&0 &
    else
        (s2r_task $((s2r_t0 + s2r_l)) "$s2r_l" "$@") <"$s2r_stdin" &
    fi
    s2r_pids+=($!)
done

s2r_rc=0 s2r_failed=0
if (wait -n 2>/dev/null; [ $? -ne 2 ]); then
    for ((s2r_l = 0; s2r_l < s2r_tl; s2r_l++)); do
        wait -n
        s2r_r=$?
        [ "$s2r_failed" = 1 ] && [ "$s2r_kill" = 1 ] && continue
        [ "$s2r_r" -gt "$s2r_rc" ] && s2r_rc=$s2r_r
        if [ "$s2r_r" -ne 0 ] && [ "$s2r_failed" = 0 ]; then
            s2r_failed=1
            [ "$s2r_kill" = 1 ] && kill -TERM "${s2r_pids[@]}" 2>/dev/null
        fi
    done
else
    for s2r_p in "${s2r_pids[@]}"; do
        wait "$s2r_p"
        s2r_r=$?
        [ "$s2r_r" -gt "$s2r_rc" ] && s2r_rc=$s2r_r
    done
fi
for s2r_f in "$s2r_stepdir"/label.*; do
    [ -e "$s2r_f" ] || continue
    s2r_p=$(cat "$s2r_f")
    while kill -0 "$s2r_p" 2>/dev/null; do sleep 0.02; done
done
rm -rf "$s2r_stepdir"
exit "$s2r_rc"
