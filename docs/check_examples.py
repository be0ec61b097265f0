#!/usr/bin/env python3
"""Run every example of docs/ and check its output; check that each page
shows its examples exactly as they are in docs/examples/.

    sudo .venv/bin/python docs/check_examples.py          # all
    sudo .venv/bin/python docs/check_examples.py embed    # some, by name

A page includes an example as a fenced ```python block right after the line
`<!-- example: examples/NAME.py -->`; the block must be the file's text.
Each example runs in its own process (tracing needs root, or CAP_BPF with
CAP_PERFMON) and its output must match the patterns below. Exits 1 on any
failure.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from typing import Dict, List

DOCS = os.path.dirname(os.path.abspath(__file__))

# Example -> patterns its output must match (re.search, multiline).
EXPECT: Dict[str, List[str]] = {
    "embed": [
        r"^calls: \{'close': 2, 'openat': 2, 'read': \d+, 'write': 3\}$",
        r"^bytes written per fd: \{\d+: 17\}$",
    ],
    "trace_subprocess": [
        r"^returncode=3 dropped=0$",
        r"argv=\['sh', '-c', 'cat /etc/hostname \| wc -c > /dev/null; exit 3'\] exit=3",
        r"argv=\['cat', '/etc/hostname'\] exit=0",
        r"argv=\['wc', '-c'\] exit=0",
    ],
    "opened_files": [
        r"^cat +open(at)? +/etc/hostname +-> fd \d+$",
        r"^cat +open(at)? +/etc/no-such-file +-> ENOENT$",
    ],
    "touched_files": [
        r"^mkdirat +WORK/out +fds \{'dfd': 'WORK'\}$",
        r"^openat +WORK/out/result\.txt +fds \{'dfd': 'WORK'\}$",
        r"^write +fds \{'fd': 'WORK/out/result\.txt'\}$",
    ],
    "count_failures": [
        r"^openat 3 \{'EISDIR': 1, 'ENOENT': 2\}$",
    ],
    "socket_messages": [
        r"^sendmsg \[\('hello, ', 7\), \('world', 5\)\] control bytes: 24$",
        r"^recvmsg \[\('hello, world', 100\)\] control bytes: 24$",
        r"cmsg_type=SCM_RIGHTS, cmsg_data=\[\d+\]\}\], msg_controllen=24, msg_flags=0\}, 0\) = 12$",
    ],
    "slow_syscalls": [
        r"the 5 slowest:",
        r"^ +\d+\.\d+ ms  tid \d+  read\(\d+, \"late data\", 100\) = 9$",
        r"^ +\d+\.\d+ ms  tid \d+  clock_nanosleep\(",
    ],
    "dataframe": [
        r"timestamp_ns +tid +name +phase +ret +arg0",
        r"'ret': Int64Dtype\(\)",
        r"^openat +20\d +[\d.]+ +1$",
        r"openat +/tmp/\S+/missing +ENOENT",
    ],
    "chrome_trace": [
        r"trace events, \d+ slices on 3 thread tracks",
        r'"name": "getppid", "cat": "syscall,pure".*"ph": "X", "ts": [\d.]+, "dur": [\d.]+',
    ],
    "columns": [
        r"^enters: \{'getppid': 1000, 'getuid': 1\}$",
        r"^formats: \{'timestamp_ns': 'Q', 'pid': 'I', 'tid': 'I', 'cpu': 'H', 'nr': 'I', 'phase': 'B', "
        r"'ret': 'q', 'nb_args': 'B', 'arg0': 'Q', .*'arg5': 'Q', 'comm': '16s'\}$",
    ],
    "pytest_markers": [
        r"^_+ test_writes_elsewhere _+$",
        r'^  no_writes_outside: \[pid \d+\] openat\(AT_FDCWD, "stray.txt", O_WRONLY\|O_CREAT\|O_TRUNC\|O_CLOEXEC, 0666\) = \d+  \(writes /\S+/stray\.txt\)$',
        r"^FAILED \S*pytest_markers.py::test_writes_elsewhere( - .*)?$",
        r"^1 failed, 3 passed in ",
        r"^pytest exit status: 1$",
    ],
    "hive_query": [
        r"^host=db1/date=\d{4}-\d\d-\d\d/trace-\d+-\d{8}T\d{12}\.parquet$",
        r"^db1   openat  ENOENT  2\ndb1   openat  EISDIR  1\nweb1  openat  ENOENT  1$",
    ],
    "asyncio_stream": [
        r"^tick +\d+: sys_getppid\(\)$",
        r"^tick +\d+: sys_getppid -> 0x[0-9a-f]+$",
        r"^done: the ticker ran \d+ times meanwhile$",
    ],
}

INCLUDE = re.compile(r"<!-- example: (examples/[\w.]+) -->\n```python\n(.*?)```\n", re.S)


def check_pages() -> List[str]:
    """Each included example is the file's text; every example is shown."""
    errors = []
    shown = set()
    for page in sorted(os.listdir(DOCS)):
        if not page.endswith(".md"):
            continue
        text = open(os.path.join(DOCS, page), encoding="utf-8").read()
        for rel, block in INCLUDE.findall(text):
            shown.add(os.path.splitext(os.path.basename(rel))[0])
            path = os.path.join(DOCS, rel)
            if not os.path.exists(path):
                errors.append(f"{page}: {rel} does not exist")
            elif open(path, encoding="utf-8").read() != block:
                errors.append(f"{page}: the block of {rel} differs from the file")
    for name in sorted(set(EXPECT) - shown):
        errors.append(f"examples/{name}.py is shown on no page")
    return errors


def run_example(name: str) -> List[str]:
    path = os.path.join(DOCS, "examples", name + ".py")
    with tempfile.TemporaryDirectory() as tmp:
        args = [sys.executable, path]
        if name == "chrome_trace":
            args.append(os.path.join(tmp, "trace.json"))
        r = subprocess.run(args, cwd=tmp, capture_output=True, text=True, timeout=120)
    out = r.stdout
    print(f"== {name} (exit {r.returncode})")
    print(out, end="")
    if r.returncode != 0:
        return [f"{name}: exit status {r.returncode}\n{r.stderr}"]
    return [f"{name}: no line matches {p!r}" for p in EXPECT[name] if not re.search(p, out, re.M)]


def main(argv: List[str]) -> int:
    names = argv or sorted(EXPECT)
    unknown = [n for n in names if n not in EXPECT]
    if unknown:
        print(f"unknown examples: {unknown}; known: {sorted(EXPECT)}", file=sys.stderr)
        return 2
    errors = check_pages() if not argv else []
    failed = set()
    for name in names:
        problems = run_example(name)
        if problems:
            failed.add(name)
        errors += problems
    for e in errors:
        print("FAIL:", e, file=sys.stderr)
    print(f"examples: {len(names) - len(failed)} of {len(names)} passed; page errors: {len(errors) - sum(1 for e in errors if e.split(':')[0] in failed)}")
    return 1 if errors else 0

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
