//! The thin PyO3 layer: `systrace._native`. It converts arguments into owned
//! Rust data, releases the GIL for anything that waits, and hands events to
//! Python in batches. The public API is `python/systrace/`, not this module.
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use pyo3::create_exception;
use pyo3::exceptions::PyTypeError;
use pyo3::exceptions::{
    PyIndexError, PyOSError, PyPermissionError, PyProcessLookupError, PyRuntimeError, PyValueError,
};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyInt, PyString};

use crate::capture;
use crate::columns::Columns;
use crate::decode::Event;
use crate::error::Error;
use crate::format::{format_event, Style};
use crate::metadata::event_class::{self, Field, Phase};
use crate::metadata::{MetadataSource, SyscallMetadata};
use crate::names::{self, metadata};
use crate::register::{ProcessFilter, Registration};
use crate::session::SessionShared;
use crate::tracer::{self, Session};

create_exception!(
    systrace,
    UnsupportedKernelError,
    PyOSError,
    "The kernel cannot run systrace: no BPF, no BTF, or a missing BPF feature."
);
create_exception!(
    systrace,
    SessionClosedError,
    PyRuntimeError,
    "The session was closed."
);

impl From<Error> for PyErr {
    fn from(err: Error) -> PyErr {
        let msg = err.to_string();
        match err {
            Error::UnknownSyscall { .. } | Error::InvalidArgument(_) => PyValueError::new_err(msg),
            Error::PermissionDenied(_) => PyPermissionError::new_err(msg),
            Error::Unsupported(_) => UnsupportedKernelError::new_err(msg),
            Error::NoSuchProcess(_) => PyProcessLookupError::new_err(msg),
            Error::Os { source, .. } => match source.raw_os_error() {
                Some(errno) => PyOSError::new_err((errno, msg)),
                None => PyOSError::new_err(msg),
            },
        }
    }
}

/// Blocking waits are cut into slices this long so that Ctrl-C is seen.
const SIGNAL_CHECK: Duration = Duration::from_millis(50);

fn phase_name(phase: Phase) -> &'static str {
    match phase {
        Phase::Enter => "enter",
        Phase::Exit => "exit",
    }
}

/// One syscall event.
#[pyclass(module = "systrace._native", name = "Event", frozen)]
pub struct PyEvent {
    ev: Event,
}

impl PyEvent {
    /// The decoded event, for other Rust bindings (strace decoding).
    pub(crate) fn event(&self) -> &Event {
        &self.ev
    }
}

