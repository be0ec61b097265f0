"""Exports: Arrow tables, pandas and polars DataFrames, Chrome trace JSON
(Perfetto, chrome://tracing) and JSON lines.

    with systrace.enable("openat", "read") as session:
        ...
    table = systrace.to_arrow(session)        # one row per event
    df = systrace.to_pandas(session)          # ... as a pandas DataFrame
    calls = systrace.calls_to_pandas(session) # one row per call, with duration_ns
    systrace.to_chrome_trace(session, "trace.json")   # open in ui.perfetto.dev
    systrace.to_jsonl(session, "events.jsonl")

pyarrow, pandas and polars are optional: each is imported when a function
that needs it is called, and a missing one raises ImportError naming the
package and the extra that brings it (`pip install 'systrace[arrow]'`,
`[pandas]`, `[polars]`).

The event tables are built from `EventBatch.columns()`, the batch as
contiguous arrays made in Rust: no Python object is created per event.

Sources. Every function takes any of:
  - a Session: it must be closed (as for Session.events()); its remaining
    events are taken;
  - an EventBatch, or an iterable of EventBatch (e.g. what poll() returned);
  - an iterable of Event (e.g. session.events()); for the Arrow functions
    this is slower, since the columns are then assembled in Python;
  - for the call-level functions and the Chrome trace, also an iterable of
    systrace._calls.Call.
"""
from __future__ import annotations

import array
import json
import os
from typing import IO, TYPE_CHECKING, Any, Dict, Iterator, List, Optional, Tuple, Union

from . import _native

if TYPE_CHECKING:  # pragma: no cover - for the return annotations only
    # Optional, and without type information of their own (or not installed).
    import pandas  # type: ignore
    import polars  # type: ignore
    import pyarrow  # type: ignore

__all__ = [
    "EVENT_COLUMNS",
    "CALL_COLUMNS",
    "to_arrow",
    "to_pandas",
    "to_polars",
    "calls_to_arrow",
    "calls_to_pandas",
    "calls_to_polars",
    "to_chrome_trace",
    "chrome_trace_events",
    "to_jsonl",
    "json_line",
    "event_to_dict",
]

#: The columns of to_arrow()/to_pandas()/to_polars(), in order.
EVENT_COLUMNS: Tuple[str, ...] = (
    "timestamp_ns",  # uint64, CLOCK_MONOTONIC nanoseconds
    "pid",  # uint32 (tgid)
    "tid",  # uint32
    "comm",  # dictionary<int32, string>
    "cpu",  # uint16
    "nr",  # uint32
    "name",  # dictionary<int32, string>: the syscall's name
    "phase",  # dictionary<int8, string>: "enter" or "exit"
    "ret",  # int64, null on enter
    "nb_args",  # uint8
    "arg0",  # uint64 raw registers, null past nb_args (so on exit)
    "arg1",
    "arg2",
    "arg3",
    "arg4",
    "arg5",
)

#: The fixed columns of calls_to_arrow(), in order; `captured_<arg>` columns
#: (and `strace` when asked) follow.
CALL_COLUMNS: Tuple[str, ...] = (
    "timestamp_ns",  # uint64: the enter (the exit for a resumed call)
    "end_ns",  # uint64, null when unfinished
    "duration_ns",  # uint64, null unless both enter and exit were seen
    "pid",
    "tid",
    "comm",
    "nr",
    "name",
    "ret",  # int64, null when unfinished
    "errno",  # dictionary<int32, string>: "ENOENT", null unless failed
    "unfinished",  # bool: no exit seen
    "resumed",  # bool: no enter seen
    "arg0",
    "arg1",
    "arg2",
    "arg3",
    "arg4",
    "arg5",
)

_MAX_ARGS = 6
_COMM_LEN = 16
_PHASE_ENTER = 1
_PHASE_EXIT = 2

# Layout of EventBatch.columns(): field -> struct format.
_FORMATS: Dict[str, str] = {
    "timestamp_ns": "Q",
    "pid": "I",
    "tid": "I",
    "cpu": "H",
    "nr": "I",
    "phase": "B",
    "ret": "q",
    "nb_args": "B",
    **{f"arg{i}": "Q" for i in range(_MAX_ARGS)},
    "comm": f"{_COMM_LEN}s",
}


# The extras of pyproject.toml that bring each optional package.
_EXTRAS = {"pyarrow": ("arrow", "pyarrow"), "pandas": ("pandas", "pandas pyarrow"), "polars": ("polars", "polars pyarrow")}


