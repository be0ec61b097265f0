//! The PyO3 bindings of strace-class decoding, exposed as
//! `systrace._native.strace`.
use pyo3::prelude::*;

#[pymodule(submodule)]
pub mod strace {}
