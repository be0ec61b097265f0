//! What one session sees: its filter and its queue of events, which the
//! consumer thread fills (as a `kernel::consumer::Sink`).
//!
//! The programs trace the union of every session's syscalls and processes;
//! the consumer thread hands each decoded event to every session whose own
//! filter matches it, so each session gets exactly its events, each once.
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use super::registry::{exec_syscalls, ProcessFilter, Registration};
use crate::kernel::consumer::Sink;
use crate::kernel::{Bitmap, Event, Phase};

/// CLOCK_MONOTONIC in ns: the clock of bpf_ktime_get_ns(), so event
/// timestamps and session bounds compare directly.
pub fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes the timespec we pass and nothing else.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

struct Filter {
    enabled: [Bitmap; 2],
    /// Take the children of traced processes (fork records) as traced.
    follow: bool,
    /// Events before the session opened belong to someone else.
    start_ns: u64,
    /// Set when closing starts: what the closing itself does is not traced.
    end_ns: AtomicU64,
}

impl Filter {
    fn matches(&self, ev: &Event, tgids: &Option<Vec<u32>>) -> bool {
        self.enabled[ev.phase.index()].contains(ev.nr)
            && ev.timestamp_ns >= self.start_ns
            && ev.timestamp_ns <= self.end_ns.load(Ordering::Relaxed)
            && tgids
                .as_ref()
                .is_none_or(|t| t.binary_search(&ev.pid).is_ok())
    }
}

struct Backlog {
    events: Vec<Event>,
    closed: bool,
    /// The traced processes (None: every process); grows with followed forks.
    /// Sorted: a binary search per event is cheaper than hashing for the
    /// few processes a session traces.
    tgids: Option<Vec<u32>>,
    /// Processes found by following forks.
    children: Vec<u32>,
    /// A launched command before its execve: none of its events are ours yet.
    launching: Option<u32>,
}

pub struct Queue {
    filter: Filter,
    /// Events waiting for the user at most: a session nobody polls must not
    /// grow the process without bound (unless it asks to keep them all).
    max_backlog: AtomicUsize,
    /// execve and execveat, which end a launch.
    exec_nrs: [u32; 2],
    backlog_dropped: AtomicU64,
    backlog: Mutex<Backlog>,
    ready: Condvar,
    /// Readable while events wait, for event loops (asyncio) to poll.
    /// Made on the first fileno(): signalling and resetting it are syscalls,
    /// which a session tracing its own process would otherwise see in every
    /// poll.
    ready_fd: OnceLock<OwnedFd>,
}

fn signal_fd(fd: &OnceLock<OwnedFd>, add: bool) {
    let Some(fd) = fd.get() else { return };
    let mut value: u64 = 1;
    // SAFETY: 8-byte read/write of a local u64 on our own non-blocking eventfd.
    unsafe {
        if add {
            libc::write(fd.as_raw_fd(), (&value as *const u64).cast(), 8);
        } else {
            libc::read(fd.as_raw_fd(), (&mut value as *mut u64).cast(), 8);
        }
    }
}

impl Queue {
    /// `max_backlog`: events kept for the user before new ones are dropped.
    pub fn new(reg: &Registration, start_ns: u64, max_backlog: usize) -> Self {
        Queue {
            max_backlog: AtomicUsize::new(max_backlog),
            exec_nrs: exec_syscalls(),
            backlog_dropped: AtomicU64::new(0),
            filter: Filter {
                enabled: Phase::ALL.map(|phase| reg.syscalls(phase).iter().collect()),
                follow: reg.follow,
                start_ns,
                end_ns: AtomicU64::new(u64::MAX),
            },
            backlog: Mutex::new(Backlog {
                events: Vec::new(),
                closed: false,
                tgids: match &reg.processes {
                    ProcessFilter::All => None,
                    ProcessFilter::Tgids(t) => Some(t.iter().copied().collect()),
                },
                children: Vec::new(),
                launching: reg.launched,
            }),
            ready: Condvar::new(),
            ready_fd: OnceLock::new(),
        }
    }

