//! Enter and exit events into calls, per thread (task events pair with
//! nothing: a thread's exit ends the call it was in, unfinished). A thread is in at most one
//! syscall at a time, so its exit closes the enter before it. What does not
//! pair is kept, not dropped: an enter whose exit never came is an
//! unfinished call (exit_group, a killed process, the end of the trace), an
//! exit without its enter a call that began before tracing did.
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::OnceLock;

use super::call::Call;
use crate::kernel::{Bitmap, Event, EventKind, Phase};
use crate::metadata::{names, syscall_name};

/// Syscalls that have no exit event: exit and exit_group do not return,
/// and rt_sigreturn's exit is not reported (restoring the signal frame sets
/// the syscall number the exit tracepoint reads to -1). A call to one is
/// complete at its enter.
pub fn never_returns(nr: u32) -> bool {
    // Asked once per enter event: a bitmap, made once.
    static NEVER: OnceLock<Bitmap> = OnceLock::new();
    NEVER
        .get_or_init(|| syscall_set(&["exit", "exit_group", "rt_sigreturn"]))
        .contains(nr)
}

/// A successful execveat's exit, which the kernel reports as execve's (its
/// own events too): the call is execveat's, as strace shows it (what its
/// exit read again is named as execve's arguments, which have the same
/// names, bpf/capture.bpf.h).
/// execve or execveat.
pub fn is_exec(nr: u32) -> bool {
    nr == syscalls::Sysno::execve.id() as u32 || nr == syscalls::Sysno::execveat.id() as u32
}

/// clone, clone3, fork or vfork: the calls that make a process (or a
/// thread), whose child's first event is their exit returning 0.
pub fn is_fork(nr: u32) -> bool {
    static FORKS: OnceLock<Bitmap> = OnceLock::new();
    FORKS
        .get_or_init(|| syscall_set(&["clone", "clone3", "fork", "vfork"]))
        .contains(nr)
}

fn execveat_returned(enter: &Event, exit: &Event) -> bool {
    const EXECVE: u32 = syscalls::Sysno::execve.id() as u32;
    const EXECVEAT: u32 = syscalls::Sysno::execveat.id() as u32;
    enter.nr == EXECVEAT && exit.nr == EXECVE && exit.ret == 0
}

/// The numbers of the syscalls named, as a bitmap: for tests made per
/// event, where matching the name would cost a lookup and compares.
pub fn syscall_set(wanted: &[&str]) -> Bitmap {
    let nrs: Vec<u32> = names::all_syscalls()
        .into_iter()
        .filter(|&nr| syscall_name(nr).is_some_and(|name| wanted.contains(&name)))
        .collect();
    nrs.iter().collect()
}

/// Thread ids are small, distinct integers: a multiplicative hash is
/// enough, and much cheaper than SipHash on a path taken per event.
#[derive(Default)]
pub struct TidHasher(u64);

/// A map keyed by thread id, hashed with [`TidHasher`].
pub type TidMap<V> = HashMap<u32, V, BuildHasherDefault<TidHasher>>;

