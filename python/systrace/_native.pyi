# Typed stubs of the native module systrace._native (src/python/).
# Checked against the built module by `make stubtest`.
from os import PathLike
import os
from typing import (
    AbstractSet, Any, Dict, FrozenSet, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple, TypedDict, Union,
    final,
)

from typing_extensions import disjoint_base

__all__ = [
    "call_columns", "calls_of", "CallIter", "Call", "Pairer", "LostEventsWarning", "SessionClosedError",
    "UnsupportedKernelError", "EventBatch", "EventBatchIter", "Event", "common_fields", "define_fields",
    "event_format", "event_id", "kernel_state", "metadata_source", "metadata_table", "print_fmt",
    "syscall_metadata", "syscall_name", "syscall_names", "syscall_nr", "preload", "_start_loading", "_capture_unabbreviated", "_close_hooks_after_exit", "_limit_malloc_arenas", "_keep_up_thread", "BatchIter", "EventIter",
    "Session", "SyscallCount", "Launch", "class_names", "class_syscalls", "errno_message", "errno_name", "errno_of", "format_duration",
    "format_error", "format_summary", "status_classes", "signal_set", "signal_name", "syscall_classes", "fd_syscalls", "Printer", "DEFAULT_BUFFER_SIZE", "NR_SYSCALLS",
    "MAX_ARGS", "MAX_CAPTURE", "PHASE_ENTER", "PHASE_EXIT", "PHASE_SIGNAL", "PHASE_TASK_EXIT", "DEFAULT_STRING_SIZE", "DEFAULT_COLUMN", "ARCH",
    "SyscallSet", "decode_sockaddr", "VERSION", "Recording", "TraceWriter", "TraceFile", "TraceBatchIter",
]

ARCH: str
DEFAULT_BUFFER_SIZE: int
DEFAULT_STRING_SIZE: int
DEFAULT_COLUMN: int
NR_SYSCALLS: int
MAX_ARGS: int
MAX_CAPTURE: int
PHASE_ENTER: int
PHASE_EXIT: int
PHASE_SIGNAL: int
PHASE_TASK_EXIT: int
VERSION: str

class UnsupportedKernelError(OSError):
    """The kernel cannot run systrace: no BPF, no BTF, or a missing BPF feature."""

class SessionClosedError(RuntimeError):
    """The session was closed: its events can still be read, but it cannot trace again."""

class LostEventsWarning(RuntimeWarning):
    """A session lost events (see Session.dropped)."""

#: What was captured of one argument: bytes, or a list of bytes (argv).
_CapturedValue = Union[bytes, List[bytes]]
class _SockAddrValue(TypedDict):
    """A socket address in Call.args (connect's uservaddr, accept's upeer_sockaddr...)."""

    family: str  # "AF_INET", "AF_INET6", "AF_UNIX", "AF_NETLINK", or "AF_<n>"
    address: Optional[str]  # an IP address, a unix path ("@name" when abstract)
    port: Optional[int]


class _TimespecValue(TypedDict):
    tv_sec: int
    tv_nsec: int


class _RlimitValue(TypedDict):
    rlim_cur: int  # RLIM_INFINITY is 2**64 - 1
    rlim_max: int


class _PollfdValue(TypedDict):
    fd: int
    events: int
    revents: Optional[int]  # None when the call did not return


class _EpollEventValue(TypedDict):
    events: int
    data: int


class _SigactionValue(TypedDict):
    sa_handler: Union[str, int]  # "SIG_DFL", "SIG_IGN" or the handler's address
    sa_mask: List[str]
    sa_flags: int
    sa_restorer: int


class _TimevalValue(TypedDict):
    tv_sec: int
    tv_usec: int


class _FdSetValue(TypedDict):
    """select's and pselect6's inp, outp, exp."""

    fds: List[int]  # the descriptors below n set at enter
    ready: Optional[List[int]]  # those set when it returned; None if it failed


class _ItimerValue(TypedDict):
    """An itimerval (tv_usec) or itimerspec (tv_nsec)."""

    it_interval: Dict[str, int]
    it_value: Dict[str, int]


class _LingerValue(TypedDict):
    l_onoff: int
    l_linger: int


class _IovecValue(TypedDict):
    """One iovec of readv/writev/sendmsg/recvmsg (readv's: the data read)."""

    iov_base: Union[str, Dict[str, str], None]  # str when UTF-8, else {"hex": ...}; None if unreadable
    iov_len: int


