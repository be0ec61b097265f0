//! systrace's errors: one enum for the whole core. The Python module maps
//! each kind to one Python exception type (src/python.rs), so the kind of a
//! failure is never lost on the way.
use std::fmt;
use std::io;

#[derive(Debug)]
pub enum Error {
    /// A syscall name or number this architecture does not have.
    UnknownSyscall {
        name: String,
        suggestions: Vec<String>,
    },
    /// A bad argument: a size, a pid, an option.
    InvalidArgument(String),
    /// The kernel refused for lack of privileges.
    PermissionDenied(String),
    /// The kernel cannot run systrace: no BPF, no BTF, no ring buffer...
    Unsupported(String),
    /// A pid that names no process.
    NoSuchProcess(u32),
    /// Any other failure of a system call.
    Os { context: String, source: io::Error },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The privileges the kernel asks for; said in every PermissionDenied.
pub const PRIVILEGES: &str =
    "tracing syscalls needs root, or CAP_BPF with CAP_PERFMON (kernel.perf_event_paranoid permitting)";

/// "; this process lacks CAP_BPF" and the like, read from the effective
/// capabilities in /proc/self/status; empty when they cannot be read.
fn missing_capabilities() -> String {
    const CAP_PERFMON: u32 = 38;
    const CAP_BPF: u32 = 39;
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return String::new();
    };
    let Some(eff) = status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
    else {
        return String::new();
    };
    let missing: Vec<&str> = [(CAP_BPF, "CAP_BPF"), (CAP_PERFMON, "CAP_PERFMON")]
        .into_iter()
        .filter(|(bit, _)| eff & (1 << bit) == 0)
        .map(|(_, name)| name)
        .collect();
    if missing.is_empty() {
        String::new()
    } else {
        format!("; this process lacks {}", missing.join(" and "))
    }
}

impl Error {
    pub fn os(context: impl Into<String>, source: io::Error) -> Self {
        let context = context.into();
        match source.kind() {
            io::ErrorKind::PermissionDenied => Error::PermissionDenied(format!(
                "{context}: {source}; {PRIVILEGES}{}",
                missing_capabilities()
            )),
            _ => Error::Os { context, source },
        }
    }

    /// A failure of libbpf; `log` is what libbpf said while it happened.
    pub fn bpf(context: &str, err: libbpf_rs::Error, log: &str) -> Self {
        let errno = err.kind();
        let detail = if log.is_empty() {
            String::new()
        } else {
            format!("\nlibbpf said:\n{log}")
        };
        use libbpf_rs::ErrorKind as K;
        match errno {
            K::PermissionDenied => Error::PermissionDenied(format!(
                "{context}: {err}; {PRIVILEGES}{}{detail}",
                missing_capabilities()
            )),
            K::Unsupported | K::NotFound => Error::Unsupported(format!(
                "{context}: {err}: this kernel lacks a BPF feature systrace needs \
                 (BTF-typed raw tracepoints, BPF ring buffers: Linux 5.8 or later with \
                 CONFIG_DEBUG_INFO_BTF){detail}"
            )),
            _ => Error::Os {
                context: format!("{context}{detail}"),
                source: io::Error::other(err.to_string()),
            },
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::UnknownSyscall { name, suggestions } => {
                write!(f, "unknown syscall '{name}' on {}", std::env::consts::ARCH)?;
                if !suggestions.is_empty() {
                    write!(f, "; did you mean {}?", suggestions.join(", "))?;
                }
                Ok(())
            }
            Error::InvalidArgument(msg)
            | Error::PermissionDenied(msg)
            | Error::Unsupported(msg) => f.write_str(msg),
            Error::NoSuchProcess(pid) => write!(f, "no process with pid {pid}"),
            Error::Os { context, source } => write!(f, "{context}: {source}"),
        }
    }
}

impl std::error::Error for Error {}
