#!/usr/bin/env python3
"""test_e2e.py: `s2r serve` and its client end to end on 127.0.0.1.

Real components only: the s2r binary as server (auth-hmac and
ratelimit-sqlite from the build's plugin directory) and as client (the
remote provider), signatures made with Python's hmac, requests sent with
http.client or raw sockets. Python 3 standard library only. Every wait is
bounded; nothing asserts on timing.

    test_e2e.py --bin build/s2r --script examples/train-resnet.sbatch

Environment: S2R_PLUGIN_PATH (the build's plugin directory).
"""
import argparse
import hashlib
import hmac
import http.client
import http.server
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback

SECRET = 'e2e-' + secrets.token_hex(12)
MARKER = 'E2E_SCRIPT_MARKER_' + secrets.token_hex(4)
RUNAI = '[runai]\ndefault_image = nvcr.io/nvidia/pytorch:24.05-py3\n'

NONAME = ('#!/bin/bash\n'
          '#SBATCH --nodes=2\n'
          '#SBATCH --ntasks-per-node=1\n'
          '#SBATCH --gres=gpu:4\n'
          '#SBATCH --cpus-per-task=16\n'
          '#SBATCH --time=01:00:00\n'
          'srun torchrun --nnodes=2 --nproc_per_node=4 train.py --tag '
          + MARKER + '\n')

ARGS = None
WORK = None
SIGNATURES_SENT = []   # every signature we made: none may reach a log
LOGS = []              # every server log file


# ---------------------------------------------------------------- helpers

def sign(body, ts=None, secret=SECRET):
    if ts is None:
        ts = '%.6f' % time.time()
    sig = hmac.new(secret.encode(), ts.encode() + b':' + body,
                   hashlib.sha256).hexdigest()
    SIGNATURES_SENT.append(sig)
    return {'X-S2R-Timestamp': ts, 'X-S2R-Signature': sig}


