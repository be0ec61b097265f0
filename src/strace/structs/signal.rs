//! Signal sets and the kernel's struct sigaction: `[INT TERM]`,
//! `~[RTMIN RT_1]`, `{sa_handler=SIG_DFL, sa_mask=[], sa_flags=0}`.
use serde_json::{json, Value};

use super::read;
use crate::strace::flags::{self, hex};

/// Signals a sigset can hold (the kernel's _NSIG).
const NSIG: u32 = 64;

/// The names of the signals in `mask` (bit n-1 is signal n): "SIGINT".
pub fn sigset_names(mask: u64) -> Vec<String> {
    (1..=NSIG)
        .filter(|s| mask & (1 << (s - 1)) != 0)
        .map(|s| flags::signal_name(i64::from(s)))
        .collect()
}

/// As strace prints it: names without SIG; a set with more than half the
/// signals in it as the complement of the others, `~[...]`.
pub fn sigset_text(mask: u64) -> String {
    let (prefix, shown) = if mask.count_ones() > NSIG / 2 {
        ("~[", !mask)
    } else {
        ("[", mask)
    };
    let names: Vec<String> = sigset_names(shown)
        .into_iter()
        .map(|n| n.strip_prefix("SIG").map_or(n.clone(), str::to_owned))
        .collect();
    format!("{prefix}{}]", names.join(" "))
}

/// The kernel's struct sigaction (handler, flags, restorer, mask).
#[derive(Clone, Copy)]
#[repr(C)]
struct KernelSigaction {
    handler: u64,
    flags: u64,
    restorer: u64,
    mask: u64,
}

/// SIG_ERR, (void (*)(int))-1: vim installs it for SIGTSTP, strace names it.
const SIG_ERR: u64 = u64::MAX;

fn handler_text(h: u64) -> String {
    match h {
        0 => "SIG_DFL".to_owned(),
        1 => "SIG_IGN".to_owned(),
        SIG_ERR => "SIG_ERR".to_owned(),
        _ => hex(h),
    }
}

pub fn sigaction_text(bytes: &[u8]) -> Option<String> {
    let sa: KernelSigaction = read(bytes)?;
    let mut out = format!(
        "{{sa_handler={}, sa_mask={}, sa_flags={}",
        handler_text(sa.handler),
        sigset_text(sa.mask),
        flags::flags(flags::SA_FLAGS, sa.flags)
    );
    if sa.flags & flags::SA_RESTORER != 0 {
        let restorer = match sa.restorer {
            0 => "NULL".to_owned(),
            r => hex(r),
        };
        out.push_str(&format!(", sa_restorer={restorer}"));
    }
    out.push('}');
    Some(out)
}

pub fn sigaction_value(bytes: &[u8]) -> Option<Value> {
    let sa: KernelSigaction = read(bytes)?;
    Some(json!({
        "sa_handler": match sa.handler {
            0 => json!("SIG_DFL"),
            1 => json!("SIG_IGN"),
            SIG_ERR => json!("SIG_ERR"),
            h => json!(h),
        },
        "sa_mask": sigset_names(sa.mask),
        "sa_flags": sa.flags,
        "sa_restorer": sa.restorer,
    }))
}

/// The bytes of a sigset to the kernel (its _NSIG / 8): pselect6 refuses
/// another size, and strace then shows the set's address.
const SIGSET_SIZE: u64 = 8;

/// pselect6's {sigset pointer, size} pair, captured as one iovec:
/// `{sigmask=[CHLD], sigsetsize=8}`.
pub fn sigmask_pair_text(items: &[&[u8]]) -> Option<String> {
    let e = super::msg::elem(items.first()?)?;
    let mask = match e.avail {
        _ if e.ptr == 0 => "NULL".to_owned(),
        Some(_) if e.len == SIGSET_SIZE => sigset_text(read::<u64>(e.data)?),
        _ => crate::strace::decoders::ptr(e.ptr),
    };
    Some(format!("{{sigmask={mask}, sigsetsize={}}}", e.len))
}

/// The same as `Call.args` gives it: the set's signal names (None where
/// strace shows an address), and the size.
pub fn sigmask_pair_value(items: &[&[u8]]) -> Option<Value> {
    let e = super::msg::elem(items.first()?)?;
    let names = match e.avail {
        Some(_) if e.ptr != 0 && e.len == SIGSET_SIZE => Some(sigset_names(read::<u64>(e.data)?)),
        _ => None,
    };
    Some(json!({"sigmask": names, "sigsetsize": e.len}))
}