#[pymethods]
impl PyEvent {
    /// The syscall's name on this architecture, e.g. "read".
    #[getter]
    fn name(&self) -> String {
        match names::syscall_name(self.ev.nr) {
            Some(name) => name.to_owned(),
            None => metadata().syscall_nr_to_meta(self.ev.nr).map_or_else(
                || format!("syscall_{}", self.ev.nr),
                |m| m.short_name().to_owned(),
            ),
        }
    }
    #[getter]
    fn nr(&self) -> u32 {
        self.ev.nr
    }
    /// "enter" or "exit".
    #[getter]
    fn phase(&self) -> &'static str {
        phase_name(self.ev.phase)
    }
    /// Argument name -> value, typed by the argument's C type; {} on exit.
    #[getter]
    fn args<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        let meta = metadata().syscall_nr_to_meta(self.ev.nr);
        for (i, &raw) in self.ev.args().iter().enumerate() {
            let value = crate::format::typed_arg(
                meta.and_then(|m| m.types.get(i)).map(String::as_str),
                raw,
            );
            match meta.and_then(|m| m.args.get(i)) {
                Some(name) => dict.set_item(name, value)?,
                None => dict.set_item(format!("arg{i}"), value)?,
            }
        }
        Ok(dict)
    }
    /// User memory captured with strings=True: argument name -> bytes
    /// (argv-like arrays: a list of bytes). Cut strings are marked by
    /// `truncated`; memory that could not be read is absent.
    #[getter]
    fn captured<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        let meta = metadata().syscall_nr_to_meta(self.ev.nr);
        for cap in self.ev.captures() {
            if cap.faulted || (cap.argv_elem && cap.truncated && cap.bytes.is_empty()) {
                continue;
            }
            let name = meta
                .and_then(|m| m.args.get(cap.arg as usize).cloned())
                .unwrap_or_else(|| format!("arg{}", cap.arg));
            let bytes = pyo3::types::PyBytes::new(py, cap.bytes);
            if cap.argv_elem {
                match dict.get_item(&name)? {
                    Some(list) => list.cast::<pyo3::types::PyList>()?.append(bytes)?,
                    None => dict.set_item(&name, pyo3::types::PyList::new(py, [bytes])?)?,
                }
            } else {
                dict.set_item(&name, bytes)?;
            }
        }
        Ok(dict)
    }

    /// Names of captured arguments that were cut at the capture size, or
    /// whose memory could not be read: {name: "truncated" | "faulted"}.
    #[getter]
    fn capture_status<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        let meta = metadata().syscall_nr_to_meta(self.ev.nr);
        for cap in self.ev.captures() {
            let name = meta
                .and_then(|m| m.args.get(cap.arg as usize).cloned())
                .unwrap_or_else(|| format!("arg{}", cap.arg));
            if cap.faulted {
                dict.set_item(name, "faulted")?;
            } else if cap.truncated {
                dict.set_item(name, "truncated")?;
            }
        }
        Ok(dict)
    }

    /// The raw argument registers, as unsigned 64-bit values.
    #[getter]
    fn raw_args(&self) -> Vec<u64> {
        self.ev.args().to_vec()
    }
    /// The return value on exit (negative errno on failure); None on enter.
    #[getter]
    fn ret(&self) -> Option<i64> {
        (self.ev.phase == Phase::Exit).then_some(self.ev.ret)
    }
    /// The process id (tgid).
    #[getter]
    fn pid(&self) -> u32 {
        self.ev.pid
    }
    /// The thread id.
    #[getter]
    fn tid(&self) -> u32 {
        self.ev.tid
    }
    /// The thread's command name (decoded leniently: it is whatever the
    /// process put there).
    #[getter]
    fn comm(&self) -> String {
        String::from_utf8_lossy(self.ev.comm_bytes()).into_owned()
    }
    #[getter]
    fn cpu(&self) -> u16 {
        self.ev.cpu
    }
    /// CLOCK_MONOTONIC nanoseconds (compare with time.monotonic_ns()).
    #[getter]
    fn timestamp_ns(&self) -> u64 {
        self.ev.timestamp_ns
    }
    /// The kernel's trace text; `verbose` adds each argument's C type and
    /// `legacy` prints bare hex as Linux 3.8 did.
    #[pyo3(signature = (verbose = false, legacy = false))]
    fn format_line(&self, verbose: bool, legacy: bool) -> String {
        format_event(&self.ev, Style { verbose, legacy })
    }
    fn __str__(&self) -> String {
        format_event(&self.ev, Style::default())
    }
    fn __repr__(&self) -> String {
        format!(
            "<Event {} pid={} tid={} t={} {}>",
            self.phase(),
            self.ev.pid,
            self.ev.tid,
            self.ev.timestamp_ns,
            format_event(&self.ev, Style::default())
        )
    }
    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other.cast::<PyEvent>().is_ok_and(|o| o.get().ev == self.ev)
    }
    fn __hash__(&self) -> u64 {
        self.ev.timestamp_ns ^ ((self.ev.tid as u64) << 32) ^ self.ev.nr as u64
    }
}

/// A batch of events handed over at once; a sequence of Event.
#[pyclass(module = "systrace._native", name = "EventBatch", frozen, sequence)]
pub struct EventBatch {
    events: Vec<Event>,
}

impl EventBatch {
    /// The decoded events, for other Rust bindings (strace decoding).
    pub(crate) fn events(&self) -> &[Event] {
        &self.events
    }
}

