#!/usr/bin/env python3
"""Our SigV4 signer (the host table slot, via aws_sigv4_tool) against an
independent signer: botocore's SigV4Auth (Debian's python3-botocore).

The headline case is a Bedrock InvokeModel request whose model id holds
':' (sent as %3A, signed as %253A). botocore signs the same request at the
same instant and the Authorization headers must be equal byte for byte.

usage: test_sigv4_botocore.py --tool PATH/aws_sigv4_tool
"""
import argparse
import datetime
import hashlib
import os
import subprocess
import sys
import tempfile
import unittest
import urllib.parse
from unittest import mock

import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

TOOL = None
AK = "AKIDEXAMPLE"
SK = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
TOKEN = "IQoJb3JpZ2luX2VjEXAMPLE//token+with/odd=chars"
NOW = 1735787045  # 2025-01-02T03:04:05Z


def ours(method, url, headers, body, region, service, creds=True,
         token=TOKEN, env=None):
    """Sign with aws_sigv4_tool; returns {lower-case name: value}."""
    with tempfile.NamedTemporaryFile(delete=False) as f:
        f.write(body)
        body_file = f.name
    try:
        cmd = [TOOL, "--region", region, "--service", service,
               "--now", str(NOW), "--method", method, "--url", url,
               "--body-file", body_file]
        if creds:
            cmd += ["--access-key", AK, "--secret-key", SK]
            if token:
                cmd += ["--token", token]
        for k, v in headers.items():
            cmd += ["--header", "%s: %s" % (k, v)]
        run_env = dict(os.environ)
        for k in list(run_env):
            if k.startswith("AWS_"):
                del run_env[k]
        run_env["HOME"] = "/nonexistent"
        run_env.update(env or {})
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=20,
                           env=run_env)
        if p.returncode != 0:
            raise AssertionError("aws_sigv4_tool failed: " + p.stderr)
        out = {}
        for line in p.stdout.splitlines():
            k, _, v = line.partition(": ")
            out[k.lower()] = v
        return out
    finally:
        os.unlink(body_file)


class Frozen(datetime.datetime):
    """datetime with a fixed now(), for botocore's add_auth."""

    @classmethod
    def utcnow(cls):
        return cls.utcfromtimestamp(NOW)

    @classmethod
    def now(cls, tz=None):
        t = cls.utcfromtimestamp(NOW)
        return t.replace(tzinfo=tz) if tz else t


def botocore_sign(method, url, headers, body, region, service, token=TOKEN):
    """botocore's own add_auth at the instant NOW; returns its headers."""
    h = dict(headers)
    # our signer also covers X-Amz-Content-Sha256 (allowed by every AWS
    # service); give botocore the same header so it signs the same set
    h["X-Amz-Content-SHA256"] = hashlib.sha256(body).hexdigest()
    req = AWSRequest(method=method, url=url, data=body, headers=h)
    auth = botocore.auth.SigV4Auth(Credentials(AK, SK, token), service,
                                   region)
    with mock.patch.object(botocore.auth.datetime, "datetime", Frozen):
        auth.add_auth(req)
    return {k.lower(): v for k, v in req.headers.items()}


def bedrock_url(model_id, op="invoke", host=None):
    # botocore's rest-json serializer puts the modelId label in the path
    # percent-encoded with no safe characters
    host = host or "bedrock-runtime.us-east-1.amazonaws.com"
    return "https://%s/model/%s/%s" % (
        host, urllib.parse.quote(model_id, safe=""), op)


