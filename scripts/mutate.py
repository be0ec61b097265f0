#!/usr/bin/env python3
"""Break the BPF side one change at a time and check that the tests catch it.

    sudo .venv/bin/python scripts/mutate.py            # every mutation
    sudo .venv/bin/python scripts/mutate.py M1 M4      # some

For each mutation: apply it to its file in bpf/, rebuild the extension
(maturin develop), run the tests named for it with SYSTRACE_REQUIRE_KERNEL=1,
and restore the source. A mutation that no test kills is a missing test: the
script exits 1 and says which. Run it after changing the kernel side; it
takes a rebuild and a test run per mutation (a minute or two each here), so
it is not part of every CI run. The list of breaks and the tests known to
catch them is also in tests/test_kernel_side.py's docstring.
"""
from __future__ import annotations

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BPF = os.path.join(ROOT, "bpf")
# The program and its parts (systrace.bpf.c includes the *.bpf.h files).
SOURCES = sorted(os.path.join(BPF, f) for f in os.listdir(BPF) if f.endswith((".bpf.c", ".bpf.h")))

# id: (what breaks, text, replacement, tests that must fail)
MUTATIONS = {
    "M1": ("process filter admits every process",
           "if (trace_all_processes)\n\t\treturn true;", "if (1)\n\t\treturn true;",
           ["tests/test_kernel_side.py::test_only_the_traced_process_reaches_the_consumer"]),
    "M2": ("enable bit ignored",
           "(test_bit(nr, enabled) ? WANT_DELIVER : 0)", "WANT_DELIVER",
           ["tests/test_kernel_side.py::test_only_enabled_syscalls_reach_the_consumer"]),
    "M3": ("consumer thread no longer ignored",
           "if ((__u32)pid_tgid == ignore_tid)", "if (0)",
           ["tests/test_kernel_side.py::test_the_consumer_thread_is_never_traced"]),
    "M4": ("quiet slots not read",
           "if (tgid == self_tgid && quiet(pid_tgid))", "if (tgid == self_tgid && quiet(pid_tgid) && 0)",
           ["tests/test_accounting.py::test_an_empty_block_traces_nothing"]),
    "M5": ("drops keyed without their phase",
           ".root = root, .nr = nr, .phase = phase", ".root = root, .nr = nr, .phase = SYSTRACE_PHASE_ENTER",
           ["tests/test_accounting.py::test_exit_only_session_counts_exit_losses"]),
    "M6": ("drops keyed without their process",
           ".tgid = pid_tgid >> 32, .root = root, .nr = nr, .phase = phase",
           ".tgid = 0, .root = 0, .nr = nr, .phase = phase",
           ["tests/test_accounting.py::test_each_session_counts_only_its_own_losses"]),
    "M7": ("enter drops not counted",
           "drop:\n\tcount_drop(SYSTRACE_PHASE_ENTER, id, pid_tgid, root);", "drop:",
           ["tests/test_accounting.py::test_whole_tree_is_delivered_or_counted_with_a_full_ring"]),
    "M8": ("root not inherited at fork",
           "value.root = entry->root;", "value.root = ctgid;",
           ["tests/test_accounting.py::test_whole_tree_is_delivered_or_counted_with_a_full_ring"]),
    "M9": ("untraced forks not counted",
           "__sync_fetch_and_add(&untraced_forks, 1);", ";",
           ["tests/test_accounting.py::test_children_beyond_the_process_limit_are_counted"]),
    "M10": ("argv cut by the budget not marked",
            "return capture_mark(s, walk.off, ARG_FLAGS(arg, SYSTRACE_CAPTURE_ARGV_ELEM),\n\t\t\t    SYSTRACE_CAPTURE_TRUNCATED);",
            "return walk.off;",
            ["tests/test_accounting.py::test_argv_longer_than_kept_is_marked_truncated"]),
    "M11": ("exit captures from the enter, not the registers",
            "\tptr = args[i];", "\tptr = pending ? pending->args[i] : 0;",
            ["tests/test_accounting.py::test_a_read_in_flight_at_the_start_keeps_its_data"]),
    "M13": ("calls counted without their errors",
            "\t\tc->errors++;", "",
            ["tests/test_count.py::test_counts_are_exact_and_nothing_is_delivered"]),
    "M14": ("counting ignores the process filter",
            "want = (test_bit(nr, enabled) ? WANT_DELIVER : 0) |\n\t       (test_bit(nr, counted_syscalls) ? WANT_COUNT : 0);\n\tif (!want)\n\t\treturn 0;\n\t/* The per-syscall events never fire for compat calls (the kernel's\n\t * trace_get_syscall_nr() says -1): only the raw hooks must check. */\n\tif (raw && in_compat_syscall())\n\t\treturn 0;\n\t*pid_tgid = bpf_get_current_pid_tgid();\n\treturn process_traced(*pid_tgid, root) ? want : 0;",
            "want = (test_bit(nr, enabled) ? WANT_DELIVER : 0) |\n\t       (test_bit(nr, counted_syscalls) ? WANT_COUNT : 0);\n\tif (!want)\n\t\treturn 0;\n\t/* The per-syscall events never fire for compat calls (the kernel's\n\t * trace_get_syscall_nr() says -1): only the raw hooks must check. */\n\tif (raw && in_compat_syscall())\n\t\treturn 0;\n\t*pid_tgid = bpf_get_current_pid_tgid();\n\t*root = *pid_tgid >> 32;\n\treturn process_traced(*pid_tgid, root) ? want : (want & WANT_COUNT);",
            ["tests/test_count.py::test_counting_sessions_count_only_their_processes"]),
    "M12": ("compat syscalls not ignored",
            "if (raw && in_compat_syscall())\n\t\treturn 0;", "if (raw && in_compat_syscall() && 0)\n\t\treturn 0;",
            ["tests/test_compat.py"]),
    "M15": ("hooks switched without a handoff",
            "return gen ? handoff_mine(kind, phase, gen) : hook_mode == kind;",
            "return (gen && 0 && handoff_mine(kind, phase, gen)) || hook_mode == kind;",
            ["tests/test_hooks.py::test_switching_under_load_loses_and_doubles_nothing"]),
    "M16": ("a held mark older than its syscall's stamp sent at exit",
            "\t\tstate = CALL_NONE; /* an earlier call's (see held_since) */",
            "\t\tstate = CALL_HELD; /* an earlier call's (see held_since) */",
            ["tests/test_filter_marks.py::test_a_mark_left_by_an_earlier_call_is_not_sent_with_a_later_exit"]),
    "M17": ("marks not taken at the exits no ret filter decides",
            "\tif (!mark || mark->state != CALL_HELD)\n\t\treturn 0;",
            "\tif (1)\n\t\treturn 0;",
            ["tests/test_filter_marks.py::test_a_session_open_throughout_gets_a_held_call_whole_once"]),
    "M18": ("a start older than its syscall's counting kept",
            "st->ts < counted_since[nr & (SYSTRACE_NR_SYSCALLS - 1)])",
            "st->ts < counted_since[nr & (SYSTRACE_NR_SYSCALLS - 1)] * 0)",
            ["tests/test_count.py::test_a_call_begun_while_nobody_counted_is_not_counted_with_an_older_start"]),
}


