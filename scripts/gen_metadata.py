#!/usr/bin/env python3
"""Generate src/metadata/generated/{x86_64,aarch64}.rs: the embedded syscall metadata.

The tables mirror the kernel's ``struct syscall_metadata`` (see
kernel/trace/trace_syscalls.c and include/linux/syscalls.h) for a pinned,
reproducible kernel source: the Debian package ``linux-source-6.12``.

    apt-get install linux-source-6.12=6.12.117-1~deb12u1
    python3 scripts/gen_metadata.py            # writes src/metadata/generated/*.rs
    python3 scripts/gen_metadata.py --check    # exit 1 if the files are stale

How the kernel builds the table (and what this script reproduces):

* Every ``SYSCALL_DEFINEn(name, type, arg, ...)`` emits a metadata record named
  ``"sys_" name`` whose ``types``/``args`` are the stringified (``#t``/``#a``)
  macro arguments, i.e. after macro expansion: ``__user``, ``__force`` ...
  expand to nothing and runs of whitespace collapse to one space.
  ``COMPAT_SYSCALL_DEFINEn``/``SYSCALL32_DEFINEn`` are compat-only: ignored.
* At boot, init_ftrace_syscalls() walks ``sys_call_table[0..NR_syscalls)``,
  resolves each entry's symbol with kallsyms and matches it against the
  metadata names with arch_syscall_match_sym_name() (compares past the
  ``__x64_``/``__arm64_`` prefix).  ``sys_ni_syscall`` and entries without
  metadata get no event.  When several numbers share one metadata record the
  last one wins (``meta->syscall_nr = i`` for increasing ``i``), and there is
  a single event.
* The syscall tables: x86_64 uses arch/x86/entry/syscalls/syscall_64.tbl with
  abis ``common,64`` (not ``x32``); arm64 in 6.12 uses
  arch/arm64/tools/syscall_64.tbl (a symlink to scripts/syscall.tbl) with abis
  ``common,64`` plus ``renameat rlimit memfd_secret``
  (arch/arm64/kernel/Makefile.syscalls).  arch/arm64/kernel/sys.c renames
  ``__arm64_sys_personality`` to ``__arm64_sys_arm64_personality``.

Only the standard library is used; the tarball is streamed (no unpacking).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass, field

PACKAGE = "linux-source-6.12"
# Pinned Debian package version: the generated files record it, and the script
# refuses another version unless --allow-other-version is given.
PACKAGE_VERSION = "6.12.117-1~deb12u1"
DEFAULT_TARBALL = "/usr/src/linux-source-6.12.tar.xz"
TOP = "linux-source-6.12/"

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUT = os.path.join(REPO, "src", "metadata", "generated")

# Annotations that expand to nothing in a normal (non-sparse) build, so they
# vanish from the stringified type.
EMPTY_MACROS = {"__user", "__force", "__iomem", "__rcu", "__kernel", "__nocast"}


@dataclass
class Arch:
    name: str  # Rust file stem
    table: str  # path inside the tarball (after TOP)
    abis: tuple[str, ...]
    # Directories under arch/ whose sources are compiled for this arch.
    arch_dir: str
    # Entry-point renames done with #define before the table is expanded.
    renames: dict[str, str] = field(default_factory=dict)
    # Config/arch symbols (true = defined) used to pick among #ifdef variants
    # of one syscall; an unknown symbol in such a choice is an error.
    config: dict[str, bool] = field(default_factory=dict)


ARCHES = [
    Arch(
        name="x86_64",
        table="arch/x86/entry/syscalls/syscall_64.tbl",
        abis=("common", "64"),
        arch_dir="arch/x86/",
        # arch/x86/Kconfig selects CLONE_BACKWARDS for X86_32 only; no
        # OLD_SIGSUSPEND*.
        config={
            "__ARCH_WANT_SYS_CLONE": True,  # asm/unistd.h
            "CONFIG_CLONE_BACKWARDS": False,
            "CONFIG_CLONE_BACKWARDS2": False,
            "CONFIG_CLONE_BACKWARDS3": False,
            "CONFIG_OLD_SIGSUSPEND": False,
            "CONFIG_OLD_SIGSUSPEND3": False,
        },
    ),
    Arch(
        name="aarch64",
        # arch/arm64/tools/syscall_64.tbl is a symlink to this file.
        table="scripts/syscall.tbl",
        abis=("common", "64", "renameat", "rlimit", "memfd_secret"),
        arch_dir="arch/arm64/",
        # arch/arm64/kernel/sys.c: #define __arm64_sys_personality
        # __arm64_sys_arm64_personality (checked against the source below).
        renames={"sys_personality": "sys_arm64_personality"},
        # arch/arm64/Kconfig: config ARM64 selects CLONE_BACKWARDS; no
        # OLD_SIGSUSPEND*.
        config={
            "__ARCH_WANT_SYS_CLONE": True,  # asm/unistd.h
            "CONFIG_CLONE_BACKWARDS": True,
            "CONFIG_CLONE_BACKWARDS2": False,
            "CONFIG_CLONE_BACKWARDS3": False,
            "CONFIG_OLD_SIGSUSPEND": False,
            "CONFIG_OLD_SIGSUSPEND3": False,
        },
    ),
]

# Sources never compiled into a 64-bit x86_64/arm64 kernel that define a
# syscall also defined elsewhere (the variant we must not pick).
EXCLUDED_FILES = {
    "mm/nommu.c",  # !CONFIG_MMU variants of mmap_pgoff, brk, ...
    "kernel/time/posix-stubs.c",  # !CONFIG_POSIX_TIMERS stubs
}
SKIPPED_TOP_DIRS = ("Documentation/", "tools/", "samples/", "scripts/", "usr/")


# ---------------------------------------------------------------- C parsing
_TOKEN_RE = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<ident>[A-Za-z_]\w*)
  | (?P<num>\d\w*)
  | (?P<str>"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*')
  | (?P<punct>->|\.\.\.|.)
    """,
    re.VERBOSE | re.DOTALL,
)


