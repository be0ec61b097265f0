//! A call: the enter and exit events of one syscall on one thread, paired.
//! This is the one model of a call that the `systrace` command and the
//! library share: its arguments (typed registers, then what was captured of
//! the memory they point to), its strace text and its JSON all come from
//! here, and Python's `systrace.Call` wraps it.
use std::borrow::Cow;

use serde_json::{json, Map, Value};
use smallvec::SmallVec;

use super::fdtable::Resolved;
use super::{errno, ArgView, AttrString, CapturedView, StraceOptions};
use crate::kernel::{Event, Phase};
use crate::metadata::{
    arg_name, arg_type, display_name, metadata_now, register_name, typed_arg, SyscallMetadata,
};
use crate::trace::capture::{
    ATTR_STRINGS_ARG, NEW_FDS_ARG, SIGFRAME_MASK_OFFSET, SIGFRAME_RET_ARG, SIGFRAME_SP_ARG,
};

/// One argument's capture on the plain path (`Call::plain_captures`):
/// (argument, bytes, truncated).
type PlainCapture<'a> = (u8, &'a [u8], bool);
type PlainCaptures<'a> = SmallVec<[PlainCapture<'a>; 2]>;

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
    /// Lists cut short (more elements than the programs keep), also in
    /// `truncated`: strace's `, ...` after the elements, where a
    /// truncated name otherwise marks its last element cut.
    pub cut: Names,
    /// Arguments whose memory could not be read (and was not read later).
    pub faulted: Names,
    /// Arguments whose capture was lost: written by earlier versions, when
    /// the exit's pointer was kept from the enter (an older recording's).
    pub lost: Names,
    /// The netlink protocol of the socket whose messages the call's data
    /// is (sendto's, recvmsg's...), when it is one: strace decodes them.
    pub netlink: Option<u32>,
    /// What bpf(2)'s attr points to, read at enter (not an argument of
    /// its own: the attr's decoding shows it).
    pub attr_strings: Vec<AttrString<'a>>,
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

    pub fn is_cut(&self, name: &str) -> bool {
        self.cut.iter().any(|n| n == name)
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
    sigreturn_word(enter, SIGFRAME_RET_ARG).map(|r| r as i64)
}

/// The address of the mask rt_sigreturn restores, in its signal frame on
/// the stack (`trace::capture::SIGFRAME_SP_ARG`); None for any other call.
fn sigreturn_mask_addr(enter: &Event) -> Option<u64> {
    sigreturn_word(enter, SIGFRAME_SP_ARG)
        .map(|sp| sp.wrapping_add(u64::from(SIGFRAME_MASK_OFFSET)))
}

/// The 8 bytes rt_sigreturn's enter captured as argument `arg`.
fn sigreturn_word(enter: &Event, arg: u8) -> Option<u64> {
    if enter.nr != SIGRETURN_NR {
        return None;
    }
    let cap = enter.captures().find(|c| c.arg == arg && c.has_value())?;
    Some(u64::from_ne_bytes(cap.bytes.try_into().ok()?))
}

const EXECVE_NR: u32 = syscalls::Sysno::execve.id() as u32;
const EXECVEAT_NR: u32 = syscalls::Sysno::execveat.id() as u32;

