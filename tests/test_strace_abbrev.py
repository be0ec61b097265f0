"""strace's -v (-e abbrev=none, --no-abbrev) and -e abbrev=SET: the same
programs traced by strace and systrace, structures printed whole for the
syscalls not abbreviated, and compared line by line.

The traced program stats files the test made, with times it set, so that
both runs see the same fields (a file the tracers or the interpreter read
would show a newer atime to the second run)."""
from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
import threading
import time

import pytest

SYSTRACE = [sys.executable, "-m", "systrace"]

PROGRAM = r"""
import os, pty, sys, termios
d = sys.argv[1]
for name in ("file", "dev", "dir"):
    os.stat(os.path.join(d, name))
os.lstat(os.path.join(d, "link"))
fd = os.open(os.path.join(d, "file"), os.O_RDONLY)
os.stat(fd)
os.close(fd)
os.uname()
master, slave = pty.openpty()
termios.tcgetattr(slave)
"""


@pytest.fixture
def files(tmp_path):
    """A file, a directory, a character device and a symlink, each with
    its atime and mtime set (ns), none of them read by the runs."""
    d = tmp_path / "d"
    d.mkdir()
    (d / "file").write_bytes(b"x" * 1234)
    (d / "dir").mkdir()
    os.mknod(d / "dev", stat.S_IFCHR | 0o600, os.makedev(1, 3))
    os.symlink("file", d / "link")
    for name, times in (("file", (1_000_000_000_123456789, 1_600_000_000_000000000)),
                        ("dir", (1_500_000_000_5, 1_500_000_001_000000007)),
                        ("dev", (1_234_567_890_000000000, 1_234_567_891_999999999))):
        os.utime(d / name, ns=times)
    os.utime(d / "link", ns=(1_111_111_111_000000001, 1_222_222_222_0), follow_symlinks=False)
    return d


