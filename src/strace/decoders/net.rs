//! The socket calls: families, types and protocols, option levels and
//! names (strace's net.c). Socket addresses, option values and message
//! headers are structures in the caller's memory: they print as pointers.
use super::super::{flags, sockaddr, structs};
use super::ctx::{ptr, Ctx, Decoded, RetStyle::Decimal};

/// The socket call `syscall`'s arguments; the context back if it is none.
pub(super) fn decode<'c, 'a>(syscall: &str, c: &mut Ctx<'c, 'a>) -> Option<Decoded> {
    Some(match syscall {
        "socket" | "socketpair" => {
            let domain = c.uint(0);
            c.push(flags::xval_or_unknown(
                flags::ADDRESS_FAMILIES,
                domain,
                "AF_???",
            ));
            c.push(flags::socket_type(c.uint(1)));
            if syscall == "socket" {
                c.push(flags::socket_protocol(domain, c.uint(2)));
                c.finish(Decimal, true)
            } else {
                c.push(c.t_uint(2));
                c.push_exit(c.t_out_struct(3, |b| structs::fd_pair_text(b, c.opts.array_size())));
                c.finish(Decimal, false)
            }
        }
        "setsockopt" | "getsockopt" => {
            let get = syscall == "getsockopt";
            c.push(c.t_int(0));
            let level = c.uint(1);
            c.push(flags::socket_level(level));
            c.push(flags::socket_option(level, c.uint(2), get));
            let name = c.uint(2);
            if get {
                // Both are read back when the call returns: the value, as
                // long as the length written back says (cut at the string
                // size past a structure's), and that length. No length
                // written: strace shows the address.
                let len = c.captured(4).and_then(|l| l.after);
                let written = len.and_then(structs::read::<i32>);
                c.push_exit(match written {
                    Some(n) if n <= 0 && c.ok().is_some() => c.t_ptr(3),
                    _ => c.t_out_struct(3, |b| {
                        let b = structs::written_sockaddr(b, len);
                        let n = written.map_or(b.len() as u64, |n| n as u64);
                        sockopt(c, level, name, b, n)
                    }),
                });
                c.push_exit(c.t_inout_int(4));
            } else {
                let len = c.uint(4);
                c.push(c.t_struct(3, |b| {
                    set_sockopt(c, level, name, b, len as u32 as i32)
                        .or_else(|| sockopt(c, level, name, b, len))
                }));
                c.push(c.t_int(4));
            }
            c.finish(Decimal, !get)
        }
        "connect" | "bind" => {
            c.push(c.t_int(0));
            c.push(c.t_struct(1, |b| sockaddr::text(b, c.opts.hex)));
            c.push(c.t_uint(2));
            c.finish(Decimal, true)
        }
        "listen" => {
            c.push(c.t_int(0));
            c.push(c.t_int(1));
            c.finish(Decimal, true)
        }
        "shutdown" => {
            c.push(c.t_int(0));
            c.push(c.t_xval(1, flags::SHUTDOWN_HOW, "SHUT_???"));
            c.finish(Decimal, true)
        }
        "sendto" => {
            c.push(c.t_int(0));
            c.push(c.t_sockbuf(1, c.raw(2)));
            c.push(c.t_ulong(2));
            c.push(c.t_uflags(3, flags::MSG_FLAGS));
            c.push(c.t_struct(4, |b| sockaddr::text(b, c.opts.hex)));
            c.push(c.t_uint(5));
            c.finish(Decimal, true)
        }
        "recvfrom" => {
            c.push(c.t_int(0));
            c.push_exit(match c.ok() {
                Some(n) => c.t_sockbuf(1, (n.max(0) as u64).min(c.raw(2))),
                None => c.t_ptr(1).into(),
            });
            c.push_exit(c.t_ulong(2));
            c.push_exit(c.t_uflags(3, flags::MSG_FLAGS));
            c.push_exit(out_sockaddr(c, 4, 5));
            c.push_exit(c.t_inout_int(5));
            c.finish(Decimal, false)
        }
        "accept" | "accept4" => {
            c.push(c.t_int(0));
            c.push_exit(out_sockaddr(c, 1, 2));
            c.push_exit(c.t_inout_int(2));
            if syscall == "accept4" {
                c.push_exit(c.t_uflags(3, flags::SOCK_TYPE_FLAGS));
            }
            c.finish(Decimal, false)
        }
        "getsockname" | "getpeername" => {
            c.push(c.t_int(0));
            c.push_exit(out_sockaddr(c, 1, 2));
            c.push_exit(c.t_inout_int(2));
            c.finish(Decimal, false)
        }
        "sendmsg" => {
            let (opts, netlink) = (c.opts, c.netlink(1));
            c.push(c.t_int(0));
            c.push(c.t_list(1, |items, more, _| {
                structs::msghdr_text(items, more, None, netlink, opts)
            }));
            c.push(c.t_uflags(2, flags::MSG_FLAGS));
            c.finish(Decimal, true)
        }
        "recvmsg" => {
            let (opts, netlink) = (c.opts, c.netlink(1));
            c.push(c.t_int(0));
            c.push_exit(match c.ok() {
                Some(_) => c.t_list(1, |items, more, before| {
                    structs::msghdr_text(items, more, before, netlink, opts)
                }),
                // What it was given, as strace shows it: the name's room.
                None => c.t_struct(1, |b| {
                    let namelen = structs::read::<u32>(b.get(8..)?)?;
                    Some(format!("{{msg_namelen={namelen}}}"))
                }),
            });
            c.push_exit(c.t_uflags(2, flags::MSG_FLAGS));
            c.finish(Decimal, false)
        }
        // Both are printed at their exit: the messages' msg_len are
        // written then; sendmmsg shows its vlen messages, the first ret
        // with their msg_len, recvmmsg the ret it received.
        "sendmmsg" | "recvmmsg" => {
            let opts = c.opts;
            let (vec, vlen) = (c.raw(1), c.raw(2));
            let recv = syscall == "recvmmsg";
            c.push(c.t_int(0));
            c.push_exit(match c.ok() {
                Some(0) if recv => "[]".to_owned(),
                None if recv => c.t_ptr(1),
                // A failed sendmmsg shows its messages too, none sent.
                n => c.t_list(1, |items, _, before| {
                    let sent = n.unwrap_or(0) as u64;
                    let count = if recv { sent } else { u64::from(vlen as u32) };
                    structs::mmsghdr_text(items, vec, count, sent, before, opts)
                }),
            });
            c.push_exit(c.t_uint(2));
            c.push_exit(c.t_uflags(3, flags::MSG_FLAGS));
            if recv {
                // The timeout as given; what is left of it, written back,
                // after the result.
                c.push_exit(c.t_struct(4, structs::timespec_text));
                let left = c
                    .captured(4)
                    .filter(|_| c.ok().is_some_and(|n| n > 0) && c.raw(4) != 0)
                    .and_then(|t| t.after)
                    .and_then(structs::timespec_text);
                if let Some(left) = left {
                    c.note(format!("left {left}"));
                }
                if c.ok() == Some(0) {
                    c.note("Timeout".to_owned());
                }
            }
            c.finish(Decimal, false)
        }
        _ => return None,
    })
}

