#!/usr/bin/env python3
"""End-to-end tests of the local-llm provider, the guard and the cache.

Each test starts llm_peer.Peer on 127.0.0.1 (a free port), writes an INI
that selects [provider.llm] plugin = local-llm, runs the real s2r binary
and asserts the outcome: the model's result used, a warning given, or the
rules conversion kept byte for byte.

Usage: run_llm.py TEST [--api openai|ollama]
Tests: good fence think rewrite garbage gpus danger-curl danger-rm
       danger-subst empty empty-object http500 stall truncated nojson
       api-key env-path nproc inject key-note prompt cache corpus-check
       corpus-resources llama serve
Environment: S2R_BIN (s2r), S2R_PLUGIN_PATH (the built plugins),
             S2R_CORPUS_DIR (../shared/corpus), S2R_TOOLS_DIR
             (../shared/tools).
Exit status: 0 pass, 1 fail, 77 skipped (corpus or tools missing).
"""
import json
import os
import sqlite3
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import llm_peer  # noqa: E402

S2R = os.environ.get("S2R_BIN", "s2r")
CORPUS = os.environ.get("S2R_CORPUS_DIR",
                        os.path.join(HERE, "..", "..", "..", "shared", "corpus"))
TOOLS = os.environ.get("S2R_TOOLS_DIR",
                       os.path.join(HERE, "..", "..", "..", "shared", "tools"))
SKIP = 77

# a small script of our own, so the scenario tests do not need the corpus
JOB = """#!/bin/bash
#SBATCH --job-name=resnet
#SBATCH --gres=gpu:1
#SBATCH --cpus-per-task=8
#SBATCH --mem=32G
#SBATCH --time=04:00:00

module load cuda/12.1
export OMP_NUM_THREADS=8
python train.py --arch resnet50 --epochs 30 --data "/datasets/imagenet subset"
"""

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


