//! perf_event_open's struct perf_event_attr, as strace prints it without
//! -v: the fields before its wakeup counts (the first [`PERF_ATTR_HEAD`]
//! bytes, all that strace reads then), of the bit flags those that are set
//! (and precise_ip always), then `...` for the rest.
use std::fmt::Write;

use serde_json::{json, Map, Value};

use super::read;
use crate::strace::flags;

/// The bytes read of the structure: up to `wakeup_events`, where strace
/// stops without -v (what the programs capture).
const PERF_ATTR_HEAD: u16 = crate::trace::capture::sizes::PERF_ATTR;
/// The first published size: the kernel refuses a smaller non-zero one,
/// and strace shows such a structure as its address.
const PERF_ATTR_SIZE_VER0: u32 = 64;

/// The bit flags before precise_ip, by bit.
const FLAGS_LOW: &[&str] = &[
    "disabled",
    "inherit",
    "pinned",
    "exclusive",
    "exclude_user",
    "exclude_kernel",
    "exclude_hv",
    "exclude_idle",
    "mmap",
    "comm",
    "freq",
    "inherit_stat",
    "enable_on_exec",
    "task",
    "watermark",
];
/// precise_ip: two bits after FLAGS_LOW, its meaning as strace's comment.
const PRECISE_SHIFT: u32 = 15;
const PRECISE_IP: [&str; 4] = [
    "arbitrary skid",
    "constant skid",
    "requested to have 0 skid",
    "must have 0 skid",
];
/// The bit flags after precise_ip, from bit 17.
const FLAGS_HIGH: &[&str] = &[
    "mmap_data",
    "sample_id_all",
    "exclude_host",
    "exclude_guest",
    "exclude_callchain_kernel",
    "exclude_callchain_user",
    "mmap2",
    "comm_exec",
    "use_clockid",
    "context_switch",
    "write_backward",
    "namespaces",
    "ksymbol",
    "bpf_event",
    "aux_output",
    "cgroup",
    "text_poke",
    "build_id",
    "inherit_thread",
    "remove_on_exec",
    "sigtrap",
];
const HIGH_SHIFT: u32 = 17;
/// The bits past the named ones (`__reserved_1`).
const RESERVED_SHIFT: u32 = HIGH_SHIFT + FLAGS_HIGH.len() as u32;
const FREQ_BIT: u64 = 1 << 10;

const PERF_TYPE_HARDWARE: u32 = 0;
const PERF_TYPE_SOFTWARE: u32 = 1;
const PERF_TYPE_TRACEPOINT: u32 = 2;
const PERF_TYPE_HW_CACHE: u32 = 3;

/// The head of a struct perf_event_attr.
struct Attr {
    kind: u32,
    size: u32,
    config: u64,
    /// sample_period, or sample_freq when the freq flag is set.
    sample: u64,
    sample_type: u64,
    read_format: u64,
    bits: u64,
}

fn attr(b: &[u8]) -> Option<Attr> {
    let w: [u64; 6] = read(b.get(..usize::from(PERF_ATTR_HEAD))?)?;
    let a = Attr {
        kind: read(b)?,
        size: read(&b[4..])?,
        config: w[1],
        sample: w[2],
        sample_type: w[3],
        read_format: w[4],
        bits: w[5],
    };
    // What the kernel refuses (0 means the first size).
    (a.size == 0 || a.size >= PERF_ATTR_SIZE_VER0).then_some(a)
}

fn size_text(size: u32) -> String {
    flags::xval_or_unknown(flags::PERF_ATTR_SIZES, size.into(), "PERF_ATTR_SIZE_???")
}

