//! The events a session keeps for its user until they are taken, packed:
//! varints and deltas instead of one `Event` (about 120 bytes) each, so an
//! argument-less event costs about 10 bytes. Past the memory budget the
//! oldest packed segments go to an unlinked temporary file, up to the spill
//! budget; only past both are events dropped (and counted by the caller).
use std::collections::{HashMap, VecDeque};
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Arc;

use crate::kernel::decode::EventKind;
use crate::kernel::layout::{MAX_ARGS, TASK_COMM_LEN};
use crate::kernel::{Event, Phase};

/// Bytes of one packed segment: the unit that is spilled and read back.
const SEGMENT_BYTES: usize = 1 << 20;
/// Events handed over by one `take` at most (a segment's worth over it): a
/// large trace, spilled or not, comes back in shares, so that exporting it
/// does not unpack it all at once (an unpacked event is about 120 bytes).
const TAKE_EVENTS: usize = 1 << 16;

const EXIT: u8 = 1;
const PID_IS_TID: u8 = 2;
const ROOT_IS_PID: u8 = 4;
const HAS_DATA: u8 = 8;
const NB_ARGS_SHIFT: u8 = 4;
/// A task event (signal, thread exit): a kind byte follows, and every arg
/// and `ret` are kept whatever the phase and nb_args.
const TASK_EVENT: u8 = 0x80;

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
    (v >> 1) as i64 ^ -((v & 1) as i64)
}

/// Reads packed values; the store wrote them, so running short is a bug
/// of ours, not of the input: it yields zeros rather than panicking.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn byte(&mut self) -> u8 {
        let b = self.buf.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        b
    }

    fn varint(&mut self) -> u64 {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte();
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                break;
            }
        }
        v
    }

    fn bytes(&mut self, n: usize) -> &[u8] {
        let start = self.pos.min(self.buf.len());
        self.pos = self.pos.saturating_add(n);
        &self.buf[start..self.pos.min(self.buf.len())]
    }
}

enum Place {
    Memory(Vec<u8>),
    /// At this offset of the spill file.
    Spilled(u64, usize),
}

struct Segment {
    place: Place,
    events: usize,
}

/// Budgets of a store, in bytes.
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    pub memory: usize,
    pub spill: u64,
}

pub struct Store {
    budget: Budget,
    /// Sealed segments, oldest first.
    sealed: VecDeque<Segment>,
    /// The segment being written; its timestamps are deltas from `last_ts`.
    tail: Vec<u8>,
    tail_events: usize,
    last_ts: u64,
    /// The event being packed.
    scratch: Vec<u8>,
    events: usize,
    /// Packed bytes held in memory (sealed and tail).
    memory: usize,
    /// Packed bytes in the spill file not yet read back.
    spilled: u64,
    /// The spill file's end (segments are appended; the file is dropped
    /// whole once everything was read back).
    spill_end: u64,
    spill: Option<File>,
    /// Why spilling failed, once it did (then the memory budget is final).
    spill_error: Option<String>,
    /// Thread names, each stored once: events carry an index.
    comms: Vec<[u8; TASK_COMM_LEN]>,
    comm_index: HashMap<[u8; TASK_COMM_LEN], u64>,
    /// The last name looked up and its index: most events repeat it, and a
    /// comparison is cheaper than hashing.
    last_comm: Option<([u8; TASK_COMM_LEN], u64)>,
    /// A session without the clock: the number the next event kept gets
    /// for its timestamp (1, 2, ...), whatever time its record carries
    /// (another open session's, or the consumer's count of records
    /// without one).
    next_number: Option<u64>,
}

impl Store {
    pub fn new(budget: Budget) -> Self {
        Store {
            budget,
            sealed: VecDeque::new(),
            tail: Vec::new(),
            tail_events: 0,
            last_ts: 0,
            scratch: Vec::new(),
            events: 0,
            memory: 0,
            spilled: 0,
            spill_end: 0,
            spill: None,
            spill_error: None,
            comms: Vec::new(),
            comm_index: HashMap::new(),
            last_comm: None,
            next_number: None,
        }
    }

    /// A store whose events are numbered in the order they are kept
    /// instead of timed (a session opened with clock=False).
    pub fn numbered(budget: Budget) -> Self {
        Store {
            next_number: Some(1),
            ..Store::new(budget)
        }
    }

    pub fn len(&self) -> usize {
        self.events
    }

    pub fn is_empty(&self) -> bool {
        self.events == 0
    }

    pub fn budget(&self) -> Budget {
        self.budget
    }

    pub fn set_budget(&mut self, budget: Budget) {
        self.budget = budget;
    }

