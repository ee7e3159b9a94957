#!/bin/sh
# Install Debian's Slurm controller, client and MUNGE for the sbatch
# comparison test (tests/sbatch). Their services are not started: the test
# runs its own munged and slurmctld as the current user on loopback.
# Idempotent; exits 0 without installing when apt-get cannot run here (the
# test then skips).
set -eu
PKGS="slurmctld slurm-client munge"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
        || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null 2>&1 || ! sudo -n true 2>/dev/null; then
        echo "install-slurm: not root and no sudo: the sbatch test will skip" >&2
        exit 0
    fi
    SUDO="sudo -n"
fi
echo "install-slurm: installing:$missing"
$SUDO apt-get update -qq
# no service start during the install (the test starts its own daemons)
DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 $SUDO apt-get install -y -qq \
    --no-install-recommends $missing \
    || echo "install-slurm: could not install$missing: the sbatch test will skip" >&2
