"""Find slow syscalls: pair each enter with its exit (systrace.calls) and
sort by duration_ns."""
import os
import tempfile
import threading
import time

import systrace


def workload() -> set:
    """Some slow calls; returns the ids of the threads that made them."""
    r, w = os.pipe()
    # A read that waits 50 ms for its data.
    writer = threading.Timer(0.05, os.write, (w, b"late data"))
    writer.start()
    os.read(r, 100)
    writer.join()
    time.sleep(0.02)  # clock_nanosleep
    with tempfile.NamedTemporaryFile() as f:  # an fsync that reaches the disk
        f.write(b"x" * 1_000_000)
        f.flush()
        os.fsync(f.fileno())
    os.close(r)
    os.close(w)
    return {threading.get_native_id(), writer.native_id}


with systrace.enable(strings=True) as session:  # every syscall of this process
    tids = workload()

# The calls of the workload's threads (the process has others, e.g. systrace's
# own), with both an enter and an exit.
calls = [c for c in systrace.calls(session) if c.tid in tids and c.duration_ns is not None]
print(f"{len(calls)} calls; the 5 slowest:")
for call in sorted(calls, key=lambda c: c.duration_ns, reverse=True)[:5]:
    print(f"  {call.duration_ns / 1e6:8.3f} ms  tid {call.tid}  {call.strace(column=0)}")
