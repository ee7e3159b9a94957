#!/usr/bin/env python3
"""s2r migrate over a real tree: nested folders, a refused script, a script
with CRLF line ends, a text file that is no script, a binary file, symbolic
link loops, names that need quoting. Checks every output file against the
single conversion (`s2r --config FILE -f FMT SCRIPT`: same bytes, same
warnings), report.json against docs/report.schema.json, the counts of
report.md, suggested-site.ini (and that a site file filled from it maps
what it listed), the manifest rule (never over a file it did not write
unless --force, never outside OUTDIR), -j determinism, the exit statuses
and the progress line (on a terminal only).

usage: test_migrate.py --bin S2R --source SRC_DIR --corpus CORPUS_DIR
"""
import argparse
import json
import os
import pty
import re
import shutil
import subprocess
import sys
import tempfile

import jsonschema

FAILS = []


def check(cond, what):
    if not cond:
        FAILS.append(what)
        print("FAIL: " + what)
    return cond


EXT = {"cli": ".sh", "yaml": ".yaml", "json": ".json"}

# tree path -> corpus case (None: written here)
TREE = {
    "lab/train.sbatch": "01-resnet-single-gpu",
    "lab/deep/nested/a/b/vit.job": "02-vit-4gpu-one-node",
    "lab/sweep": "06-array-lr-sweep",
    "lab/mpi/cfd.sh": "04-mpirun-cfd-cpu",
    "shared/torch-4node.sbatch": "03-torchrun-4node-rdzv",
    "shared/fsdp.sbatch": "21-accelerate-2node-fsdp",
    "lab/bad-time.sbatch": "18-time-not-a-duration",
    "lab/crlf.sbatch": "16-crlf-line-endings",
}
REFUSED = {"lab/bad-time.sbatch": "Invalid --time", "lab/crlf.sbatch": "DOS line breaks"}
QUOTED = "lab/odd names/it's \"<b>&\".sbatch"
STORAGE_SCRIPT = """#!/bin/bash
#SBATCH --job-name=paths
#SBATCH --partition=gpu-a
#SBATCH --account=lab-z
#SBATCH --qos=normal
#SBATCH --constraint=ib
#SBATCH --gres=gpu:2
#SBATCH --output=/scratch/lab-b/logs/%j.out
module load cuda/12.4 cudnn
conda activate analysis
python /project/lab-z/train.py --data /project/lab-y/data --out /scratch/lab-b/out
"""


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, **kw)


