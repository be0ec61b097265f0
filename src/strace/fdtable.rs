//! What a process's file descriptors and path arguments name: one table per
//! process (tgid) of its working directory and its fds, fed by its calls in
//! order. It gives each call its [`Resolved`] paths: the absolute path of
//! each path argument (against its dirfd or the cwd), what each fd argument
//! refers to, and what a returned fd refers to. `Call.path`, `Call.fd_paths`
//! and the command's `-y`/`-yy` all read it.
//!
//! The table starts from `/proc/PID/fd` and `/proc/PID/cwd` the first time
//! a live process is seen, then follows the calls that change fds (opens,
//! dup, close, fcntl, socket, chdir, execve's close-on-exec, fork's copy).
//! An fd it does not know is read from `/proc/PID/fd/N` while the process
//! lives (as strace does at print time); what can then be wrong: the fd was
//! reused after the call (the events are read a little after they happen),
//! or the process is gone, when it is unknown (None; the number alone under
//! -y). Symlinks in a newly opened path are resolved as the kernel resolved
//! them (realpath at decode time, while the file exists), so `3</usr/lib/..>`
//! reads as `/proc/PID/fd/3` would. Not modelled: clone(CLONE_FILES) without
//! CLONE_THREAD (the child gets a copy, not the shared table), a chroot.
use std::collections::{HashMap, HashSet, VecDeque};
use std::path::Path;

use super::call::{Call, Captured};
use super::fdcalls::{
    anon_name, is_dirfd_name, new_fd_cloexec, CLOSE_RANGE_CLOEXEC, F_DUPFD, F_DUPFD_CLOEXEC,
    F_SETFD, O_CLOEXEC,
};
pub use super::fdcalls::{is_fd_name, returns_fd, TRACKED};
use super::quote::{push_fd_path, HexStyle};
use super::structs;
use crate::metadata::{arg_name, arg_type};

/// strace's --decode-fds set, as bits: what `-y` (PATH) and `-yy` (ALL)
/// show of an fd.
pub mod decode_fd {
    /// Its path: `3</etc/passwd>`.
    pub const PATH: u8 = 1;
    /// A socket's protocol and endpoints: `3<TCP:[1.2.3.4:5->6.7.8.9:10]>`.
    pub const SOCKET: u8 = 2;
    /// A device's numbers: `3</dev/null<char 1:3>>`.
    pub const DEV: u8 = 4;
    /// The process a pidfd refers to: `3<pid:42>`.
    pub const PIDFD: u8 = 8;
    pub const ALL: u8 = PATH | SOCKET | DEV | PIDFD;
}

/// What one fd refers to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fd {
    /// As `readlink /proc/PID/fd/N` (strace -y): `/etc/passwd`,
    /// `socket:[1234]`, `pipe:[99]`, `anon_inode:[eventfd]`.
    pub path: String,
    /// strace -yy's longer form: a socket's `TCP:[127.0.0.1:1->127.0.0.1:2]`,
    /// `UNIX-STREAM:[1234]`, a device's `/dev/null<char 1:3>`, a pidfd's
    /// `pid:42` (each only when its kind is in the table's set).
    pub detail: Option<String>,
    cloexec: bool,
    /// The file was unlinked: `path` ends in the kernel's ` (deleted)`,
    /// which strace's getfdpath takes off and printfd writes after the `>`.
    deleted: bool,
}

/// What the kernel appends to the link of an unlinked file.
const DELETED: &str = " (deleted)";

/// A pidfd's link in /proc.
const PIDFD: &str = "anon_inode:[pidfd]";

/// waitid's idtype for a pidfd (uapi linux/wait.h).
const P_PIDFD: u32 = 3;

/// The process pidfd `link` (`/proc/PID/fd/N`) refers to, from its fdinfo's
/// `Pid:` (strace's pidfd_get_pid); None once that process is reaped (-1).
fn pidfd_pid(link: &str) -> Option<i32> {
    let info = std::fs::read_to_string(link.replacen("/fd/", "/fdinfo/", 1)).ok()?;
    let pid: i32 = info
        .lines()
        .find_map(|l| l.strip_prefix("Pid:"))?
        .trim()
        .parse()
        .ok()?;
    (pid > 0).then_some(pid)
}

impl Fd {
    fn new(path: String, detail: Option<String>, cloexec: bool) -> Self {
        Fd {
            path,
            detail,
            cloexec,
            deleted: false,
        }
    }

    /// The path without the kernel's ` (deleted)`.
    pub fn name(&self) -> &str {
        match self.deleted {
            true => self.path.strip_suffix(DELETED).unwrap_or(&self.path),
            false => &self.path,
        }
    }

    /// What -y (or -yy, when `detail` was read) appends to the fd's
    /// number, as strace's printfd: `</etc/passwd>`, the path escaped;
    /// `</memfd:x>(deleted)`; -yy's `<TCP:[...]>` as it is.
    pub fn push_shown(&self, out: &mut impl std::fmt::Write, hex: HexStyle) {
        let _ = out.write_char('<');
        match &self.detail {
            Some(detail) => {
                let _ = out.write_str(detail);
            }
            None => push_fd_path(out, self.name().as_bytes(), hex),
        }
        let _ = out.write_char('>');
        if self.deleted && self.detail.is_none() {
            let _ = out.write_str("(deleted)");
        }
    }

    /// The file was unlinked: its link in /proc now says so.
    fn unlinked(&mut self) {
        if !self.deleted {
            self.path.push_str(DELETED);
            self.deleted = true;
        }
    }
}

/// One call's paths, by argument index (the syscall's metadata order).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Resolved {
    /// Each fd argument whose target is known, before the call (close(3)'s
    /// is the file it closed). A dirfd of AT_FDCWD is the cwd.
    pub fds: Vec<(usize, Fd)>,
    /// Each path argument, absolute, `.` and `..` folded lexically (the
    /// name the call used; symlinks in it are not followed).
    pub paths: Vec<(usize, String)>,
    /// What the fd the call returned refers to.
    pub ret: Option<Fd>,
    /// The two fds pipe and socketpair made, in their array argument: its
    /// index, their numbers and what each refers to.
    pub pair: Option<(usize, [i32; 2], [Option<Fd>; 2])>,
    /// The fds poll and select wait on (in their pollfd array and fd
    /// sets), and those SCM_RIGHTS passes, whose target is known, as
    /// strace's -y shows them there.
    pub waited: Vec<(i32, Fd)>,
    /// -Y: each argument holding a process or thread id whose command name
    /// is known, with that name (`pidcalls::comm_text`).
    pub pids: Vec<(usize, String)>,
    /// -Y: the command name of the process or thread the call returned.
    pub ret_comm: Option<String>,
    /// Made for -Y's names alone, without -y's table: no fds nor paths.
    pub names_only: bool,
}

impl Resolved {
    /// For -Y's names alone.
    pub fn names_only() -> Self {
        Resolved {
            names_only: true,
            ..Resolved::default()
        }
    }

    /// strace's --decode-fds `set` without `path`: only the fds of a kind in
    /// the set show something (its longer form; a socket's or a pidfd's
    /// path when that could not be read, as strace's printsocket and
    /// printpidfd); the others show their number alone.
    pub fn without_paths(&mut self, set: u8) {
        let shown = |f: &Fd| {
            f.detail.is_some()
                || set & decode_fd::SOCKET != 0 && f.path.starts_with("socket:[")
                || set & decode_fd::PIDFD != 0 && f.path == PIDFD
        };
        self.fds.retain(|(_, f)| shown(f));
        self.waited.retain(|(_, f)| shown(f));
        self.ret = self.ret.take().filter(shown);
        if let Some((_, _, known)) = &mut self.pair {
            for fd in known.iter_mut() {
                *fd = fd.take().filter(shown);
            }
        }
    }

