#!/bin/sh
# build-zip.sh: make the AWS Lambda deployment zip of s2r.
#
#   lambda/build-zip.sh [--build-dir DIR] [--output FILE.zip]
#
# Without --build-dir: a fresh Release build (tests off) in build-lambda/.
# With it: packages that existing build (its s2r and plugins) as it is.
# Output (default build-lambda/s2r-lambda.zip), for runtime
# provided.al2023 on x86_64, handler ignored:
#
#   bootstrap                          lambda/bootstrap
#   bin/s2r                            the program
#   lib/s2r/libs2r-runtime.so          subcommands, plugin host, server
#   lib/s2r/plugins/s2r-*.so           every installed plugin
#   lib/*.so*                          every shared library they need,
#                                      glibc and its loader included
#                                      (bootstrap runs s2r on
#                                      lib/ld-linux-x86-64.so.2
#                                      --library-path lib: the Lambda
#                                      image's own libraries play no part;
#                                      s2r links against glibc 2.36 while
#                                      Amazon Linux 2023 has 2.34)
#   etc/ssl/certs/ca-certificates.crt  the CA bundle (bootstrap points
#                                      SSL_CERT_FILE and the plugins'
#                                      ca_file at it)
#   s2r.ini.example                    a configuration to start from
#
# Needs: cmake, a C compiler and the -dev packages of scripts/install-deps.sh,
# ldd, python3 (the zip is written with python's zipfile: sorted entries,
# fixed time stamps, Unix modes kept).
set -eu
here=$(pwd)
cd "$(dirname "$0")/.."
src=$(pwd)
build=""
out=""
abs() { case "$1" in /*) echo "$1" ;; *) echo "$here/$1" ;; esac; }
while [ $# -gt 0 ]; do
    case "$1" in
    --build-dir) build=$(abs "$2"); shift 2 ;;
    --output) out=$(abs "$2"); shift 2 ;;
    -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
    *) echo "build-zip.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
if [ -z "$build" ]; then
    build="$src/build-lambda"
    cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release \
        -DS2R_BUILD_TESTS=OFF -DCMAKE_INSTALL_LIBDIR=lib >/dev/null
    cmake --build "$build" -j"$(nproc 2>/dev/null || echo 2)"
fi
[ -n "$out" ] || out="$build/s2r-lambda.zip"

stage="$build/lambda-stage"
rm -rf "$stage" "$build/lambda-install"
mkdir -p "$stage/bin" "$stage/lib/s2r/plugins" "$stage/etc/ssl/certs"
cmake --install "$build" --prefix "$build/lambda-install" >/dev/null
cp "$build/lambda-install/bin/s2r" "$stage/bin/s2r"
find "$build/lambda-install" -name 's2r-*.so' -exec cp {} \
    "$stage/lib/s2r/plugins/" \;
find "$build/lambda-install" -name libs2r-runtime.so -exec cp {} \
    "$stage/lib/s2r/" \;
[ -f "$stage/lib/s2r/libs2r-runtime.so" ] || {
    echo "build-zip.sh: libs2r-runtime.so was not installed" >&2
    exit 1
}
rm -rf "$build/lambda-install"
strip --strip-unneeded "$stage/bin/s2r" "$stage"/lib/s2r/*.so \
    "$stage"/lib/s2r/plugins/*.so \
    2>/dev/null || true

# every library the program and the plugins load, resolved by ldd
for f in "$stage/bin/s2r" "$stage"/lib/s2r/*.so "$stage"/lib/s2r/plugins/*.so; do
    ldd "$f" | awk '/=>/ && $3 ~ /^\// {print $3} /^[ \t]*\/[^ ]*ld-linux/ {print $1}'
done | sort -u | while read -r lib; do
    cp -L "$lib" "$stage/lib/$(basename "$lib")"
done
[ -f "$stage/lib/ld-linux-x86-64.so.2" ] || {
    echo "build-zip.sh: no ld-linux-x86-64.so.2 found (x86_64 only)" >&2
    exit 1
}
chmod 755 "$stage/lib/ld-linux-x86-64.so.2"

ca=""
for c in /etc/ssl/certs/ca-certificates.crt /etc/pki/tls/certs/ca-bundle.crt \
         /etc/ssl/cert.pem; do
    [ -f "$c" ] && { ca="$c"; break; }
done
[ -n "$ca" ] || { echo "build-zip.sh: no CA bundle (apt-get install ca-certificates)" >&2; exit 1; }
cp -L "$ca" "$stage/etc/ssl/certs/ca-certificates.crt"
cp "$src/lambda/bootstrap" "$stage/bootstrap"
chmod 755 "$stage/bootstrap" "$stage/bin/s2r"
cp "$src/lambda/s2r.ini.example" "$stage/s2r.ini.example"

mkdir -p "$(dirname "$out")"
python3 - "$stage" "$out" <<'PY'
import os, sys, zipfile
stage, out = sys.argv[1], sys.argv[2]
tmp = out + ".tmp"
with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
    for d, dirs, files in os.walk(stage):
        dirs.sort()
        for f in sorted(files):
            p = os.path.join(d, f)
            info = zipfile.ZipInfo(os.path.relpath(p, stage),
                                   (1980, 1, 1, 0, 0, 0))
            mode = 0o755 if os.access(p, os.X_OK) else 0o644
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            with open(p, "rb") as fh:
                z.writestr(info, fh.read())
os.replace(tmp, out)
PY
echo "build-zip.sh: $out ($(du -k "$out" | cut -f1) KiB, $(find "$stage" -type f | wc -l) files)"
