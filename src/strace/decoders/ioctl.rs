//! ioctl: the request by name (strace's ioctl.c), and its argument as
//! strace's decoders of the terminal and file ioctls print it (term.c,
//! fs_0x94_ioctl.c). The structures they read (termios, winsize) print as
//! the pointer; an ioctl strace does not decode shows its argument in hex.
use super::super::flags;
use super::ctx::{ptr, Ctx, Decoded, RetStyle::Decimal};

/// How an ioctl's third argument prints, by the request's name.
enum ArgStyle {
    /// No argument: FIOCLEX.
    None,
    /// An int: TCSBRK's duration, FICLONE's source fd.
    Int,
    /// A constant: TCFLSH's queue.
    Named(flags::Xlat, &'static str),
    /// A pointer strace reads, at entry or (an output) at exit: NULL or hex.
    Pointer { at_exit: bool },
    /// Anything else: the value in hex.
    Hex,
}

fn arg_style(name: &str) -> ArgStyle {
    use ArgStyle::*;
    match name {
        "TIOCSBRK" | "TIOCCBRK" | "TIOCCONS" | "TIOCNOTTY" | "TIOCEXCL" | "TIOCNXCL"
        | "FIOCLEX" | "FIONCLEX" | "TIOCVHANGUP" | "TIOCSSERIAL" => None,
        "TCSBRK" | "TCSBRKP" | "TIOCSCTTY" | "BTRFS_IOC_CLONE or FICLONE" => Int,
        "TCXONC" => Named(flags::TCXONC_ACTIONS, "TC???"),
        "TCFLSH" => Named(flags::TCFLSH_QUEUES, "TC???"),
        "TCGETS" | "TCGETS2" | "TIOCGLCKTRMIOS" | "TCGETA" | "TIOCGWINSZ" | "TIOCMGET"
        | "TIOCGPGRP" | "TIOCGSID" | "TIOCGETD" | "TIOCGSOFTCAR" | "TIOCGPTN" | "FIONREAD"
        | "TIOCOUTQ" | "TIOCGEXCL" | "TIOCGDEV" | "FS_IOC_GETFLAGS" | "FS_IOC_GETFSLABEL" => {
            Pointer { at_exit: true }
        }
        "TCSETS" | "TCSETSW" | "TCSETSF" | "TCSETS2" | "TCSETSW2" | "TCSETSF2"
        | "TIOCSLCKTRMIOS" | "TCSETA" | "TCSETAW" | "TCSETAF" | "TIOCSWINSZ" | "TIOCMBIS"
        | "TIOCMBIC" | "TIOCMSET" | "TIOCSPGRP" | "TIOCSETD" | "FIONBIO" | "FIOASYNC"
        | "TIOCPKT" | "TIOCSSOFTCAR" | "TIOCSPTLCK" | "TIOCSTI" | "FS_IOC_SETFLAGS"
        | "FS_IOC_SETFSLABEL" | "FICLONERANGE" => Pointer { at_exit: false },
        _ => Hex,
    }
}

pub(super) fn decode<'c, 'a>(syscall: &str, mut c: Ctx<'c, 'a>) -> Result<Decoded, Ctx<'c, 'a>> {
    if syscall != "ioctl" {
        return Err(c);
    }
    c.push(c.t_int(0));
    let name = flags::ioctl_name(c.uint(1) as u32);
    let style = arg_style(&name);
    c.push(name);
    match style {
        ArgStyle::None => {}
        ArgStyle::Int => c.push(c.t_int(2)),
        ArgStyle::Named(table, unknown) => c.push(flags::xval_or_unknown(table, c.raw(2), unknown)),
        ArgStyle::Pointer { at_exit: true } => c.push_exit(ptr(c.raw(2))),
        ArgStyle::Pointer { at_exit: false } => c.push(ptr(c.raw(2))),
        ArgStyle::Hex => c.push(c.t_hex(2)),
    }
    Ok(c.finish(Decimal, false))
}
