//! The consumer thread: drains the ring buffer, decodes in batches and hands
//! each batch to the sessions. It never touches Python, so Python code never
//! has to run for the kernel's buffer to be emptied.
//!
//! The programs wake it only when a good amount of data waits (see
//! `wakeup_records` and `wakeup_bytes` in bpf/state.bpf.h); a short poll
//! timeout picks up the rest. A flush (session close, poll) wakes it at once through an eventfd
//! and waits until everything committed before the flush was delivered.
use std::io;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use libbpf_rs::MapHandle;

use super::decode::{decode, Event};
use super::ring::Ring;
use crate::error::{Error, Result};

/// Where the consumer hands what it drains: each open session's queue
/// (`trace::session`). A trait so that this side knows nothing of sessions.
pub trait Sink: Send + Sync {
    /// A batch of events, in the order the ring buffer gave them.
    fn deliver(&self, events: &[Event]);

    /// The consumer has taken all the ring buffer held (each round ends so).
    fn round_end(&self) {}
}

fn same(a: &Arc<dyn Sink>, b: &Arc<dyn Sink>) -> bool {
    std::ptr::addr_eq(Arc::as_ptr(a), Arc::as_ptr(b))
}

/// How long records below the wake-up threshold may wait while sessions are open.
const POLL_INTERVAL_MS: i32 = 10;
/// Records decoded per batch handed to the sessions. The batch's Vec keeps
/// its pages once touched (an Event is some 120 bytes: 16k of them were 2 MB
/// of the command's RSS, issue 15); a batch's cost (a lock, a wake-up of the
/// writer) is small against a thousand records' decoding.
const BATCH: u64 = 1024;
/// A flush that takes this long means the consumer is gone.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Default)]
struct FlushState {
    requested: u64,
    completed: u64,
    stop: bool,
    failed: Option<String>,
}

struct Shared {
    sessions: Mutex<Vec<Arc<dyn Sink>>>,
    flush: Mutex<FlushState>,
    flushed: Condvar,
    wake: OwnedFd,
    decode_errors: AtomicU64,
    /// Records drained from the ring buffer: what the programs let through,
    /// before any session's filter (tests compare it with what they expect).
    records: AtomicU64,
    /// Times the thread woke and drained (how well the wake-ups batch).
    rounds: AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shared {
    fn wake(&self) {
        let one: u64 = 1;
        // SAFETY: writes 8 bytes from a valid u64 to our own eventfd.
        unsafe { libc::write(self.wake.as_raw_fd(), (&one as *const u64).cast(), 8) };
    }

    fn dispatch(&self, batch: &mut Vec<Event>) {
        if batch.is_empty() {
            return;
        }
        self.records
            .fetch_add(batch.len() as u64, Ordering::Relaxed);
        for session in lock(&self.sessions).iter() {
            session.deliver(batch);
        }
        batch.clear();
    }
}

pub struct Consumer {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
    tid: u32,
    /// The fds the thread holds (its epoll set, the ring buffer and wake-up
    /// flag maps), to close in a forked child, which has the fds but not
    /// the thread.
    thread_fds: Vec<RawFd>,
}

fn os_err(context: &str) -> Error {
    Error::os(context, io::Error::last_os_error())
}

impl Consumer {
    pub fn start(events: MapHandle, woken: MapHandle) -> Result<Consumer> {
        // SAFETY: eventfd creates a new fd, owned from here on.
        let fd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
        if fd < 0 {
            return Err(os_err("creating the consumer's eventfd"));
        }
        // SAFETY: fd is a fresh, valid descriptor that nothing else owns.
        let wake = unsafe { OwnedFd::from_raw_fd(fd) };
        let shared = Arc::new(Shared {
            sessions: Mutex::new(Vec::new()),
            flush: Mutex::new(FlushState::default()),
            flushed: Condvar::new(),
            wake,
            decode_errors: AtomicU64::new(0),
            records: AtomicU64::new(0),
            rounds: AtomicU64::new(0),
        });
        let (ready_tx, ready_rx) = mpsc::channel();
        let thread_shared = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("systrace-consumer".into())
            .spawn(move || run(thread_shared, events, woken, ready_tx))
            .map_err(|e| Error::os("starting the consumer thread", e))?;
        match ready_rx.recv() {
            Ok(Ok((tid, thread_fds))) => Ok(Consumer {
                shared,
                thread: Some(thread),
                tid,
                thread_fds,
            }),
            Ok(Err(err)) => {
                let _ = thread.join();
                Err(err)
            }
            Err(_) => Err(Error::os(
                "starting the consumer thread",
                io::Error::other("it died"),
            )),
        }
    }

    /// The consumer's thread id, which the programs must not trace.
    pub fn tid(&self) -> u32 {
        self.tid
    }

