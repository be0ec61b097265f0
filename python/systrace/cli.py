"""The `systrace` command: strace's output, traced with eBPF.

    systrace -f -e trace=openat,read,close -T -- cat /etc/hostname
    systrace -c -p 1234

Run `systrace --help` for every option.
"""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import time
from typing import IO, Any, Dict, Iterable, List, Optional, Sequence

from . import _native
from ._native import DEFAULT_STRING_SIZE, MAX_CAPTURE, VERSION, EventBatch, Session, SyscallSet

PROG = "systrace"
# Paths are shown whole, as strace shows them, so captures are at least
# this long whatever -s says (-s then bounds the buffers shown).
MIN_CAPTURE = 256

# Syscalls traced whatever -e says, and shown only if -e asks: the execve
# that starts a command, and the exits that end threads and processes.
INTERNAL = ("execve", "execveat", "exit", "exit_group")


class UsageError(Exception):
    """A bad command line: printed with the usage, exit status 2."""


class CliError(Exception):
    """A failure to report as `systrace: message`, exit status 1."""


DESCRIPTION = """\
Trace the syscalls of a command or of running processes, as strace does,
with eBPF: the traced processes are not stopped at each syscall.

Lines are strace's: `openat(AT_FDCWD, "/etc/hostname", O_RDONLY) = 3`.
The trace goes to standard error (or -o FILE); a command's own output is
left as it is. Tracing needs root (or CAP_BPF and CAP_PERFMON).
"""

EPILOG = """\
syscall sets (-e trace=SET):
  names and classes, comma-separated; a leading ! traces all but the set.
  With --format kernel, event names (sys_enter_read, sys_exit_read) select
  one phase.
  classes: %file %desc %network (%net) %process %memory %signal %ipc
  %stat %lstat %fstat %%stat %statfs %fstatfs %%statfs %pure %creds %clock

what differs from strace:
  structures (stat buffers, sigsets, sockaddrs, timespecs) print as their
  address; the environment of execve too. -c times are the wall time from
  each call's entry to its exit. Lines are printed when a call returns.

examples:
  systrace -- ls /tmp
  systrace -f -e trace=%process,openat -T -- make
  systrace -c -p 1234          (Ctrl-C prints the table)
  systrace --format json -o trace.jsonl -- ./a.out
"""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROG,
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        usage="%(prog)s [options] [-p PID]... | [options] [--] COMMAND [ARG]...",
    )
    p.add_argument(
        "-e",
        dest="exprs",
        metavar="trace=SET",
        action="append",
        default=[],
        help="which syscalls to show: trace=NAME,%%CLASS,... (also just NAME,...); "
        "a leading ! negates the set. Repeatable. Default: all.",
    )
    p.add_argument(
        "-p",
        dest="pids",
        metavar="PID",
        action="append",
        default=[],
        help="trace a running process; repeatable, or a comma list. "
        "Stops when the processes exit, or on Ctrl-C.",
    )
    p.add_argument(
        "-f",
        dest="follow",
        action="store_true",
        help="also trace the children the traced processes fork, from their first syscall.",
    )
    p.add_argument(
        "-c",
        dest="summary",
        action="store_true",
        help="count calls, errors and time per syscall and print a table at the end "
        "(instead of the calls).",
    )
    p.add_argument(
        "-T",
        dest="durations",
        action="store_true",
        help="show the time spent in each call: <seconds.microseconds>.",
    )
    p.add_argument(
        "-t",
        dest="timestamps",
        action="count",
        default=0,
        help="prefix each line with the time of day; -tt adds microseconds, "
        "-ttt prints seconds since the epoch.",
    )
    p.add_argument(
        "-o",
        dest="output",
        metavar="FILE",
        help="write the trace to FILE instead of standard error.",
    )
    p.add_argument(
        "-s",
        dest="string_size",
        metavar="SIZE",
        type=int,
        default=DEFAULT_STRING_SIZE,
        help=f"show at most SIZE bytes of each string or buffer (default {DEFAULT_STRING_SIZE}); "
        "paths are shown whole.",
    )
    p.add_argument(
        "--buffer-size",
        dest="buffer_size",
        metavar="BYTES",
        type=int,
        default=CLI_BUFFER_SIZE,
        help=f"size of the kernel's ring buffer, a power of two (default {CLI_BUFFER_SIZE >> 20} MiB: "
        "the command drains it continuously, and each MiB of ring costs up to 2 MiB of its memory).",
    )
    p.add_argument(
        "--format",
        choices=("strace", "kernel", "json", "parquet"),
        default="strace",
        help="strace: strace's lines (default); kernel: the kernel's trace text, one "
        "line per event (enter and exit); json: one JSON object per call with every field; "
        "parquet: record every event to -o FILE (or --output-dir) as Apache Parquet, print nothing.",
    )
    p.add_argument(
        "--record",
        metavar="FILE",
        help="also record every event to FILE (Apache Parquet), whatever is printed.",
    )
    p.add_argument(
        "--output-dir",
        dest="output_dir",
        metavar="DIR",
        help="record every event to DIR/host=HOST/date=YYYY-MM-DD/trace-PID-TIME.parquet, "
        "printing nothing (--format parquet): a hive layout that Parquet engines query as one table.",
    )
    p.add_argument(
        "--replay",
        metavar="FILE",
        help="print a recording (of --record or --format parquet) as -o, -c, -e and "
        "--format say, instead of tracing.",
    )
    p.add_argument("--version", action="version", version=f"%(prog)s {VERSION}")
    p.add_argument(
        "command",
        nargs=argparse.REMAINDER,
        metavar="COMMAND",
        help="the command to run and trace (after --); tracing is on before its first syscall.",
    )
    _add_completion(p)
    return p


