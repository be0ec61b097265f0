#!/usr/bin/env python3
"""What the `systrace` command's peak RSS is made of (issue 15).

    python3 bench/rss_cli.py [--n 500000] [--mode read] [--trace read] [--top 0] [--growth] [-- EXTRA CLI ARGS]

Runs `systrace -e trace=TRACE -p PID -o FILE` on bench/workload.c's loop (as
bench/run.py's "systrace CLI" row), samples the command's
/proc/PID/smaps every few ms from its attach until it exits, and prints, at
the sample with the largest total Rss, that Rss per kind of mapping (the
interpreter, the extension, libc, the ring buffer, the heap, thread stacks
and arenas) with its private dirty part; then the command's VmHWM and
ru_maxrss (the peak the kernel saw; run by bench/peak_rss.c, so that it is
the command's own), the lines written and any loss it reported.
`python3 -c pass` is measured the same way as a floor. --top N lists the N
largest mappings.
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from typing import Dict, List, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import run  # noqa: E402

HEADER = re.compile(r"^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$")

Mapping = Tuple[str, str, int, Dict[str, int]]  # (range, perms+name, size kB, fields kB)


def smaps(pid: int) -> List[Mapping]:
    out: List[Mapping] = []
    try:
        with open(f"/proc/{pid}/smaps") as f:
            text = f.read()
    except OSError:
        return out
    cur = None
    for line in text.splitlines():
        m = HEADER.match(line)
        if m:
            cur = (f"{m[1]}-{m[2]}", f"{m[3]} {m[4]}", (int(m[2], 16) - int(m[1], 16)) >> 10, {})
            out.append(cur)
        elif cur is not None and line.endswith(" kB"):
            key, value = line.split(":", 1)
            cur[3][key] = int(value.split()[0])
    return out


def hwm(pid: int) -> int:
    """VmHWM: the peak RSS of the process's current image (kB)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))
    except (OSError, StopIteration):
        return 0


def kind(name: str, size_kb: int, perms: str) -> str:
    path = name.split(" ", 1)[1] if " " in name else ""
    base = os.path.basename(path)
    if "bpf" in path or "anon_inode" in path:
        return "ring buffer (bpf map mmap)"
    if base.startswith("_native"):
        return "_native (the extension)"
    if base.startswith("libpython") or base.startswith("python3"):
        return "python (interpreter)"
    if base.startswith("libc.so") or base.startswith("libc-"):
        return "libc"
    if base.startswith("ld-linux"):
        return "ld.so"
    if path == "[heap]":
        return "[heap] (brk: Python objects, main arena)"
    if path == "[stack]":
        return "main stack"
    if path.startswith("["):
        return path
    if path:
        return "other files (.so, locale, ...)"
    # Anonymous: glibc's per-thread arenas are 64 MiB reservations; thread
    # stacks are 8 MiB (plus a guard page) by default.
    return "anonymous (arenas, stacks, pymalloc)"


def breakdown(maps: List[Mapping]) -> Dict[str, Tuple[int, int, int]]:
    out: Dict[str, Tuple[int, int, int]] = {}
    for _rng, name, size, fields in maps:
        k = kind(name, size, name.split(" ", 1)[0])
        rss, dirty, anon = out.get(k, (0, 0, 0))
        out[k] = (rss + fields.get("Rss", 0), dirty + fields.get("Private_Dirty", 0),
                  anon + fields.get("Anonymous", 0))
    return out


def total(maps: List[Mapping]) -> int:
    return sum(m[3].get("Rss", 0) for m in maps)


