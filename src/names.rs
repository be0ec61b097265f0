//! Syscall names and numbers. Numbers and names come from the `syscalls`
//! crate's per-architecture tables; the kernel's own metadata names (e.g.
//! `newfstat` for x86_64's `fstat`) are accepted too.
use std::collections::BTreeSet;
use std::str::FromStr;
use std::sync::OnceLock;

use syscalls::Sysno;

use crate::error::{Error, Result};
use crate::layout::NR_SYSCALLS;
use crate::metadata::MetadataTable;

/// The metadata table of this process: the running kernel's (tracefs) when
/// it can be read, else the embedded one. Loaded once.
pub fn metadata() -> &'static MetadataTable {
    TABLE.get_or_init(MetadataTable::load)
}

static TABLE: OnceLock<MetadataTable> = OnceLock::new();
static LOADING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// A background thread is about to load the table.
pub fn start_loading() {
    LOADING.store(true, std::sync::atomic::Ordering::SeqCst);
}

pub fn done_loading() {
    LOADING.store(false, std::sync::atomic::Ordering::SeqCst);
}

/// Waits for a background load to finish: a fork during it would leave the
/// child a table that is being initialised by a thread it does not have.
pub fn finish_loading() {
    if LOADING.load(std::sync::atomic::Ordering::SeqCst) {
        metadata();
    }
}

/// The running kernel's table if it was read already, else the embedded
/// one: what the hot path of the first enable() uses, since reading
/// hundreds of tracefs files would cost it tens of milliseconds.
pub fn metadata_now() -> (&'static MetadataTable, bool) {
    static EMBEDDED: OnceLock<MetadataTable> = OnceLock::new();
    match TABLE.get() {
        Some(table) => (table, true),
        None => (EMBEDDED.get_or_init(MetadataTable::embedded), false),
    }
}

/// The architecture's name for syscall `nr` ("read"), if it has one.
pub fn syscall_name(nr: u32) -> Option<&'static str> {
    Sysno::new(nr as usize).map(|s| s.name())
}

/// Every syscall number of this architecture that systrace can trace.
pub fn all_syscalls() -> BTreeSet<u32> {
    Sysno::iter()
        .map(|s| s.id() as u32)
        .filter(|&nr| (nr as usize) < NR_SYSCALLS)
        .collect()
}

/// "read", "sys_read", "sys_enter_read" or the kernel's "newfstat" -> number.
pub fn resolve(name: &str) -> Result<u32> {
    let bare = name.trim();
    let short = bare.strip_prefix("sys_").unwrap_or(bare);
    let nr = Sysno::from_str(bare)
        .or_else(|_| Sysno::from_str(short))
        .map(|s| s.id() as u32)
        .ok()
        .or_else(|| metadata().by_name(bare).map(|m| m.syscall_nr));
    match nr {
        Some(nr) if (nr as usize) < NR_SYSCALLS => Ok(nr),
        _ => Err(Error::UnknownSyscall {
            name: name.to_owned(),
            suggestions: suggest(short),
        }),
    }
}

/// A number given by the user: it must be a syscall of this architecture.
pub fn check_nr(nr: i64) -> Result<u32> {
    match u32::try_from(nr) {
        Ok(n)
            if (n as usize) < NR_SYSCALLS
                && (syscall_name(n).is_some() || metadata().syscall_nr_to_meta(n).is_some()) =>
        {
            Ok(n)
        }
        _ => Err(Error::UnknownSyscall {
            name: nr.to_string(),
            suggestions: Vec::new(),
        }),
    }
}

fn suggest(name: &str) -> Vec<String> {
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
        assert!(check_nr(100_000).is_err());
    }
}
