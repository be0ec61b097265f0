//! Byte strings as strace quotes them. By default: printable ASCII as is,
//! `"` and `\` escaped, `\t \n \v \f \r` by letter, any other byte in
//! octal with as few digits as can be read back unambiguously (three when
//! the next byte is an octal digit, so "\1" + "2" reads "\0012"). With -x,
//! a string that has a byte of neither kind is all `\xNN`; with -xx, every
//! string is.
use std::fmt::{self, Write};

use smallvec::SmallVec;

/// How a quoted string ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ellipsis {
    /// Nothing follows the closing quote.
    No,
    /// `...` after the closing quote: the string goes on past what is shown.
    Yes,
}

/// When strings print in hex (strace's -x and -xx, its xflag).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum HexStyle {
    /// Escapes, octal for what has no escape (no -x).
    #[default]
    None,
    /// -x: a string with a non-ASCII or control byte (other than the
    /// whitespace escapes) is all hex.
    NonAscii,
    /// -xx, and strace's QUOTE_FORCE_HEX (random bytes): all hex.
    All,
    /// --strings-in-hex=non-ascii-chars: escapes as without -x, but
    /// `\xNN` where that would be octal.
    NonAsciiChars,
}

impl HexStyle {
    /// From strace's xflag: the count of -x options (up to 2), or 3 for
    /// --strings-in-hex=non-ascii-chars.
    pub fn from_xflag(xflag: u8) -> Self {
        match xflag {
            0 => HexStyle::None,
            1 => HexStyle::NonAscii,
            3 => HexStyle::NonAsciiChars,
            _ => HexStyle::All,
        }
    }

    /// Whether `bytes` (what is shown of a string) print in hex.
    fn applies(self, bytes: &[u8]) -> bool {
        match self {
            HexStyle::None | HexStyle::NonAsciiChars => false,
            HexStyle::All => true,
            // strace's string_quote: printable ASCII and \t\n\v\f\r keep it.
            HexStyle::NonAscii => bytes
                .iter()
                .any(|&c| c > 0x7e || (c < b' ' && !(9..=13).contains(&c))),
        }
    }
}

/// Appends `bytes` quoted, in hex as `hex` says, to a line (`String`) or
/// one argument's inline text (`CompactString`, see `decoders::Arg`).
pub fn push_quoted(out: &mut impl Write, bytes: &[u8], ellipsis: Ellipsis, hex: HexStyle) {
    // Neither String's nor CompactString's writes can fail.
    let _ = write_quoted(out, bytes, ellipsis, hex, true, b"");
}

/// Appends a path -y shows between `<` and `>` as strace's printfd quotes
/// it: escaped as a string, without the quotes, and `<` `>` escaped too
/// (QUOTE_OMIT_LEADING_TRAILING_QUOTES with escape_chars "<>").
pub fn push_fd_path(out: &mut impl Write, path: &[u8], hex: HexStyle) {
    let _ = write_quoted(out, path, Ellipsis::No, hex, false, b"<>");
}

fn write_quoted(
    out: &mut impl Write,
    bytes: &[u8],
    ellipsis: Ellipsis,
    hex: HexStyle,
    quotes: bool,
    also_escaped: &[u8],
) -> fmt::Result {
    // Built as bytes, written once: a write to a CompactString costs more
    // than the byte it adds, and most strings are short.
    let mut text: SmallVec<[u8; 96]> = SmallVec::new();
    let hex_escapes = hex == HexStyle::NonAsciiChars;
    let hex = hex.applies(bytes);
    if quotes {
        text.push(b'"');
    }
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if hex {
            push_hex(&mut text, c);
            i += 1;
            continue;
        }
        // A run of bytes shown as they are, appended at once.
        let run = bytes[i..]
            .iter()
            .take_while(|&&b| {
                (0x20..=0x7e).contains(&b) && b != b'"' && b != b'\\' && !also_escaped.contains(&b)
            })
            .count();
        if run > 0 {
            text.extend_from_slice(&bytes[i..i + run]);
            i += run;
            continue;
        }
        i += 1;
        let escape: &[u8] = match c {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\t' => b"\\t",
            b'\n' => b"\\n",
            0x0b => b"\\v",
            0x0c => b"\\f",
            b'\r' => b"\\r",
            _ if hex_escapes => {
                push_hex(&mut text, c);
                continue;
            }
            _ => {
                let next_is_octal_digit = bytes.get(i).is_some_and(|n| (b'0'..=b'7').contains(n));
                let digits = [b'0' + (c >> 6), b'0' + ((c >> 3) & 7), b'0' + (c & 7)];
                let skip = if next_is_octal_digit || c >> 6 != 0 {
                    0
                } else if c >> 3 != 0 {
                    1
                } else {
                    2
                };
                text.push(b'\\');
                text.extend_from_slice(&digits[skip..]);
                continue;
            }
        };
        text.extend_from_slice(escape);
    }
    if quotes {
        text.push(b'"');
    }
    if ellipsis == Ellipsis::Yes {
        text.extend_from_slice(b"...");
    }
    out.write_str(std::str::from_utf8(&text).expect("quoted text is ASCII"))
}

