//! Per-syscall argument decoders: each call's arguments as strace prints
//! them, and how its return value reads. Structures the kernel does not
//! hand us (stat buffers, sigsets, sockaddrs, timespecs) print as pointers;
//! strings and buffers print from what was captured, else as pointers too.
use super::flags::{self, hex, Xlat};
use super::quote::{push_quoted, quote_limited, Ellipsis};
use super::{ArgView, CapturedView, StraceOptions};
use crate::format::typed_arg;

/// One argument's text, and whether strace prints it at syscall exit (an
/// output of the call), which decides what an unfinished call shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Arg {
    pub text: String,
    pub at_exit: bool,
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
}

/// What decoders read: the arguments, the outcome, the options.
pub struct Ctx<'c, 'a> {
    pub args: &'c [ArgView<'a>],
    /// None while the call is unfinished.
    pub ret: Option<i64>,
    pub opts: &'c StraceOptions,
    out: Vec<Arg>,
}

impl<'c, 'a> Ctx<'c, 'a> {
    pub fn new(args: &'c [ArgView<'a>], ret: Option<i64>, opts: &'c StraceOptions) -> Self {
        Ctx {
            args,
            ret,
            opts,
            out: Vec::with_capacity(6),
        }
    }

    fn raw(&self, i: usize) -> u64 {
        self.args.get(i).map_or(0, |a| a.raw)
    }
    /// As a C int (sign-extended from 32 bits).
    fn int(&self, i: usize) -> i64 {
        self.raw(i) as u32 as i32 as i64
    }
    fn uint(&self, i: usize) -> u64 {
        self.raw(i) as u32 as u64
    }
    fn long(&self, i: usize) -> i64 {
        self.raw(i) as i64
    }
    fn captured(&self, i: usize) -> Option<&CapturedView<'a>> {
        self.args.get(i).and_then(|a| a.captured.as_ref())
    }
    fn index_of(&self, name: &str) -> Option<usize> {
        self.args.iter().position(|a| a.name == name)
    }
    /// The return value when the call succeeded.
    fn ok(&self) -> Option<i64> {
        self.ret.filter(|&r| super::errno::errno_of(r).is_none())
    }

    fn push(&mut self, text: String) {
        self.out.push(Arg {
            text,
            at_exit: false,
        });
    }
    fn push_exit(&mut self, text: String) {
        self.out.push(Arg {
            text,
            at_exit: true,
        });
    }

    // Text of one argument, by kind.
    fn t_int(&self, i: usize) -> String {
        self.int(i).to_string()
    }
    fn t_uint(&self, i: usize) -> String {
        self.uint(i).to_string()
    }
    fn t_ulong(&self, i: usize) -> String {
        self.raw(i).to_string()
    }
    fn t_long(&self, i: usize) -> String {
        self.long(i).to_string()
    }
    fn t_dirfd(&self, i: usize) -> String {
        if self.int(i) == flags::AT_FDCWD {
            "AT_FDCWD".to_owned()
        } else {
            self.t_int(i)
        }
    }
    fn t_ptr(&self, i: usize) -> String {
        ptr(self.raw(i))
    }
    fn t_hex(&self, i: usize) -> String {
        hex(self.raw(i))
    }
    fn t_flags(&self, i: usize, table: Xlat) -> String {
        flags::flags(table, self.raw(i))
    }
    fn t_uflags(&self, i: usize, table: Xlat) -> String {
        flags::flags(table, self.uint(i))
    }
    fn t_xval(&self, i: usize, table: Xlat, unknown: &str) -> String {
        flags::xval_or_unknown(table, self.uint(i), unknown)
    }
    /// A NUL-terminated path: shown whole (strace does not bound paths by -s).
    fn t_path(&self, i: usize) -> String {
        match self.captured(i) {
            Some(c) if self.raw(i) != 0 => {
                let bytes = until_nul(c.bytes);
                let mut out = String::new();
                let more = if c.truncated {
                    Ellipsis::Yes
                } else {
                    Ellipsis::No
                };
                push_quoted(&mut out, bytes, more, false);
                out
            }
            _ => self.t_ptr(i),
        }
    }
    /// A NUL-terminated string bounded by -s.
    fn t_string(&self, i: usize) -> String {
        match self.captured(i) {
            Some(c) if self.raw(i) != 0 => string(c.bytes, c.truncated, self.opts),
            _ => self.t_ptr(i),
        }
    }
    /// A buffer of `len` bytes, shown up to -s bytes. `hex`: every byte as \xNN.
    fn t_buf(&self, i: usize, len: u64, hex: bool) -> String {
        match self.captured(i) {
            // An empty buffer needs no capture to be shown.
            _ if len == 0 && self.raw(i) != 0 => "\"\"".to_owned(),
            Some(c) if self.raw(i) != 0 => {
                let shown = c
                    .bytes
                    .len()
                    .min(self.opts.string_size)
                    .min(usize::try_from(len).unwrap_or(usize::MAX));
                quote_limited(&c.bytes[..shown], shown, len > shown as u64, hex)
            }
            _ => self.t_ptr(i),
        }
    }
    /// A buffer the call fills, `ret` bytes long: a pointer if it failed.
    fn t_out_buf(&self, i: usize, hex: bool) -> String {
        match self.ok() {
            Some(n) => self.t_buf(i, n.max(0) as u64, hex),
            None => self.t_ptr(i),
        }
    }
    /// `["ls", "/tmp"]`.
    fn t_argv(&self, i: usize) -> String {
        match self
            .captured(i)
            .and_then(|c| c.list.as_ref().map(|l| (l, c.truncated)))
        {
            Some((list, more)) if self.raw(i) != 0 => {
                let mut out = String::from("[");
                for (n, piece) in list.iter().enumerate() {
                    if n > 0 {
                        out.push_str(", ");
                    }
                    out.push_str(&string(piece.bytes, piece.truncated, self.opts));
                }
                if more {
                    out.push_str(if list.is_empty() { "..." } else { ", ..." });
                }
                out.push(']');
                out
            }
            _ => self.t_ptr(i),
        }
    }
    fn t_mode(&self, i: usize) -> String {
        flags::mode(self.raw(i))
    }
    fn t_signal(&self, i: usize) -> String {
        flags::signal_name(self.int(i))
    }

    /// The generic decoding: ints in decimal as their C type reads them,
    /// pointers in hex (or NULL), captured strings quoted.
    fn generic(&mut self, i: usize) {
        let Some(arg) = self.args.get(i) else { return };
        let text = if arg.c_type.contains('*') {
            match &arg.captured {
                Some(c) if c.list.is_some() => self.t_argv(i),
                Some(_) if is_path_name(arg.name) => self.t_path(i),
                Some(_) => self.t_string(i),
                None => self.t_ptr(i),
            }
        } else {
            typed_arg(Some(arg.c_type), arg.raw).to_string()
        };
        self.push(text);
    }

    fn finish(self, ret_style: RetStyle, complete_at_entry: bool) -> Decoded {
        Decoded {
            args: self.out,
            ret_style,
            complete_at_entry,
        }
    }
}

