//! strace-class decoding: errno names, flag and constant names, and the
//! strace text of a call. Pure functions over plain views of a call's
//! arguments, so that everything here is testable without the kernel.
//!
//! * [`call`]: a call, its arguments, its strace text and its JSON
//! * [`pair`]: enter and exit events into calls, per thread
//! * [`format_call`]: `openat(AT_FDCWD, "/etc/hostname", O_RDONLY) = 3`
//! * [`printer`]: the `systrace` command's output
//! * [`outcome`]: how calls and processes end (-e status=, `+++` lines)
//! * [`classes`]: strace's `%file`, `%network`... syscall classes
//! * [`select`]: names, events and classes into syscall numbers per phase
//! * [`sockaddr`]: the `struct sockaddr` captured of connect, bind and sendto
//! * [`structs`]: the structures strace decodes, as text and as values
//! * [`summary`]: the `strace -c` table
//! * [`fdtable`]: what fds and path arguments name (`-y`, `Call.path`)
pub mod call;
pub mod classes;
pub mod decoders;
pub mod dump;
pub mod errno;
mod fdcalls;
pub mod fdtable;
pub mod flags;
pub mod histogram;
pub mod outcome;
pub mod output;
pub mod pair;
pub mod pidcalls;
pub mod printer;
pub mod quote;
pub mod select;
pub mod signals;
pub mod sockaddr;
pub mod sockets;
pub mod structs;
pub mod summary;

use std::fmt::Write;

use decoders::{Arg, Ctx, Decoded, RetStyle};

/// How to print.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StraceOptions {
    /// strace -s: the most bytes of a string or buffer shown (paths are
    /// shown whole, as strace does).
    pub string_size: usize,
    /// The column the ` = ` of a result is aligned to (strace's 40).
    pub column: usize,
    /// -x, -xx: strings in hex.
    pub hex: quote::HexStyle,
    /// -e raw=: the call's arguments undecoded, each in hex, and its result
    /// in hex (strace's printargs); the printer sets it per call.
    pub raw: bool,
    /// strace's abbrev(tcp) (`-e abbrev=SET`, `-v`): structures shown
    /// abbreviated (`{st_mode=S_IFREG|0644, st_size=35303, ...}`) and
    /// arrays cut at -s elements; false: every field, every element. The
    /// printer sets it per call.
    pub abbrev: bool,
    /// strace's verbose(tcp) (`-e verbose=SET`): structures read and
    /// decoded; false: every structure, array or number the call points
    /// to shows as its address (strace's umove_or_printaddr), strings and
    /// data still quoted. The printer sets it per call.
    pub verbose: bool,
}

impl StraceOptions {
    /// The most elements of an array shown before `...`: -s's count when
    /// abbreviated (strace's print_array), all of them without (-v).
    pub fn array_size(&self) -> usize {
        if self.abbrev {
            self.string_size
        } else {
            usize::MAX
        }
    }
}

/// strace's defaults: -s 32, results at column 40.
pub const DEFAULT_STRING_SIZE: usize = crate::trace::capture::DEFAULT_STRING_SIZE as usize;
pub const DEFAULT_COLUMN: usize = 40;

impl Default for StraceOptions {
    fn default() -> Self {
        StraceOptions {
            string_size: DEFAULT_STRING_SIZE,
            column: DEFAULT_COLUMN,
            hex: quote::HexStyle::None,
            raw: false,
            abbrev: true,
            verbose: true,
        }
    }
}

/// Bytes read from the traced process's memory for one string.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Piece<'a> {
    pub bytes: &'a [u8],
    /// The data went on past `bytes` (the capture was bounded).
    pub truncated: bool,
}

/// What bpf(2)'s attr points to (a license, a log, a path, BTF), read at
/// enter (trace::capture::ATTR_STRINGS_ARG): one per pointer that was not
/// NULL, in the attr's order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AttrString<'a> {
    pub bytes: &'a [u8],
    pub truncated: bool,
    /// Not read (the bytes are empty): strace shows the pointer.
    pub faulted: bool,
}

