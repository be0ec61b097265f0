"""The systrace side of a benchmark run, in its own Python process.

    python systrace_tracer.py --pid PID --syscalls read [--drain count|iterate|none] [--nothing-enabled]

Protocol with bench/run.py (one JSON object per line on stdout):
  1. imports systrace, enables the syscalls for PID (enter and exit), opens
     and closes a second session in the same process, then prints
     {"ready": true, "import_ms":..., "first_enable_ms":..., "second_enable_ms":...}
  2. drains events until a line arrives on stdin ("stop": the workload is done)
     --drain count    counts len(batch) of each poll() (events handed to Python)
     --drain iterate  also iterates each batch, creating every Event object
     --drain none     polls nothing while the workload runs: events wait in
                      the session's queue; at stop it times draining them
  3. closes the session, takes what is left and prints
     {"delivered":..., "dropped":..., "vmhwm_kb":..., "consumer_cpu_s":..., ...}

--filter EXPR gives the session an event filter (decided in BPF); --no-clock
opens it with clock=False (its events numbered, not timed); --strings with
strings=True (read's data copied into its exit, as the command shows it).

--count opens a counting session (systrace.count()) instead: nothing is
delivered; at stop it closes it and reports the calls counted in the kernel
({"delivered": calls, "errors":..., "time_ns":..., "dropped": the session's
dropped, "counts": {name: calls}}).

--nothing-enabled opens a session and closes it before "ready": the programs
are loaded but nothing is enabled while the workload runs.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import threading
import time


def vm_hwm_kb() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return -1


def thread_cpu() -> dict:
    """CPU seconds (user+sys) per thread name of this process."""
    tick = os.sysconf("SC_CLK_TCK")
    out: dict = {}
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        cpu = (int(fields[11]) + int(fields[12])) / tick  # utime, stime
        out[name] = out.get(name, 0.0) + cpu
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--syscalls", required=True, help="comma-separated names")
    ap.add_argument("--drain", choices=("count", "iterate", "none"), default="count")
    ap.add_argument("--nothing-enabled", action="store_true")
    ap.add_argument("--buffer-size", type=int, default=None)
    ap.add_argument("--filter", default=None, help="an event filter (filter=) for the session")
    ap.add_argument("--count", action="store_true", help="a counting session (systrace.count())")
    ap.add_argument("--no-clock", action="store_true", help="enable(..., clock=False): events without their time")
    ap.add_argument("--strings", action="store_true",
                    help="enable(..., strings=True): user memory copied into the events, as the command does")
    args = ap.parse_args()
    syscalls = args.syscalls.split(",")

    t0 = time.perf_counter()
    import systrace
    import systrace._native

    t1 = time.perf_counter()
    kw = {} if args.buffer_size is None else {"buffer_size": args.buffer_size}
    if args.filter is not None:
        kw["filter"] = args.filter
    if args.no_clock:
        kw["clock"] = False
    if args.strings:
        kw["strings"] = True
    if args.nothing_enabled:
        first = systrace.enable(*syscalls, pid=args.pid, **kw)
        t2 = time.perf_counter()
        load_steps = systrace._native.kernel_state()["load_steps"]
        first.close()
        t3 = time.perf_counter()
        again = systrace.enable(*syscalls, pid=args.pid)
        t4 = time.perf_counter()
        again.close()
        # Its per-syscall hooks are closed in the background: nothing is
        # enabled once they are gone.
        while systrace._native.kernel_state()["hooks_closing"]:
            time.sleep(0.01)
        session = None
        second_ms = (t4 - t3) * 1e3
        second_kind = "after close"
    else:
        if args.count:
            session = systrace.count(*syscalls, pid=args.pid, **kw)
        else:
            session = systrace.enable(*syscalls, pid=args.pid, **kw)
        t2 = time.perf_counter()
        # What the first enable() spent its time on (issue 15), before the
        # second session adds its own attaches.
        load_steps = systrace._native.kernel_state()["load_steps"]
        # A second session in the same process while the first is open: it
        # traces a syscall of this process that it never makes.
        t3 = time.perf_counter()
        other = systrace.enable("getpgid")
        t4 = time.perf_counter()
        other.close()
        second_ms = (t4 - t3) * 1e3
        second_kind = "concurrent"
    print(
        json.dumps(
            {
                "ready": True,
                "import_ms": (t1 - t0) * 1e3,
                "first_enable_ms": (t2 - t1) * 1e3,
                "second_enable_ms": second_ms,
                "second_kind": second_kind,
                # Which kernel hooks deliver: per-syscall events or raw_syscalls.
                "hook_mode": systrace._native.kernel_state()["hook_mode"],
                "load_steps": load_steps,
            }
        ),
        flush=True,
    )

    stop = threading.Event()

    def wait_stop() -> None:
        sys.stdin.readline()
        stop.set()

    threading.Thread(target=wait_stop, daemon=True).start()

    delivered = 0
    polls = 0
    drain_s = 0.0
    cpu_before = thread_cpu()
    if session is None or args.count:
        stop.wait()
    elif args.drain == "none":
        stop.wait()
    elif args.drain == "count":
        while not stop.is_set():
            delivered += len(session.poll(0.05))
            polls += 1
    else:
        while not stop.is_set():
            for _ev in session.poll(0.05):
                delivered += 1
            polls += 1
    cpu_during = thread_cpu()

    dropped = 0
    drained_after_stop = 0
    close_ms = 0.0
    counted: dict = {}
    if session is not None and args.count:
        tc = time.perf_counter()
        session.close()
        close_ms = (time.perf_counter() - tc) * 1e3
        for c in session.counts():
            counted[c.name] = {"calls": c.calls, "errors": c.errors, "time_ns": c.time_ns,
                               "histogram_calls": sum(c.histogram)}
        # "delivered": the calls counted; each is an enter and an exit.
        delivered = 2 * sum(c["calls"] for c in counted.values())
        dropped = session.dropped
    elif session is not None:
        tc = time.perf_counter()
        session.close()
        close_ms = (time.perf_counter() - tc) * 1e3
        td = time.perf_counter()
        before = delivered
        if args.drain == "iterate" or args.drain == "none":
            for _ev in session:  # creates each Event
                delivered += 1
        else:
            for batch in session.batches():
                delivered += len(batch)
        drain_s = time.perf_counter() - td
        drained_after_stop = delivered - before
        dropped = session.dropped

    ru = resource.getrusage(resource.RUSAGE_SELF)
    main_name = thread_cpu_main_name()
    print(
        json.dumps(
            {
                "delivered": delivered,
                "dropped": dropped,
                "counts": counted,
                "polls": polls,
                "close_ms": close_ms,
                "drained_after_stop": drained_after_stop,
                "drain_after_stop_s": drain_s,
                "vmhwm_kb": vm_hwm_kb(),
                "maxrss_kb": ru.ru_maxrss,
                "cpu_s": ru.ru_utime + ru.ru_stime,
                # /proc counts in clock ticks: clamp the rounding below zero
                "consumer_cpu_s": max(0.0, cpu_during.get("systrace-consum", 0.0)
                                      - cpu_before.get("systrace-consum", 0.0)),
                "python_cpu_s": max(0.0, cpu_during.get(main_name, 0.0) - cpu_before.get(main_name, 0.0)),
            }
        ),
        flush=True,
    )
    return 0


def thread_cpu_main_name() -> str:
    with open("/proc/self/comm") as f:
        return f.read().strip()


if __name__ == "__main__":
    sys.exit(main())
