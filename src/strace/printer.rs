//! The `systrace` command's hot path: events in, the text of the trace out.
//! Pairs enter and exit events per thread ([`Pairer`]), keeps what the
//! command's options select, and writes each call as strace does (or as one
//! JSON object, or each event as the kernel's trace text), or counts it for
//! the `-c` table. It also keeps the bookkeeping the command needs: which
//! threads are traced (for the `[pid N]` prefix and for -f's wait) and how
//! the processes that called exit_group ended.
//!
//! Each call's text is its [`Call`]'s, the same code `systrace.Call`
//! runs; each event's is `text::kernel`'s, as `Event.format_line()`.
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::fmt::Write;

use super::call::Call;
use super::fdtable::{decode_fd, FdTable, Resolved};
use super::outcome::{ProcessEnd, StatusFilter};
use super::pair::{Pairer, TidMap};
use super::quote::HexStyle;
use super::select::Selection;
use super::signals::SignalSet;
use super::summary::Summary;
use super::{StraceOptions, DEFAULT_COLUMN};
use crate::kernel::{Bitmap, Event, EventKind, Phase};
use crate::metadata::display_name;
use crate::text::kernel::{format_event, Style};

/// Syscalls whose child side returns 0 with no enter of its own.
const FORKS: [&str; 4] = ["clone", "clone3", "fork", "vfork"];
/// What ends the first part of a call another line cut.
const UNFINISHED: &str = " <unfinished ...>";

/// What is written per call (or per event).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputFormat {
    /// strace's lines.
    Strace,
    /// One JSON object per call (`systrace.json_line`).
    Json,
    /// The kernel's trace text, one line per event.
    Kernel,
}

impl OutputFormat {
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "strace" => Some(OutputFormat::Strace),
            "json" => Some(OutputFormat::Json),
            "kernel" => Some(OutputFormat::Kernel),
            _ => None,
        }
    }
}

/// Which lines carry the pid of their thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PidPrefix {
    None,
    /// `[pid N] ` while more than one thread is traced (strace on stderr).
    Bracketed,
    /// `N ` while more than one thread is traced: a file with one process
    /// and no -f, where strace traces one thread and so has none (the
    /// command shows one thread too, `threads`; a printer of every thread
    /// tells them apart).
    WhileThreads,
    /// `N ` on every line (strace -o FILE with -f or several -p).
    Always,
    /// No prefix: each line goes to its thread's file (strace -ff -o
    /// PREFIX), told by [`Printer::take_owners`]; calls print whole.
    PerThread,
}

impl PidPrefix {
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "none" => Some(PidPrefix::None),
            "stderr" => Some(PidPrefix::Bracketed),
            "file" => Some(PidPrefix::WhileThreads),
            "always" => Some(PidPrefix::Always),
            "per-thread" => Some(PidPrefix::PerThread),
            _ => None,
        }
    }
}

/// A thread's command name as the events carry it.
type Comm = [u8; crate::kernel::layout::TASK_COMM_LEN];

/// The command's options that shape its output.
#[derive(Clone, Debug)]
pub struct PrinterOptions {
    pub format: OutputFormat,
    /// `-e`: the syscalls shown, per phase (--format kernel shows the
    /// events of each phase; the other formats show the calls of either);
    /// None for all.
    pub selected: Option<Selection>,
    /// `-c`: count, print no calls.
    pub summary: bool,
    /// `-O`: taken off each counted call's time, down to 0.
    pub summary_overhead_ns: u64,
    /// `-b execve`: the programs let each process go at its exec but the
    /// one that starts `main_pid`'s trace (see `detach_at_exec`).
    pub detach_on_execve: bool,
    /// strace's `Process N detached` in the line the detach ends (its
    /// trace on standard error, without -q).
    pub detach_messages: bool,
    /// `-T`.
    pub durations: bool,
    /// `-t` (1), `-tt` (2), `-ttt` (3).
    pub timestamps: u8,
    /// `-r`: the time since the line printed before.
    pub relative_timestamps: bool,
    /// The digits after the second of each of these times.
    pub precision: Precision,
    /// `-e read=SET`, `-e write=SET`: the data of the calls on those fds,
    /// dumped after their lines.
    pub dump_read: Option<super::dump::FdSet>,
    pub dump_write: Option<super::dump::FdSet>,
    /// `-s`.
    pub string_size: usize,
    /// `-x`, `-xx`.
    pub hex: HexStyle,
    /// `-a`: the column results are aligned on.
    pub column: usize,
    /// The pid prefix of the lines.
    pub prefix: PidPrefix,
    /// `-e status=`, `-z`, `-Z`: the calls shown (not those counted by -c).
    pub status: StatusFilter,
    /// `-qq`: no `+++ exited with N +++` lines.
    pub quiet_exits: bool,
    /// `-e signal=`: the signals shown.
    pub signals: SignalSet,
    /// The events carry the threads' exits: a process's end is told by its
    /// last thread's, not by its exit_group (nor, for a launched command,
    /// by the caller).
    pub task_exits: bool,
    /// With `task_exits`: a line for each thread's end too (strace -f).
    pub thread_exits: bool,
    /// A launched command: its end is told by the caller (waitpid), not by
    /// its exit_group. (Its session shows it from its execve on.)
    pub main_pid: Option<u32>,
    /// Wall clock minus CLOCK_MONOTONIC, for `-t`.
    pub wall_offset_ns: i64,
    /// strace's --decode-fds set (`fdtable::decode_fd` bits): `-y` is
    /// PATH, what fds refer to; `-yy` ALL: socket endpoints, device
    /// numbers and a pidfd's process too.
    pub decode_fds: u8,
    /// The traced processes run now, so /proc may be read (not a replay).
    pub live: bool,
    /// `-n`: each line's syscall number, `[ 231] `, after its time.
    pub syscall_numbers: bool,
    /// `-P`: show only the calls that touch one of these paths (strace's
    /// set: each path as given, and where it resolves to); empty: all.
    pub trace_paths: Vec<String>,
    /// strace's `Process N attached` for each thread -f follows (its
    /// trace on standard error, without -q): `systrace: Process N
    /// attached` before the thread's first line.
    pub attach_messages: bool,
    /// `-e raw=`: the syscalls whose calls print undecoded, in hex.
    pub raw: std::collections::BTreeSet<u32>,
    /// `-e abbrev=SET` (`-v`: none): the syscalls whose structures print
    /// whole, not abbreviated (strace's default: none).
    pub unabbreviated: std::collections::BTreeSet<u32>,
    /// `-e verbose=SET`: the syscalls whose structures print as their
    /// addresses, not decoded (strace's default: none).
    pub not_verbose: std::collections::BTreeSet<u32>,
    /// `-Y`: each process or thread id with its command name,
    /// `kill(42<sleep>, SIGTERM)`, the line's pid prefix too.
    pub decode_pids: bool,
    /// strace's `+++ superseded by execve in pid T +++` when a thread
    /// other than the first execs (not with -e quiet=thread-execve).
    pub superseded: bool,
    /// Without -f, strace traces one thread of each process: a launched
    /// command's first, the thread each -p names. Some: only these
    /// threads' calls and signals are shown (the others' ends still tell
    /// their process's); None: every thread's.
    pub threads: Option<HashSet<u32>>,
}

/// The digits after the second of -t's, -r's and -T's times: strace's
/// precisions s (0), ms (3), us (6) and ns (9).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Precision {
    /// None: as the count of -t says (none for -t, 6 for -tt and -ttt).
    pub absolute: Option<u8>,
    pub relative: u8,
    pub duration: u8,
}

impl Default for Precision {
    fn default() -> Self {
        Precision {
            absolute: None,
            relative: 6,
            duration: 6,
        }
    }
}

impl Default for PrinterOptions {
    fn default() -> Self {
        PrinterOptions {
            format: OutputFormat::Strace,
            selected: None,
            summary: false,
            summary_overhead_ns: 0,
            detach_on_execve: false,
            detach_messages: false,
            durations: false,
            timestamps: 0,
            relative_timestamps: false,
            precision: Precision::default(),
            dump_read: None,
            dump_write: None,
            string_size: super::DEFAULT_STRING_SIZE,
            hex: HexStyle::None,
            column: DEFAULT_COLUMN,
            prefix: PidPrefix::Bracketed,
            status: StatusFilter::default(),
            quiet_exits: false,
            signals: SignalSet::all(),
            task_exits: false,
            thread_exits: false,
            main_pid: None,
            wall_offset_ns: 0,
            decode_fds: 0,
            live: true,
            syscall_numbers: false,
            trace_paths: Vec::new(),
            attach_messages: false,
            raw: Default::default(),
            unabbreviated: Default::default(),
            not_verbose: Default::default(),
            decode_pids: false,
            superseded: true,
            threads: None,
        }
    }
}

/// -y's table. A live command's session traces every call that changes
/// fds (the command adds them to -e), so its table is complete; the
/// launched command's fds are read now, while it waits for its execve.
fn fd_table(opts: &PrinterOptions) -> FdTable {
    let mut table = FdTable::new(opts.live, opts.decode_fds & !decode_fd::PATH);
    table.set_complete(opts.live);
    if let (true, Some(pid)) = (opts.live, opts.main_pid) {
        table.seed(pid);
    }
    table
}

/// Whether the fork call entered by `ev` makes a process, not a thread
/// (CLONE_THREAD in clone's flags, or in clone3's struct clone_args when
/// it was read).
fn makes_process(ev: &Event) -> bool {
    const CLONE_THREAD: u64 = libc::CLONE_THREAD as u64;
    let flags = match crate::metadata::syscall_name(ev.nr) {
        Some("clone") => Some(ev.args[0]),
        Some("clone3") => ev
            .captures()
            .find(|c| c.arg == 0 && c.has_value())
            .and_then(|c| Some(u64::from_ne_bytes(c.bytes.get(..8)?.try_into().ok()?))),
        _ => None,
    };
    flags.is_none_or(|f| f & CLONE_THREAD == 0)
}

