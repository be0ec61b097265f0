//! Every exception the module raises, and the one mapping from the core's
//! `Error` kinds to Python exception types.
use pyo3::create_exception;
use pyo3::exceptions::{
    PyOSError, PyPermissionError, PyProcessLookupError, PyRuntimeError, PyRuntimeWarning,
    PyValueError,
};
use pyo3::PyErr;

use std::io;
use std::path::Path;

use crate::error::Error;

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
    "The session was closed: its events can still be read, but it cannot trace again."
);
create_exception!(
    systrace,
    LostEventsWarning,
    PyRuntimeWarning,
    "A session lost events (see Session.dropped)."
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

impl From<crate::record::RecordError> for PyErr {
    fn from(err: crate::record::RecordError) -> PyErr {
        use crate::record::RecordError;
        let msg = err.to_string();
        match err {
            // OSError(errno, msg) is FileNotFoundError for ENOENT, and so on.
            RecordError::Io { source, .. } => match source.raw_os_error() {
                Some(errno) => PyOSError::new_err((errno, msg)),
                None => PyOSError::new_err(msg),
            },
            RecordError::Parquet { .. }
            | RecordError::NotARecording { .. }
            | RecordError::ForeignArch { .. } => PyValueError::new_err(msg),
        }
    }
}

/// An OSError as Python's own: errno, strerror and the file named, so that
/// OSError picks the subclass (FileNotFoundError, PermissionError...).
pub fn os_error(err: io::Error, filename: Option<&Path>) -> PyErr {
    let Some(errno) = err.raw_os_error() else {
        return PyOSError::new_err(err.to_string());
    };
    let text = err.to_string();
    let strerror = text
        .strip_suffix(&format!(" (os error {errno})"))
        .unwrap_or(&text)
        .to_owned();
    match filename {
        Some(name) => PyOSError::new_err((errno, strerror, name.to_path_buf())),
        None => PyOSError::new_err((errno, strerror)),
    }
}
