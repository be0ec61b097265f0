//! Calls on files and descriptors: ownership (strace's uid.c,
//! fchownat.c), times (utimes.c), access advice (fadvise.c), epoll
//! (epoll.c), locks (flock) and extended attributes (xattr.c). The timespec pairs and epoll events they read print as
//! pointers.
use super::super::{flags, structs};
use super::ctx::{Ctx, Decoded, RetStyle::Decimal};

const FLOCK_CMDS: flags::Xlat = &[
    (libc::LOCK_SH as u64, "LOCK_SH"),
    (libc::LOCK_EX as u64, "LOCK_EX"),
    (libc::LOCK_NB as u64, "LOCK_NB"),
    (libc::LOCK_UN as u64, "LOCK_UN"),
];

const XATTR_FLAGS: flags::Xlat = &[
    (libc::XATTR_CREATE as u64, "XATTR_CREATE"),
    (libc::XATTR_REPLACE as u64, "XATTR_REPLACE"),
];

/// fanotify_init's class bits (FAN_ALL_CLASS_BITS, not exported).
const FAN_ALL_CLASS_BITS: u64 = 0xc;

const UMOUNT_FLAGS: flags::Xlat = &[
    (libc::MNT_FORCE as u64, "MNT_FORCE"),
    (libc::MNT_DETACH as u64, "MNT_DETACH"),
    (libc::MNT_EXPIRE as u64, "MNT_EXPIRE"),
    (libc::UMOUNT_NOFOLLOW as u64, "UMOUNT_NOFOLLOW"),
];

/// mount: as strace's mount.c, the type is an address for a remount, a
/// bind or a propagation change (the kernel ignores it), and so is the data
/// for all but a remount.
fn decode_mount(c: &mut Ctx) -> Decoded {
    // The old magic number, which the kernel still accepts in the high 16
    // bits, is shown apart (strace's mount.c).
    let mut bits = c.raw(3);
    let old_magic = bits & libc::MS_MGC_MSK == libc::MS_MGC_VAL;
    if old_magic {
        bits &= !libc::MS_MGC_MSK;
    }
    let changes_tree = libc::MS_BIND
        | libc::MS_MOVE
        | libc::MS_SHARED
        | libc::MS_PRIVATE
        | libc::MS_SLAVE
        | libc::MS_UNBINDABLE;
    let remount = bits & libc::MS_REMOUNT != 0;
    let (ignore_type, ignore_data) = if remount {
        (true, false)
    } else {
        let tree = bits & changes_tree != 0;
        (tree, tree)
    };
    c.push(c.t_path(0));
    c.push(c.t_path(1));
    c.push(if ignore_type {
        c.t_ptr(2)
    } else {
        c.t_string(2)
    });
    let mut text = String::new();
    if old_magic {
        text.push_str("MS_MGC_VAL");
    }
    if bits != 0 || !old_magic {
        if old_magic {
            text.push('|');
        }
        text.push_str(&flags::flags_or_unknown(flags::MOUNT_FLAGS, bits, "MS_???"));
    }
    c.push(text);
    c.push(if ignore_data {
        c.t_ptr(4)
    } else {
        c.t_string(4)
    });
    c.finish(Decimal, true)
}

