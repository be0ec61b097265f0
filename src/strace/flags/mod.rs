//! Constant and flag names as strace prints them. Values come from the
//! `libc` crate; the few constants it lacks are defined here from the
//! kernel's uapi headers and say so. The order of each flag table is the
//! order strace prints the names in (its xlat tables), not always the order
//! of the values: `O_RDONLY|O_NONBLOCK|O_CLOEXEC`, `R_OK|X_OK`.
use std::fmt::Write;

/// (value, name) pairs. A zero value names the "no flag" case.
pub type Xlat = &'static [(u64, &'static str)];

macro_rules! xlat {
    ($($name:ident),* $(,)?) => {
        &[$(($crate::strace::flags::unsigned!(libc::$name), stringify!($name))),*]
    };
}

/// A libc constant as the unsigned value of its own width: an `int` with
/// its top bit set (EPOLLET, CLONE_IO) is 0x80000000, as a register or a
/// structure's field holds it, not sign-extended to 64 bits.
macro_rules! unsigned {
    ($value:expr) => {
        ($value as u64) & (u64::MAX >> (64 - 8 * ::core::mem::size_of_val(&$value)))
    };
}
pub(crate) use unsigned;

mod generated;
mod ioctl;
mod net;
mod structs;

pub use generated::xlat::*;
pub use ioctl::ioctl_name;
pub use net::*;
pub use structs::*;

/// `A|B|0x40`: the names of the set flags in table order, then what is left
/// in hex; `0` (or the table's zero name) when nothing is set.
pub fn flags(table: Xlat, value: u64) -> String {
    let mut out = String::new();
    push_flags(&mut out, table, value);
    out
}

pub fn push_flags(out: &mut String, table: Xlat, value: u64) {
    if value == 0 {
        match table.iter().find(|(v, _)| *v == 0) {
            Some((_, name)) => out.push_str(name),
            None => out.push('0'),
        }
        return;
    }
    let mut left = value;
    let mut first = true;
    for &(bits, name) in table {
        if bits != 0 && left & bits == bits {
            if !first {
                out.push('|');
            }
            out.push_str(name);
            first = false;
            left &= !bits;
        }
    }
    if left != 0 {
        if !first {
            out.push('|');
        }
        let _ = write!(out, "{left:#x}");
    }
}

/// The name of a value, or None.
pub fn xval(table: Xlat, value: u64) -> Option<&'static str> {
    table.iter().find(|(v, _)| *v == value).map(|(_, n)| *n)
}

/// The name of a value, or the value in hex followed by strace's comment
/// `/* PREFIX_??? */`.
pub fn xval_or_unknown(table: Xlat, value: u64, unknown: &str) -> String {
    xval(table, value).map_or_else(|| format!("{} /* {unknown} */", hex(value)), str::to_owned)
}

/// [`flags`], or `0x100 /* LOCK_??? */` when no bit of `value` has a name
/// (strace's printflags with a default).
pub fn flags_or_unknown(table: Xlat, value: u64, unknown: &str) -> String {
    if value != 0
        && table
            .iter()
            .all(|&(bits, _)| bits == 0 || value & bits != bits)
    {
        return format!("{} /* {unknown} */", hex(value));
    }
    flags(table, value)
}

/// strace's hex: `0` for zero, else `0x...`.
pub fn hex(value: u64) -> String {
    if value == 0 {
        "0".to_owned()
    } else {
        format!("{value:#x}")
    }
}

// The kernel's O_LARGEFILE: 0 in 64-bit userspace headers (and so in
// libc), yet the kernel sets it on every 64-bit open and F_GETFL shows it
// (include/uapi/asm-generic/fcntl.h, arch/arm64/include/uapi/asm/fcntl.h).
#[cfg(target_arch = "aarch64")]
const KERNEL_O_LARGEFILE: u64 = 0o400000;
#[cfg(not(target_arch = "aarch64"))]
const KERNEL_O_LARGEFILE: u64 = 0o100000;

