//! The launcher of a traced command: its process is made and held before
//! its execve until the tracer is ready for it ([`Launch::start`]), so its
//! trace can begin at that execve, as strace's does.
//!
//! The command starts exactly as it would untraced: it gets the caller's
//! environment, fds and signal mask as they are, and the dispositions of its
//! signals as the caller's own parent gave them. Python ignores SIGPIPE and
//! SIGXFSZ at start-up, so those two are set back to the default (as
//! `subprocess` does); handlers the caller installed end at exec anyway, and
//! are reset first so that a signal while the child waits acts as it would on
//! the command. An environment given is passed in its order, and a user
//! given (strace's -u) is taken on before the wait, so that neither shows in
//! a trace that starts at the execve.
//!
//! The child shares the caller's memory until its execve (`clone(CLONE_VM)`,
//! as posix_spawn's child does), instead of a fork's copy-on-write copy:
//! the command's process is made before its BPF load (issue 15), and with a
//! fork every page the caller then wrote (its imports, its argument
//! parsing) cost a copy and a TLB shootdown on the other CPUs, the largest
//! part of the command's start-up after the verifier. Sharing memory, the
//! child only makes system calls on its own stack with what was prepared
//! for it beforehand ([`Plan`]), and borrows the thread-local `errno` of a
//! helper thread that stays blocked until the child has exec'd or exited.
use std::ffi::{CString, OsString};
use std::io::{self, Read};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::thread::JoinHandle;

/// What to start, as `subprocess.Popen` takes it.
#[derive(Debug, Default)]
pub struct Spec {
    /// The executable's path, as execve takes it (`systrace._exec.resolve`
    /// looks a name up in PATH first).
    pub program: PathBuf,
    /// argv, argv[0] included.
    pub argv: Vec<OsString>,
    /// The whole environment; None: the caller's.
    pub env: Option<Vec<(OsString, OsString)>>,
    /// The working directory; None: the caller's.
    pub cwd: Option<PathBuf>,
    /// Standard input, output and error; None: the caller's.
    pub stdio: [Option<OwnedFd>; 3],
    /// The user to run as (strace's -u); None: the caller's.
    pub user: Option<Credentials>,
}

extern "C" {
    /// The C library's environment: the caller's, copied for the command.
    static environ: *const *const libc::c_char;
}

/// C strings and the null-terminated array of pointers to them that execve
/// takes.
struct StrArray {
    /// What `pointers` point into: owned here, never read.
    _strings: Vec<CString>,
    pointers: Vec<*const libc::c_char>,
}

// SAFETY: the pointers point into the strings the array owns, and neither
// is changed once made: moving the array between threads moves no string.
unsafe impl Send for StrArray {}
unsafe impl Sync for StrArray {}

impl StrArray {
    fn new(strings: Vec<CString>) -> StrArray {
        let mut pointers: Vec<*const libc::c_char> = strings.iter().map(|s| s.as_ptr()).collect();
        pointers.push(std::ptr::null());
        StrArray {
            _strings: strings,
            pointers,
        }
    }

    fn as_ptr(&self) -> *const *const libc::c_char {
        self.pointers.as_ptr()
    }
}

fn c_string(bytes: &[u8], what: &str) -> io::Result<CString> {
    CString::new(bytes).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{what} holds a NUL byte"),
        )
    })
}

/// `NAME=VALUE` for each variable, in the order given (std's Command would
/// sort them).
fn env_block(env: &[(OsString, OsString)]) -> io::Result<StrArray> {
    let strings = env
        .iter()
        .map(|(name, value)| {
            let mut entry = name.as_bytes().to_vec();
            entry.push(b'=');
            entry.extend_from_slice(value.as_bytes());
            c_string(&entry, "an environment variable")
        })
        .collect::<io::Result<Vec<_>>>()?;
    Ok(StrArray::new(strings))
}

/// The caller's environment as it is now, entry by entry: the child must
/// not read the caller's `environ`, which the caller may change (and free)
/// while the child waits.
fn caller_env() -> StrArray {
    let mut strings = Vec::new();
    // SAFETY: environ is the C library's null-terminated array of C
    // strings; each is copied before anything else runs on this thread.
    unsafe {
        let mut entry = environ;
        while !entry.is_null() && !(*entry).is_null() {
            strings.push(std::ffi::CStr::from_ptr(*entry).to_owned());
            entry = entry.add(1);
        }
    }
    StrArray::new(strings)
}

