"""strace -v shows execve's and execveat's environment as it shows argv
(`["A=1", "B=two"]`), where without -v it counts it (`0x7ffd... /* 2 vars
*/`). The same programs traced by strace and systrace, their exec lines
compared: the command's -v (and -e abbrev= without execve) reads the
environment as an argv, as much of it as one record holds, and cuts the
rest visibly (`...`)."""
from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

SYSTRACE = [sys.executable, "-m", "systrace"]

# What both tracers run in: few variables, so that their own exec's
# environment is whole in both.
ENV = {"PATH": "/usr/bin:/bin", "LC_ALL": "C"}


def _execs(tracer: list, out, *args: str, env=None) -> list:
    """The exec lines of a run, pids and addresses (ASLR's) normalised."""
    r = subprocess.run([*tracer, "-o", str(out), *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       env=ENV if env is None else env, timeout=120)
    assert r.returncode == 0, (tracer, r.stderr)
    text = re.sub(r"^(\[pid +)?\d+\]? +", "", out.read_text(), flags=re.M)
    text = re.sub(r"0x[0-9a-f]{6,}", "ADDR", text)
    return [line for line in text.splitlines() if line.startswith("exec")]


def _both(tmp_path, *args: str, env=None) -> tuple:
    return (_execs(["strace"], tmp_path / "strace.txt", *args, env=env),
            _execs(SYSTRACE, tmp_path / "systrace.txt", *args, env=env))


UNABBREVIATED = [["-v"], ["--no-abbrev"], ["-e", "abbrev=none"], ["-e", "abbrev=!execve"], ["-v", "-s", "5"],
                 ["-v", "-x"], ["-v", "-xx"], ["-v", "-e", "abbrev=!getdents64,execve"]]
ABBREVIATED = [[], ["-e", "abbrev=execve"], ["-e", "abbrev=!getdents64"], ["-s", "5"]]


@pytest.mark.parametrize("options", UNABBREVIATED + ABBREVIATED)
@pytest.mark.parametrize("command", [["env", "-i", "A=1", "B=two", "/bin/true"], ["env", "-i", "/bin/true"],
                                     ["env", "-i", "HOME=/caf\xe9\n\"x\"", "/bin/true"]])
def test_execve_environment_like_strace(kernel, tmp_path, options, command):
    # Before: `execve("/bin/true", ["/bin/true"], 0x7ffd... /* 2 vars */)`
    # under -v too, where strace prints ["A=1", "B=two"] (and [] for none).
    theirs, ours = _both(tmp_path, "-e", "trace=execve", *options, *command)
    assert len(theirs) == 2, theirs
    assert ours == theirs
    last = theirs[-1]
    if options in ABBREVIATED:
        assert re.search(r"], ADDR /\* \d vars? \*/\) += 0$", last), last
    elif command[2] == "A=1":
        assert last.endswith('["A=1", "B=two"]) = 0') or "-x" in options[-1] or "-s" in options, last
    elif command[2] == "/bin/true":
        assert re.search(r"\[\]\) += 0$", last), last


@pytest.mark.parametrize("count", [33, 60, 400])
def test_many_variables_and_arguments_whole_like_strace(kernel, tmp_path, count):
    # strace -v prints every variable and argument; the programs read 32
    # of each and cut the rest with `...` (an environment of 35 variables
    # was cut). Without -v, arguments up to -s of them, then `...`.
    env = {**ENV, **{f"V{i:02}": str(i) for i in range(count)}}
    argv = ["/bin/true", *map(str, range(count))]
    for options in (["-v"], ["-s", "100"], []):
        theirs, ours = _both(tmp_path, *options, "-e", "trace=execve", *argv, env=env)
        assert ours == theirs
        assert ", ..." not in theirs[0] if options == ["-v"] else ", ..." in theirs[0] or count < 100


def test_a_long_environment_is_cut_visibly_argv_whole(kernel, tmp_path):
    # Variables longer than one record holds (its 8 KiB, after a long
    # argv): the ones read are strace's, then `...` (strace prints them
    # all); argv is whole.
    argv = ["/bin/true"] + [f"arg{i}-" + "a" * 300 for i in range(8)]
    long = {**ENV, **{f"L{i:02}": chr(ord("a") + i) * 1500 for i in range(12)}}
    for env in (long,):
        theirs, ours = _both(tmp_path, "-v", "-e", "trace=execve", "-s", "40", *argv, env=env)
        (st,), (sy,) = theirs, ours
        args, sep, shown = sy.partition("], [")
        assert sep and st.startswith(args + sep), (sy, st)
        head, cut, tail = shown.partition(", ...]")
        assert cut and tail == ") = 0", sy
        assert st.startswith(args + sep + head + ", "), (sy[-300:], st)
        # Every variable has its `=`; no argument here has one.
        n = head.count("=")
        assert 2 < n < len(env), n
        assert st.partition("], [")[2].rpartition("])")[0].count("=") == len(env), st


def test_execve_environment_of_followed_children(kernel, tmp_path):
    # A child's exec (-f), a failed one, and an execveat (Python's fexecve).
    script = ("import os\n"
              "if os.fork() == 0:\n"
              "    try:\n"
              "        os.execve('/nonexistent/prog', ['prog'], {'E': '1', 'F': ''})\n"
              "    except OSError:\n"
              "        pass\n"
              "    os.execve(os.open('/bin/true', os.O_RDONLY), ['true', '-x'], {'AT': 'yes'})\n"
              "os.wait()\n"
              "os.execve('/bin/true', ['true'], {})\n")
    for options in (["-v"], []):
        theirs, ours = _both(tmp_path, "-f", "-e", "trace=execve,execveat", "-e", "signal=none", *options,
                             "/usr/bin/python3", "-c", script)
        assert ours == theirs
        assert len(theirs) == 4, theirs
        if options:
            assert 'execve("/nonexistent/prog", ["prog"], ["E=1", "F="]) = -1 ENOENT' in theirs[1], theirs
            assert re.fullmatch(r'execveat\(3, "", \["true", "-x"\], \["AT=yes"\], AT_EMPTY_PATH\) = 0', theirs[2])
            assert re.fullmatch(r'execve\("/bin/true", \["true"\], \[\]\) += 0', theirs[-1]), theirs


EXECS = r"""
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
/* Literals only the exec touches: a forked child's copy of them is not
 * mapped at the exec's enter (BPF cannot fault it in): read again at exit,
 * from the new image if the exec succeeded, where they were if it failed. */
int main(void) {
    for (int how = 0; how < 2; how++) {
        pid_t p = fork();
        if (p == 0) {
            char *env[] = {"LITERAL=1", "OTHER=two words", 0};
            execle(how ? "/nonexistent/prog" : "/bin/true", "true", (char *)0, env);
            _exit(0);
        }
        waitpid(p, 0, 0);
    }
    return 0;
}
"""


def test_environment_strings_not_in_memory_yet(kernel, tmp_path):
    from test_strace_diff import _compiler
    src, exe = tmp_path / "execs.c", tmp_path / "execs"
    src.write_text(EXECS)
    subprocess.run([_compiler(), "-O0", "-w", "-o", str(exe), str(src)], check=True)
    theirs, ours = _both(tmp_path, "-f", "-v", "-e", "trace=execve", "-e", "signal=none", str(exe))
    assert ours == theirs
    assert theirs[1:] == ['execve("/bin/true", ["true"], ["LITERAL=1", "OTHER=two words"]) = 0',
                          'execve("/nonexistent/prog", ["true"], ["LITERAL=1", "OTHER=two words"]) = -1 ENOENT '
                          "(No such file or directory)"], theirs
