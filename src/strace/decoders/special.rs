//! The decoders of calls whose arguments depend on one another: clone's
//! flags and stack, fcntl's command and argument, futex's operation.
use super::super::flags::{self, hex};
use super::super::structs;
use super::ctx::{ptr, Ctx, Decoded, RetStyle};

pub(super) fn decode_clone(c: &mut Ctx<'_, '_>) -> Decoded {
    let at = |c: &Ctx<'_, '_>, name: &str| c.index_of(name);
    let flags_i = at(c, "clone_flags").unwrap_or(0);
    let raw_flags = c.raw(flags_i);
    let fl = raw_flags & !flags::CSIGNAL;
    let stack = at(c, "newsp").map_or(0, |i| c.raw(i));
    c.push(format!("child_stack={}", ptr(stack)));
    c.push(format!("flags={}", flags::clone_flags(raw_flags)));
    let has = |bits: i32| fl & bits as u64 != 0;
    let late = has(libc::CLONE_PARENT_SETTID | libc::CLONE_PIDFD)
        || has(libc::CLONE_SETTLS)
        || has(libc::CLONE_CHILD_SETTID | libc::CLONE_CHILD_CLEARTID);
    if has(libc::CLONE_PARENT_SETTID | libc::CLONE_PIDFD) {
        let v = at(c, "parent_tidptr").map_or(0, |i| c.raw(i));
        c.push_exit(format!("parent_tid={}", ptr(v)));
    }
    if has(libc::CLONE_SETTLS) {
        let v = at(c, "tls").map_or(0, |i| c.raw(i));
        c.push_exit(format!("tls={}", ptr(v)));
    }
    if has(libc::CLONE_CHILD_SETTID | libc::CLONE_CHILD_CLEARTID) {
        let v = at(c, "child_tidptr").map_or(0, |i| c.raw(i));
        c.push_exit(format!("child_tidptr={}", ptr(v)));
    }
    c.finish(RetStyle::Decimal, !late)
}

pub(super) fn decode_fcntl(c: &mut Ctx<'_, '_>) -> Decoded {
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
    } else if cmd == flags::F_GETSIG {
        style = RetStyle::Signal;
    } else if is(libc::F_GETLEASE) {
        style = RetStyle::NamedHex(flags::LOCK_TYPES);
    } else if is(libc::F_GETOWN) || is(libc::F_GETPIPE_SZ) {
    } else if is(libc::F_GET_SEALS) {
        style = RetStyle::Seals;
    } else if is(libc::F_ADD_SEALS) {
        c.push(c.t_uflags(2, flags::SEALS));
    } else if cmd == flags::F_SETSIG {
        c.push(c.t_signal(2));
    } else if is(libc::F_SETLEASE) {
        c.push(c.t_xval(2, flags::LOCK_TYPES, "F_???"));
    } else if is(libc::F_NOTIFY) {
        c.push(c.t_uflags(2, flags::DN_FLAGS));
    } else if is(libc::F_SETLK)
        || is(libc::F_SETLKW)
        || is(libc::F_OFD_SETLK)
        || is(libc::F_OFD_SETLKW)
    {
        c.push(c.t_struct(2, |b| structs::flock_text(b, false)));
    } else if cmd == flags::F_SETOWN_EX {
        c.push(c.t_struct(2, structs::f_owner_ex_text));
    } else if cmd == flags::F_GETOWN_EX {
        c.push_exit(c.t_out_struct(2, structs::f_owner_ex_text));
        return c.finish(style, false);
    } else if is(libc::F_GETLK) || is(libc::F_OFD_GETLK) {
        // The lock that would block, written back with its owner's pid.
        c.push_exit(c.t_out_struct(2, |b| structs::flock_text(b, true)));
        return c.finish(style, false);
    } else {
        c.push(c.t_int(2));
    }
    c.finish(style, true)
}

fn futex_bitset(value: u64) -> String {
    flags::xval(flags::FUTEX_BITSETS, value).map_or_else(|| hex(value), str::to_owned)
}

pub(super) fn decode_futex(c: &mut Ctx<'_, '_>) -> Decoded {
    let op = c.uint(1);
    let cmd = op & flags::FUTEX_CMD_MASK;
    c.push(c.t_ptr(0));
    c.push(flags::futex_op(op));
    let is = |v: i32| cmd == v as u64;
    let timeout = |c: &Ctx<'_, '_>| c.t_struct(3, structs::timespec_text);
    if is(libc::FUTEX_WAIT) {
        c.push(c.t_uint(2));
        c.push(timeout(c));
    } else if is(libc::FUTEX_LOCK_PI) || is(libc::FUTEX_LOCK_PI2) {
        c.push(timeout(c));
    } else if is(libc::FUTEX_WAIT_BITSET) {
        c.push(c.t_uint(2));
        c.push(timeout(c));
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
        c.push(timeout(c));
        c.push(c.t_ptr(4));
    } else if is(libc::FUTEX_UNLOCK_PI) || is(libc::FUTEX_TRYLOCK_PI) {
    } else {
        // FUTEX_WAKE, FUTEX_FD and unknown commands.
        c.push(c.t_uint(2));
    }
    c.finish(RetStyle::Decimal, true)
}
