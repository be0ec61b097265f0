//! Syscall names and numbers, the one place that says what a number is
//! called. Names come from the `syscalls` crate's per-architecture table
//! (which follows newer kernels than any metadata), and for a number it
//! lacks, from the syscall metadata; the kernel's own metadata names (e.g.
//! `newfstat` for x86_64's `fstat`) are accepted as input too.
use std::borrow::Cow;
use std::collections::BTreeSet;
use std::str::FromStr;
use std::sync::{Mutex, MutexGuard, OnceLock};

use syscalls::Sysno;

use super::{MetadataTable, SyscallMetadata};
use crate::error::{Error, Result};
use crate::kernel::layout::NR_SYSCALLS;
use crate::kernel::Phase;

/// The metadata table of this process: the running kernel's (tracefs) when
/// it can be read, else the embedded one. Loaded once.
pub fn metadata() -> &'static MetadataTable {
    if let Some(table) = TABLE.get() {
        return table;
    }
    let _building = init_lock();
    TABLE.get_or_init(MetadataTable::load)
}

static TABLE: OnceLock<MetadataTable> = OnceLock::new();
static EMBEDDED: OnceLock<MetadataTable> = OnceLock::new();

/// Held while a table is built, and by a forking thread across fork() (see
/// `lock_for_fork`; the handlers are registered when the Python module is
/// imported): a child never inherits a table half built by a thread it
/// does not have.
static INIT: Mutex<()> = Mutex::new(());

fn init_lock() -> MutexGuard<'static, ()> {
    INIT.lock().unwrap_or_else(|e| e.into_inner())
}

/// Waits for any table being built, and holds off new ones until dropped:
/// for the fork handlers.
pub fn lock_for_fork() -> MutexGuard<'static, ()> {
    init_lock()
}

/// The running kernel's table if it was read already, else the embedded
/// one: what the hot path of the first enable() uses, since reading
/// hundreds of tracefs files would cost it tens of milliseconds.
pub fn metadata_now() -> (&'static MetadataTable, bool) {
    if let Some(table) = TABLE.get() {
        return (table, true);
    }
    if let Some(table) = EMBEDDED.get() {
        return (table, false);
    }
    let _building = init_lock();
    (EMBEDDED.get_or_init(MetadataTable::embedded), false)
}

/// The name of syscall `nr` ("read"): the architecture's table's, else
/// the short name of its metadata; None for a number with neither.
pub fn syscall_name(nr: u32) -> Option<&'static str> {
    Sysno::new(nr as usize).map(|s| s.name()).or_else(|| {
        metadata_now()
            .0
            .syscall_nr_to_meta(nr)
            .map(|m| m.short_name())
    })
}

/// [`syscall_name`], or strace's `syscall_0x1f4` for a number without a
/// name (one this table does not know: the kernel's ENOSYS, or a syscall
/// newer than the table).
pub fn display_name(nr: u32) -> Cow<'static, str> {
    match syscall_name(nr) {
        Some(name) => Cow::Borrowed(name),
        None => Cow::Owned(format!("{UNNAMED_PREFIX}{nr:x}")),
    }
}

/// What [`display_name`] puts before the hex number of an unnamed syscall.
pub const UNNAMED_PREFIX: &str = "syscall_0x";

/// The number of a `syscall_0x1f4` name, if it is one below NR_SYSCALLS.
fn unnamed_nr(name: &str) -> Option<u32> {
    let hex = name.strip_prefix(UNNAMED_PREFIX)?;
    let nr = u32::from_str_radix(hex, 16).ok()?;
    ((nr as usize) < NR_SYSCALLS && syscall_name(nr).is_none()).then_some(nr)
}

/// Why syscall `nr` has no metadata: the kernel defines no trace event
/// for it (`_sysctl`, `init_module`...). Such a syscall is still traced,
/// with the six raw argument registers `arg0`..`arg5`.
pub fn no_trace_event(nr: u32) -> Error {
    let whose = match metadata().source() {
        super::MetadataSource::Tracefs(_) => "the kernel has",
        super::MetadataSource::Embedded => "the embedded metadata (tracefs was not readable) has",
    };
    Error::InvalidArgument(format!(
        "{whose} no trace event for syscall {} (nr {nr}), so it has no metadata and no event \
         class; systrace traces it with its six raw arguments, arg0 to arg5",
        display_name(nr)
    ))
}

/// The name of argument `i` of a syscall: its metadata's, else the
/// kernel's generic `argN` (a number without metadata carries six).
pub fn arg_name(meta: Option<&SyscallMetadata>, i: usize) -> Cow<'_, str> {
    match meta.and_then(|m| m.args.get(i)) {
        Some(name) => Cow::Borrowed(name.as_str()),
        None => match ARG_NAMES.get(i) {
            Some(name) => Cow::Borrowed(name),
            None => Cow::Owned(format!("arg{i}")),
        },
    }
}

