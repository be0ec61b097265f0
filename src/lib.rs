//! systrace: the Linux kernel's syscall trace events, in user space.
//!
//! Each folder is one room of the architecture, and depends only on the
//! ones above it in this list:
//! * [`kernel`]: the BPF side seen from Rust: the record layout shared with
//!   `bpf/`, loading and attaching the programs, the consumer thread that
//!   drains the ring buffer, and the record decoder.
//! * [`metadata`]: the syscall metadata table (number, name, argument names
//!   and C types), syscall names, and the event classes (`define_fields`,
//!   `print_fmt`, the tracefs `format` text).
//! * [`trace`]: registration (refcounted enable/disable), the process-wide
//!   tracer behind one lock, sessions and their queues, captures.
//! * [`text`]: the kernel's trace text of an event; events as columns.
//! * [`strace`]: calls (enter and exit paired), as strace prints them.
//! * [`launch`]: the launcher of a traced command, held before its execve
//!   until the tracer is ready (the command's `-- CMD`, `systrace.run()`).
//! * [`record`]: recordings: events in Apache Parquet files, and back.
//! * [`process`]: what the extension does to its own process at import
//!   (its fd table grown, its relocations' pages given back).
//! * `python`: the thin PyO3 layer, the module `systrace._native`.
pub mod error;
pub mod filter;
pub mod kernel;
pub mod launch;
pub mod metadata;
pub mod process;
#[cfg(feature = "python")]
mod python;
pub mod record;
pub mod strace;
pub mod text;
pub mod trace;
