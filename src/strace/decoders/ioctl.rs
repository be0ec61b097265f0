//! ioctl: the request by name (strace's ioctl.c), and its argument as
//! strace's decoders of the terminal, file and socket ioctls print it
//! (term.c, fs_0x94_ioctl.c, sock.c): a terminal's termios and winsize, an
//! interface's ifreq, and the int of the requests that take one, from what
//! the programs capture for them
//! (command_arg in bpf/capture.bpf.h); other structures print as the
//! pointer; an ioctl strace does not decode shows its argument in hex.
use super::super::flags::{self, Xlat};
use super::super::structs;
use super::super::StraceOptions;
use super::ctx::{ptr, Ctx, Decoded, RetStyle::Decimal};

// struct termios's flags (asm-generic/termbits.h), in strace's order.
const IFLAGS: Xlat = &[
    (0o1, "IGNBRK"),
    (0o2, "BRKINT"),
    (0o4, "IGNPAR"),
    (0o10, "PARMRK"),
    (0o20, "INPCK"),
    (0o40, "ISTRIP"),
    (0o100, "INLCR"),
    (0o200, "IGNCR"),
    (0o400, "ICRNL"),
    (0o1000, "IUCLC"),
    (0o2000, "IXON"),
    (0o4000, "IXANY"),
    (0o10000, "IXOFF"),
    (0o20000, "IMAXBEL"),
    (0o40000, "IUTF8"),
];
const OFLAGS: Xlat = &[
    (0o1, "OPOST"),
    (0o2, "OLCUC"),
    (0o4, "ONLCR"),
    (0o10, "OCRNL"),
    (0o20, "ONOCR"),
    (0o40, "ONLRET"),
    (0o100, "OFILL"),
    (0o200, "OFDEL"),
];
const CFLAGS: Xlat = &[
    (0o100, "CSTOPB"),
    (0o200, "CREAD"),
    (0o400, "PARENB"),
    (0o1000, "PARODD"),
    (0o2000, "HUPCL"),
    (0o4000, "CLOCAL"),
    (0o10000000000, "CMSPAR"),
    (0o20000000000, "CRTSCTS"),
];
const LFLAGS: Xlat = &[
    (0o1, "ISIG"),
    (0o2, "ICANON"),
    (0o4, "XCASE"),
    (0o10, "ECHO"),
    (0o20, "ECHOE"),
    (0o40, "ECHOK"),
    (0o100, "ECHONL"),
    (0o200, "NOFLSH"),
    (0o100000, "IEXTEN"),
    (0o1000, "ECHOCTL"),
    (0o2000, "ECHOPRT"),
    (0o4000, "ECHOKE"),
    (0o10000, "FLUSHO"),
    (0o40000, "PENDIN"),
    (0o400, "TOSTOP"),
    (0o200000, "EXTPROC"),
];
/// CBAUD's values: B0..B38400, then (CBAUDEX) B57600..B4000000.
const BAUDS: [&str; 32] = [
    "B0", "B50", "B75", "B110", "B134", "B150", "B200", "B300", "B600", "B1200", "B1800", "B2400",
    "B4800", "B9600", "B19200", "B38400", "BOTHER", "B57600", "B115200", "B230400", "B460800",
    "B500000", "B576000", "B921600", "B1000000", "B1152000", "B1500000", "B2000000", "B2500000",
    "B3000000", "B3500000", "B4000000",
];

fn baud(bits: u32) -> &'static str {
    let index = (bits & 0o17) | if bits & 0o10000 != 0 { 0o20 } else { 0 };
    BAUDS[index as usize]
}

/// c_oflag: its delay fields by value (`NL0|CR0|TAB0|BS0|VT0|FF0`), then
/// its flags.
fn oflag_text(v: u32) -> String {
    let field =
        |shift: u32, mask: u32, names: &[&str]| names[((v & mask) >> shift) as usize].to_owned();
    let mut parts = vec![
        field(8, 0o400, &["NL0", "NL1"]),
        field(9, 0o3000, &["CR0", "CR1", "CR2", "CR3"]),
        field(11, 0o14000, &["TAB0", "TAB1", "TAB2", "XTABS"]),
        field(13, 0o20000, &["BS0", "BS1"]),
        field(14, 0o40000, &["VT0", "VT1"]),
        field(15, 0o100000, &["FF0", "FF1"]),
    ];
    let rest = u64::from(v & !0o177400);
    if rest != 0 {
        parts.push(flags::flags(OFLAGS, rest));
    }
    parts.join("|")
}

