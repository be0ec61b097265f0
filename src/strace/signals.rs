//! Signals as strace shows them: `--- SIGCHLD {si_signo=SIGCHLD,
//! si_code=CLD_EXITED, si_pid=42, si_uid=0, si_status=0, si_utime=0,
//! si_stime=0} ---`, the siginfo read as include/uapi/asm-generic/siginfo.h
//! lays it out; and strace's `-e signal=SET`.
use serde_json::{json, Map, Value};

use super::errno;
use super::flags::{hex, signal_name as flag_signal_name, SIGNALS};
use super::structs::clock_t_text;
use crate::kernel::decode::MAX_SIGNAL;
use crate::kernel::SigInfo;

/// `SIGINT`, `SIGRTMIN`, `SIGRT_3`.
pub fn signal_name(sig: i32) -> String {
    flag_signal_name(i64::from(sig))
}

// si_code values (asm-generic/siginfo.h): the ones every signal can have...
const SI_USER: i32 = 0;
const SI_KERNEL: i32 = 0x80;
const SI_QUEUE: i32 = -1;
const SI_TIMER: i32 = -2;
const SI_MESGQ: i32 = -3;
const SI_ASYNCIO: i32 = -4;
const SI_SIGIO: i32 = -5;
const SI_TKILL: i32 = -6;
const SI_DETHREAD: i32 = -7;
const SI_ASYNCNL: i32 = -60;

const GENERIC_CODES: [(i32, &str); 10] = [
    (SI_USER, "SI_USER"),
    (SI_KERNEL, "SI_KERNEL"),
    (SI_QUEUE, "SI_QUEUE"),
    (SI_TIMER, "SI_TIMER"),
    (SI_MESGQ, "SI_MESGQ"),
    (SI_ASYNCIO, "SI_ASYNCIO"),
    (SI_SIGIO, "SI_SIGIO"),
    (SI_TKILL, "SI_TKILL"),
    (SI_DETHREAD, "SI_DETHREAD"),
    (SI_ASYNCNL, "SI_ASYNCNL"),
];

// ...and those of one signal, numbered from 1.
const ILL_CODES: &[&str] = &[
    "ILL_ILLOPC",
    "ILL_ILLOPN",
    "ILL_ILLADR",
    "ILL_ILLTRP",
    "ILL_PRVOPC",
    "ILL_PRVREG",
    "ILL_COPROC",
    "ILL_BADSTK",
    "ILL_BADIADDR",
];
const FPE_CODES: &[&str] = &[
    "FPE_INTDIV",
    "FPE_INTOVF",
    "FPE_FLTDIV",
    "FPE_FLTOVF",
    "FPE_FLTUND",
    "FPE_FLTRES",
    "FPE_FLTINV",
    "FPE_FLTSUB",
    "FPE_DECOVF",
    "FPE_DECDIV",
    "FPE_DECERR",
    "FPE_INVASC",
    "FPE_INVDEC",
    "FPE_FLTUNK",
    "FPE_CONDTRAP",
];
const SEGV_CODES: &[&str] = &[
    "SEGV_MAPERR",
    "SEGV_ACCERR",
    "SEGV_BNDERR",
    "SEGV_PKUERR",
    "SEGV_ACCADI",
    "SEGV_ADIDERR",
    "SEGV_ADIPERR",
    "SEGV_MTEAERR",
    "SEGV_MTESERR",
    "SEGV_CPERR",
];
const BUS_CODES: &[&str] = &[
    "BUS_ADRALN",
    "BUS_ADRERR",
    "BUS_OBJERR",
    "BUS_MCEERR_AR",
    "BUS_MCEERR_AO",
];
const TRAP_CODES: &[&str] = &[
    "TRAP_BRKPT",
    "TRAP_TRACE",
    "TRAP_BRANCH",
    "TRAP_HWBKPT",
    "TRAP_UNK",
    "TRAP_PERF",
];
const CLD_CODES: &[&str] = &[
    "CLD_EXITED",
    "CLD_KILLED",
    "CLD_DUMPED",
    "CLD_TRAPPED",
    "CLD_STOPPED",
    "CLD_CONTINUED",
];
const POLL_CODES: &[&str] = &[
    "POLL_IN", "POLL_OUT", "POLL_MSG", "POLL_ERR", "POLL_PRI", "POLL_HUP",
];
const SYS_CODES: &[&str] = &["SYS_SECCOMP", "SYS_USER_DISPATCH"];