def _require(module: str) -> Any:
    """Import an optional dependency, or say how to install it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as err:
        extra, packages = _EXTRAS[module]
        raise ImportError(
            f"this export needs {module}: pip install {packages} (or pip install 'systrace[{extra}]')"
        ) from err


def _pyarrow() -> Any:
    pa = _require("pyarrow")
    import pyarrow.compute  # type: ignore  # noqa: F401  (a submodule; import it explicitly)

    return pa


# Sources.


def _is_session(obj: Any) -> bool:
    from ._session import Session

    return isinstance(obj, (Session, _native.Session))


def _is_call(obj: Any) -> bool:
    try:
        from ._calls import Call
    except ImportError:  # pragma: no cover - _calls is part of the package
        return False
    return isinstance(obj, Call)


def _session_batches(session: Any) -> Iterator[Any]:
    """The events left in a closed session, as batches."""
    if not session.closed:
        raise RuntimeError(
            "exporting a session waits for its end: close it first (or export the batches that poll() returns)"
        )
    native = getattr(session, "_native", session)
    while True:
        batch = native.poll(0.0)
        if batch:
            yield batch
        elif native.exhausted:
            return


def _iter_items(source: Any) -> Iterator[Any]:
    """EventBatch, Event or Call items of a source (batches are not flattened)."""
    if _is_session(source):
        yield from _session_batches(source)
    elif isinstance(source, _native.EventBatch):
        yield source
    elif isinstance(source, (str, bytes, dict)):
        raise TypeError(f"not a source of events: {type(source).__name__}")
    else:
        yield from source


def _iter_events(source: Any) -> Iterator[Any]:
    """The events of a source, one by one (Calls pass through)."""
    for item in _iter_items(source):
        if isinstance(item, _native.EventBatch):
            yield from item
        else:
            yield item


def _iter_calls(source: Any) -> Iterator[Any]:
    """The calls of a source: its Call items, or its events paired by systrace._calls."""
    from ._calls import Call, iter_calls

    pending: List[Any] = []

    def events_then_calls() -> Iterator[Any]:
        for item in _iter_events(source):
            if isinstance(item, Call):
                pending.append(item)
            else:
                yield item

    calls = list(iter_calls(events_then_calls()))
    calls.extend(pending)
    calls.sort(key=lambda c: c.timestamp_ns)
    return iter(calls)


# Columns.


def _event_columns(events: List[Any]) -> Dict[str, Tuple[str, bytes]]:
    """EventBatch.columns() for a list of Python events (the slow path)."""
    cols: Dict[str, array.array] = {name: array.array(fmt) for name, fmt in _FORMATS.items() if name != "comm"}
    comm = bytearray()
    for ev in events:
        cols["timestamp_ns"].append(ev.timestamp_ns)
        cols["pid"].append(ev.pid)
        cols["tid"].append(ev.tid)
        cols["cpu"].append(getattr(ev, "cpu", 0))
        cols["nr"].append(ev.nr)
        phase = _PHASE_ENTER if ev.phase == "enter" else _PHASE_EXIT
        cols["phase"].append(phase)
        cols["ret"].append(ev.ret if phase == _PHASE_EXIT and ev.ret is not None else 0)
        raw = list(ev.raw_args) if phase == _PHASE_ENTER else []
        cols["nb_args"].append(len(raw))
        for i in range(_MAX_ARGS):
            cols[f"arg{i}"].append(raw[i] if i < len(raw) else 0)
        comm += ev.comm.encode("utf-8", "replace")[:_COMM_LEN].ljust(_COMM_LEN, b"\0")
    out: Dict[str, Tuple[str, bytes]] = {name: (_FORMATS[name], col.tobytes()) for name, col in cols.items()}
    out["comm"] = (_FORMATS["comm"], bytes(comm))
    return out


def _check_layout(cols: Dict[str, Tuple[str, bytes]]) -> None:
    for name, fmt in _FORMATS.items():
        got = cols.get(name, (None, b""))[0]
        if got != fmt:
            raise RuntimeError(f"EventBatch.columns(): {name} has format {got!r}, expected {fmt!r}")


def _raw_record_batch(pa: Any, cols: Dict[str, Tuple[str, bytes]]) -> Any:
    """One Arrow RecordBatch over the column buffers, without copying them."""
    _check_layout(cols)
    n = len(cols["phase"][1])
    types = {"Q": pa.uint64(), "q": pa.int64(), "I": pa.uint32(), "H": pa.uint16(), "B": pa.uint8()}
    names, arrays = [], []
    for name, (fmt, data) in cols.items():
        if name not in _FORMATS:
            continue
        typ = pa.binary(_COMM_LEN) if name == "comm" else types[fmt]
        arrays.append(pa.Array.from_buffers(typ, n, [None, pa.py_buffer(data)]))
        names.append(name)
    return pa.RecordBatch.from_arrays(arrays, names=names)


def _raw_table(pa: Any, source: Any) -> Any:
    """The raw columns of every event of `source`, one chunk per batch."""
    batches = []
    loose: List[Any] = []
    for item in _iter_items(source):
        if isinstance(item, _native.EventBatch):
            if loose:
                batches.append(_raw_record_batch(pa, _event_columns(loose)))
                loose = []
            if len(item):
                batches.append(_raw_record_batch(pa, item.columns()))
        elif _is_call(item):
            raise TypeError("to_arrow() exports events; for calls use calls_to_arrow()")
        else:
            loose.append(item)
    if loose or not batches:
        batches.append(_raw_record_batch(pa, _event_columns(loose)))
    return pa.Table.from_batches(batches)


def _syscall_label(nr: int) -> str:
    """Event.name for a syscall number."""
    name = _native.syscall_name(nr)
    if name:
        return name
    try:
        return _native.syscall_metadata(nr)[0][len("sys_"):]
    except ValueError:
        return f"syscall_{nr}"


def _comm_label(raw: bytes) -> str:
    """Event.comm for the 16 NUL-padded bytes of the kernel's comm."""
    return raw.split(b"\0", 1)[0].decode("utf-8", "replace")


