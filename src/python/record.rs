//! Recordings from Python: `Recording` (a session whose events a Rust
//! thread writes to a Parquet file instead of keeping them for Python),
//! `TraceWriter` (batches written as the caller hands them over: the
//! command's --record) and `TraceFile` (a recording read back).
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use pyo3::exceptions::{PyRuntimeError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

use super::event::EventBatch;
use super::session::Session;
use crate::kernel::Event;
use crate::metadata::display_name;
use crate::record::{keys, Reader, RecordError, Writer};
use crate::trace::queue::Queue;
use crate::trace::quiet::{self, Quiet};
use crate::trace::tracer::getpid;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// `metadata=`: str -> str, as (key, value) pairs.
fn metadata_arg(metadata: Option<&Bound<'_, PyDict>>) -> PyResult<Vec<(String, String)>> {
    let Some(metadata) = metadata else {
        return Ok(Vec::new());
    };
    metadata
        .iter()
        .map(|(k, v)| {
            Ok((
                k.extract()
                    .map_err(|_| PyTypeError::new_err("metadata keys are str"))?,
                v.extract()
                    .map_err(|_| PyTypeError::new_err("metadata values are str"))?,
            ))
        })
        .collect()
}

fn json_names(nrs: Vec<u32>) -> String {
    let names: Vec<String> = nrs
        .into_iter()
        .map(|nr| display_name(nr).into_owned())
        .collect();
    serde_json::to_string(&names).expect("strings serialize")
}

/// What a session says about itself, as a recording's metadata: its
/// syscalls and processes, and (closed) what it lost. Read through its
/// Python attributes, so any Session (or subclass) will do.
fn session_metadata(session: &Bound<'_, PyAny>) -> PyResult<Vec<(String, String)>> {
    let nrs = |attr: &str| -> PyResult<Vec<u32>> {
        let mut v: Vec<u32> = session.getattr(attr)?.extract()?;
        v.sort_unstable();
        Ok(v)
    };
    let enter = nrs("enter_syscalls")?;
    let exit = nrs("exit_syscalls")?;
    let mut all: Vec<u32> = enter.iter().chain(&exit).copied().collect();
    all.sort_unstable();
    all.dedup();
    let pids: Option<Vec<u32>> = session.getattr("pids")?.extract()?;
    let losses: std::collections::BTreeMap<String, u64> =
        session.getattr("capture_losses")?.extract()?;
    let get = |attr: &str| -> PyResult<String> { Ok(session.getattr(attr)?.str()?.to_string()) };
    Ok(vec![
        ("systrace.syscalls".into(), json_names(all)),
        ("systrace.enter_syscalls".into(), json_names(enter)),
        ("systrace.exit_syscalls".into(), json_names(exit)),
        (
            "systrace.pids".into(),
            serde_json::to_string(&pids).expect("ints serialize"),
        ),
        ("systrace.buffer_size".into(), get("buffer_size")?),
        (
            "systrace.untraced_children".into(),
            get("untraced_children")?,
        ),
        (
            "systrace.capture_losses".into(),
            serde_json::to_string(&losses).expect("ints serialize"),
        ),
    ])
}

/// What the recording thread hands back: the writer, and what it could not
/// write.
struct Drained {
    writer: Writer,
    failed: Option<RecordError>,
}

/// The recording thread: takes the session's events as the consumer
/// delivers them and writes them, until the session is closed and drained.
/// Its syscalls are systrace's own (it stays marked quiet), so a session
/// tracing its own process does not see its writes.
fn drain(queue: &Queue, mut writer: Writer, rows: &AtomicU64, unwritten: &AtomicU64) -> Drained {
    let _quiet = Quiet::enter();
    let mut failed = None;
    loop {
        let events = queue.take(Duration::from_millis(100));
        if !events.is_empty() {
            if failed.is_none() {
                match writer.write(&events) {
                    Ok(()) => rows.store(writer.rows(), Ordering::Relaxed),
                    Err(err) => failed = Some(err),
                }
            }
            if failed.is_some() {
                unwritten.fetch_add(events.len() as u64, Ordering::Relaxed);
            }
        }
        if queue.is_finished() && queue.pending() == 0 {
            return Drained { writer, failed };
        }
    }
}

enum State {
    Open(JoinHandle<Drained>),
    Closed,
}

/// A session whose events are written to a Parquet file (see
/// systrace.enable(output=...)).
#[pyclass(module = "systrace", name = "Recording", subclass, frozen)]
pub struct Recording {
    session: Py<Session>,
    state: Mutex<State>,
    path: PathBuf,
    metadata: Vec<(String, String)>,
    rows: Arc<AtomicU64>,
    unwritten: Arc<AtomicU64>,
    /// The process that opened it: in a forked child it is closed, and its
    /// thread (the parent's) is not there to join.
    pid: u32,
}

impl Recording {
    fn inherited(&self) -> bool {
        self.pid != getpid()
    }

    fn finish(&self, py: Python<'_>) -> PyResult<()> {
        let thread = match std::mem::replace(&mut *lock(&self.state), State::Closed) {
            State::Open(thread) => thread,
            State::Closed => return Ok(()),
        };
        let session = self.session.bind(py);
        // Closing delivers the last events; the thread writes them and ends.
        let closed = session.call_method0("close");
        let drained = py.detach(|| thread.join());
        closed?;
        let Drained { writer, failed } =
            drained.map_err(|_| PyRuntimeError::new_err("the recording thread panicked"))?;
        let mut metadata = session_metadata(session.as_any())?;
        let unwritten = self.unwritten.load(Ordering::Relaxed);
        let dropped: u64 = session.getattr("dropped")?.extract()?;
        metadata.push((keys::DROPPED.into(), (dropped + unwritten).to_string()));
        metadata.extend(self.metadata.iter().cloned());
        self.rows.store(writer.rows(), Ordering::Relaxed);
        // What was written is kept even if a write failed (then the error
        // says how much is missing).
        let finished = py.detach(|| {
            let _quiet = Quiet::enter();
            writer.finish(metadata)
        });
        if let Some(err) = failed {
            let kept = match finished {
                Ok(rows) => format!("the {rows} events before it are in the file"),
                Err(e) => format!("finishing the file failed too: {e}"),
            };
            return Err(err
                .with_note(format!("{unwritten} events were not written; {kept}"))
                .into());
        }
        finished?;
        Ok(())
    }
}

#[pymethods]
impl Recording {
    /// Starts tracing as Session(*syscalls, **kwargs) does, writing the
    /// events to `path` (Apache Parquet) instead of keeping them; the
    /// `metadata` (str -> str) goes into the file's key-value metadata.
    #[new]
    #[pyo3(signature = (path, *syscalls, metadata = None, **kwargs))]
    fn new(
        py: Python<'_>,
        path: PathBuf,
        syscalls: &Bound<'_, PyTuple>,
        metadata: Option<&Bound<'_, PyDict>>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Self> {
        let metadata = metadata_arg(metadata)?;
        // Creating the file and starting the thread are systrace's own
        // syscalls, which another session of this process must not see.
        let _quiet = Quiet::enter();
        let writer = py.detach(|| Writer::create(&path))?;
        let unwritten = Arc::new(AtomicU64::new(0));
        // The thread starts before tracing does: its first syscalls (its
        // start, asking its tid) are made before the session can see them.
        let (ready_tx, ready_rx) = mpsc::channel::<()>();
        let (queue_tx, queue_rx) = mpsc::channel::<Option<Arc<Queue>>>();
        let rows = Arc::new(AtomicU64::new(0));
        let (thread_rows, thread_unwritten) = (Arc::clone(&rows), Arc::clone(&unwritten));
        let thread = std::thread::Builder::new()
            .name("systrace-record".into())
            .spawn(move || {
                quiet::tid();
                let _ = ready_tx.send(());
                match queue_rx.recv() {
                    Ok(Some(queue)) => drain(&queue, writer, &thread_rows, &thread_unwritten),
                    _ => Drained {
                        writer,
                        failed: None,
                    },
                }
            })
            .map_err(|e| PyRuntimeError::new_err(format!("starting the recording thread: {e}")))?;
        let _ = ready_rx.recv();
        let session = match py.get_type::<Session>().call(syscalls, kwargs) {
            Ok(session) => session.cast_into::<Session>()?,
            Err(err) => {
                // No session: the thread ends, and its writer removes the file.
                let _ = queue_tx.send(None);
                let _ = py.detach(|| thread.join());
                return Err(err);
            }
        };
        let _ = queue_tx.send(Some(session.get().queue()));
        Ok(Recording {
            session: session.unbind(),
            state: Mutex::new(State::Open(thread)),
            path,
            metadata,
            rows,
            unwritten,
            pid: getpid(),
        })
    }

    fn __enter__(slf: Bound<'_, Self>) -> PyResult<Bound<'_, Self>> {
        if slf.get().closed() {
            return Err(super::errors::SessionClosedError::new_err(
                "this recording is closed; read it with systrace.load()",
            ));
        }
        Ok(slf)
    }

    #[pyo3(signature = (*_exc_info))]
    fn __exit__(&self, py: Python<'_>, _exc_info: &Bound<'_, PyTuple>) -> PyResult<()> {
        self.close(py)
    }

    /// Stops tracing, writes the last events and finishes the file (its
    /// footer, with the metadata and the count of lost events). Warns
    /// (LostEventsWarning) if events were lost; closing twice is harmless.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        if self.inherited() {
            return Ok(());
        }
        self.finish(py)
    }

    #[getter]
    fn closed(&self) -> bool {
        self.inherited() || matches!(*lock(&self.state), State::Closed)
    }

    /// The file the events are written to.
    #[getter]
    fn path(&self) -> String {
        self.path.to_string_lossy().into_owned()
    }

    /// Events written to the file so far (the last row group is on disk
    /// once it is closed).
    #[getter]
    fn events_written(&self) -> u64 {
        self.rows.load(Ordering::Relaxed)
    }

    /// Events of the session's syscalls and processes that were lost (the
    /// session's, and any a failed write left out); written into the file.
    #[getter]
    fn dropped(&self, py: Python<'_>) -> PyResult<u64> {
        let session: u64 = self.session.bind(py).getattr("dropped")?.extract()?;
        Ok(session + self.unwritten.load(Ordering::Relaxed))
    }

    /// Captures that did not happen whole: {"truncated": n, "faulted": n, "lost": n}.
    #[getter]
    fn capture_losses<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.session.bind(py).getattr("capture_losses")
    }

    /// Children of the followed processes that could not be followed.
    #[getter]
    fn untraced_children<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.session.bind(py).getattr("untraced_children")
    }

    /// The names of the traced syscalls.
    #[getter]
    fn syscalls<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.session.bind(py).getattr("syscalls")
    }

    /// The traced process ids; None when every process is traced.
    #[getter]
    fn pids<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.session.bind(py).getattr("pids")
    }

    /// The size of the ring buffer in bytes.
    #[getter]
    fn buffer_size<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.session.bind(py).getattr("buffer_size")
    }

    fn __repr__(&self) -> String {
        let state = if self.closed() { "closed" } else { "open" };
        format!("<systrace.Recording {state} {}>", self.path.display())
    }
}

