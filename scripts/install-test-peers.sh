#!/bin/sh
# Install the loopback peers the AWS tests start by themselves: dynalite
# (npm, an in-memory DynamoDB) into tests/aws/node_modules, exactly as
# tests/aws/package-lock.json pins it. Idempotent: a no-op when the
# installed tree is already the locked one. Called by scripts/test.sh.
set -eu
cd "$(dirname "$0")/.."
dir=tests/aws
stamp="$dir/node_modules/.package-lock.json"
if [ -f "$dir/node_modules/dynalite/package.json" ] && [ -f "$stamp" ] &&
   [ ! "$dir/package-lock.json" -nt "$stamp" ]; then
    exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
    echo "install-test-peers: installing nodejs and npm"
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
        --no-install-recommends nodejs npm
fi
echo "install-test-peers: npm ci in $dir (dynalite)"
(cd "$dir" && npm ci --no-audit --no-fund --omit=dev --loglevel=error)
test -f "$dir/node_modules/dynalite/package.json"
