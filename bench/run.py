#!/usr/bin/env python3
"""systrace benchmark: syscall loops untraced and traced, side by side with
strace, perf trace, bpftrace and BCC. See bench/README.md.

    python3 bench/run.py            full run (~10 minutes on 2 cores), one markdown table
    python3 bench/run.py --quick    CI: tiny N, one pair, systrace (+ strace);
                                    fails only if systrace lost or missed events
    python3 bench/run.py --only count    the counting rows alone (--only floor: the floors)
    python3 bench/run.py --workloads read,read-seccomp   those workloads' rows alone

Counting rows (issue 13 item 3): `systrace count` (systrace.count(), read
back and checked: every call counted, and in the histogram), `systrace -c`,
bpftrace's count() and a start time plus hist(), strace -c; their
"delivered / expected" column is calls counted. The floor rows are
bpftrace probes with empty bodies on per-syscall events: what any tracer on
those events costs (issue 15).

Needs root (BPF). The workload is bench/workload.c, built with `cc -O2`
into a temporary directory.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

# Syscall numbers for the BPF peers (bpftrace, BCC), which filter by number.
SYSCALL_NRS = {
    "x86_64": {"read": 0, "close": 3, "getpid": 39, "getppid": 110, "openat": 257},
    "aarch64": {"read": 63, "close": 57, "getpid": 172, "getppid": 173, "openat": 56},
}

# The syscalls each workload makes per iteration, which "traced" enables.
WORKLOAD_SYSCALLS = {
    "getppid": ["getppid"],
    "read": ["read"],
    "openat": ["openat", "close"],
    "read100": ["read"],
    "read-seccomp": ["read"],
}
# "Traced some other syscall": enabled for the workload's pid, never called by it.
OTHER_SYSCALL = ["getpid"]
# "A small set": strace -e trace=... style, the workload's syscall among a few.
SMALL_SET = ["openat", "read", "close", "unlink"]  # none called after the loop

RUN_TIMEOUT = 180.0


def bpf_stats_enabled() -> bool:
    try:
        with open("/proc/sys/kernel/bpf_stats_enabled") as f:
            return f.read().strip() != "0"
    except OSError:
        return False


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# Processes


def reap(proc: subprocess.Popen):
    """wait4(WNOHANG): the resource usage once proc has exited, else None.
    Popen.poll() would reap the process and lose its rusage: use this."""
    if getattr(proc, "rusage", None) is not None:
        return proc.rusage
    pid, status, ru = os.wait4(proc.pid, os.WNOHANG)
    if pid != proc.pid:
        return None
    proc.returncode = os.waitstatus_to_exitcode(status)
    proc.rusage = ru
    return ru


def wait_rusage(proc: subprocess.Popen, timeout: float = RUN_TIMEOUT):
    """Waits for proc with wait4(), returning its resource usage (peak RSS)."""
    deadline = time.monotonic() + timeout
    while True:
        ru = reap(proc)
        if ru is not None:
            return ru
        if time.monotonic() > deadline:
            kill(proc)
            raise TimeoutError(f"{proc.args[0]} did not exit")
        time.sleep(0.005)


def interrupt(proc: subprocess.Popen) -> None:
    """SIGINT without Popen.send_signal, which polls (reaps) first."""
    if reap(proc) is None:
        os.kill(proc.pid, signal.SIGINT)


def kill(proc: Optional[subprocess.Popen]) -> None:
    if proc is not None and proc.returncode is None:
        try:
            proc.kill()
            proc.wait(5)
        except Exception:
            pass


WL_LINE = re.compile(r"start_ns=(\d+) loop_ns=(\d+) iters=(\d+) ns_per_iter=([\d.]+) cpu_ns_per_iter=([\d.]+)")


def parse_workload(text: str) -> dict:
    m = WL_LINE.search(text)
    if not m:
        raise RuntimeError(f"no result line from the workload: {text[-300:]!r}")
    return {"start_ns": int(m[1]), "loop_ns": int(m[2]), "iters": int(m[3]), "ns_per_iter": float(m[4]),
            "cpu_ns_per_iter": float(m[5])}


class Env:
    """The temp dir, the built workload and the file the openat loop opens."""

    def __init__(self, tmp: str) -> None:
        self.tmp = tmp
        self.workload = os.path.join(tmp, "workload")
        src = os.path.join(HERE, "workload.c")
        cc = os.environ.get("CC", "cc")
        subprocess.run([cc, "-O2", "-Wall", "-o", self.workload, src], check=True)
        self.peak_rss = os.path.join(tmp, "peak_rss")
        subprocess.run([cc, "-O2", "-Wall", "-o", self.peak_rss, os.path.join(HERE, "peak_rss.c")], check=True)
        self.measured = 0
        self.file = os.path.join(tmp, "openat-target")
        with open(self.file, "w") as f:
            f.write("x\n")
        self.arch = platform.machine()

    def popen_measured(self, argv: list, **kw) -> subprocess.Popen:
        """Popen of argv run by bench/peak_rss.c, so that peak_rss_kb() is
        its own peak RSS: ru_maxrss of a child of this process is at least
        this process's RSS (the kernel carries the replaced mm's peak over
        at execve)."""
        self.measured += 1
        out = os.path.join(self.tmp, f"peak-rss-{self.measured}")
        p = subprocess.Popen([self.peak_rss, out, *argv], **kw)
        p.peak_rss_file = out  # type: ignore[attr-defined]
        return p

    def argv(self, mode: str, n: int, wait: bool) -> list:
        a = [self.workload, mode, str(n), "--file", self.file]
        return a + (["--wait-stdin"] if wait else [])

    def start_waiting(self, mode: str, n: int) -> subprocess.Popen:
        wl = subprocess.Popen(
            self.argv(mode, n, True), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        line = wl.stdout.readline()
        if line.strip() != "ready":
            kill(wl)
            raise RuntimeError(f"workload did not start: {line!r}")
        return wl

    def release(self, wl: subprocess.Popen) -> dict:
        """Lets a waiting workload run its loop; returns its result."""
        wl.stdin.close()
        out = wl.stdout.read()
        wait_rusage(wl)
        if wl.returncode != 0:
            raise RuntimeError(f"workload exited {wl.returncode}")
        return parse_workload(out)

    def nrs(self, names: list) -> list:
        table = SYSCALL_NRS.get(self.arch)
        if table is None:
            raise RuntimeError(f"no syscall numbers for {self.arch}")
        return [table[n] for n in names]


def _hook_links() -> Optional[set]:
    """The ids of the BPF links on tracepoints now (bpftool), or None
    without bpftool."""
    try:
        out = subprocess.run(["bpftool", "-j", "link", "list"], capture_output=True, text=True, timeout=10).stdout
        links = json.loads(out or "[]")
    except (OSError, subprocess.SubprocessError, ValueError):
        return None
    return {link["id"] for link in links
            if link.get("type") in ("perf_event", "raw_tracepoint", "tracing", "kprobe_multi")}


SETTLE_TIMEOUT = 10.0
settle_waits: List[float] = []


def _baseline_links() -> Optional[set]:
    """The links there are before any run: taken once the set has not
    changed for half a second (10 s at most), so that the hooks a tracer run
    just before this process (a previous benchmark) is still closing are not
    taken for the machine's own."""
    links = _hook_links()
    if links is None:
        return None
    t0 = stable = time.monotonic()
    while time.monotonic() - stable < 0.5 and time.monotonic() - t0 < SETTLE_TIMEOUT:
        time.sleep(0.1)
        now = _hook_links()
        if now is None:
            return None
        if now != links:
            links, stable = now, time.monotonic()
    return links


