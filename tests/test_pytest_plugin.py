"""The pytest plugin (entry point pytest11: systrace.pytest_plugin), run
with pytester against the real kernel. No traffic leaves this host: the
one connect to an address off it is made in a network namespace of its
own, with no interface but a down loopback, where it fails at once."""
from __future__ import annotations

import errno
import socket
import struct
import textwrap

import pytest

import systrace
from systrace import pytest_plugin as plugin

pytest_plugins = ["pytester"]

# A child that enters a network namespace of its own and connects from there
# to 192.0.2.1 (TEST-NET-1, never routed) port 9: the kernel finds no route
# and fails the connect with ENETUNREACH without sending anything. If the
# namespace cannot be made, the child exits without connecting.
OFF_HOST = textwrap.dedent(
    """
    import ctypes, os, socket

    CLONE_NEWNET = 0x40000000

    def connect_off_host():
        pid = os.fork()
        if pid == 0:
            code = 3
            try:
                if ctypes.CDLL(None, use_errno=True).unshare(CLONE_NEWNET) == 0:
                    with open("/proc/self/net/dev") as f:
                        interfaces = [line.split(":")[0].strip() for line in f.readlines()[2:]]
                    if interfaces == ["lo"]:
                        with socket.socket() as s:
                            code = s.connect_ex(("192.0.2.1", 9))
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.WEXITSTATUS(status) == 101, status  # ENETUNREACH
    """
)


def _inner(pytester: pytest.Pytester, source: str) -> pytest.RunResult:
    pytester.makepyfile(test_inner=OFF_HOST + textwrap.dedent(source))
    return pytester.runpytest("-p", "no:cacheprovider", "-rA")


def test_no_network_fails_a_test_that_connects_off_host(kernel, pytester):
    result = _inner(
        pytester,
        """
        import pytest

        @pytest.mark.no_network
        def test_off_host():
            connect_off_host()

        def test_unmarked():
            connect_off_host()
        """,
    )
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*_ test_off_host _*",
            "  no_network: [[]pid *[]] connect(*, {sa_family=AF_INET, sin_port=htons(9), sin_addr=inet_addr(\"192.0.2.1\")}, 16) = -1 ENETUNREACH (Network is unreachable)"
            "  (to 192.0.2.1 port 9)",
        ]
    )
    result.stdout.fnmatch_lines(["PASSED test_inner.py::test_unmarked", "FAILED test_inner.py::test_off_host - *"])


def test_no_network_passes_loopback(kernel, pytester):
    result = _inner(
        pytester,
        """
        import socket
        import pytest

        @pytest.mark.no_network
        def test_loopback():
            with socket.socket() as server:
                server.bind(("127.0.0.1", 0))
                server.listen()
                with socket.create_connection(server.getsockname()) as client:
                    peer, _ = server.accept()
                    client.sendall(b"hi")
                    assert peer.recv(2) == b"hi"
                    peer.close()
            with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as u:
                u.bind(("::1", 0))
                u.sendto(b"x", u.getsockname())
            with socket.socket() as s:
                assert s.connect_ex(("127.0.0.1", 9)) != 0  # refused, on this host
        """,
    )
    result.assert_outcomes(passed=1)


