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

fn iov_text(e: &Elem<'_>, failed: bool, opts: &StraceOptions) -> String {
    let base = match e.avail {
        _ if e.ptr == 0 => "NULL".to_owned(),
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

/// `[{iov_base="hello", iov_len=5}, ...]`; `more`: elements were left out;
/// `failed`: the call read nothing, its buffers print as addresses.
pub fn iovec_text(
    items: &[&[u8]],
    more: bool,
    failed: bool,
    opts: &StraceOptions,
) -> Option<String> {
    let parts: Vec<String> = items
        .iter()
        .map(|b| elem(b).map(|e| iov_text(&e, failed, opts)))
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
/// lengths recvmsg rewrote (`msg_namelen=110 => 16`).
pub fn msghdr_text(
    items: &[&[u8]],
    more: bool,
    before: Option<&[u8]>,
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
        iovec_text(m.iov, more, false, opts)?,
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
