#!/usr/bin/env python3
"""The converter's command line: the site file lookup (--config,
$S2R_CONFIG, ./s2r.ini, $XDG_CONFIG_HOME/s2r/s2r.ini, ~/.config, built-in
defaults; /etc/s2r/s2r.ini is not touched here), `s2r check-config` naming
its file, the classic `s2r SCRIPT OUTPUT` and -o FILE's extension, and the rules provider: in
process with a site file (no network, crypto or runtime library loaded,
seen with the dynamic loader's LD_DEBUG) and through the plugin registry,
with the same bytes on both paths over the whole corpus; libs2r-runtime.so
exports only the subcommands the program looks up.

usage: test_cli.py --bin S2R --source SRC_DIR --corpus CORPUS_DIR
"""
import argparse
import glob
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


def project_of(out):
    m = re.search(r"(?:-p|--project) '?([A-Za-z0-9-]+|\"\$\{RUNAI_PROJECT)", out)
    return m.group(1) if m else None


def lookup(s2r, work, script):
    home = os.path.join(work, "home")
    xdg = os.path.join(work, "xdg")
    cwd = os.path.join(work, "cwd")
    for d in (home, xdg, cwd, os.path.join(home, ".config/s2r"), os.path.join(xdg, "s2r")):
        os.makedirs(d, exist_ok=True)
    base = dict(os.environ, HOME=home, XDG_CONFIG_HOME=xdg)
    base.pop("S2R_CONFIG", None)

    def conv(*args, env=base):
        p = subprocess.run([s2r] + list(args) + [script], cwd=cwd, env=env,
                           capture_output=True, text=True)
        return p.returncode, project_of(p.stdout), p.stderr

    def site(path, project):
        with open(path, "w") as fh:
            fh.write("[runai]\nproject = %s\n" % project)

    def cc(env=base):
        return subprocess.run([s2r, "check-config"], cwd=cwd, env=env,
                              capture_output=True, text=True).stdout

    rc, proj, _ = conv()
    check(rc == 0 and proj == '"${RUNAI_PROJECT', "no site file: $RUNAI_PROJECT (%r)" % proj)
    check("built-in defaults" in cc(), "check-config: built-in defaults")
    site(os.path.join(home, ".config/s2r/s2r.ini"), "from-home")
    check(conv(env=dict(base, XDG_CONFIG_HOME=""))[1] == "from-home",
          "XDG_CONFIG_HOME empty: ~/.config/s2r/s2r.ini")
    check(conv(env=dict(base, XDG_CONFIG_HOME="relative"))[1] == "from-home",
          "XDG_CONFIG_HOME relative: ignored")
    site(os.path.join(xdg, "s2r/s2r.ini"), "from-xdg")
    check(conv()[1] == "from-xdg", "$XDG_CONFIG_HOME/s2r/s2r.ini")
    check(os.path.join(xdg, "s2r/s2r.ini") in cc(), "check-config names the XDG file")
    site(os.path.join(cwd, "s2r.ini"), "from-cwd")
    check(conv()[1] == "from-cwd", "./s2r.ini before XDG")
    check("./s2r.ini" in cc(), "check-config names ./s2r.ini")
    env_file = os.path.join(work, "env.ini")
    site(env_file, "from-env")
    check(conv(env=dict(base, S2R_CONFIG=env_file))[1] == "from-env", "$S2R_CONFIG before ./s2r.ini")
    check(env_file in cc(env=dict(base, S2R_CONFIG=env_file)), "check-config names $S2R_CONFIG")
    check(conv(env=dict(base, S2R_CONFIG=""))[1] == '"${RUNAI_PROJECT',
          "S2R_CONFIG set and empty: built-in defaults")
    check("S2R_CONFIG is set and empty" in cc(env=dict(base, S2R_CONFIG="")), "check-config says so")
    check(conv("--no-config")[1] == '"${RUNAI_PROJECT', "--no-config: built-in defaults")
    opt = os.path.join(work, "opt.ini")
    site(opt, "from-option")
    check(conv("--config", opt, env=dict(base, S2R_CONFIG=env_file))[1] == "from-option",
          "--config before $S2R_CONFIG")
    rc, _, err = conv(env=dict(base, S2R_CONFIG=os.path.join(work, "missing.ini")))
    check(rc == 1 and "missing.ini" in err, "a missing $S2R_CONFIG is an error naming it: %s" % err)
    with open(os.path.join(cwd, "s2r.ini"), "w") as fh:
        fh.write("[runai]\npriority = urgent\n")
    rc, _, err = conv()
    check(rc == 1 and "s2r.ini:2" in err, "a bad ./s2r.ini is an error with its line: %s" % err)


