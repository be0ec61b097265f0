//! Python arguments into owned Rust values, with the exception that names
//! what was wrong: TypeError for a wrong type, ValueError for a bad value.
use std::time::Duration;

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyFloat, PyInt, PyString};

use crate::error::Error;
use crate::metadata::names;

/// An int argument named `what`: TypeError for anything but an int (bools
/// included); Ok(None) for an int too large for i64, which the caller
/// reports as out of range.
pub fn int_arg(value: &Bound<'_, PyAny>, what: &str) -> PyResult<Option<i64>> {
    int_or(value, &format!("{what} must be an int"))
}

/// The same where other types were taken before: the TypeError says
/// `must` ("a syscall must be a name or a number"), then the type given.
pub fn int_or(value: &Bound<'_, PyAny>, must: &str) -> PyResult<Option<i64>> {
    if value.is_instance_of::<PyBool>() || !value.is_instance_of::<PyInt>() {
        return Err(PyTypeError::new_err(format!(
            "{must}, not {}",
            value.get_type().name()?
        )));
    }
    Ok(value.extract::<i64>().ok())
}

/// A bool argument: TypeError for anything else (0 and 1 included).
pub fn bool_arg(value: &Bound<'_, PyAny>, what: &str) -> PyResult<bool> {
    if !value.is_instance_of::<PyBool>() {
        return Err(PyTypeError::new_err(format!(
            "{what} must be True or False, not {}",
            value.get_type().name()?
        )));
    }
    value.extract()
}

/// A size argument: an int in `range`, else a ValueError saying `rule`.
pub fn size_arg(
    value: &Bound<'_, PyAny>,
    what: &str,
    range: std::ops::RangeInclusive<i64>,
    rule: &str,
) -> PyResult<i64> {
    int_arg(value, what)?
        .filter(|v| range.contains(v))
        .ok_or_else(|| {
            let shown = value.repr().map_or_else(|_| "?".into(), |r| r.to_string());
            PyValueError::new_err(format!("{what} must be {rule}, not {shown}"))
        })
}

/// A syscall by name ("read", "sys_read") or number.
pub fn syscall_arg(item: &Bound<'_, PyAny>) -> PyResult<u32> {
    if let Ok(name) = item.cast::<PyString>() {
        return Ok(names::resolve(&name.to_cow()?)?);
    }
    match int_or(item, "a syscall must be a name or a number")? {
        Some(nr) => Ok(names::check_nr(nr)?),
        None => Err(Error::UnknownSyscall {
            name: item.str()?.to_string(),
            suggestions: Vec::new(),
        }
        .into()),
    }
}

/// A timeout in seconds, as `poll()` takes it: a number >= 0 (inf, and
/// numbers too large for a Duration, wait for ever, as None does). NaN and
/// negative numbers are ValueErrors, anything but a number a TypeError.
#[derive(Clone, Copy, Debug)]
pub struct Timeout(pub Option<Duration>);

impl Timeout {
    pub const ZERO: Timeout = Timeout(Some(Duration::ZERO));
}

impl<'a, 'py> FromPyObject<'a, 'py> for Timeout {
    type Error = PyErr;

    fn extract(obj: pyo3::Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        if obj.is_instance_of::<PyBool>()
            || !(obj.is_instance_of::<PyInt>() || obj.is_instance_of::<PyFloat>())
        {
            return Err(PyTypeError::new_err(format!(
                "timeout must be a number of seconds or None, not {}",
                obj.get_type().name()?
            )));
        }
        let t: f64 = obj.extract()?;
        if t.is_nan() || t < 0.0 {
            return Err(PyValueError::new_err(format!(
                "timeout must be a non-negative number of seconds, not {t}"
            )));
        }
        Ok(Timeout(Duration::try_from_secs_f64(t).ok()))
    }
}

/// A process id given by the user; a thread id is not a process.
pub fn pid_arg(pid: &Bound<'_, PyAny>) -> PyResult<u32> {
    let value = int_arg(pid, "a pid")?;
    let pid = value
        .and_then(|p| u32::try_from(p).ok())
        .filter(|&p| p > 0 && p <= i32::MAX as u32)
        .ok_or_else(|| {
            PyValueError::new_err(format!("pid must be a positive process id, not {pid}"))
        })?;
    Ok(crate::trace::registry::check_process(pid)?)
}
