//! The `systrace` command's printer and where its text goes: returned to
//! the caller (a replay, a recording run), or written to the output file
//! as the events arrive ([`Output::print_events`], called on the consumer
//! thread as a session's `Direct`): per event no store, no Python object.
//! A writer thread does the writes, so that an output slower than the
//! events (a terminal, a pipe read late) holds the text, not the consumer:
//! the ring buffer keeps being drained.
use std::fs::File;
use std::io::{self, Write};
use std::os::fd::BorrowedFd;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::printer::Printer;
use crate::kernel::Event;

/// Text waiting for the writer past which the consumer waits for it (and
/// the ring buffer then holds the events, then loses and counts them).
/// Some 170k lines: an output read late (a pipe nobody reads for a while,
/// tests/test_cli_output.py) loses nothing. It costs RSS only while an
/// output is slower than the events; 256 KiB lost most of that test's
/// events (issue 15).
const MAX_WAITING: usize = 8 << 20;
/// The writer writes once this much text waits, or LINGER after the first
/// of it came (how late a line may show).
const WRITE_AT: usize = 64 << 10;
const LINGER: Duration = Duration::from_millis(10);

#[derive(Debug, Default)]
struct Pipe {
    /// Text waiting for the writer.
    text: Vec<u8>,
    /// The writer is writing what it took.
    writing: bool,
    /// No more text will come: the writer ends.
    closed: bool,
    /// The first write that failed (a closed pipe), until told to the
    /// caller; nothing more is written after it.
    error: Option<io::Error>,
    failed: bool,
}

#[derive(Debug, Default)]
struct Shared {
    pipe: Mutex<Pipe>,
    /// Text came, or the pipe closed (the writer waits on it).
    filled: Condvar,
    /// The writer took or wrote text (the consumer and flush wait on it).
    drained: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Pipe> {
        self.pipe.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn wait<'a>(&self, cv: &Condvar, guard: MutexGuard<'a, Pipe>) -> MutexGuard<'a, Pipe> {
        cv.wait(guard).unwrap_or_else(|e| e.into_inner())
    }
}