def classic(s2r, work, script):
    cwd = os.path.join(work, "classic")
    os.makedirs(cwd)
    env = dict(os.environ, S2R_CONFIG="")

    def run(*args):
        return subprocess.run([s2r] + list(args), cwd=cwd, env=env, capture_output=True, text=True)

    for ext, fmt in ((".yaml", "yaml"), (".yml", "yaml"), (".json", "json"), (".sh", "cli"), ("", "cli"),
                     (".YAML", "yaml"), (".Json", "json")):
        out = "job" + ext
        p = run("-q", script, out)
        want = run("-q", "-f", fmt, script).stdout
        check(p.returncode == 0 and p.stdout == "" and open(os.path.join(cwd, out)).read() == want,
              "s2r SCRIPT job%s writes %s" % (ext, fmt))
    for ext, fmt in ((".yaml", "yaml"), (".yml", "yaml"), (".json", "json"), (".sh", "cli"),
                     ("", "cli"), (".txt", "cli")):
        out = "o-job" + ext
        p = run("-q", "-o", out, script)
        want = run("-q", "-f", fmt, script).stdout
        check(p.returncode == 0 and p.stdout == "" and open(os.path.join(cwd, out)).read() == want,
              "s2r -o job%s SCRIPT writes %s" % (ext, fmt))
    p = run("-q", "-f", "cli", "-o", "forced.yaml", script)
    check(p.returncode == 2 and "-o forced.yaml" in p.stderr and "yaml" in p.stderr
          and not os.path.exists(os.path.join(cwd, "forced.yaml")),
          "--format and -o's extension that contradict it: refused, as for OUTPUT: %s" % p.stderr)
    p = run("-q", "-f", "cli", "-o", "forced.txt", script)
    check(p.returncode == 0 and open(os.path.join(cwd, "forced.txt")).read() == run("-q", script).stdout,
          "--format with -o of an extension that names no format")
    p = run("-f", "json", script, "x.yaml")
    check(p.returncode == 2 and "json" in p.stderr and "x.yaml" in p.stderr and "yaml" in p.stderr,
          "a contradicting --format names both: %s" % p.stderr)
    check(not os.path.exists(os.path.join(cwd, "x.yaml")), "nothing written")
    p = run("-f", "yaml", script, "y.yaml")
    check(p.returncode == 0, "an agreeing --format is fine")
    p = run(script, script, "z.yaml")
    check(p.returncode == 2 and "s2r migrate" in p.stderr, "three arguments point to s2r migrate: %s" % p.stderr)
    p = run(script, "out.txt")
    check(p.returncode == 2 and "out.txt" in p.stderr, "an unknown extension is a usage error")
    p = run("-o", "a.yaml", script, "b.yaml")
    check(p.returncode == 2, "-o and OUTPUT both: usage error")
    other = os.path.join(cwd, "other.sh")
    shutil.copyfile(script, other)
    p = run(script, "other.sh")
    check(p.returncode == 2 and open(other).read() == open(script).read(),
          "a batch script given as OUTPUT stays as it is")
    p = subprocess.run([s2r, "-q", script, "/dev/stdout"], cwd=cwd, env=env,
                       capture_output=True, text=True, timeout=60)
    check(p.returncode == 0 and p.stdout == run("-q", script).stdout,
          "OUTPUT /dev/stdout, a pipe here, is written and not read first")
    p = run("--no-config", "parse", script)
    check(p.returncode == 2 and "s2r parse [options]" in p.stderr,
          "an option before a command says to write the command first: %s" % p.stderr)
    shutil.copyfile(script, os.path.join(cwd, "parse"))
    p = run("-q", "-f", "yaml", "parse")
    check(p.returncode == 0 and p.stdout == run("-q", "-f", "yaml", script).stdout,
          "a script named like a command still converts")


def loaded_libraries(s2r, args, work, cwd):
    log = os.path.join(work, "ld")
    for f in glob.glob(log + ".*"):
        os.unlink(f)
    env = dict(os.environ, LD_DEBUG="libs", LD_DEBUG_OUTPUT=log, S2R_CONFIG="")
    subprocess.run([s2r] + args, cwd=cwd, env=env, capture_output=True)
    text = ""
    for f in glob.glob(log + ".*"):
        text += open(f).read()
    return set(re.findall(r"calling init: (\S+)", text))


