//! The per-syscall events' hooks, held in an fd table of our own and
//! closed in the background.
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
//!
//! **The hooks are not in the process's fd table.** Our two threads
//! ("systrace-hooks", which receives the hooks, and "systrace-reaper",
//! which closes them) have a table of their own (`unshare(CLONE_FILES)`),
//! and a hook is copied into it (`pidfd_getfd()` from the process's table)
//! as soon as it is attached, its copy in the process's table closed then.
//! (A copy, not a message over a socket pair: the pair was one more unix
//! socket in what `ss -x` lists.) A `fork()` of any other thread copies
//! the process's table, so a child never has a hook: before, each child
//! had to close its copies, and whichever of it and our closing thread
//! closed a hook last waited for the grace period.
//! A child forked while 80 hooks were being closed sat 4 s in its fork
//! handler. Our fd numbers mean nothing in the process's table: they are
//! plain numbers ([`TableFd`]), closed only by our threads.
use std::collections::BTreeMap;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::event_hook::EventHook;
use super::event_lock::EventLock;
use crate::error::{Error, Result};
use crate::trace::quiet::Quiet;

/// A hook: (phase index, syscall number).
pub type Key = (usize, u32);

/// Slow work for the closing thread, done before any closing. It returns
/// None when done, or how long to wait before it runs again (it found busy
/// a lock it must not wait for); a stopping thread runs it only once.
pub type Job = Box<dyn FnMut() -> Option<Duration> + Send>;

/// How long a retired hook waits before it is closed. A session opened
/// right after the last one closed (a loop of `with systrace.enable(...)`)
/// then takes the same hooks back at once; before, its attach waited for
/// the close under way (event_mutex, a grace period), and the close of the
/// session waited behind the closes for its own wait for probes. Meanwhile
/// the hooks cost their syscalls' calls a program that returns at once.
const LINGER: Duration = Duration::from_millis(250);
/// How long a request waits for the receiving thread's answer (it answers
/// at once: it only installs fds, or forks).
const ANSWER_PATIENCE: Duration = Duration::from_secs(5);

/// A hook's fd number in our threads' table. Not an OwnedFd: dropped by
/// any other thread, it would close that number in the process's table.
#[derive(Clone, Copy, Debug)]
struct TableFd(RawFd);

/// What the receiving thread is asked.
enum Request {
    /// Copy these fds of the process's table into ours, as these hooks.
    Hold(Vec<(Key, RawFd)>),
    /// Fork the child of [`close_hooks_after_exit`].
    ExitChild,
}

#[derive(Default)]
struct State {
    /// The request waiting for the receiving thread.
    request: Option<Request>,
    /// Jobs, each with when it is due.
    jobs: Vec<(Instant, Job)>,
    /// Hooks in use.
    live: BTreeMap<Key, TableFd>,
    /// Hooks to close, and when each was retired.
    retired: BTreeMap<Key, (TableFd, Instant)>,
    /// The hook being closed now (outside the lock).
    closing: Option<Key>,
    closed: u64,
    /// Requests the receiving thread answered, and its last answer.
    answered: u64,
    answer: Option<std::result::Result<bool, String>>,
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

    fn answer(&self, answer: std::result::Result<bool, String>) {
        let mut state = self.lock();
        state.answered += 1;
        state.answer = Some(answer);
        self.changed.notify_all();
    }
}

pub struct Reaper {
    /// The process that started the threads: only it may end them.
    pid: u32,
    shared: Arc<Shared>,
    /// One request at a time.
    asking: Mutex<()>,
    /// The receiving thread, which joins the closing thread when it ends.
    thread: Option<JoinHandle<()>>,
}

