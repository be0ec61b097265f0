//! struct ifreq, the argument of a socket's interface ioctls (ifconfig,
//! if_nametoindex, if_indextoname), as strace prints it (sock.c):
//! `{ifr_name="lo", ifr_flags=IFF_UP|IFF_LOOPBACK|IFF_RUNNING}`. A request
//! that reads an interface's attribute names the interface at enter and
//! gets the attribute at exit; one that sets it gives both at enter.
use std::fmt::Write;

use super::read;
use crate::strace::decoders::ptr;
use crate::strace::flags::{self as x};
use crate::strace::quote::{push_quoted, Ellipsis, HexStyle};
use crate::strace::StraceOptions;

/// IFNAMSIZ: an interface name's bytes, its NUL included.
const NAME_SIZE: usize = 16;
/// The union after the name.
const UNION: usize = NAME_SIZE;

/// The member of the union a request reads or writes.
#[derive(Clone, Copy)]
enum Member {
    Sockaddr(&'static str),
    Hwaddr,
    Flags,
    Int(&'static str),
    Name(&'static str),
    Map,
}

/// The SIOCGIF* requests, which read the name and write the member (the
/// programs read the structure at both ends: bpf/capture.bpf.h command_arg).
fn get_member(cmd: u32) -> Option<Member> {
    use Member::*;
    Some(match cmd {
        0x8910 => Name("ifr_name"), // SIOCGIFNAME: asked by index (ifreq_text)
        0x8913 => Flags,
        0x8915 => Sockaddr("ifr_addr"),
        0x8917 => Sockaddr("ifr_dstaddr"),
        0x8919 => Sockaddr("ifr_broadaddr"),
        0x891b => Sockaddr("ifr_netmask"),
        0x891d => Int("ifr_metric"),
        0x8921 => Int("ifr_mtu"),
        0x8927 => Hwaddr,
        0x8929 => Name("ifr_slave"),
        0x8933 => Int("ifr_ifindex"),
        0x8942 => Int("ifr_qlen"),
        0x8970 => Map,
        _ => return None,
    })
}

/// The SIOCSIF* requests (and the multicast lists'), which read it all.
fn set_member(cmd: u32) -> Option<Member> {
    use Member::*;
    Some(match cmd {
        0x8914 => Flags,
        0x8916 => Sockaddr("ifr_addr"),
        0x8918 => Sockaddr("ifr_dstaddr"),
        0x891a => Sockaddr("ifr_broadaddr"),
        0x891c => Sockaddr("ifr_netmask"),
        0x891e => Int("ifr_metric"),
        0x8922 => Int("ifr_mtu"),
        0x8923 => Name("ifr_newname"),
        0x8924 | 0x8931 | 0x8932 | 0x8937 => Hwaddr,
        0x8930 => Name("ifr_slave"),
        0x8943 => Int("ifr_qlen"),
        0x8971 => Map,
        _ => return None,
    })
}

/// How the request's ifreq prints: at exit (it writes one) or at enter.
pub enum Ifreq {
    /// SIOCGIF*: shown at exit, the name and, if the call succeeded, the member.
    Get,
    /// SIOCSIF*, SIOCADDMULTI...: shown at enter.
    Set,
    /// SIOCBRADDIF, SIOCBRDELIF: a bridge port's index, at enter.
    BridgePort,
}

/// Which ifreq request `cmd` is (None: no request of an ifreq).
pub fn ifreq_request(cmd: u32) -> Option<Ifreq> {
    if get_member(cmd).is_some() {
        Some(Ifreq::Get)
    } else if set_member(cmd).is_some() {
        Some(Ifreq::Set)
    } else if matches!(cmd, 0x89a2 | 0x89a3) {
        Some(Ifreq::BridgePort)
    } else {
        None
    }
}

/// The ifreq of request `cmd`: `before` as read at enter, `after` as the
/// call left it (Some only when it succeeded); None when too short.
pub fn ifreq_text(cmd: u32, before: &[u8], after: Option<&[u8]>, hex: HexStyle) -> Option<String> {
    let mut out = String::from("{");
    match ifreq_request(cmd)? {
        Ifreq::BridgePort => {
            let index = read::<i32>(before.get(UNION..)?)?;
            let _ = write!(
                out,
                "ifr_ifindex={}",
                super::netlink::ifindex_text(index as u32)
            );
        }
        Ifreq::Set => {
            push_name(&mut out, "ifr_name", before.get(..NAME_SIZE)?, hex);
            out.push_str(", ");
            push_member(&mut out, set_member(cmd)?, before, hex)?;
        }
        Ifreq::Get if cmd == 0x8910 => {
            // SIOCGIFNAME: by index, the name at exit.
            let _ = write!(out, "ifr_ifindex={}", read::<i32>(before.get(UNION..)?)?);
            if let Some(after) = after {
                out.push_str(", ");
                push_name(&mut out, "ifr_name", after.get(..NAME_SIZE)?, hex);
            }
        }
        Ifreq::Get => {
            push_name(&mut out, "ifr_name", before.get(..NAME_SIZE)?, hex);
            if let Some(after) = after {
                out.push_str(", ");
                push_member(&mut out, get_member(cmd)?, after, hex)?;
            }
        }
    }
    out.push('}');
    Some(out)
}

/// SIOCGIFCONF: struct ifconf as given (`before`) and as the call left it
/// (`after`, None when it failed), and the ifreqs it wrote (`array`, cut
/// short when `more`): `{ifc_len=1200 /* 30 * sizeof(struct ifreq) */ =>
/// 80 /* 2 * sizeof(struct ifreq) */, ifc_buf=[{ifr_name="lo", ...}]}`.
/// With ifc_buf NULL the call only says the length it needs.
pub fn ifconf_text(
    before: &[u8],
    after: Option<&[u8]>,
    array: &[u8],
    more: bool,
    opts: &StraceOptions,
) -> Option<String> {
    let head = |b: &[u8]| Some((read::<i32>(b)?, read::<u64>(b.get(8..)?)?));
    let (len, buf) = head(before)?;
    let (new_len, new_buf) = match after {
        Some(after) => head(after)?,
        None => (len, buf),
    };
    let mut out = String::from("{ifc_len=");
    if buf != 0 {
        push_ifc_len(&mut out, len);
        if new_len != len {
            out.push_str(" => ");
        }
    }
    if buf == 0 || new_len != len {
        push_ifc_len(&mut out, new_len);
    }
    out.push_str(", ifc_buf=");
    if buf == 0 || after.is_none() {
        out.push_str(&ptr(buf));
        if new_buf != buf {
            let _ = write!(out, " => {}", ptr(new_buf));
        }
    } else {
        let count = new_len as u32 as usize / IFREQ_SIZE;
        let mut shown = 0;
        out.push('[');
        for ifr in array.chunks_exact(IFREQ_SIZE).take(count) {
            if shown > 0 {
                out.push_str(", ");
            }
            if shown == opts.string_size {
                out.push_str("...");
                break;
            }
            out.push('{');
            push_name(&mut out, "ifr_name", &ifr[..NAME_SIZE], opts.hex);
            out.push_str(", ");
            push_member(&mut out, Member::Sockaddr("ifr_addr"), ifr, opts.hex)?;
            out.push('}');
            shown += 1;
        }
        // Fewer than ifc_len says: the record's budget cut the array.
        if shown < count.min(opts.string_size) && (more || array.len() < count * IFREQ_SIZE) {
            out.push_str(if shown > 0 { ", ..." } else { "..." });
        }
        out.push(']');
    }
    out.push('}');
    Some(out)
}

/// sizeof(struct ifreq).
const IFREQ_SIZE: usize = 40;

/// strace's print_ifc_len: a length that is a whole number of ifreqs says so.
fn push_ifc_len(out: &mut String, len: i32) {
    let _ = write!(out, "{len}");
    let n = len as u32 as usize / IFREQ_SIZE;
    if len > 0 && n * IFREQ_SIZE == len as usize {
        let _ = write!(out, " /* {n} * sizeof(struct ifreq) */");
    }
}

/// strace's print_quoted_cstring: up to the NUL, `...` after a name that
/// fills the field.
pub(super) fn push_name(out: &mut String, field: &str, bytes: &[u8], hex: HexStyle) {
    out.push_str(field);
    out.push('=');
    match bytes.iter().position(|&b| b == 0) {
        Some(end) => push_quoted(out, &bytes[..end], Ellipsis::No, hex),
        None => push_quoted(out, bytes, Ellipsis::Yes, hex),
    }
}

fn push_member(out: &mut String, member: Member, b: &[u8], hex: HexStyle) -> Option<()> {
    let u = b.get(UNION..)?;
    match member {
        Member::Sockaddr(field) => {
            let addr = u.get(..16)?;
            let text = crate::strace::sockaddr::text(addr, hex)?;
            let _ = write!(out, "{field}={text}");
        }
        Member::Hwaddr => {
            let family = read::<u16>(u)?;
            let data = u.get(2..16)?;
            let shown = &data[..data.len().min(hwaddr_size(family))];
            let _ = write!(
                out,
                "ifr_hwaddr={{sa_family={}, sa_data={}}}",
                x::xval_or_unknown(x::ARPHRD_TYPES, u64::from(family), "ARPHRD_???"),
                super::netlink::hwaddr_text(shown)
            );
        }
        Member::Flags => {
            // A short, zero-extended as strace prints it.
            let flags = read::<u16>(u)?;
            let _ = write!(
                out,
                "ifr_flags={}",
                x::flags_or_unknown(x::IFF_FLAGS, u64::from(flags), "IFF_???")
            );
        }
        Member::Int(field) => {
            let _ = write!(out, "{field}={}", read::<i32>(u)?);
        }
        Member::Name(field) => push_name(out, field, u.get(..NAME_SIZE)?, hex),
        Member::Map => {
            let hex_field = |v: u64| {
                if v == 0 {
                    "0".to_owned()
                } else {
                    format!("{v:#x}")
                }
            };
            let _ = write!(
                out,
                "ifr_map={{mem_start={}, mem_end={}, base_addr={}, irq={}, dma={}, port={}}}",
                hex_field(read::<u64>(u)?),
                hex_field(read::<u64>(u.get(8..)?)?),
                hex_field(u64::from(read::<u16>(u.get(16..)?)?)),
                hex_field(u64::from(*u.get(18)?)),
                hex_field(u64::from(*u.get(19)?)),
                hex_field(u64::from(*u.get(20)?)),
            );
        }
    }
    Some(())
}

/// The bytes of a hardware address of type `family` (ARPHRD_*) that strace
/// shows (print_mac.c's hwaddr_sizes; a type not in it shows all 14).
fn hwaddr_size(family: u16) -> usize {
    match family {
        0 | 3 => 7,                                     // NETROM, AX25
        1 | 6 | 772 | 774 | 780 | 801 | 802 | 803 => 6, // ETHER, IEEE802, LOOPBACK...
        7 | 290 | 773 | 820 | 821 => 1,                 // ARCNET, MCTP, LOCALTLK, PHONET
        15 => 2,                                        // DLCI
        24 | 769 | 823 => 16,                           // IEEE1394, TUNNEL6, IP6GRE
        27 | 804 | 805 | 825 => 8,                      // EUI64, IEEE802154, 6LOWPAN
        32 => 20,                                       // INFINIBAND
        270 => 5,                                       // ROSE
        768 | 776 | 778 | 783 => 4,                     // TUNNEL, SIT, IPGRE, IRDA
        256 | 271 | 280 | 512 | 518 | 519 | 777 | 779 | 822 | 824 | 826 => 0,
        _ => 14,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ifreq(name: &str, union: &[u8]) -> Vec<u8> {
        let mut b = vec![0u8; 40];
        b[..name.len()].copy_from_slice(name.as_bytes());
        b[16..16 + union.len()].copy_from_slice(union);
        b
    }

    #[test]
    fn get_requests_name_at_enter_member_at_exit() {
        let before = ifreq("eth0", &[]);
        let flags = ifreq("eth0", &0x1043u16.to_ne_bytes());
        assert_eq!(
            ifreq_text(0x8913, &before, Some(&flags), HexStyle::None).unwrap(),
            "{ifr_name=\"eth0\", ifr_flags=IFF_UP|IFF_BROADCAST|IFF_RUNNING|IFF_MULTICAST}"
        );
        // Failed (ENODEV): the name only.
        assert_eq!(
            ifreq_text(0x8913, &before, None, HexStyle::None).unwrap(),
            "{ifr_name=\"eth0\"}"
        );
        let mtu = ifreq("lo", &65536i32.to_ne_bytes());
        assert_eq!(
            ifreq_text(0x8921, &ifreq("lo", &[]), Some(&mtu), HexStyle::None).unwrap(),
            "{ifr_name=\"lo\", ifr_mtu=65536}"
        );
        let mut hw = 1u16.to_ne_bytes().to_vec();
        hw.extend([2, 0xfc, 0, 0, 0, 1, 9, 9]);
        assert_eq!(
            ifreq_text(0x8927, &before, Some(&ifreq("eth0", &hw)), HexStyle::None).unwrap(),
            "{ifr_name=\"eth0\", ifr_hwaddr={sa_family=ARPHRD_ETHER, sa_data=02:fc:00:00:00:01}}"
        );
        let mut inet = (libc::AF_INET as u16).to_ne_bytes().to_vec();
        inet.extend([0, 0, 127, 0, 0, 1]);
        assert_eq!(
            ifreq_text(0x8915, &before, Some(&ifreq("eth0", &inet)), HexStyle::None).unwrap(),
            "{ifr_name=\"eth0\", ifr_addr={sa_family=AF_INET, sin_port=htons(0), \
             sin_addr=inet_addr(\"127.0.0.1\")}}"
        );
        assert_eq!(
            ifreq_text(
                0x8970,
                &before,
                Some(&ifreq("eth0", &[0; 24])),
                HexStyle::None
            )
            .unwrap(),
            "{ifr_name=\"eth0\", ifr_map={mem_start=0, mem_end=0, base_addr=0, irq=0, dma=0, \
             port=0}}"
        );
        // SIOCGIFNAME asks by index.
        let by_index = ifreq("", &1i32.to_ne_bytes());
        assert_eq!(
            ifreq_text(
                0x8910,
                &by_index,
                Some(&ifreq("lo", &1i32.to_ne_bytes())),
                HexStyle::None
            )
            .unwrap(),
            "{ifr_ifindex=1, ifr_name=\"lo\"}"
        );
    }

    fn ifconf(len: i32, buf: u64) -> Vec<u8> {
        let mut b = len.to_ne_bytes().to_vec();
        b.extend([0; 4]);
        b.extend(buf.to_ne_bytes());
        b
    }

    #[test]
    fn ifconf_lists_the_interfaces() {
        let opts = StraceOptions::default();
        let mut inet = (libc::AF_INET as u16).to_ne_bytes().to_vec();
        inet.extend([0, 0, 127, 0, 0, 1]);
        let mut array = ifreq("lo", &inet);
        array.extend(ifreq("eth0", &inet));
        let text = |before: Vec<u8>, after: Option<&[u8]>, array: &[u8], more: bool| {
            ifconf_text(&before, after, array, more, &opts).unwrap()
        };
        let lo = "{ifr_name=\"lo\", ifr_addr={sa_family=AF_INET, sin_port=htons(0), \
                  sin_addr=inet_addr(\"127.0.0.1\")}}";
        let eth0 = lo.replace("\"lo\"", "\"eth0\"");
        assert_eq!(
            text(
                ifconf(1200, 0x1000),
                Some(&ifconf(80, 0x1000)[..]),
                &array,
                false
            ),
            format!(
                "{{ifc_len=1200 /* 30 * sizeof(struct ifreq) */ => 80 /* 2 * sizeof(struct \
                 ifreq) */, ifc_buf=[{lo}, {eth0}]}}"
            )
        );
        // Asking the size: ifc_buf NULL, the length at exit only.
        assert_eq!(
            text(ifconf(0, 0), Some(&ifconf(80, 0)[..]), &[], false),
            "{ifc_len=80 /* 2 * sizeof(struct ifreq) */, ifc_buf=NULL}"
        );
        // Too small for one: nothing written.
        assert_eq!(
            text(ifconf(39, 0x1000), Some(&ifconf(0, 0x1000)[..]), &[], false),
            "{ifc_len=39 => 0, ifc_buf=[]}"
        );
        // Failed: the structure as given.
        assert_eq!(
            text(ifconf(80, 0x1000), None, &[], false),
            "{ifc_len=80 /* 2 * sizeof(struct ifreq) */, ifc_buf=0x1000}"
        );
        // An array the record's budget cut: what it held, then `...`.
        assert_eq!(
            text(
                ifconf(80, 0x1000),
                Some(&ifconf(80, 0x1000)[..]),
                &array[..40],
                true
            ),
            format!("{{ifc_len=80 /* 2 * sizeof(struct ifreq) */, ifc_buf=[{lo}, ...]}}")
        );
        // More than -s interfaces: -s of them.
        let small = StraceOptions {
            string_size: 1,
            ..StraceOptions::default()
        };
        assert_eq!(
            ifconf_text(
                &ifconf(80, 0x1000),
                Some(&ifconf(80, 0x1000)),
                &array,
                false,
                &small
            )
            .unwrap(),
            format!("{{ifc_len=80 /* 2 * sizeof(struct ifreq) */, ifc_buf=[{lo}, ...]}}")
        );
    }

    #[test]
    fn set_requests_and_odd_values() {
        let mut b = ifreq("eth0", &1400i32.to_ne_bytes());
        assert_eq!(
            ifreq_text(0x8922, &b, None, HexStyle::None).unwrap(),
            "{ifr_name=\"eth0\", ifr_mtu=1400}"
        );
        // A name filling IFNAMSIZ has no NUL: strace's `...`.
        b[..16].copy_from_slice(b"0123456789abcdef");
        assert!(ifreq_text(0x8922, &b, None, HexStyle::None)
            .unwrap()
            .starts_with("{ifr_name=\"0123456789abcdef\"..., "));
        // An address of a family printed raw.
        let unspec = ifreq("eth0", &[0; 16]);
        assert_eq!(
            ifreq_text(0x8916, &unspec, None, HexStyle::None).unwrap(),
            "{ifr_name=\"eth0\", ifr_addr={sa_family=AF_UNSPEC, \
             sa_data=\"\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\"}}"
        );
        // Too short to decode; not an ifreq request.
        assert_eq!(ifreq_text(0x8913, &[0; 8], None, HexStyle::None), None);
        assert!(ifreq_request(0x5401).is_none());
        assert_eq!(hwaddr_size(0xfffe), 14); // ARPHRD_NONE: all of sa_data
    }
}
