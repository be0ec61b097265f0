#!/usr/bin/env python3
"""The deepest chain of BPF stack each program of the object can use, and
its deepest chain of calls.

    python3 scripts/bpf_stack.py [OBJECT...]

The verifier adds up the stack of every frame along a chain of calls
(global functions, static ones and bpf_loop callbacks alike), each rounded
up to 16 bytes under the JIT, and refuses a program whose deepest chain
passes 512 bytes, unless the kernel gives a called function a private stack
of its own. Kernels of one machine kind differ there (one build loaded
chains of 624 bytes, the next refused 576), so the chains must fit in 512
everywhere. It also refuses a chain of more than 8 frames (the kernel's
MAX_CALL_FRAMES; a bpf_loop callback is a frame). This reads the compiled
object (llvm-objdump) and fails past either limit. OBJECT defaults to the newest build's objects (every
architecture's).
"""
from __future__ import annotations

import functools
import glob
import os
import re
import subprocess
import sys

LIMIT = 512
MAX_FRAMES = 8


def frames(obj: str) -> dict:
    """(section, function) -> (its own stack bytes, the functions it calls)."""
    text = subprocess.run(["llvm-objdump", "-dr", obj], check=True, capture_output=True,
                          text=True).stdout
    funcs: dict = {}
    starts: dict = {}  # section -> [(first insn, function)]
    insns = []  # (function, insn index, bytes, text, relocation symbol)
    section = cur = None
    for line in text.splitlines():
        if m := re.match(r"Disassembly of section (.*):", line):
            section = m.group(1)
        elif m := re.match(r"([0-9a-f]+) <(.*)>:", line):
            if not m.group(2).startswith("LBB"):  # a label inside a function
                cur = (section, m.group(2))
                funcs[cur] = [0, []]
                starts.setdefault(section, []).append((int(m.group(1), 16) // 8, cur))
        elif m := re.match(r"\s+(\d+):\t((?:[0-9a-f]{2} ?){8,16})\t(.*)", line):
            if cur:
                insns.append([cur, int(m.group(1)), m.group(2).split(), m.group(3), None])
                if d := re.search(r"r10 - (\d+)", m.group(3)):
                    funcs[cur][0] = max(funcs[cur][0], int(d.group(1)))
        elif m := re.match(r"\s+[0-9a-f]+:\s+R_BPF_\w+\s+(\S+)", line):
            if insns:
                insns[-1][4] = m.group(1)

    def function_at(sec: str, insn: int):
        return max((s for s in starts[sec] if s[0] <= insn), key=lambda s: s[0])[1]

    by_name = {name: key for key in funcs for name in [key[1]]}
    for func, index, raw, _, sym in insns:
        imm = int.from_bytes(bytes(int(b, 16) for b in raw[4:8]), "little", signed=True)
        if raw[0] == "85" and int(raw[1], 16) >> 4 == 1:  # a call of a BPF function
            if sym == ".text":
                callee = function_at(".text", imm + 1)
            elif sym:
                callee = by_name[sym]
            else:
                callee = function_at(func[0], index + imm + 1)
            funcs[func][1].append(callee)
        elif raw[0] == "18" and sym == ".text":  # a callback's address (bpf_loop)
            funcs[func][1].append(function_at(".text", imm // 8))
    return funcs


def deepest_chains(funcs: dict) -> list:
    """(bytes, chain, frames of its longest chain) of each program, deepest
    first."""

    @functools.lru_cache(maxsize=None)
    def deepest(func) -> tuple:
        own = (funcs[func][0] + 15) // 16 * 16
        below = max((deepest(c) for c in set(funcs[func][1]) if c != func), default=(0, ()))
        return own + below[0], (f"{func[1]} ({funcs[func][0]})",) + below[1]

    @functools.lru_cache(maxsize=None)
    def frames(func) -> int:
        return 1 + max((frames(c) for c in set(funcs[func][1]) if c != func), default=0)

    return sorted(((*deepest(f), frames(f)) for f in funcs if f[0] != ".text"), reverse=True)


def main() -> int:
    if len(sys.argv) > 1:
        objects = sys.argv[1:]
    else:
        found = glob.glob("target/*/build/systrace-*/out/systrace.bpf.o")
        if not found:
            print("bpf_stack: no built systrace.bpf.o under target/ (build first)", file=sys.stderr)
            return 2
        # The newest build's object and the other architectures' beside it.
        objects = sorted(glob.glob(os.path.join(os.path.dirname(max(found, key=os.path.getmtime)),
                                                "systrace*.bpf.o")))
    failed = False
    for obj in objects:
        print(obj)
        chains = deepest_chains(frames(obj))
        for size, chain, depth in chains:
            print(f"{size:6} bytes: {' -> '.join(chain)} (its longest chain of calls: {depth} frames)")
        if chains[0][0] > LIMIT:
            print(f"bpf_stack: a chain of {chains[0][0]} bytes of BPF stack (limit {LIMIT}) in {obj}",
                  file=sys.stderr)
            failed = True
        if max(c[2] for c in chains) > MAX_FRAMES:
            print(f"bpf_stack: a chain of calls more than {MAX_FRAMES} frames deep in {obj}",
                  file=sys.stderr)
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
