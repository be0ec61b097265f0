//! The structures strace decodes, from the bytes the programs captured of
//! them (`trace::capture` says which): their strace text for the decoders,
//! and their values for `Call.args` (JSON-like: fields by name, lists,
//! numbers, names), so that a tool can test a field without parsing text.
//!
//! Each structure is read once, into its `libc` type where there is one
//! (the kernel's layout on this architecture), then printed or valued.
use serde_json::{json, Value};

mod bpf;
mod ifreq;
mod io;
mod ipc;
mod misc;
mod msg;
mod netlink;
mod perf;
mod signal;
mod stat;
mod task;
mod time;

pub use bpf::{bpf_attr_text, BpfAttr};
pub use ifreq::{ifconf_text, ifreq_request, ifreq_text, Ifreq};
pub use io::{fd_set_fds, fd_set_text, sockopt_text};
pub use ipc::{ipc_ctl_text, IpcArg};
pub use misc::{
    dirents_text, epoll_event_text, epoll_events_text, f_owner_ex_text, fd_pair_text, flock_text,
    open_how_text, poll_revents_text, pollfd_fds, pollfds_text, rlimit_text, sysinfo_text,
    uname_text, wait_status_text,
};
pub use msg::{
    iov_buffers, iovec_text, mmsghdr_text, msghdr_text, remote_iovec_text, scm_rights_fds,
};
pub use netlink::{ifindex_text, netlink_text};
pub use perf::perf_event_attr_text;
pub use signal::{sigaction_text, sigmask_pair_text, sigset_names, sigset_text};
pub use stat::{dev_text, is_device, stat_text, statfs_text, statx_text, symbolic_mode};
pub use task::{
    clock_t_text, clone_args_sets_parent_tid, clone_args_text, clone_args_written_back,
    cpu_mask_text, gid_list_text, itimerspec_text, itimerval_text, rusage_text, sched_attr_text,
    sigevent_text, sock_fprog_text, stack_text, timeval_text, timezone_text, tms_text,
};
pub use time::{timespec_pair_text, timespec_text};

/// A `T` read from the start of `bytes`; None when they are too short.
pub(crate) fn read<T: Copy>(bytes: &[u8]) -> Option<T> {
    if bytes.len() < size_of::<T>() {
        return None;
    }
    // SAFETY: `bytes` holds at least size_of::<T>() bytes, T is a plain C
    // structure (every bit pattern is valid), and the read is unaligned.
    Some(unsafe { std::ptr::read_unaligned(bytes.as_ptr().cast::<T>()) })
}

/// The `i`th `T` of an array in `bytes`.
pub(crate) fn read_at<T: Copy>(bytes: &[u8], i: usize) -> Option<T> {
    read(bytes.get(i * size_of::<T>()..)?)
}

