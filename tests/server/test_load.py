#!/usr/bin/env python3
"""test_load.py: `s2r serve` under load on loopback, with wrk: 30 s at 1,
16, 64, 256 and 1,024 connections. Not a benchmark (bench/bench-serve.py
is): it checks that the server holds.

The server runs auth-hmac (replay_check = false: wrk sends the one
signature computed here with every request; the replay cache has its
own tests) and ratelimit-sqlite with reserve = 1 (a transaction per
request, the case where the write-ahead log grows fastest) and 2 worker
threads. For every level:
  - every answer is checked in wrk's Lua: status 200 and the body byte
    for byte the answer to the same request sent once before;
  - no error: no socket error (connect, read, write, timeout at 10 s),
    no other status, no warning or error in the server's log;
  - no stall: the level's requests/s are at least a quarter of the best
    level's in this run (a twentieth at 1 connection, which waits for
    each answer), a ratio, not a speed (libmicrohttpd's epoll loop fell
    to 1/150 at 256 connections);
  - the limiter's log (ratelimit.db-wal), looked at every half second,
    stays under 6 MB (it used to grow by 4 KB per request).

The levels run S2R_LOAD_SECONDS each (default 30). The file limit is
raised for wrk and the server (1,024 connections each side).

    test_load.py --bin build/s2r
"""
import argparse
import hashlib
import hmac
import http.client
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

RUNAI = '[runai]\ndefault_image = nvcr.io/nvidia/pytorch:24.05-py3\n'
LEVELS = (1, 16, 64, 256, 1024)
WAL_MAX = 6 * 1000 * 1000
SECRET = 'load-' + os.urandom(8).hex()


def fail(msg):
    print('FAIL  ' + msg)
    sys.stdout.flush()
    raise SystemExit(1)


def raise_fd_limit(need):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < need:
        fail('the open-file limit is %d, %d are needed for 1,024 '
             'connections (wrk and the server); raise it (ulimit -Hn)'
             % (hard, need))
    want = need if hard == resource.RLIM_INFINITY else min(hard, 4 * need)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


def start_server(args, work):
    db = os.path.join(work, 'ratelimit.db')
    ini = os.path.join(work, 'server.ini')
    with open(ini, 'w') as f:
        f.write(RUNAI + '[server]\nlisten = 127.0.0.1:0\nthreads = 2\n'
                'max_connections = 2048\nmax_connections_per_client = 2048\n'
                'log_requests = false\n\n'
                '[auth.hmac]\nplugin = auth-hmac\n'
                'secret = env:S2R_LOAD_SECRET\nreplay_check = false\n\n'
                '[ratelimit.daily]\nplugin = ratelimit-sqlite\npath = %s\n'
                'limit = 1000000000000\nreserve = 1\n' % db)
    logpath = os.path.join(work, 'server.log')
    log = open(logpath, 'wb')
    env = dict(os.environ, S2R_LOAD_SECRET=SECRET)
    proc = subprocess.Popen([args.bin, 'serve', '--config', ini],
                            stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=log, env=env)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        for line in open(logpath, 'rb').read().decode().splitlines():
            ev = json.loads(line)
            if ev.get('event') == 'listening':
                return proc, log, logpath, db, int(
                    ev['address'].rsplit(':', 1)[1])
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    proc.kill()
    fail('the server did not start: ' + open(logpath).read())


def signed_headers(body):
    ts = '%.6f' % time.time()
    sig = hmac.new(SECRET.encode(), ts.encode() + b':' + body,
                   hashlib.sha256).hexdigest()
    return {'Content-Type': 'text/plain', 'X-S2R-Filename': 'job.sbatch',
            'X-S2R-Timestamp': ts, 'X-S2R-Signature': sig}


def expected_answer(port, body, headers):
    c = http.client.HTTPConnection('127.0.0.1', port, timeout=10)
    c.request('POST', '/?format=cli', body, headers)
    r = c.getresponse()
    answer = r.read()
    c.close()
    if r.status != 200:
        fail('the first request got %d: %r' % (r.status, answer))
    return answer


LUA = r'''
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args)
    expected = assert(io.open("%(expected)s", "rb")):read("*a")
    wrk.method = "POST"
    wrk.path = "/?format=cli"
    wrk.body = assert(io.open("%(script)s", "rb")):read("*a")
    %(headers)s
    good = 0
    bad = 0
end
function response(status, headers, body)
    if status == 200 and body == expected then
        good = good + 1
    else
        bad = bad + 1
        if bad <= 3 then
            io.stderr:write("unexpected answer " .. status .. ": " ..
                            string.sub(body, 1, 200) .. "\n")
        end
    end
end
function done(summary, latency, requests)
    local g, b = 0, 0
    for _, t in ipairs(threads) do
        g = g + t:get("good")
        b = b + t:get("bad")
    end
    io.write(string.format("CHECKED %%d %%d\n", g, b))
end
'''