    /// Packed bytes in memory and in the spill file.
    pub fn bytes(&self) -> (usize, u64) {
        (self.memory, self.spilled)
    }

    /// Why the store could not spill, if it tried and failed.
    pub fn spill_error(&self) -> Option<&str> {
        self.spill_error.as_deref()
    }

    fn comm(&mut self, comm: &[u8; TASK_COMM_LEN]) -> u64 {
        if let Some((last, i)) = &self.last_comm {
            if last == comm {
                return *i;
            }
        }
        let i = match self.comm_index.get(comm) {
            Some(&i) => i,
            None => {
                let i = self.comms.len() as u64;
                self.comms.push(*comm);
                self.comm_index.insert(*comm, i);
                i
            }
        };
        self.last_comm = Some((*comm, i));
        i
    }

    /// Keeps `ev`; false when both budgets are spent (the caller counts it).
    pub fn push(&mut self, ev: &Event) -> bool {
        let ts = self.next_number.unwrap_or(ev.timestamp_ns);
        self.encode(ev, ts);
        if self.memory + self.scratch.len() > self.budget.memory {
            if self.tail_events > 0 {
                // Seal the tail so that it can be spilled too; the event then
                // starts a segment, against whose base (0) it is re-encoded.
                self.seal();
                self.encode(ev, ts);
            }
            if !self.make_room(self.scratch.len()) {
                return false;
            }
        }
        self.tail.extend_from_slice(&self.scratch);
        self.memory += self.scratch.len();
        self.last_ts = ts;
        if let Some(n) = self.next_number.as_mut() {
            *n += 1;
        }
        self.tail_events += 1;
        self.events += 1;
        if self.tail.len() >= SEGMENT_BYTES {
            self.seal();
        }
        true
    }

    /// Packs `ev` into `scratch`, its timestamp `ts` a delta from `last_ts`.
    fn encode(&mut self, ev: &Event, ts: u64) {
        let comm = self.comm(&ev.comm);
        let nb_args = usize::from(ev.nb_args).min(MAX_ARGS);
        let mut flags = (nb_args as u8) << NB_ARGS_SHIFT;
        flags |= if ev.phase == Phase::Exit { EXIT } else { 0 };
        flags |= if ev.pid == ev.tid { PID_IS_TID } else { 0 };
        flags |= if ev.root == ev.pid { ROOT_IS_PID } else { 0 };
        flags |= if ev.data.is_some() { HAS_DATA } else { 0 };
        let task = match ev.kind {
            EventKind::Syscall => None,
            EventKind::Signal => Some(1u8),
            EventKind::TaskExit => Some(2u8),
        };
        flags |= if task.is_some() { TASK_EVENT } else { 0 };
        let out = &mut self.scratch;
        out.clear();
        out.push(flags);
        if let Some(kind) = task {
            out.push(kind);
        }
        put_varint(out, zigzag(ts.wrapping_sub(self.last_ts) as i64));
        put_varint(out, u64::from(ev.tid));
        if ev.pid != ev.tid {
            put_varint(out, u64::from(ev.pid));
        }
        if ev.root != ev.pid {
            put_varint(out, u64::from(ev.root));
        }
        put_varint(out, u64::from(ev.nr));
        put_varint(out, u64::from(ev.cpu));
        put_varint(out, comm);
        let kept = if task.is_some() { MAX_ARGS } else { nb_args };
        for &a in &ev.args[..kept] {
            put_varint(out, a);
        }
        if ev.phase == Phase::Exit || task.is_some() {
            put_varint(out, zigzag(ev.ret));
        }
        if let Some(data) = &ev.data {
            put_varint(out, data.len() as u64);
            out.extend_from_slice(data);
        }
    }

    fn seal(&mut self) {
        if self.tail_events == 0 {
            return;
        }
        let bytes = std::mem::take(&mut self.tail);
        self.sealed.push_back(Segment {
            place: Place::Memory(bytes),
            events: std::mem::take(&mut self.tail_events),
        });
        self.last_ts = 0;
    }

    /// Spills the oldest sealed segments in memory until `need` more bytes
    /// fit the memory budget; false if they cannot.
    fn make_room(&mut self, need: usize) -> bool {
        let mut i = 0;
        while self.memory + need > self.budget.memory {
            while i < self.sealed.len() && matches!(self.sealed[i].place, Place::Spilled(..)) {
                i += 1;
            }
            if i == self.sealed.len() || !self.spill_segment(i) {
                return false;
            }
        }
        true
    }

