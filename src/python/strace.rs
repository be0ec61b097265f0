//! strace-class decoding for Python: errno names, strace's syscall
//! classes, the -c table, and the `systrace` command's native Printer.
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use std::collections::BTreeSet;
use std::os::fd::BorrowedFd;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use super::event::events_of;
use super::syscall_set::PySyscallSet;
use crate::kernel::Event;
use crate::strace::outcome::{ProcessEnd, StatusFilter};
use crate::strace::output::Output;
use crate::strace::printer::{OutputFormat, PidPrefix, Printer, PrinterOptions};
use crate::strace::select::Selection;
use crate::strace::signals::SignalSet;
use crate::strace::summary::{
    format_summary as summary_text, Column, SortBy, SummaryRow, DEFAULT_COLUMNS,
};

/// `<0.000012>`: strace -T's duration, with `digits` after the second.
#[pyfunction]
#[pyo3(signature = (ns, digits = 6))]
pub fn format_duration(ns: u64, digits: u8) -> PyResult<String> {
    Ok(crate::strace::format_duration(ns, checked_digits(digits)?))
}

/// strace's -e read=SET or -e write=SET.
fn fd_set(spec: Option<&str>, which: &str) -> PyResult<Option<crate::strace::dump::FdSet>> {
    spec.map(|spec| {
        crate::strace::dump::FdSet::parse(spec)
            .map_err(|err| PyValueError::new_err(format!("-e {which}={spec}: {err}")))
    })
    .transpose()
}

/// The digits of a time after the second: strace's s, ms, us or ns.
fn checked_digits(digits: u8) -> PyResult<u8> {
    match digits {
        0 | 3 | 6 | 9 => Ok(digits),
        _ => Err(PyValueError::new_err(format!(
            "a precision is 0, 3, 6 or 9 digits, not {digits}"
        ))),
    }
}

/// The digits of -t's (None: as its count says), -r's and -T's times.
fn checked_precision(
    (absolute, relative, duration): (Option<u8>, u8, u8),
) -> PyResult<crate::strace::printer::Precision> {
    Ok(crate::strace::printer::Precision {
        absolute: absolute.map(checked_digits).transpose()?,
        relative: checked_digits(relative)?,
        duration: checked_digits(duration)?,
    })
}

/// `-1 ENOENT (No such file or directory)`.
#[pyfunction]
pub fn format_error(errno: i32) -> String {
    crate::strace::errno::format_error(errno)
}

/// "ENOENT", or None.
#[pyfunction]
pub fn errno_name(errno: i32) -> Option<&'static str> {
    crate::strace::errno::errno_name(errno)
}

/// The C library's message for an errno, as strace prints it.
#[pyfunction]
pub fn errno_message(errno: i32) -> String {
    crate::strace::errno::errno_message(errno)
}

/// The errno a return value stands for (-4095..-1), or None.
#[pyfunction]
pub fn errno_of(ret: i64) -> Option<i32> {
    crate::strace::errno::errno_of(ret)
}

/// The syscalls of a strace class ("%file", "file", "%net"); None if unknown.
#[pyfunction]
pub fn class_syscalls(class: &str) -> Option<Vec<&'static str>> {
    crate::strace::classes::class_syscalls(class)
}

/// The syscalls that change what fds and the cwd name (systrace.FD_SYSCALLS):
/// trace them too for exact paths (Call.fd_paths, the command's -y).
#[pyfunction]
pub fn fd_syscalls() -> Vec<&'static str> {
    crate::strace::fdtable::TRACKED.to_vec()
}

/// The strace classes of a syscall, e.g. ["desc", "file"].
#[pyfunction]
pub fn syscall_classes(name: &str) -> Vec<&'static str> {
    crate::strace::classes::class_names_of(name)
}

