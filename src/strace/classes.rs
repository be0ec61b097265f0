//! strace's syscall classes (`strace -e trace=%file`): which syscalls take a
//! file name, a descriptor, a socket... A table by syscall name, so one
//! table serves every architecture. The classification is strace's own (its
//! per-architecture syscall tables for x86_64 and the generic 64-bit ABI),
//! restated here as name -> classes.

/// One class bit per strace class.
pub const DESC: u32 = 1 << 0;
pub const FILE: u32 = 1 << 1;
pub const IPC: u32 = 1 << 2;
pub const NETWORK: u32 = 1 << 3;
pub const PROCESS: u32 = 1 << 4;
pub const SIGNAL: u32 = 1 << 5;
pub const MEMORY: u32 = 1 << 6;
pub const STAT: u32 = 1 << 7;
pub const LSTAT: u32 = 1 << 8;
pub const FSTAT: u32 = 1 << 9;
pub const STAT_LIKE: u32 = 1 << 10;
pub const STATFS: u32 = 1 << 11;
pub const FSTATFS: u32 = 1 << 12;
pub const STATFS_LIKE: u32 = 1 << 13;
pub const PURE: u32 = 1 << 14;
pub const CREDS: u32 = 1 << 15;
pub const CLOCK: u32 = 1 << 16;

/// Class names as `-e trace=` spells them (without the `%`), and their bit.
pub const CLASS_NAMES: &[(&str, u32)] = &[
    ("desc", DESC),
    ("file", FILE),
    ("ipc", IPC),
    ("network", NETWORK),
    ("net", NETWORK),
    ("process", PROCESS),
    ("signal", SIGNAL),
    ("memory", MEMORY),
    ("stat", STAT),
    ("lstat", LSTAT),
    ("fstat", FSTAT),
    ("%stat", STAT_LIKE),
    ("statfs", STATFS),
    ("fstatfs", FSTATFS),
    ("%statfs", STATFS_LIKE),
    ("pure", PURE),
    ("creds", CREDS),
    ("clock", CLOCK),
];