    pub fn add_session(&self, session: Arc<dyn Sink>) {
        lock(&self.shared.sessions).push(session);
        self.shared.wake(); // switch to the short poll interval
    }

    pub fn remove_session(&self, session: &Arc<dyn Sink>) {
        lock(&self.shared.sessions).retain(|s| !same(s, session));
    }

    pub fn decode_errors(&self) -> u64 {
        self.shared.decode_errors.load(Ordering::Relaxed)
    }

    /// Records drained from the ring buffer so far.
    pub fn records(&self) -> u64 {
        self.shared.records.load(Ordering::Relaxed)
    }

    /// Rounds of draining so far: each a wake-up (or the poll timeout).
    pub fn rounds(&self) -> u64 {
        self.shared.rounds.load(Ordering::Relaxed)
    }

    /// Returns once every record committed before the call was delivered.
    pub fn flush(&self) -> Result<()> {
        let mut state = lock(&self.shared.flush);
        state.requested += 1;
        let ticket = state.requested;
        self.shared.wake();
        while state.completed < ticket {
            if let Some(why) = &state.failed {
                return Err(Error::os(
                    "reading the ring buffer",
                    io::Error::other(why.clone()),
                ));
            }
            let (next, timeout) = self
                .shared
                .flushed
                .wait_timeout(state, FLUSH_TIMEOUT)
                .unwrap_or_else(|e| e.into_inner());
            state = next;
            if timeout.timed_out() && state.completed < ticket {
                return Err(Error::os(
                    "flushing the ring buffer",
                    io::Error::from(io::ErrorKind::TimedOut),
                ));
            }
        }
        Ok(())
    }
}

impl Consumer {
    /// In a child forked from the process that started the consumer: the
    /// thread is not there (never join it), but its fds are, and one of
    /// them holds the parent's ring buffer. Closes them all, and forgets
    /// the rest (its locks may have been held at the fork).
    pub fn forget_in_child(self) {
        for &fd in &self.thread_fds {
            // SAFETY: fds the consumer thread owned in the parent; in the
            // child nothing else owns or uses them.
            unsafe { libc::close(fd) };
        }
        // SAFETY: our own eventfd, which nothing else in the child uses.
        unsafe { libc::close(self.shared.wake.as_raw_fd()) };
        std::mem::forget(self);
    }
}

impl Drop for Consumer {
    fn drop(&mut self) {
        lock(&self.shared.flush).stop = true;
        self.shared.wake();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The consumer's own mapping of `consumer_woken` (bpf/state.bpf.h): the
/// programs set it when they wake the consumer, the consumer clears it
/// when it starts draining.
struct WokenFlag {
    page: *mut libc::c_void,
    len: usize,
}

impl WokenFlag {
    fn map(map: &MapHandle) -> Result<WokenFlag> {
        // SAFETY: sysconf has no preconditions.
        let len = unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(4096) as usize;
        // SAFETY: maps the (BPF_F_MMAPABLE) array map's one page, shared
        // with the programs; the mapping is ours until Drop.
        let page = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                map.as_fd().as_raw_fd(),
                0,
            )
        };
        if page == libc::MAP_FAILED {
            return Err(os_err("mapping the consumer's wake-up flag"));
        }
        // A forked child must not keep the map alive through this mapping.
        // SAFETY: advice on our own mapping.
        unsafe { libc::madvise(page, len, libc::MADV_DONTFORK) };
        Ok(WokenFlag { page, len })
    }