/// Every class name (without "%").
#[pyfunction]
pub fn class_names() -> Vec<&'static str> {
    crate::strace::classes::CLASS_NAMES
        .iter()
        .map(|(n, _)| *n)
        .collect()
}

/// The classes of calls `-e status=SPEC` selects (strace's names, `all`,
/// The signals of strace's `-e signal=SET` (names with or without SIG,
/// numbers, all, none, a leading ! for the others), in order.
#[pyfunction]
pub fn signal_set(spec: &str) -> PyResult<Vec<u32>> {
    SignalSet::parse(spec)
        .map(|set| set.signals())
        .map_err(PyValueError::new_err)
}

/// A signal's name as strace prints it: "SIGCHLD", "SIGRTMIN", "SIGRT_3".
#[pyfunction]
pub fn signal_name(sig: i32) -> String {
    crate::strace::signals::signal_name(sig)
}

/// The classes of calls `-e status=SPEC` selects (strace's names, `all`,
/// `none`, a leading `!`), in strace's order; ValueError for a bad SPEC.
#[pyfunction]
pub fn status_classes(spec: &str) -> PyResult<Vec<&'static str>> {
    crate::strace::outcome::status_classes(spec).map_err(PyValueError::new_err)
}

/// The `struct sockaddr` in `data` (connect's, bind's or sendto's captured
/// address): (family name, address, port, remote), or None when `data` is
/// too short. address: an IP address or a unix socket's path, else None;
/// remote: an internet address off this host (not loopback or unspecified).
#[pyfunction]
pub fn decode_sockaddr(data: &[u8]) -> Option<(String, Option<String>, Option<u16>, bool)> {
    let addr = crate::strace::sockaddr::decode(data)?;
    Some((
        addr.family_name(),
        addr.address.clone(),
        addr.port,
        addr.is_remote(),
    ))
}

/// The -c table's layout: strace's -S order ("time", "calls", "errors",
/// "name", "avg-time", "nothing" and its aliases) and -U columns
/// ("name,calls,errors"; None: strace's default), or a ValueError that
/// names what is wrong.
pub(super) fn summary_layout(
    sort_by: &str,
    columns: Option<&str>,
) -> PyResult<(SortBy, Vec<Column>)> {
    let order = SortBy::parse(sort_by).map_err(PyValueError::new_err)?;
    let columns = match columns {
        Some(spec) => Column::parse_list(spec).map_err(PyValueError::new_err)?,
        None => DEFAULT_COLUMNS.to_vec(),
    };
    Ok((order, columns))
}

/// The strace -c table of rows (name, nr, calls, errors, time_ns), given in
/// syscall-number order, sorted as `sort_by` says (strace's -S), with the
/// `columns` strace's -U names.
#[pyfunction]
#[pyo3(signature = (rows, sort_by = "time", columns = None))]
pub fn format_summary(
    rows: Vec<(String, u32, u64, u64, u64)>,
    sort_by: &str,
    columns: Option<&str>,
) -> PyResult<String> {
    let (order, columns) = summary_layout(sort_by, columns)?;
    let rows: Vec<SummaryRow> = rows
        .into_iter()
        .map(|(name, nr, calls, errors, time_ns)| SummaryRow {
            name,
            nr,
            calls,
            errors,
            time_ns,
        })
        .collect();
    Ok(summary_text(&rows, order, &columns))
}

