//! SysV IPC's control structures, as strace's ipc_msgctl.c, ipc_shmctl.c
//! and ipc_semctl.c print them: IPC_SET's (what the call reads: the
//! owner, the mode, and msgctl's queue size) and the STATs' and INFOs'
//! (what it writes). The kernel writes the 64-bit layouts (glibc's
//! structures on 64-bit ABIs).

use super::read;
use crate::strace::flags::{id, mode};

/// Which structure a *ctl command's argument is. The programs read the
/// same commands' (ipc_commands in bpf/capture.bpf.h).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum IpcArg {
    /// IPC_SET's *id_ds, read at enter: only the fields the call changes.
    Set,
    /// IPC_STAT's, *_STAT's, *_STAT_ANY's: the whole *id_ds, written.
    Stat,
    /// IPC_INFO's, MSG_INFO's, SEM_INFO's: msginfo, shminfo or seminfo.
    Info,
    /// shmctl's SHM_INFO: struct shm_info.
    ShmInfo,
}

impl IpcArg {
    /// The structure `cmd` (IPC_64 aside) of `syscall` (msgctl, shmctl,
    /// semctl) points to; None for a command whose argument strace prints
    /// as an address (IPC_RMID, GETVAL...).
    pub fn of(syscall: &str, cmd: u64) -> Option<IpcArg> {
        let cmd = cmd as u32 & !0x100;
        match (syscall, cmd) {
            (_, 1) => Some(IpcArg::Set),
            (_, 2) => Some(IpcArg::Stat),
            (_, 3) => Some(IpcArg::Info),
            ("msgctl", 11 | 13) | ("shmctl", 13 | 15) | ("semctl", 18 | 20) => Some(IpcArg::Stat),
            ("msgctl", 12) | ("semctl", 19) => Some(IpcArg::Info),
            ("shmctl", 14) => Some(IpcArg::ShmInfo),
            _ => None,
        }
    }
}

fn perm_text(p: &libc::ipc_perm, arg: IpcArg) -> String {
    let head = format!(
        "uid={}, gid={}, mode={}",
        id(p.uid),
        id(p.gid),
        mode(u64::from(p.mode))
    );
    if arg == IpcArg::Set {
        return format!("{{{head}}}");
    }
    // key_t printed as unsigned (strace's PRINT_FIELD_U).
    format!(
        "{{{head}, key={}, cuid={}, cgid={}}}",
        p.__key as u32,
        id(p.cuid),
        id(p.cgid)
    )
}

/// shm_info (SHM_INFO's), which libc does not define.
#[repr(C)]
#[derive(Clone, Copy)]
struct ShmInfo {
    used_ids: i32,
    shm_tot: u64,
    shm_rss: u64,
    shm_swp: u64,
    swap_attempts: u64,
    swap_successes: u64,
}

/// shminfo64 (shmctl's IPC_INFO's): five limits, then four unused words.
#[repr(C)]
#[derive(Clone, Copy)]
struct ShmInfo64 {
    shmmax: u64,
    shmmin: u64,
    shmmni: u64,
    shmseg: u64,
    shmall: u64,
    _unused: [u64; 4],
}

