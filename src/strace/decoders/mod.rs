//! Per-syscall argument decoders: each call's arguments as strace prints
//! them, and how its return value reads. Structures the kernel does not
//! hand us (stat buffers, sigsets, sockaddrs, timespecs) print as pointers;
//! strings and buffers print from what was captured, else as pointers too.
use super::flags::{self, hex};
use super::structs;

mod ctx;
mod files;
mod ioctl;
mod memory;
mod net;
mod prctl;
mod special;
mod task;

pub(crate) use ctx::is_path_name;
pub use ctx::{ptr, Arg, Ctx, Decoded, RetStyle};
use special::{decode_clone, decode_fcntl, decode_futex};

/// clock_nanosleep's flag for an absolute time (linux/time.h).
const TIMER_ABSTIME: u64 = 1;

/// An address the call wrote back: `[0x7f...]`.
fn written_address(bytes: &[u8]) -> Option<String> {
    structs::read::<u64>(bytes).map(|v| format!("[{}]", hex(v)))
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
        // The pid at entry; process_vm_readv's the rest at exit, when its
        // local buffers hold what it read.
        "process_vm_readv" | "process_vm_writev" => {
            let opts = c.opts;
            let reads = syscall == "process_vm_readv";
            // A read that failed filled nothing; a write's data is what it
            // was given, shown whatever came of it (strace's, at entry).
            let failed = reads && c.ret.is_some() && c.ok().is_none();
            let local = c.t_list(1, |items, more, _| {
                structs::iovec_text(items, more, failed, opts)
            });
            let n = c.raw(4);
            let remote = c.t_struct(3, |b| structs::remote_iovec_text(b, n, opts.array_size()));
            c.push(c.t_int(0));
            for text in [
                local,
                c.t_ulong(2).into(),
                remote,
                c.t_ulong(4).into(),
                c.t_ulong(5).into(),
            ] {
                match reads {
                    true => c.push_exit(text),
                    false => c.push(text),
                }
            }
            c.finish(Decimal, !reads)
        }
        "readv" | "writev" | "preadv" | "pwritev" | "preadv2" | "pwritev2" => {
            let opts = c.opts;
            let failed = syscall.contains("read") && c.ret.is_some() && c.ok().is_none();
            let iov = |c: &Ctx| {
                c.t_list(1, |items, more, _| {
                    structs::iovec_text(items, more, failed, opts)
                })
            };
            c.push(c.t_int(0));
            if syscall.contains("read") {
                // The data is what the call read (none if it failed).
                c.push_exit(iov(&c));
                c.push_exit(c.t_ulong(2));
            } else {
                c.push(iov(&c));
                c.push(c.t_ulong(2));
            }
            if nargs > 3 {
                // pos_l, pos_h: the offset is pos_l on 64-bit.
                c.push(c.t_long(3));
            }
            if syscall.ends_with('2') {
                c.push(c.t_uflags(5, flags::RWF_FLAGS));
            }
            c.finish(Decimal, !syscall.contains("read"))
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
        "openat2" => {
            c.push(c.t_dirfd(0));
            c.push(c.t_path(1));
            let size = c.uint(3);
            c.push(match c.captured(2) {
                Some(how) if c.raw(2) != 0 && !how.truncated => {
                    structs::open_how_text(how.bytes, size).unwrap_or_else(|| c.t_ptr(2))
                }
                _ => c.t_ptr(2),
            });
            c.push(c.t_ulong(3));
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
        "fallocate" => {
            c.push(c.t_int(0));
            c.push(c.t_uflags_or_unknown(1, flags::FALLOC_FLAGS, "FALLOC_FL_???"));
            c.push(c.t_long(2));
            c.push(c.t_long(3));
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
        "pkey_alloc" => {
            c.push(c.t_hex(0));
            c.push(c.t_flags_or_unknown(1, flags::PKEY_ACCESS, "PKEY_???"));
            c.finish(Decimal, true)
        }
        "mlock" | "munlock" => {
            c.push(c.t_ptr(0));
            c.push(c.t_ulong(1));
            c.finish(Decimal, true)
        }
        "mlock2" => {
            c.push(c.t_ptr(0));
            c.push(c.t_ulong(1));
            c.push(c.t_uflags(2, flags::MLOCK_FLAGS));
            c.finish(Decimal, true)
        }
        "mlockall" => {
            c.push(c.t_uflags(0, flags::MLOCKALL_FLAGS));
            c.finish(Decimal, true)
        }
        "msync" => {
            c.push(c.t_ptr(0));
            c.push(c.t_ulong(1));
            c.push(c.t_uflags(2, flags::MSYNC_FLAGS));
            c.finish(Decimal, true)
        }
        "mincore" => {
            c.push(c.t_ptr(0));
            c.push(c.t_ulong(1));
            c.push_exit(c.t_ptr(2));
            c.finish(Decimal, false)
        }
        "madvise" => {
            c.push(c.t_ptr(0));
            c.push(c.t_ulong(1));
            c.push(c.t_xval(2, flags::MADVISE, "MADV_???"));
            c.finish(Decimal, true)
        }
        "process_madvise" => {
            c.push(c.t_int(0));
            c.push(c.t_ptr(1));
            c.push(c.t_ulong(2));
            c.push(c.t_xval(3, flags::MADVISE, "MADV_???"));
            c.push(c.t_uint(4));
            c.finish(Decimal, true)
        }
        "userfaultfd" => {
            c.push(c.t_uflags_or_unknown(0, flags::UFFD_FLAGS, "UFFD_???"));
            c.finish(Decimal, true)
        }
        "name_to_handle_at" => {
            c.push(c.t_dirfd(0));
            c.push(c.t_path(1));
            c.push(c.t_ptr(2));
            c.push(c.t_ptr(3));
            c.push(c.t_uflags(4, flags::NAME_TO_HANDLE_FLAGS));
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
            c.push_exit(c.t_out_struct(2, |b| structs::stat_text(b, c.opts.abbrev)));
            c.push_exit(c.t_uflags(3, flags::AT_FLAGS));
            c.finish(Decimal, false)
        }
        "fstat" | "fstatfs" => {
            c.push(c.t_int(0));
            c.push_exit(c.t_out_struct(1, |b| stat_or_statfs(syscall, b, c.opts.abbrev)));
            c.finish(Decimal, false)
        }
        "stat" | "lstat" | "statfs" => {
            c.push(c.t_path(0));
            c.push_exit(c.t_out_struct(1, |b| stat_or_statfs(syscall, b, c.opts.abbrev)));
            c.finish(Decimal, false)
        }
        "statx" => {
            c.push(c.t_dirfd(0));
            c.push(c.t_path(1));
            c.push(flags::statx_flags(c.uint(2)));
            c.push(c.t_uflags(3, flags::STATX_MASK));
            c.push_exit(c.t_out_struct(4, |b| structs::statx_text(b, c.opts.abbrev)));
            c.finish(Decimal, false)
        }
        "execve" => {
            c.push(c.t_path(0));
            c.push(c.t_argv(1));
            c.push(c.t_environ(2));
            c.finish(Decimal, false)
        }
        "execveat" => {
            c.push(c.t_dirfd(0));
            c.push(c.t_path(1));
            c.push(c.t_argv(2));
            c.push(c.t_environ(3));
            c.push(c.t_uflags(4, flags::AT_FLAGS));
            c.finish(Decimal, false)
        }
        "clone" => decode_clone(&mut c),
        "unshare" => {
            c.push(c.t_flags_or_unknown(0, flags::UNSHARE_FLAGS, "CLONE_???"));
            c.finish(Decimal, true)
        }
        "setns" => {
            c.push(c.t_int(0));
            c.push(c.t_uflags_or_unknown(1, flags::SETNS_TYPES, "CLONE_NEW???"));
            c.finish(Decimal, true)
        }
        "exit" | "exit_group" => {
            c.push(c.t_int(0));
            c.finish(Decimal, true)
        }
        // The mask it restores, read from the signal frame on the stack
        // (its address, there, when the call is not verbose).
        "rt_sigreturn" => {
            if !c.opts.verbose && c.raw(0) != 0 {
                c.push(format!("{{mask={}}}", c.t_ptr(0)));
            } else if let Some(mask) = c
                .captured_text(0)
                .and_then(|m| structs::read::<u64>(m.bytes))
            {
                c.push(format!("{{mask={}}}", structs::sigset_text(mask)));
            }
            c.finish(Decimal, true)
        }
        "rt_sigaction" => {
            c.push(c.t_signal(0));
            c.push(c.t_struct(1, structs::sigaction_text));
            c.push_exit(c.t_out_struct(2, structs::sigaction_text));
            c.push_exit(c.t_ulong(3));
            c.finish(Decimal, false)
        }
        "rt_sigprocmask" => {
            c.push(c.t_xval(0, flags::SIGPROCMASK_HOW, "SIG_???"));
            c.push(c.t_sigset(1));
            c.push_exit(match c.ok() {
                Some(_) => c.t_sigset(2),
                None => c.t_ptr(2),
            });
            c.push_exit(c.t_ulong(3));
            c.finish(Decimal, false)
        }
        "fcntl" => decode_fcntl(&mut c),
        "pipe" => {
            c.push_exit(c.t_out_struct(0, |b| structs::fd_pair_text(b, c.opts.array_size())));
            c.finish(Decimal, false)
        }
        "pipe2" => {
            c.push_exit(c.t_out_struct(0, |b| structs::fd_pair_text(b, c.opts.array_size())));
            c.push_exit(flags::flags(flags::OPEN_FLAGS, c.uint(1)));
            c.finish(Decimal, false)
        }
        "getdents64" | "getdents" => {
            c.push(c.t_int(0));
            // -v: the entries themselves, when they were read (not counted:
            // capture::dirent_entries) and the call wrote no more than asked.
            let written = c.ok().filter(|&n| n as u64 <= c.uint(2));
            let records = c.captured(1).filter(|r| r.bytes.len() != 4);
            // Not verbose: the address alone, as the records (gated by
            // `captured`) are not read.
            c.push_exit(match (c.opts.abbrev || !c.opts.verbose, written, records) {
                (false, Some(0), _) if syscall == "getdents64" => "[]".to_owned(),
                (false, Some(n), Some(r)) if syscall == "getdents64" => {
                    structs::dirents_text(r.bytes, n as usize, c.opts.hex)
                }
                (_, Some(0), _) if c.opts.verbose => format!("{} /* 0 entries */", c.t_ptr(1)),
                _ => c.t_counted(1, "entries", "entries"),
            });
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
            let text = match (c.ok(), c.captured_text(0)) {
                (Some(_), Some(_)) => c.t_path(0),
                _ => c.t_ptr(0),
            };
            c.push_exit(text);
            c.push_exit(c.t_ulong(1));
            c.finish(Decimal, false)
        }
        "wait4" => {
            c.push(c.t_int(0));
            // Nothing is written when no child was waited for (ret 0).
            c.push_exit(match c.ok() {
                Some(pid) if pid > 0 => c.t_struct(1, structs::wait_status_text),
                _ => c.t_ptr(1),
            });
            c.push_exit(c.t_uflags(2, flags::WAIT_OPTIONS));
            c.push_exit(c.t_out_struct(3, |b| structs::rusage_text(b, c.opts.abbrev)));
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
        // The time left, written only when a signal interrupted the sleep
        // (to be restarted), and not for an absolute time: as strace.
        "nanosleep" => {
            c.push(c.t_struct(0, structs::timespec_text));
            c.push_exit(match c.restarting() {
                true => c.t_struct(1, structs::timespec_text),
                false => c.t_ptr(1),
            });
            c.finish(Decimal, false)
        }
        "clock_nanosleep" => {
            c.push(c.t_xval(0, flags::CLOCKS, "CLOCK_???"));
            c.push(c.t_uflags(1, flags::TIMER_FLAGS));
            c.push(c.t_struct(2, structs::timespec_text));
            c.push_exit(match c.restarting() && c.uint(1) & TIMER_ABSTIME == 0 {
                true => c.t_struct(3, structs::timespec_text),
                false => c.t_ptr(3),
            });
            c.finish(Decimal, false)
        }
        "clock_gettime" | "clock_getres" => {
            c.push(c.t_xval(0, flags::CLOCKS, "CLOCK_???"));
            c.push_exit(c.t_out_struct(1, structs::timespec_text));
            c.finish(Decimal, false)
        }
        // An AIO context is an address: `io_setup(4, [0x7f...])`.
        "io_setup" => {
            c.push(c.t_uint(0));
            c.push_exit(c.t_out_struct(1, written_address));
            c.finish(Decimal, false)
        }
        "io_destroy" => {
            c.push(hex(c.raw(0)));
            c.finish(Decimal, true)
        }
        "get_robust_list" => {
            c.push(c.t_int(0));
            c.push_exit(c.t_out_struct(1, written_address));
            c.push_exit(c.t_out_struct(2, |b| structs::read::<u64>(b).map(|v| format!("[{v}]"))));
            c.finish(Decimal, false)
        }
        "gettimeofday" => {
            c.push_exit(c.t_out_struct(0, structs::timeval_text));
            c.push_exit(c.t_out_struct(1, structs::timezone_text));
            c.finish(Decimal, false)
        }
        "settimeofday" => {
            c.push(c.t_struct(0, structs::timeval_text));
            c.push(c.t_struct(1, structs::timezone_text));
            c.finish(Decimal, true)
        }
        "sethostname" | "setdomainname" => {
            c.push(c.t_buf(0, c.raw(1), false));
            c.push(c.t_uint(1));
            c.finish(Decimal, true)
        }
        "sched_rr_get_interval" => {
            c.push(c.t_int(0));
            c.push_exit(c.t_out_struct(1, structs::timespec_text));
            c.finish(Decimal, false)
        }
        "futex" => decode_futex(&mut c),
        "prlimit64" => {
            c.push(c.t_int(0));
            c.push(c.t_xval(1, flags::RLIMITS, "RLIMIT_???"));
            c.push(c.t_struct(2, structs::rlimit_text));
            c.push_exit(c.t_out_struct(3, structs::rlimit_text));
            c.finish(Decimal, false)
        }
        "getrlimit" | "setrlimit" => {
            c.push(c.t_xval(0, flags::RLIMITS, "RLIMIT_???"));
            if syscall == "getrlimit" {
                c.push_exit(c.t_out_struct(1, structs::rlimit_text));
            } else {
                c.push(c.t_struct(1, structs::rlimit_text));
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
        "uname" => {
            c.push_exit(c.t_out_struct(0, |b| structs::uname_text(b, c.opts.hex, c.opts.abbrev)));
            c.finish(Decimal, false)
        }
        "sysinfo" => {
            c.push_exit(c.t_out_struct(0, structs::sysinfo_text));
            c.finish(Decimal, false)
        }
        "rt_sigsuspend" => {
            c.push(c.t_sigset(0));
            c.push(c.t_ulong(1));
            c.finish(Decimal, true)
        }
        "poll" | "ppoll" => {
            let truncated = c.captured(0).is_some_and(|p| p.truncated);
            c.push(match c.captured(0) {
                Some(p) if c.raw(0) != 0 => {
                    structs::pollfds_text(p.bytes, truncated, c.opts.array_size())
                }
                _ => c.t_struct(0, |_| None),
            });
            c.push(c.t_uint(1));
            if syscall == "poll" {
                c.push(c.t_int(2));
            } else {
                c.push(c.t_struct(2, structs::timespec_text));
                c.push(c.t_sigset(3));
                c.push(c.t_ulong(4));
            }
            // ppoll writes back what is left of its timeout.
            let left = c
                .captured(2)
                .filter(|_| syscall == "ppoll" && c.raw(2) != 0)
                .and_then(|t| t.after)
                .and_then(structs::timespec_text);
            match (c.ok(), c.captured(0).and_then(|p| p.after)) {
                (Some(0), _) => c.note("Timeout".to_owned()),
                (Some(_), Some(after)) => c.note(match left {
                    Some(left) => format!(
                        "{}, left {left}",
                        structs::poll_revents_text(after, c.opts.array_size())
                    ),
                    None => structs::poll_revents_text(after, c.opts.array_size()),
                }),
                _ => {}
            }
            c.finish(Decimal, false)
        }
        "umask" => {
            c.push(c.t_mode(0));
            c.finish(Octal, true)
        }
        // A number without a name: strace's printargs, every register in hex.
        unnamed if unnamed.starts_with(crate::metadata::names::UNNAMED_PREFIX) => {
            for i in 0..nargs {
                c.push(flags::hex(c.raw(i)));
            }
            c.finish(Decimal, true)
        }
        _ => net::decode(syscall, &mut c)
            .or_else(|| files::decode(syscall, &mut c))
            .or_else(|| ioctl::decode(syscall, &mut c))
            .or_else(|| prctl::decode(syscall, &mut c))
            .or_else(|| memory::decode(syscall, &mut c))
            .or_else(|| task::decode(syscall, &mut c))
            .unwrap_or_else(|| {
                for i in 0..nargs {
                    c.generic(i);
                }
                c.finish(Decimal, false)
            }),
    }
}

fn stat_or_statfs(syscall: &str, bytes: &[u8], abbrev: bool) -> Option<String> {
    if syscall.ends_with("statfs") {
        structs::statfs_text(bytes)
    } else {
        structs::stat_text(bytes, abbrev)
    }
}
