//! `struct sockaddr` from the bytes captured of an address argument
//! (connect's, bind's, sendto's at enter; accept's, getsockname's,
//! recvfrom's at exit): the family, and for the internet and unix families
//! the address (and port); and its strace text.
use std::fmt::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::flags as x;
use super::quote::{push_quoted, Ellipsis, HexStyle};
use super::structs::ifindex_text;

/// A decoded socket address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SockAddr {
    /// `sa_family`.
    pub family: u16,
    /// The address: an IP address as text, a unix socket's path (an
    /// abstract one starts with '@', as ss prints it); None for other
    /// families.
    pub address: Option<String>,
    /// The port of an internet address.
    pub port: Option<u16>,
    /// The IP address, for an internet address.
    pub ip: Option<IpAddr>,
}

/// Family names, as `<sys/socket.h>` spells them.
const FAMILIES: &[(i32, &str)] = &[
    (libc::AF_UNSPEC, "AF_UNSPEC"),
    (libc::AF_UNIX, "AF_UNIX"),
    (libc::AF_INET, "AF_INET"),
    (libc::AF_INET6, "AF_INET6"),
    (libc::AF_NETLINK, "AF_NETLINK"),
    (libc::AF_PACKET, "AF_PACKET"),
];

impl SockAddr {
    /// "AF_INET", or "AF_<number>" for a family without a name here.
    pub fn family_name(&self) -> String {
        FAMILIES
            .iter()
            .find(|(f, _)| *f == i32::from(self.family))
            .map_or_else(|| format!("AF_{}", self.family), |(_, n)| (*n).to_owned())
    }

    /// An internet address off this host: not loopback (127.0.0.0/8, ::1,
    /// or such an IPv4 address mapped into IPv6), not unspecified (0.0.0.0
    /// and :: reach this host too).
    pub fn is_remote(&self) -> bool {
        self.ip.is_some_and(|ip| {
            let ip = ip.to_canonical();
            !(ip.is_loopback() || ip.is_unspecified())
        })
    }
}

/// The address in `bytes` (as the process passed it, `addrlen` bytes);
/// None when too short to hold a family, or its family's address.
pub fn decode(bytes: &[u8]) -> Option<SockAddr> {
    let family = u16::from_ne_bytes(bytes.get(..2)?.try_into().ok()?);
    let mut out = SockAddr {
        family,
        address: None,
        port: None,
        ip: None,
    };
    let port = || bytes.get(2..4).map(|p| u16::from_be_bytes([p[0], p[1]]));
    match i32::from(family) {
        libc::AF_INET => {
            let a: [u8; 4] = bytes.get(4..8)?.try_into().ok()?;
            out.ip = Some(IpAddr::V4(Ipv4Addr::from(a)));
            out.port = port();
        }
        libc::AF_INET6 => {
            let a: [u8; 16] = bytes.get(8..24)?.try_into().ok()?;
            out.ip = Some(IpAddr::V6(Ipv6Addr::from(a)));
            out.port = port();
        }
        libc::AF_UNIX => {
            let path = &bytes[2..];
            out.address = Some(match path.split_first() {
                Some((0, name)) => format!("@{}", String::from_utf8_lossy(name)),
                _ => {
                    let end = path.iter().position(|&b| b == 0).unwrap_or(path.len());
                    String::from_utf8_lossy(&path[..end]).into_owned()
                }
            });
        }
        _ => {}
    }
    if let Some(ip) = out.ip {
        out.address = Some(ip.to_string());
    }
    Some(out)
}

/// For `Call.args`: `{"family": "AF_INET", "address": "127.0.0.1", "port": 80}`
/// (address and port null where the family has none).
pub fn value(addr: &SockAddr) -> serde_json::Value {
    serde_json::json!({
        "family": addr.family_name(),
        "address": addr.address,
        "port": addr.port,
    })
}

/// C's `%#0*x` (strace's PRINT_VAL_0X): `0x000005` at width 8, but no
/// `0x` on zero (`00000000`).
pub fn hex0(value: u64, width: usize) -> String {
    if value == 0 {
        "0".repeat(width)
    } else {
        format!("{value:#0width$x}")
    }
}