/// An option's value: by its type where strace knows it, else its bytes
/// as a string.
fn sockopt(c: &Ctx<'_, '_>, level: u64, name: u64, bytes: &[u8], len: u64) -> Option<String> {
    structs::sockopt_text(level, name, bytes, len).or_else(|| {
        let shown = &bytes[..bytes.len().min(c.opts.string_size)];
        Some(super::super::quote::quote_limited(
            shown,
            shown.len(),
            len > shown.len() as u64,
            c.opts.hex,
        ))
    })
}

/// What strace's print_setsockopt decodes of a value setsockopt alone
/// takes: a multicast group (struct ip_mreq; an ip_mreqn's first two
/// fields), a BPF program (struct sock_fprog); the address when too short.
fn set_sockopt(c: &Ctx<'_, '_>, level: u64, name: u64, bytes: &[u8], len: i32) -> Option<String> {
    let inet = |b: &[u8]| {
        let a = std::net::Ipv4Addr::new(b[0], b[1], b[2], b[3]);
        sockaddr::quoted_addr(&a.to_string(), c.opts.hex)
    };
    match (level as i32, name as i32) {
        (libc::SOL_IP, libc::IP_ADD_MEMBERSHIP | libc::IP_DROP_MEMBERSHIP) => Some(match bytes {
            _ if len >= 8 && bytes.len() >= 8 => format!(
                "{{imr_multiaddr=inet_addr({}), imr_interface=inet_addr({})}}",
                inet(&bytes[..4]),
                inet(&bytes[4..8])
            ),
            _ => c.t_ptr(3),
        }),
        (libc::SOL_SOCKET, libc::SO_ATTACH_FILTER | libc::SO_ATTACH_REUSEPORT_CBPF) => {
            Some(match structs::read::<[u64; 2]>(bytes) {
                Some([n, filter]) if len == 16 => {
                    format!("{{len={}, filter={}}}", n as u16, ptr(filter))
                }
                _ => c.t_ptr(3),
            })
        }
        _ => None,
    }
}

/// An address the call writes back, as long as the length it wrote back
/// in argument `len` says.
fn out_sockaddr(c: &Ctx<'_, '_>, i: usize, len: usize) -> String {
    let after = c.captured(len).and_then(|l| l.after);
    c.t_out_struct(i, |b| {
        sockaddr::text(structs::written_sockaddr(b, after), c.opts.hex)
    })
}
