//! A call: the enter and exit events of one syscall on one thread, paired.
//! This is the one model of a call that the `systrace` command and the
//! library share: its arguments (typed registers, then what was captured of
//! the memory they point to), its strace text and its JSON all come from
//! here, and Python's `systrace.Call` wraps it.
use std::borrow::Cow;

use serde_json::{json, Map, Value};
use smallvec::SmallVec;

use super::fdtable::Resolved;
use super::{errno, ArgView, CapturedView, StraceOptions};
use crate::kernel::Event;
use crate::metadata::{arg_name, arg_type, display_name, metadata_now, typed_arg, SyscallMetadata};
use crate::trace::capture::{NEW_FDS_ARG, SIGFRAME_RET_ARG};

/// One call: an enter, an exit, or both (never neither).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Call {
    pub enter: Option<Event>,
    pub exit: Option<Event>,
}

/// What was captured of one argument, merged over the call's two events.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Captured<'a> {
    Bytes(&'a [u8]),
    /// An argv-like array: its elements in order.
    List(Vec<&'a [u8]>),
}

/// One argument as `Call.args` gives it: the register as its C type reads
/// it, or what was captured of the memory it points to.
#[derive(Clone, Debug, PartialEq)]
pub enum ArgValue<'a> {
    Int(i128),
    Captured(Captured<'a>),
    /// A structure strace decodes (a stat, a sockaddr, a sigset...), as
    /// `strace::structs` reads it: fields by name, lists, numbers, names.
    Struct(Value),
}

/// The captures of a call by argument name, in first-seen order, and the
/// names of those that were cut short.
#[derive(Debug, Default)]
pub struct Captures<'a> {
    pub values: SmallVec<[(Cow<'static, str>, Captured<'a>); 2]>,
    /// What the call wrote back into an argument read at enter too (poll's
    /// revents, accept's address length), read at exit.
    pub after: SmallVec<[(Cow<'static, str>, &'a [u8]); 1]>,
    /// What an argument read as a list at exit was at enter (recvmsg's
    /// msghdr, whose lengths the call rewrites).
    pub before: SmallVec<[(Cow<'static, str>, &'a [u8]); 1]>,
    pub truncated: Names,
    /// Arguments whose memory could not be read (and was not read later).
    pub faulted: Names,
    /// Arguments whose capture was lost: written by earlier versions, when
    /// the exit's pointer was kept from the enter (an older recording's).
    pub lost: Names,
}

/// Argument names. Inline, as the lists above: the command builds a
/// `Captures` per line, and most calls capture one or two arguments.
pub type Names = SmallVec<[Cow<'static, str>; 1]>;

impl<'a> Captures<'a> {
    pub fn get(&self, name: &str) -> Option<&Captured<'a>> {
        self.values.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    pub fn after(&self, name: &str) -> Option<&'a [u8]> {
        self.after.iter().find(|(n, _)| n == name).map(|(_, v)| *v)
    }

    pub fn before(&self, name: &str) -> Option<&'a [u8]> {
        self.before.iter().find(|(n, _)| n == name).map(|(_, v)| *v)
    }

    pub fn is_truncated(&self, name: &str) -> bool {
        self.truncated.iter().any(|n| n == name)
    }

    /// `name`: "truncated", "faulted", "lost", or None when captured whole.
    pub fn status(&self, name: &str) -> Option<&'static str> {
        if self.is_truncated(name) {
            Some("truncated")
        } else if self.faulted.iter().any(|n| n == name) {
            Some("faulted")
        } else if self.lost.iter().any(|n| n == name) {
            Some("lost")
        } else {
            None
        }
    }

    /// Every argument with a status, and its status.
    pub fn statuses(&self) -> impl Iterator<Item = (&Cow<'static, str>, &'static str)> + '_ {
        self.truncated
            .iter()
            .map(|n| (n, "truncated"))
            .chain(self.faulted.iter().map(|n| (n, "faulted")))
            .chain(self.lost.iter().map(|n| (n, "lost")))
    }
}

fn set<K: PartialEq, V, A: smallvec::Array<Item = (K, V)>>(
    list: &mut SmallVec<A>,
    key: K,
    value: V,
) {
    match list.iter_mut().find(|(k, _)| *k == key) {
        Some(slot) => slot.1 = value,
        None => list.push((key, value)),
    }
}

const SIGRETURN_NR: u32 = syscalls::Sysno::rt_sigreturn.id() as u32;

