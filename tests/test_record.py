"""Recordings (systrace._record, src/record/): a session's events in an
Apache Parquet file that pyarrow and polars read without systrace, read
back by systrace.load(), replayed by the command, and laid out by host and
date for queries over many files. Kernel tests use the `kernel` fixture;
pyarrow and polars are required here (the file is for them)."""
from __future__ import annotations

import datetime
import glob
import json
import os
import socket
import subprocess
import sys
import threading
from collections import Counter

import pytest

import systrace

pa = pytest.importorskip("pyarrow") if os.environ.get("SYSTRACE_REQUIRE_OPTIONAL") != "1" else __import__("pyarrow")
import pyarrow.parquet as pq  # noqa: E402

# Reads a recording with pyarrow and polars in a process that never imports
# systrace, and prints each row as JSON (the two readers must agree).
READER = r"""
import json, sys
import pyarrow.parquet as pq
import polars as pl
path = sys.argv[1]
table = pq.read_table(path)
frame = pl.read_parquet(path)
assert table.num_rows == frame.height, (table.num_rows, frame.height)
assert str(table.schema.field("name").type) == "dictionary<values=string, indices=int32, ordered=0>", table.schema
assert str(frame.schema["name"]) == "Categorical", frame.schema
rows = table.to_pylist()
assert frame.to_dicts() == [{**r, "captured": r["captured"]} for r in rows]
meta = {k.decode(): v.decode() for k, v in pq.read_metadata(path).metadata.items() if k != b"ARROW:schema"}
assert "systrace" not in sys.modules
for r in rows:
    for item in r["captured"] or []:
        item["bytes"] = item["bytes"].hex()
print(json.dumps({"rows": rows, "meta": meta}))
"""


