//! The `systrace` command's hot path: events in, the text of the trace out.
//! Pairs enter and exit events per thread ([`Pairer`]), keeps what the
//! command's options select, and writes each call as strace does (or as one
//! JSON object, or each event as the kernel's trace text), or counts it for
//! the `-c` table. It also keeps the bookkeeping the command needs: which
//! threads are traced (for the `[pid N]` prefix and for -f's wait) and how
//! the processes that called exit_group ended.
//!
//! The text is byte for byte what `systrace.Call` gives (`Call.strace()`,
//! `systrace.json_line(call)`) and what `Event.format_line()` gives.
use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::Write;

use super::pair::{Paired, Pairer};
use super::summary::Summary;
use super::{ArgView, CapturedView, StraceOptions, DEFAULT_COLUMN};
use crate::decode::Event;
use crate::format::{format_event, typed_arg, Style};
use crate::metadata::event_class::Phase;
use crate::names::{metadata, syscall_name};

/// Syscalls whose child side returns 0 with no enter of its own.
const FORKS: [&str; 4] = ["clone", "clone3", "fork", "vfork"];

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

/// The command's options that shape its output.
#[derive(Clone, Debug)]
pub struct PrinterOptions {
    pub format: OutputFormat,
    /// `-e`: the syscall numbers shown; None for all.
    pub selected: Option<Vec<u32>>,
    /// `-c`: count, print no calls.
    pub summary: bool,
    /// `-T`.
    pub durations: bool,
    /// `-t` (1), `-tt` (2), `-ttt` (3).
    pub timestamps: u8,
    /// `-s`.
    pub string_size: usize,
    /// `PID ` before every line (strace -o FILE with several processes).
    pub file_prefix: bool,
    /// `[pid N] ` while more than one thread is traced (strace on stderr).
    pub stderr_prefix: bool,
    /// A launched command: its events before its execve are not shown, and
    /// its end is told by the caller (waitpid), not by its exit_group.
    pub main_pid: Option<u32>,
    /// Wall clock minus CLOCK_MONOTONIC, for `-t`.
    pub wall_offset_ns: i64,
}

impl Default for PrinterOptions {
    fn default() -> Self {
        PrinterOptions {
            format: OutputFormat::Strace,
            selected: None,
            summary: false,
            durations: false,
            timestamps: 0,
            string_size: super::DEFAULT_STRING_SIZE,
            file_prefix: false,
            stderr_prefix: true,
            main_pid: None,
            wall_offset_ns: 0,
        }
    }
}

/// The name of syscall `nr`, as `Event.name` gives it.
pub fn event_name(nr: u32) -> Cow<'static, str> {
    match syscall_name(nr) {
        Some(name) => Cow::Borrowed(name),
        None => match metadata().syscall_nr_to_meta(nr) {
            Some(m) => Cow::Borrowed(m.short_name()),
            None => Cow::Owned(format!("syscall_{nr}")),
        },
    }
}

/// Turns a stream of events into the command's output.
#[derive(Debug)]
pub struct Printer {
    opts: PrinterOptions,
    /// `-e` as a bitmap by syscall number.
    shown: Option<Vec<bool>>,
    pairer: Pairer<Event>,
    counts: Summary,
    /// tid -> pid of the threads seen and not gone.
    live: HashMap<u32, u32>,
    /// pid -> the status its exit_group gave.
    exited: HashMap<u32, i32>,
    waiting_exec: Option<u32>,
}

impl Printer {
    pub fn new(opts: PrinterOptions) -> Self {
        let shown = opts.selected.as_ref().map(|nrs| {
            let len = nrs.iter().max().map_or(0, |&m| m as usize + 1);
            let mut bits = vec![false; len];
            for &nr in nrs {
                bits[nr as usize] = true;
            }
            bits
        });
        if opts.timestamps > 0 && opts.timestamps < 3 {
            init_localtime();
        }
        Printer {
            shown,
            pairer: Pairer::new(),
            counts: Summary::new(),
            live: HashMap::new(),
            exited: HashMap::new(),
            waiting_exec: opts.main_pid,
            opts,
        }
    }

    pub fn options(&self) -> &PrinterOptions {
        &self.opts
    }

