//! Registration, as kernel/trace/trace_syscalls.c does it in
//! reg_event_syscall_enter()/unreg_event_syscall_enter(): attach a phase's
//! program on its first enabled syscall, detach it on the last, set and clear
//! the enable bits. Unlike the kernel, every syscall has its own refcount,
//! so one session ending never clears a bit another session still needs.
//!
//! This is pure bookkeeping over a `Kernel`; the caller holds the one lock
//! (`syscall_trace_lock`) around every call.
use std::collections::{BTreeSet, HashMap};

use crate::error::Result;
use crate::layout::NR_SYSCALLS;
use crate::metadata::event_class::Phase;

/// What registration does to the kernel; `bpf::Programs` in production.
pub trait Kernel {
    fn set_enabled(&mut self, phase: Phase, nr: u32, on: bool);
    fn attach(&mut self, phase: Phase) -> Result<()>;
    fn detach(&mut self, phase: Phase);
    fn set_traced_tgid(&mut self, tgid: u32, on: bool) -> Result<()>;
    fn set_trace_all_processes(&mut self, count: u32);
}

/// Which processes a session traces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProcessFilter {
    All,
    Tgids(BTreeSet<u32>),
}

/// What one session enables.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Registration {
    pub enter: BTreeSet<u32>,
    pub exit: BTreeSet<u32>,
    pub processes: ProcessFilter,
}

impl Registration {
    pub fn syscalls(&self, phase: Phase) -> &BTreeSet<u32> {
        match phase {
            Phase::Enter => &self.enter,
            Phase::Exit => &self.exit,
        }
    }
}

pub struct Registry {
    /// Per phase, per syscall number: sessions that enabled it.
    refcount: [Vec<u32>; 2],
    /// Per phase: enabled (session, syscall) pairs, as sys_refcount_enter/exit.
    sys_refcount: [u32; 2],
    tgid_refcount: HashMap<u32, u32>,
    all_processes: u32,
}

impl Default for Registry {
    fn default() -> Self {
        Registry {
            refcount: [vec![0; NR_SYSCALLS], vec![0; NR_SYSCALLS]],
            sys_refcount: [0, 0],
            tgid_refcount: HashMap::new(),
            all_processes: 0,
        }
    }
}

const PHASES: [Phase; 2] = [Phase::Enter, Phase::Exit];

fn index(phase: Phase) -> usize {
    match phase {
        Phase::Enter => 0,
        Phase::Exit => 1,
    }
}

impl Registry {
    /// Enables what `reg` asks for. On failure nothing stays changed.
    pub fn register(&mut self, kernel: &mut impl Kernel, reg: &Registration) -> Result<()> {
        // The filter first, so the programs admit the process once its bits go on.
        self.add_processes(kernel, &reg.processes)?;
        for phase in PHASES {
            let nrs = reg.syscalls(phase);
            if nrs.is_empty() {
                continue;
            }
            let i = index(phase);
            if self.sys_refcount[i] == 0 {
                if let Err(err) = kernel.attach(phase) {
                    // Undo the phases already done, then the filter.
                    for done in PHASES.iter().take_while(|&&p| p != phase) {
                        self.disable(kernel, *done, reg.syscalls(*done));
                    }
                    self.remove_processes(kernel, &reg.processes);
                    return Err(err);
                }
            }
            for &nr in nrs {
                let count = &mut self.refcount[i][nr as usize];
                if *count == 0 {
                    kernel.set_enabled(phase, nr, true);
                }
                *count += 1;
                self.sys_refcount[i] += 1;
            }
        }
        Ok(())
    }

    /// Disables what `reg` enabled; it must have been registered.
    pub fn unregister(&mut self, kernel: &mut impl Kernel, reg: &Registration) {
        for phase in PHASES {
            self.disable(kernel, phase, reg.syscalls(phase));
        }
        self.remove_processes(kernel, &reg.processes);
    }

    fn disable(&mut self, kernel: &mut impl Kernel, phase: Phase, nrs: &BTreeSet<u32>) {
        if nrs.is_empty() {
            return;
        }
        let i = index(phase);
        for &nr in nrs {
            let count = &mut self.refcount[i][nr as usize];
            debug_assert!(
                *count > 0,
                "unregistering syscall {nr} that is not registered"
            );
            *count = count.saturating_sub(1);
            if *count == 0 {
                kernel.set_enabled(phase, nr, false);
            }
            self.sys_refcount[i] = self.sys_refcount[i].saturating_sub(1);
        }
        if self.sys_refcount[i] == 0 {
            kernel.detach(phase);
        }
    }

    fn add_processes(&mut self, kernel: &mut impl Kernel, filter: &ProcessFilter) -> Result<()> {
        match filter {
            ProcessFilter::All => {
                self.all_processes += 1;
                kernel.set_trace_all_processes(self.all_processes);
            }
            ProcessFilter::Tgids(tgids) => {
                for (done, &tgid) in tgids.iter().enumerate() {
                    let count = self.tgid_refcount.entry(tgid).or_insert(0);
                    if *count == 0 {
                        if let Err(err) = kernel.set_traced_tgid(tgid, true) {
                            self.tgid_refcount.remove(&tgid);
                            let added: BTreeSet<u32> = tgids.iter().take(done).copied().collect();
                            self.remove_processes(kernel, &ProcessFilter::Tgids(added));
                            return Err(err);
                        }
                    }
                    *count += 1;
                }
            }
        }
        Ok(())
    }

