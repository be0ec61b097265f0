//! Which arguments and results of calls are process or thread ids, for
//! strace's -Y (`--decode-pids=comm`): `kill(42<sleep>, SIGTERM)`,
//! `getpid() = 42<sh>`. As strace's printpid: the ids of a process or a
//! thread get their command name; a process group's or a session's do not
//! (`setpgid(42<sh>, 42)`, `getpriority(PRIO_PGRP, 42)`).

/// The indexes of the arguments of `syscall` (its registers `raw`) that
/// hold the id of a process or a thread.
pub fn pid_args(syscall: &str, raw: &[u64]) -> &'static [usize] {
    let arg = |i: usize| raw.get(i).map_or(-1, |&r| r as u32 as i32);
    match syscall {
        "kill"
        | "tkill"
        | "rt_sigqueueinfo"
        | "getpgid"
        | "getsid"
        | "setpgid"
        | "wait4"
        | "prlimit64"
        | "process_vm_readv"
        | "process_vm_writev"
        | "pidfd_open"
        | "get_robust_list"
        | "migrate_pages"
        | "move_pages"
        | "sched_setaffinity"
        | "sched_getaffinity"
        | "sched_setscheduler"
        | "sched_getscheduler"
        | "sched_setparam"
        | "sched_getparam"
        | "sched_rr_get_interval"
        | "sched_setattr"
        | "sched_getattr" => &[0],
        "tgkill" | "rt_tgsigqueueinfo" | "kcmp" => &[0, 1],
        "ptrace" | "perf_event_open" => &[1],
        // waitid(P_PID, pid), getpriority(PRIO_PROCESS, pid),
        // ioprio_get(IOPRIO_WHO_PROCESS, pid): by what the first names.
        "waitid" if arg(0) == libc::P_PID as i32 => &[1],
        "getpriority" | "setpriority" if arg(0) == libc::PRIO_PROCESS as i32 => &[1],
        "ioprio_get" | "ioprio_set" if arg(0) == IOPRIO_WHO_PROCESS => &[1],
        "fcntl" | "fcntl64" if arg(1) == libc::F_SETOWN => &[2],
        _ => &[],
    }
}

/// linux/ioprio.h (not in the libc crate).
const IOPRIO_WHO_PROCESS: i32 = 1;

/// Calls whose result is the id of a process or thread (strace's RVAL_TID
/// and RVAL_TGID; a new child's among them). wait4's is too, but of a
/// process it reaped, which has no name left to show (strace shows none
/// either).
pub fn returns_pid(syscall: &str) -> bool {
    matches!(
        syscall,
        "getpid" | "gettid" | "getppid" | "clone" | "clone3" | "fork" | "vfork"
    )
}

/// Each `field` followed by a pid in `text`: the pid gets its name when
/// `comm_of` knows it. A siginfo's `si_pid=42` -> `si_pid=42<sleep>`,
/// clone3's `parent_tid=[42]`, each control message's credentials.
pub fn annotate_field(text: &mut String, field: &str, comm_of: impl Fn(i32) -> Option<String>) {
    let mut from = 0;
    while let Some(at) = text[from..].find(field).map(|at| from + at + field.len()) {
        let digits = text[at..].bytes().take_while(u8::is_ascii_digit).count();
        from = at + digits;
        let Ok(pid) = text[at..at + digits].parse::<i32>() else {
            continue;
        };
        if let Some(comm) = comm_of(pid) {
            let name = format!("<{comm}>");
            text.insert_str(from, &name);
            from += name.len();
        }
    }
}

/// A process's or thread's command name as /proc shows it now (what
/// strace prints): None once it is gone.
pub fn proc_comm(pid: i32) -> Option<String> {
    if pid <= 0 {
        return None;
    }
    let comm = std::fs::read(format!("/proc/{pid}/comm")).ok()?;
    Some(comm_text(&comm))
}

/// A task's comm as strace prints it in `<...>`: up to its NUL (and, as
/// strace reads it from /proc, its first newline), escaped as a string's
/// and `>` in octal, as strace does.
pub fn comm_text(comm: &[u8]) -> String {
    use super::quote::{push_quoted, Ellipsis, HexStyle};
    let end = comm.iter().position(|&b| b == 0 || b == b'\n');
    let comm = &comm[..end.unwrap_or(comm.len())];
    let mut out = String::with_capacity(comm.len());
    for (i, part) in comm.split(|&b| b == b'>').enumerate() {
        if i > 0 {
            let octal_next = part.first().is_some_and(|b| (b'0'..=b'7').contains(b));
            out.push_str(if octal_next { "\\076" } else { "\\76" });
        }
        let mut quoted = String::with_capacity(part.len() + 2);
        push_quoted(&mut quoted, part, Ellipsis::No, HexStyle::None);
        out.push_str(&quoted[1..quoted.len() - 1]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pid_arguments_by_call_and_by_what_names_them() {
        assert_eq!(pid_args("kill", &[42, 15]), &[0]);
        assert_eq!(pid_args("tgkill", &[42, 43, 15]), &[0, 1]);
        assert_eq!(pid_args("ptrace", &[0, 42]), &[1]);
        assert_eq!(pid_args("waitid", &[1, 42]), &[1]);
        assert!(pid_args("waitid", &[2, 42]).is_empty(), "P_PGID: a group");
        assert_eq!(pid_args("getpriority", &[0, 42]), &[1]);
        assert!(pid_args("getpriority", &[1, 42]).is_empty(), "PRIO_PGRP");
        assert_eq!(pid_args("ioprio_get", &[1, 42]), &[1]);
        assert_eq!(pid_args("fcntl", &[3, 8, 42]), &[2]);
        assert!(pid_args("fcntl", &[3, 1, 0]).is_empty());
        assert!(pid_args("read", &[3, 0, 1]).is_empty());
        assert!(returns_pid("clone3") && returns_pid("getppid") && !returns_pid("wait4"));
    }

    #[test]
    fn si_pid_gets_its_name_when_known() {
        let mut line = "{si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=42, si_uid=0}".to_string();
        annotate_field(&mut line, "si_pid=", |pid| {
            (pid == 42).then(|| "sleep".to_string())
        });
        assert_eq!(
            line,
            "{si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=42<sleep>, si_uid=0}"
        );
        // Each occurrence: one message's credentials after another's.
        let field = "SCM_CREDENTIALS, cmsg_data={pid=";
        let mut two = format!("[{{{field}42, uid=0}}, {{{field}7, uid=0}}, {{{field}42, uid=0}}]");
        annotate_field(&mut two, field, |pid| (pid == 42).then(|| "sh".to_string()));
        assert_eq!(
            two,
            format!("[{{{field}42<sh>, uid=0}}, {{{field}7, uid=0}}, {{{field}42<sh>, uid=0}}]")
        );
        let mut gone = "{si_signo=SIGCHLD, si_pid=43, si_uid=0}".to_string();
        annotate_field(&mut gone, "si_pid=", |_| None);
        assert_eq!(gone, "{si_signo=SIGCHLD, si_pid=43, si_uid=0}");
        assert_eq!(
            comm_text(b"a\"b\\c\xe9>d\td\0\0"),
            "a\\\"b\\\\c\\351\\76d\\td"
        );
        assert_eq!(comm_text(b">1\nx"), "\\0761");
        assert_eq!(proc_comm(0), None);
        let mine = std::fs::read_to_string("/proc/self/comm").unwrap();
        assert_eq!(
            proc_comm(std::process::id() as i32).as_deref(),
            Some(mine.trim_end())
        );
    }
}
