#!/usr/bin/env python3
"""plugins/bedrock against the local Bedrock peer (bedrock_peer.py), which
checks every SigV4 signature with botocore and answers like Bedrock.

The plugin runs inside the real registry (aws_driver) and, end to end,
inside `s2r --config` with the bedrock provider selected.

usage: test_bedrock.py --driver aws_driver --s2r s2r --plugin-dir DIR
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bedrock_peer import BedrockPeer, DEFAULT_TEXT  # noqa: E402

ARGS = None
AK, SK, TOKEN = "ASIAPEEREXAMPLE", "peer/secret+key", "peer-session-token"
SONNET = "anthropic.claude-3-5-sonnet-20240620-v1:0"
LLAMA = "meta.llama3-70b-instruct-v1:0"
PROFILE = "us.anthropic.claude-3-5-haiku-20241022-v1:0"
PROMPT = "Convert this SLURM batch script. #SBATCH --gres=gpu:2 \u00e9"

S2R_OK, S2R_EINVAL, S2R_ENOTFOUND = 0, -2, -4
S2R_EUPSTREAM, S2R_ETIMEOUT, S2R_EUNSUPPORTED = -7, -8, -9


class BedrockTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.peer = BedrockPeer({AK: (SK, TOKEN), "AKIDLONGTERM": ("lt", None)})
        cls.port = cls.peer.start()
        cls.tmp = tempfile.TemporaryDirectory()

    @classmethod
    def tearDownClass(cls):
        cls.peer.stop()
        cls.tmp.cleanup()

    def setUp(self):
        self.peer.reset()

    # ---- helpers ------------------------------------------------------
    def ini(self, extra="", keys=True, endpoint=None, name="b.ini",
            core=""):
        text = core + (
            "[provider.bedrock]\nplugin = bedrock\nregion = us-east-1\n"
            "endpoint = %s\nmodel = %s\n"
            "models = sonnet=%s, llama=%s, profile=%s\n"
            "retries = 3\nretry_backoff = 5ms\n"
            % (endpoint or "http://127.0.0.1:%d" % self.port, SONNET, SONNET,
               LLAMA, PROFILE))
        if keys:
            text += ("access_key_id = env:TEST_AK\n"
                     "secret_access_key = env:TEST_SK\n"
                     "session_token = env:TEST_TOKEN\n")
        text += extra
        path = os.path.join(self.tmp.name, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def env(self, **kw):
        e = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        e.update({"TEST_AK": AK, "TEST_SK": SK, "TEST_TOKEN": TOKEN,
                  "HOME": self.tmp.name, "S2R_PLUGIN_PATH": ARGS.plugin_dir})
        e.update(kw)
        return e

    def convert(self, ini, model=None, prompt=PROMPT, env=None,
                timeout_ms=None, expect_exit=0):
        cmd = [ARGS.driver, "convert", "--config", ini]
        if model:
            cmd += ["--model", model]
        if prompt is not None:
            cmd += ["--prompt", prompt]
        if timeout_ms:
            cmd += ["--timeout-ms", str(timeout_ms)]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=30,
                           env=env or self.env())
        self.assertEqual(p.returncode, expect_exit, p.stderr)
        if expect_exit:
            return p.stderr
        return json.loads(p.stdout)

    def script(self, *actions):
        self.peer.set_script(actions)

    def ok(self, out):
        self.assertEqual(out["rc"], S2R_OK, out.get("message"))
        return out["answer"]

    def all_verified(self, n):
        log = self.peer.requests()
        self.assertEqual(len(log), n, [r["error"] for r in log])
        for r in log:
            self.assertTrue(r["verified"], r["error"])
        return log

    # ---- happy paths --------------------------------------------------
    def test_invoke_model_anthropic_messages_with_colon_in_model_id(self):
        ans = self.ok(self.convert(self.ini()))
        self.assertEqual(ans, json.loads(DEFAULT_TEXT))
        (r,) = self.all_verified(1)
        self.assertEqual(r["path"], "/model/anthropic.claude-3-5-sonnet-"
                                    "20240620-v1%3A0/invoke")
        self.assertEqual(r["model"], SONNET)
        self.assertEqual(r["headers"]["x-amz-security-token"], TOKEN)
        body = json.loads(r["body"])
        self.assertEqual(body["anthropic_version"], "bedrock-2023-05-31")
        self.assertEqual(body["max_tokens"], 4096)
        self.assertEqual(body["messages"], [
            {"role": "user", "content": [{"type": "text", "text": PROMPT}]}])
        self.assertIn("JSON", body["system"])

    def test_converse_for_other_models_by_alias(self):
        ans = self.ok(self.convert(self.ini(), model="llama"))
        self.assertEqual(ans["image"], "nvcr.io/nvidia/pytorch:24.10-py3")
        (r,) = self.all_verified(1)
        self.assertEqual(r["api"], "converse")
        self.assertEqual(r["model"], LLAMA)
        body = json.loads(r["body"])
        self.assertEqual(body["messages"][0]["content"], [{"text": PROMPT}])
        self.assertEqual(body["inferenceConfig"]["maxTokens"], 4096)
        self.assertIn("text", body["system"][0])
        self.assertNotIn("anthropic_version", body)

    def test_inference_profile_alias_and_whitelisted_id(self):
        self.ok(self.convert(self.ini(), model="profile"))
        self.ok(self.convert(self.ini(), model=LLAMA))
        log = self.all_verified(2)
        self.assertEqual(log[0]["path"], "/model/us.anthropic.claude-3-5-"
                                         "haiku-20241022-v1%3A0/invoke")
        self.assertEqual(log[1]["api"], "converse")

    def test_api_option_forces_converse(self):
        self.ok(self.convert(self.ini("api = converse\nmax_tokens = 77\n")))
        (r,) = self.all_verified(1)
        self.assertEqual(r["api"], "converse")
        self.assertEqual(json.loads(r["body"])["inferenceConfig"]
                         ["maxTokens"], 77)

    def test_unknown_alias_is_refused_without_a_request(self):
        out = self.convert(self.ini(), model="gpt-4")
        self.assertEqual(out["rc"], S2R_EUNSUPPORTED)
        self.assertIn("'gpt-4' is not allowed", out["message"])
        self.assertIn("sonnet, llama, profile", out["message"])
        self.assertEqual(self.peer.requests(), [])

    def test_json_inside_prose_and_fences(self):
        self.script({"text": "Here it is:\n```json\n{\"image\": \"a/b:1\", "
                             "\"command\": [\"python\", \"x.py\"]}\n```\n"
                             "Hope it helps {not json}."},
                    {"text": "Sure. {\"script\": \"torchrun x.py\"} done"})
        self.assertEqual(self.ok(self.convert(self.ini())),
                         {"image": "a/b:1", "command": ["python", "x.py"]})
        self.assertEqual(self.ok(self.convert(self.ini(), model="llama")),
                         {"script": "torchrun x.py"})

    def test_text_without_json_is_an_error(self):
        self.script({"text": "I cannot help with that."},
                    {"text": "{\"image\": \"a", "stop": "max_tokens"},
                    {"text": "{\"answer\": 42}"})
        out = self.convert(self.ini())
        self.assertEqual(out["rc"], S2R_EINVAL)
        self.assertIn("no JSON object", out["message"])
        self.assertIn("I cannot help", out["message"])
        out = self.convert(self.ini())
        self.assertIn("cut at max_tokens", out["message"])
        out = self.convert(self.ini())
        self.assertEqual(out["rc"], S2R_EINVAL)
        self.assertIn("none of image", out["message"])

    def test_without_a_core_prompt_the_rules_result_is_sent(self):
        self.ok(self.convert(self.ini(), prompt=None))
        (r,) = self.all_verified(1)
        text = json.loads(r["body"])["messages"][0]["content"][0]["text"]
        self.assertIn("Review this Run:ai workload", text)
        self.assertIn("ubuntu:22.04", text)
        self.assertIn("#SBATCH --gres=gpu:2", text)

    # ---- retries --------------------------------------------------------
    def test_throttling_is_retried_then_succeeds(self):
        self.script({"error": "ThrottlingException"},
                    {"error": "ThrottlingException"}, {})
        self.ok(self.convert(self.ini()))
        log = self.all_verified(3)
        dates = {r["headers"]["x-amz-date"] for r in log}
        self.assertTrue(dates)  # every attempt is signed afresh

    def test_503_and_model_not_ready_are_retried(self):
        self.script({"error": "ServiceUnavailableException"},
                    {"error": "ModelNotReadyException"}, {})
        self.ok(self.convert(self.ini()))
        self.all_verified(3)
        self.peer.reset()
        self.script({"status": 503, "body": "<html>busy</html>"}, {})
        self.ok(self.convert(self.ini()))
        self.all_verified(2)

    def test_throttling_gives_up_after_retries(self):
        self.script(*[{"error": "ThrottlingException"}] * 5)
        out = self.convert(self.ini())
        self.assertEqual(out["rc"], S2R_EUPSTREAM)
        self.assertEqual(out["http_status"], 429)
        self.assertIn("ThrottlingException after 4 attempts", out["message"])
        self.all_verified(4)
        # retries = 0: one attempt only
        path = self.ini(name="r0.ini")
        with open(path) as f:
            text = f.read().replace("retries = 3", "retries = 0")
        with open(path, "w") as f:
            f.write(text)
        self.peer.reset()
        self.script({"error": "ThrottlingException"}, {})
        out = self.convert(path)
        self.assertEqual(out["rc"], S2R_EUPSTREAM)
        self.assertIn("after 1 attempt:", out["message"])
        self.all_verified(1)

    def test_other_errors_are_not_retried(self):
        for etype in ("InternalServerException", "ValidationException",
                      "ModelErrorException", "AccessDeniedException"):
            self.peer.reset()
            self.script({"error": etype}, {})
            out = self.convert(self.ini())
            self.assertEqual(out["rc"], S2R_EUPSTREAM, etype)
            self.all_verified(1)

    # ---- error messages -------------------------------------------------
    def test_access_denied_names_the_permission_and_resource(self):
        self.script({"error": "AccessDeniedException"})
        out = self.convert(self.ini())
        self.assertEqual(out["http_status"], 403)
        self.assertIn("bedrock:InvokeModel", out["message"])
        self.assertIn("arn:aws:bedrock:us-east-1::foundation-model/" + SONNET,
                      out["message"])
        self.script({"error": "AccessDeniedException"})
        out = self.convert(self.ini(), model="profile")
        self.assertIn("arn:aws:bedrock:us-east-1:<account>:inference-profile/"
                      + PROFILE, out["message"])
        self.assertIn("bedrock:InvokeModel", out["message"])

    def test_every_bedrock_error_type_has_a_clear_message(self):
        cases = [
            ("ValidationException", S2R_EUPSTREAM, 400,
             "ValidationException (InvokeModel on " + SONNET),
            ("OnDemandValidationException", S2R_EUPSTREAM, 400,
             "use an inference-profile id such as us." + SONNET),
            ("ResourceNotFoundException", S2R_EUNSUPPORTED, 404,
             "no model or inference profile '%s' in us-east-1" % SONNET),
            ("ServiceQuotaExceededException", S2R_EUPSTREAM, 400,
             "service quota"),
            ("ModelTimeoutException", S2R_ETIMEOUT, 408, "took too long"),
            ("ModelErrorException", S2R_EUPSTREAM, 424,
             "ModelErrorException: model %s failed" % SONNET),
            ("InternalServerException", S2R_EUPSTREAM, 500,
             "InternalServerException"),
            ("UnrecognizedClientException", S2R_EUPSTREAM, 403,
             "does not know this access key"),
            ("ExpiredTokenException", S2R_EUPSTREAM, 403,
             "session token has expired"),
            ("InvalidSignatureException", S2R_EUPSTREAM, 403,
             "signature was refused"),
        ]
        for etype, rc, status, frag in cases:
            self.script({"error": etype})
            out = self.convert(self.ini())
            self.assertEqual(out["rc"], rc, etype)
            self.assertEqual(out["http_status"], status, etype)
            self.assertIn(frag, out["message"], etype)
            self.assertLess(len(out["message"]), 256)
        self.script(*[{"error": "ModelNotReadyException"}] * 4)
        out = self.convert(self.ini())
        self.assertIn("ModelNotReadyException after 4 attempts",
                      out["message"])
        self.script(*[{"error": "ServiceUnavailableException"}] * 4)
        out = self.convert(self.ini())
        self.assertIn("ServiceUnavailableException after 4 attempts",
                      out["message"])
        self.script({"status": 418, "body": "{\"message\": \"teapot\"}"})
        out = self.convert(self.ini())
        self.assertIn("HTTP 418", out["message"])
        self.assertIn("teapot", out["message"])

    # ---- credentials and signatures -------------------------------------
    def test_wrong_secret_is_refused_by_the_signature_check(self):
        out = self.convert(self.ini(), env=self.env(TEST_SK="not-the-key"))
        self.assertEqual(out["rc"], S2R_EUPSTREAM)
        self.assertIn("InvalidSignatureException", out["message"])
        (r,) = self.peer.requests()
        self.assertFalse(r["verified"])
        self.assertNotIn("not-the-key", out["message"])

    def test_unknown_key_and_missing_token(self):
        out = self.convert(self.ini(), env=self.env(TEST_AK="AKIDUNKNOWN"))
        self.assertIn("UnrecognizedClientException", out["message"])
        out = self.convert(self.ini(), env=self.env(TEST_TOKEN="stale"))
        self.assertIn("UnrecognizedClientException", out["message"])

    def test_credentials_from_the_environment(self):
        env = self.env(AWS_ACCESS_KEY_ID=AK, AWS_SECRET_ACCESS_KEY=SK,
                       AWS_SESSION_TOKEN=TOKEN)
        self.ok(self.convert(self.ini(keys=False), env=env))
        self.all_verified(1)

    def test_credentials_from_the_shared_file_with_a_profile(self):
        cred = os.path.join(self.tmp.name, "credentials")
        with open(cred, "w") as f:
            f.write("[default]\naws_access_key_id = AKIDWRONG\n"
                    "aws_secret_access_key = wrong\n"
                    "[s2r]\naws_access_key_id = AKIDLONGTERM\n"
                    "aws_secret_access_key = lt\n")
        env = self.env(AWS_SHARED_CREDENTIALS_FILE=cred, AWS_PROFILE="s2r")
        self.ok(self.convert(self.ini(keys=False), env=env))
        (r,) = self.all_verified(1)
        self.assertNotIn("x-amz-security-token", r["headers"])

    def test_no_credentials_says_where_it_looked(self):
        out = self.convert(self.ini(keys=False))
        self.assertEqual(out["rc"], S2R_ENOTFOUND)
        self.assertIn("AWS_ACCESS_KEY_ID", out["message"])
        self.assertEqual(self.peer.requests(), [])

    # ---- transport ------------------------------------------------------
    def test_deadline_gives_a_timeout(self):
        self.script({"delay_ms": 2000})
        out = self.convert(self.ini(), timeout_ms=400)
        self.assertEqual(out["rc"], S2R_ETIMEOUT)
        self.assertIn("no answer from Bedrock model", out["message"])

    def test_unreachable_endpoint(self):
        out = self.convert(self.ini(endpoint="http://127.0.0.1:1"))
        self.assertEqual(out["rc"], S2R_EUPSTREAM)
        self.assertIn("cannot reach Bedrock at http://127.0.0.1:1",
                      out["message"])

    # ---- configuration --------------------------------------------------
    def test_configuration_errors(self):
        path = os.path.join(self.tmp.name, "bad.ini")
        for text, frag in [
                ("model = m\n", "region"),
                ("region = us-east-1\nmodels = nope\n", "alias=model-id"),
                ("region = us-east-1\nmodels = a=x, a=y\n", "twice"),
                ("region = us-east-1\n", "model: set"),
                ("region = US East\nmodel = m\n", "not an AWS Region"),
                ("region = us-east-1\nmodel = m\naccess_key_id = env:TEST_AK"
                 "\n", "go together")]:
            with open(path, "w") as f:
                f.write("[provider.b]\nplugin = bedrock\n" + text)
            err = self.convert(path, expect_exit=2)
            self.assertIn(frag, err, text)

    def test_region_from_aws_region(self):
        path = os.path.join(self.tmp.name, "reg.ini")
        with open(path, "w") as f:
            f.write("[provider.b]\nplugin = bedrock\nmodel = %s\n"
                    "endpoint = http://127.0.0.1:%d/\n"
                    "access_key_id = env:TEST_AK\n"
                    "secret_access_key = env:TEST_SK\n"
                    "session_token = env:TEST_TOKEN\n" % (SONNET, self.port))
        self.ok(self.convert(path, env=self.env(AWS_REGION="us-east-1")))
        self.all_verified(1)

    # ---- end to end through s2r ----------------------------------------
    def test_s2r_converts_through_bedrock(self):
        job = os.path.join(self.tmp.name, "train.sbatch")
        with open(job, "w") as f:
            f.write("#!/bin/bash\n#SBATCH --job-name=train\n"
                    "#SBATCH --gres=gpu:2\npython train.py\n")
        ini = self.ini(core="[core]\nprovider = bedrock\n", name="e2e.ini")
        p = subprocess.run([ARGS.s2r, "--config", ini, "--format", "yaml",
                            job], capture_output=True, text=True, timeout=30,
                           env=self.env())
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("nvcr.io/nvidia/pytorch:24.10-py3", p.stdout)
        r = self.all_verified(1)[0]
        self.assertIn("#SBATCH --gres=gpu:2",
                      json.loads(r["body"])["messages"][0]["content"][0]
                      ["text"])
        # Bedrock refusing: the rules result, with a warning that says why
        self.peer.reset()
        self.script({"error": "AccessDeniedException"})
        p = subprocess.run([ARGS.s2r, "--config", ini, job],
                           capture_output=True, text=True, timeout=30,
                           env=self.env())
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("runai", p.stdout)
        self.assertIn("bedrock:InvokeModel", p.stderr)

    def test_core_answer_cache(self):
        job = os.path.join(self.tmp.name, "cached.sbatch")
        with open(job, "w") as f:
            f.write("#!/bin/bash\n#SBATCH --gres=gpu:1\npython c.py\n")
        cache = os.path.join(self.tmp.name, "llm.sqlite")
        ini = self.ini("cache = %s\n" % cache,
                       core="[core]\nprovider = bedrock\n", name="c.ini")
        outs = []
        for _ in range(2):
            p = subprocess.run([ARGS.s2r, "--config", ini, job],
                               capture_output=True, text=True, timeout=30,
                               env=self.env())
            self.assertEqual(p.returncode, 0, p.stderr)
            outs.append(p.stdout)
        self.assertEqual(outs[0], outs[1])
        self.assertIn("pytorch:24.10-py3", outs[1])
        self.all_verified(1)  # the second answer came from the cache


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--driver", required=True)
    ap.add_argument("--s2r", required=True)
    ap.add_argument("--plugin-dir", required=True)
    ARGS, rest = ap.parse_known_args()
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)


if __name__ == "__main__":
    main()