/// What was captured for one argument.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CapturedView<'a> {
    /// The string or buffer (empty for a list).
    pub bytes: &'a [u8],
    /// `bytes` stops short of the data, or (for a list) elements are missing.
    pub truncated: bool,
    /// For a string array (execve's argv): its elements, in order.
    pub list: Option<Vec<Piece<'a>>>,
    /// What the call wrote back into it, for one read at enter and again
    /// at exit (poll's pollfds, accept's address length).
    pub after: Option<&'a [u8]>,
    /// For a list read at exit, what the argument was at enter (recvmsg's
    /// msghdr: the lengths it gave, which the call rewrote).
    pub before: Option<&'a [u8]>,
    /// The netlink protocol of the socket whose messages it holds (the data
    /// of sendto, recvfrom, sendmsg, recvmsg on a netlink socket).
    pub netlink: Option<u32>,
    /// For bpf(2)'s attr: the strings it points to.
    pub attr_strings: &'a [AttrString<'a>],
}

impl<'a> CapturedView<'a> {
    pub fn bytes(bytes: &'a [u8], truncated: bool) -> Self {
        CapturedView {
            bytes,
            truncated,
            list: None,
            after: None,
            before: None,
            netlink: None,
            attr_strings: &[],
        }
    }

    pub fn with_after(mut self, after: Option<&'a [u8]>) -> Self {
        self.after = after;
        self
    }
    /// An argv as systrace captures it: `truncated` marks its last element
    /// cut (a list cut short is the view's own `truncated`).
    pub fn argv<B: AsRef<[u8]> + 'a>(items: &'a [B], truncated: bool) -> Self {
        let n = items.len();
        let pieces = items
            .iter()
            .enumerate()
            .map(|(i, b)| Piece {
                bytes: b.as_ref(),
                truncated: truncated && i + 1 == n,
            })
            .collect();
        CapturedView::list(pieces, false)
    }

    pub fn list(list: Vec<Piece<'a>>, truncated: bool) -> Self {
        CapturedView {
            bytes: &[],
            truncated,
            list: Some(list),
            after: None,
            before: None,
            netlink: None,
            attr_strings: &[],
        }
    }
}

/// One argument of a call: its name and C type (the syscall metadata), the
/// register, and what was captured of the memory it points to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArgView<'a> {
    pub name: &'a str,
    pub c_type: &'a str,
    pub raw: u64,
    pub captured: Option<CapturedView<'a>>,
}

/// The decoded arguments of a call: see [`decoders::decode`].
pub fn decode_args(
    syscall: &str,
    args: &[ArgView],
    ret: Option<i64>,
    opts: &StraceOptions,
) -> Decoded {
    if opts.raw {
        // rt_sigreturn's view of its frame's mask is no argument register.
        return raw_args(if syscall == "rt_sigreturn" { &[] } else { args });
    }
    decoders::decode(syscall, Ctx::new(args, ret, opts))
}

/// -e raw=: every argument in hex, all of them at entry (strace's
/// printargs).
fn raw_args(args: &[ArgView]) -> Decoded {
    Decoded {
        args: args
            .iter()
            .map(|arg| Arg {
                text: flags::hex(arg.raw).into(),
                at_exit: false,
                tail: None,
            })
            .collect(),
        ret_style: RetStyle::Raw,
        complete_at_entry: true,
        ret_note: None,
    }
}

/// The text after `= `: `3`, `0x7f0aca366000`, `-1 ENOENT (No such file or
/// directory)`, `0x1 (flags FD_CLOEXEC)`; `?` for a call that has not returned.
pub fn format_result(style: RetStyle, ret: Option<i64>) -> String {
    let mut out = String::new();
    push_format_result(&mut out, style, ret);
    out
}

/// [`format_result`] appended to `out`; a decimal without a copy (the
/// command's text path).
fn push_format_result(out: &mut String, style: RetStyle, ret: Option<i64>) {
    match (style, ret) {
        (RetStyle::Decimal, Some(ret)) if errno::errno_of(ret).is_none() => {
            out.push_str(itoa::Buffer::new().format(ret))
        }
        _ => out.push_str(&format_other_result(style, ret)),
    }
}

