"""The launcher of a traced command against the real kernel: the command
starts as it would untraced (signals, fds, environment), its trace begins
at its execve, and systrace.run() runs it as subprocess.run() does."""
from __future__ import annotations

import collections
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import threading
import time

import pytest

import systrace
from systrace import cli

SYSTRACE = [sys.executable, "-m", "systrace"]


PARENT = """\
import json, os, signal, subprocess, sys
# A shell's state, and some less usual: SIGUSR1 ignored, SIGUSR2 blocked,
# fd 5 open (Python's own start-up ignores SIGPIPE and SIGXFSZ, a shell's
# children have them at their default).
signal.signal(signal.SIGPIPE, signal.SIG_DFL)
signal.signal(signal.SIGXFSZ, signal.SIG_DFL)
signal.signal(signal.SIGUSR1, signal.SIG_IGN)
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR2})
os.dup2(os.open("/etc/hostname", os.O_RDONLY), 5)
for prefix in ([], json.loads(sys.argv[1])):
    # fork and exec, which change nothing (close_fds=False would be glibc's
    # posix_spawn, which ignores in the child the signals glibc uses itself).
    subprocess.run([*prefix, *sys.argv[2].split()], pass_fds=(5,), restore_signals=False)
    print("==", flush=True)
"""


def _from_parent(command: str, **kw) -> list:
    """The output of `command` run by one parent untraced, then under
    `systrace -o /dev/null --`."""
    traced = json.dumps([*SYSTRACE, "-o", "/dev/null", "--"])
    r = subprocess.run([sys.executable, "-c", PARENT, traced, command], capture_output=True, text=True,
                       timeout=60, **kw)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    return r.stdout.split("==\n")[:2]


def test_command_gets_the_signals_and_fds_of_its_parent(kernel):
    # SigQ counts the signals queued for the whole user, anyone's: not
    # the command's state.
    untraced, traced = _from_parent("grep ^Sig[^Q] /proc/self/status")
    assert traced == untraced
    fields = {k: int(v, 16) for k, v in re.findall(r"^(Sig\w+):\s+([0-9a-f]+)$", untraced, re.M)}
    bit = lambda s: 1 << (s - 1)  # noqa: E731
    # The parent's state was not the default one, so the comparison tells.
    assert fields["SigIgn"] & bit(signal.SIGUSR1) and fields["SigBlk"] & bit(signal.SIGUSR2), untraced
    assert not fields["SigIgn"] & (bit(signal.SIGPIPE) | bit(signal.SIGXFSZ)), untraced
    untraced, traced = _from_parent("ls -l --time-style=+ /proc/self/fd/")
    # ls's own fd on the directory names its pid.
    assert re.sub(r"/proc/\d+/", "/proc/N/", traced) == re.sub(r"/proc/\d+/", "/proc/N/", untraced)
    assert re.search(r" 5 -> /etc/hostname$", untraced, re.M), untraced


def test_command_keeps_its_priority(kernel):
    # The command is forked before the tracer's threads take nice -20: its
    # own nice and policy are its parent's. Its process group's priority
    # (the lowest nice in it) shows the tracer's threads, which share the
    # group (the README says so; a real-time policy would not show, but
    # loses events, see cli.TRACER_NICE).
    # (no spaces: PARENT splits the command on them). A group of its own:
    # in the test's, a command of an earlier test could still be closing
    # its hooks at -20, and the untraced run would see it.
    untraced, traced = _from_parent("python3 -c o=__import__('os');print(o.getpriority(o.PRIO_PROCESS,0),"
                                    "o.sched_getscheduler(0),o.getpriority(o.PRIO_PGRP,0))",
                                    start_new_session=True)
    # The test's own nice (0, unless the runner was started niced) is the
    # command's either way.
    nice = str(os.getpriority(os.PRIO_PROCESS, 0))
    assert untraced.split() == [nice, str(os.SCHED_OTHER), nice], untraced
    assert traced.split() == [nice, str(os.SCHED_OTHER), str(cli.TRACER_NICE)], traced


def test_command_gets_the_environment_of_its_parent(kernel):
    env = dict(os.environ, SYSTRACE_TEST_VALUE="a b\tc")
    untraced, traced = _from_parent("env", env=env)
    assert "SYSTRACE_TEST_VALUE=a b\tc" in untraced.splitlines()
    assert traced == untraced


