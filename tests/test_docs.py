"""The examples of docs/ run and print what the pages show
(docs/check_examples.py). Kernel tests: they use the `kernel` fixture."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

CHECK = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs", "check_examples.py")
sys.path.insert(0, os.path.dirname(CHECK))
import check_examples  # noqa: E402

sys.path.pop(0)


def test_pages_show_the_examples_as_they_are():
    assert check_examples.check_pages() == []


@pytest.mark.parametrize("name", sorted(check_examples.EXPECT))
def test_example(kernel, name):
    if name == "dataframe" and os.environ.get("SYSTRACE_REQUIRE_OPTIONAL") != "1":
        pytest.importorskip("pandas")
        pytest.importorskip("pyarrow")
    r = subprocess.run([sys.executable, CHECK, name], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr


def test_the_readme_first_example_runs(kernel):
    """examples/trace_pipe.py, the command the README opens with: its four
    events, exactly, and what it read back."""
    example = os.path.join(os.path.dirname(CHECK), "..", "examples", "trace_pipe.py")
    r = subprocess.run([sys.executable, example], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    kinds = [line.split()[:2] for line in lines if line.startswith(("enter", "exit"))]
    assert kinds == [["enter", "write"], ["exit", "write"], ["enter", "read"], ["exit", "read"]], r.stdout
    assert any(line.strip().startswith("sys_write(fd: ") and line.strip().endswith("count: 5)") for line in lines)
    assert "      sys_read -> 0x5" in lines
    assert lines[-1] == "read back: b'hello' | dropped: 0"
