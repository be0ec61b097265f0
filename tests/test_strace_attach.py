"""strace -p on a process blocked in a call, against strace 6.1: strace's
attach interrupts the call, and the kernel resumes a sleep by
restart_syscall, whose line strace prints as
`restart_syscall(<... resuming interrupted read ...>)` (the name its
syscall info gives at the attach's stop); a call the kernel runs again
from its start (read, accept, epoll_wait) strace shows whole, as if it
began at the attach."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import pytest

from test_cli import attach, stderr_line


def _blocked_in(pid: int, name_nr: int) -> None:
    for _ in range(500):
        with open(f"/proc/{pid}/syscall") as f:
            if f.read().split()[0] == str(name_nr):
                return
        time.sleep(0.01)
    raise AssertionError(f"{pid} never blocked in syscall {name_nr}")


def _tracing(tracer: str, pid: int, *options: str) -> subprocess.Popen:
    """strace or systrace attached to `pid` with `options`, once it says so;
    `_rest(proc)` is its output after that."""
    if tracer == "strace":
        proc = subprocess.Popen(["strace", *options, "-p", str(pid)], stderr=subprocess.PIPE, text=True)
        first = stderr_line(proc)
        # Under load strace may begin the tracee's first line before its
        # own `Process N attached` on the same line.
        assert " attached" in first, first
        proc.head = first[:first.index("strace: Process")]  # type: ignore[attr-defined]
        return proc
    return attach(*options, "-p", str(pid))


def _rest(proc: subprocess.Popen) -> str:
    _, err = proc.communicate(timeout=30)
    return getattr(proc, "head", "") + err


def _attached(tracer: str, target_argv: list, then, blocked_in: int = 230, options: tuple = (),
              pipes: bool = False) -> list:
    """The trace of `target_argv` attached with -p while it is blocked in
    syscall `blocked_in` (clock_nanosleep: a sleep), `then` run on it once
    attached; the lines, the test's pid as PID."""
    pipe = subprocess.PIPE if pipes else None
    target = subprocess.Popen(target_argv, stdin=pipe, stdout=pipe)
    try:
        _blocked_in(target.pid, blocked_in)
        proc = _tracing(tracer, target.pid, *options)
        time.sleep(0.5)  # strace says attached before its tracee resumes
        then(target)
        target.wait(timeout=30)
        err = _rest(proc)
        assert proc.returncode == 0, err
    finally:
        target.kill()
        target.wait()
    return [line.replace(f"si_pid={os.getpid()},", "si_pid=PID,") for line in err.splitlines()
            if " attached" not in line]


def _killed(target: subprocess.Popen) -> None:
    target.send_signal(signal.SIGTERM)


def _stopped_continued_killed(target: subprocess.Popen) -> None:
    # A second interruption: what it resumes is restart_syscall.
    target.send_signal(signal.SIGSTOP)
    time.sleep(0.3)
    target.send_signal(signal.SIGCONT)
    time.sleep(0.3)
    target.send_signal(signal.SIGTERM)


def _let_end(target: subprocess.Popen) -> None:
    pass


@pytest.mark.parametrize("argv,then", [
    (["sleep", "30"], _killed),
    (["sleep", "30"], _stopped_continued_killed),
    (["sleep", "1.5"], _let_end),
], ids=["killed", "stopped", "ends"])
def test_attached_in_a_sleep_like_strace(kernel, argv, then):
    strace = _attached("strace", argv, then)
    systrace = _attached("systrace", argv, then)
    assert strace[0].startswith("restart_syscall(<... resuming interrupted "), strace
    assert systrace == strace


def _fed_and_closed(target: subprocess.Popen) -> None:
    target.stdin.write(b"hi\n")
    target.stdin.close()
    assert target.stdout.read() == b"hi\n"


def _sigkilled(target: subprocess.Popen) -> None:
    target.kill()


