//! Ring-buffer decoding: one record of bpf/systrace.h's layout into an
//! `Event`. Records are copied out with unaligned reads after a length check
//! (the ring buffer only promises 8-byte alignment of what it hands out, and
//! a decoder must never trust a length it did not check).
use std::mem::{offset_of, size_of};
use std::ptr;
use std::sync::Arc;

use super::layout::{
    self, syscall_trace_enter, syscall_trace_exit, systrace_capture_flags, systrace_capture_item,
    systrace_header, systrace_signal, systrace_task_exit, Phase, ENTER_ARGS_OFFSET, HEADER_SIZE,
    MAX_ARGS, NR_SYSCALLS, PHASE_ENTER, PHASE_EXIT, PHASE_SIGNAL, PHASE_TASK_EXIT, SIGNAL_AT_SEND,
    SIGNAL_IGNORED, SIGNAL_NO_INFO, SIGNAL_SELF, TASK_COMM_LEN,
};

/// What an event is: a syscall's enter or exit (`phase` says which), or
/// one of the task events a session asks for on top of its syscalls.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum EventKind {
    #[default]
    Syscall,
    /// A signal the thread is about to act on: `nr` is the signal, `args`
    /// its siginfo (see [`Event::siginfo`]), `ret` the handler (0 SIG_DFL,
    /// 1 SIG_IGN, else the handler's address).
    Signal,
    /// The thread exited: `args` [exit_code, group_dead, compat] (see
    /// [`Event::task_exit`]), `ret` the exit code.
    TaskExit,
}

impl EventKind {
    /// "syscall", "signal", "task_exit".
    pub const fn name(self) -> &'static str {
        match self {
            EventKind::Syscall => "syscall",
            EventKind::Signal => "signal",
            EventKind::TaskExit => "task_exit",
        }
    }

    /// The name of an event's kind: the phase's for a syscall's.
    pub fn phase_name(self, phase: Phase) -> &'static str {
        match self {
            EventKind::Syscall => phase.name(),
            other => other.name(),
        }
    }

    /// The kind and phase of a phase name: "enter", "exit", "signal", "task_exit".
    pub fn parse_phase(name: &str) -> Option<(EventKind, Phase)> {
        match name {
            "signal" => Some((EventKind::Signal, Phase::Enter)),
            "task_exit" => Some((EventKind::TaskExit, Phase::Enter)),
            other => Phase::parse(other).map(|p| (EventKind::Syscall, p)),
        }
    }
}

/// A signal's siginfo as the kernel handed it: signo, errno, code, and the
/// union of the fields that depend on them (siginfo_t's layout after its
/// three ints, in 64-bit words).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SigInfo {
    pub signo: i32,
    pub errno: i32,
    pub code: i32,
    /// None for the SIGKILL of a process exiting as a group (no siginfo).
    pub fields: Option<[u64; 4]>,
    pub handler: u64,
    /// Recorded when it was sent: a fatal signal the kernel turned into a
    /// group exit at once (no thread acts on it), or an ignored one.
    pub at_send: bool,
    /// Its target ignores it: the kernel discarded it as it was sent.
    pub ignored: bool,
    /// Ignored, and sent by its target itself: it follows the call that
    /// sent it.
    pub from_self: bool,
}

/// A thread's end: its exit_code (`status << 8`, or the signal that killed
/// it, `| 0x80` with a core dump), and whether it was its process's last.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TaskExit {
    pub exit_code: i32,
    pub group_dead: bool,
    /// It ran in 32-bit mode: its compat syscalls, which the kernel's
    /// syscall events skip, were not traced.
    pub compat: bool,
}

