"""The `systrace` command: strace's output, traced with eBPF.

    systrace -f -e trace=openat,read,close -T -- cat /etc/hostname
    systrace -c -p 1234

Run `systrace --help` for every option.
"""
from __future__ import annotations

import os
import sys
import time

from . import _cli_start, _native
from ._cli_start import CLI_BUFFER_SIZE, INTERNAL
from ._native import (
    DEFAULT_COLUMN,
    DEFAULT_STRING_SIZE,
    MAX_CAPTURE,
    VERSION,
    EventBatch,
    LostEventsWarning,
    Session,
    SyscallSet,
)

# argparse, signal and the launcher load once the BPF programs are loading
# (_cli_start): their imports overlap the verifier's work. typing is not
# imported at all (0.6 MB of the command's RSS, issue 15): mypy reads the
# constant.
TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from typing import IO, AbstractSet, Any, Callable, Dict, Iterable, List, NoReturn, Optional, Sequence, Set, Tuple

    from ._watch import Watched

PROG = "systrace"
# Paths are shown whole, as strace shows them, so captures are at least
# PATH_MAX (4096) bytes whatever -s says; -s then bounds the strings and
# buffers shown. A string is read up to its NUL, so a short path costs no
# more than before; a buffer (write's data) costs up to this much whatever
# -s shows.
MIN_CAPTURE = 4096




class UsageError(Exception):
    """A bad command line, told as strace tells one: `systrace: message`,
    then (unless `hint` is False: strace's error_msg_and_die, which it uses
    for the values of -p and -e) "Try 'systrace -h' for more
    information."; exit status 1."""

    def __init__(self, message: str, hint: bool = True) -> None:
        super().__init__(message)
        self.hint = hint


def usage_error(err: UsageError) -> int:
    print(f"{PROG}: {err}", file=sys.stderr)
    if err.hint:
        print(f"Try '{PROG} -h' for more information.", file=sys.stderr)
    return 1


def _getopt_message(message: str) -> str:
    """argparse's message for what getopt refuses, as strace (getopt)
    words it; argparse's own for the rest (a value of systrace's options)."""
    import re

    unknown = re.match(r"unrecognized arguments: (\S+)", message)
    if unknown:
        arg = unknown[1]
        return f"unrecognized option '{arg}'" if arg.startswith("--") else f"invalid option -- '{arg[1:2]}'"
    missing = re.match(r"argument (-\w|--[\w-]+)\S*: expected one argument", message)
    if missing:
        option = missing[1]
        return (f"option '{option}' requires an argument" if option.startswith("--")
                else f"option requires an argument -- '{option[1:]}'")
    cluster = re.match(r"argument (-\w)\S*: ignored explicit argument '(.)", message)
    if cluster:  # -fj: j is no option
        return f"invalid option -- '{cluster[2]}'"
    return message


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
  names, numbers (257), classes and /REGEX (the names it matches: /stat,
  /^(l|f)?stat$), comma-separated; a leading ! traces all but the set. As
  strace's, ?NAME is no error when NAME matches nothing, NAME@64 is NAME
  (32-bit calls are not traced), and the names and numbers of i386's and
  x32's syscalls (stat64, mmap2) select nothing. With --format kernel,
  event names (sys_enter_read, sys_exit_read) select one phase.
  classes: %file %desc %network (%net) %process %memory %signal %ipc
  %stat %lstat %fstat %%stat %statfs %fstatfs %%statfs %pure %creds %clock

call statuses (-e status=SET, -z, -Z):
  successful failed unfinished (and strace's unavailable detached, which
  never happen here); all, none, a leading ! for the others. Without
  unfinished, the set is decided in BPF at each call's exit (with --filter,
  both must pass): calls not shown cost no event. As strace's, -c counts
  every call whatever the set.

what differs from strace:
  a few structures print as data or as their address (netlink messages).
  -c counts in the kernel (no
  event leaves it) and its times are the kernel's, from each call's entry
  to its exit; it counts calls of numbers without a name (syscall_0x1f4),
  which strace's -c leaves out. Numbers of 1024 and above are not traced.
  A signal a process ignores, and a fatal one with its default
  action (SIGTERM), is shown when it is sent, where strace shows it when
  the process takes it.
  Without -f every thread of the process is traced (strace: one); with -o
  their lines then start with their thread id. --format json writes the
  end of a process as {"event": "exit", "pid": N, "status": N} or
  {"event": "killed", "pid": N, "signal": "SIGKILL", "core_dumped": false}.
  32-bit (compat) syscalls are not traced, as the kernel's syscall events
  skip them: a process that ran in 32-bit mode gets, before its end,
  "[ Process PID=N runs in 32 bit mode: its syscalls are not traced ]"
  ({"event": "personality", "pid": N, "mode": "32 bit", "traced": false});
  -c does not count them.
  Events are not waited for: if systrace cannot keep up, it loses some and
  says how many at the end; its threads run at nice -20 to keep up (which
  getpriority(PRIO_PGRP, 0) in the command shows).
  SIGHUP or SIGTERM sent to systrace (the trace on stderr) is sent on to
  the command, as strace does; when it ends the command, its trace is
  written to its end (+++ killed by SIGTERM +++), where strace detaches at
  once. Ctrl-C and SIGQUIT are left to the command (strace sends them on
  too).

examples:
  systrace -- ls /tmp
  systrace -f -e trace=%process,openat -T -- make
  systrace -c -p 1234          (Ctrl-C prints the table)
  systrace -c --histogram -- ls   (the table, then a latency histogram per syscall)
  systrace top                 (a live view of the busiest syscalls; see systrace top --help)
  systrace --format json -o trace.jsonl -- ./a.out
