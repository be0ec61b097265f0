//! Registration, as kernel/trace/trace_syscalls.c does it in
//! reg_event_syscall_enter()/unreg_event_syscall_enter(): attach a phase's
//! program on its first enabled syscall, detach it on the last, set and clear
//! the enable bits. Unlike the kernel, every syscall has its own refcount,
//! so one session ending never clears a bit another session still needs.
//!
//! This is pure bookkeeping over a `Kernel`; the caller holds the one lock
//! (`syscall_trace_lock`) around every call.
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use std::sync::Arc;

use super::filters::FilterRefs;
use crate::error::{Error, Result};
use crate::filter::CallFilter;
use crate::kernel::layout::{NR_SYSCALLS, TGID_FOLLOW, TGID_LAUNCHED, TGID_TRACED};
use crate::kernel::Phase;

/// What registration does to the kernel; `kernel::programs::Programs` in
/// production.
pub trait Kernel {
    fn set_enabled(&mut self, phase: Phase, nr: u32, on: bool);
    fn attach(&mut self, phase: Phase) -> Result<()>;
    fn detach(&mut self, phase: Phase);
    /// `flags`: the tgid's systrace_tgid_flags, or None to remove it.
    fn set_traced_tgid(&mut self, tgid: u32, flags: Option<u32>) -> Result<()>;
    fn set_trace_all_processes(&mut self, count: u32);
    /// The time in the records while `count` > 0 open sessions want it.
    fn set_clock_sessions(&mut self, count: u32);
    /// Copy user memory of syscall `nr`'s arguments into its records.
    fn set_capture(&mut self, nr: u32, on: bool);
    /// Bytes captured of one string or buffer at most, and of data.
    fn set_capture_size(&mut self, size: u32, data_size: u32);
    /// Count syscall `nr`'s calls in the kernel (the counting consumer).
    fn set_counted(&mut self, nr: u32, on: bool);
    /// Count only the calls of each process's first thread (`count` > 0
    /// sessions want that), or every thread's.
    fn set_count_first_thread(&mut self, count: u32);
    /// Marks process `tgid`'s first thread as the one counted while first
    /// threads only are (a thread that takes the process's id by an exec
    /// later is not).
    fn mark_first_thread(&mut self, tgid: u32) -> Result<()>;
    /// Takes `ns` off each counted call's times (the command's -O).
    fn set_count_overhead(&mut self, ns: u64);
    /// Lets each traced process go at its exec while `count` > 0 sessions
    /// want that (-b execve).
    fn set_detach_on_execve(&mut self, count: u32);
    /// Trace the forks of followed processes: attach the fork program
    /// (`count` > 0) or detach it.
    fn set_follow_forks(&mut self, count: u32) -> Result<()>;
    /// The one traced process, when the filter is exactly that (a fast path
    /// for the programs), or None.
    fn set_only_tgid(&mut self, tgid: Option<u32>);
    /// Record the signals of traced threads while `count` > 0 sessions want them.
    fn set_signals(&mut self, count: u32) -> Result<()>;
    /// Record the exits of traced threads while `count` > 0 sessions want them.
    fn set_task_exits(&mut self, count: u32) -> Result<()>;
    /// The programs' filter for syscall `nr` (None: every call passes). A
    /// filter the kernel has no room for is not set: user space filters.
    fn set_filter(&mut self, nr: u32, filter: Option<&crate::kernel::types::systrace_filter>);
    /// Whether some session filters syscall `nr`, whatever the programs'
    /// filter (see `Programs::set_session_filtered`).
    fn set_session_filtered(&mut self, nr: u32, on: bool);
    /// The counting consumer's filter for syscall `nr` (None: it counts
    /// every call); false when the kernel had no room for it.
    fn set_count_filter(
        &mut self,
        nr: u32,
        filter: Option<&crate::kernel::types::systrace_filter>,
    ) -> bool;
    /// Chooses the kind of hooks for the enabled set, after every change
    /// of it (see `Programs::sync_hooks`); attach/detach say which phases.
    /// `settle`: wait for the probes in flight when hooks were retired.
    fn sync_hooks(&mut self, settle: bool) -> Result<()> {
        let _ = settle;
        Ok(())
    }
}

