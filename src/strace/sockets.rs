//! strace -yy's longer names of fds: a socket's protocol and endpoints
//! (`TCP:[127.0.0.1:40000->127.0.0.1:8080]`, `UNIX-STREAM:[1234,"/run/x"]`),
//! a device's numbers (`/dev/null<char 1:3>`). Read from the process's
//! /proc while the fd is open: the protocol from the socket's
//! `system.sockprotoname` attribute (as strace does), the endpoints from
//! `/proc/PID/net/{tcp,tcp6,udp,udp6,unix,netlink}` by inode (strace asks
//! sock_diag); /proc has no unix socket's peer inode (`[1->2]`). Or from
//! the `struct systrace_socket_ends` the programs read at a connect's,
//! bind's, listen's or accept's exit ([`ends_text`]), which has it.
use super::quote::{push_quoted, Ellipsis, HexStyle};
use std::ffi::CString;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::os::unix::fs::{FileTypeExt, MetadataExt};

/// The -yy text of the socket `path` (`socket:[INODE]`) that `link`
/// (`/proc/PID/fd/N`) points to; None when its protocol cannot be read.
pub fn describe(pid: u32, link: &str, path: &str) -> Option<String> {
    let inode = path.strip_prefix("socket:[")?.strip_suffix(']')?;
    let proto = protocol_name(link)?;
    let table = match proto.as_str() {
        "TCP" => Some("tcp"),
        "TCPv6" => Some("tcp6"),
        "UDP" => Some("udp"),
        "UDPv6" => Some("udp6"),
        "UNIX" | "UNIX-STREAM" | "UNIX-SEQPACKET" => Some("unix"),
        "NETLINK" => Some("netlink"),
        _ => None,
    };
    let detail = table.and_then(|t| {
        let text = std::fs::read_to_string(format!("/proc/{pid}/net/{t}")).ok()?;
        if t == "unix" {
            unix_detail(&text, inode)
        } else if t == "netlink" {
            netlink_detail(&text, inode)
        } else {
            inet_detail(&text, inode, t.ends_with('6'))
        }
    });
    Some(format!(
        "{proto}:[{}]",
        detail.unwrap_or_else(|| inode.to_owned())
    ))
}

/// The protocol name the kernel gives a new socket of socket()'s
/// `family`, `ty` and `protocol` (its `system.sockprotoname`, as strace
/// -yy shows it: `TCP`, `UNIX-STREAM`), for the socket's -yy text when
/// /proc cannot tell (its fd closed, its process gone). None for a family
/// not named here.
pub fn protocol_of(family: u64, ty: u64, protocol: u64) -> Option<&'static str> {
    const IPPROTO_UDPLITE: u64 = 136;
    const IPPROTO_MPTCP: u64 = 262;
    let ty = (ty & 0xf) as i32; // without SOCK_CLOEXEC, SOCK_NONBLOCK
    let ping = |p: u64| p == libc::IPPROTO_ICMP as u64 || p == libc::IPPROTO_ICMPV6 as u64;
    Some(match (family as i32, ty) {
        (libc::AF_UNIX, libc::SOCK_STREAM) => "UNIX-STREAM",
        (libc::AF_UNIX, _) => "UNIX",
        (libc::AF_INET, libc::SOCK_STREAM) if protocol == IPPROTO_MPTCP => "MPTCP",
        (libc::AF_INET, libc::SOCK_STREAM) => "TCP",
        (libc::AF_INET, libc::SOCK_DGRAM) if ping(protocol) => "PING",
        (libc::AF_INET, libc::SOCK_DGRAM) if protocol == IPPROTO_UDPLITE => "UDP-Lite",
        (libc::AF_INET, libc::SOCK_DGRAM) => "UDP",
        (libc::AF_INET, libc::SOCK_RAW) => "RAW",
        (libc::AF_INET6, libc::SOCK_STREAM) if protocol == IPPROTO_MPTCP => "MPTCPv6",
        (libc::AF_INET6, libc::SOCK_STREAM) => "TCPv6",
        (libc::AF_INET6, libc::SOCK_DGRAM) if ping(protocol) => "PINGv6",
        (libc::AF_INET6, libc::SOCK_DGRAM) if protocol == IPPROTO_UDPLITE => "UDPLITEv6",
        (libc::AF_INET6, libc::SOCK_DGRAM) => "UDPv6",
        (libc::AF_INET6, libc::SOCK_RAW) => "RAWv6",
        (libc::AF_NETLINK, _) => "NETLINK",
        (libc::AF_PACKET, _) => "PACKET",
        _ => return None,
    })
}

