#!/bin/sh
# bench-floor.sh: bench_convert side by side with its floor, convert_floor
# (read the #SBATCH words, copy the output bytes s2r writes), for cli,
# yaml and json, from buffers and reading the files. The ratio s2r/floor
# moves less with the machine than conversions/s do. Not a test: figures
# only.
#   bench/bench-floor.sh [CORPUS] [SECONDS]
set -eu
cd "$(dirname "$0")/.."
corpus=${1:-../shared/corpus}
seconds=${2:-1}
build=${BUILD:-build}
expected=$(mktemp -d)
trap 'rm -rf "$expected"' EXIT
# The outputs with the built-in defaults, as bench_convert converts
export S2R_CONFIG=
for fmt in cli yaml json; do
    for job in "$corpus"/*.sbatch; do
        out="$expected/$(basename "$job").$fmt"
        # refused: no file, the floor writes nothing for it
        "$build/s2r" -q --format "$fmt" "$job" >"$out" 2>/dev/null || rm -f "$out"
    done
done
rate() { sed -n 's/.*: \([0-9]*\) conversions\/s.*/\1/p'; }
# from buffers (the scripts read once), then reading each script from
# its file at every conversion, as `s2r job.sh` does
for fmt in cli yaml json; do
    for how in "" write files; do
        floor=$("$build/bench/convert_floor" "$corpus" "$seconds" "$fmt" "$expected" $how | rate)
        s2r=$("$build/bench/bench_convert" "$corpus" "$seconds" "$fmt" $how | rate)
        case $how in
        files) what=" (reading files)" ;;
        write) what=" (writing the output)" ;;
        *) what="" ;;
        esac
        awk -v f="$fmt$what" -v s="$s2r" -v m="$floor" 'BEGIN {
            printf "bench-floor: %s s2r %d/s, floor %d/s, ratio %.4f\n", f, s, m, s / m }'
    done
done
