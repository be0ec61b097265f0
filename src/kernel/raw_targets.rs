//! Loading the raw hooks (`tp_btf/sys_enter`, `tp_btf/sys_exit`) without
//! libbpf parsing the kernel's whole BTF.
//!
//! A `tp_btf` program is loaded with the kernel's BTF id of its
//! tracepoint's type (`btf_trace_sys_enter`). libbpf finds it by parsing
//! all of `/sys/kernel/btf/vmlinux` in each object that loads such a
//! program (5.5 MB here: some 5 ms per object, two objects at once in a
//! start that loads both raw hooks, 2 MB of the command's peak RSS; issue
//! 15),
//! even where the CO-RE relocations use this boot's cut types
//! ([`core_btf`](super::core_btf)). That file names the two ids too, and a
//! handler of the two sections (libbpf's `libbpf_register_prog_handler`,
//! which libbpf asks before its own) hands them to the load:
//!
//! * at open, it marks the program as attached to another program (a
//!   placeholder `attach_prog_fd`), the one case where libbpf does not
//!   want the kernel's BTF for a tracing program;
//! * before the load, it takes the placeholder off and names the target
//!   by its id, as libbpf's own handler would have;
//! * to attach, it attaches by that id, as libbpf's `tp_btf` does.
//!
//! The handler is registered once per process, only when this boot's file
//! names the ids; a load that then lacks them (the file discarded after a
//! failed load) looks them up in the kernel's BTF itself.
use std::ffi::{c_int, c_long, CString};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Once;

use libbpf_rs::libbpf_sys;

use super::core_btf;

/// The sections of the raw hooks, enter then exit (bpf/systrace.bpf.c).
const SECTIONS: [&str; 2] = ["tp_btf/sys_enter", "tp_btf/sys_exit"];
/// Stands for a program to attach to, only while libbpf decides whether to
/// parse the kernel's BTF; never an fd the kernel sees (see [`prepare`]).
const PLACEHOLDER_FD: c_int = c_int::MAX;

/// The ids [`SECTIONS`] load with; 0 while not known.
static TARGETS: [AtomicU32; 2] = [AtomicU32::new(0), AtomicU32::new(0)];
static REGISTER: Once = Once::new();

/// Makes the raw hooks load with `targets` (from this boot's file of
/// kernel types), or forgets earlier ones (None). Called before any object
/// of this load is opened: libbpf's table of handlers has no lock.
pub fn set(targets: Option<[u32; 2]>) {
    let ids = targets.unwrap_or([0, 0]);
    for (slot, id) in TARGETS.iter().zip(ids) {
        slot.store(id, Ordering::Relaxed);
    }
    if targets.is_some() {
        REGISTER.call_once(register);
    }
}

fn register() {
    for (i, sec) in SECTIONS.into_iter().enumerate() {
        let opts = libbpf_sys::libbpf_prog_handler_opts {
            sz: std::mem::size_of::<libbpf_sys::libbpf_prog_handler_opts>() as _,
            cookie: i as c_long,
            prog_setup_fn: Some(setup),
            prog_prepare_load_fn: Some(prepare),
            prog_attach_fn: Some(attach),
        };
        let sec = CString::new(sec).expect("no NUL");
        // SAFETY: libbpf copies the name and the options; the callbacks are
        // functions of this module. A failure (out of memory) leaves
        // libbpf's own handler, which finds the ids itself.
        unsafe {
            libbpf_sys::libbpf_register_prog_handler(
                sec.as_ptr(),
                libbpf_sys::BPF_PROG_TYPE_TRACING,
                libbpf_sys::BPF_TRACE_RAW_TP,
                &opts,
            )
        };
    }
}

/// The id for the section of `cookie`: the known one, else looked up in
/// the kernel's BTF (what libbpf would have done).
fn target(cookie: c_long) -> Option<u32> {
    let i = usize::try_from(cookie).ok().filter(|&i| i < 2)?;
    match TARGETS[i].load(Ordering::Relaxed) {
        0 => {
            let kernel = libbpf_rs::btf::Btf::from_vmlinux().ok()?;
            core_btf::find_raw_hook_targets(&kernel).map(|ids| ids[i])
        }
        id => Some(id),
    }
}

/// At open: the placeholder (see the module's comment).
unsafe extern "C" fn setup(prog: *mut libbpf_sys::bpf_program, _cookie: c_long) -> c_int {
    // SAFETY: libbpf passes its program, not yet loaded.
    unsafe { libbpf_sys::bpf_program__set_attach_target(prog, PLACEHOLDER_FD, std::ptr::null()) }
}

/// Before the kernel's load: the target by its id, no program to attach to.
unsafe extern "C" fn prepare(
    _prog: *mut libbpf_sys::bpf_program,
    opts: *mut libbpf_sys::bpf_prog_load_opts,
    cookie: c_long,
) -> c_int {
    let Some(id) = target(cookie) else {
        return -libc::ESRCH;
    };
    // SAFETY: libbpf passes the load's options, ours to adjust.
    let opts = unsafe { &mut *opts };
    opts.attach_prog_fd = 0;
    opts.attach_btf_obj_fd = 0;
    opts.attach_btf_id = id;
    opts.expected_attach_type = libbpf_sys::BPF_TRACE_RAW_TP;
    0
}

/// `bpf_program__attach`: by the id the program was loaded with.
unsafe extern "C" fn attach(
    prog: *const libbpf_sys::bpf_program,
    _cookie: c_long,
    link: *mut *mut libbpf_sys::bpf_link,
) -> c_int {
    // SAFETY: libbpf passes its loaded program and where the link goes.
    unsafe {
        let made = libbpf_sys::bpf_program__attach_trace(prog);
        if made.is_null() {
            return -std::io::Error::last_os_error()
                .raw_os_error()
                .unwrap_or(libc::EINVAL);
        }
        *link = made;
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::core_btf::RAW_HOOK_TARGETS;

    #[test]
    fn the_sections_are_the_targets_tracepoints() {
        for (sec, target) in SECTIONS.into_iter().zip(RAW_HOOK_TARGETS) {
            let tp = sec.strip_prefix("tp_btf/").expect("a tp_btf section");
            assert_eq!(target, format!("btf_trace_{tp}"));
        }
    }
}