def _dictionary(pa: Any, column: Any, label: Any, index_type: Any = None) -> Any:
    """A dictionary-encoded string column: `label` runs once per distinct value."""
    pc = pa.compute
    index_type = index_type or pa.int32()
    uniques = pc.unique(column)
    dictionary = pa.array([label(v) for v in uniques.to_pylist()], pa.string())
    indices = pc.index_in(column, value_set=uniques)
    chunks = [pa.DictionaryArray.from_arrays(chunk.cast(index_type), dictionary) for chunk in indices.chunks]
    return pa.chunked_array(chunks, type=pa.dictionary(index_type, pa.string()))


def _null_unless(pa: Any, mask: Any, column: Any) -> Any:
    return pa.compute.if_else(mask, column, pa.scalar(None, column.type))


_SCHEMA_METADATA = {
    b"systrace.clock": b"CLOCK_MONOTONIC",
    b"systrace.arch": _native.ARCH.encode(),
}


def to_arrow(source: Any) -> "pyarrow.Table":
    """The events of `source` as a pyarrow.Table, one row per event.

    Columns: see EVENT_COLUMNS. `name`, `phase` and `comm` are
    dictionary-encoded strings; `ret` is null on enter; `arg0`..`arg5` are the
    raw argument registers, null past the syscall's argument count (and on
    exit). Rows are in the order the events arrived (per thread, in order of
    time). Built from EventBatch.columns() without a Python object per event.

    source: a closed Session, an EventBatch, an iterable of EventBatch, or an
    iterable of Event. Needs pyarrow.
    """
    pa = _pyarrow()
    pc = pa.compute
    raw = _raw_table(pa, source)
    phase = raw.column("phase")
    nb_args = raw.column("nb_args")
    columns = {
        "timestamp_ns": raw.column("timestamp_ns"),
        "pid": raw.column("pid"),
        "tid": raw.column("tid"),
        "comm": _dictionary(pa, raw.column("comm"), _comm_label),
        "cpu": raw.column("cpu"),
        "nr": raw.column("nr"),
        "name": _dictionary(pa, raw.column("nr"), _syscall_label),
        "phase": pa.chunked_array(
            [
                pa.DictionaryArray.from_arrays(
                    pc.subtract(chunk, pa.scalar(1, pa.uint8())).cast(pa.int8()),
                    pa.array(["enter", "exit"], pa.string()),
                )
                for chunk in phase.chunks
            ],
            type=pa.dictionary(pa.int8(), pa.string()),
        ),
        "ret": _null_unless(pa, pc.equal(phase, pa.scalar(_PHASE_EXIT, pa.uint8())), raw.column("ret")),
        "nb_args": nb_args,
    }
    for i in range(_MAX_ARGS):
        present = pc.greater(nb_args, pa.scalar(i, pa.uint8()))
        columns[f"arg{i}"] = _null_unless(pa, present, raw.column(f"arg{i}"))
    table = pa.table(columns)
    assert tuple(table.column_names) == EVENT_COLUMNS
    return table.replace_schema_metadata(_SCHEMA_METADATA)