/// Which processes a session traces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProcessFilter {
    All,
    Tgids(BTreeSet<u32>),
}

/// What one session enables.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Registration {
    pub enter: BTreeSet<u32>,
    pub exit: BTreeSet<u32>,
    pub processes: ProcessFilter,
    /// Syscalls whose arguments' user memory is captured.
    pub capture: BTreeSet<u32>,
    /// Bytes of one captured string or buffer (0: no capture).
    pub capture_size: u32,
    /// Bytes of captured data (read's, write's, an iovec's) at most; 0:
    /// `capture_size`. The command's -s, where it keeps paths whole.
    pub data_size: u32,
    /// Trace the forks of the traced processes too.
    pub follow: bool,
    /// Syscalls counted in the kernel (nothing delivered for them unless
    /// also in `enter`/`exit`).
    pub count: BTreeSet<u32>,
    /// A command launched for this session (one of `processes`), held before
    /// its execve until the session is open: it is the session's from that
    /// execve on, as strace traces a command it starts; what the launcher
    /// did in it before is not. See [`Registration::enabled`].
    pub launched: Option<u32>,
    /// Deliver the signals the traced threads act on.
    pub signals: bool,
    /// Deliver the traced threads' exits.
    pub task_exits: bool,
    /// Event filters, per syscall number (see `crate::filter`).
    pub filters: BTreeMap<u32, Arc<CallFilter>>,
    /// Its events need no time (clock=False; the command when no option
    /// shows one): the programs may be loaded without the clock, and read
    /// it only while some open session wants it; the session takes the
    /// events of its syscalls and processes from its registration to its
    /// end, whatever their time says, numbered in order.
    pub clockless: bool,
    /// Its counts are wanted per syscall only, not per process (the
    /// command's -c): the programs may key them by traced root
    /// (`Features::count_by_root`).
    pub count_by_root: bool,
    /// Its counts are of each process's first thread only (the command's
    /// -c without -f, as strace counts the one thread it traces).
    pub count_first_thread: bool,
    /// Nanoseconds taken off each of its counted calls' times (the
    /// command's -O); only with `count_by_root`, whose loads apply it.
    pub count_overhead_ns: u64,
    /// Each of its processes is let go at its exec (but for the launch's),
    /// and the processes it forks after: the command's -b execve, as
    /// strace's. The programs do it for every session of the load.
    pub detach_on_execve: bool,
}

impl Registration {
    /// Whether every process of this session has ended (been reaped), and
    /// it followed none of their forks: no call of theirs can still be in a
    /// probe, so disabling its syscalls needs no wait for probes in flight
    /// (a grace period, which every command's end used to wait for). A pid
    /// used again since only makes the close wait as before.
    pub fn processes_ended(&self) -> bool {
        let ProcessFilter::Tgids(tgids) = &self.processes else {
            return false;
        };
        !self.follow
            && !tgids.is_empty()
            && tgids.iter().all(|&tgid| {
                // SAFETY: kill with signal 0 only checks that the process exists.
                let gone = unsafe { libc::kill(tgid as libc::pid_t, 0) } != 0;
                gone && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH)
            })
    }

    /// The bytes of data this session captures.
    pub fn data_size(&self) -> u32 {
        if self.data_size == 0 {
            self.capture_size
        } else {
            self.data_size
        }
    }
}

/// execve and execveat: the calls that end a launched command's launch.
pub fn exec_syscalls() -> [u32; 2] {
    [syscalls::Sysno::execve, syscalls::Sysno::execveat].map(|s| s.id() as u32)
}

