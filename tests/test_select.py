"""Choosing what to trace: syscall names, strace's classes and event names
(one phase), in enable(), SyscallSet and the command's -e trace=, against
the real kernel; and each event's identity (Event.id, event_name)."""
from __future__ import annotations

import ctypes
import os
import re
import socket
import subprocess
import sys
import threading

import pytest

import systrace
from systrace import SyscallSet
from systrace import _native as native

nr = systrace.syscall_nr
N = 1000  # calls per loop


def _mine(session: systrace.Session) -> list:
    """The closed session's events of this thread, as (event name, ret)."""
    me = threading.get_native_id()
    return [(e.event_name, e.ret) for e in session.events() if e.tid == me]


def _class_nrs(cls: str) -> set:
    nrs = set()
    for name in native.class_syscalls(cls) or []:
        try:
            nrs.add(nr(name))
        except ValueError:
            pass  # a syscall of another architecture
    return nrs


# Classes.


def test_enable_accepts_strace_classes(kernel):
    with systrace.enable("%file", "%network") as session:
        state = native.kernel_state()
        for _ in range(3):
            socket.socket().close()
        os.getppid()  # in neither class
    expected = sorted(_class_nrs("%file") | _class_nrs("%network"))
    assert sorted(session.enter_syscalls) == expected
    assert sorted(session.exit_syscalls) == expected
    assert state["enabled_enter"] == expected and state["enabled_exit"] == expected
    socket_events = [name for name, _ in _mine(session) if name.endswith("_socket")]
    assert socket_events == ["sys_enter_socket", "sys_exit_socket"] * 3
    assert not any(name.endswith("_getppid") for name, _ in _mine(session))


def test_class_names_and_aliases():
    assert SyscallSet("%net") == SyscallSet("%network") == SyscallSet("%network", "%net")
    assert SyscallSet("%file").nrs == _class_nrs("%file")
    assert nr("openat") in SyscallSet("%file") and nr("read") not in SyscallSet("%file")
    assert "openat" in SyscallSet("%file") and "%file" in SyscallSet("%file", "read")
    assert "%file" not in SyscallSet("openat")
    # Numbers, names and classes together.
    assert SyscallSet(0, "write", "%clock").nrs == {0, nr("write")} | _class_nrs("%clock")


