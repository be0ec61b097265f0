//! The process-wide tracer: the loaded programs, the registry and the
//! consumer thread, behind one lock, `SYSCALL_TRACE_LOCK`, as in
//! kernel/trace/trace_syscalls.c. The programs are loaded and attached once
//! per process however many sessions are open.
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::capture;
use super::quiet;
use super::registry::{Kernel, Registration, Registry};
use crate::error::{Error, Result};
use crate::kernel::consumer::Consumer;
use crate::kernel::hooks::{self, HookMode};
use crate::kernel::layout::NR_SYSCALLS;
use crate::kernel::programs::{Features, FilterUse, Programs, NB_ARGS_UNKNOWN};
use crate::kernel::startup as programs;
use crate::kernel::Phase;
use crate::metadata::names::{self, metadata_now};
use crate::metadata::MetadataTable;

pub const DEFAULT_BUFFER_SIZE: usize = 8 << 20;
const MIN_BUFFER_SIZE: usize = 4096;
const MAX_BUFFER_SIZE: usize = 1 << 30;

pub(super) struct Tracer {
    /// The process that loaded it: a forked child must not use its parent's.
    pub(super) pid: u32,
    pub(super) programs: Programs,
    pub(super) registry: Registry,
    pub(super) consumer: Consumer,
    pub(super) sessions: usize,
    /// The programs' tables come from the running kernel's metadata.
    exact_tables: bool,
    /// The background read of the kernel's metadata was queued.
    metadata_queued: bool,
}

/// How long after the first session is registered the kernel's metadata
/// is read (see [`Tracer::queue_metadata_read`]).
const METADATA_READ_DELAY: Duration = Duration::from_millis(50);

impl Tracer {
    /// Queues the read of the running kernel's metadata on the programs'
    /// background thread (it is never traced, so the user's traces do not
    /// show it; not the consumer thread, which must drain meanwhile), which
    /// then corrects the programs' tables from it (see `sync_tables_now`).
    /// Until then the embedded tables serve, and a caller that needs the
    /// kernel's (`define_fields()`) reads them itself.
    ///
    /// Queued once the first session is registered, to run a little after:
    /// its ~700 tracefs files are some 20 ms of CPU, and at the load (as
    /// before) or at the registration, they shared the 2 CPUs with the rest
    /// of the command's start, its launcher's go and its command's exec,
    /// at the command's threads' raised priority (issue 15, the command from
    /// its exec to its command's, medians of 12 runs side by side, twice:
    /// read at the load 54.6 and 66.9 ms, at the registration 53.9 and
    /// 60.8 ms, 50 ms after it 40.2 and 42.6 ms).
    pub(super) fn queue_metadata_read(&mut self) {
        if self.metadata_queued || self.exact_tables {
            return;
        }
        self.metadata_queued = true;
        self.programs.run_in_background(
            METADATA_READ_DELAY,
            Box::new(|| {
                names::metadata();
                (!sync_tables_now()).then_some(SYNC_RETRY)
            }),
        );
    }

    /// Corrects the programs' tables once the kernel's metadata is read.
    fn sync_tables(&mut self) {
        if self.exact_tables || self.pid != getpid() {
            return;
        }
        if let (table, true) = metadata_now() {
            self.programs
                .update_tables(&nb_args_table(table), &capture::spec_table(table));
            self.exact_tables = true;
        }
    }
}

static SYSCALL_TRACE_LOCK: Mutex<Option<Tracer>> = Mutex::new(None);

/// How long the table correction waits for a busy lock before it tries again.
const SYNC_RETRY: std::time::Duration = std::time::Duration::from_millis(20);

/// Corrects the programs' tables from the kernel's metadata just read, if
/// the tracer's lock is free; false if it is not (the background thread
/// tries again, and a session's open corrects them too). Never waits for
/// the lock: its holder may be waiting for the background thread this runs
/// on (dropping the programs joins it). Once, a busy lock (a caller asking
/// kernel_state() in a loop) left a command's one session on the embedded
/// tables for its whole run.
fn sync_tables_now() -> bool {
    let mut guard = match SYSCALL_TRACE_LOCK.try_lock() {
        Ok(guard) => guard,
        Err(std::sync::TryLockError::Poisoned(e)) => e.into_inner(),
        Err(std::sync::TryLockError::WouldBlock) => return false,
    };
    if let Some(tracer) = guard.as_mut() {
        tracer.sync_tables();
    }
    true
}

