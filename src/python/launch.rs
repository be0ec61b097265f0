//! `systrace._native.Launch`: a command's process, made and held before
//! its execve until the session tracing it is open (crate::launch).
use std::ffi::OsString;
use std::os::fd::{BorrowedFd, OwnedFd};
use std::path::PathBuf;

use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;

use super::errors::os_error;
use crate::launch::{Credentials, Launch, Spec};

fn fd_arg(fd: Option<i32>, name: &str) -> PyResult<Option<OwnedFd>> {
    let Some(fd) = fd else { return Ok(None) };
    if fd < 0 {
        return Err(PyValueError::new_err(format!(
            "{name} must be a file descriptor (>= 0), not {fd}"
        )));
    }
    // SAFETY: borrowed only to be duplicated; a closed fd fails with EBADF.
    let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
    borrowed
        .try_clone_to_owned()
        .map(Some)
        .map_err(|e| os_error(e, None))
}

/// A command's process, made and waiting before its execve: start() lets
/// it exec. program: the executable's path (resolved by the caller); argv
/// with argv[0]; env: every (name, value) of its environment (None: this
/// process's); cwd; stdin, stdout, stderr: fds to give it (None: this
/// process's). Its signal mask and other fds are the caller's; SIGPIPE and
/// SIGXFSZ, which Python ignores, are at their default.
#[pyclass(module = "systrace", name = "Launch")]
pub struct PyLaunch {
    inner: Option<Launch>,
    pid: u32,
    program: PathBuf,
}

#[pymethods]
impl PyLaunch {
    #[new]
    #[pyo3(signature = (program, argv, *, env = None, cwd = None, stdin = None, stdout = None, stderr = None, user = None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        program: PathBuf,
        argv: Vec<OsString>,
        env: Option<Vec<(OsString, OsString)>>,
        cwd: Option<PathBuf>,
        stdin: Option<i32>,
        stdout: Option<i32>,
        stderr: Option<i32>,
        user: Option<(u32, u32, Vec<u32>)>,
    ) -> PyResult<Self> {
        if argv.is_empty() {
            return Err(PyValueError::new_err("argv is empty: it needs argv[0]"));
        }
        let stdio = [
            fd_arg(stdin, "stdin")?,
            fd_arg(stdout, "stdout")?,
            fd_arg(stderr, "stderr")?,
        ];
        let filename = cwd.clone();
        let spec = Spec {
            program: program.clone(),
            argv,
            env,
            cwd,
            stdio,
            user: user.map(|(uid, gid, groups)| Credentials { uid, gid, groups }),
        };
        let launch = py
            .detach(|| Launch::new(spec))
            .map_err(|e| os_error(e, filename.as_deref()))?;
        Ok(PyLaunch {
            pid: launch.pid(),
            inner: Some(launch),
            program,
        })
    }

    /// The command's process id.
    #[getter]
    fn pid(&self) -> u32 {
        self.pid
    }

    /// Lets the command exec, and returns once it has: OSError if its exec
    /// failed (its process is then gone). Afterwards the process is the
    /// caller's to wait for.
    fn start(&mut self, py: Python<'_>) -> PyResult<()> {
        let launch = self
            .inner
            .take()
            .ok_or_else(|| PyRuntimeError::new_err("this command was started or cancelled"))?;
        let program = &self.program;
        py.detach(|| launch.start())
            .map_err(|e| os_error(e, Some(program)))
    }

    /// Ends the process before its exec (it exits and is reaped); nothing
    /// if started already.
    fn cancel(&mut self, py: Python<'_>) {
        if let Some(launch) = self.inner.take() {
            py.detach(|| launch.cancel());
        }
    }
}

/// Starts loading the BPF programs on a thread of their own (the command's
/// start-up, issue 15): see `crate::trace::tracer::start_loading`.
/// `syscalls`: what the first session enables (None: every syscall);
/// `clock`: whether its records carry the time (`cli.needs_clock`).
#[pyfunction]
#[pyo3(name = "_start_loading", signature = (buffer_size, syscalls, tasks, count = true, filters = true, captured = None, clock = true, count_by_root = false))]
#[allow(clippy::too_many_arguments)]
pub fn start_loading(
    py: Python<'_>,
    buffer_size: usize,
    syscalls: Option<PyRef<'_, crate::python::syscall_set::PySyscallSet>>,
    tasks: bool,
    count: bool,
    filters: bool,
    captured: Option<PyRef<'_, crate::python::syscall_set::PySyscallSet>>,
    clock: bool,
    count_by_root: bool,
) -> PyResult<()> {
    let sets = syscalls.map(|s| [s.sel.enter.clone(), s.sel.exit.clone()]);
    let captured = captured.map(|s| s.sel.enter.union(&s.sel.exit).copied().collect());
    let features = crate::kernel::programs::Features {
        count,
        filters,
        captures: u32::MAX, // narrowed to what `syscalls` use
        clock,
        count_by_root,
    };
    py.detach(|| {
        crate::trace::tracer::start_loading(buffer_size, sets, captured, tasks, features)
    })?;
    Ok(())
}

/// The command's -v (or -e abbrev=): the syscalls it prints unabbreviated,
/// whose -v form is read instead of counted (getdents64's entries, execve's
/// and execveat's environment). Before the first session; a load that
/// cannot read them loads again.
#[pyfunction]
#[pyo3(name = "_capture_unabbreviated")]
pub fn capture_unabbreviated(py: Python<'_>, nrs: Vec<u32>) {
    py.detach(|| crate::trace::tracer::set_unabbreviated(&nrs));
}

/// At exit (registered with `atexit` when the package is imported): a
/// child holds the last reference to our per-syscall hooks, so that
/// closing them (a grace period each) does not delay our exit. True if
/// there were any.
#[pyfunction]
#[pyo3(name = "_close_hooks_after_exit")]
pub fn close_hooks_after_exit(py: Python<'_>) -> bool {
    py.detach(crate::trace::tracer::close_hooks_after_exit)
}

/// For the command, once the processes it traces exist: its thread `tid`
/// gets ahead of them (crate::process::keep_up_thread).
#[pyfunction]
#[pyo3(name = "_keep_up_thread")]
pub fn keep_up_thread(tid: i32, nice: i32, slice_ns: u64) -> PyResult<()> {
    crate::process::keep_up_thread(tid, nice, slice_ns).map_err(|e| os_error(e, None))
}

/// For the command, before its threads start: glibc gives each thread
/// that allocates its own malloc arena (64 MiB reserved, some 0.5 MiB
/// touched each for the loader, the consumer and the writer), which the
/// command's threads, allocating little and rarely at once, do not need.
/// `n` arenas at most; without glibc, nothing. (Issue 15: peak RSS.)
#[pyfunction]
#[pyo3(name = "_limit_malloc_arenas")]
pub fn limit_malloc_arenas(n: i32) -> PyResult<()> {
    if n < 1 {
        return Err(PyValueError::new_err("at least one arena"));
    }
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets a parameter of glibc's allocator.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, n);
    }
    Ok(())
}