pub const OPEN_ACCESS: Xlat = xlat![O_RDONLY, O_WRONLY, O_RDWR];

pub static OPEN_FLAGS: Xlat = &[
    (libc::O_CREAT as u64, "O_CREAT"),
    (libc::O_EXCL as u64, "O_EXCL"),
    (libc::O_NOCTTY as u64, "O_NOCTTY"),
    (libc::O_TRUNC as u64, "O_TRUNC"),
    (libc::O_APPEND as u64, "O_APPEND"),
    (libc::O_NONBLOCK as u64, "O_NONBLOCK"),
    // O_SYNC contains O_DSYNC's bit: named first, it takes both.
    (libc::O_SYNC as u64, "O_SYNC"),
    (libc::O_DSYNC as u64, "O_DSYNC"),
    (libc::O_DIRECT as u64, "O_DIRECT"),
    (KERNEL_O_LARGEFILE, "O_LARGEFILE"),
    (libc::O_NOFOLLOW as u64, "O_NOFOLLOW"),
    (libc::O_NOATIME as u64, "O_NOATIME"),
    (libc::O_CLOEXEC as u64, "O_CLOEXEC"),
    (libc::O_PATH as u64, "O_PATH"),
    // O_TMPFILE contains O_DIRECTORY's bit.
    (libc::O_TMPFILE as u64, "O_TMPFILE"),
    (libc::O_DIRECTORY as u64, "O_DIRECTORY"),
    (libc::O_ASYNC as u64, "FASYNC"),
];

/// `O_WRONLY|O_CREAT|O_TRUNC`: open()'s flags, the access mode first.
pub fn open_flags(value: u64) -> String {
    let mode = value & libc::O_ACCMODE as u64;
    let mut out = match xval(OPEN_ACCESS, mode) {
        Some(name) => name.to_owned(),
        None => format!("{mode:#o}"),
    };
    let rest = value & !(libc::O_ACCMODE as u64);
    if rest != 0 {
        out.push('|');
        push_flags(&mut out, OPEN_FLAGS, rest);
    }
    out
}

/// open() and openat() take a mode only with O_CREAT or O_TMPFILE.
pub fn open_has_mode(flags: u64) -> bool {
    flags & libc::O_CREAT as u64 != 0 || flags & libc::O_TMPFILE as u64 == libc::O_TMPFILE as u64
}

/// `0644`, `0100644`: a mode in octal with its leading 0, as strace prints
/// umode_t (print_numeric_umode_t: the 16 bits of an unsigned short, the
/// file type included when the caller passed one).
pub fn mode(value: u64) -> String {
    // C's "%#03o": a leading 0, at least three digits.
    match value & 0xffff {
        0 => "000".to_owned(),
        v => format!("0{v:02o}"),
    }
}

/// A uid or gid as strace's printuid and PRINT_FIELD_ID show it: `-1`
/// (no change, or none), else unsigned.
pub fn id(value: u32) -> String {
    match value {
        u32::MAX => "-1".to_owned(),
        id => id.to_string(),
    }
}

pub const AT_FDCWD: i64 = libc::AT_FDCWD as i64;

pub const AT_FLAGS: Xlat = xlat![
    AT_SYMLINK_NOFOLLOW,
    AT_REMOVEDIR,
    AT_SYMLINK_FOLLOW,
    AT_NO_AUTOMOUNT,
    AT_EMPTY_PATH,
    AT_RECURSIVE,
];

/// faccessat2's flags: AT_EACCESS shares AT_REMOVEDIR's value.
pub const FACCESSAT_FLAGS: Xlat = xlat![AT_SYMLINK_NOFOLLOW, AT_EACCESS, AT_EMPTY_PATH];

pub const UNLINKAT_FLAGS: Xlat = xlat![AT_REMOVEDIR];