/// The process of `pid`, which may name a thread: the programs filter by
/// process (tgid), so a thread id stands for its process, as with strace -p.
pub fn check_process(pid: u32) -> Result<u32> {
    // Its reads of /proc are systrace's own: a session open on the caller's
    // process must not see another one's opening.
    let _quiet = super::quiet::Quiet::enter();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .map_err(|_| Error::NoSuchProcess(pid))?;
    let tgid = status
        .lines()
        .find_map(|l| l.strip_prefix("Tgid:"))
        .and_then(|v| v.trim().parse::<u32>().ok())
        .ok_or(Error::NoSuchProcess(pid))?;
    if is_kernel_thread(pid, &status) {
        // strace -p refuses it too (ptrace cannot seize one): a session
        // on it would wait for calls that never come.
        return Err(Error::InvalidArgument(format!(
            "process {pid} is a kernel thread: it makes no system calls to trace"
        )));
    }
    Ok(tgid)
}

/// PF_KTHREAD: `Kthread: 1` in its status (Linux 6.2 on), else in the
/// flags of its stat.
fn is_kernel_thread(pid: u32, status: &str) -> bool {
    const PF_KTHREAD: u64 = 0x0020_0000;
    if let Some(v) = status.lines().find_map(|l| l.strip_prefix("Kthread:")) {
        return v.trim() == "1";
    }
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        // The fields after the comm, which may hold spaces and parentheses.
        .and_then(|stat| {
            let rest = &stat[stat.rfind(')')? + 1..];
            rest.split_whitespace().nth(6)?.parse::<u64>().ok()
        })
        .is_some_and(|flags| flags & PF_KTHREAD != 0)
}

impl Default for ProcessFilter {
    fn default() -> Self {
        ProcessFilter::Tgids(BTreeSet::new())
    }
}

impl Registration {
    /// Whether the programs must read the clock for it: it delivers
    /// events and wants their time (a counting session times its calls
    /// with a clock of its own, bpf/count.bpf.h).
    pub fn wants_time(&self) -> bool {
        !self.clockless
            && (!self.enter.is_empty() || !self.exit.is_empty() || self.signals || self.task_exits)
    }

    pub fn syscalls(&self, phase: Phase) -> &BTreeSet<u32> {
        match phase {
            Phase::Enter => &self.enter,
            Phase::Exit => &self.exit,
        }
    }

    /// What the programs must record for this session at `phase`: its
    /// syscalls, and for a launched command the enter of the execs, which
    /// tell where its trace begins (the session shows them only if asked).
    pub fn enabled(&self, phase: Phase) -> Cow<'_, BTreeSet<u32>> {
        let nrs = self.syscalls(phase);
        if self.launched.is_none() || phase != Phase::Enter {
            return Cow::Borrowed(nrs);
        }
        let mut all = nrs.clone();
        all.extend(exec_syscalls());
        Cow::Owned(all)
    }
}

pub struct Registry {
    /// Per phase, per syscall number: sessions that enabled it.
    refcount: [Vec<u32>; 2],
    /// Per phase: enabled (session, syscall) pairs, as sys_refcount_enter/exit.
    sys_refcount: [u32; 2],
    /// tgid -> (sessions tracing it, of which following its forks, of
    /// which launched it: held before the exec that starts its trace).
    tgid_refcount: HashMap<u32, (u32, u32, u32)>,
    all_processes: u32,
    capture_refcount: Vec<u32>,
    /// Per syscall number: sessions that count it.
    count_refcount: Vec<u32>,
    /// The filter the counting sessions of a syscall count it through
    /// (they share the counts, so they have the same one).
    count_filters: HashMap<u32, Arc<CallFilter>>,
    /// Capture sizes of the open sessions: the kernel captures the largest.
    capture_sizes: BTreeMap<u32, u32>,
    data_sizes: BTreeMap<u32, u32>,
    follow: u32,
    /// Sessions that want signals, and thread exits.
    signals: u32,
    task_exits: u32,
    /// Sessions that want the time of their events.
    clocks: u32,
    /// Counting sessions that count only first threads.
    first_thread_counts: u32,
    /// The overhead the counting sessions by root take off each call's
    /// time, and how many of them are open (the load has one value).
    count_overhead: (u64, u32),
    /// Sessions that detach from processes at their execs.
    detaching: u32,
    filters: FilterRefs,
}

