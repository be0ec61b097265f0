"""Socket addresses: connect's, bind's and sendto's `struct sockaddr` is
captured with strings=True and decoded by systrace.sockaddr(). Only
loopback traffic here; remote addresses are tested on synthetic calls."""
from __future__ import annotations

import errno
import socket
import struct
import threading

import pytest

import systrace
from systrace import SockAddr


def _free_port() -> int:
    """A loopback port nobody listens on: connecting to it is refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def _calls(calls: list, name: str) -> list:
    me = threading.get_native_id()
    return [c for c in calls if c.tid == me and c.name == name]


def test_connect_bind_and_sendto_addresses(kernel):
    refused = _free_port()
    with systrace.enable("connect", "bind", "sendto", strings=True) as session:
        with socket.socket() as s:
            with pytest.raises(ConnectionRefusedError):
                s.connect(("127.0.0.1", refused))
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as u:
            u.bind(("::1", 0))
            port = u.getsockname()[1]
            u.sendto(b"ping", ("::1", port))
            u.sendto(b"again", ("::1", port))
    calls = session.calls()
    (connect,) = _calls(calls, "connect")
    assert connect.errno == "ECONNREFUSED" and connect.arg_int("addrlen") == 16
    assert systrace.sockaddr(connect.arg_bytes("uservaddr")) == SockAddr("AF_INET", "127.0.0.1", refused, False)
    (bind,) = _calls(calls, "bind")
    assert systrace.sockaddr(bind.arg_bytes("umyaddr")) == SockAddr("AF_INET6", "::1", 0, False)
    sends = _calls(calls, "sendto")
    assert [systrace.sockaddr(c.arg_bytes("addr")) for c in sends] == [SockAddr("AF_INET6", "::1", port, False)] * 2
    assert [c.arg_bytes("buff") for c in sends] == [b"ping", b"again"]


def test_unix_socket_address(kernel, tmp_path):
    path = str(tmp_path / "missing.sock")
    with systrace.enable("connect", strings=True, string_size=256) as session:
        with socket.socket(socket.AF_UNIX) as s:
            with pytest.raises(FileNotFoundError):
                s.connect(path)
    (connect,) = _calls(session.calls(), "connect")
    assert connect.errno == "ENOENT"
    assert systrace.sockaddr(connect.arg_bytes("uservaddr")) == SockAddr("AF_UNIX", path, None, False)


def _inet(ip: str, port: int) -> bytes:
    return struct.pack("=H", socket.AF_INET) + struct.pack(">H", port) + socket.inet_aton(ip) + bytes(8)


def _inet6(ip: str, port: int) -> bytes:
    return struct.pack("=H", socket.AF_INET6) + struct.pack(">HI", port, 0) + socket.inet_pton(socket.AF_INET6, ip) + bytes(4)


def test_remote_or_not():
    """Which addresses are off this host, on synthetic calls (no traffic)."""
    for data, expected in (
        (_inet("10.255.255.1", 9), SockAddr("AF_INET", "10.255.255.1", 9, True)),
        (_inet("127.0.0.53", 53), SockAddr("AF_INET", "127.0.0.53", 53, False)),
        (_inet("0.0.0.0", 80), SockAddr("AF_INET", "0.0.0.0", 80, False)),
        (_inet6("2001:db8::1", 443), SockAddr("AF_INET6", "2001:db8::1", 443, True)),
        (_inet6("::ffff:127.0.0.1", 1), SockAddr("AF_INET6", "::ffff:127.0.0.1", 1, False)),
        (_inet6("::ffff:192.0.2.1", 1), SockAddr("AF_INET6", "::ffff:192.0.2.1", 1, True)),
        (struct.pack("=H", socket.AF_NETLINK) + bytes(10), SockAddr("AF_NETLINK", None, None, False)),
        (struct.pack("=H", socket.AF_UNIX) + b"\0abstract", SockAddr("AF_UNIX", "@abstract", None, False)),
    ):
        enter = systrace.Event("connect", "enter", args=[3, 0x1000, len(data)], captured={"uservaddr": data})
        call = systrace.Call(enter, systrace.Event("connect", "exit", ret=-errno.ECONNREFUSED))
        assert systrace.sockaddr(call.arg_bytes("uservaddr")) == expected
    assert systrace.sockaddr(None) is None
    assert systrace.sockaddr(b"\x02") is None
    assert systrace.sockaddr(_inet("1.2.3.4", 5)[:6]) is None  # cut short
