"""The command's entry point and first step: its BPF programs start loading on a thread of
their own, before argparse is even imported, so that the kernel's verifier
(most of the start-up, issue 15) runs while the command imports the rest
and parses its arguments, instead of after.

The options are scanned here without argparse: a guess of what the first
session enables, which only decides what is loaded first (which kind of
hooks, the programs of task events, the ring buffer's size). A wrong guess
costs a second load, never an event; options the scan does not know leave
the load to the session, as before. The load holds the tracer's lock, so
the session waits for it, and so does the clone of the command (no fd of
libbpf's can leak into it).
"""
from __future__ import annotations

import os
import sys

from . import _native

# Nothing more is imported before the load starts: `typing` alone is some
# 12 ms, on the path to attach (issue 15); mypy reads the constant.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import List, Optional, Sequence, Tuple

# Syscalls traced whatever -e says, and shown only if -e asks: the execve
# that starts a command, and the exits that end threads and processes.
INTERNAL = ("execve", "execveat", "exit", "exit_group")

# Smaller than the library's default: the command drains as it goes, and
# all of the ring's pages count in its RSS from the start (the kernel
# populates them at mmap; src/kernel/ring.rs maps the data once). Two `dd
# bs=1 count=5000000` under -f (10x tests/test_cli_output.py's, 20M calls):
# 11096 events lost with 512 KiB on the shared 2-vCPU machine, and 3475 with
# 1 MiB on a quiet one (CI), once the programs woke the consumer once per
# round below an eighth of the ring (bpf/state.bpf.h, behind_bytes); none
# with 2 MiB.
CLI_BUFFER_SIZE = 2 << 20

# The options that take a value (argparse's in cli.build_parser).
SHORT_VALUE = "eposaSUEuPbIOX"
# strace's long forms of the short ones (cli.build_parser), by letter.
LONG_SHORT = {"--attach": "p", "--output": "o", "--trace-path": "P", "--columns": "a", "--summary-sort-by": "S",
              "--summary-columns": "U", "--env": "E", "--user": "u", "--string-limit": "s"}
# ... and of -e QUALIFIER=SET.
LONG_EXPR = ("--trace", "--signal", "--status", "--raw", "--read", "--write", "--abbrev", "--verbose",
             "--inject", "--fault", "--kvm")
LONG_VALUE = ("--filter", "--buffer-size", "--format", "--record", "--output-dir", "--replay", "--decode-pids",
              "--detach-on", "--interruptible", "--summary-syscall-overhead", "--const-print-style",
              *LONG_SHORT,
              *LONG_EXPR)
# strace's long forms of flags the scan cares for.
LONG_FLAG = {"--summary-only": "c", "--summary": "C", "--follow-forks": "f", "--syscall-times": "T",
             "--relative-timestamps": "r", "--absolute-timestamps": "t", "--summary-wall-clock": "w",
             "--successful-only": "z", "--failed-only": "Z", "--no-abbrev": "v"}
# Runs that print and exit, or trace nothing.
NO_LOAD = ("-h", "--help", "--version", "--replay", "--print-completion")


class _Scan:
    def __init__(self) -> None:
        self.exprs: List[str] = []
        self.summary = self.follow = self.decode_fds = self.target = False
        # The command to run, as argparse will find it (empty: -p, or none).
        self.command: List[str] = []
        # How many arguments come before it (and its `--`): the options.
        self.options = 0
        # Event filters in the kernel: --filter, -e status=, -z, -Z.
        self.filters = False
        self.buffer_size: Optional[str] = None
        # -E or -u: the command's process is not the one a plain fork makes.
        self.launch_options = False
        # An option that shows or keeps a time (cli.needs_clock).
        self.times = False
        # -v, --no-abbrev, -e abbrev=: the last set abbreviated ("none":
        # -v), whose complement's -v form is read (getdents64's entries,
        # execve's environment); None: all are abbreviated.
        self.abbreviated: Optional[str] = None

    @property
    def clock(self) -> bool:
        return self.times or self.summary or self.filters

    def value(self, option: str, value: str) -> None:
        if option == "-e":
            self.exprs.append(value)
            self.filters = self.filters or value.startswith("status=")
            qualifier, eq, abbreviated = value.partition("=")
            if eq and qualifier in ("abbrev", "a"):
                self.abbreviated = abbreviated
        elif option == "--filter":
            self.filters = True
        elif option == "-p":
            self.target = True
        elif option == "--buffer-size":
            self.buffer_size = value
        elif option in ("-E", "-u"):
            self.launch_options = True
        elif option in ("--record", "--output-dir") or (option == "--format" and value != "strace"):
            self.times = True

    def flag(self, option: str) -> None:
        if option == "c":
            self.summary = True
        elif option in "fF":  # -F: strace's deprecated -f
            self.follow = True
        elif option == "y":
            self.decode_fds = True
        elif option in "zZ":
            self.filters = True
        elif option in "trTCw":
            self.times = True
        elif option == "v":
            self.abbreviated = "none"


