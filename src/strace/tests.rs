//! Whole calls formatted as strace prints them (expected lines are strace
//! 6.1's output for the same calls).
use super::*;

fn arg<'a>(name: &'a str, c_type: &'a str, raw: u64) -> ArgView<'a> {
    ArgView {
        name,
        c_type,
        raw,
        captured: None,
    }
}

fn with<'a>(mut a: ArgView<'a>, bytes: &'a [u8]) -> ArgView<'a> {
    a.captured = Some(CapturedView::bytes(bytes, false));
    a
}

fn call(name: &str, args: &[ArgView], ret: Option<i64>) -> String {
    format_call(name, args, ret, &StraceOptions::default())
}

const AT_FDCWD: u64 = -100i64 as u64;

fn openat<'a>(path: &'a [u8], flags: i32, mode: u64) -> Vec<ArgView<'a>> {
    vec![
        arg("dfd", "int", AT_FDCWD),
        with(arg("filename", "const char *", 0x7ffc0000), path),
        arg("flags", "int", flags as u64),
        arg("mode", "umode_t", mode),
    ]
}

#[test]
fn openat_lines() {
    assert_eq!(
        call(
            "openat",
            &openat(b"/etc/hostname", libc::O_RDONLY, 0),
            Some(3)
        ),
        r#"openat(AT_FDCWD, "/etc/hostname", O_RDONLY) = 3"#
    );
    assert_eq!(
        call(
            "openat",
            &openat(
                b"/nonexistent",
                libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC | libc::O_CLOEXEC,
                0o644
            ),
            Some(-2)
        ),
        r#"openat(AT_FDCWD, "/nonexistent", O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC, 0644) = -1 ENOENT (No such file or directory)"#
    );
    // Without a capture the path is a pointer.
    let mut args = openat(b"", libc::O_RDONLY, 0);
    args[1].captured = None;
    assert_eq!(
        call("openat", &args, Some(3)),
        "openat(AT_FDCWD, 0x7ffc0000, O_RDONLY)  = 3"
    );
    // A real dirfd, and the terminating NUL of a capture is not shown.
    args = openat(
        b"hostname\0junk",
        libc::O_RDONLY | libc::O_CLOEXEC | libc::O_DIRECTORY,
        0,
    );
    args[0].raw = 3;
    assert_eq!(
        call("openat", &args, Some(4)),
        r#"openat(3, "hostname", O_RDONLY|O_CLOEXEC|O_DIRECTORY) = 4"#
    );
}

#[test]
fn results_align_at_column_40() {
    assert_eq!(
        call("close", &[arg("fd", "unsigned int", 3)], Some(0)),
        "close(3)                                = 0"
    );
    let prefix = "[pid 24977] ";
    let line = format_call_at(
        prefix.len(),
        "brk",
        &[arg("brk", "unsigned long", 0)],
        Some(0x55dd4b542000),
        &StraceOptions::default(),
    );
    assert_eq!(
        format!("{prefix}{line}"),
        "[pid 24977] brk(NULL)                   = 0x55dd4b542000"
    );
}

#[test]
fn read_and_write_buffers() {
    let read_args = |data: &'static [u8]| {
        vec![
            arg("fd", "unsigned int", 3),
            with(arg("buf", "char *", 0x7fff0000), data),
            arg("count", "size_t", 131072),
        ]
    };
    assert_eq!(
        call("read", &read_args(b"vm\n"), Some(3)),
        r#"read(3, "vm\n", 131072)                 = 3"#
    );
    assert_eq!(
        call("read", &read_args(b""), Some(0)),
        r#"read(3, "", 131072)                     = 0"#
    );
    // A failed read shows the buffer's address.
    assert_eq!(
        call("read", &read_args(b""), Some(-11)),
        "read(3, 0x7fff0000, 131072)             = -1 EAGAIN (Resource temporarily unavailable)"
    );
    // Unfinished: what strace printed at entry, then the marker.
    assert_eq!(
        call("read", &read_args(b""), None),
        "read(3,  <unfinished ...>)              = ?"
    );
    let elf =
        b"\x7fELF\x02\x01\x01\x03\0\0\0\0\0\0\0\0\x03\0>\0\x01\0\0\0\x10t\x02\0\0\0\0\0\0\0\0\0";
    let args = vec![
        arg("fd", "unsigned int", 3),
        with(arg("buf", "char *", 0x7fff0000), elf),
        arg("count", "size_t", 832),
    ];
    assert_eq!(
        call("read", &args, Some(832)),
        r#"read(3, "\177ELF\2\1\1\3\0\0\0\0\0\0\0\0\3\0>\0\1\0\0\0\20t\2\0\0\0\0\0"..., 832) = 832"#
    );
    let write = vec![
        arg("fd", "unsigned int", 7),
        with(arg("buf", "const char *", 0x7fff0000), b"hi\0\xff"),
        arg("count", "size_t", 4),
    ];
    assert_eq!(
        call("write", &write, Some(4)),
        r#"write(7, "hi\0\377", 4)                 = 4"#
    );
    // An empty write shows "" with or without a capture.
    let empty = vec![
        arg("fd", "unsigned int", 1),
        arg("buf", "const char *", 0x7fff0000),
        arg("count", "size_t", 0),
    ];
    assert_eq!(
        call("write", &empty, Some(0)),
        r#"write(1, "", 0)                         = 0"#
    );
    // A capture shorter than the data (bounded by the capture size).
    let write = vec![
        arg("fd", "unsigned int", 1),
        with(arg("buf", "const char *", 0x7fff0000), b"abc"),
        arg("count", "size_t", 10),
    ];
    assert_eq!(
        call("write", &write, Some(10)),
        r#"write(1, "abc"..., 10)                  = 10"#
    );
}