    pub fn fd(&self, index: usize) -> Option<&Fd> {
        self.fds.iter().find(|(i, _)| *i == index).map(|(_, f)| f)
    }
}

#[derive(Clone, Debug, Default)]
struct Files {
    cwd: Option<String>,
    /// The cwd was removed: /proc's link, which strace shows for
    /// AT_FDCWD, ends in ` (deleted)`.
    cwd_deleted: bool,
    /// None: open, but what it refers to could not be known.
    fds: HashMap<i32, Option<Fd>>,
}

/// The fd tables of the traced processes.
#[derive(Debug)]
pub struct FdTable {
    procs: HashMap<u32, Files>,
    /// The processes run now: /proc may be read (not for a recording).
    live: bool,
    /// -yy: read socket endpoints.
    endpoints: bool,
    /// What else -yy reads: `decode_fd::DEV`, `decode_fd::PIDFD`.
    details: u8,
    /// The calls fed include every one of [`TRACKED`]: an fd the table
    /// does not have is not open (or unknown), and /proc, read later than
    /// the call, is not asked.
    complete: bool,
    /// fd or path arguments whose target could not be known.
    pub unknown: u64,
    /// -yy: the sockets (by inode) whose endpoints could not be read after
    /// a call set them (their fd closed, or their process gone, before the
    /// call was printed): shown as `TCP:[INODE]`.
    /// (A lock, never contended: noted where the table is only looked at.)
    pub unread_sockets: std::sync::Mutex<HashSet<u64>>,
    /// -yy: the unix sockets (by inode) a traced connect left without a
    /// peer (a stream's has no inode until it is accepted): the only
    /// clients whose text an accept changes, so that accepting from
    /// untraced clients walks no fds. None once more than
    /// [`UNPEERED_MAX`] were noted (clients of untraced servers are never
    /// accepted here): then every accept walks them.
    unix_unpeered: Option<HashSet<u64>>,
    /// The files the last SCM_RIGHTS messages sent passed (at most
    /// [`PASSED_MAX`]), to name a receiver's fd that /proc no longer does.
    passed: VecDeque<Fd>,
}

/// Bounds [`FdTable::passed`]: a receiver whose fds were sent more than
/// this many passed fds ago shows them by number alone.
const PASSED_MAX: usize = 64;

/// Bounds [`FdTable::unix_unpeered`] (1 MiB or so).
const UNPEERED_MAX: usize = 65_536;

impl FdTable {
    /// `live`: the traced processes run now, so `/proc` may be read;
    /// `details`: what of strace --decode-fds's set beyond the path it
    /// reads (`decode_fd::SOCKET`, `DEV`, `PIDFD`; -yy's are all three).
    pub fn new(live: bool, details: u8) -> Self {
        FdTable {
            procs: HashMap::new(),
            live,
            endpoints: details & decode_fd::SOCKET != 0,
            details,
            complete: false,
            unknown: 0,
            unread_sockets: Default::default(),
            unix_unpeered: Some(HashSet::new()),
            passed: VecDeque::new(),
        }
    }

    /// The calls fed will include all of [`TRACKED`] (see `complete`).
    pub fn set_complete(&mut self, complete: bool) {
        self.complete = complete;
    }

    /// Reads process `pid`'s table from /proc (its cwd and open fds), as
    /// at attach; nothing for a process that is gone.
    pub fn seed(&mut self, pid: u32) {
        let files = self.read_proc(pid);
        self.note_unpeered_in(&files);
        self.procs.insert(pid, files);
    }

    /// -yy: a unix socket found open without a peer may be a client whose
    /// connect came before the table knew its process, and whose accept
    /// comes after (`UNIX-STREAM`; a seqpacket one is `UNIX`, as a
    /// datagram one, which never is accepted).
    fn note_unpeered_in(&mut self, files: &Files) {
        for f in files.fds.values().flatten() {
            let Some(detail) = f.detail.as_deref() else {
                continue;
            };
            let unix = detail.starts_with("UNIX-STREAM:[") || detail.starts_with("UNIX:[");
            let inode = f
                .path
                .strip_prefix("socket:[")
                .and_then(|p| p.strip_suffix(']'));
            if let (true, false, Some(Ok(inode))) =
                (unix, detail.contains("->"), inode.map(str::parse))
            {
                self.note_unpeered(inode);
            }
        }
    }

