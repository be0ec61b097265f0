//! A per-syscall event's hook as one fd: a perf event of the kernel's
//! `syscalls/sys_enter_X` (or `sys_exit_X`) event, with a BPF link of our
//! program on it. libbpf's hook keeps the perf event's fd beside the link's
//! and closes the two one after the other; ours closes the perf event's fd
//! as soon as the link holds the event, so that a hook is always one fd,
//! handed as one to the threads that hold hooks (see
//! [`Reaper`](super::reaper::Reaper)).
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use libbpf_rs::libbpf_sys;

use crate::error::{Error, Result};

pub struct EventHook {
    link: OwnedFd,
}

impl EventHook {
    /// Attaches `prog` to the syscall event `event` ("sys_enter_read").
    pub fn attach(prog: BorrowedFd<'_>, event: &str) -> Result<EventHook> {
        let context = || format!("attaching to syscalls/{event}");
        let id = tracepoint_id(event).map_err(|e| Error::Os {
            context: format!("{}: its id in tracefs", context()),
            source: e,
        })?;
        // SAFETY: perf_event_attr is plain C data, zero is its default.
        let mut attr: libbpf_sys::perf_event_attr = unsafe { std::mem::zeroed() };
        attr.type_ = libbpf_sys::PERF_TYPE_TRACEPOINT;
        attr.size = std::mem::size_of::<libbpf_sys::perf_event_attr>() as u32;
        attr.config = id;
        // Every process (pid -1), counted on CPU 0: the program runs on
        // every CPU, as libbpf's tracepoint attach does.
        // SAFETY: a valid attr for the call's lifetime; returns a new fd.
        let pfd = unsafe {
            libc::syscall(
                libc::SYS_perf_event_open,
                &attr as *const libbpf_sys::perf_event_attr,
                -1,
                0,
                -1,
                libbpf_sys::PERF_FLAG_FD_CLOEXEC,
            )
        } as RawFd;
        if pfd < 0 {
            return Err(os_error(&context(), "perf_event_open"));
        }
        // SAFETY: pfd is new and ours; closed when this goes out of scope,
        // once the link holds the event.
        let perf = unsafe { OwnedFd::from_raw_fd(pfd) };
        // SAFETY: plain fds; a null opts is allowed.
        let fd = unsafe {
            libbpf_sys::bpf_link_create(
                prog.as_raw_fd(),
                perf.as_raw_fd(),
                libbpf_sys::BPF_PERF_EVENT,
                std::ptr::null(),
            )
        };
        if fd < 0 {
            return Err(os_error(&context(), "linking the program"));
        }
        // SAFETY: fd is the new link, owned from here on.
        let link = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(EventHook { link })
    }
}

impl AsRawFd for EventHook {
    fn as_raw_fd(&self) -> RawFd {
        self.link.as_raw_fd()
    }
}

/// The perf event id of `event`, read from tracefs where it is mounted
/// (the metadata's rule: looking into debugfs's tracing directory would
/// mount it). The mounts are read once per process, as libbpf does.
fn tracepoint_id(event: &str) -> std::io::Result<u64> {
    static MOUNTS: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
    let mut last = None;
    for dir in MOUNTS.get_or_init(crate::metadata::tracefs_mounts) {
        match std::fs::read_to_string(format!("{dir}/events/syscalls/{event}/id")) {
            Ok(text) => {
                return text.trim().parse().map_err(|_| {
                    std::io::Error::new(std::io::ErrorKind::InvalidData, "not a number")
                })
            }
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::NotFound, "tracefs is not mounted")
    }))
}

/// The error of the last syscall, as libbpf's would say it.
fn os_error(context: &str, what: &str) -> Error {
    let err = std::io::Error::last_os_error();
    Error::bpf(
        &format!("{context}: {what}"),
        libbpf_rs::Error::from(err),
        "",
    )
}
