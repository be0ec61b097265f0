//! `struct sockaddr` from the bytes captured of an address argument
//! (connect's, bind's, sendto's at enter; accept's, getsockname's,
//! recvfrom's at exit): the family, and for the internet and unix families
//! the address (and port); and its strace text.
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

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

/// As strace prints it: `{sa_family=AF_INET, sin_port=htons(80),
/// sin_addr=inet_addr("127.0.0.1")}`; None for a family printed here as
/// its pointer, or an address too short for its family. `hex`: how a
/// unix socket's path is quoted (-x, -xx), as strace quotes it.
pub fn text(bytes: &[u8], hex: super::quote::HexStyle) -> Option<String> {
    let family = u16::from_ne_bytes(bytes.get(..2)?.try_into().ok()?);
    let addr = decode(bytes)?;
    let ne32 = |at: usize| {
        bytes
            .get(at..at + 4)
            .map(|p| u32::from_ne_bytes([p[0], p[1], p[2], p[3]]))
    };
    Some(match i32::from(family) {
        libc::AF_INET => format!(
            "{{sa_family=AF_INET, sin_port=htons({}), sin_addr=inet_addr(\"{}\")}}",
            addr.port?, addr.address?
        ),
        libc::AF_INET6 => format!(
            "{{sa_family=AF_INET6, sin6_port=htons({}), sin6_flowinfo=htonl({}), \
             inet_pton(AF_INET6, \"{}\", &sin6_addr), sin6_scope_id={}}}",
            addr.port?,
            u32::from_be(ne32(4)?),
            addr.address?,
            ne32(24)?
        ),
        libc::AF_UNIX if bytes.len() <= 2 => "{sa_family=AF_UNIX}".to_owned(),
        libc::AF_UNIX => {
            let path = &bytes[2..];
            let mut out = String::from("{sa_family=AF_UNIX, sun_path=");
            let (at, name) = match path.split_first() {
                Some((0, rest)) => ("@", rest),
                _ => ("", path),
            };
            let end = name.iter().position(|&b| b == 0).unwrap_or(name.len());
            out.push_str(at);
            super::quote::push_quoted(
                &mut out,
                &name[..if at.is_empty() { end } else { name.len() }],
                super::quote::Ellipsis::No,
                hex,
            );
            out.push('}');
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
                "{{sa_family=AF_NETLINK, {pad}nl_pid={}, nl_groups={:08x}}}",
                ne32(4)? as i32,
                ne32(8)?
            )
        }
        _ => return None,
    })
}

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
            "{sa_family=AF_NETLINK, nl_pid=5, nl_groups=00000001}"
        );
        assert_eq!(
            nl(0x9257),
            "{sa_family=AF_NETLINK, nl_pad=0x9257, nl_pid=5, nl_groups=00000001}"
        );
    }
}