/// statx's sync type: the AT_STATX_SYNC_TYPE bits of its flags.
const AT_STATX_SYNC_TYPE: u64 = 0x6000;
pub const STATX_SYNC_TYPES: Xlat = xlat![
    AT_STATX_SYNC_AS_STAT,
    AT_STATX_FORCE_SYNC,
    AT_STATX_DONT_SYNC
];

/// `AT_STATX_SYNC_AS_STAT|AT_SYMLINK_NOFOLLOW`: the sync type, always
/// named, then the other AT_* flags.
pub fn statx_flags(value: u64) -> String {
    let mut out = flags(STATX_SYNC_TYPES, value & AT_STATX_SYNC_TYPE);
    let rest = value & !AT_STATX_SYNC_TYPE;
    if rest != 0 {
        out.push('|');
        push_flags(&mut out, AT_FLAGS, rest);
    }
    out
}

pub const STATX_MASK: Xlat = xlat![
    STATX_ALL,
    STATX_BASIC_STATS,
    STATX_TYPE,
    STATX_MODE,
    STATX_NLINK,
    STATX_UID,
    STATX_GID,
    STATX_ATIME,
    STATX_MTIME,
    STATX_CTIME,
    STATX_INO,
    STATX_SIZE,
    STATX_BLOCKS,
    STATX_BTIME,
    STATX_MNT_ID,
    STATX_DIOALIGN,
];

pub const ACCESS_MODES: Xlat = xlat![F_OK, R_OK, W_OK, X_OK];

pub const PROT: Xlat = xlat![
    PROT_NONE,
    PROT_READ,
    PROT_WRITE,
    PROT_EXEC,
    PROT_GROWSDOWN,
    PROT_GROWSUP,
];

/// The map type: the low bits of mmap's flags (the kernel's MAP_TYPE).
const MAP_TYPE: u64 = 0x0f;
pub const MAP_TYPES: Xlat = xlat![MAP_SHARED, MAP_PRIVATE, MAP_SHARED_VALIDATE];

pub const MAP_FLAGS: Xlat = xlat![
    MAP_FIXED,
    MAP_ANONYMOUS,
    MAP_32BIT,
    MAP_NORESERVE,
    MAP_POPULATE,
    MAP_NONBLOCK,
    MAP_GROWSDOWN,
    MAP_DENYWRITE,
    MAP_EXECUTABLE,
    MAP_LOCKED,
    MAP_STACK,
    MAP_HUGETLB,
    MAP_SYNC,
    MAP_FIXED_NOREPLACE,
];

/// `MAP_PRIVATE|MAP_FIXED|MAP_DENYWRITE`: the type, then the flags.
pub fn mmap_flags(value: u64) -> String {
    kind_then_flags(value, MAP_TYPE, MAP_TYPES, MAP_FLAGS)
}

/// A kind in the `mask` bits, named (or in hex), then the other bits as
/// flags: mmap's MAP_SHARED|..., socket's SOCK_STREAM|...
pub fn kind_then_flags(value: u64, mask: u64, kinds: Xlat, table: Xlat) -> String {
    let kind = value & mask;
    let mut out = match xval(kinds, kind) {
        Some(name) => name.to_owned(),
        None => hex(kind),
    };
    let rest = value & !mask;
    if rest != 0 {
        out.push('|');
        push_flags(&mut out, table, rest);
    }
    out
}

pub const MREMAP_FLAGS: Xlat = xlat![MREMAP_MAYMOVE, MREMAP_FIXED, MREMAP_DONTUNMAP];

pub const CLONE_FLAGS: Xlat = xlat![
    CLONE_VM,
    CLONE_FS,
    CLONE_FILES,
    CLONE_SIGHAND,
    CLONE_PIDFD,
    CLONE_PTRACE,
    CLONE_VFORK,
    CLONE_PARENT,
    CLONE_THREAD,
    CLONE_NEWNS,
    CLONE_SYSVSEM,
    CLONE_SETTLS,
    CLONE_PARENT_SETTID,
    CLONE_CHILD_CLEARTID,
    CLONE_UNTRACED,
    CLONE_CHILD_SETTID,
    CLONE_NEWCGROUP,
    CLONE_NEWUTS,
    CLONE_NEWIPC,
    CLONE_NEWUSER,
    CLONE_NEWPID,
    CLONE_NEWNET,
    CLONE_IO,
];

