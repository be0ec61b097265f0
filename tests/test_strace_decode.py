"""strace-class decoding without the kernel: synthetic calls formatted as
strace 6.1 prints the same calls, pairing, the -c table, classes, and the
command line's parsing."""
from __future__ import annotations

import json
import os

import pytest

import systrace
import systrace._native as native
from systrace import Call, Event, calls, cli, iter_calls

strace = native
AT_FDCWD = -100


def a(name, c_type, raw, captured=None, truncated=False):
    """One argument of a synthetic call: its register, what was captured."""
    return (raw, captured, truncated)


def synthetic_call(name, args, ret):
    """The Call of a syscall with these registers and captures; ret None:
    unfinished. Captures are named as the syscall's metadata names them."""
    arg_names = systrace.metadata(name).args
    raw = [r if r >= 0 else r + 2**64 for r, _, _ in args]
    captured = {arg_names[i]: c for i, (_, c, _) in enumerate(args) if c is not None}
    status = {arg_names[i]: "truncated" for i, (_, c, t) in enumerate(args) if c is not None and t}
    enter = Event(name, "enter", args=raw, pid=1, captured=captured, capture_status=status)
    exit = None if ret is None else Event(name, "exit", ret=ret, pid=1)
    return Call(enter, exit)


def line(name, args, ret, string_size=32, column=40, start_col=0):
    return synthetic_call(name, args, ret).strace(string_size, column=column, start_col=start_col)


def test_openat_and_errno():
    args = [
        a("dfd", "int", AT_FDCWD),
        a("filename", "const char *", 0x1000, b"/etc/hostname"),
        a("flags", "int", os.O_RDONLY),
        a("mode", "umode_t", 0),
    ]
    assert line("openat", args, 3) == 'openat(AT_FDCWD, "/etc/hostname", O_RDONLY) = 3'
    args[2] = a("flags", "int", os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC)
    args[3] = a("mode", "umode_t", 0o644)
    assert line("openat", args, -2) == (
        'openat(AT_FDCWD, "/etc/hostname", O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC, 0644)'
        " = -1 ENOENT (No such file or directory)"
    )
    assert strace.format_error(13) == "-1 EACCES (Permission denied)"
    assert strace.errno_name(2) == "ENOENT" and strace.errno_of(-2) == 2 and strace.errno_of(5) is None


def test_flags_and_constants():
    args = [a("dfd", "int", AT_FDCWD), a("filename", "const char *", 0x1000, b"/tmp"),
            a("flags", "int", os.O_RDONLY | os.O_CLOEXEC | os.O_DIRECTORY), a("mode", "umode_t", 0)]
    assert line("openat", args, 3).startswith('openat(AT_FDCWD, "/tmp", O_RDONLY|O_CLOEXEC|O_DIRECTORY)')
    assert line("access", [a("filename", "const char *", 1, b"/etc"), a("mode", "int", os.R_OK | os.X_OK)], 0) \
        .startswith('access("/etc", R_OK|X_OK)')
    assert line("lseek", [a("fd", "unsigned int", 3), a("offset", "off_t", -2), a("whence", "unsigned int", 1)], 1) \
        .startswith("lseek(3, -2, SEEK_CUR)")
    assert line("kill", [a("pid", "pid_t", 5), a("sig", "int", 2)], 0).startswith("kill(5, SIGINT)")
    assert line("futex", [a("uaddr", "u32 *", 0x7f00), a("op", "int", 129), a("val", "u32", 1),
                          a("utime", "void *", 0), a("uaddr2", "u32 *", 0), a("val3", "u32", 0)], 0) \
        .startswith("futex(0x7f00, FUTEX_WAKE_PRIVATE, 1)")
    mmap = [a("addr", "unsigned long", 0), a("len", "unsigned long", 8192), a("prot", "unsigned long", 3),
            a("flags", "unsigned long", 0x22), a("fd", "unsigned long", 2**64 - 1), a("off", "unsigned long", 0)]
    assert line("mmap", mmap, 0x7F0000000000) == (
        "mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f0000000000"
    )