@pytest.mark.parametrize("given", [[], ["LC_ALL=C"], ["LC_CTYPE=POSIX"], ["LANG=C"], ["LANG=POSIX", "LC_CTYPE=C"]],
                         ids=["unset", "LC_ALL=C", "LC_CTYPE=POSIX", "LANG=C", "LC_CTYPE=C"])
def test_command_gets_the_environment_without_python_s_locale_coercion(kernel, given):
    # Started in the C locale, Python sets LC_CTYPE=C.UTF-8 in its own
    # environment (PEP 538), before any of systrace's code: the command
    # gets the environment systrace was started with, not that one (a
    # caller's LC_CTYPE=POSIX stays POSIX). The parent is env(1), which
    # coerces nothing; -E changes only what it names.
    base = ["PATH=/usr/bin:/bin", *given]
    if "PYTHONPATH" in os.environ:  # the systrace under test
        base.append(f"PYTHONPATH={os.environ['PYTHONPATH']}")

    def env_of(*prefix: str) -> list:
        r = subprocess.run(["/usr/bin/env", "-i", *base, *prefix, "/usr/bin/env"], capture_output=True, text=True,
                           timeout=60)
        assert r.returncode == 0, r.stderr
        return r.stdout.splitlines()

    untraced = env_of()
    assert not any(line.startswith("LC_CTYPE=") and line != "LC_CTYPE=C" and line != "LC_CTYPE=POSIX"
                   for line in untraced), untraced
    assert env_of(*SYSTRACE, "-o", "/dev/null", "--") == untraced
    assert env_of(*SYSTRACE, "-E", "SYSTRACE_TEST=1", "-o", "/dev/null", "--") == [*untraced, "SYSTRACE_TEST=1"]


CLOSED_STDIO = """\
import os, sys
open_ = []
for fd in range(3):
    try:
        os.fstat(fd)
        open_.append(fd)
    except OSError:
        pass
with open(sys.argv[1], "w") as f:
    f.write(repr(open_))
raise SystemExit(7)
"""


@pytest.mark.parametrize("closing", ["2>&-", ">&-", "<&- 2>&-", "<&- >&- 2>&-"])
def test_closed_standard_fds_stay_closed(kernel, tmp_path, closing):
    # A caller's `2>&-`: Python leaves sys.stderr None, and the command
    # used to end with a traceback and exit 1 after its command ran. Now
    # the trace goes nowhere (as strace's), the exit code is the command's,
    # and the command starts with the same fds closed as untraced.
    script = tmp_path / "fds.py"
    script.write_text(CLOSED_STDIO)
    seen = {}
    for name, prefix in [("untraced", []), ("traced", [*SYSTRACE, "-e", "trace=close", "--"])]:
        out = tmp_path / name
        command = " ".join(shlex.quote(a) for a in [*prefix, sys.executable, str(script), str(out)])
        r = subprocess.run(["sh", "-c", f"{command} {closing}"], capture_output=True, text=True, timeout=60)
        assert r.returncode == 7, (name, r.stderr)
        assert "Traceback" not in r.stderr, r.stderr
        seen[name] = out.read_text()
        if name == "traced" and "2>&-" not in closing:
            assert r.stderr.endswith("+++ exited with 7 +++\n"), r.stderr
    assert seen["traced"] == seen["untraced"]
    closed = {"<&-": 0, ">&-": 1, "2>&-": 2}
    assert seen["untraced"] == repr([fd for fd in range(3) if fd not in [closed[c] for c in closing.split()]])


def test_yes_into_head_dies_of_sigpipe_as_untraced(kernel):
    def pipeline(prefix: str) -> subprocess.CompletedProcess:
        return subprocess.run(["bash", "-c", f"{prefix} yes | head -1; echo ${{PIPESTATUS[0]}}"],
                              capture_output=True, text=True, timeout=60)

    untraced = pipeline("")
    traced = pipeline(" ".join([*SYSTRACE, "-o", "/dev/null", "--"]))
    assert untraced.stdout == "y\n141\n" and untraced.stderr == ""
    assert (traced.stdout, traced.stderr) == (untraced.stdout, untraced.stderr)


def _sigactions(text: str) -> list:
    """(signal, whether it sets an action) of each rt_sigaction line."""
    return [(sig, act != "NULL") for sig, act in re.findall(r"^rt_sigaction\((SIG\w+), (NULL|[^,]+),", text, re.M)]


