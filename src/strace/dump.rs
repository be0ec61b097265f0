//! strace's `-e read=SET` and `-e write=SET`: the data a read or a write
//! on one of those fds moved, in hex and ASCII after the call's line.
use std::collections::BTreeSet;
use std::fmt::Write;

use super::structs::iov_buffers;
use super::ArgView;

/// The fds of a `-e read=` or `-e write=` set.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FdSet {
    /// `!SET`: every fd but these.
    negated: bool,
    fds: BTreeSet<i32>,
}

impl FdSet {
    /// strace's syntax: `3,5`, `all`, `none`, `!3`.
    pub fn parse(spec: &str) -> Result<Self, String> {
        let (negated, list) = match spec.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, spec),
        };
        let mut set = FdSet {
            negated,
            fds: BTreeSet::new(),
        };
        for item in list.split(',') {
            match item {
                "all" => set.negated = !negated,
                "none" => {}
                _ => match item.parse::<i32>() {
                    Ok(fd) if fd >= 0 => {
                        set.fds.insert(fd);
                    }
                    _ => return Err(format!("'{item}' is no fd (a number, all or none)")),
                },
            }
        }
        Ok(set)
    }

    pub fn contains(&self, fd: i32) -> bool {
        self.fds.contains(&fd) != self.negated
    }
}

/// Which way a call moves data through its fd (its first argument), and
/// where the data is: the buffer of argument 1, or its iovecs.
pub fn direction(syscall: &str) -> Option<(Way, Layout)> {
    use Layout::*;
    Some(match syscall {
        "read" | "pread64" | "recvfrom" => (Way::Read, Buffer),
        "readv" | "preadv" | "preadv2" => (Way::Read, Iovec),
        "recvmsg" => (Way::Read, Msghdr),
        "write" | "pwrite64" | "sendto" => (Way::Write, Buffer),
        "writev" | "pwritev" | "pwritev2" => (Way::Write, Iovec),
        "sendmsg" => (Way::Write, Msghdr),
        _ => return None,
    })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Way {
    Read,
    Write,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    Buffer,
    Iovec,
    Msghdr,
}

/// The dump of the `moved` bytes a call of `layout` moved, as strace
/// prints it after the line: one block, or per buffer of an iovec array
/// ` * 3 bytes in buffer 0` then its block. Bytes moved but not captured
/// (past systrace's capture) are told, not left out.
pub fn push_dump(out: &mut String, layout: Layout, args: &[ArgView], moved: u64) {
    let Some(captured) = args.get(1).and_then(|a| a.captured.as_ref()) else {
        let _ = writeln!(out, " * {moved} bytes not captured");
        return;
    };
    if layout == Layout::Buffer {
        // A result past the buffer (recvfrom with MSG_TRUNC) moved no more
        // than the buffer holds.
        let moved = args.get(2).map_or(moved, |len| moved.min(len.raw));
        let data = &captured.bytes[..captured.bytes.len().min(moved as usize)];
        push_block(out, data, moved);
        return;
    }
    let items: Vec<&[u8]> = captured
        .list
        .iter()
        .flatten()
        .map(|piece| piece.bytes)
        .collect();
    let Some(buffers) = iov_buffers(&items, layout == Layout::Msghdr) else {
        let _ = writeln!(out, " * {moved} bytes not captured");
        return;
    };
    // Likewise no more than the buffers hold (recvmsg with MSG_TRUNC and
    // no buffer at all), when all of them were captured.
    let mut left = match captured.truncated {
        false => moved.min(buffers.iter().map(|(len, _)| *len).sum()),
        true => moved,
    };
    for (i, (len, data)) in buffers.iter().enumerate() {
        if left == 0 {
            return;
        }
        let here = (*len).min(left);
        if here == 0 {
            continue; // as strace: an empty buffer gets no lines
        }
        let _ = writeln!(out, " * {here} bytes in buffer {i}");
        push_block(out, &data[..data.len().min(here as usize)], here);
        left -= here;
    }
    if left > 0 {
        // Buffers past the capture's (a list is cut at its budget).
        let _ = writeln!(out, " * {left} bytes not captured");
    }
}

/// `data`, the captured part of `moved` bytes, 16 to a line.
fn push_block(out: &mut String, data: &[u8], moved: u64) {
    push_hexdump(out, data);
    let missing = moved.saturating_sub(data.len() as u64);
    if missing > 0 {
        let _ = writeln!(out, " * {missing} more bytes not captured");
    }
}

/// strace's hexdump: ` | 00000  68 65 6c 6c 6f 0a  ...  hello.           |`.
pub fn push_hexdump(out: &mut String, data: &[u8]) {
    for (n, chunk) in data.chunks(16).enumerate() {
        let _ = write!(out, " | {:05x} ", n * 16);
        for i in 0..16 {
            if i % 8 == 0 {
                out.push(' ');
            }
            match chunk.get(i) {
                Some(b) => {
                    let _ = write!(out, "{b:02x} ");
                }
                None => out.push_str("   "),
            }
        }
        out.push(' ');
        for i in 0..16 {
            out.push(match chunk.get(i) {
                Some(&b) if (0x20..0x7f).contains(&b) => b as char,
                Some(_) => '.',
                None => ' ',
            });
        }
        out.push_str(" |\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hexdump_as_strace() {
        // strace -e read=3 of a read of these 43 bytes.
        let mut out = String::new();
        push_hexdump(
            &mut out,
            b"hello world, this is a test of the dump\n\x00\x01\xff",
        );
        assert_eq!(
            out,
            " | 00000  68 65 6c 6c 6f 20 77 6f  72 6c 64 2c 20 74 68 69  hello world, thi |\n \
             | 00010  73 20 69 73 20 61 20 74  65 73 74 20 6f 66 20 74  s is a test of t |\n \
             | 00020  68 65 20 64 75 6d 70 0a  00 01 ff                 he dump....      |\n"
        );
    }

    #[test]
    fn fd_sets() {
        let set = FdSet::parse("3,5").unwrap();
        assert!(set.contains(3) && set.contains(5) && !set.contains(4));
        assert!(FdSet::parse("all").unwrap().contains(7));
        assert!(!FdSet::parse("none").unwrap().contains(0));
        let not = FdSet::parse("!3").unwrap();
        assert!(!not.contains(3) && not.contains(4));
        assert!(FdSet::parse("x").is_err() && FdSet::parse("-1").is_err());
    }
}