#[test]
fn string_size_bounds_buffers_not_paths() {
    let opts = StraceOptions {
        string_size: 4,
        ..StraceOptions::default()
    };
    let write = vec![
        arg("fd", "unsigned int", 1),
        with(arg("buf", "const char *", 0x7fff0000), b"abcdef"),
        arg("count", "size_t", 6),
    ];
    assert_eq!(
        format_call("write", &write, Some(6), &opts),
        r#"write(1, "abcd"..., 6)                  = 6"#
    );
    assert_eq!(
        format_call("openat", &openat(b"/etc/hostname", 0, 0), Some(3), &opts),
        r#"openat(AT_FDCWD, "/etc/hostname", O_RDONLY) = 3"#
    );
    // A path whose capture was cut.
    let mut args = openat(b"/very/long", 0, 0);
    args[1].captured = Some(CapturedView::bytes(b"/very/long", true));
    assert_eq!(
        format_call("openat", &args, Some(3), &opts),
        r#"openat(AT_FDCWD, "/very/long"..., O_RDONLY) = 3"#
    );
}

#[test]
fn non_utf8_paths_are_escaped_not_mangled() {
    assert_eq!(
        call("openat", &openat(b"/tmp/caf\xc3\xa9\xff\n", 0, 0), Some(-2)),
        r#"openat(AT_FDCWD, "/tmp/caf\303\251\377\n", O_RDONLY) = -1 ENOENT (No such file or directory)"#
    );
}

