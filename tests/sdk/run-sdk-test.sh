#!/bin/sh
# run-sdk-test.sh BUILD_DIR SOURCE_DIR
# Install s2r into a staging prefix, build examples/plugin-skeleton against
# the installed SDK (find_package and pkg-config), then load and use it with
# the installed s2r.
set -eu
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
stage="$work/stage"
fail() { echo "run-sdk-test: FAIL: $*" >&2; exit 1; }
unset S2R_PLUGIN_PATH

echo "== install into $stage"
cmake --install "$build" --prefix "$stage" >"$work/install.log" ||
    { cat "$work/install.log"; fail "cmake --install"; }
pc=$(ls "$stage"/lib*/pkgconfig/s2r-plugin.pc 2>/dev/null | head -n 1)
[ -n "$pc" ] || fail "no lib*/pkgconfig/s2r-plugin.pc"
[ -x "$stage/bin/s2r" ] || fail "no bin/s2r"
[ -f "$stage/include/s2r/plugin.h" ] || fail "no include/s2r/plugin.h"
ls "$stage"/lib*/cmake/S2RPlugin/S2RPluginConfig.cmake >/dev/null ||
    fail "no CMake package"

echo "== build the skeleton with find_package(S2RPlugin)"
cmake -S "$src/examples/plugin-skeleton" -B "$work/sk" \
    -DCMAKE_PREFIX_PATH="$stage" -DCMAKE_INSTALL_PREFIX="$stage" \
    >"$work/sk.log" 2>&1 || { cat "$work/sk.log"; fail "configure"; }
cmake --build "$work/sk" >>"$work/sk.log" 2>&1 ||
    { cat "$work/sk.log"; fail "build"; }
cmake --install "$work/sk" >>"$work/sk.log" 2>&1 ||
    { cat "$work/sk.log"; fail "install"; }

echo "== build it again with pkg-config only"
export PKG_CONFIG_PATH="$(dirname "$pc")"
plugindir=$(pkg-config --variable=plugindir s2r-plugin)
[ -f "$plugindir/s2r-skeleton.so" ] ||
    fail "s2r-skeleton.so is not in plugindir $plugindir"
mkdir -p "$work/pc"
# shellcheck disable=SC2046
${CC:-cc} -std=c11 -Wall -Wextra -Werror -fPIC -shared -fvisibility=hidden \
    $(pkg-config --cflags s2r-plugin) \
    "$src/examples/plugin-skeleton/skeleton.c" -o "$work/pc/s2r-skeleton.so" \
    -Wl,--no-undefined $(pkg-config --libs s2r-plugin) ||
    fail "pkg-config build"

echo "== the plugin links no core, curl or OpenSSL and exports one symbol"
for so in "$plugindir/s2r-skeleton.so" "$work/pc/s2r-skeleton.so"; do
    if nm -D --undefined-only "$so" | grep -E ' (s2r_|curl_|OPENSSL_|SSL_|EVP_)'; then
        fail "$so uses symbols it must get from the host table"
    fi
    exported=$(nm -D --defined-only "$so" | awk '$2 ~ /^[TDBR]$/ {print $3}')
    [ "$exported" = "s2r_plugin_entry_v1" ] ||
        fail "$so exports: $exported"
done

echo "== the installed s2r finds, documents and uses it"
s2r="$stage/bin/s2r"
"$s2r" plugins >"$work/plugins.txt" 2>&1 || { cat "$work/plugins.txt"; fail "s2r plugins"; }
grep -q "^skeleton *provider *1.0.0 *$plugindir/s2r-skeleton.so" "$work/plugins.txt" ||
    grep -q "^skeleton *provider *1.0.0 .*/s2r-skeleton.so" "$work/plugins.txt" ||
    { cat "$work/plugins.txt"; fail "s2r plugins does not list skeleton"; }
"$s2r" help skeleton >"$work/help.txt" 2>&1 || { cat "$work/help.txt"; fail "s2r help"; }
grep -q "Image proposed for scripts" "$work/help.txt" || { cat "$work/help.txt"; fail "help text"; }

cat >"$work/s2r.ini" <<INI
[core]
provider = sk

[provider.sk]
plugin = skeleton
image = example.org/skeleton:1
api_key = env:SKELETON_KEY
INI
SKELETON_KEY=do-not-print-me "$s2r" check-config --config "$work/s2r.ini" \
    >"$work/check.txt" 2>&1 || { cat "$work/check.txt"; fail "check-config"; }
grep -q "do-not-print-me" "$work/check.txt" && fail "check-config printed the secret"

cat >"$work/job.sbatch" <<'JOB'
#!/bin/bash
#SBATCH --job-name=skeleton-test
#SBATCH --gres=gpu:1
python train.py
JOB
SKELETON_KEY=do-not-print-me "$s2r" --config "$work/s2r.ini" "$work/job.sbatch" \
    >"$work/out.txt" 2>"$work/err.txt" || { cat "$work/err.txt"; fail "s2r --config"; }
grep -q "example.org/skeleton:1" "$work/out.txt" ||
    { cat "$work/out.txt" "$work/err.txt"; fail "the skeleton's image is not in the output"; }

echo "== the pkg-config build loads too (--plugin-dir comes first)"
"$s2r" help skeleton --plugin-dir "$work/pc" | grep -q "file: $work/pc/s2r-skeleton.so" ||
    fail "--plugin-dir is not searched first"
echo "run-sdk-test: OK"