#[pymethods]
impl EventBatch {
    fn __len__(&self) -> usize {
        self.events.len()
    }
    fn __getitem__(&self, index: isize) -> PyResult<PyEvent> {
        let len = self.events.len() as isize;
        let i = if index < 0 { index + len } else { index };
        if !(0..len).contains(&i) {
            return Err(PyIndexError::new_err("EventBatch index out of range"));
        }
        Ok(PyEvent {
            ev: self.events[i as usize].clone(),
        })
    }
    fn __iter__(slf: Bound<'_, Self>) -> EventBatchIter {
        EventBatchIter {
            batch: slf.unbind(),
            next: AtomicUsize::new(0),
        }
    }
    fn __bool__(&self) -> bool {
        !self.events.is_empty()
    }
    fn __repr__(&self) -> String {
        format!("<EventBatch of {} events>", self.events.len())
    }
    /// The batch as columns, without an object per event: field name ->
    /// (struct format, bytes). Formats: "Q" u64, "q" i64, "I" u32, "H" u16,
    /// "B" u8, "16s" comm. E.g. memoryview(b).cast("Q"), numpy.frombuffer,
    /// pyarrow.Array.from_buffers. phase: 1 enter, 2 exit; ret 0 on enter;
    /// arg0..arg5 are the raw registers (0 where absent).
    fn columns<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        fn bytes_of<T: Copy>(values: &[T]) -> &[u8] {
            // SAFETY: plain integers, viewed as their bytes for the copy.
            unsafe {
                std::slice::from_raw_parts(values.as_ptr().cast(), std::mem::size_of_val(values))
            }
        }
        let c = py.detach(|| Columns::from_events(&self.events));
        let dict = PyDict::new(py);
        let put = |name: &str, format: &str, data: &[u8]| -> PyResult<()> {
            dict.set_item(name, (format, pyo3::types::PyBytes::new(py, data)))
        };
        put("timestamp_ns", "Q", bytes_of(&c.timestamp_ns))?;
        put("pid", "I", bytes_of(&c.pid))?;
        put("tid", "I", bytes_of(&c.tid))?;
        put("cpu", "H", bytes_of(&c.cpu))?;
        put("nr", "I", bytes_of(&c.nr))?;
        put("phase", "B", &c.phase)?;
        put("ret", "q", bytes_of(&c.ret))?;
        put("nb_args", "B", &c.nb_args)?;
        for (i, column) in c.args.iter().enumerate() {
            put(&format!("arg{i}"), "Q", bytes_of(column))?;
        }
        put("comm", "16s", &c.comm)?;
        Ok(dict)
    }
}

#[pyclass(module = "systrace._native", frozen)]
pub struct EventBatchIter {
    batch: Py<EventBatch>,
    next: AtomicUsize,
}

#[pymethods]
impl EventBatchIter {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }
    fn __next__(&self) -> Option<PyEvent> {
        let i = self.next.fetch_add(1, Ordering::Relaxed);
        self.batch
            .get()
            .events
            .get(i)
            .map(|ev| PyEvent { ev: ev.clone() })
    }
}

/// A tracing session; see systrace.enable() for the public API.
#[pyclass(module = "systrace._native", name = "Session", frozen)]
pub struct PySession {
    inner: Mutex<Session>,
    shared: Arc<SessionShared>,
    /// The process that opened it; in a forked child the session is closed
    /// and empty, and its locks (maybe held at the fork) are never taken.
    pid: u32,
}

impl PySession {
    fn inherited(&self) -> bool {
        self.pid != std::process::id()
    }

    fn inner(&self) -> MutexGuard<'_, Session> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn timeout_arg(timeout: Option<f64>) -> PyResult<Option<Duration>> {
    match timeout {
        None => Ok(None),
        // A finite timeout too long for a Duration waits as long as None.
        Some(t) if t.is_finite() && t >= 0.0 => Ok(Duration::try_from_secs_f64(t).ok()),
        Some(t) => Err(PyValueError::new_err(format!(
            "timeout must be a non-negative number of seconds, not {t}"
        ))),
    }
}

#[pymethods]
impl PySession {
    /// Returns the events that arrived, waiting up to `timeout` seconds for
    /// the first one (None: until one comes or the session closes). Ctrl-C
    /// interrupts the wait.
    #[pyo3(signature = (timeout = None))]
    fn poll(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<EventBatch> {
        let timeout = timeout_arg(timeout)?;
        if self.inherited() {
            return Ok(EventBatch { events: Vec::new() });
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
            if self.inherited() {
                return Ok(EventBatch { events: Vec::new() });
            }
            let shared = &self.shared;
            let events = py.detach(|| shared.take(slice));
            let expired = deadline.is_some_and(|d| Instant::now() >= d);
            if !events.is_empty() || expired || shared.is_finished() {
                return Ok(EventBatch { events });
            }
            py.check_signals()?;
        }
    }

    /// Disables the session's syscalls and collects its last events.
    /// Closing twice does nothing.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        if self.inherited() {
            return Ok(());
        }
        py.detach(|| self.inner().close())?;
        Ok(())
    }

    /// An fd that is readable while events wait: for event loops.
    fn fileno(&self) -> PyResult<i32> {
        self.shared
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
        if self.inherited() {
            return true;
        }
        let inner = self.inner();
        inner.is_finished() && inner.pending() == 0
    }

    /// Events of this session's syscalls lost to a full ring buffer.
    #[getter]
    fn dropped(&self, py: Python<'_>) -> u64 {
        if self.inherited() {
            return 0;
        }
        py.detach(|| self.inner().dropped())
    }

    #[getter]
    fn buffer_size(&self) -> usize {
        self.inner().buffer_size()
    }

    /// Syscall numbers traced at enter.
    #[getter]
    fn enter_syscalls(&self) -> Vec<u32> {
        self.inner().registration().enter.iter().copied().collect()
    }

    /// Syscall numbers traced at exit.
    #[getter]
    fn exit_syscalls(&self) -> Vec<u32> {
        self.inner().registration().exit.iter().copied().collect()
    }

    /// The traced process ids; None when tracing every process.
    #[getter]
    fn pids(&self) -> Option<Vec<u32>> {
        match &self.inner().registration().processes {
            ProcessFilter::All => None,
            ProcessFilter::Tgids(t) => Some(t.iter().copied().collect()),
        }
    }
}