    /// Feeds events (in the order they came); appends the lines of the
    /// calls they complete to `out`, those in order of their end.
    pub fn feed<'a>(&mut self, events: impl IntoIterator<Item = &'a Event>, out: &mut String) {
        let mut done: Vec<Paired<Event>> = Vec::new();
        for ev in events {
            if let Some(waiting) = self.waiting_exec {
                if ev.pid == waiting {
                    if !(ev.phase == Phase::Enter
                        && matches!(&*event_name(ev.nr), "execve" | "execveat"))
                    {
                        continue;
                    }
                    self.waiting_exec = None;
                }
            }
            self.live.entry(ev.tid).or_insert(ev.pid);
            if self.opts.format == OutputFormat::Kernel {
                self.kernel_line(ev, out);
            }
            done.extend(self.pairer.push(ev.clone()));
        }
        // Stable, as Python's sort: calls that end together keep their order.
        done.sort_by_key(|p| {
            p.exit
                .as_ref()
                .or(p.enter.as_ref())
                .map_or(0, |e| e.timestamp_ns)
        });
        for call in &done {
            self.call(call, out);
        }
    }

    /// Ends the stream: the calls that never returned, in order of start.
    pub fn finish(&mut self, out: &mut String) {
        for call in self.pairer.finish() {
            self.call(&call, out);
        }
    }

    fn is_shown(&self, nr: u32) -> bool {
        match &self.shown {
            None => true,
            Some(bits) => bits.get(nr as usize).copied().unwrap_or(false),
        }
    }

    fn prefix(&self, out: &mut String, tid: u32, timestamp_ns: u64) {
        if self.opts.file_prefix {
            let _ = write!(out, "{tid:<5} ");
        } else if self.opts.stderr_prefix && self.live.len() > 1 {
            let _ = write!(out, "[pid {tid:>5}] ");
        }
        if self.opts.timestamps > 0 {
            let wall = i128::from(timestamp_ns) + i128::from(self.opts.wall_offset_ns);
            let secs = wall.div_euclid(1_000_000_000);
            let us = wall.rem_euclid(1_000_000_000) / 1000;
            if self.opts.timestamps >= 3 {
                let _ = write!(out, "{secs}.{us:06} ");
            } else {
                let (h, m, s) = local_hms(secs as i64);
                let _ = write!(out, "{h:02}:{m:02}:{s:02}");
                if self.opts.timestamps == 2 {
                    let _ = write!(out, ".{us:06}");
                }
                out.push(' ');
            }
        }
    }

    fn kernel_line(&self, ev: &Event, out: &mut String) {
        if !self.is_shown(ev.nr) || self.opts.summary {
            return;
        }
        self.prefix(out, ev.tid, ev.timestamp_ns);
        out.push_str(&format_event(ev, Style::default()));
        out.push('\n');
    }

    fn call(&mut self, call: &Paired<Event>, out: &mut String) {
        let Some(first) = call.enter.as_ref().or(call.exit.as_ref()) else {
            return;
        };
        let name = event_name(first.nr);
        let ret = call.exit.as_ref().map(|e| e.ret);
        // A followed child's first event is its side of the fork returning
        // 0, with no enter of its own: strace does not show it either.
        if call.enter.is_none() && ret == Some(0) && FORKS.contains(&&*name) {
            return;
        }
        if self.is_shown(first.nr) {
            if self.opts.summary {
                // Calls that returned, as strace -c counts; rt_sigreturn
                // returns too, though the kernel reports no exit for it.
                if call.exit.is_some() || name == "rt_sigreturn" {
                    let failed = ret.is_some_and(|r| super::errno::errno_of(r).is_some());
                    self.counts
                        .add(first.nr, &name, failed, call.duration_ns().unwrap_or(0));
                }
            } else {
                match self.opts.format {
                    OutputFormat::Json => json_line(out, call, &name, self.opts.string_size),
                    OutputFormat::Strace => {
                        let start = out.len();
                        self.prefix(out, first.tid, first.timestamp_ns);
                        let start_col = out.len() - start;
                        out.push_str(&strace_text(call, &name, self.opts.string_size, start_col));
                        if self.opts.durations {
                            if let Some(ns) = call.duration_ns() {
                                out.push(' ');
                                out.push_str(&super::format_duration(ns));
                            }
                        }
                        out.push('\n');
                    }
                    OutputFormat::Kernel => {}
                }
            }
        }
        let Some(enter) = call.enter.as_ref() else {
            return;
        };
        match &*name {
            "exit" => {
                self.live.remove(&enter.tid);
            }
            "exit_group" => {
                let pid = enter.pid;
                self.live.retain(|_, p| *p != pid);
                let status = enter.args().first().map_or(0, |&a| (a & 0xff) as i32);
                self.exited.insert(pid, status);
                // A launched command's end is told by waitpid (a signal,
                // too); any other process's by its exit_group.
                if Some(pid) != self.opts.main_pid {
                    self.status_line(out, pid, &format!("+++ exited with {status} +++"), false);
                }
            }
            _ => {}
        }
    }

    /// `+++ exited with 0 +++`, with the pid prefix for other processes
    /// (`main`: the launched command's, told without one on stderr).
    pub fn status_line(&self, out: &mut String, pid: u32, text: &str, main: bool) {
        if self.opts.summary {
            return;
        }
        if self.opts.file_prefix {
            let _ = writeln!(out, "{pid:<5} {text}");
        } else if self.opts.stderr_prefix && !main && !self.live.is_empty() {
            // other threads still traced
            let _ = writeln!(out, "[pid {pid:>5}] {text}");
        } else {
            out.push_str(text);
            out.push('\n');
        }
    }

    /// The -c table.
    pub fn summary_table(&self) -> String {
        self.counts.format()
    }

    /// Threads seen and not gone: tid -> pid.
    pub fn live(&self) -> &HashMap<u32, u32> {
        &self.live
    }

    /// pid -> the status of its exit_group.
    pub fn exited(&self) -> &HashMap<u32, i32> {
        &self.exited
    }

    /// Calls entered and not yet returned.
    pub fn pending(&self) -> usize {
        self.pairer.pending()
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

// What a call's events captured, merged as `Call` merges them.

/// The captured value of one argument.
enum Cap<'a> {
    Bytes(&'a [u8]),
    List(Vec<&'a [u8]>),
}

/// Argument name -> captured value, in first-seen order (a dict), and the
/// names of the captures cut short.
struct Captured<'a> {
    values: Vec<(Cow<'static, str>, Cap<'a>)>,
    truncated: Vec<Cow<'static, str>>,
}

fn arg_name(meta_args: Option<&'static [String]>, i: usize) -> Cow<'static, str> {
    match meta_args.and_then(|a| a.get(i)) {
        Some(name) => Cow::Borrowed(name.as_str()),
        None => Cow::Owned(format!("arg{i}")),
    }
}

fn meta_of(nr: u32) -> Option<&'static crate::metadata::SyscallMetadata> {
    metadata().syscall_nr_to_meta(nr)
}

impl<'a> Captured<'a> {
    fn of(call: &'a Paired<Event>) -> Self {
        let mut merged = Captured {
            values: Vec::new(),
            truncated: Vec::new(),
        };
        for ev in [call.enter.as_ref(), call.exit.as_ref()]
            .into_iter()
            .flatten()
        {
            if ev.data.is_none() {
                continue;
            }
            let meta_args = meta_of(ev.nr).map(|m| m.args.as_slice());
            // The event's own dict (Event.captured), then merged in.
            let mut own: Vec<(Cow<'static, str>, Cap<'a>)> = Vec::new();
            // Event.capture_status: the last flagged capture of a name wins.
            let mut status: Vec<(Cow<'static, str>, bool)> = Vec::new();
            for cap in ev.captures() {
                let name = arg_name(meta_args, cap.arg as usize);
                if cap.faulted || cap.truncated {
                    match status.iter_mut().find(|(n, _)| *n == name) {
                        Some(entry) => entry.1 = cap.truncated && !cap.faulted,
                        None => status.push((name.clone(), cap.truncated && !cap.faulted)),
                    }
                }
                if cap.faulted || (cap.argv_elem && cap.truncated && cap.bytes.is_empty()) {
                    continue;
                }
                let slot = own.iter_mut().find(|(n, _)| *n == name);
                if cap.argv_elem {
                    match slot {
                        Some((_, Cap::List(items))) => items.push(cap.bytes),
                        Some((_, value)) => *value = Cap::List(vec![cap.bytes]),
                        None => own.push((name, Cap::List(vec![cap.bytes]))),
                    }
                } else {
                    match slot {
                        Some((_, value)) => *value = Cap::Bytes(cap.bytes),
                        None => own.push((name, Cap::Bytes(cap.bytes))),
                    }
                }
            }
            for (name, value) in own {
                match merged.values.iter_mut().find(|(n, _)| *n == name) {
                    Some(slot) => slot.1 = value,
                    None => merged.values.push((name, value)),
                }
            }
            for (name, truncated) in status {
                if truncated && !merged.truncated.contains(&name) {
                    merged.truncated.push(name);
                }
            }
        }
        merged
    }

    fn get(&self, name: &str) -> Option<&Cap<'a>> {
        self.values
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, value)| value)
    }

    fn is_truncated(&self, name: &str) -> bool {
        self.truncated.iter().any(|n| n == name)
    }
}

