"""Paths that mean something: the fd table behind Call.path, Call.fd_paths
and the command's -y/-yy, against the kernel's own answers (os.fstat,
getsockname) and against `strace -y` on real programs."""
from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import textwrap
import time

import pytest

import systrace
from conftest import require


def test_calls_resolve_paths_against_dirfds_and_cwd(kernel, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "data").write_text("hello")
    cwd = os.getcwd()
    with systrace.enable(
        "openat", "read", "mkdirat", "renameat2", "renameat", "close", "chdir", strings=True, string_size=4096
    ) as s:
        d = os.open(outside, os.O_RDONLY | os.O_DIRECTORY)
        f = os.open("data", os.O_RDONLY, dir_fd=d)
        os.read(f, 5)
        os.mkdir("sub", dir_fd=d)
        os.rename("sub", "sub2", src_dir_fd=d, dst_dir_fd=d)
        os.chdir(outside)
        try:
            g = os.open("../outside/./data", os.O_RDONLY)
        finally:
            os.chdir(cwd)
        os.close(g)
        os.close(f)
        os.close(d)
    calls = s.calls(resolve_paths=True)
    out = str(outside)
    opens = [c for c in calls if c.name == "openat" and c.ret_path is not None and str(outside) in c.ret_path]
    assert [c.path for c in opens] == [out, f"{out}/data", f"{out}/data"]
    # The dirfd, what it refers to; the returned fd, what it refers to.
    assert opens[1].fd_paths == {"dfd": out}
    assert opens[1].ret_path == f"{out}/data"
    assert opens[2].fd_paths == {"dfd": out}  # AT_FDCWD: the cwd after chdir
    (read,) = [c for c in calls if c.name == "read" and c.raw_args[0] == f]
    assert read.fd_paths == {"fd": f"{out}/data"}
    assert read.path is None and read.paths == {}
    (mkdir,) = [c for c in calls if c.name == "mkdirat"]
    assert mkdir.path == f"{out}/sub"
    (rename,) = [c for c in calls if c.name.startswith("renameat")]
    assert rename.paths == {"oldname": f"{out}/sub", "newname": f"{out}/sub2"}
    # close(f) names the file it closed.
    (close,) = [c for c in calls if c.name == "close" and c.raw_args[0] == f]
    assert close.fd_paths == {"fd": f"{out}/data"}
    assert f"read({f}<{out}/data>, " in read.strace(decode_fds=True)
    assert opens[1].strace(decode_fds=True).endswith(f"= {f}<{out}/data>")
    assert read.to_dict()["fd_paths"] == {"fd": f"{out}/data"}


def test_calls_without_resolve_paths_say_so(kernel, tmp_path):
    with systrace.enable("openat", strings=True, string_size=4096) as s:
        os.close(os.open(tmp_path, os.O_RDONLY))
    call = next(c for c in s.calls() if c.name == "openat")
    assert call.path is None and call.paths is None and call.fd_paths is None and call.ret_path is None
    with pytest.raises(ValueError, match="resolve_paths"):
        call.strace(decode_fds=True)
    with systrace.enable("openat", strings=True, string_size=4096) as s:
        os.close(os.open(tmp_path, os.O_RDONLY))
    # A closed session's calls, through the module's function.
    assert any(c.ret_path == str(tmp_path) for c in systrace.calls(s, resolve_paths=True))
    # A path cut by string_size is not the path the call used: unknown.
    assert len(str(tmp_path)) > 8
    with systrace.enable("openat", strings=True, string_size=8) as s:
        os.close(os.open(tmp_path, os.O_RDONLY))
    (cut,) = [c for c in systrace.calls(s, resolve_paths=True) if c.ret is not None and c.ret >= 0]
    assert cut.paths == {} and cut.path is None


def test_iter_calls_resolves_symlinks_as_the_kernel(kernel, tmp_path):
    (tmp_path / "real").write_text("x")
    os.symlink("real", tmp_path / "link")
    with systrace.enable("openat", "close", strings=True, string_size=4096) as s:
        fd = os.open(tmp_path / "link", os.O_RDONLY)
        os.close(fd)
    calls = [c for c in systrace.iter_calls(s, resolve_paths=True) if c.name == "openat" and c.ret == fd]
    # The path argument is the name used; the fd is what /proc/PID/fd shows.
    assert calls[-1].path == str(tmp_path / "link")
    assert calls[-1].ret_path == str(tmp_path / "real")


def _trace_both(tmp_path, options, argv, cwd=None):
    """(strace's, systrace's) trace text of `argv`, stdout and stdin on
    files both runs share (a pipe would be a different pipe each run)."""
    strace = shutil.which("strace")
    if strace is None:
        require("strace is not installed (apt-get install strace)")
    texts = []
    for name, tracer in (("strace", [strace]), ("systrace", [sys.executable, "-m", "systrace"])):
        out = tmp_path / f"{name}.trace"
        with open(tmp_path / "stdout", "wb") as stdout, open(os.devnull, "rb") as stdin:
            with open(tmp_path / "stderr", "w+b") as stderr:
                r = subprocess.run(
                    [*tracer, "-o", str(out), *options, "--", *argv],
                    stdin=stdin,
                    stdout=stdout,
                    stderr=stderr,
                    cwd=cwd,
                    timeout=120,
                    env={**os.environ, "LC_ALL": "C"},
                )
                stderr.seek(0)
                assert r.returncode == 0, stderr.read()
        texts.append(out.read_text(errors="surrogateescape"))
    return texts


# Calls whose every argument both decode: the lines must be equal.
Y_SET = "trace=openat,read,write,close,lseek,dup,dup2,fcntl,fchdir"


@pytest.mark.parametrize(
    "argv",
    [
        ["cat", "/etc/hostname", "/etc/passwd"],
        # (-l would look users up through a socket, whose inode only a
        # process that lives long enough to be read in /proc tells.)
        ["ls", "-a", "/etc/ssl"],
        ["tar", "--numeric-owner", "-cf", "-", "/etc/hostname", "/etc/ssl/certs/ca-certificates.crt"],
    ],
    ids=["cat", "ls", "tar"],
)
def test_y_like_strace(kernel, tmp_path, argv):
    assert shutil.which(argv[0])
    theirs, ours = _trace_both(tmp_path, ["-y", "-s", "16", "-e", Y_SET], argv)
    assert ours.splitlines() == theirs.splitlines()
    assert "AT_FDCWD</" in ours
    assert ("</etc/hostname>" in ours) == (argv[0] != "ls")


@pytest.mark.parametrize("spec", ["dev", "path,dev", "!dev", "none", "socket", "all", "!!path"])
def test_decode_fds_shows_the_kinds_in_its_set_like_strace(kernel, tmp_path, spec):
    # Each kind alone: --decode-fds=dev shows a device's numbers and no
    # path (it showed every path, as -yy).
    theirs, ours = _trace_both(tmp_path, [f"--decode-fds={spec}", "-e", "trace=openat,read,close"],
                               ["head", "-c1", "/dev/zero"])
    assert ours.splitlines() == theirs.splitlines()
    assert ("</dev/zero<char 1:5>>" in ours) == (spec in ("dev", "path,dev", "all"))
    assert ("</etc/ld.so.cache>" in ours) == (spec in ("path,dev", "!dev", "all", "!!path"))


PIDFD_PROGRAM = textwrap.dedent(
    """
    import os, time
    pid = os.fork()
    if pid == 0:
        time.sleep(0.2)
        os._exit(0)
    fd = os.pidfd_open(pid)
    os.waitid(os.P_PIDFD, fd, os.WEXITED)
    os.close(fd)
    """
)


@pytest.mark.parametrize("options", [["-yy"], ["-y"], ["--decode-fds=pidfd"]])
def test_a_pidfd_shows_its_process_until_it_is_reaped_like_strace(kernel, tmp_path, options):
    # -yy: `3<pid:N>` while the process is there, its path once reaped;
    # waitid's P_PIDFD id is an fd (it showed a bare 3, even under -y).
    (tmp_path / "pidfd.py").write_text(PIDFD_PROGRAM)
    texts = _trace_both(tmp_path, [*options, "-e", "trace=pidfd_open,waitid,close", "-e", "signal=none"],
                        ["/usr/bin/python3", str(tmp_path / "pidfd.py")])
    shown = []
    for text in texts:
        lines = text.splitlines()
        start = next(i for i, line in enumerate(lines) if line.startswith("pidfd_open("))
        lines = [line for line in lines[start:] if line.startswith(("pidfd_open(", "waitid(", "close(3"))]
        pid = re.search(r"pidfd_open\((\d+),", text).group(1)
        # The calls' fds and what each shows (waitid's siginfo is the same
        # kernel's, whose times are the child's own).
        shown.append([re.sub(r"\{si_signo=.*\}", "{...}", line).replace(pid, "PID") for line in lines])
    theirs, ours = shown
    assert ours == theirs
    assert len(ours) == 3 and ("3<pid:PID>" in ours[1]) == (options != ["-y"]), ours


