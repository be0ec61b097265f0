"""Least privilege (issue 6): systrace runs with CAP_BPF and CAP_PERFMON and
nothing else -- not root, no CAP_SYS_ADMIN, no CAP_SYS_RESOURCE, no
RLIMIT_MEMLOCK, no read access to tracefs -- and fails with a
PermissionError that names the capabilities when it lacks them. It pins
nothing in bpffs, and what it can make the kernel (and itself) hold is
bounded by buffer_size.

Each test runs a child as nobody (uid/gid 65534, no groups) through
util-linux setpriv, with exactly the capabilities it names:

    setpriv --reuid=65534 --regid=65534 --clear-groups \
            --inh-caps=+bpf,+perfmon --ambient-caps=+bpf,+perfmon python -c ...

The test process itself must be root to drop to that set.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time

import pytest

from conftest import KERNEL_RELEASE, require

CAP_SYS_ADMIN = 21
CAP_SYS_RESOURCE = 24
CAP_PERFMON = 38
CAP_BPF = 39
NOBODY = 65534
BPFFS = "/sys/fs/bpf"


def setpriv_cmd(caps: str | None) -> list:
    setpriv = shutil.which("setpriv")
    cmd = [setpriv, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
    if caps:
        cmd += [f"--inh-caps={caps}", f"--ambient-caps={caps}"]
    else:
        cmd += ["--inh-caps=-all"]
    return cmd


def as_nobody(code: str, caps: str | None, timeout: float = 60, **kwargs) -> subprocess.CompletedProcess:
    env = dict(os.environ, HOME="/nonexistent", PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run(
        setpriv_cmd(caps) + [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd="/",
        env=env,
        **kwargs,
    )


@pytest.fixture
def nobody(kernel) -> None:
    """A root test process that can run children as nobody with setpriv."""
    if os.geteuid() != 0:
        require("these tests drop from root to nobody with chosen capabilities: run them as root")
    if shutil.which("setpriv") is None:
        require("setpriv (util-linux) is not installed")
    r = as_nobody("import systrace; print('ok')", caps=None)
    if r.stdout.strip() != "ok":
        require(f"nobody cannot import systrace from {sys.executable}: {r.stderr.strip()[-300:]}")


CHILD_PRELUDE = """
import json, os, sys, threading
import systrace, systrace._native as native

def status():
    with open("/proc/self/status") as f:
        return dict(line.rstrip("\\n").split(":\\t", 1) for line in f if ":\\t" in line)

def bpf_objects():
    # {map or prog id: fdinfo} of this process's BPF objects, from the kernel.
    out = {}
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
            if not target.startswith("anon_inode:bpf"):
                continue
            with open(f"/proc/self/fdinfo/{fd}") as f:
                info = dict(l.split(":\\t", 1) for l in f.read().splitlines() if ":\\t" in l)
        except OSError:
            continue
        for key in ("map_id", "prog_id", "link_id"):
            if key in info:
                info = {k: v.strip() for k, v in info.items()}
                info["kind"] = target
                out[key + " " + info[key]] = info
                break
    return out
"""


# --- it works with CAP_BPF + CAP_PERFMON -----------------------------------------


def test_cap_bpf_and_cap_perfmon_suffice_to_trace_own_syscalls(nobody):
    code = CHILD_PRELUDE + """
st = status()
r, w = os.pipe()
with systrace.enable("getppid", "lseek") as s:
    os.getppid()
    try:
        os.lseek(r, 0, os.SEEK_SET)  # a pipe: ESPIPE
    except OSError:
        pass
    state = native.kernel_state()
tid = threading.get_native_id()
print(json.dumps({
    "uid": os.getuid(), "euid": os.geteuid(), "gid": os.getgid(), "groups": os.getgroups(),
    "cap_eff": int(st["CapEff"], 16), "cap_prm": int(st["CapPrm"], 16),
    "tracefs_readable": os.access("/sys/kernel/tracing/events/syscalls", os.R_OK),
    "metadata": native.metadata_source(),
    "events": [[e.name, e.phase, e.ret, e.args] for e in s if e.tid == tid],
    "ppid": os.getppid(), "pipe": r, "dropped": s.dropped, "state": state,
}))
"""
    r = as_nobody(code, caps="+bpf,+perfmon")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    # Really unprivileged but for the two capabilities.
    assert (out["uid"], out["euid"], out["gid"], out["groups"]) == (NOBODY, NOBODY, NOBODY, [])
    assert out["cap_eff"] == out["cap_prm"] == (1 << CAP_BPF) | (1 << CAP_PERFMON), hex(out["cap_eff"])
    assert not out["cap_eff"] & (1 << CAP_SYS_ADMIN | 1 << CAP_SYS_RESOURCE)
    # And it traced its own syscalls, exactly, arguments named.
    espipe = -29
    assert out["events"] == [
        ["getppid", "enter", None, {}],
        ["getppid", "exit", out["ppid"], {}],
        ["lseek", "enter", None, {"fd": out["pipe"], "offset": 0, "whence": 0}],
        ["lseek", "exit", espipe, {}],
    ], out
    assert out["dropped"] == 0
    assert out["state"]["attached_enter"] and out["state"]["attached_exit"]
    # tracefs is root's (0700): without it the embedded metadata table
    # names the arguments (the kernel's event ids are then unknown).
    if not out["tracefs_readable"]:
        assert out["metadata"] == "embedded", out["metadata"]


def test_the_commands_threads_keep_up_without_cap_sys_nice(nobody):
    # cli._keep_up without CAP_SYS_NICE: the kernel refuses nice -20, and
    # the thread still takes the short time slice (Linux 6.12+) with the
    # nice value it had.
    code = """
