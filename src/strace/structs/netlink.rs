//! Netlink messages, as strace decodes the data of a netlink socket
//! (sendto's, recvfrom's, a msghdr's iovecs): each nlmsghdr, then its
//! payload. NETLINK_ROUTE's address messages (RTM_GETADDR, RTM_NEWADDR:
//! what glibc's getaddrinfo asks and reads) are decoded with their
//! attributes; the payloads of other messages print as hex strings, as
//! strace prints what it does not decode (generic netlink's: strace 6.1
//! names their family, and decodes no more).
use super::read;
use crate::strace::flags;
use crate::strace::flags::{self as x, hex, Xlat};
use crate::strace::quote::{quote_limited, quote_limited_omit_trailing_0, HexStyle};
use crate::strace::sockaddr::quoted_addr;
use crate::strace::StraceOptions;

const NLMSG_HDRLEN: usize = 16;
const NLA_HDRLEN: usize = 4;
const NLMSG_MIN_TYPE: u16 = 0x10;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const NLA_F_NESTED: u16 = 0x8000;
const NLA_F_NET_BYTEORDER: u16 = 0x4000;
const NLM_F_CAPPED: u16 = 0x100;
const RTM_DELACTION: u16 = 49;

fn align4(n: usize) -> usize {
    n.saturating_add(3) & !3
}

/// strace's printstr_ex(QUOTE_FORCE_HEX): every byte as \xNN, cut at -s.
fn hex_str(bytes: &[u8], opts: &StraceOptions) -> String {
    let shown = bytes.len().min(opts.string_size);
    quote_limited(&bytes[..shown], shown, bytes.len() > shown, HexStyle::All)
}

/// printflags with two tables, as strace's printflags_ex: each named bit
/// taken once, in table order; what is left in hex.
fn flags2(value: u64, first: Xlat, second: Xlat, unknown: &str) -> String {
    if value == 0 {
        return "0".to_owned();
    }
    let mut rest = value;
    let mut parts: Vec<String> = Vec::new();
    for &(bits, name) in first.iter().chain(second) {
        if bits != 0 && rest & bits == bits {
            parts.push(name.to_owned());
            rest &= !bits;
        }
    }
    if parts.is_empty() {
        return format!("{} /* {unknown} */", hex(value));
    }
    if rest != 0 {
        parts.push(hex(rest));
    }
    parts.join("|")
}

/// Message types of a family strace names; None for the families whose
/// tables systrace does not have (their data prints as before: a string).
fn type_table(family: Option<u32>) -> Option<(Xlat, &'static str)> {
    match family? as i32 {
        libc::NETLINK_ROUTE => Some((x::RTM_TYPES, "RTM_???")),
        libc::NETLINK_SOCK_DIAG => Some((x::SOCK_DIAG_TYPES, "SOCK_DIAG_???")),
        // Named, its payloads shown as data, as strace does (libaudit's
        // messages from su, login, sshd and the like, and their ACKs).
        libc::NETLINK_AUDIT => Some((x::AUDIT_TYPES, "AUDIT_???")),
        _ => None,
    }
}

/// NETLINK_GENERIC's message types are its families' ids, which the
/// kernel gives out at boot (and as modules load): strace asks the kernel
/// for them (CTRL_CMD_GETFAMILY, once), and so does this, the first time a
/// generic netlink message is printed. From the tracer's own threads: none
/// of these calls is traced.
fn genl_family(id: u16) -> Option<&'static str> {
    static FAMILIES: std::sync::OnceLock<Vec<(u16, String)>> = std::sync::OnceLock::new();
    FAMILIES
        .get_or_init(|| {
            // Whatever thread prints: its calls here are systrace's own.
            let _quiet = crate::trace::quiet::Quiet::enter();
            ask_genl_families().unwrap_or_default()
        })
        .iter()
        .find(|(i, _)| *i == id)
        .map(|(_, name)| name.as_str())
}