_BASELINE_LINKS = _baseline_links()


def settle() -> None:
    """Waits until the hooks of the runs before are gone. A tracer's
    per-syscall hooks outlive it: systrace closes them after its process
    exits, one tracepoint grace period each, and others' close as their
    fds are released. Until then every process pays for them: on the
    2-vCPU VM an untraced read loop measured right after a traced command
    ran at 600 ns per iteration instead of 255, for 0.3-0.7 s, so the
    untraced side of a pair (and the next tracer's) depended on what ran
    before it."""
    if _BASELINE_LINKS is None:
        return
    t0 = time.monotonic()
    while True:
        links = _hook_links()
        if links is None or links <= _BASELINE_LINKS:
            break
        if time.monotonic() - t0 > SETTLE_TIMEOUT:
            log(f"    warning: tracepoint links still attached after {SETTLE_TIMEOUT:.0f} s: {sorted(links - _BASELINE_LINKS)}")
            break
        time.sleep(0.05)
    settle_waits.append(time.monotonic() - t0)


def untraced(env: Env, mode: str, n: int) -> dict:
    settle()
    p = subprocess.run(env.argv(mode, n, False), capture_output=True, text=True, timeout=RUN_TIMEOUT, check=True)
    return parse_workload(p.stdout)


def peak_rss_kb(proc: subprocess.Popen) -> int:
    """The peak RSS (kB) of a process started by Env.popen_measured, once it has exited."""
    with open(proc.peak_rss_file) as f:  # type: ignore[attr-defined]
        return int(f.read())


def measured_pid(proc: subprocess.Popen) -> int:
    """The pid of the command a process of Env.popen_measured runs (0 before it forked)."""
    try:
        with open(f"/proc/{proc.pid}/task/{proc.pid}/children") as f:
            return int(f.read().split()[0])
    except (OSError, IndexError, ValueError):
        return 0


def wait_file_quiet(path: str, quiet_s: float = 0.3, timeout: float = 60.0) -> None:
    """Waits until a tracer's output file stops growing (its backlog is written)."""
    deadline = time.monotonic() + timeout
    last = -1
    since = time.monotonic()
    while time.monotonic() < deadline:
        size = os.path.getsize(path) if os.path.exists(path) else 0
        if size != last:
            last, since = size, time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            return
        time.sleep(0.05)


def read_json_line(proc: subprocess.Popen, what: str) -> dict:
    line = proc.stdout.readline()
    if not line:
        err = proc.stderr.read() if proc.stderr else ""
        raise RuntimeError(f"{what} said nothing: {err.strip()[-400:]}")
    return json.loads(line)


# --------------------------------------------------------------------------
# Tracers. Each run function takes (env, mode, n, syscalls) and returns a dict:
#   ns_per_iter, delivered (events, or None if not counted), lost (or None),
#   startup_ms, rss_kb, and anything else worth keeping.


def systrace_python() -> str:
    explicit = os.environ.get("SYSTRACE_PYTHON")
    if explicit:
        return explicit
    venv = os.path.join(REPO, ".venv", "bin", "python")
    return venv if os.path.exists(venv) else sys.executable


def systrace_command() -> List[str]:
    """The `systrace` command as users run it: the script installed beside
    the interpreter (`python -m systrace` runs runpy's imports, some 6-10 ms,
    before the command's first line; measured apart as `launch_m_ms`)."""
    script = os.path.join(os.path.dirname(systrace_python()), "systrace")
    if os.access(script, os.X_OK):
        return [script]
    return [systrace_python(), "-m", "systrace"]


def check_systrace() -> Optional[str]:
    py = systrace_python()
    # Its .pyc files are written first, as pip writes them when it installs
    # the wheel: a checkout run with PYTHONDONTWRITEBYTECODE=1 would compile
    # the command's modules at each start (1.6 MiB more RSS, and the time).
    code = "import compileall, os, systrace; compileall.compile_dir(os.path.dirname(systrace.__file__), quiet=1)"
    p = subprocess.run([py, "-c", code], capture_output=True, text=True)
    if p.returncode != 0:
        return f"cannot import systrace with {py}: {p.stderr.strip().splitlines()[-1:]}"
    return None


def run_tracer_process(env: "Env", wl, tr, label: str, t0: float):
    """One run under a tracer process that speaks the JSON-line protocol of
    systrace_tracer.py and bcc_tracer.py: wait until it is ready, let the
    workload go, stop it. Returns its ready and final lines and the row's numbers."""
    ready = read_json_line(tr, label)
    startup_ms = (time.monotonic() - t0) * 1e3
    res = env.release(wl)
    tr.stdin.write("stop\n")
    tr.stdin.flush()
    done = read_json_line(tr, label)
    wait_rusage(tr)
    return ready, done, {
        "ns_per_iter": res["ns_per_iter"],
        "cpu_ns_per_iter": res["cpu_ns_per_iter"],
        "loop_ns": res["loop_ns"],
        "delivered": done["delivered"],
        "lost": done["dropped"],
        "startup_ms": startup_ms,
        "rss_kb": peak_rss_kb(tr),
    }


def run_systrace(env: Env, mode: str, n: int, syscalls: list, drain: str = "count", nothing: bool = False,
                 filter: Optional[str] = None, count: bool = False, hooks: Optional[str] = None,
                 clock: bool = True, strings: bool = False) -> dict:
    wl = env.start_waiting(mode, n)
    tr = None
    try:
        argv = [systrace_python(), os.path.join(HERE, "systrace_tracer.py"), "--pid", str(wl.pid),
                "--syscalls", ",".join(syscalls), "--drain", drain]
        if nothing:
            argv.append("--nothing-enabled")
        if filter is not None:
            argv += ["--filter", filter]
        if count:
            argv.append("--count")
        if not clock:
            argv.append("--no-clock")
        if strings:
            argv.append("--strings")
        t0 = time.monotonic()
        # hooks: SYSTRACE_HOOKS for the tracer (the README's override).
        tracer_env = dict(os.environ, SYSTRACE_HOOKS=hooks) if hooks else None
        tr = env.popen_measured(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=tracer_env)
        ready, done, row = run_tracer_process(env, wl, tr, "systrace tracer", t0=t0)
        if count:
            # The calls counted in the kernel, each syscall's histogram
            # holding every one of them: the row's "delivered".
            row["delivered"] = count_checked(done["counts"], syscalls)
        return {
            **row,
            **{k: ready.get(k) for k in ("import_ms", "first_enable_ms", "second_enable_ms", "hook_mode",
                                         "load_steps")},
            **{k: done[k] for k in ("consumer_cpu_s", "python_cpu_s", "cpu_s", "polls",
                                    "drained_after_stop", "drain_after_stop_s", "close_ms")},
        }
    finally:
        kill(wl)
        kill(tr)


def check_systrace_cli() -> Optional[str]:
    py = systrace_python()
    p = subprocess.run([*systrace_command(), "--help"], capture_output=True, text=True)
    if p.returncode != 0 or "-p PID" not in p.stdout:
        return "no `systrace` command line in this build"
    return None