    fn read_proc(&self, pid: u32) -> Files {
        let mut files = Files::default();
        if !self.live {
            return files;
        }
        files.cwd = readlink(&format!("/proc/{pid}/cwd"));
        if let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/fd")) {
            for entry in dir.flatten() {
                let Some(fd) = entry.file_name().to_str().and_then(|s| s.parse().ok()) else {
                    continue;
                };
                let cloexec = fd_cloexec(pid, fd);
                files.fds.insert(fd, self.proc_fd(pid, fd, cloexec));
            }
        }
        files
    }

    /// What `/proc/PID/fd/N` says now.
    fn proc_fd(&self, pid: u32, fd: i32, cloexec: bool) -> Option<Fd> {
        if !self.live || fd < 0 {
            return None;
        }
        let link = format!("/proc/{pid}/fd/{fd}");
        let path = readlink(&link)?;
        let detail = self.detail(pid, &link, &path);
        let deleted = unlinked(&link, &path);
        Some(Fd {
            deleted,
            ..Fd::new(path, detail, cloexec)
        })
    }

    /// -yy's longer form of what `link` (`/proc/PID/fd/N`) names.
    fn detail(&self, pid: u32, link: &str, path: &str) -> Option<String> {
        if !self.live {
            None
        } else if path.starts_with("socket:[") {
            self.endpoints
                .then(|| super::sockets::describe(pid, link, path))
                .flatten()
        } else if path.starts_with('/') {
            // Any path the fd names (a node tar made, a symlink to one),
            // stat'ed as strace's printdev does; not only /dev's.
            (self.details & decode_fd::DEV != 0)
                .then(|| super::sockets::device(path))
                .flatten()
        } else if path == PIDFD {
            (self.details & decode_fd::PIDFD != 0)
                .then(|| pidfd_pid(link))
                .flatten()
                .map(|pid| format!("pid:{pid}"))
        } else {
            None
        }
    }

    /// A process's table; one first seen starts as a copy of its parent's
    /// (a child's first event is its fork returning, before the parent
    /// moved on as far as the table knows), else from /proc. A child
    /// whose parent the printer found in the trace has its copy already
    /// ([`fork_child`](Self::fork_child)); this asks /proc for the others,
    /// which is empty once the child is gone.
    fn files(&mut self, pid: u32) -> &mut Files {
        if !self.procs.contains_key(&pid) {
            let parent = self
                .live
                .then(|| parent_of(pid))
                .flatten()
                .and_then(|ppid| self.procs.get(&ppid));
            let files = match parent {
                Some(p) => p.clone(),
                None => {
                    let files = self.read_proc(pid);
                    self.note_unpeered_in(&files);
                    files
                }
            };
            self.procs.insert(pid, files);
        }
        self.procs.get_mut(&pid).expect("inserted above")
    }

    /// Whether the table has process `pid`'s fds.
    pub fn knows(&self, pid: u32) -> bool {
        self.procs.contains_key(&pid)
    }

    /// Whether the table has fd `fd` of process `pid` (not asking /proc).
    fn knows_fd(&self, pid: u32, fd: i32) -> bool {
        self.procs
            .get(&pid)
            .is_some_and(|f| f.fds.contains_key(&fd))
    }

    /// Process `child` was forked by `parent`, which is still in its fork
    /// call: its table starts as a copy of the parent's now, whatever
    /// /proc says when its calls are printed (the child may be gone from
    /// there by then). Nothing for a child the table knows already.
    pub fn fork_child(&mut self, parent: u32, child: u32) {
        if !self.procs.contains_key(&child) {
            let copy = self.files(parent).clone();
            self.procs.insert(child, copy);
        }
    }

    /// What fd `fd` of `pid` refers to now: the table's, else (unless the
    /// table is complete) /proc's.
    pub fn lookup(&mut self, pid: u32, fd: i32) -> Option<Fd> {
        let complete = self.complete;
        match self.files(pid).fds.get(&fd) {
            Some(known) => known.clone(),
            None if complete => None,
            None => self.proc_fd(pid, fd, false),
        }
    }

    fn cwd(&mut self, pid: u32) -> Option<String> {
        self.files(pid).cwd.clone()
    }

    /// The directory a path argument is relative to: the cwd for AT_FDCWD
    /// or no dirfd, else the dirfd's path.
    fn base(&mut self, pid: u32, dirfd: Option<i32>) -> Option<String> {
        match dirfd {
            None | Some(libc::AT_FDCWD) => self.cwd(pid),
            Some(fd) => self.lookup(pid, fd).map(|f| f.name().to_owned()),
        }
    }

    /// What the fds and paths of a call not yet returned refer to, for the
    /// first part of its line: nothing is applied, and nothing counted as
    /// unknown (its whole line, at its exit, is [`observe`](Self::observe)d).
    pub fn resolve_enter(&mut self, call: &Call) -> Resolved {
        if call.exit.is_some() || call.ret().is_some() {
            return Resolved::default();
        }
        let unknown = self.unknown;
        let out = self.observe(call);
        self.unknown = unknown;
        out
    }

    /// strace's -P: whether a call entering now touches one of `paths`:
    /// an fd argument that refers to one (AT_FDCWD refers to none), or a
    /// path argument that is one, as the call wrote it (strace compares
    /// the string, not the file it names).
    pub fn touches(&mut self, call: &Call, paths: &[String]) -> bool {
        let resolved = self.resolve_enter(call);
        let raw = call.raw_args();
        let by_fd = resolved.fds.iter().any(|(i, fd)| {
            raw.get(*i).map(|&r| r as u32 as i32) != Some(libc::AT_FDCWD)
                && paths.iter().any(|p| p == fd.name())
        });
        if by_fd {
            return true;
        }
        let meta = call.meta();
        let captures = call.captures();
        if let Some(pid) = call.enter.as_ref().map(|e| e.pid) {
            for fd in waited_fds(call) {
                if self
                    .lookup(pid, fd)
                    .is_some_and(|f| paths.iter().any(|p| p == f.name()))
                {
                    return true;
                }
            }
        }
        resolved.paths.iter().any(|(i, _)| {
            let Some(Captured::Bytes(bytes)) = captures.get(&arg_name(meta, *i)) else {
                return false;
            };
            let written = until_nul(bytes);
            paths.iter().any(|p| p.as_bytes() == written)
        })
    }

    /// The call's paths (before its effect), then its effect on the table.
    pub fn observe(&mut self, call: &Call) -> Resolved {
        let mut out = Resolved::default();
        let Some(enter) = call.enter.as_ref() else {
            return out;
        };
        let pid = enter.pid;
        let meta = call.meta();
        let name = call.name();
        let raw = call.raw_args();
        let int = |i: usize| raw.get(i).map_or(0, |&r| r as u32 as i32);
        let captures = call.captures();
        let mut dirfd: Option<i32> = None;
        for i in 0..raw.len() {
            let arg = arg_name(meta, i);
            // pipe's `fildes` is its int[2], dup's an fd; waitid's id is
            // one under P_PIDFD; close_range's first fd bounds a range,
            // which strace prints as a number.
            let pidfd_id = i == 1 && name == "waitid" && int(0) as u32 == P_PIDFD;
            let fd_arg =
                is_fd_name(&arg) && !arg_type(meta, i).contains('*') && name != "close_range";
            if pidfd_id || fd_arg {
                let fd = int(i);
                if is_dirfd_name(&arg) {
                    dirfd = Some(fd);
                }
                let found = if fd == libc::AT_FDCWD && is_dirfd_name(&arg) {
                    let gone = self.files(pid).cwd_deleted;
                    self.cwd(pid)
                        .map(|path| Fd::new(if gone { path + DELETED } else { path }, None, false))
                } else if fd >= 0 {
                    self.lookup(pid, fd)
                } else {
                    continue;
                };
                match found {
                    Some(f) => out.fds.push((i, f)),
                    // EBADF: no fd to know, which is no loss.
                    None if call.errno() == Some(libc::EBADF) => {}
                    // dup2's target need not be open before.
                    None if arg == "newfd" && name.starts_with("dup") => {}
                    None => self.unknown += 1,
                }
                continue;
            }
            // symlink's target is text, not a path it touches.
            if !super::decoders::is_path_name(&arg)
                || arg == "oldname" && name.starts_with("symlink")
            {
                continue;
            }
            let Some(Captured::Bytes(bytes)) = captures.get(&arg) else {
                continue;
            };
            if captures.is_truncated(&arg) {
                // Cut by string_size: not the path the call used.
                self.unknown += 1;
                continue;
            }
            let rel = String::from_utf8_lossy(until_nul(bytes)).into_owned();
            match join(self.base(pid, dirfd).as_deref(), &rel) {
                Some(path) => out.paths.push((i, path)),
                None => self.unknown += 1,
            }
            // The next path pairs with its own dirfd, if any.
            dirfd = None;
        }
        // recvmsg's fds are new: known after its effect, below.
        if name != "recvmsg" {
            self.resolve_waited(call, pid, &mut out);
        }
        let Some(ret) = call.ret().filter(|&r| r >= 0) else {
            if name == "exit_group" {
                self.procs.remove(&pid);
            }
            // A non-blocking connect that is under way has its endpoints
            // already (the local port is taken, the peer set): strace -yy
            // shows them from the next call on (curl's, node's, asyncio's
            // connects). The programs read them at its exit too.
            if name == "connect" && self.endpoints && call.errno() == Some(libc::EINPROGRESS) {
                self.socket_ends_changed(pid, raw.first().map_or(-1, |&r| r as u32 as i32), call);
            }
            return out;
        };
        self.apply(call, &name, pid, ret, &out);
        if name == "recvmsg" {
            self.resolve_waited(call, pid, &mut out);
        }
        let dups = matches!(&*name, "fcntl" | "fcntl64")
            && matches!(
                raw.get(1).map(|&c| c as u32 as i32 as i64),
                Some(F_DUPFD | F_DUPFD_CLOEXEC)
            );
        if let Some((i, pair)) = made_pair(call, &name) {
            let fds = pair.map(|fd| self.files(pid).fds.get(&fd).cloned().flatten());
            self.unknown += fds.iter().filter(|f| f.is_none()).count() as u64;
            out.pair = Some((i, pair, fds));
        }
        if returns_fd(&name) || dups {
            out.ret = self.files(pid).fds.get(&(ret as i32)).cloned().flatten();
            if out.ret.is_none() {
                self.unknown += 1;
            }
        }
        out
    }

    /// `out.waited`: what the fds poll and select wait on, and those
    /// SCM_RIGHTS passes, refer to.
    fn resolve_waited(&mut self, call: &Call, pid: u32, out: &mut Resolved) {
        for fd in waited_fds(call) {
            if !out.waited.iter().any(|(n, _)| *n == fd) {
                if let Some(f) = self.lookup(pid, fd) {
                    out.waited.push((fd, f));
                }
            }
        }
    }

    /// The effect of a call that succeeded.
    fn apply(&mut self, call: &Call, name: &str, pid: u32, ret: i64, res: &Resolved) {
        let raw = call.raw_args();
        let arg = |i: usize| raw.get(i).copied().unwrap_or(0);
        let fd_arg = |i: usize| arg(i) as u32 as i32;
        let newfd = ret as i32;
        match name {
            "open" | "openat" | "creat" | "openat2" => {
                let base = usize::from(name.starts_with("openat"));
                let flags = match name {
                    "creat" => 0,
                    // openat2's flags are the first field of its struct open_how.
                    "openat2" => match call.captures().get("how") {
                        Some(Captured::Bytes(how)) => structs::read::<u64>(how).unwrap_or(0),
                        _ => 0,
                    },
                    _ => arg(base + 1),
                };
                let cloexec = flags & O_CLOEXEC != 0;
                let path = res.paths.iter().find(|(i, _)| *i == base);
                // Its symlinks to /proc/self followed, as the process.
                let resolved = path.map(|(_, p)| in_process(p, pid, call.first().tid));
                let reopened = resolved
                    .as_deref()
                    .and_then(|p| own_fd(p, pid))
                    .filter(|&n| self.knows_fd(pid, n));
                let entry = match path {
                    // O_TMPFILE opened a new nameless file in the directory
                    // named: /proc shows it as `DIR/#INODE (deleted)`, which
                    // only /proc knows (its inode), and only while the fd is
                    // that file.
                    Some((_, p)) if flags & O_TMPFILE == O_TMPFILE => {
                        let dir = canonical(p, pid, call.first().tid);
                        let prefix = format!("{}/#", dir.trim_end_matches('/'));
                        self.proc_fd(pid, newfd, cloexec)
                            .filter(|f| f.deleted && f.path.starts_with(&prefix))
                    }
                    // Its own fd again (/dev/stdin, /proc/self/fd/0): the
                    // same file, as the table knows it (the process may be
                    // gone from /proc when the line prints).
                    Some(_) if reopened.is_some() => reopened
                        .and_then(|n| self.lookup(pid, n))
                        .map(|same| Fd { cloexec, ..same }),
                    // As the kernel resolved it: through symlinks.
                    Some(_) => {
                        let path = canonicalized(resolved.unwrap_or_default());
                        let link = format!("/proc/{pid}/fd/{newfd}");
                        let detail = self.detail(pid, &link, &path);
                        Some(Fd::new(path, detail, cloexec))
                    }
                    // /proc, read after the call, may name a later file.
                    None if self.complete => None,
                    None => self.proc_fd(pid, newfd, cloexec),
                };
                self.set(pid, newfd, entry);
            }
            // A message queue's fd is named as its mqueue file, `/NAME`
            // (glibc passes the name without its `/`): known from the
            // call, where /proc, read later, may no longer have the fd.
            "mq_open" => {
                let entry = match call.captures().get("u_name") {
                    Some(Captured::Bytes(name)) if !name.contains(&b'/') => {
                        let name = String::from_utf8_lossy(name);
                        let cloexec = arg(1) & O_CLOEXEC != 0;
                        Some(Fd::new(format!("/{name}"), None, cloexec))
                    }
                    _ => self.proc_fd(pid, newfd, arg(1) & O_CLOEXEC != 0),
                };
                self.set(pid, newfd, entry);
            }
            "close" => {
                self.files(pid).fds.remove(&fd_arg(0));
            }
            // What /proc, which strace reads when it prints, says after:
            // an open file unlinked is `(deleted)`, one renamed has its
            // new name.
            "unlink" | "unlinkat" | "rmdir" => {
                if let Some((_, p)) = res.paths.first() {
                    let gone = link_name(p);
                    self.each_fd(|f| {
                        if f.path == gone {
                            f.unlinked();
                        }
                    });
                    if name != "unlink" {
                        // A removed directory that was a cwd.
                        for files in self.procs.values_mut() {
                            if files.cwd.as_deref() == Some(gone.as_str()) {
                                files.cwd_deleted = true;
                            }
                        }
                    }
                }
            }
            "rename" | "renameat" | "renameat2" => {
                if let [(_, from), (_, to)] = &res.paths[..] {
                    let (from, to) = (link_name(from), link_name(to));
                    let exchange = name == "renameat2" && arg(4) & RENAME_EXCHANGE != 0;
                    self.each_fd(|f| {
                        if f.deleted {
                            // Its name is gone; a new file's is not its.
                        } else if let Some(rest) = moved(&f.path, &from) {
                            f.path = format!("{to}{rest}");
                        } else if let Some(rest) = moved(&f.path, &to) {
                            if exchange {
                                f.path = format!("{from}{rest}");
                            } else if rest.is_empty() {
                                // Replaced by the file renamed over it.
                                f.unlinked();
                            }
                        }
                    });
                }
            }
            "close_range" => {
                let (first, last) = (arg(0) as u32, arg(1) as u32);
                let files = self.files(pid);
                let cloexec = arg(2) & CLOSE_RANGE_CLOEXEC != 0;
                files
                    .fds
                    .retain(|&fd, _| (fd as u32) < first || fd as u32 > last || cloexec);
                if cloexec {
                    for (&fd, f) in files.fds.iter_mut() {
                        if let (true, Some(f)) = (fd as u32 >= first && fd as u32 <= last, f) {
                            f.cloexec = true;
                        }
                    }
                }
            }
            "dup" | "dup2" | "dup3" => {
                let cloexec = name == "dup3" && arg(2) & O_CLOEXEC != 0;
                let entry = self.lookup(pid, fd_arg(0)).map(|f| Fd { cloexec, ..f });
                self.set(pid, newfd, entry);
            }
            "fcntl" | "fcntl64" => {
                let cmd = arg(1) as u32 as i32 as i64;
                if cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC {
                    let cloexec = cmd == F_DUPFD_CLOEXEC;
                    let entry = self.lookup(pid, fd_arg(0)).map(|f| Fd { cloexec, ..f });
                    self.set(pid, newfd, entry);
                } else if cmd == F_SETFD {
                    if let Some(Some(f)) = self.files(pid).fds.get_mut(&fd_arg(0)) {
                        f.cloexec = arg(2) & 1 != 0;
                    }
                }
            }
            "ioctl" => {
                let request = arg(1) as u32;
                if request == TIOCGPTPEER {
                    // The pty's other end; strace 6.1 does not show it in
                    // the result, only where it is used after.
                    let cloexec = arg(2) & O_CLOEXEC != 0;
                    let entry = self.new_fd(call, name, pid, newfd, cloexec, None);
                    self.set(pid, newfd, entry);
                } else if request == FIOCLEX || request == FIONCLEX {
                    if let Some(Some(f)) = self.files(pid).fds.get_mut(&fd_arg(0)) {
                        f.cloexec = request == FIOCLEX;
                    }
                }
            }
            "chdir" => {
                if let Some((_, p)) = res.paths.first() {
                    let cwd = canonical(p, pid, call.first().tid);
                    let files = self.files(pid);
                    files.cwd = Some(cwd);
                    files.cwd_deleted = false;
                }
            }
            "fchdir" => {
                let dir = self.lookup(pid, fd_arg(0));
                let files = self.files(pid);
                files.cwd_deleted = dir.as_ref().is_some_and(|f| f.deleted);
                files.cwd = dir.map(|f| f.name().to_owned());
            }
            "execve" | "execveat" => {
                self.files(pid)
                    .fds
                    .retain(|_, f| !f.as_ref().is_some_and(|f| f.cloexec));
            }
            "clone" | "clone3" | "fork" | "vfork" if ret > 0 => {
                // A thread shares its process's table (events carry the
                // tgid); a new process starts with a copy. A child seen
                // before this exit already read its own from /proc.
                let child = ret as u32;
                if !self.procs.contains_key(&child) {
                    let copy = self.files(pid).clone();
                    self.procs.insert(child, copy);
                }
            }
            // -yy: a pidfd shows its process until that is reaped (its
            // fdinfo then says -1, and strace shows the path).
            "wait4" | "waitpid" if self.details & decode_fd::PIDFD != 0 && ret > 0 => {
                // A stop or continue reported (their flags) reaps nothing.
                let reports = (libc::WUNTRACED | libc::WCONTINUED) as u64;
                if arg(2) & reports == 0 {
                    self.pidfd_reaped(&format!("pid:{ret}"));
                }
            }
            "waitid" if self.details & decode_fd::PIDFD != 0 && arg(0) as u32 == P_PIDFD => {
                let options = arg(3) as u32 as i32;
                let reaps = options & libc::WEXITED != 0
                    && options
                        & (libc::WNOHANG | libc::WNOWAIT | libc::WSTOPPED | libc::WCONTINUED)
                        == 0;
                let gone = self.lookup(pid, fd_arg(1)).and_then(|f| f.detail);
                if let Some(gone) = gone.filter(|d| reaps && d.starts_with("pid:")) {
                    self.pidfd_reaped(&gone);
                }
            }
            // The ends the programs read at the call's exit, as they were
            // then (the socket may be closed, its process gone, when the
            // call is printed); /proc for a socket of another family.
            "connect" | "bind" | "listen" if self.endpoints => {
                self.socket_ends_changed(pid, fd_arg(0), call)
            }
            // The fds an SCM_RIGHTS message passes, for their receiver.
            // -yy: a socket sent on before it was bound was bound by the
            // send (a netlink socket's port id, a UDP socket's port): read
            // again while it still shows as unbound (its inode alone), as
            // strace's -yy, which asks each time, shows it after.
            "sendto" | "sendmsg" | "sendmmsg" if ret >= 0 => {
                if name == "sendmsg" {
                    self.note_passed(pid, call);
                }
                // A unix stream socket that sends is connected, its ends
                // read at its connect: /proc, which never has its peer,
                // would be read again for each send of a client whose
                // server is not traced (dbus's, nscd's).
                let unbound = self.endpoints
                    && match self.files(pid).fds.get(&fd_arg(0)) {
                        Some(Some(Fd {
                            path,
                            detail: Some(detail),
                            ..
                        })) => {
                            !detail.starts_with("UNIX-STREAM:")
                                && path
                                    .strip_prefix("socket:")
                                    .is_some_and(|inode| detail.ends_with(&format!(":{inode}")))
                        }
                        _ => false,
                    };
                if unbound {
                    self.reread_socket(pid, fd_arg(0));
                }
            }
            // The fds SCM_RIGHTS brought, as /proc names them now: by then
            // the process may have closed one and opened another file on
            // its number. The programs read the inodes of the first ones
            // at the exit: /proc's answer counts only for the same inode.
            "recvmsg" => {
                const MSG_CMSG_CLOEXEC: u64 = 0x4000_0000;
                let cloexec = arg(2) & MSG_CMSG_CLOEXEC != 0;
                let inodes = call.new_fd_inodes();
                for (k, fd) in waited_fds(call).into_iter().enumerate() {
                    let entry = match inodes.get(k) {
                        None => self.proc_fd(pid, fd, cloexec),
                        Some(&inode) => self
                            .proc_fd(pid, fd, cloexec)
                            .filter(|_| inode_of(&format!("/proc/{pid}/fd/{fd}")) == Some(inode))
                            .or_else(|| self.passed_with(inode, cloexec)),
                    };
                    self.set(pid, fd, entry);
                }
            }
            "pipe" | "pipe2" | "socketpair" => {
                let cloexec = new_fd_cloexec(name, raw);
                let inodes = call.new_fd_inodes();
                match made_pair(call, name) {
                    Some((_, fds)) => {
                        for (k, fd) in fds.into_iter().enumerate() {
                            let mut entry =
                                self.new_fd(call, name, pid, fd, cloexec, inodes.get(k).copied());
                            // -yy: a socketpair's ends are each other's peer,
                            // as strace shows them (`UNIX-STREAM:[1->2]`).
                            if let (Some(e), Some(proto), &[a, b]) = (
                                entry
                                    .as_mut()
                                    .filter(|_| self.endpoints && name == "socketpair"),
                                super::sockets::protocol_of(arg(0), arg(1), arg(2)),
                                &inodes[..],
                            ) {
                                let (me, peer) = if k == 0 { (a, b) } else { (b, a) };
                                e.detail = Some(format!("{proto}:[{me}->{peer}]"));
                            }
                            self.set(pid, fd, entry);
                        }
                    }
                    // The array was not captured; the kernel takes the
                    // lowest free numbers, which a complete table knows.
                    _ if self.complete => {
                        for k in 0..2 {
                            let fd = (0..)
                                .find(|n| !self.files(pid).fds.contains_key(n))
                                .unwrap_or(0);
                            let entry =
                                self.new_fd(call, name, pid, fd, cloexec, inodes.get(k).copied());
                            self.set(pid, fd, entry);
                        }
                    }
                    _ => {}
                }
            }
            _ if returns_fd(name) => {
                let cloexec = new_fd_cloexec(name, raw);
                let inode = call.new_fd_inodes().first().copied();
                let mut entry = self.new_fd(call, name, pid, newfd, cloexec, inode);
                if let Some(e) = entry.as_mut().filter(|_| name.starts_with("accept")) {
                    // The ends the programs read at the exit; without
                    // them (a capture lost), what new_fd found: /proc's
                    // text, or the listening socket's protocol alone.
                    let ends = call.socket_ends();
                    if let Some(client) = ends.and_then(super::sockets::unix_peer) {
                        // Only a table fed every connect knows them all.
                        let traced = match self.unix_unpeered.as_mut() {
                            Some(unpeered) if self.complete => unpeered.remove(&client),
                            _ => true,
                        };
                        if traced {
                            let accepted =
                                e.path.trim_start_matches("socket:[").trim_end_matches(']');
                            self.unix_peer_accepted(client, accepted);
                        }
                    }
                    if let Some(detail) = ends.and_then(|ends| ends_detail(e, ends)) {
                        // Known after all: not among those the command
                        // says it could not read.
                        if let Some(inode) = inode {
                            self.unread_sockets
                                .lock()
                                .unwrap_or_else(|e| e.into_inner())
                                .remove(&inode);
                        }
                        e.detail = Some(detail);
                    }
                }
                self.set(pid, newfd, entry);
            }
            _ => {}
        }
    }

    /// What a new fd of call `name` refers to. Its name when the call
    /// says it all (eventfd's `anon_inode:[eventfd]`), or with the inode
    /// number the programs read at its exit (`pipe:[1234]`); else /proc,
    /// read after the call, and only if it names that kind of file: the
    /// process may have closed the fd and reused the number since, or be
    /// gone.
    fn new_fd(
        &self,
        call: &Call,
        name: &str,
        pid: u32,
        fd: i32,
        cloexec: bool,
        inode: Option<u64>,
    ) -> Option<Fd> {
        let raw = call.raw_args();
        if let Some(path) = anon_name(name) {
            // The process pidfd_open was given (alive, or it fails): what
            // its fdinfo says at the call.
            let pid_arg = raw.first().map_or(0, |&p| p as u32 as i32);
            let detail = (path == PIDFD && self.details & decode_fd::PIDFD != 0 && pid_arg > 0)
                .then(|| format!("pid:{pid_arg}"));
            return Some(Fd::new(path.to_owned(), detail, cloexec));
        }
        let kind = match name {
            "socket" | "accept" | "accept4" | "socketpair" => "socket:[",
            "pipe" | "pipe2" => "pipe:[",
            "memfd_create" => "/memfd:",
            _ => "",
        };
        if let Some(inode) = inode.filter(|&i| i != 0 && kind.ends_with('[')) {
            let path = format!("{kind}{inode}]");
            let detail = match name {
                _ if !self.endpoints || kind != "socket:[" => None,
                // A new socket has no endpoints yet: its protocol is
                // socket()'s arguments' (socketpair's: the caller adds
                // each end's peer).
                "socket" | "socketpair" => {
                    let at = |i: usize| raw.get(i).copied().unwrap_or(0);
                    super::sockets::protocol_of(at(0), at(1), at(2))
                }
                .map(|proto| format!("{proto}:[{inode}]")),
                // An accepted one's: with the ends the programs read at
                // the exit, only its protocol, the listening socket's;
                // without them, /proc's text, while its fd there is still
                // this socket. Each way falls back on the other.
                _ => {
                    let listening = || {
                        let listening = raw.first().map(|&l| l as u32 as i32)?;
                        let known = self.procs.get(&pid)?.fds.get(&listening)?.as_ref()?;
                        let (proto, _) = known.detail.as_deref()?.split_once(":[")?;
                        Some(format!("{proto}:[{inode}]"))
                    };
                    let proc = || match self.proc_fd(pid, fd, cloexec).filter(|f| f.path == path) {
                        Some(f) => f.detail,
                        None => {
                            if self.live {
                                self.note_unread(inode);
                            }
                            None
                        }
                    };
                    if call.socket_ends().is_some() {
                        listening().or_else(proc)
                    } else {
                        proc().or_else(listening)
                    }
                }
            };
            return Some(Fd::new(path, detail, cloexec));
        }
        self.proc_fd(pid, fd, cloexec)
            .filter(|f| f.path.starts_with(kind))
    }

    fn note_unread(&self, inode: u64) {
        let mut unread = self
            .unread_sockets
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        unread.insert(inode);
    }

    /// -yy: `call` changed socket `fd`'s ends: its text from the ends the
    /// call read at its exit (`TCP:[127.0.0.1:40000->127.0.0.1:8080]`),
    /// with the protocol the table has for it; else from /proc.
    fn socket_ends_changed(&mut self, pid: u32, fd: i32, call: &Call) {
        if let (Some(ends), Some(Some(known))) =
            (call.socket_ends(), self.files(pid).fds.get_mut(&fd))
        {
            if let Some(detail) = ends_detail(known, ends) {
                let unpeered = super::sockets::family(ends) == Some(libc::AF_UNIX)
                    && super::sockets::unix_peer(ends).is_none()
                    && call.name() == "connect";
                let inode = known
                    .path
                    .strip_prefix("socket:[")
                    .and_then(|p| p.strip_suffix(']'));
                known.detail = Some(detail);
                if let (true, Some(inode)) = (unpeered, inode.and_then(|i| i.parse().ok())) {
                    self.note_unpeered(inode);
                }
                return;
            }
        }
        self.reread_socket(pid, fd);
    }

    /// A sendmsg passed fds (SCM_RIGHTS): what they name, kept for their
    /// receiver, whose own fd /proc may no longer name when its recvmsg
    /// is printed.
    fn note_passed(&mut self, pid: u32, call: &Call) {
        for fd in waited_fds(call) {
            if let Some(entry) = self.lookup(pid, fd) {
                if self.passed.len() == PASSED_MAX {
                    self.passed.pop_front();
                }
                self.passed.push_back(entry);
            }
        }
    }

    /// The file of inode `inode` among those passed last: a pipe's or a
    /// socket's by the inode in its name, a path's if it still names that
    /// inode.
    fn passed_with(&self, inode: u64, cloexec: bool) -> Option<Fd> {
        let named = format!(":[{inode}]");
        self.passed
            .iter()
            .rev()
            .find(|f| {
                if f.path.starts_with('/') {
                    !f.deleted && inode_of(&f.path) == Some(inode)
                } else {
                    f.path.ends_with(&named)
                }
            })
            .map(|f| Fd {
                cloexec,
                ..f.clone()
            })
    }

    fn note_unpeered(&mut self, inode: u64) {
        if let Some(unpeered) = self.unix_unpeered.as_mut() {
            unpeered.insert(inode);
            if unpeered.len() > UNPEERED_MAX {
                self.unix_unpeered = None;
            }
        }
    }

    /// -yy: unix socket `client` was connected to `accepted`, which an
    /// accept took: the client's text gains its peer (`[1->2]`), which had
    /// no inode at the connect (sock_diag tells strace it from then on).
    fn unix_peer_accepted(&mut self, client: u64, accepted: &str) {
        let path = format!("socket:[{client}]");
        let bare = format!(":[{client}");
        self.each_fd(|f| {
            let Some(detail) = f.detail.as_mut().filter(|_| f.path == path) else {
                return;
            };
            // `UNIX-STREAM:[1]`, `UNIX-STREAM:[1,"/run/x"]`: the peer
            // goes after the inode.
            let at = detail.find(&bare).map(|at| at + bare.len());
            let next = at.and_then(|at| detail[at..].chars().next());
            if let (true, Some(at), Some(']' | ',')) = (detail.starts_with("UNIX"), at, next) {
                detail.insert_str(at, &format!("->{accepted}"));
            }
        });
    }

    /// A socket's endpoints changed: read them again for later calls.
    fn reread_socket(&mut self, pid: u32, fd: i32) {
        let known = self.files(pid).fds.get(&fd).cloned().flatten();
        // The process may have closed the fd and opened another socket on
        // its number since (the printer runs behind it): only the same
        // socket's endpoints are this one's.
        let entry = self
            .proc_fd(pid, fd, false)
            .filter(|e| known.as_ref().is_none_or(|k| k.path == e.path));
        if entry.is_none() && self.live {
            let inode = known.and_then(|k| {
                k.path
                    .strip_prefix("socket:[")?
                    .strip_suffix(']')?
                    .parse::<u64>()
                    .ok()
            });
            if let Some(inode) = inode {
                self.note_unread(inode);
            }
        }
        if let Some(mut e) = entry.filter(|e| e.path.starts_with("socket:[")) {
            if let Some(Some(old)) = self.files(pid).fds.get(&fd) {
                e.cloexec = old.cloexec;
            }
            self.set(pid, fd, Some(e));
        }
    }

    /// The process whose pidfds show `detail` (`pid:N`) was reaped.
    fn pidfd_reaped(&mut self, detail: &str) {
        self.each_fd(|f| {
            if f.path == PIDFD && f.detail.as_deref() == Some(detail) {
                f.detail = None;
            }
        });
    }

    /// Applies `change` to every known fd of every process.
    fn each_fd(&mut self, mut change: impl FnMut(&mut Fd)) {
        for files in self.procs.values_mut() {
            files.fds.values_mut().flatten().for_each(&mut change);
        }
    }

    /// fd `fd` of `pid` is now open on `entry` (None: unknown).
    fn set(&mut self, pid: u32, fd: i32, entry: Option<Fd>) {
        self.files(pid).fds.insert(fd, entry);
    }
}

