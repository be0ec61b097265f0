"""Many recordings, one query: Parquet files laid out by host and date
(host=NAME/date=YYYY-MM-DD/trace-*.parquet, as `systrace --output-dir DIR`
writes them on each machine), read as one table by polars' lazy
scan_parquet: the failing syscalls per host. Needs polars."""
import errno
import os
import tempfile

import polars as pl

import systrace

root = tempfile.mkdtemp()
scratch = os.path.join(root, "scratch")
attempts = {
    "web1": [(scratch, os.O_CREAT | os.O_WRONLY), ("/no/such/file", os.O_RDONLY)],
    "db1": [("/missing", os.O_RDONLY), ("/missing", os.O_RDONLY), ("/etc", os.O_WRONLY)],
}
# Two machines' recordings, made here: hive_path() is where --output-dir
# puts a recording (its host= is this machine's name unless told).
for host, opens in attempts.items():
    with systrace.enable("openat", "close", output=systrace.hive_path(root, host=host)):
        for path, flags in opens:
            try:
                os.close(os.open(path, flags))
            except OSError:
                pass
files = sorted(os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs)
print(files[0])

# The query: the same SQL runs on any Parquet engine (DuckDB, Spark, ...).
failures = (
    pl.scan_parquet(os.path.join(root, "host=*", "date=*", "*.parquet"), hive_partitioning=True)
    .filter((pl.col("phase") == "exit") & (pl.col("ret") < 0))
    .group_by("host", "name", "ret")
    .agg(pl.len().alias("failures"))
    .sort(["host", "failures"], descending=[False, True])
    .collect()
)
for host, name, ret, n in failures.iter_rows():
    print(f"{host:5} {name:7} {errno.errorcode[-ret]:7} {n}")