/// A user's ids: what the child takes on before it waits (so that none of
/// these calls is traced).
#[derive(Debug, Default, Clone)]
pub struct Credentials {
    pub uid: u32,
    pub gid: u32,
    /// The supplementary groups (initgroups' list).
    pub groups: Vec<u32>,
}

/// The errno of the last failed call, in the child (the helper thread's).
fn errno() -> i32 {
    io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO)
}

/// In the child: the user's groups, group and user, in the order that lets
/// each call succeed (the user last). Raw system calls: the C library's
/// wrappers would change the ids of every thread of the caller's (setxid),
/// whose memory the child shares but which are not the child's.
fn become_user(user: &Credentials) -> Result<(), i32> {
    // SAFETY: plain syscalls on the plan's own data; no allocation.
    unsafe {
        if libc::syscall(libc::SYS_setgroups, user.groups.len(), user.groups.as_ptr()) != 0
            || libc::syscall(libc::SYS_setgid, user.gid) != 0
            || libc::syscall(libc::SYS_setuid, user.uid) != 0
        {
            return Err(errno());
        }
    }
    Ok(())
}

/// A command's process, made and waiting before its execve.
pub struct Launch {
    pid: u32,
    go: Option<UnixStream>,
    spawned: Option<JoinHandle<io::Result<()>>>,
}

/// Signals that Python's start-up ignores, which an untraced command would
/// have at their default.
const RESET: [libc::c_int; 2] = [libc::SIGPIPE, libc::SIGXFSZ];

/// The highest signal number (the kernel's _NSIG).
const NSIG: libc::c_int = 64;

/// In the child: only async-signal-safe calls, no allocation.
fn set_default(sig: libc::c_int) {
    // SAFETY: sigaction with a zeroed struct (SIG_DFL, empty mask) and a
    // null old action; an invalid signal number only fails.
    unsafe {
        let mut act: libc::sigaction = std::mem::zeroed();
        act.sa_sigaction = libc::SIG_DFL;
        libc::sigaction(sig, &act, std::ptr::null_mut());
    }
}

/// In the child: handlers -> default, before any signal is let through (a
/// handler of the caller's would run on memory the child shares).
fn reset_handlers() {
    for sig in 1..=NSIG {
        // SAFETY: querying a disposition into a zeroed struct.
        let handler = unsafe {
            let mut old: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(sig, std::ptr::null(), &mut old) != 0 {
                continue;
            }
            old.sa_sigaction
        };
        if handler != libc::SIG_DFL && handler != libc::SIG_IGN {
            set_default(sig);
        }
    }
}

/// Waits (up to a second) until the child sits in its read of the go: a
/// counting session opened after that counts from the execve on, since it
/// never saw that read's enter (bpf/count.bpf.h). Opened while the child was
/// still on its way to the read, it counted the read (CI, `-c -Z`).
fn wait_until_blocked_in_read(pid: u32) {
    let path = format!("/proc/{pid}/syscall");
    let read_nr = libc::SYS_read.to_string();
    for _ in 0..20_000 {
        match std::fs::read_to_string(&path) {
            Ok(text) if text.split(' ').next() == Some(read_nr.as_str()) => return,
            Ok(_) => std::thread::sleep(std::time::Duration::from_micros(50)),
            Err(_) => return, // gone, or no such file: nothing to wait for
        }
    }
}

/// Everything the child uses, made before it is: it allocates nothing and
/// reads nothing of the caller's that the caller may change meanwhile.
struct Plan {
    program: CString,
    argv: StrArray,
    envp: StrArray,
    cwd: Option<CString>,
    /// The fds to make 0, 1 and 2 (-1: the caller's).
    stdio: [RawFd; 3],
    user: Option<Credentials>,
    /// The caller's signal mask, which the command gets.
    mask: libc::sigset_t,
    /// The child's end of the go socket, and the parent's (closed in the
    /// child, so that the child sees EOF when the parent goes).
    go: RawFd,
    parent_go: RawFd,
    /// Where the child writes its errno if it fails before its exec, and
    /// the read end (closed in the child).
    report: RawFd,
    report_read: RawFd,
    /// The calling thread's name (PR_GET_NAME), which the child takes: it
    /// is made by a thread of ours, and its execve's line shows the name
    /// the caller's fork would have had (`-Y`: `42<systrace> execve(`).
    name: [u8; 16],
}

