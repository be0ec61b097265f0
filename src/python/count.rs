//! `systrace.SyscallCount`: one syscall's calls counted in the kernel by a
//! counting session (`Session.counts()`).
use pyo3::prelude::*;

use crate::metadata::display_name;

/// One syscall's calls, counted in the kernel by a counting session.
#[pyclass(module = "systrace", name = "SyscallCount", frozen, get_all)]
pub struct SyscallCount {
    /// The syscall's name and number.
    name: String,
    nr: u32,
    /// The process, when counted per process; else None.
    pid: Option<u32>,
    calls: u64,
    /// Calls that failed, and how many of each errno ("ENOENT": 3).
    errors: u64,
    errnos: std::collections::BTreeMap<String, u64>,
    /// Nanoseconds in the calls, enter to exit.
    time_ns: u64,
    /// Of those, the nanoseconds the calls' threads ran (on a CPU, in the
    /// kernel): strace -c's time, where time_ns is its -w.
    system_ns: u64,
    /// Calls by duration: histogram[i] counts calls of 2**i to 2**(i+1) ns.
    histogram: Vec<u64>,
}

impl From<crate::trace::session::SyscallCount> for SyscallCount {
    fn from(c: crate::trace::session::SyscallCount) -> Self {
        SyscallCount {
            name: display_name(c.nr).into_owned(),
            nr: c.nr,
            pid: c.pid,
            calls: c.calls,
            errors: c.errors,
            errnos: c
                .errnos
                .into_iter()
                .map(|(e, n)| {
                    let name = crate::strace::errno::errno_name(e)
                        .map_or_else(|| e.to_string(), str::to_owned);
                    (name, n)
                })
                .collect(),
            time_ns: c.time_ns,
            system_ns: c.system_ns,
            histogram: c.histogram,
        }
    }
}

#[pymethods]
impl SyscallCount {
    fn __repr__(&self) -> String {
        let pid = self.pid.map_or_else(String::new, |p| format!(" pid={p}"));
        format!(
            "<SyscallCount {}{pid} calls={} errors={} time_ns={} system_ns={}>",
            self.name, self.calls, self.errors, self.time_ns, self.system_ns
        )
    }

    /// The latency histogram as bpftrace's hist() prints it: `@ns[NAME]:`
    /// (`@ns[NAME, PID]:` per process), then a `[lo, hi)` row per bucket
    /// (ns; K, M, G are powers of 1024) with its count and a bar of @.
    fn histogram_text(&self) -> String {
        crate::strace::histogram::format_named_histogram(&self.name, self.pid, &self.histogram)
    }
}
