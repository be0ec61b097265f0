"""How the programs hold and apply event filters: slots replaced only after
a grace period, the exit of a call decided at enter deciding again from
the registers (on either kind of hooks, and across a switch), exec's exits.
Real kernel, real syscalls."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time

import pytest
from test_filter import reads

import systrace
import systrace._native as native

pytestmark = pytest.mark.usefixtures("kernel")


@pytest.fixture
def hooks(monkeypatch):
    """Sets SYSTRACE_HOOKS for the test (read at every registration)."""
    monkeypatch.delenv("SYSTRACE_HOOKS", raising=False)
    return lambda mode: monkeypatch.setenv("SYSTRACE_HOOKS", mode)


@pytest.mark.parametrize("mode", ["raw", "syscall"])
def test_the_exit_of_a_rejected_call_is_dropped_in_the_kernel(hooks, mode):
    """No mark carries the enter's verdict: the exit decides again, and
    drops what the enter dropped, on both kinds of hooks."""
    hooks(mode)
    r, w = os.pipe()
    os.write(w, b"x" * 64)
    try:
        with systrace.enable("read", filter=f"fd == {r} && count == 1") as s:
            assert native.kernel_state()["hook_mode"] == mode
            before = native.kernel_state()["records"]
            reads(r, 3)
            reads(r, 4, size=2)  # fd passes, count does not
            reads(9999, 50)  # EBADF: rejected at enter, exit dropped too
        sent = native.kernel_state()["records"] - before
    finally:
        os.close(r)
        os.close(w)
    evs = s.events()
    assert [e.phase for e in evs] == ["enter", "exit"] * 3
    assert all(e.args["fd"] == r and e.args["count"] == 1 for e in evs if e.phase == "enter")
    assert all(e.ret == 1 for e in evs if e.phase == "exit")
    assert sent == 6, "the rejected calls' exits crossed the ring buffer"
    assert s.dropped == 0


LOOP = r"""
import os, sys
z = os.open("/dev/zero", os.O_RDONLY)
print(z, flush=True)
sys.stdin.read(1)
n = 0
while not os.path.exists(sys.argv[1]):
    for _ in range(500):
        os.read(z, 1)
        try:
            os.read(9999, 1)
        except OSError:
            pass
    n += 500