/// What the union of a siginfo holds, which its signal and code decide.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Layout {
    None,
    /// kill, tkill: the sender.
    Kill,
    /// sigqueue, mq_notify: the sender and the value.
    Queue,
    Timer,
    Child,
    Fault,
    Poll,
    Sys,
}

fn signal_codes(signo: i32) -> &'static [&'static str] {
    match signo {
        libc::SIGILL => ILL_CODES,
        libc::SIGFPE => FPE_CODES,
        libc::SIGSEGV => SEGV_CODES,
        libc::SIGBUS => BUS_CODES,
        libc::SIGTRAP => TRAP_CODES,
        libc::SIGCHLD => CLD_CODES,
        libc::SIGIO => POLL_CODES,
        libc::SIGSYS => SYS_CODES,
        _ => &[],
    }
}

fn is_fault(signo: i32) -> bool {
    matches!(
        signo,
        libc::SIGILL | libc::SIGFPE | libc::SIGSEGV | libc::SIGBUS | libc::SIGTRAP
    )
}

/// The name of `code` for signal `signo`, or its number.
pub fn code_name(signo: i32, code: i32) -> String {
    if code > 0 && code != SI_KERNEL {
        if let Some(name) = signal_codes(signo).get(code as usize - 1) {
            return (*name).to_owned();
        }
    }
    match GENERIC_CODES.iter().find(|(c, _)| *c == code) {
        Some((_, name)) => (*name).to_owned(),
        None => code.to_string(),
    }
}

fn layout(info: &SigInfo) -> Layout {
    if info.fields.is_none() {
        return Layout::None;
    }
    match info.code {
        SI_USER | SI_TKILL => Layout::Kill,
        SI_QUEUE | SI_MESGQ => Layout::Queue,
        SI_TIMER => Layout::Timer,
        SI_KERNEL if is_fault(info.signo) => Layout::Fault,
        c if c <= 0 || c == SI_KERNEL => Layout::None,
        _ => match info.signo {
            libc::SIGCHLD => Layout::Child,
            libc::SIGIO => Layout::Poll,
            libc::SIGSYS => Layout::Sys,
            s if is_fault(s) => Layout::Fault,
            _ => Layout::None,
        },
    }
}

fn lo(word: u64) -> i32 {
    word as u32 as i32
}

fn hi(word: u64) -> u32 {
    (word >> 32) as u32
}

/// A pointer as strace prints one: NULL, or in hex.
fn pointer(value: u64) -> String {
    if value == 0 {
        "NULL".to_owned()
    } else {
        hex(value)
    }
}