/// unshare's flags, in strace's order (by value).
pub const UNSHARE_FLAGS: Xlat = xlat![
    CLONE_NEWTIME,
    CLONE_VM,
    CLONE_FS,
    CLONE_FILES,
    CLONE_SIGHAND,
    CLONE_THREAD,
    CLONE_NEWNS,
    CLONE_SYSVSEM,
    CLONE_NEWCGROUP,
    CLONE_NEWUTS,
    CLONE_NEWIPC,
    CLONE_NEWUSER,
    CLONE_NEWPID,
    CLONE_NEWNET,
];

/// setns's namespace types (0: any).
pub const SETNS_TYPES: Xlat = xlat![
    CLONE_NEWTIME,
    CLONE_NEWNS,
    CLONE_NEWCGROUP,
    CLONE_NEWUTS,
    CLONE_NEWIPC,
    CLONE_NEWUSER,
    CLONE_NEWPID,
    CLONE_NEWNET,
];

/// pkey_alloc's access rights (PKEY_DISABLE_EXECUTE is powerpc's, but
/// strace names it everywhere).
pub const PKEY_ACCESS: Xlat = &[
    (0x1, "PKEY_DISABLE_ACCESS"),
    (0x2, "PKEY_DISABLE_WRITE"),
    (0x4, "PKEY_DISABLE_EXECUTE"),
];

/// The kernel's CSIGNAL: clone's exit signal in the low byte of its flags.
pub const CSIGNAL: u64 = 0xff;

/// `CLONE_VM|CLONE_FS|SIGCHLD`: clone's flags with the exit signal.
pub fn clone_flags(value: u64) -> String {
    let flags = value & !CSIGNAL;
    let sig = value & CSIGNAL;
    if flags == 0 {
        return signal_name(sig as i64);
    }
    let mut out = self::flags(CLONE_FLAGS, flags);
    if sig != 0 {
        out.push('|');
        out.push_str(&signal_name(sig as i64));
    }
    out
}

pub const SIGNALS: Xlat = xlat![
    SIGHUP, SIGINT, SIGQUIT, SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE, SIGKILL, SIGUSR1, SIGSEGV,
    SIGUSR2, SIGPIPE, SIGALRM, SIGTERM, SIGSTKFLT, SIGCHLD, SIGCONT, SIGSTOP, SIGTSTP, SIGTTIN,
    SIGTTOU, SIGURG, SIGXCPU, SIGXFSZ, SIGVTALRM, SIGPROF, SIGWINCH, SIGIO, SIGPWR, SIGSYS,
];

/// The kernel's first real-time signal (glibc keeps 32 and 33 for itself
/// and calls 34 SIGRTMIN; strace names them by the kernel's numbering).
const KERNEL_SIGRTMIN: i64 = 32;
const KERNEL_SIGRTMAX: i64 = 64;

/// `SIGINT`, `SIGRTMIN`, `SIGRT_3`; a number when it is no signal.
pub fn signal_name(sig: i64) -> String {
    if let Some(name) = u64::try_from(sig).ok().and_then(|s| xval(SIGNALS, s)) {
        return name.to_owned();
    }
    match sig {
        KERNEL_SIGRTMIN => "SIGRTMIN".to_owned(),
        s if s > KERNEL_SIGRTMIN && s <= KERNEL_SIGRTMAX => {
            format!("SIGRT_{}", s - KERNEL_SIGRTMIN)
        }
        s => s.to_string(),
    }
}

/// linux/pidfd.h: PIDFD_NONBLOCK is O_NONBLOCK.
pub const PIDFD_OPEN_FLAGS: Xlat = &[(libc::O_NONBLOCK as u64, "PIDFD_NONBLOCK")];

