#!/usr/bin/env python3
"""`s2r lambda` end to end on loopback: the local Lambda Runtime API
(runtime_peer.py) hands Function URL events (payload 2.0) to the real
binary, which answers through the shared request handler with the AWS
plugins selected in its INI: auth-hmac, ratelimit-dynamodb against
dynalite, and the bedrock provider against the local Bedrock peer (which
checks every SigV4 signature with botocore).

usage: test_lambda.py --s2r PATH/s2r --plugin-dir DIR
"""
import argparse
import base64
import datetime
import hashlib
import hmac
import json
import os
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from bedrock_peer import BedrockPeer  # noqa: E402
from runtime_peer import RuntimePeer  # noqa: E402
from test_ratelimit_dynamodb import start_dynalite  # noqa: E402

import botocore.session  # noqa: E402

ARGS = None
SECRET = "lambda-test-shared-secret"
AK, SK, TOKEN = "ASIALAMBDAEXAMPLE", "lambda/secret", "lambda-session-token"
SONNET = "anthropic.claude-3-5-sonnet-20240620-v1:0"
LLAMA = "meta.llama3-70b-instruct-v1:0"
SCRIPT = ("#!/bin/bash\n#SBATCH --job-name=train\n#SBATCH --gres=gpu:2\n"
          "python train.py\n")


def sign(body, ts=None):
    ts = ts or "%.6f" % time.time()
    mac = hmac.new(SECRET.encode(), ts.encode() + b":" + body,
                   hashlib.sha256).hexdigest()
    return {"x-s2r-timestamp": ts, "x-s2r-signature": mac}


def url_event(body=SCRIPT, method="POST", path="/", query="", headers=None,
              ip="203.0.113.7", b64=True, signed=True):
    data = body.encode() if isinstance(body, str) else body
    h = {"content-type": "text/plain", "host": "abc.lambda-url.us-east-1.on.aws",
         "user-agent": "s2r-test"}
    if signed:
        h.update(sign(data))
    h.update(headers or {})
    params = {}
    for kv in filter(None, query.split("&")):
        k, _, v = kv.partition("=")
        params[k] = v
    ev = {"version": "2.0", "routeKey": "$default", "rawPath": path,
          "rawQueryString": query, "headers": h,
          "requestContext": {
              "accountId": "anonymous", "apiId": "abc",
              "domainName": "abc.lambda-url.us-east-1.on.aws",
              "http": {"method": method, "path": path,
                       "protocol": "HTTP/1.1", "sourceIp": ip,
                       "userAgent": "s2r-test"},
              "requestId": "fn-url-req", "routeKey": "$default",
              "stage": "$default", "time": "01/Jan/2026:00:00:00 +0000",
              "timeEpoch": 1767225600000},
          "isBase64Encoded": b64}
    if params:
        ev["queryStringParameters"] = params
    if data:
        ev["body"] = (base64.b64encode(data).decode() if b64
                      else data.decode())
    return ev


