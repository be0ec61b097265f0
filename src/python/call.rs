//! `systrace.Call`: a paired call (`strace::call::Call`), and the ways to
//! get calls from events: `Session.calls()`, `iter_calls()`, `Pairer`, and
//! their columns for the exports.
use std::collections::VecDeque;

use pyo3::exceptions::{PyKeyError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString};
use serde_json::Value;

use super::event::{
    captured_dict, captured_object, event_of, events_of, status_dict, EventBatch, PyEvent,
};
use crate::kernel::Event;
use crate::strace::call::{ArgValue, Call, Captured};
use crate::strace::fdtable::{FdTable, Resolved};
use crate::strace::pair::{pair_events, Pairer};
use crate::strace::quote::HexStyle;
use crate::strace::{errno, StraceOptions, DEFAULT_COLUMN, DEFAULT_STRING_SIZE};
use crate::text::columns::CallColumns;
use crate::trace::quiet::Quiet;

/// One syscall: its enter and its exit, paired.
#[pyclass(module = "systrace", name = "Call", frozen)]
pub struct PyCall {
    call: Call,
    /// Its paths, when its calls were resolved (resolve_paths=True).
    fds: Option<Resolved>,
}

impl From<Call> for PyCall {
    fn from(call: Call) -> Self {
        PyCall { call, fds: None }
    }
}

/// Calls with their paths, read from one fd table in order. Its reads of
/// /proc are systrace's own: not in a trace of this process.
pub(super) fn resolved(calls: Vec<Call>, table: &mut Option<FdTable>) -> Vec<PyCall> {
    let _quiet = table.is_some().then(Quiet::enter);
    calls
        .into_iter()
        .map(|call| {
            let fds = table.as_mut().map(|t| t.observe(&call));
            PyCall { call, fds }
        })
        .collect()
}

fn size(value: i64, what: &str) -> PyResult<usize> {
    usize::try_from(value)
        .map_err(|_| PyValueError::new_err(format!("{what} must be >= 0, not {value}")))
}

/// How to print, from Python's arguments; hex_strings: the count of -x, or
/// 3 for --strings-in-hex=non-ascii-chars (strace's xflag).
pub(super) fn strace_options(
    string_size: i64,
    column: i64,
    hex_strings: i64,
) -> PyResult<StraceOptions> {
    let xflag = u8::try_from(hex_strings)
        .ok()
        .filter(|&x| x <= 3)
        .ok_or_else(|| {
            PyValueError::new_err(format!("hex_strings is 0, 1, 2 or 3, not {hex_strings}"))
        })?;
    Ok(StraceOptions {
        string_size: size(string_size, "string_size")?,
        column: size(column, "column")?,
        hex: HexStyle::from_xflag(xflag),
        raw: false,
        abbrev: true,
        verbose: true,
    })
}

/// Captured bytes as `Call.args` gives them: a str when UTF-8, else the
/// bytes as they were.
fn text_or_bytes<'py>(py: Python<'py>, bytes: &[u8]) -> Bound<'py, PyAny> {
    match std::str::from_utf8(bytes) {
        Ok(s) => PyString::new(py, s).into_any(),
        Err(_) => PyBytes::new(py, bytes).into_any(),
    }
}

fn arg_object<'py>(py: Python<'py>, value: &ArgValue) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        ArgValue::Int(v) => v.into_pyobject(py)?.into_any(),
        ArgValue::Captured(Captured::Bytes(b)) => text_or_bytes(py, b),
        ArgValue::Captured(Captured::List(items)) => {
            PyList::new(py, items.iter().map(|b| text_or_bytes(py, b)))?.into_any()
        }
        ArgValue::Struct(v) => json_object(py, v)?,
    })
}