/// A count of sessions, with one more (`add`) or one less.
fn one_more_or_less(count: u32, add: bool) -> u32 {
    if add {
        count + 1
    } else {
        count.saturating_sub(1)
    }
}

impl Default for Registry {
    fn default() -> Self {
        Registry {
            refcount: [vec![0; NR_SYSCALLS], vec![0; NR_SYSCALLS]],
            sys_refcount: [0, 0],
            tgid_refcount: HashMap::new(),
            all_processes: 0,
            capture_refcount: vec![0; NR_SYSCALLS],
            count_refcount: vec![0; NR_SYSCALLS],
            count_filters: HashMap::new(),
            capture_sizes: BTreeMap::new(),
            data_sizes: BTreeMap::new(),
            follow: 0,
            signals: 0,
            task_exits: 0,
            clocks: 0,
            first_thread_counts: 0,
            count_overhead: (0, 0),
            detaching: 0,
            filters: FilterRefs::default(),
        }
    }
}

impl Registry {
    /// Enables what `reg` asks for. On failure nothing stays changed.
    pub fn register(&mut self, kernel: &mut impl Kernel, reg: &Registration) -> Result<()> {
        // Refused before anything changes if another overhead is in use.
        self.add_count_overhead(kernel, reg)?;
        // Its processes' first threads marked before anything else (a
        // failure changes nothing), and before its counting begins.
        if reg.count_first_thread && !reg.count.is_empty() {
            if let ProcessFilter::Tgids(tgids) = &reg.processes {
                for &tgid in tgids {
                    if let Err(e) = kernel.mark_first_thread(tgid) {
                        self.drop_count_overhead(kernel, reg);
                        return Err(e);
                    }
                }
            }
        }
        // Off while the filter changes, so no new process is missed.
        kernel.set_only_tgid(None);
        // The clock before the enable bits, so that every record the
        // session takes carries the time; unclocked records (numbered by
        // the consumer, below any time) fall before its start.
        self.update_clock(kernel, reg, true);
        // Before the count bits, so that no other thread's call is counted.
        self.update_first_thread_counts(kernel, reg, true);
        // Before the enable bits: no exec is missed.
        self.update_detaching(kernel, reg, true);
        let result = self
            .add_count_filters(kernel, reg)
            .and_then(|()| self.register_inner(kernel, reg));
        if result.is_err() {
            self.drop_count_filters(kernel, reg);
            self.update_first_thread_counts(kernel, reg, false);
            self.drop_count_overhead(kernel, reg);
            self.update_detaching(kernel, reg, false);
            self.update_clock(kernel, reg, false);
        }
        self.update_only_tgid(kernel);
        result
    }

    /// Whether `reg` counts with an overhead taken off (by root only).
    fn has_count_overhead(reg: &Registration) -> bool {
        reg.count_by_root && !reg.count.is_empty()
    }

    /// Takes `reg`'s overhead off each counted call's time; refused if a
    /// counting session open beside it takes another (one value a load).
    fn add_count_overhead(&mut self, kernel: &mut impl Kernel, reg: &Registration) -> Result<()> {
        if !Self::has_count_overhead(reg) {
            return Ok(());
        }
        let (ns, sessions) = self.count_overhead;
        if sessions > 0 && ns != reg.count_overhead_ns {
            return Err(Error::Unsupported(format!(
                "a counting session taking {ns} ns off each call's time is open; \
                 this one would take {} ns",
                reg.count_overhead_ns
            )));
        }
        self.count_overhead = (reg.count_overhead_ns, sessions + 1);
        kernel.set_count_overhead(reg.count_overhead_ns);
        Ok(())
    }

