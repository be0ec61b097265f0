//! Which kernel hooks deliver, and switching between them (issue 15): the
//! raw_syscalls hooks, which every syscall of the machine runs, or the
//! kernel's per-syscall events, which a syscall nobody enabled passes with
//! the kernel's own bit test. See `sync_hooks`.
use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicU64, Ordering};

use libbpf_rs::skel::Skel;
use libbpf_rs::MapCore;

use super::event_hook::EventHook;
use super::event_lock::EventLock;
use super::layout::{bit_of, NR_SYSCALLS};
use super::programs::{take_libbpf_log, Programs, SystraceSkel};
use super::reaper::Key;
use super::startup::step;
use super::Phase;
use crate::error::{Error, Result};

/// Which hooks deliver: `raw` (raw_syscalls, run by every syscall),
/// `syscall` (the per-syscall events), or `auto` (the default: per-syscall
/// events while at most [`MAX_SYSCALL_HOOKS`] syscalls are enabled).
pub const HOOKS_ENV: &str = "SYSTRACE_HOOKS";
/// Enabled syscalls (enter and exit together, counted ones included) up to
/// which `auto` attaches to the per-syscall events: past it, attaching
/// costs more than the tax the raw hooks put on every other syscall.
pub const MAX_SYSCALL_HOOKS: usize = 16;

/// The kinds of hook (the values of hook_mode in the programs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HookMode {
    Raw = 0,
    Syscall = 1,
}

impl HookMode {
    pub fn name(self) -> &'static str {
        match self {
            HookMode::Raw => "raw",
            HookMode::Syscall => "syscall",
        }
    }
}

const RAW_PROGRAMS: [&str; 2] = ["sys_enter", "sys_exit"];
const EVENT_PROGRAMS: [&str; 2] = ["sys_enter_event", "sys_exit_event"];

fn phase_name(phase: Phase) -> &'static str {
    match phase {
        Phase::Enter => "sys_enter",
        Phase::Exit => "sys_exit",
    }
}

/// The exit hook's program of kind `mode`.
pub fn exit_hook(mode: HookMode) -> &'static str {
    match mode {
        HookMode::Raw => RAW_PROGRAMS[1],
        HookMode::Syscall => EVENT_PROGRAMS[1],
    }
}

/// The kind of hook a program is, if it is one.
pub fn hook_kind(name: &OsStr) -> Option<HookMode> {
    if RAW_PROGRAMS.iter().any(|p| name == *p) {
        Some(HookMode::Raw)
    } else if EVENT_PROGRAMS.iter().any(|p| name == *p) {
        Some(HookMode::Syscall)
    } else {
        None
    }
}

/// The kind of hooks for enabling `sets` (enter, exit; counted syscalls in
/// both), as [`HOOKS_ENV`] says.
pub fn choose(sets: &[BTreeSet<u32>; 2], policy: Option<HookMode>) -> HookMode {
    let union: BTreeSet<u32> = sets.iter().flatten().copied().collect();
    let events = Phase::ALL.iter().all(|&p| {
        sets[p.index()]
            .iter()
            .all(|&nr| event_name(nr, p).is_some())
    });
    match policy {
        Some(HookMode::Raw) => HookMode::Raw,
        // Forced, but a syscall without an event can only be hooked raw.
        Some(HookMode::Syscall) if events => HookMode::Syscall,
        None if events && union.len() <= MAX_SYSCALL_HOOKS => HookMode::Syscall,
        _ => HookMode::Raw,
    }
}

/// The kind the first session will use, to load with the programs.
pub fn likely(sets: &[BTreeSet<u32>; 2]) -> Option<HookMode> {
    hook_policy().ok().map(|policy| choose(sets, policy))
}

/// What [`HOOKS_ENV`] asks for (None: auto).
fn hook_policy() -> Result<Option<HookMode>> {
    match std::env::var(HOOKS_ENV).as_deref().map(str::trim) {
        Err(_) | Ok("") | Ok("auto") => Ok(None),
        Ok("raw") => Ok(Some(HookMode::Raw)),
        Ok("syscall") => Ok(Some(HookMode::Syscall)),
        Ok(other) => Err(Error::InvalidArgument(format!(
            "{HOOKS_ENV}={other:?}: one of auto, raw, syscall"
        ))),
    }
}