/// An int argument named `what`: TypeError for anything but an int (bools
/// included); Ok(None) for an int too large for i64, which the caller
/// reports as out of range.
fn int_arg(value: &Bound<'_, PyAny>, what: &str) -> PyResult<Option<i64>> {
    if value.is_instance_of::<PyBool>() || !value.is_instance_of::<PyInt>() {
        return Err(PyTypeError::new_err(format!(
            "{what} must be an int, not {}",
            value.get_type().name()?
        )));
    }
    Ok(value.extract::<i64>().ok())
}

fn resolve_syscall(item: &Bound<'_, PyAny>) -> PyResult<u32> {
    if let Ok(name) = item.cast::<PyString>() {
        return Ok(names::resolve(&name.to_cow()?)?);
    }
    if !item.is_instance_of::<PyInt>() || item.is_instance_of::<PyBool>() {
        return Err(PyTypeError::new_err(format!(
            "a syscall is named by a str or an int, not {}",
            item.get_type().name()?
        )));
    }
    match int_arg(item, "a syscall number")? {
        Some(nr) => Ok(names::check_nr(nr)?),
        None => Err(Error::UnknownSyscall {
            name: item.str()?.to_string(),
            suggestions: Vec::new(),
        }
        .into()),
    }
}

fn check_pid(pid: &Bound<'_, PyAny>) -> PyResult<u32> {
    let value = int_arg(pid, "a pid")?;
    let pid = value
        .and_then(|p| u32::try_from(p).ok())
        .filter(|&p| p > 0 && p <= i32::MAX as u32)
        .ok_or_else(|| {
            PyValueError::new_err(format!("pid must be a positive process id, not {}", pid))
        })?;
    if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
        return Err(Error::NoSuchProcess(pid).into());
    }
    Ok(pid)
}

/// A size argument: an int in `range`, else a ValueError saying `rule`.
fn size_arg(
    value: &Bound<'_, PyAny>,
    what: &str,
    range: std::ops::RangeInclusive<i64>,
    rule: &str,
) -> PyResult<i64> {
    int_arg(value, what)?
        .filter(|v| range.contains(v))
        .ok_or_else(|| PyValueError::new_err(format!("{what} must be {rule}, not {value}")))
}

