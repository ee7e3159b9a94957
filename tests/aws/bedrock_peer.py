#!/usr/bin/env python3
"""A local Amazon Bedrock runtime for tests (python3 stdlib http.server on
127.0.0.1, and botocore only to check signatures).

Every model request must carry a SigV4 signature that botocore's SigV4Auth,
computed independently here from the raw request, agrees with; otherwise
the peer answers like AWS: 403 InvalidSignatureException,
UnrecognizedClientException (unknown key or token), or "Signature expired".
Then it answers like Bedrock:
  POST /model/{modelId}/invoke    InvokeModel; Anthropic models must send
                                  the Messages body with anthropic_version
                                  "bedrock-2023-05-31"
  POST /model/{modelId}/converse  Converse
with the model text given by the script below (default: a small JSON
proposal), or a Bedrock error: HTTP status, header
`x-amzn-ErrorType: <Type>:http://internal.amazon.com/coral/com.amazon.bedrock/`
and body {"message": "..."}.

Control (not signed, tests only):
  POST /__peer/script   JSON list of actions used one per model request:
                        {"text": "..."} | {"error": "ThrottlingException"}
                        | {"status": 500, "body": "...", "headers": {}}
                        | {"delay_ms": 300, ...}   (then the action)
  GET  /__peer/log      the requests seen: method, path, model, api,
                        verified, error, headers, body
  POST /__peer/reset    forget the script and the log

Run alone:  bedrock_peer.py --port-file F --key AK:SK[:TOKEN] [--region R]
or import:  BedrockPeer(keys={...}, region=...).start() -> port
"""
import argparse
import datetime
import hashlib
import json
import os
import re
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

NS = "http://internal.amazon.com/coral/com.amazon.bedrock/"
DEFAULT_TEXT = json.dumps({
    "image": "nvcr.io/nvidia/pytorch:24.10-py3",
    "notes": ["checked by the local Bedrock peer"],
})

ERRORS = {
    "AccessDeniedException": (
        403, "User: arn:aws:sts::123456789012:assumed-role/s2r/s2r is not "
             "authorized to perform: bedrock:InvokeModel on resource: "
             "arn:aws:bedrock:{region}::foundation-model/{model} because no "
             "identity-based policy allows the bedrock:InvokeModel action"),
    "ValidationException": (400, "Malformed input request, please reformat "
                                 "your input and try again."),
    "OnDemandValidationException": (
        400, "Invocation of model ID {model} with on-demand throughput isn't "
             "supported. Retry your request with the ID or ARN of an "
             "inference profile that contains this model."),
    "ResourceNotFoundException": (404, "Could not resolve the foundation "
                                       "model from the provided model "
                                       "identifier."),
    "ThrottlingException": (429, "Too many requests, please wait before "
                                 "trying again."),
    "ModelNotReadyException": (429, "Model is not ready for inference. Wait "
                                    "and try your request again."),
    "ServiceQuotaExceededException": (400, "Your request exceeds the service "
                                           "quota for your account."),
    "ModelTimeoutException": (408, "Model has timed out in processing the "
                                   "request."),
    "ModelErrorException": (424, "The model returned an error."),
    "InternalServerException": (500, "Internal server error"),
    "ServiceUnavailableException": (503, "Bedrock is unable to process your "
                                         "request."),
    "UnrecognizedClientException": (403, "The security token included in "
                                         "the request is invalid."),
    "InvalidSignatureException": (
        403, "The request signature we calculated does not match the "
             "signature you provided. Check your AWS Secret Access Key and "
             "signing method. Consult the service documentation for "
             "details."),
    "ExpiredTokenException": (403, "The security token included in the "
                                   "request is expired"),
}

AUTH_RE = re.compile(r"^AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/"
                     r"([^/]+)/aws4_request, SignedHeaders=([a-z0-9;-]+), "
                     r"Signature=([0-9a-f]{64})$")


