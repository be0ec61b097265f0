//! `systrace.SyscallSet`: syscall numbers per phase, resolved from names,
//! event names, numbers and strace's classes (crate::strace::select).
use std::collections::BTreeSet;

use pyo3::prelude::*;
use pyo3::types::{PyFrozenSet, PyString, PyTuple};

use super::args::{bool_arg, int_or};
use crate::error::Error;
use crate::strace::select::{select, trace_set, Selection, Spec};

/// Syscalls to trace, per phase: what enable() would trace for the same
/// arguments.
#[pyclass(module = "systrace", name = "SyscallSet", frozen, eq, hash)]
#[derive(PartialEq, Eq, Hash)]
pub struct PySyscallSet {
    pub sel: Selection,
}

/// An argument that names syscalls, owned while the selection is made.
enum Item {
    Name(String),
    Nr(i64),
    Set(Py<PySyscallSet>),
}

impl Item {
    fn spec(&self) -> Spec<'_> {
        match self {
            Item::Name(name) => Spec::Name(name),
            Item::Nr(nr) => Spec::Nr(*nr),
            Item::Set(set) => Spec::Set(&set.get().sel),
        }
    }
}

/// A name, a number or a SyscallSet; a TypeError for anything else.
fn item_arg(item: &Bound<'_, PyAny>) -> PyResult<Item> {
    if let Ok(name) = item.cast::<PyString>() {
        return Ok(Item::Name(name.to_cow()?.into_owned()));
    }
    if let Ok(set) = item.cast::<PySyscallSet>() {
        return Ok(Item::Set(set.clone().unbind()));
    }
    match int_or(item, "a syscall must be a name, a number or a SyscallSet")? {
        Some(nr) => Ok(Item::Nr(nr)),
        None => Err(Error::UnknownSyscall {
            name: item.str()?.to_string(),
            suggestions: Vec::new(),
        }
        .into()),
    }
}

/// What `enable(*syscalls, enter=, exit=)` traces: names ("read",
/// "sys_read"), event names ("sys_enter_read": that phase only), strace's
/// classes ("%file"), numbers and SyscallSets; none at all is every syscall.
pub fn selection_arg(
    syscalls: &Bound<'_, PyTuple>,
    enter: bool,
    exit: bool,
) -> PyResult<Selection> {
    let items: Vec<Item> = syscalls
        .iter()
        .map(|s| item_arg(&s))
        .collect::<PyResult<_>>()?;
    Ok(select(items.iter().map(Item::spec), enter, exit)?)
}

fn frozenset<'py>(py: Python<'py>, nrs: &BTreeSet<u32>) -> PyResult<Bound<'py, PyFrozenSet>> {
    PyFrozenSet::new(py, nrs)
}

/// Sets this long or shorter have a repr that rebuilds them.
const REPR_NAMES: usize = 8;

#[pymethods]
impl PySyscallSet {
    #[new]
    #[pyo3(signature = (*syscalls, enter = None, exit = None))]
    fn new(
        syscalls: &Bound<'_, PyTuple>,
        enter: Option<&Bound<'_, PyAny>>,
        exit: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let enter = enter.map_or(Ok(true), |v| bool_arg(v, "enter"))?;
        let exit = exit.map_or(Ok(true), |v| bool_arg(v, "exit"))?;
        Ok(PySyscallSet {
            sel: selection_arg(syscalls, enter, exit)?,
        })
    }

    /// The set of strace's `-e trace=SET`: "openat,%network", "!read",
    /// "all", "none", event names too.
    #[staticmethod]
    fn from_strace(value: &str) -> PyResult<Self> {
        Ok(PySyscallSet {
            sel: trace_set(value)?,
        })
    }

    /// Syscall numbers selected at enter.
    #[getter]
    fn enter<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyFrozenSet>> {
        frozenset(py, &self.sel.enter)
    }

    /// Syscall numbers selected at exit.
    #[getter]
    fn exit<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyFrozenSet>> {
        frozenset(py, &self.sel.exit)
    }

    /// Syscall numbers selected in either phase.
    #[getter]
    fn nrs<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyFrozenSet>> {
        frozenset(py, &self.sel.nrs())
    }

    /// Names that select exactly this set, by number: "read" for both
    /// phases, "sys_enter_read" or "sys_exit_read" for one.
    #[getter]
    fn names(&self) -> Vec<String> {
        self.sel.names()
    }

    fn __or__(&self, other: &Bound<'_, PySyscallSet>) -> Self {
        PySyscallSet {
            sel: self.sel.union(&other.get().sel),
        }
    }

    /// `"read" in s`: every syscall of a name, number, event name, class or
    /// SyscallSet is in the set, in its phases.
    fn __contains__(&self, item: &Bound<'_, PyAny>) -> PyResult<bool> {
        let item = item_arg(item)?;
        Ok(self.sel.includes(item.spec())?)
    }

    /// The number of syscalls selected in either phase.
    fn __len__(&self) -> usize {
        self.sel.nrs().len()
    }

    fn __bool__(&self) -> bool {
        !self.sel.is_empty()
    }

    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let nrs: Vec<u32> = self.sel.nrs().into_iter().collect();
        PyTuple::new(py, nrs)?
            .as_any()
            .try_iter()
            .map(Bound::into_any)
    }

    fn __repr__(&self) -> String {
        let names = self.sel.names();
        if names.len() <= REPR_NAMES {
            let quoted: Vec<String> = names.iter().map(|n| format!("'{n}'")).collect();
            format!("SyscallSet({})", quoted.join(", "))
        } else {
            format!(
                "<SyscallSet: {} syscalls at enter, {} at exit>",
                self.sel.enter.len(),
                self.sel.exit.len()
            )
        }
    }
}
