"""`systrace top`: a live table of the busiest syscalls, as `perf top` shows
functions, refreshed every interval from a counting session's counts (the
calls are counted in the kernel; no event is delivered).

    systrace top                      every process on the machine
    systrace top -p 1234 --per-process
    systrace top --batch 3 -e trace=%file | less
"""
from __future__ import annotations

import argparse
import curses
import math
import os
import sys
import time
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

from . import cli
from ._native import Session, SyscallCount, SyscallSet

PROG = "systrace top"

DESCRIPTION = """\
A live view of the busiest syscalls: per syscall (per process and syscall
with --per-process) the calls and errors per second, the most frequent
errno, the average latency, the 99th percentile's bucket bound and the
share of the time spent in syscalls, sorted by calls per second. The calls
are counted in the kernel (no event leaves it). q or Ctrl-C quits.
When standard output is not a terminal, or with --batch N, prints plain-text
snapshots instead (N of them; else until Ctrl-C).
"""

EPILOG = """\
columns:
  CALLS/S ERRORS/S  calls and failed calls per second over the last interval
  ERRNO             the errno most of those failures returned
  AVG               average time in a call, entry to exit (exact)
  P99<              the upper bound of the log2 latency bucket (2**i to
                    2**(i+1) ns) holding the 99th percentile: 99% of the
                    calls took less than this; a bound, not a measure
  TIME%             share of the time spent in the listed syscalls

examples:
  systrace top
  systrace top -p 1234 --per-process --interval 2
  systrace top -e trace=%network --batch 5 > snapshots.txt
"""

Key = Tuple[Optional[int], int]  # (pid or None, syscall number)


@dataclass
class Row:
    """One syscall (of one process with --per-process) over an interval."""

    name: str
    nr: int
    pid: Optional[int]
    calls: int
    errors: int
    errno: str  # the most frequent, or ""
    time_ns: int
    p99_ns: Optional[int]  # the bucket's upper bound
    calls_per_s: float
    errors_per_s: float
    share: float  # percent of the interval's time in syscalls


@dataclass
class Snapshot:
    uptime: float
    interval: float
    rows: List[Row]
    calls_per_s: float
    errors_per_s: float


def p99_bound(histogram: Sequence[int]) -> Optional[int]:
    """The upper bound in ns of the log2 bucket that holds the 99th
    percentile (bucket i: 2**i to 2**(i+1) ns), or None for no call."""
    total = sum(histogram)
    if total == 0:
        return None
    need = math.ceil(total * 0.99)
    seen = 0
    for i, n in enumerate(histogram):
        seen += n
        if seen >= need:
            return 1 << (i + 1)
    return 1 << len(histogram)  # not reached


def format_ns(ns: float) -> str:
    """480ns, 1.5us, 12.0ms, 1.20s."""
    if ns < 1e3:
        return f"{ns:.0f}ns"
    if ns < 1e6:
        return f"{ns / 1e3:.1f}us"
    if ns < 1e9:
        return f"{ns / 1e6:.1f}ms"
    return f"{ns / 1e9:.2f}s"


