//! The launcher of a traced command: its process is forked and held before
//! its execve until the tracer is ready for it ([`Launch::start`]), so its
//! trace can begin at that execve, as strace's does.
//!
//! The command starts exactly as it would untraced: it gets the caller's
//! environment, fds and signal mask as they are, and the dispositions of its
//! signals as the caller's own parent gave them. Python ignores SIGPIPE and
//! SIGXFSZ at start-up, so those two are set back to the default (as
//! `subprocess` does); handlers the caller installed end at exec anyway, and
//! are reset first so that a signal while the child waits acts as it would on
//! the command. An environment given is passed in its order (the child
//! points `environ` at it: `Command` would sort it), and a user given
//! (strace's -u) is taken on before the wait, so that neither shows in a
//! trace that starts at the execve. Everything else (stdio redirection, the
//! working directory, the exec and its error) is `std::process::Command`'s.
//!
//! `Command::spawn` returns once the child has exec'd, but the tracer needs
//! the child's pid before that: the spawn runs on a helper thread, and the
//! child itself sends its pid over a socket pair, then waits there for the
//! go.
use std::ffi::OsString;
use std::io::{self, Read};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::thread::JoinHandle;

/// What to start, as `subprocess.Popen` takes it.
#[derive(Debug, Default)]
pub struct Spec {
    /// The executable: a path (a name without `/` is looked up in PATH by
    /// the C library, trying each directory: resolve it first).
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
    /// The C library's environment, which execvp passes on.
    static mut environ: *const *const libc::c_char;
}

/// `NAME=VALUE` strings and the null-terminated array of pointers to them
/// that `environ` takes.
struct EnvBlock {
    _strings: Vec<std::ffi::CString>,
    pointers: Vec<*const libc::c_char>,
}

// SAFETY: the pointers point into the strings the block owns, and neither
// is changed once made: moving the block between threads moves no string.
unsafe impl Send for EnvBlock {}
unsafe impl Sync for EnvBlock {}

fn env_block(env: &[(OsString, OsString)]) -> io::Result<EnvBlock> {
    use std::os::unix::ffi::OsStrExt;
    let strings = env
        .iter()
        .map(|(name, value)| {
            let mut entry = name.as_bytes().to_vec();
            entry.push(b'=');
            entry.extend_from_slice(value.as_bytes());
            std::ffi::CString::new(entry).map_err(|_| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "an environment variable holds a NUL byte",
                )
            })
        })
        .collect::<io::Result<Vec<_>>>()?;
    let mut pointers: Vec<*const libc::c_char> = strings.iter().map(|s| s.as_ptr()).collect();
    pointers.push(std::ptr::null());
    Ok(EnvBlock {
        _strings: strings,
        pointers,
    })
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