class Server:
    """One `s2r serve` process on an ephemeral port."""

    def __init__(self, name, ini_body):
        self.name = name
        self.ini = os.path.join(WORK, name + '.ini')
        with open(self.ini, 'w') as f:
            f.write(RUNAI + '[server]\nthreads = 2\n' + ini_body)
        self.logpath = os.path.join(WORK, name + '.log')
        LOGS.append(self.logpath)
        self.log = open(self.logpath, 'wb')
        self.proc = subprocess.Popen(
            [ARGS.bin, 'serve', '--config', self.ini,
             '--listen', '127.0.0.1:0'],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=self.log, env=env())
        self.port = None
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            for line in self.lines():
                if line.get('event') == 'listening':
                    self.port = int(line['address'].rsplit(':', 1)[1])
            if self.port or self.proc.poll() is not None:
                break
            time.sleep(0.05)
        if not self.port:
            self.proc.kill()
            self.proc.wait(5)
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

    def url(self):
        return 'http://127.0.0.1:%d/' % self.port

    def stop(self):
        """SIGTERM; returns the exit code (bounded wait)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
                raise AssertionError('%s ignored SIGTERM' % self.name)
        self.log.close()
        return self.proc.returncode


def env(**extra):
    e = dict(os.environ)
    e['S2R_E2E_SECRET'] = SECRET
    e.pop('S2R_API_ENDPOINT', None)
    e.pop('S2R_SHARED_SECRET', None)
    e.update(extra)
    return e


def request(port, body, headers=None, method='POST', path='/', timeout=20):
    """(status, headers dict lower-case, parsed JSON or raw text)."""
    c = http.client.HTTPConnection('127.0.0.1', port, timeout=timeout)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        hdrs = {k.lower(): v for k, v in r.getheaders()}
    finally:
        c.close()
    try:
        return r.status, hdrs, json.loads(data)
    except ValueError:
        return r.status, hdrs, data


def signed_post(port, body, path='/', **kw):
    h = sign(body)
    h['Content-Type'] = 'text/plain'
    return request(port, body, h, path=path, **kw)


def s2r(*argv, stdin=None, extra_env=None):
    """Run the s2r client; (rc, stdout, stderr)."""
    p = subprocess.run([ARGS.bin] + list(argv), input=stdin,
                       capture_output=True, timeout=60,
                       env=env(**(extra_env or {})))
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def write(name, text):
    path = os.path.join(WORK, name)
    with open(path, 'w') as f:
        f.write(text)
    return path


def client_ini(name, endpoint, secret_line='secret = env:S2R_E2E_SECRET\n'):
    return write(name, '[core]\nprovider = server\n'
                 '[provider.server]\nplugin = remote\nendpoint = %s\n%s'
                 'timeout = 30s\n' % (endpoint, secret_line))


def auth_rl(db, limit):
    return ('[auth.hmac]\nplugin = auth-hmac\nsecret = env:S2R_E2E_SECRET\n'
            '[ratelimit.daily]\nplugin = ratelimit-sqlite\npath = %s\n'
            'limit = %d\n' % (os.path.join(WORK, db), limit))


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


# ------------------------------------------------------------------ tests

INTERIM = {'glue': None}


def interim_glue(srv):
    """True while the CLI still uses the interim provider glue of
    apps/cmd_plugins.c (no S2R_API_ENDPOINT mode)."""
    if INTERIM['glue'] is None:
        rc, out, err = s2r(ARGS.script, extra_env={
            'S2R_API_ENDPOINT': srv.url(),
            'S2R_SHARED_SECRET': SECRET})
        INTERIM['glue'] = 'needs --config' in err
    return INTERIM['glue']


def test_client_output_equals_local_conversion(srv):
    site = write('site.ini', RUNAI)
    cini = client_ini('client.ini', srv.url())
    noname = write('noname.sbatch', NONAME)
    for script in (ARGS.script, noname):
        for fmt in ('cli', 'yaml', 'json'):
            rc, remote, err = s2r('--config', cini, '--format', fmt, script)
            check(rc == 0, 'client failed (%s %s): %s' % (script, fmt, err))
            rc, local, _ = s2r('--config', site, '--format', fmt, script)
            check(rc == 0, 'local conversion failed')
            check(remote == local,
                  '%s %s: remote output differs from local:\n%s\n---\n%s'
                  % (script, fmt, remote, local))
    # the server's warnings reach the user, naming the script as given
    rc, out, err = s2r('--config', cini, ARGS.script)
    check('--mail-type' in err, 'server warnings missing: ' + err)
    _, _, local_err = s2r('--config', site, ARGS.script)
    named = {l.split(':')[0] for l in err.splitlines() if ': warning: ' in l}
    check(named == {ARGS.script} and
          {l for l in err.splitlines() if '--mail-type' in l} <=
          set(local_err.splitlines()),
          'server warnings name %r, a local run %r' % (named, ARGS.script))
    if not interim_glue(srv):
        lines = [l for l in err.splitlines() if '--mail-type' in l]
        check(len(lines) == 1, 'warning printed %d times: %s'
              % (len(lines), err))
    return 'cli, yaml, json x 2 scripts'


def test_environment_selects_remote(srv):
    if interim_glue(srv):
        return 'SKIP: apps/cmd_plugins.c still defines the interim ' \
               's2r_cmd_convert_with_provider (no S2R_API_ENDPOINT mode)'
    site = write('site.ini', RUNAI)
    rc, remote, err = s2r(ARGS.script, extra_env={
        'S2R_API_ENDPOINT': srv.url(), 'S2R_SHARED_SECRET': SECRET})
    check(rc == 0, 'env client failed: ' + err)
    rc, local, _ = s2r('--config', site, ARGS.script)
    check(remote == local, 'env client output differs')
    # without the secret the server refuses, and says how to fix it
    rc, _, err = s2r(ARGS.script, extra_env={'S2R_API_ENDPOINT': srv.url()})
    check(rc != 0 and '401' in err and 'S2R_SHARED_SECRET' in err,
          'unsigned env client: ' + err)


def test_original_client_protocol(srv):
    with open(ARGS.script, 'rb') as f:
        body = f.read()
    ts = str(time.time())   # exactly what the original client sends
    sig = hmac.new(SECRET.encode(), (ts + ':' + body.decode()).encode(),
                   hashlib.sha256).hexdigest()
    SIGNATURES_SENT.append(sig)
    st, h, ans = request(srv.port, body, {
        'X-S2R-Timestamp': ts, 'X-S2R-Signature': sig,
        'Content-Type': 'text/plain'})
    check(st == 200, 'status %s: %s' % (st, ans))
    check(h['content-type'] == 'application/json', 'content type')
    site = write('site.ini', RUNAI)
    # the original client sends no submit directory: none is known
    rc, local, _ = s2r('--config', site, '--submit-dir', '', '-', stdin=body)
    check(ans['runai_config'] == local, 'stdin conversion differs')
    check(ans['format'] == 'cli' and isinstance(ans['warnings'], list),
          'answer shape: %s' % ans)
    # ?dry_run=1 answers the prompt
    st, _, ans = signed_post(srv.port, body, path='/?dry_run=1')
    check(st == 200 and 'prompt' in ans and 'runai_config' not in ans,
          'dry run: %s' % ans)


def test_refused_signatures_get_401(srv):
    body = NONAME.encode()
    cases = {
        'forged': sign(body, secret='not-the-secret'),
        'expired': sign(body, ts='%.3f' % (time.time() - 301)),
        'future': sign(body, ts='%.3f' % (time.time() + 301)),
        'unsigned': {},
        'garbled': {'X-S2R-Timestamp': 'yesterday',
                    'X-S2R-Signature': 'zz'},
    }
    for name, h in cases.items():
        st, _, ans = request(srv.port, body, h)
        check(st == 401, '%s: status %s' % (name, st))
        check('error' in ans, '%s: %s' % (name, ans))
    # tampered body
    h = sign(body)
    st, _, _ = request(srv.port, body + b'\nrm -rf /\n', h)
    check(st == 401, 'tampered body: %s' % st)
    # replay: the first passes, the copy does not
    h = sign(body)
    st1, _, _ = request(srv.port, body, h)
    st2, _, ans = request(srv.port, body, h)
    check(st1 == 200 and st2 == 401 and 'replayed' in ans['error'],
          'replay: %s %s %s' % (st1, st2, ans))


def test_size_limit(srv):
    head = b'#!/bin/bash\n#SBATCH --job-name=big\nhostname\n'

    def padded(n):
        return head + b'#' * (n - len(head) - 1) + b'\n'

    st, _, ans = signed_post(srv.port, padded(50 * 1024 + 1))
    check(st == 413 and 'Payload too large' in ans['error'],
          '50 KiB + 1: %s %s' % (st, ans))
    st, _, ans = signed_post(srv.port, padded(50 * 1024))
    check(st == 200, '50 KiB exactly: %s %s' % (st, ans))
    # a chunked body that grows past the limit
    c = http.client.HTTPConnection('127.0.0.1', srv.port, timeout=20)
    big = padded(60 * 1024)
    h = sign(big)
    c.request('POST', '/', body=iter([big[i:i + 8192]
                                      for i in range(0, len(big), 8192)]),
              headers=h, encode_chunked=True)
    r = c.getresponse()
    r.read()
    c.close()
    check(r.status == 413, 'chunked 60 KiB: %s' % r.status)


def test_client_messages(srv):
    cini = client_ini('wrong.ini', srv.url(),
                      'secret = env:WRONG_SECRET\n')
    rc, out, err = s2r('--config', cini, ARGS.script,
                       extra_env={'WRONG_SECRET': 'nope'})
    check(rc != 0 and out == '', 'wrong secret converted')
    check('401' in err and 'shared secret' in err, '401 message: ' + err)
    # 413
    big = write('big.sbatch', '#!/bin/bash\n#SBATCH -J big\nhostname\n'
                + '#' * (60 * 1024) + '\n')
    cini = client_ini('client.ini', srv.url())
    rc, out, err = s2r('--config', cini, big)
    check(rc != 0 and 'larger than the server accepts' in err,
          '413 message: ' + err)
    # nobody listening
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    closed = s.getsockname()[1]
    s.close()
    cini = client_ini('closed.ini', 'http://127.0.0.1:%d/' % closed)
    rc, out, err = s2r('--config', cini, ARGS.script)
    check('cannot reach the s2r server' in err, 'connect message: ' + err)

    # a server that fails: 503
    class Failing(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get('Content-Length', 0)))
            body = b'{"error": "model overloaded"}'
            self.send_response(503)
            self.send_header('Content-Type', 'application/json')
            self.send_header('Content-Length', str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    peer = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Failing)
    t = threading.Thread(target=peer.serve_forever, daemon=True)
    t.start()
    try:
        cini = client_ini('failing.ini',
                          'http://127.0.0.1:%d/' % peer.server_address[1])
        rc, out, err = s2r('--config', cini, ARGS.script)
        check('HTTP 503: model overloaded' in err, '5xx message: ' + err)
    finally:
        peer.shutdown()
        peer.server_close()


def test_client_429_says_when_to_retry(_srv):
    srv = Server('limit1', auth_rl('limit1.db', 1))
    try:
        cini = client_ini('limit1.ini', srv.url())
        rc, _, err = s2r('--config', cini, ARGS.script)
        check(rc == 0, 'first request: ' + err)
        rc, out, err = s2r('--config', cini, ARGS.script)
        check(rc != 0 and out == '', 'second request converted')
        check('429' in err and 'retry after' in err and 'UTC' in err,
              '429 message: ' + err)
    finally:
        check(srv.stop() == 0, 'limit1 exit code')


def test_limiter_refusal_does_not_spend_the_signature(_srv):
    """A request the rate limiter refuses with 503 (its SQLite file locked
    by another writer) or 429 is retried with the same signature, as
    Retry-After asks, and is not taken for a replay; once served, it
    is."""
    import sqlite3
    db = os.path.join(WORK, 'locked.db')
    srv = Server('locked', auth_rl('locked.db', 1)
                 + 'busy_timeout = 200ms\nreserve = 1\n')
    try:
        body = NONAME.encode()
        h = sign(body)
        lock = sqlite3.connect(db, isolation_level=None, timeout=10)
        lock.execute('BEGIN IMMEDIATE')
        try:
            for attempt in (1, 2):
                st, hd, ans = request(srv.port, body, h)
                check(st == 503 and hd.get('retry-after') == '1',
                      'locked store, attempt %d: %s %s' % (attempt, st, ans))
        finally:
            lock.execute('ROLLBACK')
            lock.close()
        st, _, ans = request(srv.port, body, h)
        check(st == 200, 'retry once the store is back: %s %s' % (st, ans))
        st, _, ans = request(srv.port, body, h)
        check(st == 401 and 'replayed' in ans['error'],
              'served request sent again: %s %s' % (st, ans))
        # the limit (1) is used: 429, and 429 again for the same request
        h = sign(body)
        for attempt in (1, 2):
            st, hd, ans = request(srv.port, body, h)
            check(st == 429 and int(hd.get('retry-after', '0')) > 0,
                  'over the limit, attempt %d: %s %s' % (attempt, st, ans))
    finally:
        check(srv.stop() == 0, 'locked exit code')
    return '503, 503, 200, 401; 429, 429'


def fire_64(ports, body):
    """64 concurrent signed requests spread over @p ports."""
    barrier = threading.Barrier(64)
    results = [None] * 64

    def one(i):
        h = sign(body)
        barrier.wait(timeout=20)
        try:
            st, hd, _ = request(ports[i % len(ports)], body, h)
            results[i] = (st, hd.get('retry-after'))
        except Exception as e:  # noqa: BLE001 - reported below
            results[i] = ('error', repr(e))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(64)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_exactly_n_of_64_concurrent(_srv):
    srv = Server('n10', auth_rl('n10.db', 10))
    try:
        res = fire_64([srv.port], NONAME.encode())
        ok = sum(1 for r in res if r and r[0] == 200)
        limited = [r for r in res if r and r[0] == 429]
        check(ok == 10 and len(limited) == 54, 'statuses: %s' % res)
        check(all(r[1] and int(r[1]) > 0 for r in limited),
              'Retry-After missing')
    finally:
        check(srv.stop() == 0, 'n10 exit code')
    return '10 admitted, 54 refused'


def test_two_servers_share_one_sqlite_file(_srv):
    a = Server('shared-a', auth_rl('shared.db', 10))
    b = Server('shared-b', auth_rl('shared.db', 10))
    try:
        res = fire_64([a.port, b.port], NONAME.encode())
        ok = sum(1 for r in res if r and r[0] == 200)
        limited = sum(1 for r in res if r and r[0] == 429)
        check(ok == 10 and limited == 54, 'statuses: %s' % res)
    finally:
        check(a.stop() == 0 and b.stop() == 0, 'shared exit codes')
    return '10 admitted over 2 processes'


def raw(port, data, read=True, timeout=2):
    """Send @p data; with @p read, half-close and read what comes back
    until EOF or @p timeout (some garbage gets no answer at all: the
    connection then waits for its connection_timeout)."""
    s = socket.create_connection(('127.0.0.1', port), timeout=timeout)
    try:
        s.sendall(data)
        if not read:
            return b''
        s.shutdown(socket.SHUT_WR)
        out = b''
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
        return out
    except OSError:
        return b''
    finally:
        s.close()


def healthy(port):
    st, _, ans = request(port, None, method='GET', path='/healthz')
    return st == 200 and ans == {'status': 'ok'}


def test_hostile_clients_leave_it_serving(srv):
    # garbage bytes instead of HTTP
    raw(srv.port, os.urandom(4096))
    raw(srv.port, b'\x00\xff' * 2000 + b'\r\n\r\n')
    check(healthy(srv.port), 'after garbage')
    # a body shorter than its Content-Length, then the connection closes
    raw(srv.port, b'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n'
        b'\r\n#!/bin/bash\n', read=False)
    # headers cut in the middle
    raw(srv.port, b'POST / HTTP/1.1\r\nHost: x\r\nContent-Le', read=False)
    check(healthy(srv.port), 'after truncated requests')
    # a slow client dribbling its headers while others are served
    slow = socket.create_connection(('127.0.0.1', srv.port), timeout=10)
    idle = socket.create_connection(('127.0.0.1', srv.port), timeout=10)
    try:
        line = b'POST / HTTP/1.1\r\nHost: slow\r\nX-Slow: '
        served = 0
        for i in range(10):
            slow.sendall(line[i:i + 1] if i < len(line) else b'a')
            st, _, _ = signed_post(srv.port, NONAME.encode())
            served += st == 200
            time.sleep(0.05)
        check(served == 10, 'served %d of 10 beside a slow client' % served)
    finally:
        slow.close()
        idle.close()
    # many connections opened and dropped
    for _ in range(50):
        s = socket.create_connection(('127.0.0.1', srv.port), timeout=10)
        s.close()
    check(healthy(srv.port), 'after dropped connections')
    st, _, _ = signed_post(srv.port, NONAME.encode())
    check(st == 200, 'conversion after hostile clients: %s' % st)


def test_example_configs(_srv):
    """examples/server.ini and examples/client.ini, with only the secret,
    the database path and the endpoint changed."""
    src = os.environ.get('S2R_SOURCE_DIR',
                         os.path.join(os.path.dirname(__file__), '..', '..'))
    with open(os.path.join(src, 'examples', 'server.ini')) as f:
        server = f.read()
    with open(os.path.join(src, 'examples', 'client.ini')) as f:
        client = f.read()
    server = '\n'.join(
        'secret = env:S2R_E2E_SECRET' if l.startswith('secret =') else
        'path = ' + os.path.join(WORK, 'example.db')
        if l.startswith('path =') else l
        for l in server.splitlines()) + '\n'
    ini = write('example-server.ini', server)
    log = open(os.path.join(WORK, 'example-server.log'), 'wb')
    LOGS.append(log.name)
    proc = subprocess.Popen([ARGS.bin, 'serve', '--config', ini,
                             '--listen', '127.0.0.1:0'],
                            stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=log, env=env())
    try:
        port = None
        deadline = time.monotonic() + 15
        while not port and time.monotonic() < deadline \
                and proc.poll() is None:
            time.sleep(0.05)
            with open(log.name) as f:
                for line in f:
                    o = json.loads(line)
                    if o.get('event') == 'listening':
                        port = int(o['address'].rsplit(':', 1)[1])
        check(port, 'examples/server.ini did not start: '
              + open(log.name).read())
        client = '\n'.join(
            'endpoint = http://127.0.0.1:%d/' % port
            if l.startswith('endpoint =') else l
            for l in client.splitlines()) + '\n'
        cini = write('example-client.ini', client)
        rc, remote, err = s2r('--config', cini, ARGS.script,
                              extra_env={'S2R_SHARED_SECRET': SECRET})
        check(rc == 0, 'examples/client.ini: ' + err)
        site = write('example-site.ini', server)
        rc, local, err = s2r('--config', site, ARGS.script)
        check(rc == 0 and remote == local, 'example output differs: ' + err)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(15)
        log.close()
    check(proc.returncode == 0, 'example server exit code')


def test_sigterm_stops_cleanly(_srv):
    srv = Server('term', auth_rl('term.db', 100))
    st, _, _ = signed_post(srv.port, NONAME.encode())
    check(st == 200, 'before SIGTERM')
    rc = srv.stop()
    check(rc == 0, 'exit code %s' % rc)
    lines = srv.lines()
    events = [l.get('event') for l in lines]
    check('stopping' in events and 'stopped' in events, events)
    # numbers are JSON numbers, as in the request lines
    listening = [l for l in lines if l.get('event') == 'listening'][0]
    check(listening.get('threads') == 2, 'listening: %s' % listening)
    stopped = [l for l in lines if l.get('event') == 'stopped'][0]
    check(stopped.get('abandoned_requests') == 0 and
          type(stopped.get('open_connections')) is int,
          'stopped: %s' % stopped)
    try:
        socket.create_connection(('127.0.0.1', srv.port), timeout=2).close()
        refused = False
    except OSError:
        refused = True
    check(refused, 'still listening after SIGTERM')


def test_logs_hold_no_secret(_srv):
    """Run last: every log line of every server so far."""
    n = 0
    for path in LOGS:
        with open(path, 'rb') as f:
            text = f.read().decode('utf-8', 'replace')
        check(SECRET not in text, '%s: the secret is logged' % path)
        check(MARKER not in text, '%s: the script is logged' % path)
        check('#SBATCH' not in text, '%s: the script is logged' % path)
        for sig in SIGNATURES_SENT:
            check(sig not in text, '%s: a signature is logged' % path)
        for line in text.splitlines():
            o = json.loads(line)   # each line one JSON object
            check('time' in o and 'event' in o, line)
            if o['event'] == 'request':
                for k in ('id', 'client_ip', 'status', 'duration_ms'):
                    check(k in o, 'request line without %s: %s' % (k, line))
                n += 1
    check(n > 100, 'only %d request lines' % n)
    return '%d request lines, %d signatures checked' % (
        n, len(SIGNATURES_SENT))


# ----------------------------------------------------------------- runner

def main():
    global ARGS, WORK
    ap = argparse.ArgumentParser()
    ap.add_argument('--bin', required=True)
    ap.add_argument('--script', required=True)
    ARGS = ap.parse_args()
    WORK = tempfile.mkdtemp(prefix='serve-e2e-')
    tests = [test_client_output_equals_local_conversion,
             test_environment_selects_remote,
             test_original_client_protocol,
             test_refused_signatures_get_401,
             test_size_limit,
             test_client_messages,
             test_client_429_says_when_to_retry,
             test_limiter_refusal_does_not_spend_the_signature,
             test_exactly_n_of_64_concurrent,
             test_two_servers_share_one_sqlite_file,
             test_hostile_clients_leave_it_serving,
             test_example_configs,
             test_sigterm_stops_cleanly]
    passed = failed = skipped = 0
    main_srv = None
    try:
        main_srv = Server('main', auth_rl('main.db', 1000000))
        for t in tests:
            t0 = time.monotonic()
            try:
                note = t(main_srv)
                if isinstance(note, str) and note.startswith('SKIP'):
                    skipped += 1
                    print('skip  %s: %s' % (t.__name__, note[5:].strip()))
                    continue
                passed += 1
                print('ok    %s (%.2fs)%s' % (t.__name__,
                                             time.monotonic() - t0,
                                             ': ' + note if note else ''))
            except Exception:  # noqa: BLE001 - every failure is reported
                failed += 1
                print('FAIL  %s' % t.__name__)
                traceback.print_exc(file=sys.stdout)
        rc = main_srv.stop()
        stopped = [l for l in main_srv.lines() if l.get('event') == 'stopped']
        if rc != 0 or not stopped or stopped[0].get('abandoned_requests') != 0:
            failed += 1
            print('FAIL  main server stop: exit code %s, %s' % (rc, stopped))
        main_srv = None
        try:
            note = test_logs_hold_no_secret(None)
            passed += 1
            print('ok    test_logs_hold_no_secret: %s' % note)
        except Exception:  # noqa: BLE001
            failed += 1
            print('FAIL  test_logs_hold_no_secret')
            traceback.print_exc(file=sys.stdout)
    finally:
        if main_srv:
            main_srv.stop()
        if failed == 0 and not os.environ.get('S2R_E2E_KEEP'):
            shutil.rmtree(WORK, ignore_errors=True)
        else:
            print('work directory kept: ' + WORK)
    print('%d passed, %d failed, %d skipped' % (passed, failed, skipped))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
