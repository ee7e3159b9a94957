"""What Slurm makes of a script: submit it with sbatch, read the stored job.

Each script is submitted twice: `sbatch -v --hold` (the option table sbatch
parsed, and the job as the controller stores it) and `sbatch
--begin=now+3600` without --hold (the controller then also tests whether
it could place the job, which runs checks a held job skips, e.g.
"Requested node configuration is not available"; the later begin time
keeps it from placing it: slurmctld 22.05 "allocates" a job of
`--nodes=0-N` on no node and then dies, "JobId=N has no job_resrcs
info"). A script is accepted when both submissions are. The facts
come from the held job as `scontrol show job -d -o` prints it (the request
as stored; a pending job's record changes once the scheduler looks at
it), derived with the rules of the corpus facts schema
(shared/corpus/README.md) from Slurm's own values: TRES node=, NumTasks,
NtasksPerN, CPUs/Task, MinCPUsNode, TresPerNode/Job/Task, CpusPerTres,
MinMemoryNode/MinMemoryCPU/MemPerTres, TimeLimit, ArrayTaskId and
ArrayTaskThrottle, JobName, Partition, Account, Licenses, Reservation.
"""
import math
import re
from concurrent.futures import ThreadPoolExecutor

import cluster as cl

SUBMITTED = re.compile(r"Submitted batch job (\d+)")
# lines of `sbatch -v` that are neither the option table nor an error
NOISE = re.compile(r"^sbatch: (select/|-{5}|defined options|end of defined"
                   r" options|\S+\s+: )")
KEY = re.compile(r" ([A-Za-z][A-Za-z0-9/:_]*)=")


def parse_options(stderr):
    """The table between 'defined options' and 'end of defined options'."""
    opts, inside = {}, False
    for line in stderr.splitlines():
        if "defined options" in line:
            inside = "end of" not in line
            continue
        m = re.match(r"^sbatch: (\S+)\s+: (.*)$", line)
        if inside and m:
            opts[m.group(1)] = m.group(2)
    return opts


def errors_of(stderr):
    out = [l for l in stderr.splitlines()
           if l.strip() and not NOISE.match(l)
           and not l.startswith("Try \"sbatch --help\"")]
    return "\n".join(out)


def submit(c, path, hold, cwd):
    if not c.alive():
        return {"job_id": None, "rc": None, "options": None,
                "error": "slurmctld is down"}
    argv = ([c.sbatch] + (["-v", "--hold"] if hold else ["--begin=now+3600"])
            + [path])
    r = c.run(argv, cwd=cwd, timeout=120)
    m = SUBMITTED.search(r.stdout)
    return {"job_id": int(m.group(1)) if m else None,
            "rc": r.returncode,
            "options": parse_options(r.stderr) if hold else None,
            "error": errors_of(r.stderr)}


def parse_record(line):
    """One `scontrol show job -d -o` line as a dict (JobName verbatim)."""
    rec = {}
    m = re.search(r" JobName=(.*?) UserId=", line)
    if m:
        rec["JobName"] = m.group(1)
        line = line[:m.start()] + line[m.end() - len(" UserId="):]
    line = " " + line.strip()
    keys = list(KEY.finditer(line))
    for i, k in enumerate(keys):
        end = keys[i + 1].start() if i + 1 < len(keys) else len(line)
        rec.setdefault(k.group(1), line[k.end():end])
    return rec


def show_jobs(c, ids):
    r = c.run([c.scontrol, "show", "job", "-d", "-o"], timeout=300)
    recs = {}
    for line in r.stdout.splitlines():
        rec = parse_record(line)
        if "JobId" in rec:
            recs[int(rec["JobId"])] = rec
    return {i: recs.get(i) for i in ids}


def cancel(c, ids):
    for k in range(0, len(ids), 500):
        c.run([c.scancel] + [str(i) for i in ids[k:k + 500]], timeout=300)


def _records(c, subs):
    ids = [s[k]["job_id"] for s in subs.values() for k in ("held", "free")
           if k in s and s[k]["job_id"]]
    recs = show_jobs(c, ids) if ids else {}
    for s in subs.values():
        for k in ("held", "free"):
            if k in s:
                s[k]["record"] = recs.get(s[k]["job_id"])
    if ids:
        cancel(c, ids)


