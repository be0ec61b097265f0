"""Sessions: what `systrace.enable()` returns."""
from __future__ import annotations

import warnings
from typing import IO, TYPE_CHECKING, Any, AsyncIterator, Iterable, Iterator, Optional, Union

from . import _native
from ._native import Event, EventBatch

if TYPE_CHECKING:
    import os

SyscallSpec = Union[str, int]


class LostEventsWarning(RuntimeWarning):
    """A session lost events to a full ring buffer (see Session.dropped)."""


class Session:
    """The events of the syscalls one `enable()` call asked for.

    Use it as a context manager, or call `close()`. While it is open,
    `poll()` returns what has arrived so far; iterating it streams events
    until it is closed. Once closed, iterating yields the events that are
    left, in order of arrival (per thread, in order of time).
    """

    __slots__ = ("_native", "_warned")

    def __init__(self, native: _native.Session) -> None:
        self._native = native
        self._warned = False

    def __enter__(self) -> "Session":
        if self._native.closed:
            raise _native.SessionClosedError(
                "this session is closed: its events can still be read, but it cannot trace again; "
                "open a new one with systrace.enable()"
            )
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop tracing and collect the last events. Closing twice is harmless."""
        self._native.close()
        lost = self._native.dropped
        if lost and not self._warned:
            self._warned = True
            warnings.warn(
                f"systrace session lost {lost} events: the ring buffer was full, or more events "
                f"waited than the session keeps for you (4 x buffer_size); poll or iterate while "
                f"tracing, or use a larger buffer_size (now {self._native.buffer_size} bytes)",
                LostEventsWarning,
                stacklevel=2,
            )

    def poll(self, timeout: Optional[float] = 0.0) -> EventBatch:
        """The events that arrived, waiting up to `timeout` seconds for the
        first (None: until one arrives or the session is closed)."""
        if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float))):
            raise TypeError(f"timeout must be a number of seconds or None, not {type(timeout).__name__}")
        return self._native.poll(timeout)

    def __iter__(self) -> Iterator[Event]:
        native = self._native
        while True:
            batch = native.poll(None)
            if batch:
                yield from batch
            elif native.exhausted:
                return

    def calls(self) -> list:
        """The session's calls (enter and exit paired per thread), in order
        of start; close the session first."""
        from ._calls import calls

        return calls(self)

    def iter_calls(self) -> Iterator:
        """The session's calls as they complete (streams an open session)."""
        from ._calls import iter_calls

        return iter_calls(self)

    def events(self) -> list:
        """Every event left, as a list (the session must be closed)."""
        if not self._native.closed:
            raise RuntimeError("events() waits for the end of the session: close it first, or iterate it to stream")
        return list(self)

    def fileno(self) -> int:
        """An fd that is readable while events wait, for select/epoll/asyncio."""
        return self._native.fileno()

    def __aiter__(self) -> AsyncIterator[Event]:
        """`async for event in session`: stream the events in an asyncio
        program without blocking the loop; ends once the session is closed
        and drained (systrace.aiter_events)."""
        from ._aio import AsyncEventIterator

        return AsyncEventIterator(self)

    # Exports (systrace._export). They take the events left in a closed
    # session, as iterating it does.

    def to_arrow(self) -> Any:
        """The events as a pyarrow.Table, one row per event (systrace.to_arrow)."""
        from ._export import to_arrow

        return to_arrow(self)

    def to_pandas(self) -> Any:
        """The events as a pandas DataFrame, one row per event (systrace.to_pandas)."""
        from ._export import to_pandas

        return to_pandas(self)

    def to_polars(self) -> Any:
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

    @property
    def closed(self) -> bool:
        return self._native.closed

    @property
    def dropped(self) -> int:
        """Events of this session's syscalls lost to a full ring buffer."""
        return self._native.dropped

    @property
    def buffer_size(self) -> int:
        """The size of the ring buffer in bytes."""
        return self._native.buffer_size

    @property
    def syscalls(self) -> list:
        """The names of the traced syscalls."""
        nrs = sorted(set(self._native.enter_syscalls) | set(self._native.exit_syscalls))
        return [_native.syscall_name(nr) or str(nr) for nr in nrs]

    @property
    def pids(self) -> Optional[list]:
        """The traced process ids; None when every process is traced."""
        return self._native.pids

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"<systrace.Session {state} syscalls={len(self.syscalls)} pids={self.pids}>"


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
) -> Session:
    """Start tracing syscalls; returns a Session (a context manager).

    syscalls: names ("read", "sys_read", "newfstat") or numbers; none at
        all traces every syscall.
    enter, exit: record the enter events, the exit events, or both.
    pid: one pid or several; the default is the calling process (all its
        threads). all_processes=True traces the whole system.
    buffer_size: the BPF ring buffer's size in bytes, a power of two
        (default 8 MiB). It takes effect when no other session is open.
    strings: copy user memory into the events (Event.captured): path and
        name strings, the data of write-like calls, the data read by
        read-like calls (at exit), execve's argv.
    string_size: bytes kept of each string or buffer (default 32, as
        strace's -s; at most 4096).
    follow: trace the children the traced processes fork, from their
        first syscall (forks are followed in the kernel).

    Raises ValueError for an unknown syscall or a bad argument,
    PermissionError without root (or CAP_BPF and CAP_PERFMON),
    ProcessLookupError for a pid with no process, and
    UnsupportedKernelError when the kernel lacks BPF or BTF.
    """
    for name, value in (
        ("enter", enter),
        ("exit", exit),
        ("all_processes", all_processes),
        ("strings", strings),
        ("follow", follow),
    ):
        if not isinstance(value, bool):
            raise TypeError(f"{name} must be True or False, not {type(value).__name__}")
    if pid is None:
        pids = None
    elif isinstance(pid, int) and not isinstance(pid, bool):
        pids = [pid]
    else:
        try:
            pids = list(pid)  # type: ignore[arg-type]
        except TypeError:
            raise TypeError(f"pid must be an int or an iterable of ints, not {type(pid).__name__}") from None
    native = _native.open_session(
        list(syscalls) if syscalls else None,
        enter=enter,
        exit=exit,
        pids=pids,
        all_processes=all_processes,
        buffer_size=buffer_size,
        strings=strings,
        string_size=string_size,
        follow=follow,
    )
    return Session(native)