import os, threading
import systrace._native as native
tid = threading.get_native_id()
native._keep_up_thread(tid, -20, 100000)
slices = [int(l.split(":")[1]) for l in open(f"/proc/self/task/{tid}/sched") if l.startswith("se.slice ")]
print(os.getpriority(os.PRIO_PROCESS, tid), *slices)
"""
    r = as_nobody(code, caps="+bpf,+perfmon")
    assert r.returncode == 0, r.stderr
    got = r.stdout.split()
    assert got[0] == str(os.getpriority(os.PRIO_PROCESS, 0)), r.stdout
    if KERNEL_RELEASE >= (6, 12):
        assert got[1:] == ["100000"], r.stdout


def test_no_cap_sys_resource_nor_memlock_rlimit_needed(nobody):
    """Kernels since 5.11 charge BPF memory to the memory cgroup, not to
    RLIMIT_MEMLOCK: a zero memlock limit and no CAP_SYS_RESOURCE must do."""
    if KERNEL_RELEASE < (5, 11):
        pytest.skip(f"kernel {os.uname().release} accounts BPF memory with RLIMIT_MEMLOCK")
    code = CHILD_PRELUDE + """
import resource
resource.setrlimit(resource.RLIMIT_MEMLOCK, (0, 0))
with systrace.enable("getppid") as s:
    os.getppid()
print(json.dumps({"events": sum(1 for e in s if e.tid == threading.get_native_id()),
                  "cap_eff": int(status()["CapEff"], 16)}))
"""
    r = as_nobody(code, caps="+bpf,+perfmon")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["cap_eff"] & (1 << CAP_SYS_RESOURCE) == 0
    assert out["events"] == 2


# --- without them: PermissionError that says what is missing -------------------------

PERMISSION_CHILD = CHILD_PRELUDE + """
try:
    systrace.enable("getppid")
except PermissionError as e:
    print(json.dumps({"error": "PermissionError", "message": str(e), "bpf_fds": len(bpf_objects()),
                      "state": native.kernel_state()}))
except Exception as e:
    print(json.dumps({"error": type(e).__name__, "message": str(e)}))
else:
    print(json.dumps({"error": None}))
"""


@pytest.mark.parametrize("caps", [None, "+bpf", "+perfmon"], ids=["no-caps", "bpf-only", "perfmon-only"])
def test_missing_capabilities_raise_permission_error_naming_them(nobody, caps):
    r = as_nobody(PERMISSION_CHILD, caps=caps)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    out = json.loads(r.stdout)
    assert out["error"] == "PermissionError", out
    assert "CAP_BPF" in out["message"] and "CAP_PERFMON" in out["message"], out["message"]
    # A failed enable() leaves nothing behind in the process.
    assert out["bpf_fds"] == 0, out
    assert out["state"]["sessions"] == 0 and not out["state"]["attached_enter"]


# --- nothing pinned ------------------------------------------------------------------


def bpffs_mounts() -> list:
    with open("/proc/self/mounts") as f:
        return [line.split()[1] for line in f if line.split()[2] == "bpf"]


def bpffs_entries() -> set:
    entries = set()
    for mount in bpffs_mounts():
        for root, dirs, files in os.walk(mount):
            entries.update(os.path.join(root, n) for n in dirs + files)
    return entries


@pytest.fixture
def bpffs(nobody):
    """bpffs mounted at /sys/fs/bpf (mounted for the test if it was not)."""
    mounted = False
    if BPFFS not in bpffs_mounts():
        r = subprocess.run(["mount", "-t", "bpf", "bpf", BPFFS], capture_output=True, text=True)
        if r.returncode != 0:
            require(f"cannot mount bpffs at {BPFFS}: {r.stderr.strip()}")
        mounted = True
    yield BPFFS
    if mounted:
        subprocess.run(["umount", BPFFS], check=False)


HOLD_OPEN = CHILD_PRELUDE + """
a = systrace.enable()                                   # every syscall
b = systrace.enable("getppid", pid=os.getppid())
print(json.dumps(native.kernel_state()["prog_ids"]), flush=True)
sys.stdin.readline()
a.close(); b.close()
"""


@pytest.mark.parametrize("as_root", [False, True], ids=["cap-bpf-perfmon", "root"])
def test_nothing_is_pinned_in_bpffs(bpffs, as_root):
    before = bpffs_entries()
    cmd = [sys.executable, "-c", HOLD_OPEN]
    if not as_root:
        cmd = setpriv_cmd("+bpf,+perfmon") + cmd
    child = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd="/")
    try:
        ids = json.loads(child.stdout.readline())
        assert ids and all(ids)
        during = bpffs_entries()
        child.stdin.write("\n")
        child.stdin.flush()
        assert child.wait(30) == 0
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert during == before, f"pinned while tracing: {sorted(during - before)}"
    assert not [e for e in during if "systrace" in e or os.path.basename(e) in ("sys_enter", "sys_exit")]
    assert bpffs_entries() == before


# --- bounded memory --------------------------------------------------------------------

MEMORY_CHILD = CHILD_PRELUDE + """
RINGBUF = "27"  # BPF_MAP_TYPE_RINGBUF
def maps():
    return {k: v for k, v in bpf_objects().items() if k.startswith("map_id")}
