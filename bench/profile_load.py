#!/usr/bin/env python3
"""Where the first load of the programs goes (issue 15), step by step.

    python3 bench/profile_load.py [--runs 5] [--python PATH] [-- CLI OPTIONS]

Loads the programs as the command does for `CLI OPTIONS` (default
`-e trace=read`: systrace._cli_start's early load), under `strace -f -T`
of bpf() and the open of the kernel's BTF, and prints, per step, the
median over the runs of the kernel's time in the syscall (map creation,
the verifier per program) and of the time spent in user space before it
(libbpf: parsing the kernel's BTF, CO-RE relocation, finding attach
targets). The step names say what each is; feature probes are libbpf's
own, done once per process. strace adds a little to each syscall: compare
the steps with each other, and the total with kernel_state()["load_steps"].
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
from collections import defaultdict

LOADER = """
import json, sys, time
from systrace import _native, _cli_start
_cli_start.start_loading(sys.argv[1:], 2 << 20, ["execve", "execveat", "exit", "exit_group"])
while True:
    steps = _native.kernel_state().get("load_steps") or []
    if any(name.startswith("start the consumer") for name, _ in steps):
        break
    time.sleep(0.002)
print(json.dumps(steps))
"""

LINE = re.compile(r"^(\d+)\s+(\d+\.\d+) (\w+)\((.*)<(\d+\.\d+)>$")
# The load runs on two threads: their calls interleave.
UNFINISHED = re.compile(r"^(\d+)\s+(\d+\.\d+) (\w+)\((.*) <unfinished \.\.\.>$")
RESUMED = re.compile(r"^(\d+)\s+\d+\.\d+ <\.\.\. \w+ resumed>(.*)<(\d+\.\d+)>$")


def describe(call: str, args: str) -> str:
    """A short name for one syscall of the load."""
    if call == "openat":
        return "open " + args.split('"')[1]
    cmd = args.split(",", 1)[0]
    if cmd == "BPF_MAP_CREATE":
        name = re.search(r'map_name="([^"]*)"', args)[1]
        kind = re.search(r"map_type=BPF_MAP_TYPE_(\w+)", args)[1].lower()
        entries = re.search(r"max_entries=(\d+)", args)[1]
        flags = re.search(r"map_flags=([\w|]+)", args)[1]
        flags = "" if flags == "0" else " " + flags.replace("BPF_F_", "").lower()
        probe = " (libbpf's probe)" if name.startswith("libbpf_") else ""
        return f"map {name}: {kind} {entries}{flags}{probe}"
    if cmd == "BPF_PROG_LOAD":
        name = re.search(r'prog_name="([^"]*)"', args)[1]
        insns = re.search(r"insn_cnt=(\d+)", args)[1]
        if not name or name.startswith(("libbpf_", "det_arg")):
            return "prog load (libbpf's feature probe)"
        return f"verifier: {name} ({insns} insns)"
    if cmd == "BPF_BTF_LOAD":
        size = int(re.search(r"btf_size=(\d+)", args)[1])
        return "BTF load: the object's" if size > 4096 else "BTF load (libbpf's feature probe)"
    return cmd.lower().replace("bpf_", "bpf ")


def one_run(python: str, cli: list, out: str) -> list:
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(LOADER)
    try:
        subprocess.run(["strace", "-f", "-ttt", "-T", "-s", "64", "-e", "trace=bpf,openat", "-o", out,
                        python, f.name, *cli], check=True, stdout=subprocess.DEVNULL)
    finally:
        os.unlink(f.name)
    rows, prev_end, started, pending = [], {}, False, {}
    with open(out) as f:
        for line in f:
            line = line.rstrip()
            m = UNFINISHED.match(line)
            if m:
                pending[m[1]] = m.groups()[:4]
                continue
            m = RESUMED.match(line)
            if m and m[1] in pending:
                tid, ts, call, args = pending.pop(m[1])
                args += m[2]
                dur = m[3]
            else:
                m = LINE.match(line)
                if not m:
                    continue
                tid, ts, call, args, dur = m.groups()
            ts, dur = float(ts), float(dur)
            if call == "openat" and "/sys/kernel/btf/vmlinux" not in args:
                continue
            if call == "bpf" and not started:
                if "BPF_PROG_LOAD" not in args and "0x24" not in args:  # the load starts with probes
                    continue
                started = True
            if not started:
                continue
            if call == "bpf" and args.startswith(("BPF_OBJ_GET_INFO", "BPF_MAP_GET_NEXT", "BPF_MAP_LOOKUP",
                                                  "BPF_MAP_UPDATE", "BPF_LINK", "BPF_MAP_DELETE")):
                continue
            # Per thread: the user-space time before each of its calls.
            gap = (ts - prev_end[tid]) if tid in prev_end else 0.0
            rows.append((describe(call, args), gap * 1e3, dur * 1e3))
            prev_end[tid] = ts + dur
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("cli", nargs="*", default=["-e", "trace=read", "--", "true"])
    args = ap.parse_args()
    cli = args.cli if "--" in args.cli else [*args.cli, "--", "true"]
    gaps, times, order = defaultdict(list), defaultdict(list), []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.runs):
            seen = defaultdict(int)
            for name, gap, dur in one_run(args.python, cli, os.path.join(tmp, f"strace{i}")):
                seen[name] += 1
                key = name if seen[name] == 1 else f"{name} #{seen[name]}"
                if key not in order:
                    order.append(key)
                gaps[key].append(gap)
                times[key].append(dur)
    print(f"{'step (medians of %d runs, ms)' % args.runs:66} {'user space':>10} {'kernel':>8}")
    total_gap = total_dur = 0.0
    prev = ""
    for key in order:
        g, d = statistics.median(gaps[key]), statistics.median(times[key])
        total_gap += g
        total_dur += d
        if g >= 0.3:
            print(f"  {user_space(prev, key):64} {g:10.2f}")
        print(f"{key:66} {'':10} {d:8.2f}")
        prev = key
    print(f"{'total':66} {total_gap:10.2f} {total_dur:8.2f}")


def user_space(prev: str, step: str) -> str:
    """What libbpf does between two syscalls of the load (its order, in
    bpf_object_load: parse the kernel's BTF, relocate, create the maps,
    load each program)."""
    if prev.startswith("open /sys/kernel/btf"):
        return "libbpf: parse the kernel's BTF"
    if prev.startswith("map libbpf_mmap"):
        return "libbpf: CO-RE relocation (candidates searched in the kernel's BTF)"
    if step.startswith("verifier:"):
        return "libbpf: prepare the program (a tp_btf's attach target by name)"
    return "user space (or the thread preempted)"


if __name__ == "__main__":
    main()
