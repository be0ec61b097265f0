//! `systrace.Session`: what `systrace.enable()` returns. Python's
//! `systrace.Session` subclasses it only to add the exports and asyncio.
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use pyo3::exceptions::{PyOSError, PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyInt, PyMapping, PyTuple};

use super::args::{bool_arg, pid_arg, size_arg, Timeout};
use super::batches::{BatchIter, EventIter};
use super::call::{CallIter, PyCall};
use super::count::SyscallCount;
use super::errors::{LostEventsWarning, SessionClosedError};
use super::event::{EventBatch, PyEvent};
use super::syscall_set::selection_arg;
use crate::filter::FilterSpec;
use crate::kernel::layout::MAX_CAPTURE;
use crate::kernel::programs::MAX_COUNTS_ENV;
use crate::kernel::{Event, Phase};
use crate::metadata::{display_name, metadata_now};
use crate::strace::fdtable::FdTable;
use crate::strace::pair::pair_events;
use crate::trace::capture::{self, DEFAULT_STRING_SIZE};
use crate::trace::queue::Queue;
use crate::trace::quiet::Quiet;
use crate::trace::{ProcessFilter, Registration};

/// Blocking waits are cut into slices this long so that Ctrl-C is seen.
const SIGNAL_CHECK: Duration = Duration::from_millis(50);

/// A tracing session (see systrace.enable()).
#[pyclass(module = "systrace", name = "Session", subclass, frozen)]
pub struct Session {
    inner: Mutex<crate::trace::Session>,
    queue: Arc<Queue>,
    /// The process that opened it; in a forked child the session is closed
    /// and empty, and its locks (maybe held at the fork) are never taken.
    pid: u32,
    warned: AtomicBool,
}

impl Session {
    fn inherited(&self) -> bool {
        self.pid != crate::trace::tracer::getpid()
    }

    /// Where the consumer delivers this session's events (a Recording
    /// drains it).
    pub(crate) fn queue(&self) -> Arc<Queue> {
        Arc::clone(&self.queue)
    }

    fn inner(&self) -> MutexGuard<'_, crate::trace::Session> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// What has arrived, waiting up to `timeout` (None: for ever) for the
    /// first event, in slices so that Ctrl-C is seen.
    pub fn take(&self, py: Python<'_>, timeout: Option<Duration>) -> PyResult<Vec<Event>> {
        if self.inherited() {
            return Ok(Vec::new());
        }
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        // No flush here: waking the consumer would be a syscall of the
        // caller's thread, visible in a trace of its own process; the
        // consumer delivers within its poll interval (10 ms) anyway.
        loop {
            let slice = match deadline {
                Some(d) => d
                    .saturating_duration_since(Instant::now())
                    .min(SIGNAL_CHECK),
                None => SIGNAL_CHECK,
            };
            let queue = &self.queue;
            // The wait (and the GIL taken back after it) is systrace's own.
            let _quiet = Quiet::enter();
            let events = py.detach(|| queue.take(slice));
            let expired = deadline.is_some_and(|d| Instant::now() >= d);
            if !events.is_empty() || expired || queue.is_finished() {
                return Ok(events);
            }
            py.check_signals()?;
        }
    }

    /// True once the session is closed and every event was taken.
    pub(super) fn is_exhausted(&self) -> bool {
        self.inherited() || (self.queue.is_finished() && self.queue.pending() == 0)
    }

    fn require_closed(&self, what: &str, instead: &str) -> PyResult<()> {
        if self.inherited() || self.inner().is_closed() {
            Ok(())
        } else {
            Err(PyRuntimeError::new_err(format!(
                "{what} waits for the end of the session: close it first, or {instead}"
            )))
        }
    }

    /// Every event left (the session is closed).
    fn drain(&self, py: Python<'_>) -> PyResult<Vec<Event>> {
        let mut all = Vec::new();
        while !self.is_exhausted() {
            all.extend(self.take(py, Some(Duration::ZERO))?);
        }
        Ok(all)
    }