def run_batch(c, items, workers=3, log=print):
    """items: [(name, path, cwd)]. Returns {name: {"held": .., "free": ..}},
    each with the submission and the stored record.

    slurmctld 22.05 dies now and then under this load (a segfault in an RPC
    thread, not tied to one script). Then the controller is restarted and
    the batch submitted again one script at a time, each read back at
    once; a script during which it dies is tried once more on a fresh
    controller, and gets {"crash": log tail} if it dies again."""
    subs = {}

    def one(it):
        name, path, cwd = it
        return name, submit(c, path, True, cwd), submit(c, path, False, cwd)

    with ThreadPoolExecutor(workers) as ex:
        for name, held, free in ex.map(one, items):
            subs[name] = {"held": held, "free": free}
    if c.alive():
        _records(c, subs)
        if c.alive():
            return subs
    log("sbatch-diff: slurmctld died; restarting it and submitting the "
        "batch again one script at a time:\n" + c.tail("slurmctld", 400))
    subs = {}
    c.restart()
    for it in items:
        for attempt in (1, 2):
            name, held, free = one(it)
            if c.alive():
                sub = {name: {"held": held, "free": free}}
                _records(c, sub)
                if c.alive():
                    subs.update(sub)
                    break
            tail = c.tail("slurmctld", 600)
            log(f"sbatch-diff: slurmctld died on {name} (try {attempt})")
            c.restart()
            if attempt == 2:
                subs[name] = {"crash": tail}
    return subs


# ---- the facts ------------------------------------------------------------

UNITS = {"K": 1 / 1024, "M": 1, "G": 1024, "T": 1024 * 1024,
         "P": 1024 ** 3}


def mem_mib(v):
    m = re.fullmatch(r"([0-9.]+)([KMGTP]?)", v or "")
    if not m:
        return None
    return round(float(m.group(1)) * UNITS[m.group(2) or "M"])


def time_s(v):
    if not v or v in ("UNLIMITED", "NONE", "N/A", "Partition_Limit"):
        return None
    days = 0
    if "-" in v:
        d, v = v.split("-", 1)
        days = int(d)
    parts = [int(x) for x in v.split(":")]
    while len(parts) < 3:
        parts.insert(0, 0)
    return ((days * 24 + parts[0]) * 60 + parts[1]) * 60 + parts[2]


def tres_list(v):
    """'gres:gpu:a100:2,gres:gpu:4' -> {type or None: count} of GPUs, in
    the order given; one entry per GRES key, the last count of a key wins
    (gres_job_state_validate() in gres.c); an entry of count 0 is dropped,
    as _get_next_gres() drops it (it neither makes nor changes a key)."""
    out = {}
    for e in (v or "").split(","):
        f = e.split(":")
        if f and f[0] in ("gres", "gres/gpu"):
            f = f[1:] if f[0] == "gres" else ["gpu"] + f[1:]
        if not f or f[0] != "gpu":
            continue
        typ, cnt = None, 1
        if len(f) == 2:
            if f[1].isdigit():
                cnt = int(f[1])
            else:
                typ = f[1]
        elif len(f) >= 3:
            typ, cnt = ":".join(f[1:-1]), int(f[-1])
        if cnt == 0:
            continue
        out.pop(typ, None)
        out[typ] = cnt
    return out


def gpus_per_node(rec, nodes, tpn):
    """GPUs per node and the first type named: per GRES key, the per-node
    count, else the job count spread over the nodes, else the per-socket
    count times the sockets of a node (Socks/Node), else the per-task
    count times the tasks of a node; summed over keys. --ntasks-per-gpu
    (NtasksPerTRES) without a GPU request gives the job NumTasks /
    NtasksPerTRES GPUs of no type, which slurmctld keeps as a job count
    but does not print (gres_job_state_validate(): "Simulate a
    tres_per_job specification"; MemPerTres times them is the job's
    memory in TRES mem=)."""
    per_node = tres_list(rec.get("TresPerNode"))
    per_job = tres_list(rec.get("TresPerJob"))
    per_socket = tres_list(rec.get("TresPerSocket"))
    per_task = tres_list(rec.get("TresPerTask"))
    ntpt = rec.get("NtasksPerTRES", "0")
    ntpt = int(ntpt) if ntpt.isdigit() else 0
    if ntpt and not (per_node or per_job or per_socket or per_task):
        gpus = int(rec.get("NumTasks", "0") or 0) // ntpt
        if gpus:
            per_job[None] = gpus
    socks = rec.get("Socks/Node", "*")
    socks = int(socks) if socks.isdigit() else 0
    total, gtype = 0, None
    for key in (list(per_node) + list(per_job) + list(per_socket) +
                list(per_task)):
        if per_node.get(key):
            n = per_node[key]
        elif per_job.get(key):
            n = math.ceil(per_job[key] / nodes) if nodes else per_job[key]
        elif per_socket.get(key):
            n = per_socket[key] * socks
        elif per_task.get(key):
            n = per_task[key] * tpn
        else:
            continue
        if gtype is None and key is not None and n:
            gtype = key
        total += n
        for d in (per_node, per_job, per_socket, per_task):
            d.pop(key, None)
    return total, gtype


