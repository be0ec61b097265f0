"""Running a command traced from its first instruction: `systrace.run()`,
and the launcher it shares with the `systrace -- CMD` command; and how a
process that is not ours ended (`systrace -p`).

The command's process is made and held before its execve
(`systrace._native.Launch`) until a session tracing it is open; the
session takes its events from that execve on (what the launcher did in the
child before is not the command's), so nothing of the caller and nothing
before the command's own start is in the trace. The command starts as it
would untraced: the caller's environment, fds and signal mask; SIGPIPE and
SIGXFSZ (which Python ignores) at their default, as subprocess does.
"""
from __future__ import annotations

import errno
import os
import signal
import time

from . import _native
from ._exec import launch, resolve
from ._session import Session, check_flags
from ._watch import Watched

# subprocess, selectors and typing are imported by run() only: the command
# launches with launch() alone, and they were 1.6 MB of its RSS (issue 15).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import IO, Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

    from ._session import SyscallSpec

    StrOrBytesPath = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]
    #: What stdin=, stdout= and stderr= take, as subprocess: None (inherit),
    #: subprocess.PIPE, subprocess.DEVNULL, subprocess.STDOUT (stderr only), an
    #: fd, or a file object.
    File = Union[None, int, IO[Any]]

__all__ = ["CompletedSession", "Watched", "launch", "resolve", "run"]


class CompletedSession(Session):
    """What `systrace.run()` returns: the closed session of a command that
    has ended, with the command's end as subprocess.CompletedProcess tells
    it: `args`, `returncode` (negative: the signal that killed it), and
    `stdout` and `stderr` when captured (else None). `pid` is the command's
    process id."""

    __slots__ = ("args", "pid", "returncode", "stdout", "stderr")

    args: Sequence[str]
    pid: int
    returncode: int
    stdout: Any
    stderr: Any

    def check_returncode(self) -> None:
        """Raise subprocess.CalledProcessError if the command failed."""
        import subprocess

        if self.returncode:
            raise subprocess.CalledProcessError(self.returncode, self.args, self.stdout, self.stderr)

    def __repr__(self) -> str:
        return f"{super().__repr__()[:-1]} returncode={self.returncode}>"


class _Stdio:
    """The fds the child gets and the pipes the parent keeps, as subprocess
    sets them up."""

    def __init__(self, stdin: File, stdout: File, stderr: File, has_input: bool) -> None:
        import subprocess

        self.to_close: List[int] = []  # the child's ends, closed once it runs
        self.stdin_w: Optional[int] = None
        self.out_r: Dict[str, int] = {}  # "stdout"/"stderr" -> read end
        if has_input:
            if stdin is not None:
                raise ValueError("stdin and input arguments may not both be used")
            stdin = subprocess.PIPE
        self.child: List[Optional[int]] = [None, None, None]
        self.child[0] = self._fd(stdin, "stdin")
        self.child[1] = self._fd(stdout, "stdout")
        if stderr == subprocess.STDOUT:
            self.child[2] = self.child[1] if self.child[1] is not None else 1
        else:
            self.child[2] = self._fd(stderr, "stderr")

    def _fd(self, spec: File, name: str) -> Optional[int]:
        import subprocess

        if spec is None:
            return None
        if spec == subprocess.PIPE:
            r, w = os.pipe()
            if name == "stdin":
                self.stdin_w = w
                self.to_close.append(r)
                return r
            self.out_r[name] = r
            self.to_close.append(w)
            return w
        if spec == subprocess.DEVNULL:
            fd = os.open(os.devnull, os.O_RDWR | os.O_CLOEXEC)
            self.to_close.append(fd)
            return fd
        if isinstance(spec, int):
            if spec < 0:
                raise ValueError(f"{name}={spec}: not a file descriptor nor subprocess.PIPE/DEVNULL")
            return spec
        return spec.fileno()

    def close_child_ends(self) -> None:
        for fd in self.to_close:
            os.close(fd)
        self.to_close = []

    def close_all(self) -> None:
        self.close_child_ends()
        for fd in [self.stdin_w, *self.out_r.values()]:
            if fd is not None:
                os.close(fd)
        self.stdin_w = None
        self.out_r = {}