#[test]
fn execve_argv() {
    let argv = vec![
        Piece {
            bytes: b"sh",
            truncated: false,
        },
        Piece {
            bytes: b"-c",
            truncated: false,
        },
        Piece {
            bytes: b"/bin/true & wait; trap \"\" INT; echo",
            truncated: false,
        },
    ];
    let args = vec![
        with(arg("filename", "const char *", 0x1000), b"/usr/bin/sh"),
        ArgView {
            captured: Some(CapturedView::list(argv, false)),
            ..arg("argv", "const char *const *", 0x2000)
        },
        arg("envp", "const char *const *", 0x7ffc1c2955b0),
    ];
    assert_eq!(
        call("execve", &args, Some(0)),
        r#"execve("/usr/bin/sh", ["sh", "-c", "/bin/true & wait; trap \"\" INT; e"...], 0x7ffc1c2955b0) = 0"#
    );
    // Killed during execve: every argument was printed at entry.
    assert!(call("execve", &args, None).ends_with(r#"0x7ffc1c2955b0 <unfinished ...>) = ?"#));
    // The environment's count, as strace words it.
    for (n, text) in [(0u32, "0 vars"), (1, "1 var"), (35, "35 vars")] {
        let mut args = args.clone();
        let count = n.to_ne_bytes();
        args[2] = with(arg("envp", "const char *const *", 0x7ffc1c2955b0), &count);
        let line = call("execve", &args, Some(0));
        assert!(
            line.ends_with(&format!("0x7ffc1c2955b0 /* {text} */) = 0")),
            "{line}"
        );
    }
}

#[test]
fn exit_group_never_returns() {
    assert_eq!(
        call("exit_group", &[arg("error_code", "int", 0)], None),
        "exit_group(0)                           = ?"
    );
}

#[test]
fn statx_as_strace() {
    let args = [
        arg("dfd", "int", AT_FDCWD),
        with(arg("filename", "const char *", 0x1000), b"/etc"),
        arg(
            "flags",
            "unsigned",
            (libc::AT_SYMLINK_NOFOLLOW | libc::AT_NO_AUTOMOUNT) as u64,
        ),
        arg("mask", "unsigned int", 0xfff),
        arg("buffer", "struct statx *", 0x7ffc0000),
    ];
    assert_eq!(
        call("statx", &args, Some(0)),
        r#"statx(AT_FDCWD, "/etc", AT_STATX_SYNC_AS_STAT|AT_SYMLINK_NOFOLLOW|AT_NO_AUTOMOUNT, STATX_ALL, 0x7ffc0000) = 0"#
    );
}

#[test]
fn rt_sigreturn_has_no_exit() {
    assert_eq!(
        call("rt_sigreturn", &[], None),
        "rt_sigreturn()                          = ?"
    );
}

#[test]
fn memory_calls() {
    let mmap = vec![
        arg("addr", "unsigned long", 0x7f8446ec0000),
        arg("len", "unsigned long", 1400832),
        arg(
            "prot",
            "unsigned long",
            (libc::PROT_READ | libc::PROT_EXEC) as u64,
        ),
        arg(
            "flags",
            "unsigned long",
            (libc::MAP_PRIVATE | libc::MAP_FIXED | libc::MAP_DENYWRITE) as u64,
        ),
        arg("fd", "unsigned long", 3),
        arg("off", "unsigned long", 0x26000),
    ];
    assert_eq!(
        call("mmap", &mmap, Some(0x7f8446ec0000)),
        "mmap(0x7f8446ec0000, 1400832, PROT_READ|PROT_EXEC, MAP_PRIVATE|MAP_FIXED|MAP_DENYWRITE, 3, 0x26000) = 0x7f8446ec0000"
    );
    let anon = vec![
        arg("addr", "unsigned long", 0),
        arg("len", "unsigned long", 8192),
        arg("prot", "unsigned long", 3),
        arg(
            "flags",
            "unsigned long",
            (libc::MAP_PRIVATE | libc::MAP_ANONYMOUS) as u64,
        ),
        arg("fd", "unsigned long", u64::MAX),
        arg("off", "unsigned long", 0),
    ];
    assert_eq!(
        call("mmap", &anon, Some(0x7f8447085000)),
        "mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f8447085000"
    );
    assert_eq!(
        call("mmap", &anon, Some(-12)),
        "mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = -1 ENOMEM (Cannot allocate memory)"
    );
    assert_eq!(
        call(
            "mprotect",
            &[
                arg("start", "unsigned long", 0x7f0000),
                arg("len", "size_t", 4096),
                arg("prot", "unsigned long", 0)
            ],
            Some(0)
        ),
        "mprotect(0x7f0000, 4096, PROT_NONE)     = 0"
    );
    assert_eq!(
        call(
            "munmap",
            &[
                arg("addr", "unsigned long", 0x7fac3e6f9000),
                arg("len", "size_t", 8192)
            ],
            Some(0)
        ),
        "munmap(0x7fac3e6f9000, 8192)            = 0"
    );
}

#[test]
fn descriptor_calls() {
    assert_eq!(
        call(
            "lseek",
            &[
                arg("fd", "unsigned int", 3),
                arg("offset", "off_t", -2i64 as u64),
                arg("whence", "unsigned int", 1)
            ],
            Some(1)
        ),
        "lseek(3, -2, SEEK_CUR)                  = 1"
    );
    assert_eq!(
        call(
            "fcntl",
            &[
                arg("fd", "unsigned int", 3),
                arg("cmd", "unsigned int", libc::F_GETFD as u64),
                arg("arg", "unsigned long", 0)
            ],
            Some(1)
        ),
        "fcntl(3, F_GETFD)                       = 0x1 (flags FD_CLOEXEC)"
    );
    let getfl = [
        arg("fd", "unsigned int", 3),
        arg("cmd", "unsigned int", libc::F_GETFL as u64),
        arg("arg", "unsigned long", 0),
    ];
    #[cfg(target_arch = "x86_64")]
    assert_eq!(
        call("fcntl", &getfl, Some(0x8800)),
        "fcntl(3, F_GETFL)                       = 0x8800 (flags O_RDONLY|O_NONBLOCK|O_LARGEFILE)"
    );
    let _ = getfl;
    assert_eq!(
        call(
            "fcntl",
            &[
                arg("fd", "unsigned int", 3),
                arg("cmd", "unsigned int", libc::F_SETFD as u64),
                arg("arg", "unsigned long", 1)
            ],
            Some(0)
        ),
        "fcntl(3, F_SETFD, FD_CLOEXEC)           = 0"
    );
    assert_eq!(
        call(
            "fcntl",
            &[
                arg("fd", "unsigned int", 3),
                arg("cmd", "unsigned int", libc::F_DUPFD_CLOEXEC as u64),
                arg("arg", "unsigned long", 10)
            ],
            Some(11)
        ),
        "fcntl(3, F_DUPFD_CLOEXEC, 10)           = 11"
    );
    assert_eq!(
        call(
            "dup3",
            &[
                arg("oldfd", "unsigned int", 3),
                arg("newfd", "unsigned int", 21),
                arg("flags", "int", libc::O_CLOEXEC as u64)
            ],
            Some(21)
        ),
        "dup3(3, 21, O_CLOEXEC)                  = 21"
    );
    assert_eq!(
        call(
            "pipe2",
            &[
                arg("fildes", "int *", 0x7ffd0000),
                arg("flags", "int", (libc::O_NONBLOCK | libc::O_CLOEXEC) as u64)
            ],
            Some(0)
        ),
        "pipe2(0x7ffd0000, O_NONBLOCK|O_CLOEXEC) = 0"
    );
    assert_eq!(
        call(
            "pipe2",
            &[arg("fildes", "int *", 0x7ffd0000), arg("flags", "int", 0)],
            None
        ),
        "pipe2( <unfinished ...>)                = ?"
    );
    assert_eq!(
        call(
            "ioctl",
            &[
                arg("fd", "unsigned int", 0),
                arg("cmd", "unsigned int", 0x5401),
                arg("arg", "unsigned long", 0x7fff9f2fde20)
            ],
            Some(-25)
        ),
        "ioctl(0, TCGETS, 0x7fff9f2fde20)        = -1 ENOTTY (Inappropriate ioctl for device)"
    );
    assert_eq!(
        call("close", &[arg("fd", "unsigned int", 99)], Some(-9)),
        "close(99)                               = -1 EBADF (Bad file descriptor)"
    );
}

#[test]
fn file_calls() {
    let path = |p: &'static [u8]| with(arg("filename", "const char *", 0x1000), p);
    assert_eq!(
        call(
            "access",
            &[
                path(b"/etc"),
                arg("mode", "int", (libc::R_OK | libc::X_OK) as u64)
            ],
            Some(0)
        ),
        r#"access("/etc", R_OK|X_OK)               = 0"#
    );
    assert_eq!(
        call(
            "mkdir",
            &[path(b"/tmp/st/dd"), arg("mode", "umode_t", 0o755)],
            Some(0)
        ),
        r#"mkdir("/tmp/st/dd", 0755)               = 0"#
    );
    assert_eq!(
        call("unlink", &[path(b"/tmp/st/nope")], Some(-2)),
        r#"unlink("/tmp/st/nope")                  = -1 ENOENT (No such file or directory)"#
    );
    assert_eq!(
        call(
            "newfstatat",
            &[
                arg("dfd", "int", AT_FDCWD),
                path(b"/etc/hostname"),
                arg("statbuf", "struct stat *", 0x7ffe0000),
                arg("flag", "int", libc::AT_SYMLINK_NOFOLLOW as u64)
            ],
            Some(0)
        ),
        r#"newfstatat(AT_FDCWD, "/etc/hostname", 0x7ffe0000, AT_SYMLINK_NOFOLLOW) = 0"#
    );
    assert_eq!(
        call(
            "newfstatat",
            &[
                arg("dfd", "int", 3),
                path(b""),
                arg("statbuf", "struct stat *", 0x7ffe0000),
                arg("flag", "int", libc::AT_EMPTY_PATH as u64)
            ],
            None
        ),
        r#"newfstatat(3, "",  <unfinished ...>)    = ?"#
    );
    let rl = [
        path(b"/proc/self/exe"),
        with(
            arg("buf", "char *", 0x2000),
            b"/root/.pyenv/versions/3.11.7/bin/python3.11",
        ),
        arg("bufsiz", "int", 4096),
    ];
    assert_eq!(
        call("readlink", &rl, Some(43)),
        r#"readlink("/proc/self/exe", "/root/.pyenv/versions/3.11.7/bin"..., 4096) = 43"#
    );
    assert_eq!(
        call(
            "getcwd",
            &[
                with(arg("buf", "char *", 0x2000), b"/tmp/st\0"),
                arg("size", "unsigned long", 1024)
            ],
            Some(8)
        ),
        r#"getcwd("/tmp/st", 1024)                 = 8"#
    );
    assert_eq!(
        call(
            "unlinkat",
            &[
                arg("dfd", "int", AT_FDCWD),
                path(b"d"),
                arg("flag", "int", libc::AT_REMOVEDIR as u64)
            ],
            Some(0)
        ),
        r#"unlinkat(AT_FDCWD, "d", AT_REMOVEDIR)   = 0"#
    );
}

#[test]
fn xattr_values_lose_a_trailing_nul() {
    // strace -e trace=lsetxattr,getxattr setfattr -n user.c -v 0x61626300 f; getfattr -n user.c f
    let set = [
        with(arg("pathname", "const char *", 0x1000), b"f"),
        with(arg("name", "const char *", 0x2000), b"user.c"),
        with(arg("value", "const void *", 0x3000), b"abc\0"),
        arg("size", "size_t", 4),
        arg("flags", "int", 0),
    ];
    assert_eq!(
        call("lsetxattr", &set, Some(0)),
        r#"lsetxattr("f", "user.c", "abc", 4, 0)   = 0"#
    );
    let get = [
        with(arg("pathname", "const char *", 0x1000), b"f"),
        with(arg("name", "const char *", 0x2000), b"user.c"),
        with(arg("value", "void *", 0x3000), b"abc\0\0"),
        arg("size", "size_t", 256),
    ];
    assert_eq!(
        call("getxattr", &get, Some(5)),
        r#"getxattr("f", "user.c", "abc\0", 256)   = 5"#
    );
}

#[test]
fn process_and_signal_calls() {
    let clone = [
        arg(
            "clone_flags",
            "unsigned long",
            (libc::CLONE_CHILD_CLEARTID | libc::CLONE_CHILD_SETTID | libc::SIGCHLD) as u64,
        ),
        arg("newsp", "unsigned long", 0),
        arg("parent_tidptr", "int *", 0),
        arg("child_tidptr", "int *", 0x7f8446e97a10),
        arg("tls", "unsigned long", 0),
    ];
    assert_eq!(
        call("clone", &clone, Some(24977)),
        "clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f8446e97a10) = 24977"
    );
    assert_eq!(
        call(
            "kill",
            &[arg("pid", "pid_t", 26080), arg("sig", "int", 0)],
            Some(0)
        ),
        "kill(26080, 0)                          = 0"
    );
    assert_eq!(
        call(
            "tgkill",
            &[
                arg("tgid", "pid_t", 5),
                arg("pid", "pid_t", 6),
                arg("sig", "int", 9)
            ],
            Some(0)
        ),
        "tgkill(5, 6, SIGKILL)                   = 0"
    );
    assert_eq!(
        call(
            "rt_sigprocmask",
            &[
                arg("how", "int", 0),
                arg("nset", "sigset_t *", 0x1000),
                arg("oset", "sigset_t *", 0x2000),
                arg("sigsetsize", "size_t", 8)
            ],
            Some(0)
        ),
        "rt_sigprocmask(SIG_BLOCK, 0x1000, 0x2000, 8) = 0"
    );
    assert_eq!(
        call(
            "rt_sigaction",
            &[
                arg("sig", "int", 12),
                arg("act", "const struct sigaction *", 0x1000),
                arg("oact", "struct sigaction *", 0),
                arg("sigsetsize", "size_t", 8)
            ],
            Some(0)
        ),
        "rt_sigaction(SIGUSR2, 0x1000, NULL, 8)  = 0"
    );
    assert_eq!(
        call("getpid", &[], Some(26080)),
        "getpid()                                = 26080"
    );
    assert_eq!(
        call(
            "wait4",
            &[
                arg("upid", "pid_t", u32::MAX as u64),
                arg("stat_addr", "int *", 0x7ffc0000),
                arg("options", "int", 1),
                arg("ru", "struct rusage *", 0)
            ],
            Some(-10)
        ),
        "wait4(-1, 0x7ffc0000, WNOHANG, NULL)    = -1 ECHILD (No child processes)"
    );
    assert_eq!(
        call(
            "futex",
            &[
                arg("uaddr", "u32 *", 0x7ff303707a4c),
                arg("op", "int", 129),
                arg("val", "u32", 2147483647),
                arg("utime", "const struct __kernel_timespec *", 0),
                arg("uaddr2", "u32 *", 0),
                arg("val3", "u32", 0)
            ],
            Some(0)
        ),
        "futex(0x7ff303707a4c, FUTEX_WAKE_PRIVATE, 2147483647) = 0"
    );
    assert_eq!(
        call(
            "prlimit64",
            &[
                arg("pid", "pid_t", 0),
                arg("resource", "unsigned int", 3),
                arg("new_rlim", "const struct rlimit64 *", 0),
                arg("old_rlim", "struct rlimit64 *", 0x7ffe0000)
            ],
            Some(0)
        ),
        "prlimit64(0, RLIMIT_STACK, NULL, 0x7ffe0000) = 0"
    );
    assert_eq!(
        call(
            "rseq",
            &[
                arg("rseq", "struct rseq *", 0x7ff303531060),
                arg("rseq_len", "u32", 0x20),
                arg("flags", "int", 0),
                arg("sig", "u32", 0x53053053)
            ],
            Some(0)
        ),
        "rseq(0x7ff303531060, 0x20, 0, 0x53053053) = 0"
    );
    assert_eq!(
        call(
            "arch_prctl",
            &[
                arg("option", "int", 0x1002),
                arg("arg2", "unsigned long", 0x7ff303530740)
            ],
            Some(0)
        ),
        "arch_prctl(ARCH_SET_FS, 0x7ff303530740) = 0"
    );
    assert_eq!(
        call(
            "clock_nanosleep",
            &[
                arg("which_clock", "clockid_t", 1),
                arg("flags", "int", 1),
                arg("rqtp", "const struct __kernel_timespec *", 0x1000),
                arg("rmtp", "struct __kernel_timespec *", 0)
            ],
            Some(0)
        ),
        "clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, 0x1000, NULL) = 0"
    );
    assert_eq!(
        call(
            "getrandom",
            &[
                with(arg("ubuf", "char *", 0x1000), b"\x07\xf2\xb7P"),
                arg("len", "size_t", 4),
                arg("flags", "unsigned int", 1)
            ],
            Some(4)
        ),
        r#"getrandom("\x07\xf2\xb7\x50", 4, GRND_NONBLOCK) = 4"#
    );
    assert_eq!(
        call(
            "socket",
            &[
                arg("family", "int", 2),
                arg(
                    "type",
                    "int",
                    (libc::SOCK_STREAM | libc::SOCK_CLOEXEC) as u64
                ),
                arg("protocol", "int", 0)
            ],
            Some(6)
        ),
        "socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_IP) = 6"
    );
    assert_eq!(
        call(
            "socket",
            &[
                arg("family", "int", 1),
                arg("type", "int", 2),
                arg("protocol", "int", 0)
            ],
            Some(6)
        ),
        "socket(AF_UNIX, SOCK_DGRAM, 0)          = 6"
    );
}

#[test]
fn generic_fallback_and_resumed() {
    // pidfd_getfd has no decoder: its ints as their C types read them.
    let args = [
        arg("pidfd", "int", -1i64 as u64),
        arg("fd", "int", 0),
        arg("flags", "int", 5),
    ];
    assert_eq!(
        call("pidfd_getfd", &args, Some(0)),
        "pidfd_getfd(-1, 0, 5)                   = 0"
    );
    assert_eq!(
        call(
            "sysinfo",
            &[arg("info", "struct sysinfo *", 0x7ffe0000)],
            Some(0)
        ),
        "sysinfo(0x7ffe0000)                     = 0"
    );
    assert_eq!(
        format_resumed_at(0, "read", 3, &StraceOptions::default()),
        "<... read resumed>)                     = 3"
    );
    assert_eq!(format_duration(12_345, 6), "<0.000012>");
    assert_eq!(format_duration(1_500_000_000, 6), "<1.500000>");
    // strace --syscall-times=s, ms, ns.
    assert_eq!(format_duration(1_512_345_678, 0), "<1>");
    assert_eq!(format_duration(12_769_383, 3), "<0.012>");
    assert_eq!(format_duration(12_769_383, 9), "<0.012769383>");
}

#[test]
fn socket_pairs_and_umask() {
    assert_eq!(
        call(
            "socketpair",
            &[
                arg("family", "int", 1),
                arg("type", "int", 1),
                arg("protocol", "int", 0),
                arg("usockvec", "int *", 0x7ffd0000)
            ],
            Some(0)
        ),
        "socketpair(AF_UNIX, SOCK_STREAM, 0, 0x7ffd0000) = 0"
    );
    assert_eq!(
        call("umask", &[arg("mask", "int", 0o22)], Some(0o22)),
        "umask(022)                              = 022"
    );
}

#[test]
fn restarted_calls() {
    assert_eq!(
        call("wait4", &[arg("upid", "pid_t", 5), arg("stat_addr", "int *", 0), arg("options", "int", 0), arg("ru", "struct rusage *", 0)], Some(-512)),
        "wait4(5, NULL, 0, NULL)                 = ? ERESTARTSYS (To be restarted if SA_RESTART is set)"
    );
}

#[test]
fn bpf_commands_are_named() {
    let bpf = |cmd: u64| {
        call(
            "bpf",
            &[
                arg("cmd", "int", cmd),
                arg("uattr", "union bpf_attr *", 0x7ffd0000),
                arg("size", "unsigned int", 12),
            ],
            Some(-2),
        )
    };
    assert_eq!(
        bpf(13),
        "bpf(BPF_PROG_GET_FD_BY_ID, 0x7ffd0000, 12) = -1 ENOENT (No such file or directory)"
    );
    assert_eq!(
        bpf(99),
        "bpf(0x63 /* BPF_??? */, 0x7ffd0000, 12) = -1 ENOENT (No such file or directory)"
    );
}

#[test]
fn clone3_cut_by_another_line() {
    // pthread_create's clone3: strace decodes the struct at entry and the
    // tid written back at exit, after `<... clone3 resumed>`.
    let settid = (libc::CLONE_VM | libc::CLONE_PARENT_SETTID) as u64;
    let mut bytes = [0u8; 88];
    bytes[..8].copy_from_slice(&settid.to_ne_bytes());
    bytes[24..32].copy_from_slice(&0x7f00_0000_1000u64.to_ne_bytes()); // parent_tid
    let args = [
        with(arg("uargs", "struct clone_args *", 0x7ffe0000), &bytes),
        arg("size", "size_t", 88),
    ];
    let opts = StraceOptions::default();
    let whole = "clone3({flags=CLONE_VM|CLONE_PARENT_SETTID, parent_tid=0x7f0000001000, \
                 exit_signal=0, stack=NULL, stack_size=0}";
    assert_eq!(
        call("clone3", &args, Some(42)),
        format!("{whole} => {{parent_tid=[42]}}, 88) = 42")
    );
    assert_eq!(
        format_unfinished("clone3", &args, &opts, None),
        format!("{whole} <unfinished ...>")
    );
    assert_eq!(
        format_resumed_call_at(0, "clone3", &args, Some(42), &opts, None),
        "<... clone3 resumed> => {parent_tid=[42]}, 88) = 42"
    );
    assert_eq!(
        format_resumed_call_at(0, "clone3", &args, Some(-11), &opts, None),
        "<... clone3 resumed>, 88)               = -1 EAGAIN (Resource temporarily unavailable)"
    );
    // Nothing written back: the whole call at entry.
    bytes[..8].copy_from_slice(&(libc::CLONE_VM as u64).to_ne_bytes());
    let args = [
        with(arg("uargs", "struct clone_args *", 0x7ffe0000), &bytes),
        arg("size", "size_t", 88),
    ];
    assert_eq!(
        format_unfinished("clone3", &args, &opts, None),
        "clone3({flags=CLONE_VM, exit_signal=0, stack=NULL, stack_size=0}, 88 <unfinished ...>"
    );
    assert_eq!(
        format_resumed_call_at(0, "clone3", &args, Some(42), &opts, None),
        "<... clone3 resumed>)                   = 42"
    );
}

#[test]
fn setsockopt_values_strace_decodes() {
    // strace -e trace=setsockopt python3: a raw ICMP socket's filter, a
    // multicast group (ip_mreq, then ip_mreqn's first fields), a BPF
    // program.
    let set = |level: u64, name: u64, val: &'static [u8], len: u64| {
        let args = [
            arg("fd", "int", 3),
            arg("level", "int", level),
            arg("optname", "int", name),
            with(arg("optval", "char *", 0x7fc4bace66e0), val),
            arg("optlen", "int", len),
        ];
        call("setsockopt", &args, Some(0))
    };
    assert_eq!(
        set(255, 1, &[0xf6, 0xff, 0xff, 0xff], 4),
        "setsockopt(3, SOL_RAW, ICMP_FILTER, ~[ICMP_ECHOREPLY ICMP_DEST_UNREACH], 4) = 0"
    );
    assert_eq!(
        set(255, 1, &[0x09, 0, 0, 0, 0], 5),
        "setsockopt(3, SOL_RAW, ICMP_FILTER, [ICMP_ECHOREPLY ICMP_DEST_UNREACH], 5) = 0"
    );
    assert_eq!(
        set(0, 35, &[239, 1, 1, 1, 0, 0, 0, 0], 8),
        "setsockopt(3, SOL_IP, IP_ADD_MEMBERSHIP, {imr_multiaddr=inet_addr(\"239.1.1.1\"), \
         imr_interface=inet_addr(\"0.0.0.0\")}, 8) = 0"
    );
    assert_eq!(
        set(0, 36, &[239, 1, 1, 1, 127, 0, 0, 1, 1, 0, 0, 0], 12),
        "setsockopt(3, SOL_IP, IP_DROP_MEMBERSHIP, {imr_multiaddr=inet_addr(\"239.1.1.1\"), \
         imr_interface=inet_addr(\"127.0.0.1\")}, 12) = 0"
    );
    assert_eq!(
        set(0, 35, &[239, 1, 1, 1], 4),
        "setsockopt(3, SOL_IP, IP_ADD_MEMBERSHIP, 0x7fc4bace66e0, 4) = 0"
    );
    assert_eq!(
        set(
            1,
            26,
            &[1, 0, 0, 0, 0, 0, 0, 0, 0xe0, 0x66, 0xce, 0xba, 0xc4, 0x7f, 0, 0],
            16
        ),
        "setsockopt(3, SOL_SOCKET, SO_ATTACH_FILTER, {len=1, filter=0x7fc4bace66e0}, 16) = 0"
    );
}

#[test]
fn string_size_bounds_arrays() {
    // strace -s 0 -e trace=execve,pipe2 sh -c 'true | true'; -s 1.
    let opts = |n| StraceOptions {
        string_size: n,
        ..StraceOptions::default()
    };
    let mut argv = arg("argv", "const char *const *", 0x7ffe0000);
    argv.captured = Some(CapturedView::list(
        vec![
            Piece {
                bytes: b"sh",
                truncated: false,
            },
            Piece {
                bytes: b"-c",
                truncated: false,
            },
        ],
        false,
    ));
    let execve = [
        with(arg("filename", "const char *", 0x1000), b"/usr/bin/sh"),
        argv,
        arg("envp", "const char *const *", 0),
    ];
    let line = |n| format_call("execve", &execve, Some(0), &opts(n));
    assert!(
        line(0).starts_with(r#"execve("/usr/bin/sh", [...], "#),
        "{}",
        line(0)
    );
    assert!(
        line(1).starts_with(r#"execve("/usr/bin/sh", ["s"..., ...], "#),
        "{}",
        line(1)
    );
    assert!(
        line(2).starts_with(r#"execve("/usr/bin/sh", ["sh", "-c"], "#),
        "{}",
        line(2)
    );
    let fds: Vec<u8> = [3i32, 4].iter().flat_map(|v| v.to_ne_bytes()).collect();
    let pipe2 = [
        with(arg("fildes", "int *", 0x2000), &fds),
        arg("flags", "int", 0),
    ];
    assert_eq!(
        format_call("pipe2", &pipe2, Some(0), &opts(0)),
        "pipe2([...], 0)                         = 0"
    );
}

#[test]
fn a_field_is_found_outside_the_quoted_data() {
    // -y's SCM_RIGHTS fds are found by their field's text: not in the data
    // sent, which may hold the same text (escaped quotes and all).
    const FIELD: &str = "cmsg_type=SCM_RIGHTS, cmsg_data=[";
    let text = r#"{msg_iov=[{iov_base="x\"cmsg_type=SCM_RIGHTS, cmsg_data=[3]\\", iov_len=9}], msg_control=[{cmsg_len=20, cmsg_level=SOL_SOCKET, cmsg_type=SCM_RIGHTS, cmsg_data=[3]}]}"#;
    let at = find_unquoted(text, FIELD).unwrap();
    assert!(
        text[..at].ends_with("cmsg_level=SOL_SOCKET, "),
        "{}",
        &text[..at]
    );
    assert_eq!(
        find_unquoted(r#""cmsg_type=SCM_RIGHTS, cmsg_data=[3]""#, FIELD),
        None
    );
}

/// strace -e verbose=none: what a call points to shows as its address but
/// for strings and data (strace's umove_or_printaddr against printstr).
#[test]
fn calls_not_verbose_show_addresses_but_strings() {
    let quiet = StraceOptions {
        verbose: false,
        ..Default::default()
    };
    let fds: [i32; 2] = [3, 4];
    let fds = bytes_of(&fds);
    let pipe2 = [
        with(arg("fildes", "int *", 0x7ffd0000), &fds),
        arg("flags", "int", 0),
    ];
    assert_eq!(
        format_call("pipe2", &pipe2, Some(0), &StraceOptions::default()),
        "pipe2([3, 4], 0)                        = 0"
    );
    assert_eq!(
        format_call("pipe2", &pipe2, Some(0), &quiet),
        "pipe2(0x7ffd0000, 0)                    = 0"
    );
    let getcwd = [
        with(arg("buf", "char *", 0x2000), b"/tmp/st\0"),
        arg("size", "unsigned long", 1024),
    ];
    assert_eq!(
        format_call("getcwd", &getcwd, Some(8), &quiet),
        r#"getcwd("/tmp/st", 1024)                 = 8"#
    );
    let mut write = vec![
        arg("fd", "unsigned int", 1),
        with(arg("buf", "const char *", 0x3000), b"hi\n"),
        arg("count", "size_t", 3),
    ];
    assert_eq!(
        format_call("write", &write, Some(3), &quiet),
        r#"write(1, "hi\n", 3)                     = 3"#
    );
    write[1].captured = None;
    assert_eq!(
        format_call("write", &write, Some(3), &quiet),
        "write(1, 0x3000, 3)                     = 3"
    );
}

fn bytes_of(ints: &[i32]) -> Vec<u8> {
    ints.iter().flat_map(|i| i.to_ne_bytes()).collect()
}
