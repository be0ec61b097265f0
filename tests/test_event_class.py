"""The event-class API against the running kernel's own description of its
syscall events (tracefs events/syscalls/*/format), byte for byte.

The tracefs comparisons use the `tracefs` fixture: without tracefs they skip,
and under SYSTRACE_REQUIRE_KERNEL=1 they fail.
"""
from __future__ import annotations

import difflib
import json
import os
import subprocess
import sys

import pytest

import systrace
from systrace import Field, _native

READ_TYPES = ("unsigned int", "char *", "size_t")
READ_ARGS = ("fd", "buf", "count")

COMMON = [
    Field("unsigned short", "common_type", 0, 2, False),
    Field("unsigned char", "common_flags", 2, 1, False),
    Field("unsigned char", "common_preempt_count", 3, 1, False),
    Field("int", "common_pid", 4, 4, True),
]


def _syscall_events(tracefs: str) -> list:
    """Every event directory under events/syscalls, sorted."""
    root = os.path.join(tracefs, "events", "syscalls")
    return sorted(
        name
        for name in os.listdir(root)
        if os.path.isdir(os.path.join(root, name))
    )


def _read(path: str) -> str:
    with open(path) as f:
        return f.read()


def _diff(event: str, kernel: str, ours: str, embedded: bool = False) -> str:
    return "".join(
        difflib.unified_diff(
            kernel.splitlines(keepends=True),
            ours.splitlines(keepends=True),
            fromfile=f"tracefs events/syscalls/{event}/format",
            tofile=f"systrace.event_class({event!r}).format" + (" (embedded)" if embedded else ""),
        )
    )


# --- metadata -------------------------------------------------------------


@pytest.mark.skipif(systrace.ARCH != "x86_64", reason="syscall numbers of x86_64")
@pytest.mark.parametrize("key", ["read", "sys_read", 0])
def test_metadata_read(key):
    m = systrace.metadata(key)
    assert m.name == "sys_read"
    assert m.nr == 0
    assert m.nb_args == 3
    assert m.types == READ_TYPES
    assert m.args == READ_ARGS


def test_metadata_by_name_and_number_agree():
    for m in systrace.metadata_table():
        assert systrace.metadata(m.nr) == m
        assert systrace.metadata(m.name) == m
        assert len(m.types) == len(m.args) == m.nb_args <= 6, m


@pytest.mark.parametrize("name", ["no_such_syscall", "sys_no_such_syscall", "raed"])
def test_metadata_unknown_name(name):
    with pytest.raises(ValueError) as exc:
        systrace.metadata(name)
    assert name in str(exc.value)


def test_metadata_unknown_number():
    with pytest.raises(ValueError) as exc:
        systrace.metadata(100000)
    assert "100000" in str(exc.value)


@pytest.mark.parametrize(
    "event", ["sys_enter_no_such_syscall", "sys_exit_no_such_syscall", "read", "sys_read", ""]
)
def test_event_class_unknown(event):
    with pytest.raises(ValueError) as exc:
        systrace.event_class(event)
    assert repr(event) in str(exc.value) or f'"{event}"' in str(exc.value)


# --- event classes ----------------------------------------------------------


def test_enter_read_event_class():
    ec = systrace.event_class("sys_enter_read")
    assert ec.system == "syscalls"
    assert ec.phase == "enter"
    assert ec.metadata.name == "sys_read"
    assert ec.define_fields() == [
        Field("int", "__syscall_nr", 8, 4, True),
        Field("unsigned int", "fd", 16, 8, False),
        Field("char *", "buf", 24, 8, False),
        Field("size_t", "count", 32, 8, False),
    ]
    assert ec.common_fields() == COMMON
    assert ec.fields == COMMON + ec.define_fields()
    assert ec.print_fmt == (
        '"fd: 0x%08lx, buf: 0x%08lx, count: 0x%08lx", ((unsigned long)(REC->fd)), '
        "((unsigned long)(REC->buf)), ((unsigned long)(REC->count))"
    )


def test_exit_read_event_class():
    ec = systrace.event_class("sys_exit_read")
    assert ec.system == "syscalls"
    assert ec.phase == "exit"
    assert ec.define_fields() == [
        Field("int", "__syscall_nr", 8, 4, True),
        Field("long", "ret", 16, 8, True),
    ]
    assert ec.print_fmt == '"0x%lx", REC->ret'


def test_no_arg_event_class():
    ec = systrace.event_class("sys_enter_getppid")
    assert ec.define_fields() == [Field("int", "__syscall_nr", 8, 4, True)]
    assert ec.print_fmt == '""'


def test_event_classes_cover_the_table():
    classes = systrace.event_classes()
    table = systrace.metadata_table()
    assert len(classes) == 2 * len(table)
    for ec in classes:
        assert systrace.event_class(ec.name) == ec


def test_read_ids_are_the_kernels(tracefs):
    root = os.path.join(tracefs, "events", "syscalls")
    for event in ("sys_enter_read", "sys_exit_read"):
        want = int(_read(os.path.join(root, event, "id")))
        assert systrace.event_class(event).id == want, event


def test_metadata_comes_from_tracefs(tracefs):
    assert _native.metadata_source() == f"tracefs:{tracefs}"