impl Hasher for TidHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8 | u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u32(&mut self, n: u32) {
        self.0 = u64::from(n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// Pairs a stream of events. Events of one thread must come in the order
/// they happened; threads may interleave freely.
#[derive(Debug, Default)]
pub struct Pairer {
    pending: TidMap<Event>,
}

impl Pairer {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds one event; returns the calls it completes (none, one, or two
    /// when it also shows that an earlier enter will never see its exit).
    pub fn push(&mut self, ev: Event) -> Vec<Call> {
        let mut done = Vec::new();
        self.push_into(ev, &mut done);
        done
    }

    /// [`push`](Self::push), appending the calls to `done` (no allocation
    /// per event on the hot path).
    pub fn push_into(&mut self, ev: Event, done: &mut Vec<Call>) {
        let tid = ev.tid;
        match ev.kind {
            EventKind::Syscall => {}
            // A thread that exited never returns from the call it was in.
            EventKind::TaskExit => {
                done.extend(self.take_thread(tid));
                return;
            }
            EventKind::Signal => return,
        }
        if ev.phase == Phase::Enter {
            // One lookup: the enter takes its thread's place, and whatever
            // was there is a call whose exit was lost (or the thread is
            // new under a reused id).
            let unfinished = |enter| Call {
                enter: Some(enter),
                exit: None,
            };
            if never_returns(ev.nr) {
                if let Some(prev) = self.pending.remove(&tid) {
                    done.push(unfinished(prev));
                }
                done.push(unfinished(ev));
            } else if let Some(prev) = self.pending.insert(tid, ev) {
                done.push(unfinished(prev));
            }
        } else {
            match self.pending.remove(&tid) {
                Some(enter) if enter.nr == ev.nr => done.push(Call {
                    enter: Some(enter),
                    exit: Some(ev),
                }),
                Some(enter) if execveat_returned(&enter, &ev) => done.push(Call {
                    enter: Some(enter),
                    exit: Some(ev),
                }),
                Some(enter) => {
                    done.push(Call {
                        enter: Some(enter),
                        exit: None,
                    });
                    done.push(Call {
                        enter: None,
                        exit: Some(ev),
                    });
                }
                None => done.push(Call {
                    enter: None,
                    exit: Some(ev),
                }),
            }
        }
    }

    /// A thread of process `pid` other than `except` in an exec: the one
    /// whose exec returned as `except` (see Printer's
    /// exec_by_another_thread). Looked for only then: not per event.
    pub fn pending_exec_of(&self, pid: u32, except: u32) -> Option<u32> {
        self.pending
            .iter()
            .find(|(&tid, enter)| tid != except && enter.pid == pid && is_exec(enter.nr))
            .map(|(&tid, _)| tid)
    }

    /// Thread `from`'s call in progress becomes thread `to`'s.
    pub fn rekey(&mut self, from: u32, to: u32) {
        if let Some(mut enter) = self.pending.remove(&from) {
            enter.tid = to;
            self.pending.insert(to, enter);
        }
    }

    /// The enter of the call thread `tid` is in, if any.
    pub fn pending_enter(&self, tid: u32) -> Option<&Event> {
        self.pending.get(&tid)
    }

    /// The enters of the calls not yet returned, in no order.
    pub fn pending_enters(&self) -> impl Iterator<Item = &Event> + '_ {
        self.pending.values()
    }

    /// Calls entered and not yet returned.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// The calls still open on thread `tid`, e.g. once it has exited.
    pub fn take_thread(&mut self, tid: u32) -> Option<Call> {
        self.pending.remove(&tid).map(|enter| Call {
            enter: Some(enter),
            exit: None,
        })
    }

    /// Ends the stream: every call still open is unfinished. In order of time.
    pub fn finish(&mut self) -> Vec<Call> {
        let mut left: Vec<Call> = self
            .pending
            .drain()
            .map(|(_, enter)| Call {
                enter: Some(enter),
                exit: None,
            })
            .collect();
        left.sort_by_key(Call::start_ns);
        left
    }
}

/// Pairs a whole trace; the calls come in order of their start.
pub fn pair_events(events: impl IntoIterator<Item = Event>) -> Vec<Call> {
    let mut pairer = Pairer::new();
    let mut calls: Vec<Call> = Vec::new();
    for ev in events {
        pairer.push_into(ev, &mut calls);
    }
    calls.extend(pairer.finish());
    calls.sort_by_key(Call::start_ns);
    calls
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An event of thread `tid`: syscall `nr`, enter or exit, at `ts`.
    #[allow(non_snake_case)]
    fn Ev(tid: u32, nr: u32, enter: bool, ts: u64) -> Event {
        Event {
            kind: Default::default(),
            timestamp_ns: ts,
            pid: tid,
            root: tid,
            tid,
            nr,
            cpu: 0,
            phase: if enter { Phase::Enter } else { Phase::Exit },
            nb_args: 0,
            args: [0; 6],
            ret: 0,
            comm: [0; 16],
            data: None,
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
    fn a_successful_execveat_returns_as_execve() {
        let (execve, execveat) = (
            syscalls::Sysno::execve.id() as u32,
            syscalls::Sysno::execveat.id() as u32,
        );
        let mut failed = Ev(2, execve, false, 21);
        failed.ret = -2;
        let calls = pair_events(vec![
            Ev(1, execveat, true, 10),
            Ev(1, execve, false, 11),
            // Failed, it would be execveat's: an execve's exit is another call.
            Ev(2, execveat, true, 20),
            failed,
        ]);
        let shape: Vec<_> = calls
            .iter()
            .map(|c| (c.nr(), c.enter.is_some(), c.exit.is_some()))
            .collect();
        assert_eq!(
            shape,
            [
                (execveat, true, true),
                (execveat, true, false),
                (execve, false, true)
            ]
        );
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
