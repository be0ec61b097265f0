//! The printer's task events: signals (`--- SIGCHLD {...} ---`) and
//! threads' exits (`+++ exited with 0 +++`), in their place among the calls.
use std::fmt::Write;

use serde_json::json;

use super::super::outcome::ProcessEnd;
use super::super::signals;
use super::{OutputFormat, Printer};
use crate::kernel::{Event, Phase, SigInfo};
use crate::metadata::names::metadata_now;

impl Printer {
    /// A signal the thread acts on: `--- SIGCHLD {si_signo=SIGCHLD, ...} ---`.
    pub(super) fn signal(&mut self, ev: &Event, out: &mut String) {
        let Some(info) = ev.siginfo() else {
            return;
        };
        // A fatal signal sent to a thread in a call (one it was in when
        // attached too), an ignored one it sent
        // itself, or the SIGCHLD of a child its wait returns, shows after
        // that call's line, as strace sees them; another ignored one cuts
        // the call, as it interrupts it under strace. So too where a call
        // is one line at its end (-ff, -e status=), as strace's are.
        let deferred =
            info.at_send && (!info.ignored || info.from_self || self.waited_for(ev.tid, &info));
        if deferred
            && self.opts.format == OutputFormat::Strace
            && !self.opts.summary
            && (self.pairer.pending_enter(ev.tid).is_some()
                || self.in_call_at_attach.contains_key(&ev.tid))
            && !self.deferred_signals.contains_key(&ev.tid)
        {
            self.deferred_signals.insert(ev.tid, ev.clone());
            return;
        }
        self.print_signal(ev, out);
    }

    /// `info` is the SIGCHLD of a child that the wait thread `tid` is in
    /// (wait4, waitid) returns: the child's end woke the wait, and under
    /// strace the wait returns before the signal shows.
    fn waited_for(&self, tid: u32, info: &SigInfo) -> bool {
        // -p: a wait the thread was in when attached has no enter yet.
        let enter = self
            .pairer
            .pending_enter(tid)
            .or(match self.in_call_at_attach.get(&tid) {
                Some(super::AttachedCall::RunAgain(enter)) => Some(enter),
                _ => None,
            });
        let (Some(enter), Some(fields)) = (enter, info.fields) else {
            return false;
        };
        if info.signo != libc::SIGCHLD {
            return false;
        }
        let child = fields[0] as u32 as i32;
        let name = metadata_now()
            .0
            .syscall_nr_to_meta(enter.nr)
            .map(|m| m.short_name());
        match name {
            // pid: the child, -1 any, 0 or -pgid a group (which may hold it).
            Some("wait4") => {
                let pid = enter.args[0] as u32 as i32;
                pid <= 0 || pid == child
            }
            // idtype P_PID: that child; P_ALL, P_PGID, P_PIDFD: may be it.
            Some("waitid") => enter.args[0] != libc::P_PID as u64 || enter.args[1] as i32 == child,
            _ => false,
        }
    }

    pub(super) fn print_signal(&mut self, ev: &Event, out: &mut String) {
        let Some(info) = ev.siginfo() else {
            return;
        };
        // A group exit's SIGKILL has no siginfo: strace never sees it
        // either (the process is gone); `+++ killed by` tells it.
        if info.fields.is_none()
            || self.opts.summary
            || self.opts.format == OutputFormat::Kernel
            || !self.opts.signals.contains(ev.nr)
        {
            return;
        }
        let mut line = signals::signal_line(&info);
        if self.opts.decode_pids {
            crate::strace::pidcalls::annotate_field(&mut line, "si_pid=", |pid| self.comm_of(pid));
        }
        if self.opts.format == OutputFormat::Json {
            let obj = json!({
                "event": "signal",
                "pid": ev.pid,
                "tid": ev.tid,
                "timestamp_ns": ev.timestamp_ns,
                "signal": signals::signal_name(info.signo),
                "siginfo": signals::siginfo_json(&info),
                "strace": line,
            });
            let _ = writeln!(out, "{obj}");
            return;
        }
        self.cut_held(out);
        self.prefix(out, ev);
        out.push_str(&line);
        out.push('\n');
        // A stop signal's default action stops the process.
        let stops = [libc::SIGSTOP, libc::SIGTSTP, libc::SIGTTIN, libc::SIGTTOU];
        if info.handler == 0 && stops.contains(&info.signo) {
            self.prefix(out, ev);
            let _ = writeln!(
                out,
                "--- stopped by {} ---",
                signals::signal_name(info.signo)
            );
        }
    }