pub const SIGPROCMASK_HOW: Xlat = xlat![SIG_BLOCK, SIG_UNBLOCK, SIG_SETMASK];

pub const SEEK_WHENCE: Xlat = xlat![SEEK_SET, SEEK_CUR, SEEK_END, SEEK_DATA, SEEK_HOLE];

/// struct flock's l_type.
pub const LOCK_TYPES: Xlat = xlat![F_RDLCK, F_WRLCK, F_UNLCK];

// F_SETSIG, F_GETSIG, F_SETOWN_EX and F_GETOWN_EX, and the types of the
// latter's struct f_owner_ex (include/uapi/asm-generic/fcntl.h; not in libc).
pub const F_SETSIG: u64 = 10;
pub const F_GETSIG: u64 = 11;
pub const F_SETOWN_EX: u64 = 15;
pub const F_GETOWN_EX: u64 = 16;
pub const F_OWNER_TYPES: Xlat = &[(0, "F_OWNER_TID"), (1, "F_OWNER_PID"), (2, "F_OWNER_PGRP")];

const FCNTL_MORE_CMDS: Xlat = &[
    (F_SETSIG, "F_SETSIG"),
    (F_GETSIG, "F_GETSIG"),
    (F_SETOWN_EX, "F_SETOWN_EX"),
    (F_GETOWN_EX, "F_GETOWN_EX"),
];

/// `F_GETFL`; unknown commands as strace shows them.
pub fn fcntl_cmd(cmd: u64) -> String {
    xval(FCNTL_MORE_CMDS, cmd)
        .map_or_else(|| xval_or_unknown(FCNTL_CMDS, cmd, "F_???"), str::to_owned)
}

pub const FCNTL_CMDS: Xlat = xlat![
    F_DUPFD,
    F_GETFD,
    F_SETFD,
    F_GETFL,
    F_SETFL,
    F_GETLK,
    F_SETLK,
    F_SETLKW,
    F_SETOWN,
    F_GETOWN,
    F_OFD_GETLK,
    F_OFD_SETLK,
    F_OFD_SETLKW,
    F_SETLEASE,
    F_GETLEASE,
    F_NOTIFY,
    F_DUPFD_CLOEXEC,
    F_SETPIPE_SZ,
    F_GETPIPE_SZ,
    F_ADD_SEALS,
    F_GET_SEALS,
];

pub const FD_FLAGS: Xlat = xlat![FD_CLOEXEC];

/// futex operations (the command, without the private and clock bits).
pub const FUTEX_OPS: Xlat = xlat![
    FUTEX_WAIT,
    FUTEX_WAKE,
    FUTEX_FD,
    FUTEX_REQUEUE,
    FUTEX_CMP_REQUEUE,
    FUTEX_WAKE_OP,
    FUTEX_LOCK_PI,
    FUTEX_UNLOCK_PI,
    FUTEX_TRYLOCK_PI,
    FUTEX_WAIT_BITSET,
    FUTEX_WAKE_BITSET,
    FUTEX_WAIT_REQUEUE_PI,
    FUTEX_CMP_REQUEUE_PI,
    FUTEX_LOCK_PI2,
];
pub const FUTEX_CMD_MASK: u64 = !((libc::FUTEX_PRIVATE_FLAG | libc::FUTEX_CLOCK_REALTIME) as u64);

/// `FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME`.
pub fn futex_op(op: u64) -> String {
    let op = op & 0xffff_ffff;
    let cmd = op & FUTEX_CMD_MASK;
    let mut out = match xval(FUTEX_OPS, cmd) {
        Some(name) => name.to_owned(),
        None => return hex(op),
    };
    if op & libc::FUTEX_PRIVATE_FLAG as u64 != 0 {
        out.push_str("_PRIVATE");
    }
    if op & libc::FUTEX_CLOCK_REALTIME as u64 != 0 {
        out.push_str("|FUTEX_CLOCK_REALTIME");
    }
    out
}

