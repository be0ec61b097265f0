//! The smaller structures: rlimits, wait statuses, fd pairs, utsname,
//! sysinfo, pollfd and epoll_event arrays, file locks.
use std::fmt::Write;

use serde_json::{json, Map, Value};

use super::{read, read_at};
use crate::strace::flags::{self, hex};
use crate::strace::quote::{push_quoted, Ellipsis, HexStyle};

fn rlim_text(v: u64) -> String {
    match v {
        u64::MAX => "RLIM64_INFINITY".to_owned(),
        v if v > 1024 && v % 1024 == 0 => format!("{}*1024", v / 1024),
        v => v.to_string(),
    }
}

/// `{rlim_cur=8192*1024, rlim_max=RLIM64_INFINITY}`.
pub fn rlimit_text(bytes: &[u8]) -> Option<String> {
    let [cur, max]: [u64; 2] = read(bytes)?;
    Some(format!(
        "{{rlim_cur={}, rlim_max={}}}",
        rlim_text(cur),
        rlim_text(max)
    ))
}

/// fcntl's struct flock: `{l_type=F_WRLCK, l_whence=SEEK_SET, l_start=0,
/// l_len=0}`, and `l_pid` for what F_GETLK wrote back (`with_pid`).
pub fn flock_text(bytes: &[u8], with_pid: bool) -> Option<String> {
    let fl: libc::flock = read(bytes)?;
    let mut out = format!(
        "{{l_type={}, l_whence={}, l_start={}, l_len={}",
        flags::xval_or_unknown(flags::LOCK_TYPES, fl.l_type as u16 as u64, "F_???"),
        flags::xval_or_unknown(flags::SEEK_WHENCE, fl.l_whence as u16 as u64, "SEEK_???"),
        fl.l_start,
        fl.l_len
    );
    if with_pid {
        let _ = write!(out, ", l_pid={}", fl.l_pid);
    }
    out.push('}');
    Some(out)
}

/// fcntl's struct f_owner_ex (F_SETOWN_EX, F_GETOWN_EX): `{type=F_OWNER_PID,
/// pid=42}`.
pub fn f_owner_ex_text(bytes: &[u8]) -> Option<String> {
    let [kind, pid]: [i32; 2] = read(bytes)?;
    Some(format!(
        "{{type={}, pid={pid}}}",
        flags::xval_or_unknown(flags::F_OWNER_TYPES, kind as u32 as u64, "F_OWNER_???")
    ))
}

pub fn flock_value(bytes: &[u8]) -> Option<Value> {
    let fl: libc::flock = read(bytes)?;
    Some(json!({
        "l_type": fl.l_type, "l_whence": fl.l_whence, "l_start": fl.l_start,
        "l_len": fl.l_len, "l_pid": fl.l_pid,
    }))
}

pub fn rlimit_value(bytes: &[u8]) -> Option<Value> {
    let [cur, max]: [u64; 2] = read(bytes)?;
    Some(json!({"rlim_cur": cur, "rlim_max": max}))
}

/// `[{WIFEXITED(s) && WEXITSTATUS(s) == 0}]`.
pub fn wait_status_text(bytes: &[u8]) -> Option<String> {
    let s: i32 = read(bytes)?;
    let sig = |n: i32| flags::signal_name(i64::from(n));
    // strace's printstatus: what the macros name, then the bits left (a
    // ptrace event stop's event, `|PTRACE_EVENT_EXEC<<16`).
    let rest = (s as u32) & !0xffff;
    let text = if libc::WIFSTOPPED(s) {
        let stop = libc::WSTOPSIG(s);
        // PTRACE_O_TRACESYSGOOD's syscall stops: SIGTRAP | 0x80.
        let sysgood = if stop & 0x80 != 0 { " | 0x80" } else { "" };
        format!(
            "WIFSTOPPED(s) && WSTOPSIG(s) == {}{sysgood}",
            sig(stop & 0x7f)
        )
    } else if libc::WIFEXITED(s) {
        format!("WIFEXITED(s) && WEXITSTATUS(s) == {}", libc::WEXITSTATUS(s))
    } else if libc::WIFSIGNALED(s) {
        let core = if libc::WCOREDUMP(s) {
            " && WCOREDUMP(s)"
        } else {
            ""
        };
        format!(
            "WIFSIGNALED(s) && WTERMSIG(s) == {}{core}",
            sig(libc::WTERMSIG(s))
        )
    } else if libc::WIFCONTINUED(s) {
        "WIFCONTINUED(s)".to_owned()
    } else {
        return Some(format!("[{}]", hex(s as u32 as u64)));
    };
    let mut out = format!("[{{{text}}}");
    if libc::WIFSTOPPED(s) && rest >> 16 != 0 {
        let event = u64::from(rest >> 16);
        let _ = write!(
            out,
            "|{}<<16",
            flags::xval_or_unknown(flags::PTRACE_EVENTS, event, "PTRACE_EVENT_???")
        );
    } else if rest != 0 && !libc::WIFCONTINUED(s) {
        let _ = write!(out, " | {}", hex(u64::from(rest)));
    }
    out.push(']');
    Some(out)
}