class BedrockPeer:
    def __init__(self, keys, region="us-east-1", text=DEFAULT_TEXT,
                 max_skew_s=300):
        self.keys = keys  # access key id -> (secret, token or None)
        self.region = region
        self.text = text
        self.max_skew_s = max_skew_s
        self.lock = threading.Lock()
        self.script = []
        self.log = []
        self.server = None

    # ---- control ------------------------------------------------------
    def start(self):
        peer = self

        class Handler(PeerHandler):
            pass
        Handler.peer = peer
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        t = threading.Thread(target=self.server.serve_forever, daemon=True)
        t.start()
        return self.server.server_address[1]

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()

    def set_script(self, actions):
        with self.lock:
            self.script = list(actions)

    def reset(self):
        with self.lock:
            self.script = []
            self.log = []

    def requests(self):
        with self.lock:
            return list(self.log)

    def next_action(self):
        with self.lock:
            return self.script.pop(0) if self.script else {}

    # ---- SigV4 check --------------------------------------------------
    def verify(self, method, raw_path, headers, body):
        """None when the signature is good, else (ErrorType, message)."""
        auth = headers.get("authorization")
        if not auth:
            return ("MissingAuthenticationTokenException",
                    "Missing Authentication Token")
        m = AUTH_RE.match(auth)
        if not m:
            return ("IncompleteSignatureException",
                    "Authorization header requires 'Credential', "
                    "'SignedHeaders' and 'Signature'.")
        ak, date8, region, service, signed, sig = m.groups()
        if ak not in self.keys:
            return ("UnrecognizedClientException",
                    ERRORS["UnrecognizedClientException"][1])
        secret, token = self.keys[ak]
        if token is not None and headers.get("x-amz-security-token") != token:
            return ("UnrecognizedClientException",
                    ERRORS["UnrecognizedClientException"][1])
        if region != self.region or service != "bedrock":
            return ("InvalidSignatureException",
                    "Credential should be scoped to a valid region and "
                    "service 'bedrock'.")
        amz_date = headers.get("x-amz-date", "")
        if not amz_date.startswith(date8):
            return ("InvalidSignatureException",
                    "Date in Credential scope does not match YYYYMMDD from "
                    "ISO-8601 version of date from HTTP.")
        try:
            t = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ")
            t = t.replace(tzinfo=datetime.timezone.utc).timestamp()
        except ValueError:
            return ("IncompleteSignatureException", "Bad X-Amz-Date")
        if abs(time.time() - t) > self.max_skew_s:
            return ("InvalidSignatureException",
                    "Signature expired: %s is now earlier than the allowed "
                    "skew." % amz_date)
        names = signed.split(";")
        if "host" not in names or "x-amz-date" not in names:
            return ("InvalidSignatureException",
                    "'Host' and 'X-Amz-Date' must be signed.")
        if token is not None and "x-amz-security-token" not in names:
            return ("InvalidSignatureException",
                    "X-Amz-Security-Token must be signed.")
        cs = headers.get("x-amz-content-sha256")
        if cs is not None and cs != hashlib.sha256(body).hexdigest():
            return ("InvalidSignatureException",
                    "The provided 'x-amz-content-sha256' header does not "
                    "match what was computed.")
        # botocore recomputes the signature over exactly the signed headers
        req_headers = {}
        for n in names:
            if n not in headers:
                return ("InvalidSignatureException",
                        "Signed header %s is missing." % n)
            req_headers[n] = headers[n]
        url = "http://%s%s" % (headers["host"], raw_path)
        req = AWSRequest(method=method, url=url, data=body,
                         headers=req_headers)
        req.context["timestamp"] = amz_date
        signer = botocore.auth.SigV4Auth(Credentials(ak, secret, token),
                                         "bedrock", region)
        cr = signer.canonical_request(req)
        sts = signer.string_to_sign(req, cr)
        want = signer.signature(sts, req)
        if want != sig:
            return ("InvalidSignatureException",
                    ERRORS["InvalidSignatureException"][1])
        return None


def check_body(api, model, body):
    """None when Bedrock would take the body, else a validation message."""
    try:
        o = json.loads(body)
    except ValueError:
        return "Malformed input request: the body is not JSON"
    if not isinstance(o, dict):
        return "Malformed input request: not an object"
    msgs = o.get("messages")
    if not isinstance(msgs, list) or not msgs:
        return "Malformed input request: #: required key [messages] not found"
    if api == "invoke":
        if "anthropic." not in model:
            return None  # other model families have their own bodies
        if o.get("anthropic_version") != "bedrock-2023-05-31":
            return ("Malformed input request: #: required key "
                    "[anthropic_version] not found or wrong")
        if not isinstance(o.get("max_tokens"), int):
            return ("Malformed input request: #: required key [max_tokens] "
                    "not found")
        for m in msgs:
            if m.get("role") not in ("user", "assistant"):
                return "Malformed input request: bad role"
            for c in m.get("content", []):
                if c.get("type") != "text" or not isinstance(c.get("text"),
                                                             str):
                    return "Malformed input request: bad content block"
        if "system" in o and not isinstance(o["system"], str):
            return "Malformed input request: system must be a string"
    else:
        for m in msgs:
            if m.get("role") not in ("user", "assistant"):
                return "1 validation error detected: messages.role"
            for c in m.get("content", []):
                if not isinstance(c.get("text"), str):
                    return "1 validation error detected: content.text"
        ic = o.get("inferenceConfig", {})
        if "maxTokens" in ic and not isinstance(ic["maxTokens"], int):
            return "1 validation error detected: inferenceConfig.maxTokens"
    return None


