//! Events as columns: one contiguous array per field, built in Rust so that
//! Python (memoryview, numpy, Arrow) can analyse a batch without creating an
//! object per event.
use std::borrow::Cow;

use crate::kernel::layout::{MAX_ARGS, TASK_COMM_LEN};
use crate::kernel::Event;
use crate::strace::call::{Call, Captured};

#[derive(Default, Debug, PartialEq, Eq)]
pub struct Columns {
    pub timestamp_ns: Vec<u64>,
    pub pid: Vec<u32>,
    pub tid: Vec<u32>,
    pub cpu: Vec<u16>,
    pub nr: Vec<u32>,
    /// 1 enter, 2 exit (bpf/systrace.h's systrace_phase).
    pub phase: Vec<u8>,
    /// The return value on exit, 0 on enter.
    pub ret: Vec<i64>,
    pub nb_args: Vec<u8>,
    /// args[i][row]: argument i of each event, 0 where absent.
    pub args: [Vec<u64>; MAX_ARGS],
    /// TASK_COMM_LEN bytes per event, NUL-padded.
    pub comm: Vec<u8>,
}

fn bytes_of<T: Copy>(values: &[T]) -> &[u8] {
    // SAFETY: plain integers, viewed as their bytes.
    unsafe { std::slice::from_raw_parts(values.as_ptr().cast(), std::mem::size_of_val(values)) }
}

/// The names of the argument columns.
pub const ARG_COLUMNS: [&str; MAX_ARGS] = ["arg0", "arg1", "arg2", "arg3", "arg4", "arg5"];

impl Columns {
    /// Every column as (name, Python struct format, bytes): "Q" u64, "q"
    /// i64, "I" u32, "H" u16, "B" u8, "16s" the comm (TASK_COMM_LEN bytes).
    pub fn buffers(&self) -> Vec<(&'static str, &'static str, &[u8])> {
        const COMM: &str = const_format_comm();
        let mut out = vec![
            ("timestamp_ns", "Q", bytes_of(&self.timestamp_ns)),
            ("pid", "I", bytes_of(&self.pid)),
            ("tid", "I", bytes_of(&self.tid)),
            ("cpu", "H", bytes_of(&self.cpu)),
            ("nr", "I", bytes_of(&self.nr)),
            ("phase", "B", &self.phase[..]),
            ("ret", "q", bytes_of(&self.ret)),
            ("nb_args", "B", &self.nb_args[..]),
        ];
        for (name, column) in ARG_COLUMNS.iter().zip(&self.args) {
            out.push((name, "Q", bytes_of(column)));
        }
        out.push(("comm", COMM, &self.comm[..]));
        out
    }

    pub fn from_events(events: &[Event]) -> Columns {
        let n = events.len();
        let mut c = Columns {
            timestamp_ns: Vec::with_capacity(n),
            pid: Vec::with_capacity(n),
            tid: Vec::with_capacity(n),
            cpu: Vec::with_capacity(n),
            nr: Vec::with_capacity(n),
            phase: Vec::with_capacity(n),
            ret: Vec::with_capacity(n),
            nb_args: Vec::with_capacity(n),
            args: std::array::from_fn(|_| Vec::with_capacity(n)),
            comm: Vec::with_capacity(n * TASK_COMM_LEN),
        };
        for ev in events {
            c.timestamp_ns.push(ev.timestamp_ns);
            c.pid.push(ev.pid);
            c.tid.push(ev.tid);
            c.cpu.push(ev.cpu);
            c.nr.push(ev.nr);
            c.phase.push(ev.raw_phase());
            c.ret.push(ev.ret);
            c.nb_args.push(ev.nb_args);
            for (i, column) in c.args.iter_mut().enumerate() {
                column.push(ev.args[i]);
            }
            c.comm.extend_from_slice(&ev.comm);
        }
        c
    }
}

/// A nullable column: values, and an Arrow validity bitmap (bit i set:
/// row i is not null).
#[derive(Debug, Default)]
pub struct Nullable<T> {
    pub values: Vec<T>,
    pub validity: Vec<u8>,
    pub nulls: usize,
}

impl<T: Copy + Default> Nullable<T> {
    fn push(&mut self, value: Option<T>) {
        let row = self.values.len();
        if row.is_multiple_of(8) {
            self.validity.push(0);
        }
        match value {
            Some(v) => {
                self.validity[row / 8] |= 1 << (row % 8);
                self.values.push(v);
            }
            None => {
                self.nulls += 1;
                self.values.push(T::default());
            }
        }
    }

    fn validity(&self) -> Option<&[u8]> {
        (self.nulls > 0).then_some(&self.validity[..])
    }
}

/// (name, struct format, bytes, validity bitmap) of one column.
pub type NullableBuffer<'c> = (&'static str, &'static str, &'c [u8], Option<&'c [u8]>);