    fn drop_count_overhead(&mut self, kernel: &mut impl Kernel, reg: &Registration) {
        if !Self::has_count_overhead(reg) {
            return;
        }
        self.count_overhead.1 = self.count_overhead.1.saturating_sub(1);
        if self.count_overhead.1 == 0 {
            self.count_overhead.0 = 0;
            kernel.set_count_overhead(0);
        }
    }

    /// Adds or removes `reg`'s detaching at execs.
    fn update_detaching(&mut self, kernel: &mut impl Kernel, reg: &Registration, add: bool) {
        if reg.detach_on_execve {
            self.detaching = one_more_or_less(self.detaching, add);
            kernel.set_detach_on_execve(self.detaching);
        }
    }

    /// Adds or removes `reg`'s count of first threads only.
    fn update_first_thread_counts(
        &mut self,
        kernel: &mut impl Kernel,
        reg: &Registration,
        add: bool,
    ) {
        if !reg.count_first_thread || reg.count.is_empty() {
            return;
        }
        self.first_thread_counts = one_more_or_less(self.first_thread_counts, add);
        kernel.set_count_first_thread(self.first_thread_counts);
    }

    /// Adds or removes `reg`'s want of the time. Removed once its bits are
    /// off, after its end was set: a record the clock then misses is past
    /// its end anyway.
    fn update_clock(&mut self, kernel: &mut impl Kernel, reg: &Registration, add: bool) {
        if !reg.wants_time() {
            return;
        }
        self.clocks = one_more_or_less(self.clocks, add);
        kernel.set_clock_sessions(self.clocks);
    }

    /// Before a counting session's count bits go on: its filters, which
    /// must be those of the sessions that count the same syscalls.
    fn add_count_filters(&mut self, kernel: &mut impl Kernel, reg: &Registration) -> Result<()> {
        for &nr in &reg.count {
            let mine = reg.filters.get(&nr);
            if self.count_refcount[nr as usize] > 0 {
                let theirs = self.count_filters.get(&nr);
                if mine.map(|f| &f.ops) != theirs.map(|f| &f.ops) {
                    return Err(Error::InvalidArgument(format!(
                        "{} is counted by another open session with {}: sessions share the \
                         kernel's counts, so they count a syscall through the same filter",
                        crate::metadata::display_name(nr),
                        theirs
                            .map_or_else(|| "no filter".into(), |f| format!("filter '{}'", f.text))
                    )));
                }
                continue;
            }
            let Some(f) = mine else { continue };
            let encoded = crate::filter::kernel_filter(std::iter::once(&**f));
            let set = match encoded.as_deref() {
                Some(k) => kernel.set_count_filter(nr, Some(k)),
                None => false,
            };
            if !set {
                return Err(Error::InvalidArgument(format!(
                    "filter '{}' cannot be counted in the kernel (longer than the programs take, \
                     or a string test)",
                    f.text
                )));
            }
            self.count_filters.insert(nr, Arc::clone(f));
        }
        Ok(())
    }

    /// The count filters that `reg` set and no session counts through.
    fn drop_count_filters(&mut self, kernel: &mut impl Kernel, reg: &Registration) {
        for &nr in &reg.count {
            if self.count_refcount[nr as usize] == 0 && self.count_filters.remove(&nr).is_some() {
                kernel.set_count_filter(nr, None);
            }
        }
    }