/// c_cflag: the baud rate, the input one if set (`B50<<IBSHIFT`), the
/// character size, then its flags.
fn cflag_text(v: u32) -> String {
    let mut parts = vec![baud(v).to_owned()];
    let input = (v >> 16) & 0o10017;
    if input != 0 {
        parts.push(format!("{}<<IBSHIFT", baud(input)));
    }
    parts.push(["CS5", "CS6", "CS7", "CS8"][((v & 0o60) >> 4) as usize].to_owned());
    let rest = u64::from(v & !(0o10017 | (0o10017 << 16) | 0o60));
    if rest != 0 {
        parts.push(flags::flags(CFLAGS, rest));
    }
    parts.join("|")
}

/// The line disciplines (tty.h's N_TTY...), by number.
const LINE_DISCS: &[&str] = &[
    "N_TTY",
    "N_SLIP",
    "N_MOUSE",
    "N_PPP",
    "N_STRIP",
    "N_AX25",
    "N_X25",
    "N_6PACK",
    "N_MASC",
    "N_R3964",
    "N_PROFIBUS_FDL",
    "N_IRDA",
    "N_SMSBLOCK",
    "N_HDLC",
    "N_SYNC_PPP",
    "N_HCI",
    "N_GIGASET_M101",
    "N_SLCAN",
    "N_PPS",
    "N_V253",
    "N_CAIF",
    "N_GSM0710",
    "N_TI_WL",
    "N_TRACESINK",
    "N_TRACEROUTER",
    "N_NCI",
    "N_SPEAKUP",
    "N_NULL",
];

/// The control characters of c_cc, by index (x86's and the generic
/// termbits.h); past them, the index itself.
const CC_NAMES: &[&str] = &[
    "VINTR", "VQUIT", "VERASE", "VKILL", "VEOF", "VTIME", "VMIN", "VSWTC", "VSTART", "VSTOP",
    "VSUSP", "VEOL", "VREPRINT", "VDISCARD", "VWERASE", "VLNEXT", "VEOL2",
];

/// The kernel's struct termios, as strace shows it: its flags, then
/// `...`; with -v (`abbrev` false) its line discipline and control
/// characters too (`c_line=N_TTY, c_cc=[[VINTR]=0x3, ..., [18]=0]`).
fn termios_text(b: &[u8], opts: &StraceOptions) -> Option<String> {
    let word = |i: usize| structs::read_at::<u32>(b, i);
    let mut out = format!(
        "{{c_iflag={}, c_oflag={}, c_cflag={}, c_lflag={}, ",
        flags::flags(IFLAGS, u64::from(word(0)?)),
        oflag_text(word(1)?),
        cflag_text(word(2)?),
        flags::flags(LFLAGS, u64::from(word(3)?)),
    );
    if opts.abbrev {
        out.push_str("...}");
        return Some(out);
    }
    // c_line at byte 16, then NCCS (19) control characters.
    let line = *b.get(16)?;
    let cc = b.get(17..36)?;
    match LINE_DISCS.get(usize::from(line)) {
        Some(name) => out.push_str(&format!("c_line={name}, c_cc=[")),
        None => out.push_str(&format!("c_line={line:#x} /* N_??? */, c_cc=[")),
    }
    for (i, &ch) in cc.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        match CC_NAMES.get(i) {
            Some(name) => out.push_str(&format!("[{name}]=")),
            None => out.push_str(&format!("[{i}]=")),
        }
        out.push_str(&flags::hex(u64::from(ch)));
    }
    out.push_str("]}");
    Some(out)
}

fn winsize_text(b: &[u8], _: &StraceOptions) -> Option<String> {
    let v = |i: usize| structs::read_at::<u16>(b, i);
    Some(format!(
        "{{ws_row={}, ws_col={}, ws_xpixel={}, ws_ypixel={}}}",
        v(0)?,
        v(1)?,
        v(2)?,
        v(3)?
    ))
}

fn int_text(b: &[u8], _: &StraceOptions) -> Option<String> {
    structs::read::<i32>(b).map(|v| format!("[{v}]"))
}

/// An inode's attributes (lsattr, chattr): `[FS_EXTENT_FL]`.
fn fs_flags_text(b: &[u8], _: &StraceOptions) -> Option<String> {
    let v = structs::read::<u32>(b)?;
    Some(format!(
        "[{}]",
        flags::flags_or_unknown(flags::FS_FLAGS, u64::from(v), "FS_???_FL")
    ))
}

