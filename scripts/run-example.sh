#!/bin/sh
# Install what is missing, build, and convert the example script with the
# example configuration: prints the Run:ai submission script on standard
# output, alone (what installing and building print goes to standard
# error), so that `run-example.sh > job.sh` keeps just the script.
set -eu
cd "$(dirname "$0")/.."
./scripts/install-deps.sh >&2
./scripts/build.sh >&2
./build/s2r --config s2r.ini.example examples/train-resnet.sbatch