impl Drop for Recording {
    /// A recording collected unclosed still finishes its file.
    fn drop(&mut self) {
        if self.inherited() {
            // The thread is the parent's: never join or write from here.
            if let State::Open(thread) = std::mem::replace(&mut *lock(&self.state), State::Closed) {
                std::mem::forget(thread);
            }
            return;
        }
        Python::attach(|py| {
            if let Err(err) = self.finish(py) {
                err.write_unraisable(py, None);
            }
        });
    }
}

/// Writes the batches handed to it to a Parquet recording: the command's
/// --record, and any program that streams a session's batches itself.
#[pyclass(module = "systrace", name = "TraceWriter", frozen)]
pub struct TraceWriter {
    writer: Mutex<Option<Writer>>,
    path: PathBuf,
    rows: AtomicU64,
}

#[pymethods]
impl TraceWriter {
    /// Creates `path` (written as .NAME.partial until closed).
    #[new]
    fn new(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        let writer = py.detach(|| {
            let _quiet = Quiet::enter();
            Writer::create(&path)
        })?;
        Ok(TraceWriter {
            writer: Mutex::new(Some(writer)),
            path,
            rows: AtomicU64::new(0),
        })
    }

    /// Appends a batch of events (a row group goes out when one is full).
    fn write(&self, py: Python<'_>, batch: &Bound<'_, EventBatch>) -> PyResult<()> {
        let events: &[Event] = &batch.get().events;
        let mut guard = lock(&self.writer);
        let writer = guard
            .as_mut()
            .ok_or_else(|| PyRuntimeError::new_err("this TraceWriter is closed"))?;
        py.detach(|| {
            let _quiet = Quiet::enter();
            writer.write(events)
        })?;
        self.rows.store(writer.rows(), Ordering::Relaxed);
        Ok(())
    }