def format_uptime(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


def process_comm(pid: int) -> str:
    """The process's name (/proc/PID/comm), or "?" once it is gone."""
    try:
        with open(f"/proc/{pid}/comm", encoding="utf-8", errors="replace") as f:
            return f.read().rstrip("\n")
    except OSError:
        return "?"


class Sampler:
    """Turns the session's cumulative counts into per-interval rows."""

    def __init__(self, session: Session, per_process: bool) -> None:
        self.session = session
        self.per_process = per_process
        self.previous: Dict[Key, SyscallCount] = {}
        self.start = self.last = time.monotonic()

    def sample(self) -> Snapshot:
        counts = self.session.counts(per_process=self.per_process)
        now = time.monotonic()
        elapsed = max(now - self.last, 1e-9)
        self.last = now
        current = {(c.pid, c.nr): c for c in counts}
        rows: List[Row] = []
        for key, c in current.items():
            before = self.previous.get(key)
            calls = c.calls - (before.calls if before else 0)
            if calls <= 0:
                continue
            errors = c.errors - (before.errors if before else 0)
            errnos = {e: n - (before.errnos.get(e, 0) if before else 0) for e, n in c.errnos.items()}
            errnos = {e: n for e, n in errnos.items() if n > 0}
            histogram = c.histogram
            if before is not None:
                histogram = [a - b for a, b in zip(histogram, before.histogram)]
            rows.append(
                Row(
                    name=c.name,
                    nr=c.nr,
                    pid=c.pid,
                    calls=calls,
                    errors=errors,
                    errno=max(errnos, key=lambda e: (errnos[e], e)) if errnos else "",
                    time_ns=c.time_ns - (before.time_ns if before else 0),
                    p99_ns=p99_bound(histogram),
                    calls_per_s=calls / elapsed,
                    errors_per_s=errors / elapsed,
                    share=0.0,
                )
            )
        self.previous = current
        total_ns = sum(r.time_ns for r in rows)
        for r in rows:
            r.share = 100.0 * r.time_ns / total_ns if total_ns else 0.0
        rows.sort(key=lambda r: (-r.calls, r.pid or 0, r.nr))
        return Snapshot(
            uptime=now - self.start,
            interval=elapsed,
            rows=rows,
            calls_per_s=sum(r.calls for r in rows) / elapsed,
            errors_per_s=sum(r.errors for r in rows) / elapsed,
        )


def render(snap: Snapshot, per_process: bool, whom: str, limit: Optional[int] = None) -> List[str]:
    """The lines of one snapshot: the header, the column titles, the rows
    (at most `limit`)."""
    processes = f", {len({r.pid for r in snap.rows})} processes" if per_process else ""
    lines = [
        f"systrace top - {whom} - up {format_uptime(snap.uptime)}, last {snap.interval:.1f}s: "
        f"{snap.calls_per_s:.0f} calls/s, {snap.errors_per_s:.0f} errors/s, "
        f"{len({r.nr for r in snap.rows})} syscalls{processes}",
    ]
    who = f"{'PID':>7} {'COMM':<15} " if per_process else ""
    lines.append(
        f"{who}{'CALLS/S':>10} {'ERRORS/S':>9} {'ERRNO':<12} {'AVG':>8} {'P99<':>8} {'TIME%':>6}  SYSCALL"
    )
    rows = snap.rows if limit is None else snap.rows[: max(limit, 0)]
    for r in rows:
        who = f"{r.pid if r.pid is not None else '':>7} {process_comm(r.pid) if r.pid else '':<15.15} " if per_process else ""
        p99 = format_ns(r.p99_ns) if r.p99_ns is not None else "-"
        lines.append(
            f"{who}{r.calls_per_s:>10.0f} {r.errors_per_s:>9.0f} {r.errno:<12} "
            f"{format_ns(r.time_ns / r.calls):>8} {p99:>8} {r.share:>6.1f}  {r.name}"
        )
    return lines


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROG,
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    for flag, dest, metavar, text in (
        ("-p", "pids", "PID", "count these processes only (repeatable, or a comma list); default: every process."),
        ("-e", "exprs", "trace=SET", "count these syscalls only: trace=NAME,%%CLASS,... as for systrace -e. "
         "Default: all."),
    ):
        p.add_argument(flag, dest=dest, metavar=metavar, action="append", default=[], help=text)
    p.add_argument(
        "--interval",
        metavar="SECONDS",
        type=float,
        default=1.0,
        help="refresh every SECONDS (default 1).",
    )
    p.add_argument("--per-process", action="store_true", help="a row per process and syscall, with its pid and name.")
    p.add_argument(
        "--batch",
        metavar="N",
        type=int,
        help="print N plain-text snapshots, one per interval, and exit (the default when "
        "standard output is not a terminal, then until Ctrl-C).",
    )
    return p


def _open(nrs: Optional[SyscallSet], pids: List[int]) -> Session:
    syscalls = [nrs] if nrs is not None else []
    try:
        return Session(*syscalls, pid=pids or None, all_processes=not pids, count=True)
    except PermissionError as err:
        raise cli.CliError(f"{err} (counting needs root, or CAP_BPF and CAP_PERFMON)") from None
    except (ProcessLookupError, ValueError, OSError) as err:
        raise cli.CliError(str(err)) from None


def _alive(pids: List[int]) -> bool:
    return not pids or any(cli._process_alive(p) for p in pids)


def run_batch(sampler: Sampler, args: argparse.Namespace, whom: str, pids: List[int]) -> int:
    n = 0
    while args.batch is None or n < args.batch:
        time.sleep(args.interval)
        snap = sampler.sample()
        if n:
            sys.stdout.write("\n")
        sys.stdout.write("\n".join(render(snap, args.per_process, whom)) + "\n")
        sys.stdout.flush()
        n += 1
        if not _alive(pids):
            break
    return 0


def run_screen(stdscr: "curses.window", sampler: Sampler, args: argparse.Namespace, whom: str) -> None:
    try:
        curses.curs_set(0)
    except curses.error:
        pass
    lines = [f"systrace top - {whom} - counting, first figures in {args.interval:g}s (q quits)"]
    deadline = time.monotonic() + args.interval
    while True:
        height, width = stdscr.getmaxyx()
        stdscr.erase()
        for y, line in enumerate(lines[:height]):
            attr = curses.A_REVERSE if y == 1 else curses.A_NORMAL
            try:
                stdscr.addnstr(y, 0, line.ljust(width) if y == 1 else line, max(width - 1, 1), attr)
            except curses.error:
                pass
        stdscr.refresh()
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            stdscr.timeout(max(int(left * 1000), 1))
            key = stdscr.getch()
            if key in (ord("q"), ord("Q")):
                return
            if key == curses.KEY_RESIZE:
                break
        if time.monotonic() >= deadline:
            deadline += args.interval
            if deadline < time.monotonic():  # suspended, or slow: skip ahead
                deadline = time.monotonic() + args.interval
            snap = sampler.sample()
            lines = render(snap, args.per_process, whom, limit=stdscr.getmaxyx()[0] - 2)


def main(argv: Sequence[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if not (args.interval > 0 and math.isfinite(args.interval)):
            raise cli.UsageError(f"--interval {args.interval:g}: a number of seconds > 0")
        if args.batch is not None and args.batch < 1:
            raise cli.UsageError(f"--batch {args.batch}: a number of snapshots >= 1")
        pids = cli.parse_pids(args.pids)
        nrs = cli.parse_trace_set(args.exprs)
        if nrs is not None and nrs.enter != nrs.exit:
            raise cli.UsageError("-e trace=: name syscalls, not events (sys_enter_NAME)")
    except cli.UsageError as err:
        parser.print_usage(sys.stderr)
        print(f"{PROG}: {err}", file=sys.stderr)
        return 2
    whom = "pid " + ",".join(map(str, pids)) if pids else "all processes"
    try:
        session = _open(nrs, pids)
    except cli.CliError as err:
        print(f"{cli.PROG}: {err}", file=sys.stderr)
        return 1
    with session:
        sampler = Sampler(session, args.per_process)
        try:
            if args.batch is not None or not sys.stdout.isatty():
                return run_batch(sampler, args, whom, pids)
            curses.wrapper(run_screen, sampler, args, whom)
        except KeyboardInterrupt:
            pass
        except BrokenPipeError:
            return 1
        except curses.error as err:
            print(f"{PROG}: the terminal: {err} (--batch N prints plain text)", file=sys.stderr)
            return 1
    return 0
