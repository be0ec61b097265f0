"""Counting in the kernel through an event filter (count=True, filter=;
`systrace -c --filter`): the counting consumer counts only the calls that
pass. Real kernel, real syscalls, and the real strace."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

import systrace._native as native

from test_strace_diff_values import strace_bin, traces  # noqa: F401 (a fixture)

from test_filter import pipe, reads  # noqa: F401 (pipe is a fixture)
from test_strace_diff import counts_table

pytestmark = pytest.mark.usefixtures("kernel")


def read_count(s: native.Session) -> tuple:
    rows = [c for c in s.counts() if c.name == "read"]
    if not rows:
        return (0, 0, {})
    (c,) = rows
    return (c.calls, c.errors, c.errnos)


def test_count_only_the_calls_an_argument_filter_passes(pipe):
    r, _ = pipe
    with native.Session("read", count=True, filter=f"fd == {r}") as s:
        assert native.kernel_state()["count_filtered"] == [native.syscall_nr("read")]
        reads(r, 10)
        reads(9999, 7)  # EBADF, another fd: not counted
        reads(r, 3, size=2)
    assert read_count(s) == (13, 0, {})
    assert native.kernel_state()["count_filtered"] == []
    # The counted time is that of the counted calls alone: a histogram of 13.
    (c,) = s.counts()
    assert sum(c.histogram) == 13


def test_count_only_the_calls_a_ret_filter_passes(pipe):
    r, _ = pipe
    with native.Session("read", count=True, filter="ret < 0") as s:
        reads(r, 10)
        reads(9999, 7)
    assert read_count(s) == (7, 7, {"EBADF": 7})


def test_an_unfiltered_count_counts_every_call(pipe):
    r, _ = pipe
    with native.Session("read", count=True) as s:
        reads(r, 10)
        reads(9999, 7)
    assert read_count(s) == (17, 7, {"EBADF": 7})


def test_counting_sessions_of_a_syscall_share_one_filter(pipe):
    r, _ = pipe
    with native.Session("read", count=True, filter=f"fd == {r}") as a:
        with native.Session("read", "getppid", count=True, filter={"read": f"fd == {r}"}) as b:
            reads(r, 4)
            reads(9999, 2)
            os.getppid()
        for other in (None, "fd == 9999"):
            with pytest.raises(ValueError, match="same filter"):
                native.Session("read", count=True, filter=other)
        reads(r, 1)
    assert read_count(a) == (5, 0, {})
    assert read_count(b) == (4, 0, {})
    assert sorted(c.name for c in b.counts()) == ["getppid", "read"]
    # Once they are closed, another filter may count the syscall.
    with native.Session("read", count=True, filter="fd == 9999") as c:
        reads(r, 3)
        reads(9999, 2)
    assert read_count(c) == (2, 2, {"EBADF": 2})
    assert native.kernel_state()["count_filtered"] == []


def test_a_count_filter_and_an_event_filter_keep_their_own(pipe):
    r, _ = pipe
    with native.Session("read", count=True, filter="fd == 9999") as counting:
        with native.Session("read", filter=f"fd == {r}") as tracing:
            reads(r, 3)
            reads(9999, 5)
    assert read_count(counting) == (5, 5, {"EBADF": 5})
    enters = [e for e in tracing.events() if e.phase == "enter"]
    assert len(enters) == 3 and all(e.args["fd"] == r for e in enters)


def test_count_filters_the_programs_cannot_make_are_refused():
    with pytest.raises(ValueError, match="strings=True"):
        native.Session("openat", count=True, filter='filename ~ "/etc/*"')
    with pytest.raises(ValueError, match="unknown field"):
        native.Session("read", count=True, filter="fx == 1")
    assert native.kernel_state()["count_filtered"] == []


@pytest.mark.parametrize("flag", ["-Z", "-z"])
def test_c_counts_every_call_with_z_like_strace(tmp_path, strace_bin, flag):
    # strace's -c counts every call whatever -z/-Z say: so does the command.
    argv = ["cat", "/nonexistent-systrace", "/etc/hostname", "/nonexistent-systrace-2"]
    theirs, ours = traces(tmp_path, strace_bin, ["-c", flag, "-e", "trace=openat,read,close,fstat"], argv,
                          status=(1,))
    # Times differ by nature (and strace's are CPU time): calls and errors.
    assert counts_table(ours) == counts_table(theirs)
    rows = counts_table(ours)
    assert rows["openat"][1] >= 2 and rows["openat"][0] > rows["openat"][1] and rows["close"][0] > 0


def test_c_with_filter_counts_the_calls_it_passes(tmp_path):
    out = tmp_path / "out.txt"
    code = "import os\nfor _ in range(9): os.read(0, 0)\nfor _ in range(4): os.read(0, 1)"
    r = subprocess.run([sys.executable, "-m", "systrace", "-o", str(out), "-c", "-e", "trace=read",
                        "--filter", "fd == 0 && count == 0", "--", sys.executable, "-c", code],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert counts_table(out.read_text())["read"] == (9, 0)


def test_c_with_filter_counts_every_syscall_through_it(tmp_path):
    # No -e: 1,024 syscall numbers, more than the programs' filter slots;
    # the same filter shares one slot (it was refused as "cannot be counted").
    out = tmp_path / "out.txt"
    code = "import os\nfor _ in range(5):\n    try: os.close(9999)\n    except OSError: pass"
    r = subprocess.run([sys.executable, "-m", "systrace", "-o", str(out), "-c", "--filter", "ret == -9",
                        "--", sys.executable, "-S", "-c", code],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    rows = counts_table(out.read_text())
    assert rows["close"] == (5, 5), rows
    assert all(calls == errors for calls, errors in rows.values()), rows


EXECVEAT = """
import os
pid = os.fork()
if pid == 0:
    fd = os.open("/bin/true", os.O_RDONLY)
    try:
        os.execve(9999, ["true"], {})  # execveat(9999, "", ...): EBADF
    except OSError:
        pass
    os.execve(fd, ["true"], {})  # execveat(fd, "", ..., AT_EMPTY_PATH)
os.waitpid(pid, 0)
"""


def test_c_counts_execveat_alone_like_strace(tmp_path, strace_bin):
    # A successful execveat returns by execve's number: counted alone
    # (-e trace=execveat), its exit was never seen, and -c said 0 calls.
    script = tmp_path / "execveat.py"
    script.write_text(EXECVEAT)
    theirs, ours = traces(tmp_path, strace_bin, ["-f", "-c", "-e", "trace=execveat"],
                          [sys.executable, str(script)])
    assert counts_table(ours) == counts_table(theirs)
    assert counts_table(ours)["execveat"] == (2, 1), ours


def test_c_counting_nothing_prints_nothing_like_strace(tmp_path, strace_bin):
    theirs, ours = traces(tmp_path, strace_bin, ["-c", "-e", "trace=mount"], ["true"])
    assert ours == theirs == ""
