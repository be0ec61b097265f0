//! systrace: the Linux kernel's syscall trace events, in user space.
//!
//! Layout: `bpf` loads bpf/systrace.bpf.c and writes its maps; `layout` is
//! the record format of bpf/systrace.h as Rust sees it; `register` is the
//! refcounted enable/disable; `consumer` drains the ring buffer; `session`
//! and `tracer` give each user its events; `metadata` is the syscall
//! metadata table and the event classes; `format` prints events as the
//! kernel does; `python` is the thin PyO3 layer.
pub mod bpf;
pub mod capture;
pub mod columns;
pub mod consumer;
pub mod decode;
pub mod error;
pub mod format;
pub mod layout;
pub mod metadata;
pub mod names;
#[cfg(feature = "python")]
pub(crate) mod python;
pub mod register;
pub mod session;
pub mod strace;
pub mod tracer;
