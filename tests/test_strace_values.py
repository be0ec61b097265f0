"""Constants and values as strace 6.1 prints them, without the kernel:
synthetic calls whose expected lines are strace's own, copied from
`strace -e trace=... python3 script` runs (structures strace reads from
memory, which systrace prints as their address, put aside)."""
from __future__ import annotations

import socket

import pytest

from systrace import Call, Event
from test_strace_decode import a, line, synthetic_call

AT_FDCWD = -100
PTR = 0x7FFD892AEFE4


def args(*raws):
    return [a("", "", r) for r in raws]


def test_ioctl_requests():
    # strace: ioctl(3, FIOCLEX) = 0 -- no argument.
    assert line("ioctl", args(3, 0x5451, 0), 0) == "ioctl(3, FIOCLEX)                       = 0"
    # ioctl(0, TCGETS, 0x7fff775c29f0) = -1 ENOTTY (...)
    assert line("ioctl", args(0, 0x5401, 0x7FFF775C29F0), -25) == (
        "ioctl(0, TCGETS, 0x7fff775c29f0)        = -1 ENOTTY (Inappropriate ioctl for device)"
    )
    # ioctl(9, TIOCGPTPEER, 0x102) = 11 -- an argument strace does not decode, in hex.
    assert line("ioctl", args(9, 0x5441, 0x102), 11) == "ioctl(9, TIOCGPTPEER, 0x102)            = 11"
    # cp --reflink=auto: ioctl(4, BTRFS_IOC_CLONE or FICLONE, 3) = -1 EOPNOTSUPP (...)
    assert line("ioctl", args(4, 0x40049409, 3), -95) == (
        "ioctl(4, BTRFS_IOC_CLONE or FICLONE, 3) = -1 EOPNOTSUPP (Operation not supported)"
    )
    # A number no header names: its fields.
    assert line("ioctl", args(3, 0xC0081234, 0x7FFD892AEBDF), -25) == (
        "ioctl(3, _IOC(_IOC_READ|_IOC_WRITE, 0x12, 0x34, 0x8), 0x7ffd892aebdf)"
        " = -1 ENOTTY (Inappropriate ioctl for device)"
    )
    # The request is the low 32 bits (the kernel's unsigned int cmd).
    assert line("ioctl", args(1, (1 << 32) | 0x5413, PTR), 0).startswith("ioctl(1, TIOCGWINSZ, ")


def test_socket_options_and_protocols():
    assert line("setsockopt", args(3, socket.SOL_SOCKET, socket.SO_REUSEADDR, PTR, 4), 0) == (
        f"setsockopt(3, SOL_SOCKET, SO_REUSEADDR, {PTR:#x}, 4) = 0"
    )
    assert line("setsockopt", args(3, socket.IPPROTO_TCP, socket.TCP_NODELAY, PTR, 4), 0).startswith(
        "setsockopt(3, SOL_TCP, TCP_NODELAY, "
    )
    assert line("setsockopt", args(3, socket.IPPROTO_IP, socket.IP_TOS, PTR, 4), 0).startswith(
        "setsockopt(3, SOL_IP, IP_TOS, "
    )
    assert line("setsockopt", args(4, socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, PTR, 4), 0).startswith(
        "setsockopt(4, SOL_IPV6, IPV6_V6ONLY, "
    )
    assert line("getsockopt", args(3, socket.SOL_SOCKET, socket.SO_TYPE, PTR, PTR + 4), 0).startswith(
        "getsockopt(3, SOL_SOCKET, SO_TYPE, "
    )
    # One number, two names: strace names it by the call.
    assert "SO_GET_FILTER" in line("getsockopt", args(3, 1, 26, PTR, PTR), 0)
    assert "SO_ATTACH_FILTER" in line("setsockopt", args(3, 1, 26, PTR, 8), 0)
    # Unknown names and levels.
    assert line("setsockopt", args(3, 1, 999, PTR, 4), -92).startswith("setsockopt(3, SOL_SOCKET, 0x3e7 /* SO_??? */, ")
    assert line("setsockopt", args(3, 999, 5, PTR, 4), -92).startswith("setsockopt(3, 0x3e7 /* SOL_?? */, 5, ")
    assert line("socket", args(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC, 0), 5) == (
        "socket(AF_NETLINK, SOCK_RAW|SOCK_CLOEXEC, NETLINK_ROUTE) = 5"
    )
    assert line("socket", args(socket.AF_INET6, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC, 0), 4) == (
        "socket(AF_INET6, SOCK_DGRAM|SOCK_CLOEXEC, IPPROTO_IP) = 4"
    )
    assert line("socket", args(socket.AF_INET, socket.SOCK_RAW, 200), -93).startswith(
        "socket(AF_INET, SOCK_RAW, 0xc8 /* IPPROTO_??? */)"
    )
    assert line("socketpair", args(socket.AF_UNIX, socket.SOCK_SEQPACKET | socket.SOCK_CLOEXEC, 0, PTR), 0) == (
        f"socketpair(AF_UNIX, SOCK_SEQPACKET|SOCK_CLOEXEC, 0, {PTR:#x}) = 0"
    )
    assert line("shutdown", args(3, socket.SHUT_RDWR), 0).startswith("shutdown(3, SHUT_RDWR)")