/// Opens a session. `syscalls`: names or numbers (None: every syscall);
/// `pids`: processes to trace (None: this process, unless `all_processes`).
#[pyfunction]
#[pyo3(signature = (syscalls = None, *, enter = true, exit = true, pids = None, all_processes = false, buffer_size = None, strings = false, string_size = None, follow = false))]
#[allow(clippy::too_many_arguments)]
fn open_session(
    py: Python<'_>,
    syscalls: Option<Vec<Bound<'_, PyAny>>>,
    enter: bool,
    exit: bool,
    pids: Option<Vec<Bound<'_, PyAny>>>,
    all_processes: bool,
    buffer_size: Option<Bound<'_, PyAny>>,
    strings: bool,
    string_size: Option<Bound<'_, PyAny>>,
    follow: bool,
) -> PyResult<PySession> {
    let nrs: BTreeSet<u32> = match syscalls {
        Some(items) => items.iter().map(resolve_syscall).collect::<PyResult<_>>()?,
        None => names::all_syscalls(),
    };
    if nrs.is_empty() {
        return Err(PyValueError::new_err(
            "no syscall to trace: name at least one",
        ));
    }
    if !enter && !exit {
        return Err(PyValueError::new_err(
            "enter=False and exit=False traces nothing: keep at least one",
        ));
    }
    let processes = match (pids, all_processes) {
        (Some(_), true) => {
            return Err(PyValueError::new_err(
                "pids and all_processes=True exclude each other",
            ));
        }
        (None, true) => ProcessFilter::All,
        (None, false) => ProcessFilter::Tgids(BTreeSet::from([std::process::id()])),
        (Some(pids), false) => {
            let pids: BTreeSet<u32> = pids.iter().map(check_pid).collect::<PyResult<_>>()?;
            if pids.is_empty() {
                return Err(PyValueError::new_err(
                    "pids is empty: name at least one process",
                ));
            }
            ProcessFilter::Tgids(pids)
        }
    };
    // The kernel's own rule (power of two) is checked by the core.
    let buffer_size = buffer_size
        .map(|size| {
            size_arg(
                &size,
                "buffer_size",
                1..=i64::from(u32::MAX),
                "a power of two from 4096 to 2**30 bytes",
            )
            .map(|s| s as usize)
        })
        .transpose()?;
    let capture_size = match (strings, string_size) {
        (false, None) => 0,
        (false, Some(_)) => return Err(PyValueError::new_err("string_size needs strings=True")),
        (true, None) => capture::DEFAULT_CAPTURE_SIZE,
        (true, Some(size)) => size_arg(
            &size,
            "string_size",
            1..=i64::from(capture::MAX_CAPTURE),
            &format!("from 1 to {} bytes", capture::MAX_CAPTURE),
        )? as u32,
    };
    if follow && matches!(processes, ProcessFilter::All) {
        return Err(PyValueError::new_err(
            "follow=True with all_processes=True: every process is traced already",
        ));
    }
    let registration = Registration {
        capture: if strings {
            capture::capturing(names::metadata_now().0, &nrs)
        } else {
            BTreeSet::new()
        },
        capture_size,
        follow,
        enter: if enter { nrs.clone() } else { BTreeSet::new() },
        exit: if exit { nrs } else { BTreeSet::new() },
        processes,
    };
    let session = py.detach(|| Session::open(registration, buffer_size))?;
    let shared = session.shared();
    Ok(PySession {
        inner: Mutex::new(session),
        shared,
        pid: std::process::id(),
    })
}

/// Loads systrace's BPF programs now (nothing is attached or traced), so
/// that the first enable() only has to switch syscalls on. Takes about as
/// long as a first enable() otherwise would: the kernel verifies the
/// programs and relocates them against its BTF.
#[pyfunction]
#[pyo3(signature = (buffer_size = None))]
fn preload(py: Python<'_>, buffer_size: Option<usize>) -> PyResult<()> {
    py.detach(|| tracer::preload(buffer_size))?;
    Ok(())
}

/// The number of a syscall name on this architecture.
#[pyfunction]
fn syscall_nr(name: &Bound<'_, PyAny>) -> PyResult<u32> {
    resolve_syscall(name)
}

/// The name of a syscall number on this architecture, or None.
#[pyfunction]
fn syscall_name(nr: i64) -> Option<&'static str> {
    u32::try_from(nr).ok().and_then(names::syscall_name)
}

/// Every syscall name of this architecture that systrace can trace.
#[pyfunction]
fn syscall_names() -> Vec<&'static str> {
    names::all_syscalls()
        .into_iter()
        .filter_map(names::syscall_name)
        .collect()
}

type MetaTuple = (
    String,
    u32,
    Vec<String>,
    Vec<String>,
    Option<u32>,
    Option<u32>,
);

fn meta_tuple(m: &SyscallMetadata) -> MetaTuple {
    (
        m.name.clone(),
        m.syscall_nr,
        m.types.clone(),
        m.args.clone(),
        m.enter_id,
        m.exit_id,
    )
}

/// Every record of the syscall metadata table: (name, nr, types, args, enter_id, exit_id).
#[pyfunction]
fn metadata_table() -> Vec<MetaTuple> {
    metadata().iter().map(meta_tuple).collect()
}

/// "tracefs:<dir>" or "embedded": where the metadata table came from.
#[pyfunction]
fn metadata_source() -> String {
    match metadata().source() {
        MetadataSource::Embedded => "embedded".to_owned(),
        MetadataSource::Tracefs(dir) => format!("tracefs:{}", dir.display()),
    }
}

