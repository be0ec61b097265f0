//! Which user memory each syscall's records carry: the strings of path and
//! name arguments, the data of write-like calls at enter, the data of
//! read-like calls at exit, execve's argv, and the structures strace
//! decodes (inputs at enter, outputs at exit). The BPF side follows this
//! table (bpf/systrace.h, systrace_capture_spec); `decode` reads the items.
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::kernel::layout::{
    systrace_capture_flags, systrace_capture_kind, systrace_capture_limits, systrace_capture_spec,
    systrace_commands, MAX_ARGS, MAX_CAPTURE, NR_SYSCALLS,
};
use crate::metadata::{MetadataTable, SyscallMetadata};

/// Bytes captured of each string or buffer unless the user says: strace's
/// default -s (the one definition; the command and `Call.strace()` use it).
pub const DEFAULT_STRING_SIZE: u32 = 32;

const NONE: u8 = systrace_capture_kind::SYSTRACE_CAPTURE_NONE.0 as u8;
const STRING: u8 = systrace_capture_kind::SYSTRACE_CAPTURE_STRING.0 as u8;
const BUFFER: u8 = systrace_capture_kind::SYSTRACE_CAPTURE_BUFFER.0 as u8;
const ARGV: u8 = systrace_capture_kind::SYSTRACE_CAPTURE_ARGV.0 as u8;
const EXIT_BUFFER: u8 = systrace_capture_kind::SYSTRACE_CAPTURE_EXIT_BUFFER.0 as u8;
const EXEC_FILENAME: u8 = systrace_capture_kind::SYSTRACE_CAPTURE_EXEC_FILENAME.0 as u8;
const STRUCT: u8 = systrace_capture_kind::SYSTRACE_CAPTURE_STRUCT.0 as u8;
const EXIT_STRUCT: u8 = systrace_capture_kind::SYSTRACE_CAPTURE_EXIT_STRUCT.0 as u8;
const INOUT_STRUCT: u8 = systrace_capture_kind::SYSTRACE_CAPTURE_INOUT_STRUCT.0 as u8;
const ARRAY: u8 = systrace_capture_kind::SYSTRACE_CAPTURE_ARRAY.0 as u8;
const EXIT_ARRAY: u8 = systrace_capture_kind::SYSTRACE_CAPTURE_EXIT_ARRAY.0 as u8;
const PTR_COUNT: u8 = systrace_capture_kind::SYSTRACE_CAPTURE_PTR_COUNT.0 as u8;
const DIRENT_COUNT: u8 = systrace_capture_kind::SYSTRACE_CAPTURE_DIRENT_COUNT.0 as u8;
const IOVEC: u8 = systrace_capture_kind::SYSTRACE_CAPTURE_IOVEC.0 as u8;
const EXIT_IOVEC: u8 = systrace_capture_kind::SYSTRACE_CAPTURE_EXIT_IOVEC.0 as u8;
const MSGHDR: u8 = systrace_capture_kind::SYSTRACE_CAPTURE_MSGHDR.0 as u8;
const EXIT_MSGHDR: u8 = systrace_capture_kind::SYSTRACE_CAPTURE_EXIT_MSGHDR.0 as u8;
const SIGFRAME_MASK: u8 = systrace_capture_kind::SYSTRACE_CAPTURE_SIGFRAME_MASK.0 as u8;
const FLOCK: u8 = systrace_capture_kind::SYSTRACE_CAPTURE_FLOCK.0 as u8;
const NEW_FDS: u8 = systrace_capture_kind::SYSTRACE_CAPTURE_NEW_FDS.0 as u8;
const COMMAND: u8 = systrace_capture_kind::SYSTRACE_CAPTURE_COMMAND.0 as u8;
const EXIT_MMSGHDR: u8 = systrace_capture_kind::SYSTRACE_CAPTURE_EXIT_MMSGHDR.0 as u8;
const EXIT_SIZED: u8 = systrace_capture_kind::SYSTRACE_CAPTURE_EXIT_SIZED.0 as u8;
const ATTR_STRINGS: u8 = systrace_capture_kind::SYSTRACE_CAPTURE_ATTR_STRINGS.0 as u8;
const SOCKET_ENDS: u8 = systrace_capture_kind::SYSTRACE_CAPTURE_SOCKET_ENDS.0 as u8;
/// COMMAND's tables (its `size`): which command argument says what is read.
const IOCTL_REQUESTS: u16 = systrace_commands::SYSTRACE_COMMANDS_IOCTL.0 as u16;
const PRCTL_OPTIONS: u16 = systrace_commands::SYSTRACE_COMMANDS_PRCTL.0 as u16;
const SECCOMP_OPS: u16 = systrace_commands::SYSTRACE_COMMANDS_SECCOMP.0 as u16;
const KEYCTL_OPS: u16 = systrace_commands::SYSTRACE_COMMANDS_KEYCTL.0 as u16;
const MSGCTL_CMDS: u16 = systrace_commands::SYSTRACE_COMMANDS_MSGCTL.0 as u16;
const SHMCTL_CMDS: u16 = systrace_commands::SYSTRACE_COMMANDS_SHMCTL.0 as u16;
const SEMCTL_CMDS: u16 = systrace_commands::SYSTRACE_COMMANDS_SEMCTL.0 as u16;
const PRCTL_ARG3: u16 = systrace_commands::SYSTRACE_COMMANDS_PRCTL_ARG3.0 as u16;

/// Where rt_sigreturn finds the mask it restores, from the user stack
/// pointer at the call: in the signal frame's ucontext (x86_64: sp points
/// at uc, pretcode popped; aarch64: at the frame, siginfo first).
#[cfg(target_arch = "x86_64")]
pub const SIGFRAME_MASK_OFFSET: u16 = std::mem::offset_of!(libc::ucontext_t, uc_sigmask) as u16;
#[cfg(target_arch = "aarch64")]
pub const SIGFRAME_MASK_OFFSET: u16 =
    (128 + std::mem::offset_of!(libc::ucontext_t, uc_sigmask)) as u16;

/// Where it finds the return register it restores (what the call returns:
/// the interrupted call's result, or the register the handler interrupted),
/// captured as its argument [`SIGFRAME_RET_ARG`]: rax on x86_64, x0 on aarch64.
#[cfg(target_arch = "x86_64")]
const SIGFRAME_RET_OFFSET: u16 = (std::mem::offset_of!(libc::ucontext_t, uc_mcontext)
    + libc::REG_RAX as usize * std::mem::size_of::<libc::greg_t>())
    as u16;
#[cfg(target_arch = "aarch64")]
const SIGFRAME_RET_OFFSET: u16 = (128
    + std::mem::offset_of!(libc::ucontext_t, uc_mcontext)
    + std::mem::offset_of!(libc::mcontext_t, regs)) as u16;

/// The argument index rt_sigreturn's return register is captured as (it
/// has no arguments; its mask is argument 0).
pub const SIGFRAME_RET_ARG: u8 = 1;

/// The argument index rt_sigreturn's stack pointer is captured as (the
/// programs' own value, not user memory): where its frame, and the mask
/// strace -e verbose=none shows the address of, are.
pub const SIGFRAME_SP_ARG: u8 = 2;

/// The slot what the programs read of a call's fds in the process's fd
/// table is captured as: the inode numbers of the fds it made
/// (SYSTRACE_CAPTURE_NEW_FDS), and the ends of the socket it connected,
/// bound or put to listen ([`SOCKET_ENDS_CALLS`]) or accepted. Past the
/// arguments of every call that has it, so that it is never taken for one.
pub const NEW_FDS_ARG: u8 = 5;

/// The slot the strings bpf(2)'s attr points to are captured as
/// (SYSTRACE_CAPTURE_ATTR_STRINGS: a license, a log, a path, a tracepoint's
/// name, BTF), past its three arguments and short of [`NEW_FDS_ARG`].
pub const ATTR_STRINGS_ARG: u8 = 4;