/// The name an exec entered by `ev` gives its thread if it succeeds: the
/// kernel's `kbasename(bprm->filename)`, cut to a comm's length (a
/// script's own name, not its interpreter's; execveat of an fd alone,
/// `/dev/fd/N`, is `N`). None when the filename was not read whole.
fn exec_comm(ev: &Event, execveat: bool) -> Option<Comm> {
    let (path_arg, fd) = if execveat {
        (1, ev.args[0] as u32 as i32)
    } else {
        (0, libc::AT_FDCWD)
    };
    let capture = ev.captures().find(|c| usize::from(c.arg) == path_arg)?;
    if !capture.has_value() || capture.truncated {
        return None;
    }
    let path = capture.bytes.split(|&b| b == 0).next().unwrap_or(&[]);
    let fd_text;
    let name = match path {
        // execveat(fd, "", AT_EMPTY_PATH): the kernel's "/dev/fd/N".
        [] if fd >= 0 => {
            fd_text = fd.to_string();
            fd_text.as_bytes()
        }
        [] => return None,
        _ => path.rsplit(|&b| b == b'/').next().unwrap_or(path),
    };
    let mut comm = [0u8; crate::kernel::layout::TASK_COMM_LEN];
    let len = name.len().min(comm.len() - 1);
    comm[..len].copy_from_slice(&name[..len]);
    Some(comm)
}

/// Turns a stream of events into the command's output.
#[derive(Debug)]
pub struct Printer {
    opts: PrinterOptions,
    /// How calls print (from `opts`).
    text: StraceOptions,
    /// `-e` as a bitmap by syscall number, per phase (Phase::index).
    shown: Option<[Bitmap; 2]>,
    /// `-e raw=` as a bitmap (None: no call prints raw).
    raw: Option<Bitmap>,
    /// `-e abbrev=` as a bitmap of the syscalls not abbreviated (None: all are).
    unabbreviated: Option<Bitmap>,
    /// `-e verbose=` as a bitmap of the syscalls not verbose (None: all are).
    not_verbose: Option<Bitmap>,
    pairer: Pairer,
    /// The calls of threads not shown (`threads`), paired apart: only
    /// their fds are followed, and none of them ever prints.
    untraced: Pairer,
    counts: Summary,
    /// tid -> pid of the threads seen and not gone.
    live: TidMap<u32>,
    /// pid -> the status its exit_group gave.
    exited: HashMap<u32, i32>,
    /// -b execve: the processes let go at an exec since user space last
    /// took them (take_detached: not kept over a long trace); and whether
    /// main_pid's launch exec, which does not let it go, has been seen.
    detached: Vec<u32>,
    launch_exec_seen: bool,
    /// The thread whose call is on the line in progress: entered, its line
    /// waiting for its exit (strace prints the enter as it happens, and
    /// cuts it with `<unfinished ...>` when another line comes first).
    held: Option<u32>,
    /// The held call's enter has a capture that faulted (read again at its
    /// exit), not yet looked for in the batch.
    held_retry: bool,
    /// The held call's exit, found ahead in the batch (see `feed`).
    held_exit: Option<Event>,
    /// The held call's first part, written before its end (see `idle`).
    begun: Option<Begun>,
    /// The held call (tid, its enter's time) at the end of the consumer's
    /// last round (see `idle`).
    held_at_idle: Option<(u32, u64)>,
    /// The held call `idle` last looked for unseen threads for, and
    /// whether it found one.
    unseen_checked: Option<((u32, u64), bool)>,
    /// -p: the children the attached processes had (-f follows only the
    /// ones they fork after).
    children_at_attach: HashSet<u32>,
    /// -p: the consumer's rounds ended since `adopt` read /proc.
    rounds_since_attach: u32,
    /// Threads whose call was cut: its exit prints `<... read resumed>`.
    split: HashSet<u32>,
    /// tid -> the call a signal interrupted to be restarted
    /// (ERESTART_RESTARTBLOCK), which restart_syscall resumes.
    interrupted: HashMap<u32, Cow<'static, str>>,
    /// -p: tid -> the call it was blocked in when attached, until the
    /// thread's first syscall event (see `adopt`).
    in_call_at_attach: HashMap<u32, AttachedCall>,
    /// Processes whose end was told.
    ended: HashSet<u32>,
    /// Of those, the ones told by their last thread's exit (the caller
    /// need not tell them).
    told_by_exit: HashSet<u32>,
    /// tid -> a call that returned -ERESTART* or -EINTR (epoll_wait's, a
    /// signal's), or returned after SIGKILL was sent to its
    /// process, its line waiting for the thread's next event: if that is
    /// its death (a SIGKILL without siginfo, its exit), the call never
    /// returned to the process, which strace shows as `<unfinished ...>)
    /// = ?` (`kill(0, SIGKILL) = ?` for `timeout -s KILL`).
    restarting: HashMap<u32, (Call, Option<Resolved>)>,
    /// tid -> a fatal signal recorded when it was sent, to a thread in a
    /// call: shown once the call's line is (strace, whose tracing stops the
    /// kernel from killing at the sending, sees the call end, then the
    /// signal).
    deferred_signals: HashMap<u32, Event>,
    /// pid -> when a traced call began sending it SIGKILL: its calls that
    /// return after that wait, as `restarting`, for their thread's next
    /// event (`kill(0, SIGKILL) = ?` for `timeout -s KILL`).
    sigkilled: HashMap<u32, u64>,
    /// Calls completed by one event (reused).
    done: Vec<Call>,
    /// -y and -P: the fd tables, fed every call (those -e hides too).
    fds: Option<FdTable>,
    /// -n: tid -> the syscall it is in or made last (a signal's line,
    /// an exit's, show that one).
    last_nr: TidMap<u32>,
    /// -Y: each thread's command name as its latest event gave it, and
    /// whether that event entered an exec.
    comms: TidMap<(Comm, bool)>,
    /// -Y: the name each thread whose latest event is its entry into an
    /// exec will have once the exec is past its point of no return.
    exec_names: TidMap<Comm>,
    /// execve's and execveat's numbers.
    exec_nrs: [u32; 2],
    /// -Y: the names of the ids each thread's call in progress names, as
    /// at its entry (by the entry's time).
    entry_pids: TidMap<(u64, Vec<(usize, String)>)>,
    /// -P: the calls (tid, enter time) entered without touching its paths.
    path_hidden: HashSet<(u32, u64)>,
    /// -P: fd and path arguments it could not compare.
    unknown_for_paths: u64,
    /// -r: the time of the line printed last (a Cell: lines are prefixed
    /// from `&self`).
    last_line_ns: std::cell::Cell<Option<u64>>,
    /// PidPrefix::PerThread: (tid, offset in `out`) of each line begun
    /// since the last take_owners().
    owners: std::cell::RefCell<Vec<(u32, usize)>>,
}

/// -ERESTART_RESTARTBLOCK: the call is resumed by restart_syscall.
const RESTART_BLOCK: i64 = -516;

/// A thread's /proc/TID/syscall (`NR ARG1 ... ARG6 SP PC` while blocked
/// in a call; `running`, or `-1 SP PC` outside one): None outside a call,
/// else whether an interruption makes the kernel resume that call by
/// restart_syscall (-ERESTART_RESTARTBLOCK) rather than run it again
/// (-ERESTARTSYS, -ERESTARTNOHAND) or fail it: nanosleep, a relative
/// clock_nanosleep, poll, a futex wait with a timeout, and restart_syscall.
fn restarts_by_restart_syscall(text: &str) -> Option<bool> {
    let mut fields = text.split_whitespace();
    let nr = fields.next()?.parse::<i64>().ok().filter(|&nr| nr >= 0)?;
    let args: Vec<u64> = fields
        .take(6)
        .map(|f| u64::from_str_radix(f.trim_start_matches("0x"), 16).unwrap_or(0))
        .collect();
    let arg = |i: usize| args.get(i).copied().unwrap_or(0);
    const TIMER_ABSTIME: u64 = 1;
    const FUTEX_CMD_MASK: u64 = !(128 | 256); // FUTEX_PRIVATE_FLAG, FUTEX_CLOCK_REALTIME
    let nr = u32::try_from(nr).ok()?;
    Some(match &*display_name(nr) {
        "nanosleep" | "poll" | "restart_syscall" => true,
        "clock_nanosleep" => arg(1) & TIMER_ABSTIME == 0,
        "futex" => {
            let cmd = arg(1) & FUTEX_CMD_MASK;
            (cmd == libc::FUTEX_WAIT as u64 || cmd == libc::FUTEX_WAIT_BITSET as u64) && arg(3) != 0
        }
        _ => false,
    })
}

/// The children of the thread whose /proc directory is `task`.
fn children_of(task: &std::path::Path) -> impl Iterator<Item = u32> {
    let text = std::fs::read_to_string(task.join("children")).unwrap_or_default();
    let pids: Vec<u32> = text
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect();
    pids.into_iter()
}

/// A held call's first part, written while the call goes on (`read(0, `).
#[derive(Debug)]
struct Begun {
    tid: u32,
    /// The text written: its line begins with it, whether it ends or is cut.
    text: String,
    /// -r: the time of the line before it, as it was: its rest prints the
    /// line's prefix again, with the same time since that line.
    last_line_ns: Option<u64>,
}

/// -p: the call a thread was blocked in when attached, as strace's attach
/// makes it go on: it interrupts the call, and the kernel then resumes it
/// by restart_syscall, or runs it again from its start.
#[derive(Debug)]
enum AttachedCall {
    /// A sleep the kernel resumes by restart_syscall (its number here):
    /// the call's exit is restart_syscall's (`first_after_attach`).
    Resumed(u32),
    /// A call the kernel runs again (read, wait4, accept...): strace
    /// shows it whole, where systrace, which does not interrupt it, sees
    /// only its exit; its enter, from /proc (`enter_before_attach`).
    RunAgain(Event),
    /// One whose number has no metadata (or no restart_syscall).
    Unknown,
}

