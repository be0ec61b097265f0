"""The pytest plugin: its markers and its fixture. This file is a test
module; run as a script, it runs pytest on itself and shows what failed."""
import socket
import sys

import pytest


@pytest.mark.no_writes_outside  # no directory given: only the test's tmp_path
def test_writes_in_tmp_path(tmp_path):
    (tmp_path / "out.txt").write_text("kept where it belongs")


@pytest.mark.no_writes_outside
def test_writes_elsewhere(tmp_path):
    with open("stray.txt", "w") as f:  # the current directory
        f.write("oops")


@pytest.mark.no_network
def test_loopback_only():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        with socket.create_connection(server.getsockname()):
            pass


@pytest.mark.syscalls("openat", strings=True)
def test_what_it_opened(syscalls):
    with open(__file__) as f:
        f.read()
    syscalls.close()
    opened = [c.arg_str("filename") for c in syscalls.calls() if c.name == "openat"]
    assert __file__ in opened


if __name__ == "__main__":
    sys.dont_write_bytecode = True  # no __pycache__ next to this file
    status = pytest.main([__file__, "-q", "-p", "no:cacheprovider", "-rf"])
    print(f"pytest exit status: {int(status)}")