class _MsghdrValue(TypedDict):
    """sendmsg's and recvmsg's msg (recvmsg's as the call left it)."""

    msg_name: Optional[_SockAddrValue]
    msg_namelen: int
    msg_iov: List[_IovecValue]
    msg_iovlen: int
    msg_control: Union[str, Dict[str, str], None]  # the control data, as iov_base
    msg_controllen: int
    msg_flags: int


#: A structure strace decodes, in Call.args: a stat, statx or statfs buffer
#: is a dict of its fields (st_mode, st_size, ..., st_mtime_ns), a sigset a
#: list of signal names, pipe's and socketpair's fds a list of two ints,
#: wait4's status an int, uname's utsname a dict of str, execve's envp
#: {"count": n}, getdents64's dirent {"entries": n}, select's tvp a timeval,
#: a socket option's value an int or a linger, wait4's ru a dict of
#: ru_utime, ru_stime (timevals) and the counts, sigaltstack's a dict of
#: ss_sp, ss_flags, ss_size, clone3's uargs a dict of its fields, a CPU mask
#: a list of CPUs, readv's and writev's vec a list of iovecs.
_StructValue = Union[
    _SockAddrValue,
    _TimespecValue,
    _TimevalValue,
    _FdSetValue,
    _ItimerValue,
    _LingerValue,
    _MsghdrValue,
    List[_IovecValue],
    Dict[str, Union[int, _TimevalValue]],
    _RlimitValue,
    _SigactionValue,
    _EpollEventValue,
    List[_PollfdValue],
    List[_EpollEventValue],
    List[_TimespecValue],
    List[str],
    List[int],
    Dict[str, Union[int, str, None, List[int]]],
]
#: An argument of Call.args: an int, captured text (str when UTF-8, else
#: bytes), argv, or a decoded structure.
_ArgValue = Union[int, str, bytes, List[Union[str, bytes]], _StructValue]

@final
class Launch:
    """A command's process, made and held before its execve until start()."""

    def __new__(
        cls,
        program: Union[str, "PathLike[str]"],
        argv: Sequence[str],
        *,
        env: Optional[Sequence[Tuple[str, str]]] = None,
        cwd: Union[str, "PathLike[str]", None] = None,
        stdin: Optional[int] = None,
        stdout: Optional[int] = None,
        stderr: Optional[int] = None,
        user: Optional[Tuple[int, int, Sequence[int]]] = None,
    ) -> "Launch": ...
    @property
    def pid(self) -> int: ...
    def start(self) -> None: ...
    def cancel(self) -> None: ...

@final
class Event:
    """One syscall event."""

    def __new__(
        cls,
        syscall: Union[str, int],
        phase: str,
        *,
        args: Sequence[int] = ...,
        ret: int = 0,
        pid: int = 0,
        tid: int = 0,
        timestamp_ns: int = 0,
        cpu: int = 0,
        comm: str = "",
        captured: Optional[Mapping[str, _CapturedValue]] = None,
        capture_status: Optional[Mapping[str, str]] = None,
    ) -> "Event": ...
    @property
    def name(self) -> str: ...
    @property
    def nr(self) -> int: ...
    @property
    def phase(self) -> str: ...  # "enter", "exit", "signal" or "task_exit"
    @property
    def siginfo(self) -> Optional[Dict[str, Any]]: ...  # a signal's; None otherwise
    @property
    def exit_code(self) -> Optional[int]: ...  # a task_exit's wait status
    @property
    def group_dead(self) -> Optional[bool]: ...  # a task_exit's: the process's last thread
    @property
    def compat(self) -> Optional[bool]: ...  # a task_exit's: it ran 32-bit code, whose calls are not traced
    @property
    def event_name(self) -> str: ...  # "sys_enter_read"
    @property
    def id(self) -> Optional[int]: ...  # the tracefs event id; None when unknown
    @property
    def args(self) -> Dict[str, int]: ...  # {} on exit
    @property
    def captured(self) -> Dict[str, _CapturedValue]: ...
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

    def __new__(cls, events: Optional[Iterable[Event]] = None) -> "EventBatch": ...
    def __len__(self) -> int: ...
    def __getitem__(self, index: int, /) -> Event: ...
    def __iter__(self) -> "EventBatchIter": ...
    def __bool__(self) -> bool: ...
    # name -> (struct format, bytes): "Q" u64, "q" i64, "I" u32, "H" u16, "B" u8, "16s" comm.
    def columns(self) -> Dict[str, Tuple[str, bytes]]: ...

