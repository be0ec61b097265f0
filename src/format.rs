//! Events as text, the way the kernel prints its syscall events
//! (print_syscall_enter/print_syscall_exit in kernel/trace/trace_syscalls.c).
use std::fmt::Write;

use crate::decode::Event;
use crate::metadata::event_class::Phase;
use crate::metadata::SyscallMetadata;
use crate::names::{metadata, syscall_name};

/// How to print.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Style {
    /// The kernel's `verbose` trace option: each arg's C type before its name.
    pub verbose: bool,
    /// Linux 3.8's output: every value as bare hex (`%lx`).
    pub legacy: bool,
}

fn push_value(out: &mut String, value: u64, style: Style) {
    // Current kernels print small values in decimal, the rest as 0x-hex.
    let _ = if style.legacy {
        write!(out, "{value:x}")
    } else if value < 10 {
        write!(out, "{value}")
    } else {
        write!(out, "{value:#x}")
    };
}

/// `sys_read(fd: 3, buf: 0x7ffd2c1a0b40, count: 0x400)` / `sys_read -> 0x1c`.
pub fn format_event(ev: &Event, style: Style) -> String {
    format_with(ev, metadata().syscall_nr_to_meta(ev.nr), style)
}

pub fn format_with(ev: &Event, meta: Option<&SyscallMetadata>, style: Style) -> String {
    let mut out = String::with_capacity(64);
    match meta {
        Some(meta) => out.push_str(&meta.name),
        // No kernel event exists for such a number; name it as the arch does.
        None => {
            out.push_str("sys_");
            out.push_str(syscall_name(ev.nr).unwrap_or("unknown"));
        }
    }
    match ev.phase {
        Phase::Enter => {
            out.push('(');
            // A record may carry more args than the metadata names (taken
            // before the kernel's own metadata was read): print the kernel's.
            let shown = meta.map_or(ev.args().len(), |m| m.nb_args().min(ev.args().len()));
            for (i, &value) in ev.args()[..shown].iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                if style.verbose {
                    if let Some(ty) = meta.and_then(|m| m.types.get(i)) {
                        out.push_str(ty);
                        out.push(' ');
                    }
                }
                match meta.and_then(|m| m.args.get(i)) {
                    Some(name) => out.push_str(name),
                    None => {
                        let _ = write!(out, "arg{i}");
                    }
                }
                out.push_str(": ");
                push_value(&mut out, value, style);
            }
            out.push(')');
        }
        Phase::Exit => {
            // The kernel prints the return value as unsigned long hex.
            let _ = if style.legacy {
                write!(out, " -> 0x{:x}", ev.ret as u64)
            } else {
                write!(out, " -> {:#x}", ev.ret as u64)
            };
        }
    }
    out
}

/// An argument's value as its C type reads it: the register truncated to
/// the type's width and sign-extended where the type is signed, so that an
/// `int dfd` of AT_FDCWD reads -100 and not 4294967196. Pointers and types
/// we do not know stay the raw unsigned register.
pub fn typed_arg(c_type: Option<&str>, raw: u64) -> i128 {
    let Some(ty) = c_type else { return raw as i128 };
    if ty.contains('*') {
        return raw as i128;
    }
    let ty = ty.trim_start_matches("const ").trim();
    match ty {
        "int" | "pid_t" | "clockid_t" | "timer_t" | "key_serial_t" | "mqd_t" | "rwf_t"
        | "key_t" | "__s32" | "s32" => raw as u32 as i32 as i128,
        "unsigned int" | "unsigned" | "uid_t" | "gid_t" | "old_uid_t" | "old_gid_t" | "qid_t"
        | "u32" | "__u32" | "mode_t" => raw as u32 as i128,
        "umode_t" | "unsigned short" | "u16" | "__u16" => raw as u16 as i128,
        "short" => raw as u16 as i16 as i128,
        "long"
        | "loff_t"
        | "off_t"
        | "ssize_t"
        | "time_t"
        | "__kernel_old_time_t"
        | "s64"
        | "__s64"
        | "long long"
        | "__kernel_off_t" => raw as i64 as i128,
        _ => raw as i128,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{
        decode,
        tests::{enter_record, exit_record},
    };

    fn read_meta() -> SyscallMetadata {
        SyscallMetadata {
            name: "sys_read".into(),
            syscall_nr: 0,
            types: vec!["unsigned int".into(), "char *".into(), "size_t".into()],
            args: vec!["fd".into(), "buf".into(), "count".into()],
            enter_id: None,
            exit_id: None,
        }
    }

    #[test]
    fn kernel_value_rules() {
        let ev = decode(&enter_record(0, &[3, 0x7ffd2c1a0b40, 0x400], 1, 1)).unwrap();
        let meta = read_meta();
        assert_eq!(
            format_with(&ev, Some(&meta), Style::default()),
            "sys_read(fd: 3, buf: 0x7ffd2c1a0b40, count: 0x400)"
        );
        assert_eq!(
            format_with(
                &ev,
                Some(&meta),
                Style {
                    verbose: true,
                    legacy: false
                }
            ),
            "sys_read(unsigned int fd: 3, char * buf: 0x7ffd2c1a0b40, size_t count: 0x400)"
        );
        assert_eq!(
            format_with(
                &ev,
                Some(&meta),
                Style {
                    verbose: false,
                    legacy: true
                }
            ),
            "sys_read(fd: 3, buf: 7ffd2c1a0b40, count: 400)"
        );
        let ten = decode(&enter_record(0, &[9, 10, 0], 1, 1)).unwrap();
        assert_eq!(
            format_with(&ten, Some(&meta), Style::default()),
            "sys_read(fd: 9, buf: 0xa, count: 0)"
        );
    }

    #[test]
    fn args_read_as_their_c_type() {
        assert_eq!(typed_arg(Some("int"), (-100i64) as u64), -100);
        assert_eq!(typed_arg(Some("unsigned int"), u64::MAX), u32::MAX as i128);
        assert_eq!(typed_arg(Some("char *"), u64::MAX), u64::MAX as i128);
        assert_eq!(typed_arg(Some("loff_t"), (-1i64) as u64), -1);
        assert_eq!(typed_arg(None, 7), 7);
    }

    #[test]
    fn exit_is_unsigned_hex() {
        let meta = read_meta();
        let ok = decode(&exit_record(0, 0x1c, 1, 1)).unwrap();
        assert_eq!(
            format_with(&ok, Some(&meta), Style::default()),
            "sys_read -> 0x1c"
        );
        let err = decode(&exit_record(0, -9, 1, 1)).unwrap();
        assert_eq!(
            format_with(&err, Some(&meta), Style::default()),
            "sys_read -> 0xfffffffffffffff7"
        );
        let zero = decode(&exit_record(0, 0, 1, 1)).unwrap();
        assert_eq!(
            format_with(&zero, Some(&meta), Style::default()),
            "sys_read -> 0x0"
        );
    }
}
