"""Embed systrace in a tool: a monitor that counts the file syscalls of the
tool's thread, on a background thread, while the tool does its work."""
import collections
import os
import tempfile
import threading

import systrace


class SyscallMonitor:
    """Counts the calls of `syscalls` made by the thread that creates it
    until stop(); `counts` and `bytes_written` are live while it runs."""

    def __init__(self, *syscalls: str) -> None:
        # The session traces every thread of the process (systrace's own
        # included): count this one's calls.
        self.tid = threading.get_native_id()
        self.counts: collections.Counter = collections.Counter()
        self.bytes_written: collections.Counter = collections.Counter()
        self._session = systrace.enable(*syscalls)
        self._thread = threading.Thread(target=self._consume, name="syscall-monitor", daemon=True)
        self._thread.start()

    def _consume(self) -> None:
        # iter_calls() streams an open session: each call as its exit
        # arrives, until the session is closed.
        for call in systrace.iter_calls(self._session):
            if call.tid != self.tid:
                continue
            self.counts[call.name] += 1
            if call.name == "write" and call.ret is not None and call.ret > 0:
                self.bytes_written[call.args["fd"]] += call.ret

    def stop(self) -> None:
        self._session.close()  # the consumer thread drains what is left, then ends
        self._thread.join()

    def __enter__(self) -> "SyscallMonitor":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def work(directory: str) -> None:
    """What the tool does: write a file in three pieces, read it back."""
    path = os.path.join(directory, "data.txt")
    with open(path, "w") as f:
        for piece in ("alpha\n", "beta\n", "gamma\n"):
            f.write(piece)
            f.flush()
    with open(path) as f:
        assert f.read() == "alpha\nbeta\ngamma\n"


with tempfile.TemporaryDirectory() as tmp, SyscallMonitor("openat", "read", "write", "close") as monitor:
    work(tmp)

print("calls:", dict(sorted(monitor.counts.items())))
print("bytes written per fd:", dict(monitor.bytes_written))