/// The smallest address each family's printer takes (strace's
/// sa_printers[].min_len); a shorter one is printed raw.
fn min_len(family: i32) -> Option<usize> {
    Some(match family {
        libc::AF_UNIX => 3,
        libc::AF_INET => 16,
        libc::AF_INET6 => 24, // up to sin6_scope_id
        libc::AF_NETLINK => 12,
        libc::AF_PACKET => 20,
        libc::AF_VSOCK => 16,
        _ => return None,
    })
}

/// As strace prints it: `{sa_family=AF_INET, sin_port=htons(80),
/// sin_addr=inet_addr("127.0.0.1")}`; a family without a printer here, or
/// an address too short for its family's, as strace's raw
/// `{sa_family=AF_ALG, sa_data="..."}`. None when not even the family is
/// there. `hex`: how strings are quoted (-x, -xx), as strace quotes them.
pub fn text(bytes: &[u8], hex: super::quote::HexStyle) -> Option<String> {
    let family = u16::from_ne_bytes(bytes.get(..2)?.try_into().ok()?);
    let name = x::xval_or_unknown(x::ADDRESS_FAMILIES, u64::from(family), "AF_???");
    if bytes.len() == 2 {
        return Some(format!("{{sa_family={name}}}"));
    }
    let printed = min_len(i32::from(family))
        .filter(|&min| bytes.len() >= min)
        .and_then(|_| fields(family, bytes, hex));
    let mut out = format!("{{sa_family={name}, ");
    match printed {
        Some(fields) => out.push_str(&fields),
        None => {
            out.push_str("sa_data=");
            push_quoted(&mut out, &bytes[2..], Ellipsis::No, hex);
        }
    }
    out.push('}');
    Some(out)
}

/// An address's text as strace's print_inet_addr quotes it in
/// `inet_addr("...")`: a string as any other, so in hex under -xx.
pub fn quoted_addr(text: &str, hex: HexStyle) -> String {
    let mut out = String::new();
    push_quoted(&mut out, text.as_bytes(), Ellipsis::No, hex);
    out
}

