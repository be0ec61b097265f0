#!/usr/bin/env bash
# Prove that a systrace wheel installs and traces on an older machine without
# build tools: a minimal Debian 11 bullseye (glibc 2.31, Python 3.9, the
# oldest CPython the abi3 wheel supports; python3 and python3-venv, nothing
# else: no clang, no Rust, no compiler, no libelf) in a chroot on this kernel.
# The wheel is built on bookworm (glibc 2.36): the check shows that it does
# not need the build machine's glibc.
#
#   scripts/check_wheel.sh dist/systrace-*.whl
#
# As root. The first run debootstraps the root filesystem into
# $SYSTRACE_CHECK_ROOTFS (default /var/cache/systrace/SUITE-python) from
# $DEBIAN_MIRROR (default http://deb.debian.org/debian), which takes a few
# minutes; later runs reuse it. SYSTRACE_CHECK_SUITE picks another Debian
# (default bullseye; bookworm and trixie work too). Every run works on an
# overlay of it, so the cached tree stays pristine, in a private mount
# namespace, so nothing stays mounted. Inside the chroot it: checks the
# build tools are absent, makes a venv, `pip install --no-index` the wheel
# alone, shows `ldd` of the installed extension (every library must resolve,
# to the system's glibc and nothing else: libbpf, libelf and zlib are linked
# in statically), and traces getppid. Exits non-zero on any failure.
set -euo pipefail