@pytest.mark.parametrize("then", [_fed_and_closed, _sigkilled], ids=["fed", "killed"])
def test_attached_in_a_read_like_strace(kernel, then):
    # cat blocked in read(0, ...) on a pipe: strace shows the whole call,
    # with what it read, where systrace saw only its exit.
    # Its reads and writes only: cat's munmap addresses are its own.
    options = ("-e", "trace=read,write")
    strace = _attached("strace", ["cat"], then, blocked_in=0, options=options, pipes=True)
    systrace = _attached("systrace", ["cat"], then, blocked_in=0, options=options, pipes=True)
    assert strace[0].startswith("read(0, "), strace
    assert systrace == strace


def test_a_read_blocked_at_attach_is_begun_while_it_waits(kernel):
    # strace begins the line of the call its attach finds a thread in,
    # `read(0, `, and ends it when the call returns; systrace begins it
    # once the events from before the attach are all in (two of its reads
    # of the ring later), so that a thread blocked for good shows where.
    import select
    target = subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        _blocked_in(target.pid, 0)
        proc = attach("-e", "trace=read,write", "-p", str(target.pid))
        assert proc.stderr is not None
        text = b""
        deadline = time.monotonic() + 30
        while not text.endswith(b"read(0, "):
            ready, _, _ = select.select([proc.stderr], [], [], max(0.0, deadline - time.monotonic()))
            chunk = os.read(proc.stderr.fileno(), 4096) if ready else b""
            assert chunk, f"no `read(0, ` while cat waits: {text!r}"
            text += chunk
        _blocked_in(target.pid, 0)  # still waiting: its data is not written yet
        _fed_and_closed(target)
        target.wait(timeout=30)
        _, err = proc.communicate(timeout=30)
    finally:
        target.kill()
        target.wait()
    # attach()'s communicate() gives the lines up to the attach first.
    assert err.count(" attached\n") == 1, err
    whole = text.decode() + err.split(" attached\n")[1]
    assert [re.sub(r"\) +=", ") =", line) for line in whole.splitlines()[:3]] == [
        'read(0, "hi\\n", 131072) = 3',
        'write(1, "hi\\n", 3) = 3',
        'read(0, "", 131072) = 0',
    ], whole


ACCEPTER = """
import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen()
print(s.getsockname()[1], flush=True)
c, _ = s.accept()
print(c.recv(10), flush=True)
"""


def test_attached_in_an_accept_like_strace(kernel):
    def connect(target: subprocess.Popen) -> None:
        import socket
        with socket.create_connection(("127.0.0.1", port[0])) as c:
            c.sendall(b"x")
            target.stdout.read()

    port = []
    lines = {}
    for tracer in ("strace", "systrace"):
        target = subprocess.Popen(["/usr/bin/python3", "-c", ACCEPTER], stdout=subprocess.PIPE)
        try:
            port[:] = [int(target.stdout.readline())]
            _blocked_in(target.pid, 288)  # accept4
            proc = _tracing(tracer, target.pid, "-e", "trace=accept4,recvfrom")
            time.sleep(0.5)
            connect(target)
            target.wait(timeout=30)
            err = _rest(proc)
        finally:
            target.kill()
            target.wait()
        # The client's port is the kernel's choice.
        lines[tracer] = [re.sub(r"sin_port=htons\(\d+\)", "sin_port=htons(P)", line)
                         for line in err.splitlines() if " attached" not in line]
    assert lines["strace"][0].startswith("accept4(3, {sa_family=AF_INET, "), lines
    assert lines["systrace"] == lines["strace"]


def test_detached_from_a_read_blocked_at_attach_like_strace(kernel, tmp_path):
    # Ctrl-C while cat still waits in the read it was in at attach: strace
    # shows that call begun (its attach ran it again), then detached.
    lines = {}
    target = subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
    try:
        _blocked_in(target.pid, 0)  # read
        for tracer in ("strace", "systrace"):
            out = tmp_path / tracer
            proc = _tracing(tracer, target.pid, "-o", str(out))
            time.sleep(0.5)
            proc.send_signal(signal.SIGINT)
            proc.communicate(timeout=30)
            lines[tracer] = out.read_text().splitlines()
    finally:
        target.kill()
        target.wait()
    assert lines["strace"] == ["read(0,  <detached ...>"], lines
    assert lines["systrace"] == lines["strace"]


