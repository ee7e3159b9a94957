#!/bin/sh
# bench-migrate.sh [N...]: s2r migrate over trees of N scripts made from
# the corpus (default 1000 10000 100000), one worker (-j 1), every output
# written, beside the in-process rate of the same conversions measured in
# the same run (bench_convert, which calls the same s2r_conversion_run()
# with no file I/O). Scripts per second per core = N / (user + system CPU
# seconds of the whole s2r migrate process). Not a test: figures only.
# Build first (scripts/build.sh). TMPDIR says where the trees go, OUTDIR_BASE
# where the outputs go (default: beside the trees; /dev/shm measures the
# program without the disk). Each run writes into a fresh folder: deleting
# 300,000 files just before would bill the next run for the file system's
# clean-up.
set -eu
cd "$(dirname "$0")/.."
corpus=${CORPUS:-../shared/corpus}
sizes=${*:-1000 10000 100000}
work=$(mktemp -d "${TMPDIR:-/tmp}/s2r-bench-XXXXXX")
outs=$(mktemp -d "${OUTDIR_BASE:-$work}/s2r-bench-out-XXXXXX")
trap 'rm -rf "$work" "$outs"' EXIT
printf '%-14s %8s %9s %9s %10s %10s %7s %8s\n' formats scripts "wall s" "cpu s" \
    "scripts/s" "in-proc/s" ratio "max RSS"
for fmt in cli,yaml,json cli; do
    for n in $sizes; do
        [ -d "$work/t$n" ] || bench/make-tree.sh "$n" "$work/t$n" "$corpus"
        # best of three on each side: the machine is shared
        inproc=$(for i in 1 2 3; do ./build/bench/bench_convert "$corpus" 1 "$fmt" |
                 sed -n 's/.*s: \([0-9]*\) conversions\/s.*/\1/p'; done | sort -g | tail -n 1)
        : > "$work/runs"
        for i in 1 2 3; do
            out="$outs/$fmt-$n-$i"
            /usr/bin/time -f "%U %S %e %M" -o "$work/time" \
                env S2R_CONFIG= ./build/s2r migrate -q -j 1 -f "$fmt" \
                -o "$out" "$work/t$n" 2>/dev/null || true
            tail -n 1 "$work/time" | awk '{ print $1 + $2, $3, $4 }' >> "$work/runs"
        done
        read -r cpu wall rss <<EOT
$(sort -g "$work/runs" | head -n 1)
EOT
        awk -v f="$fmt" -v n="$n" -v w="$wall" -v c="$cpu" -v r="$rss" \
            -v i="$inproc" 'BEGIN { rate = n / c;
            printf "%-14s %8d %9.2f %9.2f %10.0f %10d %6.0f%% %6.1f MiB\n",
                   f, n, w, c, rate, i, 100 * rate / i, r / 1024 }'
    done
done
