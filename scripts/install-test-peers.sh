#!/bin/sh
# Install the loopback peers the integration tests start by themselves
# (npm packages, into project-local folders, as their lock files pin them).
# Idempotent: a no-op when they are present. Called by scripts/test.sh.
#  - dynalite (an in-memory DynamoDB) into tests/aws/node_modules;
#  - node-llama-cpp (optional) into tests/llm/node_modules: without it the
#    one test against a real llama.cpp skips;
#  - playwright-core into tests/migrate/node_modules: it drives Debian's
#    chromium (scripts/install-deps.sh) to open report.html.
set -eu
cd "$(dirname "$0")/.."

if ! command -v npm >/dev/null 2>&1; then
    echo "install-test-peers: installing nodejs and npm"
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
        --no-install-recommends nodejs npm
fi

dir=tests/aws
stamp="$dir/node_modules/.package-lock.json"
if [ -f "$dir/node_modules/dynalite/package.json" ] && [ -f "$stamp" ] &&
   [ ! "$dir/package-lock.json" -nt "$stamp" ]; then
    :
else
    echo "install-test-peers: npm ci in $dir (dynalite)"
    (cd "$dir" && npm ci --no-audit --no-fund --omit=dev --loglevel=error)
    test -f "$dir/node_modules/dynalite/package.json"
fi

llm=tests/llm
if [ ! -f "$llm/node_modules/node-llama-cpp/package.json" ]; then
    echo "install-test-peers: npm install in $llm (node-llama-cpp, optional)"
    (cd "$llm" && npm install --no-audit --no-fund --omit=optional \
        --ignore-scripts --loglevel=error) ||
        echo "install-test-peers: node-llama-cpp not installed; llm.llama.tiny will skip"
fi

dir=tests/migrate
stamp="$dir/node_modules/.package-lock.json"
if [ -f "$dir/node_modules/playwright-core/package.json" ] && [ -f "$stamp" ] &&
   [ ! "$dir/package-lock.json" -nt "$stamp" ]; then
    :
else
    echo "install-test-peers: npm ci in $dir (playwright-core)"
    (cd "$dir" && npm ci --no-audit --no-fund --omit=dev --loglevel=error)
    test -f "$dir/node_modules/playwright-core/package.json"
fi
