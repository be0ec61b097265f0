//! The structures' text as strace 6.1 printed it on this machine.
use super::*;
use crate::strace::quote::HexStyle;

fn bytes<T>(v: &[T]) -> Vec<u8> {
    // SAFETY: plain integers, viewed as their bytes.
    unsafe { std::slice::from_raw_parts(v.as_ptr().cast::<u8>(), std::mem::size_of_val(v)) }
        .to_vec()
}

#[test]
fn sigsets() {
    let bit = |s: u32| 1u64 << (s - 1);
    assert_eq!(sigset_text(0), "[]");
    assert_eq!(
        sigset_text(bit(10) | bit(15)),
        "[USR1 TERM]",
        "names without SIG, in signal order"
    );
    // More than half set: the complement, as `~[...]`.
    assert_eq!(sigset_text(!(bit(32) | bit(33))), "~[RTMIN RT_1]");
    assert_eq!(sigset_names(bit(2)), ["SIGINT"]);
}

#[test]
fn sigactions() {
    let sa = bytes(&[0u64, 0, 0, 0]);
    assert_eq!(
        sigaction_text(&sa).unwrap(),
        "{sa_handler=SIG_DFL, sa_mask=[], sa_flags=0}"
    );
    let sa = bytes(&[1u64, 0x0400_0000 | 0x1000_0000, 0x7f39_4513_0050, 1 << 1]);
    assert_eq!(
        sigaction_text(&sa).unwrap(),
        "{sa_handler=SIG_IGN, sa_mask=[INT], sa_flags=SA_RESTORER|SA_RESTART, \
         sa_restorer=0x7f3945130050}"
    );
    assert_eq!(sigaction_text(&sa[..16]), None, "too short: no text");
    // vim's SIGTSTP handler for a while: SIG_ERR, (void (*)(int))-1.
    let sa = bytes(&[u64::MAX, 0x0400_0000, 0x7f39_4513_0050, 0]);
    assert_eq!(
        sigaction_text(&sa).unwrap(),
        "{sa_handler=SIG_ERR, sa_mask=[], sa_flags=SA_RESTORER, sa_restorer=0x7f3945130050}"
    );
    // Every flag, in strace's order: `strace -e trace=rt_sigaction` of a
    // sigaction(SIGCHLD) with all of them.
    let all = 0x0400_0000 | 0x0800_0000 | 0x1000_0000 | 0x4000_0000 | 0x8000_0000 | 4 | 1 | 2;
    let sa = bytes(&[0x5556_f0d1_a1f0u64, all, 0x7f98_eb80_4050, 0]);
    assert_eq!(
        sigaction_text(&sa).unwrap(),
        "{sa_handler=0x5556f0d1a1f0, sa_mask=[], sa_flags=SA_RESTORER|SA_ONSTACK|SA_RESTART|\
         SA_NODEFER|SA_RESETHAND|SA_SIGINFO|SA_NOCLDSTOP|SA_NOCLDWAIT, sa_restorer=0x7f98eb804050}"
    );
}

