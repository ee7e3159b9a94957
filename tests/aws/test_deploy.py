#!/usr/bin/env python3
"""lambda/: the deployment zip and the templates.

- The zip is built by lambda/build-zip.sh from the current build, unpacked
  like Lambda does (/var/task), and its bootstrap answers a Function URL
  event from the local Runtime API peer with the AWS peers behind it
  (Bedrock peer checking SigV4, dynalite), with an empty environment (no
  LD_LIBRARY_PATH, no S2R_PLUGIN_PATH): everything comes from the zip.
- template.yaml (SAM) and cloudformation.yaml: cfn-lint when it is on the
  machine (must be clean), and always a structural check with python3-yaml:
  Function URL, DynamoDB table with TTL on `ttl`, provided.al2023, and
  least-privilege IAM (bedrock:InvokeModel on the chosen model/profile,
  dynamodb:UpdateItem on the table, logs on the function's own group; no
  wildcard action, no "*" resource).

usage: test_deploy.py --build-dir DIR
"""
import argparse
import base64
import hashlib
import hmac
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import unittest
import zipfile

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
from bedrock_peer import BedrockPeer  # noqa: E402
from runtime_peer import RuntimePeer  # noqa: E402
from test_ratelimit_dynamodb import start_dynalite  # noqa: E402

import botocore.session  # noqa: E402

ARGS = None
TEMPLATES = [os.path.join(SRC, "lambda", "template.yaml"),
             os.path.join(SRC, "lambda", "cloudformation.yaml")]


# ---- CloudFormation YAML: short-form intrinsic functions as dicts -------
class CfnLoader(yaml.SafeLoader):
    pass


def _intrinsic(loader, suffix, node):
    name = "Ref" if suffix == "Ref" else "Fn::" + suffix
    if isinstance(node, yaml.ScalarNode):
        v = loader.construct_scalar(node)
        if suffix == "GetAtt":
            v = v.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        v = loader.construct_sequence(node, deep=True)
    else:
        v = loader.construct_mapping(node, deep=True)
    return {name: v}


CfnLoader.add_multi_constructor("!", _intrinsic)


def load_template(path):
    with open(path) as f:
        return yaml.load(f, Loader=CfnLoader)


def policy_statements(t):
    out = []
    for r in t["Resources"].values():
        if r["Type"] == "AWS::IAM::Role":
            for p in r["Properties"].get("Policies", []):
                out += p["PolicyDocument"]["Statement"]
    return out


def flatten(v):
    """Every string inside an intrinsic-function tree."""
    if isinstance(v, str):
        return [v]
    if isinstance(v, list):
        return [s for x in v for s in flatten(x)]
    if isinstance(v, dict):
        return [s for x in v.values() for s in flatten(x)]
    return []


