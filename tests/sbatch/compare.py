"""s2r's reading of a script against Slurm's, and the allow-list.

The facts compared are those of the corpus facts schema
(shared/corpus/README.md) plus the values the directives only carry
(partition, account, licenses, reservation). A difference is one fact, or
acceptance itself; it is allowed only by an entry of allowlist.toml that
matches the script and names the fact.
"""
import json
import os
import re
import subprocess
import tomllib

FACTS = ["job_name", "nodes", "ntasks", "tasks_per_node", "cpus_per_task",
         "gpus_per_node", "gpu_type", "cpus_per_node", "mem_per_node_mib",
         "time_limit_s", "array", "partition", "account", "licenses",
         "reservation"]
DIRECTIVE = re.compile(r"^#SBATCH(.*)$", re.M)


def s2r_parse(s2r, path, cwd):
    r = subprocess.run([s2r, "parse", path], cwd=cwd, capture_output=True,
                       text=True, errors="replace", timeout=60)
    try:
        job = json.loads(r.stdout) if r.stdout.strip() else None
    except json.JSONDecodeError:
        job = None
    errs = [l for l in r.stderr.splitlines() if ": error: " in l or
            l.startswith("s2r:")]
    return {"rc": r.returncode, "job": job, "error": "\n".join(errs)}


def _licenses(v):
    if not v:
        return None
    out = []
    for e in v.split(","):
        name, _, n = e.partition(":")
        out.append(f"{name}:{n or 1}")
    return ",".join(sorted(out))


def s2r_facts(job, script_name, default_partition):
    dirs = {d["name"]: d["value"] for d in job.get("directives", [])}
    nodes = job["nodes"]
    tpn = job["tasks_per_node"]
    mem = job["mem_per_node_mib"]
    return {
        "job_name": job["job_name"] if job["job_name"] is not None
        else script_name,
        "nodes": nodes,
        "ntasks": job["ntasks"] or nodes * tpn,
        "tasks_per_node": tpn,
        "cpus_per_task": job["cpus_per_task"] or 1,
        "gpus_per_node": job["gpus_per_node"],
        "gpu_type": job["gpu_type"],
        "cpus_per_node": job["cpus_per_node"],
        "mem_per_node_mib": mem,
        "time_limit_s": job["time_limit_s"],
        "array": job["array"],
        "partition": ",".join(job["partitions"]) if job.get("partitions")
        else default_partition,
        "account": job.get("account"),
        "licenses": _licenses(dirs.get("licenses")),
        "reservation": dirs.get("reservation"),
    }


def normalise_slurm(f):
    f = dict(f)
    f["licenses"] = _licenses(f["licenses"])
    return f


def differences(s2r, slurm_accepts, s2r_f, slurm_f):
    """[(fact, s2r value, slurm value)]; acceptance first and alone."""
    s2r_accepts = s2r["rc"] == 0
    if s2r_accepts != slurm_accepts:
        return [("accepted", s2r_accepts, slurm_accepts)]
    if not s2r_accepts:
        return []
    return [(k, s2r_f[k], slurm_f[k]) for k in FACTS
            if s2r_f[k] != slurm_f[k]]


# ---- allow-list ------------------------------------------------------------

class AllowList:
    def __init__(self, path):
        with open(path, "rb") as f:
            data = tomllib.load(f)
        self.entries = data.get("entry", [])
        for e in self.entries:
            for k in ("id", "reason", "status", "facts"):
                if not e.get(k):
                    raise ValueError(f"{path}: entry {e.get('id')!r} has "
                                     f"no {k}")
            e["_text"] = [re.compile(t, re.M) for t in e.get("text", [])]
            e["_not_text"] = [re.compile(t, re.M)
                              for t in e.get("not_text", [])]
        self.used = {e["id"]: 0 for e in self.entries}

    def match(self, fact, options, directive_text, side, tr=(),
              placement=False):
        """The first entry covering the difference, or None; @p placement:
        sbatch's refusal came from the controller's placement check alone
        (the held job was stored)."""
        for e in self.entries:
            if fact not in e["facts"]:
                continue
            if e.get("placement") and not placement:
                continue
            if not all(t in tr for t in e.get("traits", [])):
                continue
            if any(t in tr for t in e.get("without_traits", [])):
                continue
            if e.get("side") and e["side"] != side:
                continue
            if not all(o in options for o in e.get("options", [])):
                continue
            if any(o in options for o in e.get("without", [])):
                continue
            if not all(t.search(directive_text) for t in e["_text"]):
                continue
            if any(t.search(directive_text) for t in e["_not_text"]):
                continue
            self.used[e["id"]] += 1
            return e
        return None


def directive_text(script):
    return "\n".join(m.group(0) for m in DIRECTIVE.finditer(script))


def option_names(s2r, held_options):
    """Long option names given: s2r's effective directives and the option
    table sbatch printed (either may be missing when one side refuses)."""
    names = set(held_options or {})
    job = s2r.get("job") or {}
    names.update(d["name"] for d in job.get("directives", []))
    return names


GPU_OPTIONS = ("gres", "gpus", "gpus-per-node", "gpus-per-task",
               "gpus-per-socket")


def traits(s2r):
    """Properties of the effective GPU requests an entry can name:
    gpu-requested (some GPU count > 0), gpu-typed-untyped-mix (a GPU entry
    with a type and one without, across all GPU options),
    gpu-several-types (GPUs of two types or more requested, across all GPU
    options) and gpu-repeated-key (one option value names the same GPU
    type, or no type, twice)."""
    job = s2r.get("job") or {}
    typed = untyped = requested = repeated = False
    types = set()
    for d in job.get("directives", []):
        if d["name"] not in GPU_OPTIONS or not d["value"]:
            continue
        keys = []
        for e in d["value"].split(","):
            f = e.split(":")
            if d["name"] == "gres":
                if f[0].lower().startswith("gres/"):
                    f[0] = f[0][5:]
                if f[0] != "gpu":
                    continue
                f = f[1:]
            cnt = 1
            if f and f[-1].isdigit():
                cnt = int(f.pop())
            requested |= cnt > 0
            key = ":".join(f) or None
            repeated |= key in keys
            keys.append(key)
            if key and cnt > 0:
                types.add(key)
            if f:
                typed = True
            else:
                untyped = True
    out = set()
    if requested:
        out.add("gpu-requested")
    if typed and untyped:
        out.add("gpu-typed-untyped-mix")
    if len(types) > 1:
        out.add("gpu-several-types")
    if repeated:
        out.add("gpu-repeated-key")
    return out


def side_of(fact, s2r_val, slurm_val):
    if fact != "accepted":
        return None
    return "s2r-accepts" if s2r_val else "s2r-refuses"


def default_partition_of(partitions):
    for name, _, extra in partitions:
        if "Default=YES" in extra:
            return name
    return None


def script_name(path):
    return os.path.basename(path)