#[test]
fn small_structures() {
    assert_eq!(
        rlimit_text(&bytes(&[8192 * 1024u64, u64::MAX])).unwrap(),
        "{rlim_cur=8192*1024, rlim_max=RLIM64_INFINITY}"
    );
    assert_eq!(
        rlimit_text(&bytes(&[1024u64, 20000])).unwrap(),
        "{rlim_cur=1024, rlim_max=20000}"
    );
    assert_eq!(
        wait_status_text(&bytes(&[3i32 << 8])).unwrap(),
        "[{WIFEXITED(s) && WEXITSTATUS(s) == 3}]"
    );
    assert_eq!(
        wait_status_text(&bytes(&[9i32])).unwrap(),
        "[{WIFSIGNALED(s) && WTERMSIG(s) == SIGKILL}]"
    );
    assert_eq!(fd_pair_text(&bytes(&[3i32, 4]), 32).unwrap(), "[3, 4]");
    assert_eq!(
        timespec_text(&bytes(&[0i64, 100_000_000])).unwrap(),
        "{tv_sec=0, tv_nsec=100000000}"
    );
    let mut uts = vec![0u8; 390];
    uts[..5].copy_from_slice(b"Linux");
    uts[65..67].copy_from_slice(b"vm");
    assert_eq!(
        uname_text(&uts, HexStyle::None, true).unwrap(),
        "{sysname=\"Linux\", nodename=\"vm\", ...}"
    );
    // -xx: every string in hex, these too (strace's print_quoted_cstring).
    assert_eq!(
        uname_text(&uts, HexStyle::All, true).unwrap(),
        "{sysname=\"\\x4c\\x69\\x6e\\x75\\x78\", nodename=\"\\x76\\x6d\", ...}"
    );
    // -v: every field, the empty ones too.
    uts[130..134].copy_from_slice(b"6.1 ");
    assert_eq!(
        uname_text(&uts, HexStyle::None, false).unwrap(),
        "{sysname=\"Linux\", nodename=\"vm\", release=\"6.1 \", version=\"\", machine=\"\", domainname=\"\"}"
    );
    // -v: no array cut at -s elements.
    let fds: Vec<i32> = (0..40).collect();
    assert!(fd_pair_text(&bytes(&fds[..2]), usize::MAX).is_some());
    let opts = crate::strace::StraceOptions {
        abbrev: false,
        ..Default::default()
    };
    assert_eq!(opts.array_size(), usize::MAX);
    assert_eq!(crate::strace::StraceOptions::default().array_size(), 32);
}

#[test]
fn rusage_whole_with_v() {
    let ru: libc::rusage = unsafe { std::mem::zeroed() };
    let b = &bytes(&[ru])[..];
    assert!(rusage_text(b, true).unwrap().ends_with("tv_usec=0}, ...}"));
    let whole = rusage_text(b, false).unwrap();
    assert!(whole.contains(", ru_maxrss=0, ru_ixrss=0,"), "{whole}");
    assert!(whole.ends_with("ru_nvcsw=0, ru_nivcsw=0}"), "{whole}");
}

#[test]
fn stat_modes() {
    assert_eq!(stat::mode_text(0o100644), "S_IFREG|0644");
    assert_eq!(stat::mode_text(0o41777), "S_IFDIR|S_ISVTX|0777");
    assert_eq!(stat::mode_text(0o100000), "S_IFREG|000");
}

#[test]
fn polls() {
    let fds = bytes(&[3i32, 1, 4, 4]); // {fd=3, events=POLLIN}, {fd=4, events=POLLOUT}
    assert_eq!(
        pollfds_text(&fds, false, 32),
        "[{fd=3, events=POLLIN}, {fd=4, events=POLLOUT}]"
    );
    let after = bytes(&[3i32, 1 | (1 << 16), 4, 4]);
    assert_eq!(poll_revents_text(&after, 32), "[{fd=3, revents=POLLIN}]");
    // A negative fd is skipped by poll, and its events by strace (script(1)).
    let fds = bytes(&[5i32, 1, -1, 1 | 8 | 16]);
    assert_eq!(
        pollfds_text(&fds, false, 32),
        "[{fd=5, events=POLLIN}, {fd=-1}]"
    );
}

#[test]
fn epoll_events_are_bounded_by_the_string_size() {
    // struct epoll_event is packed on x86_64: 4 bytes of events, 8 of data.
    let mut b = Vec::new();
    for fd in 4u64..8 {
        b.extend(1u32.to_ne_bytes()); // EPOLLIN
        b.extend(fd.to_ne_bytes());
    }
    let one = |fd: u64| format!("{{events=EPOLLIN, data={{u32={fd}, u64={fd}}}}}");
    let all: Vec<String> = (4..8).map(one).collect();
    assert_eq!(
        epoll_events_text(&b, false, 32),
        format!("[{}]", all.join(", "))
    );
    // strace -s 2: two, then "..." (systrace printed all four).
    assert_eq!(
        epoll_events_text(&b, false, 2),
        format!("[{}, {}, ...]", all[0], all[1])
    );
    assert_eq!(
        epoll_events_text(&b[..24], true, 32),
        format!("[{}, {}, ...]", all[0], all[1])
    );
}

