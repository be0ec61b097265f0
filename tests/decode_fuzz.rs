//! Fuzzing the ring-buffer decoder (issue 6): `systrace::kernel::decode::decode` is
//! the one place where bytes written by the kernel side become trusted
//! values, so it must never panic and never accept a record it cannot fully
//! read, whatever it is given: truncated records of every length, random
//! garbage, bit flips, huge nb_args, unknown phases, out-of-range numbers,
//! unaligned buffers.
//!
//! Property-based, with a small deterministic xorshift generator instead of
//! a fuzzing crate: every run checks the same cases, and a failure names the
//! seed and case to replay. `SYSTRACE_FUZZ_CASES=N` runs more cases.
//!
//!     cargo test --no-default-features --test decode_fuzz
use std::mem::{offset_of, size_of};
use std::panic::{catch_unwind, AssertUnwindSafe};

use systrace::kernel::decode::{decode, DecodeError, Event, EventKind};
use systrace::kernel::layout::{
    enter_record_size, syscall_trace_exit, systrace_header, ARG_SIZE, COMMON_PID_OFFSET,
    ENTER_ARGS_OFFSET, EXIT_RECORD_SIZE, EXIT_RET_OFFSET, HEADER_SIZE, MAX_ARGS, NR_OFFSET,
    NR_SYSCALLS, PHASE_ENTER, PHASE_EXIT, TASK_COMM_LEN,
};
use systrace::kernel::Phase;

/// xorshift64*: deterministic, no crate needed.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn byte(&mut self) -> u8 {
        self.next() as u8
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.byte()).collect()
    }
    /// Values that break code more often than uniform ones do.
    fn interesting_u64(&mut self) -> u64 {
        const EDGES: [u64; 9] = [
            0,
            1,
            u64::MAX,
            i64::MAX as u64,
            i64::MIN as u64,
            u32::MAX as u64,
            0x8000_0000,
            0xffff_ffff_ffff_ff9c, // -100: AT_FDCWD
            0x7fff_0000_0000,
        ];
        if self.below(4) == 0 {
            EDGES[self.below(EDGES.len() as u64) as usize]
        } else {
            self.next()
        }
    }
}