fn format_other_result(style: RetStyle, ret: Option<i64>) -> String {
    let Some(ret) = ret else {
        return "?".to_owned();
    };
    if let (RetStyle::Raw, Some(errno)) = (style, errno::errno_of(ret)) {
        return errno::format_raw_error(errno);
    }
    if let Some(errno) = errno::errno_of(ret) {
        return errno::format_error(errno);
    }
    match style {
        RetStyle::Decimal => ret.to_string(),
        RetStyle::Hex => flags::hex(ret as u64),
        RetStyle::FdFlags if ret == 0 => "0".to_owned(),
        RetStyle::FdFlags => format!(
            "{} (flags {})",
            flags::hex(ret as u64),
            flags::flags(flags::FD_FLAGS, ret as u64)
        ),
        RetStyle::Octal => flags::mode(ret as u64),
        RetStyle::Named(table) => match flags::xval(table, ret as u64) {
            Some(name) => format!("{ret} ({name})"),
            None => ret.to_string(),
        },
        RetStyle::FileFlags => format!(
            "{} (flags {})",
            flags::hex(ret as u64),
            flags::open_flags(ret as u64)
        ),
        RetStyle::Seals if ret == 0 => "0".to_owned(),
        RetStyle::Seals => format!(
            "{} (seals {})",
            flags::hex(ret as u64),
            flags::flags(flags::SEALS, ret as u64)
        ),
        RetStyle::NamedHex(table) => match flags::xval(table, ret as u64) {
            Some(name) => format!("{} ({name})", flags::hex(ret as u64)),
            None => flags::hex(ret as u64),
        },
        RetStyle::Signal if ret == 0 => "0".to_owned(),
        RetStyle::Signal => format!("{ret} ({})", flags::signal_name(ret)),
        RetStyle::Raw => flags::hex(ret as u64),
    }
}

/// `openat(AT_FDCWD, "/etc/hostname", O_RDONLY) = 3`, the result aligned as
/// strace aligns it on a line that starts at column 0. `ret`: None while the
/// call is unfinished (`read(0,  <unfinished ...>) = ?`).
pub fn format_call(
    syscall: &str,
    args: &[ArgView],
    ret: Option<i64>,
    opts: &StraceOptions,
) -> String {
    format_call_at(0, syscall, args, ret, opts)
}

/// [`format_call`] for a line whose first `start_col` columns hold a prefix
/// (`[pid 42] `, a timestamp): the result still lands on `opts.column`.
pub fn format_call_at(
    start_col: usize,
    syscall: &str,
    args: &[ArgView],
    ret: Option<i64>,
    opts: &StraceOptions,
) -> String {
    let mut out = String::with_capacity(96);
    push_call_fds(&mut out, start_col, syscall, args, ret, opts, None);
    out
}

/// [`format_call_at`] appended to `out` (the command's batch of lines: no
/// String per line), with what its fds refer to (strace -y, -yy):
/// `read(3</etc/passwd>, ...)`, `openat(...) = 3</etc/passwd>`.
pub fn push_call_fds(
    out: &mut String,
    start_col: usize,
    syscall: &str,
    args: &[ArgView],
    ret: Option<i64>,
    opts: &StraceOptions,
    fds: Option<&fdtable::Resolved>,
) {
    let line_start = out.len();
    let decoded = decode_with_fds(syscall, args, ret, opts, fds);
    out.push_str(syscall);
    out.push('(');
    if ret.is_some() || decoded.complete_at_entry {
        for (i, arg) in decoded.args.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            out.push_str(&arg.text);
            out.push_str(arg.tail.as_deref().unwrap_or(""));
        }
        out.push(')');
    } else {
        // What strace prints when a call never returned: the arguments it
        // decodes at entry, then the marker.
        push_entry_part(out, &decoded.args);
        out.push_str(" <unfinished ...>)");
    }
    push_result_pad(out, start_col, line_start, opts);
    push_result_text(out, &decoded, ret, fds, opts);
    decoded.recycle();
}

/// [`decode_args`], each fd argument followed by its target with -y.
fn decode_with_fds(
    syscall: &str,
    args: &[ArgView],
    ret: Option<i64>,
    opts: &StraceOptions,
    fds: Option<&fdtable::Resolved>,
) -> Decoded {
    let mut decoded = decode_args(syscall, args, ret, opts);
    // A raw call shows numbers only (fd 0's `0` too).
    if let Some(fds) = fds.filter(|_| !opts.raw) {
        annotate_fds(&mut decoded, args, fds, opts);
        annotate_pids(&mut decoded, args, &fds.pids);
    }
    decoded
}

