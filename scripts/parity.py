#!/usr/bin/env python3
"""The share of strace's lines that systrace prints identically, on real
programs: each program is traced by both (-f, every syscall), the lines
normalised only for what differs between any two runs (addresses, pids,
ephemeral ports, times that count down, random bytes, the tracer's pid
that getppid returns), and counted as a multiset (lines
of several processes interleave differently from run to run).

    sudo python3 scripts/parity.py [--show N] [--exclude ioctl,getrandom]
                                   [--options "-yy -s 100"] [--run "CMD ARGS" ...]

Prints, per program, identical/strace lines and the share, then the
total, then (with --show) the lines of strace's that systrace did not
print the same, by syscall."""
from __future__ import annotations

import argparse
import collections
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

PROGRAMS = [
    ["ls", "-la", "/etc"],
    ["sh", "-c", "cat /etc/passwd | sort | head -3"],
    ["timeout", "5", "sleep", "0.01"],
    ["tar", "-cf", "{tmp}/x.tar", "-C", "/usr/share", "zoneinfo/UTC", "zoneinfo/Europe"],
    ["git", "-C", "{repo}", "status", "--short"],
    ["python3", "-c", "import json, socket, threading, select, os; "
     "a, b = socket.socketpair(); a.sendall(b'x'); select.select([b], [], [], 1); "
     "t = threading.Thread(target=print); t.start(); t.join(); print(json.dumps([1]))"],
    ["find", "/usr/share/doc", "-maxdepth", "1", "-name", "p*"],
    ["stat", "/etc/hostname", "/dev/null"],
    ["df", "-h", "/"],
    ["cp", "/etc/hostname", "{tmp}/copy"],
    # Netlink (sendmsg/recvmsg), the resolver, threads (clone3).
    ["ip", "addr"],
    ["ss", "-tln"],
    ["getent", "hosts", "localhost"],
    ["xz", "-T2", "-c", "/etc/services"],
]

ADDRESS = re.compile(r"\b0x[0-9a-f]{8,}\b")
PORT = re.compile(r"htons\(\d+\)")
VOLATILE = re.compile(r"\b(tv_sec|tv_nsec|tv_usec|f_bfree|f_bavail|f_ffree|uptime|freeram|"
                      r"sharedram|bufferram|procs|loads|st_atime|st_atime_nsec)=(\[[^]]*\]|\d+)")
# A line's pid, with -Y its process's name after it (`42<cat> read(...`).
RESUMED = re.compile(r"^(\d+)(?:<[^>]*>)? +<\.\.\. \w+ resumed>(.*)$")
UNFINISHED = re.compile(r"^(\d+)(?:<[^>]*>)? +(.*) <unfinished \.\.\.>$")
LEAD = re.compile(r"^(\d+)(<[^>]*>)? +")


def lines(text: str) -> list[str]:
    """Each call once (an unfinished call joined with its resumption),
    with its process's pid first."""
    out, pending = [], {}
    for line in text.splitlines():
        m = UNFINISHED.match(line)
        if m:
            pending[m.group(1)] = m.group(2)
            continue
        m = RESUMED.match(line)
        if m and m.group(1) in pending:
            line = f"{m.group(1)} {pending.pop(m.group(1))}{m.group(2)}"
        out.append(line)
    return out


def normalise(rows: list[str]) -> list[str]:
    pids: dict[str, str] = {}
    for row in rows:
        m = LEAD.match(row)
        if m and m.group(1) not in pids:
            pids[m.group(1)] = f"<p{len(pids)}>"
    out = []
    for row in rows:
        row = LEAD.sub(lambda m: f"{m.group(2)} " if m.group(2) else "", row)
        row = re.sub(r"\s+= ", " = ", row)  # strace pads the result to a column
        row = ADDRESS.sub("<addr>", row)
        row = PORT.sub("htons(<port>)", row)
        row = VOLATILE.sub(r"\1=<n>", row)
        # Random bytes; the parent of the traced command (each tracer's own).
        row = re.sub(r'^getrandom\("[^"]*"', 'getrandom("<random>"', row)
        row = re.sub(r"^getppid\(\) = \d+$", "getppid() = <tracer>", row)
        for pid, name in pids.items():
            row = re.sub(rf"(?<![\w.]){pid}\b", name, row)
        out.append(row)
    return out


def run(tracer: list[str], argv: list[str], out: str, exclude: str, options: list[str]) -> list[str]:
    expr = ["-e", f"trace=!{exclude}"] if exclude else []
    subprocess.run([*tracer, "-f", *options, "-o", out, *expr, "--", *argv], stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=120, env={**os.environ, "LC_ALL": "C"})
    with open(out, errors="surrogateescape") as f:
        return normalise(lines(f.read()))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--show", type=int, default=0, help="lines that differ to show")
    ap.add_argument("--exclude", default="", help="syscalls traced by neither")
    ap.add_argument("--python", default=sys.executable,
                    help="the interpreter whose systrace to run (another build's venv)")
    ap.add_argument("--run", action="append", default=[], metavar="CMD",
                    help="a command line to compare instead of the built-in programs "
                         "(repeatable; {tmp} is a scratch directory)")
    ap.add_argument("--options", default="", metavar="OPTS",
                    help="strace options given to both tracers, such as '-yy -s 100' "
                         "(not the timing ones: their values differ between any two runs)")
    args = ap.parse_args()
    strace = shutil.which("strace")
    if strace is None:
        sys.exit("strace is not installed")
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    options = shlex.split(args.options)
    total_same = total = 0
    differ: collections.Counter[str] = collections.Counter()
    with tempfile.TemporaryDirectory() as tmp:
        for argv in [shlex.split(r) for r in args.run] or PROGRAMS:
            argv = [a.replace("{tmp}", tmp).replace("{repo}", repo) for a in argv]
            if shutil.which(argv[0]) is None:
                print(f"{argv[0]}: not installed, skipped")
                continue
            theirs = run([strace], argv, f"{tmp}/strace.txt", args.exclude, options)
            ours = run([args.python, "-m", "systrace"], argv, f"{tmp}/systrace.txt", args.exclude,
                       options)
            left = collections.Counter(ours)
            same = 0
            for row in theirs:
                if left[row] > 0:
                    left[row] -= 1
                    same += 1
                else:
                    differ[row] += 1
            total_same += same
            total += len(theirs)
            share = 100 * same / max(len(theirs), 1)
            print(f"{' '.join(argv)[:60]:60} {same:5}/{len(theirs):<5} {share:5.1f}%")
    print(f"{'total':60} {total_same:5}/{total:<5} {100 * total_same / max(total, 1):5.1f}%")
    if args.show:
        print("\nstrace's lines systrace did not print the same:")
        for row, n in differ.most_common(args.show):
            print(f"{n:4} {row[:200]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