pub(super) fn lock() -> MutexGuard<'static, Option<Tracer>> {
    // Before the lock is first taken: a fork while it is held must find
    // the handlers there to take it.
    install_fork_handlers();
    SYSCALL_TRACE_LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// [`lock`], waiting at most `patience`.
fn lock_within(patience: std::time::Duration) -> Option<MutexGuard<'static, Option<Tracer>>> {
    install_fork_handlers();
    let deadline = Instant::now() + patience;
    loop {
        match SYSCALL_TRACE_LOCK.try_lock() {
            Ok(guard) => return Some(guard),
            Err(std::sync::TryLockError::Poisoned(e)) => return Some(e.into_inner()),
            Err(std::sync::TryLockError::WouldBlock) if Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            Err(std::sync::TryLockError::WouldBlock) => return None,
        }
    }
}

/// What the forking thread holds across fork(): the tracer's lock, then
/// the metadata's. (The hooks are in a table of systrace's threads, which
/// a fork does not copy: see `kernel::reaper`.)
type ForkGuards = (MutexGuard<'static, Option<Tracer>>, MutexGuard<'static, ()>);

thread_local! {
    static FORK_GUARDS: std::cell::RefCell<Option<ForkGuards>> =
        const { std::cell::RefCell::new(None) };
}

/// Runs `clone`, which makes a child that only execs (`crate::launch`), once
/// no load of the programs runs: libbpf opens fds that are not close-on-exec,
/// which the child would keep. (A clone runs no fork handlers, and needs no
/// other lock: the child takes none.) The command's child is made before
/// its load starts (issue 15), so it never waits there.
pub fn clone_to_exec<T>(clone: impl FnOnce() -> T) -> T {
    let _tracer = lock();
    clone()
}

extern "C" fn before_fork() {
    // A child gets a copy of every lock but only the forking thread: take
    // the locks (waiting for a table being built) so that the child never
    // inherits them held by a thread it does not have. Same order as
    // everywhere: the tracer's, then the metadata's.
    let tracer = lock();
    let metadata = names::lock_for_fork();
    FORK_GUARDS.with(|g| *g.borrow_mut() = Some((tracer, metadata)));
}

extern "C" fn after_fork_parent() {
    FORK_GUARDS.with(|g| drop(g.borrow_mut().take()));
}

extern "C" fn after_fork_child() {
    quiet::reset_in_child();
    PID.store(0, Ordering::SeqCst);
    FORK_GUARDS.with(|g| {
        if let Some((mut tracer, metadata)) = g.borrow_mut().take() {
            // The parent's programs must not stay attached through the
            // child's copies of their fds: close them now, not when (if
            // ever) the child uses systrace.
            if let Some(old) = tracer.take() {
                old.forget_in_child();
            }
            drop(metadata);
            drop(tracer);
        }
    });
}

/// Registers the fork handlers (once). The Python module does it when it
/// is imported, before any lock of systrace can be taken.
pub fn install_fork_handlers() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    // SAFETY: registers plain extern "C" functions that take and release
    // our own locks and close our own fds; they run in the forking thread.
    ONCE.call_once(|| unsafe {
        libc::pthread_atfork(
            Some(before_fork),
            Some(after_fork_parent),
            Some(after_fork_child),
        );
    });
}

/// This process's id, cached: a getpid() per call would be a syscall of
/// the caller's thread, in its own trace. Reset in a forked child.
static PID: AtomicU32 = AtomicU32::new(0);

pub fn getpid() -> u32 {
    match PID.load(Ordering::SeqCst) {
        0 => {
            let pid = std::process::id();
            PID.store(pid, Ordering::SeqCst);
            pid
        }
        pid => pid,
    }
}

impl Tracer {
    /// See after_fork_child.
    fn forget_in_child(self) {
        let Tracer {
            programs, consumer, ..
        } = self;
        consumer.forget_in_child();
        programs.forget_in_child();
    }
}

