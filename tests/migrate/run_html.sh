#!/bin/sh
# migrate.html: s2r migrate over the corpus (a tree with refused scripts),
# then report.html opened in Debian's headless chromium (report_html.mjs,
# playwright-core from scripts/install-test-peers.sh). Exit 77 (skipped)
# when chromium or playwright-core is not installed.
# usage: run_html.sh S2R CORPUS_DIR
set -eu
s2r=$1
corpus=$2
here=$(cd "$(dirname "$0")" && pwd)
chromium=${CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$chromium" ] || [ ! -f "$here/node_modules/playwright-core/package.json" ] ||
   ! command -v node >/dev/null 2>&1; then
    echo "chromium or playwright-core missing (scripts/install-deps.sh, scripts/install-test-peers.sh): skipped"
    exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/tree/a/b" "$work/tree/c"
for f in "$corpus"/0*.sbatch; do cp "$f" "$work/tree/a/"; done
for f in "$corpus"/1*.sbatch; do cp "$f" "$work/tree/a/b/"; done
for f in "$corpus"/2*.sbatch "$corpus"/3*.sbatch; do cp "$f" "$work/tree/c/"; done
printf 'binary\000file' > "$work/tree/c/blob.bin"
ln -s .. "$work/tree/a/b/up"
cd "$work"
rc=0
S2R_CONFIG= "$s2r" migrate -q -f cli,yaml -o out tree || rc=$?
[ "$rc" -eq 1 ] || { echo "s2r migrate exited $rc, want 1 (refused scripts)"; exit 1; }
node "$here/report_html.mjs" out
