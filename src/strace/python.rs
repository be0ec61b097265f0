//! The PyO3 bindings of strace-class decoding, exposed as
//! `systrace._native.strace`. Plain data in, text out; `systrace._calls`
//! builds the public `Call` objects on top.
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyTuple};

use super::pair::{PairEvent, Paired, Pairer};
use super::printer::{OutputFormat, Printer, PrinterOptions};
use super::summary::{format_summary as summary_text, SummaryRow};
use super::{ArgView, CapturedView, StraceOptions};
use crate::decode::Event;
use crate::python::{EventBatch, PyEvent};

/// What was captured of one argument, owned for the time of a call.
enum OwnedCapture {
    Bytes(Vec<u8>),
    List(Vec<Vec<u8>>),
}

struct OwnedArg {
    name: String,
    c_type: String,
    raw: u64,
    captured: Option<OwnedCapture>,
    truncated: bool,
}

impl OwnedArg {
    fn view(&self) -> ArgView<'_> {
        let captured = self.captured.as_ref().map(|c| match c {
            OwnedCapture::Bytes(b) => CapturedView::bytes(b, self.truncated),
            OwnedCapture::List(items) => CapturedView::argv(items, self.truncated),
        });
        ArgView {
            name: &self.name,
            c_type: &self.c_type,
            raw: self.raw,
            captured,
        }
    }
}

fn owned_capture(obj: &Bound<'_, PyAny>) -> PyResult<Option<OwnedCapture>> {
    if obj.is_none() {
        return Ok(None);
    }
    if let Ok(b) = obj.cast::<PyBytes>() {
        return Ok(Some(OwnedCapture::Bytes(b.as_bytes().to_vec())));
    }
    if let Ok(list) = obj.cast::<PyList>() {
        let items = list
            .iter()
            .map(|item| {
                item.cast::<PyBytes>()
                    .map(|b| b.as_bytes().to_vec())
                    .map_err(|_| PyTypeError::new_err("a captured list holds bytes"))
            })
            .collect::<PyResult<_>>()?;
        return Ok(Some(OwnedCapture::List(items)));
    }
    Err(PyTypeError::new_err(
        "captured is None, bytes, or a list of bytes",
    ))
}

/// Reads (name, c_type, raw, captured, truncated) tuples.
fn owned_args(args: &Bound<'_, PyAny>) -> PyResult<Vec<OwnedArg>> {
    let mut out = Vec::new();
    for item in args.try_iter()? {
        let item = item?;
        let t = item.cast::<PyTuple>().map_err(|_| {
            PyTypeError::new_err(
                "each argument is a tuple (name, c_type, raw, captured, truncated)",
            )
        })?;
        if t.len() != 5 {
            return Err(PyValueError::new_err(
                "each argument is a tuple (name, c_type, raw, captured, truncated)",
            ));
        }
        let raw_obj = t.get_item(2)?;
        // Registers are unsigned 64-bit; a negative int is taken as its
        // two's complement, as C would.
        let raw = match raw_obj.extract::<u64>() {
            Ok(v) => v,
            Err(_) => raw_obj.extract::<i64>()? as u64,
        };
        out.push(OwnedArg {
            name: t.get_item(0)?.extract()?,
            c_type: t.get_item(1)?.extract()?,
            raw,
            captured: owned_capture(&t.get_item(3)?)?,
            truncated: t.get_item(4)?.is_truthy()?,
        });
    }
    Ok(out)
}

fn options(string_size: i64, column: i64) -> PyResult<StraceOptions> {
    let string_size = usize::try_from(string_size).map_err(|_| {
        PyValueError::new_err(format!("string_size must be >= 0, not {string_size}"))
    })?;
    let column = usize::try_from(column)
        .map_err(|_| PyValueError::new_err(format!("column must be >= 0, not {column}")))?;
    Ok(StraceOptions {
        string_size,
        column,
    })
}

