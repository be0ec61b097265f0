"""The event-class API: syscall metadata, define_fields(), print_fmt and the
tracefs format text of every syscall event, as the kernel describes them."""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, NamedTuple, Optional, Tuple, Union

from . import _native


class Field(NamedTuple):
    """One field of an event record, as the kernel's trace_define_field()."""

    type: str
    name: str
    offset: int
    size: int
    is_signed: bool


@dataclass(frozen=True)
class SyscallMetadata:
    """The kernel's struct syscall_metadata for one syscall."""

    name: str
    nr: int
    types: Tuple[str, ...]
    args: Tuple[str, ...]
    enter_id: Optional[int] = None
    exit_id: Optional[int] = None

    @property
    def nb_args(self) -> int:
        return len(self.args)


def _meta(row: Tuple[str, int, List[str], List[str], Optional[int], Optional[int]]) -> SyscallMetadata:
    name, nr, types, args, enter_id, exit_id = row
    return SyscallMetadata(name, nr, tuple(types), tuple(args), enter_id, exit_id)


def metadata(syscall: Union[str, int]) -> SyscallMetadata:
    """The metadata of a syscall, by name ("read", "sys_read") or number."""
    return _meta(_native.syscall_metadata(syscall))


def metadata_table() -> List[SyscallMetadata]:
    """Every syscall with metadata, by number. Numbers without one are absent."""
    return [_meta(row) for row in _native.metadata_table()]


@dataclass(frozen=True)
class EventClass:
    """A syscall trace event (sys_enter_NAME or sys_exit_NAME)."""

    name: str

    system = "syscalls"

    @property
    def id(self) -> Optional[int]:
        """The running kernel's event id, when tracefs told it."""
        return _native.event_id(self.name)

    @property
    def phase(self) -> str:
        return "enter" if self.name.startswith("sys_enter_") else "exit"

    @property
    def metadata(self) -> SyscallMetadata:
        return metadata(self.name)

    def define_fields(self) -> List[Field]:
        """The event's own fields: __syscall_nr, then the args or ret."""
        return [Field(*f) for f in _native.define_fields(self.name)]

    @staticmethod
    def common_fields() -> List[Field]:
        """The fields every trace event starts with."""
        return [Field(*f) for f in _native.common_fields()]

    @property
    def fields(self) -> List[Field]:
        """Common fields, then the event's own."""
        return self.common_fields() + self.define_fields()

    @property
    def print_fmt(self) -> str:
        return _native.print_fmt(self.name)

    @property
    def format(self) -> str:
        """The text of the kernel's events/syscalls/NAME/format file."""
        return _native.event_format(self.name)


def event_class(name: str) -> EventClass:
    """The event class "sys_enter_NAME" or "sys_exit_NAME"."""
    _native.define_fields(name)  # raises ValueError for an unknown event
    return EventClass(name)


def event_classes() -> List[EventClass]:
    """Every syscall event, enter and exit, by syscall number."""
    out = []
    for meta in metadata_table():
        short = meta.name[len("sys_"):]
        out.append(EventClass(f"sys_enter_{short}"))
        out.append(EventClass(f"sys_exit_{short}"))
    return out