def _text_or_bytes(values: List[Any]) -> Tuple[Any, List[Any]]:
    """A column type for captured values: string when every one is UTF-8, else binary."""
    flat: List[bytes] = []
    for v in values:
        if isinstance(v, list):
            flat.extend(v)
        elif v is not None:
            flat.append(v)
    try:
        for v in flat:
            v.decode("utf-8")
    except UnicodeDecodeError:
        return "binary", values

    def dec(v: Any) -> Any:
        if v is None:
            return None
        if isinstance(v, list):
            return [x.decode("utf-8") for x in v]
        return v.decode("utf-8")

    return "string", [dec(v) for v in values]


def calls_to_arrow(source: Any, *, strace: bool = False) -> "pyarrow.Table":
    """The calls of `source` as a pyarrow.Table, one row per call.

    Enter and exit events are paired per thread by systrace._calls. Columns:
    see CALL_COLUMNS: start and end times, duration_ns, who, the syscall, ret
    and errno, the raw arguments; then one `captured_<arg>` column per
    argument whose memory was captured (strings=True): string when every
    value is UTF-8, else binary; argv as a list. strace=True adds a `strace`
    column, the call as strace prints it. Rows are in order of start time.

    source: a closed Session, EventBatch(es), Events, or Calls. Needs pyarrow.
    """
    pa = _pyarrow()
    calls = list(_iter_calls(source))
    cols: Dict[str, List[Any]] = {name: [] for name in CALL_COLUMNS}
    captured: Dict[str, List[Any]] = {}
    texts: List[str] = []
    for row, call in enumerate(calls):
        cols["timestamp_ns"].append(call.timestamp_ns)
        cols["end_ns"].append(call.end_ns)
        cols["duration_ns"].append(call.duration_ns)
        cols["pid"].append(call.pid)
        cols["tid"].append(call.tid)
        cols["comm"].append(call.comm)
        cols["nr"].append(call.nr)
        cols["name"].append(call.name)
        cols["ret"].append(call.ret)
        cols["errno"].append(call.errno)
        cols["unfinished"].append(call.unfinished)
        cols["resumed"].append(call.resumed)
        raw = call.raw_args
        for i in range(_MAX_ARGS):
            cols[f"arg{i}"].append(raw[i] if i < len(raw) else None)
        for arg, value in call.captured.items():
            captured.setdefault(arg, [None] * row).append(value)
        for values in captured.values():
            if len(values) < row + 1:
                values.append(None)
        if strace:
            texts.append(call.strace(column=0))
    types = {
        "timestamp_ns": pa.uint64(),
        "end_ns": pa.uint64(),
        "duration_ns": pa.uint64(),
        "pid": pa.uint32(),
        "tid": pa.uint32(),
        "nr": pa.uint32(),
        "ret": pa.int64(),
        "unfinished": pa.bool_(),
        "resumed": pa.bool_(),
        **{f"arg{i}": pa.uint64() for i in range(_MAX_ARGS)},
    }
    arrays: Dict[str, Any] = {}
    for name in CALL_COLUMNS:
        if name in ("comm", "name", "errno"):
            arrays[name] = pa.array(cols[name], pa.string()).dictionary_encode()
        else:
            arrays[name] = pa.array(cols[name], types[name])
    for arg in sorted(captured):
        kind, values = _text_or_bytes(captured[arg])
        base = pa.string() if kind == "string" else pa.binary()
        typ = pa.list_(base) if any(isinstance(v, list) for v in values) else base
        if isinstance(typ, pa.ListType):
            values = [v if v is None or isinstance(v, list) else [v] for v in values]
        arrays[f"captured_{arg}"] = pa.array(values, typ)
    if strace:
        arrays["strace"] = pa.array(texts, pa.string())
    return pa.table(arrays).replace_schema_metadata(_SCHEMA_METADATA)


