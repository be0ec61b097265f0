//! Event filters, as the kernel's (kernel/trace/trace_events_filter.c) but
//! with the semantics of calls: a filter on arguments is decided at a
//! call's enter and drops its exit with it; a filter naming `ret` is decided
//! at the exit, and the call's enter is delivered with it.
//!
//! A filter is parsed once ([`parse`]), then compiled per syscall against
//! its `define_fields()` into a postfix program ([`CallFilter`]) that both
//! sides run: the BPF programs before anything reaches the ring buffer
//! (bpf/systrace.h, systrace_filter), and each session in user space, so
//! that sessions sharing the programs each get exactly their own calls.
//! String tests (`~` globs, `==` on captured strings) need the captured
//! bytes: the programs let every call they might pass through, and user
//! space decides.
pub mod parse;
mod program;

use std::collections::BTreeMap;
use std::sync::Arc;

pub use parse::{parse, Cmp, Expr, FilterError, Pred, Value};
pub use program::{kernel_filter, CallFilter, Field, Op, Values};

use crate::kernel::layout::{systrace_capture_kind, MAX_ARGS};
use crate::metadata::{arg_width, MetadataTable, SyscallMetadata};
use crate::trace::capture;

/// What a session asks: one filter for every syscall that has its fields,
/// or one per syscall.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FilterSpec {
    All(String),
    PerSyscall(BTreeMap<u32, String>),
}

/// How a field reads: its place in the programs and its C type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct FieldInfo {
    field: Field,
    bits: u8,
    signed: bool,
    /// A captured string (a path or a name).
    string: bool,
}

/// Why a filter does not compile for one syscall.
enum Unfit {
    /// It names a field the syscall's events do not have.
    Unknown(FilterError),
    /// It is wrong whatever the syscall.
    Invalid(FilterError),
}

/// The fields of syscall `meta`'s events, for a session that traces its
/// enter and/or exit: define_fields()' names and common_pid.
fn field(meta: Option<&SyscallMetadata>, name: &str, enter: bool, exit: bool) -> Option<FieldInfo> {
    let info = |field, bits, signed| FieldInfo {
        field,
        bits,
        signed,
        string: false,
    };
    match name {
        "__syscall_nr" => return Some(info(Field::Nr, 32, true)),
        "common_pid" => return Some(info(Field::Pid, 32, true)),
        "ret" if exit => return Some(info(Field::Ret, 64, true)),
        _ => {}
    }
    // Arguments are read at enter: a session that traces only the exit
    // has none (as the exit event's fields).
    let meta = meta.filter(|_| enter)?;
    let i = meta
        .args
        .iter()
        .position(|a| a == name)
        .filter(|&i| i < MAX_ARGS)?;
    let (bits, signed) = arg_width(meta.types.get(i).map(String::as_str));
    let string = capture::spec_for(meta).is_some_and(|spec| {
        let kind = u32::from(spec.kind[i]);
        kind == systrace_capture_kind::SYSTRACE_CAPTURE_STRING.0
            || kind == systrace_capture_kind::SYSTRACE_CAPTURE_EXEC_FILENAME.0
    });
    Some(FieldInfo {
        field: Field::Arg(i as u8),
        bits,
        signed,
        string,
    })
}

/// The literal as the field's C type reads it, or None when out of range.
fn literal(v: i128, bits: u8, signed: bool) -> Option<u64> {
    let min = -(1i128 << (bits - 1));
    let max = (1i128 << bits) - 1;
    if v < min || v > max {
        return None;
    }
    Some(program::extend(v as u64, bits, signed))
}

struct Compiler<'a> {
    text: &'a str,
    meta: Option<&'a SyscallMetadata>,
    enter: bool,
    exit: bool,
    strings: bool,
    ops: Vec<Op>,
    names_ret: bool,
}