#[test]
fn socket_addresses() {
    use crate::strace::sockaddr::text;
    let mut inet = (libc::AF_INET as u16).to_ne_bytes().to_vec();
    inet.extend(18731u16.to_be_bytes());
    inet.extend([127, 0, 0, 1]);
    inet.extend([0; 8]);
    assert_eq!(
        text(&inet, HexStyle::None).unwrap(),
        "{sa_family=AF_INET, sin_port=htons(18731), sin_addr=inet_addr(\"127.0.0.1\")}"
    );
    let unnamed = (libc::AF_UNIX as u16).to_ne_bytes();
    assert_eq!(
        text(&unnamed, HexStyle::None).unwrap(),
        "{sa_family=AF_UNIX}"
    );
    let mut path = unnamed.to_vec();
    path.extend(b"sock\0");
    assert_eq!(
        text(&path, HexStyle::None).unwrap(),
        "{sa_family=AF_UNIX, sun_path=\"sock\"}"
    );
    // -x: a path with a non-ASCII byte is all hex.
    let mut odd = unnamed.to_vec();
    odd.extend(b"s\xe9\0");
    assert_eq!(
        text(&odd, HexStyle::NonAscii).unwrap(),
        "{sa_family=AF_UNIX, sun_path=\"\\x73\\xe9\"}"
    );
    // A written-back address is as long as the length the call wrote.
    let len = bytes(&[2u32]);
    assert_eq!(written_sockaddr(&path, Some(&len)).len(), 2);
}

fn elem(ptr: u64, len: u64, avail: u64, data: &[u8]) -> Vec<u8> {
    let mut out = bytes(&[ptr, len, avail]);
    out.extend_from_slice(data);
    out
}

#[test]
fn iovecs() {
    let opts = crate::strace::StraceOptions::default();
    let (a, b, c, d) = (
        elem(0x1000, 3, 3, b"abc"),
        elem(0, 0, 0, b""),
        elem(0x2000, 50, 50, &[b'x'; 32]),
        elem(0x7ffd_0000_0000, 4, u64::MAX, b""),
    );
    let items: Vec<&[u8]> = vec![&a, &b, &c, &d];
    assert_eq!(
        iovec_text(&items, true, false, &opts).unwrap(),
        format!(
            "[{{iov_base=\"abc\", iov_len=3}}, {{iov_base=NULL, iov_len=0}}, \
             {{iov_base=\"{}\"..., iov_len=50}}, {{iov_base=0x7ffd00000000, iov_len=4}}, ...]",
            "x".repeat(32)
        ),
        "data cut at -s, NULL, unreadable as its address, more elements"
    );
    // A call that failed read nothing: its buffers are addresses.
    assert_eq!(
        iovec_text(&items[..1], false, true, &opts).unwrap(),
        "[{iov_base=0x1000, iov_len=3}]"
    );
}

#[test]
fn select_sets_and_sockopts() {
    assert_eq!(fd_set_text(&[0b1001_1000, 0b1], 9), "[3 4 7 8]");
    assert_eq!(
        fd_set_text(&[0b1001_1000, 0b1], 5),
        "[3 4]",
        "only the first n"
    );
    let linger = bytes(&[1i32, 5]);
    let (sol, so_linger) = (libc::SOL_SOCKET as u64, libc::SO_LINGER as u64);
    assert_eq!(
        sockopt_text(sol, so_linger, &linger, 8).unwrap(),
        "{l_onoff=1, l_linger=5}"
    );
    assert_eq!(sockopt_text(sol, 2, &linger, 4).unwrap(), "[1]");
    assert_eq!(sockopt_text(sol, 2, &linger, 3), None);
}

