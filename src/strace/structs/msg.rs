//! Lists read through pointers: iovec arrays and their data (readv,
//! writev), msghdrs with their name, control messages and iovecs (sendmsg,
//! recvmsg). Each element is a `systrace_capture_elem` then its data.
use serde_json::{json, Value};

use super::read;
use crate::strace::call::bytes_json;
use crate::strace::decoders::ptr;
use crate::strace::quote::{push_quoted, quote_limited, Ellipsis};
use crate::strace::{flags, sockaddr, StraceOptions};

/// struct systrace_capture_elem (bpf/systrace.h): ptr, len, avail.
const ELEM: usize = 24;

/// One element: where it was, how long the program said, and of that the
/// bytes there were to read (None: they could not be read), then the data.
pub struct Elem<'a> {
    pub ptr: u64,
    pub len: u64,
    pub avail: Option<u64>,
    pub data: &'a [u8],
}

pub fn elem(bytes: &[u8]) -> Option<Elem<'_>> {
    let [ptr, len, avail]: [u64; 3] = read(bytes)?;
    Some(Elem {
        ptr,
        len,
        // SYSTRACE_ELEM_FAULTED (a #define, not in the generated types).
        avail: (avail != u64::MAX).then_some(avail),
        data: &bytes[ELEM..],
    })
}

/// The buffers of an iovec array (readv, writev), or of a msghdr's
/// (sendmsg, recvmsg; `msghdr`): each one's length and the bytes captured
/// of what it holds (empty when they could not be read).
pub fn iov_buffers<'a>(items: &'a [&'a [u8]], msghdr: bool) -> Option<Vec<(u64, &'a [u8])>> {
    let iov = if msghdr { msg(items)?.iov } else { items };
    iov.iter()
        .map(|b| elem(b).map(|e| (e.len, if e.avail.is_some() { e.data } else { &[] })))
        .collect()
}

/// `netlink`: the protocol of the netlink socket whose messages the data
/// is, decoded when all of it was read.
fn iov_text(e: &Elem<'_>, failed: bool, netlink: Option<u32>, opts: &StraceOptions) -> String {
    let messages = (!failed && e.ptr != 0).then_some(()).and_then(|()| {
        let avail = e.avail?;
        let data = &e.data[..e.data.len().min(usize::try_from(avail).ok()?)];
        super::netlink_text(data, avail, netlink?, opts)
    });
    let base = match e.avail {
        _ if e.ptr == 0 => "NULL".to_owned(),
        Some(_) if messages.is_some() => messages.unwrap_or_default(),
        Some(avail) if !failed => quote_limited(
            e.data,
            opts.string_size,
            avail > e.data.len() as u64,
            opts.hex,
        ),
        _ => ptr(e.ptr),
    };
    format!("{{iov_base={base}, iov_len={}}}", e.len)
}

/// process_vm_readv's and process_vm_writev's remote iovecs, addresses in
/// the other process: `[{iov_base=0x7f..., iov_len=4}]` for the first
/// `limit` of the `n` the call names (` ...` after them, as strace's).
pub fn remote_iovec_text(bytes: &[u8], n: u64, limit: usize) -> Option<String> {
    let parts: Vec<String> = bytes
        .chunks_exact(std::mem::size_of::<libc::iovec>())
        .take(n.min(limit as u64) as usize)
        .map(|b| {
            let [base, len]: [u64; 2] = read(b)?;
            Some(format!("{{iov_base={}, iov_len={len}}}", ptr(base)))
        })
        .collect::<Option<_>>()?;
    let tail = match ((parts.len() as u64) < n, parts.is_empty()) {
        (false, _) => "",
        (true, true) => "...",
        (true, false) => ", ...",
    };
    Some(format!("[{}{tail}]", parts.join(", ")))
}

/// `[{iov_base="hello", iov_len=5}, ...]`; `more`: elements were left out;
/// `failed`: the call read nothing, its buffers print as addresses.
pub fn iovec_text(
    items: &[&[u8]],
    more: bool,
    failed: bool,
    opts: &StraceOptions,
) -> Option<String> {
    iovec_text_of(items, more, failed, None, opts)
}