    /// Finishes the file: `metadata` (str -> str) and, given the (closed)
    /// session the batches came from, its syscalls, processes and losses go
    /// into its key-value metadata. Returns the events written.
    #[pyo3(signature = (metadata = None, session = None))]
    fn close(
        &self,
        py: Python<'_>,
        metadata: Option<&Bound<'_, PyDict>>,
        session: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<u64> {
        let mut all = Vec::new();
        if let Some(session) = session {
            all = session_metadata(session)?;
            all.push((
                keys::DROPPED.into(),
                session.getattr("dropped")?.str()?.to_string(),
            ));
        }
        all.extend(metadata_arg(metadata)?);
        let Some(writer) = lock(&self.writer).take() else {
            return Ok(self.rows.load(Ordering::Relaxed));
        };
        let rows = py.detach(|| {
            let _quiet = Quiet::enter();
            writer.finish(all)
        })?;
        self.rows.store(rows, Ordering::Relaxed);
        Ok(rows)
    }

    #[getter]
    fn path(&self) -> String {
        self.path.to_string_lossy().into_owned()
    }

    /// Events written so far.
    #[getter]
    fn events_written(&self) -> u64 {
        self.rows.load(Ordering::Relaxed)
    }

    #[getter]
    fn closed(&self) -> bool {
        lock(&self.writer).is_none()
    }
}

type EventBatches = Box<dyn Iterator<Item = crate::record::Result<Vec<Event>>> + Send>;

/// A recording read back (systrace.load()).
#[pyclass(module = "systrace", name = "TraceFile", subclass, frozen)]
pub struct TraceFile {
    reader: Reader,
}

#[pymethods]
impl TraceFile {
    /// Opens a recording: FileNotFoundError if there is no such file,
    /// ValueError if it is not a systrace recording (or one of another
    /// architecture).
    #[new]
    fn new(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        let reader = py.detach(|| Reader::open(&path))?;
        Ok(TraceFile { reader })
    }

