//! The programs' event filters: the filters map and the bitmap that tells
//! the hooks which syscalls have one.
use std::sync::atomic::{AtomicU64, Ordering};

use libbpf_rs::{MapCore, MapFlags};

use super::{bit_of, set_bit, Programs};
use crate::kernel::layout::NR_SYSCALLS;
use crate::kernel::types;

/// Which of the programs' filters: the events' or the counting consumer's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FilterUse {
    Events,
    Counts,
}

impl Programs {
    fn filter_bitmap(&self, what: FilterUse) -> &[AtomicU64] {
        // SAFETY: as in `bitmap`.
        unsafe {
            let words = match what {
                FilterUse::Events => std::ptr::addr_of_mut!((*self.bss()).filtered_syscalls),
                FilterUse::Counts => std::ptr::addr_of_mut!((*self.bss()).count_filtered_syscalls),
            };
            &*(words as *const [AtomicU64; NR_SYSCALLS / 64])
        }
    }

    /// SYSTRACE_FILTER_EXPERIMENT: the programs' switches for measuring
    /// what each part of the filter path costs (bench/filter_cost.py).
    pub(super) fn set_filter_experiment(&self) {
        let bits = std::env::var("SYSTRACE_FILTER_EXPERIMENT")
            .ok()
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0);
        // SAFETY: as in `bitmap`; set before any program is attached.
        unsafe { std::ptr::addr_of_mut!((*self.bss()).filter_experiment).write_volatile(bits) };
    }

    /// Sets syscall `nr`'s filter, or removes it (None). The bit goes on
    /// once the filter is in the map and off before it leaves, so the hooks
    /// never look for a filter that is not there. A filter the map has no
    /// room for is not set: every call passes (user space filters events;
    /// a count filter says false, and the session refuses it).
    pub fn set_filter(
        &self,
        what: FilterUse,
        nr: u32,
        filter: Option<&types::systrace_filter>,
    ) -> bool {
        let key = nr.to_ne_bytes();
        let map = match what {
            FilterUse::Events => &self.filters,
            FilterUse::Counts => &self.count_filters,
        };
        let Some(filter) = filter else {
            set_bit(self.filter_bitmap(what), nr, false);
            let _ = map.delete(&key);
            return true;
        };
        // SAFETY: a plain C struct generated from bpf/systrace.h, viewed as
        // its bytes.
        let bytes = unsafe {
            std::slice::from_raw_parts(
                (filter as *const types::systrace_filter).cast::<u8>(),
                std::mem::size_of::<types::systrace_filter>(),
            )
        };
        match map.update(&key, bytes, MapFlags::ANY) {
            Ok(()) => {
                set_bit(self.filter_bitmap(what), nr, true);
                true
            }
            Err(_) => {
                set_bit(self.filter_bitmap(what), nr, false);
                let _ = map.delete(&key);
                false
            }
        }
    }

    /// Calls whose enter could not be held for a filter decided at exit
    /// (no memory for the thread's mark); each is counted as dropped too.
    pub fn filter_unheld(&self) -> u64 {
        self.bss_u64(|b| unsafe { std::ptr::addr_of_mut!((*b).filter_unheld) })
            .load(Ordering::SeqCst)
    }

    /// The syscalls the programs filter now.
    pub fn filtered(&self, what: FilterUse) -> Vec<u32> {
        let words = self.filter_bitmap(what);
        (0..NR_SYSCALLS as u32)
            .filter(|&nr| {
                let (word, bit) = bit_of(nr);
                words[word].load(Ordering::SeqCst) & bit != 0
            })
            .collect()
    }
}
