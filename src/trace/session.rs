//! One user's view of the tracer: what its registration enabled, and its
//! queue of events. Opening registers (attaching on the first enable, under
//! the tracer's lock); closing unregisters and delivers the last events.
//!
//! Loss accounting: every event the session would have received is either
//! delivered to its queue or counted in `dropped()`: lost to a full ring
//! buffer (the programs count by process, registered ancestor, syscall and
//! phase, and the session sums what its filter takes), or to the session's
//! own backlog bound.
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use super::queue::{monotonic_ns, CaptureLosses, Queue};
use super::quiet::Quiet;
use super::registry::Registration;
use super::store::Budget;
use super::tracer::{check_buffer_size, getpid, lock, tracer, Tracer};
use crate::error::Result;
use crate::kernel::consumer::Sink;
use crate::kernel::layout::{systrace_count, systrace_count_key};
use crate::kernel::Event;

/// One syscall's calls counted in the kernel (a counting session's), for
/// one process or for all the session's.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SyscallCount {
    pub nr: u32,
    /// The process, when counted per process.
    pub pid: Option<u32>,
    pub calls: u64,
    /// Calls that returned an error, and how many of each errno.
    pub errors: u64,
    pub errnos: BTreeMap<i32, u64>,
    /// Time in the calls (enter to exit), of those whose enter was seen.
    pub time_ns: u64,
    /// Of `time_ns`, the time the calls' threads ran (on a CPU, in the
    /// kernel): what strace -c shows, where `time_ns` is its -w.
    pub system_ns: u64,
    /// Calls by duration: bucket i counts [2^i, 2^(i+1)) ns.
    pub histogram: Vec<u64>,
}

type CountKey = (u32, u32, u32);

/// The counting maps as read at one moment, by (tgid, root, nr).
#[derive(Clone, Debug, Default)]
struct CountSnapshot {
    counts: HashMap<CountKey, systrace_count>,
    errnos: HashMap<(CountKey, u32), u64>,
}

fn key_of(k: &systrace_count_key) -> CountKey {
    (k.tgid, k.root, k.nr)
}

/// What a session keeps for its user in memory unless told: an eighth of
/// the machine's memory (of packed events: tens of millions of them), so
/// that reading a large trace after the session ended (the `with` block,
/// then the events) loses nothing, and a session nobody reads cannot take
/// the machine.
pub fn default_max_memory() -> usize {
    // SAFETY: sysconf has no preconditions.
    let (pages, page) = unsafe {
        (
            libc::sysconf(libc::_SC_PHYS_PAGES),
            libc::sysconf(libc::_SC_PAGESIZE),
        )
    };
    if pages <= 0 || page <= 0 {
        return 1 << 30;
    }
    (pages as usize).saturating_mul(page as usize) / 8
}

/// What a session spills past its memory budget unless told: half the free
/// space of the temporary directory ($TMPDIR, else /tmp) when it opens.
pub fn default_max_spill() -> u64 {
    let Ok(dir) =
        std::ffi::CString::new(std::env::temp_dir().into_os_string().into_encoded_bytes())
    else {
        return 0;
    };
    // SAFETY: statvfs writes the struct we pass; `dir` is NUL-terminated.
    unsafe {
        let mut st: libc::statvfs = std::mem::zeroed();
        if libc::statvfs(dir.as_ptr(), &mut st) != 0 {
            return 0;
        }
        (st.f_bavail as u64).saturating_mul(st.f_frsize as u64) / 2
    }
}

/// Counts of the kernel side that a session compares at open and close.
#[derive(Clone, Copy, Debug, Default)]
struct KernelCounts {
    /// Lost records this session would have received.
    dropped: u64,
    /// Lost records the programs could not attribute (their map was full).
    unattributed: u64,
    /// Children of followed processes that could not be followed.
    untraced_forks: u64,
    /// Calls the counting maps had no room for.
    uncounted: u64,
}

/// What the session lost, and what it could not tell about.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Losses {
    /// Events this session would have received, not delivered.
    pub dropped: u64,
    /// Of `dropped`: past what the session keeps for its user (max_memory,
    /// then max_spill);
    /// the rest were lost to a full ring buffer.
    pub backlog: u64,
    /// Of `dropped`: events lost while the kernel's drop counters were full,
    /// which cannot be attributed to a session; every session open then
    /// counts them (an upper bound).
    pub unattributed: u64,
    /// Children of the followed processes that could not be followed (the
    /// process filter map was full): their events were not recorded.
    pub untraced_children: u64,
    /// Calls a counting session could not count (the kernel's counting
    /// maps were full); not attributable, so every counting session open
    /// then counts them.
    pub uncounted: u64,
}

/// One user's view: its registration and its events.
pub struct Session {
    queue: Arc<Queue>,
    registration: Registration,
    pid: u32,
    buffer_size: usize,
    at_open: KernelCounts,
    at_close: Option<Losses>,
    /// Counting sessions: the counting maps at open, and what was counted
    /// during the session once closed.
    counts_at_open: CountSnapshot,
    counts_at_close: Option<CountSnapshot>,
}