# Calls blocked at attach whose enter reads the caller's memory: the
# kernel runs them again after strace's attach, so strace shows what they
# read at their start; systrace reads it at the attach (the call has not
# returned).
FIFO_OPENER = "import os, sys; os.read(os.open(sys.argv[1], os.O_RDONLY), 10)"
# A full pipe (64 KiB, the default) before the write that blocks, so that
# the write has written nothing when strace's attach interrupts it.
FULL_PIPE_WRITER = 'import os; os.write(1, b"x" * 65536); os.write(1, b"hello world\\n")'
# (poll is resumed by restart_syscall; glibc's select, pselect6, with no
# timeout runs again.)
SELECTER = "import select; select.select([0], [], []); input()"


def _open_fifo(path):
    def then(target: subprocess.Popen) -> None:
        with open(path, "w") as f:
            f.write("hi")
    return then


def _drain(target: subprocess.Popen) -> None:
    target.stdout.read()


def _feed(target: subprocess.Popen) -> None:
    target.stdin.write(b"hi\n")
    target.stdin.close()


@pytest.mark.parametrize("case", ["fifo", "write", "select"])
def test_attached_in_a_call_that_read_its_arguments_like_strace(kernel, tmp_path, case):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    argv, then, nr, options = {
        "fifo": (["/usr/bin/python3", "-c", FIFO_OPENER, str(fifo)], _open_fifo(fifo), 257,
                 ("-e", "trace=openat,read")),
        "write": (["/usr/bin/python3", "-c", FULL_PIPE_WRITER], _drain, 1, ("-e", "trace=write", "-s", "5")),
        "select": (["/usr/bin/python3", "-c", SELECTER], _feed, 270, ("-e", "trace=pselect6,read")),
    }[case]
    strace = _attached("strace", argv, then, blocked_in=nr, options=options, pipes=True)
    systrace = _attached("systrace", argv, then, blocked_in=nr, options=options, pipes=True)
    first = {"fifo": f'openat(AT_FDCWD, "{fifo}", O_RDONLY|O_CLOEXEC) = 3',
             "write": 'write(1, "hello"..., 12) = 12',
             "select": "pselect6(1, [0], NULL, NULL, NULL, NULL) = 1 (in [0])"}[case]
    assert re.sub(" +=", " =", strace[0]) == first, strace
    assert systrace == strace


# A process blocked with a list in hand: the headers and iovecs of a
# message it waits to receive or to send, the iovecs of a writev. strace's
# attach runs the call again, so strace reads them at its start; systrace
# reads them at the attach.
RECEIVER = ("import socket, sys; s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(sys.argv[1]);"
            " s.recvmsg(100, 64)")
# A connection whose buffers are full before the call that blocks.
SENDER = ("import os, socket, sys; s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.setblocking(False)\n"
          "try:\n    while True: s.send(b'x' * 65536)\nexcept BlockingIOError: pass\n"
          "s.setblocking(True)\n"
          "if sys.argv[2] == 'sendmsg': s.sendmsg([b'hello ', b'world'])\n"
          "else: os.writev(s.fileno(), [b'hello ', b'world', b'!' * 40])")


# Waits for a lock the test holds (fcntl F_SETLKW).
LOCKER = "import fcntl, sys; fcntl.lockf(open(sys.argv[1], 'w'), fcntl.LOCK_EX, 10, 5)"