/// -yy: socket `fd`'s text from the ends a call read at its exit
/// (`TCP:[127.0.0.1:40000->127.0.0.1:8080]`, `UNIX-STREAM:[1->2,"/run/x"]`),
/// with the protocol the table has for it; None when either is unknown.
fn ends_detail(fd: &Fd, ends: &[u8]) -> Option<String> {
    let inode = fd.path.strip_prefix("socket:[")?.strip_suffix(']')?;
    let (proto, _) = fd.detail.as_deref()?.split_once(":[")?;
    Some(format!(
        "{proto}:[{}]",
        super::sockets::ends_text(ends, inode)?
    ))
}

/// The inode number of the file `path` names now (a `/proc/PID/fd/N`
/// link: the file the fd refers to).
fn inode_of(path: &str) -> Option<u64> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| m.ino())
}

/// The fds poll and select wait on (not negative: poll skips those), as
/// strace's -P looks at them and its -y shows them; and those sendmsg and
/// recvmsg pass, which -y shows too.
fn waited_fds(call: &Call) -> Vec<i32> {
    let captures = call.captures();
    let fds: Vec<i32> = match &*call.name() {
        "poll" | "ppoll" => match captures.get("ufds") {
            Some(Captured::Bytes(bytes)) => structs::pollfd_fds(bytes),
            _ => Vec::new(),
        },
        // The fds SCM_RIGHTS passes: the sender's, and the receiver's new ones.
        "sendmsg" | "recvmsg" => match captures.get("msg") {
            Some(Captured::List(items)) => structs::scm_rights_fds(items),
            _ => Vec::new(),
        },
        "select" | "pselect6" => {
            let raw = call.raw_args();
            let n = u64::from(raw.first().map_or(0, |&r| r as u32).min(1 << 20));
            ["inp", "outp", "exp"]
                .iter()
                .filter_map(|set| match captures.get(set) {
                    Some(Captured::Bytes(bytes)) => Some(captures.before(set).unwrap_or(bytes)),
                    _ => captures.before(set),
                })
                .flat_map(|bytes| structs::fd_set_fds(bytes, n))
                .map(|fd| fd as i32)
                .collect()
        }
        _ => Vec::new(),
    };
    fds.into_iter().filter(|&fd| fd >= 0).collect()
}