// SAFETY: the raw pointers point into the plan's own strings.
unsafe impl Send for Plan {}

impl Plan {
    /// In the child: sets up and waits for the go, then execs. Returns only
    /// if something failed, with its errno.
    ///
    /// # Safety
    /// Runs in a child sharing the caller's memory: system calls only, on
    /// the plan, which outlives the child's use of it.
    unsafe fn run_in_child(&self) -> i32 {
        libc::close(self.parent_go);
        libc::close(self.report_read);
        libc::prctl(libc::PR_SET_NAME, self.name.as_ptr());
        reset_handlers();
        for sig in RESET {
            set_default(sig);
        }
        for (target, &fd) in (0..).zip(self.stdio.iter()) {
            let done = match fd {
                -1 => true,
                // Already there: it only must stay open at the exec.
                fd if fd == target => libc::fcntl(fd, libc::F_SETFD, 0) == 0,
                fd => libc::dup2(fd, target) == target,
            };
            if !done {
                return errno();
            }
        }
        self.close_exec_closed();
        if let Some(cwd) = &self.cwd {
            if libc::chdir(cwd.as_ptr()) != 0 {
                return errno();
            }
        }
        if let Some(user) = &self.user {
            if let Err(err) = become_user(user) {
                return err;
            }
        }
        // The caller's mask: everything was blocked until the handlers were
        // reset. Before the wait, so that after the go the command's next
        // call is its execve (a counting session counts from there).
        let mask: *const libc::sigset_t = &self.mask;
        if libc::syscall(
            libc::SYS_rt_sigprocmask,
            libc::SIG_SETMASK,
            mask,
            std::ptr::null_mut::<libc::sigset_t>(),
            8usize,
        ) != 0
        {
            return errno();
        }
        let bytes = (libc::getpid() as u32).to_ne_bytes();
        if libc::write(self.go, bytes.as_ptr().cast(), bytes.len()) != 4 {
            return errno();
        }
        let mut go = 0u8;
        loop {
            match libc::read(self.go, (&mut go as *mut u8).cast(), 1) {
                1 if go == b'x' => break,
                -1 if errno() == libc::EINTR => continue,
                // Cancelled: no exec.
                _ => return libc::ECANCELED,
            }
        }
        // Nothing between the go and the exec: no close of `go` either
        // (close-on-exec), which a counting session would count.
        self.exec()
    }

    /// In the child: closes now the fds its exec would close (close-on-exec)
    /// but those it still uses, so that the held child keeps none of the
    /// caller's meanwhile: another launch's go socket, whose EOF cancels
    /// that launch (a launch cancelled while another was held waited for
    /// that one's exec), the programs' and links' fds of open sessions.
    /// Invisible to the command, whose exec would close them anyway; before
    /// the go, so no trace sees these calls. Without /proc, nothing.
    unsafe fn close_exec_closed(&self) {
        let dir = libc::open(
            c"/proc/self/fd".as_ptr(),
            libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
        );
        if dir < 0 {
            return;
        }
        // linux_dirent64 records: d_ino (8), d_off (8), d_reclen (2),
        // d_type (1), then the name, NUL-terminated.
        let mut buf = [0u64; 512];
        loop {
            let len = libc::syscall(libc::SYS_getdents64, dir, buf.as_mut_ptr(), 4096usize);
            if len <= 0 {
                break;
            }
            let bytes = std::slice::from_raw_parts(buf.as_ptr().cast::<u8>(), len as usize);
            let mut at = 0;
            while at + 19 < bytes.len() {
                let reclen = u16::from_ne_bytes([bytes[at + 16], bytes[at + 17]]) as usize;
                if reclen == 0 {
                    break;
                }
                let name = &bytes[at + 19..(at + reclen).min(bytes.len())];
                let mut fd: RawFd = -1;
                for &b in name.iter().take_while(|&&b| b != 0) {
                    fd = match (b as char).to_digit(10) {
                        Some(d) => fd.max(0).saturating_mul(10).saturating_add(d as RawFd),
                        None => break,
                    };
                }
                let keep = [dir, self.go, self.report];
                if fd > 2
                    && !keep.contains(&fd)
                    && libc::fcntl(fd, libc::F_GETFD) & libc::FD_CLOEXEC != 0
                {
                    libc::close(fd);
                }
                at += reclen;
            }
        }
        libc::close(dir);
    }