/// -Y: `42` -> `42<sleep>` for each process or thread argument whose name
/// is known, where the argument prints as the number.
fn annotate_pids(decoded: &mut Decoded, args: &[ArgView], pids: &[(usize, String)]) {
    for (i, comm) in pids {
        let (Some(arg), Some(view)) = (decoded.args.get_mut(*i), args.get(*i)) else {
            continue;
        };
        if arg.text == (view.raw as u32 as i32).to_string() {
            let _ = write!(arg.text, "<{comm}>");
        }
    }
}

/// What follows `= `: the return value, what a successful call said
/// besides it (poll's `([{fd=3, revents=POLLIN}])`), and the returned fd's
/// target with -y (`3</etc/passwd>`).
fn push_result_text(
    result: &mut String,
    decoded: &Decoded,
    ret: Option<i64>,
    fds: Option<&fdtable::Resolved>,
    opts: &StraceOptions,
) {
    push_format_result(result, decoded.ret_style, ret);
    if let (Some(note), Some(r)) = (&decoded.ret_note, ret) {
        if errno::errno_of(r).is_none() {
            result.push_str(" (");
            result.push_str(note);
            result.push(')');
        }
    }
    // Set only for a call that returned an fd; a raw one shows the number.
    if let Some(fd) = fds
        .filter(|_| decoded.ret_style != RetStyle::Raw)
        .and_then(|fds| fds.ret.as_ref())
    {
        fd.push_shown(result, opts.hex);
    }
    // -Y: set only for a call that returned a process or thread.
    if let Some(comm) = fds
        .filter(|_| decoded.ret_style != RetStyle::Raw && ret.is_some_and(|r| r > 0))
        .and_then(|fds| fds.ret_comm.as_ref())
    {
        let _ = write!(result, "<{comm}>");
    }
}

/// `3` -> `3</etc/passwd>` for each fd argument whose target is known. An
/// fd prints in its argument's place (fds come before any argument that
/// strace leaves out), as its number or AT_FDCWD: anything else there is
/// not the fd, and is left alone.
fn annotate_fds(
    decoded: &mut Decoded,
    args: &[ArgView],
    fds: &fdtable::Resolved,
    opts: &StraceOptions,
) {
    // pipe's and socketpair's array: `[3<pipe:[1]>, 4<pipe:[1]>]`.
    if let Some((i, [a, b], known)) = &fds.pair {
        if let Some(arg) = decoded
            .args
            .get_mut(*i)
            .filter(|arg| arg.text == format!("[{a}, {b}]"))
        {
            let show = |n: &i32, fd: &Option<fdtable::Fd>| match fd {
                Some(fd) => {
                    let mut text = n.to_string();
                    fd.push_shown(&mut text, opts.hex);
                    text
                }
                None => n.to_string(),
            };
            arg.text = format!("[{}, {}]", show(a, &known[0]), show(b, &known[1])).into();
        }
    }
    // poll's `[{fd=3</etc/passwd>, events=POLLIN}]`, select's `[3</etc/passwd> 4<...>]`.
    if !fds.waited.is_empty() {
        for (arg, view) in decoded.args.iter_mut().zip(args) {
            let text = match view.name {
                "ufds" => annotate_pollfds(&arg.text, &fds.waited, opts),
                "inp" | "outp" | "exp" => annotate_fd_set(&arg.text, &fds.waited, opts),
                "msg" => annotate_scm_rights(&arg.text, &fds.waited, opts),
                _ => continue,
            };
            arg.text = text.into();
        }
    }
    for (i, fd) in &fds.fds {
        let (Some(arg), Some(view)) = (decoded.args.get_mut(*i), args.get(*i)) else {
            continue;
        };
        let number = view.raw as u32 as i32;
        let plain = if number == libc::AT_FDCWD {
            arg.text == "AT_FDCWD"
        } else {
            arg.text == number.to_string()
        };
        if plain {
            fd.push_shown(&mut arg.text, opts.hex);
        }
    }
}

