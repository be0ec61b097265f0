"""Event filters evaluated in BPF (filter=, --filter): the kernel's filter
grammar, with the semantics of calls. Real kernel, real syscalls."""
from __future__ import annotations

import os
import subprocess
import sys
import threading

import pytest

import systrace
import systrace._native as native

pytestmark = pytest.mark.usefixtures("kernel")


def records() -> int:
    return native.kernel_state()["records"]


def reads(fd: int, n: int, size: int = 1) -> None:
    for _ in range(n):
        try:
            os.read(fd, size)
        except OSError:
            pass


@pytest.fixture
def pipe():
    r, w = os.pipe()
    os.write(w, b"x" * 4096)
    yield r, w
    os.close(r)
    os.close(w)


def fd_of(ev: systrace.Event) -> int:
    return ev.args["fd"]


@pytest.mark.parametrize(
    "expr, column, words",
    [
        ("fd == x", 7, "expected a number"),
        ("fd == 3 &&", 11, "expected a field"),
        ("fx == 3", 1, "unknown field 'fx'"),
        ("fd == 3 && (count > 1", 22, "expected ')'"),
        ("fd == \"3\"", 7, "with a string"),
        ("fd ~ \"a*\"", 6, "with a string"),
        ("fd == 0x1ffffffff", 7, "range"),
    ],
)
def test_bad_filters_raise_pointing_at_the_spot(expr, column, words):
    with pytest.raises(ValueError) as err:
        systrace.enable("read", filter=expr)
    msg = str(err.value)
    assert msg.startswith(f"filter '{expr}': ") and words in msg, msg
    assert msg.endswith(f"at column {column}"), msg
    assert native.kernel_state()["sessions"] == 0


def test_other_bad_filter_arguments():
    with pytest.raises(ValueError, match="strings=True"):
        systrace.enable("openat", filter='filename ~ "/etc/*"')
    with pytest.raises(ValueError, match="exit"):
        systrace.enable("read", exit=False, filter="ret < 0")
    with pytest.raises(ValueError, match="not traced"):
        systrace.enable("read", filter={"write": "fd == 1"})
    with pytest.raises(TypeError):
        systrace.enable("read", filter=3)  # type: ignore[arg-type]


def test_an_argument_filter_drops_both_phases_in_the_kernel(pipe):
    r, _ = pipe
    with systrace.enable("read", filter=f"fd == {r}") as s:
        # Read in the session: the consumer of an earlier test's session
        # may still be closing (its count, not this one's).
        before = records()
        reads(r, 3)
        reads(9999, 50)  # EBADF: rejected at enter, exit dropped too
    evs = s.events()
    assert [e.phase for e in evs] == ["enter", "exit"] * 3
    assert all(fd_of(e) == r for e in evs if e.phase == "enter")
    assert all(e.ret == 1 for e in evs if e.phase == "exit")
    assert s.dropped == 0
    # What crossed the ring buffer is exactly what was delivered.
    assert records() - before == 6
    assert native.kernel_state()["filtered"] == []


def test_a_ret_filter_delivers_the_call_whole(pipe):
    r, _ = pipe
    with systrace.enable("read", filter="ret < 0") as s:
        before = records()  # in the session, as above
        reads(r, 20)
        reads(9999, 2)
    evs = s.events()
    assert [e.phase for e in evs] == ["enter", "exit"] * 2
    for enter, exit in zip(evs[::2], evs[1::2]):
        assert fd_of(enter) == 9999 and exit.ret == -9
        assert enter.tid == exit.tid
        assert enter.timestamp_ns < exit.timestamp_ns, "the enter keeps its own time"
    assert records() - before == 4
    calls = systrace.calls(evs)
    assert [c.name for c in calls] == ["read", "read"] and all(c.errno == "EBADF" for c in calls)


def test_a_filter_rejecting_everything_sends_nothing(pipe):
    r, _ = pipe
    with systrace.enable("read", "getppid", filter={"read": "fd == 999999"}) as s:
        assert native.kernel_state()["filtered"] == [native.syscall_nr("read")]
        before = records()
        reads(r, 200)
        os.getppid()
    evs = s.events()
    assert [e.name for e in evs] == ["getppid", "getppid"]
    # Only getppid's two records crossed the ring (no read did).
    assert records() - before <= 2 + 2  # the closing's own records at most
    assert s.dropped == 0


def test_two_sessions_each_get_their_own(pipe):
    r, _ = pipe
    with systrace.enable("read", filter=f"fd == {r}") as a:
        with systrace.enable("read", filter="ret < 0") as b:
            with systrace.enable("read", filter="fd == 9999 && count == 2") as c:
                reads(r, 4)
                reads(9999, 3)
                reads(9999, 5, size=2)
    ea, eb, ec = a.events(), b.events(), c.events()
    assert len(ea) == 8 and all(fd_of(e) == r for e in ea if e.phase == "enter")
    assert len(eb) == 16 and all(e.ret == -9 for e in eb if e.phase == "exit")
    assert len(ec) == 10 and all(e.args["count"] == 2 for e in ec if e.phase == "enter")
    for s in (a, b, c):
        assert s.dropped == 0