    fn register_inner(&mut self, kernel: &mut impl Kernel, reg: &Registration) -> Result<()> {
        // The filter first, so the programs admit the process once its bits go on.
        if reg.follow {
            self.follow += 1;
            if let Err(err) = kernel.set_follow_forks(self.follow) {
                self.follow -= 1;
                return Err(err);
            }
        }
        if let Err(err) = self.add_processes(kernel, &reg.processes, reg.follow, reg.launched) {
            self.remove_follow(kernel, reg);
            return Err(err);
        }
        if let Err(err) = self.add_task_events(kernel, reg) {
            self.remove_processes(kernel, &reg.processes, reg.follow, reg.launched);
            self.remove_follow(kernel, reg);
            return Err(err);
        }
        // Captures and filters before the enable bits, so the first records
        // carry them and no unfiltered call slips through.
        self.add_capture(kernel, reg);
        self.filters.add(kernel, reg);
        // Counting needs both phases' programs: its syscalls hold them
        // attached as enabled ones do.
        let counted = reg.count.len() as u32;
        for phase in Phase::ALL {
            let nrs = reg.enabled(phase);
            if nrs.is_empty() && counted == 0 {
                continue;
            }
            let i = phase.index();
            if self.sys_refcount[i] == 0 {
                if let Err(err) = kernel.attach(phase) {
                    // Undo the phases already done, then the filter.
                    for done in Phase::ALL.iter().take_while(|&&p| p != phase) {
                        self.disable(kernel, *done, &reg.enabled(*done), counted);
                    }
                    self.filters.remove(kernel, reg);
                    self.remove_capture(kernel, reg);
                    self.remove_task_events(kernel, reg);
                    self.remove_processes(kernel, &reg.processes, reg.follow, reg.launched);
                    self.remove_follow(kernel, reg);
                    return Err(err);
                }
            }
            for &nr in nrs.iter() {
                let count = &mut self.refcount[i][nr as usize];
                if *count == 0 {
                    kernel.set_enabled(phase, nr, true);
                }
                *count += 1;
                self.sys_refcount[i] += 1;
            }
            self.sys_refcount[i] += counted;
        }
        self.update_counts(kernel, reg, true);
        if let Err(err) = kernel.sync_hooks(true) {
            self.unregister_inner(kernel, reg);
            return Err(err);
        }
        Ok(())
    }

    /// Keeps the programs' one-process fast path in step with the filter.
    fn update_only_tgid(&self, kernel: &mut impl Kernel) {
        let only = (self.follow == 0 && self.tgid_refcount.len() == 1)
            .then(|| self.tgid_refcount.keys().next().copied())
            .flatten();
        kernel.set_only_tgid(only);
    }

    /// Whether the programs count syscall `nr`: some session counts it,
    /// or (execve) some session counts execveat, whose successful calls
    /// return by execve's number (the programs give that exit to the
    /// execveat it ends: bpf/count.bpf.h).
    fn counted_in_kernel(&self, nr: u32) -> bool {
        let [execve, execveat] = exec_syscalls();
        let sessions = |nr: u32| self.count_refcount[nr as usize];
        sessions(nr) > 0 || (nr == execve && sessions(execveat) > 0)
    }

    /// Adds (`add`) or removes `reg`'s counted syscalls, and turns each
    /// count bit on or off where that changed whether it is counted.
    fn update_counts(&mut self, kernel: &mut impl Kernel, reg: &Registration, add: bool) {
        let [execve, _] = exec_syscalls();
        let touched: BTreeSet<u32> = reg.count.iter().copied().chain([execve]).collect();
        let before: Vec<bool> = touched
            .iter()
            .map(|&nr| self.counted_in_kernel(nr))
            .collect();
        for &nr in &reg.count {
            let n = &mut self.count_refcount[nr as usize];
            *n = if add { *n + 1 } else { n.saturating_sub(1) };
        }
        for (&nr, was) in touched.iter().zip(before) {
            let now = self.counted_in_kernel(nr);
            if now != was {
                kernel.set_counted(nr, now);
            }
        }
    }

    /// Disables what `reg` enabled; it must have been registered.
    pub fn unregister(&mut self, kernel: &mut impl Kernel, reg: &Registration) {
        self.unregister_inner(kernel, reg);
        self.update_first_thread_counts(kernel, reg, false);
        self.drop_count_overhead(kernel, reg);
        self.update_detaching(kernel, reg, false);
        self.update_clock(kernel, reg, false);
        self.update_only_tgid(kernel);
    }

