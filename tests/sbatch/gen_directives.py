"""Random but plausible #SBATCH directive sets, for the sbatch comparison.

Each script is a pure function of (seed, index): script(seed, i) builds it
from random.Random(f"{seed}:{i}"), so a failing script is rebuilt from the
two numbers the test log prints. Run this file to print one:

    python3 gen_directives.py SEED INDEX

What varies: option spellings (long, `--opt value`, unique prefixes, short
options with attached or separate values), units and their case, quoting,
trailing comments, repeated and conflicting options, --gres/--gpus*/
--ntasks*/--mem*/--time/--array/--nodes values and ranges, the aliases
--tasks-per-node and --tasks, and the combinations s2r once read
differently. Values stay within the test cluster (cluster.py): a request
no node can hold says nothing about s2r.
"""
import random
import sys

import cluster as cl

TYPES = ["a100", "h100", "v100", "a40"]


def _mem(r, lo_mib=1, hi_mib=512 * 1024):
    mib = r.choice([r.randint(lo_mib, 4096), 1024 * r.randint(1, 64),
                    1024 * r.choice([128, 256, 500, 512])])
    mib = min(max(mib, lo_mib), hi_mib)
    form = r.randrange(7)
    if form == 0 and mib % 1024 == 0:
        return f"{mib // 1024}{r.choice('Gg')}{r.choice(['', 'B', 'b'])}"
    if form == 1:
        return f"{mib}{r.choice('Mm')}{r.choice(['', 'B'])}"
    if form == 2:
        return f"{mib * 1024}{r.choice('Kk')}"
    if form == 3 and mib % (1024 * 1024) == 0:
        return f"{mib // (1024 * 1024)}T"
    if form == 4:
        return r.choice(["0", "1.5G", "2GiB", "4 G", "8GB", "16gb", "-1"])
    return str(mib)


def _time(r):
    m = r.randint(0, 3000)
    s = r.randint(0, 59)
    h = r.randint(0, 72)
    d = r.randint(0, 7)
    return r.choice([
        str(m), f"{m}:{s:02d}", f"{h}:{m % 60:02d}:{s:02d}",
        f"{d}-{h % 24}", f"{d}-{h % 24}:{m % 60:02d}",
        f"{d}-{h % 24:02d}:{m % 60:02d}:{s:02d}", f"{h:02d}:00:00",
        r.choice(["UNLIMITED", "infinite", "-1", "0", "0:30", "1:30",
                  "00:00:30", "2-", "1:2:3:4", "90s", "1h"])])


def _array(r):
    a = r.randint(0, 20)
    b = a + r.randint(0, 40)
    toks = [str(a), f"{a}-{b}", f"{a}-{b}:{r.randint(1, 5)}",
            f"{r.randint(0, 9)},{r.randint(10, 19)},{r.randint(20, 29)}",
            f"1-{r.choice([10, 100, 1000, 1001])}",
            f"{b}-{a}", "[1-4]", "0-9:0"]
    v = r.choice(toks)
    if r.random() < 0.4:
        v += "%" + str(r.choice([0, 1, 2, 4, 10]))
    return v


def _gpu_entry(r, with_name):
    n = r.choice([1, 1, 2, 4, 8, 0])
    t = r.choice(TYPES)
    pre = "gpu:" if with_name else ""
    return r.choice([f"{pre}{n}", f"{pre}{t}:{n}", f"{pre}{t}"] +
                    (["gpu"] if with_name else []))


def _gres(r):
    v = _gpu_entry(r, True)
    k = r.random()
    if k < 0.1:
        v = "gres/" + v
    elif k < 0.2:
        v += "," + _gpu_entry(r, True)
    elif k < 0.25:
        v = "none"
    return v


def _nodes(r):
    a = r.randint(1, 8)
    return r.choice([str(a), str(a), f"{a}-{a + r.randint(0, 4)}",
                     f"{r.randint(0, 2)}-{a}", "0", "1,2,4"])


def _ntasks(r):
    return str(r.choice([1, 2, 3, 4, 8, 16, 0]))