@pytest.mark.parametrize("case", ["recvmsg", "sendmsg", "writev", "lock"])
def test_attached_in_a_call_that_read_its_lists_like_strace(kernel, tmp_path, case):
    import socket

    def run(tracer: str) -> list:
        path = str(tmp_path / f"{tracer}.sock")
        if case == "recvmsg":
            def then(target: subprocess.Popen) -> None:
                with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
                    s.sendto(b"hello", path)
            return _attached(tracer, ["/usr/bin/python3", "-c", RECEIVER, path], then, blocked_in=47,
                             options=("-e", "trace=recvmsg"))
        if case == "lock":
            import fcntl
            with open(tmp_path / "lock", "w") as held:
                fcntl.lockf(held, fcntl.LOCK_EX)
                return _attached(tracer, ["/usr/bin/python3", "-c", LOCKER, str(tmp_path / "lock")],
                                 lambda target: fcntl.lockf(held, fcntl.LOCK_UN), blocked_in=72,
                                 options=("-e", "trace=fcntl"))
        server = socket.socket(socket.AF_UNIX)
        server.bind(path)
        server.listen()

        def drain(target: subprocess.Popen) -> None:
            conn, _ = server.accept()
            with conn:
                while conn.recv(1 << 20):
                    pass
        try:
            return _attached(tracer, ["/usr/bin/python3", "-c", SENDER, path, case], drain,
                             blocked_in={"sendmsg": 46, "writev": 20}[case], options=("-e", f"trace={case}"))
        finally:
            server.close()

    strace, systrace = ([re.sub(r"0x[0-9a-f]{8,}", "ADDR", re.sub(" +=", " =", line)) for line in run(tracer)]
                        for tracer in ("strace", "systrace"))
    # (The name's length the call was given, then what it wrote.)
    first = {"recvmsg": "recvmsg(3, {msg_name=ADDR, msg_namelen=110 => 0, msg_iov=[{iov_base=\"hello\", "
                        "iov_len=100}], msg_iovlen=1, msg_controllen=0, msg_flags=0}, 0) = 5",
             "sendmsg": "sendmsg(3, {msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base=\"hello \", iov_len=6}, "
                        "{iov_base=\"world\", iov_len=5}], msg_iovlen=2, msg_controllen=0, msg_flags=0}, 0) = 11",
             "writev": "writev(3, [{iov_base=\"hello \", iov_len=6}, {iov_base=\"world\", iov_len=5}, "
                       "{iov_base=\"!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\"..., iov_len=40}], 3) = 51",
             "lock": "fcntl(3, F_SETLKW, {l_type=F_WRLCK, l_whence=SEEK_SET, l_start=5, l_len=10}) = 0"}[case]
    assert strace[0] == first, strace
    assert systrace == strace


# Waits for a child that ends a second later.
WAITER = "import os, time\npid = os.fork()\nif pid == 0:\n    time.sleep(1); os._exit(3)\nos.waitpid(pid, 0)"


def test_a_wait_for_a_child_from_before_the_attach_is_begun_under_f(kernel):
    # -f follows the children forked after the attach, not the one it
    # waits for: that one gives no line a pid, and the wait is begun.
    import select
    target = subprocess.Popen(["/usr/bin/python3", "-c", WAITER.replace("sleep(1)", "sleep(30)")])
    try:
        _blocked_in(target.pid, 61)
        proc = attach("-f", "-e", "trace=wait4", "-p", str(target.pid))
        assert proc.stderr is not None
        text = b""
        while not re.fullmatch(rb"wait4\(\d+, ", text):
            ready, _, _ = select.select([proc.stderr], [], [], 30)
            chunk = os.read(proc.stderr.fileno(), 4096) if ready else b""
            assert chunk, f"no `wait4(PID, ` alone while it waits: {text!r}"
            text += chunk
        with open(f"/proc/{target.pid}/task/{target.pid}/children") as f:
            children = f.read().split()
        for child in children:
            os.kill(int(child), signal.SIGKILL)
        target.wait(timeout=30)
        _, err = proc.communicate(timeout=30)
    finally:
        target.kill()
        target.wait()
    rest = err.split(" attached\n")[1]
    assert rest.startswith("[{WIFSIGNALED(s) && WTERMSIG(s) == SIGKILL}], 0, NULL) = "), rest