def _add_completion(p: argparse.ArgumentParser) -> None:
    """--print-completion SHELL, when shtab (the optional extra
    'systrace[completion]') is installed."""
    try:
        import shtab
    except ImportError:
        return
    shtab.add_argument_to(p, ["--print-completion"], help="print a completion script for SHELL and exit")


# Choosing syscalls.


def parse_trace_set(exprs: Sequence[str]) -> Optional[SyscallSet]:
    """The syscalls `-e` selects, or None for every syscall."""
    selected: Optional[SyscallSet] = None
    for expr in exprs:
        qualifier, sep, value = expr.partition("=")
        if not sep:
            qualifier, value = "trace", expr
        if qualifier not in ("trace", "t"):
            raise UsageError(f"-e {qualifier}=...: only trace=SET is supported")
        try:
            nrs = SyscallSet.from_strace(value)
        except ValueError as err:
            raise UsageError(f"-e {expr!r}: {err}") from None
        selected = nrs if selected is None else selected | nrs
    return selected


def parse_pids(values: Sequence[str]) -> List[int]:
    pids: List[int] = []
    for value in values:
        for part in value.split(","):
            part = part.strip()
            if not part:
                continue
            try:
                pid = int(part)
            except ValueError:
                raise UsageError(f"-p {value!r}: not a process id") from None
            if pid <= 0:
                raise UsageError(f"-p {value!r}: not a process id")
            if pid not in pids:
                pids.append(pid)
    return pids


def capture_size(string_size: int) -> int:
    """The bytes captured per string for `-s string_size`: one more than
    shown tells a string of exactly -s bytes from a longer one (strace's
    "..." rule), and paths are shown whole, so at least MIN_CAPTURE."""
    return max(1, min(MAX_CAPTURE, max(string_size + 1, MIN_CAPTURE)))


# Output.


def signal_name(sig: int) -> str:
    try:
        return signal.Signals(sig).name
    except ValueError:
        return f"SIG{sig}"


class Printer:
    """Turns events into output lines as calls complete.

    The work per event and per call (pairing, -e, the text of each call or
    the -c counts) is done by the native `systrace._native.Printer`,
    a batch at a time and without the GIL; this writes what it returns.
    """

    def __init__(
        self,
        out: IO[str],
        *,
        fmt: str,
        selected: Optional[SyscallSet],
        summary: bool,
        durations: bool,
        timestamps: int,
        string_size: int,
        to_file: bool,
        multi: bool,
        main_pid: Optional[int] = None,
        wall_offset_ns: Optional[int] = None,
    ) -> None:
        self.out = out
        self.summary = summary
        self.main_pid = main_pid
        # CLOCK_REALTIME - CLOCK_MONOTONIC, for -t: now, or a recording's.
        self.wall_offset_ns = time.time_ns() - time.monotonic_ns() if wall_offset_ns is None else wall_offset_ns
        # strace: "PID " on every line when writing a file and following or
        # tracing several processes, "[pid PID] " on stderr while more than
        # one thread is traced.
        self.native = _native.Printer(
            format=fmt,
            selected=selected,
            summary=summary,
            durations=durations,
            timestamps=timestamps,
            string_size=string_size,
            file_prefix=to_file and multi,
            stderr_prefix=not to_file,
            main_pid=main_pid,
            wall_offset_ns=self.wall_offset_ns,
        )

    # Events in.

    def feed(self, events: EventBatch) -> None:
        """A batch of events, in the order it came."""
        text = self.native.feed(events)
        if text:
            self.out.write(text)
        self.out.flush()

    def drain(self, session: Session) -> None:
        """What a closed session has left, a batch at a time."""
        for batch in session.batches():
            self.feed(batch)

    def finish(self) -> None:
        text = self.native.finish()
        if text:
            self.out.write(text)
        self.out.flush()

    # Processes.

    @property
    def live(self) -> Dict[int, int]:
        """The threads traced and not gone: tid -> pid."""
        return self.native.live

    @property
    def exited(self) -> Dict[int, int]:
        """The processes that called exit_group: pid -> exit status."""
        return self.native.exited

    # Lines out.

    def status_line(self, pid: int, text: str, main: bool = False) -> None:
        """`+++ exited with 0 +++`, with the pid prefix for other processes."""
        line = self.native.status_line(pid, text, main)
        if line:
            self.out.write(line)
            self.out.flush()

    def summary_table(self) -> str:
        return self.native.summary_table()