def build() -> None:
    env = dict(os.environ, VIRTUAL_ENV=os.path.join(ROOT, ".venv"))
    env["PATH"] = os.path.join(ROOT, ".venv", "bin") + os.pathsep + env["PATH"]
    # Thin LTO in many units: a mutated build only runs its tests (the
    # release profile's fat LTO took some 6 minutes per build here).
    env.update(CARGO_PROFILE_RELEASE_LTO="thin", CARGO_PROFILE_RELEASE_CODEGEN_UNITS="16")
    subprocess.run([sys.executable, "-m", "maturin", "develop", "--release", "--quiet"], cwd=ROOT, env=env,
                   check=True, stdout=subprocess.DEVNULL)


def tests_fail(tests: list) -> bool:
    env = dict(os.environ, SYSTRACE_REQUIRE_KERNEL="1")
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *tests],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    return r.returncode != 0


def main(argv: list) -> int:
    chosen = argv or list(MUTATIONS)
    originals = {path: open(path).read() for path in SOURCES}
    survived = []
    try:
        for key in chosen:
            what, old, new, tests = MUTATIONS[key]
            where = [path for path, text in originals.items() if old in text]
            if len(where) != 1 or originals[where[0]].count(old) != 1:
                print(f"{key} {what}: the text to change is not in bpf/ once (update the script)")
                survived.append(key)
                continue
            for path, text in originals.items():
                with open(path, "w") as f:
                    f.write(text.replace(old, new) if path == where[0] else text)
            build()
            killed = tests_fail(tests)
            print(f"{key} {what}: {'killed' if killed else 'SURVIVED'} by {' '.join(tests)}", flush=True)
            if not killed:
                survived.append(key)
    finally:
        for path, text in originals.items():
            with open(path, "w") as f:
                f.write(text)
        build()
    if survived:
        print(f"missing tests for: {' '.join(survived)}")
        return 1
    print(f"all {len(chosen)} mutations killed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