/// The enter of the call a thread is blocked in, from its
/// /proc/TID/syscall (see `restarts_by_restart_syscall`), dated now, with
/// what its enter would have read of the caller's memory read now (the
/// call has not returned: a path, write's data, an address, poll's fds).
fn blocked_enter(text: &str, pid: u32, tid: u32) -> Option<Event> {
    let mut fields = text.split_whitespace();
    let nr = fields.next()?.parse::<u32>().ok()?;
    let meta = crate::metadata::names::metadata().syscall_nr_to_meta(nr)?;
    let mut args = [0u64; crate::kernel::layout::MAX_ARGS];
    for (arg, field) in args.iter_mut().zip(fields.take(6)) {
        *arg = u64::from_str_radix(field.trim_start_matches("0x"), 16).ok()?;
    }
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid timespec to fill.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now) };
    let nb_args = meta.nb_args().min(crate::kernel::layout::MAX_ARGS);
    let items = crate::trace::capture::read_enter_now(pid, meta, &args[..nb_args]);
    // -Y: the thread's name, as an enter of the programs' carries it.
    let mut comm = [0; crate::kernel::layout::TASK_COMM_LEN];
    if let Ok(name) = std::fs::read(format!("/proc/{pid}/task/{tid}/comm")) {
        let name = name.strip_suffix(b"\n").unwrap_or(&name);
        let n = name.len().min(comm.len() - 1);
        comm[..n].copy_from_slice(&name[..n]);
    }
    let data = (!items.is_empty()).then(|| crate::kernel::decode::encode_captures(&items).into());
    Some(Event {
        kind: EventKind::Syscall,
        timestamp_ns: now.tv_sec as u64 * 1_000_000_000 + now.tv_nsec as u64,
        pid,
        root: pid,
        tid,
        nr,
        cpu: 0,
        phase: Phase::Enter,
        nb_args: nb_args as u8,
        args,
        ret: 0,
        comm,
        data,
    })
}

impl Printer {
    pub fn new(opts: PrinterOptions) -> Self {
        let shown = opts
            .selected
            .as_ref()
            .map(|sel| [sel.enter.iter().collect(), sel.exit.iter().collect()]);
        if opts.timestamps > 0 && opts.timestamps < 3 {
            init_localtime();
        }
        Printer {
            shown,
            text: StraceOptions {
                string_size: opts.string_size,
                column: opts.column,
                hex: opts.hex,
                raw: false,
                abbrev: true,
                verbose: true,
            },
            raw: (!opts.raw.is_empty()).then(|| opts.raw.iter().collect()),
            unabbreviated: (!opts.unabbreviated.is_empty())
                .then(|| opts.unabbreviated.iter().collect()),
            not_verbose: (!opts.not_verbose.is_empty()).then(|| opts.not_verbose.iter().collect()),
            pairer: Pairer::new(),
            untraced: Pairer::new(),
            counts: Summary::with_overhead(opts.summary_overhead_ns),
            live: TidMap::default(),
            comms: TidMap::default(),
            exec_names: TidMap::default(),
            exec_nrs: crate::trace::registry::exec_syscalls(),
            entry_pids: TidMap::default(),
            exited: HashMap::new(),
            detached: Vec::new(),
            launch_exec_seen: false,
            held: None,
            held_retry: false,
            held_exit: None,
            begun: None,
            held_at_idle: None,
            unseen_checked: None,
            children_at_attach: HashSet::new(),
            rounds_since_attach: 0,
            split: HashSet::new(),
            interrupted: HashMap::new(),
            in_call_at_attach: HashMap::new(),
            ended: HashSet::new(),
            told_by_exit: HashSet::new(),
            restarting: HashMap::new(),
            deferred_signals: HashMap::new(),
            sigkilled: HashMap::new(),
            done: Vec::new(),
            fds: (opts.decode_fds > 0 || !opts.trace_paths.is_empty()).then(|| fd_table(&opts)),
            last_nr: TidMap::default(),
            path_hidden: HashSet::new(),
            unknown_for_paths: 0,
            last_line_ns: std::cell::Cell::new(None),
            owners: std::cell::RefCell::new(Vec::new()),
            opts,
        }
    }

    pub fn options(&self) -> &PrinterOptions {
        &self.opts
    }

    /// With PidPrefix::PerThread: whose each line is, as (tid, where it
    /// begins in the `out` it was printed to), since the last call.
    pub fn take_owners(&mut self) -> Vec<(u32, usize)> {
        std::mem::take(self.owners.get_mut())
    }