def make_tree(root, corpus):
    for rel, case in TREE.items():
        dst = os.path.join(root, rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copyfile(os.path.join(corpus, case + ".sbatch"), dst)
    odd = os.path.join(root, QUOTED)
    os.makedirs(os.path.dirname(odd), exist_ok=True)
    with open(odd, "w") as fh:
        fh.write(STORAGE_SCRIPT)
    with open(os.path.join(root, "lab/README.md"), "w") as fh:
        fh.write("# notes\n\nNot a script.\n#SBATCH lines after text do not count\n")
    with open(os.path.join(root, "lab/train.py"), "w") as fh:
        fh.write("import torch\n#SBATCH --gres=gpu:1\n")
    with open(os.path.join(root, "lab/model.bin"), "wb") as fh:
        fh.write(b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 4)
    os.symlink("../..", os.path.join(root, "lab/deep/nested/up"))  # a loop
    os.symlink("self", os.path.join(root, "lab/self"))             # ELOOP
    os.symlink("../lab", os.path.join(root, "shared/lab-again"))   # walked once
    with open(os.path.join(root, "lab/crlf.sbatch"), "rb") as fh:
        assert b"\r\n" in fh.read(), "the corpus CRLF case lost its line ends"
    return len(TREE) + 1


def single(s2r, cfg, script, fmt, cwd):
    """The single conversion migrate must equal."""
    p = run([s2r, "--config", cfg, "-f", fmt, "--submit-dir",
             os.path.dirname(os.path.realpath(os.path.join(cwd, script))), script], cwd=cwd)
    warnings = [l for l in p.stderr.decode().splitlines() if ": warning: " in l]
    return p.returncode, p.stdout, warnings


def check_outputs(s2r, cfg, work, out, report):
    by_path = {s["path"]: s for s in report["scripts"]}
    expected = {".s2r-manifest", "report.json", "report.md", "report.html", "suggested-site.ini"}
    for rel in list(TREE) + [QUOTED]:
        path = "tree/" + rel
        row = by_path.get(path)
        if not check(row is not None, "report.json has a row for %s" % path):
            continue
        if rel in REFUSED:
            check(row["status"] == "refused", "%s refused (%s)" % (path, row["status"]))
            check(any(REFUSED[rel] in e["message"] for e in row["errors"]),
                  "%s: the error says why: %r" % (path, row["errors"]))
            check(row["outputs"] == {}, "%s: no output" % path)
            for ext in EXT.values():
                check(not os.path.exists(os.path.join(out, path + ext)), "%s%s absent" % (path, ext))
            continue
        check(row["status"] in ("converted", "converted-with-warnings"), "%s converted" % path)
        for fmt, ext in EXT.items():
            dst = os.path.join(out, path + ext)
            expected.add(path + ext)
            check(row["outputs"].get(fmt) == path + ext, "%s: outputs.%s" % (path, fmt))
            rc, text, warnings = single(s2r, cfg, path, fmt, work)
            check(rc == 0, "single conversion of %s (%s)" % (path, fmt))
            if not check(os.path.isfile(dst), "%s written" % dst):
                continue
            with open(dst, "rb") as fh:
                check(fh.read() == text, "%s: same bytes as s2r -f %s %s" % (dst, fmt, path))
            mine = ["%s%s: warning: %s" % (path, ":%d" % w["line"] if w["line"] else "",
                                           w["message"])
                    for w in row["warnings"] if fmt in w["formats"]]
            check(sorted(mine) == sorted(warnings),
                  "%s (%s): the report's warnings are the single conversion's:\n  %r\n  %r"
                  % (path, fmt, mine, warnings))
    written = set()
    for d, _, files in os.walk(out):
        for f in files:
            written.add(os.path.relpath(os.path.join(d, f), out))
    check(written == expected, "OUTDIR holds exactly the outputs and reports: extra %r, missing %r"
          % (sorted(written - expected), sorted(expected - written)))


def check_report(src, report, nscripts):
    with open(os.path.join(src, "docs/report.schema.json")) as fh:
        schema = json.load(fh)
    jsonschema.Draft202012Validator.check_schema(schema)
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(report))
    check(not errors, "report.json matches its schema: %s" %
          "; ".join("%s: %s" % (e.json_path, e.message[:120]) for e in errors[:5]))
    t = report["totals"]
    check(t["scripts"] == nscripts == len(report["scripts"]),
          "one row per script: %d, %d rows, %d made" % (t["scripts"], len(report["scripts"]), nscripts))
    check(t["refused"] == len(REFUSED), "refused count %d" % t["refused"])
    check(t["scripts"] == sum(t[k] for k in ("converted", "converted-with-warnings", "refused", "failed")),
          "statuses add up")
    check(t["files"] == t["scripts"] + t["not_scripts"] + t["skipped"], "files add up")
    check(t["not_scripts"] == 2, "README.md and train.py are no scripts (%d)" % t["not_scripts"])
    check(t["gpus"] == sum(s["gpus"] for s in report["scripts"]), "GPUs add up")
    reasons = {s["path"]: s["reason"] for s in report["skipped"]}
    check(reasons.get("tree/lab/model.bin") == "binary", "binary file listed: %r" % reasons)
    check(reasons.get("tree/lab/deep/nested/up") == "symlink-loop", "link loop listed: %r" % reasons)
    check(reasons.get("tree/lab/self") == "symlink-loop", "self link listed: %r" % reasons)
    rows = {s["path"]: s for s in report["scripts"]}
    torch = rows.get("tree/shared/torch-4node.sbatch", {})
    check(torch.get("kind") == "pytorch" and torch.get("pods") == 4, "torchrun 4 nodes: %r" % torch.get("kind"))
    sweep = rows.get("tree/lab/sweep", {})
    check(sweep.get("array_size") and sweep.get("kind") == "standard", "array size %r" % sweep.get("array_size"))
    odd = rows.get("tree/" + QUOTED, {})
    check(odd.get("account") == "lab-z" and odd.get("qos") == "normal", "odd script read")
    check(sorted(odd.get("needs", {}).get("storage", [])) ==
          ["/project/lab-y/data", "/project/lab-z/train.py", "/scratch/lab-b/logs/%j.out",
           "/scratch/lab-b/out"], "storage needs: %r" % odd.get("needs"))
    check({"kind": "module", "name": "cuda/12.4"} in odd.get("needs", {}).get("software", []) and
          {"kind": "conda", "name": "analysis"} in odd["needs"]["software"], "software needs")
    cats = {w["category"] for s in report["scripts"] for w in s["warnings"]}
    check("other" not in cats, "every warning has a category: %r" % cats)
    check(all(not p.startswith("tree/shared/lab-again") for p in rows), "a folder is walked once")