fn is_path_name(name: &str) -> bool {
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

fn string(bytes: &[u8], truncated: bool, opts: &StraceOptions) -> String {
    let bytes = until_nul(bytes);
    quote_limited(bytes, opts.string_size, truncated, false)
}

/// Decodes the arguments of `syscall` (its name on this architecture).
pub fn decode(syscall: &str, ctx: Ctx<'_, '_>) -> Decoded {
    use RetStyle::*;
    let mut c = ctx;
    let nargs = c.args.len();
    match syscall {
        "read" | "pread64" => {
            c.push(c.t_int(0));
            c.push_exit(c.t_out_buf(1, false));
            c.push_exit(c.t_ulong(2));
            if syscall == "pread64" {
                c.push_exit(c.t_long(3));
            }
            c.finish(Decimal, false)
        }
        "write" | "pwrite64" => {
            c.push(c.t_int(0));
            c.push(c.t_buf(1, c.raw(2), false));
            c.push(c.t_ulong(2));
            if syscall == "pwrite64" {
                c.push(c.t_long(3));
            }
            c.finish(Decimal, true)
        }
        "open" | "openat" | "creat" => {
            let base = usize::from(syscall == "openat");
            if base == 1 {
                c.push(c.t_dirfd(0));
            }
            c.push(c.t_path(base));
            if syscall == "creat" {
                c.push(c.t_mode(1));
            } else {
                let fl = c.uint(base + 1);
                c.push(flags::open_flags(fl));
                if flags::open_has_mode(fl) {
                    c.push(c.t_mode(base + 2));
                }
            }
            c.finish(Decimal, true)
        }
        "close" | "dup" | "fsync" | "fdatasync" | "fchdir" => {
            c.push(c.t_int(0));
            c.finish(Decimal, true)
        }
        "dup2" => {
            c.push(c.t_int(0));
            c.push(c.t_int(1));
            c.finish(Decimal, true)
        }
        "dup3" => {
            c.push(c.t_int(0));
            c.push(c.t_int(1));
            c.push(flags::flags(flags::OPEN_FLAGS, c.uint(2)));
            c.finish(Decimal, true)
        }
        "lseek" => {
            c.push(c.t_int(0));
            c.push(c.t_long(1));
            c.push(c.t_xval(2, flags::SEEK_WHENCE, "SEEK_???"));
            c.finish(Decimal, true)
        }
        "mmap" => {
            c.push(c.t_ptr(0));
            c.push(c.t_ulong(1));
            c.push(c.t_flags(2, flags::PROT));
            c.push(flags::mmap_flags(c.uint(3)));
            c.push(c.t_int(4));
            c.push(c.t_hex(5));
            c.finish(Hex, true)
        }
        "munmap" => {
            c.push(c.t_ptr(0));
            c.push(c.t_ulong(1));
            c.finish(Decimal, true)
        }
        "mprotect" | "pkey_mprotect" => {
            c.push(c.t_ptr(0));
            c.push(c.t_ulong(1));
            c.push(c.t_flags(2, flags::PROT));
            if syscall == "pkey_mprotect" {
                c.push(c.t_int(3));
            }
            c.finish(Decimal, true)
        }
        "madvise" => {
            c.push(c.t_ptr(0));
            c.push(c.t_ulong(1));
            c.push(c.t_xval(2, flags::MADVISE, "MADV_???"));
            c.finish(Decimal, true)
        }
        "mremap" => {
            c.push(c.t_ptr(0));
            c.push(c.t_ulong(1));
            c.push(c.t_ulong(2));
            c.push(c.t_flags(3, flags::MREMAP_FLAGS));
            if c.raw(3) & libc::MREMAP_FIXED as u64 != 0 {
                c.push(c.t_ptr(4));
            }
            c.finish(Hex, true)
        }
        "brk" => {
            c.push(c.t_ptr(0));
            c.finish(Hex, true)
        }
        "access" => {
            c.push(c.t_path(0));
            c.push(c.t_uflags(1, flags::ACCESS_MODES));
            c.finish(Decimal, true)
        }
        "faccessat" | "faccessat2" => {
            c.push(c.t_dirfd(0));
            c.push(c.t_path(1));
            c.push(c.t_uflags(2, flags::ACCESS_MODES));
            if syscall == "faccessat2" {
                c.push(c.t_uflags(3, flags::FACCESSAT_FLAGS));
            }
            c.finish(Decimal, true)
        }
        "newfstatat" | "fstatat64" => {
            c.push(c.t_dirfd(0));
            c.push(c.t_path(1));
            c.push_exit(c.t_ptr(2));
            c.push_exit(c.t_uflags(3, flags::AT_FLAGS));
            c.finish(Decimal, false)
        }
        "fstat" => {
            c.push(c.t_int(0));
            c.push_exit(c.t_ptr(1));
            c.finish(Decimal, false)
        }
        "stat" | "lstat" | "statfs" => {
            c.push(c.t_path(0));
            c.push_exit(c.t_ptr(1));
            c.finish(Decimal, false)
        }
        "statx" => {
            c.push(c.t_dirfd(0));
            c.push(c.t_path(1));
            c.push(flags::statx_flags(c.uint(2)));
            c.push(c.t_uflags(3, flags::STATX_MASK));
            c.push_exit(c.t_ptr(4));
            c.finish(Decimal, false)
        }
        "execve" => {
            c.push(c.t_path(0));
            c.push(c.t_argv(1));
            c.push(c.t_ptr(2));
            c.finish(Decimal, false)
        }
        "execveat" => {
            c.push(c.t_dirfd(0));
            c.push(c.t_path(1));
            c.push(c.t_argv(2));
            c.push(c.t_ptr(3));
            c.push(c.t_uflags(4, flags::AT_FLAGS));
            c.finish(Decimal, false)
        }
        "clone" => decode_clone(c),
        "clone3" => {
            c.push(c.t_ptr(0));
            c.push(c.t_ulong(1));
            c.finish(Decimal, false)
        }
        "exit" | "exit_group" => {
            c.push(c.t_int(0));
            c.finish(Decimal, true)
        }
        // Its argument is the signal frame on the stack, which strace reads.
        "rt_sigreturn" => c.finish(Decimal, true),
        "socket" => {
            let domain = c.uint(0);
            c.push(flags::xval_or_unknown(
                flags::ADDRESS_FAMILIES,
                domain,
                "AF_???",
            ));
            c.push(flags::socket_type(c.uint(1)));
            let proto = c.uint(2);
            let text = if domain == libc::AF_INET as u64 || domain == libc::AF_INET6 as u64 {
                flags::xval_or_dec(flags::INET_PROTOCOLS, proto)
            } else {
                proto.to_string()
            };
            c.push(text);
            c.finish(Decimal, true)
        }
        "connect" | "bind" => {
            c.push(c.t_int(0));
            c.push(c.t_ptr(1));
            c.push(c.t_uint(2));
            c.finish(Decimal, true)
        }
        "sendto" => {
            c.push(c.t_int(0));
            c.push(c.t_buf(1, c.raw(2), false));
            c.push(c.t_ulong(2));
            c.push(c.t_uflags(3, flags::MSG_FLAGS));
            c.push(c.t_ptr(4));
            c.push(c.t_uint(5));
            c.finish(Decimal, true)
        }
        "recvfrom" => {
            c.push(c.t_int(0));
            c.push_exit(c.t_out_buf(1, false));
            c.push_exit(c.t_ulong(2));
            c.push_exit(c.t_uflags(3, flags::MSG_FLAGS));
            c.push_exit(c.t_ptr(4));
            c.push_exit(c.t_ptr(5));
            c.finish(Decimal, false)
        }
        "rt_sigaction" => {
            c.push(c.t_signal(0));
            c.push(c.t_ptr(1));
            c.push_exit(c.t_ptr(2));
            c.push_exit(c.t_ulong(3));
            c.finish(Decimal, false)
        }
        "rt_sigprocmask" => {
            c.push(c.t_xval(0, flags::SIGPROCMASK_HOW, "SIG_???"));
            c.push(c.t_ptr(1));
            c.push_exit(c.t_ptr(2));
            c.push_exit(c.t_ulong(3));
            c.finish(Decimal, false)
        }
        "ioctl" => {
            c.push(c.t_int(0));
            c.push(hex(c.uint(1)));
            c.push(c.t_hex(2));
            c.finish(Decimal, false)
        }
        "fcntl" => decode_fcntl(c),
        "pipe" => {
            c.push_exit(c.t_ptr(0));
            c.finish(Decimal, false)
        }
        "pipe2" => {
            c.push_exit(c.t_ptr(0));
            c.push_exit(flags::flags(flags::OPEN_FLAGS, c.uint(1)));
            c.finish(Decimal, false)
        }
        "getdents64" | "getdents" => {
            c.push(c.t_int(0));
            c.push_exit(c.t_ptr(1));
            c.push_exit(c.t_uint(2));
            c.finish(Decimal, false)
        }
        "readlink" | "readlinkat" => {
            let base = usize::from(syscall == "readlinkat");
            if base == 1 {
                c.push(c.t_dirfd(0));
            }
            c.push(c.t_path(base));
            c.push_exit(c.t_out_buf(base + 1, false));
            c.push_exit(c.t_int(base + 2));
            c.finish(Decimal, false)
        }
        "unlink" | "rmdir" | "chdir" | "chroot" | "acct" | "swapoff" => {
            c.push(c.t_path(0));
            c.finish(Decimal, true)
        }
        "unlinkat" => {
            c.push(c.t_dirfd(0));
            c.push(c.t_path(1));
            c.push(c.t_uflags(2, flags::UNLINKAT_FLAGS));
            c.finish(Decimal, true)
        }
        "mkdir" | "chmod" => {
            c.push(c.t_path(0));
            c.push(c.t_mode(1));
            c.finish(Decimal, true)
        }
        "mkdirat" | "fchmodat" => {
            c.push(c.t_dirfd(0));
            c.push(c.t_path(1));
            c.push(c.t_mode(2));
            c.finish(Decimal, true)
        }
        "fchmod" => {
            c.push(c.t_int(0));
            c.push(c.t_mode(1));
            c.finish(Decimal, true)
        }
        "rename" | "link" | "symlink" => {
            c.push(c.t_path(0));
            c.push(c.t_path(1));
            c.finish(Decimal, true)
        }
        "renameat" | "renameat2" | "linkat" => {
            c.push(c.t_dirfd(0));
            c.push(c.t_path(1));
            c.push(c.t_dirfd(2));
            c.push(c.t_path(3));
            if syscall == "renameat2" {
                c.push(c.t_uflags(4, flags::RENAME_FLAGS));
            } else if syscall == "linkat" {
                c.push(c.t_uflags(4, flags::AT_FLAGS));
            }
            c.finish(Decimal, true)
        }
        "symlinkat" => {
            c.push(c.t_path(0));
            c.push(c.t_dirfd(1));
            c.push(c.t_path(2));
            c.finish(Decimal, true)
        }
        "getcwd" => {
            let text = match (c.ok(), c.captured(0)) {
                (Some(_), Some(_)) => c.t_path(0),
                _ => c.t_ptr(0),
            };
            c.push_exit(text);
            c.push_exit(c.t_ulong(1));
            c.finish(Decimal, false)
        }
        "wait4" => {
            c.push(c.t_int(0));
            c.push_exit(c.t_ptr(1));
            c.push_exit(c.t_uflags(2, flags::WAIT_OPTIONS));
            c.push_exit(c.t_ptr(3));
            c.finish(Decimal, false)
        }
        "kill" | "tkill" => {
            c.push(c.t_int(0));
            c.push(c.t_signal(1));
            c.finish(Decimal, true)
        }
        "tgkill" => {
            c.push(c.t_int(0));
            c.push(c.t_int(1));
            c.push(c.t_signal(2));
            c.finish(Decimal, true)
        }
        "nanosleep" => {
            c.push(c.t_ptr(0));
            c.push_exit(c.t_ptr(1));
            c.finish(Decimal, false)
        }
        "clock_nanosleep" => {
            c.push(c.t_xval(0, flags::CLOCKS, "CLOCK_???"));
            c.push(c.t_uflags(1, flags::TIMER_FLAGS));
            c.push(c.t_ptr(2));
            c.push_exit(c.t_ptr(3));
            c.finish(Decimal, false)
        }
        "clock_gettime" | "clock_getres" => {
            c.push(c.t_xval(0, flags::CLOCKS, "CLOCK_???"));
            c.push_exit(c.t_ptr(1));
            c.finish(Decimal, false)
        }
        "futex" => decode_futex(c),
        "prlimit64" => {
            c.push(c.t_int(0));
            c.push(c.t_xval(1, flags::RLIMITS, "RLIMIT_???"));
            c.push(c.t_ptr(2));
            c.push_exit(c.t_ptr(3));
            c.finish(Decimal, false)
        }
        "getrlimit" | "setrlimit" => {
            c.push(c.t_xval(0, flags::RLIMITS, "RLIMIT_???"));
            if syscall == "getrlimit" {
                c.push_exit(c.t_ptr(1));
            } else {
                c.push(c.t_ptr(1));
            }
            c.finish(Decimal, syscall == "setrlimit")
        }
        "set_tid_address" => {
            c.push(c.t_ptr(0));
            c.finish(Decimal, true)
        }
        "set_robust_list" => {
            c.push(c.t_ptr(0));
            c.push(c.t_ulong(1));
            c.finish(Decimal, true)
        }
        "rseq" => {
            c.push(c.t_ptr(0));
            c.push(hex(c.uint(1)));
            c.push(c.t_int(2));
            c.push(hex(c.uint(3)));
            c.finish(Decimal, true)
        }
        "arch_prctl" => {
            let code = c.uint(0);
            c.push(flags::xval_or_unknown(
                flags::ARCH_PRCTL_CODES,
                code,
                "ARCH_???",
            ));
            // The ARCH_GET_* codes write through the pointer.
            if matches!(code, 0x1003 | 0x1004) {
                c.push_exit(c.t_ptr(1));
                c.finish(Decimal, false)
            } else {
                c.push(c.t_hex(1));
                c.finish(Decimal, true)
            }
        }
        "getrandom" => {
            c.push_exit(c.t_out_buf(0, true));
            c.push_exit(c.t_ulong(1));
            c.push_exit(c.t_uflags(2, flags::GRND_FLAGS));
            c.finish(Decimal, false)
        }
        "truncate" => {
            c.push(c.t_path(0));
            c.push(c.t_long(1));
            c.finish(Decimal, true)
        }
        "ftruncate" => {
            c.push(c.t_int(0));
            c.push(c.t_long(1));
            c.finish(Decimal, true)
        }
        "listen" | "shutdown" => {
            c.push(c.t_int(0));
            c.push(c.t_int(1));
            c.finish(Decimal, true)
        }
        "umask" => {
            c.push(c.t_mode(0));
            c.finish(Octal, true)
        }
        "socketpair" => {
            let domain = c.uint(0);
            c.push(flags::xval_or_unknown(
                flags::ADDRESS_FAMILIES,
                domain,
                "AF_???",
            ));
            c.push(flags::socket_type(c.uint(1)));
            c.push(c.t_int(2));
            c.push_exit(c.t_ptr(3));
            c.finish(Decimal, false)
        }
        "accept" | "accept4" => {
            c.push(c.t_int(0));
            c.push_exit(c.t_ptr(1));
            c.push_exit(c.t_ptr(2));
            if syscall == "accept4" {
                c.push_exit(c.t_uflags(3, flags::SOCK_TYPE_FLAGS));
            }
            c.finish(Decimal, false)
        }
        "sendmsg" => {
            c.push(c.t_int(0));
            c.push(c.t_ptr(1));
            c.push(c.t_uflags(2, flags::MSG_FLAGS));
            c.finish(Decimal, true)
        }
        "recvmsg" => {
            c.push(c.t_int(0));
            c.push_exit(c.t_ptr(1));
            c.push_exit(c.t_uflags(2, flags::MSG_FLAGS));
            c.finish(Decimal, false)
        }
        _ => {
            for i in 0..nargs {
                c.generic(i);
            }
            c.finish(Decimal, false)
        }
    }
}

fn decode_clone(mut c: Ctx<'_, '_>) -> Decoded {
    let at = |c: &Ctx<'_, '_>, name: &str| c.index_of(name);
    let flags_i = at(&c, "clone_flags").unwrap_or(0);
    let raw_flags = c.raw(flags_i);
    let fl = raw_flags & !flags::CSIGNAL;
    let stack = at(&c, "newsp").map_or(0, |i| c.raw(i));
    c.push(format!("child_stack={}", ptr(stack)));
    c.push(format!("flags={}", flags::clone_flags(raw_flags)));
    let has = |bits: i32| fl & bits as u64 != 0;
    let late = has(libc::CLONE_PARENT_SETTID | libc::CLONE_PIDFD)
        || has(libc::CLONE_SETTLS)
        || has(libc::CLONE_CHILD_SETTID | libc::CLONE_CHILD_CLEARTID);
    if has(libc::CLONE_PARENT_SETTID | libc::CLONE_PIDFD) {
        let v = at(&c, "parent_tidptr").map_or(0, |i| c.raw(i));
        c.push_exit(format!("parent_tid={}", ptr(v)));
    }
    if has(libc::CLONE_SETTLS) {
        let v = at(&c, "tls").map_or(0, |i| c.raw(i));
        c.push_exit(format!("tls={}", ptr(v)));
    }
    if has(libc::CLONE_CHILD_SETTID | libc::CLONE_CHILD_CLEARTID) {
        let v = at(&c, "child_tidptr").map_or(0, |i| c.raw(i));
        c.push_exit(format!("child_tidptr={}", ptr(v)));
    }
    c.finish(RetStyle::Decimal, !late)
}

fn decode_fcntl(mut c: Ctx<'_, '_>) -> Decoded {
    c.push(c.t_int(0));
    let cmd = c.uint(1);
    c.push(flags::fcntl_cmd(cmd));
    let is = |v: i32| cmd == v as u64;
    let mut style = RetStyle::Decimal;
    if is(libc::F_SETFD) {
        c.push(c.t_uflags(2, flags::FD_FLAGS));
    } else if is(libc::F_SETFL) {
        c.push(flags::open_flags(c.uint(2)));
    } else if is(libc::F_GETFD) {
        style = RetStyle::FdFlags;
    } else if is(libc::F_GETFL) {
        style = RetStyle::FileFlags;
    } else if is(libc::F_GETOWN)
        || cmd == flags::F_GETSIG
        || is(libc::F_GETLEASE)
        || is(libc::F_GETPIPE_SZ)
        || is(libc::F_GET_SEALS)
    {
    } else if cmd == flags::F_SETSIG {
        c.push(c.t_signal(2));
    } else if is(libc::F_GETLK)
        || is(libc::F_SETLK)
        || is(libc::F_SETLKW)
        || is(libc::F_OFD_GETLK)
        || is(libc::F_OFD_SETLK)
        || is(libc::F_OFD_SETLKW)
    {
        c.push(c.t_ptr(2));
    } else {
        c.push(c.t_int(2));
    }
    c.finish(style, true)
}

fn futex_bitset(value: u64) -> String {
    flags::xval(flags::FUTEX_BITSETS, value).map_or_else(|| hex(value), str::to_owned)
}

fn decode_futex(mut c: Ctx<'_, '_>) -> Decoded {
    let op = c.uint(1);
    let cmd = op & flags::FUTEX_CMD_MASK;
    c.push(c.t_ptr(0));
    c.push(flags::futex_op(op));
    let is = |v: i32| cmd == v as u64;
    if is(libc::FUTEX_WAIT) {
        c.push(c.t_uint(2));
        c.push(c.t_ptr(3));
    } else if is(libc::FUTEX_LOCK_PI) || is(libc::FUTEX_LOCK_PI2) {
        c.push(c.t_ptr(3));
    } else if is(libc::FUTEX_WAIT_BITSET) {
        c.push(c.t_uint(2));
        c.push(c.t_ptr(3));
        c.push(futex_bitset(c.uint(5)));
    } else if is(libc::FUTEX_WAKE_BITSET) {
        c.push(c.t_uint(2));
        c.push(futex_bitset(c.uint(5)));
    } else if is(libc::FUTEX_REQUEUE) {
        c.push(c.t_uint(2));
        c.push(c.t_uint(3));
        c.push(c.t_ptr(4));
    } else if is(libc::FUTEX_CMP_REQUEUE) || is(libc::FUTEX_CMP_REQUEUE_PI) {
        c.push(c.t_uint(2));
        c.push(c.t_uint(3));
        c.push(c.t_ptr(4));
        c.push(c.t_uint(5));
    } else if is(libc::FUTEX_WAKE_OP) {
        c.push(c.t_uint(2));
        c.push(c.t_uint(3));
        c.push(c.t_ptr(4));
        c.push(c.t_hex(5));
    } else if is(libc::FUTEX_WAIT_REQUEUE_PI) {
        c.push(c.t_uint(2));
        c.push(c.t_ptr(3));
        c.push(c.t_ptr(4));
    } else if is(libc::FUTEX_UNLOCK_PI) || is(libc::FUTEX_TRYLOCK_PI) {
    } else {
        // FUTEX_WAKE, FUTEX_FD and unknown commands.
        c.push(c.t_uint(2));
    }
    c.finish(RetStyle::Decimal, true)
}