def test_gzip_installs_its_handlers_as_under_strace(kernel, tmp_path):
    data = tmp_path / "data"
    data.write_bytes(b"systrace\n" * 100)
    args = ["gzip", "-c", str(data)]
    st = subprocess.run(["strace", "-e", "trace=rt_sigaction", *args], stdout=subprocess.DEVNULL,
                        stderr=subprocess.PIPE, text=True, timeout=60)
    sy = subprocess.run([*SYSTRACE, "-e", "trace=rt_sigaction", "--", *args], stdout=subprocess.DEVNULL,
                        stderr=subprocess.PIPE, text=True, timeout=60)
    assert st.returncode == 0 and sy.returncode == 0, sy.stderr
    assert "rt_sigaction(SIGXFSZ, {sa_handler=0x" in sy.stderr, sy.stderr
    assert _sigactions(sy.stderr) == _sigactions(st.stderr), sy.stderr
    # The structures as strace decodes them (handler and restorer
    # addresses differ between runs: ASLR).
    def addresses(text: str) -> str:
        return re.sub(r"0x[0-9a-f]+", "0xADDR", text)
    assert addresses(sy.stderr) == addresses(st.stderr)
    # systrace.run(): the same calls, none of the launcher's.
    session = systrace.run(args, "rt_sigaction", stdout=subprocess.DEVNULL)
    lines = "".join(c.strace() + "\n" for c in systrace.calls(session))
    assert _sigactions(lines) == _sigactions(st.stderr), lines


# systrace.run()


def test_run_tar_sees_the_files_it_opens(kernel, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    names = [f"file{i}.txt" for i in range(5)]
    for name in names:
        (src / name).write_text(name)
    archive = tmp_path / "out.tar"
    session = systrace.run(["tar", "cf", str(archive), "-C", str(tmp_path), "src"], "openat", "creat", strings=True,
                           string_size=256)
    assert isinstance(session, systrace.Session) and session.closed
    assert session.returncode == 0 and archive.exists()
    calls = systrace.calls(session)
    assert {c.pid for c in calls} == {session.pid}
    opened = [c.args.get("filename", c.args.get("pathname")) for c in calls if c.ret is not None and c.ret >= 0]
    # tar creates the archive, opens the files in their directory (openat
    # on its fd).
    assert sorted(n for n in opened if n.startswith("file")) == names, opened
    assert str(archive) in opened
    assert session.dropped == 0


def test_run_follows_children_from_the_execve_on(kernel):
    session = systrace.run(["sh", "-c", "cat /etc/hostname | wc -c; exit 3"], "execve", "exit_group",
                           strings=True, string_size=256, capture_output=True, text=True)
    assert session.returncode == 3
    with open("/etc/hostname", "rb") as f:
        assert session.stdout == f"{len(f.read())}\n"
    calls = systrace.calls(session)
    # The first event is the command's execve: nothing of the launcher.
    first = calls[0]
    assert (first.name, first.pid, first.ret) == ("execve", session.pid, 0)
    assert first.args["argv"] == ["sh", "-c", "cat /etc/hostname | wc -c; exit 3"]
    execs = {c.pid: c.args["argv"][0] for c in calls if c.name == "execve" and c.ret == 0}
    assert sorted(execs.values()) == ["cat", "sh", "wc"], execs
    exits = {c.pid: c.args["error_code"] for c in calls if c.name == "exit_group"}
    assert exits == {pid: (3 if pid == session.pid else 0) for pid in execs}


def test_run_return_codes_check_and_errors(kernel, tmp_path):
    assert systrace.run(["sh", "-c", "exit 3"], "exit_group").returncode == 3
    killed = systrace.run(["sh", "-c", "kill -9 $$"], "kill")
    assert killed.returncode == -signal.SIGKILL
    assert [c.name for c in systrace.calls(killed)] == ["kill"]
    with pytest.raises(subprocess.CalledProcessError) as err:
        systrace.run(["false"], check=True)
    assert err.value.returncode == 1
    with pytest.raises(FileNotFoundError, match="no-such-command-systrace"):
        systrace.run(["no-such-command-systrace"])
    script = tmp_path / "not-executable"
    script.write_text("#!/bin/sh\n")
    with pytest.raises(PermissionError):
        systrace.run([str(script)])
    with pytest.raises(FileNotFoundError):
        systrace.run(["true"], cwd=str(tmp_path / "missing"))
    with pytest.raises(TypeError):
        systrace.run("true")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="syscall"):
        systrace.run(["true"], "no_such_syscall")


