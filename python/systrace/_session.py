"""Sessions: what `systrace.enable()` returns, and the calls of a trace.

The session itself is native (`systrace._native.Session`: tracing, polling,
batches, calls, closing); this subclass adds what is written in Python: the
exports and asyncio iteration.
"""
from __future__ import annotations

from . import _native
from ._native import Call, Event, EventBatch, LostEventsWarning, SyscallSet

# No `typing` at run time: the package imports this module eagerly (a lazy
# import raced a fork in another thread, whose child then waited forever
# on the import's lock), and the command starts its BPF load right after
# the package is imported (issue 15: start-up). mypy reads the constant.
TYPE_CHECKING = False
if TYPE_CHECKING:
    import os
    from typing import (
        IO,
        Any,
        AsyncIterator,
        Dict,
        Iterable,
        Iterator,
        List,
        Mapping,
        Optional,
        Union,
        overload,
    )

    import pandas
    import polars
    import pyarrow

    from ._record import Recording

    SyscallSpec = Union[str, int, SyscallSet]
    #: An event filter: one expression, or one per syscall (name or number).
    Filter = Union[str, Mapping[Union[str, int], str], None]
    #: What the exports and calls() take: a Session, an EventBatch, or an
    #: iterable of Event or EventBatch (and, for the call exports, of Call).
    Source = Union["Session", EventBatch, Iterable[Event], Iterable[EventBatch], Iterable[Call]]
else:

    def overload(func):  # the typed signatures are for mypy only
        return func

    def __getattr__(name):
        """The type aliases, built (with typing) on first use."""
        if name not in ("SyscallSpec", "Filter", "Source"):
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        from typing import Iterable, Mapping, Union

        globals().update(
            SyscallSpec=Union[str, int, SyscallSet],
            Filter=Union[str, Mapping[Union[str, int], str], None],
            Source=Union["Session", EventBatch, Iterable[Event], Iterable[EventBatch], Iterable[Call]],
        )
        return globals()[name]


__all__ = ["Session", "enable", "count", "calls", "iter_calls", "LostEventsWarning"]

class Session(_native.Session):
    """The events of the syscalls one `enable()` call asked for.

    Use it as a context manager, or call `close()`. While it is open,
    `poll()` returns what has arrived so far and `batches()` streams it;
    iterating it streams events until it is closed. Once closed, iterating
    yields the events that are left, in order of arrival (per thread, in
    order of time).
    """

    __slots__ = ()

    def __aiter__(self) -> AsyncIterator[Event]:
        """`async for event in session`: stream the events in an asyncio
        program without blocking the loop (systrace.aiter_events)."""
        from ._aio import AsyncEventIterator

        return AsyncEventIterator(self)

    # Exports (systrace._export): they take the events left in a closed session.

    def to_arrow(self) -> "pyarrow.Table":
        """The events as a pyarrow.Table, one row per event (systrace.to_arrow)."""
        from ._export import to_arrow

        return to_arrow(self)

    def to_pandas(self) -> "pandas.DataFrame":
        """The events as a pandas DataFrame, one row per event (systrace.to_pandas)."""
        from ._export import to_pandas

        return to_pandas(self)

    def to_polars(self) -> "polars.DataFrame":
        """The events as a polars DataFrame, one row per event (systrace.to_polars)."""
        from ._export import to_polars

        return to_polars(self)

    def to_chrome_trace(self, path: Union[str, "os.PathLike[str]", IO[str]]) -> int:
        """Write the calls as Chrome trace JSON for Perfetto (systrace.to_chrome_trace)."""
        from ._export import to_chrome_trace

        return to_chrome_trace(self, path)

    def to_jsonl(self, file: Union[str, "os.PathLike[str]", IO[str]]) -> int:
        """Write one JSON object per event, streaming while open (systrace.to_jsonl)."""
        from ._export import to_jsonl

        return to_jsonl(self, file)


def check_flags(**flags: object) -> None:
    """TypeError for a flag that is not a bool: the native Session takes
    None for "the default", where a Python caller's None is a mistake."""
    for name, value in flags.items():
        if not isinstance(value, bool):
            raise TypeError(f"{name} must be True or False, not {type(value).__name__}")


