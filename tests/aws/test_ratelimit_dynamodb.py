#!/usr/bin/env python3
"""plugins/ratelimit-dynamodb against dynalite (npm; an in-memory DynamoDB)
started by this test on 127.0.0.1 (dynalite_peer.js).

The headline: 64 concurrent requests of one client against a limit of N
(one UpdateItem each, from 64 threads of one process) -> exactly N pass.
Tables are created and items read back with botocore's DynamoDB client.

usage: test_ratelimit_dynamodb.py --driver aws_driver --plugin-dir DIR
dynalite comes from tests/aws/node_modules (scripts/install-test-peers.sh).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

import botocore.session

HERE = os.path.dirname(os.path.abspath(__file__))
ARGS = None
S2R_EUPSTREAM = -7
DAY0 = 1767225600  # 2026-01-01T00:00:00Z
NOW = DAY0 + 3600 * 10
DAY_END = DAY0 + 86400


def start_dynalite():
    node = shutil.which("node") or shutil.which("nodejs")
    mod = os.path.join(HERE, "node_modules", "dynalite")
    if not node or not os.path.isdir(mod):
        raise AssertionError("dynalite is not installed: run "
                             "scripts/install-test-peers.sh (npm install in "
                             "tests/aws)")
    p = subprocess.Popen([node, os.path.join(HERE, "dynalite_peer.js"),
                          "--max-seconds", "85"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    if not line.startswith("PORT "):
        p.kill()
        raise AssertionError("dynalite did not start: %r" % line)
    return p, int(line.split()[1])


class DynamoDBRateLimit(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.proc, cls.port = start_dynalite()
        cls.endpoint = "http://127.0.0.1:%d" % cls.port
        cls.tmp = tempfile.TemporaryDirectory()
        s = botocore.session.get_session()
        cls.ddb = s.create_client(
            "dynamodb", region_name="us-east-1", endpoint_url=cls.endpoint,
            aws_access_key_id="AKIDDYNALITE", aws_secret_access_key="x")
        for name, key in (("s2r-ratelimit", "pk"), ("other-key", "id")):
            cls.ddb.create_table(
                TableName=name, BillingMode="PAY_PER_REQUEST",
                AttributeDefinitions=[{"AttributeName": key,
                                       "AttributeType": "S"}],
                KeySchema=[{"AttributeName": key, "KeyType": "HASH"}])
        for _ in range(100):
            st = [cls.ddb.describe_table(TableName=n)["Table"]["TableStatus"]
                  for n in ("s2r-ratelimit", "other-key")]
            if st == ["ACTIVE", "ACTIVE"]:
                break
            time.sleep(0.05)

    @classmethod
    def tearDownClass(cls):
        cls.proc.stdin.close()
        try:
            cls.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            cls.proc.kill()
        cls.proc.stdout.close()
        cls.tmp.cleanup()

    def ini(self, limit, extra="", endpoint=None, table="s2r-ratelimit"):
        path = os.path.join(self.tmp.name, "rl.ini")
        with open(path, "w") as f:
            f.write("[ratelimit.daily]\nplugin = ratelimit-dynamodb\n"
                    "endpoint = %s\nregion = us-east-1\ntable = %s\n"
                    "limit = %d\n%s" % (endpoint or self.endpoint, table,
                                        limit, extra))
        return path

    def env(self, creds=True):
        e = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        e["HOME"] = self.tmp.name
        e["S2R_PLUGIN_PATH"] = ARGS.plugin_dir
        if creds:
            e.update(AWS_ACCESS_KEY_ID="AKIDEXAMPLE",
                     AWS_SECRET_ACCESS_KEY="secret",
                     AWS_SESSION_TOKEN="token")
        return e

    def check(self, ini, key, threads=1, now=NOW, creds=True):
        p = subprocess.run([ARGS.driver, "ratelimit", "--config", ini,
                            "--key", key, "--threads", str(threads),
                            "--now", str(now)],
                           capture_output=True, text=True, timeout=60,
                           env=self.env(creds))
        self.assertEqual(p.returncode, 0, p.stderr)
        return json.loads(p.stdout)

    def item(self, key, table="s2r-ratelimit", attr="pk"):
        r = self.ddb.get_item(TableName=table, Key={attr: {"S": key}},
                              ConsistentRead=True)
        return r.get("Item")

    def test_exactly_n_of_64_concurrent_requests_pass(self):
        for n in (10, 1):
            key = "198.51.100.%d" % n
            out = self.check(self.ini(n), key, threads=64)
            self.assertEqual(out["errors"], 0, out["messages"])
            self.assertEqual(out["allowed"], n)
            self.assertEqual(out["refused"], 64 - n)
            self.assertEqual(out["limit"], n)
            item = self.item(key + "#2026-01-01")
            self.assertEqual(item["count"], {"N": str(n)})
            # the row expires: end of its UTC day plus `keep` (24h)
            self.assertEqual(item["ttl"], {"N": str(DAY_END + 86400)})
            # the refused ones wait for the next UTC midnight
            self.assertEqual(set(out["retry_after"]) - {0},
                             {DAY_END - NOW})

    def test_remaining_counts_down_then_refuses(self):
        ini = self.ini(3, "keep = 1h\n")
        seen = [self.check(ini, "203.0.113.9") for _ in range(4)]
        self.assertEqual([s["allowed"] for s in seen], [1, 1, 1, 0])
        self.assertEqual([s["remaining"][0] for s in seen], [2, 1, 0, 0])
        self.assertEqual(seen[3]["retry_after"], [DAY_END - NOW])
        self.assertEqual(self.item("203.0.113.9#2026-01-01")["ttl"],
                         {"N": str(DAY_END + 3600)})

    def test_clients_and_days_have_their_own_counters(self):
        ini = self.ini(1)
        self.assertEqual(self.check(ini, "10.0.0.1")["allowed"], 1)
        self.assertEqual(self.check(ini, "10.0.0.1")["allowed"], 0)
        self.assertEqual(self.check(ini, "10.0.0.2")["allowed"], 1)
        self.assertEqual(self.check(ini, "key-id:alice")["allowed"], 1)
        nxt = self.check(ini, "10.0.0.1", now=NOW + 86400)
        self.assertEqual(nxt["allowed"], 1)
        self.assertIsNotNone(self.item("10.0.0.1#2026-01-02"))

    def test_limit_zero_refuses_without_a_call(self):
        out = self.check(self.ini(0), "10.9.9.9")
        self.assertEqual((out["allowed"], out["refused"]), (0, 1))
        self.assertIsNone(self.item("10.9.9.9#2026-01-01"))

    def test_missing_table_fails_closed_with_a_clear_message(self):
        out = self.check(self.ini(5, table="no-such-table"), "10.1.1.1")
        self.assertEqual(out["errors"], 1)
        self.assertIn("ResourceNotFoundException: no table 'no-such-table'",
                      out["messages"][0])

    def test_wrong_key_attribute(self):
        out = self.check(self.ini(5, table="other-key"), "10.1.1.2")
        self.assertEqual(out["errors"], 1)
        self.assertIn("partition key of other-key named pk",
                      out["messages"][0])
        out = self.check(self.ini(5, "key_attribute = id\n",
                                  table="other-key"), "10.1.1.2")
        self.assertEqual(out["allowed"], 1)
        self.assertIsNotNone(self.item("10.1.1.2#2026-01-01", "other-key",
                                       "id"))

    def test_unreachable_or_unsigned_fails_closed(self):
        out = self.check(self.ini(5, endpoint="http://127.0.0.1:1"), "10.2.2.2")
        self.assertEqual(out["errors"], 1)
        self.assertIn("cannot reach DynamoDB", out["messages"][0])
        out = self.check(self.ini(5), "10.2.2.3", creds=False)
        self.assertEqual(out["errors"], 1)
        self.assertIn("no AWS credentials", out["messages"][0])

    def test_configuration_errors(self):
        path = os.path.join(self.tmp.name, "bad.ini")
        for text, frag in [("table = x\nregion = us-east-1\n", "table"),
                           ("limit = 5\n", "region"),
                           ("region = us-east-1\nendpoint = ftp://x\n",
                            "endpoint")]:
            with open(path, "w") as f:
                f.write("[ratelimit.r]\nplugin = ratelimit-dynamodb\n" + text)
            p = subprocess.run([ARGS.driver, "ratelimit", "--config", path,
                                "--key", "k"], capture_output=True,
                               text=True, timeout=30, env=self.env())
            self.assertEqual(p.returncode, 2)
            self.assertIn(frag, p.stderr)


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--driver", required=True)
    ap.add_argument("--plugin-dir", required=True)
    ARGS, rest = ap.parse_known_args()
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)


if __name__ == "__main__":
    main()