impl Kernel for Programs {
    fn set_enabled(&mut self, phase: Phase, nr: u32, on: bool) {
        Programs::set_enabled(self, phase, nr, on)
    }
    fn attach(&mut self, phase: Phase) -> Result<()> {
        Programs::attach(self, phase)
    }
    fn detach(&mut self, phase: Phase) {
        Programs::detach(self, phase)
    }
    fn set_traced_tgid(&mut self, tgid: u32, flags: Option<u32>) -> Result<()> {
        Programs::set_traced_tgid(self, tgid, flags)
    }
    fn set_trace_all_processes(&mut self, count: u32) {
        Programs::set_trace_all_processes(self, count)
    }
    fn set_clock_sessions(&mut self, count: u32) {
        Programs::set_clock_sessions(self, count)
    }
    fn set_capture(&mut self, nr: u32, on: bool) {
        Programs::set_capture(self, nr, on)
    }
    fn set_capture_size(&mut self, size: u32, data_size: u32) {
        Programs::set_capture_size(self, size, data_size)
    }
    fn set_follow_forks(&mut self, count: u32) -> Result<()> {
        Programs::set_follow_forks(self, count)
    }
    fn set_signals(&mut self, count: u32) -> Result<()> {
        Programs::set_signals(self, count)
    }
    fn set_task_exits(&mut self, count: u32) -> Result<()> {
        Programs::set_task_exits(self, count)
    }
    fn set_only_tgid(&mut self, tgid: Option<u32>) {
        Programs::set_only_tgid(self, tgid)
    }
    fn set_counted(&mut self, nr: u32, on: bool) {
        Programs::set_counted(self, nr, on)
    }
    fn set_count_first_thread(&mut self, count: u32) {
        Programs::set_count_first_thread(self, count > 0)
    }
    fn mark_first_thread(&mut self, tgid: u32) -> Result<()> {
        Programs::mark_first_thread(self, tgid)
    }
    fn set_count_overhead(&mut self, ns: u64) {
        Programs::set_count_overhead(self, ns)
    }
    fn set_detach_on_execve(&mut self, count: u32) {
        Programs::set_detach_on_execve(self, count > 0)
    }
    fn set_filter(&mut self, nr: u32, filter: Option<&crate::kernel::types::systrace_filter>) {
        Programs::set_filter(self, FilterUse::Events, nr, filter);
    }
    fn set_count_filter(
        &mut self,
        nr: u32,
        filter: Option<&crate::kernel::types::systrace_filter>,
    ) -> bool {
        Programs::set_filter(self, FilterUse::Counts, nr, filter)
    }
    fn set_session_filtered(&mut self, nr: u32, on: bool) {
        Programs::set_session_filtered(self, nr, on)
    }

    fn sync_hooks(&mut self, settle: bool) -> Result<()> {
        Programs::sync_hooks(self, settle)
    }
}

pub fn check_buffer_size(size: usize) -> Result<usize> {
    if !(MIN_BUFFER_SIZE..=MAX_BUFFER_SIZE).contains(&size) || !size.is_power_of_two() {
        return Err(Error::InvalidArgument(format!(
            "buffer_size must be a power of two from {MIN_BUFFER_SIZE} to {MAX_BUFFER_SIZE} bytes (the kernel's \
             rule for BPF ring buffers), not {size}"
        )));
    }
    Ok(size)
}

fn nb_args_table(metadata: &MetadataTable) -> [u8; NR_SYSCALLS] {
    let mut table = [NB_ARGS_UNKNOWN; NR_SYSCALLS];
    for meta in metadata.iter() {
        if let Some(slot) = table.get_mut(meta.syscall_nr as usize) {
            *slot = meta.nb_args() as u8;
        }
    }
    table
}

fn load(
    buffer_size: usize,
    first: Option<HookMode>,
    tasks_first: bool,
    features: Features,
) -> Result<Tracer> {
    let start = Instant::now();
    let (table, exact) = metadata_now();
    let sigreturn = names::resolve("rt_sigreturn").unwrap_or(u32::MAX);
    let nb_args = nb_args_table(table);
    let specs = capture::spec_table(table);
    programs::reset_steps(vec![("metadata tables".to_owned(), start.elapsed())]);
    let programs = Programs::load(
        buffer_size,
        &nb_args,
        &specs,
        sigreturn,
        first,
        tasks_first,
        features,
    )?;
    let start = Instant::now();
    let consumer = Consumer::start(programs.events_map()?, programs.woken_map()?)?;
    programs.set_ignore_tid(consumer.tid());
    programs.set_self(getpid(), quiet::slots_addr());
    programs::step("start the consumer thread", start);
    // The kernel's metadata is read once the first session is registered
    // (Tracer::queue_metadata_read).
    Ok(Tracer {
        pid: getpid(),
        programs,
        registry: Registry::default(),
        consumer,
        sessions: 0,
        exact_tables: exact,
        metadata_queued: false,
    })
}

