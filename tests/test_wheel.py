"""The release wheel installs and traces on a Debian without build tools.

Slow, so it runs only with SYSTRACE_TEST_WHEEL=1 (as root):

    SYSTRACE_TEST_WHEEL=1 .venv/bin/python -m pytest -v tests/test_wheel.py

It builds the wheel with scripts/build_wheel.sh (about 1.5 minutes with a
warm cargo cache; SYSTRACE_WHEEL=path/to.whl checks that wheel instead of
building one), then runs scripts/check_wheel.sh on it: a debootstrapped
minimal Debian bookworm (python3 and python3-venv only) in a chroot, a venv,
`pip install --no-index` of the wheel alone, ldd of the extension, and a
trace of getppid. The first run debootstraps the chroot (about 4 minutes,
cached in /var/cache/systrace/); later checks take about 15 seconds.
"""
from __future__ import annotations

import glob
import os
import subprocess
import zipfile

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

pytestmark = pytest.mark.skipif(
    os.environ.get("SYSTRACE_TEST_WHEEL") != "1",
    reason="slow (builds a wheel and a Debian chroot): set SYSTRACE_TEST_WHEEL=1 to run",
)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> str:
    given = os.environ.get("SYSTRACE_WHEEL")
    if given:
        return os.path.abspath(given)
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([os.path.join(ROOT, "scripts", "build_wheel.sh"), str(out)], check=True, timeout=1800)
    (path,) = glob.glob(os.path.join(out, "systrace-*.whl"))
    return path


def test_wheel_is_manylinux_abi3_with_its_libraries(wheel):
    name = os.path.basename(wheel)
    assert "-cp39-abi3-manylinux_" in name, name
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
    assert "systrace/_native.abi3.so" in names
    assert "systrace/py.typed" in names
    # libelf is bundled (libz is on the manylinux allow-list: every
    # manylinux system has it, so auditwheel leaves it out).
    assert any(n.startswith("systrace.libs/libelf") for n in names), names


def test_wheel_installs_and_traces_without_build_tools(wheel):
    if os.geteuid() != 0:
        pytest.fail("the wheel check needs root (debootstrap, chroot, tracing)")
    r = subprocess.run(
        [os.path.join(ROOT, "scripts", "check_wheel.sh"), wheel],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    print(r.stdout)
    print(r.stderr)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "libelf" in r.stdout and "systrace.libs/" in r.stdout
    assert "not found" not in r.stdout
    assert "OK: traced getppid" in r.stdout