/// The calls whose new fds' inode numbers are captured, with the argument
/// that holds them (None: the fd is what they return) and the shape the
/// programs read (SYSTRACE_CAPTURE_NEW_FDS's size): 0 the returned fd, 1
/// also an accepted socket's ends, 2 an int[2], 3 the fds a msghdr's first
/// message, SCM_RIGHTS, brought (to check what /proc names them later).
pub const NEW_FDS_CALLS: &[(&str, Option<&str>, u16)] = &[
    ("pipe", Some("fildes"), 2),
    ("pipe2", Some("fildes"), 2),
    ("socketpair", Some("usockvec"), 2),
    ("socket", None, 0),
    ("accept", None, 1),
    ("accept4", None, 1),
    ("recvmsg", Some("msg"), 3),
];

/// The calls whose socket's (arg 0) ends are read at their exit
/// (SYSTRACE_CAPTURE_SOCKET_ENDS), for -yy's `TCP:[A:1->B:2]` and
/// `UNIX-STREAM:[1->2,"/run/x"]` after them.
pub const SOCKET_ENDS_CALLS: &[&str] = &["connect", "bind", "listen"];

/// The calls whose fd (arg 0) may be a netlink socket whose messages
/// strace decodes (its `decode_sockbuf` and msghdrs' iovecs).
pub const SOCKET_DATA_CALLS: &[&str] = &["sendto", "recvfrom", "sendmsg", "recvmsg"];

/// Sizes of the kernel's structures, as this architecture lays them out.
pub mod sizes {
    use std::mem::size_of;
    pub const STAT: u16 = size_of::<libc::stat>() as u16;
    pub const STATX: u16 = size_of::<libc::statx>() as u16;
    pub const STATFS: u16 = size_of::<libc::statfs>() as u16;
    pub const TIMESPEC: u16 = 16;
    pub const SIGSET: u16 = 8;
    /// The kernel's struct sigaction: handler, flags, restorer, mask.
    pub const SIGACTION: u16 = 32;
    pub const RLIMIT: u16 = 16;
    pub const INT: u16 = 4;
    pub const LOFF: u16 = 8;
    /// A pointer or a size the call writes back (io_setup's context).
    pub const ULONG: u16 = 8;
    /// struct __user_cap_header_struct; two __user_cap_data_struct.
    pub const CAP_HEADER: u16 = 8;
    pub const CAP_DATA: u16 = 2 * 12;
    /// struct sched_attr up to sched_util_max (SCHED_ATTR_SIZE_VER1).
    pub const SCHED_ATTR: u16 = 56;
    /// struct perf_event_attr up to its wakeup counts (offsetof
    /// wakeup_events): what strace reads of it without -v.
    pub const PERF_ATTR: u16 = 48;
    /// union bpf_attr's first bytes: those of the commands decoded
    /// (strace::structs::bpf), and of the larger attrs newer callers give.
    pub const BPF_ATTR: u16 = 192;
    /// struct sembuf: sem_num, sem_op, sem_flg.
    pub const SEMBUF: u16 = 6;
    /// siginfo_t: its head and the union's first words, what strace shows.
    pub const SIGINFO: u16 = 48;
    pub const UTSNAME: u16 = 6 * 65;
    pub const SYSINFO: u16 = size_of::<libc::sysinfo>() as u16;
    pub const POLLFD: u16 = 8;
    /// A struct iovec: its address and length.
    pub const IOVEC_STRUCT: u16 = size_of::<libc::iovec>() as u16;
    pub const EPOLL_EVENT: u16 = size_of::<libc::epoll_event>() as u16;
    /// struct sockaddr_storage: any address the kernel writes back.
    pub const SOCKADDR: u16 = 128;
    /// glibc's fd_set (FD_SETSIZE bits): select's sets are read whole.
    pub const FD_SET: u16 = 128;
    pub const TIMEVAL: u16 = 16;
    /// struct timezone: minutes west, DST kind.
    pub const TIMEZONE: u16 = 8;
    pub const RUSAGE: u16 = size_of::<libc::rusage>() as u16;
    pub const TMS: u16 = size_of::<libc::tms>() as u16;
    /// fcntl's struct flock (a kind of capture is called FLOCK).
    pub const STRUCT_FLOCK: u16 = size_of::<libc::flock>() as u16;
    /// itimerval and itimerspec: two timevals or timespecs.
    pub const ITIMER: u16 = 32;
    pub const SIGEVENT: u16 = size_of::<libc::sigevent>() as u16;
    pub const STACK: u16 = size_of::<libc::stack_t>() as u16;
    /// struct clone_args as of Linux 5.7 (glibc passes this size).
    pub const CLONE_ARGS: u16 = 88;
    /// Of a node mask: 1024 nodes, the kernel's most (MAX_NUMNODES).
    pub const NODEMASK: u16 = 128;
    /// struct mq_attr: flags, maxmsg, msgsize, curmsgs, four reserved longs.
    pub const MQ_ATTR: u16 = 8 * 8;
    /// getsockopt's value whole up to this (an int, a linger, a ucred);
    /// longer ones (TCP_INFO) are cut at the capture size, as strace does.
    pub const SOCKOPT: u16 = 16;
}

/// (syscall, arg, kind, length arg) where a C type alone cannot tell.
const SPECIAL: &[(&str, &str, u8, &str)] = &[
    ("write", "buf", BUFFER, "count"),
    ("pwrite64", "buf", BUFFER, "count"),
    ("sendto", "buff", BUFFER, "len"),
    // struct sockaddr: addrlen bytes (strace::sockaddr decodes them).
    ("connect", "uservaddr", BUFFER, "addrlen"),
    ("bind", "umyaddr", BUFFER, "addrlen"),
    ("sendto", "addr", BUFFER, "addr_len"),
    ("mq_timedsend", "u_msg_ptr", BUFFER, "msg_len"),
    ("read", "buf", EXIT_BUFFER, ""),
    ("pread64", "buf", EXIT_BUFFER, ""),
    ("recvfrom", "ubuf", EXIT_BUFFER, ""),
    ("readlink", "buf", EXIT_BUFFER, ""),
    ("readlinkat", "buf", EXIT_BUFFER, ""),
    ("getcwd", "buf", EXIT_BUFFER, ""),
    ("getrandom", "ubuf", EXIT_BUFFER, ""),
    // The message received, ret bytes of it.
    ("mq_timedreceive", "u_msg_ptr", EXIT_BUFFER, ""),
    // The messages SYSLOG_ACTION_READ* wrote (the other actions pass NULL,
    // or return a size: the decoder shows it only for those).
    ("syslog", "buf", EXIT_BUFFER, ""),
    ("setsockopt", "optval", BUFFER, "optlen"),
    // An xattr's value is bytes, size of them; what get and list wrote, ret.
    ("setxattr", "value", BUFFER, "size"),
    ("lsetxattr", "value", BUFFER, "size"),
    ("fsetxattr", "value", BUFFER, "size"),
    ("getxattr", "value", EXIT_BUFFER, ""),
    ("lgetxattr", "value", EXIT_BUFFER, ""),
    ("fgetxattr", "value", EXIT_BUFFER, ""),
    ("listxattr", "list", EXIT_BUFFER, ""),
    ("llistxattr", "list", EXIT_BUFFER, ""),
    ("flistxattr", "list", EXIT_BUFFER, ""),
    // The kernel declares these `char *` (not const), and mount's data is
    // `void *`: strace shows all of them as strings.
    ("mount", "dev_name", STRING, ""),
    ("mount", "dir_name", STRING, ""),
    ("mount", "type", STRING, ""),
    ("mount", "data", STRING, ""),
    ("umount", "name", STRING, ""),
    // struct open_how: usize bytes, the kernel's own size check (a larger
    // struct than it knows must be zero past what it knows).
    ("openat2", "how", BUFFER, "usize"),
    // `char *` names, len bytes of them (no NUL needed).
    ("sethostname", "name", BUFFER, "len"),
    ("setdomainname", "name", BUFFER, "len"),
    // After a successful execve the old address space is gone: never re-read.
    ("execve", "filename", EXEC_FILENAME, ""),
    ("execve", "argv", ARGV, ""),
    ("execveat", "filename", EXEC_FILENAME, ""),
    ("execveat", "argv", ARGV, ""),
];