/// The tracer of this process, loaded (or reloaded) as needed.
/// `first`: the registration about to be made, whose kind of hooks is
/// loaded with the programs (None: preload, which loads both).
pub(super) fn tracer<'a>(
    slot: &'a mut Option<Tracer>,
    buffer_size: Option<usize>,
    first: Option<&Registration>,
) -> Result<&'a mut Tracer> {
    // A new buffer size takes effect when no session holds the old buffer;
    // no size asked for means the default.
    let size = buffer_size.unwrap_or(DEFAULT_BUFFER_SIZE);
    let wants = first.map_or(Features::ALL, features_of);
    if slot.as_ref().is_some_and(|t| {
        t.sessions == 0
            && (t.programs.buffer_size() != size
                || !t.programs.features().covers(wants)
                || wants.count_by_root && !t.programs.features().count_by_root)
    }) {
        *slot = None;
    }
    if let Some(t) = slot.as_ref() {
        if !t.programs.features().covers(wants) {
            // Only the command loads less than everything, and it opens
            // no session its first did not load for.
            return Err(Error::Unsupported(format!(
                "this process's BPF programs were loaded without {} (systrace's command \
                 loads only what its options use), and sessions are open on them",
                if wants.count && !t.programs.features().count {
                    "counting"
                } else if wants.filters && !t.programs.features().filters {
                    "event filters"
                } else if wants.clock && !t.programs.features().clock {
                    "the time of each event"
                } else if wants.count && t.programs.features().count_by_root {
                    "counting per process"
                } else {
                    "the capture of some of this session's arguments"
                }
            )));
        }
    }
    if slot.is_none() {
        let kind = first.and_then(|reg| {
            hooks::likely(&Phase::ALL.map(|p| {
                let mut set = reg.enabled(p).into_owned();
                set.extend(&reg.count);
                set
            }))
        });
        // The programs of task events with the object if the first
        // session wants them (the command does) or for preload(), else
        // when first needed.
        let tasks = first.is_none_or(|reg| reg.signals || reg.task_exits || reg.follow);
        // Counting by root (the command's -c) is what the first session
        // asks for, not part of ALL: it cannot count per process.
        let features = Features {
            count_by_root: wants.count_by_root,
            ..Features::ALL
        };
        *slot = Some(load(size, kind, tasks, features)?);
    }
    let tracer = slot.as_mut().expect("loaded above");
    tracer.sync_tables();
    Ok(tracer)
}

/// What a registration needs of the programs' load.
fn features_of(reg: &Registration) -> Features {
    Features {
        count: !reg.count.is_empty(),
        filters: !reg.filters.is_empty(),
        captures: capture::kinds(metadata_now().0, &reg.capture),
        clock: !reg.clockless,
        count_by_root: reg.count_by_root,
    }
}

/// Reads what strace -v shows of the syscalls `nrs` (the command's -v or
/// -e abbrev=: see `capture::unabbreviated`) instead of counting it, from
/// now on: the loaded programs' capture table is rewritten, where their
/// load can read the new kinds (a session that needs them and finds them
/// missing loads again).
pub fn set_unabbreviated(nrs: &[u32]) {
    // Before the lock: the command's early load holds it, and set it first.
    if capture::unabbreviated_words(nrs) == capture::unabbreviated_now() {
        return;
    }
    let _quiet = quiet::Quiet::enter();
    let guard = lock();
    capture::set_unabbreviated(nrs);
    if let Some(t) = guard.as_ref().filter(|t| t.pid == getpid()) {
        let table = metadata_now().0;
        t.programs
            .update_tables(&nb_args_table(table), &capture::spec_table(table));
    }
}

/// Loads the programs now, so that a later first enable() only flips bits.
/// Does nothing if they are loaded already.
pub fn preload(buffer_size: Option<usize>) -> Result<()> {
    if let Some(size) = buffer_size {
        check_buffer_size(size)?;
    }
    let _quiet = quiet::Quiet::enter();
    tracer(&mut lock(), buffer_size, None)?
        .programs
        .load_kinds()
}