/// FS_IOC_FIEMAP's request (dpkg sorts files by where they lie on disk):
/// what it asks for, and when it succeeded, what it mapped; the extents
/// are strace's `...` (they are shown with -v only).
fn fiemap_text(c: &Ctx<'_, '_>) -> String {
    const FIEMAP_FLAGS: flags::Xlat = &[
        (1, "FIEMAP_FLAG_SYNC"),
        (2, "FIEMAP_FLAG_XATTR"),
        (4, "FIEMAP_FLAG_CACHE"),
    ];
    let fm_flags = |b: &[u8]| {
        structs::read::<u32>(b.get(16..)?)
            .map(|f| flags::flags_or_unknown(FIEMAP_FLAGS, u64::from(f), "FIEMAP_FLAG_???"))
    };
    let Some(captured) = c.captured(2).filter(|_| c.raw(2) != 0) else {
        return c.t_ptr(2);
    };
    let asked = (|| {
        let b = captured.bytes;
        Some(format!(
            "{{fm_start={}, fm_length={}, fm_flags={}, fm_extent_count={}}}",
            structs::read::<u64>(b)?,
            structs::read::<u64>(b.get(8..)?)?,
            fm_flags(b)?,
            structs::read::<u32>(b.get(24..)?)?
        ))
    })();
    let Some(asked) = asked else {
        return c.t_ptr(2);
    };
    let mapped = captured.after.filter(|_| c.ok().is_some()).and_then(|b| {
        Some(format!(
            " => {{fm_flags={}, fm_mapped_extents={}, ...}}",
            fm_flags(b)?,
            structs::read::<u32>(b.get(20..)?)?
        ))
    });
    asked + mapped.as_deref().unwrap_or("")
}

/// A captured argument's text (None: too short to decode).
type ArgText = fn(&[u8], &StraceOptions) -> Option<String>;

/// How the argument of a request the programs capture prints, and whether
/// the call writes it (shown at its exit). By number: several names can
/// share one (`SNDCTL_TMR_START or TCSETS`).
fn captured_arg(cmd: u32) -> Option<(ArgText, bool)> {
    Some(match cmd {
        0x5401 => (termios_text, true),
        0x5402..=0x5404 => (termios_text, false),
        0x5413 => (winsize_text, true),
        0x5414 => (winsize_text, false),
        0x540f | 0x5411 | 0x541b | 0x8004_5430 => (int_text, true),
        0x5410 | 0x5421 | 0x4004_5431 => (int_text, false),
        // FS_IOC_GETFLAGS, FS_IOC_SETFLAGS: numbered for a long, an int.
        0x8008_6601 => (fs_flags_text, true),
        0xb704 => (int_text, true), // NS_GET_OWNER_UID: a uid_t
        0x4008_6602 => (fs_flags_text, false),
        // FIOSETOWN, SIOCSPGRP, SIOCSIFENCAP; FIOGETOWN, SIOCGPGRP,
        // SIOCATMARK, SIOCGIFENCAP, SIOCOUTQNSD.
        0x8901 | 0x8902 | 0x8926 => (int_text, false),
        0x8903 | 0x8904 | 0x8905 | 0x8925 | 0x894b => (int_text, true),
        _ => return None,
    })
}

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
        // nsfs: the argument is unused; the result is an fd or a type.
        "NS_GET_USERNS" | "NS_GET_PARENT" | "NS_GET_NSTYPE" => None,
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
        // The socket requests strace shows the pointer of (sock.c): routes,
        // ARP, bonding, ethtool, MII, time stamps...
        "SIOCGSTAMP_OLD"
        | "SIOCGSTAMPNS_OLD"
        | "SIOCGSTAMP_NEW"
        | "SIOCGSTAMPNS_NEW"
        | "SIOCADDRT"
        | "SIOCDELRT"
        | "SIOCRTMSG"
        | "SIOCSIFLINK"
        | "SIOCGIFMEM"
        | "SIOCSIFMEM"
        | "SIOCSIFPFLAGS"
        | "SIOCGIFPFLAGS"
        | "SIOCDIFADDR"
        | "SIOCGIFCOUNT"
        | "SIOCGIFBR"
        | "SIOCSIFBR"
        | "SIOCETHTOOL"
        | "SIOCGMIIPHY"
        | "SIOCGMIIREG"
        | "SIOCSMIIREG"
        | "SIOCWANDEV"
        | "SIOCGSKNS"
        | "SIOCDARP"
        | "SIOCGARP"
        | "SIOCSARP"
        | "SIOCDRARP"
        | "SIOCGRARP"
        | "SIOCSRARP"
        | "SIOCADDDLCI"
        | "SIOCDELDLCI"
        | "SIOCGIFVLAN"
        | "SIOCSIFVLAN"
        | "SIOCBONDENSLAVE"
        | "SIOCBONDRELEASE"
        | "SIOCBONDSETHWADDR"
        | "SIOCBONDSLAVEINFOQUERY"
        | "SIOCBONDINFOQUERY"
        | "SIOCBONDCHANGEACTIVE"
        | "SIOCSHWTSTAMP"
        | "SIOCGHWTSTAMP" => Pointer { at_exit: false },
        _ => Hex,
    }
}