@overload
def enable(
    *syscalls: SyscallSpec,
    enter: bool = True,
    exit: bool = True,
    pid: Union[int, Iterable[int], None] = None,
    all_processes: bool = False,
    buffer_size: Optional[int] = None,
    strings: bool = False,
    string_size: Optional[int] = None,
    follow: bool = False,
    max_memory: Optional[int] = None,
    max_spill: Optional[int] = None,
    signals: bool = False,
    exits: bool = False,
    filter: Filter = None,
    clock: bool = True,
    output: None = None,
) -> Session: ...


@overload
def enable(
    *syscalls: SyscallSpec,
    enter: bool = True,
    exit: bool = True,
    pid: Union[int, Iterable[int], None] = None,
    all_processes: bool = False,
    buffer_size: Optional[int] = None,
    strings: bool = False,
    string_size: Optional[int] = None,
    follow: bool = False,
    max_memory: Optional[int] = None,
    max_spill: Optional[int] = None,
    signals: bool = False,
    exits: bool = False,
    filter: Filter = None,
    clock: bool = True,
    output: Union[str, "os.PathLike[str]"],
) -> "Recording": ...


def enable(
    *syscalls: SyscallSpec,
    enter: bool = True,
    exit: bool = True,
    pid: Union[int, Iterable[int], None] = None,
    all_processes: bool = False,
    buffer_size: Optional[int] = None,
    strings: bool = False,
    string_size: Optional[int] = None,
    follow: bool = False,
    max_memory: Optional[int] = None,
    max_spill: Optional[int] = None,
    signals: bool = False,
    exits: bool = False,
    filter: Filter = None,
    clock: bool = True,
    output: Union[str, "os.PathLike[str]", None] = None,
) -> Union[Session, "Recording"]:
    """Start tracing syscalls; returns a Session (a context manager).

    syscalls: names ("read", "sys_read", "newfstat") or numbers, strace's
        classes ("%file", "%network"...), event names ("sys_enter_read":
        that event only) and SyscallSets; none at all traces every syscall
        number below 1024 (one without a name is "syscall_0x1f4").
    enter, exit: record the enter events, the exit events, or both, of the
        syscalls named (event names and SyscallSets keep their phases).
    pid: one pid or several (a thread id stands for its process); the
        default is the calling process (all its threads).
        all_processes=True traces the whole system.
    buffer_size: the BPF ring buffer's size in bytes, a power of two
        (default 8 MiB). It takes effect when no other session is open.
    strings: copy user memory into the events (Event.captured): path and
        name strings, the data of write-like calls, the data read by
        read-like calls (at exit), execve's argv.
    string_size: bytes kept of each string or buffer (default 32, as
        strace's -s; at most systrace.MAX_CAPTURE).
    follow: trace the children the traced processes fork, from their
        first syscall (forks are followed in the kernel).
    max_memory: bytes of events the session keeps in memory for you until
        you read them (default: an eighth of the machine's memory; events
        are kept packed, about 10 bytes for an argument-less one).
    max_spill: bytes of events written to an unlinked temporary file
        ($TMPDIR, else /tmp) once max_memory is full, read back as you take
        them (default: half the free space there when the session opens;
        0: never spill). Past both, events are dropped and counted in
        `dropped`.
    signals: also deliver the signals the traced threads act on, as
        Events of phase "signal" (`name` the signal, `siginfo` its fields
        as strace names them), in their place among the syscalls.
    exits: also deliver each traced thread's exit, as Events of phase
        "task_exit" (`exit_code` a wait status, `group_dead` whether it was
        its process's last thread, `compat` whether it ran in 32-bit mode,
        whose syscalls are not traced). Lost ones are counted in `dropped`.
    filter: an event filter in the kernel's grammar, decided in BPF before
        anything is delivered: `"fd == 3 && count >= 4096"`, `"ret < 0"`,
        `'filename ~ "/etc/*"'` (strings need strings=True). One expression
        applies to every syscall traced that has the fields it names; a
        mapping of syscall to expression ({"read": "fd == 0"}) gives each
        its own. Calls are kept or dropped whole: a filter on arguments is
        decided at the enter, one naming `ret` at the exit (the enter is
        then delivered with the exit, keeping its own timestamp).
    clock: read the time of each event (Event.timestamp_ns,
        CLOCK_MONOTONIC). clock=False leaves the clock unread, which saves
        its two reads per traced call (some 50 ns on a VM; see the README,
        Performance): the session's events are then numbered in its order
        (timestamp_ns 1, 2, ...), so what is reckoned from their times (a
        Call's duration_ns, an export's durations) counts events, not
        nanoseconds. The programs read the clock while any open session
        of the process wants it.
    output: a file name: record the events to it as Apache Parquet instead
        of keeping them for Python, and return a systrace.Recording (closing
        it finishes the file; systrace.load() reads it back).

    Raises ValueError for an unknown syscall or class or a bad argument, TypeError
    for an argument of the wrong type, PermissionError without root (or
    CAP_BPF and CAP_PERFMON), ProcessLookupError for a pid with no process,
    and UnsupportedKernelError when the kernel lacks BPF or BTF.
    """
    check_flags(
        enter=enter,
        exit=exit,
        all_processes=all_processes,
        strings=strings,
        follow=follow,
        signals=signals,
        exits=exits,
        clock=clock,
    )
    options: Dict[str, Any] = dict(
        enter=enter,
        exit=exit,
        pid=pid,
        all_processes=all_processes,
        buffer_size=buffer_size,
        strings=strings,
        string_size=string_size,
        follow=follow,
        max_memory=max_memory,
        max_spill=max_spill,
        filter=filter,
        clock=clock,
    )
    if output is not None:
        from ._record import Recording, session_options

        if signals or exits:
            raise ValueError("signals and exits are not recorded with output= (record a Session's batches instead)")
        meta = session_options(follow=follow, strings=strings, string_size=string_size, all_processes=all_processes)
        # A recording keeps nothing: it writes as events come.
        options.pop("max_memory")
        options.pop("max_spill")
        return Recording(output, *syscalls, metadata=meta, **options)
    return Session(*syscalls, signals=signals, exits=exits, **options)


