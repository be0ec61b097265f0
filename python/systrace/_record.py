"""Recordings: a session's events in an Apache Parquet file, and back.

    with systrace.enable("openat", "read", output="trace.parquet") as rec:
        ...                                   # a Rust thread writes the events
    trace = systrace.load("trace.parquet")    # the API of a closed session
    trace.calls(), trace.to_polars(), trace.dropped, trace.metadata

The file is read by any Parquet reader without systrace (pyarrow, polars,
DuckDB, Spark): one row per event, with the columns of systrace.to_arrow()
and a `captured` column; see docs/exports.md. The command records with
`--format parquet -o FILE`, `--record FILE` or `--output-dir DIR`, and
prints a recording with `--replay FILE`.
"""
from __future__ import annotations

import datetime
import json
import os
import socket
from typing import IO, TYPE_CHECKING, Any, Dict, Iterator, List, Optional, Union

from . import _native
from ._native import Call, Event

if TYPE_CHECKING:
    import pandas
    import polars
    import pyarrow

__all__ = ["Recording", "TraceFile", "load", "hive_path"]

PathLike = Union[str, "os.PathLike[str]"]


class Recording(_native.Recording):
    """A session whose events are written to an Apache Parquet file
    (systrace.enable(..., output=PATH)) by a thread of systrace's Rust core,
    instead of being kept for Python: memory stays bounded however long it
    runs. Use it as a context manager, or call close(): that finishes the
    file (its footer, with the metadata and the count of lost events).
    `dropped` counts losses as a Session does; `load()` reads the file back
    once closed.
    """

    __slots__ = ()

    def load(self) -> "TraceFile":
        """The recording read back (close it first)."""
        if not self.closed:
            raise RuntimeError("the file is finished when the recording closes: close it first")
        return TraceFile(self.path)


class TraceFile(_native.TraceFile):
    """A recording read back (systrace.load()): the API of a closed session.

    Iterating yields its events (systrace.Event), a batch at a time from the
    file; batches(), events(), calls(), iter_calls() and the exports work as
    on a closed Session, and may be called again (each reads the file from
    its start). `metadata` is the file's key-value metadata; `dropped` the
    events lost while recording.
    """

    __slots__ = ()

    @property
    def closed(self) -> bool:
        """Always True: a recording is a closed session."""
        return True

    def _json(self, key: str) -> Any:
        value = self.metadata.get(key)
        return None if value is None else json.loads(value)

    @property
    def syscalls(self) -> List[str]:
        """The names of the syscalls the recorded session traced."""
        names: Optional[List[str]] = self._json("systrace.syscalls")
        return names or []

    @property
    def pids(self) -> Optional[List[int]]:
        """The processes the recorded session traced; None for all."""
        pids: Optional[List[int]] = self._json("systrace.pids")
        return pids

    def __iter__(self) -> Iterator[Event]:
        for batch in self.batches():
            yield from batch

    def events(self) -> List[Event]:
        """Every event, as a list."""
        return list(self)

    def calls(self) -> List[Call]:
        """The calls (enter and exit paired per thread), in order of start."""
        return _native.calls_of(self.batches())

    def iter_calls(self) -> Iterator[Call]:
        """The calls as they complete, as Session.iter_calls() streams them."""
        return _native.CallIter(self.batches())

    def to_arrow(self) -> "pyarrow.Table":
        """The events as a pyarrow.Table, as systrace.to_arrow() makes it."""
        from ._export import to_arrow

        return to_arrow(self.batches())

    def to_pandas(self) -> "pandas.DataFrame":
        """The events as a pandas DataFrame (systrace.to_pandas)."""
        from ._export import to_pandas

        return to_pandas(self.batches())

    def to_polars(self) -> "polars.DataFrame":
        """The events as a polars DataFrame (systrace.to_polars)."""
        from ._export import to_polars

        return to_polars(self.batches())

    def to_chrome_trace(self, path: Union[PathLike, IO[str]]) -> int:
        """Write the calls as Chrome trace JSON (systrace.to_chrome_trace)."""
        from ._export import to_chrome_trace

        return to_chrome_trace(self.calls(), path)

    def to_jsonl(self, file: Union[PathLike, IO[str]]) -> int:
        """Write one JSON object per event and line (systrace.to_jsonl)."""
        from ._export import to_jsonl

        return to_jsonl(self.batches(), file)


def load(path: PathLike) -> TraceFile:
    """Read a recording (a Parquet file systrace wrote) back.

    Raises FileNotFoundError (or another OSError) if the file cannot be
    opened, and ValueError if it is not a systrace recording, or one made on
    another architecture (its syscall numbers are that architecture's).
    """
    return TraceFile(path)


def hive_path(directory: PathLike, *, host: Optional[str] = None, pid: Optional[int] = None,
              when: Optional[datetime.datetime] = None) -> str:
    """Where a recording goes in a hive-partitioned tree of recordings:
    DIRECTORY/host=HOST/date=YYYY-MM-DD/trace-PID-YYYYmmddTHHMMSSffffff.parquet
    (the local date and time to the microsecond; PID the recording process's). Parquet engines
    (polars.scan_parquet, pyarrow.dataset, DuckDB, Spark) read `host` and
    `date` as columns of a query over the whole tree. Creates the
    directories."""
    host = host or socket.gethostname()
    when = when or datetime.datetime.now()
    pid = os.getpid() if pid is None else pid
    folder = os.path.join(os.fspath(directory), f"host={host}", f"date={when:%Y-%m-%d}")
    os.makedirs(folder, exist_ok=True)
    return os.path.join(folder, f"trace-{pid}-{when:%Y%m%dT%H%M%S%f}.parquet")


def session_options(*, follow: bool, strings: bool, string_size: Optional[int], all_processes: bool) -> Dict[str, str]:
    """The options of enable() as a recording's metadata."""
    meta = {
        "systrace.follow": json.dumps(follow),
        "systrace.strings": json.dumps(strings),
        "systrace.all_processes": json.dumps(all_processes),
    }
    if string_size is not None:
        meta["systrace.string_size"] = str(string_size)
    return meta
