#!/usr/bin/env python3
"""What counting a call in the kernel costs, per call, in BPF (issue 13 item 3).

    python3 bench/count_cost.py [--n 300000] [--runs 3] [--workload read]

The read loop of bench/workload.c (or getppid) counted by systrace
(systrace.count(), nothing delivered), delivered by systrace (every event
into Python), and counted by bpftrace: count() at enter, a start time at
enter and a hist() at exit (what systrace's counting does), and empty
probes on the same events (the floor: what the kernel's per-syscall
tracepoint path costs with a program that does nothing). For each row it
reports the BPF programs' average run time per call from the kernel's BPF
statistics (sysctl kernel.bpf_stats_enabled=1 for the run, then restored;
bpftool prog show), the workload's system time per iteration, and its
loop's CPU time per iteration. Medians over --runs. Needs root and bpftool.

The "..." rows switch parts of systrace's counting off in the programs
(SYSTRACE_COUNT_EXPERIMENT, read at load; bpf/count.bpf.h): the start
record a call's exit reads its duration from, the counts map's update.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import profile_read as pr  # noqa: E402
import run  # noqa: E402


def systrace_row(env, mode: str, n: int, count: bool, hooks: str = "auto", syscall: str = "",
                 experiment: int = 0) -> dict:
    wl = env.start_waiting(mode, n)
    tr = None
    try:
        argv = [run.systrace_python(), os.path.join(HERE, "systrace_tracer.py"), "--pid", str(wl.pid),
                "--syscalls", syscall or mode] + (["--count"] if count else [])
        tr = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env={**os.environ, "SYSTRACE_HOOKS": hooks,
                                              "SYSTRACE_COUNT_EXPERIMENT": str(experiment)})
        ready = run.read_json_line(tr, "systrace tracer")
        res, ru = release(wl)
        progs = pr.bpf_prog_stats(tr.pid)
        tr.stdin.write("stop\n")
        tr.stdin.flush()
        done = run.read_json_line(tr, "systrace tracer")
        run.wait_rusage(tr)
        calls = sum(c["calls"] for c in done["counts"].values()) if count else done["delivered"] // 2
        if experiment:
            calls = f"{calls} (experiment {experiment})"
        return {"res": res, "ru": ru, "progs": progs, "calls": calls, "hooks": ready.get("hook_mode")}
    finally:
        run.kill(wl)
        run.kill(tr)


def bpftrace_row(env, mode: str, n: int, program) -> dict:
    wl = env.start_waiting(mode, n)
    tr = None
    out_path = os.path.join(env.tmp, "bpftrace.out")
    try:
        prog = 'BEGIN { printf("ready\\n"); }\n' + program(env, [mode])
        with open(out_path, "w") as out:
            tr = subprocess.Popen(["bpftrace", "-e", prog, str(wl.pid)], stdin=subprocess.DEVNULL, stdout=out,
                                  stderr=subprocess.DEVNULL)
        t0 = time.monotonic()
        while "ready" not in open(out_path).read(4096):
            if run.reap(tr) is not None or time.monotonic() - t0 > 60:
                raise RuntimeError("bpftrace did not start")
            time.sleep(0.01)
        res, ru = release(wl)
        progs = pr.bpf_prog_stats(tr.pid)
        run.interrupt(tr)
        run.wait_rusage(tr)
        return {"res": res, "ru": ru, "progs": [p for p in progs if p["run_cnt"] >= n], "calls": None}
    finally:
        run.kill(wl)
        run.kill(tr)


def release(wl):
    wl.stdin.close()
    out = wl.stdout.read()
    ru = run.wait_rusage(wl)
    return run.parse_workload(out), ru


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=300_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--workload", choices=("read", "getppid"), default="read")
    args = ap.parse_args()
    mode, n = args.workload, args.n
    rows = [
        ("systrace count (systrace.count)", lambda env: systrace_row(env, mode, n, True)),
        ("  ... no start record (no task storage, no clock)",
         lambda env: systrace_row(env, mode, n, True, experiment=2)),
        ("  ... nothing into the maps", lambda env: systrace_row(env, mode, n, True, experiment=1)),
        ("  ... neither", lambda env: systrace_row(env, mode, n, True, experiment=3)),
        ("systrace count, raw hooks (SYSTRACE_HOOKS=raw)", lambda env: systrace_row(env, mode, n, True, "raw")),
        ("systrace, every event delivered", lambda env: systrace_row(env, mode, n, False)),
        ("bpftrace count() at enter", lambda env: bpftrace_row(env, mode, n, run.bpftrace_count)),
        ("bpftrace start at enter, hist() at exit", lambda env: bpftrace_row(env, mode, n, run.bpftrace_hist)),
        ("floor: bpftrace empty probes, enter+exit", lambda env: bpftrace_row(env, mode, n, run.bpftrace_empty)),
        # bpftrace 0.17 has no rawtracepoint probes: the raw hooks' floor is
        # systrace's own programs counting a syscall the loop never makes.
        ("systrace count of getpid, raw hooks", lambda env: systrace_row(env, mode, n, True, "raw", "getpid")),
    ]
    results: dict = {label: [] for label, _ in rows}
    base = []
    load_before = open("/proc/loadavg").read().split()[0]
    with pr.bpf_stats():
        with tempfile.TemporaryDirectory(prefix="systrace-count-cost-") as tmp:
            env = run.Env(tmp)
            for _ in range(args.runs):  # interleaved, so that load drifts hit every row
                p = subprocess.Popen(env.argv(mode, n, False), stdout=subprocess.PIPE, text=True)
                out = p.stdout.read()
                ru = run.wait_rusage(p)
                base.append((run.parse_workload(out)["cpu_ns_per_iter"], ru.ru_stime / n * 1e9))
                for label, fn in rows:
                    results[label].append(fn(env))
    load_after = open("/proc/loadavg").read().split()[0]
    print(f"## Counting cost, {mode} loop (N={n}, {args.runs} runs each, {time.strftime('%Y-%m-%d %H:%M')}, "
          f"load {load_before} before, {load_after} after)\n")
    print("BPF ns per call: the kernel's BPF statistics (they add their own clock reads to each run); "
          "enter + exit: the programs that ran about once per call.\n")
    print("| row | BPF ns per call (enter + exit) | loop CPU ns/iter | CPU ratio | workload system ns/iter "
          "| calls seen |")
    print("|---|---|---|---|---|---|")
    ub = statistics.median(b[0] for b in base)
    print(f"| untraced | | {ub:.0f} | 1.00x | {statistics.median(b[1] for b in base):.0f} | |")
    for label, _ in rows:
        rs = results[label]
        def phase(r, word):
            return sum(p["run_time_ns"] / n for p in r["progs"] if p["run_cnt"] >= n and word in p["name"])

        def total(r):
            return sum(p["run_time_ns"] / n for p in r["progs"] if p["run_cnt"] >= n)
        # bpftrace names its programs after the probe ("tracepoint_syscalls_sys_enter_read"...)
        enter = statistics.median(phase(r, "enter") for r in rs)
        exit_ = statistics.median(phase(r, "exit") for r in rs)
        per_call = statistics.median(total(r) for r in rs)
        cpu = statistics.median(r["res"]["cpu_ns_per_iter"] for r in rs)
        sys_ns = statistics.median(r["ru"].ru_stime / n * 1e9 for r in rs)
        calls = rs[-1]["calls"]
        print(f"| {label} | {enter:.0f} + {exit_:.0f} = {per_call:.0f} | {cpu:.0f} | {cpu / ub:.2f}x | {sys_ns:.0f} | "
              f"{'' if calls is None else calls} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