class PeerHandler(BaseHTTPRequestHandler):
    peer = None
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # one reply, no 40 ms delayed-ACK stall

    def log_message(self, fmt, *args):  # quiet
        pass

    def reply(self, status, body, headers=None):
        data = body if isinstance(body, bytes) else body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", "00000000-peer-0000-0000-000000000000")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def error(self, etype, message, status=None):
        st = status or ERRORS.get(etype, (400, ""))[0]
        self.reply(st, json.dumps({"message": message}),
                   {"x-amzn-ErrorType": "%s:%s" % (etype, NS)})

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def do_GET(self):
        if self.path == "/__peer/log":
            self.reply(200, json.dumps(self.peer.requests()))
        else:
            self.error("UnknownOperationException", "Unknown operation", 404)

    def do_POST(self):
        body = self.read_body()
        p = self.peer
        if self.path == "/__peer/script":
            p.set_script(json.loads(body or b"[]"))
            return self.reply(200, "{}")
        if self.path == "/__peer/reset":
            p.reset()
            return self.reply(200, "{}")
        raw_path = self.path
        path = raw_path.split("?", 1)[0]
        headers = {k.lower(): v for k, v in self.headers.items()}
        m = re.match(r"^/model/([^/]+)/(invoke|converse)$", path)
        entry = {"method": "POST", "path": raw_path, "headers": headers,
                 "body": body.decode("utf-8", "replace"), "verified": False,
                 "model": None, "api": None, "error": None}
        with p.lock:
            p.log.append(entry)
        bad = p.verify("POST", raw_path, headers, body)
        if bad:
            entry["error"] = bad[0]
            return self.error(bad[0], bad[1])
        entry["verified"] = True
        if not m:
            entry["error"] = "UnknownOperationException"
            return self.error("UnknownOperationException",
                              "Unknown operation", 404)
        model = urllib.parse.unquote(m.group(1))
        api = m.group(2)
        entry["model"], entry["api"] = model, api
        if not headers.get("content-type", "").startswith("application/json"):
            entry["error"] = "ValidationException"
            return self.error("ValidationException",
                              "Content-Type must be application/json")
        why = check_body(api, model, body)
        if why:
            entry["error"] = "ValidationException"
            return self.error("ValidationException", why)
        act = p.next_action()
        if act.get("delay_ms"):
            time.sleep(act["delay_ms"] / 1000.0)
        if "error" in act:
            etype = act["error"]
            status, msg = ERRORS[etype]
            if etype == "OnDemandValidationException":
                etype = "ValidationException"
            entry["error"] = etype
            return self.error(etype, msg.format(region=p.region, model=model),
                              status)
        if "status" in act:
            entry["error"] = "raw %d" % act["status"]
            return self.reply(act["status"], act.get("body", ""),
                              act.get("headers"))
        text = act.get("text", p.text)
        if api == "invoke":
            out = {"id": "msg_bdrk_peer", "type": "message",
                   "role": "assistant", "model": model,
                   "content": [{"type": "text", "text": text}],
                   "stop_reason": act.get("stop", "end_turn"),
                   "stop_sequence": None,
                   "usage": {"input_tokens": len(body) // 4,
                             "output_tokens": len(text) // 4}}
        else:
            out = {"output": {"message": {"role": "assistant",
                                          "content": [{"text": text}]}},
                   "stopReason": act.get("stop", "end_turn"),
                   "usage": {"inputTokens": len(body) // 4,
                             "outputTokens": len(text) // 4,
                             "totalTokens": (len(body) + len(text)) // 4},
                   "metrics": {"latencyMs": 1}}
        self.reply(200, json.dumps(out))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--key", action="append", required=True,
                    help="AK:SK or AK:SK:TOKEN")
    ap.add_argument("--region", default="us-east-1")
    ap.add_argument("--text", default=DEFAULT_TEXT)
    ap.add_argument("--max-seconds", type=float, default=300,
                    help="exit after this long (tests stay bounded)")
    a = ap.parse_args()
    keys = {}
    for k in a.key:
        parts = k.split(":", 2)
        keys[parts[0]] = (parts[1], parts[2] if len(parts) > 2 else None)
    peer = BedrockPeer(keys, a.region, a.text)
    port = peer.start()
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(port))
    os.rename(tmp, a.port_file)
    try:
        time.sleep(a.max_seconds)
    except KeyboardInterrupt:
        pass
    peer.stop()


if __name__ == "__main__":
    sys.exit(main())
