//! The `systrace` command's printer and where its text goes: returned to
//! the caller (a replay, a recording run), or written straight to the
//! output file as the events arrive, on the consumer thread
//! ([`Output::print_events`], a session's `Direct`): per event no store, no
//! other thread woken, no Python object.
use std::fs::File;
use std::io::{self, Write};
use std::os::fd::BorrowedFd;

use super::printer::Printer;
use crate::kernel::Event;

/// Text kept between writes past this is given back to the allocator.
const KEEP_CAPACITY: usize = 1 << 20;

#[derive(Debug)]
pub struct Output {
    pub printer: Printer,
    /// Where events fed by [`print_events`](Self::print_events) are written.
    file: Option<File>,
    text: String,
    /// The first write that failed (a closed pipe), until told to the
    /// caller; nothing more is written after it.
    error: Option<io::Error>,
    failed: bool,
}

impl Output {
    pub fn new(printer: Printer) -> Self {
        Output {
            printer,
            file: None,
            text: String::new(),
            error: None,
            failed: false,
        }
    }

    /// Writes from now on to (a duplicate of) `fd`, which shares its
    /// offset with the caller's own writes to it.
    pub fn set_file(&mut self, fd: BorrowedFd<'_>) -> io::Result<()> {
        self.file = Some(File::from(fd.try_clone_to_owned()?));
        Ok(())
    }

    pub fn has_file(&self) -> bool {
        self.file.is_some()
    }

    /// Feeds events and writes their lines at once: one write per batch.
    pub fn print_events(&mut self, events: &[&Event]) {
        self.printer.feed(events.iter().copied(), &mut self.text);
        if self.text.is_empty() {
            return;
        }
        if let (Some(file), false) = (self.file.as_mut(), self.failed) {
            if let Err(err) = file.write_all(self.text.as_bytes()) {
                self.error = Some(err);
                self.failed = true;
            }
        }
        self.text.clear();
        if self.text.capacity() > KEEP_CAPACITY {
            self.text.shrink_to(KEEP_CAPACITY / 16);
        }
    }

    /// The write that failed, once.
    pub fn take_error(&mut self) -> Option<io::Error> {
        self.error.take()
    }
}
