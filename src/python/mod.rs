//! The thin PyO3 layer: the module `systrace._native`. It converts
//! arguments into owned Rust data (`args`), releases the GIL for anything
//! that waits, and hands events to Python in batches. One file per exposed
//! class; every exception in `errors`. The public API is `python/systrace/`,
//! which re-exports these classes under the same names.
mod args;
mod batches;
mod call;
mod count;
mod errors;
mod event;
mod launch;
mod metadata;
mod record;
mod session;
mod strace;
mod syscall_set;

use pyo3::prelude::*;

#[pymodule]
mod _native {
    /// The fork handlers go in before any lock of systrace is taken (the
    /// metadata's too): a fork at any moment is then safe.
    #[pymodule_init]
    fn init() {
        crate::trace::tracer::install_fork_handlers();
        // Before any thread of ours: see reserve_fd_table.
        crate::process::reserve_fd_table();
        crate::process::release_relocations();
    }

    #[pymodule_export]
    use super::batches::{BatchIter, EventIter};
    #[pymodule_export]
    use super::call::{call_columns, calls_of, CallIter, PyCall, PyPairer};
    #[pymodule_export]
    use super::count::SyscallCount;
    #[pymodule_export]
    use super::errors::{LostEventsWarning, SessionClosedError, UnsupportedKernelError};
    #[pymodule_export]
    use super::event::{EventBatch, EventBatchIter, PyEvent};
    #[pymodule_export]
    use super::launch::{
        capture_unabbreviated, close_hooks_after_exit, keep_up_thread, limit_malloc_arenas,
        start_loading, PyLaunch,
    };
    #[pymodule_export]
    use super::metadata::{
        common_fields, define_fields, event_format, event_id, kernel_state, metadata_source,
        metadata_table, print_fmt, syscall_metadata, syscall_name, syscall_names, syscall_nr,
    };
    #[pymodule_export]
    use super::record::{Recording, TraceBatchIter, TraceFile, TraceWriter};
    #[pymodule_export]
    use super::session::{preload, Session};
    #[pymodule_export]
    use super::strace::{
        class_names, class_syscalls, decode_sockaddr, errno_message, errno_name, errno_of,
        fd_syscalls, format_duration, format_error, format_summary, signal_name, signal_set,
        status_classes, syscall_classes, PyPrinter,
    };
    #[pymodule_export]
    use super::syscall_set::PySyscallSet;

    #[pymodule_export]
    const DEFAULT_BUFFER_SIZE: usize = crate::trace::tracer::DEFAULT_BUFFER_SIZE;
    #[pymodule_export]
    const NR_SYSCALLS: usize = crate::kernel::layout::NR_SYSCALLS;
    #[pymodule_export]
    const MAX_ARGS: usize = crate::kernel::layout::MAX_ARGS;
    #[pymodule_export]
    const MAX_CAPTURE: u32 = crate::kernel::layout::MAX_CAPTURE;
    #[pymodule_export]
    const PHASE_ENTER: u8 = crate::kernel::layout::PHASE_ENTER;
    #[pymodule_export]
    const PHASE_EXIT: u8 = crate::kernel::layout::PHASE_EXIT;
    #[pymodule_export]
    const PHASE_SIGNAL: u8 = crate::kernel::layout::PHASE_SIGNAL;
    #[pymodule_export]
    const PHASE_TASK_EXIT: u8 = crate::kernel::layout::PHASE_TASK_EXIT;
    #[pymodule_export]
    const DEFAULT_STRING_SIZE: usize = crate::strace::DEFAULT_STRING_SIZE;
    #[pymodule_export]
    const DEFAULT_COLUMN: usize = crate::strace::DEFAULT_COLUMN;
    #[pymodule_export]
    const ARCH: &str = std::env::consts::ARCH;
    /// The package's version: Cargo's, which maturin gives the wheel too.
    #[pymodule_export]
    const VERSION: &str = env!("CARGO_PKG_VERSION");
}