/// The bitset that matches any waiter, named as strace names it.
pub const FUTEX_BITSETS: Xlat = &[(0xffff_ffff, "FUTEX_BITSET_MATCH_ANY")];

pub const GRND_FLAGS: Xlat = xlat![GRND_NONBLOCK, GRND_RANDOM, GRND_INSECURE];

pub const RLIMITS: Xlat = xlat![
    RLIMIT_CPU,
    RLIMIT_FSIZE,
    RLIMIT_DATA,
    RLIMIT_STACK,
    RLIMIT_CORE,
    RLIMIT_RSS,
    RLIMIT_NPROC,
    RLIMIT_NOFILE,
    RLIMIT_MEMLOCK,
    RLIMIT_AS,
    RLIMIT_LOCKS,
    RLIMIT_SIGPENDING,
    RLIMIT_MSGQUEUE,
    RLIMIT_NICE,
    RLIMIT_RTPRIO,
    RLIMIT_RTTIME,
];

/// arch_prctl codes (arch/x86/include/uapi/asm/prctl.h; not in libc).
pub const ARCH_PRCTL_CODES: Xlat = &[
    (0x1001, "ARCH_SET_GS"),
    (0x1002, "ARCH_SET_FS"),
    (0x1003, "ARCH_GET_FS"),
    (0x1004, "ARCH_GET_GS"),
    (0x1011, "ARCH_GET_CPUID"),
    (0x1012, "ARCH_SET_CPUID"),
    (0x2001, "ARCH_MAP_VDSO_X32"),
    (0x2002, "ARCH_MAP_VDSO_32"),
    (0x2003, "ARCH_MAP_VDSO_64"),
    (0x4001, "ARCH_GET_UNTAG_MASK"),
    (0x4002, "ARCH_ENABLE_TAGGED_ADDR"),
    (0x4003, "ARCH_GET_MAX_TAG_BITS"),
    (0x4004, "ARCH_FORCE_TAGGED_SVA"),
    (0x5001, "ARCH_SHSTK_ENABLE"),
    (0x5002, "ARCH_SHSTK_DISABLE"),
    (0x5003, "ARCH_SHSTK_LOCK"),
    (0x5004, "ARCH_SHSTK_UNLOCK"),
    (0x5005, "ARCH_SHSTK_STATUS"),
];

/// In strace's order; 2 is WSTOPPED there (WUNTRACED's other name).
pub const WAIT_OPTIONS: Xlat = xlat![
    WNOHANG,
    WEXITED,
    WSTOPPED,
    WCONTINUED,
    WNOWAIT,
    __WCLONE,
    __WALL,
    __WNOTHREAD,
];

pub const CLOCKS: Xlat = xlat![
    CLOCK_REALTIME,
    CLOCK_MONOTONIC,
    CLOCK_PROCESS_CPUTIME_ID,
    CLOCK_THREAD_CPUTIME_ID,
    CLOCK_MONOTONIC_RAW,
    CLOCK_REALTIME_COARSE,
    CLOCK_MONOTONIC_COARSE,
    CLOCK_BOOTTIME,
    CLOCK_REALTIME_ALARM,
    CLOCK_BOOTTIME_ALARM,
    CLOCK_TAI,
];

pub const TIMER_FLAGS: Xlat = xlat![TIMER_ABSTIME];

