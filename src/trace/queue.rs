//! What one session sees: its filter and its queue of events, which the
//! consumer thread fills (as a `kernel::consumer::Sink`).
//!
//! The programs trace the union of every session's syscalls and processes;
//! the consumer thread hands each decoded event to every session whose own
//! filter matches it, so each session gets exactly its events, each once.
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use super::filtering::{SessionFilters, Verdict};
use super::registry::{exec_syscalls, ProcessFilter, Registration};
use super::store::{Budget, Store};
use crate::kernel::consumer::Sink;
use crate::kernel::{Bitmap, Event, EventKind, Phase};

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
    /// Task events asked for: signals, thread exits.
    signals: bool,
    task_exits: bool,
    /// The traced processes (None: every process), sorted: a binary search
    /// per event is cheaper than hashing for the few a session traces.
    tgids: Option<Vec<u32>>,
    /// Take the descendants of the traced processes too: the events whose
    /// root (their registered ancestor, set by the programs) is traced.
    follow: bool,
    /// Events before the session opened belong to someone else.
    start_ns: u64,
    /// Set when closing starts: what the closing itself does is not traced.
    end_ns: AtomicU64,
    /// Its registration's `clockless`: the bounds above are left open.
    clockless: bool,
}

impl Filter {
    /// Whether the session takes the events of `pid`, a descendant of `root`.
    fn takes_process(&self, pid: u32, root: u32) -> bool {
        self.tgids.as_ref().is_none_or(|t| {
            t.binary_search(&pid).is_ok() || (self.follow && t.binary_search(&root).is_ok())
        })
    }

    /// Whether it takes events of this kind (`nr`: a syscall's number).
    fn takes(&self, kind: EventKind, phase: Phase, nr: u32) -> bool {
        match kind {
            EventKind::Syscall => self.enabled[phase.index()].contains(nr),
            EventKind::Signal => self.signals,
            EventKind::TaskExit => self.task_exits,
        }
    }

    fn end_ns(&self) -> u64 {
        self.end_ns.load(Ordering::Relaxed)
    }

    fn matches(&self, ev: &Event) -> bool {
        self.takes(ev.kind, ev.phase, ev.nr)
            && ev.timestamp_ns >= self.start_ns
            && ev.timestamp_ns <= self.end_ns.load(Ordering::Relaxed)
            && self.takes_process(ev.pid, ev.root)
    }
}

struct Backlog {
    /// The events waiting for the user, packed, spilled past its budget.
    store: Store,
    closed: bool,
    /// A launched command before its execve: none of its events are ours yet.
    launching: Option<u32>,
    /// The session's event filters, with the calls they are deciding.
    filters: SessionFilters,
    /// Takes the events as they are delivered, instead of the store.
    direct: Option<Direct>,
}

/// A consumer of a session's events called on the consumer thread with each
/// delivered batch (the `systrace` command's printer): no store, no
/// wake-up of another thread, nothing kept. An empty batch: the consumer
/// has taken all there was for now (see `round_end`).
pub type Direct = Box<dyn FnMut(&[&Event]) + Send>;

/// Captures that did not happen whole, in the events delivered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CaptureLosses {
    /// Cut at the capture size or the record's budget.
    pub truncated: u64,
    /// Memory that could not be read.
    pub faulted: u64,
    /// Not captured: the enter could not be kept for the exit.
    pub lost: u64,
}

pub struct Queue {
    filter: Filter,
    /// For a launched command: execve and execveat, which end its launch.
    launch_execs: Option<[u32; 2]>,
    backlog_dropped: AtomicU64,
    /// Halves of calls whose other half the ring buffer lost.
    unpaired: AtomicU64,
    truncated: AtomicU64,
    faulted: AtomicU64,
    lost: AtomicU64,
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

/// Whether thread `tid` of `pid` is inside syscall `nr` now (blocked in
/// it: /proc shows "running" for a thread on a CPU, which at a close is
/// almost always in user space).
fn in_syscall(pid: u32, tid: u32, nr: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/syscall"))
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u32>().ok())
        == Some(nr)
}