/// `path<char 1:3>` for a device, as -yy shows it; None for others.
pub fn device(path: &str) -> Option<String> {
    let meta = std::fs::metadata(path).ok()?;
    let kind = if meta.file_type().is_char_device() {
        "char"
    } else if meta.file_type().is_block_device() {
        "block"
    } else {
        return None;
    };
    let rdev = meta.rdev();
    Some(format!(
        "{path}<{kind} {}:{}>",
        libc::major(rdev),
        libc::minor(rdev)
    ))
}

fn protocol_name(link: &str) -> Option<String> {
    let c_link = CString::new(link).ok()?;
    let mut buf = [0u8; 64];
    // SAFETY: both strings are NUL-terminated; buf is writable for its length.
    let n = unsafe {
        libc::getxattr(
            c_link.as_ptr(),
            c"system.sockprotoname".as_ptr(),
            buf.as_mut_ptr().cast(),
            buf.len(),
        )
    };
    let n = usize::try_from(n).ok()?;
    let name = &buf[..n];
    let name = name.split(|&b| b == 0).next().unwrap_or(name);
    Some(String::from_utf8_lossy(name).into_owned())
}

/// `local` or `local->remote` of the row of /proc/net/{tcp,udp}[6]
/// whose inode is `inode`.
fn inet_detail(table: &str, inode: &str, v6: bool) -> Option<String> {
    for line in table.lines().skip(1) {
        let cols: Vec<&str> = line.split_whitespace().collect();
        if cols.get(9) != Some(&inode) {
            continue;
        }
        let local = endpoint(cols.get(1)?, v6)?;
        let remote = cols.get(2)?;
        let unconnected = remote.rsplit(':').next() == Some("0000");
        return Some(if unconnected {
            local
        } else {
            format!("{local}->{}", endpoint(remote, v6)?)
        });
    }
    None
}

/// What strace -yy shows between the brackets of a socket (`TCP:[...]`)
/// from a `struct systrace_socket_ends` the programs read at a connect's,
/// bind's, listen's or accept's exit: an inet socket's `local` or
/// `local->peer` (when the peer's port or address is set), a unix socket
/// `inode` (its own, `socket:[INODE]`'s) followed by `->PEER` when it has
/// one and `,"PATH"` when it is bound (`,@"NAME"` for an abstract name), a
/// netlink socket's `ROUTE:PORTID` when it is bound, else its `inode`.
/// None for a short or unknown one.
pub fn ends_text(bytes: &[u8], inode: &str) -> Option<String> {
    let word = |at: usize| Some(u16::from_ne_bytes(bytes.get(at..at + 2)?.try_into().ok()?));
    let (family, local_port, peer_port) = (family(bytes)?, word(2)?, word(4)?);
    if family == libc::AF_NETLINK {
        // The protocol in local_port, the port id in local_addr's first
        // word; as /proc/net/netlink's row (netlink_detail).
        let portid = u32::from_ne_bytes(bytes.get(8..12)?.try_into().ok()?);
        return Some(if portid == 0 {
            inode.to_owned()
        } else {
            netlink_text(u64::from(local_port), portid)
        });
    }
    if family == libc::AF_UNIX {
        let path = bytes.get(48..48 + usize::from(word(6)?))?;
        let mut out = inode.to_owned();
        if let Some(peer) = unix_peer(bytes) {
            out.push_str(&format!("->{peer}"));
        }
        match path.split_first() {
            Some((&0, name)) => {
                out.push_str(",@");
                push_quoted(&mut out, name, Ellipsis::No, HexStyle::None);
            }
            Some(_) => {
                out.push(',');
                let name = path.split(|&b| b == 0).next().unwrap_or(path);
                push_quoted(&mut out, name, Ellipsis::No, HexStyle::None);
            }
            None => {}
        }
        return Some(out);
    }
    let (local, peer) = (bytes.get(8..24)?, bytes.get(24..40)?);
    let width = if family == libc::AF_INET { 4 } else { 16 };
    let local = address_text(family, local, local_port)?;
    Some(if peer_port == 0 && peer[..width].iter().all(|&b| b == 0) {
        local
    } else {
        format!("{local}->{}", address_text(family, peer, peer_port)?)
    })
}

/// `127.0.0.1:8080` (`[::1]:8080`) of an address in network order.
fn address_text(family: i32, addr: &[u8], port: u16) -> Option<String> {
    match family {
        libc::AF_INET => Some(format!(
            "{}:{port}",
            Ipv4Addr::from(<[u8; 4]>::try_from(addr.get(..4)?).ok()?)
        )),
        libc::AF_INET6 => Some(format!(
            "[{}]:{port}",
            Ipv6Addr::from(<[u8; 16]>::try_from(addr.get(..16)?).ok()?)
        )),
        _ => None,
    }
}

