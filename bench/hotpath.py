#!/usr/bin/env python3
"""The per-event cost of a traced syscall, part by part (issue 15 item 2).

    python3 bench/hotpath.py [--n 500000] [--hooks raw,syscall] [--syscalls read] [--runs 3]

For each kind of hooks (SYSTRACE_HOOKS=raw|syscall) it runs the `read`
workload (bench/workload.c) untraced and traced by systrace (every call
delivered into Python, as bench/run.py's `systrace` row), with the kernel's
BPF statistics on (sysctl kernel.bpf_stats_enabled=1, restored after), and
prints the medians over --runs of:
  * the workload's ns per iteration, untraced and traced, and its system
    time per iteration (the BPF programs run inside its syscalls);
  * each BPF program's ns per invocation (run_time_ns / run_cnt from
    `bpftool prog show`): sys_enter/sys_exit on raw hooks,
    sys_enter_event/sys_exit_event on syscall hooks;
  * the tracer's CPU per delivered event, per thread (/proc/PID/task/*/stat):
    the Rust consumer thread that drains the ring buffer and decodes, and the
    Python thread that polls.
The statistics add two clock reads around each program run (about 20-40 ns
per invocation, which the ns/run figures include), so the traced ns/iter
here is higher than bench/run.py's. Needs root and bpftool.
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
import profile_read  # noqa: E402
import run  # noqa: E402


def one(env, n: int, hooks: str, syscalls: list) -> dict:
    os.environ["SYSTRACE_HOOKS"] = hooks
    r = profile_read.traced_run(env, n, syscalls, None)
    d = r["done"]
    threads = r["threads"]
    consumer = sum(t["cpu_s"] for name, t in threads.items() if name.startswith("systrace-consum"))
    python = sum(t["cpu_s"] for name, t in threads.items() if not name.startswith("systrace-consum"))
    events = max(1, d["delivered"])
    return {
        "ns_iter": r["res"]["ns_per_iter"],
        "sys_iter": r["ru"].ru_stime / n * 1e9,
        "progs": {p["name"]: p["run_time_ns"] / p["run_cnt"] for p in r["progs"]},
        "runs": {p["name"]: p["run_cnt"] for p in r["progs"]},
        "consumer_ns_event": consumer / events * 1e9,
        "python_ns_event": python / events * 1e9,
        "delivered": d["delivered"],
        "dropped": d["dropped"],
    }


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=500_000)
    ap.add_argument("--hooks", default="raw,syscall")
    ap.add_argument("--syscalls", default="read")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    n, syscalls = args.n, args.syscalls.split(",")
    saved_hooks = os.environ.get("SYSTRACE_HOOKS")
    with open("/proc/sys/kernel/bpf_stats_enabled") as f:
        stats_was = f.read().strip()
    med = statistics.median
    failed = False
    with tempfile.TemporaryDirectory(prefix="systrace-hotpath-") as tmp:
        env = run.Env(tmp)
        load = " ".join(open("/proc/loadavg").read().split()[:3])
        print(f"## hotpath: {','.join(syscalls)} enabled, read loop, N={n}, {args.runs} runs (medians), "
              f"{time.strftime('%Y-%m-%d %H:%M')}, load average {load}\n")
        print("| hooks | untraced ns/iter | traced ns/iter | ratio | workload sys ns/iter | BPF program: ns/run "
              "| consumer ns/event | Python ns/event | delivered / expected |")
        print("|---|---|---|---|---|---|---|---|---|")
        try:
            with open("/proc/sys/kernel/bpf_stats_enabled", "w") as f:
                f.write("1")
            for hooks in args.hooks.split(","):
                base, traced = [], []
                for _ in range(args.runs):
                    base.append(profile_read.untraced_run(env, n)["res"]["ns_per_iter"])
                    traced.append(one(env, n, hooks, syscalls))
                names = sorted({p for t in traced for p in t["progs"]})
                progs = ", ".join(f"{p} {med([t['progs'].get(p, 0.0) for t in traced]):.0f}" for p in names)
                expected = 2 * n  # enter and exit of each call (the loop's one syscall)
                delivered = [t["delivered"] for t in traced]
                lossless = all(t["delivered"] == expected and t["dropped"] == 0 for t in traced)
                failed |= not lossless
                b, tr = med(base), med([t["ns_iter"] for t in traced])
                print(f"| {hooks} | {b:.0f} | {tr:.0f} | {tr / b:.2f}x "
                      f"| {med([t['sys_iter'] for t in traced]):.0f} | {progs} "
                      f"| {med([t['consumer_ns_event'] for t in traced]):.0f} "
                      f"| {med([t['python_ns_event'] for t in traced]):.0f} "
                      f"| {min(delivered)} / {expected}{'' if lossless else ' LOSS'} |", flush=True)
        finally:
            with open("/proc/sys/kernel/bpf_stats_enabled", "w") as f:
                f.write(stats_was)
            if saved_hooks is None:
                os.environ.pop("SYSTRACE_HOOKS", None)
            else:
                os.environ["SYSTRACE_HOOKS"] = saved_hooks
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