/// config, as its type reads it: a hardware event's id (and its PMU in the
/// high half), a software event's, a tracepoint's number, a cache event's
/// three bytes; hex for the others.
fn push_config(out: &mut String, kind: u32, config: u64) {
    let pmu = |out: &mut String| {
        if config >> 32 != 0 {
            let _ = write!(out, "{:#x}<<32|", config >> 32);
        }
    };
    match kind {
        PERF_TYPE_HARDWARE => {
            pmu(out);
            let id = config & 0xffff_ffff;
            out.push_str(&flags::xval_or_unknown(
                flags::PERF_HW_IDS,
                id,
                "PERF_COUNT_HW_???",
            ));
        }
        PERF_TYPE_SOFTWARE => out.push_str(&flags::xval_or_unknown(
            flags::PERF_SW_IDS,
            config,
            "PERF_COUNT_SW_???",
        )),
        PERF_TYPE_TRACEPOINT => {
            let _ = write!(out, "{config}");
        }
        PERF_TYPE_HW_CACHE => {
            pmu(out);
            let high = (config & 0xffff_ffff) >> 24;
            if high != 0 {
                let _ = write!(out, "{high:#x}<<24|");
            }
            let byte = |n: u32| (config >> n) & 0xff;
            let _ = write!(
                out,
                "{}<<16|{}<<8|{}",
                flags::xval_or_unknown(
                    flags::PERF_HW_CACHE_RESULTS,
                    byte(16),
                    "PERF_COUNT_HW_CACHE_RESULT_???"
                ),
                flags::xval_or_unknown(
                    flags::PERF_HW_CACHE_OPS,
                    byte(8),
                    "PERF_COUNT_HW_CACHE_OP_???"
                ),
                flags::xval_or_unknown(
                    flags::PERF_HW_CACHE_IDS,
                    byte(0),
                    "PERF_COUNT_HW_CACHE_???"
                ),
            );
        }
        _ => out.push_str(&flags::hex(config)),
    }
}

/// The flags that are set, in the structure's order, with precise_ip.
fn set_flags(bits: u64) -> impl Iterator<Item = (&'static str, u64)> {
    let low = FLAGS_LOW
        .iter()
        .enumerate()
        .map(move |(i, n)| (*n, (bits >> i) & 1));
    let precise = std::iter::once(("precise_ip", (bits >> PRECISE_SHIFT) & 3));
    let high = FLAGS_HIGH
        .iter()
        .enumerate()
        .map(move |(i, n)| (*n, (bits >> (HIGH_SHIFT + i as u32)) & 1));
    low.chain(precise)
        .chain(high)
        .filter(|&(name, v)| v != 0 || name == "precise_ip")
}

/// `{type=PERF_TYPE_SOFTWARE, size=PERF_ATTR_SIZE_VER7, config=...,
/// sample_period=0, ..., disabled=1, precise_ip=0 /* arbitrary skid */,
/// ...}`. `after`: the structure at exit, whose size the kernel rewrote
/// when it refused the call with E2BIG (`size=... => ...`).
pub fn perf_event_attr_text(b: &[u8], after: Option<&[u8]>, e2big: bool) -> Option<String> {
    let a = attr(b)?;
    let mut out = String::with_capacity(256);
    out.push_str("{type=");
    out.push_str(&flags::xval_or_unknown(
        flags::PERF_TYPES,
        a.kind.into(),
        "PERF_TYPE_???",
    ));
    out.push_str(", size=");
    out.push_str(&size_text(a.size));
    if e2big {
        out.push_str(" => ");
        match after.and_then(|b| read::<u32>(b.get(4..)?)) {
            Some(size) => out.push_str(&size_text(size)),
            None => out.push_str("???"),
        }
    }
    out.push_str(", config=");
    push_config(&mut out, a.kind, a.config);
    let sample = if a.bits & FREQ_BIT != 0 {
        "sample_freq"
    } else {
        "sample_period"
    };
    let _ = write!(
        out,
        ", {sample}={}, sample_type={}, read_format={}",
        a.sample,
        flags::flags_or_unknown(flags::PERF_SAMPLE_FORMATS, a.sample_type, "PERF_SAMPLE_???"),
        flags::flags_or_unknown(flags::PERF_READ_FORMATS, a.read_format, "PERF_FORMAT_???"),
    );
    for (name, v) in set_flags(a.bits) {
        let _ = write!(out, ", {name}={v}");
        if name == "precise_ip" {
            let _ = write!(out, " /* {} */", PRECISE_IP[v as usize & 3]);
        }
    }
    let reserved = a.bits >> RESERVED_SHIFT;
    if reserved != 0 {
        let _ = write!(
            out,
            ", __reserved_1={reserved:#x} /* Bits 63..{RESERVED_SHIFT} */"
        );
    }
    // The fields from wakeup_events on are not read.
    out.push_str(", ...}");
    Some(out)
}