fn iovec_text_of(
    items: &[&[u8]],
    more: bool,
    failed: bool,
    netlink: Option<u32>,
    opts: &StraceOptions,
) -> Option<String> {
    let parts: Vec<String> = items
        .iter()
        .map(|b| elem(b).map(|e| iov_text(&e, failed, netlink, opts)))
        .collect::<Option<_>>()?;
    let tail = match (more, parts.is_empty()) {
        (false, _) => "",
        (true, true) => "...",
        (true, false) => ", ...",
    };
    Some(format!("[{}{tail}]", parts.join(", ")))
}

fn iov_value(e: &Elem<'_>) -> Value {
    json!({"iov_base": e.avail.map(|_| bytes_json(e.data)), "iov_len": e.len})
}

pub fn iovec_value(items: &[&[u8]]) -> Value {
    Value::Array(
        items
            .iter()
            .filter_map(|b| elem(b))
            .map(|e| iov_value(&e))
            .collect(),
    )
}

/// struct user_msghdr.
#[derive(Clone, Copy)]
#[repr(C)]
struct MsgHdr {
    name: u64,
    namelen: u32,
    _pad: u32,
    iov: u64,
    iovlen: u64,
    control: u64,
    controllen: u64,
    flags: u32,
    _pad2: u32,
}

/// A msghdr list: the header, its name, its control data, its iovecs.
struct Msg<'a> {
    hdr: MsgHdr,
    name: Elem<'a>,
    control: Elem<'a>,
    iov: &'a [&'a [u8]],
}