def scan(argv: Sequence[str]) -> Optional[_Scan]:
    """What the command line asks for, as far as the load cares; None when
    it runs nothing to trace (--help, --replay) or is not understood."""
    found = _Scan()
    args = iter(argv)
    for arg in args:
        if arg == "--" or not arg.startswith("-") or arg == "-":
            found.command = [*([] if arg == "--" else [arg]), *args]
            found.options = len(argv) - len(found.command) - (arg == "--")
            found.target = found.target or bool(found.command)
            break
        name, eq, value = arg.partition("=")
        if name in NO_LOAD or arg.startswith("--print-completion"):
            return None
        if arg.startswith("--"):
            if name == "--decode-fds":
                found.decode_fds = True
            elif name in LONG_VALUE:
                given = value if eq else next(args, "")
                if name in LONG_SHORT:
                    found.value("-" + LONG_SHORT[name], given)
                elif name in LONG_EXPR:
                    found.value("-e", f"{name[2:]}={given}")
                else:
                    found.value(name, given)
            elif name in LONG_FLAG:
                found.flag(LONG_FLAG[name])
            elif not name.lstrip("-").replace("-", "").isalpha():
                return None
            continue
        for i, letter in enumerate(arg[1:], 1):
            if letter == "h":
                return None
            if letter in SHORT_VALUE:
                found.value("-" + letter, arg[i + 1 :] or next(args, ""))
                break
            found.flag(letter)
    if not found.command:
        found.options = len(argv)
    return found if found.target else None


# The command line whose load was started (once per process).
_started: Optional[List[str]] = None


def start_loading(argv: Sequence[str], buffer_size: int, internal: Sequence[str]) -> None:
    """Starts the load the command's first session will want; any doubt
    leaves it to the session (which then raises what goes wrong)."""
    global _started
    if _started == list(argv):
        return  # entry() started it
    _started = list(argv)
    found = scan(argv)
    if found is None:
        return
    try:
        if found.abbreviated is not None:
            # As cli.parse_abbrev_set (which sets it again, with the parser's
            # errors): the syscalls not in the set.
            everything = _native.SyscallSet.from_strace("all").nrs
            _native._capture_unabbreviated(sorted(everything - _native.SyscallSet.from_strace(found.abbreviated).nrs))
        size = int(found.buffer_size) if found.buffer_size is not None else buffer_size
        trace = [e.partition("=")[2] if "=" in e else e for e in found.exprs
                 if e.partition("=")[0] in ("trace", "t") or "=" not in e]
        nrs = _native.SyscallSet.from_strace(trace[-1]) if trace else None
        # What the command traces whatever -e says (cli._open_session).
        names = set(_native.syscall_names())
        wanted = [n for n in (*internal, *(_native.fd_syscalls() if found.decode_fds else ()))
                  if n in names]
        if found.summary:
            # -c: the counting session is the first one; it follows forks
            # with -f and wants no signals or exits. Only the session that
            # follows the processes (execve, the exits, -y's fd calls)
            # captures.
            _native._start_loading(size, nrs, found.follow, True, found.filters,
                                   _native.SyscallSet(*wanted), count_by_root=True)
            return
        if nrs is not None:
            nrs = _native.SyscallSet(nrs, *wanted)
        # Only what the options use: the verifier skips the rest (a
        # session that wants more loads again before it opens).
        _native._start_loading(size, nrs, True, False, found.filters, None, found.clock)
    except (ValueError, OSError):
        return  # the session says what is wrong with it


# The command's process, made by entry() before the load (its argv, and
# the held process), until cli.run_command takes it.
_held: Optional[Tuple[List[str], _native.Launch]] = None