impl Compiler<'_> {
    fn err(&self, msg: String, col: usize) -> Unfit {
        Unfit::Invalid(FilterError::new(self.text, msg, col))
    }

    /// `negated`: under an odd number of `!`, where a test the programs
    /// cannot make must read false to let every match through.
    fn expr(&mut self, e: &Expr, negated: bool) -> Result<(), Unfit> {
        match e {
            Expr::Pred(p) => self.pred(p, negated)?,
            Expr::Not(inner) => {
                self.expr(inner, !negated)?;
                self.ops.push(Op::Not);
            }
            Expr::And(a, b) | Expr::Or(a, b) => {
                self.expr(a, negated)?;
                self.expr(b, negated)?;
                self.ops.push(if matches!(e, Expr::And(..)) {
                    Op::And
                } else {
                    Op::Or
                });
            }
        }
        Ok(())
    }

    fn pred(&mut self, p: &Pred, negated: bool) -> Result<(), Unfit> {
        let Some(f) = field(self.meta, &p.field, self.enter, self.exit) else {
            let why = if p.field == "ret" && !self.exit {
                "'ret' is a field of the exit: trace the exit"
            } else {
                ""
            };
            let msg = if why.is_empty() {
                format!("unknown field '{}'", p.field)
            } else {
                why.to_string()
            };
            return Err(Unfit::Unknown(FilterError::new(
                self.text,
                msg,
                p.field_col,
            )));
        };
        self.names_ret |= f.field == Field::Ret;
        match (&p.value, f.string) {
            (Value::Str(s), true) => {
                if !matches!(p.cmp, Cmp::Eq | Cmp::Ne | Cmp::Glob) {
                    return Err(self.err(
                        format!(
                            "'{}' does not compare strings: use ==, != or ~",
                            p.cmp.text()
                        ),
                        p.field_col + p.field.len() + 1,
                    ));
                }
                if !self.strings {
                    return Err(self.err(
                        format!("'{}' is a string, captured only with strings=True", p.field),
                        p.field_col,
                    ));
                }
                let Field::Arg(arg) = f.field else {
                    unreachable!("strings are arguments")
                };
                self.ops.push(Op::Str {
                    arg,
                    cmp: p.cmp,
                    pattern: s.clone(),
                    kernel: !negated,
                });
            }
            (Value::Int(_), true) => {
                return Err(self.err(
                    format!("compares the string '{}' with a number", p.field),
                    p.value_col,
                ))
            }
            (Value::Str(_), false) => {
                return Err(self.err(
                    format!("compares the number '{}' with a string", p.field),
                    p.value_col,
                ))
            }
            (Value::Int(v), false) => {
                if p.cmp == Cmp::Glob {
                    return Err(self.err(
                        format!("'~' needs a string field; '{}' is a number", p.field),
                        p.field_col,
                    ));
                }
                let Some(value) = literal(*v, f.bits, f.signed) else {
                    return Err(self.err(
                        format!("{v} is out of the range of '{}'", p.field),
                        p.value_col,
                    ));
                };
                self.ops.push(Op::Pred {
                    field: f.field,
                    bits: f.bits,
                    signed: f.signed,
                    cmp: p.cmp,
                    value,
                });
            }
        }
        Ok(())
    }
}

/// Compiles `expr` for syscall `meta` (None: a number without metadata),
/// traced at enter and/or exit, with strings captured or not.
fn compile(
    text: &str,
    expr: &Expr,
    meta: Option<&SyscallMetadata>,
    (enter, exit): (bool, bool),
    strings: bool,
) -> Result<CallFilter, Unfit> {
    let mut c = Compiler {
        text,
        meta,
        enter,
        exit,
        strings,
        ops: Vec::new(),
        names_ret: false,
    };
    c.expr(expr, false)?;
    Ok(CallFilter {
        text: text.to_owned(),
        ops: c.ops,
        // Without the enter traced there are no arguments to decide on.
        at_exit: c.names_ret || !enter,
    })
}

