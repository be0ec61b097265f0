"""The command's process, made and held before its execve: what
`systrace.run()` and the `systrace -- CMD` command share. Apart from
`_launch` so that the command can make its process before its BPF load
starts (`_cli_start`): nothing here imports more than `os`.
"""
from __future__ import annotations

import errno
import os
import stat

from . import _native

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import List, Mapping, Optional, Sequence, Tuple

__all__ = ["launch", "resolve"]


def resolve(name: str, env: Optional[Mapping[str, str]] = None, cwd: Optional[str] = None) -> str:
    """The executable `name` runs, looked up in the PATH of `env` (default:
    this process's) when it has no `/`, as execvp does; a path with a `/` is
    relative to `cwd`. Raises FileNotFoundError or PermissionError, as
    subprocess would, before anything is started."""
    if "/" in name:
        candidates = [name]
    else:
        candidates = [os.path.join(d, name) for d in os.get_exec_path(env) if d]
    denied = False
    for path in candidates:
        full = os.path.join(cwd, path) if cwd else path
        try:
            mode = os.stat(full).st_mode
        except OSError:
            continue
        if stat.S_ISREG(mode) and os.access(full, os.X_OK):
            return path
        denied = True
    code = errno.EACCES if denied else errno.ENOENT
    raise OSError(code, os.strerror(code), name)


def launch(
    argv: Sequence[str],
    *,
    env: Optional[Mapping[str, str]] = None,
    cwd: Optional[str] = None,
    stdin: Optional[int] = None,
    stdout: Optional[int] = None,
    stderr: Optional[int] = None,
    user: Optional[Tuple[int, int, List[int]]] = None,
) -> _native.Launch:
    """Makes the process of command `argv`, held before its execve: open the
    session on its pid (`_launched=pid`), then `start()` it. user: (uid,
    gid, supplementary groups) the process takes before it waits."""
    if not argv:
        raise ValueError("the command is empty: it needs at least a program")
    path = resolve(argv[0], env, cwd)
    return _native.Launch(
        path,
        list(argv),
        env=None if env is None else list(env.items()),
        cwd=cwd,
        stdin=stdin,
        stdout=stdout,
        stderr=stderr,
        user=user,
    )
