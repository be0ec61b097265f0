"""The systrace command against the real kernel: exit codes, strace lines,
-c, JSON, -p on a running process, -f with a child process."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

import systrace


def systrace_cmd(*args: str, timeout: float = 60, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "systrace", *args],
        capture_output=True,
        text=True,
        errors="replace",
        timeout=timeout,
        **kw,
    )


TRACE_LINE = re.compile(r"^(\[pid +\d+\] |\d+ +)?(\w+\(|<\.\.\. |\+\+\+ )")


def trace_lines(stderr: str) -> list:
    """The trace's lines (calls and +++ lines), not messages."""
    return [line for line in stderr.splitlines() if TRACE_LINE.match(line)]


def test_true_exits_0(kernel):
    r = systrace_cmd("--", "true")
    assert r.returncode == 0, r.stderr
    lines = trace_lines(r.stderr)
    # The trace starts at the command's execve, not in systrace's child.
    assert lines[0].startswith('execve("/usr/bin/true", ["true"]') or lines[0].startswith('execve("/bin/true", ["true"]'), lines[:3]
    assert "exit_group(0)" in r.stderr
    assert lines[-1] == "+++ exited with 0 +++"


def test_false_exits_1(kernel):
    r = systrace_cmd("--", "false")
    assert r.returncode == 1, r.stderr
    assert trace_lines(r.stderr)[-1] == "+++ exited with 1 +++"


def test_killed_by_signal(kernel):
    r = systrace_cmd("-e", "trace=kill", "--", "sh", "-c", "kill -9 $$")
    assert r.returncode == -signal.SIGKILL, r.stderr
    # strace prints "= ?" (a SIGKILL prevents its ptrace exit stop); the
    # kernel's exit tracepoint still fires, so systrace has the 0 returned.
    assert re.search(r"^kill\(\d+, SIGKILL\) += (0|\?)$", r.stderr, re.M), r.stderr
    assert trace_lines(r.stderr)[-1] == "+++ killed by SIGKILL +++"


def test_trace_set_and_errors(kernel):
    r = systrace_cmd("-e", "trace=openat,close", "--", "cat", "/etc/hostname", "/nonexistent-systrace")
    assert r.returncode == 1
    lines = trace_lines(r.stderr)
    calls = [line for line in lines if not line.startswith("+++")]
    assert calls and all(line.startswith(("openat(", "close(")) for line in calls), calls
    assert any(line.endswith("= -1 ENOENT (No such file or directory)") for line in calls)
    assert any(re.fullmatch(r"close\(\d+\) +?= 0", line) for line in calls)


def test_openat_hostname(kernel):
    r = systrace_cmd("-e", "trace=openat", "--", "cat", "/etc/hostname")
    assert r.returncode == 0, r.stderr
    assert 'openat(AT_FDCWD, "/etc/hostname", O_RDONLY) = 3' in r.stderr


def test_read_data_and_string_size(kernel):
    r = systrace_cmd("-s", "4", "-e", "trace=write", "--", "printf", "hello world")
    assert r.stdout == "hello world"
    assert re.search(r'^write\(1, "hell"\.\.\., 11\) += 11$', r.stderr, re.M), r.stderr


def test_durations_and_timestamps(kernel):
    r = systrace_cmd("-T", "-tt", "-e", "trace=close", "--", "true")
    assert r.returncode == 0
    closes = [line for line in r.stderr.splitlines() if " close(" in line]
    assert closes
    for line in closes:
        assert re.fullmatch(r"\d\d:\d\d:\d\d\.\d{6} close\(\d+\) += 0 <\d+\.\d{6}>", line), line


def test_summary_counts(kernel):
    r = systrace_cmd("-c", "-e", "trace=openat,close,read", "--", "cat", "/etc/hostname", "/nonexistent-systrace")
    assert r.returncode == 1
    text = r.stderr
    assert "% time     seconds  usecs/call     calls    errors syscall" in text
    rows = {}
    for line in text.splitlines():
        m = re.fullmatch(r" *[\d.]+ +[\d.]+ +\d+ +(\d+) +(\d*) (\w+)", line)
        if m:
            rows[m.group(3)] = (int(m.group(1)), int(m.group(2) or 0))
    assert set(rows) <= {"openat", "close", "read", "total"}, rows
    assert rows["openat"][0] >= 2 and rows["openat"][1] >= 1
    assert rows["total"][0] == sum(v[0] for k, v in rows.items() if k != "total")
    # -c prints the table instead of the calls.
    assert "openat(" not in text