    /// Warns once (LostEventsWarning) if the session lost anything;
    /// `stacklevel` 1 points at the caller's line.
    fn warn_lost(&self, py: Python<'_>, stacklevel: i32) -> PyResult<()> {
        let (losses, buffer_size) = {
            let inner = self.inner();
            (inner.losses(), inner.buffer_size())
        };
        let budget = self.queue.budget();
        let spill_error = self.queue.stored().1;
        if (losses.dropped == 0 && losses.untraced_children == 0 && losses.uncounted == 0)
            || self.warned.swap(true, Ordering::Relaxed)
        {
            return Ok(());
        }
        let mut msg = String::from("systrace session");
        if losses.dropped > 0 {
            let ring = losses.dropped - losses.backlog;
            msg += &format!(" lost {} events:", losses.dropped);
            if ring > 0 {
                msg += &format!(
                    " {ring} to a full ring buffer (poll or iterate while tracing, or use a \
                     larger buffer_size; now {buffer_size} bytes)"
                );
            }
            if losses.backlog > 0 {
                msg += &format!(
                    "{} {} past what the session keeps for you (max_memory, now {} bytes, \
                     then max_spill, now {} bytes{}; read the events while tracing, or raise \
                     them)",
                    if ring > 0 { ";" } else { "" },
                    losses.backlog,
                    budget.memory,
                    budget.spill,
                    spill_error.map_or(String::new(), |e| format!("; spilling failed: {e}")),
                );
            }
            if losses.unattributed > 0 {
                msg += &format!(
                    "; {} of them could not be attributed to a session",
                    losses.unattributed
                );
            }
        }
        if losses.untraced_children > 0 {
            if losses.dropped > 0 {
                msg += ";";
            }
            msg += &format!(
                " could not follow {} child processes (too many processes traced at once)",
                losses.untraced_children
            );
        }
        if losses.uncounted > 0 {
            if losses.dropped > 0 || losses.untraced_children > 0 {
                msg += ";";
            }
            msg += &format!(
                " could not count {} calls (the kernel's counting maps had no entry for them: \
                 full, or no memory for a new one at once, as a burst of new processes and \
                 syscalls leaves them; {MAX_COUNTS_ENV} raises their size)",
                losses.uncounted
            );
        }
        let category = py.get_type::<LostEventsWarning>();
        PyErr::warn(py, &category, &std::ffi::CString::new(msg)?, stacklevel)
    }
}

/// The processes of `pid=`: None, one pid, or an iterable of pids.
fn pids_arg(pid: Option<&Bound<'_, PyAny>>) -> PyResult<Option<BTreeSet<u32>>> {
    let Some(pid) = pid.filter(|p| !p.is_none()) else {
        return Ok(None);
    };
    if pid.is_instance_of::<PyInt>() {
        return Ok(Some(BTreeSet::from([pid_arg(pid)?])));
    }
    let items = pid.try_iter().map_err(|_| {
        PyTypeError::new_err(format!(
            "pid must be an int or an iterable of ints, not {}",
            pid.get_type()
                .name()
                .map_or_else(|_| "?".into(), |n| n.to_string())
        ))
    })?;
    let pids: BTreeSet<u32> = items
        .map(|p| p.and_then(|p| pid_arg(&p)))
        .collect::<PyResult<_>>()?;
    if pids.is_empty() {
        return Err(PyValueError::new_err(
            "pid is empty: name at least one process",
        ));
    }
    Ok(Some(pids))
}

/// `filter=`: None, one expression for every syscall that has its fields,
/// or a mapping of syscall (name or number) to expression.
fn filter_arg(filter: Option<&Bound<'_, PyAny>>) -> PyResult<Option<FilterSpec>> {
    let Some(filter) = filter.filter(|f| !f.is_none()) else {
        return Ok(None);
    };
    if let Ok(text) = filter.extract::<String>() {
        return Ok(Some(FilterSpec::All(text)));
    }
    let Ok(map) = filter.cast::<PyMapping>() else {
        return Err(PyTypeError::new_err(format!(
            "filter must be a str or a mapping of syscall to str, not {}",
            filter
                .get_type()
                .name()
                .map_or_else(|_| "?".into(), |n| n.to_string())
        )));
    };
    let mut out = std::collections::BTreeMap::new();
    for item in map.items()?.iter() {
        let (key, text): (Bound<'_, PyAny>, Bound<'_, PyAny>) = item.extract()?;
        let nr = if let Ok(name) = key.extract::<String>() {
            crate::metadata::names::resolve(&name)?
        } else {
            key.extract::<u32>().map_err(|_| {
                PyTypeError::new_err("filter's keys must be syscall names or numbers")
            })?
        };
        let text = text
            .extract::<String>()
            .map_err(|_| PyTypeError::new_err("filter's values must be str"))?;
        out.insert(nr, text);
    }
    Ok(Some(FilterSpec::PerSyscall(out)))
}

