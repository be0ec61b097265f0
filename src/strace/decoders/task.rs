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

/// struct mq_attr's mq_flags (strace's mq_attr_flags).
const MQ_ATTR_FLAGS: flags::Xlat = &[(libc::O_NONBLOCK as u64, "O_NONBLOCK")];

/// struct mq_attr as strace's printmqattr: mq_flags named (`named`,
/// mq_getsetattr's) or in hex (mq_open's), the counts signed.
fn mq_attr_text(bytes: &[u8], named: bool) -> Option<String> {
    let [mq_flags, maxmsg, msgsize, curmsgs]: [i64; 4] = structs::read(bytes)?;
    let mq_flags = if named {
        flags::flags_or_unknown(MQ_ATTR_FLAGS, mq_flags as u64, "O_???")
    } else {
        flags::hex(mq_flags as u64)
    };
    Some(format!(
        "{{mq_flags={mq_flags}, mq_maxmsg={maxmsg}, mq_msgsize={msgsize}, mq_curmsgs={curmsgs}}}"
    ))
}

/// A System V IPC key: `IPC_PRIVATE` (0), else in hex.
fn ipc_key(key: u64) -> String {
    match key as u32 {
        0 => "IPC_PRIVATE".to_owned(),
        k => format!("{k:#x}"),
    }
}

/// A *ctl command as strace's PRINTCTL shows it: `IPC_64|` first when the
/// caller set that bit (32-bit ABIs' new structures), then its name.
fn ipc_cmd(raw: u64, table: flags::Xlat, unknown: &str) -> String {
    const IPC_64: u32 = 0x100;
    let cmd = raw as u32;
    let name = flags::xval_or_unknown(table, u64::from(cmd & !IPC_64), unknown);
    if cmd & IPC_64 != 0 {
        format!("IPC_64|{name}")
    } else {
        name
    }
}