class SigV4AgainstBotocore(unittest.TestCase):
    def check(self, method, url, headers, body, region, service,
              token=TOKEN):
        mine = ours(method, url, headers, body, region, service, token=token)
        theirs = botocore_sign(method, url, headers, body, region, service,
                               token=token)
        self.assertEqual(mine["x-amz-date"], theirs["x-amz-date"])
        self.assertEqual(mine["x-amz-content-sha256"],
                         hashlib.sha256(body).hexdigest())
        if token:
            self.assertEqual(mine["x-amz-security-token"], token)
        else:
            self.assertNotIn("x-amz-security-token", mine)
        self.assertEqual(mine["authorization"], theirs["authorization"])
        return mine

    def test_bedrock_invoke_model_id_with_colon(self):
        model = "anthropic.claude-3-5-sonnet-20240620-v1:0"
        url = bedrock_url(model)
        self.assertIn("%3A0/invoke", url)
        body = ('{"anthropic_version":"bedrock-2023-05-31","max_tokens":4096,'
                '"messages":[{"role":"user","content":[{"type":"text",'
                '"text":"#SBATCH --gres=gpu:4 \\u00e9t\\u00e9"}]}]}').encode()
        mine = self.check("POST", url, {"Content-Type": "application/json",
                                        "Accept": "application/json"},
                          body, "us-east-1", "bedrock")
        self.assertIn("SignedHeaders=accept;content-type;host;"
                      "x-amz-content-sha256;x-amz-date;x-amz-security-token",
                      mine["authorization"])

    def test_bedrock_converse_inference_profile_arn(self):
        model = ("arn:aws:bedrock:eu-west-1:123456789012:inference-profile/"
                 "eu.anthropic.claude-3-5-sonnet-20240620-v1:0")
        url = bedrock_url(model, "converse",
                          "bedrock-runtime.eu-west-1.amazonaws.com")
        body = b'{"messages":[{"role":"user","content":[{"text":"hi"}]}]}'
        self.check("POST", url, {"Content-Type": "application/json"}, body,
                   "eu-west-1", "bedrock")

    def test_long_term_keys_without_token(self):
        url = bedrock_url("meta.llama3-70b-instruct-v1:0", "converse")
        self.check("POST", url, {"Content-Type": "application/json"}, b"{}",
                   "us-east-1", "bedrock", token=None)

    def test_dynamodb_update_item_on_a_local_port(self):
        body = (b'{"TableName":"s2r-ratelimit","Key":{"pk":{"S":'
                b'"203.0.113.7#2025-01-02"}}}')
        self.check("POST", "http://127.0.0.1:8123/",
                   {"Content-Type": "application/x-amz-json-1.0",
                    "X-Amz-Target": "DynamoDB_20120810.UpdateItem"},
                   body, "us-east-1", "dynamodb")

    def test_query_string_is_sorted(self):
        self.check("GET", "https://example.amazonaws.com/a%20b/c?b=2&a=1&a=0",
                   {}, b"", "us-east-1", "service")

    def test_credentials_from_the_environment(self):
        url = bedrock_url("anthropic.claude-3-haiku-20240307-v1:0")
        env = {"AWS_ACCESS_KEY_ID": AK, "AWS_SECRET_ACCESS_KEY": SK,
               "AWS_SESSION_TOKEN": TOKEN}
        mine = ours("POST", url, {"Content-Type": "application/json"}, b"{}",
                    "us-east-1", "bedrock", creds=False, env=env)
        theirs = botocore_sign("POST", url,
                               {"Content-Type": "application/json"}, b"{}",
                               "us-east-1", "bedrock")
        self.assertEqual(mine["authorization"], theirs["authorization"])

    def test_credentials_from_the_shared_file_and_profile(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "credentials")
            with open(path, "w") as f:
                f.write("[default]\naws_access_key_id = AKIAOTHER\n"
                        "aws_secret_access_key = other\n"
                        "[s2r]\naws_access_key_id = %s\n"
                        "aws_secret_access_key = %s\n" % (AK, SK))
            url = bedrock_url("anthropic.claude-3-haiku-20240307-v1:0")
            env = {"AWS_SHARED_CREDENTIALS_FILE": path, "AWS_PROFILE": "s2r"}
            mine = ours("POST", url, {}, b"{}", "us-east-1", "bedrock",
                        creds=False, env=env)
            theirs = botocore_sign("POST", url, {}, b"{}", "us-east-1",
                                   "bedrock", token=None)
            self.assertEqual(mine["authorization"], theirs["authorization"])

    def test_a_different_body_gives_a_different_signature(self):
        # the comparison above is not vacuous
        url = bedrock_url("anthropic.claude-3-haiku-20240307-v1:0")
        mine = ours("POST", url, {}, b'{"a":1}', "us-east-1", "bedrock")
        theirs = botocore_sign("POST", url, {}, b'{"a":2}', "us-east-1",
                               "bedrock")
        self.assertNotEqual(mine["authorization"], theirs["authorization"])


def main():
    global TOOL
    ap = argparse.ArgumentParser()
    ap.add_argument("--tool", required=True)
    args, rest = ap.parse_known_args()
    TOOL = args.tool
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)


if __name__ == "__main__":
    main()
