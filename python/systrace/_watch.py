"""How a process that is not ours ended (`systrace -p`): a module of its
own, so that the command attached with -p does not import the launcher's
modules (subprocess, selectors, threading: some 0.8 MB of RSS, issue 15).
"""
from __future__ import annotations

import fcntl
import os
import struct
TYPE_CHECKING = False  # no typing at run time: the command imports this
if TYPE_CHECKING:
    from typing import Optional

__all__ = ["Watched"]

# How a process ended that this one did not start (so cannot wait for).

#: ioctl(pidfd, PIDFD_GET_INFO, struct pidfd_info) (Linux 6.15): _IOWR(0xFF, 11)
#: on the 64-byte first version of the struct; PIDFD_INFO_EXIT asks for
#: exit_code (a wait status, at offset 60), known once the process is reaped.
PIDFD_INFO_SIZE = 64
PIDFD_GET_INFO = (3 << 30) | (PIDFD_INFO_SIZE << 16) | (0xFF << 8) | 11
PIDFD_INFO_EXIT = 1 << 3


class Watched:
    """A process watched until it ends, through a pidfd opened while it
    runs: `status()` is its wait status once it has ended (None before, or
    when the kernel cannot tell: before Linux 6.15 only while it is a
    zombie)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        try:
            self.fd: Optional[int] = os.pidfd_open(pid)
        except OSError:
            self.fd = None  # gone already, or a thread id

    def status(self) -> Optional[int]:
        if self.fd is not None:
            info = bytearray(PIDFD_INFO_SIZE)
            struct.pack_into("Q", info, 0, PIDFD_INFO_EXIT)
            try:
                fcntl.ioctl(self.fd, PIDFD_GET_INFO, info)
            except OSError:
                pass  # an older kernel
            else:
                (mask,) = struct.unpack_from("Q", info, 0)
                if mask & PIDFD_INFO_EXIT:
                    return int(struct.unpack_from("i", info, 60)[0])
        # A zombie: the last field of its stat is the status (Linux 3.5).
        try:
            with open(f"/proc/{self.pid}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[-1].split()
        except OSError:
            return None
        return int(fields[-1]) if fields and fields[0] == b"Z" else None

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