def test_no_writes_outside(kernel, pytester):
    inside = pytester.mkdir("inside")
    outside = pytester.mkdir("outside")
    (outside / "old").write_text("x")
    result = _inner(
        pytester,
        f"""
        import os, shutil, subprocess, sys
        import pytest

        INSIDE, OUTSIDE = {str(inside)!r}, {str(outside)!r}
        allowed = pytest.mark.no_writes_outside(INSIDE)

        @allowed
        def test_inside(tmp_path, monkeypatch):
            with open(os.path.join(INSIDE, "a"), "w") as f:
                f.write("a")
            os.rename(os.path.join(INSIDE, "a"), os.path.join(INSIDE, "b"))
            os.makedirs(os.path.join(INSIDE, "d", "e"))
            shutil.rmtree(os.path.join(INSIDE, "d"))  # unlinkat relative to directory fds
            monkeypatch.chdir(INSIDE)  # a traced chdir: what follows is relative to INSIDE
            with open("relative", "w") as f:
                f.write("r")
            (tmp_path / "t").write_text("tmp_path is allowed")
            with open(os.path.join(OUTSIDE, "old")) as f:  # reading is allowed
                f.read()
            subprocess.run(["touch", "by_child"], check=True)  # in the cwd it inherited

        @allowed
        def test_open_for_writing():
            open(os.path.join(OUTSIDE, "new"), "w").close()

        @allowed
        def test_relative_to_a_directory_fd():
            fd = os.open(OUTSIDE, os.O_RDONLY | os.O_DIRECTORY)
            os.close(os.open("by_fd", os.O_WRONLY | os.O_CREAT, dir_fd=fd))
            os.close(fd)

        @allowed
        def test_rename_out():
            open(os.path.join(INSIDE, "leaving"), "w").close()
            os.rename(os.path.join(INSIDE, "leaving"), os.path.join(OUTSIDE, "arrived"))

        @allowed
        def test_unlink():
            os.unlink(os.path.join(OUTSIDE, "old"))

        @allowed
        def test_child_process():
            subprocess.run(["mkdir", os.path.join(OUTSIDE, "by_child")], check=True)

        @allowed
        def test_failed_open_writes_nothing():
            with pytest.raises(FileNotFoundError):
                open(os.path.join(OUTSIDE, "missing", "x"), "w")
        """,
    )
    result.assert_outcomes(passed=2, failed=5)
    for name, line in (
        (
            "test_open_for_writing",
            f'openat(AT_FDCWD, "{outside}/new", O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC, 0666) = *  (writes {outside}/new)',
        ),
        # Relative to a directory fd: the path it wrote is resolved.
        ("test_relative_to_a_directory_fd", f'openat(*, "by_fd", O_WRONLY|O_CREAT|O_CLOEXEC, 0777) = *  (writes {outside}/by_fd)'),
        ("test_rename_out", f'rename("{inside}/leaving", "{outside}/arrived") = 0  (writes {outside}/arrived)'),
        ("test_unlink", f'unlink("{outside}/old") = 0  (writes {outside}/old)'),
        ("test_child_process", f'mkdir("{outside}/by_child", 0777) = 0  (writes {outside}/by_child)'),
    ):
        result.stdout.fnmatch_lines([f"*_ {name} _*", f"  no_writes_outside: [[]pid *[]] {line}"])
        result.stdout.fnmatch_lines([f"FAILED test_inner.py::{name} - *"])
    assert sorted(p.name for p in inside.iterdir()) == ["b", "by_child", "relative"]


def test_syscalls_fixture(kernel, pytester):
    pytester.makepyfile(
        test_inner="""
        import os, threading
        import pytest

        @pytest.mark.syscalls("getppid", exit=False)
        def test_counted(syscalls):
            assert not syscalls.closed and syscalls.syscalls == ["getppid"]
            for _ in range(100):
                os.getppid()
            syscalls.close()
            me = threading.get_native_id()
            assert [e.event_name for e in syscalls.events() if e.tid == me] == ["sys_enter_getppid"] * 100

        def test_everything(syscalls):
            os.getppid()
            assert len(syscalls.syscalls) == len(__import__("systrace").SyscallSet()) == 1024
            pytest.session = syscalls

        def test_closed_after_the_test():
            assert pytest.session.closed
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)


def _connect(data: bytes) -> systrace.Call:
    enter = systrace.Event("connect", "enter", args=[3, 0x1000, len(data)], captured={"uservaddr": data})
    return systrace.Call(enter, systrace.Event("connect", "exit", ret=-errno.EINPROGRESS))


def test_remote_rule_on_synthetic_calls():
    def inet(ip: str, port: int) -> bytes:
        return struct.pack("=H", socket.AF_INET) + struct.pack(">H", port) + socket.inet_aton(ip) + bytes(8)

    assert plugin._remote(_connect(inet("10.255.255.1", 9))) == systrace.SockAddr("AF_INET", "10.255.255.1", 9, True)
    assert plugin._remote(_connect(inet("127.0.0.1", 9))) is None
    assert plugin._remote(_connect(inet("0.0.0.0", 9))) is None
    assert plugin._remote(_connect(struct.pack("=H", socket.AF_UNIX) + b"/run/x\0")) is None
    send = systrace.Call(systrace.Event("sendto", "enter", args=[3, 0, 1, 0, 0x1000, 16], captured={"addr": inet("192.0.2.7", 53)}))
    assert plugin._remote(send) == systrace.SockAddr("AF_INET", "192.0.2.7", 53, True)
