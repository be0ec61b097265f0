//! Calls on a task's priority, usage, timers, signal stack, CPUs and
//! children (clone3),
//! and select's descriptor sets: structures captured at enter, and what
//! the call wrote back at exit.
use super::super::{flags, structs};
use super::ctx::{Ctx, Decoded, RetStyle, RetStyle::Decimal};

/// personality's PER_* (the kernel's linux/personality.h, strace's
/// personality_types.in): the ones a program asks for.
const PERSONALITIES: flags::Xlat = &[
    (0x0, "PER_LINUX"),
    (0x8, "PER_LINUX32"),
    (0x80_0000, "PER_LINUX_32BIT"),
];

const SHMAT_FLAGS: flags::Xlat = &[
    (0o10000, "SHM_RDONLY"),
    (0o20000, "SHM_RND"),
    (0o40000, "SHM_REMAP"),
    (0o100000, "SHM_EXEC"),
];

/// A System V IPC key: `IPC_PRIVATE` (0), else in hex.
fn ipc_key(key: u64) -> String {
    match key as u32 {
        0 => "IPC_PRIVATE".to_owned(),
        k => format!("{k:#x}"),
    }
}

/// `IPC_CREAT|0600`: the IPC_* flags, then the mode bits in octal.
fn ipc_flags(value: u64) -> String {
    let value = value & 0xffff_ffff;
    let mode = match value & 0o777 {
        0 => "0".to_owned(),
        m => format!("0{m:o}"),
    };
    match value & !0o777 {
        0 => mode,
        named if value & 0o777 == 0 => flags::flags(flags::IPC_FLAGS, named),
        named => format!("{}|{mode}", flags::flags(flags::IPC_FLAGS, named)),
    }
}

/// semop's struct sembuf array: `[{sem_num=0, sem_op=1, sem_flg=SEM_UNDO}]`.
fn sembufs_text(bytes: &[u8], n: u64) -> Option<String> {
    const SEM_FLAGS: flags::Xlat = &[(0x1000, "SEM_UNDO"), (0o4000, "IPC_NOWAIT")];
    let ops: Vec<String> = bytes
        .chunks_exact(6)
        .take(n as usize)
        .map(|op| {
            let field = |i: usize| u16::from_ne_bytes([op[2 * i], op[2 * i + 1]]);
            format!(
                "{{sem_num={}, sem_op={}, sem_flg={}}}",
                field(0),
                field(1) as i16,
                flags::flags(SEM_FLAGS, u64::from(field(2)))
            )
        })
        .collect();
    Some(format!("[{}]", ops.join(", ")))
}

/// struct sched_param: `[0]`, its priority.
fn sched_param_text(bytes: &[u8]) -> Option<String> {
    structs::read::<i32>(bytes).map(|p| format!("[{p}]"))
}

/// waitid's siginfo (`{}` when no child had changed state: WNOHANG).
pub(super) fn siginfo_text(bytes: &[u8]) -> Option<String> {
    let signo = structs::read_at::<i32>(bytes, 0)?;
    if signo == 0 {
        return Some("{}".to_owned());
    }
    let mut fields = [0u64; 4];
    for (i, f) in fields.iter_mut().enumerate() {
        *f = u64::from_ne_bytes(bytes.get(16 + 8 * i..24 + 8 * i)?.try_into().ok()?);
    }
    let info = crate::kernel::SigInfo {
        signo,
        errno: structs::read_at::<i32>(bytes, 1)?,
        code: structs::read_at::<i32>(bytes, 2)?,
        fields: Some(fields),
        handler: 0,
        at_send: false,
        ignored: false,
        from_self: false,
    };
    Some(crate::strace::signals::siginfo_text(&info))
}

const ITIMERS: flags::Xlat = &[
    (libc::ITIMER_REAL as u64, "ITIMER_REAL"),
    (libc::ITIMER_VIRTUAL as u64, "ITIMER_VIRTUAL"),
    (libc::ITIMER_PROF as u64, "ITIMER_PROF"),
];

const PRIO_WHICH: flags::Xlat = &[
    (libc::PRIO_PROCESS as u64, "PRIO_PROCESS"),
    (libc::PRIO_PGRP as u64, "PRIO_PGRP"),
    (libc::PRIO_USER as u64, "PRIO_USER"),
];

/// getrusage's who, as an unsigned int (RUSAGE_CHILDREN is -1).
const RUSAGE_WHO: flags::Xlat = &[
    (libc::RUSAGE_SELF as u32 as u64, "RUSAGE_SELF"),
    (libc::RUSAGE_CHILDREN as u32 as u64, "RUSAGE_CHILDREN"),
    (libc::RUSAGE_THREAD as u32 as u64, "RUSAGE_THREAD"),
];