/// The strace line of a call (without a pid or time prefix):
/// `openat(AT_FDCWD, "/etc/hostname", O_RDONLY) = 3`.
///
/// args: (name, c_type, raw, captured, truncated) per argument, in order;
/// captured is None, bytes, or a list of bytes (argv). ret: None while the
/// call is unfinished. start_col: the width of a prefix the line will get,
/// so that the result still aligns on `column`.
#[pyfunction]
#[pyo3(signature = (name, args, ret, *, string_size = 32, column = 40, start_col = 0))]
fn format_call(
    name: &str,
    args: &Bound<'_, PyAny>,
    ret: Option<i64>,
    string_size: i64,
    column: i64,
    start_col: usize,
) -> PyResult<String> {
    let owned = owned_args(args)?;
    let views: Vec<ArgView> = owned.iter().map(OwnedArg::view).collect();
    let opts = options(string_size, column)?;
    Ok(super::format_call_at(start_col, name, &views, ret, &opts))
}

/// The text of each argument as strace prints it (the arguments strace
/// shows, which are not always the syscall's: open's mode only with O_CREAT).
#[pyfunction]
#[pyo3(signature = (name, args, ret, *, string_size = 32))]
fn format_args(
    name: &str,
    args: &Bound<'_, PyAny>,
    ret: Option<i64>,
    string_size: i64,
) -> PyResult<Vec<String>> {
    let owned = owned_args(args)?;
    let views: Vec<ArgView> = owned.iter().map(OwnedArg::view).collect();
    let opts = options(string_size, 40)?;
    Ok(super::decode_args(name, &views, ret, &opts)
        .args
        .into_iter()
        .map(|a| a.text)
        .collect())
}

/// `<... read resumed>) = 3`: a call whose entry was not traced.
#[pyfunction]
#[pyo3(signature = (name, ret, *, column = 40, start_col = 0))]
fn format_resumed(name: &str, ret: i64, column: i64, start_col: usize) -> PyResult<String> {
    let opts = options(32, column)?;
    Ok(super::format_resumed_at(start_col, name, ret, &opts))
}

/// `<0.000012>`: strace -T's duration.
#[pyfunction]
fn format_duration(ns: u64) -> String {
    super::format_duration(ns)
}

/// `-1 ENOENT (No such file or directory)`.
#[pyfunction]
fn format_error(errno: i32) -> String {
    super::errno::format_error(errno)
}

/// "ENOENT", or None.
#[pyfunction]
fn errno_name(errno: i32) -> Option<&'static str> {
    super::errno::errno_name(errno)
}

/// The C library's message for an errno, as strace prints it.
#[pyfunction]
fn errno_message(errno: i32) -> String {
    super::errno::errno_message(errno)
}

/// The errno a return value stands for (-4095..-1), or None.
#[pyfunction]
fn errno_of(ret: i64) -> Option<i32> {
    super::errno::errno_of(ret)
}

/// The syscalls of a strace class ("%file", "file", "%net"); None if unknown.
#[pyfunction]
fn class_syscalls(class: &str) -> Option<Vec<&'static str>> {
    super::classes::class_syscalls(class)
}

/// The strace classes of a syscall, e.g. ["desc", "file"].
#[pyfunction]
fn syscall_classes(name: &str) -> Vec<&'static str> {
    super::classes::class_names_of(name)
}

/// Every class name (without "%").
#[pyfunction]
fn class_names() -> Vec<&'static str> {
    super::classes::CLASS_NAMES
        .iter()
        .map(|(n, _)| *n)
        .collect()
}

/// The strace -c table of rows (name, nr, calls, errors, time_ns), given in
/// syscall-number order.
#[pyfunction]
fn format_summary(rows: Vec<(String, u32, u64, u64, u64)>) -> String {
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
    summary_text(&rows)
}

/// An event as pairing sees it; `obj` is the caller's event object.
struct PyEv {
    obj: Py<PyAny>,
    tid: u32,
    nr: u32,
    enter: bool,
    ts: u64,
}