def test_json_lines(kernel, tmp_path):
    out = tmp_path / "trace.jsonl"
    r = systrace_cmd("--format", "json", "-o", str(out), "-f", "-e", "trace=openat,close", "--",
                     "sh", "-c", "cat /etc/hostname; (exit 3) & wait; kill -9 $$")
    assert r.returncode == -signal.SIGKILL, r.stderr
    # Every line is JSON: the calls, the signals, and the processes' ends.
    objects = [json.loads(line) for line in out.read_text().splitlines()]
    records = [o for o in objects if "event" not in o]
    ends = [o for o in objects if o.get("event") in ("exit", "killed")]
    # The shell is told of its children's ends.
    signals = [o for o in objects if o.get("event") == "signal"]
    assert [s["siginfo"]["si_code"] for s in signals] == ["CLD_EXITED", "CLD_EXITED"], signals
    assert records
    fields = {"name", "nr", "pid", "tid", "comm", "args", "raw_args", "ret", "errno", "error",
              "timestamp_ns", "end_ns", "duration_ns", "unfinished", "resumed", "strace"}
    for rec in records:
        assert fields <= set(rec), rec
        assert rec["name"] in ("openat", "close")
    opens = [rec for rec in records if rec["name"] == "openat"]
    assert all(rec["args"]["dfd"] == -100 for rec in opens)
    assert any(rec["args"]["filename"] == "/etc/hostname" and rec["ret"] == 3 for rec in opens)
    # The children (cat, the subshell) exited; the shell was killed, last.
    statuses = sorted(o["status"] for o in ends if o["event"] == "exit")
    assert statuses == [0, 3], ends
    assert ends[-1] == {"event": "killed", "pid": ends[-1]["pid"], "signal": "SIGKILL",
                        "core_dumped": False}, ends
    assert ends[-1]["pid"] not in {o["pid"] for o in ends[:-1]}


def test_kernel_format(kernel):
    r = systrace_cmd("--format", "kernel", "-e", "trace=close", "--", "true")
    assert r.returncode == 0
    assert re.search(r"^sys_close\(fd: \d+\)$", r.stderr, re.M), r.stderr
    assert re.search(r"^sys_close -> 0x0$", r.stderr, re.M), r.stderr


LOOPER = """
import os, sys, time
print("ready", flush=True)
for _ in range(int(sys.argv[1])):
    os.getppid()
    time.sleep(0.05)
"""


def stderr_line(proc: subprocess.Popen) -> str:
    """One line of `proc`'s stderr, read a byte at a time: a buffered
    read would take what follows it too, which communicate() with a
    timeout (it reads the pipe itself) would then never see."""
    line = b""
    while not line.endswith(b"\n") and (byte := os.read(proc.stderr.fileno(), 1)):
        line += byte
    return line.decode(errors="replace")


def attach(*args: str) -> subprocess.Popen:
    """Starts `systrace ARGS` and returns once it has attached."""
    tracer = subprocess.Popen([sys.executable, "-m", "systrace", *args], stderr=subprocess.PIPE, text=True)
    seen = []
    while line := stderr_line(tracer):
        seen.append(line)
        if " attached" in line:
            break
    else:
        raise AssertionError(f"systrace did not attach: {''.join(seen)}")

    # The lines read here are not lost to communicate().
    communicate = tracer.communicate

    def communicate_all(*a, **kw):
        out, err = communicate(*a, **kw)
        return out, "".join(seen) + (err or "")

    tracer.communicate = communicate_all  # type: ignore[method-assign]
    return tracer


def test_attach_to_running_pid(kernel):
    target = subprocess.Popen([sys.executable, "-c", LOOPER, "100000"], stdout=subprocess.PIPE, text=True)
    try:
        assert target.stdout.readline() == "ready\n"
        tracer = attach("-e", "trace=getppid", "-p", str(target.pid))
        time.sleep(1.0)
        tracer.send_signal(signal.SIGINT)
        _, err = tracer.communicate(timeout=30)
        # Detached, then dead of the signal, as strace.
        assert tracer.returncode == -signal.SIGINT, err
        lines = [line for line in err.splitlines() if line.startswith("getppid()")]
        assert len(lines) >= 5, err
        assert all(re.fullmatch(rf"getppid\(\) += {os.getpid()}", line) for line in lines), lines
        assert f"Process {target.pid} detached" in err
        assert target.poll() is None  # the traced process runs on
    finally:
        target.kill()
        target.wait()