/// The argument names and C types of a call with `nargs` registers: the
/// metadata's, then the kernel's generic ones.
fn signature(nr: u32, nargs: usize) -> Vec<(Cow<'static, str>, &'static str)> {
    let meta = meta_of(nr);
    (0..nargs)
        .map(|i| {
            let name = arg_name(meta.map(|m| m.args.as_slice()), i);
            let c_type = meta
                .and_then(|m| m.types.get(i))
                .map_or("unsigned long", String::as_str);
            (name, c_type)
        })
        .collect()
}

/// `Call.strace(string_size, start_col=...)`.
pub fn strace_text(
    call: &Paired<Event>,
    name: &str,
    string_size: usize,
    start_col: usize,
) -> String {
    let opts = StraceOptions {
        string_size,
        column: DEFAULT_COLUMN,
    };
    let Some(enter) = call.enter.as_ref() else {
        let ret = call.exit.as_ref().map_or(0, |e| e.ret);
        return super::format_resumed_at(start_col, name, ret, &opts);
    };
    let captured = Captured::of(call);
    let raw = enter.args();
    let sig = signature(enter.nr, raw.len());
    let views: Vec<ArgView> = sig
        .iter()
        .zip(raw)
        .map(|((arg, c_type), &raw)| {
            let truncated = captured.is_truncated(arg);
            let captured = captured.get(arg).map(|c| match c {
                Cap::Bytes(b) => CapturedView::bytes(b, truncated),
                Cap::List(items) => CapturedView::argv(items, truncated),
            });
            ArgView {
                name: arg,
                c_type,
                raw,
                captured,
            }
        })
        .collect();
    let ret = call.exit.as_ref().map(|e| e.ret);
    super::format_call_at(start_col, name, &views, ret, &opts)
}

