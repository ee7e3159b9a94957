#!/usr/bin/env python3
"""test_robust.py: `s2r serve` under connection floods and on SIGTERM, and
`s2r check-config` on [server] and [lambda]. 127.0.0.1 only.

Regression tests for:
  - the lock-up once connections reached max_connections (libmicrohttpd
    0.9.75 hangs a worker when its own limit refuses a connection added
    with MHD_add_connection: the acceptor now keeps the limit itself);
  - SIGTERM never exiting, and the drain that reset answered requests;
  - check-config accepting what `s2r serve` / `s2r lambda` refuse.

Every wait is bounded; the only timing assertions are generous "it does
not hang" bounds. Python 3 standard library only.

    test_robust.py --bin build/s2r
"""
import argparse
import http.server
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback

ARGS = None
WORK = None
RUNAI = '[runai]\ndefault_image = nvcr.io/nvidia/pytorch:24.05-py3\n'
SCRIPT = b'#!/bin/bash\n#SBATCH --nodes=1\n#SBATCH --gres=gpu:1\nsrun python train.py\n'
STARTED = []  # every server process, killed at the end if still running


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


class Server:
    """One `s2r serve` on an ephemeral port (auth = none)."""

    def __init__(self, name, server_keys, extra=''):
        self.name = name
        self.ini = os.path.join(WORK, name + '.ini')
        with open(self.ini, 'w') as f:
            f.write(RUNAI + '[server]\nlisten = 127.0.0.1:0\nauth = none\n'
                    + server_keys + extra)
        self.logpath = os.path.join(WORK, name + '.log')
        self.log = open(self.logpath, 'wb')
        self.proc = subprocess.Popen(
            [ARGS.bin, 'serve', '--config', self.ini],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=self.log)
        STARTED.append(self.proc)
        self.port = None
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not self.port:
            for line in self.lines():
                if line.get('event') == 'listening':
                    self.port = int(line['address'].rsplit(':', 1)[1])
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        if not self.port:
            self.kill()
            raise AssertionError('%s did not start: %s' % (name, self.text()))

    def text(self):
        with open(self.logpath, 'rb') as f:
            return f.read().decode('utf-8', 'replace')

    def lines(self):
        out = []
        for raw in self.text().splitlines():
            try:
                out.append(json.loads(raw))
            except ValueError:
                out.append({'unparsed': raw})
        return out

    def events(self, name):
        return [l for l in self.lines() if l.get('event') == name]

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        self.log.close()

    def sigterm(self, bound):
        """SIGTERM; (exit code, seconds) or an error past @p bound s."""
        t0 = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(bound)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError('%s still running %ds after SIGTERM'
                                 % (self.name, bound))
        self.log.close()
        return rc, time.monotonic() - t0


def http_get(port, path='/healthz', timeout=3):
    """(status, headers text, body) of a one-shot GET, or None."""
    try:
        s = socket.create_connection(('127.0.0.1', port), timeout=timeout)
    except OSError:
        return None
    try:
        s.sendall(('GET %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'
                   % path).encode())
        data = b''
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except OSError:
        return None
    finally:
        s.close()
    head, _, body = data.partition(b'\r\n\r\n')
    try:
        status = int(head.split(b' ', 2)[1])
    except (IndexError, ValueError):
        return None
    return status, head.decode('latin-1'), body


def healthy_within(port, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        r = http_get(port, timeout=2)
        if r and r[0] == 200:
            return True
        time.sleep(0.2)
    return False


def post(port, body, timeout=30, conn=None):
    """POST /?format=cli; (status, headers, body) or None on a socket
    error. With @p conn, on that open socket (keep-alive)."""
    s = conn
    try:
        if s is None:
            s = socket.create_connection(('127.0.0.1', port), timeout=timeout)
        s.sendall(b'POST /?format=cli HTTP/1.1\r\nHost: t\r\n'
                  b'Content-Type: text/plain\r\nContent-Length: %d\r\n\r\n'
                  % len(body) + body)
        return read_answer(s)
    except OSError:
        return None
    finally:
        if conn is None and s is not None:
            s.close()


def header_value(head, name):
    """The value of header @p name in the answer head @p head, or None."""
    for line in head.split('\r\n')[1:]:
        k, _, v = line.partition(':')
        if k.strip().lower() == name.lower():
            return v.strip()
    return None


def read_answer(s):
    """One HTTP answer with a Content-Length from socket @p s."""
    data = b''
    while b'\r\n\r\n' not in data:
        chunk = s.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b'\r\n\r\n')
    length = 0
    for line in head.split(b'\r\n')[1:]:
        k, _, v = line.partition(b':')
        if k.strip().lower() == b'content-length':
            length = int(v)
    while len(body) < length:
        chunk = s.recv(65536)
        if not chunk:
            return None
        body += chunk
    return int(head.split(b' ', 2)[1]), head.decode('latin-1'), body


