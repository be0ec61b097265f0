//! Events as text, the way the kernel prints its syscall events
//! (print_syscall_enter/print_syscall_exit in kernel/trace/trace_syscalls.c).
use std::fmt::Write;

use crate::kernel::{Event, Phase};
use crate::metadata::{arg_name, display_name, metadata, SyscallMetadata};

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
    // Task events as their tracepoints print them (what we record of them).
    if let Some(sig) = ev.siginfo() {
        let _ = write!(
            out,
            "signal_deliver: sig={} errno={} code={} sa_handler={:x}",
            sig.signo, sig.errno, sig.code, sig.handler
        );
        return out;
    }
    if let Some(end) = ev.task_exit() {
        let _ = write!(
            out,
            "sched_process_exit: comm={} pid={} exit_code={} group_dead={}",
            String::from_utf8_lossy(ev.comm_bytes()),
            ev.tid,
            end.exit_code,
            u8::from(end.group_dead)
        );
        return out;
    }
    match meta {
        Some(meta) => out.push_str(&meta.name),
        // No kernel event exists for such a number; name it as the arch
        // does, or as strace does one without a name (syscall_0x1f4).
        None => {
            out.push_str("sys_");
            out.push_str(&display_name(ev.nr));
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
                out.push_str(&arg_name(meta, i));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::decode::{
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
