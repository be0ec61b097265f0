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

Sources (systrace.Source). Every function takes any of:
  - a Session: it must be closed (as for Session.events()); its remaining
    events are taken, a batch at a time (Session.batches());
  - an EventBatch, or an iterable of EventBatch (e.g. what poll() returned);
  - an iterable of Event (e.g. session.events()), gathered into batches;
  - for the call-level functions and the Chrome trace, also an iterable of
    systrace.Call.
"""
from __future__ import annotations

import json
import os
from typing import IO, TYPE_CHECKING, Any, Dict, Iterable, Iterator, List, Optional, Tuple, Union

from . import _native
from ._native import Call, Event, EventBatch, Session

if TYPE_CHECKING:  # pragma: no cover - for the return annotations only
    # Optional packages (pyarrow has no type information: see pyproject.toml).
    import pandas
    import polars
    import pyarrow

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

_MAX_ARGS: int = _native.MAX_ARGS
_PHASE_EXIT: int = _native.PHASE_EXIT

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
    import pyarrow.compute  # noqa: F401  (a submodule; import it explicitly)

    return pa


# Sources.


def _batches(source: Any) -> Iterator[EventBatch]:
    """The events of a source, as batches (loose events are gathered)."""
    if isinstance(source, Session):
        if not source.closed:
            raise RuntimeError(
                "exporting a session waits for its end: close it first (or export the batches that poll() returns)"
            )
        yield from source.batches()
        return
    if isinstance(source, EventBatch):
        yield source
        return
    if isinstance(source, (str, bytes, dict)):
        raise TypeError(f"not a source of events: {type(source).__name__}")
    loose: List[Event] = []
    for item in source:
        if isinstance(item, EventBatch):
            if loose:
                yield EventBatch(loose)
                loose = []
            yield item
        elif isinstance(item, Event):
            loose.append(item)
        elif isinstance(item, Call):
            raise TypeError("this export takes events; for calls use calls_to_arrow()")
        else:
            raise TypeError(f"not an Event or EventBatch: {type(item).__name__}")
    if loose:
        yield EventBatch(loose)


def _calls(source: Any) -> List[Call]:
    """The calls of a source: its Call items, and its events paired."""
    if isinstance(source, (Session, EventBatch)):
        return _native.calls_of(source)
    if isinstance(source, (str, bytes, dict)):
        raise TypeError(f"not a source of calls: {type(source).__name__}")
    given: List[Call] = []
    events: List[Event] = []
    for item in source:
        if isinstance(item, Call):
            given.append(item)
        elif isinstance(item, EventBatch):
            events.extend(item)
        else:
            events.append(item)
    calls = _native.calls_of(events) + given if events else given
    calls.sort(key=lambda c: c.timestamp_ns)
    return calls


# Columns.

_ARROW_TYPES = {"Q": "uint64", "q": "int64", "I": "uint32", "i": "int32", "H": "uint16", "B": "uint8"}


def _arrow_type(pa: Any, fmt: str) -> Any:
    if fmt.endswith("s"):  # fixed-size bytes, e.g. the comm: "16s"
        return pa.binary(int(fmt[:-1]))
    return getattr(pa, _ARROW_TYPES[fmt])()


def _array(pa: Any, fmt: str, data: bytes, validity: Optional[bytes], n: int) -> Any:
    """An Arrow array over a column's buffers, without copying them."""
    buffers = [None if validity is None else pa.py_buffer(validity), pa.py_buffer(data)]
    return pa.Array.from_buffers(_arrow_type(pa, fmt), n, buffers)


def _syscall_label(nr: int) -> str:
    """Event.name for a syscall number."""
    return _native.syscall_name(nr) or f"syscall_{nr}"


def _errno_label(errno: int) -> str:
    """Call.errno for an errno number."""
    return _native.errno_name(errno) or str(errno)


def _comm_label(raw: bytes) -> str:
    """Event.comm for the 16 NUL-padded bytes of the kernel's comm."""
    return raw.split(b"\0", 1)[0].decode("utf-8", "replace")


def _dictionary(pa: Any, column: Any, label: Any, index_type: Any = None) -> Any:
    """A dictionary-encoded string column: `label` runs once per distinct value."""
    pc = pa.compute
    index_type = index_type or pa.int32()
    uniques = pc.unique(column).drop_null()
    dictionary = pa.array([label(v) for v in uniques.to_pylist()], pa.string())
    indices = pc.index_in(column, value_set=uniques, skip_nulls=True)  # a null stays null
    chunks = [pa.DictionaryArray.from_arrays(chunk.cast(index_type), dictionary) for chunk in indices.chunks]
    return pa.chunked_array(chunks, type=pa.dictionary(index_type, pa.string()))


