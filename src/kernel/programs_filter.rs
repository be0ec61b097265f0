//! The programs' event filters: the slots that hold them, and the tables
//! (in .bss) that give each syscall number its slot.
use std::collections::HashMap;
use std::os::fd::{AsFd, AsRawFd};
use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use libbpf_rs::{libbpf_sys, MapCore, MapFlags, MapHandle, MapType};

use super::Programs;
use crate::kernel::layout::NR_SYSCALLS;
use crate::kernel::types;
use crate::kernel::Phase;
use crate::trace::queue::monotonic_ns;

const AT_EXIT: u32 = types::systrace_filter_mode::SYSTRACE_FILTER_AT_EXIT.0;

/// Which of the programs' filters: the events' or the counting consumer's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FilterUse {
    Events,
    Counts,
}

/// Environment variable: how many of the filter slots to use.
pub const SLOTS_ENV: &str = "SYSTRACE_FILTER_SLOTS";
const SLOTS: u16 = types::systrace_filter_limits::SYSTRACE_FILTER_SLOTS.0 as u16;

/// Which slots of `filter_slots` user space may write. A slot a program
/// may still be reading (its number was in a table when the program
/// started) is never written: a replaced or removed filter's slot waits
/// in `retired` until an RCU grace period has passed.
pub(super) struct FilterSlots {
    free: Vec<u16>,
    retired: Vec<u16>,
    /// The slots in use, by what they hold, and how many syscalls use
    /// each: syscalls with the same filter (the command's -z, or -c's
    /// filter, over 1,024 numbers) share one slot, which is written once.
    used: HashMap<Vec<u8>, (u16, usize)>,
    /// What each slot in use holds (its key in `used`).
    holds: HashMap<u16, Vec<u8>>,
    /// A map of maps, whose update returns only after a grace period (the
    /// kernel's maybe_wait_bpf_programs()), and the map it holds.
    grace: Option<(MapHandle, MapHandle)>,
    /// Grace periods waited for (kernel_state()["filter_grace_periods"]).
    pub(super) waits: u64,
}

impl FilterSlots {
    pub(super) fn new() -> Mutex<Self> {
        // SYSTRACE_FILTER_SLOTS: fewer slots (at least 2), so that tests
        // reach the grace periods and a full pool.
        let slots = std::env::var(SLOTS_ENV)
            .ok()
            .and_then(|v| v.parse::<u16>().ok())
            .map_or(SLOTS, |n| n.clamp(2, SLOTS));
        Mutex::new(FilterSlots {
            free: (1..slots).rev().collect(), // 0 means "no filter"
            retired: Vec::new(),
            used: HashMap::new(),
            holds: HashMap::new(),
            grace: None,
            waits: 0,
        })
    }

    /// Waits until no program still runs that started before now (so
    /// none reads a retired slot), then frees the retired slots.
    fn wait_grace_period(&mut self) -> bool {
        if self.grace.is_none() {
            let opts = libbpf_sys::bpf_map_create_opts {
                sz: std::mem::size_of::<libbpf_sys::bpf_map_create_opts>() as _,
                ..Default::default()
            };
            let Ok(inner) =
                MapHandle::create(MapType::Array, Some("systrace_grace"), 4, 4, 1, &opts)
            else {
                return false;
            };
            let opts = libbpf_sys::bpf_map_create_opts {
                inner_map_fd: inner.as_fd().as_raw_fd() as u32,
                ..opts
            };
            let Ok(outer) =
                MapHandle::create(MapType::ArrayOfMaps, Some("systrace_grace"), 4, 4, 1, &opts)
            else {
                return false;
            };
            self.grace = Some((outer, inner));
        }
        let Some((outer, inner)) = &self.grace else {
            return false;
        };
        let fd = (inner.as_fd().as_raw_fd() as u32).to_ne_bytes();
        if outer
            .update(&0u32.to_ne_bytes(), &fd, MapFlags::ANY)
            .is_err()
        {
            return false;
        }
        self.waits += 1;
        self.free.append(&mut self.retired);
        true
    }

    /// A slot to write a new filter into, if there is room.
    fn take(&mut self) -> Option<u16> {
        if self.free.is_empty() && !self.retired.is_empty() {
            self.wait_grace_period();
        }
        self.free.pop()
    }

    /// A slot that holds `bytes`: one in use that holds them already, or
    /// a new one `write` fills (false: it could not, and the slot is free
    /// again). A slot in use is never written.
    fn acquire(&mut self, bytes: &[u8], write: impl FnOnce(u16) -> bool) -> Option<u16> {
        if let Some((slot, users)) = self.used.get_mut(bytes) {
            *users += 1;
            return Some(*slot);
        }
        let slot = self.take()?;
        if !write(slot) {
            self.free.push(slot);
            return None;
        }
        self.used.insert(bytes.to_vec(), (slot, 1));
        self.holds.insert(slot, bytes.to_vec());
        Some(slot)
    }

