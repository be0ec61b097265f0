"""The command's `+++` lines, against strace's: the time under -t/-tt/-ttt,
and the kill of a process traced with -p."""
from __future__ import annotations

import re
import subprocess
import sys

import pytest

from test_cli import attach, stderr_line


def _pid_prefix(m: "re.Match[str]") -> str:
    # Right-aligned in 5 columns as strace's %5d; the pid's own width is
    # not the format (the two runs' pids may sit either side of 10000).
    assert len(m[0]) >= len("[pid 12345]"), m[0]
    return "[pid 00000]"


def _status_lines(stderr: str) -> list:
    """The +++ lines, their digits as 0: the format, not the values."""
    return [re.sub(r"\d", "0", re.sub(r"\[pid +\d+\]", _pid_prefix, line))
            for line in stderr.splitlines() if "+++" in line]


def _both(*args: str) -> tuple:
    st = subprocess.run(["strace", *args], capture_output=True, text=True, timeout=60)
    sy = subprocess.run([sys.executable, "-m", "systrace", *args], capture_output=True, text=True, timeout=60)
    # Both die of the signal that killed the command.
    assert sy.returncode == st.returncode, sy.stderr
    return _status_lines(st.stderr), _status_lines(sy.stderr)


@pytest.mark.parametrize("flag", ["-t", "-tt", "-ttt"])
def test_status_lines_carry_the_time(kernel, flag):
    strace, systrace = _both(flag, "-e", "trace=none", "--", "sh", "-c", "exit 3")
    assert strace == systrace == [strace[0]] and strace[0].endswith(" +++ exited with 0 +++"), systrace
    # -f: a child's end, with its pid prefix, then the command's.
    strace, systrace = _both(flag, "-f", "-e", "trace=none", "--", "sh", "-c", "/bin/true & wait")
    assert len(strace) == 2 and strace[0].startswith("[pid "), strace
    assert systrace == strace
    # The command killed.
    strace, systrace = _both(flag, "-e", "trace=none", "--", "sh", "-c", "kill -9 $$")
    assert systrace == strace and strace[0].endswith(" +++ killed by SIGKILL +++"), strace


def _attached_and_killed(tracer_args: list, command: list) -> str:
    target = subprocess.Popen(["sleep", "30"])
    try:
        if command[0] == "strace":
            tracer = subprocess.Popen([*command, *tracer_args, "-p", str(target.pid)], stderr=subprocess.PIPE,
                                      text=True)
            assert " attached" in stderr_line(tracer)
        else:
            tracer = attach(*tracer_args, "-p", str(target.pid))
        target.kill()
        target.wait()  # reaped by its parent before the tracer looks
        _, err = tracer.communicate(timeout=30)
        assert tracer.returncode == 0, err
        return err
    finally:
        target.kill()
        target.wait()


@pytest.mark.parametrize("flags", [[], ["-t"], ["-ttt"]])
def test_attached_process_killed(kernel, flags):
    args = [*flags, "-e", "trace=none"]
    systrace = _attached_and_killed(args, [sys.executable, "-m", "systrace"])
    strace = _attached_and_killed(args, ["strace"])
    assert _status_lines(systrace) == _status_lines(strace), systrace
    assert systrace.splitlines()[-1].endswith("+++ killed by SIGKILL +++"), systrace


@pytest.mark.parametrize("flags", [["-r"], ["-t", "-r"], ["-r", "-T"]])
def test_relative_timestamps_like_strace(kernel, flags):
    # strace -r: each line starts with the time since the line printed
    # before it (the first 0), after -t's time of day when both are given.
    args = [*flags, "-e", "trace=openat,read,write", "--", "cat", "/etc/hostname"]
    st = subprocess.run(["strace", *args], capture_output=True, text=True, timeout=60)
    sy = subprocess.run([sys.executable, "-m", "systrace", *args], capture_output=True, text=True, timeout=60)
    assert sy.returncode == st.returncode == 0, sy.stderr

    def shapes(stderr: str) -> list:
        # The format of each line's start and its call, the digits as 0.
        return [re.sub(r"\d", "0", re.sub(r"\(.*", "", line)) for line in stderr.splitlines()]
    assert shapes(sy.stderr) == shapes(st.stderr), sy.stderr
    stamp = r"(?:\d\d:\d\d:\d\d \(\+ *(\d+\.\d{6})\) |^ *(\d+\.\d{6}) )"
    deltas = []
    for line in sy.stderr.splitlines():
        m = re.search(stamp, line)
        assert m, line
        deltas.append(float(m[1] or m[2]))
    assert deltas[0] == 0.0 and all(0 <= d < 5 for d in deltas), deltas
    assert sum(deltas) > 0, deltas


def _wait_status(argv: list, cwd) -> int:
    """The raw wait status of argv, run with core files allowed (a tracer
    that dumped one of its own would show it, as the core flag and a file)."""
    import os
    import resource

    def allow_cores() -> None:
        resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))

    p = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         preexec_fn=allow_cores)
    _, status = os.waitpid(p.pid, 0)
    p.returncode = 0  # reaped here
    return status


@pytest.mark.parametrize("end", ["exit 3", "kill -TERM $$", "kill -KILL $$", "kill -SEGV $$"])
def test_the_command_dies_of_its_command_s_signal_like_strace(kernel, tmp_path, end):
    # strace dies of the signal that killed its command (so that whoever
    # waits sees what it would see untraced: a `subprocess` returncode -15,
    # not 143), without a core file of its own; the trace is written first.
    import os

    statuses = {}
    for tracer in ("strace", "systrace"):
        out = tmp_path / f"{tracer}.txt"
        cwd = tmp_path / tracer
        cwd.mkdir()
        head = ["strace"] if tracer == "strace" else [sys.executable, "-m", "systrace"]
        # The shell itself dumps no core either.
        statuses[tracer] = _wait_status([*head, "-o", str(out), "-e", "trace=kill", "--",
                                         "sh", "-c", f"ulimit -c 0; {end}"], cwd)
        assert os.listdir(cwd) == [], (tracer, os.listdir(cwd))
        assert out.read_text().splitlines()[-1].startswith("+++ "), out.read_text()
    assert statuses["systrace"] == statuses["strace"], statuses
    st = statuses["strace"]
    if end == "exit 3":
        assert os.WIFEXITED(st) and os.WEXITSTATUS(st) == 3
    else:
        assert os.WIFSIGNALED(st) and not os.WCOREDUMP(st) and os.WTERMSIG(st) != 0
