"""The differential test of the trace text: the kernel's own syscall events
and systrace's, for the same thread and the same syscalls at the same time,
must print the same text, event for event.

The test makes a tracefs instance of its own (instances/systrace-test-<pid>,
removed at the end), enables there the kernel's syscalls/sys_enter_X and
sys_exit_X events for SYSCALLS with set_event_pid = this thread's id, opens a
systrace session for the same syscalls, runs a deterministic workload between
two marker syscalls, and compares the instance's `trace` file with `str(ev)`
of systrace's events of this thread, in order.

The verbose form is compared too: `options/verbose` is a per-instance trace
option (the kernel's print_syscall_enter() adds each argument's C type when
it is set), so the same buffer is read again with verbose=1 and compared with
`ev.format_line(verbose=True)`.
"""
from __future__ import annotations

import ctypes
import difflib
import errno
import os
import re
import threading

import pytest

import systrace

# Syscall names as systrace.enable() takes them. The kernel's event names
# come from systrace.metadata(name).name ("sys_" + the SYSCALL_DEFINE name).
SYSCALLS = ["read", "write", "close", "openat", "getppid", "lseek", "pread64", "dup3", "newfstatat"]
# Newer than the embedded 6.12 table: traced too when this kernel has it, so
# that its numbering from the syscalls crate is checked end to end.
NEWER = ["getxattrat"]

MARK_FD = 1_000_003  # never open: the marker lseeks fail with EBADF
MARK_START = 0x73797374726163  # "systrac"
MARK_END = 0x656E645F6D61726B  # "end_mark"

# "           <...>-16697   [001] .....   864.540449: sys_close -> 0x0"
# (task-pid, optional tgid column, [cpu], optional irq-info flags, timestamp).
LINE = re.compile(
    r"^\s*(?P<task>.*?)-(?P<pid>\d+)\s+(?:\(\s*[\d-]+\)\s+)?\[(?P<cpu>\d+)\]\s+"
    r"(?:(?P<flags>\S{4,})\s+)?(?P<ts>\d+\.\d+):\s(?P<text>.*)$"
)


def _write(path: str, value: str) -> None:
    with open(path, "w") as f:
        f.write(value)


def _read(path: str) -> str:
    with open(path) as f:
        return f.read()


def _parse_trace(trace: str) -> list:
    """(pid, text) of every event line of a `trace` file."""
    events = []
    for line in trace.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        assert "LOST" not in line, f"the instance's buffer lost events: {line!r}"
        m = LINE.match(line)
        assert m, f"cannot parse this trace line: {line!r}"
        events.append((int(m["pid"]), m["text"]))
    return events


def _between_markers(items: list, is_start, is_end, side: str) -> list:
    """From the start marker's enter event to the end marker's enter event."""
    starts = [i for i, x in enumerate(items) if is_start(x)]
    ends = [i for i, x in enumerate(items) if is_end(x)]
    assert len(starts) == 1 and len(ends) == 1, (
        f"{side}: expected one start and one end marker, found {len(starts)} and {len(ends)}"
    )
    return items[starts[0] : ends[0] + 1]


def _kernel_marker(value: int):
    text = f"sys_lseek(fd: {MARK_FD:#x}, offset: {value:#x}, whence: 0)"
    verbose = f"sys_lseek(unsigned int fd: {MARK_FD:#x}, off_t offset: {value:#x}, unsigned int whence: 0)"
    return lambda item: item[1] in (text, verbose)


def _systrace_marker(value: int):
    return lambda ev: (
        ev.name == "lseek" and ev.phase == "enter" and ev.raw_args[:3] == [MARK_FD, value, 0]
    )


def _compare(kernel: list, ours: list, what: str) -> None:
    """Equal lists of texts, or a failure that shows both sides."""
    if kernel == ours:
        return
    first = next(
        (i for i, (k, o) in enumerate(zip(kernel, ours)) if k != o), min(len(kernel), len(ours))
    )
    diff = "\n".join(
        difflib.unified_diff(kernel, ours, "kernel trace (instance)", f"systrace {what}", lineterm="")
    )
    pytest.fail(
        f"{what}: the kernel printed {len(kernel)} events, systrace {len(ours)}; "
        f"first difference at event {first}:\n"
        f"  kernel:   {kernel[first] if first < len(kernel) else '<none>'}\n"
        f"  systrace: {ours[first] if first < len(ours) else '<none>'}\n{diff}",
        pytrace=False,
    )


