#!/usr/bin/env python3
"""bench-serve.py: `s2r serve` measured side by side with its floor, a bare
libmicrohttpd server answering the same bytes (bench/serve_floor.c), on
loopback with wrk. Not a test: every figure is a ratio to the floor
measured in the same run, floor and s2r taking turns, so that other work
on the machine weighs on both alike.

    bench/bench-serve.py [--build DIR] [--duration S] [--rounds N]
                         [--only hot,stall,modes,wal,replay] [--smoke]

Measures (one summary line each at the end):
  hot     requests/s and p99 latency at 16 and 64 connections, for
          auth-hmac + ratelimit-sqlite, ratelimit-sqlite alone, and the
          conversion alone, against the floor answering the same requests;
          and, as a control, the conversion alone sent the signed requests
          of auth + limiter (what the signing client costs on the shared
          cores, without the server checking anything)
  stall   requests/s at 255, 256, 257 and 1024 connections (2 server
          threads) against the floor
  modes   bare libmicrohttpd (the floor) with epoll and with a thread per
          connection, against poll(), at 16, 256 and 1024 connections
  wal     the ratelimit-sqlite write-ahead log after the auth + limiter
          runs, against the database file (what a folded log leaves)
  replay  the auth-hmac replay cache at the best auth + limiter rate of
          this run: seconds of the 300 s window for which it held every
          signature, and replays accepted (must be 0) (bench/bench_replay)

Environment: S2R_BENCH_SCRIPT (the batch script posted, default
examples/train-resnet.sbatch). --smoke runs every measure once, briefly,
and checks that each one produced answers (no timing assertion): CI runs
it. The server runs 2 worker threads and wrk 1 thread (--threads,
--wrk-threads). Python 3 standard library only.
"""
import argparse
import hashlib
import hmac
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(HERE)
ARGS = None
WORK = None
SECRET = 'bench-' + os.urandom(8).hex()
RUNAI = '[runai]\ndefault_image = nvcr.io/nvidia/pytorch:24.05-py3\n'

CONFIGS = {
    # name: (label, auth, limiter, signed requests)
    'full': ('auth + limiter', True, True, True),
    'limiter': ('limiter only', False, True, False),
    'convert': ('conversion only', False, False, False),
    # control: the signed requests of 'full' (the client's work per
    # request the same) to a server that checks neither
    'client': ('conversion only, signed client', False, False, True),
}


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def raise_fd_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > 65536:
        hard = 65536
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


# --------------------------------------------------------------- servers

def wait_line(path, pattern, proc, seconds=15):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with open(path, 'rb') as f:
            m = re.search(pattern, f.read().decode('utf-8', 'replace'))
        if m:
            return m
        if proc.poll() is not None:
            break
        time.sleep(0.02)
    return None


def stop(proc):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


class S2r:
    """One `s2r serve` with a fresh rate-limit database."""

    def __init__(self, cfg, name):
        _, auth, limiter, _ = CONFIGS[cfg]
        self.db = os.path.join(WORK, name + '.db')
        for suffix in ('', '-wal', '-shm'):
            if os.path.exists(self.db + suffix):
                os.unlink(self.db + suffix)
        ini = os.path.join(WORK, name + '.ini')
        text = (RUNAI + '[server]\nlisten = 127.0.0.1:0\nthreads = %d\n'
                'max_connections = 4096\n' % ARGS.threads)
        text += EXTRA_SERVER_KEYS
        text += '' if auth else 'auth = none\n'
        if auth:
            text += ('\n[auth.hmac]\nplugin = auth-hmac\n'
                     'secret = env:S2R_BENCH_SECRET\n')
        if limiter:
            text += ('\n[ratelimit.daily]\nplugin = ratelimit-sqlite\n'
                     'path = %s\nlimit = 1000000000000\n' % self.db)
        with open(ini, 'w') as f:
            f.write(text)
        self.logpath = os.path.join(WORK, name + '.log')
        env = dict(os.environ, S2R_BENCH_SECRET=SECRET,
                   S2R_PLUGIN_PATH=os.path.join(ARGS.build, 'plugins'))
        with open(self.logpath, 'wb') as logf:
            self.proc = subprocess.Popen(
                [os.path.join(ARGS.build, 's2r'), 'serve', '--config', ini],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=logf, env=env)
        m = wait_line(self.logpath, r'"address":"127\.0\.0\.1:(\d+)"',
                      self.proc)
        if not m:
            stop(self.proc)
            raise SystemExit('bench-serve: s2r serve did not start:\n'
                             + open(self.logpath).read())
        self.port = int(m.group(1))

    def wal_bytes(self):
        p = self.db + '-wal'
        return os.path.getsize(p) if os.path.exists(p) else 0

    def db_bytes(self):
        return os.path.getsize(self.db) if os.path.exists(self.db) else 0

    def close(self):
        stop(self.proc)