class Templates(unittest.TestCase):
    def test_structure_and_least_privilege(self):
        for path in TEMPLATES:
            with self.subTest(template=os.path.basename(path)):
                t = load_template(path)
                res = t["Resources"]
                types = {r["Type"] for r in res.values()}
                sam = t.get("Transform") == "AWS::Serverless-2016-10-31"
                fn_type = ("AWS::Serverless::Function" if sam
                           else "AWS::Lambda::Function")
                self.assertIn(fn_type, types)
                self.assertIn("AWS::DynamoDB::Table", types)
                fn = next(r for r in res.values() if r["Type"] == fn_type)
                p = fn["Properties"]
                self.assertEqual(p["Runtime"], "provided.al2023")
                self.assertEqual(p["Architectures"], ["x86_64"])
                self.assertEqual(p["Handler"], "bootstrap")
                env = p["Environment"]["Variables"]
                for k in ("S2R_SHARED_SECRET", "S2R_BEDROCK_MODEL",
                          "S2R_RATELIMIT_TABLE", "S2R_RATELIMIT_PER_DAY"):
                    self.assertIn(k, env)
                # the function URL
                if sam:
                    self.assertEqual(p["FunctionUrlConfig"]["AuthType"],
                                     "NONE")
                else:
                    url = [r for r in res.values()
                           if r["Type"] == "AWS::Lambda::Url"]
                    self.assertEqual(len(url), 1)
                perms = [r["Properties"] for r in res.values()
                         if r["Type"] == "AWS::Lambda::Permission"]
                self.assertTrue(any(x.get("InvokedViaFunctionUrl") is True
                                    or x.get("FunctionUrlAuthType") == "NONE"
                                    for x in perms))
                self.assertIn("FunctionUrl", t["Outputs"])
                # the table: key pk (S), TTL on ttl, on-demand
                tbl = next(r for r in res.values()
                           if r["Type"] == "AWS::DynamoDB::Table")
                tp = tbl["Properties"]
                self.assertEqual(tp["KeySchema"],
                                 [{"AttributeName": "pk", "KeyType": "HASH"}])
                self.assertEqual(tp["TimeToLiveSpecification"],
                                 {"AttributeName": "ttl", "Enabled": True})
                self.assertEqual(tp["BillingMode"], "PAY_PER_REQUEST")
                # IAM: exactly these actions, each on named resources
                st = policy_statements(t)
                actions = {}
                for s in st:
                    self.assertEqual(s["Effect"], "Allow")
                    acts = s["Action"] if isinstance(s["Action"], list) \
                        else [s["Action"]]
                    for a in acts:
                        self.assertNotIn("*", a)
                        actions[a] = s["Resource"]
                self.assertEqual(set(actions), {
                    "bedrock:InvokeModel", "dynamodb:UpdateItem",
                    "logs:CreateLogStream", "logs:PutLogEvents"})
                for a, r in actions.items():
                    self.assertNotEqual(r, "*", a)
                self.assertEqual(actions["dynamodb:UpdateItem"],
                                 {"Fn::GetAtt": ["RateLimitTable", "Arn"]})
                bed = " ".join(flatten(actions["bedrock:InvokeModel"]))
                self.assertIn("foundation-model/${BedrockModelId}", bed)
                self.assertIn("inference-profile/${InferenceProfileId}", bed)
                self.assertNotIn("foundation-model/*", bed)
                # no SAM policy templates or managed policies widen it
                self.assertNotIn("Policies", p)
                for r in res.values():
                    if r["Type"] == "AWS::IAM::Role":
                        self.assertNotIn("ManagedPolicyArns", r["Properties"])

    def test_cfn_lint_is_clean(self):
        exe = shutil.which("cfn-lint")
        if not exe:
            print("\ncfn-lint is not on this machine (it is not a Debian "
                  "package): structural check only", file=sys.stderr)
            self.skipTest("cfn-lint not installed")
        p = subprocess.run([exe, "--regions", "us-east-1", "eu-west-1",
                            "--"] + TEMPLATES, capture_output=True,
                           text=True, timeout=80)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)


