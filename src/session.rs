//! What one session sees: its filter and its queue of events.
//!
//! The programs trace the union of every session's syscalls and processes;
//! the consumer thread hands each decoded event to every session whose own
//! filter matches it, so each session gets exactly its events, each once.
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::decode::Event;
use crate::layout::BITMAP_WORDS;
use crate::metadata::event_class::Phase;
use crate::register::{ProcessFilter, Registration};

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

fn bitmap(nrs: &BTreeSet<u32>) -> [u64; BITMAP_WORDS] {
    let mut words = [0u64; BITMAP_WORDS];
    for &nr in nrs {
        words[nr as usize / 64] |= 1 << (nr % 64);
    }
    words
}

struct Filter {
    enter: [u64; BITMAP_WORDS],
    exit: [u64; BITMAP_WORDS],
    /// None: every process.
    tgids: Option<Vec<u32>>,
    /// Events before the session opened belong to someone else.
    start_ns: u64,
    /// Set when closing starts: what the closing itself does is not traced.
    end_ns: AtomicU64,
}

impl Filter {
    fn matches(&self, ev: &Event) -> bool {
        let words = match ev.phase {
            Phase::Enter => &self.enter,
            Phase::Exit => &self.exit,
        };
        let nr = ev.nr as usize;
        words[nr / 64] & (1 << (nr % 64)) != 0
            && ev.timestamp_ns >= self.start_ns
            && ev.timestamp_ns <= self.end_ns.load(Ordering::Relaxed)
            && self.tgids.as_ref().is_none_or(|t| t.contains(&ev.pid))
    }
}

#[derive(Default)]
struct Queue {
    events: Vec<Event>,
    closed: bool,
}

pub struct SessionShared {
    filter: Filter,
    queue: Mutex<Queue>,
    ready: Condvar,
}

impl SessionShared {
    pub fn new(reg: &Registration, start_ns: u64) -> Self {
        SessionShared {
            filter: Filter {
                enter: bitmap(&reg.enter),
                exit: bitmap(&reg.exit),
                tgids: match &reg.processes {
                    ProcessFilter::All => None,
                    ProcessFilter::Tgids(t) => Some(t.iter().copied().collect()),
                },
                start_ns,
                end_ns: AtomicU64::new(u64::MAX),
            },
            queue: Mutex::new(Queue::default()),
            ready: Condvar::new(),
        }
    }

    fn queue(&self) -> MutexGuard<'_, Queue> {
        // A panic elsewhere while holding the lock leaves plain data behind.
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Called by the consumer thread with each decoded batch.
    pub fn deliver(&self, batch: &[Event]) {
        let mut queue = self.queue();
        let before = queue.events.len();
        queue
            .events
            .extend(batch.iter().filter(|ev| self.filter.matches(ev)));
        if queue.events.len() > before {
            self.ready.notify_all();
        }
    }

    pub fn set_end(&self, end_ns: u64) {
        self.filter.end_ns.store(end_ns, Ordering::Relaxed);
    }

    /// No more events will come: wake every waiter.
    pub fn finish(&self) {
        self.queue().closed = true;
        self.ready.notify_all();
    }

    pub fn is_finished(&self) -> bool {
        self.queue().closed
    }

    /// Takes what has arrived, waiting up to `wait` for the first event.
    /// Returns early, possibly empty, once the session is finished.
    pub fn take(&self, wait: Duration) -> Vec<Event> {
        let deadline = Instant::now() + wait;
        let mut queue = self.queue();
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
        std::mem::take(&mut queue.events)
    }

    pub fn pending(&self) -> usize {
        self.queue().events.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{decode, tests::enter_record};

    #[test]
    fn delivers_only_matching_events() {
        let reg = Registration {
            enter: BTreeSet::from([0]),
            exit: BTreeSet::new(),
            processes: ProcessFilter::Tgids(BTreeSet::from([100])),
        };
        let s = SessionShared::new(&reg, 10);
        let ok = decode(&enter_record(0, &[1, 2, 3], 100, 100)).unwrap();
        let other_nr = decode(&enter_record(1, &[1, 2, 3], 100, 100)).unwrap();
        let other_pid = decode(&enter_record(0, &[1, 2, 3], 200, 200)).unwrap();
        let too_early = Event {
            timestamp_ns: 5,
            ..ok
        };
        s.deliver(&[ok, other_nr, other_pid, too_early]);
        s.set_end(41);
        s.deliver(&[ok]); // timestamp 42: after the end
        assert_eq!(s.take(Duration::ZERO), vec![ok]);
        s.finish();
        assert!(
            s.take(Duration::from_secs(10)).is_empty(),
            "a finished session must not block"
        );
    }
}
