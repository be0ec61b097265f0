"""A BCC peer for bench/run.py: raw_syscalls:sys_enter/sys_exit filtered by
pid and syscall number in the BPF program, events sent to a Python callback
through a perf buffer or a BPF ring buffer. Run with the system Python
(Debian's python3-bpfcc).

    /usr/bin/python3 bcc_tracer.py --pid PID --nrs 110 --output perf|ring [--buffer-mb 8]

Same protocol as systrace_tracer.py: prints {"ready": ...} once attached,
counts events until a line arrives on stdin, then prints
{"delivered":..., "dropped":..., ...}. The buffer is the same size as
systrace's default (8 MiB): for perf, 8 MiB split over the CPUs.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import threading
import time

PROGRAM = r"""
struct event_t {
    u64 ts;
    u32 tgid;
    u32 tid;
    s64 nr;
    u64 args[6];
    s64 ret;
    char comm[16];
};

OUTPUT_DECL
BPF_ARRAY(lost, u64, 1);

static __always_inline int wanted(long nr) {
    return NR_TEST;
}

static __always_inline void count_lost(void) {
    int zero = 0;
    u64 *n = lost.lookup(&zero);
    if (n)
        __sync_fetch_and_add(n, 1);
}

TRACEPOINT_PROBE(raw_syscalls, sys_enter) {
    u64 pid_tgid = bpf_get_current_pid_tgid();
    if ((pid_tgid >> 32) != TGID)
        return 0;
    if (!wanted(args->id))
        return 0;
    struct event_t ev = {};
    ev.ts = bpf_ktime_get_ns();
    ev.tgid = pid_tgid >> 32;
    ev.tid = (u32)pid_tgid;
    ev.nr = args->id;
#pragma unroll
    for (int i = 0; i < 6; i++)
        ev.args[i] = args->args[i];
    bpf_get_current_comm(&ev.comm, sizeof(ev.comm));
    if (SUBMIT(args, &ev) < 0)
        count_lost();
    return 0;
}

TRACEPOINT_PROBE(raw_syscalls, sys_exit) {
    u64 pid_tgid = bpf_get_current_pid_tgid();
    if ((pid_tgid >> 32) != TGID)
        return 0;
    if (!wanted(args->id))
        return 0;
    struct event_t ev = {};
    ev.ts = bpf_ktime_get_ns();
    ev.tgid = pid_tgid >> 32;
    ev.tid = (u32)pid_tgid;
    ev.nr = args->id;
    ev.ret = args->ret;
    bpf_get_current_comm(&ev.comm, sizeof(ev.comm));
    if (SUBMIT(args, &ev) < 0)
        count_lost();
    return 0;
}
"""


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--nrs", required=True, help="comma-separated syscall numbers")
    ap.add_argument("--output", choices=("perf", "ring"), required=True)
    ap.add_argument("--buffer-mb", type=int, default=8)
    args = ap.parse_args()

    t0 = time.perf_counter()
    from bcc import BPF

    t1 = time.perf_counter()
    nrs = [int(n) for n in args.nrs.split(",")]
    ncpu = os.cpu_count() or 1
    if args.output == "perf":
        decl = "BPF_PERF_OUTPUT(events);"
        submit = "events.perf_submit"
    else:
        pages = args.buffer_mb * 1024 * 1024 // 4096
        decl = f"BPF_RINGBUF_OUTPUT(events, {pages});"
        submit = "RINGBUF_SUBMIT"
    text = (
        PROGRAM.replace("OUTPUT_DECL", decl)
        .replace("NR_TEST", " || ".join(f"nr == {n}" for n in nrs))
        .replace("TGID", str(args.pid))
    )
    if args.output == "ring":
        # ringbuf_output takes (data, size, flags); match perf_submit's shape.
        text = text.replace("SUBMIT(args, &ev)", "events.ringbuf_output(&ev, sizeof(ev), 0)")
    else:
        text = text.replace("SUBMIT(args, &ev)", "events.perf_submit(args, &ev, sizeof(ev))")

    b = BPF(text=text)
    delivered = 0
    lost_cb_total = 0

    def on_event(cpu, data, size):  # perf: (cpu, data, size); ring: (ctx, data, size)
        nonlocal delivered
        delivered += 1

    def on_lost(n):
        nonlocal lost_cb_total
        lost_cb_total += n

    if args.output == "perf":
        per_cpu_pages = max(1, args.buffer_mb * 1024 * 1024 // 4096 // ncpu)
        # page_cnt must be a power of two
        p = 1
        while p * 2 <= per_cpu_pages:
            p *= 2
        b["events"].open_perf_buffer(on_event, page_cnt=p, lost_cb=on_lost)
        poll = b.perf_buffer_poll
    else:
        b["events"].open_ring_buffer(on_event)
        poll = b.ring_buffer_poll
    t2 = time.perf_counter()
    print(
        json.dumps({"ready": True, "import_ms": (t1 - t0) * 1e3, "first_enable_ms": (t2 - t1) * 1e3}),
        flush=True,
    )

    stop = threading.Event()

    def wait_stop() -> None:
        sys.stdin.readline()
        stop.set()

    threading.Thread(target=wait_stop, daemon=True).start()
    while not stop.is_set():
        poll(50)
    # Take what is left.
    while True:
        before = delivered
        poll(10)
        if delivered == before:
            break
    lost_map = sum(v.value for v in b["lost"].values())
    ru = resource.getrusage(resource.RUSAGE_SELF)
    print(
        json.dumps(
            {
                "delivered": delivered,
                "dropped": max(lost_map, lost_cb_total),
                "lost_submit_failures": lost_map,
                "lost_cb": lost_cb_total,
                "maxrss_kb": ru.ru_maxrss,
                "cpu_s": ru.ru_utime + ru.ru_stime,
            }
        ),
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