/// `fd` as strace's printfd shows it, if its target is known.
fn shown_fd(fd: &str, known: &[(i32, fdtable::Fd)], opts: &StraceOptions) -> String {
    let mut text = fd.to_owned();
    if let Some((_, f)) = fd
        .parse::<i32>()
        .ok()
        .and_then(|n| known.iter().find(|(k, _)| *k == n))
    {
        f.push_shown(&mut text, opts.hex);
    }
    text
}

/// Each `{fd=N` of a pollfd array's text with what N refers to.
fn annotate_pollfds(text: &str, known: &[(i32, fdtable::Fd)], opts: &StraceOptions) -> String {
    const FIELD: &str = "{fd=";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(FIELD) {
        let (head, tail) = rest.split_at(at + FIELD.len());
        out.push_str(head);
        let digits = tail
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(tail.len());
        out.push_str(&shown_fd(&tail[..digits], known, opts));
        rest = &tail[digits..];
    }
    out.push_str(rest);
    out
}

/// Each SCM_RIGHTS message's fds, `cmsg_data=[5, 6]`, with what they refer to.
fn annotate_scm_rights(text: &str, known: &[(i32, fdtable::Fd)], opts: &StraceOptions) -> String {
    const FIELD: &str = "cmsg_type=SCM_RIGHTS, cmsg_data=[";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    // Not in the data sent (the iov's quoted strings), which may hold it.
    while let Some(at) = find_unquoted(rest, FIELD) {
        let (head, tail) = rest.split_at(at + FIELD.len());
        out.push_str(head);
        let Some(close) = tail.find(']') else {
            rest = tail;
            break;
        };
        let items: Vec<String> = tail[..close]
            .split(", ")
            .map(|item| shown_fd(item, known, opts))
            .collect();
        out.push_str(&items.join(", "));
        rest = &tail[close..];
    }
    out.push_str(rest);
    out
}

/// Where `pat` first starts in `text` outside its quoted strings
/// (strace's `"..."`, in which `"` and `\` are escaped).
fn find_unquoted(text: &str, pat: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut quoted = false;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if quoted => i += 1,
            b'"' => quoted = !quoted,
            _ if !quoted && bytes[i..].starts_with(pat.as_bytes()) => return Some(i),
            _ => {}
        }
        i += 1;
    }
    None
}

/// An fd set's text, `[3 4]`, with what each fd refers to.
fn annotate_fd_set(text: &str, known: &[(i32, fdtable::Fd)], opts: &StraceOptions) -> String {
    match text.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
        Some(inner) if !inner.is_empty() => {
            let items: Vec<String> = inner
                .split(' ')
                .map(|item| shown_fd(item, known, opts))
                .collect();
            format!("[{}]", items.join(" "))
        }
        _ => text.to_owned(),
    }
}

/// The return of a call whose entry was not seen (tracing began while it
/// was running): `<... read resumed>) = 3`.
pub fn format_resumed_at(
    start_col: usize,
    syscall: &str,
    ret: i64,
    opts: &StraceOptions,
) -> String {
    let style = decode_args(syscall, &[], Some(ret), opts).ret_style;
    let mut out = format!("<... {syscall} resumed>)");
    push_result_pad(&mut out, start_col, 0, opts);
    push_format_result(&mut out, style, Some(ret));
    out
}

/// The first part of a call another thread's line cut (strace -f): the
/// arguments decoded at entry, then the marker, `read(0,  <unfinished ...>`.
pub fn format_unfinished(
    syscall: &str,
    args: &[ArgView],
    opts: &StraceOptions,
    fds: Option<&fdtable::Resolved>,
) -> String {
    let decoded = decode_with_fds(syscall, args, None, opts, fds);
    let mut out = String::with_capacity(64);
    out.push_str(syscall);
    out.push('(');
    push_entry_part(&mut out, &decoded.args);
    out.push_str(" <unfinished ...>");
    out
}

/// What a call cut at entry shows: the arguments printed at entry, and the
/// `, ` before those printed at exit (`read(3, `), unless the last one's
/// decoding goes on at exit (clone3's struct).
fn push_entry_part(out: &mut String, args: &[Arg]) {
    let shown = args.iter().take_while(|a| !a.at_exit).count();
    join(out, args[..shown].iter().map(|a| a.text.as_str()));
    let goes_on = shown > 0 && args[shown - 1].tail.is_some();
    if shown > 0 && shown < args.len() && !goes_on {
        out.push_str(", ");
    }
}

