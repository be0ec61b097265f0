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