def hold_command(argv: Sequence[str]) -> None:
    """Makes the process of the command the command line runs, held before
    its execve, ahead of the load: it must not be made while libbpf has
    fds open that are not close-on-exec, and after the load it was on the
    way to the command's start (issue 15: about 2 ms of clone, the child's
    set-up and the wait for it). The child shares this process's memory
    until its exec (src/launch.rs), so what the command writes meanwhile
    (argparse, the session) costs no copy. Any doubt leaves it to
    cli.run_command, which then says what is wrong."""
    global _held
    found = scan(argv)
    if found is None or not found.command or found.launch_options:
        return
    from ._exec import launch

    try:
        _held = (found.command, launch(found.command))
    except (ValueError, OSError):
        return


def take_command(argv: Sequence[str]) -> Optional[_native.Launch]:
    """The process hold_command made for `argv`, if that is the command
    (a scan that guessed wrong: it exits without its exec)."""
    global _held
    if _held is None or _held[0] != list(argv):
        release_command()
        return None
    held, _held = _held[1], None
    return held


def release_command() -> None:
    """Ends a held process that does not run (a usage error, say): it
    exits without its exec."""
    global _held
    if _held is not None:
        _held[1].cancel()
        _held = None


def _fill_closed_stdio() -> None:
    """A standard fd the caller closed (`2>&-`), which Python leaves as a
    None stream: /dev/null in its place, as strace does, so the trace and
    the messages go nowhere (rather than failing, or the messages to
    stdout) and no fd opened later (a BPF map's) takes its number. Close
    on exec: the command starts with it closed, as it would untraced."""
    for fd, name in enumerate(("stdin", "stdout", "stderr")):
        if getattr(sys, name) is None:
            # The lowest free fd: `fd`, since the ones below it are open now.
            null = os.open(os.devnull, os.O_RDWR | os.O_CLOEXEC)
            setattr(sys, name, open(null, "r" if fd == 0 else "w", encoding="utf-8"))


# What Python's locale coercion (PEP 538) sets LC_CTYPE to.
COERCED_LC_CTYPE = (b"C.UTF-8", b"C.utf8", b"UTF-8")


def _undo_locale_coercion() -> None:
    """The environment systrace was started with, for the command it runs
    (and -o |COMMAND's shell): a Python started in the C or POSIX locale
    (LC_ALL unset; LC_CTYPE, else LANG, unset, C or POSIX) sets
    LC_CTYPE=C.UTF-8 in its own environment before any of our code runs
    (PEP 538), which the command would inherit, where untraced it has none
    (or the caller's LC_CTYPE=POSIX). /proc/self/environ is the
    environment as exec'd: LC_CTYPE is put back as it was there. Python's
    own locale, and so its stdio's encoding, was set at its start and stays
    as it is. systrace.run() is left alone: a program of the library's
    passes its coerced environment on as its subprocesses get it."""
    now = os.environb.get(b"LC_CTYPE")
    if now not in COERCED_LC_CTYPE:
        return
    try:
        with open("/proc/self/environ", "rb") as f:
            exec_env = f.read().split(b"\0")
    except OSError:
        return
    # The C library's getenv() takes the first one, as Python did.
    given = next((e[len(b"LC_CTYPE="):] for e in exec_env if e.startswith(b"LC_CTYPE=")), None)
    if given == now:
        return
    if given is None:
        del os.environb[b"LC_CTYPE"]  # unsetenv(): the launcher reads the C library's environ
    else:
        os.environb[b"LC_CTYPE"] = given  # in its place, as the coercion's setenv() left it


def entry() -> int:
    """The `systrace` command: its load starts here, right after the
    extension is imported, and the command itself (cli.py, argparse, the
    launcher) is imported while the kernel verifies the programs."""
    # One malloc arena for all our threads (the BPF load, the consumer, the
    # writer): each would touch some 0.5 MiB of its own (issue 15).
    _native._limit_malloc_arenas(1)
    _undo_locale_coercion()  # before the command's process is made
    _fill_closed_stdio()
    argv = sys.argv[1:]
    if argv[:1] != ["top"]:  # `systrace top` is another command
        hold_command(argv)
        start_loading(argv, CLI_BUFFER_SIZE, INTERNAL)
    from . import cli

    try:
        code = cli.entry()
    finally:
        release_command()
    return cli.exit_like_the_command(code)