/// JSON as Python objects (json.loads of the text would give the same).
pub(super) fn json_object<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => b.into_pyobject(py)?.to_owned().into_any(),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => i.into_pyobject(py)?.into_any(),
            (None, Some(u)) => u.into_pyobject(py)?.into_any(),
            _ => n.as_f64().unwrap_or(0.0).into_pyobject(py)?.into_any(),
        },
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(json_object(py, item)?)?;
            }
            list.into_any()
        }
        Value::Object(map) => {
            let dict = PyDict::new(py);
            for (k, v) in map {
                dict.set_item(k, json_object(py, v)?)?;
            }
            dict.into_any()
        }
    })
}

impl PyCall {
    fn arg(&self, name: &str) -> PyResult<ArgValue<'_>> {
        self.call
            .args()
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
            .ok_or_else(|| {
                PyKeyError::new_err(format!("{} has no argument {name:?}", self.call.name()))
            })
    }

    fn register(&self, name: &str) -> PyResult<i128> {
        let meta = self.call.meta();
        let i = (0..self.call.raw_args().len())
            .find(|&i| crate::metadata::arg_name(meta, i) == name)
            .ok_or_else(|| {
                PyKeyError::new_err(format!("{} has no argument {name:?}", self.call.name()))
            })?;
        let c_type = crate::metadata::arg_type(meta, i);
        Ok(crate::metadata::typed_arg(
            Some(c_type),
            self.call.raw_args()[i],
        ))
    }
}

#[pymethods]
impl PyCall {
    /// The call of these events: an enter, an exit, or both.
    #[new]
    #[pyo3(signature = (enter, exit = None))]
    fn new(enter: Option<&Bound<'_, PyAny>>, exit: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        let enter = enter.map(event_of).transpose()?;
        let exit = exit.map(event_of).transpose()?;
        Call::new(enter, exit)
            .map(PyCall::from)
            .ok_or_else(|| PyValueError::new_err("a call has an enter, an exit, or both"))
    }

