//! What the decoders work with: a call's arguments and outcome (`Ctx`),
//! and what they produce (`Decoded`: each argument's text, the return's style).
use super::super::flags::{self, hex, Xlat};
use super::super::quote::{
    push_quoted, quote_limited, quote_limited_omit_trailing_0, Ellipsis, HexStyle,
};
use super::super::{structs, ArgView, CapturedView, StraceOptions};
use crate::metadata::typed_arg;
use compact_str::CompactString;

/// One argument's text, and whether strace prints it at syscall exit (an
/// output of the call), which decides what an unfinished call shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Arg {
    pub text: CompactString,
    pub at_exit: bool,
    /// For an argument printed at entry whose decoding strace finishes at
    /// exit: what the exit adds to it (clone3's ` => {parent_tid=[42]}`,
    /// empty when nothing). A cut call prints it after `<... resumed>`,
    /// and the arguments printed at exit then follow a `, `.
    pub tail: Option<CompactString>,
}

/// How the return value prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetStyle {
    Decimal,
    /// Addresses: mmap, brk, mremap.
    Hex,
    /// fcntl(F_GETFD): `0x1 (flags FD_CLOEXEC)`.
    FdFlags,
    /// fcntl(F_GETFL): `0x8002 (flags O_RDWR|O_LARGEFILE)`.
    FileFlags,
    /// umask: the old mask, `022`.
    Octal,
    /// The value, then its name when it has one: prctl(PR_GET_DUMPABLE)'s
    /// `0 (SUID_DUMP_DISABLE)`.
    Named(Xlat),
    /// In hex, then its name when it has one: fcntl(F_GETLEASE)'s `0x2
    /// (F_UNLCK)`.
    NamedHex(Xlat),
    /// fcntl(F_GET_SEALS): `0x2 (seals F_SEAL_SHRINK)`.
    Seals,
    /// A signal number: rt_sigtimedwait's `10 (SIGUSR1)`; 0 alone
    /// (fcntl(F_GETSIG) of the default, SIGIO).
    Signal,
    /// strace -e raw=: in hex, and an error as `-1 NAME (strerror)`, the
    /// restart codes too.
    Raw,
}

/// A call's decoded arguments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decoded {
    pub args: Vec<Arg>,
    pub ret_style: RetStyle,
    /// strace decodes the call in full when it starts (no output argument
    /// and no reason to look at the exit): an unfinished one prints as
    /// `exit_group(0) = ?`, not with `<unfinished ...>`.
    pub complete_at_entry: bool,
    /// What a successful call returned besides its value, printed after it
    /// in parentheses: poll's `([{fd=3, revents=POLLIN}])`, `(Timeout)`.
    pub ret_note: Option<String>,
}

/// A number's decimal text, inline. Through itoa: a third of what
/// `to_compact_string` costs, on every line's numbers.
fn number(n: impl itoa::Integer) -> CompactString {
    CompactString::new(itoa::Buffer::new().format(n))
}

thread_local! {
    /// The argument list of the last call decoded on this thread, kept for
    /// the next (`Decoded::recycle`): the command decodes a call per line,
    /// and allocating its list cost a tenth of the line.
    static SPARE_ARGS: std::cell::Cell<Vec<Arg>> = const { std::cell::Cell::new(Vec::new()) };
}

impl Decoded {
    /// Done with: its argument list serves the next call decoded.
    pub fn recycle(mut self) {
        self.args.clear();
        SPARE_ARGS.set(self.args);
    }
}

/// What decoders read: the arguments, the outcome, the options.
pub struct Ctx<'c, 'a> {
    pub args: &'c [ArgView<'a>],
    /// None while the call is unfinished.
    pub ret: Option<i64>,
    pub opts: &'c StraceOptions,
    out: Vec<Arg>,
    note: Option<String>,
}

