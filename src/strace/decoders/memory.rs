//! Memory policy calls (strace's numa.c): the modes and flags by name; the
//! node masks they read or write print as pointers.
use super::super::flags::{self, push_flags, xval};
use super::ctx::{Ctx, Decoded, RetStyle::Decimal};

/// `MPOL_BIND|MPOL_F_STATIC_NODES`: a mode with its flags (print_mode).
fn mode(value: u64) -> String {
    let flag_bits: u64 = flags::MPOL_MODE_FLAGS
        .iter()
        .map(|(v, _)| v)
        .fold(0, |a, v| a | v);
    let (mode, set) = (value & !flag_bits, value & flag_bits);
    if set == 0 {
        return flags::xval_or_unknown(flags::MPOL_MODES, mode, "MPOL_???");
    }
    match xval(flags::MPOL_MODES, mode) {
        Some(name) => {
            let mut out = format!("{name}|");
            push_flags(&mut out, flags::MPOL_MODE_FLAGS, set);
            out
        }
        None => flags::flags(flags::MPOL_MODE_FLAGS, value),
    }
}

pub(super) fn decode<'c, 'a>(syscall: &str, mut c: Ctx<'c, 'a>) -> Result<Decoded, Ctx<'c, 'a>> {
    Ok(match syscall {
        "set_mempolicy" => {
            c.push(mode(c.uint(0)));
            c.push(c.t_ptr(1));
            c.push(c.t_ulong(2));
            c.finish(Decimal, true)
        }
        "mbind" => {
            c.push(c.t_ptr(0));
            c.push(c.t_ulong(1));
            c.push(mode(c.raw(2)));
            c.push(c.t_ptr(3));
            c.push(c.t_ulong(4));
            c.push(c.t_uflags(5, flags::MBIND_FLAGS));
            c.finish(Decimal, true)
        }
        "get_mempolicy" => {
            // strace prints it all once the call returned.
            c.push_exit(c.t_ptr(0));
            c.push_exit(c.t_ptr(1));
            c.push_exit(c.t_ulong(2));
            c.push_exit(c.t_ptr(3));
            c.push_exit(c.t_flags(4, flags::MPOL_GET_FLAGS));
            c.finish(Decimal, false)
        }
        _ => return Err(c),
    })
}