def read_elsewhere(path: str) -> dict:
    r = subprocess.run([sys.executable, "-c", READER, path], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def event_row(ev: systrace.Event) -> dict:
    """What a recording's row holds of an event, as the reader prints it."""
    args = list(ev.raw_args) + [None] * (6 - len(ev.raw_args))
    return {
        "timestamp_ns": ev.timestamp_ns, "pid": ev.pid, "tid": ev.tid, "comm": ev.comm, "cpu": ev.cpu,
        "nr": ev.nr, "name": ev.name, "phase": ev.phase, "ret": ev.ret, "nb_args": len(ev.raw_args),
        **{f"arg{i}": a for i, a in enumerate(args)},
    }


def workload(tmp_path) -> None:
    r, w = os.pipe()
    try:
        for i in range(50):
            os.write(w, b"x" * (i + 1))
            os.read(r, 100)
            os.getppid()
        with open(tmp_path / "seen", "w") as f:
            f.write("data")
        try:
            open(tmp_path / "missing")
        except FileNotFoundError:
            pass
    finally:
        os.close(r)
        os.close(w)


SYSCALLS = ("read", "write", "getppid", "openat", "close")


def test_a_recording_holds_the_events_its_session_had(kernel, tmp_path):
    """A Recording and a Session open over the same workload: the file, read
    by pyarrow and polars without systrace, has the Session's events exactly
    (per syscall and phase, args and rets), and the Recording's own writes
    are not in it."""
    path = str(tmp_path / "t.parquet")
    me = threading.get_native_id()
    with systrace.enable(*SYSCALLS, output=path) as rec:
        assert isinstance(rec, systrace.Recording) and not rec.closed
        assert not os.path.exists(path)  # written as .t.parquet.partial until closed
        with systrace.enable(*SYSCALLS) as session:
            workload(tmp_path)
    assert rec.closed and rec.dropped == 0 and session.dropped == 0
    expected = [event_row(e) for e in session.events() if e.tid == me]
    got = read_elsewhere(path)
    rows = [{k: v for k, v in r.items() if k != "captured"} for r in got["rows"]]
    # Other threads of this process (none here that make these syscalls)
    # would be in both; the file holds nothing the session did not.
    assert [r for r in rows if r["tid"] == me] == expected
    assert len(rows) == len(expected) == rec.events_written
    count = Counter((r["name"], r["phase"]) for r in rows)
    assert count[("getppid", "enter")] == count[("getppid", "exit")] == 50
    assert count[("write", "enter")] == 51  # 50 to the pipe, 1 to the file
    assert all(r["captured"] is None for r in got["rows"])  # strings=False
    meta = got["meta"]
    assert meta["systrace.format"] == "systrace-events/1"
    assert meta["systrace.arch"] == systrace.ARCH and meta["systrace.kernel"] == os.uname().release
    assert meta["systrace.version"] == systrace.__version__
    assert sorted(json.loads(meta["systrace.syscalls"])) == sorted(SYSCALLS)
    assert json.loads(meta["systrace.pids"]) == [os.getpid()]
    assert meta["systrace.dropped"] == "0" and meta["systrace.events"] == str(len(rows))


def test_load_gives_the_api_of_a_closed_session(kernel, tmp_path):
    """TraceWriter gets the batches a Session gave; load() gives back the
    same events (captures too), calls, tables and Chrome trace."""
    path = str(tmp_path / "s.parquet")
    writer = systrace._native.TraceWriter(path)
    batches = []
    with systrace.enable(*SYSCALLS, strings=True, string_size=8) as session:
        workload(tmp_path)
    for batch in session.batches():
        writer.write(batch)
        batches.append(batch)
    assert writer.close({"systrace.note": "test"}, session=session) == sum(len(b) for b in batches)
    events = [e for b in batches for e in b]
    trace = systrace.load(path)
    assert isinstance(trace, systrace.TraceFile) and trace.closed and len(trace) == len(events)
    assert trace.events() == events  # every field, the capture items too
    assert list(trace) == events
    assert [e for b in trace.batches() for e in b] == events
    assert trace.metadata["systrace.note"] == "test" and trace.dropped == 0
    assert trace.pids == [os.getpid()] and sorted(trace.syscalls) == sorted(SYSCALLS)
    cut = [i for i, e in enumerate(events) if e.capture_status.get("filename") == "truncated"]
    assert cut and all(trace.events()[i].captured["filename"] == events[i].captured["filename"] for i in cut)
    want = [c.strace() for c in systrace.calls(events)]
    assert [c.strace() for c in trace.calls()] == want
    assert [c.strace() for c in trace.iter_calls()] == [c.strace() for c in systrace.iter_calls(events)]
    assert trace.to_arrow().equals(systrace.to_arrow(events))
    assert trace.to_polars().equals(systrace.to_polars(events))
    assert trace.to_pandas().equals(systrace.to_pandas(events))
    assert trace.to_chrome_trace(str(tmp_path / "c.json")) == systrace.to_chrome_trace(events, str(tmp_path / "d.json"))
    # The captured column, as other tools see it.
    table = pq.read_table(path)
    items = [i for row in table.column("captured").to_pylist() if row for i in row]
    cut = [i for i in items if i["arg"] == "filename" and i["bytes"].startswith(b"/tmp")]
    assert cut and all(i["status"] == "truncated" and len(i["bytes"]) == 8 for i in cut)
    assert {i["status"] for i in items} <= {"complete", "truncated", "faulted", "lost"}


def test_losses_are_counted_in_the_file(kernel, tmp_path):
    """A tiny ring buffer overflows: every event is written or counted, and
    the count is in the file's metadata."""
    path = str(tmp_path / "l.parquet")
    n = 100_000
    with pytest.warns(systrace.LostEventsWarning):
        with systrace.enable("getppid", output=path, buffer_size=4096) as rec:
            for _ in range(n):
                os.getppid()
    trace = systrace.load(path)
    assert rec.dropped > 0
    assert len(trace) + rec.dropped == 2 * n
    assert trace.dropped == rec.dropped == int(trace.metadata["systrace.dropped"])


def test_a_long_recording_is_written_in_row_groups(kernel, tmp_path):
    """Row groups go out as the trace streams (memory stays bounded)."""
    path = str(tmp_path / "g.parquet")
    n = 100_000
    with systrace.enable("getppid", output=path) as rec:
        for _ in range(n):
            os.getppid()
    assert rec.events_written + rec.dropped == 2 * n
    assert pq.ParquetFile(path).metadata.num_row_groups >= 2


def test_bad_files_and_paths_raise_clear_errors(kernel, tmp_path):
    with pytest.raises(FileNotFoundError, match="no-such.parquet"):
        systrace.load(tmp_path / "no-such.parquet")
    text = tmp_path / "text.parquet"
    text.write_text("not parquet")
    with pytest.raises(ValueError, match="is not a systrace recording: it is not a Parquet file"):
        systrace.load(text)
    other = tmp_path / "other.parquet"
    pq.write_table(pa.table({"x": [1, 2]}), other)
    with pytest.raises(ValueError, match="is not a systrace recording: a Parquet file without"):
        systrace.load(other)
    with pytest.raises(FileNotFoundError, match="can't create"):
        systrace.enable("getppid", output=tmp_path / "no-dir" / "x.parquet")
    with pytest.raises(ValueError, match="unknown syscall"):
        systrace.enable("nosuchcall", output=tmp_path / "y.parquet")
    # Neither left a file, partial or not.
    assert sorted(os.listdir(tmp_path)) == ["other.parquet", "text.parquet"]


def cli(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "systrace", *args], capture_output=True, text=True, timeout=120, **kw)


