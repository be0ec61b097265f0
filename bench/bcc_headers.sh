#!/bin/sh
# Kernel headers for BCC when the running kernel has no headers package
# (no /lib/modules/$(uname -r)/build, no CONFIG_IKHEADERS), as on a custom
# VM kernel. It prepares the newest Debian linux-source tree with the running
# kernel's own config (/proc/config.gz); bench/run.py then points BCC at it
# with BCC_KERNEL_SOURCE.
#
# The source version may differ from the running kernel. The BCC programs in
# bench/bcc_tracer.py read only tracepoint arguments, whose layout BCC takes
# from the running kernel's tracefs format files, and call BPF helpers, so
# no kernel struct layout comes from these headers.
#
# Needs: apt-get install linux-source build-essential flex bison libelf-dev bc
#   sh bench/bcc_headers.sh [DEST]
set -eu
dest=${1:-${XDG_CACHE_HOME:-$HOME/.cache}/systrace-bench/linux-headers}
if [ -d "$dest/include/generated" ]; then
	echo "already prepared: $dest"
	exit 0
fi
src=$(ls /usr/src/linux-source-*.tar.* 2>/dev/null | sort -V | tail -n 1)
[ -n "$src" ] || { echo "no /usr/src/linux-source-*: apt-get install linux-source" >&2; exit 1; }
[ -r /proc/config.gz ] || { echo "no /proc/config.gz: the running kernel's config is needed" >&2; exit 1; }
mkdir -p "$(dirname "$dest")"
tmp=$(mktemp -d "$(dirname "$dest")/extract.XXXXXX")
echo "extracting $src"
tar xf "$src" -C "$tmp"
mv "$tmp"/linux-source-* "$dest"
rmdir "$tmp"
cd "$dest"
zcat /proc/config.gz > .config
make olddefconfig >/dev/null
echo "make prepare in $dest"
make -j"$(nproc)" prepare >/dev/null
echo "prepared: $dest (bench/run.py finds it; or export BCC_KERNEL_SOURCE=$dest)"
