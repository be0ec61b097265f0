"""Exports (systrace._export): Arrow, pandas, polars, Chrome trace JSON and
JSON lines, checked against the events they came from.

pyarrow, pandas and polars are optional dependencies: a test that needs one
skips when it is not installed (and only then; an installed package that
fails to import is an error). With SYSTRACE_REQUIRE_OPTIONAL=1 a missing one
fails the test instead. Kernel tests use the `kernel` fixture."""
from __future__ import annotations

import io
import json
import os
import sys

import pytest

import systrace
from systrace import _export as X
from systrace import Call, calls

ME = os.getpid()
REQUIRE_OPTIONAL = os.environ.get("SYSTRACE_REQUIRE_OPTIONAL") == "1"


def need(module: str):
    """Import an optional package, skipping the test when it is not installed."""
    if REQUIRE_OPTIONAL:
        import importlib

        return importlib.import_module(module)
    return pytest.importorskip(module)


@pytest.fixture(scope="module")
def traced():
    """One traced workload, as the batches poll() returned: a pipe's write
    and read, getppid, a failed and a successful openat with strings."""
    from conftest import kernel_reason, require

    require(kernel_reason())
    r, w = os.pipe()
    batches = []
    with systrace.enable("read", "write", "getppid", "openat", strings=True) as session:
        os.write(w, b"hello")
        os.read(r, 100)
        os.getppid()
        try:
            os.open("/nonexistent-systrace-dir/file", os.O_RDONLY)
        except OSError:
            pass
        fd = os.open("/etc/hostname", os.O_RDONLY)
        os.close(fd)
        os.getppid()
        session.close()
        while True:
            batch = session.poll(0)
            if not batch:
                break
            batches.append(batch)
    os.close(r)
    os.close(w)
    assert batches
    return batches


def events_of(batches):
    return [ev for b in batches for ev in b]


# Arrow


def test_to_arrow_one_row_per_event(kernel, traced):
    pa = need("pyarrow")
    events = events_of(traced)
    table = X.to_arrow(traced)
    assert isinstance(table, pa.Table)
    assert tuple(table.column_names) == X.EVENT_COLUMNS
    assert table.num_rows == len(events)
    assert table.column("name").type == pa.dictionary(pa.int32(), pa.string())
    assert table.column("ret").type == pa.int64()
    assert table.schema.metadata[b"systrace.clock"] == b"CLOCK_MONOTONIC"
    for row, ev in zip(table.to_pylist(), events):
        raw = list(ev.raw_args)
        expected = {
            "timestamp_ns": ev.timestamp_ns,
            "pid": ev.pid,
            "tid": ev.tid,
            "comm": ev.comm,
            "cpu": ev.cpu,
            "nr": ev.nr,
            "name": ev.name,
            "phase": ev.phase,
            "ret": ev.ret,
            "nb_args": len(raw),
            **{f"arg{i}": raw[i] if i < len(raw) else None for i in range(6)},
        }
        assert row == expected


def test_to_arrow_sources_agree(kernel, traced):
    """Batches (columns from Rust), one batch, Events (columns built in
    Python) and mixtures give the same table."""
    need("pyarrow")
    events = events_of(traced)
    from_batches = X.to_arrow(traced)
    assert X.to_arrow(events).to_pylist() == from_batches.to_pylist()
    assert X.to_arrow(traced[0]).to_pylist() == X.to_arrow(list(traced[0])).to_pylist()
    mixed = [traced[0], *events_of(traced[1:])]
    assert X.to_arrow(mixed).to_pylist() == from_batches.to_pylist()


def test_to_arrow_of_a_session(kernel):
    need("pyarrow")
    with systrace.enable("getppid") as session:
        os.getppid()
        with pytest.raises(RuntimeError, match="close it first"):
            X.to_arrow(session)
    table = X.to_arrow(session)
    mine = [r for r in table.to_pylist() if r["pid"] == ME]
    assert [r["phase"] for r in mine] == ["enter", "exit"]
    assert mine[1]["ret"] == os.getppid()
    # The events were taken: the session is drained, as after iterating it.
    assert X.to_arrow(session).num_rows == 0