PTY_PROGRAM = textwrap.dedent(
    """
    import os, pty, termios, time
    m, s = pty.openpty()
    os.set_inheritable(s, True)
    os.set_inheritable(s, False)
    os.set_inheritable(s, True)
    termios.tcgetattr(s)
    time.sleep(0.5)  # the tracer reads the peer's name in /proc while it is open
    """
)


def test_y_knows_a_pty_peer_and_close_on_exec_set_by_ioctl_like_strace(kernel, tmp_path):
    # openpty's slave comes from ioctl(TIOCGPTPEER) (it showed as a bare 4),
    # named as /proc names it; FIOCLEX/FIONCLEX set what an exec keeps.
    (tmp_path / "openpty.py").write_text(PTY_PROGRAM)
    texts = _trace_both(tmp_path, ["-y", "-qq", "-e", "trace=ioctl", "-e", "signal=none"],
                        ["/usr/bin/python3", str(tmp_path / "openpty.py")])
    # (A failed TCGETS shows its pointer, different each run.)
    theirs, ours = ([re.sub(r"0x[0-9a-f]{8,}", "ADDR", re.sub(r"^\d+ +", "", line))
                     for line in join_cut_calls(t).splitlines()] for t in texts)
    assert ours == theirs
    text = "\n".join(ours)
    assert re.search(r"ioctl\(3</dev/ptmx>, TIOCGPTPEER, 0x102\) = 4\n", text), text
    assert re.search(r"ioctl\(4</dev/pts/\d+>, FIONCLEX\)", text), text
    assert re.search(r"ioctl\(4</dev/pts/\d+>, TCGETS, \{", text), text


SPAWN_PROGRAM = textwrap.dedent(
    """
    import fcntl, os, signal, termios
    tracer = os.getppid()
    # Under systrace, stop it while the child runs and is reaped: the child
    # is gone from /proc when its lines are printed (as it may be on a busy
    # machine), and strace, which stops the child at each call, needs none.
    stopping = os.path.basename(os.readlink(f"/proc/{tracer}/exe")) != "strace"
    fd = os.open("/etc/passwd", os.O_RDONLY)
    os.dup2(fd, 9)
    fcntl.ioctl(9, termios.FIOCLEX)
    if stopping:
        os.kill(tracer, signal.SIGSTOP)
    try:
        # posix_spawn: a vfork'd child (clone3 CLONE_VM|CLONE_VFORK) whose
        # dup2, close and exec come before its parent's clone3 returns.
        pid = os.posix_spawn("/bin/sh", ["sh", "-c", "exec 9<&- 5<&-"], os.environ,
                             file_actions=[(os.POSIX_SPAWN_DUP2, fd, 5), (os.POSIX_SPAWN_CLOSE, fd)])
        os.waitpid(pid, 0)
    finally:
        if stopping:
            os.kill(tracer, signal.SIGCONT)
    """
)


def test_y_gives_a_vfork_child_its_parents_fds_and_drops_fioclex_ones_at_exec_like_strace(kernel, tmp_path):
    # The child's fds are its parent's as of the fork, though the child has
    # exited (and is gone from /proc) before its lines print: they showed as
    # bare numbers. After the child's exec, fd 9, which FIOCLEX made
    # close-on-exec, is closed: sh's fcntl(9, ...) fails and shows 9 alone;
    # fd 5, from posix_spawn's dup2, stays open.
    (tmp_path / "spawn.py").write_text(SPAWN_PROGRAM)
    texts = _trace_both(tmp_path, ["-f", "-y", "-qq", "-e", "trace=dup2,close,fcntl,ioctl", "-e", "signal=none"],
                        ["/usr/bin/python3", str(tmp_path / "spawn.py")])
    # (A failed TCGETS shows its pointer, different each run.)
    theirs, ours = ([re.sub(r"0x[0-9a-f]{8,}", "ADDR", re.sub(r"^\d+ +", "", line))
                     for line in join_cut_calls(t).splitlines()] for t in texts)
    assert ours == theirs
    text = re.sub(r" +=", " =", "\n".join(ours))
    child = text[text.index("ioctl(9</etc/passwd>, FIOCLEX) = 0\n"):]
    assert "\ndup2(3</etc/passwd>, 5) = 5</etc/passwd>\nclose(3</etc/passwd>) = 0\n" in child, text
    assert "\nfcntl(9, F_DUPFD, 10) = -1 EBADF " in child, text
    assert re.search(r"\nfcntl\(5</etc/passwd>, F_DUPFD, 10\) = (\d+)</etc/passwd>\n", child), text


DIRFD_PROGRAM = textwrap.dedent(
    """
    import os, sys
    d = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECTORY)
    f = os.open("file", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644, dir_fd=d)
    os.write(f, b"x")
    g = os.dup(f)
    os.close(f)
    os.fchdir(d)
    h = os.open("file", os.O_RDONLY)
    os.read(h, 1)
    os.close(h)
    os.close(g)
    """
)


