"""Start-up (issue 15 item 3): what the first enable() loads and what the
verifier goes through, the programs of task events loaded only once a
session wants them (while an earlier session keeps tracing losslessly),
`import systrace` without the modules only some paths use, and the
breakdown of the first enable()'s time.
"""
from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import textwrap

import systrace._native as native

TASK_PROGRAMS = {"sched_process_fork", "sched_process_exit", "signal_deliver", "signal_generate"}
HOOKS = {"sys_enter", "sys_exit", "sys_enter_event", "sys_exit_event"}


def run_fresh(code: str) -> dict:
    """Runs `code` in a fresh Python process (its own first load), which
    prints one JSON object as its last line."""
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                         timeout=180)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.splitlines()[-1])


def test_the_verifier_goes_through_a_bounded_number_of_instructions(kernel):
    # Each captured argument is one bpf_loop() step, checked once: unrolled,
    # the capture of an enter made the verifier go through 20,000
    # instructions per hook and 29,000 per exit hook (about 100 ms).
    got = run_fresh("""
        import json, os, systrace, systrace._native as n
        with systrace.enable("read", pid=os.getpid(), strings=True, filter="fd == 0"):
            programs = n.kernel_state()["programs"]
        print(json.dumps(programs))
    """)
    hooks = {name: insns for name, insns in got if name in HOOKS}
    # One kind of hooks (SYSTRACE_HOOKS may force the raw ones).
    assert set(hooks) in ({"sys_enter_event", "sys_exit_event"}, {"sys_enter", "sys_exit"}), got
    for name, insns in hooks.items():
        # 0 would be a kernel that does not say: then the bound says nothing.
        assert 0 < insns < 12000, (name, insns)


def test_task_programs_are_loaded_when_a_session_first_wants_them(kernel):
    """A session of syscalls only does not load the programs of forks,
    exits and signals; a later session that wants them loads them, while
    the first one keeps tracing without a loss; a session that wants them
    first loads them with the object."""
    got = run_fresh("""
        import json, os, signal, threading, systrace, systrace._native as n

        def loaded():
            return sorted(name for name, _ in n.kernel_state()["programs"])

        steps = []
        first = systrace.enable("getppid", pid=os.getpid())
        steps.append(loaded())
        stop = threading.Event()
        calls = [0]

        def loop():
            while not stop.is_set():
                os.getppid()
                calls[0] += 1

        worker = threading.Thread(target=loop)
        worker.start()
        signal.signal(signal.SIGUSR1, lambda *a: None)
        with systrace.enable("getpid", pid=os.getpid(), signals=True, follow=True) as later:
            steps.append(loaded())
            os.kill(os.getpid(), signal.SIGUSR1)
        stop.set()
        worker.join()
        first.close()
        events = list(first)
        signals = [e for e in later if e.phase == "signal"]
        print(json.dumps({"steps": steps, "calls": calls[0], "lost": first.dropped,
                          "enters": sum(e.phase == "enter" for e in events),
                          "exits": sum(e.phase == "exit" for e in events),
                          "signals": len(signals)}))
    """)
    alone, both = got["steps"]
    assert not TASK_PROGRAMS & set(alone), alone
    assert TASK_PROGRAMS <= set(both), both
    # The first session lost nothing while the programs were loaded and
    # attached: every call of the loop (and of the main thread) is there.
    assert got["lost"] == 0
    assert got["enters"] == got["exits"] >= got["calls"] > 0
    assert got["signals"] >= 1
    first = run_fresh("""
        import json, os, systrace, systrace._native as n
        with systrace.enable("getppid", pid=os.getpid(), signals=True):
            steps = n.kernel_state()["load_steps"]
            names = sorted(name for name, _ in n.kernel_state()["programs"])
        print(json.dumps({"steps": steps, "names": names}))
    """)
    assert TASK_PROGRAMS <= set(first["names"])
    # One object loaded them all: no copy of it for the task events.
    assert not any("copy" in what for what, _ in first["steps"]), first["steps"]


def test_first_enable_says_where_its_time_went(kernel):
    got = run_fresh("""
        import json, os, time, systrace, systrace._native as n
        t = time.perf_counter()
        s = systrace.enable("getppid", pid=os.getpid())
        took = (time.perf_counter() - t) * 1e3
        print(json.dumps({"took": took, "steps": n.kernel_state()["load_steps"]}))
        s.close()
    """)
    steps = dict(got["steps"])
    assert "metadata tables" in steps and "open the BPF object" in steps, steps
    assert any(what.startswith("load (maps, BTF, verifier): ") and "sys_enter" in what for what in steps)
    assert {"attach syscalls/sys_enter_getppid", "attach syscalls/sys_exit_getppid"} <= set(steps) or \
        {"attach raw_syscalls/sys_enter", "attach raw_syscalls/sys_exit"} <= set(steps), steps
    assert "start the consumer thread" in steps
    assert all(ms >= 0 for ms in steps.values())
    assert sum(steps.values()) <= got["took"]


def test_import_loads_only_what_every_path_needs():
    code = textwrap.dedent("""
        import sys
        import systrace
        print(sorted(sys.modules))
        systrace.to_jsonl, systrace.Recording, systrace.event_class, systrace.run
        print(sorted(sys.modules))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    before, after = (set(ast.literal_eval(line)) for line in out.stdout.splitlines())
    lazy = {"systrace._export", "systrace._record", "systrace._event_class", "systrace._launch"}
    assert not (lazy | {"dataclasses", "subprocess", "json"}) & before, sorted(before)
    assert lazy <= after


def test_lazy_names_are_the_package_names():
    import systrace

    for name in systrace.__all__:
        assert getattr(systrace, name) is not None, name
    assert set(systrace.__all__) <= set(dir(systrace))
    try:
        systrace.no_such_name  # type: ignore[attr-defined]
    except AttributeError as err:
        assert "no_such_name" in str(err)
    else:
        raise AssertionError("no AttributeError")


def test_the_command_does_not_import_the_completion_library():
    code = "import sys, systrace.cli as c\nc.build_parser(False)\nprint('shtab' in sys.modules, 'hashlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "False"]
