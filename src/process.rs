//! What the extension does to its own process: when it is imported, before
//! any thread of ours exists (issue 15: start-up and memory), and for the
//! command, the scheduling of its threads.

/// The fd table slots a load and its sessions use (about 110 with every
/// feature, 16 per-syscall hooks of each phase and the task events).
const FD_TABLE_SLOTS: u64 = 256;

/// Grows this process's fd table to [`FD_TABLE_SLOTS`] now, while no
/// thread of ours exists: the kernel grows a table shared by several
/// threads only after an RCU grace period (`expand_fdtable`), which the
/// load's threads then wait for. Here a process started by a shell (a
/// 64-slot table) waited two, some 10 ms each, on the way to attaching
/// (issue 15: `-p`'s attach 35 ms from a Python parent with a larger
/// table, 45-54 ms from a shell or any C parent). The table never
/// shrinks; one that large already is left as it is, and a lower fd limit
/// bounds it.
pub fn reserve_fd_table() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes the struct it is given.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return;
    }
    let last = (FD_TABLE_SLOTS - 1).min(limit.rlim_cur.saturating_sub(1)) as libc::c_int;
    // A duplicate at the lowest free fd from `last` up: a slot past the
    // table's end grows it, one inside it changes nothing. Closed at once.
    // SAFETY: plain fd calls on fds this function opens and closes.
    unsafe {
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC);
        if null < 0 {
            return;
        }
        let fd = libc::fcntl(null, libc::F_DUPFD_CLOEXEC, last);
        if fd >= 0 {
            libc::close(fd);
        }
        libc::close(null);
    }
}

/// `Elf64_Dyn`: one entry of a dynamic section.
#[repr(C)]
struct Dyn {
    tag: i64,
    val: u64,
}
const DT_NULL: i64 = 0;
const DT_RELA: i64 = 7;
const DT_RELASZ: i64 = 8;

/// Gives back the pages of this extension's dynamic relocations
/// (`.rela.dyn`: some 25,000 entries, 0.6 MiB) once the loader has applied
/// them: nothing reads them again, and they stayed resident, part of the
/// command's peak RSS (goal 20 MB). The pages are the file's, so they
/// would only be read again from it if anything did.
pub fn release_relocations() {
    let here = release_relocations as *const () as usize;
    // SAFETY: dl_iterate_phdr calls `each` with valid program headers.
    unsafe {
        libc::dl_iterate_phdr(Some(each), (&raw const here).cast_mut().cast());
    }
}

unsafe extern "C" fn each(
    info: *mut libc::dl_phdr_info,
    _size: libc::size_t,
    data: *mut libc::c_void,
) -> libc::c_int {
    // SAFETY: the loader's entry for one object, and our address.
    let (info, here) = unsafe { (&*info, *data.cast::<usize>()) };
    let base = info.dlpi_addr as usize;
    // SAFETY: dlpi_phnum headers at dlpi_phdr.
    let headers = unsafe { std::slice::from_raw_parts(info.dlpi_phdr, info.dlpi_phnum.into()) };
    let ours = headers.iter().any(|h| {
        let start = base + h.p_vaddr as usize;
        h.p_type == libc::PT_LOAD && (start..start + h.p_memsz as usize).contains(&here)
    });
    if !ours {
        return 0;
    }
    let Some(dynamic) = headers.iter().find(|h| h.p_type == libc::PT_DYNAMIC) else {
        return 1;
    };
    let (mut rela, mut size) = (0usize, 0usize);
    let mut entry = (base + dynamic.p_vaddr as usize) as *const Dyn;
    // SAFETY: the dynamic section, mapped, ends with DT_NULL.
    unsafe {
        while (*entry).tag != DT_NULL {
            match (*entry).tag {
                DT_RELA => rela = (*entry).val as usize,
                DT_RELASZ => size = (*entry).val as usize,
                _ => {}
            }
            entry = entry.add(1);
        }
    }
    if rela == 0 || size == 0 {
        return 1;
    }
    // The loader may have made the address absolute in place.
    if rela < base {
        rela += base;
    }
    // SAFETY: sysconf cannot fail for the page size.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize;
    // Whole pages inside the relocations only: their neighbours (symbol
    // tables, read-only data) stay.
    let start = rela.div_ceil(page) * page;
    let end = (rela + size) / page * page;
    if end > start {
        // SAFETY: pages of our own read-only file mapping, no longer read.
        unsafe { libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_DONTNEED) };
    }
    1
}

/// `struct sched_attr` as first defined (include/uapi/linux/sched/types.h,
/// SCHED_ATTR_SIZE_VER0): without the utilization clamps, which stay as
/// they are.
#[repr(C)]
#[derive(Default)]
struct SchedAttr {
    size: u32,
    policy: u32,
    flags: u64,
    nice: i32,
    priority: u32,
    runtime: u64,
    deadline: u64,
    period: u64,
}

const SCHED_NORMAL: u32 = 0;
const SCHED_BATCH: u32 = 3;
const SCHED_FLAG_RESET_ON_FORK: u64 = 1;

/// Our thread `tid` gets ahead of the processes it traces: its nice value
/// lowered to `nice` (if higher; kept without CAP_SYS_NICE) and, under the
/// fair policies, a time slice of `slice_ns`, which the kernel bounds to
/// 0.1-100 ms (Linux 6.12's custom slices; an older kernel ignores it, or
/// if it refuses it, gets the nice value alone). A thread whose slice is
/// shorter than the running one's preempts it when woken, instead of
/// waiting for a tick (PREEMPT_SHORT).
pub fn keep_up_thread(tid: i32, nice: i32, slice_ns: u64) -> std::io::Result<()> {
    let size = std::mem::size_of::<SchedAttr>() as u32;
    let mut attr = SchedAttr::default();
    // SAFETY: the kernel writes at most `size` bytes into our struct.
    if unsafe { libc::syscall(libc::SYS_sched_getattr, tid, &mut attr, size, 0) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    if attr.policy != SCHED_NORMAL && attr.policy != SCHED_BATCH {
        // A policy the user chose (real-time, idle): only the nice value,
        // which it keeps for a return to a fair one.
        // SAFETY: plain syscall on a thread id.
        if attr.nice > nice
            && unsafe { libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, nice) } != 0
        {
            return Err(std::io::Error::last_os_error());
        }
        return Ok(());
    }
    let own = attr.nice;
    attr.size = size;
    attr.flags &= SCHED_FLAG_RESET_ON_FORK;
    attr.nice = own.min(nice);
    attr.runtime = slice_ns;
    let set = |attr: &SchedAttr| {
        // SAFETY: the kernel reads `attr.size` bytes of our struct.
        if unsafe { libc::syscall(libc::SYS_sched_setattr, tid, attr as *const SchedAttr, 0) } != 0
        {
            Err(std::io::Error::last_os_error())
        } else {
            Ok(())
        }
    };
    let refused = |result: &std::io::Result<()>, errno: i32| {
        result
            .as_ref()
            .is_err_and(|e| e.raw_os_error() == Some(errno))
    };
    let mut result = set(&attr);
    if refused(&result, libc::EINVAL) && attr.runtime != 0 {
        // A kernel that refuses the slice: the nice value alone.
        attr.runtime = 0;
        result = set(&attr);
    }
    if refused(&result, libc::EPERM) && attr.nice < own {
        attr.nice = own;
        result = set(&attr);
    }
    result
}
