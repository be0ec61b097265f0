//! select's fd_sets and socket option values.
use serde_json::{json, Value};

use super::read;

/// The descriptors below `n` set in an fd_set.
pub fn fd_set_fds(bytes: &[u8], n: u64) -> Vec<u64> {
    let mut out = Vec::new();
    for (i, &b) in bytes.iter().enumerate() {
        for bit in 0..8 {
            let fd = (i * 8 + bit) as u64;
            if fd < n && b & (1 << bit) != 0 {
                out.push(fd);
            }
        }
    }
    out
}

/// `[3 4]`.
pub fn fd_set_text(bytes: &[u8], n: u64) -> String {
    let fds: Vec<String> = fd_set_fds(bytes, n).iter().map(u64::to_string).collect();
    format!("[{}]", fds.join(" "))
}

pub fn fd_set_value(bytes: &[u8], n: u64) -> Value {
    json!(fd_set_fds(bytes, n))
}

/// A socket option's value of `len` bytes: `[1]` for an int, SO_ERROR's
/// `[ECONNREFUSED]`, SO_LINGER's `{l_onoff=1, l_linger=5}`, SO_PEERCRED's
/// `{pid=1, uid=0, gid=0}`; None for the others (printed as data).
pub fn sockopt_text(level: u64, name: u64, bytes: &[u8], len: u64) -> Option<String> {
    let socket = |opt: i32| level == libc::SOL_SOCKET as u64 && name == opt as u64;
    if socket(libc::SO_LINGER) && len == 8 {
        let [onoff, linger]: [i32; 2] = read(bytes)?;
        return Some(format!("{{l_onoff={onoff}, l_linger={linger}}}"));
    }
    if socket(libc::SO_PEERCRED) && len == 12 {
        let [pid, uid, gid]: [u32; 3] = read(bytes)?;
        return Some(format!("{{pid={}, uid={uid}, gid={gid}}}", pid as i32));
    }
    if level == libc::SOL_RAW as u64 && name == ICMP_FILTER {
        return icmp_filter_text(bytes, len);
    }
    // A pending error (a non-blocking connect's): its name, as strace.
    if socket(libc::SO_ERROR) && len == 4 {
        let errno = read::<i32>(bytes)?;
        return Some(match crate::strace::errno::errno_name(errno) {
            Some(name) if errno != 0 => format!("[{name}]"),
            _ => format!("[{errno}]"),
        });
    }
    if len == 4 {
        return Some(format!("[{}]", read::<i32>(bytes)?));
    }
    None
}

/// SOL_RAW's option (linux/icmp.h).
const ICMP_FILTER: u64 = 1;

/// strace's icmp_filter_flags: the ICMP types, by bit.
const ICMP_TYPES: crate::strace::flags::Xlat = &[
    (0, "ICMP_ECHOREPLY"),
    (3, "ICMP_DEST_UNREACH"),
    (4, "ICMP_SOURCE_QUENCH"),
    (5, "ICMP_REDIRECT"),
    (8, "ICMP_ECHO"),
    (11, "ICMP_TIME_EXCEEDED"),
    (12, "ICMP_PARAMETERPROB"),
    (13, "ICMP_TIMESTAMP"),
    (14, "ICMP_TIMESTAMPREPLY"),
    (15, "ICMP_INFO_REQUEST"),
    (16, "ICMP_INFO_REPLY"),
    (17, "ICMP_ADDRESS"),
    (18, "ICMP_ADDRESSREPLY"),
];

/// ICMP_FILTER's mask as strace's print_icmp_filter: the types whose bit
/// is set, or `~[...]` those whose bit is not when more than half are.
/// Fewer than 4 bytes fill the low ones of an all-ones mask.
fn icmp_filter_text(bytes: &[u8], len: u64) -> Option<String> {
    let len = (len as i64).min(4);
    if len <= 0 {
        return None;
    }
    let mut mask = u32::MAX.to_ne_bytes();
    mask[..len as usize].copy_from_slice(bytes.get(..len as usize)?);
    let mut mask = u32::from_ne_bytes(mask);
    let mut out = String::new();
    if mask.count_ones() > 16 {
        mask = !mask;
        out.push('~');
    }
    let names: Vec<String> = (0..32)
        .filter(|bit| mask & (1 << bit) != 0)
        .map(|bit| crate::strace::flags::xval_or_unknown(ICMP_TYPES, bit, "ICMP_???"))
        .collect();
    out.push_str(&format!("[{}]", names.join(" ")));
    Some(out)
}

pub fn sockopt_value(level: u64, name: u64, bytes: &[u8], len: u64) -> Option<Value> {
    let socket = |opt: i32| level == libc::SOL_SOCKET as u64 && name == opt as u64;
    if socket(libc::SO_LINGER) && len == 8 {
        let [onoff, linger]: [i32; 2] = read(bytes)?;
        return Some(json!({"l_onoff": onoff, "l_linger": linger}));
    }
    if socket(libc::SO_PEERCRED) && len == 12 {
        let [pid, uid, gid]: [u32; 3] = read(bytes)?;
        return Some(json!({"pid": pid as i32, "uid": uid, "gid": gid}));
    }
    if len == 4 {
        return Some(json!(read::<i32>(bytes)?));
    }
    None
}