/// Syscall name -> its classes, sorted by name.
#[rustfmt::skip]
static TABLE: &[(&str, u32)] = &[
    ("accept", NETWORK),
    ("accept4", NETWORK),
    ("access", FILE),
    ("acct", FILE),
    ("adjtimex", CLOCK),
    ("bind", NETWORK),
    ("bpf", DESC),
    ("brk", MEMORY),
    ("cachestat", DESC),
    ("capget", CREDS),
    ("capset", CREDS),
    ("chdir", FILE),
    ("chmod", FILE),
    ("chown", FILE),
    ("chroot", FILE),
    ("clock_adjtime", CLOCK),
    ("clock_getres", CLOCK),
    ("clock_gettime", CLOCK),
    ("clock_settime", CLOCK),
    ("clone", PROCESS),
    ("clone3", PROCESS),
    ("close", DESC),
    ("connect", NETWORK),
    ("copy_file_range", DESC),
    ("creat", DESC|FILE),
    ("dup", DESC),
    ("dup2", DESC),
    ("dup3", DESC),
    ("epoll_create", DESC),
    ("epoll_create1", DESC),
    ("epoll_ctl", DESC),
    ("epoll_pwait", DESC),
    ("epoll_pwait2", DESC),
    ("epoll_wait", DESC),
    ("eventfd", DESC),
    ("eventfd2", DESC),
    ("execve", FILE|PROCESS),
    ("execveat", DESC|FILE|PROCESS),
    ("exit", PROCESS),
    ("exit_group", PROCESS),
    ("faccessat", DESC|FILE),
    ("faccessat2", DESC|FILE),
    ("fadvise64", DESC),
    ("fallocate", DESC),
    ("fanotify_init", DESC),
    ("fanotify_mark", DESC|FILE),
    ("fchdir", DESC),
    ("fchmod", DESC),
    ("fchmodat", DESC|FILE),
    ("fchmodat2", DESC|FILE),
    ("fchown", DESC),
    ("fchownat", DESC|FILE),
    ("fcntl", DESC),
    ("fdatasync", DESC),
    ("fgetxattr", DESC),
    ("file_getattr", DESC|FILE),
    ("file_setattr", DESC|FILE),
    ("finit_module", DESC),
    ("flistxattr", DESC),
    ("flock", DESC),
    ("fork", PROCESS),
    ("fremovexattr", DESC),
    ("fsconfig", DESC|FILE),
    ("fsetxattr", DESC),
    ("fsmount", DESC),
    ("fsopen", DESC),
    ("fspick", DESC|FILE),
    ("fstat", DESC|FSTAT|STAT_LIKE),
    ("fstatfs", DESC|FSTATFS|STATFS_LIKE),
    ("fsync", DESC),
    ("ftruncate", DESC),
    ("futimesat", DESC|FILE),
    ("get_mempolicy", MEMORY),
    ("getcwd", FILE),
    ("getdents", DESC),
    ("getdents64", DESC),
    ("getegid", PURE|CREDS),
    ("geteuid", PURE|CREDS),
    ("getgid", PURE|CREDS),
    ("getgroups", CREDS),
    ("getpeername", NETWORK),
    ("getpgrp", PURE),
    ("getpid", PURE),
    ("getpmsg", NETWORK),
    ("getppid", PURE),
    ("getresgid", CREDS),
    ("getresuid", CREDS),
    ("getsockname", NETWORK),
    ("getsockopt", NETWORK),
    ("gettid", PURE),
    ("gettimeofday", CLOCK),
    ("getuid", PURE|CREDS),
    ("getxattr", FILE),
    ("getxattrat", DESC|FILE),
    ("inotify_add_watch", DESC|FILE),
    ("inotify_init", DESC),
    ("inotify_init1", DESC),
    ("inotify_rm_watch", DESC),
    ("io_destroy", MEMORY),
    ("io_setup", MEMORY),
    ("io_uring_enter", DESC|SIGNAL),
    ("io_uring_register", DESC|MEMORY),
    ("io_uring_setup", DESC),
    ("ioctl", DESC),
    ("kexec_file_load", DESC),
    ("kill", PROCESS|SIGNAL),
    ("landlock_add_rule", DESC),
    ("landlock_create_ruleset", DESC),
    ("landlock_restrict_self", DESC),
    ("lchown", FILE),
    ("lgetxattr", FILE),
    ("link", FILE),
    ("linkat", DESC|FILE),
    ("listen", NETWORK),
    ("listxattr", FILE),
    ("listxattrat", DESC|FILE),
    ("llistxattr", FILE),
    ("lremovexattr", FILE),
    ("lseek", DESC),
    ("lsetxattr", FILE),
    ("lstat", FILE|LSTAT|STAT_LIKE),
    ("madvise", MEMORY),
    ("map_shadow_stack", MEMORY),
    ("mbind", MEMORY),
    ("memfd_create", DESC),
    ("memfd_secret", DESC),
    ("migrate_pages", MEMORY),
    ("mincore", MEMORY),
    ("mkdir", FILE),
    ("mkdirat", DESC|FILE),
    ("mknod", FILE),
    ("mknodat", DESC|FILE),
    ("mlock", MEMORY),
    ("mlock2", MEMORY),
    ("mlockall", MEMORY),
    ("mmap", DESC|MEMORY),
    ("mount", FILE),
    ("mount_setattr", DESC|FILE),
    ("move_mount", DESC|FILE),
    ("move_pages", MEMORY),
    ("mprotect", MEMORY),
    ("mq_getsetattr", DESC),
    ("mq_notify", DESC),
    ("mq_open", DESC),
    ("mq_timedreceive", DESC),
    ("mq_timedsend", DESC),
    ("mremap", MEMORY),
    ("mseal", MEMORY),
    ("msgctl", IPC),
    ("msgget", IPC),
    ("msgrcv", IPC),
    ("msgsnd", IPC),
    ("msync", MEMORY),
    ("munlock", MEMORY),
    ("munlockall", MEMORY),
    ("munmap", MEMORY),
    ("name_to_handle_at", DESC|FILE),
    ("newfstatat", DESC|FILE|FSTAT|STAT_LIKE),
    ("open", DESC|FILE),
    ("open_by_handle_at", DESC),
    ("open_tree", DESC|FILE),
    ("open_tree_attr", DESC|FILE),
    ("openat", DESC|FILE),
    ("openat2", DESC|FILE),
    ("pause", SIGNAL),
    ("perf_event_open", DESC),
    ("pidfd_getfd", DESC),
    ("pidfd_open", DESC),
    ("pidfd_send_signal", DESC|PROCESS|SIGNAL),
    ("pipe", DESC),
    ("pipe2", DESC),
    ("pivot_root", FILE),
    ("pkey_mprotect", MEMORY),
    ("poll", DESC),
    ("ppoll", DESC),
    ("prctl", CREDS),
    ("pread64", DESC),
    ("preadv", DESC),
    ("preadv2", DESC),
    ("process_madvise", DESC),
    ("process_mrelease", DESC),
    ("pselect6", DESC),
    ("putpmsg", NETWORK),
    ("pwrite64", DESC),
    ("pwritev", DESC),
    ("pwritev2", DESC),
    ("quotactl", FILE),
    ("quotactl_fd", DESC),
    ("read", DESC),
    ("readahead", DESC),
    ("readlink", FILE),
    ("readlinkat", DESC|FILE),
    ("readv", DESC),
    ("recvfrom", NETWORK),
    ("recvmmsg", NETWORK),
    ("recvmsg", NETWORK),
    ("remap_file_pages", MEMORY),
    ("removexattr", FILE),
    ("removexattrat", DESC|FILE),
    ("rename", FILE),
    ("renameat", DESC|FILE),
    ("renameat2", DESC|FILE),
    ("rmdir", FILE),
    ("rt_sigaction", SIGNAL),
    ("rt_sigpending", SIGNAL),
    ("rt_sigprocmask", SIGNAL),
    ("rt_sigqueueinfo", PROCESS|SIGNAL),
    ("rt_sigreturn", SIGNAL),
    ("rt_sigsuspend", SIGNAL),
    ("rt_sigtimedwait", SIGNAL),
    ("rt_tgsigqueueinfo", PROCESS|SIGNAL),
    ("select", DESC),
    ("semctl", IPC),
    ("semget", IPC),
    ("semop", IPC),
    ("semtimedop", IPC),
    ("sendfile", DESC|NETWORK),
    ("sendmmsg", NETWORK),
    ("sendmsg", NETWORK),
    ("sendto", NETWORK),
    ("set_mempolicy", MEMORY),
    ("set_mempolicy_home_node", MEMORY),
    ("setfsgid", CREDS),
    ("setfsuid", CREDS),
    ("setgid", CREDS),
    ("setgroups", CREDS),
    ("setns", DESC),
    ("setregid", CREDS),
    ("setresgid", CREDS),
    ("setresuid", CREDS),
    ("setreuid", CREDS),
    ("setsockopt", NETWORK),
    ("settimeofday", CLOCK),
    ("setuid", CREDS),
    ("setxattr", FILE),
    ("setxattrat", DESC|FILE),
    ("shmat", IPC|MEMORY),
    ("shmctl", IPC),
    ("shmdt", IPC|MEMORY),
    ("shmget", IPC),
    ("shutdown", NETWORK),
    ("sigaltstack", SIGNAL),
    ("signalfd", DESC|SIGNAL),
    ("signalfd4", DESC|SIGNAL),
    ("socket", NETWORK),
    ("socketpair", NETWORK),
    ("splice", DESC),
    ("stat", FILE|STAT|STAT_LIKE),
    ("statfs", FILE|STATFS|STATFS_LIKE),
    ("statx", DESC|FILE|FSTAT|STAT_LIKE),
    ("swapoff", FILE),
    ("swapon", FILE),
    ("symlink", FILE),
    ("symlinkat", DESC|FILE),
    ("sync_file_range", DESC),
    ("syncfs", DESC),
    ("tee", DESC),
    ("tgkill", PROCESS|SIGNAL),
    ("time", CLOCK),
    ("timerfd_create", DESC),
    ("timerfd_gettime", DESC),
    ("timerfd_settime", DESC),
    ("tkill", PROCESS|SIGNAL),
    ("truncate", FILE),
    ("umount2", FILE),
    ("unlink", FILE),
    ("unlinkat", DESC|FILE),
    ("uselib", FILE),
    ("userfaultfd", DESC),
    ("ustat", STATFS_LIKE),
    ("utime", FILE),
    ("utimensat", DESC|FILE),
    ("utimes", FILE),
    ("vfork", PROCESS),
    ("vmsplice", DESC),
    ("wait4", PROCESS),
    ("waitid", PROCESS),
    ("write", DESC),
    ("writev", DESC),
];

