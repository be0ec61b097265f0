//! The programs' event filters: the filters map and the bitmap that tells
//! the hooks which syscalls have one.
use std::sync::atomic::{AtomicU64, Ordering};

use libbpf_rs::{MapCore, MapFlags};

use super::{bit_of, set_bit, Programs};
use crate::kernel::layout::NR_SYSCALLS;
use crate::kernel::types;

impl Programs {
    fn filter_bitmap(&self) -> &[AtomicU64] {
        // SAFETY: as in `bitmap`.
        unsafe {
            let words = std::ptr::addr_of_mut!((*self.bss()).filtered_syscalls);
            &*(words as *const [AtomicU64; NR_SYSCALLS / 64])
        }
    }

    /// Sets syscall `nr`'s filter, or removes it (None). The bit goes on
    /// once the filter is in the map and off before it leaves, so the hooks
    /// never look for a filter that is not there. A filter the map has no
    /// room for is not set: every call passes, and user space filters.
    pub fn set_filter(&self, nr: u32, filter: Option<&types::systrace_filter>) {
        let key = nr.to_ne_bytes();
        let Some(filter) = filter else {
            set_bit(self.filter_bitmap(), nr, false);
            let _ = self.filters.delete(&key);
            return;
        };
        // SAFETY: a plain C struct generated from bpf/systrace.h, viewed as
        // its bytes.
        let bytes = unsafe {
            std::slice::from_raw_parts(
                (filter as *const types::systrace_filter).cast::<u8>(),
                std::mem::size_of::<types::systrace_filter>(),
            )
        };
        match self.filters.update(&key, bytes, MapFlags::ANY) {
            Ok(()) => set_bit(self.filter_bitmap(), nr, true),
            Err(_) => {
                set_bit(self.filter_bitmap(), nr, false);
                let _ = self.filters.delete(&key);
            }
        }
    }

    /// The syscalls the programs filter now.
    pub fn filtered(&self) -> Vec<u32> {
        let words = self.filter_bitmap();
        (0..NR_SYSCALLS as u32)
            .filter(|&nr| {
                let (word, bit) = bit_of(nr);
                words[word].load(Ordering::SeqCst) & bit != 0
            })
            .collect()
    }
}
