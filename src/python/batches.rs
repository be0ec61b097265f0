//! The iterators of a session: `Session.batches()` and iterating a session.
use pyo3::prelude::*;

use super::event::{EventBatch, PyEvent};
use super::session::Session;
use crate::kernel::Event;

/// Session.batches().
#[pyclass(module = "systrace")]
pub struct BatchIter {
    pub(super) session: Py<Session>,
}

impl BatchIter {
    fn next_batch(&self, py: Python<'_>) -> PyResult<Option<Vec<Event>>> {
        let session = self.session.get();
        loop {
            let events = session.take(py, None)?;
            if !events.is_empty() {
                return Ok(Some(events));
            }
            if session.is_exhausted() {
                return Ok(None);
            }
        }
    }
}

#[pymethods]
impl BatchIter {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }
    fn __next__(&self, py: Python<'_>) -> PyResult<Option<EventBatch>> {
        Ok(self.next_batch(py)?.map(|events| EventBatch { events }))
    }
}

/// Iterating a Session: its events one by one.
#[pyclass(module = "systrace")]
pub struct EventIter {
    pub(super) batches: BatchIter,
    pub(super) batch: std::vec::IntoIter<Event>,
}

#[pymethods]
impl EventIter {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }
    fn __next__(&mut self, py: Python<'_>) -> PyResult<Option<PyEvent>> {
        loop {
            if let Some(ev) = self.batch.next() {
                return Ok(Some(PyEvent { ev }));
            }
            match self.batches.next_batch(py)? {
                Some(events) => self.batch = events.into_iter(),
                None => return Ok(None),
            }
        }
    }
}
