"""Calls: enter and exit events paired per thread, decoded as strace does.

    with systrace.enable("openat", "read", strings=True) as s:
        ...
    for call in systrace.calls(s):
        call.name, call.args["filename"], call.ret, call.errno, call.duration_ns
        print(call.strace())    # openat(AT_FDCWD, "/etc/hostname", O_RDONLY) = 3
"""
from __future__ import annotations

import inspect
from typing import Any, Dict, Iterable, Iterator, List, Optional, Tuple, Union

from . import _native

_strace = _native.strace

#: strace's default -s: the bytes of a string or buffer shown.
DEFAULT_STRING_SIZE: int = _strace.DEFAULT_STRING_SIZE

ArgValue = Union[int, str, bytes, List[Union[str, bytes]]]

# Syscall number -> (arg names, C types), from the metadata table.
_SIGNATURES: Dict[int, Tuple[Tuple[str, ...], Tuple[str, ...]]] = {}


def _signature(nr: int, nargs: int) -> Tuple[Tuple[str, ...], Tuple[str, ...]]:
    sig = _SIGNATURES.get(nr)
    if sig is None:
        try:
            meta = _native.syscall_metadata(nr)
            sig = (tuple(meta[3]), tuple(meta[2]))
        except ValueError:
            sig = ((), ())
        _SIGNATURES[nr] = sig
    names, types = sig
    if len(names) < nargs:  # no metadata: the kernel's generic names
        names = names + tuple(f"arg{i}" for i in range(len(names), nargs))
        types = types + ("unsigned long",) * (nargs - len(types))
    return names, types


def _text(value: bytes) -> Union[str, bytes]:
    """str when the bytes are UTF-8, else the bytes themselves (never mangled)."""
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value


def _captured(event: Any) -> Dict[str, Any]:
    return dict(getattr(event, "captured", None) or {})


def _truncated(event: Any) -> set:
    status = getattr(event, "capture_status", None) or {}
    return {name for name, state in status.items() if state == "truncated"}


