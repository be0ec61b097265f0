//! Names inside the structures strace decodes (`strace::structs`): file
//! types and mode bits, poll and epoll events, sigaction flags, statfs
//! magic numbers and mount flags. Tables keep strace's print order.
use super::Xlat;

/// The S_IFMT file types.
pub const FILE_TYPES: Xlat = xlat![S_IFREG, S_IFSOCK, S_IFIFO, S_IFLNK, S_IFDIR, S_IFBLK, S_IFCHR];
pub const MODE_BITS: Xlat = xlat![S_ISUID, S_ISGID, S_ISVTX];

// POLLMSG is not in libc (uapi asm-generic/poll.h).
pub const POLL_EVENTS: Xlat = &[
    (libc::POLLIN as u64, "POLLIN"),
    (libc::POLLPRI as u64, "POLLPRI"),
    (libc::POLLOUT as u64, "POLLOUT"),
    (libc::POLLERR as u64, "POLLERR"),
    (libc::POLLHUP as u64, "POLLHUP"),
    (libc::POLLNVAL as u64, "POLLNVAL"),
    (libc::POLLRDNORM as u64, "POLLRDNORM"),
    (libc::POLLRDBAND as u64, "POLLRDBAND"),
    (libc::POLLWRNORM as u64, "POLLWRNORM"),
    (libc::POLLWRBAND as u64, "POLLWRBAND"),
    (0x400, "POLLMSG"),
    (libc::POLLRDHUP as u64, "POLLRDHUP"),
];

pub const EPOLL_EVENTS: Xlat = xlat![
    EPOLLIN,
    EPOLLPRI,
    EPOLLOUT,
    EPOLLERR,
    EPOLLHUP,
    EPOLLRDNORM,
    EPOLLRDBAND,
    EPOLLWRNORM,
    EPOLLWRBAND,
    EPOLLMSG,
    EPOLLRDHUP,
    EPOLLEXCLUSIVE,
    EPOLLWAKEUP,
    EPOLLONESHOT,
    EPOLLET,
];

// SA_RESTORER is not in libc for every target (uapi asm/signal.h).
pub const SA_RESTORER: u64 = 0x0400_0000;
/// In strace's order (its xlat/sigact_flags.in), which is the order printed.
pub const SA_FLAGS: Xlat = &[
    (SA_RESTORER, "SA_RESTORER"),
    (libc::SA_ONSTACK as u64, "SA_ONSTACK"),
    (libc::SA_RESTART as u64, "SA_RESTART"),
    // The old name of "not SA_RESTART", which the kernel keeps as a bit.
    (0x2000_0000, "SA_INTERRUPT"),
    (libc::SA_NODEFER as u64, "SA_NODEFER"),
    (libc::SA_RESETHAND as u64 & 0xffff_ffff, "SA_RESETHAND"),
    (libc::SA_SIGINFO as u64, "SA_SIGINFO"),
    (libc::SA_NOCLDSTOP as u64, "SA_NOCLDSTOP"),
    (libc::SA_NOCLDWAIT as u64, "SA_NOCLDWAIT"),
];

/// statfs's f_flags (ST_* of <sys/statvfs.h>, and the kernel's ST_VALID,
/// which the kernel always sets: first, as strace prints it).
pub const STATFS_FLAGS: Xlat = &[
    (0x0020, "ST_VALID"),
    (0x0001, "ST_RDONLY"),
    (0x0002, "ST_NOSUID"),
    (0x0004, "ST_NODEV"),
    (0x0008, "ST_NOEXEC"),
    (0x0010, "ST_SYNCHRONOUS"),
    (0x0040, "ST_MANDLOCK"),
    (0x0400, "ST_NOATIME"),
    (0x0800, "ST_NODIRATIME"),
    (0x1000, "ST_RELATIME"),
    (0x2000, "ST_NOSYMFOLLOW"),
];

/// Filesystem magic numbers (include/uapi/linux/magic.h), the common ones.
pub const FS_MAGIC: Xlat = &[
    (0xef53, "EXT2_SUPER_MAGIC"),
    (0x0102_1994, "TMPFS_MAGIC"),
    (0x9fa0, "PROC_SUPER_MAGIC"),
    (0x6265_6572, "SYSFS_MAGIC"),
    (0x6367_7270, "CGROUP2_SUPER_MAGIC"),
    (0x0027_e0eb, "CGROUP_SUPER_MAGIC"),
    (0x794c_7630, "OVERLAYFS_SUPER_MAGIC"),
    (0x9123_683e, "BTRFS_SUPER_MAGIC"),
    (0x5846_5342, "XFS_SUPER_MAGIC"),
    (0x1cd1, "DEVPTS_SUPER_MAGIC"),
    (0x7472_6163, "TRACEFS_MAGIC"),
    (0x6462_6720, "DEBUGFS_MAGIC"),
    (0xcafe_4a11, "BPF_FS_MAGIC"),
    (0x7363_6673, "SECURITYFS_MAGIC"),
    (0x6e73_6673, "NSFS_MAGIC"),
    (0x6573_5546, "FUSE_SUPER_MAGIC"),
    (0x6969, "NFS_SUPER_MAGIC"),
    (0x0102_1997, "V9FS_MAGIC"),
    (0x4d44, "MSDOS_SUPER_MAGIC"),
    (0x7375_7245, "CODA_SUPER_MAGIC"),
    (0x9660, "ISOFS_SUPER_MAGIC"),
    (0x7371_7368, "SQUASHFS_MAGIC"),
    (0xde5e_81e4, "EFIVARFS_MAGIC"),
    (0x5346_4846, "HUGETLBFS_MAGIC"),
    (0x1373, "DEVFS_SUPER_MAGIC"),
];

pub const STATX_ATTRS: Xlat = xlat![
    STATX_ATTR_COMPRESSED,
    STATX_ATTR_IMMUTABLE,
    STATX_ATTR_APPEND,
    STATX_ATTR_NODUMP,
    STATX_ATTR_ENCRYPTED,
    STATX_ATTR_AUTOMOUNT,
    STATX_ATTR_MOUNT_ROOT,
    STATX_ATTR_VERITY,
    STATX_ATTR_DAX,
];