out = []
for size in (4096, 1 << 20, 1 << 23):
    # Only this process: another process's first getppid while the tiny
    # ring is full would add its own drop entries (a new kind of event)
    # during the measurement.
    with systrace.enable("getppid", pid=os.getpid(), buffer_size=size) as s:
        # The maps that grow as used (the process filter, the drop counts)
        # grow by kinds of events, not by their number. A first loop makes
        # most kinds this run has; whether a larger ring ever fills (adding
        # the drop entries of enter and exit) is timing, so the second loop,
        # four times as long, may add those few entries and nothing more.
        for _ in range(50_000):
            os.getppid()
        s.poll(0)
        before = maps()
        for _ in range(200_000):
            os.getppid()
        s.poll(0)
        after = maps()
    ring = [m for m in after.values() if m["map_type"] == RINGBUF]
    out.append({
        "size": size,
        "rings": [(int(m["max_entries"]), int(m["memlock"])) for m in ring],
        "memlock_before": sum(int(m["memlock"]) for m in before.values()),
        "memlock_after": sum(int(m["memlock"]) for m in after.values()),
        "other_memlock": sum(int(m["memlock"]) for m in after.values() if m["map_type"] != RINGBUF),
    })
try:
    systrace.enable("getppid", buffer_size=1 << 31)
except ValueError as e:
    too_big = str(e)
print(json.dumps({"runs": out, "too_big": too_big}))
"""


def test_kernel_memory_is_bounded_by_buffer_size(nobody):
    """What an unprivileged tracer makes the kernel hold is one ring buffer
    of buffer_size (at most 1 GiB) plus maps bounded by their entries,
    whatever the event volume."""
    r = as_nobody(MEMORY_CHILD, caps="+bpf,+perfmon", timeout=120)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    others = set()
    for run in out["runs"]:
        size = run["size"]
        assert len(run["rings"]) == 1, run
        entries, memlock = run["rings"][0]
        assert entries == size, run
        assert memlock <= size + size // 32 + 64 * 1024, f"ring buffer of {size} bytes charges {memlock}"
        # 400,000 more events; a drop entry is well under 256 bytes.
        grown = run["memlock_after"] - run["memlock_before"]
        assert 0 <= grown <= 2 * 256, f"kernel memory grew by {grown} bytes with the events"
        others.add(run["other_memlock"])
    # The other maps do not scale with buffer_size (only the drop counts
    # of the tiny ring's run add an entry or two).
    assert max(others) - min(others) <= 4096, f"the other maps' size depends on buffer_size: {others}"
    # The fixed maps (scratch, the programs' tables) and the ones that grow
    # as used (the process filter; per thread, its pending call) stay small
    # next to the ring.
    assert max(others) <= 12 << 20
    assert "buffer_size" in out["too_big"] and str(1 << 30) in out["too_big"]


UNPOLLED_CHILD = CHILD_PRELUDE + """
import signal, time
def rss_kib():
    return int(status()["VmRSS"].split()[0])
busy = os.fork()  # a busy process to trace (forked: nobody may not exec this python)
if busy == 0:
    while True:
        os.getppid()
size = 1 << 16
s = systrace.enable("getppid", pid=busy, buffer_size=size, max_memory=4 * size)
time.sleep(0.5)
start = rss_kib()
time.sleep(3)   # nobody polls
grown = rss_kib() - start
os.kill(busy, signal.SIGKILL)
os.waitpid(busy, 0)
import warnings
warnings.simplefilter("ignore")
s.close()
print(json.dumps({"size": size, "grown_kib": grown, "dropped": s.dropped}))
"""


def test_unpolled_session_memory_is_bounded_by_max_memory(nobody):
    """A session nobody polls must not hold more than max_memory of events
    in this process: past that, events are dropped and counted, as in the
    kernel's buffer. Otherwise any busy traced process grows the tracer's
    memory without limit (~40 MiB/s here)."""
    r = as_nobody(UNPOLLED_CHILD, caps="+bpf,+perfmon", timeout=60)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    bound_kib = 8 * out["size"] // 1024 + 16 * 1024  # max_memory, the ring mapped twice, and slack
    assert out["grown_kib"] <= bound_kib, (
        f"an unpolled session with buffer_size={out['size']} grew the process by {out['grown_kib']} KiB "
        f"in 3 s (bound {bound_kib} KiB; dropped {out['dropped']})"
    )