# ------------------------------------------------ a slow upstream provider

class SlowUpstream:
    """An HTTP server that answers like `s2r serve` after @p delay s: the
    endpoint of a remote provider, to make conversions slow."""

    def __init__(self, delay):
        outer = self
        self.delay = delay
        self.calls = 0

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                n = int(self.headers.get('Content-Length', '0'))
                self.rfile.read(n)
                outer.calls += 1
                time.sleep(outer.delay)
                body = json.dumps({'runai_config': 'runai submit slow',
                                   'warnings': [], 'format': 'cli'}).encode()
                try:
                    self.send_response(200)
                    self.send_header('Content-Type', 'application/json')
                    self.send_header('Content-Length', str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), H)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       daemon=True)
        self.thread.start()

    def ini(self):
        return ('provider = slow\nrequest_timeout = 60s\n\n'
                '[provider.slow]\nplugin = remote\n'
                'endpoint = http://127.0.0.1:%d/\ntimeout = 60s\n'
                % self.port)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def run_threads(fns):
    results = [None] * len(fns)

    def one(i):
        results[i] = fns[i]()
    ts = [threading.Thread(target=one, args=(i,), daemon=True)
          for i in range(len(fns))]
    for t in ts:
        t.start()
    return ts, results


# ------------------------------------------------------------------ tests

LIMIT_KEYS = ('threads = 2\nmax_connections = 20\nconnection_timeout = 5s\n'
              'drain_timeout = 3s\n')


def no_mhd_limit(srv):
    """libmicrohttpd's own limit must never be reached (it hangs 0.9.75)."""
    check('Server reached connection limit' not in srv.text(),
          "libmicrohttpd's own connection limit was reached")


def test_half_open_burst_over_the_limit():
    srv = Server('burst', LIMIT_KEYS)
    try:
        for round_ in range(2):
            socks = []
            for i in range(60):
                try:
                    s = socket.create_connection(('127.0.0.1', srv.port),
                                                 timeout=3)
                    if i % 2 == 0:  # a partial request; the others: nothing
                        s.sendall(b'POST / HTTP/1.1\r\nHost: x\r\n'
                                  b'Content-Length: 100\r\n')
                    socks.append(s)
                except OSError:
                    pass
            time.sleep(0.3)
            for s in socks:
                s.close()
            check(healthy_within(srv.port, 10),
                  'no /healthz within 10 s after burst %d' % (round_ + 1))
        no_mhd_limit(srv)
        limit = srv.events('connection_limit')
        check(limit, 'no connection_limit log line')
        # counts are JSON numbers
        check(all(type(l.get('refused')) is int and l['refused'] > 0 and
                  l.get('max_connections') == 20 for l in limit),
              'connection_limit lines: %s' % limit)
        rc, _ = srv.sigterm(3 + 5)
        check(rc == 0, 'exit code %s' % rc)
    finally:
        srv.kill()


def test_over_the_limit_answer_is_json_503():
    srv = Server('limit503', LIMIT_KEYS)
    held = []
    try:
        for _ in range(20):
            held.append(socket.create_connection(('127.0.0.1', srv.port),
                                                 timeout=3))
        time.sleep(0.3)
        s = socket.create_connection(('127.0.0.1', srv.port), timeout=5)
        data = b''
        try:
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        finally:
            s.close()
        head, _, body = data.partition(b'\r\n\r\n')
        check(head.startswith(b'HTTP/1.1 503'), 'answer: %r' % data[:80])
        check(b'application/json' in head, 'not JSON: %r' % head)
        check('error' in json.loads(body), 'body: %r' % body)
        for h in held:
            h.close()
        held = []
        check(healthy_within(srv.port, 10), 'no /healthz after the limit')
        no_mhd_limit(srv)
    finally:
        for h in held:
            h.close()
        rc, _ = srv.sigterm(3 + 5)
        check(rc == 0, 'exit code %s' % rc)


