"""Count only the calls that failed, in the kernel: a filter on ret decides
each call at its exit, and nothing crosses the ring buffer."""
import os

import systrace

with systrace.count("openat", filter="ret < 0") as s:
    for path, flags in [("/etc/hostname", os.O_RDONLY), ("/no/such/file", os.O_RDONLY),
                        ("/etc", os.O_WRONLY), ("/no/such/dir/x", os.O_RDONLY)]:
        try:
            os.close(os.open(path, flags))
        except OSError:
            pass

for c in s.counts():
    print(c.name, c.calls, c.errnos)