def test_to_arrow_empty():
    pa = need("pyarrow")
    table = X.to_arrow([])
    assert table.num_rows == 0
    assert tuple(table.column_names) == X.EVENT_COLUMNS
    assert table.column("arg0").type == pa.uint64()


def test_to_arrow_many_events(kernel):
    """A big trace: one dictionary entry per distinct syscall and comm, the
    rows in arrival order."""
    pa = need("pyarrow")
    # A buffer of its own size (an earlier test may have left a small one).
    with systrace.enable("getppid", "sched_yield", buffer_size=1 << 25) as session:
        for _ in range(10000):
            os.getppid()
            os.sched_yield()
    assert session.dropped == 0
    table = X.to_arrow(session)
    mine = table.filter(pa.compute.equal(table.column("pid"), ME))
    assert mine.num_rows == 40000
    assert sorted(mine.column("name").unique().to_pylist()) == ["getppid", "sched_yield"]
    assert sorted(mine.column("name").combine_chunks().dictionary.to_pylist()) == ["getppid", "sched_yield"]
    ts = mine.column("timestamp_ns").to_pylist()
    assert ts == sorted(ts)


def test_comm_is_decoded(kernel):
    need("pyarrow")
    import threading

    def worker():
        os.getppid()

    t = threading.Thread(target=worker)
    with systrace.enable("getppid") as session:
        import ctypes

        libc = ctypes.CDLL(None)
        t.start()
        t.join()
        # A non-ASCII comm set with prctl(PR_SET_NAME): the same text as Event.comm.
        old = open(f"/proc/self/task/{threading.get_native_id()}/comm").read().strip()
        libc.prctl(15, "systracé-test".encode(), 0, 0, 0)
        try:
            os.getppid()
        finally:
            libc.prctl(15, old.encode(), 0, 0, 0)
    events = [e for e in session.events() if e.pid == ME]
    table = X.to_arrow(events)
    assert table.column("comm").to_pylist() == [e.comm for e in events]
    assert "systracé-test" in table.column("comm").to_pylist()


# pandas and polars


def test_to_pandas(kernel, traced):
    pd = need("pandas")
    need("pyarrow")
    events = events_of(traced)
    df = X.to_pandas(traced)
    assert isinstance(df, pd.DataFrame)
    assert list(df.columns) == list(X.EVENT_COLUMNS)
    assert len(df) == len(events)
    assert str(df["ret"].dtype) == "Int64"
    assert str(df["timestamp_ns"].dtype) == "UInt64"
    assert isinstance(df["name"].dtype, pd.CategoricalDtype)
    enters = df[df["phase"] == "enter"]
    assert enters["ret"].isna().all()
    exits = df[df["phase"] == "exit"]
    assert exits["ret"].tolist() == [e.ret for e in events if e.phase == "exit"]
    # Exact 64-bit values (a float column would round the pointers).
    assert df["arg1"].dropna().tolist() == [e.raw_args[1] for e in events if len(e.raw_args) > 1]


def test_to_polars(kernel, traced):
    pl = need("polars")
    need("pyarrow")
    events = events_of(traced)
    df = X.to_polars(traced)
    assert isinstance(df, pl.DataFrame)
    assert df.columns == list(X.EVENT_COLUMNS)
    assert df.height == len(events)
    assert df["ret"].dtype == pl.Int64
    assert df["timestamp_ns"].dtype == pl.UInt64
    assert df["name"].to_list() == [e.name for e in events]
    counts = dict(df.filter(pl.col("phase") == "enter").group_by("name").len().iter_rows())
    assert counts["getppid"] == 2


# Calls