def test_regular_expressions_select_names_as_strace(kernel, tmp_path):
    # strace's -e trace=/REGEX: the syscalls whose names it matches.
    names = {native.syscall_name(n) for n in SyscallSet("/^(l|f|new)?stat$").nrs}
    assert names == {"stat", "lstat", "fstat"}, names
    assert "fgetxattr" in SyscallSet("/xattr$") and "read" not in SyscallSet("/xattr$")
    with pytest.raises(ValueError, match="no syscall name matches the regular expression '/\\^zzz'"):
        systrace.enable("/^zzz")
    with pytest.raises(ValueError, match="invalid regular expression '/\\('"):
        SyscallSet("/(")
    import shutil
    from test_strace_diff import compare, parse
    strace = shutil.which("strace")
    if strace is None:
        pytest.fail("strace is not installed")
    texts = []
    for name, tracer in (("strace", [strace]), ("systrace", [sys.executable, "-m", "systrace"])):
        out = tmp_path / name
        r = subprocess.run([*tracer, "-o", str(out), "-e", "trace=/stat", "--", "stat", "/etc/hostname"],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        texts.append(out.read_text())
    compare(parse(texts[1]), parse(texts[0]))
    assert "statx(" in texts[1] or "newfstatat(" in texts[1], texts[1]


def test_unknown_class_lists_the_classes():
    with pytest.raises(ValueError) as err:
        systrace.enable("%bogus")
    assert str(err.value) == (
        "unknown syscall class '%bogus'; the classes are %desc %file %ipc %network %net %process "
        "%signal %memory %stat %lstat %fstat %%stat %statfs %fstatfs %%statfs %pure %creds %clock"
    )
    with pytest.raises(ValueError, match="unknown syscall class '%'"):
        SyscallSet("%")
    with pytest.raises(ValueError, match="unknown syscall 'raed'.*did you mean read"):
        SyscallSet("raed")
    with pytest.raises(TypeError, match="^a syscall must be a name, a number or a SyscallSet, not float$"):
        SyscallSet(1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="^a syscall must be a name, a number or a SyscallSet, not NoneType$"):
        systrace.enable(None)  # type: ignore[arg-type]


# One phase: event names.


def _pipe_loop(n: int) -> None:
    r, w = os.pipe()
    try:
        for _ in range(n):
            os.write(w, b"x")
            os.read(r, 1)
    finally:
        os.close(r)
        os.close(w)


def test_event_name_selects_that_event_only(kernel):
    getppid = nr("getppid")
    with systrace.enable("sys_enter_getppid") as session:
        state = native.kernel_state()
        for _ in range(N):
            os.getppid()
    assert (state["enabled_enter"], state["enabled_exit"]) == ([getppid], [])
    assert (session.enter_syscalls, session.exit_syscalls) == ([getppid], [])
    assert session.syscalls == ["getppid"]
    assert _mine(session) == [("sys_enter_getppid", None)] * N
    assert session.dropped == 0


def test_enter_of_read_and_exit_of_write(kernel):
    with systrace.enable("sys_enter_read", "sys_exit_write") as session:
        state = native.kernel_state()
        _pipe_loop(N)
    assert (state["enabled_enter"], state["enabled_exit"]) == ([nr("read")], [nr("write")])
    assert _mine(session) == [("sys_exit_write", 1), ("sys_enter_read", None)] * N


# getuid, not getpid: systrace itself calls getpid (std::process::id()).


def test_plain_names_keep_both_phases(kernel):
    with systrace.enable("getppid", "sys_getuid") as session:
        state = native.kernel_state()
        for _ in range(N):
            os.getppid()
            os.getuid()
    both = sorted([nr("getppid"), nr("getuid")])
    assert state["enabled_enter"] == both and state["enabled_exit"] == both
    assert _mine(session) == [
        ("sys_enter_getppid", None),
        ("sys_exit_getppid", os.getppid()),
        ("sys_enter_getuid", None),
        ("sys_exit_getuid", os.getuid()),
    ] * N


def test_flags_restrict_plain_names_not_events(kernel):
    with systrace.enable("getppid", "sys_enter_getuid", exit=False) as session:
        state = native.kernel_state()
        for _ in range(N):
            os.getppid()
            os.getuid()
    assert state["enabled_enter"] == sorted([nr("getppid"), nr("getuid")])
    assert state["enabled_exit"] == []
    assert _mine(session) == [("sys_enter_getppid", None), ("sys_enter_getuid", None)] * N
    with systrace.enable("sys_exit_getppid", "getuid", enter=False) as session:
        state = native.kernel_state()
        for _ in range(N):
            os.getppid()
            os.getuid()
    assert (state["enabled_enter"], state["enabled_exit"]) == ([], sorted([nr("getppid"), nr("getuid")]))
    assert _mine(session) == [("sys_exit_getppid", os.getppid()), ("sys_exit_getuid", os.getuid())] * N
    with pytest.raises(ValueError, match="'sys_enter_getuid' is an enter event, but enter=False"):
        systrace.enable("sys_enter_getuid", enter=False)


def test_syscall_set_keeps_its_phases(kernel):
    selection = SyscallSet.from_strace("sys_enter_read,sys_exit_write")
    assert selection == SyscallSet("sys_enter_read", "sys_exit_write")
    with systrace.enable(selection) as session:
        state = native.kernel_state()
        _pipe_loop(N)
    assert (state["enabled_enter"], state["enabled_exit"]) == ([nr("read")], [nr("write")])
    assert _mine(session) == [("sys_exit_write", 1), ("sys_enter_read", None)] * N


def test_syscall_set_api():
    s = SyscallSet("read", "sys_enter_openat", "sys_exit_write")
    assert (s.enter, s.exit) == ({nr("read"), nr("openat")}, {nr("read"), nr("write")})
    assert s.nrs == {nr("read"), nr("write"), nr("openat")} and len(s) == 3
    assert list(s) == sorted(s.nrs)
    assert s.names == ["read", "sys_exit_write", "sys_enter_openat"]
    assert eval(repr(s), {"SyscallSet": SyscallSet}) == s
    assert "sys_enter_read" in s and "read" in s and "sys_enter_write" not in s and "write" not in s
    assert s | SyscallSet("sys_enter_write") == SyscallSet("read", "write", "sys_enter_openat")
    assert hash(s) == hash(SyscallSet(*s.names))
    # "sys_exit_group" is the syscall exit_group; its exit event is sys_exit_exit_group.
    assert SyscallSet("sys_exit_group") == SyscallSet("exit_group")
    assert SyscallSet("sys_exit_exit_group").exit == {nr("exit_group")} == SyscallSet("sys_exit_exit_group").nrs
    assert SyscallSet("sys_exit_exit_group").enter == set()
    assert not SyscallSet.from_strace("none") and SyscallSet.from_strace("all") == SyscallSet()
    # Every number, those without a name too (named as strace names them,
    # syscall_0x1f4, which selects them again).
    assert SyscallSet(enter=False) == SyscallSet.from_strace("!all") | SyscallSet(
        *[f"sys_exit_{n}" for n in SyscallSet().names]
    )
    assert len(SyscallSet()) == 1024 > len(systrace.syscall_names())
    assert SyscallSet("syscall_0x1f4").nrs == {500} and "syscall_0x1f4" in SyscallSet().names
    assert SyscallSet("sys_syscall_0x1f4") == SyscallSet("syscall_0x1f4")  # str(event)'s name
    negated = SyscallSet.from_strace("!sys_enter_read")
    assert nr("read") not in negated.enter and nr("read") in negated.exit
    # As strace's: empty items skipped; `none` only as the whole set.
    assert SyscallSet.from_strace("read,,write") == SyscallSet.from_strace("read,write")
    for bad in (",", "none,read", "/^rea(", "%nope", "nope"):
        with pytest.raises(ValueError):
            SyscallSet.from_strace(bad)


# The command.


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "systrace", *args], capture_output=True, text=True, timeout=60
    )