def test_a_file_of_unknown_format_is_not_run_by_sh(kernel, tmp_path):
    """A script without `#!`: subprocess.run raises ENOEXEC and strace
    says `exec: Exec format error`; systrace ran it with /bin/sh, as
    execvp does."""
    import errno
    import shutil

    script = tmp_path / "no-interpreter"
    script.write_text("echo ran\n")
    script.chmod(0o755)
    with pytest.raises(OSError) as err:
        subprocess.run([str(script)])
    assert err.value.errno == errno.ENOEXEC
    with pytest.raises(OSError) as err:
        systrace.run([str(script)], capture_output=True)
    assert err.value.errno == errno.ENOEXEC
    ours = subprocess.run([sys.executable, "-m", "systrace", "-o", os.devnull, "--", str(script)],
                          capture_output=True, text=True, timeout=60)
    assert (ours.returncode, ours.stdout, ours.stderr) == (1, "", "systrace: exec: Exec format error\n")
    strace = shutil.which("strace")
    if strace is not None:  # the reference, where installed (CI installs it)
        theirs = subprocess.run([strace, "-o", os.devnull, "--", str(script)],
                                capture_output=True, text=True, timeout=60)
        assert theirs.returncode == 1 and theirs.stderr.endswith("strace: exec: Exec format error\n"), theirs


def test_run_cwd_env_and_input(kernel, tmp_path):
    assert systrace.run(["pwd"], capture_output=True, cwd=tmp_path).stdout == f"{tmp_path}\n".encode()
    r = systrace.run(["env"], capture_output=True, text=True, env={"ONLY": "this", "PATH": "/usr/bin:/bin"})
    assert sorted(r.stdout.splitlines()) == ["ONLY=this", "PATH=/usr/bin:/bin"]
    r = systrace.run(["tr", "a-z", "A-Z"], "read", input="hello\n" * 10000, capture_output=True, text=True,
                     strings=True)
    assert r.stdout == "HELLO\n" * 10000 and r.stderr == ""
    reads = [c for c in systrace.calls(r) if c.name == "read" and c.args["fd"] == 0]
    assert sum(c.ret for c in reads) == len("hello\n" * 10000)
    merged = systrace.run(["sh", "-c", "echo out; echo err >&2"], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT)
    assert merged.stdout == b"out\nerr\n" and merged.stderr is None


def test_run_timeout_kills_the_command(kernel):
    start = time.monotonic()
    with pytest.raises(subprocess.TimeoutExpired) as err:
        systrace.run(["sh", "-c", "echo started; exec sleep 30"], capture_output=True, timeout=1)
    assert time.monotonic() - start < 10
    assert err.value.cmd == ["sh", "-c", "echo started; exec sleep 30"] and err.value.timeout == 1
    assert err.value.stdout == b"started\n"
    # Killed and reaped: no child of ours is left.
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)


def test_run_has_none_of_the_callers_syscalls(kernel):
    stop = threading.Event()
    me = os.getpid()

    def busy() -> None:
        while not stop.is_set():
            os.getppid()

    with systrace.enable("getppid") as mine:
        thread = threading.Thread(target=busy)
        thread.start()
        try:
            # dash's and bash's start-up calls getppid ($PPID) once.
            session = systrace.run(["sh", "-c", "echo $PPID"], "getppid", capture_output=True)
        finally:
            stop.set()
            thread.join()
    calls = systrace.calls(session)
    assert [(c.name, c.pid, c.ret) for c in calls] == [("getppid", session.pid, me)]
    # The caller did call getppid while the command ran.
    assert sum(1 for c in systrace.calls(mine) if c.tid == thread.native_id) > 10
    assert session.stdout == f"{me}\n".encode()


def _strace_counts(args) -> collections.Counter:
    r = subprocess.run(["strace", "-f", "-c", "-o", "/dev/stdout", *args], capture_output=True, text=True,
                       timeout=300)
    counts: collections.Counter = collections.Counter()
    for line in r.stdout.splitlines():
        m = re.match(r"^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(\w+)$", line)
        if m and m.group(2) != "total":
            counts[m.group(2)] = int(m.group(1))
    return counts


def test_run_is_lossless_for_a_busy_command(kernel):
    # find over /usr/lib: ~170000 calls, every one kept.
    args = ["find", "/usr/lib", "-name", "systrace-nothing"]
    session = systrace.run(args, stdout=subprocess.DEVNULL)
    assert session.returncode == 0 and session.dropped == 0
    calls = systrace.calls(session)
    returned = collections.Counter(c.name for c in calls if c.exit is not None)
    expected = _strace_counts(args)
    assert expected["getdents64"] > 10000, expected
    for name in ("getdents64", "openat", "close", "newfstatat", "fchdir"):
        assert returned[name] == expected[name], name
