#!/usr/bin/env python3
"""Issue 15's "other" (what every process on the machine pays while a
session enables syscalls it never calls), systrace against its floor, with
more pairs than run.py gives a row: the getppid and read loops untraced,
under a systrace session that enables only getpid (the per-syscall hooks),
and under bpftrace's empty probes on getpid's enter and exit events (any
tracer on those events), interleaved, the order turned every pair.

    python3 bench/other_floor.py [--pairs 15]

Prints each ratio's median (and min, max) against the untraced median, and
the load average before and after. Needs root and bpftrace."""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402

N = 500_000


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=15)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="systrace-other-") as tmp:
        env = run.Env(tmp)
        load_before = open("/proc/loadavg").read().split()[:3]
        times: dict = {}
        for wl in ("getppid", "read"):
            for i in range(args.pairs):
                runs = [("untraced", lambda: run.untraced(env, wl, N)),
                        ("systrace", lambda: run.run_systrace(env, wl, N, run.OTHER_SYSCALL)),
                        ("floor", lambda: run.run_bpftrace(env, wl, N, run.OTHER_SYSCALL,
                                                           program=run.bpftrace_empty))]
                for name, fn in runs if i % 2 == 0 else runs[::-1]:
                    run.settle()
                    times.setdefault((wl, name), []).append(fn()["ns_per_iter"])
        load_after = open("/proc/loadavg").read().split()[:3]
    print(f"load average before {' '.join(load_before)}, after {' '.join(load_after)}; "
          f"{args.pairs} runs of each, N={N}")
    print("| loop | tracer | other (getpid) enabled | median ns/iter | ratio | min | max |")
    print("|---|---|---|---|---|---|---|")
    for wl in ("getppid", "read"):
        base = statistics.median(times[(wl, "untraced")])
        print(f"| {wl} | untraced | – | {base:.0f} | 1.00x | | |")
        for name, label in (("systrace", "systrace session"), ("floor", "floor: empty bpftrace probes")):
            xs = times[(wl, name)]
            print(f"| {wl} | {label} | getpid | {statistics.median(xs):.0f} | "
                  f"**{statistics.median(xs) / base:.2f}x** | {min(xs) / base:.2f}x | {max(xs) / base:.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