LOOP = "import os\nfor _ in range(7): os.getppid()"


def test_command_kernel_format_takes_event_names(kernel):
    r = _run("--format", "kernel", "-e", "trace=sys_enter_getppid", "--", sys.executable, "-c", LOOP)
    assert r.returncode == 0, r.stderr
    assert r.stderr.count("sys_getppid()") == 7, r.stderr
    assert "sys_getppid ->" not in r.stderr
    r = _run("--format", "kernel", "-e", "trace=sys_exit_getppid", "--", sys.executable, "-c", LOOP)
    assert r.returncode == 0, r.stderr
    assert len(re.findall(r"^sys_getppid -> 0x[0-9a-f]+$", r.stderr, re.M)) == 7, r.stderr
    assert "sys_getppid()" not in r.stderr
    # Both phases by name, and classes.
    r = _run("--format", "kernel", "-e", "trace=getppid", "--", sys.executable, "-c", LOOP)
    assert r.stderr.count("sys_getppid()") == 7 and r.stderr.count("sys_getppid -> ") == 7, r.stderr
    r = _run("-e", "trace=%pure", "--", sys.executable, "-c", LOOP)
    assert r.returncode == 0, r.stderr
    assert len([line for line in r.stderr.splitlines() if line.startswith("getppid()")]) == 7, r.stderr