/// The value of argument `arg` of `syscall` (its display name) from its
/// captured bytes (and what the call wrote back, for one read twice), for
/// `Call.args`; None when it is no structure decoded here. `raw`: the
/// argument registers (an fd_set is `n` bits long, an option's value is
/// read by its level and name).
pub fn value(
    syscall: &str,
    arg: &str,
    bytes: &[u8],
    after: Option<&[u8]>,
    ret: Option<i64>,
    raw: &[u64],
) -> Option<Value> {
    let ok = ret.is_some_and(|r| crate::strace::errno::errno_of(r).is_none());
    let reg = |i: usize| raw.get(i).copied().unwrap_or(0);
    match (syscall, arg) {
        ("select" | "pselect6", "inp" | "outp" | "exp") => Some(json!({
            "fds": io::fd_set_value(bytes, reg(0)),
            "ready": after.filter(|_| ok).map(|a| io::fd_set_value(a, reg(0))),
        })),
        ("select", "tvp") => task::timeval_value(bytes),
        ("setsockopt", "optval") => io::sockopt_value(reg(1), reg(2), bytes, reg(4) as u32 as u64),
        // Cut to the length the call wrote back (see sockaddr_len_arg).
        ("getsockopt", "optval") if ok => {
            io::sockopt_value(reg(1), reg(2), bytes, bytes.len() as u64)
        }
        ("getsockopt", "optlen") if ok => Some(json!(read::<i32>(after.unwrap_or(bytes))?)),
        ("wait4" | "getrusage", "ru") => task::rusage_value(bytes),
        ("times", "tbuf") => task::tms_value(bytes),
        ("fcntl", "arg")
            if matches!(
                reg(1) as u32 as u64,
                super::flags::F_SETOWN_EX | super::flags::F_GETOWN_EX
            ) =>
        {
            let [kind, pid]: [i32; 2] = read(bytes)?;
            Some(json!({"type": kind, "pid": pid}))
        }
        ("fcntl", "arg") => misc::flock_value(bytes),
        ("getitimer" | "setitimer", "value" | "ovalue") => task::itimer_value(bytes, "usec"),
        ("timer_settime" | "timer_gettime", "new_setting" | "old_setting" | "setting") => {
            task::itimer_value(bytes, "nsec")
        }
        ("sigaltstack", "uss" | "uoss") => task::stack_value(bytes),
        ("sched_getaffinity" | "sched_setaffinity", "user_mask_ptr") => {
            Some(json!(task::cpus(bytes)))
        }
        ("clone3", "uargs") => task::clone_args_value(bytes),
        ("timer_create", "timer_event_spec") => task::sigevent_value(bytes),
        ("timer_create", "created_timer_id") => Some(json!(read::<i32>(bytes)?)),
        ("stat" | "lstat" | "fstat" | "newfstatat" | "fstatat64", "statbuf") => {
            stat::stat_value(bytes)
        }
        ("statx", "buffer") => stat::statx_value(bytes),
        ("openat2", "how") if bytes.len() >= misc::OPEN_HOW_SIZE => Some(json!({
            "flags": read_at::<u64>(bytes, 0)?,
            "mode": read_at::<u64>(bytes, 1)?,
            "resolve": read_at::<u64>(bytes, 2)?,
        })),
        ("statfs" | "fstatfs", "buf") => stat::statfs_value(bytes),
        (_, "rqtp" | "tp" | "utime" | "tsp") => time::timespec_value(bytes),
        ("utimensat", "utimes") => time::timespec_pair_value(bytes),
        ("rt_sigaction", "act" | "oact") => signal::sigaction_value(bytes),
        // rt_sigreturn has no arguments: "arg0" is the mask it restores.
        (_, "nset" | "oset" | "unewset" | "sigmask")
        | ("rt_sigreturn", "arg0")
        | ("rt_sigpending", "uset") => Some(json!(signal::sigset_names(read::<u64>(bytes)?))),
        (_, "new_rlim" | "old_rlim" | "rlim") => misc::rlimit_value(bytes),
        ("wait4", "stat_addr") => Some(json!(read::<i32>(bytes)?)),
        ("getresuid", "ruidp" | "euidp" | "suidp") | ("getresgid", "rgidp" | "egidp" | "sgidp") => {
            Some(json!(read::<u32>(bytes)?))
        }
        ("copy_file_range", "off_in" | "off_out") => Some(json!(read::<i64>(bytes)?)),
        // The offset given, and where the call left it.
        ("sendfile", "offset") => Some(json!({
            "before": read::<i64>(bytes)?,
            "after": after.filter(|_| ok).and_then(read::<i64>),
        })),
        ("sched_getattr" | "sched_setattr", "uattr") => task::sched_attr_value(bytes),
        ("perf_event_open", "attr_uptr") => perf::perf_event_attr_value(bytes),
        // The attr as the call gave it, its `size` bytes (more are read).
        ("bpf", "uattr") => Some(crate::strace::call::bytes_json(
            &bytes[..bytes
                .len()
                .min(usize::try_from(reg(2) & 0xffff_ffff).unwrap_or(0))],
        )),
        // What prctl's option reads or writes there (see command_arg).
        ("prctl", "arg2") => match reg(0) {
            15 | 16 => {
                let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
                Some(json!(String::from_utf8_lossy(&bytes[..end])))
            }
            _ => Some(json!(read::<i32>(bytes)?)),
        },
        (_, "fildes" | "usockvec") => Some(json!([
            read_at::<i32>(bytes, 0)?,
            read_at::<i32>(bytes, 1)?
        ])),
        ("uname", "name") => misc::uname_value(bytes),
        ("execve" | "execveat", "envp") => Some(json!({"count": read::<u32>(bytes)?})),
        ("getdents64", "dirent") => Some(json!({"entries": read::<u32>(bytes)?})),
        ("sysinfo", "info") => misc::sysinfo_value(bytes),
        ("poll" | "ppoll", "ufds") => Some(misc::pollfds_value(bytes, after)),
        ("epoll_ctl", "event") => misc::epoll_event_value(bytes),
        ("epoll_wait" | "epoll_pwait", "events") => Some(misc::epoll_events_value(bytes)),
        (_, "uservaddr" | "umyaddr" | "upeer_sockaddr" | "usockaddr")
        | ("sendto" | "recvfrom", "addr") => {
            Some(super::sockaddr::value(&super::sockaddr::decode(bytes)?))
        }
        (_, "upeer_addrlen" | "usockaddr_len" | "addr_len") if ok => {
            Some(json!(read::<i32>(after.unwrap_or(bytes))?))
        }
        _ => None,
    }
}

