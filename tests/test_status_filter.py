"""strace's -z, -Z and -e status= decided in BPF: the command compiles the
classes into a filter on `ret` (ANDed with --filter) that the programs run
at each call's exit, so a call not shown never crosses the ring buffer.
Real kernel, real programs, against the real strace."""
from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

import systrace._native as native
from systrace.cli import status_filter

from test_strace_diff import compare, parse
from test_filter import reads, records
from test_strace_diff_values import strace_bin, traces  # noqa: F401 (a fixture)

FAILED = status_filter(["failed"])
SUCCESSFUL = status_filter(["successful"])


def test_status_classes_as_filters():
    assert FAILED == "ret < 0 && ret >= -4095"
    assert SUCCESSFUL == "ret >= 0 || ret < -4095"
    # Calls that never return have no exit to decide at: user space decides.
    assert status_filter(["failed", "unfinished"]) is None
    assert status_filter(["successful", "failed"]) is None
    assert status_filter(None) is None
    assert status_filter([]) == "ret < 0 && ret >= 0"


@pytest.mark.usefixtures("kernel")
@pytest.mark.parametrize("expr, kept", [(FAILED, "failed"), (SUCCESSFUL, "successful")])
def test_a_status_filter_sends_only_its_calls(expr, kept):
    r, w = os.pipe()
    os.write(w, b"x" * 4096)
    try:
        with native.Session("read", _and_filter=expr) as s:
            before = records()
            reads(r, 40)  # 1 each
            reads(9999, 3)  # EBADF
        evs = s.events()
    finally:
        os.close(r)
        os.close(w)
    n = 3 if kept == "failed" else 40
    exits = [e for e in evs if e.phase == "exit"]
    assert len(exits) == n and len(evs) == 2 * n
    assert all((e.ret == -9) == (kept == "failed") for e in exits)
    # Only the kept calls crossed the ring buffer (plus the closing's own at most).
    assert 2 * n <= records() - before <= 2 * n + 2
    assert s.dropped == 0


@pytest.mark.usefixtures("kernel")
def test_a_status_filter_ands_with_the_filter():
    r, w = os.pipe()
    os.write(w, b"x" * 4096)
    try:
        with native.Session("read", "getppid", filter={"read": "count == 2"}, _and_filter=FAILED) as s:
            before = records()
            reads(9999, 3, size=1)  # failed, count 1: out
            reads(9999, 2, size=2)  # failed, count 2: in
            reads(r, 5, size=2)  # count 2, successful: out
            os.getppid()  # no --filter of its own: the status alone, successful: out
        evs = s.events()
    finally:
        os.close(r)
        os.close(w)
    assert [(e.name, e.phase) for e in evs] == [("read", "enter"), ("read", "exit")] * 2
    assert all(e.args["count"] == 2 for e in evs if e.phase == "enter")
    assert records() - before <= 4 + 2


@pytest.mark.usefixtures("kernel")
def test_a_status_filter_must_compile():
    with pytest.raises(ValueError, match="exit"):
        native.Session("read", exit=False, _and_filter=FAILED)


PROGRAMS = [
    ["ls", "/nonexistent-systrace", "/etc"],
    ["cat", "/nonexistent-systrace"],
    [sys.executable, "-c", "import importlib.util as u; u.find_spec('no_such_module_systrace')"],
]


@pytest.mark.parametrize("argv", PROGRAMS, ids=["ls", "cat", "python"])
@pytest.mark.parametrize("flag", ["-Z", "-z"])
def test_z_and_Z_like_strace(kernel, tmp_path, strace_bin, argv, flag):
    theirs, ours = traces(tmp_path, strace_bin, [flag, "-e", "trace=%file,close,read"], argv, status=(0, 1, 2))
    p_ours = parse(ours)
    compare(p_ours, parse(theirs))
    (calls,) = p_ours.values()
    results = [c[2] for c in calls if c[0] != "+++"]
    assert results, ours
    assert all(r.startswith("-1 ") == (flag == "-Z") for r in results), results


@pytest.mark.parametrize("syscall", ["read", "pread64"])
@pytest.mark.parametrize("flag", ["-Z", "-z"])
def test_a_status_filter_keeps_the_signal_and_exit_lines(kernel, tmp_path, strace_bin, syscall, flag):
    # Signals and thread ends carry the signal (SIGCHLD: 17, pread64's
    # number on x86_64) or 0 (read's) where a call has its syscall: the
    # filter on those syscalls dropped them, uncounted.
    argv = ["sh", "-c", "cat /etc/hostname /nonexistent-systrace >/dev/null; true"]
    theirs, ours = traces(tmp_path, strace_bin, ["-f", flag, "-e", f"trace={syscall}"], argv)

    def ends(text):
        lines = [re.sub(r"^\[pid +\d+\] |^\d+ +", "", line) for line in text.splitlines()]
        # A child's pid and CPU times differ from run to run; a time of a
        # tick or more carries its seconds (` /* 0.01 s */`) in both.
        return [re.sub(r"si_pid=\d+|si_[us]time=\d+( /\* [\d.]+ s \*/)?", "", line) for line in lines
                if line.startswith(("---", "+++"))]

    assert ends(ours) == ends(theirs)
    assert [e[:3] for e in ends(ours)] == ["+++", "---", "+++"], ours  # cat's end, SIGCHLD, sh's


SIGRETURNS = """
import os, signal
signal.signal(signal.SIGUSR1, lambda *a: None)
signal.signal(signal.SIGALRM, lambda *a: None)
os.kill(os.getpid(), signal.SIGUSR1)
signal.setitimer(signal.ITIMER_REAL, 0.05)
signal.pause()
"""


@pytest.mark.usefixtures("kernel")
@pytest.mark.parametrize("flag", ["-z", "-Z", "-e status=successful", "-e status=failed"])
def test_rt_sigreturn_is_shown_by_its_return_like_strace(tmp_path, strace_bin, flag):
    # rt_sigreturn has no exit for a filter on `ret` to decide at: its
    # return (what the interrupted call returns, read from the signal
    # frame) decides, as strace's -z shows `rt_sigreturn(...) = 0` after
    # the kill and -Z `= -1 EINTR` after the pause.
    prog = tmp_path / "sigreturn.py"
    prog.write_text(SIGRETURNS)
    texts = []
    for tracer in ([strace_bin], [sys.executable, "-m", "systrace"]):
        out = tmp_path / "out.txt"
        subprocess.run([*tracer, *flag.split(), "-e", "trace=rt_sigreturn,kill,pause", "-e", "signal=none",
                        "-o", str(out), sys.executable, str(prog)], check=True, timeout=60)
        texts.append([re.sub(r"\s+= ", " = ", re.sub(r"\d{3,}", "PID", line))
                      for line in out.read_text().splitlines()])
    theirs, ours = texts
    assert any(line.startswith("rt_sigreturn(") for line in ours), ours
    assert ours == theirs
