#!/bin/sh
# bench-startup.sh: the cost of one `s2r` call, side by side with
# /bin/true: no site file, a site file with provider = rules (converted in
# process), and the same rules through the plugin registry
# ([provider.r] plugin = rules, which loads libs2r-runtime.so). Wall time
# (hyperfine) and peak memory (/usr/bin/time). Not a test: figures only.
set -eu
cd "$(dirname "$0")/.."
corpus=${CORPUS:-../shared/corpus}
job="$corpus/03-torchrun-4node-rdzv.sbatch"
[ -f "$job" ] || job=examples/train-resnet.sbatch
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf '[core]\nprovider = rules\n[runai]\nproject = team-a\n' > "$work/rules.ini"
printf '[core]\nprovider = r\n[runai]\nproject = team-a\n[provider.r]\nplugin = rules\n' \
    > "$work/plugin.ini"
export S2R_CONFIG=
if command -v hyperfine >/dev/null 2>&1; then
    hyperfine -N --warmup 30 --runs 500 --export-json "$work/h.json" /bin/true \
        "./build/s2r -q $job" \
        "./build/s2r -q --config $work/rules.ini $job" \
        "./build/s2r -q --config $work/plugin.ini $job" >/dev/null 2>&1
    # medians: the machine is shared, means carry its outliers
    python3 - "$work/h.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
base = r[0]["median"]
for x in r:
    print("%8.2f ms median (%5.2f ms mean)  %4.1fx /bin/true  %s" % (
        x["median"] * 1e3, x["mean"] * 1e3, x["median"] / base,
        x["command"].replace(sys.argv[1].rsplit("/", 1)[0] + "/", "")))
PY
else
    echo "hyperfine missing: ./scripts/install-deps.sh installs it"
fi
for cmd in "/bin/true" "./build/s2r -q $job" \
           "./build/s2r -q --config $work/rules.ini $job" \
           "./build/s2r -q --config $work/plugin.ini $job"; do
    rss=$(/usr/bin/time -f %M $cmd 2>&1 >/dev/null | tail -n 1)
    printf '%8d KiB peak  %s\n' "$rss" "$cmd"
done
