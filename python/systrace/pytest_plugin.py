"""systrace's pytest plugin, loaded by pytest through the `pytest11` entry
point: markers that fail a test by what its syscalls did, and a fixture.

    @pytest.mark.no_network
    def test_offline(): ...          # fails if it connects or sends off this host

    @pytest.mark.no_writes_outside("/srv/out")
    def test_writes(tmp_path): ...   # fails if it writes outside /srv/out and tmp_path

    def test_opens(syscalls): ...    # a Session over the test, closed after it

The markers trace the test's call (not its fixtures) in its process and the
processes it forks; tracing needs root, or CAP_BPF with CAP_PERFMON.
"""
from __future__ import annotations

import os
from typing import TYPE_CHECKING, Dict, Generator, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

import pytest

if TYPE_CHECKING:
    from pluggy import Result

    import systrace

#: Bytes captured of each path and address: PATH_MAX, so paths are whole.
CAPTURE = 4096

#: Syscalls whose address no_network checks (not yet sendmsg's or sendmmsg's msghdrs).
NETWORK = ("connect", "sendto")

#: (dirfd argument or None, path argument) of what each syscall writes:
#: creates, truncates, renames (both names) or removes.
WRITES: Dict[str, Tuple[Tuple[Optional[str], str], ...]] = {
    "creat": ((None, "pathname"),),
    "mkdir": ((None, "pathname"),),
    "mkdirat": (("dfd", "pathname"),),
    "mknod": ((None, "filename"),),
    "mknodat": (("dfd", "filename"),),
    "rename": ((None, "oldname"), (None, "newname")),
    "renameat": (("olddfd", "oldname"), ("newdfd", "newname")),
    "renameat2": (("olddfd", "oldname"), ("newdfd", "newname")),
    "unlink": ((None, "pathname"),),
    "unlinkat": (("dfd", "pathname"),),
    "rmdir": ((None, "pathname"),),
    "link": ((None, "newname"),),
    "linkat": (("newdfd", "newname"),),
    "symlink": ((None, "newname"),),
    "symlinkat": (("newdfd", "newname"),),
    "truncate": ((None, "path"),),
}
#: Opens, which write when their flags say so; they also name directory fds.
OPENS = {"open": (None, "filename"), "openat": ("dfd", "filename")}
#: What moves a process's working directory, and what starts a process.
CWD = ("chdir", "fchdir")
FORKS = ("clone", "clone3", "fork", "vfork")

#: Paths no_writes_outside always allows: devices, and Python's bytecode cache.
ALWAYS_ALLOWED = ("/dev/null", "/dev/zero", "/dev/full", "/dev/tty", "/dev/pts", "/dev/shm")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "no_network: fail the test if it (or a process it starts) connects or sends to an "
        "internet address off this host (systrace)",
    )
    config.addinivalue_line(
        "markers",
        "no_writes_outside(*dirs): fail the test if it (or a process it starts) opens a file for "
        "writing, creates, renames, truncates or removes one outside dirs and its tmp_path (systrace)",
    )
    config.addinivalue_line(
        "markers",
        "syscalls(*syscalls, **enable_kwargs): what the `syscalls` fixture traces (systrace.enable's "
        "arguments; default: every syscall, with strings)",
    )


@pytest.fixture
def syscalls(request: pytest.FixtureRequest) -> Iterator["systrace.Session"]:
    """A systrace Session tracing the test's process and the processes it
    forks: every syscall with strings=True (whole paths: string_size 4096),
    or what the `syscalls` marker says. Close it to read everything
    (`syscalls.close(); syscalls.calls()`); it is closed after the test
    anyway."""
    import systrace

    marker = request.node.get_closest_marker("syscalls")
    args: Sequence[Union[str, int]] = marker.args if marker else ()
    given = marker.kwargs if marker else {}
    kwargs = {"strings": True, "follow": not given.get("all_processes", False), **given}
    if kwargs["strings"] and "string_size" not in kwargs:
        kwargs["string_size"] = CAPTURE
    session = systrace.enable(*args, **kwargs)
    try:
        yield session
    finally:
        session.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, "Result[None]", None]:
    network = item.get_closest_marker("no_network") is not None
    writes = item.get_closest_marker("no_writes_outside")
    if not network and writes is None:
        yield
        return
    import systrace

    names = set(systrace.syscall_names())
    wanted = list(NETWORK) if network else []
    if writes is not None:
        wanted += [*WRITES, *OPENS, *CWD, *FORKS]
    session = systrace.enable(*(n for n in wanted if n in names), strings=True, string_size=CAPTURE, follow=True)
    try:
        outcome = yield
    finally:
        session.close()
    calls = session.calls(resolve_paths=True)
    problems: List[str] = []
    if network:
        for call in calls:
            address = _remote(call)
            if address is not None:
                problems.append(f"no_network: {_line(call)}  (to {address.address} port {address.port})")
    if writes is not None:
        allowed = [*map(os.fspath, writes.args), *ALWAYS_ALLOWED]
        tmp_path = getattr(item, "funcargs", {}).get("tmp_path")
        if tmp_path is not None:
            allowed.append(os.fspath(tmp_path))
        problems += [
            f"no_writes_outside: {_line(c)}  (writes {path})" for c, path in _writes_outside(calls, allowed)
        ]
    if problems and outcome.excinfo is None:
        message = "the test did what its markers forbid:\n  " + "\n  ".join(problems)
        try:
            pytest.fail(message, pytrace=False)
        except pytest.fail.Exception as err:
            outcome.force_exception(err)


def _line(call: "systrace.Call") -> str:
    return f"[pid {call.pid}] {call.strace(CAPTURE, column=0)}"


def _remote(call: "systrace.Call") -> Optional["systrace.SockAddr"]:
    """The internet address off this host a connect or sendto went to."""
    import systrace

    if call.name not in NETWORK:
        return None
    address = systrace.sockaddr(call.arg_bytes("uservaddr" if call.name == "connect" else "addr"))
    return address if address is not None and address.remote else None


def _writes_open(call: "systrace.Call") -> bool:
    flags = call.arg_int("flags")
    return (flags & os.O_ACCMODE) != os.O_RDONLY or bool(flags & (os.O_CREAT | os.O_TRUNC))


def _writes_outside(
    calls: Iterable["systrace.Call"], allowed: List[str]
) -> Iterator[Tuple["systrace.Call", str]]:
    """The calls that wrote outside `allowed`, and the path each wrote: the
    paths are systrace's (Call.paths, read with resolve_paths=True), which
    follow each process's working directory and the directory fds it
    opened; a path that could not be resolved counts as outside."""
    roots = [os.path.realpath(d) for d in allowed]

    def inside(path: str) -> bool:
        if "/__pycache__/" in path:
            return True
        real = os.path.realpath(path)
        return any(real == root or real.startswith(root.rstrip("/") + "/") for root in roots)

    for call in calls:
        ret = call.ret
        if ret is None or ret < 0:
            continue  # it never returned, or failed: nothing was written
        paths = call.paths or {}
        if call.name in OPENS:
            if _writes_open(call):
                path = paths.get(OPENS[call.name][1], "<unresolved path>")
                if not inside(path):
                    yield call, path
            continue
        for _, arg in WRITES.get(call.name, ()):
            path = paths.get(arg, "<unresolved path>")
            if not inside(path):
                yield call, path
                break