def check_md(out, report):
    with open(os.path.join(out, "report.md")) as fh:
        md = fh.read()
    t = report["totals"]
    want = {"batch scripts": t["scripts"], "converted": t["converted"],
            "converted with warnings": t["converted-with-warnings"], "refused": t["refused"],
            "failed": t["failed"], "files skipped": t["skipped"], "other files": t["not_scripts"],
            "warnings": t["warnings"], "GPUs asked for": t["gpus"], "pods": t["pods"]}
    for what, n in want.items():
        m = re.search(r"^\| %s \| (\d+) \|$" % re.escape(what), md, re.M)
        check(m and int(m.group(1)) == n, "report.md %s = %s (want %d)" % (what, m and m.group(1), n))
    rows = [l for l in md.splitlines() if l.startswith("| tree/") or l.startswith("| tree\\/")]
    check(len(rows) == t["scripts"], "report.md lists every script (%d)" % len(rows))
    for rel in REFUSED:
        check(("`tree/%s" % rel) in md, "report.md says why %s was refused" % rel)


def ini_entries(text):
    """(section, key) of the commented ';key = ' lines ready to fill."""
    out, sec = {}, None
    for line in text.splitlines():
        m = re.match(r"^\[(.+)\]$", line)
        if m:
            sec = m.group(1)
            continue
        m = re.match(r"^;([^ ;].*?) = $", line)
        if m:
            out.setdefault(sec, []).append(m.group(1))
    return out


def check_site(s2r, work, out, cfg):
    with open(os.path.join(out, "suggested-site.ini")) as fh:
        text = fh.read()
    e = ini_entries(text)
    check("gpu" in e.get("partitions", []) and "gpu-a" in e.get("partitions", []),
          "partitions to map: %r" % e.get("partitions"))
    check("lab-z" in e.get("accounts", []), "accounts: %r" % e.get("accounts"))
    check("normal" in e.get("qos", []), "qos: %r" % e.get("qos"))
    check("ib" in e.get("constraints", []), "constraints: %r" % e.get("constraints"))
    st = e.get("storage", [])
    check("/project" in st and "/scratch" in st, "storage prefixes: %r" % st)
    check(re.search(r"^; /project: 1 script \(/project/lab-y 1, /project/lab-z 1\)$", text, re.M),
          "storage detail by second folder")
    check("cuda/12.4" in e.get("modules", []) and "cuda/12.1" in e.get("modules", []),
          "modules: %r" % e.get("modules"))
    check(re.search(r"^; cuda/12.1: 1 script$", text, re.M), "module counts")
    check(re.search(r"^;   analysis: 1 script$", text, re.M), "conda environments listed")
    check(re.search(r"^; (gpu|/project): \d+ scripts?", text, re.M), "counts per entry")
    p = run([s2r, "check-config", os.path.join(out, "suggested-site.ini")])
    check(p.returncode == 0, "suggested-site.ini is a valid site file: %s" % p.stderr.decode())
    # fill every suggestion in: nothing is left to suggest
    filled = re.sub(r"^;([^ ;][^\n]*?) = $", lambda m: "%s = %s" % (
        m.group(1), "pvc:x" if m.group(1).startswith("/") else "x"), text, flags=re.M)
    # with [site] home set, the home root is a path to map too; the
    # original site file's own mapping stays
    filled = filled.replace(";home = /home/%u", "home = /home/%u")
    filled = filled.replace("[storage]\n", "[storage]\n/home = pvc:home\n", 1)
    filled = filled.replace("[partitions]\n", "[partitions]\nh100 = dgx\n", 1)
    # a [qos] value is a Run:ai priority class
    qos = filled.index("[qos]\n")
    end = filled.find("\n[", qos + 1)
    end = len(filled) if end < 0 else end
    filled = filled[:qos] + filled[qos:end].replace(" = x\n", " = medium\n") + filled[end:]
    site = os.path.join(work, "filled.ini")
    with open(site, "w") as fh:
        fh.write(filled)
    p = run([s2r, "check-config", site])
    check(p.returncode == 0, "the filled file is valid: %s" % p.stderr.decode()[:300])
    p = run([s2r, "migrate", "-q", "--config", site, "-o", "out2", "tree"], cwd=work)
    with open(os.path.join(work, "out2/suggested-site.ini")) as fh:
        again = ini_entries(fh.read())
    left = {k: v for k, v in again.items() if k in ("partitions", "accounts", "qos", "constraints", "storage")}
    check(not any(left.values()), "a filled site file leaves nothing to map: %r" % left)