    #[getter]
    fn enter(&self) -> Option<PyEvent> {
        self.call.enter.clone().map(|ev| PyEvent { ev })
    }
    #[getter]
    fn exit(&self) -> Option<PyEvent> {
        self.call.exit.clone().map(|ev| PyEvent { ev })
    }
    #[getter]
    fn name(&self) -> std::borrow::Cow<'static, str> {
        self.call.name()
    }
    #[getter]
    fn nr(&self) -> u32 {
        self.call.nr()
    }
    #[getter]
    fn pid(&self) -> u32 {
        self.call.first().pid
    }
    #[getter]
    fn tid(&self) -> u32 {
        self.call.first().tid
    }
    #[getter]
    fn comm(&self) -> String {
        String::from_utf8_lossy(self.call.first().comm_bytes()).into_owned()
    }
    /// Argument name -> value: ints as their C type reads them and, when
    /// strings were captured, the strings and buffers as str (UTF-8) or
    /// bytes (anything else, as it was), argv as a list.
    #[getter]
    fn args<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        for (name, value) in self.call.args() {
            dict.set_item(name, arg_object(py, &value)?)?;
        }
        Ok(dict)
    }
    /// An argument's register as its C type reads it (an int even where
    /// memory was captured). KeyError for a name the syscall lacks.
    fn arg_int(&self, name: &str) -> PyResult<i128> {
        self.register(name)
    }
    /// The bytes captured of an argument's memory (a structure's too, as
    /// it was read); None if none were.
    fn arg_bytes<'py>(&self, py: Python<'py>, name: &str) -> PyResult<Option<Bound<'py, PyBytes>>> {
        self.arg(name)?;
        Ok(match self.call.captures().get(name) {
            Some(Captured::Bytes(b)) => Some(PyBytes::new(py, b)),
            _ => None,
        })
    }
    /// The string captured of an argument (undecodable bytes replaced by
    /// U+FFFD); None if none was.
    fn arg_str(&self, name: &str) -> PyResult<Option<String>> {
        Ok(match self.arg(name)? {
            ArgValue::Captured(Captured::Bytes(b)) => Some(String::from_utf8_lossy(b).into_owned()),
            _ => None,
        })
    }
    /// The elements captured of an argv-like argument; None if none were.
    fn arg_list<'py>(
        &self,
        py: Python<'py>,
        name: &str,
    ) -> PyResult<Option<Vec<Bound<'py, PyBytes>>>> {
        Ok(match self.arg(name)? {
            ArgValue::Captured(Captured::List(items)) => {
                Some(items.iter().map(|b| PyBytes::new(py, b)).collect())
            }
            _ => None,
        })
    }
    /// The argument registers.
    #[getter]
    fn raw_args(&self) -> Vec<u64> {
        self.call.raw_args().to_vec()
    }
    /// Argument name -> the raw captured bytes (argv: a list of bytes).
    #[getter]
    fn captured<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        captured_dict(py, &self.call.captures())
    }
    /// Captured arguments cut short or unreadable: {name: "truncated" | "faulted"}.
    #[getter]
    fn capture_status<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        status_dict(py, &self.call.captures())
    }
    /// The return value; None while unfinished.
    #[getter]
    fn ret(&self) -> Option<i64> {
        self.call.ret()
    }
    /// The errno's name for a failed call ("ENOENT"), else None.
    #[getter]
    fn errno(&self) -> Option<std::borrow::Cow<'static, str>> {
        self.call.errno_name()
    }
    /// The errno's message for a failed call ("No such file or directory").
    #[getter]
    fn error(&self) -> Option<String> {
        self.call.errno().map(errno::errno_message)
    }
    #[getter]
    fn failed(&self) -> bool {
        self.call.errno().is_some()
    }
    /// exit - enter in ns, when both were seen.
    #[getter]
    fn duration_ns(&self) -> Option<u64> {
        self.call.duration_ns()
    }
    /// When the call began (CLOCK_MONOTONIC); its return when only that was seen.
    #[getter]
    fn timestamp_ns(&self) -> u64 {
        self.call.start_ns()
    }
    #[getter]
    fn end_ns(&self) -> Option<u64> {
        self.call.end_ns()
    }
    /// No exit was seen (exit_group, a killed thread, the end of the trace).
    #[getter]
    fn unfinished(&self) -> bool {
        self.call.is_unfinished()
    }
    /// No enter was seen (tracing began mid-call).
    #[getter]
    fn resumed(&self) -> bool {
        self.call.is_resumed()
    }
    /// The absolute path of the call's (first) path argument, resolved
    /// against its dirfd or the process's working directory, `.` and `..`
    /// folded; None when it has none, it is unknown, or the calls were not
    /// read with resolve_paths=True.
    #[getter]
    fn path(&self) -> Option<String> {
        self.fds.as_ref()?.paths.first().map(|(_, p)| p.clone())
    }
    /// Each path argument's absolute path, by argument name (renameat's
    /// oldname and newname); None unless read with resolve_paths=True.
    #[getter]
    fn paths(&self) -> Option<std::collections::BTreeMap<String, String>> {
        let fds = self.fds.as_ref()?;
        Some(self.call.paths_by_name(fds).into_iter().collect())
    }
    /// What each fd argument referred to when the call was made, by
    /// argument name, as /proc/PID/fd shows it (`/etc/passwd`,
    /// `socket:[1234]`; a dirfd of AT_FDCWD: the cwd); fds that could not
    /// be known are left out. None unless read with resolve_paths=True.
    #[getter]
    fn fd_paths(&self) -> Option<std::collections::BTreeMap<String, String>> {
        let fds = self.fds.as_ref()?;
        Some(self.call.fd_paths_by_name(fds).into_iter().collect())
    }
    /// What the fd the call returned refers to (openat, socket, dup...).
    #[getter]
    fn ret_path(&self) -> Option<String> {
        self.fds.as_ref()?.ret.as_ref().map(|f| f.path.clone())
    }
    /// The call as strace prints it: `openat(AT_FDCWD, "/etc/hostname",
    /// O_RDONLY) = 3`. string_size: strace's -s. start_col: the width of a
    /// prefix you will put before the line, so the result still aligns on
    /// `column`. hex_strings: strace's -x (1: strings with non-ASCII bytes
    /// in hex), -xx (2: all strings in hex) and
    /// --strings-in-hex=non-ascii-chars (3: `\\xNN` escapes where octal
    /// ones would be). decode_fds: strace -y, what
    /// each fd refers to (`read(3</etc/passwd>, ...)`; the calls must have
    /// been read with resolve_paths=True). abbrev=False: structures whole
    /// (strace -v); verbose=False: structures as their addresses (strace
    /// -e verbose=none).
    #[pyo3(signature = (string_size = DEFAULT_STRING_SIZE as i64, *, column = DEFAULT_COLUMN as i64, start_col = 0, hex_strings = 0, decode_fds = false, abbrev = true, verbose = true))]
    #[allow(clippy::too_many_arguments)]
    fn strace(
        &self,
        string_size: i64,
        column: i64,
        start_col: i64,
        hex_strings: i64,
        decode_fds: bool,
        abbrev: bool,
        verbose: bool,
    ) -> PyResult<String> {
        let opts = StraceOptions {
            abbrev,
            verbose,
            ..strace_options(string_size, column, hex_strings)?
        };
        let fds = match (decode_fds, &self.fds) {
            (false, _) => None,
            (true, Some(fds)) => Some(fds),
            (true, None) => {
                return Err(PyValueError::new_err(
                    "decode_fds=True needs the calls read with resolve_paths=True",
                ))
            }
        };
        Ok(self
            .call
            .strace_fds(&opts, size(start_col, "start_col")?, fds))
    }
    /// The arguments as strace shows them (open's mode only with O_CREAT...).
    #[pyo3(signature = (string_size = DEFAULT_STRING_SIZE as i64, *, hex_strings = 0, abbrev = true, verbose = true))]
    fn strace_args(
        &self,
        string_size: i64,
        hex_strings: i64,
        abbrev: bool,
        verbose: bool,
    ) -> PyResult<Vec<String>> {
        let opts = StraceOptions {
            abbrev,
            verbose,
            ..strace_options(string_size, DEFAULT_COLUMN as i64, hex_strings)?
        };
        Ok(self.call.strace_args(&opts))
    }
    /// Every field, JSON-ready; bytes that are not UTF-8 are {"hex": "..."}.
    #[pyo3(signature = (string_size = DEFAULT_STRING_SIZE as i64))]
    fn to_dict<'py>(&self, py: Python<'py>, string_size: i64) -> PyResult<Bound<'py, PyAny>> {
        let opts = strace_options(string_size, DEFAULT_COLUMN as i64, 0)?;
        json_object(py, &self.call.to_json_fds(&opts, self.fds.as_ref()))
    }
    /// to_dict() as one line of JSON lines, newline included (what
    /// `systrace --format json` writes).
    #[pyo3(signature = (string_size = DEFAULT_STRING_SIZE as i64))]
    fn json_line(&self, string_size: i64) -> PyResult<String> {
        let opts = strace_options(string_size, DEFAULT_COLUMN as i64, 0)?;
        Ok(self.call.json_line_fds(&opts, self.fds.as_ref()))
    }
    fn __str__(&self) -> String {
        self.call.strace(&StraceOptions::default(), 0)
    }
    fn __repr__(&self) -> String {
        let first = self.call.first();
        format!(
            "<Call pid={} tid={} {}>",
            first.pid,
            first.tid,
            self.call.strace(&StraceOptions::default(), 0)
        )
    }
    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other
            .cast::<PyCall>()
            .is_ok_and(|o| o.get().call == self.call)
    }
    fn __hash__(&self) -> u64 {
        let first = self.call.first();
        first.timestamp_ns ^ ((first.tid as u64) << 32) ^ first.nr as u64
    }
}

