//! `systrace.Event` and `systrace.EventBatch`: decoded events, handed to
//! Python a batch at a time.
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use pyo3::exceptions::{PyIndexError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList};

use super::args::syscall_arg;
use crate::kernel::decode::encode_captures;
use crate::kernel::layout::{MAX_ARGS, TASK_COMM_LEN};
use crate::kernel::{Event, EventKind, Phase};
use crate::metadata::{arg_name, display_name, event_class, metadata, typed_arg};
use crate::strace::call::{event_captures, Captured, Captures};
use crate::text::columns::Columns;
use crate::text::kernel::{format_event, Style};

/// Captured memory as Python sees it: bytes, or a list of bytes (argv).
pub fn captured_object<'py>(py: Python<'py>, value: &Captured) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        Captured::Bytes(b) => PyBytes::new(py, b).into_any(),
        Captured::List(items) => {
            PyList::new(py, items.iter().map(|b| PyBytes::new(py, b)))?.into_any()
        }
    })
}

/// `captured`: argument name -> bytes (argv: a list of bytes).
pub fn captured_dict<'py>(py: Python<'py>, captures: &Captures) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    for (name, value) in &captures.values {
        dict.set_item(name, captured_object(py, value)?)?;
    }
    Ok(dict)
}

/// `capture_status`: argument name -> "truncated", "faulted" or "lost".
pub fn status_dict<'py>(py: Python<'py>, captures: &Captures) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    for (name, status) in captures.statuses() {
        dict.set_item(name, status)?;
    }
    Ok(dict)
}

/// One syscall event.
#[pyclass(module = "systrace", name = "Event", frozen)]
pub struct PyEvent {
    pub ev: Event,
}

#[pymethods]
impl PyEvent {
    /// A synthetic event, e.g. to test code that consumes events without
    /// the kernel: `Event("openat", "enter", args=[...], captured={...})`.
    /// captured: argument name -> bytes (argv: a list of bytes);
    /// capture_status: argument name -> "truncated" or "faulted".
    #[new]
    #[pyo3(signature = (syscall, phase, *, args = Vec::new(), ret = 0, pid = 0, tid = 0, timestamp_ns = 0, cpu = 0, comm = "", captured = None, capture_status = None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        syscall: &Bound<'_, PyAny>,
        phase: &str,
        args: Vec<u64>,
        ret: i64,
        pid: u32,
        tid: u32,
        timestamp_ns: u64,
        cpu: u16,
        comm: &str,
        captured: Option<&Bound<'_, PyDict>>,
        capture_status: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Self> {
        let nr = syscall_arg(syscall)?;
        let phase = Phase::parse(phase).ok_or_else(|| {
            PyValueError::new_err(format!("phase is \"enter\" or \"exit\", not {phase:?}"))
        })?;
        if args.len() > MAX_ARGS || (phase == Phase::Exit && !args.is_empty()) {
            return Err(PyValueError::new_err(format!(
                "an enter event has at most {MAX_ARGS} args, an exit event none"
            )));
        }
        let mut raw = [0u64; MAX_ARGS];
        raw[..args.len()].copy_from_slice(&args);
        let mut comm_bytes = [0u8; TASK_COMM_LEN];
        let cut = comm.len().min(TASK_COMM_LEN - 1);
        comm_bytes[..cut].copy_from_slice(&comm.as_bytes()[..cut]);
        let data = match captured {
            Some(captured) => Some(synthetic_captures(nr, phase, captured, capture_status)?),
            None => None,
        };
        Ok(PyEvent {
            ev: Event {
                kind: Default::default(),
                timestamp_ns,
                pid: if pid == 0 { tid } else { pid },
                root: if pid == 0 { tid } else { pid },
                tid: if tid == 0 { pid } else { tid },
                nr,
                cpu,
                phase,
                nb_args: args.len() as u8,
                args: raw,
                ret: if phase == Phase::Exit { ret } else { 0 },
                comm: comm_bytes,
                data,
            },
        })
    }

