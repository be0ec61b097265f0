//! Keeping systrace out of its own traces. The programs drop the syscalls
//! of systrace's consumer thread (its tid is in their `.bss`), and of any
//! thread of systrace's process while it is inside systrace: such a thread
//! writes its tid into one of these slots, which the programs read from our
//! memory (`quiet_addr`), so marking and unmarking costs no syscall.
use std::cell::Cell;
use std::sync::atomic::{AtomicU32, Ordering};

use crate::kernel::layout::QUIET_SLOTS;

/// The slots; their address is given to the programs at load.
pub static SLOTS: [AtomicU32; QUIET_SLOTS] = [const { AtomicU32::new(0) }; QUIET_SLOTS];

/// The address of the slots, for the programs' `quiet_addr`.
pub fn slots_addr() -> u64 {
    SLOTS.as_ptr() as u64
}

thread_local! {
    /// This thread's kernel tid (0: not asked yet), and how deep it is in
    /// nested quiet sections.
    static TID: Cell<u32> = const { Cell::new(0) };
    static DEPTH: Cell<u32> = const { Cell::new(0) };
}

/// This thread's kernel thread id. The first call on a thread is a
/// gettid() syscall, the one syscall of systrace a trace of that thread
/// can show (once per thread); later calls are free.
pub fn tid() -> u32 {
    TID.with(|t| {
        if t.get() == 0 {
            // SAFETY: gettid has no preconditions.
            t.set(unsafe { libc::gettid() } as u32);
        }
        t.get()
    })
}

/// While alive, the current thread's syscalls are systrace's own. If every
/// slot is taken (more than QUIET_SLOTS threads inside systrace at once),
/// the thread goes unmarked: its syscalls may then show, nothing is lost.
pub struct Quiet {
    slot: Option<usize>,
}

impl Quiet {
    pub fn enter() -> Quiet {
        let depth = DEPTH.with(|d| {
            d.set(d.get() + 1);
            d.get()
        });
        if depth > 1 {
            return Quiet { slot: None };
        }
        let tid = tid();
        let slot = SLOTS.iter().position(|s| {
            s.compare_exchange(0, tid, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
        });
        Quiet { slot }
    }
}

impl Drop for Quiet {
    fn drop(&mut self) {
        if let Some(slot) = self.slot {
            SLOTS[slot].store(0, Ordering::SeqCst);
        }
        DEPTH.with(|d| d.set(d.get() - 1));
    }
}

/// In a forked child: the slots name the parent's threads, and the
/// forking thread has a new tid.
pub fn reset_in_child() {
    for slot in &SLOTS {
        slot.store(0, Ordering::SeqCst);
    }
    TID.with(|t| t.set(0));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_sections_take_one_slot() {
        let me = tid();
        {
            let _outer = Quiet::enter();
            assert!(SLOTS.iter().any(|s| s.load(Ordering::SeqCst) == me));
            {
                let _inner = Quiet::enter();
                assert_eq!(
                    SLOTS
                        .iter()
                        .filter(|s| s.load(Ordering::SeqCst) == me)
                        .count(),
                    1
                );
            }
            assert!(SLOTS.iter().any(|s| s.load(Ordering::SeqCst) == me));
        }
        assert!(!SLOTS.iter().any(|s| s.load(Ordering::SeqCst) == me));
    }
}