/// Pairs enter and exit events per thread into calls, as they stream in.
#[pyclass(module = "systrace", name = "Pairer")]
pub struct PyPairer {
    inner: Pairer,
}

fn calls(calls: Vec<Call>) -> Vec<PyCall> {
    calls.into_iter().map(PyCall::from).collect()
}

#[pymethods]
impl PyPairer {
    #[new]
    fn new() -> Self {
        PyPairer {
            inner: Pairer::new(),
        }
    }
    /// Feeds events (an Event, an EventBatch, or an iterable of Event), in
    /// the order they came; returns the calls they complete.
    fn push(&mut self, py: Python<'_>, events: &Bound<'_, PyAny>) -> PyResult<Vec<PyCall>> {
        let events = match events.cast::<PyEvent>() {
            Ok(ev) => vec![ev.get().ev.clone()],
            Err(_) => events_of(events)?,
        };
        let inner = &mut self.inner;
        Ok(calls(py.detach(|| {
            let mut done = Vec::new();
            for ev in events {
                inner.push_into(ev, &mut done);
            }
            done
        })))
    }
    /// The call still open on a thread (e.g. one that exited), if any.
    fn take_thread(&mut self, tid: u32) -> Option<PyCall> {
        self.inner.take_thread(tid).map(PyCall::from)
    }
    /// Ends the stream: the calls still open, unfinished, in order of time.
    fn finish(&mut self) -> Vec<PyCall> {
        calls(self.inner.finish())
    }
    /// How many calls are open.
    #[getter]
    fn pending(&self) -> usize {
        self.inner.pending()
    }
}

