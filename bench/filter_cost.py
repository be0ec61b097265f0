#!/usr/bin/env python3
"""What each part of the event filter path costs, per call, in BPF.

    python3 bench/filter_cost.py [--n 300000] [--pairs 3] [--hooks syscall|raw|both]

The read loop of bench/workload.c under systrace with `read` enabled and a
filter in BPF, against `read` delivered (no filter) and `getpid` enabled
(a syscall nobody calls: the programs' cost for nothing). For each row it
reports the BPF programs' average run time per call from the kernel's BPF
statistics (sysctl kernel.bpf_stats_enabled=1 for the run, then restored;
bpftool prog show), and the workload's system time per iteration.

The experiment rows switch parts of the filter path off in the programs
(SYSTRACE_FILTER_EXPERIMENT, read at load; bpf/filter.bpf.h), so the
differences between rows are what each part costs: the filter's lookup,
its evaluation (unrolled, or with bpf_loop), the exit's use of the
enter's per-CPU verdict or its second decision (from the registers), and,
for comparison, the task-storage mark that
carried the enter's verdict to the exit before. Medians over --pairs runs,
for each kind of hooks asked for (SYSTRACE_HOOKS). Needs root and bpftool.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import profile_read as pr  # noqa: E402
import run  # noqa: E402

# (label, syscalls, filter, SYSTRACE_FILTER_EXPERIMENT)
ROWS = [
    ("getpid enabled (read not traced)", ["getpid"], None, 0),
    ("read delivered, no filter", ["read"], None, 0),
    ("filter passes all (count == 1)", ["read"], "count == 1", 0),
    ("filter rejects all (count != 1)", ["read"], "count != 1", 0),
    ("  ... evaluated with bpf_loop", ["read"], "count != 1", 1),
    ("  ... not evaluated (rejects)", ["read"], "count != 1", 2),
    ("  ... no per-CPU verdict (every exit decides again)", ["read"], "count != 1", 32),
    ("  ... exit drops at once (no second decision)", ["read"], "count != 1", 4),
    ("  ... exit drops at once, not evaluated", ["read"], "count != 1", 6),
    ("  ... rejected before the lookup", ["read"], "count != 1", 8),
    ("  ... verdict carried in a task-storage mark (as before)", ["read"], "count != 1", 16),
    ("ret filter rejects all (ret != 1)", ["read"], "ret != 1", 0),
]


def measure(env, n: int, syscalls, flt, experiment: int, hooks: str) -> dict:
    os.environ["SYSTRACE_FILTER_EXPERIMENT"] = str(experiment)
    os.environ["SYSTRACE_HOOKS"] = hooks
    try:
        r = pr.traced_run(env, n, syscalls, None, flt)
    finally:
        del os.environ["SYSTRACE_FILTER_EXPERIMENT"]
        del os.environ["SYSTRACE_HOOKS"]
    progs = {p["name"]: p["run_time_ns"] / p["run_cnt"] for p in r["progs"] if p["run_cnt"] >= n}
    return {"progs": progs, "sys": r["ru"].ru_stime / n * 1e9, "delivered": r["done"].get("delivered")}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=300_000)
    ap.add_argument("--pairs", type=int, default=3)
    ap.add_argument("--hooks", choices=["syscall", "raw", "both"], default="syscall",
                    help="the kind of hooks (SYSTRACE_HOOKS) to measure with")
    ap.add_argument("--no-experiments", action="store_true",
                    help="only the rows without switches (for a build without them: SYSTRACE_PYTHON=...)")
    args = ap.parse_args()
    rows = [r for r in ROWS if not (args.no_experiments and r[3])]
    kinds = ["syscall", "raw"] if args.hooks == "both" else [args.hooks]
    if os.environ.get("SYSTRACE_HOOKS"):
        sys.exit("SYSTRACE_HOOKS is set: choose the hooks with --hooks")
    results: dict = {(kind, label): [] for kind in kinds for label, *_ in rows}
    load_before = open("/proc/loadavg").read().split()[0]
    with pr.bpf_stats():
        with tempfile.TemporaryDirectory(prefix="systrace-filter-cost-") as tmp:
            env = run.Env(tmp)
            base = [pr.untraced_run(env, args.n)["ru"].ru_stime / args.n * 1e9 for _ in range(args.pairs)]
            for _ in range(args.pairs):  # interleaved, so that load drifts hit every row
                for kind in kinds:
                    for label, syscalls, flt, experiment in rows:
                        results[kind, label].append(measure(env, args.n, syscalls, flt, experiment, kind))
    load_after = open("/proc/loadavg").read().split()[0]
    print(f"## Filter path cost (N={args.n}, {args.pairs} runs each, {time.strftime('%Y-%m-%d %H:%M')}, "
          f"load {load_before} before, {load_after} after)\n")
    print("BPF ns per call: the kernel's BPF statistics (they add their own clock reads to each run).\n")
    print("| hooks | row | enter prog ns | exit prog ns | enter + exit ns | workload system ns/iter | delivered |")
    print("|---|---|---|---|---|---|---|")
    print(f"| | untraced | | | | {statistics.median(base):.0f} | |")
    for kind, label in results:
        rs = results[kind, label]
        enter = [next((v for k, v in r["progs"].items() if "enter" in k), float("nan")) for r in rs]
        exit_ = [next((v for k, v in r["progs"].items() if "exit" in k), float("nan")) for r in rs]
        e, x = statistics.median(enter), statistics.median(exit_)

        def ns(v: float) -> str:
            return f"{v:.0f}" if v == v else "-"  # NaN: the programs did not run per call

        print(f"| {kind} | {label} | {ns(e)} | {ns(x)} | {ns(e + x)} | {statistics.median(r['sys'] for r in rs):.0f} "
              f"| {rs[-1]['delivered']} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