def new_printer(out: IO[str], *, record: Any = None, **kw: Any) -> Printer:
    """The Printer; one that also records each batch (systrace._record_cli)
    with --record, --format parquet or --output-dir."""
    if record is None:
        return Printer(out, **kw)
    from ._record_cli import RecordingPrinter

    return RecordingPrinter(out, record=record, **kw)


def _process_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return False
    # The state follows the command name, which is in parentheses.
    state = stat[stat.rfind(b")") + 2 : stat.rfind(b")") + 3]
    return state not in (b"Z", b"X")


# Running.


# Smaller than the library's default: the command drains as it goes, and the
# ring's pages count twice in its RSS (the ring is mapped twice).
CLI_BUFFER_SIZE = 4 << 20


def _open_session(nrs: Optional[SyscallSet], pids: List[int], follow: bool, string_size: int, buffer_size: int) -> Session:
    syscalls: List[SyscallSet] = []
    if nrs is not None:
        internal = [n for n in INTERNAL if n in _native.syscall_names()]
        syscalls = [nrs, SyscallSet(*internal)]
    try:
        return Session(
            *syscalls,
            pid=pids,
            strings=True,
            string_size=capture_size(string_size),
            follow=follow,
            buffer_size=buffer_size,
        )
    except PermissionError as err:
        raise CliError(f"{err} (tracing needs root, or CAP_BPF and CAP_PERFMON)") from None
    except (ProcessLookupError, ValueError) as err:
        raise CliError(str(err)) from None
    except OSError as err:
        raise CliError(str(err)) from None


def _resolve_command(command: Sequence[str]) -> str:
    name = command[0]
    path = name if "/" in name else shutil.which(name)
    if path is None or not os.path.exists(path):
        raise CliError(f"Can't stat '{name}': No such file or directory")
    if not os.access(path, os.X_OK) or os.path.isdir(path):
        raise CliError(f"Can't execute '{name}': Permission denied")
    return path


def run_command(args: argparse.Namespace, printer_kw: Dict[str, Any], out: IO[str]) -> int:
    command = list(args.command)
    path = _resolve_command(command)
    ready_r, ready_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: wait until traced, then exec
        try:
            os.close(ready_w)
            go = os.read(ready_r, 1)
            os.close(ready_r)
            if go != b"x":
                os._exit(127)
            os.execv(path, command)
        except BaseException as err:  # noqa: BLE001 - nothing may escape a forked child
            try:
                os.write(2, f"{PROG}: exec {command[0]}: {err}\n".encode())
            finally:
                os._exit(127)
    os.close(ready_r)
    # While the command runs, Ctrl-C is its business (it gets the signal
    # too); systrace reports how it ended.
    old_int = signal.signal(signal.SIGINT, signal.SIG_IGN)
    old_quit = signal.signal(signal.SIGQUIT, signal.SIG_IGN)
    try:
        try:
            session = _open_session(args.nrs, [pid], args.follow, args.string_size, args.buffer_size)
        except BaseException:
            os.close(ready_w)  # the child sees EOF and exits
            os.waitpid(pid, 0)
            raise
        printer = new_printer(out, main_pid=pid, **printer_kw)
        os.write(ready_w, b"x")
        os.close(ready_w)
        status = 0
        with session:
            while True:
                printer.feed(session.poll(0.1))
                done, status = os.waitpid(pid, os.WNOHANG)
                if done:
                    break
            if args.follow:
                # strace -f waits for every traced process.
                while any(_process_alive(p) for p in set(printer.live.values()) if p != pid):
                    printer.feed(session.poll(0.1))
        printer.drain(session)  # what is left once closed
        printer.finish()
    finally:
        signal.signal(signal.SIGINT, old_int)
        signal.signal(signal.SIGQUIT, old_quit)
    if printer.summary:
        out.write(printer.summary_table())
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        core = " (core dumped)" if os.WCOREDUMP(status) else ""
        printer.status_line(pid, f"+++ killed by {signal_name(sig)}{core} +++", main=True)
        out.flush()
        return 128 + sig
    code = os.WEXITSTATUS(status)
    printer.status_line(pid, f"+++ exited with {code} +++", main=True)
    out.flush()
    return code