class Floor:
    def __init__(self, answer, mode='poll'):
        body, headers = answer
        path = os.path.join(WORK, 'answer.body')
        with open(path, 'wb') as f:
            f.write(body)
        argv = [os.path.join(ARGS.build, 'bench', 'serve_floor'),
                '--body', path, '--threads', str(ARGS.threads),
                '--mode', mode, '--port', '0']
        for h in headers:
            argv += ['--header', h]
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE)
        line = self.proc.stdout.readline().decode()
        if not line.startswith('port '):
            stop(self.proc)
            raise SystemExit('bench-serve: serve_floor did not start')
        self.port = int(line.split()[1])

    def close(self):
        stop(self.proc)


# -------------------------------------------------------------- requests

def signed_pairs(count, now=None):
    body = SCRIPT_BYTES
    key = SECRET.encode()
    now = int(now or time.time())
    out = []
    for i in range(count):
        ts = '%d.%06d' % (now + i // 1000000, i % 1000000)
        mac = hmac.new(key, ts.encode() + b':' + body,
                       hashlib.sha256).hexdigest()
        out.append(ts + ' ' + mac)
    return out


def write_lua(cfg, duration):
    """The wrk script of a configuration: signed requests (each once) when
    it sends them, else the same plain POST every time."""
    signed_requests = CONFIGS[cfg][3]
    lua = os.path.join(WORK, cfg + '.lua')
    if not signed_requests:
        with open(lua, 'w') as f:
            f.write('wrk.method = "POST"\n'
                    'wrk.path = "/?format=cli"\n'
                    'wrk.headers["Content-Type"] = "text/plain"\n'
                    'wrk.headers["X-S2R-Filename"] = "job.sbatch"\n'
                    'wrk.body = assert(io.open("%s", "rb")):read("*a")\n'
                    % SCRIPT)
        return lua
    signed = os.path.join(WORK, cfg + '.signed')
    with open(signed, 'w') as f:
        f.write('\n'.join(signed_pairs(int(duration * 60000) + 2000)) + '\n')
    # Every request is put together before the run (about 1 KB each, so
    # some 300 MB for 5 s) and request() only hands the next one over:
    # building them as the run goes (wrk.format(), or even one
    # concatenation) made the client, on the same two cores, take CPU
    # from the server it measured, and that tail latency was the
    # client's. The pairs are enough for 60,000 signed requests/s; past
    # them they are sent again, which the floor does not notice and s2r
    # refuses as replays (check_answers says so).
    with open(lua, 'w') as f:
        f.write('''
local n = 0
function setup(thread) thread:set("tid", n); n = n + 1 end
function init(args)
    local body = assert(io.open("%s", "rb")):read("*a")
    local head = "POST /?format=cli HTTP/1.1\\r\\nHost: "
        .. wrk.headers["Host"] .. "\\r\\nContent-Type: text/plain\\r\\n"
        .. "X-S2R-Filename: job.sbatch\\r\\n"
        .. "Content-Length: " .. #body .. "\\r\\nX-S2R-Timestamp: "
    local mid = "\\r\\nX-S2R-Signature: "
    local tail = "\\r\\n\\r\\n" .. body
    requests = {}
    local i = 0
    for line in io.lines("%s") do
        if i %% %d == tid then
            local t, s = line:match("(%%S+) (%%S+)")
            requests[#requests + 1] = head .. t .. mid .. s .. tail
        end
        i = i + 1
    end
    collectgarbage()
    k = 1
end
function request()
    local r = requests[k]
    k = k + 1
    if k > #requests then k = 1 end
    return r
end
''' % (SCRIPT, signed, ARGS.wrk_threads))
    return lua


def raw_post(port, cfg):
    """One request as wrk sends it; (status, body, [header lines])."""
    import http.client
    headers = {'Content-Type': 'text/plain', 'X-S2R-Filename': 'job.sbatch'}
    if CONFIGS[cfg][1]:
        ts, sig = signed_pairs(1, time.time() - 1)[0].split()
        headers.update({'X-S2R-Timestamp': ts, 'X-S2R-Signature': sig})
    c = http.client.HTTPConnection('127.0.0.1', port, timeout=10)
    c.request('POST', '/?format=cli', SCRIPT_BYTES, headers)
    r = c.getresponse()
    body = r.read()
    keep = [k + ': ' + v for k, v in r.getheaders()
            if k.lower() in ('content-type', 'x-request-id', 'retry-after',
                             'x-ratelimit-limit', 'x-ratelimit-remaining')]
    c.close()
    return r.status, body, keep


def answer_of(cfg):
    """The bytes s2r answers for @p cfg, for the floor to send."""
    s = S2r(cfg, 'probe-' + cfg)
    try:
        status, body, headers = raw_post(s.port, cfg)
    finally:
        s.close()
    if status != 200:
        raise SystemExit('bench-serve: s2r answered %d: %r' % (status, body))
    return body, headers


# -------------------------------------------------------------------- wrk

def ms_of(text):
    m = re.match(r'([0-9.]+)(us|ms|s)$', text)
    if not m:
        return float('nan')
    return float(m.group(1)) * {'us': 0.001, 'ms': 1.0, 's': 1000.0}[m.group(2)]


def cpu_seconds(pid):
    """User + system CPU seconds process @p pid has used so far (all its
    threads), from /proc/PID/stat; None where there is no /proc."""
    try:
        with open('/proc/%d/stat' % pid) as f:
            fields = f.read().rsplit(')', 1)[1].split()
    except OSError:
        return None
    # after the command's ')': state is field 3, utime 14 and stime 15
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


def wrk(port, conns, duration, lua, pid=None):
    """One wrk run; with @p pid, also the CPU that process spent per
    request ('cpu_us')."""
    before = cpu_seconds(pid) if pid else None
    out = subprocess.run(
        ['wrk', '-t', str(ARGS.wrk_threads), '-c', str(conns),
         '-d', '%ds' % duration, '--timeout', '10s', '--latency', '-s', lua,
         'http://127.0.0.1:%d/' % port],
        capture_output=True, timeout=duration + 120).stdout.decode()
    after = cpu_seconds(pid) if pid else None
    r = {'rps': 0.0, 'p50': float('nan'), 'p99': float('nan'),
         'requests': 0, 'non2xx': 0, 'errors': '', 'cpu_us': float('nan')}
    for line in out.splitlines():
        line = line.strip()
        if line.startswith('Requests/sec:'):
            r['rps'] = float(line.split()[1])
        elif re.match(r'^50%\s', line):
            r['p50'] = ms_of(line.split()[1])
        elif re.match(r'^99%\s', line):
            r['p99'] = ms_of(line.split()[1])
        elif 'requests in' in line:
            r['requests'] = int(line.split()[0])
        elif line.startswith('Non-2xx'):
            r['non2xx'] = int(line.split()[-1])
        elif line.startswith('Socket errors:'):
            r['errors'] = line.split(':', 1)[1].strip()
    if before is not None and after is not None and r['requests']:
        r['cpu_us'] = (after - before) * 1e6 / r['requests']
    return r


def fmt_run(who, conns, r):
    extra = ''
    if r['non2xx']:
        extra += ' non-2xx %d' % r['non2xx']
    if r['errors']:
        extra += ' socket errors: ' + r['errors']
    return ('  %-22s %5d conns: %9.0f req/s  p50 %7.2f ms  p99 %7.2f ms  '
            'server CPU %5.1f us/request%s'
            % (who, conns, r['rps'], r['p50'], r['p99'], r['cpu_us'], extra))


def side_by_side(cfg, conns, answer, rounds, floor_mode='poll', wal=None):
    """Rounds of (floor, s2r) runs, order alternating; the list of
    (floor result, s2r result) pairs."""
    pairs = []
    for i in range(rounds):
        lua = write_lua(cfg, ARGS.duration)
        fl = Floor(answer, floor_mode)
        s = S2r(cfg, 'run-%s' % cfg)
        try:
            runs = {}
            order = ('floor', 's2r') if i % 2 == 0 else ('s2r', 'floor')
            for who in order:
                srv = fl if who == 'floor' else s
                runs[who] = wrk(srv.port, conns, ARGS.duration, lua,
                                srv.proc.pid)
            if wal is not None and CONFIGS[cfg][2]:
                wal.append((s.wal_bytes(), s.db_bytes(),
                            runs['s2r']['requests']))
        finally:
            s.close()
            fl.close()
        log(fmt_run('floor (%s)' % floor_mode, conns, runs['floor']))
        log(fmt_run('s2r %s' % CONFIGS[cfg][0], conns, runs['s2r']))
        pairs.append((runs['floor'], runs['s2r']))
    return pairs


def median_ratio(pairs, key):
    vals = [b[key] / a[key] for a, b in pairs if a[key] and a[key] == a[key]]
    return statistics.median(vals) if vals else float('nan')


def spread(pairs, key):
    vals = [b[key] / a[key] for a, b in pairs if a[key]]
    return '%.2f-%.2f' % (min(vals), max(vals)) if vals else '-'


# --------------------------------------------------------------- measures

RESULTS = {}
SUMMARY = []
PROBLEMS = []


def check_answers(name, pairs):
    for a, b in pairs:
        for who, r in (('floor', a), ('s2r', b)):
            if r['requests'] == 0:
                PROBLEMS.append('%s: %s answered no request' % (name, who))
            if r['non2xx']:
                PROBLEMS.append('%s: %s answered %d requests with a status '
                                'other than 200' % (name, who, r['non2xx']))


def measure_hot(answers):
    conns_list = [64] if ARGS.smoke else [16, 64]
    cfgs = (['full'] if ARGS.smoke
            else ['full', 'limiter', 'convert', 'client'])
    for cfg in cfgs:
        res = {}
        for conns in conns_list:
            log('hot: %s, %d connections' % (CONFIGS[cfg][0], conns))
            pairs = side_by_side(cfg, conns, answers[cfg], ARGS.rounds,
                                 wal=RESULTS.setdefault('wal', []))
            check_answers('hot', pairs)
            res[conns] = pairs
            if cfg == 'full':
                RESULTS.setdefault('full_rps', []).extend(
                    b['rps'] for _, b in pairs)
        parts = ['%.2f at %d connections (%s)' % (
            median_ratio(res[c], 'rps'), c, spread(res[c], 'rps'))
            for c in conns_list]
        p = res[64]
        SUMMARY.append(
            'hot, %s: throughput of the floor %s; p99 at 64 connections '
            '%.2fx the floor\'s (s2r %.1f ms, floor %.1f ms); server CPU '
            'per request at 64 connections %.1fx the floor\'s (s2r %.1f us, '
            'floor %.1f us)' % (
                CONFIGS[cfg][0], ', '.join(parts), median_ratio(p, 'p99'),
                statistics.median(b['p99'] for _, b in p),
                statistics.median(a['p99'] for a, _ in p),
                median_ratio(p, 'cpu_us'),
                statistics.median(b['cpu_us'] for _, b in p),
                statistics.median(a['cpu_us'] for a, _ in p)))


def measure_stall(answers):
    counts = [256] if ARGS.smoke else [255, 256, 257, 1024]
    ratios = []
    for conns in counts:
        log('stall: auth + limiter, %d connections' % conns)
        pairs = side_by_side('full', conns, answers['full'], ARGS.rounds,
                             wal=RESULTS.setdefault('wal', []))
        check_answers('stall', pairs)
        ratios.append(min(b['rps'] / a['rps'] for a, b in pairs if a['rps']))
        RESULTS.setdefault('full_rps', []).extend(b['rps'] for _, b in pairs)
    SUMMARY.append(
        'stall, auth + limiter: throughput at %s connections %s of the '
        'floor (lowest of the rounds; lowest %.2f)' % (
            '/'.join(str(c) for c in counts),
            '/'.join('%.2f' % r for r in ratios), min(ratios)))


def measure_modes(answers):
    """Bare libmicrohttpd in each event-loop mode, against poll()."""
    counts = [256] if ARGS.smoke else [16, 256, 1024]
    lua = write_lua('convert', ARGS.duration)
    parts = []
    for conns in counts:
        log('modes: bare libmicrohttpd, %d connections' % conns)
        ratios = {'epoll': [], 'thread': []}
        errors = {'epoll': 0, 'thread': 0}
        for i in range(ARGS.rounds):
            runs = {}
            modes = ['poll', 'epoll', 'thread']
            if i % 2:
                modes.reverse()
            for mode in modes:
                fl = Floor(answers['convert'], mode)
                try:
                    runs[mode] = wrk(fl.port, conns, ARGS.duration, lua)
                finally:
                    fl.close()
                log(fmt_run('floor (%s)' % mode, conns, runs[mode]))
            for mode in ratios:
                if runs['poll']['rps']:
                    ratios[mode].append(runs[mode]['rps'] /
                                        runs['poll']['rps'])
                errors[mode] += 1 if runs[mode]['errors'] else 0
        parts.append('%d: epoll %.2f, thread per connection %.2f%s' % (
            conns, statistics.median(ratios['epoll']),
            statistics.median(ratios['thread']),
            ' (socket errors in %d of %d runs)' % (errors['thread'],
                                                   ARGS.rounds)
            if errors['thread'] else ''))
    SUMMARY.append('modes, bare libmicrohttpd (2 threads), requests/s '
                   'against poll() at ' + '; '.join(parts))


def measure_wal(answers):
    runs = RESULTS.get('wal') or []
    if not runs:
        log('wal: auth + limiter, 64 connections')
        pairs = side_by_side('full', 64, answers['full'], 1,
                             wal=RESULTS.setdefault('wal', []))
        check_answers('wal', pairs)
        runs = RESULTS['wal']
    worst = max(runs, key=lambda r: r[0])
    wal, db, reqs = worst
    total = sum(r[2] for r in runs)
    SUMMARY.append(
        'wal: largest log %.1f MB after %d requests (%.0f bytes per '
        'request), %.0fx the %d-byte database; %d requests in all' % (
            wal / 1e6, reqs, wal / reqs if reqs else 0,
            wal / db if db else float('nan'), db, total))


def measure_replay(answers):
    rates = RESULTS.get('full_rps')
    rate = max(rates) if rates else 10000.0
    window = 300
    if ARGS.smoke:  # the check, not the figure: a short window
        rate, window = min(rate, 2000.0), 30
    env = dict(os.environ, S2R_BENCH_SECRET=SECRET,
               S2R_PLUGIN_PATH=os.path.join(ARGS.build, 'plugins'))
    p = subprocess.run([os.path.join(ARGS.build, 'bench', 'bench_replay'),
                        '%.0f' % rate, str(window)], env=env,
                       capture_output=True, timeout=3600)
    out = p.stdout.decode().strip()
    log(out or p.stderr.decode())
    m = re.search(r'held for (\d+) s \(([0-9.]+) of the window\); (\d+) '
                  r'accepted, (\d+) refused.*?(\d+) of (\d+) replays', out)
    if not m:
        PROBLEMS.append('replay: bench_replay failed: %s' % p.stderr.decode())
        return
    if int(m.group(5)):
        PROBLEMS.append('replay: %s replays accepted' % m.group(5))
    slowest = re.search(r'slowest verification ([0-9.]+) ms', out)
    SUMMARY.append(
        'replay: at %.0f signed requests/s (%s), every signature held %s s '
        'of the %d s window (%s); %s refused with 503, %s of %s replays '
        'accepted; slowest verification %s ms' % (
            rate, 'smoke' if ARGS.smoke else 'this run\'s best',
            m.group(1), window, m.group(2), m.group(4), m.group(5),
            m.group(6), slowest.group(1) if slowest else '?'))


# ------------------------------------------------------------------ main

EXTRA_SERVER_KEYS = ''
SCRIPT = None
SCRIPT_BYTES = b''


def server_keys_supported():
    """[server] keys of newer builds, when this build has them."""
    path = os.path.join(WORK, 'keys.ini')
    with open(path, 'w') as f:
        f.write(RUNAI + '[server]\nauth = none\nmax_connections_per_client = '
                '4096\n')
    p = subprocess.run([os.path.join(ARGS.build, 's2r'), 'check-config',
                        '--config', path], capture_output=True)
    return 'max_connections_per_client = 4096\n' if p.returncode == 0 else ''


def main():
    global ARGS, WORK, EXTRA_SERVER_KEYS, SCRIPT, SCRIPT_BYTES
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--build', default=os.path.join(SRC, 'build'))
    ap.add_argument('--duration', type=int, default=5)
    ap.add_argument('--rounds', type=int, default=3)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--wrk-threads', type=int, default=1)
    ap.add_argument('--only', default='hot,stall,modes,wal,replay')
    ap.add_argument('--smoke', action='store_true')
    ap.add_argument('--keep', action='store_true')
    ARGS = ap.parse_args()
    ARGS.build = os.path.abspath(ARGS.build)
    if ARGS.smoke:
        ARGS.duration, ARGS.rounds = 1, 1
    if not shutil.which('wrk'):
        print('bench-serve: wrk is needed (scripts/install-deps.sh)',
              file=sys.stderr)
        return 77  # skipped
    SCRIPT = os.environ.get('S2R_BENCH_SCRIPT',
                            os.path.join(SRC, 'examples',
                                         'train-resnet.sbatch'))
    with open(SCRIPT, 'rb') as f:
        SCRIPT_BYTES = f.read()
    raise_fd_limit()
    WORK = tempfile.mkdtemp(prefix='bench-serve-')
    try:
        EXTRA_SERVER_KEYS = server_keys_supported()
        log('s2r serve: %d threads; wrk: %d thread(s), %d s per run, %d '
            'rounds; %d CPUs; script %s (%d bytes)' % (
                ARGS.threads, ARGS.wrk_threads, ARGS.duration, ARGS.rounds,
                os.cpu_count(), os.path.basename(SCRIPT), len(SCRIPT_BYTES)))
        answers = {cfg: answer_of(cfg) for cfg in CONFIGS}
        only = ARGS.only.split(',')
        for name, fn in (('hot', measure_hot), ('stall', measure_stall),
                         ('modes', measure_modes), ('wal', measure_wal),
                         ('replay', measure_replay)):
            if name in only:
                fn(answers)
    finally:
        if ARGS.keep:
            log('work directory kept: ' + WORK)
        else:
            shutil.rmtree(WORK, ignore_errors=True)
    print('---- s2r serve against its floor (bare libmicrohttpd), same run')
    for line in SUMMARY:
        print(line)
    for p in PROBLEMS:
        print('problem: ' + p)
    if not SUMMARY and not PROBLEMS:
        print('problem: nothing measured (--only %s)' % ARGS.only)
        return 1
    sys.stdout.flush()
    return 1 if PROBLEMS else 0


if __name__ == '__main__':
    sys.exit(main())
