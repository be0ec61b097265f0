//! Lists read through pointers: iovec arrays and their data (readv,
//! writev), msghdrs with their name, control messages and iovecs (sendmsg,
//! recvmsg). Each element is a `systrace_capture_elem` then its data.
use serde_json::{json, Value};

use super::read;
use crate::strace::call::bytes_json;
use crate::strace::decoders::ptr;
use crate::strace::quote::quote_limited;
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

const SCM_TYPES: flags::Xlat = &[
    (libc::SCM_RIGHTS as u64, "SCM_RIGHTS"),
    (libc::SCM_CREDENTIALS as u64, "SCM_CREDENTIALS"),
];

/// The control messages: `[{cmsg_len=20, cmsg_level=SOL_SOCKET,
/// cmsg_type=SCM_RIGHTS, cmsg_data=[5]}]`.
fn cmsgs_text(data: &[u8], len: u64) -> String {
    let mut parts = Vec::new();
    let mut off = 0usize;
    let end = data.len().min(len as usize);
    while off + 16 <= end {
        let (Some(clen), Some(level), Some(ty)) = (
            read::<u64>(&data[off..]),
            read::<i32>(&data[off + 8..]),
            read::<i32>(&data[off + 12..]),
        ) else {
            break;
        };
        if clen < 16 {
            break;
        }
        let body = &data[off + 16..end.min(off.saturating_add(clen as usize))];
        let mut text = format!(
            "{{cmsg_len={clen}, cmsg_level={}, cmsg_type=",
            flags::socket_level(level as u32 as u64)
        );
        if level == libc::SOL_SOCKET {
            text.push_str(&flags::xval_or_unknown(
                SCM_TYPES,
                ty as u32 as u64,
                "SCM_???",
            ));
        } else {
            text.push_str(&format!("{:#x}", ty as u32));
        }
        if level == libc::SOL_SOCKET && ty == libc::SCM_RIGHTS {
            let fds: Vec<String> = body
                .chunks_exact(4)
                .filter_map(read::<i32>)
                .map(|fd| fd.to_string())
                .collect();
            text.push_str(&format!(", cmsg_data=[{}]}}", fds.join(", ")));
        } else if level == libc::SOL_SOCKET && ty == libc::SCM_CREDENTIALS {
            let [pid, uid, gid]: [u32; 3] = read(body).unwrap_or_default();
            text.push_str(&format!(
                ", cmsg_data={{pid={pid}, uid={uid}, gid={gid}}}}}"
            ));
        } else {
            text.push('}');
        }
        parts.push(text);
        // A length past the data (or absurd) ends the walk.
        off = off.saturating_add((clen as usize).div_ceil(8).saturating_mul(8));
    }
    format!("[{}]", parts.join(", "))
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
            Some(_) => cmsgs_text(m.control.data, h.controllen),
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