# option: (weight, value generator or None for a flag)
OPTIONS = {
    "nodes": (6, _nodes),
    "ntasks": (5, _ntasks),
    "ntasks-per-node": (5, lambda r: str(r.choice([1, 2, 3, 4, 8]))),
    "tasks-per-node": (2, lambda r: str(r.choice([1, 2, 4]))),
    "cpus-per-task": (5, lambda r: str(r.choice([1, 2, 4, 8, 16, 0]))),
    "cpus-per-gpu": (2, lambda r: str(r.choice([1, 4, 8, 16]))),
    "gres": (6, _gres),
    "gpus": (4, lambda r: _gpu_entry(r, False)),
    "gpus-per-node": (4, lambda r: _gpu_entry(r, False)),
    "gpus-per-task": (3, lambda r: str(r.choice([1, 2]))),
    "mem": (5, _mem),
    "mem-per-cpu": (3, lambda r: _mem(r, 1, 8192)),
    "mem-per-gpu": (3, lambda r: _mem(r, 1, 64 * 1024)),
    "time": (5, _time),
    "array": (3, _array),
    "job-name": (3, lambda r: r.choice(["train", "big run", "a#b", "x'y",
                                        "run-1", "sweep_%a"])),
    # partitions whose nodes hold every GPU type (cluster.py)
    "partition": (3, lambda r: r.choice(["gpu", "gpu,gpu-long", "debug",
                                         "interactive", "batch"])),
    "account": (2, lambda r: r.choice(["lab-a", "lab-b"])),
    "licenses": (1, lambda r: r.choice(["matlab", "matlab:2",
                                        "ansys:1,comsol:2"])),
    "reservation": (1, lambda r: r.choice(list(cl.RESERVATIONS))),
    "exclusive": (1, None),
    "requeue": (1, None),
    "output": (1, lambda r: "logs/%x-%j.out"),
}
SHORT = {"nodes": "N", "ntasks": "n", "cpus-per-task": "c", "gpus": "G",
         "time": "t", "array": "a", "job-name": "J", "partition": "p",
         "account": "A", "licenses": "L", "output": "o"}
# cases s2r once read differently (DIFFERENCES.md): always in the mix
COMBOS = [
    ["--mem-per-gpu=10G"],
    ["--ntasks=8", "--ntasks-per-node=2", "-N 2"],
    ["-G h100:4", "--gpus-per-task=1", "-n 4"],
    ["--gpus-per-node=2", "--gres=gpu:4"],
    ["--gpus-per-node=a100:2", "--gres=gpu:a100:4"],
    ["--array=1-5%0"],
    ["--nodes=0-2"],
    ["--gres=gpu:2", "--gpus=4"],
    ["--ntasks=4", "--ntasks-per-node=3"],
    ["--tasks-per-node=2"],
    ["--tasks=3"],
    ["--mem-per-cpu=0"],
    ["--image=docker:nvcr.io/nvidia/pytorch:24.01-py3"],
    ["--gres=gpu,gpu"],
    ["--gpus=h100:1", "--gpus-per-node=a40:1"],
    ["--gpus-per-node=4", "--gpus-per-task=2", "-n 16"],
    ["--array=31-8", "--array=2-9"],
    ["-n 2", "--mincpus=8"],
    ["--mem-per-gpu=0"],
    ["-N 4", "--gpus=a40"],
    ["--gpus=99999999999999999999"],
]


def _quote(r, v):
    if " " in v or "#" in v or "'" in v:
        return '"' + v + '"' if '"' not in v else v
    k = r.random()
    if k < 0.1:
        return '"' + v + '"'
    if k < 0.15:
        return "'" + v + "'"
    return v


def _spell(r, name, value):
    """One spelling of --name=value."""
    forms = ["long="] * 4 + ["long_space"]
    if len(name) > 4:
        forms += ["prefix"]
    if name in SHORT and value is not None:
        forms += ["short_attached", "short_space"]
    form = r.choice(forms)
    if value is None:
        if form == "prefix":
            return "--" + name[:r.randint(3, len(name))]
        return "--" + name
    v = _quote(r, value)
    if form == "long=":
        return f"--{name}={v}"
    if form == "long_space":
        return f"--{name} {v}"
    if form == "prefix":
        return f"--{name[:r.randint(3, len(name) - 1)]}={v}"
    if form == "short_attached":
        return f"-{SHORT[name]}{v}"
    return f"-{SHORT[name]} {v}"


def script(seed, index):
    """The index-th script of a seed: (text, list of option names)."""
    r = random.Random(f"{seed}:{index}")
    names = list(OPTIONS)
    weights = [OPTIONS[n][0] for n in names]
    opts = []
    for _ in range(r.randint(1, 6)):
        n = r.choices(names, weights)[0]
        gen = OPTIONS[n][1]
        opts.append((n, gen(r) if gen else None))
    if r.random() < 0.2:  # the same option again with another value
        n, _ = r.choice(opts)
        gen = OPTIONS[n][1]
        opts.append((n, gen(r) if gen else None))
    words = [_spell(r, n, v) for n, v in opts]
    if r.random() < 0.15:
        words += r.choice(COMBOS)
    r.shuffle(words)
    lines, cur = [], []
    for w in words:
        cur.append(w)
        if r.random() < 0.6:
            lines.append(cur)
            cur = []
    if cur:
        lines.append(cur)
    text = ["#!/bin/bash"]
    for ws in lines:
        line = "#SBATCH " + " ".join(ws)
        if r.random() < 0.1:
            line += r.choice(["  # note", "\t# x --mem=1"])
        text.append(line)
    text += ["", "srun python train.py", ""]
    return "\n".join(text), [n for n, _ in opts]


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: gen_directives.py SEED INDEX")
    sys.stdout.write(script(int(sys.argv[1]), int(sys.argv[2]))[0])