// The UAPI's values (the same on x86_64 and aarch64), in strace's order.
pub const EFD_FLAGS: Xlat = &[
    (0x1, "EFD_SEMAPHORE"),
    (0x80000, "EFD_CLOEXEC"),
    (0x800, "EFD_NONBLOCK"),
];
pub const TFD_CREATE_FLAGS: Xlat = &[(0x80000, "TFD_CLOEXEC"), (0x800, "TFD_NONBLOCK")];
pub const TFD_TIMER_FLAGS: Xlat = &[(0x1, "TFD_TIMER_ABSTIME"), (0x2, "TFD_TIMER_CANCEL_ON_SET")];
pub const SFD_FLAGS: Xlat = &[(0x80000, "SFD_CLOEXEC"), (0x800, "SFD_NONBLOCK")];
pub const IN_INIT_FLAGS: Xlat = &[(0x800, "IN_NONBLOCK"), (0x80000, "IN_CLOEXEC")];
/// userfaultfd's flags (UFFD_USER_MODE_ONLY, linux/userfaultfd.h, is not
/// in libc).
pub const UFFD_FLAGS: Xlat = &[
    (0x1, "UFFD_USER_MODE_ONLY"),
    (unsigned!(libc::O_NONBLOCK), "O_NONBLOCK"),
    (unsigned!(libc::O_CLOEXEC), "O_CLOEXEC"),
];
/// name_to_handle_at's flags.
pub const NAME_TO_HANDLE_FLAGS: Xlat = xlat![AT_HANDLE_FID, AT_SYMLINK_FOLLOW, AT_EMPTY_PATH];
pub const IN_EVENTS: Xlat = &[
    (0x1, "IN_ACCESS"),
    (0x2, "IN_MODIFY"),
    (0x4, "IN_ATTRIB"),
    (0x8, "IN_CLOSE_WRITE"),
    (0x10, "IN_CLOSE_NOWRITE"),
    (0x20, "IN_OPEN"),
    (0x40, "IN_MOVED_FROM"),
    (0x80, "IN_MOVED_TO"),
    (0x100, "IN_CREATE"),
    (0x200, "IN_DELETE"),
    (0x400, "IN_DELETE_SELF"),
    (0x800, "IN_MOVE_SELF"),
    (0x2000, "IN_UNMOUNT"),
    (0x4000, "IN_Q_OVERFLOW"),
    (0x8000, "IN_IGNORED"),
    (0x100_0000, "IN_ONLYDIR"),
    (0x200_0000, "IN_DONT_FOLLOW"),
    (0x400_0000, "IN_EXCL_UNLINK"),
    (0x1000_0000, "IN_MASK_CREATE"),
    (0x2000_0000, "IN_MASK_ADD"),
    (0x4000_0000, "IN_ISDIR"),
    (0x8000_0000, "IN_ONESHOT"),
];
/// In strace's order (mctl_sync), which its text follows: MS_SYNC first.
pub const MSYNC_FLAGS: Xlat = &[(0x4, "MS_SYNC"), (0x1, "MS_ASYNC"), (0x2, "MS_INVALIDATE")];
pub const MLOCK_FLAGS: Xlat = &[(0x1, "MLOCK_ONFAULT")];
pub const MLOCKALL_FLAGS: Xlat = &[
    (0x1, "MCL_CURRENT"),
    (0x2, "MCL_FUTURE"),
    (0x4, "MCL_ONFAULT"),
];
pub const SPLICE_FLAGS: Xlat = &[
    (0x1, "SPLICE_F_MOVE"),
    (0x2, "SPLICE_F_NONBLOCK"),
    (0x4, "SPLICE_F_MORE"),
    (0x8, "SPLICE_F_GIFT"),
];
pub const SYNC_FILE_RANGE_FLAGS: Xlat = &[
    (0x1, "SYNC_FILE_RANGE_WAIT_BEFORE"),
    (0x2, "SYNC_FILE_RANGE_WRITE"),
    (0x4, "SYNC_FILE_RANGE_WAIT_AFTER"),
];
pub const MFD_FLAGS: Xlat = &[
    (0x1, "MFD_CLOEXEC"),
    (0x2, "MFD_ALLOW_SEALING"),
    (0x4, "MFD_HUGETLB"),
    (0x8, "MFD_NOEXEC_SEAL"),
    (0x10, "MFD_EXEC"),
];
/// fcntl's F_ADD_SEALS and F_GET_SEALS.
pub const SEALS: Xlat = &[
    (0x1, "F_SEAL_SEAL"),
    (0x2, "F_SEAL_SHRINK"),
    (0x4, "F_SEAL_GROW"),
    (0x8, "F_SEAL_WRITE"),
    (0x10, "F_SEAL_FUTURE_WRITE"),
    (0x20, "F_SEAL_EXEC"),
];
pub const CLOSE_RANGE_FLAGS: Xlat = &[(0x2, "CLOSE_RANGE_UNSHARE"), (0x4, "CLOSE_RANGE_CLOEXEC")];
/// The System V IPC calls' flags: the rest is the mode (`IPC_CREAT|0600`).
pub const IPC_FLAGS: Xlat = &[
    (0o1000, "IPC_CREAT"),
    (0o2000, "IPC_EXCL"),
    (0o4000, "IPC_NOWAIT"),
];
pub const SHMCTL_CMDS: Xlat = &[
    (0, "IPC_RMID"),
    (1, "IPC_SET"),
    (2, "IPC_STAT"),
    (3, "IPC_INFO"),
    (11, "SHM_LOCK"),
    (12, "SHM_UNLOCK"),
    (13, "SHM_STAT"),
    (14, "SHM_INFO"),
    (15, "SHM_STAT_ANY"),
];
pub const SEMCTL_CMDS: Xlat = &[
    (0, "IPC_RMID"),
    (1, "IPC_SET"),
    (2, "IPC_STAT"),
    (3, "IPC_INFO"),
    (11, "GETPID"),
    (12, "GETVAL"),
    (13, "GETALL"),
    (14, "GETNCNT"),
    (15, "GETZCNT"),
    (16, "SETVAL"),
    (17, "SETALL"),
    (18, "SEM_STAT"),
    (19, "SEM_INFO"),
    (20, "SEM_STAT_ANY"),
];
pub const MSGCTL_CMDS: Xlat = &[
    (0, "IPC_RMID"),
    (1, "IPC_SET"),
    (2, "IPC_STAT"),
    (3, "IPC_INFO"),
    (11, "MSG_STAT"),
    (12, "MSG_INFO"),
    (13, "MSG_STAT_ANY"),
];
/// waitid's idtype.
pub const WAITID_TYPES: Xlat = &[(0, "P_ALL"), (1, "P_PID"), (2, "P_PGID"), (3, "P_PIDFD")];
pub const SCHED_POLICIES: Xlat = &[
    (0, "SCHED_OTHER"),
    (1, "SCHED_FIFO"),
    (2, "SCHED_RR"),
    (3, "SCHED_BATCH"),
    (4, "SCHED_ISO"),
    (5, "SCHED_IDLE"),
    (6, "SCHED_DEADLINE"),
    (7, "SCHED_EXT"),
];

