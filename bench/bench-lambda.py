#!/usr/bin/env python3
"""bench-lambda.py: cold start and warm latency of `s2r lambda` against the
local Lambda Runtime API peer (tests/aws/runtime_peer.py), with the AWS
configuration of a deployment: auth-hmac, ratelimit-dynamodb on dynalite,
the bedrock provider on the local Bedrock peer. Not a test: run it by hand.

  bench/bench-lambda.py [--build-dir build] [--cold 20] [--warm 200]
                        [--zip]

Cold start: from just before the process is spawned to the arrival of its
first GET /2018-06-01/runtime/invocation/next (the INI read, plugins
loaded, instances created, the handler built). With --zip, the same for
the deployment zip's bootstrap (lambda/build-zip.sh of that build, shell
plus bundled loader and libraries), as Lambda starts it. Target: under
50 ms.

Warm latency: one process answers --warm events of each kind; per event,
from the peer handing it out on /next to the arrival of its /response:
  healthz     GET /healthz (runtime loop and handler only)
  dry_run     signed POST ?dry_run=1 (auth + DynamoDB UpdateItem +
              parse + prompt)
  convert     signed POST (auth + DynamoDB + Bedrock InvokeModel on the
              python peer, which checks SigV4 with botocore + guard + emit)
The peers are python and part of the figures. Needs dynalite
(scripts/install-test-peers.sh).
"""
import argparse
import base64
import hashlib
import hmac
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "aws"))
from bedrock_peer import BedrockPeer  # noqa: E402
from runtime_peer import RuntimePeer  # noqa: E402
from test_ratelimit_dynamodb import start_dynalite  # noqa: E402

import botocore.session  # noqa: E402

AK, SK, TOKEN, SECRET = "ASIABENCH", "bench/secret", "bench-token", "b" * 32
SCRIPT = open(os.path.join(ROOT, "examples", "train-resnet.sbatch"),
              "rb").read()


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


def summary(name, ms):
    return ("%-22s n=%-4d min %7.2f  median %7.2f  p90 %7.2f  p99 %7.2f  "
            "max %7.2f ms" % (name, len(ms), min(ms), statistics.median(ms),
                              pct(ms, 90), pct(ms, 99), max(ms)))