impl PairEvent for PyEv {
    fn tid(&self) -> u32 {
        self.tid
    }
    fn nr(&self) -> u32 {
        self.nr
    }
    fn is_enter(&self) -> bool {
        self.enter
    }
    fn timestamp_ns(&self) -> u64 {
        self.ts
    }
}

fn py_ev(obj: &Bound<'_, PyAny>) -> PyResult<PyEv> {
    let phase: String = obj.getattr("phase")?.extract()?;
    let enter = match phase.as_str() {
        "enter" => true,
        "exit" => false,
        other => {
            return Err(PyValueError::new_err(format!(
                "an event's phase is \"enter\" or \"exit\", not {other:?}"
            )))
        }
    };
    Ok(PyEv {
        obj: obj.clone().unbind(),
        tid: obj.getattr("tid")?.extract()?,
        nr: obj.getattr("nr")?.extract()?,
        enter,
        ts: obj.getattr("timestamp_ns")?.extract()?,
    })
}

type PairTuple = (Option<Py<PyAny>>, Option<Py<PyAny>>);

fn tuples(calls: Vec<Paired<PyEv>>) -> Vec<PairTuple> {
    calls
        .into_iter()
        .map(|p| (p.enter.map(|e| e.obj), p.exit.map(|e| e.obj)))
        .collect()
}

/// Pairs enter and exit events per thread into calls, as they stream in.
/// Events are any objects with `tid`, `nr`, `phase` ("enter"/"exit") and
/// `timestamp_ns`; calls come out as (enter or None, exit or None).
#[pyclass(module = "systrace._native.strace", name = "Pairer")]
struct PyPairer {
    inner: Pairer<PyEv>,
}

#[pymethods]
impl PyPairer {
    #[new]
    fn new() -> Self {
        PyPairer {
            inner: Pairer::new(),
        }
    }

    /// Feeds one event; returns the calls it completes.
    fn push(&mut self, event: &Bound<'_, PyAny>) -> PyResult<Vec<PairTuple>> {
        Ok(tuples(self.inner.push(py_ev(event)?)))
    }

    /// Feeds many events; returns the calls they complete, in that order.
    fn extend(&mut self, events: &Bound<'_, PyAny>) -> PyResult<Vec<PairTuple>> {
        let mut done = Vec::new();
        for ev in events.try_iter()? {
            done.extend(self.inner.push(py_ev(&ev?)?));
        }
        Ok(tuples(done))
    }

    /// The call still open on a thread (e.g. one that exited), if any.
    fn take_thread(&mut self, tid: u32) -> Option<PairTuple> {
        self.inner
            .take_thread(tid)
            .map(|p| (p.enter.map(|e| e.obj), p.exit.map(|e| e.obj)))
    }

    /// Ends the stream: the calls still open, unfinished, in order of time.
    fn finish(&mut self) -> Vec<PairTuple> {
        tuples(self.inner.finish())
    }

    /// How many calls are open.
    #[getter]
    fn pending(&self) -> usize {
        self.inner.pending()
    }
}

/// The `systrace` command's output, made in Rust: pairs events into calls,
/// keeps the calls `selected` (syscall numbers; None: all), and returns
/// their text as strace prints it (format "strace"), one JSON object per
/// call ("json", as systrace.json_line), or the kernel's text of each event
/// ("kernel"); with `summary`, counts the calls for summary_table() instead.
/// file_prefix: "PID " before every line; stderr_prefix: "[pid N] " while
/// several threads are traced. main_pid: a launched command, whose events
/// before its execve are not shown and whose end the caller tells.
/// wall_offset_ns: wall clock minus CLOCK_MONOTONIC, for timestamps (-t: 1,
/// -tt: 2, -ttt: 3).
#[pyclass(module = "systrace._native.strace", name = "Printer")]
struct PyPrinter {
    inner: Printer,
}