/// The `systrace` command's output, made in Rust: pairs events into calls,
/// keeps the calls `selected` (a SyscallSet, or syscall numbers for both
/// phases; None: all; format "kernel" keeps the events of each phase the
/// set selects, the others the calls of its syscalls), and returns
/// their text as strace prints it (format "strace"), one JSON object per
/// call ("json", as systrace.json_line), or the kernel's text of each event
/// ("kernel"); with `summary`, counts the calls for summary_table() instead.
/// string_size and hex_strings: strace's -s and -x (1) or -xx (2).
/// prefix: "stderr" (`[pid N] ` while several threads are traced), "file"
/// (`N ` while several threads are traced), "always" (`N ` on every line)
/// "per-thread" (none: each line to its thread's file, see
/// write_thread_files) or "none". status: the strace -e status= classes of the calls shown
/// (None: all). quiet_exits: no `+++ exited with N +++` lines (-qq).
/// signals: the signal numbers shown (strace's -e signal=; None: all).
/// task_exits: the events carry the threads' exits (a session with
/// exits=True): a process's end is told by its last thread's, with its
/// time; thread_exits: a line for each thread's end too (strace -f).
/// main_pid: a launched command, whose end the caller tells (status_line)
/// unless task_exits told it.
/// wall_offset_ns: wall clock minus CLOCK_MONOTONIC, for timestamps (-t: 1,
/// -tt: 2, -ttt: 3). precision: the digits after the second of -t's (None:
/// as their count says), -r's and -T's times (strace's s, ms, us, ns: 0, 3,
/// 6, 9). dump_read, dump_write: strace's -e read=SET and -e write=SET
/// (`3,5`, `all`, `!0`): the data moved on those fds, dumped in hex after
/// each line. decode_fds: strace's --decode-fds set as bits (1 path: -y,
/// what fds refer to; 2 socket endpoints; 4 device numbers; 8 a pidfd's
/// process; 15 all: -yy); live: the traced processes run now, so
/// /proc may be read for fds opened before tracing (False for a replay).
/// decode_pids: strace's -Y, each process or thread id with its command
/// name (`kill(42<sleep>, SIGTERM)`, `[pid 42<sleep>] `). threads: the
/// threads whose calls and signals are shown (strace without -f traces a
/// launched command's first thread, or the threads -p names; None: all).
#[pyclass(module = "systrace", name = "Printer")]
pub struct PyPrinter {
    /// Shared with the consumer thread once it prints a session's events
    /// (print_from).
    inner: Arc<Mutex<Output>>,
}