def write_lua(work, script, answer, headers):
    exp = os.path.join(work, 'expected.json')
    with open(exp, 'wb') as f:
        f.write(answer)
    hl = '\n    '.join('wrk.headers["%s"] = "%s"' % kv for kv in headers.items())
    lua = os.path.join(work, 'load.lua')
    with open(lua, 'w') as f:
        f.write(LUA % {'expected': exp, 'script': script, 'headers': hl})
    return lua


def run_wrk(port, conns, seconds, lua):
    p = subprocess.run(['wrk', '-t', '1', '-c', str(conns),
                        '-d', '%ds' % seconds, '--timeout', '10s', '-s', lua,
                        'http://127.0.0.1:%d/' % port],
                       capture_output=True, timeout=seconds + 120)
    out = p.stdout.decode()
    r = {'rps': 0.0, 'requests': 0, 'good': -1, 'bad': -1, 'errors': '',
         'non2xx': 0, 'stderr': p.stderr.decode()[:600], 'rc': p.returncode}
    for line in out.splitlines():
        line = line.strip()
        if line.startswith('Requests/sec:'):
            r['rps'] = float(line.split()[1])
        elif 'requests in' in line:
            r['requests'] = int(line.split()[0])
        elif line.startswith('Socket errors:'):
            r['errors'] = line
        elif line.startswith('Non-2xx'):
            r['non2xx'] = int(line.split()[-1])
        elif line.startswith('CHECKED'):
            r['good'], r['bad'] = (int(x) for x in line.split()[1:])
    return r


class WalWatch:
    """Looks at the limiter's log every half second; the largest size."""

    def __init__(self, db):
        self.path = db + '-wal'
        self.largest = 0
        self.stop = threading.Event()
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        while not self.stop.wait(0.5):
            try:
                self.largest = max(self.largest, os.path.getsize(self.path))
            except OSError:
                pass

    def close(self):
        self.stop.set()
        self.t.join(5)


def check_level(conns, r, best):
    problems = []
    if r['rc'] != 0 or r['good'] < 0:
        problems.append('wrk failed: ' + r['stderr'])
    if r['errors']:
        problems.append(r['errors'])
    if r['non2xx'] or r['bad']:
        problems.append('%d answers not 200, %d not as expected: %s'
                        % (r['non2xx'], r['bad'], r['stderr']))
    if r['good'] <= 0 or r['good'] != r['requests']:
        problems.append('%d answers checked of %d' % (r['good'],
                                                      r['requests']))
    floor = best / (20 if conns == 1 else 4)
    if r['rps'] < floor:
        problems.append('stalled: %.0f requests/s, under %.0f (%s of the '
                        'best level, %.0f)' % (r['rps'], floor,
                                               '1/20' if conns == 1
                                               else '1/4', best))
    return problems


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--bin', required=True)
    ap.add_argument('--script', default=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), '..', '..', 'examples',
        'train-resnet.sbatch'))
    args = ap.parse_args()
    if not shutil.which('wrk'):
        fail('wrk is needed (scripts/install-deps.sh)')
    seconds = int(os.environ.get('S2R_LOAD_SECONDS', '30'))
    raise_fd_limit(2 * max(LEVELS) + 512)
    script = os.path.abspath(args.script)
    body = open(script, 'rb').read()
    work = tempfile.mkdtemp(prefix='serve-load-')
    proc, log, logpath, db, port = start_server(args, work)
    results = {}
    problems = []
    try:
        headers = signed_headers(body)
        lua = write_lua(work, script, expected_answer(port, body, headers),
                        headers)
        watch = WalWatch(db)
        for conns in LEVELS:
            results[conns] = run_wrk(port, conns, seconds, lua)
            r = results[conns]
            print('      %5d connections: %8.0f requests/s, %d answers '
                  'checked, %d not as expected%s' % (
                      conns, r['rps'], r['good'], r['bad'],
                      ', ' + r['errors'] if r['errors'] else ''))
            sys.stdout.flush()
        watch.close()
        best = max(r['rps'] for r in results.values())
        for conns in LEVELS:
            for p in check_level(conns, results[conns], best):
                problems.append('%d connections: %s' % (conns, p))
        if watch.largest >= WAL_MAX:
            problems.append('the rate-limit log reached %d bytes'
                            % watch.largest)
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(30)
        if rc != 0:
            problems.append('exit code %s after SIGTERM' % rc)
        for line in open(logpath, 'rb').read().decode().splitlines():
            ev = json.loads(line)
            if ev.get('level') in ('warn', 'error'):
                problems.append('server log: ' + line)
        print('      rate-limit log: %d bytes at most' % watch.largest)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
        log.close()
    if problems:
        for p in problems[:20]:
            print('FAIL  ' + p)
        print('work directory kept: ' + work)
        return 1
    shutil.rmtree(work, ignore_errors=True)
    print('ok    %d levels of %d s: every answer checked, no error, no '
          'stall' % (len(LEVELS), seconds))
    return 0


if __name__ == '__main__':
    sys.exit(main())