def test_attached_in_a_wait_shows_the_childs_sigchld_after_it_like_strace(kernel):
    # The SIGCHLD (ignored: recorded as it is sent) comes before the wait
    # returns; strace sees it as the wait returns to the process.
    strace, systrace = ([re.sub(r"(si_pid=|wait4\(|= )\d{2,}|si_[us]time=\d+", r"\1N", line)
                         for line in _attached(tracer, ["/usr/bin/python3", "-c", WAITER], _let_end, blocked_in=61,
                                               options=("-e", "trace=wait4"))]
                        for tracer in ("strace", "systrace"))
    assert re.sub(" +=", " =", strace[0]) == "wait4(N, [{WIFEXITED(s) && WEXITSTATUS(s) == 3}], 0, NULL) = N", strace
    assert strace[1].startswith("--- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=N,"), strace
    assert systrace == strace


THREADED = """
import threading, time
for _ in range(2):
    threading.Thread(target=time.sleep, args=(30,), daemon=True).start()
print("ready", flush=True)
time.sleep(30)
"""


@pytest.mark.parametrize("follow", [True, False], ids=["f", "no-f"])
def test_the_attach_message_counts_the_threads_under_f_like_strace(kernel, follow):
    # strace -f -p attaches each thread and says how many:
    # `strace: Process 42 attached with 3 threads`; without -f, the one.
    target = subprocess.Popen([sys.executable, "-c", THREADED], stdout=subprocess.PIPE)
    try:
        assert target.stdout is not None and target.stdout.readline() == b"ready\n"
        said = {}
        for name, argv in (("strace", ["strace"]), ("systrace", [sys.executable, "-m", "systrace"])):
            options = ["-f"] if follow else []
            tracer = subprocess.Popen([*argv, *options, "-e", "trace=read", "-p", str(target.pid)],
                                      stderr=subprocess.PIPE)
            said[name] = stderr_line(tracer).removeprefix(f"{name}: ")
            tracer.send_signal(signal.SIGINT)
            tracer.communicate(timeout=30)
        want = f"Process {target.pid} attached" + (" with 3 threads" if follow else "") + "\n"
        assert said == {"strace": want, "systrace": want}
    finally:
        target.kill()
        target.wait()


TWO_LOOPS = """
import os, threading, time
def loop(call):
    while True:
        call()
        time.sleep(0.02)
threading.Thread(target=loop, args=(os.getppid,), daemon=True).start()
print(threading.enumerate()[1].native_id, flush=True)
loop(os.getpid)
"""


@pytest.mark.parametrize("which", ["process", "thread", "process-f", "process-c", "thread-c"])
def test_p_traces_the_thread_it_names_without_f_like_strace(kernel, which):
    # strace -p TID without -f attaches that one thread, the first or any
    # other; -f the whole process. systrace showed every thread, and -c
    # counted them all.
    target = subprocess.Popen([sys.executable, "-S", "-c", TWO_LOOPS], stdout=subprocess.PIPE, text=True)
    try:
        assert target.stdout is not None
        tid = int(target.stdout.readline())
        pid = tid if which.startswith("thread") else target.pid
        options = {"process-f": ["-f"], "process-c": ["-c"], "thread-c": ["-c"]}.get(which, [])
        seen = {}
        for tracer in ("strace", "systrace"):
            proc = _tracing(tracer, pid, *options, "-e", "trace=getpid,getppid")
            time.sleep(0.5)
            proc.send_signal(signal.SIGINT)
            lines = _rest(proc).splitlines()
            if "-c" in options:  # the table's rows
                seen[tracer] = {line.split()[-1] for line in lines if line.split()[-1].startswith("get")}
                continue
            # Whole lines only (a line cut by the other thread's is timing).
            seen[tracer] = {re.sub(r"\s+", " ", line) for line in lines
                            if "get" in line and "resumed" not in line and "unfinished" not in line}
        want = {"process": {f"getpid() = {target.pid}"}, "thread": {f"getppid() = {os.getpid()}"},
                "process-f": {f"[pid {target.pid}] getpid() = {target.pid}",
                              f"[pid {tid}] getppid() = {os.getpid()}"},
                "process-c": {"getpid"}, "thread-c": {"getppid"}}[which]
        assert seen == {"strace": want, "systrace": want}
    finally:
        target.kill()
        target.wait()