fn cases() -> u64 {
    std::env::var("SYSTRACE_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000)
}

/// What a well-formed record says, to build it and to compare with.
#[derive(Clone, Debug)]
struct Spec {
    phase: Phase,
    timestamp_ns: u64,
    tgid: u32,
    tid: i32,
    cpu: u16,
    nr: i32,
    args: Vec<u64>,
    ret: i64,
    comm: [u8; TASK_COMM_LEN],
}

fn random_comm(rng: &mut Rng) -> [u8; TASK_COMM_LEN] {
    let mut comm = [0u8; TASK_COMM_LEN];
    // The kernel keeps at most 15 bytes and a NUL; any bytes but NUL.
    let len = rng.below(TASK_COMM_LEN as u64) as usize;
    for b in comm.iter_mut().take(len) {
        *b = rng.byte().max(1);
    }
    comm
}

fn random_spec(rng: &mut Rng) -> Spec {
    let phase = if rng.below(2) == 0 {
        Phase::Enter
    } else {
        Phase::Exit
    };
    let nb_args = if phase == Phase::Enter {
        rng.below(MAX_ARGS as u64 + 1) as usize
    } else {
        0
    };
    Spec {
        phase,
        timestamp_ns: rng.interesting_u64(),
        tgid: rng.next() as u32,
        tid: rng.next() as i32,
        cpu: rng.next() as u16,
        nr: rng.below(NR_SYSCALLS as u64) as i32,
        args: (0..nb_args).map(|_| rng.interesting_u64()).collect(),
        ret: rng.interesting_u64() as i64,
        comm: random_comm(rng),
    }
}

fn put(rec: &mut [u8], offset: usize, bytes: &[u8]) {
    rec[offset..offset + bytes.len()].copy_from_slice(bytes);
}

/// The bytes the BPF programs write for `spec` (bpf/systrace.h), built
/// field by field from the layout offsets, not from the decoder's code.
fn encode(spec: &Spec) -> Vec<u8> {
    let (len, phase) = match spec.phase {
        Phase::Enter => (enter_record_size(spec.args.len()), PHASE_ENTER),
        Phase::Exit => (EXIT_RECORD_SIZE, PHASE_EXIT),
    };
    let mut rec = vec![0u8; len];
    put(
        &mut rec,
        offset_of!(systrace_header, timestamp_ns),
        &spec.timestamp_ns.to_ne_bytes(),
    );
    put(
        &mut rec,
        offset_of!(systrace_header, tgid),
        &spec.tgid.to_ne_bytes(),
    );
    put(
        &mut rec,
        offset_of!(systrace_header, cpu),
        &spec.cpu.to_ne_bytes(),
    );
    rec[offset_of!(systrace_header, phase)] = phase;
    rec[offset_of!(systrace_header, nb_args)] = spec.args.len() as u8;
    put(&mut rec, offset_of!(systrace_header, comm), &spec.comm);
    let body = HEADER_SIZE;
    put(&mut rec, body + COMMON_PID_OFFSET, &spec.tid.to_ne_bytes());
    put(&mut rec, body + NR_OFFSET, &spec.nr.to_ne_bytes());
    match spec.phase {
        Phase::Enter => {
            for (i, arg) in spec.args.iter().enumerate() {
                put(
                    &mut rec,
                    body + ENTER_ARGS_OFFSET + ARG_SIZE * i,
                    &arg.to_ne_bytes(),
                );
            }
        }
        Phase::Exit => put(&mut rec, body + EXIT_RET_OFFSET, &spec.ret.to_ne_bytes()),
    }
    rec
}

/// Runs the decoder, turning a panic into a test failure that says which
/// input caused it.
fn decode_checked(rec: &[u8], what: &dyn Fn() -> String) -> Result<Event, DecodeError> {
    match catch_unwind(AssertUnwindSafe(|| decode(rec))) {
        Ok(result) => {
            if let Ok(ev) = &result {
                check_invariants(ev, rec, what);
            }
            result
        }
        Err(_) => panic!(
            "decode panicked on {} ({} bytes: {:02x?})",
            what(),
            rec.len(),
            rec
        ),
    }
}

/// What every accepted record must satisfy, whatever its bytes were.
fn check_invariants(ev: &Event, rec: &[u8], what: &dyn Fn() -> String) {
    let ctx = || format!("{} ({} bytes), decoded as {ev:?}", what(), rec.len());
    assert!((ev.nr as usize) < NR_SYSCALLS, "nr out of range: {}", ctx());
    assert!(
        ev.nb_args as usize <= MAX_ARGS,
        "nb_args > MAX_ARGS: {}",
        ctx()
    );
    assert_eq!(ev.args().len(), ev.nb_args as usize, "{}", ctx());
    assert!(ev.comm_bytes().len() <= TASK_COMM_LEN, "{}", ctx());
    assert!(!ev.comm_bytes().contains(&0), "{}", ctx());
    match ev.kind {
        EventKind::Syscall => {}
        // Task events: fixed records, their fields in args.
        EventKind::Signal => {
            assert!((1..=64).contains(&ev.nr), "not a signal: {}", ctx());
            assert_eq!(ev.nb_args as usize, MAX_ARGS, "{}", ctx());
            assert!(ev.data.is_none(), "{}", ctx());
            return;
        }
        EventKind::TaskExit => {
            assert_eq!(ev.nb_args, 3, "{}", ctx());
            assert_eq!(ev.ret, i64::from(ev.args[0] as u32 as i32), "{}", ctx());
            assert!(ev.args[1] <= 1 && ev.args[2] <= 1, "{}", ctx());
            assert!(ev.data.is_none(), "{}", ctx());
            return;
        }
    }
    match ev.phase {
        Phase::Enter => {
            assert_eq!(ev.ret, 0, "an enter event has no return value: {}", ctx());
            // The record really held every arg it claims.
            assert!(
                rec.len() >= enter_record_size(ev.nb_args as usize),
                "accepted an enter record too short for its args: {}",
                ctx()
            );
        }
        Phase::Exit => {
            assert_eq!(ev.nb_args, 0, "an exit event has no args: {}", ctx());
            assert!(
                rec.len() >= EXIT_RECORD_SIZE,
                "accepted an exit record shorter than one: {}",
                ctx()
            );
        }
    }
}

fn assert_matches_spec(ev: &Event, spec: &Spec, what: &dyn Fn() -> String) {
    let ctx = || format!("{}: {spec:?} decoded as {ev:?}", what());
    assert_eq!(ev.phase, spec.phase, "{}", ctx());
    assert_eq!(ev.timestamp_ns, spec.timestamp_ns, "{}", ctx());
    assert_eq!(ev.pid, spec.tgid, "{}", ctx());
    assert_eq!(ev.tid, spec.tid as u32, "{}", ctx());
    assert_eq!(ev.cpu, spec.cpu, "{}", ctx());
    assert_eq!(ev.nr, spec.nr as u32, "{}", ctx());
    assert_eq!(ev.args(), &spec.args[..], "{}", ctx());
    let end = spec
        .comm
        .iter()
        .position(|&b| b == 0)
        .unwrap_or(TASK_COMM_LEN);
    assert_eq!(ev.comm_bytes(), &spec.comm[..end], "{}", ctx());
    match spec.phase {
        Phase::Enter => assert_eq!(ev.ret, 0, "{}", ctx()),
        Phase::Exit => assert_eq!(ev.ret, spec.ret, "{}", ctx()),
    }
}

const SEED: u64 = 0x5157_7261_6365;

#[test]
fn well_formed_records_decode_to_exactly_what_was_written() {
    let mut rng = Rng::new(SEED);
    for case in 0..cases() {
        let spec = random_spec(&mut rng);
        let rec = encode(&spec);
        let what = || format!("well-formed record, seed {SEED:#x} case {case}");
        let ev =
            decode_checked(&rec, &what).unwrap_or_else(|e| panic!("{}: rejected: {e:?}", what()));
        assert_matches_spec(&ev, &spec, &what);
    }
}

#[test]
fn every_enter_arg_count_and_boundary_nr_round_trips() {
    let mut rng = Rng::new(SEED ^ 1);
    for nb_args in 0..=MAX_ARGS {
        for nr in [0, 1, NR_SYSCALLS as i32 - 1] {
            for phase in [Phase::Enter, Phase::Exit] {
                let mut spec = random_spec(&mut rng);
                spec.phase = phase;
                spec.nr = nr;
                spec.args = match phase {
                    Phase::Enter => (0..nb_args).map(|_| rng.interesting_u64()).collect(),
                    Phase::Exit => vec![],
                };
                let what = || format!("{phase:?} nr {nr} with {nb_args} args");
                let ev = decode_checked(&encode(&spec), &what).expect("well-formed");
                assert_matches_spec(&ev, &spec, &what);
            }
        }
    }
}

#[test]
fn truncated_records_of_every_length_are_rejected() {
    let mut rng = Rng::new(SEED ^ 2);
    for case in 0..cases() / 20 {
        let spec = random_spec(&mut rng);
        let rec = encode(&spec);
        for len in 0..rec.len() {
            let what = || format!("record of {} bytes cut at {len}, case {case}", rec.len());
            match decode_checked(&rec[..len], &what) {
                Err(DecodeError::Truncated { len: got, need }) => {
                    assert!(
                        need > got,
                        "Truncated says it needs {need} <= {got}: {}",
                        what()
                    );
                }
                Err(other) => panic!("{}: expected Truncated, got {other:?}", what()),
                Ok(ev) => panic!("{}: accepted as {ev:?}", what()),
            }
        }
    }
}

#[test]
fn records_shorter_than_a_header_are_truncated_whatever_their_bytes() {
    let mut rng = Rng::new(SEED ^ 3);
    for len in 0..HEADER_SIZE {
        for _ in 0..64 {
            let rec = rng.bytes(len);
            let what = || format!("{len} random bytes");
            assert!(
                matches!(
                    decode_checked(&rec, &what),
                    Err(DecodeError::Truncated { .. })
                ),
                "{}",
                what()
            );
        }
    }
}

#[test]
fn random_garbage_never_panics() {
    let mut rng = Rng::new(SEED ^ 4);
    let mut accepted = 0u64;
    for case in 0..cases() {
        let len = match rng.below(4) {
            0 => rng.below(HEADER_SIZE as u64 + 64) as usize,
            1 => rng.below(4096) as usize,
            // Around the real record sizes.
            _ => {
                enter_record_size(rng.below(MAX_ARGS as u64 + 1) as usize) + rng.below(16) as usize
                    - 8
            }
        };
        let mut rec = rng.bytes(len);
        // Often a plausible phase, so that decoding goes past the header.
        if rec.len() > HEADER_SIZE && rng.below(2) == 0 {
            rec[offset_of!(systrace_header, phase)] =
                [PHASE_ENTER, PHASE_EXIT][rng.below(2) as usize];
            rec[offset_of!(systrace_header, nb_args)] = rng.below(MAX_ARGS as u64 + 2) as u8;
            if rec.len() >= HEADER_SIZE + NR_OFFSET + 4 && rng.below(2) == 0 {
                let nr = rng.below(NR_SYSCALLS as u64) as i32;
                put(&mut rec, HEADER_SIZE + NR_OFFSET, &nr.to_ne_bytes());
            }
        }
        let what = || format!("garbage, seed {SEED:#x} case {case}");
        if decode_checked(&rec, &what).is_ok() {
            accepted += 1;
        }
    }
    // Sanity: the generator does reach the decoder's success path.
    assert!(
        accepted > 0,
        "no garbage record was ever accepted: the fuzzing is too shallow"
    );
}

#[test]
fn bit_flips_and_byte_changes_of_real_records_never_panic() {
    let mut rng = Rng::new(SEED ^ 5);
    for case in 0..cases() {
        let spec = random_spec(&mut rng);
        let mut rec = encode(&spec);
        for _ in 0..=rng.below(4) {
            let i = rng.below(rec.len() as u64) as usize;
            if rng.below(2) == 0 {
                rec[i] ^= 1 << rng.below(8);
            } else {
                rec[i] = rng.byte();
            }
        }
        let what = || format!("mutated record, seed {SEED:#x} case {case}");
        let _ = decode_checked(&rec, &what);
    }
}

#[test]
fn huge_nb_args_is_rejected_not_trusted() {
    let mut rng = Rng::new(SEED ^ 6);
    for nb_args in (MAX_ARGS as u8 + 1)..=u8::MAX {
        let mut spec = random_spec(&mut rng);
        spec.phase = Phase::Enter;
        spec.args = (0..MAX_ARGS).map(|_| rng.next()).collect();
        let mut rec = encode(&spec);
        rec[offset_of!(systrace_header, nb_args)] = nb_args;
        // Even with room for every arg it claims: more than MAX_ARGS is a lie.
        rec.resize(
            HEADER_SIZE + ENTER_ARGS_OFFSET + ARG_SIZE * nb_args as usize,
            0xa5,
        );
        let what = || format!("enter record claiming {nb_args} args");
        assert_eq!(
            decode_checked(&rec, &what),
            Err(DecodeError::BadNbArgs(nb_args)),
            "{}",
            what()
        );
    }
}

#[test]
fn unknown_phases_are_rejected() {
    let mut rng = Rng::new(SEED ^ 7);
    for phase in 0..=u8::MAX {
        if phase == PHASE_ENTER || phase == PHASE_EXIT {
            continue;
        }
        let spec = random_spec(&mut rng);
        let mut rec = encode(&spec);
        rec.resize(enter_record_size(MAX_ARGS).max(EXIT_RECORD_SIZE), 0);
        rec[offset_of!(systrace_header, phase)] = phase;
        let what = || format!("record with phase {phase}");
        // Whatever else a phase may come to mean (a fork record...), it is
        // not a syscall event: decode() must not return one.
        assert!(decode_checked(&rec, &what).is_err(), "{}", what());
    }
}

#[test]
fn out_of_range_and_negative_nr_are_rejected() {
    let mut rng = Rng::new(SEED ^ 8);
    let bad = [
        -1,
        -2,
        i32::MIN,
        i32::MIN + 1,
        NR_SYSCALLS as i32,
        NR_SYSCALLS as i32 + 1,
        0x4000_0000, // x32's __X32_SYSCALL_BIT
        i32::MAX,
    ];
    let random: Vec<i32> = (0..200)
        .map(|_| {
            let n = rng.next() as i32;
            if (0..NR_SYSCALLS as i32).contains(&n) {
                -1 - (n & 0xff)
            } else {
                n
            }
        })
        .collect();
    for nr in bad.into_iter().chain(random) {
        for phase in [Phase::Enter, Phase::Exit] {
            let mut spec = random_spec(&mut rng);
            spec.phase = phase;
            if phase == Phase::Exit {
                spec.args.clear();
            }
            spec.nr = nr;
            let what = || format!("{phase:?} record with nr {nr}");
            assert_eq!(
                decode_checked(&encode(&spec), &what),
                Err(DecodeError::BadNr(nr)),
                "{}",
                what()
            );
        }
    }
}

#[test]
fn unaligned_records_decode_like_aligned_ones() {
    // The ring buffer promises 8-byte alignment only; the decoder must not
    // rely on more, nor on less: any offset gives the same answer.
    let mut rng = Rng::new(SEED ^ 9);
    for case in 0..cases() / 10 {
        let spec = random_spec(&mut rng);
        let rec = encode(&spec);
        let aligned = decode(&rec);
        for shift in 1..8 {
            let mut buf = vec![0xeeu8; shift];
            buf.extend_from_slice(&rec);
            let what = || format!("case {case} shifted by {shift}");
            let ev = decode_checked(&buf[shift..], &what);
            assert_eq!(ev, aligned, "{}", what());
            if let Ok(ev) = &ev {
                assert_matches_spec(ev, &spec, &what);
            }
        }
    }
}

#[test]
fn trailing_bytes_after_a_record_never_panic_nor_change_it() {
    // Bytes after the fixed part (captured user memory, or garbage): either
    // the record is rejected or its fixed fields are exactly as written.
    let mut rng = Rng::new(SEED ^ 10);
    for case in 0..cases() / 4 {
        let spec = random_spec(&mut rng);
        let mut rec = encode(&spec);
        let extra = match rng.below(3) {
            0 => rng.below(8) as usize,
            1 => rng.below(64) as usize,
            _ => rng.below(9000) as usize,
        };
        if rng.below(2) == 0 {
            rec.extend(rng.bytes(extra));
        } else {
            // Shaped like capture items: (arg u8, flags u8, len u16) + bytes,
            // with lengths that sometimes overrun the record.
            let mut left = extra;
            while left >= 4 {
                let len = (rng.below(64) as u16).min(left as u16 + rng.below(3) as u16);
                rec.push(rng.below(MAX_ARGS as u64 + 2) as u8);
                rec.push(rng.byte());
                rec.extend_from_slice(&len.to_ne_bytes());
                let body = (len as usize).min(left - 4);
                rec.extend(rng.bytes(body));
                left -= 4 + body;
            }
        }
        let what = || format!("record with {extra} trailing bytes, case {case}");
        if let Ok(ev) = decode_checked(&rec, &what) {
            assert_matches_spec(&ev, &spec, &what);
        }
        // Cut anywhere inside the trailing part: still no panic.
        let fixed = match spec.phase {
            Phase::Enter => enter_record_size(spec.args.len()),
            Phase::Exit => EXIT_RECORD_SIZE,
        };
        if rec.len() > fixed {
            let cut = fixed + rng.below((rec.len() - fixed) as u64) as usize;
            if let Ok(ev) = decode_checked(&rec[..cut], &what) {
                assert_matches_spec(&ev, &spec, &what);
            }
        }
    }
}

#[test]
fn the_layout_this_fuzzer_assumes_is_the_crates() {
    // If the record format changes, this says so before the other tests
    // report confusing mismatches.
    assert_eq!(
        EXIT_RECORD_SIZE,
        HEADER_SIZE + size_of::<syscall_trace_exit>()
    );
    assert_eq!(enter_record_size(0), HEADER_SIZE + ENTER_ARGS_OFFSET);
    assert!(HEADER_SIZE >= offset_of!(systrace_header, comm) + TASK_COMM_LEN);
}