def check_manifest(s2r, work, cfg):
    base = [s2r, "migrate", "-q", "--config", cfg, "-f", "cli,yaml,json", "tree"]
    p = run(base, cwd=work)
    check(p.returncode == 1, "a rerun over its own outputs: exit 1 only for the refused (%d: %s)"
          % (p.returncode, p.stderr.decode()[-300:]))
    check("did not write" not in p.stderr.decode(), "a rerun overwrites what it wrote")
    mine = os.path.join(work, "s2r-out/tree/lab/train.sbatch.yaml")
    os.unlink(mine)
    with open(mine, "w") as fh:
        fh.write("mine\n")
    with open(os.path.join(work, "s2r-out/.s2r-manifest")) as fh:
        kept = [l for l in fh if l.strip() != "tree/lab/train.sbatch.yaml"]
    with open(os.path.join(work, "s2r-out/.s2r-manifest"), "w") as fh:
        fh.writelines(kept)
    p = run(base, cwd=work)
    check("did not write it" in p.stderr.decode(), "a foreign file is named: %s" % p.stderr.decode()[-300:])
    with open(mine) as fh:
        check(fh.read() == "mine\n", "a file s2r did not write is kept")
    with open(os.path.join(work, "s2r-out/report.json")) as fh:
        row = [s for s in json.load(fh)["scripts"] if s["path"] == "tree/lab/train.sbatch"][0]
    check(row["status"] == "failed" and row["errors"][0]["category"] == "output",
          "its script is failed: %r" % row["status"])
    p = run(base[:2] + ["--force"] + base[2:], cwd=work)
    with open(mine) as fh:
        check(fh.read() != "mine\n", "--force overwrites it")
    # a link planted in OUTDIR must not lead out of it
    outside = os.path.join(work, "outside")
    os.mkdir(outside)
    shutil.rmtree(os.path.join(work, "s2r-out/tree/shared"))
    os.symlink(outside, os.path.join(work, "s2r-out/tree/shared"))
    p = run(base + ["--force"], cwd=work)
    check(os.listdir(outside) == [], "nothing written through a link out of OUTDIR: %r" % os.listdir(outside))
    check(p.returncode == 1 and "shared/torch-4node.sbatch" in p.stderr.decode(),
          "the scripts that cannot be written are failed")