/// Arguments whose memory is data that read and write move (cut at the
/// data size, the command's -s), not a path or an address to show whole.
const DATA: &[(&str, &str)] = &[
    ("setxattr", "value"),
    ("lsetxattr", "value"),
    ("fsetxattr", "value"),
    ("getxattr", "value"),
    ("lgetxattr", "value"),
    ("fgetxattr", "value"),
    ("write", "buf"),
    ("pwrite64", "buf"),
    ("sendto", "buff"),
    ("mq_timedsend", "u_msg_ptr"),
    ("read", "buf"),
    ("pread64", "buf"),
    ("recvfrom", "ubuf"),
    ("getrandom", "ubuf"),
    ("mq_timedreceive", "u_msg_ptr"),
];

/// (syscall, arg, kind, bytes (of one element), count arg): structures.
const STRUCTS: &[(&str, &str, u8, u16, &str)] = {
    use sizes::*;
    &[
        ("newstat", "statbuf", EXIT_STRUCT, STAT, ""),
        ("newlstat", "statbuf", EXIT_STRUCT, STAT, ""),
        ("newfstat", "statbuf", EXIT_STRUCT, STAT, ""),
        ("newfstatat", "statbuf", EXIT_STRUCT, STAT, ""),
        ("statx", "buffer", EXIT_STRUCT, STATX, ""),
        ("statfs", "buf", EXIT_STRUCT, STATFS, ""),
        ("fstatfs", "buf", EXIT_STRUCT, STATFS, ""),
        ("nanosleep", "rqtp", STRUCT, TIMESPEC, ""),
        ("nanosleep", "rmtp", EXIT_STRUCT, TIMESPEC, ""),
        ("clock_nanosleep", "rqtp", STRUCT, TIMESPEC, ""),
        ("clock_nanosleep", "rmtp", EXIT_STRUCT, TIMESPEC, ""),
        ("clock_gettime", "tp", EXIT_STRUCT, TIMESPEC, ""),
        ("clock_getres", "tp", EXIT_STRUCT, TIMESPEC, ""),
        (
            "sched_rr_get_interval",
            "interval",
            EXIT_STRUCT,
            TIMESPEC,
            "",
        ),
        ("futex", "utime", STRUCT, TIMESPEC, ""),
        ("utimensat", "utimes", STRUCT, 2 * TIMESPEC, ""),
        ("rt_sigaction", "act", STRUCT, SIGACTION, ""),
        ("rt_sigaction", "oact", EXIT_STRUCT, SIGACTION, ""),
        ("rt_sigprocmask", "nset", STRUCT, SIGSET, ""),
        ("rt_sigprocmask", "oset", EXIT_STRUCT, SIGSET, ""),
        ("rt_sigsuspend", "unewset", STRUCT, SIGSET, ""),
        ("prlimit64", "new_rlim", STRUCT, RLIMIT, ""),
        ("prlimit64", "old_rlim", EXIT_STRUCT, RLIMIT, ""),
        ("getrlimit", "rlim", EXIT_STRUCT, RLIMIT, ""),
        ("setrlimit", "rlim", STRUCT, RLIMIT, ""),
        ("wait4", "stat_addr", EXIT_STRUCT, INT, ""),
        ("getrusage", "ru", EXIT_STRUCT, RUSAGE, ""),
        ("times", "tbuf", EXIT_STRUCT, TMS, ""),
        // Only for the lock commands (the programs look at cmd).
        ("fcntl", "arg", FLOCK, STRUCT_FLOCK, "cmd"),
        // Only for the commands the programs know (command_arg).
        ("ioctl", "arg", COMMAND, IOCTL_REQUESTS, "cmd"),
        ("prctl", "arg2", COMMAND, PRCTL_OPTIONS, "option"),
        ("prctl", "arg3", COMMAND, PRCTL_ARG3, "option"),
        ("seccomp", "uargs", COMMAND, SECCOMP_OPS, "op"),
        ("keyctl", "arg2", COMMAND, KEYCTL_OPS, "option"),
        ("msgctl", "buf", COMMAND, MSGCTL_CMDS, "cmd"),
        ("shmctl", "buf", COMMAND, SHMCTL_CMDS, "cmd"),
        ("semctl", "arg", COMMAND, SEMCTL_CMDS, "cmd"),
        // A header, then one (version 1) or two sets of three masks.
        ("capget", "header", STRUCT, CAP_HEADER, ""),
        ("capget", "dataptr", EXIT_STRUCT, CAP_DATA, ""),
        ("capset", "header", STRUCT, CAP_HEADER, ""),
        ("capset", "data", STRUCT, CAP_DATA, ""),
        ("pipe", "fildes", EXIT_STRUCT, 2 * INT, ""),
        ("pipe2", "fildes", EXIT_STRUCT, 2 * INT, ""),
        ("socketpair", "usockvec", EXIT_STRUCT, 2 * INT, ""),
        ("newuname", "name", EXIT_STRUCT, UTSNAME, ""),
        ("sysinfo", "info", EXIT_STRUCT, SYSINFO, ""),
        ("poll", "ufds", ARRAY, POLLFD, "nfds"),
        ("ppoll", "ufds", ARRAY, POLLFD, "nfds"),
        // What is left of the timeout is written back.
        ("ppoll", "tsp", INOUT_STRUCT, TIMESPEC, ""),
        ("ppoll", "sigmask", STRUCT, SIGSET, ""),
        ("epoll_ctl", "event", STRUCT, EPOLL_EVENT, ""),
        ("epoll_wait", "events", EXIT_ARRAY, EPOLL_EVENT, ""),
        ("epoll_pwait", "events", EXIT_ARRAY, EPOLL_EVENT, ""),
        ("epoll_pwait", "sigmask", STRUCT, SIGSET, ""),
        ("epoll_pwait2", "events", EXIT_ARRAY, EPOLL_EVENT, ""),
        ("epoll_pwait2", "timeout", STRUCT, TIMESPEC, ""),
        ("epoll_pwait2", "sigmask", STRUCT, SIGSET, ""),
        ("io_setup", "ctxp", EXIT_STRUCT, ULONG, ""),
        ("get_robust_list", "head_ptr", EXIT_STRUCT, ULONG, ""),
        ("get_robust_list", "len_ptr", EXIT_STRUCT, ULONG, ""),
        ("gettimeofday", "tv", EXIT_STRUCT, TIMEVAL, ""),
        ("gettimeofday", "tz", EXIT_STRUCT, TIMEZONE, ""),
        ("settimeofday", "tv", STRUCT, TIMEVAL, ""),
        ("settimeofday", "tz", STRUCT, TIMEZONE, ""),
        ("accept", "upeer_sockaddr", EXIT_STRUCT, SOCKADDR, ""),
        ("accept", "upeer_addrlen", INOUT_STRUCT, INT, ""),
        ("accept4", "upeer_sockaddr", EXIT_STRUCT, SOCKADDR, ""),
        ("accept4", "upeer_addrlen", INOUT_STRUCT, INT, ""),
        ("getsockname", "usockaddr", EXIT_STRUCT, SOCKADDR, ""),
        ("getsockname", "usockaddr_len", INOUT_STRUCT, INT, ""),
        ("getpeername", "usockaddr", EXIT_STRUCT, SOCKADDR, ""),
        ("getpeername", "usockaddr_len", INOUT_STRUCT, INT, ""),
        ("recvfrom", "addr", EXIT_STRUCT, SOCKADDR, ""),
        ("recvfrom", "addr_len", INOUT_STRUCT, INT, ""),
        // The sets say which descriptors to wait for, then which are ready.
        ("select", "inp", INOUT_STRUCT, FD_SET, ""),
        ("select", "outp", INOUT_STRUCT, FD_SET, ""),
        ("select", "exp", INOUT_STRUCT, FD_SET, ""),
        ("select", "tvp", INOUT_STRUCT, TIMEVAL, ""),
        ("pselect6", "inp", INOUT_STRUCT, FD_SET, ""),
        ("pselect6", "outp", INOUT_STRUCT, FD_SET, ""),
        ("pselect6", "exp", INOUT_STRUCT, FD_SET, ""),
        ("pselect6", "tsp", INOUT_STRUCT, TIMESPEC, ""),
        // {const sigset_t *ss; size_t ss_len}: laid out as one iovec, read
        // with the set it points to (a fixed count of one, no count arg).
        ("pselect6", "sig", IOVEC, 1, ""),
        ("recvmmsg", "timeout", INOUT_STRUCT, TIMESPEC, ""),
        ("getsockopt", "optval", EXIT_SIZED, SOCKOPT, "optlen"),
        ("getsockopt", "optlen", INOUT_STRUCT, INT, ""),
        ("wait4", "ru", EXIT_STRUCT, RUSAGE, ""),
        ("getitimer", "value", EXIT_STRUCT, ITIMER, ""),
        ("setitimer", "value", STRUCT, ITIMER, ""),
        ("setitimer", "ovalue", EXIT_STRUCT, ITIMER, ""),
        ("timer_create", "timer_event_spec", STRUCT, SIGEVENT, ""),
        ("timer_create", "created_timer_id", EXIT_STRUCT, INT, ""),
        ("timer_settime", "new_setting", STRUCT, ITIMER, ""),
        ("timer_settime", "old_setting", EXIT_STRUCT, ITIMER, ""),
        ("timer_gettime", "setting", EXIT_STRUCT, ITIMER, ""),
        ("timerfd_settime", "utmr", STRUCT, ITIMER, ""),
        ("timerfd_settime", "otmr", EXIT_STRUCT, ITIMER, ""),
        ("timerfd_gettime", "otmr", EXIT_STRUCT, ITIMER, ""),
        ("signalfd", "user_mask", STRUCT, SIGSET, ""),
        ("signalfd4", "user_mask", STRUCT, SIGSET, ""),
        ("sendfile64", "offset", INOUT_STRUCT, LOFF, ""),
        ("copy_file_range", "off_in", STRUCT, LOFF, ""),
        ("copy_file_range", "off_out", STRUCT, LOFF, ""),
        ("rt_sigpending", "uset", EXIT_STRUCT, SIGSET, ""),
        ("getresuid", "ruidp", EXIT_STRUCT, INT, ""),
        ("getresuid", "euidp", EXIT_STRUCT, INT, ""),
        ("getresuid", "suidp", EXIT_STRUCT, INT, ""),
        ("getresgid", "rgidp", EXIT_STRUCT, INT, ""),
        ("getresgid", "egidp", EXIT_STRUCT, INT, ""),
        ("getresgid", "sgidp", EXIT_STRUCT, INT, ""),
        ("sched_getattr", "uattr", EXIT_STRUCT, SCHED_ATTR, ""),
        ("sched_setattr", "uattr", STRUCT, SCHED_ATTR, ""),
        ("splice", "off_in", STRUCT, LOFF, ""),
        ("splice", "off_out", STRUCT, LOFF, ""),
        ("sched_setscheduler", "param", STRUCT, INT, ""),
        ("sched_setparam", "param", STRUCT, INT, ""),
        ("sched_getparam", "param", EXIT_STRUCT, INT, ""),
        ("waitid", "infop", EXIT_STRUCT, SIGINFO, ""),
        // The siginfo a process queues with its signal (sigqueue(3)).
        ("rt_sigqueueinfo", "uinfo", STRUCT, SIGINFO, ""),
        ("rt_tgsigqueueinfo", "uinfo", STRUCT, SIGINFO, ""),
        ("pidfd_send_signal", "info", STRUCT, SIGINFO, ""),
        ("rt_sigtimedwait", "uthese", STRUCT, SIGSET, ""),
        ("rt_sigtimedwait", "uinfo", EXIT_STRUCT, SIGINFO, ""),
        ("rt_sigtimedwait", "uts", STRUCT, TIMESPEC, ""),
        ("getcpu", "cpup", EXIT_STRUCT, INT, ""),
        ("semop", "tsops", ARRAY, SEMBUF, "nsops"),
        ("semtimedop", "tsops", ARRAY, SEMBUF, "nsops"),
        ("semtimedop", "timeout", STRUCT, TIMESPEC, ""),
        // POSIX message queues: the attributes given and got back, the
        // timeouts, the priority received, the notification asked for.
        ("mq_open", "u_attr", STRUCT, MQ_ATTR, ""),
        ("mq_getsetattr", "u_mqstat", STRUCT, MQ_ATTR, ""),
        ("mq_getsetattr", "u_omqstat", EXIT_STRUCT, MQ_ATTR, ""),
        ("mq_timedsend", "u_abs_timeout", STRUCT, TIMESPEC, ""),
        ("mq_timedreceive", "u_abs_timeout", STRUCT, TIMESPEC, ""),
        ("mq_timedreceive", "u_msg_prio", EXIT_STRUCT, INT, ""),
        ("mq_notify", "u_notification", STRUCT, SIGEVENT, ""),
        ("getcpu", "nodep", EXIT_STRUCT, INT, ""),
        ("waitid", "ru", EXIT_STRUCT, RUSAGE, ""),
        ("sigaltstack", "uss", STRUCT, STACK, ""),
        ("sigaltstack", "uoss", EXIT_STRUCT, STACK, ""),
        // Masks of `len` bytes; the kernel writes back ret bytes.
        ("sched_setaffinity", "user_mask_ptr", ARRAY, 1, "len"),
        ("sched_getaffinity", "user_mask_ptr", EXIT_ARRAY, 1, ""),
        ("getgroups", "grouplist", EXIT_ARRAY, INT, ""),
        // Node masks: their first NODEMASK bytes (maxnode is in bits).
        ("set_mempolicy", "nmask", STRUCT, NODEMASK, ""),
        ("mbind", "nmask", STRUCT, NODEMASK, ""),
        ("get_mempolicy", "policy", EXIT_STRUCT, INT, ""),
        ("get_mempolicy", "nmask", EXIT_STRUCT, NODEMASK, ""),
        ("setgroups", "grouplist", ARRAY, INT, "gidsetsize"),
        ("clone3", "uargs", STRUCT, CLONE_ARGS, ""),
        // What strace reads of it without -v; again at exit, for the size
        // the kernel writes back when it refuses the call with E2BIG.
        ("perf_event_open", "attr_uptr", INOUT_STRUCT, PERF_ATTR, ""),
        // bpf's attr: its head, what the commands strace decodes and the
        // structure's size reach (the decoder reads `size` bytes of it);
        // at exit again for the ids and lengths the kernel writes back.
        ("bpf", "uattr", INOUT_STRUCT, BPF_ATTR, ""),
        // Lists: the iovecs and their data (readv's up to what it read),
        // a msghdr with its name, control data and iovecs.
        ("writev", "vec", IOVEC, 0, "vlen"),
        ("pwritev", "vec", IOVEC, 0, "vlen"),
        ("pwritev2", "vec", IOVEC, 0, "vlen"),
        ("readv", "vec", EXIT_IOVEC, 0, "vlen"),
        ("preadv", "vec", EXIT_IOVEC, 0, "vlen"),
        ("preadv2", "vec", EXIT_IOVEC, 0, "vlen"),
        // The local iovecs with their data as readv's and writev's; the
        // remote ones (another process's addresses) as they are.
        ("process_vm_readv", "lvec", EXIT_IOVEC, 0, "liovcnt"),
        ("process_vm_writev", "lvec", IOVEC, 0, "liovcnt"),
        ("process_vm_readv", "rvec", ARRAY, IOVEC_STRUCT, "riovcnt"),
        ("process_vm_writev", "rvec", ARRAY, IOVEC_STRUCT, "riovcnt"),
        ("sendmsg", "msg", MSGHDR, 0, ""),
        ("recvmsg", "msg", EXIT_MSGHDR, 0, ""),
        // Arrays of messages, at exit: sendmmsg's vlen (size 0), recvmmsg's
        // ret with their headers at enter too (size 1).
        ("sendmmsg", "mmsg", EXIT_MMSGHDR, 0, "vlen"),
        ("recvmmsg", "mmsg", EXIT_MMSGHDR, 1, "vlen"),
        // Counted only: strace prints `/* 35 vars */`, `/* 208 entries */`.
        ("execve", "envp", PTR_COUNT, 0, ""),
        ("execveat", "envp", PTR_COUNT, 0, ""),
        ("getdents64", "dirent", DIRENT_COUNT, 0, ""),
    ]
};