    /// An fd that is readable while events wait (or once finished); None if
    /// the kernel would not make one.
    pub fn ready_fd(&self) -> Option<RawFd> {
        // Under the queue lock, so that no delivery slips between making it
        // and setting its first state.
        let queue = self.backlog();
        if self.ready_fd.get().is_none() {
            // SAFETY: eventfd creates a new fd, owned from here on.
            let fd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
            if fd < 0 {
                return None;
            }
            // SAFETY: fd is fresh and valid, owned by nothing else.
            let _ = self.ready_fd.set(unsafe { OwnedFd::from_raw_fd(fd) });
            if !queue.events.is_empty() || queue.closed {
                signal_fd(&self.ready_fd, true);
            }
        }
        self.ready_fd.get().map(|fd| fd.as_raw_fd())
    }

    /// A traced process forked: its child is traced too if we follow.
    pub fn on_fork(&self, parent: u32, child: u32) {
        if !self.filter.follow {
            return;
        }
        let mut queue = self.backlog();
        let queue = &mut *queue;
        if let Some(tgids) = queue.tgids.as_mut() {
            if tgids.binary_search(&parent).is_ok() {
                if let Err(at) = tgids.binary_search(&child) {
                    tgids.insert(at, child);
                    queue.children.push(child);
                }
            }
        }
    }

    /// Processes this session found by following forks.
    pub fn children(&self) -> Vec<u32> {
        self.backlog().children.clone()
    }

    /// Whether this session traces `tgid` now.
    pub fn traces(&self, tgid: u32) -> bool {
        self.backlog()
            .tgids
            .as_ref()
            .is_none_or(|t| t.binary_search(&tgid).is_ok())
    }

    fn backlog(&self) -> MutexGuard<'_, Backlog> {
        // A panic elsewhere while holding the lock leaves plain data behind.
        self.backlog.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Keeps every event until it is taken: for a session read once its
    /// command has ended (systrace.run), whose events are its result.
    pub fn keep_all(&self) {
        self.max_backlog.store(usize::MAX, Ordering::Relaxed);
    }

    /// Called by the consumer thread with each decoded batch.
    pub fn deliver(&self, batch: &[Event]) {
        let mut queue = self.backlog();
        let Backlog {
            events,
            tgids,
            launching,
            ..
        } = &mut *queue;
        let before = events.len();
        let room = self
            .max_backlog
            .load(Ordering::Relaxed)
            .saturating_sub(before);
        let mut matching = batch.iter().filter(|ev| {
            if *launching == Some(ev.pid) {
                // The launcher's part, up to the command's execve.
                if ev.phase != Phase::Enter || !self.exec_nrs.contains(&ev.nr) {
                    return false;
                }
                *launching = None;
            }
            self.filter.matches(ev, tgids)
        });
        events.extend(matching.by_ref().take(room).cloned());
        // Past the backlog bound the events are lost here, as in a full ring
        // buffer, and counted the same way.
        let lost = matching.count() as u64;
        if lost > 0 {
            self.backlog_dropped.fetch_add(lost, Ordering::Relaxed);
        }
        if events.len() > before {
            self.ready.notify_all();
            if before == 0 {
                signal_fd(&self.ready_fd, true);
            }
        }
    }

    /// Events lost because the user did not take them in time.
    pub fn backlog_dropped(&self) -> u64 {
        self.backlog_dropped.load(Ordering::Relaxed)
    }

    pub fn set_end(&self, end_ns: u64) {
        self.filter.end_ns.store(end_ns, Ordering::Relaxed);
    }

    /// No more events will come: wake every waiter.
    pub fn finish(&self) {
        self.backlog().closed = true;
        self.ready.notify_all();
        signal_fd(&self.ready_fd, true);
    }

    pub fn is_finished(&self) -> bool {
        self.backlog().closed
    }

