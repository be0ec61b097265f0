"""User memory capture (strings=True) and following forks (follow=True),
against the real kernel."""
from __future__ import annotations

import ctypes
import mmap
import os
import signal
import subprocess
import sys
import tempfile
import threading

import pytest

import systrace


def mine(session, name=None):
    tid = threading.get_native_id()
    return [e for e in session if e.tid == tid and (name is None or e.name == name)]


def test_path_strings_and_buffers(kernel, tmp_path):
    path = tmp_path / "data.bin"
    path.write_bytes(b"abc\xff\x00xyz")
    r, w = os.pipe()
    with systrace.enable("openat", "read", "write", strings=True, string_size=256) as s:
        fd = os.open(path, os.O_RDONLY)
        os.read(fd, 100)
        os.close(fd)
        os.write(w, b"\x01\x02hello")
    os.close(r)
    os.close(w)
    evs = mine(s)
    (open_enter,) = [e for e in evs if e.name == "openat" and e.phase == "enter"]
    assert open_enter.captured == {"filename": os.fsencode(path)}
    (read_exit,) = [e for e in evs if e.name == "read" and e.phase == "exit"]
    # Non-UTF-8 and NUL bytes come through as they are.
    assert read_exit.captured == {"buf": b"abc\xff\x00xyz"} and read_exit.ret == 8
    (write_enter,) = [e for e in evs if e.name == "write" and e.phase == "enter"]
    assert write_enter.captured == {"buf": b"\x01\x02hello"}
    assert write_enter.capture_status == {}


def test_string_size_truncates_and_says_so(kernel, tmp_path):
    long_name = tmp_path / ("x" * 100)
    with systrace.enable("openat", strings=True, string_size=16, exit=False) as s:
        with pytest.raises(FileNotFoundError):
            os.open(long_name, os.O_RDONLY)
    (ev,) = mine(s, "openat")
    assert ev.captured["filename"] == os.fsencode(long_name)[:16]
    assert ev.capture_status == {"filename": "truncated"}


def test_data_is_cut_at_its_own_size_and_paths_are_not(kernel, tmp_path):
    """The command's sessions capture data (read's, write's, an iovec's) at
    -s and one more, and paths and addresses whole (string_size): the
    kernel side cuts each at its own size."""
    from systrace import _native

    long_name = tmp_path / ("x" * 100)
    long_name.write_bytes(b"d" * 4096)
    r, w = os.pipe()
    with _native.Session("openat", "read", "writev", strings=True, string_size=4096, _data_size=33) as s:
        fd = os.open(long_name, os.O_RDONLY)
        os.read(fd, 4096)
        os.close(fd)
        os.writev(w, [b"v" * 100, b"w" * 10])
        sock = __import__("socket").socket(__import__("socket").AF_UNIX)
        with pytest.raises(OSError):
            sock.connect(str(tmp_path / ("y" * 90)))
        sock.close()
    os.close(r)
    os.close(w)
    evs = mine(s)
    (open_enter,) = [e for e in evs if e.name == "openat" and e.phase == "enter"]
    assert open_enter.captured == {"filename": os.fsencode(long_name)}
    (read_exit,) = [e for e in evs if e.name == "read" and e.phase == "exit"]
    assert read_exit.ret == 4096
    assert read_exit.captured == {"buf": b"d" * 33}
    assert read_exit.capture_status == {"buf": "truncated"}
    (writev_enter,) = [e for e in evs if e.name == "writev" and e.phase == "enter"]
    # Each element: its systrace_capture_elem (24 bytes), then its data.
    first, second = writev_enter.captured["vec"]
    assert (first[24:], second[24:]) == (b"v" * 33, b"w" * 10)
    call = systrace.Call(writev_enter)
    assert call.strace(32).startswith(f'writev({w}, [{{iov_base="{"v" * 32}"..., iov_len=100}}, '
                                      f'{{iov_base="wwwwwwwwww", iov_len=10}}], 2)'), call.strace(32)
    with pytest.raises(ValueError, match="_data_size"):
        _native.Session("read", _data_size=33)


