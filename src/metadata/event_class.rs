//! The syscall trace event classes (`event_class_syscall_enter` / `_exit` in
//! kernel/trace/trace_syscalls.c): their fields and the tracefs `format` file
//! text, reproduced byte for byte.
//!
//! Offsets and sizes come from [`crate::kernel::layout`], the single
//! definition of the record layout shared with the BPF side.

use std::fmt::Write as _;

use super::SyscallMetadata;
use crate::kernel::layout;
pub use crate::kernel::Phase;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    /// C type as tracefs prints it, e.g. `"const char *"`.
    pub type_name: String,
    pub name: String,
    pub offset: usize,
    pub size: usize,
    pub is_signed: bool,
}

impl Field {
    fn new(type_name: &str, name: &str, offset: usize, size: usize, is_signed: bool) -> Self {
        Field {
            type_name: type_name.to_owned(),
            name: name.to_owned(),
            offset,
            size,
            is_signed,
        }
    }
}

/// `struct trace_entry`, the header of every event (trace_define_common_fields()).
/// Signedness is the kernel's `is_signed_type()` of each C type.
pub fn common_fields() -> Vec<Field> {
    use layout::*;
    vec![
        Field::new(
            "unsigned short",
            "common_type",
            COMMON_TYPE_OFFSET,
            COMMON_TYPE_SIZE,
            false,
        ),
        Field::new(
            "unsigned char",
            "common_flags",
            COMMON_FLAGS_OFFSET,
            COMMON_FLAGS_SIZE,
            false,
        ),
        Field::new(
            "unsigned char",
            "common_preempt_count",
            COMMON_PREEMPT_COUNT_OFFSET,
            COMMON_PREEMPT_COUNT_SIZE,
            false,
        ),
        Field::new(
            "int",
            "common_pid",
            COMMON_PID_OFFSET,
            COMMON_PID_SIZE,
            true,
        ),
    ]
}

/// syscall_enter_define_fields() / syscall_exit_define_fields().
///
/// Signedness rule (as the running kernel shows it): `__syscall_nr` is
/// `SYSCALL_FIELD(int, nr)` -> `is_signed_type(int)` = 1; `ret` is
/// `SYSCALL_FIELD(long, ret)` -> 1; every enter argument is defined with a
/// literal `is_signed = 0` whatever its C type (e.g. `field:int dfd; ...
/// signed:0;`), each in an `unsigned long` slot.
pub fn define_fields(meta: &SyscallMetadata, phase: Phase) -> Vec<Field> {
    let mut fields = vec![Field::new(
        "int",
        "__syscall_nr",
        layout::NR_OFFSET,
        layout::NR_SIZE,
        true,
    )];
    match phase {
        Phase::Enter => {
            // A malformed meta (types shorter than args) degrades to fewer
            // fields rather than panicking.
            for (i, (ty, name)) in meta.types.iter().zip(&meta.args).enumerate() {
                fields.push(Field::new(
                    ty,
                    name,
                    layout::ENTER_ARGS_OFFSET + i * layout::ARG_SIZE,
                    layout::ARG_SIZE,
                    false,
                ));
            }
        }
        Phase::Exit => fields.push(Field::new(
            "long",
            "ret",
            layout::EXIT_RET_OFFSET,
            layout::RET_SIZE,
            true,
        )),
    }
    fields
}

/// set_syscall_print_fmt(): enter prints every argument as
/// `name: 0x%0<sizeof(unsigned long)>lx`; exit prints `ret`.
pub fn print_fmt(meta: &SyscallMetadata, phase: Phase) -> String {
    match phase {
        Phase::Exit => "\"0x%lx\", REC->ret".to_owned(),
        Phase::Enter => {
            let args = &meta.args[..meta.args.len().min(meta.types.len())];
            let mut s = String::from("\"");
            for (i, arg) in args.iter().enumerate() {
                let sep = if i + 1 == args.len() { "" } else { ", " };
                let _ = write!(s, "{arg}: 0x%0{}lx{sep}", layout::ARG_SIZE);
            }
            s.push('"');
            for arg in args {
                let _ = write!(s, ", ((unsigned long)(REC->{arg}))");
            }
            s
        }
    }
}

/// `"sys_enter_read"` / `"sys_exit_read"`.
pub fn event_name(meta: &SyscallMetadata, phase: Phase) -> String {
    let prefix = match phase {
        Phase::Enter => "sys_enter_",
        Phase::Exit => "sys_exit_",
    };
    format!("{prefix}{}", meta.short_name())
}