/// The class bits of a syscall (0 when it is in no class).
pub fn classes_of(syscall: &str) -> u32 {
    TABLE
        .binary_search_by(|(name, _)| name.cmp(&syscall))
        .map_or(0, |i| TABLE[i].1)
}

/// The bit of a class name: "file", "%file", "net", "%%stat".
pub fn class_bit(class: &str) -> Option<u32> {
    let bare = class.strip_prefix('%').unwrap_or(class);
    CLASS_NAMES
        .iter()
        .find(|(n, _)| *n == bare)
        .map(|(_, b)| *b)
}

/// The names of the class's syscalls, sorted; None for an unknown class.
/// Names are strace's; some may not exist on this architecture.
pub fn class_syscalls(class: &str) -> Option<Vec<&'static str>> {
    let bit = class_bit(class)?;
    Some(
        TABLE
            .iter()
            .filter(|(_, bits)| bits & bit != 0)
            .map(|(name, _)| *name)
            .collect(),
    )
}

/// The class names (without `%`) a syscall belongs to, e.g. ["desc", "file"].
pub fn class_names_of(syscall: &str) -> Vec<&'static str> {
    let bits = classes_of(syscall);
    let mut seen = 0;
    CLASS_NAMES
        .iter()
        .filter(|(_, b)| {
            let new = bits & b != 0 && seen & b == 0;
            seen |= b;
            new
        })
        .map(|(n, _)| *n)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_for_binary_search() {
        assert!(TABLE.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn common_classes() {
        let file = class_syscalls("%file").unwrap();
        for name in [
            "open",
            "openat",
            "execve",
            "stat",
            "newfstatat",
            "unlink",
            "chdir",
            "statx",
        ] {
            assert!(file.contains(&name), "{name} not in %file");
        }
        assert!(!file.contains(&"read") && !file.contains(&"close"));
        let desc = class_syscalls("desc").unwrap();
        for name in ["read", "write", "close", "openat", "mmap", "fstat", "dup2"] {
            assert!(desc.contains(&name), "{name} not in %desc");
        }
        let net = class_syscalls("%network").unwrap();
        assert_eq!(net, class_syscalls("%net").unwrap());
        for name in ["socket", "connect", "sendto", "recvfrom", "accept4"] {
            assert!(net.contains(&name), "{name} not in %network");
        }
        let process = class_syscalls("%process").unwrap();
        for name in [
            "clone",
            "clone3",
            "execve",
            "exit_group",
            "wait4",
            "kill",
            "fork",
        ] {
            assert!(process.contains(&name), "{name} not in %process");
        }
        let memory = class_syscalls("%memory").unwrap();
        for name in ["mmap", "munmap", "mprotect", "brk", "mremap", "madvise"] {
            assert!(memory.contains(&name), "{name} not in %memory");
        }
        let signal = class_syscalls("%signal").unwrap();
        for name in [
            "rt_sigaction",
            "rt_sigprocmask",
            "kill",
            "tgkill",
            "rt_sigreturn",
        ] {
            assert!(signal.contains(&name), "{name} not in %signal");
        }
        let ipc = class_syscalls("%ipc").unwrap();
        for name in ["shmget", "semop", "msgsnd"] {
            assert!(ipc.contains(&name), "{name} not in %ipc");
        }
        assert_eq!(class_syscalls("%%stat").unwrap().len(), 5);
        assert!(class_syscalls("%nonsense").is_none());
        assert_eq!(class_names_of("openat"), vec!["desc", "file"]);
        assert_eq!(class_names_of("getpid"), vec!["pure"]);
        assert!(class_names_of("no_such_call").is_empty());
    }
}