def test_calls_to_arrow(kernel, traced):
    need("pyarrow")
    events = events_of(traced)
    expected = [c for c in calls(events)]
    table = X.calls_to_arrow(traced, strace=True)
    assert tuple(table.column_names[: len(X.CALL_COLUMNS)]) == X.CALL_COLUMNS
    assert table.num_rows == len(expected)
    rows = table.to_pylist()
    for row, call in zip(rows, expected):
        assert row["name"] == call.name and row["tid"] == call.tid
        assert row["timestamp_ns"] == call.timestamp_ns
        assert row["duration_ns"] == call.duration_ns == row["end_ns"] - row["timestamp_ns"]
        assert row["ret"] == call.ret and row["errno"] == call.errno
        assert [row[f"arg{i}"] for i in range(len(call.raw_args))] == call.raw_args
        assert row["strace"] == call.strace(column=0)
    opens = [r for r in rows if r["name"] == "openat" and r["pid"] == ME]
    assert [r["captured_filename"] for r in opens] == ["/nonexistent-systrace-dir/file", "/etc/hostname"]
    assert opens[0]["errno"] == "ENOENT" and opens[0]["ret"] == -2
    assert opens[1]["errno"] is None and opens[1]["ret"] >= 0
    writes = [r for r in rows if r["name"] == "write" and r["pid"] == ME]
    assert writes[0]["captured_buf"] == "hello"


def test_calls_from_calls_and_binary_captures(kernel):
    pa = need("pyarrow")
    r, w = os.pipe()
    with systrace.enable("write", strings=True) as session:
        os.write(w, b"\xff\xfe\x00binary")
    os.close(r)
    os.close(w)
    mine = [c for c in calls(session) if c.pid == ME]
    table = X.calls_to_arrow(mine)
    assert table.column("captured_buf").type == pa.binary()
    assert table.column("captured_buf").to_pylist() == [b"\xff\xfe\x00binary"]


def test_calls_to_pandas_and_polars(kernel, traced):
    pd = need("pandas")
    pl = need("polars")
    need("pyarrow")
    n = len(calls(events_of(traced)))
    df = X.calls_to_pandas(traced)
    assert isinstance(df, pd.DataFrame) and len(df) == n
    assert str(df["duration_ns"].dtype) == "UInt64"
    pdf = X.calls_to_polars(traced)
    assert isinstance(pdf, pl.DataFrame) and pdf.height == n
    assert pdf["duration_ns"].dtype == pl.UInt64


def test_missing_optional_dependency_says_what_to_install(monkeypatch):
    for name in ("pandas", "polars", "pyarrow"):
        monkeypatch.setitem(sys.modules, name, None)  # import fails
    with pytest.raises(ImportError, match=r"pip install pyarrow \(or pip install 'systrace\[arrow\]'\)"):
        X.to_arrow([])
    with pytest.raises(ImportError, match=r"pip install pandas pyarrow \(or pip install 'systrace\[pandas\]'\)"):
        X.to_pandas([])
    with pytest.raises(ImportError, match=r"pip install polars pyarrow \(or pip install 'systrace\[polars\]'\)"):
        X.calls_to_polars([])


# Chrome trace event format


COMMON_TYPES = {"name": str, "ph": str, "pid": int, "tid": int}
PHASES = {
    # ph: required keys and their types, beyond the common ones.
    "X": {"ts": (int, float), "dur": (int, float)},
    "B": {"ts": (int, float)},
    "E": {"ts": (int, float)},
    "i": {"ts": (int, float)},
    "M": {"args": dict},
}
METADATA_NAMES = {"process_name", "process_labels", "process_sort_index", "thread_name", "thread_sort_index"}