/// An exec's filename or argv that could not be read at enter (a forked
/// child's copy of its parent's read-only data, such as the literals of
/// `execl("m4", "m4", "-P", NULL)`, is mapped at first touch, which only the
/// exec makes) is read again at exit (bpf/capture.bpf.h, capture_exec_again):
/// from the caller's memory if the exec failed, as it was; from the new
/// image's stack if it succeeded, where the kernel copied the strings. There
/// a script's interpreter, its argument and the script's path took argv[0]'s
/// place, and execveat's filename is `/dev/fd/N/name`: lined up here with
/// what the enter read. An element that stays unknown (a script's argv[0])
/// leaves the list a fault: its address is printed, as for any argument
/// not read.
fn exec_again<'a>(enter: &'a Event, exit: &'a Event, merged: &mut Captures<'a>) {
    let (Some((path_arg, argv_arg, env_arg)), Some((path_again, argv_again, env_again))) =
        (exec_places(enter.nr), exec_places(exit.nr))
    else {
        return;
    };
    let meta = metadata_now().0.syscall_nr_to_meta(enter.nr);
    let dirfd = enter.args.first().map_or(0, |&fd| fd as i32);
    if enter.nr == EXECVEAT_NR && exit.ret == 0 && dirfd != libc::AT_FDCWD {
        let name = arg_name(meta, path_arg as usize);
        let again = exit
            .captures()
            .any(|c| c.arg == path_again && c.at_exit && c.has_value());
        if let (true, Some(Captured::Bytes(path))) = (again, merged.get(&name)) {
            let prefix = format!("/dev/fd/{dirfd}");
            if let Some(rest) = path.strip_prefix(prefix.as_bytes()) {
                let rest = rest.strip_prefix(b"/").unwrap_or(rest);
                set(&mut merged.values, name, Captured::Bytes(rest));
            }
        }
    }
    // argv; the environment (read as a list under -v), which no
    // interpreter moved.
    exec_list_again(enter, exit, merged, argv_arg, argv_again, true);
    exec_list_again(enter, exit, merged, env_arg, env_again, false);
}

/// An exec's filename's, argv's and environment's places; a successful
/// execveat's exit is execve's (`pair::execveat_returned`).
fn exec_places(nr: u32) -> Option<(u8, u8, u8)> {
    match nr {
        EXECVE_NR => Some((0, 1, 2)),
        EXECVEAT_NR => Some((1, 2, 3)),
        _ => None,
    }
}

