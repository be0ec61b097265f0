"""The lock between systrace processes around the kernel's syscall events
(src/kernel/event_lock.rs, issue 15): a process that closes per-syscall
hooks takes it for each close, one that attaches for its attaches, so that
an attach waits for at most the one close under way. The waits are
bounded. These tests hold the lock themselves (flock on tracefs's
events/syscalls, as systrace does) and watch who waits for it."""
from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import threading
import time

import pytest

import systrace
import systrace._native as native
from conftest import TRACEFS, wait_hooks_closed
from test_hooks import TEN, no_event_links_left, our_event_links

EVENTS = os.path.join(TRACEFS, "events", "syscalls")


class Held:
    """The lock, held by the test until released."""

    def __init__(self) -> None:
        self.fd = os.open(EVENTS, os.O_RDONLY | os.O_DIRECTORY)
        fcntl.flock(self.fd, fcntl.LOCK_EX)

    def release(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


@pytest.fixture
def held(kernel, tracefs):
    locks = []

    def take() -> Held:
        locks.append(Held())
        return locks[-1]

    yield take
    for lock in locks:
        lock.release()


def test_closes_wait_for_the_lock_and_go_on_once_it_is_free(held, monkeypatch):
    monkeypatch.setenv("SYSTRACE_HOOKS", "syscall")
    wait_hooks_closed()
    s = systrace.enable(*TEN)
    lock = held()
    s.close()
    time.sleep(1.0)
    assert native.kernel_state()["hooks_closing"] == 20, "a hook was closed while another process held the lock"
    lock.release()
    assert wait_hooks_closed()["hooks_closing"] == 0


def test_an_attach_waits_for_the_lock_but_not_forever(held, monkeypatch):
    monkeypatch.setenv("SYSTRACE_HOOKS", "syscall")
    wait_hooks_closed()
    lock = held()
    threading.Timer(0.5, lock.release).start()
    start = time.monotonic()
    with systrace.enable("getppid"):
        waited = time.monotonic() - start
    assert waited >= 0.45, f"attached in {waited:.3f} s while the lock was held"
    # Held for longer than an attach waits: it goes on without the lock.
    lock = held()
    try:
        start = time.monotonic()
        with systrace.enable("getpid") as s:
            os.getpid()
        waited = time.monotonic() - start
        assert 1.5 <= waited < 8, f"an attach waited {waited:.1f} s for a held lock"
        assert any(e.name == "getpid" for e in s.events())
    finally:
        lock.release()
    wait_hooks_closed()


def test_the_commands_child_closes_its_hooks_under_the_lock(held, tmp_path):
    """The command exits at once; the child it leaves closes the hooks
    only once the lock is free."""
    # Other processes' children (earlier tests' commands) may still be
    # closing theirs: they are counted too.
    assert no_event_links_left() == 0
    proc = subprocess.Popen([sys.executable, "-m", "systrace", "-e", "trace=openat", "-o", str(tmp_path / "out"),
                             "--", "sleep", "1"], stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while our_event_links() == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert our_event_links() > 0, "the command did not attach"
    lock = held()
    assert proc.wait(timeout=30) == 0, proc.stderr.read()
    at_exit = our_event_links()
    time.sleep(1.5)  # the closes took 0.6 s here without the lock
    assert our_event_links() == at_exit > 0, "hooks were closed while another process held the lock"
    lock.release()
    deadline = time.monotonic() + 30
    while our_event_links() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert our_event_links() == 0, "the command's hooks outlived it"