def provider_paths(s2r, work, corpus):
    rules = os.path.join(work, "rules.ini")
    plugin = os.path.join(work, "plugin.ini")
    common = "[runai]\nproject = team-a\n[partitions]\ngpu = a100-pool\n"
    with open(rules, "w") as fh:
        fh.write("[core]\nprovider = rules\n" + common)
    with open(plugin, "w") as fh:
        fh.write("[core]\nprovider = r\n" + common + "[provider.r]\nplugin = rules\n")
    cases = sorted(glob.glob(os.path.join(corpus, "*.sbatch")))
    check(len(cases) >= 20, "the corpus is there (%d)" % len(cases))
    env = dict(os.environ, S2R_CONFIG="")
    differ = 0
    for script in cases:
        for fmt in ("cli", "yaml", "json"):
            a = subprocess.run([s2r, "--config", rules, "-f", fmt, script], env=env, capture_output=True)
            b = subprocess.run([s2r, "--config", plugin, "-f", fmt, script], env=env, capture_output=True)
            if (a.returncode, a.stdout, a.stderr) != (b.returncode, b.stdout, b.stderr):
                differ += 1
                print("differs: %s %s" % (os.path.basename(script), fmt))
    check(differ == 0, "in process and through the registry: same output and warnings (%d differ)" % differ)
    one = cases[0]
    libs = loaded_libraries(s2r, ["--config", rules, one], work, work)
    heavy = [l for l in libs if re.search(r"libcurl|libssl|libcrypto|libkrb5|libldap|libgnutls|"
                                          r"libmicrohttpd|libsqlite|libs2r-runtime|libnghttp", l)]
    check(libs and not heavy, "provider = rules loads no network or crypto library: %r" % heavy)
    libs = loaded_libraries(s2r, ["--config", plugin, one], work, work)
    check(any("libs2r-runtime" in l for l in libs), "a plugin provider loads the runtime (the probe works)")


def runtime_exports(s2r, source):
    """libs2r-runtime.so exports the symbols the program looks up by name
    (cmake/runtime.map) and no other: the calls between its own functions
    then bind inside it, not through the PLT."""
    lib = os.path.join(os.path.dirname(s2r), "libs2r-runtime.so")
    if not check(os.path.isfile(lib), "libs2r-runtime.so beside the program"):
        return
    nm = subprocess.run(["nm", "-D", "--defined-only", lib], capture_output=True,
                        text=True, check=True).stdout
    exported = {f[2] for f in map(str.split, nm.splitlines())
                if len(f) == 3 and f[1] in "TDBRW"}
    looked_up = set()
    for c in glob.glob(os.path.join(source, "apps", "*.c")):
        with open(c, encoding="utf-8") as fh:
            looked_up |= set(re.findall(r'"(s2r_cmd_[a-z_]+)"', fh.read()))
    check(looked_up and exported == looked_up,
          "the runtime exports what the program looks up: %r, not %r" %
          (sorted(looked_up), sorted(exported - looked_up)))


SUBCOMMANDS = ("migrate", "init", "parse", "check-config", "plugins", "help", "serve", "lambda")


def docs(s2r, source):
    """--help and the man page cover every subcommand; the page renders."""
    text = subprocess.run([s2r, "--help"], capture_output=True, text=True).stdout
    for c in SUBCOMMANDS:
        check(("s2r " + c) in text, "--help names s2r %s" % c)
    check("SCRIPT" in text and "OUTPUT" in text, "--help shows the conversion")
    page = os.path.join(source, "man/s2r.1")
    if not check(os.path.isfile(page), "man/s2r.1 exists"):
        return
    src = open(page).read()
    for c in SUBCOMMANDS + ("convert",):
        check(re.search(r"^\.B %s\b" % re.escape(c.replace("-", "\\-")), src, re.M),
              "the man page has a section on %s" % c)
    if shutil.which("man"):
        p = subprocess.run(["man", "--warnings", "-l", page], capture_output=True, text=True,
                           env=dict(os.environ, MANWIDTH="80", MANPAGER="cat", PAGER="cat"))
        check(p.returncode == 0 and "s2r migrate" in p.stdout and not p.stderr.strip(),
              "man ./s2r.1 renders without warnings: %s" % p.stderr[:300])
    for c in ("migrate", "init", "check-config"):
        p = subprocess.run([s2r, "help", c], capture_output=True, text=True)
        check(p.returncode == 0 and "usage" in p.stdout, "s2r help %s" % c)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("--corpus", required=True)
    a = ap.parse_args()
    s2r = os.path.abspath(a.bin)
    script = os.path.abspath(os.path.join(a.source, "examples/train-resnet.sbatch"))
    work = tempfile.mkdtemp(prefix="s2r-cli-")
    try:
        docs(s2r, a.source)
        runtime_exports(s2r, a.source)
        lookup(s2r, work, script)
        classic(s2r, work, script)
        if os.path.isdir(a.corpus):
            provider_paths(s2r, work, a.corpus)
        else:
            print("corpus %s missing: the provider paths are not compared" % a.corpus)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("%d passed, %d failed" % (0 if FAILS else 1, 1 if FAILS else 0))
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