"""


def _columns() -> int:
    """shutil.get_terminal_size()'s width ($COLUMNS, else the terminal's,
    else 80), without importing shutil (and zlib, bz2, lzma with it: some
    0.3 MB of RSS, issue 15), which argparse's formatter imports for it,
    for each add_argument, when not given a width."""
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns if sys.__stdout__ else 0
        except (OSError, ValueError):
            columns = 0
    return columns or 80


def _formatter(prog: str) -> argparse.HelpFormatter:
    import argparse

    return argparse.RawDescriptionHelpFormatter(prog, width=_columns() - 2)


# strace's options that the command refuses by name, with why (and -X
# abbrev, strace's default, which it takes): (option strings, nargs, why).
_DETACHED = ("not supported: the command runs as systrace's child (systrace does not trace with ptrace, "
             "and needs no detached tracer)")
REFUSED_OPTIONS: Tuple[Tuple[Tuple[str, ...], Any, str], ...] = (
    (("-X", "--const-print-style"), None, "only strace's default style of constants, abbrev, is "
     "supported"),
    (("-i", "--instruction-pointer"), 0, "the instruction pointer of each call is not supported"),
    (("-k", "--stack-traces", "--stack-trace"), 0, "stack traces are not supported"),
    (("-D",), 0, _DETACHED),
    (("--daemonize",), "?", _DETACHED),  # its value only after `=`: OPTIONAL_VALUES
    (("-I", "--interruptible"), None, "not supported: systrace never stops the traced processes "
     "and takes its signals as strace's default does (-I waiting; -I never with -o FILE and a command)"),
    (("--kill-on-exit",), 0, "not supported: the traced processes go on if systrace exits"),
    (("-d", "--debug"), 0, "strace's debug output has no counterpart in systrace"),
    (("--tips",), "?", "not supported: strace's tips are about strace's own options"),
)


def build_parser(completion: bool = True, refusals: bool = False) -> argparse.ArgumentParser:
    """The command's parser; `refusals`: with strace's options that systrace
    refuses by name, or takes as its defaults (-X abbrev, --abbrev=all),
    which main() adds only when a command line has an option the plain
    parser does not know (each option costs its start some 15 us)."""
    import argparse

    class _Qualified(argparse.Action):
        """strace's --trace=SET and the like: -e QUALIFIER=SET."""

        def __init__(self, *args: Any, qualifier: str, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.qualifier = qualifier

        def __call__(self, parser: Any, namespace: Any, values: Any, option_string: Any = None) -> None:
            exprs = list(getattr(namespace, self.dest, None) or [])
            exprs.append(f"{self.qualifier}={values}")
            setattr(namespace, self.dest, exprs)

    class _Parser(argparse.ArgumentParser):
        def error(self, message: str) -> NoReturn:
            raise UsageError(_getopt_message(message))

    p = _Parser(
        prog=PROG,
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=_formatter,
        usage="%(prog)s [options] [-p PID]... | [options] [--] COMMAND [ARG]... | top [--help]",
    )
    p.add_argument(
        "-e",
        dest="exprs",
        metavar="trace=SET|status=SET|signal=SET",
        action="append",
        default=[],
        help="trace=NAME,%%CLASS,... (also just NAME,...): which syscalls to show; "
        "status=successful,failed,unfinished,...: which calls to show by how they "
        "ended (as -z and -Z); signal=SIGCHLD,USR1,15,...: which signals to show "
        "(all, none); quiet=attach,exit,path-resolution,...: messages not to print (as -q, -qq); "
        "raw=SET: which syscalls to print undecoded, arguments and result in hex; "
        "read=FDS, write=FDS: dump in hex the data read from or written to those fds (3,5, all); "
        "abbrev=SET: which syscalls print their structures abbreviated (the others whole, as -v); "
        "verbose=SET: which syscalls print their structures decoded (the others as addresses). "
        "A leading ! negates a set; the last of each wins. "
        "Default: all.",
    )
    for qualifier, what in (("trace", "-e trace=SET"), ("signal", "-e signal=SET"), ("status", "-e status=SET"),
                            ("raw", "-e raw=SET"), ("read", "-e read=SET"), ("write", "-e write=SET"),
                            ("abbrev", "-e abbrev=SET"), ("verbose", "-e verbose=SET"),
                            # strace's, told apart after the parse.
                            *(((q, None) for q in ("inject", "fault", "kvm"))
                              if refusals else ())):
        p.add_argument(
            f"--{qualifier}",
            dest="exprs",
            metavar="SET",
            action=_Qualified,
            qualifier=qualifier,
            help=f"{what}." if what else argparse.SUPPRESS,
        )
    p.add_argument(
        "--quiet",
        dest="exprs",
        metavar="SET",
        nargs="?",
        const="attach,personality",
        action=_Qualified,
        qualifier="quiet",
        help="-e quiet=SET (without SET: attach,personality, as -q).",
    )
    class _Only(argparse.Action):
        """-z and -Z: -e status=CLASS, counted (strace warns when there are more)."""

        def __call__(self, parser: Any, namespace: Any, values: Any, option_string: Any = None) -> None:
            namespace.exprs = [*(namespace.exprs or []), self.const]
            namespace.zflags += 1

    p.set_defaults(zflags=0)
    p.add_argument(
        "-z",
        "--successful-only",
        dest="exprs",
        nargs=0,
        action=_Only,
        const="status=successful",
        help="show only the calls that succeeded (-e status=successful).",
    )
    p.add_argument(
        "-Z",
        "--failed-only",
        dest="exprs",
        nargs=0,
        action=_Only,
        const="status=failed",
        help="show only the calls that failed (-e status=failed).",
    )
    p.add_argument(
        "--filter",
        metavar="EXPR",
        help="an event filter in the kernel's grammar, decided in BPF: "
        "'fd == 3 && count >= 4096', 'ret < 0', 'filename ~ \"/etc/*\"'; it applies to "
        "the syscalls that have the fields it names. With -c, only the calls that pass are counted.",
    )
    p.add_argument(
        "-p",
        "--attach",
        dest="pids",
        metavar="PID",
        action="append",
        default=[],
        help="trace a running process; repeatable, or a list apart by commas or spaces "
        '(-p "$(pidof prog)"). '
        "Stops when the processes exit, or on Ctrl-C (SIGHUP, SIGQUIT, SIGTERM: the same; then systrace "
        "dies of the signal, as strace).",
    )
    p.add_argument(
        "-f",
        "--follow-forks",
        dest="follow",
        action="count",
        default=0,
        help="also trace the children the traced processes fork, from their first syscall. "
        "-ff with -o PREFIX: each thread's lines in its own file, PREFIX.TID, as strace's "
        "(without -o, -ff is -f).",
    )
    p.add_argument(
        "-b",
        "--detach-on",
        dest="detach_on",
        metavar="execve",
        help="let each traced process go at its execve (but the one that starts the command), and "
        "what it forks after, as strace -b execve: -f without tracing the programs run.",
    )
    p.add_argument(
        "--output-separately",
        dest="output_separately",
        action="store_true",
        help="with -o PREFIX: each thread's lines in its own file, PREFIX.TID (-ff is -f with this).",
    )
    p.add_argument(
        "-c",
        "--summary-only",
        dest="summary",
        action="store_true",
        help="count calls, errors and time per syscall and print a table at the end "
        "(instead of the calls).",
    )
    p.add_argument(
        "-C",
        "--summary",
        dest="count_too",
        action="store_true",
        help="as -c, and print the calls too: the table comes after the trace.",
    )
    p.add_argument(
        "-w",
        "--summary-wall-clock",
        dest="wall_time",
        action="store_true",
        help="with -c: the time from each call's entry to its exit (by default -c shows the time the "
        "calls ran, as strace -c's: not the time they slept).",
    )
    p.add_argument(
        "-O",
        "--summary-syscall-overhead",
        dest="overhead",
        metavar="OVERHEAD[UNIT]",
        help="with -c: take OVERHEAD off each call's time (down to 0), as strace -O; UNIT s, ms, us "
        "(default) or ns.",
    )
    p.add_argument(
        "--histogram",
        action="store_true",
        help="with -c: after the table, a latency histogram per syscall as bpftrace's hist() "
        "prints it (rows [lo, hi) in ns, K/M/G = powers of 1024).",
    )
    p.add_argument(
        "-T",
        dest="durations",
        action="store_true",
        help="show the time spent in each call: <seconds.microseconds>.",
    )
    p.add_argument(
        "--syscall-times",
        dest="syscall_times",
        metavar="PRECISION",
        nargs="?",
        const="us",
        help="strace's long form of -T, with the precision of its times: s, ms, us (the default) or ns.",
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
        "-r",
        dest="relative_timestamps",
        action="store_true",
        help="prefix each line with the time since the line before it "
        "(seconds.microseconds; after -t's time when both are given).",
    )
    p.add_argument(
        "--relative-timestamps",
        dest="relative_precision",
        metavar="PRECISION",
        nargs="?",
        const="us",
        help="strace's long form of -r, with the precision of its times: s, ms, us (the default) or ns.",
    )
    p.add_argument(
        "-o",
        "--output",
        dest="output",
        metavar="FILE",
        help="write the trace to FILE instead of standard error; '|COMMAND' or '!COMMAND' pipes it to COMMAND.",
    )
    p.add_argument(
        "-P",
        "--trace-path",
        dest="trace_paths",
        metavar="PATH",
        action="append",
        default=[],
        help="show only the calls that touch PATH: a path argument that is PATH as written, or an fd "
        "argument that refers to it (as strace's -P: PATH as given and where it resolves to); "
        "repeatable.",
    )
    class _NoAbbrev(argparse.Action):
        """strace's -v: -e abbrev=none, in its place among the -e's (the
        last abbrev= counts)."""

        def __call__(self, parser: Any, namespace: Any, values: Any, option_string: Any = None) -> None:
            setattr(namespace, self.dest, [*(getattr(namespace, self.dest, None) or []), "abbrev=none"])

    p.add_argument(
        "-v",
        "--no-abbrev",
        dest="exprs",
        nargs=0,
        action=_NoAbbrev,
        help="print structures whole, every field and every element of arrays (-e abbrev=none): "
        "stat's, statx's, uname's, termios', rusage's, getdents64's entries, execve's environment.",
    )
    p.add_argument(
        "-n",
        "--syscall-number",
        dest="syscall_numbers",
        action="store_true",
        help="print each line's syscall number: [ 231] (a signal's and an exit's: the syscall the "
        "thread was in, or made last).",
    )
    p.add_argument(
        "--seccomp-bpf",
        dest="seccomp_bpf",
        action="store_true",
        help="accepted for strace's command lines: systrace already decides in the kernel which "
        "calls leave it, and prints the same.",
    )
    p.add_argument(
        "-A",
        "--output-append-mode",
        dest="append",
        action="store_true",
        help="with -o: append to FILE instead of truncating it.",
    )
    p.add_argument(
        "-a",
        "--columns",
        dest="column",
        metavar="COLUMN",
        default=str(DEFAULT_COLUMN),
        help=f"align the results of calls on COLUMN (default {DEFAULT_COLUMN}).",
    )
    p.add_argument(
        "-S",
        "--summary-sort-by",
        dest="sort_by",
        metavar="SORTBY",
        help="with -c: sort the table by time (default), avg-time, calls, errors, name or nothing.",
    )
    p.add_argument(
        "-U",
        "--summary-columns",
        dest="summary_columns",
        metavar="COLUMNS",
        help="with -c: the table's columns, in order: time-percent, total-time, avg-time, calls, errors, "
        "name (strace's names and aliases; the name is added last when not given).",
    )
    p.add_argument(
        "-E",
        "--env",
        dest="env_changes",
        metavar="VAR=VAL|VAR",
        action="append",
        default=[],
        help="run the command with VAR set to VAL in its environment, or without VAR; repeatable.",
    )
    p.add_argument(
        "-u",
        "--user",
        dest="user",
        metavar="USERNAME",
        help="run the command as USERNAME: its user and group ids and supplementary groups "
        "(needs root).",
    )
    p.add_argument(
        "-s",
        "--string-limit",
        dest="string_size",
        metavar="SIZE",
        default=str(DEFAULT_STRING_SIZE),
        help=f"show at most SIZE bytes of each string or buffer (default {DEFAULT_STRING_SIZE}); "
        f"paths are shown whole. At most {MAX_CAPTURE} bytes of each are captured.",
    )
    p.add_argument(
        "-x",
        dest="hex_strings",
        action="count",
        default=0,
        help="print strings that have non-ASCII bytes in hex; -xx prints all strings in hex.",
    )
    p.add_argument(
        "-y",
        dest="decode_fds",
        action="count",
        default=0,
        help="print what each fd refers to: read(3</etc/passwd>, ...), = 3</etc/passwd>; "
        "-yy adds socket endpoints (TCP:[127.0.0.1:40000->127.0.0.1:80]), device numbers and "
        "a pidfd's process (3<pid:42>).",
    )
    p.add_argument(
        "--decode-fds",
        dest="decode_fds_set",
        metavar="SET",
        nargs="?",
        const="path",
        help="what -y shows of an fd, as a set of path (-y), socket, dev, pidfd, or all (-yy).",
    )
    p.add_argument(
        "-Y",
        dest="decode_pids",
        action="store_true",
        help="print the command name of each process or thread id: kill(42<sleep>, SIGTERM), "
        "getpid() = 42<sh>, [pid 42<sh>].",
    )
    p.add_argument(
        "--decode-pids",
        dest="decode_pids_set",
        metavar="SET",
        help="strace's long form of -Y: comm (-Y) or none.",
    )
    p.add_argument(
        "-q",
        dest="quiet",
        action="count",
        default=0,
        help="do not print the attach and detach messages (of -p, and -f's); -qq neither the "
        "+++ exited with N +++ lines.",
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
    p.add_argument(
        "--absolute-timestamps",
        "--timestamps",
        dest="absolute_timestamps",
        metavar="[format:]FORMAT[,[precision:]PRECISION]",
        nargs="?",
        const="time",
        help="strace's long form of -t: time (-t), time,us (-tt) or unix,us (-ttt); a precision of "
        "s, ms, us or ns with either format.",
    )
    p.add_argument(
        "--strings-in-hex",
        dest="strings_in_hex",
        metavar="non-ascii|all|non-ascii-chars",
        nargs="?",
        const="all",
        help="strace's long form of -x (non-ascii) and -xx (all, the default); non-ascii-chars: "
        "\\xNN in place of octal escapes.",
    )
    p.add_argument("-V", "--version", action="version", version=f"%(prog)s {VERSION}")

    # strace's deprecated -F: -f, with strace's warning (main() prints it).
    p.add_argument("-F", dest="deprecated_follow", action="store_true", help=argparse.SUPPRESS)
    p.set_defaults(unsupported=None)
    if refusals:

        class _Unsupported(argparse.Action):
            """strace's options that systrace has no counterpart for: named,
            with why, after the parse (not argparse's "unrecognized
            arguments")."""

            def __init__(self, *args: Any, why: str, **kwargs: Any) -> None:
                super().__init__(*args, **kwargs)
                self.why = why

            def __call__(self, parser: Any, namespace: Any, values: Any, option_string: Any = None) -> None:
                if option_string in ("-X", "--const-print-style") and values == "abbrev":
                    return  # strace's default style, systrace's only one
                given = option_string
                if values:
                    given += f"={values}" if option_string.startswith("--") else f" {values}"
                if namespace.unsupported is None:
                    namespace.unsupported = f"{given}: {self.why}"

        for options, nargs, why in REFUSED_OPTIONS:
            p.add_argument(*options, nargs=nargs, action=_Unsupported, why=why, help=argparse.SUPPRESS)
    p.add_argument(
        "command",
        nargs=argparse.REMAINDER,
        metavar="COMMAND",
        help="the command to run and trace (after --); tracing is on before its first syscall.",
    )
    if completion:
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
        if qualifier in REFUSED_QUALIFIERS:
            raise UsageError(f"-e {qualifier}=...: {REFUSED_QUALIFIERS[qualifier]}")
        if not sep or qualifier not in ("trace", "t"):
            qualifier, value = "trace", expr  # strace's: no qualifier it knows, a set of syscalls
        try:
            nrs = SyscallSet.from_strace(value)
        except ValueError as err:
            raise UsageError(f"-e {expr!r}: {err}", hint=False) from None
        selected = nrs  # strace keeps the last -e trace=
    return selected


# strace's -e qualifiers that systrace has no counterpart for, with why.
_NO_CHANGE = "not supported: systrace traces with eBPF and never stops nor changes the traced calls"
REFUSED_QUALIFIERS = {"inject": _NO_CHANGE, "fault": _NO_CHANGE,
                      "kvm": "not supported: systrace does not follow KVM's vCPU exits",
                      "secontext": "not supported: systrace prints no SELinux contexts"}


def _outside_last_set(exprs: Sequence[str]) -> List[int]:
    """The syscalls outside the last of `exprs` (`-e QUALIFIER=SET`), in
    order; none without one."""
    outside: List[int] = []
    for expr in exprs:
        value = expr.partition("=")[2]
        try:
            inside = SyscallSet.from_strace(value).nrs
        except ValueError as err:
            raise UsageError(f"-e {expr!r}: {err}", hint=False) from None
        outside = sorted(SyscallSet.from_strace("all").nrs - inside)
    return outside


def parse_abbrev_set(exprs: Sequence[str]) -> List[int]:
    """-e abbrev=SET (-v: none): the syscalls whose structures print whole,
    those not in the last SET (strace's default: all are abbreviated)."""
    return _outside_last_set(exprs)


def parse_verbose_set(exprs: Sequence[str]) -> List[int]:
    """-e verbose=SET: the syscalls whose structures print as their
    addresses, those not in the last SET (strace's default: all are
    decoded)."""
    return _outside_last_set(exprs)


def parse_raw_set(exprs: Sequence[str]) -> Optional[SyscallSet]:
    """-e raw=SET: the syscalls whose calls print undecoded, each argument
    and the result in hex (strace's printargs); the last one counts, as
    strace's do. None: none."""
    raw: Optional[SyscallSet] = None
    for expr in exprs:
        value = expr.partition("=")[2]
        try:
            raw = SyscallSet.from_strace(value)
        except ValueError as err:
            raise UsageError(f"-e {expr!r}: {err}", hint=False) from None
    return raw


def _qualifier(expr: str) -> str:
    """An -e expression's qualifier: `status` of status=failed; `trace` of a
    bare set (-e openat,close)."""
    qualifier, sep, _ = expr.partition("=")
    return qualifier if sep else "trace"


# strace's precisions: the digits after the second.
PRECISIONS = {"s": 0, "ms": 3, "us": 6, "ns": 9}
# strace's long options whose value is optional: it is theirs only after
# `=` (getopt's optional_argument), so `--syscall-times ls` traces ls. The
# bare option gets its default before argparse, which would take `ls`.
OPTIONAL_VALUES = {"--absolute-timestamps": "time", "--timestamps": "time", "--syscall-times": "us",
                   "--relative-timestamps": "us", "--strings-in-hex": "all", "--decode-fds": "path",
                   "--quiet": "attach,personality", "--daemonize": "grandchild", "--tips": ""}


def parse_absolute_timestamps(spec: str) -> Tuple[int, int]:
    """--absolute-timestamps=[format:]FORMAT[,[precision:]PRECISION]: the
    -t count of its format (time: 1, unix: 3, none: 0, no time) and its digits after the
    second (s: 0, ms: 3, us: 6, ns: 9)."""
    fmt, precision = "time", "s"
    for part in spec.split(","):
        key, sep, value = part.rpartition(":")
        if key == "format" or (not sep and value in ("time", "unix", "none")):
            fmt = value
        elif key == "precision" or (not sep and value in PRECISIONS):
            precision = value
        else:
            raise UsageError(f"--absolute-timestamps={spec}: {part!r} is no format (time, unix, none) "
                             "or precision")
    if fmt not in ("time", "unix", "none") or precision not in PRECISIONS:
        raise UsageError(f"--absolute-timestamps={spec}: the formats are time, unix and none, the "
                         "precisions s, ms, us and ns")
    return {"time": 1, "unix": 3, "none": 0}[fmt], PRECISIONS[precision]


def parse_precision(option: str, spec: str) -> int:
    """--syscall-times=PRECISION, --relative-timestamps=PRECISION: its
    digits after the second."""
    value = spec[len("precision:"):] if spec.startswith("precision:") else spec
    if value not in PRECISIONS:
        raise UsageError(f"{option}={spec}: the precisions are s, ms, us and ns")
    return PRECISIONS[value]


def parse_overhead(spec: str) -> int:
    """-O OVERHEAD[UNIT] in ns, as strace's parse_ts reads it: an integer
    or a number strtod reads, not negative, then s, ms, us or ns (none:
    us)."""
    import re

    match = re.fullmatch(r"(\+?[0-9]+|[0-9eE.+-]+)(s|ms|us|ns)?", spec)
    if match:
        number, unit = match.groups()
        scale = {"s": 10**9, "ms": 10**6, "ns": 1}.get(unit, 1000)
        try:
            value = int(number) * scale if number.lstrip("+").isdigit() else float(number) * scale
        except ValueError:
            value = -1
        if 0 <= value < 2**63:
            return int(value)
    raise UsageError(f"invalid -O argument: '{spec}'")


def parse_strings_in_hex(spec: str) -> int:
    """--strings-in-hex=non-ascii|all|non-ascii-chars|none: strace's xflag
    (the -x count, or 3)."""
    forms = {"non-ascii": 1, "all": 2, "none": 0, "non-ascii-chars": 3}
    if spec not in forms:
        raise UsageError(f"--strings-in-hex={spec}: non-ascii (-x), all (-xx), non-ascii-chars "
                         "(\\xNN escapes for what has no other) or none")
    return forms[spec]


# strace's --decode-fds set, as the printer's bits (fdtable::decode_fd).
DECODE_FD_BITS = {"path": 1, "socket": 2, "dev": 4, "pidfd": 8}
DECODE_FD_ALL = 15


def parse_decode_fds(spec: str) -> int:
    """--decode-fds=SET as strace's qualify_tokens: names of path, socket,
    dev, pidfd (comma-separated), all or none, each leading `!` inverting
    the rest; the printer's bits (-y is path, 1; -yy all, 15)."""
    rest = spec.lstrip("!")
    inverted = (len(spec) - len(rest)) % 2 == 1
    if rest in ("none", "all"):
        bits = DECODE_FD_ALL if rest == "all" else 0
    else:
        names = [name for name in rest.split(",") if name]
        if not names:
            raise UsageError(f"invalid decode-fds '{spec}'", hint=False)
        bits = 0
        for name in names:
            if name not in DECODE_FD_BITS:
                raise UsageError(f"invalid decode-fds '{name}'", hint=False)
            bits |= DECODE_FD_BITS[name]
    return DECODE_FD_ALL & ~bits if inverted else bits


def parse_decode_pids(spec: str) -> bool:
    """--decode-pids=SET: whether it names comm (-Y)."""
    names = spec.split(",")
    for name in names:
        if name in ("pidns", "all"):
            raise UsageError(f"--decode-pids={spec}: pidns is not supported (systrace prints the "
                             "kernel's ids, those of the initial pid namespace); comm or none")
        if name not in ("comm", "none"):
            raise UsageError(f"--decode-pids={spec}: comm or none", hint=False)
    return "comm" in names


# -e qualifiers taken above the sets: decode-fds= and decode-pids= (their
# long options), abbrev= (and -v), and verbose=.
NOOP_QUALIFIERS = ("decode-fds", "decode-fd", "decode_fds", "decode-pids", "decode-pid", "decode_pids", "abbrev", "a",
                   "verbose", "v")
ABBREV_QUALIFIERS = ("abbrev", "a")
VERBOSE_QUALIFIERS = ("verbose", "v")
QUIET_QUALIFIERS = ("quiet", "silent", "silence", "q")
# strace's names of -e raw=.
RAW_QUALIFIERS = ("raw", "x")
# strace's -e read=FDS and -e write=FDS (and their short names).
DUMP_QUALIFIERS = {"read": "read", "reads": "read", "r": "read", "write": "write", "writes": "write", "w": "write"}
QUIET_NAMES = ("attach", "exit", "path-resolution", "personality", "thread-execve", "superseded")


def parse_quiet(exprs: Sequence[str], q: int) -> List[str]:
    """The messages not printed: -q's (attach, personality), -qq's (and
    exit), and those of -e quiet=SET (strace's names; all, none, a leading
    ! for the others)."""
    if q and exprs:
        raise UsageError("-q and -e quiet/--quiet cannot be provided simultaneously", hint=False)
    names = set(QUIET_NAMES[:1] + QUIET_NAMES[3:4] if q >= 1 else ()) | ({"exit"} if q >= 2 else set())
    for expr in exprs:
        spec = expr.partition("=")[2]
        negate = spec.startswith("!")
        chosen = set()
        for name in spec.lstrip("!").split(","):
            name = {"exits": "exit", "path_resolution": "path-resolution"}.get(name, name)
            if name == "all":
                chosen |= set(QUIET_NAMES)
            elif name in QUIET_NAMES:
                chosen.add(name)
            elif name != "none":
                raise UsageError(f"-e {expr}: {name!r} is none of {', '.join(QUIET_NAMES)}, all, none", hint=False)
        names = set(QUIET_NAMES) - chosen if negate else chosen
    return sorted(names)


def parse_status(exprs: Sequence[str]) -> Optional[List[str]]:
    """The classes of calls the -e status= expressions (-z, -Z) keep: the
    last one's, as strace takes it; None when there is none (all calls)."""
    classes: Optional[List[str]] = None
    for expr in exprs:
        try:
            classes = _native.status_classes(expr.partition("=")[2])
        except ValueError as err:
            raise UsageError(f"-e {expr!r}: {err}", hint=False) from None
    return classes


def status_filter(classes: Optional[List[str]]) -> Optional[str]:
    """The -e status= classes as a filter on `ret` that the BPF programs
    decide at each call's exit (failed: an errno's range, as strace tells
    it), so that a call not shown never crosses the ring buffer; None when
    the classes need every call (all of them, or unfinished ones: a call
    that never returns has no exit to decide at). The printer applies the
    classes again."""
    if classes is None or "unfinished" in classes:
        return None
    successful, failed = "successful" in classes, "failed" in classes
    if successful and failed:
        return None
    if failed:
        return "ret < 0 && ret >= -4095"
    if successful:
        return "ret >= 0 || ret < -4095"
    return "ret < 0 && ret >= 0"  # status=none: no call


def _possible_signals(spec: str) -> str:
    """`spec` without the numbers strace takes that no process can be sent:
    strace reads any number up to 255 as a signal (sigstr_to_uint), and
    0 or one past the last real-time signal selects nothing."""
    import signal

    body = spec.lstrip("!")
    items = body.split(",")
    kept = [i for i in items if not (i.isascii() and i.isdigit() and int(i) <= 255
                                     and not 0 < int(i) <= signal.SIGRTMAX)]
    if len(kept) == len(items):
        return spec
    return spec[: len(spec) - len(body)] + (",".join(kept) or "none")


def parse_signals(exprs: Sequence[str]) -> Optional[List[int]]:
    """The signals the -e signal= expressions show: the last one's, as
    strace takes it; None when there is none (all signals)."""
    signals: Optional[List[int]] = None
    for expr in exprs:
        try:
            signals = _native.signal_set(_possible_signals(expr.partition("=")[2]))
        except ValueError as err:
            raise UsageError(f"-e {expr!r}: {err}", hint=False) from None
    return signals


def parse_pids(values: Sequence[str]) -> List[int]:
    """-p's process ids, as strace's process_opt_p_list reads them: split
    at commas, spaces, tabs and newlines (-p "$(pidof prog)", pgrep's
    lines), each a decimal number > 0 (an empty one between two delimiters
    too: it is invalid); one delimiter may end the list."""
    import re

    pids: List[int] = []
    for value in values:
        parts = re.split(r"[\n\t ,]", value)
        if parts[-1] == "":
            parts.pop()
        for part in parts:
            digits = part[1:] if part.startswith("+") else part  # strtoll's sign
            if not (digits.isascii() and digits.isdigit()) or not 0 < int(digits) < 2**31:
                raise UsageError(f"Invalid process id: '{part}'", hint=False)
            pid = int(digits)
            if pid == os.getpid():
                raise UsageError("I'm sorry, I can't let you do that, Dave.", hint=False)
            if pid not in pids:
                pids.append(pid)
    return pids


def _uint_option(option: str, value: str) -> int:
    """-s's and -a's number, as strace's string_to_uint reads it."""
    digits = value[1:] if value.startswith("+") else value
    if not (digits.isascii() and digits.isdigit()) or int(digits) >= 2**31:
        raise UsageError(f"invalid {option} argument: '{value}'")
    return int(digits)


def capture_size(string_size: int) -> int:
    """The bytes captured per string for `-s string_size`: one more than
    shown tells a string of exactly -s bytes from a longer one (strace's
    "..." rule), and paths are shown whole, so at least MIN_CAPTURE."""
    return max(1, min(MAX_CAPTURE, max(string_size + 1, MIN_CAPTURE)))


def data_size(args: argparse.Namespace) -> Optional[int]:
    """The bytes of data (what read and write move) captured: -s and one
    more when only strace's lines show it, which is what they print
    (capturing 4 KiB of each read cost a 4 KiB-block copy loop 40% more);
    JSON and recordings keep the string size (None)."""
    if args.format != "strace" or args.record or args.output_dir:
        return None
    if any(_qualifier(e) in DUMP_QUALIFIERS for e in args.exprs):
        return MAX_CAPTURE  # -e read=, -e write=: the data whole, up to the capture's bound
    size: int = args.string_size
    return max(1, min(MAX_CAPTURE, size + 1))


def needs_clock(args: argparse.Namespace) -> bool:
    """Whether an option shows or keeps the time of calls: times (-t, -r,
    -T), -c's table, another format than strace's, a recording, or an event
    filter (a call decided at its exit keeps its enter's time). Without one
    the programs load without the clock, as strace's default output has no
    time: a clock read is some 35-50 ns of each record on this machine kind
    (issue 15). _cli_start.scan() guesses the same before argparse."""
    return bool(args.timestamps or args.relative_timestamps or args.durations or args.summary
                or args.count_too or args.wall_time or args.format != "strace" or args.record
                or args.output_dir or args.filter or args.status)


# Output.


def signal_name(sig: int) -> str:
    import signal

    try:
        return signal.Signals(sig).name
    except ValueError:
        return f"SIG{sig}"


def killed_line(status: int) -> str:
    """`+++ killed by SIGKILL +++` for the wait status of a killed process."""
    core = " (core dumped)" if os.WCOREDUMP(status) else ""
    return f"+++ killed by {signal_name(os.WTERMSIG(status))}{core} +++"


# The command's threads run at this nice value once the traced processes
# exist: events cost the tracer CPU time in step with what the traced
# processes do, and on a busy machine a tracer that gets its share last
# falls behind: the events waiting for it grow its memory (two `dd bs=1` on
# two CPUs: 66-112 MB peak RSS at nice 0, 40-56 MB at -10), or are lost past
# the ring buffer or max_memory.
# -20 rather than -10: the scheduler still gives each busy traced process
# its share of the tracer's CPU, a tick at a time (4 ms at HZ=250), in
# which the ring fills and is not drained. At -10 that share is 1/9 of the
# tracer's, at -20 1/87 (two `dd bs=1` of 2M calls on two CPUs, a 1 MiB
# ring, load 0.9-1.3: gaps over 2 ms with a `dd` on the consumer's CPU,
# 7-22 a run at -10, 4-13 of them preemptions; 7-8 at -20, 1-2 of them
# preemptions, the rest waits after a wake-up; events lost, median of 5-10
# runs, ~130k at -10, ~22k at -20).
# The threads share the command's process group, so the group's priority
# (getpriority(PRIO_PGRP, 0), its lowest nice) shows it. A real-time policy
# would not show there, but it loses events: the kernel keeps 5% of each
# CPU for normal threads, in 50 ms at a time in which the traced processes
# run and the tracer does not (two `dd bs=1`: 0.8-1M of 8M events lost
# with SCHED_RR, none at nice -10).
TRACER_NICE = -20
# ... and a time slice of 0.1 ms (the kernel's least; 1.4 ms is the
# default here): woken, a thread with a shorter slice than the running
# one's takes the CPU at once, where one at nice -20 could wait up to a
# tick (2-8 ms) for a traced process to use up its slice, while the ring
# filled. A consumer that drains faster sleeps more often (bpftrace: some
# 1,600 times a run against 30), so waits so more: two `dd bs=1 count=5000000`
# under -f (tests/test_cli_memory.py's 10x test, the 2 MiB ring) lost
# events in 8 of 24 runs of the cheaper printer's build without the slice,
# and in none of 24 with it (bench/RESULTS.md, 2026-12-05 16:45).
TRACER_SLICE_NS = 100_000


def _keep_up() -> None:
    """Gives the command's threads (the consumer of the ring buffer, the
    printer) priority over the processes they trace, started or attached
    before: their nice value and time slice, set per thread. Without
    CAP_SYS_NICE the nice value stays as it was; before Linux 6.12, the
    slice."""
    try:
        tids = [int(t) for t in os.listdir("/proc/self/task")]
    except OSError:
        return
    for tid in tids:
        try:
            _native._keep_up_thread(tid, TRACER_NICE, TRACER_SLICE_NS)
        except OSError:
            pass


class RunReport:
    """What a run has to tell once it is over, filled by the Printer."""

    def __init__(self) -> None:
        self.lost = 0
        # -f: children the kernel's table of traced processes had no room
        # for (SYSTRACE_MAX_PROCESSES at once), whose calls are not shown.
        self.untraced_children = 0
        # -c: calls the kernel's counting maps had no room for (too many
        # different processes and syscalls), missing from the table.
        self.uncounted = 0
        # The first write of the trace that failed (a full disk, -ff's file
        # that could not be made): nothing after it was written.
        self.write_error: Optional[OSError] = None
        # -o |COMMAND: its end (head -1) is such a failure, not the run's.
        self.output_piped = False
        # -y: fds and paths whose target could not be known.
        self.unknown_fds = 0
        # -yy: sockets whose endpoints could not be read in time.
        self.unread_sockets = 0


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
        summary_overhead_ns: int = 0,
        detach_on_execve: bool = False,
        detach_messages: str = "",
        timestamps: int,
        string_size: int,
        to_file: bool,
        relative_timestamps: bool = False,
        precision: Tuple[Optional[int], int, int] = (None, 6, 6),
        dump_read: Optional[str] = None,
        dump_write: Optional[str] = None,
        multi: bool,
        hex_strings: int = 0,
        column: int = DEFAULT_COLUMN,
        decode_fds: int = 0,
        decode_pids: bool = False,
        live: bool = True,
        trace_paths: Sequence[str] = (),
        attach_messages: bool = False,
        superseded: bool = True,
        syscall_numbers: bool = False,
        raw: Optional[SyscallSet] = None,
        unabbreviated: Sequence[int] = (),
        not_verbose: Sequence[int] = (),
        status: Optional[List[str]] = None,
        quiet: int = 0,
        report: Optional[RunReport] = None,
        main_pid: Optional[int] = None,
        wall_offset_ns: Optional[int] = None,
        signals: Optional[List[int]] = None,
        task_exits: bool = False,
        thread_exits: bool = False,
        per_thread: Optional[str] = None,
        append: bool = False,
        threads: Optional[List[int]] = None,
    ) -> None:
        self.out = out
        # -b execve's `Process N detached`: "inline", in the trace the
        # detach ends (on stderr); "aside", on stderr apart (-c, or -p's
        # trace in a file); "": none.
        self.detach_messages = detach_messages
        # The processes whose end the run waits for (the command, -p's)
        # that -b execve let go (`detached`).
        self.roots: Set[int] = {main_pid} if main_pid is not None else set()
        self._let_go: Set[int] = set()
        self.task_exits = task_exits
        self.summary = summary
        self.main_pid = main_pid
        self.report = report if report is not None else RunReport()
        # CLOCK_REALTIME - CLOCK_MONOTONIC, for -t: now, or a recording's.
        self.wall_offset_ns = time.time_ns() - time.monotonic_ns() if wall_offset_ns is None else wall_offset_ns
        # strace: "PID " on every line when writing a file and following or
        # tracing several processes, "[pid PID] " on stderr while more than
        # one thread is traced (without -f, one thread of each process).
        prefix = ("always" if multi else "file") if to_file else "stderr"
        if per_thread is not None:
            # strace -ff -o PREFIX: PREFIX.TID, no pid on the lines. Its
            # directory is checked now, as strace opens the first file
            # before the command runs.
            prefix = "per-thread"
            where = os.path.dirname(per_thread) or "."
            if not os.path.isdir(where) or not os.access(where, os.W_OK | os.X_OK):
                raise CliError(f"can't fopen '{per_thread}.<tid>': {where} is not a directory "
                               "this process can write to")
        self.native = _native.Printer(
            format=fmt,
            selected=selected,
            summary=summary,
            summary_overhead_ns=summary_overhead_ns,
            detach_on_execve=detach_on_execve,
            detach_messages=detach_messages == "inline",
            durations=durations,
            timestamps=timestamps,
            relative_timestamps=relative_timestamps,
            precision=precision,
            dump_read=dump_read,
            dump_write=dump_write,
            string_size=string_size,
            hex_strings=hex_strings,
            column=column,
            decode_fds=decode_fds,
            decode_pids=decode_pids,
            live=live,
            trace_paths=list(trace_paths),
            attach_messages=attach_messages,
            superseded=superseded,
            syscall_numbers=syscall_numbers,
            raw=list(raw.nrs) if raw is not None else [],
            unabbreviated=list(unabbreviated),
            not_verbose=list(not_verbose),
            prefix=prefix,
            status=status,
            quiet_exits=quiet >= 2,
            signals=signals,
            task_exits=task_exits,
            thread_exits=thread_exits,
            main_pid=main_pid,
            wall_offset_ns=self.wall_offset_ns,
            threads=threads,
        )
        self.per_thread = per_thread is not None
        if per_thread is not None:
            self.native.write_thread_files(per_thread, append)

    # Events in.

    def _emit(self, text_of: Callable[[], str]) -> None:
        """Writes the text text_of() returns (the native printer's; "" when
        its writer thread writes). A write that fails, here or in that
        thread (raised by the native call), is kept for the report, once:
        the run goes on, the command traced to its end, and nothing more is
        written. A closed pipe on stderr ends the run, as before; the end
        of -o |COMMAND's is such a failure (strace goes on too)."""
        try:
            text = text_of()
            if self.report.write_error is None:
                if text:
                    self.out.write(text)
                self.out.flush()
        except BrokenPipeError as err:
            if not self.report.output_piped:
                raise
            if self.report.write_error is None:
                self.report.write_error = err
        except OSError as err:
            if self.report.write_error is None:
                self.report.write_error = err

    def feed(self, events: EventBatch) -> None:
        """A batch of events, in the order it came."""
        self._emit(lambda: self.native.feed(events))

    def print_from(self, session: Session) -> None:
        """Prints `session`'s events from now on as they arrive: the native
        printer takes them on the thread that decodes them and writes their
        lines to the output's file itself, so that no event goes through the
        session's queue or through Python (feed() then only reports a write
        that failed). Not for an output without a file (it stays fed)."""
        if self.per_thread:
            self.native.print_from(session, None)
            return
        try:
            fd = self.out.fileno()
        except (AttributeError, OSError, ValueError):
            return
        self.out.flush()
        self.native.print_from(session, fd)

    def drain(self, session: Session) -> None:
        """What a closed session has left, a batch at a time; and how many
        events it lost, for the report."""
        for batch in session.batches():
            self.feed(batch)
        self.report.lost += session.dropped
        self.report.untraced_children += session.untraced_children

    def finish(self, detached: bool = False) -> None:
        """The calls left in progress: unfinished, or (`detached`: the
        processes run on untraced) as strace's detach ends them."""
        self._emit(lambda: self.native.finish(detached))
        self.report.unknown_fds += self.native.unknown_fds
        self.report.unread_sockets += self.native.unread_sockets

    # Processes.

    @property
    def live(self) -> Dict[int, int]:
        """The threads traced and not gone: tid -> pid."""
        return self.native.live

    @property
    def exited(self) -> Dict[int, int]:
        """The processes that called exit_group: pid -> exit status."""
        return self.native.exited

    @property
    def detached(self) -> AbstractSet[int]:
        """The roots -b execve let go at an exec, as of tell_detached()."""
        return self._let_go

    def tell_detached(self) -> None:
        """Takes the processes -b execve let go since: strace's `Process N
        detached` where it is printed apart from the trace; the roots'
        kept for `detached`."""
        for pid in self.native.take_detached():
            if self.detach_messages == "aside":
                print(f"{PROG}: Process {pid} detached", file=sys.stderr, flush=True)
            if pid in self.roots:
                self._let_go.add(pid)

    # Lines out.

    def status_line(self, pid: int, text: str, main: bool = False, at_ns: Optional[int] = None) -> None:
        """`+++ exited with 0 +++`, with the pid prefix for other processes;
        at_ns: when it happened (CLOCK_MONOTONIC), for -t (default: now)."""
        self._emit(lambda: self.native.status_line(pid, text, main, at_ns))

    def summary_table(self, sort_by: str = "time", columns: Optional[str] = None) -> str:
        return self.native.summary_table(sort_by, columns)


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


def _open_session(
    nrs: Optional[SyscallSet],
    pids: List[int],
    follow: bool,
    string_size: int,
    buffer_size: int,
    launched: Optional[int] = None,
    task_events: bool = False,
    exits: bool = False,
    filter: Optional[str] = None,
    decode_fds: int = 0,
    status: Optional[List[str]] = None,
    data_size: Optional[int] = None,
    clock: bool = True,
    detach_on_execve: bool = False,
) -> Session:
    syscalls: List[SyscallSet] = []
    if nrs is not None:
        # -y's fd table needs the calls that change fds, shown or not.
        wanted = [*INTERNAL, *(_native.fd_syscalls() if decode_fds else ())]
        internal = [n for n in wanted if n in _native.syscall_names()]
        syscalls = [nrs, SyscallSet(*internal)]
    try:
        return Session(
            *syscalls,
            pid=pids or None,
            _launched=launched,
            strings=True,
            string_size=capture_size(string_size),
            _data_size=data_size,
            follow=follow,
            buffer_size=buffer_size,
            signals=task_events,
            exits=task_events or exits,
            filter=filter,
            _unfiltered=list(INTERNAL),
            _and_filter=status_filter(status),
            clock=clock,
            _detach_on_execve=detach_on_execve,
        )
    except PermissionError as err:
        raise CliError(f"{err} (tracing needs root, or CAP_BPF and CAP_PERFMON)") from None
    except (ProcessLookupError, ValueError) as err:
        raise CliError(str(err)) from None
    except OSError as err:
        raise CliError(str(err)) from None


def _untraced_if_counting(args: argparse.Namespace) -> Optional[SyscallSet]:
    """What the tracing session shows: with -c, no syscall beyond what it
    needs to follow the processes (_open_session adds those). An empty
    SyscallSet() would mean every syscall: each call would leave the kernel
    as events that -c then never prints."""
    if not args.summary:
        nrs: Optional[SyscallSet] = args.nrs
        return nrs
    return SyscallSet(*[n for n in INTERNAL if n in _native.syscall_names()])


def _open_counting(args: argparse.Namespace, pids: List[int]) -> Optional[Session]:
    """-c: a session that counts the selected syscalls in the kernel (the
    table's times are then the kernel's, and no event is shipped for them);
    the tracing session then carries only what the command needs to follow
    the processes. -C: the same session, beside the one that traces."""
    if not (args.summary or args.count_too):
        return None
    syscalls = [args.nrs] if args.nrs is not None else []
    try:
        # --filter counts only the calls it passes, in the kernel too; -z
        # and -Z do not change strace's -c, nor this.
        # Counted per syscall, not per process: the table sums them, and a
        # tree of thousands of processes then fits the kernel's maps.
        # Without -f, strace counts one thread of each process: the first
        # (tid == tgid, tested in BPF), else by a filter on the thread's id.
        threads = _threads_traced(args, pids)
        first = threads is not None and all(_is_first_thread(tid) for tid in threads)
        return Session(*syscalls, pid=pids, follow=args.follow, count=True, filter=args.filter,
                       buffer_size=args.buffer_size, _count_by_root=True,
                       _threads=None if first else threads, _count_first_thread=first,
                       _count_overhead_ns=args.overhead, _detach_on_execve=args.detach_on_execve)
    except PermissionError as err:
        raise CliError(f"{err} (tracing needs root, or CAP_BPF and CAP_PERFMON)") from None
    except (ProcessLookupError, ValueError, OSError) as err:
        raise CliError(str(err)) from None


def _threads_traced(args: argparse.Namespace, pids: List[int]) -> Optional[List[int]]:
    """strace without -f traces one thread of each process, a launched
    command's first or the thread -p names (its id may be any thread's):
    the threads whose calls are shown and counted; None under -f, all."""
    return None if args.follow else pids


def _is_first_thread(tid: int) -> bool:
    """Whether `tid` is its process's first thread (its id the pid); so
    in doubt (no such thread: the session says so)."""
    try:
        with open(f"/proc/{tid}/status") as f:
            for line in f:
                if line.startswith("Tgid:"):
                    return int(line.split()[1]) == tid
    except (OSError, ValueError):
        pass
    return True


def _count_report(counting: Session, histogram: bool, sort_by: str = "time",
                  columns: Optional[str] = None, wall: bool = False) -> str:
    """-c's table (its rows in -S's order, -U's columns; its times the
    calls' CPU time, or with -w their time from entry to exit), then with
    --histogram each syscall's latency histogram, in the table's order."""
    text = counting.count_table(sort_by, columns, wall)
    if histogram and text:  # no table when nothing was counted, nor histograms
        # The names of the table's rows, between its two dividers (of the
        # default columns, where the name is last).
        rows = counting.count_table(sort_by, None, wall).split("\n------")[1].splitlines()[1:]
        order = {line.rsplit(" ", 1)[-1]: i for i, line in enumerate(rows)}
        counts = sorted(counting.counts(), key=lambda c: order.get(c.name, len(order)))
        text += "".join("\n" + c.histogram_text() for c in counts if any(c.histogram))
    return text


def _open_pidfd(pid: int) -> Optional[int]:
    try:
        return os.pidfd_open(pid)
    except (OSError, AttributeError):  # Linux < 5.3, or Python < 3.9
        return None


def _poll_until_exit(session: Session, pidfd: Optional[int]) -> EventBatch:
    """The events that wait, after a wait of at most 0.1 s that ends as
    soon as some do or the command exits (its pidfd is readable): with the
    events' wait alone, every command ended up to 0.1 s after its last
    event (issue 15)."""
    if pidfd is None:
        return session.poll(0.1)
    import select

    try:
        fds = [pidfd, session.fileno()]
    except OSError:  # no eventfd: the exit alone wakes it early
        fds = [pidfd]
    select.select(fds, [], [], 0.1)
    return session.poll(0)


def _path_set(paths: List[str], quiet: bool = False) -> List[str]:
    """strace's -P set: each path as given, and where it resolves to (said
    on stderr when that differs, as strace says it, unless `quiet`)."""
    out: List[str] = []
    for path in paths:
        resolved = os.path.realpath(path) if os.path.exists(path) else path
        for p in (path, resolved):
            if p not in out:
                out.append(p)
        if resolved != path and not quiet:
            print(f'{PROG}: Requested path "{path}" resolved into "{resolved}"', file=sys.stderr)
    return out


def _command_env(changes: List[str]) -> Optional[Dict[str, str]]:
    """strace's -E: VAR=VAL sets VAR (in its place if it was set), VAR
    alone removes it; None: the environment as it is."""
    if not changes:
        return None
    env = dict(os.environ)
    for change in changes:
        name, eq, value = change.partition("=")
        if eq:
            env[name] = value
        else:
            env.pop(name, None)
    return env


def _launch_user(name: str) -> Tuple[int, int, List[int]]:
    """strace's -u: the user's uid, its group and its supplementary groups
    (initgroups' list), as the command's process takes them."""
    import pwd

    if os.getuid() != 0 or os.geteuid() != 0:
        raise UsageError("You must be root to use the -u/--username option", hint=False)
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        raise UsageError(f"Cannot find user '{name}'", hint=False) from None
    return entry.pw_uid, entry.pw_gid, os.getgrouplist(name, entry.pw_gid)


# The signal that killed the command main() ran, which entry() then dies
# of once the trace is written (exit_like_the_command); or the one that
# ended the run early (_Interrupt).
_killed_by: Optional[int] = None

# How long a command killed by the signal that ended the run (its action
# the default one: it dies of it) is waited for, its trace to its end,
# before it is told detached all the same (a process stuck in the kernel).
KILLED_COMMAND_WAIT = 5.0


class _Interrupt:
    """strace's interrupt(): SIGHUP, SIGTERM (and under -p SIGINT and
    SIGQUIT) end the run early, at its loop's next turn (within 0.1 s),
    rather than wherever the main thread is: the trace is written to its
    end, the -c table printed, then systrace dies of the signal. strace catches SIGPIPE too: it stays
    ignored here (Python's), a write to a closed pipe being a failed
    write, told."""

    def __init__(self) -> None:
        self.sig: Optional[int] = None
        self.old: Dict[int, Any] = {}

    def __call__(self, sig: int, frame: Any) -> None:
        if self.sig is None:
            self.sig = sig

    def catch(self, *signals: int) -> None:
        import signal

        for sig in signals:
            self.old[sig] = signal.signal(sig, self)

    def ignore(self, *signals: int) -> None:
        import signal

        for sig in signals:
            self.old[sig] = signal.signal(sig, signal.SIG_IGN)

    def restore(self) -> None:
        import signal

        for sig, old in self.old.items():
            signal.signal(sig, old)
        self.old = {}


def _dies_of(pid: int, sig: int) -> bool:
    """Whether `sig`, sent to process `pid`, ends it: its action is the
    default one (for SIGHUP and SIGTERM, to end the process), and one of its
    threads does not block it. A process gone already: True (its wait
    tells)."""
    bit = 1 << (sig - 1)

    def mask(path: str, field: str) -> int:
        with open(path) as f:
            for line in f:
                if line.startswith(field):
                    return int(line.split()[1], 16)
        return 0

    try:
        status = f"/proc/{pid}/status"
        if (mask(status, "SigIgn:") | mask(status, "SigCgt:")) & bit:
            return False
        return any(not mask(f"/proc/{pid}/task/{tid}/status", "SigBlk:") & bit
                   for tid in os.listdir(f"/proc/{pid}/task"))
    except (OSError, ValueError):
        return True


def _interrupt_command(pid: int, sig: int) -> bool:
    """strace's cleanup() of the command it started: `sig` sent to it (with
    SIGCONT first, when stopped, so that it acts on it). True when that
    ends it, to be waited for; False: it is detached, as strace detaches it."""
    import signal

    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
        if stat[stat.rfind(b")") + 2 : stat.rfind(b")") + 3] in (b"T", b"t"):
            os.kill(pid, signal.SIGCONT)
        os.kill(pid, sig)
    except OSError:  # gone (not reaped yet: it is our child)
        return True
    return _dies_of(pid, sig)


def _attach_messages(args: argparse.Namespace) -> bool:
    """strace's `Process N attached` for each thread -f follows: on its
    stderr only (not with -o, nor -q; with -c too)."""
    return bool(args.follow and not args.output and "attach" not in args.quiet_set and args.format == "strace"
                and not args.replay)


def _task_exits(args: argparse.Namespace) -> bool:
    """Whether the threads' exits come with the events: for the lines
    that tell them; under -c (no lines) for `Process N attached` of a
    thread killed before any call the trace carries, which strace
    announced at its clone; not in a replay of an older recording."""
    return not args.replay and (not args.summary or _attach_messages(args))


def _detach_messages(args: argparse.Namespace, pids: List[int]) -> str:
    """Where -b execve's `Process N detached` goes (Printer): in the trace
    on stderr, else apart on stderr; none with -q, nor for a command traced
    into a file, where strace is quiet."""
    to_file = bool(args.output or args.output_dir)
    if not args.detach_on_execve or "attach" in args.quiet_set or args.replay or (to_file and not pids):
        return ""
    return "inline" if not to_file and args.format == "strace" else "aside"


def _tell_detached(pids: Iterable[int], quiet_set: Sequence[str]) -> None:
    """strace's `Process N detached`, for the traced processes that run on
    untraced."""
    if "attach" in quiet_set:
        return
    for pid in pids:
        if _process_alive(pid):
            print(f"{PROG}: Process {pid} detached", file=sys.stderr)


def run_command(args: argparse.Namespace, printer_kw: Dict[str, Any], out: IO[str]) -> int:
    from ._launch import launch

    command = list(args.command)
    try:
        # Held before its execve; forked before the load when entry() could.
        child = _cli_start.take_command(command) if not (args.env_changes or args.launch_user) else None
        child = child or launch(command, env=_command_env(args.env_changes), user=args.launch_user)
    except FileNotFoundError:
        raise CliError(f"Can't stat '{command[0]}': No such file or directory") from None
    except PermissionError:
        raise CliError(f"Can't execute '{command[0]}': Permission denied") from None
    except OSError as err:
        raise CliError(f"exec {command[0]}: {err.strerror}") from None
    pid = child.pid
    import signal

    # While the command runs, Ctrl-C is its business (it gets the signal
    # too); systrace reports how it ended. strace's signals that end a run
    # (its interrupt()): with the trace on stderr, SIGHUP and SIGTERM end
    # the command too, as strace's cleanup() does, and the trace is written
    # to its end; with -o FILE they are ignored, as strace ignores them
    # then (the command runs on, traced to its end).
    interrupt = _Interrupt()
    interrupt.ignore(signal.SIGINT, signal.SIGQUIT)
    if args.output or args.output_dir:
        interrupt.ignore(signal.SIGHUP, signal.SIGTERM)
    else:
        interrupt.catch(signal.SIGHUP, signal.SIGTERM)
    detached = False
    try:
        try:
            traced = _untraced_if_counting(args)
            counting = _open_counting(args, [pid])
            session = _open_session(
                traced,
                [],
                args.follow,
                args.string_size,
                args.buffer_size,
                launched=pid,
                task_events=not args.summary,
                exits=_task_exits(args),
                filter=None if args.summary else args.filter,  # -c: the counting session's
                decode_fds=args.decode_fds or bool(args.trace_paths),
                status=args.status,
                data_size=data_size(args),
                clock=needs_clock(args),
                detach_on_execve=args.detach_on_execve,
            )
        except BaseException:
            child.cancel()  # it exits without exec
            raise
        printer = new_printer(out, main_pid=pid, threads=_threads_traced(args, [pid]), **printer_kw)
        printer.print_from(session)
        # Once the traced processes are there (the command is forked
        # before), so that they keep their own priority.
        _keep_up()
        try:
            child.start()
        except OSError as err:
            session.close()
            raise CliError(f"exec: {err.strerror}") from None
        status = 0
        with session:
            pidfd = _open_pidfd(pid)
            deadline: Optional[float] = None
            try:
                while True:
                    printer.feed(_poll_until_exit(session, pidfd))
                    printer.tell_detached()
                    done, status = os.waitpid(pid, os.WNOHANG)
                    if done:
                        break
                    if interrupt.sig is not None and deadline is None:
                        if not _interrupt_command(pid, interrupt.sig):
                            detached = True
                            break
                        deadline = time.monotonic() + KILLED_COMMAND_WAIT
                    if deadline is not None and time.monotonic() > deadline:
                        detached = True
                        break
            finally:
                if pidfd is not None:
                    os.close(pidfd)
            if args.follow:
                # strace -f waits for every traced process (those an
                # interrupt leaves are detached).
                while interrupt.sig is None and any(
                        _process_alive(p) for p in set(printer.live.values()) if p != pid):
                    printer.feed(session.poll(0.1))
                    printer.tell_detached()
        printer.drain(session)  # what is left once closed
        printer.finish(detached)
        printer.tell_detached()
        if counting is not None:
            counting.close()
            printer.report.uncounted += counting.uncounted
        return _end_command(args, out, printer, counting, pid, status, detached, interrupt)
    finally:
        # Not before the end is written: one that comes meanwhile is
        # died of once it is.
        interrupt.restore()


def _end_command(args: argparse.Namespace, out: IO[str], printer: Printer, counting: Optional[Session], pid: int,
                 status: int, detached: bool, interrupt: _Interrupt) -> int:
    """The end of run_command's trace: the detached processes, the -c
    table, the command's end; its exit code."""
    global _killed_by
    # -b execve let it go at an exec: strace waits for it, tells no end of
    # it, and exits with 0.
    let_go = pid in printer.detached
    if interrupt.sig is not None:
        _tell_detached([*([pid] if detached and not let_go else []), *sorted(set(printer.live.values()) - {pid})],
                       args.quiet_set)
    if counting is not None:
        out.write(_count_report(counting, args.histogram, args.sort_by, args.summary_columns,
                                args.wall_time))
    if let_go and interrupt.sig is None:
        out.flush()
        return 0
    if detached or let_go:
        out.flush()
    elif os.WIFSIGNALED(status):
        printer.status_line(pid, killed_line(status), main=True)
        out.flush()
        _killed_by = os.WTERMSIG(status)
    else:
        code = os.WEXITSTATUS(status)
        printer.status_line(pid, f"+++ exited with {code} +++", main=True)
        out.flush()
        if interrupt.sig is None:
            return code
    if interrupt.sig is not None:
        # strace dies of the signal that ended its run, whatever its
        # command's end.
        _killed_by = interrupt.sig
    assert _killed_by is not None
    return 128 + _killed_by


def _with_threads(pid: int, follow: bool) -> str:
    """strace's `attached with 3 threads`: under -f, the threads the
    process has at the attach, when it has more than one."""
    try:
        threads = len(os.listdir(f"/proc/{pid}/task")) if follow else 1
    except OSError:
        threads = 1
    return f" with {threads} threads" if threads > 1 else ""


def run_pids(args: argparse.Namespace, pids: List[int], printer_kw: Dict[str, Any], out: IO[str]) -> int:
    counting = _open_counting(args, pids)
    traced = _untraced_if_counting(args)
    session = _open_session(
        traced, pids, args.follow, args.string_size, args.buffer_size, task_events=not args.summary,
        exits=_task_exits(args),
        filter=None if args.summary else args.filter, decode_fds=args.decode_fds or bool(args.trace_paths),
        status=args.status,
        data_size=data_size(args),
        clock=needs_clock(args),
        detach_on_execve=args.detach_on_execve,
    )
    from ._watch import Watched

    watched = [Watched(pid) for pid in session.pids or ()]  # to tell a kill
    printer = new_printer(out, threads=_threads_traced(args, pids), **printer_kw)
    printer.roots.update(pids)
    for pid in session.pids or ():
        printer.native.adopt(pid)  # their threads now are attached, not followed
        printer.native.seed_fds(pid)  # -y: the fds they have at attach
    # Before any line, as strace's: the printer's writer writes to its own
    # dup of the fd, and starts with print_from.
    for pid in pids:
        if "attach" not in args.quiet_set:
            print(f"{PROG}: Process {pid} attached{_with_threads(pid, args.follow)}", file=sys.stderr, flush=True)
    printer.print_from(session)
    _keep_up()  # the processes were there before
    import signal

    # strace's interrupt(): Ctrl-C, SIGHUP, SIGQUIT and SIGTERM detach.
    interrupt = _Interrupt()
    interrupt.catch(signal.SIGINT, signal.SIGHUP, signal.SIGQUIT, signal.SIGTERM)
    try:
        with session:
            # Until they end, or -b execve let them go at an exec.
            while interrupt.sig is None and any(_process_alive(p) and p not in printer.detached for p in pids):
                printer.feed(session.poll(0.1))
                printer.tell_detached()
        return _end_pids(args, pids, out, session, printer, counting, watched, interrupt)
    finally:
        interrupt.restore()  # once the end is written


def _end_pids(args: argparse.Namespace, pids: List[int], out: IO[str], session: Session, printer: Printer,
              counting: Optional[Session], watched: List[Watched], interrupt: _Interrupt) -> int:
    """The end of run_pids' trace: how the processes ended or that they
    were detached, the -c table; its exit code."""
    global _killed_by
    interrupted = interrupt.sig is not None
    printer.drain(session)
    printer.finish(interrupted)
    printer.tell_detached()
    if counting is not None:
        counting.close()
        printer.report.uncounted += counting.uncounted
    gone = printer.detached  # by -b execve: no end of theirs is told
    for process in watched:
        # An exit was told at its exit_group; a signal leaves no call.
        status = None if process.pid in printer.exited or process.pid in gone else process.status()
        if status is not None and os.WIFSIGNALED(status):
            printer.status_line(process.pid, killed_line(status))
        process.close()
    if interrupted:
        # The processes attached, then those followed (-f).
        _tell_detached([*[p for p in pids if p not in gone], *sorted(set(printer.live.values()) - set(pids))],
                       args.quiet_set)
    if counting is not None:
        out.write(_count_report(counting, args.histogram, args.sort_by, args.summary_columns,
                                args.wall_time))
    out.flush()
    if interrupt.sig is None:
        return 0
    _killed_by = interrupt.sig  # strace dies of it, Ctrl-C's SIGINT too
    return 128 + interrupt.sig


def _warn_like_strace(args: argparse.Namespace, attached: bool, follow_option: int, sort_by_given: bool) -> None:
    """strace's warnings about options that do not go together, in its
    order (strace.c's init()); the run goes on."""
    def warn(text: str) -> None:
        print(f"{PROG}: {text}", file=sys.stderr)

    if args.seccomp_bpf:
        if attached:
            warn("--seccomp-bpf is not enabled for processes attached with -p")
        if not follow_option:
            warn("--seccomp-bpf cannot be used without -f/--follow-forks, disabling")
    if args.deprecated_follow:
        warn("deprecated option -F ignored" if follow_option else
             "option -F is deprecated, please use -f/--follow-forks instead")
    counting = args.summary or args.count_too
    if sort_by_given and not counting and not args.replay:
        warn("-S/--summary-sort-by has no effect without (-c/--summary-only or -C/--summary)")
    if args.summary:
        for given, option in ((args.syscall_numbers, "-n/--syscall-number"),
                              (args.relative_timestamps, "-r/--relative-timestamps"),
                              (args.timestamps, "-t/--absolute-timestamps"),
                              (args.durations, "-T/--syscall-times"),
                              (args.decode_fds, "-y/--decode-fds")):
            if given:
                warn(f"{option} has no effect with -c/--summary-only")
    if not args.output:
        if args.output_separately and not follow_option:
            warn("--output-separately has no effect without -o/--output")
        if args.append:
            warn("-A/--output-append-mode has no effect without -o/--output")
    if args.zflags > 1:
        warn("Only the last of -z/--successful-only/-Z/--failed-only options will take effect. "
             "See status qualifier for more complex filters.")
    # strace's check_seccomp_filter: a filter that lets every call
    # through is not installed.
    if args.seccomp_bpf and follow_option and (args.nrs is None or args.nrs == SyscallSet.from_strace("all")):
        warn("Seccomp filter is requested but there are no syscalls to filter.  "
             "See -e trace to filter syscalls.")


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["top"]:  # `systrace -- top` traces the top command
        from . import _top

        return _top.main(argv[1:])
    _cli_start.start_loading(argv, CLI_BUFFER_SIZE, INTERNAL)
    # shtab imports some 90 ms and 4 MB of modules (hashlib, logging,
    # importlib.metadata): only for the runs that can show or use it.
    completion = any(a.startswith("--print-completion") or a in ("-h", "--help") for a in argv)
    parser = build_parser(completion)
    found = _cli_start.scan(argv)
    if found is not None:
        argv = [*(f"{a}={OPTIONAL_VALUES[a]}" if a in OPTIONAL_VALUES else a for a in argv[:found.options]),
                *argv[found.options:]]
    # Parsed again with strace's refused options only when the plain parser
    # does not know one (-fv: an error of the cluster's, not an unknown).
    import argparse

    parser.exit_on_error = False
    try:
        try:
            args, unknown = parser.parse_known_args(argv)
        except argparse.ArgumentError:
            unknown = argv
        if unknown:
            parser = build_parser(completion, refusals=True)
            args = parser.parse_args(argv)
    except UsageError as err:
        return usage_error(err)
    if args.unsupported:
        return usage_error(UsageError(args.unsupported))
    follow_option = args.follow  # -f's, without -F's (strace's warnings tell them apart)
    if args.deprecated_follow:
        args.follow = max(args.follow, 1)
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
        # strace -ff -o PREFIX: PREFIX.TID per thread, lines without a pid;
        # -ff without -o is -f.
        args.per_thread = bool(args.output) and (args.follow > 1 or args.output_separately)
        if args.output and args.output[0] in "|!":
            if args.per_thread:
                raise UsageError("piping the output and -ff/--output-separately are mutually exclusive")
            if args.format == "parquet":
                raise UsageError("--format parquet writes a file: -o |COMMAND pipes text")
        if args.per_thread:
            if args.summary or args.count_too:
                raise UsageError("(-c/--summary-only or -C/--summary) and -ff/--output-separately "
                                 "are mutually exclusive")
            if args.format != "strace" or args.record or args.output_dir:
                raise UsageError("-ff/--output-separately writes strace's text, a file per thread: "
                                 "not with --format, --record or --output-dir")
        args.follow = bool(args.follow)
        args.string_size = _uint_option("-s", args.string_size)
        args.column = _uint_option("-a", args.column)
        args.overhead = parse_overhead(args.overhead) if args.overhead is not None else 0
        if args.detach_on not in (None, "execve"):
            # strace's error, without a usage hint.
            print(f"{PROG}: Syscall '{args.detach_on}' for -b isn't supported", file=sys.stderr)
            return 1
        args.detach_on_execve = args.detach_on == "execve"
        if args.summary and args.count_too:
            raise UsageError("-c/--summary-only and -C/--summary are mutually exclusive")
        if args.count_too and args.format != "strace":
            raise UsageError("-C prints the calls, then a table: --format does not apply")
        if args.count_too and args.replay:
            raise UsageError("--replay prints the calls (no -C) or the table (-c)")
        if args.histogram and not (args.summary or args.count_too):
            raise UsageError("--histogram is -c's: add -c")
        if args.wall_time and not (args.summary or args.count_too):
            raise UsageError("-w/--summary-wall-clock must be given with (-c/--summary-only or -C/--summary)")
        if args.summary_columns is not None and not (args.summary or args.count_too or args.replay):
            raise UsageError("-U/--summary-columns must be given with (-c/--summary-only or -C/--summary)")
        sort_by_given = args.sort_by is not None
        args.sort_by = "time" if args.sort_by is None else args.sort_by
        try:  # -S's names are the core's: it says what is wrong with one
            _native.format_summary([], sort_by=args.sort_by, columns=args.summary_columns)
        except ValueError as err:
            raise UsageError(str(err)) from None
        if args.trace_paths and (args.summary or args.count_too):
            raise UsageError("-P is decided on the calls as they are printed; -c and -C count in the kernel")
        if args.trace_paths and args.format == "kernel":
            raise UsageError("-P shows calls: --format kernel prints events")
        if (args.env_changes or args.user) and not command:
            raise UsageError("-E and -u set up the command systrace runs: they do not apply to -p")
        args.launch_user = _launch_user(args.user) if args.user else None
        if args.summary and (args.record or args.output_dir) and not args.replay:
            raise UsageError("-c counts in the kernel, without events: --record and --output-dir do not apply")
        if args.summary and args.format != "strace":
            raise UsageError("-c prints a table: --format does not apply")
        args.timestamp_digits = None  # as -t's count says
        if args.absolute_timestamps is not None:
            args.timestamps, args.timestamp_digits = parse_absolute_timestamps(args.absolute_timestamps)
        args.relative_digits = args.duration_digits = PRECISIONS["us"]
        if args.relative_precision is not None:
            args.relative_timestamps = True
            args.relative_digits = parse_precision("--relative-timestamps", args.relative_precision)
        if args.syscall_times is not None:
            args.durations = True
            args.duration_digits = parse_precision("--syscall-times", args.syscall_times)
        args.hex_strings = min(args.hex_strings, 2)  # -xxx is -xx, as strace's
        if args.strings_in_hex is not None:
            form = parse_strings_in_hex(args.strings_in_hex)
            # non-ascii-chars is a style of its own, not more of -x.
            args.hex_strings = form if form == 3 else max(args.hex_strings, form)
        for expr in args.exprs:
            qualifier, _, value = expr.partition("=")
            if qualifier in ("decode-fds", "decode-fd", "decode_fds"):
                args.decode_fds_set = value
            elif qualifier in ("decode-pids", "decode-pid", "decode_pids"):
                args.decode_pids_set = value
        args.unabbreviated = parse_abbrev_set([e for e in args.exprs if _qualifier(e) in ABBREV_QUALIFIERS])
        args.not_verbose = parse_verbose_set([e for e in args.exprs if _qualifier(e) in VERBOSE_QUALIFIERS])
        # What -v shows of them is read only for this (getdents64's records
        # and execve's environment, not their counts); _cli_start's scan has
        # set it already before the load.
        _native._capture_unabbreviated(args.unabbreviated)
        args.exprs = [e for e in args.exprs if _qualifier(e) not in NOOP_QUALIFIERS]
        if args.decode_fds and args.decode_fds_set is not None:
            raise UsageError("-y and --decode-fds cannot be provided simultaneously", hint=False)
        if args.decode_fds_set is not None:
            args.decode_fds = parse_decode_fds(args.decode_fds_set)
        else:
            args.decode_fds = DECODE_FD_ALL if args.decode_fds > 1 else args.decode_fds
        if args.decode_pids_set is not None:
            args.decode_pids = args.decode_pids or parse_decode_pids(args.decode_pids_set)
        args.status = parse_status([e for e in args.exprs if _qualifier(e) == "status"])
        args.signals = parse_signals([e for e in args.exprs if _qualifier(e) in ("signal", "signals", "s")])
        args.quiet_set = parse_quiet([e for e in args.exprs if _qualifier(e) in QUIET_QUALIFIERS], args.quiet)
        args.trace_paths = _path_set(args.trace_paths, "path-resolution" in args.quiet_set)
        args.raw = parse_raw_set([e for e in args.exprs if _qualifier(e) in RAW_QUALIFIERS])
        args.dump = {"read": None, "write": None}
        for expr in args.exprs:
            if _qualifier(expr) in DUMP_QUALIFIERS:
                args.dump[DUMP_QUALIFIERS[_qualifier(expr)]] = expr.partition("=")[2]  # the last one
        if any(args.dump.values()):
            if args.format != "strace":
                raise UsageError("-e read= and -e write= dump data after strace's lines: not with --format")
            try:  # the sets parsed where they are used
                _native.Printer(dump_read=args.dump["read"], dump_write=args.dump["write"])
            except ValueError as err:
                raise UsageError(str(err)) from None
        args.nrs = parse_trace_set(
            [e for e in args.exprs
             if _qualifier(e) not in ("status", "signal", "signals", "s", *RAW_QUALIFIERS, *QUIET_QUALIFIERS,
                                      *DUMP_QUALIFIERS)]
        )
        if args.nrs is not None and args.nrs.enter != args.nrs.exit and args.format != "kernel":
            raise UsageError(
                "-e trace=: an event name (sys_enter_NAME, sys_exit_NAME) selects one phase, "
                "which only --format kernel prints; name the syscall instead"
            )
        _warn_like_strace(args, bool(pids), follow_option, sort_by_given)
    except UsageError as err:
        return usage_error(err)
    if args.string_size > MAX_CAPTURE:
        print(
            f"{PROG}: -s {args.string_size}: at most {MAX_CAPTURE} bytes of each string or "
            'buffer are captured; longer ones are shown cut, with "..."',
            file=sys.stderr,
        )
    out: IO[str]
    piped = None
    if args.output and args.output[0] in "|!" and args.format != "parquet":
        # strace's -o |COMMAND (or !COMMAND): the trace is COMMAND's input,
        # through the shell.
        import subprocess

        try:
            piped = subprocess.Popen(["/bin/sh", "-c", args.output[1:]], stdin=subprocess.PIPE,
                                     text=True, encoding="utf-8", errors="surrogateescape")
        except OSError as err:
            print(f"{PROG}: can't run {args.output[1:]}: {err.strerror}", file=sys.stderr)
            return 1
        assert piped.stdin is not None
        out = piped.stdin
    elif args.output and args.format != "parquet" and not args.per_thread:
        try:
            out = open(args.output, "a" if args.append else "w", encoding="utf-8", errors="surrogateescape")
        except OSError as err:
            print(f"{PROG}: can't open {args.output}: {err.strerror}", file=sys.stderr)
            return 1
    else:
        out = sys.stderr
    report = RunReport()
    report.output_piped = piped is not None
    printer_kw = dict(
        fmt=args.format,
        selected=args.nrs,
        summary=args.summary,
        summary_overhead_ns=args.overhead,
        detach_on_execve=args.detach_on_execve,
        detach_messages=_detach_messages(args, pids),
        durations=args.durations,
        timestamps=args.timestamps,
        relative_timestamps=args.relative_timestamps,
        precision=(args.timestamp_digits, args.relative_digits, args.duration_digits),
        dump_read=args.dump["read"],
        dump_write=args.dump["write"],
        string_size=args.string_size,
        to_file=bool(args.output),
        per_thread=args.output if args.per_thread else None,
        append=args.append,
        multi=args.follow or len(pids) > 1,
        hex_strings=args.hex_strings,
        column=args.column,
        syscall_numbers=args.syscall_numbers,
        raw=args.raw,
        unabbreviated=args.unabbreviated,
        not_verbose=args.not_verbose,
        trace_paths=args.trace_paths,
        decode_fds=args.decode_fds,
        decode_pids=args.decode_pids,
        status=args.status,
        quiet=2 if "exit" in args.quiet_set else 0,
        report=report,
        signals=args.signals,
        task_exits=_task_exits(args),
        thread_exits=args.follow,
        attach_messages=_attach_messages(args),
        superseded=not {"thread-execve", "superseded"} & set(args.quiet_set),
    )
    try:
        if args.replay:
            from ._record_cli import replay

            return replay(args, printer_kw, out)
        if args.format == "parquet" or args.record or args.output_dir:
            from ._record_cli import record_target

            printer_kw["record"] = record_target(args)
        import warnings

        with warnings.catch_warnings():
            # Lost events are told once, below, as strace users read them.
            warnings.simplefilter("ignore", LostEventsWarning)
            if command:
                code = run_command(args, printer_kw, out)
            else:
                code = run_pids(args, pids, printer_kw, out)
    except CliError as err:
        print(f"{PROG}: {err}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        return 1
    except KeyboardInterrupt:  # before tracing began
        return 130
    finally:
        if out is not sys.stderr:
            try:
                out.close()
            except OSError as err:  # its last flush
                report.write_error = report.write_error or err
        if piped is not None:
            piped.wait()  # its last output before the command's exit status, as strace
    if report.write_error is not None:
        failed = report.write_error
        # The errno's text alone: one the native writer raised carries "(os error N)".
        why = os.strerror(failed.errno) if failed.errno else failed
        print(f"{PROG}: writing {args.output or 'the trace'} failed: {why}; "
              "nothing after that was written", file=sys.stderr)
    if report.unknown_fds:
        shows = ("they show as the number alone" if args.decode_fds else
                 "-P could not tell whether those calls touch its paths, and did not show them")
        print(
            f"{PROG}: {'-y' if args.decode_fds else '-P'}: {report.unknown_fds} fds or paths could not be "
            "resolved (opened before tracing by a process gone since, or relative to an unknown "
            f"directory): {shows}",
            file=sys.stderr,
        )
    if report.unread_sockets:
        print(
            f"{PROG}: -yy: the addresses of {report.unread_sockets} sockets could not be read (their fd closed, "
            "or their process ended, before their calls were printed): they show as PROTO:[INODE]",
            file=sys.stderr,
        )
    if report.lost:
        print(
            f"{PROG}: {report.lost} events lost (ring buffer full, or systrace fell behind; "
            "a larger --buffer-size holds more)",
            file=sys.stderr,
        )
    if report.untraced_children:
        print(
            f"{PROG}: could not follow {report.untraced_children} child processes (too many "
            "processes traced at once; SYSTRACE_MAX_PROCESSES raises the limit): their calls are "
            "not shown",
            file=sys.stderr,
        )
    if report.uncounted:
        print(
            f"{PROG}: {report.uncounted} calls could not be counted (the kernel's counting maps had "
            "no entry for them: too many different processes and syscalls, or too many new ones "
            "at once; SYSTRACE_MAX_COUNTS raises their size): the table leaves them out",
            file=sys.stderr,
        )
    return code


def entry() -> int:
    """The `systrace` command's entry point: main() with one malloc arena.
    Its exit does not wait for the kernel to close the per-syscall hooks (a
    grace period each: 0.8 s for `-e trace=openat`): the package's exit
    handler leaves them to a child that closes them after (see
    `systrace/__init__.py`)."""
    # One malloc arena for all our threads (the BPF load, the consumer, the
    # writer): each would touch some 0.5 MiB of its own (issue 15).
    _native._limit_malloc_arenas(1)
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    return code


def exit_like_the_command(code: int) -> int:
    """strace's end for a command killed by a signal: its tracer dies of
    that signal too, so that whoever waits sees the status it would see
    untraced (a shell's 143 either way; a `subprocess` returncode -15, not
    143). Without a core file of ours (RLIMIT_CORE 0, as strace). Returns
    `code` (128 + the signal) for the exit that follows when the signal is
    not fatal, or when no command was killed."""
    sig = _killed_by
    if sig is None:
        return code
    import contextlib
    import resource
    import signal

    sys.stdout.flush()
    sys.stderr.flush()
    # What the atexit handler would do: our per-syscall hooks closed by a
    # child, not in our death's own exit (a grace period each).
    _native._close_hooks_after_exit()
    with contextlib.suppress(OSError, ValueError):
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if sig != signal.SIGKILL:  # whose disposition cannot be set
        with contextlib.suppress(OSError, ValueError):
            signal.signal(sig, signal.SIG_DFL)
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {sig})
    signal.raise_signal(sig)
    return code


if __name__ == "__main__":
    sys.exit(exit_like_the_command(entry()))
