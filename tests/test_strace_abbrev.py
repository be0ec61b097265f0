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


def test_verbose_set_is_refused_with_why(kernel):
    for args in (["-e", "verbose=none"], ["--verbose=!stat"]):
        r = subprocess.run([*SYSTRACE, *args, "--", "true"], capture_output=True, text=True, timeout=60)
        assert r.returncode == 1, r.stderr
        assert "not supported: systrace decodes the structures of every syscall" in r.stderr, r.stderr


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