/// The argument index and the two fds of a pipe or socketpair that
/// succeeded, from its captured array; None for other calls, or when the
/// array was not captured.
fn made_pair(call: &Call, name: &str) -> Option<(usize, [i32; 2])> {
    let (index, array) = match name {
        "pipe" | "pipe2" => (0, "fildes"),
        "socketpair" => (3, "usockvec"),
        _ => return None,
    };
    call.ret().filter(|&r| r == 0)?;
    let captures = call.captures();
    let Some(Captured::Bytes(b)) = captures.get(array) else {
        return None;
    };
    let fd = |at: usize| Some(i32::from_ne_bytes(b.get(at..at + 4)?.try_into().ok()?));
    Some((index, [fd(0)?, fd(4)?]))
}

/// Whether fd `fd` of `pid` is close-on-exec (/proc/PID/fdinfo's flags).
fn fd_cloexec(pid: u32, fd: i32) -> bool {
    let Ok(info) = std::fs::read_to_string(format!("/proc/{pid}/fdinfo/{fd}")) else {
        return false;
    };
    info.lines()
        .find_map(|l| l.strip_prefix("flags:"))
        .and_then(|f| u64::from_str_radix(f.trim(), 8).ok())
        .is_some_and(|f| f & O_CLOEXEC != 0)
}