def event(kind, ip="203.0.113.1"):
    if kind == "healthz":
        return {"version": "2.0", "rawPath": "/healthz", "rawQueryString": "",
                "headers": {}, "isBase64Encoded": False,
                "requestContext": {"http": {"method": "GET",
                                            "path": "/healthz",
                                            "sourceIp": ip}}}
    ts = "%.6f" % time.time()
    sig = hmac.new(SECRET.encode(), ts.encode() + b":" + SCRIPT,
                   hashlib.sha256).hexdigest()
    q = "dry_run=1" if kind == "dry_run" else ""
    ev = {"version": "2.0", "rawPath": "/", "rawQueryString": q,
          "headers": {"x-s2r-timestamp": ts, "x-s2r-signature": sig},
          "requestContext": {"http": {"method": "POST", "path": "/",
                                      "sourceIp": ip}},
          "body": base64.b64encode(SCRIPT).decode(), "isBase64Encoded": True}
    if q:
        ev["queryStringParameters"] = {"dry_run": "1"}
    return ev


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir", default=os.path.join(ROOT, "build"))
    ap.add_argument("--cold", type=int, default=20)
    ap.add_argument("--warm", type=int, default=200)
    ap.add_argument("--zip", action="store_true",
                    help="also time the deployment zip's bootstrap")
    a = ap.parse_args()
    build = os.path.abspath(a.build_dir)
    s2r = os.path.join(build, "s2r")
    plugins = os.path.join(build, "plugins")

    tmp = tempfile.TemporaryDirectory()
    bed = BedrockPeer({AK: (SK, TOKEN)})
    bport = bed.start()
    dyn, dport = start_dynalite()
    ddb = botocore.session.get_session().create_client(
        "dynamodb", region_name="us-east-1",
        endpoint_url="http://127.0.0.1:%d" % dport,
        aws_access_key_id="x", aws_secret_access_key="x")
    ddb.create_table(TableName="bench", BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "pk",
                                            "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
    ini = os.path.join(tmp.name, "bench.ini")
    with open(ini, "w") as f:
        f.write("[core]\nprovider = bedrock\n[lambda]\nauth = hmac\n"
                "ratelimit = daily\nlog_requests = false\n"
                "[auth.hmac]\nplugin = auth-hmac\nsecret = env:S2R_SECRET\n"
                "replay_check = false\n"
                "[ratelimit.daily]\nplugin = ratelimit-dynamodb\n"
                "endpoint = http://127.0.0.1:%d\ntable = bench\n"
                "limit = 1000000000\n"
                "[provider.bedrock]\nplugin = bedrock\n"
                "endpoint = http://127.0.0.1:%d\n"
                "model = anthropic.claude-3-5-sonnet-20240620-v1:0\n"
                % (dport, bport))
    base_env = {"PATH": "/usr/bin:/bin", "AWS_REGION": "us-east-1",
                "AWS_ACCESS_KEY_ID": AK, "AWS_SECRET_ACCESS_KEY": SK,
                "AWS_SESSION_TOKEN": TOKEN, "S2R_SECRET": SECRET,
                "S2R_PLUGIN_PATH": plugins, "HOME": tmp.name}

    def cold(cmd, env):
        out = []
        for _ in range(a.cold):
            rt = RuntimePeer()
            port = rt.start()
            rt.add_event(event("healthz"))
            e = dict(env, AWS_LAMBDA_RUNTIME_API="127.0.0.1:%d" % port)
            t0 = time.monotonic()
            p = subprocess.Popen(cmd, env=e, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
            for _ in range(30):
                if rt.wait_done(1, timeout=1) or p.poll() is not None:
                    break
            rt.stop()
            p.wait(timeout=30)
            if not rt.next_times:
                raise SystemExit("s2r lambda did not start: %s" % cmd)
            out.append((rt.next_times[0] - t0) * 1000.0)
        return out

    print("s2r lambda benchmark (%s)" % build)
    print(summary("cold start (s2r)",
                  cold([s2r, "lambda", "--config", ini, "--max-events", "1"],
                       base_env)))
    if a.zip:
        z = os.path.join(tmp.name, "s2r-lambda.zip")
        subprocess.run([os.path.join(ROOT, "lambda", "build-zip.sh"),
                        "--build-dir", build, "--output", z], check=True,
                       stdout=subprocess.DEVNULL)
        task = os.path.join(tmp.name, "task")
        with zipfile.ZipFile(z) as zf:
            for info in zf.infolist():
                zf.extract(info, task)
                os.chmod(os.path.join(task, info.filename),
                         (info.external_attr >> 16) & 0o777)
        ztmp = os.path.join(tmp.name, "ztmp")
        os.makedirs(ztmp)
        env = dict(base_env, LAMBDA_TASK_ROOT=task, TMPDIR=ztmp,
                   S2R_SHARED_SECRET=SECRET, S2R_RATELIMIT_TABLE="bench",
                   S2R_RATELIMIT_PER_DAY="1000000000",
                   S2R_BEDROCK_MODEL="anthropic.claude-3-5-sonnet-20240620-v1:0",
                   S2R_BEDROCK_ENDPOINT="http://127.0.0.1:%d" % bport,
                   S2R_DYNAMODB_ENDPOINT="http://127.0.0.1:%d" % dport)
        del env["S2R_PLUGIN_PATH"]
        print(summary("cold start (zip)", cold(
            [os.path.join(task, "bootstrap")], env)))

    # warm: one process, a.warm events of each kind
    rt = RuntimePeer()
    port = rt.start()
    kinds = ["healthz", "dry_run", "convert"]
    ids = {k: [] for k in kinds}
    for k in kinds:
        for i in range(a.warm):
            ids[k].append(rt.add_event(event(k, "198.51.100.%d" % (i % 250))))
    n = a.warm * len(kinds)
    e = dict(base_env, AWS_LAMBDA_RUNTIME_API="127.0.0.1:%d" % port)
    p = subprocess.Popen([s2r, "lambda", "--config", ini, "--max-events",
                          str(n)], env=e, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True)
    ok = False
    for _ in range(600):
        ok = rt.wait_done(n, timeout=1)
        if ok or p.poll() is not None:
            break
    p.wait(timeout=30)
    rt.stop()
    if not ok:
        print("warm run did not finish:", p.stderr.read(), file=sys.stderr)
        return 1
    bad = [r for r in rt.results.values()
           if r["kind"] != "response" or r["body"]["statusCode"] != 200]
    for k in kinds:
        ms = [(rt.answered[i] - rt.handed[i]) * 1000.0 for i in ids[k]]
        print(summary("warm " + k, ms))
    print("non-200 answers: %d of %d; Bedrock requests: %d" %
          (len(bad), n, len(bed.requests())))
    for r in bad[:5]:
        print("  ", json.dumps(r["body"])[:300])
    bed.stop()
    dyn.stdin.close()
    dyn.wait(timeout=10)
    dyn.stdout.close()
    tmp.cleanup()
    return 0 if not bad else 1


if __name__ == "__main__":
    sys.exit(main())
