#!/usr/bin/env python3
"""Differential test: `s2r parse` against real sbatch and slurmctld 22.05.

Every script (the shared corpus, tests/sbatch/cases, and --generate N
random directive sets) is read by `s2r parse` and submitted to a private
controller (cluster.py) with `sbatch -v --hold` and again with plain
`sbatch`. Acceptance and every resource fact must agree, unless an entry of
allowlist.toml covers the difference. Exit 0 when all agree, 1 when a
difference is not allowed, 77 (ctest SKIP_RETURN_CODE) when no controller
can run here.

    run_sbatch_diff.py --s2r build/s2r [--corpus DIR] [--cases DIR]
        [--generate N] [--seed S] [--only I ...] [--report FILE]

A failing generated script is printed with its seed and index; rebuild it
with `gen_directives.py SEED INDEX` or rerun it alone with
`--generate 0 --seed SEED --only INDEX` (no corpus: `--corpus ''`).
"""
import argparse
import glob
import json
import os
import random
import signal
import sys
import time
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import cluster as cl  # noqa: E402
import compare as cmp  # noqa: E402
import gen_directives as gen  # noqa: E402
import slurm_side as ss  # noqa: E402

SKIP = 77
BATCH = 250


def args_of(argv):
    src = os.path.dirname(os.path.dirname(HERE))
    shared = os.environ.get("S2R_SHARED_DIR",
                            os.path.join(os.path.dirname(src), "shared"))
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--s2r", required=True)
    p.add_argument("--corpus", default=os.path.join(shared, "corpus"))
    p.add_argument("--cases", default=os.path.join(HERE, "cases"))
    p.add_argument("--allow", default=os.path.join(HERE, "allowlist.toml"))
    p.add_argument("--generate", type=int, default=1000)
    p.add_argument("--seed", type=int,
                   default=int(os.environ.get("S2R_SBATCH_SEED", "0")) or
                   random.SystemRandom().randrange(1, 2 ** 31))
    p.add_argument("--only", type=int, action="append", default=[])
    p.add_argument("--report", help="write every difference (markdown)")
    return p.parse_args(argv)


def collect(a, jobdir):
    """[(name, source, script text, origin)] in submission order."""
    items = []
    for d, origin in ((a.corpus, "corpus"), (a.cases, "cases")):
        if not d or not os.path.isdir(d):
            continue
        for path in sorted(glob.glob(os.path.join(d, "*.sbatch"))):
            with open(path, "rb") as f:
                data = f.read()
            name = os.path.basename(path)
            with open(os.path.join(jobdir, name), "wb") as f:
                f.write(data)
            items.append((name, path, data.decode("utf-8", "replace"),
                          origin))
    idx = a.only or range(a.generate)
    for i in idx:
        text, _ = gen.script(a.seed, i)
        name = f"gen-{a.seed}-{i}.sbatch"
        with open(os.path.join(jobdir, name), "w") as f:
            f.write(text)
        items.append((name, f"gen_directives.py {a.seed} {i}", text,
                      "generated"))
    return items


def slurm_verdict(sub):
    held, free = sub["held"], sub["free"]
    if held["job_id"] is None:
        return False, held["error"] or f"sbatch exit {held['rc']}", held
    if free["job_id"] is None:
        return False, ((free["error"] or f"sbatch exit {free['rc']}") +
                       " (only without --hold)"), free
    return True, "", held["record"]


def judge(item, s2r, sub, allow, default_part):
    name, source, text, origin = item
    if "crash" in sub:
        return {"name": name, "source": source, "origin": origin,
                "script": text, "directives": cmp.directive_text(text),
                "diffs": [{"fact": "slurmctld", "s2r": "-",
                           "slurm": "died on this submission",
                           "allowed": None}],
                "slurm_accepts": False, "slurm_options": None,
                "slurm_message": "slurmctld died: " + sub["crash"],
                "slurm_facts": None, "s2r_accepts": s2r["rc"] == 0,
                "s2r_message": s2r["error"], "s2r_facts": None}
    ok, message, rec = slurm_verdict(sub)
    options = sub["held"]["options"]
    slurm_f = None
    if ok and rec:
        slurm_f = cmp.normalise_slurm(ss.facts(rec, options or {}))
    s2r_f = None
    if s2r["rc"] == 0 and s2r["job"]:
        s2r_f = cmp.s2r_facts(s2r["job"], name, default_part)
    diffs = cmp.differences(s2r, ok, s2r_f, slurm_f) \
        if (not ok or slurm_f) else [("record", "stored", "missing")]
    names = cmp.option_names(s2r, options)
    dtext = cmp.directive_text(text)
    tr = cmp.traits(s2r)
    placement = (sub["held"]["job_id"] is not None and
                 sub["free"]["job_id"] is None)
    out = []
    for fact, sv, lv in diffs:
        e = allow.match(fact, names, dtext, cmp.side_of(fact, sv, lv), tr,
                        placement)
        out.append({"fact": fact, "s2r": sv, "slurm": lv,
                    "allowed": e["id"] if e else None})
    return {"name": name, "source": source, "origin": origin,
            "script": text, "directives": dtext, "diffs": out,
            "slurm_accepts": ok, "slurm_message": message,
            "slurm_options": options, "slurm_facts": slurm_f,
            "s2r_accepts": s2r["rc"] == 0, "s2r_message": s2r["error"],
            "s2r_facts": s2r_f}