    /// The events, an EventBatch at a time, in the order they were
    /// recorded; each call reads the file from its start.
    fn batches(&self, py: Python<'_>) -> PyResult<TraceBatchIter> {
        let batches = py.detach(|| self.reader.batches())?;
        Ok(TraceBatchIter {
            batches: Mutex::new(Box::new(batches)),
        })
    }

    /// The file's key-value metadata (str -> str), in the order written
    /// (without ARROW:schema).
    #[getter]
    fn metadata<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        // ARROW:schema is the Arrow schema the Parquet writer stores for
        // Arrow readers, not something systrace says.
        for (k, v) in self.reader.all_metadata() {
            if k == "ARROW:schema" {
                continue;
            }
            dict.set_item(k, v)?;
        }
        Ok(dict)
    }

    /// Events of the recorded session's syscalls and processes that were
    /// lost while recording.
    #[getter]
    fn dropped(&self) -> u64 {
        self.reader
            .metadata(keys::DROPPED)
            .and_then(|d| d.parse().ok())
            .unwrap_or(0)
    }

    #[getter]
    fn path(&self) -> String {
        self.reader.path().to_string_lossy().into_owned()
    }

    /// The number of events (rows) in the file.
    fn __len__(&self) -> usize {
        self.reader.rows() as usize
    }

    fn __repr__(&self) -> String {
        format!(
            "<systrace.TraceFile {} events={}>",
            self.reader.path().display(),
            self.reader.rows()
        )
    }
}

/// TraceFile.batches().
#[pyclass(module = "systrace", frozen)]
pub struct TraceBatchIter {
    batches: Mutex<EventBatches>,
}

#[pymethods]
impl TraceBatchIter {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }
    fn __next__(&self, py: Python<'_>) -> PyResult<Option<EventBatch>> {
        let next = py.detach(|| lock(&self.batches).next());
        match next {
            Some(events) => Ok(Some(EventBatch { events: events? })),
            None => Ok(None),
        }
    }
}