/// Calls as they complete from a Session (streamed), an EventBatch, or an
/// iterable of Event or EventBatch; then the ones that never returned.
#[pyclass(module = "systrace")]
pub struct CallIter {
    source: Option<Py<PyAny>>,
    items: Option<Py<PyAny>>,
    pairer: Pairer,
    ready: VecDeque<Call>,
    /// resolve_paths: the fd table the calls go through, in order.
    fds: Option<FdTable>,
}

/// The fd table for calls of `source` with resolve_paths: /proc is read
/// only when the source is a Session, whose processes may still run.
pub(super) fn fd_table(source: &Bound<'_, PyAny>, resolve_paths: bool) -> Option<FdTable> {
    let live = source.is_instance_of::<super::session::Session>();
    resolve_paths.then(|| FdTable::new(live, 0))
}

impl CallIter {
    pub fn new(source: Py<PyAny>, fds: Option<FdTable>) -> Self {
        CallIter {
            source: Some(source),
            items: None,
            pairer: Pairer::new(),
            ready: VecDeque::new(),
            fds,
        }
    }
}

#[pymethods]
impl CallIter {
    #[new]
    #[pyo3(signature = (source, *, resolve_paths = false))]
    fn py_new(py: Python<'_>, source: Py<PyAny>, resolve_paths: bool) -> Self {
        let fds = fd_table(source.bind(py), resolve_paths);
        CallIter::new(source, fds)
    }
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }
    fn __next__(&mut self, py: Python<'_>) -> PyResult<Option<PyCall>> {
        loop {
            if let Some(call) = self.ready.pop_front() {
                // Its reads of /proc are systrace's own (see `resolved`).
                let _quiet = self.fds.is_some().then(Quiet::enter);
                let fds = self.fds.as_mut().map(|t| t.observe(&call));
                return Ok(Some(PyCall { call, fds }));
            }
            if let Some(source) = self.source.take() {
                let source = source.into_bound(py);
                let items = if source.is_instance_of::<super::session::Session>() {
                    source.call_method0("batches")?
                } else if source.is_instance_of::<EventBatch>() {
                    PyList::new(py, [source])?.into_any().try_iter()?.into_any()
                } else {
                    source.try_iter()?.into_any()
                };
                self.items = Some(items.unbind());
            }
            let Some(items) = self.items.as_ref() else {
                return Ok(None);
            };
            match items.bind(py).try_iter()?.next() {
                Some(item) => {
                    let item = item?;
                    let events: Vec<Event> = match item.cast::<PyEvent>() {
                        Ok(ev) => vec![ev.get().ev.clone()],
                        Err(_) => events_of(&item)?,
                    };
                    let mut done = Vec::new();
                    for ev in events {
                        self.pairer.push_into(ev, &mut done);
                    }
                    self.ready.extend(done);
                }
                None => {
                    self.items = None;
                    self.ready.extend(self.pairer.finish());
                    if self.ready.is_empty() {
                        return Ok(None);
                    }
                }
            }
        }
    }
}