/// rt_sigreturn's return register, read from its signal frame at its enter
/// (`trace::capture::SIGFRAME_RET_ARG`); None for any other call.
fn sigreturn_ret(enter: &Event) -> Option<i64> {
    if enter.nr != SIGRETURN_NR {
        return None;
    }
    let cap = enter
        .captures()
        .find(|c| c.arg == SIGFRAME_RET_ARG && c.has_value())?;
    Some(i64::from_ne_bytes(cap.bytes.try_into().ok()?))
}

/// The captures one event carries, by argument name: argv elements are
/// gathered into a list; later items of a name replace earlier ones (a
/// string re-read at exit replaces its faulted read at enter).
pub fn event_captures(ev: &Event) -> Captures<'_> {
    let mut out = Captures::default();
    event_captures_into(ev, &mut out);
    out
}

/// [`event_captures`] into `out` (empty): a `Captures` is a few hundred
/// bytes inline, and the command's text path would move it twice a line.
fn event_captures_into<'a>(ev: &'a Event, out: &mut Captures<'a>) {
    if ev.data.is_none() {
        return;
    }
    let meta = metadata_now().0.syscall_nr_to_meta(ev.nr);
    // rt_sigreturn's second capture is its return (`Call::ret`), not an argument.
    let sigreturn = ev.nr == SIGRETURN_NR;
    for cap in ev.captures() {
        if sigreturn && cap.arg == SIGFRAME_RET_ARG {
            continue;
        }
        // The inode numbers of the fds a call made (`Call::new_fd_inodes`),
        // past its arguments.
        if cap.arg == NEW_FDS_ARG && meta.is_some_and(|m| m.args.len() <= NEW_FDS_ARG as usize) {
            continue;
        }
        let name = arg_name(meta, cap.arg as usize);
        // The last capture of a name says its status.
        out.truncated.retain(|n| *n != name);
        out.faulted.retain(|n| *n != name);
        out.lost.retain(|n| *n != name);
        if cap.lost {
            out.lost.push(name.clone());
        } else if cap.faulted {
            out.faulted.push(name.clone());
        } else if cap.truncated {
            out.truncated.push(name.clone());
        }
        if !cap.has_value() {
            continue;
        }
        if cap.argv_elem {
            match out.values.iter_mut().find(|(n, _)| *n == name) {
                Some((_, Captured::List(items))) => items.push(cap.bytes),
                Some((_, value)) => *value = Captured::List(vec![cap.bytes]),
                None => out.values.push((name, Captured::List(vec![cap.bytes]))),
            }
        } else {
            set(&mut out.values, name, Captured::Bytes(cap.bytes));
        }
    }
}

impl Call {
    /// A call of these events; None when both are missing.
    pub fn new(enter: Option<Event>, exit: Option<Event>) -> Option<Call> {
        (enter.is_some() || exit.is_some()).then_some(Call { enter, exit })
    }

    /// The enter, or the exit of a call whose enter was not seen.
    pub fn first(&self) -> &Event {
        self.enter
            .as_ref()
            .or(self.exit.as_ref())
            .expect("a call has an enter or an exit")
    }

    pub fn nr(&self) -> u32 {
        self.first().nr
    }

