//! A compiled filter: a postfix program over a call's fields, run by
//! user space here and by the BPF programs (filter_step() in
//! bpf/systrace.bpf.c) from the encoding [`kernel_filter`] makes.
use super::Cmp;
use crate::kernel::types::{
    systrace_filter, systrace_filter_cmp, systrace_filter_code, systrace_filter_ext,
    systrace_filter_field, systrace_filter_limits, systrace_filter_mode, systrace_filter_op,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    Arg(u8),
    Ret,
    Nr,
    /// common_pid: the thread id.
    Pid,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    /// Push `field cmp value`; the field is read as a C type of `bits`
    /// bits, `signed` or not (as `value` already is).
    Pred {
        field: Field,
        bits: u8,
        signed: bool,
        cmp: Cmp,
        value: u64,
    },
    /// Push a test on a captured string (`==`, `!=`, `~`); the programs
    /// cannot make it and push `kernel` instead, the value that lets every
    /// call that might match through.
    Str {
        arg: u8,
        cmp: Cmp,
        pattern: String,
        kernel: bool,
    },
    And,
    Or,
    Not,
}

/// One syscall's filter for one session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallFilter {
    /// As the user wrote it.
    pub text: String,
    pub ops: Vec<Op>,
    /// Decided at the call's exit (it names `ret`, or the enter is not
    /// traced); otherwise at its enter.
    pub at_exit: bool,
}

/// A call's fields, as far as they are known.
pub struct Values<'a> {
    pub args: [u64; 6],
    pub ret: i64,
    pub nr: u32,
    pub tid: u32,
    /// The captured string of an argument, if captured.
    pub string: &'a dyn Fn(u8) -> Option<&'a [u8]>,
}

/// `v` read as a C type of `bits` bits, as 64 bits again.
pub(super) fn extend(v: u64, bits: u8, signed: bool) -> u64 {
    match (bits, signed) {
        (32, false) => v as u32 as u64,
        (32, true) => v as u32 as i32 as i64 as u64,
        (16, false) => v as u16 as u64,
        (16, true) => v as u16 as i16 as i64 as u64,
        (_, true) => v,
        _ => v,
    }
}

fn compare(cmp: Cmp, v: u64, value: u64, signed: bool) -> bool {
    if cmp == Cmp::Bit {
        return v & value != 0;
    }
    // Signed order is unsigned order with the sign bit flipped (so the
    // programs do it too).
    let flip = if signed { 1u64 << 63 } else { 0 };
    let (v, value) = (v ^ flip, value ^ flip);
    match cmp {
        Cmp::Eq => v == value,
        Cmp::Ne => v != value,
        Cmp::Lt => v < value,
        Cmp::Le => v <= value,
        Cmp::Gt => v > value,
        Cmp::Ge => v >= value,
        Cmp::Bit | Cmp::Glob => unreachable!("handled above / strings only"),
    }
}