# Comments, and string/char literals (so "/*" inside a string is not a comment).
_COMMENT_OR_LITERAL_RE = re.compile(
    r"""/\*.*?\*/|//[^\n]*|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'""", re.DOTALL
)


def strip_comments(text: str) -> str:
    """Blank out comments (keeping newlines, so line numbers stay right)."""
    out = []
    i = 0
    for m in _COMMENT_OR_LITERAL_RE.finditer(text):
        out.append(text[i : m.start()])
        tok = m.group(0)
        out.append(" " + "\n" * tok.count("\n") if tok.startswith("/") else tok)
        i = m.end()
    out.append(text[i:])
    return "".join(out)


def stringify(arg: str) -> str:
    """What the preprocessor's ``#arg`` yields after macro expansion.

    Tokens in EMPTY_MACROS disappear; two surviving tokens are separated by
    one space iff there was any whitespace between them (GCC's padding rules
    reduce to this for empty object-like macros); no leading/trailing space.
    """
    out: list[str] = []
    pending_space = False
    for m in _TOKEN_RE.finditer(arg):
        kind = m.lastgroup
        tok = m.group(0)
        if kind == "ws":
            pending_space = True
            continue
        if kind == "ident" and tok in EMPTY_MACROS:
            continue
        if out and pending_space:
            out.append(" ")
        out.append(tok)
        pending_space = False
    return "".join(out)


def split_top_level(s: str) -> list[str]:
    parts, depth, cur = [], 0, []
    for ch in s:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return parts


_DEFINE_RE = re.compile(
    r"(?<![\w])(COMPAT_SYSCALL_DEFINE|SYSCALL32_DEFINE|SYSCALL_DEFINE)([0-6])\s*\("
)


@dataclass
class Definition:
    name: str  # "sys_read"
    types: list[str]
    args: list[str]
    path: str
    line: int
    # Enclosing #if/#elif/#else conditions as C expressions, outermost first.
    conds: list[str] = field(default_factory=list)


_DIRECTIVE_RE = re.compile(r"^[ \t]*#[ \t]*(if|ifdef|ifndef|elif|else|endif)\b(.*)$", re.MULTILINE)


