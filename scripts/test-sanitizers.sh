#!/bin/sh
# The sanitizer half of the test suite (scripts/test.sh runs it last;
# docs/fuzzing.md): build everything with clang, ASan, UBSan and
# libFuzzer's instrumentation into build-asan, run the whole ctest suite
# there, then every fuzz harness for S2R_FUZZ_SECONDS (default 60), two
# at a time (tests/fuzz/run-fuzz.sh), from seed S2R_FUZZ_SEED (default 1):
# every machine walks the same inputs, a slower one fewer of them, so a
# red run is the code's, not the dice's (S2R_FUZZ_SEED=new draws a new
# seed; S2R_FUZZ_RUNS=N runs N inputs each instead of a time). Any
# sanitizer report, leak or fuzz finding fails the run.
#
# Not run under the sanitizers: python.package, which builds its own,
# uninstrumented copy of the project from the sources (python/setup.py)
# and loads it into Debian's python3; the build-asan programs it compares
# with run in the other tests.
#
# Known findings whose fixes are pending are left unchecked by
# tests/fuzz/known-findings.ignorelist (compile time) and
# tests/fuzz/known-findings.supp (ASan run time); each entry says which.
set -eu
cd "$(dirname "$0")/.."
now() { date +%s; }
t0=$(now)
cc=$(command -v clang-14 || command -v clang) || {
    echo "test-sanitizers: no clang (scripts/install-deps.sh installs it)" >&2
    exit 1
}
ignorelist=""
[ -s tests/fuzz/known-findings.ignorelist ] &&
    ignorelist="tests/fuzz/known-findings.ignorelist"
cmake -S . -B build-asan -DCMAKE_C_COMPILER="$cc" \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DS2R_SANITIZE=address,undefined \
    -DS2R_FUZZ=ON -DS2R_SANITIZE_IGNORELIST="$ignorelist" \
    -DS2R_SBATCH_GENERATE=200 >/dev/null
cmake --build build-asan -j "$(nproc)"
t1=$(now)

ASAN_OPTIONS="halt_on_error=1:detect_leaks=1"
[ -s tests/fuzz/known-findings.supp ] &&
    ASAN_OPTIONS="$ASAN_OPTIONS:suppressions=$PWD/tests/fuzz/known-findings.supp"
export ASAN_OPTIONS
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
ctest --test-dir build-asan --output-on-failure -j 2 -E '^python\.package$'
t2=$(now)

set -- -t "${S2R_FUZZ_SECONDS:-60}"
[ -n "${S2R_FUZZ_RUNS:-}" ] && set -- -n "$S2R_FUZZ_RUNS"
[ "${S2R_FUZZ_SEED:-1}" != new ] && set -- "$@" -s "${S2R_FUZZ_SEED:-1}"
tests/fuzz/run-fuzz.sh "$@" -j 2 build-asan
t3=$(now)
echo "test-sanitizers: build $((t1 - t0)) s, ctest under ASan+UBSan" \
     "$((t2 - t1)) s, fuzzing $((t3 - t2)) s"
