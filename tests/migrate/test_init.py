#!/usr/bin/env python3
"""s2r init on recorded mountinfo files (nfs, nfs4 with a sub-folder root,
lustre, gpfs, beegfs, ceph), with stand-in `sinfo` and `runai` commands on
PATH (tests/migrate/fixtures), a logged-out runai, and none at all. The
file it writes must be accepted by `s2r check-config`, which must find it
at $XDG_CONFIG_HOME/s2r/s2r.ini by itself.

usage: test_init.py --bin S2R --source SRC_DIR [--corpus DIR]
"""
import argparse
import getpass
import os
import re
import shutil
import subprocess
import sys
import tempfile

FAILS = []


def check(cond, what):
    if not cond:
        FAILS.append(what)
        print("FAIL: " + what)
    return cond


def lines(text, section):
    """The lines of [section], comments included."""
    m = re.search(r"^\[%s\]\n(.*?)(?=^\[|\Z)" % re.escape(section), text, re.M | re.S)
    return m.group(1).splitlines() if m else []


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("--corpus")
    a = ap.parse_args()
    s2r = os.path.abspath(a.bin)
    fx = os.path.abspath(os.path.join(a.source, "tests/migrate/fixtures"))
    work = tempfile.mkdtemp(prefix="s2r-init-")
    try:
        user = getpass.getuser()
        home = os.path.join(work, "users", user)
        os.makedirs(home)
        empty = os.path.join(work, "bin")  # a PATH with neither sinfo nor runai
        os.mkdir(empty)
        base = dict(os.environ, HOME=home, XDG_CONFIG_HOME=os.path.join(work, "xdg"))
        base.pop("S2R_CONFIG", None)
        env = dict(base, PATH=fx + ":" + os.environ["PATH"])

        def init(*args, e=env):
            return subprocess.run([s2r, "init"] + list(args), cwd=work, env=e,
                                  capture_output=True, text=True)

        p = init("--mountinfo", os.path.join(fx, "mountinfo-nfs"))
        dest = os.path.join(work, "xdg/s2r/s2r.ini")
        check(p.returncode == 0, "init exits 0: %s" % p.stderr)
        check(os.path.isfile(dest), "default file $XDG_CONFIG_HOME/s2r/s2r.ini")
        check(oct(os.stat(os.path.dirname(dest)).st_mode & 0o777) == "0o700",
              "its folder is made 0700 (XDG)")
        text = open(dest).read()
        st = lines(text, "storage")
        check("/home = nfs:nfs01.example.org:/export/home" in st, "nfs4 mount: %r" % st)
        check("/project = nfs:10.1.2.3:/vol/project" in st, "nfs (v3) mount")
        check("/mnt/lab share = nfs:nfs02.example.org:/export/lab share" in st,
              "\\040 in mountinfo is a space")
        check(st.count("/home = nfs:nfs01.example.org:/export/home") == 1, "a mount listed twice once")
        check(not any(l.startswith(("/proc", "/dev", "/sys", "/run", "/ ")) for l in st),
              "pseudo and local file systems left out")
        check("/datasets = datasource:datasets-pvc" in st, "runai data source with its path: %r" % st)
        check(not any(l.startswith("/datasets = nfs") for l in st), "one line per path")
        check("/lustre/scratch = datasource:scratch-nfs" in st, "data source under meta/spec")
        check(";/PATH = datasource:weights" in st, "a data source with no path, commented")
        check(any("from " in l and "mountinfo-nfs" in l and "/project" in l for l in st),
              "each mount says where it came from")
        ru = lines(text, "runai")
        check("project = team-a" in ru, "the only Run:ai project: %r" % ru)
        pa = lines(text, "partitions")
        check("gpu = gpu" in pa, "partition with a node pool of its name: %r" % pa)
        check(";debug = " in pa and ";h100 = " in pa and ";cpu = " in pa, "other partitions commented")
        check(any("GPUs a100 (up to 8 per node)" in l for l in pa), "GPU types from GRES")
        co = lines(text, "constraints")
        for c in ("a100", "h100", "ib", "cascadelake"):
            check((";%s = " % c) in co, "constraint %s: %r" % (c, co))
        si = lines(text, "site")
        check("home = %s/%%u" % os.path.join(work, "users") in si, "[site] home from HOME: %r" % si)
        check("sinfo" in p.stderr and "4 SLURM partitions" in p.stderr and "4 shared file systems" in p.stderr
              and "1 project, 2 node pools, 3 data sources" in p.stderr, "says what it found: %s" % p.stderr)
        c = subprocess.run([s2r, "check-config"], cwd=work, env=base, capture_output=True, text=True)
        check(c.returncode == 0 and dest in c.stdout and "XDG" in c.stdout,
              "check-config finds and accepts it: %s %s" % (c.stdout[:200], c.stderr[:300]))

        p = init("--mountinfo", os.path.join(fx, "mountinfo-lustre-gpfs"))
        check(p.returncode == 1 and "exists" in p.stderr, "an existing file is kept without --force")
        check(open(dest).read() == text, "unchanged")
        p = init("--force", "--mountinfo", os.path.join(fx, "mountinfo-lustre-gpfs"))
        text = open(dest).read()
        st = lines(text, "storage")
        check(p.returncode == 0, "--force replaces it")
        check(";/gpfs/fs1 = pvc:CLAIM" in st and ";/gpfs/projects = pvc:CLAIM,ro" in st,
              "gpfs: commented pvc lines, read-only kept: %r" % st)
        check(";/mnt/beegfs = pvc:CLAIM" in st and ";/ceph = pvc:CLAIM" in st, "beegfs, ceph")
        check(any("lustre 10.0.0.1@o2ib:10.0.0.2@o2ib:/scratch" in l for l in st), "lustre source named")
        check("secret" not in text and "<hidden>" not in text, "mount options (secrets) not copied")
        check(not any(l.startswith("/tmp") for l in st), "tmpfs left out")
        c = subprocess.run([s2r, "check-config", dest], env=base, capture_output=True, text=True)
        check(c.returncode == 0, "check-config accepts it: %s" % c.stderr)

        # runai not logged in; no sinfo
        out = os.path.join(work, "b.ini")
        e2 = dict(base, PATH=os.path.join(fx, "logged-out") + ":" + empty + ":/usr/bin:/bin")
        p = init("-o", out, "--mountinfo", os.path.join(fx, "mountinfo-nfs"), e=e2)
        text = open(out).read() if os.path.exists(out) else ""
        check(p.returncode == 0 and "not logged in" in p.stderr, "a logged-out runai is said: %s" % p.stderr)
        check(";project =" in lines(text, "runai"), "no project guessed")
        check(not any(l.startswith("/datasets = datasource") for l in lines(text, "storage")),
              "no data sources")
        check("/datasets = nfs:nas.example.org:/export/datasets,ro" in lines(text, "storage"),
              "nfs mount of a sub-folder, read-only: %r" % lines(text, "storage"))
        p = init("-o", "-", "--mountinfo", os.path.join(work, "none"), e=dict(base, PATH=empty))
        check(p.returncode == 0 and "[storage]" in p.stdout and "No such file" in p.stdout,
              "a missing mountinfo is said, not fatal")
        check("sinfo is not on PATH" in p.stderr and "runai is not on PATH" in p.stderr,
              "missing commands are said: %s" % p.stderr)
        p = init("extra")
        check(p.returncode == 2, "usage error")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("%d passed, %d failed" % (0 if FAILS else 1, 1 if FAILS else 0))
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