class Call:
    """One syscall: its enter and its exit, paired.

    name, nr: the syscall. pid, tid, comm: who made it.
    args: argument name -> value: ints as their C type reads them, and, when
        the session captured strings (strings=True), the strings and buffers
        as str (UTF-8) or bytes (anything else, as it was), argv as a list.
    raw_args: the argument registers. captured: argument name -> the raw
        captured bytes (argv: a list of bytes).
    ret: the return value (None while unfinished); errno: "ENOENT" for a
        failed call, else None; duration_ns: exit - enter.
    unfinished: no exit was seen (exit_group, a killed process, the end of
        the trace); resumed: no enter was seen (tracing began mid-call).
    """

    __slots__ = ("enter", "exit", "name", "nr", "pid", "tid", "comm", "_args", "_captured", "_truncated")

    def __init__(self, enter: Any, exit: Any) -> None:
        if enter is None and exit is None:
            raise ValueError("a call has an enter, an exit, or both")
        self.enter = enter
        self.exit = exit
        first = enter if enter is not None else exit
        self.name: str = first.name
        self.nr: int = first.nr
        self.pid: int = first.pid
        self.tid: int = first.tid
        self.comm: str = getattr(first, "comm", "")
        self._args: Optional[Dict[str, ArgValue]] = None
        captured: Dict[str, Any] = {}
        truncated: set = set()
        for ev in (enter, exit):
            if ev is not None:
                captured.update(_captured(ev))
                truncated |= _truncated(ev)
        self._captured = captured
        self._truncated = truncated

    # What the events say.

    @property
    def raw_args(self) -> List[int]:
        return list(self.enter.raw_args) if self.enter is not None else []

    @property
    def captured(self) -> Dict[str, Any]:
        return dict(self._captured)

    @property
    def args(self) -> Dict[str, ArgValue]:
        if self._args is None:
            args: Dict[str, ArgValue] = dict(self.enter.args) if self.enter is not None else {}
            for name, value in self._captured.items():
                if isinstance(value, list):
                    args[name] = [_text(v) for v in value]
                else:
                    args[name] = _text(value)
            self._args = args
        return dict(self._args)

    @property
    def ret(self) -> Optional[int]:
        return self.exit.ret if self.exit is not None else None

    @property
    def errno(self) -> Optional[str]:
        """The errno's name for a failed call ("ENOENT"), else None."""
        ret = self.ret
        if ret is None:
            return None
        err = _strace.errno_of(ret)
        if err is None:
            return None
        return _strace.errno_name(err) or str(err)

    @property
    def error(self) -> Optional[str]:
        """The errno's message for a failed call ("No such file or directory")."""
        ret = self.ret
        err = None if ret is None else _strace.errno_of(ret)
        return None if err is None else _strace.errno_message(err)

    @property
    def failed(self) -> bool:
        ret = self.ret
        return ret is not None and _strace.errno_of(ret) is not None

    @property
    def duration_ns(self) -> Optional[int]:
        if self.enter is None or self.exit is None:
            return None
        return max(0, self.exit.timestamp_ns - self.enter.timestamp_ns)

    @property
    def timestamp_ns(self) -> int:
        """When the call began (CLOCK_MONOTONIC); its return when only that was seen."""
        first = self.enter if self.enter is not None else self.exit
        return first.timestamp_ns

    @property
    def end_ns(self) -> Optional[int]:
        return self.exit.timestamp_ns if self.exit is not None else None

    @property
    def unfinished(self) -> bool:
        return self.exit is None

    @property
    def resumed(self) -> bool:
        return self.enter is None

    # Text.

    def _arg_specs(self) -> List[tuple]:
        if self.enter is None:
            return []
        raw = list(self.enter.raw_args)
        names, types = _signature(self.nr, len(raw))
        specs = []
        for i, value in enumerate(raw):
            name = names[i]
            specs.append((name, types[i], value, self._captured.get(name), name in self._truncated))
        return specs

    def strace(self, string_size: int = DEFAULT_STRING_SIZE, *, column: int = 40, start_col: int = 0) -> str:
        """The call as strace prints it: `openat(AT_FDCWD, "/etc/hostname", O_RDONLY) = 3`.

        string_size: strace's -s. start_col: the width of a prefix you will
        put before the line (a pid, a time), so the result still aligns on
        `column`.
        """
        if self.enter is None:
            return _strace.format_resumed(self.name, self.exit.ret, column=column, start_col=start_col)
        return _strace.format_call(
            self.name, self._arg_specs(), self.ret, string_size=string_size, column=column, start_col=start_col
        )

    def strace_args(self, string_size: int = DEFAULT_STRING_SIZE) -> List[str]:
        """The arguments as strace shows them (open's mode only with O_CREAT...)."""
        if self.enter is None:
            return []
        return _strace.format_args(self.name, self._arg_specs(), self.ret, string_size=string_size)

    def to_dict(self, string_size: int = DEFAULT_STRING_SIZE) -> Dict[str, Any]:
        """Every field, JSON-ready. Bytes that are not UTF-8 are {"hex": "..."}."""
        return {
            "name": self.name,
            "nr": self.nr,
            "pid": self.pid,
            "tid": self.tid,
            "comm": self.comm,
            "args": {k: _jsonable(v) for k, v in self.args.items()},
            "raw_args": self.raw_args,
            "ret": self.ret,
            "errno": self.errno,
            "error": self.error,
            "timestamp_ns": self.timestamp_ns,
            "end_ns": self.end_ns,
            "duration_ns": self.duration_ns,
            "unfinished": self.unfinished,
            "resumed": self.resumed,
            "strace": self.strace(string_size),
        }

    def __str__(self) -> str:
        return self.strace()

    def __repr__(self) -> str:
        return f"<Call pid={self.pid} tid={self.tid} {self.strace()}>"


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return {"hex": value.hex()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def iter_calls(source: Any) -> Iterator[Call]:
    """Calls as they complete: each when its exit arrives (exit_group at its
    enter), then at the end the calls that never returned, by start time.

    source: a Session (an open one streams until it closes), an EventBatch,
    or any iterable of events (objects with the Event attributes).
    """
    pairer = _strace.Pairer()
    for event in source:
        for enter, exit in pairer.push(event):
            yield Call(enter, exit)
    for enter, exit in pairer.finish():
        yield Call(enter, exit)


def calls(source: Any) -> List[Call]:
    """Every call of `source` (see iter_calls), in order of start time.

    A Session must be closed first (as for Session.events()); to stream the
    calls of an open one, use iter_calls().
    """
    from ._session import Session

    if isinstance(source, Session) and not source.closed:
        raise RuntimeError("calls() waits for the end of the session: close it first, or use iter_calls() to stream")
    result = list(iter_calls(source))
    result.sort(key=lambda c: c.timestamp_ns)
    return result


def pair(events: Iterable[Any]) -> List[Tuple[Optional[Any], Optional[Any]]]:
    """(enter, exit) pairs of events, either None when not seen."""
    pairer = _strace.Pairer()
    out = pairer.extend(events)
    out.extend(pairer.finish())
    return out


def enable_supports(*names: str) -> Dict[str, bool]:
    """Which of these keyword arguments systrace.enable() accepts here."""
    from ._session import enable

    params = inspect.signature(enable).parameters
    return {name: name in params for name in names}


class_syscalls = _strace.class_syscalls
syscall_classes = _strace.syscall_classes