def test_quoting_non_utf8_and_truncation():
    write = [a("fd", "unsigned int", 1), a("buf", "const char *", 0x1000, b"a\tb\n\x01\x7f\xff\xc3\xa9\"\\\r\x0b\x0c\x00x"),
             a("count", "size_t", 16)]
    assert line("write", write, 16) == r'write(1, "a\tb\n\1\177\377\303\251\"\\\r\v\f\0x", 16) = 16'
    long = b"a" * 52
    write = [a("fd", "unsigned int", 1), a("buf", "const char *", 0x1000, long), a("count", "size_t", 52)]
    assert line("write", write, 52) == 'write(1, "' + "a" * 32 + '"..., 52)' + " = 52"
    assert line("write", write, 52, string_size=4) == 'write(1, "aaaa"..., 52)                 = 52'
    # A capture cut by its size bound: "..." even when the count is unknown.
    path = [a("filename", "const char *", 1, b"/very/long", True)]
    assert line("unlink", path, 0).startswith('unlink("/very/long"...)')


def test_unfinished_resumed_and_alignment():
    read = [a("fd", "unsigned int", 0), a("buf", "char *", 0x1000), a("count", "size_t", 10)]
    assert line("read", read, None) == "read(0,  <unfinished ...>)              = ?"
    assert line("exit_group", [a("error_code", "int", 3)], None) == "exit_group(3)                           = ?"
    assert Call(None, Event("read", "exit", ret=3, pid=1)).strace() == "<... read resumed>)                     = 3"
    prefixed = "[pid 42] " + line("close", [a("fd", "unsigned int", 3)], 0, start_col=9)
    assert prefixed.index("=") == 40
    assert strace.format_duration(12_000) == "<0.000012>"


def test_argv_and_format_args():
    args = [a("filename", "const char *", 1, b"/bin/ls"), a("argv", "const char *const *", 2, [b"ls", b"/tmp\xff"]),
            a("envp", "const char *const *", 0x7FFC00)]
    assert line("execve", args, 0) == r'execve("/bin/ls", ["ls", "/tmp\377"], 0x7ffc00) = 0'
    assert synthetic_call("execve", args, 0).strace_args() == ['"/bin/ls"', r'["ls", "/tmp\377"]', "0x7ffc00"]
    with pytest.raises(TypeError):
        Event("execve", "enter", args=[1, 2, 3], captured={"filename": 5})
    with pytest.raises(ValueError, match="no argument"):
        Event("execve", "enter", args=[1, 2, 3], captured={"nosuch": b"x"})


# Calls from synthetic events.


def _nr(name):
    return native.syscall_nr(name)


def openat_events(tid, t, path, ret):
    enter = Event("openat", "enter", tid=tid, timestamp_ns=t, args=[2**32 - 100, 0x1000, 0, 0],
                  captured={"filename": path}, comm="test")
    exit = Event("openat", "exit", tid=tid, timestamp_ns=t + 500, ret=ret, comm="test")
    return enter, exit


def test_call_from_events():
    enter, exit = openat_events(7, 1000, b"/etc/caf\xe9", -2)
    call = Call(enter, exit)
    assert call.name == "openat" and call.tid == 7 and call.pid == 7
    assert call.args["filename"] == b"/etc/caf\xe9"  # not UTF-8: kept as bytes
    assert call.args["dfd"] == -100
    assert call.ret == -2 and call.errno == "ENOENT" and call.error == "No such file or directory"
    assert call.failed and call.duration_ns == 500 and not call.unfinished and not call.resumed
    assert call.strace() == r'openat(AT_FDCWD, "/etc/caf\351", O_RDONLY) = -1 ENOENT (No such file or directory)'
    d = call.to_dict()
    assert json.loads(json.dumps(d)) == d
    assert d["args"]["filename"] == {"hex": "2f6574632f636166e9"}
    assert d["errno"] == "ENOENT" and d["duration_ns"] == 500 and d["strace"] == call.strace()
    ok = Call(*openat_events(7, 1000, "/etc/hostname".encode(), 3))
    assert ok.args["filename"] == "/etc/hostname" and ok.errno is None and ok.error is None