class LambdaRuntime(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.bedrock = BedrockPeer({AK: (SK, TOKEN)})
        cls.bport = cls.bedrock.start()
        cls.dyn, cls.dport = start_dynalite()
        ddb = botocore.session.get_session().create_client(
            "dynamodb", region_name="us-east-1",
            endpoint_url="http://127.0.0.1:%d" % cls.dport,
            aws_access_key_id="x", aws_secret_access_key="x")
        ddb.create_table(TableName="s2r-ratelimit",
                         BillingMode="PAY_PER_REQUEST",
                         AttributeDefinitions=[{"AttributeName": "pk",
                                                "AttributeType": "S"}],
                         KeySchema=[{"AttributeName": "pk",
                                     "KeyType": "HASH"}])
        cls.ddb = ddb
        cls.ini = os.path.join(cls.tmp.name, "s2r.ini")
        with open(cls.ini, "w") as f:
            f.write(
                "[core]\nprovider = bedrock\n\n"
                "[lambda]\nauth = hmac\nratelimit = daily\n"
                "request_timeout = 20s\n\n"
                "[auth.hmac]\nplugin = auth-hmac\nsecret = env:S2R_SECRET\n\n"
                "[ratelimit.daily]\nplugin = ratelimit-dynamodb\n"
                "endpoint = http://127.0.0.1:%d\ntable = s2r-ratelimit\n"
                "limit = 4\n\n"
                "[provider.bedrock]\nplugin = bedrock\n"
                "endpoint = http://127.0.0.1:%d\nmodel = %s\n"
                "models = sonnet=%s, llama=%s\nretry_backoff = 5ms\n"
                % (cls.dport, cls.bport, SONNET, SONNET, LLAMA))

    @classmethod
    def tearDownClass(cls):
        cls.bedrock.stop()
        cls.dyn.stdin.close()
        try:
            cls.dyn.wait(timeout=10)
        except subprocess.TimeoutExpired:
            cls.dyn.kill()
        cls.dyn.stdout.close()
        cls.tmp.cleanup()

    def setUp(self):
        self.bedrock.reset()

    def run_lambda(self, events, ini=None, extra_env=None):
        """Queue @events, run s2r lambda until it answered them all."""
        peer = RuntimePeer()
        port = peer.start()
        ids = [peer.add_event(e) for e in events]
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update({
            "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:%d" % port,
            "AWS_ACCESS_KEY_ID": AK, "AWS_SECRET_ACCESS_KEY": SK,
            "AWS_SESSION_TOKEN": TOKEN, "AWS_REGION": "us-east-1",
            "S2R_SECRET": SECRET, "S2R_PLUGIN_PATH": ARGS.plugin_dir,
            "LAMBDA_TASK_ROOT": self.tmp.name, "HOME": self.tmp.name})
        env.update(extra_env or {})
        cmd = [ARGS.s2r, "lambda", "--max-events", str(len(events))]
        if ini:
            cmd += ["--config", ini]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=60,
                           env=env)
        peer.stop()
        self.assertEqual(peer.bad_calls, [])
        return p, peer, [peer.results.get(i) for i in ids]

    def answer(self, res):
        self.assertIsNotNone(res)
        self.assertEqual(res["kind"], "response", res)
        r = res["body"]
        self.assertEqual(set(r), {"statusCode", "headers", "body",
                                  "isBase64Encoded"})
        self.assertIs(r["isBase64Encoded"], False)
        self.assertEqual(r["headers"]["content-type"], "application/json")
        return r["statusCode"], json.loads(r["body"]), r["headers"]

    def count(self, ip):
        day = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
        it = self.ddb.get_item(TableName="s2r-ratelimit",
                               Key={"pk": {"S": "%s#%s" % (ip, day)}},
                               ConsistentRead=True).get("Item")
        return int(it["count"]["N"]) if it else 0

    def test_function_url_event_converts_end_to_end(self):
        p, peer, (res,) = self.run_lambda(
            [url_event(query="format=yaml", ip="203.0.113.10")],
            ini=self.ini)
        self.assertEqual(p.returncode, 0, p.stderr)
        status, body, headers = self.answer(res)
        self.assertEqual(status, 200, body)
        self.assertEqual(body["format"], "yaml")
        self.assertIn("kind: Job", body["runai_config"])
        # the model's image came back through the guard
        self.assertIn("nvcr.io/nvidia/pytorch:24.10-py3", body["runai_config"])
        self.assertEqual(headers["x-request-id"], "req-0001")
        # Bedrock got one signed InvokeModel with the core's prompt
        (b,) = self.bedrock.requests()
        self.assertTrue(b["verified"], b["error"])
        self.assertEqual(b["api"], "invoke")
        self.assertIn("#SBATCH --gres=gpu:2", b["body"])
        self.assertEqual(b["headers"]["x-amz-security-token"], TOKEN)
        # DynamoDB counted the client of requestContext.http.sourceIp
        self.assertEqual(self.count("203.0.113.10"), 1)
        # logs are JSON lines: the ready line and one per request
        logs = [json.loads(line) for line in p.stderr.splitlines()
                if line.startswith("{")]
        self.assertIn("lambda_ready", [entry.get("event") for entry in logs])

    def test_every_kind_of_answer(self):
        events = [
            url_event(signed=False, ip="198.51.100.20"),                # 401
            url_event(method="GET", path="/healthz", body="", signed=False),
            url_event(query="dry_run=1", ip="198.51.100.21"),           # 200
            url_event(headers={"x-s2r-model": "llama"},
                      ip="198.51.100.22"),                              # 200
            url_event(body="x" * (60 * 1024), ip="198.51.100.23"),      # 413
            url_event(b64=False, query="format=json",
                      ip="198.51.100.24"),                              # 200
            url_event(body="#!/bin/bash\n#SBATCH --nodes=banana\ntrue\n",
                      ip="198.51.100.25"),                              # 400
            url_event(headers={"x-s2r-model": "gpt-4"},
                      ip="198.51.100.26"),                              # 200
        ]
        p, peer, res = self.run_lambda(events, ini=self.ini)
        self.assertEqual(p.returncode, 0, p.stderr)
        got = [self.answer(r) for r in res]
        self.assertEqual([g[0] for g in got],
                         [401, 200, 200, 200, 413, 200, 400, 200])
        self.assertIn("error", got[0][1])
        self.assertEqual(got[1][1], {"status": "ok"})
        self.assertIn("prompt", got[2][1])
        self.assertEqual(got[5][1]["format"], "json")
        self.assertIsInstance(json.loads(got[5][1]["runai_config"]), dict)
        self.assertIn("banana", got[6][1]["error"])
        # an alias not in the whitelist: rules result, with a warning
        self.assertTrue(any("not allowed" in w
                            for w in got[7][1].get("warnings", [])),
                        got[7][1])
        # dry runs and refused aliases call no model
        apis = [r["api"] for r in self.bedrock.requests()]
        self.assertEqual(apis, ["converse", "invoke"])

    def test_rate_limit_in_dynamodb_answers_429(self):
        ip = "192.0.2.50"
        events = [url_event(query="dry_run=1", ip=ip) for _ in range(6)]
        p, peer, res = self.run_lambda(events, ini=self.ini)
        self.assertEqual(p.returncode, 0, p.stderr)
        got = [self.answer(r) for r in res]
        self.assertEqual([g[0] for g in got], [200] * 4 + [429] * 2)
        self.assertGreater(int(got[4][2]["retry-after"]), 0)
        self.assertEqual(self.count(ip), 4)

    def test_non_http_and_broken_events_are_invocation_errors(self):
        bad_b64 = url_event()
        bad_b64["body"] = "%%% not base64 %%%"
        events = [{"hello": "world"}, b"not json", bad_b64,
                  url_event(query="dry_run=1", ip="192.0.2.60")]
        p, peer, res = self.run_lambda(events, ini=self.ini)
        self.assertEqual(p.returncode, 0, p.stderr)
        for r in res[:3]:
            self.assertEqual(r["kind"], "error", r)
            self.assertEqual(r["body"]["errorType"], "S2R.InvalidEvent")
            self.assertEqual(r["headers"]["lambda-runtime-function-error-type"],
                             "Unhandled")
        self.assertIn("Function URL", res[0]["body"]["errorMessage"])
        self.assertIn("base64", res[2]["body"]["errorMessage"])
        self.assertEqual(self.answer(res[3])[0], 200)

    def test_payload_1_0_events_work_too(self):
        data = SCRIPT.encode()
        ev = {"version": "1.0", "httpMethod": "POST", "path": "/",
              "headers": dict(sign(data)),
              "queryStringParameters": {"dry_run": "1"},
              "requestContext": {"identity": {"sourceIp": "192.0.2.70"}},
              "body": SCRIPT, "isBase64Encoded": False}
        p, peer, (res,) = self.run_lambda([ev], ini=self.ini)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(self.answer(res)[0], 200)
        self.assertEqual(self.count("192.0.2.70"), 1)

    def test_config_from_lambda_task_root(self):
        # no --config: $LAMBDA_TASK_ROOT/s2r.ini, as in the deployed zip
        root = os.path.join(self.tmp.name, "task")
        os.makedirs(root, exist_ok=True)
        with open(os.path.join(root, "s2r.ini"), "w") as f:
            f.write("[lambda]\nauth = none\n")
        p, peer, (res,) = self.run_lambda(
            [url_event(signed=False)], extra_env={"LAMBDA_TASK_ROOT": root})
        self.assertEqual(p.returncode, 0, p.stderr)
        status, body, _ = self.answer(res)
        self.assertEqual(status, 200, body)
        self.assertIn("runai training standard submit", body["runai_config"])

    def test_bad_config_is_an_init_error(self):
        bad = os.path.join(self.tmp.name, "bad.ini")
        with open(bad, "w") as f:
            f.write("[provider.b]\nplugin = bedrock\nregion = nowhere 1\n"
                    "model = m\n[lambda]\nauth = none\n")
        p, peer, (res,) = self.run_lambda([url_event()], ini=bad)
        self.assertEqual(p.returncode, 1)
        self.assertIsNone(res)
        (ie,) = peer.init_errors
        self.assertEqual(ie["body"]["errorType"], "S2R.ConfigError")
        self.assertIn("region", ie["body"]["errorMessage"])
        missing = os.path.join(self.tmp.name, "missing.ini")
        p, peer, _ = self.run_lambda([url_event()], ini=missing)
        self.assertEqual(p.returncode, 1)
        self.assertIn("cannot open", peer.init_errors[0]["body"]
                      ["errorMessage"])

    def test_without_runtime_api_it_says_so(self):
        env = {k: v for k, v in os.environ.items()
               if k != "AWS_LAMBDA_RUNTIME_API"}
        p = subprocess.run([ARGS.s2r, "lambda", "--config", self.ini],
                           capture_output=True, text=True, timeout=30,
                           env=env)
        self.assertEqual(p.returncode, 2)
        self.assertIn("AWS_LAMBDA_RUNTIME_API", p.stderr)


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--s2r", required=True)
    ap.add_argument("--plugin-dir", required=True)
    ARGS, rest = ap.parse_known_args()
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)


if __name__ == "__main__":
    main()