    /// Clears the flag if set: the next record over the threshold wakes us.
    fn clear(&self) {
        // SAFETY: the mapping is live and page aligned; the programs access
        // this u32 with plain loads and stores.
        let flag = unsafe { &*(self.page as *const std::sync::atomic::AtomicU32) };
        if flag.load(Ordering::Relaxed) != 0 {
            flag.store(0, Ordering::SeqCst);
        }
    }
}

impl Drop for WokenFlag {
    fn drop(&mut self) {
        // SAFETY: unmaps our own mapping, used by nothing after this.
        unsafe { libc::munmap(self.page, self.len) };
    }
}

fn run(
    shared: Arc<Shared>,
    events: MapHandle,
    woken: MapHandle,
    ready: mpsc::Sender<Result<(u32, Vec<RawFd>)>>,
) {
    // SAFETY: gettid has no preconditions.
    let tid = unsafe { libc::gettid() } as u32;
    let woken_flag = match WokenFlag::map(&woken) {
        Ok(flag) => flag,
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    let mut ring = match Ring::map(&events) {
        Ok(ring) => ring,
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    let mut batch: Vec<Event> = Vec::with_capacity(BATCH as usize);
    // Our own epoll set: the ring buffer map and the wake-up eventfd. The
    // ring is edge-triggered: it wakes us when the programs wake it (once
    // wakeup_bytes wait), not whenever it holds a record. Level-triggered,
    // epoll_wait returned at once while a program wrote, with a few records
    // a round, and the threshold batched nothing (issue 15).
    // SAFETY: plain syscalls on fds we own; results are checked.
    let epfd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
    if epfd < 0 {
        let _ = ready.send(Err(os_err("creating the consumer's epoll set")));
        return;
    }
    // SAFETY: epfd is a fresh descriptor that nothing else owns.
    let epfd = unsafe { OwnedFd::from_raw_fd(epfd) };
    for (fd, edge) in [
        (events.as_fd().as_raw_fd(), libc::EPOLLET),
        (shared.wake.as_raw_fd(), 0),
    ] {
        let mut ev = libc::epoll_event {
            events: (libc::EPOLLIN | edge) as u32,
            u64: fd as u64,
        };
        // SAFETY: registers a valid fd with a valid event struct.
        if unsafe { libc::epoll_ctl(epfd.as_raw_fd(), libc::EPOLL_CTL_ADD, fd, &mut ev) } < 0 {
            let _ = ready.send(Err(os_err("setting up the consumer's epoll set")));
            return;
        }
    }
    // The ring's mappings are not inherited (MADV_DONTFORK): these fds
    // are what a forked child has left of the thread.
    let fds = vec![
        epfd.as_raw_fd(),
        events.as_fd().as_raw_fd(),
        woken.as_fd().as_raw_fd(),
    ];
    let _ = ready.send(Ok((tid, fds)));

    let mut ready_events = [libc::epoll_event { events: 0, u64: 0 }; 2];
    // Records taken from a load without the clock so far.
    let mut unclocked = 0u64;
    loop {
        let timeout = if lock(&shared.sessions).is_empty() {
            -1
        } else {
            POLL_INTERVAL_MS
        };
        // Just before sleeping (epoll_wait looks at the ring first): a
        // record committed after this that finds enough waiting wakes us.
        // Cleared any earlier, a wake-up spent while we drained would leave
        // the flag set and us asleep with the ring filling.
        woken_flag.clear();
        // SAFETY: waits into our own array of the length we pass.
        let n =
            unsafe { libc::epoll_wait(epfd.as_raw_fd(), ready_events.as_mut_ptr(), 2, timeout) };
        if n < 0 && io::Error::last_os_error().kind() != io::ErrorKind::Interrupted {
            let mut state = lock(&shared.flush);
            state.failed = Some(io::Error::last_os_error().to_string());
            shared.flushed.notify_all();
            return;
        }
        // The eventfd is read only when it woke us: while the programs
        // write, epoll_wait returns at once with a few records each round,
        // and a read per round (each a syscall our own hooks see) was a
        // tenth of this thread's time (issue 15).
        let woke = ready_events[..n.max(0) as usize]
            .iter()
            .any(|ev| ev.u64 == shared.wake.as_raw_fd() as u64);
        if woke {
            let mut counter = 0u64;
            // SAFETY: reads 8 bytes into a u64 from our non-blocking eventfd.
            unsafe {
                libc::read(
                    shared.wake.as_raw_fd(),
                    (&mut counter as *mut u64).cast(),
                    8,
                )
            };
        }
        shared.rounds.fetch_add(1, Ordering::Relaxed);
        let (ticket, stop) = {
            let state = lock(&shared.flush);
            (state.requested, state.stop)
        };
        // Drain in batches, handing each to the sessions.
        loop {
            let consumed = ring.consume(BATCH as usize, |data| match decode(data) {
                Ok(mut ev) => {
                    // A load without the clock (Features::clock): the
                    // records' order, for what sorts or tells events apart
                    // by time.
                    if ev.timestamp_ns == 0 {
                        unclocked += 1;
                        ev.timestamp_ns = unclocked;
                    }
                    batch.push(ev)
                }
                Err(_) => {
                    shared.decode_errors.fetch_add(1, Ordering::Relaxed);
                }
            });
            shared.dispatch(&mut batch);
            match consumed {
                Ok(n) if n == BATCH as usize => continue,
                Ok(_) => break,
                Err(e) => {
                    let mut state = lock(&shared.flush);
                    state.failed = Some(e.to_string());
                    shared.flushed.notify_all();
                    return;
                }
            }
        }
        for session in lock(&shared.sessions).iter() {
            session.round_end();
        }
        let mut state = lock(&shared.flush);
        // Only a flush waits on `flushed`, and only for `completed` to
        // reach its ticket: std's notify_all is a futex syscall even with
        // nobody waiting, once per round as the eventfd's read was.
        if ticket > state.completed {
            state.completed = ticket;
            shared.flushed.notify_all();
        }
        if stop {
            return;
        }
    }
}
