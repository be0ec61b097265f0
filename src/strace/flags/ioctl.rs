//! ioctl request numbers as strace names them: the names of the number
//! (generated/ioctls.rs, from the UAPI headers), or its fields spelled out
//! as `_IOC(_IOC_READ, 0x54, 0x99, 0x4)` when no header names it.
use std::fmt::Write;

use super::generated::ioctls::IOCTLS;
use super::{flags, hex, Xlat};

// The generic layout of a request number (include/uapi/asm-generic/ioctl.h,
// which x86_64 and aarch64 use): nr, type, size, direction.
const IOC_NRBITS: u32 = 8;
const IOC_TYPEBITS: u32 = 8;
const IOC_SIZEBITS: u32 = 14;
const IOC_TYPESHIFT: u32 = IOC_NRBITS;
const IOC_SIZESHIFT: u32 = IOC_TYPESHIFT + IOC_TYPEBITS;
const IOC_DIRSHIFT: u32 = IOC_SIZESHIFT + IOC_SIZEBITS;

/// The direction bits, in strace's order (its xlat/ioctl_dirs.in).
const IOC_DIRS: Xlat = &[(0, "_IOC_NONE"), (2, "_IOC_READ"), (1, "_IOC_WRITE")];

/// `TCGETS`, `BTRFS_IOC_CLONE or FICLONE`, or `_IOC(dir, type, nr, size)`.
pub fn ioctl_name(code: u32) -> String {
    if let Ok(i) = IOCTLS.binary_search_by_key(&code, |&(c, _)| c) {
        return IOCTLS[i].1.to_owned();
    }
    let field = |shift: u32, bits: u32| u64::from((code >> shift) & ((1 << bits) - 1));
    let mut out = String::from("_IOC(");
    out.push_str(&flags(IOC_DIRS, u64::from(code >> IOC_DIRSHIFT)));
    let _ = write!(
        out,
        ", {}, {}, {})",
        hex(field(IOC_TYPESHIFT, IOC_TYPEBITS)),
        hex(field(0, IOC_NRBITS)),
        hex(field(IOC_SIZESHIFT, IOC_SIZEBITS))
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_fields() {
        assert_eq!(ioctl_name(0x5401), "TCGETS");
        assert_eq!(ioctl_name(0x5451), "FIOCLEX");
        assert_eq!(ioctl_name(0x4004_9409), "BTRFS_IOC_CLONE or FICLONE");
        // strace -e trace=ioctl of ioctl(3, 0xc0081234, ...)
        assert_eq!(
            ioctl_name(0xc008_1234),
            "_IOC(_IOC_READ|_IOC_WRITE, 0x12, 0x34, 0x8)"
        );
        assert_eq!(ioctl_name(0x0000_ff00), "_IOC(_IOC_NONE, 0xff, 0, 0)");
        // Sorted, for the binary search.
        assert!(IOCTLS.windows(2).all(|w| w[0].0 < w[1].0));
    }
}