def test_an_unfiltered_session_lifts_the_kernel_filter(pipe):
    r, _ = pipe
    nr = native.syscall_nr("read")
    with systrace.enable("read", filter="fd == 9999") as a:
        assert native.kernel_state()["filtered"] == [nr]
        with systrace.enable("read") as b:
            assert native.kernel_state()["filtered"] == []
            reads(r, 2)
            reads(9999, 1)
        assert native.kernel_state()["filtered"] == [nr]
    assert len([e for e in a.events() if e.phase == "enter"]) == 1
    assert len([e for e in b.events() if e.phase == "enter"]) >= 3


def test_globs_on_captured_strings(tmp_path):
    (tmp_path / "keep.txt").write_text("x")
    (tmp_path / "skip.dat").write_text("x")
    # The glob sees the captured string: capture the whole path.
    pattern = f'filename ~ "{tmp_path}/*.txt"'
    with systrace.enable("openat", strings=True, string_size=4096, filter=pattern) as s:
        for name in ("keep.txt", "skip.dat", "keep.txt"):
            os.close(os.open(tmp_path / name, os.O_RDONLY))
    calls = s.calls()
    assert [os.path.basename(c.args["filename"]) for c in calls] == ["keep.txt", "keep.txt"]
    assert all(c.ret >= 0 for c in calls)


def test_threads_and_common_pid(pipe):
    r, _ = pipe
    tids = []

    def worker():
        tids.append(threading.get_native_id())
        reads(r, 3)

    with systrace.enable("read", filter=f"common_pid == {threading.get_native_id()}") as s:
        t = threading.Thread(target=worker)
        t.start()
        t.join()
        reads(r, 2)
    evs = s.events()
    assert len(evs) == 4 and {e.tid for e in evs} == {threading.get_native_id()}


def test_run_and_the_cli_filter():
    done = systrace.run(
        ["cat", "/nonexistent", "/etc/hostname"], "openat", strings=True, filter="ret < 0",
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    calls = done.calls()
    assert "/nonexistent" in [c.args["filename"] for c in calls]
    assert calls and all(c.ret is not None and c.ret < 0 for c in calls)
    out = subprocess.run(
        [sys.executable, "-m", "systrace", "-e", "trace=openat", "--filter", "ret < 0", "--",
         "cat", "/nonexistent", "/etc/hostname"],
        capture_output=True, text=True,
    )
    lines = [line for line in out.stderr.splitlines() if line.startswith("openat(")]
    assert any('"/nonexistent"' in line for line in lines), out.stderr
    assert lines and all("= -1 E" in line for line in lines), out.stderr


def test_a_held_enter_with_captures_keeps_its_time_and_string(tmp_path):
    missing = str(tmp_path / "missing")
    with systrace.enable("openat", strings=True, string_size=4096, filter="ret == -2") as s:
        for _ in range(3):
            try:
                os.open(missing, os.O_RDONLY)
            except OSError:
                pass
        os.close(os.open(__file__, os.O_RDONLY))
    evs = s.events()
    assert [e.phase for e in evs] == ["enter", "exit"] * 3
    for enter, exit in zip(evs[::2], evs[1::2]):
        assert enter.timestamp_ns < exit.timestamp_ns and exit.ret == -2
        assert enter.captured["filename"] == missing.encode()


def test_an_exit_only_session_filters_on_ret(pipe):
    r, _ = pipe
    with systrace.enable("sys_exit_read", filter="ret < 0") as s:
        reads(r, 5)
        reads(9999, 2)
    evs = s.events()
    assert [(e.phase, e.ret) for e in evs] == [("exit", -9)] * 2


@pytest.mark.parametrize(
    "expr, counts",
    [
        # 3 predicates, 2 ANDs: 5 ops, run unrolled.
        ("fd == {r} && count <= 4 && count != 2", [1, 1, 3, 3, 4, 4]),
        # 5 predicates, 4 ANDs: 9 ops, past the 8 run unrolled: bpf_loop.
        ("fd == {r} && count >= 1 && count <= 4 && count != 3 && count != 2", [1, 1, 4, 4]),
    ],
)
def test_short_and_long_filter_programs_decide_in_the_kernel(pipe, expr, counts):
    r, _ = pipe
    with systrace.enable("read", filter=expr.format(r=r)) as s:
        before = records()
        for size in (1, 2, 3, 4, 5):
            reads(r, 2, size=size)
        reads(9999, 5)
    enters = [e for e in s.events() if e.phase == "enter"]
    assert [e.args["count"] for e in enters] == counts
    # Decided in the kernel: only those calls crossed the ring buffer.
    assert 2 * len(counts) <= records() - before <= 2 * len(counts) + 2
