//! The `systrace` command's printer and where its text goes: returned to
//! the caller (a replay, a recording run), or written to the output file
//! as the events arrive ([`Output::print_events`], called on the consumer
//! thread as a session's `Direct`): per event no store, no Python object.
//! A writer thread does the writes, so that an output slower than the
//! events (a terminal, a pipe read late) holds the text, not the consumer:
//! the ring buffer keeps being drained. With strace's -ff -o PREFIX the
//! writer puts each line in its thread's file, PREFIX.TID.
use std::collections::{HashMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::fd::BorrowedFd;
use std::path::PathBuf;
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
/// Files of threads kept open by -ff's writer; past it they are all closed
/// (and opened again, to append, when their thread prints again), so that
/// a command with thousands of threads does not run the tracer out of fds.
const MAX_OPEN: usize = 256;

#[derive(Debug, Default)]
struct Pipe {
    /// Text waiting for the writer.
    text: Vec<u8>,
    /// With a file per thread: (tid, offset in `text`) of each line.
    owners: Vec<(u32, usize)>,
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

/// Where the writer writes.
#[derive(Debug)]
enum Sink {
    One(File),
    PerThread(ThreadFiles),
}

/// strace -ff -o PREFIX: PREFIX.TID for each thread, created (or, with -A,
/// appended to) when its first line comes.
#[derive(Debug)]
struct ThreadFiles {
    prefix: PathBuf,
    append: bool,
    open: HashMap<u32, File>,
    /// Threads whose file this run created: opened again, it is appended to.
    created: HashSet<u32>,
}

impl ThreadFiles {
    fn file(&mut self, tid: u32) -> io::Result<&mut File> {
        if !self.open.contains_key(&tid) && self.open.len() >= MAX_OPEN {
            self.open.clear();
        }
        if !self.open.contains_key(&tid) {
            let mut name = self.prefix.clone().into_os_string();
            name.push(format!(".{tid}"));
            let again = !self.created.insert(tid);
            let file = OpenOptions::new()
                .create(true)
                .write(true)
                .append(self.append || again)
                .truncate(!(self.append || again))
                .open(&name)
                .map_err(|err| {
                    io::Error::new(
                        err.kind(),
                        format!("{}: {err}", PathBuf::from(name).display()),
                    )
                })?;
            self.open.insert(tid, file);
        }
        Ok(self.open.get_mut(&tid).expect("just opened"))
    }

    /// Each line of `text` to its thread's file; text before the first
    /// owner (none is printed so) goes with the first line, and text with
    /// no owner at all is an error, not lost unsaid.
    fn write(&mut self, text: &[u8], owners: &[(u32, usize)]) -> io::Result<()> {
        if owners.is_empty() && !text.is_empty() {
            return Err(io::Error::other(
                "a line of no thread, for a file per thread (-ff): not written",
            ));
        }
        for (i, &(tid, start)) in owners.iter().enumerate() {
            let start = if i == 0 { 0 } else { start };
            let end = owners.get(i + 1).map_or(text.len(), |&(_, next)| next);
            let Some(line) = text.get(start..end) else {
                return Err(io::Error::other(format!(
                    "a line's place in the output ({start}..{end} of {}) is wrong (a bug): \
                     not written",
                    text.len()
                )));
            };
            self.file(tid)?.write_all(line)?;
        }
        Ok(())
    }
}

impl Sink {
    fn write(&mut self, text: &[u8], owners: &[(u32, usize)]) -> io::Result<()> {
        match self {
            Sink::One(file) => file.write_all(text),
            Sink::PerThread(files) => files.write(text, owners),
        }
    }
}

/// Its writes are systrace's own (it stays marked quiet): a session that
/// traces its own process must not print the writes of its own lines.
fn write_loop(shared: &Shared, mut sink: Sink) {
    let _quiet = crate::trace::quiet::Quiet::enter();
    let mut buf = Vec::new();
    let mut owners = Vec::new();
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
        std::mem::swap(&mut owners, &mut pipe.owners);
        pipe.writing = true;
        let failed = pipe.failed;
        drop(pipe);
        shared.drained.notify_all();
        let result = if failed {
            Ok(())
        } else {
            // A panic here would leave the caller waiting for the text to
            // be written, for ever: it is a failed write instead.
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| sink.write(&buf, &owners)))
                .unwrap_or_else(|_| Err(io::Error::other("the output's writer failed (a bug)")))
        };
        buf.clear();
        owners.clear();
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
        let file = File::from(fd.try_clone_to_owned()?);
        self.start_writer(Sink::One(file))
    }

    /// Writes from now on each line to its thread's file, `prefix`.TID
    /// (strace -ff -o PREFIX; `append`: -A), created as lines come. The
    /// printer's prefix must be PidPrefix::PerThread.
    pub fn set_thread_files(&mut self, prefix: PathBuf, append: bool) -> io::Result<()> {
        self.start_writer(Sink::PerThread(ThreadFiles {
            prefix,
            append,
            open: HashMap::new(),
            created: HashSet::new(),
        }))
    }

    fn start_writer(&mut self, sink: Sink) -> io::Result<()> {
        if self.shared.is_some() {
            return Err(io::Error::other("already writing to a file"));
        }
        let shared = Arc::new(Shared::default());
        let theirs = Arc::clone(&shared);
        std::thread::Builder::new()
            .name("systrace-writer".into())
            .spawn(move || write_loop(&theirs, sink))?;
        self.shared = Some(shared);
        Ok(())
    }

    /// Whether the writer puts lines in their threads' files: the text the
    /// printer makes is the writer's, never the caller's.
    pub fn per_thread(&self) -> bool {
        self.printer.options().prefix == super::printer::PidPrefix::PerThread
            && self.shared.is_some()
    }

    /// Feeds events and hands their lines to the writer.
    pub fn print_events<'a>(&mut self, events: impl IntoIterator<Item = &'a Event>) {
        self.printer.feed(events, &mut self.text);
        self.hand_text();
    }

    /// The consumer took all there was for now: the first part of a call
    /// that goes on, to the writer ([`Printer::idle`]).
    pub fn idle(&mut self) {
        self.printer.idle(&mut self.text);
        self.hand_text();
    }

    /// The calls that never returned, to the writer (per_thread()); as
    /// the processes were detached from ([`Printer::detach`]) or ended.
    pub fn finish_to_writer(&mut self, detached: bool) {
        if detached {
            self.printer.detach(&mut self.text);
        } else {
            self.printer.finish(&mut self.text);
        }
        self.hand_text();
    }

    /// Text the printer put in `text` (its owners with it) to the writer.
    pub fn hand_text_of(&mut self, text: &str) {
        self.text.push_str(text);
        self.hand_text();
    }

    /// Hands the printer's text to the writer.
    fn hand_text(&mut self) {
        let owners = self.printer.take_owners();
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
            pipe.owners
                .extend(owners.into_iter().map(|(tid, at)| (tid, before + at)));
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

    /// close(fd) by thread `tid` of process 100, enter and exit.
    #[cfg(target_arch = "x86_64")]
    fn close_by(tid: i32, fd: u64) -> [Event; 2] {
        [
            decode(&enter_record(3, &[fd], 100, tid)).unwrap(),
            decode(&exit_record(3, 0, 100, tid)).unwrap(),
        ]
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn writes_each_threads_lines_to_its_own_file() {
        let dir = std::env::temp_dir().join(format!("systrace-per-thread-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap();
        for append in [false, true] {
            for file in std::fs::read_dir(&dir).unwrap() {
                std::fs::remove_file(file.unwrap().path()).unwrap();
            }
            std::fs::write(dir.join("t.100"), "before\n").unwrap();
            let opts = PrinterOptions {
                prefix: super::super::printer::PidPrefix::PerThread,
                ..PrinterOptions::default()
            };
            let mut out = Output::new(Printer::new(opts));
            out.set_thread_files(dir.join("t"), append).unwrap();
            assert!(out.per_thread());
            let (a, b) = (close_by(100, 7), close_by(101, 8));
            // Interleaved: each file gets its thread's whole line, no prefix.
            out.print_events([&a[0], &b[0], &a[1], &b[1]]);
            out.flush();
            assert!(out.take_error().is_none());
            let old = if append { "before\n" } else { "" };
            assert_eq!(
                read("t.100"),
                format!("{old}close(7)                                = 0\n")
            );
            assert_eq!(
                read("t.101"),
                "close(8)                                = 0\n"
            );
            // More than MAX_OPEN threads: the files closed on the way are
            // opened again to append, never truncated.
            for tid in 1000..1000 + MAX_OPEN as i32 + 10 {
                out.print_events(close_by(tid, 3).iter());
            }
            out.print_events(close_by(101, 9).iter());
            out.flush();
            assert!(out.take_error().is_none());
            assert_eq!(
                read("t.101"),
                "close(8)                                = 0\nclose(9)                                = 0\n"
            );
            assert_eq!(
                read("t.1000"),
                "close(3)                                = 0\n"
            );
        }
        // A file that cannot be opened is told, naming it.
        let mut out = Output::new(Printer::new(PrinterOptions {
            prefix: super::super::printer::PidPrefix::PerThread,
            ..PrinterOptions::default()
        }));
        out.set_thread_files(dir.join("missing").join("t"), false)
            .unwrap();
        out.print_events(close_by(100, 7).iter());
        out.flush();
        let err = out.take_error().expect("the failed open is told");
        assert!(err.to_string().contains("missing/t.100"), "{err}");
        // A printer that says nothing of whose its lines are: they are
        // told as not written, not dropped unsaid.
        let mut out = Output::new(Printer::new(PrinterOptions::default()));
        out.set_thread_files(dir.join("t"), false).unwrap();
        out.print_events(close_by(100, 7).iter());
        out.flush();
        let err = out
            .take_error()
            .expect("lines without their thread are told");
        assert!(err.to_string().contains("no thread"), "{err}");
        // Owners out of place (a printer's bug) are a failed write, told,
        // not a panic that leaves flush() waiting for ever.
        let mut files = ThreadFiles {
            prefix: dir.join("t"),
            append: false,
            open: HashMap::new(),
            created: HashSet::new(),
        };
        let err = files
            .write(b"one\ntwo\n", &[(100, 0), (101, 12)])
            .expect_err("a place past the text is told");
        assert!(err.to_string().contains("(0..12 of 8)"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
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
        out.print_events([&close, &closed]);
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
        out.print_events([&close, &closed]);
        out.flush();
        let err = out.take_error().expect("a failed write is told");
        assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
        out.print_events([&close, &closed]);
        out.flush();
        assert!(out.take_error().is_none());
    }
}