def test_command_rejects_event_names_outside_kernel_format():
    r = _run("-e", "trace=sys_enter_read", "--", "true")
    assert r.returncode == 1
    assert "an event name (sys_enter_NAME, sys_exit_NAME) selects one phase, which only --format kernel" in r.stderr
    r = _run("-e", "trace=%bogus", "--", "true")
    assert r.returncode == 1
    assert "-e 'trace=%bogus': unknown syscall class '%bogus'; the classes are %desc" in r.stderr


def test_printer_shows_the_selected_phase():
    """The command's native printer, on synthetic events: --format kernel
    shows the events of each phase the set selects."""
    enter, exit = systrace.Event("getppid", "enter", pid=5), systrace.Event("getppid", "exit", ret=4, pid=5)
    for selected, lines in (
        (SyscallSet("sys_enter_getppid"), ["sys_getppid()"]),
        (SyscallSet("sys_exit_getppid"), ["sys_getppid -> 0x4"]),
        (SyscallSet("getppid"), ["sys_getppid()", "sys_getppid -> 0x4"]),
        (SyscallSet("getpid"), []),
        ([nr("getppid")], ["sys_getppid()", "sys_getppid -> 0x4"]),
    ):
        printer = native.Printer(format="kernel", selected=selected)
        assert printer.feed([enter, exit]).splitlines() == lines, selected


# Event identity.


def _tracefs_id(event: str) -> int:
    with open(f"/sys/kernel/tracing/events/syscalls/{event}/id") as f:
        return int(f.read())


def test_event_id_is_the_kernels(kernel, tracefs):
    with systrace.enable("getppid", "uname") as session:
        os.getppid()
        os.uname()
    events = [e for e in session.events() if e.tid == threading.get_native_id()]
    assert [e.event_name for e in events] == [
        "sys_enter_getppid",
        "sys_exit_getppid",
        # tracefs names uname after its SYSCALL_DEFINE, newuname.
        "sys_enter_newuname",
        "sys_exit_newuname",
    ]
    assert [e.name for e in events[2:]] == ["uname", "uname"]
    for e in events:
        assert e.id == _tracefs_id(e.event_name) == systrace.event_class(e.event_name).id
    assert events[0].id != events[1].id
    # A synthetic event has the id of its kind.
    assert systrace.Event("getppid", "exit").id == _tracefs_id("sys_exit_getppid")


NO_EVENT = [n for n in ("_sysctl", "getpmsg", "tuxcall") if n in systrace.syscall_names()]


def test_syscalls_without_trace_event():
    assert NO_EVENT, f"no syscall known to lack a trace event on {systrace.ARCH}"
    for name in NO_EVENT:
        message = (
            f"the kernel has no trace event for syscall {name} (nr {nr(name)}), so it has no metadata "
            "and no event class; systrace traces it with its six raw arguments, arg0 to arg5"
        )
        for key in (name, nr(name), f"sys_{name}"):
            with pytest.raises(ValueError) as err:
                systrace.metadata(key)
            assert str(err.value) == message
        for event in (f"sys_enter_{name}", f"sys_exit_{name}"):
            with pytest.raises(ValueError) as err:
                systrace.event_class(event)
            assert str(err.value) == message
    with pytest.raises(ValueError, match="unknown syscall 'nosuch'"):
        systrace.metadata("nosuch")


def test_syscall_without_trace_event_is_traced_with_six_args(kernel):
    name = NO_EVENT[0]
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    args = [ctypes.c_long(i) for i in (11, 12, 13, 14, 15, 16)]
    with systrace.enable(name) as session:
        assert libc.syscall(ctypes.c_long(nr(name)), *args) == -1
    enter, exit = [e for e in session.events() if e.tid == threading.get_native_id()]
    assert enter.args == {f"arg{i}": 11 + i for i in range(6)}
    assert enter.raw_args == [11, 12, 13, 14, 15, 16]
    assert (enter.event_name, enter.id, exit.id) == (f"sys_enter_{name}", None, None)
    assert exit.ret == -38  # ENOSYS
