//! One user's view of the tracer: what its registration enabled, and its
//! queue of events. Opening registers (attaching on the first enable, under
//! the tracer's lock); closing unregisters and delivers the last events.
//!
//! Loss accounting: every event the session would have received is either
//! delivered to its queue or counted in `dropped()`: lost to a full ring
//! buffer (the programs count by process, registered ancestor, syscall and
//! phase, and the session sums what its filter takes), or to the session's
//! own backlog bound.
use std::sync::Arc;
use std::time::Duration;

use super::queue::{monotonic_ns, CaptureLosses, Queue};
use super::quiet::Quiet;
use super::registry::Registration;
use super::tracer::{check_buffer_size, getpid, lock, tracer, Tracer, BACKLOG_FACTOR};
use crate::error::Result;
use crate::kernel::consumer::Sink;
use crate::kernel::Event;

/// Counts of the kernel side that a session compares at open and close.
#[derive(Clone, Copy, Debug, Default)]
struct KernelCounts {
    /// Lost records this session would have received.
    dropped: u64,
    /// Lost records the programs could not attribute (their map was full).
    unattributed: u64,
    /// Children of followed processes that could not be followed.
    untraced_forks: u64,
}

/// What the session lost, and what it could not tell about.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Losses {
    /// Events this session would have received, not delivered.
    pub dropped: u64,
    /// Of `dropped`: events lost while the kernel's drop counters were full,
    /// which cannot be attributed to a session; every session open then
    /// counts them (an upper bound).
    pub unattributed: u64,
    /// Children of the followed processes that could not be followed (the
    /// process filter map was full): their events were not recorded.
    pub untraced_children: u64,
}

/// One user's view: its registration and its events.
pub struct Session {
    queue: Arc<Queue>,
    registration: Registration,
    pid: u32,
    buffer_size: usize,
    at_open: KernelCounts,
    at_close: Option<Losses>,
}

impl Session {
    fn kernel_counts(&self, tracer: &Tracer) -> KernelCounts {
        let queue = &self.queue;
        KernelCounts {
            dropped: tracer.programs.dropped(|tgid, root, phase, nr| {
                queue.takes_syscall(phase, nr) && queue.takes_process(tgid, root)
            }),
            unattributed: tracer.programs.drops_unattributed(),
            untraced_forks: if self.registration.follow {
                tracer.programs.untraced_forks()
            } else {
                0
            },
        }
    }

    fn losses_now(&self, tracer: &Tracer) -> Losses {
        let now = self.kernel_counts(tracer);
        let unattributed = now.unattributed - self.at_open.unattributed;
        Losses {
            dropped: now.dropped - self.at_open.dropped
                + unattributed
                + self.queue.backlog_dropped(),
            unattributed,
            untraced_children: now.untraced_forks - self.at_open.untraced_forks,
        }
    }

    pub fn open(registration: Registration, buffer_size: Option<usize>) -> Result<Session> {
        if let Some(size) = buffer_size {
            check_buffer_size(size)?;
        }
        let _quiet = Quiet::enter();
        let mut guard = lock();
        let tracer = tracer(&mut guard, buffer_size)?;
        let max_backlog = BACKLOG_FACTOR * tracer.programs.buffer_size();
        let queue = Arc::new(Queue::new(&registration, monotonic_ns(), max_backlog));
        let mut session = Session {
            queue: Arc::clone(&queue),
            registration,
            pid: getpid(),
            buffer_size: tracer.programs.buffer_size(),
            at_open: KernelCounts::default(),
            at_close: None,
        };
        session.at_open = session.kernel_counts(tracer);
        let sink: Arc<dyn Sink> = queue;
        tracer.consumer.add_session(sink.clone());
        if let Err(err) = tracer
            .registry
            .register(&mut tracer.programs, &session.registration)
        {
            tracer.consumer.remove_session(&sink);
            // Not registered: nothing to close.
            session.at_close = Some(Losses::default());
            return Err(err);
        }
        tracer.sessions += 1;
        Ok(session)
    }

    pub fn queue(&self) -> Arc<Queue> {
        Arc::clone(&self.queue)
    }

    pub fn registration(&self) -> &Registration {
        &self.registration
    }

    pub fn buffer_size(&self) -> usize {
        self.buffer_size
    }

    pub fn is_closed(&self) -> bool {
        self.at_close.is_some() || self.is_inherited()
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
        // Nothing the closing itself does is this session's to see.
        self.queue.set_end(monotonic_ns());
        let _quiet = Quiet::enter();
        let mut guard = lock();
        let result = match guard.as_mut() {
            Some(tracer) if tracer.pid == self.pid => {
                tracer
                    .registry
                    .unregister(&mut tracer.programs, &self.registration);
                tracer.sessions -= 1;
                // After detach the kernel has committed every record of ours.
                let flushed = tracer.consumer.flush();
                self.at_close = Some(self.losses_now(tracer));
                let sink: Arc<dyn Sink> = self.queue.clone();
                tracer.consumer.remove_session(&sink);
                self.forget_children(tracer);
                if tracer.sessions == 0 {
                    // No session left to count for: start the counts afresh.
                    tracer.programs.clear_dropped();
                }
                flushed
            }
            // Forked from the process that opened it: the programs are the
            // parent's (and were closed in the child at the fork).
            _ => {
                self.at_close = Some(Losses::default());
                Ok(())
            }
        };
        self.queue.finish();
        result
    }

    /// Forgets the processes found by following this session's processes
    /// that no open session follows any more (the programs forget each
    /// one when it exits; these outlived the session).
    fn forget_children(&self, tracer: &mut Tracer) {
        if !self.registration.follow {
            return;
        }
        let registry = &tracer.registry;
        let mine = |root: u32| self.queue.takes_process(root, root) && !registry.is_followed(root);
        for child in tracer.programs.discovered(mine) {
            let _ = tracer.programs.set_traced_tgid(child, None);
        }
    }

    /// The events that arrived, waiting up to `wait` for a first one.
    pub fn take(&self, wait: Duration) -> Vec<Event> {
        if self.is_inherited() {
            return Vec::new();
        }
        self.queue.take(wait)
    }

    pub fn is_finished(&self) -> bool {
        self.is_inherited() || self.queue.is_finished()
    }

    pub fn pending(&self) -> usize {
        if self.is_inherited() {
            return 0;
        }
        self.queue.pending()
    }

    /// What this session lost so far (final once closed).
    pub fn losses(&self) -> Losses {
        if let Some(losses) = self.at_close {
            return losses;
        }
        if self.is_inherited() {
            return Losses::default();
        }
        let _quiet = Quiet::enter();
        match lock().as_ref() {
            Some(t) if t.pid == getpid() => self.losses_now(t),
            _ => Losses::default(),
        }
    }

    /// Events this session would have received that were lost.
    pub fn dropped(&self) -> u64 {
        self.losses().dropped
    }

    /// Captures in the delivered events that did not happen whole.
    pub fn capture_losses(&self) -> CaptureLosses {
        self.queue.capture_losses()
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.close();
    }
}
