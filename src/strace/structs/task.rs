//! A task's structures: rusage, itimers, the alternate signal stack, CPU
//! masks and clone3's arguments.
use serde_json::{json, Value};

use super::{read, read_at};
use crate::strace::flags::{self, hex};

fn timeval(bytes: &[u8], i: usize) -> Option<(i64, i64)> {
    Some((
        read_at::<i64>(bytes, 2 * i)?,
        read_at::<i64>(bytes, 2 * i + 1)?,
    ))
}

/// `{tv_sec=1, tv_usec=0}`.
pub fn timeval_text(bytes: &[u8]) -> Option<String> {
    let (sec, usec) = timeval(bytes, 0)?;
    Some(format!("{{tv_sec={sec}, tv_usec={usec}}}"))
}

/// struct timezone: `{tz_minuteswest=0, tz_dsttime=0}`.
pub fn timezone_text(bytes: &[u8]) -> Option<String> {
    let [west, dst]: [i32; 2] = read(bytes)?;
    Some(format!("{{tz_minuteswest={west}, tz_dsttime={dst}}}"))
}

pub fn timeval_value(bytes: &[u8]) -> Option<Value> {
    let (sec, usec) = timeval(bytes, 0)?;
    Some(json!({"tv_sec": sec, "tv_usec": usec}))
}

/// strace prints the two times of a rusage, then `...`; with -v
/// (`abbrev` false) every field.
pub fn rusage_text(bytes: &[u8], abbrev: bool) -> Option<String> {
    let ru: libc::rusage = read(bytes)?;
    let mut out = format!(
        "{{ru_utime={{tv_sec={}, tv_usec={}}}, ru_stime={{tv_sec={}, tv_usec={}}}, ",
        ru.ru_utime.tv_sec, ru.ru_utime.tv_usec, ru.ru_stime.tv_sec, ru.ru_stime.tv_usec
    );
    if abbrev {
        out.push_str("...}");
        return Some(out);
    }
    let fields = [
        ("ru_maxrss", ru.ru_maxrss),
        ("ru_ixrss", ru.ru_ixrss),
        ("ru_idrss", ru.ru_idrss),
        ("ru_isrss", ru.ru_isrss),
        ("ru_minflt", ru.ru_minflt),
        ("ru_majflt", ru.ru_majflt),
        ("ru_nswap", ru.ru_nswap),
        ("ru_inblock", ru.ru_inblock),
        ("ru_oublock", ru.ru_oublock),
        ("ru_msgsnd", ru.ru_msgsnd),
        ("ru_msgrcv", ru.ru_msgrcv),
        ("ru_nsignals", ru.ru_nsignals),
        ("ru_nvcsw", ru.ru_nvcsw),
        ("ru_nivcsw", ru.ru_nivcsw),
    ];
    let text: Vec<String> = fields
        .iter()
        // strace prints them unsigned (PRINT_FIELD_U).
        .map(|(name, v)| format!("{name}={}", *v as u64))
        .collect();
    out.push_str(&text.join(", "));
    out.push('}');
    Some(out)
}

/// Clock ticks, but 0 followed by their seconds as strace's print_clock_t
/// prints them (`7 /* 0.07 s */` at 100 ticks a second).
pub fn clock_t_text(ticks: u64) -> String {
    let hz = clock_ticks();
    // As many decimals as a tick needs (2 at 100 Hz).
    let width = (hz.max(2) - 1).to_string().len();
    if ticks == 0 {
        "0".to_owned()
    } else {
        format!("{ticks} /* {}.{:0width$} s */", ticks / hz, ticks % hz)
    }
}

/// times' struct tms: clock ticks, as `clock_t_text`.
pub fn tms_text(bytes: &[u8]) -> Option<String> {
    let t: libc::tms = read(bytes)?;
    let field = |name: &str, ticks: libc::clock_t| format!("{name}={}", clock_t_text(ticks as u64));
    Some(format!(
        "{{{}, {}, {}, {}}}",
        field("tms_utime", t.tms_utime),
        field("tms_stime", t.tms_stime),
        field("tms_cutime", t.tms_cutime),
        field("tms_cstime", t.tms_cstime)
    ))
}