/// Starts loading the programs on a thread of its own and returns at once:
/// the command's start-up (issue 15) overlaps the verifier with its own
/// imports and argument parsing. `sets`: what the first session will enable
/// (enter, exit; None: every syscall), to load its kind of hooks;
/// `captured`: the syscalls whose arguments its sessions capture (None:
/// those of `sets`), to load only their kinds of capture; `tasks`:
/// whether it wants the programs of task events. The load holds the
/// tracer's lock, so the first session waits for it, and so does a fork
/// (see `before_fork`): no child is forked while libbpf has fds open. A
/// load that fails is not kept: the first session loads again, and raises
/// the error.
pub fn start_loading(
    buffer_size: usize,
    sets: Option<[std::collections::BTreeSet<u32>; 2]>,
    captured: Option<std::collections::BTreeSet<u32>>,
    tasks: bool,
    mut features: Features,
) -> Result<()> {
    check_buffer_size(buffer_size)?;
    // Only the kinds of capture its sessions use: the verifier skips the
    // rest (the command's exit hook with -e trace=read: 5,800 verified
    // instructions to 1,800).
    let captured = captured.or_else(|| sets.as_ref().map(|[e, x]| e.union(x).copied().collect()));
    if let Some(captured) = captured {
        features.captures &= capture::kinds(metadata_now().0, &captured);
    }
    let kind = match &sets {
        Some(sets) => hooks::likely(sets),
        // Every syscall: only the raw hooks have them all.
        None => Some(HookMode::Raw),
    };
    // A session (or a fork) that takes the lock before this thread does
    // loads (or forks) first, and the thread then finds the programs there.
    install_fork_handlers();
    std::thread::Builder::new()
        .name("systrace-load".into())
        .spawn(move || {
            let _quiet = quiet::Quiet::enter();
            let mut slot = lock();
            if slot.is_none() {
                *slot = load(buffer_size, kind, tasks, features).ok();
            }
        })
        .map_err(|source| Error::Os {
            context: "starting the thread that loads the BPF programs".into(),
            source,
        })?;
    Ok(())
}

/// What the kernel holds now, read back from the maps, for tests and tools.
#[derive(Debug, Default)]
pub struct KernelState {
    pub loaded: bool,
    pub enabled_enter: Vec<u32>,
    pub enabled_exit: Vec<u32>,
    pub attached_enter: bool,
    pub attached_exit: bool,
    /// The programs of signals and thread exits (and of following forks).
    pub attached_task_events: bool,
    pub prog_ids: Vec<u32>,
    pub sessions: usize,
    pub decode_errors: u64,
    /// Records the consumer drained: what the programs let through.
    pub records: u64,
    /// Times the consumer woke and drained the ring.
    pub consumer_rounds: u64,
    /// The syscalls the programs filter (see `crate::filter`).
    pub filtered: Vec<u32>,
    /// The syscalls the counting consumer counts through a filter.
    pub count_filtered: Vec<u32>,
    /// The consumer thread, which the programs must ignore.
    pub consumer_tid: u32,
    /// The processes the counting maps hold calls of: what the programs
    /// counted, before any session's filter.
    pub counted_pids: Vec<u32>,
    /// "raw" or "syscall": the kind of hooks that deliver.
    pub hook_mode: &'static str,
    /// What the load can do beyond delivering: "count", "filters", "clock"
    /// (the time in each record).
    pub features: Vec<&'static str>,
    /// The capture kinds the load can read (bits of `systrace_capture_kind`;
    /// all of them but for the command).
    pub capture_kinds: u32,
    /// The file of kernel types the programs were relocated against (cut
    /// from the kernel's BTF once per boot), or None: the kernel's BTF.
    pub core_btf: Option<String>,
    /// The programs' tables (args per syscall, what to capture) come from
    /// the running kernel's metadata, not (yet) the embedded table.
    pub kernel_tables: bool,
    /// Switches between the kinds so far, and per-syscall events hooked now.
    pub hook_switches: u64,
    pub event_hooks: usize,
    /// Per-syscall hooks retired and not yet closed, and those closed.
    pub hooks_closing: usize,
    pub hooks_closed: u64,
    /// Waits for running probes so far: one per close that retired hooks,
    /// unless the closing session's processes had all ended.
    pub probe_waits: u64,
    /// Calls of a switch whose hooks could not agree (lost or doubled).
    pub handoff_unsure: u64,
    /// Every program loaded: its name and the instructions the verifier
    /// went through for it.
    pub programs: Vec<(String, u32)>,
    /// What each step of loading and attaching took since the last load.
    pub load_steps: Vec<(String, std::time::Duration)>,
    /// Calls lost (and counted as dropped) because their enter could not
    /// be held for a filter decided at exit.
    pub filter_unheld: u64,
    /// RCU grace periods waited for before reusing a replaced filter's slot.
    pub filter_grace_periods: u64,
    /// Task storage threads under a seccomp filter could not get: an
    /// enter not marked (a failed call may show two enters), or a refused
    /// call's memory not read at its exit (shown as addresses).
    pub entered_unmarked: u64,
    /// Open sessions that want the time: the programs read the clock while
    /// this is not 0.
    pub clock_sessions: u32,
}