def conditions_at(code: str) -> list[tuple[int, list[str]]]:
    """(offset, active conditions) after each conditional directive.

    A branch's condition is its own test and-ed with the negation of the
    previous branches' tests, so each entry is a plain C expression.
    """
    stack: list[list[str]] = []  # per #if group: tests of the branches so far
    active: list[str] = []  # condition of the current branch of each group
    marks = [(0, [])]
    for m in _DIRECTIVE_RE.finditer(code):
        kind, rest = m.group(1), m.group(2).strip()
        if kind in ("if", "ifdef", "ifndef"):
            test = {"if": rest, "ifdef": f"defined({rest})", "ifndef": f"!defined({rest})"}[kind]
            stack.append([test])
            active.append(test)
        elif kind in ("elif", "else") and stack:
            prior = " && ".join(f"!({t})" for t in stack[-1])
            test = rest if kind == "elif" else "1"
            stack[-1].append(test)
            active[-1] = f"({prior}) && ({test})"
        elif kind == "endif" and stack:
            stack.pop()
            active.pop()
        marks.append((m.end(), list(active)))
    return marks


def eval_condition(expr: str, config: dict[str, bool], where: str) -> bool:
    """Evaluate a preprocessor condition given the arch's known symbols."""
    expr = re.sub(r"\bIS_ENABLED\s*\(\s*(\w+)\s*\)", r"defined(\1)", expr)
    expr = re.sub(r"\bdefined\s+(\w+)", r"defined(\1)", expr)

    def sym(m: re.Match) -> str:
        name = m.group(1)
        if name not in config:
            raise SystemExit(
                f"{where}: unknown symbol {name} in #if {expr!r}; add it to the arch config"
            )
        return str(config[name])

    py = re.sub(r"\bdefined\(\s*(\w+)\s*\)", sym, expr)
    py = py.replace("&&", " and ").replace("||", " or ")
    py = re.sub(r"!(?!=)", " not ", py)
    if re.search(r"[A-Za-z_]\w*", re.sub(r"\b(and|or|not|True|False)\b", "", py)):
        raise SystemExit(f"{where}: cannot evaluate #if {expr!r}")
    return bool(eval(py, {"__builtins__": {}}))  # only literals and operators remain


def parse_defines(path: str, text: str) -> list[Definition]:
    """Every native SYSCALL_DEFINEn invocation in one C file."""
    if "SYSCALL_DEFINE" not in text:
        return []
    code = strip_comments(text)
    defs = []
    marks = conditions_at(code)
    for m in _DEFINE_RE.finditer(code):
        if m.group(1) != "SYSCALL_DEFINE":
            continue  # compat-only entry points have no native metadata
        # Skip macro definitions (#define FOO ... SYSCALL_DEFINE...), also on
        # backslash-continued lines.
        line_start = code.rfind("\n", 0, m.start()) + 1
        while line_start > 1 and code[line_start - 2] == "\\":
            line_start = code.rfind("\n", 0, line_start - 1) + 1
        if code[line_start : m.start()].lstrip().startswith("#"):
            continue
        depth, i = 1, m.end()
        while i < len(code) and depth:
            if code[i] == "(":
                depth += 1
            elif code[i] == ")":
                depth -= 1
            i += 1
        if depth:
            raise SystemExit(f"{path}: unbalanced SYSCALL_DEFINE at offset {m.start()}")
        parts = [p.strip() for p in split_top_level(code[m.end() : i - 1].replace("\\\n", " "))]
        nb = int(m.group(2))
        if len(parts) != 1 + 2 * nb:
            raise SystemExit(
                f"{path}: SYSCALL_DEFINE{nb}({parts[0]}) has {len(parts) - 1} type/arg items"
            )
        defs.append(
            Definition(
                name="sys_" + parts[0],
                types=[stringify(t) for t in parts[1::2]],
                args=[stringify(a) for a in parts[2::2]],
                path=path,
                line=code.count("\n", 0, m.start()) + 1,
                conds=[c for off, c in marks if off <= m.start()][-1],
            )
        )
    return defs


# ------------------------------------------------------------ syscall tables
@dataclass
class TableEntry:
    nr: int
    abi: str
    name: str  # table name ("fstat")
    entry: str | None  # native entry point ("sys_newfstat"), None = sys_ni_syscall


def parse_table(text: str, abis: tuple[str, ...]) -> list[TableEntry]:
    """Like scripts/syscalltbl.sh: lines whose abi is selected, sorted by nr."""
    entries = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].split()
        if not line or not line[0].isdigit() or line[1] not in abis:
            continue
        entry = line[3] if len(line) > 3 and line[3] != "-" else None
        entries.append(TableEntry(int(line[0]), line[1], line[2], entry))
    nrs = [e.nr for e in entries]
    if nrs != sorted(set(nrs)):
        raise SystemExit("syscall table is not sorted or duplicates a number")
    return entries


