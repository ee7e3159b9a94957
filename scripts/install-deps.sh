#!/bin/sh
# Install the Debian packages s2r needs to build and test, the Python
# package (python/) included: it builds without a package index, with
# Debian's setuptools, wheel and build; clang-14 with its sanitizer and
# libFuzzer runtimes (libclang-rt-14-dev) for scripts/test-sanitizers.sh.
# Idempotent: a no-op when everything is present.
set -eu
PKGS="build-essential cmake pkg-config libcmocka-dev libjson-c-dev libyaml-dev
libinih-dev libcurl4-openssl-dev libssl-dev libmicrohttpd-dev libsqlite3-dev
python3 python3-yaml python3-jsonschema python3-botocore wrk hyperfine
ca-certificates python3-setuptools python3-wheel python3-build python3-venv
python3-pytest chromium clang-14 libclang-rt-14-dev"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
        || missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "install-deps: installing:$missing"
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
fi
# Slurm 22.05 (slurmctld, slurm-client, munge) for the sbatch comparison
"$(dirname "$0")/install-slurm.sh"
