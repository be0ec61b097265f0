//! One user's view of the tracer: what its registration enabled, and its
//! queue of events. Opening registers (attaching on the first enable, under
//! the tracer's lock); closing unregisters and delivers the last events.
use std::sync::Arc;
use std::time::Duration;

use super::queue::{monotonic_ns, Queue};
use super::registry::Registration;
use super::tracer::{check_buffer_size, getpid, lock, tracer, BACKLOG_FACTOR};
use crate::error::Result;
use crate::kernel::consumer::Sink;
use crate::kernel::programs::Programs;
use crate::kernel::{Event, Phase};

/// One user's view: its registration and its events.
pub struct Session {
    queue: Arc<Queue>,
    registration: Registration,
    pid: u32,
    buffer_size: usize,
    dropped_at_open: u64,
    dropped_at_close: Option<u64>,
}

fn dropped_total(programs: &Programs, reg: &Registration) -> u64 {
    // A launched command's lost exec would lose all its trace: counted too.
    Phase::ALL
        .into_iter()
        .map(|phase| {
            reg.enabled(phase)
                .iter()
                .map(|&nr| programs.dropped(phase, nr))
                .sum::<u64>()
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
        let queue = Arc::new(Queue::new(&registration, monotonic_ns(), max_backlog));
        let sink: Arc<dyn Sink> = queue.clone();
        tracer.consumer.add_session(sink.clone());
        let dropped_at_open = dropped_total(&tracer.programs, &registration);
        if let Err(err) = tracer
            .registry
            .register(&mut tracer.programs, &registration)
        {
            tracer.consumer.remove_session(&sink);
            return Err(err);
        }
        tracer.sessions += 1;
        Ok(Session {
            queue,
            registration,
            pid: getpid(),
            buffer_size: tracer.programs.buffer_size(),
            dropped_at_open,
            dropped_at_close: None,
        })
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
        self.queue.set_end(monotonic_ns());
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
                        + self.queue.backlog_dropped(),
                );
                let sink: Arc<dyn Sink> = self.queue.clone();
                tracer.consumer.remove_session(&sink);
                // Forget the processes found by following forks that no one
                // else traces (the BPF side forgets them when they exit).
                for child in self.queue.children() {
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
        self.queue.finish();
        result
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
                    + self.queue.backlog_dropped()
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
