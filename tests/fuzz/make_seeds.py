#!/usr/bin/env python3
"""Seed corpora and dictionaries of the fuzz harnesses, from the project's
own test material (docs/fuzzing.md).

    make_seeds.py --source REPO --out DIR [--shared SHARED]

writes DIR/seeds/<harness>/<sha1> and DIR/dicts/<harness>.dict:

  fuzz_script   the batch scripts of examples/, tests/sbatch/cases/, the
                scripts written inside the tests (C string literals and
                Python string constants holding #SBATCH or #!), and the
                shared corpus (SHARED/corpus/*.sbatch) when it is there
  fuzz_ini      examples/*.ini, s2r.ini.example, SHARED/tools/*.ini and
                the INI texts written inside the tests
  fuzz_request  requests (fuzz_request.c's format) around those scripts:
                every route, format, dry run, signed, unsigned, forged
  fuzz_lambda   the events of tests/aws (C and Python) and Function URL
                payloads 2.0 (base64 and plain) and 1.0 around the scripts
  fuzz_answer   the model answers of tests/llm (guard, answer reader, the
                peer's scenarios), each behind a few script/format bytes

The dictionaries come from the option tables in the sources (sbatch
options of core/slurm/options.c, INI keys of every s2r_option table)
plus fixed tokens. Python 3 standard library only; output is the same for
the same sources.
"""
import argparse
import ast
import base64
import hashlib
import json
import re
import sys
from pathlib import Path

HARNESSES = ("fuzz_script", "fuzz_ini", "fuzz_request", "fuzz_lambda",
             "fuzz_answer")
N_ANSWER_SCRIPTS = 8  # the scripts[] table of fuzz_answer.c
MAX_SEED = 64 * 1024

C_STRING = re.compile(r'"((?:[^"\\\n]|\\.)*)"')
C_GAP = re.compile(r'\s*(?://[^\n]*\n\s*|/\*.*?\*/\s*)*', re.S)


def c_unescape(s: str) -> bytes:
    out = bytearray()
    i = 0
    simple = {"n": 10, "t": 9, "r": 13, "\\": 92, '"': 34, "'": 39,
              "a": 7, "b": 8, "f": 12, "v": 11, "?": 63}
    while i < len(s):
        c = s[i]
        if c != "\\":
            out += c.encode("utf-8")
            i += 1
            continue
        e = s[i + 1]
        if e in simple:
            out.append(simple[e])
            i += 2
        elif e == "x":
            m = re.match(r"[0-9a-fA-F]+", s[i + 2:])
            out.append(int(m.group(0), 16) & 0xFF)
            i += 2 + len(m.group(0))
        elif e in "01234567":
            m = re.match(r"[0-7]{1,3}", s[i + 1:])
            out.append(int(m.group(0), 8) & 0xFF)
            i += 1 + len(m.group(0))
        elif e in "uU":
            n = 4 if e == "u" else 8
            out += chr(int(s[i + 2:i + 2 + n], 16)).encode("utf-8")
            i += 2 + n
        else:
            out += e.encode("utf-8")
            i += 2
    return bytes(out)


def c_strings(path: Path):
    """Adjacent C string literals joined, as the compiler joins them."""
    text = path.read_text(encoding="utf-8", errors="replace")
    pos = 0
    while True:
        m = C_STRING.search(text, pos)
        if not m:
            return
        if m.start() > 0 and text[m.start() - 1] == "'":
            pos = m.end()
            continue
        parts = [m.group(1)]
        pos = m.end()
        while True:
            g = C_GAP.match(text, pos)
            n = C_STRING.match(text, g.end())
            if not n:
                break
            parts.append(n.group(1))
            pos = n.end()
        try:
            yield c_unescape("".join(parts))
        except (AttributeError, ValueError, IndexError):
            continue


