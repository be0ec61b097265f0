//! Enter and exit events into calls, per thread. A thread is in at most one
//! syscall at a time, so its exit closes the enter before it. What does not
//! pair is kept, not dropped: an enter whose exit never came is an
//! unfinished call (exit_group, a killed process, the end of the trace), an
//! exit without its enter a call that began before tracing did.
use std::collections::HashMap;

use crate::names::syscall_name;

/// What pairing needs to know of an event.
pub trait PairEvent {
    fn tid(&self) -> u32;
    fn nr(&self) -> u32;
    fn is_enter(&self) -> bool;
    fn timestamp_ns(&self) -> u64;
}

impl PairEvent for crate::decode::Event {
    fn tid(&self) -> u32 {
        self.tid
    }
    fn nr(&self) -> u32 {
        self.nr
    }
    fn is_enter(&self) -> bool {
        self.phase == crate::metadata::event_class::Phase::Enter
    }
    fn timestamp_ns(&self) -> u64 {
        self.timestamp_ns
    }
}

/// One call: an enter, an exit, or both.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Paired<E> {
    pub enter: Option<E>,
    pub exit: Option<E>,
}

impl<E: PairEvent> Paired<E> {
    /// exit - enter, when both were seen.
    pub fn duration_ns(&self) -> Option<u64> {
        match (&self.enter, &self.exit) {
            (Some(a), Some(b)) => Some(b.timestamp_ns().saturating_sub(a.timestamp_ns())),
            _ => None,
        }
    }
    /// When the call began (or, without its enter, ended).
    pub fn start_ns(&self) -> u64 {
        self.enter
            .as_ref()
            .or(self.exit.as_ref())
            .map_or(0, |e| e.timestamp_ns())
    }
    pub fn is_unfinished(&self) -> bool {
        self.exit.is_none()
    }
    pub fn is_resumed(&self) -> bool {
        self.enter.is_none()
    }
}

/// Syscalls that have no exit event: exit and exit_group do not return,
/// and rt_sigreturn's exit is not reported (restoring the signal frame sets
/// the syscall number the exit tracepoint reads to -1). A call to one is
/// complete at its enter.
pub fn never_returns(nr: u32) -> bool {
    matches!(
        syscall_name(nr),
        Some("exit" | "exit_group" | "rt_sigreturn")
    )
}

/// Pairs a stream of events. Events of one thread must come in the order
/// they happened; threads may interleave freely.
#[derive(Debug)]
pub struct Pairer<E> {
    pending: HashMap<u32, E>,
}

impl<E> Default for Pairer<E> {
    fn default() -> Self {
        Pairer {
            pending: HashMap::new(),
        }
    }
}

impl<E: PairEvent> Pairer<E> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds one event; returns the calls it completes (none, one, or two
    /// when it also shows that an earlier enter will never see its exit).
    pub fn push(&mut self, ev: E) -> Vec<Paired<E>> {
        let mut done = Vec::new();
        let tid = ev.tid();
        if ev.is_enter() {
            if let Some(prev) = self.pending.remove(&tid) {
                // A new enter on the thread: the previous call's exit was
                // lost (or the thread is new under a reused id).
                done.push(Paired {
                    enter: Some(prev),
                    exit: None,
                });
            }
            if never_returns(ev.nr()) {
                done.push(Paired {
                    enter: Some(ev),
                    exit: None,
                });
            } else {
                self.pending.insert(tid, ev);
            }
        } else {
            match self.pending.remove(&tid) {
                Some(enter) if enter.nr() == ev.nr() => done.push(Paired {
                    enter: Some(enter),
                    exit: Some(ev),
                }),
                Some(enter) => {
                    done.push(Paired {
                        enter: Some(enter),
                        exit: None,
                    });
                    done.push(Paired {
                        enter: None,
                        exit: Some(ev),
                    });
                }
                None => done.push(Paired {
                    enter: None,
                    exit: Some(ev),
                }),
            }
        }
        done
    }

    /// Calls entered and not yet returned.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// The calls still open on thread `tid`, e.g. once it has exited.
    pub fn take_thread(&mut self, tid: u32) -> Option<Paired<E>> {
        self.pending.remove(&tid).map(|enter| Paired {
            enter: Some(enter),
            exit: None,
        })
    }

    /// Ends the stream: every call still open is unfinished. In order of time.
    pub fn finish(&mut self) -> Vec<Paired<E>> {
        let mut left: Vec<Paired<E>> = self
            .pending
            .drain()
            .map(|(_, enter)| Paired {
                enter: Some(enter),
                exit: None,
            })
            .collect();
        left.sort_by_key(|p| p.start_ns());
        left
    }
}

