"""Trace a subprocess: follow=True traces the children this process forks
(and theirs), from their first syscall, so a command run with subprocess is
traced whole."""
import collections
import os
import subprocess

import systrace

with systrace.enable(follow=True, strings=True, string_size=256) as session:
    subprocess.run(["sh", "-c", "cat /etc/hostname | wc -c > /dev/null; exit 3"], check=False)

me = os.getpid()
argv = {}
exits = {}
counts = collections.defaultdict(collections.Counter)
for call in systrace.calls(session):
    if call.pid == me:
        continue  # this script's own syscalls
    counts[call.pid][call.name] += 1
    if call.name == "execve" and call.ret == 0:
        argv[call.pid] = call.args["argv"]
    if call.name == "exit_group":
        exits[call.pid] = call.args["error_code"]

for pid in sorted(counts):
    top = ", ".join(f"{name} {n}" for name, n in counts[pid].most_common(3))
    print(f"pid {pid}: argv={argv.get(pid)} exit={exits.get(pid)} {sum(counts[pid].values())} calls ({top}, ...)")