#[pymethods]
impl Session {
    /// Starts tracing; see systrace.enable() for the arguments. Private:
    /// _launched, the pid of a command held before its execve
    /// (systrace._native.Launch), which the session traces from that execve
    /// on; _unfiltered, syscall names a filter for all leaves alone;
    /// _and_filter, an expression ANDed into every other traced syscall's
    /// filter (the command's -z and -Z); _threads, the only threads whose
    /// calls pass, by a filter on their ids (the command's -c without -f
    /// and -p naming a thread that is not its process's first: strace
    /// counts the one thread it traces); _count_first_thread, counts of
    /// each process's first thread only (the same for a launched command
    /// and first threads, without a filter's cost); _count_by_root, counts
    /// wanted per syscall only (the command's -c: exact for any number of
    /// processes, none per process); _count_overhead_ns, with
    /// _count_by_root, nanoseconds taken off each counted call's time and
    /// wall time, down to 0 (the command's -O, as strace's);
    /// _detach_on_execve, each traced process let go at its exec but the
    /// launch's, and what it forks after (the command's -b execve; for
    /// every session of this process's programs).
    #[new]
    #[pyo3(signature = (*syscalls, enter = None, exit = None, pid = None, all_processes = None, buffer_size = None, strings = None, string_size = None, follow = None, count = None, max_memory = None, max_spill = None, signals = None, exits = None, filter = None, clock = None, _unfiltered = None, _and_filter = None, _launched = None, _data_size = None, _count_by_root = false, _threads = None, _count_first_thread = false, _count_overhead_ns = 0, _detach_on_execve = false))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        syscalls: &Bound<'_, PyTuple>,
        enter: Option<&Bound<'_, PyAny>>,
        exit: Option<&Bound<'_, PyAny>>,
        pid: Option<&Bound<'_, PyAny>>,
        all_processes: Option<&Bound<'_, PyAny>>,
        buffer_size: Option<&Bound<'_, PyAny>>,
        strings: Option<&Bound<'_, PyAny>>,
        string_size: Option<&Bound<'_, PyAny>>,
        follow: Option<&Bound<'_, PyAny>>,
        count: Option<&Bound<'_, PyAny>>,
        max_memory: Option<&Bound<'_, PyAny>>,
        max_spill: Option<&Bound<'_, PyAny>>,
        signals: Option<&Bound<'_, PyAny>>,
        exits: Option<&Bound<'_, PyAny>>,
        filter: Option<&Bound<'_, PyAny>>,
        clock: Option<&Bound<'_, PyAny>>,
        _unfiltered: Option<Vec<String>>,
        _and_filter: Option<String>,
        _launched: Option<&Bound<'_, PyAny>>,
        _data_size: Option<u32>,
        _count_by_root: bool,
        _threads: Option<Vec<u32>>,
        _count_first_thread: bool,
        _count_overhead_ns: u64,
        _detach_on_execve: bool,
    ) -> PyResult<Self> {
        let flag = |value: Option<&Bound<'_, PyAny>>, name: &str, default: bool| match value {
            Some(v) => bool_arg(v, name),
            None => Ok(default),
        };
        let enter = flag(enter, "enter", true)?;
        let exit = flag(exit, "exit", true)?;
        let all_processes = flag(all_processes, "all_processes", false)?;
        let strings = flag(strings, "strings", false)?;
        let follow = flag(follow, "follow", false)?;
        let count = flag(count, "count", false)?;
        let signals = flag(signals, "signals", false)?;
        let exits = flag(exits, "exits", false)?;
        let clock = flag(clock, "clock", true)?;
        if count && (signals || exits) {
            return Err(PyValueError::new_err(
                "count=True counts calls in the kernel: it delivers no events, signals or exits",
            ));
        }
        if count && strings {
            return Err(PyValueError::new_err(
                "count=True counts calls in the kernel: there are no events to capture strings into",
            ));
        }
        let selection = selection_arg(syscalls, enter, exit)?;
        let launched = _launched.map(pid_arg).transpose()?;
        if launched.is_some() && (all_processes || pid.is_some_and(|p| !p.is_none())) {
            return Err(PyValueError::new_err(
                "_launched names the one process traced: no pid or all_processes",
            ));
        }
        let pids = pids_arg(pid)?.or_else(|| launched.map(|p| BTreeSet::from([p])));
        let processes = match (pids, all_processes) {
            (Some(_), true) => {
                return Err(PyValueError::new_err(
                    "pid and all_processes=True exclude each other",
                ))
            }
            (None, true) => ProcessFilter::All,
            (None, false) => ProcessFilter::Tgids(BTreeSet::from([crate::trace::tracer::getpid()])),
            (Some(pids), false) => ProcessFilter::Tgids(pids),
        };
        // The kernel's own rule (power of two) is checked by the core.
        let buffer_size = buffer_size
            .filter(|b| !b.is_none())
            .map(|size| {
                size_arg(
                    size,
                    "buffer_size",
                    1..=i64::from(u32::MAX),
                    "a power of two from 4096 to 2**30 bytes",
                )
                .map(|s| s as usize)
            })
            .transpose()?;
        let capture_size = match (strings, string_size.filter(|s| !s.is_none())) {
            (false, None) => 0,
            (false, Some(_)) => {
                return Err(PyValueError::new_err("string_size needs strings=True"))
            }
            (true, None) => DEFAULT_STRING_SIZE,
            (true, Some(size)) => size_arg(
                size,
                "string_size",
                1..=i64::from(MAX_CAPTURE),
                &format!("from 1 to {MAX_CAPTURE} bytes"),
            )? as u32,
        };
        // The command's -s for data, where its string_size keeps paths whole.
        let data_size = match _data_size {
            Some(size) if capture_size == 0 || !(1..=MAX_CAPTURE).contains(&size) => {
                return Err(PyValueError::new_err(format!(
                    "_data_size needs strings=True and from 1 to {MAX_CAPTURE} bytes"
                )))
            }
            Some(size) => size.min(capture_size),
            None => 0,
        };
        if follow && matches!(processes, ProcessFilter::All) {
            return Err(PyValueError::new_err(
                "follow=True with all_processes=True: every process is traced already",
            ));
        }
        let filter = filter_arg(filter)?;
        // Syscalls a filter for all leaves alone (the command's own: the
        // execs and exits it needs to follow processes).
        let exempt = _unfiltered
            .unwrap_or_default()
            .iter()
            .filter_map(|name| crate::metadata::names::resolve(name).ok())
            .collect();
        let filters = match &filter {
            // A counting session sees both phases of its syscalls.
            Some(spec) if count => {
                let nrs = selection.nrs();
                crate::filter::build(spec, &nrs, &nrs, metadata_now().0, false, &exempt)
                    .map_err(|e| PyValueError::new_err(e.to_string()))?
            }
            Some(spec) => crate::filter::build(
                spec,
                &selection.enter,
                &selection.exit,
                metadata_now().0,
                strings,
                &exempt,
            )
            .map_err(|e| PyValueError::new_err(e.to_string()))?,
            None => Default::default(),
        };
        let mut filters = filters;
        let nrs = selection.nrs();
        let phases = if count {
            (&nrs, &nrs)
        } else {
            (&selection.enter, &selection.exit)
        };
        if let Some(tids) = _threads.filter(|t| !t.is_empty()) {
            // common_pid is the thread's id, a field of every syscall.
            let text = tids
                .iter()
                .map(|tid| format!("common_pid == {tid}"))
                .collect::<Vec<_>>()
                .join(" || ");
            crate::filter::and_every(&mut filters, &text, phases, metadata_now().0, &[].into())
                .map_err(|e| PyValueError::new_err(e.to_string()))?;
        }
        if let Some(text) = _and_filter.as_deref() {
            // rt_sigreturn has no exit to test its `ret` at (the kernel
            // reports none; its return is read from the signal frame at its
            // enter): a filter on `ret` would drop every one, so the printer
            // alone decides it, as strace -z/-Z show it by that return.
            let mut exempt = exempt.clone();
            exempt.extend(crate::metadata::names::resolve("rt_sigreturn").ok());
            crate::filter::and_every(&mut filters, text, phases, metadata_now().0, &exempt)
                .map_err(|e| PyValueError::new_err(e.to_string()))?;
        }
        let registration = Registration {
            filters,
            capture: if strings && !count {
                capture::capturing(metadata_now().0, &selection.nrs())
            } else {
                BTreeSet::new()
            },
            capture_size,
            data_size,
            follow,
            // A counting session counts in the kernel and delivers nothing.
            count: if count {
                selection.nrs()
            } else {
                BTreeSet::new()
            },
            enter: if count {
                BTreeSet::new()
            } else {
                selection.enter
            },
            exit: if count {
                BTreeSet::new()
            } else {
                selection.exit
            },
            processes,
            launched,
            signals,
            task_exits: exits,
            clockless: !clock,
            count_by_root: count && _count_by_root,
            count_first_thread: count && _count_first_thread,
            count_overhead_ns: if count && _count_by_root {
                _count_overhead_ns
            } else {
                0
            },
            detach_on_execve: _detach_on_execve,
        };
        let max_memory = max_memory
            .filter(|m| !m.is_none())
            .map(|m| {
                size_arg(m, "max_memory", 1..=i64::MAX, "a positive number of bytes")
                    .map(|v| v as usize)
            })
            .transpose()?;
        let max_spill = max_spill
            .filter(|m| !m.is_none())
            .map(|m| {
                size_arg(m, "max_spill", 0..=i64::MAX, "a number of bytes >= 0").map(|v| v as u64)
            })
            .transpose()?;
        let session = py.detach(|| {
            crate::trace::Session::open(registration, buffer_size, max_memory, max_spill)
        })?;
        let queue = session.queue();
        Ok(Session {
            inner: Mutex::new(session),
            queue,
            pid: crate::trace::tracer::getpid(),
            warned: AtomicBool::new(false),
        })
    }

    fn __enter__(slf: Bound<'_, Self>) -> PyResult<Bound<'_, Self>> {
        if slf.get().closed() {
            return Err(SessionClosedError::new_err(
                "this session is closed: its events can still be read, but it cannot trace \
                 again; open a new one with systrace.enable()",
            ));
        }
        Ok(slf)
    }

    #[pyo3(signature = (*_exc_info))]
    fn __exit__(&self, py: Python<'_>, _exc_info: &Bound<'_, PyTuple>) -> PyResult<()> {
        self.close(py)
    }

    /// Stops tracing and collects the last events; warns (LostEventsWarning)
    /// if any were lost. Closing twice is harmless.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        if self.inherited() {
            return Ok(());
        }
        py.detach(|| self.inner().close())?;
        self.warn_lost(py, 1)
    }

    /// The events that arrived, waiting up to `timeout` seconds for the
    /// first (None: until one arrives or the session is closed). Ctrl-C
    /// interrupts the wait.
    #[pyo3(signature = (timeout = Some(Timeout::ZERO)))]
    fn poll(&self, py: Python<'_>, timeout: Option<Timeout>) -> PyResult<EventBatch> {
        let timeout = timeout.and_then(|t| t.0);
        Ok(EventBatch {
            events: self.take(py, timeout)?,
        })
    }

    /// The events in batches as they arrive: each non-empty EventBatch,
    /// until the session is closed and drained. The one way to stream a
    /// session; iterating it, calls() and the exports all use it.
    fn batches(slf: Bound<'_, Self>) -> BatchIter {
        BatchIter {
            session: slf.unbind(),
        }
    }

    /// Streams the events until the session is closed (by another thread);
    /// a closed session yields the events left.
    fn __iter__(slf: Bound<'_, Self>) -> EventIter {
        EventIter {
            batches: BatchIter {
                session: slf.unbind(),
            },
            batch: Vec::new().into_iter(),
        }
    }

    /// Every event left, as a list (close the session first).
    fn events(&self, py: Python<'_>) -> PyResult<Vec<PyEvent>> {
        self.require_closed("events()", "iterate it to stream")?;
        Ok(self
            .drain(py)?
            .into_iter()
            .map(|ev| PyEvent { ev })
            .collect())
    }

    /// The session's calls (enter and exit paired per thread), in order of
    /// start (close the session first).
    /// resolve_paths: give each call its paths (Call.path, fd_paths...)
    /// from a table of each process's fds kept over the calls.
    #[pyo3(signature = (*, resolve_paths = false))]
    fn calls(&self, py: Python<'_>, resolve_paths: bool) -> PyResult<Vec<PyCall>> {
        self.require_closed("calls()", "use iter_calls() to stream")?;
        let events = self.drain(py)?;
        let calls = py.detach(|| pair_events(events));
        let mut table = resolve_paths.then(|| FdTable::new(true, 0));
        Ok(super::call::resolved(calls, &mut table))
    }

    /// The session's calls as they complete (streams an open session).
    #[pyo3(signature = (*, resolve_paths = false))]
    fn iter_calls(slf: Bound<'_, Self>, resolve_paths: bool) -> CallIter {
        let fds = resolve_paths.then(|| FdTable::new(true, 0));
        CallIter::new(slf.into_any().unbind(), fds)
    }

    /// A counting session's calls, counted in the kernel: one SyscallCount
    /// per syscall (per process and syscall with `per_process`), by number.
    /// Final once the session is closed; a session that does not count has
    /// none.
    #[pyo3(signature = (per_process = false))]
    fn counts(&self, py: Python<'_>, per_process: bool) -> PyResult<Vec<SyscallCount>> {
        if self.inherited() {
            return Ok(Vec::new());
        }
        if per_process && self.inner().counts_by_root() {
            return Err(PyValueError::new_err(
                "this session counts per syscall only (opened with _count_by_root=True)",
            ));
        }
        let rows = py.detach(|| self.inner().counts(per_process));
        Ok(rows.into_iter().map(SyscallCount::from).collect())
    }

    /// A counting session's counts as strace -c prints them, sorted as
    /// `sort_by` says (strace's -S: "time", "calls", "errors", "name",
    /// "avg-time" or "nothing"), with the `columns` strace's -U names
    /// ("name,calls,errors"; None: its default). The times are the
    /// kernel's: the time the calls' threads ran in them (`system_ns`, as
    /// strace -c's), or with `wall=True` their time from entry to exit
    /// (`time_ns`, as strace -c -w's).
    #[pyo3(signature = (sort_by = "time", columns = None, wall = false))]
    fn count_table(
        &self,
        py: Python<'_>,
        sort_by: &str,
        columns: Option<&str>,
        wall: bool,
    ) -> PyResult<String> {
        let (order, columns) = super::strace::summary_layout(sort_by, columns)?;
        if self.inherited() {
            return Ok(String::new());
        }
        let rows: Vec<_> = py
            .detach(|| self.inner().counts(false))
            .into_iter()
            .map(|c| crate::strace::summary::SummaryRow {
                name: display_name(c.nr).into_owned(),
                nr: c.nr,
                calls: c.calls,
                errors: c.errors,
                time_ns: if wall { c.time_ns } else { c.system_ns },
            })
            .collect();
        Ok(crate::strace::summary::format_summary(
            &rows, order, &columns,
        ))
    }

    /// True for a counting session (systrace.count()).
    #[getter]
    fn counting(&self) -> bool {
        !self.inner().registration().count.is_empty()
    }

    /// An fd that is readable while events wait, for select/epoll/asyncio.
    fn fileno(&self) -> PyResult<i32> {
        self.queue
            .ready_fd()
            .ok_or_else(|| PyOSError::new_err("this session has no readiness fd"))
    }

    #[getter]
    fn closed(&self) -> bool {
        self.inherited() || self.inner().is_closed()
    }

    /// True once the session is closed and every event was taken.
    #[getter]
    fn exhausted(&self) -> bool {
        self.is_exhausted()
    }

    /// Events this session would have received that were lost.
    #[getter]
    fn dropped(&self, py: Python<'_>) -> u64 {
        if self.inherited() {
            return 0;
        }
        py.detach(|| self.inner().dropped())
    }

    /// Children of the followed processes that could not be followed (the
    /// kernel's process filter was full); their events were not recorded.
    #[getter]
    fn untraced_children(&self, py: Python<'_>) -> u64 {
        if self.inherited() {
            return 0;
        }
        py.detach(|| self.inner().losses().untraced_children)
    }

    /// Calls a counting session could not count: the kernel's counting
    /// maps (one entry per process and syscall, and per errno) were full.
    /// Counted for every counting session open then (an upper bound).
    #[getter]
    fn uncounted(&self, py: Python<'_>) -> u64 {
        if self.inherited() {
            return 0;
        }
        py.detach(|| self.inner().losses().uncounted)
    }

    /// Captures of user memory in the delivered events that did not happen
    /// whole: {"truncated": n, "faulted": n, "lost": n} (each also marked
    /// in its event's capture_status).
    #[getter]
    fn capture_losses(&self) -> std::collections::HashMap<&'static str, u64> {
        let c = self.queue.capture_losses();
        [
            ("truncated", c.truncated),
            ("faulted", c.faulted),
            ("lost", c.lost),
        ]
        .into_iter()
        .collect()
    }

    /// Bytes of packed events this session keeps for you in memory at most
    /// (max_memory).
    #[getter]
    fn max_memory(&self) -> usize {
        self.queue.budget().memory
    }

    /// Bytes of packed events this session spills to a temporary file at
    /// most, once max_memory is full (max_spill).
    #[getter]
    fn max_spill(&self) -> u64 {
        self.queue.budget().spill
    }

    /// Packed bytes of the events waiting to be taken: (in memory, in the
    /// temporary file).
    #[getter]
    fn stored_bytes(&self) -> (usize, u64) {
        self.queue.stored().0
    }

    /// The size of the ring buffer in bytes.
    #[getter]
    fn buffer_size(&self) -> usize {
        self.inner().buffer_size()
    }

    /// The names of the traced syscalls.
    #[getter]
    fn syscalls(&self) -> Vec<String> {
        let inner = self.inner();
        let reg = inner.registration();
        reg.enter
            .union(&reg.exit)
            .map(|&nr| display_name(nr).into_owned())
            .collect()
    }

    /// Syscall numbers traced at enter.
    #[getter]
    fn enter_syscalls(&self) -> Vec<u32> {
        self.inner()
            .registration()
            .syscalls(Phase::Enter)
            .iter()
            .copied()
            .collect()
    }

    /// Syscall numbers traced at exit.
    #[getter]
    fn exit_syscalls(&self) -> Vec<u32> {
        self.inner()
            .registration()
            .syscalls(Phase::Exit)
            .iter()
            .copied()
            .collect()
    }

    /// The traced process ids; None when every process is traced.
    #[getter]
    fn pids(&self) -> Option<Vec<u32>> {
        match &self.inner().registration().processes {
            ProcessFilter::All => None,
            ProcessFilter::Tgids(t) => Some(t.iter().copied().collect()),
        }
    }

    fn __repr__(&self) -> String {
        let state = if self.closed() { "closed" } else { "open" };
        let pids = match self.pids() {
            None => "all".to_owned(),
            Some(p) => format!("{p:?}"),
        };
        format!(
            "<systrace.Session {state} syscalls={} pids={pids}>",
            self.syscalls().len()
        )
    }
}

impl Drop for Session {
    /// A session collected without being closed still says what it lost.
    fn drop(&mut self) {
        if self.inherited() {
            return;
        }
        Python::attach(|py| {
            let _ = py.detach(|| self.inner().close());
            if let Err(err) = self.warn_lost(py, 1) {
                err.write_unraisable(py, None);
            }
        });
    }
}

/// Loads systrace's BPF programs now (nothing is attached or traced), so
/// that the first enable() only has to switch syscalls on.
#[pyfunction]
#[pyo3(signature = (buffer_size = None))]
pub fn preload(py: Python<'_>, buffer_size: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
    let size = buffer_size
        .map(|b| {
            size_arg(
                b,
                "buffer_size",
                1..=i64::from(u32::MAX),
                "a power of two from 4096 to 2**30 bytes",
            )
        })
        .transpose()?
        .map(|s| s as usize);
    py.detach(|| crate::trace::tracer::preload(size))?;
    Ok(())
}