/// Its writes are systrace's own (it stays marked quiet): a session that
/// traces its own process must not print the writes of its own lines.
fn write_loop(shared: &Shared, mut file: File) {
    let _quiet = crate::trace::quiet::Quiet::enter();
    let mut buf = Vec::new();
    let mut pipe = shared.lock();
    loop {
        while pipe.text.is_empty() && !pipe.closed {
            pipe = shared.wait(&shared.filled, pipe);
        }
        if pipe.text.is_empty() {
            return;
        }
        // Let the next batches join this one: a write (and a wake-up of
        // this thread) per WRITE_AT bytes or LINGER, not per batch.
        let until = Instant::now() + LINGER;
        while pipe.text.len() < WRITE_AT && !pipe.closed {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            pipe = (shared.filled.wait_timeout(pipe, left))
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        std::mem::swap(&mut buf, &mut pipe.text);
        pipe.writing = true;
        let failed = pipe.failed;
        drop(pipe);
        shared.drained.notify_all();
        let result = if failed { Ok(()) } else { file.write_all(&buf) };
        buf.clear();
        pipe = shared.lock();
        pipe.writing = false;
        if let Err(err) = result {
            pipe.error = Some(err);
            pipe.failed = true;
        }
        shared.drained.notify_all();
    }
}

#[derive(Debug)]
pub struct Output {
    pub printer: Printer,
    /// The writer's side, once writing to a file.
    shared: Option<Arc<Shared>>,
    /// One batch's text (reused).
    text: String,
}

impl Output {
    pub fn new(printer: Printer) -> Self {
        Output {
            printer,
            shared: None,
            text: String::new(),
        }
    }

    /// Writes from now on to (a duplicate of) `fd`, which shares its
    /// offset with the caller's own writes to it (made after a flush()).
    pub fn set_file(&mut self, fd: BorrowedFd<'_>) -> io::Result<()> {
        if self.shared.is_some() {
            return Err(io::Error::other("already writing to a file"));
        }
        let file = File::from(fd.try_clone_to_owned()?);
        let shared = Arc::new(Shared::default());
        let theirs = Arc::clone(&shared);
        std::thread::Builder::new()
            .name("systrace-writer".into())
            .spawn(move || write_loop(&theirs, file))?;
        self.shared = Some(shared);
        Ok(())
    }

    /// Feeds events and hands their lines to the writer.
    pub fn print_events(&mut self, events: &[&Event]) {
        self.printer.feed(events.iter().copied(), &mut self.text);
        let Some(shared) = self.shared.as_ref().filter(|_| !self.text.is_empty()) else {
            self.text.clear();
            return;
        };
        let mut pipe = shared.lock();
        while pipe.text.len() >= MAX_WAITING && !pipe.failed {
            pipe = shared.wait(&shared.drained, pipe);
        }
        let before = pipe.text.len();
        if !pipe.failed {
            pipe.text.extend_from_slice(self.text.as_bytes());
        }
        let after = pipe.text.len();
        drop(pipe);
        // The writer waits for the first text, then lingers for more unless
        // there is enough: told only of those two (a notify is a syscall).
        if before == 0 || (before < WRITE_AT && after >= WRITE_AT) {
            shared.filled.notify_one();
        }
        self.text.clear();
    }

    /// Returns once the text handed to the writer is written.
    pub fn flush(&self) {
        if let Some(shared) = self.shared.as_ref() {
            let mut pipe = shared.lock();
            while (!pipe.text.is_empty() || pipe.writing) && !pipe.failed {
                pipe = shared.wait(&shared.drained, pipe);
            }
        }
    }

    /// The write that failed, once.
    pub fn take_error(&mut self) -> Option<io::Error> {
        self.shared.as_ref().and_then(|s| s.lock().error.take())
    }
}

impl Drop for Output {
    fn drop(&mut self) {
        // The writer writes what is left and ends; not joined, as a write
        // to an output nobody reads would hold the caller for ever.
        if let Some(shared) = self.shared.as_ref() {
            shared.lock().closed = true;
            shared.filled.notify_one();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::decode::decode;
    use crate::kernel::decode::tests::{enter_record, exit_record};
    use crate::strace::printer::PrinterOptions;
    use std::io::Read;
    use std::os::fd::{AsFd, FromRawFd, OwnedFd};

    fn pipe() -> (File, File) {
        let mut fds = [0; 2];
        // SAFETY: pipe writes two new fds into the array we pass.
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        // SAFETY: both fds are fresh and owned by nothing else.
        unsafe {
            (
                File::from(OwnedFd::from_raw_fd(fds[0])),
                File::from(OwnedFd::from_raw_fd(fds[1])),
            )
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn writes_the_lines_to_the_file_and_tells_a_failed_write() {
        let close = decode(&enter_record(3, &[7], 100, 100)).unwrap();
        let closed = decode(&exit_record(3, -9, 100, 100)).unwrap();
        let (mut read_end, write_end) = pipe();
        let mut out = Output::new(Printer::new(PrinterOptions::default()));
        out.set_file(write_end.as_fd()).unwrap();
        drop(write_end); // the writer has its own
        out.print_events(&[&close, &closed]);
        out.flush();
        assert!(out.take_error().is_none());
        let mut buf = [0u8; 256];
        let n = read_end.read(&mut buf).unwrap();
        assert_eq!(
            std::str::from_utf8(&buf[..n]).unwrap(),
            "close(7)                                = -1 EBADF (Bad file descriptor)\n"
        );
        // Nobody reads any more: the write fails, is told once, and the
        // printer goes on without writing.
        drop(read_end);
        out.print_events(&[&close, &closed]);
        out.flush();
        let err = out.take_error().expect("a failed write is told");
        assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
        out.print_events(&[&close, &closed]);
        out.flush();
        assert!(out.take_error().is_none());
    }
}