/// The fields after sa_family of a family with a printer.
fn fields(family: u16, bytes: &[u8], hex: HexStyle) -> Option<String> {
    let addr = decode(bytes)?;
    let ne32 = |at: usize| {
        bytes
            .get(at..at + 4)
            .map(|p| u32::from_ne_bytes([p[0], p[1], p[2], p[3]]))
    };
    Some(match i32::from(family) {
        libc::AF_INET => format!(
            "sin_port=htons({}), sin_addr=inet_addr({})",
            addr.port?,
            quoted_addr(&addr.address?, hex)
        ),
        libc::AF_INET6 => {
            let mut out = format!(
                "sin6_port=htons({}), sin6_flowinfo=htonl({}), \
                 inet_pton(AF_INET6, {}, &sin6_addr)",
                addr.port?,
                u32::from_be(ne32(4)?),
                quoted_addr(&addr.address?, hex)
            );
            if let Some(scope) = ne32(24) {
                // A link-local address's scope is an interface.
                let link_local = matches!(addr.ip, Some(IpAddr::V6(ip))
                    if ip.segments()[0] & 0xffc0 == 0xfe80 || ip.segments()[0] & 0xff0f == 0xff02);
                if link_local {
                    let _ = write!(out, ", sin6_scope_id={}", ifindex_text(scope));
                } else {
                    let _ = write!(out, ", sin6_scope_id={scope}");
                }
            }
            out
        }
        libc::AF_UNIX => {
            // sun_path is at most 108 bytes, whatever addrlen says.
            let path = &bytes[2..bytes.len().min(110)];
            let mut out = String::from("sun_path=");
            let (at, name) = match path.split_first() {
                Some((0, rest)) => ("@", rest),
                _ => ("", path),
            };
            let end = name.iter().position(|&b| b == 0).unwrap_or(name.len());
            out.push_str(at);
            push_quoted(
                &mut out,
                &name[..if at.is_empty() { end } else { name.len() }],
                Ellipsis::No,
                hex,
            );
            out
        }
        libc::AF_NETLINK => {
            // nl_pad, shown when not zero (Python's bind leaves it unset).
            let pad = u16::from_ne_bytes(bytes.get(2..4)?.try_into().ok()?);
            let pad = match pad {
                0 => String::new(),
                p => format!("nl_pad={p:#x}, "),
            };
            format!(
                "{pad}nl_pid={}, nl_groups={}",
                ne32(4)? as i32,
                hex0(u64::from(ne32(8)?), 8)
            )
        }
        libc::AF_PACKET => {
            // struct sockaddr_ll: protocol (network order), ifindex,
            // hatype, pkttype, halen, addr[8].
            let protocol = u16::from_be_bytes(bytes.get(2..4)?.try_into().ok()?);
            let hatype = u16::from_ne_bytes(bytes.get(8..10)?.try_into().ok()?);
            let halen = *bytes.get(11)?;
            let mut out = format!(
                "sll_protocol=htons({}), sll_ifindex={}, sll_hatype={}, sll_pkttype={}, sll_halen={halen}",
                x::xval_or_unknown(x::ETH_PROTOCOLS, u64::from(protocol), "ETH_P_???"),
                ifindex_text(ne32(4)?),
                x::xval_or_unknown(x::ARPHRD_TYPES, u64::from(hatype), "ARPHRD_???"),
                x::xval_or_unknown(PACKET_TYPES, u64::from(*bytes.get(10)?), "PACKET_???"),
            );
            if halen > 0 {
                // Bytes past addrlen are not shown: `...` instead.
                let there = &bytes[12..];
                let mut items: Vec<String> = (there.iter().take(usize::from(halen)))
                    .map(|&b| hex0(u64::from(b), 2))
                    .collect();
                if there.len() < usize::from(halen) {
                    items.push("...".to_owned());
                }
                let _ = write!(out, ", sll_addr=[{}]", items.join(", "));
            }
            out
        }
        libc::AF_VSOCK => {
            // struct sockaddr_vm: reserved1, port, cid, flags, zero[3].
            let reserved = u16::from_ne_bytes(bytes.get(2..4)?.try_into().ok()?);
            let mut out = match reserved {
                0 => String::new(),
                r => format!("svm_reserved1={r:#x}, "),
            };
            let xval = |table, v: u32| {
                x::xval(table, u64::from(v)).map_or_else(|| x::hex(u64::from(v)), str::to_owned)
            };
            let _ = write!(
                out,
                "svm_cid={}, svm_port={}, svm_flags={}",
                xval(VSOCK_CIDS, ne32(8)?),
                xval(VSOCK_PORTS, ne32(4)?),
                x::flags_or_unknown(VSOCK_FLAGS, u64::from(*bytes.get(12)?), "VMADDR_FLAG_???"),
            );
            let zero = &bytes[13..16];
            if zero.iter().any(|&b| b != 0) {
                let zero: Vec<String> = zero.iter().map(|&b| x::hex(u64::from(b))).collect();
                let _ = write!(out, ", svm_zero=[{}]", zero.join(", "));
            }
            out
        }
        _ => return None,
    })
}

/// sockaddr_ll's sll_pkttype.
const PACKET_TYPES: x::Xlat = &[
    (0, "PACKET_HOST"),
    (1, "PACKET_BROADCAST"),
    (2, "PACKET_MULTICAST"),
    (3, "PACKET_OTHERHOST"),
    (4, "PACKET_OUTGOING"),
    (5, "PACKET_LOOPBACK"),
    (6, "PACKET_USER"),
    (7, "PACKET_KERNEL"),
];
const VSOCK_CIDS: x::Xlat = &[
    (0, "VMADDR_CID_HYPERVISOR"),
    (1, "VMADDR_CID_LOCAL"),
    (2, "VMADDR_CID_HOST"),
    (0xffff_ffff, "VMADDR_CID_ANY"),
];
const VSOCK_PORTS: x::Xlat = &[(0xffff_ffff, "VMADDR_PORT_ANY")];
const VSOCK_FLAGS: x::Xlat = &[(1, "VMADDR_FLAG_TO_HOST")];

#[cfg(test)]
mod tests {
    use super::*;