/// One decoded event: a syscall's enter or exit, or a task event (its
/// `kind`). Plain data, cheap to clone and to batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub kind: EventKind,
    pub timestamp_ns: u64,
    pub pid: u32,
    /// The process a session registered that `pid` descends from (a
    /// followed fork's), or `pid` itself.
    pub root: u32,
    pub tid: u32,
    pub nr: u32,
    pub cpu: u16,
    pub phase: Phase,
    /// Args present in `args` (enter only).
    pub nb_args: u8,
    pub args: [u64; MAX_ARGS],
    /// The return value (exit only).
    pub ret: i64,
    pub comm: [u8; TASK_COMM_LEN],
    /// Captured user memory: capture items as the BPF side wrote them
    /// (validated by `decode`); None for most records.
    pub data: Option<Arc<[u8]>>,
}

/// One piece of user memory a record carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Capture<'a> {
    /// Index of the argument it belongs to.
    pub arg: u8,
    /// Read at exit (read's data, or a string that was not in memory at enter).
    pub at_exit: bool,
    /// Longer than the capture size: only the first bytes are here.
    pub truncated: bool,
    /// The memory could not be read.
    pub faulted: bool,
    /// Not captured: the call's enter could not be kept for its exit.
    pub lost: bool,
    /// One element of an argv-like array.
    pub argv_elem: bool,
    /// Not the argument's memory: the netlink protocol (a u32) of the
    /// socket whose messages the argument's next items hold.
    pub netlink: bool,
    /// Not the argument's memory: a socket's ends as the programs read
    /// them (a `systrace_socket_ends`).
    pub ends: bool,
    pub bytes: &'a [u8],
}

impl Capture<'_> {
    /// Whether it holds the argument's value: not a fault, and not the
    /// empty item that only says an argv was cut.
    pub fn has_value(&self) -> bool {
        let cut_argv_marker = self.argv_elem && self.truncated && self.bytes.is_empty();
        !(self.faulted || self.lost || cut_argv_marker || self.netlink)
    }
}

const ITEM_SIZE: usize = size_of::<systrace_capture_item>();
const fn flag(f: systrace_capture_flags) -> u8 {
    f.0 as u8
}

/// The capture items of a payload; stops at the first malformed item.
fn captures(payload: &[u8]) -> impl Iterator<Item = Result<Capture<'_>, DecodeError>> + '_ {
    let mut rest = payload;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        if rest.len() < ITEM_SIZE {
            rest = &[];
            return Some(Err(DecodeError::BadCapture));
        }
        let item: systrace_capture_item = read(rest, 0);
        let end = ITEM_SIZE + item.len as usize;
        if rest.len() < end || item.arg as usize >= MAX_ARGS {
            rest = &[];
            return Some(Err(DecodeError::BadCapture));
        }
        let bytes = &rest[ITEM_SIZE..end];
        rest = &rest[end..];
        Some(Ok(Capture {
            arg: item.arg,
            at_exit: item.flags & flag(systrace_capture_flags::SYSTRACE_CAPTURE_AT_EXIT) != 0,
            truncated: item.flags & flag(systrace_capture_flags::SYSTRACE_CAPTURE_TRUNCATED) != 0,
            faulted: item.flags & flag(systrace_capture_flags::SYSTRACE_CAPTURE_FAULTED) != 0,
            lost: item.flags & flag(systrace_capture_flags::SYSTRACE_CAPTURE_LOST) != 0,
            argv_elem: item.flags & flag(systrace_capture_flags::SYSTRACE_CAPTURE_ARGV_ELEM) != 0,
            netlink: item.flags & flag(systrace_capture_flags::SYSTRACE_CAPTURE_NETLINK) != 0,
            ends: item.flags & flag(systrace_capture_flags::SYSTRACE_CAPTURE_ENDS) != 0,
            bytes,
        }))
    })
}