/// The same fields for `Call.args`: names where strace prints names.
pub fn perf_event_attr_value(b: &[u8]) -> Option<Value> {
    let a = attr(b)?;
    let name_or = |table, v: u64| flags::xval(table, v).map_or(json!(v), |n| json!(n));
    let mut m = Map::new();
    m.insert("type".into(), name_or(flags::PERF_TYPES, a.kind.into()));
    m.insert("size".into(), json!(a.size));
    m.insert("config".into(), json!(a.config));
    let sample = if a.bits & FREQ_BIT != 0 {
        "sample_freq"
    } else {
        "sample_period"
    };
    m.insert(sample.into(), json!(a.sample));
    m.insert("sample_type".into(), json!(a.sample_type));
    m.insert("read_format".into(), json!(a.read_format));
    for (name, v) in set_flags(a.bits) {
        m.insert(name.into(), json!(v));
    }
    Some(Value::Object(m))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attr_bytes(
        kind: u32,
        size: u32,
        config: u64,
        sample: u64,
        st: u64,
        rf: u64,
        bits: u64,
    ) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend(kind.to_ne_bytes());
        b.extend(size.to_ne_bytes());
        for w in [config, sample, st, rf, bits] {
            b.extend(w.to_ne_bytes());
        }
        b
    }

    #[test]
    fn perf_stat_task_clock_as_strace_prints_it() {
        // disabled, inherit, enable_on_exec, exclude_guest
        let bits = 1 | 2 | 1 << 12 | 1 << 20;
        let b = attr_bytes(1, 128, 1, 0, 1 << 16, 3, bits);
        assert_eq!(
            perf_event_attr_text(&b, None, false).unwrap(),
            "{type=PERF_TYPE_SOFTWARE, size=PERF_ATTR_SIZE_VER7, config=PERF_COUNT_SW_TASK_CLOCK, \
             sample_period=0, sample_type=PERF_SAMPLE_IDENTIFIER, \
             read_format=PERF_FORMAT_TOTAL_TIME_ENABLED|PERF_FORMAT_TOTAL_TIME_RUNNING, \
             disabled=1, inherit=1, enable_on_exec=1, precise_ip=0 /* arbitrary skid */, \
             exclude_guest=1, ...}"
        );
    }

    #[test]
    fn cache_events_frequencies_sizes_and_reserved_bits() {
        let config = 0x8 << 32 | 1 << 16 | 2 << 8 | 3;
        let bits = 1 << 10 | 2 << 15 | 1 << 40;
        let b = attr_bytes(3, 136, config, 4000, 0x8000_0000, 0, bits);
        assert_eq!(
            perf_event_attr_text(&b, None, false).unwrap(),
            "{type=PERF_TYPE_HW_CACHE, size=0x88 /* PERF_ATTR_SIZE_??? */, \
             config=0x8<<32|PERF_COUNT_HW_CACHE_RESULT_MISS<<16|PERF_COUNT_HW_CACHE_OP_PREFETCH<<8|PERF_COUNT_HW_CACHE_DTLB, \
             sample_freq=4000, sample_type=0x80000000 /* PERF_SAMPLE_??? */, read_format=0, \
             freq=1, precise_ip=2 /* requested to have 0 skid */, \
             __reserved_1=0x4 /* Bits 63..38 */, ...}"
        );
        // E2BIG: the size the kernel wrote back.
        let after = attr_bytes(3, 128, 0, 0, 0, 0, 0);
        let text = perf_event_attr_text(&b, Some(&after), true).unwrap();
        assert!(
            text.contains("size=0x88 /* PERF_ATTR_SIZE_??? */ => PERF_ATTR_SIZE_VER7,"),
            "{text}"
        );
        assert!(perf_event_attr_text(&b, None, true)
            .unwrap()
            .contains(" => ???,"));
        // A size the kernel refuses, or too few bytes: the address.
        assert_eq!(
            perf_event_attr_text(&attr_bytes(0, 8, 0, 0, 0, 0, 0), None, false),
            None
        );
        assert_eq!(perf_event_attr_text(&b[..40], None, false), None);
        // Size 0 is the first size; a tracepoint's config is its number.
        let tp = attr_bytes(2, 0, 1234, 1, 0, 0, 0);
        assert!(perf_event_attr_text(&tp, None, false)
            .unwrap()
            .starts_with(
                "{type=PERF_TYPE_TRACEPOINT, size=0 /* PERF_ATTR_SIZE_??? */, config=1234, sample_period=1,"
            ));
    }
}