impl Queue {
    /// `budget`: bytes of packed events kept for the user in memory, then
    /// in a temporary file, before new ones are dropped.
    pub fn new(reg: &Registration, start_ns: u64, budget: Budget) -> Self {
        Queue {
            launch_execs: reg.launched.map(|_| exec_syscalls()),
            backlog_dropped: AtomicU64::new(0),
            unpaired: AtomicU64::new(0),
            truncated: AtomicU64::new(0),
            faulted: AtomicU64::new(0),
            lost: AtomicU64::new(0),
            filter: Filter {
                enabled: Phase::ALL.map(|phase| reg.syscalls(phase).iter().collect()),
                signals: reg.signals,
                task_exits: reg.task_exits,
                tgids: match &reg.processes {
                    ProcessFilter::All => None,
                    ProcessFilter::Tgids(t) => Some(t.iter().copied().collect()),
                },
                follow: reg.follow,
                // Records without the time are numbered (1, 2, ...): no
                // bound of time applies to them.
                start_ns: if reg.clockless { 0 } else { start_ns },
                end_ns: AtomicU64::new(u64::MAX),
                clockless: reg.clockless,
            },
            backlog: Mutex::new(Backlog {
                store: if reg.clockless {
                    Store::numbered(budget)
                } else {
                    Store::new(budget)
                },
                closed: false,
                launching: reg.launched,
                filters: SessionFilters::new(&reg.filters),
                direct: None,
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
            if !queue.store.is_empty() || queue.closed {
                signal_fd(&self.ready_fd, true);
            }
        }
        self.ready_fd.get().map(|fd| fd.as_raw_fd())
    }

    /// Whether this session takes the events of process `pid`, a
    /// descendant of the registered process `root`.
    pub fn takes_process(&self, pid: u32, root: u32) -> bool {
        self.filter.takes_process(pid, root)
    }

    /// Whether it takes syscall `nr`'s events of `phase`; a launched
    /// command's exec counts too (its loss would lose the whole trace).
    pub fn takes_syscall(&self, phase: Phase, nr: u32) -> bool {
        self.filter.enabled[phase.index()].contains(nr) || self.is_launch_exec(phase, nr)
    }

    /// Whether it takes events of `kind` (and for a syscall's, as
    /// [`takes_syscall`](Self::takes_syscall)).
    pub fn takes_kind(&self, kind: EventKind, phase: Phase, nr: u32) -> bool {
        match kind {
            EventKind::Syscall => self.takes_syscall(phase, nr),
            other => self.filter.takes(other, phase, nr),
        }
    }

    /// The enter of an exec, for a session of a launched command.
    fn is_launch_exec(&self, phase: Phase, nr: u32) -> bool {
        phase == Phase::Enter && self.launch_execs.is_some_and(|nrs| nrs.contains(&nr))
    }

    fn backlog(&self) -> MutexGuard<'_, Backlog> {
        // A panic elsewhere while holding the lock leaves plain data behind.
        self.backlog.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The budgets of the events kept for the user.
    pub fn budget(&self) -> Budget {
        self.backlog().store.budget()
    }

    /// Packed bytes waiting, in memory and spilled to the temporary file,
    /// and why spilling failed if it did.
    pub fn stored(&self) -> ((usize, u64), Option<String>) {
        let queue = self.backlog();
        (
            queue.store.bytes(),
            queue.store.spill_error().map(str::to_owned),
        )
    }

    /// Whether `ev` is still the launcher's part of a launched command, up
    /// to its execve; its execve ends that part.
    fn launching(&self, launching: &mut Option<u32>, ev: &Event) -> bool {
        if *launching != Some(ev.pid) {
            return false;
        }
        if !ev.is_syscall() || !self.is_launch_exec(ev.phase, ev.nr) {
            return true;
        }
        *launching = None;
        false
    }

    /// Called by the consumer thread with each decoded batch.
    pub fn deliver<'b>(&self, batch: &'b [Event]) {
        let mut queue = self.backlog();
        let queue = &mut *queue;
        let before = queue.store.len();
        let mut lost = 0u64;
        let mut losses = CaptureLosses::default();
        // With a direct consumer: the events it takes, in order, by
        // reference (an enter a filter held is owned, in `held`). A Vec of
        // Cow<Event> was 144 bytes a slot, 147 KiB per batch (issue 15).
        enum Kept<'b> {
            Batch(&'b Event),
            Held(usize),
        }
        let direct = queue.direct.is_some();
        let mut kept: Vec<Kept<'b>> = Vec::new();
        let mut held: Vec<Event> = Vec::new();
        let mut push = |queue: &mut Backlog, ev: &Event| {
            // Past both budgets the events are lost here, as in a full ring
            // buffer, and counted the same way.
            if !direct && !queue.store.push(ev) {
                lost += 1;
                return;
            }
            if ev.data.is_some() {
                for cap in ev.captures() {
                    losses.truncated += u64::from(cap.truncated);
                    losses.faulted += u64::from(cap.faulted);
                    losses.lost += u64::from(cap.lost);
                }
            }
        };
        for ev in batch {
            if self.launching(&mut queue.launching, ev) {
                continue;
            }
            if !self.filter.matches(ev) {
                if ev.is_syscall()
                    && ev.phase == Phase::Exit
                    && ev.timestamp_ns > self.filter.end_ns()
                {
                    queue.filters.end_after_close(ev);
                }
                continue;
            }
            let verdict = if queue.filters.is_empty() {
                Verdict::Keep
            } else {
                let traces_enter = self.filter.enabled[Phase::Enter.index()].contains(ev.nr);
                queue.filters.apply(ev, traces_enter)
            };
            match verdict {
                Verdict::Drop => continue,
                Verdict::Keep => {}
                Verdict::KeepAfter(None) => {}
                Verdict::KeepAfter(Some(enter)) => {
                    push(queue, &enter);
                    if direct {
                        held.push(enter);
                        kept.push(Kept::Held(held.len() - 1));
                    }
                }
            }
            push(queue, ev);
            if direct {
                kept.push(Kept::Batch(ev));
            }
        }
        if let Some(direct) = queue.direct.as_mut() {
            if !kept.is_empty() {
                let events: Vec<&Event> = kept
                    .iter()
                    .map(|k| match *k {
                        Kept::Batch(ev) => ev,
                        Kept::Held(i) => &held[i],
                    })
                    .collect();
                direct(&events);
            }
        }
        if lost > 0 {
            self.backlog_dropped.fetch_add(lost, Ordering::Relaxed);
        }
        let unpaired = queue.filters.take_unpaired();
        if unpaired > 0 {
            self.unpaired.fetch_add(unpaired, Ordering::Relaxed);
        }
        self.truncated
            .fetch_add(losses.truncated, Ordering::Relaxed);
        self.faulted.fetch_add(losses.faulted, Ordering::Relaxed);
        self.lost.fetch_add(losses.lost, Ordering::Relaxed);
        if queue.store.len() > before {
            self.ready.notify_all();
            if before == 0 {
                signal_fd(&self.ready_fd, true);
            }
        }
    }

    /// Called by the consumer thread when it has taken all the ring held
    /// (the end of each round): a direct consumer hears it as an empty
    /// batch (the command's printer writes a blocked call's first part).
    pub fn round_end(&self) {
        if let Some(direct) = self.backlog().direct.as_mut() {
            direct(&[]);
        }
    }

    /// From now on hands the events to `direct` as they are delivered,
    /// after those waiting (in order); the store stays empty.
    pub fn set_direct(&self, mut direct: Direct) {
        let mut queue = self.backlog();
        loop {
            let waiting = queue.store.take();
            if waiting.is_empty() {
                break;
            }
            direct(&waiting.iter().collect::<Vec<_>>());
        }
        queue.direct = Some(direct);
        if !queue.closed {
            signal_fd(&self.ready_fd, false);
        }
    }

    /// Captures that did not happen whole, in the events delivered so far.
    pub fn capture_losses(&self) -> CaptureLosses {
        CaptureLosses {
            truncated: self.truncated.load(Ordering::Relaxed),
            faulted: self.faulted.load(Ordering::Relaxed),
            lost: self.lost.load(Ordering::Relaxed),
        }
    }

    /// At the close, once every record of the session's is delivered: the
    /// enters its filters still hold are counted lost, but for calls still
    /// running (`SessionFilters::settle`).
    pub fn settle_held(&self) {
        let mut queue = self.backlog();
        if queue.filters.is_empty() {
            return;
        }
        // SAFETY: gettid has no preconditions. The closing thread is not
        // in the held call: it is here.
        let me = unsafe { libc::gettid() } as u32;
        queue
            .filters
            .settle(|enter| enter.tid != me && in_syscall(enter.pid, enter.tid, enter.nr));
        let unpaired = queue.filters.take_unpaired();
        self.unpaired.fetch_add(unpaired, Ordering::Relaxed);
    }

    /// Halves of calls its filters could not deliver because the ring
    /// buffer lost the other half (`SessionFilters`' unpaired).
    pub fn unpaired(&self) -> u64 {
        self.unpaired.load(Ordering::Relaxed)
    }

    /// Events lost because the user did not take them in time.
    pub fn backlog_dropped(&self) -> u64 {
        self.backlog_dropped.load(Ordering::Relaxed)
    }

    pub fn set_end(&self, end_ns: u64) {
        if self.filter.clockless {
            return;
        }
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
        while queue.store.is_empty() && !queue.closed {
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
        let events = queue.store.take();
        // Some may be left (a spilled trace comes back in shares).
        if !queue.closed && queue.store.is_empty() {
            signal_fd(&self.ready_fd, false);
        }
        events
    }

    pub fn pending(&self) -> usize {
        self.backlog().store.len()
    }
}

impl Sink for Queue {
    fn deliver(&self, events: &[Event]) {
        Queue::deliver(self, events)
    }

    fn round_end(&self) {
        Queue::round_end(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::decode::{decode, tests::enter_record};
    use std::collections::BTreeSet;

    const UNBOUNDED: Budget = Budget {
        memory: usize::MAX,
        spill: 0,
    };

    #[test]
    fn a_following_session_takes_its_processes_descendants() {
        let reg = |follow| Registration {
            enter: BTreeSet::from([0]),
            processes: ProcessFilter::Tgids(BTreeSet::from([100])),
            follow,
            ..Default::default()
        };
        let mut child = decode(&enter_record(0, &[1], 200, 200)).unwrap();
        child.root = 100; // a descendant of 100, found by following its forks
        let mut stranger = child.clone();
        stranger.root = 300;
        for (follow, taken) in [(true, 1), (false, 0)] {
            let q = Queue::new(&reg(follow), 0, UNBOUNDED);
            q.deliver(&[child.clone(), stranger.clone()]);
            assert_eq!(q.pending(), taken, "follow={follow}");
        }
    }

    #[test]
    fn delivers_only_matching_events() {
        let reg = Registration {
            enter: BTreeSet::from([0]),
            exit: BTreeSet::new(),
            processes: ProcessFilter::Tgids(BTreeSet::from([100])),
            ..Default::default()
        };
        let s = Queue::new(&reg, 10, UNBOUNDED);
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
        // Room for one packed event: the next two are dropped and counted.
        let probe = Queue::new(&reg, 10, UNBOUNDED);
        probe.deliver(std::slice::from_ref(&ok));
        let one = Budget {
            memory: probe.stored().0 .0,
            spill: 0,
        };
        let small = Queue::new(&reg, 10, one);
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
        let s = Queue::new(&reg, 10, UNBOUNDED);
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
        let s = Queue::new(&both, 10, UNBOUNDED);
        s.deliver(&[read(100), exec.clone(), read(100)]);
        assert_eq!(s.take(Duration::ZERO), vec![exec, read(100)]);
    }

    #[test]
    fn a_direct_consumer_takes_the_events_in_order_and_the_store_none() {
        use std::sync::{Arc, Mutex};
        let reg = Registration {
            enter: BTreeSet::from([0]),
            processes: ProcessFilter::Tgids(BTreeSet::from([100])),
            ..Default::default()
        };
        let q = Queue::new(&reg, 10, UNBOUNDED);
        let read = |fd: u64| decode(&enter_record(0, &[fd], 100, 100)).unwrap();
        let stranger = decode(&enter_record(0, &[9], 200, 200)).unwrap();
        q.deliver(&[read(1)]); // waiting before: handed over first
        let seen = Arc::new(Mutex::new(Vec::new()));
        let theirs = Arc::clone(&seen);
        q.set_direct(Box::new(move |events| {
            theirs
                .lock()
                .unwrap()
                .extend(events.iter().map(|ev| ev.args[0]))
        }));
        q.deliver(&[read(2), stranger, read(3)]);
        assert_eq!(*seen.lock().unwrap(), vec![1, 2, 3]);
        assert_eq!((q.pending(), q.backlog_dropped()), (0, 0));
    }
}