class _Expired(Exception):
    """The deadline passed, with what the command wrote so far."""

    def __init__(self, output: Dict[str, bytes]) -> None:
        super().__init__()
        self.output = output


def _wait(pid: int, pidfd: int, stdio: _Stdio, data: bytes, deadline: Optional[float]) -> Tuple[int, Dict[str, bytes]]:
    """Feeds `data` to the command, reads what it writes to the pipes and
    waits for its end (and for the pipes' EOF), as Popen.communicate().
    Returns its wait status and the output; raises _Expired past the
    deadline."""
    import select
    import selectors

    # Bytes written to a pipe at once, as subprocess writes them.
    pipe_buf: int = getattr(select, "PIPE_BUF", 512)
    chunks: Dict[str, List[bytes]] = {name: [] for name in stdio.out_r}
    status: Optional[int] = None
    with selectors.DefaultSelector() as sel:
        sel.register(pidfd, selectors.EVENT_READ, "exit")
        for name, fd in stdio.out_r.items():
            sel.register(fd, selectors.EVENT_READ, name)
        offset = 0
        if stdio.stdin_w is not None:
            if data:
                sel.register(stdio.stdin_w, selectors.EVENT_WRITE, "stdin")
            else:
                os.close(stdio.stdin_w)
                stdio.stdin_w = None
        while sel.get_map():
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                raise _Expired({name: b"".join(parts) for name, parts in chunks.items()})
            for key, _ in sel.select(remaining):
                fd = key.fd
                if key.data == "exit":
                    sel.unregister(fd)
                    _, status = os.waitpid(pid, 0)
                elif key.data == "stdin":
                    try:
                        offset += os.write(fd, data[offset : offset + pipe_buf])
                    except BrokenPipeError:
                        offset = len(data)
                    if offset >= len(data):
                        sel.unregister(fd)
                        os.close(fd)
                        stdio.stdin_w = None
                else:
                    chunk = os.read(fd, 32768)
                    if chunk:
                        chunks[key.data].append(chunk)
                    else:
                        sel.unregister(fd)
                        os.close(fd)
                        del stdio.out_r[key.data]
    assert status is not None
    return status, {name: b"".join(parts) for name, parts in chunks.items()}