    fn spill_segment(&mut self, i: usize) -> bool {
        let Place::Memory(bytes) = &self.sealed[i].place else {
            return false;
        };
        let len = bytes.len();
        if self.spill_error.is_some() || self.spilled + len as u64 > self.budget.spill {
            return false;
        }
        if self.spill.is_none() {
            match spill_file(&std::env::temp_dir()) {
                Ok(f) => self.spill = Some(f),
                Err(e) => {
                    self.spill_error = Some(format!("{}: {e}", std::env::temp_dir().display()));
                    return false;
                }
            }
        }
        let file = self.spill.as_ref().expect("opened above");
        if let Err(e) = file.write_all_at(bytes, self.spill_end) {
            self.spill_error = Some(format!("writing {}: {e}", std::env::temp_dir().display()));
            return false;
        }
        self.sealed[i].place = Place::Spilled(self.spill_end, len);
        self.spill_end += len as u64;
        self.spilled += len as u64;
        self.memory -= len;
        true
    }

    /// Takes the oldest events, about TAKE_EVENTS at most.
    pub fn take(&mut self) -> Vec<Event> {
        let mut out = Vec::new();
        while let Some(seg) = self.sealed.front() {
            if !out.is_empty() && out.len() + seg.events > TAKE_EVENTS {
                return out;
            }
            let seg = self.sealed.pop_front().expect("front exists");
            let bytes = match seg.place {
                Place::Memory(bytes) => {
                    self.memory -= bytes.len();
                    bytes
                }
                Place::Spilled(offset, len) => {
                    let mut bytes = vec![0; len];
                    let read = self
                        .spill
                        .as_ref()
                        .map(|f| f.read_exact_at(&mut bytes, offset));
                    self.spilled -= len as u64;
                    if !matches!(read, Some(Ok(()))) {
                        // Our own file, written by us: not expected to fail.
                        // Say so rather than return garbage.
                        self.spill_error = Some("reading back the spill file failed".into());
                        self.events -= seg.events;
                        continue;
                    }
                    bytes
                }
            };
            self.events -= seg.events;
            self.decode_into(&bytes, seg.events, &mut out);
        }
        if self.spilled == 0 && self.spill.is_some() {
            // Everything was read back: free the disk space.
            self.spill = None;
            self.spill_end = 0;
        }
        let tail = std::mem::take(&mut self.tail);
        let n = std::mem::take(&mut self.tail_events);
        self.memory -= tail.len();
        self.events -= n;
        self.decode_into(&tail, n, &mut out);
        self.last_ts = 0;
        out
    }

    fn decode_into(&self, buf: &[u8], n: usize, out: &mut Vec<Event>) {
        out.reserve(n);
        let mut r = Reader { buf, pos: 0 };
        let mut ts = 0u64;
        for _ in 0..n {
            let flags = r.byte();
            let kind = match (flags & TASK_EVENT != 0).then(|| r.byte()) {
                None => EventKind::Syscall,
                Some(1) => EventKind::Signal,
                Some(_) => EventKind::TaskExit,
            };
            let task = kind != EventKind::Syscall;
            ts = ts.wrapping_add(unzigzag(r.varint()) as u64);
            let tid = r.varint() as u32;
            let pid = if flags & PID_IS_TID != 0 {
                tid
            } else {
                r.varint() as u32
            };
            let root = if flags & ROOT_IS_PID != 0 {
                pid
            } else {
                r.varint() as u32
            };
            let nr = r.varint() as u32;
            let cpu = r.varint() as u16;
            let comm = self
                .comms
                .get(r.varint() as usize)
                .copied()
                .unwrap_or_default();
            let nb_args = ((flags >> NB_ARGS_SHIFT) & 7) as usize;
            let mut args = [0u64; MAX_ARGS];
            for a in args.iter_mut().take(if task { MAX_ARGS } else { nb_args }) {
                *a = r.varint();
            }
            let exit = flags & EXIT != 0;
            let ret = if exit || task {
                unzigzag(r.varint())
            } else {
                0
            };
            let data = (flags & HAS_DATA != 0).then(|| {
                let len = r.varint() as usize;
                Arc::<[u8]>::from(r.bytes(len))
            });
            out.push(Event {
                timestamp_ns: ts,
                pid,
                root,
                tid,
                nr,
                cpu,
                phase: if exit { Phase::Exit } else { Phase::Enter },
                kind,
                nb_args: nb_args as u8,
                args,
                ret,
                comm,
                data,
            });
        }
    }
}