impl PyPrinter {
    fn output(&self) -> MutexGuard<'_, Output> {
        // A panic elsewhere while holding the lock leaves plain data behind.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The printer, once the consumer thread is done with it (it holds it
    /// for a batch, longer only while the writer is behind; it never takes
    /// the GIL).
    fn locked(&self, _py: Python<'_>) -> MutexGuard<'_, Output> {
        self.output()
    }

    /// A write to the output file that failed, as the OSError it is.
    fn check_written(out: &mut Output) -> PyResult<()> {
        match out.take_error() {
            Some(err) => Err(super::errors::os_error(err, None)),
            None => Ok(()),
        }
    }
}

#[pymethods]
impl PyPrinter {
    #[new]
    #[pyo3(signature = (*, format = "strace", selected = None, summary = false, summary_overhead_ns = 0, detach_on_execve = false, detach_messages = false, durations = false, timestamps = 0, relative_timestamps = false, precision = (None, 6, 6), dump_read = None, dump_write = None, string_size = crate::strace::DEFAULT_STRING_SIZE as i64, hex_strings = 0, prefix = "stderr", status = None, quiet_exits = false, signals = None, task_exits = false, thread_exits = false, main_pid = None, wall_offset_ns = 0, decode_fds = 0, live = true, column = crate::strace::DEFAULT_COLUMN as i64, trace_paths = Vec::new(), attach_messages = false, superseded = true, syscall_numbers = false, raw = Vec::new(), decode_pids = false, unabbreviated = Vec::new(), not_verbose = Vec::new(), threads = None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        format: &str,
        selected: Option<&Bound<'_, PyAny>>,
        summary: bool,
        summary_overhead_ns: u64,
        detach_on_execve: bool,
        detach_messages: bool,
        durations: bool,
        timestamps: u8,
        relative_timestamps: bool,
        precision: (Option<u8>, u8, u8),
        dump_read: Option<&str>,
        dump_write: Option<&str>,
        string_size: i64,
        hex_strings: i64,
        prefix: &str,
        status: Option<Vec<String>>,
        quiet_exits: bool,
        signals: Option<Vec<u32>>,
        task_exits: bool,
        thread_exits: bool,
        main_pid: Option<u32>,
        wall_offset_ns: i64,
        decode_fds: u8,
        live: bool,
        column: i64,
        trace_paths: Vec<String>,
        attach_messages: bool,
        superseded: bool,
        syscall_numbers: bool,
        raw: Vec<u32>,
        decode_pids: bool,
        unabbreviated: Vec<u32>,
        not_verbose: Vec<u32>,
        threads: Option<Vec<u32>>,
    ) -> PyResult<Self> {
        let signals = match signals {
            None => SignalSet::all(),
            Some(list) => SignalSet::from_signals(list).map_err(PyValueError::new_err)?,
        };
        if decode_fds > crate::strace::fdtable::decode_fd::ALL {
            return Err(PyValueError::new_err(format!(
                "decode_fds is a set of bits: 1 path (-y), 2 socket, 4 dev, 8 pidfd (15: -yy), \
                 not {decode_fds}"
            )));
        }
        let format = OutputFormat::parse(format).ok_or_else(|| {
            PyValueError::new_err(format!(
                "format is \"strace\", \"json\" or \"kernel\", not {format:?}"
            ))
        })?;
        let text = super::call::strace_options(string_size, column, hex_strings)?;
        let prefix = PidPrefix::parse(prefix).ok_or_else(|| {
            PyValueError::new_err(format!(
                "prefix is \"stderr\", \"file\", \"always\", \"per-thread\" or \"none\", not {prefix:?}"
            ))
        })?;
        let status = match status {
            None => StatusFilter::default(),
            Some(names) => StatusFilter::from_names(&names).map_err(PyValueError::new_err)?,
        };
        let selected = selected
            .filter(|s| !s.is_none())
            .map(|s| match s.cast::<PySyscallSet>() {
                Ok(set) => Ok(set.get().sel.clone()),
                Err(_) => {
                    let nrs: BTreeSet<u32> = s
                        .try_iter()?
                        .map(|nr| nr?.extract::<u32>())
                        .collect::<PyResult<_>>()?;
                    Ok::<_, PyErr>(Selection {
                        enter: nrs.clone(),
                        exit: nrs,
                    })
                }
            })
            .transpose()?;
        Ok(PyPrinter {
            inner: Arc::new(Mutex::new(Output::new(Printer::new(PrinterOptions {
                format,
                selected,
                summary,
                summary_overhead_ns,
                detach_on_execve,
                detach_messages,
                durations,
                timestamps,
                relative_timestamps,
                precision: checked_precision(precision)?,
                dump_read: fd_set(dump_read, "read")?,
                dump_write: fd_set(dump_write, "write")?,
                string_size: text.string_size,
                hex: text.hex,
                column: text.column,
                prefix,
                status,
                quiet_exits,
                signals,
                task_exits,
                thread_exits,
                main_pid,
                wall_offset_ns,
                decode_fds,
                live,
                trace_paths,
                attach_messages,
                superseded,
                syscall_numbers,
                raw: raw.into_iter().collect(),
                unabbreviated: unabbreviated.into_iter().collect(),
                not_verbose: not_verbose.into_iter().collect(),
                decode_pids,
                threads: threads.map(|t| t.into_iter().collect()),
            })))),
        })
    }