    /// The exec. A file whose format the kernel does not know (a script
    /// without `#!`) fails with ENOEXEC, as under strace and
    /// subprocess.run, not run by /bin/sh as execvp would.
    unsafe fn exec(&self) -> i32 {
        libc::execve(
            self.program.as_ptr(),
            self.argv.as_ptr(),
            self.envp.as_ptr(),
        );
        errno()
    }
}

/// The child's entry: `arg` is its [`Plan`].
extern "C" fn child_main(arg: *mut libc::c_void) -> libc::c_int {
    // SAFETY: the helper thread keeps the plan until the child has exec'd
    // or exited; nothing here allocates or unwinds.
    unsafe {
        let plan = &*(arg as *const Plan);
        let err = plan.run_in_child().to_ne_bytes();
        libc::write(plan.report, err.as_ptr().cast(), err.len());
        libc::_exit(127)
    }
}

/// The child's stack, with a guard page below it.
struct Stack {
    base: *mut libc::c_void,
}

impl Stack {
    const LEN: usize = 256 << 10;

    fn new() -> io::Result<Stack> {
        // SAFETY: a fresh private mapping, owned by the Stack.
        unsafe {
            let base = libc::mmap(
                std::ptr::null_mut(),
                Self::LEN,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_STACK,
                -1,
                0,
            );
            if base == libc::MAP_FAILED {
                return Err(io::Error::last_os_error());
            }
            let stack = Stack { base };
            if libc::mprotect(base, 4096, libc::PROT_NONE) != 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(stack)
        }
    }

    fn top(&self) -> *mut libc::c_void {
        // SAFETY: one past the end of the mapping; the stack grows down.
        unsafe { self.base.cast::<u8>().add(Self::LEN).cast() }
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        // SAFETY: our own mapping, no longer used by any child.
        unsafe { libc::munmap(self.base, Self::LEN) };
    }
}

fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: pipe2 fills two fresh fds, owned from here on.
    unsafe {
        if libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok((OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])))
    }
}

/// On the helper thread: makes the child and waits until it has exec'd
/// (Ok) or exited (its errno; it is reaped). `keep`: the parent's copies
/// of what the child was given, closed once it has them.
fn make_child(plan: Box<Plan>, report_read: OwnedFd, keep: Vec<OwnedFd>) -> io::Result<()> {
    // Signals wait in this thread, and in the child until it has reset
    // the caller's handlers (the child starts with this thread's mask).
    // SAFETY: sigset operations on local values.
    unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_SETMASK, &all, std::ptr::null_mut());
    }
    let stack = Stack::new()?;
    let arg = (&*plan as *const Plan).cast_mut().cast();
    // No load of the programs runs meanwhile: libbpf opens fds that are not
    // close-on-exec, which the child would keep.
    // SAFETY: the child runs child_main on its own stack; the plan and the
    // stack outlive it (below). No CLONE_VFORK: this thread goes on, and
    // waits for the child's exec (or exit) on the report pipe instead.
    let pid = crate::trace::tracer::clone_to_exec(|| unsafe {
        libc::clone(child_main, stack.top(), libc::CLONE_VM | libc::SIGCHLD, arg)
    });
    if pid < 0 {
        return Err(io::Error::last_os_error());
    }
    // The child has its own copies of the fds now (the programs' and links
    // of sessions open meanwhile too, until its exec closes them).
    drop(keep);
    // EOF: the child's end closed at its exec (after it left our memory)
    // or at its exit.
    let mut report = std::fs::File::from(report_read);
    let mut err = Vec::with_capacity(4);
    let read = report.read_to_end(&mut err);
    if err.is_empty() && read.is_ok() {
        return Ok(());
    }
    let mut status = 0;
    // SAFETY: reaping our own child, which has exited or is exiting.
    unsafe { libc::waitpid(pid, &mut status, libc::__WALL) };
    drop((stack, plan));
    Err(match <[u8; 4]>::try_from(err.as_slice()) {
        Ok(code) => io::Error::from_raw_os_error(i32::from_ne_bytes(code)),
        Err(_) => read
            .err()
            .unwrap_or_else(|| io::Error::other("the launched process failed")),
    })
}

