//! Our reader of the programs' BPF ring buffer (the kernel's
//! `kernel/bpf/ringbuf.c` layout), in place of libbpf's, for two reasons
//! (issue 15):
//!
//! * Memory: libbpf maps the data area twice, back to back, so that a record
//!   that wraps reads contiguously; the kernel populates every page of a
//!   ring buffer mapping at mmap time, so a 2 MiB ring cost 4 MiB of RSS.
//!   We map it once and copy the rare record that wraps.
//! * Speed: libbpf stores `consumer_pos` after every record, and the
//!   programs read it at every reserve, so each store moves that cache line
//!   between CPUs. We store it once per batch.
//!
//! The layout, from the map's mmap offset 0: a page with `consumer_pos` (the
//! only page the kernel lets us map writable), a page with `producer_pos`,
//! then the data area of `max_entries` bytes (a power of two). A record is an
//! 8-byte header {u32 len, u32 pg_off} and its body, the whole rounded up to
//! 8 bytes; so headers never wrap, bodies may.
use std::io;
use std::os::fd::{AsFd, AsRawFd};
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

use libbpf_rs::{MapCore, MapHandle, MapType};

use crate::error::{Error, Result};

/// The record's header: its length, then the kernel's page offset.
const HEADER: usize = 8;
/// Not committed yet: the producer still writes it.
const BUSY: u32 = 1 << 31;
/// Committed but discarded: skipped, its space released all the same.
const DISCARD: u32 = 1 << 30;

fn os_err(context: &str) -> Error {
    Error::os(context, io::Error::last_os_error())
}

fn corrupt(why: String) -> Error {
    Error::os("reading the ring buffer", io::Error::other(why))
}

/// One mapping of ours, unmapped on Drop.
struct Mapping {
    addr: *mut libc::c_void,
    len: usize,
}

impl Mapping {
    fn new(
        map: &MapHandle,
        len: usize,
        prot: libc::c_int,
        offset: usize,
        what: &str,
    ) -> Result<Mapping> {
        // SAFETY: maps `len` bytes of the ring buffer map's fd at a page
        // aligned offset; the kernel checks both against the map's size.
        let addr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                prot,
                libc::MAP_SHARED,
                map.as_fd().as_raw_fd(),
                offset as libc::off_t,
            )
        };
        if addr == libc::MAP_FAILED {
            return Err(os_err(what));
        }
        let mapping = Mapping { addr, len };
        // A forked child must not keep the map alive through our mapping.
        // SAFETY: advice on our own mapping.
        if unsafe { libc::madvise(addr, len, libc::MADV_DONTFORK) } < 0 {
            return Err(os_err(what));
        }
        Ok(mapping)
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: unmaps our own mapping, which nothing uses after this.
        unsafe { libc::munmap(self.addr, self.len) };
    }
}

pub struct Ring {
    /// The consumer page, read-write.
    consumer: Mapping,
    /// The producer page and the data area once, read-only.
    producer: Mapping,
    /// Where the data area starts in `producer`.
    page: usize,
    /// The data area's size, `max_entries`.
    size: usize,
    /// A record whose body wraps the data area's end, made contiguous.
    scratch: Vec<u8>,
}

impl Ring {
    /// Maps the ring buffer `map` for reading, from its current position.
    pub fn map(map: &MapHandle) -> Result<Ring> {
        if map.map_type() != MapType::RingBuf {
            return Err(corrupt(format!(
                "map {:?} is not a ring buffer",
                map.name()
            )));
        }
        // SAFETY: sysconf has no preconditions.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        let page = usize::try_from(page).unwrap_or(0).max(4096);
        let size = map.max_entries() as usize;
        if !size.is_power_of_two() || !size.is_multiple_of(page) {
            return Err(corrupt(format!("a ring buffer of {size} bytes")));
        }
        let consumer = Mapping::new(
            map,
            page,
            libc::PROT_READ | libc::PROT_WRITE,
            0,
            "mapping the ring buffer's consumer page",
        )?;
        // The data area once: the kernel maps a shorter range than its
        // double one, and this is all of what the ring costs in RSS.
        let producer = Mapping::new(
            map,
            page + size,
            libc::PROT_READ,
            page,
            "mapping the ring buffer's data",
        )?;
        Ok(Ring {
            consumer,
            producer,
            page,
            size,
            scratch: Vec::new(),
        })
    }

    fn consumer_pos(&self) -> &AtomicUsize {
        // SAFETY: the kernel's `unsigned long consumer_pos` at the start of
        // our live, page aligned mapping; the programs only read it.
        unsafe { &*(self.consumer.addr as *const AtomicUsize) }
    }

    fn producer_pos(&self) -> &AtomicUsize {
        // SAFETY: the kernel's `unsigned long producer_pos` at the start of
        // our live, page aligned mapping, stored by the programs.
        unsafe { &*(self.producer.addr as *const AtomicUsize) }
    }

    fn data(&self) -> *const u8 {
        // SAFETY: the data area starts one page into the mapping.
        unsafe { (self.producer.addr as *const u8).add(self.page) }
    }

    /// Hands the committed records to `sample`, in order, until `max` were
    /// handed or none is left (discarded ones skipped, not counted);
    /// returns how many were handed. `consumer_pos` is stored once, at the
    /// end: `sample` must copy what it keeps, as the programs may then
    /// write over it.
    pub fn consume(&mut self, max: usize, mut sample: impl FnMut(&[u8])) -> Result<usize> {
        let mask = self.size - 1;
        let start = self.consumer_pos().load(Ordering::Relaxed);
        let mut pos = start;
        let mut count = 0;
        let mut result = Ok(());
        'drain: while count < max {
            let producer = self.producer_pos().load(Ordering::Acquire);
            if pos >= producer {
                break;
            }
            while pos < producer && count < max {
                let at = pos & mask;
                // SAFETY: headers are 8-byte aligned and never wrap, so the
                // u32 is inside the data area; the producer commits it with
                // a release store (xchg).
                let header =
                    unsafe { (*(self.data().add(at) as *const AtomicU32)).load(Ordering::Acquire) };
                if header & BUSY != 0 {
                    break 'drain;
                }
                let len = (header & !(BUSY | DISCARD)) as usize;
                if len > self.size - HEADER {
                    result = Err(corrupt(format!(
                        "a record of {len} bytes at position {pos} in a ring of {}",
                        self.size
                    )));
                    break 'drain;
                }
                if header & DISCARD == 0 {
                    let body = (at + HEADER) & mask;
                    let first = len.min(self.size - body);
                    // SAFETY: both parts lie inside the data area, committed
                    // (the acquire above) and not written again until we
                    // store a consumer_pos past them.
                    let record = unsafe {
                        let head = std::slice::from_raw_parts(self.data().add(body), first);
                        if first == len {
                            head
                        } else {
                            // Its body crosses the end: copy it out in two parts.
                            self.scratch.clear();
                            self.scratch.extend_from_slice(head);
                            self.scratch.extend_from_slice(std::slice::from_raw_parts(
                                self.data(),
                                len - first,
                            ));
                            &self.scratch[..]
                        }
                    };
                    sample(record);
                    count += 1;
                }
                pos += (len + HEADER + 7) & !7;
            }
        }
        if pos != start {
            // Once per batch: each store moves the cache line that every
            // reserve of the programs reads.
            self.consumer_pos().store(pos, Ordering::Release);
        }
        result.map(|()| count)
    }
}