/// Whether syscall `nr`'s exit event never fires: exit and exit_group do
/// not return, and rt_sigreturn's exit is reported with the number -1
/// (the registers it restores say no syscall), which the kernel's
/// per-syscall events skip.
pub fn never_exits(nr: u32) -> bool {
    let table = crate::metadata::names::metadata_now().0;
    table
        .syscall_nr_to_meta(nr)
        .is_some_and(|meta| ["exit", "exit_group", "rt_sigreturn"].contains(&meta.short_name()))
}

/// The per-syscall event of `nr` for `phase` ("sys_enter_read"), when the
/// kernel defines one (only syscalls with metadata have them).
fn event_name(nr: u32, phase: Phase) -> Option<String> {
    let meta = crate::metadata::names::metadata_now()
        .0
        .syscall_nr_to_meta(nr)?;
    let prefix = match phase {
        Phase::Enter => "sys_enter_",
        Phase::Exit => "sys_exit_",
    };
    Some(format!("{prefix}{}", meta.short_name()))
}

impl Programs {
    /// A phase's first enabled syscall: its hooks go on (the raw one now
    /// in raw mode; the per-syscall ones in `sync_hooks`, once the bits
    /// say which).
    pub fn attach(&mut self, phase: Phase) -> Result<()> {
        self.phase_on[phase.index()] = true;
        if self.mode == HookMode::Raw && self.live() {
            self.attach_raw(phase)?;
        }
        Ok(())
    }

    /// Some hook is attached (else `sync_hooks` picks the kind afresh).
    fn live(&self) -> bool {
        self.links.iter().any(Option::is_some) || self.event_links.iter().any(|l| !l.is_empty())
    }

    /// The programs of kind `mode`, loaded on first use from another copy
    /// of the object whose maps are this one's.
    fn kind(&mut self, mode: HookMode) -> Result<()> {
        let i = mode as usize;
        if self.kinds[i].is_none() && self.main_kind != Some(mode) {
            let keep = match mode {
                HookMode::Raw => RAW_PROGRAMS,
                HookMode::Syscall => EVENT_PROGRAMS,
            };
            self.kinds[i] = Some(self.load_copy(&keep)?);
        }
        Ok(())
    }

