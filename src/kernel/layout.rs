//! The shared event layout, as the Rust side sees it.
//!
//! Every number here is derived from the types libbpf-cargo generates from
//! `bpf/systrace.h`, the one definition of the record format. The decoder
//! reads records with these offsets and `define_fields()` reports them, so
//! the two cannot drift apart.
use std::mem::{offset_of, size_of};

use super::types;

pub use types::{
    syscall_trace_enter, syscall_trace_exit, systrace_capture_flags, systrace_capture_item,
    systrace_capture_kind, systrace_capture_limits, systrace_capture_spec, systrace_commands,
    systrace_count, systrace_count_key, systrace_drop_key, systrace_enter_record,
    systrace_exit_record, systrace_header, systrace_phase, systrace_signal, systrace_signal_flags,
    systrace_signal_record, systrace_task_exit, systrace_task_exit_record, systrace_tgid,
    systrace_tgid_flags, trace_entry,
};

/// The length of an array field, read off the generated type so that array
/// sizes are declared only in C.
const fn array_len<S, T, const N: usize>(_field: fn(&S) -> &[T; N]) -> usize {
    N
}

/// Words of each enable bitmap.
pub const BITMAP_WORDS: usize = array_len(|bss: &types::bss| &bss.enabled_enter_syscalls);
/// Size of the enable bitmaps: numbers at or above it are never traced.
pub const NR_SYSCALLS: usize = 64 * BITMAP_WORDS;
/// Arguments an enter record can carry.
pub const MAX_ARGS: usize = array_len(|t: &syscall_trace_enter| &t.args);
pub const TASK_COMM_LEN: usize = array_len(|h: &systrace_header| &h.comm);

pub const HEADER_SIZE: usize = size_of::<systrace_header>();

// The kernel's common fields (struct trace_entry).
pub const COMMON_TYPE_OFFSET: usize = offset_of!(trace_entry, r#type);
pub const COMMON_TYPE_SIZE: usize = size_of::<u16>();
pub const COMMON_FLAGS_OFFSET: usize = offset_of!(trace_entry, flags);
pub const COMMON_FLAGS_SIZE: usize = size_of::<u8>();
pub const COMMON_PREEMPT_COUNT_OFFSET: usize = offset_of!(trace_entry, preempt_count);
pub const COMMON_PREEMPT_COUNT_SIZE: usize = size_of::<u8>();
pub const COMMON_PID_OFFSET: usize = offset_of!(trace_entry, pid);
pub const COMMON_PID_SIZE: usize = size_of::<i32>();

// The syscall fields, offsets within the kernel-compatible part of a record.
pub const NR_OFFSET: usize = offset_of!(syscall_trace_enter, nr);
pub const NR_SIZE: usize = size_of::<i32>();
pub const ENTER_ARGS_OFFSET: usize = offset_of!(syscall_trace_enter, args);
pub const ARG_SIZE: usize = size_of::<u64>();
pub const EXIT_RET_OFFSET: usize = offset_of!(syscall_trace_exit, ret);
pub const RET_SIZE: usize = size_of::<i64>();

/// Bytes of an enter record with `nb_args` arguments, header included.
pub const fn enter_record_size(nb_args: usize) -> usize {
    HEADER_SIZE + ENTER_ARGS_OFFSET + ARG_SIZE * nb_args
}

pub const EXIT_RECORD_SIZE: usize = size_of::<systrace_exit_record>();

pub const PHASE_ENTER: u8 = systrace_phase::SYSTRACE_PHASE_ENTER.0 as u8;
pub const PHASE_EXIT: u8 = systrace_phase::SYSTRACE_PHASE_EXIT.0 as u8;
/// Task events (not syscalls'): a signal delivered, a thread's exit.
pub const PHASE_SIGNAL: u8 = systrace_phase::SYSTRACE_PHASE_SIGNAL.0 as u8;
pub const PHASE_TASK_EXIT: u8 = systrace_phase::SYSTRACE_PHASE_TASK_EXIT.0 as u8;
pub const SIGNAL_NO_INFO: u32 = systrace_signal_flags::SYSTRACE_SIGNAL_NO_INFO.0;
pub const SIGNAL_AT_SEND: u32 = systrace_signal_flags::SYSTRACE_SIGNAL_AT_SEND.0;
pub const SIGNAL_IGNORED: u32 = systrace_signal_flags::SYSTRACE_SIGNAL_IGNORED.0;
pub const SIGNAL_SELF: u32 = systrace_signal_flags::SYSTRACE_SIGNAL_SELF.0;

/// Slots of the programs' quiet list (threads of systrace inside systrace).
pub const QUIET_SLOTS: usize = types::systrace_quiet::SYSTRACE_QUIET_SLOTS.0 as usize;

/// Bytes of one captured string or buffer at most (`-s` is capped here).
pub const MAX_CAPTURE: u32 = systrace_capture_limits::SYSTRACE_MAX_CAPTURE.0;

/// traced_tgids values (systrace_tgid_flags).
pub const TGID_TRACED: u32 = systrace_tgid_flags::SYSTRACE_TGID_TRACED.0;
pub const TGID_FOLLOW: u32 = systrace_tgid_flags::SYSTRACE_TGID_FOLLOW.0;
pub const TGID_DISCOVERED: u32 = systrace_tgid_flags::SYSTRACE_TGID_DISCOVERED.0;
pub const TGID_LAUNCHED: u32 = systrace_tgid_flags::SYSTRACE_TGID_LAUNCHED.0;

/// The two events of a syscall, as the kernel's `sys_enter_NAME` and
/// `sys_exit_NAME`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Phase {
    Enter,
    Exit,
}