/// `[3, 4]`: pipe's and socketpair's descriptors, at most `limit` (-s).
pub fn fd_pair_text(bytes: &[u8], limit: usize) -> Option<String> {
    let pair = [read_at::<i32>(bytes, 0)?, read_at::<i32>(bytes, 1)?];
    Some(super::array_text(
        pair.map(|fd| fd.to_string()),
        limit,
        false,
    ))
}

const UTS_FIELDS: [&str; 6] = [
    "sysname",
    "nodename",
    "release",
    "version",
    "machine",
    "domainname",
];

fn uts_field(bytes: &[u8], i: usize) -> Option<&[u8]> {
    let field = bytes.get(i * 65..(i + 1) * 65)?;
    Some(&field[..field.iter().position(|&b| b == 0).unwrap_or(65)])
}

/// `{sysname="Linux", nodename="vm", ...}`, the strings quoted as `hex`
/// (-x, -xx) says; every field without `abbrev` (strace -v).
pub fn uname_text(bytes: &[u8], hex: HexStyle, abbrev: bool) -> Option<String> {
    let mut out = String::from("{");
    for (i, name) in UTS_FIELDS.iter().enumerate() {
        if abbrev && i == 2 {
            out.push_str(", ...");
            break;
        }
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(name);
        out.push('=');
        push_quoted(&mut out, uts_field(bytes, i)?, Ellipsis::No, hex);
    }
    out.push('}');
    Some(out)
}

pub fn uname_value(bytes: &[u8]) -> Option<Value> {
    let mut map = Map::new();
    for (i, name) in UTS_FIELDS.iter().enumerate() {
        let text = String::from_utf8_lossy(uts_field(bytes, i)?).into_owned();
        map.insert((*name).to_owned(), Value::String(text));
    }
    Some(Value::Object(map))
}

/// Every field of struct sysinfo, as strace prints it.
pub fn sysinfo_text(bytes: &[u8]) -> Option<String> {
    let s: libc::sysinfo = read(bytes)?;
    Some(format!(
        "{{uptime={}, loads=[{}, {}, {}], totalram={}, freeram={}, sharedram={}, \
         bufferram={}, totalswap={}, freeswap={}, procs={}, totalhigh={}, freehigh={}, \
         mem_unit={}}}",
        s.uptime,
        s.loads[0],
        s.loads[1],
        s.loads[2],
        s.totalram,
        s.freeram,
        s.sharedram,
        s.bufferram,
        s.totalswap,
        s.freeswap,
        s.procs,
        s.totalhigh,
        s.freehigh,
        s.mem_unit
    ))
}

pub fn sysinfo_value(bytes: &[u8]) -> Option<Value> {
    let s: libc::sysinfo = read(bytes)?;
    Some(json!({
        "uptime": s.uptime,
        "loads": s.loads,
        "totalram": s.totalram,
        "freeram": s.freeram,
        "sharedram": s.sharedram,
        "bufferram": s.bufferram,
        "totalswap": s.totalswap,
        "freeswap": s.freeswap,
        "procs": s.procs,
        "totalhigh": s.totalhigh,
        "freehigh": s.freehigh,
        "mem_unit": s.mem_unit,
    }))
}