def count(
    *syscalls: SyscallSpec,
    pid: Union[int, Iterable[int], None] = None,
    all_processes: bool = False,
    follow: bool = False,
    filter: Filter = None,
) -> Session:
    """Count syscalls in the kernel, as `perf stat -e 'syscalls:*'` and
    `strace -c` do, without delivering a single event: per syscall, the
    calls, the errors by errno, the time from enter to exit (`time_ns`),
    the part of it the calls' threads ran (`system_ns`, strace -c's time)
    and a log2 histogram of the durations, kept in per-CPU BPF maps.
    Returns a Session (a context manager); read `session.counts()` (per
    process with `counts(per_process=True)`), or `session.count_table()`
    for strace -c's table (`count_table(wall=True)`: strace -c -w's).
    Same arguments as enable() for what and whom to trace.

    filter: count only the calls that pass it (as enable()'s, decided in
    BPF; no string tests). Counting sessions share the kernel's counts: two
    open at once must count a syscall through the same filter (else
    ValueError).
    """
    for name, value in (("all_processes", all_processes), ("follow", follow)):
        if not isinstance(value, bool):
            raise TypeError(f"{name} must be True or False, not {type(value).__name__}")
    return Session(*syscalls, pid=pid, all_processes=all_processes, follow=follow, count=True, filter=filter)


def calls(
    source: Union[_native.Session, EventBatch, Iterable[Event], Iterable[EventBatch]],
    *,
    resolve_paths: bool = False,
) -> List[Call]:
    """Every call of `source` (enter and exit paired per thread), in order
    of start. A Session must be closed first; to stream the calls of an
    open one, use iter_calls(). resolve_paths: give each call its absolute
    paths (Call.path, paths, fd_paths, ret_path) from a table of each
    process's fds and working directory kept over the calls."""
    return _native.calls_of(source, resolve_paths=resolve_paths)


def iter_calls(
    source: Union[_native.Session, EventBatch, Iterable[Event], Iterable[EventBatch]],
    *,
    resolve_paths: bool = False,
) -> Iterator[Call]:
    """Calls as they complete: each when its exit arrives (exit_group at its
    enter), then at the end the calls that never returned, by start time.
    An open Session is streamed until it closes. resolve_paths: as calls()'s."""
    return _native.CallIter(source, resolve_paths=resolve_paths)