/// The syscalls whose -v form is read (bit nr): what strace prints whole
/// for them the programs read instead of counting it, getdents64's records
/// (strace -v lists every entry, its default says `/* 5 entries */`) and
/// execve's and execveat's environment (an argv, where its default says
/// `/* 35 vars */`). The command's `-v` or `-e abbrev=` without them. Set
/// before the programs load (or with their tables rewritten:
/// `tracer::set_unabbreviated`).
static UNABBREVIATED: [AtomicU64; NR_SYSCALLS / 64] =
    [const { AtomicU64::new(0) }; NR_SYSCALLS / 64];

/// Whether syscall `nr`'s -v form is read (see `UNABBREVIATED`).
pub fn unabbreviated(nr: u32) -> bool {
    let nr = nr as usize;
    nr < NR_SYSCALLS && UNABBREVIATED[nr / 64].load(Ordering::Relaxed) & (1 << (nr % 64)) != 0
}

/// `nrs` as `UNABBREVIATED`'s words (numbers past the table are never
/// traced: left out).
pub(crate) fn unabbreviated_words(nrs: &[u32]) -> [u64; NR_SYSCALLS / 64] {
    let mut words = [0u64; NR_SYSCALLS / 64];
    for &nr in nrs.iter().filter(|&&nr| (nr as usize) < NR_SYSCALLS) {
        words[nr as usize / 64] |= 1 << (nr % 64);
    }
    words
}