    /// Takes what has arrived, waiting up to `wait` for the first event.
    /// Returns early, possibly empty, once the session is finished.
    pub fn take(&self, wait: Duration) -> Vec<Event> {
        let deadline = Instant::now() + wait;
        let mut queue = self.backlog();
        while queue.events.is_empty() && !queue.closed {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            queue = self
                .ready
                .wait_timeout(queue, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        if !queue.closed {
            signal_fd(&self.ready_fd, false);
        }
        // Hand over the events and keep a buffer as large for the next
        // batch, so the consumer does not regrow it from empty each time.
        let capacity = if queue.closed { 0 } else { queue.events.len() };
        std::mem::replace(&mut queue.events, Vec::with_capacity(capacity))
    }

    pub fn pending(&self) -> usize {
        self.backlog().events.len()
    }
}

impl Sink for Queue {
    fn deliver(&self, events: &[Event]) {
        Queue::deliver(self, events)
    }
    fn on_fork(&self, parent: u32, child: u32) {
        Queue::on_fork(self, parent, child)
    }
    fn traces(&self, tgid: u32) -> bool {
        Queue::traces(self, tgid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::decode::{decode, tests::enter_record};
    use std::collections::BTreeSet;

    #[test]
    fn delivers_only_matching_events() {
        let reg = Registration {
            enter: BTreeSet::from([0]),
            exit: BTreeSet::new(),
            processes: ProcessFilter::Tgids(BTreeSet::from([100])),
            ..Default::default()
        };
        let s = Queue::new(&reg, 10, usize::MAX);
        let ok = decode(&enter_record(0, &[1, 2, 3], 100, 100)).unwrap();
        let other_nr = decode(&enter_record(1, &[1, 2, 3], 100, 100)).unwrap();
        let other_pid = decode(&enter_record(0, &[1, 2, 3], 200, 200)).unwrap();
        let too_early = Event {
            timestamp_ns: 5,
            ..ok.clone()
        };
        s.deliver(&[ok.clone(), other_nr, other_pid, too_early]);
        s.set_end(41);
        s.deliver(std::slice::from_ref(&ok)); // timestamp 42: after the end
        assert_eq!(s.take(Duration::ZERO), vec![ok.clone()]);
        s.finish();
        let small = Queue::new(&reg, 10, 1);
        small.deliver(&[ok.clone(), ok.clone(), ok.clone()]);
        assert_eq!((small.pending(), small.backlog_dropped()), (1, 2));
        assert!(
            s.take(Duration::from_secs(10)).is_empty(),
            "a finished session must not block"
        );
    }

    #[test]
    fn a_launched_command_is_traced_from_its_execve() {
        let [execve, _] = exec_syscalls();
        let reg = Registration {
            enter: BTreeSet::from([0]),
            processes: ProcessFilter::Tgids(BTreeSet::from([100, 200])),
            launched: Some(100),
            ..Default::default()
        };
        let s = Queue::new(&reg, 10, usize::MAX);
        let read = |pid: i32| decode(&enter_record(0, &[1, 2, 3], pid as u32, pid)).unwrap();
        let exec = decode(&enter_record(execve as i32, &[1, 2, 3], 100, 100)).unwrap();
        // Before its execve the launched process's reads are the launcher's;
        // the execve itself is not shown (not asked for); then it is traced.
        s.deliver(&[read(100), read(200), exec.clone(), read(100)]);
        assert_eq!(s.take(Duration::ZERO), vec![read(200), read(100)]);
        // Asked for, the execve is the first event of the command.
        let both = Registration {
            enter: BTreeSet::from([0, execve]),
            ..reg.clone()
        };
        assert!(both.enabled(Phase::Enter).contains(&execve));
        assert!(!both.enabled(Phase::Exit).contains(&execve));
        let s = Queue::new(&both, 10, usize::MAX);
        s.deliver(&[read(100), exec.clone(), read(100)]);
        assert_eq!(s.take(Duration::ZERO), vec![exec, read(100)]);
    }
}