/// The fds of a pollfd array (-P looks at them).
pub fn pollfd_fds(bytes: &[u8]) -> Vec<i32> {
    pollfds(bytes).map(|p| p.fd).collect()
}

fn pollfds(bytes: &[u8]) -> impl Iterator<Item = libc::pollfd> + '_ {
    (0..bytes.len() / size_of::<libc::pollfd>()).filter_map(|i| read_at(bytes, i))
}

/// `[{fd=3, events=POLLIN}]`, at most `limit` (-s); `truncated`: more
/// than were captured. A negative fd, which poll skips, shows without its
/// events (`{fd=-1}`), as strace's.
pub fn pollfds_text(bytes: &[u8], truncated: bool, limit: usize) -> String {
    let items: Vec<String> = pollfds(bytes)
        .map(|p| match p.fd {
            ..0 => format!("{{fd={}}}", p.fd),
            _ => format!(
                "{{fd={}, events={}}}",
                p.fd,
                flags::flags(flags::POLL_EVENTS, p.events as u16 as u64)
            ),
        })
        .collect();
    super::array_text(items, limit, truncated)
}

/// What poll returned: `[{fd=3, revents=POLLIN}]`, the ready ones, at
/// most `limit` (-s).
pub fn poll_revents_text(after: &[u8], limit: usize) -> String {
    let items: Vec<String> = pollfds(after)
        .filter(|p| p.revents != 0)
        .map(|p| {
            format!(
                "{{fd={}, revents={}}}",
                p.fd,
                flags::flags(flags::POLL_EVENTS, p.revents as u16 as u64)
            )
        })
        .collect();
    super::array_text(items, limit, false)
}

pub fn pollfds_value(bytes: &[u8], after: Option<&[u8]>) -> Value {
    let out: Vec<Value> = pollfds(bytes)
        .enumerate()
        .map(|(i, p)| {
            let revents = after
                .and_then(|a| read_at::<libc::pollfd>(a, i))
                .map(|r| r.revents as u16);
            json!({"fd": p.fd, "events": p.events as u16, "revents": revents})
        })
        .collect();
    Value::Array(out)
}

fn epoll_event(e: libc::epoll_event) -> String {
    let (events, data) = (e.events, e.u64);
    format!(
        "{{events={}, data={{u32={}, u64={}}}}}",
        flags::flags(flags::EPOLL_EVENTS, u64::from(events)),
        data as u32,
        data
    )
}

/// `{events=EPOLLIN, data={u32=3, u64=3}}`.
pub fn epoll_event_text(bytes: &[u8]) -> Option<String> {
    read(bytes).map(epoll_event)
}

/// epoll_wait's events, at most `limit` of them (-s, as strace's
/// print_array bounds them), then `...`.
pub fn epoll_events_text(bytes: &[u8], truncated: bool, limit: usize) -> String {
    let n = bytes.len() / size_of::<libc::epoll_event>();
    let items = (0..n).filter_map(|i| read_at(bytes, i)).map(epoll_event);
    super::array_text(items, limit, truncated)
}

fn epoll_value(e: libc::epoll_event) -> Value {
    let (events, data) = (e.events, e.u64);
    json!({"events": events, "data": data})
}

pub fn epoll_event_value(bytes: &[u8]) -> Option<Value> {
    read(bytes).map(epoll_value)
}

pub fn epoll_events_value(bytes: &[u8]) -> Value {
    let n = bytes.len() / size_of::<libc::epoll_event>();
    Value::Array(
        (0..n)
            .filter_map(|i| read_at(bytes, i))
            .map(epoll_value)
            .collect(),
    )
}

/// The size of openat2's struct open_how as first defined (flags, mode,
/// resolve): the kernel refuses less.
pub const OPEN_HOW_SIZE: usize = 24;