_SCHEMA_METADATA = {
    b"systrace.clock": b"CLOCK_MONOTONIC",
    b"systrace.arch": _native.ARCH.encode(),
}


class _Labels:
    """A dictionary-encoded string column built a chunk at a time: the
    dictionary only grows, so every chunk's indices stay valid against the
    final one."""

    def __init__(self, pa: Any, label: Any) -> None:
        self.pa, self.label = pa, label
        self.values: List[Any] = []  # raw values, in dictionary order
        self.chunks: List[Any] = []  # int32 indices

    def add(self, column: Any) -> None:
        pa, pc = self.pa, self.pa.compute
        known = set(self.values)
        new = [v for v in pc.unique(column).to_pylist() if v not in known]
        self.values.extend(new)
        value_set = pa.array(self.values, column.type)
        self.chunks.append(pc.index_in(column, value_set=value_set).cast(pa.int32()))

    def column(self) -> Any:
        pa = self.pa
        dictionary = pa.array([self.label(v) for v in self.values], pa.string())
        kind = pa.dictionary(pa.int32(), pa.string())
        return pa.chunked_array([pa.DictionaryArray.from_arrays(c, dictionary) for c in self.chunks], type=kind)


def _valid_where(pa: Any, mask: Any, column: Any) -> Any:
    """`column` with nulls where `mask` is false, sharing its data: the
    boolean array's bitmap is the validity bitmap."""
    return pa.Array.from_buffers(column.type, len(column), [mask.buffers()[1], column.buffers()[1]])


def to_arrow(source: Any) -> "pyarrow.Table":
    """The events of `source` as a pyarrow.Table, one row per event.

    Columns: see EVENT_COLUMNS. `name`, `phase` and `comm` are
    dictionary-encoded strings; `ret` is null on enter; `arg0`..`arg5` are the
    raw argument registers, null past the syscall's argument count (and on
    exit). Rows are in the order the events arrived (per thread, in order of
    time). Built from EventBatch.columns() without a Python object per event,
    a batch at a time: the numeric columns share the batch's buffers, and
    only one batch's raw columns exist at once (peak memory: the table and
    one batch; bench/export.py measures it).

    source: a closed Session, an EventBatch, an iterable of EventBatch, or an
    iterable of Event. Needs pyarrow.
    """
    pa = _pyarrow()
    pc = pa.compute
    comm, name = _Labels(pa, _comm_label), _Labels(pa, _syscall_label)
    phases = pa.array(["enter", "exit"], pa.string())
    plain = ("timestamp_ns", "pid", "tid", "cpu", "nr", "nb_args")
    parts: Dict[str, List[Any]] = {c: [] for c in EVENT_COLUMNS if c not in ("comm", "name")}
    empty = True
    for batch in _batches(source):
        empty = False
        n = len(batch)
        raw = {name_: _array(pa, fmt, data, None, n) for name_, (fmt, data) in batch.columns().items()}
        for c in plain:
            parts[c].append(raw[c])
        comm.add(raw["comm"])
        name.add(raw["nr"])
        phase = raw["phase"]
        parts["phase"].append(pa.DictionaryArray.from_arrays(
            pc.subtract(phase, pa.scalar(_native.PHASE_ENTER, pa.uint8())).cast(pa.int8()), phases))
        parts["ret"].append(_valid_where(pa, pc.equal(phase, pa.scalar(_PHASE_EXIT, pa.uint8())), raw["ret"]))
        for i in range(_MAX_ARGS):
            present = pc.greater(raw["nb_args"], pa.scalar(i, pa.uint8()))
            parts[f"arg{i}"].append(_valid_where(pa, present, raw[f"arg{i}"]))
    if empty:
        cols = EventBatch().columns()
        raw = {name_: _array(pa, fmt, data, None, 0) for name_, (fmt, data) in cols.items()}
        comm.add(raw["comm"])
        name.add(raw["nr"])
        for c in plain:
            parts[c].append(raw[c])
        parts["phase"].append(pa.DictionaryArray.from_arrays(pa.array([], pa.int8()), phases))
        for c in ("ret",) + tuple(f"arg{i}" for i in range(_MAX_ARGS)):
            parts[c].append(pa.array([], raw[c].type))
    columns = {}
    for c in EVENT_COLUMNS:
        if c == "comm":
            columns[c] = comm.column()
        elif c == "name":
            columns[c] = name.column()
        else:
            columns[c] = pa.chunked_array(parts.pop(c))
    table = pa.table(columns)
    assert tuple(table.column_names) == EVENT_COLUMNS
    return table.replace_schema_metadata(_SCHEMA_METADATA)