@pytest.mark.parametrize("data_size", [1, 8, 63, 64, 65, 200])
def test_read_data_is_cut_at_the_data_size_and_says_so(kernel, tmp_path, data_size):
    """read's and pread64's data takes the exit's short path
    (bpf/capture.bpf.h, capture_exit_data), not the walk: the same items,
    cut (and said to be) only past the size; nothing for 0 or an error."""
    from systrace import _native

    data = bytes(range(256)) * 2
    path = tmp_path / "data.bin"
    path.write_bytes(data)
    sizes = [0, 1, 7, 8, 9, 63, 64, 65, 199, 200, 201, 512]
    with _native.Session("read", "pread64", strings=True, string_size=4096, _data_size=data_size) as s:
        fd = os.open(path, os.O_RDONLY)
        for n in sizes:
            os.lseek(fd, 0, os.SEEK_SET)
            assert len(os.read(fd, n)) == n
            assert len(os.pread(fd, n, 0)) == n
        os.lseek(fd, 0, os.SEEK_END)
        assert os.read(fd, 10) == b""  # ret 0: nothing read, no item
        os.close(fd)
        with pytest.raises(OSError):
            os.read(fd, 10)  # EBADF: no item
    exits = [e for e in mine(s) if e.phase == "exit"]
    assert [(e.name, e.ret) for e in exits] == (
        [(name, n) for n in sizes for name in ("read", "pread64")] + [("read", 0), ("read", -9)])
    for e in exits:
        n = max(e.ret, 0)
        if n == 0:
            assert (e.captured, e.capture_status) == ({}, {}), e
            continue
        assert e.captured == {"buf": data[: min(n, data_size)]}, (e.name, n, data_size)
        assert e.capture_status == ({"buf": "truncated"} if n > data_size else {}), (e.name, n, data_size)


def test_the_command_cuts_data_only_where_it_prints_strace_lines():
    from systrace import cli

    def parsed(*argv: str):
        args = cli.build_parser().parse_args(argv)
        args.string_size = cli._uint_option("-s", args.string_size)  # as main() reads -s
        return args

    assert cli.data_size(parsed("-s", "10", "--", "true")) == 11
    assert cli.data_size(parsed("-s", "10", "--format", "json", "--", "true")) is None
    # -e read=, -e write=: dumped whole, as far as the capture goes.
    assert cli.data_size(parsed("-s", "10", "-e", "read=3", "--", "true")) == cli.MAX_CAPTURE == 4096


def test_without_strings_nothing_is_captured(kernel):
    with systrace.enable("openat") as s:
        os.close(os.open("/", os.O_RDONLY))
    assert all(e.captured == {} for e in mine(s))