/// The address family of a `struct systrace_socket_ends`.
pub fn family(bytes: &[u8]) -> Option<i32> {
    Some(i32::from(u16::from_ne_bytes(
        bytes.get(..2)?.try_into().ok()?,
    )))
}

/// The inode number of a unix socket's peer in a `struct
/// systrace_socket_ends`; None for another family, or without a peer.
pub fn unix_peer(bytes: &[u8]) -> Option<u64> {
    let peer = u64::from_ne_bytes(bytes.get(40..48)?.try_into().ok()?);
    (family(bytes)? == libc::AF_UNIX && peer != 0).then_some(peer)
}

/// `0100007F:1F90` -> `127.0.0.1:8080`; v6 as `[::1]:8080`.
fn endpoint(hex: &str, v6: bool) -> Option<String> {
    let (addr, port) = hex.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    if v6 {
        // Four 32-bit words, each in host (little-endian) order.
        let mut bytes = [0u8; 16];
        for (i, word) in bytes.chunks_mut(4).enumerate() {
            let w = u32::from_str_radix(addr.get(i * 8..i * 8 + 8)?, 16).ok()?;
            word.copy_from_slice(&w.to_le_bytes());
        }
        Some(format!("[{}]:{port}", Ipv6Addr::from(bytes)))
    } else {
        let w = u32::from_str_radix(addr, 16).ok()?;
        Some(format!("{}:{port}", Ipv4Addr::from(w.to_le_bytes())))
    }
}

/// `INODE` or `INODE,"path"` of the row of /proc/net/unix of `inode`.
fn unix_detail(table: &str, inode: &str) -> Option<String> {
    for line in table.lines().skip(1) {
        let cols: Vec<&str> = line.split_whitespace().collect();
        if cols.get(6) != Some(&inode) {
            continue;
        }
        return Some(match cols.get(7) {
            // An abstract name starts with '@' here, with NUL in the
            // kernel; strace shows it `@"name"`.
            Some(path) => match path.strip_prefix('@') {
                Some(name) => format!("{inode},@\"{name}\""),
                None => format!("{inode},\"{path}\""),
            },
            None => inode.to_owned(),
        });
    }
    None
}

/// `ROUTE:PORTID` (or the protocol's number) of the row of
/// /proc/net/netlink of `inode`: a socket there is bound (strace asks
/// sock_diag, which knows the same sockets; an unbound one is its inode).
fn netlink_detail(table: &str, inode: &str) -> Option<String> {
    for line in table.lines().skip(1) {
        let cols: Vec<&str> = line.split_whitespace().collect();
        if cols.last() != Some(&inode) {
            continue;
        }
        let protocol: u64 = cols.get(1)?.parse().ok()?;
        let portid: u32 = cols.get(2)?.parse().ok()?;
        return Some(netlink_text(protocol, portid));
    }
    None
}