def _text_or_bytes(values: List[Any]) -> Tuple[str, List[Any]]:
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

    Enter and exit events are paired per thread (systrace.calls). Columns:
    see CALL_COLUMNS: start and end times, duration_ns, who, the syscall, ret
    and errno, the raw arguments; then one `captured_<arg>` column per
    argument whose memory was captured (strings=True): string when every
    value is UTF-8, else binary; argv as a list. strace=True adds a `strace`
    column, the call as strace prints it. Rows are in order of start time.
    The columns are built in Rust, without a Python object per value.

    source: a closed Session, EventBatch(es), Events, or Calls. Needs pyarrow.
    """
    pa = _pyarrow()
    given = source if isinstance(source, (Session, EventBatch)) else list(source)
    if not isinstance(given, (Session, EventBatch)) and any(isinstance(item, Call) for item in given):
        given = _calls(given)  # Calls as they are, events paired with them
    cols, captured, texts = _native.call_columns(given, strace)
    n = len(cols["unfinished"][1])  # one byte per call
    raw = {name: _array(pa, fmt, data, validity, n) for name, (fmt, data, validity) in cols.items()}
    arrays: Dict[str, Any] = {}
    for name in CALL_COLUMNS:
        if name == "comm":
            arrays[name] = _dictionary(pa, pa.chunked_array([raw["comm"]]), _comm_label)
        elif name == "name":
            arrays[name] = _dictionary(pa, pa.chunked_array([raw["nr"]]), _syscall_label)
        elif name == "errno":
            arrays[name] = _dictionary(pa, pa.chunked_array([raw["errno"]]), _errno_label)
        elif name in ("unfinished", "resumed"):
            arrays[name] = raw[name].cast(pa.bool_())
        else:
            arrays[name] = raw[name]
    for arg in sorted(captured):
        kind, values = _text_or_bytes(list(captured[arg]))
        base = pa.string() if kind == "string" else pa.binary()
        typ = pa.list_(base) if any(isinstance(v, list) for v in values) else base
        if isinstance(typ, pa.ListType):
            values = [v if v is None or isinstance(v, list) else [v] for v in values]
        arrays[f"captured_{arg}"] = pa.array(values, typ)
    if texts is not None:
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
    frame: "polars.DataFrame" = pl.from_arrow(to_arrow(source))
    return frame


def calls_to_polars(source: Any, *, strace: bool = False) -> "polars.DataFrame":
    """The calls of `source` as a polars DataFrame, one row per call
    (polars.from_arrow(calls_to_arrow())). Needs polars and pyarrow."""
    pl = _require("polars")
    frame: "polars.DataFrame" = pl.from_arrow(calls_to_arrow(source, strace=strace))
    return frame


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


def event_to_dict(event: Event) -> Dict[str, Any]:
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
        "captured": {k: _jsonable(v) for k, v in event.captured.items()},
        "capture_status": dict(event.capture_status),
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


def json_line(item: Union[Event, Call], *, string_size: Optional[int] = None) -> str:
    """One line of JSON lines (with its newline) for an Event (event_to_dict())
    or a Call (Call.json_line(): every field and its strace text, as
    `systrace --format json` writes it)."""
    if isinstance(item, Call):
        return item.json_line(_native.DEFAULT_STRING_SIZE if string_size is None else string_size)
    return json.dumps(event_to_dict(item), ensure_ascii=False, separators=(",", ":")) + "\n"


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
        for item in _stream(source):
            out.write(json_line(item, string_size=string_size))
            count += 1
            if flush:
                out.flush()
    return count


def _stream(source: Any) -> Iterator[Union[Event, Call]]:
    """Events and calls one by one: a session streamed while open."""
    if isinstance(source, Session):
        for batch in source.batches():
            yield from batch
        return
    if isinstance(source, EventBatch):
        yield from source
        return
    for item in source:
        if isinstance(item, EventBatch):
            yield from item
        else:
            yield item


# Chrome trace event format.


def _us(ns: int) -> float:
    return ns / 1000.0


def _classes(name: str) -> str:
    return ",".join(["syscall", *_native.syscall_classes(name)])


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
    calls = _calls(source)
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
            event.update(ph="i", s="t", ts=_us(call.timestamp_ns), args=args)
        elif call.unfinished:
            event.update(ph="B", ts=_us(call.timestamp_ns), args=args)
        else:
            event.update(ph="X", ts=_us(call.timestamp_ns), dur=_us(call.duration_ns or 0), args=args)
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