def _pandas_types_mapper() -> Any:
    """Arrow integer types -> pandas' nullable integer dtypes, so that a null
    ret stays exact (not a float NaN)."""
    pd = _require("pandas")
    pa = _pyarrow()
    mapping = {
        pa.int8(): pd.Int8Dtype(),
        pa.int16(): pd.Int16Dtype(),
        pa.int32(): pd.Int32Dtype(),
        pa.int64(): pd.Int64Dtype(),
        pa.uint8(): pd.UInt8Dtype(),
        pa.uint16(): pd.UInt16Dtype(),
        pa.uint32(): pd.UInt32Dtype(),
        pa.uint64(): pd.UInt64Dtype(),
        pa.bool_(): pd.BooleanDtype(),
    }
    return mapping.get


def to_pandas(source: Any) -> "pandas.DataFrame":
    """The events of `source` as a pandas DataFrame, one row per event
    (to_arrow(), converted): integers as nullable integer dtypes (ret is <NA>
    on enter, arg0..arg5 past the argument count), name/phase/comm as
    categoricals. Needs pandas and pyarrow."""
    types_mapper = _pandas_types_mapper()
    return to_arrow(source).to_pandas(types_mapper=types_mapper)


def calls_to_pandas(source: Any, *, strace: bool = False) -> "pandas.DataFrame":
    """The calls of `source` as a pandas DataFrame, one row per call
    (calls_to_arrow(), converted). Needs pandas and pyarrow."""
    types_mapper = _pandas_types_mapper()
    return calls_to_arrow(source, strace=strace).to_pandas(types_mapper=types_mapper)


def to_polars(source: Any) -> "polars.DataFrame":
    """The events of `source` as a polars DataFrame, one row per event
    (polars.from_arrow(to_arrow())). Needs polars and pyarrow."""
    pl = _require("polars")
    return pl.from_arrow(to_arrow(source))


def calls_to_polars(source: Any, *, strace: bool = False) -> "polars.DataFrame":
    """The calls of `source` as a polars DataFrame, one row per call
    (polars.from_arrow(calls_to_arrow())). Needs polars and pyarrow."""
    pl = _require("polars")
    return pl.from_arrow(calls_to_arrow(source, strace=strace))


# JSON.


