#!/bin/sh
# bench-serve.sh: conversions per second and latency of `s2r serve` with
# auth-hmac and ratelimit-sqlite (a limit high enough never to refuse),
# measured with wrk on loopback. Not a test: run it by hand.
#
#   bench/bench-serve.sh [BUILD_DIR]     (default: build)
#
# Environment: DURATION (s, default 10), CONNECTIONS (default 16),
# WRK_THREADS (default 1), SERVER_THREADS (default 2), SCRIPT (the batch
# script posted, default examples/train-resnet.sbatch), FORMAT (default
# cli), KEEP=1 keeps the work directory.
#
# Every request carries its own signature (the replay cache refuses a
# signature twice), so the signed requests are made beforehand with
# python3's hmac and wrk's Lua script sends each once. The report says
# requests/s, the latency percentiles, and any error or non-200 answer.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
case $build in /*) ;; *) build=$here/$build ;; esac
duration=${DURATION:-10}
conns=${CONNECTIONS:-16}
wrk_threads=${WRK_THREADS:-1}
srv_threads=${SERVER_THREADS:-2}
script=${SCRIPT:-$here/examples/train-resnet.sbatch}
format=${FORMAT:-cli}

for tool in wrk python3; do
    command -v $tool >/dev/null || { echo "bench-serve: $tool is needed" >&2; exit 2; }
done
[ -x "$build/s2r" ] || { echo "bench-serve: no $build/s2r (build first)" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/bench-serve.XXXXXX")
pid=""
cleanup() {
    if [ -n "$pid" ] && kill "$pid" 2>/dev/null; then
        # SIGTERM: the server drains and exits; give it 5 s
        for _ in $(seq 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
    fi
    [ "${KEEP:-0}" = 1 ] || rm -rf "$work"
}
trap cleanup EXIT INT TERM

export S2R_BENCH_SECRET="bench-$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')"
cat > "$work/server.ini" <<EOF
[server]
listen = 127.0.0.1:0
threads = $srv_threads

[auth.hmac]
plugin = auth-hmac
secret = env:S2R_BENCH_SECRET

[ratelimit.daily]
plugin = ratelimit-sqlite
path = $work/ratelimit.db
limit = 1000000000000
EOF

S2R_PLUGIN_PATH="$build/plugins" "$build/s2r" serve --config "$work/server.ini" \
    2> "$work/server.log" &
pid=$!
port=""
for _ in $(seq 100); do
    port=$(sed -n 's/.*"event":"listening".*"address":"127\.0\.0\.1:\([0-9]*\)".*/\1/p' "$work/server.log")
    [ -n "$port" ] && break
    kill -0 "$pid" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
    sleep 0.1
done
[ -n "$port" ] || { echo "bench-serve: the server did not start" >&2; exit 1; }

# One signed request per line: "timestamp signature". Enough for 40,000/s.
count=$((duration * 40000 + 10000))
python3 - "$script" "$count" > "$work/signed.txt" <<'EOF'
import hashlib, hmac, os, sys, time
body = open(sys.argv[1], 'rb').read()
key = os.environ['S2R_BENCH_SECRET'].encode()
now = int(time.time())
out = []
for i in range(int(sys.argv[2])):
    ts = '%d.%06d' % (now + i // 1000000, i % 1000000)
    mac = hmac.new(key, ts.encode() + b':' + body, hashlib.sha256).hexdigest()
    out.append(ts + ' ' + mac)
sys.stdout.write('\n'.join(out) + '\n')
EOF

cat > "$work/post.lua" <<EOF
-- each wrk thread sends every n-th signed request, each one once
local threads = {}
local counter = 0
function setup(thread)
    thread:set("tid", counter)
    table.insert(threads, thread)
    counter = counter + 1
end
function init(args)
    local f = assert(io.open("$work/signed.txt"))
    body = assert(io.open("$script", "rb")):read("*a")
    signed = {}
    local i = 0
    local n = $wrk_threads
    for line in f:lines() do
        if i % n == tid then table.insert(signed, line) end
        i = i + 1
    end
    f:close()
    next_i = 1
end
function request()
    local line = signed[next_i]
    next_i = next_i + 1
    if next_i > #signed then next_i = 1 end
    local ts, sig = line:match("(%S+) (%S+)")
    return wrk.format("POST", "/?format=$format", {
        ["Content-Type"] = "text/plain",
        ["X-S2R-Timestamp"] = ts,
        ["X-S2R-Signature"] = sig,
        ["X-S2R-Filename"] = "job.sbatch"}, body)
end
EOF

# warm up (also checks that one request passes)
python3 - "$port" "$script" <<'EOF'
import hashlib, hmac, os, sys, time, urllib.request
body = open(sys.argv[2], 'rb').read()
ts = '%.6f' % time.time()
mac = hmac.new(os.environ['S2R_BENCH_SECRET'].encode(), ts.encode() + b':' + body, hashlib.sha256).hexdigest()
req = urllib.request.Request('http://127.0.0.1:%s/' % sys.argv[1], data=body, method='POST',
                             headers={'X-S2R-Timestamp': ts, 'X-S2R-Signature': mac})
assert urllib.request.urlopen(req, timeout=10).status == 200
EOF

echo "s2r serve: $srv_threads threads, auth-hmac, ratelimit-sqlite; wrk: $wrk_threads threads, $conns connections, ${duration}s; $(nproc) CPUs"
echo "script: $script ($(wc -c < "$script") bytes), format $format"
wrk -t "$wrk_threads" -c "$conns" -d "${duration}s" --latency -s "$work/post.lua" \
    "http://127.0.0.1:$port/" | tee "$work/wrk.txt"

rps=$(sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$work/wrk.txt")
p99=$(sed -n 's/^ *99% *\([0-9.]*[a-z]*\).*/\1/p' "$work/wrk.txt")
non2xx=$(sed -n 's/^ *Non-2xx or 3xx responses: *\([0-9]*\).*/\1/p' "$work/wrk.txt")
sockerr=$(sed -n 's/^ *Socket errors: *\(.*\)$/\1/p' "$work/wrk.txt")
logged=$(grep -c '"event":"request"' "$work/server.log" || true)
bad=$(grep '"event":"request"' "$work/server.log" | grep -vc '"status":200' || true)
echo "----"
echo "conversions/s: $rps   p99: $p99   non-200 answers: ${non2xx:-0}   socket errors: ${sockerr:-none}"
echo "server log: $logged request lines, $bad not 200"