pub(super) fn decode<'c, 'a>(syscall: &str, mut c: Ctx<'c, 'a>) -> Result<Decoded, Ctx<'c, 'a>> {
    Ok(match syscall {
        "getpriority" | "setpriority" => {
            c.push(c.t_xval(0, PRIO_WHICH, "PRIO_???"));
            c.push(c.t_int(1));
            if syscall == "setpriority" {
                c.push(c.t_int(2));
            }
            c.finish(Decimal, true)
        }
        "getrusage" => {
            c.push(c.t_xval(0, RUSAGE_WHO, "RUSAGE_???"));
            c.push_exit(c.t_out_struct(1, structs::rusage_text));
            c.finish(Decimal, false)
        }
        "times" => {
            c.push_exit(c.t_out_struct(0, structs::tms_text));
            c.finish(Decimal, false)
        }
        "select" | "pselect6" => return Ok(decode_select(syscall, c)),
        "getitimer" => {
            c.push(c.t_xval(0, ITIMERS, "ITIMER_???"));
            c.push_exit(c.t_out_struct(1, structs::itimerval_text));
            c.finish(Decimal, false)
        }
        "setitimer" => {
            c.push(c.t_xval(0, ITIMERS, "ITIMER_???"));
            c.push(c.t_struct(1, structs::itimerval_text));
            c.push_exit(c.t_out_struct(2, structs::itimerval_text));
            c.finish(Decimal, false)
        }
        "timer_create" => {
            c.push(c.t_xval(0, flags::CLOCKS, "CLOCK_???"));
            c.push(c.t_struct(1, structs::sigevent_text));
            c.push_exit(c.t_out_struct(2, |b| structs::read::<i32>(b).map(|id| format!("[{id}]"))));
            c.finish(Decimal, false)
        }
        "timer_settime" => {
            c.push(c.t_int(0));
            c.push(c.t_uflags(1, flags::TIMER_FLAGS));
            c.push(c.t_struct(2, structs::itimerspec_text));
            c.push_exit(c.t_out_struct(3, structs::itimerspec_text));
            c.finish(Decimal, false)
        }
        "timer_gettime" => {
            c.push(c.t_int(0));
            c.push_exit(c.t_out_struct(1, structs::itimerspec_text));
            c.finish(Decimal, false)
        }
        "sigaltstack" => {
            c.push(c.t_struct(0, structs::stack_text));
            c.push_exit(c.t_out_struct(1, structs::stack_text));
            c.finish(Decimal, false)
        }
        "getgroups" => {
            let size = c.raw(0) as u32 as i32;
            c.push(c.t_int(0));
            // Asked for 0, the call returns the count and writes none.
            let n = c.ok().map(|r| {
                if size == 0 {
                    0
                } else {
                    r.min(i64::from(size)) as u64
                }
            });
            let limit = c.opts.string_size;
            c.push_exit(match n {
                // Nothing to read (none is captured then).
                Some(0) if c.raw(1) != 0 => "[]".to_owned(),
                Some(n) => c.t_struct(1, |b| structs::gid_list_text(b, n, limit)),
                None => c.t_ptr(1),
            });
            c.finish(Decimal, false)
        }
        "setgroups" => {
            let n = u64::from(c.raw(0) as u32);
            let limit = c.opts.string_size;
            c.push(c.t_int(0));
            c.push(c.t_struct(1, |b| structs::gid_list_text(b, n, limit)));
            c.finish(Decimal, false)
        }
        "sched_getscheduler" => {
            c.push(c.t_int(0));
            c.finish(RetStyle::Named(flags::SCHED_POLICIES), true)
        }
        "sched_setscheduler" => {
            c.push(c.t_int(0));
            // strace names no flag here: SCHED_RESET_ON_FORK is `0x40000000 /*
            // SCHED_??? */` with the policy.
            c.push(c.t_xval(1, flags::SCHED_POLICIES, "SCHED_???"));
            c.push(c.t_struct(2, sched_param_text));
            c.finish(Decimal, true)
        }
        "sched_setparam" => {
            c.push(c.t_int(0));
            c.push(c.t_struct(1, sched_param_text));
            c.finish(Decimal, true)
        }
        "sched_getparam" => {
            c.push(c.t_int(0));
            c.push_exit(c.t_out_struct(1, sched_param_text));
            c.finish(Decimal, false)
        }
        "waitid" => {
            c.push(c.t_xval(0, flags::WAITID_TYPES, "P_???"));
            c.push(c.t_int(1));
            c.push_exit(c.t_out_struct(2, siginfo_text));
            c.push_exit(c.t_uflags(3, flags::WAIT_OPTIONS));
            c.push_exit(c.t_out_struct(4, structs::rusage_text));
            c.finish(Decimal, false)
        }
        "rt_sigtimedwait" => {
            c.push(c.t_sigset(0));
            c.push_exit(c.t_out_struct(1, siginfo_text));
            c.push_exit(c.t_struct(2, structs::timespec_text));
            c.push_exit(c.t_ulong(3));
            c.finish(RetStyle::Signal, false)
        }
        "getcpu" => {
            let int = |b: &[u8]| structs::read::<u32>(b).map(|v| format!("[{v}]"));
            c.push_exit(c.t_out_struct(0, int));
            c.push_exit(c.t_out_struct(1, int));
            c.push_exit(c.t_ptr(2));
            c.finish(Decimal, false)
        }
        "personality" => {
            // 0xffffffff asks without changing; strace names the rest.
            let v = c.uint(0) & 0xffff_ffff;
            c.push(match v {
                0xffff_ffff => "0xffffffff".to_owned(),
                _ => flags::xval_or_unknown(PERSONALITIES, v, "PER_???"),
            });
            c.finish(RetStyle::Named(PERSONALITIES), true)
        }
        "shmget" | "msgget" | "semget" => {
            c.push(ipc_key(c.raw(0)));
            if syscall == "shmget" {
                c.push(c.t_ulong(1));
            } else if syscall == "semget" {
                c.push(c.t_int(1));
            }
            c.push(ipc_flags(c.uint(if syscall == "msgget" { 1 } else { 2 })));
            c.finish(Decimal, true)
        }
        "shmctl" | "msgctl" => {
            c.push(c.t_int(0));
            c.push(c.t_xval(1, flags::IPC_CMDS, "IPC_???"));
            c.push(c.t_ptr(2));
            c.finish(Decimal, true)
        }
        "semctl" => {
            c.push(c.t_int(0));
            c.push(c.t_int(1));
            c.push(c.t_xval(2, flags::IPC_CMDS, "IPC_???"));
            c.push(c.t_ptr(3));
            c.finish(Decimal, true)
        }
        "shmat" => {
            c.push(c.t_int(0));
            c.push(c.t_ptr(1));
            c.push(c.t_uflags(2, SHMAT_FLAGS));
            c.finish(RetStyle::Hex, true)
        }
        "semop" | "semtimedop" => {
            let n = c.raw(2);
            c.push(c.t_int(0));
            c.push(c.t_struct(1, |b| sembufs_text(b, n)));
            c.push(c.t_uint(2));
            if syscall == "semtimedop" {
                c.push(c.t_struct(3, structs::timespec_text));
            }
            c.finish(Decimal, true)
        }
        "shmdt" => {
            c.push(c.t_ptr(0));
            c.finish(Decimal, true)
        }
        "sched_getaffinity" => {
            c.push(c.t_int(0));
            c.push(c.t_uint(1));
            c.push_exit(c.t_out_struct(2, structs::cpu_mask_text));
            c.finish(Decimal, false)
        }
        "sched_setaffinity" => {
            c.push(c.t_int(0));
            c.push(c.t_uint(1));
            c.push(c.t_struct(2, structs::cpu_mask_text));
            c.finish(Decimal, true)
        }
        "clone3" => {
            let mut text = c.t_struct(0, structs::clone_args_text);
            // The child's tid is written to parent_tid: the value returned.
            let settid = c
                .captured(0)
                .is_some_and(|a| structs::clone_args_sets_parent_tid(a.bytes));
            if let Some(tid) = c.ok().filter(|&t| t > 0 && settid) {
                text.push_str(&format!(" => {{parent_tid=[{tid}]}}"));
            }
            c.push(text);
            c.push(c.t_ulong(1));
            c.finish(Decimal, false)
        }
        _ => return Err(c),
    })
}