/// [`arg_name`] of one of a call's registers (at most seven: six, and
/// rt_sigreturn's frame), borrowed: the text path names every argument of
/// every line.
pub fn register_name(meta: Option<&'static SyscallMetadata>, i: usize) -> &'static str {
    debug_assert!(i < ARG_NAMES.len());
    match meta.and_then(|m| m.args.get(i)) {
        Some(name) => name.as_str(),
        None => ARG_NAMES[i.min(ARG_NAMES.len() - 1)],
    }
}

/// The names of arguments without metadata, borrowed: a call has at most
/// seven (six, and rt_sigreturn's frame).
const ARG_NAMES: [&str; 8] = [
    "arg0", "arg1", "arg2", "arg3", "arg4", "arg5", "arg6", "arg7",
];

/// The C type of argument `i`: its metadata's, else `unsigned long`.
pub fn arg_type(meta: Option<&SyscallMetadata>, i: usize) -> &str {
    meta.and_then(|m| m.types.get(i))
        .map_or("unsigned long", String::as_str)
}

/// Every number the programs can trace, named or not: what tracing every
/// syscall enables (strace shows a call of a number it has no name for,
/// `syscall_0x1f4(...)`; a syscall newer than this table is one).
pub fn every_number() -> BTreeSet<u32> {
    (0..NR_SYSCALLS as u32).collect()
}

/// Every syscall number of this architecture that has a name.
pub fn all_syscalls() -> BTreeSet<u32> {
    Sysno::iter()
        .map(|s| s.id() as u32)
        .filter(|&nr| (nr as usize) < NR_SYSCALLS)
        .collect()
}

/// "read", "sys_read", "sys_enter_read" or the kernel's "newfstat" -> number.
pub fn resolve(name: &str) -> Result<u32> {
    resolve_event(name).map(|(nr, _)| nr)
}

/// A name and the phases it stands for: a syscall ("read", "sys_read",
/// the kernel's "newfstat") is both phases (None); an event name
/// ("sys_enter_read", "sys_exit_read") is that event's phase only. Syscall
/// names win: "sys_exit_group" is exit_group, not the exit of a "group".
pub fn resolve_event(name: &str) -> Result<(u32, Option<Phase>)> {
    let bare = name.trim();
    let event = || {
        [("sys_enter_", Phase::Enter), ("sys_exit_", Phase::Exit)]
            .into_iter()
            .find_map(|(prefix, phase)| Some((lookup(bare.strip_prefix(prefix)?)?, Some(phase))))
    };
    lookup(bare)
        .map(|nr| (nr, None))
        .or_else(event)
        .ok_or_else(|| {
            let short = bare.strip_prefix("sys_").unwrap_or(bare);
            Error::UnknownSyscall {
                name: shown(name),
                suggestions: suggest(short),
            }
        })
}

/// The number of a syscall name ("read", "sys_read", "newfstat"), not of
/// an event name.
fn lookup(bare: &str) -> Option<u32> {
    let short = bare.strip_prefix("sys_").unwrap_or(bare);
    Sysno::from_str(bare)
        .or_else(|_| Sysno::from_str(short))
        .map(|s| s.id() as u32)
        .ok()
        .or_else(|| {
            metadata()
                .by_name(short)
                .filter(|m| m.short_name() == short)
                .map(|m| m.syscall_nr)
        })
        .or_else(|| unnamed_nr(short))
        .filter(|&nr| (nr as usize) < NR_SYSCALLS)
}

/// No syscall name is longer than this: a longer input is not worth
/// suggestions, nor echoing whole.
const LONGEST_NAME: usize = 64;

/// `name` as an error message shows it: cut to LONGEST_NAME characters.
fn shown(name: &str) -> String {
    match name.char_indices().nth(LONGEST_NAME) {
        Some((cut, _)) => format!("{}... ({} bytes)", &name[..cut], name.len()),
        None => name.to_owned(),
    }
}

/// A number given by the user: it must be a syscall of this architecture.
pub fn check_nr(nr: i64) -> Result<u32> {
    match u32::try_from(nr) {
        Ok(n) if (n as usize) < NR_SYSCALLS && syscall_name(n).is_some() => Ok(n),
        _ => Err(Error::UnknownSyscall {
            name: nr.to_string(),
            suggestions: Vec::new(),
        }),
    }
}

fn suggest(name: &str) -> Vec<String> {
    if name.len() > LONGEST_NAME {
        return Vec::new();
    }
    let mut scored: Vec<(f64, &str)> = Sysno::iter()
        .map(|s| s.name())
        .map(|candidate| (strsim::jaro_winkler(name, candidate), candidate))
        .filter(|(score, _)| *score > 0.85)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    scored
        .into_iter()
        .take(3)
        .map(|(_, n)| n.to_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn x86_64_numbers() {
        assert_eq!(resolve("read").unwrap(), 0);
        assert_eq!(resolve("sys_write").unwrap(), 1);
        assert_eq!(resolve("openat").unwrap(), 257);
        assert_eq!(syscall_name(39), Some("getpid"));
        assert!(all_syscalls().contains(&0));
        assert_eq!(resolve_event("read").unwrap(), (0, None));
        assert_eq!(
            resolve_event("sys_enter_read").unwrap(),
            (0, Some(Phase::Enter))
        );
        assert_eq!(
            resolve_event("sys_exit_write").unwrap(),
            (1, Some(Phase::Exit))
        );
        // Syscall names first: these are exit_group and exit themselves.
        assert_eq!(resolve_event("sys_exit_group").unwrap(), (231, None));
        assert_eq!(resolve_event("sys_exit").unwrap(), (60, None));
        assert_eq!(
            resolve_event("sys_exit_exit_group").unwrap(),
            (231, Some(Phase::Exit))
        );
        assert_eq!(
            resolve_event("sys_enter_exit").unwrap(),
            (60, Some(Phase::Enter))
        );
        assert!(resolve_event("sys_enter_raed").is_err());
        assert!(resolve_event("sys_enter_").is_err());
    }

    #[test]
    fn unknown_names_get_suggestions() {
        match resolve("raed") {
            Err(Error::UnknownSyscall { suggestions, .. }) => {
                assert!(suggestions.contains(&"read".to_owned()))
            }
            other => panic!("expected UnknownSyscall, got {other:?}"),
        }
        assert!(check_nr(-1).is_err());
        let long = "x".repeat(1 << 20);
        match resolve(&long) {
            Err(err) => assert!(err.to_string().len() < 200, "echoes the whole name"),
            Ok(_) => panic!("a megabyte of x is no syscall"),
        }
        assert!(check_nr(100_000).is_err());
    }
}