    /// A thread exited: the call it was in never returns; under -f its
    /// line `[pid N] +++ exited with 0 +++`; and its process's end if it
    /// was the last.
    pub(super) fn task_exit(&mut self, ev: &Event, out: &mut String) {
        let Some(exit) = ev.task_exit() else {
            return;
        };
        if exit.compat {
            self.exec_into_compat(ev.tid, out);
        }
        self.syscall_end_of(ev, out);
        self.interrupted.remove(&ev.tid);
        let end = ProcessEnd::from_exit_code(exit.exit_code);
        let quiet = self.opts.quiet_exits && matches!(end, ProcessEnd::Exited(_));
        if ev.tid != ev.pid && self.opts.thread_exits && !self.opts.summary && !quiet {
            self.cut_held(out);
            if self.opts.format == OutputFormat::Json {
                let mut obj = end.json(ev.pid);
                obj["tid"] = ev.tid.into();
                obj["thread"] = true.into();
                let _ = writeln!(out, "{obj}");
            } else if self.opts.format == OutputFormat::Strace {
                self.prefix(out, ev);
                out.push_str(&end.strace_text());
                out.push('\n');
            }
        }
        if ev.tid != ev.pid {
            self.last_nr.remove(&ev.tid);
        }
        // A process's first thread stays until its last one is gone, as
        // its pid stays until it is reaped.
        if ev.tid != ev.pid || exit.group_dead {
            self.live.remove(&ev.tid);
        }
        // Told already (at its exit_group, when the printer was not told
        // that the events carry the threads' exits: a replay).
        if exit.group_dead && !self.ended.contains(&ev.pid) {
            self.cut_held(out);
            let main = Some(ev.pid) == self.opts.main_pid;
            if exit.compat {
                self.compat_note(out, ev, main);
            }
            self.process_end(out, ev.pid, &end, main, ev.timestamp_ns);
            self.told_by_exit.insert(ev.pid);
        }
    }

    /// A process that ran in 32-bit mode: the kernel's syscall events skip
    /// compat calls, and so do our hooks, so its calls since its exec are
    /// missing. Said where strace says `[ Process PID=N runs in 32 bit
    /// mode. ]` and then prints them, rather than left a silent gap.
    fn compat_note(&mut self, out: &mut String, ev: &Event, main: bool) {
        if self.opts.summary {
            return;
        }
        if self.opts.format == OutputFormat::Json {
            let note =
                json!({"event": "personality", "pid": ev.pid, "mode": "32 bit", "traced": false});
            let _ = writeln!(out, "{note}");
        } else if self.opts.format == OutputFormat::Strace {
            // Prefixed as the process's end that follows.
            self.push_pid(out, ev.pid, !main && !self.live.is_empty());
            self.timestamp(out, ev.timestamp_ns);
            self.syscall_number(out, ev.pid, None);
            let _ = writeln!(
                out,
                "[ Process PID={} runs in 32 bit mode: its syscalls are not traced ]",
                ev.pid
            );
        }
    }

    /// An exec into a 32-bit program returns in compat mode, where no
    /// syscall event fires: the thread's exit in that mode says it
    /// succeeded (`= 0`, as strace shows it), at its enter's time.
    fn exec_into_compat(&mut self, tid: u32, out: &mut String) {
        let Some(enter) = self.pairer.pending_enter(tid) else {
            return;
        };
        let meta = metadata_now().0.syscall_nr_to_meta(enter.nr);
        if !meta.is_some_and(|m| matches!(m.short_name(), "execve" | "execveat")) {
            return;
        }
        let mut exit = enter.clone();
        exit.phase = Phase::Exit;
        exit.ret = 0;
        exit.nb_args = 0;
        exit.data = None;
        self.syscall(&exit, out);
    }

    /// The call a thread was in when it exited: unfinished.
    fn syscall_end_of(&mut self, ev: &Event, out: &mut String) {
        let mut done = std::mem::take(&mut self.done);
        self.pairer.push_into(ev.clone(), &mut done);
        for call in done.drain(..) {
            self.resolve_and_print(&call, out);
        }
        self.done = done;
        self.split.remove(&ev.tid);
    }
}
