//! stat, statx and statfs buffers, abbreviated as strace prints them by
//! default: `{st_mode=S_IFREG|0644, st_size=35303, ...}`.
use serde_json::{json, Value};

use super::read;
use crate::strace::flags::{self, hex};

/// `S_IFREG|0644`, `S_IFDIR|S_ISVTX|0777`, `S_IFREG|000`.
pub fn mode_text(mode: u32) -> String {
    let mode = u64::from(mode);
    let kind = mode & libc::S_IFMT as u64;
    let mut out = String::new();
    match flags::xval(flags::FILE_TYPES, kind) {
        Some(name) => out.push_str(name),
        None => out.push_str(&format!("{kind:#o}")),
    }
    let bits = mode & 0o7000;
    if bits != 0 {
        out.push('|');
        flags::push_flags(&mut out, flags::MODE_BITS, bits);
    }
    out.push('|');
    out.push_str(&flags::mode(mode & 0o777));
    out
}

/// A mode as mknod's argument: `S_IFIFO|0600`, `S_IFCHR|S_ISUID|0644`,
/// or the permissions alone (`0644`) without a file type; in octal when
/// it holds bits no name covers (strace's print_symbolic_mode_t).
pub fn symbolic_mode(mode: u32) -> String {
    let known = libc::S_IFMT | 0o7777;
    let kind = mode & libc::S_IFMT;
    if mode & !known != 0 || (kind != 0 && flags::xval(flags::FILE_TYPES, kind.into()).is_none()) {
        return flags::mode(mode.into());
    }
    if kind != 0 {
        return mode_text(mode);
    }
    let mut out = String::new();
    for (bit, name) in [
        (libc::S_ISUID, "S_ISUID|"),
        (libc::S_ISGID, "S_ISGID|"),
        (libc::S_ISVTX, "S_ISVTX|"),
    ] {
        if mode & bit != 0 {
            out.push_str(name);
        }
    }
    out.push_str(&flags::mode(u64::from(mode & 0o777)));
    out
}

/// `makedev(0x1, 0x3)`; `dev` as glibc encodes it, of which the kernel's
/// 32-bit form (mknod's argument) is the low half.
pub fn dev_text(dev: u64) -> String {
    format!(
        "makedev({}, {})",
        hex(libc::major(dev) as u64),
        hex(libc::minor(dev) as u64)
    )
}

pub fn is_device(mode: u32) -> bool {
    matches!(mode & libc::S_IFMT, libc::S_IFCHR | libc::S_IFBLK)
}

/// A time field and its date, as strace's print_struct_stat shows them
/// with -v: `st_atime=1796552603 /* 2026-12-06T10:23:23.011689138+0000 */,
/// st_atime_nsec=11689138`.
fn push_stat_time(out: &mut String, name: &str, sec: i64, nsec: i64) {
    out.push_str(&format!(", {name}={sec}"));
    if let Some(date) = super::time::nsec_date(sec, nsec) {
        out.push_str(&format!(" /* {date} */"));
    }
    out.push_str(&format!(", {name}_nsec={}", nsec as u64));
}

/// A stat buffer: abbreviated (strace's default), or with every field
/// (`abbrev` false: strace -v).
pub fn stat_text(bytes: &[u8], abbrev: bool) -> Option<String> {
    if abbrev {
        return stat_abbrev_text(bytes);
    }
    let st: libc::stat = read(bytes)?;
    let mode = st.st_mode;
    let mut out = format!(
        "{{st_dev={}, st_ino={}, st_mode={}, st_nlink={}, st_uid={}, st_gid={}, st_blksize={}, st_blocks={}",
        dev_text(st.st_dev),
        st.st_ino,
        symbolic_mode(mode),
        st.st_nlink,
        st.st_uid,
        st.st_gid,
        st.st_blksize,
        st.st_blocks
    );
    if is_device(mode) {
        out.push_str(&format!(", st_rdev={}", dev_text(st.st_rdev)));
    } else {
        out.push_str(&format!(", st_size={}", st.st_size));
    }
    push_stat_time(&mut out, "st_atime", st.st_atime, st.st_atime_nsec);
    push_stat_time(&mut out, "st_mtime", st.st_mtime, st.st_mtime_nsec);
    push_stat_time(&mut out, "st_ctime", st.st_ctime, st.st_ctime_nsec);
    out.push('}');
    Some(out)
}