impl Session {
    fn kernel_counts(&self, tracer: &Tracer) -> KernelCounts {
        let queue = &self.queue;
        KernelCounts {
            dropped: tracer.programs.dropped(|tgid, root, kind, phase, nr| {
                queue.takes_kind(kind, phase, nr) && queue.takes_process(tgid, root)
            }),
            unattributed: tracer.programs.drops_unattributed(),
            uncounted: if self.registration.count.is_empty() {
                0
            } else {
                tracer.programs.counts_unattributed()
            },
            untraced_forks: if self.registration.follow {
                tracer.programs.untraced_forks()
            } else {
                0
            },
        }
    }

    fn count_snapshot(&self, tracer: &Tracer) -> CountSnapshot {
        if self.registration.count.is_empty() {
            return CountSnapshot::default();
        }
        let queue = &self.queue;
        let count = &self.registration.count;
        let wanted = |tgid, root, nr| count.contains(&nr) && queue.takes_process(tgid, root);
        CountSnapshot {
            counts: tracer
                .programs
                .counts(wanted)
                .into_iter()
                .map(|(k, c)| (key_of(&k), c))
                .collect(),
            errnos: tracer
                .programs
                .errnos(wanted)
                .into_iter()
                .map(|(k, n)| ((key_of(&k), k.err), n))
                .collect(),
        }
    }

    /// What was counted since open: `now` less the counts at open.
    fn counted_since_open(&self, now: CountSnapshot) -> CountSnapshot {
        let before = &self.counts_at_open;
        let mut out = CountSnapshot::default();
        for (key, mut c) in now.counts {
            if let Some(b) = before.counts.get(&key) {
                c.calls -= b.calls.min(c.calls);
                c.errors -= b.errors.min(c.errors);
                c.total_ns -= b.total_ns.min(c.total_ns);
                c.system_ns -= b.system_ns.min(c.system_ns);
                for (h, bh) in c.hist.iter_mut().zip(b.hist) {
                    *h -= bh.min(*h);
                }
            }
            if c.calls > 0 {
                out.counts.insert(key, c);
            }
        }
        for (key, n) in now.errnos {
            let n = n - before.errnos.get(&key).copied().unwrap_or(0).min(n);
            if n > 0 {
                out.errnos.insert(key, n);
            }
        }
        out
    }

    /// Whether its counts are kept per syscall only (not per process).
    pub fn counts_by_root(&self) -> bool {
        self.registration.count_by_root
    }

    /// The calls counted in the kernel during this session, per syscall
    /// (and per process with `per_process`), by syscall number then pid.
    pub fn counts(&self, per_process: bool) -> Vec<SyscallCount> {
        let snapshot = match &self.counts_at_close {
            Some(done) => done.clone(),
            None => {
                if self.is_inherited() {
                    return Vec::new();
                }
                let _quiet = Quiet::enter();
                match lock().as_ref() {
                    Some(t) if t.pid == getpid() => self.counted_since_open(self.count_snapshot(t)),
                    _ => return Vec::new(),
                }
            }
        };
        let mut rows: BTreeMap<(u32, Option<u32>), SyscallCount> = BTreeMap::new();
        for ((tgid, _, nr), c) in &snapshot.counts {
            let pid = per_process.then_some(*tgid);
            let row = rows.entry((*nr, pid)).or_insert_with(|| SyscallCount {
                nr: *nr,
                pid,
                histogram: vec![0; c.hist.len()],
                ..Default::default()
            });
            row.calls += c.calls;
            row.errors += c.errors;
            row.time_ns += c.total_ns;
            row.system_ns += c.system_ns;
            for (h, n) in row.histogram.iter_mut().zip(c.hist) {
                *h += n;
            }
        }
        for (((tgid, _, nr), err), n) in &snapshot.errnos {
            let pid = per_process.then_some(*tgid);
            if let Some(row) = rows.get_mut(&(*nr, pid)) {
                *row.errnos.entry(*err as i32).or_insert(0) += n;
            }
        }
        rows.into_values().collect()
    }

    fn losses_now(&self, tracer: &Tracer) -> Losses {
        let now = self.kernel_counts(tracer);
        let unattributed = now.unattributed - self.at_open.unattributed;
        Losses {
            dropped: now.dropped - self.at_open.dropped
                + unattributed
                + self.queue.unpaired()
                + self.queue.backlog_dropped(),
            backlog: self.queue.backlog_dropped(),
            unattributed,
            untraced_children: now.untraced_forks - self.at_open.untraced_forks,
            uncounted: now.uncounted - self.at_open.uncounted,
        }
    }