    fn unregister_inner(&mut self, kernel: &mut impl Kernel, reg: &Registration) {
        self.update_counts(kernel, reg, false);
        self.drop_count_filters(kernel, reg);
        for phase in Phase::ALL {
            self.disable(kernel, phase, &reg.enabled(phase), reg.count.len() as u32);
        }
        self.filters.remove(kernel, reg);
        self.remove_capture(kernel, reg);
        self.remove_task_events(kernel, reg);
        self.remove_processes(kernel, &reg.processes, reg.follow, reg.launched);
        self.remove_follow(kernel, reg);
        // A smaller set never needs a hook the current ones lack; a failed
        // switch to the per-syscall events leaves the raw hooks on.
        let _ = kernel.sync_hooks(!reg.processes_ended());
    }

    /// Signals and thread exits: their programs attached on the first
    /// session that wants them.
    fn add_task_events(&mut self, kernel: &mut impl Kernel, reg: &Registration) -> Result<()> {
        if reg.signals {
            kernel.set_signals(self.signals + 1)?;
            self.signals += 1;
        }
        if reg.task_exits {
            if let Err(err) = kernel.set_task_exits(self.task_exits + 1) {
                if reg.signals {
                    self.signals -= 1;
                    let _ = kernel.set_signals(self.signals);
                }
                return Err(err);
            }
            self.task_exits += 1;
        }
        Ok(())
    }

    fn remove_task_events(&mut self, kernel: &mut impl Kernel, reg: &Registration) {
        // Detaching cannot fail.
        if reg.signals {
            self.signals = self.signals.saturating_sub(1);
            let _ = kernel.set_signals(self.signals);
        }
        if reg.task_exits {
            self.task_exits = self.task_exits.saturating_sub(1);
            let _ = kernel.set_task_exits(self.task_exits);
        }
    }

    fn remove_follow(&mut self, kernel: &mut impl Kernel, reg: &Registration) {
        if reg.follow {
            self.follow -= 1;
            // Detaching cannot fail; attaching is not asked for here.
            let _ = kernel.set_follow_forks(self.follow);
        }
    }

    fn add_capture(&mut self, kernel: &mut impl Kernel, reg: &Registration) {
        if reg.capture.is_empty() {
            return;
        }
        *self.capture_sizes.entry(reg.capture_size).or_insert(0) += 1;
        *self.data_sizes.entry(reg.data_size()).or_insert(0) += 1;
        kernel.set_capture_size(self.capture_size(), self.data_size());
        for &nr in &reg.capture {
            let count = &mut self.capture_refcount[nr as usize];
            if *count == 0 {
                kernel.set_capture(nr, true);
            }
            *count += 1;
        }
    }

    fn remove_capture(&mut self, kernel: &mut impl Kernel, reg: &Registration) {
        if reg.capture.is_empty() {
            return;
        }
        for &nr in &reg.capture {
            let count = &mut self.capture_refcount[nr as usize];
            *count = count.saturating_sub(1);
            if *count == 0 {
                kernel.set_capture(nr, false);
            }
        }
        for (sizes, size) in [
            (&mut self.capture_sizes, reg.capture_size),
            (&mut self.data_sizes, reg.data_size()),
        ] {
            if let Some(n) = sizes.get_mut(&size) {
                *n -= 1;
                if *n == 0 {
                    sizes.remove(&size);
                }
            }
        }
        kernel.set_capture_size(self.capture_size(), self.data_size());
    }

    /// The capture size the kernel uses: the largest any session asked for.
    pub fn capture_size(&self) -> u32 {
        self.capture_sizes.keys().next_back().copied().unwrap_or(0)
    }

    /// The data size the kernel uses: the largest any session asked for.
    pub fn data_size(&self) -> u32 {
        self.data_sizes.keys().next_back().copied().unwrap_or(0)
    }

    /// True when some open session follows the forks of `tgid`.
    pub fn is_followed(&self, tgid: u32) -> bool {
        self.tgid_refcount
            .get(&tgid)
            .is_some_and(|&(_, follow, _)| follow > 0)
    }