pub(crate) fn unabbreviated_now() -> [u64; NR_SYSCALLS / 64] {
    UNABBREVIATED.each_ref().map(|w| w.load(Ordering::Relaxed))
}

/// The syscalls whose -v form is read from now on: exactly `nrs`.
pub(crate) fn set_unabbreviated(nrs: &[u32]) {
    for (slot, word) in UNABBREVIATED.iter().zip(unabbreviated_words(nrs)) {
        slot.store(word, Ordering::Relaxed);
    }
}

/// What to capture of `meta`'s arguments, or None when nothing.
pub fn spec_for(meta: &SyscallMetadata) -> Option<systrace_capture_spec> {
    let mut spec = systrace_capture_spec::default();
    let name = meta.short_name();
    if name == "rt_sigreturn" {
        // Read at its enter, outside the walk of the arguments (it has none).
        spec.kind[0] = SIGFRAME_MASK;
        spec.size[0] = SIGFRAME_MASK_OFFSET;
        spec.size[usize::from(SIGFRAME_RET_ARG)] = SIGFRAME_RET_OFFSET;
        return Some(spec);
    }
    for (i, (arg, ty)) in meta.args.iter().zip(&meta.types).enumerate().take(MAX_ARGS) {
        if let Some(&(_, _, kind, size, count)) =
            STRUCTS.iter().find(|(s, a, ..)| *s == name && a == arg)
        {
            let fixed_count = kind == IOVEC && size > 0;
            if matches!(
                kind,
                ARRAY | IOVEC | EXIT_IOVEC | FLOCK | COMMAND | EXIT_MMSGHDR | EXIT_SIZED
            ) && !fixed_count
            {
                let Some(n) = meta.args.iter().position(|a| a == count) else {
                    continue;
                };
                spec.len_arg[i] = n as u8;
            }
            if kind == DIRENT_COUNT && unabbreviated(meta.syscall_nr) {
                // The records themselves, as much of the ret bytes as a
                // capture holds; no count past them.
                spec.kind[i] = EXIT_BUFFER;
                continue;
            }
            if kind == PTR_COUNT && unabbreviated(meta.syscall_nr) {
                // The environment as an argv, after argv in the record
                // (argv keeps its share of the budget), cut where it ends.
                // (Read again at exit, if it faulted, from the new image's
                // strings after argv's: bpf/capture.bpf.h, capture_exec_again.)
                spec.kind[i] = ARGV;
                continue;
            }
            spec.kind[i] = kind;
            spec.size[i] = size;
            continue;
        }
        let special = SPECIAL.iter().find(|(s, a, _, _)| *s == name && a == arg);
        spec.kind[i] = match special {
            Some(&(_, _, kind, len_arg)) => {
                if kind == BUFFER {
                    let Some(len) = meta.args.iter().position(|a| a == len_arg) else {
                        continue;
                    };
                    spec.len_arg[i] = len as u8;
                }
                kind
            }
            // Input strings: paths, names, keys. Output buffers are `char *`.
            None if ty == "const char *" => STRING,
            None => NONE,
        };
        if DATA.contains(&(name, arg.as_str())) {
            spec.data_mask |= 1 << i;
        }
    }
    // A netlink socket's messages are read whole, for strace's decoding of
    // them (bpf/capture.bpf.h, capture_netlink); any other socket's data
    // as any data.
    if SOCKET_DATA_CALLS.contains(&name) {
        spec.socket_data = 1;
    }
    if name == "bpf" {
        debug_assert!(meta.args.len() <= usize::from(ATTR_STRINGS_ARG));
        spec.kind[usize::from(ATTR_STRINGS_ARG)] = ATTR_STRINGS;
    }
    if let Some(&(_, array, size)) = NEW_FDS_CALLS.iter().find(|(s, ..)| *s == name) {
        let slot = usize::from(NEW_FDS_ARG);
        debug_assert!(
            meta.args.len() <= slot,
            "{name}: slot {slot} is an argument"
        );
        match array.map(|array| meta.args.iter().position(|a| a == array)) {
            None => {
                spec.kind[slot] = NEW_FDS;
                spec.size[slot] = size;
            }
            Some(Some(n)) => {
                spec.kind[slot] = NEW_FDS;
                spec.len_arg[slot] = n as u8;
                spec.size[slot] = size;
            }
            Some(None) => {} // not the argument this table knows
        }
    }
    if SOCKET_ENDS_CALLS.contains(&name) {
        debug_assert!(meta.args.len() <= usize::from(NEW_FDS_ARG));
        spec.kind[usize::from(NEW_FDS_ARG)] = SOCKET_ENDS;
    }
    spec.kind
        .iter()
        .any(|&k| k != NONE)
        .then(|| with_walks(spec))
}