    /// `max_memory`: bytes of packed events the session keeps for its user
    /// in memory ([`default_max_memory`] if None); past it they go to a
    /// temporary file, up to `max_spill` bytes ([`default_max_spill`] if
    /// None); past both, events are dropped and counted.
    pub fn open(
        registration: Registration,
        buffer_size: Option<usize>,
        max_memory: Option<usize>,
        max_spill: Option<u64>,
    ) -> Result<Session> {
        if let Some(size) = buffer_size {
            check_buffer_size(size)?;
        }
        let _quiet = Quiet::enter();
        let mut guard = lock();
        let tracer = tracer(&mut guard, buffer_size, Some(&registration))?;
        let budget = Budget {
            memory: max_memory.unwrap_or_else(default_max_memory),
            spill: max_spill.unwrap_or_else(default_max_spill),
        };
        let queue = Arc::new(Queue::new(&registration, monotonic_ns(), budget));
        let mut session = Session {
            queue: Arc::clone(&queue),
            registration,
            pid: getpid(),
            buffer_size: tracer.programs.buffer_size(),
            at_open: KernelCounts::default(),
            at_close: None,
            counts_at_open: CountSnapshot::default(),
            counts_at_close: None,
        };
        session.at_open = session.kernel_counts(tracer);
        session.counts_at_open = session.count_snapshot(tracer);
        let sink: Arc<dyn Sink> = queue;
        tracer.consumer.add_session(sink.clone());
        if let Err(err) = tracer
            .registry
            .register(&mut tracer.programs, &session.registration)
        {
            tracer.consumer.remove_session(&sink);
            // Not registered: nothing to close.
            session.at_close = Some(Losses::default());
            return Err(err);
        }
        tracer.sessions += 1;
        tracer.queue_metadata_read();
        Ok(session)
    }

    pub fn queue(&self) -> Arc<Queue> {
        Arc::clone(&self.queue)
    }

    pub fn registration(&self) -> &Registration {
        &self.registration
    }

    pub fn buffer_size(&self) -> usize {
        self.buffer_size
    }

    pub fn is_closed(&self) -> bool {
        self.at_close.is_some() || self.is_inherited()
    }

    /// True in a child forked from the process that opened the session.
    pub fn is_inherited(&self) -> bool {
        self.pid != getpid()
    }

    /// Disables this session's syscalls and delivers its last events.
    /// Closing twice does nothing, as with files.
    pub fn close(&mut self) -> Result<()> {
        if self.is_closed() {
            return Ok(());
        }
        // Nothing the closing itself does is this session's to see.
        self.queue.set_end(monotonic_ns());
        let _quiet = Quiet::enter();
        let mut guard = lock();
        let result = match guard.as_mut() {
            Some(tracer) if tracer.pid == self.pid => {
                tracer
                    .registry
                    .unregister(&mut tracer.programs, &self.registration);
                tracer.sessions -= 1;
                // After detach the kernel has committed every record of ours.
                let flushed = tracer.consumer.flush();
                self.queue.settle_held();
                self.at_close = Some(self.losses_now(tracer));
                if !self.registration.count.is_empty() {
                    let now = self.count_snapshot(tracer);
                    self.counts_at_close = Some(self.counted_since_open(now));
                }
                let sink: Arc<dyn Sink> = self.queue.clone();
                tracer.consumer.remove_session(&sink);
                self.forget_children(tracer);
                if tracer.sessions == 0 {
                    // No session left to count for: start the counts afresh.
                    tracer.programs.clear_dropped();
                }
                flushed
            }
            // Forked from the process that opened it: the programs are the
            // parent's (and were closed in the child at the fork).
            _ => {
                self.at_close = Some(Losses::default());
                Ok(())
            }
        };
        self.queue.finish();
        result
    }

    /// Forgets the processes found by following this session's processes
    /// that no open session follows any more (the programs forget each
    /// one when it exits; these outlived the session).
    fn forget_children(&self, tracer: &mut Tracer) {
        if !self.registration.follow {
            return;
        }
        let registry = &tracer.registry;
        let mine = |root: u32| self.queue.takes_process(root, root) && !registry.is_followed(root);
        for child in tracer.programs.discovered(mine) {
            let _ = tracer.programs.set_traced_tgid(child, None);
        }
    }

    /// The events that arrived, waiting up to `wait` for a first one.
    pub fn take(&self, wait: Duration) -> Vec<Event> {
        if self.is_inherited() {
            return Vec::new();
        }
        self.queue.take(wait)
    }

    pub fn is_finished(&self) -> bool {
        self.is_inherited() || self.queue.is_finished()
    }

    pub fn pending(&self) -> usize {
        if self.is_inherited() {
            return 0;
        }
        self.queue.pending()
    }

    /// What this session lost so far (final once closed).
    pub fn losses(&self) -> Losses {
        if let Some(losses) = self.at_close {
            return losses;
        }
        if self.is_inherited() {
            return Losses::default();
        }
        let _quiet = Quiet::enter();
        match lock().as_ref() {
            Some(t) if t.pid == getpid() => self.losses_now(t),
            _ => Losses::default(),
        }
    }

    /// Events this session would have received that were lost.
    pub fn dropped(&self) -> u64 {
        self.losses().dropped
    }

    /// Captures in the delivered events that did not happen whole.
    pub fn capture_losses(&self) -> CaptureLosses {
        self.queue.capture_losses()
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.close();
    }
}