pub(super) fn decode<'c, 'a>(syscall: &str, c: &mut Ctx<'c, 'a>) -> Option<Decoded> {
    if syscall != "ioctl" {
        return None;
    }
    c.push(c.t_int(0));
    let cmd = c.uint(1) as u32;
    let name = flags::ioctl_name(cmd);
    let style = arg_style(&name);
    let nstype = name == "NS_GET_NSTYPE";
    c.push(name);
    if cmd == 0xc020_660b {
        c.push_exit(fiemap_text(c));
        return Some(c.finish(Decimal, false));
    }
    if matches!(cmd, 0x89a0 | 0x89a1) {
        // SIOCBRADDBR, SIOCBRDELBR: a bridge's name.
        c.push(c.t_string(2));
        return Some(c.finish(Decimal, false));
    }
    if cmd == 0x8912 {
        // SIOCGIFCONF: the struct ifconf at enter; at exit, as the call left
        // it and the ifreqs it points to (a list of two, bpf capture_ifconf).
        let text = match c.captured(2).filter(|_| c.raw(2) != 0) {
            Some(arg) => {
                let (before, after, array, more) = match &arg.list {
                    Some(list) => (
                        arg.before.unwrap_or_default(),
                        list.first().map(|p| p.bytes),
                        list.get(1).map(|p| p.bytes).unwrap_or_default(),
                        arg.truncated || list.last().is_some_and(|p| p.truncated),
                    ),
                    None => (arg.bytes, None, &[][..], false),
                };
                let after = after.filter(|_| c.ok().is_some());
                structs::ifconf_text(before, after, array, more, c.opts)
                    .unwrap_or_else(|| c.t_ptr(2))
            }
            None => c.t_ptr(2),
        };
        c.push_exit(text);
        return Some(c.finish(Decimal, false));
    }
    if let Some(kind) = structs::ifreq_request(cmd) {
        let text = match c.captured(2).filter(|_| c.raw(2) != 0) {
            Some(arg) => {
                let after = arg.after.filter(|_| c.ok().is_some());
                structs::ifreq_text(cmd, arg.bytes, after, c.opts.hex).unwrap_or_else(|| c.t_ptr(2))
            }
            None => c.t_ptr(2),
        };
        match kind {
            structs::Ifreq::Get => c.push_exit(text),
            _ => c.push(text),
        }
        return Some(c.finish(Decimal, false));
    }
    if let Some((text, at_exit)) = captured_arg(cmd) {
        if at_exit {
            c.push_exit(c.t_out_struct(2, |b| text(b, c.opts)));
        } else {
            c.push(c.t_struct(2, |b| text(b, c.opts)));
        }
        return Some(c.finish(Decimal, false));
    }
    if nstype {
        // strace names the namespace type it returns.
        if let Some(kind) = c
            .ok()
            .and_then(|t| flags::xval(flags::SETNS_TYPES, t as u64))
        {
            c.note(kind.to_owned());
        }
    }
    match style {
        ArgStyle::None => {}
        ArgStyle::Int => c.push(c.t_int(2)),
        ArgStyle::Named(table, unknown) => c.push(flags::xval_or_unknown(table, c.raw(2), unknown)),
        ArgStyle::Pointer { at_exit: true } => c.push_exit(ptr(c.raw(2))),
        ArgStyle::Pointer { at_exit: false } => c.push(ptr(c.raw(2))),
        ArgStyle::Hex => c.push(c.t_hex(2)),
    }
    Some(c.finish(Decimal, false))
}