/// An unlinked file in `dir`: gone with the process, whatever happens.
fn spill_file(dir: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .mode(0o600)
        .custom_flags(libc::O_TMPFILE)
        .open(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(i: u64) -> Event {
        let mut comm = [0u8; TASK_COMM_LEN];
        comm[..4].copy_from_slice(if i.is_multiple_of(3) {
            b"cat\0"
        } else {
            b"sort"
        });
        let exit = i % 2 == 1;
        let nb_args = if exit { 0 } else { (i % 7) as u8 };
        let mut args = [0u64; MAX_ARGS];
        for (j, a) in args.iter_mut().take(nb_args as usize).enumerate() {
            *a = i.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (j * 9);
        }
        let kind = match i % 97 {
            0 => EventKind::Signal,
            1 => EventKind::TaskExit,
            _ => EventKind::Syscall,
        };
        if kind != EventKind::Syscall {
            // Task events use every arg and ret whatever nb_args says.
            args = [i, 2, 3, 4, 5, i << 20];
        }
        Event {
            // Mostly rising, sometimes a little back (another CPU's record).
            timestamp_ns: 1_000_000_000 + i * 700 - (i % 5) * 900,
            pid: 100 + (i % 4) as u32,
            root: 100,
            tid: 100 + (i % 6) as u32,
            nr: (i % 450) as u32,
            cpu: (i % 2) as u16,
            phase: if exit { Phase::Exit } else { Phase::Enter },
            kind,
            nb_args,
            args,
            ret: if exit || kind != EventKind::Syscall {
                (i as i64 % 9) - 4
            } else {
                0
            },
            comm,
            data: i
                .is_multiple_of(10)
                .then(|| Arc::from(vec![i as u8; (i % 300) as usize])),
        }
    }

    #[test]
    fn events_come_back_as_they_went_in() {
        let mut store = Store::new(Budget {
            memory: usize::MAX,
            spill: 0,
        });
        let events: Vec<Event> = (0..100_000).map(event).collect();
        for ev in &events {
            assert!(store.push(ev));
        }
        assert_eq!(store.len(), events.len());
        let mut back = Vec::new();
        while !store.is_empty() {
            let share = store.take();
            assert!(!share.is_empty() && share.len() <= TAKE_EVENTS + SEGMENT_BYTES);
            back.extend(share);
        }
        if let Some(i) = (0..events.len()).find(|&i| back.get(i) != Some(&events[i])) {
            panic!("event {i} differs: {:?} != {:?}", back.get(i), events[i]);
        }
        assert_eq!(back.len(), events.len());
        assert_eq!(store.bytes(), (0, 0));
    }

    #[test]
    fn a_session_without_the_clock_numbers_its_events() {
        // Past the memory budget too: the spilled segments keep the count.
        let mut store = Store::numbered(Budget {
            memory: SEGMENT_BYTES,
            spill: u64::MAX,
        });
        // Times as another session's clock gives them, and records without.
        let events: Vec<Event> = (0..50_000)
            .map(|i| {
                let mut ev = event(i);
                ev.timestamp_ns = if i % 3 == 0 { 0 } else { 1 << 40 };
                ev
            })
            .collect();
        for ev in &events {
            assert!(store.push(ev));
        }
        let mut back = Vec::new();
        while !store.is_empty() {
            back.extend(store.take());
        }
        let numbers: Vec<u64> = back.iter().map(|ev| ev.timestamp_ns).collect();
        assert_eq!(numbers, (1..=50_000).collect::<Vec<u64>>());
    }

    #[test]
    fn an_argumentless_event_takes_a_few_bytes() {
        let mut store = Store::new(Budget {
            memory: usize::MAX,
            spill: 0,
        });
        let mut ev = event(2);
        ev.nb_args = 0;
        ev.data = None;
        for i in 0..10_000u64 {
            ev.timestamp_ns += 400 + i % 50;
            store.push(&ev);
        }
        let per_event = store.bytes().0 / store.len();
        assert!(per_event <= 12, "{per_event} bytes per event");
    }

    #[test]
    fn past_the_memory_budget_it_spills_then_drops() {
        let budget = Budget {
            memory: 3 * SEGMENT_BYTES,
            spill: 4 * SEGMENT_BYTES as u64,
        };
        let mut store = Store::new(budget);
        let events: Vec<Event> = (0..2_000_000).map(event).collect();
        let kept = events.iter().take_while(|ev| store.push(ev)).count();
        assert!(kept < events.len(), "both budgets should run out");
        let (memory, spilled) = store.bytes();
        assert!(memory <= budget.memory && spilled <= budget.spill);
        assert!(spilled > 0);
        let mut back = Vec::new();
        loop {
            let batch = store.take();
            if batch.is_empty() {
                break;
            }
            assert!(batch.len() <= TAKE_EVENTS + SEGMENT_BYTES);
            back.extend(batch);
        }
        assert_eq!(back.len(), kept);
        assert!(back == events[..kept], "order and contents kept");
        assert!(store.spill.is_none(), "the file goes once read back");
        // With room again, it keeps events again.
        assert!(store.push(&events[kept]));
    }
}