pub(super) fn decode<'c, 'a>(syscall: &str, c: &mut Ctx<'c, 'a>) -> Option<Decoded> {
    // The xattr calls name their file by path (l: the link itself) or fd (f).
    let file = |c: &Ctx| {
        if syscall.starts_with('f') {
            c.t_int(0).into_string()
        } else {
            c.t_path(0)
        }
    };
    Some(match syscall {
        "mount" => decode_mount(c),
        // strace's fanotify.c: the class, then the other flags.
        "fanotify_init" => {
            let fl = c.uint(0) & 0xffff_ffff;
            let class = fl & FAN_ALL_CLASS_BITS;
            let mut text = flags::xval_or_unknown(flags::FAN_CLASSES, class, "FAN_CLASS_???");
            if fl & !FAN_ALL_CLASS_BITS != 0 {
                text.push('|');
                text.push_str(&flags::flags_or_unknown(
                    flags::FAN_INIT_FLAGS,
                    fl & !FAN_ALL_CLASS_BITS,
                    "FAN_???",
                ));
            }
            c.push(text);
            c.push(flags::open_flags(c.uint(1) & 0xffff_ffff));
            c.finish(Decimal, true)
        }
        "fanotify_mark" => {
            c.push(c.t_int(0));
            c.push(flags::flags_or_unknown(
                flags::FAN_MARK_FLAGS,
                c.uint(1) & 0xffff_ffff,
                "FAN_MARK_???",
            ));
            c.push(c.t_flags_or_unknown(2, flags::FAN_EVENTS, "FAN_???"));
            c.push(if c.int(3) as i32 == -1 {
                "FAN_NOFD".into()
            } else {
                c.t_dirfd(3).into_string()
            });
            c.push(c.t_path(4));
            c.finish(Decimal, true)
        }
        "umount2" => {
            c.push(c.t_path(0));
            c.push(flags::flags_or_unknown(
                UMOUNT_FLAGS,
                c.uint(1) & 0xffff_ffff,
                "MNT_???",
            ));
            c.finish(Decimal, true)
        }
        // The device only for a device file (strace's mknod.c).
        "mknod" | "mknodat" => {
            let base = usize::from(syscall == "mknodat");
            if base == 1 {
                c.push(c.t_dirfd(0));
            }
            c.push(c.t_path(base));
            let mode = c.uint(base + 1) as u32;
            c.push(structs::symbolic_mode(mode));
            if structs::is_device(mode) {
                c.push(structs::dev_text(c.uint(base + 2)));
            }
            c.finish(Decimal, true)
        }
        // The offset as it was and, when bytes were sent, as it is.
        "sendfile" => {
            c.push(c.t_int(0));
            c.push(c.t_int(1));
            c.push_exit(c.t_inout(2, |b| structs::read::<i64>(b).map(|o| o.to_string())));
            c.push_exit(c.t_ulong(3));
            c.finish(Decimal, false)
        }
        "copy_file_range" => {
            let offset = |b: &[u8]| structs::read::<i64>(b).map(|o| format!("[{o}]"));
            c.push(c.t_int(0));
            c.push(c.t_struct(1, offset));
            c.push(c.t_int(2));
            c.push(c.t_struct(3, offset));
            c.push(c.t_ulong(4));
            c.push(c.t_uint(5));
            c.finish(Decimal, true)
        }
        "flock" => {
            c.push(c.t_int(0));
            c.push(c.t_uflags_or_unknown(1, FLOCK_CMDS, "LOCK_???"));
            c.finish(Decimal, true)
        }
        "setxattr" | "lsetxattr" | "fsetxattr" => {
            c.push(file(c));
            c.push(c.t_string(1));
            c.push(c.t_xattr_val(2, c.raw(3)));
            c.push(c.t_ulong(3));
            c.push(flags::flags(XATTR_FLAGS, c.uint(4)));
            c.finish(Decimal, true)
        }
        // The value they read, or NULL when only its size is asked.
        "getxattr" | "lgetxattr" | "fgetxattr" => {
            c.push(file(c));
            c.push(c.t_string(1));
            c.push_exit(match c.ok() {
                Some(n) => c.t_xattr_val(2, n as u64),
                None => c.t_ptr(2).into(),
            });
            c.push_exit(c.t_ulong(3));
            c.finish(Decimal, false)
        }
        // The names, each ending in a NUL: `"user.a\0user.b\0"`; the
        // address when only their size is asked (size 0).
        "listxattr" | "llistxattr" | "flistxattr" => {
            c.push(file(c));
            c.push_exit(if c.raw(2) == 0 {
                c.t_ptr(1).into()
            } else {
                c.t_out_buf(1, false)
            });
            c.push_exit(c.t_ulong(2));
            c.finish(Decimal, false)
        }
        "removexattr" | "lremovexattr" | "fremovexattr" => {
            c.push(file(c));
            c.push(c.t_string(1));
            c.finish(Decimal, true)
        }
        "chown" | "lchown" | "fchown" => {
            c.push(if syscall == "fchown" {
                c.t_int(0).into_string()
            } else {
                c.t_path(0)
            });
            c.push(c.t_uid(1));
            c.push(c.t_uid(2));
            c.finish(Decimal, true)
        }
        "fchownat" => {
            c.push(c.t_dirfd(0));
            c.push(c.t_path(1));
            c.push(c.t_uid(2));
            c.push(c.t_uid(3));
            c.push(c.t_uflags(4, flags::AT_FLAGS));
            c.finish(Decimal, true)
        }
        "utimensat" => {
            c.push(c.t_dirfd(0));
            c.push(c.t_path(1));
            c.push(c.t_struct(2, structs::timespec_pair_text));
            c.push(c.t_uflags(3, flags::AT_FLAGS));
            c.finish(Decimal, true)
        }
        "fadvise64" => {
            c.push(c.t_int(0));
            c.push(c.t_long(1));
            c.push(c.t_ulong(2));
            c.push(c.t_xval(3, flags::FADVISE, "POSIX_FADV_???"));
            c.finish(Decimal, true)
        }
        "epoll_create" => {
            c.push(c.t_int(0));
            c.finish(Decimal, true)
        }
        "memfd_create" => {
            c.push(c.t_string(0));
            c.push(c.t_uflags(1, flags::MFD_FLAGS));
            c.finish(Decimal, true)
        }
        "close_range" => {
            c.push(c.t_uint(0));
            c.push(c.t_uint(1));
            c.push(c.t_uflags(2, flags::CLOSE_RANGE_FLAGS));
            c.finish(Decimal, true)
        }
        "eventfd" => {
            c.push(c.t_uint(0));
            c.finish(Decimal, true)
        }
        "eventfd2" => {
            c.push(c.t_uint(0));
            c.push(c.t_uflags(1, flags::EFD_FLAGS));
            c.finish(Decimal, true)
        }
        "timerfd_create" => {
            c.push(c.t_xval(0, flags::CLOCKS, "CLOCK_???"));
            c.push(c.t_uflags(1, flags::TFD_CREATE_FLAGS));
            c.finish(Decimal, true)
        }
        "timerfd_settime" => {
            c.push(c.t_int(0));
            c.push(c.t_uflags(1, flags::TFD_TIMER_FLAGS));
            c.push(c.t_struct(2, structs::itimerspec_text));
            c.push_exit(c.t_out_struct(3, structs::itimerspec_text));
            c.finish(Decimal, false)
        }
        "timerfd_gettime" => {
            c.push(c.t_int(0));
            c.push_exit(c.t_out_struct(1, structs::itimerspec_text));
            c.finish(Decimal, false)
        }
        "signalfd" | "signalfd4" => {
            c.push(c.t_int(0));
            c.push(c.t_sigset(1));
            c.push(c.t_ulong(2));
            if syscall == "signalfd4" {
                c.push(c.t_uflags(3, flags::SFD_FLAGS));
            }
            c.finish(Decimal, true)
        }
        "inotify_init1" => {
            c.push(c.t_uflags(0, flags::IN_INIT_FLAGS));
            c.finish(Decimal, true)
        }
        "inotify_add_watch" => {
            c.push(c.t_int(0));
            c.push(c.t_path(1));
            c.push(c.t_uflags(2, flags::IN_EVENTS));
            c.finish(Decimal, true)
        }
        "splice" => {
            c.push(c.t_int(0));
            c.push(c.t_struct(1, |b| structs::read::<i64>(b).map(|o| format!("[{o}]"))));
            c.push(c.t_int(2));
            c.push(c.t_struct(3, |b| structs::read::<i64>(b).map(|o| format!("[{o}]"))));
            c.push(c.t_ulong(4));
            c.push(c.t_uflags(5, flags::SPLICE_FLAGS));
            c.finish(Decimal, true)
        }
        "tee" => {
            c.push(c.t_int(0));
            c.push(c.t_int(1));
            c.push(c.t_ulong(2));
            c.push(c.t_uflags(3, flags::SPLICE_FLAGS));
            c.finish(Decimal, true)
        }
        "sync_file_range" => {
            c.push(c.t_int(0));
            c.push(c.t_long(1));
            c.push(c.t_long(2));
            c.push(c.t_uflags(3, flags::SYNC_FILE_RANGE_FLAGS));
            c.finish(Decimal, true)
        }
        "epoll_create1" => {
            c.push(c.t_uflags(0, flags::EPOLL_FLAGS));
            c.finish(Decimal, true)
        }
        "epoll_ctl" => {
            c.push(c.t_int(0));
            c.push(c.t_xval(1, flags::EPOLL_CTL_OPS, "EPOLL_CTL_???"));
            c.push(c.t_int(2));
            // EPOLL_CTL_DEL ignores the event: strace shows its address.
            if c.uint(1) == libc::EPOLL_CTL_DEL as u64 {
                c.push(c.t_ptr(3));
            } else {
                c.push(c.t_struct(3, structs::epoll_event_text));
            }
            c.finish(Decimal, true)
        }
        "epoll_wait" | "epoll_pwait" | "epoll_pwait2" => {
            c.push(c.t_int(0));
            let events = match (c.ok(), c.captured(1)) {
                (Some(_), Some(e)) if c.raw(1) != 0 => {
                    structs::epoll_events_text(e.bytes, e.truncated, c.opts.array_size())
                }
                // None ready: the array is left as it was.
                (Some(0), None) if c.raw(1) != 0 => "[]".to_owned(),
                _ => c.t_ptr(1),
            };
            c.push_exit(events);
            c.push_exit(c.t_int(2));
            c.push_exit(if syscall == "epoll_pwait2" {
                c.t_struct(3, structs::timespec_text)
            } else {
                c.t_int(3).into_string()
            });
            if syscall != "epoll_wait" {
                c.push_exit(c.t_sigset(4));
                c.push_exit(c.t_ulong(5));
            }
            c.finish(Decimal, false)
        }
        _ => return None,
    })
}