pub const RENAME_FLAGS: Xlat = xlat![RENAME_NOREPLACE, RENAME_EXCHANGE, RENAME_WHITEOUT];

pub const MADVISE: Xlat = xlat![
    MADV_NORMAL,
    MADV_RANDOM,
    MADV_SEQUENTIAL,
    MADV_WILLNEED,
    MADV_DONTNEED,
    MADV_FREE,
    MADV_REMOVE,
    MADV_DONTFORK,
    MADV_DOFORK,
    MADV_MERGEABLE,
    MADV_UNMERGEABLE,
    MADV_HUGEPAGE,
    MADV_NOHUGEPAGE,
    MADV_DONTDUMP,
    MADV_DODUMP,
    MADV_WIPEONFORK,
    MADV_KEEPONFORK,
    MADV_COLD,
    MADV_PAGEOUT,
    MADV_HWPOISON,
];

#[cfg(test)]
mod tests;

/// preadv2/pwritev2's flags (linux/fs.h's RWF_*).
pub const RWF_FLAGS: Xlat = &[
    (0x1, "RWF_HIPRI"),
    (0x2, "RWF_DSYNC"),
    (0x4, "RWF_SYNC"),
    (0x8, "RWF_NOWAIT"),
    (0x10, "RWF_APPEND"),
];
