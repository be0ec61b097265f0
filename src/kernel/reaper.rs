//! Closing the per-syscall events' hooks in the background (and other
//! slow work that must stay off the consumer thread: see
//! [`Reaper::run_in_background`]).
//!
//! Closing the last perf event of a syscall event makes the kernel wait for
//! the tracepoint's grace periods (perf_trace_event_unreg() ->
//! tracepoint_synchronize_unregister(), 35-75 ms here), one close at a time
//! (under event_mutex, so closing on several threads does not help): a
//! session of 10 syscalls took 1.5 s to close. Hooks no longer wanted are
//! retired here instead. Their syscalls' enable bits are already off, so
//! their programs record nothing, and our thread closes them one by one.
//! Enabling the same event again takes its hook back: an event never has
//! two of our hooks at once, which would run the program twice per call.
//! Each close takes the lock of [`event_lock`](super::event_lock), so that
//! another process's attach waits for at most one close.
use std::collections::BTreeMap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;

use super::event_hook::{EventHook, HookFd};
use super::event_lock::EventLock;
use crate::error::{Error, Result};
use crate::trace::quiet::Quiet;

/// A retired hook: (phase index, syscall number).
pub type Key = (usize, u32);

/// Slow work for the thread, done before any closing.
pub type Job = Box<dyn FnOnce() + Send>;

#[derive(Default)]
struct State {
    jobs: Vec<Job>,
    retired: BTreeMap<Key, EventHook>,
    /// The hook being closed now (outside the lock), and its fd.
    closing: Option<(Key, HookFd)>,
    closed: u64,
    stop: bool,
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    changed: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

pub struct Reaper {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl Reaper {
    /// Starts the closing thread. Started with the programs, before any
    /// syscall of this process is enabled, so that its own start-up
    /// syscalls can be in no trace; after that it stays quiet.
    pub fn start() -> Result<Reaper> {
        let shared = Arc::new(Shared::default());
        let theirs = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("systrace-reaper".into())
            .spawn(move || run(&theirs))
            .map_err(|source| Error::Os {
                context: "starting systrace's hook-closing thread".into(),
                source,
            })?;
        Ok(Reaper {
            shared,
            thread: Some(thread),
        })
    }

    /// Runs `job` on the thread, which is never traced: slow work kept off
    /// both the caller's path and the consumer thread's, which must keep
    /// draining (reading the kernel's metadata from tracefs waits for
    /// event_mutex, which another process closing syscall events holds for
    /// tens of milliseconds per close).
    pub fn run_in_background(&self, job: Job) {
        self.shared.lock().jobs.push(job);
        self.shared.changed.notify_all();
    }

    /// Hands `link` over to be closed.
    pub fn retire(&self, key: Key, link: EventHook) {
        let mut state = self.shared.lock();
        state.retired.insert(key, link);
        self.shared.changed.notify_all();
    }

    /// Takes back the retired hooks of `keys` not yet being closed, all at
    /// once: taken one by one, each could be the very one the thread
    /// starts to close next.
    pub fn take_back(&self, keys: impl IntoIterator<Item = Key>) -> Vec<(Key, EventHook)> {
        let mut state = self.shared.lock();
        keys.into_iter()
            .filter_map(|key| state.retired.remove(&key).map(|link| (key, link)))
            .collect()
    }

