"""systrace against the real strace on real programs, for the constants
strace names (ioctl requests, socket options, prctl options, epoll, fadvise,
memory policies), the values it prints as given (modes, uids, long paths)
and the options that change its output (-x, -z, -Z, -e status=, -qq, two
-e trace=). Lines are compared whole, after test_strace_diff's
normalisation: addresses and pids, and the structures strace reads from
memory, which systrace prints as their address."""
from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys

import pytest

from test_strace_diff import compare, parse

# A script of the calls whose constants strace names. Its output and calls
# are the same from run to run.
SCRIPT = r"""
import ctypes, fcntl, os, pty, select, socket, sys, termios
libc = ctypes.CDLL(None, use_errno=True)
os.chdir(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
s.setsockopt(socket.IPPROTO_IP, socket.IP_TOS, 16)
s.getsockopt(socket.SOL_SOCKET, socket.SO_TYPE)
try:
    s.setsockopt(socket.SOL_SOCKET, 999, 1)
except OSError:
    pass
s6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.shutdown(socket.SHUT_RDWR) if False else None
ep = select.epoll()
ep.register(s.fileno(), select.EPOLLIN)
ep.modify(s.fileno(), select.EPOLLOUT)
ep.unregister(s.fileno())
m, t = pty.openpty()
termios.tcgetattr(t)
fcntl.ioctl(t, termios.TIOCGWINSZ, b"\0" * 8)
fcntl.ioctl(t, termios.FIONREAD, b"\0" * 4)
fcntl.ioctl(t, termios.FIONCLEX)
try:
    fcntl.ioctl(s.fileno(), 0xc0081234, b"\0" * 8)
except OSError:
    pass
libc.prctl(4, 0, 0, 0, 0)      # PR_SET_DUMPABLE
libc.prctl(3, 0, 0, 0, 0)      # PR_GET_DUMPABLE
libc.prctl(38, 1, 0, 0, 0)     # PR_SET_NO_NEW_PRIVS
libc.prctl(1, 9, 0, 0, 0)      # PR_SET_PDEATHSIG
libc.prctl(23, 21, 0, 0, 0)    # PR_CAPBSET_READ
libc.prctl(9999, 1, 2, 3, 4)
fd = os.open("/etc/passwd", os.O_RDONLY)
os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_SEQUENTIAL)
os.posix_fadvise(fd, 10, 100, os.POSIX_FADV_DONTNEED)
open("f", "w").close()
os.chown("f", -1, 0)
os.chown("f", 0, -1, follow_symlinks=False)
os.utime("f", follow_symlinks=False)
os.utime("f", (1, 2))
os.chmod("f", 0o100644)
os.chmod("f", 0o4755)
os.mkdir("d", 0o40755)
os.rmdir("d")
os.unlink("f")
libc.syscall(238, 0, None, 0)       # set_mempolicy(MPOL_DEFAULT)
libc.syscall(238, 0x8001, None, 0)  # MPOL_PREFERRED|MPOL_F_STATIC_NODES
"""
VALUE_CALLS = (
    "socket,socketpair,setsockopt,getsockopt,epoll_create1,epoll_ctl,ioctl,prctl,fadvise64,"
    "chown,lchown,fchownat,utimensat,chmod,mkdir,set_mempolicy"
)


@pytest.fixture
def strace_bin() -> str:
    path = shutil.which("strace")
    if path is None:
        pytest.fail("strace is not installed (apt-get install strace)")
    return path


def traces(tmp_path, strace_bin, options, argv, *, env=None, via_script=False, status=(0,), made=None):
    """Runs argv under strace, then systrace, with the same options and
    -o FILE; returns both files' text. `status`: the exit statuses allowed;
    `made`: a file the program makes, removed before each run."""
    texts = []
    for name, tracer in (("strace", [strace_bin]), ("systrace", [sys.executable, "-m", "systrace"])):
        if made is not None and os.path.exists(made):
            os.unlink(made)
        out = tmp_path / f"{name}.txt"
        cmd = [*tracer, "-o", str(out), *options, "--", *argv]
        if via_script:  # on a terminal
            cmd = ["script", "-qec", shlex.join(cmd), "/dev/null"]
        r = subprocess.run(cmd, capture_output=True, timeout=120, env=env)
        assert r.returncode in status, f"{name}: {r.returncode} {r.stderr!r}"
        texts.append(out.read_text(errors="surrogateescape"))
    return texts


