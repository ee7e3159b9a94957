#!/bin/sh
# Install what is missing, build, and convert the example script with the
# example configuration: prints the Run:ai submission script.
set -eu
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh
./build/s2r --config s2r.ini.example examples/train-resnet.sbatch