class Env:
    """A temp dir with the job, a peer and INI files."""

    def __init__(self, api="openai", api_key=None):
        self.dir = tempfile.mkdtemp(prefix="s2r-llm-")
        self.api = api
        self.peer = llm_peer.Peer(api_key=api_key).start()
        self.job = os.path.join(self.dir, "job.sbatch")
        with open(self.job, "w") as f:
            f.write(JOB)
        self.rules_ini = self.write_ini("rules.ini", "[core]\nprovider = rules\n")

    def write_ini(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def llm_ini(self, model, timeout="10s", extra=""):
        base = "http://127.0.0.1:%d" % self.peer.port
        return self.write_ini(
            "llm-%s.ini" % model,
            "[core]\nprovider = llm\nlog_level = info\n\n"
            "[provider.llm]\nplugin = local-llm\napi = %s\nbase_url = %s\n"
            "model = %s\ntimeout = %s\n%s" % (self.api, base, model, timeout, extra))

    def run(self, ini, script=None, fmt="yaml", extra=()):
        cmd = [S2R, "-v"] + (["--config", ini] if ini else []) + \
            ["--format", fmt] + list(extra) + [script or self.job]
        p = subprocess.run(cmd, capture_output=True, timeout=30,
                           env=dict(os.environ))
        return p.returncode, p.stdout.decode(), p.stderr.decode()

    def rules(self, script=None, fmt="yaml"):
        rc, out, err = self.run(self.rules_ini, script, fmt)
        assert rc == 0, err
        return out

    def close(self):
        self.peer.stop()
        check(not self.peer.protocol_errors,
              "s2r spoke the %s protocol correctly: %s" % (self.api, self.peer.protocol_errors))


def expect_used(env, model, tag):
    rc, out, err = env.run(env.llm_ini(model))
    check(rc == 0, "%s: exit 0 (%s)" % (model, err[-300:]))
    check(llm_peer.PEER_IMAGE in out, "%s: the model's image is used" % model)
    check("S2R_PEER" in out and tag in out, "%s: the model's env is used" % model)
    check("peer note: mount the data set" in err, "%s: the model's note is a note" % model)
    check("note:" in err, "%s: notes printed as notes" % model)
    check("tokens" in err and "answered in" in err,
          "%s: token usage in the log (%s)" % (model, err[:300]))
    rules = env.rules()
    for k in ('nvidia.com/gpu: "1"', 'cpu: "8"', 'memory: "32Gi"',
              "activeDeadlineSeconds: 14400"):
        check(k in out and k in rules, "%s: resources as the directives: %s" % (model, k))
    return out, err


def expect_fallback(env, model, warning, timeout="10s"):
    rc, out, err = env.run(env.llm_ini(model, timeout))
    check(rc == 0, "%s: exit 0 (%s)" % (model, err[-300:]))
    check(out == env.rules(), "%s: output is the rules conversion, byte for byte" % model)
    check("the rules conversion is used" in err,
          "%s: a warning says the rules conversion is used (%s)" % (model, err[-400:]))
    check(warning in err, "%s: the warning says why: %r in %r" % (model, warning, err[-400:]))
    return out, err


# ---------------------------------------------------------------- tests

def t_good(env):
    expect_used(env, "good", env.api)
    req = env.peer.requests[-1]
    check(req["model"] == "good", "request names the model")
    check(req["messages"][0]["role"] == "system" and req["messages"][-1]["role"] == "user",
          "system + user messages")
    if env.api == "openai":
        check(req.get("temperature") == 0, "temperature 0")
        check(req.get("response_format") == {"type": "json_object"}, "JSON mode asked")
        check(isinstance(req.get("max_tokens"), int), "max_tokens sent")
    else:
        check(req["options"].get("temperature") == 0, "temperature 0")
        check(req.get("format") == "json", "JSON mode asked (format json)")
    check(req.get("stream") is False, "no streaming")
    # the prompt sent is the one `s2r --prompt` prints
    rc, prompt, _ = env.run(env.llm_ini("good"), extra=["--prompt"])
    check(rc == 0 and req["messages"][-1]["content"] == prompt,
          "the user message is exactly `s2r --prompt`")


def t_fence(env):
    expect_used(env, "fence", "fence")


def t_think(env):
    expect_used(env, "think", "think")


def t_rewrite(env):
    rc, out, err = env.run(env.llm_ini("rewrite"), fmt="json")
    check(rc == 0, "rewrite: exit 0")
    doc = json.loads(out)
    spec = doc["spec"]
    check(spec.get("command") == "bash" and "set -euo pipefail" in spec.get("args", ""),
          "rewrite: the model's bash body is the command: %r" % spec)
    check("/datasets/imagenet subset" in spec.get("args", ""),
          "rewrite: the main computation's arguments are kept")
    check("command written by the model" in err, "rewrite: a note says the model wrote it")
    check(spec["compute"].get("gpuDevicesRequest") == 1, "rewrite: GPUs kept")


def t_garbage(env):
    expect_fallback(env, "garbage", "holds no JSON object")


def t_gpus(env):
    rc, out, err = env.run(env.llm_ini("gpus"))
    check(rc == 0, "gpus: exit 0")
    check("the model's gpus = 99 differs from the directives (1): 1 is kept" in err,
          "gpus: warning names both values (%s)" % err[-500:])
    check("resources.cpus = 1 differs from the directives (8)" in err,
          "gpus: nested resources are compared too")
    check("nodes = 3 differs from the directives (1)" in err, "gpus: nodes compared")
    check('nvidia.com/gpu: "1"' in out and 'cpu: "8"' in out, "gpus: resources kept")
    check(llm_peer.PEER_IMAGE in out, "gpus: the rest of the answer is used")


def t_danger_curl(env):
    expect_fallback(env, "danger-curl", "pipes a download into an interpreter")


def t_danger_rm(env):
    expect_fallback(env, "danger-rm", "deletes /")


def t_danger_subst(env):
    expect_fallback(env, "danger-subst", "command or process substitution")


def t_empty(env):
    expect_fallback(env, "empty", "the answer is empty")


def t_empty_object(env):
    expect_fallback(env, "empty-object", "the answer is empty")


def t_http500(env):
    expect_fallback(env, "http500", "HTTP 500: CUDA error: out of memory")


def t_stall(env):
    expect_fallback(env, "stall", "no answer from", timeout="1s")


def t_truncated(env):
    expect_fallback(env, "truncated", "truncated")


def t_nojson(env):
    expect_used(env, "nojson", env.api)
    reqs = env.peer.requests
    if env.api == "openai":
        check("response_format" in reqs[0] and "response_format" not in reqs[-1],
              "nojson: JSON mode dropped after the server refused it")
    else:
        check("format" in reqs[0] and "format" not in reqs[-1],
              "nojson: JSON mode dropped after the server refused it")
    _, _, err = env.run(env.llm_ini("nojson"))
    check("refused JSON mode" in err, "nojson: the log says JSON mode was refused")


def t_api_key(env):
    os.environ["S2R_TEST_LLM_KEY"] = "sk-test-123"
    extra = "api_key = env:S2R_TEST_LLM_KEY\n"
    rc, out, err = env.run(env.llm_ini("good", extra=extra))
    check(llm_peer.PEER_IMAGE in out, "api-key: accepted with the right key")
    check(env.peer.headers_seen[-1].get("Authorization") == "Bearer sk-test-123",
          "api-key: Bearer header sent")
    check("sk-test-123" not in err, "api-key: the key never appears in messages")
    os.environ["S2R_TEST_LLM_KEY"] = "wrong"
    rc, out2, err2 = env.run(env.llm_ini("good", extra=extra))
    check(out2 == env.rules() and "HTTP 401" in err2,
          "api-key: a refused key falls back to rules with a warning (%s)" % err2[-300:])
    check("S2R_TEST_LLM_KEY" in open(env.llm_ini("good", extra=extra)).read(),
          "api-key: the INI holds a reference, not the key")


def t_env_path(env):
    # a model may not choose which programs run or what they load
    rc, out, err = env.run(env.llm_ini("env-path"))
    check(rc == 0 and llm_peer.PEER_IMAGE in out,
          "env-path: the rest of the answer is used (%s)" % err[-300:])
    for name in ("PATH", "PYTHONPATH"):
        check("the model sets %s='/tmp/evil" % name in err and "not set" in err,
              "env-path: a warning refuses %s (%s)" % (name, err[-500:]))
    check("/tmp/evil" not in out, "env-path: /tmp/evil is not in the workload")


def t_nproc(env):
    # examples/train-resnet.sbatch: torchrun --nproc_per_node=2 on 2 GPUs
    script = os.path.join(os.environ.get("S2R_SOURCE_DIR", os.path.join(HERE, "..", "..")),
                          "examples", "train-resnet.sbatch")
    rc, out, err = env.run(env.llm_ini("nproc"), script=script, fmt="json")
    check(rc == 0, "nproc: exit 0 (%s)" % err[-300:])
    check("changes how many processes the launcher starts "
          "(torchrun --nproc_per_node 8 (rules: 2))" in err,
          "nproc: a warning names both counts (%s)" % err[-500:])
    check(out == env.rules(script, fmt="json"),
          "nproc: the rules command is kept (output as the rules conversion)")
    check("--nproc_per_node=2" in out and "=8" not in out, "nproc: 2 processes")


def t_inject(env):
    expect_fallback(env, "inject", "runs find, which the script does not run")


def t_key_note(env):
    os.environ["S2R_TEST_LLM_KEY"] = "sk-test-123"
    rc, out, err = env.run(env.llm_ini("key-note", extra="api_key = env:S2R_TEST_LLM_KEY\n"))
    check(rc == 0 and llm_peer.PEER_IMAGE in out, "key-note: the answer is used (%s)" % err[-300:])
    check("sk-test-123" not in err, "key-note: the key is not printed (%s)" % err[-500:])
    check("sk-test-123" not in out, "key-note: the key is not in the workload")
    check("your key is Bearer <redacted>" in err, "key-note: the note is shown redacted")
    check("peer note: mount the data set" in err, "key-note: other notes unchanged")


def t_prompt(env):
    # without a config: printed, nothing sent
    rc, out, err = env.run(None, extra=["--prompt"])
    check(rc == 0 and "Facts from the directives" in out and JOB in out,
          "prompt: `s2r --prompt` prints the prompt with the script")
    check(not env.peer.requests, "prompt: no model is called")
    rc, out2, _ = env.run(env.llm_ini("good"), extra=["--prompt"])
    check(rc == 0 and out2 == out, "prompt: the same prompt with the provider configured")
    check(not env.peer.requests, "prompt: still no model call")
    check(len(out) < 0.4 * 11379, "prompt: %d chars < 40%% of the original template" % len(out))


def t_cache(env):
    db = os.path.join(env.dir, "answers.sqlite")
    ini = env.llm_ini("good", extra="cache = %s\ncache_max_age = 1h\n" % db)
    rc, out1, err1 = env.run(ini)
    n1 = len(env.peer.requests)
    rc, out2, err2 = env.run(ini)
    check(n1 == 1 and len(env.peer.requests) == 1, "cache: the second run calls no model")
    check(out1 == out2 and llm_peer.PEER_IMAGE in out2, "cache: same result from the cache")
    check("from the cache" in err2, "cache: a note says the answer came from the cache")
    rows = sqlite3.connect(db).execute("SELECT key, model, hits FROM answers").fetchall()
    check(len(rows) == 1 and rows[0][1] == "good" and rows[0][2] == 1 and len(rows[0][0]) == 64,
          "cache: one row keyed by a SHA-256, model stored, one hit: %r" % rows)
    # another model is another key
    ini2 = env.llm_ini("fence", extra="cache = %s\n" % db)
    env.run(ini2)
    check(len(env.peer.requests) == 2, "cache: a different model asks again")
    # an unusable answer is never stored
    ini3 = env.llm_ini("garbage", extra="cache = %s\n" % db)
    env.run(ini3)
    env.run(ini3)
    check(len(env.peer.requests) == 4, "cache: fallbacks are asked again, not cached")
    ini4 = env.llm_ini("danger-rm", extra="cache = %s\n" % db)
    env.run(ini4)
    env.run(ini4)
    check(len(env.peer.requests) == 6, "cache: refused (unsafe) answers are not cached")
    n = sqlite3.connect(db).execute("SELECT count(*) FROM answers").fetchone()[0]
    check(n == 2, "cache: only the two used answers stored (%d)" % n)


def corpus_cases():
    if not os.path.isdir(CORPUS):
        return None
    out = []
    for f in sorted(os.listdir(CORPUS)):
        if f.endswith(".sbatch"):
            with open(os.path.join(CORPUS, f[:-7] + ".facts.json")) as fh:
                out.append((os.path.join(CORPUS, f), json.load(fh)))
    return out


def t_corpus_check(env):
    tool = os.path.join(TOOLS, "check-corpus")
    if not os.path.exists(tool) or corpus_cases() is None:
        return SKIP
    ini = env.llm_ini("adversarial", timeout="1s")
    p = subprocess.run([sys.executable, tool, "--bin", S2R, "--config", ini, CORPUS],
                       capture_output=True, timeout=300)
    out = p.stdout.decode()
    print(out[-3000:])
    check(p.returncode == 0, "check-corpus passes every fact with an adversarial model")
    check(len(env.peer.requests) >= 20, "the adversarial model was asked (%d)" % len(env.peer.requests))


def resources_of(yaml_text):
    import yaml
    docs = [d for d in yaml.safe_load_all(yaml_text) if isinstance(d, dict)]
    doc = [d for d in docs if d.get("kind") in ("Job", "PyTorchJob", "MPIJob")][0]
    spec = doc.get("spec") or {}
    groups = {}
    if doc["kind"] == "Job":
        groups["job"] = (1, spec["template"]["spec"])
    else:
        key = "pytorchReplicaSpecs" if doc["kind"] == "PyTorchJob" else "mpiReplicaSpecs"
        for role, g in spec[key].items():
            groups[role] = (g.get("replicas", 1), g["template"]["spec"])
    res = {"kind": doc["kind"],
           "completions": spec.get("completions"),
           "parallelism": spec.get("parallelism"),
           "completionMode": spec.get("completionMode"),
           "deadline": spec.get("activeDeadlineSeconds",
                                (spec.get("runPolicy") or {}).get("activeDeadlineSeconds"))}
    for role, (n, ps) in groups.items():
        c = ps["containers"][0]
        res[role] = (n, c.get("resources"))
    return res


def t_corpus_resources(env):
    cases = corpus_cases()
    if cases is None:
        return SKIP
    try:
        import yaml  # noqa: F401
    except ImportError:
        return SKIP
    adv = env.llm_ini("adversarial", timeout="1s")
    env_good = env.llm_ini("good")
    n = 0
    for path, facts in cases:
        if not facts["valid"]:
            rc, _, err = env.run(adv, path)
            check(rc != 0 and err.strip(), "%s: refused as sbatch would" % facts["id"])
            continue
        want = resources_of(env.rules(path))
        for ini, what in ((adv, "adversarial"), (env_good, "good")):
            rc, out, err = env.run(ini, path)
            check(rc == 0, "%s/%s: exit 0 (%s)" % (facts["id"], what, err[-200:]))
            if rc == 0:
                got = resources_of(out)
                check(got == want, "%s/%s: resources, nodes, array and time equal the "
                      "rules conversion:\n  got  %r\n  want %r" % (facts["id"], what, got, want))
        n += 1
    check(n >= 25, "compared %d valid cases" % n)


def t_serve(env):
    """`s2r serve` with local-llm: the answer cache, per-request model
    (X-S2R-Model) among `models`, ?dry_run=1 answers the prompt,
    a refused model falls back with a warning."""
    import signal
    import select
    import urllib.request
    db = os.path.join(env.dir, "serve.sqlite")
    ini = env.write_ini(
        "serve.ini",
        "[core]\nprovider = llm\n[server]\nauth = none\n"
        "[provider.llm]\nplugin = local-llm\napi = %s\n"
        "base_url = http://127.0.0.1:%d\nmodel = good\nmodels = good, fence\n"
        "timeout = 10s\ncache = %s\n" % (env.api, env.peer.port, db))
    proc = subprocess.Popen([S2R, "serve", "--config", ini, "--listen", "127.0.0.1:0",
                             "--threads", "2"],
                            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        addr = None
        while addr is None:
            ready, _, _ = select.select([proc.stderr], [], [], 20)
            if not ready:
                break
            line = proc.stderr.readline()
            if not line:
                break
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            if ev.get("event") == "listening":
                addr = ev["address"]
        check(addr is not None, "serve: the server started")
        if addr is None:
            return None

        def post(query="", model=None):
            headers = {"Content-Type": "text/plain", "X-S2R-Filename": "job.sbatch"}
            if model:
                headers["X-S2R-Model"] = model
            rq = urllib.request.Request("http://%s/%s" % (addr, query),
                                        data=JOB.encode(), headers=headers, method="POST")
            with urllib.request.urlopen(rq, timeout=20) as r:
                return json.loads(r.read())

        a = post("?format=yaml")
        check(llm_peer.PEER_IMAGE in a.get("runai_config", ""),
              "serve: the model's answer is used (%r)" % a)
        n0 = len(env.peer.requests)
        a2 = post("?format=yaml")
        check(len(env.peer.requests) == n0 and
              llm_peer.PEER_IMAGE in a2.get("runai_config", ""),
              "serve: the same request is answered from the cache")
        # another model is another cache key: that model is asked
        post("?format=yaml", model="fence")
        check(env.peer.requests[-1]["model"] == "fence",
              "serve: X-S2R-Model picks an offered model")
        a3 = post("?format=yaml", model="gpt-4")
        w = " ".join(a3.get("warnings", []))
        check("model 'gpt-4' is not offered" in w and "rules conversion is used" in w,
              "serve: a model not offered falls back with a warning (%r)" % w)
        check(llm_peer.PEER_IMAGE not in a3.get("runai_config", "x"),
              "serve: ... to the rules conversion")
        n = len(env.peer.requests)
        d = post("?dry_run=1")
        # the request names no submit directory or user: neither is known
        rc, prompt, _ = env.run(None, extra=["--submit-dir", "", "--prompt"])
        check(d.get("prompt") == prompt.replace(os.path.basename(env.job), "job.sbatch"),
              "serve: ?dry_run=1 answers the prompt `s2r --prompt` prints")
        check(len(env.peer.requests) == n, "serve: dry_run calls no model")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
    return None


def t_llama(env):
    """Optional: a real llama.cpp (node-llama-cpp from npm) with a tiny
    random-weight model this test generates. Its answers are noise: this
    proves the protocol and the guard/fallback, not quality."""
    import shutil
    import select
    import signal
    node = shutil.which("node")
    if not node or not os.path.isdir(os.path.join(HERE, "node_modules", "node-llama-cpp")):
        print("node-llama-cpp is not installed: npm install --prefix tests/llm "
              "--omit=optional --ignore-scripts")
        return SKIP
    model = os.path.join(env.dir, "tiny.gguf")
    subprocess.run([sys.executable, os.path.join(HERE, "make_tiny_gguf.py"), model],
                   check=True, timeout=60)
    proc = subprocess.Popen([node, os.path.join(HERE, "llama_peer.mjs"), model],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        ready, _, _ = select.select([proc.stdout], [], [], 30)
        line = proc.stdout.readline().decode().strip() if ready else ""
        if not line.isdigit():
            check(False, "llama peer started (%r %r)" % (line, proc.stderr.read(2000)
                                                          if proc.poll() is not None else ""))
            return None
        base = "http://127.0.0.1:%s" % line
        ini = env.write_ini("llama.ini",
                            "[core]\nprovider = llm\nlog_level = info\n"
                            "[provider.llm]\nplugin = local-llm\nbase_url = %s\n"
                            "model = tiny\ntimeout = 30s\nmax_tokens = 128\n" % base)
        scripts = [env.job]
        for name in ("03-torchrun-4node-rdzv", "06-array-lr-sweep"):
            path = os.path.join(CORPUS, name + ".sbatch")
            if os.path.exists(path):
                scripts.append(path)
        for script in scripts:
            rc, out, err = env.run(ini, script)
            check(rc == 0, "llama: exit 0 (%s)" % err[-300:])
            check("model tiny answered in" in err and "tokens" in err,
                  "llama: the real server answered over the protocol, usage logged (%s)"
                  % err[-400:])
            used = "llm:" in err or "provider 'llm' failed" in err
            check(used, "llama: the answer went through the guard (used, warned or fell back)")
            if rc == 0:
                check(resources_of(out) == resources_of(env.rules(script)),
                      "llama: resources equal the rules conversion for %s" % script)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
    return None


TESTS = {
    "good": t_good, "fence": t_fence, "think": t_think, "rewrite": t_rewrite,
    "garbage": t_garbage, "gpus": t_gpus, "danger-curl": t_danger_curl,
    "danger-rm": t_danger_rm, "danger-subst": t_danger_subst, "empty": t_empty,
    "empty-object": t_empty_object, "http500": t_http500, "stall": t_stall,
    "truncated": t_truncated, "nojson": t_nojson, "api-key": t_api_key,
    "env-path": t_env_path, "nproc": t_nproc, "inject": t_inject,
    "key-note": t_key_note,
    "prompt": t_prompt, "cache": t_cache, "corpus-check": t_corpus_check,
    "corpus-resources": t_corpus_resources, "llama": t_llama,
    "serve": t_serve,
}


def main(argv):
    if not argv or argv[0] not in TESTS:
        print(__doc__)
        return 2
    api = "openai"
    if len(argv) > 2 and argv[1] == "--api":
        api = argv[2]
    env = Env(api, api_key="sk-test-123" if argv[0] in ("api-key", "key-note")
              else None)
    try:
        rc = TESTS[argv[0]](env)
    finally:
        env.close()
    if rc == SKIP:
        print("skipped: corpus, tools or python3-yaml missing")
        return SKIP
    if failures:
        print("%d check(s) failed" % len(failures))
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