/// The rest of a cut call, after `<... read resumed>`: what the exit adds
/// to the last argument printed at entry, then the arguments printed at
/// exit.
fn push_exit_part(out: &mut String, args: &[Arg]) {
    let shown = args.iter().take_while(|a| !a.at_exit).count();
    match shown.checked_sub(1).and_then(|i| args[i].tail.as_deref()) {
        Some(tail) => {
            out.push_str(tail);
            for arg in &args[shown..] {
                out.push_str(", ");
                out.push_str(&arg.text);
            }
        }
        None => join(out, args[shown..].iter().map(|a| a.text.as_str())),
    }
}

/// The rest of a call whose first part was cut: `<... read resumed>"x",
/// 1) = 1`, the arguments decoded at exit then the result as
/// [`push_call_fds`] gives it; `ret` None for a call that never returned
/// (`<... read resumed> <unfinished ...>) = ?`).
pub fn format_resumed_call_at(
    start_col: usize,
    syscall: &str,
    args: &[ArgView],
    ret: Option<i64>,
    opts: &StraceOptions,
    fds: Option<&fdtable::Resolved>,
) -> String {
    let decoded = decode_with_fds(syscall, args, ret, opts, fds);
    let mut out = format!("<... {syscall} resumed>");
    if ret.is_none() {
        // Only a call that had more to print at its exit (strace's decoder
        // not done at entry): `<... futex resumed>) = ?`.
        if !decoded.complete_at_entry {
            out.push_str(" <unfinished ...>");
        }
    } else {
        push_exit_part(&mut out, &decoded.args);
    }
    out.push(')');
    push_result_pad(&mut out, start_col, 0, opts);
    push_result_text(&mut out, &decoded, ret, fds, opts);
    out
}

/// restart_syscall, which resumes the call a signal interrupted:
/// `restart_syscall(<... resuming interrupted clock_nanosleep ...>) = 0`
/// (`resumed`: None when that call was not seen).
pub fn format_restart_at(
    start_col: usize,
    resumed: Option<&str>,
    ret: Option<i64>,
    opts: &StraceOptions,
) -> String {
    let mut out = format!(
        "restart_syscall(<... resuming interrupted {} ...>)",
        resumed.unwrap_or("system call")
    );
    push_result_pad(&mut out, start_col, 0, opts);
    push_format_result(&mut out, RetStyle::Decimal, ret);
    out
}

fn join<'s>(out: &mut String, items: impl Iterator<Item = &'s str>) {
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(item);
    }
}

/// ` = ` before the result, padded as strace's tabto() pads to its column:
/// the call's text began at `out[line_start..]`, after `start_col` columns
/// of prefix.
fn push_result_pad(out: &mut String, start_col: usize, line_start: usize, opts: &StraceOptions) {
    const SPACES: &str = "                                                                ";
    out.push(' ');
    let col = start_col + (out.len() - line_start);
    let mut pad = opts.column.saturating_sub(col);
    while pad > 0 {
        let n = pad.min(SPACES.len());
        out.push_str(&SPACES[..n]);
        pad -= n;
    }
    out.push_str("= ");
}

/// strace -T: ` <0.000012>` without the leading space.
pub fn format_duration(ns: u64, digits: u8) -> String {
    let mut out = String::with_capacity(16);
    let _ = write!(out, "<{}", ns / 1_000_000_000);
    push_fraction(&mut out, ns % 1_000_000_000, digits);
    out.push('>');
    out
}

/// `.` and the first `digits` (at most 9) of a second's fraction `frac_ns`,
/// cut as strace cuts them; nothing for 0 digits.
pub fn push_fraction(out: &mut String, frac_ns: u64, digits: u8) {
    if digits == 0 {
        return;
    }
    let digits = digits.min(9);
    let shown = frac_ns / 10u64.pow(9 - u32::from(digits));
    let _ = write!(out, ".{shown:0width$}", width = usize::from(digits));
}

#[cfg(test)]
mod tests;
