#!/bin/sh
# make-tree.sh N DIR [CORPUS]: N batch scripts made from the corpus, 100
# to a folder (DIR/g0000/c012/...), each a corpus case with its job name
# made unique, so a tree of any size has the corpus' mix of kinds, warnings
# and refusals.
set -eu
n=$1
dir=$2
corpus=${3:-$(dirname "$0")/../../shared/corpus}
python3 - "$n" "$dir" "$corpus" <<'PY'
import os, sys, glob
n, root, corpus = int(sys.argv[1]), sys.argv[2], sys.argv[3]
cases = [open(f, "rb").read() for f in sorted(glob.glob(os.path.join(corpus, "*.sbatch")))]
names = [os.path.basename(f) for f in sorted(glob.glob(os.path.join(corpus, "*.sbatch")))]
for i in range(n):
    d = os.path.join(root, "g%04d" % (i // 10000), "c%03d" % (i // 100 % 100))
    if i % 100 == 0:
        os.makedirs(d, exist_ok=True)
    k = i % len(cases)
    with open(os.path.join(d, "%06d-%s" % (i, names[k])), "wb") as fh:
        fh.write(cases[k])
PY