/// In the forked child: the user's groups, group and user, in the order
/// that lets each call succeed (the user last).
fn become_user(user: &Credentials) -> io::Result<()> {
    // SAFETY: plain syscalls on the closure's own data; no allocation.
    unsafe {
        if libc::setgroups(user.groups.len(), user.groups.as_ptr()) != 0
            || libc::setgid(user.gid) != 0
            || libc::setuid(user.uid) != 0
        {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// A command's process, forked and waiting before its execve.
pub struct Launch {
    pid: u32,
    go: Option<UnixStream>,
    spawned: Option<JoinHandle<io::Result<Child>>>,
}

/// Signals that Python's start-up ignores, which an untraced command would
/// have at their default.
const RESET: [libc::c_int; 2] = [libc::SIGPIPE, libc::SIGXFSZ];

/// The highest signal number (the kernel's _NSIG).
const NSIG: libc::c_int = 64;

/// In the forked child: only async-signal-safe calls, no allocation.
fn set_default(sig: libc::c_int) {
    // SAFETY: sigaction with a zeroed struct (SIG_DFL, empty mask) and a
    // null old action; an invalid signal number only fails.
    unsafe {
        let mut act: libc::sigaction = std::mem::zeroed();
        act.sa_sigaction = libc::SIG_DFL;
        libc::sigaction(sig, &act, std::ptr::null_mut());
    }
}

/// In the forked child: handlers -> default, before anything can arrive.
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

impl Launch {
    /// Forks the command's process; it waits before its execve until
    /// [`Launch::start`]. Errors: the fork, or the redirections and the
    /// change of directory the child does before it waits.
    pub fn new(spec: Spec) -> io::Result<Launch> {
        let (parent, child) = UnixStream::pair()?; // close-on-exec, both
        let mut cmd = Command::new(&spec.program);
        if let Some(first) = spec.argv.first() {
            cmd.arg0(first);
        }
        cmd.args(spec.argv.iter().skip(1));
        // The environment in its order (std's Command would sort it): the
        // child points `environ` at it, and execvp passes it on.
        let envp = spec.env.as_deref().map(env_block).transpose()?;
        if let Some(cwd) = &spec.cwd {
            cmd.current_dir(cwd);
        }
        let [stdin, stdout, stderr] = spec.stdio;
        if let Some(fd) = stdin {
            cmd.stdin(Stdio::from(fd));
        }
        if let Some(fd) = stdout {
            cmd.stdout(Stdio::from(fd));
        }
        if let Some(fd) = stderr {
            cmd.stderr(Stdio::from(fd));
        }
        let (parent_fd, child_fd) = (parent.as_raw_fd(), child.as_raw_fd());
        let user = spec.user;
        // SAFETY: the closure runs in the forked child of a multithreaded
        // process, so it only makes async-signal-safe calls on its own
        // stack and allocates nothing.
        unsafe {
            cmd.pre_exec(move || {
                // The parent's end: if the parent goes, the read sees EOF.
                libc::close(parent_fd);
                if let Some(block) = &envp {
                    environ = block.pointers.as_ptr();
                }
                if let Some(user) = &user {
                    become_user(user)?;
                }
                reset_handlers();
                // Before the wait, so that after the go the command's
                // next call is its execve (a counting session counts from
                // there).
                for sig in RESET {
                    set_default(sig);
                }
                let pid = libc::getpid() as u32;
                let bytes = pid.to_ne_bytes();
                if libc::write(child_fd, bytes.as_ptr().cast(), bytes.len()) != 4 {
                    return Err(io::Error::last_os_error());
                }
                let mut go = 0u8;
                loop {
                    match libc::read(child_fd, (&mut go as *mut u8).cast(), 1) {
                        1 if go == b'x' => break,
                        -1 if io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) => {
                            continue
                        }
                        // Cancelled: no exec.
                        _ => return Err(io::Error::from_raw_os_error(libc::ECANCELED)),
                    }
                }
                Ok(())
            });
        }
        // Returns once the child exec'd, or failed to.
        let spawned = std::thread::Builder::new()
            .name("systrace-launch".into())
            .spawn(move || {
                let result = crate::trace::tracer::fork_to_exec(|| cmd.spawn());
                drop(child); // a child that failed before its pid: EOF
                result
            })?;
        let mut parent = parent;
        let mut pid = [0u8; 4];
        if let Err(err) = parent.read_exact(&mut pid) {
            // The child ended before it could wait: the spawn says why.
            let result = spawned
                .join()
                .unwrap_or_else(|_| Err(io::Error::other("the launcher thread panicked")));
            return Err(match result {
                Err(spawn_err) => spawn_err,
                Ok(_) => err,
            });
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
        self.join().map(drop)
    }

    /// Ends the child before its exec (it exits, and is reaped).
    pub fn cancel(mut self) {
        self.go.take();
        let _ = self.join();
    }

    fn join(&mut self) -> io::Result<Child> {
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
    fn restores_signals_ignored_by_the_caller() {
        // SAFETY: the test process's own dispositions, as Python sets them
        // at start-up (std already resets SIGPIPE; SIGXFSZ is ours to reset).
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_IGN);
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
        }
        let (mut out, w) = pipe();
        let launch = Launch::new(sh("grep SigIgn /proc/self/status", Some(w))).unwrap();
        let pid = launch.pid();
        launch.start().unwrap();
        let mut text = String::new();
        out.read_to_string(&mut text).unwrap();
        let ign = u64::from_str_radix(text.trim().trim_start_matches("SigIgn:").trim(), 16);
        let reset = (1 << (libc::SIGPIPE - 1)) | (1 << (libc::SIGXFSZ - 1));
        assert_eq!(ign.unwrap() & reset, 0, "{text}");
        wait(pid);
    }

    #[test]
    fn the_environment_keeps_its_order() {
        let (mut out, w) = pipe();
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
        let launch = Launch::new(spec).unwrap();
        let pid = launch.pid();
        launch.start().unwrap();
        let mut text = String::new();
        out.read_to_string(&mut text).unwrap();
        assert_eq!(text, "ZZ=1\nAA=2=3\nMM=\n");
        wait(pid);
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
