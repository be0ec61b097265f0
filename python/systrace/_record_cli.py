"""The command's recordings (cli.py): --record FILE, --format parquet (with
-o FILE or --output-dir DIR) and --replay FILE. Imported by cli.py when
one of them is asked for."""
from __future__ import annotations

import argparse
import json
import os
import time
import sys
from typing import IO, Any, Dict, Optional

from . import _native
from ._native import EventBatch, Session
from ._record import TraceFile, hive_path
from .cli import CliError, Printer, parse_trace_set


class _Discard:
    """A text sink for a printer whose lines nobody reads (--format parquet)."""

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


class RecordTarget:
    """The file the command records to, created before tracing starts (a
    bad path fails at once), and what it writes into its metadata."""

    def __init__(self, path: str, args: argparse.Namespace, silent: bool) -> None:
        directory = os.path.dirname(path)
        if directory:
            try:
                os.makedirs(directory, exist_ok=True)
            except OSError as err:
                raise OSError(err.errno, f"can't create {path}: {err.strerror}") from None
        self.writer = _native.TraceWriter(path)
        self.path = path
        self.silent = silent
        self.metadata: Dict[str, str] = {
            "systrace.command": json.dumps(list(args.command)),
            "systrace.trace": json.dumps(list(args.exprs)),
            "systrace.follow": json.dumps(bool(args.follow)),
            "systrace.strings": "true",
            "systrace.string_size": str(args.string_size),
        }


class RecordingPrinter(Printer):
    """The command's printer when it records (cli.new_printer): each batch
    is written to the file as it arrives (in Rust, without the GIL), then
    printed as usual; with --format parquet, nothing is printed. The file is
    finished with the session's losses when the trace ends, with the
    command's exit status once it is known."""

    def __init__(self, out: IO[str], *, record: RecordTarget, fmt: str, summary: bool, **kw: Any) -> None:
        self._record = record
        self._session: Any = None
        if record.silent:
            # Kept for what it tracks (the live threads, for -f), never printed.
            super().__init__(_Discard(), fmt="strace", summary=True, **kw)  # type: ignore[arg-type]
            self.summary = False
        else:
            super().__init__(out, fmt=fmt, summary=summary, **kw)
        if self.main_pid is not None:
            record.metadata["systrace.main_pid"] = str(self.main_pid)
        # The clock offset of -t's times, so that a replay prints the same.
        record.metadata["systrace.wall_offset_ns"] = str(self.wall_offset_ns)
        # Whether the events carry the threads' exits (which then tell the
        # processes' ends), so that a replay reads them as the live run did.
        record.metadata["systrace.task_exits"] = json.dumps(self.task_exits)

    def feed(self, events: EventBatch) -> None:
        self._record.writer.write(events)
        super().feed(events)

    def print_from(self, session: Session) -> None:
        """Nothing: each batch is to be recorded, so it comes through feed()."""

    def drain(self, session: Any) -> None:
        for batch in session.batches():
            self.feed(batch)
        self._session = session
        super().drain(session)  # nothing left: what the printer counts of a session

    def finish(self, detached: bool = False) -> None:
        super().finish(detached)
        if self.main_pid is None:  # -p: no exit status to wait for
            self.close()

    def status_line(self, pid: int, text: str, main: bool = False, at_ns: Optional[int] = None) -> None:
        at_ns = time.monotonic_ns() if at_ns is None else at_ns
        super().status_line(pid, text, main, at_ns)
        if main:
            # The line and its time, so that a replay prints it as it was.
            self._record.metadata["systrace.exit"] = text
            self._record.metadata["systrace.exit_ns"] = str(at_ns)
            self.close()

    def close(self) -> None:
        if self._record.writer.closed:
            return
        self._record.writer.close(self._record.metadata, session=self._session)
        dropped = self._session.dropped if self._session is not None else 0
        if dropped:
            print(f"systrace: {dropped} events were lost; the file says so (systrace.dropped)", file=sys.stderr)


def replay(args: argparse.Namespace, printer_kw: Dict[str, Any], out: IO[str]) -> int:
    """systrace --replay FILE: the recording printed as the options say,
    by the same printer as a live trace."""
    try:
        trace = TraceFile(args.replay)
    except OSError as err:
        raise CliError(err.strerror or str(err)) from None
    except ValueError as err:
        raise CliError(str(err)) from None
    meta = trace.metadata
    kw = dict(printer_kw)
    if not args.exprs and meta.get("systrace.trace"):
        # The recording's own -e, so that a replay prints what the live run did.
        kw["selected"] = parse_trace_set(json.loads(meta["systrace.trace"]))
    pids = json.loads(meta.get("systrace.pids", "null")) or []
    follow = bool(json.loads(meta.get("systrace.follow", "false")))
    kw["multi"] = follow or len(pids) > 1
    kw["task_exits"] = bool(json.loads(meta.get("systrace.task_exits", "false")))
    kw["thread_exits"] = follow
    main_pid = int(meta["systrace.main_pid"]) if "systrace.main_pid" in meta else None
    offset = meta.get("systrace.wall_offset_ns") or meta.get("systrace.realtime_offset_ns")
    # A recording's processes are gone (their pids maybe reused): -y
    # knows what the recorded calls tell, not what /proc says now.
    kw["live"] = False
    printer = Printer(out, main_pid=main_pid, wall_offset_ns=int(offset) if offset else None, **kw)
    for batch in trace.batches():
        printer.feed(batch)
    printer.finish()
    if printer.summary:
        out.write(printer.summary_table(args.sort_by, args.summary_columns))
    if main_pid is not None and "systrace.exit" in meta:
        at = meta.get("systrace.exit_ns")
        printer.status_line(main_pid, meta["systrace.exit"], main=True, at_ns=int(at) if at else None)
    out.flush()
    if trace.dropped:
        print(f"systrace: {trace.dropped} events were lost while recording {args.replay}", file=sys.stderr)
    return 0


def record_target(args: argparse.Namespace) -> Optional[RecordTarget]:
    """The file the command records to (--format parquet with -o or
    --output-dir, --record FILE, --output-dir DIR), or None."""
    silent = args.format == "parquet"  # --output-dir sets it too
    path: Optional[str] = args.record
    if args.output_dir:
        path = hive_path(args.output_dir)
    elif silent and args.output:
        path = args.output
    if path is None:
        return None
    try:
        return RecordTarget(path, args, silent)
    except OSError as err:
        raise CliError(err.strerror or str(err)) from None