class Zip(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.zip = os.path.join(cls.tmp.name, "s2r-lambda.zip")
        p = subprocess.run([os.path.join(SRC, "lambda", "build-zip.sh"),
                            "--build-dir", ARGS.build_dir,
                            "--output", cls.zip],
                           capture_output=True, text=True, timeout=80)
        if p.returncode != 0:
            raise AssertionError("build-zip.sh failed:\n" + p.stdout +
                                 p.stderr)
        cls.task = os.path.join(cls.tmp.name, "var", "task")
        with zipfile.ZipFile(cls.zip) as z:
            for info in z.infolist():
                z.extract(info, cls.task)
                mode = (info.external_attr >> 16) & 0o777
                os.chmod(os.path.join(cls.task, info.filename), mode)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_layout(self):
        with zipfile.ZipFile(self.zip) as z:
            names = set(z.namelist())
            modes = {i.filename: (i.external_attr >> 16) & 0o777
                     for i in z.infolist()}
        for f in ("bootstrap", "bin/s2r", "lib/ld-linux-x86-64.so.2",
                  "lib/libc.so.6", "lib/libcurl.so.4", "lib/libcrypto.so.3",
                  "lib/libjson-c.so.5", "lib/s2r/plugins/s2r-bedrock.so",
                  "lib/s2r/plugins/s2r-ratelimit-dynamodb.so",
                  "lib/s2r/plugins/s2r-auth-hmac.so",
                  "etc/ssl/certs/ca-certificates.crt", "s2r.ini.example"):
            self.assertIn(f, names)
        for f in ("bootstrap", "bin/s2r", "lib/ld-linux-x86-64.so.2"):
            self.assertEqual(modes[f], 0o755, f)
        self.assertLess(os.path.getsize(self.zip), 50 << 20)  # Lambda limit

    def test_every_library_comes_from_the_zip(self):
        lib = os.path.join(self.task, "lib")
        for exe in ["bin/s2r"] + ["lib/s2r/plugins/" + f for f in
                                  os.listdir(os.path.join(lib, "s2r",
                                                          "plugins"))]:
            p = subprocess.run([os.path.join(lib, "ld-linux-x86-64.so.2"),
                                "--library-path", lib, "--list",
                                os.path.join(self.task, exe)],
                               capture_output=True, text=True, timeout=20,
                               env={"PATH": "/usr/bin:/bin"})
            self.assertEqual(p.returncode, 0, p.stderr)
            for line in p.stdout.splitlines():
                if "=>" in line and "vdso" not in line:
                    path = line.split("=>")[1].split("(")[0].strip()
                    self.assertTrue(path.startswith(self.task), line)
                self.assertNotIn("not found", line)

    def test_bootstrap_answers_a_function_url_event(self):
        ak, sk, token, secret = "ASIAZIP", "zip/secret", "zip-token", "s" * 32
        bed = BedrockPeer({ak: (sk, token)})
        bport = bed.start()
        dyn, dport = start_dynalite()
        rt = RuntimePeer()
        rport = rt.start()
        try:
            ddb = botocore.session.get_session().create_client(
                "dynamodb", region_name="us-east-1",
                endpoint_url="http://127.0.0.1:%d" % dport,
                aws_access_key_id="x", aws_secret_access_key="x")
            ddb.create_table(
                TableName="stack-RateLimitTable-1", BillingMode="PAY_PER_REQUEST",
                AttributeDefinitions=[{"AttributeName": "pk",
                                       "AttributeType": "S"}],
                KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
            body = (b"#!/bin/bash\n#SBATCH --job-name=zip\n"
                    b"#SBATCH --gres=gpu:1\npython z.py\n")
            ts = "%.6f" % time.time()
            sig = hmac.new(secret.encode(), ts.encode() + b":" + body,
                           hashlib.sha256).hexdigest()
            rid = rt.add_event({
                "version": "2.0", "rawPath": "/", "rawQueryString": "",
                "headers": {"x-s2r-timestamp": ts, "x-s2r-signature": sig},
                "requestContext": {"http": {"method": "POST", "path": "/",
                                            "sourceIp": "203.0.113.99"}},
                "body": base64.b64encode(body).decode(),
                "isBase64Encoded": True})
            tmpdir = os.path.join(self.tmp.name, "tmp")
            os.makedirs(tmpdir, exist_ok=True)
            env = {  # what Lambda sets, plus the stack's variables
                "PATH": "/usr/local/bin:/usr/bin:/bin",
                "LAMBDA_TASK_ROOT": self.task, "TMPDIR": tmpdir,
                "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:%d" % rport,
                "AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": ak,
                "AWS_SECRET_ACCESS_KEY": sk, "AWS_SESSION_TOKEN": token,
                "S2R_SHARED_SECRET": secret,
                "S2R_BEDROCK_MODEL": "anthropic.claude-3-5-sonnet-20240620-v1:0",
                "S2R_RATELIMIT_TABLE": "stack-RateLimitTable-1",
                "S2R_RATELIMIT_PER_DAY": "100",
                "S2R_BEDROCK_ENDPOINT": "http://127.0.0.1:%d" % bport,
                "S2R_DYNAMODB_ENDPOINT": "http://127.0.0.1:%d" % dport}
            proc = subprocess.Popen([os.path.join(self.task, "bootstrap")],
                                    env=env, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True)
            done = rt.wait_done(1, timeout=30)
            rt.stop()  # the next /next fails: s2r lambda exits
            try:
                out, err = proc.communicate(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                out, err = proc.communicate()
            self.assertTrue(done, err)
            res = rt.results[rid]
            self.assertEqual(res["kind"], "response", err)
            r = res["body"]
            self.assertEqual(r["statusCode"], 200, r)
            answer = json.loads(r["body"])
            self.assertIn("pytorch:24.10-py3", answer["runai_config"])
            (b,) = bed.requests()
            self.assertTrue(b["verified"], b["error"])
            with open(os.path.join(tmpdir, "s2r.ini")) as f:
                ini = f.read()
            self.assertIn("secret = env:S2R_SHARED_SECRET", ini)
            self.assertNotIn(secret, ini)
        finally:
            rt.stop()
            bed.stop()
            dyn.stdin.close()
            dyn.wait(timeout=10)
            dyn.stdout.close()


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir", required=True)
    ARGS, rest = ap.parse_known_args()
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)


if __name__ == "__main__":
    main()
