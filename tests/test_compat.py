"""32-bit (compat) syscalls are ignored the way the kernel ignores them
(trace_get_syscall_nr() returns -1 for them): their numbers mean other
syscalls, so tracing them under the 64-bit table would lie."""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile

import pytest

import systrace

# An x86_64 program that makes an ia32 syscall through int $0x80 (eax = 20,
# i386's getpid, which is writev in the 64-bit table), then a real 64-bit
# writev, then exits.
PROGRAM = r"""
#include <stdio.h>
#include <sys/uio.h>
#include <unistd.h>
int main(void) {
    getchar();                       /* wait until the tracer is ready */
    long ret;
    __asm__ volatile("int $0x80" : "=a"(ret) : "a"(20L) : "memory");
    struct iovec iov = { .iov_base = "x", .iov_len = 1 };
    writev(1, &iov, 1);
    printf(" compat_getpid=%ld\n", ret);
    return 0;
}
"""


@pytest.mark.skipif(systrace.ARCH != "x86_64", reason="int $0x80 is x86's compat entry")
@pytest.mark.parametrize("hooks", ["raw", "syscall"])
def test_ia32_syscalls_are_ignored(kernel, monkeypatch, hooks):
    # The raw hooks see compat calls and must drop them; the per-syscall
    # events never fire for them.
    monkeypatch.setenv("SYSTRACE_HOOKS", hooks)
    cc = shutil.which("cc") or shutil.which("gcc")
    assert cc, "a C compiler is needed to build the compat test program"
    with tempfile.TemporaryDirectory() as tmp:
        src, exe = os.path.join(tmp, "compat.c"), os.path.join(tmp, "compat")
        with open(src, "w") as f:
            f.write(PROGRAM)
        subprocess.run([cc, "-O1", "-o", exe, src], check=True)
        child = subprocess.Popen([exe], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            with systrace.enable("writev", pid=child.pid) as session:
                out, _ = child.communicate("\n", timeout=30)
        finally:
            if child.poll() is None:
                child.kill()
    compat_ret = int(out.split("compat_getpid=")[1])
    if compat_ret < 0:
        pytest.fail(f"this kernel refused the ia32 syscall ({compat_ret}): IA32 emulation is off, the test proves nothing")
    assert compat_ret == child.pid, "int $0x80 eax=20 is i386 getpid"
    evs = list(session)
    # Only the real writev: one enter, one exit, 3 args (fd, vec, vlen).
    assert [(e.name, e.phase) for e in evs] == [("writev", "enter"), ("writev", "exit")], [str(e) for e in evs]
    assert evs[0].args["fd"] == 1 and evs[0].args["vlen"] == 1
    assert evs[1].ret == 1
