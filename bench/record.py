#!/usr/bin/env python3
"""Recording to Parquet against streaming into Python, on the read loop of
bench/workload.c (read(fd, buf, 1) of /dev/zero per iteration), in one run.

    sudo .venv/bin/python bench/record.py [--iterations N] [--buffer-size BYTES]

For each way, the workload starts and waits, a session is enabled for its
pid (enter and exit of read), the loop runs, the session closes; then one
line: events delivered (written to the file, or handed to Python), events
lost, events per second of the loop's wall time, and for the recording the
file's bytes per event on disk. Needs root (BPF) and cc.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time

import systrace

HERE = os.path.dirname(os.path.abspath(__file__))


def build(tmp: str) -> str:
    exe = os.path.join(tmp, "workload")
    subprocess.run([os.environ.get("CC", "cc"), "-O2", "-Wall", "-o", exe, os.path.join(HERE, "workload.c")], check=True)
    return exe


def start(exe: str, n: int) -> subprocess.Popen:
    wl = subprocess.Popen([exe, "read", str(n), "--wait-stdin"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert wl.stdout is not None
    line = wl.stdout.readline()
    if line.strip() != "ready":
        raise RuntimeError(f"workload did not start: {line!r}")
    return wl


def run(wl: subprocess.Popen) -> float:
    """Lets the waiting workload run its loop; returns the loop's seconds."""
    out, _ = wl.communicate("go\n", timeout=600)
    fields = dict(kv.split("=") for kv in out.split())
    return int(fields["loop_ns"]) / 1e9


def record(exe: str, n: int, buffer_size: int, path: str) -> str:
    wl = start(exe, n)
    with systrace.enable("read", pid=wl.pid, output=path, buffer_size=buffer_size) as rec:
        seconds = run(wl)
    size = os.path.getsize(path)
    written = rec.events_written
    return (f"parquet  {written:>10} events  {rec.dropped:>8} lost  {written / seconds:>12,.0f} events/s  "
            f"{size / max(written, 1):6.2f} bytes/event on disk")


def stream(exe: str, n: int, buffer_size: int) -> str:
    wl = start(exe, n)
    delivered = 0
    session = systrace.enable("read", pid=wl.pid, buffer_size=buffer_size)

    def drain() -> None:
        nonlocal delivered
        for batch in session.batches():
            delivered += len(batch)

    reader = threading.Thread(target=drain)
    reader.start()
    seconds = run(wl)
    session.close()
    reader.join()
    return f"python   {delivered:>10} events  {session.dropped:>8} lost  {delivered / seconds:>12,.0f} events/s"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--iterations", type=int, default=1_000_000)
    ap.add_argument("--buffer-size", type=int, default=systrace.DEFAULT_BUFFER_SIZE)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        exe = build(tmp)
        print(f"read loop, {args.iterations} iterations ({2 * args.iterations} events), "
              f"ring buffer {args.buffer_size >> 20} MiB, {os.cpu_count()} CPUs")
        print(record(exe, args.iterations, args.buffer_size, os.path.join(tmp, "trace.parquet")))
        time.sleep(1)
        print(stream(exe, args.iterations, args.buffer_size))
    return 0


if __name__ == "__main__":
    sys.exit(main())
