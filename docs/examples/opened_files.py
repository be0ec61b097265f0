"""Which files a program opens: strings=True captures the path of each
open call; pairing enter and exit (systrace.calls) gives its result."""
import os
import subprocess

import systrace

# open() exists on x86_64 but not on aarch64: trace the ones this
# architecture has.
OPENS = [name for name in ("open", "openat", "openat2", "creat") if name in systrace.syscall_names()]

# string_size: keep paths up to 256 bytes (strace's default, 32, cuts them).
with systrace.enable(*OPENS, follow=True, strings=True, string_size=256) as session:
    subprocess.run(
        ["cat", "/etc/hostname", "/etc/no-such-file"],
        env={"PATH": os.environ["PATH"], "LC_ALL": "C"},  # no locale files
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

me = os.getpid()
for call in systrace.calls(session):
    if call.pid == me:
        continue
    path = call.args.get("filename") or call.args.get("pathname")
    result = f"fd {call.ret}" if not call.failed else call.errno
    print(f"{call.comm:<6} {call.name:<7} {path!s:<32} -> {result}")