print(n)
"""


def test_switching_hooks_under_a_filter_loses_and_doubles_nothing(hooks, tmp_path):
    """A filter that rejects every other read of a busy process while the
    hooks switch back and forth under its calls: the session sees each
    accepted call whole, once, and none of the rejected ones."""
    stop = tmp_path / "stop"
    busy = subprocess.Popen([sys.executable, "-c", LOOP, str(stop)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    idle = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE, text=True)
    try:
        z = int(busy.stdout.readline())
        before = native.kernel_state()
        with systrace.enable("read", pid=busy.pid, filter=f"fd == {z}") as s:
            assert native.kernel_state()["hook_mode"] == "syscall"
            busy.stdin.write("x")
            busy.stdin.close()
            for _ in range(6):
                with systrace.enable(pid=idle.pid):
                    assert native.kernel_state()["hook_mode"] == "raw"
            assert busy.poll() is None, "the loop must run across the switches"
            stop.touch()
            n = int(busy.stdout.read())
            assert busy.wait(timeout=120) == 0
        after = native.kernel_state()
    finally:
        idle.stdin.close()
        idle.wait(timeout=30)
        if busy.poll() is None:
            busy.kill()
    assert after["handoff_unsure"] == before["handoff_unsure"]
    evs = [e for e in s.events() if e.pid == busy.pid]
    assert s.dropped == 0
    enters = [e for e in evs if e.phase == "enter"]
    exits = [e for e in evs if e.phase == "exit"]
    assert all(e.args["fd"] == z for e in enters)
    assert all(e.ret == 1 for e in exits)
    # Not the stdin read (fd 0), which may have begun before the session
    # or after it: its exit decides the same as its enter.
    assert len(enters) == n
    assert len(exits) == n


def test_an_execs_exit_is_not_decided_again():
    """An exec replaces the registers that held its arguments: a filter on
    them is decided at enter only, and the exit of an accepted exec is
    delivered (here the new program's registers would reject it)."""
    with systrace.enable("execve", filter="argv != 0", follow=True, pid=os.getpid()) as s:
        subprocess.run(["/bin/true"], check=True)
    calls = [c for c in systrace.calls(s.events()) if c.name == "execve"]
    assert calls and all(c.ret == 0 for c in calls), [str(c) for c in calls]
    assert s.dropped == 0


SLOTS_CHILD = r"""
import json, os, systrace, systrace._native as native
r, w = os.pipe()
os.write(w, b"x" * 4096)
def reads(fd, n):
    for _ in range(n):
        try:
            os.read(fd, 1)
        except OSError:
            pass
out = {"rounds": []}
# Two slots: every third filter set must wait for a grace period to reuse
# one that was replaced.
for i in range(6):
    with systrace.enable("read", filter=f"fd == {r}") as s:
        reads(r, 2)
        reads(9999, 3)
    out["rounds"].append([(e.phase, e.args.get("fd"), e.ret) for e in s.events()])
out["grace"] = native.kernel_state()["filter_grace_periods"]
# Three filters at once, room for two: the third is applied in user space.
# (Different filters: syscalls with the same one share its slot.)
with systrace.enable("read", filter=f"fd == {r}") as a, \
        systrace.enable("write", filter="fd == 9999") as b, \
        systrace.enable("lseek", filter="fd >= 9999") as c:
    out["filtered"] = len(native.kernel_state()["filtered"])
    reads(r, 2)
    for _ in range(3):
        try:
            os.write(9999, b"x")
        except OSError:
            pass
        try:
            os.lseek(9999, 0, 0)
        except OSError:
            pass
out["full"] = [len(x.events()) for x in (a, b, c)]
out["r"] = r
# One filter for many syscalls, its two slots in use: all of them in the
# programs, one slot shared.
with systrace.enable("read", filter=f"fd == {r}"), \
        systrace.enable("write", "lseek", "close", "fsync", filter="fd == 9999") as d:
    out["shared"] = sorted(native.kernel_state()["filtered"])
    for _ in range(2):
        for call in (lambda: os.write(9999, b"x"), lambda: os.lseek(9999, 0, 0), lambda: os.close(9999),
                     lambda: os.fsync(9999), lambda: os.write(w, b"")):
            try:
                call()
            except OSError:
                pass
out["shared_events"] = sorted(e.name for e in d.events() if e.phase == "enter")
print(json.dumps(out))
"""


def test_replaced_filters_wait_for_a_grace_period_and_a_full_pool_filters_in_user_space():
    env = dict(os.environ, SYSTRACE_FILTER_SLOTS="3")
    p = subprocess.run([sys.executable, "-c", SLOTS_CHILD], capture_output=True, text=True, timeout=300, env=env)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    r = out["r"]
    for events in out["rounds"]:
        assert events == [["enter", r, None], ["exit", None, 1]] * 2, events
    assert out["grace"] >= 2
    assert out["filtered"] == 2
    # read: two calls; write and lseek on 9999: three each, whole.
    assert out["full"] == [4, 6, 6]
    nr = {name: native.syscall_nr(name) for name in ("read", "write", "lseek", "close", "fsync")}
    assert out["shared"] == sorted(nr.values())
    assert out["shared_events"] == sorted(["write", "lseek", "close", "fsync"] * 2)


@pytest.mark.parametrize("mode", ["raw", "syscall"])
def test_a_call_that_blocked_decides_again_at_its_exit(hooks, mode):
    """A blocked call's thread was switched out, so its exit cannot take
    the verdict its enter left on the CPU: it decides again, the same."""
    hooks(mode)
    (r1, w1), (r2, w2) = os.pipe(), os.pipe()
    got: dict = {}

    def blocked_read(fd: int) -> None:
        got[fd] = (threading.get_native_id(), os.read(fd, 1))

    try:
        with systrace.enable("read", filter=f"fd == {r1}") as s:
            before = native.kernel_state()["records"]
            threads = [threading.Thread(target=blocked_read, args=(fd,)) for fd in (r1, r2)]
            for t in threads:
                t.start()
            time.sleep(0.3)  # both block in read
            os.write(w1, b"a")
            os.write(w2, b"b")
            for t in threads:
                t.join(timeout=30)
        sent = native.kernel_state()["records"] - before
    finally:
        for fd in (r1, w1, r2, w2):
            os.close(fd)
    assert got[r1][1] == b"a" and got[r2][1] == b"b"
    evs = s.events()
    assert [(e.phase, e.tid) for e in evs] == [("enter", got[r1][0]), ("exit", got[r1][0])]
    assert evs[0].args["fd"] == r1 and evs[1].ret == 1
    assert sent == 2, "the rejected blocked call's exit crossed the ring buffer"