def run_pids(args: argparse.Namespace, pids: List[int], printer_kw: Dict[str, Any], out: IO[str]) -> int:
    session = _open_session(args.nrs, pids, args.follow, args.string_size, args.buffer_size)
    printer = new_printer(out, **printer_kw)
    for pid in pids:
        print(f"{PROG}: Process {pid} attached", file=sys.stderr)
    interrupted = False
    try:
        with session:
            while any(_process_alive(p) for p in pids):
                printer.feed(session.poll(0.1))
    except KeyboardInterrupt:
        interrupted = True
    printer.drain(session)
    printer.finish()
    if interrupted:
        for pid in pids:
            if _process_alive(pid):
                print(f"{PROG}: Process {pid} detached", file=sys.stderr)
    if printer.summary:
        out.write(printer.summary_table())
    out.flush()
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    command = list(args.command)
    if command and command[0] == "--":
        command = command[1:]
    args.command = command
    try:
        pids = parse_pids(args.pids)
        if args.replay and (pids or command or args.record or args.output_dir or args.format == "parquet"):
            raise UsageError("--replay prints a recording: it takes no command, -p, --record or --output-dir")
        if args.output_dir:
            if args.output or args.record:
                raise UsageError("--output-dir names the recording's file itself: no -o or --record")
            args.format = "parquet"  # the directory form of --format parquet -o FILE
        if args.format == "parquet" and args.record:
            raise UsageError("--format parquet records to -o FILE; --record is for the printed formats")
        if args.format == "parquet" and not (args.output or args.output_dir):
            raise UsageError("--format parquet writes a file: give -o FILE or --output-dir DIR")
        if not pids and not command and not args.replay:
            raise UsageError("must have PROG [ARGS] or -p PID")
        if pids and command:
            raise UsageError("-p PID and a command exclude each other")
        if args.string_size < 0:
            raise UsageError(f"-s {args.string_size}: a size is >= 0")
        if args.summary and args.format != "strace":
            raise UsageError("-c prints a table: --format does not apply")
        args.nrs = parse_trace_set(args.exprs)
        if args.nrs is not None and args.nrs.enter != args.nrs.exit and args.format != "kernel":
            raise UsageError(
                "-e trace=: an event name (sys_enter_NAME, sys_exit_NAME) selects one phase, "
                "which only --format kernel prints; name the syscall instead"
            )
    except UsageError as err:
        parser.print_usage(sys.stderr)
        print(f"{PROG}: {err}", file=sys.stderr)
        return 2
    out: IO[str]
    if args.output and args.format != "parquet":
        try:
            out = open(args.output, "w", encoding="utf-8", errors="surrogateescape")
        except OSError as err:
            print(f"{PROG}: can't open {args.output}: {err.strerror}", file=sys.stderr)
            return 1
    else:
        out = sys.stderr
    printer_kw = dict(
        fmt=args.format,
        selected=args.nrs,
        summary=args.summary,
        durations=args.durations,
        timestamps=args.timestamps,
        string_size=args.string_size,
        to_file=bool(args.output),
        multi=args.follow or len(pids) > 1,
    )
    try:
        if args.replay:
            from ._record_cli import replay

            return replay(args, printer_kw, out)
        if args.format == "parquet" or args.record or args.output_dir:
            from ._record_cli import record_target

            printer_kw["record"] = record_target(args)
        if command:
            return run_command(args, printer_kw, out)
        return run_pids(args, pids, printer_kw, out)
    except CliError as err:
        print(f"{PROG}: {err}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        return 1
    except KeyboardInterrupt:  # before tracing began
        return 130
    finally:
        if out is not sys.stderr:
            out.close()


if __name__ == "__main__":
    sys.exit(main())