/// The calling thread's name, NUL-terminated.
fn thread_name() -> [u8; 16] {
    let mut name = [0u8; 16];
    // SAFETY: PR_GET_NAME writes at most 16 bytes, NUL included.
    unsafe { libc::prctl(libc::PR_GET_NAME, name.as_mut_ptr()) };
    name
}

impl Launch {
    /// Makes the command's process; it waits before its execve until
    /// [`Launch::start`]. Errors: making it, or the redirections, the
    /// change of directory or of user the child does before it waits.
    pub fn new(spec: Spec) -> io::Result<Launch> {
        let envp = match spec.env.as_deref() {
            Some(env) => env_block(env)?,
            None => caller_env(),
        };
        let program = c_string(spec.program.as_os_str().as_bytes(), "the program")?;
        let argv = StrArray::new(
            spec.argv
                .iter()
                .map(|arg| c_string(arg.as_bytes(), "an argument"))
                .collect::<io::Result<_>>()?,
        );
        let cwd = match &spec.cwd {
            Some(dir) => Some(c_string(
                dir.as_os_str().as_bytes(),
                "the working directory",
            )?),
            None => None,
        };
        // SAFETY: reading this thread's mask into a zeroed set.
        let mask = unsafe {
            let mut mask: libc::sigset_t = std::mem::zeroed();
            libc::pthread_sigmask(libc::SIG_SETMASK, std::ptr::null(), &mut mask);
            mask
        };
        let (parent, child) = UnixStream::pair()?; // close-on-exec, both
        let (report_read, report) = pipe()?;
        let [stdin, stdout, stderr] = spec.stdio;
        let raw = |fd: &Option<OwnedFd>| fd.as_ref().map_or(-1, |fd| fd.as_raw_fd());
        let plan = Box::new(Plan {
            stdio: [raw(&stdin), raw(&stdout), raw(&stderr)],
            program,
            argv,
            envp,
            cwd,
            user: spec.user,
            mask,
            go: child.as_raw_fd(),
            parent_go: parent.as_raw_fd(),
            report: report.as_raw_fd(),
            report_read: report_read.as_raw_fd(),
            name: thread_name(),
        });
        let mut keep: Vec<OwnedFd> = [stdin, stdout, stderr].into_iter().flatten().collect();
        keep.extend([OwnedFd::from(child), report]);
        // Returns once the child exec'd, or failed to.
        let spawned = std::thread::Builder::new()
            .name("systrace-launch".into())
            .spawn(move || make_child(plan, report_read, keep))?;
        let mut parent = parent;
        let mut pid = [0u8; 4];
        if let Err(err) = parent.read_exact(&mut pid) {
            // The child ended before it could wait: the helper says why.
            let result = spawned
                .join()
                .unwrap_or_else(|_| Err(io::Error::other("the launcher thread panicked")));
            return Err(result.err().unwrap_or(err));
        }
        let pid = u32::from_ne_bytes(pid);
        wait_until_blocked_in_read(pid);
        Ok(Launch {
            pid,
            go: Some(parent),
            spawned: Some(spawned),
        })
    }

    /// The command's process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Lets the command exec. Err: its exec failed (the child is reaped).
    /// Once it succeeded, the process is the caller's to wait for.
    pub fn start(mut self) -> io::Result<()> {
        if let Some(go) = self.go.take() {
            // A child already gone (killed) reads nothing: the join tells.
            // SAFETY: a one-byte send on our own socket; no SIGPIPE if the
            // child is gone.
            unsafe { libc::send(go.as_raw_fd(), b"x".as_ptr().cast(), 1, libc::MSG_NOSIGNAL) };
        }
        self.join()
    }

