"""`systrace -c --histogram`, against the kernel."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time

import pytest

import systrace
from test_cli import systrace_cmd

# -c --histogram

HIST_ROW = re.compile(r"^\[(\w+), (\w+)\)\s+(\d+) \|(@*) *\|$")


def test_summary_histogram(kernel):
    loop = "import os\nfor _ in range(3000): os.getppid()\n"
    r = systrace_cmd("-c", "--histogram", "-e", "trace=getppid,close", "--", sys.executable, "-c", loop)
    assert r.returncode == 0, r.stderr
    table, _, hists = r.stderr.partition("\n@ns[")
    assert "% time     seconds  usecs/call     calls    errors syscall" in table
    calls = {m.group(2): int(m.group(1)) for m in re.finditer(r"^ *[\d.]+ +[\d.]+ +\d+ +(\d+) +\d* (\w+)$", table, re.M)}
    assert calls["getppid"] >= 3000
    blocks = ("@ns[" + hists).split("\n\n")
    names = [b.splitlines()[0] for b in blocks]
    assert "@ns[getppid]:" in names and set(names) <= {"@ns[getppid]:", "@ns[close]:"}, names
    # The syscall with the most time first, as in the table.
    assert names[0] == f"@ns[{[n for n in calls if n != 'total'][0]}]:"
    rows = [HIST_ROW.match(line) for line in blocks[names.index("@ns[getppid]:")].splitlines()[1:]]
    assert rows and all(rows), blocks
    counts = [int(m.group(3)) for m in rows]
    assert sum(counts) == calls["getppid"]
    # Consecutive buckets, bars proportional to the largest count.
    for a, b in zip(rows, rows[1:]):
        assert a.group(2) == b.group(1)
    assert all(len(m.group(4)) == int(m.group(3)) * 52 // max(counts) for m in rows)


def test_histogram_needs_c_and_histogram_text(kernel):
    r = systrace_cmd("--histogram", "--", "true")
    assert r.returncode == 2 and "--histogram is -c's: add -c" in r.stderr
    with systrace.count("getppid", pid=os.getpid()) as s:
        for _ in range(100):
            os.getppid()
    (c,) = s.counts()
    lines = c.histogram_text().splitlines()
    assert lines[0] == "@ns[getppid]:"
    assert sum(int(HIST_ROW.match(line).group(3)) for line in lines[1:]) == c.calls == 100
    (p,) = s.counts(per_process=True)
    assert p.histogram_text().splitlines()[0] == f"@ns[getppid, {os.getpid()}]:"
