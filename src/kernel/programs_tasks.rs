//! The programs of task events (forks, thread exits, signals): attached
//! while some session wants them, and loaded with the object only when the
//! first session wants them; else from a copy of it when first needed, so
//! that syscall-only tracing never pays the verifier for them.
use std::sync::atomic::Ordering;

use super::{attach_tp, types, Programs, Result, SystraceSkel};

/// The programs of task events: forks, thread exits, signals.
pub(super) const TASK_PROGRAMS: [&str; 4] = [
    "sched_process_fork",
    "sched_process_exit",
    "signal_deliver",
    "signal_generate",
];

/// Those of them loaded beside the exit hook when it has a copy of its own
/// (`Programs::load`); the others load with the enter hook, so that both
/// loads end together. The command's -e trace=read load (issue 15): the
/// exit hook's copy relocates itself (~1.5 ms, after the maps are made),
/// then its verifier ~6-7 ms; the enter hook's ~5 ms; the fork program
/// ~0.2 ms, the others 0.5-1 ms each.
pub(super) const TASKS_BESIDE_EXIT_HOOK: [&str; 1] = ["sched_process_fork"];

impl Programs {
    /// Attaches the fork and exit programs while `count` sessions follow forks.
    pub fn set_follow_forks(&mut self, count: u32) -> Result<()> {
        self.bss_u32(|b| unsafe { std::ptr::addr_of_mut!((*b).follow_forks) })
            .store(count, Ordering::SeqCst);
        if count == 0 {
            self.fork_link = None;
        } else if self.fork_link.is_none() {
            let tasks = self.tasks("sched_process_fork")?;
            let link = attach_tp(&tasks.progs.sched_process_fork, "sched_process_fork")?;
            self.fork_link = Some(link);
        }
        self.update_exit_link()
    }

    /// Records thread exits while `count` sessions want them.
    pub fn set_task_exits(&mut self, count: u32) -> Result<()> {
        self.bss_u32(|b| unsafe { std::ptr::addr_of_mut!((*b).trace_task_exits) })
            .store(count, Ordering::SeqCst);
        self.update_exit_link()
    }

    /// The exit program serves both following (forgetting dead children)
    /// and thread exits: attached while either wants it.
    fn update_exit_link(&mut self) -> Result<()> {
        let read = |f: fn(*mut types::bss) -> *mut u32| self.bss_u32(f).load(Ordering::SeqCst);
        let wanted = read(|b| unsafe { std::ptr::addr_of_mut!((*b).follow_forks) }) > 0
            || read(|b| unsafe { std::ptr::addr_of_mut!((*b).trace_task_exits) }) > 0;
        if !wanted {
            self.exit_link = None;
        } else if self.exit_link.is_none() {
            let tasks = self.tasks("sched_process_exit")?;
            let link = attach_tp(&tasks.progs.sched_process_exit, "sched_process_exit")?;
            self.exit_link = Some(link);
        }
        Ok(())
    }

    /// Records the signals delivered to traced threads while `count`
    /// sessions want them (attached only then: syscall-only tracing pays
    /// nothing for them).
    pub fn set_signals(&mut self, count: u32) -> Result<()> {
        if count == 0 {
            self.signal_links = None;
        } else if self.signal_links.is_none() {
            let tasks = self.tasks("signal_deliver")?;
            let deliver = attach_tp(&tasks.progs.signal_deliver, "signal_deliver")?;
            let tasks = self.tasks("signal_generate")?;
            let generate = attach_tp(&tasks.progs.signal_generate, "signal_generate")?;
            self.signal_links = Some([deliver, generate]);
        }
        Ok(())
    }

    /// The copy of the object whose program of task events `name` is
    /// loaded: loaded now from a copy of the object if the first load left
    /// them out.
    pub(in crate::kernel) fn tasks(&mut self, name: &str) -> Result<&SystraceSkel<'static>> {
        if self.tasks_first {
            return Ok(match &self.exit_copy {
                Some(copy) if TASKS_BESIDE_EXIT_HOOK.contains(&name) => copy,
                _ => &self.skel,
            });
        }
        if self.task_copy.is_none() {
            self.task_copy = Some(self.load_copy(&TASK_PROGRAMS)?);
        }
        Ok(self.task_copy.as_ref().expect("loaded above"))
    }

    /// Whether any program of task events (signals, exits, forks) is attached.
    pub fn task_events_attached(&self) -> bool {
        self.signal_links.is_some() || self.exit_link.is_some() || self.fork_link.is_some()
    }
}