    /// Feeds events; appends their lines to `out`, in the order the events
    /// happened: a call's line once it returns, cut in two (`<unfinished
    /// ...>`, `<... read resumed>`) when another line comes between its
    /// enter and its exit, as strace -f prints.
    pub fn feed<'a>(&mut self, events: impl IntoIterator<Item = &'a Event>, out: &mut String) {
        let mut events: Vec<&Event> = events.into_iter().collect();
        // The ring buffer gives records in the order they were committed,
        // which across CPUs can differ a little from the order of their
        // times. Stable: one thread's events keep their order.
        events.sort_by_key(|ev| ev.timestamp_ns);
        for (i, ev) in events.iter().enumerate() {
            if self.held_retry && self.held.is_some_and(|tid| tid != ev.tid) {
                // The held call's first part may be printed now, cut by
                // this event. A string its enter could not read (its page
                // not yet faulted in) was read again at its exit: if that
                // is in this batch, the first part shows it, as strace's
                // does.
                self.held_retry = false;
                let tid = self.held.unwrap_or_default();
                self.held_exit = events[i + 1..]
                    .iter()
                    .find(|e| e.tid == tid && e.is_syscall() && e.phase == Phase::Exit)
                    .map(|e| (*e).clone());
            }
            self.event(ev, out);
        }
    }

    fn event(&mut self, ev: &Event, out: &mut String) {
        if self.opts.threads.is_some() {
            if ev.kind == EventKind::TaskExit {
                if !self.traces_thread(ev.tid) {
                    self.untraced.take_thread(ev.tid);
                }
            } else if !self.traces_thread(ev.tid) || self.replaced_by_exec(ev, out) {
                self.untraced_thread(ev);
                return;
            }
        }
        if !self.in_call_at_attach.is_empty() && ev.is_syscall() {
            if let Some(enter) = self.enter_before_attach(ev) {
                // A signal deferred to this call's end waits past its enter.
                let deferred = self.deferred_signals.remove(&ev.tid);
                self.event(&enter, out);
                if let Some(sig) = deferred {
                    self.deferred_signals.insert(ev.tid, sig);
                }
            }
        }
        if self.opts.decode_pids {
            self.note_comm(ev);
            if ev.is_syscall() && ev.phase == Phase::Enter {
                self.note_entry_pids(ev);
            }
        }
        if ev.kind != EventKind::TaskExit {
            if let std::collections::hash_map::Entry::Vacant(entry) = self.live.entry(ev.tid) {
                entry.insert(ev.pid);
                if self.opts.attach_messages && self.opts.main_pid != Some(ev.tid) {
                    self.cut_held(out);
                    let _ = writeln!(out, "systrace: Process {} attached", ev.tid);
                }
            }
        } else if self.opts.attach_messages
            && self.opts.main_pid != Some(ev.tid)
            && !self.live.contains_key(&ev.tid)
            && !self.ended.contains(&ev.pid)
        {
            // Its end is its first event (killed, by a group exit say,
            // before any call the trace carries): strace announced it at
            // its clone.
            self.cut_held(out);
            let _ = writeln!(out, "systrace: Process {} attached", ev.tid);
        }
        if !self.restarting.is_empty() {
            if let Some((mut call, fds)) = self.restarting.remove(&ev.tid) {
                let killed = ev.kind == EventKind::TaskExit
                    || ev.siginfo().is_some_and(|info| info.fields.is_none());
                // Killed by a signal strace would have seen it return to.
                if killed && !self.deferred_signals.contains_key(&ev.tid) {
                    call.exit = None;
                }
                self.print_call(&call, fds.as_ref(), out);
            }
        }
        if !self.deferred_signals.is_empty() && (!ev.is_syscall() || ev.phase != Phase::Exit) {
            if let Some(sig) = self.deferred_signals.remove(&ev.tid) {
                self.print_signal(&sig, out);
            }
        }
        // A pid that ended, used again by a new process (its exec): its
        // end is to be told again.
        if !self.ended.is_empty() && ev.is_syscall() && ev.phase == Phase::Enter {
            self.ended.remove(&ev.pid);
            self.told_by_exit.remove(&ev.pid);
        }
        if self.opts.format == OutputFormat::Kernel {
            self.kernel_line(ev, out);
        }
        match ev.kind {
            EventKind::Syscall => {
                self.syscall(ev, out);
                // The call a deferred signal waited for has its line.
                if ev.phase == Phase::Exit
                    && !self.deferred_signals.is_empty()
                    && !self.restarting.contains_key(&ev.tid)
                {
                    if let Some(sig) = self.deferred_signals.remove(&ev.tid) {
                        self.print_signal(&sig, out);
                    }
                }
            }
            EventKind::Signal => self.signal(ev, out),
            EventKind::TaskExit => self.task_exit(ev, out),
        }
    }

    fn syscall(&mut self, ev: &Event, out: &mut String) {
        if ev.phase == Phase::Enter {
            // Only a traced process (its first thread seen and not gone):
            // its end forgets it, so the map holds no more than the
            // processes traced.
            if let Some(pid) = sigkill_target(ev, |tid| self.live.get(&tid).copied())
                .filter(|pid| self.live.contains_key(pid))
            {
                self.sigkilled.entry(pid).or_insert(ev.timestamp_ns);
            }
        } else if ev.ret < 0 && !self.sigkilled.is_empty() {
            // The kill failed (no such process, no permission): nothing
            // was sent, and that process's calls return as usual.
            let live = &self.live;
            if let Some(pid) = self
                .pairer
                .pending_enter(ev.tid)
                .and_then(|enter| sigkill_target(enter, |tid| live.get(&tid).copied()))
            {
                self.sigkilled.remove(&pid);
            }
        }
        if ev.phase == Phase::Enter && !self.opts.trace_paths.is_empty() {
            self.decide_paths(ev);
        }
        if ev.phase == Phase::Exit && ev.tid == ev.pid && ev.ret == 0 && super::pair::is_exec(ev.nr)
        {
            self.exec_by_another_thread(ev, out);
            if self.opts.detach_on_execve && self.detaches_at_exec(ev.pid) {
                self.detach_at_exec(ev, out);
                return;
            }
        }
        if self.opts.syscall_numbers {
            self.last_nr.insert(ev.tid, ev.nr);
        }
        if ev.phase == Phase::Exit
            && ev.ret == 0
            && self.fds.is_some()
            && super::pair::is_fork(ev.nr)
            && self.pairer.pending_enter(ev.tid).is_none()
        {
            self.child_born(ev);
        }
        let mut owned = ev.clone();
        if !self.in_call_at_attach.is_empty() {
            self.first_after_attach(&mut owned);
        }
        let mut done = std::mem::take(&mut self.done);
        self.pairer.push_into(owned, &mut done);
        // By reference, then cleared: a call is a few hundred bytes to move.
        for call in &done {
            self.resolve_and_print(call, out);
        }
        done.clear();
        self.done = done;
        // A call now open: its line is in progress until its exit.
        if ev.phase == Phase::Enter && self.splits() && self.has_open_line(ev) {
            self.cut_held(out);
            self.held = Some(ev.tid);
            self.held_exit = None;
            self.held_retry = ev.data.is_some() && ev.captures().any(|c| c.faulted);
        }
    }

    /// -b execve: whether process `pid`'s exec now lets it go, as the
    /// programs decided (exit_detaches): all but the launch's.
    fn detaches_at_exec(&mut self, pid: u32) -> bool {
        if self.opts.main_pid == Some(pid) && !self.launch_exec_seen {
            self.launch_exec_seen = true;
            return false;
        }
        true
    }

    /// -b execve: the programs let `ev`'s process go at this exec, whose
    /// exit is the last event of it: its line ends ` <detached ...>` as
    /// strace's detach ends it (after strace's `Process N detached` where
    /// detach messages are shown); a line already cut gets nothing more.
    /// The process is forgotten (no end of it is told).
    fn detach_at_exec(&mut self, ev: &Event, out: &mut String) {
        let start = out.len();
        if self.held == Some(ev.tid) {
            self.cut_held(out);
        } else if self.split.contains(&ev.tid) {
            // Cut already: nothing more.
        } else if self.opts.prefix == PidPrefix::PerThread && self.cuts_at_detach(ev.tid) {
            // -ff holds no call (nothing comes between a thread's lines in
            // its file): the line is begun and cut here, as strace's.
            if let Some(text) = self.unfinished_text(ev.tid) {
                self.own_line(ev.tid, out);
                out.push_str(&text);
                out.push('\n');
            }
        } else if let Some(call) = self.pairer.take_thread(ev.tid) {
            self.resolve_and_print(&call, out);
        }
        self.pairer.take_thread(ev.tid);
        self.split.remove(&ev.tid);
        let cut = format!("{UNFINISHED}\n");
        let open = out.len() > start && out.ends_with(&cut);
        if open {
            out.truncate(out.len() - cut.len());
        }
        if self.opts.detach_messages {
            let _ = writeln!(out, "systrace: Process {} detached", ev.pid);
        }
        if open {
            out.push_str(" <detached ...>\n");
        }
        self.live.retain(|_, pid| *pid != ev.pid);
        self.detached.push(ev.pid);
    }

    /// -ff: whether thread `tid`'s call in progress would have been held
    /// for its line to be cut, were lines not in files per thread.
    fn cuts_at_detach(&self, tid: u32) -> bool {
        self.cuts_lines()
            && self
                .pairer
                .pending_enter(tid)
                .is_some_and(|enter| self.has_open_line(enter))
    }

    /// -y: `ev` is a child's first event, its side of a fork returning 0
    /// (no enter of its own). Its fd table is a copy of its parent's as of
    /// the fork: the parent is the one process in a fork call now (its
    /// exit, which names the child, comes later when the child runs first,
    /// as a vfork's always does), of the same traced root and the same
    /// name (the child's is a copy of its parent's). Not found (none, or
    /// more than one, in a fork), the table learns it as before: from the
    /// parent's exit, or /proc.
    fn child_born(&mut self, ev: &Event) {
        let Some(table) = self.fds.as_mut() else {
            return;
        };
        if table.knows(ev.pid) {
            return;
        }
        let mut parents = self.pairer.pending_enters().filter(|enter| {
            enter.pid != ev.pid
                && enter.root == ev.root
                && enter.comm == ev.comm
                && enter.timestamp_ns <= ev.timestamp_ns
                && super::pair::is_fork(enter.nr)
                && makes_process(enter)
        });
        let Some(parent) = parents.next().map(|e| e.pid) else {
            return;
        };
        // Two of its threads forking are still one parent.
        if parents.all(|e| e.pid == parent) {
            table.fork_child(parent, ev.pid);
        }
    }

    /// The first syscall event of a thread attached while blocked in a
    /// call (see `in_call_at_attach`): strace's attach interrupted that
    /// call, and the kernel resumed a nanosleep or a poll by
    /// restart_syscall, which strace shows entering and returning what the
    /// call returned: the call's exit (whose enter came before the
    /// attach) is restart_syscall's.
    fn first_after_attach(&mut self, ev: &mut Event) {
        let Some(AttachedCall::Resumed(restart_nr)) = self.in_call_at_attach.remove(&ev.tid) else {
            return;
        };
        if ev.phase == Phase::Exit && self.pairer.pending_enter(ev.tid).is_none() {
            ev.nr = restart_nr;
        } else {
            self.interrupted.remove(&ev.tid);
        }
    }

    /// The enter of the call `ev` ends, when `ev` is the first syscall
    /// event of a thread attached while blocked in that call (see
    /// `AttachedCall::RunAgain`): its arguments as /proc showed them at
    /// the attach, when it began as far as the trace knows.
    fn enter_before_attach(&mut self, ev: &Event) -> Option<Event> {
        if !matches!(
            self.in_call_at_attach.get(&ev.tid),
            Some(AttachedCall::RunAgain(_))
        ) {
            return None;
        }
        let Some(AttachedCall::RunAgain(mut enter)) = self.in_call_at_attach.remove(&ev.tid) else {
            return None;
        };
        let ends_it = ev.phase == Phase::Exit
            && ev.nr == enter.nr
            && self.pairer.pending_enter(ev.tid).is_none();
        if !ends_it {
            return None;
        }
        enter.pid = ev.pid;
        enter.root = ev.root;
        enter.cpu = ev.cpu;
        enter.comm = ev.comm;
        // No clock (timestamps 0): none for it either.
        enter.timestamp_ns = if ev.timestamp_ns == 0 {
            0
        } else {
            enter.timestamp_ns.min(ev.timestamp_ns)
        };
        Some(enter)
    }

    /// Whether process `pid` has another thread, or (-f) a child it forked
    /// since the trace began (-p: not one it had at the attach, untraced), now.
    fn has_unseen_tasks(&self, pid: u32) -> bool {
        // One thread traced (no -f): the others never have a line.
        if !self.opts.live || self.opts.threads.is_some() {
            return false;
        }
        let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
            return false;
        };
        let mut tasks = 0;
        for task in dir.flatten() {
            tasks += 1;
            if self.opts.thread_exits
                && children_of(&task.path()).any(|child| !self.children_at_attach.contains(&child))
            {
                return true;
            }
        }
        tasks > 1
    }

    /// -p: a thread still in the call /proc showed at the attach (see
    /// `AttachedCall::RunAgain`) once the consumer's round has ended twice
    /// since (a round that began after the attach took every event made
    /// before it, and the thread has had none) is in that call still: its
    /// enter is made now, as strace's attach begins its line (under -f,
    /// `futex(...,  <unfinished ...>` for each thread), and its line is
    /// begun as any other's.
    fn begin_calls_blocked_at_attach(&mut self, out: &mut String) {
        // Once: no call is added to it after the attach.
        self.rounds_since_attach = self.rounds_since_attach.saturating_add(1);
        if self.rounds_since_attach == 2 {
            self.enter_calls_blocked_at_attach(out);
        }
    }

    /// -p: the enters of the calls the threads were in at the attach and
    /// have not returned from yet (`AttachedCall::RunAgain`), made now, in
    /// the order /proc was read. Their time is the /proc read's (as
    /// strace's, the attach's); without the clock the events carry their
    /// order instead, and no line a time.
    fn enter_calls_blocked_at_attach(&mut self, out: &mut String) {
        let mut blocked: Vec<Event> = Vec::new();
        self.in_call_at_attach.retain(|_, at| match at {
            AttachedCall::RunAgain(enter) => {
                blocked.push(enter.clone());
                false
            }
            _ => true,
        });
        blocked.sort_by_key(|e| (e.timestamp_ns, e.tid));
        for enter in &blocked {
            self.event(enter, out);
        }
    }

    /// An exec by a thread other than the process's first returns in the
    /// process's pid (the kernel gives the exec'ing thread its leader's
    /// id), while its enter waits under its own: as strace does, its line,
    /// if still in progress, ends with ` <pid changed to PID ...>`, the
    /// process is told `+++ superseded by execve in pid TID +++`, and the
    /// call returns as the process's, `<... execve resumed>`.
    fn exec_by_another_thread(&mut self, ev: &Event, out: &mut String) {
        if self.pairer.pending_enter(ev.tid).is_some() {
            return;
        }
        let Some(old) = self.pairer.pending_exec_of(ev.pid, ev.tid) else {
            return;
        };
        // strace -ff: the thread's file has the call's first part, the
        // process's the rest (the printer holds no call there).
        let per_thread =
            self.opts.prefix == PidPrefix::PerThread && self.opts.format == OutputFormat::Strace;
        let shown = (self.pairer.pending_enter(old)).is_some_and(|e| self.is_shown(e.nr, None));
        if per_thread && shown && !self.opts.summary {
            self.held = Some(old);
        }
        if self.held == Some(old) {
            self.cut_held(out);
            const CUT: &str = " <unfinished ...>\n";
            if out.ends_with(CUT) {
                out.truncate(out.len() - CUT.len());
                let _ = writeln!(out, " <pid changed to {} ...>", ev.pid);
            }
        }
        self.pairer.rekey(old, ev.tid);
        self.split.remove(&old);
        self.live.remove(&old);
        self.last_nr.remove(&old);
        if self.opts.summary {
            return;
        }
        if self.opts.superseded && self.opts.format == OutputFormat::Strace {
            self.cut_held(out);
            self.prefix(out, ev);
            let _ = writeln!(out, "+++ superseded by execve in pid {old} +++");
        }
        // strace's TCB_REPRINT: the exit shows as resumed, quiet or not
        // (where lines are cut at all: not in JSON, nor with -e status=).
        if self.splits() || per_thread {
            self.split.insert(ev.tid);
        }
    }

    /// Whether calls print as strace prints them as they happen, cut by
    /// other threads' lines. Not with -e status= (strace too waits for the
    /// call's end to know whether to show it), nor in JSON (an object per
    /// call), nor in a file per thread (nothing comes between a thread's
    /// lines there, as in strace -ff's).
    fn splits(&self) -> bool {
        self.cuts_lines() && self.opts.prefix != PidPrefix::PerThread
    }

    /// Whether a call's line can be cut at all (`splits`, and -ff's
    /// detach at an exec).
    fn cuts_lines(&self) -> bool {
        self.opts.format == OutputFormat::Strace
            && !self.opts.summary
            && self.opts.status == StatusFilter::default()
    }

    /// Whether the call `enter` begins has a line in progress until its
    /// exit: one shown, not hidden by -P, that returns.
    fn has_open_line(&self, enter: &Event) -> bool {
        self.is_shown(enter.nr, None)
            && (self.path_hidden.is_empty()
                || !self.path_hidden.contains(&(enter.tid, enter.timestamp_ns)))
            && !super::pair::never_returns(enter.nr)
    }

    /// Another line comes: the call in progress is cut, `read(0,  <unfinished ...>`.
    fn cut_held(&mut self, out: &mut String) {
        let Some(tid) = self.held.take() else {
            return;
        };
        let begun = self.begun.take().filter(|b| b.tid == tid);
        if let Some(b) = &begun {
            self.last_line_ns.set(b.last_line_ns);
        }
        let text = self.unfinished_text(tid);
        match (text, begun) {
            (Some(text), None) => {
                self.own_line(tid, out);
                out.push_str(&text);
            }
            (text, Some(b)) => {
                // Its first part is out: the rest of the same text (the
                // marker alone when its enter is gone, or printed otherwise).
                let rest = text
                    .as_deref()
                    .and_then(|t| t.strip_prefix(b.text.as_str()));
                out.push_str(rest.unwrap_or(UNFINISHED));
            }
            (None, None) => return,
        }
        out.push('\n');
        self.split.insert(tid);
    }

    /// The line of held thread `tid`'s call, cut: `read(0,  <unfinished ...>`
    /// (None: its enter is no longer waiting).
    fn unfinished_text(&mut self, tid: u32) -> Option<String> {
        let enter = self.pairer.pending_enter(tid)?;
        let call = Call {
            enter: Some(enter.clone()),
            exit: None,
        };
        // -y: what its fds refer to now; the call's effect on them comes
        // with its exit.
        let decorate = self.opts.decode_fds > 0;
        let mut fds = self
            .fds
            .as_mut()
            .filter(|_| decorate)
            .map(|t| t.resolve_enter(&call));
        if let Some(fds) = fds
            .as_mut()
            .filter(|_| self.opts.decode_fds & decode_fd::PATH == 0)
        {
            fds.without_paths(self.opts.decode_fds);
        }
        if self.opts.decode_pids {
            self.resolve_pids(&call, fds.get_or_insert_with(Resolved::names_only));
        }
        // Its strings as read again at its exit (see `feed`); the exit's
        // own arguments stay for the resumed part.
        let reread = self
            .held_exit
            .take()
            .filter(|exit| exit.nr == enter.nr)
            .map(|exit| Call {
                enter: call.enter.clone(),
                exit: Some(exit),
            });
        let mut text = String::new();
        // Its owner (-ff) is where the caller puts the text (own_line).
        let owners = self.owners.borrow().len();
        self.prefix_nr(&mut text, enter, Some(enter.nr));
        self.owners.borrow_mut().truncate(owners);
        text.push_str(
            &reread
                .as_ref()
                .unwrap_or(&call)
                .strace_unfinished(&self.text_of(enter.nr), fds.as_ref()),
        );
        Some(text)
    }

    /// The consumer has taken all there was for now (the end of its
    /// round): a call held since the end of the round before is blocked,
    /// and its line's first part is written now, as strace writes it at
    /// the call's entry (`read(0, `), so that a thread blocked for good
    /// shows where it waits. Not a call whose enter read a string that
    /// faulted: its exit reads it again, for the line strace prints.
    pub fn idle(&mut self, out: &mut String) {
        if !self.in_call_at_attach.is_empty() {
            self.begin_calls_blocked_at_attach(out);
        }
        let now = self.held.and_then(|tid| {
            let enter = self.pairer.pending_enter(tid)?;
            let faulted = enter.data.is_some() && enter.captures().any(|c| c.faulted);
            (!faulted).then_some((tid, enter.timestamp_ns))
        });
        let before = std::mem::replace(&mut self.held_at_idle, now);
        let Some((tid, _)) = now.filter(|_| before == now && self.begun.is_none()) else {
            return;
        };
        // Its line's prefix is decided as it begins: not while a thread or
        // (-f) a child the printer has not seen yet (its calls not traced
        // so far) may still come and give the lines a pid. Looked at once.
        if self.live.len() <= 1 {
            let unseen = match self.unseen_checked {
                Some((call, unseen)) if Some(call) == now => unseen,
                _ => {
                    let pid = self.live.get(&tid).copied();
                    let unseen = pid.is_some_and(|pid| self.has_unseen_tasks(pid));
                    self.unseen_checked = now.map(|call| (call, unseen));
                    unseen
                }
            };
            if unseen {
                return;
            }
        }
        let last_line_ns = self.last_line_ns.get();
        let Some(text) = self.unfinished_text(tid) else {
            return;
        };
        let Some(first) = text.strip_suffix(UNFINISHED) else {
            self.last_line_ns.set(last_line_ns);
            return;
        };
        self.own_line(tid, out);
        out.push_str(first);
        self.begun = Some(Begun {
            tid,
            text: first.to_string(),
            last_line_ns,
        });
    }

    /// Ends the stream: the calls that never returned, in order of start.
    pub fn finish(&mut self, out: &mut String) {
        let mut restarting: Vec<_> = self.restarting.drain().map(|(_, c)| c).collect();
        restarting.sort_by_key(|(call, _)| call.start_ns());
        for (call, fds) in restarting {
            self.print_call(&call, fds.as_ref(), out);
        }
        let mut signals: Vec<Event> = self.deferred_signals.drain().map(|(_, e)| e).collect();
        signals.sort_by_key(|e| e.timestamp_ns);
        for sig in signals {
            self.print_signal(&sig, out);
        }
        for call in self.pairer.finish() {
            self.resolve_and_print(&call, out);
        }
        self.held = None;
    }

    /// Ends the stream of processes systrace detached from (Ctrl-C under
    /// -p, SIGTERM), as strace's detach does: the call whose line is open
    /// ends ` <detached ...>`; a call already cut (`<unfinished ...>`) gets
    /// nothing more, its end unseen. The rest as [`finish`](Self::finish).
    pub fn detach(&mut self, out: &mut String) {
        // A call a thread was blocked in since the attach is one strace
        // shows begun (its attach ran it again), and now detached.
        self.enter_calls_blocked_at_attach(out);
        if self
            .held
            .is_some_and(|tid| self.pairer.pending_enter(tid).is_some())
        {
            self.cut_held(out);
            const CUT: &str = " <unfinished ...>\n";
            if out.ends_with(CUT) {
                out.truncate(out.len() - CUT.len());
                out.push_str(" <detached ...>\n");
            }
        }
        for tid in std::mem::take(&mut self.split) {
            self.pairer.take_thread(tid);
        }
        self.finish(out);
    }

    fn resolve_and_print(&mut self, call: &Call, out: &mut String) {
        // A call -e does not show (traced for the table only) shows no fd:
        // one it could not resolve is no loss to count.
        let shown = self.is_shown(call.nr(), None);
        let decorate = self.opts.decode_fds > 0;
        let fds = self.fds.as_mut().map(|t| {
            let unknown = t.unknown;
            let fds = t.observe(call);
            if !shown || !decorate {
                t.unknown = unknown;
            }
            fds
        });
        // -P alone keeps the table without showing it.
        let mut fds = fds.filter(|_| decorate);
        if let Some(fds) = fds
            .as_mut()
            .filter(|_| self.opts.decode_fds & decode_fd::PATH == 0)
        {
            fds.without_paths(self.opts.decode_fds);
        }
        if self.opts.decode_pids && shown && call.enter.is_some() {
            self.resolve_pids(call, fds.get_or_insert_with(Resolved::names_only));
        }
        let start = out.len();
        self.call(call, fds.as_ref(), out);
        if self.opts.decode_pids {
            self.name_ids_inside(call, fds.as_ref(), out, start);
            self.reaped(call);
            if let (Some(enter), Some(_)) = (&call.enter, &call.exit) {
                self.entry_pids.remove(&enter.tid);
            }
        }
    }

    /// -Y: the ids inside what `call` wrote, in its line at `out[start..]`:
    /// the siginfo of waitid, rt_sigtimedwait and the calls that queue
    /// one (as a signal's line), the new thread's id clone
    /// wrote to its parent, capget's and capset's header, fcntl's
    /// f_owner_ex of a process or thread (not of a group), the
    /// credentials of SCM_CREDENTIALS and SO_PEERCRED, a netlink
    /// address's and message's port id (a process's id when it is one).
    fn name_ids_inside(&self, call: &Call, fds: Option<&Resolved>, out: &mut String, start: usize) {
        // SCM_CREDENTIALS' struct ucred, in each message; then a netlink
        // socket's port id: its address, its messages' headers.
        const MESSAGES: &[&str] = &["SCM_CREDENTIALS, cmsg_data={pid=", "nl_pid=", "nlmsg_pid="];
        const NETLINK: &[&str] = MESSAGES.split_at(1).1;
        let line = &out[start..];
        let fields: &[&str] = match &*call.name() {
            // A siginfo's sender (or waitid's child).
            "waitid" | "rt_sigtimedwait" | "rt_sigqueueinfo" | "rt_tgsigqueueinfo"
            | "pidfd_send_signal" => &["si_pid="],
            "clone" | "clone3" => &["parent_tid=["],
            "capget" | "capset" => &[", pid="],
            "sendmsg" | "recvmsg" | "sendmmsg" | "recvmmsg" => MESSAGES,
            "getsockopt" if line.contains(", SO_PEERCRED, {pid=") => &["SO_PEERCRED, {pid="],
            "sendto" | "recvfrom" | "bind" | "connect" | "getsockname" | "getpeername" => NETLINK,
            "fcntl" | "fcntl64"
                if line.contains("{type=F_OWNER_PID, ") || line.contains("{type=F_OWNER_TID, ") =>
            {
                &[", pid="]
            }
            _ => return,
        };
        if line.is_empty() || !fields.iter().any(|f| line.contains(f)) {
            return;
        }
        let child = fds.and_then(|f| f.ret_comm.clone());
        let mut line = out.split_off(start);
        for &field in fields {
            let comm_of = |pid: i32| match field {
                // The child's name as its result shows it.
                "parent_tid=[" if call.ret() == Some(i64::from(pid)) => child.clone(),
                _ => self.comm_of(pid),
            };
            super::pidcalls::annotate_field(&mut line, field, comm_of);
        }
        out.push_str(&line);
    }

    /// -Y: the names of the processes and threads a call entering with
    /// `enter` names, as they are at its entry (where strace prints them).
    fn note_entry_pids(&mut self, enter: &Event) {
        self.entry_pids.remove(&enter.tid);
        let Some(name) = crate::metadata::syscall_name(enter.nr) else {
            return;
        };
        let raw = enter.args();
        let mut pids = Vec::new();
        for &i in super::pidcalls::pid_args(name, raw) {
            let pid = raw.get(i).map_or(0, |&r| r as u32 as i32);
            if let Some(comm) = self.comm_of(pid) {
                pids.push((i, comm));
            }
        }
        if !pids.is_empty() {
            self.entry_pids
                .insert(enter.tid, (enter.timestamp_ns, pids));
        }
    }

    /// -Y: the command names of the processes and threads the call names
    /// (as at its entry) or returned.
    fn resolve_pids(&self, call: &Call, resolved: &mut Resolved) {
        let name = call.name();
        if let Some((_, pids)) = (call.enter.as_ref()).and_then(|e| {
            self.entry_pids
                .get(&e.tid)
                .filter(|(at, _)| *at == e.timestamp_ns)
        }) {
            resolved.pids.clone_from(pids);
        }
        let Some(ret) = (call.ret())
            .filter(|&r| r > 0 && r <= i64::from(i32::MAX) && super::pidcalls::returns_pid(&name))
        else {
            return;
        };
        if FORKS.contains(&&*name) {
            // vfork's caller resumes once its child's exec is past its
            // point of no return: the name after the exec, as strace (the
            // name the exec gives, not /proc's, which a busy machine may
            // not have changed yet when this prints).
            let after_exec = (self.exec_names.get(&(ret as u32)))
                .map(|name| super::pidcalls::comm_text(name))
                .or_else(|| self.exec_in_progress(ret as i32));
            // Else the child's name is its parent's until it changes it
            // (strace shows the child stopped at its start).
            resolved.ret_comm = after_exec.or_else(|| {
                (self.comms.get(&(ret as u32)).map(|(comm, _)| comm))
                    .or(call.exit.as_ref().map(|e| &e.comm))
                    .map(|comm| super::pidcalls::comm_text(comm))
            });
        } else {
            resolved.ret_comm = self.comm_of(ret as i32);
        }
    }

    /// -Y: after a wait that reaped process `pid`, its name is gone (strace
    /// reads it from /proc, where a reaped process is no more); a zombie's
    /// stays until then.
    fn reaped(&mut self, call: &Call) {
        let name = call.name();
        if name == "wait4" || name == "waitpid" {
            if let Some(pid) = call.ret().filter(|&r| r > 0) {
                self.comms.remove(&(pid as u32));
            }
        }
    }

    /// -Y: the command name of thread `pid`: as its latest event gave it
    /// when it is traced, else as /proc says now (strace's), None once gone.
    pub(super) fn comm_of(&self, pid: i32) -> Option<String> {
        if let Some(name) = self.exec_in_progress(pid) {
            return Some(name);
        }
        match u32::try_from(pid).ok().and_then(|tid| self.comms.get(&tid)) {
            Some((comm, _)) => Some(super::pidcalls::comm_text(comm)),
            None if self.opts.live => super::pidcalls::proc_comm(pid),
            None => None,
        }
    }

    /// -Y: the name /proc gives a thread whose latest event is its entry
    /// into an exec: the exec may have given it a new name already, as
    /// it has once a vfork's parent resumes (woken in the exec, before its
    /// exit's event), which strace, reading /proc, shows.
    fn exec_in_progress(&self, pid: i32) -> Option<String> {
        let in_exec = u32::try_from(pid)
            .ok()
            .and_then(|tid| self.comms.get(&tid))
            .is_some_and(|&(_, in_exec)| in_exec);
        (in_exec && self.opts.live)
            .then(|| super::pidcalls::proc_comm(pid))
            .flatten()
    }

    /// -Y: keeps the command name of the event's thread; the names of
    /// threads no longer traced go once they outnumber the live ones.
    fn note_comm(&mut self, ev: &Event) {
        let in_exec = ev.phase == Phase::Enter
            && ev.kind == EventKind::Syscall
            && self.exec_nrs.contains(&ev.nr);
        self.comms.insert(ev.tid, (ev.comm, in_exec));
        match in_exec
            .then(|| exec_comm(ev, ev.nr == self.exec_nrs[1]))
            .flatten()
        {
            Some(name) => {
                self.exec_names.insert(ev.tid, name);
            }
            None => {
                self.exec_names.remove(&ev.tid);
            }
        }
        if self.comms.len() > 2 * self.live.len() + 256 {
            let live = &self.live;
            self.comms.retain(|tid, _| live.contains_key(tid));
            self.exec_names.retain(|tid, _| live.contains_key(tid));
            self.entry_pids.retain(|tid, _| live.contains_key(tid));
        }
    }

    /// -P: whether the call `enter` begins touches the paths; one that
    /// does not is hidden (strace decides at the enter too).
    fn decide_paths(&mut self, enter: &Event) {
        let Some(table) = self.fds.as_mut() else {
            return;
        };
        let call = Call {
            enter: Some(enter.clone()),
            exit: None,
        };
        let before = table.unknown;
        let touches = table.touches(&call, &self.opts.trace_paths);
        // An fd -P could not know may hide a call strace would show.
        self.unknown_for_paths += table.unknown - before;
        table.unknown = before;
        if !touches {
            self.path_hidden.insert((enter.tid, enter.timestamp_ns));
        }
    }

    /// The threads of process `pid` as they are now (at attach): they are
    /// traced from the start, not followed (no `Process N attached`).
    pub fn adopt(&mut self, pid: u32) {
        self.rounds_since_attach = 0;
        let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
            return;
        };
        for tid in dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok()) {
            if !self.traces_thread(tid) {
                continue;
            }
            self.live.entry(tid).or_insert(pid);
            let task = std::path::Path::new("/proc")
                .join(pid.to_string())
                .join("task");
            self.children_at_attach
                .extend(children_of(&task.join(tid.to_string())));
            let blocked = std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/syscall")).ok();
            if let Some(restarts) = blocked.as_deref().and_then(restarts_by_restart_syscall) {
                let restart_nr = crate::metadata::names::resolve("restart_syscall").ok();
                let at = match restart_nr.filter(|_| restarts) {
                    Some(nr) => AttachedCall::Resumed(nr),
                    None => blocked
                        .as_deref()
                        .and_then(|t| blocked_enter(t, pid, tid))
                        .map_or(AttachedCall::Unknown, AttachedCall::RunAgain),
                };
                let resumed = matches!(at, AttachedCall::Resumed(_));
                self.in_call_at_attach.insert(tid, at);
                if resumed {
                    // strace's attach interrupts the call, and the kernel
                    // resumes it by restart_syscall, whose line names the
                    // call strace took from the syscall info of its first
                    // stop: an interrupt stop, whose info holds no call
                    // (number 0, read, on x86_64):
                    // `restart_syscall(<... resuming interrupted read ...>)`.
                    self.interrupted.insert(tid, display_name(0));
                }
            }
        }
    }

    /// -y: reads process `pid`'s fds and cwd from /proc now (at attach).
    pub fn seed_fds(&mut self, pid: u32) {
        if let Some(t) = self.fds.as_mut() {
            t.seed(pid);
        }
    }

    /// fd or path arguments whose target -y could not know.
    /// -y: fd and path arguments whose target could not be known; -P: fd
    /// and path arguments it could not compare.
    pub fn unknown_fds(&self) -> u64 {
        let shown = self.fds.as_ref().filter(|_| self.opts.decode_fds > 0);
        shown.map_or(0, |t| t.unknown) + self.unknown_for_paths
    }

    /// -yy: sockets whose endpoints could not be read (their fd closed or
    /// their process gone before their call was printed).
    pub fn unread_sockets(&self) -> u64 {
        let shown = self
            .fds
            .as_ref()
            .filter(|_| self.opts.decode_fds & decode_fd::SOCKET != 0);
        shown.map_or(0, |t| {
            let unread = t.unread_sockets.lock().unwrap_or_else(|e| e.into_inner());
            unread.len() as u64
        })
    }

    /// Whether `-e` shows syscall `nr` in `phase` (None: in either).
    /// How a call of syscall `nr` prints: raw with -e raw=, whole with
    /// -e abbrev= (-v), its structures as addresses with -e verbose=.
    fn text_of(&self, nr: u32) -> StraceOptions {
        StraceOptions {
            raw: self.raw.as_ref().is_some_and(|bits| bits.contains(nr)),
            abbrev: !self
                .unabbreviated
                .as_ref()
                .is_some_and(|bits| bits.contains(nr)),
            verbose: !self
                .not_verbose
                .as_ref()
                .is_some_and(|bits| bits.contains(nr)),
            ..self.text
        }
    }

    /// An event of a thread not shown (`threads`): only its fds are
    /// followed (-y), as the threads share them.
    fn untraced_thread(&mut self, ev: &Event) {
        if self.fds.is_none() || !ev.is_syscall() {
            return;
        }
        let mut done = std::mem::take(&mut self.done);
        self.untraced.push_into(ev.clone(), &mut done);
        if let Some(t) = self.fds.as_mut() {
            let unknown = t.unknown;
            for call in &done {
                t.observe(call);
            }
            t.unknown = unknown;
        }
        done.clear();
        self.done = done;
    }

    /// `ev`, the exit of an exec on a shown first thread that did not
    /// enter one: another thread's exec, which took the first thread's
    /// id. As strace without -f, that is the traced thread's end: its
    /// call ends `= ?`, and the process shows no more lines but its end.
    fn replaced_by_exec(&mut self, ev: &Event, out: &mut String) -> bool {
        let replaced = ev.is_syscall()
            && ev.phase == Phase::Exit
            && ev.ret == 0
            && ev.tid == ev.pid
            && super::pair::is_exec(ev.nr)
            && !self
                .pairer
                .pending_enter(ev.tid)
                .is_some_and(|e| super::pair::is_exec(e.nr));
        if !replaced {
            return false;
        }
        if let Some(call) = self.pairer.take_thread(ev.tid) {
            self.resolve_and_print(&call, out);
        }
        if let Some(threads) = self.opts.threads.as_mut() {
            threads.remove(&ev.tid);
        }
        true
    }

    /// Whether thread `tid`'s calls and signals are shown (`threads`).
    fn traces_thread(&self, tid: u32) -> bool {
        self.opts.threads.as_ref().is_none_or(|t| t.contains(&tid))
    }

    fn is_shown(&self, nr: u32, phase: Option<Phase>) -> bool {
        let Some(bits) = &self.shown else {
            return true;
        };
        let has = |p: Phase| bits[p.index()].contains(nr);
        match phase {
            Some(p) => has(p),
            None => has(Phase::Enter) || has(Phase::Exit),
        }
    }

    fn prefix(&self, out: &mut String, ev: &Event) {
        self.prefix_nr(out, ev, None);
    }

    /// The prefix of a line about event `ev`, of syscall `nr` (None: the
    /// one its thread is in or made last); with -Y the thread's name as the
    /// event gave it (a call's line is strace's from its entry).
    fn prefix_nr(&self, out: &mut String, ev: &Event, nr: Option<u32>) {
        self.push_pid_named(out, ev.tid, self.live.len() > 1, Some(&ev.comm));
        self.timestamp(out, ev.timestamp_ns);
        self.syscall_number(out, ev.tid, nr);
    }

    /// -n: `[ 231] `, strace's number of the syscall the line is about.
    fn syscall_number(&self, out: &mut String, tid: u32, nr: Option<u32>) {
        if self.opts.syscall_numbers {
            let nr = nr.or_else(|| self.last_nr.get(&tid).copied()).unwrap_or(0);
            let _ = write!(out, "[{nr:>4}] ");
        }
    }

    /// -ff: the line about to be put at the end of `out` is thread `tid`'s.
    fn own_line(&self, tid: u32, out: &str) {
        if self.opts.prefix == PidPrefix::PerThread {
            self.owners.borrow_mut().push((tid, out.len()));
        }
    }

    /// The pid prefix of a line; `several`: threads are to be told apart.
    fn push_pid(&self, out: &mut String, pid: u32, several: bool) {
        self.push_pid_named(out, pid, several, None);
    }

    /// [`push_pid`](Self::push_pid), with -Y the thread's name `comm` (None:
    /// its latest).
    fn push_pid_named(&self, out: &mut String, pid: u32, several: bool, comm: Option<&Comm>) {
        let comm = match self.opts.decode_pids {
            true => comm
                .map(|c| super::pidcalls::comm_text(c))
                .or_else(|| self.comm_of(pid as i32)),
            false => None,
        };
        match (self.opts.prefix, comm) {
            (PidPrefix::Always, Some(comm)) => {
                let _ = write!(out, "{pid}<{comm}> ");
            }
            (PidPrefix::WhileThreads, Some(comm)) if several => {
                let _ = write!(out, "{pid}<{comm}> ");
            }
            (PidPrefix::Bracketed, Some(comm)) if several => {
                let _ = write!(out, "[pid {pid:>5}<{comm}>] ");
            }
            (PidPrefix::Always, None) => {
                let _ = write!(out, "{pid:<5} ");
            }
            (PidPrefix::WhileThreads, None) if several => {
                let _ = write!(out, "{pid:<5} ");
            }
            (PidPrefix::Bracketed, None) if several => {
                let _ = write!(out, "[pid {pid:>5}] ");
            }
            (PidPrefix::PerThread, _) => self.owners.borrow_mut().push((pid, out.len())),
            _ => {}
        }
    }

    /// `-t`, `-tt`, `-ttt`: the wall time of `timestamp_ns` (CLOCK_MONOTONIC).
    fn timestamp(&self, out: &mut String, timestamp_ns: u64) {
        let precision = self.opts.precision;
        if self.opts.timestamps > 0 {
            let wall = i128::from(timestamp_ns) + i128::from(self.opts.wall_offset_ns);
            let secs = wall.div_euclid(1_000_000_000);
            let frac = wall.rem_euclid(1_000_000_000) as u64;
            let digits =
                precision
                    .absolute
                    .unwrap_or(if self.opts.timestamps == 1 { 0 } else { 6 });
            if self.opts.timestamps >= 3 {
                let _ = write!(out, "{secs}");
            } else {
                let (h, m, s) = local_hms(secs as i64);
                let _ = write!(out, "{h:02}:{m:02}:{s:02}");
            }
            super::push_fraction(out, frac, digits);
            out.push(' ');
        }
        if self.opts.relative_timestamps {
            // strace -r: from the line before (the first line's is 0), in
            // the order the lines are printed.
            let since = self
                .last_line_ns
                .replace(Some(timestamp_ns))
                .map_or(0, |last| timestamp_ns.saturating_sub(last));
            let secs = since / 1_000_000_000;
            let with_t = self.opts.timestamps > 0;
            let _ = write!(out, "{}{secs:6}", if with_t { "(+" } else { "" });
            super::push_fraction(out, since % 1_000_000_000, precision.relative);
            out.push_str(if with_t { ") " } else { " " });
        }
    }

    fn kernel_line(&self, ev: &Event, out: &mut String) {
        if !self.is_shown(ev.nr, Some(ev.phase)) || self.opts.summary {
            return;
        }
        self.prefix(out, ev);
        out.push_str(&format_event(ev, Style::default()));
        out.push('\n');
    }

    fn call(&mut self, call: &Call, fds: Option<&Resolved>, out: &mut String) {
        let first = call.first();
        let name = call.name();
        let ret = call.ret();
        // A followed child's first event is its side of the fork returning
        // 0, with no enter of its own: strace does not show it either.
        if call.enter.is_none() && ret == Some(0) && FORKS.contains(&&*name) {
            return;
        }
        // -P: decided at the enter; a call without one touched nothing seen.
        let by_paths = self.opts.trace_paths.is_empty()
            || call
                .enter
                .as_ref()
                .is_some_and(|e| !self.path_hidden.remove(&(e.tid, e.timestamp_ns)));
        if self.is_shown(first.nr, None) && by_paths {
            // -c counts what -e status= would hide, as strace does.
            if self.opts.summary {
                // Calls that returned, as strace -c counts; rt_sigreturn
                // returns too, though the kernel reports no exit for it.
                if call.exit.is_some() || name == "rt_sigreturn" {
                    let failed = ret.is_some_and(|r| super::errno::errno_of(r).is_some());
                    self.counts
                        .add(first.nr, &name, failed, call.duration_ns().unwrap_or(0));
                }
            } else if self.splits() {
                self.strace_call(call, fds, out);
            } else if self.opts.status.shows(call) {
                match self.opts.format {
                    OutputFormat::Json => out.push_str(&call.json_line_fds(&self.text, fds)),
                    OutputFormat::Strace => {
                        // Cut only by a thread's exec (exec_by_another_thread).
                        let resumed = call.enter.is_some() && self.split.remove(&first.tid);
                        let at = match &call.exit {
                            Some(exit) if resumed => exit,
                            _ => first,
                        };
                        self.strace_line(call, at, resumed, fds, out)
                    }
                    OutputFormat::Kernel => {}
                }
            }
        }
        if ret == Some(RESTART_BLOCK) {
            self.interrupted.insert(first.tid, name.clone());
        }
        let Some(enter) = call.enter.as_ref() else {
            return;
        };
        match &*name {
            // With the threads' exits in the events, a thread leaves at its exit.
            "exit" if !self.opts.task_exits => {
                self.live.remove(&enter.tid);
            }
            "exit_group" => {
                let pid = enter.pid;
                let status = enter.args().first().map_or(0, |&a| (a & 0xff) as i32);
                self.exited.insert(pid, status);
                // With the threads' exits in the events, the last one tells
                // the process's end (and its threads leave then).
                if self.opts.task_exits {
                    return;
                }
                self.live.retain(|_, p| *p != pid);
                // A launched command's end is told by waitpid (a signal,
                // too); any other process's by its exit_group.
                if Some(pid) != self.opts.main_pid {
                    let end = ProcessEnd::Exited(status);
                    self.process_end(out, pid, &end, false, enter.timestamp_ns);
                }
            }
            _ => {}
        }
    }

    /// A call's line as strace prints it as it happens (see `held`), or
    /// later for one that returned -ERESTART* (see `restarting`).
    fn strace_call(&mut self, call: &Call, fds: Option<&Resolved>, out: &mut String) {
        if call.enter.is_some() && (call.ret().is_some_and(interrupted) || self.being_killed(call))
        {
            self.restarting
                .insert(call.first().tid, (call.clone(), fds.cloned()));
            return;
        }
        self.print_call(call, fds, out);
    }

    /// Whether `call` returned after a traced call began to send its
    /// process SIGKILL (see `sigkilled`).
    fn being_killed(&self, call: &Call) -> bool {
        let Some(exit) = &call.exit else {
            return false;
        };
        !self.sigkilled.is_empty()
            && self
                .sigkilled
                .get(&exit.pid)
                .is_some_and(|&since| exit.timestamp_ns >= since)
    }

    fn print_call(&mut self, call: &Call, fds: Option<&Resolved>, out: &mut String) {
        let tid = call.first().tid;
        if self.held == Some(tid) {
            // Nothing came between its enter and its end: one line, or the
            // rest of its first part (see `idle`).
            self.held = None;
            let Some(begun) = self.begun.take().filter(|b| b.tid == tid) else {
                self.strace_line(call, call.first(), false, fds, out);
                return;
            };
            self.last_line_ns.set(begun.last_line_ns);
            let mut line = String::new();
            self.strace_line(call, call.first(), false, fds, &mut line);
            match line.strip_prefix(begun.text.as_str()) {
                Some(rest) => out.push_str(rest),
                None => {
                    // Not the text its first part began (not seen): the
                    // first part cut, and the rest as a cut call's.
                    out.push_str(UNFINISHED);
                    out.push('\n');
                    let at = call.exit.as_ref().unwrap_or(call.first());
                    self.strace_line(call, at, true, fds, out);
                }
            }
            return;
        }
        self.cut_held(out);
        let resumed = call.enter.is_some() && self.split.remove(&tid);
        // The rest of a cut call carries the time of its end.
        let at = if resumed {
            call.exit.as_ref().unwrap_or(call.first())
        } else {
            call.first()
        };
        self.strace_line(call, at, resumed, fds, out);
    }

    /// One line of a call: the whole call, or (`resumed`) the rest of a cut one.
    fn strace_line(
        &mut self,
        call: &Call,
        at: &Event,
        resumed: bool,
        fds: Option<&Resolved>,
        out: &mut String,
    ) {
        let start = out.len();
        self.prefix_nr(out, at, Some(at.nr));
        let start_col = out.len() - start;
        let name = call.name();
        let text = self.text_of(call.nr());
        // Without its enter too: a thread attached in the call (strace's
        // attach made it a restart_syscall it saw enter; see
        // `first_after_attach`).
        if name == "restart_syscall" && !resumed {
            let before = self.interrupted.remove(&at.tid);
            out.push_str(&super::format_restart_at(
                start_col,
                before.as_deref(),
                call.ret(),
                &text,
            ));
        } else if resumed {
            out.push_str(&call.strace_resumed(&text, start_col, fds));
        } else {
            call.push_strace_fds(out, &text, start_col, fds);
        }
        if self.opts.durations {
            if let Some(ns) = call.duration_ns() {
                out.push(' ');
                out.push_str(&super::format_duration(ns, self.opts.precision.duration));
            }
        }
        out.push('\n');
        if self.opts.dump_read.is_some() || self.opts.dump_write.is_some() {
            call.push_data_dump(
                out,
                self.opts.dump_read.as_ref(),
                self.opts.dump_write.as_ref(),
            );
        }
    }

    /// Process `pid` ended (its threads are gone): `+++ exited with 0 +++`
    /// with the pid prefix while other processes are traced (`main`: the
    /// launched command's, told without one on stderr) and, with -t, the
    /// time it ended (`timestamp_ns`, CLOCK_MONOTONIC); or a JSON object in
    /// JSON lines. Nothing with -c, nor for an exit with -qq.
    pub fn process_end(
        &mut self,
        out: &mut String,
        pid: u32,
        end: &ProcessEnd,
        main: bool,
        timestamp_ns: u64,
    ) {
        self.live.retain(|_, p| *p != pid);
        self.ended.insert(pid);
        self.sigkilled.remove(&pid);
        if self.opts.summary || (self.opts.quiet_exits && matches!(end, ProcessEnd::Exited(_))) {
            return;
        }
        // As strace's: a death by a signal -e signal= leaves out is not
        // told either.
        if let ProcessEnd::Killed { signal, .. } = end {
            if super::signals::parse_signal(signal).is_ok_and(|s| !self.opts.signals.contains(s)) {
                return;
            }
        }
        if self.opts.format == OutputFormat::Json {
            let _ = writeln!(out, "{}", end.json(pid));
            return;
        }
        // Other threads still traced: the line says whose end it is.
        self.push_pid(out, pid, !main && !self.live.is_empty());
        self.timestamp(out, timestamp_ns);
        self.syscall_number(out, pid, None);
        self.last_nr.remove(&pid);
        out.push_str(&end.strace_text());
        out.push('\n');
    }

    /// The -c table.
    pub fn summary_table(
        &self,
        sort_by: super::summary::SortBy,
        columns: &[super::summary::Column],
    ) -> String {
        self.counts.format(sort_by, columns)
    }

    /// Threads seen and not gone: tid -> pid.
    pub fn live(&self) -> &TidMap<u32> {
        &self.live
    }

    /// pid -> the status of its exit_group.
    pub fn exited(&self) -> &HashMap<u32, i32> {
        &self.exited
    }

    /// The processes let go at an exec (-b execve) since the last call.
    pub fn take_detached(&mut self) -> Vec<u32> {
        std::mem::take(&mut self.detached)
    }

    /// Calls entered and not yet returned.
    pub fn pending(&self) -> usize {
        self.pairer.pending()
    }

    /// Whether the end of process `pid` was told by its last thread's exit.
    pub fn has_ended(&self, pid: u32) -> bool {
        self.told_by_exit.contains(&pid)
    }
}