/// `IPC_CREAT|0600`: the IPC_* flags, then the mode bits in octal.
fn ipc_flags(value: u64) -> String {
    let value = value & 0xffff_ffff;
    let mode = flags::mode(value & 0o777);
    match value & !0o777 {
        0 => mode,
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

/// membarrier's commands (uapi linux/membarrier.h) as strace 6.1 names
/// them: MEMBARRIER_CMD_GET_REGISTRATIONS (0x200, Linux 6.3) it does not.
const MEMBARRIER_CMDS: flags::Xlat = &[
    (0, "MEMBARRIER_CMD_QUERY"),
    (1, "MEMBARRIER_CMD_GLOBAL"),
    (2, "MEMBARRIER_CMD_GLOBAL_EXPEDITED"),
    (4, "MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED"),
    (8, "MEMBARRIER_CMD_PRIVATE_EXPEDITED"),
    (16, "MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED"),
    (32, "MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE"),
    (64, "MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE"),
    (128, "MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ"),
    (256, "MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ"),
];
const MEMBARRIER_CMD_FLAG_CPU: u64 = 1;
const MEMBARRIER_FLAGS: flags::Xlat = &[(MEMBARRIER_CMD_FLAG_CPU, "MEMBARRIER_CMD_FLAG_CPU")];

/// ioprio_get/set's which, and the classes of an I/O priority
/// (uapi linux/ioprio.h).
const IOPRIO_WHO: flags::Xlat = &[
    (1, "IOPRIO_WHO_PROCESS"),
    (2, "IOPRIO_WHO_PGRP"),
    (3, "IOPRIO_WHO_USER"),
];
const IOPRIO_CLASSES: flags::Xlat = &[
    (0, "IOPRIO_CLASS_NONE"),
    (1, "IOPRIO_CLASS_RT"),
    (2, "IOPRIO_CLASS_BE"),
    (3, "IOPRIO_CLASS_IDLE"),
];

/// `IOPRIO_PRIO_VALUE(IOPRIO_CLASS_BE, 4)`: the class in the top bits, the
/// level below (IOPRIO_CLASS_SHIFT 13).
fn ioprio_text(value: u64) -> String {
    let class = flags::xval_or_unknown(IOPRIO_CLASSES, (value >> 13) & 0x7, "IOPRIO_CLASS_???");
    format!("IOPRIO_PRIO_VALUE({class}, {})", value & 0x1fff)
}

/// syslog's actions (include/linux/syslog.h) and console levels
/// (linux/kern_levels.h).
const SYSLOG_ACTIONS: flags::Xlat = &[
    (0, "SYSLOG_ACTION_CLOSE"),
    (1, "SYSLOG_ACTION_OPEN"),
    (2, "SYSLOG_ACTION_READ"),
    (3, "SYSLOG_ACTION_READ_ALL"),
    (4, "SYSLOG_ACTION_READ_CLEAR"),
    (5, "SYSLOG_ACTION_CLEAR"),
    (6, "SYSLOG_ACTION_CONSOLE_OFF"),
    (7, "SYSLOG_ACTION_CONSOLE_ON"),
    (8, "SYSLOG_ACTION_CONSOLE_LEVEL"),
    (9, "SYSLOG_ACTION_SIZE_UNREAD"),
    (10, "SYSLOG_ACTION_SIZE_BUFFER"),
];
const LOGLEVELS: flags::Xlat = &[
    (0, "LOGLEVEL_EMERG"),
    (1, "LOGLEVEL_ALERT"),
    (2, "LOGLEVEL_CRIT"),
    (3, "LOGLEVEL_ERR"),
    (4, "LOGLEVEL_WARNING"),
    (5, "LOGLEVEL_NOTICE"),
    (6, "LOGLEVEL_INFO"),
    (7, "LOGLEVEL_DEBUG"),
];

/// `10 /* SYSLOG_ACTION_SIZE_BUFFER */`: the number, then its name (strace's
/// verbose style for these).
fn number_named(value: i64, table: flags::Xlat, unknown: &str) -> String {
    let name = flags::xval(table, value as u64).unwrap_or(unknown);
    format!("{value} /* {name} */")
}

/// bpf's commands (uapi linux/bpf.h), numbered from 0.
const BPF_COMMANDS: flags::Xlat = &[
    (0, "BPF_MAP_CREATE"),
    (1, "BPF_MAP_LOOKUP_ELEM"),
    (2, "BPF_MAP_UPDATE_ELEM"),
    (3, "BPF_MAP_DELETE_ELEM"),
    (4, "BPF_MAP_GET_NEXT_KEY"),
    (5, "BPF_PROG_LOAD"),
    (6, "BPF_OBJ_PIN"),
    (7, "BPF_OBJ_GET"),
    (8, "BPF_PROG_ATTACH"),
    (9, "BPF_PROG_DETACH"),
    (10, "BPF_PROG_TEST_RUN"),
    (11, "BPF_PROG_GET_NEXT_ID"),
    (12, "BPF_MAP_GET_NEXT_ID"),
    (13, "BPF_PROG_GET_FD_BY_ID"),
    (14, "BPF_MAP_GET_FD_BY_ID"),
    (15, "BPF_OBJ_GET_INFO_BY_FD"),
    (16, "BPF_PROG_QUERY"),
    (17, "BPF_RAW_TRACEPOINT_OPEN"),
    (18, "BPF_BTF_LOAD"),
    (19, "BPF_BTF_GET_FD_BY_ID"),
    (20, "BPF_TASK_FD_QUERY"),
    (21, "BPF_MAP_LOOKUP_AND_DELETE_ELEM"),
    (22, "BPF_MAP_FREEZE"),
    (23, "BPF_BTF_GET_NEXT_ID"),
    (24, "BPF_MAP_LOOKUP_BATCH"),
    (25, "BPF_MAP_LOOKUP_AND_DELETE_BATCH"),
    (26, "BPF_MAP_UPDATE_BATCH"),
    (27, "BPF_MAP_DELETE_BATCH"),
    (28, "BPF_LINK_CREATE"),
    (29, "BPF_LINK_UPDATE"),
    (30, "BPF_LINK_GET_FD_BY_ID"),
    (31, "BPF_LINK_GET_NEXT_ID"),
    (32, "BPF_ENABLE_STATS"),
    (33, "BPF_ITER_CREATE"),
    (34, "BPF_LINK_DETACH"),
    (35, "BPF_PROG_BIND_MAP"),
    (36, "BPF_TOKEN_CREATE"),
    (37, "BPF_PROG_STREAM_READ_BY_FD"),
    (38, "BPF_PROG_ASSOC_STRUCT_OPS"),
];

/// keyctl's commands (uapi linux/keyctl.h), numbered from 0.
const KEYCTL_COMMANDS: flags::Xlat = &[
    (0, "KEYCTL_GET_KEYRING_ID"),
    (1, "KEYCTL_JOIN_SESSION_KEYRING"),
    (2, "KEYCTL_UPDATE"),
    (3, "KEYCTL_REVOKE"),
    (4, "KEYCTL_CHOWN"),
    (5, "KEYCTL_SETPERM"),
    (6, "KEYCTL_DESCRIBE"),
    (7, "KEYCTL_CLEAR"),
    (8, "KEYCTL_LINK"),
    (9, "KEYCTL_UNLINK"),
    (10, "KEYCTL_SEARCH"),
    (11, "KEYCTL_READ"),
    (12, "KEYCTL_INSTANTIATE"),
    (13, "KEYCTL_NEGATE"),
    (14, "KEYCTL_SET_REQKEY_KEYRING"),
    (15, "KEYCTL_SET_TIMEOUT"),
    (16, "KEYCTL_ASSUME_AUTHORITY"),
    (17, "KEYCTL_GET_SECURITY"),
    (18, "KEYCTL_SESSION_TO_PARENT"),
    (19, "KEYCTL_REJECT"),
    (20, "KEYCTL_INSTANTIATE_IOV"),
    (21, "KEYCTL_INVALIDATE"),
    (22, "KEYCTL_GET_PERSISTENT"),
    (23, "KEYCTL_DH_COMPUTE"),
    (24, "KEYCTL_PKEY_QUERY"),
    (25, "KEYCTL_PKEY_ENCRYPT"),
    (26, "KEYCTL_PKEY_DECRYPT"),
    (27, "KEYCTL_PKEY_SIGN"),
    (28, "KEYCTL_PKEY_VERIFY"),
    (29, "KEYCTL_RESTRICT_KEYRING"),
    (30, "KEYCTL_MOVE"),
    (31, "KEYCTL_CAPABILITIES"),
    (32, "KEYCTL_WATCH_KEY"),
];

/// The special keyrings (uapi linux/keyctl.h), -1 to -8 as an int's bits.
const KEY_SPECS: flags::Xlat = &[
    (0xffff_ffff, "KEY_SPEC_THREAD_KEYRING"),
    (0xffff_fffe, "KEY_SPEC_PROCESS_KEYRING"),
    (0xffff_fffd, "KEY_SPEC_SESSION_KEYRING"),
    (0xffff_fffc, "KEY_SPEC_USER_KEYRING"),
    (0xffff_fffb, "KEY_SPEC_USER_SESSION_KEYRING"),
    (0xffff_fffa, "KEY_SPEC_GROUP_KEYRING"),
    (0xffff_fff9, "KEY_SPEC_REQKEY_AUTH_KEY"),
    (0xffff_fff8, "KEY_SPEC_REQUESTOR_KEYRING"),
];

/// A key serial number: its special keyring's name, else the number.
fn key_serial(id: i32) -> String {
    flags::xval(KEY_SPECS, u64::from(id as u32)).map_or_else(|| id.to_string(), str::to_owned)
}

/// capget/capset's header versions (uapi linux/capability.h).
const CAP_VERSIONS: flags::Xlat = &[
    (0x1998_0330, "_LINUX_CAPABILITY_VERSION_1"),
    (0x2007_1026, "_LINUX_CAPABILITY_VERSION_2"),
    (0x2008_0522, "_LINUX_CAPABILITY_VERSION_3"),
];

/// `{version=_LINUX_CAPABILITY_VERSION_3, pid=0}`.
fn cap_header_text(b: &[u8]) -> Option<String> {
    let version = structs::read::<u32>(b)?;
    let pid = structs::read::<i32>(b.get(4..)?)?;
    let version = flags::xval_or_unknown(
        CAP_VERSIONS,
        version.into(),
        "_LINUX_CAPABILITY_VERSION_???",
    );
    Some(format!("{{version={version}, pid={pid}}}"))
}

/// One 32-bit word of a capability set: `1<<CAP_CHOWN|1<<CAP_KILL`, the
/// capabilities from `first` on (strace's cap_mask0 and cap_mask1).
fn cap_bits(out: &mut String, word: u32, first: u64) {
    let mut left = word;
    for &(cap, name) in flags::CAPABILITIES {
        let Some(bit) = cap.checked_sub(first).filter(|&b| b < 32) else {
            continue;
        };
        if left & (1 << bit) != 0 {
            left &= !(1 << bit);
            if !out.is_empty() {
                out.push('|');
            }
            out.push_str("1<<");
            out.push_str(name);
        }
    }
    if left != 0 && out.is_empty() {
        out.push_str(&format!("{left:#x} /* CAP_??? */"));
    } else if left != 0 {
        out.push_str(&format!("|{left:#x}"));
    }
}

/// `{effective=..., permitted=..., inheritable=0}`: the version's number
/// of 32-bit words (1 for version 1, else 2) of each set.
fn cap_data_text(b: &[u8], header: &[u8]) -> Option<String> {
    let words = match structs::read::<u32>(header)? {
        0x1998_0330 => 1,
        0x2007_1026 | 0x2008_0522 => 2,
        _ => return None,
    };
    let word = |elem: usize, field: usize| structs::read::<u32>(b.get(elem * 12 + field * 4..)?);
    let mut out = String::from("{");
    for (field, name) in ["effective", "permitted", "inheritable"].iter().enumerate() {
        let lo = word(0, field)?;
        let hi = if words == 2 { word(1, field)? } else { 0 };
        let mut set = String::new();
        if lo != 0 || hi == 0 {
            cap_bits(&mut set, lo, 0);
        }
        if hi != 0 {
            let mut high = String::new();
            cap_bits(&mut high, hi, 32);
            if !set.is_empty() {
                set.push('|');
            }
            set.push_str(&high);
        }
        if set.is_empty() {
            set.push('0');
        }
        if field > 0 {
            out.push_str(", ");
        }
        out.push_str(&format!("{name}={set}"));
    }
    out.push('}');
    Some(out)
}

/// seccomp's operations, its filter's flags and the actions a filter
/// returns (uapi linux/seccomp.h).
const SECCOMP_OPS: flags::Xlat = &[
    (0, "SECCOMP_SET_MODE_STRICT"),
    (1, "SECCOMP_SET_MODE_FILTER"),
    (2, "SECCOMP_GET_ACTION_AVAIL"),
    (3, "SECCOMP_GET_NOTIF_SIZES"),
];
const SECCOMP_FILTER_FLAGS: flags::Xlat = &[
    (1, "SECCOMP_FILTER_FLAG_TSYNC"),
    (2, "SECCOMP_FILTER_FLAG_LOG"),
    (4, "SECCOMP_FILTER_FLAG_SPEC_ALLOW"),
    (8, "SECCOMP_FILTER_FLAG_NEW_LISTENER"),
    (16, "SECCOMP_FILTER_FLAG_TSYNC_ESRCH"),
    (32, "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"),
];
const SECCOMP_RET_ACTIONS: flags::Xlat = &[
    (0x8000_0000, "SECCOMP_RET_KILL_PROCESS"),
    (0, "SECCOMP_RET_KILL_THREAD"),
    (0x0003_0000, "SECCOMP_RET_TRAP"),
    (0x0005_0000, "SECCOMP_RET_ERRNO"),
    (0x7fc0_0000, "SECCOMP_RET_USER_NOTIF"),
    (0x7ff0_0000, "SECCOMP_RET_TRACE"),
    (0x7ffc_0000, "SECCOMP_RET_LOG"),
    (0x7fff_0000, "SECCOMP_RET_ALLOW"),
];

/// kcmp's types (uapi linux/kcmp.h): the two indexes mean something only
/// for KCMP_FILE (fds) and KCMP_EPOLL_TFD (an fd and a slot).
const KCMP_TYPES: flags::Xlat = &[
    (0, "KCMP_FILE"),
    (1, "KCMP_VM"),
    (2, "KCMP_FILES"),
    (3, "KCMP_FS"),
    (4, "KCMP_SIGHAND"),
    (5, "KCMP_IO"),
    (6, "KCMP_SYSVSEM"),
    (7, "KCMP_EPOLL_TFD"),
];

const LANDLOCK_CREATE_RULESET_FLAGS: flags::Xlat = &[(1, "LANDLOCK_CREATE_RULESET_VERSION")];

pub(super) fn decode<'c, 'a>(syscall: &str, c: &mut Ctx<'c, 'a>) -> Option<Decoded> {
    Some(match syscall {
        // The ids the call wrote, each `[0]`.
        "getresuid" | "getresgid" => {
            for i in 0..3 {
                c.push_exit(c.t_out_struct(i, |b| {
                    structs::read::<u32>(b).map(|id| match id {
                        u32::MAX => "[-1]".to_owned(),
                        id => format!("[{id}]"),
                    })
                }));
            }
            c.finish(Decimal, false)
        }
        "sched_get_priority_min" | "sched_get_priority_max" => {
            c.push(c.t_xval(0, flags::SCHED_POLICIES, "SCHED_???"));
            c.finish(Decimal, true)
        }
        "sched_getattr" => {
            c.push(c.t_int(0));
            c.push_exit(c.t_out_struct(1, structs::sched_attr_text));
            c.push_exit(c.t_uint(2));
            c.push_exit(c.t_uint(3));
            c.finish(Decimal, false)
        }
        "sched_setattr" => {
            c.push(c.t_int(0));
            c.push(c.t_struct(1, structs::sched_attr_text));
            c.push(c.t_uint(2));
            c.finish(Decimal, true)
        }
        "capget" | "capset" => {
            c.push(c.t_struct(0, cap_header_text));
            let header = c.captured(0).map(|h| h.bytes).unwrap_or_default();
            let data = |b: &[u8]| cap_data_text(b, header);
            if syscall == "capset" {
                c.push(c.t_struct(1, data));
                return Some(c.finish(Decimal, true));
            }
            c.push_exit(c.t_out_struct(1, data));
            c.finish(Decimal, false)
        }
        // What uargs holds depends on the operation (strace's seccomp.c).
        "seccomp" => {
            let op = c.uint(0);
            c.push(c.t_xval(0, SECCOMP_OPS, "SECCOMP_SET_MODE_???"));
            match op {
                1 => {
                    c.push(c.t_uflags_or_unknown(
                        1,
                        SECCOMP_FILTER_FLAGS,
                        "SECCOMP_FILTER_FLAG_???",
                    ));
                    c.push(c.t_struct(2, structs::sock_fprog_text));
                }
                2 => {
                    c.push(c.t_hex(1));
                    c.push(c.t_struct(2, |b| {
                        let action = structs::read::<u32>(b)?;
                        let name = flags::xval_or_unknown(
                            SECCOMP_RET_ACTIONS,
                            action.into(),
                            "SECCOMP_RET_???",
                        );
                        Some(format!("[{name}]"))
                    }));
                }
                3 => {
                    c.push(c.t_hex(1));
                    c.push_exit(c.t_out_struct(2, |b| {
                        let size = |i: usize| structs::read::<u16>(b.get(2 * i..)?);
                        Some(format!(
                            "{{seccomp_notif={}, seccomp_notif_resp={}, seccomp_data={}}}",
                            size(0)?,
                            size(1)?,
                            size(2)?
                        ))
                    }));
                    return Some(c.finish(Decimal, false));
                }
                _ => {
                    c.push(c.t_hex(1));
                    c.push(c.t_ptr(2));
                }
            }
            c.finish(Decimal, true)
        }
        "kcmp" => {
            c.push(c.t_int(0));
            c.push(c.t_int(1));
            c.push(c.t_xval(2, KCMP_TYPES, "KCMP_???"));
            match c.uint(2) {
                0 => {
                    c.push(c.t_int(3));
                    c.push(c.t_int(4));
                }
                1..=6 => {}
                // KCMP_EPOLL_TFD's slot is a structure: its address.
                7 => {
                    c.push(c.t_int(3));
                    c.push(c.t_ptr(4));
                }
                _ => {
                    c.push(c.t_hex(3));
                    c.push(c.t_hex(4));
                }
            }
            c.finish(Decimal, true)
        }
        "membarrier" => {
            let cmd = c.uint(0);
            c.push(c.t_xval(0, MEMBARRIER_CMDS, "MEMBARRIER_CMD_???"));
            let fl = c.uint(1);
            c.push(flags::flags_or_unknown(
                MEMBARRIER_FLAGS,
                fl,
                "MEMBARRIER_CMD_FLAG_???",
            ));
            if fl & MEMBARRIER_CMD_FLAG_CPU != 0 {
                c.push(c.t_int(2));
            }
            // QUERY returns the commands this kernel has.
            if cmd == 0 {
                if let Some(n) = c.ok().filter(|&n| n != 0) {
                    c.note(flags::flags(MEMBARRIER_CMDS, n as u64));
                }
                return Some(c.finish(RetStyle::Hex, true));
            }
            c.finish(Decimal, true)
        }
        "ioprio_get" | "ioprio_set" => {
            c.push(c.t_xval(0, IOPRIO_WHO, "IOPRIO_WHO_???"));
            c.push(c.t_int(1));
            if syscall == "ioprio_set" {
                c.push(ioprio_text(c.uint(2)));
            } else if let Some(n) = c.ok() {
                c.note(ioprio_text(n as u64));
            }
            c.finish(Decimal, true)
        }
        // What follows the action depends on it (strace's syslog.c).
        "syslog" => {
            let action = c.int(0);
            c.push(number_named(action, SYSLOG_ACTIONS, "SYSLOG_ACTION_???"));
            match action {
                0 | 1 | 5 | 6 | 7 | 9 | 10 => c.finish(Decimal, true),
                // The messages read.
                2..=4 => {
                    c.push_exit(c.t_out_buf(1, false));
                    c.push_exit(c.t_int(2));
                    c.finish(Decimal, false)
                }
                8 => {
                    c.push(c.t_ptr(1));
                    c.push(number_named(c.int(2), LOGLEVELS, "LOGLEVEL_???"));
                    c.finish(Decimal, true)
                }
                _ => {
                    c.push(c.t_ptr(1));
                    c.push(c.t_int(2));
                    c.finish(Decimal, true)
                }
            }
        }
        "landlock_create_ruleset" => {
            c.push(c.t_ptr(0));
            c.push(c.t_ulong(1));
            c.push(c.t_uflags_or_unknown(
                2,
                LANDLOCK_CREATE_RULESET_FLAGS,
                "LANDLOCK_CREATE_RULESET_???",
            ));
            c.finish(Decimal, true)
        }
        // The signals pending, once the call wrote them.
        "rt_sigpending" => {
            c.push_exit(match c.ok() {
                Some(_) => c.t_sigset(0),
                None => c.t_ptr(0),
            });
            c.push_exit(c.t_ulong(1));
            c.finish(Decimal, false)
        }
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
            c.push_exit(c.t_out_struct(1, |b| structs::rusage_text(b, c.opts.abbrev)));
            c.finish(Decimal, false)
        }
        "times" => {
            c.push_exit(c.t_out_struct(0, structs::tms_text));
            c.finish(Decimal, false)
        }
        "select" | "pselect6" => return Some(decode_select(syscall, c)),
        "ptrace" => return Some(decode_ptrace(c)),
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
            let limit = c.opts.array_size();
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
            let limit = c.opts.array_size();
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
            c.push_exit(c.t_out_struct(4, |b| structs::rusage_text(b, c.opts.abbrev)));
            c.finish(Decimal, false)
        }
        "rt_sigqueueinfo" | "rt_tgsigqueueinfo" => {
            let sig = if syscall == "rt_sigqueueinfo" { 1 } else { 2 };
            for i in 0..sig {
                c.push(c.t_int(i));
            }
            c.push(c.t_signal(sig));
            c.push(c.t_struct(sig + 1, siginfo_text));
            c.finish(Decimal, true)
        }
        "pidfd_open" => {
            c.push(c.t_int(0));
            c.push(c.t_uflags_or_unknown(1, flags::PIDFD_OPEN_FLAGS, "PIDFD_???"));
            c.finish(Decimal, true)
        }
        "pidfd_send_signal" => {
            c.push(c.t_int(0));
            c.push(c.t_signal(1));
            c.push(c.t_struct(2, siginfo_text));
            c.push(flags::hex(c.uint(3)));
            c.finish(Decimal, true)
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
        "perf_event_open" => {
            // Printed at exit, as strace prints it (it reads the size the
            // kernel wrote back on E2BIG).
            let e2big = c.ret == Some(-i64::from(libc::E2BIG));
            let after = c.captured(0).and_then(|a| a.after);
            c.push_exit(c.t_struct(0, |b| structs::perf_event_attr_text(b, after, e2big)));
            c.push_exit(c.t_int(1));
            c.push_exit(c.t_int(2));
            c.push_exit(c.t_int(3));
            c.push_exit(c.t_uflags_or_unknown(4, flags::PERF_EVENT_OPEN_FLAGS, "PERF_FLAG_???"));
            c.finish(Decimal, false)
        }
        // The command and its attr, for the commands strace decodes that
        // are decoded here (structs::bpf); the others' address.
        "bpf" => {
            c.push(c.t_xval(0, BPF_COMMANDS, "BPF_???"));
            let attr = c.captured(1).filter(|_| c.raw(1) != 0).and_then(|a| {
                structs::bpf_attr_text(
                    c.uint(0) & 0xffff_ffff,
                    a.bytes,
                    c.uint(2) & 0xffff_ffff,
                    a.after,
                    a.attr_strings,
                    c.opts,
                )
            });
            match attr {
                Some(structs::BpfAttr { entry, tail: None }) => c.push(entry),
                Some(structs::BpfAttr {
                    entry,
                    tail: Some(tail),
                }) => {
                    // The rest of the attr is the exit's (a value written back).
                    c.push_with_tail(entry, tail);
                    c.push_exit(c.t_uint(2));
                    return Some(c.finish(Decimal, false));
                }
                None => c.push(c.t_ptr(1)),
            }
            c.push(c.t_uint(2));
            c.finish(Decimal, true)
        }
        "keyctl" => {
            let op = c.uint(0);
            c.push(flags::xval_or_unknown(KEYCTL_COMMANDS, op, "KEYCTL_???"));
            let cmd = flags::xval(KEYCTL_COMMANDS, op);
            let key = |c: &Ctx, i: usize| key_serial(c.int(i) as i32);
            match cmd.unwrap_or_default() {
                "KEYCTL_GET_KEYRING_ID" => {
                    c.push(key(c, 1));
                    c.push(c.t_int(2)); // create
                }
                "KEYCTL_GET_PERSISTENT" => {
                    c.push(c.t_int(1)); // uid
                    c.push(key(c, 2));
                }
                "KEYCTL_REVOKE"
                | "KEYCTL_CLEAR"
                | "KEYCTL_ASSUME_AUTHORITY"
                | "KEYCTL_INVALIDATE" => c.push(key(c, 1)),
                "KEYCTL_LINK" | "KEYCTL_UNLINK" => {
                    c.push(key(c, 1));
                    c.push(key(c, 2)); // the keyring
                }
                "KEYCTL_SET_TIMEOUT" => {
                    c.push(key(c, 1));
                    c.push(c.t_uint(2)); // seconds
                }
                "KEYCTL_JOIN_SESSION_KEYRING" => c.push(c.t_string(1)),
                "KEYCTL_SESSION_TO_PARENT" => {}
                // What they write is not read (a buffer shows as its
                // address; NULL asks for the size).
                "KEYCTL_DESCRIBE" | "KEYCTL_READ" | "KEYCTL_GET_SECURITY" => {
                    c.push(key(c, 1));
                    c.push_exit(c.t_ptr(2));
                    c.push_exit(c.t_ulong(3));
                    return Some(c.finish(Decimal, false));
                }
                // The others' pointers are not read: their raw values, as
                // strace prints commands it does not know.
                _ => (1..5).for_each(|i| c.push(c.t_hex(i))),
            }
            c.finish(Decimal, true)
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
        // Each call's own commands (strace's shmctl_flags, msgctl_flags,
        // semctl_flags), and the structure a command reads (IPC_SET's) or
        // writes (the STATs' and INFOs': at exit, when it succeeded).
        "shmctl" | "msgctl" | "semctl" => {
            let (table, unknown, cmd) = match syscall {
                "shmctl" => (flags::SHMCTL_CMDS, "SHM_???", 1),
                "msgctl" => (flags::MSGCTL_CMDS, "MSG_???", 1),
                _ => (flags::SEMCTL_CMDS, "SEM_???", 2),
            };
            c.push(c.t_int(0));
            if cmd == 2 {
                c.push(c.t_int(1));
            }
            c.push(ipc_cmd(c.raw(cmd), table, unknown));
            let buf = cmd + 1;
            match structs::IpcArg::of(syscall, c.raw(cmd)) {
                Some(arg @ structs::IpcArg::Set) => {
                    c.push(c.t_struct(buf, |b| structs::ipc_ctl_text(syscall, arg, b)));
                }
                Some(arg) => {
                    c.push_exit(c.t_out_struct(buf, |b| structs::ipc_ctl_text(syscall, arg, b)));
                    return Some(c.finish(Decimal, false));
                }
                None => c.push(c.t_ptr(buf)),
            }
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
        "mq_open" => {
            let oflag = c.uint(1) & 0xffff_ffff;
            c.push(c.t_path(0));
            c.push(flags::open_flags(oflag));
            // The mode and attributes only with O_CREAT, as strace.
            if oflag & libc::O_CREAT as u64 != 0 {
                c.push(c.t_mode(2));
                c.push(c.t_struct(3, |b| mq_attr_text(b, false)));
            }
            c.finish(Decimal, true)
        }
        "mq_timedsend" => {
            let len = c.raw(2);
            c.push(c.t_int(0));
            c.push(c.t_buf(1, len, false));
            c.push(c.t_ulong(2));
            c.push(c.t_uint(3));
            c.push(c.t_struct(4, structs::timespec_text));
            c.finish(Decimal, true)
        }
        "mq_timedreceive" => {
            c.push(c.t_int(0));
            c.push_exit(c.t_out_buf(1, false));
            c.push_exit(c.t_ulong(2));
            c.push_exit(c.t_out_struct(3, |b| structs::read::<u32>(b).map(|p| format!("[{p}]"))));
            // Read at enter by the kernel: shown whether the call failed or not.
            c.push_exit(c.t_struct(4, structs::timespec_text));
            c.finish(Decimal, false)
        }
        "mq_notify" => {
            c.push(c.t_int(0));
            c.push(c.t_struct(1, structs::sigevent_text));
            c.finish(Decimal, true)
        }
        "mq_getsetattr" => {
            c.push(c.t_int(0));
            c.push(c.t_struct(1, |b| mq_attr_text(b, true)));
            c.push_exit(c.t_out_struct(2, |b| mq_attr_text(b, true)));
            c.finish(Decimal, false)
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
            let text = c.t_struct(0, structs::clone_args_text);
            let bytes = c.captured(0).map_or(&[][..], |a| a.bytes);
            if !structs::clone_args_written_back(bytes) {
                c.push(text);
                c.push(c.t_ulong(1));
                return Some(c.finish(Decimal, true));
            }
            // The child's tid is written to parent_tid: the value returned.
            // (A pidfd written back is not read: strace's ` => {pidfd=[N]}`
            // is left out.)
            let mut tail = String::new();
            if let Some(tid) = c
                .ok()
                .filter(|&t| t > 0 && structs::clone_args_sets_parent_tid(bytes))
            {
                tail = format!(" => {{parent_tid=[{tid}]}}");
            }
            c.push_with_tail(text, tail);
            c.push_exit(c.t_ulong(1));
            c.finish(Decimal, false)
        }
        _ => return None,
    })
}

/// `select(4, [3], [], NULL, {tv_sec=1, tv_usec=0}) = 1 (in [3], left {...})`.
fn decode_select(syscall: &str, c: &mut Ctx<'_, '_>) -> Decoded {
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
        c.push(c.t_list(5, |items, _, _| structs::sigmask_pair_text(items)));
    }
    match c.ok() {
        Some(0) => c.note("Timeout".to_owned()),
        Some(_) => {
            let mut parts = Vec::new();
            for (i, what) in [(1, "in"), (2, "out"), (3, "except")] {
                // The sets that are ready: shown whether or not the call is
                // verbose (strace reads them apart from its structures).
                let Some(after) = c
                    .captured_text(i)
                    .filter(|_| c.raw(i) != 0)
                    .and_then(|a| a.after)
                else {
                    continue;
                };
                if !structs::fd_set_text(after, n).eq("[]") {
                    parts.push(format!("{what} {}", structs::fd_set_text(after, n)));
                }
            }
            if !c.opts.verbose && c.raw(4) != 0 {
                parts.push(format!("left {}", c.t_ptr(4)));
            } else if let Some(left) = c
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

/// ptrace's requests of every architecture (asm-generic's).
const PTRACE_REQUESTS: flags::Xlat = &[
    (libc::PTRACE_TRACEME as u64, "PTRACE_TRACEME"),
    (libc::PTRACE_PEEKTEXT as u64, "PTRACE_PEEKTEXT"),
    (libc::PTRACE_PEEKDATA as u64, "PTRACE_PEEKDATA"),
    (libc::PTRACE_PEEKUSER as u64, "PTRACE_PEEKUSER"),
    (libc::PTRACE_POKETEXT as u64, "PTRACE_POKETEXT"),
    (libc::PTRACE_POKEDATA as u64, "PTRACE_POKEDATA"),
    (libc::PTRACE_POKEUSER as u64, "PTRACE_POKEUSER"),
    (libc::PTRACE_CONT as u64, "PTRACE_CONT"),
    (libc::PTRACE_KILL as u64, "PTRACE_KILL"),
    (libc::PTRACE_SINGLESTEP as u64, "PTRACE_SINGLESTEP"),
    (libc::PTRACE_ATTACH as u64, "PTRACE_ATTACH"),
    (libc::PTRACE_DETACH as u64, "PTRACE_DETACH"),
    (libc::PTRACE_SYSCALL as u64, "PTRACE_SYSCALL"),
    (libc::PTRACE_SETOPTIONS as u64, "PTRACE_SETOPTIONS"),
    (libc::PTRACE_GETEVENTMSG as u64, "PTRACE_GETEVENTMSG"),
    (libc::PTRACE_GETSIGINFO as u64, "PTRACE_GETSIGINFO"),
    (libc::PTRACE_SETSIGINFO as u64, "PTRACE_SETSIGINFO"),
    (libc::PTRACE_GETREGSET as u64, "PTRACE_GETREGSET"),
    (libc::PTRACE_SETREGSET as u64, "PTRACE_SETREGSET"),
    (libc::PTRACE_SEIZE as u64, "PTRACE_SEIZE"),
    (libc::PTRACE_INTERRUPT as u64, "PTRACE_INTERRUPT"),
    (libc::PTRACE_LISTEN as u64, "PTRACE_LISTEN"),
    (libc::PTRACE_PEEKSIGINFO as u64, "PTRACE_PEEKSIGINFO"),
    // linux/ptrace.h's, which not every libc target of the crate defines.
    (0x420a, "PTRACE_GETSIGMASK"),
    (0x420b, "PTRACE_SETSIGMASK"),
    (0x420c, "PTRACE_SECCOMP_GET_FILTER"),
    (0x420d, "PTRACE_SECCOMP_GET_METADATA"),
    (0x420e, "PTRACE_GET_SYSCALL_INFO"),
    (0x420f, "PTRACE_GET_RSEQ_CONFIGURATION"),
    (0x4210, "PTRACE_SET_SYSCALL_USER_DISPATCH_CONFIG"),
    (0x4211, "PTRACE_GET_SYSCALL_USER_DISPATCH_CONFIG"),
];

/// x86's own (asm/ptrace-abi.h).
#[cfg(target_arch = "x86_64")]
const PTRACE_ARCH_REQUESTS: flags::Xlat = &[
    (12, "PTRACE_GETREGS"),
    (13, "PTRACE_SETREGS"),
    (14, "PTRACE_GETFPREGS"),
    (15, "PTRACE_SETFPREGS"),
    (18, "PTRACE_GETFPXREGS"),
    (19, "PTRACE_SETFPXREGS"),
    (21, "PTRACE_OLDSETOPTIONS"),
    (25, "PTRACE_GET_THREAD_AREA"),
    (26, "PTRACE_SET_THREAD_AREA"),
    (30, "PTRACE_ARCH_PRCTL"),
    (31, "PTRACE_SYSEMU"),
    (32, "PTRACE_SYSEMU_SINGLESTEP"),
    (33, "PTRACE_SINGLEBLOCK"),
];
#[cfg(not(target_arch = "x86_64"))]
const PTRACE_ARCH_REQUESTS: flags::Xlat = &[];

/// ptrace as strace's process.c prints it at enter: the request, the pid,
/// the address and data where the request uses them (a register set's
/// NT_ type, a signal to resume with, options). What a request writes back
/// (PTRACE_PEEKDATA's word, PTRACE_GETREGSET's iovec,
/// PTRACE_GET_SYSCALL_INFO's structure) shows as the address it went to.
fn decode_ptrace(c: &mut Ctx<'_, '_>) -> Decoded {
    let request = c.raw(0);
    let name = flags::xval(PTRACE_REQUESTS, request)
        .or_else(|| flags::xval(PTRACE_ARCH_REQUESTS, request));
    c.push(match name {
        Some(name) => name.to_owned(),
        None => format!("{} /* PTRACE_??? */", flags::hex(request)),
    });
    let name = name.unwrap_or("");
    if name == "PTRACE_TRACEME" {
        return c.finish(RetStyle::Decimal, true);
    }
    c.push(c.t_int(1));
    if matches!(
        name,
        "PTRACE_ATTACH" | "PTRACE_INTERRUPT" | "PTRACE_KILL" | "PTRACE_LISTEN"
    ) {
        return c.finish(RetStyle::Decimal, true);
    }
    let addr = c.raw(2);
    c.push(match name {
        // strace's names of 2 and 4 (the header's NT_PRFPREG, NT_TASKSTRUCT).
        "PTRACE_GETREGSET" | "PTRACE_SETREGSET" => match addr {
            2 => "NT_FPREGSET".to_owned(),
            4 => "NT_PRXREG".to_owned(),
            _ => flags::xval_or_unknown(flags::NT_TYPES, addr, "NT_???"),
        },
        "PTRACE_GETSIGMASK"
        | "PTRACE_SETSIGMASK"
        | "PTRACE_SECCOMP_GET_FILTER"
        | "PTRACE_SECCOMP_GET_METADATA"
        | "PTRACE_GET_SYSCALL_INFO"
        | "PTRACE_GET_RSEQ_CONFIGURATION"
        | "PTRACE_SET_SYSCALL_USER_DISPATCH_CONFIG"
        | "PTRACE_GET_SYSCALL_USER_DISPATCH_CONFIG" => addr.to_string(),
        _ => c.t_ptr(2),
    });
    c.push(match name {
        "PTRACE_CONT"
        | "PTRACE_DETACH"
        | "PTRACE_SYSCALL"
        | "PTRACE_SINGLESTEP"
        | "PTRACE_SINGLEBLOCK"
        | "PTRACE_SYSEMU"
        | "PTRACE_SYSEMU_SINGLESTEP" => match c.raw(3) {
            0 => "0".to_owned(),
            _ => c.t_signal(3),
        },
        "PTRACE_SEIZE" | "PTRACE_SETOPTIONS" | "PTRACE_OLDSETOPTIONS" => {
            c.t_flags_or_unknown(3, flags::PTRACE_OPTIONS, "PTRACE_O_???")
        }
        _ => c.t_ptr(3),
    });
    c.finish(RetStyle::Decimal, true)
}