# -------------------------------------------------------------------- driver
def package_version() -> str | None:
    try:
        out = subprocess.run(
            ["dpkg-query", "-W", "-f=${Version}", PACKAGE],
            check=True,
            capture_output=True,
            text=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return out.stdout.strip() or None


def sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def wanted(path: str) -> bool:
    if path in {a.table for a in ARCHES} or path == "arch/arm64/kernel/sys.c":
        return True
    if not path.endswith(".c") or path.startswith(SKIPPED_TOP_DIRS):
        return False
    if path.startswith("arch/x86/um/"):
        return False  # User-Mode Linux, not the x86 kernel
    if path.startswith("arch/"):
        return any(path.startswith(a.arch_dir) for a in ARCHES)
    return path not in EXCLUDED_FILES


def read_tarball(tarball: str) -> dict[str, str]:
    files: dict[str, str] = {}
    with tarfile.open(tarball, "r|xz") as tar:
        for member in tar:
            if not member.isfile() or not member.name.startswith(TOP):
                continue
            path = member.name[len(TOP) :]
            if not wanted(path):
                continue
            f = tar.extractfile(member)
            if f is not None:
                files[path] = f.read().decode("utf-8", errors="replace")
    return files


def read_tree(root: str) -> dict[str, str]:
    """Same as read_tarball() for an unpacked tree (faster while developing)."""
    files: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for fn in filenames:
            full = os.path.join(dirpath, fn)
            path = os.path.relpath(full, root)
            if wanted(path) and os.path.isfile(full):
                with open(full, encoding="utf-8", errors="replace") as f:
                    files[path] = f.read()
    return files


def build_arch(arch: Arch, files: dict[str, str]) -> tuple[list[dict], list[TableEntry], list[str]]:
    """Return (metadata rows sorted by nr, table entries, notes)."""
    notes: list[str] = []
    defs: dict[str, list[Definition]] = {}
    for path, text in sorted(files.items()):
        if not path.endswith(".c"):
            continue
        if path.startswith("arch/") and not path.startswith(arch.arch_dir):
            continue
        for d in parse_defines(path, text):
            defs.setdefault(d.name, []).append(d)

    # #ifdef variants of one syscall: identical ones are harmless; otherwise
    # keep the one whose #if conditions hold for this arch.
    meta: dict[str, Definition] = {}
    for name, variants in defs.items():
        sigs = {(tuple(d.types), tuple(d.args)) for d in variants}
        if len(sigs) > 1:
            variants = [
                d
                for d in variants
                if all(eval_condition(c, arch.config, f"{d.path}:{d.line}") for c in d.conds)
            ]
            if not variants:
                continue  # not compiled for this arch
            if len({(tuple(d.types), tuple(d.args)) for d in variants}) != 1:
                where = ", ".join(f"{d.path}:{d.line}" for d in defs[name])
                raise SystemExit(f"{arch.name}: cannot choose among definitions of {name}: {where}")
            notes.append(f"{name}: chose the variant at {variants[0].path}:{variants[0].line}")
        meta[name] = variants[0]

    if arch.name == "aarch64":
        sysc = files.get("arch/arm64/kernel/sys.c", "")
        for old, new in arch.renames.items():
            if not re.search(rf"#define\s+__arm64_{old}\s+__arm64_{new}\b", sysc):
                raise SystemExit(f"aarch64: expected rename {old} -> {new} not found in sys.c")

    table = parse_table(files[arch.table], arch.abis)
    # nr -> metadata name; later numbers overwrite syscall_nr of shared records.
    by_meta: dict[str, int] = {}
    for e in table:
        if e.entry is None or e.entry == "sys_ni_syscall":
            notes.append(f"nr {e.nr} ({e.name}): sys_ni_syscall")
            continue
        sym = arch.renames.get(e.entry, e.entry)
        if sym in meta:
            by_meta[sym] = e.nr  # the kernel keeps the last number
        else:
            notes.append(f"nr {e.nr} ({e.name}): entry point {sym} has no SYSCALL_DEFINE metadata")
    rows = [
        {"name": name, "nr": nr, "types": meta[name].types, "args": meta[name].args}
        for name, nr in by_meta.items()
    ]
    rows.sort(key=lambda r: r["nr"])
    return rows, table, notes


def rust_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render(arch: Arch, rows: list[dict], table: list[TableEntry], header: str) -> str:
    out = [header]
    out.append("use crate::metadata::{RawSyscallMetadata, RawTableEntry};\n\n")
    out.append("/// Syscalls that have trace events, sorted by number.\n")
    out.append("pub static SYSCALLS: &[RawSyscallMetadata] = &[\n")
    for r in rows:
        out.append("RawSyscallMetadata {\n")
        out.append(f"name: {rust_str(r['name'])},\n")
        out.append(f"syscall_nr: {r['nr']},\n")
        out.append("types: &[" + ", ".join(rust_str(t) for t in r["types"]) + "],\n")
        out.append("args: &[" + ", ".join(rust_str(a) for a in r["args"]) + "],\n")
        out.append("},\n")
    out.append("];\n\n")
    out.append("/// Every number of the syscall table: (number, table name, native entry\n")
    out.append('/// point or "" for sys_ni_syscall), sorted by number.\n')
    out.append("pub static TABLE: &[RawTableEntry] = &[\n")
    for e in table:
        entry = arch.renames.get(e.entry, e.entry) if e.entry else ""
        out.append(f"({e.nr}, {rust_str(e.name)}, {rust_str(entry)}),\n")
    out.append("];\n")
    return "".join(out)


def rustfmt(paths: list[str]) -> None:
    exe = shutil.which("rustfmt")
    if exe is None:
        raise SystemExit("rustfmt not found (needed to format the generated files)")
    subprocess.run([exe, "--edition", "2021", *paths], check=True)


def update(dest: str, new: str, check: bool) -> bool:
    """Writes `new` to `dest` if it differs, or with `check` only says so;
    False when `dest` is stale (and was not written)."""
    old = open(dest).read() if os.path.exists(dest) else None
    if old == new:
        return True
    if check:
        print(f"{dest} is stale", file=sys.stderr)
        return False
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    with open(dest, "w") as f:
        f.write(new)
    print(f"wrote {dest}")
    return True


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tarball", default=DEFAULT_TARBALL)
    ap.add_argument("--src-dir", help="use an unpacked tree instead (development only)")
    ap.add_argument("--out-dir", default=DEFAULT_OUT)
    ap.add_argument("--check", action="store_true", help="compare instead of writing")
    ap.add_argument("--allow-other-version", action="store_true")
    ap.add_argument("-v", "--verbose", action="store_true", help="list skipped numbers")
    opts = ap.parse_args()

    version = package_version()
    if version != PACKAGE_VERSION and not opts.allow_other_version:
        print(
            f"{PACKAGE} {version or 'is not installed'}; want {PACKAGE_VERSION}:\n"
            f"  apt-get install {PACKAGE}={PACKAGE_VERSION}",
            file=sys.stderr,
        )
        return 2
    digest = sha256(opts.tarball)
    files = read_tree(opts.src_dir) if opts.src_dir else read_tarball(opts.tarball)

    stale = False
    with tempfile.TemporaryDirectory() as tmp:
        outputs = []
        for arch in ARCHES:
            rows, table, notes = build_arch(arch, files)
            header = (
                "// @generated by scripts/gen_metadata.py from "
                f"{PACKAGE} {version or PACKAGE_VERSION}\n"
                f"// {os.path.basename(opts.tarball)} sha256:\n// {digest}\n"
                "// Do not edit; regenerate with `python3 scripts/gen_metadata.py`.\n"
                f"// {arch.name}: {len(rows)} syscalls with metadata, {len(table)} table entries "
                f"(abis {','.join(arch.abis)}).\n\n"
            )
            path = os.path.join(tmp, f"{arch.name}.rs")
            with open(path, "w") as f:
                f.write(render(arch, rows, table, header))
            outputs.append((arch, path, rows, notes))
        rustfmt([p for _, p, _, _ in outputs])
        for arch, path, rows, notes in outputs:
            dest = os.path.join(opts.out_dir, f"{arch.name}.rs")
            with open(path) as f:
                new = f.read()
            print(f"{arch.name}: {len(rows)} syscalls with metadata")
            if opts.verbose:
                for n in notes:
                    print("  " + n)
            stale |= not update(dest, new, opts.check)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