/// The kernel's glob (trace_events_filter.c, regex_match_glob): `*` any
/// run, `?` one byte, `[...]` a set or range (`[!...]` its complement).
pub fn glob_match(pattern: &[u8], s: &[u8]) -> bool {
    let (mut p, mut i) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while i < s.len() {
        let step = match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, i));
                p += 1;
                continue;
            }
            Some(b'?') => Some(1),
            Some(b'[') => class(&pattern[p..], s[i]),
            Some(&c) if c == s[i] => Some(1),
            _ => None,
        };
        match step {
            Some(len) => {
                p += len;
                i += 1;
            }
            None => match star {
                Some((sp, si)) => {
                    p = sp + 1;
                    i = si + 1;
                    star = Some((sp, si + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p.min(pattern.len())..].iter().all(|&c| c == b'*')
}

/// The length of the `[...]` at the start of `pat` if it matches `c`.
fn class(pat: &[u8], c: u8) -> Option<usize> {
    let end = pat.iter().skip(2).position(|&b| b == b']')? + 2;
    let body = &pat[1..end];
    let (negate, body) = match body.first() {
        Some(b'!') | Some(b'^') => (true, &body[1..]),
        _ => (false, body),
    };
    let mut hit = false;
    let mut j = 0;
    while j < body.len() {
        if j + 2 < body.len() && body[j + 1] == b'-' {
            hit |= (body[j]..=body[j + 2]).contains(&c);
            j += 3;
        } else {
            hit |= body[j] == c;
            j += 1;
        }
    }
    (hit != negate).then_some(end + 1)
}

impl CallFilter {
    /// Whether the call passes.
    pub fn pass(&self, v: &Values<'_>) -> bool {
        let mut stack: Vec<bool> = Vec::with_capacity(8);
        for op in &self.ops {
            let r = match op {
                Op::Pred {
                    field,
                    bits,
                    signed,
                    cmp,
                    value,
                } => {
                    let raw = match field {
                        Field::Arg(i) => v.args[usize::from(*i).min(5)],
                        Field::Ret => v.ret as u64,
                        Field::Nr => u64::from(v.nr),
                        Field::Pid => u64::from(v.tid),
                    };
                    compare(*cmp, extend(raw, *bits, *signed), *value, *signed)
                }
                Op::Str {
                    arg, cmp, pattern, ..
                } => {
                    // A string that was not captured matches nothing.
                    let matched = (v.string)(*arg).map(|s| match cmp {
                        Cmp::Glob => glob_match(pattern.as_bytes(), s),
                        _ => s == pattern.as_bytes(),
                    });
                    match (cmp, matched) {
                        (Cmp::Ne, Some(m)) => !m,
                        (_, Some(m)) => m,
                        (_, None) => false,
                    }
                }
                Op::Not => {
                    let top = stack.pop().unwrap_or(false);
                    stack.push(!top);
                    continue;
                }
                Op::And | Op::Or => {
                    let b = stack.pop().unwrap_or(false);
                    let a = stack.pop().unwrap_or(false);
                    stack.push(if *op == Op::And { a && b } else { a || b });
                    continue;
                }
            };
            stack.push(r);
        }
        stack.pop().unwrap_or(true)
    }

    /// The names-ret or arg-only decision, as the programs' mode.
    fn ops_for_kernel(&self, out: &mut Vec<systrace_filter_op>) {
        for op in &self.ops {
            let code = |c: systrace_filter_code| c.0 as u8;
            out.push(match op {
                Op::Pred {
                    field,
                    bits,
                    signed,
                    cmp,
                    value,
                } => systrace_filter_op {
                    code: code(systrace_filter_code::SYSTRACE_OP_PRED),
                    field: match field {
                        Field::Arg(i) => *i,
                        Field::Ret => systrace_filter_field::SYSTRACE_FIELD_RET.0 as u8,
                        Field::Nr => systrace_filter_field::SYSTRACE_FIELD_NR.0 as u8,
                        Field::Pid => systrace_filter_field::SYSTRACE_FIELD_PID.0 as u8,
                    },
                    cmp: kernel_cmp(*cmp),
                    ext: kernel_ext(*bits, *signed),
                    value: *value,
                    ..Default::default()
                },
                Op::Str { kernel, .. } => systrace_filter_op {
                    code: code(if *kernel {
                        systrace_filter_code::SYSTRACE_OP_TRUE
                    } else {
                        systrace_filter_code::SYSTRACE_OP_FALSE
                    }),
                    ..Default::default()
                },
                Op::And => op_code(systrace_filter_code::SYSTRACE_OP_AND),
                Op::Or => op_code(systrace_filter_code::SYSTRACE_OP_OR),
                Op::Not => op_code(systrace_filter_code::SYSTRACE_OP_NOT),
            });
        }
    }
}

fn op_code(c: systrace_filter_code) -> systrace_filter_op {
    systrace_filter_op {
        code: c.0 as u8,
        ..Default::default()
    }
}

fn kernel_cmp(cmp: Cmp) -> u8 {
    use systrace_filter_cmp as C;
    (match cmp {
        Cmp::Eq => C::SYSTRACE_CMP_EQ,
        Cmp::Ne => C::SYSTRACE_CMP_NE,
        Cmp::Lt => C::SYSTRACE_CMP_LT,
        Cmp::Le => C::SYSTRACE_CMP_LE,
        Cmp::Gt => C::SYSTRACE_CMP_GT,
        Cmp::Ge => C::SYSTRACE_CMP_GE,
        Cmp::Bit | Cmp::Glob => C::SYSTRACE_CMP_BIT,
    })
    .0 as u8
}

fn kernel_ext(bits: u8, signed: bool) -> u8 {
    use systrace_filter_ext as E;
    (match (bits, signed) {
        (32, false) => E::SYSTRACE_EXT_U32,
        (32, true) => E::SYSTRACE_EXT_S32,
        (16, false) => E::SYSTRACE_EXT_U16,
        (16, true) => E::SYSTRACE_EXT_S16,
        (_, true) => E::SYSTRACE_EXT_S64,
        _ => E::SYSTRACE_EXT_U64,
    })
    .0 as u8
}

/// Ops of one syscall's program in the kernel at most.
pub const KERNEL_OPS: usize = systrace_filter_limits::SYSTRACE_FILTER_OPS.0 as usize;

/// The programs' filter for one syscall that several sessions filter: the
/// OR of theirs, decided at exit if any is. None when it does not fit (the
/// programs then let every call through, and user space filters).
pub fn kernel_filter<'a>(
    filters: impl IntoIterator<Item = &'a CallFilter>,
) -> Option<Box<systrace_filter>> {
    let mut ops = Vec::new();
    let mut at_exit = false;
    for (i, f) in filters.into_iter().enumerate() {
        f.ops_for_kernel(&mut ops);
        if i > 0 {
            ops.push(op_code(systrace_filter_code::SYSTRACE_OP_OR));
        }
        at_exit |= f.at_exit;
    }
    if ops.is_empty() || ops.len() > KERNEL_OPS {
        return None;
    }
    let mut out = Box::<systrace_filter>::default();
    out.mode = if at_exit {
        systrace_filter_mode::SYSTRACE_FILTER_AT_EXIT.0
    } else {
        systrace_filter_mode::SYSTRACE_FILTER_AT_ENTER.0
    };
    out.len = ops.len() as u32;
    out.ops[..ops.len()].copy_from_slice(&ops);
    Some(out)
}
