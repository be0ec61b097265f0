//! The metadata and event-class API: syscall names and numbers, the
//! metadata table, define_fields(), print_fmt and the format text.
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};

use super::args::{int_arg, syscall_arg};
use crate::kernel::Phase;
use crate::metadata::event_class::{self, Field};
use crate::metadata::{metadata, names, MetadataSource, SyscallMetadata};
use crate::trace::tracer;

/// The number of a syscall name on this architecture.
#[pyfunction]
pub fn syscall_nr(name: &Bound<'_, PyAny>) -> PyResult<u32> {
    syscall_arg(name)
}

/// The name of a syscall number on this architecture, or None.
#[pyfunction]
pub fn syscall_name(nr: &Bound<'_, PyAny>) -> PyResult<Option<&'static str>> {
    // Any int is a fair question: one that names no syscall (negative,
    // huge, or unused) has no name. Anything else is a TypeError.
    Ok(int_arg(nr, "a syscall number")?
        .and_then(|n| u32::try_from(n).ok())
        .and_then(names::syscall_name))
}

/// Every syscall name of this architecture that systrace can trace.
#[pyfunction]
pub fn syscall_names() -> Vec<&'static str> {
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
pub fn metadata_table() -> Vec<MetaTuple> {
    metadata().iter().map(meta_tuple).collect()
}

/// "tracefs:<dir>" or "embedded": where the metadata table came from.
#[pyfunction]
pub fn metadata_source() -> String {
    match metadata().source() {
        MetadataSource::Embedded => "embedded".to_owned(),
        MetadataSource::Tracefs(dir) => format!("tracefs:{}", dir.display()),
    }
}

/// The metadata of a syscall by name ("read", "sys_read") or number; a
/// ValueError for a syscall the kernel has no trace event for.
#[pyfunction]
pub fn syscall_metadata(key: &Bound<'_, PyAny>) -> PyResult<MetaTuple> {
    let by_name = match key.cast::<PyString>() {
        Ok(name) => metadata().by_name(&name.to_cow()?),
        Err(_) => None,
    };
    let meta = match by_name {
        Some(meta) => meta,
        None => {
            let nr = syscall_arg(key)?;
            metadata()
                .syscall_nr_to_meta(nr)
                .ok_or_else(|| names::no_trace_event(nr))?
        }
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
    if let Some(meta) = metadata()
        .by_name(short)
        .filter(|m| m.short_name() == short)
    {
        return Ok((meta, phase));
    }
    Err(match names::resolve(short) {
        Ok(nr) => names::no_trace_event(nr).into(),
        Err(_) => PyValueError::new_err(format!(
            "no syscall event {event:?} in this kernel's metadata"
        )),
    })
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
pub fn define_fields(event: &str) -> PyResult<Vec<FieldTuple>> {
    let (meta, phase) = event_meta(event)?;
    Ok(field_tuples(event_class::define_fields(meta, phase)))
}

/// (type, name, offset, size, is_signed) of the fields every event starts with.
#[pyfunction]
pub fn common_fields() -> Vec<FieldTuple> {
    field_tuples(event_class::common_fields())
}

#[pyfunction]
pub fn print_fmt(event: &str) -> PyResult<String> {
    let (meta, phase) = event_meta(event)?;
    Ok(event_class::print_fmt(meta, phase))
}

/// The event's tracefs format text.
#[pyfunction]
pub fn event_format(event: &str) -> PyResult<String> {
    let (meta, phase) = event_meta(event)?;
    Ok(event_class::format(meta, phase, None))
}

/// The event's id: the running kernel's when known, else None.
#[pyfunction]
pub fn event_id(event: &str) -> PyResult<Option<u32>> {
    let (meta, phase) = event_meta(event)?;
    Ok(meta.event_id(phase))
}

/// What systrace holds in the kernel now, read back from the BPF maps.
#[pyfunction]
pub fn kernel_state(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    let state = py.detach(tracer::kernel_state);
    let dict = PyDict::new(py);
    dict.set_item("loaded", state.loaded)?;
    dict.set_item("enabled_enter", state.enabled_enter)?;
    dict.set_item("enabled_exit", state.enabled_exit)?;
    dict.set_item("attached_enter", state.attached_enter)?;
    dict.set_item("attached_exit", state.attached_exit)?;
    dict.set_item("attached_task_events", state.attached_task_events)?;
    dict.set_item("prog_ids", state.prog_ids)?;
    dict.set_item("sessions", state.sessions)?;
    dict.set_item("decode_errors", state.decode_errors)?;
    dict.set_item("records", state.records)?;
    dict.set_item("consumer_rounds", state.consumer_rounds)?;
    dict.set_item("consumer_tid", state.consumer_tid)?;
    dict.set_item("counted_pids", state.counted_pids)?;
    dict.set_item("filtered", state.filtered)?;
    dict.set_item("count_filtered", state.count_filtered)?;
    dict.set_item("hook_mode", state.hook_mode)?;
    dict.set_item("features", state.features)?;
    dict.set_item("capture_kinds", state.capture_kinds)?;
    dict.set_item("core_btf", state.core_btf)?;
    dict.set_item("kernel_tables", state.kernel_tables)?;
    dict.set_item("hook_switches", state.hook_switches)?;
    dict.set_item("event_hooks", state.event_hooks)?;
    dict.set_item("hooks_closing", state.hooks_closing)?;
    dict.set_item("hooks_closed", state.hooks_closed)?;
    dict.set_item("probe_waits", state.probe_waits)?;
    dict.set_item("handoff_unsure", state.handoff_unsure)?;
    dict.set_item("programs", state.programs)?;
    let steps: Vec<(String, f64)> = state
        .load_steps
        .into_iter()
        .map(|(what, took)| (what, took.as_secs_f64() * 1e3))
        .collect();
    dict.set_item("load_steps", steps)?;
    dict.set_item("filter_unheld", state.filter_unheld)?;
    dict.set_item("filter_grace_periods", state.filter_grace_periods)?;
    dict.set_item("entered_unmarked", state.entered_unmarked)?;
    dict.set_item("clock_sessions", state.clock_sessions)?;
    Ok(dict)
}
