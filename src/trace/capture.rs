//! Which user memory each syscall's records carry: the strings of path and
//! name arguments, the data of write-like calls at enter, the data of
//! read-like calls at exit, and execve's argv. The BPF side follows this
//! table (bpf/systrace.h, systrace_capture_spec); `decode` reads the items.
use std::collections::BTreeSet;

use crate::kernel::layout::{systrace_capture_kind, systrace_capture_spec, MAX_ARGS, NR_SYSCALLS};
use crate::metadata::{MetadataTable, SyscallMetadata};

/// Bytes captured of each string or buffer unless the user says: strace's
/// default -s (the one definition; the command and `Call.strace()` use it).
pub const DEFAULT_STRING_SIZE: u32 = 32;

const NONE: u8 = systrace_capture_kind::SYSTRACE_CAPTURE_NONE.0 as u8;
const STRING: u8 = systrace_capture_kind::SYSTRACE_CAPTURE_STRING.0 as u8;
const BUFFER: u8 = systrace_capture_kind::SYSTRACE_CAPTURE_BUFFER.0 as u8;
const ARGV: u8 = systrace_capture_kind::SYSTRACE_CAPTURE_ARGV.0 as u8;
const EXIT_BUFFER: u8 = systrace_capture_kind::SYSTRACE_CAPTURE_EXIT_BUFFER.0 as u8;
const STRING_NO_RETRY: u8 = systrace_capture_kind::SYSTRACE_CAPTURE_STRING_NO_RETRY.0 as u8;

/// (syscall, arg, kind, length arg) where a C type alone cannot tell.
const SPECIAL: &[(&str, &str, u8, &str)] = &[
    ("write", "buf", BUFFER, "count"),
    ("pwrite64", "buf", BUFFER, "count"),
    ("sendto", "buff", BUFFER, "len"),
    // struct sockaddr: addrlen bytes (strace::sockaddr decodes them).
    ("connect", "uservaddr", BUFFER, "addrlen"),
    ("bind", "umyaddr", BUFFER, "addrlen"),
    ("sendto", "addr", BUFFER, "addr_len"),
    ("mq_timedsend", "u_msg_ptr", BUFFER, "msg_len"),
    ("read", "buf", EXIT_BUFFER, ""),
    ("pread64", "buf", EXIT_BUFFER, ""),
    ("recvfrom", "ubuf", EXIT_BUFFER, ""),
    ("readlink", "buf", EXIT_BUFFER, ""),
    ("readlinkat", "buf", EXIT_BUFFER, ""),
    ("getcwd", "buf", EXIT_BUFFER, ""),
    // After a successful execve the old address space is gone: never re-read.
    ("execve", "filename", STRING_NO_RETRY, ""),
    ("execve", "argv", ARGV, ""),
    ("execveat", "filename", STRING_NO_RETRY, ""),
    ("execveat", "argv", ARGV, ""),
];

/// What to capture of `meta`'s arguments, or None when nothing.
pub fn spec_for(meta: &SyscallMetadata) -> Option<systrace_capture_spec> {
    let mut spec = systrace_capture_spec::default();
    let name = meta.short_name();
    for (i, (arg, ty)) in meta.args.iter().zip(&meta.types).enumerate().take(MAX_ARGS) {
        let special = SPECIAL.iter().find(|(s, a, _, _)| *s == name && a == arg);
        spec.kind[i] = match special {
            Some(&(_, _, kind, len_arg)) => {
                if kind == BUFFER {
                    let Some(len) = meta.args.iter().position(|a| a == len_arg) else {
                        continue;
                    };
                    spec.len_arg[i] = len as u8;
                }
                kind
            }
            // Input strings: paths, names, keys. Output buffers are `char *`.
            None if ty == "const char *" => STRING,
            None => NONE,
        };
    }
    spec.kind.iter().any(|&k| k != NONE).then_some(spec)
}

/// The per-number table the BPF side reads.
pub fn spec_table(table: &MetadataTable) -> [systrace_capture_spec; NR_SYSCALLS] {
    let mut specs = [systrace_capture_spec::default(); NR_SYSCALLS];
    for meta in table.iter() {
        if let (Some(slot), Some(spec)) = (specs.get_mut(meta.syscall_nr as usize), spec_for(meta))
        {
            *slot = spec;
        }
    }
    specs
}

/// The syscalls among `nrs` that have something to capture.
pub fn capturing(table: &MetadataTable, nrs: &BTreeSet<u32>) -> BTreeSet<u32> {
    nrs.iter()
        .copied()
        .filter(|&nr| table.syscall_nr_to_meta(nr).and_then(spec_for).is_some())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(name: &str) -> Option<systrace_capture_spec> {
        spec_for(MetadataTable::embedded().by_name(name).unwrap())
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn what_is_captured() {
        let openat = spec("openat").unwrap();
        assert_eq!(openat.kind[..4], [NONE, STRING, NONE, NONE]);
        let write = spec("write").unwrap();
        assert_eq!((write.kind[1], write.len_arg[1]), (BUFFER, 2));
        assert_eq!(spec("read").unwrap().kind[1], EXIT_BUFFER);
        let execve = spec("execve").unwrap();
        assert_eq!(execve.kind[..3], [STRING_NO_RETRY, ARGV, NONE]);
        let connect = spec("connect").unwrap();
        assert_eq!((connect.kind[1], connect.len_arg[1]), (BUFFER, 2));
        let sendto = spec("sendto").unwrap();
        assert_eq!((sendto.kind[4], sendto.len_arg[4]), (BUFFER, 5));
        assert!(spec("getppid").is_none());
        assert!(spec("close").is_none());
    }
}