impl Phase {
    pub const ALL: [Phase; 2] = [Phase::Enter, Phase::Exit];

    /// 0 for enter, 1 for exit: the index of per-phase arrays, and the
    /// programs' `phase - 1` (bpf/systrace.bpf.c's drop counters).
    pub const fn index(self) -> usize {
        match self {
            Phase::Enter => 0,
            Phase::Exit => 1,
        }
    }

    /// "enter" or "exit".
    pub const fn name(self) -> &'static str {
        match self {
            Phase::Enter => "enter",
            Phase::Exit => "exit",
        }
    }

    /// systrace_header.phase.
    pub const fn raw(self) -> u8 {
        match self {
            Phase::Enter => PHASE_ENTER,
            Phase::Exit => PHASE_EXIT,
        }
    }

    pub fn parse(name: &str) -> Option<Phase> {
        match name {
            "enter" => Some(Phase::Enter),
            "exit" => Some(Phase::Exit),
            _ => None,
        }
    }
}

/// Where syscall `nr`'s bit is in a bitmap of `u64` words, as the programs'
/// test_bit() reads it.
pub const fn bit_of(nr: u32) -> (usize, u64) {
    (nr as usize / 64, 1u64 << (nr % 64))
}

/// A set of syscall numbers as the programs' enable bitmaps hold them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bitmap([u64; BITMAP_WORDS]);

impl Default for Bitmap {
    fn default() -> Self {
        Bitmap([0; BITMAP_WORDS])
    }
}

impl Bitmap {
    pub fn contains(&self, nr: u32) -> bool {
        if nr as usize >= NR_SYSCALLS {
            return false;
        }
        let (word, bit) = bit_of(nr);
        self.0[word] & bit != 0
    }

    pub fn insert(&mut self, nr: u32) {
        if (nr as usize) < NR_SYSCALLS {
            let (word, bit) = bit_of(nr);
            self.0[word] |= bit;
        }
    }
}

impl<'a> FromIterator<&'a u32> for Bitmap {
    fn from_iter<I: IntoIterator<Item = &'a u32>>(iter: I) -> Self {
        let mut map = Bitmap::default();
        for &nr in iter {
            map.insert(nr);
        }
        map
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bitmap_is_what_test_bit_reads() {
        let map: Bitmap = [0u32, 63, 64, 1023, 5000].iter().collect();
        assert!(map.contains(0) && map.contains(63) && map.contains(64) && map.contains(1023));
        assert!(!map.contains(1) && !map.contains(5000));
        assert_eq!(bit_of(65), (1, 2));
    }

    #[test]
    fn kernel_compatible_offsets() {
        // include/linux/trace_events.h and kernel/trace/trace_syscalls.c
        assert_eq!(
            (
                COMMON_TYPE_OFFSET,
                COMMON_FLAGS_OFFSET,
                COMMON_PREEMPT_COUNT_OFFSET
            ),
            (0, 2, 3)
        );
        assert_eq!((COMMON_PID_OFFSET, NR_OFFSET), (4, 8));
        assert_eq!((ENTER_ARGS_OFFSET, EXIT_RET_OFFSET), (16, 16));
        assert_eq!((NR_SYSCALLS, MAX_ARGS, TASK_COMM_LEN), (1024, 6, 16));
        assert_eq!(MAX_CAPTURE, 4096);
        assert_eq!(
            enter_record_size(MAX_ARGS),
            size_of::<systrace_enter_record>()
        );
    }
}
