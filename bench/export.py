#!/usr/bin/env python3
"""A large trace kept by a session and exported: what the session holds per
event, and the peak memory and time of each export, in one run.

    sudo .venv/bin/python bench/export.py [--iterations N]

The read loop of bench/workload.c (read(fd, buf, 1) per iteration: N calls,
2N events) is traced with the defaults and read after the `with` block, as
the README's first example does. Each export then runs in a fresh process
(so that one's peak does not hide another's): its seconds, the size of
what it made, and the process's peak RSS growth during it, as a ratio to
that size (the goal for to_arrow: at most 2x). Needs root (BPF), cc,
pyarrow, pandas and polars.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))

CHILD = r"""
import json, os, resource, subprocess, sys, time
import systrace

exe, n, export = sys.argv[1], int(sys.argv[2]), sys.argv[3]
wl = subprocess.Popen([exe, "read", str(n), "--wait-stdin"], stdin=subprocess.PIPE,
                      stdout=subprocess.PIPE, text=True)
assert wl.stdout.readline().strip() == "ready"
with systrace.enable("read", pid=wl.pid) as s:
    wl.communicate("go\n", timeout=600)
memory, spilled = s.stored_bytes


def rss_kib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])


def peak_kib():
    # VmHWM, reset below, is the peak since the reset.
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])


if export == "to_pandas":
    import pandas  # imports are not the export's memory
if export in ("to_polars",):
    import polars
import pyarrow
# Warm up: the first call loads pyarrow's compute kernels (tens of MiB of
# RSS of the library, not of the export).
getattr(systrace, export)(systrace.EventBatch())

with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # reset VmHWM to the current RSS
base = rss_kib()
start = time.perf_counter()
out = getattr(systrace, export)(s)
seconds = time.perf_counter() - start
if export.endswith("arrow"):
    size = out.nbytes
elif export.endswith("pandas"):
    size = int(out.memory_usage(deep=False).sum())
else:
    size = int(out.estimated_size())
print(json.dumps({"rows": len(out), "stored": memory + spilled, "seconds": seconds,
                  "size": size, "grew": (peak_kib() - base) * 1024, "dropped": s.dropped}))
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--iterations", type=int, default=800_000, help="read calls (default 800000: 1.6M events)")
    opts = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        exe = os.path.join(tmp, "workload")
        subprocess.run([os.environ.get("CC", "cc"), "-O2", "-o", exe, os.path.join(HERE, "workload.c")], check=True)
        with open("/proc/loadavg") as f:
            print(f"load average before: {f.read().split()[0]}")
        for export in ("to_arrow", "to_pandas", "to_polars", "calls_to_arrow", "calls_to_pandas"):
            r = subprocess.run([sys.executable, "-c", CHILD, exe, str(opts.iterations), export],
                               capture_output=True, text=True, timeout=900)
            if r.returncode != 0:
                print(f"{export}: failed\n{r.stderr}", file=sys.stderr)
                return 1
            m = json.loads(r.stdout)
            events = 2 * opts.iterations
            print(f"{export:16} {m['rows']:>9} rows  {m['seconds']:6.2f} s  "
                  f"result {m['size'] / 2**20:7.1f} MiB  peak growth {m['grew'] / 2**20:7.1f} MiB "
                  f"({m['grew'] / max(m['size'], 1):4.2f}x)  session held {m['stored'] / events:5.1f} B/event  "
                  f"lost {m['dropped']}")
        with open("/proc/loadavg") as f:
            print(f"load average after: {f.read().split()[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
