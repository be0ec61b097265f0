#!/usr/bin/env bash
# Build the release wheel: one manylinux2014 abi3 wheel (cp39-abi3) for every
# CPython >= 3.9 on this architecture, into dist/ (or $1).
#
#   scripts/build_wheel.sh [OUT_DIR]
#
# The wheel needs nothing but glibc >= 2.17 where it is installed (no clang,
# Rust, libelf or zlib), and bundles no shared library:
#  - the BPF object is compiled here (build.rs, clang) and embedded in the
#    extension; CO-RE relocates it against the target kernel's BTF at load;
#  - libbpf, libelf and zlib are built from libbpf-sys's vendored sources and
#    linked into the extension statically (cargo feature `static`);
#  - the extension is compiled and linked with zig (maturin --zig), which
#    targets glibc 2.17's symbols whatever the glibc of this machine, so the
#    platform tag is manylinux2014 (manylinux_2_17): Debian 8+, Ubuntu 14.04+,
#    RHEL/CentOS 7+. pip refuses it only on older systems.
# maturin's auditwheel runs in check mode: the build fails if the extension
# links any library outside the manylinux policy or needs a newer glibc
# symbol than 2.17, instead of bundling or retagging.
#
# Needs what `make dev` needs (clang, pkg-config, make, Rust) plus autoconf,
# automake, autopoint, gettext, flex, bison, libtool and gawk (libelf's build;
# .ci/run installs them); maturin and zig (ziglang 0.13 from PyPI: later
# versions reject the target triple maturin passes) are installed into the
# venv ($VENV, default .venv) if missing. scripts/check_wheel.sh tests the
# result on a Debian without any build tools.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

OUT=${1:-dist}
VENV=${VENV:-.venv}
PY="$VENV/bin/python"
ZIGLANG="ziglang==0.13.*"

test -x "$PY" || python3 -m venv "$VENV"
if ! "$PY" -c 'import maturin' 2>/dev/null ||
	! "$PY" -c 'import importlib.metadata as m, sys; sys.exit(not m.version("ziglang").startswith("0.13."))' 2>/dev/null; then
	"$PY" -m pip install --quiet --disable-pip-version-check "maturin>=1.5,<2" "$ZIGLANG"
fi
# maturin runs zig as `python3 -m ziglang`: the venv's python3 first on PATH.
export PATH="$(cd "$VENV/bin" && pwd):$PATH"

mkdir -p "$OUT"
# The wheels of earlier builds of this version would be overwritten anyway;
# clear them so that exactly one systrace wheel is left in $OUT.
rm -f "$OUT"/systrace-*.whl

start=$(date +%s)
maturin build --release --zig --compatibility manylinux2014 --features static \
	--auditwheel check --out "$OUT"
echo "== maturin build: $(($(date +%s) - start)) s"

shopt -s nullglob
wheels=("$OUT"/systrace-*.whl)
if [ "${#wheels[@]}" -ne 1 ]; then
	echo "expected one wheel in $OUT, found: ${wheels[*]:-none}" >&2
	exit 1
fi
wheel=${wheels[0]}
# maturin names it ...-cp39-abi3-manylinux2014_ARCH.manylinux_2_17_ARCH.whl.
case "$wheel" in
*-cp39-abi3-*manylinux2014_*) ;;
*)
	echo "$wheel: not a manylinux2014 abi3 wheel" >&2
	exit 1
	;;
esac
echo "== $wheel ($(du -h "$wheel" | cut -f1))"
# Its shared objects: the extension alone.
"$PY" - "$wheel" <<'PYEOF'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    for info in z.infolist():
        if ".so" in info.filename:
            print(f"  {info.filename}  {info.file_size} bytes")
PYEOF
