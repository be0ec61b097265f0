"""Trace this process's read() and write() on a pipe, and print the events.

Run as root (or with CAP_BPF and CAP_PERFMON):
    sudo .venv/bin/python examples/trace_pipe.py
"""
import os

import systrace

r, w = os.pipe()
with systrace.enable("read", "write") as session:
    os.write(w, b"hello")
    data = os.read(r, 100)

for ev in session:
    print(f"{ev.phase:5} {ev.name:5} ret={ev.ret!s:4} args={ev.args}")
    print(f"      {ev}")
print("read back:", data, "| dropped:", session.dropped)