def _jsonable(value: Any) -> Any:
    """Captured bytes as JSON: a str when UTF-8, else {"hex": "..."}."""
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return {"hex": value.hex()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def event_to_dict(event: Any) -> Dict[str, Any]:
    """Every field of an Event as a JSON-ready dict.

    Keys: name, nr, phase, pid, tid, comm, cpu, timestamp_ns, args (name ->
    int, {} on exit), raw_args, ret (None on enter), captured (argument name
    -> str when UTF-8, else {"hex": "..."}; argv a list), capture_status, and
    text: the kernel's trace text, str(event).
    """
    return {
        "name": event.name,
        "nr": event.nr,
        "phase": event.phase,
        "pid": event.pid,
        "tid": event.tid,
        "comm": event.comm,
        "cpu": event.cpu,
        "timestamp_ns": event.timestamp_ns,
        "args": dict(event.args),
        "raw_args": list(event.raw_args),
        "ret": event.ret,
        "captured": {k: _jsonable(v) for k, v in (getattr(event, "captured", None) or {}).items()},
        "capture_status": dict(getattr(event, "capture_status", None) or {}),
        "text": str(event),
    }


PathOrFile = Union[str, "os.PathLike[str]", IO[str]]


class _Output:
    """A path (opened, then closed) or an open text file (left open)."""

    def __init__(self, target: PathOrFile) -> None:
        if isinstance(target, (str, os.PathLike)):
            self.file: IO[str] = open(target, "w", encoding="utf-8")
            self.owned = True
        elif hasattr(target, "write"):
            self.file = target
            self.owned = False
        else:
            raise TypeError(f"expected a path or a writable text file, not {type(target).__name__}")

    def __enter__(self) -> IO[str]:
        return self.file

    def __exit__(self, *exc: object) -> None:
        if self.owned:
            self.file.close()
        else:
            self.file.flush()


def json_line(item: Any, *, string_size: Optional[int] = None) -> str:
    """One line of JSON lines (with its newline) for an Event (event_to_dict())
    or a Call (Call.to_dict(string_size): every field and its strace text)."""
    if _is_call(item):
        record = item.to_dict() if string_size is None else item.to_dict(string_size)
    else:
        record = event_to_dict(item)
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"


def to_jsonl(source: Any, file: PathOrFile, *, flush: bool = False, string_size: Optional[int] = None) -> int:
    """Write one JSON object per line for each event (event_to_dict()) or
    call (Call.to_dict()) of `source`; returns the number of lines.

    source: any iterable of Event or Call, an EventBatch, or a Session (an
    open one is streamed until it is closed: each line is written as its
    event arrives). file: a path, or a text file such as sys.stdout (left
    open). flush=True flushes after every line, for a live pipe.
    string_size: the strace -s of the calls' "strace" text (default 32).
    """
    count = 0
    with _Output(file) as out:
        items = _iter_session_stream(source) if _is_session(source) else _iter_events(source)
        for item in items:
            out.write(json_line(item, string_size=string_size))
            count += 1
            if flush:
                out.flush()
    return count


def _iter_session_stream(session: Any) -> Iterator[Any]:
    """A session's events: streamed while open, what is left once closed."""
    from ._session import Session

    return iter(session if isinstance(session, Session) else Session(session))


# Chrome trace event format.


def _us(ns: int) -> float:
    return ns / 1000.0


def _classes(name: str) -> str:
    try:
        classes = _native.strace.syscall_classes(name)
    except Exception:  # unknown to the strace tables
        classes = []
    return ",".join(["syscall", *classes])


def chrome_trace_events(source: Any) -> Iterator[Dict[str, Any]]:
    """The Chrome trace events (dicts) of `source`'s calls, as
    to_chrome_trace() writes them: metadata events first, then the calls by
    start time.

    Each call that returned is a complete event ("ph": "X") on its thread's
    track (pid, tid) with "ts" and "dur" in microseconds (CLOCK_MONOTONIC);
    a call that never returned (exit_group, the end of the trace) is a begin
    event ("B") without an end; a call whose enter was not seen is an instant
    event ("i", "s": "t") at its return. "name" is the syscall, "cat"
    "syscall" followed by its strace classes (e.g. "syscall,desc,file"), and
    "args" holds the arguments (captured strings as text), "ret", "errno" and
    "strace" (the call as strace prints it). Processes and threads are named
    from comm with "process_name" / "thread_name" metadata events ("ph": "M").
    """
    calls = list(_iter_calls(source))
    process_names: Dict[int, str] = {}
    thread_names: Dict[Tuple[int, int], str] = {}
    for call in calls:
        thread_names[(call.pid, call.tid)] = call.comm
        if call.tid == call.pid or call.pid not in process_names:
            process_names[call.pid] = call.comm
    for pid, name in sorted(process_names.items()):
        yield {"name": "process_name", "ph": "M", "pid": pid, "tid": pid, "args": {"name": name}}
    for (pid, tid), name in sorted(thread_names.items()):
        yield {"name": "thread_name", "ph": "M", "pid": pid, "tid": tid, "args": {"name": name}}
    for call in calls:
        args: Dict[str, Any] = {k: _jsonable(v) if not isinstance(v, str) else v for k, v in call.args.items()}
        args["ret"] = call.ret
        args["errno"] = call.errno
        args["strace"] = call.strace(column=0)
        event: Dict[str, Any] = {
            "name": call.name,
            "cat": _classes(call.name),
            "pid": call.pid,
            "tid": call.tid,
        }
        if call.resumed:
            event.update(ph="i", s="t", ts=_us(call.end_ns), args=args)
        elif call.unfinished:
            event.update(ph="B", ts=_us(call.timestamp_ns), args=args)
        else:
            event.update(ph="X", ts=_us(call.timestamp_ns), dur=_us(call.duration_ns), args=args)
        yield event


def to_chrome_trace(source: Any, path: PathOrFile) -> int:
    """Write the calls of `source` as a Chrome trace event JSON file that
    Perfetto (ui.perfetto.dev), chrome://tracing and speedscope open: one
    slice per syscall on its thread's track (see chrome_trace_events()).
    Returns the number of trace events written (metadata included).

    source: a closed Session, EventBatch(es), Events or Calls. path: a file
    name, or a writable text file (left open).
    """
    count = 0
    with _Output(path) as out:
        out.write('{"displayTimeUnit":"ns","otherData":')
        out.write(json.dumps({"tool": "systrace", "clock": "CLOCK_MONOTONIC", "arch": _native.ARCH}))
        out.write(',"traceEvents":[\n')
        for event in chrome_trace_events(source):
            if count:
                out.write(",\n")
            out.write(json.dumps(event, ensure_ascii=False, separators=(",", ":")))
            count += 1
        out.write("\n]}\n")
    return count