/// The list at the enter's `arg`, completed from what the exit read
/// again at its `again_arg` (see `exec_again`); `moved`: a script's
/// interpreter may have taken argv[0]'s place in the new image.
fn exec_list_again<'a>(
    enter: &'a Event,
    exit: &'a Event,
    merged: &mut Captures<'a>,
    arg: u8,
    again_arg: u8,
    moved: bool,
) {
    let meta = metadata_now().0.syscall_nr_to_meta(enter.nr);
    // The elements, whether the list was cut short, and whether it could
    // not be read past them (its array, not an element, faulted).
    let elems = |ev: &'a Event, arg: u8, at_exit: bool| {
        let (mut cut, mut unread) = (false, false);
        let mut list: Vec<Option<&'a [u8]>> = Vec::new();
        for c in ev
            .captures()
            .filter(|c| c.arg == arg && c.argv_elem && c.at_exit == at_exit)
        {
            if c.truncated && c.bytes.is_empty() {
                // The marker of a list cut short, or of an array that
                // could not be read from there on.
                if c.faulted {
                    unread = true;
                } else {
                    cut = true;
                }
            } else {
                list.push(c.has_value().then_some(c.bytes));
            }
        }
        (list, cut, unread)
    };
    let (again, again_cut, _) = elems(exit, again_arg, true);
    if again.is_empty() && !again_cut {
        return; // nothing was read again
    }
    let (first, first_cut, unread) = elems(enter, arg, false);
    let (n, m) = (first.len(), again.len());
    let same = |a: &[u8], b: &[u8]| a.starts_with(b) || b.starts_with(a);
    let line_up = |d: usize| -> Option<Vec<&'a [u8]>> {
        // Every element read at enter is where the shift puts it.
        let agrees = first
            .iter()
            .enumerate()
            .all(|(j, e)| match (e, again.get(j + d)) {
                (Some(e), Some(Some(x))) if j > 0 || d == 0 => same(e, x),
                _ => true,
            });
        if !agrees {
            return None;
        }
        let mut list: Vec<&'a [u8]> = first
            .iter()
            .enumerate()
            .map(|(j, e)| match (e, again.get(j + d)) {
                (Some(e), _) => Some(*e),
                (None, Some(Some(x))) if j > 0 || d == 0 => Some(*x),
                _ => None,
            })
            .collect::<Option<_>>()?;
        // What the enter could not read past: the rest of what the exit read.
        if unread {
            for x in again.iter().skip(n + d) {
                list.push((*x)?);
            }
        }
        Some(list)
    };
    // How far the new image's strings moved: not at all for a failed exec
    // (read again where they were), else by what the interpreter's took;
    // each shift the lists allow is tried when either was cut.
    let candidates: Vec<usize> = if exit.ret != 0 || !moved {
        vec![0]
    } else if !first_cut && !again_cut && !unread {
        m.checked_sub(n).into_iter().collect()
    } else {
        (0..4).collect()
    };
    let mut found = candidates.into_iter().filter_map(line_up);
    let name = arg_name(meta, arg as usize);
    merged.truncated.retain(|t| *t != name);
    merged.cut.retain(|t| *t != name);
    merged.faulted.retain(|f| *f != name);
    match (found.next(), found.next()) {
        (Some(list), None) => {
            set(&mut merged.values, name.clone(), Captured::List(list));
            if (first_cut && !unread) || (unread && again_cut) {
                merged.truncated.push(name.clone());
                merged.cut.push(name);
            }
        }
        _ => {
            merged.values.retain(|(v, _)| *v != name);
            merged.faulted.push(name);
        }
    }
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
    // Lists with an element that could not be read: not a value (the list
    // without it would be another list), but a fault, whatever follows.
    let mut broken: Names = Names::new();
    let exec = exec_places(ev.nr).filter(|_| ev.phase == Phase::Enter);
    // An exec's argv and environment (at enter, or read again at exit),
    // and the one of them whose element just read was cut.
    let exec_lists = exec_places(ev.nr).map(|(_, argv, env)| [argv, env]);
    let mut cut_elem: Option<u8> = None;
    for cap in ev.captures() {
        // An exec's list cut right after an element that was cut: the
        // record's budget ended in that element, which would print as if
        // whole (a string's cut shows only past -s): the list ends before it.
        let marker = cap.argv_elem && cap.truncated && cap.bytes.is_empty() && !cap.faulted;
        if marker && cut_elem == Some(cap.arg) {
            let name = arg_name(meta, cap.arg as usize);
            if let Some((_, Captured::List(items))) =
                out.values.iter_mut().find(|(n, _)| *n == name)
            {
                items.pop();
            }
        }
        cut_elem = (cap.argv_elem
            && cap.truncated
            && !cap.bytes.is_empty()
            && exec_lists.is_some_and(|l| l.contains(&cap.arg)))
        .then_some(cap.arg);
        if sigreturn && (cap.arg == SIGFRAME_RET_ARG || cap.arg == SIGFRAME_SP_ARG) {
            continue;
        }
        // The inode numbers of the fds a call made (`Call::new_fd_inodes`),
        // past its arguments.
        if cap.arg == NEW_FDS_ARG && meta.is_some_and(|m| m.args.len() <= NEW_FDS_ARG as usize) {
            continue;
        }
        if cap.netlink {
            out.netlink = cap.bytes.try_into().ok().map(u32::from_ne_bytes);
            continue;
        }
        if cap.arg == ATTR_STRINGS_ARG
            && meta.is_some_and(|m| m.args.len() <= ATTR_STRINGS_ARG as usize)
        {
            out.attr_strings.push(AttrString {
                bytes: cap.bytes,
                truncated: cap.truncated,
                faulted: cap.faulted || cap.lost,
            });
            continue;
        }
        let name = arg_name(meta, cap.arg as usize);
        if exec.is_some() && cap.argv_elem && cap.truncated && cap.bytes.is_empty() && !cap.faulted
        {
            // An exec's list cut before its first element (argv took the
            // record's budget): `[...]`, not a pointer not read.
            if out.get(&name).is_none() {
                out.values.push((name.clone(), Captured::List(Vec::new())));
            }
        }
        if cap.argv_elem && (cap.faulted || broken.contains(&name)) {
            if !broken.contains(&name) {
                out.values.retain(|(n, _)| *n != name);
                out.truncated.retain(|n| *n != name);
                out.cut.retain(|n| *n != name);
                out.faulted.retain(|n| *n != name);
                out.faulted.push(name.clone());
                broken.push(name);
            }
            continue;
        }
        // The last capture of a name says its status.
        out.truncated.retain(|n| *n != name);
        out.cut.retain(|n| *n != name);
        out.faulted.retain(|n| *n != name);
        out.lost.retain(|n| *n != name);
        if cap.lost {
            out.lost.push(name.clone());
        } else if cap.faulted {
            out.faulted.push(name.clone());
        } else if cap.truncated {
            if cap.argv_elem && cap.bytes.is_empty() {
                out.cut.push(name.clone()); // the marker of a list cut short
            }
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
    // An exec's argv, or its environment read as a list (the command's
    // -v), whose walk met the NULL first wrote no item: `[]`. (An array
    // not readable writes a faulted one; a counted environment, its count;
    // argv is walked before the environment, which always has an item
    // when argv has none but was walked.)
    if let Some((_, argv, env)) = exec {
        let has = |arg: u8| ev.captures().any(|c| c.arg == arg);
        let not_null = |arg: u8| ev.args.get(usize::from(arg)).is_some_and(|&p| p != 0);
        for (arg, walked) in [
            (argv, has(env)),
            (env, crate::trace::capture::unabbreviated(ev.nr)),
        ] {
            if walked && not_null(arg) && !has(arg) {
                out.values
                    .push((arg_name(meta, arg.into()), Captured::List(Vec::new())));
            }
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
        self.fd_table_item(false)
            .map(|bytes| {
                bytes
                    .chunks_exact(8)
                    .map(|b| u64::from_ne_bytes(b.try_into().expect("8 bytes")))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The ends of the socket the call connected, bound, put to listen or
    /// accepted, as the programs read them at its exit (a
    /// `systrace_socket_ends`: `sockets::ends_text` tells them); None when
    /// they were not (another family, a call that failed).
    pub fn socket_ends(&self) -> Option<&[u8]> {
        self.fd_table_item(true)
    }

    /// What the programs read of the call's fds in the process's fd table
    /// at its exit (`trace::capture::NEW_FDS_ARG`): the new fds' inode
    /// numbers, or (`ends`) a socket's ends.
    fn fd_table_item(&self, ends: bool) -> Option<&[u8]> {
        let exit = self.exit.as_ref().filter(|e| e.data.is_some())?;
        exit.captures()
            .find(|c| c.arg == NEW_FDS_ARG && c.at_exit && c.has_value() && c.ends == ends)
            .map(|c| c.bytes)
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
            merged.netlink = merged.netlink.or(own.netlink);
            if merged.attr_strings.is_empty() {
                merged.attr_strings = own.attr_strings;
            }
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
            for name in own.cut {
                if !merged.cut.contains(&name) {
                    merged.cut.push(name);
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
        if let (Some(enter), Some(exit)) = (&self.enter, &self.exit) {
            exec_again(enter, exit, merged);
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

    /// strace's -e read=SET and -e write=SET: the data the call moved on an
    /// fd of the set, dumped after its line (`read` for the calls that
    /// read, `write` for those that write). Nothing for a call that moved
    /// nothing.
    pub fn push_data_dump(
        &self,
        out: &mut String,
        read: Option<&super::dump::FdSet>,
        write: Option<&super::dump::FdSet>,
    ) {
        use super::dump::{direction, push_dump, Way};
        let (Some(_), Some(moved)) = (&self.enter, self.ret().filter(|&r| r > 0)) else {
            return;
        };
        let Some((way, layout)) = direction(&self.name()) else {
            return;
        };
        let set = match way {
            Way::Read => read,
            Way::Write => write,
        };
        let fd = self.raw_args().first().map_or(-1, |&fd| fd as i32);
        if set.is_some_and(|set| set.contains(fd)) {
            self.with_views(|views| push_dump(out, layout, views, moved as u64));
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
        // The table looked up once for the line.
        let meta = self.meta();
        match self.plain_captures(meta) {
            Some(plain) => self.with_plain_views(meta, &plain, f),
            None => self.with_merged_views(meta, f),
        }
    }

    /// What one event of the call captured, when nothing of it needs
    /// `captures_into`'s merge: at most one item per argument among the
    /// registers, none of them a list's element, a netlink protocol, lost,
    /// or past the arguments (bpf's attr strings, the fds a call made);
    /// not rt_sigreturn. (argument, bytes, truncated); a fault is no value.
    /// Read's data and openat's path, the command's most common lines,
    /// are such: their views cost no `Captures`.
    fn plain_captures(&self, meta: Option<&SyscallMetadata>) -> Option<PlainCaptures<'_>> {
        let mut plain = SmallVec::new();
        fn with_data(ev: &Option<Event>) -> Option<&Event> {
            ev.as_ref().filter(|e| e.data.is_some())
        }
        let ev = match (with_data(&self.enter), with_data(&self.exit)) {
            (None, None) => return Some(plain),
            (Some(ev), None) | (None, Some(ev)) => ev,
            (Some(_), Some(_)) => return None,
        };
        // Items past the syscall's arguments are not arguments' (see
        // `event_captures_into`).
        let nargs = meta
            .map_or(usize::MAX, |m| m.args.len())
            .min(self.raw_args().len());
        // An exec's enter may have lists without items (`[]`).
        if ev.nr == SIGRETURN_NR || (ev.phase == Phase::Enter && exec_places(ev.nr).is_some()) {
            return None;
        }
        let mut seen = 0u8;
        for cap in ev.captures() {
            let bit = 1u8 << cap.arg;
            if cap.argv_elem
                || cap.netlink
                || cap.lost
                || usize::from(cap.arg) >= nargs
                || seen & bit != 0
            {
                return None;
            }
            seen |= bit;
            if !cap.faulted {
                plain.push((cap.arg, cap.bytes, cap.truncated));
            }
        }
        Some(plain)
    }

    fn with_plain_views<R>(
        &self,
        meta: Option<&'static SyscallMetadata>,
        plain: &[PlainCapture<'_>],
        f: impl FnOnce(&[ArgView]) -> R,
    ) -> R {
        let mut views: SmallVec<[ArgView; 7]> = SmallVec::new();
        for (i, &raw) in self.raw_args().iter().enumerate() {
            let captured = plain
                .iter()
                .find(|(arg, _, _)| usize::from(*arg) == i)
                .map(|&(_, bytes, truncated)| CapturedView::bytes(bytes, truncated));
            views.push(ArgView {
                name: register_name(meta, i),
                c_type: arg_type(meta, i),
                raw,
                captured,
            });
        }
        f(&views)
    }

    /// [`with_views`](Self::with_views) through the merge of the call's
    /// captures (`captures_into`): lists, a structure read at enter and
    /// again at exit, netlink data, bpf's attr strings.
    fn with_merged_views<R>(
        &self,
        meta: Option<&'static SyscallMetadata>,
        f: impl FnOnce(&[ArgView]) -> R,
    ) -> R {
        let mut captures = Captures::default();
        self.captures_into(&mut captures);
        // rt_sigreturn has no arguments but a capture (its frame's mask):
        // it is shown as the first, the mask's address as its value.
        let mut raw: SmallVec<[u64; 7]> = SmallVec::from_slice(self.raw_args());
        if raw.is_empty() && captures.get("arg0").is_some() {
            raw.push(
                self.enter
                    .as_ref()
                    .and_then(sigreturn_mask_addr)
                    .unwrap_or(0),
            );
        }
        // Inline, and pushed in place rather than collected (a collected
        // SmallVec is moved whole): this runs for every line the command
        // prints.
        let mut views: SmallVec<[ArgView; 7]> = SmallVec::new();
        for (i, &raw) in raw.iter().enumerate() {
            let name = register_name(meta, i);
            let truncated = captures.is_truncated(name);
            let captured = captures.get(name).map(|c| match c {
                Captured::Bytes(b) => {
                    let mut view =
                        CapturedView::bytes(b, truncated).with_after(captures.after(name));
                    view.netlink = captures.netlink;
                    view.attr_strings = &captures.attr_strings;
                    view
                }
                Captured::List(items) => {
                    // A list cut short is `..., ...]`; otherwise its last
                    // element is the one cut.
                    let cut = captures.is_cut(name);
                    let mut view = CapturedView::argv(items, truncated && !cut);
                    view.truncated = cut;
                    view.before = captures.before(name);
                    view.netlink = captures.netlink;
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
        if let (Some(fds), Value::Object(map)) = (fds.filter(|f| !f.names_only), &mut value) {
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

#[cfg(all(test, target_arch = "x86_64"))]
mod exec_tests {
    use super::*;
    use crate::kernel::decode::tests::{enter_record, exit_record};
    use crate::kernel::decode::{decode, encode_captures};

    // Item flags (systrace_capture_flags).
    const CUT: u8 = 1;
    const FAULTED: u8 = 2;
    const ELEM: u8 = 4;
    const AT_EXIT: u8 = 8;

    fn event(mut record: Vec<u8>, items: &[(u8, u8, &[u8])]) -> Event {
        let items: Vec<(u8, u8, Vec<u8>)> =
            items.iter().map(|(a, f, b)| (*a, *f, b.to_vec())).collect();
        record.extend(encode_captures(&items));
        decode(&record).unwrap()
    }

    /// The argv of an execve whose enter read `first` and whose exit (ret)
    /// read `again`; None when it is a fault.
    fn argv(first: &[(u8, &[u8])], again: &[(u8, &[u8])], ret: i64) -> Option<Vec<String>> {
        let enter: Vec<_> = first.iter().map(|(f, b)| (1, ELEM | f, *b)).collect();
        let exit: Vec<_> = again
            .iter()
            .map(|(f, b)| (1, ELEM | AT_EXIT | f, *b))
            .collect();
        let call = Call::new(
            Some(event(
                enter_record(59, &[0x1000, 0x2000, 0x3000], 7, 7),
                &enter,
            )),
            Some(event(exit_record(59, ret, 7, 7), &exit)),
        )
        .unwrap();
        let captures = call.captures();
        match captures.get("argv") {
            Some(Captured::List(items)) => {
                assert_eq!(captures.status("argv"), None);
                Some(
                    items
                        .iter()
                        .map(|b| String::from_utf8_lossy(b).into_owned())
                        .collect(),
                )
            }
            None => {
                assert_eq!(captures.status("argv"), Some("faulted"));
                None
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_exec_argv_is_completed_from_what_its_exit_read_again() {
        let strs = |v: &[&str]| Some(v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        // A program: its strings where they were.
        let got = argv(&[(0, b"m4"), (FAULTED, b"")], &[(0, b"m4"), (0, b"-P")], 0);
        assert_eq!(got, strs(&["m4", "-P"]));
        // A failed exec read its array again.
        let got = argv(
            &[(FAULTED, b""), (FAULTED, b"")],
            &[(0, b"prog"), (0, b"-x")],
            -2,
        );
        assert_eq!(got, strs(&["prog", "-x"]));
        // A script: the interpreter and the script's path took argv[0]'s
        // place; the rest lines up from the end.
        let script = [(0, &b"/bin/sh"[..]), (0, b"/tmp/s.sh"), (0, b"-s")];
        let got = argv(&[(0, b"s.sh"), (FAULTED, b"")], &script, 0);
        assert_eq!(got, strs(&["s.sh", "-s"]));
        // ... but argv[0] itself is gone.
        assert_eq!(argv(&[(FAULTED, b""), (0, b"-s")], &script, 0), None);
        // The new image's strings cut short: the shift that agrees with
        // what the enter read, when only one does.
        let cut = [(0, &b"/bin/sh"[..]), (0, b"/tmp/s.sh"), (CUT, b"")];
        assert_eq!(
            argv(&[(0, b"s.sh"), (FAULTED, b""), (0, b"x")], &cut, 0),
            None
        );
        let got = argv(
            &[(0, b"true"), (FAULTED, b""), (0, b"b")],
            &[(0, b"true"), (0, b"a"), (CUT, b"")],
            0,
        );
        assert_eq!(got, strs(&["true", "a", "b"]));
        // An element that faulted again, and an exit that disagrees.
        assert_eq!(
            argv(
                &[(0, b"a"), (FAULTED, b"")],
                &[(0, b"a"), (FAULTED, b"")],
                -2
            ),
            None
        );
        assert_eq!(
            argv(&[(0, b"a"), (FAULTED, b"")], &[(0, b"b"), (0, b"c")], 0),
            None
        );
        // A list with a fault and nothing read again: not a shorter list.
        let enter = event(
            enter_record(59, &[0x1000, 0x2000, 0x3000], 7, 7),
            &[(1, ELEM, b"m4"), (1, ELEM | FAULTED, b""), (1, ELEM, b"x")],
        );
        let call = Call::new(Some(enter), None).unwrap();
        assert!(call.captures().get("argv").is_none());
        assert_eq!(call.captures().status("argv"), Some("faulted"));
    }

    /// The list at `arg` of an execve whose enter read `first` (with its
    /// filename) and whose exit read `again` at the same place.
    fn list(
        arg: u8,
        first: &[(u8, &[u8])],
        again: &[(u8, &[u8])],
        ret: i64,
    ) -> (Option<Vec<String>>, Option<&'static str>) {
        let mut enter: Vec<_> = vec![(0, 0, &b"/bin/true"[..])];
        enter.extend(first.iter().map(|(f, b)| (arg, ELEM | f, *b)));
        let exit: Vec<_> = again
            .iter()
            .map(|(f, b)| (arg, ELEM | AT_EXIT | f, *b))
            .collect();
        let exit = (!exit.is_empty()).then(|| event(exit_record(59, ret, 7, 7), &exit));
        let call = Call::new(
            Some(event(
                enter_record(59, &[0x1000, 0x2000, 0x3000], 7, 7),
                &enter,
            )),
            exit,
        )
        .unwrap();
        let captures = call.captures();
        let name = if arg == 1 { "argv" } else { "envp" };
        let got = match captures.get(name) {
            Some(Captured::List(items)) => Some(
                items
                    .iter()
                    .map(|b| String::from_utf8_lossy(b).into_owned())
                    .collect(),
            ),
            None => None,
            other => panic!("{other:?}"),
        };
        (got, captures.status(name))
    }

    #[test]
    fn an_exec_environment_read_as_a_list() {
        let strs = |v: &[&str]| Some(v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        // Read whole at enter; none (the NULL first): [], not a pointer.
        assert_eq!(
            list(2, &[(0, b"A=1"), (0, b"B=2")], &[], 0).0,
            strs(&["A=1", "B=2"])
        );
        // argv's NULL first: [], when the environment after it has its
        // item (a count here; a list read under -v is `[]` by the same rule,
        // capture::unabbreviated, checked on the kernel by the tests).
        let enter = event(
            enter_record(59, &[0x1000, 0x2000, 0x3000], 7, 7),
            &[(0, 0, b"/bin/true"), (2, 0, &3u32.to_ne_bytes())],
        );
        let call = Call::new(Some(enter), None).unwrap();
        assert_eq!(call.captures().get("argv"), Some(&Captured::List(vec![])));
        assert_eq!(list(1, &[], &[], 0), (None, None));
        // Cut before its first element (argv took the budget): [...].
        assert_eq!(
            list(2, &[(CUT, b"")], &[], 0),
            (strs(&[]), Some("truncated"))
        );
        // A string not mapped yet: read again at exit, from the new image
        // (where no interpreter moves it) or where it was.
        for ret in [0, -2] {
            let got = list(
                2,
                &[(0, b"A=1"), (FAULTED, b"")],
                &[(0, b"A=1"), (0, b"B=2")],
                ret,
            );
            assert_eq!(got, (strs(&["A=1", "B=2"]), None));
        }
        // Its array not mapped yet (a faulted marker, cut): all of it from
        // the exit, argv's too where nothing moved it.
        let unread: &[(u8, &[u8])] = &[(FAULTED | CUT, b"")];
        assert_eq!(list(2, unread, &[], 0), (None, Some("faulted")));
        let again: &[(u8, &[u8])] = &[(0, b"A=1"), (0, b"B=2"), (0, b"C=3")];
        assert_eq!(list(2, unread, again, 0).0, strs(&["A=1", "B=2", "C=3"]));
        assert_eq!(list(1, unread, again, -2).0, strs(&["A=1", "B=2", "C=3"]));
        // ... past the elements read; the exit's list cut is cut.
        let got = list(
            2,
            &[(0, b"A=1"), (FAULTED | CUT, b"")],
            &[(0, b"A=1"), (0, b"B"), (CUT, b"")],
            0,
        );
        assert_eq!(got, (strs(&["A=1", "B"]), Some("truncated")));
        // A successful exec's argv whose array faulted: where argv[0] went
        // is not known (a script's interpreter), it stays a fault.
        assert_eq!(list(1, unread, again, 0), (None, Some("faulted")));
    }

    #[test]
    fn an_execveat_filename_read_again_is_the_one_given() {
        // Its exit is execve's; /dev/fd/N/ is the kernel's.
        for (dirfd, path, again) in [
            (3u64, "true", &b"/dev/fd/3/true"[..]),
            (3, "", b"/dev/fd/3"),
            (libc::AT_FDCWD as u32 as u64, "/bin/true", b"/bin/true"),
        ] {
            let enter = event(
                enter_record(322, &[dirfd, 0x1000, 0x2000, 0x3000, 0], 7, 7),
                &[(1, FAULTED, b"")],
            );
            let exit = event(exit_record(59, 0, 7, 7), &[(0, AT_EXIT, again)]);
            let call = Call::new(Some(enter), Some(exit)).unwrap();
            let captures = call.captures();
            assert_eq!(
                captures.get("filename"),
                Some(&Captured::Bytes(path.as_bytes())),
                "{path}"
            );
        }
    }
}

#[cfg(all(test, target_arch = "x86_64"))]
mod plain_views_tests {
    use super::*;
    use crate::kernel::decode::tests::{enter_record, exit_record};
    use crate::kernel::decode::{decode, encode_captures};

    /// The plain path (`with_plain_views`) gives the views the merge gives,
    /// wherever it is taken: calls of many shapes, their items drawn at
    /// random (argument, flags, bytes) on the enter or the exit, either of
    /// which may be missing.
    #[test]
    fn plain_views_are_the_merged_views() {
        // read, write, openat, poll, connect, accept, sendto, bpf, execve, pipe2.
        const NRS: [i32; 10] = [0, 1, 257, 7, 42, 43, 44, 321, 59, 293];
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        let (mut plain, mut merged) = (0, 0);
        for _ in 0..20_000 {
            let nr = NRS[next(NRS.len() as u64) as usize];
            let args: Vec<u64> = (0..6).map(|i| 0x1000 * (i + 1)).collect();
            let items: Vec<(u8, u8, Vec<u8>)> = (0..next(4))
                .map(|_| {
                    let arg = next(6) as u8;
                    let flags = [0u8, 0, 0, 1, 2, 4, 8, 16, 32][next(9) as usize];
                    let bytes = [&b""[..], b"\0", b"abc", b"x\ny"][next(4) as usize];
                    (arg, flags, bytes.to_vec())
                })
                .collect();
            let mut enter = enter_record(nr, &args, 7, 7);
            let mut exit = exit_record(nr, [0, 3, -2][next(3) as usize], 7, 7);
            match next(3) {
                0 => enter.extend(encode_captures(&items)),
                1 => exit.extend(encode_captures(&items)),
                _ => {}
            }
            // Unfinished calls, and calls whose enter was not seen, too.
            let (enter, exit) = (decode(&enter).unwrap(), decode(&exit).unwrap());
            let call = match next(4) {
                0 => Call::new(None, Some(exit)),
                1 => Call::new(Some(enter), None),
                _ => Call::new(Some(enter), Some(exit)),
            }
            .unwrap();
            let meta = call.meta();
            let want = call.with_merged_views(meta, |v| text(&call, v));
            if let Some(caps) = call.plain_captures(meta) {
                plain += 1;
                let got = call.with_plain_views(meta, &caps, |v| text(&call, v));
                assert_eq!(got, want, "{items:?}");
            } else {
                merged += 1;
            };
        }
        fn text(call: &Call, views: &[ArgView]) -> String {
            let opts = StraceOptions::default();
            let line = super::super::format_call(&call.name(), views, call.ret(), &opts);
            format!("{views:?} {line}")
        }
        // Both paths were taken, often.
        assert!(
            plain > 5_000 && merged > 5_000,
            "{plain} plain, {merged} merged"
        );
    }
}