    /// One syscall less uses `slot`; the last one retires it.
    fn release(&mut self, slot: u16) {
        let Some(bytes) = self.holds.get(&slot) else {
            return;
        };
        let Some((_, users)) = self.used.get_mut(bytes) else {
            return;
        };
        *users -= 1;
        if *users == 0 {
            self.used.remove(bytes);
            self.holds.remove(&slot);
            self.retired.push(slot);
        }
    }
}

impl Programs {
    fn slot_table(&self, what: FilterUse) -> &[AtomicU16] {
        // SAFETY: as in `bitmap`.
        unsafe {
            let table = match what {
                FilterUse::Events => std::ptr::addr_of_mut!((*self.bss()).filter_slot),
                FilterUse::Counts => std::ptr::addr_of_mut!((*self.bss()).count_filter_slot),
            };
            &*(table as *const [AtomicU16; NR_SYSCALLS])
        }
    }

    fn held_since(&self) -> &[AtomicU64] {
        // SAFETY: as in `bitmap`.
        unsafe {
            let table = std::ptr::addr_of_mut!((*self.bss()).held_since);
            &*(table as *const [AtomicU64; NR_SYSCALLS])
        }
    }

    pub(super) fn filter_slots(&self) -> MutexGuard<'_, FilterSlots> {
        self.slots.lock().unwrap_or_else(|e| e.into_inner())
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

    /// Before syscall `nr`'s events' filter is published (`at_exit`: it
    /// holds enters until their exit). While nobody traces the syscall's
    /// exit, a call's exit can go by without taking its thread's mark: the
    /// marks held until now are no later exit's (the programs'
    /// held_since). A syscall's exit goes from untraced to traced only
    /// after its filter is set, so no mark an exit should take is older.
    fn stamp_marks(&self, nr: u32, at_exit: bool) {
        let exits = self.bitmap(Phase::Exit);
        let traced = exits[nr as usize / 64].load(Ordering::SeqCst) & (1 << (nr % 64)) != 0;
        if !traced {
            self.held_since()[nr as usize].store(monotonic_ns(), Ordering::SeqCst);
        }
        if at_exit {
            // SAFETY: as in `bitmap`.
            let held = unsafe {
                &*(std::ptr::addr_of_mut!((*self.bss()).held_syscalls)
                    as *const [AtomicU64; NR_SYSCALLS / 64])
            };
            held[nr as usize / 64].fetch_or(1 << (nr % 64), Ordering::SeqCst);
        }
    }

    /// Whether some session filters syscall `nr` (the programs'
    /// session_filtered): where the programs filter none of its calls, a
    /// call whose enter the ring lost has its exit counted lost, not sent.
    pub fn set_session_filtered(&self, nr: u32, on: bool) {
        // SAFETY: as in `bitmap`.
        let bits = unsafe {
            &*(std::ptr::addr_of_mut!((*self.bss()).session_filtered)
                as *const [AtomicU64; NR_SYSCALLS / 64])
        };
        super::set_bit(bits, nr, on);
    }

    /// Sets syscall `nr`'s filter, or removes it (None). The new filter is
    /// written into a free slot and then published by storing its slot
    /// number, so a program sees the old filter or the new one, whole. A
    /// filter there is no room for is not set: every call passes (user
    /// space filters events; a count filter says false, and the session
    /// refuses it).
    pub fn set_filter(
        &self,
        what: FilterUse,
        nr: u32,
        filter: Option<&types::systrace_filter>,
    ) -> bool {
        let Some(entry) = self.slot_table(what).get(nr as usize) else {
            return filter.is_none();
        };
        let mut pool = self.filter_slots();
        let new = filter.and_then(|f| {
            // SAFETY: a plain C struct generated from bpf/systrace.h,
            // viewed as its bytes.
            let bytes = unsafe {
                std::slice::from_raw_parts(
                    (f as *const types::systrace_filter).cast::<u8>(),
                    std::mem::size_of::<types::systrace_filter>(),
                )
            };
            pool.acquire(bytes, |slot| {
                self.filter_slots_map
                    .update(&u32::from(slot).to_ne_bytes(), bytes, MapFlags::ANY)
                    .is_ok()
            })
        });
        if what == FilterUse::Events {
            self.stamp_marks(
                nr,
                new.is_some() && filter.is_some_and(|f| f.mode == AT_EXIT),
            );
        }
        let old = entry.swap(new.unwrap_or(0), Ordering::SeqCst);
        if old != 0 {
            pool.release(old);
        }
        filter.is_none() || new.is_some()
    }

    /// RCU grace periods waited for before reusing a slot.
    pub fn filter_grace_periods(&self) -> u64 {
        self.filter_slots().waits
    }

    /// Calls whose enter could not be held for a filter decided at exit
    /// (no memory for the thread's mark); each is counted as dropped too.
    pub fn filter_unheld(&self) -> u64 {
        self.bss_u64(|b| unsafe { std::ptr::addr_of_mut!((*b).filter_unheld) })
            .load(Ordering::SeqCst)
    }

    /// The syscalls the programs filter now.
    pub fn filtered(&self, what: FilterUse) -> Vec<u32> {
        let table = self.slot_table(what);
        (0..NR_SYSCALLS as u32)
            .filter(|&nr| table[nr as usize].load(Ordering::SeqCst) != 0)
            .collect()
    }
}