/// `ROUTE:PORTID` of a bound netlink socket, or its protocol's number
/// alone when it has no name.
fn netlink_text(protocol: u64, portid: u32) -> String {
    match super::flags::xval(super::flags::NETLINK_PROTOCOLS, protocol) {
        Some(name) => format!("{}:{portid}", name.trim_start_matches("NETLINK_")),
        None => protocol.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_proc_net_rows() {
        let tcp = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n\
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 111 1 0 100 0 0 10 0\n\
   1: 0100007F:A0F6 0100007F:1F90 01 00000000:00000000 00:00000000 00000000     0        0 222 1 0 20 4 30 10 -1\n";
        assert_eq!(
            inet_detail(tcp, "111", false).as_deref(),
            Some("127.0.0.1:8080")
        );
        assert_eq!(
            inet_detail(tcp, "222", false).as_deref(),
            Some("127.0.0.1:41206->127.0.0.1:8080")
        );
        assert_eq!(inet_detail(tcp, "333", false), None);
        assert_eq!(
            endpoint("00000000000000000000000001000000:1F90", true).as_deref(),
            Some("[::1]:8080")
        );
        let unix = "Num       RefCount Protocol Flags    Type St Inode Path\n\
0000000000000000: 00000002 00000000 00010000 0001 01 515659 /tmp/yt/sock\n\
0000000000000000: 00000002 00000000 00000000 0001 03 515663\n";
        assert_eq!(
            unix_detail(unix, "515659").as_deref(),
            Some("515659,\"/tmp/yt/sock\"")
        );
        assert_eq!(unix_detail(unix, "515663").as_deref(), Some("515663"));
        let netlink = "sk               Eth Pid        Groups   Rmem     Wmem     Dump  Locks    Drops    Inode\n\
00000000d6c6fa65 0   15448      00000000 0        0        0     2        0        3111242\n\
00000000acfe7f59 99  7          00000000 0        0        0     2        0        565\n";
        assert_eq!(
            netlink_detail(netlink, "3111242").as_deref(),
            Some("ROUTE:15448")
        );
        assert_eq!(netlink_detail(netlink, "565").as_deref(), Some("99"));
        assert_eq!(netlink_detail(netlink, "1"), None); // not bound
    }

    /// A `struct systrace_socket_ends` as the programs write it.
    fn ends(family: u16, local: (&[u8], u16), peer: (&[u8], u16)) -> Vec<u8> {
        let mut b = vec![0u8; 40];
        b[..2].copy_from_slice(&family.to_ne_bytes());
        b[2..4].copy_from_slice(&local.1.to_ne_bytes());
        b[4..6].copy_from_slice(&peer.1.to_ne_bytes());
        b[8..8 + local.0.len()].copy_from_slice(local.0);
        b[24..24 + peer.0.len()].copy_from_slice(peer.0);
        b
    }

    #[test]
    fn reads_the_socket_ends_the_programs_read() {
        let lo = [127u8, 0, 0, 1];
        let connected = ends(2, (&lo, 40000), (&lo, 8080));
        assert_eq!(
            ends_text(&connected, "1").as_deref(),
            Some("127.0.0.1:40000->127.0.0.1:8080")
        );
        let bound = ends(2, (&lo, 8080), (&[], 0));
        assert_eq!(ends_text(&bound, "1").as_deref(), Some("127.0.0.1:8080"));
        let mut one = [0u8; 16];
        one[15] = 1;
        let v6 = ends(10, (&one, 41000), (&one, 8080));
        assert_eq!(
            ends_text(&v6, "1").as_deref(),
            Some("[::1]:41000->[::1]:8080")
        );
        assert_eq!(ends_text(&connected[..30], "1"), None); // cut short

        // AF_NETLINK: its protocol and port id, once bound.
        let route = ends(16, (&15448u32.to_ne_bytes(), 0), (&[], 0));
        assert_eq!(ends_text(&route, "1").as_deref(), Some("ROUTE:15448"));
        let diag = ends(16, (&7u32.to_ne_bytes(), 4), (&[], 0));
        assert_eq!(ends_text(&diag, "1").as_deref(), Some("SOCK_DIAG:7"));
        assert_eq!(
            ends_text(&ends(16, (&[], 4), (&[], 0)), "9").as_deref(),
            Some("9")
        );
        assert_eq!(ends_text(&route[..10], "1"), None); // cut short
        assert_eq!(ends_text(&ends(17, (&[], 0), (&[], 0)), "1"), None); // AF_PACKET
        assert_eq!(unix_peer(&connected), None);
    }

    /// A unix socket's `struct systrace_socket_ends`.
    fn unix_ends(peer: u64, path: &[u8]) -> Vec<u8> {
        let mut b = ends(1, (&[], 0), (&[], 0));
        b[6..8].copy_from_slice(&(path.len() as u16).to_ne_bytes());
        b.extend_from_slice(&peer.to_ne_bytes());
        b.extend_from_slice(path);
        b.resize(48 + 108, 0);
        b
    }

    #[test]
    fn reads_the_unix_socket_ends_the_programs_read() {
        let text = |b: &[u8]| ends_text(b, "7");
        assert_eq!(text(&unix_ends(0, b"")).as_deref(), Some("7"));
        assert_eq!(text(&unix_ends(8, b"")).as_deref(), Some("7->8"));
        // A path with its NUL; an abstract name, NUL first, exactly its bytes.
        let bound = unix_ends(0, b"/run/x.sock\0");
        assert_eq!(text(&bound).as_deref(), Some("7,\"/run/x.sock\""));
        let accepted = unix_ends(8, b"/run/x.sock\0");
        assert_eq!(text(&accepted).as_deref(), Some("7->8,\"/run/x.sock\""));
        let abstract_name = unix_ends(0, b"\0name");
        assert_eq!(text(&abstract_name).as_deref(), Some("7,@\"name\""));
        assert_eq!(unix_peer(&accepted), Some(8));
        assert_eq!(unix_peer(&bound), None);
    }
}
