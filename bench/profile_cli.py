#!/usr/bin/env python3
"""Where the `systrace` command's CPU goes per event on the read loop.

    python3 bench/profile_cli.py [--n 500000] [--perf] [-- EXTRA CLI ARGS]

Runs the read workload once untraced and once traced by
`systrace -e trace=read -p PID -o FILE` (as bench/run.py's "systrace CLI"
row), and reports the loop's ratio, and the command's CPU per thread
(sampled from /proc/PID/task/*/stat from its attach until it exits) in ns per event. With
--perf, a `perf record -g` of the command during the loop, and its top
symbols per thread (sampled at 1000 Hz; PERF_FREQ=N for another rate).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import run  # noqa: E402


def thread_cpu(pid: int) -> dict:
    """tid -> (name, CPU seconds, wake-ups) of the threads of `pid` now."""
    tick = os.sysconf("SC_CLK_TCK")
    out = {}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                stat = f.read()
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                switches = next(int(line.split()[1]) for line in f if line.startswith("voluntary_ctxt"))
        except (OSError, StopIteration):
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        out[tid] = (name, (int(fields[11]) + int(fields[12])) / tick, switches)
    return out


def traced(env: run.Env, n: int, extra: list, perf_out: str | None) -> dict:
    wl = env.start_waiting("read", n)
    out_path = os.path.join(env.tmp, "cli.out")
    argv = [*run.systrace_command(), *extra, "-e", "trace=read", "-p", str(wl.pid),
            "-o", out_path]
    tr = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    perf = None
    try:
        while "attached" not in (line := tr.stderr.readline()):
            if not line:
                raise RuntimeError("the command did not attach")
        at_attach = thread_cpu(tr.pid)  # start-up's CPU, left out
        last: dict = {}
        stop = threading.Event()

        def sample() -> None:  # the last sample before the command exits
            while not stop.is_set():
                now = thread_cpu(tr.pid)
                if now:
                    last.update(now)
                time.sleep(0.01)

        sampler = threading.Thread(target=sample)
        sampler.start()
        if perf_out:
            perf = subprocess.Popen(["perf", "record", "--call-graph", "dwarf,16384", "-F", os.environ.get("PERF_FREQ", "1000"), "-p", str(tr.pid), "-o", perf_out],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(0.5)
        res = env.release(wl)
        run.wait_rusage(tr)
        stop.set()
        sampler.join()
        err = tr.stderr.read()
        if perf:
            perf.wait(30)
        with open(out_path, errors="replace") as f:
            lines = sum(1 for line in f if line.startswith("read("))
        threads: dict = {}
        for tid, (name, cpu, switches) in last.items():
            cpu0, switches0 = at_attach.get(tid, (name, 0.0, 0))[1:]
            was = threads.get(name, (0.0, 0))
            threads[name] = (was[0] + cpu - cpu0, was[1] + switches - switches0)
        return {"res": res, "lines": lines, "threads": threads, "err": err.strip()}
    finally:
        run.kill(wl)
        run.kill(tr)
        run.kill(perf)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=500000)
    ap.add_argument("--perf", action="store_true", help="perf record -g the command")
    ap.add_argument("--perf-data", metavar="FILE", help="with --perf: keep the recording in FILE (perf report -i FILE)")
    ap.add_argument("extra", nargs="*", help="more options for the command")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = run.Env(tmp)
        base = run.untraced(env, "read", a.n)
        perf_out = (a.perf_data or os.path.join(tmp, "perf.data")) if a.perf else None
        run.settle()
        t = traced(env, a.n, a.extra, perf_out)
        events = 2 * a.n
        print(f"load {os.getloadavg()[0]:.2f}; untraced {base['ns_per_iter']:.0f} ns/iter, traced "
              f"{t['res']['ns_per_iter']:.0f} ns/iter: {t['res']['ns_per_iter'] / base['ns_per_iter']:.2f}x "
              f"(CPU {t['res']['cpu_ns_per_iter'] / base['cpu_ns_per_iter']:.2f}x); "
              f"{t['lines']} / {a.n} lines")
        if t["err"]:
            print("command said:", t["err"])
        total = sum(cpu for cpu, _ in t["threads"].values())
        print(f"the command's CPU: {total:.2f} s, {total / events * 1e9:.0f} ns per event")
        for name, (cpu, switches) in sorted(t["threads"].items(), key=lambda kv: -kv[1][0]):
            print(f"  {name:<16} {cpu:6.2f} s  {cpu / events * 1e9:6.0f} ns/event, {switches} wake-ups")
        if perf_out:
            p = subprocess.run(["perf", "report", "-i", perf_out, "--stdio", "--no-children",
                                "--sort", "comm,dso,sym", "--percent-limit", "0.7", "-g", "none"],
                               capture_output=True, text=True)
            print("\n".join(ln for ln in p.stdout.splitlines() if ln and not ln.startswith("#")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