/// The parent of a live process (/proc/PID/stat's fourth field).
fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name, in parentheses, may hold spaces.
    let rest = &stat[stat.rfind(')')? + 2..];
    rest.split(' ').nth(1)?.parse().ok()
}

/// The ioctls that make an fd (a pty master's peer) or set an fd's
/// close-on-exec flag (uapi asm-generic/ioctls.h).
const TIOCGPTPEER: u32 = 0x5441;
const FIOCLEX: u32 = 0x5451;
const FIONCLEX: u32 = 0x5450;

/// open's flag for a nameless file (it holds O_DIRECTORY's bit too).
const O_TMPFILE: u64 = libc::O_TMPFILE as u64;

/// renameat2's flag that swaps the two names.
const RENAME_EXCHANGE: u64 = 2;

/// What is left of `path` past `dir` when `path` is `dir` or under it.
fn moved<'p>(path: &'p str, dir: &str) -> Option<&'p str> {
    let rest = path.strip_prefix(dir)?;
    (rest.is_empty() || rest.starts_with('/')).then_some(rest)
}

/// The path an fd opened at `path` shows in /proc: its directory through
/// symlinks, its last part as it is (unlink and rename act on a link, not
/// what it points to).
fn link_name(path: &str) -> String {
    let p = Path::new(path);
    match (p.parent().map(std::fs::canonicalize), p.file_name()) {
        (Some(Ok(dir)), Some(name)) => dir.join(name).to_string_lossy().into_owned(),
        _ => path.to_owned(),
    }
}