pub fn tms_value(bytes: &[u8]) -> Option<Value> {
    let t: libc::tms = read(bytes)?;
    Some(json!({
        "tms_utime": t.tms_utime, "tms_stime": t.tms_stime,
        "tms_cutime": t.tms_cutime, "tms_cstime": t.tms_cstime,
    }))
}

/// The kernel's USER_HZ, the unit of clock_t (sysconf(_SC_CLK_TCK)).
fn clock_ticks() -> u64 {
    static HZ: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    // SAFETY: sysconf reads a constant of the running system.
    *HZ.get_or_init(|| match unsafe { libc::sysconf(libc::_SC_CLK_TCK) } {
        n if n > 0 => n as u64,
        _ => 100,
    })
}

pub fn rusage_value(bytes: &[u8]) -> Option<Value> {
    let ru: libc::rusage = read(bytes)?;
    let tv = |t: libc::timeval| json!({"tv_sec": t.tv_sec, "tv_usec": t.tv_usec});
    Some(json!({
        "ru_utime": tv(ru.ru_utime), "ru_stime": tv(ru.ru_stime),
        "ru_maxrss": ru.ru_maxrss, "ru_minflt": ru.ru_minflt, "ru_majflt": ru.ru_majflt,
        "ru_inblock": ru.ru_inblock, "ru_oublock": ru.ru_oublock,
        "ru_nvcsw": ru.ru_nvcsw, "ru_nivcsw": ru.ru_nivcsw,
    }))
}

/// struct itimerval (`usec`) or itimerspec (nsec): an interval, a value.
pub fn itimer_text(bytes: &[u8], unit: &str) -> Option<String> {
    let (isec, ifrac) = timeval(bytes, 0)?;
    let (vsec, vfrac) = timeval(bytes, 1)?;
    Some(format!(
        "{{it_interval={{tv_sec={isec}, tv_{unit}={ifrac}}}, it_value={{tv_sec={vsec}, tv_{unit}={vfrac}}}}}"
    ))
}

pub fn itimerval_text(bytes: &[u8]) -> Option<String> {
    itimer_text(bytes, "usec")
}

pub fn itimerspec_text(bytes: &[u8]) -> Option<String> {
    itimer_text(bytes, "nsec")
}

pub fn itimer_value(bytes: &[u8], unit: &str) -> Option<Value> {
    let (isec, ifrac) = timeval(bytes, 0)?;
    let (vsec, vfrac) = timeval(bytes, 1)?;
    let frac = format!("tv_{unit}");
    Some(json!({
        "it_interval": {"tv_sec": isec, frac.clone(): ifrac},
        "it_value": {"tv_sec": vsec, frac: vfrac},
    }))
}

const SS_FLAGS: flags::Xlat = &[
    (libc::SS_ONSTACK as u64, "SS_ONSTACK"),
    (libc::SS_DISABLE as u64, "SS_DISABLE"),
    (1 << 31, "SS_AUTODISARM"),
];

/// struct sock_fprog, a seccomp filter program (seccomp's
/// SECCOMP_SET_MODE_FILTER, prctl's PR_SET_SECCOMP): `{len=12, filter=0x7ffd...}`.
pub fn sock_fprog_text(bytes: &[u8]) -> Option<String> {
    let len = read::<u16>(bytes)?;
    let filter = read_at::<u64>(bytes, 1)?;
    Some(format!(
        "{{len={len}, filter={}}}",
        super::super::decoders::ptr(filter)
    ))
}

