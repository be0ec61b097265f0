"""EventBatch.columns(): each batch's fields as arrays of machine integers,
read here with memoryview, without an Event object per event."""
import os
import threading
from collections import Counter

import systrace

with systrace.enable("getppid", "getuid") as session:
    for _ in range(1000):
        os.getppid()
    os.getuid()

me = threading.get_native_id()
enters: Counter = Counter()
for batch in session.batches():
    columns = batch.columns()  # name -> (struct format, bytes)
    tids = memoryview(columns["tid"][1]).cast("I")
    nrs = memoryview(columns["nr"][1]).cast("I")
    phases = columns["phase"][1]  # "B": 1 enter, 2 exit
    for tid, nr, phase in zip(tids, nrs, phases):
        if tid == me and phase == 1:
            enters[systrace.syscall_name(nr)] += 1
print("enters:", dict(sorted(enters.items())))
print("formats:", {name: fmt for name, (fmt, _) in columns.items()})