def check_refused_outputs(s2r, work, cfg):
    """a script now refused loses every output the manifest lists, whatever
    formats this run asks for"""
    out = os.path.join(work, "s2r-refused")
    base = [s2r, "migrate", "-q", "--config", cfg, "-o", out]
    run(base + ["-f", "cli,yaml,json", "tree"], cwd=work)
    script = os.path.join(work, "tree/lab/train.sbatch")
    outs = [os.path.join(out, "tree/lab/train.sbatch" + e)
            for e in (".sh", ".yaml", ".json")]
    check(all(os.path.exists(o) for o in outs), "its three outputs are written")
    with open(script) as fh:
        text = fh.read()
    lines = text.split("\n")
    lines.insert(1, "#SBATCH --nodes=zz")
    with open(script, "w") as fh:
        fh.write("\n".join(lines))
    run(base + ["-f", "cli", "tree"], cwd=work)
    left = [o for o in outs if os.path.exists(o)]
    check(not left, "a script now refused keeps no output: %r" % left)
    with open(script, "w") as fh:
        fh.write(text)
    shutil.rmtree(out, ignore_errors=True)


def check_jobs(s2r, work, cfg):
    texts = []
    for j in ("1", "4"):
        p = run([s2r, "migrate", "-q", "--config", cfg, "-j", j, "-o", "j" + j, "tree"], cwd=work)
        with open(os.path.join(work, "j" + j, "report.json")) as fh:
            r = json.load(fh)
        r.pop("generated")
        r["output_dir"] = "-"
        texts.append(json.dumps(r, sort_keys=True))
    check(texts[0] == texts[1], "-j 1 and -j 4 give the same report")
    # a provider plugin ([provider.r] plugin = rules): the registry path,
    # from every worker; the same outputs and rows
    plugin = os.path.join(work, "plugin.ini")
    with open(cfg) as fh, open(plugin, "w") as out:
        out.write(fh.read() + "[core]\nprovider = r\n[provider.r]\nplugin = rules\n")
    p = run([s2r, "migrate", "-q", "--config", plugin, "-j", "2", "-o", "jp", "tree"], cwd=work)
    with open(os.path.join(work, "jp", "report.json")) as fh:
        r = json.load(fh)
    with open(os.path.join(work, "j1", "report.json")) as fh:
        r1 = json.load(fh)
    check(r["scripts"] == r1["scripts"] and r["totals"] == r1["totals"],
          "through the provider plugin: the same rows")
    for d, _, files in os.walk(os.path.join(work, "j1")):
        for f in files:
            rel = os.path.relpath(os.path.join(d, f), os.path.join(work, "j1"))
            if rel.startswith(("report", ".", "suggested-site")):
                continue
            other = os.path.join(work, "jp", rel)
            same = os.path.exists(other) and open(other, "rb").read() == open(os.path.join(d, f), "rb").read()
            check(same, "through the provider plugin: %s the same" % rel)


def check_cli(s2r, work, cfg, corpus):
    clean = os.path.join(work, "clean")
    os.makedirs(clean)
    for case in ("01-resnet-single-gpu", "03-torchrun-4node-rdzv"):
        shutil.copyfile(os.path.join(corpus, case + ".sbatch"), os.path.join(clean, case + ".sbatch"))
    p = run([s2r, "migrate"], cwd=work)
    check(p.returncode == 2, "no PATH: usage error")
    p = run([s2r, "migrate", "no-such-folder"], cwd=work)
    check(p.returncode == 2 and b"no-such-folder" in p.stderr, "a missing PATH: usage error")
    p = run([s2r, "migrate", "-f", "cli,xml", "tree"], cwd=work)
    check(p.returncode == 2 and b"xml" in p.stderr, "unknown format: usage error")
    p = run([s2r, "migrate", "--config", cfg, "-o", "ok", "clean"], cwd=work)
    check(p.returncode == 0, "a tree that converts: exit 0 (%d: %s)" % (p.returncode, p.stderr.decode()[-200:]))
    check(b"\r" not in p.stderr, "no progress line when stderr is no terminal")
    check(b"2 batch scripts" in p.stdout, "a summary: %r" % p.stdout[:200])
    p = run([s2r, "help", "migrate"])
    check(p.returncode == 0 and b"--submit-dir" in p.stdout, "s2r help migrate")
    # the progress line, on a terminal
    pid, fd = pty.fork()
    if pid == 0:
        os.chdir(work)
        os.execv(s2r, [s2r, "migrate", "--config", cfg, "-o", "tty", "clean"])
    data = b""
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        data += chunk
    os.waitpid(pid, 0)
    check(b"files/s" in data and b"\r" in data, "progress on a terminal: %r" % data[:200])
    p = run([s2r, "migrate", "-q", "--config", cfg, "-o", "quiet", "clean"], cwd=work)
    check(p.stdout == b"" and p.stderr == b"", "-q: nothing printed")