def _workload(tmp_path, extra: list) -> None:
    """Deterministic syscalls: a pipe, a temp file, errors, getppid."""
    r, w = os.pipe()
    try:
        assert os.write(w, b"hello, kernel") == 13
        assert os.read(r, 64) == b"hello, kernel"
    finally:
        os.close(r)
        os.close(w)
    path = os.fspath(tmp_path / "systrace-trace-text")
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, b"0123456789" * 10)
        assert os.lseek(fd, 0, os.SEEK_SET) == 0
        assert os.lseek(fd, 42, os.SEEK_SET) == 42
        assert os.pread(fd, 16, 3) == b"3456789012345678"
        assert os.fstat(fd).st_size == 100
        d = os.dup2(fd, fd + 1, inheritable=False)  # dup3(fd, fd + 1, O_CLOEXEC)
        os.close(d)
    finally:
        os.close(fd)
    # Error returns: a read and an lseek on the closed fd.
    for call in (lambda: os.read(fd, 1), lambda: os.lseek(fd, 1, os.SEEK_SET)):
        with pytest.raises(OSError) as exc:
            call()
        assert exc.value.errno == errno.EBADF
    os.getppid()
    if "getxattrat" in extra:
        libc = ctypes.CDLL(None, use_errno=True)
        AT_FDCWD = -100
        rc = libc.syscall(
            ctypes.c_long(systrace.syscall_nr("getxattrat")),
            ctypes.c_long(AT_FDCWD),
            ctypes.c_char_p(path.encode()),
            ctypes.c_long(0),
            ctypes.c_char_p(b"user.systrace"),
            ctypes.c_void_p(None),
            ctypes.c_long(0),
        )
        assert rc == -1  # a NULL xattr_args: EINVAL or EFAULT, never success


def _event_short(name: str) -> str:
    try:
        return systrace.metadata(name).name[len("sys_"):]
    except ValueError:
        return name


def _marker(value: int) -> None:
    with pytest.raises(OSError) as exc:
        os.lseek(MARK_FD, value, os.SEEK_SET)
    assert exc.value.errno == errno.EBADF