def test_epoll_fadvise_ownership_times():
    assert line("epoll_create1", args(0o2000000), 3) == "epoll_create1(EPOLL_CLOEXEC)            = 3"
    assert line("epoll_ctl", args(8, 3, 3, PTR), 0) == f"epoll_ctl(8, EPOLL_CTL_MOD, 3, {PTR:#x}) = 0"
    assert line("epoll_ctl", args(8, 2, 3, PTR), 0) == f"epoll_ctl(8, EPOLL_CTL_DEL, 3, {PTR:#x}) = 0"
    assert line("fadvise64", args(12, 10, 100, 4), 0) == "fadvise64(12, 10, 100, POSIX_FADV_DONTNEED) = 0"
    assert line("fadvise64", args(12, 0, 0, 2), 0) == "fadvise64(12, 0, 0, POSIX_FADV_SEQUENTIAL) = 0"
    f = a("filename", "const char *", 0x1000, b"f")
    assert line("chown", [f, a("", "", 2**32 - 1), a("", "", 0)], 0) == 'chown("f", -1, 0)                       = 0'
    assert line("fchownat", [a("", "", AT_FDCWD), f, a("", "", 1000), a("", "", 2**32 - 1), a("", "", 0x100)], 0) == (
        'fchownat(AT_FDCWD, "f", 1000, -1, AT_SYMLINK_NOFOLLOW) = 0'
    )
    assert line("utimensat", [a("", "", AT_FDCWD), f, a("", "", 0), a("", "", 0x100)], 0) == (
        'utimensat(AT_FDCWD, "f", NULL, AT_SYMLINK_NOFOLLOW) = 0'
    )


def test_prctl_options():
    assert line("prctl", args(15, PTR, 0, 0, 0), 0).startswith(f"prctl(PR_SET_NAME, {PTR:#x})")
    assert line("prctl", args(4, 0, 0, 0, 0), 0) == "prctl(PR_SET_DUMPABLE, SUID_DUMP_DISABLE) = 0"
    assert line("prctl", args(3, 0, 0, 0, 0), 0) == "prctl(PR_GET_DUMPABLE)                  = 0 (SUID_DUMP_DISABLE)"
    assert line("prctl", args(38, 1, 0, 0, 0), 0) == "prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)  = 0"
    assert line("prctl", args(1, 9, 0, 0, 0), 0) == "prctl(PR_SET_PDEATHSIG, SIGKILL)        = 0"
    assert line("prctl", args(9999, 1, 2, 3, 4), -22) == (
        "prctl(0x270f /* PR_??? */, 0x1, 0x2, 0x3, 0x4) = -1 EINVAL (Invalid argument)"
    )
    assert line("prctl", args(23, 21, 0, 0, 0), 1).startswith("prctl(PR_CAPBSET_READ, CAP_SYS_ADMIN)")
    assert line("prctl", args(22, 2, PTR, 0, 0), 0).startswith(f"prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, {PTR:#x})")