/// stack_t: `{ss_sp=0x55e0, ss_flags=0, ss_size=16880}`.
pub fn stack_text(bytes: &[u8]) -> Option<String> {
    let (sp, fl, size) = (
        read_at::<u64>(bytes, 0)?,
        read_at::<u32>(bytes, 2)?,
        read_at::<u64>(bytes, 2)?,
    );
    Some(format!(
        "{{ss_sp={}, ss_flags={}, ss_size={size}}}",
        super::super::decoders::ptr(sp),
        flags::flags(SS_FLAGS, u64::from(fl))
    ))
}

pub fn stack_value(bytes: &[u8]) -> Option<Value> {
    let (sp, fl, size) = (
        read_at::<u64>(bytes, 0)?,
        read_at::<u32>(bytes, 2)?,
        read_at::<u64>(bytes, 2)?,
    );
    Some(json!({"ss_sp": sp, "ss_flags": fl, "ss_size": size}))
}

/// The CPUs set in a mask: `[0 1]`.
pub fn cpus(bytes: &[u8]) -> Vec<usize> {
    let mut out = Vec::new();
    for (i, &b) in bytes.iter().enumerate() {
        for bit in 0..8 {
            if b & (1 << bit) != 0 {
                out.push(i * 8 + bit);
            }
        }
    }
    out
}

/// getgroups' and setgroups' list of `n` gids: `[0, 4, 24]`, `...` past
/// what was captured or past `limit` of them (strace's -s, for arrays too).
pub fn gid_list_text(bytes: &[u8], n: u64, limit: usize) -> Option<String> {
    let gids: Vec<String> = bytes
        .chunks_exact(4)
        .take(n.min(limit as u64) as usize)
        .map(|g| u32::from_ne_bytes(g.try_into().expect("4 bytes")).to_string())
        .collect();
    let more = (gids.len() as u64) < n;
    Some(match (gids.is_empty(), more) {
        (_, false) => format!("[{}]", gids.join(", ")),
        (true, true) => "[...]".to_owned(),
        (false, true) => format!("[{}, ...]", gids.join(", ")),
    })
}

pub fn cpu_mask_text(bytes: &[u8]) -> Option<String> {
    let names: Vec<String> = cpus(bytes).iter().map(usize::to_string).collect();
    Some(format!("[{}]", names.join(" ")))
}

/// clone3's flags: clone's, with the 64-bit ones and no exit signal inside.
const CLONE3_FLAGS: flags::Xlat = &[(0x80, "CLONE_NEWTIME")];
const CLONE3_HIGH: flags::Xlat = &[
    (0x1_0000_0000, "CLONE_CLEAR_SIGHAND"),
    (0x2_0000_0000, "CLONE_INTO_CGROUP"),
];

fn clone3_flags(value: u64) -> String {
    if value == 0 {
        return "0".to_owned();
    }
    let mut names = Vec::new();
    let mut left = value;
    for table in [CLONE3_FLAGS, flags::CLONE_FLAGS, CLONE3_HIGH] {
        for &(bits, name) in table {
            if left & bits == bits {
                names.push(name.to_owned());
                left &= !bits;
            }
        }
    }
    if left != 0 {
        names.push(hex(left));
    }
    names.join("|")
}

