#!/bin/sh
# run-libs2r-test.sh BUILD_DIR TEST_DIR
# Install s2r into a staging prefix, build convert-json.c against the
# installed <s2r/s2r.h> and libs2r.so with pkg-config only, and run it:
# the document it prints is the program's conversion.
set -eu
build=$(cd "$1" && pwd)
here=$(cd "$2" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
stage="$work/stage"
fail() { echo "run-libs2r-test: FAIL: $*" >&2; exit 1; }

cmake --install "$build" --prefix "$stage" >"$work/install.log" ||
    { cat "$work/install.log"; fail "cmake --install"; }
pc=$(ls "$stage"/lib*/pkgconfig/s2r.pc 2>/dev/null | head -n 1)
[ -n "$pc" ] || fail "no lib*/pkgconfig/s2r.pc"
[ -f "$stage/include/s2r/s2r.h" ] || fail "no include/s2r/s2r.h"
export PKG_CONFIG_PATH="$(dirname "$pc")"
libdir=$(pkg-config --variable=libdir s2r)
# shellcheck disable=SC2046
${CC:-cc} -std=c11 -Wall -Wextra -Werror $(pkg-config --cflags s2r) \
    "$here/convert-json.c" -o "$work/convert-json" \
    $(pkg-config --libs s2r) -Wl,-rpath,"$libdir" ||
    fail "build against the installed libs2r"
ldd "$work/convert-json" | grep -q "$libdir/libs2r.so.0" ||
    fail "not linked with the installed libs2r.so.0"

cat >"$work/job.sh" <<'JOB'
#!/bin/bash
#SBATCH --job-name=lib-test
#SBATCH --gres=gpu:2
#SBATCH --mail-type=END
python train.py
JOB
cd "$work"
./convert-json job.sh yaml >"$work/doc.json" || fail "convert-json exited $?"
"$build/s2r" --format yaml job.sh >"$work/expected.yaml" 2>/dev/null
python3 - "$work/doc.json" "$work/expected.yaml" <<'PY' || fail "document"
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["output"] == open(sys.argv[2]).read(), "output differs"
assert doc["job"]["gpus_per_node"] == 2
assert doc["workload"]["name"] == "lib-test"
mail = [d for d in doc["diagnostics"] if d["option"] == "mail-type"][0]
assert (mail["line"], mail["category"]) == (4, "option"), mail
PY
printf '#!/bin/bash\n#SBATCH --time=abc\n' >"$work/bad.sh"
if ./convert-json bad.sh cli >"$work/bad.json"; then
    fail "a refused script exited 0"
fi
grep -q '"option":"time"' "$work/bad.json" || fail "no error naming --time"
echo "run-libs2r-test: OK"