/// openat2's struct open_how of `size` bytes, as strace's print_open_how:
/// `{flags=O_RDONLY|O_CLOEXEC, resolve=RESOLVE_BENEATH}`, the mode only
/// where flags take one or it is set, and the bytes past the known fields
/// when any is not zero. None when `bytes` hold less than `size`.
pub fn open_how_text(bytes: &[u8], size: u64) -> Option<String> {
    let size = usize::try_from(size).ok()?;
    if size < OPEN_HOW_SIZE || bytes.len() < size {
        return None;
    }
    let [fl, mode, resolve] = [0, 1, 2].map(|i| read_at::<u64>(bytes, i).unwrap_or(0));
    let mut out = format!("{{flags={}", flags::open_flags(fl));
    if flags::open_has_mode(fl) || mode != 0 {
        let _ = write!(out, ", mode={}", flags::mode(mode));
    }
    let _ = write!(
        out,
        ", resolve={}",
        flags::flags_or_unknown(flags::RESOLVE_FLAGS, resolve, "RESOLVE_???")
    );
    let tail = &bytes[OPEN_HOW_SIZE..size];
    if tail.iter().any(|&b| b != 0) {
        let _ = write!(out, ", /* bytes {}..{} */ ", OPEN_HOW_SIZE, size - 1);
        push_quoted(&mut out, tail, Ellipsis::No, HexStyle::All);
    }
    out.push('}');
    Some(out)
}

/// strace's names of a directory entry's type (dirent_types).
const DIRENT_TYPES: flags::Xlat = &[
    (0, "DT_UNKNOWN"),
    (1, "DT_FIFO"),
    (2, "DT_CHR"),
    (4, "DT_DIR"),
    (6, "DT_BLK"),
    (8, "DT_REG"),
    (10, "DT_LNK"),
    (12, "DT_SOCK"),
    (14, "DT_WHT"),
];

/// getdents64's entries as strace prints them unabbreviated (-v):
/// `[{d_ino=2, d_off=1, d_reclen=24, d_type=DT_DIR, d_name="."}, ...]`.
/// `bytes`: what was captured of the `len` bytes the call wrote; entries
/// past it are `...`, as strace shows entries it could not read.
pub fn dirents_text(bytes: &[u8], len: usize, hex: HexStyle) -> String {
    // offsetof(struct linux_dirent64, d_name): the smallest valid entry.
    const HEAD: usize = 19;
    // strace prints at most this much of a name (D_NAME_LEN_MAX).
    const NAME_MAX: usize = 256;
    let mut out = String::from("[");
    let mut off = 0;
    while len - off >= HEAD {
        let Some(head) = bytes.get(off..off + HEAD) else {
            out.push_str("...");
            break;
        };
        let ino = read::<u64>(head).unwrap_or(0);
        let d_off = read::<u64>(&head[8..]).unwrap_or(0);
        let reclen = usize::from(read::<u16>(&head[16..]).unwrap_or(0));
        let _ = write!(out, "{{d_ino={ino}, d_off={d_off}, d_reclen={reclen}");
        // The kernel never writes these; strace tells them, as here.
        let reclen = if reclen > len - off {
            let _ = write!(out, " /* {} bytes overflow */", reclen - (len - off));
            len - off
        } else if reclen < HEAD {
            let _ = write!(out, " /* {} bytes underflow */", HEAD - reclen);
            HEAD
        } else {
            reclen
        };
        let _ = write!(
            out,
            ", d_type={}",
            flags::xval_or_unknown(DIRENT_TYPES, u64::from(head[18]), "DT_???")
        );
        let name_len = (reclen - HEAD).min(NAME_MAX);
        if name_len > 0 {
            // strace's printpathn of name_len - 1 bytes: the name up to a
            // NUL among name_len of them, else that many and `...` (also
            // when the capture ends before its NUL).
            let have = bytes.get(off + HEAD..).unwrap_or(&[]);
            let name = &have[..have.len().min(name_len)];
            let (name, more) = match name.iter().position(|&b| b == 0) {
                Some(end) => (&name[..end], Ellipsis::No),
                None => (&name[..name.len().min(name_len - 1)], Ellipsis::Yes),
            };
            out.push_str(", d_name=");
            push_quoted(&mut out, name, more, hex);
        }
        out.push('}');
        off += reclen;
        if off >= len {
            break;
        }
        out.push_str(", ");
    }
    out.push(']');
    out
}