/// The text of `events/syscalls/<event_name>/format`.
///
/// The ID is `id`, else the meta's `enter_id`/`exit_id`; with neither (an
/// embedded table, no tracefs) we write `ID: 0`: the kernel never assigns 0
/// to an event, so it cannot be confused with a real one, and the text keeps
/// the shape every format parser expects.
pub fn format(meta: &SyscallMetadata, phase: Phase, id: Option<u32>) -> String {
    let id = id.or(meta.event_id(phase)).unwrap_or(0);
    let mut s = format!("name: {}\nID: {id}\nformat:\n", event_name(meta, phase));
    write_fields(&mut s, &common_fields());
    s.push('\n');
    write_fields(&mut s, &define_fields(meta, phase));
    let _ = write!(s, "\nprint fmt: {}\n", print_fmt(meta, phase));
    s
}

fn write_fields(s: &mut String, fields: &[Field]) {
    for f in fields {
        let _ = writeln!(
            s,
            "\tfield:{} {};\toffset:{};\tsize:{};\tsigned:{};",
            f.type_name,
            f.name,
            f.offset,
            f.size,
            u8::from(f.is_signed)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(name: &str, types: &[&str], args: &[&str], ids: (u32, u32)) -> SyscallMetadata {
        SyscallMetadata {
            name: name.to_owned(),
            syscall_nr: 0,
            types: types.iter().map(|s| s.to_string()).collect(),
            args: args.iter().map(|s| s.to_string()).collect(),
            enter_id: Some(ids.0),
            exit_id: Some(ids.1),
        }
    }

    fn read() -> SyscallMetadata {
        meta(
            "sys_read",
            &["unsigned int", "char *", "size_t"],
            &["fd", "buf", "count"],
            (842, 841),
        )
    }

    // Copied from Linux 6.18 x86_64 /sys/kernel/tracing/events/syscalls.
    const ENTER_READ: &str = "name: sys_enter_read
ID: 842
format:
\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;
\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;
\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;
\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;

\tfield:int __syscall_nr;\toffset:8;\tsize:4;\tsigned:1;
\tfield:unsigned int fd;\toffset:16;\tsize:8;\tsigned:0;
\tfield:char * buf;\toffset:24;\tsize:8;\tsigned:0;
\tfield:size_t count;\toffset:32;\tsize:8;\tsigned:0;

print fmt: \"fd: 0x%08lx, buf: 0x%08lx, count: 0x%08lx\", ((unsigned long)(REC->fd)), ((unsigned long)(REC->buf)), ((unsigned long)(REC->count))
";

    const EXIT_READ: &str = "name: sys_exit_read
ID: 841
format:
\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;
\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;
\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;
\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;

\tfield:int __syscall_nr;\toffset:8;\tsize:4;\tsigned:1;
\tfield:long ret;\toffset:16;\tsize:8;\tsigned:1;

print fmt: \"0x%lx\", REC->ret
";

    const ENTER_GETPPID: &str = "name: sys_enter_getppid
ID: 305
format:
\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;
\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;
\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;
\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;

\tfield:int __syscall_nr;\toffset:8;\tsize:4;\tsigned:1;

print fmt: \"\"
";

    #[test]
    fn enter_read() {
        assert_eq!(format(&read(), Phase::Enter, None), ENTER_READ);
    }

    #[test]
    fn exit_read() {
        assert_eq!(format(&read(), Phase::Exit, None), EXIT_READ);
    }

    #[test]
    fn enter_getppid() {
        let m = meta("sys_getppid", &[], &[], (305, 304));
        assert_eq!(format(&m, Phase::Enter, None), ENTER_GETPPID);
        assert_eq!(print_fmt(&m, Phase::Enter), "\"\"");
    }

    #[test]
    fn embedded_read_matches_tracefs_text() {
        // The embedded table alone gives the same text (IDs aside).
        let t = super::super::MetadataTable::from_embedded(super::super::x86_64::SYSCALLS);
        let m = t.by_name("read").unwrap();
        assert_eq!(format(m, Phase::Enter, Some(842)), ENTER_READ);
        assert_eq!(format(m, Phase::Exit, Some(841)), EXIT_READ);
    }

    #[test]
    fn id_choice() {
        let mut m = read();
        assert!(format(&m, Phase::Enter, Some(7)).starts_with("name: sys_enter_read\nID: 7\n"));
        m.enter_id = None;
        assert!(format(&m, Phase::Enter, None).starts_with("name: sys_enter_read\nID: 0\n"));
        assert_eq!(event_name(&m, Phase::Exit), "sys_exit_read");
    }

    #[test]
    fn malformed_meta_does_not_panic() {
        let m = meta("sys_x", &["int"], &["a", "b"], (1, 2));
        assert_eq!(define_fields(&m, Phase::Enter).len(), 2);
        assert_eq!(
            print_fmt(&m, Phase::Enter),
            "\"a: 0x%08lx\", ((unsigned long)(REC->a))"
        );
    }
}