#[test]
fn utimensat_times() {
    // `strace -e trace=utimensat tar xf ...`: tar leaves the access time.
    let omit = (1i64 << 30) - 2;
    let ts = bytes(&[1_700_000_000u64, omit as u64, 1_779_294_449, 0]);
    assert_eq!(
        super::time::timespec_pair_text(&ts).unwrap(),
        "[UTIME_OMIT, {tv_sec=1779294449, tv_nsec=0} /* 2026-05-20T16:27:29+0000 */]"
    );
    let now = bytes(&[0u64, ((1u64 << 30) - 1), 0, ((1u64 << 30) - 1)]);
    assert_eq!(
        super::time::timespec_pair_text(&now).unwrap(),
        "[UTIME_NOW, UTIME_NOW]"
    );
    // strace -e trace=utimensat touch -d @0 f: the epoch has no date, nor
    // has a tv_nsec out of range; the epoch's first nanosecond has one.
    let epoch = bytes(&[0u64, 0, 0, 1]);
    assert_eq!(
        super::time::timespec_pair_text(&epoch).unwrap(),
        "[{tv_sec=0, tv_nsec=0}, {tv_sec=0, tv_nsec=1} /* 1970-01-01T00:00:00.000000001+0000 */]"
    );
    let odd = bytes(&[5u64, 1_000_000_000, 5, (-1i64) as u64]);
    assert_eq!(
        super::time::timespec_pair_text(&odd).unwrap(),
        "[{tv_sec=5, tv_nsec=1000000000}, {tv_sec=5, tv_nsec=-1}]"
    );
}

#[test]
fn dirents_as_strace_lists_them() {
    // One entry: d_ino, d_off, d_reclen, d_type, then the name with its NUL
    // and padding to 8 bytes.
    fn entry(ino: u64, name: &[u8], d_type: u8) -> Vec<u8> {
        let reclen = (19 + name.len() + 1).div_ceil(8) * 8;
        let mut e = Vec::new();
        e.extend(ino.to_ne_bytes());
        e.extend(7u64.to_ne_bytes());
        e.extend((reclen as u16).to_ne_bytes());
        e.push(d_type);
        e.extend(name);
        e.resize(reclen, 0);
        e
    }
    let mut buf = entry(2, b".", 4);
    buf.extend(entry(12, b"file", 8)); // a name that fills its record: no `...`
    buf.extend(entry(13, b"x", 3)); // no name for DT 3
    let all = dirents_text(&buf, buf.len(), HexStyle::None);
    assert_eq!(
        all,
        "[{d_ino=2, d_off=7, d_reclen=24, d_type=DT_DIR, d_name=\".\"}, \
         {d_ino=12, d_off=7, d_reclen=24, d_type=DT_REG, d_name=\"file\"}, \
         {d_ino=13, d_off=7, d_reclen=24, d_type=0x3 /* DT_??? */, d_name=\"x\"}]"
    );
    // Captured short of what the call wrote: the entries read, then `...`;
    // a name cut by the capture ends in `...` too.
    assert_eq!(
        dirents_text(&buf[..24], buf.len(), HexStyle::None),
        "[{d_ino=2, d_off=7, d_reclen=24, d_type=DT_DIR, d_name=\".\"}, ...]"
    );
    assert_eq!(
        dirents_text(&buf[..24 + 21], buf.len(), HexStyle::None),
        "[{d_ino=2, d_off=7, d_reclen=24, d_type=DT_DIR, d_name=\".\"}, \
         {d_ino=12, d_off=7, d_reclen=24, d_type=DT_REG, d_name=\"fi\"...}, ...]"
    );
    // A record longer than what is left (never from the kernel): told, and
    // its name read from what is left (strace's printpathn of 0 bytes).
    assert_eq!(
        dirents_text(&buf[..24], 20, HexStyle::None),
        "[{d_ino=2, d_off=7, d_reclen=24 /* 4 bytes overflow */, d_type=DT_DIR, d_name=\"\"...}]"
    );
}
