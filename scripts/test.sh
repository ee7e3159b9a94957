#!/bin/sh
# The whole test suite: install, build with warnings as errors, check the
# folder layers, run the cmocka/ctest suite and the shared corpus checkers,
# then the same suite under ASan and UBSan and every fuzz harness for 60 s
# from a fixed seed
# (scripts/test-sanitizers.sh; S2R_TEST_SANITIZERS=0 skips that part).
set -eu
cd "$(dirname "$0")/.."
# the built-in defaults: no stray ./s2r.ini or ~/.config/s2r/s2r.ini
export S2R_CONFIG=
./scripts/install-deps.sh
[ -x scripts/install-test-peers.sh ] && ./scripts/install-test-peers.sh
./scripts/build.sh -DS2R_WERROR=ON
./scripts/layering-check --objects build
ctest --test-dir build --output-on-failure -j 2
shared="${S2R_SHARED_DIR:-../shared}"
if [ -d "$shared/tools" ]; then
    site="$shared/tools/site-example.ini"
    "$shared/tools/check-corpus" --bin build/s2r
    "$shared/tools/check-cli" --bin build/s2r
    "$shared/tools/check-corpus" --bin build/s2r --config "$site"
    "$shared/tools/check-cli" --bin build/s2r --config "$site"
    # the launcher cases of tests/corpus, in the same schema
    "$shared/tools/check-corpus" --bin build/s2r tests/corpus
    "$shared/tools/check-cli" --bin build/s2r tests/corpus
    # the workloads run where the jobs ran: the corpus and scripts of our own
    "$shared/tools/check-runnable" --bin build/s2r
    "$shared/tools/check-runnable" --bin build/s2r tests/runnable
    for config in "" "--config $site"; do
        out=$(mktemp -d)
        for f in "$shared"/corpus/*.sbatch tests/runnable/*.sbatch tests/corpus/*.sbatch; do
            # shellcheck disable=SC2086 # $config is empty or two words
            ./build/s2r -q $config --format yaml "$f" > "$out/$(basename "$f" .sbatch).yaml" 2>/dev/null || rm -f "$out/$(basename "$f" .sbatch).yaml"
        done
        "$shared/tools/validate-k8s" "$out"/*.yaml
        echo "validate-k8s${config:+ ($config)}: $(ls "$out" | wc -l) workloads valid"
        rm -rf "$out"
    done
fi
if [ "${S2R_TEST_SANITIZERS:-1}" != 0 ]; then
    ./scripts/test-sanitizers.sh
fi
