"""Export to a DataFrame: events (one row per event, built from the batches'
columns without a Python object per event) and calls (one row per call,
with duration_ns). Needs pandas and pyarrow; polars optional."""
import os
import tempfile
import threading

import systrace

with systrace.enable("openat", "read", "write", "close", "fstat", "newfstatat", strings=True) as session:
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(100):
            path = os.path.join(tmp, f"f{i}")
            with open(path, "w") as f:
                f.write("x" * i)
            with open(path) as f:
                f.read()
        try:
            open(os.path.join(tmp, "missing"))
        except FileNotFoundError:
            pass
# A list, so that each export below can read it; this thread's events only
# (other threads of the process, such as systrace's own, are traced too).
events = [e for e in session.events() if e.tid == threading.get_native_id()]

df = systrace.to_pandas(events)
print(df[["timestamp_ns", "tid", "name", "phase", "ret", "arg0"]].head(4).to_string())
print(df.dtypes[["timestamp_ns", "name", "ret", "arg1"]].to_dict())

calls = systrace.calls_to_pandas(events)
summary = calls.groupby("name", observed=True).agg(
    calls=("duration_ns", "size"),
    total_us=("duration_ns", lambda d: d.sum() / 1000),
    errors=("errno", "count"),
)
print(summary.sort_values("calls", ascending=False).to_string())
print(calls.loc[calls["errno"].notna(), ["name", "captured_filename", "errno"]].to_string())

try:
    import polars as pl
except ImportError:
    pl = None
if pl is not None:
    calls_pl = systrace.calls_to_polars(events)
    print(calls_pl.group_by("name").agg(pl.col("duration_ns").median().alias("median_ns")).sort("name"))