    fn remove_processes(&mut self, kernel: &mut impl Kernel, filter: &ProcessFilter) {
        match filter {
            ProcessFilter::All => {
                self.all_processes = self.all_processes.saturating_sub(1);
                kernel.set_trace_all_processes(self.all_processes);
            }
            ProcessFilter::Tgids(tgids) => {
                for tgid in tgids {
                    if let Some(count) = self.tgid_refcount.get_mut(tgid) {
                        *count -= 1;
                        if *count == 0 {
                            self.tgid_refcount.remove(tgid);
                            // Removing an entry that exists cannot fail for
                            // lack of room; a failure here changes nothing.
                            let _ = kernel.set_traced_tgid(*tgid, false);
                        }
                    }
                }
            }
        }
    }

    /// The number of sessions that enabled `nr` for `phase`.
    pub fn refcount(&self, phase: Phase, nr: u32) -> u32 {
        self.refcount[index(phase)][nr as usize]
    }

    pub fn sys_refcount(&self, phase: Phase) -> u32 {
        self.sys_refcount[index(phase)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    /// A kernel that records state, to check the bookkeeping alone.
    #[derive(Default)]
    struct FakeKernel {
        bits: [BTreeSet<u32>; 2],
        attached: [bool; 2],
        tgids: BTreeSet<u32>,
        all: u32,
        fail_attach: Option<Phase>,
    }

    impl Kernel for FakeKernel {
        fn set_enabled(&mut self, phase: Phase, nr: u32, on: bool) {
            let bits = &mut self.bits[index(phase)];
            if on {
                assert!(bits.insert(nr), "bit {nr} set twice");
            } else {
                assert!(bits.remove(&nr), "bit {nr} cleared twice");
            }
        }
        fn attach(&mut self, phase: Phase) -> Result<()> {
            if self.fail_attach == Some(phase) {
                return Err(Error::PermissionDenied("no".into()));
            }
            assert!(!self.attached[index(phase)], "attached twice");
            self.attached[index(phase)] = true;
            Ok(())
        }
        fn detach(&mut self, phase: Phase) {
            assert!(self.attached[index(phase)], "detached while detached");
            self.attached[index(phase)] = false;
        }
        fn set_traced_tgid(&mut self, tgid: u32, on: bool) -> Result<()> {
            if on {
                self.tgids.insert(tgid);
            } else {
                self.tgids.remove(&tgid);
            }
            Ok(())
        }
        fn set_trace_all_processes(&mut self, count: u32) {
            self.all = count;
        }
    }

    fn reg(enter: &[u32], exit: &[u32], tgids: &[u32]) -> Registration {
        Registration {
            enter: enter.iter().copied().collect(),
            exit: exit.iter().copied().collect(),
            processes: ProcessFilter::Tgids(tgids.iter().copied().collect()),
        }
    }

    #[test]
    fn nested_sessions_keep_the_outer_bits() {
        let (mut r, mut k) = (Registry::default(), FakeKernel::default());
        let outer = reg(&[0, 1], &[0, 1], &[10]);
        let inner = reg(&[0], &[0], &[10]);
        r.register(&mut k, &outer).unwrap();
        r.register(&mut k, &inner).unwrap();
        r.unregister(&mut k, &inner);
        assert_eq!(k.bits[0], BTreeSet::from([0, 1]));
        assert_eq!(k.bits[1], BTreeSet::from([0, 1]));
        assert!(k.attached[0] && k.attached[1]);
        assert_eq!(k.tgids, BTreeSet::from([10]));
        r.unregister(&mut k, &outer);
        assert!(k.bits[0].is_empty() && k.bits[1].is_empty());
        assert_eq!(k.attached, [false, false]);
        assert!(k.tgids.is_empty());
    }

    #[test]
    fn enter_only_session_attaches_only_enter() {
        let (mut r, mut k) = (Registry::default(), FakeKernel::default());
        let only_enter = reg(&[3], &[], &[1]);
        r.register(&mut k, &only_enter).unwrap();
        assert_eq!(k.attached, [true, false]);
        r.unregister(&mut k, &only_enter);
        assert_eq!(k.attached, [false, false]);
    }

    #[test]
    fn failed_attach_leaves_nothing_behind() {
        let (mut r, mut k) = (
            Registry::default(),
            FakeKernel {
                fail_attach: Some(Phase::Exit),
                ..Default::default()
            },
        );
        let both = Registration {
            processes: ProcessFilter::All,
            ..reg(&[1], &[1], &[])
        };
        assert!(r.register(&mut k, &both).is_err());
        assert!(k.bits[0].is_empty() && k.bits[1].is_empty());
        assert_eq!(k.attached, [false, false]);
        assert_eq!(k.all, 0);
        assert_eq!(r.sys_refcount(Phase::Enter), 0);
    }

    #[test]
    fn all_processes_is_counted() {
        let (mut r, mut k) = (Registry::default(), FakeKernel::default());
        let all = Registration {
            processes: ProcessFilter::All,
            ..reg(&[1], &[], &[])
        };
        r.register(&mut k, &all).unwrap();
        r.register(&mut k, &all).unwrap();
        r.unregister(&mut k, &all);
        assert_eq!(k.all, 1);
        r.unregister(&mut k, &all);
        assert_eq!(k.all, 0);
    }
}