    /// Feeds events, in the order they came: an EventBatch (read in place,
    /// without the GIL) or any iterable of Event. Returns the text of the
    /// calls they complete ("" when none). Raises the OSError of a write
    /// to the file of print_from() that failed.
    fn feed(&mut self, py: Python<'_>, events: &Bound<'_, PyAny>) -> PyResult<String> {
        let owned;
        let events: &[Event] = if let Ok(batch) = events.cast::<super::event::EventBatch>() {
            &batch.get().events
        } else {
            owned = events_of(events)?;
            &owned
        };
        let inner = &self.inner;
        let (text, written) = py.detach(|| {
            let mut out = inner.lock().unwrap_or_else(|e| e.into_inner());
            let mut text = String::new();
            if out.per_thread() {
                out.print_events(events);
                return (text, Self::check_written(&mut out));
            }
            out.printer.feed(events, &mut text);
            if !text.is_empty() {
                out.flush(); // the caller's text comes after the writer's
            }
            (text, Self::check_written(&mut out))
        });
        written.map(|()| text)
    }

    /// From now on, the events `session` delivers are printed as they
    /// arrive, on the thread that decodes them, and their text written to
    /// file descriptor `fd` by a writer thread (the caller's output: flush
    /// it first; the writes share its offset). The session's own queue
    /// stays empty. finish() returns once the text is written.
    fn print_from(
        &mut self,
        py: Python<'_>,
        session: &Bound<'_, super::session::Session>,
        fd: Option<i32>,
    ) -> PyResult<()> {
        match fd {
            Some(fd) if fd < 0 => {
                return Err(PyValueError::new_err(format!(
                    "not a file descriptor: {fd}"
                )));
            }
            Some(fd) => {
                // SAFETY: borrowed for the dup only; the caller keeps it open.
                let fd = unsafe { BorrowedFd::borrow_raw(fd) };
                self.locked(py).set_file(fd)?;
            }
            None if !self.locked(py).per_thread() => {
                return Err(PyValueError::new_err(
                    "print_from(session, None) writes to the files of write_thread_files(), \
                     which was not called",
                ));
            }
            None => {}
        }
        let inner = Arc::clone(&self.inner);
        let queue = session.get().queue();
        py.detach(|| {
            queue.set_direct(Box::new(move |events| {
                let mut out = inner.lock().unwrap_or_else(|e| e.into_inner());
                if events.is_empty() {
                    out.idle(); // the end of the consumer's round
                } else {
                    out.print_events(events.iter().copied());
                }
            }))
        });
        Ok(())
    }

    /// strace -ff -o PREFIX: from now on each line goes to its thread's
    /// file, `prefix`.TID, created when its first line comes (appended to
    /// with `append`, -A), written by a writer thread; feed(), finish() and
    /// status_line() return "" and print_from(session, None) prints there.
    /// Needs prefix="per-thread". A write or open that failed is raised
    /// (OSError, naming the file) by the next feed() or finish().
    #[pyo3(signature = (prefix, append = false))]
    fn write_thread_files(
        &mut self,
        py: Python<'_>,
        prefix: PathBuf,
        append: bool,
    ) -> PyResult<()> {
        let mut out = self.locked(py);
        if out.printer.options().prefix != PidPrefix::PerThread {
            return Err(PyValueError::new_err(
                "write_thread_files() needs a Printer made with prefix=\"per-thread\"",
            ));
        }
        Ok(out.set_thread_files(prefix, append)?)
    }

    /// Ends the stream: the text of the calls that never returned.
    /// `detached`: the processes were detached from (Ctrl-C under -p), as
    /// strace's detach ends their lines (` <detached ...>`).
    #[pyo3(signature = (detached = false))]
    fn finish(&mut self, py: Python<'_>, detached: bool) -> PyResult<String> {
        let inner = &self.inner;
        py.detach(|| {
            let mut out = inner.lock().unwrap_or_else(|e| e.into_inner());
            let mut text = String::new();
            if out.per_thread() {
                out.finish_to_writer(detached);
                out.flush();
                return Self::check_written(&mut out).map(|()| text);
            }
            if detached {
                out.printer.detach(&mut text);
            } else {
                out.printer.finish(&mut text);
            }
            out.flush(); // what the events printed is written before
            Self::check_written(&mut out).map(|()| text)
        })
    }

