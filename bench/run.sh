#!/bin/sh
# Benchmarks (not tests): in-process conversions/s over the corpus, and the
# whole-process time of one `s2r` call. Build first (scripts/build.sh).
# Also: bench-startup.sh (a site file costs nothing with provider = rules),
# bench-migrate.sh (s2r migrate against the in-process rate), bench-scale.py
# (µs per KB of a script from 1 KB to 1,000 KB: linear or not).
set -eu
cd "$(dirname "$0")/.."
corpus="${1:-../shared/corpus}"
for fmt in cli yaml json; do
    ./build/bench/bench_convert "$corpus" 3 "$fmt"
done
one="$corpus/03-torchrun-4node-rdzv.sbatch"
[ -f "$one" ] || one=examples/train-resnet.sbatch
if command -v hyperfine >/dev/null 2>&1; then
    hyperfine -N --warmup 20 --runs 300 "./build/s2r -q $one" \
              "./build/s2r -q --format yaml $one" 2>/dev/null |
        grep -E 'Time|Benchmark'
else
    echo "hyperfine missing: ./scripts/install-deps.sh installs it"
fi
