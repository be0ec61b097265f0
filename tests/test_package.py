"""The package itself: its version, and the command's --version and shell
completion (the optional extra 'systrace[completion]', shtab)."""
from __future__ import annotations

import importlib.metadata
import os
import re
import shutil
import subprocess
import sys

import systrace

REQUIRE_OPTIONAL = os.environ.get("SYSTRACE_REQUIRE_OPTIONAL") == "1"


def test_version_is_the_package_metadatas():
    assert systrace.__version__ == importlib.metadata.version("systrace")
    assert re.fullmatch(r"\d+\.\d+\.\d+\S*", systrace.__version__)


def test_command_version():
    commands = [[sys.executable, "-m", "systrace"], [os.path.join(os.path.dirname(sys.executable), "systrace")]]
    for command in commands:
        r = subprocess.run([*command, "--version"], capture_output=True, text=True, timeout=60)
        assert (r.returncode, r.stdout, r.stderr) == (0, f"systrace {systrace.__version__}\n", ""), command


def test_shell_completion():
    try:
        import shtab  # noqa: F401
    except ImportError:
        if REQUIRE_OPTIONAL:
            raise
        import pytest

        pytest.skip("shtab is not installed (pip install 'systrace[completion]')")
    r = subprocess.run(
        [sys.executable, "-m", "systrace", "--print-completion", "bash"], capture_output=True, text=True, timeout=60
    )
    assert r.returncode == 0, r.stderr
    for option in ("--format", "--buffer-size", "--version", "-e", "-p", "-o"):
        assert re.search(rf"(^|[ '\"(]){re.escape(option)}([ '\")]|$)", r.stdout, re.M), option
    if shutil.which("bash"):
        # The script is valid bash, and defines its completion function.
        check = subprocess.run(["bash", "-c", r.stdout + "\ncomplete -p systrace"], capture_output=True, text=True)
        assert check.returncode == 0 and "systrace" in check.stdout, check.stderr