def test_300_requests_100_at_a_time():
    srv = Server('flood', LIMIT_KEYS)
    try:
        statuses = {}
        for _ in range(3):
            ts, res = run_threads([lambda: post(srv.port, SCRIPT, timeout=15)
                                   for _ in range(100)])
            for t in ts:
                t.join(30)
            check(not any(t.is_alive() for t in ts), 'a request hung')
            for r in res:
                key = r[0] if r else 'error'
                statuses[key] = statuses.get(key, 0) + 1
        check(statuses.get(200, 0) > 0, 'no request served: %s' % statuses)
        check(set(statuses) <= {200, 503, 'error'}, 'statuses %s' % statuses)
        check(healthy_within(srv.port, 10), 'no /healthz after the flood')
        no_mhd_limit(srv)
        rc, _ = srv.sigterm(3 + 5)
        check(rc == 0, 'exit code %s' % rc)
        return 'statuses %s' % statuses
    finally:
        srv.kill()


def test_sigterm_idle_exits():
    srv = Server('idle', 'threads = 2\ndrain_timeout = 3s\n')
    idle = socket.create_connection(('127.0.0.1', srv.port), timeout=3)
    try:
        check(healthy_within(srv.port, 5), 'not healthy')
        rc, took = srv.sigterm(3 + 5)
        check(rc == 0, 'exit code %s' % rc)
        stopped = srv.events('stopped')
        check(stopped and stopped[0].get('abandoned_requests') == 0,
              'stopped line: %s' % stopped)
        return 'exited in %.1fs with an idle connection open' % took
    finally:
        idle.close()
        srv.kill()


def test_sigterm_drains_slow_requests():
    """Requests in flight at SIGTERM finish and are answered; a request
    that starts during the drain is answered 503 and the connection
    closed; the process exits 0."""
    up = SlowUpstream(1.5)
    srv = Server('drain', 'threads = 3\ndrain_timeout = 8s\n' + up.ini())
    keep = None
    try:
        # a keep-alive connection, on the first worker (a POST answered
        # without the provider)
        keep = socket.create_connection(('127.0.0.1', srv.port), timeout=10)
        keep.sendall(b'POST /nowhere HTTP/1.1\r\nHost: t\r\n'
                     b'Content-Length: 2\r\n\r\nhi')
        first = read_answer(keep)
        check(first and first[0] == 404 and 'close' not in first[1].lower(),
              'first answer: %s' % (first,))
        # two slow conversions, on the other two workers
        ts, res = run_threads([lambda: post(srv.port, SCRIPT, timeout=20)
                               for _ in range(2)])
        deadline = time.monotonic() + 5
        while up.calls < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        check(up.calls == 2, 'the slow provider got %d calls' % up.calls)
        srv.proc.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        keep.sendall(b'GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n')
        late = read_answer(keep)
        check(late and late[0] == 503, 'request during the drain: %s'
              % (late,))
        check('close' in late[1].lower(), 'no Connection: close: %s' % late[1])
        late_id = header_value(late[1], 'X-Request-Id')
        check(late_id, 'no X-Request-Id: %s' % late[1])
        for t in ts:
            t.join(20)
        check([r and r[0] for r in res] == [200, 200],
              'slow requests: %s' % res)
        try:
            rc = srv.proc.wait(8 + 5)
        except subprocess.TimeoutExpired:
            raise AssertionError('still running after drain_timeout + 5 s')
        check(rc == 0, 'exit code %s' % rc)
        stopped = srv.events('stopped')
        check(stopped and stopped[0].get('abandoned_requests') == 0,
              'stopped line: %s' % stopped)
        logged = [l for l in srv.events('request') if l.get('status') == 200
                  and l.get('method') == 'POST']
        check(len(logged) == 2, '%d POSTs logged 200' % len(logged))
        logged = [l for l in srv.events('request') if l.get('id') == late_id]
        check(len(logged) == 1 and logged[0]['status'] == 503 and
              logged[0]['method'] == 'GET' and
              logged[0]['path'] == '/healthz' and
              logged[0]['error'] == 'the server is shutting down',
              'the 503 during the drain logged as: %s' % logged)
    finally:
        if keep:
            keep.close()
        srv.kill()
        up.close()


