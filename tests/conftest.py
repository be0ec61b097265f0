"""Shared fixtures. Kernel tests need root (or CAP_BPF+CAP_PERFMON) and a
kernel with BPF and BTF; without them they skip with the reason, unless
SYSTRACE_REQUIRE_KERNEL=1 (set by .ci/run), which turns every such skip
into a failure: in CI every kernel test runs."""
from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

REQUIRE_KERNEL = os.environ.get("SYSTRACE_REQUIRE_KERNEL") == "1"
TRACEFS = "/sys/kernel/tracing"
# The running kernel's (major, minor), for what a test checks only from
# a version on.
KERNEL_RELEASE = tuple(int(x) for x in re.findall(r"\d+", os.uname().release)[:2])


def _kernel_unavailable() -> str | None:
    """Why the kernel cannot be traced here, or None when it can."""
    if not os.path.exists("/sys/kernel/btf/vmlinux"):
        return "this kernel has no BTF (/sys/kernel/btf/vmlinux is missing)"
    # Probe in a child so a failure cannot leave state in the test process.
    probe = (
        "import systrace\n"
        "with systrace.enable('getppid') as s:\n"
        "    import os; os.getppid()\n"
        "assert any(True for _ in s), 'no event'\n"
    )
    r = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        return "systrace cannot trace here: " + (r.stderr.strip().splitlines() or ["?"])[-1]
    return None


_REASON: list = []


def kernel_reason() -> str | None:
    if not _REASON:
        _REASON.append(_kernel_unavailable())
    return _REASON[0]


def require(reason: str | None) -> None:
    """Skip with `reason`, or fail when the run requires the kernel."""
    if reason is None:
        return
    if REQUIRE_KERNEL:
        pytest.fail(f"SYSTRACE_REQUIRE_KERNEL=1 but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture
def kernel() -> None:
    """Use in every test that needs to trace the real kernel."""
    require(kernel_reason())


@pytest.fixture
def tracefs() -> str:
    """The tracefs mount, for tests that compare with the kernel's own events."""
    if not os.path.isdir(os.path.join(TRACEFS, "events", "syscalls")):
        require(f"tracefs is not mounted at {TRACEFS} (mount -t tracefs nodev {TRACEFS})")
    return TRACEFS


def wait_hooks_closed(timeout: float = 30.0) -> dict:
    """Waits until the per-syscall hooks that closed sessions retired are
    closed (systrace closes them in the background, after a short linger), and
    returns the kernel state then."""
    import time

    import systrace._native as native

    deadline = time.monotonic() + timeout
    while native.kernel_state()["hooks_closing"] and time.monotonic() < deadline:
        time.sleep(0.02)
    return dict(native.kernel_state())


@pytest.fixture(autouse=True)
def _nothing_left_attached(request):
    """After every kernel test, systrace holds nothing in the kernel."""
    yield
    if "kernel" not in request.fixturenames:
        return
    import systrace._native as native

    state = native.kernel_state()
    assert state["sessions"] == 0, f"sessions left open: {state}"
    assert not state["attached_enter"] and not state["attached_exit"], f"programs left attached: {state}"
    assert not state["attached_task_events"], f"signal, exit or fork programs left attached: {state}"
    assert state["enabled_enter"] == [] and state["enabled_exit"] == [], f"enable bits left set: {state}"


class Steal:
    """The time the hypervisor gave this VM's CPUs to other guests while
    a test ran, from /proc/stat (ticks, all CPUs). A call's time run is
    measured in the CPUs' clock_task, which leaves steal out: a sleep that
    wakes on a VM being stolen from shows up to the steal of its sleep as
    time run (README, -c). Tests of the time run allow it, and no more:
    where nothing was stolen they are as strict as without it."""

    def __init__(self) -> None:
        self.start = self._ticks()

    @staticmethod
    def _ticks() -> int:
        with open("/proc/stat") as f:
            return int(f.readline().split()[8])

    def ns(self) -> int:
        """The steal since the start, with a tick per CPU for the count's
        own granularity when there was any."""
        ticks = self._ticks() - self.start
        if ticks == 0:
            return 0
        return (ticks + os.cpu_count()) * 1_000_000_000 // os.sysconf("SC_CLK_TCK")
