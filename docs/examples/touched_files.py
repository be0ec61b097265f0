"""Which files a program touches, as absolute paths: resolve_paths=True
gives each call the paths its arguments name (a relative one resolved
against the directory fd it is relative to, or the working directory)
and what its fds refer to, from one table of each process's fds."""
import os
import subprocess
import sys
import tempfile

import systrace

work = tempfile.mkdtemp()
child = """
import os
d = os.open(".", os.O_RDONLY)
os.mkdir("out", dir_fd=d)
fd = os.open("out/result.txt", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=d)
os.write(fd, b"done")
"""
# The calls that change fds (systrace.FD_SYSCALLS) keep the table exact.
names = set(systrace.syscall_names())
traced = [n for n in (*systrace.FD_SYSCALLS, "mkdirat", "mkdir", "write") if n in names]
with systrace.enable(*traced, follow=True, strings=True, string_size=4096) as session:
    subprocess.run([sys.executable, "-c", child], cwd=work, check=True)

for call in systrace.calls(session, resolve_paths=True):
    if call.pid == os.getpid() or call.failed:
        continue
    touched = [call.path, call.ret_path, *(call.fd_paths or {}).values()]
    if any(p and p.startswith(work + "/") for p in touched):
        shown = {k: v.replace(work, "WORK") for k, v in (call.fd_paths or {}).items()}
        path = (call.path or "").replace(work, "WORK")
        print(f"{call.name:<8} {path:<24} fds {shown}")