    fn inet(ip: [u8; 4], port: u16) -> Vec<u8> {
        let mut b = (libc::AF_INET as u16).to_ne_bytes().to_vec();
        b.extend(port.to_be_bytes());
        b.extend(ip);
        b.extend([0; 8]);
        b
    }

    fn inet6(ip: Ipv6Addr, port: u16) -> Vec<u8> {
        let mut b = (libc::AF_INET6 as u16).to_ne_bytes().to_vec();
        b.extend(port.to_be_bytes());
        b.extend([0; 4]);
        b.extend(ip.octets());
        b.extend([0; 4]);
        b
    }

    #[test]
    fn internet_addresses() {
        let a = decode(&inet([10, 255, 255, 1], 9)).unwrap();
        assert_eq!(a.family_name(), "AF_INET");
        assert_eq!(
            (a.address.as_deref(), a.port),
            (Some("10.255.255.1"), Some(9))
        );
        assert!(a.is_remote());
        for local in [[127, 0, 0, 1], [127, 1, 2, 3], [0, 0, 0, 0]] {
            assert!(!decode(&inet(local, 80)).unwrap().is_remote(), "{local:?}");
        }
        let v6 = decode(&inet6("2001:db8::1".parse().unwrap(), 443)).unwrap();
        assert_eq!(
            (v6.family_name(), v6.address.as_deref(), v6.port),
            ("AF_INET6".to_owned(), Some("2001:db8::1"), Some(443))
        );
        assert!(v6.is_remote());
        assert!(!decode(&inet6(Ipv6Addr::LOCALHOST, 1)).unwrap().is_remote());
        let mapped = Ipv4Addr::new(127, 0, 0, 1).to_ipv6_mapped();
        assert!(!decode(&inet6(mapped, 1)).unwrap().is_remote());
        // Cut short: the family is known, the address is not.
        assert_eq!(decode(&inet([1, 2, 3, 4], 5)[..6]), None);
        assert_eq!(decode(&[2]), None);
    }

    #[test]
    fn unix_and_other_families() {
        let mut b = (libc::AF_UNIX as u16).to_ne_bytes().to_vec();
        b.extend(b"/run/x.sock\0junk");
        let a = decode(&b).unwrap();
        assert_eq!(
            (a.family_name(), a.address.as_deref()),
            ("AF_UNIX".into(), Some("/run/x.sock"))
        );
        assert!(!a.is_remote());
        let mut b = (libc::AF_UNIX as u16).to_ne_bytes().to_vec();
        b.extend(b"\0abstract");
        assert_eq!(decode(&b).unwrap().address.as_deref(), Some("@abstract"));
        let nl = decode(&(libc::AF_NETLINK as u16).to_ne_bytes()).unwrap();
        assert_eq!(
            (nl.family_name(), nl.address.clone(), nl.is_remote()),
            ("AF_NETLINK".into(), None, false)
        );
        assert_eq!(
            decode(&999u16.to_ne_bytes()).unwrap().family_name(),
            "AF_999"
        );
    }

    #[test]
    fn a_netlink_address_shows_its_padding_when_set() {
        let nl = |pad: u16| {
            let mut b = (libc::AF_NETLINK as u16).to_ne_bytes().to_vec();
            b.extend(pad.to_ne_bytes());
            b.extend(5u32.to_ne_bytes());
            b.extend(1u32.to_ne_bytes());
            text(&b, crate::strace::quote::HexStyle::None).unwrap()
        };
        assert_eq!(
            nl(0),
            "{sa_family=AF_NETLINK, nl_pid=5, nl_groups=0x000001}"
        );
        assert_eq!(
            nl(0x9257),
            "{sa_family=AF_NETLINK, nl_pad=0x9257, nl_pid=5, nl_groups=0x000001}"
        );
    }

