//! Memory policy calls (strace's numa.c): the modes and flags by name, the
//! node masks as strace prints them (words of the bitmap).
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

/// A node mask of `maxnode` bits (the kernel reads `maxnode - 1` of
/// them) as strace prints it: its words, `[0x00000000000001,
/// 0000000000000000]` (C's `%#016lx`), at most `limit` of them, `...` past
/// them or past what was captured (`NODEMASK` bytes).
fn nodemask_text(bytes: &[u8], maxnode: u64, limit: usize) -> Option<String> {
    let words = maxnode.saturating_sub(1).div_ceil(64);
    let shown: Vec<String> = bytes
        .chunks_exact(8)
        .take(words.min(limit as u64) as usize)
        .map(
            |w| match u64::from_ne_bytes(w.try_into().expect("8 bytes")) {
                0 => "0".repeat(16),
                w => format!("{w:#016x}"),
            },
        )
        .collect();
    let mut out = format!("[{}", shown.join(", "));
    if (shown.len() as u64) < words {
        out.push_str(if shown.is_empty() { "..." } else { ", ..." });
    }
    out.push(']');
    Some(out)
}

pub(super) fn decode<'c, 'a>(syscall: &str, c: &mut Ctx<'c, 'a>) -> Option<Decoded> {
    Some(match syscall {
        "set_mempolicy" => {
            let (maxnode, limit) = (c.raw(2), c.opts.string_size);
            c.push(mode(c.uint(0)));
            c.push(c.t_struct(1, |b| nodemask_text(b, maxnode, limit)));
            c.push(c.t_ulong(2));
            c.finish(Decimal, true)
        }
        "mbind" => {
            let (maxnode, limit) = (c.raw(4), c.opts.string_size);
            c.push(c.t_ptr(0));
            c.push(c.t_ulong(1));
            c.push(mode(c.raw(2)));
            c.push(c.t_struct(3, |b| nodemask_text(b, maxnode, limit)));
            c.push(c.t_ulong(4));
            c.push(c.t_uflags(5, flags::MBIND_FLAGS));
            c.finish(Decimal, true)
        }
        "get_mempolicy" => {
            let (maxnode, limit) = (c.raw(2), c.opts.string_size);
            // strace prints it all once the call returned, the policy as a
            // mode even when MPOL_F_NODE makes it a node number.
            c.push_exit(c.t_out_struct(0, |b| {
                let v = super::super::structs::read::<i32>(b)?;
                Some(format!("[{}]", mode(v as u32 as u64)))
            }));
            c.push_exit(c.t_out_struct(1, |b| nodemask_text(b, maxnode, limit)));
            c.push_exit(c.t_ulong(2));
            c.push_exit(c.t_ptr(3));
            c.push_exit(c.t_flags(4, flags::MPOL_GET_FLAGS));
            c.finish(Decimal, false)
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::nodemask_text;

    #[test]
    fn node_masks_print_as_strace_prints_them() {
        let mut bytes = vec![0u8; 128];
        bytes[0] = 1;
        let text = nodemask_text(&bytes, 1025, 32).unwrap();
        assert!(
            text.starts_with("[0x00000000000001, 0000000000000000, "),
            "{text}"
        );
        assert_eq!(text.matches(", ").count(), 15);
        assert_eq!(
            nodemask_text(&bytes, 1024, 32),
            nodemask_text(&bytes, 1025, 32)
        );
        assert_eq!(nodemask_text(&bytes, 65, 32).unwrap(), "[0x00000000000001]");
        assert_eq!(nodemask_text(&bytes, 1, 32).unwrap(), "[]");
        // Past what was captured.
        assert!(nodemask_text(&bytes, 4097, 32)
            .unwrap()
            .ends_with("0000000000000000, ...]"));
    }
}
