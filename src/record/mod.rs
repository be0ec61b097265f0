//! Recordings: events in an Apache Parquet file that any Parquet reader
//! (pyarrow, polars, DuckDB, Spark...) reads without systrace, and that
//! systrace reads back into `Event`s.
//!
//! One row per event, with the columns of `systrace.to_arrow()` (see
//! [`schema`]) and a `captured` column: the event's capture items. The file's
//! key-value metadata says what made it ([`keys`]): the kernel, the
//! architecture, systrace's version, the session's syscalls and processes,
//! and what was lost.
//!
//! * [`writer`]: events in, row groups out as batches arrive (the memory a
//!   recording holds is bounded by the row group, however long it runs).
//! * [`reader`]: a recording's rows back into events, a row group at a time.
pub mod reader;
pub mod schema;
pub mod writer;

use std::fmt;
use std::io;

pub use reader::Reader;
pub use writer::Writer;

/// The value of [`keys::FORMAT`]: what a reader checks to know the file is a
/// systrace recording, and which layout of its columns it has.
pub const FORMAT: &str = "systrace-events/1";

/// The file's key-value metadata keys.
pub mod keys {
    /// [`super::FORMAT`]: the file is a systrace recording.
    pub const FORMAT: &str = "systrace.format";
    /// systrace's version that wrote it.
    pub const VERSION: &str = "systrace.version";
    /// `uname -r` of the machine it was recorded on.
    pub const KERNEL: &str = "systrace.kernel";
    /// The architecture whose syscall numbers `nr` holds (x86_64, aarch64).
    pub const ARCH: &str = "systrace.arch";
    /// The machine's host name.
    pub const HOST: &str = "systrace.host";
    /// The clock of `timestamp_ns`: CLOCK_MONOTONIC.
    pub const CLOCK: &str = "systrace.clock";
    /// CLOCK_REALTIME minus CLOCK_MONOTONIC in ns when the recording began:
    /// `timestamp_ns` plus this is nanoseconds since the epoch.
    pub const REALTIME_OFFSET: &str = "systrace.realtime_offset_ns";
    /// Rows written.
    pub const EVENTS: &str = "systrace.events";
    /// Events of the session's syscalls and processes that were lost (ring
    /// buffer full, the session's backlog bound, or a failed write).
    pub const DROPPED: &str = "systrace.dropped";
}

#[derive(Debug)]
pub enum RecordError {
    /// Opening, writing or renaming the file.
    Io { context: String, source: io::Error },
    /// The Parquet library failed (a corrupt file, or a write it refused).
    Parquet { context: String, message: String },
    /// A readable file that is not a systrace recording (or not one this
    /// version reads).
    NotARecording { path: String, reason: String },
    /// A recording of another architecture: its `nr` are that
    /// architecture's syscall numbers.
    ForeignArch { path: String, arch: String },
}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // The system's message, without io::Error's "(os error N)".
            RecordError::Io { context, source } => {
                let text = source.to_string();
                let text = text.split(" (os error").next().unwrap_or(&text);
                write!(f, "{context}: {text}")
            }
            RecordError::Parquet { context, message } => write!(f, "{context}: {message}"),
            RecordError::NotARecording { path, reason } => {
                write!(f, "{path} is not a systrace recording: {reason}")
            }
            RecordError::ForeignArch { path, arch } => write!(
                f,
                "{path} was recorded on {arch}, and this machine is {}: systrace reads \
                 recordings of its own architecture (any Parquet reader reads the file, \
                 whose name column holds the syscalls' names)",
                std::env::consts::ARCH
            ),
        }
    }
}

impl std::error::Error for RecordError {}

pub type Result<T, E = RecordError> = std::result::Result<T, E>;

impl RecordError {
    fn io(context: impl Into<String>, source: io::Error) -> Self {
        RecordError::Io {
            context: context.into(),
            source,
        }
    }

    /// The same error, its message followed by `note`.
    pub fn with_note(self, note: String) -> Self {
        match self {
            RecordError::Io { context, source } => RecordError::Io {
                context: format!("{context} ({note})"),
                source,
            },
            RecordError::Parquet { context, message } => RecordError::Parquet {
                context,
                message: format!("{message}; {note}"),
            },
            RecordError::NotARecording { path, reason } => RecordError::NotARecording {
                path,
                reason: format!("{reason}; {note}"),
            },
            RecordError::ForeignArch { .. } => self,
        }
    }

    fn parquet(context: impl Into<String>, err: impl fmt::Display) -> Self {
        RecordError::Parquet {
            context: context.into(),
            message: err.to_string(),
        }
    }
}

/// `uname -r` and the host name of this machine.
pub fn uname() -> (String, String) {
    // SAFETY: uname fills the struct we pass; it is zeroed, so its fields
    // are NUL-terminated even if the kernel wrote nothing.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    if unsafe { libc::uname(&mut u) } != 0 {
        return (String::new(), String::new());
    }
    let field = |f: &[libc::c_char]| {
        let bytes: Vec<u8> = f
            .iter()
            .take_while(|&&c| c != 0)
            .map(|&c| c as u8)
            .collect();
        String::from_utf8_lossy(&bytes).into_owned()
    };
    (field(&u.release), field(&u.nodename))
}

/// CLOCK_REALTIME minus CLOCK_MONOTONIC, in ns.
pub fn realtime_offset_ns() -> i64 {
    let now = |clock| {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: clock_gettime writes the timespec we pass and nothing else.
        unsafe { libc::clock_gettime(clock, &mut ts) };
        ts.tv_sec * 1_000_000_000 + ts.tv_nsec
    };
    now(libc::CLOCK_REALTIME) - now(libc::CLOCK_MONOTONIC)
}
