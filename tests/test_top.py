"""`systrace top` (the live view, under tmux as a person sees it, and its
--batch snapshots) and `systrace -c --histogram`, against the kernel."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time

import pytest

import systrace
from test_cli import systrace_cmd

# A process named st-getppid that calls getppid 20000 times a second and
# fails close(-1) (EBADF) 1000 times a second, on a fixed schedule.
WORKLOAD = r"""
import os, time
with open("/proc/self/comm", "w") as f:
    f.write("st-getppid")
print("ready", flush=True)
t = time.monotonic()
while True:
    for _ in range(2000):
        os.getppid()
    for _ in range(100):
        try:
            os.close(-1)
        except OSError:
            pass
    t += 0.1
    time.sleep(max(0.0, t - time.monotonic()))
"""
RATE = 20000


@pytest.fixture
def workload():
    p = subprocess.Popen([sys.executable, "-c", WORKLOAD], stdout=subprocess.PIPE, text=True)
    assert p.stdout is not None and p.stdout.readline() == "ready\n"
    yield p
    p.kill()
    p.wait()


# A data row: [PID COMM] CALLS/S ERRORS/S [ERRNO] AVG P99< TIME% SYSCALL
ROW = (
    r"\s*(?P<rate>\d+)\s+(?P<errors>\d+) (?P<errno>E[A-Z0-9]+|\s)\s*"
    r"(?P<avg>[\d.]+[nmu]?s)\s+(?P<p99>[\d.]+[nmu]?s|-)\s+(?P<share>[\d.]+)  (?P<name>\w+)$"
)
PROCESS_ROW = r"^\s*(?P<pid>\d+) (?P<comm>.{15}) " + ROW


def _rows(lines, per_process=False):
    row = re.compile(PROCESS_ROW if per_process else "^" + ROW)
    return [m.groupdict() for m in map(row.match, lines) if m]


def test_top_batch_per_process_all_processes(kernel, workload):
    r = systrace_cmd("top", "--batch", "2", "--interval", "0.5", "--per-process", timeout=60)
    assert r.returncode == 0, r.stderr
    snapshots = r.stdout.split("\n\n")
    assert len(snapshots) == 2, r.stdout
    lines = snapshots[-1].splitlines()
    assert re.match(r"systrace top - all processes - up 0:00:0\d, last 0\.\ds: \d+ calls/s, \d+ errors/s, "
                    r"\d+ syscalls, \d+ processes$", lines[0]), lines[0]
    assert lines[1].split() == ["PID", "COMM", "CALLS/S", "ERRORS/S", "ERRNO", "AVG", "P99<", "TIME%", "SYSCALL"]
    rows = _rows(lines[2:], per_process=True)
    assert len(rows) == len(lines) - 2, lines  # every line is a row
    rates = [int(row["rate"]) for row in rows]
    assert rates == sorted(rates, reverse=True)
    mine = {row["name"]: row for row in rows if row["pid"] == str(workload.pid)}
    getppid, close = mine["getppid"], mine["close"]
    assert getppid["comm"].strip() == "st-getppid"
    assert RATE * 0.4 <= int(getppid["rate"]) <= RATE * 1.5, getppid
    assert int(getppid["errors"]) == 0 and getppid["errno"].strip() == ""
    assert RATE / 20 * 0.4 <= int(close["errors"]) <= RATE / 20 * 1.5, close
    assert close["errno"] == "EBADF" and close["errors"] == close["rate"]


def test_top_batch_pid_and_bad_input(kernel, workload):
    r = systrace_cmd("top", "-p", str(workload.pid), "-e", "trace=getppid", "--batch", "1", "--interval", "0.3")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith(f"systrace top - pid {workload.pid} - up 0:00:00")
    rows = _rows(lines[2:])
    assert [row["name"] for row in rows] == ["getppid"] and "pid" not in rows[0]
    assert float(rows[0]["share"]) == 100.0
    for args, message in [
        (["--interval", "0"], "--interval 0: a number of seconds > 0"),
        (["--batch", "0"], "--batch 0: a number of snapshots >= 1"),
        (["-e", "trace=nosuchcall"], "nosuchcall"),
        (["-p", "x"], "Invalid process id: 'x'"),
    ]:
        bad = systrace_cmd("top", *args)
        assert bad.returncode == 2 and message in bad.stderr, (args, bad.stderr)
    gone = systrace_cmd("top", "-p", "999999999", "--batch", "1")
    assert gone.returncode == 1 and gone.stderr.startswith("systrace: "), gone.stderr


def test_p99_bound():
    from systrace._top import p99_bound

    assert p99_bound([0] * 40) is None
    hist = [0] * 40
    hist[8] = 99  # [256, 512)
    hist[12] = 1
    assert p99_bound(hist) == 512
    hist[12] = 2
    assert p99_bound(hist) == 8192


# -c --histogram

HIST_ROW = re.compile(r"^\[(\w+), (\w+)\)\s+(\d+) \|(@*) *\|$")


def test_summary_histogram(kernel):
    loop = "import os\nfor _ in range(3000): os.getppid()\n"
    r = systrace_cmd("-c", "--histogram", "-e", "trace=getppid,close", "--", sys.executable, "-c", loop)
    assert r.returncode == 0, r.stderr
    table, _, hists = r.stderr.partition("\n@ns[")
    assert "% time     seconds  usecs/call     calls    errors syscall" in table
    calls = {m.group(2): int(m.group(1)) for m in re.finditer(r"^ *[\d.]+ +[\d.]+ +\d+ +(\d+) +\d* (\w+)$", table, re.M)}
    assert calls["getppid"] >= 3000
    blocks = ("@ns[" + hists).split("\n\n")
    names = [b.splitlines()[0] for b in blocks]
    assert "@ns[getppid]:" in names and set(names) <= {"@ns[getppid]:", "@ns[close]:"}, names
    # The syscall with the most time first, as in the table.
    assert names[0] == f"@ns[{[n for n in calls if n != 'total'][0]}]:"
    rows = [HIST_ROW.match(line) for line in blocks[names.index("@ns[getppid]:")].splitlines()[1:]]
    assert rows and all(rows), blocks
    counts = [int(m.group(3)) for m in rows]
    assert sum(counts) == calls["getppid"]
    # Consecutive buckets, bars proportional to the largest count.
    for a, b in zip(rows, rows[1:]):
        assert a.group(2) == b.group(1)
    assert all(len(m.group(4)) == int(m.group(3)) * 52 // max(counts) for m in rows)


def test_histogram_needs_c_and_histogram_text(kernel):
    r = systrace_cmd("--histogram", "--", "true")
    assert r.returncode == 1 and "--histogram is -c's: add -c" in r.stderr
    with systrace.count("getppid", pid=os.getpid()) as s:
        for _ in range(100):
            os.getppid()
    (c,) = s.counts()
    lines = c.histogram_text().splitlines()
    assert lines[0] == "@ns[getppid]:"
    assert sum(int(HIST_ROW.match(line).group(3)) for line in lines[1:]) == c.calls == 100
    (p,) = s.counts(per_process=True)
    assert p.histogram_text().splitlines()[0] == f"@ns[getppid, {os.getpid()}]:"


def test_top_live_under_tmux_as_a_person_sees_it(kernel, workload):
    """The curses view in a real terminal (tmux, 120x30): its header, the
    workload's rows refreshed with rates near the truth, and q quits."""
    assert shutil.which("tmux"), "tmux is needed (CI installs it)"
    server = f"systrace-test-{os.getpid()}"
    tmux = ["tmux", "-L", server]
    command = f"{sys.executable} -m systrace top -p {workload.pid} --interval 0.5; echo EXITED $?; sleep 60"
    subprocess.run([*tmux, "new-session", "-d", "-s", "top", "-x", "120", "-y", "30", command], check=True)
    try:
        def screen() -> list:
            out = subprocess.run([*tmux, "capture-pane", "-p", "-t", "top"], capture_output=True, text=True)
            return out.stdout.splitlines()

        rows: dict = {}
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            lines = screen()
            rows = {row["name"]: row for row in _rows(lines)}
            if "getppid" in rows and "close" in rows:
                break
            time.sleep(0.25)
        assert "getppid" in rows and "close" in rows, "\n".join(screen())
        assert re.match(rf"systrace top - pid {workload.pid} - up \d+:\d\d:\d\d", lines[0]), lines[0]
        assert lines[1].split() == ["CALLS/S", "ERRORS/S", "ERRNO", "AVG", "P99<", "TIME%", "SYSCALL"]
        # Refreshed: a later screen is drawn from a later interval.
        first = lines[0]
        time.sleep(1.2)
        assert screen()[0] != first
        assert RATE * 0.4 <= int(rows["getppid"]["rate"]) <= RATE * 1.5, rows["getppid"]
        assert rows["close"]["errno"] == "EBADF"
        subprocess.run([*tmux, "send-keys", "-t", "top", "q"], check=True)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not any(line.startswith("EXITED") for line in screen()):
            time.sleep(0.2)
        assert "EXITED 0" in screen(), "\n".join(screen())
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True)