def test_a_string_not_in_memory_at_enter_is_read_at_exit(kernel, tmp_path):
    """A path in a file-backed page nobody touched yet cannot be read at
    enter (BPF cannot fault pages in); the kernel faults it in while it
    runs the call, so systrace reads it again at exit instead of losing it."""
    target = tmp_path / "target"
    target.write_text("x")
    holder = tmp_path / "holder"
    holder.write_bytes(os.fsencode(target) + b"\0")
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mmap.restype = ctypes.c_void_p
    libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
    libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    libc.openat.restype = ctypes.c_int
    libc.openat.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
    with open(holder, "rb") as f:
        # Out of the page cache too, so the first touch really faults.
        os.posix_fadvise(f.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
        # Mapped through libc so that nothing in Python touches the page.
        addr = libc.mmap(None, 4096, mmap.PROT_READ, mmap.MAP_PRIVATE, f.fileno(), 0)
        assert addr not in (None, ctypes.c_void_p(-1).value)
        try:
            with systrace.enable("openat", strings=True, string_size=256) as s:
                fd = libc.openat(-100, addr, os.O_RDONLY)
        finally:
            libc.munmap(addr, 4096)
    assert fd >= 0, ctypes.get_errno()
    os.close(fd)
    evs = mine(s, "openat")
    enter = [e for e in evs if e.phase == "enter"][0]
    exit_ = [e for e in evs if e.phase == "exit"][0]
    assert exit_.ret == fd
    if enter.capture_status.get("filename") != "faulted":
        pytest.fail(f"the page was in memory at enter ({enter.capture_status}): the test proves nothing")
    assert exit_.captured == {"filename": os.fsencode(target)}


def test_structures_not_in_memory_at_enter_are_read_at_exit(kernel, tmp_path):
    """Inputs a call only reads (a sigset, a timespec), each in a file-backed
    page nobody touched yet: BPF cannot read them at enter, the call faults
    them in, and the exit reads them. Printed as strace does, not as
    addresses (zstd's first pthread_create blocked every signal from such a
    page of libc's)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mmap.restype = ctypes.c_void_p
    libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
    libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    libc.syscall.restype = ctypes.c_long
    libc.syscall.argtypes = [ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]

    def untouched(name: str, data: bytes) -> int:
        """A page of a file of its own (a neighbour in one file would be
        mapped with the first one faulted in), out of the page cache."""
        path = tmp_path / name
        path.write_bytes(data)
        with open(path, "rb") as f:
            os.fsync(f.fileno())
            os.posix_fadvise(f.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
            addr = libc.mmap(None, mmap.PAGESIZE, mmap.PROT_READ, mmap.MAP_PRIVATE, f.fileno(), 0)
        assert addr not in (None, ctypes.c_void_p(-1).value)
        return addr

    usr1 = untouched("sigset", (1 << (signal.SIGUSR1 - 1)).to_bytes(8, sys.byteorder))
    microsecond = untouched("timespec", (0).to_bytes(8, sys.byteorder) + (1000).to_bytes(8, sys.byteorder))
    try:
        with systrace.enable("rt_sigprocmask", "nanosleep", strings=True) as s:
            blocked = libc.syscall(systrace.syscall_nr("rt_sigprocmask"), signal.SIG_BLOCK, usr1, None, 8)
            slept = libc.syscall(systrace.syscall_nr("nanosleep"), microsecond, None, None, None)
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGUSR1])
        libc.munmap(usr1, mmap.PAGESIZE)
        libc.munmap(microsecond, mmap.PAGESIZE)
    assert (blocked, slept) == (0, 0), ctypes.get_errno()
    pointers = {"rt_sigprocmask": ("nset", usr1), "nanosleep": ("rqtp", microsecond)}
    evs = mine(s)
    enters = [e for e in evs if e.phase == "enter" and e.name in pointers
              and e.args[pointers[e.name][0]] == pointers[e.name][1]]
    faulted = sorted(e.name for e in enters if "faulted" in e.capture_status.values())
    if faulted != ["nanosleep", "rt_sigprocmask"]:
        pytest.fail(f"pages were in memory at enter ({[(e.name, e.capture_status) for e in enters]}): "
                    "the test proves nothing")
    texts = [c.strace() for c in systrace.calls(evs)]
    assert "rt_sigprocmask(SIG_BLOCK, [USR1], NULL, 8) = 0" in texts, texts
    assert "nanosleep({tv_sec=0, tv_nsec=1000}, NULL) = 0" in texts, texts


def test_execve_argv_and_follow_children(kernel):
    with systrace.enable("execve", "write", strings=True, follow=True) as s:
        subprocess.run(["/bin/echo", "child", "ar\xe9gs"], check=True, stdout=subprocess.DEVNULL)
    evs = list(s)
    execs = [e for e in evs if e.name == "execve" and e.phase == "enter" and e.pid != os.getpid()]
    assert execs, [str(e) for e in evs]
    child = execs[-1]
    assert child.captured["filename"] == b"/bin/echo"
    assert child.captured["argv"] == [b"/bin/echo", b"child", "ar\xe9gs".encode()]
    # The child is traced from its first syscall on, through to its write.
    writes = [e for e in evs if e.name == "write" and e.pid == child.pid and e.phase == "enter"]
    assert writes and writes[0].captured["buf"] == "child ar\xe9gs\n".encode()


def test_without_follow_children_are_not_traced(kernel):
    devnull = os.open("/dev/null", os.O_WRONLY)
    with systrace.enable("execve", "write") as s:
        subprocess.run(["/bin/echo", "x"], check=True, stdout=subprocess.DEVNULL)
        os.write(devnull, b"mine")  # this process is traced: its write shows
    os.close(devnull)
    evs = list(s)
    assert {e.pid for e in evs} == {os.getpid()}, [str(e) for e in evs]
    assert [e.args["count"] for e in evs if e.name == "write" and e.phase == "enter"] == [4]


def test_follow_ends_with_the_session(kernel):
    with systrace.enable("getppid", follow=True) as s:
        subprocess.run([sys.executable, "-c", "import os; os.getppid()"], check=True)
    assert any(e.pid != os.getpid() for e in s)
    state = systrace._native.kernel_state()
    assert not state["attached_enter"] and state["sessions"] == 0


def test_capture_arguments_are_checked():
    with pytest.raises(ValueError, match="string_size must be from 1 to 4096"):
        systrace.enable("openat", strings=True, string_size=0)
    with pytest.raises(ValueError, match="string_size needs strings=True"):
        systrace.enable("openat", string_size=10)
    with pytest.raises(ValueError, match="follow=True with all_processes"):
        systrace.enable("openat", follow=True, all_processes=True)