    /// Disables `nrs` for `phase`, and lets go of the `counted` syscalls'
    /// hold on its program.
    fn disable(
        &mut self,
        kernel: &mut impl Kernel,
        phase: Phase,
        nrs: &BTreeSet<u32>,
        counted: u32,
    ) {
        if nrs.is_empty() && counted == 0 {
            return;
        }
        let i = phase.index();
        self.sys_refcount[i] = self.sys_refcount[i].saturating_sub(counted);
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

    /// A rewrite after the launch's exec sets TGID_LAUNCHED again, which
    /// the programs cleared there: the command opens its sessions before.
    fn tgid_flags(counts: (u32, u32, u32)) -> u32 {
        TGID_TRACED
            | if counts.1 > 0 { TGID_FOLLOW } else { 0 }
            | if counts.2 > 0 { TGID_LAUNCHED } else { 0 }
    }

    fn add_processes(
        &mut self,
        kernel: &mut impl Kernel,
        filter: &ProcessFilter,
        follow: bool,
        launched: Option<u32>,
    ) -> Result<()> {
        match filter {
            ProcessFilter::All => {
                self.all_processes += 1;
                kernel.set_trace_all_processes(self.all_processes);
            }
            ProcessFilter::Tgids(tgids) => {
                for (done, &tgid) in tgids.iter().enumerate() {
                    let before = self.tgid_refcount.get(&tgid).copied().unwrap_or((0, 0, 0));
                    let after = (
                        before.0 + 1,
                        before.1 + u32::from(follow),
                        before.2 + u32::from(launched == Some(tgid)),
                    );
                    if before.0 == 0 || Self::tgid_flags(before) != Self::tgid_flags(after) {
                        if let Err(err) =
                            kernel.set_traced_tgid(tgid, Some(Self::tgid_flags(after)))
                        {
                            let added: BTreeSet<u32> = tgids.iter().take(done).copied().collect();
                            self.remove_processes(
                                kernel,
                                &ProcessFilter::Tgids(added),
                                follow,
                                launched,
                            );
                            return Err(err);
                        }
                    }
                    self.tgid_refcount.insert(tgid, after);
                }
            }
        }
        Ok(())
    }

    fn remove_processes(
        &mut self,
        kernel: &mut impl Kernel,
        filter: &ProcessFilter,
        follow: bool,
        launched: Option<u32>,
    ) {
        match filter {
            ProcessFilter::All => {
                self.all_processes = self.all_processes.saturating_sub(1);
                kernel.set_trace_all_processes(self.all_processes);
            }
            ProcessFilter::Tgids(tgids) => {
                for tgid in tgids {
                    let Some(&before) = self.tgid_refcount.get(tgid) else {
                        continue;
                    };
                    let after = (
                        before.0 - 1,
                        before.1.saturating_sub(u32::from(follow)),
                        before.2.saturating_sub(u32::from(launched == Some(*tgid))),
                    );
                    // Removing or rewriting an entry that exists cannot fail
                    // for lack of room; a failure here changes nothing.
                    if after.0 == 0 {
                        self.tgid_refcount.remove(tgid);
                        let _ = kernel.set_traced_tgid(*tgid, None);
                    } else {
                        self.tgid_refcount.insert(*tgid, after);
                        // Not for TGID_LAUNCHED alone: the launch is over
                        // by then, and the programs may have let the
                        // process go (-b execve) or it may have ended: a
                        // rewrite would trace its pid again.
                        let kept = |counts| Self::tgid_flags(counts) & !TGID_LAUNCHED;
                        if kept(before) != kept(after) {
                            let _ = kernel.set_traced_tgid(*tgid, Some(Self::tgid_flags(after)));
                        }
                    }
                }
            }
        }
    }

    /// The number of sessions that enabled `nr` for `phase`.
    pub fn refcount(&self, phase: Phase, nr: u32) -> u32 {
        self.refcount[phase.index()][nr as usize]
    }

    pub fn sys_refcount(&self, phase: Phase) -> u32 {
        self.sys_refcount[phase.index()]
    }
}

#[cfg(test)]
#[path = "registry_tests.rs"]
mod tests;