/// Every call of `source` (a Session, which must be closed, an
/// EventBatch, or an iterable of Event or EventBatch), in order of start.
#[pyfunction]
#[pyo3(signature = (source, *, resolve_paths = false))]
pub fn calls_of(
    py: Python<'_>,
    source: &Bound<'_, PyAny>,
    resolve_paths: bool,
) -> PyResult<Vec<PyCall>> {
    if source.is_instance_of::<super::session::Session>() {
        let kwargs = PyDict::new(py);
        kwargs.set_item("resolve_paths", resolve_paths)?;
        let list = source.call_method("calls", (), Some(&kwargs))?;
        return list
            .try_iter()?
            .map(|c| {
                let c = c?;
                let c = c.cast::<PyCall>()?.get();
                Ok(PyCall {
                    call: c.call.clone(),
                    fds: c.fds.clone(),
                })
            })
            .collect();
    }
    let events = events_of(source)?;
    let mut table = fd_table(source, resolve_paths);
    let paired = py.detach(|| pair_events(events));
    Ok(resolved(paired, &mut table))
}

/// (columns, captured values, strace texts): see [`call_columns`].
type CallColumnsResult<'py> = (Bound<'py, PyDict>, Bound<'py, PyDict>, Option<Vec<String>>);

/// The calls of `source` as columns for Arrow, without an object per call
/// or per value: `source` is a list of Call, or events (a Session, an
/// EventBatch, an iterable of Event or EventBatch), paired here. Returns
/// (name -> (struct format, bytes, validity bitmap or None when nothing is
/// null), argument name -> the captured values (None, bytes, or a list of
/// bytes) of each argument any call captured, the strace text of each call
/// when `strace`, else None).
#[pyfunction]
#[pyo3(signature = (source, strace = false))]
pub fn call_columns<'py>(
    py: Python<'py>,
    source: &Bound<'py, PyAny>,
    strace: bool,
) -> PyResult<CallColumnsResult<'py>> {
    let owned: Vec<Call>;
    let given: Vec<PyRef<'py, PyCall>>;
    let calls: Vec<&Call> = if let Ok(list) = source.extract::<Vec<PyRef<'py, PyCall>>>() {
        given = list;
        given.iter().map(|c| &c.call).collect()
    } else {
        let events = if source.is_instance_of::<super::session::Session>() {
            events_of(&source.call_method0("batches")?)?
        } else {
            events_of(source)?
        };
        owned = py.detach(|| pair_events(events));
        owned.iter().collect()
    };
    let cols = py.detach(|| CallColumns::from_calls(&calls));
    let dict = PyDict::new(py);
    for (name, format, data, validity) in cols.buffers() {
        dict.set_item(
            name,
            (
                format,
                PyBytes::new(py, data),
                validity.map(|v| PyBytes::new(py, v)),
            ),
        )?;
    }
    let captured = PyDict::new(py);
    for (name, values) in &cols.captured {
        let list = PyList::empty(py);
        for value in values {
            match value {
                Some(v) => list.append(captured_object(py, v)?)?,
                None => list.append(py.None())?,
            }
        }
        captured.set_item(name, list)?;
    }
    let texts = strace.then(|| {
        py.detach(|| {
            calls
                .iter()
                .map(|c| {
                    c.strace(
                        &StraceOptions {
                            column: 0,
                            ..StraceOptions::default()
                        },
                        0,
                    )
                })
                .collect()
        })
    });
    Ok((dict, captured, texts))
}