def attach_and_run(env: Env, wl, argv: list, what: str):
    """Starts a tracer that attaches with -p to the waiting workload `wl`
    and says so on stderr ("Process N attached", as strace does), lets the
    loop go and waits for the tracer to exit with it. Returns the ms until
    it attached, the workload's result, the tracer's peak RSS (kB) and its
    stderr; raises (with the tracer killed) if it failed. After a pause: the
    kernel may still be releasing the hooks of the run before (each
    tracer's), which holds the tracepoint locks an attach takes."""
    time.sleep(1.0)
    t0 = time.monotonic()
    tr = env.popen_measured(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    seen = []
    while True:
        line = tr.stderr.readline()
        if not line:
            kill(tr)
            raise RuntimeError(f"{what} did not attach: {''.join(seen)[-300:]}")
        seen.append(line)
        if "attached" in line:
            break
    startup_ms = (time.monotonic() - t0) * 1e3
    try:
        res = env.release(wl)
        wait_rusage(tr)  # it exits when the traced process does
    except BaseException:
        kill(tr)
        raise
    err = "".join(seen) + tr.stderr.read()
    if tr.returncode != 0:
        raise RuntimeError(f"{what} exited {tr.returncode}: {err.strip()[-300:]}")
    return startup_ms, res, peak_rss_kb(tr), err


def run_systrace_cli(env: Env, mode: str, n: int, syscalls: list) -> dict:
    """The `systrace` command, strace-like: attaches with -p to the waiting
    workload, writes one line per call to a file, exits with the workload."""
    wl = env.start_waiting(mode, n)
    out_path = os.path.join(env.tmp, "systrace-cli.out")
    try:
        argv = [*systrace_command(), "-e", "trace=" + ",".join(syscalls), "-p", str(wl.pid), "-o", out_path]
        startup_ms, res, rss_kb, err = attach_and_run(env, wl, argv, "systrace CLI")
        pat = re.compile(r"^(" + "|".join(syscalls) + r")\(")
        with open(out_path, errors="replace") as f:
            calls = sum(1 for line in f if pat.match(line))
        lost = re.findall(r"(?:lost|dropped)\D{0,40}?(\d+)", err, re.IGNORECASE)
        os.unlink(out_path)
        return {
            "ns_per_iter": res["ns_per_iter"],
            "cpu_ns_per_iter": res["cpu_ns_per_iter"],
            "loop_ns": res["loop_ns"],
            "delivered": 2 * calls,  # one line per call: enter and exit
            "lost": None,
            "lost_reported": sum(int(x) for x in lost),
            # Start-up as issue 15 counts it (and as strace's rows do): from
            # the exec of systrace to the exec of the command it launches.
            "startup_ms": run_systrace_cli_launch(env, mode, syscalls, systrace_command()),
            "launch_m_ms": run_systrace_cli_launch(env, mode, syscalls, [systrace_python(), "-m", "systrace"]),
            # Every syscall (no -e), and with -f: the raw hooks' load.
            "startup_all_ms": run_systrace_cli_launch(env, mode, None, systrace_command()),
            "startup_follow_ms": run_systrace_cli_launch(env, mode, None, [*systrace_command(), "-f"]),
            "attach_ms": startup_ms,  # -p: from exec to "Process N attached"
            "rss_kb": rss_kb,
        }
    finally:
        kill(wl)


def run_systrace_cli_launch(env: Env, mode: str, syscalls: Optional[list], command: list) -> float:
    """ms from the exec of `command -- workload` (the systrace command) to
    the workload's main(); `syscalls` None: every syscall (no -e). After a
    pause, as in the A/B runs of RESULTS.md: the traced run before it has
    just ended, and its end (the kernel releasing its hooks) is not to share
    the 2 CPUs with this start."""
    trace = [] if syscalls is None else ["-e", "trace=" + ",".join(syscalls)]
    argv = [*command, *trace, "-o", "/dev/null", "--"] + env.argv(mode, 1, False)
    time.sleep(1.0)
    t0 = time.monotonic_ns()
    p = subprocess.run(argv, capture_output=True, text=True, timeout=RUN_TIMEOUT)
    if p.returncode != 0:
        raise RuntimeError(f"systrace CLI exited {p.returncode}: {p.stderr.strip()[-300:]}")
    return (parse_workload(p.stdout)["start_ns"] - t0) / 1e6


def count_checked(counts: dict, syscalls: list) -> int:
    """The calls a systrace counting session counted of `syscalls`, after
    checking that each one's histogram holds all its calls."""
    total = 0
    for name in syscalls:
        c = counts.get(name, {"calls": 0, "histogram_calls": 0})
        if c["histogram_calls"] != c["calls"]:
            raise RuntimeError(f"{name}: {c['calls']} calls but {c['histogram_calls']} in the histogram")
        total += c["calls"]
    return total


# One row of strace -c's table (and systrace -c's, which prints the same):
# % time, seconds, usecs/call, calls, [errors,] syscall.
COUNT_ROW = re.compile(r"^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:(\d+)\s+)?(\w+)\s*$")


def parse_count_table(text: str) -> Dict[str, int]:
    """calls per syscall in a -c table; raises if there is no table."""
    calls: Dict[str, int] = {}
    for line in text.splitlines():
        m = COUNT_ROW.match(line)
        if m and m[3] != "total":
            calls[m[3]] = int(m[1])
    if "% time" not in text:
        raise RuntimeError(f"no -c table: {text.strip()[-300:]!r}")
    return calls


def run_count_attached(env: Env, mode: str, n: int, syscalls: list, argv: list, what: str) -> dict:
    """A -c tracer attached with -p to the waiting workload (argv ends with
    -p PID -o OUT; it says "Process PID attached" on stderr): let the loop
    go, wait for the tracer to print its table and exit when the workload
    does, and check the calls in its table."""
    wl = env.start_waiting(mode, n)
    out_path = os.path.join(env.tmp, "count.out")
    try:
        argv = argv + ["-e", "trace=" + ",".join(syscalls), "-p", str(wl.pid), "-o", out_path]
        startup_ms, res, rss_kb, err = attach_and_run(env, wl, argv, what)
        with open(out_path, errors="replace") as f:
            calls = parse_count_table(f.read())
        os.unlink(out_path)
        return {
            "ns_per_iter": res["ns_per_iter"],
            "cpu_ns_per_iter": res["cpu_ns_per_iter"],
            "loop_ns": res["loop_ns"],
            "delivered": sum(calls.get(s, 0) for s in syscalls),
            "lost": None,
            "startup_ms": startup_ms,  # -p: from exec to "Process N attached"
            "rss_kb": rss_kb,
        }
    finally:
        kill(wl)


def run_systrace_cli_count(env: Env, mode: str, n: int, syscalls: list) -> dict:
    """`systrace -c -p PID`: counts in the kernel, prints strace -c's table
    when the traced process exits."""
    return run_count_attached(env, mode, n, syscalls, [*systrace_command(), "-c"], "systrace -c")


def run_strace_count(env: Env, mode: str, n: int, syscalls: list) -> dict:
    """`strace -c -p PID`, attached as systrace -c is (launched, it would
    also count the dynamic loader's reads)."""
    return run_count_attached(env, mode, n, syscalls, ["strace", "-c"], "strace -c")


def check_strace() -> Optional[str]:
    if not shutil.which("strace"):
        return "strace not installed"
    return None


def check_strace_seccomp() -> Optional[str]:
    if check_strace():
        return check_strace()
    p = subprocess.run(["strace", "-f", "--seccomp-bpf", "-e", "trace=getpid", "-o", "/dev/null", "true"],
                       capture_output=True, text=True)
    if p.returncode != 0:
        return f"strace --seccomp-bpf failed: {p.stderr.strip()[:120]}"
    return None


def run_strace(env: Env, mode: str, n: int, syscalls: list, seccomp: bool = False) -> dict:
    argv = ["strace", "-f"] + (["--seccomp-bpf"] if seccomp else []) + [
        "-e", "trace=" + ",".join(syscalls), "-o", "/dev/null"] + env.argv(mode, n, False)
    t0 = time.monotonic_ns()
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = p.communicate(timeout=RUN_TIMEOUT)
    finally:
        kill(p)
    # Popen.communicate reaped it: ru_maxrss of the last waited child is not
    # per child, so measure RSS separately below (once per config is enough).
    if p.returncode != 0:
        raise RuntimeError(f"strace exited {p.returncode}: {err.strip()[-300:]}")
    res = parse_workload(out)
    return {
        "ns_per_iter": res["ns_per_iter"],
        "cpu_ns_per_iter": res["cpu_ns_per_iter"],
        "loop_ns": res["loop_ns"],
        "delivered": None,  # ptrace stops the tracee: nothing is lost
        "lost": 0,
        "startup_ms": (res["start_ns"] - t0) / 1e6,
        "rss_kb": None,
        "argv": argv,
    }


def run_launch_rss(env: Env, argv: list) -> int:
    """Peak RSS of a launch-mode tracer (the largest of it and its children)."""
    p = env.popen_measured(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_rusage(p)
    return peak_rss_kb(p)


def check_perf() -> Optional[str]:
    if not shutil.which("perf"):
        return "perf not installed"
    p = subprocess.run(["perf", "trace", "-e", "getppid", "--", "true"], capture_output=True, text=True)
    if p.returncode != 0:
        return f"perf trace fails here: {(p.stderr.strip().splitlines() or ['?'])[-1][:120]}"
    return None


def perf_event_fds(pid: int) -> int:
    n = 0
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                if "perf_event" in os.readlink(f"/proc/{pid}/fd/{fd}"):
                    n += 1
            except OSError:
                pass
    except OSError:
        pass
    return n


def run_perf_trace(env: Env, mode: str, n: int, syscalls: list) -> dict:
    wl = env.start_waiting(mode, n)
    out_path = os.path.join(env.tmp, "perf-trace.out")
    tr = None
    try:
        argv = ["perf", "trace", "-p", str(wl.pid), "-e", ",".join(syscalls), "-o", out_path]
        t0 = time.monotonic()
        tr = env.popen_measured(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                text=True)
        # perf trace says nothing when it is attached: wait for its perf
        # event fds to appear and stop changing.
        first = None
        last, since = 0, time.monotonic()
        while time.monotonic() - t0 < 60:
            if reap(tr) is not None:
                raise RuntimeError(f"perf trace exited: {tr.stderr.read().strip()[-300:]}")
            k = perf_event_fds(measured_pid(tr))
            if k and first is None:
                first = time.monotonic()
            if k != last:
                last, since = k, time.monotonic()
            elif k and time.monotonic() - since > 0.15:
                break
            time.sleep(0.005)
        else:
            raise RuntimeError("perf trace did not attach")
        startup_ms = (first - t0) * 1e3
        res = env.release(wl)
        wait_file_quiet(out_path)
        interrupt(tr)
        wait_rusage(tr)
        with open(out_path, errors="replace") as f:
            text = f.read()
        pat = re.compile(r"\b(" + "|".join(syscalls) + r")\(")
        calls = sum(1 for line in text.splitlines() if pat.search(line))
        lost_reported = sum(int(x) for x in re.findall(r"LOST (\d+) events", text))
        os.unlink(out_path)
        return {
            "ns_per_iter": res["ns_per_iter"],
            "cpu_ns_per_iter": res["cpu_ns_per_iter"],
            "loop_ns": res["loop_ns"],
            # perf trace prints one line per call (enter and exit merged).
            "delivered": 2 * calls,
            "lost": None,
            "lost_reported": lost_reported,
            "startup_ms": startup_ms,
            "rss_kb": peak_rss_kb(tr),
        }
    finally:
        kill(wl)
        kill(tr)


def check_bpftrace() -> Optional[str]:
    if not shutil.which("bpftrace"):
        return "bpftrace not installed"
    p = subprocess.run(["bpftrace", "-e", "BEGIN { exit(); }"], capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        return f"bpftrace fails here: {p.stderr.strip().splitlines()[-1][:120]}"
    return None


def bpftrace_stream(env: Env, syscalls: list) -> str:
    """Every call's enter and exit printed, as systrace's streaming rows."""
    test = " || ".join(f"args->id == {nr}" for nr in env.nrs(syscalls))
    return (
        f"tracepoint:raw_syscalls:sys_enter /pid == $1 && ({test})/ "
        '{ printf("enter %d %d %d\\n", tid, args->id, args->args[0]); }\n'
        f"tracepoint:raw_syscalls:sys_exit /pid == $1 && ({test})/ "
        '{ printf("exit %d %d %d\\n", tid, args->id, args->ret); }\n'
    )


def bpftrace_count(env: Env, syscalls: list) -> str:
    """count() per call at enter, in a per-CPU map: what issue 13 measured."""
    return "".join(f"tracepoint:syscalls:sys_enter_{s} /pid == $1/ {{ @[probe] = count(); }}\n" for s in syscalls)


def bpftrace_hist(env: Env, syscalls: list) -> str:
    """What systrace's counting does per call (a start time at enter; at
    exit the duration into a log2 histogram), in bpftrace: like with like."""
    return "".join(
        f"tracepoint:syscalls:sys_enter_{s} /pid == $1/ {{ @start[tid] = nsecs; }}\n"
        f"tracepoint:syscalls:sys_exit_{s} /pid == $1 && @start[tid]/ "
        f"{{ @lat[probe] = hist(nsecs - @start[tid]); delete(@start[tid]); }}\n"
        for s in syscalls)


def bpftrace_empty(env: Env, syscalls: list) -> str:
    """Empty-bodied probes on the per-syscall events, enter and exit: no
    predicate, no map, nothing. On the loop's own syscall, the least any
    tracer of its calls on those events costs it (the kernel's slow syscall
    path, trace_syscalls.c's perf_syscall_enter/exit record, the BPF
    dispatch); on another syscall, what every other syscall pays for them."""
    return "".join(f"tracepoint:syscalls:sys_enter_{s} {{ }}\ntracepoint:syscalls:sys_exit_{s} {{ }}\n"
                   for s in syscalls)


def bpftrace_empty_enter(env: Env, syscalls: list) -> str:
    """The same, on sys_enter_X alone."""
    return "".join(f"tracepoint:syscalls:sys_enter_{s} {{ }}\n" for s in syscalls)


# A bpftrace map entry as printed at exit: `@[...]: N`; a hist() bucket:
# `[lo, hi)   N |@@@ |`.
BPFTRACE_COUNT = re.compile(r"^@\w*(?:\[.*\])?: (\d+)$")
BPFTRACE_BUCKET = re.compile(r"^[\[(]\S*, \S*[\])]\s+(\d+) \|")


def run_bpftrace(env: Env, mode: str, n: int, syscalls: list, program: Callable = bpftrace_stream) -> dict:
    prog = 'BEGIN { printf("ready\\n"); }\n' + program(env, syscalls)
    counting = program is not bpftrace_stream
    wl = env.start_waiting(mode, n)
    out_path = os.path.join(env.tmp, "bpftrace.out")
    tr = None
    try:
        with open(out_path, "w") as out:
            t0 = time.monotonic()
            tr = env.popen_measured(["bpftrace", "-e", prog, str(wl.pid)], stdin=subprocess.DEVNULL,
                                    stdout=out, stderr=subprocess.PIPE, text=True)
        while True:  # BEGIN runs once every probe is attached
            if reap(tr) is not None:
                raise RuntimeError(f"bpftrace exited: {tr.stderr.read().strip()[-300:]}")
            with open(out_path) as f:
                if "ready" in f.read(4096):
                    break
            if time.monotonic() - t0 > 60:
                raise RuntimeError("bpftrace did not attach")
            time.sleep(0.005)
        startup_ms = (time.monotonic() - t0) * 1e3
        res = env.release(wl)
        wait_file_quiet(out_path)
        interrupt(tr)
        wait_rusage(tr)
        if tr.returncode != 0:
            raise RuntimeError(f"bpftrace exited {tr.returncode}: {tr.stderr.read().strip()[-300:]}")
        events = 0
        counted = 0
        lost_reported = 0
        with open(out_path, errors="replace") as f:
            for line in f:
                if line.startswith(("enter ", "exit ")):
                    events += 1
                elif line.startswith("Lost "):
                    lost_reported += int(line.split()[1])
                elif BPFTRACE_COUNT.match(line):
                    counted += int(BPFTRACE_COUNT.match(line)[1])
                elif BPFTRACE_BUCKET.match(line):
                    counted += int(BPFTRACE_BUCKET.match(line)[1])
        os.unlink(out_path)
        if counting:
            # Calls counted (count() or in hist()); the empty probes count nothing.
            events = None if program in (bpftrace_empty, bpftrace_empty_enter) else counted
        return {
            "ns_per_iter": res["ns_per_iter"],
            "cpu_ns_per_iter": res["cpu_ns_per_iter"],
            "loop_ns": res["loop_ns"],
            "delivered": events,
            "lost": None,
            "lost_reported": lost_reported,
            "startup_ms": startup_ms,
            "rss_kb": peak_rss_kb(tr),
        }
    finally:
        kill(wl)
        kill(tr)


BCC_PYTHON = "/usr/bin/python3"


def bcc_kernel_source() -> Optional[str]:
    """Kernel headers for BCC: $BCC_KERNEL_SOURCE, the running kernel's build
    dir, or what bench/bcc_headers.sh prepared."""
    explicit = os.environ.get("BCC_KERNEL_SOURCE")
    if explicit:
        return explicit
    build = f"/lib/modules/{os.uname().release}/build"
    if os.path.isdir(build):
        return None  # BCC finds it itself
    cache = os.path.join(os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")),
                         "systrace-bench", "linux-headers")
    return cache if os.path.isdir(cache) else None


def bcc_env() -> dict:
    env = dict(os.environ)
    src = bcc_kernel_source()
    if src:
        env["BCC_KERNEL_SOURCE"] = src
    return env


def check_bcc() -> Optional[str]:
    if not os.path.exists(BCC_PYTHON):
        return f"{BCC_PYTHON} missing"
    p = subprocess.run([BCC_PYTHON, "-c", "import bcc"], capture_output=True, text=True)
    if p.returncode != 0:
        return "python3-bpfcc not installed"
    p = subprocess.run([BCC_PYTHON, "-c", "from bcc import BPF; BPF(text='int f(void *c) { return 0; }')"],
                       capture_output=True, text=True, env=bcc_env(), timeout=120)
    if p.returncode != 0:
        why = "no kernel headers for BCC (run bench/bcc_headers.sh)" if "kernel headers" in p.stderr \
            else p.stderr.strip().splitlines()[-1][:120]
        return why
    return None


def run_bcc(env: Env, mode: str, n: int, syscalls: list, output: str) -> dict:
    wl = env.start_waiting(mode, n)
    tr = None
    try:
        argv = [BCC_PYTHON, os.path.join(HERE, "bcc_tracer.py"), "--pid", str(wl.pid),
                "--nrs", ",".join(map(str, env.nrs(syscalls))), "--output", output]
        t0 = time.monotonic()
        tr = env.popen_measured(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, env=bcc_env())
        return run_tracer_process(env, wl, tr, "BCC tracer", t0=t0)[2]
    finally:
        kill(wl)
        kill(tr)


# --------------------------------------------------------------------------
# Configurations


@dataclass
class Config:
    workload: str
    tracer: str  # label in the table
    # "workload", "small", "other", "nothing", "filtered" (the workload's
    # syscalls with a filter in BPF that rejects every call) or "filtered99"
    # (read100's with one that rejects 99 calls of 100): what the tracer enables
    traced: str
    n: int
    run: Callable
    check: Callable
    family: str
    results: list = field(default_factory=list)  # (untraced, traced) per pair
    errors: list = field(default_factory=list)
    na: Optional[str] = None
    rss_kb: Optional[int] = None
    # "events" (enters and exits delivered) or "calls" (counted, -c style)
    unit: str = "events"

    @property
    def syscalls(self) -> list:
        if self.traced == "small":
            return SMALL_SET
        return OTHER_SYSCALL if self.traced == "other" else WORKLOAD_SYSCALLS[self.workload]

    @property
    def expected(self) -> int:
        if self.traced in ("other", "nothing", "filtered"):
            return 0
        if self.traced == "filtered99":  # every 100th read, from the first
            return 2 * ((self.n + 99) // 100)
        per_call = 1 if self.unit == "calls" else 2
        return per_call * self.n * len(WORKLOAD_SYSCALLS[self.workload])


def build_configs(quick: bool) -> list:
    # Iterations per workload for fast tracers; slow ones (ptrace, or a
    # wake-up per event) get fewer so that a run stays near a second.
    if quick:
        base = {"getppid": 20000, "read": 20000, "openat": 2000, "read100": 20000, "read-seccomp": 20000}
    else:
        base = {"getppid": 500_000, "read": 500_000, "openat": 50_000, "read100": 500_000,
                "read-seccomp": 500_000}

    def n_for(workload: str, div: int) -> int:
        return max(1000 if not quick else 200, base[workload] // div)

    cfgs = []

    def add(workload, tracer, traced, div, run, check, family, unit="events"):
        cfgs.append(Config(workload, tracer, traced, n_for(workload, div), run, check, family, unit=unit))

    def sys_run(drain="count", nothing=False, filter=None, count=False, hooks=None, clock=True, strings=False):
        return lambda env, mode, n, sc: run_systrace(env, mode, n, sc, drain=drain, nothing=nothing, filter=filter,
                                                     count=count, hooks=hooks, clock=clock, strings=strings)

    def bpftrace_run(program):
        return lambda env, mode, n, sc: run_bpftrace(env, mode, n, sc, program=program)

    def add_counting(wl):
        """Issue 13 item 3: counting in the kernel (nothing leaves it), side
        by side with bpftrace's maps and strace -c; goal <= 1.5x."""
        add(wl, "systrace count", "workload", 1, sys_run(count=True), check_systrace, "systrace", unit="calls")
        if quick:
            return
        add(wl, "systrace -c", "workload", 1, run_systrace_cli_count, check_systrace_cli, "systrace-c",
            unit="calls")
        add(wl, "bpftrace count()", "workload", 1, bpftrace_run(bpftrace_count), check_bpftrace, "bpftrace",
            unit="calls")
        add(wl, "bpftrace enter+exit hist()", "workload", 1, bpftrace_run(bpftrace_hist), check_bpftrace,
            "bpftrace", unit="calls")
        add(wl, "strace -c", "workload", 50, run_strace_count, check_strace, "strace-c", unit="calls")
        add(wl, "systrace count", "other", 1, sys_run(count=True), check_systrace, "systrace", unit="calls")
        # What the per-syscall events cost with programs that do nothing: on
        # the loop's own syscall (the floor under counting it) ...
        add(wl, "floor: empty per-syscall probes, enter+exit (bpftrace)", "workload", 1,
            bpftrace_run(bpftrace_empty), check_bpftrace, "bpftrace", unit="calls")
        # ... and on another (issue 15's floor for "other").
        add(wl, "floor: empty per-syscall probes, enter+exit (bpftrace)", "other", 1,
            bpftrace_run(bpftrace_empty), check_bpftrace, "bpftrace")
        add(wl, "floor: empty per-syscall probe, enter only (bpftrace)", "other", 1,
            bpftrace_run(bpftrace_empty_enter), check_bpftrace, "bpftrace")

    for wl in ("getppid", "read", "openat"):
        add(wl, "systrace", "workload", 1, sys_run("count"), check_systrace, "systrace")
        add(wl, "systrace (iterate Events)", "workload", 1, sys_run("iterate"), check_systrace, "systrace")
        if wl in ("getppid", "read") and not quick:
            # The override for a hot syscall: the raw hooks cost a traced
            # call less, and every other syscall on the machine more.
            add(wl, "systrace, SYSTRACE_HOOKS=raw", "workload", 1, sys_run("count", hooks="raw"), check_systrace,
                "systrace")
            add(wl, "systrace, SYSTRACE_HOOKS=raw", "other", 1, sys_run("count", hooks="raw"), check_systrace,
                "systrace")
            # Without the time of each event (enable(clock=False)): the
            # programs' two clock reads per call left out.
            add(wl, "systrace, clock=False", "workload", 1, sys_run("count", clock=False), check_systrace,
                "systrace")
            add(wl, "systrace, clock=False, SYSTRACE_HOOKS=raw", "workload", 1,
                sys_run("count", hooks="raw", clock=False), check_systrace, "systrace")
            # What the command's programs do (read's byte copied, no
            # clock), drained by the library's light consumer: the
            # command's row less its text.
            add(wl, "systrace, strings=True, clock=False", "workload", 1,
                sys_run("count", clock=False, strings=True), check_systrace, "systrace")
        if wl == "read":
            # A filter in BPF that rejects every call (the workload reads 1
            # byte): should cost what enabling a syscall nobody calls costs,
            # not what delivering every call does.
            add(wl, "systrace (filter rejects all)", "filtered", 1, sys_run("count", filter="count != 1"),
                check_systrace, "systrace")
            add(wl, "systrace", "other", 1, sys_run("count"), check_systrace, "systrace")
            # The read loop whose every 100th read asks 2 bytes: a filter
            # that rejects the other 99 should cost about the same.
            add("read100", "systrace (filter rejects 99%)", "filtered99", 1,
                sys_run("count", filter="count != 1"), check_systrace, "systrace")
        if wl in ("getppid", "read"):
            add_counting(wl)
        if quick:
            add(wl, "strace", "workload", 10, run_strace, check_strace, "strace")
            continue
        if wl == "read":
            # N/5: 2N events must fit in the session's backlog, which the core
            # bounds (4 x buffer_size bytes of events: ~300k at 8 MiB).
            add(wl, "systrace (poll after loop)", "workload", 5, sys_run("none"), check_systrace, "systrace")
        if wl == "read":
            add(wl, "systrace", "small", 1, sys_run("count"), check_systrace, "systrace")
        if wl == "getppid":
            add(wl, "systrace", "other", 1, sys_run("count"), check_systrace, "systrace")
            add(wl, "systrace", "nothing", 1, sys_run("count", nothing=True), check_systrace, "systrace")
        # N/2: at N/10 the read loop lasted ~15 ms under the command, too
        # short for a ratio (5.7x to 11x between runs).
        add(wl, "systrace CLI", "workload", 2, run_systrace_cli, check_systrace_cli, "systrace-cli")
        add(wl, "strace", "workload", 50, run_strace, check_strace, "strace")
        add(wl, "strace --seccomp-bpf", "workload", 50,
            lambda env, mode, n, sc: run_strace(env, mode, n, sc, seccomp=True), check_strace_seccomp, "strace")
        add(wl, "perf trace", "workload", 50, run_perf_trace, check_perf, "perf")
        add(wl, "bpftrace", "workload", 25, run_bpftrace, check_bpftrace, "bpftrace")
        add(wl, "BCC perf buffer", "workload", 25,
            lambda env, mode, n, sc: run_bcc(env, mode, n, sc, "perf"), check_bcc, "bcc")
        add(wl, "BCC ring buffer", "workload", 5,
            lambda env, mode, n, sc: run_bcc(env, mode, n, sc, "ring"), check_bcc, "bcc")
        if wl == "getppid":
            add(wl, "systrace CLI", "other", 1, run_systrace_cli, check_systrace_cli, "systrace-cli")
            add(wl, "strace", "other", 50, run_strace, check_strace, "strace")
            add(wl, "strace --seccomp-bpf", "other", 1,
                lambda env, mode, n, sc: run_strace(env, mode, n, sc, seccomp=True), check_strace_seccomp, "strace")
            add(wl, "perf trace", "other", 1, run_perf_trace, check_perf, "perf")
            add(wl, "bpftrace", "other", 1, run_bpftrace, check_bpftrace, "bpftrace")
            add(wl, "BCC perf buffer", "other", 1,
                lambda env, mode, n, sc: run_bcc(env, mode, n, sc, "perf"), check_bcc, "bcc")
            add(wl, "BCC ring buffer", "other", 1,
                lambda env, mode, n, sc: run_bcc(env, mode, n, sc, "ring"), check_bcc, "bcc")
    if not quick:
        # The read loop under a seccomp filter that allows every call, as a
        # container's processes run: the programs mark each call's enter
        # for its exit there (a call such a filter refuses reaches only the
        # exit tracepoint). Its untraced loop runs under the filter too.
        add("read-seccomp", "systrace", "workload", 1, sys_run("count"), check_systrace, "systrace")
        add("read-seccomp", "systrace CLI", "workload", 2, run_systrace_cli, check_systrace_cli, "systrace-cli")
    return cfgs


# --------------------------------------------------------------------------
# Report


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt(x, spec=".0f", none="–"):
    return none if x is None else format(x, spec)


def traced_label(c: Config) -> str:
    hooks = {r[1].get("hook_mode") for r in c.results} - {None}
    mode = f" [{'/'.join(sorted(hooks))} hooks]" if hooks else ""
    if c.traced in ("workload", "small"):
        return ",".join(c.syscalls) + mode
    if c.traced == "other":
        return "other (" + ",".join(OTHER_SYSCALL) + ")" + mode
    if c.traced == "filtered":
        return ",".join(c.syscalls) + " (filtered out in BPF)" + mode
    if c.traced == "filtered99":
        return ",".join(c.syscalls) + " (99% filtered out in BPF)" + mode
    return "nothing enabled"


def table(cfgs: list) -> str:
    head = ("| workload | tracer | enabled | N | untraced ns/iter | traced ns/iter | ratio "
            "| CPU ratio | events delivered / expected | lost | start-up ms | peak RSS MB |")
    rows = [head, "|" + "---|" * (head.count("|") - 1)]
    for c in cfgs:
        pre = f"| {c.workload} | {c.tracer} | {traced_label(c)} | {c.n} "
        if c.na:
            rows.append(pre + f"| n/a ({c.na}) | | | | | | | |")
            continue
        if not c.results:
            why = c.errors[-1] if c.errors else "no run"
            rows.append(pre + f"| error ({why[:100]}) | | | | | | | |")
            continue
        u = med([r[0]["ns_per_iter"] for r in c.results])
        t = med([r[1]["ns_per_iter"] for r in c.results])
        traced = [r[1] for r in c.results]
        deliv = [r["delivered"] for r in traced]
        if any(d is None for d in deliv):
            dcol = "not counted"
        else:
            lo, hi = min(deliv), max(deliv)
            dcol = (f"{lo}" if lo == hi else f"{lo}–{hi}") + f" / {c.expected}"
            if c.unit == "calls":
                dcol += " calls"
        def span(xs):
            lo, hi = min(xs), max(xs)
            return f"{lo:.0f}" if lo == hi else f"{lo:.0f}–{hi:.0f}"

        losts = [r.get("lost") for r in traced]
        if all(x is not None for x in losts):
            lcol = span(losts)
        elif not any(d is None for d in deliv):
            missing = [c.expected - d for d in deliv]
            lcol = f"{span(missing)} missing" if max(missing) else "0"
            reps = [r.get("lost_reported") or 0 for r in traced]
            if max(reps):
                lcol += f" (tool reports {span(reps)} lost)"
        else:
            lcol = "–"
        cu = med([r[0]["cpu_ns_per_iter"] for r in c.results])
        ct = med([r[1]["cpu_ns_per_iter"] for r in c.results])
        st = med([r["startup_ms"] for r in traced])
        rss = c.rss_kb if c.rss_kb is not None else med([r.get("rss_kb") for r in traced])
        err = f" ({len(c.errors)} failed runs)" if c.errors else ""
        rows.append(
            pre + f"| {fmt(u, '.0f')} | {fmt(t, '.0f')} | **{t / u:.2f}x**{err} | {ct / cu:.2f}x | {dcol} | {lcol} "
            f"| {fmt(st, '.0f')} | {fmt(rss / 1024 if rss else None, '.1f')} |"
        )
    return "\n".join(rows)


def summary(cfgs: list) -> list:
    """The issue's targets, read off the systrace rows."""
    def find(workload, tracer, traced):
        for c in cfgs:
            if c.workload == workload and c.tracer == tracer and c.traced == traced and c.results:
                return c
        return None

    def ratio(c):
        return med([r[1]["ns_per_iter"] for r in c.results]) / med([r[0]["ns_per_iter"] for r in c.results])

    def cpu_ratio(c):
        return (med([r[1]["cpu_ns_per_iter"] for r in c.results])
                / med([r[0]["cpu_ns_per_iter"] for r in c.results]))

    out = []
    c = find("read", "systrace", "workload")
    if c:
        lossless = all(r[1]["delivered"] == c.expected and r[1]["lost"] == 0 for r in c.results)
        out.append(f"- read loop traced, every event delivered: {ratio(c):.2f}x untraced (CPU ratio {cpu_ratio(c):.2f}x) "
                   f"(target <= 2.5x; lossless in every run: {lossless})")
        rate = med([r[1]["delivered"] / (r[1]["loop_ns"] / 1e9) for r in c.results])
        out.append(f"- events into Python during that loop: {rate / 1e6:.2f} M events/s (one producer)")
        cons = med([r[1]["consumer_cpu_s"] for r in c.results])
        py = med([r[1]["python_cpu_s"] for r in c.results])
        out.append(f"  (tracer CPU per run: consumer thread {cons:.2f} s, Python thread {py:.2f} s, "
                   f"loop {med([r[1]['loop_ns'] for r in c.results]) / 1e9:.2f} s)")
    c = find("read", "systrace (poll after loop)", "workload")
    if c:
        rate = med([r[1]["drained_after_stop"] / r[1]["drain_after_stop_s"] for r in c.results
                    if r[1]["drain_after_stop_s"] > 0])
        out.append(f"- Python side alone (queued events, `for ev in session`, one Event object each): "
                   f"{rate / 1e6:.2f} M events/s")
    c = find("getppid", "systrace", "other")
    if c:
        out.append(f"- filtered-out cost (getpid enabled, getppid loop): {ratio(c):.2f}x, CPU ratio {cpu_ratio(c):.2f}x "
                   f"(target <= 1.10x)")
    c = find("getppid", "systrace", "nothing")
    if c:
        out.append(f"- nothing enabled (programs loaded, session closed): {ratio(c):.2f}x, CPU ratio "
                   f"{cpu_ratio(c):.2f}x (target 1.00x)")
    for wl in ("read", "getppid"):
        c = find(wl, "systrace count", "workload")
        if not c:
            continue
        exact = all(r[1]["delivered"] == c.expected and r[1]["lost"] == 0 for r in c.results)
        worst = max(ratio(c), cpu_ratio(c))
        # One or two short pairs (--quick) say nothing about a ratio.
        verdict = ("met" if worst <= 1.5 else "NOT met") if len(c.results) >= 3 else "too few pairs to judge"
        peers = []
        for tracer, traced in (("bpftrace count()", "workload"), ("bpftrace enter+exit hist()", "workload"),
                               ("systrace -c", "workload"), ("strace -c", "workload"),
                               ("systrace", "workload"), ("systrace count", "other"),
                               ("floor: empty per-syscall probes, enter+exit (bpftrace)", "workload")):
            p = find(wl, tracer, traced)
            if p:
                what = tracer + (" (a syscall not called)" if traced == "other" else "")
                if tracer == "systrace":
                    what = "systrace streaming every event"
                if tracer.startswith("floor:"):
                    what = f"floor (empty bpftrace probes on {wl}'s events)"
                peers.append(f"{what} {ratio(p):.2f}x (CPU {cpu_ratio(p):.2f}x)")
        out.append(f"- {wl} loop counted in the kernel (`systrace.count`): {ratio(c):.2f}x untraced, CPU ratio "
                   f"{cpu_ratio(c):.2f}x (goal <= 1.5x: {verdict}; every call "
                   f"counted in every run: {exact})" + ("; beside it: " + ", ".join(peers) if peers else ""))
    for wl in ("getppid", "read"):
        floors = [c for c in cfgs if c.workload == wl and c.tracer.startswith("floor:") and c.results]
        if floors:
            out.append(f"- floors on the {wl} loop (bpftrace, empty probes: what any tracer on those per-syscall "
                       f"events pays): " + "; ".join(
                           f"{c.tracer[len('floor: '):].replace(' (bpftrace)', '')} on "
                           f"{'getpid (other)' if c.traced == 'other' else wl + ' (the loop)'} {ratio(c):.2f}x "
                           f"(CPU {cpu_ratio(c):.2f}x)" for c in floors))
    runs = [r[1] for c in cfgs if c.family == "systrace" and c.traced != "nothing" for r in c.results]
    if runs:
        out.append(f"- first enable() in a running Python process: {med([r['first_enable_ms'] for r in runs]):.1f} ms "
                   f"(target <= 10 ms); a second, concurrent session: "
                   f"{med([r['second_enable_ms'] for r in runs]):.2f} ms (target <= 1 ms); "
                   f"`import systrace`: {med([r['import_ms'] for r in runs]):.1f} ms")
        out.extend(startup_breakdown(runs))
        for mode in ("syscall", "raw"):
            closes = [r[1]["close_ms"] for c in cfgs if c.family == "systrace" and c.traced != "nothing"
                      for r in c.results if r[1].get("hook_mode") == mode and r[1].get("close_ms") is not None]
            if closes:
                out.append(f"- a session's close ({mode} hooks; its hooks are closed after, in the background): "
                           f"{med(closes):.1f} ms median, {max(closes):.1f} ms max")
        nothing = [r[1] for c in cfgs if c.traced == "nothing" for r in c.results]
        if nothing:
            out.append(f"- a session opened again after the last one closed: "
                       f"{med([r['second_enable_ms'] for r in nothing]):.2f} ms")
        lib = [r[1] for c in cfgs if c.tracer == "systrace" for r in c.results]
        if lib:
            out.append(f"- peak RSS of a Python process using the library (rows `systrace`): "
                       f"{max(r['rss_kb'] for r in lib) / 1024:.1f} MB max over runs")
    cli = [(c, r[1]) for c in cfgs if c.family == "systrace-cli" for r in c.results]
    if cli:
        out.append(f"- `systrace -- COMMAND`, from its exec to the command's: "
                   f"{med([r['startup_ms'] for _, r in cli]):.1f} ms (target <= 40 ms; `python -m systrace`: "
                   f"{med([r['launch_m_ms'] for _, r in cli]):.1f} ms); `systrace -p PID` "
                   f"until it says it attached: {med([r['attach_ms'] for _, r in cli]):.1f} ms")
        out.append(f"- `systrace -- COMMAND` without `-e` (every syscall: the raw hooks): "
                   f"{med([r['startup_all_ms'] for _, r in cli]):.1f} ms; with `-f`: "
                   f"{med([r['startup_follow_ms'] for _, r in cli]):.1f} ms")
        worst = max(cli, key=lambda cr: cr[1]["rss_kb"])
        out.append(f"- peak RSS of the `systrace` command: {min(r['rss_kb'] for _, r in cli) / 1024:.1f}–"
                   f"{worst[1]['rss_kb'] / 1024:.1f} MB (max: {worst[0].workload}, N={worst[0].n}) "
                   f"(target <= 20 MB)")
    return out


def startup_breakdown(runs: list) -> List[str]:
    """The steps of the first enable() (kernel_state()["load_steps"]), each
    the median over the runs that had it, in the order of the first run."""
    steps: Dict[str, List[float]] = {}
    for r in runs:
        run: Dict[str, float] = {}
        for what, ms in r.get("load_steps") or []:
            # One line for the per-syscall events, one for the raw hooks.
            what = re.sub(r"^attach syscalls/\S+$", "attach per-syscall events", what)
            what = re.sub(r"^attach raw_syscalls/\S+$", "attach raw hooks", what)
            run[what] = run.get(what, 0.0) + ms
        for what, ms in run.items():
            steps.setdefault(what, []).append(ms)
    if not steps:
        return []
    parts = [f"{what} {med(ms):.1f}" for what, ms in steps.items()]
    return ["- first enable(), its steps (ms, medians): " + "; ".join(parts)]


# --------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="CI mode: tiny N, one pair, systrace (+ strace)")
    ap.add_argument("--pairs", type=int, default=None, help="untraced/traced pairs per row (default 5; quick 1)")
    ap.add_argument("--only", default=None, help="run only tracers whose label contains this")
    ap.add_argument("--workloads", default=None,
                    help="run only these workloads (comma-separated: getppid,read,read-seccomp,...)")
    ap.add_argument("--json", default=None, help="also write every run's raw numbers to this file")
    args = ap.parse_args()
    pairs = args.pairs or (1 if args.quick else 5)
    if os.geteuid() != 0:
        log("warning: not root; BPF tracers will fail")

    cfgs = build_configs(args.quick)
    if args.only:
        cfgs = [c for c in cfgs if args.only.lower() in c.tracer.lower()]
    if args.workloads:
        cfgs = [c for c in cfgs if c.workload in args.workloads.split(",")]
    checked: dict = {}
    for c in cfgs:
        if c.check not in checked:
            checked[c.check] = c.check()
        c.na = checked[c.check]
        if c.na:
            log(f"{c.tracer}: n/a ({c.na})")

    load_before = open("/proc/loadavg").read().split()[:3]
    stats_before = bpf_stats_enabled()
    t_start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="systrace-bench-") as tmp:
        env = Env(tmp)
        for c in cfgs:
            # Peak RSS of launch-mode tracers, measured in one extra run.
            if not c.na and c.family == "strace":
                seccomp = "seccomp" in c.tracer
                argv = ["strace", "-f"] + (["--seccomp-bpf"] if seccomp else []) + [
                    "-e", "trace=" + ",".join(c.syscalls), "-o", "/dev/null"] + env.argv(c.workload, c.n, False)
                try:
                    c.rss_kb = run_launch_rss(env, argv)
                except Exception as e:  # noqa: BLE001
                    c.errors.append(f"rss: {e}")
        for i in range(pairs):
            for c in cfgs:
                if c.na:
                    continue
                log(f"[{i + 1}/{pairs}] {c.workload:8} {c.tracer} ({traced_label(c)}), N={c.n}")
                try:
                    if i % 2 == 0:
                        u = untraced(env, c.workload, c.n)
                        settle()
                        t = c.run(env, c.workload, c.n, c.syscalls)
                    else:
                        settle()
                        t = c.run(env, c.workload, c.n, c.syscalls)
                        u = untraced(env, c.workload, c.n)
                except Exception as e:  # noqa: BLE001
                    log(f"    failed: {e}")
                    c.errors.append(str(e).replace("\n", " ").replace("|", "/"))
                    continue
                c.results.append((u, t))
                extra = ""
                if t.get("delivered") is not None:
                    extra = f" delivered {t['delivered']}/{c.expected} lost {t.get('lost')}"
                log(f"    untraced {u['ns_per_iter']:.0f} ns, traced {t['ns_per_iter']:.0f} ns{extra}")
    elapsed = time.monotonic() - t_start
    load_after = open("/proc/loadavg").read().split()[:3]

    print(table(cfgs))
    print()
    for line in summary(cfgs):
        print(line)
    print()
    print(f"{pairs} pair(s) per row; medians. Took {elapsed:.0f} s. Load average before: "
          f"{' '.join(load_before)}, after: {' '.join(load_after)}.")
    if _BASELINE_LINKS is None:
        print("WARNING: bpftool not found: runs did not wait for the hooks of the runs before them to close "
              "(an untraced loop right after a traced one pays for them: see settle()).")
    elif settle_waits:
        print(f"Each run waited for the hooks of the runs before it to close: {sum(settle_waits):.0f} s in all, "
              f"at most {max(settle_waits):.2f} s before one run.")
    if stats_before or bpf_stats_enabled():
        # Global: every BPF program run then reads the clock twice more
        # (sched_clock, costly in a VM), which inflates every BPF row.
        print("WARNING: kernel.bpf_stats_enabled was on during this run (someone ran a BPF profile): "
              "the BPF tracers' rows are inflated.")

    if args.json:
        with open(args.json, "w") as f:
            json.dump([{"workload": c.workload, "tracer": c.tracer, "traced": c.traced, "n": c.n,
                        "na": c.na, "errors": c.errors, "rss_kb": c.rss_kb,
                        "runs": [{"untraced": u, "traced": t} for u, t in c.results]}
                       for c in cfgs], f, indent=1, default=str)

    # What CI checks: systrace ran and lost nothing. Never a time.
    failures = []
    for c in cfgs:
        if c.family != "systrace":
            continue
        if c.na:
            failures.append(f"{c.workload} {c.tracer}: not available ({c.na})")
            continue
        if c.errors or len(c.results) != pairs:
            failures.append(f"{c.workload} {c.tracer} ({traced_label(c)}): {len(c.errors)} failed runs: "
                            f"{c.errors[-1] if c.errors else ''}")
        for _, t in c.results:
            if t["delivered"] != c.expected or t["lost"] != 0:
                failures.append(f"{c.workload} {c.tracer} ({traced_label(c)}): delivered {t['delivered']} "
                                f"of {c.expected}, dropped {t['lost']}")
    if failures:
        print("\nFAILED:", file=sys.stderr)
        for f in failures:
            print("  " + f, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