// Local time for -t, as Python's time.localtime() reads it.

extern "C" {
    fn tzset();
}

fn init_localtime() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    // SAFETY: tzset reads TZ and sets the C library's zone; it is what
    // localtime() does on its first call.
    ONCE.call_once(|| unsafe { tzset() });
}

fn local_hms(secs: i64) -> (i32, i32, i32) {
    let t = secs as libc::time_t;
    // SAFETY: plain C struct filled by localtime_r; both pointers are valid.
    unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        if libc::localtime_r(&t, &mut tm).is_null() {
            return (0, 0, 0);
        }
        (tm.tm_hour, tm.tm_min, tm.tm_sec)
    }
}

#[path = "printer_tasks.rs"]
mod tasks;

#[cfg(test)]
#[path = "printer_tests.rs"]
mod tests;

/// A return that a signal caused: the call may have been cut by a SIGKILL,
/// which then never lets it return to the process.
fn interrupted(ret: i64) -> bool {
    super::errno::is_restart(ret) || ret == -i64::from(libc::EINTR)
}

/// The process a call entering with `enter` sends SIGKILL to, if it does:
/// kill(pid) (0: the caller's group, of which only the caller is known;
/// not -1 nor a -PGID), tgkill and rt_tgsigqueueinfo (tgid), tkill (a
/// thread of a process `pid_of` knows), rt_sigqueueinfo (pid).
fn sigkill_target(enter: &Event, pid_of: impl Fn(u32) -> Option<u32>) -> Option<u32> {
    // Asked of every enter: one bit test for the calls that send no signal.
    static SENDERS: std::sync::OnceLock<Bitmap> = std::sync::OnceLock::new();
    let senders = SENDERS.get_or_init(|| {
        super::pair::syscall_set(&[
            "kill",
            "tkill",
            "tgkill",
            "rt_sigqueueinfo",
            "rt_tgsigqueueinfo",
        ])
    });
    if !senders.contains(enter.nr) {
        return None;
    }
    // pid_t and int arguments: the low 32 bits of their registers.
    let arg = |i: usize| enter.args[i] as u32 as i32;
    let (target, sig) = match crate::metadata::syscall_name(enter.nr)? {
        "kill" if arg(0) == 0 => (enter.pid as i32, arg(1)),
        "kill" | "rt_sigqueueinfo" => (arg(0), arg(1)),
        "tgkill" | "rt_tgsigqueueinfo" => (arg(0), arg(2)),
        "tkill" => (pid_of(arg(0) as u32)? as i32, arg(1)),
        _ => return None,
    };
    (sig == libc::SIGKILL && target > 0).then_some(target as u32)
}