fn stat_abbrev_text(bytes: &[u8]) -> Option<String> {
    let st: libc::stat = read(bytes)?;
    let mode = st.st_mode;
    Some(if is_device(mode) {
        format!(
            "{{st_mode={}, st_rdev={}, ...}}",
            mode_text(mode),
            dev_text(st.st_rdev)
        )
    } else {
        format!(
            "{{st_mode={}, st_size={}, ...}}",
            mode_text(mode),
            st.st_size
        )
    })
}

pub fn stat_value(bytes: &[u8]) -> Option<Value> {
    let st: libc::stat = read(bytes)?;
    Some(json!({
        "st_dev": st.st_dev,
        "st_ino": st.st_ino,
        "st_mode": st.st_mode,
        "st_nlink": st.st_nlink,
        "st_uid": st.st_uid,
        "st_gid": st.st_gid,
        "st_rdev": st.st_rdev,
        "st_size": st.st_size,
        "st_blksize": st.st_blksize,
        "st_blocks": st.st_blocks,
        "st_atime_ns": ns(st.st_atime, st.st_atime_nsec),
        "st_mtime_ns": ns(st.st_mtime, st.st_mtime_nsec),
        "st_ctime_ns": ns(st.st_ctime, st.st_ctime_nsec),
    }))
}

fn ns(sec: i64, nsec: i64) -> i128 {
    i128::from(sec) * 1_000_000_000 + i128::from(nsec)
}

/// A statx buffer: abbreviated, or (`abbrev` false: strace -v) every
/// field, those of its mask only as strace's statx.c prints them.
pub fn statx_text(bytes: &[u8], abbrev: bool) -> Option<String> {
    if abbrev {
        return statx_abbrev_text(bytes);
    }
    let st: libc::statx = read(bytes)?;
    let mask = st.stx_mask;
    let has = |bit: u32| mask & bit != 0;
    let mut out = format!(
        "{{stx_mask={}, stx_blksize={}, stx_attributes={}",
        flags::flags(flags::STATX_MASK, u64::from(mask)),
        st.stx_blksize,
        flags::flags(flags::STATX_ATTRS, st.stx_attributes),
    );
    if has(libc::STATX_NLINK) {
        out.push_str(&format!(", stx_nlink={}", st.stx_nlink));
    }
    if has(libc::STATX_UID) {
        out.push_str(&format!(", stx_uid={}", st.stx_uid));
    }
    if has(libc::STATX_GID) {
        out.push_str(&format!(", stx_gid={}", st.stx_gid));
    }
    if has(libc::STATX_TYPE | libc::STATX_MODE) {
        out.push_str(&format!(
            ", stx_mode={}",
            symbolic_mode(u32::from(st.stx_mode))
        ));
    }
    if has(libc::STATX_INO) {
        out.push_str(&format!(", stx_ino={}", st.stx_ino));
    }
    if has(libc::STATX_SIZE) {
        out.push_str(&format!(", stx_size={}", st.stx_size));
    }
    if has(libc::STATX_BLOCKS) {
        out.push_str(&format!(", stx_blocks={}", st.stx_blocks));
    }
    out.push_str(&format!(
        ", stx_attributes_mask={}",
        flags::flags(flags::STATX_ATTRS, st.stx_attributes_mask)
    ));
    for (bit, name, t) in [
        (libc::STATX_ATIME, "stx_atime", st.stx_atime),
        (libc::STATX_BTIME, "stx_btime", st.stx_btime),
        (libc::STATX_CTIME, "stx_ctime", st.stx_ctime),
        (libc::STATX_MTIME, "stx_mtime", st.stx_mtime),
    ] {
        if has(bit) {
            out.push_str(&format!(
                ", {name}={{tv_sec={}, tv_nsec={}}}",
                t.tv_sec, t.tv_nsec
            ));
            if let Some(date) = super::time::nsec_date(t.tv_sec, i64::from(t.tv_nsec)) {
                out.push_str(&format!(" /* {date} */"));
            }
        }
    }
    out.push_str(&format!(
        ", stx_rdev_major={}, stx_rdev_minor={}, stx_dev_major={}, stx_dev_minor={}",
        st.stx_rdev_major, st.stx_rdev_minor, st.stx_dev_major, st.stx_dev_minor
    ));
    if has(STATX_MNT_ID) {
        out.push_str(&format!(", stx_mnt_id={}", hex(st.stx_mnt_id)));
    }
    if has(STATX_DIOALIGN) {
        out.push_str(&format!(
            ", stx_dio_mem_align={}, stx_dio_offset_align={}",
            st.stx_dio_mem_align, st.stx_dio_offset_align
        ));
    }
    out.push('}');
    Some(out)
}