/// The fields of a siginfo, in strace's order, as (name, text, JSON).
fn fields(info: &SigInfo) -> Vec<(&'static str, String, Value)> {
    let mut out: Vec<(&'static str, String, Value)> = vec![
        (
            "si_signo",
            signal_name(info.signo),
            Value::from(signal_name(info.signo)),
        ),
        (
            "si_code",
            code_name(info.signo, info.code),
            Value::from(code_name(info.signo, info.code)),
        ),
    ];
    if info.errno != 0 {
        let name =
            errno::errno_name(info.errno).map_or_else(|| info.errno.to_string(), str::to_owned);
        out.push(("si_errno", name.clone(), Value::from(name)));
    }
    let f = info.fields.unwrap_or_default();
    let int = |name, v: i64| (name, v.to_string(), Value::from(v));
    let ptr = |name, v: u64| (name, pointer(v), Value::from(v));
    match layout(info) {
        Layout::None => {}
        Layout::Kill => {
            out.push(int("si_pid", i64::from(lo(f[0]))));
            out.push(int("si_uid", i64::from(hi(f[0]))));
        }
        Layout::Queue => {
            out.push(int("si_pid", i64::from(lo(f[0]))));
            out.push(int("si_uid", i64::from(hi(f[0]))));
            // strace shows the value only when it is set.
            if f[1] != 0 {
                out.push(int("si_int", i64::from(lo(f[1]))));
                out.push(ptr("si_ptr", f[1]));
            }
        }
        Layout::Timer => {
            // strace prints the kernel's timer id in hex.
            let id = lo(f[0]);
            let text = match id {
                0 => "0".to_owned(), // C's %#x
                _ => format!("{id:#x}"),
            };
            out.push(("si_timerid", text, Value::from(id)));
            out.push(int("si_overrun", i64::from(hi(f[0]) as i32)));
            out.push(int("si_int", i64::from(lo(f[1]))));
            out.push(ptr("si_ptr", f[1]));
        }
        Layout::Child => {
            out.push(int("si_pid", i64::from(lo(f[0]))));
            out.push(int("si_uid", i64::from(hi(f[0]))));
            let status = lo(f[1]);
            // An exit status for CLD_EXITED, a signal for the others
            // (killed, dumped, trapped, stopped, continued).
            if info.code != libc::CLD_EXITED {
                let name = signal_name(status);
                out.push(("si_status", name.clone(), Value::from(name)));
            } else {
                out.push(int("si_status", i64::from(status)));
            }
            // Clock ticks, with their seconds (strace's PRINT_FIELD_CLOCK_T).
            for (name, ticks) in [("si_utime", f[2]), ("si_stime", f[3])] {
                out.push((name, clock_t_text(ticks), Value::from(ticks)));
            }
        }
        Layout::Fault => out.push(ptr("si_addr", f[0])),
        Layout::Poll => {
            out.push(int("si_band", f[0] as i64));
            out.push(int("si_fd", i64::from(lo(f[1]))));
        }
        Layout::Sys => {
            let (nr, arch) = (lo(f[1]), hi(f[1]));
            out.push(ptr("si_call_addr", f[0]));
            out.push(("si_syscall", seccomp_syscall(nr, arch), Value::from(nr)));
            let arch_text = audit_arch_name(arch).map_or_else(
                || format!("{} /* AUDIT_ARCH_??? */", hex(arch.into())),
                str::to_owned,
            );
            out.push(("si_arch", arch_text, Value::from(arch)));
        }
    }
    out
}

/// The audit architectures (uapi linux/audit.h) of the systems systrace
/// builds for and of their 32-bit modes: what a seccomp filter was
/// given, and a SIGSYS it raised carries.
const AUDIT_ARCHES: [(u32, &str); 4] = [
    (0xc000_003e, "AUDIT_ARCH_X86_64"),
    (0x4000_0003, "AUDIT_ARCH_I386"),
    (0xc000_00b7, "AUDIT_ARCH_AARCH64"),
    (0x4000_0028, "AUDIT_ARCH_ARM"),
];

#[cfg(target_arch = "aarch64")]
const NATIVE_AUDIT_ARCH: u32 = 0xc000_00b7;
#[cfg(not(target_arch = "aarch64"))]
const NATIVE_AUDIT_ARCH: u32 = 0xc000_003e;

fn audit_arch_name(arch: u32) -> Option<&'static str> {
    AUDIT_ARCHES
        .iter()
        .find(|&&(value, _)| value == arch)
        .map(|&(_, name)| name)
}

