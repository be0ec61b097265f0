//! Failed calls as strace prints them: `-1 ENOENT (No such file or
//! directory)`. Names come from the `syscalls` crate; messages from the C
//! library's strerror(), which is what strace prints (the kernel header
//! comments that `syscalls::Errno::description` carries read differently:
//! "Bad file number" where strace says "Bad file descriptor").
use std::ffi::CStr;

use syscalls::Errno;

/// The largest errno a syscall returns (the kernel's MAX_ERRNO).
pub const MAX_ERRNO: i64 = 4095;

/// Whether `ret` says a signal interrupted the call, to be restarted
/// (-ERESTARTSYS to -ERESTART_RESTARTBLOCK: strace's is_erestart).
pub fn is_restart(ret: i64) -> bool {
    (-516..=-512).contains(&ret)
}

/// The errno of a return value, when it is one (-4095..=-1).
pub fn errno_of(ret: i64) -> Option<i32> {
    (-MAX_ERRNO..0).contains(&ret).then(|| (-ret) as i32)
}

/// "ENOENT"; None for a number with no name.
pub fn errno_name(errno: i32) -> Option<&'static str> {
    Errno::new(errno).name()
}

/// The kernel-internal restart codes a traced call can show when a signal
/// interrupts it; strace prints them with `= ?` and these words.
fn restart_message(errno: i32) -> Option<&'static str> {
    Some(match errno {
        512 => "To be restarted if SA_RESTART is set",
        513 => "To be restarted",
        514 => "To be restarted if no handler",
        516 => "Interrupted by signal",
        _ => return None,
    })
}

/// strerror(errno), as the C library words it.
pub fn errno_message(errno: i32) -> String {
    if let Some(msg) = restart_message(errno) {
        return msg.to_owned();
    }
    let mut buf = [0 as libc::c_char; 256];
    // SAFETY: the buffer is valid for its length; the XSI strerror_r (which
    // the libc crate binds) writes a NUL-terminated message into it.
    let rc = unsafe { libc::strerror_r(errno, buf.as_mut_ptr(), buf.len()) };
    if rc == 0 {
        // SAFETY: strerror_r succeeded, so buf holds a NUL-terminated string.
        let msg = unsafe { CStr::from_ptr(buf.as_ptr()) };
        return msg.to_string_lossy().into_owned();
    }
    format!("Unknown error {errno}")
}

/// The result part after `= ` for a failed call: `-1 ENOENT (No such file
/// or directory)`, or `? ERESTARTSYS (To be restarted if SA_RESTART is set)`.
pub fn format_error(errno: i32) -> String {
    let msg = errno_message(errno);
    let rval = if restart_message(errno).is_some() {
        "?"
    } else {
        "-1"
    };
    match errno_name(errno) {
        Some(name) => format!("{rval} {name} ({msg})"),
        None => format!("{rval} {errno} ({msg})"),
    }
}

/// [`format_error`] for a call strace prints raw (-e raw=): `-1` and the C
/// library's strerror, for the restart codes too (`-1 ERESTARTSYS (Unknown
/// error 512)`), or `-1 (errno N)` for a number with no name.
pub fn format_raw_error(errno: i32) -> String {
    let msg = if restart_message(errno).is_some() {
        format!("Unknown error {errno}")
    } else {
        errno_message(errno)
    };
    match errno_name(errno) {
        Some(name) => format!("-1 {name} ({msg})"),
        None => format!("-1 (errno {errno})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_words() {
        // strace's print_err_ret: -1 and strerror, restart codes too.
        assert_eq!(format_raw_error(2), "-1 ENOENT (No such file or directory)");
        assert_eq!(format_raw_error(512), "-1 ERESTARTSYS (Unknown error 512)");
        assert_eq!(format_raw_error(4000), "-1 (errno 4000)");
    }

    #[test]
    fn strace_words() {
        assert_eq!(format_error(2), "-1 ENOENT (No such file or directory)");
        assert_eq!(format_error(9), "-1 EBADF (Bad file descriptor)");
        assert_eq!(
            format_error(11),
            "-1 EAGAIN (Resource temporarily unavailable)"
        );
        assert_eq!(
            format_error(25),
            "-1 ENOTTY (Inappropriate ioctl for device)"
        );
        assert_eq!(
            format_error(512),
            "? ERESTARTSYS (To be restarted if SA_RESTART is set)"
        );
        assert_eq!(format_error(4000), "-1 4000 (Unknown error 4000)");
    }

    #[test]
    fn which_returns_are_errors() {
        assert_eq!(errno_of(-2), Some(2));
        assert_eq!(errno_of(-4095), Some(4095));
        assert_eq!(errno_of(-4096), None);
        assert_eq!(errno_of(0), None);
        assert_eq!(errno_of(3), None);
    }
}