def test_attach_summary_on_ctrl_c(kernel):
    target = subprocess.Popen([sys.executable, "-c", LOOPER, "100000"], stdout=subprocess.PIPE, text=True)
    try:
        assert target.stdout.readline() == "ready\n"
        tracer = attach("-c", "-p", f"{target.pid}")
        time.sleep(1.0)
        tracer.send_signal(signal.SIGINT)
        _, err = tracer.communicate(timeout=30)
        # Detached, then dead of the signal, as strace.
        assert tracer.returncode == -signal.SIGINT, err
        m = re.search(r"^ *[\d.]+ +[\d.]+ +\d+ +(\d+) +\d* getppid$", err, re.M)
        assert m and int(m.group(1)) >= 5, err
        assert re.search(r" total$", err, re.M)
    finally:
        target.kill()
        target.wait()


def test_attach_until_exit(kernel):
    target = subprocess.Popen([sys.executable, "-c", LOOPER + "\ninput()\n", "3"], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    assert target.stdout.readline() == "ready\n"
    tracer = attach("-e", "trace=exit_group", "-p", str(target.pid))
    target.stdin.write("\n")
    target.stdin.close()
    target.wait(timeout=30)
    _, err = tracer.communicate(timeout=30)
    assert tracer.returncode == 0, err
    assert "exit_group(0)" in err and "+++ exited with 0 +++" in err


def test_attach_refuses_a_kernel_thread(kernel):
    # As strace -p 2: kthreadd makes no calls, so the command says so and
    # exits rather than waiting for ever ("Process 2 attached" before).
    r = systrace_cmd("-p", "2", timeout=20)
    assert r.returncode == 1, r.stderr
    assert r.stderr == "systrace: process 2 is a kernel thread: it makes no system calls to trace\n", r.stderr


def test_follow_children(kernel, tmp_path):
    out = tmp_path / "trace.txt"
    r = systrace_cmd("-f", "-o", str(out), "-e", "trace=execve,wait4", "--", "sh", "-c", "/bin/true; /bin/true")
    assert r.returncode == 0, r.stderr
    text = out.read_text()
    # With -o and -f, strace puts the pid first on every line.
    execs = re.findall(r"^(\d+) +execve\(([^,]*)", text, re.M)
    pids = {pid for pid, _ in execs}
    assert len(pids) == 3, text  # sh and two children
    assert sum(1 for _, path in execs if path == '"/bin/true"') == 2, text
    assert re.search(r"^\d+ +wait4\(", text, re.M), text
    assert text.splitlines()[-1].endswith("+++ exited with 0 +++")


def test_without_follow_children_are_not_traced(kernel):
    r = systrace_cmd("-e", "trace=execve", "--", "sh", "-c", "/bin/true; /bin/true")
    assert r.returncode == 0
    assert len(re.findall(r"^execve\(", r.stderr, re.M)) == 1, r.stderr


def test_command_not_found():
    r = systrace_cmd("--", "/nonexistent/command")
    assert r.returncode == 1
    assert "Can't stat '/nonexistent/command'" in r.stderr


def test_a_failed_write_of_the_trace_is_told_and_the_command_runs_on(kernel, tmp_path):
    # A full disk: the command is traced to its end and keeps its exit
    # code; systrace says the trace stops at the failed write (it was a
    # traceback, with the command left running untraced). The same path
    # takes -ff's errors, raised by the native writer (a Rust test).
    r = systrace_cmd("-o", "/dev/full", "-e", "trace=openat,write", "--", "sh", "-c", "echo done; exit 3")
    assert r.returncode == 3 and r.stdout == "done\n", (r.stdout, r.stderr)
    assert "Traceback" not in r.stderr and \
        "systrace: writing /dev/full failed: No space left on device; nothing after that was written\n" in r.stderr, \
        r.stderr


def test_ff_is_f(kernel, tmp_path):
    # -ff alone is -f, as in strace (with -o: tests/test_cli_options.py).
    r = systrace_cmd("-ff", "-e", "trace=exit_group", "--", "sh", "-c", "true & wait")
    assert r.returncode == 0, r.stderr
    assert len(re.findall(r"^\[pid +\d+\] exit_group\(0\)", r.stderr, re.M)) == 1, r.stderr


def test_python_m_and_help():
    r = systrace_cmd("--help")
    assert r.returncode == 0 and "usage: systrace" in r.stdout


# The native Printer (systrace._native.Printer) against the Python
# objects it stands in for: Call.strace(), systrace.json_line(call) and
# Event.format_line() of the same events, paired as systrace.iter_calls does.

SHELL_SCRIPT = r"""
cat /etc/hostname /nonexistent-systrace 2>/dev/null
printf 'h\001\377\303\251 "q" \\ \t end\n' > /dev/null
( true ) &
wait
exit 3
"""


def _traced_batches():
    """The event batches of a shell script (and its children) with strings,
    from its execve on."""
    session = systrace.run(["sh", "-c", SHELL_SCRIPT], strings=True, string_size=257)
    assert session.returncode == 3
    return session.pid, list(session.batches())


def _native_text(batches, as_events=False, **kw):
    printer = systrace._native.Printer(**kw)
    text = "".join(printer.feed(list(b) if as_events else b) for b in batches)
    return text + printer.finish(), printer


def test_native_printer_durations_and_summary(kernel):
    pid, batches = _traced_batches()
    # The same events as Event objects give the same text as the batches.
    assert _native_text(batches, as_events=True)[0] == _native_text(batches)[0]
    calls = [c for c in systrace.calls(batches) if not (c.resumed and c.name in ("clone", "clone3"))]
    # -T: each line ends with the call's duration.
    text, _ = _native_text(batches, durations=True, prefix="none")
    timed = [line for line in text.splitlines() if line.startswith("read(")]
    assert timed and all(re.search(r" <\d+\.\d{6}>$", line) for line in timed), timed[:3]

    # -c: returned calls (and rt_sigreturn) counted per syscall; no lines.
    selected = sorted({systrace._native.syscall_nr(n) for n in ("openat", "close", "read")})
    text, printer = _native_text(batches, summary=True, selected=selected)
    assert text == ""
    rows = {}
    for c in calls:
        if c.nr in selected and (c.exit is not None or c.name == "rt_sigreturn"):
            row = rows.setdefault(c.nr, [c.name, c.nr, 0, 0, 0])
            row[2] += 1
            row[3] += int(c.failed)
            row[4] += c.duration_ns or 0
    table = systrace._native.format_summary([tuple(r) for _, r in sorted(rows.items())])
    assert printer.summary_table() == table


def test_native_printer_prefixes_and_status_lines(kernel):
    pid, batches = _traced_batches()
    text, printer = _native_text(batches, prefix="always", main_pid=pid)
    lines = text.splitlines()
    # A launched command is shown from its execve on, each line with its pid.
    assert re.match(rf"^{pid:<5} execve\(", lines[0]), lines[:3]
    assert all(re.match(r"^\d+ +", line) for line in lines)
    # The command's own end is told by the caller, not by its exit_group.
    assert not any(line.startswith(f"{pid:<5} +++") for line in lines)
    assert printer.status_line(pid, "+++ exited with 3 +++", True) == f"{pid:<5} +++ exited with 3 +++\n"

    text, printer = _native_text(batches, timestamps=3, wall_offset_ns=0)
    lines = text.splitlines()
    # Every line has the time, the ends of other processes too, as strace's.
    assert any(re.match(r"^\[pid +\d+\] \d+\.\d{6} \+\+\+ exited with 0 \+\+\+$", line) for line in lines), lines
    for line in lines:
        assert re.match(r"^(\[pid +\d+\] )?\d+\.\d{6} ", line), line
    # The launched command's own end: the time now.
    line = printer.status_line(pid, "+++ exited with 3 +++", True)
    assert re.fullmatch(r"\d+\.\d{6} \+\+\+ exited with 3 \+\+\+\n", line), line
    assert abs(float(line.split()[0]) - time.monotonic()) < 60, line
    assert systrace._native.Printer(summary=True).status_line(pid, "+++ exited with 0 +++") == ""
    with pytest.raises(ValueError, match="not a process's end"):
        systrace._native.Printer().status_line(pid, "+++ x +++")


def test_native_printer_rejects_bad_input():
    with pytest.raises(ValueError):
        systrace._native.Printer(format="xml")
    with pytest.raises(TypeError):
        systrace._native.Printer().feed([1, 2])
    assert systrace._native.Printer().feed([]) == ""


def test_cli_imports_nothing_heavy():
    code = "import sys, systrace.cli; print(sorted({m.split('.')[0] for m in sys.modules}))"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    loaded = set(eval(r.stdout))
    assert not loaded & {"pyarrow", "pandas", "polars", "numpy"}, loaded


def test_buffer_size_option(kernel):
    r = systrace_cmd("--buffer-size", str(1 << 20), "-e", "trace=getppid", "--", "true")
    assert r.returncode == 0, r.stderr
    r = systrace_cmd("--buffer-size", "1000", "--", "true")
    assert r.returncode != 0
    assert "buffer_size must be a power of two" in r.stderr and "Traceback" not in r.stderr, r.stderr
