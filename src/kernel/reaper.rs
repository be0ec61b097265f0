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
//! and a hook is handed to them over a socket (`SCM_RIGHTS`) as soon as it
//! is attached, its copy in the process's table closed then. A `fork()` of
//! any other thread copies the process's table, so a child never has a
//! hook: before, each child had to close its copies, and whichever of it
//! and our closing thread closed a hook last waited for the grace period.
//! A child forked while 80 hooks were being closed sat 4 s in its fork
//! handler. Our fd numbers mean nothing in the process's table: they are
//! plain numbers ([`TableFd`]), closed only by our threads.
use std::collections::BTreeMap;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
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

/// Hooks per message: the kernel takes at most 253 fds (SCM_MAX_FD).
const BATCH: usize = 250;
/// Messages to the receiving thread: its first word.
const HOLD: u32 = 1;
const EXIT_CHILD: u32 = 2;
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

#[derive(Default)]
struct State {
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
    /// Our end of the socket to the receiving thread; one request at a time.
    socket: Mutex<OwnedFd>,
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
        let mut pair = [0; 2];
        // SAFETY: a two-int array for the new fds.
        let ret = unsafe {
            libc::socketpair(
                libc::AF_UNIX,
                libc::SOCK_SEQPACKET | libc::SOCK_CLOEXEC,
                0,
                pair.as_mut_ptr(),
            )
        };
        if ret != 0 {
            return Err(os(
                "a socket for systrace's hook threads",
                std::io::Error::last_os_error(),
            ));
        }
        // SAFETY: both fds are new and ours.
        let (ours, theirs) =
            unsafe { (OwnedFd::from_raw_fd(pair[0]), OwnedFd::from_raw_fd(pair[1])) };
        let shared = Arc::new(Shared::default());
        let (ready, started) = std::sync::mpsc::channel();
        let their_shared = Arc::clone(&shared);
        let their_fd = theirs.as_raw_fd();
        let thread = std::thread::Builder::new()
            .name("systrace-hooks".into())
            .spawn(move || receive(their_shared, their_fd, ready))
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
        // Their table has its copy: close the process's.
        drop(theirs);
        Ok(Reaper {
            pid: crate::trace::tracer::getpid(),
            shared,
            socket: Mutex::new(ours),
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
        let mut held = Vec::with_capacity(hooks.len());
        for batch in hooks.chunks(BATCH) {
            let mut words = vec![HOLD];
            for &((phase, nr), _) in batch {
                words.extend([phase as u32, nr]);
            }
            let fds: Vec<RawFd> = batch.iter().map(|(_, hook)| hook.as_raw_fd()).collect();
            if let Err(err) = self.request(&words, &fds) {
                return (held, Err(err));
            }
            held.extend(batch.iter().map(|&(key, _)| key));
        }
        (held, Ok(()))
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
        self.request(&[EXIT_CHILD], &[]).unwrap_or(false)
    }

    /// Sends a request to the receiving thread and waits for its answer.
    fn request(&self, words: &[u32], fds: &[RawFd]) -> Result<bool> {
        let socket = self.socket.lock().unwrap_or_else(PoisonError::into_inner);
        let asked = self.shared.lock().answered + 1;
        // SAFETY: our socket; the buffers outlive the call.
        if let Err(source) = unsafe { send(socket.as_raw_fd(), words, fds) } {
            return Err(Error::Os {
                context: "handing hooks to systrace's hook thread".into(),
                source,
            });
        }
        let state = self.shared.lock();
        let (mut state, _) = self
            .shared
            .changed
            .wait_timeout_while(state, ANSWER_PATIENCE, |s| s.answered < asked)
            .unwrap_or_else(PoisonError::into_inner);
        if state.answered < asked {
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

    /// In a forked child, which has neither thread nor hook: only the
    /// socket's fd is its own to close.
    pub fn forget_in_child(mut self) {
        // get_mut, not lock: the mutex may have been held at the fork.
        let socket = self
            .socket
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .as_raw_fd();
        // SAFETY: the child's copy of our socket, which nothing else in the
        // child uses; the rest is forgotten, never dropped.
        unsafe { libc::close(socket) };
        std::mem::forget(self);
    }
}

impl Drop for Reaper {
    /// Retires every hook, lets the closing thread close them all, and
    /// ends both threads.
    fn drop(&mut self) {
        if crate::trace::tracer::getpid() != self.pid {
            // A child's copy: shutting the socket down would end the
            // parent's threads.
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
        let socket = self
            .socket
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner);
        // SAFETY: our socket; the receiving thread sees its end.
        unsafe { libc::shutdown(socket.as_raw_fd(), libc::SHUT_RDWR) };
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Sends `words` with `fds` attached (SCM_RIGHTS) in one message.
unsafe fn send(socket: RawFd, words: &[u32], fds: &[RawFd]) -> std::io::Result<()> {
    let mut iov = libc::iovec {
        iov_base: words.as_ptr() as *mut libc::c_void,
        iov_len: std::mem::size_of_val(words),
    };
    let mut control = vec![0u64; control_words(fds.len())];
    let mut msg: libc::msghdr = std::mem::zeroed();
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    if !fds.is_empty() {
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = libc::CMSG_SPACE(std::mem::size_of_val(fds) as u32) as usize;
        let cmsg = libc::CMSG_FIRSTHDR(&msg);
        (*cmsg).cmsg_level = libc::SOL_SOCKET;
        (*cmsg).cmsg_type = libc::SCM_RIGHTS;
        (*cmsg).cmsg_len = libc::CMSG_LEN(std::mem::size_of_val(fds) as u32) as usize;
        std::ptr::copy_nonoverlapping(
            fds.as_ptr(),
            libc::CMSG_DATA(cmsg).cast::<RawFd>(),
            fds.len(),
        );
    }
    loop {
        if libc::sendmsg(socket, &msg, libc::MSG_NOSIGNAL) >= 0 {
            return Ok(());
        }
        let err = std::io::Error::last_os_error();
        if err.kind() != std::io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

/// u64 words of control buffer for `n` fds.
fn control_words(n: usize) -> usize {
    // SAFETY: CMSG_SPACE is arithmetic.
    let bytes = unsafe { libc::CMSG_SPACE((n * std::mem::size_of::<RawFd>()) as u32) } as usize;
    bytes.div_ceil(8)
}

/// The receiving thread: gives itself a table of its own, starts the
/// closing thread in it, then installs the hooks sent to it.
fn receive(
    shared: Arc<Shared>,
    socket: RawFd,
    ready: std::sync::mpsc::Sender<std::io::Result<()>>,
) {
    // For the thread's whole life: every syscall it makes is systrace's.
    let _quiet = Quiet::enter();
    // SAFETY: unshare and close_range act on this thread's own table,
    // which after the unshare is a copy nobody else uses: only the socket
    // is kept.
    unsafe {
        if libc::unshare(libc::CLONE_FILES) != 0 {
            let _ = ready.send(Err(std::io::Error::last_os_error()));
            return;
        }
        if socket > 0 {
            libc::syscall(libc::SYS_close_range, 0u32, (socket - 1) as u32, 0u32);
        }
        libc::syscall(libc::SYS_close_range, (socket + 1) as u32, u32::MAX, 0u32);
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
    let mut words = [0u32; 1 + 2 * BATCH];
    let mut control = vec![0u64; control_words(BATCH)];
    // Until the socket's end (see Drop), or an error: requests then fail.
    // SAFETY: our buffers, the socket in our table.
    while let Ok(Some((len, fds, truncated))) =
        unsafe { receive_one(socket, &mut words, &mut control) }
    {
        let words = &words[..len / 4];
        match words.first() {
            Some(&HOLD) => {
                let keys: Vec<Key> = words[1..]
                    .chunks_exact(2)
                    .map(|k| (k[0] as usize, k[1]))
                    .collect();
                if truncated || keys.len() != fds.len() {
                    let error = format!(
                        "{} of {} hooks arrived (is the limit of open files reached?)",
                        fds.len(),
                        keys.len()
                    );
                    for fd in fds {
                        // SAFETY: fds just installed in our table; the
                        // caller still holds the hooks (a quick close).
                        unsafe { libc::close(fd) };
                    }
                    shared.answer(Err(error));
                    continue;
                }
                let mut state = shared.lock();
                for (key, fd) in keys.into_iter().zip(fds) {
                    if let Some(old) = state.live.insert(key, TableFd(fd)) {
                        // Never: an event has one hook of ours. Were it so,
                        // the close is quick (the new hook holds the event).
                        // SAFETY: the old hook's fd in our table, out of the maps.
                        unsafe { libc::close(old.0) };
                    }
                }
                drop(state);
                shared.answer(Ok(true));
            }
            Some(&EXIT_CHILD) => shared.answer(Ok(close_hooks_after_exit())),
            _ => shared.answer(Err("an unknown request".into())),
        }
    }
    shared.lock().stop = true;
    shared.changed.notify_all();
    let _ = closer.join();
}

/// Receives one message: its length in bytes, the fds it carried, and
/// whether some were lost (MSG_CTRUNC). None at the socket's end.
unsafe fn receive_one(
    socket: RawFd,
    words: &mut [u32],
    control: &mut [u64],
) -> std::io::Result<Option<(usize, Vec<RawFd>, bool)>> {
    let mut iov = libc::iovec {
        iov_base: words.as_mut_ptr().cast(),
        iov_len: std::mem::size_of_val(words),
    };
    let mut msg: libc::msghdr = std::mem::zeroed();
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = std::mem::size_of_val(control);
    let len = loop {
        let len = libc::recvmsg(socket, &mut msg, libc::MSG_CMSG_CLOEXEC);
        if len >= 0 {
            break len as usize;
        }
        let err = std::io::Error::last_os_error();
        if err.kind() != std::io::ErrorKind::Interrupted {
            return Err(err);
        }
    };
    if len == 0 {
        return Ok(None);
    }
    let mut fds = Vec::new();
    let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
    while !cmsg.is_null() {
        if (*cmsg).cmsg_level == libc::SOL_SOCKET && (*cmsg).cmsg_type == libc::SCM_RIGHTS {
            let data = libc::CMSG_DATA(cmsg);
            let n =
                ((*cmsg).cmsg_len - (data as usize - cmsg as usize)) / std::mem::size_of::<RawFd>();
            for i in 0..n {
                fds.push(std::ptr::read_unaligned(data.cast::<RawFd>().add(i)));
            }
        }
        cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
    }
    Ok(Some((len, fds, msg.msg_flags & libc::MSG_CTRUNC != 0)))
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