def test_every_tracefs_format_byte_for_byte(tracefs):
    """EVERY event under events/syscalls, not a sample: the format text,
    the id, define_fields() and print_fmt must be the kernel's."""
    assert _native.metadata_source() == f"tracefs:{tracefs}", "the table must come from tracefs"
    root = os.path.join(tracefs, "events", "syscalls")
    events = _syscall_events(tracefs)
    failures = []
    compared = 0
    for event in events:
        kernel = _read(os.path.join(root, event, "format"))
        try:
            ec = systrace.event_class(event)
            ours = ec.format
        except ValueError as e:
            failures.append((event, f"event_class({event!r}) raised ValueError: {e}"))
            continue
        compared += 1
        if ours != kernel:
            failures.append((event, _diff(event, kernel, ours)))
            continue
        # The pieces agree with the file as well.
        if ec.id != int(_read(os.path.join(root, event, "id"))):
            failures.append((event, f"id {ec.id} is not the kernel's"))
        if f"print fmt: {ec.print_fmt}\n" not in kernel:
            failures.append((event, f"print_fmt {ec.print_fmt!r} is not in the format file"))
        for f in ec.fields:
            line = (
                f"\tfield:{f.type} {f.name};\toffset:{f.offset};\tsize:{f.size};"
                f"\tsigned:{int(f.is_signed)};\n"
            )
            if line not in kernel:
                failures.append((event, f"field {f} is not in the format file"))
    if failures:
        first_event, first_detail = failures[0]
        pytest.fail(
            f"{len(failures)} of {len(events)} syscall events differ from tracefs "
            f"(all: {[e for e, _ in failures][:20]}{' ...' if len(failures) > 20 else ''}).\n"
            f"First: {first_event}\n{first_detail}",
            pytrace=False,
        )
    # Enter and exit for each syscall; not vacuous.
    assert compared == len(events)
    assert compared % 2 == 0
    if systrace.ARCH == "x86_64":
        assert compared > 600, f"only {compared} syscall events compared"
    else:
        assert compared > 0
    # And every event of ours is one of the kernel's.
    assert sorted(ec.name for ec in systrace.event_classes()) == events


_EMBEDDED_DUMP = """
import json, systrace
from systrace import _native
out = {"source": _native.metadata_source(), "syscalls": {}}
for m in systrace.metadata_table():
    short = m.name[len("sys_"):]
    out["syscalls"][m.name] = {
        "nr": m.nr, "types": list(m.types), "args": list(m.args),
        "enter": systrace.event_class("sys_enter_" + short).format,
        "exit": systrace.event_class("sys_exit_" + short).format,
    }
print(json.dumps(out))
"""


def _without_id(text: str) -> str:
    lines = text.splitlines(keepends=True)
    assert lines[1].startswith("ID: "), text
    return "".join(lines[:1] + lines[2:])


def test_embedded_table_agrees_with_tracefs(tracefs):
    """The embedded table (generated from the pinned kernel source; forced
    with SYSTRACE_METADATA=embedded) against tracefs, for every syscall
    present in both: number, types, args, and the format text (the ID line
    aside: without tracefs it is 0)."""
    env = dict(os.environ, SYSTRACE_METADATA="embedded")
    r = subprocess.run(
        [sys.executable, "-c", _EMBEDDED_DUMP], env=env, capture_output=True, text=True, timeout=120
    )
    assert r.returncode == 0, r.stderr
    embedded = json.loads(r.stdout)
    assert embedded["source"] == "embedded"
    ours = {m.name: m for m in systrace.metadata_table()}
    assert _native.metadata_source() == f"tracefs:{tracefs}"
    root = os.path.join(tracefs, "events", "syscalls")

    shared = sorted(set(embedded["syscalls"]) & set(ours))
    failures = []
    for name in shared:
        e, t = embedded["syscalls"][name], ours[name]
        if (e["nr"], tuple(e["types"]), tuple(e["args"])) != (t.nr, t.types, t.args):
            failures.append(
                f"{name}: embedded nr={e['nr']} {e['types']} {e['args']} vs "
                f"tracefs nr={t.nr} {list(t.types)} {list(t.args)}"
            )
            continue
        short = name[len("sys_"):]
        for phase in ("enter", "exit"):
            event = f"sys_{phase}_{short}"
            kernel = _read(os.path.join(root, event, "format"))
            assert e[phase].startswith(f"name: {event}\nID: 0\n")
            if _without_id(e[phase]) != _without_id(kernel):
                failures.append(_diff(event, _without_id(kernel), _without_id(e[phase]), embedded=True))
    if failures:
        pytest.fail(
            f"{len(failures)} of {len(shared)} syscalls: the embedded table differs from "
            f"tracefs (ID lines left out); first:\n{failures[0]}",
            pytrace=False,
        )
    if systrace.ARCH == "x86_64":
        assert len(shared) > 300, f"only {len(shared)} syscalls in both tables"
    else:
        assert shared
    # Syscalls in one table only are not compared: the embedded table lacks
    # those newer than its pinned source, and tracefs lacks those this
    # kernel's config left out (modules, kexec, ...).