    /// The syscall's name (see `metadata::display_name`).
    pub fn name(&self) -> Cow<'static, str> {
        display_name(self.nr())
    }

    /// The table read so far (see `metadata_now`): the printer runs on the
    /// consumer thread, which must not wait for tracefs.
    pub fn meta(&self) -> Option<&'static SyscallMetadata> {
        metadata_now().0.syscall_nr_to_meta(self.nr())
    }

    /// The return value; None while unfinished. rt_sigreturn's is the
    /// return register it restores from the signal frame (the interrupted
    /// call's result, or what the handler interrupted), as strace shows it:
    /// the kernel reports no exit for it.
    pub fn ret(&self) -> Option<i64> {
        match (&self.exit, &self.enter) {
            (Some(exit), _) => Some(exit.ret),
            (None, Some(enter)) if enter.data.is_some() => sigreturn_ret(enter),
            (None, _) => None,
        }
    }

    /// The errno of a failed call.
    pub fn errno(&self) -> Option<i32> {
        self.ret().and_then(errno::errno_of)
    }

    /// The errno's name ("ENOENT"), or its number for one without a name.
    pub fn errno_name(&self) -> Option<Cow<'static, str>> {
        self.errno().map(|e| match errno::errno_name(e) {
            Some(name) => Cow::Borrowed(name),
            None => Cow::Owned(e.to_string()),
        })
    }

    /// When the call began (CLOCK_MONOTONIC), or returned when only that
    /// was seen.
    pub fn start_ns(&self) -> u64 {
        self.first().timestamp_ns
    }

    pub fn end_ns(&self) -> Option<u64> {
        self.exit.as_ref().map(|e| e.timestamp_ns)
    }

    /// exit - enter, when both were seen.
    pub fn duration_ns(&self) -> Option<u64> {
        match (&self.enter, &self.exit) {
            (Some(a), Some(b)) => Some(b.timestamp_ns.saturating_sub(a.timestamp_ns)),
            _ => None,
        }
    }

    /// No exit was seen: exit_group, a killed thread, the end of the trace.
    pub fn is_unfinished(&self) -> bool {
        self.exit.is_none()
    }

    /// No enter was seen: tracing began while the call was running.
    pub fn is_resumed(&self) -> bool {
        self.enter.is_none()
    }

    /// The argument registers (none when the enter was not seen).
    pub fn raw_args(&self) -> &[u64] {
        self.enter.as_ref().map_or(&[], |e| e.args())
    }

    /// The inode numbers of the fds the call made (pipe's two, socket's
    /// one), read by the programs at its exit (0: not open by then); empty
    /// when they were not captured.
    pub fn new_fd_inodes(&self) -> Vec<u64> {
        let Some(exit) = self.exit.as_ref().filter(|e| e.data.is_some()) else {
            return Vec::new();
        };
        exit.captures()
            .find(|c| c.arg == NEW_FDS_ARG && c.at_exit && c.has_value())
            .map(|c| {
                c.bytes
                    .chunks_exact(8)
                    .map(|b| u64::from_ne_bytes(b.try_into().expect("8 bytes")))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// What the call's events captured, merged: the exit's captures (read's
    /// data, a string re-read at exit) follow the enter's.
    pub fn captures(&self) -> Captures<'_> {
        let mut out = Captures::default();
        self.captures_into(&mut out);
        out
    }

    /// [`captures`](Self::captures) into `out` (empty), without moving it.
    fn captures_into<'a>(&'a self, out: &mut Captures<'a>) {
        let has_data = |ev: &Option<Event>| ev.as_ref().is_some_and(|e| e.data.is_some());
        if !has_data(&self.enter) || !has_data(&self.exit) {
            // One event with captures (read's exit, openat's enter): what
            // the merge below gives, without its copies (the command's
            // text path takes this for almost every line).
            let Some(ev) = self
                .enter
                .iter()
                .chain(&self.exit)
                .find(|e| e.data.is_some())
            else {
                return;
            };
            event_captures_into(ev, out);
            let values = &out.values;
            out.faulted.retain(|n| !values.iter().any(|(v, _)| v == n));
            return;
        }
        let merged = out;
        let events = [
            (self.enter.as_ref(), false),
            (self.exit.as_ref(), self.enter.is_some()),
        ];
        for (ev, at_exit) in events {
            let Some(ev) = ev else { continue };
            let own = event_captures(ev);
            for (name, value) in own.values {
                // An input read again at exit (a structure the call
                // rewrites) keeps both; a string re-read after a fault has
                // no enter value to keep.
                match (at_exit, &value, merged.get(&name)) {
                    (true, Captured::Bytes(b), Some(_)) => set(&mut merged.after, name, *b),
                    (true, Captured::List(_), Some(&Captured::Bytes(b))) => {
                        set(&mut merged.before, name.clone(), b);
                        set(&mut merged.values, name, value);
                    }
                    _ => set(&mut merged.values, name, value),
                }
            }
            for name in own.truncated {
                if !merged.truncated.contains(&name) {
                    merged.truncated.push(name);
                }
            }
            // A fault at enter that the exit read again is no fault.
            let values = &merged.values;
            merged
                .faulted
                .retain(|n| !values.iter().any(|(v, _)| v == n));
            for name in own.faulted {
                if merged.get(&name).is_none() && !merged.faulted.contains(&name) {
                    merged.faulted.push(name);
                }
            }
            for name in own.lost {
                if !merged.lost.contains(&name) {
                    merged.lost.push(name);
                }
            }
        }
    }

    /// Argument name -> value: the registers as their C types read them,
    /// with captured memory in place of the pointers it was read from.
    pub fn args(&self) -> Vec<(Cow<'static, str>, ArgValue<'_>)> {
        let meta = self.meta();
        let mut args: SmallVec<[(Cow<'static, str>, ArgValue); 7]> = SmallVec::new();
        for (i, &raw) in self.raw_args().iter().enumerate() {
            let value = ArgValue::Int(typed_arg(Some(arg_type(meta, i)), raw));
            set(&mut args, arg_name(meta, i), value);
        }
        let captures = self.captures();
        let name = self.name();
        for (arg, value) in &captures.values {
            let decoded = match value {
                Captured::Bytes(b) => {
                    let b = match super::structs::sockaddr_len_arg(&name, arg) {
                        Some(len) => super::structs::written_sockaddr(b, captures.after(len)),
                        None => b,
                    };
                    super::structs::value(
                        &name,
                        arg,
                        b,
                        captures.after(arg),
                        self.ret(),
                        self.raw_args(),
                    )
                }
                Captured::List(items) => super::structs::list_value(
                    &name,
                    arg,
                    items,
                    captures.before(arg),
                    self.ret(),
                    self.raw_args(),
                ),
            };
            let value = match decoded {
                Some(v) => ArgValue::Struct(v),
                None => ArgValue::Captured(value.clone()),
            };
            set(&mut args, arg.clone(), value);
        }
        args.into_vec()
    }

    /// The call as strace prints it, the result aligned on `opts.column`
    /// for a line whose first `start_col` columns hold a prefix.
    pub fn strace(&self, opts: &StraceOptions, start_col: usize) -> String {
        self.strace_fds(opts, start_col, None)
    }

    /// [`strace`](Self::strace) with what its fds refer to (strace -y).
    pub fn strace_fds(
        &self,
        opts: &StraceOptions,
        start_col: usize,
        fds: Option<&Resolved>,
    ) -> String {
        let mut out = String::with_capacity(96);
        self.push_strace_fds(&mut out, opts, start_col, fds);
        out
    }

    /// [`strace_fds`](Self::strace_fds) appended to `out`, after a prefix
    /// of `start_col` columns.
    pub fn push_strace_fds(
        &self,
        out: &mut String,
        opts: &StraceOptions,
        start_col: usize,
        fds: Option<&Resolved>,
    ) {
        let name = self.name();
        match self.enter {
            None => out.push_str(&super::format_resumed_at(
                start_col,
                &name,
                self.ret().unwrap_or(0),
                opts,
            )),
            Some(_) => self.with_views(|views| {
                super::push_call_fds(out, start_col, &name, views, self.ret(), opts, fds)
            }),
        }
    }

    /// The first part of a call that another thread's line cut (strace
    /// -f): `read(0,  <unfinished ...>`. Needs the enter.
    pub fn strace_unfinished(&self, opts: &StraceOptions, fds: Option<&Resolved>) -> String {
        let name = self.name();
        self.with_views(|views| super::format_unfinished(&name, views, opts, fds))
    }

    /// The rest of a call whose first part was cut:
    /// `<... read resumed>"x", 1) = 1`, or
    /// `<... read resumed> <unfinished ...>) = ?` when it never returned.
    pub fn strace_resumed(
        &self,
        opts: &StraceOptions,
        start_col: usize,
        fds: Option<&Resolved>,
    ) -> String {
        let name = self.name();
        self.with_views(|views| {
            super::format_resumed_call_at(start_col, &name, views, self.ret(), opts, fds)
        })
    }

    /// Each argument as strace shows it (the ones strace shows: open's mode
    /// only with O_CREAT).
    pub fn strace_args(&self, opts: &StraceOptions) -> Vec<String> {
        if self.enter.is_none() {
            return Vec::new();
        }
        self.with_views(|views| {
            super::decode_args(&self.name(), views, self.ret(), opts)
                .args
                .into_iter()
                .map(|a| a.text.into_string())
                .collect()
        })
    }

    /// The arguments as the decoders see them.
    fn with_views<R>(&self, f: impl FnOnce(&[ArgView]) -> R) -> R {
        let meta = self.meta();
        let mut captures = Captures::default();
        self.captures_into(&mut captures);
        // rt_sigreturn has no arguments but a capture (its frame's mask):
        // it is shown as the first.
        let mut raw: SmallVec<[u64; 7]> = SmallVec::from_slice(self.raw_args());
        if raw.is_empty() && captures.get("arg0").is_some() {
            raw.push(0);
        }
        // Inline, and pushed in place rather than collected (a collected
        // SmallVec is moved whole): this runs for every line the command
        // prints.
        let mut names: SmallVec<[Cow<'static, str>; 7]> = SmallVec::new();
        names.extend((0..raw.len()).map(|i| arg_name(meta, i)));
        let mut views: SmallVec<[ArgView; 7]> = SmallVec::new();
        for (i, (name, &raw)) in names.iter().zip(&raw).enumerate() {
            let truncated = captures.is_truncated(name);
            let captured = captures.get(name).map(|c| match c {
                Captured::Bytes(b) => {
                    CapturedView::bytes(b, truncated).with_after(captures.after(name))
                }
                Captured::List(items) => {
                    let mut view = CapturedView::argv(items, truncated);
                    view.before = captures.before(name);
                    view
                }
            });
            views.push(ArgView {
                name,
                c_type: arg_type(meta, i),
                raw,
                captured,
            });
        }
        f(&views)
    }

    /// Every field as JSON (`Call.to_dict()`, the command's `--format json`),
    /// "strace" printed with `opts`. Captured bytes are a string when UTF-8,
    /// else {"hex": "..."}.
    pub fn to_json(&self, opts: &StraceOptions) -> Value {
        self.to_json_fds(opts, None)
    }

    /// [`to_json`](Self::to_json); with `fds`, also "paths" (path argument
    /// name -> absolute path), "fd_paths" (fd argument name -> what it
    /// refers to) and "ret_path" (the returned fd's), and "strace" as -y.
    pub fn to_json_fds(&self, opts: &StraceOptions, fds: Option<&Resolved>) -> Value {
        let first = self.first();
        let mut args = Map::new();
        for (name, value) in self.args() {
            args.insert(name.into_owned(), arg_json(&value));
        }
        let mut value = json!({
            "name": self.name(),
            "nr": first.nr,
            "pid": first.pid,
            "tid": first.tid,
            "comm": String::from_utf8_lossy(first.comm_bytes()),
            "args": args,
            "raw_args": self.raw_args(),
            "ret": self.ret(),
            "errno": self.errno_name(),
            "error": self.errno().map(errno::errno_message),
            "timestamp_ns": self.start_ns(),
            "end_ns": self.end_ns(),
            "duration_ns": self.duration_ns(),
            "unfinished": self.is_unfinished(),
            "resumed": self.is_resumed(),
            "strace": self.strace_fds(opts, 0, fds),
        });
        if let (Some(fds), Value::Object(map)) = (fds, &mut value) {
            let named = |list: Vec<(String, String)>| {
                Value::Object(
                    list.into_iter()
                        .map(|(k, v)| (k, Value::String(v)))
                        .collect(),
                )
            };
            map.insert("paths".into(), named(self.paths_by_name(fds)));
            map.insert("fd_paths".into(), named(self.fd_paths_by_name(fds)));
            map.insert("ret_path".into(), json!(fds.ret.as_ref().map(|f| &f.path)));
        }
        value
    }

    /// `fds`'s path arguments by argument name.
    pub fn paths_by_name(&self, fds: &Resolved) -> Vec<(String, String)> {
        let meta = self.meta();
        fds.paths
            .iter()
            .map(|(i, p)| (arg_name(meta, *i).into_owned(), p.clone()))
            .collect()
    }

    /// `fds`'s fd arguments by argument name: what each refers to.
    pub fn fd_paths_by_name(&self, fds: &Resolved) -> Vec<(String, String)> {
        let meta = self.meta();
        fds.fds
            .iter()
            .map(|(i, f)| (arg_name(meta, *i).into_owned(), f.path.clone()))
            .collect()
    }

    /// [`to_json`](Self::to_json) as one line of JSON lines, newline included.
    pub fn json_line(&self, opts: &StraceOptions) -> String {
        self.json_line_fds(opts, None)
    }

    pub fn json_line_fds(&self, opts: &StraceOptions, fds: Option<&Resolved>) -> String {
        let mut line = self.to_json_fds(opts, fds).to_string();
        line.push('\n');
        line
    }
}

pub(crate) fn bytes_json(bytes: &[u8]) -> Value {
    match std::str::from_utf8(bytes) {
        Ok(s) => Value::String(s.to_owned()),
        Err(_) => {
            let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            json!({ "hex": hex })
        }
    }
}

fn arg_json(value: &ArgValue) -> Value {
    match value {
        // Registers are at most 64 bits, signed or not.
        ArgValue::Int(v) => match i64::try_from(*v) {
            Ok(v) => Value::from(v),
            Err(_) => Value::from(*v as u64),
        },
        ArgValue::Captured(Captured::Bytes(b)) => bytes_json(b),
        ArgValue::Captured(Captured::List(items)) => {
            Value::Array(items.iter().map(|b| bytes_json(b)).collect())
        }
        ArgValue::Struct(v) => v.clone(),
    }
}