#[pymethods]
impl PyPrinter {
    #[new]
    #[pyo3(signature = (*, format = "strace", selected = None, summary = false, durations = false, timestamps = 0, string_size = 32, file_prefix = false, stderr_prefix = true, main_pid = None, wall_offset_ns = 0))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        format: &str,
        selected: Option<Vec<u32>>,
        summary: bool,
        durations: bool,
        timestamps: u8,
        string_size: i64,
        file_prefix: bool,
        stderr_prefix: bool,
        main_pid: Option<u32>,
        wall_offset_ns: i64,
    ) -> PyResult<Self> {
        let format = OutputFormat::parse(format).ok_or_else(|| {
            PyValueError::new_err(format!(
                "format is \"strace\", \"json\" or \"kernel\", not {format:?}"
            ))
        })?;
        let string_size = usize::try_from(string_size).map_err(|_| {
            PyValueError::new_err(format!("string_size must be >= 0, not {string_size}"))
        })?;
        Ok(PyPrinter {
            inner: Printer::new(PrinterOptions {
                format,
                selected,
                summary,
                durations,
                timestamps,
                string_size,
                file_prefix,
                stderr_prefix,
                main_pid,
                wall_offset_ns,
            }),
        })
    }

    /// Feeds events, in the order they came: an EventBatch (read in place,
    /// without the GIL) or any iterable of Event. Returns the text of the
    /// calls they complete ("" when none).
    fn feed(&mut self, py: Python<'_>, events: &Bound<'_, PyAny>) -> PyResult<String> {
        let inner = &mut self.inner;
        if let Ok(batch) = events.cast::<EventBatch>() {
            let events = batch.get().events();
            return Ok(py.detach(|| {
                let mut out = String::new();
                inner.feed(events, &mut out);
                out
            }));
        }
        let mut owned: Vec<Event> = Vec::new();
        for item in events.try_iter()? {
            let item = item?;
            let ev = item.cast::<PyEvent>().map_err(|_| {
                PyTypeError::new_err("Printer.feed() takes an EventBatch or Event objects")
            })?;
            owned.push(ev.get().event().clone());
        }
        Ok(py.detach(|| {
            let mut out = String::new();
            inner.feed(&owned, &mut out);
            out
        }))
    }

    /// Ends the stream: the text of the calls that never returned.
    fn finish(&mut self, py: Python<'_>) -> String {
        let inner = &mut self.inner;
        py.detach(|| {
            let mut out = String::new();
            inner.finish(&mut out);
            out
        })
    }

    /// `+++ exited with 0 +++` as a line, with the pid prefix the line
    /// needs now; `main`: the launched command's (no `[pid N]` on stderr).
    /// "" with summary.
    #[pyo3(signature = (pid, text, main = false))]
    fn status_line(&self, pid: u32, text: &str, main: bool) -> String {
        let mut out = String::new();
        self.inner.status_line(&mut out, pid, text, main);
        out
    }

    /// The strace -c table of the calls counted.
    fn summary_table(&self) -> String {
        self.inner.summary_table()
    }

    /// The threads seen and not gone: tid -> pid.
    #[getter]
    fn live(&self) -> std::collections::HashMap<u32, u32> {
        self.inner.live().clone()
    }

    /// The processes that called exit_group: pid -> exit status.
    #[getter]
    fn exited(&self) -> std::collections::HashMap<u32, i32> {
        self.inner.exited().clone()
    }

    /// Calls entered and not yet returned.
    #[getter]
    fn pending(&self) -> usize {
        self.inner.pending()
    }
}

#[pymodule(submodule)]
pub mod strace {
    #[pymodule_export]
    use super::{
        class_names, class_syscalls, errno_message, errno_name, errno_of, format_args, format_call,
        format_duration, format_error, format_resumed, format_summary, syscall_classes, PyPairer,
        PyPrinter,
    };

    #[pymodule_export]
    const DEFAULT_STRING_SIZE: usize = crate::strace::DEFAULT_STRING_SIZE;
    #[pymodule_export]
    const DEFAULT_COLUMN: usize = crate::strace::DEFAULT_COLUMN;
}
