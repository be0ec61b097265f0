//! prctl: the option by name and, per option, the arguments strace's
//! prctl.c prints (an option it does not decode shows the rest in hex).
//! What an option reads or writes through a pointer prints as the pointer.
use super::super::flags::{self, Xlat};
use super::super::structs;
use super::ctx::{ptr, string, Ctx, Decoded, RetStyle};

/// The kernel's SUID_DUMP_* (include/linux/sched/coredump.h: not exported
/// to userspace; strace's xlat/pr_dumpable.in names them the same way).
const SUID_DUMP: Xlat = &[
    (0, "SUID_DUMP_DISABLE"),
    (1, "SUID_DUMP_USER"),
    (2, "SUID_DUMP_ROOT"),
];

/// PR_CAP_AMBIENT's operations (uapi linux/prctl.h).
const CAP_AMBIENT_OPS: Xlat = &[
    (1, "PR_CAP_AMBIENT_IS_SET"),
    (2, "PR_CAP_AMBIENT_RAISE"),
    (3, "PR_CAP_AMBIENT_LOWER"),
    (4, "PR_CAP_AMBIENT_CLEAR_ALL"),
];

/// The securebits (uapi linux/securebits.h).
const SECUREBITS: Xlat = &[
    (1 << 0, "SECBIT_NOROOT"),
    (1 << 1, "SECBIT_NOROOT_LOCKED"),
    (1 << 2, "SECBIT_NO_SETUID_FIXUP"),
    (1 << 3, "SECBIT_NO_SETUID_FIXUP_LOCKED"),
    (1 << 4, "SECBIT_KEEP_CAPS"),
    (1 << 5, "SECBIT_KEEP_CAPS_LOCKED"),
    (1 << 6, "SECBIT_NO_CAP_AMBIENT_RAISE"),
    (1 << 7, "SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED"),
];

/// The kernel's TASK_COMM_LEN: a thread name's bytes with its NUL.
const TASK_COMM_LEN: usize = 16;

/// The largest signal number PR_SET_PDEATHSIG is shown by name for.
const MAX_SIGNAL_NAMED: u64 = 128;