def check_chrome_trace(doc):
    """The JSON Object Format of the Trace Event Format (the document
    chrome://tracing and Perfetto read): {"traceEvents": [...]} with optional
    "displayTimeUnit" ("ms" or "ns") and "otherData" (object); every event has
    name, ph, pid, tid; "X" events ts and dur in microseconds (dur >= 0);
    "B"/"E"/"i" ts; "i" an optional scope "s" of g/p/t; "M" a known metadata
    name with args {"name": str} for the *_name ones; "cat" a string and
    "args" an object when present. Returns the events."""
    assert isinstance(doc, dict)
    assert isinstance(doc.get("traceEvents"), list)
    assert set(doc) <= {"traceEvents", "displayTimeUnit", "otherData", "systemTraceEvents", "stackFrames", "samples"}
    if "displayTimeUnit" in doc:
        assert doc["displayTimeUnit"] in ("ms", "ns")
    if "otherData" in doc:
        assert isinstance(doc["otherData"], dict)
    for ev in doc["traceEvents"]:
        assert isinstance(ev, dict), ev
        for key, typ in COMMON_TYPES.items():
            assert isinstance(ev.get(key), typ) and not isinstance(ev.get(key), bool), (key, ev)
        assert ev["ph"] in PHASES, ev
        for key, typ in PHASES[ev["ph"]].items():
            assert isinstance(ev.get(key), typ) and not isinstance(ev.get(key), bool), (key, ev)
        if "cat" in ev:
            assert isinstance(ev["cat"], str)
        if "args" in ev:
            assert isinstance(ev["args"], dict)
        if ev["ph"] == "X":
            assert ev["dur"] >= 0
        if ev["ph"] == "i" and "s" in ev:
            assert ev["s"] in ("g", "p", "t")
        if ev["ph"] == "M":
            assert ev["name"] in METADATA_NAMES, ev
            if ev["name"].endswith("_name"):
                assert isinstance(ev["args"].get("name"), str)
    return doc["traceEvents"]


def test_chrome_trace(kernel, traced, tmp_path):
    events = events_of(traced)
    expected = calls(events)
    path = tmp_path / "trace.json"
    n = X.to_chrome_trace(traced, str(path))
    trace = check_chrome_trace(json.loads(path.read_text()))
    assert len(trace) == n
    slices = [e for e in trace if e["ph"] == "X"]
    assert len(slices) == len(expected)
    for ev, call in zip(slices, expected):
        assert (ev["name"], ev["pid"], ev["tid"]) == (call.name, call.pid, call.tid)
        assert ev["ts"] == pytest.approx(call.timestamp_ns / 1000, abs=1e-3)
        assert ev["dur"] == pytest.approx(call.duration_ns / 1000, abs=1e-3)
        assert ev["args"]["ret"] == call.ret
        assert ev["args"]["strace"] == call.strace(column=0)
        assert ev["cat"].split(",")[0] == "syscall"
    opens = [e for e in slices if e["name"] == "openat"]
    assert opens[1]["args"]["filename"] == "/etc/hostname"
    assert opens[0]["args"]["errno"] == "ENOENT"
    assert "file" in opens[0]["cat"].split(",")
    # Tracks are named from comm.
    meta = {(e["name"], e["pid"], e["tid"]): e["args"]["name"] for e in trace if e["ph"] == "M"}
    assert meta[("process_name", ME, ME)] == events[0].comm
    assert meta[("thread_name", ME, ME)] == events[0].comm
    # Metadata first, so viewers name the tracks before the slices.
    phases = [e["ph"] for e in trace]
    assert phases == sorted(phases, key=lambda p: p != "M")


def test_chrome_trace_unfinished_and_resumed(kernel, traced):
    events = [e for e in events_of(traced) if e.pid == ME]
    # Drop the first enter (its exit becomes "resumed") and the last exit
    # (its enter becomes "unfinished").
    first_enter = next(i for i, e in enumerate(events) if e.phase == "enter")
    last_exit = max(i for i, e in enumerate(events) if e.phase == "exit")
    cut = [e for i, e in enumerate(events) if i not in (first_enter, last_exit)]
    out = io.StringIO()
    X.to_chrome_trace(cut, out)
    trace = check_chrome_trace(json.loads(out.getvalue()))
    by_ph = {}
    for e in trace:
        by_ph.setdefault(e["ph"], []).append(e)
    assert len(by_ph["i"]) == 1 and by_ph["i"][0]["s"] == "t"
    assert by_ph["i"][0]["ts"] == pytest.approx(events[first_enter + 1].timestamp_ns / 1000, abs=1e-3)
    assert len(by_ph["B"]) == 1 and by_ph["B"][0]["name"] == events[last_exit].name
    assert "dur" not in by_ph["B"][0]


