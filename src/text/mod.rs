//! Events as text and as columns, for people and for data tools.
//!
//! * [`kernel`]: the kernel's own trace text of an event
//!   (`sys_read(fd: 3, buf: 0x7ffd..., count: 0x400)`).
//! * [`columns`]: a batch of events as one array per field.
pub mod columns;
pub mod kernel;