pub(super) fn decode<'c, 'a>(syscall: &str, c: &mut Ctx<'c, 'a>) -> Option<Decoded> {
    if syscall != "prctl" {
        return None;
    }
    let op = c.uint(0);
    c.push(c.t_xval(0, flags::PRCTL_OPTIONS, "PR_???"));
    let name = flags::xval(flags::PRCTL_OPTIONS, op).unwrap_or("");
    // print_prctl_args(): the arguments from `first` on, in hex.
    let rest = |c: &mut Ctx<'_, '_>, first: usize| {
        for i in first..c.args.len() {
            c.push(c.t_hex(i));
        }
    };
    let mut ret = RetStyle::Decimal;
    let mut at_entry = true;
    match name {
        "PR_GET_KEEPCAPS"
        | "PR_GET_SECCOMP"
        | "PR_GET_TIMERSLACK"
        | "PR_GET_TIMING"
        | "PR_TASK_PERF_EVENTS_DISABLE"
        | "PR_TASK_PERF_EVENTS_ENABLE" => {}
        "PR_GET_ENDIAN" | "PR_GET_FPEMU" | "PR_GET_FPEXC" | "PR_GET_TID_ADDRESS" | "PR_GET_TSC"
        | "PR_GET_UNALIGN" => {
            c.push_exit(c.t_ptr(1));
            at_entry = false;
        }
        // The thread's name as the kernel wrote it: up to its NUL.
        "PR_GET_NAME" => {
            c.push_exit(match (c.ok(), c.captured_text(1)) {
                (Some(_), Some(name)) if c.raw(1) != 0 => string(name.bytes, false, c.opts),
                _ => c.t_ptr(1),
            });
            at_entry = false;
        }
        // An int the call writes: the signal, or the flag.
        "PR_GET_PDEATHSIG" | "PR_GET_CHILD_SUBREAPER" => {
            let signal = name == "PR_GET_PDEATHSIG";
            c.push_exit(c.t_out_struct(1, |b| {
                let v = structs::read::<i32>(b)?;
                Some(if signal {
                    format!("[{}]", flags::signal_name(v.into()))
                } else {
                    format!("[{v}]")
                })
            }));
            at_entry = false;
        }
        "PR_GET_SECUREBITS" => {
            if let Some(bits) = c.ok().filter(|&n| n != 0) {
                c.note(flags::flags(SECUREBITS, bits as u64));
            }
            ret = RetStyle::Hex;
        }
        "PR_SET_SECUREBITS" => c.push(c.t_flags_or_unknown(1, SECUREBITS, "SECBIT_???")),
        "PR_CAP_AMBIENT" => {
            let op = c.raw(1);
            c.push(c.t_xval64(1, CAP_AMBIENT_OPS, "PR_CAP_AMBIENT_???"));
            match op {
                1..=3 => {
                    c.push(c.t_xval64(2, flags::CAPABILITIES, "CAP_???"));
                    rest(c, 3);
                }
                _ => rest(c, 2),
            }
        }
        "PR_GET_DUMPABLE" => {
            ret = RetStyle::Named(SUID_DUMP);
            at_entry = false;
        }
        "PR_SET_CHILD_SUBREAPER"
        | "PR_SET_ENDIAN"
        | "PR_SET_FPEMU"
        | "PR_SET_FPEXC"
        | "PR_SET_KEEPCAPS"
        | "PR_SET_TIMING" => c.push(c.t_ulong(1)),
        "PR_SET_DUMPABLE" => c.push(c.t_xval64(1, SUID_DUMP, "SUID_DUMP_???")),
        "PR_CAPBSET_DROP" | "PR_CAPBSET_READ" => {
            c.push(c.t_xval64(1, flags::CAPABILITIES, "CAP_???"))
        }
        // The kernel keeps TASK_COMM_LEN - 1 bytes: strace shows those, and
        // "..." when the name reached them.
        "PR_SET_NAME" => c.push(match c.captured_text(1) {
            Some(name) if c.raw(1) != 0 => {
                let end = name
                    .bytes
                    .iter()
                    .position(|&b| b == 0)
                    .unwrap_or(name.bytes.len());
                let kept = &name.bytes[..end.min(TASK_COMM_LEN - 1)];
                let cut = end >= TASK_COMM_LEN - 1 || name.truncated && end == name.bytes.len();
                string(kept, cut, c.opts)
            }
            _ => c.t_ptr(1),
        }),
        "PR_SET_PDEATHSIG" => {
            let sig = c.raw(1);
            c.push(if sig > MAX_SIGNAL_NAMED {
                sig.to_string()
            } else {
                flags::signal_name(sig as i64)
            });
        }
        "PR_SET_PTRACER" => c.push(if c.int(1) == -1 {
            "PR_SET_PTRACER_ANY".into()
        } else {
            c.t_int(1)
        }),
        "PR_SET_SECCOMP" => {
            let mode = c.raw(1);
            c.push(c.t_xval64(1, flags::SECCOMP_MODES, "SECCOMP_MODE_???"));
            match flags::xval(flags::SECCOMP_MODES, mode) {
                Some("SECCOMP_MODE_STRICT") => {}
                // The filter program: a struct sock_fprog.
                Some("SECCOMP_MODE_FILTER") => c.push(c.t_struct(2, structs::sock_fprog_text)),
                _ => rest(c, 2),
            }
        }
        "PR_SET_TIMERSLACK" => c.push(c.t_long(1)),
        "PR_SET_NO_NEW_PRIVS" | "PR_SET_THP_DISABLE" | "PR_SET_IO_FLUSHER" => {
            c.push(c.t_ulong(1));
            rest(c, 2);
        }
        "PR_SET_MM" => {
            c.push(c.t_xval(1, flags::PR_SET_MM_FIELDS, "PR_SET_MM_???"));
            rest(c, 2);
        }
        "PR_SET_VMA" => {
            let attr = c.raw(1);
            c.push(c.t_xval64(1, flags::PR_SET_VMA_ATTRS, "PR_SET_VMA_???"));
            if flags::xval(flags::PR_SET_VMA_ATTRS, attr) == Some("PR_SET_VMA_ANON_NAME") {
                c.push(c.t_ptr(2));
                c.push(c.t_ulong(3));
                c.push(ptr(c.raw(4)));
            } else {
                rest(c, 2);
            }
        }
        _ => rest(c, 1),
    }
    Some(c.finish(ret, at_entry))
}
