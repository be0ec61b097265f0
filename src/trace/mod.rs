//! The tracer core: who enables what, and who receives which events.
//!
//! * [`registry`]: refcounted registration, as the kernel's
//!   reg_event_syscall_enter()/unreg_event_syscall_enter().
//! * [`tracer`]: the process-wide programs, registry and consumer behind
//!   one lock (`syscall_trace_lock`).
//! * [`session`]: one user's registration and events; [`queue`] is where
//!   the consumer thread delivers them.
//! * [`capture`]: which user memory each syscall's records carry.
pub mod capture;
pub mod filtering;
pub mod filters;
pub mod queue;
pub mod quiet;
pub mod registry;
pub mod session;
pub mod store;
pub mod tracer;

pub use registry::{ProcessFilter, Registration};
pub use session::Session;