    #[test]
    fn families_without_a_printer_and_short_addresses_print_raw() {
        let hex = crate::strace::quote::HexStyle::None;
        let with = |family: i32, rest: &[u8]| {
            let mut b = (family as u16).to_ne_bytes().to_vec();
            b.extend(rest);
            text(&b, hex).unwrap()
        };
        assert_eq!(
            with(libc::AF_UNSPEC, &[0; 14]),
            "{sa_family=AF_UNSPEC, sa_data=\"\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\"}"
        );
        assert_eq!(
            with(libc::AF_ALG, b"ab"),
            "{sa_family=AF_ALG, sa_data=\"ab\"}"
        );
        assert_eq!(
            with(99, b"x"),
            "{sa_family=0x63 /* AF_??? */, sa_data=\"x\"}"
        );
        // Shorter than a sockaddr_in: its bytes, as strace's min_len.
        assert_eq!(
            with(libc::AF_INET, &[0, 80, 127, 0, 0, 1]),
            "{sa_family=AF_INET, sa_data=\"\\0P\\177\\0\\0\\1\"}"
        );
        assert_eq!(with(libc::AF_INET, &[]), "{sa_family=AF_INET}");
        assert_eq!(text(&[2], hex), None);
    }

    #[test]
    fn addresses_in_hex_under_xx() {
        // strace -xx -e trace=connect: the address is a string like any other.
        use crate::strace::quote::HexStyle;
        let mut sin = (libc::AF_INET as u16).to_ne_bytes().to_vec();
        sin.extend([0, 80, 127, 0, 0, 1]);
        sin.extend([0; 8]);
        assert_eq!(
            text(&sin, HexStyle::All).unwrap(),
            r#"{sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("\x31\x32\x37\x2e\x30\x2e\x30\x2e\x31")}"#
        );
        assert!(text(&sin, HexStyle::NonAscii)
            .unwrap()
            .ends_with(r#"inet_addr("127.0.0.1")}"#));
        let mut sin6 = (libc::AF_INET6 as u16).to_ne_bytes().to_vec();
        sin6.extend([0; 6]);
        sin6.extend(std::net::Ipv6Addr::LOCALHOST.octets());
        sin6.extend([0; 4]);
        assert!(text(&sin6, HexStyle::All)
            .unwrap()
            .contains(r#"inet_pton(AF_INET6, "\x3a\x3a\x31", &sin6_addr)"#));
    }

    #[test]
    fn packet_and_vsock_addresses() {
        let hex = crate::strace::quote::HexStyle::None;
        let mut ll = (libc::AF_PACKET as u16).to_ne_bytes().to_vec();
        ll.extend(0x0800u16.to_be_bytes()); // ETH_P_IP
        ll.extend(0u32.to_ne_bytes()); // no such interface
        ll.extend(1u16.to_ne_bytes()); // ARPHRD_ETHER
        ll.extend([4, 3, 0xab, 0, 5]); // outgoing, 3 bytes of address
        ll.extend([0; 5]);
        assert_eq!(
            text(&ll, hex).unwrap(),
            "{sa_family=AF_PACKET, sll_protocol=htons(ETH_P_IP), sll_ifindex=0, \
             sll_hatype=ARPHRD_ETHER, sll_pkttype=PACKET_OUTGOING, sll_halen=3, \
             sll_addr=[0xab, 00, 0x5]}"
        );
        // A halen past the bytes given: what is there, then "...".
        ll[11] = 8;
        ll.truncate(14);
        assert!(text(&ll, hex).is_some_and(|t| t.contains("sa_data=")));
        let mut vm = (libc::AF_VSOCK as u16).to_ne_bytes().to_vec();
        vm.extend(0u16.to_ne_bytes());
        vm.extend(1234u32.to_ne_bytes());
        vm.extend(2u32.to_ne_bytes());
        vm.extend([1, 0, 0, 0]);
        assert_eq!(
            text(&vm, hex).unwrap(),
            "{sa_family=AF_VSOCK, svm_cid=VMADDR_CID_HOST, svm_port=0x4d2, svm_flags=VMADDR_FLAG_TO_HOST}"
        );
    }

    #[test]
    fn hex0_is_cs_alternate_zero_padded_hex() {
        assert_eq!(hex0(5, 8), "0x000005");
        assert_eq!(hex0(0, 8), "00000000");
        assert_eq!(hex0(0xab, 2), "0xab");
        assert_eq!(hex0(5, 2), "0x5");
    }
}
