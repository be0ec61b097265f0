//! Events as columns: one contiguous array per field, built in Rust so that
//! Python (memoryview, numpy, Arrow) can analyse a batch without creating an
//! object per event.
use crate::decode::Event;
use crate::layout::{MAX_ARGS, PHASE_ENTER, PHASE_EXIT, TASK_COMM_LEN};
use crate::metadata::event_class::Phase;

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

impl Columns {
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
            c.phase.push(match ev.phase {
                Phase::Enter => PHASE_ENTER,
                Phase::Exit => PHASE_EXIT,
            });
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::decode;
    use crate::decode::tests::{enter_record, exit_record};

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