def report(title: str, maps: List[Mapping], top: int) -> None:
    b = breakdown(maps)
    print(f"{title}: Rss {total(maps) / 1024:.1f} MiB at its largest sample")
    print(f"  {'mapping kind':<44} {'Rss':>8} {'dirty':>8} {'anon':>8}  (kB)")
    for k, (rss, dirty, anon) in sorted(b.items(), key=lambda kv: -kv[1][0]):
        if rss:
            print(f"  {k:<44} {rss:8d} {dirty:8d} {anon:8d}")
    if top:
        print(f"  largest {top} mappings:")
        for rng, name, size, fields in sorted(maps, key=lambda m: -m[3].get("Rss", 0))[:top]:
            print(f"    {fields.get('Rss', 0):7d} kB rss {fields.get('Private_Dirty', 0):7d} dirty "
                  f"of {size:8d} kB  {rng} {name}")


def floor(env: run.Env, top: int) -> None:
    p = env.popen_measured([run.systrace_python(), "-c", "import sys; sys.stdin.read()"],
                           stdin=subprocess.PIPE, text=True)
    time.sleep(0.3)
    report("python3 -c pass (floor)", smaps(run.measured_pid(p)), top)
    p.stdin.close()
    run.wait_rusage(p)
    print(f"  peak RSS (ru_maxrss) {run.peak_rss_kb(p) / 1024:.1f} MiB")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=500000)
    ap.add_argument("--mode", default="read", help="the workload's loop (read, getppid, openat)")
    ap.add_argument("--trace", default="read", help="-e trace=TRACE")
    ap.add_argument("--top", type=int, default=0)
    ap.add_argument("--growth", action="store_true", help="the mappings grown since the attach")
    ap.add_argument("extra", nargs="*", help="more options for the command")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = run.Env(tmp)
        floor(env, a.top)
        wl = env.start_waiting(a.mode, a.n)
        out_path = os.path.join(tmp, "cli.out")
        argv = [*run.systrace_command(), *a.extra, "-e", f"trace={a.trace}",
                "-p", str(wl.pid), "-o", out_path]
        tr = env.popen_measured(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
        try:
            while "attached" not in (line := tr.stderr.readline()):
                if not line:
                    raise RuntimeError("the command did not attach")
            pid = run.measured_pid(tr)
            attached = smaps(pid)
            hwm_attached = last_hwm = hwm(pid)
            peak: List[Mapping] = attached
            stop = threading.Event()

            def sample() -> None:
                nonlocal peak, last_hwm
                while not stop.is_set():
                    last_hwm = max(last_hwm, hwm(pid))
                    now = smaps(pid)
                    if now and total(now) > total(peak):
                        peak = now
                    time.sleep(0.005)

            sampler = threading.Thread(target=sample)
            sampler.start()
            res = env.release(wl)
            run.wait_rusage(tr)
            peak_kb = run.peak_rss_kb(tr)
            stop.set()
            sampler.join()
            err = tr.stderr.read().strip()
        finally:
            run.kill(wl)
            run.kill(tr)
        with open(out_path, errors="replace") as f:
            lines = sum(1 for line in f if line.startswith(a.trace + "("))
    report("the command at attach", attached, 0)
    report("the command at its peak", peak, a.top)
    if a.growth:
        before = {rng.split("-")[0]: fields.get("Rss", 0) for rng, _n, _s, fields in attached}
        print("  grown since attach (kB; a mapping by its start):")
        for rng, name, size, fields in peak:
            grown = fields.get("Rss", 0) - before.get(rng.split("-")[0], 0)
            if grown >= 16:
                print(f"    +{grown:6d} to {fields.get('Rss', 0):6d} of {size:7d}  {rng} {name}")
    print(f"VmHWM {hwm_attached} kB at attach (the load's peak), {last_hwm} kB at the last sample")
    print(f"peak RSS (ru_maxrss) {peak_kb} kB ({peak_kb / 1024:.1f} MiB); {lines} / {a.n} lines; "
          f"loop {res['ns_per_iter']:.0f} ns/iter; load {os.getloadavg()[0]:.2f}")
    if err:
        print("the command said:", err)
    return 0


if __name__ == "__main__":
    sys.exit(main())
