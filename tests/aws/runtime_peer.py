#!/usr/bin/env python3
"""A local AWS Lambda Runtime API for tests and benchmarks (python3 stdlib
http.server on 127.0.0.1), speaking the 2018-06-01 custom-runtime protocol:

  GET  /2018-06-01/runtime/invocation/next    the next queued event, with
       Lambda-Runtime-Aws-Request-Id, Lambda-Runtime-Deadline-Ms,
       Lambda-Runtime-Invoked-Function-Arn, Lambda-Runtime-Trace-Id;
       blocks while the queue is empty
  POST /2018-06-01/runtime/invocation/{id}/response  202, recorded
  POST /2018-06-01/runtime/invocation/{id}/error     202, recorded (with
       the Lambda-Runtime-Function-Error-Type header)
  POST /2018-06-01/runtime/init/error                202, recorded
An unknown request id is answered 400 InvalidRequestID, as Lambda does.
It records when each /next call arrived (time.monotonic()), so a
benchmark can measure cold start as "process start to first /next".

Import: RuntimePeer().start() -> port; add_event(dict|bytes) -> id;
wait_done(n, timeout); results[id] = {"kind", "body", "headers"}.
"""
import itertools
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BASE = "/2018-06-01/runtime"
ARN = "arn:aws:lambda:us-east-1:123456789012:function:s2r"


class RuntimePeer:
    def __init__(self):
        self.cond = threading.Condition()
        self.queue = []
        self.pending = {}      # id -> event bytes, handed out, unanswered
        self.results = {}      # id -> {"kind", "body", "headers"}
        self.init_errors = []  # {"body", "headers"}
        self.next_times = []   # time.monotonic() of each /next
        self.handed = {}       # id -> time.monotonic() the event left
        self.answered = {}     # id -> time.monotonic() its answer came
        self.bad_calls = []    # protocol errors seen
        self.ids = itertools.count(1)
        self.stopping = False
        self.server = None

    def start(self):
        peer = self

        class Handler(RuntimeHandler):
            pass
        Handler.peer = peer
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self.server.server_address[1]

    def stop(self):
        with self.cond:
            self.stopping = True
            self.cond.notify_all()
        if self.server:
            self.server.shutdown()
            self.server.server_close()

    def add_event(self, event, request_id=None, deadline_ms=None):
        rid = request_id or "req-%04d" % next(self.ids)
        data = event if isinstance(event, bytes) else json.dumps(event).encode()
        with self.cond:
            self.queue.append((rid, data, deadline_ms))
            self.cond.notify_all()
        return rid

    def take(self):
        with self.cond:
            self.next_times.append(time.monotonic())
            while not self.queue and not self.stopping:
                self.cond.wait(0.5)
            if self.stopping and not self.queue:
                return None
            rid, data, deadline = self.queue.pop(0)
            self.pending[rid] = data
            self.handed[rid] = time.monotonic()
            return rid, data, deadline

    def answer(self, rid, kind, body, headers):
        with self.cond:
            if rid not in self.pending:
                return False
            del self.pending[rid]
            self.answered[rid] = time.monotonic()
            try:
                parsed = json.loads(body)
            except ValueError:
                parsed = body.decode("utf-8", "replace")
            self.results[rid] = {"kind": kind, "body": parsed,
                                 "headers": headers}
            self.cond.notify_all()
            return True

    def wait_done(self, n, timeout=30):
        end = time.monotonic() + timeout
        with self.cond:
            while len(self.results) + len(self.init_errors) < n:
                left = end - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(left)
            return True


class RuntimeHandler(BaseHTTPRequestHandler):
    peer = None
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # one reply, no 40 ms delayed-ACK stall

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, obj, headers=None):
        data = json.dumps(obj).encode() if not isinstance(obj, bytes) else obj
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path != BASE + "/invocation/next":
            self.peer.bad_calls.append("GET " + self.path)
            return self.reply(404, {"errorType": "NotFound"})
        got = self.peer.take()
        if got is None:
            self.close_connection = True
            return self.reply(500, {"errorType": "ShuttingDown",
                                    "errorMessage": "the peer stops"})
        rid, data, deadline = got
        if deadline is None:
            deadline = int(time.time() * 1000) + 30000
        self.reply(200, data, {
            "Lambda-Runtime-Aws-Request-Id": rid,
            "Lambda-Runtime-Deadline-Ms": str(deadline),
            "Lambda-Runtime-Invoked-Function-Arn": ARN,
            "Lambda-Runtime-Trace-Id":
                "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"})

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        if self.path == BASE + "/init/error":
            with self.peer.cond:
                self.peer.init_errors.append(
                    {"body": json.loads(body or b"{}"), "headers": headers})
                self.peer.cond.notify_all()
            return self.reply(202, {"status": "OK"})
        parts = self.path[len(BASE):].split("/")
        # ["", "invocation", id, "response"|"error"]
        if (len(parts) == 4 and parts[1] == "invocation" and
                parts[3] in ("response", "error")):
            if self.peer.answer(parts[2], parts[3], body, headers):
                return self.reply(202, {"status": "OK"})
            self.peer.bad_calls.append("POST " + self.path)
            return self.reply(400, {"errorType": "InvalidRequestID",
                                    "errorMessage": "Invalid request ID"})
        self.peer.bad_calls.append("POST " + self.path)
        self.reply(404, {"errorType": "NotFound"})
