use super::*;

#[test]
fn open_flags_as_strace() {
    assert_eq!(open_flags(libc::O_RDONLY as u64), "O_RDONLY");
    assert_eq!(
        open_flags((libc::O_RDONLY | libc::O_NONBLOCK | libc::O_CLOEXEC) as u64),
        "O_RDONLY|O_NONBLOCK|O_CLOEXEC"
    );
    assert_eq!(
        open_flags((libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC | libc::O_CLOEXEC) as u64),
        "O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC"
    );
    assert_eq!(
        open_flags((libc::O_RDONLY | libc::O_CLOEXEC | libc::O_DIRECTORY) as u64),
        "O_RDONLY|O_CLOEXEC|O_DIRECTORY"
    );
    assert_eq!(
        open_flags(libc::O_RDWR as u64 | libc::O_TMPFILE as u64),
        "O_RDWR|O_TMPFILE"
    );
    assert_eq!(
        open_flags(libc::O_RDONLY as u64 | libc::O_NONBLOCK as u64 | KERNEL_O_LARGEFILE),
        "O_RDONLY|O_NONBLOCK|O_LARGEFILE"
    );
    assert_eq!(open_flags(libc::O_SYNC as u64), "O_RDONLY|O_SYNC");
    assert_eq!(open_flags(0x8000_0000), "O_RDONLY|0x80000000");
    assert!(open_has_mode(libc::O_CREAT as u64));
    assert!(!open_has_mode(libc::O_DIRECTORY as u64));
}

#[test]
fn flag_tables() {
    assert_eq!(flags(ACCESS_MODES, 0), "F_OK");
    assert_eq!(
        flags(ACCESS_MODES, (libc::R_OK | libc::X_OK) as u64),
        "R_OK|X_OK"
    );
    assert_eq!(flags(PROT, 0), "PROT_NONE");
    assert_eq!(flags(PROT, 3), "PROT_READ|PROT_WRITE");
    assert_eq!(flags(AT_FLAGS, 0), "0");
    assert_eq!(flags(AT_FLAGS, libc::AT_EMPTY_PATH as u64), "AT_EMPTY_PATH");
    assert_eq!(
        mmap_flags((libc::MAP_PRIVATE | libc::MAP_FIXED | libc::MAP_DENYWRITE) as u64),
        "MAP_PRIVATE|MAP_FIXED|MAP_DENYWRITE"
    );
    assert_eq!(
        mmap_flags((libc::MAP_SHARED | libc::MAP_ANONYMOUS) as u64),
        "MAP_SHARED|MAP_ANONYMOUS"
    );
    assert_eq!(
        clone_flags((libc::CLONE_CHILD_CLEARTID | libc::CLONE_CHILD_SETTID | libc::SIGCHLD) as u64),
        "CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD"
    );
    assert_eq!(clone_flags(libc::SIGCHLD as u64), "SIGCHLD");
    assert_eq!(
        socket_type((libc::SOCK_STREAM | libc::SOCK_CLOEXEC) as u64),
        "SOCK_STREAM|SOCK_CLOEXEC"
    );
    assert_eq!(futex_op(129), "FUTEX_WAKE_PRIVATE");
    assert_eq!(
        futex_op(9 | 128 | 256),
        "FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME"
    );
    assert_eq!(mode(0o644), "0644");
    assert_eq!(mode(0), "000");
    assert_eq!(mode(0o4755), "04755");
    // strace -e trace=chmod,mkdir of chmod("f", 0100644), mkdir("d", 040755):
    // the mode as given, as an unsigned short.
    assert_eq!(mode(0o100644), "0100644");
    assert_eq!(mode(0o40755), "040755");
    assert_eq!(mode(0o1000644), "0644");
    assert_eq!(hex(0), "0");
    assert_eq!(hex(0x26000), "0x26000");
    assert_eq!(
        xval_or_unknown(SEEK_WHENCE, 9, "SEEK_???"),
        "0x9 /* SEEK_??? */"
    );
}

#[test]
fn signals() {
    assert_eq!(signal_name(2), "SIGINT");
    assert_eq!(signal_name(9), "SIGKILL");
    assert_eq!(signal_name(32), "SIGRTMIN");
    assert_eq!(signal_name(33), "SIGRT_1");
    assert_eq!(signal_name(0), "0");
    assert_eq!(signal_name(99), "99");
}

#[test]
fn top_bits_of_an_int_are_its_own() {
    // libc's ints with bit 31 set would sign-extend: EPOLLET printed as
    // `EPOLLIN|0x80000000`, CLONE_IO never named.
    assert_eq!(flags(EPOLL_EVENTS, 0x8000_0001), "EPOLLIN|EPOLLET");
    assert_eq!(flags(CLONE_FLAGS, 0x8000_0000), "CLONE_IO");
    for table in [EPOLL_EVENTS, CLONE_FLAGS, OPEN_FLAGS, MAP_FLAGS, MSG_FLAGS] {
        for &(value, name) in table {
            assert!(value <= u64::from(u32::MAX), "{name}: {value:#x}");
        }
    }
}

#[test]
fn flags_in_the_order_strace_prints_them() {
    // strace prints a flag set in its table's order, not by value: a
    // read-only nosuid mount's statfs, msync(MS_SYNC|MS_INVALIDATE).
    assert_eq!(
        flags(structs::STATFS_FLAGS, 0x1023),
        "ST_VALID|ST_RDONLY|ST_NOSUID|ST_RELATIME"
    );
    assert_eq!(flags(MSYNC_FLAGS, 0x6), "MS_SYNC|MS_INVALIDATE");
}