    /// Waits until the hook of `key` is not being closed, so that a new
    /// hook may go on without the old one still running.
    pub fn wait_closed(&self, key: Key) {
        let mut state = self.shared.lock();
        while state.closing.is_some_and(|(k, _)| k == key) {
            state = self
                .shared
                .changed
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Whether the event of `key` still has a hook of ours (retired or
    /// being closed).
    pub fn holds(&self, key: Key) -> bool {
        let state = self.shared.lock();
        state.retired.contains_key(&key) || state.closing.is_some_and(|(k, _)| k == key)
    }

    /// Hooks waiting to be closed (or being closed), and hooks closed so far.
    pub fn counts(&self) -> (usize, u64) {
        let state = self.shared.lock();
        let pending = state.retired.len() + usize::from(state.closing.is_some());
        (pending, state.closed)
    }

    /// Taken by the thread that forks, across the fork (see
    /// `tracer::before_fork`): the closing thread never holds the state at
    /// a fork, so the child finds it whole (see [`ForkGuard::forget_in_child`]).
    pub fn lock_for_fork(&self) -> ForkGuard {
        let shared = Arc::clone(&self.shared);
        // SAFETY: the guard borrows the mutex in `shared`, which the
        // ForkGuard holds and drops after the guard (field order).
        let guard: MutexGuard<'static, State> = unsafe {
            std::mem::transmute::<MutexGuard<'_, State>, MutexGuard<'static, State>>(shared.lock())
        };
        ForkGuard {
            guard: Some(guard),
            _shared: shared,
        }
    }

    /// In a forked child, which has no closing thread (its hooks' copies
    /// were closed by [`ForkGuard::forget_in_child`]).
    pub fn forget_in_child(mut self) {
        self.thread = None;
        std::mem::forget(self);
    }
}

/// The closing thread's state, held across a fork.
pub struct ForkGuard {
    guard: Option<MutexGuard<'static, State>>,
    _shared: Arc<Shared>,
}

impl ForkGuard {
    /// In the child: closes its copies of the retired hooks' fds (quick:
    /// the parent still holds the events), and of the hook the parent's
    /// thread was closing at the fork if the child has it: else the child
    /// would keep the parent's hooks attached for as long as it lives.
    pub fn forget_in_child(mut self) {
        if let Some(mut state) = self.guard.take() {
            state.retired.clear();
            if let Some((_, fd)) = state.closing.take() {
                fd.close_in_child();
            }
        }
    }
}

impl Drop for Reaper {
    fn drop(&mut self) {
        self.shared.lock().stop = true;
        self.shared.changed.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn run(shared: &Shared) {
    // For the thread's whole life: every syscall it makes is systrace's.
    let _quiet = Quiet::enter();
    let mut state = shared.lock();
    loop {
        if !state.jobs.is_empty() {
            let job = state.jobs.remove(0);
            drop(state);
            job();
            state = shared.lock();
            continue;
        }
        if let Some((key, link)) = state.retired.pop_first() {
            state.closing = Some((key, link.fd()));
            drop(state);
            let lock = EventLock::for_close();
            drop(link);
            drop(lock);
            state = shared.lock();
            state.closing = None;
            state.closed += 1;
            shared.changed.notify_all();
        } else if state.stop {
            return;
        } else {
            state = shared
                .changed
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }
}

/// For a process about to exit (the command, when its run is over): the
/// kernel closes what is left of our per-syscall hooks in the exiting
/// task, one grace period each, and the process is not reaped before that
/// (`systrace -e trace=openat -- true` took 0.8 s to exit). Instead a child
/// holds copies of the hooks' fds, so that ours are not the last, and
/// closes them once we are gone, one at a time under the lock of
/// [`event_lock`](super::event_lock): our exit is quick, and the closes
/// happen in the background. The child closes every other fd at once: a pipe on
/// our output reaches its end when we exit (`$(systrace -- date)` waited
/// for the hooks' closes when the child shared our fd table). Returns
/// whether the child was made.
pub fn close_hooks_after_exit() -> bool {
    // SAFETY: getpid and pidfd_open have no preconditions.
    let parent = unsafe { libc::getpid() };
    let pidfd = unsafe { libc::syscall(libc::SYS_pidfd_open, parent, 0) } as libc::c_int;
    // SAFETY: a fork (raw clone: no fork handlers run, for a child that
    // runs only the async-signal-safe code below and never returns).
    let pid = unsafe {
        libc::syscall(
            libc::SYS_clone,
            libc::SIGCHLD as libc::c_ulong,
            0usize,
            0usize,
            0usize,
            0usize,
        )
    };
    if pid == 0 {
        // SAFETY: raw syscalls on our own fds and stack buffers, in the child.
        unsafe {
            close_fds(
                |target| !is_hook(target),
                pidfd,
                |fd| {
                    libc::close(fd);
                },
            );
            // A pidfd is readable once the whole process has exited;
            // without one, the child is reparented then.
            if pidfd >= 0 {
                let mut fds = libc::pollfd {
                    fd: pidfd,
                    events: libc::POLLIN,
                    revents: 0,
                };
                while libc::poll(&mut fds, 1, -1) < 0 {}
            } else {
                while libc::getppid() == parent {
                    libc::usleep(10_000);
                }
            }
            close_fds(
                |_| true,
                -1,
                |fd| {
                    let lock = EventLock::for_close();
                    libc::close(fd);
                    drop(lock);
                },
            );
            libc::_exit(0);
        }
    }
    if pidfd >= 0 {
        // SAFETY: our own fd, made above.
        unsafe { libc::close(pidfd) };
    }
    pid > 0
}

/// What an fd of a per-syscall hook links to: the perf event that holds the
/// kernel's event, and the BPF link on it.
fn is_hook(target: &[u8]) -> bool {
    target == b"anon_inode:[perf_event]" || target == b"anon_inode:bpf_link"
}

/// Closes (with `close`) this process's fds whose link target `pick`
/// picks, but `keep`. Only raw syscalls on stack buffers: it runs in a
/// forked child of a threaded process.
unsafe fn close_fds(pick: impl Fn(&[u8]) -> bool, keep: libc::c_int, close: impl Fn(libc::c_int)) {
    let dir = libc::open(
        c"/proc/self/fd".as_ptr(),
        libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
    );
    if dir < 0 {
        return;
    }
    // The fds first, then the closes: the directory is not read while it
    // changes. Past 1024 fds, another round.
    loop {
        let mut fds = [0 as libc::c_int; 1024];
        let mut n = 0;
        let mut buf = [0u8; 4096];
        libc::lseek(dir, 0, libc::SEEK_SET);
        'read: loop {
            let len = libc::syscall(libc::SYS_getdents64, dir, buf.as_mut_ptr(), buf.len());
            if len <= 0 {
                break;
            }
            let mut at = 0usize;
            while at < len as usize {
                // struct linux_dirent64: ino u64, off i64, reclen u16, type u8, name.
                let reclen = u16::from_ne_bytes([buf[at + 16], buf[at + 17]]) as usize;
                let name = &buf[at + 19..at + reclen];
                let name = &name[..name.iter().position(|&b| b == 0).unwrap_or(name.len())];
                at += reclen;
                let Some(fd) = parse_fd(name) else { continue };
                if fd == dir || fd == keep {
                    continue;
                }
                let mut target = [0u8; 64];
                // name ends with the NUL that follows it in buf.
                let got = libc::readlinkat(
                    dir,
                    name.as_ptr().cast(),
                    target.as_mut_ptr().cast(),
                    target.len(),
                );
                let target = &target[..got.max(0) as usize];
                if got >= 0 && pick(target) {
                    fds[n] = fd;
                    n += 1;
                    if n == fds.len() {
                        break 'read;
                    }
                }
            }
        }
        for &fd in &fds[..n] {
            close(fd);
        }
        if n < fds.len() {
            break;
        }
    }
    libc::close(dir);
}

fn parse_fd(name: &[u8]) -> Option<libc::c_int> {
    if name.is_empty() || name.len() > 9 || !name.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(
        name.iter()
            .fold(0, |n, &d| n * 10 + libc::c_int::from(d - b'0')),
    )
}
