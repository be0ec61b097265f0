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
    ARCH,
    DEFAULT_BUFFER_SIZE,
    Event,
    EventBatch,
    SessionClosedError,
    UnsupportedKernelError,
    preload,
    syscall_name,
    syscall_names,
    syscall_nr,
)
from ._calls import Call, calls, iter_calls
from ._events import EventClass, Field, SyscallMetadata, event_class, event_classes, metadata, metadata_table
from ._session import LostEventsWarning, Session, enable
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

__all__ = [
    "ARCH",
    "Call",
    "DEFAULT_BUFFER_SIZE",
    "Event",
    "EventBatch",
    "EventClass",
    "Field",
    "LostEventsWarning",
    "Session",
    "SessionClosedError",
    "SyscallMetadata",
    "UnsupportedKernelError",
    "enable",
    "event_class",
    "calls",
    "event_classes",
    "iter_calls",
    "metadata",
    "metadata_table",
    "preload",
    "syscall_name",
    "syscall_names",
    "syscall_nr",
    "aiter_batches",
    "aiter_events",
    "calls_to_arrow",
    "calls_to_pandas",
    "calls_to_polars",
    "event_to_dict",
    "json_line",
    "to_arrow",
    "to_chrome_trace",
    "to_jsonl",
    "to_pandas",
    "to_polars",
]