/// Before this process exits: leaves the closing of our per-syscall hooks
/// (attached, or retired and not yet closed) to a child, if there are any
/// (see `kernel::reaper::close_hooks_after_exit`).
pub fn close_hooks_after_exit() -> bool {
    let _quiet = quiet::Quiet::enter();
    // At exit another thread (a daemon thread, in Python) may hold the
    // lock for good: wait a little, then exit the slow way.
    let Some(guard) = lock_within(std::time::Duration::from_millis(500)) else {
        return false;
    };
    match guard.as_ref() {
        Some(t) if t.pid == getpid() => {
            let (closing, _) = t.programs.closing_hooks();
            closing + t.programs.event_hooks() > 0 && t.programs.close_hooks_after_exit()
        }
        _ => false,
    }
}

pub fn kernel_state() -> KernelState {
    let _quiet = quiet::Quiet::enter();
    match lock().as_ref() {
        Some(t) if t.pid == getpid() => KernelState {
            loaded: true,
            enabled_enter: t.programs.enabled(Phase::Enter),
            enabled_exit: t.programs.enabled(Phase::Exit),
            attached_enter: t.programs.is_attached(Phase::Enter),
            attached_exit: t.programs.is_attached(Phase::Exit),
            attached_task_events: t.programs.task_events_attached(),
            prog_ids: t.programs.prog_ids(),
            sessions: t.sessions,
            decode_errors: t.consumer.decode_errors(),
            records: t.consumer.records(),
            consumer_rounds: t.consumer.rounds(),
            filtered: t.programs.filtered(FilterUse::Events),
            count_filtered: t.programs.filtered(FilterUse::Counts),
            consumer_tid: t.consumer.tid(),
            counted_pids: {
                let mut pids: Vec<u32> = t
                    .programs
                    .counts(|_, _, _| true)
                    .into_iter()
                    .map(|(k, _)| k.tgid)
                    .collect();
                pids.sort_unstable();
                pids.dedup();
                pids
            },
            hook_mode: t.programs.hook_mode().name(),
            features: {
                let f = t.programs.features();
                [
                    (f.count, "count"),
                    (f.filters, "filters"),
                    (f.clock, "clock"),
                    (f.count_by_root, "count_by_root"),
                ]
                .into_iter()
                .filter_map(|(on, name)| on.then_some(name))
                .collect()
            },
            capture_kinds: t.programs.features().captures,
            core_btf: t.programs.core_btf().map(|p| p.display().to_string()),
            kernel_tables: t.exact_tables,
            hook_switches: t.programs.hook_switches(),
            event_hooks: t.programs.event_hooks(),
            hooks_closing: t.programs.closing_hooks().0,
            hooks_closed: t.programs.closing_hooks().1,
            probe_waits: t.programs.probe_waits(),
            handoff_unsure: t.programs.handoff_unsure(),
            programs: t.programs.loaded_programs(),
            load_steps: programs::steps(),
            filter_unheld: t.programs.filter_unheld(),
            filter_grace_periods: t.programs.filter_grace_periods(),
            entered_unmarked: t.programs.entered_unmarked(),
            clock_sessions: t.programs.clock_sessions(),
        },
        _ => KernelState::default(),
    }
}