def test_pairing_streams_and_keeps_strays():
    o1 = openat_events(1, 100, b"/a", 3)
    o2 = openat_events(2, 150, b"/b", 4)
    read_nr = _nr("read")
    stray_exit = Event(read_nr, "exit", tid=3, timestamp_ns=50, ret=5)
    hanging = Event(read_nr, "enter", tid=4, timestamp_ns=300, args=[0, 0x10, 10])
    exit_group = Event("exit_group", "enter", tid=5, timestamp_ns=400, args=[0])
    events = [stray_exit, o1[0], o2[0], o2[1], o1[1], hanging, exit_group]
    streamed = list(iter_calls(events))
    # In order of completion, then the unfinished.
    assert [(c.tid, c.name) for c in streamed] == [(3, "read"), (2, "openat"), (1, "openat"), (5, "exit_group"), (4, "read")]
    resumed = streamed[0]
    assert resumed.resumed and resumed.args == {} and resumed.ret == 5
    assert resumed.strace() == "<... read resumed>)                     = 5"
    assert streamed[3].strace() == "exit_group(0)                           = ?"
    assert streamed[4].unfinished and streamed[4].ret is None and streamed[4].duration_ns is None
    assert streamed[4].strace() == "read(0,  <unfinished ...>)              = ?"
    ordered = calls(events)
    assert [c.timestamp_ns for c in ordered] == sorted(c.timestamp_ns for c in ordered)
    assert len(calls(systrace.EventBatch(events))) == 5
    pairer = systrace.Pairer()
    assert pairer.push(o1[0]) == [] and pairer.pending == 1
    assert pairer.take_thread(1) == Call(o1[0]) and pairer.pending == 0
    assert [c.name for c in pairer.push(systrace.EventBatch([o2[0], o2[1]]))] == ["openat"]
    with pytest.raises(ValueError):
        Event("read", "sideways", tid=1)
    with pytest.raises(TypeError):
        pairer.push([object()])


def test_summary_table():
    text = strace.format_summary([("read", 0, 1, 0, 60_000), ("close", 3, 1, 0, 0), ("openat", 257, 2, 1, 40_000)])
    assert text == (
        "% time     seconds  usecs/call     calls    errors syscall\n"
        "------ ----------- ----------- --------- --------- ----------------\n"
        " 60.00    0.000060          60         1           read\n"
        " 40.00    0.000040          20         2         1 openat\n"
        "  0.00    0.000000           0         1           close\n"
        "------ ----------- ----------- --------- --------- ----------------\n"
        "100.00    0.000100          25         4         1 total\n"
    )


def test_classes():
    assert "openat" in strace.class_syscalls("%file") and "read" not in strace.class_syscalls("%file")
    assert strace.class_syscalls("%net") == strace.class_syscalls("%network")
    assert strace.class_syscalls("%bogus") is None
    assert strace.syscall_classes("openat") == ["desc", "file"]


# The command line, without running anything.


def test_trace_sets():
    nr = native.syscall_nr
    assert cli.parse_trace_set([]) is None
    assert cli.parse_trace_set(["trace=openat,read"]).nrs == {nr("openat"), nr("read")}
    # Two -e trace=: strace keeps the last.
    assert cli.parse_trace_set(["openat", "t=close"]).nrs == {nr("close")}
    assert cli.parse_trace_set(["trace=openat", "trace=!close"]).nrs == cli.parse_trace_set(["trace=!close"]).nrs
    files = cli.parse_trace_set(["trace=%file"])
    assert nr("openat") in files and nr("execve") in files and nr("read") not in files
    negated = cli.parse_trace_set(["trace=!read,write"])
    assert nr("read") not in negated and nr("openat") in negated
    with pytest.raises(cli.UsageError, match="raed|read"):
        cli.parse_trace_set(["trace=raed"])
    with pytest.raises(cli.UsageError, match="class"):
        cli.parse_trace_set(["trace=%bogus"])
    with pytest.raises(cli.UsageError):
        cli.parse_trace_set(["signal=SIGINT"])


def test_pids_and_capture_size():
    assert cli.parse_pids(["1,2", "3", "2"]) == [1, 2, 3]
    with pytest.raises(cli.UsageError):
        cli.parse_pids(["x"])
    # Paths are shown whole up to PATH_MAX, whatever -s says.
    assert cli.capture_size(32) == 4096 == systrace.MAX_CAPTURE
    assert cli.capture_size(10_000) == systrace.MAX_CAPTURE


def test_usage_errors(capsys):
    # strace's exit status for a usage error, 1.
    assert cli.main([]) == 1
    assert "must have PROG" in capsys.readouterr().err
    assert cli.main(["-e", "trace=nosuchcall", "--", "true"]) == 1
    assert cli.main(["-p", "1", "--", "true"]) == 1
    with pytest.raises(SystemExit) as exit:
        cli.main(["--help"])
    assert exit.value.code == 0
    help_text = capsys.readouterr().out
    for option in ("-e", "-p", "-f", "-c", "-T", "-t", "-o", "-s", "--format"):
        assert option in help_text
