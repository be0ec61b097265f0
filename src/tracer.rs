//! The process-wide tracer: the loaded programs, the registry and the
//! consumer thread, behind one lock, `SYSCALL_TRACE_LOCK`, as in
//! kernel/trace/trace_syscalls.c. The programs are loaded and attached once
//! per process however many sessions are open.
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use crate::bpf::{Programs, NB_ARGS_UNKNOWN};
use crate::capture;
use crate::consumer::Consumer;
use crate::decode::Event;
use crate::error::{Error, Result};
use crate::layout::NR_SYSCALLS;
use crate::metadata::event_class::Phase;
use crate::metadata::MetadataTable;
use crate::names::{self, metadata_now};
use crate::register::{Kernel, Registration, Registry};
use crate::session::{monotonic_ns, SessionShared};

pub const DEFAULT_BUFFER_SIZE: usize = 8 << 20;
/// A session keeps at most this many ring buffers' worth of events for its
/// user (as decoded events); past that it drops and counts, like the ring.
const BACKLOG_FACTOR: usize = 4;
const MIN_BUFFER_SIZE: usize = 4096;
const MAX_BUFFER_SIZE: usize = 1 << 30;

struct Tracer {
    /// The process that loaded it: a forked child must not use its parent's.
    pid: u32,
    programs: Programs,
    registry: Registry,
    consumer: Consumer,
    sessions: usize,
    /// The programs' tables come from the running kernel's metadata.
    exact_tables: bool,
}

impl Tracer {
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

fn lock() -> MutexGuard<'static, Option<Tracer>> {
    SYSCALL_TRACE_LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

thread_local! {
    /// SYSCALL_TRACE_LOCK, held by the forking thread across fork().
    static FORK_GUARD: std::cell::RefCell<Option<MutexGuard<'static, Option<Tracer>>>> =
        const { std::cell::RefCell::new(None) };
}

extern "C" fn before_fork() {
    // A child gets a copy of every lock but only the forking thread: take
    // the lock (and let a running metadata load finish) so that the child
    // never inherits them held by a thread it does not have.
    names::finish_loading();
    FORK_GUARD.with(|g| *g.borrow_mut() = Some(lock()));
}

extern "C" fn after_fork() {
    FORK_GUARD.with(|g| drop(g.borrow_mut().take()));
}

fn install_fork_handlers() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    // SAFETY: registers plain extern "C" functions that only take and
    // release our own lock; they run in the forking thread.
    ONCE.call_once(|| unsafe {
        libc::pthread_atfork(Some(before_fork), Some(after_fork), Some(after_fork));
    });
}

