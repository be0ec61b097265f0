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
from ._event_class import EventClass, Field, SyscallMetadata, event_class, event_classes, metadata, metadata_table
from ._session import Session, Source, calls, count, enable, iter_calls
from ._record import Recording, TraceFile, hive_path, load
from ._net import SockAddr, sockaddr
from ._launch import CompletedSession, run
from ._aio import aiter_batches, aiter_events
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