def test_trace_text_matches_kernel(kernel, tracefs, tmp_path):
    tid = threading.get_native_id()
    events_dir = os.path.join(tracefs, "events", "syscalls")
    names = list(SYSCALLS) + [
        n for n in NEWER if os.path.isdir(os.path.join(events_dir, f"sys_enter_{n}"))
    ]
    # syscall name -> the kernel's event short name ("fstat" -> "newfstat").
    # A syscall systrace has no metadata for keeps its name: the comparison
    # below then shows how its text differs.
    shorts = {n: _event_short(n) for n in names}

    inst = os.path.join(tracefs, "instances", f"systrace-test-{os.getpid()}")
    os.mkdir(inst)
    try:
        _write(os.path.join(inst, "tracing_on"), "0")
        # One clock for every CPU, so that the merged buffer is in time order
        # even if the thread migrates.
        _write(os.path.join(inst, "trace_clock"), "mono")
        _write(os.path.join(inst, "options", "verbose"), "0")
        _write(os.path.join(inst, "set_event_pid"), str(tid))
        for short in shorts.values():
            for phase in ("enter", "exit"):
                _write(os.path.join(inst, "events", "syscalls", f"sys_{phase}_{short}", "enable"), "1")
        _write(os.path.join(inst, "tracing_on"), "1")

        session = systrace.enable(*names)
        try:
            _marker(MARK_START)
            _workload(tmp_path, names)
            _marker(MARK_END)
        finally:
            _write(os.path.join(inst, "tracing_on"), "0")
            session.close()
        ours_all = [ev for ev in session.events() if ev.tid == tid]
        assert session.dropped == 0

        trace = _read(os.path.join(inst, "trace"))
        _write(os.path.join(inst, "options", "verbose"), "1")
        trace_verbose = _read(os.path.join(inst, "trace"))
    finally:
        os.rmdir(inst)

    kernel_events = _between_markers(
        _parse_trace(trace), _kernel_marker(MARK_START), _kernel_marker(MARK_END), "kernel"
    )
    kernel_verbose = _between_markers(
        _parse_trace(trace_verbose), _kernel_marker(MARK_START), _kernel_marker(MARK_END), "kernel verbose"
    )
    ours = _between_markers(
        ours_all, _systrace_marker(MARK_START), _systrace_marker(MARK_END), "systrace"
    )

    # The kernel's events are this thread's only (set_event_pid).
    assert {pid for pid, _ in kernel_events} == {tid}
    assert {(ev.pid, ev.tid) for ev in ours} == {(os.getpid(), tid)}

    kernel_text = [text for _, text in kernel_events]
    _compare(kernel_text, [str(ev) for ev in ours], "str(ev)")
    _compare(
        [text for _, text in kernel_verbose],
        [ev.format_line(verbose=True) for ev in ours],
        "ev.format_line(verbose=True)",
    )
    assert len(kernel_text) == len(ours) > 0

    # Not vacuous: the workload's syscalls are there, in order, with the
    # kernel's value rules (values below 10 in decimal, the others in hex;
    # returns always in hex); other syscalls of the same kinds (Python's own)
    # may come in between.
    ebadf = re.escape(f"{(-errno.EBADF) & 0xFFFFFFFFFFFFFFFF:#x}")
    ptr = "0x[0-9a-f]+"
    fd = r"(?:\d|0x[0-9a-f]+)"
    expected = [
        rf"sys_write\(fd: {fd}, buf: {ptr}, count: 0xd\)",
        r"sys_write -> 0xd",
        rf"sys_read\(fd: {fd}, buf: {ptr}, count: 0x40\)",
        r"sys_read -> 0xd",
        rf"sys_close\(fd: {fd}\)",
        r"sys_close -> 0x0",
        rf"sys_close\(fd: {fd}\)",
        r"sys_close -> 0x0",
        rf"sys_openat\(dfd: 0xffffff9c, filename: {ptr}, flags: 0x[0-9a-f]+, mode: 0x180\)",
        rf"sys_openat -> {ptr}",
        rf"sys_write\(fd: {fd}, buf: {ptr}, count: 0x64\)",
        r"sys_write -> 0x64",
        rf"sys_lseek\(fd: {fd}, offset: 0, whence: 0\)",
        r"sys_lseek -> 0x0",
        rf"sys_lseek\(fd: {fd}, offset: 0x2a, whence: 0\)",
        r"sys_lseek -> 0x2a",
        rf"sys_pread64\(fd: {fd}, buf: {ptr}, count: 0x10, pos: 3\)",
        r"sys_pread64 -> 0x10",
        rf"sys_newfstatat\(dfd: {fd}, filename: {ptr}, statbuf: {ptr}, flag: 0x1000\)",
        r"sys_newfstatat -> 0x0",
        rf"sys_dup3\(oldfd: {fd}, newfd: {fd}, flags: 0x80000\)",
        rf"sys_dup3 -> {ptr}",
        rf"sys_close\(fd: {fd}\)",
        r"sys_close -> 0x0",
        rf"sys_close\(fd: {fd}\)",
        r"sys_close -> 0x0",
        rf"sys_read\(fd: {fd}, buf: {ptr}, count: 1\)",
        rf"sys_read -> {ebadf}",
        rf"sys_lseek\(fd: {fd}, offset: 1, whence: 0\)",
        rf"sys_lseek -> {ebadf}",
        r"sys_getppid\(\)",
        re.escape(f"sys_getppid -> {os.getppid():#x}"),
    ]
    if "getxattrat" in names:
        expected += [
            rf"sys_getxattrat\(dfd: 0xffffffffffffff9c, pathname: {ptr}, at_flags: 0, "
            rf"name: {ptr}, uargs: 0, usize: 0\)",
            rf"sys_getxattrat -> {ptr}",
        ]
    it = iter(kernel_text)
    for pattern in expected:
        assert any(re.fullmatch(pattern, t) for t in it), (
            f"the kernel's trace lacks /{pattern}/ (in order) in:\n" + "\n".join(kernel_text)
        )
    # Verbose adds the C types.
    assert any(
        re.fullmatch(rf"sys_openat\(int dfd: 0xffffff9c, const char \* filename: {ptr}, "
                     rf"int flags: 0x[0-9a-f]+, umode_t mode: 0x180\)", t)
        for _, t in kernel_verbose
    ), kernel_verbose