def show(v):
    return json.dumps(v, sort_keys=True) if not isinstance(v, str) else v


def describe(res, full_script):
    lines = [f"--- {res['name']}  ({res['source']})"]
    body = res["script"] if full_script else res["directives"]
    lines += ["    " + l for l in body.rstrip("\n").split("\n")]
    sb = "accepts" if res["slurm_accepts"] else "refuses"
    lines.append(f"  sbatch {sb}" + (f": {res['slurm_message']}"
                                     if res["slurm_message"] else ""))
    if res["slurm_facts"]:
        lines.append(f"    stored: {show(res['slurm_facts'])}")
    s2 = "accepts" if res["s2r_accepts"] else "refuses"
    lines.append(f"  s2r {s2}" + (f": {res['s2r_message']}"
                                  if res["s2r_message"] else ""))
    for d in res["diffs"]:
        tag = f"allowed by {d['allowed']}" if d["allowed"] else "NOT ALLOWED"
        lines.append(f"  {d['fact']}: s2r {show(d['s2r'])} / sbatch "
                     f"{show(d['slurm'])}  [{tag}]")
    return "\n".join(lines)


def process(a, c, items, jobdir, allow, default_part):
    results = []

    def parse(it):
        return cmp.s2r_parse(a.s2r, it[0], jobdir)

    with ThreadPoolExecutor(2) as ex:
        for k in range(0, len(items), BATCH):
            chunk = items[k:k + BATCH]
            parsed = list(ex.map(parse, chunk))
            subs = ss.run_batch(c, [(it[0], it[0], jobdir) for it in chunk])
            for it, s2r in zip(chunk, parsed):
                results.append(judge(it, s2r, subs[it[0]], allow,
                                     default_part))
    return results


def write_report(path, a, results, allow, per_entry=3):
    """Every difference, grouped by the allow-list entry that covers it
    (cases first, then the corpus, then generated scripts; at most
    per_entry scripts each, all of those not allowed)."""
    rank = {"cases": 0, "corpus": 1, "generated": 2}
    by = {}
    for r in sorted(results, key=lambda r: rank.get(r["origin"], 3)):
        for key in {d["allowed"] or "" for d in r["diffs"]}:
            by.setdefault(key, []).append(r)
    with open(path, "w") as f:
        f.write(f"Seed {a.seed}: {len(results)} scripts "
                f"(rebuild a generated one with gen_directives.py SEED "
                f"INDEX).\n\n")
        if "" in by:
            f.write(f"### Not allowed ({len(by[''])} scripts)\n\n")
            for r in by[""]:
                f.write("```\n" + describe(r, False) + "\n```\n\n")
        for e in allow.entries:
            rs = by.get(e["id"], [])
            f.write(f"### {e['id']} ({e['status']}; {len(rs)} scripts "
                    f"this run)\n\n{' '.join(e['reason'].split())}\n\n")
            for r in rs[:per_entry]:
                f.write("```\n" + describe(r, False) + "\n```\n\n")


def main(argv):
    a = args_of(argv)
    a.s2r = os.path.abspath(a.s2r)
    if not os.access(a.s2r, os.X_OK):
        print(f"{a.s2r}: not executable", file=sys.stderr)
        return 2
    allow = cmp.AllowList(a.allow)
    print(f"sbatch-diff: seed {a.seed} (rerun with --seed {a.seed} or "
          f"S2R_SBATCH_SEED={a.seed})", flush=True)
    t0 = time.monotonic()
    # a ctest timeout or ^C stops the daemons too (the finally below)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        c = cl.Cluster()
    except cl.Unavailable as e:
        print(f"sbatch-diff: SKIP: no Slurm controller here: {e}")
        return SKIP
    try:
        jobdir = os.path.join(c.dir, "jobs")
        items = collect(a, jobdir)
        default_part = cmp.default_partition_of(cl.PARTITIONS)
        results = process(a, c, items, jobdir, allow, default_part)
    finally:
        c.stop()
    bad = [r for r in results if any(not d["allowed"] for d in r["diffs"])]
    allowed = [r for r in results
               if r["diffs"] and all(d["allowed"] for d in r["diffs"])]
    for r in bad:
        print(describe(r, True), flush=True)
    if a.report:
        write_report(a.report, a, results, allow)
    origins = {}
    for r in results:
        origins[r["origin"]] = origins.get(r["origin"], 0) + 1
    print("sbatch-diff: scripts: " + ", ".join(
        f"{n} {o}" for o, n in sorted(origins.items())))
    print("sbatch-diff: allowed differences by entry:")
    for e in allow.entries:
        print(f"  {allow.used[e['id']]:5d}  {e['id']}  ({e['status']})")
    unused = [i for i, n in allow.used.items() if n == 0]
    if unused:
        print("sbatch-diff: entries that matched nothing this run: " +
              ", ".join(unused))
    print(f"sbatch-diff: {len(results)} scripts in "
          f"{time.monotonic() - t0:.0f} s, seed {a.seed}")
    print(f"{len(results) - len(bad)} passed, {len(bad)} failed")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
