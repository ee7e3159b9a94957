#!/usr/bin/env python3
"""bench-python.py: the Python package's conversions, side by side in one
run over a folder of batch scripts (default ../shared/corpus). Not a test:
run it by hand with the python of an environment where the package is
installed (README "Python"):

  ~/.venvs/s2r/bin/python bench/bench-python.py [DIR] [--seconds 3]

Figures, each as conversions per second and as a ratio to the first:
  in process, 1 thread     s2r.convert() in a loop
  in process, 8 threads    the same calls from 8 threads (the GIL is
                           released while libs2r converts; the machine's
                           cores bound the gain)
  program                  the package's s2r program, one process per
                           script (_native/bin/s2r)
  command                  the `s2r` console command, one process per
                           script (a Python launcher that execs it)
"""
import argparse
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import s2r
from s2r.__main__ import PROGRAM


def load(folder: Path) -> list:
    scripts = [(p.name, p.read_bytes()) for p in sorted(folder.glob("*.sbatch"))]
    valid = []
    for name, data in scripts:
        try:
            s2r.convert(data, filename=name)
            valid.append((name, data))
        except s2r.ConversionError:
            pass
    return valid


def in_process(scripts: list, seconds: float, threads: int) -> float:
    done = [0] * threads
    stop = time.monotonic() + seconds
    start = threading.Barrier(threads + 1)

    def worker(k: int) -> None:
        start.wait()
        i = k
        while time.monotonic() < stop:
            name, data = scripts[i % len(scripts)]
            s2r.convert(data, filename=name)
            done[k] += 1
            i += 1

    pool = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
    for t in pool:
        t.start()
    t0 = time.monotonic()
    start.wait()
    for t in pool:
        t.join()
    return sum(done) / (time.monotonic() - t0)


def processes(command: list, files: list, seconds: float) -> float:
    n, t0 = 0, time.monotonic()
    while time.monotonic() - t0 < seconds:
        subprocess.run([*command, "-q", str(files[n % len(files)])],
                       stdout=subprocess.DEVNULL, check=True)
        n += 1
    return n / (time.monotonic() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir", nargs="?", default="../shared/corpus", type=Path)
    ap.add_argument("--seconds", type=float, default=3.0)
    args = ap.parse_args()
    scripts = load(args.dir)
    files = [args.dir / name for name, _ in scripts]
    command = Path(sys.executable).parent / "s2r"
    print(f"s2r {s2r.__version__}, {len(scripts)} scripts, "
          f"{os.cpu_count()} cores, {args.seconds:g} s each")
    rows = [
        ("in process, 1 thread", in_process(scripts, args.seconds, 1)),
        ("in process, 8 threads", in_process(scripts, args.seconds, 8)),
        ("program", processes([PROGRAM], files, args.seconds)),
        ("command", processes([command], files, args.seconds)),
    ]
    base = rows[0][1]
    for label, rate in rows:
        print(f"{label:24} {rate:10.0f} conversions/s  x{rate / base:.3f}")


if __name__ == "__main__":
    main()
