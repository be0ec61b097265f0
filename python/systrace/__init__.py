"""systrace: the Linux kernel's syscall trace events, from Python.

    import os, systrace

    r, w = os.pipe()
    with systrace.enable("read", "write") as session:
        os.write(w, b"hello")
        os.read(r, 100)
    for ev in session:
        print(ev)      # sys_write(fd: 4, buf: 0x7f..., count: 5)

BPF programs on the raw_syscalls tracepoints record the syscalls you enable;
a Rust core decodes them. Tracing needs root, or CAP_BPF with CAP_PERFMON.
"""
from __future__ import annotations

# Not `typing` (some 12 ms of imports, re and enum among them): the command
# starts its BPF load right after this package, and everything imported
# before that is on its path to attach (issue 15). mypy reads the constant.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, List

from ._native import (
    fd_syscalls,
    ARCH,
    DEFAULT_BUFFER_SIZE,
    DEFAULT_STRING_SIZE,
    MAX_CAPTURE,
    VERSION,
    Call,
    Event,
    EventBatch,
    LostEventsWarning,
    Pairer,
    SessionClosedError,
    SyscallCount,
    SyscallSet,
    UnsupportedKernelError,
    preload,
    syscall_name,
    syscall_names,
    syscall_nr,
)
# Eager, and without typing: a lazy import of it raced forks in other
# threads (the child then waited forever on the import's lock).
from ._session import Session, calls, count, enable, iter_calls

# At exit, the kernel would close what is left of our per-syscall hooks
# (sessions' hooks linger a moment after their close) in the exiting
# process, one grace period each, before it can be reaped: a script with 80
# hooks was reaped 5.8-6.5 s after its last line. A child closes them after
# us instead.
import atexit as _atexit

from . import _native

_atexit.register(_native._close_hooks_after_exit)

# The rest loads on first use (PEP 562's module __getattr__): `import
# systrace` costs the extension and the session module only, not typing,
# dataclasses, subprocess, json or the exporters (issue 15: start-up).
_LAZY = {
    "Source": "_session",
    "EventClass": "_event_class",
    "Field": "_event_class",
    "SyscallMetadata": "_event_class",
    "event_class": "_event_class",
    "event_classes": "_event_class",
    "metadata": "_event_class",
    "metadata_table": "_event_class",
    "Recording": "_record",
    "TraceFile": "_record",
    "hive_path": "_record",
    "load": "_record",
    "SockAddr": "_net",
    "sockaddr": "_net",
    "CompletedSession": "_launch",
    "run": "_launch",
    "aiter_batches": "_aio",
    "aiter_events": "_aio",
    "calls_to_arrow": "_export",
    "calls_to_pandas": "_export",
    "calls_to_polars": "_export",
    "event_to_dict": "_export",
    "json_line": "_export",
    "to_arrow": "_export",
    "to_chrome_trace": "_export",
    "to_jsonl": "_export",
    "to_pandas": "_export",
    "to_polars": "_export",
}

if TYPE_CHECKING:
    from ._session import Source
    from ._aio import aiter_batches, aiter_events
    from ._event_class import EventClass, Field, SyscallMetadata, event_class, event_classes, metadata, metadata_table
    from ._export import (
        calls_to_arrow,
        calls_to_pandas,
        calls_to_polars,
        event_to_dict,
        json_line,
        to_arrow,
        to_chrome_trace,
        to_jsonl,
        to_pandas,
        to_polars,
    )
    from ._launch import CompletedSession, run
    from ._net import SockAddr, sockaddr
    from ._record import Recording, TraceFile, hive_path, load


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'systrace' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # once: later lookups do not come here
    return value


def __dir__() -> List[str]:
    return sorted(set(globals()) | set(_LAZY))


#: The package's version (Cargo's, which is the wheel's too).
__version__ = VERSION

#: The syscalls that change what a process's fds and working directory
#: name: trace them too (with strings=True) for exact Call.fd_paths.
FD_SYSCALLS = tuple(fd_syscalls())

__all__ = [
    "ARCH",
    "Call",
    "CompletedSession",
    "DEFAULT_BUFFER_SIZE",
    "DEFAULT_STRING_SIZE",
    "Event",
    "EventBatch",
    "EventClass",
    "FD_SYSCALLS",
    "Field",
    "LostEventsWarning",
    "MAX_CAPTURE",
    "Pairer",
    "Recording",
    "Session",
    "SessionClosedError",
    "SyscallCount",
    "SockAddr",
    "Source",
    "SyscallMetadata",
    "SyscallSet",
    "TraceFile",
    "UnsupportedKernelError",
    "__version__",
    "aiter_batches",
    "aiter_events",
    "calls",
    "count",
    "calls_to_arrow",
    "calls_to_pandas",
    "calls_to_polars",
    "enable",
    "event_class",
    "event_classes",
    "event_to_dict",
    "hive_path",
    "iter_calls",
    "json_line",
    "load",
    "metadata",
    "metadata_table",
    "preload",
    "run",
    "sockaddr",
    "syscall_name",
    "syscall_names",
    "syscall_nr",
    "to_arrow",
    "to_chrome_trace",
    "to_jsonl",
    "to_pandas",
    "to_polars",
]