/// Whether `path`, read from the `/proc/PID/fd/N` `link`, ends in the
/// kernel's mark of an unlinked file, as strace's get_proc_pid_fd_path
/// tells: no file of that name without it, or another file.
fn unlinked(link: &str, path: &str) -> bool {
    use std::os::unix::fs::MetadataExt;
    let Some(name) = path
        .strip_suffix(DELETED)
        .filter(|_| path.len() > DELETED.len() + 1)
    else {
        return false;
    };
    let Ok(target) = std::fs::metadata(link) else {
        return false;
    };
    match std::fs::symlink_metadata(name) {
        Ok(named) => named.ino() != target.ino() || named.dev() != target.dev(),
        Err(_) => true,
    }
}

fn readlink(path: &str) -> Option<String> {
    std::fs::read_link(path)
        .ok()
        .map(|p| p.to_string_lossy().into_owned())
}

fn until_nul(bytes: &[u8]) -> &[u8] {
    match bytes.iter().position(|&b| b == 0) {
        Some(end) => &bytes[..end],
        None => bytes,
    }
}

/// `path` through its symlinks, as process `pid` (thread `tid`) resolved
/// it when the kernel opened it: its /proc/self and /proc/thread-self are
/// its own, not systrace's, also where a symlink leads there
/// (`/dev/stdin` -> `/proc/self/fd/0`); itself when it is gone (or was
/// never there).
fn canonical(path: &str, pid: u32, tid: u32) -> String {
    canonicalized(in_process(path, pid, tid))
}

