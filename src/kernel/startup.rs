//! Where start-up goes (issue 15): the steps of loading and attaching the
//! programs, timed, and what the verifier went through for each program.
//! `kernel_state()` hands both to Python; bench/run.py and the README's
//! start-up breakdown read them.
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// What each step of loading and attaching took, in order, since the
/// programs were last loaded: the start-up breakdown of the README
/// (`kernel_state()["load_steps"]`).
static STEPS: Mutex<Vec<(String, Duration)>> = Mutex::new(Vec::new());

/// Notes that step `what` began at `start` and ended now.
pub fn step(what: impl Into<String>, start: Instant) {
    let mut steps = STEPS.lock().unwrap_or_else(|e| e.into_inner());
    // Bounded: a long-lived process attaches and detaches many times.
    if steps.len() < 256 {
        steps.push((what.into(), start.elapsed()));
    }
}

/// The steps noted since the programs were last loaded.
pub fn steps() -> Vec<(String, Duration)> {
    STEPS.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

/// Starts a new breakdown (a fresh load), with the steps before it.
pub fn reset_steps(first: Vec<(String, Duration)>) {
    *STEPS.lock().unwrap_or_else(|e| e.into_inner()) = first;
}

/// The kernel's count of instructions its verifier went through for the
/// program `fd` (0 when it does not say).
pub fn verified_insns(fd: std::os::fd::BorrowedFd<'_>) -> u32 {
    use std::os::fd::AsRawFd;
    // SAFETY: bpf_prog_info is plain C data; the kernel fills at most `len`
    // bytes of it, and all pointer fields are left null (nothing asked).
    unsafe {
        let mut info: libbpf_rs::libbpf_sys::bpf_prog_info = std::mem::zeroed();
        let mut len = std::mem::size_of_val(&info) as u32;
        let ret =
            libbpf_rs::libbpf_sys::bpf_prog_get_info_by_fd(fd.as_raw_fd(), &mut info, &mut len);
        if ret == 0 {
            info.verified_insns
        } else {
            0
        }
    }
}