/// struct clone_args (the kernel's, 88 bytes as of 5.7): the fields strace
/// prints, each where the flags say it is used.
pub fn clone_args_text(bytes: &[u8]) -> Option<String> {
    let f = |i: usize| read_at::<u64>(bytes, i);
    let (fl, pidfd, child_tid, parent_tid, exit_signal) = (f(0)?, f(1)?, f(2)?, f(3)?, f(4)?);
    let (stack, stack_size, tls) = (f(5)?, f(6)?, f(7)?);
    let has = |bits: i32| fl & bits as u32 as u64 != 0;
    let p = super::super::decoders::ptr;
    let mut out = format!("{{flags={}", clone3_flags(fl));
    if has(libc::CLONE_PIDFD) {
        out.push_str(&format!(", pidfd={}", p(pidfd)));
    }
    if has(libc::CLONE_CHILD_SETTID | libc::CLONE_CHILD_CLEARTID) {
        out.push_str(&format!(", child_tid={}", p(child_tid)));
    }
    if has(libc::CLONE_PARENT_SETTID) {
        out.push_str(&format!(", parent_tid={}", p(parent_tid)));
    }
    out.push_str(&format!(
        ", exit_signal={}",
        flags::signal_name(exit_signal as i64)
    ));
    out.push_str(&format!(
        ", stack={}, stack_size={}",
        p(stack),
        hex(stack_size)
    ));
    if has(libc::CLONE_SETTLS) {
        out.push_str(&format!(", tls={}", p(tls)));
    }
    if let (Some(set_tid), Some(n)) = (f(8), f(9)) {
        if n != 0 {
            out.push_str(&format!(", set_tid={}, set_tid_size={n}", p(set_tid)));
        }
    }
    if fl & 0x2_0000_0000 != 0 {
        if let Some(cgroup) = f(10) {
            out.push_str(&format!(", cgroup={cgroup}"));
        }
    }
    out.push('}');
    Some(out)
}

pub fn clone_args_value(bytes: &[u8]) -> Option<Value> {
    let f = |i: usize| read_at::<u64>(bytes, i);
    Some(json!({
        "flags": f(0)?, "pidfd": f(1)?, "child_tid": f(2)?, "parent_tid": f(3)?,
        "exit_signal": f(4)?, "stack": f(5)?, "stack_size": f(6)?, "tls": f(7)?,
    }))
}

/// Whether clone3 writes the child's tid to parent_tid (then strace shows
/// it at exit: `=> {parent_tid=[1234]}`).
pub fn clone_args_sets_parent_tid(bytes: &[u8]) -> bool {
    read::<u64>(bytes).is_some_and(|fl| fl & libc::CLONE_PARENT_SETTID as u64 != 0)
}

/// Whether strace decodes clone3's arguments further at its exit: the call
/// writes back a pidfd or the child's tid.
pub fn clone_args_written_back(bytes: &[u8]) -> bool {
    let back = (libc::CLONE_PIDFD | libc::CLONE_PARENT_SETTID) as u64;
    read::<u64>(bytes).is_some_and(|fl| fl & back != 0)
}

const SIGEV_NOTIFY: flags::Xlat = &[
    (libc::SIGEV_SIGNAL as u64, "SIGEV_SIGNAL"),
    (libc::SIGEV_NONE as u64, "SIGEV_NONE"),
    (libc::SIGEV_THREAD as u64, "SIGEV_THREAD"),
    (libc::SIGEV_THREAD_ID as u64, "SIGEV_THREAD_ID"),
];

/// struct sigevent (timer_create's): `{sigev_signo=SIGALRM,
/// sigev_notify=SIGEV_SIGNAL}`, its value first when it has one.
pub fn sigevent_text(bytes: &[u8]) -> Option<String> {
    let value = read_at::<u64>(bytes, 0)?;
    let (signo, notify) = (read_at::<i32>(bytes, 2)?, read_at::<i32>(bytes, 3)?);
    let mut out = String::from("{");
    if value != 0 {
        out.push_str(&format!(
            "sigev_value={{sival_int={}, sival_ptr={}}}, ",
            value as u32 as i32,
            hex(value)
        ));
    }
    // A signal is named where one is delivered.
    let signal = match notify {
        libc::SIGEV_SIGNAL | libc::SIGEV_THREAD_ID => flags::signal_name(i64::from(signo)),
        _ => signo.to_string(),
    };
    out.push_str(&format!(
        "sigev_signo={signal}, sigev_notify={}",
        flags::xval_or_unknown(SIGEV_NOTIFY, notify as u32 as u64, "SIGEV_???")
    ));
    match notify {
        libc::SIGEV_THREAD_ID => out.push_str(&format!(
            ", sigev_notify_thread_id={}",
            read_at::<i32>(bytes, 4)?
        )),
        libc::SIGEV_THREAD => out.push_str(&format!(
            ", sigev_notify_function={}, sigev_notify_attributes={}",
            super::super::decoders::ptr(read_at::<u64>(bytes, 2)?),
            super::super::decoders::ptr(read_at::<u64>(bytes, 3)?)
        )),
        _ => {}
    }
    out.push('}');
    Some(out)
}