/// `spec` with the walks the programs make (`enter_args`, `exit_args`,
/// `at_exit`, `retries`) derived from its kinds: a read's enter walks nothing, its
/// exit only up to its buffer.
fn with_walks(mut spec: systrace_capture_spec) -> systrace_capture_spec {
    // Kinds read at enter; STRING, BUFFER and STRUCT are read again at exit
    // when they faulted, so the exit walk covers every kind.
    let at_enter = |k: u8| {
        matches!(
            k,
            STRING
                | EXEC_FILENAME
                | BUFFER
                | ARGV
                | STRUCT
                | INOUT_STRUCT
                | ARRAY
                | IOVEC
                | MSGHDR
                | EXIT_MSGHDR
                | PTR_COUNT
                | FLOCK
                | COMMAND
                | ATTR_STRINGS
        )
    };
    let always_at_exit = |k: u8| {
        matches!(
            k,
            EXIT_BUFFER
                | EXIT_STRUCT
                | INOUT_STRUCT
                | ARRAY
                | EXIT_ARRAY
                | DIRENT_COUNT
                | EXIT_IOVEC
                | EXIT_MSGHDR
                | EXIT_MMSGHDR
                | EXIT_SIZED
                | FLOCK
                | NEW_FDS
                | SOCKET_ENDS
                | COMMAND
        )
    };
    let last = |pred: &dyn Fn(u8) -> bool| {
        spec.kind
            .iter()
            .rposition(|&k| pred(k))
            .map_or(0, |i| i as u8 + 1)
    };
    spec.enter_args = last(&at_enter);
    // recvmmsg's headers are read at enter; sendmmsg's enter reads nothing.
    if let Some(i) = spec
        .kind
        .iter()
        .zip(&spec.size)
        .rposition(|(&k, &size)| k == EXIT_MMSGHDR && size > 0)
    {
        spec.enter_args = spec.enter_args.max(i as u8 + 1);
    }
    spec.exit_args = last(&|k| k != NONE);
    spec.at_exit = u8::from(spec.kind.iter().any(|&k| always_at_exit(k)));
    // prctl's PR_SET_NAME and keyctl's JOIN_SESSION_KEYRING read a
    // string, which may fault like any other; so may an exec's.
    let retried = |(k, size): (&u8, &u16)| {
        matches!(*k, STRING | BUFFER | STRUCT | EXEC_FILENAME | ARGV)
            || (*k == COMMAND && matches!(*size, PRCTL_OPTIONS | KEYCTL_OPS))
    };
    spec.retries = u8::from(spec.kind.iter().zip(&spec.size).any(retried));
    // What the exit of a call a seccomp filter refused reads in its
    // enter's place: the kinds the exit walk reads again from the args
    // (not prctl's or keyctl's command, whose string only some commands take).
    spec.refetch_mask = spec
        .kind
        .iter()
        .enumerate()
        .filter(|(_, &k)| matches!(k, STRING | BUFFER | STRUCT | EXEC_FILENAME | ARGV))
        .fold(0, |mask, (i, _)| mask | 1 << i);
    // A call that captures nothing but data at exit (read's) takes the
    // programs' short path for it (capture_exit_data).
    let mut captured = spec.kind.iter().enumerate().filter(|(_, &k)| k != NONE);
    spec.exit_data = match (captured.next(), captured.next()) {
        (Some((i, &EXIT_BUFFER)), None) if spec.socket_data == 0 => i as u8 + 1,
        _ => 0,
    };
    spec
}

/// The per-number table the BPF side reads.
pub fn spec_table(table: &MetadataTable) -> [systrace_capture_spec; NR_SYSCALLS] {
    let mut specs = [systrace_capture_spec::default(); NR_SYSCALLS];
    for meta in table.iter() {
        if let (Some(slot), Some(spec)) = (specs.get_mut(meta.syscall_nr as usize), spec_for(meta))
        {
            *slot = spec;
        }
    }
    specs
}

/// The capture kinds (bits of `systrace_capture_kind`) the syscalls `nrs`
/// use in `table`: what a load of the programs must be able to read for
/// them (`Features::captures`).
pub fn kinds(table: &MetadataTable, nrs: &BTreeSet<u32>) -> u32 {
    nrs.iter()
        .filter_map(|&nr| table.syscall_nr_to_meta(nr).and_then(spec_for))
        .fold(0, |acc, spec| acc | spec_kinds(&spec))
}

/// The kinds one spec uses.
pub fn spec_kinds(spec: &systrace_capture_spec) -> u32 {
    spec.kind
        .iter()
        .filter(|&&k| k != NONE)
        .fold(0, |acc, &k| acc | 1 << k)
}

/// The syscalls among `nrs` that have something to capture.
pub fn capturing(table: &MetadataTable, nrs: &BTreeSet<u32>) -> BTreeSet<u32> {
    nrs.iter()
        .copied()
        .filter(|&nr| table.syscall_nr_to_meta(nr).and_then(spec_for).is_some())
        .collect()
}

/// The items an enter of `nr` with `args` would have captured, read now
/// from the memory of process `pid` (/proc/PID/mem), for a call that was
/// already in progress when the trace began (`systrace -p` on a thread
/// blocked in it): the strings, data, structures, arrays, iovecs and
/// msghdrs the call reads at its enter, fcntl's struct flock; other kinds
/// (exec's argv, ioctl's commands) are left out (those arguments show as
/// their address). Items past the programs' bounds are cut and flagged as
/// the programs would (truncated, faulted); the printer cuts them at -s.
pub fn read_enter_now(pid: u32, meta: &SyscallMetadata, args: &[u64]) -> Vec<(u8, u8, Vec<u8>)> {
    use std::os::unix::fs::FileExt;
    let truncated = systrace_capture_flags::SYSTRACE_CAPTURE_TRUNCATED.0 as u8;
    let faulted = systrace_capture_flags::SYSTRACE_CAPTURE_FAULTED.0 as u8;
    let Some(spec) = spec_for(meta) else {
        return Vec::new();
    };
    let Ok(mem) = std::fs::File::open(format!("/proc/{pid}/mem")) else {
        return Vec::new();
    };
    // Whole pages at a time: a read stops at the first one not mapped.
    let read = |addr: u64, len: usize| -> Option<Vec<u8>> {
        let mut out = vec![0u8; len];
        let mut done = 0;
        while done < len {
            let at = addr.checked_add(done as u64)?;
            let page_end = (at | 4095) + 1 - at;
            let want = (len - done).min(page_end as usize);
            match mem.read_at(&mut out[done..done + want], at) {
                Ok(n) if n > 0 => done += n,
                _ => break,
            }
        }
        out.truncate(done);
        Some(out)
    };
    let max = MAX_CAPTURE as usize;
    let mut items = Vec::new();
    for (i, &ptr) in args.iter().enumerate().take(MAX_ARGS) {
        let arg = i as u8;
        let len_of = |n: u8| args.get(usize::from(n)).copied().unwrap_or(0);
        let (kind, size) = (spec.kind[i], usize::from(spec.size[i]));
        if ptr == 0 && kind != NONE {
            continue;
        }
        match kind {
            STRING | EXEC_FILENAME => {
                // One byte more than kept tells a cut string.
                let bytes = read(ptr, max + 1).unwrap_or_default();
                match bytes.iter().position(|&b| b == 0) {
                    Some(end) => items.push((arg, 0, bytes[..end].to_vec())),
                    None if bytes.len() > max => {
                        items.push((arg, truncated, bytes[..max].to_vec()))
                    }
                    None => items.push((arg, faulted, Vec::new())),
                }
            }
            BUFFER | STRUCT | INOUT_STRUCT | ARRAY | EXIT_MSGHDR | EXIT_MMSGHDR | FLOCK => {
                let len = match kind {
                    BUFFER => len_of(spec.len_arg[i]),
                    ARRAY => (size as u64).saturating_mul(len_of(spec.len_arg[i]) & 0xffff_ffff),
                    // recvmsg's header as given (its name length, which the
                    // call rewrites); recvmmsg's headers (sendmmsg's: none).
                    EXIT_MSGHDR => MSGHDR_SIZE as u64,
                    EXIT_MMSGHDR if size > 0 => {
                        len_of(spec.len_arg[i]).min(MAX_LIST as u64)
                            * std::mem::size_of::<libc::mmsghdr>() as u64
                    }
                    // fcntl's struct flock (or f_owner_ex), for the commands
                    // that read one (bpf/capture.bpf.h, flock_cmd; F_SETLKW:
                    // a process blocked waiting for a lock).
                    FLOCK if flock_read(len_of(spec.len_arg[i])) => size as u64,
                    EXIT_MMSGHDR | FLOCK => continue,
                    _ => size as u64,
                };
                let n = len.min(max as u64) as usize;
                let flags = if len > max as u64 { truncated } else { 0 };
                match read(ptr, n) {
                    Some(bytes) if bytes.len() == n => items.push((arg, flags, bytes)),
                    _ => items.push((arg, flags | faulted, Vec::new())),
                }
            }
            IOVEC => {
                // A size is a fixed count of structures (pselect6's sigmask
                // pair), read whole.
                let count = if size > 0 {
                    size as u64
                } else {
                    len_of(spec.len_arg[i]) & 0xffff_ffff
                };
                push_iov(&mut items, &read, arg, ptr, count);
            }
            MSGHDR => {
                let Some(head) = read(ptr, MSGHDR_SIZE).filter(|b| b.len() == MSGHDR_SIZE) else {
                    items.push((arg, faulted, Vec::new()));
                    continue;
                };
                let word =
                    |at: usize| u64::from_ne_bytes(head[at..at + 8].try_into().unwrap_or_default());
                let (name, namelen) = (word(0), word(8) & 0xffff_ffff);
                let (iov, iovlen, control, controllen) = (word(16), word(24), word(32), word(40));
                let elem_flag = systrace_capture_flags::SYSTRACE_CAPTURE_ARGV_ELEM.0 as u8;
                items.push((
                    arg,
                    elem_flag,
                    list_elem(ptr, MSGHDR_SIZE as u64, MSGHDR_SIZE as u64, Some(head)),
                ));
                for (at, len) in [(name, namelen), (control, controllen)] {
                    let avail = if at == 0 { 0 } else { len };
                    let n = avail.min(max as u64) as usize;
                    let data = read(at, n).filter(|b| b.len() == n);
                    items.push((arg, elem_flag, list_elem(at, len, avail, data)));
                }
                push_iov(&mut items, &read, arg, iov, iovlen.min(u32::MAX.into()));
            }
            _ => {}
        }
    }
    items
}