/// The metadata of a syscall by name ("read", "sys_read") or number.
#[pyfunction]
fn syscall_metadata(key: &Bound<'_, PyAny>) -> PyResult<MetaTuple> {
    let meta = if let Ok(name) = key.cast::<PyString>() {
        let name = name.to_cow()?;
        metadata()
            .by_name(&name)
            .or_else(|| {
                names::resolve(&name)
                    .ok()
                    .and_then(|nr| metadata().syscall_nr_to_meta(nr))
            })
            .ok_or_else(|| {
                let err: PyErr = names::resolve(&name).err().map_or_else(
                    || {
                        PyValueError::new_err(format!(
                            "syscall {name:?} has no metadata in this kernel"
                        ))
                    },
                    PyErr::from,
                );
                err
            })?
    } else {
        let nr = resolve_syscall(key)?;
        metadata().syscall_nr_to_meta(nr).ok_or_else(|| {
            PyValueError::new_err(format!("syscall {nr} has no metadata in this kernel"))
        })?
    };
    Ok(meta_tuple(meta))
}

fn event_meta(event: &str) -> PyResult<(&'static SyscallMetadata, Phase)> {
    let (phase, short) = if let Some(short) = event.strip_prefix("sys_enter_") {
        (Phase::Enter, short)
    } else if let Some(short) = event.strip_prefix("sys_exit_") {
        (Phase::Exit, short)
    } else {
        return Err(PyValueError::new_err(format!(
            "{event:?} is not a syscall event name (sys_enter_NAME or sys_exit_NAME)"
        )));
    };
    let meta = metadata()
        .by_name(short)
        .filter(|m| m.short_name() == short)
        .ok_or_else(|| {
            PyValueError::new_err(format!(
                "no syscall event {event:?} in this kernel's metadata"
            ))
        })?;
    Ok((meta, phase))
}

type FieldTuple = (String, String, usize, usize, bool);

fn field_tuples(fields: Vec<Field>) -> Vec<FieldTuple> {
    fields
        .into_iter()
        .map(|f| (f.type_name, f.name, f.offset, f.size, f.is_signed))
        .collect()
}

/// (type, name, offset, size, is_signed) of the event's own fields.
#[pyfunction]
fn define_fields(event: &str) -> PyResult<Vec<FieldTuple>> {
    let (meta, phase) = event_meta(event)?;
    Ok(field_tuples(event_class::define_fields(meta, phase)))
}

/// (type, name, offset, size, is_signed) of the fields every event starts with.
#[pyfunction]
fn common_fields() -> Vec<FieldTuple> {
    field_tuples(event_class::common_fields())
}

#[pyfunction]
fn print_fmt(event: &str) -> PyResult<String> {
    let (meta, phase) = event_meta(event)?;
    Ok(event_class::print_fmt(meta, phase))
}

/// The event's tracefs format text.
#[pyfunction]
fn event_format(event: &str) -> PyResult<String> {
    let (meta, phase) = event_meta(event)?;
    Ok(event_class::format(meta, phase, None))
}

/// The event's id: the running kernel's when known, else None.
#[pyfunction]
fn event_id(event: &str) -> PyResult<Option<u32>> {
    let (meta, phase) = event_meta(event)?;
    Ok(match phase {
        Phase::Enter => meta.enter_id,
        Phase::Exit => meta.exit_id,
    })
}

/// What systrace holds in the kernel now, read back from the BPF maps.
#[pyfunction]
fn kernel_state(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    let state = py.detach(tracer::kernel_state);
    let dict = PyDict::new(py);
    dict.set_item("loaded", state.loaded)?;
    dict.set_item("enabled_enter", state.enabled_enter)?;
    dict.set_item("enabled_exit", state.enabled_exit)?;
    dict.set_item("attached_enter", state.attached_enter)?;
    dict.set_item("attached_exit", state.attached_exit)?;
    dict.set_item("prog_ids", state.prog_ids)?;
    dict.set_item("sessions", state.sessions)?;
    dict.set_item("decode_errors", state.decode_errors)?;
    Ok(dict)
}

#[pymodule]
mod _native {
    #[pymodule_export]
    use super::{
        common_fields, define_fields, event_format, event_id, kernel_state, metadata_source,
        metadata_table, open_session, preload, print_fmt, syscall_metadata, syscall_name,
        syscall_names, syscall_nr, EventBatch, EventBatchIter, PyEvent, PySession,
        SessionClosedError, UnsupportedKernelError,
    };

    #[pymodule_export]
    use crate::strace::python::strace;

    #[pymodule_export]
    const DEFAULT_BUFFER_SIZE: usize = crate::tracer::DEFAULT_BUFFER_SIZE;
    #[pymodule_export]
    const NR_SYSCALLS: usize = crate::layout::NR_SYSCALLS;
    #[pymodule_export]
    const ARCH: &str = std::env::consts::ARCH;
}