// JSON, as Python's json.dumps(..., ensure_ascii=False, separators=(",", ":")).

fn json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Captured bytes as `Call.args` gives them: a str when UTF-8, else
/// {"hex": ...} (to_dict's form of bytes).
fn json_bytes(out: &mut String, bytes: &[u8]) {
    match std::str::from_utf8(bytes) {
        Ok(s) => json_str(out, s),
        Err(_) => {
            out.push_str("{\"hex\":\"");
            for b in bytes {
                let _ = write!(out, "{b:02x}");
            }
            out.push_str("\"}");
        }
    }
}

fn json_opt<T: std::fmt::Display>(out: &mut String, value: Option<T>) {
    match value {
        Some(v) => {
            let _ = write!(out, "{v}");
        }
        None => out.push_str("null"),
    }
}

/// An argument's value in `Call.args`.
enum ArgValue<'c, 'a> {
    Int(i128),
    Cap(&'c Cap<'a>),
}

/// `systrace.json_line(call, string_size=...)`: `Call.to_dict()` as one line.
pub fn json_line(out: &mut String, call: &Paired<Event>, name: &str, string_size: usize) {
    let Some(first) = call.enter.as_ref().or(call.exit.as_ref()) else {
        return;
    };
    let ret = call.exit.as_ref().map(|e| e.ret);
    let captured = Captured::of(call);
    out.push_str("{\"name\":");
    json_str(out, name);
    let _ = write!(
        out,
        ",\"nr\":{},\"pid\":{},\"tid\":{},\"comm\":",
        first.nr, first.pid, first.tid
    );
    json_str(out, &String::from_utf8_lossy(first.comm_bytes()));
    // Call.args: the enter's typed registers, then what was captured.
    let mut args: Vec<(Cow<'static, str>, ArgValue)> = Vec::new();
    if let Some(enter) = call.enter.as_ref() {
        let meta = meta_of(enter.nr);
        for (i, &raw) in enter.args().iter().enumerate() {
            let value = ArgValue::Int(typed_arg(
                meta.and_then(|m| m.types.get(i)).map(String::as_str),
                raw,
            ));
            let arg = arg_name(meta.map(|m| m.args.as_slice()), i);
            match args.iter_mut().find(|(n, _)| *n == arg) {
                Some(slot) => slot.1 = value,
                None => args.push((arg, value)),
            }
        }
    }
    for (arg, value) in &captured.values {
        match args.iter_mut().find(|(n, _)| n == arg) {
            Some(slot) => slot.1 = ArgValue::Cap(value),
            None => args.push((arg.clone(), ArgValue::Cap(value))),
        }
    }
    out.push_str(",\"args\":{");
    for (i, (arg, value)) in args.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        json_str(out, arg);
        out.push(':');
        match value {
            ArgValue::Int(v) => {
                let _ = write!(out, "{v}");
            }
            ArgValue::Cap(Cap::Bytes(b)) => json_bytes(out, b),
            ArgValue::Cap(Cap::List(items)) => {
                out.push('[');
                for (j, b) in items.iter().enumerate() {
                    if j > 0 {
                        out.push(',');
                    }
                    json_bytes(out, b);
                }
                out.push(']');
            }
        }
    }
    out.push_str("},\"raw_args\":[");
    if let Some(enter) = call.enter.as_ref() {
        for (i, raw) in enter.args().iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(out, "{raw}");
        }
    }
    out.push_str("],\"ret\":");
    json_opt(out, ret);
    let errno = ret.and_then(super::errno::errno_of);
    out.push_str(",\"errno\":");
    match errno {
        Some(e) => match super::errno::errno_name(e) {
            Some(n) => json_str(out, n),
            None => json_str(out, &e.to_string()),
        },
        None => out.push_str("null"),
    }
    out.push_str(",\"error\":");
    match errno {
        Some(e) => json_str(out, &super::errno::errno_message(e)),
        None => out.push_str("null"),
    }
    let _ = write!(out, ",\"timestamp_ns\":{},\"end_ns\":", first.timestamp_ns);
    json_opt(out, call.exit.as_ref().map(|e| e.timestamp_ns));
    out.push_str(",\"duration_ns\":");
    json_opt(out, call.duration_ns());
    let _ = write!(
        out,
        ",\"unfinished\":{},\"resumed\":{},\"strace\":",
        call.exit.is_none(),
        call.enter.is_none()
    );
    json_str(out, &strace_text(call, name, string_size, 0));
    out.push_str("}\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::decode;
    use crate::decode::tests::{enter_record, exit_record};

    #[test]
    fn json_strings_escape_as_python_does() {
        let mut out = String::new();
        json_str(&mut out, "a\"b\\c\n\t\u{1}\u{7f}é");
        assert_eq!(out, r#""a\"b\\c\n\t\u0001"#.to_owned() + "\u{7f}é\"");
        let mut out = String::new();
        json_bytes(&mut out, b"\xff\x00");
        assert_eq!(out, r#"{"hex":"ff00"}"#);
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn pairs_prefixes_and_tells_exits() {
        let close = |tid: i32| decode(&enter_record(3, &[7], 100, tid)).unwrap();
        let closed = |tid: i32| decode(&exit_record(3, -9, 100, tid)).unwrap();
        let mut exit_group = decode(&enter_record(231, &[0x102], 100, 101)).unwrap();
        exit_group.timestamp_ns = 50;
        let mut printer = Printer::new(PrinterOptions::default());
        let mut out = String::new();
        printer.feed(&[close(100), closed(100)], &mut out);
        assert_eq!(
            out,
            "close(7)                                = -1 EBADF (Bad file descriptor)\n"
        );
        out.clear();
        // Two threads: "[pid N] " on each line, then the process's end.
        printer.feed(&[close(101), closed(101), exit_group], &mut out);
        assert_eq!(
            out,
            "[pid   101] close(7)                    = -1 EBADF (Bad file descriptor)\n\
             [pid   101] exit_group(258)             = ?\n\
             +++ exited with 2 +++\n"
        );
        assert!(printer.live().is_empty());
        assert_eq!(printer.exited().get(&100), Some(&2));
    }
}
