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

impl Programs {
    /// Attaches the fork and exit programs while `count` sessions follow forks.
    pub fn set_follow_forks(&mut self, count: u32) -> Result<()> {
        self.bss_u32(|b| unsafe { std::ptr::addr_of_mut!((*b).follow_forks) })
            .store(count, Ordering::SeqCst);
        if count == 0 {
            self.fork_link = None;
        } else if self.fork_link.is_none() {
            let tasks = self.tasks()?;
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
            let tasks = self.tasks()?;
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
            let tasks = self.tasks()?;
            let deliver = attach_tp(&tasks.progs.signal_deliver, "signal_deliver")?;
            let generate = attach_tp(&tasks.progs.signal_generate, "signal_generate")?;
            self.signal_links = Some([deliver, generate]);
        }
        Ok(())
    }

    /// The loaded programs of task events: loaded now from a copy of the
    /// object if the first load left them out.
    pub(in crate::kernel) fn tasks(&mut self) -> Result<&SystraceSkel<'static>> {
        if self.main_tasks {
            return Ok(&self.skel);
        }
        if let (true, Some(copy)) = (self.exit_copy_tasks, &self.exit_copy) {
            return Ok(copy);
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