/// The kernel's generic netlink families (id, name), by a dump of its
/// controller (GENL_ID_CTRL).
fn ask_genl_families() -> std::io::Result<Vec<(u16, String)>> {
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    const GENL_ID_CTRL: u16 = 0x10;
    const CTRL_CMD_GETFAMILY: u8 = 3;
    const CTRL_ATTR_FAMILY_ID: u16 = 1;
    const CTRL_ATTR_FAMILY_NAME: u16 = 2;
    // SAFETY: a new socket, owned from here on.
    let fd = unsafe {
        libc::socket(
            libc::AF_NETLINK,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC,
            libc::NETLINK_GENERIC,
        )
    };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: fd is ours and open.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    // Printing must not hang on an answer that does not come: a second at
    // most per receive, then the names found so far.
    let timeout = libc::timeval {
        tv_sec: 1,
        tv_usec: 0,
    };
    // SAFETY: a timeval of the size given, on our socket.
    unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVTIMEO,
            (&timeout as *const libc::timeval).cast(),
            std::mem::size_of::<libc::timeval>() as libc::socklen_t,
        );
    }
    let mut request = Vec::with_capacity(20);
    request.extend(20u32.to_ne_bytes());
    request.extend(GENL_ID_CTRL.to_ne_bytes());
    request.extend((libc::NLM_F_REQUEST as u16 | libc::NLM_F_DUMP as u16).to_ne_bytes());
    request.extend([0; 8]); // seq, pid
    request.extend([CTRL_CMD_GETFAMILY, 1, 0, 0]); // genlmsghdr: cmd, version
                                                   // SAFETY: sending our buffer on our socket.
    if unsafe { libc::send(fd.as_raw_fd(), request.as_ptr().cast(), request.len(), 0) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    let mut families = Vec::new();
    let mut buf = vec![0u8; 32 << 10];
    loop {
        // SAFETY: receiving into our buffer, at most its length.
        let n = unsafe { libc::recv(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
        if n <= 0 {
            // The end, or no answer within the timeout: what came is kept.
            return Ok(families);
        }
        let mut data = &buf[..n as usize];
        while let Some(h) = nlmsghdr(data) {
            let len = h.len as usize;
            if h.ty == NLMSG_DONE || h.ty == NLMSG_ERROR {
                return Ok(families);
            }
            if len < NLMSG_HDRLEN + 4 || len > data.len() {
                return Ok(families);
            }
            let (mut id, mut name) = (None, None);
            let mut attrs = &data[NLMSG_HDRLEN + 4..len];
            while attrs.len() >= NLA_HDRLEN {
                let (Some(alen), Some(ty)) = (read::<u16>(attrs), read::<u16>(&attrs[2..])) else {
                    break;
                };
                let (alen, ty) = (
                    usize::from(alen),
                    ty & !(NLA_F_NESTED | NLA_F_NET_BYTEORDER),
                );
                if alen < NLA_HDRLEN || alen > attrs.len() {
                    break;
                }
                let value = &attrs[NLA_HDRLEN..alen];
                match ty {
                    CTRL_ATTR_FAMILY_ID => id = read::<u16>(value),
                    CTRL_ATTR_FAMILY_NAME => {
                        let end = value.iter().position(|&b| b == 0).unwrap_or(value.len());
                        name = Some(String::from_utf8_lossy(&value[..end]).into_owned());
                    }
                    _ => {}
                }
                attrs = attrs.get(align4(alen)..).unwrap_or_default();
            }
            if let (Some(id), Some(name)) = (id, name) {
                families.push((id, name));
            }
            data = data.get(align4(len)..).unwrap_or_default();
        }
    }
}

fn type_text(ty: u16, family: Option<u32>) -> String {
    if family == Some(libc::NETLINK_GENERIC as u32) && ty >= NLMSG_MIN_TYPE {
        return match genl_family(ty) {
            Some(name) => name.to_owned(),
            None => format!("{} /* GENERIC_FAMILY_??? */", hex(u64::from(ty))),
        };
    }
    match type_table(family) {
        Some((table, unknown)) if ty >= NLMSG_MIN_TYPE => {
            flags::xval_or_unknown(table, u64::from(ty), unknown)
        }
        _ => flags::xval_or_unknown(x::NETLINK_TYPES, u64::from(ty), "NLMSG_???"),
    }
}

fn flags_text(value: u16, ty: u16, family: Option<u32>) -> String {
    let extra: Xlat = if ty < NLMSG_MIN_TYPE {
        if ty == NLMSG_ERROR {
            x::NETLINK_ACK_FLAGS
        } else {
            &[]
        }
    } else if family == Some(libc::NETLINK_SOCK_DIAG as u32) {
        x::NETLINK_GET_FLAGS
    } else if family == Some(libc::NETLINK_ROUTE as u32) {
        match ty {
            RTM_DELACTION => x::NETLINK_GET_FLAGS,
            _ => match ty & 3 {
                0 => x::NETLINK_NEW_FLAGS,
                1 => x::NETLINK_DELETE_FLAGS,
                2 => x::NETLINK_GET_FLAGS,
                _ => &[],
            },
        }
    } else {
        &[]
    };
    flags2(u64::from(value), x::NETLINK_FLAGS, extra, "NLM_F_???")
}

#[derive(Clone, Copy)]
struct NlMsgHdr {
    len: u32,
    ty: u16,
    flags: u16,
    seq: u32,
    pid: u32,
}

fn nlmsghdr(b: &[u8]) -> Option<NlMsgHdr> {
    let [len, tf, seq, pid]: [u32; 4] = read(b)?;
    Some(NlMsgHdr {
        len,
        ty: tf as u16,
        flags: (tf >> 16) as u16,
        seq,
        pid,
    })
}

fn hdr_text(h: &NlMsgHdr, family: Option<u32>) -> String {
    format!(
        "{{nlmsg_len={}, nlmsg_type={}, nlmsg_flags={}, nlmsg_seq={}, nlmsg_pid={}}}",
        h.len,
        type_text(h.ty, family),
        flags_text(h.flags, h.ty, family),
        h.seq,
        h.pid as i32
    )
}

/// In the protocol the programs give: the socket has no port id yet, by
/// which strace finds its protocol (bpf/systrace.h).
const NETLINK_UNBOUND: u32 = 1 << 31;

/// The messages in `data` (all of the bytes the call sent or received),
/// as strace's decode_netlink prints them, for the socket's `protocol`
/// as the programs read it; None for a family whose messages systrace
/// does not name. A socket not bound yet is one whose protocol strace
/// cannot tell: its messages are decoded without it, as strace does.
pub fn netlink_text(data: &[u8], len: u64, protocol: u32, opts: &StraceOptions) -> Option<String> {
    let family = if protocol & NETLINK_UNBOUND != 0 {
        None
    } else {
        if protocol != libc::NETLINK_GENERIC as u32 {
            type_table(Some(protocol))?;
        }
        Some(protocol)
    };
    messages_text(data, usize::try_from(len).ok()?, family, opts)
}

/// The `len` bytes of messages of which `data` holds the first (a long
/// buffer is read in part): None if what is shown is past them. strace
/// shows 32 messages at most, which the part read often holds.
fn messages_text(
    data: &[u8],
    len: usize,
    family: Option<u32>,
    opts: &StraceOptions,
) -> Option<String> {
    let mut out = String::new();
    let mut is_array = false;
    let (mut pos, mut left, mut elt) = (0usize, len, 0usize);
    loop {
        if left < NLMSG_HDRLEN {
            out.push_str(&hex_str(data.get(pos..pos + left)?, opts));
            break;
        }
        let h = nlmsghdr(data.get(pos..pos + NLMSG_HDRLEN)?)?;
        elt += 1;
        if elt > opts.array_size() {
            out.push_str("...");
            break;
        }
        let step = align4(h.len as usize);
        let next = h.len as usize >= NLMSG_HDRLEN && left > step;
        if !is_array && next {
            out.push('[');
            is_array = true;
        }
        let shown = (h.len as usize).min(left);
        let message = data.get(pos..pos + shown.max(NLMSG_HDRLEN))?;
        out.push_str(&message_text(&h, message, family, opts));
        if !next {
            break;
        }
        out.push_str(", ");
        pos += step;
        left -= step;
    }
    if is_array {
        out.push(']');
    }
    Some(out)
}

/// One message: its header, and its payload (strace's
/// decode_nlmsghdr_with_payload); `data` starts at the header.
fn message_text(h: &NlMsgHdr, data: &[u8], family: Option<u32>, opts: &StraceOptions) -> String {
    let len = (h.len as usize).min(data.len());
    let head = hdr_text(h, family);
    if len <= NLMSG_HDRLEN {
        return head;
    }
    let payload = &data[NLMSG_HDRLEN..len];
    format!("[{head}, {}]", payload_text(h, payload, family, opts))
}

fn payload_text(h: &NlMsgHdr, payload: &[u8], family: Option<u32>, opts: &StraceOptions) -> String {
    if h.ty == NLMSG_ERROR {
        return error_text(h, payload, family, opts);
    }
    if h.ty >= NLMSG_MIN_TYPE && family == Some(libc::NETLINK_ROUTE as u32) {
        if let Some(text) = route_text(h.ty, payload, opts) {
            return text;
        }
    }
    if h.ty >= NLMSG_MIN_TYPE && family == Some(libc::NETLINK_SOCK_DIAG as u32) {
        if let Some(text) = sock_diag_text(h, payload, opts) {
            return text;
        }
    }
    if h.ty == NLMSG_DONE && payload.len() == 4 {
        if let Some(n) = read::<i32>(payload) {
            return n.to_string();
        }
    }
    hex_str(payload, opts)
}

/// An NLMSG_ERROR: the error, and the message it answers (its header,
/// or all of it when not capped).
fn error_text(h: &NlMsgHdr, payload: &[u8], family: Option<u32>, opts: &StraceOptions) -> String {
    let (Some(error), Some(msg)) = (read::<i32>(payload), payload.get(4..).and_then(nlmsghdr))
    else {
        return hex_str(payload, opts);
    };
    if payload.len() < 4 + NLMSG_HDRLEN {
        return hex_str(payload, opts);
    }
    let rest = &payload[4..];
    let msg_len = (msg.len as usize).max(NLMSG_HDRLEN);
    let shown = rest.len().min(if h.flags & NLM_F_CAPPED != 0 {
        NLMSG_HDRLEN
    } else {
        msg_len
    });
    let error = match crate::strace::errno::errno_name(-error) {
        Some(name) if error < 0 => format!("-{name}"),
        _ => error.to_string(),
    };
    let body = format!(
        "{{error={error}, msg={}}}",
        message_text(&msg, &rest[..shown], family, opts)
    );
    if rest.len() > shown {
        // Extended ACK attributes: a message, an offset, a cookie.
        let attrs = attrs_text(
            &rest[shown..],
            x::NLMSGERR_ATTRS,
            "NLMSGERR_ATTR_???",
            |ty, b| match ty {
                1 => Some(nla_str(b, opts)),
                2 => read::<u32>(b).map(|n| n.to_string()),
                3 => Some(format!(
                    "[{}]",
                    b.iter().map(u8::to_string).collect::<Vec<_>>().join(", ")
                )),
                _ => None,
            },
            opts,
        );
        format!("[{body}, {attrs}]")
    } else {
        body
    }
}

/// NETLINK_ROUTE payloads systrace decodes (strace's route_decoders);
/// None for the others.
fn route_text(ty: u16, payload: &[u8], opts: &StraceOptions) -> Option<String> {
    let name = flags::xval(x::RTM_TYPES, u64::from(ty))?;
    let object = name.get(7..)?; // past RTM_NEW, RTM_DEL, RTM_GET, RTM_SET
    match object {
        "ADDR" | "MULTICAST" | "ANYCAST" => Some(ifaddrmsg_text(payload, opts)),
        "LINK" => Some(ifinfomsg_text(payload, opts)),
        "ROUTE" => Some(rtmsg_text(payload, opts)),
        // A bridge's neighbour request is an interface's (its fdb).
        "NEIGH" if name == "RTM_GETNEIGH" && i32::from(payload[0]) == libc::AF_BRIDGE => {
            Some(ifinfomsg_text(payload, opts))
        }
        "NEIGH" => Some(ndmsg_text(payload, opts)),
        "RULE" => Some(fib_rule_hdr_text(payload, opts)),
        _ => None,
    }
}

/// printxval without a default: the name, or the value in hex.
fn xval_or_hex(table: Xlat, value: u64) -> String {
    flags::xval(table, value).map_or_else(|| hex(value), str::to_owned)
}

/// struct rtmsg and its attributes (a route: RTM_NEWROUTE, and the
/// RTM_GETROUTE that asks for them).
fn rtmsg_text(payload: &[u8], opts: &StraceOptions) -> String {
    let family = payload[0];
    let mut out = family_head("rtm_family", family);
    let Some(&[_, dst_len, src_len, tos, table, protocol, scope, ty]) = payload.get(..8) else {
        out.push_str("...}");
        return out;
    };
    let Some(rtm_flags) = payload.get(8..12).and_then(read::<u32>) else {
        out.push_str("...}");
        return out;
    };
    out.push_str(&format!(
        "rtm_dst_len={dst_len}, rtm_src_len={src_len}, rtm_tos={}, rtm_table={}, \
         rtm_protocol={}, rtm_scope={}, rtm_type={}, rtm_flags={}}}",
        flags::flags_or_unknown(x::IPTOS_FLAGS, u64::from(tos), "IPTOS_???"),
        xval_or_hex(x::RT_TABLES, u64::from(table)),
        flags::xval_or_unknown(x::RTPROT_NAMES, u64::from(protocol), "RTPROT_???"),
        xval_or_hex(x::RT_SCOPES, u64::from(scope)),
        flags::xval_or_unknown(x::RTN_TYPES, u64::from(ty), "RTN_???"),
        flags::flags_or_unknown(x::RTM_F_FLAGS, u64::from(rtm_flags), "RTM_F_???"),
    ));
    push_attrs(
        &mut out,
        payload,
        12,
        x::RTA_ATTRS,
        "RTA_???",
        |ty, b| rta_attr(family, ty, b, opts),
        opts,
    );
    out
}

/// struct ndmsg and its attributes (a neighbour: `ip neigh`).
fn ndmsg_text(payload: &[u8], opts: &StraceOptions) -> String {
    let family = payload[0];
    let mut out = family_head("ndm_family", family);
    // family, padding; ifindex; state, flags, type.
    let Some([_, index, rest]) = read::<[u32; 3]>(payload) else {
        out.push_str("...}");
        return out;
    };
    out.push_str(&format!(
        "ndm_ifindex={}, ndm_state={}, ndm_flags={}, ndm_type={}}}",
        ifindex_text(index),
        flags::flags_or_unknown(x::NUD_STATES, u64::from(rest & 0xffff), "NUD_???"),
        flags::flags_or_unknown(x::NTF_FLAGS, u64::from((rest >> 16) & 0xff), "NTF_???"),
        flags::xval_or_unknown(x::RTN_TYPES, u64::from(rest >> 24), "RTN_???"),
    ));
    push_attrs(
        &mut out,
        payload,
        12,
        x::NDA_ATTRS,
        "NDA_???",
        |ty, b| nda_attr(family, ty, b, opts),
        opts,
    );
    out
}

/// An NDA_* attribute's value, by its name; None: printed as hex.
fn nda_attr(family: u8, ty: u16, b: &[u8], opts: &StraceOptions) -> Option<String> {
    let name = flags::xval(x::NDA_ATTRS, u64::from(ty))?.strip_prefix("NDA_")?;
    let u32_at = || b.get(..4).and_then(read::<u32>);
    match name {
        "DST" => Some(inet_addr_text(family, b, opts)),
        "LLADDR" if b.len() <= 32 => Some(hwaddr_text(b)),
        "CACHEINFO" => {
            let [confirmed, used, updated, refcnt]: [u32; 4] = read(b)?;
            Some(format!(
                "{{ndm_confirmed={confirmed}, ndm_used={used}, ndm_updated={updated}, \
                 ndm_refcnt={refcnt}}}"
            ))
        }
        "PROBES" | "VNI" | "LINK_NETNSID" | "SRC_VNI" | "NH_ID" => u32_at().map(|n| n.to_string()),
        "IFINDEX" | "MASTER" => u32_at().map(ifindex_text),
        "VLAN" => b.get(..2).and_then(read::<u16>).map(|n| n.to_string()),
        "PORT" => b
            .get(..2)
            .map(|p| format!("htons({})", u16::from_be_bytes([p[0], p[1]]))),
        "PROTOCOL" => b
            .first()
            .map(|&p| flags::xval_or_unknown(flags::INET_PROTOCOLS, u64::from(p), "IPPROTO_???")),
        _ => None,
    }
}

/// strace's print_hwaddr: `00:1a:2b:3c:4d:5e`.
pub(super) fn hwaddr_text(b: &[u8]) -> String {
    b.iter()
        .map(|c| format!("{c:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// An RTA_* attribute's value, by its name; None: printed as hex.
fn rta_attr(family: u8, ty: u16, b: &[u8], opts: &StraceOptions) -> Option<String> {
    let name = flags::xval(x::RTA_ATTRS, u64::from(ty))?.strip_prefix("RTA_")?;
    let u32_at = || b.get(..4).and_then(read::<u32>);
    match name {
        "DST" | "SRC" | "GATEWAY" | "PREFSRC" | "NEWDST" => Some(inet_addr_text(family, b, opts)),
        "IIF" | "OIF" => u32_at().map(ifindex_text),
        "PRIORITY" | "PROTOINFO" | "FLOW" | "MP_ALGO" | "MARK" | "UID" | "NH_ID" => {
            u32_at().map(|n| n.to_string())
        }
        "TABLE" => u32_at().map(|n| xval_or_hex(x::RT_TABLES, u64::from(n))),
        "PREF" | "TTL_PROPAGATE" | "IP_PROTO" => b.first().map(u8::to_string),
        "SPORT" | "DPORT" => b.get(..2).and_then(read::<u16>).map(|n| n.to_string()),
        "EXPIRES" => b.get(..8).and_then(read::<u64>).map(|n| n.to_string()),
        "CACHEINFO" => {
            let [clntref, lastuse, expires, error, used, id, ts, tsage]: [u32; 8] = read(b)?;
            Some(format!(
                "{{rta_clntref={clntref}, rta_lastuse={lastuse}, rta_expires={expires}, \
                 rta_error={error}, rta_used={used}, rta_id={}, rta_ts={ts}, rta_tsage={tsage}}}",
                hex(u64::from(id))
            ))
        }
        _ => None,
    }
}

/// struct ifinfomsg and its attributes (an interface: RTM_NEWLINK, and
/// the RTM_GETLINK that asks for them).
fn ifinfomsg_text(payload: &[u8], opts: &StraceOptions) -> String {
    let family = payload[0];
    let mut out = family_head("ifi_family", family);
    // family, padding, type; index; flags; change.
    let Some([head, index, iff, change]) = read::<[u32; 4]>(payload) else {
        out.push_str("...}");
        return out;
    };
    let ty = u64::from(head >> 16);
    out.push_str(&format!(
        "ifi_type={}, ifi_index={}, ifi_flags={}, ifi_change={}}}",
        flags::xval_or_unknown(x::ARPHRD_TYPES, ty, "ARPHRD_???"),
        ifindex_text(index),
        flags::flags_or_unknown(x::IFF_FLAGS, u64::from(iff), "IFF_???"),
        hex(u64::from(change))
    ));
    push_attrs(
        &mut out,
        payload,
        16,
        x::IFLA_ATTRS,
        "IFLA_???",
        |ty, b| ifla_attr(ty, b, opts),
        opts,
    );
    out
}

/// struct rtnl_link_stats's and rtnl_link_stats64's fields.
const LINK_STATS: [&str; 25] = [
    "rx_packets",
    "tx_packets",
    "rx_bytes",
    "tx_bytes",
    "rx_errors",
    "tx_errors",
    "rx_dropped",
    "tx_dropped",
    "multicast",
    "collisions",
    "rx_length_errors",
    "rx_over_errors",
    "rx_crc_errors",
    "rx_frame_errors",
    "rx_fifo_errors",
    "rx_missed_errors",
    "tx_aborted_errors",
    "tx_carrier_errors",
    "tx_fifo_errors",
    "tx_heartbeat_errors",
    "tx_window_errors",
    "rx_compressed",
    "tx_compressed",
    "rx_nohandler",
    "rx_otherhost_dropped",
];

/// An interface's counters, as many as strace knows of the size given
/// (23 without rx_nohandler; 64-bit ones also with rx_otherhost_dropped).
fn link_stats_text<const N: usize>(b: &[u8], known: usize) -> Option<String> {
    let min = 23 * N;
    let fields = match b.len() {
        n if n >= known * N => known,
        n if n == 24 * N => 24,
        n if n == min => 23,
        _ => return None,
    };
    let parts: Vec<String> = LINK_STATS[..fields]
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let v = &b[i * N..(i + 1) * N];
            let value = if N == 8 {
                u64::from_ne_bytes(v.try_into().expect("8 bytes"))
            } else {
                u64::from(u32::from_ne_bytes(v.try_into().expect("4 bytes")))
            };
            format!("{name}={value}")
        })
        .collect();
    Some(format!("{{{}}}", parts.join(", ")))
}

/// An IFLA_* attribute's value, by its name; None: printed as hex.
fn ifla_attr(ty: u16, b: &[u8], opts: &StraceOptions) -> Option<String> {
    let name = flags::xval(x::IFLA_ATTRS, u64::from(ty))?.strip_prefix("IFLA_")?;
    let u32_at = || b.get(..4).and_then(read::<u32>);
    match name {
        "IFNAME"
        | "QDISC"
        | "IFALIAS"
        | "PHYS_PORT_NAME"
        | "ALT_IFNAME"
        | "PARENT_DEV_NAME"
        | "PARENT_DEV_BUS_NAME" => Some(nla_str(b, opts)),
        "MTU" | "LINK" | "MASTER" | "TXQLEN" | "WEIGHT" | "NET_NS_PID" | "NUM_VF" | "GROUP"
        | "PROMISCUITY" | "NUM_TX_QUEUES" | "NUM_RX_QUEUES" | "CARRIER_CHANGES"
        | "GSO_MAX_SEGS" | "GSO_MAX_SIZE" | "CARRIER_UP_COUNT" | "CARRIER_DOWN_COUNT"
        | "MIN_MTU" | "MAX_MTU" | "GRO_MAX_SIZE" | "TSO_MAX_SIZE" | "TSO_MAX_SEGS" | "ALLMULTI"
        | "DEVLINK_PORT" | "GSO_IPV4_MAX_SIZE" | "GRO_IPV4_MAX_SIZE" => {
            u32_at().map(|n| n.to_string())
        }
        "LINK_NETNSID" | "NEW_NETNSID" | "IF_NETNSID" => u32_at().map(|n| (n as i32).to_string()),
        "OPERSTATE" | "LINKMODE" | "CARRIER" | "PROTO_DOWN" => b.first().map(u8::to_string),
        "EXT_MASK" => u32_at().map(|n| {
            flags::flags_or_unknown(x::RTEXT_FILTER_FLAGS, u64::from(n), "RTEXT_FILTER_???")
        }),
        "NEW_IFINDEX" => u32_at().map(ifindex_text),
        "ADDRESS" | "BROADCAST" | "PERM_ADDRESS" if b.len() <= 32 => Some(hwaddr_text(b)),
        // struct rtnl_link_ifmap up to its port (28 bytes; hex if shorter).
        "MAP" if b.len() >= 28 => {
            let [mem_start, mem_end, base_addr]: [u64; 3] = read(b)?;
            let irq = u16::from_ne_bytes([b[24], b[25]]);
            Some(format!(
                "{{mem_start={}, mem_end={}, base_addr={}, irq={irq}, dma={}, port={}}}",
                hex(mem_start),
                hex(mem_end),
                hex(base_addr),
                b[26],
                b[27]
            ))
        }
        "STATS" => link_stats_text::<4>(b, 24),
        "STATS64" => link_stats_text::<8>(b, 25),
        _ => None,
    }
}

/// TCP states: the kernel's include/net/tcp_states.h, not exported to
/// user space (strace keeps its own table too). Up to TCP_NEW_SYN_RECV,
/// as strace 6.1's table (TCP_BOUND_INACTIVE, 13, came with 6.7).
const TCP_STATES: [&str; 12] = [
    "TCP_ESTABLISHED",
    "TCP_SYN_SENT",
    "TCP_SYN_RECV",
    "TCP_FIN_WAIT1",
    "TCP_FIN_WAIT2",
    "TCP_TIME_WAIT",
    "TCP_CLOSE",
    "TCP_CLOSE_WAIT",
    "TCP_LAST_ACK",
    "TCP_LISTEN",
    "TCP_CLOSING",
    "TCP_NEW_SYN_RECV",
];

fn tcp_state(state: u8) -> String {
    match usize::from(state)
        .checked_sub(1)
        .and_then(|i| TCP_STATES.get(i))
    {
        Some(name) => (*name).to_owned(),
        None => format!("{} /* TCP_??? */", hex(u64::from(state))),
    }
}

/// idiag_states: `1<<TCP_CLOSE|1<<TCP_LISTEN`.
fn tcp_states(states: u32) -> String {
    if states == 0 {
        return "0".to_owned();
    }
    let mut parts = Vec::new();
    let mut rest = states;
    for (i, name) in TCP_STATES.iter().enumerate() {
        let bit = 1u32 << (i + 1);
        if rest & bit != 0 {
            parts.push(format!("1<<{name}"));
            rest &= !bit;
        }
    }
    if parts.is_empty() {
        return format!("{} /* 1<<TCP_??? */", hex(u64::from(states)));
    }
    if rest != 0 {
        parts.push(hex(u64::from(rest)));
    }
    parts.join("|")
}

/// idiag_ext: the attributes asked for, bit n-1 for INET_DIAG_* n.
fn inet_diag_ext(ext: u8) -> String {
    if ext == 0 {
        return "0".to_owned();
    }
    let mut parts = Vec::new();
    let mut rest = ext;
    for bit in 0..8u8 {
        let name = flags::xval(x::INET_DIAG_ATTRS, u64::from(bit) + 1);
        if let (true, Some(name)) = (rest & (1 << bit) != 0, name) {
            parts.push(format!("1<<({name}-1)"));
            rest &= !(1 << bit);
        }
    }
    if parts.is_empty() {
        return format!("{} /* 1<<INET_DIAG_???-1 */", hex(u64::from(ext)));
    }
    if rest != 0 {
        parts.push(hex(u64::from(rest)));
    }
    parts.join("|")
}

/// struct inet_diag_sockid: ports, addresses, interface, cookie.
fn inet_diag_sockid(family: u8, b: &[u8], opts: &StraceOptions) -> String {
    let port = |at: usize| u16::from_be_bytes([b[at], b[at + 1]]);
    let [cookie0, cookie1]: [u32; 2] = read(&b[40..48]).unwrap_or_default();
    let index = read::<u32>(&b[36..40]).unwrap_or_default();
    // strace's print_inet_addr with a name: `idiag_src=inet_addr("...")`,
    // but `inet_pton(AF_INET6, "::", &idiag_src)`.
    let addr = |name: &str, bytes: &[u8]| {
        let text = inet_addr_text(family, bytes, opts);
        match text.strip_suffix(')') {
            Some(call) if i32::from(family) == libc::AF_INET6 => format!("{call}, &{name})"),
            _ => format!("{name}={text}"),
        }
    };
    format!(
        "{{idiag_sport=htons({}), idiag_dport=htons({}), {}, {}, idiag_if={}, \
         idiag_cookie=[{cookie0}, {cookie1}]}}",
        port(0),
        port(2),
        addr("idiag_src", &b[4..20]),
        addr("idiag_dst", &b[20..36]),
        ifindex_text(index)
    )
}

/// NETLINK_SOCK_DIAG payloads systrace decodes: inet_diag's requests and
/// answers (ss's TCP and UDP sockets); None for the others.
fn sock_diag_text(h: &NlMsgHdr, payload: &[u8], opts: &StraceOptions) -> Option<String> {
    const SOCKID: usize = 48;
    let family = *payload.first()?;
    let request = h.flags & 1 != 0; // NLM_F_REQUEST
    let known = payload.len() > 1;
    match i32::from(family) {
        libc::AF_UNIX if known => return unix_diag_text(h, payload, opts),
        libc::AF_NETLINK if known => return Some(netlink_diag_text(request, payload, opts)),
        libc::AF_PACKET if known => return Some(packet_diag_text(request, payload, opts)),
        // TCPDIAG_GETSOCK, DCCPDIAG_GETSOCK: the older struct inet_diag_req.
        libc::AF_INET | libc::AF_INET6 if known && request && matches!(h.ty, 18 | 19) => {
            return Some(inet_diag_req_compat(payload, opts));
        }
        libc::AF_INET | libc::AF_INET6 if known => {}
        43 if known => return None, // AF_SMC: not decoded yet
        // strace's decode_family: a family it has no structure for.
        _ => {
            let mut out = format!(
                "{{family={}",
                flags::xval_or_unknown(flags::ADDRESS_FAMILIES, u64::from(family), "AF_???")
            );
            if known {
                out.push_str(", data=");
                out.push_str(&hex_str(&payload[1..], opts));
            }
            out.push('}');
            return Some(out);
        }
    }
    if request {
        // struct inet_diag_req_v2.
        let mut out = family_head("sdiag_family", family);
        if payload.len() < 8 + SOCKID {
            out.push_str("...}");
            return Some(out);
        }
        let states = read::<u32>(&payload[4..8])?;
        out.push_str(&format!(
            "sdiag_protocol={}, idiag_ext={}, idiag_states={}, id={}}}",
            flags::xval_or_unknown(flags::INET_PROTOCOLS, u64::from(payload[1]), "IPPROTO_???"),
            inet_diag_ext(payload[2]),
            tcp_states(states),
            inet_diag_sockid(family, &payload[8..8 + SOCKID], opts)
        ));
        push_attrs(
            &mut out,
            payload,
            8 + SOCKID,
            x::INET_DIAG_REQ_ATTRS,
            "INET_DIAG_REQ_???",
            inet_diag_req_attr,
            opts,
        );
        return Some(out);
    }
    // struct inet_diag_msg.
    let mut out = family_head("idiag_family", family);
    if payload.len() < 4 + SOCKID + 20 {
        out.push_str("...}");
        return Some(out);
    }
    let [expires, rqueue, wqueue, uid, inode]: [u32; 5] = read(&payload[4 + SOCKID..])?;
    out.push_str(&format!(
        "idiag_state={}, idiag_timer={}, idiag_retrans={}, id={}, idiag_expires={expires}, \
         idiag_rqueue={rqueue}, idiag_wqueue={wqueue}, idiag_uid={uid}, idiag_inode={inode}}}",
        tcp_state(payload[1]),
        payload[2],
        payload[3],
        inet_diag_sockid(family, &payload[4..4 + SOCKID], opts)
    ));
    let attrs = 4 + SOCKID + 20;
    push_attrs(
        &mut out,
        payload,
        attrs,
        x::INET_DIAG_ATTRS,
        "INET_DIAG_???",
        |ty, b| inet_diag_attr(ty, b, opts),
        opts,
    );
    Some(out)
}

/// unix_diag's request (struct unix_diag_req) and answers (struct
/// unix_diag_msg and its UNIX_DIAG_* attributes): ss -x's unix sockets.
fn unix_diag_text(h: &NlMsgHdr, payload: &[u8], opts: &StraceOptions) -> Option<String> {
    let family = payload[0];
    if h.flags & 1 != 0 {
        // NLM_F_REQUEST
        let mut out = family_head("sdiag_family", family);
        let Some([states, ino, show, cookie0, cookie1]) =
            payload.get(4..24).and_then(read::<[u32; 5]>)
        else {
            out.push_str("...}");
            return Some(out);
        };
        out.push_str(&format!(
            "sdiag_protocol={}, udiag_states={}, udiag_ino={ino}, udiag_show={}, \
             udiag_cookie=[{cookie0}, {cookie1}]}}",
            payload[1],
            tcp_states(states),
            flags::flags_or_unknown(x::UDIAG_SHOW, u64::from(show), "UDIAG_SHOW_???"),
        ));
        return Some(out);
    }
    let mut out = family_head("udiag_family", family);
    let Some([ino, cookie0, cookie1]) = payload.get(4..16).and_then(read::<[u32; 3]>) else {
        out.push_str("...}");
        return Some(out);
    };
    out.push_str(&format!(
        "udiag_type={}, udiag_state={}, udiag_ino={ino}, udiag_cookie=[{cookie0}, {cookie1}]}}",
        flags::xval_or_unknown(flags::SOCK_TYPES, u64::from(payload[1]), "SOCK_???"),
        tcp_state(payload[2]),
    ));
    push_attrs(
        &mut out,
        payload,
        16,
        x::UNIX_DIAG_ATTRS,
        "UNIX_DIAG_???",
        |ty, b| unix_diag_attr(ty, b, opts),
        opts,
    );
    Some(out)
}

/// A UNIX_DIAG_* attribute's value; None: printed as hex.
fn unix_diag_attr(ty: u16, b: &[u8], opts: &StraceOptions) -> Option<String> {
    match ty {
        0 => Some(nla_str(b, opts)), // NAME
        1 => {
            // VFS: struct unix_diag_vfs { ino, dev }, the device first.
            let [ino, dev]: [u32; 2] = read(b)?;
            Some(format!(
                "{{udiag_vfs_dev={}, udiag_vfs_ino={ino}}}",
                super::dev_text(u64::from(dev))
            ))
        }
        2 | 7 => read::<u32>(b).map(|n| n.to_string()), // PEER, UID
        3 => Some(array_text(u32_array(b)?.iter().map(u32::to_string), opts)), // ICONS
        4 => {
            let [rqueue, wqueue]: [u32; 2] = read(b)?;
            Some(format!("{{udiag_rqueue={rqueue}, udiag_wqueue={wqueue}}}"))
        }
        5 => Some(meminfo_text(&u32_array(b)?, opts)),
        6 => b.first().map(u8::to_string), // SHUTDOWN
        _ => None,
    }
}

/// The older struct inet_diag_req of TCPDIAG_GETSOCK and DCCPDIAG_GETSOCK
/// (ss asks DCCP sockets so), and its attributes.
fn inet_diag_req_compat(payload: &[u8], opts: &StraceOptions) -> String {
    const SIZE: usize = 60;
    let family = payload[0];
    let mut out = family_head("idiag_family", family);
    let Some([states, dbs]) = payload.get(52..SIZE).and_then(read::<[u32; 2]>) else {
        out.push_str("...}");
        return out;
    };
    out.push_str(&format!(
        "idiag_src_len={}, idiag_dst_len={}, idiag_ext={}, id={}, idiag_states={}, \
         idiag_dbs={dbs}}}",
        payload[1],
        payload[2],
        inet_diag_ext(payload[3]),
        inet_diag_sockid(family, &payload[4..52], opts),
        tcp_states(states),
    ));
    push_attrs(
        &mut out,
        payload,
        SIZE,
        x::INET_DIAG_REQ_ATTRS,
        "INET_DIAG_REQ_???",
        inet_diag_req_attr,
        opts,
    );
    out
}

/// An INET_DIAG_REQ_* attribute's value (v2's and the older request's);
/// None: printed as hex.
fn inet_diag_req_attr(ty: u16, b: &[u8]) -> Option<String> {
    match ty {
        3 => b
            .first()
            .map(|&p| flags::xval_or_unknown(flags::INET_PROTOCOLS, u64::from(p), "IPPROTO_???")),
        _ => None, // BYTECODE among them
    }
}

/// A diag cookie: `[4218, 0]`.
fn cookie_text(b: &[u8]) -> Option<String> {
    let [low, high]: [u32; 2] = read(b)?;
    Some(format!("[{low}, {high}]"))
}

/// u32s, as many as `b` holds (at least one).
fn u32_array(b: &[u8]) -> Option<Vec<u32>> {
    let n = b.len() / 4;
    (n > 0).then(|| (0..n).filter_map(|i| super::read_at::<u32>(b, i)).collect())
}

/// netlink_diag's request and answers (ss -a, ss -f netlink: netlink
/// sockets).
fn netlink_diag_text(request: bool, payload: &[u8], opts: &StraceOptions) -> String {
    let family = payload[0];
    if request {
        // struct netlink_diag_req
        let mut out = family_head("sdiag_family", family);
        let (Some([ino, show]), Some(cookie)) = (
            payload.get(4..12).and_then(read::<[u32; 2]>),
            payload.get(12..20).and_then(cookie_text),
        ) else {
            out.push_str("...}");
            return out;
        };
        let protocol = match payload[1] {
            0xff => "NDIAG_PROTO_ALL".to_owned(),
            p => flags::xval_or_unknown(x::NETLINK_PROTOCOLS, u64::from(p), "NETLINK_???"),
        };
        out.push_str(&format!(
            "sdiag_protocol={protocol}, ndiag_ino={ino}, ndiag_show={}, ndiag_cookie={cookie}}}",
            flags::flags_or_unknown(x::NDIAG_SHOW, u64::from(show), "NDIAG_SHOW_???"),
        ));
        return out;
    }
    // struct netlink_diag_msg
    const SIZE: usize = 28;
    let mut out = family_head("ndiag_family", family);
    let (Some([portid, dst_portid, dst_group, ino]), Some(cookie)) = (
        payload.get(4..20).and_then(read::<[u32; 4]>),
        payload.get(20..SIZE).and_then(cookie_text),
    ) else {
        out.push_str("...}");
        return out;
    };
    // strace 6.1's netlink_states: the two of netlink and a new socket's.
    let state = match payload[3] {
        0 => "NETLINK_UNCONNECTED".to_owned(),
        1 => "NETLINK_CONNECTED".to_owned(),
        7 => "TCP_CLOSE".to_owned(),
        n => format!("{} /* NETLINK_??? */", hex(u64::from(n))),
    };
    out.push_str(&format!(
        "ndiag_type={}, ndiag_protocol={}, ndiag_state={state}, ndiag_portid={portid}, \
         ndiag_dst_portid={dst_portid}, ndiag_dst_group={dst_group}, ndiag_ino={ino}, \
         ndiag_cookie={cookie}}}",
        flags::xval_or_unknown(flags::SOCK_TYPES, u64::from(payload[1]), "SOCK_???"),
        flags::xval_or_unknown(x::NETLINK_PROTOCOLS, u64::from(payload[2]), "NETLINK_???"),
    ));
    push_attrs(
        &mut out,
        payload,
        SIZE,
        x::NETLINK_DIAG_ATTRS,
        "NETLINK_DIAG_???",
        |ty, b| netlink_diag_attr(ty, b, opts),
        opts,
    );
    out
}

/// A NETLINK_DIAG_* attribute's value; None: printed as hex.
fn netlink_diag_attr(ty: u16, b: &[u8], opts: &StraceOptions) -> Option<String> {
    match ty {
        0 => Some(meminfo_text(&u32_array(b)?, opts)),
        1 => {
            // GROUPS: the bitmap's words, as strace's %#0*llx (no 0x on 0).
            let words: Vec<u64> = b.chunks_exact(8).filter_map(read::<u64>).collect();
            (!words.is_empty()).then(|| {
                array_text(
                    words.iter().map(|&w| {
                        if w == 0 {
                            "0".repeat(16)
                        } else {
                            format!("{w:#016x}")
                        }
                    }),
                    opts,
                )
            })
        }
        2 | 3 => {
            let [block_size, block_nr, frame_size, frame_nr]: [u32; 4] = read(b)?;
            Some(format!(
                "{{ndr_block_size={block_size}, ndr_block_nr={block_nr}, \
                 ndr_frame_size={frame_size}, ndr_frame_nr={frame_nr}}}"
            ))
        }
        4 => read::<u32>(b)
            .map(|f| flags::flags_or_unknown(x::NDIAG_FLAGS, u64::from(f), "NDIAG_FLAG_???")),
        _ => None,
    }
}

/// packet_diag's request and answers (ss -a, ss -0: packet sockets).
fn packet_diag_text(request: bool, payload: &[u8], opts: &StraceOptions) -> String {
    let family = payload[0];
    if request {
        // struct packet_diag_req
        let mut out = family_head("sdiag_family", family);
        let (Some([ino, show]), Some(cookie)) = (
            payload.get(4..12).and_then(read::<[u32; 2]>),
            payload.get(12..20).and_then(cookie_text),
        ) else {
            out.push_str("...}");
            return out;
        };
        out.push_str(&format!(
            "sdiag_protocol={}, pdiag_ino={ino}, pdiag_show={}, pdiag_cookie={cookie}}}",
            hex(u64::from(payload[1])),
            flags::flags_or_unknown(x::PACKET_SHOW, u64::from(show), "PACKET_SHOW_???"),
        ));
        return out;
    }
    // struct packet_diag_msg
    const SIZE: usize = 16;
    let mut out = family_head("pdiag_family", family);
    let (Some(num), Some(ino), Some(cookie)) = (
        payload.get(2..4).and_then(read::<u16>),
        payload.get(4..8).and_then(read::<u32>),
        payload.get(8..SIZE).and_then(cookie_text),
    ) else {
        out.push_str("...}");
        return out;
    };
    out.push_str(&format!(
        "pdiag_type={}, pdiag_num={}, pdiag_ino={ino}, pdiag_cookie={cookie}}}",
        flags::xval_or_unknown(flags::SOCK_TYPES, u64::from(payload[1]), "SOCK_???"),
        flags::xval_or_unknown(x::ETH_PROTOCOLS, u64::from(num), "ETH_P_???"),
    ));
    push_attrs(
        &mut out,
        payload,
        SIZE,
        x::PACKET_DIAG_ATTRS,
        "PACKET_DIAG_???",
        |ty, b| packet_diag_attr(ty, b, opts),
        opts,
    );
    out
}

/// A PACKET_DIAG_* attribute's value; None: printed as hex (FILTER's
/// classic BPF program among them).
fn packet_diag_attr(ty: u16, b: &[u8], opts: &StraceOptions) -> Option<String> {
    match ty {
        0 => {
            let [index, version, reserve, copy_thresh, tstamp, flags]: [u32; 6] = read(b)?;
            Some(format!(
                "{{pdi_index={}, pdi_version={}, pdi_reserve={reserve}, \
                 pdi_copy_thresh={copy_thresh}, pdi_tstamp={tstamp}, pdi_flags={}}}",
                ifindex_text(index),
                flags::xval_or_unknown(x::TPACKET_VERSIONS, u64::from(version), "TPACKET_???"),
                flags::flags_or_unknown(x::PDI_FLAGS, u64::from(flags), "PDI_???"),
            ))
        }
        1 => {
            // MCLIST: struct packet_diag_mclist, 44 bytes each.
            let items: Vec<String> = b
                .chunks_exact(44)
                .filter_map(|m| {
                    let [index, count]: [u32; 2] = read(m)?;
                    let [kind, alen]: [u16; 2] = read(&m[8..])?;
                    let addr = &m[12..12 + usize::from(alen).min(32)];
                    Some(format!(
                        "{{pdmc_index={}, pdmc_count={count}, pdmc_type={kind}, \
                         pdmc_alen={alen}, pdmc_addr={}}}",
                        ifindex_text(index),
                        hex_str(addr, opts)
                    ))
                })
                .collect();
            (!items.is_empty()).then(|| array_text(items.into_iter(), opts))
        }
        2 | 3 => {
            let [block_size, block_nr, frame_size, frame_nr, retire_tmo, sizeof_priv, features]: [u32; 7] =
                read(b)?;
            Some(format!(
                "{{pdr_block_size={block_size}, pdr_block_nr={block_nr}, \
                 pdr_frame_size={frame_size}, pdr_frame_nr={frame_nr}, \
                 pdr_retire_tmo={retire_tmo}, pdr_sizeof_priv={sizeof_priv}, \
                 pdr_features={features}}}"
            ))
        }
        4 => read::<u32>(b).map(|n| n.to_string()), // FANOUT
        5 => read::<u32>(b).map(|n| (n as i32).to_string()), // UID: -1 as strace's
        6 => Some(meminfo_text(&u32_array(b)?, opts)),
        _ => None,
    }
}

/// struct fib_rule_hdr and its attributes (a policy routing rule: `ip rule`).
fn fib_rule_hdr_text(payload: &[u8], opts: &StraceOptions) -> String {
    const SIZE: usize = 12;
    let family = payload[0];
    let mut out = family_head("family", family);
    let (Some(&[_, dst_len, src_len, tos, table, _, _, action]), Some(rule_flags)) =
        (payload.get(..8), payload.get(8..SIZE).and_then(read::<u32>))
    else {
        out.push_str("...}");
        return out;
    };
    out.push_str(&format!(
        "dst_len={dst_len}, src_len={src_len}, tos={}, table={}, action={}, flags={}}}",
        flags::flags_or_unknown(x::IPTOS_FLAGS, u64::from(tos), "IPTOS_???"),
        flags::xval_or_unknown(x::RT_TABLES, u64::from(table), "RT_TABLE_???"),
        flags::xval_or_unknown(x::FIB_RULE_ACTIONS, u64::from(action), "FR_ACT_???"),
        flags::flags_or_unknown(x::FIB_RULE_FLAGS, u64::from(rule_flags), "FIB_RULE_???"),
    ));
    push_attrs(
        &mut out,
        payload,
        SIZE,
        x::FRA_ATTRS,
        "FRA_???",
        |ty, b| fra_attr(family, ty, b, opts),
        opts,
    );
    out
}

/// A FRA_* attribute's value; None: printed as hex.
fn fra_attr(family: u8, ty: u16, b: &[u8], opts: &StraceOptions) -> Option<String> {
    let name = flags::xval(x::FRA_ATTRS, u64::from(ty))?.strip_prefix("FRA_")?;
    let u32_at = || b.get(..4).and_then(read::<u32>);
    let range = || -> Option<String> {
        let (start, end) = match name {
            "UID_RANGE" => {
                let [start, end]: [u32; 2] = read(b)?;
                (start, end)
            }
            _ => {
                let [start, end]: [u16; 2] = read(b)?;
                (u32::from(start), u32::from(end))
            }
        };
        Some(format!("{{start={start}, end={end}}}"))
    };
    match name {
        "DST" | "SRC" => Some(inet_addr_text(family, b, opts)),
        "IIFNAME" | "OIFNAME" => Some(nla_str(b, opts)),
        "GOTO" | "PRIORITY" | "FWMARK" | "FLOW" | "SUPPRESS_IFGROUP" | "SUPPRESS_PREFIXLEN"
        | "FWMASK" => u32_at().map(|n| n.to_string()),
        "TUN_ID" => b
            .get(..8)
            .and_then(read::<u64>)
            .map(|n| format!("htobe64({})", u64::from_be(n))),
        // printxval without a default: the table's name, or the number.
        "TABLE" => u32_at().map(|n| xval_or_hex(x::RT_TABLES, u64::from(n))),
        "L3MDEV" => b.first().map(u8::to_string),
        "PROTOCOL" => b
            .first()
            .map(|&p| flags::xval_or_unknown(x::RTPROT_NAMES, u64::from(p), "RTPROT_???")),
        "IP_PROTO" if b.len() <= 8 => {
            let mut word = [0u8; 8];
            word[..b.len()].copy_from_slice(b);
            Some(flags::xval_or_unknown(
                flags::INET_PROTOCOLS,
                u64::from_ne_bytes(word),
                "IPPROTO_???",
            ))
        }
        "UID_RANGE" | "SPORT_RANGE" | "DPORT_RANGE" => range(),
        _ => None,
    }
}

fn array_text(items: impl Iterator<Item = String>, opts: &StraceOptions) -> String {
    super::array_text(items, opts.array_size(), false)
}

/// A socket's memory counters (*_DIAG_MEMINFO), by index:
/// `[[SK_MEMINFO_RMEM_ALLOC]=0, [SK_MEMINFO_RCVBUF]=212992, ...]`.
fn meminfo_text(values: &[u32], opts: &StraceOptions) -> String {
    array_text(
        values.iter().enumerate().map(|(i, v)| {
            let index = match flags::xval(x::SK_MEMINFO, i as u64) {
                Some(name) => name.to_owned(),
                None => format!("{i} /* SK_MEMINFO_??? */"),
            };
            format!("[{index}]={v}")
        }),
        opts,
    )
}

/// An INET_DIAG_* attribute's value, by its name; None: printed as hex.
fn inet_diag_attr(ty: u16, b: &[u8], opts: &StraceOptions) -> Option<String> {
    let name = flags::xval(x::INET_DIAG_ATTRS, u64::from(ty))?.strip_prefix("INET_DIAG_")?;
    match name {
        "CONG" => Some(nla_str(b, opts)),
        "TOS" | "TCLASS" | "SKV6ONLY" => b.first().map(u8::to_string),
        // Its bits are RCV_SHUTDOWN and SEND_SHUTDOWN, not exported: strace
        // shows them as a number with their names in a comment.
        "SHUTDOWN" => b.first().map(|&n| match n {
            0 => "0".to_owned(),
            n => {
                let names: Vec<&str> = [(1, "RCV_SHUTDOWN"), (2, "SEND_SHUTDOWN")]
                    .iter()
                    .filter(|(bit, _)| n & bit != 0)
                    .map(|&(_, name)| name)
                    .collect();
                let rest = n & !3;
                let mut text = names.join("|");
                if rest != 0 {
                    text = if text.is_empty() {
                        hex(u64::from(rest))
                    } else {
                        format!("{text}|{}", hex(u64::from(rest)))
                    };
                }
                format!("{} /* {text} */", hex(u64::from(n)))
            }
        }),
        "PROTOCOL" => b
            .first()
            .map(|&p| flags::xval_or_unknown(flags::INET_PROTOCOLS, u64::from(p), "IPPROTO_???")),
        "MARK" | "CLASS_ID" => b.get(..4).and_then(read::<u32>).map(|n| n.to_string()),
        "CGROUP_ID" => b.get(..8).and_then(read::<u64>).map(|n| n.to_string()),
        "MEMINFO" => {
            let [rmem, wmem, fmem, tmem]: [u32; 4] = read(b)?;
            Some(format!(
                "{{idiag_rmem={rmem}, idiag_wmem={wmem}, idiag_fmem={fmem}, idiag_tmem={tmem}}}"
            ))
        }
        "SOCKOPT" if b.len() == 2 => {
            const BITS: [&str; 11] = [
                "recverr",
                "is_icsk",
                "freebind",
                "hdrincl",
                "mc_loop",
                "transparent",
                "mc_all",
                "nodefrag",
                "bind_address_no_port",
                "recverr_rfc4884",
                "defer_connect",
            ];
            let bits = u16::from(b[0]) | u16::from(b[1]) << 8;
            let mut parts: Vec<String> = BITS
                .iter()
                .enumerate()
                .filter(|(i, _)| bits & (1 << i) != 0)
                .map(|(_, name)| format!("{name}=1"))
                .collect();
            if bits >> 11 != 0 {
                parts.push(format!(
                    "unused={} /* bits 3..8 */",
                    hex(u64::from(bits >> 11))
                ));
            }
            Some(format!("{{{}}}", parts.join(", ")))
        }
        _ => None,
    }
}

/// `{ifa_family=AF_INET, `: the head of a structure that starts with a
/// family.
fn family_head(field: &str, family: u8) -> String {
    format!(
        "{{{field}={}, ",
        flags::xval_or_unknown(flags::ADDRESS_FAMILIES, u64::from(family), "AF_???")
    )
}

/// struct ifaddrmsg and its attributes.
fn ifaddrmsg_text(payload: &[u8], opts: &StraceOptions) -> String {
    let family = payload[0];
    let mut out = family_head("ifa_family", family);
    if payload.len() < 8 {
        out.push_str("...}");
        return out;
    }
    let index = u32::from_ne_bytes(payload[4..8].try_into().expect("4 bytes"));
    out.push_str(&format!(
        "ifa_prefixlen={}, ifa_flags={}, ifa_scope={}, ifa_index={}}}",
        payload[1],
        flags::flags_or_unknown(x::IFA_FLAGS, u64::from(payload[2]), "IFA_F_???"),
        flags::xval(x::RT_SCOPES, u64::from(payload[3]))
            .map_or_else(|| hex(u64::from(payload[3])), str::to_owned),
        ifindex_text(index)
    ));
    push_attrs(
        &mut out,
        payload,
        8,
        x::IFA_ATTRS,
        "IFA_???",
        |ty, b| ifa_attr(family, ty, b, opts),
        opts,
    );
    out
}

/// strace's print_ifindex: `if_nametoindex("lo")`, or the number.
pub fn ifindex_text(index: u32) -> String {
    let mut name = [0 as libc::c_char; libc::IF_NAMESIZE];
    // Its socket and ioctl are systrace's own, whatever thread prints.
    let _quiet = crate::trace::quiet::Quiet::enter();
    // SAFETY: a buffer of IF_NAMESIZE, as if_indextoname wants.
    let found = unsafe { !libc::if_indextoname(index, name.as_mut_ptr()).is_null() };
    if !found {
        return index.to_string();
    }
    // SAFETY: if_indextoname wrote a NUL-terminated name into it.
    let name = unsafe { std::ffi::CStr::from_ptr(name.as_ptr()) };
    format!(
        "if_nametoindex({})",
        quote_limited::<String>(name.to_bytes(), usize::MAX, false, HexStyle::None)
    )
}

/// An IFA_* attribute's value; None: printed as hex.
fn ifa_attr(family: u8, ty: u16, b: &[u8], opts: &StraceOptions) -> Option<String> {
    match ty {
        // IFA_ADDRESS, IFA_LOCAL, IFA_BROADCAST, IFA_ANYCAST, IFA_MULTICAST
        1 | 2 | 4 | 5 | 7 => Some(inet_addr_text(family, b, opts)),
        3 => Some(nla_str(b, opts)), // IFA_LABEL
        6 => {
            // IFA_CACHEINFO
            let [prefered, valid, cstamp, tstamp]: [u32; 4] = read(b)?;
            (b.len() >= 16).then(|| {
                format!("{{ifa_prefered={prefered}, ifa_valid={valid}, cstamp={cstamp}, tstamp={tstamp}}}")
            })
        }
        8 => {
            read::<u32>(b).map(|f| flags::flags_or_unknown(x::IFA_FLAGS, u64::from(f), "IFA_F_???"))
        }
        9 => read::<u32>(b).map(|n| n.to_string()), // IFA_RT_PRIORITY
        10 => read::<i32>(b).map(|n| n.to_string()), // IFA_TARGET_NETNSID
        _ => None,
    }
}

/// strace's decode_inet_addr: `inet_addr("127.0.0.1")`,
/// `inet_pton(AF_INET6, "::1")`; hex when it is not one.
fn inet_addr_text(family: u8, b: &[u8], opts: &StraceOptions) -> String {
    match i32::from(family) {
        libc::AF_INET if b.len() >= 4 => {
            let a = std::net::Ipv4Addr::new(b[0], b[1], b[2], b[3]);
            format!("inet_addr({})", quoted_addr(&a.to_string(), opts.hex))
        }
        libc::AF_INET6 if b.len() >= 16 => {
            let a = std::net::Ipv6Addr::from(<[u8; 16]>::try_from(&b[..16]).expect("16 bytes"));
            format!(
                "inet_pton(AF_INET6, {})",
                quoted_addr(&a.to_string(), opts.hex)
            )
        }
        _ => hex_str(b, opts),
    }
}

/// strace's decode_nla_str (printstr_ex with QUOTE_OMIT_TRAILING_0 and
/// QUOTE_EXPECT_TRAILING_0): the attribute's bytes up to -s, a NUL that
/// ends them left out, and then nothing follows; otherwise `...` follows,
/// even when all were shown (no NUL where one was expected). A NUL before
/// the last byte is printed (`\0`), as strace prints it; under -x the NUL
/// makes the whole string hex, which strace writes with the NUL and `...`.
fn nla_str(b: &[u8], opts: &StraceOptions) -> String {
    quote_limited_omit_trailing_0(b, opts.string_size, true, opts.hex)
}

/// `, [attributes]` after a structure of `at` bytes, when some follow it.
fn push_attrs(
    out: &mut String,
    payload: &[u8],
    at: usize,
    table: Xlat,
    unknown: &str,
    value: impl Fn(u16, &[u8]) -> Option<String>,
    opts: &StraceOptions,
) {
    if payload.len() > at {
        out.push_str(", ");
        out.push_str(&attrs_text(&payload[at..], table, unknown, value, opts));
    }
}

/// Attributes (struct nlattr, then its value), as strace's decode_nlattr.
fn attrs_text(
    mut data: &[u8],
    table: Xlat,
    unknown: &str,
    value: impl Fn(u16, &[u8]) -> Option<String>,
    opts: &StraceOptions,
) -> String {
    let mut out = String::new();
    let mut is_array = false;
    let mut elt = 0usize;
    loop {
        if data.len() < NLA_HDRLEN {
            out.push_str(&hex_str(data, opts));
            break;
        }
        let len = u16::from_ne_bytes([data[0], data[1]]);
        let ty = u16::from_ne_bytes([data[2], data[3]]);
        elt += 1;
        if elt > opts.array_size() {
            out.push_str("...");
            break;
        }
        let step = align4(usize::from(len));
        let next = if usize::from(len) >= NLA_HDRLEN && data.len() > step {
            Some(&data[step..])
        } else {
            None
        };
        if !is_array && next.is_some() {
            out.push('[');
            is_array = true;
        }
        let mut type_text = String::new();
        if ty & NLA_F_NESTED != 0 {
            type_text.push_str("NLA_F_NESTED|");
        }
        if ty & NLA_F_NET_BYTEORDER != 0 {
            type_text.push_str("NLA_F_NET_BYTEORDER|");
        }
        let bare = ty & !(NLA_F_NESTED | NLA_F_NET_BYTEORDER);
        type_text.push_str(&flags::xval_or_unknown(table, u64::from(bare), unknown));
        let head = format!("{{nla_len={len}, nla_type={type_text}}}");
        let shown = usize::from(len).min(data.len());
        if shown > NLA_HDRLEN {
            let body = &data[NLA_HDRLEN..shown];
            let text = value(bare, body).unwrap_or_else(|| hex_str(body, opts));
            out.push_str(&format!("[{head}, {text}]"));
        } else {
            out.push_str(&head);
        }
        match next {
            Some(rest) => {
                out.push_str(", ");
                data = rest;
            }
            None => break,
        }
    }
    if is_array {
        out.push(']');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> StraceOptions {
        StraceOptions::default()
    }

    fn nl(data: &[u8], protocol: u32) -> String {
        netlink_text(data, data.len() as u64, protocol, &opts()).unwrap()
    }

    fn msg(ty: u16, flags: u16, payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&((16 + payload.len()) as u32).to_ne_bytes());
        out.extend_from_slice(&ty.to_ne_bytes());
        out.extend_from_slice(&flags.to_ne_bytes());
        out.extend_from_slice(&7u32.to_ne_bytes());
        out.extend_from_slice(&0u32.to_ne_bytes());
        out.extend_from_slice(payload);
        while out.len() % 4 != 0 {
            out.push(0);
        }
        out
    }

    fn attr(ty: u16, value: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&((4 + value.len()) as u16).to_ne_bytes());
        out.extend_from_slice(&ty.to_ne_bytes());
        out.extend_from_slice(value);
        while out.len() % 4 != 0 {
            out.push(0);
        }
        out
    }

    #[test]
    fn generic_netlink_families_named_by_the_kernel() {
        // The controller's id is fixed; others are the kernel's (asked).
        let generic = libc::NETLINK_GENERIC as u32;
        assert_eq!(
            nl(&msg(0x10, 0x301, &[3, 1, 0, 0]), generic),
            "[{nlmsg_len=20, nlmsg_type=nlctrl, nlmsg_flags=NLM_F_REQUEST|0x300, nlmsg_seq=7, \
             nlmsg_pid=0}, \"\\x03\\x01\\x00\\x00\"]"
        );
        assert!(nl(&msg(0xfff0, 1, &[]), generic)
            .starts_with("{nlmsg_len=16, nlmsg_type=0xfff0 /* GENERIC_FAMILY_??? */, "));
        let families = ask_genl_families().unwrap();
        assert!(
            families.contains(&(0x10, "nlctrl".to_owned())),
            "{families:?}"
        );
        assert!(families.len() > 1, "{families:?}");
    }

    #[test]
    fn a_getaddr_dump_request_as_strace() {
        // glibc's __check_pf: an rtgenmsg's family, padded.
        let data = msg(22, 0x301, &[0, 0, 0, 0]);
        assert_eq!(
            netlink_text(&data, data.len() as u64, 0, &opts()).unwrap(),
            "[{nlmsg_len=20, nlmsg_type=RTM_GETADDR, nlmsg_flags=NLM_F_REQUEST|NLM_F_DUMP, \
             nlmsg_seq=7, nlmsg_pid=0}, {ifa_family=AF_UNSPEC, ...}]"
        );
    }

    #[test]
    fn addresses_and_the_end_of_a_dump_as_strace() {
        let mut payload = vec![libc::AF_INET as u8, 8, 0x80, 254];
        payload.extend_from_slice(&0x7fff_fff0u32.to_ne_bytes()); // no such interface
        payload.extend(attr(1, &[127, 0, 0, 1]));
        payload.extend(attr(3, b"lo\0"));
        payload.extend(attr(8, &0x80u32.to_ne_bytes()));
        payload.extend(attr(11, &[1]));
        let mut data = msg(20, 2, &payload);
        data.extend(msg(3, 2, &0i32.to_ne_bytes()));
        assert_eq!(
            netlink_text(&data, data.len() as u64, 0, &opts()).unwrap(),
            "[[{nlmsg_len=56, nlmsg_type=RTM_NEWADDR, nlmsg_flags=NLM_F_MULTI, nlmsg_seq=7, \
             nlmsg_pid=0}, {ifa_family=AF_INET, ifa_prefixlen=8, ifa_flags=IFA_F_PERMANENT, \
             ifa_scope=RT_SCOPE_HOST, ifa_index=2147483632}, [[{nla_len=8, nla_type=IFA_ADDRESS}, \
             inet_addr(\"127.0.0.1\")], [{nla_len=7, nla_type=IFA_LABEL}, \"lo\"], [{nla_len=8, \
             nla_type=IFA_FLAGS}, IFA_F_PERMANENT], [{nla_len=5, nla_type=IFA_PROTO}, \"\\x01\"]]], \
             [{nlmsg_len=20, nlmsg_type=NLMSG_DONE, nlmsg_flags=NLM_F_MULTI, nlmsg_seq=7, \
             nlmsg_pid=0}, 0]]"
        );
    }

    #[test]
    fn interfaces_as_strace() {
        // ip's RTM_GETLINK dump request, with its IFLA_EXT_MASK.
        let mut payload = vec![0u8; 16];
        payload.extend(attr(29, &1u32.to_ne_bytes()));
        assert_eq!(
            nl(&msg(18, 0x301, &payload), 0),
            "[{nlmsg_len=40, nlmsg_type=RTM_GETLINK, nlmsg_flags=NLM_F_REQUEST|NLM_F_DUMP, \
             nlmsg_seq=7, nlmsg_pid=0}, {ifi_family=AF_UNSPEC, ifi_type=ARPHRD_NETROM, \
             ifi_index=0, ifi_flags=0, ifi_change=0}, [{nla_len=8, nla_type=IFLA_EXT_MASK}, \
             RTEXT_FILTER_VF]]"
        );
        // A reply: an interface with its name, MTU, address and counters.
        let mut payload = vec![0u8, 0];
        payload.extend(772u16.to_ne_bytes()); // ARPHRD_LOOPBACK
        payload.extend(0x7fff_fff0u32.to_ne_bytes());
        payload.extend(0x10049u32.to_ne_bytes());
        payload.extend(0u32.to_ne_bytes());
        payload.extend(attr(3, b"lo\0"));
        payload.extend(attr(4, &65536u32.to_ne_bytes()));
        payload.extend(attr(1, &[0, 1, 2, 0xab, 4, 5]));
        let stats: Vec<u8> = (1..=24u32).flat_map(u32::to_ne_bytes).collect();
        payload.extend(attr(7, &stats));
        let text = nl(&msg(16, 2, &payload), 0);
        assert!(
            text.starts_with(
                "[{nlmsg_len=160, nlmsg_type=RTM_NEWLINK, nlmsg_flags=NLM_F_MULTI, nlmsg_seq=7, \
                 nlmsg_pid=0}, {ifi_family=AF_UNSPEC, ifi_type=ARPHRD_LOOPBACK, \
                 ifi_index=2147483632, ifi_flags=IFF_UP|IFF_LOOPBACK|IFF_RUNNING|IFF_LOWER_UP, \
                 ifi_change=0}, [[{nla_len=7, nla_type=IFLA_IFNAME}, \"lo\"], [{nla_len=8, \
                 nla_type=IFLA_MTU}, 65536], [{nla_len=10, nla_type=IFLA_ADDRESS}, \
                 00:01:02:ab:04:05], [{nla_len=100, nla_type=IFLA_STATS}, {rx_packets=1, \
                 tx_packets=2, "
            ),
            "{text}"
        );
        assert!(
            text.ends_with("tx_compressed=23, rx_nohandler=24}]]]"),
            "{text}"
        );
    }

    #[test]
    fn routes_as_strace() {
        let mut payload = vec![libc::AF_INET as u8, 24, 0, 0, 254, 2, 253, 1];
        payload.extend(0u32.to_ne_bytes());
        payload.extend(attr(15, &254u32.to_ne_bytes())); // RTA_TABLE
        payload.extend(attr(1, &[192, 0, 2, 0])); // RTA_DST
        payload.extend(attr(4, &0x7fff_fff0u32.to_ne_bytes())); // RTA_OIF
        assert_eq!(
            nl(&msg(24, 0x22, &payload), 0),
            "[{nlmsg_len=52, nlmsg_type=RTM_NEWROUTE, \
             nlmsg_flags=NLM_F_MULTI|NLM_F_DUMP_FILTERED, nlmsg_seq=7, nlmsg_pid=0}, \
             {rtm_family=AF_INET, rtm_dst_len=24, rtm_src_len=0, rtm_tos=0, \
             rtm_table=RT_TABLE_MAIN, rtm_protocol=RTPROT_KERNEL, rtm_scope=RT_SCOPE_LINK, \
             rtm_type=RTN_UNICAST, rtm_flags=0}, [[{nla_len=8, nla_type=RTA_TABLE}, \
             RT_TABLE_MAIN], [{nla_len=8, nla_type=RTA_DST}, inet_addr(\"192.0.2.0\")], \
             [{nla_len=8, nla_type=RTA_OIF}, 2147483632]]]"
        );
    }

    #[test]
    fn policy_rules_as_strace() {
        // `ip rule add from 10.1.0.0/16 iif lo ipproto tcp sport 80-90
        // uidrange 1000-2000 table 100 tun_id 5` as strace 6.1 printed it.
        let mut payload = vec![libc::AF_INET as u8, 0, 16, 0, 100, 0, 0, 1];
        payload.extend(0u32.to_ne_bytes());
        payload.extend(attr(2, &[10, 1, 0, 0])); // FRA_SRC
        payload.extend(attr(3, b"lo\0")); // FRA_IIFNAME
        payload.extend(attr(22, &[6])); // FRA_IP_PROTO
        payload.extend(attr(
            23,
            &[80u16.to_ne_bytes(), 90u16.to_ne_bytes()].concat(),
        )); // FRA_SPORT_RANGE
        let uids = [1000u32.to_ne_bytes(), 2000u32.to_ne_bytes()].concat();
        payload.extend(attr(20, &uids)); // FRA_UID_RANGE
        payload.extend(attr(12, &5u64.to_be_bytes())); // FRA_TUN_ID
        let text = nl(&msg(32, 0x605, &payload), 0);
        assert!(
            text.contains(
                "{family=AF_INET, dst_len=0, src_len=16, tos=0, table=0x64 /* RT_TABLE_??? */, \
                 action=FR_ACT_TO_TBL, flags=0}, [[{nla_len=8, nla_type=FRA_SRC}, \
                 inet_addr(\"10.1.0.0\")], [{nla_len=7, nla_type=FRA_IIFNAME}, \"lo\"], \
                 [{nla_len=5, nla_type=FRA_IP_PROTO}, IPPROTO_TCP], [{nla_len=8, \
                 nla_type=FRA_SPORT_RANGE}, {start=80, end=90}], [{nla_len=12, \
                 nla_type=FRA_UID_RANGE}, {start=1000, end=2000}], [{nla_len=12, \
                 nla_type=FRA_TUN_ID}, htobe64(5)]]]"
            ),
            "{text}"
        );
        assert!(text.contains("nlmsg_type=RTM_NEWRULE"), "{text}");
    }

    #[test]
    fn neighbours_as_strace() {
        // ip neigh's dump request: an ndmsg of zeros.
        assert_eq!(
            nl(&msg(30, 0x301, &[0; 12]), 0),
            "[{nlmsg_len=28, nlmsg_type=RTM_GETNEIGH, nlmsg_flags=NLM_F_REQUEST|NLM_F_DUMP, \
             nlmsg_seq=7, nlmsg_pid=0}, {ndm_family=AF_UNSPEC, ndm_ifindex=0, \
             ndm_state=NUD_NONE, ndm_flags=0, ndm_type=RTN_UNSPEC}]"
        );
        let mut payload = vec![libc::AF_INET as u8, 0, 0, 0];
        payload.extend(0x7fff_fff0u32.to_ne_bytes());
        payload.extend([2, 0, 0, 1]); // NUD_REACHABLE, no flags, RTN_UNICAST
        payload.extend(attr(1, &[192, 0, 2, 1])); // NDA_DST
        payload.extend(attr(2, &[0x52, 0x54, 0, 0x12, 0x34, 0x56])); // NDA_LLADDR
        payload.extend(attr(4, &3u32.to_ne_bytes())); // NDA_PROBES
        assert_eq!(
            nl(&msg(28, 2, &payload), 0),
            "[{nlmsg_len=56, nlmsg_type=RTM_NEWNEIGH, nlmsg_flags=NLM_F_MULTI, nlmsg_seq=7, \
             nlmsg_pid=0}, {ndm_family=AF_INET, ndm_ifindex=2147483632, \
             ndm_state=NUD_REACHABLE, ndm_flags=0, ndm_type=RTN_UNICAST}, [[{nla_len=8, \
             nla_type=NDA_DST}, inet_addr(\"192.0.2.1\")], [{nla_len=10, nla_type=NDA_LLADDR}, \
             52:54:00:12:34:56], [{nla_len=8, nla_type=NDA_PROBES}, 3]]]"
        );
    }

    #[test]
    fn unix_sockets_as_strace() {
        let sock_diag = libc::NETLINK_SOCK_DIAG as u32;
        // ss -x's dump request.
        let mut req = vec![libc::AF_UNIX as u8, 0, 0, 0];
        for v in [0xffffu32 & !1 | 1, 0, 0x1d, 0, 0] {
            req.extend(v.to_ne_bytes());
        }
        assert_eq!(
            nl(&msg(20, 0x301, &req), sock_diag),
            "[{nlmsg_len=40, nlmsg_type=SOCK_DIAG_BY_FAMILY, nlmsg_flags=NLM_F_REQUEST|NLM_F_DUMP, \
             nlmsg_seq=7, nlmsg_pid=0}, {sdiag_family=AF_UNIX, sdiag_protocol=0, \
             udiag_states=1<<TCP_ESTABLISHED|1<<TCP_SYN_SENT|1<<TCP_SYN_RECV|1<<TCP_FIN_WAIT1|\
             1<<TCP_FIN_WAIT2|1<<TCP_TIME_WAIT|1<<TCP_CLOSE|1<<TCP_CLOSE_WAIT|1<<TCP_LAST_ACK|\
             1<<TCP_LISTEN|1<<TCP_CLOSING|1<<TCP_NEW_SYN_RECV|0xe001, \
             udiag_ino=0, udiag_show=UDIAG_SHOW_NAME|UDIAG_SHOW_PEER|UDIAG_SHOW_ICONS|\
             UDIAG_SHOW_RQLEN, udiag_cookie=[0, 0]}]"
        );
        // An answer: a listening socket with a path, its queue of
        // connections, its uid and a counter of an unknown index.
        let mut answer = vec![libc::AF_UNIX as u8, libc::SOCK_STREAM as u8, 10, 0];
        for v in [4242u32, 7, 0] {
            answer.extend(v.to_ne_bytes());
        }
        answer.extend(attr(0, b"/run/x.sock\0"));
        let mut vfs = 99u32.to_ne_bytes().to_vec();
        vfs.extend(((8u32 << 8) | 1).to_ne_bytes()); // 8:1, the kernel's encoding
        answer.extend(attr(1, &vfs));
        answer.extend(attr(3, &[5u32.to_ne_bytes(), 6u32.to_ne_bytes()].concat()));
        answer.extend(attr(7, &1000u32.to_ne_bytes()));
        let counters: Vec<u8> = (0..10u32).flat_map(u32::to_ne_bytes).collect();
        answer.extend(attr(5, &counters));
        let text = nl(&msg(20, 2, &answer), sock_diag);
        assert!(
            text.starts_with(
                "[{nlmsg_len=124, nlmsg_type=SOCK_DIAG_BY_FAMILY, nlmsg_flags=NLM_F_MULTI, \
                 nlmsg_seq=7, nlmsg_pid=0}, {udiag_family=AF_UNIX, udiag_type=SOCK_STREAM, \
                 udiag_state=TCP_LISTEN, udiag_ino=4242, udiag_cookie=[7, 0]}, \
                 [[{nla_len=16, nla_type=UNIX_DIAG_NAME}, \"/run/x.sock\"], \
                 [{nla_len=12, nla_type=UNIX_DIAG_VFS}, {udiag_vfs_dev=makedev(0x8, 0x1), \
                 udiag_vfs_ino=99}], [{nla_len=12, nla_type=UNIX_DIAG_ICONS}, [5, 6]], \
                 [{nla_len=8, nla_type=UNIX_DIAG_UID}, 1000], [{nla_len=44, \
                 nla_type=UNIX_DIAG_MEMINFO}, [[SK_MEMINFO_RMEM_ALLOC]=0, "
            ),
            "{text}"
        );
        assert!(
            text.ends_with("[SK_MEMINFO_DROPS]=8, [9 /* SK_MEMINFO_??? */]=9]]]]"),
            "{text}"
        );
    }

    #[test]
    fn the_older_inet_diag_req_and_its_attributes() {
        // DCCPDIAG_GETSOCK's struct inet_diag_req, then an
        // INET_DIAG_REQ_PROTOCOL, decoded as after inet_diag_req_v2.
        let mut payload = vec![libc::AF_INET as u8, 0, 0, 0];
        payload.extend([0u8; 48]);
        payload.extend((1u32 << 10).to_ne_bytes());
        payload.extend(0u32.to_ne_bytes());
        payload.extend(attr(3, &[6]));
        let text = nl(&msg(19, 0x301, &payload), libc::NETLINK_SOCK_DIAG as u32);
        assert!(
            text.contains(
                "idiag_states=1<<TCP_LISTEN, idiag_dbs=0}, \
                 [{nla_len=5, nla_type=INET_DIAG_REQ_PROTOCOL}, IPPROTO_TCP]]"
            ),
            "{text}"
        );
    }

    #[test]
    fn inet_sockets_as_strace() {
        let sock_diag = libc::NETLINK_SOCK_DIAG as u32;
        // ss -tln's request for IPv6 listening sockets.
        let mut payload = vec![libc::AF_INET6 as u8, 6, 0, 0];
        payload.extend((1u32 << 7 | 1 << 10).to_ne_bytes());
        payload.extend([0u8; 48]);
        assert_eq!(
            nl(&msg(20, 0x301, &payload), sock_diag),
            "[{nlmsg_len=72, nlmsg_type=SOCK_DIAG_BY_FAMILY, nlmsg_flags=NLM_F_REQUEST|NLM_F_DUMP, \
             nlmsg_seq=7, nlmsg_pid=0}, {sdiag_family=AF_INET6, sdiag_protocol=IPPROTO_TCP, \
             idiag_ext=0, idiag_states=1<<TCP_CLOSE|1<<TCP_LISTEN, id={idiag_sport=htons(0), \
             idiag_dport=htons(0), inet_pton(AF_INET6, \"::\", &idiag_src), \
             inet_pton(AF_INET6, \"::\", &idiag_dst), idiag_if=0, idiag_cookie=[0, 0]}}]"
        );
        // An answer: a listening IPv4 socket and its attributes.
        let mut payload = vec![libc::AF_INET as u8, 10, 0, 0];
        payload.extend(2024u16.to_be_bytes());
        payload.extend([0, 0, 127, 0, 0, 1]);
        payload.extend([0u8; 28]);
        payload.extend([0, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0]);
        for v in [0u32, 0, 128, 0, 653] {
            payload.extend(v.to_ne_bytes());
        }
        payload.extend(attr(8, &[0])); // INET_DIAG_SHUTDOWN
        payload.extend(attr(22, &[0x52, 0])); // INET_DIAG_SOCKOPT
        assert_eq!(
            nl(&msg(20, 2, &payload), sock_diag),
            "[{nlmsg_len=104, nlmsg_type=SOCK_DIAG_BY_FAMILY, nlmsg_flags=NLM_F_MULTI, \
             nlmsg_seq=7, nlmsg_pid=0}, {idiag_family=AF_INET, idiag_state=TCP_LISTEN, \
             idiag_timer=0, idiag_retrans=0, id={idiag_sport=htons(2024), idiag_dport=htons(0), \
             idiag_src=inet_addr(\"127.0.0.1\"), idiag_dst=inet_addr(\"0.0.0.0\"), idiag_if=0, \
             idiag_cookie=[7, 0]}, idiag_expires=0, idiag_rqueue=0, idiag_wqueue=128, \
             idiag_uid=0, idiag_inode=653}, [[{nla_len=5, nla_type=INET_DIAG_SHUTDOWN}, 0], \
             [{nla_len=6, nla_type=INET_DIAG_SOCKOPT}, {is_icsk=1, mc_loop=1, mc_all=1}]]]"
        );
    }

    #[test]
    fn an_error_answer_and_an_unknown_family() {
        let mut payload = (-libc::EPERM).to_ne_bytes().to_vec();
        payload.extend(msg(22, 0x301, &[]));
        let data = msg(2, 0x100, &payload);
        assert_eq!(
            netlink_text(&data, data.len() as u64, 0, &opts()).unwrap(),
            "[{nlmsg_len=36, nlmsg_type=NLMSG_ERROR, nlmsg_flags=NLM_F_CAPPED, nlmsg_seq=7, \
             nlmsg_pid=0}, {error=-EPERM, msg={nlmsg_len=16, nlmsg_type=RTM_GETADDR, \
             nlmsg_flags=NLM_F_REQUEST|NLM_F_DUMP, nlmsg_seq=7, nlmsg_pid=0}}]"
        );
        assert_eq!(
            netlink_text(&data, data.len() as u64, libc::NETLINK_XFRM as u32, &opts()),
            None
        );
        // libaudit's ACK (su, login): the message it answers, named.
        let mut payload = 0i32.to_ne_bytes().to_vec();
        payload.extend(msg(1100, 5, &[0; 116]));
        let data = msg(2, 0x100, &payload[..20]);
        assert_eq!(
            nl(&data, libc::NETLINK_AUDIT as u32),
            "[{nlmsg_len=36, nlmsg_type=NLMSG_ERROR, nlmsg_flags=NLM_F_CAPPED, nlmsg_seq=7, \
             nlmsg_pid=0}, {error=0, msg={nlmsg_len=132, nlmsg_type=AUDIT_FIRST_USER_MSG, \
             nlmsg_flags=NLM_F_REQUEST|NLM_F_ACK, nlmsg_seq=7, nlmsg_pid=0}}]"
        );
        assert!(
            nl(&msg(0x44d, 5, &[0x6f, 0x70]), libc::NETLINK_AUDIT as u32)
                .contains("nlmsg_type=0x44d /* AUDIT_??? */")
        );
        // A socket not bound yet: strace cannot tell its protocol.
        assert_eq!(
            nl(&msg(22, 1, &[2, 0, 0, 0]), NETLINK_UNBOUND),
            "[{nlmsg_len=20, nlmsg_type=0x16 /* NLMSG_??? */, nlmsg_flags=NLM_F_REQUEST, \
             nlmsg_seq=7, nlmsg_pid=0}, \"\\x02\\x00\\x00\\x00\"]"
        );
        // Read in part: enough for the 32 messages shown, not for fewer.
        let many: Vec<u8> = (0..250).flat_map(|_| msg(22, 1, &[2, 0, 0, 0])).collect();
        let text = netlink_text(&many[..4096], 5000, 0, &opts()).unwrap();
        assert!(text.ends_with("{ifa_family=AF_INET, ...}], ...]"), "{text}");
        assert_eq!(netlink_text(&many[..600], 5000, 0, &opts()), None);
        // Shorter than a header: hex, as strace.
        assert_eq!(
            netlink_text(b"\x01\x02", 2, 0, &opts()).unwrap(),
            "\"\\x01\\x02\""
        );
    }
}