def test_constants_like_strace(kernel, tmp_path, strace_bin):
    work = tmp_path / "work"
    work.mkdir()
    script = tmp_path / "calls.py"
    script.write_text(SCRIPT)
    theirs, ours = traces(tmp_path, strace_bin, ["-e", f"trace={VALUE_CALLS}"],
                          [sys.executable, str(script), str(work)])
    p_theirs, p_ours = parse(theirs), parse(ours)
    compare(p_ours, p_theirs)
    (calls,) = p_ours.values()
    text = "\n".join(f"{n}({', '.join(a)}) = {r}" for n, a, r in calls)
    for named in ("SOL_SOCKET, SO_REUSEADDR", "SOL_TCP, TCP_NODELAY", "SOL_IP, IP_TOS", "SO_TYPE",
                  "0x3e7 /* SO_??? */", "SOL_IPV6, IPV6_V6ONLY", "NETLINK_ROUTE", "SOCK_SEQPACKET",
                  "EPOLL_CLOEXEC", "EPOLL_CTL_ADD", "EPOLL_CTL_MOD", "EPOLL_CTL_DEL", "TCGETS",
                  "TIOCGWINSZ", "FIONREAD", "FIONCLEX", "FIOCLEX", "_IOC(_IOC_READ|_IOC_WRITE, 0x12, 0x34, 0x8)",
                  "PR_SET_DUMPABLE, SUID_DUMP_DISABLE", "= 0 (SUID_DUMP_DISABLE)", "PR_SET_NO_NEW_PRIVS",
                  "PR_SET_PDEATHSIG, SIGKILL", "PR_CAPBSET_READ, CAP_SYS_ADMIN", "0x270f /* PR_??? */",
                  "POSIX_FADV_SEQUENTIAL", "POSIX_FADV_DONTNEED", '"f", -1, 0', "AT_SYMLINK_NOFOLLOW",
                  "0100644", "04755", "040755", "MPOL_DEFAULT", "MPOL_PREFERRED|MPOL_F_STATIC_NODES"):
        assert named in text, named


def test_ls_on_a_terminal_like_strace(kernel, tmp_path, strace_bin):
    if shutil.which("script") is None:
        pytest.fail("script (util-linux) is needed for a terminal")
    listed = tmp_path / "listed"
    listed.mkdir()
    (listed / "a").write_text("x")
    theirs, ours = traces(tmp_path, strace_bin, ["-e", "trace=ioctl,openat,close"],
                          ["ls", "--color=auto", str(listed)], via_script=True, env={**os.environ, "LC_ALL": "C"})
    compare(parse(ours), parse(theirs))
    assert re.search(r"^ioctl\(1, TCGETS, ", ours, re.M), ours
    assert re.search(r"^ioctl\(1, TIOCGWINSZ, ", ours, re.M), ours


def test_cp_reflink_like_strace(kernel, tmp_path, strace_bin):
    src = tmp_path / "src"
    src.write_bytes(b"data" * 100)
    theirs, ours = traces(tmp_path, strace_bin, ["-e", "trace=ioctl,fadvise64,openat"],
                          ["cp", "--reflink=auto", str(src), str(tmp_path / "dst")], made=tmp_path / "dst")
    compare(parse(ours), parse(theirs))
    assert "BTRFS_IOC_CLONE or FICLONE" in ours, ours


def test_long_path_whole_like_strace(kernel, tmp_path, strace_bin):
    # Longer than the 255 bytes of one name, and than the old 256-byte capture.
    deep = tmp_path
    for i in range(12):
        deep = deep / (f"{i:02d}" + "d" * 60)
    deep.mkdir(parents=True)
    target = deep / "file"
    target.write_text("x")
    assert len(str(target)) > 700
    theirs, ours = traces(tmp_path, strace_bin, ["-e", "trace=openat"], ["cat", str(target)])
    compare(parse(ours), parse(theirs))
    assert f'"{target}"' in ours


