//! Which calls and arguments deal in fds, for the fd table: argument
//! names that hold an fd, calls that return one, the calls that change a
//! process's fds, and what their new fds are named.

/// Argument names that hold an fd of the calling process.
pub fn is_fd_name(name: &str) -> bool {
    matches!(
        name,
        "fd" | "dfd"
            | "olddfd"
            | "newdfd"
            | "oldfd"
            | "newfd"
            | "epfd"
            | "fd_in"
            | "fd_out"
            | "in_fd"
            | "out_fd"
            | "ufd"
            | "fildes"
            | "fanotify_fd"
            | "mountdirfd"
            | "dirfd"
            | "pidfd"
            | "mqdes"
    )
}

pub(super) fn is_dirfd_name(name: &str) -> bool {
    matches!(name, "dfd" | "olddfd" | "newdfd" | "dirfd" | "mountdirfd")
}

/// Calls whose return is a new fd (strace's RVAL_FD).
pub fn returns_fd(name: &str) -> bool {
    matches!(
        name,
        "open"
            | "openat"
            | "openat2"
            | "creat"
            | "open_by_handle_at"
            | "dup"
            | "dup2"
            | "dup3"
            | "socket"
            | "accept"
            | "accept4"
            | "eventfd"
            | "eventfd2"
            | "epoll_create"
            | "epoll_create1"
            | "memfd_create"
            | "memfd_secret"
            | "inotify_init"
            | "inotify_init1"
            | "signalfd"
            | "signalfd4"
            | "timerfd_create"
            | "pidfd_open"
            | "pidfd_getfd"
            | "userfaultfd"
            | "fanotify_init"
            | "perf_event_open"
            | "io_uring_setup"
            | "fsopen"
            | "fsmount"
            | "fspick"
            | "open_tree"
            | "mq_open"
    )
}

/// The syscalls that change what a process's fds or cwd name: a table
/// that sees them all (with their path strings) is exact; the command's -y
/// traces them whatever -e shows.
pub const TRACKED: &[&str] = &[
    "open",
    "openat",
    "openat2",
    "creat",
    "open_by_handle_at",
    "close",
    "close_range",
    "dup",
    "dup2",
    "dup3",
    "fcntl",
    "fcntl64",
    "pipe",
    "pipe2",
    "socket",
    "socketpair",
    "accept",
    "accept4",
    "connect",
    "bind",
    "listen",
    "eventfd",
    "eventfd2",
    "epoll_create",
    "epoll_create1",
    "memfd_create",
    "memfd_secret",
    "inotify_init",
    "inotify_init1",
    "signalfd",
    "signalfd4",
    "timerfd_create",
    "pidfd_open",
    "pidfd_getfd",
    "userfaultfd",
    "fanotify_init",
    "perf_event_open",
    "io_uring_setup",
    "fsopen",
    "fsmount",
    "fspick",
    "open_tree",
    "mq_open",
    "chdir",
    "fchdir",
    // An open file unlinked, or renamed over, is `(deleted)`; one renamed
    // has the new name (strace reads /proc as it prints).
    "unlink",
    "unlinkat",
    "rmdir",
    "rename",
    "renameat",
    "renameat2",
    // TIOCGPTPEER makes an fd; FIOCLEX and FIONCLEX set close-on-exec.
    "ioctl",
    "execve",
    "execveat",
    "clone",
    "clone3",
    "fork",
    "vfork",
    "exit_group",
];

pub(super) const O_CLOEXEC: u64 = libc::O_CLOEXEC as u64;
pub(super) const F_DUPFD: i64 = libc::F_DUPFD as i64;
pub(super) const F_DUPFD_CLOEXEC: i64 = libc::F_DUPFD_CLOEXEC as i64;
pub(super) const F_SETFD: i64 = libc::F_SETFD as i64;
pub(super) const CLOSE_RANGE_CLOEXEC: u64 = 4;
/// Whether a new fd of these calls is close-on-exec: their flags argument
/// carries O_CLOEXEC's value (SOCK_CLOEXEC, EFD_CLOEXEC, EPOLL_CLOEXEC...),
/// but memfd_create's MFD_CLOEXEC is 1.
pub(super) fn new_fd_cloexec(name: &str, raw: &[u64]) -> bool {
    let at = |i: usize| raw.get(i).copied().unwrap_or(0);
    match name {
        "socket" => at(1) & O_CLOEXEC != 0,
        "accept4" => at(3) & O_CLOEXEC != 0,
        "eventfd2" | "timerfd_create" => at(1) & O_CLOEXEC != 0,
        "epoll_create1" | "inotify_init1" => at(0) & O_CLOEXEC != 0,
        "signalfd4" => at(3) & O_CLOEXEC != 0,
        "memfd_create" => at(1) & 1 != 0,
        "pipe2" => at(1) & O_CLOEXEC != 0,
        "socketpair" => at(1) & O_CLOEXEC != 0,
        _ => false,
    }
}

/// What /proc shows for the fds of these calls, when it cannot be read.
pub(super) fn anon_name(name: &str) -> Option<&'static str> {
    Some(match name {
        "eventfd" | "eventfd2" => "anon_inode:[eventfd]",
        "epoll_create" | "epoll_create1" => "anon_inode:[eventpoll]",
        "signalfd" | "signalfd4" => "anon_inode:[signalfd]",
        "timerfd_create" => "anon_inode:[timerfd]",
        "inotify_init" | "inotify_init1" => "anon_inode:inotify",
        "pidfd_open" => "anon_inode:[pidfd]",
        "userfaultfd" => "anon_inode:[userfaultfd]",
        "perf_event_open" => "anon_inode:[perf_event]",
        "io_uring_setup" => "anon_inode:[io_uring]",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fd_names() {
        assert!(is_fd_name("fd") && is_fd_name("dfd") && is_fd_name("out_fd"));
        assert!(!is_fd_name("flags") && !is_fd_name("filename"));
        assert!(returns_fd("openat") && returns_fd("socket") && !returns_fd("read"));
        assert_eq!(anon_name("eventfd2"), Some("anon_inode:[eventfd]"));
        assert!(new_fd_cloexec("memfd_create", &[0, 1]));
        assert!(new_fd_cloexec("socket", &[2, 1 | O_CLOEXEC, 0]));
    }

    #[test]
    fn every_call_that_makes_an_fd_is_tracked() {
        // pipe2 and socketpair were not: -y without them in -e showed
        // their fds as numbers.
        use crate::metadata::{names, syscall_name};
        let names: Vec<&str> = names::all_syscalls()
            .into_iter()
            .filter_map(syscall_name)
            .collect();
        for name in ["pipe2", "socketpair"].into_iter().chain(names) {
            let makes_fds = returns_fd(name) || matches!(name, "pipe" | "pipe2" | "socketpair");
            assert!(
                !makes_fds || TRACKED.contains(&name),
                "{name} is not in TRACKED"
            );
        }
    }
}