@final
class EventBatchIter(Iterator[Event]):
    def __iter__(self) -> "EventBatchIter": ...
    def __next__(self) -> Event: ...

@final
class Call:
    """One syscall: its enter and its exit, paired."""

    def __new__(cls, enter: Optional[Event], exit: Optional[Event] = None) -> "Call": ...
    @property
    def enter(self) -> Optional[Event]: ...
    @property
    def exit(self) -> Optional[Event]: ...
    @property
    def name(self) -> str: ...
    @property
    def nr(self) -> int: ...
    @property
    def pid(self) -> int: ...
    @property
    def tid(self) -> int: ...
    @property
    def comm(self) -> str: ...
    @property
    def args(self) -> Dict[str, _ArgValue]: ...
    def arg_int(self, name: str) -> int: ...
    def arg_bytes(self, name: str) -> Optional[bytes]: ...
    def arg_str(self, name: str) -> Optional[str]: ...
    def arg_list(self, name: str) -> Optional[List[bytes]]: ...
    @property
    def raw_args(self) -> List[int]: ...
    @property
    def captured(self) -> Dict[str, _CapturedValue]: ...
    @property
    def capture_status(self) -> Dict[str, str]: ...
    @property
    def ret(self) -> Optional[int]: ...
    @property
    def errno(self) -> Optional[str]: ...
    @property
    def error(self) -> Optional[str]: ...
    @property
    def failed(self) -> bool: ...
    @property
    def duration_ns(self) -> Optional[int]: ...
    @property
    def timestamp_ns(self) -> int: ...
    @property
    def end_ns(self) -> Optional[int]: ...
    @property
    def unfinished(self) -> bool: ...
    @property
    def resumed(self) -> bool: ...
    # Set when the calls were read with resolve_paths=True, else None.
    @property
    def path(self) -> Optional[str]: ...
    @property
    def paths(self) -> Optional[Dict[str, str]]: ...
    @property
    def fd_paths(self) -> Optional[Dict[str, str]]: ...
    @property
    def ret_path(self) -> Optional[str]: ...
    def strace(
        self,
        string_size: int = ...,
        *,
        column: int = ...,
        start_col: int = 0,
        hex_strings: int = 0,
        decode_fds: bool = False,
        abbrev: bool = True,  # False: structures whole, as strace -v
        verbose: bool = True,  # False: structures as their addresses, as strace -e verbose=none
    ) -> str: ...
    def strace_args(
        self, string_size: int = ..., *, hex_strings: int = 0, abbrev: bool = True, verbose: bool = True
    ) -> List[str]: ...
    def to_dict(self, string_size: int = ...) -> Dict[str, object]: ...
    def json_line(self, string_size: int = ...) -> str: ...
    def __eq__(self, other: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class Pairer:
    """Pairs enter and exit events per thread into calls, as they stream in."""

    def __new__(cls) -> "Pairer": ...
    def push(self, events: Union[Event, EventBatch, Iterable[Event]]) -> List[Call]: ...
    def take_thread(self, tid: int) -> Optional[Call]: ...
    def finish(self) -> List[Call]: ...
    @property
    def pending(self) -> int: ...

_EventSource = Union["Session", EventBatch, Iterable[Event], Iterable[EventBatch]]

@final
class CallIter(Iterator[Call]):
    def __new__(cls, source: _EventSource, *, resolve_paths: bool = False) -> "CallIter": ...
    def __iter__(self) -> "CallIter": ...
    def __next__(self) -> Call: ...

@final
class BatchIter(Iterator[EventBatch]):
    def __iter__(self) -> "BatchIter": ...
    def __next__(self) -> EventBatch: ...

@final
class EventIter(Iterator[Event]):
    def __iter__(self) -> "EventIter": ...
    def __next__(self) -> Event: ...

@final
class SyscallSet:
    """Syscalls to trace, per phase: what enable() would trace for the same arguments."""

    def __new__(
        cls, *syscalls: Union[str, int, "SyscallSet"], enter: Optional[bool] = None, exit: Optional[bool] = None
    ) -> "SyscallSet": ...
    @staticmethod
    def from_strace(value: str) -> "SyscallSet": ...
    @property
    def enter(self) -> FrozenSet[int]: ...
    @property
    def exit(self) -> FrozenSet[int]: ...
    @property
    def nrs(self) -> FrozenSet[int]: ...
    @property
    def names(self) -> List[str]: ...
    def __or__(self, other: "SyscallSet", /) -> "SyscallSet": ...
    def __ror__(self, other: "SyscallSet", /) -> "SyscallSet": ...
    def __contains__(self, item: Union[str, int, "SyscallSet"], /) -> bool: ...
    def __len__(self) -> int: ...
    def __bool__(self) -> bool: ...
    def __iter__(self) -> Iterator[int]: ...
    def __eq__(self, other: object, /) -> bool: ...
    def __hash__(self) -> int: ...

_SyscallSpec = Union[str, int, SyscallSet]

@disjoint_base
class Session:
    """A tracing session (see systrace.enable())."""

    def __new__(
        cls,
        *syscalls: _SyscallSpec,
        enter: Optional[bool] = None,
        exit: Optional[bool] = None,
        pid: Union[int, Iterable[int], None] = None,
        all_processes: Optional[bool] = None,
        buffer_size: Optional[int] = None,
        strings: Optional[bool] = None,
        string_size: Optional[int] = None,
        follow: Optional[bool] = None,
        count: Optional[bool] = None,
        max_memory: Optional[int] = None,
        max_spill: Optional[int] = None,
        signals: Optional[bool] = None,
        exits: Optional[bool] = None,
        filter: Union[str, Mapping[Union[str, int], str], None] = None,
        clock: Optional[bool] = None,
        _unfiltered: Optional[Sequence[str]] = None,
        _and_filter: Optional[str] = None,
        _launched: Optional[int] = None,
        _data_size: Optional[int] = None,
        _count_by_root: bool = False,
        _threads: Optional[Sequence[int]] = None,
        _count_first_thread: bool = False,
        _count_overhead_ns: int = 0,
        _detach_on_execve: bool = False,
    ) -> "Session": ...
    def __enter__(self) -> "Session": ...
    def __exit__(self, *_exc_info: object) -> None: ...
    def close(self) -> None: ...
    def poll(self, timeout: Optional[float] = ...) -> EventBatch: ...  # default 0.0: no wait
    def batches(self) -> BatchIter: ...
    def __iter__(self) -> EventIter: ...
    def events(self) -> List[Event]: ...
    def calls(self, *, resolve_paths: bool = False) -> List[Call]: ...
    def iter_calls(self, *, resolve_paths: bool = False) -> CallIter: ...
    def counts(self, per_process: bool = False) -> List["SyscallCount"]: ...
    def count_table(self, sort_by: str = "time", columns: Optional[str] = None, wall: bool = False) -> str: ...
    @property
    def counting(self) -> bool: ...
    def fileno(self) -> int: ...
    @property
    def closed(self) -> bool: ...
    @property
    def exhausted(self) -> bool: ...
    @property
    def dropped(self) -> int: ...
    @property
    def untraced_children(self) -> int: ...
    @property
    def uncounted(self) -> int: ...
    @property
    def capture_losses(self) -> Dict[str, int]: ...
    @property
    def max_memory(self) -> int: ...
    @property
    def max_spill(self) -> int: ...
    @property
    def stored_bytes(self) -> Tuple[int, int]: ...
    @property
    def buffer_size(self) -> int: ...
    @property
    def syscalls(self) -> List[str]: ...
    @property
    def enter_syscalls(self) -> List[int]: ...
    @property
    def exit_syscalls(self) -> List[int]: ...
    @property
    def pids(self) -> Optional[List[int]]: ...

@disjoint_base
class Recording:
    """A session whose events are written to a Parquet file (see
    systrace.enable(output=...))."""

    def __new__(
        cls,
        path: Union[str, "os.PathLike[str]"],
        *syscalls: _SyscallSpec,
        metadata: Optional[Mapping[str, str]] = None,
        enter: Optional[bool] = None,
        exit: Optional[bool] = None,
        pid: Union[int, Iterable[int], None] = None,
        all_processes: Optional[bool] = None,
        buffer_size: Optional[int] = None,
        strings: Optional[bool] = None,
        string_size: Optional[int] = None,
        follow: Optional[bool] = None,
    ) -> "Recording": ...
    def __enter__(self) -> "Recording": ...
    def __exit__(self, *_exc_info: object) -> None: ...
    def close(self) -> None: ...
    @property
    def closed(self) -> bool: ...
    @property
    def path(self) -> str: ...
    @property
    def events_written(self) -> int: ...
    @property
    def dropped(self) -> int: ...
    @property
    def capture_losses(self) -> Dict[str, int]: ...
    @property
    def untraced_children(self) -> int: ...
    @property
    def syscalls(self) -> List[str]: ...
    @property
    def pids(self) -> Optional[List[int]]: ...
    @property
    def buffer_size(self) -> int: ...

@final
class TraceWriter:
    """Writes the batches handed to it to a Parquet recording."""

    def __new__(cls, path: Union[str, "os.PathLike[str]"]) -> "TraceWriter": ...
    def write(self, batch: EventBatch) -> None: ...
    def close(self, metadata: Optional[Mapping[str, str]] = None, session: Optional[object] = None) -> int: ...
    @property
    def path(self) -> str: ...
    @property
    def events_written(self) -> int: ...
    @property
    def closed(self) -> bool: ...

@disjoint_base
class TraceFile:
    """A recording read back (systrace.load())."""

    def __new__(cls, path: Union[str, "os.PathLike[str]"]) -> "TraceFile": ...
    def batches(self) -> "TraceBatchIter": ...
    def __len__(self) -> int: ...
    @property
    def metadata(self) -> Dict[str, str]: ...
    @property
    def dropped(self) -> int: ...
    @property
    def path(self) -> str: ...

@final
class TraceBatchIter(Iterator[EventBatch]):
    def __iter__(self) -> "TraceBatchIter": ...
    def __next__(self) -> EventBatch: ...

@final
class SyscallCount:
    """One syscall's calls, counted in the kernel by a counting session."""

    @property
    def name(self) -> str: ...
    @property
    def nr(self) -> int: ...
    @property
    def pid(self) -> Optional[int]: ...
    @property
    def calls(self) -> int: ...
    @property
    def errors(self) -> int: ...
    @property
    def errnos(self) -> Dict[str, int]: ...
    @property
    def time_ns(self) -> int: ...
    @property
    def system_ns(self) -> int: ...
    @property
    def histogram(self) -> List[int]: ...
    def histogram_text(self) -> str: ...

@final
class Printer:
    """The systrace command's output: events in, text out (see cli.Printer)."""

    def __new__(
        cls,
        *,
        format: str = "strace",  # "strace", "json" or "kernel"
        selected: Union[SyscallSet, AbstractSet[int], Sequence[int], None] = None,
        summary: bool = False,
        summary_overhead_ns: int = 0,
        detach_on_execve: bool = False,
        detach_messages: bool = False,
        durations: bool = False,
        timestamps: int = 0,
        relative_timestamps: bool = False,  # strace's -r
        # Digits after the second of -t's (None: as its count says), -r's, -T's times.
        precision: Tuple[Optional[int], int, int] = ...,
        dump_read: Optional[str] = None,  # strace's -e read=SET: fds whose reads are dumped
        dump_write: Optional[str] = None,  # strace's -e write=SET
        string_size: int = ...,
        hex_strings: int = 0,  # strace's -x (1), -xx (2), --strings-in-hex=non-ascii-chars (3)
        prefix: str = "stderr",  # "stderr", "file", "always", "per-thread" or "none"
        status: Optional[Sequence[str]] = None,  # strace's -e status= classes
        quiet_exits: bool = False,
        signals: Optional[Sequence[int]] = None,  # strace's -e signal= (None: all)
        task_exits: bool = False,
        thread_exits: bool = False,
        main_pid: Optional[int] = None,
        wall_offset_ns: int = 0,
        decode_fds: int = 0,  # strace's --decode-fds bits: 1 path (-y), 2 socket, 4 dev, 8 pidfd; 15 (-yy)
        live: bool = True,  # the traced processes run now: /proc may be read
        column: int = ...,
        trace_paths: Sequence[str] = ...,  # strace's -P: show only the calls that touch these
        attach_messages: bool = False,  # strace's "Process N attached" for -f's threads
        superseded: bool = True,  # strace's "+++ superseded by execve in pid T +++"
        syscall_numbers: bool = False,  # strace's -n
        raw: Iterable[int] = ...,  # strace's -e raw=: these syscalls' calls undecoded, in hex
        decode_pids: bool = False,  # strace's -Y: process and thread ids with their command names
        unabbreviated: Iterable[int] = ...,  # strace's -e abbrev= (-v: all): these syscalls' structures whole
        not_verbose: Iterable[int] = ...,  # strace's -e verbose=: these syscalls' structures as their addresses
        threads: Optional[Iterable[int]] = None,  # only these threads' calls and signals (strace without -f)
    ) -> "Printer": ...
    def feed(self, events: Union[EventBatch, Iterable[Event]]) -> str: ...
    # The session's events printed on the consumer thread, written to fd
    # (None: to the files of write_thread_files()).
    def print_from(self, session: Session, fd: Optional[int]) -> None: ...
    # strace -ff -o PREFIX: each line to PREFIX.TID (prefix="per-thread").
    def write_thread_files(self, prefix: Union[str, PathLike[str]], append: bool = False) -> None: ...
    def finish(self, detached: bool = False) -> str: ...
    def status_line(self, pid: int, text: str, main: bool = False, at_ns: Optional[int] = None) -> str: ...
    def summary_table(self, sort_by: str = "time", columns: Optional[str] = None) -> str: ...
    @property
    def live(self) -> Dict[int, int]: ...
    @property
    def exited(self) -> Dict[int, int]: ...
    def take_detached(self) -> List[int]: ...
    @property
    def pending(self) -> int: ...
    def adopt(self, pid: int) -> None: ...
    def seed_fds(self, pid: int) -> None: ...
    @property
    def unknown_fds(self) -> int: ...
    @property
    def unread_sockets(self) -> int: ...

# (name, nr, types, args, enter_id, exit_id)
_MetaTuple = Tuple[str, int, List[str], List[str], Optional[int], Optional[int]]
# (type, name, offset, size, is_signed)
_FieldTuple = Tuple[str, str, int, int, bool]
# (format, data, validity bitmap or None)
_CallColumn = Tuple[str, bytes, Optional[bytes]]

class _KernelState(TypedDict):
    loaded: bool
    enabled_enter: List[int]
    enabled_exit: List[int]
    attached_enter: bool
    attached_exit: bool
    attached_task_events: bool
    prog_ids: List[int]
    sessions: int
    decode_errors: int
    records: int
    consumer_rounds: int
    filtered: List[int]
    count_filtered: List[int]
    consumer_tid: int
    counted_pids: List[int]
    hook_mode: str
    features: List[str]
    capture_kinds: int
    core_btf: Optional[str]
    kernel_tables: bool
    hook_switches: int
    event_hooks: int
    hooks_closing: int
    hooks_closed: int
    probe_waits: int
    handoff_unsure: int
    programs: List[Tuple[str, int]]
    load_steps: List[Tuple[str, float]]
    filter_unheld: int
    filter_grace_periods: int
    entered_unmarked: int
    clock_sessions: int

def preload(buffer_size: Optional[int] = None) -> None: ...
def _start_loading(
    buffer_size: int,
    syscalls: Optional[SyscallSet],
    tasks: bool,
    count: bool = True,
    filters: bool = True,
    captured: Optional[SyscallSet] = None,
    clock: bool = True,
    count_by_root: bool = False,
) -> None: ...
def _capture_unabbreviated(nrs: Sequence[int]) -> None: ...
def _close_hooks_after_exit() -> bool: ...
def _limit_malloc_arenas(n: int) -> None: ...
def _keep_up_thread(tid: int, nice: int, slice_ns: int) -> None: ...
def calls_of(source: _EventSource, *, resolve_paths: bool = False) -> List[Call]: ...
def call_columns(
    source: Union[Sequence[Call], _EventSource], strace: bool = False
) -> Tuple[Dict[str, _CallColumn], Dict[str, List[Optional[_CapturedValue]]], Optional[List[str]]]: ...
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
def format_duration(ns: int, digits: int = 6) -> str: ...
def format_error(errno: int) -> str: ...
def errno_name(errno: int) -> Optional[str]: ...
def errno_message(errno: int) -> str: ...
def errno_of(ret: int) -> Optional[int]: ...
def class_syscalls(__class: str) -> Optional[List[str]]: ...  # runtime name: class
def syscall_classes(name: str) -> List[str]: ...
def fd_syscalls() -> List[str]: ...
def class_names() -> List[str]: ...
# (family, address, port, remote)
def decode_sockaddr(data: bytes) -> Optional[Tuple[str, Optional[str], Optional[int], bool]]: ...
# (name, nr, calls, errors, time_ns)
def format_summary(
    rows: Sequence[Tuple[str, int, int, int, int]], sort_by: str = "time", columns: Optional[str] = None
) -> str: ...
def status_classes(spec: str) -> List[str]: ...
def signal_set(spec: str) -> List[int]: ...
def signal_name(sig: int) -> str: ...
