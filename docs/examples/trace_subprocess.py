"""Trace a command: systrace.run() runs it as subprocess.run() does, traced
from its execve on, with the processes it forks (follow=True by default),
and returns its closed session, with the command's returncode."""
import collections

import systrace

session = systrace.run(["sh", "-c", "cat /etc/hostname | wc -c > /dev/null; exit 3"], strings=True, string_size=256)
print(f"returncode={session.returncode} dropped={session.dropped}")

argv = {}
exits = {}
counts = collections.defaultdict(collections.Counter)
for call in systrace.calls(session):
    counts[call.pid][call.name] += 1
    if call.name == "execve" and call.ret == 0:
        argv[call.pid] = call.args["argv"]
    if call.name == "exit_group":
        exits[call.pid] = call.args["error_code"]

for pid in sorted(counts):
    top = ", ".join(f"{name} {n}" for name, n in counts[pid].most_common(3))
    print(f"pid {pid}: argv={argv.get(pid)} exit={exits.get(pid)} {sum(counts[pid].values())} calls ({top}, ...)")