    /// The line of a process's end, told as strace's text (`+++ exited
    /// with 0 +++`, `+++ killed by SIGKILL +++`): process `pid` ended (its
    /// threads leave `live`). That text with the pid prefix the line needs
    /// now and the time now (with timestamps), `main`: the launched
    /// command's (no `[pid N]` on stderr); or its JSON object with format
    /// "json". "" with summary, or for an exit with quiet_exits, or when
    /// the events told that end already (task_exits).
    #[pyo3(signature = (pid, text, main = false, at_ns = None))]
    fn status_line(
        &mut self,
        py: Python<'_>,
        pid: u32,
        text: &str,
        main: bool,
        at_ns: Option<u64>,
    ) -> PyResult<String> {
        let end = ProcessEnd::parse(text).ok_or_else(|| {
            PyValueError::new_err(format!(
                "not a process's end: {text:?} (\"+++ exited with N +++\" or \"+++ killed by SIG... +++\")"
            ))
        })?;
        let mut out = String::new();
        let mut inner = self.locked(py);
        if inner.printer.has_ended(pid) {
            return Ok(out);
        }
        let at = at_ns.unwrap_or_else(crate::trace::queue::monotonic_ns);
        inner.printer.process_end(&mut out, pid, &end, main, at);
        if inner.per_thread() {
            inner.hand_text_of(&out);
            out.clear();
        }
        Ok(out)
    }

    /// The strace -c table of the calls counted.
    #[pyo3(signature = (sort_by = "time", columns = None))]
    fn summary_table(
        &self,
        py: Python<'_>,
        sort_by: &str,
        columns: Option<&str>,
    ) -> PyResult<String> {
        let (order, columns) = summary_layout(sort_by, columns)?;
        Ok(self.locked(py).printer.summary_table(order, &columns))
    }

    /// The threads seen and not gone: tid -> pid.
    #[getter]
    fn live(&self, py: Python<'_>) -> std::collections::HashMap<u32, u32> {
        self.locked(py)
            .printer
            .live()
            .iter()
            .map(|(&t, &p)| (t, p))
            .collect()
    }

    /// The processes that called exit_group: pid -> exit status.
    #[getter]
    fn exited(&self, py: Python<'_>) -> std::collections::HashMap<u32, i32> {
        self.locked(py).printer.exited().clone()
    }

    /// The processes let go at an exec (-b execve) since the last call,
    /// in order.
    fn take_detached(&self, py: Python<'_>) -> Vec<u32> {
        self.locked(py).printer.take_detached()
    }

    /// Calls entered and not yet returned.
    #[getter]
    fn pending(&self, py: Python<'_>) -> usize {
        self.locked(py).printer.pending()
    }

    /// Process `pid`'s threads as they are now (call it at attach, before
    /// the events come): traced from the start, not announced by
    /// attach_messages as followed.
    fn adopt(&mut self, py: Python<'_>, pid: u32) {
        self.locked(py).printer.adopt(pid);
    }

    /// With decode_fds: reads process `pid`'s fds and working directory
    /// from /proc now (call it at attach, before the events come).
    fn seed_fds(&mut self, py: Python<'_>, pid: u32) {
        self.locked(py).printer.seed_fds(pid);
    }

    /// With decode_fds: the fd and path arguments whose target could not
    /// be known (opened before tracing by a process now gone, relative to
    /// an unknown directory); those print as the number alone.
    #[getter]
    fn unknown_fds(&self, py: Python<'_>) -> u64 {
        self.locked(py).printer.unknown_fds()
    }

    /// With -yy: the sockets whose endpoints could not be read (their fd
    /// closed or their process gone before their call was printed); those
    /// print as `TCP:[INODE]`.
    #[getter]
    fn unread_sockets(&self, py: Python<'_>) -> u64 {
        self.locked(py).printer.unread_sockets()
    }
}