/// A SIGSYS's si_syscall as strace prints it: `__NR_getppid` for a
/// syscall of this architecture that has a name, else the number (a
/// 32-bit call's numbers are another table's).
fn seccomp_syscall(nr: i32, arch: u32) -> String {
    u32::try_from(nr)
        .ok()
        .filter(|_| arch == NATIVE_AUDIT_ARCH)
        .and_then(crate::metadata::names::syscall_name)
        .map_or_else(|| nr.to_string(), |name| format!("__NR_{name}"))
}

/// `{si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=42, ...}`.
pub fn siginfo_text(info: &SigInfo) -> String {
    let items: Vec<String> = fields(info)
        .into_iter()
        .map(|(name, text, _)| format!("{name}={text}"))
        .collect();
    format!("{{{}}}", items.join(", "))
}

/// `--- SIGCHLD {si_signo=SIGCHLD, ...} ---`; `--- SIGKILL ---` without
/// a siginfo.
pub fn signal_line(info: &SigInfo) -> String {
    if info.fields.is_none() {
        return format!("--- {} ---", signal_name(info.signo));
    }
    format!("--- {} {} ---", signal_name(info.signo), siginfo_text(info))
}

/// The fields of the siginfo as a JSON object (names as strace's).
pub fn siginfo_json(info: &SigInfo) -> Value {
    let mut map = Map::new();
    for (name, _, value) in fields(info) {
        map.insert(name.to_owned(), value);
    }
    json!(map)
}

/// A set of signals, as strace's `-e signal=SET` reads it: names with or
/// without SIG, numbers, `all`, `none`, comma-separated; a leading `!` for
/// the others.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignalSet(u128);

impl Default for SignalSet {
    fn default() -> Self {
        SignalSet::all()
    }
}

impl SignalSet {
    pub fn all() -> Self {
        SignalSet(((1u128 << MAX_SIGNAL) - 1) << 1)
    }

    pub fn none() -> Self {
        SignalSet(0)
    }

    pub fn contains(&self, sig: u32) -> bool {
        sig < 128 && self.0 & (1u128 << sig) != 0
    }

    pub fn is_all(&self) -> bool {
        *self == SignalSet::all()
    }

    /// The signals in the set, in order.
    pub fn signals(&self) -> Vec<u32> {
        (1..=MAX_SIGNAL).filter(|&s| self.contains(s)).collect()
    }

    pub fn from_signals(signals: impl IntoIterator<Item = u32>) -> Result<Self, String> {
        let mut set = SignalSet::none();
        for sig in signals {
            if sig == 0 || sig > MAX_SIGNAL {
                return Err(format!("invalid signal {sig}"));
            }
            set.0 |= 1u128 << sig;
        }
        Ok(set)
    }

    pub fn parse(spec: &str) -> Result<Self, String> {
        let (negate, list) = match spec.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, spec),
        };
        let mut set = SignalSet::none();
        for item in list.split(',').map(str::trim) {
            match item {
                "all" => set = SignalSet::all(),
                "none" => {}
                _ => set.0 |= 1u128 << parse_signal(item)?,
            }
        }
        if negate {
            set.0 = !set.0 & SignalSet::all().0;
        }
        Ok(set)
    }
}