/// The text of `syscall`'s structure `arg` in `b`; None when too short.
pub fn ipc_ctl_text(syscall: &str, arg: IpcArg, b: &[u8]) -> Option<String> {
    Some(match (syscall, arg) {
        ("msgctl", IpcArg::Set) => {
            let d: libc::msqid_ds = read(b)?;
            format!(
                "{{msg_perm={}, msg_qbytes={}}}",
                perm_text(&d.msg_perm, arg),
                d.msg_qbytes
            )
        }
        ("msgctl", IpcArg::Stat) => {
            let d: libc::msqid_ds = read(b)?;
            format!(
                "{{msg_perm={}, msg_stime={}, msg_rtime={}, msg_ctime={}, msg_qnum={}, \
                 msg_qbytes={}, msg_lspid={}, msg_lrpid={}}}",
                perm_text(&d.msg_perm, arg),
                d.msg_stime as u64,
                d.msg_rtime as u64,
                d.msg_ctime as u64,
                d.msg_qnum,
                d.msg_qbytes,
                d.msg_lspid,
                d.msg_lrpid
            )
        }
        ("msgctl", _) => {
            let i: libc::msginfo = read(b)?;
            format!(
                "{{msgpool={}, msgmap={}, msgmax={}, msgmnb={}, msgmni={}, msgssz={}, \
                 msgtql={}, msgseg={}}}",
                i.msgpool, i.msgmap, i.msgmax, i.msgmnb, i.msgmni, i.msgssz, i.msgtql, i.msgseg
            )
        }
        ("shmctl", IpcArg::Set) => {
            let d: libc::shmid_ds = read(b)?;
            format!("{{shm_perm={}}}", perm_text(&d.shm_perm, arg))
        }
        ("shmctl", IpcArg::Stat) => {
            let d: libc::shmid_ds = read(b)?;
            format!(
                "{{shm_perm={}, shm_segsz={}, shm_cpid={}, shm_lpid={}, shm_nattch={}, \
                 shm_atime={}, shm_dtime={}, shm_ctime={}}}",
                perm_text(&d.shm_perm, arg),
                d.shm_segsz,
                d.shm_cpid,
                d.shm_lpid,
                d.shm_nattch,
                d.shm_atime as u64,
                d.shm_dtime as u64,
                d.shm_ctime as u64
            )
        }
        ("shmctl", IpcArg::Info) => {
            let i: ShmInfo64 = read(b)?;
            format!(
                "{{shmmax={}, shmmin={}, shmmni={}, shmseg={}, shmall={}}}",
                i.shmmax, i.shmmin, i.shmmni, i.shmseg, i.shmall
            )
        }
        ("shmctl", _) => {
            let i: ShmInfo = read(b)?;
            format!(
                "{{used_ids={}, shm_tot={}, shm_rss={}, shm_swp={}, swap_attempts={}, \
                 swap_successes={}}}",
                i.used_ids, i.shm_tot, i.shm_rss, i.shm_swp, i.swap_attempts, i.swap_successes
            )
        }
        ("semctl", IpcArg::Set) => {
            let d: libc::semid_ds = read(b)?;
            format!("{{sem_perm={}}}", perm_text(&d.sem_perm, arg))
        }
        ("semctl", IpcArg::Stat) => {
            let d: libc::semid_ds = read(b)?;
            format!(
                "{{sem_perm={}, sem_otime={}, sem_ctime={}, sem_nsems={}}}",
                perm_text(&d.sem_perm, arg),
                d.sem_otime as u64,
                d.sem_ctime as u64,
                d.sem_nsems
            )
        }
        ("semctl", _) => {
            let i: libc::seminfo = read(b)?;
            format!(
                "{{semmap={}, semmni={}, semmns={}, semmnu={}, semmsl={}, semopm={}, \
                 semume={}, semusz={}, semvmx={}, semaem={}}}",
                i.semmap,
                i.semmni,
                i.semmns,
                i.semmnu,
                i.semmsl,
                i.semopm,
                i.semume,
                i.semusz,
                i.semvmx,
                i.semaem
            )
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_and_modes() {
        assert_eq!(IpcArg::of("msgctl", 0x100 | 2), Some(IpcArg::Stat));
        assert_eq!(IpcArg::of("shmctl", 14), Some(IpcArg::ShmInfo));
        assert_eq!(IpcArg::of("semctl", 19), Some(IpcArg::Info));
        assert_eq!(IpcArg::of("semctl", 13), None); // GETALL: an address, as strace
        assert_eq!(IpcArg::of("msgctl", 0), None);
        let modes: Vec<String> = [0, 0o7, 0o600, 0o1600].into_iter().map(mode).collect();
        assert_eq!(modes, ["000", "007", "0600", "01600"]);
        assert_eq!(
            (id(u32::MAX), id(1000)),
            ("-1".to_owned(), "1000".to_owned())
        );
        // Too short for the structure: the caller prints the address.
        assert_eq!(ipc_ctl_text("shmctl", IpcArg::Stat, &[0; 16]), None);
    }
}
