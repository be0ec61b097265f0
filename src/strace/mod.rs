//! strace-class decoding: errno names, flag and constant names, and the
//! strace text of a call. Pure functions over decoded events.
#[cfg(feature = "python")]
pub mod python;