def test_memory_policy():
    assert line("set_mempolicy", args(0, 0, 0), 0) == "set_mempolicy(MPOL_DEFAULT, NULL, 0)    = 0"
    assert line("set_mempolicy", args(0x8001, 0, 0), -22) == (
        "set_mempolicy(MPOL_PREFERRED|MPOL_F_STATIC_NODES, NULL, 0) = -1 EINVAL (Invalid argument)"
    )
    assert line("mbind", args(0x7F0000, 4096, 2, PTR, 2, 2), 0).endswith(f"MPOL_BIND, {PTR:#x}, 2, MPOL_MF_MOVE) = 0")


def test_modes_as_given():
    f = a("filename", "const char *", 0x1000, b"f")
    assert line("chmod", [f, a("", "", 0o100644)], 0) == 'chmod("f", 0100644)                     = 0'
    assert line("chmod", [f, a("", "", 0o4755)], 0) == 'chmod("f", 04755)                       = 0'
    assert line("mkdir", [f, a("", "", 0o40755)], 0) == 'mkdir("f", 040755)                      = 0'


def test_paths_whole_and_hex_strings():
    path = b"/" + b"d" * 299 + b"/" + b"x" * 3700
    args = [a("", "", AT_FDCWD), a("filename", "const char *", 0x1000, path), a("", "", 0), a("", "", 0)]
    assert line("openat", args, -2).startswith('openat(AT_FDCWD, "' + path.decode() + '", O_RDONLY)')
    # strace -x: a string with a byte that is not printable ASCII or
    # whitespace is all hex; -xx: all strings. printf 'caf\xc3\xa9\n':
    write = [a("", "", 1), a("buf", "const char *", 0x1000, b"caf\xc3\xa9\n"), a("", "", 6)]
    call = synthetic_call("write", write, 6)
    assert call.strace(hex_strings=1) == r'write(1, "\x63\x61\x66\xc3\xa9\x0a", 6) = 6'
    assert call.strace() == r'write(1, "caf\303\251\n", 6)            = 6'
    plain = synthetic_call("write", [a("", "", 1), a("buf", "const char *", 0x1000, b"hi\n"), a("", "", 3)], 3)
    assert plain.strace(hex_strings=1) == r'write(1, "hi\n", 3)                     = 3'
    assert plain.strace(hex_strings=2) == r'write(1, "\x68\x69\x0a", 3)             = 3'
    assert plain.strace_args(hex_strings=2)[1] == r'"\x68\x69\x0a"'
    # --strings-in-hex=non-ascii-chars: \xNN where an escape would be octal.
    assert call.strace(hex_strings=3) == r'write(1, "caf\xc3\xa9\n", 6)            = 6'
    with pytest.raises(ValueError, match="hex_strings"):
        plain.strace(hex_strings=4)


def test_status_classes():
    from systrace import _native

    assert _native.status_classes("failed") == ["failed"]
    assert _native.status_classes("!successful") == ["failed", "unfinished", "unavailable", "detached"]
    with pytest.raises(ValueError, match="invalid status 'x'"):
        _native.status_classes("x")
    # The printer keeps the calls of the classes asked for.
    ok = Call(Event("close", "enter", args=[3], tid=1, timestamp_ns=1), Event("close", "exit", ret=0, tid=1, timestamp_ns=2))
    bad = Call(Event("close", "enter", args=[9], tid=1, timestamp_ns=3), Event("close", "exit", ret=-9, tid=1, timestamp_ns=4))
    hang = Event("read", "enter", args=[0, 0, 1], tid=1, timestamp_ns=5)
    events = [ok.enter, ok.exit, bad.enter, bad.exit, hang]

    def shown(status):
        printer = _native.Printer(status=status, prefix="none")
        return (printer.feed(events) + printer.finish()).splitlines()

    closed = "close(3)                                = 0"
    failed = "close(9)                                = -1 EBADF (Bad file descriptor)"
    unfinished = "read(0,  <unfinished ...>)              = ?"
    assert shown(None) == [closed, failed, unfinished]
    assert shown(["failed"]) == [failed]
    assert shown(["successful"]) == [closed]
    assert shown(["unfinished", "successful"]) == [closed, unfinished]
    with pytest.raises(ValueError, match="unknown status"):
        _native.Printer(status=["sometimes"])