pub fn sigevent_value(bytes: &[u8]) -> Option<Value> {
    Some(json!({
        "sigev_value": read_at::<u64>(bytes, 0)?,
        "sigev_signo": read_at::<i32>(bytes, 2)?,
        "sigev_notify": read_at::<i32>(bytes, 3)?,
    }))
}

/// sched_attr's flags (uapi linux/sched.h).
const SCHED_FLAGS: flags::Xlat = &[
    (0x01, "SCHED_FLAG_RESET_ON_FORK"),
    (0x02, "SCHED_FLAG_RECLAIM"),
    (0x04, "SCHED_FLAG_DL_OVERRUN"),
    (0x08, "SCHED_FLAG_KEEP_POLICY"),
    (0x10, "SCHED_FLAG_KEEP_PARAMS"),
    (0x20, "SCHED_FLAG_UTIL_CLAMP_MIN"),
    (0x40, "SCHED_FLAG_UTIL_CLAMP_MAX"),
];

/// struct sched_attr: the fields its size holds (48 bytes without the
/// utilization clamps).
struct SchedAttr {
    size: u32,
    policy: u32,
    flags: u64,
    nice: i32,
    priority: u32,
    runtime: u64,
    deadline: u64,
    period: u64,
    util: Option<(u32, u32)>,
}

fn sched_attr(b: &[u8]) -> Option<SchedAttr> {
    let size = read::<u32>(b)?;
    Some(SchedAttr {
        size,
        policy: read::<u32>(b.get(4..)?)?,
        flags: read::<u64>(b.get(8..)?)?,
        nice: read::<i32>(b.get(16..)?)?,
        priority: read::<u32>(b.get(20..)?)?,
        runtime: read::<u64>(b.get(24..)?)?,
        deadline: read::<u64>(b.get(32..)?)?,
        period: read::<u64>(b.get(40..)?)?,
        util: if size >= 56 {
            Some((read::<u32>(b.get(48..)?)?, read::<u32>(b.get(52..)?)?))
        } else {
            None
        },
    })
}

/// `{size=56, sched_policy=SCHED_OTHER, sched_flags=0, ...}`.
pub fn sched_attr_text(b: &[u8]) -> Option<String> {
    let a = sched_attr(b)?;
    let policy = flags::xval_or_unknown(flags::SCHED_POLICIES, a.policy.into(), "SCHED_???");
    let fl = flags::flags_or_unknown(SCHED_FLAGS, a.flags, "SCHED_FLAG_???");
    let mut out = format!(
        "{{size={}, sched_policy={policy}, sched_flags={fl}, sched_nice={}, sched_priority={}, \
         sched_runtime={}, sched_deadline={}, sched_period={}",
        a.size, a.nice, a.priority, a.runtime, a.deadline, a.period
    );
    if let Some((min, max)) = a.util {
        out.push_str(&format!(", sched_util_min={min}, sched_util_max={max}"));
    }
    out.push('}');
    Some(out)
}

pub fn sched_attr_value(b: &[u8]) -> Option<Value> {
    let a = sched_attr(b)?;
    let mut v = json!({
        "size": a.size,
        "sched_policy": flags::xval(flags::SCHED_POLICIES, a.policy.into()).map_or(json!(a.policy), |n| json!(n)),
        "sched_flags": a.flags,
        "sched_nice": a.nice,
        "sched_priority": a.priority,
        "sched_runtime": a.runtime,
        "sched_deadline": a.deadline,
        "sched_period": a.period,
    });
    if let Some((min, max)) = a.util {
        v["sched_util_min"] = json!(min);
        v["sched_util_max"] = json!(max);
    }
    Some(v)
}
