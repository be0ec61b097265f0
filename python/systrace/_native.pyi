# Typed stubs of the native module systrace._native (src/python.rs).
# Checked against the built module by `make stubtest`.
from typing import Dict, Iterator, List, Optional, Sequence, Tuple, TypedDict, Union, final

__all__ = [
    "common_fields",
    "define_fields",
    "event_format",
    "event_id",
    "kernel_state",
    "metadata_source",
    "metadata_table",
    "open_session",
    "preload",
    "print_fmt",
    "syscall_metadata",
    "syscall_name",
    "syscall_names",
    "syscall_nr",
    "EventBatch",
    "EventBatchIter",
    "Event",
    "Session",
    "SessionClosedError",
    "UnsupportedKernelError",
    "strace",
    "DEFAULT_BUFFER_SIZE",
    "NR_SYSCALLS",
    "ARCH",
]

ARCH: str
DEFAULT_BUFFER_SIZE: int
NR_SYSCALLS: int

# The submodule of strace-class decoding (src/strace/python.rs), typed by the
# stub-only module _native_strace.pyi.
from . import _native_strace as strace

class UnsupportedKernelError(OSError):
    """The kernel cannot run systrace: no BPF, no BTF, or a missing BPF feature."""

class SessionClosedError(RuntimeError):
    """The session was closed."""

@final
class Event:
    """One syscall event."""

    @property
    def name(self) -> str: ...
    @property
    def nr(self) -> int: ...
    @property
    def phase(self) -> str: ...  # "enter" or "exit"
    @property
    def args(self) -> Dict[str, int]: ...  # {} on exit
    @property
    def captured(self) -> Dict[str, Union[bytes, List[bytes]]]: ...
    @property
    def capture_status(self) -> Dict[str, str]: ...  # "truncated" | "faulted"
    @property
    def raw_args(self) -> List[int]: ...
    @property
    def ret(self) -> Optional[int]: ...  # None on enter
    @property
    def pid(self) -> int: ...
    @property
    def tid(self) -> int: ...
    @property
    def comm(self) -> str: ...
    @property
    def cpu(self) -> int: ...
    @property
    def timestamp_ns(self) -> int: ...
    def format_line(self, verbose: bool = False, legacy: bool = False) -> str: ...
    def __eq__(self, other: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class EventBatch:
    """A batch of events handed over at once; a sequence of Event."""

    def __len__(self) -> int: ...
    def __getitem__(self, index: int, /) -> Event: ...
    def __iter__(self) -> "EventBatchIter": ...
    def __bool__(self) -> bool: ...
    def columns(self) -> Dict[str, Tuple[str, bytes]]: ...

@final
class EventBatchIter(Iterator[Event]):
    def __iter__(self) -> "EventBatchIter": ...
    def __next__(self) -> Event: ...

@final
class Session:
    """A tracing session; see systrace.enable() for the public API."""

    def poll(self, timeout: Optional[float] = None) -> EventBatch: ...
    def close(self) -> None: ...
    def fileno(self) -> int: ...
    @property
    def closed(self) -> bool: ...
    @property
    def exhausted(self) -> bool: ...
    @property
    def dropped(self) -> int: ...
    @property
    def buffer_size(self) -> int: ...
    @property
    def enter_syscalls(self) -> List[int]: ...
    @property
    def exit_syscalls(self) -> List[int]: ...
    @property
    def pids(self) -> Optional[List[int]]: ...

# (name, nr, types, args, enter_id, exit_id)
_MetaTuple = Tuple[str, int, List[str], List[str], Optional[int], Optional[int]]
# (type, name, offset, size, is_signed)
_FieldTuple = Tuple[str, str, int, int, bool]

class _KernelState(TypedDict):
    loaded: bool
    enabled_enter: List[int]
    enabled_exit: List[int]
    attached_enter: bool
    attached_exit: bool
    prog_ids: List[int]
    sessions: int
    decode_errors: int

def open_session(
    syscalls: Optional[Sequence[Union[str, int]]] = None,
    *,
    enter: bool = True,
    exit: bool = True,
    pids: Optional[Sequence[int]] = None,
    all_processes: bool = False,
    buffer_size: Optional[int] = None,
    strings: bool = False,
    string_size: Optional[int] = None,
    follow: bool = False,
) -> Session: ...
def preload(buffer_size: Optional[int] = None) -> None: ...
def syscall_nr(name: Union[str, int]) -> int: ...
def syscall_name(nr: int) -> Optional[str]: ...
def syscall_names() -> List[str]: ...
def metadata_table() -> List[_MetaTuple]: ...
def metadata_source() -> str: ...
def syscall_metadata(key: Union[str, int]) -> _MetaTuple: ...
def define_fields(event: str) -> List[_FieldTuple]: ...
def common_fields() -> List[_FieldTuple]: ...
def print_fmt(event: str) -> str: ...
def event_format(event: str) -> str: ...
def event_id(event: str) -> Optional[int]: ...
def kernel_state() -> _KernelState: ...