def expand_array(v):
    if v is None:
        return None
    v = v.split("%")[0]
    out = set()
    for tok in v.split(","):
        m = re.fullmatch(r"(\d+)(?:-(\d+)(?::(\d+))?)?", tok)
        if not m:
            return None
        a = int(m.group(1))
        b = int(m.group(2)) if m.group(2) else a
        s = int(m.group(3)) if m.group(3) else 1
        out.update(range(a, b + 1, s))
    return sorted(out)


def null(v):
    return None if v in (None, "", "(null)", "N/A") else v


def facts(rec, options, default_partition="gpu"):
    """The corpus facts of a stored job, by Slurm's values."""
    # the stored minimum: TRES node= (NumNodes of a pending job without
    # --nodes is scontrol's estimate, not the request)
    m = re.search(r"(?:^|,)node=(\d+)", rec.get("TRES", ""))
    nodes = int(m.group(1)) if m else \
        int(rec.get("NumNodes", "1").partition("-")[0])
    ntasks = int(rec.get("NumTasks", "1") or 1)
    ntpn = int(rec.get("NtasksPerN:B:S:C", "0").split(":")[0] or 0)
    if ntpn > 0:  # --ntasks-per-node is a maximum: more nodes if needed
        nodes = max(nodes, math.ceil(ntasks / ntpn))
    tpn = ntpn if ntpn > 0 else math.ceil(ntasks / nodes) if nodes else 0
    cpt = int(rec.get("CPUs/Task", "1") or 1)

    gpn, gtype = gpus_per_node(rec, nodes, tpn)

    cpg = list(tres_list(rec.get("CpusPerTres")).values())
    if cpg and gpn:
        cpn = cpg[0] * gpn
    else:
        cpn = max(cpt * tpn, int(rec.get("MinCPUsNode", "1") or 1))

    # MemPerTres=gres:gpu:0 (--mem-per-gpu=0) asks no memory per GPU:
    # slurmctld keeps no mem_per_gres and the node default applies
    # (gres_select_util.c), as with no memory option at all
    given_mem = any(k in options for k in ("mem", "mem-per-cpu"))
    mem = None
    mpt = list(tres_list(rec.get("MemPerTres")).values())
    if mpt:
        mem = mpt[0] * gpn
    elif "MinMemoryCPU" in rec:
        v = mem_mib(rec["MinMemoryCPU"])
        mem = "all" if v == 0 else v * cpn
    elif "MinMemoryNode" in rec:
        v = mem_mib(rec["MinMemoryNode"])
        if v == 0:
            mem = "all"
        elif not (v == cl.DEF_MEM_PER_NODE and not given_mem):
            mem = v

    at = rec.get("ArrayTaskId")
    thr = rec.get("ArrayTaskThrottle")
    array = None
    if at is not None:
        array = {"indices": expand_array(at),
                 "max_parallel": int(thr) if thr and thr != "0" else None}
    part = null(rec.get("Partition"))
    return {
        "job_name": rec.get("JobName"),
        "nodes": nodes,
        "ntasks": ntasks,
        "tasks_per_node": tpn,
        "cpus_per_task": cpt,
        "gpus_per_node": gpn,
        "gpu_type": gtype,
        "cpus_per_node": cpn,
        "mem_per_node_mib": mem,
        "time_limit_s": time_s(rec.get("TimeLimit")),
        "array": array,
        "partition": part,
        "account": null(rec.get("Account")),
        "licenses": null(rec.get("Licenses")),
        "reservation": null(rec.get("Reservation")),
    }
