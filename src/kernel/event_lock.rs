//! A lock between systrace processes around the kernel's syscall events.
//!
//! Closing the last perf event of a syscall event holds the kernel's
//! `event_mutex` for the tracepoint's grace periods (35-75 ms), and every
//! `perf_event_open()` of a tracepoint takes that mutex. A command started
//! while another one's child closes its hooks had each of its first
//! attaches wait behind a close, and the closer took the mutex again in
//! between. With this lock (`flock` on tracefs's `events/syscalls`, which
//! every systrace process can open), an attaching process waits for at most
//! the close under way: closers take it for one close at a time,
//! attachers for all their attaches. The waits are bounded: the lock only
//! orders our own processes, and a holder that is stuck must not stop the
//! others. Only the canonical tracefs mount is used (without it, no lock):
//! looking into debugfs's tracing directory would mount tracefs there, and
//! the child that closes the command's hooks cannot read the mount table.
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

/// The lock: held for attaches, and for each close.
const LOCK: &std::ffi::CStr = c"/sys/kernel/tracing/events/syscalls";
/// The attachers' gate: held shared by each process that attaches (or
/// waits to), taken for an instant by a closer before it takes the lock.
/// A closer thus never takes the lock while an attach waits for it: with
/// the lock alone, the children of several commands run back to back took
/// it in turns and an attach waited for its whole patience.
const GATE: &std::ffi::CStr = c"/sys/kernel/tracing/events/raw_syscalls";

/// How long an attach waits for the lock before going on without it.
pub const ATTACH_PATIENCE: Duration = Duration::from_secs(2);
/// How long a close waits for it.
pub const CLOSE_PATIENCE: Duration = Duration::from_secs(5);
const POLL: Duration = Duration::from_millis(1);

/// The lock (and, for an attach, the gate), held until dropped. Only raw
/// syscalls and no allocation: the child that closes the command's hooks
/// takes it too.
pub struct EventLock {
    lock: OwnedFd,
    gate: Option<OwnedFd>,
}

impl Drop for EventLock {
    /// Unlocks before the fds close: a child forked while the lock was held
    /// has a copy of the fd, and a flock lasts until the last copy is
    /// closed (a child that slept 30 s held it for 30 s).
    fn drop(&mut self) {
        unlock(&self.lock);
        if let Some(gate) = &self.gate {
            unlock(gate);
        }
    }
}

fn open_dir(dir: &std::ffi::CStr) -> Option<OwnedFd> {
    // SAFETY: a NUL-terminated path; a new fd or -1.
    let fd = unsafe {
        libc::open(
            dir.as_ptr(),
            libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
        )
    };
    // SAFETY: fd is new and ours.
    (fd >= 0).then(|| unsafe { OwnedFd::from_raw_fd(fd) })
}

fn try_flock(fd: &OwnedFd, how: libc::c_int) -> bool {
    // SAFETY: flock on our own fd.
    unsafe { libc::flock(fd.as_raw_fd(), how | libc::LOCK_NB) == 0 }
}

fn unlock(fd: &OwnedFd) {
    // SAFETY: flock on our own fd.
    unsafe { libc::flock(fd.as_raw_fd(), libc::LOCK_UN) };
}

/// Polls `attempt` until it holds or `patience` is over.
fn poll(patience: Duration, mut attempt: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + patience;
    loop {
        if attempt() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(POLL);
    }
}

impl EventLock {
    /// For attaches: the gate shared, then the lock. None when it could
    /// not be had in `ATTACH_PATIENCE` (or tracefs is not there): go on
    /// without it.
    pub fn for_attach() -> Option<EventLock> {
        let lock = open_dir(LOCK)?;
        let gate = open_dir(GATE)?;
        let deadline = Instant::now() + ATTACH_PATIENCE;
        if !poll(ATTACH_PATIENCE, || try_flock(&gate, libc::LOCK_SH)) {
            return None;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if poll(left, || try_flock(&lock, libc::LOCK_EX)) {
            return Some(EventLock {
                lock,
                gate: Some(gate),
            });
        }
        unlock(&gate);
        None
    }

    /// For one close: the lock, taken only while no attach waits for it
    /// (the gate is free). None after `CLOSE_PATIENCE`: close anyway.
    pub fn for_close() -> Option<EventLock> {
        let lock = open_dir(LOCK)?;
        let gate = open_dir(GATE)?;
        poll(CLOSE_PATIENCE, || {
            if !try_flock(&gate, libc::LOCK_EX) {
                return false;
            }
            let got = try_flock(&lock, libc::LOCK_EX);
            unlock(&gate);
            got
        })
        .then_some(EventLock { lock, gate: None })
    }
}
