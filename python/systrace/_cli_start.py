"""The command's first step: its BPF programs start loading on a thread of
their own, before argparse is even imported, so that the kernel's verifier
(most of the start-up, issue 15) runs while the command imports the rest
and parses its arguments, instead of after.

The options are scanned here without argparse: a guess of what the first
session enables, which only decides what is loaded first (which kind of
hooks, the programs of task events, the ring buffer's size). A wrong guess
costs a second load, never an event; options the scan does not know leave
the load to the session, as before. The load holds the tracer's lock, so
the session waits for it, and so does the fork of the command (no fd of
libbpf's can leak into it).
"""
from __future__ import annotations

from . import _native

from typing import List, Optional, Sequence

# The options that take a value (argparse's in cli.build_parser).
SHORT_VALUE = "epos"
LONG_VALUE = ("--filter", "--buffer-size", "--format", "--record", "--output-dir", "--replay")
# Runs that print and exit, or trace nothing.
NO_LOAD = ("-h", "--help", "--version", "--replay", "--print-completion")


class _Scan:
    def __init__(self) -> None:
        self.exprs: List[str] = []
        self.summary = self.follow = self.decode_fds = self.target = False
        self.buffer_size: Optional[str] = None

    def value(self, option: str, value: str) -> None:
        if option == "-e":
            self.exprs.append(value)
        elif option == "-p":
            self.target = True
        elif option == "--buffer-size":
            self.buffer_size = value

    def flag(self, option: str) -> None:
        if option == "c":
            self.summary = True
        elif option == "f":
            self.follow = True
        elif option == "y":
            self.decode_fds = True


def scan(argv: Sequence[str]) -> Optional[_Scan]:
    """What the command line asks for, as far as the load cares; None when
    it runs nothing to trace (--help, --replay) or is not understood."""
    found = _Scan()
    args = iter(argv)
    for arg in args:
        if arg == "--":
            found.target = found.target or next(args, None) is not None
            break
        if not arg.startswith("-") or arg == "-":
            found.target = True  # the command
            break
        name, eq, value = arg.partition("=")
        if name in NO_LOAD or arg.startswith("--print-completion"):
            return None
        if arg.startswith("--"):
            if name == "--decode-fds":
                found.decode_fds = True
            elif name in LONG_VALUE:
                found.value(name, value if eq else next(args, ""))
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
    return found if found.target else None


def start_loading(argv: Sequence[str], buffer_size: int, internal: Sequence[str]) -> None:
    """Starts the load the command's first session will want; any doubt
    leaves it to the session (which then raises what goes wrong)."""
    found = scan(argv)
    if found is None:
        return
    try:
        size = int(found.buffer_size) if found.buffer_size is not None else buffer_size
        trace = [e.partition("=")[2] if "=" in e else e for e in found.exprs
                 if e.partition("=")[0] in ("trace", "t") or "=" not in e]
        nrs = _native.SyscallSet.from_strace(trace[-1]) if trace else None
        if found.summary:
            # -c: the counting session is the first one; it follows forks
            # with -f and wants no signals or exits.
            _native._start_loading(size, nrs, found.follow)
            return
        if nrs is not None:
            wanted = [*internal, *(_native.fd_syscalls() if found.decode_fds else ())]
            names = set(_native.syscall_names())
            nrs = _native.SyscallSet(nrs, *(n for n in wanted if n in names))
        _native._start_loading(size, nrs, True)
    except (ValueError, OSError):
        return  # the session says what is wrong with it