/// statx's mask bits of the fields after the basic ones (linux/stat.h).
const STATX_MNT_ID: u32 = 0x1000;
const STATX_DIOALIGN: u32 = 0x2000;

fn statx_abbrev_text(bytes: &[u8]) -> Option<String> {
    let st: libc::statx = read(bytes)?;
    // Unlike stat's, strace's abbreviated statx shows the size of devices too.
    Some(format!(
        "{{stx_mask={}, stx_attributes={}, stx_mode={}, stx_size={}, ...}}",
        flags::flags(flags::STATX_MASK, u64::from(st.stx_mask)),
        flags::flags(flags::STATX_ATTRS, st.stx_attributes),
        mode_text(u32::from(st.stx_mode)),
        st.stx_size,
    ))
}

pub fn statx_value(bytes: &[u8]) -> Option<Value> {
    let st: libc::statx = read(bytes)?;
    let t = |t: libc::statx_timestamp| ns(t.tv_sec, i64::from(t.tv_nsec));
    Some(json!({
        "stx_mask": st.stx_mask,
        "stx_blksize": st.stx_blksize,
        "stx_attributes": st.stx_attributes,
        "stx_nlink": st.stx_nlink,
        "stx_uid": st.stx_uid,
        "stx_gid": st.stx_gid,
        "stx_mode": st.stx_mode,
        "stx_ino": st.stx_ino,
        "stx_size": st.stx_size,
        "stx_blocks": st.stx_blocks,
        "stx_atime_ns": t(st.stx_atime),
        "stx_btime_ns": t(st.stx_btime),
        "stx_ctime_ns": t(st.stx_ctime),
        "stx_mtime_ns": t(st.stx_mtime),
        "stx_rdev_major": st.stx_rdev_major,
        "stx_rdev_minor": st.stx_rdev_minor,
        "stx_dev_major": st.stx_dev_major,
        "stx_dev_minor": st.stx_dev_minor,
    }))
}

/// The kernel's struct statfs on 64-bit architectures (libc's hides
/// f_flags and fsid's fields).
#[derive(Clone, Copy)]
#[repr(C)]
struct KernelStatfs {
    f_type: i64,
    f_bsize: i64,
    f_blocks: u64,
    f_bfree: u64,
    f_bavail: u64,
    f_files: u64,
    f_ffree: u64,
    f_fsid: [u32; 2],
    f_namelen: i64,
    f_frsize: i64,
    f_flags: i64,
}

pub fn statfs_text(bytes: &[u8]) -> Option<String> {
    let f: KernelStatfs = read(bytes)?;
    let [a, b] = f.f_fsid;
    let ftype = f.f_type as u64;
    Some(format!(
        "{{f_type={}, f_bsize={}, f_blocks={}, f_bfree={}, f_bavail={}, f_files={}, \
         f_ffree={}, f_fsid={{val=[{}, {}]}}, f_namelen={}, f_frsize={}, f_flags={}}}",
        flags::xval(flags::FS_MAGIC, ftype).map_or_else(|| hex(ftype), str::to_owned),
        f.f_bsize,
        f.f_blocks,
        f.f_bfree,
        f.f_bavail,
        f.f_files,
        f.f_ffree,
        hex(u64::from(a)),
        hex(u64::from(b)),
        f.f_namelen,
        f.f_frsize,
        flags::flags(flags::STATFS_FLAGS, f.f_flags as u64),
    ))
}

pub fn statfs_value(bytes: &[u8]) -> Option<Value> {
    let f: KernelStatfs = read(bytes)?;
    let ftype = f.f_type as u64;
    Some(json!({
        "f_type": ftype,
        "f_type_name": flags::xval(flags::FS_MAGIC, ftype),
        "f_bsize": f.f_bsize,
        "f_blocks": f.f_blocks,
        "f_bfree": f.f_bfree,
        "f_bavail": f.f_bavail,
        "f_files": f.f_files,
        "f_ffree": f.f_ffree,
        "f_fsid": f.f_fsid,
        "f_namelen": f.f_namelen,
        "f_frsize": f.f_frsize,
        "f_flags": f.f_flags,
    }))
}