WORK = ("sh", "-c", "cat /etc/hostname /no-such-file; true")


@pytest.mark.parametrize("opts", [(), ("-e", "trace=openat,read,write,close"), ("-T", "-ttt")])
def test_replay_prints_what_the_live_run_printed(kernel, tmp_path, opts):
    """One run prints live (-o) and records (--record); --replay of the file
    prints the same text, through the same printer."""
    live, rec, again = tmp_path / "live.txt", tmp_path / "r.parquet", tmp_path / "replay.txt"
    r = cli("-f", *opts, "-o", str(live), "--record", str(rec), "--", *WORK)
    assert r.returncode == 0, r.stderr
    replay_opts = [o for o in opts if o != "-e" and not o.startswith("trace=")]  # the file keeps its -e
    r = cli("--replay", str(rec), *replay_opts, "-o", str(again))
    assert r.returncode == 0, r.stderr
    text = live.read_text()
    assert again.read_text() == text
    assert ("% time" in text) if "-c" in opts else ("+++ exited with 0 +++" in text and "cat" in text)
    # A replay takes -e of its own, too.
    r = cli("--replay", str(rec), "-e", "trace=openat")
    shown = [line for line in r.stderr.splitlines() if "(" in line and not line.startswith("+++")]
    assert "-c" in opts or (shown and all("openat(" in line for line in shown)), r.stderr


def test_format_parquet_records_and_prints_nothing(kernel, tmp_path):
    path = tmp_path / "p.parquet"
    r = cli("--format", "parquet", "-o", str(path), "-f", "--", *WORK)
    assert r.returncode == 0, r.stderr
    assert "openat(" not in r.stderr and "+++" not in r.stderr  # cat's own error message only
    got = read_elsewhere(str(path))
    names = Counter(row["name"] for row in got["rows"] if row["phase"] == "exit")
    assert names["execve"] >= 2 and names["openat"] >= 2
    opened = [i for row in got["rows"] for i in row["captured"] or [] if i["arg"] == "filename"]
    assert bytes.fromhex(next(i["bytes"] for i in opened if "6e6f2d" in i["bytes"])) == b"/no-such-file"
    assert got["meta"]["systrace.exit"] == "+++ exited with 0 +++"
    assert json.loads(got["meta"]["systrace.command"]) == list(WORK)


def test_output_dir_lays_recordings_out_by_host_and_date(kernel, tmp_path):
    pl = __import__("polars")
    for _ in range(2):
        r = cli("--output-dir", str(tmp_path), "-f", "-e", "trace=openat", "--", *WORK)
        assert r.returncode == 0, r.stderr
        assert "openat(" not in r.stderr
    today = datetime.date.today().isoformat()
    files = glob.glob(str(tmp_path / f"host={socket.gethostname()}" / f"date={today}" / "trace-*-*.parquet"))
    assert len(files) == 2, os.listdir(tmp_path)
    frame = pl.scan_parquet(str(tmp_path / "**" / "*.parquet"), hive_partitioning=True).collect()
    assert set(frame["host"].to_list()) == {socket.gethostname()}
    failed = frame.filter((pl.col("name") == "openat") & (pl.col("ret") < 0))
    assert failed.height >= 2  # /no-such-file, once per run


def test_command_line_mistakes(kernel, tmp_path):
    r = cli("--format", "parquet", "--", "true")
    assert r.returncode == 1 and "give -o FILE or --output-dir DIR" in r.stderr
    r = cli("--replay", str(tmp_path / "none.parquet"))
    assert r.returncode == 1 and "none.parquet: No such file or directory" in r.stderr
    (tmp_path / "t.txt").write_text("hello")
    r = cli("--replay", str(tmp_path / "t.txt"))
    assert r.returncode == 1 and "is not a systrace recording" in r.stderr
    r = cli("--replay", str(tmp_path / "t.txt"), "--", "true")
    assert r.returncode == 1 and "--replay prints a recording" in r.stderr
    r = cli("--record", str(tmp_path / "no-dir" / "x" / "y.parquet"), "-o", "/dev/null", "--", "true")
    assert r.returncode == 0 and (tmp_path / "no-dir" / "x" / "y.parquet").exists()  # directories made
    r = cli("--record", "/proc/version/x.parquet", "--", "true")
    assert r.returncode == 1 and "can't create /proc/version/x.parquet" in r.stderr


def test_count_and_record_exclude_each_other(tmp_path):
    """-c counts in the kernel without events: nothing to record."""
    r = subprocess.run([sys.executable, "-m", "systrace", "-c", "--record", str(tmp_path / "t.parquet"), "--", "true"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and "-c counts in the kernel" in r.stderr, r.stderr
    assert not (tmp_path / "t.parquet").exists()