fn push_hex(out: &mut SmallVec<[u8; 96]>, c: u8) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    out.extend_from_slice(&[
        b'\\',
        b'x',
        DIGITS[(c >> 4) as usize],
        DIGITS[(c & 15) as usize],
    ]);
}

/// `bytes` quoted, at most `limit` of them shown: a string strace bounds by
/// -s. `more` says the data goes on past `bytes` (a capture that was cut).
pub fn quote_limited<T: Write + Default>(
    bytes: &[u8],
    limit: usize,
    more: bool,
    hex: HexStyle,
) -> T {
    let shown = &bytes[..bytes.len().min(limit)];
    let ellipsis = if more || bytes.len() > limit {
        Ellipsis::Yes
    } else {
        Ellipsis::No
    };
    let mut out = T::default();
    push_quoted(&mut out, shown, ellipsis, hex);
    out
}

/// As [`quote_limited`], with strace's QUOTE_OMIT_TRAILING_0 (xattr
/// values): a NUL ending what is shown is left out, and with it the `...`
/// (string_quote takes it for the string's end). Not in hex, which strace
/// writes without looking for the NUL.
pub fn quote_limited_omit_trailing_0<T: Write + Default>(
    bytes: &[u8],
    limit: usize,
    more: bool,
    hex: HexStyle,
) -> T {
    let shown = &bytes[..bytes.len().min(limit)];
    match shown.split_last() {
        Some((0, head)) if !hex.applies(shown) => {
            let mut out = T::default();
            push_quoted(&mut out, head, Ellipsis::No, hex);
            out
        }
        _ => quote_limited(bytes, limit, more, hex),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(bytes: &[u8]) -> String {
        let mut s = String::new();
        push_quoted(&mut s, bytes, Ellipsis::No, HexStyle::None);
        s
    }

    #[test]
    fn escapes_as_strace() {
        // strace -e trace=write -- printf 'a\tb\n\x01\x7f\xff\xc3\xa9"\\\r\v\f\0x'
        assert_eq!(
            q(b"a\tb\n\x01\x7f\xff\xc3\xa9\"\\\r\x0b\x0c\0x"),
            r#""a\tb\n\1\177\377\303\251\"\\\r\v\f\0x""#
        );
        // A short escape before an octal digit would be misread: three digits.
        assert_eq!(q(b"\x0112"), r#""\00112""#);
        assert_eq!(q(b"\x01a"), r#""\1a""#);
        assert_eq!(q(b"\x1b7"), r#""\0337""#);
        assert_eq!(q(b"\x1b8"), r#""\338""#);
        assert_eq!(q(b""), r#""""#);
    }

    #[test]
    fn limits_and_ellipsis() {
        assert_eq!(
            quote_limited::<String>(b"abcdef", 4, false, HexStyle::None),
            r#""abcd"..."#
        );
        assert_eq!(
            quote_limited::<String>(b"abcd", 4, false, HexStyle::None),
            r#""abcd""#
        );
        assert_eq!(
            quote_limited::<String>(b"ab", 4, true, HexStyle::None),
            r#""ab"..."#
        );
        // The digit that follows a cut is not shown, so it does not count.
        assert_eq!(
            quote_limited::<String>(b"\x011", 1, false, HexStyle::None),
            r#""\1"..."#
        );
    }

    #[test]
    fn omit_trailing_0() {
        // strace -e trace=setxattr setfattr -n user.c -v 0x61626300 f
        let q =
            |b: &[u8], limit, hex| quote_limited_omit_trailing_0::<String>(b, limit, false, hex);
        assert_eq!(q(b"abc\0", 32, HexStyle::None), r#""abc""#);
        assert_eq!(q(b"abc\0\0", 32, HexStyle::None), r#""abc\0""#);
        assert_eq!(q(b"abc", 32, HexStyle::None), r#""abc""#);
        // The NUL at the -s bound ends what is shown: no `...`.
        assert_eq!(q(b"abc\0ef", 4, HexStyle::None), r#""abc""#);
        assert_eq!(q(b"abcdef", 4, HexStyle::None), r#""abcd"..."#);
        // In hex the NUL is a byte like any other (and turns -x to hex).
        assert_eq!(q(b"ab\0", 32, HexStyle::NonAscii), r#""\x61\x62\x00""#);
        assert_eq!(q(b"ab\0", 32, HexStyle::All), r#""\x61\x62\x00""#);
        assert_eq!(q(b"ab\x01\0", 32, HexStyle::NonAsciiChars), r#""ab\x01""#);
    }

    #[test]
    fn fd_paths() {
        // strace -y cat /tmp/x/héllo.txt, with -x and -xx; a name with `<>`.
        let p = |b: &[u8], hex| {
            let mut s = String::new();
            push_fd_path(&mut s, b, hex);
            s
        };
        assert_eq!(
            p("/tmp/x/h\u{e9}llo.txt".as_bytes(), HexStyle::None),
            r"/tmp/x/h\303\251llo.txt"
        );
        assert_eq!(
            p("/tmp/h\u{e9}".as_bytes(), HexStyle::NonAscii),
            r"\x2f\x74\x6d\x70\x2f\x68\xc3\xa9"
        );
        assert_eq!(p(b"/a", HexStyle::NonAscii), "/a");
        assert_eq!(p(b"/a", HexStyle::All), r"\x2f\x61");
        assert_eq!(p(b"/a<b>\"c", HexStyle::None), r#"/a\74b\76\"c"#);
    }

    #[test]
    fn forced_hex() {
        assert_eq!(
            quote_limited::<String>(b"\x07\xf2\xb7P", 32, false, HexStyle::All),
            r#""\x07\xf2\xb7\x50""#
        );
    }

    #[test]
    fn hex_escapes_for_non_ascii_chars() {
        // strace --strings-in-hex=non-ascii-chars -e trace=write printf 'a\001b\n\377"'
        // (and a digit after the escape: hex is never ambiguous there).
        assert_eq!(
            quote_limited::<String>(b"a\x01b\n\xff\"\x012", 32, false, HexStyle::NonAsciiChars),
            r#""a\x01b\n\xff\"\x012""#
        );
    }

    #[test]
    fn hex_styles() {
        // strace -x: whitespace escapes keep a string as it is; any other
        // control or non-ASCII byte turns all of it to hex.
        let x = |b: &[u8]| quote_limited::<String>(b, 32, false, HexStyle::NonAscii);
        assert_eq!(x(b"hi\tthere\n"), r#""hi\tthere\n""#);
        assert_eq!(x(b"caf\xc3\xa9"), r#""\x63\x61\x66\xc3\xa9""#);
        assert_eq!(x(b"a\x01"), r#""\x61\x01""#);
        // What is not shown does not count.
        assert_eq!(
            quote_limited::<String>(b"ab\xff", 2, false, HexStyle::NonAscii),
            r#""ab"..."#
        );
        // strace -xx: everything.
        assert_eq!(
            quote_limited::<String>(b"ab", 32, false, HexStyle::All),
            r#""\x61\x62""#
        );
        assert_eq!(HexStyle::from_xflag(0), HexStyle::None);
        assert_eq!(HexStyle::from_xflag(2), HexStyle::All);
        assert_eq!(HexStyle::from_xflag(3), HexStyle::NonAsciiChars);
    }
}