/// `select(4, [3], [], NULL, {tv_sec=1, tv_usec=0}) = 1 (in [3], left {...})`.
fn decode_select(syscall: &str, mut c: Ctx<'_, '_>) -> Decoded {
    let n = u64::try_from(c.int(0)).unwrap_or(0);
    c.push(c.t_int(0));
    for i in 1..4 {
        c.push(c.t_struct(i, |b| Some(structs::fd_set_text(b, n))));
    }
    let timeout: fn(&[u8]) -> Option<String> = if syscall == "select" {
        structs::timeval_text
    } else {
        structs::timespec_text
    };
    c.push(c.t_struct(4, timeout));
    if syscall == "pselect6" {
        // A {sigset pointer, size} pair strace reads too: not captured.
        c.push(c.t_ptr(5));
    }
    match c.ok() {
        Some(0) => c.note("Timeout".to_owned()),
        Some(_) => {
            let mut parts = Vec::new();
            for (i, what) in [(1, "in"), (2, "out"), (3, "except")] {
                let Some(after) = c
                    .captured(i)
                    .filter(|_| c.raw(i) != 0)
                    .and_then(|a| a.after)
                else {
                    continue;
                };
                if !structs::fd_set_text(after, n).eq("[]") {
                    parts.push(format!("{what} {}", structs::fd_set_text(after, n)));
                }
            }
            if let Some(left) = c
                .captured(4)
                .filter(|_| c.raw(4) != 0)
                .and_then(|a| a.after)
            {
                if let Some(text) = timeout(left) {
                    parts.push(format!("left {text}"));
                }
            }
            if !parts.is_empty() {
                c.note(parts.join(", "));
            }
        }
        None => {}
    }
    c.finish(Decimal, false)
}