/// A signal by name (`SIGINT`, `int`, `SIGRTMIN`, `RT_3`) or number.
pub fn parse_signal(item: &str) -> Result<u32, String> {
    let invalid = || format!("invalid signal '{item}'");
    if let Ok(n) = item.parse::<u32>() {
        return if (1..=MAX_SIGNAL).contains(&n) {
            Ok(n)
        } else {
            Err(invalid())
        };
    }
    let upper = item.to_ascii_uppercase();
    let name = if upper.starts_with("SIG") {
        upper
    } else {
        format!("SIG{upper}")
    };
    if let Some((value, _)) = SIGNALS.iter().find(|(_, n)| *n == name) {
        return Ok(*value as u32);
    }
    (32..=MAX_SIGNAL)
        .find(|&s| signal_name(s as i32) == name)
        .ok_or_else(invalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(signo: i32, code: i32, f: [u64; 4]) -> SigInfo {
        SigInfo {
            signo,
            errno: 0,
            code,
            fields: Some(f),
            handler: 0,
            at_send: false,
            ignored: false,
            from_self: false,
        }
    }

    #[test]
    fn strace_lines() {
        let chld = info(17, 1, [1234, 0, 0, 0]);
        assert_eq!(
            signal_line(&chld),
            "--- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=1234, si_uid=0, \
             si_status=0, si_utime=0, si_stime=0} ---"
        );
        let killed = info(17, 2, [1234 | 1000 << 32, 15, 1, 2]);
        // Clock ticks with their seconds (USER_HZ is 100 on Linux).
        assert!(siginfo_text(&killed).contains(
            "si_uid=1000, si_status=SIGTERM, si_utime=1 /* 0.01 s */, si_stime=2 /* 0.02 s */}"
        ));
        assert_eq!(
            signal_line(&info(10, SI_USER, [42, 0, 0, 0])),
            "--- SIGUSR1 {si_signo=SIGUSR1, si_code=SI_USER, si_pid=42, si_uid=0} ---"
        );
        assert_eq!(
            signal_line(&info(11, 1, [0; 4])),
            "--- SIGSEGV {si_signo=SIGSEGV, si_code=SEGV_MAPERR, si_addr=NULL} ---"
        );
        assert_eq!(
            siginfo_text(&info(11, 2, [0x1000, 0, 0, 0])),
            "{si_signo=SIGSEGV, si_code=SEGV_ACCERR, si_addr=0x1000}"
        );
        assert_eq!(
            siginfo_text(&info(14, SI_KERNEL, [0; 4])),
            "{si_signo=SIGALRM, si_code=SI_KERNEL}"
        );
        // A seccomp filter's SIGSYS (SYS_SECCOMP): the call it refused.
        let getppid = crate::metadata::names::resolve("getppid").unwrap();
        let sys = info(
            31,
            1,
            [
                0x7f00_0000_1829,
                u64::from(getppid) | u64::from(NATIVE_AUDIT_ARCH) << 32,
                0,
                0,
            ],
        );
        let native = audit_arch_name(NATIVE_AUDIT_ARCH).unwrap();
        assert!(siginfo_text(&sys).ends_with(&format!(
            "si_call_addr=0x7f0000001829, si_syscall=__NR_getppid, si_arch={native}}}"
        )));
        let i386 = info(31, 1, [0x1000, 20 | 0x4000_0003u64 << 32, 0, 0]);
        assert!(siginfo_text(&i386).ends_with("si_syscall=20, si_arch=AUDIT_ARCH_I386}"));
        let odd = info(31, 1, [0x1000, 20 | 0x1234u64 << 32, 0, 0]);
        assert!(siginfo_text(&odd).ends_with("si_arch=0x1234 /* AUDIT_ARCH_??? */}"));
        let mut no_info = info(9, 0, [0; 4]);
        no_info.fields = None;
        assert_eq!(signal_line(&no_info), "--- SIGKILL ---");
        assert_eq!(
            siginfo_json(&chld)["si_code"],
            Value::from("CLD_EXITED".to_owned())
        );
    }

    #[test]
    fn signal_sets() {
        let set = SignalSet::parse("SIGCHLD,usr1,15").unwrap();
        assert_eq!(set.signals(), vec![10, 15, 17]);
        let not = SignalSet::parse("!chld").unwrap();
        assert!(!not.contains(17) && not.contains(1) && not.contains(64));
        assert!(SignalSet::parse("all").unwrap().is_all());
        assert!(SignalSet::parse("none").unwrap().signals().is_empty());
        assert_eq!(SignalSet::parse("SIGRTMIN").unwrap().signals(), vec![32]);
        assert_eq!(
            SignalSet::parse("bogus").unwrap_err(),
            "invalid signal 'bogus'"
        );
        assert!(SignalSet::parse("65").is_err() && SignalSet::parse("0").is_err());
    }
}