def test_chrome_trace_of_calls_and_the_schema_check_rejects():
    with pytest.raises(AssertionError):
        check_chrome_trace({"traceEvents": [{"name": "x", "ph": "X", "pid": 1, "tid": 1, "ts": 0}]})  # no dur
    with pytest.raises(AssertionError):
        check_chrome_trace({"traceEvents": [{"name": "x", "ph": "X", "pid": 1, "tid": "1", "ts": 0, "dur": 1}]})
    with pytest.raises(AssertionError):
        check_chrome_trace({"traceEvents": [{"name": "nope", "ph": "M", "pid": 1, "tid": 1, "args": {}}]})
    out = io.StringIO()
    assert X.to_chrome_trace([], out) == 0
    assert check_chrome_trace(json.loads(out.getvalue())) == []


# JSON lines


def test_jsonl(kernel, traced, tmp_path):
    events = events_of(traced)
    path = tmp_path / "events.jsonl"
    assert X.to_jsonl(traced, str(path)) == len(events)
    lines = path.read_text().splitlines()
    assert len(lines) == len(events)
    for line, ev in zip(lines, events):
        obj = json.loads(line)
        assert obj == X.event_to_dict(ev)
        assert obj["text"] == str(ev)
        assert obj["args"] == ev.args and obj["raw_args"] == list(ev.raw_args) and obj["ret"] == ev.ret
        assert set(obj) == {
            "name", "nr", "phase", "pid", "tid", "comm", "cpu", "timestamp_ns",
            "args", "raw_args", "ret", "captured", "capture_status", "text",
        }  # fmt: skip
    writes = [json.loads(l) for l in lines]
    assert {"buf": "hello"} in [o["captured"] for o in writes if o["name"] == "write"]


def test_jsonl_streams_an_open_session_and_calls(kernel):
    import threading

    session = systrace.enable("getppid")
    os.getppid()
    threading.Timer(0.2, session.close).start()
    out = io.StringIO()
    n = X.to_jsonl(session, out, flush=True)
    objs = [json.loads(l) for l in out.getvalue().splitlines()]
    assert n == len(objs)
    assert [o["phase"] for o in objs if o["pid"] == ME] == ["enter", "exit"]

    out = io.StringIO()
    mine = [c for c in calls(session) if c.pid == ME]  # drained: empty
    assert mine == []
    with systrace.enable("getppid") as s2:
        os.getppid()
    mine = [c for c in calls(s2) if c.pid == ME]
    X.to_jsonl(mine, out)
    (obj,) = [json.loads(l) for l in out.getvalue().splitlines()]
    assert obj == json.loads(json.dumps(mine[0].to_dict()))
    assert isinstance(mine[0], Call)
    # The CLI's --format json line for a call, with its -s.
    line = X.json_line(mine[0], string_size=5)
    assert line.endswith("\n") and json.loads(line) == json.loads(json.dumps(mine[0].to_dict(5)))


def test_non_utf8_captures_are_hex_in_json(kernel):
    r, w = os.pipe()
    with systrace.enable("write", strings=True) as session:
        os.write(w, b"\xff\x00ok")
    os.close(r)
    os.close(w)
    (enter,) = [e for e in session.events() if e.pid == ME and e.phase == "enter"]
    assert X.event_to_dict(enter)["captured"] == {"buf": {"hex": "ff006f6b"}}


def test_calls_argv_is_a_list(kernel):
    pa = need("pyarrow")
    import subprocess

    with systrace.enable("execve", follow=True, strings=True) as session:
        subprocess.run(["/bin/true", "first", "second"], check=True)
    table = X.calls_to_arrow(session)
    assert table.schema.field("captured_argv").type == pa.list_(pa.string())
    rows = [r for r in table.to_pylist() if r["ret"] == 0]
    assert rows[-1]["captured_argv"] == ["/bin/true", "first", "second"]
    assert rows[-1]["captured_filename"] == "/bin/true"