/// Pairs a whole trace; the calls come in order of their start.
pub fn pair_events<E: PairEvent>(events: impl IntoIterator<Item = E>) -> Vec<Paired<E>> {
    let mut pairer = Pairer::new();
    let mut calls: Vec<Paired<E>> = Vec::new();
    for ev in events {
        calls.extend(pairer.push(ev));
    }
    calls.extend(pairer.finish());
    calls.sort_by_key(|p| p.start_ns());
    calls
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Debug, PartialEq, Eq)]
    struct Ev(u32, u32, bool, u64);

    impl PairEvent for Ev {
        fn tid(&self) -> u32 {
            self.0
        }
        fn nr(&self) -> u32 {
            self.1
        }
        fn is_enter(&self) -> bool {
            self.2
        }
        fn timestamp_ns(&self) -> u64 {
            self.3
        }
    }

    const READ: u32 = 0;
    const WRITE: u32 = 1;
    #[cfg(target_arch = "x86_64")]
    const EXIT_GROUP: u32 = 231;

    #[test]
    fn pairs_per_thread_with_duration() {
        let calls = pair_events(vec![
            Ev(1, READ, true, 10),
            Ev(2, WRITE, true, 11),
            Ev(2, WRITE, false, 15),
            Ev(1, READ, false, 30),
        ]);
        assert_eq!(calls.len(), 2);
        assert_eq!(calls[0].enter, Some(Ev(1, READ, true, 10)));
        assert_eq!(calls[0].duration_ns(), Some(20));
        assert_eq!(calls[1].duration_ns(), Some(4));
        assert!(!calls[0].is_unfinished() && !calls[0].is_resumed());
    }

    #[test]
    fn unfinished_and_resumed() {
        let calls = pair_events(vec![
            // Tracing began while thread 3 was in read.
            Ev(3, READ, false, 5),
            Ev(1, READ, true, 10),
            // Thread 1's exit was lost: a new enter shows it.
            Ev(1, WRITE, true, 20),
            Ev(1, WRITE, false, 21),
            // Thread 2 is still in read when the trace ends.
            Ev(2, READ, true, 25),
        ]);
        let shape: Vec<(bool, bool, u64)> = calls
            .iter()
            .map(|c| (c.enter.is_some(), c.exit.is_some(), c.start_ns()))
            .collect();
        assert_eq!(
            shape,
            vec![
                (false, true, 5),
                (true, false, 10),
                (true, true, 20),
                (true, false, 25)
            ]
        );
        assert_eq!(calls[0].duration_ns(), None);
    }

    #[test]
    fn mismatched_exit_splits() {
        let mut p = Pairer::new();
        assert!(p.push(Ev(1, READ, true, 1)).is_empty());
        let done = p.push(Ev(1, WRITE, false, 2));
        assert_eq!(done.len(), 2);
        assert!(done[0].is_unfinished() && done[1].is_resumed());
        assert_eq!(p.pending(), 0);
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn exit_group_completes_at_enter() {
        let mut p = Pairer::new();
        let done = p.push(Ev(1, EXIT_GROUP, true, 1));
        assert_eq!(done.len(), 1);
        assert!(done[0].is_unfinished());
        assert_eq!(p.pending(), 0);
        assert!(p.push(Ev(1, READ, true, 2)).is_empty());
        assert!(p.take_thread(1).is_some());
        assert!(p.finish().is_empty());
    }
}