    /// Ends the child before its exec (it exits, and is reaped).
    pub fn cancel(mut self) {
        self.go.take();
        let _ = self.join();
    }

    fn join(&mut self) -> io::Result<()> {
        match self.spawned.take() {
            Some(handle) => handle
                .join()
                .unwrap_or_else(|_| Err(io::Error::other("the launcher thread panicked"))),
            None => Err(io::Error::other("the command was started already")),
        }
    }
}

impl Drop for Launch {
    fn drop(&mut self) {
        if self.spawned.is_some() {
            self.go.take();
            let _ = self.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::os::fd::FromRawFd;

    fn pipe() -> (std::fs::File, OwnedFd) {
        let mut fds = [0; 2];
        // SAFETY: pipe2 fills two fresh fds, owned from here on.
        assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
        unsafe {
            (
                std::fs::File::from_raw_fd(fds[0]),
                OwnedFd::from_raw_fd(fds[1]),
            )
        }
    }

    fn wait(pid: u32) -> i32 {
        let mut status = 0;
        // SAFETY: waiting for our own child.
        assert_eq!(
            unsafe { libc::waitpid(pid as i32, &mut status, 0) },
            pid as i32
        );
        status
    }

    fn sh(script: &str, stdout: Option<OwnedFd>) -> Spec {
        Spec {
            program: "/bin/sh".into(),
            argv: vec!["sh".into(), "-c".into(), script.into()],
            stdio: [None, stdout, None],
            ..Default::default()
        }
    }

    /// Launches `spec`, whose stdout is the write end of `out`, lets it run
    /// and returns what it wrote once it has exited.
    fn output_of(spec: Spec, mut out: std::fs::File) -> String {
        let launch = Launch::new(spec).unwrap();
        let pid = launch.pid();
        launch.start().unwrap();
        let mut text = String::new();
        out.read_to_string(&mut text).unwrap();
        wait(pid);
        text
    }

    #[test]
    fn waits_for_start_then_execs() {
        let (mut out, w) = pipe();
        let launch = Launch::new(sh("echo $$; exit 3", Some(w))).unwrap();
        let pid = launch.pid();
        // Not exec'd yet: the child is still this program.
        let exe = std::fs::read_link(format!("/proc/{pid}/exe")).unwrap();
        assert_eq!(exe, std::env::current_exe().unwrap());
        launch.start().unwrap();
        let mut text = String::new();
        out.read_to_string(&mut text).unwrap();
        assert_eq!(text.trim(), pid.to_string());
        let status = wait(pid);
        assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 3);
    }

    #[test]
    fn the_held_child_shares_the_callers_memory() {
        // Not a fork's copy: pages the caller writes meanwhile cost no copy
        // (issue 15).
        let launch = Launch::new(sh("true", None)).unwrap();
        let pid = launch.pid() as libc::c_long;
        // SAFETY: kcmp compares two processes' mms; 0: the same one.
        let same = unsafe {
            libc::syscall(
                libc::SYS_kcmp,
                libc::getpid() as libc::c_long,
                pid,
                0, /* KCMP_VM */
                0,
                0,
            )
        };
        assert_eq!(same, 0, "{}", io::Error::last_os_error());
        launch.start().unwrap();
        wait(pid as u32);
    }

    #[test]
    fn a_script_without_its_interpreter_line_fails_to_exec() {
        // As under strace and subprocess: ENOEXEC, not /bin/sh (execvp's
        // fallback, which the launcher used to imitate).
        let dir = std::env::temp_dir().join(format!("systrace-launch-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let script = dir.join("no-shebang");
        std::fs::write(&script, "echo \"script $0 $1\"\n").unwrap();
        std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        let launch = Launch::new(Spec {
            program: script.clone(),
            argv: vec!["name".into(), "arg".into()],
            ..Default::default()
        })
        .unwrap();
        let err = launch.start().unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::ENOEXEC));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_held_child_keeps_no_fd_of_ours() {
        // Two held at once: the second must not keep the first's go socket,
        // or cancelling the first waits for the second's exec.
        let first = Launch::new(sh("true", None)).unwrap();
        let second = Launch::new(sh("true", None)).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let pid = first.pid();
        std::thread::spawn(move || {
            first.cancel();
            let _ = tx.send(());
        });
        let cancelled = rx.recv_timeout(std::time::Duration::from_secs(5));
        // Its fds: ours that an exec keeps (not close-on-exec), and its own
        // go and report.
        let fds = |pid: u32| -> Vec<i32> {
            std::fs::read_dir(format!("/proc/{pid}/fd"))
                .unwrap()
                .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
                .collect()
        };
        // SAFETY: F_GETFD on fds of this process; a closed one fails.
        let kept = fds(std::process::id())
            .into_iter()
            .filter(|&fd| unsafe { libc::fcntl(fd, libc::F_GETFD) } == 0)
            .count();
        let held = fds(second.pid()).len();
        second.cancel();
        assert!(
            cancelled.is_ok(),
            "cancelling {pid} waited for the other held child"
        );
        assert!(
            held <= kept + 2,
            "the held child has {held} fds open, we keep {kept} at exec"
        );
    }

    #[test]
    fn restores_signals_ignored_by_the_caller() {
        // SAFETY: the test process's own dispositions, as Python sets them
        // at start-up.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_IGN);
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
        }
        let (out, w) = pipe();
        let text = output_of(sh("grep SigIgn /proc/self/status", Some(w)), out);
        let ign = u64::from_str_radix(text.trim().trim_start_matches("SigIgn:").trim(), 16);
        let reset = (1 << (libc::SIGPIPE - 1)) | (1 << (libc::SIGXFSZ - 1));
        assert_eq!(ign.unwrap() & reset, 0, "{text}");
    }

    #[test]
    fn the_environment_keeps_its_order() {
        let (out, w) = pipe();
        let env: Vec<(OsString, OsString)> = [("ZZ", "1"), ("AA", "2=3"), ("MM", "")]
            .iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        let spec = Spec {
            program: "/usr/bin/env".into(),
            argv: vec!["env".into()],
            env: Some(env),
            stdio: [None, Some(w), None],
            ..Default::default()
        };
        assert_eq!(output_of(spec, out), "ZZ=1\nAA=2=3\nMM=\n");
        let bad = Spec {
            env: Some(vec![("A".into(), "x\0y".into())]),
            ..sh("true", None)
        };
        assert!(Launch::new(bad).is_err());
    }

    #[test]
    fn runs_as_the_user_it_is_given() {
        let (mut out, w) = pipe();
        let spec = Spec {
            user: Some(Credentials {
                uid: 65534,
                gid: 65533,
                groups: vec![65533, 4],
            }),
            ..sh("id -u; id -g; id -G", Some(w))
        };
        let launch = Launch::new(spec);
        // SAFETY: a query of this process's own id.
        if unsafe { libc::geteuid() } != 0 {
            // Only root may change its ids: the child says why it could not.
            assert_eq!(
                launch.err().and_then(|e| e.raw_os_error()),
                Some(libc::EPERM)
            );
            return;
        }
        let launch = launch.unwrap();
        let pid = launch.pid();
        launch.start().unwrap();
        let mut text = String::new();
        out.read_to_string(&mut text).unwrap();
        assert_eq!(text, "65534\n65533\n65533 4\n");
        wait(pid);
    }

    #[test]
    fn exec_errors_and_cancel() {
        let launch = Launch::new(Spec {
            program: "/nonexistent/x".into(),
            argv: vec!["x".into()],
            ..Default::default()
        })
        .unwrap();
        let err = launch.start().unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::ENOENT));
        let bad_cwd = Launch::new(Spec {
            cwd: Some("/nonexistent".into()),
            ..sh("true", None)
        });
        assert_eq!(
            bad_cwd.err().and_then(|e| e.raw_os_error()),
            Some(libc::ENOENT)
        );
        let launch = Launch::new(sh("true", None)).unwrap();
        let pid = launch.pid() as i32;
        launch.cancel();
        // Reaped: no such child any more.
        assert_eq!(unsafe { libc::kill(pid, 0) }, -1);
    }
}