def _trace(tracer: list, out, *args: str) -> str:
    r = subprocess.run([*tracer, "-o", str(out), *args], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, (tracer, r.stderr)
    return out.read_text()


def _lines(text: str, d) -> list:
    """The lines about the test's files (by path, or by fd with -y), the
    uname and the pty's TCGETS, its fd as N (systrace's -y does not know
    an fd that ioctl(TIOCGPTPEER) made: `4`, where strace shows
    `4</dev/pts/0>`)."""
    keep = []
    for line in text.splitlines():
        if str(d) in line or line.startswith("uname(") or ("TCGETS" in line and "ENOTTY" not in line):
            keep.append(re.sub(r"^ioctl\(\d+(<[^>]*>)?", "ioctl(N", line))
    return keep


def _both(tmp_path, d, *options: str, program=PROGRAM) -> tuple:
    cmd = ["/usr/bin/python3", "-c", program, str(d)]
    st = _lines(_trace(["strace"], tmp_path / "strace.txt", "-y", *options, *cmd), d)
    sy = _lines(_trace(SYSTRACE, tmp_path / "systrace.txt", "-y", *options, *cmd), d)
    return st, sy


@pytest.mark.parametrize("options", [["-v"], ["--no-abbrev"], ["-e", "abbrev=none"], ["-e", "abbrev=!uname"],
                                     ["-e", "abbrev=uname,ioctl"], ["--abbrev=%stat"], ["-v", "-e", "abbrev=all"],
                                     []])
def test_structures_whole_like_strace(kernel, tmp_path, files, options):
    st, sy = _both(tmp_path, files, "-e", "trace=newfstatat,uname,ioctl", *options)
    assert len(st) >= 7, st
    assert sy == st


def test_abbrev_selects_per_syscall(kernel, tmp_path, files):
    """-e abbrev=SET: the syscalls in SET abbreviated, the others whole."""
    _, sy = _both(tmp_path, files, "-e", "trace=newfstatat,uname", "-e", "abbrev=newfstatat")
    stats = [line for line in sy if line.startswith("newfstatat(")]
    unames = [line for line in sy if line.startswith("uname(")]
    assert stats and unames, sy
    assert all("st_size=1234, ...}" in line for line in stats if "file" in line), stats
    assert all("release=" in line and "machine=" in line for line in unames), unames
    _, sy = _both(tmp_path, files, "-e", "trace=newfstatat,uname", "-e", "abbrev=uname")
    assert any("st_atime=1000000000 /* 2001-09-09T01:46:40.123456789+0000 */, st_atime_nsec=123456789" in line
               for line in sy), sy
    assert all(line.endswith("...}) = 0") for line in sy if line.startswith("uname(")), sy


def test_statx_whole_like_strace(kernel, tmp_path, files):
    """coreutils' stat asks statx; -v shows each field its mask has."""
    texts = []
    for tracer, name in ((["strace"], "strace.txt"), (SYSTRACE, "systrace.txt")):
        text = _trace(tracer, tmp_path / name, "-v", "-e", "trace=statx", "stat", "-c", "%s %i",
                      str(files / "file"), str(files / "dir"), str(files / "dev"))
        texts.append([line for line in text.splitlines() if str(files) in line])
    assert len(texts[0]) == 3, texts[0]
    assert "stx_atime={tv_sec=1000000000, tv_nsec=123456789} /* 2001-09-09T01:46:40.123456789+0000 */" \
        in texts[0][0], texts[0]
    assert texts[1] == texts[0]


def test_rusage_whole_like_strace(kernel, tmp_path):
    """wait4's rusage, every field with -v (its times and counts are the
    child's, different in each run: compared by name)."""
    shapes = []
    for tracer, name in ((["strace"], "strace.txt"), (SYSTRACE, "systrace.txt")):
        text = _trace(tracer, tmp_path / name, "-v", "-e", "trace=wait4", "/usr/bin/python3", "-c",
                      "import os; pid = os.fork()\nif pid == 0: os._exit(3)\nos.wait4(pid, 0)")
        lines = [line for line in text.splitlines() if line.startswith("wait4(")]
        shapes.append([re.sub(r"\d+", "N", line) for line in lines])
    assert shapes[0] and "ru_nivcsw=N}" in shapes[0][0], shapes
    assert shapes[1] == shapes[0]


# Calls whose structures strace reads (umove_or_printaddr), beside strings
# and data it quotes whether or not a call is verbose; after a marker, so
# that the interpreter's start is left out. Each call's outcome is the same
# in both runs (no thread or timing in it).
VERBOSE = r"""
import os, select, signal, socket, struct, sys
d = sys.argv[1]
os.access("/verbose-marker", os.F_OK)
p = os.path.join(d, "f")
os.stat(p)
fd = os.open(p, os.O_RDWR)
os.readv(fd, [bytearray(2), bytearray(3)])
os.writev(fd, [b"ab", b"cd"])
os.pread(fd, 4, 0)
os.close(fd)
os.listdir(d)
os.uname()
os.sched_getaffinity(0)
os.getresuid()
r, w = os.pipe()
select.select([r], [w], [], 0)
po = select.poll()
po.register(w, select.POLLOUT)
po.poll(0)
po.register(r, select.POLLIN)
po.poll(0)
ep = select.epoll()
ep.register(w, select.EPOLLOUT)
ep.poll(0)
a, b = socket.socketpair()
a.sendmsg([b"m1", b"m2"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack("i", r))])
b.recvmsg(10, 64)
u = socket.socket(socket.AF_UNIX)
try:
    u.connect(os.path.join(d, "no-socket"))
except OSError:
    pass
u.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
u.getsockopt(socket.SOL_SOCKET, socket.SO_TYPE)
n = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW)
n.sendto(b"\x14\0\0\0\x16\0\x01\x03" + bytes(12), (0, 0))  # RTM_GETADDR, unanswered
signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGUSR2, signal.SIGCHLD])  # no SIGCHLD at a time of its own
signal.signal(signal.SIGUSR1, signal.SIG_IGN)
signal.setitimer(signal.ITIMER_REAL, 0)
os.readlink("/proc/self/exe")
os.getcwd()
os.utime(p, (1, 2))
pid = os.fork()
if pid == 0:
    os._exit(3)
os.waitpid(pid, 0)
os.execv("/bin/true", ["true", "argument"])
"""


def _verbose_lines(text: str) -> list:
    """The lines after the marker, each address as ADDR (the runs' stacks
    and heaps differ; a structure decoded is `{...}` or `[...]`, never an
    address) and the child's pid as PID, up to the exec."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if "/verbose-marker" in line)
    child = next(re.search(r"= (\d+)$", line)[1] for line in lines if line.startswith("clone("))
    end = next(i for i, line in enumerate(lines) if line.startswith('execve("/bin/true"'))
    return [re.sub(rf"\b{child}\b", "PID", re.sub(r"0x[0-9a-f]+", "ADDR", re.sub(r" +=( |$)", r" =\1", line)))
            for line in lines[start:end + 1]]


@pytest.mark.parametrize("options, decoded", [
    (["-e", "verbose=none"], False), (["--verbose=none"], False), (["-e", "v=none"], False),
    (["-e", "verbose=!readv,poll,pselect6,wait4,rt_sigprocmask,uname"], False), (["-e", "verbose=%network"], False),
    (["-v", "-e", "verbose=none"], False), (["-e", "verbose=none", "-e", "verbose=all"], True),
    (["-e", "verbose=uname"], True), ([], True)])
def test_verbose_set_like_strace(kernel, tmp_path, options, decoded):
    """-e verbose=SET: the structures, arrays and numbers the calls not in
    SET point to show as their addresses (pselect6's ready sets still, and
    `left` as an address), strings and data still quoted, as strace's."""
    d = tmp_path / "d"
    d.mkdir()
    texts = []
    for tracer, name in ((["strace"], "strace.txt"), (SYSTRACE, "systrace.txt")):
        (d / "f").write_bytes(b"hello")  # as the run before found it
        os.utime(d / "f", (5, 6))
        cmd = ["/usr/bin/python3", "-c", VERBOSE, str(d)]
        lines = _verbose_lines(_trace(tracer, tmp_path / name, "-qq", *options, *cmd))
        # The epoll_event's data: the interpreter's stack left in its upper half.
        texts.append([re.sub(r"u64=\d+", "u64=N", line) for line in lines])
    st, sy = texts
    assert len(st) > 30, st
    assert sy == st
    # What the test compared had both forms: a structure decoded or its address.
    uname = next(line for line in st if line.startswith("uname("))
    select = next(line for line in st if line.startswith("pselect6("))
    if decoded:
        assert uname.startswith('uname({sysname="Linux"'), st
        assert any(line.startswith("sendto(10, [{nlmsg_len=20, nlmsg_type=") for line in st) \
            or "verbose=uname" in options, st
    else:
        assert uname == "uname(ADDR) = 0", st
        assert select.endswith("= 1 (out [4], left ADDR)"), st
    if not decoded and options[-1].endswith("=none"):
        # A netlink socket's messages: data, quoted, when not verbose.
        assert any(line.startswith('sendto(10, "\\24\\0\\0\\0\\26\\0\\1\\3\\0') for line in st), st


SIGNALED = r"""
import os, signal, sys, time
open(sys.argv[1], "w").write(str(os.getpid()))
while not os.path.exists(sys.argv[2]):
    time.sleep(0.01)
signal.signal(signal.SIGUSR1, lambda *a: None)
for mask in ([], [signal.SIGUSR2]):
    signal.pthread_sigmask(signal.SIG_SETMASK, mask)
    os.kill(os.getpid(), signal.SIGUSR1)
"""


@pytest.mark.parametrize("options", [["-e", "verbose=none"], ["-e", "verbose=!rt_sigaction"],
                                     ["-e", "raw=rt_sigreturn"]])
def test_the_same_process_s_sigreturns_like_strace(kernel, tmp_path, options):
    """One process traced by both at once (strace's ptrace and systrace's
    -p): rt_sigreturn not verbose shows the address of the mask in its
    frame (the programs send the stack pointer), the same address as
    strace's; raw, no argument, as strace's."""
    pid_file, go = tmp_path / "pid", tmp_path / "go"
    theirs = subprocess.Popen(["strace", "-qq", "-o", str(tmp_path / "strace.txt"), *options,
                               "-e", "trace=rt_sigreturn", "/usr/bin/python3", "-c", SIGNALED,
                               str(pid_file), str(go)])
    try:
        for _ in range(1000):
            if pid_file.exists() and pid_file.read_text():
                break
            time.sleep(0.01)
        ours = subprocess.Popen([*SYSTRACE, "-qq", "-o", str(tmp_path / "systrace.txt"), *options,
                                 "-e", "trace=rt_sigreturn", "-p", pid_file.read_text()],
                                stderr=subprocess.PIPE, text=True)
        time.sleep(1)  # attached well before (some 40 ms); no message with -qq
        go.touch()
        assert theirs.wait(timeout=60) == 0
        assert ours.wait(timeout=60) == 0, ours.stderr.read() if ours.stderr else ""
    finally:
        theirs.kill()
    st, sy = ((tmp_path / f"{n}.txt").read_text().splitlines() for n in ("strace", "systrace"))
    assert sy == st
    calls = [line for line in st if line.startswith("rt_sigreturn(")]
    assert len(calls) == 2, st
    if options[-1].startswith("raw"):
        assert calls[0].startswith("rt_sigreturn() "), st
    elif options[-1] == "verbose=none":
        assert re.match(r"rt_sigreturn\(\{mask=0x[0-9a-f]+\}\) += 0", calls[0]), st
    else:
        assert calls[1].startswith("rt_sigreturn({mask=[USR2]})"), st


def test_the_library_shows_a_call_not_verbose(kernel, tmp_path):
    """Call.strace(verbose=False): strace -e verbose=none's text."""
    import systrace
    from systrace import _native

    with _native.Session("uname", "newfstatat", strings=True) as s:
        os.uname()
        os.stat("/")
    tid = threading.get_native_id()
    calls = [c for c in systrace.calls([ev for ev in s if ev.tid == tid]) if c.name in ("uname", "newfstatat")]
    assert [c.name for c in calls] == ["uname", "newfstatat"], calls
    assert calls[0].strace(column=0).startswith('uname({sysname="Linux", '), calls[0].strace()
    assert re.fullmatch(r"uname\(0x[0-9a-f]+\) = 0", calls[0].strace(column=0, verbose=False))
    assert re.fullmatch(r'newfstatat\(AT_FDCWD, "/", 0x[0-9a-f]+, 0\) = 0',
                        calls[1].strace(column=0, verbose=False)), calls[1].strace(verbose=False)
    assert calls[1].strace_args(verbose=False)[2].startswith("0x")


def test_verbose_set_of_an_unknown_syscall_is_refused(kernel):
    r = subprocess.run([*SYSTRACE, "-e", "verbose=nosuchcall", "--", "true"], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 1, r.stderr
    assert "nosuchcall" in r.stderr, r.stderr


POLL = r"""
import os, select
p = select.poll()
for _ in range(40):
    p.register(os.open("/dev/null", os.O_RDONLY), select.POLLIN)
p.poll(0)
"""


@pytest.mark.parametrize("options", [["-v"], []])
def test_arrays_past_s_elements_like_strace(kernel, tmp_path, options):
    """Without -v an array is cut at -s elements (`...`); with it, whole."""
    texts = []
    for tracer, name in ((["strace"], "strace.txt"), (SYSTRACE, "systrace.txt")):
        text = _trace(tracer, tmp_path / name, *options, "-e", "trace=poll", "/usr/bin/python3", "-c", POLL)
        texts.append([line for line in text.splitlines() if line.startswith("poll(")])
    # Each fd twice: asked (events=POLLIN), and ready (revents=POLLIN).
    assert len(texts[0]) == 1 and texts[0][0].count("events=POLLIN") == (40 if options else 32) * 2, texts[0]
    assert texts[1] == texts[0]


@pytest.fixture
def listed(tmp_path):
    """A directory of every kind of entry a test can make, with names
    strace quotes (a newline, a quote, bytes that are not UTF-8)."""
    d = tmp_path / "listed"
    d.mkdir()
    (d / "file").write_bytes(b"x")
    (d / "sub").mkdir()
    os.symlink("file", d / "link")
    os.mkfifo(d / "fifo")
    os.mknod(d / "null", stat.S_IFCHR | 0o600, os.makedev(1, 3))
    (d / 'a"quote').write_bytes(b"")
    (d / "new\nline").write_bytes(b"")
    with open(os.fsencode(d) + b"/caf\xe9", "wb"):
        pass
    return d


def _getdents(tracer: list, out, *args: str) -> list:
    """The getdents64 lines of a run (ls's listing itself is not read: its
    names need not be text)."""
    r = subprocess.run([*tracer, "-o", str(out), *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       timeout=120)
    assert r.returncode == 0, (tracer, r.stderr)
    return [line for line in out.read_text().splitlines() if line.startswith("getdents64(")]


@pytest.mark.parametrize("options", [["-v"], ["--no-abbrev"], ["-e", "abbrev=!getdents64"], ["-v", "-x"],
                                     ["-v", "-xx"], ["-v", "-s", "2"], ["-e", "abbrev=getdents64"],
                                     ["-v", "-e", "abbrev=all"], []])
def test_getdents64_entries_as_strace_prints_them(kernel, tmp_path, listed, options):
    # Before: `getdents64(3, 0x55d4... /* 10 entries */, 32768) = 288` under
    # -v too, where strace lists every entry (the programs counted them).
    cmd = ["-e", "trace=getdents64", *options, "/bin/ls", "-a", str(listed)]
    st = _getdents(["strace"], tmp_path / "strace.txt", *cmd)
    sy = _getdents(SYSTRACE, tmp_path / "systrace.txt", *cmd)
    assert len(st) == 2, st
    # The buffer's address is ls's own (malloc's, not the same in two runs).
    assert [re.sub(r"0x[0-9a-f]{6,}", "ADDR", line) for line in sy] == \
        [re.sub(r"0x[0-9a-f]{6,}", "ADDR", line) for line in st]
    unabbreviated = "-v" in options or "--no-abbrev" in options or "abbrev=!getdents64" in options
    if unabbreviated and "abbrev=all" not in options:
        assert 'd_name="file"' in sy[0] or "d_name=\"\\x66" in sy[0], sy
        assert sy[1].startswith("getdents64(3, [], "), sy


def test_getdents64_entries_past_a_capture(kernel, tmp_path):
    # A directory whose entries fill more than a capture (4 KiB): the ones
    # read are strace's, then `...` (strace prints all of them).
    d = tmp_path / "big"
    d.mkdir()
    for i in range(400):
        (d / f"entry-{i:04}").write_bytes(b"")
    cmd = ["-v", "-e", "trace=getdents64", "/bin/ls", str(d)]
    (st,) = [line for line in _getdents(["strace"], tmp_path / "strace.txt", *cmd) if "= 0" not in line]
    (sy,) = [line for line in _getdents(SYSTRACE, tmp_path / "systrace.txt", *cmd) if "= 0" not in line]
    head, _, tail = sy.partition(", ...]")
    assert tail and tail == st[st.rindex("]") + 1:], (sy, st)
    shown = head.count("{d_ino=")
    assert 100 < shown < 400, shown
    assert st.startswith(head + ", {d_ino="), (head[-200:], st[len(head) - 100:len(head) + 100])