impl<'c, 'a> Ctx<'c, 'a> {
    pub fn new(args: &'c [ArgView<'a>], ret: Option<i64>, opts: &'c StraceOptions) -> Self {
        Ctx {
            args,
            ret,
            opts,
            out: {
                let mut out = SPARE_ARGS.take();
                out.reserve(6);
                out
            },
            note: None,
        }
    }

    pub(super) fn raw(&self, i: usize) -> u64 {
        self.args.get(i).map_or(0, |a| a.raw)
    }
    /// As a C int (sign-extended from 32 bits).
    pub(super) fn int(&self, i: usize) -> i64 {
        self.raw(i) as u32 as i32 as i64
    }
    pub(super) fn uint(&self, i: usize) -> u64 {
        self.raw(i) as u32 as u64
    }
    pub(super) fn long(&self, i: usize) -> i64 {
        self.raw(i) as i64
    }
    /// What was read of the memory argument `i` points to, for decoding
    /// it as a structure: nothing when the call is not verbose (-e
    /// verbose=), which shows its address instead, as strace's
    /// umove_or_printaddr does.
    pub(super) fn captured(&self, i: usize) -> Option<&CapturedView<'a>> {
        self.captured_text(i).filter(|_| self.opts.verbose)
    }
    /// What was read for argument `i`, for a string or data: quoted
    /// whether or not the call is verbose (strace's printstr, printpath).
    pub(super) fn captured_text(&self, i: usize) -> Option<&CapturedView<'a>> {
        self.args.get(i).and_then(|a| a.captured.as_ref())
    }
    /// The netlink protocol of the socket whose messages arg `i` holds.
    pub(super) fn netlink(&self, i: usize) -> Option<u32> {
        self.captured_text(i).and_then(|c| c.netlink)
    }
    pub(super) fn index_of(&self, name: &str) -> Option<usize> {
        self.args.iter().position(|a| a.name == name)
    }
    /// Whether a signal interrupted the call, to be restarted.
    pub(super) fn restarting(&self) -> bool {
        self.ret.is_some_and(crate::strace::errno::is_restart)
    }

    /// The return value when the call succeeded.
    pub(super) fn ok(&self) -> Option<i64> {
        self.ret
            .filter(|&r| crate::strace::errno::errno_of(r).is_none())
    }

    pub(super) fn push(&mut self, text: impl Into<CompactString>) {
        self.out.push(Arg {
            text: text.into(),
            at_exit: false,
            tail: None,
        });
    }
    pub(super) fn push_exit(&mut self, text: impl Into<CompactString>) {
        self.out.push(Arg {
            text: text.into(),
            at_exit: true,
            tail: None,
        });
    }
    /// An argument printed at entry, to which the exit adds `tail`.
    pub(super) fn push_with_tail(
        &mut self,
        text: impl Into<CompactString>,
        tail: impl Into<CompactString>,
    ) {
        self.out.push(Arg {
            text: text.into(),
            at_exit: false,
            tail: Some(tail.into()),
        });
    }

    // Text of one argument, by kind.
    // Numbers as inline text: no allocation (see `Arg`).
    pub(super) fn t_int(&self, i: usize) -> CompactString {
        number(self.int(i))
    }
    pub(super) fn t_uint(&self, i: usize) -> CompactString {
        number(self.uint(i))
    }
    pub(super) fn t_ulong(&self, i: usize) -> CompactString {
        number(self.raw(i))
    }
    pub(super) fn t_long(&self, i: usize) -> CompactString {
        number(self.long(i))
    }
    pub(super) fn t_dirfd(&self, i: usize) -> CompactString {
        if self.int(i) == flags::AT_FDCWD {
            CompactString::const_new("AT_FDCWD")
        } else {
            self.t_int(i)
        }
    }
    pub(super) fn t_ptr(&self, i: usize) -> String {
        ptr(self.raw(i))
    }
    pub(super) fn t_hex(&self, i: usize) -> String {
        hex(self.raw(i))
    }
    pub(super) fn t_flags(&self, i: usize, table: Xlat) -> String {
        flags::flags(table, self.raw(i))
    }
    pub(super) fn t_uflags(&self, i: usize, table: Xlat) -> String {
        flags::flags(table, self.uint(i))
    }
    /// [`flags::flags_or_unknown`] of the argument as a C unsigned int
    /// (`0x100 /* LOCK_??? */` when no bit has a name).
    pub(super) fn t_uflags_or_unknown(&self, i: usize, table: Xlat, unknown: &str) -> String {
        flags::flags_or_unknown(table, self.uint(i), unknown)
    }
    /// As t_uflags_or_unknown, of the whole register (strace's printflags64).
    pub(super) fn t_flags_or_unknown(&self, i: usize, table: Xlat, unknown: &str) -> String {
        flags::flags_or_unknown(table, self.raw(i), unknown)
    }
    pub(super) fn t_xval(&self, i: usize, table: Xlat, unknown: &str) -> String {
        flags::xval_or_unknown(table, self.uint(i), unknown)
    }
    /// As t_xval, of the whole register (strace's printxval64).
    pub(super) fn t_xval64(&self, i: usize, table: Xlat, unknown: &str) -> String {
        flags::xval_or_unknown(table, self.raw(i), unknown)
    }
    /// A NUL-terminated path: shown whole (strace does not bound paths by -s).
    pub(super) fn t_path(&self, i: usize) -> String {
        match self.captured_text(i) {
            Some(c) if self.raw(i) != 0 => {
                let bytes = until_nul(c.bytes);
                let mut out = String::new();
                let more = if c.truncated {
                    Ellipsis::Yes
                } else {
                    Ellipsis::No
                };
                push_quoted(&mut out, bytes, more, self.opts.hex);
                out
            }
            _ => self.t_ptr(i),
        }
    }
    /// A NUL-terminated string bounded by -s.
    pub(super) fn t_string(&self, i: usize) -> String {
        match self.captured_text(i) {
            Some(c) if self.raw(i) != 0 => string(c.bytes, c.truncated, self.opts),
            _ => self.t_ptr(i),
        }
    }
    /// A buffer of `len` bytes, shown up to -s bytes. `hex`: every byte as
    /// \xNN whatever -x says (strace's QUOTE_FORCE_HEX).
    pub(super) fn t_buf(&self, i: usize, len: u64, hex: bool) -> CompactString {
        let style = if hex { HexStyle::All } else { self.opts.hex };
        match self.captured_text(i) {
            // An empty buffer needs no capture to be shown.
            _ if len == 0 && self.raw(i) != 0 => CompactString::const_new("\"\""),
            Some(c) if self.raw(i) != 0 => {
                let shown = c
                    .bytes
                    .len()
                    .min(self.opts.string_size)
                    .min(usize::try_from(len).unwrap_or(usize::MAX));
                quote_limited(&c.bytes[..shown], shown, len > shown as u64, style)
            }
            _ => self.t_ptr(i).into(),
        }
    }
    /// An extended attribute's value of `len` bytes (strace's xattr.c
    /// print_xattr_val): a NUL that ends what is shown is left out; past
    /// XATTR_SIZE_MAX, the address.
    pub(super) fn t_xattr_val(&self, i: usize, len: u64) -> CompactString {
        const XATTR_SIZE_MAX: u64 = 65536;
        match self.captured_text(i) {
            _ if len == 0 && self.raw(i) != 0 => CompactString::const_new("\"\""),
            Some(c) if self.raw(i) != 0 && len <= XATTR_SIZE_MAX => {
                let shown = c.bytes.len().min(len as usize);
                quote_limited_omit_trailing_0(
                    &c.bytes[..shown],
                    self.opts.string_size,
                    len > shown as u64,
                    self.opts.hex,
                )
            }
            _ => self.t_ptr(i).into(),
        }
    }
    /// A socket's data of `len` bytes: its netlink messages decoded when
    /// the socket is a netlink one and all of them were read, else (and
    /// when the call is not verbose, as strace's) [`t_buf`](Self::t_buf).
    pub(super) fn t_sockbuf(&self, i: usize, len: u64) -> CompactString {
        let decoded = self.captured(i).filter(|_| self.raw(i) != 0).and_then(|c| {
            let data = &c.bytes[..c.bytes.len().min(usize::try_from(len).ok()?)];
            structs::netlink_text(data, len, c.netlink?, self.opts)
        });
        match decoded {
            Some(text) => text.into(),
            None => self.t_buf(i, len, false),
        }
    }
    /// A buffer the call fills, `ret` bytes long: a pointer if it failed.
    pub(super) fn t_out_buf(&self, i: usize, hex: bool) -> CompactString {
        match self.ok() {
            Some(n) => self.t_buf(i, n.max(0) as u64, hex),
            None => self.t_ptr(i).into(),
        }
    }
    /// `["ls", "/tmp"]`: at most -s of them, as strace's printargv.
    pub(super) fn t_argv(&self, i: usize) -> String {
        match self
            .captured(i)
            .and_then(|c| c.list.as_ref().map(|l| (l, c.truncated)))
        {
            Some((list, more)) if self.raw(i) != 0 => structs::array_text(
                list.iter()
                    .map(|piece| string(piece.bytes, piece.truncated, self.opts)),
                self.opts.array_size(),
                more,
            ),
            _ => self.t_ptr(i),
        }
    }
    /// An exec's environment: counted (`0x7ffe... /* 35 vars */`), or under
    /// -v as an argv (`["A=1", "B=two"]`) when it was read as one (the
    /// command's -v: `trace::capture::unabbreviated`), as strace's
    /// printargc and printargv. A list read where its count is shown is
    /// counted (exact unless it was cut).
    pub(super) fn t_environ(&self, i: usize) -> String {
        let list = self
            .captured(i)
            .filter(|_| self.raw(i) != 0)
            .and_then(|c| c.list.as_ref().map(|l| (l.len(), c.truncated)));
        match list {
            Some(_) if !self.opts.abbrev => self.t_argv(i),
            Some((n, cut)) => {
                let (plus, s) = (if cut { "+" } else { "" }, if n == 1 { "" } else { "s" });
                format!("{} /* {n}{plus} var{s} */", self.t_ptr(i))
            }
            None => self.t_counted(i, "var", "vars"),
        }
    }
    /// A uid or gid: `-1` (no change) or unsigned (strace's printuid).
    pub(super) fn t_uid(&self, i: usize) -> String {
        flags::id(self.uint(i) as u32)
    }
    pub(super) fn t_mode(&self, i: usize) -> String {
        flags::mode(self.raw(i))
    }
    pub(super) fn t_signal(&self, i: usize) -> String {
        flags::signal_name(self.int(i))
    }

    /// The generic decoding: ints in decimal as their C type reads them,
    /// pointers in hex (or NULL), captured strings quoted.
    pub(super) fn generic(&mut self, i: usize) {
        let Some(arg) = self.args.get(i) else { return };
        let text = if arg.c_type.contains('*') {
            match &arg.captured {
                Some(c) if c.list.is_some() => self.t_argv(i),
                Some(_) if is_path_name(arg.name) => self.t_path(i),
                Some(_) => self.t_string(i),
                None => self.t_ptr(i),
            }
        } else if matches!(arg.c_type, "uid_t" | "gid_t") {
            // -1 (unchanged) as strace writes it (setresuid(-1, 0, -1)).
            self.t_uid(i)
        } else {
            typed_arg(Some(arg.c_type), arg.raw).to_string()
        };
        self.push(text);
    }

    /// The decoded call. By reference: the decoders try one table after
    /// another with the same `Ctx`, which moving would copy each time.
    pub(super) fn finish(&mut self, ret_style: RetStyle, complete_at_entry: bool) -> Decoded {
        Decoded {
            args: std::mem::take(&mut self.out),
            ret_style,
            complete_at_entry,
            ret_note: self.note.take(),
        }
    }

    /// Said after the return value of a call that succeeded.
    pub(super) fn note(&mut self, note: String) {
        self.note = Some(note);
    }

    /// A structure decoded by `text` from what was captured of it: NULL,
    /// or the pointer when nothing (or too little) was captured, as strace
    /// prints memory it cannot read.
    pub(super) fn t_struct(&self, i: usize, text: impl Fn(&[u8]) -> Option<String>) -> String {
        match self.captured(i) {
            _ if self.raw(i) == 0 => "NULL".to_owned(),
            Some(c) => text(c.bytes).unwrap_or_else(|| self.t_ptr(i)),
            None => self.t_ptr(i),
        }
    }

    /// A structure the call fills: decoded when it succeeded.
    pub(super) fn t_out_struct(&self, i: usize, text: impl Fn(&[u8]) -> Option<String>) -> String {
        match self.ok() {
            Some(_) => self.t_struct(i, text),
            None => self.t_ptr(i),
        }
    }

    /// A pointer followed by the count the programs took of what it
    /// points to: `0x7ffe11fd70e8 /* 35 vars */`; `one` is the word
    /// for a count of 1 (strace's `/* 1 var */`, `/* 1 entries */`).
    pub(super) fn t_counted(&self, i: usize, one: &str, many: &str) -> String {
        let count = self
            .captured(i)
            .filter(|_| self.raw(i) != 0)
            .and_then(|c| structs::read::<u32>(c.bytes).map(|n| (n, c.truncated)));
        let what = |n: u32| if n == 1 { one } else { many };
        match count {
            Some((n, false)) => format!("{} /* {n} {} */", self.t_ptr(i), what(n)),
            Some((n, true)) => format!("{} /* {n}+ {} */", self.t_ptr(i), what(n)),
            None => self.t_ptr(i),
        }
    }

    /// A list captured through a pointer (iovecs, a msghdr), decoded by
    /// `text` from its elements, whether some were left out, and what the
    /// argument was at enter; the pointer when nothing was captured.
    pub(super) fn t_list(
        &self,
        i: usize,
        text: impl Fn(&[&[u8]], bool, Option<&[u8]>) -> Option<String>,
    ) -> String {
        match self
            .captured(i)
            .and_then(|c| c.list.as_ref().map(|l| (c, l)))
        {
            _ if self.raw(i) == 0 => "NULL".to_owned(),
            Some((c, list)) => {
                let items: Vec<&[u8]> = list.iter().map(|p| p.bytes).collect();
                let more = c.truncated || list.last().is_some_and(|p| p.truncated);
                text(&items, more, c.before).unwrap_or_else(|| self.t_ptr(i))
            }
            None => self.t_ptr(i),
        }
    }

    /// A sigset: `[INT TERM]`.
    pub(super) fn t_sigset(&self, i: usize) -> String {
        self.t_struct(i, |b| structs::read::<u64>(b).map(structs::sigset_text))
    }

    /// A value the call reads and rewrites when it succeeds with a
    /// non-zero result (sendfile's offset): `[0]`, or `[0] => [2]`.
    pub(super) fn t_inout(&self, i: usize, text: impl Fn(&[u8]) -> Option<String>) -> String {
        let Some(c) = self.captured(i).filter(|_| self.raw(i) != 0) else {
            return self.t_ptr(i);
        };
        let Some(before) = text(c.bytes) else {
            return self.t_ptr(i);
        };
        match c.after.and_then(&text) {
            Some(after) if self.ok().is_some_and(|n| n != 0) => format!("[{before}] => [{after}]"),
            _ => format!("[{before}]"),
        }
    }

    /// An int the call reads and rewrites (a socket address length):
    /// `[16]`, or `[128 => 16]` when it changed.
    pub(super) fn t_inout_int(&self, i: usize) -> String {
        let Some(c) = self.captured(i).filter(|_| self.raw(i) != 0) else {
            return self.t_ptr(i);
        };
        let Some(before) = structs::read::<i32>(c.bytes) else {
            return self.t_ptr(i);
        };
        match c.after.and_then(structs::read::<i32>) {
            Some(after) if after != before && self.ok().is_some() => {
                format!("[{before} => {after}]")
            }
            _ => format!("[{before}]"),
        }
    }
}

pub(crate) fn is_path_name(name: &str) -> bool {
    matches!(
        name,
        "filename"
            | "pathname"
            | "path"
            | "oldname"
            | "newname"
            | "oldpath"
            | "newpath"
            | "dir_name"
            | "specialfile"
            | "library"
            | "old"
            | "new"
    )
}

/// `NULL` or `0x7ffd...`.
pub fn ptr(value: u64) -> String {
    if value == 0 {
        "NULL".to_owned()
    } else {
        format!("{value:#x}")
    }
}

fn until_nul(bytes: &[u8]) -> &[u8] {
    match bytes.iter().position(|&b| b == 0) {
        Some(end) => &bytes[..end],
        None => bytes,
    }
}

pub(super) fn string(bytes: &[u8], truncated: bool, opts: &StraceOptions) -> String {
    let bytes = until_nul(bytes);
    quote_limited(bytes, opts.string_size, truncated, opts.hex)
}
