#!/usr/bin/env python3
"""Conversion time per KB as a script grows (a benchmark, not a test).

Five kinds of script, each at 1 KB, 16 KB, 128 KB and 1,000 KB:

  body        set-up lines, srun steps (some in the background), exports,
              here-documents: the body analysis and rendering
  directives  #SBATCH lines (each option again, the last one wins)
  warnings    body lines that each raise a warning (an absolute path no
              [storage] entry covers)
  folders     body lines that each read a file under a top folder of its
              own (cat /d1/f, cat /d2/f ...): one warning per folder
  modules     body lines that each load a module of its own (module load
              m1, module load m2 ...): the job's list of modules

Each size is converted in process by bench_convert (build/bench) for a
while; the line printed per kind gives µs per KB at every size and the
ratio of the largest to the smallest: 1.0 is linear, and the conversion
is meant to stay within 1.5. A body past 128 KiB is refused at the end of
the conversion (Linux's limit for one argument), after all the work, so
the time still counts.

usage: bench-scale.py [--build DIR] [--seconds S] [--format cli|yaml|json]
                      [body|directives|warnings|folders|modules ...]
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

SIZES_KB = [1, 16, 128, 1000]


def body_lines():
    i = 0
    while True:
        i += 1
        yield from [
            f"python prep.py --shard {i} --out data/part{i}",
            f"export STEP{i}=value{i}",
            f"srun -n 1 --exclusive python work.py --part {i} &",
            "wait" if i % 4 == 0 else f"echo step {i} started",
            f"cat > conf{i}.yaml <<EOF\nlr: 0.{i}\nEOF",
        ]


def directive_lines():
    opts = ["--time=01:00:00", "--mem=16G", "--cpus-per-task=4",
            "--job-name=run", "--gres=gpu:2", "--ntasks-per-node=2",
            "--nodes=1", "--output=logs/%x-%j.out", "--mail-type=END"]
    i = 0
    while True:
        yield "#SBATCH " + opts[i % len(opts)]
        i += 1


def warning_lines():
    i = 0
    while True:
        i += 1
        yield f"ls /lustre/group{i}/data{i}"


def folder_lines():
    i = 0
    while True:
        i += 1
        yield f"cat /d{i}/f"


def module_lines():
    i = 0
    while True:
        i += 1
        yield f"module load m{i}"


def script(kind, kb):
    head = "#!/bin/bash\n#SBATCH -N 1 -n 4 --gres=gpu:4\n"
    gen = {"body": body_lines, "directives": directive_lines,
           "warnings": warning_lines, "folders": folder_lines,
           "modules": module_lines}[kind]()
    parts, size = [head], len(head)
    while size < kb * 1024:
        line = next(gen) + "\n"
        parts.append(line)
        size += len(line)
    tail = "python train.py\n"
    return "".join(parts) + tail


def rate(bench, folder, seconds, fmt):
    out = subprocess.run([bench, folder, str(seconds), fmt],
                         capture_output=True, text=True, check=True).stdout
    m = re.search(r"([0-9]+) conversions \(.*\) in ([0-9.]+) s", out)
    return int(m.group(1)) / float(m.group(2))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--build", default="build")
    p.add_argument("--seconds", type=float, default=2.0)
    p.add_argument("--format", default="yaml")
    p.add_argument("kinds", nargs="*",
                   default=["body", "directives", "warnings", "folders",
                            "modules"])
    a = p.parse_args()
    bench = os.path.join(a.build, "bench", "bench_convert")
    if not os.access(bench, os.X_OK):
        sys.exit(f"bench-scale: no {bench}: build first (scripts/build.sh)")
    worst = 0.0
    with tempfile.TemporaryDirectory(prefix="s2r-scale-") as tmp:
        for kind in a.kinds:
            per_kb = []
            for kb in SIZES_KB:
                d = os.path.join(tmp, f"{kind}-{kb}")
                os.mkdir(d)
                text = script(kind, kb)
                with open(os.path.join(d, "job.sbatch"), "w") as fh:
                    fh.write(text)
                r = rate(bench, d, a.seconds, a.format)
                per_kb.append(1e6 / r / (len(text) / 1024))
            ratio = per_kb[-1] / per_kb[0]
            worst = max(worst, ratio)
            cells = ", ".join(f"{kb} KB {us:.1f}"
                              for kb, us in zip(SIZES_KB, per_kb))
            print(f"bench-scale: {kind:<10} µs per KB ({a.format}): {cells}; "
                  f"1000 KB / 1 KB = {ratio:.2f}")
    print(f"bench-scale: worst growth {worst:.2f} (1.0 is linear)")


if __name__ == "__main__":
    main()
