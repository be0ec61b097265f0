"""Write a trace that Perfetto (ui.perfetto.dev) and chrome://tracing open:
one slice per syscall on its thread's track."""
import json
import os
import sys
import threading

import systrace


def worker(n: int) -> None:
    for _ in range(n):
        os.getppid()


with systrace.enable("getppid", "clone3", "clone") as session:
    threads = [threading.Thread(target=worker, args=(3,), name=f"worker-{i}") for i in range(2)]
    for t in threads:
        t.start()  # a clone3 on the main thread's track
    for t in threads:
        t.join()

path = sys.argv[1] if len(sys.argv) > 1 else "trace.json"
count = systrace.to_chrome_trace(session, path)
trace = json.load(open(path))
slices = [e for e in trace["traceEvents"] if e["ph"] == "X"]
tracks = sorted({(e["pid"], e["tid"]) for e in slices})
print(f"{path}: {count} trace events, {len(slices)} slices on {len(tracks)} thread tracks")
print(json.dumps(next(e for e in slices if e["name"] == "getppid")))