/// The filters of a session that traces `enter` and `exit` syscalls: per
/// syscall number. A filter for all applies to the syscalls that have every
/// field it names (the others are not filtered); it is an error when none
/// has them. `exempt`: syscalls a filter for all leaves alone.
pub fn build(
    spec: &FilterSpec,
    enter: &std::collections::BTreeSet<u32>,
    exit: &std::collections::BTreeSet<u32>,
    table: &MetadataTable,
    strings: bool,
    exempt: &std::collections::BTreeSet<u32>,
) -> Result<BTreeMap<u32, Arc<CallFilter>>, FilterError> {
    let phases = |nr: u32| (enter.contains(&nr), exit.contains(&nr));
    let mut out = BTreeMap::new();
    match spec {
        FilterSpec::All(text) => {
            let expr = parse(text)?;
            let mut first_unknown = None;
            for &nr in enter.union(exit).filter(|nr| !exempt.contains(nr)) {
                match compile(
                    text,
                    &expr,
                    table.syscall_nr_to_meta(nr),
                    phases(nr),
                    strings,
                ) {
                    Ok(f) => {
                        out.insert(nr, Arc::new(f));
                    }
                    Err(Unfit::Invalid(e)) => return Err(e),
                    Err(Unfit::Unknown(e)) => {
                        first_unknown.get_or_insert(e);
                    }
                }
            }
            if out.is_empty() {
                return Err(first_unknown
                    .unwrap_or_else(|| FilterError::new(text, "no syscall is traced", 0)));
            }
        }
        FilterSpec::PerSyscall(map) => {
            for (&nr, text) in map {
                let expr = parse(text)?;
                if !enter.contains(&nr) && !exit.contains(&nr) {
                    return Err(FilterError::new(
                        text,
                        format!(
                            "syscall {} is not traced",
                            crate::metadata::display_name(nr)
                        ),
                        0,
                    ));
                }
                let meta = table.syscall_nr_to_meta(nr);
                match compile(text, &expr, meta, phases(nr), strings) {
                    Ok(f) => {
                        out.insert(nr, Arc::new(f));
                    }
                    Err(Unfit::Invalid(e) | Unfit::Unknown(e)) => {
                        let mut e = e;
                        e.message += &format!(" (of {})", crate::metadata::display_name(nr));
                        return Err(e);
                    }
                }
            }
        }
    }
    Ok(out)
}

/// ANDs `text` into the filter of every syscall in `filters` and of every
/// other traced syscall outside `exempt` (the command's `-z`/`-Z`, a test
/// of `ret` on top of `--filter`): one program per syscall, so the
/// programs still decide the call before the ring buffer. `text` must
/// compile for each of them.
pub fn and_every(
    filters: &mut BTreeMap<u32, Arc<CallFilter>>,
    text: &str,
    (enter, exit): (
        &std::collections::BTreeSet<u32>,
        &std::collections::BTreeSet<u32>,
    ),
    table: &MetadataTable,
    exempt: &std::collections::BTreeSet<u32>,
) -> Result<(), FilterError> {
    let expr = parse(text)?;
    for &nr in enter.union(exit).filter(|nr| !exempt.contains(nr)) {
        let phases = (enter.contains(&nr), exit.contains(&nr));
        let extra = match compile(text, &expr, table.syscall_nr_to_meta(nr), phases, false) {
            Ok(f) => f,
            Err(Unfit::Invalid(e) | Unfit::Unknown(e)) => return Err(e),
        };
        let combined = match filters.get(&nr) {
            Some(f) => CallFilter {
                text: format!("({}) && ({text})", f.text),
                ops: f
                    .ops
                    .iter()
                    .chain(&extra.ops)
                    .cloned()
                    .chain([Op::And])
                    .collect(),
                at_exit: f.at_exit || extra.at_exit,
            },
            None => extra,
        };
        filters.insert(nr, Arc::new(combined));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