/// A path whose symlinks to /proc/self were followed (`in_process`)
/// through the rest of its symlinks; itself when it is gone.
fn canonicalized(path: String) -> String {
    match std::fs::canonicalize(&path) {
        Ok(p) => p.to_string_lossy().into_owned(),
        Err(_) => path,
    }
}

/// `path` with every symlink on its way that leads to /proc/self or
/// /proc/thread-self followed, and those made process `pid`'s; the rest
/// (other symlinks, /proc/PID's per-process links) is left for
/// canonicalize, whose answer is then the process's.
fn in_process(path: &str, pid: u32, tid: u32) -> String {
    let mut path = own_proc(path, pid, tid).unwrap_or_else(|| path.to_owned());
    // As the kernel's limit on the symlinks of one lookup (ELOOP).
    'lookup: for _ in 0..40 {
        if !path.starts_with('/') {
            break;
        }
        let mut prefix = String::new();
        let mut parts = path.split('/').filter(|p| !p.is_empty()).peekable();
        while let Some(part) = parts.next() {
            prefix.push('/');
            prefix.push_str(part);
            if per_process(&prefix) {
                break 'lookup;
            }
            let Ok(target) = std::fs::read_link(&prefix) else {
                continue; // not a symlink, or gone
            };
            let target = target.to_string_lossy();
            let parent = prefix.rsplit_once('/').map_or("/", |(dir, _)| dir);
            let Some(target) = join(Some(if parent.is_empty() { "/" } else { parent }), &target)
            else {
                break 'lookup;
            };
            let Some(own) = own_proc(&target, pid, tid) else {
                continue; // canonicalize follows it as the process would
            };
            let rest: Vec<&str> = parts.collect();
            path = if rest.is_empty() {
                own
            } else {
                format!("{own}/{}", rest.join("/"))
            };
            continue 'lookup;
        }
        break;
    }
    path
}

/// `/proc/PID` or below: links there (fd/N, cwd, exe) are that process's.
fn per_process(prefix: &str) -> bool {
    prefix.strip_prefix("/proc/").is_some_and(|rest| {
        rest.split('/')
            .next()
            .is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit()))
    })
}

/// N when `path` is process `pid`'s own fd N (`/proc/PID/fd/N`, or a
/// thread's `/proc/PID/task/TID/fd/N`: the fds are the process's).
fn own_fd(path: &str, pid: u32) -> Option<i32> {
    let rest = path.strip_prefix(&format!("/proc/{pid}/"))?;
    let rest = match rest.strip_prefix("task/") {
        Some(task) => task.split_once('/')?.1,
        None => rest,
    };
    rest.strip_prefix("fd/")?.parse().ok()
}

/// `/proc/self/x` as `/proc/PID/x`, `/proc/thread-self/x` as
/// `/proc/PID/task/TID/x`; None for any other path.
fn own_proc(path: &str, pid: u32, tid: u32) -> Option<String> {
    let whole = |rest: &&str| rest.is_empty() || rest.starts_with('/');
    if let Some(rest) = path.strip_prefix("/proc/thread-self").filter(whole) {
        return Some(format!("/proc/{pid}/task/{tid}{rest}"));
    }
    let rest = path.strip_prefix("/proc/self").filter(whole)?;
    Some(format!("/proc/{pid}{rest}"))
}

/// `rel` against the directory `base`, `.`, `..` and repeated slashes
/// folded; None when `rel` is relative and `base` unknown.
pub fn join(base: Option<&str>, rel: &str) -> Option<String> {
    let full = if rel.starts_with('/') {
        rel.to_owned()
    } else {
        let base = base?;
        if rel.is_empty() {
            // AT_EMPTY_PATH: the dirfd itself.
            return Some(base.to_owned());
        }
        format!("{}/{rel}", base.trim_end_matches('/'))
    };
    if !full.starts_with('/') {
        // A dirfd that is not a directory on disk (`socket:[1]`).
        return None;
    }
    let mut parts: Vec<&str> = Vec::new();
    for part in Path::new(&full).components() {
        match part.as_os_str().to_str().unwrap_or("") {
            "/" | "." | "" => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    Some(format!("/{}", parts.join("/")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_memfd_is_deleted_as_strace_tells() {
        // SAFETY: a plain syscall; the fd is closed below.
        let fd = unsafe { libc::memfd_create(c"demo".as_ptr(), 0) };
        assert!(fd >= 0);
        let link = format!("/proc/self/fd/{fd}");
        let path = readlink(&link).unwrap();
        assert_eq!(path, "/memfd:demo (deleted)");
        assert!(unlinked(&link, &path));
        let f = Fd {
            deleted: true,
            ..Fd::new(path, None, false)
        };
        assert_eq!(f.name(), "/memfd:demo");
        let mut shown = String::new();
        f.push_shown(&mut shown, HexStyle::None);
        assert_eq!(shown, "</memfd:demo>(deleted)");
        // SAFETY: closes the fd opened above.
        unsafe { libc::close(fd) };
        // A file whose name ends so is no mark.
        assert!(!unlinked("/proc/self/cwd", "/ (deleted)"));
    }

    #[test]
    fn a_socket_read_again_is_the_same_socket() {
        // connect's socket is read again from /proc for its endpoints; the
        // printer runs behind the process, which may have closed that fd
        // and opened another socket on its number since: not that one's.
        let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let fd = std::os::fd::AsRawFd::as_raw_fd(&udp);
        let pid = std::process::id();
        let mut table = FdTable::new(true, decode_fd::SOCKET);
        let gone = Fd::new("socket:[1]".to_owned(), Some("TCP:[1]".to_owned()), false);
        table.set(pid, fd, Some(gone.clone()));
        table.reread_socket(pid, fd);
        assert_eq!(table.lookup(pid, fd), Some(gone));
        // The same socket is read again: its address now.
        let inode = readlink(&format!("/proc/self/fd/{fd}")).unwrap();
        table.set(pid, fd, Some(Fd::new(inode.clone(), None, false)));
        table.reread_socket(pid, fd);
        let now = table.lookup(pid, fd).unwrap();
        assert_eq!(now.path, inode);
        let port = udp.local_addr().unwrap().port();
        assert_eq!(now.detail, Some(format!("UDP:[127.0.0.1:{port}]")));
    }

    #[test]
    fn joins_as_the_kernel_walks() {
        assert_eq!(join(Some("/etc"), "passwd").as_deref(), Some("/etc/passwd"));
        assert_eq!(join(Some("/a/b/"), "../c/./d").as_deref(), Some("/a/c/d"));
        assert_eq!(join(None, "/x//y/").as_deref(), Some("/x/y"));
        assert_eq!(join(Some("/"), "..").as_deref(), Some("/"));
        assert_eq!(join(None, "rel"), None);
        assert_eq!(join(Some("/d"), "").as_deref(), Some("/d"));
        assert_eq!(join(Some("pipe:[1]"), "x"), None);
        assert_eq!(
            own_proc("/proc/self/maps", 7, 8).as_deref(),
            Some("/proc/7/maps")
        );
        assert_eq!(own_proc("/proc/self", 7, 8).as_deref(), Some("/proc/7"));
        assert_eq!(
            own_proc("/proc/thread-self/comm", 7, 8).as_deref(),
            Some("/proc/7/task/8/comm")
        );
        assert_eq!(own_proc("/proc/selfish", 7, 8), None);
        assert_eq!(own_proc("/etc/passwd", 7, 8), None);
    }
}