/// Calls as columns (`calls_to_arrow()`): one row per call.
#[derive(Debug, Default)]
pub struct CallColumns<'a> {
    pub timestamp_ns: Vec<u64>,
    pub end_ns: Nullable<u64>,
    pub duration_ns: Nullable<u64>,
    pub pid: Vec<u32>,
    pub tid: Vec<u32>,
    pub nr: Vec<u32>,
    pub ret: Nullable<i64>,
    pub errno: Nullable<i32>,
    pub unfinished: Vec<u8>,
    pub resumed: Vec<u8>,
    pub args: [Nullable<u64>; MAX_ARGS],
    pub comm: Vec<u8>,
    /// Argument name -> the captured value of each row, for the arguments
    /// that any call captured.
    pub captured: Vec<(Cow<'static, str>, Vec<Option<Captured<'a>>>)>,
}

impl<'a> CallColumns<'a> {
    pub fn from_calls(calls: &[&'a Call]) -> Self {
        let mut c = CallColumns::default();
        for (row, call) in calls.iter().enumerate() {
            let first = call.first();
            c.timestamp_ns.push(call.start_ns());
            c.end_ns.push(call.end_ns());
            c.duration_ns.push(call.duration_ns());
            c.pid.push(first.pid);
            c.tid.push(first.tid);
            c.nr.push(first.nr);
            c.ret.push(call.ret());
            c.errno.push(call.errno());
            c.unfinished.push(u8::from(call.is_unfinished()));
            c.resumed.push(u8::from(call.is_resumed()));
            let raw = call.raw_args();
            for (i, column) in c.args.iter_mut().enumerate() {
                column.push(raw.get(i).copied());
            }
            c.comm.extend_from_slice(&first.comm);
            if first.data.is_none() && call.exit.as_ref().is_none_or(|e| e.data.is_none()) {
                continue;
            }
            for (name, value) in call.captures().values {
                let slot = match c.captured.iter_mut().position(|(n, _)| *n == name) {
                    Some(i) => &mut c.captured[i].1,
                    None => {
                        c.captured.push((name, Vec::new()));
                        &mut c.captured.last_mut().expect("pushed above").1
                    }
                };
                slot.resize(row, None);
                slot.push(Some(value));
            }
        }
        for (_, values) in &mut c.captured {
            values.resize(calls.len(), None);
        }
        c
    }

    /// Every column as (name, struct format, bytes, validity bitmap).
    pub fn buffers(&self) -> Vec<NullableBuffer<'_>> {
        let mut out = vec![
            ("timestamp_ns", "Q", bytes_of(&self.timestamp_ns), None),
            (
                "end_ns",
                "Q",
                bytes_of(&self.end_ns.values),
                self.end_ns.validity(),
            ),
            (
                "duration_ns",
                "Q",
                bytes_of(&self.duration_ns.values),
                self.duration_ns.validity(),
            ),
            ("pid", "I", bytes_of(&self.pid), None),
            ("tid", "I", bytes_of(&self.tid), None),
            ("nr", "I", bytes_of(&self.nr), None),
            ("ret", "q", bytes_of(&self.ret.values), self.ret.validity()),
            (
                "errno",
                "i",
                bytes_of(&self.errno.values),
                self.errno.validity(),
            ),
            ("unfinished", "B", &self.unfinished[..], None),
            ("resumed", "B", &self.resumed[..], None),
        ];
        for (name, column) in ARG_COLUMNS.iter().zip(&self.args) {
            out.push((name, "Q", bytes_of(&column.values), column.validity()));
        }
        out.push(("comm", const_format_comm(), &self.comm[..], None));
        out
    }
}

/// "16s": the struct format of TASK_COMM_LEN bytes.
const fn const_format_comm() -> &'static str {
    match TASK_COMM_LEN {
        16 => "16s",
        _ => panic!("TASK_COMM_LEN changed: update the comm column's format"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::decode::decode;
    use crate::kernel::decode::tests::{enter_record, exit_record};
    use crate::kernel::layout::{PHASE_ENTER, PHASE_EXIT};

    #[test]
    fn one_row_per_event() {
        let evs = [
            decode(&enter_record(0, &[3, 4, 5], 10, 11)).unwrap(),
            decode(&exit_record(0, -2, 10, 11)).unwrap(),
        ];
        let c = Columns::from_events(&evs);
        assert_eq!(c.phase, vec![PHASE_ENTER, PHASE_EXIT]);
        assert_eq!(c.ret, vec![0, -2]);
        assert_eq!(c.args[2], vec![5, 0]);
        assert_eq!(c.tid, vec![11, 11]);
        assert_eq!(c.comm.len(), 2 * TASK_COMM_LEN);
        assert_eq!(&c.comm[..4], b"test");
    }
}
