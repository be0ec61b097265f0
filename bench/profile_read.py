#!/usr/bin/env python3
"""Where the time goes when systrace traces the read loop losslessly.

    python3 bench/profile_read.py [--n 1000000] [--no-perf-record]

For the `read` workload it runs, one after the other:
  untraced; traced by systrace (read enabled, drained with poll());
  traced by systrace with only getpid enabled (the filtered-out path),
and reports
  * the workload's own user / system CPU per iteration (wait4 rusage): the
    BPF programs run in the workload's syscalls, as system time;
  * the BPF programs' average run time per invocation, from the kernel's
    BPF statistics (sysctl kernel.bpf_stats_enabled=1 for the run, then
    restored; bpftool prog show);
  * the tracer's CPU per thread (the Rust consumer thread that drains the
    ring buffer vs the Python thread that polls) and the consumer's
    context switches, i.e. how often it was woken;
  * a system-wide `perf record -e cpu-clock` of the traced run: top symbols
    of the workload and of the tracer.
Needs root, bpftool and perf.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import run  # noqa: E402


def task_stats(pid: int) -> dict:
    """Per thread name: CPU seconds and voluntary/involuntary switches."""
    tick = os.sysconf("SC_CLK_TCK")
    out: dict = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                stat = f.read()
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                status = dict(line.split(":", 1) for line in f if ":" in line)
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        d = out.setdefault(name, {"cpu_s": 0.0, "vol_cs": 0, "invol_cs": 0})
        d["cpu_s"] += (int(fields[11]) + int(fields[12])) / tick
        d["vol_cs"] += int(status["voluntary_ctxt_switches"])
        d["invol_cs"] += int(status["nonvoluntary_ctxt_switches"])
    return out


def bpf_prog_ids(pid: int) -> list:
    """The ids of the BPF programs a process holds open (from its fdinfo)."""
    ids = []
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            if "bpf-prog" not in os.readlink(f"/proc/{pid}/fd/{fd}"):
                continue
            with open(f"/proc/{pid}/fdinfo/{fd}") as f:
                for line in f:
                    if line.startswith("prog_id:"):
                        ids.append(int(line.split()[1]))
        except OSError:
            pass
    return sorted(set(ids))


def bpf_prog_stats(owner_pid: int) -> list:
    progs = []
    for pid in bpf_prog_ids(owner_pid):
        p = subprocess.run(["bpftool", "-j", "prog", "show", "id", str(pid)], capture_output=True, text=True)
        if p.returncode != 0:
            continue
        prog = json.loads(p.stdout)
        if prog.get("run_cnt"):
            progs.append({"name": prog.get("name"), "run_cnt": prog["run_cnt"],
                          "run_time_ns": prog["run_time_ns"]})
    return progs


def traced_run(env, n: int, syscalls: list, perf_out: str | None, filter: str | None = None) -> dict:
    run.settle()
    wl = env.start_waiting("read", n)
    tr = perf = None
    try:
        tr = subprocess.Popen(
            [run.systrace_python(), os.path.join(HERE, "systrace_tracer.py"), "--pid", str(wl.pid),
             "--syscalls", ",".join(syscalls), "--drain", "count", *(["--filter", filter] if filter else [])],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        run.read_json_line(tr, "systrace tracer")
        before = task_stats(tr.pid)
        if perf_out:
            perf = subprocess.Popen(["perf", "record", "-a", "-e", "cpu-clock", "-F", "4000", "-o", perf_out],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(0.5)
        wl.stdin.close()
        out = wl.stdout.read()
        ru = run.wait_rusage(wl)
        res = run.parse_workload(out)
        time.sleep(0.1)  # the consumer's 10 ms poll picks up the tail
        if perf:
            run.interrupt(perf)
            run.wait_rusage(perf)
        after = task_stats(tr.pid)
        progs = bpf_prog_stats(tr.pid)
        tr.stdin.write("stop\n")
        tr.stdin.flush()
        done = run.read_json_line(tr, "systrace tracer")
        run.wait_rusage(tr)
        threads = {k: {m: after[k][m] - before.get(k, {}).get(m, 0) for m in after[k]} for k in after}
        return {"res": res, "ru": ru, "done": done, "threads": threads, "progs": progs,
                "pids": (wl.pid, tr.pid)}
    finally:
        run.kill(wl)
        run.kill(tr)
        run.kill(perf)


@contextlib.contextmanager
def bpf_stats():
    """The kernel's BPF run-time statistics on for the block (they add two
    clock reads around every program run of the machine), then back."""
    path = "/proc/sys/kernel/bpf_stats_enabled"
    with open(path) as f:
        was = f.read().strip()
    try:
        with open(path, "w") as f:
            f.write("1")
        yield
    finally:
        with open(path, "w") as f:
            f.write(was)


def untraced_run(env, n: int) -> dict:
    run.settle()
    p = subprocess.Popen(env.argv("read", n, False), stdout=subprocess.PIPE, text=True)
    out = p.stdout.read()
    ru = run.wait_rusage(p)
    return {"res": run.parse_workload(out), "ru": ru}


def per_iter(ru, n: int) -> str:
    return f"user {ru.ru_utime / n * 1e9:.0f} ns + system {ru.ru_stime / n * 1e9:.0f} ns"


def perf_top(path: str, pid: int, lines: int = 12) -> list:
    p = subprocess.run(["perf", "report", "-i", path, "--stdio", "--no-children", "--pid", str(pid),
                        "--sort", "comm,dso,sym", "--percentage", "relative", "--percent-limit", "1.5"],
                       capture_output=True, text=True)
    rows = [line.rstrip() for line in p.stdout.splitlines() if line.strip() and not line.startswith("#")]
    return rows[:lines]


ENABLE_SNIPPET = """
import time
import systrace
t = time.perf_counter()
s = systrace.enable("getpgid")
print((time.perf_counter() - t) * 1e3)
s.close()
"""


def enable_breakdown() -> list:
    """The first enable() in a fresh process: its time, and under strace -T
    the kernel time of its bpf() commands and how many files it opens."""
    py = run.systrace_python()
    times = []
    for _ in range(5):
        p = subprocess.run([py, "-c", ENABLE_SNIPPET], capture_output=True, text=True)
        times.append(float(p.stdout.split()[0]))
    out = [f"first enable() in a fresh Python process (5 runs): median {sorted(times)[2]:.0f} ms, "
           f"min {min(times):.0f} ms"]
    if not shutil.which("strace"):
        return out
    with tempfile.NamedTemporaryFile(suffix=".strace") as f:
        subprocess.run(["strace", "-f", "-T", "-e", "trace=bpf,openat,write", "-o", f.name, py, "-c",
                        "import systrace, sys; sys.stdout.flush(); print('MARK', flush=True); "
                        "systrace.enable('getpgid').close()"],
                       capture_output=True, text=True)
        lines = open(f.name, errors="replace").read().splitlines()
    # Only what enable() does: from the marker's write on.
    first = next((i for i, line in enumerate(lines) if "MARK" in line), 0)
    per_cmd: dict = {}
    opens: dict = {}
    for line in lines[first:]:
        m = re.search(r"bpf\((BPF_[A-Z_]+).*<([\d.]+)>", line)
        if m:
            n, t = per_cmd.get(m[1], (0, 0.0))
            per_cmd[m[1]] = (n + 1, t + float(m[2]))
        m = re.search(r'openat\([^"]*"([^"]+)"', line)
        if m:
            path = m[1]
            key = "tracefs" if "/tracing/" in path else "/sys/kernel/btf" if "/btf/" in path else "other"
            opens[key] = opens.get(key, 0) + 1
    top = sorted(per_cmd.items(), key=lambda kv: -kv[1][1])[:3]
    out.append("  bpf() kernel time under strace -T: " + ", ".join(
        f"{cmd} {n}x {t * 1e3:.0f} ms" for cmd, (n, t) in top))
    out.append("  files enable() opens: " + ", ".join(f"{k} {v}" for k, v in opens.items()))
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--no-perf-record", action="store_true")
    args = ap.parse_args()
    n = args.n

    with tempfile.TemporaryDirectory(prefix="systrace-profile-") as tmp:
        env = run.Env(tmp)
        # Timings first, with the kernel's BPF statistics off (they add two
        # clock reads around every program run), then the statistics runs.
        base = untraced_run(env, n)
        other = traced_run(env, n, ["getpid"], None)
        traced = traced_run(env, n, ["read"], None)
        base2 = untraced_run(env, n)
        perf_path = os.path.join(tmp, "perf.data")
        profiled = None if args.no_perf_record else traced_run(env, n, ["read"], perf_path)
        with bpf_stats():
            other_stats = traced_run(env, n, ["getpid"], None)
            traced_stats = traced_run(env, n, ["read"], None)

        load = open("/proc/loadavg").read().split()[:3]
        print(f"## Profile: systrace on the read loop (N={n}, {time.strftime('%Y-%m-%d %H:%M')}, "
              f"load average {' '.join(load)})\n")
        print("```")
        for label, r in (("untraced", base), ("untraced again", base2), ("getpid enabled (filtered out)", other),
                         ("read enabled, lossless", traced)):
            print(f"{label:32} {r['res']['ns_per_iter']:7.0f} ns/iter   workload CPU/iter: {per_iter(r['ru'], n)}")
        for label, r in (("getpid enabled", other_stats), ("read enabled", traced_stats)):
            for p in r["progs"]:
                print(f"BPF prog {p['name']:12} ({label:14}): {p['run_cnt']:9} runs, "
                      f"{p['run_time_ns'] / p['run_cnt']:6.0f} ns avg (kernel.bpf_stats_enabled run)")
        d = traced["done"]
        loop_s = traced["res"]["loop_ns"] / 1e9
        print(f"events delivered {d['delivered']} (expected {2 * n}), dropped {d['dropped']}, "
              f"polls {d['polls']} ({d['delivered'] / max(1, d['polls']):.0f} events/poll)")
        for name, t in sorted(traced["threads"].items(), key=lambda kv: -kv[1]["cpu_s"]):
            if t["cpu_s"] or t["vol_cs"]:
                print(f"tracer thread {name:16} CPU {t['cpu_s']:.2f} s over a {loop_s:.2f} s loop "
                      f"({t['cpu_s'] / max(1, d['delivered']) * 1e9:.0f} ns/event), "
                      f"{t['vol_cs']} voluntary / {t['invol_cs']} involuntary switches")
        print("```")
        print("\nStart-up:\n```")
        print("\n".join(enable_breakdown()))
        print("```")
        if profiled:
            print("\nperf record -a -e cpu-clock during the traced loop: the workload's top symbols")
            print("```")
            print("\n".join(perf_top(perf_path, profiled["pids"][0])))
            print("```")
            print("and the tracer's (Python and its consumer thread):")
            print("```")
            print("\n".join(perf_top(perf_path, profiled["pids"][1])))
            print("```")
    return 0


if __name__ == "__main__":
    sys.exit(main())