def check_owners(s2r, work):
    """Run by root with no [site] uid, each script runs as its owner (a
    SLURM job runs as the user who submitted it), not as root; a site uid
    is everyone's. Needs root to give a file another owner: skipped else."""
    if os.geteuid() != 0:
        print("not root: script owners not checked")
        return
    tree = os.path.join(work, "owned")
    os.makedirs(tree)
    job = os.path.join(tree, "job.sbatch")
    with open(job, "w") as fh:
        fh.write("#!/bin/bash\n#SBATCH -c 1\npython t.py\n")
    os.chown(job, 54321, 54322)  # a UID no user has: the file's GID
    site = os.path.join(work, "owners.ini")
    with open(site, "w") as fh:
        fh.write("[site]\nrun_as = user\n")
    p = run([s2r, "migrate", "--config", site, "-o", "owned-out", "owned"], cwd=work)
    out = os.path.join(work, "owned-out", "owned", "job.sbatch.sh")
    text = open(out).read() if os.path.isfile(out) else ""
    check(p.returncode == 0 and "--run-as-uid 54321" in text and "--run-as-gid 54322" in text,
          "root migrating: the script runs as its owner: %s" % p.stderr.decode()[-300:])
    with open(site, "a") as fh:
        fh.write("uid = 4000\ngid = 4000\n")
    p = run([s2r, "migrate", "--config", site, "-o", "owned-out", "--force", "owned"], cwd=work)
    text = open(out).read() if os.path.isfile(out) else ""
    check(p.returncode == 0 and "--run-as-uid 4000" in text, "a [site] uid is every script's")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("--corpus", required=True)
    a = ap.parse_args()
    s2r = os.path.abspath(a.bin)
    if not os.path.isdir(a.corpus):
        print("corpus %s missing: skipped" % a.corpus)
        return 77
    work = tempfile.mkdtemp(prefix="s2r-migrate-")
    try:
        cfg = os.path.join(work, "site.ini")
        with open(cfg, "w") as fh:
            fh.write("[runai]\nproject = team-a\n[partitions]\nh100 = dgx\n")
        n = make_tree(os.path.join(work, "tree"), a.corpus)
        p = run([s2r, "migrate", "--config", cfg, "-f", "cli,yaml,json", "tree"], cwd=work)
        check(p.returncode == 1, "a refused script: exit 1 (%d)" % p.returncode)
        err = p.stderr.decode()
        for rel, why in REFUSED.items():
            check(("tree/" + rel) in err and why in err, "stderr says %s is refused" % rel)
        # an absolute PATH (or one with ".."): the error names the file by a
        # path that opens it, not by its mirror under OUTDIR
        tree = os.path.realpath(os.path.join(work, "tree"))
        for root in (tree, os.path.join("..", os.path.basename(work), "tree")):
            p = run([s2r, "migrate", "--config", cfg, "-o", "abs", "--force", root],
                    cwd=work)
            named = re.findall(r"^(\S+?):(?:\d+:)? error:", p.stderr.decode(), re.M)
            check(named and all(os.path.isfile(n) and n.startswith(tree + "/")
                                for n in named),
                  "%s: errors name files that exist: %r" % (root, named))
        out = os.path.join(work, "s2r-out")
        with open(os.path.join(out, "report.json")) as fh:
            report = json.load(fh)
        check_report(a.source, report, n)
        check_outputs(s2r, cfg, work, out, report)
        check_md(out, report)
        check_site(s2r, work, out, cfg)
        check_jobs(s2r, work, cfg)
        check_cli(s2r, work, cfg, a.corpus)
        check_refused_outputs(s2r, work, cfg)
        check_manifest(s2r, work, cfg)
        check_owners(s2r, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("%d passed, %d failed" % (1 if not FAILS else 0, 1 if FAILS else 0))
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