/// fcntl's commands whose third argument points to a structure the call
/// reads (bpf/capture.bpf.h, flock_cmd's 1).
fn flock_read(cmd: u64) -> bool {
    const F_SETOWN_EX: i32 = 15; // not in libc
    [
        libc::F_SETLK,
        libc::F_SETLKW,
        libc::F_OFD_SETLK,
        libc::F_OFD_SETLKW,
        F_SETOWN_EX,
    ]
    .contains(&(cmd as u32 as i32))
}

/// struct user_msghdr's size (bpf/lists.bpf.h, msghdr_head).
const MSGHDR_SIZE: usize = std::mem::size_of::<libc::msghdr>();
/// Elements of an iovec or message list the programs capture at most.
const MAX_LIST: usize = systrace_capture_limits::SYSTRACE_MAX_ARGV.0 as usize;

/// One element of a list as capture_elem writes it: a
/// systrace_capture_elem (where, how long the program said, the bytes of
/// it there were to show), then the data; `None`: it could not be read
/// (SYSTRACE_ELEM_FAULTED).
fn list_elem(ptr: u64, len: u64, avail: u64, data: Option<Vec<u8>>) -> Vec<u8> {
    let avail = if data.is_some() { avail } else { u64::MAX };
    let data = data.unwrap_or_default();
    let mut out = Vec::with_capacity(24 + data.len());
    for word in [ptr, len, avail] {
        out.extend_from_slice(&word.to_ne_bytes());
    }
    out.extend_from_slice(&data);
    out
}