/// The value of an argument captured as a list (iovecs, a msghdr).
pub fn list_value(
    syscall: &str,
    arg: &str,
    items: &[&[u8]],
    _before: Option<&[u8]>,
    ret: Option<i64>,
    raw: &[u64],
) -> Option<Value> {
    let ok = ret.is_some_and(|r| crate::strace::errno::errno_of(r).is_none());
    match (syscall, arg) {
        ("writev" | "pwritev" | "pwritev2", "vec") => Some(msg::iovec_value(items)),
        ("readv" | "preadv" | "preadv2", "vec") if ok => Some(msg::iovec_value(items)),
        ("sendmsg", "msg") => msg::msghdr_value(items),
        ("recvmsg", "msg") if ok => msg::msghdr_value(items),
        ("pselect6", "sig") => signal::sigmask_pair_value(items),
        ("sendmmsg" | "recvmmsg", "mmsg") if ok || syscall == "sendmmsg" => {
            let sent = if ok { ret.unwrap_or(0) as u64 } else { 0 };
            Some(msg::mmsghdr_value(items, *raw.get(1)?, sent))
        }
        _ => None,
    }
}

/// The argument that holds the length of an address the call writes back
/// (accept's, getsockname's, recvfrom's): the address is that long; so is
/// getsockopt's value.
pub fn sockaddr_len_arg(syscall: &str, arg: &str) -> Option<&'static str> {
    match (syscall, arg) {
        ("getsockopt", "optval") => Some("optlen"),
        ("accept" | "accept4", "upeer_sockaddr") => Some("upeer_addrlen"),
        ("getsockname" | "getpeername", "usockaddr") => Some("usockaddr_len"),
        ("recvfrom", "addr") => Some("addr_len"),
        _ => None,
    }
}

/// `bytes` of a written-back address cut to the length the call wrote
/// back in `len` (the kernel writes no more; the rest is the caller's).
pub fn written_sockaddr<'a>(bytes: &'a [u8], len: Option<&[u8]>) -> &'a [u8] {
    match len.and_then(read::<u32>) {
        Some(n) => &bytes[..bytes.len().min(n as usize)],
        None => bytes,
    }
}

/// An array as strace's print_array prints it: `[1, 2]`, at most `limit`
/// (-s) elements, then `...`; `...` too after them all when `more` (the
/// rest was not captured).
pub fn array_text(items: impl IntoIterator<Item = String>, limit: usize, more: bool) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cut = more;
    for (i, item) in items.into_iter().enumerate() {
        if i >= limit {
            cut = true;
            break;
        }
        parts.push(item);
    }
    if cut {
        parts.push("...".to_owned());
    }
    format!("[{}]", parts.join(", "))
}

#[cfg(test)]
mod tests;