    /// Loads the programs `keep` from a copy of the object whose maps are
    /// this one's: the verifier checks them now, not at the first load.
    pub(super) fn load_copy(&self, keep: &[&str]) -> Result<SystraceSkel<'static>> {
        let ours: Vec<_> = self.skel.object().maps().collect();
        let maps: Vec<_> = ours
            .iter()
            .map(|m| (m.name().to_string_lossy().into_owned(), m.as_fd()))
            .collect();
        let open = super::programs::open_copy(self.core_btf(), keep)?;
        super::programs::load_copy_sharing(open, &maps)
    }

    /// The copy of the object whose hook of kind `mode` for `phase` is loaded.
    fn loaded(&self, mode: HookMode, phase: Phase) -> &SystraceSkel<'static> {
        if self.main_kind == Some(mode) {
            if let (Phase::Exit, Some(copy)) = (phase, &self.exit_copy) {
                return copy;
            }
            return &self.skel;
        }
        self.kinds[mode as usize]
            .as_ref()
            .expect("Programs::kind loaded it")
    }

    /// Loads the programs of both kinds and of task events now
    /// (`preload`), so that no enable waits for the verifier.
    pub fn load_kinds(&mut self) -> Result<()> {
        self.kind(HookMode::Raw)?;
        self.kind(HookMode::Syscall)?;
        self.tasks("sched_process_fork").map(|_| ())
    }

    /// The kernel's ids of the hook programs loaded, to find them from outside.
    pub fn prog_ids(&self) -> Vec<u32> {
        std::iter::once(&self.skel)
            .chain(self.kinds.iter().flatten())
            .chain(self.exit_copy.iter())
            .flat_map(|k| {
                k.object()
                    .progs()
                    .filter(|p| p.autoload() && hook_kind(p.name()).is_some())
                    .map(|p| libbpf_rs::Program::id_from_fd(p.as_fd()).unwrap_or(0))
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    /// Every program loaded (of every copy of the object): its name and
    /// the instructions the verifier went through for it.
    pub fn loaded_programs(&self) -> Vec<(String, u32)> {
        std::iter::once(&self.skel)
            .chain(self.kinds.iter().flatten())
            .chain(self.exit_copy.iter())
            .chain(self.task_copy.iter())
            .flat_map(|k| {
                k.object()
                    .progs()
                    .filter(|p| p.autoload())
                    .map(|p| {
                        let name = p.name().to_string_lossy().into_owned();
                        (name, super::startup::verified_insns(p.as_fd()))
                    })
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    fn attach_raw(&mut self, phase: Phase) -> Result<()> {
        let i = phase.index();
        if self.links[i].is_none() {
            self.kind(HookMode::Raw)?;
            let kind = self.loaded(HookMode::Raw, phase);
            let prog = match phase {
                Phase::Enter => &kind.progs.sys_enter,
                Phase::Exit => &kind.progs.sys_exit,
            };
            let start = std::time::Instant::now();
            let link = prog
                .attach()
                .map_err(|e| Error::bpf("attaching to raw_syscalls", e, &take_libbpf_log()))?;
            step(format!("attach raw_syscalls/{}", phase_name(phase)), start);
            self.links[i] = Some(link);
        }
        Ok(())
    }

    /// Dropping the link detaches; the kernel waits for running programs
    /// to finish first, so every record they reserved is committed after.
    /// The per-syscall hooks are retired instead (see
    /// [`Reaper`](super::reaper::Reaper)); the
    /// wait for their running programs comes once, in `sync_hooks`.
    pub fn detach(&mut self, phase: Phase) {
        let i = phase.index();
        self.phase_on[i] = false;
        self.links[i] = None;
        self.retire_event_links(phase, |_| true);
    }

    /// Hands the per-syscall hooks of `phase` that `gone` picks over to the
    /// reaper.
    fn retire_event_links(&mut self, phase: Phase, gone: impl Fn(u32) -> bool) {
        let i = phase.index();
        let nrs: Vec<u32> = self.event_links[i]
            .iter()
            .copied()
            .filter(|&nr| gone(nr))
            .collect();
        for nr in nrs {
            if self.event_links[i].remove(&nr) {
                self.reaper.retire((i, nr));
                self.unsettled = true;
            }
        }
    }

    fn retire_all_event_links(&mut self) {
        for p in Phase::ALL {
            self.retire_event_links(p, |_| true);
        }
    }

    /// After hooks were retired: waits until every probe that began before
    /// now has returned, so that every record of the syscalls just disabled
    /// is committed when a session's close flushes (what closing the hooks
    /// themselves used to wait for).
    fn settle(&mut self) {
        if std::mem::take(&mut self.unsettled) {
            self.wait_for_probes();
        }
    }

    /// In a forked child (see `Tracer::forget_in_child`): the reaper's
    /// threads and their hooks are not in the child.
    pub fn forget_in_child(self) {
        let Programs { reaper, .. } = self;
        reaper.forget_in_child();
    }

    /// See [`Reaper::close_hooks_after_exit`](super::reaper::Reaper::close_hooks_after_exit).
    pub fn close_hooks_after_exit(&self) -> bool {
        self.reaper.close_hooks_after_exit()
    }

    pub fn is_attached(&self, phase: Phase) -> bool {
        let i = phase.index();
        self.links[i].is_some() || !self.event_links[i].is_empty()
    }

    pub fn hook_mode(&self) -> HookMode {
        self.mode
    }

    /// Waits for running probes so far (see `wait_for_probes`).
    pub fn probe_waits(&self) -> u64 {
        self.probe_waits
    }

    /// Switches of hook kind so far.
    pub fn hook_switches(&self) -> u64 {
        self.switches
    }

    /// See [`Reaper::run_in_background`](super::reaper::Reaper::run_in_background).
    pub fn run_in_background(&self, after: std::time::Duration, job: super::reaper::Job) {
        self.reaper.run_in_background(after, job)
    }

    /// Per-syscall hooks retired and not yet closed, and those closed.
    pub fn closing_hooks(&self) -> (usize, u64) {
        self.reaper.counts()
    }

    /// Per-syscall events hooked now, enter and exit.
    pub fn event_hooks(&self) -> usize {
        self.event_links.iter().map(BTreeSet::len).sum()
    }

    /// Calls of a switch whose probes could not agree (see handoff_mine).
    pub fn handoff_unsure(&self) -> u64 {
        self.bss_u64(|b| unsafe { std::ptr::addr_of_mut!((*b).handoff_unsure) })
            .load(Ordering::SeqCst)
    }

    /// The syscalls whose hooks `phase` needs: enabled or counted.
    fn hooked(&self, phase: Phase) -> BTreeSet<u32> {
        if !self.phase_on[phase.index()] {
            return BTreeSet::new();
        }
        // SAFETY: as in `bitmap`.
        let counted = unsafe {
            let words = std::ptr::addr_of_mut!((*self.bss()).counted_syscalls);
            &*(words as *const [AtomicU64; NR_SYSCALLS / 64])
        };
        let enabled = self.bitmap(phase);
        (0..NR_SYSCALLS as u32)
            .filter(|&nr| {
                let (word, bit) = bit_of(nr);
                (enabled[word].load(Ordering::SeqCst) | counted[word].load(Ordering::SeqCst)) & bit
                    != 0
            })
            .collect()
    }

    /// Puts on the hooks that the enabled set calls for, after the
    /// registry changed it: the per-syscall events for a small set (every
    /// other syscall of the machine then costs only the kernel's bit
    /// test), the raw hooks for a large one (cheaper per call), switching
    /// between them without losing or doubling a call.
    /// `settle`: wait for the probes in flight if hooks were retired (see
    /// `settle`); not when the session that let go of them cannot have any
    /// (its processes ended).
    pub fn sync_hooks(&mut self, settle: bool) -> Result<()> {
        let result = self.sync_hooks_now();
        if settle {
            self.settle();
        } else {
            self.unsettled = false;
        }
        result
    }

    fn sync_hooks_now(&mut self) -> Result<()> {
        let sets = [self.hooked(Phase::Enter), self.hooked(Phase::Exit)];
        let policy = hook_policy()?;
        if sets.iter().all(BTreeSet::is_empty) {
            return Ok(()); // nothing on: the registry detached it all
        }
        let want = choose(&sets, policy);
        if !self.live() {
            // Nothing attached, nothing in flight to hand over: start afresh.
            return self.start(want, policy.is_some(), &sets);
        }
        if want == self.mode {
            if want == HookMode::Syscall && self.sync_event_links(&sets).is_err() {
                // An event we could not attach to: the raw hooks see it all.
                return self.switch(HookMode::Raw, &sets);
            }
            return Ok(());
        }
        match self.switch(want, &sets) {
            // Auto: the raw hooks still deliver, stay with them. Asked
            // for by name: say why not.
            Err(_) if want == HookMode::Syscall && policy.is_none() => Ok(()),
            other => other,
        }
    }

    /// The first hooks, with none attached: kind `want`, or the raw hooks
    /// when its events cannot be attached to (unless it was asked for).
    fn start(&mut self, want: HookMode, forced: bool, sets: &[BTreeSet<u32>; 2]) -> Result<()> {
        self.set_mode(want);
        let attached = match want {
            HookMode::Syscall => self.sync_event_links(sets),
            HookMode::Raw => self.attach_raw_on(),
        };
        match attached {
            Err(err) if want == HookMode::Raw || forced => {
                self.links = [None, None];
                self.retire_all_event_links();
                Err(err)
            }
            Err(_) => {
                self.retire_all_event_links();
                self.set_mode(HookMode::Raw);
                self.attach_raw_on()
            }
            Ok(()) => Ok(()),
        }
    }

    fn attach_raw_on(&mut self) -> Result<()> {
        for p in Phase::ALL {
            if self.phase_on[p.index()] {
                self.attach_raw(p)?;
            }
        }
        Ok(())
    }

    fn set_handoff(&self, gen: u32) {
        self.bss_u32(|b| unsafe { std::ptr::addr_of_mut!((*b).handoff) })
            .store(gen, Ordering::SeqCst);
    }

    fn set_mode(&mut self, mode: HookMode) {
        self.bss_u32(|b| unsafe { std::ptr::addr_of_mut!((*b).hook_mode) })
            .store(mode as u32, Ordering::SeqCst);
        self.mode = mode;
    }

    /// Attaches the per-syscall events of `sets` not yet hooked, and
    /// detaches those no longer in them.
    fn sync_event_links(&mut self, sets: &[BTreeSet<u32>; 2]) -> Result<()> {
        // Nothing to hook for exits that never come: each hook would cost
        // its attach, and every process the floor until its close, a grace
        // period, after the session (the command's `exit_group`).
        let exits = sets[1].iter().copied().filter(|&nr| !never_exits(nr));
        let sets = &[sets[0].clone(), exits.collect()];
        // Both phases' retired hooks back first, before any new hook waits
        // for the closing thread to move on.
        let mut missing = Vec::new();
        for (i, set) in sets.iter().enumerate() {
            let hooked = &self.event_links[i];
            missing.extend(
                set.iter()
                    .filter(|nr| !hooked.contains(nr))
                    .map(|&nr| (i, nr)),
            );
        }
        for (i, nr) in self.reaper.take_back(missing.iter().copied()) {
            self.event_links[i].insert(nr);
        }
        // The events still to hook: none of them may be being closed when
        // we hold the lock between processes, which the closing thread
        // takes for each close (see event_lock).
        missing.retain(|(i, nr)| !self.event_links[*i].contains(nr));
        for &key in &missing {
            self.reaper.wait_closed(key);
        }
        let _lock = (!missing.is_empty()).then(EventLock::for_attach).flatten();
        let mut made = Vec::new();
        let attached = self.attach_event_links(sets, &mut made);
        // Even after an error: the hooks made are ours to hold (and to
        // retire).
        let (held, handed) = self.reaper.hold(made);
        for (i, nr) in held {
            self.event_links[i].insert(nr);
        }
        handed.and(attached)
    }

    /// Attaches the events of `sets` not hooked yet into `made`, and
    /// retires the hooks of events no longer in them.
    fn attach_event_links(
        &mut self,
        sets: &[BTreeSet<u32>; 2],
        made: &mut Vec<(Key, EventHook)>,
    ) -> Result<()> {
        for phase in Phase::ALL {
            let i = phase.index();
            self.retire_event_links(phase, |nr| !sets[i].contains(&nr));
            if sets[i].iter().all(|nr| self.event_links[i].contains(nr)) {
                continue;
            }
            self.kind(HookMode::Syscall)?;
            let kind = self.loaded(HookMode::Syscall, phase);
            let prog = match phase {
                Phase::Enter => &kind.progs.sys_enter_event,
                Phase::Exit => &kind.progs.sys_exit_event,
            };
            for &nr in &sets[i] {
                if self.event_links[i].contains(&nr) {
                    continue;
                }
                let name = event_name(nr, phase).ok_or_else(|| {
                    Error::InvalidArgument(format!("syscall {nr} has no trace event"))
                })?;
                let start = std::time::Instant::now();
                let hook = EventHook::attach(prog.as_fd(), &name)?;
                step(format!("attach syscalls/{name}"), start);
                made.push(((i, nr), hook));
            }
        }
        Ok(())
    }

    /// From the current kind of hooks to `to`: attach the new (inactive
    /// while hook_mode names the old), open a handoff, wait for the calls
    /// in flight, flip hook_mode, detach the old, wait again, close the
    /// handoff. During it the two probes of each call agree (see
    /// handoff_mine); the waits make every call whose probes straddle an
    /// edge of the handoff decide by one mode. The raw hooks of both phases
    /// stay attached throughout: handoff_mine needs them to tell one call
    /// from the next.
    fn switch(&mut self, to: HookMode, sets: &[BTreeSet<u32>; 2]) -> Result<()> {
        let attached = Phase::ALL
            .iter()
            .try_for_each(|&p| self.attach_raw(p))
            .and_then(|()| match to {
                HookMode::Syscall => self.sync_event_links(sets),
                HookMode::Raw => Ok(()),
            });
        if let Err(err) = attached {
            match self.mode {
                HookMode::Raw => self.retire_all_event_links(),
                HookMode::Syscall => self.links = [None, None],
            }
            for p in Phase::ALL {
                if !self.phase_on[p.index()] {
                    self.links[p.index()] = None;
                }
            }
            return Err(err);
        }
        self.handoff_gen = self.handoff_gen.wrapping_add(1).max(1);
        self.set_handoff(self.handoff_gen);
        // A call whose first probe ran before the handoff began left no
        // decision: its second probe must not see the new mode.
        self.wait_for_probes();
        self.set_mode(to);
        match to {
            HookMode::Syscall => self.links = [None, None],
            HookMode::Raw => {
                // Their programs now leave every call to the raw hooks.
                for p in Phase::ALL {
                    self.retire_event_links(p, |_| true);
                }
                for p in Phase::ALL {
                    if !self.phase_on[p.index()] {
                        self.links[p.index()] = None;
                    }
                }
            }
        }
        // A call whose first probe decided by the old mode must have had
        // its second probe before that probe may decide by hook_mode alone.
        self.wait_for_probes();
        self.unsettled = false; // that wait settled the retired hooks too
        self.set_handoff(0);
        self.switches += 1;
        Ok(())
    }

    /// Waits until every probe of our programs that began before now has
    /// returned. Each runs with preemption disabled (the kernel's probes of
    /// the syscall tracepoints, `perf_syscall_enter()` and the BPF raw
    /// tracepoint's, take `guard(preempt_notrace)` around the program even
    /// where the tracepoints are faultable; the other tracepoints' probes
    /// always did), so an RCU grace period is the wait:
    /// `membarrier(MEMBARRIER_CMD_GLOBAL)` is synchronize_rcu() (8 ms here).
    /// Where membarrier refuses (nohz_full, a seccomp filter), hook and
    /// unhook a syscall event nobody else uses instead: closing the last
    /// perf event of a trace event waits for its probes
    /// (tracepoint_synchronize_unregister(), 35-75 ms). Were another tool to
    /// hold perf events on all of them, a thread preempted between the two
    /// probes of one call for the whole switch could see it twice or not at
    /// all.
    ///
    /// The spare is one of ours only if no per-syscall hook of ours is on it
    /// now: it used to be chosen outside the sets being switched to, and a
    /// switch to the raw hooks for every syscall found none, and did not
    /// wait (a call seen by both kinds was delivered twice).
    fn wait_for_probes(&mut self) {
        const SPARE: [&str; 4] = ["vhangup", "acct", "pivot_root", "syslog"];
        const MEMBARRIER_CMD_GLOBAL: libc::c_int = 1;
        // SAFETY: membarrier takes no pointers.
        if unsafe { libc::syscall(libc::SYS_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0) } == 0 {
            self.probe_waits += 1;
            return;
        }
        if self.kind(HookMode::Syscall).is_err() {
            return;
        }
        let spare = SPARE.iter().find_map(|name| {
            let nr = crate::metadata::names::resolve(name).ok()?;
            (!self.reaper.holds((Phase::Enter.index(), nr)))
                .then(|| event_name(nr, Phase::Enter))
                .flatten()
        });
        let Some(name) = spare else {
            return;
        };
        self.probe_waits += 1;
        let kind = self.loaded(HookMode::Syscall, Phase::Enter);
        // Dropped at once: the close is the wait.
        let _ = EventHook::attach(kind.progs.sys_enter_event.as_fd(), &name);
    }
}