def test_sigterm_past_drain_timeout():
    """Conversions slower than drain_timeout: the process still exits 0
    within drain_timeout + 5 s, and the log claims no answer it did not
    send."""
    up = SlowUpstream(12)
    srv = Server('late', 'threads = 2\ndrain_timeout = 3s\n' + up.ini())
    try:
        ts, res = run_threads([lambda: post(srv.port, SCRIPT, timeout=20)
                               for _ in range(3)])
        deadline = time.monotonic() + 5
        while up.calls < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        check(up.calls >= 2, 'the slow provider got %d calls' % up.calls)
        rc, took = srv.sigterm(3 + 5)
        check(rc == 0, 'exit code %s' % rc)
        for t in ts:
            t.join(10)
        got200 = sum(1 for r in res if r and r[0] == 200)
        logged200 = sum(1 for l in srv.events('request')
                        if l.get('status') == 200)
        check(logged200 == got200, 'log claims %d answers, clients got %d'
              % (logged200, got200))
        stopped = srv.events('stopped')
        check(stopped and stopped[0].get('abandoned_requests') >= 2,
              'stopped line: %s' % stopped)
        return 'exited in %.1fs; %s abandoned' % (
            took, stopped[0].get('abandoned_requests'))
    finally:
        srv.kill()
        up.close()


def s2r(*argv):
    p = subprocess.run([ARGS.bin] + list(argv), stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=30)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def test_check_config_validates_server_and_lambda():
    bad = os.path.join(WORK, 'bad.ini')
    with open(bad, 'w') as f:
        f.write(RUNAI + '[server]\n'
                'listen = 127.0.0.1:99999\n'   # line 4
                'threads = -3\n'               # line 5
                'max_body = 12Q\n'             # line 6
                'bogus = 2\n'                  # line 7
                'auth = none\n'
                '\n[lambda]\n'
                'bogus = 1\n'                  # line 11
                'request_timeout = xyz\n')     # line 12
    rc, out, err = s2r('check-config', '--config', bad)
    check(rc == 1, 'check-config exit %d: %s' % (rc, out))
    for where in ('bad.ini:4: error: [server] listen',
                  'bad.ini:5: error: [server] threads',
                  'bad.ini:6: error: [server] max_body',
                  'bad.ini:7: error: [server] bogus',
                  'bad.ini:11: error: [lambda] bogus',
                  'bad.ini:12: error: [lambda] request_timeout'):
        check(where in err, 'missing %r in:\n%s' % (where, err))
    check(err.count('[server] bogus') == 1, 'bogus reported twice:\n' + err)
    # serve refuses the same file, naming the INI key, not --listen
    rc, _, err = s2r('serve', '--config', bad)
    check(rc != 0 and 'bad.ini:4: error: [server] listen' in err
          and '--listen' not in err, 'serve: %s' % err)
    # a good file passes
    good = os.path.join(WORK, 'good.ini')
    with open(good, 'w') as f:
        f.write(RUNAI + '[server]\nlisten = 127.0.0.1:8080\nthreads = 2\n'
                'max_body = 64K\nauth = none\ndrain_timeout = 5s\n'
                '\n[lambda]\nauth = none\nrequest_timeout = 30s\n')
    rc, out, err = s2r('check-config', '--config', good)
    check(rc == 0 and 'OK' in out, 'good file: %d %s %s' % (rc, out, err))
    # --listen on the command line is named as such
    rc, _, err = s2r('serve', '--config', good, '--listen', '127.0.0.1:70000')
    check(rc != 0 and '--listen' in err, 'serve --listen: %s' % err)


def main():
    global ARGS, WORK
    ap = argparse.ArgumentParser()
    ap.add_argument('--bin', required=True)
    ARGS = ap.parse_args()
    WORK = tempfile.mkdtemp(prefix='serve-robust-')
    tests = [test_check_config_validates_server_and_lambda,
             test_half_open_burst_over_the_limit,
             test_over_the_limit_answer_is_json_503,
             test_300_requests_100_at_a_time,
             test_sigterm_idle_exits,
             test_sigterm_drains_slow_requests,
             test_sigterm_past_drain_timeout]
    passed = failed = 0
    try:
        for t in tests:
            t0 = time.monotonic()
            try:
                note = t()
                passed += 1
                print('ok    %s (%.2fs)%s' % (t.__name__,
                                             time.monotonic() - t0,
                                             ': ' + note if note else ''))
            except Exception:  # noqa: BLE001 - every failure is reported
                failed += 1
                print('FAIL  %s' % t.__name__)
                traceback.print_exc(file=sys.stdout)
    finally:
        for p in STARTED:
            if p.poll() is None:
                p.kill()
                p.wait(5)
        if failed == 0 and not os.environ.get('S2R_E2E_KEEP'):
            shutil.rmtree(WORK, ignore_errors=True)
        else:
            print('work directory kept: ' + WORK)
    print('%d passed, %d failed' % (passed, failed))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