fn msg<'a>(items: &'a [&'a [u8]]) -> Option<Msg<'a>> {
    let [hdr, name, control, iov @ ..] = items else {
        return None;
    };
    Some(Msg {
        hdr: read(elem(hdr)?.data)?,
        name: elem(name)?,
        control: elem(control)?,
        iov,
    })
}

/// strace's scmvals: SOL_SOCKET's control message types (x86_64 values).
const SCM_TYPES: flags::Xlat = &[
    (1, "SCM_RIGHTS"),
    (2, "SCM_CREDENTIALS"),
    (3, "SCM_SECURITY"),
    (41, "SO_WIFI_STATUS"),
    (61, "SO_TXTIME"),
    (29, "SO_TIMESTAMP_OLD"),
    (35, "SO_TIMESTAMPNS_OLD"),
    (37, "SO_TIMESTAMPING_OLD"),
    (63, "SO_TIMESTAMP_NEW"),
    (64, "SO_TIMESTAMPNS_NEW"),
    (65, "SO_TIMESTAMPING_NEW"),
    (0x36, "SCM_TIMESTAMPING_OPT_STATS"),
    (0x3a, "SCM_TIMESTAMPING_PKTINFO"),
];

/// strace's ip_cmsg_types: SOL_IP's.
const IP_CMSG_TYPES: flags::Xlat = &[
    (1, "IP_TOS"),
    (2, "IP_TTL"),
    (6, "IP_RECVOPTS"),
    (7, "IP_RETOPTS"),
    (8, "IP_PKTINFO"),
    (11, "IP_RECVERR"),
    (20, "IP_ORIGDSTADDR"),
    (23, "IP_CHECKSUM"),
    (3, "SCM_SECURITY"),
];

/// A timeval's or timespec's two fields, `???` when the data is shorter
/// (strace's print_*_data_size).
fn time_pair(body: &[u8], frac: &str) -> String {
    match read::<[i64; 2]>(body) {
        Some([sec, part]) if frac == "tv_usec" => {
            format!("{{tv_sec={sec}, {frac}={}}}", part as u64)
        }
        Some([sec, part]) => format!("{{tv_sec={sec}, {frac}={part}}}"),
        None => "???".to_owned(),
    }
}

/// An array of the data's values of `size` bytes each, in decimal or hex.
fn values(body: &[u8], size: usize, hex: bool) -> String {
    let items: Vec<String> = body
        .chunks_exact(size)
        .map(|c| {
            let v = c.iter().rev().fold(0u64, |v, &b| v << 8 | u64::from(b));
            if hex {
                flags::hex(v)
            } else {
                v.to_string()
            }
        })
        .collect();
    format!("[{}]", items.join(", "))
}

/// A control message's data as strace's print_cmsg_type_data decodes it,
/// None for a type it leaves undecoded (or data shorter than its minimum).
fn cmsg_data(level: i32, ty: i32, body: &[u8], opts: &StraceOptions) -> Option<String> {
    let inet = |b: &[u8]| {
        let a = std::net::Ipv4Addr::new(b[0], b[1], b[2], b[3]);
        format!(
            "inet_addr({})",
            sockaddr::quoted_addr(&a.to_string(), opts.hex)
        )
    };
    let security = || {
        let mut out = String::new();
        push_quoted(&mut out, body, Ellipsis::No, opts.hex);
        out
    };
    let min = |n: usize| (body.len() >= n).then_some(());
    Some(match (level, ty) {
        (libc::SOL_SOCKET, libc::SCM_RIGHTS) => {
            min(4)?;
            let fds: Vec<String> = body
                .chunks_exact(4)
                .filter_map(read::<i32>)
                .map(|fd| fd.to_string())
                .collect();
            format!("[{}]", fds.join(", "))
        }
        (libc::SOL_SOCKET, libc::SCM_CREDENTIALS) => {
            let [pid, uid, gid]: [u32; 3] = read(body)?;
            format!("{{pid={pid}, uid={uid}, gid={gid}}}")
        }
        (libc::SOL_SOCKET | libc::SOL_IP, 3) => {
            min(1)?;
            security()
        }
        (libc::SOL_SOCKET, 29 | 63) => {
            min(1)?;
            time_pair(body, "tv_usec")
        }
        (libc::SOL_SOCKET, 35 | 64) => {
            min(1)?;
            time_pair(body, "tv_nsec")
        }
        (libc::SOL_SOCKET, 37 | 65) => {
            min(1)?;
            if body.len() < 48 {
                "???".to_owned()
            } else {
                let three: Vec<String> = body
                    .chunks_exact(16)
                    .take(3)
                    .map(|t| time_pair(t, "tv_nsec"))
                    .collect();
                format!("[{}]", three.join(", "))
            }
        }
        (libc::SOL_IP, libc::IP_PKTINFO) => {
            let index: u32 = read(body)?;
            min(12)?;
            format!(
                "{{ipi_ifindex={}, ipi_spec_dst={}, ipi_addr={}}}",
                super::ifindex_text(index),
                inet(&body[4..8]),
                inet(&body[8..12])
            )
        }
        (libc::SOL_IP, libc::IP_TTL | IP_CHECKSUM) => {
            min(4)?;
            values(body, 4, false)
        }
        (libc::SOL_IP, libc::IP_TOS | libc::IP_RECVOPTS | libc::IP_RETOPTS) => {
            min(1)?;
            values(body, 1, true)
        }
        (libc::SOL_IP, libc::IP_RECVERR) => {
            min(32)?;
            let [errno, info, data]: [u32; 3] =
                [read(body)?, read(&body[8..])?, read(&body[12..])?];
            format!(
                "{{ee_errno={errno}, ee_origin={}, ee_type={}, ee_code={}, ee_info={info}, \
                 ee_data={data}, offender={}}}",
                body[4],
                body[5],
                body[6],
                sockaddr::text(&body[16..32], opts.hex)?
            )
        }
        (libc::SOL_IP, libc::IP_ORIGDSTADDR) => {
            min(16)?;
            sockaddr::text(&body[..body.len().min(128)], opts.hex)?
        }
        _ => return None,
    })
}

/// IP_CHECKSUM (linux/in.h; not in libc).
const IP_CHECKSUM: i32 = 23;

/// The fds a msghdr's SCM_RIGHTS control messages carry (strace's -y
/// shows what each refers to).
pub fn scm_rights_fds(items: &[&[u8]]) -> Vec<i32> {
    let Some(m) = msg(items) else {
        return Vec::new();
    };
    let (data, len) = (m.control.data, m.hdr.controllen);
    if m.hdr.control == 0 || m.control.avail.is_none() {
        return Vec::new();
    }
    let mut fds = Vec::new();
    for (_, level, ty, body) in cmsgs(data, len) {
        if (level, ty) == (libc::SOL_SOCKET, libc::SCM_RIGHTS) {
            fds.extend(body.chunks_exact(4).filter_map(read::<i32>));
        }
    }
    fds
}

/// The control messages: `[{cmsg_len=20, cmsg_level=SOL_SOCKET,
/// cmsg_type=SCM_RIGHTS, cmsg_data=[5]}]`.
fn cmsgs_text(data: &[u8], len: u64, opts: &StraceOptions) -> String {
    let mut parts = Vec::new();
    for (clen, level, ty, body) in cmsgs(data, len) {
        let mut text = format!(
            "{{cmsg_len={clen}, cmsg_level={}, cmsg_type=",
            flags::socket_level(level as u32 as u64)
        );
        // The type's name by level, as strace's print_cmsg_type_data.
        let ty_u = ty as u32 as u64;
        text.push_str(&match level {
            libc::SOL_SOCKET => flags::xval_or_unknown(SCM_TYPES, ty_u, "SCM_???"),
            libc::SOL_IP => flags::xval_or_unknown(IP_CMSG_TYPES, ty_u, "IP_???"),
            _ => format!("{ty_u:#x}"),
        });
        if let Some(data) = cmsg_data(level, ty, body, opts) {
            text.push_str(", cmsg_data=");
            text.push_str(&data);
        }
        text.push('}');
        parts.push(text);
    }
    format!("[{}]", parts.join(", "))
}

/// The control messages of the first `len` bytes of `data`, each as
/// (cmsg_len, level, type, data): the kernel's CMSG_NXTHDR walk, which a
/// length shorter than a header, or past the data, ends.
fn cmsgs(data: &[u8], len: u64) -> impl Iterator<Item = (u64, i32, i32, &[u8])> {
    let end = data.len().min(len as usize);
    let mut off = 0usize;
    std::iter::from_fn(move || {
        if off + 16 > end {
            return None;
        }
        let clen = read::<u64>(&data[off..])?;
        let level = read::<i32>(&data[off + 8..])?;
        let ty = read::<i32>(&data[off + 12..])?;
        if clen < 16 {
            return None;
        }
        let body = &data[off + 16..end.min(off.saturating_add(clen as usize))];
        off = off.saturating_add((clen as usize).div_ceil(8).saturating_mul(8));
        Some((clen, level, ty, body))
    })
}

/// `{msg_name=NULL, msg_namelen=0, msg_iov=[...], msg_iovlen=1,
/// msg_controllen=0, msg_flags=0}`; `before`: the header at enter, whose
/// lengths recvmsg rewrote (`msg_namelen=110 => 16`); `netlink`: the
/// protocol of the netlink socket it was sent or received on.
pub fn msghdr_text(
    items: &[&[u8]],
    more: bool,
    before: Option<&[u8]>,
    netlink: Option<u32>,
    opts: &StraceOptions,
) -> Option<String> {
    let m = msg(items)?;
    let h = m.hdr;
    let name = match h.namelen {
        _ if h.name == 0 => "NULL".to_owned(),
        0 => ptr(h.name),
        n => {
            let bytes = &m.name.data[..m.name.data.len().min(n as usize)];
            sockaddr::text(bytes, opts.hex).unwrap_or_else(|| ptr(h.name))
        }
    };
    let mut namelen = h.namelen.to_string();
    if let Some(b) = before.and_then(read::<MsgHdr>) {
        if b.namelen != h.namelen {
            namelen = format!("{} => {}", b.namelen, h.namelen);
        }
    }
    let mut out = format!(
        "{{msg_name={name}, msg_namelen={namelen}, msg_iov={}, msg_iovlen={}",
        iovec_text_of(m.iov, more, false, netlink, opts)?,
        h.iovlen
    );
    if h.controllen > 0 && h.control != 0 {
        let control = match m.control.avail {
            Some(_) => cmsgs_text(m.control.data, h.controllen, opts),
            None => ptr(h.control),
        };
        out.push_str(&format!(", msg_control={control}"));
    }
    out.push_str(&format!(
        ", msg_controllen={}, msg_flags={}}}",
        h.controllen,
        flags::flags(flags::MSG_FLAGS, u64::from(h.flags))
    ));
    Some(out)
}

pub fn msghdr_value(items: &[&[u8]]) -> Option<Value> {
    let m = msg(items)?;
    let h = m.hdr;
    let name = &m.name.data[..m.name.data.len().min(h.namelen as usize)];
    Some(json!({
        "msg_name": sockaddr::decode(name).map(|a| sockaddr::value(&a)),
        "msg_namelen": h.namelen,
        "msg_iov": iovec_value(m.iov),
        "msg_iovlen": h.iovlen,
        "msg_control": m.control.avail.map(|_| bytes_json(m.control.data)),
        "msg_controllen": h.controllen,
        "msg_flags": h.flags,
    }))
}

/// sizeof(struct mmsghdr): a msghdr, then msg_len (and padding).
const MMSGHDR: u64 = 64;

/// The messages of an mmsghdr array (sendmmsg, recvmmsg), each a msghdr
/// list whose header element is the whole mmsghdr, at `vec` + 64 * j:
/// a message ends where the next one's header begins, or at its iovecs'
/// count. Stops at an element that is not the header it expects (a
/// message the programs could not read).
fn mmsgs<'a>(items: &'a [&'a [u8]], vec: u64) -> Vec<&'a [&'a [u8]]> {
    let head_of = |b: &[u8], j: u64| {
        elem(b).is_some_and(|e| e.ptr == vec.wrapping_add(MMSGHDR * j) && e.len == MMSGHDR)
    };
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < items.len() && head_of(items[pos], out.len() as u64) {
        let Some(hdr) = msg(&items[pos..]).map(|m| m.hdr) else {
            break;
        };
        let next = out.len() as u64 + 1;
        let mut end = (pos + 3).min(items.len());
        while end < items.len()
            && ((end - pos - 3) as u64) < hdr.iovlen
            && !head_of(items[end], next)
        {
            end += 1;
        }
        out.push(&items[pos..end]);
        pos = end;
    }
    out
}

/// The msg_len after a message's msghdr.
fn msg_len(items: &[&[u8]]) -> Option<u32> {
    read(elem(items.first()?)?.data.get(56..)?)
}

/// `[{msg_hdr={...}, msg_len=33}, ...]`: `count` messages (sendmmsg's
/// vlen, recvmmsg's ret), the first `sent` with their msg_len; `before`:
/// recvmmsg's headers at enter (the name lengths it gave).
pub fn mmsghdr_text(
    items: &[&[u8]],
    vec: u64,
    count: u64,
    sent: u64,
    before: Option<&[u8]>,
    opts: &StraceOptions,
) -> Option<String> {
    let messages = mmsgs(items, vec);
    if messages.is_empty() && count > 0 {
        return None;
    }
    let mut parts = Vec::with_capacity(messages.len() + 1);
    for (j, m) in messages.iter().enumerate() {
        let iovlen = msg(m)?.hdr.iovlen;
        let more = ((m.len() - 3) as u64) < iovlen;
        let given = before.and_then(|b| b.get(j * MMSGHDR as usize..));
        let mut text = format!("{{msg_hdr={}", msghdr_text(m, more, given, None, opts)?);
        if (j as u64) < sent {
            text.push_str(&format!(", msg_len={}", msg_len(m)?));
        }
        text.push('}');
        parts.push(text);
    }
    if (messages.len() as u64) < count {
        parts.push("...".to_owned());
    }
    Some(format!("[{}]", parts.join(", ")))
}

pub fn mmsghdr_value(items: &[&[u8]], vec: u64, sent: u64) -> Value {
    Value::Array(
        mmsgs(items, vec)
            .iter()
            .enumerate()
            .filter_map(|(j, m)| {
                let mut v = json!({ "msg_hdr": msghdr_value(m)? });
                if (j as u64) < sent {
                    v["msg_len"] = json!(msg_len(m)?);
                }
                Some(v)
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn elem_bytes(ptr: u64, len: u64, data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        for v in [ptr, len, data.len() as u64] {
            out.extend_from_slice(&v.to_ne_bytes());
        }
        out.extend_from_slice(data);
        out
    }

    /// An mmsghdr's head element at `at`: one iovec at 0x5000, msg_len `len`.
    fn head(at: u64, iovlen: u64, len: u32) -> Vec<u8> {
        let mut h = vec![0u8; 64];
        h[16..24].copy_from_slice(&0x5000u64.to_ne_bytes());
        h[24..32].copy_from_slice(&iovlen.to_ne_bytes());
        h[56..60].copy_from_slice(&len.to_ne_bytes());
        elem_bytes(at, 64, &h)
    }

    #[test]
    fn messages_split_at_their_headers() {
        let vec = 0x1000;
        // The first message's iovec array could not be read (no element):
        // the second's header is still found as such.
        let items = [
            head(vec, 1, 3),
            elem_bytes(0, 0, b""),
            elem_bytes(0, 0, b""),
            head(vec + 64, 1, 2),
            elem_bytes(0, 0, b""),
            elem_bytes(0, 0, b""),
            elem_bytes(0x5000, 2, b"hi"),
        ];
        let items: Vec<&[u8]> = items.iter().map(Vec::as_slice).collect();
        let opts = StraceOptions::default();
        let text = mmsghdr_text(&items, vec, 3, 1, None, &opts).unwrap();
        assert_eq!(
            text,
            "[{msg_hdr={msg_name=NULL, msg_namelen=0, msg_iov=[...], msg_iovlen=1, \
             msg_controllen=0, msg_flags=0}, msg_len=3}, {msg_hdr={msg_name=NULL, \
             msg_namelen=0, msg_iov=[{iov_base=\"hi\", iov_len=2}], msg_iovlen=1, \
             msg_controllen=0, msg_flags=0}}, ...]"
        );
        // Nothing that starts where the array does: its address instead.
        assert_eq!(mmsghdr_text(&items[1..], vec, 3, 1, None, &opts), None);
        assert_eq!(mmsghdr_value(&items, vec, 2).as_array().unwrap().len(), 2);
    }
}

#[cfg(test)]
mod cmsg_tests {
    use super::*;

    fn cmsg(level: i32, ty: i32, data: &[u8]) -> Vec<u8> {
        let mut out = ((16 + data.len()) as u64).to_ne_bytes().to_vec();
        out.extend(level.to_ne_bytes());
        out.extend(ty.to_ne_bytes());
        out.extend(data);
        out.resize(out.len().div_ceil(8) * 8, 0);
        out
    }

    #[test]
    fn control_messages_as_strace_decodes_them() {
        // strace -e trace=recvmsg of a UDP socket with SO_TIMESTAMP,
        // IP_PKTINFO, IP_RECVTTL and IP_RECVTOS on, and ping's.
        let tv: Vec<u8> = [1_700_000_000i64, 123_456]
            .iter()
            .flat_map(|v| v.to_ne_bytes())
            .collect();
        let mut pktinfo = 1u32.to_ne_bytes().to_vec();
        pktinfo.extend([127, 0, 0, 1, 127, 0, 0, 1]);
        let data = [
            cmsg(libc::SOL_SOCKET, 29, &tv),
            cmsg(libc::SOL_SOCKET, 35, &tv),
            cmsg(libc::SOL_IP, libc::IP_PKTINFO, &pktinfo),
            cmsg(libc::SOL_IP, libc::IP_TTL, &64u32.to_ne_bytes()),
            cmsg(libc::SOL_IP, libc::IP_TOS, &[0x10]),
            cmsg(libc::SOL_IP, 99, &[1]),
            cmsg(libc::SOL_SOCKET, 29, &[1]),
            cmsg(libc::SOL_SOCKET, 99, &[1]),
            cmsg(libc::SOL_IPV6, 50, &[1, 0, 0, 0]),
        ]
        .concat();
        let opts = StraceOptions::default();
        let lo = super::super::ifindex_text(1);
        assert_eq!(
            cmsgs_text(&data, data.len() as u64, &opts),
            format!(
                "[{{cmsg_len=32, cmsg_level=SOL_SOCKET, cmsg_type=SO_TIMESTAMP_OLD, \
                 cmsg_data={{tv_sec=1700000000, tv_usec=123456}}}}, \
                 {{cmsg_len=32, cmsg_level=SOL_SOCKET, cmsg_type=SO_TIMESTAMPNS_OLD, \
                 cmsg_data={{tv_sec=1700000000, tv_nsec=123456}}}}, \
                 {{cmsg_len=28, cmsg_level=SOL_IP, cmsg_type=IP_PKTINFO, \
                 cmsg_data={{ipi_ifindex={lo}, ipi_spec_dst=inet_addr(\"127.0.0.1\"), \
                 ipi_addr=inet_addr(\"127.0.0.1\")}}}}, \
                 {{cmsg_len=20, cmsg_level=SOL_IP, cmsg_type=IP_TTL, cmsg_data=[64]}}, \
                 {{cmsg_len=17, cmsg_level=SOL_IP, cmsg_type=IP_TOS, cmsg_data=[0x10]}}, \
                 {{cmsg_len=17, cmsg_level=SOL_IP, cmsg_type=0x63 /* IP_??? */}}, \
                 {{cmsg_len=17, cmsg_level=SOL_SOCKET, cmsg_type=SO_TIMESTAMP_OLD, cmsg_data=???}}, \
                 {{cmsg_len=17, cmsg_level=SOL_SOCKET, cmsg_type=0x63 /* SCM_??? */}}, \
                 {{cmsg_len=20, cmsg_level=SOL_IPV6, cmsg_type=0x32}}]"
            )
        );
    }
}