impl Reaper {
    /// Starts the two threads. Started with the programs, before any
    /// syscall of this process is enabled, so that their own start-up
    /// syscalls can be in no trace; after that they stay quiet.
    pub fn start() -> Result<Reaper> {
        let os = |context: &str, source| Error::Os {
            context: context.into(),
            source,
        };
        let shared = Arc::new(Shared::default());
        let (ready, started) = std::sync::mpsc::channel();
        let their_shared = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("systrace-hooks".into())
            .spawn(move || receive(their_shared, ready))
            .map_err(|e| os("starting systrace's hook threads", e))?;
        match started.recv() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                let _ = thread.join();
                return Err(os("giving systrace's hook threads their own fd table", e));
            }
            Err(_) => {
                let _ = thread.join();
                return Err(Error::Os {
                    context: "starting systrace's hook threads".into(),
                    source: std::io::Error::other("the thread ended at its start"),
                });
            }
        }
        Ok(Reaper {
            pid: crate::trace::tracer::getpid(),
            shared,
            asking: Mutex::new(()),
            thread: Some(thread),
        })
    }

    /// Runs `job` on the closing thread, which is never traced: slow work
    /// kept off both the caller's path and the consumer thread's, which
    /// must keep draining (reading the kernel's metadata from tracefs waits
    /// for event_mutex, which another process closing syscall events holds
    /// for tens of milliseconds per close). The job runs in our threads' fd
    /// table: it must not leave fds for the rest of the process. It runs
    /// `after` from now (at once if the thread is stopping); the thread
    /// goes on closing hooks meanwhile.
    pub fn run_in_background(&self, after: Duration, job: Job) {
        self.shared.lock().jobs.push((Instant::now() + after, job));
        self.shared.changed.notify_all();
    }

    /// Hands new hooks over to our threads' table, and closes their copies
    /// in the process's table (at no cost: ours hold the events). Returns
    /// the keys of the hooks held, all of them unless there is an error
    /// (the hooks not held are closed here).
    pub fn hold(&self, hooks: Vec<(Key, EventHook)>) -> (Vec<Key>, Result<()>) {
        if hooks.is_empty() {
            return (Vec::new(), Ok(()));
        }
        let fds = hooks
            .iter()
            .map(|(key, hook)| (*key, hook.as_raw_fd()))
            .collect();
        // The hooks stay open here until the answer: their fds are copied
        // from this table.
        match self.request(Request::Hold(fds)) {
            Ok(_) => (hooks.iter().map(|&(key, _)| key).collect(), Ok(())),
            Err(err) => (Vec::new(), Err(err)),
        }
    }

    /// Retires the hook of `key`: it is closed in the background.
    pub fn retire(&self, key: Key) {
        let mut state = self.shared.lock();
        if let Some(fd) = state.live.remove(&key) {
            state.retired.insert(key, (fd, Instant::now()));
            self.shared.changed.notify_all();
        }
    }

    /// Takes back the retired hooks of `keys` not yet being closed, all at
    /// once: taken one by one, each could be the very one the thread
    /// starts to close next. Returns the keys taken back.
    pub fn take_back(&self, keys: impl IntoIterator<Item = Key>) -> Vec<Key> {
        let mut state = self.shared.lock();
        let mut back = Vec::new();
        for key in keys {
            if let Some((fd, _)) = state.retired.remove(&key) {
                state.live.insert(key, fd);
                back.push(key);
            }
        }
        back
    }

    /// Waits until the hook of `key` is not being closed, so that a new
    /// hook may go on without the old one still running.
    pub fn wait_closed(&self, key: Key) {
        let mut state = self.shared.lock();
        while state.closing == Some(key) {
            state = self
                .shared
                .changed
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Whether the event of `key` has a hook of ours (in use, retired or
    /// being closed).
    pub fn holds(&self, key: Key) -> bool {
        let state = self.shared.lock();
        state.live.contains_key(&key)
            || state.retired.contains_key(&key)
            || state.closing == Some(key)
    }

    /// Hooks waiting to be closed (or being closed), and hooks closed so far.
    pub fn counts(&self) -> (usize, u64) {
        let state = self.shared.lock();
        let pending = state.retired.len() + usize::from(state.closing.is_some());
        (pending, state.closed)
    }

    /// See [`close_hooks_after_exit`]: forked by the receiving thread, so
    /// that the child has our threads' table.
    pub fn close_hooks_after_exit(&self) -> bool {
        self.request(Request::ExitChild).unwrap_or(false)
    }

    /// Asks the receiving thread and waits for its answer.
    fn request(&self, request: Request) -> Result<bool> {
        let _asking = self.asking.lock().unwrap_or_else(PoisonError::into_inner);
        let mut state = self.shared.lock();
        let asked = state.answered + 1;
        state.request = Some(request);
        self.shared.changed.notify_all();
        let (mut state, _) = self
            .shared
            .changed
            .wait_timeout_while(state, ANSWER_PATIENCE, |s| s.answered < asked)
            .unwrap_or_else(PoisonError::into_inner);
        if state.answered < asked {
            state.request = None; // if never taken
            return Err(Error::Os {
                context: "handing hooks to systrace's hook thread".into(),
                source: std::io::Error::new(std::io::ErrorKind::TimedOut, "it did not answer"),
            });
        }
        state
            .answer
            .take()
            .unwrap_or(Ok(false))
            .map_err(|msg| Error::Os {
                context: "handing hooks to systrace's hook thread".into(),
                source: std::io::Error::other(msg),
            })
    }

    /// In a forked child, which has neither thread nor hook (nor fd of
    /// ours): forgotten, never dropped (its mutexes may have been held at
    /// the fork).
    pub fn forget_in_child(self) {
        std::mem::forget(self);
    }
}

impl Drop for Reaper {
    /// Retires every hook, lets the closing thread close them all, and
    /// ends both threads.
    fn drop(&mut self) {
        if crate::trace::tracer::getpid() != self.pid {
            // A child's copy: it has no threads to end.
            return;
        }
        {
            let mut state = self.shared.lock();
            let live = std::mem::take(&mut state.live);
            let now = Instant::now();
            state
                .retired
                .extend(live.into_iter().map(|(key, fd)| (key, (fd, now))));
            state.stop = true;
            self.shared.changed.notify_all();
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The receiving thread: gives itself a table of its own, starts the
/// closing thread in it, then copies in the hooks it is given.
fn receive(shared: Arc<Shared>, ready: std::sync::mpsc::Sender<std::io::Result<()>>) {
    // For the thread's whole life: every syscall it makes is systrace's.
    let _quiet = Quiet::enter();
    // SAFETY: unshare and close_range act on this thread's own table,
    // which after the unshare is a copy nobody else uses; pidfd_open and
    // getpid have no preconditions.
    let pidfd = unsafe {
        if libc::unshare(libc::CLONE_FILES) != 0 {
            let _ = ready.send(Err(std::io::Error::last_os_error()));
            return;
        }
        libc::syscall(libc::SYS_close_range, 0u32, u32::MAX, 0u32);
        // The process, whose table the hooks are copied from.
        libc::syscall(libc::SYS_pidfd_open, libc::getpid(), 0) as libc::c_int
    };
    if pidfd < 0 {
        let err = std::io::Error::last_os_error();
        let _ = ready.send(Err(std::io::Error::new(
            err.kind(),
            format!("pidfd_open, which systrace needs (Linux 5.6 or later): {err}"),
        )));
        return;
    }
    let theirs = Arc::clone(&shared);
    let closer = match std::thread::Builder::new()
        .name("systrace-reaper".into())
        .spawn(move || close(&theirs))
    {
        Ok(closer) => closer,
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    let _ = ready.send(Ok(()));
    let mut state = shared.lock();
    // Until the reaper is dropped (see Drop).
    loop {
        let Some(request) = state.request.take() else {
            if state.stop {
                break;
            }
            state = shared
                .changed
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
            continue;
        };
        drop(state);
        let answer = match request {
            Request::Hold(hooks) => hold_copies(&shared, pidfd, hooks),
            Request::ExitChild => Ok(close_hooks_after_exit()),
        };
        shared.answer(answer);
        state = shared.lock();
    }
    drop(state);
    shared.changed.notify_all();
    let _ = closer.join();
}

/// Copies the hooks' fds from the process's table (`pidfd`'s) into ours.
/// All or none: on an error the copies made are closed (the caller still
/// holds the hooks).
fn hold_copies(
    shared: &Shared,
    pidfd: libc::c_int,
    hooks: Vec<(Key, RawFd)>,
) -> std::result::Result<bool, String> {
    let mut copies = Vec::with_capacity(hooks.len());
    for &(_, fd) in &hooks {
        // SAFETY: pidfd_getfd makes a new fd (close-on-exec) in our table.
        let copy = unsafe { libc::syscall(libc::SYS_pidfd_getfd, pidfd, fd, 0u32) };
        if copy < 0 {
            let err = std::io::Error::last_os_error();
            for &copy in &copies {
                // SAFETY: fds just made in our table, in no map yet.
                unsafe { libc::close(copy) };
            }
            return Err(format!(
                "{} of {} hooks copied (pidfd_getfd: {err}; is the limit of open files reached?)",
                copies.len(),
                hooks.len()
            ));
        }
        copies.push(copy as RawFd);
    }
    let mut state = shared.lock();
    for ((key, _), fd) in hooks.into_iter().zip(copies) {
        if let Some(old) = state.live.insert(key, TableFd(fd)) {
            // Never: an event has one hook of ours. Were it so, the close
            // is quick (the new hook holds the event).
            // SAFETY: the old hook's fd in our table, out of the maps.
            unsafe { libc::close(old.0) };
        }
    }
    Ok(true)
}

/// The closing thread: runs the jobs, then closes retired hooks one by one.
fn close(shared: &Shared) {
    // For the thread's whole life: every syscall it makes is systrace's.
    let _quiet = Quiet::enter();
    let mut state = shared.lock();
    loop {
        let now = Instant::now();
        let stop = state.stop;
        if let Some(i) = state.jobs.iter().position(|(due, _)| stop || *due <= now) {
            let (_, mut job) = state.jobs.remove(i);
            drop(state);
            let again = job();
            state = shared.lock();
            if let (Some(after), false) = (again, state.stop) {
                state.jobs.push((Instant::now() + after, job));
            }
            continue;
        }
        let next_job = state.jobs.iter().map(|&(due, _)| due).min();
        let oldest = state
            .retired
            .iter()
            .min_by_key(|(_, &(_, at))| at)
            .map(|(&key, &(_, at))| (key, at));
        if let Some((key, at)) = oldest {
            let due = at + LINGER;
            if !state.stop && now < due {
                // Taken back if enabled again meanwhile (see LINGER).
                let until = next_job.map_or(due, |job| job.min(due));
                state = shared
                    .changed
                    .wait_timeout(state, until - now)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0;
                continue;
            }
            let Some((fd, _)) = state.retired.remove(&key) else {
                continue;
            };
            state.closing = Some(key);
            drop(state);
            let lock = EventLock::for_close();
            // SAFETY: a hook's fd in our table, closed once: it left the maps.
            unsafe { libc::close(fd.0) };
            drop(lock);
            state = shared.lock();
            state.closing = None;
            state.closed += 1;
            shared.changed.notify_all();
        } else if state.stop {
            return;
        } else if let Some(due) = next_job {
            state = shared
                .changed
                .wait_timeout(state, due - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
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
/// happen in the background. It is forked by the receiving thread, so it
/// has our threads' table, which holds the hooks and little else; it
/// closes every other fd at once. Returns whether the child was made.
fn close_hooks_after_exit() -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    #[test]
    fn a_job_runs_when_it_is_due_and_the_next_one_does_not_wait_for_it() {
        let reaper = Reaper::start().expect("the threads start without privileges");
        let (tx, rx) = mpsc::channel();
        let start = Instant::now();
        let later = tx.clone();
        reaper.run_in_background(
            Duration::from_millis(200),
            Box::new(move || {
                later.send(("later", start.elapsed())).unwrap();
                None
            }),
        );
        reaper.run_in_background(
            Duration::ZERO,
            Box::new(move || {
                tx.send(("now", start.elapsed())).unwrap();
                None
            }),
        );
        let (first, at) = rx.recv_timeout(Duration::from_secs(5)).unwrap();
        assert_eq!(first, "now");
        assert!(at < Duration::from_millis(200), "{at:?}");
        let (second, at) = rx.recv_timeout(Duration::from_secs(5)).unwrap();
        assert_eq!(second, "later");
        assert!(at >= Duration::from_millis(200), "{at:?}");
    }

    #[test]
    fn a_stopping_thread_runs_the_jobs_not_yet_due() {
        let reaper = Reaper::start().expect("the threads start without privileges");
        let (tx, rx) = mpsc::channel();
        reaper.run_in_background(
            Duration::from_secs(60),
            Box::new(move || {
                tx.send(()).unwrap();
                Some(Duration::ZERO) // not again: the thread is stopping
            }),
        );
        let start = Instant::now();
        drop(reaper); // joins both threads
        assert!(rx.try_recv().is_ok(), "the job ran before the thread ended");
        assert!(rx.try_recv().is_err(), "the job ran once");
        assert!(start.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn a_job_that_asks_runs_again() {
        let reaper = Reaper::start().expect("the threads start without privileges");
        let (tx, rx) = mpsc::channel();
        let mut left = 3;
        reaper.run_in_background(
            Duration::ZERO,
            Box::new(move || {
                left -= 1;
                tx.send(left).unwrap();
                (left > 0).then_some(Duration::from_millis(10))
            }),
        );
        let runs: Vec<i32> = (0..3)
            .map(|_| rx.recv_timeout(Duration::from_secs(5)).unwrap())
            .collect();
        assert_eq!(runs, [2, 1, 0]);
        assert!(rx.recv_timeout(Duration::from_millis(100)).is_err());
    }
}