/// Capture items in the programs' format: (arg, systrace_capture_flags,
/// bytes) each. For synthetic events (tests, replays).
pub fn encode_captures(items: &[(u8, u8, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (arg, flags, bytes) in items {
        let item = systrace_capture_item {
            arg: *arg,
            flags: *flags,
            len: bytes.len().min(u16::MAX as usize) as u16,
        };
        // SAFETY: a plain C struct without padding, viewed as its bytes.
        let raw = unsafe {
            std::slice::from_raw_parts(
                (&item as *const systrace_capture_item).cast::<u8>(),
                ITEM_SIZE,
            )
        };
        out.extend_from_slice(raw);
        out.extend_from_slice(&bytes[..item.len as usize]);
    }
    out
}

impl Event {
    /// The user memory this record carries, in the order it was read.
    pub fn captures(&self) -> impl Iterator<Item = Capture<'_>> + '_ {
        captures(self.data.as_deref().unwrap_or(&[])).map_while(Result::ok)
    }

    /// The thread's name, up to its first NUL, as the kernel keeps it.
    pub fn comm_bytes(&self) -> &[u8] {
        let end = self
            .comm
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(self.comm.len());
        &self.comm[..end]
    }

    pub fn args(&self) -> &[u64] {
        &self.args[..self.nb_args as usize]
    }

    pub fn is_syscall(&self) -> bool {
        self.kind == EventKind::Syscall
    }

    /// A signal event's siginfo.
    pub fn siginfo(&self) -> Option<SigInfo> {
        (self.kind == EventKind::Signal).then(|| SigInfo {
            signo: self.nr as i32,
            code: self.args[0] as i32,
            errno: self.args[1] as i32,
            fields: (self.args[1] >> 32 & u64::from(SIGNAL_NO_INFO) == 0).then(|| {
                let mut f = [0; 4];
                f.copy_from_slice(&self.args[2..6]);
                f
            }),
            handler: self.ret as u64,
            at_send: (self.args[1] >> 32) as u32 & SIGNAL_AT_SEND != 0,
            ignored: (self.args[1] >> 32) as u32 & SIGNAL_IGNORED != 0,
            from_self: (self.args[1] >> 32) as u32 & SIGNAL_SELF != 0,
        })
    }

    /// A task exit event's end.
    pub fn task_exit(&self) -> Option<TaskExit> {
        (self.kind == EventKind::TaskExit).then(|| TaskExit {
            exit_code: self.args[0] as i32,
            group_dead: self.args[1] != 0,
            compat: self.args[2] != 0,
        })
    }

    /// The record's phase name: "enter", "exit", "signal", "task_exit".
    pub fn phase_name(&self) -> &'static str {
        self.kind.phase_name(self.phase)
    }

    /// systrace_header.phase of the record.
    pub fn raw_phase(&self) -> u8 {
        match self.kind {
            EventKind::Syscall => self.phase.raw(),
            EventKind::Signal => PHASE_SIGNAL,
            EventKind::TaskExit => PHASE_TASK_EXIT,
        }
    }
}

/// The highest signal number (SIGRTMAX).
pub const MAX_SIGNAL: u32 = 64;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecodeError {
    Truncated { len: usize, need: usize },
    BadPhase(u8),
    BadNbArgs(u8),
    BadNr(i32),
    BadCapture,
}

/// Reads a `T` at `offset` of `rec`, which the caller has length-checked.
fn read<T: Copy>(rec: &[u8], offset: usize) -> T {
    assert!(offset + std::mem::size_of::<T>() <= rec.len());
    // SAFETY: in bounds (checked above); read_unaligned has no alignment
    // requirement, and T is plain old data generated from the C header.
    unsafe { ptr::read_unaligned(rec.as_ptr().add(offset).cast::<T>()) }
}

fn need(rec: &[u8], need: usize) -> Result<(), DecodeError> {
    if rec.len() < need {
        return Err(DecodeError::Truncated {
            len: rec.len(),
            need,
        });
    }
    Ok(())
}

/// Decodes one record of the ring buffer.
pub fn decode(rec: &[u8]) -> Result<Event, DecodeError> {
    need(rec, HEADER_SIZE)?;
    let hdr: systrace_header = read(rec, 0);
    let body = &rec[HEADER_SIZE..];
    let mut event = Event {
        kind: EventKind::Syscall,
        timestamp_ns: hdr.timestamp_ns,
        pid: hdr.tgid,
        root: hdr.root,
        tid: 0,
        nr: 0,
        cpu: hdr.cpu,
        phase: Phase::Enter,
        nb_args: 0,
        args: [0; MAX_ARGS],
        ret: 0,
        comm: hdr.comm.map(|c| c as u8),
        data: None,
    };
    let body_len;
    let nr = match hdr.phase {
        PHASE_ENTER => {
            let nb_args = hdr.nb_args as usize;
            if nb_args > MAX_ARGS {
                return Err(DecodeError::BadNbArgs(hdr.nb_args));
            }
            need(body, ENTER_ARGS_OFFSET + layout::ARG_SIZE * nb_args)?;
            for (i, arg) in event.args.iter_mut().take(nb_args).enumerate() {
                *arg = read(body, ENTER_ARGS_OFFSET + layout::ARG_SIZE * i);
            }
            event.nb_args = hdr.nb_args;
            body_len = ENTER_ARGS_OFFSET + layout::ARG_SIZE * nb_args;
            event.tid = read::<i32>(
                body,
                offset_of!(syscall_trace_enter, ent) + layout::COMMON_PID_OFFSET,
            ) as u32;
            read::<i32>(body, offset_of!(syscall_trace_enter, nr))
        }
        PHASE_EXIT => {
            need(body, size_of::<syscall_trace_exit>())?;
            let trace: syscall_trace_exit = read(body, 0);
            body_len = size_of::<syscall_trace_exit>();
            event.phase = Phase::Exit;
            event.ret = trace.ret;
            event.tid = trace.ent.pid as u32;
            trace.nr
        }
        PHASE_SIGNAL => {
            need(body, size_of::<systrace_signal>())?;
            let sig: systrace_signal = read(body, 0);
            if sig.signo <= 0 || sig.signo as u32 > MAX_SIGNAL {
                return Err(DecodeError::BadNr(sig.signo));
            }
            event.kind = EventKind::Signal;
            event.tid = sig.ent.pid as u32;
            event.nb_args = MAX_ARGS as u8;
            event.args = [
                sig.code as i64 as u64,
                u64::from(sig.si_errno as u32) | u64::from(sig.flags) << 32,
                sig.fields[0],
                sig.fields[1],
                sig.fields[2],
                sig.fields[3],
            ];
            event.ret = sig.handler as i64;
            event.nr = sig.signo as u32;
            return only(rec, HEADER_SIZE + size_of::<systrace_signal>(), event);
        }
        PHASE_TASK_EXIT => {
            need(body, size_of::<systrace_task_exit>())?;
            let task: systrace_task_exit = read(body, 0);
            event.kind = EventKind::TaskExit;
            event.tid = task.ent.pid as u32;
            event.nb_args = 3;
            event.args[0] = task.exit_code as u32 as u64;
            event.args[1] = u64::from(task.group_dead != 0);
            event.args[2] = u64::from(task.compat != 0);
            event.ret = i64::from(task.exit_code);
            return only(rec, HEADER_SIZE + size_of::<systrace_task_exit>(), event);
        }
        other => return Err(DecodeError::BadPhase(other)),
    };
    if nr < 0 || nr as usize >= NR_SYSCALLS {
        return Err(DecodeError::BadNr(nr));
    }
    event.nr = nr as u32;
    let payload = &body[body_len..];
    if !payload.is_empty() {
        if captures(payload).any(|c| c.is_err()) {
            return Err(DecodeError::BadCapture);
        }
        event.data = Some(Arc::from(payload));
    }
    Ok(event)
}

/// A record that carries nothing past its fixed part (task events).
fn only(rec: &[u8], len: usize, event: Event) -> Result<Event, DecodeError> {
    if rec.len() > len.next_multiple_of(8) {
        return Err(DecodeError::BadCapture);
    }
    Ok(event)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::kernel::layout::{
        enter_record_size, systrace_enter_record, systrace_exit_record, EXIT_RECORD_SIZE,
    };

    fn bytes_of<T>(value: &T) -> Vec<u8> {
        // SAFETY: T is a plain C struct; padding bytes were zeroed by Default.
        unsafe {
            std::slice::from_raw_parts((value as *const T).cast::<u8>(), std::mem::size_of::<T>())
                .to_vec()
        }
    }

    pub(crate) fn enter_record(nr: i32, args: &[u64], tgid: u32, tid: i32) -> Vec<u8> {
        let mut rec = systrace_enter_record::default();
        rec.hdr.timestamp_ns = 42;
        rec.hdr.tgid = tgid;
        rec.hdr.root = tgid;
        rec.hdr.cpu = 1;
        rec.hdr.phase = PHASE_ENTER;
        rec.hdr.nb_args = args.len() as u8;
        rec.hdr.comm[..4].copy_from_slice(&[b't' as i8, b'e' as i8, b's' as i8, b't' as i8]);
        rec.trace.ent.pid = tid;
        rec.trace.nr = nr;
        rec.trace.args[..args.len()].copy_from_slice(args);
        let mut bytes = bytes_of(&rec);
        bytes.truncate(enter_record_size(args.len()));
        bytes
    }

    pub(crate) fn exit_record(nr: i32, ret: i64, tgid: u32, tid: i32) -> Vec<u8> {
        let mut rec = systrace_exit_record::default();
        rec.hdr.timestamp_ns = 43;
        rec.hdr.tgid = tgid;
        rec.hdr.root = tgid;
        rec.hdr.phase = PHASE_EXIT;
        rec.trace.ent.pid = tid;
        rec.trace.nr = nr;
        rec.trace.ret = ret;
        let bytes = bytes_of(&rec);
        assert_eq!(bytes.len(), EXIT_RECORD_SIZE);
        bytes
    }

    #[test]
    fn decodes_enter_with_its_own_arg_count() {
        let ev = decode(&enter_record(0, &[3, 0x7ffc, 1024], 100, 101)).unwrap();
        assert_eq!(
            (ev.phase, ev.nr, ev.pid, ev.tid, ev.cpu),
            (Phase::Enter, 0, 100, 101, 1)
        );
        assert_eq!(ev.args(), &[3, 0x7ffc, 1024]);
        assert_eq!(ev.comm_bytes(), b"test");
        assert_eq!(ev.timestamp_ns, 42);
    }

    #[test]
    fn decodes_exit_with_negative_return() {
        let ev = decode(&exit_record(0, -9, 100, 102)).unwrap();
        assert_eq!((ev.phase, ev.nr, ev.ret, ev.tid), (Phase::Exit, 0, -9, 102));
        assert!(ev.args().is_empty());
    }

    #[test]
    fn rejects_truncated_and_garbage_records() {
        let rec = enter_record(1, &[1, 2, 3], 1, 1);
        for len in 0..rec.len() {
            assert!(
                decode(&rec[..len]).is_err(),
                "accepted a record cut at {len}"
            );
        }
        let mut bad = rec.clone();
        bad[offset_of!(systrace_header, phase)] = 9;
        assert_eq!(decode(&bad), Err(DecodeError::BadPhase(9)));
        let mut bad = rec.clone();
        bad[offset_of!(systrace_header, nb_args)] = 7;
        assert_eq!(decode(&bad), Err(DecodeError::BadNbArgs(7)));
        assert_eq!(
            decode(&exit_record(-1, 0, 1, 1)),
            Err(DecodeError::BadNr(-1))
        );
        // Every byte pattern of a short record is handled without a panic.
        for b in 0..=255u8 {
            let _ = decode(&[b; HEADER_SIZE + 20]);
        }
    }
}