usage() {
	echo "usage: $0 WHEEL" >&2
	exit 2
}
[ $# -eq 1 ] || usage
WHEEL=$(readlink -f "$1")
[ -f "$WHEEL" ] || {
	echo "$1: no such wheel" >&2
	exit 2
}
[ "$(id -u)" -eq 0 ] || {
	echo "$0: needs root (debootstrap, chroot, mounts, and tracing)" >&2
	exit 2
}

SUITE=${SYSTRACE_CHECK_SUITE:-bullseye}
ROOTFS=${SYSTRACE_CHECK_ROOTFS:-/var/cache/systrace/$SUITE-python}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

# 1. The cached minimal Debian.
if [ ! -e "$ROOTFS/.systrace-complete" ]; then
	if ! command -v debootstrap >/dev/null; then
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap
	fi
	echo "== debootstrap $SUITE (minbase + python3, python3-venv) into $ROOTFS"
	rm -rf "$ROOTFS.tmp"
	mkdir -p "$(dirname "$ROOTFS")"
	debootstrap --variant=minbase --include=python3,python3-venv "$SUITE" "$ROOTFS.tmp" "$MIRROR"
	rm -rf "$ROOTFS"
	mv "$ROOTFS.tmp" "$ROOTFS"
	touch "$ROOTFS/.systrace-complete"
fi

# 2. In a private mount namespace: an overlay of the rootfs, /proc, /sys (with
#    /sys/kernel/btf and, through the recursive bind, /sys/kernel/tracing and
#    /sys/fs/bpf) and /dev, then the check inside the chroot.
if [ -z "${_SYSTRACE_CHECK_NS:-}" ]; then
	export _SYSTRACE_CHECK_NS=1
	exec unshare --mount --propagation private -- "$0" "$WHEEL"
fi

WORK=$(mktemp -d /tmp/systrace-wheelcheck.XXXXXX)
trap 'umount -R "$WORK/root" 2>/dev/null || true; rm -rf "$WORK"' EXIT
mkdir -p "$WORK/upper" "$WORK/work" "$WORK/root"
mount -t overlay overlay -o "lowerdir=$ROOTFS,upperdir=$WORK/upper,workdir=$WORK/work" "$WORK/root"
R=$WORK/root
mount -t proc proc "$R/proc"
mount --rbind /sys "$R/sys"
mount --rbind /dev "$R/dev"
if [ ! -d /sys/kernel/tracing/events ] && [ -d /sys/kernel/tracing ]; then
	# Not needed (the wheel has an embedded syscall table), but the host's
	# layout is what a user would have.
	echo "note: tracefs is not mounted on the host; systrace uses its embedded metadata"
fi
name=$(basename "$WHEEL")
cp "$WHEEL" "$R/tmp/$name"

cat >"$R/tmp/trace_check.py" <<'EOF'
import os, sys, time
import systrace

print("systrace from", os.path.dirname(systrace.__file__))
with systrace.enable("getppid") as session:
    ppid = os.getppid()
events = session.events()
print(f"{len(events)} events:")
for ev in events:
    print(f"  {ev.phase:5} pid={ev.pid} comm={ev.comm!r} {ev}")
enter = [e for e in events if e.phase == "enter" and e.name == "getppid" and e.pid == os.getpid()]
exit_ = [e for e in events if e.phase == "exit" and e.name == "getppid" and e.pid == os.getpid()]
assert len(enter) == 1, f"expected one getppid enter event, got {events}"
assert len(exit_) == 1 and exit_[0].ret == ppid, f"expected one exit returning {ppid}, got {events}"
print("OK: traced getppid ->", exit_[0].ret)
EOF

cat >"$R/tmp/check.sh" <<EOF
set -eu
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export LC_ALL=C.UTF-8 PIP_DISABLE_PIP_VERSION_CHECK=1
echo "== the chroot: \$(. /etc/os-release && echo "\$PRETTY_NAME"), \$(python3 --version), glibc \$(getconf GNU_LIBC_VERSION | cut -d' ' -f2)"
for tool in clang gcc cc rustc cargo ld pkg-config; do
	if command -v "\$tool" >/dev/null 2>&1; then
		echo "build tool present in the chroot: \$tool" >&2
		exit 1
	fi
done
for header in /usr/include/libelf.h /usr/include/gelf.h /usr/include/zlib.h; do
	if [ -e "\$header" ]; then
		echo "development header present in the chroot: \$header" >&2
		exit 1
	fi
done
if dpkg-query -W -f '\${Status}' libelf1 2>/dev/null | grep -q installed; then
	echo "libelf1 is installed in the chroot: the check would not prove the extension does without it" >&2
	exit 1
fi
echo "no clang, gcc, rustc, cargo, ld, pkg-config, libelf1 or development headers"
echo "== python3 -m venv /opt/venv && pip install --no-index $name"
python3 -m venv /opt/venv
/opt/venv/bin/pip install --no-index "/tmp/$name"
so=\$(/opt/venv/bin/python -c 'import importlib.util as u; print(u.find_spec("systrace._native").origin)')
echo "== ldd \$so"
ldd "\$so"
if ldd "\$so" | grep -q 'not found'; then
	echo "unresolved libraries" >&2
	exit 1
fi
# Only glibc's own libraries (and libgcc_s, which every glibc system has):
# libbpf, libelf and zlib are inside the extension.
if ldd "\$so" | grep -v -E '^\s*(linux-vdso\.so|/lib64/ld-linux|(libc|libm|libdl|libpthread|librt|libgcc_s)\.so)'; then
	echo "the extension links the libraries above: only glibc's are expected" >&2
	exit 1
fi
if [ -e /opt/venv/lib/python3*/site-packages/systrace.libs ]; then
	echo "the wheel bundles shared libraries (systrace.libs/)" >&2
	exit 1
fi
echo "== trace"
cd /tmp && /opt/venv/bin/python /tmp/trace_check.py
# The command: the wheel's own script, its first line made this venv's python by pip.
echo "== /opt/venv/bin/systrace"
head -1 /opt/venv/bin/systrace
/opt/venv/bin/systrace -e trace=getppid -- /opt/venv/bin/python -c 'import os; os.getppid()' 2>&1 | grep -E '^getppid\(\) += [0-9]+$'
echo "OK: the command traced getppid"
EOF

start=$(date +%s)
# A clean environment, as on a fresh machine (no PIP_* settings of this host).
chroot "$R" /usr/bin/env -i HOME=/root /bin/sh /tmp/check.sh
# The command leaves a child that closes its per-syscall hooks after it has
# exited (its output ends first): wait for it, and for anything else still
# running in the chroot, before unmounting it (30 s at most).
for _ in $(seq 300); do
	left=0
	for p in /proc/[0-9]*; do
		if [ "$(readlink "$p/root" 2>/dev/null)" = "$R" ]; then
			left=1
			break
		fi
	done
	[ "$left" = 0 ] && break
	sleep 0.1
done
echo "== wheel check passed ($(($(date +%s) - start)) s in the chroot): $name"