def test_structures_strings_quoted_as_x_says_like_strace(kernel, tmp_path, strace_bin):
    # uname's strings and a unix socket's path follow -x and -xx as
    # strace's do (they were always quoted as text).
    code = ("import os, socket; os.uname(); s = socket.socket(socket.AF_UNIX); "
            "s.connect_ex('/tmp/systrace-no-such-\\xe9'); s.connect_ex('/tmp/plain')")
    for options in ([], ["-x"], ["-xx"]):
        theirs, ours = traces(tmp_path, strace_bin, [*options, "-e", "trace=uname,connect"],
                              [sys.executable, "-c", code])
        compare(parse(ours), parse(theirs))
        assert "uname({sysname=" in ours and "sun_path=" in ours, ours
        if options == ["-xx"]:
            assert '"\\x4c\\x69\\x6e\\x75\\x78"' in ours, ours  # "Linux"


def test_output_options_like_strace(kernel, tmp_path, strace_bin):
    argv = ["sh", "-c", r"printf 'caf\303\251\n'; cat /nonexistent-systrace /etc/hostname; exit 0"]
    for options in (
        ["-x", "-e", "trace=write"],
        ["-xx", "-e", "trace=write"],
        ["-Z", "-e", "trace=openat,close,exit_group"],
        ["-z", "-e", "trace=openat,close,exit_group"],
        ["-e", "status=!successful", "-e", "trace=openat,close,exit_group"],
        ["-e", "status=failed", "-z", "-e", "trace=openat,close"],  # the last wins
        ["-e", "trace=openat", "-e", "trace=close"],  # the last wins
        ["-qq", "-e", "trace=exit_group"],
    ):
        theirs, ours = traces(tmp_path, strace_bin, ["-f", *options], argv)
        compare(parse(ours), parse(theirs))
        assert parse(ours), options
    assert "+++ exited with" not in ours
    # -qq hides exits, not a death by a signal (both tracers then die of
    # it).
    theirs, ours = traces(tmp_path, strace_bin, ["-qq", "-e", "trace=none"], ["sh", "-c", "kill -9 $$"],
                          status=(-9,))
    assert ours == theirs == "+++ killed by SIGKILL +++\n"


UNNAMED = r"""
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
L = ctypes.c_long
libc.syscall(L(500), L(1), L(2), L(3), L(0), L(-1), L(0x7fff00001234))
libc.syscall(L(500), L(0), L(0), L(0), L(0), L(0), L(0))
"""


@pytest.mark.parametrize("options", [[], ["-e", "trace=all"], ["-e", "trace=!read"]])
def test_a_number_without_a_name_like_strace(kernel, tmp_path, strace_bin, options):
    # A syscall number no table names (the kernel's ENOSYS; or a syscall
    # newer than our table) is traced when every syscall is: strace shows
    # it as syscall_0x1f4 with its six registers in hex. Before, the
    # programs had no bit on for it and its calls were not shown at all.
    script = tmp_path / "unnamed.py"
    script.write_text(UNNAMED)
    theirs, ours = traces(tmp_path, strace_bin, options, [sys.executable, str(script)])
    pick = lambda text: [line for line in text.splitlines() if line.startswith("syscall_0x")]
    assert pick(theirs) == [
        "syscall_0x1f4(0x1, 0x2, 0x3, 0, 0xffffffffffffffff, 0x7fff00001234) = -1 ENOSYS (Function not implemented)",
        "syscall_0x1f4(0, 0, 0, 0, 0, 0)         = -1 ENOSYS (Function not implemented)",
    ], theirs[-2000:]
    assert pick(ours) == pick(theirs), ours[-2000:]


def test_a_number_without_a_name_is_counted(kernel, tmp_path):
    # -c counts it too, under the same name (strace's -c leaves it out).
    script = tmp_path / "unnamed.py"
    script.write_text(UNNAMED)
    r = subprocess.run([sys.executable, "-m", "systrace", "-c", "--", sys.executable, str(script)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert re.search(r"^.* 2 +2 syscall_0x1f4$", r.stderr, re.M), r.stderr