    /// The syscall's name on this architecture, e.g. "read"; a signal
    /// event's signal ("SIGCHLD"); "exit" for a thread's exit.
    #[getter]
    fn name(&self) -> std::borrow::Cow<'static, str> {
        match self.ev.kind {
            EventKind::Syscall => display_name(self.ev.nr),
            EventKind::Signal => crate::strace::signals::signal_name(self.ev.nr as i32).into(),
            EventKind::TaskExit => "exit".into(),
        }
    }
    #[getter]
    fn nr(&self) -> u32 {
        self.ev.nr
    }
    /// "enter" or "exit"; "signal" or "task_exit" for the task events a
    /// session asked for (signals=True, exits=True).
    #[getter]
    fn phase(&self) -> &'static str {
        self.ev.phase_name()
    }
    /// A signal event's siginfo, named as strace names its fields
    /// ({"si_signo": "SIGCHLD", "si_code": "CLD_EXITED", "si_pid": 42, ...});
    /// None for other events.
    #[getter]
    fn siginfo<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.ev
            .siginfo()
            .map(|info| super::call::json_object(py, &crate::strace::signals::siginfo_json(&info)))
            .transpose()
    }
    /// A task_exit event's wait status (exit status << 8, or the signal
    /// that killed the thread, | 0x80 with a core dump: os.WIFEXITED and
    /// its kin read it); None for other events.
    #[getter]
    fn exit_code(&self) -> Option<i32> {
        self.ev.task_exit().map(|e| e.exit_code)
    }
    /// A task_exit event: whether the thread was its process's last (its
    /// end is the process's end). None for other events.
    #[getter]
    fn group_dead(&self) -> Option<bool> {
        self.ev.task_exit().map(|e| e.group_dead)
    }
    /// A task_exit's: the thread ran in 32-bit mode, whose (compat)
    /// syscalls no session traced.
    #[getter]
    fn compat(&self) -> Option<bool> {
        self.ev.task_exit().map(|e| e.compat)
    }
    /// The kernel's event name: "sys_enter_read" or "sys_exit_read" (named
    /// as tracefs names it: x86_64's fstat is "sys_enter_newfstat");
    /// "signal_deliver" and "sched_process_exit" for the task events.
    #[getter]
    fn event_name(&self) -> String {
        match self.ev.kind {
            EventKind::Signal => return "signal_deliver".to_owned(),
            EventKind::TaskExit => return "sched_process_exit".to_owned(),
            EventKind::Syscall => {}
        }
        match metadata().syscall_nr_to_meta(self.ev.nr) {
            Some(meta) => event_class::event_name(meta, self.ev.phase),
            None => format!("sys_{}_{}", self.ev.phase.name(), display_name(self.ev.nr)),
        }
    }
    /// The running kernel's id of the event (its tracefs `ID`, what
    /// `common_type` holds in the kernel's own records); None when tracefs
    /// was not readable, or the kernel has no trace event for the syscall.
    #[getter]
    fn id(&self) -> Option<u32> {
        if !self.ev.is_syscall() {
            return None;
        }
        metadata()
            .syscall_nr_to_meta(self.ev.nr)
            .and_then(|meta| meta.event_id(self.ev.phase))
    }
    /// Argument name -> value, typed by the argument's C type; {} on exit
    /// (and for task events).
    #[getter]
    fn args<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        if !self.ev.is_syscall() {
            return Ok(dict);
        }
        let meta = metadata().syscall_nr_to_meta(self.ev.nr);
        for (i, &raw) in self.ev.args().iter().enumerate() {
            let c_type = meta.and_then(|m| m.types.get(i)).map(String::as_str);
            dict.set_item(arg_name(meta, i), typed_arg(c_type, raw))?;
        }
        Ok(dict)
    }
    /// User memory captured with strings=True: argument name -> bytes
    /// (argv-like arrays: a list of bytes). Cut strings are marked in
    /// `capture_status`; memory that could not be read is absent.
    #[getter]
    fn captured<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        captured_dict(py, &event_captures(&self.ev))
    }
    /// Captured arguments that were cut at the capture size, or whose
    /// memory could not be read: {name: "truncated" | "faulted"}.
    #[getter]
    fn capture_status<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        status_dict(py, &event_captures(&self.ev))
    }
    /// The raw argument registers, as unsigned 64-bit values.
    #[getter]
    fn raw_args(&self) -> Vec<u64> {
        self.ev.args().to_vec()
    }
    /// The return value on exit (negative errno on failure); None on enter
    /// and for task events.
    #[getter]
    fn ret(&self) -> Option<i64> {
        (self.ev.is_syscall() && self.ev.phase == Phase::Exit).then_some(self.ev.ret)
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
    /// CLOCK_MONOTONIC nanoseconds (compare with time.monotonic_ns()); from
    /// a session opened with clock=False, its number there (1, 2, ...).
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

/// The capture items of a synthetic event, in the programs' wire format.
fn synthetic_captures(
    nr: u32,
    phase: Phase,
    captured: &Bound<'_, PyDict>,
    status: Option<&Bound<'_, PyDict>>,
) -> PyResult<Arc<[u8]>> {
    use crate::kernel::layout::systrace_capture_flags as F;
    let meta = metadata().syscall_nr_to_meta(nr);
    let index = |name: &str| -> PyResult<u8> {
        (0..MAX_ARGS)
            .find(|&i| arg_name(meta, i) == name)
            .map(|i| i as u8)
            .ok_or_else(|| {
                PyValueError::new_err(format!("{} has no argument {name:?}", display_name(nr)))
            })
    };
    let at_exit = if phase == Phase::Exit {
        F::SYSTRACE_CAPTURE_AT_EXIT.0 as u8
    } else {
        0
    };
    let mut items: Vec<(u8, u8, Vec<u8>)> = Vec::new();
    for (name, value) in captured.iter() {
        let name: String = name.extract()?;
        let arg = index(&name)?;
        let state: Option<String> = match status {
            Some(s) => s.get_item(&name)?.map(|v| v.extract()).transpose()?,
            None => None,
        };
        let flag = match state.as_deref() {
            None => 0,
            Some("truncated") => F::SYSTRACE_CAPTURE_TRUNCATED.0 as u8,
            Some(other) => {
                return Err(PyValueError::new_err(format!(
                    "a captured value's status is \"truncated\", not {other:?}"
                )))
            }
        };
        if let Ok(bytes) = value.cast::<PyBytes>() {
            items.push((arg, flag | at_exit, bytes.as_bytes().to_vec()));
        } else if let Ok(list) = value.cast::<PyList>() {
            let elem = F::SYSTRACE_CAPTURE_ARGV_ELEM.0 as u8;
            for item in list.iter() {
                let bytes = item
                    .cast::<PyBytes>()
                    .map_err(|_| PyTypeError::new_err("a captured list holds bytes"))?;
                items.push((arg, elem | at_exit, bytes.as_bytes().to_vec()));
            }
            if flag != 0 {
                items.push((arg, elem | flag | at_exit, Vec::new()));
            }
        } else {
            return Err(PyTypeError::new_err(
                "a captured value is bytes or a list of bytes",
            ));
        }
    }
    if let Some(status) = status {
        for (name, state) in status.iter() {
            let name: String = name.extract()?;
            if state.extract::<String>()? == "faulted" {
                items.push((
                    index(&name)?,
                    F::SYSTRACE_CAPTURE_FAULTED.0 as u8 | at_exit,
                    Vec::new(),
                ));
            }
        }
    }
    Ok(Arc::from(encode_captures(&items)))
}

/// A batch of events handed over at once; a sequence of Event.
#[pyclass(module = "systrace", name = "EventBatch", frozen, sequence)]
pub struct EventBatch {
    pub events: Vec<Event>,
}

#[pymethods]
impl EventBatch {
    /// A batch of these events (e.g. to export a list of Event).
    #[new]
    #[pyo3(signature = (events = None))]
    fn new(events: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        let mut out = Vec::new();
        if let Some(events) = events {
            for item in events.try_iter()? {
                out.push(event_of(&item?)?);
            }
        }
        Ok(EventBatch { events: out })
    }
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
    /// (struct format, bytes); see `Columns` in docs/exports.md.
    fn columns<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let c = py.detach(|| Columns::from_events(&self.events));
        let dict = PyDict::new(py);
        for (name, format, data) in c.buffers() {
            dict.set_item(name, (format, PyBytes::new(py, data)))?;
        }
        Ok(dict)
    }
}

/// The event of an Event object (TypeError for anything else).
pub fn event_of(item: &Bound<'_, PyAny>) -> PyResult<Event> {
    item.cast::<PyEvent>()
        .map(|ev| ev.get().ev.clone())
        .map_err(|_| {
            PyTypeError::new_err(format!(
                "expected a systrace.Event, not {}",
                item.get_type()
                    .name()
                    .map_or_else(|_| "?".into(), |n| n.to_string())
            ))
        })
}

/// The events of a source: an EventBatch (read in place) or any iterable
/// of Event.
pub fn events_of(source: &Bound<'_, PyAny>) -> PyResult<Vec<Event>> {
    if let Ok(batch) = source.cast::<EventBatch>() {
        return Ok(batch.get().events.clone());
    }
    let mut out = Vec::new();
    for item in source.try_iter()? {
        let item = item?;
        if let Ok(batch) = item.cast::<EventBatch>() {
            out.extend_from_slice(&batch.get().events);
        } else {
            out.push(event_of(&item)?);
        }
    }
    Ok(out)
}

#[pyclass(module = "systrace", frozen)]
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