/// An iovec array of `count` elements, each with its data, as
/// capture_iov_inline writes it: cut past MAX_LIST elements or at the
/// first that cannot be read; the array itself unreadable is one faulted
/// item.
fn push_iov(
    items: &mut Vec<(u8, u8, Vec<u8>)>,
    read: &dyn Fn(u64, usize) -> Option<Vec<u8>>,
    arg: u8,
    iov: u64,
    count: u64,
) {
    let elem_flag = systrace_capture_flags::SYSTRACE_CAPTURE_ARGV_ELEM.0 as u8;
    let truncated = systrace_capture_flags::SYSTRACE_CAPTURE_TRUNCATED.0 as u8;
    let faulted = systrace_capture_flags::SYSTRACE_CAPTURE_FAULTED.0 as u8;
    let mut done = 0;
    for j in 0..count.min(MAX_LIST as u64) {
        let Some(pair) = read(iov.wrapping_add(16 * j), 16).filter(|b| b.len() == 16) else {
            if j == 0 {
                items.push((arg, faulted, Vec::new()));
                return;
            }
            break;
        };
        let word = |at: usize| u64::from_ne_bytes(pair[at..at + 8].try_into().unwrap_or_default());
        let (base, len) = (word(0), word(8));
        let n = len.min(u64::from(MAX_CAPTURE)) as usize;
        let data = read(base, n).filter(|b| b.len() == n);
        items.push((arg, elem_flag, list_elem(base, len, len, data)));
        done += 1;
    }
    if done < count {
        items.push((arg, elem_flag | truncated, Vec::new()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(name: &str) -> Option<systrace_capture_spec> {
        spec_for(MetadataTable::embedded().by_name(name).unwrap())
    }

    #[test]
    fn the_kinds_a_load_needs() {
        let table = &MetadataTable::embedded();
        let set = |names: &[&str]| -> BTreeSet<u32> {
            names
                .iter()
                .map(|n| table.by_name(n).unwrap().syscall_nr)
                .collect()
        };
        let bit = |k: u8| 1u32 << k;
        assert_eq!(kinds(table, &set(&["read"])), bit(EXIT_BUFFER));
        assert_eq!(kinds(table, &set(&["getppid"])), 0);
        let execve = kinds(table, &set(&["execve"]));
        assert_eq!(execve, bit(EXEC_FILENAME) | bit(ARGV) | bit(PTR_COUNT));
        let many = kinds(table, &set(&["read", "readv", "pipe2", "execve"]));
        let pipe2 = bit(EXIT_STRUCT) | bit(NEW_FDS); // the int[2], and its fds' inodes
        assert_eq!(many, execve | bit(EXIT_BUFFER) | bit(EXIT_IOVEC) | pipe2);
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn what_is_captured() {
        let openat = spec("openat").unwrap();
        assert_eq!(openat.kind[..4], [NONE, STRING, NONE, NONE]);
        let write = spec("write").unwrap();
        assert_eq!((write.kind[1], write.len_arg[1]), (BUFFER, 2));
        let read = spec("read").unwrap();
        assert_eq!(read.kind[1], EXIT_BUFFER);
        let getsockopt = spec("getsockopt").unwrap();
        assert_eq!(
            (
                getsockopt.kind[3],
                getsockopt.size[3],
                getsockopt.len_arg[3]
            ),
            (EXIT_SIZED, 16, 4)
        );
        assert_eq!(
            (read.enter_args, read.exit_args, read.at_exit, read.retries),
            (0, 2, 1, 0)
        );
        let openat = spec("openat").unwrap();
        assert_eq!(
            (
                openat.enter_args,
                openat.exit_args,
                openat.at_exit,
                openat.retries
            ),
            (2, 2, 0, 1)
        );
        // read's exit reads its buffer alone: the short path; recvfrom's
        // data may be netlink messages, pread64's too is data alone.
        assert_eq!(
            (
                read.exit_data,
                spec("pread64").unwrap().exit_data,
                spec("recvfrom").unwrap().exit_data,
                openat.exit_data,
            ),
            (2, 2, 0, 0)
        );
        // An exec's strings that faulted are read again at its exit.
        assert_eq!(spec("execve").unwrap().retries, 1);
        // What a call a seccomp filter refused reads at its exit: paths,
        // write's data, an exec's filename and argv; not read's buffer
        // (an output), nor the count of an exec's environment.
        assert_eq!(
            (
                openat.refetch_mask,
                write.refetch_mask,
                read.refetch_mask,
                spec("execve").unwrap().refetch_mask,
            ),
            (1 << 1, 1 << 1, 0, 0b11)
        );
        assert_eq!(
            (read.data_mask, write.data_mask, openat.data_mask),
            (2, 2, 0)
        );
        let connect = spec("connect").unwrap();
        assert_eq!(connect.data_mask, 0, "an address is shown whole");
        assert_eq!(spec("sendto").unwrap().data_mask, 1 << 1);
        let execve = spec("execve").unwrap();
        assert_eq!(execve.kind[..3], [EXEC_FILENAME, ARGV, PTR_COUNT]);
        let connect = spec("connect").unwrap();
        assert_eq!((connect.kind[1], connect.len_arg[1]), (BUFFER, 2));
        let sendto = spec("sendto").unwrap();
        assert_eq!((sendto.kind[4], sendto.len_arg[4]), (BUFFER, 5));
        let fstat = spec("newfstat").unwrap();
        assert_eq!((fstat.kind[1], fstat.size[1]), (EXIT_STRUCT, 144));
        let poll = spec("poll").unwrap();
        assert_eq!((poll.kind[0], poll.size[0], poll.len_arg[0]), (ARRAY, 8, 1));
        assert_eq!(spec("epoll_wait").unwrap().size[1], 12);
        assert!(spec("getppid").is_none());
        assert!(spec("close").is_none());
    }

    #[test]
    fn new_fds_are_read_at_exit_past_the_arguments() {
        let slot = usize::from(NEW_FDS_ARG);
        let table = MetadataTable::embedded();
        for &(name, array, size) in NEW_FDS_CALLS {
            let meta = table.by_name(name).unwrap();
            assert!(meta.args.len() <= slot, "{name}");
            let s = spec(name).unwrap();
            assert_eq!(
                (s.kind[slot], s.exit_args, s.at_exit),
                (NEW_FDS, 6, 1),
                "{name}"
            );
            let want = array.map_or(0, |a| meta.args.iter().position(|x| x == a).unwrap() as u8);
            assert_eq!((s.len_arg[slot], s.size[slot]), (want, size), "{name}");
        }
        // recvmsg's header is still captured as itself.
        assert_eq!(spec("recvmsg").unwrap().kind[1], EXIT_MSGHDR);
        // pipe2's array is still captured as itself.
        assert_eq!(spec("pipe2").unwrap().kind[0], EXIT_STRUCT);
    }

    #[test]
    fn socket_ends_are_read_at_exit_past_the_arguments() {
        let slot = usize::from(NEW_FDS_ARG);
        for &name in SOCKET_ENDS_CALLS {
            let s = spec(name).unwrap();
            assert_eq!(
                (s.kind[slot], s.exit_args, s.at_exit),
                (SOCKET_ENDS, 6, 1),
                "{name}"
            );
            // connect's and bind's sockaddr is still read at enter.
            assert_eq!(s.enter_args, u8::from(name != "listen") * 2, "{name}");
        }
    }

    #[test]
    fn an_enter_read_from_a_live_process() {
        let table = MetadataTable::embedded();
        let pid = std::process::id();
        let path = c"/etc/hostname";
        let long = vec![b'x'; MAX_CAPTURE as usize + 10];
        let openat = table.by_name("openat").unwrap();
        let items = read_enter_now(pid, openat, &[0, path.as_ptr() as u64, 0, 0]);
        assert_eq!(items, vec![(1, 0, b"/etc/hostname".to_vec())]);
        let write = table.by_name("write").unwrap();
        let items = read_enter_now(pid, write, &[1, long.as_ptr() as u64, long.len() as u64]);
        let truncated = systrace_capture_flags::SYSTRACE_CAPTURE_TRUNCATED.0 as u8;
        assert_eq!(
            items,
            vec![(1, truncated, long[..MAX_CAPTURE as usize].to_vec())]
        );
        // An address with nothing mapped: faulted, as the programs say it.
        let items = read_enter_now(pid, write, &[1, 8, 3]);
        let faulted = systrace_capture_flags::SYSTRACE_CAPTURE_FAULTED.0 as u8;
        assert_eq!(items, vec![(1, faulted, Vec::new())]);
        // NULL: no item (the printer shows NULL).
        assert!(read_enter_now(pid, openat, &[0, 0, 0, 0]).is_empty());
    }

    #[test]
    fn lists_read_from_a_live_process() {
        let table = MetadataTable::embedded();
        let pid = std::process::id();
        let elem = systrace_capture_flags::SYSTRACE_CAPTURE_ARGV_ELEM.0 as u8;
        let truncated = systrace_capture_flags::SYSTRACE_CAPTURE_TRUNCATED.0 as u8;
        let faulted = systrace_capture_flags::SYSTRACE_CAPTURE_FAULTED.0 as u8;
        let words = |w: &[u64]| w.iter().flat_map(|x| x.to_ne_bytes()).collect::<Vec<u8>>();
        let (a, b) = (b"hello ".to_vec(), b"world".to_vec());
        // The second's base points nowhere: its element says so, in place.
        let iov: Vec<u64> = vec![a.as_ptr() as u64, 6, 8, 5];
        let writev = table.by_name("writev").unwrap();
        let items = read_enter_now(pid, writev, &[1, iov.as_ptr() as u64, 2]);
        let mut first = words(&[a.as_ptr() as u64, 6, 6]);
        first.extend_from_slice(&a);
        assert_eq!(
            items,
            vec![
                (1, elem, first.clone()),
                (1, elem, words(&[8, 5, u64::MAX]))
            ]
        );
        // More elements than the programs take: the list is cut and says so.
        let many: Vec<u64> = (0..40).flat_map(|_| [a.as_ptr() as u64, 6]).collect();
        let items = read_enter_now(pid, writev, &[1, many.as_ptr() as u64, 40]);
        assert_eq!(items.len(), MAX_LIST + 1);
        assert_eq!(items[MAX_LIST], (1, elem | truncated, Vec::new()));
        // An array that cannot be read at all is one faulted item.
        let items = read_enter_now(pid, writev, &[1, 8, 2]);
        assert_eq!(items, vec![(1, faulted, Vec::new())]);
        // sendmsg: the header, its name, its control data, its iovecs.
        let one: Vec<u64> = vec![b.as_ptr() as u64, 5];
        let head = words(&[0, 0, one.as_ptr() as u64, 1, 0, 0, 0]);
        let sendmsg = table.by_name("sendmsg").unwrap();
        let items = read_enter_now(pid, sendmsg, &[3, head.as_ptr() as u64, 0]);
        let mut header = words(&[head.as_ptr() as u64, 56, 56]);
        header.extend_from_slice(&head);
        let mut data = words(&[b.as_ptr() as u64, 5, 5]);
        data.extend_from_slice(&b);
        assert_eq!(
            items,
            vec![
                (1, elem, header),
                (1, elem, words(&[0, 0, 0])),
                (1, elem, words(&[0, 0, 0])),
                (1, elem, data)
            ]
        );
        // recvmsg: the header alone, as given.
        let recvmsg = table.by_name("recvmsg").unwrap();
        let items = read_enter_now(pid, recvmsg, &[3, head.as_ptr() as u64, 0]);
        assert_eq!(items, vec![(1, 0, head.clone())]);
    }
}