def run(
    args: Sequence[StrOrBytesPath],
    *syscalls: SyscallSpec,
    stdin: File = None,
    input: Union[bytes, str, None] = None,
    stdout: File = None,
    stderr: File = None,
    capture_output: bool = False,
    cwd: Optional[StrOrBytesPath] = None,
    env: Optional[Mapping[str, str]] = None,
    timeout: Optional[float] = None,
    check: bool = False,
    text: bool = False,
    encoding: Optional[str] = None,
    errors: Optional[str] = None,
    follow: bool = True,
    enter: bool = True,
    exit: bool = True,
    buffer_size: Optional[int] = None,
    strings: bool = False,
    string_size: Optional[int] = None,
    max_memory: Optional[int] = None,
    max_spill: Optional[int] = None,
    filter: Union[str, Mapping[Union[str, int], str], None] = None,
    clock: bool = True,
) -> CompletedSession:
    """Run command `args` traced, as subprocess.run() runs it, and return its
    closed session (a CompletedSession: a Session with `returncode`).

    The session traces the command from its execve on: none of the caller's
    syscalls, none of the launcher's in the child before the execve. With
    follow=True (the default) the processes it forks are traced too, from
    their first syscall; run() waits for the command itself, as subprocess
    does, and what its children do after it ended is not in the session.

    syscalls and enter, exit, buffer_size, strings, string_size, follow,
    max_memory, max_spill, filter, clock: as systrace.enable(). Every event is kept until
    you read the session (the ring buffer is drained while the command runs):
    packed in memory up to max_memory, then in a temporary file up to
    max_spill; past both, events are dropped and counted.

    stdin, input, stdout, stderr, capture_output, cwd, env, timeout, check,
    text, encoding, errors: as subprocess.run(). A timeout kills the command
    (SIGKILL) and raises subprocess.TimeoutExpired; check=True raises
    subprocess.CalledProcessError when it fails. A command that cannot be
    found raises FileNotFoundError, one that cannot be executed
    PermissionError (or the OSError of its execve), before anything runs.
    """
    import locale
    import subprocess

    if isinstance(args, (str, bytes)) or not args:
        raise TypeError("args must be a non-empty sequence of program and arguments, as subprocess.run([...])")
    argv = [os.fsdecode(a) for a in args]
    if capture_output:
        if stdout is not None or stderr is not None:
            raise ValueError("stdout and stderr arguments may not be used with capture_output")
        stdout = stderr = subprocess.PIPE
    text_mode = bool(text or encoding or errors)
    if text_mode:
        encoding = encoding or locale.getpreferredencoding(False)
        errors = errors or "strict"
    data = b""
    if input is not None:
        if isinstance(input, str):
            if not text_mode:
                raise TypeError("input is a str: pass text=True (or bytes)")
            data = input.encode(encoding or "utf-8", errors or "strict")
        else:
            data = bytes(input)
    cwd_s = None if cwd is None else os.fsdecode(cwd)
    env_s = None if env is None else {os.fsdecode(k): os.fsdecode(v) for k, v in env.items()}
    options: Dict[str, Any] = dict(enter=enter, exit=exit, strings=strings, follow=follow, clock=clock)
    check_flags(**options, check=check, capture_output=capture_output)
    options.update(
        buffer_size=buffer_size, string_size=string_size, max_memory=max_memory, max_spill=max_spill, filter=filter
    )
    if cwd_s is not None and not os.path.isdir(cwd_s):
        code = errno.ENOTDIR if os.path.exists(cwd_s) else errno.ENOENT
        raise OSError(code, os.strerror(code), cwd_s)
    deadline = None if timeout is None else time.monotonic() + timeout

    stdio = _Stdio(stdin, stdout, stderr, input is not None)
    try:
        child = launch(argv, env=env_s, cwd=cwd_s, stdin=stdio.child[0], stdout=stdio.child[1],
                       stderr=stdio.child[2])
        stdio.close_child_ends()
        try:
            session = CompletedSession(*syscalls, **options, _launched=child.pid)
        except BaseException:
            child.cancel()
            raise
        try:
            child.start()
        except BaseException:
            session.close()
            raise
        pidfd = os.pidfd_open(child.pid)  # not reaped yet: it is the command
        try:
            status, output = _wait(child.pid, pidfd, stdio, data, deadline)
        except BaseException as err:
            # A timeout, Ctrl-C, anything: the command does not outlive run().
            try:
                signal.pidfd_send_signal(pidfd, signal.SIGKILL)
                os.waitpid(child.pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass  # reaped already
            session.close()
            if isinstance(err, _Expired):
                out, errs = (_decoded(err.output.get(n), text_mode, encoding, errors) for n in ("stdout", "stderr"))
                raise subprocess.TimeoutExpired(argv, timeout or 0, out, errs) from None
            raise
        finally:
            os.close(pidfd)
    finally:
        stdio.close_all()
    session.close()
    session.args = list(argv)
    session.pid = child.pid
    session.returncode = os.waitstatus_to_exitcode(status)
    session.stdout = _decoded(output.get("stdout"), text_mode, encoding, errors)
    session.stderr = _decoded(output.get("stderr"), text_mode, encoding, errors)
    if check:
        session.check_returncode()
    return session


def _decoded(data: Optional[bytes], text_mode: bool, encoding: Optional[str], errors: Optional[str]) -> Any:
    """Output as subprocess returns it: bytes, or str with universal newlines."""
    if data is None or not text_mode:
        return data
    return data.decode(encoding or "utf-8", errors or "strict").replace("\r\n", "\n").replace("\r", "\n")