def py_strings(path: Path):
    """String and bytes constants of a Python file."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (SyntaxError, UnicodeDecodeError):
        return
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant):
            if isinstance(node.value, str):
                yield node.value.encode("utf-8", "surrogateescape")
            elif isinstance(node.value, bytes):
                yield node.value


def looks_like_script(b: bytes) -> bool:
    return b.startswith(b"#!") or b"#SBATCH" in b


INI_SECTION = re.compile(rb"^\s*\[[A-Za-z][A-Za-z0-9_.-]*\]\s*$", re.M)


def looks_like_ini(b: bytes) -> bool:
    return bool(INI_SECTION.search(b)) and b"=" in b and b"#SBATCH" not in b


def json_object(b: bytes):
    try:
        v = json.loads(b)
    except (ValueError, UnicodeDecodeError):
        return None
    return v if isinstance(v, dict) else None


def looks_like_event(b: bytes) -> bool:
    o = json_object(b)
    return o is not None and ("requestContext" in o or "httpMethod" in o
                              or "rawPath" in o)


def looks_like_answer(b: bytes) -> bool:
    s = b.lstrip()
    if b"#SBATCH" in b or looks_like_event(b):
        return False
    if s.startswith(b"<think>") or b"```" in b:
        return True
    o = json_object(b)
    keys = {"image", "command", "script", "env", "notes", "workload",
            "output", "gpus", "resources"}
    return o is not None and bool(keys & set(o))


class Seeds:
    def __init__(self, out: Path):
        self.out = out
        self.count = {h: 0 for h in HARNESSES}
        for h in HARNESSES:
            d = out / "seeds" / h
            d.mkdir(parents=True, exist_ok=True)
            for f in d.iterdir():
                f.unlink()

    def add(self, harness: str, data: bytes):
        if not data or len(data) > MAX_SEED:
            return
        name = hashlib.sha1(data).hexdigest()
        p = self.out / "seeds" / harness / name
        if not p.exists():
            p.write_bytes(data)
            self.count[harness] += 1


def files(root: Path, pattern: str):
    return sorted(p for p in root.glob(pattern) if p.is_file())


def test_texts(src: Path):
    """Every string written inside the tests, C and Python."""
    tests = src / "tests"
    for p in sorted(tests.rglob("*.c")):
        if "node_modules" not in p.parts:
            yield from c_strings(p)
    for p in sorted(tests.rglob("*.py")):
        if "node_modules" not in p.parts:
            yield from py_strings(p)


def requests(script: bytes, i: int):
    """fuzz_request.c inputs around one script, a different mix each."""
    fmt = ("cli", "yaml", "json")[i % 3]
    yield b"POST /?format=" + fmt.encode() + b"\nX-S2R-Filename: job.sbatch\n\n" + script
    if i % 4 == 0:
        yield b"POST /\nFuzz-Auth: hmac\nX-S2R-Filename: train.sbatch\n\n" + script
    if i % 4 == 1:
        yield b"POST /?dry_run=1&format=yaml\nX-S2R-Model: sonnet\n\n" + script
    if i % 4 == 2:
        yield (b"POST /?format=json HTTP/1.1\r\nFuzz-Auth: given\r\n"
               b"X-S2R-Timestamp: 1718000000.123456\r\nX-S2R-Signature: "
               + b"0" * 64 + b"\r\n\r\n" + script)
    if i % 4 == 3:
        yield b"POST /?format=%79aml\nFuzz-Truncated: 1\nFuzz-Client: 2001:db8::1\n\n" + script


FIXED_REQUESTS = [
    b"GET /healthz\n\n",
    b"HEAD /healthz\n\n",
    b"POST /healthz\n\n",
    b"GET /\n\n",
    b"DELETE /nowhere?x=1\n\n",
    b"POST /?format=toml\n\n#!/bin/bash\necho hi\n",
    b"POST /?dry_run=yes\nX-S2R-Filename: ../etc/passwd\n\n#!/bin/bash\n",
    b"POST /\nFuzz-Auth: given\n\n#!/bin/bash\n",
    b"POST /\nFuzz-Auth: given\nX-S2R-Timestamp: abc\nX-S2R-Signature: zz\n\n",
]


def events(script: bytes, i: int):
    b64 = base64.b64encode(script).decode()
    fmt = ("cli", "yaml", "json")[i % 3]
    if i % 3 == 0:
        yield {"version": "2.0", "routeKey": "$default", "rawPath": "/",
               "rawQueryString": "format=" + fmt,
               "headers": {"x-s2r-filename": "job.sbatch",
                           "content-type": "text/plain"},
               "queryStringParameters": {"format": fmt},
               "requestContext": {"http": {"method": "POST", "path": "/",
                                           "sourceIp": "203.0.113.7"}},
               "body": b64, "isBase64Encoded": True}
    elif i % 3 == 1:
        yield {"version": "2.0", "rawPath": "/", "rawQueryString": "",
               "headers": {"X-S2R-Model": "m"},
               "requestContext": {"http": {"method": "POST"}},
               "body": script.decode("utf-8", "replace"),
               "isBase64Encoded": False}
    else:
        yield {"httpMethod": "POST", "path": "/",
               "queryStringParameters": {"dry_run": "1", "format": fmt},
               "headers": {"X-S2R-Filename": "a.sbatch"},
               "requestContext": {"identity": {"sourceIp": "198.51.100.9"}},
               "body": b64, "isBase64Encoded": True}


FIXED_EVENTS = [
    {"requestContext": {"http": {"method": "GET"}}, "rawPath": "/healthz"},
    {"requestContext": {"http": {"method": "POST"}}, "rawPath": "/x"},
    {"source": "aws.events", "detail-type": "Scheduled Event"},
    {"requestContext": {"http": {"method": "POST"}}, "body": "!!",
     "isBase64Encoded": True},
]


def sbatch_dict(src: Path):
    text = (src / "core/slurm/options.c").read_text(encoding="utf-8")
    words = []
    for name, short in re.findall(r'\{"([a-z0-9-]+)", (\'.\'|0), [NRO]_',
                                  text):
        words += ["--" + name + "=", "--" + name]
        if short != "0":
            words.append("-" + short[1])
    words += ["#SBATCH ", "#!/bin/bash\n", "\n#SBATCH --", "srun ", "mpirun ",
              "torchrun ", "--nproc_per_node=", "accelerate launch ",
              "deepspeed ", "python ", "singularity exec ", "apptainer run ",
              "docker://", "module load ", "source ", "export ", "cd ",
              "$SLURM_ARRAY_TASK_ID", "${SLURM_NNODES}", "$SLURM_NTASKS",
              "$SLURM_JOB_ID", "$SLURM_SUBMIT_DIR", "$HOME", "~/",
              "jupyter lab --port=", "vllm serve ", "--port ", "gpu:",
              "gpu:a100:", "G", "M", "T", "K", "00:00:00", "1-", "%", ",",
              "\\\n", "$(", "`", "<<EOF\n", "\nEOF\n", "&&", "||", ";",
              "\r\n", "'", "\""]
    return words


def ini_dict(src: Path):
    keys = set()
    for p in [*sorted((src / "core").rglob("*.c")),
              *sorted((src / "plugins").rglob("*.c"))]:
        keys.update(re.findall(r'\{"([a-z0-9_]+)", S2R_OPT_',
                               p.read_text(encoding="utf-8")))
    words = [k + " = " for k in sorted(keys)]
    words += ["[core]", "[runai]", "[site]", "[storage]", "[partitions]",
              "[constraints]", "[accounts]", "[qos]", "[modules]",
              "[server]", "[lambda]", "[provider.", "[ratelimit.",
              "[auth.", "plugin = ", "auth-hmac", "ratelimit-sqlite",
              "ratelimit-dynamodb", "local-llm", "bedrock", "remote",
              "env:", "file:", "pvc:", "nfs:", "hostpath:", "datasource:",
              ",ro", "%u", "true", "false", "none", "rules", "50K", "1M",
              "60s", "500ms", "1h", "\n  ", ";", "#"]
    return words


def request_dict():
    return ["POST /", "GET /healthz", "?format=", "&dry_run=1", "yaml",
            "json", "cli", "X-S2R-Timestamp: ", "X-S2R-Signature: ",
            "X-S2R-Model: ", "X-S2R-Filename: ", "Fuzz-Auth: hmac",
            "Fuzz-Auth: given", "Fuzz-Truncated: 1", "Fuzz-Client: ",
            "\r\n", "\n\n", "%00", "%2F", "#!/bin/bash\n", "#SBATCH --"]


def lambda_dict():
    return ['"version":"2.0"', '"rawPath":', '"rawQueryString":',
            '"requestContext":', '"http":', '"method":', '"sourceIp":',
            '"httpMethod":', '"identity":', '"path":', '"headers":',
            '"queryStringParameters":', '"body":', '"isBase64Encoded":true',
            '"isBase64Encoded":false', '"POST"', '"GET"', '"/healthz"',
            '"x-s2r-filename":', '"format":"yaml"', '"dry_run":"1"',
            "\\u0000", "==", "\\n"]


def answer_dict():
    return ['"image":', '"command":', '"script":', '"env":', '"notes":',
            '"workload":', '"output":', '"warnings":', '"resources":',
            '"gpus":', '"cpus":', '"memory_mib":', '"nodes":', '"pods":',
            '"time_limit_s":', '"array":', '"kind":"pytorch"', '"name":',
            '"launcher_command":', '"node_pools":', '"port":',
            '"array_indices":', "```json\n", "\n```", "<think>",
            "</think>", "torchrun", "--nproc_per_node", "mpirun", "-np",
            "srun", "python", "curl", "| sh", "rm -rf /", "$(", "/dev/tcp",
            "LD_PRELOAD", "PATH", "PYTHONPATH", "SLURM_PROCID",
            "nvcr.io/nvidia/pytorch:24.05-py3", "@sha256:"]


def dict_entry(word: str) -> str:
    """One libFuzzer dictionary entry: printable ASCII as is, \\ and \"
    escaped, every other byte as \xAB."""
    out = []
    for b in word.encode("utf-8"):
        c = chr(b)
        if c in '\\"':
            out.append("\\" + c)
        elif 32 <= b < 127:
            out.append(c)
        else:
            out.append("\\x%02X" % b)
    return '"' + "".join(out) + '"'


def write_dict(out: Path, name: str, words):
    d = out / "dicts"
    d.mkdir(parents=True, exist_ok=True)
    lines = ["# generated by tests/fuzz/make_seeds.py"]
    for w in dict.fromkeys(words):
        lines.append(dict_entry(w))
    (d / (name + ".dict")).write_text("\n".join(lines) + "\n")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--source", required=True, type=Path)
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--shared", type=Path)
    a = ap.parse_args()
    src, out = a.source.resolve(), a.out
    seeds = Seeds(out)

    texts = list(test_texts(src))
    scripts = [p.read_bytes() for p in files(src, "examples/*.sbatch")]
    scripts += [p.read_bytes() for p in files(src, "tests/sbatch/cases/*.sbatch")]
    if a.shared and (a.shared / "corpus").is_dir():
        scripts += [p.read_bytes()
                    for p in files(a.shared / "corpus", "*.sbatch")]
    scripts += [t for t in texts if looks_like_script(t)]
    for s in scripts:
        seeds.add("fuzz_script", s)

    inis = [p.read_bytes() for p in files(src, "examples/*.ini")]
    inis += [p.read_bytes() for p in files(src, "*.ini.example")]
    if a.shared and (a.shared / "tools").is_dir():
        inis += [p.read_bytes() for p in files(a.shared / "tools", "*.ini")]
    inis += [t for t in texts if looks_like_ini(t)]
    for s in inis:
        seeds.add("fuzz_ini", s)

    unique = list(dict.fromkeys(scripts))
    for i, s in enumerate(unique):
        for r in requests(s, i):
            seeds.add("fuzz_request", r)
        for e in events(s, i):
            seeds.add("fuzz_lambda", json.dumps(e).encode())
    for r in FIXED_REQUESTS:
        seeds.add("fuzz_request", r)
    for e in FIXED_EVENTS:
        seeds.add("fuzz_lambda", json.dumps(e).encode())
    for t in texts:
        if looks_like_event(t):
            seeds.add("fuzz_lambda", t)

    for i, t in enumerate(dict.fromkeys(x for x in texts
                                        if looks_like_answer(x))):
        for k in range(3):
            prefix = (i + 3 * k) % (N_ANSWER_SCRIPTS * 3)
            seeds.add("fuzz_answer", bytes([prefix]) + t)

    write_dict(out, "fuzz_script", sbatch_dict(src))
    write_dict(out, "fuzz_request", request_dict() + sbatch_dict(src)[:60])
    write_dict(out, "fuzz_lambda", lambda_dict())
    write_dict(out, "fuzz_ini", ini_dict(src))
    write_dict(out, "fuzz_answer", answer_dict())
    print("make_seeds: " + ", ".join(f"{h} {n}" for h, n in
                                     seeds.count.items()))
    empty = [h for h, n in seeds.count.items() if n == 0]
    if empty:
        print("make_seeds: no seeds for " + ", ".join(empty), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