fn getpid() -> u32 {
    std::process::id()
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
    fn set_capture(&mut self, nr: u32, on: bool) {
        Programs::set_capture(self, nr, on)
    }
    fn set_capture_size(&mut self, size: u32) {
        Programs::set_capture_size(self, size)
    }
    fn set_follow_forks(&mut self, count: u32) -> Result<()> {
        Programs::set_follow_forks(self, count)
    }
    fn set_only_tgid(&mut self, tgid: Option<u32>) {
        Programs::set_only_tgid(self, tgid)
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

fn load(buffer_size: usize) -> Result<Tracer> {
    install_fork_handlers();
    let (table, exact) = metadata_now();
    let programs = Programs::load(
        buffer_size,
        &nb_args_table(table),
        &capture::spec_table(table),
    )?;
    // The consumer thread reads the running kernel's metadata off the hot
    // path (it is never traced, so the user's traces do not show it); the
    // next call under the lock corrects the programs' tables from it.
    if !exact {
        names::start_loading();
    }
    let consumer = Consumer::start(programs.events_map()?, !exact)?;
    programs.set_ignore_tid(consumer.tid());
    Ok(Tracer {
        pid: getpid(),
        programs,
        registry: Registry::default(),
        consumer,
        sessions: 0,
        exact_tables: exact,
    })
}

/// The tracer of this process, loaded (or reloaded) as needed.
fn tracer(slot: &mut Option<Tracer>, buffer_size: Option<usize>) -> Result<&mut Tracer> {
    if let Some(old) = slot.take_if(|t| t.pid != getpid()) {
        // Forked from a tracing process: the consumer thread did not survive
        // the fork (never join it); closing our copies of the fds detaches
        // nothing of the parent's.
        let Tracer {
            programs, consumer, ..
        } = old;
        std::mem::forget(consumer);
        drop(programs);
    }
    // A new buffer size takes effect when no session holds the old buffer;
    // no size asked for means the default.
    let size = buffer_size.unwrap_or(DEFAULT_BUFFER_SIZE);
    if slot
        .as_ref()
        .is_some_and(|t| t.sessions == 0 && t.programs.buffer_size() != size)
    {
        *slot = None;
    }
    if slot.is_none() {
        *slot = Some(load(size)?);
    }
    let tracer = slot.as_mut().expect("loaded above");
    tracer.sync_tables();
    Ok(tracer)
}

/// Loads the programs now, so that a later first enable() only flips bits.
/// Does nothing if they are loaded already.
pub fn preload(buffer_size: Option<usize>) -> Result<()> {
    if let Some(size) = buffer_size {
        check_buffer_size(size)?;
    }
    tracer(&mut lock(), buffer_size).map(|_| ())
}

/// One user's view: its registration and its events.
pub struct Session {
    shared: Arc<SessionShared>,
    registration: Registration,
    pid: u32,
    buffer_size: usize,
    dropped_at_open: u64,
    dropped_at_close: Option<u64>,
}

fn dropped_total(programs: &Programs, reg: &Registration) -> u64 {
    [Phase::Enter, Phase::Exit]
        .into_iter()
        .flat_map(|phase| {
            reg.syscalls(phase)
                .iter()
                .map(move |&nr| programs.dropped(phase, nr))
        })
        .sum()
}

impl Session {
    pub fn open(registration: Registration, buffer_size: Option<usize>) -> Result<Session> {
        if let Some(size) = buffer_size {
            check_buffer_size(size)?;
        }
        let mut guard = lock();
        let tracer = tracer(&mut guard, buffer_size)?;
        let max_backlog =
            BACKLOG_FACTOR * tracer.programs.buffer_size() / std::mem::size_of::<Event>();
        let shared = Arc::new(SessionShared::new(
            &registration,
            monotonic_ns(),
            max_backlog,
        ));
        tracer.consumer.add_session(Arc::clone(&shared));
        let dropped_at_open = dropped_total(&tracer.programs, &registration);
        if let Err(err) = tracer
            .registry
            .register(&mut tracer.programs, &registration)
        {
            tracer.consumer.remove_session(&shared);
            return Err(err);
        }
        tracer.sessions += 1;
        Ok(Session {
            shared,
            registration,
            pid: getpid(),
            buffer_size: tracer.programs.buffer_size(),
            dropped_at_open,
            dropped_at_close: None,
        })
    }

    pub fn shared(&self) -> Arc<SessionShared> {
        Arc::clone(&self.shared)
    }

    pub fn registration(&self) -> &Registration {
        &self.registration
    }

    pub fn buffer_size(&self) -> usize {
        self.buffer_size
    }

    pub fn is_closed(&self) -> bool {
        self.dropped_at_close.is_some() || self.is_inherited()
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
        if self.is_inherited() {
            // Forked from the process that opened it: the consumer thread and
            // the programs are the parent's, and its locks may have been
            // held at the fork, so touch nothing shared.
            self.dropped_at_close = Some(0);
            return Ok(());
        }
        // Nothing the closing itself does is this session's to see.
        self.shared.set_end(monotonic_ns());
        let mut guard = lock();
        let result = match guard.as_mut() {
            Some(tracer) if tracer.pid == self.pid && self.pid == getpid() => {
                tracer
                    .registry
                    .unregister(&mut tracer.programs, &self.registration);
                tracer.sessions -= 1;
                // After detach the kernel has committed every record of ours.
                let flushed = tracer.consumer.flush();
                self.dropped_at_close = Some(
                    dropped_total(&tracer.programs, &self.registration)
                        .saturating_sub(self.dropped_at_open)
                        + self.shared.backlog_dropped(),
                );
                tracer.consumer.remove_session(&self.shared);
                // Forget the processes found by following forks that no one
                // else traces (the BPF side forgets them when they exit).
                for child in self.shared.children() {
                    if !tracer.registry.is_registered(child) && !tracer.consumer.traces(child) {
                        let _ = tracer.programs.set_traced_tgid(child, None);
                    }
                }
                flushed
            }
            // A session inherited through fork(): the programs are the
            // parent's, and only the parent may change them.
            _ => {
                self.dropped_at_close = Some(0);
                Ok(())
            }
        };
        self.shared.finish();
        result
    }

    /// The events that arrived, waiting up to `wait` for a first one.
    pub fn take(&self, wait: Duration) -> Vec<Event> {
        if self.is_inherited() {
            return Vec::new();
        }
        self.shared.take(wait)
    }

    pub fn is_finished(&self) -> bool {
        self.is_inherited() || self.shared.is_finished()
    }

    pub fn pending(&self) -> usize {
        if self.is_inherited() {
            return 0;
        }
        self.shared.pending()
    }

    /// Events of this session's syscalls lost to a full ring buffer.
    pub fn dropped(&self) -> u64 {
        if let Some(n) = self.dropped_at_close {
            return n;
        }
        if self.is_inherited() {
            return 0;
        }
        match lock().as_ref() {
            Some(t) if t.pid == getpid() => {
                dropped_total(&t.programs, &self.registration).saturating_sub(self.dropped_at_open)
                    + self.shared.backlog_dropped()
            }
            _ => 0,
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.close();
    }
}

/// What the kernel holds now, read back from the maps, for tests and tools.
#[derive(Debug, Default)]
pub struct KernelState {
    pub loaded: bool,
    pub enabled_enter: Vec<u32>,
    pub enabled_exit: Vec<u32>,
    pub attached_enter: bool,
    pub attached_exit: bool,
    pub prog_ids: Vec<u32>,
    pub sessions: usize,
    pub decode_errors: u64,
}

pub fn kernel_state() -> KernelState {
    match lock().as_ref() {
        Some(t) if t.pid == getpid() => KernelState {
            loaded: true,
            enabled_enter: t.programs.enabled(Phase::Enter),
            enabled_exit: t.programs.enabled(Phase::Exit),
            attached_enter: t.programs.is_attached(Phase::Enter),
            attached_exit: t.programs.is_attached(Phase::Exit),
            prog_ids: vec![
                t.programs.prog_id(Phase::Enter),
                t.programs.prog_id(Phase::Exit),
            ],
            sessions: t.sessions,
            decode_errors: t.consumer.decode_errors(),
        },
        _ => KernelState::default(),
    }
}
