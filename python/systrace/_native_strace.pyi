# Typed stubs of systrace._native.strace (src/strace/python.rs): a submodule
# that exists only as an attribute of systrace._native, so this stub-only
# module stands for it (_native.pyi imports it as `strace`). `make stubtest`
# checks it against the real submodule.
from typing import Any, Dict, Iterable, List, Optional, Protocol, Sequence, Tuple, Union, final

from ._native import Event, EventBatch

__all__ = [
    "class_names",
    "class_syscalls",
    "errno_message",
    "errno_name",
    "errno_of",
    "format_args",
    "format_call",
    "format_duration",
    "format_error",
    "format_resumed",
    "format_summary",
    "syscall_classes",
    "Pairer",
    "Printer",
    "DEFAULT_STRING_SIZE",
    "DEFAULT_COLUMN",
]

DEFAULT_STRING_SIZE: int
DEFAULT_COLUMN: int

# (name, c_type, raw, captured, truncated); captured: None, bytes, or a list
# of bytes (argv).
_Arg = Tuple[str, str, int, Union[None, bytes, List[bytes]], bool]

def format_call(
    name: str,
    args: Iterable[_Arg],
    ret: Optional[int],
    *,
    string_size: int = 32,
    column: int = 40,
    start_col: int = 0,
) -> str: ...
def format_args(
    name: str, args: Iterable[_Arg], ret: Optional[int], *, string_size: int = 32
) -> List[str]: ...
def format_resumed(name: str, ret: int, *, column: int = 40, start_col: int = 0) -> str: ...
def format_duration(ns: int) -> str: ...
def format_error(errno: int) -> str: ...
def errno_name(errno: int) -> Optional[str]: ...
def errno_message(errno: int) -> str: ...
def errno_of(ret: int) -> Optional[int]: ...
def class_syscalls(__class: str) -> Optional[List[str]]: ...  # runtime name: class
def syscall_classes(name: str) -> List[str]: ...
def class_names() -> List[str]: ...

# (name, nr, calls, errors, time_ns)
def format_summary(rows: Sequence[Tuple[str, int, int, int, int]]) -> str: ...

class _PairEvent(Protocol):
    @property
    def tid(self) -> int: ...
    @property
    def nr(self) -> int: ...
    @property
    def phase(self) -> str: ...  # "enter" or "exit"
    @property
    def timestamp_ns(self) -> int: ...

# (enter or None, exit or None): the event objects that were pushed.
_Call = Tuple[Optional[Any], Optional[Any]]

@final
class Pairer:
    def __init__(self) -> None: ...
    def push(self, event: _PairEvent) -> List[_Call]: ...
    def extend(self, events: Iterable[_PairEvent]) -> List[_Call]: ...
    def take_thread(self, tid: int) -> Optional[_Call]: ...
    def finish(self) -> List[_Call]: ...
    @property
    def pending(self) -> int: ...

@final
class Printer:
    """The systrace command's output: events in, text out (see cli.Printer)."""

    def __new__(
        cls,
        *,
        format: str = "strace",  # "strace", "json" or "kernel"
        selected: Optional[Sequence[int]] = None,
        summary: bool = False,
        durations: bool = False,
        timestamps: int = 0,
        string_size: int = 32,
        file_prefix: bool = False,
        stderr_prefix: bool = True,
        main_pid: Optional[int] = None,
        wall_offset_ns: int = 0,
    ) -> "Printer": ...
    def feed(self, events: Union[EventBatch, Iterable[Event]]) -> str: ...
    def finish(self) -> str: ...
    def status_line(self, pid: int, text: str, main: bool = False) -> str: ...
    def summary_table(self) -> str: ...
    @property
    def live(self) -> Dict[int, int]: ...
    @property
    def exited(self) -> Dict[int, int]: ...
    @property
    def pending(self) -> int: ...