def test_y_like_strace_with_dirfds(kernel, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    prog = tmp_path / "dirfd.py"
    prog.write_text(DIRFD_PROGRAM)
    theirs, ours = _trace_both(tmp_path, ["-y", "-e", Y_SET], [sys.executable, str(prog), str(work)])
    assert ours.splitlines() == theirs.splitlines()
    assert re.search(rf'openat\(\d+<{re.escape(str(work))}>, "file", ', ours)
    assert re.search(rf'read\(\d+<{re.escape(str(work))}/file>, "x", 1\)', ours)


SOCKET_PROGRAM = textwrap.dedent(
    """
    import os, socket, sys, time
    def pause():
        time.sleep(0.3)  # the tracer reads /proc while the socket is there
    l = socket.socket(); pause()
    l.bind(("127.0.0.1", 0)); pause()
    l.listen(); pause()
    c = socket.socket(); pause()
    c.connect(l.getsockname()); pause()
    a, _ = l.accept(); pause()
    c.send(b"hi"); a.recv(2)
    for s in (l, c, a):
        print(os.fstat(s.fileno()).st_ino, s.fileno(), *s.getsockname(), *(s.getpeername() if s is not l else ()))
    sys.stdout.flush()
    c.close(); a.close(); l.close()
    """
)


def test_yy_socket_endpoints(kernel, tmp_path):
    prog = tmp_path / "sock.py"
    prog.write_text(SOCKET_PROGRAM)
    traces = {}
    for y in ("-y", "-yy"):
        out = tmp_path / f"{y}.trace"
        r = subprocess.run(
            [sys.executable, "-m", "systrace", y, "-o", str(out), "-e", "trace=socket,connect,sendto,close", "--",
             sys.executable, str(prog)],
            capture_output=True, text=True, timeout=60,
        )
        assert r.returncode == 0, r.stderr
        traces[y] = (out.read_text(), r.stdout.split("\n"))
    text, rows = traces["-y"]
    ino_l, fd_l = rows[0].split()[:2]
    ino_c, fd_c, ip, port_c, _, port_l = rows[1].split()
    assert f"= {fd_c}<socket:[{ino_c}]>" in text
    assert f"sendto({fd_c}<socket:[{ino_c}]>, " in text
    text, rows = traces["-yy"]
    ino_c, fd_c, ip, port_c, _, port_l = rows[1].split()
    ino_a, fd_a, _, _, _, _ = rows[2].split()
    # Unbound: the inode; then the endpoints as the kernel has them.
    assert f"socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_IP) = {fd_c}<TCP:[{ino_c}]>" in text
    assert f"connect({fd_c}<TCP:[{ino_c}]>, " in text
    assert f"close({fd_c}<TCP:[127.0.0.1:{port_c}->127.0.0.1:{port_l}]>)" in text
    assert f"close({fd_a}<TCP:[127.0.0.1:{port_l}->127.0.0.1:{port_c}]>)" in text


NONBLOCKING_CONNECT = textwrap.dedent(
    """
    import socket, time
    l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen()
    c = socket.socket(); c.setblocking(False)
    try:
        c.connect(l.getsockname())  # EINPROGRESS, as curl's and asyncio's
    except BlockingIOError:
        pass
    time.sleep(0.3)  # the tracer reads /proc while the socket is there
    c.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
    time.sleep(0.3)
    c.close(); l.close()
    """
)


def test_yy_endpoints_after_a_nonblocking_connect_like_strace(kernel, tmp_path):
    """A connect that returns EINPROGRESS has bound the socket and set its
    peer: strace -yy shows `TCP:[127.0.0.1:A->127.0.0.1:B]` from the next
    call on (curl, wget, node and asyncio connect so), where systrace
    showed the inode to the socket's close."""
    prog = tmp_path / "nbconnect.py"
    prog.write_text(NONBLOCKING_CONNECT)
    texts = _trace_both(tmp_path, ["-yy", "-e", "trace=connect,getsockopt,close"], ["python3", str(prog)])
    lines = []
    for text in texts:
        # Each run has its own ports and inodes.
        text = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", text)
        text = re.sub(r"TCP:\[\d+\]", "TCP:[INODE]", text)
        text = re.sub(r"htons\(\d+\)", "htons(PORT)", text)
        lines.append([re.sub(r"\s+= ", " = ", ln) for ln in text.splitlines() if "TCP:[" in ln])
    theirs, ours = lines
    assert "getsockopt(4<TCP:[127.0.0.1:PORT->127.0.0.1:PORT]>, SOL_SOCKET, SO_ERROR, [0], [4]) = 0" in theirs
    assert ours == theirs


ACCEPT_AND_END = textwrap.dedent(
    """
    import socket, sys, time
    l = socket.socket(socket.AF_INET6 if sys.argv[1] == "6" else socket.AF_INET)
    host = "::1" if sys.argv[1] == "6" else "127.0.0.1"
    every = "::" if sys.argv[1] == "6" else "0.0.0.0"
    l.bind((every if sys.argv[2] == "any" else host, 0)); l.listen()
    time.sleep(0.3)  # the tracer reads the listening socket's address
    c = socket.create_connection((host, l.getsockname()[1]))
    a, _ = l.accept()
    a.close(); c.close()  # and ends before the tracer reads the others
    """
)


@pytest.mark.parametrize("family", ["4", "6"])
@pytest.mark.parametrize("bound", ["one", "any"])
def test_yy_endpoints_of_a_socket_accepted_and_closed_at_once_like_strace(kernel, tmp_path, family, bound):
    """A server that accepts and ends at once is gone before its calls are
    printed, so /proc cannot tell the accepted socket's endpoints; the
    programs read them at accept's exit, as strace -yy shows them: `=
    5<TCP:[127.0.0.1:A->127.0.0.1:B]>`, also from a socket listening on
    every address (`0.0.0.0`, `::`), where systrace could not tell the
    local one and showed `TCP:[INODE]`."""
    prog = tmp_path / "accept.py"
    prog.write_text(ACCEPT_AND_END)
    texts = _trace_both(tmp_path, ["-yy", "-e", "trace=bind,listen,accept4,close"],
                        ["python3", str(prog), family, bound])
    lines = []
    for text in texts:
        # Each run has its own ports and inodes.
        text = re.sub(r"(127\.0\.0\.1|0\.0\.0\.0|\[::1?\]):\d+", r"\1:PORT", text)
        text = re.sub(r"htons\(\d+\)", "htons(PORT)", text)
        text = re.sub(r"(TCP|TCPv6):\[\d+\]", r"\1:[INODE]", text)
        lines.append([re.sub(r"\s+= ", " = ", ln) for ln in text.splitlines() if "accept4(" in ln or "close(5<" in ln])
    theirs, ours = lines
    proto, addr = ("TCPv6", "[::1]") if family == "6" else ("TCP", "127.0.0.1")
    assert f"close(5<{proto}:[{addr}:PORT->{addr}:PORT]>) = 0" in theirs
    assert ours == theirs


def _own_calls(tmp_path, script: str, calls: list, args: list, own: str) -> tuple:
    """(trace, own calls, stderr) of `systrace -yy -e CALLS python3 SCRIPT
    ARGS` run under `strace -f -e OWN`: what the command itself asks the
    kernel (its /proc reads) while it traces the script."""
    prog = tmp_path / "script.py"
    prog.write_text(script)
    out = tmp_path / "trace"
    command = [sys.executable, "-m", "systrace", "-yy", *(a for c in calls for a in ("-e", c)), "-o", str(out),
               "/usr/bin/python3", str(prog), *args]
    r = subprocess.run(["strace", "-f", "-qq", "-e", own, "-o", str(tmp_path / "own"), *command],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return out.read_text(), (tmp_path / "own").read_text(), r.stderr


ACCEPT_MANY = textwrap.dedent(
    """
    import socket, sys
    n = int(sys.argv[1])
    srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(n)
    keep = []
    for _ in range(n):
        keep.append(socket.create_connection(srv.getsockname()))
        keep.append(srv.accept()[0])
    """
)


def test_yy_names_accepted_sockets_from_their_ends_without_reading_proc(kernel, tmp_path):
    """The ends the programs read at accept's exit name the new socket
    with the listening socket's protocol: the command does not read
    /proc/PID/fd and /proc/PID/net/tcp for each accept (it did, and threw
    the answer away; a scan of every connection per accept is quadratic
    for a server holding many)."""
    n = 200
    trace, own, _ = _own_calls(tmp_path, ACCEPT_MANY, ["trace=accept4"], [str(n)], "trace=openat,readlink")
    accepted = re.findall(r"\) = \d+<TCP:\[127\.0\.0\.1:(\d+)->127\.0\.0\.1:(\d+)\]>$", trace, re.M)
    assert len(accepted) == n, trace[-2000:]
    # The fds the command found open at its start, not one per accept.
    assert len(re.findall(r'readlink\("/proc/\d+/fd/\d+"', own)) < 20, own[-3000:]
    assert "/net/tcp" not in own, own[-3000:]


SENDS_TO_AN_UNTRACED_SERVER = textwrap.dedent(
    """
    import os, socket, sys
    srv = socket.socket(socket.AF_UNIX); srv.bind(sys.argv[1]); srv.listen()
    if os.fork() == 0:  # the server, not followed without -f
        a = srv.accept()[0]
        while a.recv(4096): pass
        os._exit(0)
    c = socket.socket(socket.AF_UNIX); c.connect(sys.argv[1])
    for _ in range(int(sys.argv[2])): c.send(b"x")
    c.close(); os.wait()
    """
)


def test_yy_reads_no_proc_for_each_send_of_a_unix_client(kernel, tmp_path):
    """A unix stream client whose server is not traced keeps the ends its
    connect read (its peer unknown, as documented): a send does not make the
    command read /proc/PID/net/unix again, once per send (a scan of every
    unix socket of the machine, for a dbus or nscd client), nor count the
    socket among those it could not read when the client is gone."""
    n = 300
    trace, own, err = _own_calls(tmp_path, SENDS_TO_AN_UNTRACED_SERVER, ["trace=connect,sendto"],
                                 [str(tmp_path / "sock"), str(n)], "trace=openat")
    sent = re.findall(r'^sendto\(4<UNIX-STREAM:\[\d+\]>, "x", 1, 0, NULL, 0\) = 1$', trace, re.M)
    assert len(sent) == n, trace[-2000:]
    assert own.count("/net/unix") < 5, own[-3000:]
    assert "could not be read" not in err, err


CONNECTED_BEFORE_ATTACH = textwrap.dedent(
    """
    import socket, sys
    kind = socket.SOCK_SEQPACKET if sys.argv[2] == "seqpacket" else socket.SOCK_STREAM
    srv = socket.socket(socket.AF_UNIX, kind); srv.bind(sys.argv[1]); srv.listen()
    c = socket.socket(socket.AF_UNIX, kind); c.connect(sys.argv[1])
    print(flush=True)
    sys.stdin.readline()  # the tracer has attached
    a = srv.accept()[0]
    c.send(b"x"); a.recv(1)
    """
)


@pytest.mark.parametrize("kind", ["stream", "seqpacket"])
@pytest.mark.parametrize("tracer", ["strace", "systrace"])
def test_yy_names_the_peer_of_a_unix_client_connected_before_attach(kernel, tmp_path, tracer, kind):
    """A client connected before -p attached, accepted after: the accept
    gives it its peer, as sock_diag gives strace's. The command looks for
    the clients an accept names only among the unix sockets it saw
    connect or found open without a peer."""
    target = subprocess.Popen(["/usr/bin/python3", "-c", CONNECTED_BEFORE_ATTACH, str(tmp_path / "sock"), kind],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert target.stdout.readline() == "\n"
        argv = ["strace"] if tracer == "strace" else [sys.executable, "-m", "systrace"]
        p = subprocess.Popen([*argv, "-yy", "-e", "trace=accept4,sendto", "-p", str(target.pid)],
                             stderr=subprocess.PIPE, text=True)
        seen = p.stderr.readline()
        assert seen.endswith(f": Process {target.pid} attached\n"), seen
        target.stdin.write("\n")
        target.stdin.flush()
        _, err = p.communicate(timeout=60)
    finally:
        target.kill()
        target.wait()
    # The kernel names a seqpacket socket's protocol UNIX.
    proto = "UNIX-STREAM" if kind == "stream" else "UNIX"
    accepted = re.search(rf"accept4\(.*\) = \d+<{proto}:\[(\d+)->(\d+),", err)
    assert accepted, err
    assert f'sendto(4<{proto}:[{accepted[2]}->{accepted[1]}]>, "x", 1, 0, NULL, 0) = 1' in err, err
    assert "could not be read" not in err, err


CONNECT_AND_END = textwrap.dedent(
    """
    import os, select, socket, sys
    family = socket.AF_INET6 if sys.argv[1] == "6" else socket.AF_INET
    host = "::1" if sys.argv[1] == "6" else "127.0.0.1"
    l = socket.socket(family); l.bind((host, 0)); l.listen()
    u = socket.socket(family, socket.SOCK_DGRAM); u.bind((host, 0))
    if os.fork() == 0:
        # Connects, sends and ends before the tracer reads its calls.
        c = socket.create_connection(l.getsockname()[:2]); c.send(b"x")
        d = socket.socket(family, socket.SOCK_DGRAM); d.connect(u.getsockname()[:2]); d.send(b"y")
        n = socket.socket(family); n.listen(); n.close()  # bound by listen
        # A non-blocking connect under way (curl's): its ends are set.
        b = socket.socket(family); b.setblocking(False); b.connect_ex(l.getsockname()[:2])
        select.select([], [b], []); b.send(b"z")
        p, q = socket.socketpair(); p.send(b"w")
        os._exit(0)
    os.wait()
    """
)


@pytest.mark.parametrize("family", ["4", "6"])
def test_yy_endpoints_of_sockets_connected_by_a_process_that_ends_at_once_like_strace(kernel, tmp_path, family):
    """A client that connects, sends and ends is gone before its calls are
    printed, so /proc cannot tell its sockets' ends (the kernel picked the
    local port); the programs read them at connect's and listen's exit, and
    the lines after show them as strace -yy does:
    `sendto(3<TCP:[127.0.0.1:A->127.0.0.1:B]>, ...`, also after a
    non-blocking connect under way (EINPROGRESS). systrace showed
    `TCP:[INODE]` and said it could not read them."""
    prog = tmp_path / "connect.py"
    prog.write_text(CONNECT_AND_END)
    texts = _trace_both(tmp_path, ["-f", "-yy", "-e", "trace=connect,listen,sendto,close,socketpair"],
                        ["python3", str(prog), family])
    lines = []
    for text in texts:
        text = re.sub(r"^\d+\s+", "", text, flags=re.M)  # -f's pids
        text = re.sub(r"(127\.0\.0\.1|0\.0\.0\.0|\[::1?\]):\d+", r"\1:PORT", text)
        text = re.sub(r"htons\(\d+\)", "htons(PORT)", text)
        text = re.sub(r"(TCP|UDP|TCPv6|UDPv6):\[\d+\]", r"\1:[INODE]", text)
        lines.append([re.sub(r"\s+= ", " = ", ln) for ln in text.splitlines()
                      if re.search(r"(TCP|UDP)", ln) and "resumed" not in ln and "unfinished" not in ln])
    theirs, ours = lines
    proto, addr = ("TCPv6", "[::1]") if family == "6" else ("TCP", "127.0.0.1")
    udp = "UDPv6" if family == "6" else "UDP"
    assert f'sendto(5<{proto}:[{addr}:PORT->{addr}:PORT]>, "x", 1, 0, NULL, 0) = 1' in ours, ours
    assert f'sendto(6<{udp}:[{addr}:PORT->{addr}:PORT]>, "y", 1, 0, NULL, 0) = 1' in ours, ours
    any_addr = "[::]" if family == "6" else "0.0.0.0"
    assert f"close(7<{proto}:[{any_addr}:PORT]>) = 0" in ours, ours
    assert f'sendto(7<{proto}:[{addr}:PORT->{addr}:PORT]>, "z", 1, 0, NULL, 0) = 1' in ours, ours
    assert re.search(r'sendto\(8<UNIX-STREAM:\[(\d+)->(\d+)\]>, "w", ', texts[1]), texts[1]
    assert ours == theirs
    # Every socket's text was known: none is said to be unread.
    assert "could not be read" not in (tmp_path / "stderr").read_text()


UNIX_ENDS = textwrap.dedent(
    """
    import os, socket, sys
    for path in (sys.argv[1], "\\0systrace-test-%07d" % os.getpid()):
        l = socket.socket(socket.AF_UNIX); l.bind(path); l.listen()
        c = socket.socket(socket.AF_UNIX); c.connect(path)
        a, _ = l.accept()
        c.send(b"x"); a.recv(1); a.send(b"y"); c.recv(1)
        for s in (c, a, l):
            s.close()  # before the tracer reads /proc
    d = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); d.bind(sys.argv[1] + "d")
    e = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); e.connect(sys.argv[1] + "d")
    e.send(b"z"); d.recv(1); e.close(); d.close()
    for name in (sys.argv[1], sys.argv[1] + "d"):
        os.unlink(name)  # for the other tracer's run
    """
)


def test_yy_names_a_unix_socket_s_peer_and_path_like_strace(kernel, tmp_path):
    """strace -yy shows a connected unix socket's peer and a bound one's
    path (`UNIX-STREAM:[1->2,"/run/x.sock"]`, `@"name"` for an abstract
    one), which it asks sock_diag for; systrace read /proc/net/unix, which
    has no peers, at the call's print, when the socket may be closed: it
    showed `UNIX-STREAM:[1]`. The programs read both at connect's, bind's,
    listen's and accept's exit; a client's peer, which has no inode until
    an accept takes it, is known from that accept."""
    prog = tmp_path / "unix.py"
    prog.write_text(UNIX_ENDS)
    path = str(tmp_path / "s")
    texts = _trace_both(tmp_path, ["-yy", "-e", "trace=bind,listen,connect,accept4,sendto,recvfrom,close"],
                        ["python3", str(prog), path])
    theirs, ours = ([re.sub(r"\s+= ", " = ", ln) for ln in _inodes_in_order(re.sub(r"systrace-test-\d+", "systrace-test-N", text))
                     .splitlines() if "UNIX" in ln] for text in texts)
    text = "\n".join(theirs)
    assert re.search(r'sendto\(4<UNIX-STREAM:\[I\d+->I\d+\]>, "x", 1, 0, NULL, 0\) = 1', text), text
    assert re.search(rf'close\(5<UNIX-STREAM:\[I\d+->I\d+,"{re.escape(path)}"\]>\) = 0', text), text
    assert re.search(r'close\(5<UNIX-STREAM:\[I\d+->I\d+,@"systrace-test-N"\]>\) = 0', text), text
    assert ours == theirs


DEVICE_NODES = textwrap.dedent(
    """
    import os, sys
    # O_PATH, as tar -x opens what it made (a fifo's open would wait for
    # a writer); the char device (/dev/null's numbers) read too.
    for path, flags in [(p, os.O_PATH) for p in sys.argv[1:]] + [(sys.argv[1], os.O_RDONLY)]:
        fd = os.open(path, flags)
        os.fstat(fd)
        os.close(fd)
    """
)


def test_yy_names_a_device_node_outside_dev_like_strace(kernel, tmp_path):
    """strace -yy gives the numbers of any device an fd's path names
    (`3</tmp/x/chr<char 1:3>>`), as tar -x shows them making nodes and
    opening them O_PATH; systrace did only for paths in /dev/. A symlink
    to a device names the device too (strace stats the path)."""
    os.mknod(tmp_path / "chr", 0o600 | stat.S_IFCHR, os.makedev(1, 3))
    os.mknod(tmp_path / "blk", 0o600 | stat.S_IFBLK, os.makedev(7, 200))
    os.mknod(tmp_path / "fifo", 0o600 | stat.S_IFIFO)
    prog = tmp_path / "devices.py"
    prog.write_text(DEVICE_NODES)
    nodes = [str(tmp_path / n) for n in ("chr", "blk", "fifo")] + ["/dev/null"]
    texts = _trace_both(tmp_path, ["-yy", "-e", "trace=openat,newfstatat,close"],
                        ["python3", str(prog), *nodes])
    theirs, ours = ([re.sub(r"\s+= ", " = ", ln) for ln in text.splitlines()
                     if any(n in ln for n in nodes)] for text in texts)
    assert f"close(3<{tmp_path}/blk<block 7:200>>) = 0" in theirs, theirs
    assert ours == theirs


def test_yy_says_how_many_sockets_it_could_not_read(kernel, tmp_path):
    """-yy reads the port id a netlink socket's first send bound it to
    from /proc when the send is printed: a process that sends on one and
    closes it at once has no such fd by then, and its sockets show as
    `NETLINK:[INODE]`; the command says how many (it said nothing). A
    process still there: every endpoint, no word."""
    prog = tmp_path / "connect.py"
    prog.write_text(textwrap.dedent("""
        import os, socket, sys, time
        s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
        for _ in range(5):
            if os.fork() == 0:
                # RTM_GETADDR; the socket closed at once, its process ended.
                socket.socket(socket.AF_NETLINK, socket.SOCK_RAW).sendto(
                    b"\\x14\\0\\0\\0\\x16\\0\\x01\\x03" + bytes(12), (0, 0))
                os._exit(0)
            os.wait()
        if sys.argv[1:] == ["stay"]:
            c = socket.create_connection(s.getsockname()); d, _ = s.accept()
            c.send(b"x"); d.recv(1)
            time.sleep(0.5)
    """))
    out = tmp_path / "trace"
    # Whether the tracer reads a child's /proc before the fd is closed is
    # a race the child mostly wins: a run in which it lost them all is
    # tried again.
    for _ in range(10):
        r = subprocess.run([sys.executable, "-m", "systrace", "-f", "-yy", "-o", str(out), "-e", "trace=sendto",
                            "--", sys.executable, str(prog)], capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        unread = set(re.findall(r"sendto\(\d+<NETLINK:\[(\d+)\]>", out.read_text()))
        assert len(unread) == 5, out.read_text()  # before the send: unbound, the inode alone
        m = re.search(r"-yy: the addresses of (\d+) sockets could not be read", r.stderr)
        if m is not None:
            break
    assert m is not None, r.stderr
    assert 1 <= int(m[1]) <= 5
    r = subprocess.run([sys.executable, "-m", "systrace", "-yy", "-o", str(out), "-e", "trace=sendto,recvfrom",
                        "--", sys.executable, str(prog), "stay"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "could not be read" not in r.stderr
    assert re.search(r"sendto\(\d+<TCP:\[127\.0\.0\.1:\d+->127\.0\.0\.1:\d+\]>", out.read_text())


# Sockets and pipes closed at once: /proc, read after the calls, no longer
# has their fds (nor, soon, the process). Every kind of socket strace -yy
# names, each socketpair type, a pipe.
SHORT_LIVED_FDS = textwrap.dedent(
    """
    import os, socket
    for t in (socket.SOCK_STREAM, socket.SOCK_DGRAM, socket.SOCK_SEQPACKET):
        a, b = socket.socketpair(socket.AF_UNIX, t)
        a.send(b"x"); b.recv(1); a.close(); b.close()
    for f, t, p in ((socket.AF_INET, socket.SOCK_STREAM, 0), (socket.AF_INET, socket.SOCK_DGRAM, 0),
                    (socket.AF_INET6, socket.SOCK_STREAM, 0), (socket.AF_INET6, socket.SOCK_DGRAM, 0),
                    (socket.AF_UNIX, socket.SOCK_DGRAM, 0), (socket.AF_NETLINK, socket.SOCK_RAW, 0),
                    (socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)):
        socket.socket(f, t, p).close()
    r, w = os.pipe(); os.write(w, b"y"); os.read(r, 1); os.close(r); os.close(w)
    """
)


def _inodes_in_order(text: str) -> str:
    """`text` with each inode number (`pipe:[123]`, `UNIX:[1->2]`) renamed
    by its order of first appearance: two runs' pipes are different pipes,
    but each must be named the same wherever it appears, and apart from
    the others."""
    names: dict = {}
    return re.sub(r"(?<=[\[>])\d{4,}(?=[\],-])", lambda m: names.setdefault(m[0], f"I{len(names)}"), text)


@pytest.mark.parametrize("y", ["-y", "-yy"])
def test_y_names_sockets_and_pipes_closed_at_once(kernel, tmp_path, y):
    # The programs read each new fd's inode at the call's exit: names do
    # not depend on /proc being read in time (they were numbers alone).
    prog = tmp_path / "fds.py"
    prog.write_text(SHORT_LIVED_FDS)
    theirs, ours = _trace_both(tmp_path, [y, "-e", "trace=socketpair,socket,pipe2,sendto,recvfrom,read,write,close"],
                               [sys.executable, str(prog)])
    assert _inodes_in_order(ours).splitlines() == _inodes_in_order(theirs).splitlines()
    assert "pipe2([3<pipe:[" in ours and "socketpair(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC, 0, [3<" in ours
    if y == "-yy":
        assert "<UNIX-STREAM:[" in ours and "<TCPv6:[" in ours and "<NETLINK:[" in ours
    assert "could not be resolved" not in (tmp_path / "stderr").read_text()


def join_cut_calls(text: str) -> str:
    """A call another process's line interrupted is printed cut, as strace
    prints it ("[pid N] dup2(4<...>, 1<...> <unfinished ...>", then
    "[pid N] <... dup2 resumed>) = 1<...>"; with -o, "N " in front): join
    the halves so a pattern sees the whole call, whichever way the
    processes' calls interleaved."""
    pending: dict[str, str] = {}
    lines = []
    who = r"(\[pid +\d+\] |\d+ +)?"
    for line in text.splitlines():
        m = re.match(who + r"(.*) <unfinished \.\.\.>$", line)
        if m:
            pending[m.group(1) or ""] = line[: m.end(2)]
            continue
        m = re.match(who + r"<\.\.\. \w+ resumed>(.*)$", line)
        if m and (m.group(1) or "") in pending:
            line = pending.pop(m.group(1) or "") + m.group(2)
        lines.append(line)
    assert not pending, pending
    return "\n".join(lines) + "\n"


def test_y_follows_a_shell_pipeline(kernel, tmp_path):
    # The shell makes the pipe, its children dup2 its ends onto 0 and 1 and
    # the shell closes its own: by the time the events are read, no /proc
    # has it. Each end is the pipe the shell made, as strace shows it.
    out = tmp_path / "trace"
    r = subprocess.run([sys.executable, "-m", "systrace", "-f", "-y", "-o", str(out), "-e",
                        "trace=pipe2,dup2,read,write", "--", "sh", "-c", "echo hi | cat"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stdout == "hi\n", r.stderr
    assert "could not be resolved" not in r.stderr, r.stderr
    text = join_cut_calls(out.read_text())
    (pipe,) = re.findall(r"pipe2\(\[3<pipe:\[(\d+)\]>, 4<pipe:\[\1\]>\], 0\) = 0$", text, re.M) or [None]
    assert pipe, text
    for pattern in (rf"dup2\(4<pipe:\[{pipe}\]>, 1<[^>]*>\) += 1<pipe:\[{pipe}\]>$",
                    rf"dup2\(3<pipe:\[{pipe}\]>, 0<[^>]*>\) += 0<pipe:\[{pipe}\]>$",
                    rf'write\(1<pipe:\[{pipe}\]>, "hi\\n", 3\) += 3$',
                    rf'read\(0<pipe:\[{pipe}\]>, "hi\\n", \d+\) += 3$'):
        assert re.search(pattern, text, re.M), (pattern, text)


def test_y_resolves_proc_self_as_the_process_did(kernel, tmp_path):
    # /proc/self is the process that opens it, not the tracer that reads
    # the table (systrace showed its own pid there).
    out = tmp_path / "trace"
    r = subprocess.run([sys.executable, "-m", "systrace", "-y", "-o", str(out), "-e", "trace=openat,read", "--",
                        "cat", "/proc/self/stat"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    pid = r.stdout.split()[0]
    text = out.read_text()
    assert f'"/proc/self/stat", O_RDONLY) = 3</proc/{pid}/stat>' in text, text
    assert f"read(3</proc/{pid}/stat>, " in text, text


def test_y_with_a_narrow_trace_set(kernel, tmp_path):
    # -e trace=read shows reads only; the opens and closes -y needs are
    # traced for its table and shown nowhere.
    out = tmp_path / "trace"
    r = subprocess.run(
        [sys.executable, "-m", "systrace", "--decode-fds=path", "-o", str(out), "-e", "trace=read", "--",
         "cat", "/etc/hostname"],
        capture_output=True, text=True, timeout=60,
    )
    assert r.returncode == 0, r.stderr
    lines = out.read_text().splitlines()
    assert all(line.startswith("read(") or line.startswith("+++") for line in lines), lines
    assert any(re.match(r"read\(\d+</etc/hostname>, ", line) for line in lines), lines
    for options, message in ((["--decode-fds=bogus"], "invalid decode-fds 'bogus'"),
                             (["--decode-fds="], "invalid decode-fds ''"),
                             (["-y", "--decode-fds=path"], "-y and --decode-fds cannot be provided simultaneously"),
                             (["-e", "decode-fds=path", "-yy"], "-y and --decode-fds cannot be provided")):
        bad = subprocess.run([sys.executable, "-m", "systrace", *options, "true"], capture_output=True, text=True)
        assert bad.returncode == 1 and bad.stderr == f"systrace: {message}\n" if message.endswith("ly") else (
            bad.returncode == 1 and message in bad.stderr), (options, bad.stderr)


@pytest.mark.parametrize("how", ["rm f", "mv g f", "rm -r d"])
def test_y_says_deleted_when_a_call_not_shown_unlinked_the_file(kernel, tmp_path, how):
    # An open file removed (or replaced by a rename) is `(deleted)` after
    # its `>` in strace, which reads /proc as it prints; -y's table learnt
    # it only from unlink and rename calls the trace showed: with `-e
    # trace=write` the file kept its name.
    script = f": > g; mkdir -p d; exec 3>f 4>d/h; {how}; echo x >&3; echo y >&4"
    theirs, ours = _trace_both(tmp_path, ["-f", "-y", "-e", "trace=write"], ["sh", "-c", script], cwd=tmp_path)
    # The pids, and the CPU time a child's SIGCHLD carries (a tick more or
    # less between any two runs; test_cli_signals checks its form).
    times = re.compile(r"si_utime=\d+(?: /\* [\d.]+ s \*/)?, si_stime=\d+(?: /\* [\d.]+ s \*/)?")

    def strip(text: str) -> list[str]:
        return [times.sub("si_utime=T, si_stime=T", re.sub(r"si_pid=\d+", "si_pid=PID", re.sub(
            r"^\[pid +\d+\] |^\d+ +", "", line))) for line in text.splitlines()]

    assert strip(ours) == strip(theirs)
    deleted = f"write(1<{tmp_path}/d/h>(deleted)" if how == "rm -r d" else f"write(1<{tmp_path}/f>(deleted)"
    assert deleted in ours, ours


SPLIT = """
import os, select, threading, time
r, w = os.pipe()
r2, w2 = os.pipe()
def reader():
    os.read(r, 1)
def poller():
    p = select.poll(); p.register(r2, select.POLLIN); p.poll(-1)
ts = [threading.Thread(target=reader), threading.Thread(target=poller)]
for t in ts: t.start()
time.sleep(0.3)
os.write(w, b"x"); os.write(w2, b"y")
for t in ts: t.join()
"""


def test_y_and_notes_on_lines_other_threads_cut(kernel, tmp_path):
    # Two threads block (a read, a poll) while the main thread writes: their
    # lines are cut, as strace -f cuts them. The first part shows the fds as
    # -y does (the pipes, which -e does not show: pipe2 is traced for the
    # table), and the rest poll's revents after its return, as strace does.
    script = tmp_path / "split.py"
    script.write_text(SPLIT)
    out = tmp_path / "trace"
    r = subprocess.run([sys.executable, "-m", "systrace", "-f", "-y", "-e", "trace=read,poll,write", "-o", str(out),
                        "--", sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    text = out.read_text()
    for pattern in (r"read\(3<pipe:\[\d+\]>,  <unfinished \.\.\.>$", r'<\.\.\. read resumed>"x", 1\) += 1$',
                    r"poll\(\[\{fd=5<pipe:\[\d+\]>, events=POLLIN\}\], 1, -1 <unfinished \.\.\.>$",
                    r"<\.\.\. poll resumed>\) += 1 \(\[\{fd=5, revents=POLLIN\}\]\)$",
                    # A write the woken thread's return cut is cut too, as strace cuts it.
                    r'write\(4<pipe:\[\d+\]>, "x", 1(\) += 1| <unfinished \.\.\.>)$',
                    r'write\(6<pipe:\[\d+\]>, "y", 1(\) += 1| <unfinished \.\.\.>)$'):
        assert re.search(pattern, text, re.M), (pattern, text[-1500:])


def test_resolving_paths_is_not_in_a_trace_of_ones_own_process(kernel, tmp_path):
    """Calls read with resolve_paths from an open session of this process:
    the table's reads of /proc (readlink, stat, open) are systrace's own
    and must not come back as this process's calls."""
    target = tmp_path / "f"
    target.write_text("x")
    traced = ("openat", "readlink", "readlinkat", "newfstatat", "statx", "close", "getdents64")
    with systrace.enable(*traced, strings=True, string_size=4096) as s:
        fd = os.open(target, os.O_RDONLY)
        seen = []
        for call in systrace.iter_calls(s, resolve_paths=True):
            seen.append(call)
            if call.name == "openat" and call.ret == fd:
                break
        os.close(fd)
    seen += s.calls(resolve_paths=True)
    mine = [c for c in seen if c.pid == os.getpid()]
    assert any(c.name == "openat" and c.path == str(target) for c in mine)
    proc = [c.strace() for c in mine if "/proc/" in c.strace()]
    assert proc == [], proc


NETLINK_BOUND = """
import socket, time
s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
s.bind((0, 0))
s.getsockname()
time.sleep(0.5)  # alive while the tracer reads its /proc (see below)
s.send(b"\\x14\\0\\0\\0\\x16\\0\\x01\\x03" + bytes(12))  # RTM_GETADDR, a dump
time.sleep(0.5)
# Sockets bound by their first send: a netlink socket's port id, a UDP port.
a = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
a.sendto(b"\\x14\\0\\0\\0\\x16\\0\\x01\\x03" + bytes(12), (0, 0))
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.sendto(b"x", ("127.0.0.1", 9))
time.sleep(0.5)
a.getsockname()
u.getsockname()
time.sleep(0.5)
"""


def test_yy_names_a_bound_netlink_socket_by_protocol_and_port(kernel, tmp_path):
    # strace -yy names a bound netlink socket by its protocol and port id
    # (`NETLINK:[ROUTE:4242]`, from sock_diag), an unbound one by its
    # inode. systrace reads /proc/PID/net/netlink after the bind (or the
    # first send, which binds an unbound socket), which a process that has
    # already ended no longer has (then the inode).
    prog = tmp_path / "netlink.py"
    prog.write_text(NETLINK_BOUND)
    theirs, ours = _trace_both(tmp_path, ["-yy", "-e", "trace=socket,bind,getsockname,sendto"],
                               [sys.executable, str(prog)])
    portids = re.findall(r"getsockname\(3<NETLINK:\[ROUTE:(\d+)\]>, \{sa_family=AF_NETLINK, nl_pid=(\d+),", ours)
    assert portids and all(a == b for a, b in portids), ours
    assert re.search(r"^bind\(3<NETLINK:\[\d+\]>", ours, re.M), ours  # not bound yet
    assert re.search(r"^sendto\(3<NETLINK:\[ROUTE:\d+\]>", ours, re.M), ours
    # Bound by a send: unbound at it, bound after (strace asks each time).
    assert re.search(r"^sendto\(4<NETLINK:\[\d+\]>", ours, re.M), ours
    assert re.search(r"^getsockname\(4<NETLINK:\[ROUTE:\d+\]>", ours, re.M), ours
    assert re.search(r"^sendto\(5<UDP:\[\d+\]>", ours, re.M), ours
    assert re.search(r"^getsockname\(5<UDP:\[0\.0\.0\.0:\d+\]>", ours, re.M), ours
    # The port ids (the pid), inodes and bind's unset padding differ between the runs.
    same = lambda t: re.sub(r"\d{3,}", "N", re.sub(r"nl_pad=0x[0-9a-f]+, ", "", t))  # noqa: E731
    assert same(ours).splitlines() == same(theirs).splitlines()


def test_yy_names_the_netlink_sockets_of_ip_and_ss_like_strace(kernel, tmp_path):
    # ip and ss bind a netlink socket, ask, and end within milliseconds:
    # /proc, read as their calls were printed, no longer had the socket,
    # and they showed as `NETLINK:[INODE]` where strace shows
    # `NETLINK:[ROUTE:4242]`. The programs now read its protocol and port
    # id at the bind's exit, as they read an inet socket's ends.
    for argv in (["ip", "addr"], ["ss", "-tan"], ["ip", "-6", "route"]):
        theirs, ours = _trace_both(tmp_path, ["-yy", "-e", "trace=bind,getsockname,sendto,sendmsg,close"], argv)
        assert re.search(r"^getsockname\(3<NETLINK:\[(ROUTE|SOCK_DIAG):\d+\]>", ours, re.M), ours
        # The port ids (the pid, or one the kernel picked) and inodes differ between the runs.
        same = lambda t: re.sub(r"-?\d{3,}", "N", re.sub(r"nl_pad=0x[0-9a-f]+, ", "", t))  # noqa: E731
        assert same(ours).splitlines() == same(theirs).splitlines(), argv
        assert "could not be read" not in (tmp_path / "stderr").read_text()


TMPFILE_PROGRAM = textwrap.dedent(
    """
    import os, sys, time
    work = sys.argv[1]
    f = os.open(work, os.O_RDWR | os.O_TMPFILE, 0o600)
    os.write(f, b"x")
    time.sleep(0.3)  # the tracer reads /proc while the fd is the file
    os.close(f)
    os.mkdir(work + "/gone")
    os.chdir(work + "/gone")
    os.rmdir(work + "/gone")
    os.stat(".")
    os.chdir(work)
    os.stat(".")
    """
)


POLL_SELECT = textwrap.dedent(
    """
    import os, select, socket, time
    r, w = os.pipe()
    f = os.open("/etc/hostname", os.O_RDONLY)
    p = select.poll()
    p.register(r, select.POLLIN)
    p.register(w, select.POLLOUT)
    p.register(f, select.POLLIN)
    p.poll(0)
    select.select([r, f], [w], [], 0)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    p.register(s, select.POLLIN)
    p.poll(0)
    select.select([s], [], [s], 0)
    time.sleep(0.5)  # -yy reads the bound socket's address while the process lives
    """
)


def test_y_names_a_tmpfile_and_a_removed_cwd_like_strace(kernel, tmp_path):
    # What /proc shows and strace prints: an O_TMPFILE file is
    # `DIR/#INODE` (deleted), not the directory opened; a cwd removed
    # is `AT_FDCWD<DIR (deleted)>` until the next chdir.
    work = tmp_path / "work"
    work.mkdir()
    prog = tmp_path / "tmpfile.py"
    prog.write_text(TMPFILE_PROGRAM)
    theirs, ours = _trace_both(
        tmp_path, ["-y", "-e", "trace=openat,write,close,chdir,rmdir,newfstatat"], [sys.executable, str(prog), str(work)]
    )

    def own(text: str) -> list:
        # The program's own calls (the interpreter's start differs in no
        # way, but its cwd is tmp_path's in both); the inode of the
        # nameless file is a new one each run.
        start = text.index(f'openat(AT_FDCWD<{os.getcwd()}>, "{work}"')
        return re.sub(r"/#\d+>", "/#INODE>", text[start:]).splitlines()

    assert own(ours) == own(theirs)
    assert re.search(rf'write\(\d+<{re.escape(str(work))}/#INODE>\(deleted\), "x", 1\)', "\n".join(own(ours)))
    assert f'newfstatat(AT_FDCWD<{work}/gone (deleted)>, "."' in ours
    assert f'newfstatat(AT_FDCWD<{work}>, "."' in ours


@pytest.mark.parametrize("y", ["-y", "-yy"])
def test_y_names_the_fds_poll_and_select_wait_on(kernel, tmp_path, y):
    # strace's -y shows what each fd of poll's pollfd array and of
    # select's fd sets refers to (`{fd=3<pipe:[1]>, events=POLLIN}`,
    # `[3<pipe:[1]> 5</etc/hostname>]`), not in what they returned.
    prog = tmp_path / "poll.py"
    prog.write_text(POLL_SELECT)
    theirs, ours = _trace_both(tmp_path, [y, "-e", "trace=poll,pselect6"], [sys.executable, str(prog)])
    assert "{fd=5</etc/hostname>, events=POLLIN}" in ours, ours
    assert "5</etc/hostname>]" in ours, ours
    # Inodes and the UDP port differ between the runs.
    same = lambda t: re.sub(r"\d{4,}", "N", t)  # noqa: E731
    assert same(ours).splitlines() == same(theirs).splitlines()


PIDFD = textwrap.dedent(
    """
    import os, signal
    fd = os.pidfd_open(os.getpid())
    signal.pidfd_send_signal(fd, 0)
    os.close(fd)
    """
)


@pytest.mark.parametrize("y", ["-y", "-yy"])
def test_yy_names_the_process_of_a_pidfd(kernel, tmp_path, y):
    # strace -yy shows a pidfd as the process it refers to (`3<pid:1234>`,
    # the Pid: of its fdinfo); -y as its path, `3<anon_inode:[pidfd]>`.
    prog = tmp_path / "pidfd.py"
    prog.write_text(PIDFD)
    theirs, ours = _trace_both(tmp_path, [y, "-e", "trace=pidfd_open,pidfd_send_signal,close"],
                               [sys.executable, str(prog)])
    pid = re.search(r"pidfd_open\((\d+), 0\)", ours).group(1)
    shown = f"3<pid:{pid}>" if y == "-yy" else "3<anon_inode:[pidfd]>"
    assert f"pidfd_send_signal({shown}, 0, NULL, 0)" in ours, ours
    same = lambda t: re.sub(r"\d{3,}", "N", t)  # noqa: E731
    assert same(ours).splitlines() == same(theirs).splitlines()


SCM_RIGHTS = textwrap.dedent(
    """
    import os, socket, struct, time
    x, y = socket.socketpair()
    f = os.open("/etc/hostname", os.O_RDONLY)
    x.sendmsg([b"fd"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack("i", f))])
    msg, anc, flags, addr = y.recvmsg(10, socket.CMSG_SPACE(4))
    time.sleep(0.5)  # the new fd is read in /proc when recvmsg is printed
    g = struct.unpack("i", anc[0][2])[0]
    os.read(g, 1)
    os.close(g)
    """
)


def test_y_names_the_fds_scm_rights_passes(kernel, tmp_path):
    # strace's -y shows what the fds of an SCM_RIGHTS message refer to:
    # the sender's (`cmsg_data=[5</etc/hostname>]`) and the receiver's new
    # ones (read in /proc as recvmsg is printed), which later calls on them
    # show too.
    prog = tmp_path / "scm.py"
    prog.write_text(SCM_RIGHTS)
    theirs, ours = _trace_both(tmp_path, ["-y", "-e", "trace=sendmsg,recvmsg,read,close"],
                               [sys.executable, str(prog)])
    assert "cmsg_data=[5</etc/hostname>]" in ours, ours
    assert "cmsg_data=[6</etc/hostname>]" in ours, ours
    assert "read(6</etc/hostname>, " in ours, ours
    # Inodes and the address of recvmsg's name differ between the runs.
    same = lambda t: re.sub(r"\d{4,}", "N", re.sub(r"0x[0-9a-f]+", "ADDR", t))  # noqa: E731
    assert same(ours).splitlines() == same(theirs).splitlines()


SCM_RIGHTS_REUSED = textwrap.dedent(
    """
    import os, socket, struct, sys, time
    x, y = socket.socketpair()
    f = os.open("/etc/hostname", os.O_RDONLY)
    r, w = os.pipe()
    x.sendmsg([b"fd"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack("ii", f, r))])
    msg, anc, flags, addr = y.recvmsg(10, socket.CMSG_SPACE(8))
    for g in struct.unpack("ii", anc[0][2]):
        os.close(g)
        os.open("/etc/passwd", os.O_RDONLY)  # on the number just closed
    if sys.argv[1] == "stay":
        time.sleep(0.5)  # /proc names the received numbers /etc/passwd
    """
)


@pytest.mark.parametrize("end", ["stay", "exit"])
@pytest.mark.parametrize("y", ["-y", "-yy"])
def test_y_names_received_fds_closed_and_reused_before_the_print(kernel, tmp_path, y, end):
    # The receiver closes the fds SCM_RIGHTS brought and opens another file
    # on their numbers at once: /proc, read when recvmsg is printed, names
    # that file (systrace printed `cmsg_data=[8</etc/passwd>, 9</etc/passwd>]`),
    # or nothing once the process is gone. The programs read the received
    # fds' inodes at the exit; the sender's names of those inodes are theirs.
    prog = tmp_path / "scm_reused.py"
    prog.write_text(SCM_RIGHTS_REUSED)
    theirs, ours = _trace_both(tmp_path, [y, "-e", "trace=sendmsg,recvmsg"], [sys.executable, str(prog), end])
    pipe = r"pipe:\[\d+\]"
    received = re.search(rf"^recvmsg\(.*cmsg_data=\[8</etc/hostname>, 9<{pipe}>\]", ours, re.M)
    assert received, ours
    sent = re.search(rf"^sendmsg\(.*cmsg_data=\[5</etc/hostname>, 6<({pipe})>\]", ours, re.M)
    assert sent and sent.group(1) in received.group(0), ours
    same = lambda t: re.sub(r"\d{4,}", "N", re.sub(r"0x[0-9a-f]+", "ADDR", t))  # noqa: E731
    assert same(ours).splitlines() == same(theirs).splitlines()


FORKSERVER = textwrap.dedent(
    """
    import multiprocessing as mp
    if __name__ == "__main__":
        mp.set_start_method("forkserver")
        p = mp.Process(target=print, args=("child",))
        p.start()
        p.join()
    """
)


def test_y_names_the_fds_multiprocessing_s_forkserver_receives(kernel, tmp_path):
    # Python's forkserver receives four fds per message (SCM_RIGHTS) and
    # closes them in its child at once: systrace showed the last two by
    # number alone once /proc no longer had them.
    prog = tmp_path / "forkserver.py"
    prog.write_text(FORKSERVER)
    theirs, ours = _trace_both(tmp_path, ["-f", "-y", "-e", "trace=sendmsg,recvmsg"],
                               ["/usr/bin/python3", str(prog)])
    data = lambda t: [re.sub(r"\d{4,}", "N", m) for m in re.findall(r"cmsg_data=\[[^\]]*(?:\][^\]]*)*?\]\}", t)]  # noqa: E731
    assert len(data(ours)) >= 2 and all(m.count("<") == m.count(",") + 1 for m in data(ours)), ours
    assert data(ours) == data(theirs), (ours, theirs)


def test_y_leaves_close_range_s_bounds_as_numbers(kernel, tmp_path):
    # close_range's first argument bounds a range of fds: strace prints it
    # as a number, with -y too, even when that fd is open.
    prog = tmp_path / "close_range.py"
    prog.write_text("import os\nf = os.open('/etc/hostname', os.O_RDONLY)\nos.closerange(f, f + 5)\n"
                    "os.read(os.open('/etc/hostname', os.O_RDONLY), 1)\n")
    theirs, ours = _trace_both(tmp_path, ["-y", "-e", "trace=close_range,read"], [sys.executable, str(prog)])
    assert re.search(r"^close_range\(3, 7, 0\) += 0$", ours, re.M), ours
    assert "read(3</etc/hostname>, " in ours, ours
    assert ours.splitlines() == theirs.splitlines()


def test_y_knows_a_vfork_child_gone_before_its_events_are_read(kernel, tmp_path):
    # A shell's vfork child runs, execs, ends and is reaped while its
    # parent waits in vfork: when its events are read late (here systrace
    # is stopped meanwhile, as a busy machine delays it), /proc no longer
    # has it. Its fds and cwd are still its parent's, which the parent's
    # vfork in progress names: `write(1</path>, ...)` and
    # `openat(AT_FDCWD</dir>, ...)` as strace shows them, not the numbers
    # alone.
    strace = shutil.which("strace")
    if strace is None:
        require("strace is not installed (apt-get install strace)")
    texts = []
    for name, tracer in (("strace", [strace]), ("systrace", [sys.executable, "-m", "systrace"])):
        work = tmp_path / name
        work.mkdir()
        go, done = work / "go", work / "done"
        os.mkfifo(go)
        script = f"read x < {go}; for i in 1 2 3; do /bin/echo $i; done; : > {done}; read x < {go}; exit 0"
        out = tmp_path / f"{name}.trace"
        with open(tmp_path / "stdout", "wb") as stdout, open(tmp_path / "stderr", "w+b") as stderr:
            tracing = subprocess.Popen(
                [*tracer, "-f", "-y", "-o", str(out), "-e", "trace=openat,write", "--", "sh", "-c", script],
                cwd=work, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr,
                env={**os.environ, "LC_ALL": "C"})
            try:
                stopped = name == "systrace"
                # The shell waits for the fifo's writer: it is traced by now.
                with open(go, "w"):
                    if stopped:
                        os.kill(tracing.pid, signal.SIGSTOP)
                deadline = time.monotonic() + 30
                while not done.exists() and time.monotonic() < deadline:
                    time.sleep(0.01)
                assert done.exists()
                if stopped:
                    os.kill(tracing.pid, signal.SIGCONT)
                with open(go, "w"):
                    pass
                assert tracing.wait(timeout=60) == 0
            finally:
                if tracing.poll() is None:
                    os.kill(tracing.pid, signal.SIGCONT)
                    tracing.kill()
            stderr.seek(0)
            assert b"could not be resolved" not in stderr.read()
        text = join_cut_calls(out.read_text(errors="surrogateescape")).replace(str(work), "WORK")
        calls = (re.sub(r"^\d+ +", "", line) for line in text.splitlines())
        texts.append(sorted(re.sub(r"\s+= ", " = ", c) for c in calls if c.startswith(("openat(", "write("))))
    theirs, ours = texts
    for i in "123":
        assert f'write(1<{tmp_path}/stdout>, "{i}\\n", 2) = 2' in ours, ours
    assert ours == theirs


def test_y_resolves_a_symlink_to_proc_self_as_the_process_like_strace(kernel, tmp_path):
    # /dev/stdin -> /proc/self/fd/0: the traced process's fd 0, not the
    # tracer's (/dev/null here; the commands' own stdin is another file).
    script = ("cat /dev/stdin < /etc/hostname; stty -F /dev/stdin < /dev/zero 2>/dev/null;"
              " cat /dev/fd/0 < /etc/hostname; cat /proc/self/fd/0 < /etc/hostname; true")
    theirs, ours = _trace_both(tmp_path, ["-f", "-y", "-e", "trace=openat"], ["sh", "-c", script])

    def opens(text: str) -> list:
        return [re.sub(r"^\d+ +", "", line) for line in text.splitlines()
                if "/stdin" in line or "fd/0" in line]
    assert len(opens(theirs)) == 4, theirs
    assert opens(ours) == opens(theirs)
    assert sum("</etc/hostname>" in line for line in opens(ours)) == 3


def test_y_names_scm_rights_fds_and_not_the_same_text_in_the_data(kernel, tmp_path):
    # The fds SCM_RIGHTS passes are named (`cmsg_data=[3</etc/hostname>]`);
    # data that holds that field's very text is the data, left as sent
    # (before: an fd's name was spliced into the quoted string too).
    program = textwrap.dedent("""
        import os, socket, time
        a, b = socket.socketpair()
        fd = os.open("/etc/hostname", os.O_RDONLY)
        data = b'cmsg_type=SCM_RIGHTS, cmsg_data=[%d]' % fd
        a.sendmsg([data], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, fd.to_bytes(4, "little"))])
        msg, anc, _, _ = b.recvmsg(100, 64)
        # The received fd is named from /proc when recvmsg is printed (as
        # the README says): alive until then, on a loaded CI machine too.
        time.sleep(0.3)
        a.sendmsg([b'{fd=%d, events=POLLIN}' % fd])
        b.recv(100)
    """)
    theirs, ours = _trace_both(tmp_path, ["-y", "-s", "100", "-e", "trace=sendmsg,recvmsg"],
                               ["/usr/bin/python3", "-c", program])

    def lines(text: str) -> list:
        # The socket's inode and recvmsg's msg_name (a stack address) are
        # each run's own.
        return [re.sub(r"msg_name=0x[0-9a-f]+", "msg_name=ADDR", re.sub(r"socket:\[\d+\]", "socket:[N]", line))
                for line in text.splitlines() if line.startswith(("sendmsg(", "recvmsg("))]
    assert len(lines(theirs)) == 3, theirs
    assert lines(ours) == lines(theirs)
    named = [line for line in lines(ours) if re.search(r"cmsg_data=\[\d+</etc/hostname>\]", line)]
    assert len(named) == 2, ours
    assert '"cmsg_type=SCM_RIGHTS, cmsg_data=[' in named[0], named
