"""The release wheel is manylinux2014 and installs and traces on an older
Debian without build tools.

Slow, so it runs only with SYSTRACE_TEST_WHEEL=1 (as root):

    SYSTRACE_TEST_WHEEL=1 .venv/bin/python -m pytest -v tests/test_wheel.py

It builds the wheel once (module fixture) with scripts/build_wheel.sh:
libbpf, libelf and zlib from source, linked statically, and zig for
glibc 2.17 (several minutes from a cold cargo cache, see docs/install.md;
SYSTRACE_WHEEL=path/to.whl checks that wheel instead of building one). It
checks the wheel's tag and contents and the glibc symbol versions the
extension requires (objdump, from binutils), then runs scripts/check_wheel.sh
on it: a debootstrapped minimal Debian 11 bullseye (glibc 2.31, Python 3.9;
python3 and python3-venv only) in a chroot, a venv, `pip install --no-index`
of the wheel alone, ldd of the extension, and a trace of getppid. The first
run debootstraps the chroot (about 4 minutes, cached in
/var/cache/systrace/); later checks take about 15 seconds.
"""
from __future__ import annotations

import ctypes.util
import glob
import os
import pathlib
import platform
import re
import subprocess
import zipfile

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# manylinux2014 is glibc 2.17 (PEP 599); PEP 600 spells it manylinux_2_17.
GLIBC_FLOOR = (2, 17)
# What the extension may link dynamically: glibc's libraries and libgcc_s
# (the manylinux2014 policy's list, of which Rust needs these).
ALLOWED_NEEDED = re.compile(r"(libc|libm|libdl|libpthread|librt|libgcc_s)\.so\.\d+|ld-linux.*\.so\.\d+")

pytestmark = pytest.mark.skipif(
    os.environ.get("SYSTRACE_TEST_WHEEL") != "1",
    reason="slow (builds a wheel and a Debian chroot): set SYSTRACE_TEST_WHEEL=1 to run",
)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> str:
    given = os.environ.get("SYSTRACE_WHEEL")
    if given:
        return os.path.abspath(given)
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([os.path.join(ROOT, "scripts", "build_wheel.sh"), str(out)], check=True, timeout=3600)
    (path,) = glob.glob(os.path.join(out, "systrace-*.whl"))
    return path


def test_wheel_is_manylinux2014_abi3_with_one_extension(wheel: str) -> None:
    name = os.path.basename(wheel)
    assert name.endswith(".whl"), name
    # NAME-VERSION-PYTHON-ABI-PLATFORMS.whl, the platform tags dot-separated.
    _, _, python, abi, platforms = name[: -len(".whl")].split("-")
    arch = platform.machine()
    assert (python, abi) == ("cp39", "abi3"), name
    assert set(platforms.split(".")) == {f"manylinux2014_{arch}", f"manylinux_2_17_{arch}"}, name
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
    assert "systrace/py.typed" in names
    # The command: a script of our own (python/systrace.data/scripts), not
    # an entry point the installer wraps in a script that imports `re`.
    script = next(n for n in names if n.endswith(".data/scripts/systrace"))
    with zipfile.ZipFile(wheel) as z:
        assert z.read(script).startswith(b"#!python\n")
    # One shared object, the extension: libbpf, libelf and zlib are linked
    # into it, no library is bundled beside it.
    assert [n for n in names if re.search(r"\.so(\.|$)", n)] == ["systrace/_native.abi3.so"], names
    assert not [n for n in names if ".libs/" in n], names


def version_needs(so: str) -> tuple[list[str], dict[str, set[str]]]:
    """The DT_NEEDED libraries of an ELF object and, per library, the symbol
    versions it requires from it (the ELF version needs), read with objdump."""
    out = subprocess.run(["objdump", "-p", so], check=True, capture_output=True, text=True).stdout
    needed = re.findall(r"^\s*NEEDED\s+(\S+)$", out, re.M)
    needs: dict[str, set[str]] = {}
    lib = None
    _, _, references = out.partition("Version References:")
    for line in references.splitlines():
        m = re.match(r"\s*required from (\S+):$", line)
        if m:
            lib = m.group(1)
            needs[lib] = set()
            continue
        m = re.match(r"\s*0x[0-9a-f]+ 0x[0-9a-f]+ \d+ (\S+)$", line)
        if m and lib is not None:
            needs[lib].add(m.group(1))
    return needed, needs


def test_extension_needs_only_glibc_2_17(wheel: str, tmp_path: pathlib.Path) -> None:
    with zipfile.ZipFile(wheel) as z:
        so = z.extract("systrace/_native.abi3.so", tmp_path)
    needed, needs = version_needs(so)
    assert needed, "objdump found no NEEDED entries: the parse is broken"
    assert all(ALLOWED_NEEDED.fullmatch(n) for n in needed), needed
    glibc = {
        tuple(int(x) for x in v.split("_", 1)[1].split("."))
        for versions in needs.values()
        for v in versions
        if v.startswith("GLIBC_") and v[6:7].isdigit()
    }
    # A Rust extension always needs versioned glibc symbols: none found means
    # objdump's output was not understood.
    assert glibc, needs
    assert max(glibc) <= GLIBC_FLOOR, (max(glibc), needs)


def test_version_needs_reads_a_bookworm_binary() -> None:
    # The parser on a library of this machine (bookworm's libelf needs
    # GLIBC_2.33): a binary built against a newer glibc fails the test above.
    libelf = ctypes.util.find_library("elf")
    paths = glob.glob(f"/usr/lib/*-linux-gnu/{libelf}") if libelf else []
    assert paths, "libelf.so.1 (libelf1) not found: make dev needs it"
    needed, needs = version_needs(paths[0])
    assert "libc.so.6" in needed
    newer = [v for v in needs["libc.so.6"] if v.startswith("GLIBC_2.") and tuple(map(int, v[6:].split("."))) > GLIBC_FLOOR]
    assert newer, needs


def test_wheel_installs_and_traces_on_bullseye_without_build_tools(wheel: str) -> None:
    if os.geteuid() != 0:
        pytest.fail("the wheel check needs root (debootstrap, chroot, tracing)")
    r = subprocess.run(
        [os.path.join(ROOT, "scripts", "check_wheel.sh"), wheel],
        capture_output=True,
        text=True,
        timeout=1800,
        env={**os.environ, "SYSTRACE_CHECK_SUITE": "bullseye"},
    )
    print(r.stdout)
    print(r.stderr)
    assert r.returncode == 0, r.stderr[-3000:]
    # Debian 11: glibc 2.31, older than the build machine's and than the
    # manylinux_2_34 the wheel used to need.
    assert "Debian GNU/Linux 11 (bullseye), Python 3.9" in r.stdout
    assert "glibc 2.31" in r.stdout
    ldd = r.stdout.split("== ldd", 1)[1].split("== trace", 1)[0]
    assert "libc.so.6" in ldd
    assert "libelf" not in ldd and "libz" not in ldd and "not found" not in ldd, ldd
    assert "OK: traced getppid" in r.stdout
    # The command is the wheel's script, its first line made the venv's python.
    assert "#!/opt/venv/bin/python" in r.stdout
    assert "OK: the command traced getppid" in r.stdout
