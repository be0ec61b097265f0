"""A tool author's code type-checks under mypy --strict, and the public
API reveals no Any: the stubs are precise enough to use without casts."""
from __future__ import annotations

import os
import re
import subprocess
import sys

TOOL = '''
import os
import systrace

def files_touched(argv: list[str]) -> set[str]:
    paths: set[str] = set()
    with systrace.enable("openat", "execve", strings=True, follow=True) as session:
        os.system(" ".join(argv))
    for call in session.calls():
        reveal_type(call)
        reveal_type(call.args)
        reveal_type(call.arg_int("flags"))
        reveal_type(call.arg_str("filename"))
        reveal_type(call.arg_bytes("filename"))
        reveal_type(call.arg_list("argv"))
        reveal_type(call.ret)
        reveal_type(call.errno)
        reveal_type(call.duration_ns)
        reveal_type(call.to_dict())
        name = call.arg_str("filename")
        if name is not None and call.arg_int("flags") & os.O_CREAT:
            paths.add(name)
    reveal_type(session)
    reveal_type(session.events())
    reveal_type(session.batches())
    reveal_type(session.syscalls)
    reveal_type(session.pids)
    reveal_type(session.dropped)
    for batch in session.batches():
        reveal_type(batch)
        reveal_type(batch.columns())
        for ev in batch:
            reveal_type(ev)
            reveal_type(ev.args)
            reveal_type(ev.captured)
            reveal_type(ev.ret)
    reveal_type(systrace.calls(session))
    reveal_type(systrace.iter_calls(session))
    reveal_type(systrace.metadata("read"))
    reveal_type(systrace.event_class("sys_enter_read").define_fields())
    return paths
'''


def test_tool_code_passes_mypy_strict_without_any(tmp_path):
    tool = tmp_path / "tool.py"
    tool.write_text(TOOL)
    env = dict(os.environ, MYPY_CACHE_DIR=str(tmp_path / "cache"))
    r = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(tool)],
        capture_output=True, text=True, timeout=300, env=env,
    )
    revealed = re.findall(r'Revealed type is "(.*)"', r.stdout)
    errors = [line for line in r.stdout.splitlines() if ": error:" in line]
    assert not errors, r.stdout
    assert len(revealed) == TOOL.count("reveal_type("), r.stdout
    with_any = [t for t in revealed if re.search(r"\bAny\b", t)]
    assert not with_any, "\n".join(with_any)
